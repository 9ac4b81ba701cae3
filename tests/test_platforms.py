"""The platform presets (SHOPLINE, 91APP, CYBERBIZ, Shopee, WooCommerce) on small exports
(tests/corpus/files/platforms, written by tests/corpus/make_corpus.py) with totals worked out by hand.

Each export holds March 2024 and one April order; `auto` must recognise it. Per platform, by hand:

SHOPLINE (one row per product, the order's money on its first row; 商品結帳價 × 數量, 已退款金額 taken off):
| order        | customer | 訂單狀態 | lines                          | refunded | counts as              |
| #20240301001 | C001     | 已完成   | 2 × NT$790 + 1 × 600 = 2,180   | 0        | purchase 2,180         |
| #20240305002 | C002     | 已完成   | 1 × 650                        | 650      | refunded in full: none |
| #20240312003 | C003     | 已取消   | 1 × 790                        | 0        | cancelled              |
| #20240318004 | C001     | 處理中   | 1 × 900 + 1 × 300 = 1,200      | 300      | purchase 900           |
| #20240402005 | C002     | 已完成   | 2 × 790 = 1,580                | 0        | April purchase 1,580   |
March: 2 orders, NT$3,080, 1 customer (C001, new). April: 1 order, NT$1,580, C002 new (her March order was
refunded in full, so April is her first purchase).

91APP (one row per TS; a purchase is the checkout 購物車編號 TG; 銷售金額(折扣後) per line):
| checkout     | member | lines                                         | counts as                    |
| TG240301A001 | 91M001 | 900 (2 × 500 − 100) + 300, two 主單 (TM)        | one purchase 1,200           |
| TG240308B001 | 91M002 | 500 已完成 + 650 已取消                          | purchase 500                 |
| TG240315C001 | 91M003 | 1,300 已取消                                    | cancelled                    |
| TG240320D001 | 91M001 | "1,200"                                       | purchase 1,200               |
| TG240405E001 | 91M002 | 500                                           | April purchase 500           |
March: 3 orders, NT$2,900, 2 customers (91M001 twice, 91M002). April: 1 order, NT$500, returning.

CYBERBIZ (one row per order; 商品詳情 lists the products, 訂單總額 shared by quantity):
| order  | member | 商品詳情                  | 訂單總額  | 訂單狀態 | counts as                            |
| CB0001 | M-1001 | 玫瑰精油 x 2 / 護手霜 x 1 | NT$1,500 | 已結案   | purchase: lines 1,000 + 500          |
| CB0002 | M-1002 | 護手霜 x 1                | NT$500   | 已取消   | cancelled                            |
| CB0003 | M-1001 | 沐浴乳 x 3                | NT$900   | 進行中   | purchase                             |
| CB0004 | M-1003 | 玫瑰精油 x 1              | NT$600   | 已結案   | purchase                             |
| CB0005 | M-1002 | 護手霜 x 2                | NT$1,000 | 已結案   | April purchase                       |
March: 3 orders, NT$3,000, 2 customers (M-1001, M-1003). April: 1 order, NT$1,000, M-1002 new.

Shopee (one row per product; 商品活動價格, else 商品原價, × 數量):
| order        | buyer      | 訂單狀態 | lines                        | counts as            |
| 240301ABCD01 | shopee_amy | 已完成   | 2 × 499 + 1 × 99 (原價) = 1,097 | purchase 1,097       |
| 240306EFGH02 | shopee_ben | 不成立   | 1 × 499                      | cancelled            |
| 240311IJKL03 | shopee_amy | 運送中   | 3 × 199 = 597                | purchase 597         |
| 240325MNOP04 | shopee_cat | 已完成   | 1 × 499                      | purchase 499         |
| 240402QRST05 | shopee_ben | 已完成   | 2 × 99 = 198                 | April purchase 198   |
March: 3 orders, NT$2,193, 2 customers (amy, cat). April: 1 order, NT$198, ben new.

WooCommerce (one row per order, newest first; Product(s) `2× A, 1× B`; Net sales shared by quantity):
| order | customer | status     | Net sales | counts as                                   |
| 1001  | Amy Lin  | completed  | 1,050.00  | purchase: Green tea 2 → 700, Oolong 1 → 350 |
| 1002  | Amy Lin  | processing | 405.00    | purchase                                    |
| 1003  | Cat Chen | cancelled  | 600.00    | cancelled                                   |
| 1004  | Ben Wu   | refunded   | 450.00    | refunded: none                              |
| 1006  | Dan Ho   | on-hold    | 300.00    | purchase                                    |
| 1005  | Amy Lin  | completed  | 300.00    | April purchase                              |
March: 3 orders, NT$1,755, 2 customers (Amy, Dan). April: 1 order, NT$300, Amy returning.
"""
from pathlib import Path

