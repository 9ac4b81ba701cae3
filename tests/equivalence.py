"""One small order history written in every shape a client may hand over, for the equivalence tests.

`canonical_lines()` is the truth: canonical order lines in Taipei local time. The writers turn it into a
clean Parquet file, a Shopify admin export, a Big5 CSV with Chinese headers and ROC dates, an Excel
workbook, a folder of overlapping monthly CSVs and a database table. Loading any of them must give the
same lines, and the same report.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

MONTH = "2026-02"
PRODUCTS = [("VM-60", "綜合維他命", 790), ("FO-90", "魚油", 1180), ("LT-30", "葉黃素", 650),
            ("PB-30", "益生菌", 450), ("CO-30", "膠原蛋白", 1290), ("TR-07", "試用包", 350)]
OFFSETS = ("+0800", "+0000", "-0500")
SHOPIFY_STATUS = {"paid": "paid", "cancelled": "voided", "refunded": "refunded"}
ZH_STATUS = {"paid": "已完成", "cancelled": "已取消", "refunded": "已退款"}
EN_STATUS = {"paid": "Paid", "cancelled": "Cancelled", "refunded": "Refunded"}


def canonical_lines(seed: int = 40, customers: int = 120) -> pd.DataFrame:
    """Order lines from 2025-01 to 2026-02: members with e-mail and mobile, a few guests (no contact at all),
    1-3 lines per order, some orders 10% off (prices are multiples of 10, so every amount is whole),
    5% cancelled and 5% refunded orders."""
    rng = np.random.default_rng(seed)
    start, end = pd.Timestamp("2025-01-01"), pd.Timestamp("2026-02-28 23:59:59")
    per_customer = rng.integers(1, 9, customers)
    owner = np.repeat(np.arange(customers + 4), np.r_[per_customer, [1, 1, 1, 1]])  # the last 4: guests
    n = len(owner)
    seconds = rng.integers(0, int((end - start).total_seconds()), n)
    orders = pd.DataFrame({
        "owner": owner,
        "order_date": start + pd.to_timedelta(seconds, unit="s"),
        "discount": np.where(rng.random(n) < 0.2, 0.9, 1.0),
        "status": rng.choice(["paid", "cancelled", "refunded"], n, p=[0.9, 0.05, 0.05]),
    }).sort_values("order_date", kind="stable").reset_index(drop=True)
    orders["order_id"] = [f"T{i:05d}" for i in range(1, len(orders) + 1)]
    lines_per_order = rng.choice([1, 2, 3], len(orders), p=[0.6, 0.3, 0.1])
    lines = orders.loc[orders.index.repeat(lines_per_order)].reset_index(drop=True)
    lines["n"] = lines.groupby("order_id").cumcount()
    base = np.repeat(rng.integers(0, len(PRODUCTS), len(orders)), lines_per_order)
    product = (base + lines["n"].to_numpy()) % len(PRODUCTS)  # distinct products within an order
    catalogue = pd.DataFrame(PRODUCTS, columns=["product_id", "product_name", "unit_price"])
    lines = lines.join(catalogue.iloc[product].reset_index(drop=True))
    lines["quantity"] = rng.choice([1, 2, 3], len(lines), p=[0.7, 0.2, 0.1]).astype("float64")
    lines["unit_price"] = lines["unit_price"].astype("float64")
    lines["amount"] = lines["unit_price"] * lines["quantity"] * lines["discount"]
    member = lines["owner"] < customers
    lines["customer_id"] = ("C" + lines["owner"].astype("str").str.zfill(4)).where(member)
    lines["email"] = ("user" + lines["owner"].astype("str") + "@example.com").where(member)
    lines["phone"] = ("09" + (10_000_000 + lines["owner"] * 7919).astype("str")).where(member)
    lines["customer_name"] = ("顧客" + lines["owner"].astype("str")).where(member)
    columns = ["order_id", "customer_id", "order_date", "amount", "product_id", "product_name", "quantity",
               "unit_price", "status", "customer_name", "email", "phone"]
    return lines[columns].astype({c: "str" for c in ("order_id", "customer_id", "product_id", "product_name",
                                                     "status", "customer_name", "email", "phone")})


def write_parquet(lines: pd.DataFrame, folder: Path) -> str:
    lines.to_parquet(folder / "orders.parquet", index=False)
    return "path: orders.parquet"


def write_parquet_without_ids(lines: pd.DataFrame, folder: Path) -> str:
    """The clean Parquet that matches a Shopify export: no customer id, customers known by e-mail/phone."""
    lines.drop(columns="customer_id").to_parquet(folder / "orders.parquet", index=False)
    return "path: orders.parquet"


def write_shopify(lines: pd.DataFrame, folder: Path) -> str:
    """Shopify's admin export: `Name` #order, order-level fields on the first row only, no customer id,
    `Created at` with one of three UTC offsets, line price and quantity, the order's Subtotal."""
    rng = np.random.default_rng(7)
    first = ~lines["order_id"].duplicated()
    offset = pd.Series(rng.choice(OFFSETS, lines["order_id"].nunique()), index=lines["order_id"].unique())
    offset = lines["order_id"].map(offset)
    created = pd.Series(index=lines.index, dtype="str")
    for text in OFFSETS:  # three offsets, one vectorised conversion each
        rows = offset.eq(text)
        zone = f"Etc/GMT{'-' if text[0] == '+' else '+'}{int(text[1:3])}" if text != "+0000" else "UTC"
        local = lines.loc[rows, "order_date"].dt.tz_localize("Asia/Taipei").dt.tz_convert(zone)
        created[rows] = local.dt.strftime("%Y-%m-%d %H:%M:%S ") + text
    subtotal = lines.groupby("order_id")["amount"].transform("sum")
    only_first = lambda values: values.where(first, "")  # noqa: E731
    export = pd.DataFrame({
        "Name": "#" + lines["order_id"],
        "Email": only_first(lines["email"].fillna("").str.upper()
                            .where(lines.index % 2 == 0, lines["email"].fillna(""))),
        "Financial Status": only_first(lines["status"].map(SHOPIFY_STATUS)),
        "Currency": only_first(pd.Series("TWD", index=lines.index)),
        "Subtotal": only_first(subtotal.map("{:.2f}".format)),
        "Created at": created,
        "Lineitem quantity": lines["quantity"].astype("int64"),
        "Lineitem name": lines["product_name"],
        "Lineitem price": lines["unit_price"].map("{:.2f}".format),
        "Lineitem sku": lines["product_id"],
        "Billing Name": only_first(lines["customer_name"].fillna("")),
        "Billing Phone": only_first(("+886 " + lines["phone"].str[1:4] + " " + lines["phone"].str[4:7] + " "
                                     + lines["phone"].str[7:]).fillna("")),
        "Lineitem discount": "0.00",
    })
    export.to_csv(folder / "orders_export_1.csv", index=False)
    return "path: orders_export_1.csv"


