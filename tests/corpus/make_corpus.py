"""Writes the corpus of small awkward order files that tests/test_corpus.py loads (cases.yaml says what each
must give). Run it after changing a file here: `.venv/bin/python tests/corpus/make_corpus.py`.

Text files are written byte for byte as a shop system would (encodings, BOMs, line endings); the Excel and
Parquet files are built with openpyxl and pyarrow. Every value is made up.
"""
from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pandas as pd

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"

ZH = "訂單編號,會員編號,訂單日期,商品名稱,數量,商品小計,訂單狀態\n"
TEXT = {
    # --- encodings -------------------------------------------------------------------------------------
    "utf8.csv": ("utf-8", ZH + "A1,M1,2024-03-05,維他命,1,790,已完成\nA2,M2,2024-03-06,魚油,2,1180,已完成\n"
                 "A3,M1,2024-04-01,葉黃素,1,650,已完成\n"),
    "utf8_bom.csv": ("utf-8-sig", ZH + "A1,M1,2024-03-05,維他命,1,790,已完成\nA2,M2,2024-03-06,魚油,2,1180,已完成\n"),
    "big5_roc.csv": ("cp950", "訂單號碼,顧客編號,訂購日期,品名,數量,應收款,訂單狀態\n"
                     "B1,K1,113/03/05,綜合維他命,1,790,已付款\nB2,K2,113/3/6 14:03,魚油,2,\"1,180\",已出貨\n"
                     "B3,K1,民國113年4月1日,葉黃素,1,650,已取消\n"),
    "utf16_tab.txt": ("utf-16", "訂單編號\t會員編號\t訂單日期\t商品小計\r\n"
                                "U1\tM1\t2024/3/5\t100\r\nU2\tM2\t2024/3/6\t200\r\n"),
    # --- date shapes -----------------------------------------------------------------------------------
    "dates_iso.csv": ("utf-8", "order_id,customer_id,order_date,amount\n1,c1,2024-03-05,10\n"
                      "2,c1,2024-03-05T14:03:00,10\n3,c2,2024-03-05 14:03:00.250,10\n"),
    "dates_slash.csv": ("utf-8", "order_id,customer_id,order_date,amount\n1,c1,2024/3/5,10\n2,c1,2024/03/05 14:03,10\n"
                        "3,c2,2024/3/5 2:03:09,10\n"),
    "dates_offsets_mixed.csv": ("utf-8", "order_id,customer_id,order_date,amount\n"
                                "1,c1,2024-03-05 14:03:00 +0800,10\n2,c1,2024-03-05 01:03:00 -0500,10\n"
                                "3,c2,2024-03-05 14:03:00,10\n4,c2,2024-03-05T06:03:00Z,10\n"),
    "dates_excel_serial.csv": ("utf-8", "order_id,customer_id,order_date,amount\n1,c1,45356,10\n2,c1,45356.5,10\n"),
    "dates_roc.csv": ("utf-8", "訂單編號,會員編號,訂單日期,金額\nR1,M1,113/03/05,10\nR2,M1,113.3.6,10\n"
                      "R3,M2,99/12/31,10\nR4,M2,民國113年3月5日,10\n"),
    "dates_chinese.csv": ("utf-8", "訂單編號,會員編號,訂單日期,金額\nC1,M1,2024年3月5日,10\n"
                          "C2,M1,2024/3/5 下午 02:03:04,10\nC3,M2,2024/3/5 上午 12:30:00,10\n"
                          "C4,M2,２０２４／３／５,10\n"),
    "dates_bad.csv": ("utf-8", "order_id,customer_id,order_date,amount\n1,c1,2024-03-05,10\n2,c1,not a date,10\n"
                      "3,c2,,10\n4,c2,2062-03-05,10\n5,c3,2024-13-45,10\n6,c3,1900-01-00,10\n"),
    # --- amounts, quantities, statuses -----------------------------------------------------------------
    "amounts.csv": ("utf-8", "訂單編號,會員編號,訂單日期,商品小計\nA1,M1,2024-03-05,\"NT$1,234\"\n"
                    "A2,M1,2024-03-06,$99\nA3,M2,2024-03-07,１，２００\nA4,M2,2024-03-08,300 元\n"
                    "A5,M3,2024-03-09,\" 1,000.50 \"\n"
                    "A6,M3,2024-03-10,abc\nA7,M3,2024-03-11,\n"),
    "refunds.csv": ("utf-8", "訂單編號,會員編號,訂單日期,商品小計,訂單狀態\nA1,M1,2024-03-05,1000,已完成\n"
                    "A1,M1,2024-03-20,-300,已退款\nA2,M2,2024-03-06,500,已完成\nA2,M2,2024-03-21,(500),\n"
                    "A9,M3,2024-03-22,-200,已退款\n"),
    "zero_amount.csv": ("utf-8", "訂單編號,會員編號,訂單日期,商品名稱,商品小計\nA1,M1,2024-03-05,維他命,790\n"
                        "A1,M1,2024-03-05,贈品,0\nA2,M2,2024-03-06,試用包,0\nA3,M3,2024-03-07,維他命,0\n"),
    "quantity_price.csv": ("utf-8", "訂單編號,會員編號,訂單日期,品名,數量,單價\nQ1,M1,2024-03-05,維他命,2,790\n"
                           "Q2,M2,2024-03-06,魚油,3 件,\"1,180\"\nQ3,M2,2024-03-07,葉黃素,x,650\n"),
    "status_words.csv": ("utf-8", "order_id,customer_id,order_date,amount,status\n1,c1,2024-03-05,10,已完成\n"
                         "2,c1,2024-03-06,10,Paid\n3,c2,2024-03-07,10,partially_refunded\n4,c2,2024-03-08,10,已取消\n"
                         "5,c3,2024-03-09,10,Voided\n6,c3,2024-03-10,10,已退款\n7,c4,2024-03-11,10,REFUNDED\n"
                         "8,c4,2024-03-12,10,\n9,c5,2024-03-13,10,待付款\n"),
    "mixed_currency.csv": ("utf-8", "訂單編號,會員編號,訂單日期,商品小計\n"
                           "A1,M1,2024-03-05,NT$100\nA2,M2,2024-03-06,US$12\n"),
    "currency_column.csv": ("utf-8", "Order ID,Customer ID,Order Date,Line Total,Currency\n1,c1,2024-03-05,10,TWD\n"
                            "2,c2,2024-03-06,12,USD\n"),
    # --- structure -------------------------------------------------------------------------------------
    "blank_lines.csv": ("utf-8", "order_id,customer_id,order_date,amount\n1,c1,2024-03-05,10\n\n2,c1,2024-03-06,10\n"
                        ",,,\n3,c2,2024-03-07,x\n\n"),
    "extra_header_rows.csv": ("utf-8", "訂單報表,,,\n匯出時間：2024-04-01,,,\n訂單編號,會員編號,訂單日期,商品小計\n"
                              "A1,M1,2024-03-05,100\nA2,M2,2024-03-06,200\n"),
    "header_only.csv": ("utf-8", "order_id,customer_id,order_date,amount\n"),
    "empty.csv": ("utf-8", ""),
    "missing_date_column.csv": ("utf-8", "訂單編號,會員編號,出貨日期,商品小計\nA1,M1,2024-03-05,100\n"),
    "no_customer_columns.csv": ("utf-8", "order_id,order_date,amount\n1,2024-03-05,10\n"),
    "duplicates.csv": ("utf-8", "order_id,customer_id,order_date,amount,product_name\n1,c1,2024-03-05,10,a\n"
                       "1,c1,2024-03-05,10,b\n1,c1,2024-03-05,10,a\n2,c2,2024-03-06,20,a\n2,c2,2024-03-06,20,a\n"),
    "malformed_rows.csv": ("utf-8", "order_id,customer_id,order_date,amount,product_name\n1,c1,2024-03-05,10,a\n"
                           "2,c1,2024-03-06,10,T-shirt, blue\n3,c2,2024-03-07\n4,c2,2024-03-08,x,d\n"),
    "multiline_quoted.csv": ("utf-8", "order_id,customer_id,order_date,amount,note\n1,c1,2024-03-05,10,\"gift\nwrap\"\n"
                             "2,c1,2024-03-06,x,plain\n"),
    "semicolon.csv": ("utf-8", "order_id;customer_id;order_date;amount\n1;c1;2024-03-05;10\n2;c2;2024-03-06;\"1,5\"\n"),
    "order_level_blank.csv": ("utf-8", "訂單編號,會員編號,訂單日期,訂單狀態,商品名稱,商品小計\n"
                              "A1,M1,2024-03-05,已完成,維他命,790\nA1,,,,魚油,590\nA2,M2,2024-03-06,已取消,葉黃素,650\n"
                              "A2,,,,魚油,590\n"),
    "guests_identity.csv": ("utf-8", "訂單編號,訂單日期,Email,手機,商品小計\n"
                            "G1,2024-03-05, Alice@Example.COM ,0912-345-678,100\nG2,2024-03-06,alice@example.com,,100\n"
                            "G3,2024-03-07,,+886 912 345 678,100\nG4,2024-03-08,,0922 222 222,100\n"
                            "G5,2024-03-09,n/a,02-2345-6789,100\nG6,2024-03-10,,,100\n"),
    "members_and_guests.csv": ("utf-8", "訂單編號,會員編號,訂單日期,Email,商品小計\n"
                               "H1,M1,2024-03-05,bob@example.com,100\nH2,,2024-03-06,BOB@example.com,100\n"
                               "H3,,2024-03-07,,100\n"),
    "explicit_override.csv": ("utf-8", "訂單編號,會員編號,訂單日期,商品小計,實付金額\nA1,M1,2024-03-05,100,90\n"),
    "threshold.csv": ("utf-8", "order_id,customer_id,order_date,amount\n" + "".join(
        f"{i},c{i},2024-03-05,{'x' if i % 10 == 0 else 10}\n" for i in range(1, 41))),
    "shopify_small.csv": ("utf-8", "Name,Email,Financial Status,Paid at,Currency,Subtotal,Shipping,Taxes,Total,"
                          "Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,"
                          "Billing Name,Billing Phone,Cancelled at,Refunded Amount,Id,Source,Lineitem discount,Phone\n"
                          "#1001,ann@example.com,paid,2024-03-05 10:00:00 +0800,TWD,900,60,0,960,100,"
                          "2024-03-05 10:00:00 +0800,1,Vitamin,600,V-1,Ann,,,0,5500000000001,web,0,\n"
                          "#1001,ann@example.com,,,,,,,,,2024-03-05 10:00:00 +0800,2,Fish oil,200,F-1,,,,,,,0,\n"
                          "#1002,,refunded,2024-03-06 09:00:00 +0800,TWD,500,0,0,500,0,"
                          "2024-03-06 09:00:00 +0800,1,Lutein,500,L-1,Ben,0912345678,,500,5500000000002,web,0,\n"
                          "#1003,ann@example.com,voided,,TWD,300,0,0,300,0,2024-03-07 02:00:00 -0500,1,Vitamin,"
                          "300,V-1,Ann,,2024-03-07 03:00:00 -0500,0,5500000000003,web,0,\n"),
    "old_excel.xls": ("utf-8", "not really an old Excel file"),
}


