"""Guest orders (no customer id, e-mail or mobile) count in orders and revenue, never in customer metrics;
refund lines net against their order.

Every metric is run on the hand-computed March example with and without three guest orders added; the
customer results must be identical, and only order and revenue totals may change (by the guests' amounts).
"""
import importlib

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from crm_report.metrics import acquisition, clv, repurchase, rfm, winback
from crm_report.metrics.orders import customer_facts, purchase_days, purchase_orders
from tests.conftest import make_lines

AS_OF = pd.Timestamp("2026-03-31 23:59:59")
GUESTS = [("g1", None, "2026-03-15", 400, "paid", "魚油"),
          ("g2", None, "2026-02-11", 250, "paid", "維他命"),
          ("g3", None, "2026-03-16", 30, "cancelled", "魚油")]


@pytest.fixture
def both(march_lines):
    with_guests = pd.concat([march_lines, make_lines(GUESTS)], ignore_index=True)
    return (march_lines, purchase_orders(march_lines, AS_OF)), (with_guests, purchase_orders(with_guests, AS_OF))


def test_purchase_orders_keep_guests_without_a_customer(both):
    (_, members), (_, everyone) = both
    assert len(everyone) == len(members) + 2  # g3 is cancelled
    guests = everyone.loc[everyone["customer_id"].isna()]
    assert guests["order_id"].tolist() == ["g2", "g1"] and guests["amount"].sum() == 650
    assert everyone["customer_id"].iloc[-2:].isna().all()  # sorted last


@pytest.mark.parametrize("name, metric", [
    ("customer_facts", lambda lines, orders: customer_facts(orders)),
    ("purchase_days", lambda lines, orders: purchase_days(orders)),
    ("repeat_rates", lambda lines, orders: repurchase.repeat_rates(orders, AS_OF, (30, 60, 90))),
    ("purchase_intervals", lambda lines, orders: repurchase.purchase_intervals(orders)),
    ("cohort_retention", lambda lines, orders: repurchase.cohort_retention(orders, pd.Period("2026-03"), 4)),
    ("rfm_segments", lambda lines, orders: rfm.segment_customers(orders, AS_OF)),
    ("first_order_products", lambda lines, orders: acquisition.first_order_products(
        lines, acquisition.first_orders(orders, pd.Period("2026-03"), window_months=12), top=8)),
    ("latest_contacts", lambda lines, orders: winback.latest_contacts(lines)),
    ("preferred_weekday", lambda lines, orders: winback.preferred_weekday(orders).to_frame()),
    ("rfm_summary", lambda lines, orders: clv.rfm_summary(orders, AS_OF)),
    ("customer_value", lambda lines, orders: clv.customer_value(orders, AS_OF).table),
])
def test_customer_metrics_ignore_guests(both, name, metric):
    (lines, orders), (lines_g, orders_g) = both
    assert_frame_equal(metric(lines_g, orders_g), metric(lines, orders), obj=name)


def test_acquisition_counts_guest_orders_and_revenue_not_customers(both):
    (_, orders), (_, orders_g) = both
    month = pd.Period("2026-03")
    plain = acquisition.monthly_new_vs_returning(orders, month, 13).set_index("month")
    guests = acquisition.monthly_new_vs_returning(orders_g, month, 13).set_index("month")
    customer_columns = [c for c in plain if (c.endswith("customers") or c.startswith(("new_", "returning_")))
                        and not c.endswith("share")]
    assert_frame_equal(guests[customer_columns], plain[customer_columns])
    assert guests.loc[month, ["guest_orders", "guest_revenue"]].tolist() == [1, 400]
    assert guests.loc[month, "orders"] == plain.loc[month, "orders"] + 1
    assert guests.loc[month, "revenue"] == plain.loc[month, "revenue"] + 400
    assert guests.loc[month, "aov"] == pytest.approx(guests.loc[month, "revenue"] / guests.loc[month, "orders"])
    # returning customers' share is of identified customers' revenue: guests never move it (issue 9)
    assert guests.loc[month, "returning_revenue_share"] == pytest.approx(plain.loc[month, "returning_revenue_share"])
    assert guests.loc[month - 1, "guest_orders"] == 1 and plain.loc[month, "guest_orders"] == 0


