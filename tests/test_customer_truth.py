"""Issue 9: one customer truth. Each finding reproduced on a small hand-worked example."""
import numpy as np
import pandas as pd
import pytest

from crm_report.metrics import orders as order_metrics
from crm_report.metrics import products
from tests.conftest import make_lines

AS_OF = pd.Period("2026-03", "M").end_time


def test_an_order_refunded_in_full_is_no_purchase_for_products_either():
    """Finding 1: A's last order (03-20) was refunded in full on 03-22, so A's last purchase is 02-01.
    `purchase_orders` agreed already; the product functions counted the refunded order's paid line."""
    lines = make_lines([
        ("o1", "A", "2026-01-01", 100, "paid", "維他命"),
        ("o2", "A", "2026-02-01", 100, "paid", "維他命"),
        ("o3", "A", "2026-03-20", 100, "paid", "維他命"),
        ("o3", "A", "2026-03-22", -100, "refunded", "維他命"),
    ])
    orders = order_metrics.purchase_orders(lines, AS_OF)
    assert orders["order_id"].tolist() == ["o1", "o2"]
    cycles = products.replenishment_cycles(lines, AS_OF, min_repeat_buyers=1)
    assert cycles.loc[0, "intervals"] == 1  # 01-01 → 02-01 only; the refunded 03-20 is no purchase
    steps = products.customer_next_steps(lines, AS_OF, cycles, products.next_product_affinity(lines, AS_OF))
    assert steps.loc[0, "last_purchase_day"] == pd.Timestamp("2026-02-01")
    # a partial refund leaves the order a purchase
    partial = make_lines([("o1", "A", "2026-01-01", 100, "paid"), ("o1", "A", "2026-01-05", -40, "refunded")])
    mask = order_metrics.purchase_line_mask(partial, AS_OF)
    assert mask.tolist() == [True, False]
    assert order_metrics.purchase_orders(partial, AS_OF)["amount"].tolist() == [60.0]


def test_returning_revenue_share_leaves_guest_orders_out():
    """Finding 7: in March returning customers bring 300 of the identified customers' 400 (75%, up from 50%
    in February); two large guest orders (1,000) made the share look like a fall to 21%."""
    from crm_report.metrics import acquisition
    lines = make_lines([
        ("o1", "A", "2026-01-10", 100, "paid"), ("o2", "B", "2026-01-10", 100, "paid"),
        ("o3", "A", "2026-02-10", 100, "paid"), ("o4", "C", "2026-02-10", 100, "paid"),
        ("o5", "A", "2026-03-10", 150, "paid"), ("o6", "B", "2026-03-10", 150, "paid"),
        ("o7", "D", "2026-03-10", 100, "paid"),
        ("g1", None, "2026-03-11", 500, "paid"), ("g2", None, "2026-03-12", 500, "paid"),
    ])
    monthly = acquisition.monthly_new_vs_returning(order_metrics.purchase_orders(lines, AS_OF),
                                                   pd.Period("2026-03", "M"), 3).set_index("month")
    assert monthly["returning_revenue_share"].tolist() == [0.0, 0.5, 0.75]
    assert monthly.loc[pd.Period("2026-03", "M"), "revenue"] == 1400  # revenue still includes guests