def write_text() -> None:
    for name, (encoding, text) in TEXT.items():
        (FILES / name).write_bytes(text.encode(encoding))
    (FILES / "damaged_utf8.csv").write_bytes("訂單編號,會員編號,訂單日期,商品小計\nA1,M1,2024-03-05,100\n".encode()
                                             + b"A2,M2,2024-03-06,\xff200\n")
    folder = FILES / "monthly"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    header = "訂單編號,會員編號,訂單日期,商品名稱,商品小計,訂單狀態\n"
    (folder / "orders-2024-02.csv").write_text(
        header + "A1,M1,2024-02-10,維他命,790,已完成\nA2,M2,2024-02-28,魚油,590,已完成\n"
        "A3,M3,2024-03-01,葉黃素,650,已完成\n",
        encoding="utf-8-sig")
    (folder / "orders-2024-03.csv").write_text(  # overlaps: A3 again, now refunded; a new A4
        header + "A3,M3,2024-03-01,葉黃素,650,已退款\nA4,M1,2024-03-15,維他命,790,已完成\n", encoding="cp950")


SHOPIFY_2023_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,"
    "Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,"
    "Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,"
    "Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,"
    "Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,"
    "Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,"
    "Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,"
    "Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,"
    "Payment ID,Payment Terms Name,Next Payment Due At,Payment References").split(",")
