"""A Shopify admin orders export (the full 2023 header, tests/corpus/files/shopify_orders_export_1.csv) with
totals worked out by hand.

The file: 10 orders on 12 line rows, in TWD; order-level fields only on each order's first row.

| order | customer (key)            | Financial Status   | Created at (→ Taipei)          | Subtotal | counts as  |
|-------|---------------------------|--------------------|--------------------------------|----------|------------|
| #1001 | ann@example.com           | paid               | 03-01 10:00 +0800              | 1,800    | purchase (2 lines: 2×600 + 800 = 2,000 gross, 10% off → 1,080 + 720) |
| #1002 | bob@example.com           | partially_refunded | 03-02 09:30 +0800              | 1,500    | purchase of 1,000 (Refunded Amount 500) |
| #1003 | ANN@Example.com → ann     | pending            | 03-15 20:00 −0500 → 03-16 09:00 | 650      | purchase   |
| #1004 | Phone +886 912 345 678    | paid               | 03-20 12:00 +0000 → 20:00       | 900      | purchase   |
| #1005 | Billing Phone 0912-345-678 (= #1004's) | refunded | 03-21 11:00 +0800            | 700      | refunded   |
| #1006 | carol@example.com         | voided             | 03-22                          | 300      | cancelled  |
| #1007 | none: a guest             | paid               | 03-25                          | 1,200    | purchase, no customer |
| #1008 | dave@example.com          | paid, Cancelled at 03-27 | 03-26                    | 400      | cancelled  |
| #1010 | erin@example.com          | paid               | 03-28 19:45                    | 600      | purchase (+ a 0 gift line, kept) |
| #1009 | ann@example.com           | paid               | 04-02                          | 600      | after March |

March 2024: purchases #1001, #1002, #1003, #1004, #1007, #1010 = 6 orders, 1,800 + (1,500 − 500) + 650 + 900 +
1,200 + 600 = NT$6,150; the guest's 1,200 among them. Customers with a purchase: ann, bob, the 0912345678 mobile, erin
= 4, all new (the export starts in March). Customers incl. cancelled/refunded only: + carol, dave = 6.
"""  # noqa: E501 (a table's rows are wider than a line)
from pathlib import Path

import pandas as pd
import pytest

from crm_report.config import ClientConfig
from crm_report.data.load import load_orders
from crm_report.metrics import acquisition
from crm_report.metrics.orders import purchase_orders

FILES = Path(__file__).resolve().parent / "corpus" / "files"
MARCH_END = pd.Timestamp("2024-03-31 23:59:59.999999")


@pytest.fixture(scope="module")
def loaded():
    config = ClientConfig(client_id="shop", display_name="Shop", folder=FILES,
                          source={"path": "shopify_orders_export_1.csv"})
    return load_orders(config, now=pd.Timestamp("2025-01-01"))


def test_the_export_is_read_as_shopify(loaded):
    assert loaded.files[0].matching.preset == "shopify" and len(loaded.files[0].info.columns) == 79
    assert loaded.rows_read == 12 and len(loaded.lines) == 12 and loaded.excluded.empty
    lines = loaded.lines
    assert lines["order_id"].nunique() == 10
    assert lines.groupby("order_id")["amount"].sum().to_dict() == pytest.approx(
        {"#1001": 1800, "#1002": 1000, "#1003": 650, "#1004": 900, "#1005": 700, "#1006": 300, "#1007": 1200,
         "#1008": 400, "#1009": 600, "#1010": 600})
    assert lines.loc[lines["order_id"].eq("#1001"), "amount"].tolist() == pytest.approx([1080, 720])
    status = lines.drop_duplicates("order_id").set_index("order_id")["status"].to_dict()
    assert [o for o, s in status.items() if s != "paid"] == ["#1005", "#1006", "#1008"]
    assert status["#1005"] == "refunded" and status["#1006"] == status["#1008"] == "cancelled"
    dates = lines.drop_duplicates("order_id").set_index("order_id")["order_date"]
    assert dates["#1003"] == pd.Timestamp("2024-03-16 09:00") and dates["#1004"] == pd.Timestamp("2024-03-20 20:00")


def test_customers_by_email_and_mobile(loaded):
    by_order = loaded.lines.drop_duplicates("order_id").set_index("order_id")["customer_id"]
    assert by_order["#1001"] == by_order["#1003"] == by_order["#1009"]  # e-mail case and spaces
    assert by_order["#1004"] == by_order["#1005"]  # +886 912 345 678 and 0912-345-678
    assert pd.isna(by_order["#1007"])
    assert loaded.lines["customer_id"].nunique() == 6
    assert not loaded.lines["customer_id"].dropna().str.contains("@").any()  # no address in a key


def test_march_totals(loaded):
    orders = purchase_orders(loaded.lines, MARCH_END)
    assert len(orders) == 6 and orders["amount"].sum() == pytest.approx(6150)
    assert orders.loc[orders["customer_id"].isna(), "amount"].tolist() == pytest.approx([1200])
    assert orders["customer_id"].nunique() == 4
    march = acquisition.monthly_new_vs_returning(orders, pd.Period("2024-03"), 13).set_index("month").loc["2024-03"]
    assert ((march["new_customers"], march["returning_customers"], march["orders"], march["guest_orders"])
            == (4, 0, 6, 1))
    assert march["revenue"] == pytest.approx(6150) and march["aov"] == pytest.approx(6150 / 6)


def test_a_partial_refund_takes_the_refunded_amount_off_the_order(tmp_path):
    """Issue 11: `partially_refunded` counted the full amount. `Refunded Amount` (on the order's first row) is
    taken off the order's lines in proportion; a refund of the whole subtotal or more makes it refunded."""
    header = ("Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem name,Lineitem price,"
              "Refunded Amount")
    (tmp_path / "orders_export.csv").write_text(
        header + "\n#1,a@x.tw,partially_refunded,900.00,2024-03-01 10:00:00 +0800,1,Tea,600.00,300.00\n"
        "#1,,,,2024-03-01 10:00:00 +0800,1,Cup,300.00,\n"
        "#2,b@x.tw,partially_refunded,400.00,2024-03-02 10:00:00 +0800,1,Tea,400.00,450.00\n"
        "#3,c@x.tw,paid,500.00,2024-03-03 10:00:00 +0800,1,Tea,500.00,\n", encoding="utf-8")
    config = ClientConfig(client_id="shop", display_name="Shop", folder=tmp_path, source={"path": "orders_export.csv"})
    lines = load_orders(config, now=pd.Timestamp("2025-01-01")).lines
    assert lines["amount"].tolist() == pytest.approx([400, 200, 400, 500])
    assert lines["status"].tolist() == ["paid", "paid", "refunded", "paid"]
    orders = purchase_orders(lines, MARCH_END)
    assert orders.set_index("order_id")["amount"].to_dict() == pytest.approx({"#1": 600, "#3": 500})