import pandas as pd
import pytest

from crm_report.config import ClientConfig
from crm_report.data import presets
from crm_report.data.load import load_orders
from crm_report.metrics import acquisition
from crm_report.metrics.orders import purchase_orders

FILES = Path(__file__).resolve().parent / "corpus" / "files" / "platforms"
APRIL_END = pd.Timestamp("2024-04-30 23:59:59.999999")

# file, preset, lines read, {month: (orders, revenue, customers, new, returning)}, statuses by order
EXPECTED = {
    "shopline": ("shopline_訂單報表.csv", 7, {"2024-03": (2, 3080, 1, 1, 0), "2024-04": (1, 1580, 1, 1, 0)},
                 {"#20240305002": "refunded", "#20240312003": "cancelled"}),
    "91app": ("91app_orders.csv", 7, {"2024-03": (3, 2900, 2, 2, 0), "2024-04": (1, 500, 1, 0, 1)},
              {"TG240315C001": "cancelled"}),
    "cyberbiz": ("cyberbiz_orders.csv", 6, {"2024-03": (3, 3000, 2, 2, 0), "2024-04": (1, 1000, 1, 1, 0)},
                 {"CB0002": "cancelled"}),
    "shopee": ("shopee_Order.all.20240301_20240430.csv", 6,
               {"2024-03": (3, 2193, 2, 2, 0), "2024-04": (1, 198, 1, 1, 0)}, {"240306EFGH02": "cancelled"}),
    "woocommerce": ("woocommerce_orders-report.csv", 7, {"2024-03": (3, 1755, 2, 2, 0), "2024-04": (1, 300, 1, 0, 1)},
                    {"1003": "cancelled", "1004": "refunded"}),
}


def load(name: str, preset: str = "auto", **source):
    config = ClientConfig(client_id="shop", display_name="Shop", folder=FILES,
                          source={"path": EXPECTED[name][0], "preset": preset, **source})
    return load_orders(config, now=pd.Timestamp("2025-01-01"))


@pytest.fixture(scope="module")
def loaded():
    return {name: load(name) for name in EXPECTED}


@pytest.mark.parametrize("name", EXPECTED)
def test_auto_recognises_the_export_and_reads_every_row(loaded, name):
    result = loaded[name]
    matching = result.files[0].matching
    assert (matching.preset, matching.chosen_by, matching.candidates) == (name, "detected", (name,))
    assert result.excluded.empty and len(result.lines) == EXPECTED[name][1]


@pytest.mark.parametrize("name", EXPECTED)
def test_monthly_orders_revenue_and_customers_by_hand(loaded, name):
    lines = loaded[name].lines
    orders = purchase_orders(lines, APRIL_END)
    table = acquisition.monthly_new_vs_returning(orders, pd.Period("2024-04"), 2).set_index("month")
    for month, (n, revenue, customers, new, returning) in EXPECTED[name][2].items():
        row = table.loc[month]
        assert (row["orders"], row["new_customers"], row["returning_customers"]) == (n, new, returning), month
        assert row["revenue"] == pytest.approx(revenue), month
        in_month = orders.loc[orders["order_month"].eq(pd.Period(month))]
        assert in_month["customer_id"].nunique() == customers and in_month["customer_id"].notna().all()


@pytest.mark.parametrize("name", EXPECTED)
def test_cancelled_and_refunded_orders_are_no_purchases(loaded, name):
    lines = loaded[name].lines
    status = lines.groupby("order_id")["status"].agg(lambda s: "paid" if s.eq("paid").any() else s.iat[0])
    assert status[status.ne("paid")].to_dict() == EXPECTED[name][3]
    purchases = set(purchase_orders(lines, APRIL_END)["order_id"])
    assert not purchases & set(EXPECTED[name][3])