def test_refund_lines_net_against_their_order():
    lines = make_lines([("o1", "A", "2026-03-01", 1000, "paid"), ("o1", "A", "2026-03-10", -300, "refunded"),
                        ("o2", "B", "2026-03-02", 500, "paid"), ("o2", "B", "2026-03-12", -500, "refunded"),
                        ("o3", "C", "2026-03-03", 200, "paid"), ("o3", "C", "2026-04-02", -200, "refunded"),
                        ("o4", "D", "2026-03-04", 0, "paid")])
    orders = purchase_orders(lines, AS_OF).set_index("order_id")
    assert orders["amount"].to_dict() == {"o1": 700, "o3": 200, "o4": 0}  # o2 refunded in full: no purchase
    assert orders.at["o1", "order_date"] == pd.Timestamp("2026-03-01")  # the purchase's date, not the refund's
    # o3's refund came after the month: re-running March gives March's numbers
    assert purchase_orders(lines, pd.Timestamp("2026-04-30"))["order_id"].tolist() == ["o1", "o4"]


# The analyses of issues 3 and 4 (products, life-cycle stages, tiers, seed CLV, win-back groups) follow the
# same rule: guests change no customer result.
MAIN_METRICS = [
    ("products", "replenishment_cycles", lambda m, lines, orders: m.replenishment_cycles(lines, AS_OF, 1)),
    ("products", "baseline_repeat_rate", lambda m, lines, orders: m.baseline_repeat_rate(lines, AS_OF)),
    ("products", "first_product_repeat", lambda m, lines, orders: m.first_product_repeat(lines, AS_OF,
                                                                                          min_customers=1)),
    ("products", "next_product_affinity", lambda m, lines, orders: m.next_product_affinity(lines, AS_OF,
                                                                                           min_pairs=1)),
    ("lifecycle", "nes_stages", lambda m, lines, orders: m.nes_stages(orders, AS_OF)),
    ("tiers", "assign_tiers", lambda m, lines, orders: m.assign_tiers(orders, AS_OF, [("銀卡", 100), ("金卡", 400)])),
    ("repurchase", "intervals_by_order_number", lambda m, lines, orders: m.intervals_by_order_number(orders)),
    ("repurchase", "cohort_revenue", lambda m, lines, orders: m.cohort_revenue(orders, pd.Period("2026-03"), 4)),
    ("clv", "seed_clv", lambda m, lines, orders: m.seed_clv(orders, AS_OF)),
    ("products", "customer_next_steps", lambda m, lines, orders: m.customer_next_steps(
        lines, AS_OF, m.replenishment_cycles(lines, AS_OF, 1), m.next_product_affinity(lines, AS_OF, min_pairs=1))),
    ("winback", "target_groups", lambda m, lines, orders: m.target_groups(
        importlib.import_module("crm_report.metrics.lifecycle").nes_stages(orders, AS_OF),
        rfm.segment_customers(orders, AS_OF).set_index("customer_id")["segment"],
        clv.customer_value(orders, AS_OF).table["p_alive"], clv.rfm_summary(orders, AS_OF)["frequency"])),
]


@pytest.mark.parametrize("module, function, metric", MAIN_METRICS, ids=[f"{m}.{f}" for m, f, _ in MAIN_METRICS])
def test_issue3_metrics_ignore_guests(both, module, function, metric):
    found = pytest.importorskip(f"crm_report.metrics.{module}")
    if not hasattr(found, function):
        pytest.skip(f"crm_report.metrics.{module}.{function} is not on this branch yet (it comes with main)")
    (lines, orders), (lines_g, orders_g) = both
    with_guests, without = metric(found, lines_g, orders_g), metric(found, lines, orders)
    if isinstance(without, pd.DataFrame):
        assert_frame_equal(with_guests, without, obj=function)
    elif isinstance(without, pd.Series):
        assert_series_equal(with_guests, without, obj=function)
    else:
        assert with_guests == without, function


def test_purchase_orders_take_any_index(march_lines):
    """A pure function of the rows: a frame built by concatenation (repeated index labels) gives the same."""
    repeated = pd.concat([march_lines.iloc[:5], march_lines.iloc[5:]]).set_axis([0] * len(march_lines))
    assert_frame_equal(purchase_orders(repeated, AS_OF), purchase_orders(march_lines, AS_OF))