def write_big5(lines: pd.DataFrame, folder: Path) -> str:
    """Big5 (CP950), Chinese headers, ROC dates, NT$ amounts with thousands separators, 0912-345-678."""
    date = lines["order_date"]
    roc = ((date.dt.year - 1911).astype("str") + date.dt.strftime("/%m/%d %H:%M:%S"))
    export = pd.DataFrame({
        "訂單編號": lines["order_id"], "會員編號": lines["customer_id"].fillna(""), "訂購日期": roc,
        "品名": lines["product_name"], "商品編號": lines["product_id"], "數量": lines["quantity"].astype("int64"),
        "單價": lines["unit_price"].map("{:,.0f}".format),
        "商品小計": "NT$" + lines["amount"].map("{:,.0f}".format), "訂單狀態": lines["status"].map(ZH_STATUS),
        "訂購人姓名": lines["customer_name"].fillna(""), "訂購人信箱": lines["email"].fillna(""),
        "手機": (lines["phone"].str[:4] + "-" + lines["phone"].str[4:7] + "-" + lines["phone"].str[7:]).fillna(""),
    })
    (folder / "訂單明細.csv").write_bytes(export.to_csv(index=False).encode("cp950"))
    return "path: 訂單明細.csv"


def write_excel(lines: pd.DataFrame, folder: Path) -> str:
    """An .xlsx with a notes sheet first, the orders on sheet 'Orders' under a title row; real date cells."""
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Orders")
    sheet.append(["Order export"])
    header = ["Order ID", "Customer ID", "Order Date", "Product Name", "SKU", "Qty", "Unit Price", "Line Total",
              "Status", "Customer Name", "Email", "Mobile"]
    sheet.append(header)
    rows = pd.DataFrame({
        "a": lines["order_id"], "b": lines["customer_id"], "c": lines["order_date"].dt.to_pydatetime(),
        "d": lines["product_name"], "e": lines["product_id"], "f": lines["quantity"].astype("int64"),
        "g": lines["unit_price"], "h": lines["amount"], "i": lines["status"].map(EN_STATUS),
        "j": lines["customer_name"], "k": lines["email"], "l": lines["phone"]}).astype(object)
    for row in rows.where(rows.notna(), None).itertuples(index=False):  # openpyxl writes cell by cell
        sheet.append(list(row))
    book.save(folder / "orders.xlsx")
    return "path: orders.xlsx\n  sheet: Orders"


def write_monthly(lines: pd.DataFrame, folder: Path) -> str:
    """One UTF-8 (BOM) CSV per month, each also holding the first two days of the next month: overlaps."""
    exports = folder / "exports"
    exports.mkdir()
    month = lines["order_date"].dt.to_period("M")
    for period in month.unique():
        end = (period + 1).start_time + pd.Timedelta(days=2)
        rows = lines.loc[lines["order_date"].ge(period.start_time) & lines["order_date"].lt(end)]
        rows.to_csv(exports / f"orders-{period}.csv", index=False, encoding="utf-8-sig")
    return "path: exports"


def write_sqlite(lines: pd.DataFrame, folder: Path) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{folder / 'shop.db'}")
    lines.to_sql("order_lines", engine, index=False)
    engine.dispose()
    return "url: sqlite:///shop.db\n  table: order_lines"


WRITERS = {"parquet": write_parquet, "parquet_without_ids": write_parquet_without_ids, "shopify": write_shopify,
           "big5": write_big5, "excel": write_excel, "monthly": write_monthly, "sqlite": write_sqlite}


def make_client(root: Path, client: str, source_yaml: str) -> Path:
    """A client folder under `root` whose client.yaml reads the given source."""
    folder = root / client
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "client.yaml").write_text(
        f"display_name: 等價測試 {client}\nlocale: zh-TW\nsource:\n  {source_yaml}\n", encoding="utf-8")
    return folder