"""The admin orders export header of 2023 and later (shared/data/export_formats.md, 1b): 79 columns."""

# (order, email, financial status, created at, subtotal, cancelled at, phone, billing phone,
#  lines: (qty, name, price, sku))
SHOPIFY_ORDERS = [
    ("#1001", "ann@example.com", "paid", "2024-03-01 10:00:00 +0800", "1800.00", "", "", "",
     [(2, "Vitamin", "600.00", "VM-60"), (1, "Fish oil", "800.00", "FO-90")]),
    ("#1002", "bob@example.com", "partially_refunded", "2024-03-02 09:30:00 +0800", "1500.00", "", "", "",
     [(1, "Collagen", "1500.00", "CO-30")]),
    ("#1003", "ANN@Example.com ", "pending", "2024-03-15 20:00:00 -0500", "650.00", "", "", "",
     [(1, "Lutein", "650.00", "LT-30")]),
    ("#1004", "", "paid", "2024-03-20 12:00:00 +0000", "900.00", "", "+886 912 345 678", "",
     [(2, "Probiotic", "450.00", "PB-30")]),
    ("#1005", "", "refunded", "2024-03-21 11:00:00 +0800", "700.00", "", "", "0912-345-678",
     [(1, "Fish oil", "700.00", "FO-90")]),
    ("#1006", "carol@example.com", "voided", "2024-03-22 08:00:00 +0800", "300.00", "", "", "",
     [(1, "Trial pack", "300.00", "TR-07")]),
    ("#1007", "", "paid", "2024-03-25 13:00:00 +0800", "1200.00", "", "", "",
     [(2, "Vitamin", "600.00", "VM-60")]),
    ("#1008", "dave@example.com", "paid", "2024-03-26 14:00:00 +0800", "400.00", "2024-03-27 09:00:00 +0800",
     "", "", [(1, "Trial pack", "400.00", "TR-07")]),
    ("#1010", "erin@example.com", "paid", "2024-03-28 19:45:00 +0800", "600.00", "", "", "",
     [(1, "Vitamin", "600.00", "VM-60"), (1, "Gift bag", "0.00", "GIFT")]),
    ("#1009", "ann@example.com", "paid", "2024-04-02 10:00:00 +0800", "600.00", "", "", "",
     [(1, "Vitamin", "600.00", "VM-60")]),
]