def test_shopline_line_amounts_and_first_row_order_fields(loaded):
    lines = loaded["shopline"].lines.set_index(["order_id", "product_id"])
    assert lines.loc[("#20240301001", "VC-60"), "amount"] == pytest.approx(1580)  # NT$790 × 2
    assert lines.loc[("#20240318004", "CO-30"), "amount"] == pytest.approx(675)  # 900 less 300 × 900/1,200
    assert lines.loc[("#20240318004", "MK-10"), "amount"] == pytest.approx(225)
    assert lines.loc[("#20240301001", "FO-90"), "phone"] == "+886912000111"  # E.164; the buyer's, not the recipient's
    assert set(lines["channel"]) == {"網店", "POS"}


def test_91app_a_checkout_is_one_purchase_and_a_cancelled_line_is_not_bought(loaded):
    lines = loaded["91app"].lines
    assert lines.loc[lines["order_id"].eq("TG240301A001"), "amount"].sum() == pytest.approx(1200)
    b1 = lines.loc[lines["order_id"].eq("TG240308B001")].set_index("product_name")
    assert b1["status"].to_dict() == {"維他命": "paid", "魚油": "cancelled"}
    orders = purchase_orders(lines, APRIL_END).set_index("order_id")
    assert orders.loc["TG240308B001", "amount"] == pytest.approx(500)


@pytest.mark.parametrize("name, order, expected", [
    ("cyberbiz", "CB0001", {"玫瑰精油": (2, 1000), "護手霜": (1, 500)}),
    ("woocommerce", "1001", {"Green tea": (2, 700), "Oolong": (1, 350)}),
])
def test_products_listed_in_one_cell_become_lines_sharing_the_amount_by_quantity(loaded, name, order, expected):
    lines = loaded[name].lines
    rows = lines.loc[lines["order_id"].eq(order)].set_index("product_name")
    assert {p: (r["quantity"], round(r["amount"], 6)) for p, r in rows.iterrows()} == expected
    assert rows["source_row"].nunique() == 1  # both lines keep the export's row number


def test_shopee_takes_the_original_price_when_there_is_no_campaign_price(loaded):
    lines = loaded["shopee"].lines.set_index(["order_id", "product_id"])
    assert lines.loc[("240301ABCD01", "BRUSH-1"), "amount"] == pytest.approx(99)
    assert lines.loc[("240301ABCD01", "CUP-W"), "amount"] == pytest.approx(998)


def test_a_named_preset_is_used_as_named():
    result = load("shopee", preset="shopee")
    assert (result.files[0].matching.preset, result.files[0].matching.chosen_by) == ("shopee", "client.yaml")


def test_auto_detects_by_signature_and_stays_generic_when_ambiguous():
    shopline = ["訂單號碼", "訂單日期", "商品結帳價", "數量"]
    assert presets.detect_presets(shopline) == ("shopline",)
    assert presets.detect_presets(["訂單編號", "訂單成立日期", "商品選項貨號 (品)"]) == ("shopee",)
    assert presets.detect_presets(["訂單編號", "訂單日期", "商品名稱", "商品小計"]) == ()
    both = ["購物車編號", "主單編號", "訂單編號", "成立日期", "商品詳情", "訂單總額"]
    preset, how, found = presets.choose_preset(both, "auto")
    assert (preset.name, how, found) == ("generic", "ambiguous", ("91app", "cyberbiz"))


def test_config_offers_every_preset():
    from typing import get_args

    from crm_report.config import Source

    offered = set(get_args(Source.model_fields["preset"].annotation)) - {"auto"}
    assert offered == set(presets.PRESETS) - {"generic"}


def test_split_products():
    cells = pd.Series(["2× Vitamin C, 1× Fish oil", "T-shirt, blue", None, "維他命 x 2\n魚油 × 1\n", "Box*3;Lid"],
                      index=[10, 11, 12, 13, 14])
    items = presets.split_products(cells)
    assert items.index.tolist() == [10, 10, 11, 12, 13, 13, 14, 14]
    assert items["product_name"].tolist()[:3] == ["Vitamin C", "Fish oil", "T-shirt, blue"]
    assert pd.isna(items["product_name"].iat[3]) and pd.isna(items["quantity"].iat[3])
    assert items["quantity"].dropna().tolist() == [2, 1, 1, 2, 1, 3, 1]
