"""Issue 9: one customer truth. Each finding reproduced on a small hand-worked example."""
import pandas as pd

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


def test_repurchase_reads_the_customer_history_and_gets_the_same_answers(march_lines, march):
    """The report passes the one customer history instead of orders; both give the same repeat rates and curve."""
    from crm_report.metrics import customers, repurchase
    orders = order_metrics.purchase_orders(march_lines, march.end_time)
    history = customers.customer_history(orders, march.end_time)
    pd.testing.assert_frame_equal(repurchase.repeat_rates(history, march.end_time, (30, 60, 90)),
                                  repurchase.repeat_rates(orders, march.end_time, (30, 60, 90)))
    months = pd.period_range("2025-12", "2026-03", freq="M")
    pd.testing.assert_frame_equal(repurchase.second_purchase_curve(history, march.end_time, months, min_at_risk=1),
                                  repurchase.second_purchase_curve(orders, march.end_time, months, min_at_risk=1))


def test_customer_history_by_hand(march_lines, march):
    """The one customer history on the shared March example (see conftest.march_lines)."""
    from crm_report.metrics import customers
    history = customers.customer_history(order_metrics.purchase_orders(march_lines, march.end_time),
                                         march.end_time)
    assert list(history.columns) == list(customers.HISTORY_COLUMNS)
    assert history.index.tolist() == list("ABCDEH")  # F cancelled, G after March, M never bought
    day = pd.Timestamp
    assert history.loc["A", ["first_purchase", "second_purchase", "last_purchase"]].tolist() == [
        day("2025-12-10"), day("2026-01-15"), day("2026-03-05")]
    assert pd.isna(history.loc["C", "second_purchase"])  # two orders on one day: one purchase day
    assert history["purchase_days"].to_dict() == {"A": 3, "B": 2, "C": 1, "D": 1, "E": 2, "H": 1}
    assert history["orders"].to_dict() == {"A": 3, "B": 2, "C": 2, "D": 1, "E": 2, "H": 1}
    assert history.loc["C", "first_day_revenue"] == 100  # 80 + 20 the same day
    # 12 months ending 2026-03-31 start after 2025-03-31: E's 2025-03-15 order (120) is outside
    assert history.loc["E", ["revenue", "revenue_12m"]].tolist() == [180, 60]
    agreement = customers.reconcile_segments(history)
    assert agreement["recent_customers"] == agreement["recent_within_cycle"] == 6
    assert agreement["lapsed_in_recent_segments"] == 0