def write_shopify_export() -> None:
    """A Shopify admin export with the full 2023 header: order-level fields only on each order's first row,
    a discount, mixed UTC offsets, e-mail case, phone only, a guest, every financial status, Cancelled at."""
    import csv

    rows = []
    for order, email, status, created, subtotal, cancelled, phone, billing_phone, lines in SHOPIFY_ORDERS:
        for position, (quantity, name, price, sku) in enumerate(lines):
            row = dict.fromkeys(SHOPIFY_2023_HEADER, "")
            row.update({"Name": order, "Email": email if position == 0 else "", "Created at": created,
                        "Lineitem quantity": str(quantity), "Lineitem name": name, "Lineitem price": price,
                        "Lineitem sku": sku, "Lineitem discount": "0.00", "Lineitem requires shipping": "true",
                        "Lineitem taxable": "false", "Lineitem fulfillment status": "pending"})
            if position == 0:
                gross = sum(q * float(p) for q, _, p, _ in lines)
                row.update({"Financial Status": status, "Currency": "TWD", "Subtotal": subtotal,
                            "Shipping": "60.00", "Taxes": "0.00", "Total": f"{float(subtotal) + 60:.2f}",
                            "Discount Amount": f"{gross - float(subtotal):.2f}",
                            "Discount Code": "SPRING10" if gross > float(subtotal) else "",
                            "Accepts Marketing": "yes", "Cancelled at": cancelled, "Phone": phone,
                            "Billing Phone": billing_phone, "Source": "web",
                            "Id": str(5_500_000_000_000 + int(order[1:])),
                            "Refunded Amount": "500.00" if status == "partially_refunded" else "0.00",
                            "Notes": "請在下午送達\n謝謝" if order == "#1001" else ""})
            rows.append(row)
    with (FILES / "shopify_orders_export_1.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SHOPIFY_2023_HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


SHOPEE_HEADER = (
    "訂單編號,訂單狀態,不成立原因,退貨 / 退款狀態,買家帳號,訂單成立日期,商品總價,買家支付運費,蝦皮補助運費,退貨運費,買家總支付金額,"
    "蝦皮補貼金額,蝦幣折抵,銀行信用卡活動折抵,優惠代碼,賣場優惠券,賣家蝦幣回饋券,優惠券,成交手續費,其他服務費,金流與系統處理費,"
    "分期付款期數,金流與系統處理費率,成交手續費規則名稱,商品名稱,商品選項名稱,商品原價,商品活動價格,主商品貨號,商品選項貨號,數量,"
    "退貨數量,促銷組合指標,蝦皮促銷組合折扣:促銷組合標籤,收件地址,收件者電話,蝦皮專線和包裹查詢碼,取件門市店號,城市,行政區,郵遞區號,"
    "收件者姓名,寄送方式,出貨方式,備貨時間,付款方式,最晚出貨日期,包裹查詢號碼,買家付款時間,實際出貨時間,訂單完成時間,買家備註,備註"
).split(",")
"""The Shopee seller centre order export, in the order of a public parser of real files (53 of the 57
columns of Shopee's field table; the four it leaves out are not read here either)."""

PLATFORM_ROWS = {
    # SHOPLINE 訂單報表: one row per product, the order's money columns on its first row only.
    "shopline_訂單報表.csv": ("utf-8-sig", (
        "訂單號碼,訂單日期,訂單狀態,付款狀態,貨幣,已退款金額,訂單小計,運費,優惠折扣,訂單合計,商品貨號,商品名稱,選項,商品原價,"
        "商品結帳價,數量,顧客 ID,顧客,電郵,電話號碼,收件人電話號碼,訂單來源").split(","), [
        ["#20240301001", "2024/03/01 10:15", "已完成", "已付款", "TWD", "0", "2180", "60", "0", "2240", "VC-60",
         "維他命C", "60 錠", "890", "NT$790", "2", "C001", "王小明", "ming@example.com", "0912-000-111",
         "0933-000-999", "網店"],
        ["#20240301001", "2024/03/01 10:15", "已完成", "已付款", "", "", "", "", "", "", "FO-90", "魚油", "90 粒", "650",
         "600", "1", "C001", "王小明", "ming@example.com", "0912-000-111", "0933-000-999", "網店"],
        ["#20240305002", "2024/03/05 14:00", "已完成", "已退款", "TWD", "650", "650", "0", "0", "650", "LT-30",
         "葉黃素", "", "650", "650", "1", "C002", "陳美玲", "mei@example.com", "0922-000-222", "", "網店"],
        ["#20240312003", "2024/03/12 09:30", "已取消", "未付款", "TWD", "0", "790", "60", "0", "850", "VC-60",
         "維他命C", "60 錠", "890", "790", "1", "C003", "李志強", "", "0933-000-333", "", "網店"],
        ["#20240318004", "2024/03/18 20:45", "處理中", "部分退款", "TWD", "300", "1200", "0", "0", "1200", "CO-30",
         "膠原蛋白", "", "900", "900", "1", "C001", "王小明", "ming@example.com", "0912-000-111", "", "POS"],
        ["#20240318004", "2024/03/18 20:45", "處理中", "部分退款", "", "", "", "", "", "", "MK-10", "面膜", "",
         "300", "300", "1", "C001", "王小明", "ming@example.com", "0912-000-111", "", "POS"],
        ["#20240402005", "2024/04/02 11:00", "已完成", "已付款", "TWD", "0", "1580", "0", "0", "1580", "VC-60",
         "維他命C", "60 錠", "890", "790", "2", "C002", "陳美玲", "mei@example.com", "0922-000-222", "", "網店"],
    ]),
    # 91APP: one row per 訂單編號 (TS) in a 主單 (TM) in a checkout 購物車 (TG).
    "91app_orders.csv": ("utf-8", (
        "購物車編號,主單編號,訂單編號,轉單日期時間,配送方式,溫層類別,收件人,收件人電話,訂單來源,商品名稱,商品選項,商品料號,數量,"
        "商品單價,訂單狀態,折扣金額,銷售金額(折扣後),付款方式,會員編號,購買人,取消原因").split(","), [
        ["TG240301A001", "TM240301A001", "TS240301A001", "2024/03/01 12:00", "宅配", "常溫", "林大同", "0911-111-111",
         "APP", "維他命", "", "V-01", "2", "500", "已完成", "-100", "900", "信用卡", "91M001", "林大同", ""],
        ["TG240301A001", "TM240301A002", "TS240301A002", "2024/03/01 12:00", "宅配", "冷藏", "林大同", "0911-111-111",
         "APP", "優格", "", "Y-01", "1", "300", "已完成", "0", "300", "信用卡", "91M001", "林大同", ""],
        ["TG240308B001", "TM240308B001", "TS240308B001", "2024/03/08 08:30", "超商取貨", "常溫", "張小華", "",
         "Web", "維他命", "", "V-01", "1", "500", "已完成", "0", "500", "ATM", "91M002", "張小華", ""],
        ["TG240308B001", "TM240308B001", "TS240308B002", "2024/03/08 08:30", "超商取貨", "常溫", "張小華", "",
         "Web", "魚油", "", "F-01", "1", "650", "已取消", "0", "650", "ATM", "91M002", "張小華", "缺貨"],
        ["TG240315C001", "TM240315C001", "TS240315C001", "2024/03/15 19:00", "宅配", "常溫", "黃一心", "",
         "Web", "魚油", "", "F-01", "2", "650", "已取消", "0", "1300", "信用卡", "91M003", "黃一心", "顧客取消"],
        ["TG240320D001", "TM240320D001", "TS240320D001", "2024/03/20 21:10", "宅配", "常溫", "林大同", "0911-111-111",
         "APP", "膠原蛋白", "", "C-01", "1", "1,200", "已完成", "0", "1,200", "信用卡", "91M001", "林大同", ""],
        ["TG240405E001", "TM240405E001", "TS240405E001", "2024/04/05 10:00", "超商取貨", "常溫", "張小華", "",
         "Web", "維他命", "", "V-01", "1", "500", "已完成", "0", "500", "ATM", "91M002", "張小華", ""],
    ]),
    # CYBERBIZ: one row per order, its products listed in 商品詳情.
    "cyberbiz_orders.csv": ("utf-8", "訂單編號,成立日期,會員,商品詳情,付款狀態,付款方式,配送狀態,配送方式,退貨狀態,訂單狀態,訂單總額,來源,商品通路"
                            .split(","), [
        ["CB0001", "2024-03-02 13:20", "M-1001", "玫瑰精油 x 2\n護手霜 x 1", "已收到款項", "信用卡", "已出貨", "宅配", "",
         "已結案", "NT$1,500", "網站", "官網"],
        ["CB0002", "2024-03-09 10:00", "M-1002", "護手霜 x 1", "未付款", "ATM", "未出貨", "超商", "", "已取消", "NT$500",
         "網站", "官網"],
        ["CB0003", "2024-03-16 16:45", "M-1001", "沐浴乳 x 3", "已收到款項", "信用卡", "準備出貨", "宅配", "", "進行中",
         "NT$900", "LINE", "官網"],
        ["CB0004", "2024-03-30 22:05", "M-1003", "玫瑰精油 x 1", "已收到款項", "信用卡", "已出貨", "宅配", "", "已結案",
         "NT$600", "網站", "官網"],
        ["CB0005", "2024-04-03 09:15", "M-1002", "護手霜 x 2", "已收到款項", "信用卡", "已出貨", "宅配", "", "已結案",
         "NT$1,000", "網站", "官網"],
    ]),
    # Shopee: one row per product; order-level money repeats on every row and is not read.
    "shopee_Order.all.20240301_20240430.csv": ("utf-8-sig", SHOPEE_HEADER, [
        {"訂單編號": "240301ABCD01", "訂單狀態": "已完成", "買家帳號": "shopee_amy", "訂單成立日期": "2024-03-01 09:00",
         "商品總價": "1097", "買家總支付金額": "1157", "商品名稱": "保溫杯", "商品原價": "599", "商品活動價格": "499",
         "主商品貨號": "CUP", "商品選項貨號": "CUP-W", "數量": "2", "收件者電話": "0955-000-001"},
        {"訂單編號": "240301ABCD01", "訂單狀態": "已完成", "買家帳號": "shopee_amy", "訂單成立日期": "2024-03-01 09:00",
         "商品總價": "1097", "買家總支付金額": "1157", "商品名稱": "杯刷", "商品原價": "99", "商品活動價格": "",
         "主商品貨號": "BRUSH", "商品選項貨號": "BRUSH-1", "數量": "1", "收件者電話": "0955-000-001"},
        {"訂單編號": "240306EFGH02", "訂單狀態": "不成立", "不成立原因": "買家取消", "買家帳號": "shopee_ben",
         "訂單成立日期": "2024-03-06 21:30", "商品總價": "499", "商品名稱": "保溫杯", "商品原價": "599",
         "商品活動價格": "499", "主商品貨號": "CUP", "商品選項貨號": "CUP-B", "數量": "1"},
        {"訂單編號": "240311IJKL03", "訂單狀態": "運送中", "買家帳號": "shopee_amy", "訂單成立日期": "2024-03-11 12:10",
         "商品總價": "597", "商品名稱": "杯套", "商品原價": "199", "商品活動價格": "199", "主商品貨號": "SLEEVE",
         "商品選項貨號": "SLEEVE-1", "數量": "3"},
        {"訂單編號": "240325MNOP04", "訂單狀態": "已完成", "買家帳號": "shopee_cat", "訂單成立日期": "2024-03-25 07:55",
         "商品總價": "499", "商品名稱": "保溫杯", "商品原價": "599", "商品活動價格": "499", "主商品貨號": "CUP",
         "商品選項貨號": "CUP-W", "數量": "1"},
        {"訂單編號": "240402QRST05", "訂單狀態": "已完成", "買家帳號": "shopee_ben", "訂單成立日期": "2024-04-02 18:00",
         "商品總價": "198", "商品名稱": "杯刷", "商品原價": "99", "商品活動價格": "99", "主商品貨號": "BRUSH",
         "商品選項貨號": "BRUSH-1", "數量": "2"},
    ]),
    # WooCommerce Analytics → Orders → Download: one row per order, newest first, products in one cell.
    "woocommerce_orders-report.csv": ("utf-8", "Date,Order #,Status,Customer,Customer type,Product(s),Items sold,"
                                      "Coupon(s),Net sales,Origin".split(","), [
        ["2024-04-01 10:00:00", "1005", "completed", "Amy Lin", "returning", "1× Green tea", "1", "", "300.00",
         "Direct"],
        ["2024-03-28 18:30:00", "1004", "refunded", "Ben Wu", "new", "1× Oolong", "1", "", "450.00", "Direct"],
        ["2024-03-20 08:15:00", "1003", "cancelled", "Cat Chen", "new", "2× Green tea", "2", "", "600.00", "Direct"],
        ["2024-03-15 16:40:00", "1006", "on-hold", "Dan Ho", "new", "1× Green tea", "1", "", "300.00", "Referral"],
        ["2024-03-10 12:00:00", "1002", "processing", "Amy Lin", "returning", "1× Oolong", "1", "SPRING", "405.00",
         "Direct"],
        ["2024-03-02 09:00:00", "1001", "completed", "Amy Lin", "new", "2× Green tea, 1× Oolong", "3", "",
         "1,050.00", "Direct"],
    ]),
}
"""Small exports of each platform preset, one file each under files/platforms; tests/test_platforms.py
works their totals out by hand."""


def write_platforms() -> None:
    import csv

    folder = FILES / "platforms"
    folder.mkdir(exist_ok=True)
    for name, (encoding, header, rows) in PLATFORM_ROWS.items():
        with (folder / name).open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(header)
            for row in rows:
                cells = [row.get(c, "") for c in header] if isinstance(row, dict) else row
                writer.writerow(cells)


def write_excel() -> None:
    book = openpyxl.Workbook()
    book.active.title = "說明"
    book.active["A1"] = "本檔為訂單匯出"
    sheet = book.create_sheet("訂單")
    sheet.append(["2024 年 3 月訂單"])
    sheet.merge_cells("A1:F1")
    sheet.append(["訂單編號", "會員編號", "訂單日期", "商品名稱", "數量", "商品小計"])
    rows = [["X1", "M1", datetime(2024, 3, 5, 14, 3), "維他命", 1, 790],
            [None, None, None, "魚油", 2, 1180.0],
            ["X2", "M2", datetime(2024, 3, 6), "葉黃素", 1, 650],
            [None, None, None, None, None, None],
            ["X3", 1003, 45357, "益生菌", 1, "NT$1,200"]]
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A3:A4")  # X1's id, member and date merged over its two lines
    sheet.merge_cells("B3:B4")
    sheet.merge_cells("C3:C4")
    book.save(FILES / "merged_cells.xlsx")


def write_parquet() -> None:
    pd.DataFrame({
        "order_id": ["P1", "P2", "P3"],
        "customer_id": [101, 102, None],
        "order_date": pd.to_datetime(["2024-03-05 06:03:00", "2024-03-06 00:00:00", "2024-03-07 12:00:00"])
                        .tz_localize(UTC),
        "amount": [790.0, 1180.0, 650.0],
        "quantity": [1, 2, 1],
        "email": [None, None, "guest@example.com"],
        "status": ["paid", "paid", "paid"],
    }).to_parquet(FILES / "typed.parquet", index=False)


if __name__ == "__main__":
    FILES.mkdir(exist_ok=True)
    write_text()
    write_shopify_export()
    write_platforms()
    write_excel()
    write_parquet()
    print(f"wrote {sum(1 for _ in FILES.rglob('*') if _.is_file())} files in {FILES}")
