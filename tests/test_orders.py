"""Purchase orders as of an earlier date, taken from the later orders and only the lines of the orders that
existed then and changed since."""
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_report.metrics.orders import purchase_orders, purchase_orders_before
from tests.conftest import make_lines, straddling

FEBRUARY, MARCH = pd.Period("2026-02", "M").end_time, pd.Period("2026-03", "M").end_time


def test_orders_before_a_cutoff_by_hand():
    lines = make_lines([
        ("x", "A", "2026-02-10", 100, "paid"), ("x", "A", "2026-03-05", -100, "refunded"),  # refunded in March
        ("y", "B", "2026-02-20", 50, "paid"), ("y", "B", "2026-03-02", 30, "paid"),  # a line added in March
        ("z", "C", "2026-03-03", 70, "paid"),  # March only
        ("w", "D", "2026-01-05", 200, "paid"),  # untouched since
        ("c", "D", "2026-02-05", 90, "cancelled"),  # never a purchase
        ("g", None, "2026-02-01", 20, "paid"), ("g", None, "2026-03-01", -5, "refunded"),  # a guest order
    ])
    now = purchase_orders(lines, MARCH)
    assert set(now["order_id"]) == {"y", "z", "w", "g"}  # x refunded in full by the end of March
    before = purchase_orders_before(now, lines, FEBRUARY)
    # As of February's end: x was a purchase (its refund came later), y was 50, z did not exist, g was 20.
    assert before[["order_id", "amount"]].values.tolist() == [["x", 100.0], ["y", 50.0], ["w", 200.0], ["g", 20.0]]
    pd.testing.assert_frame_equal(before, purchase_orders(lines, FEBRUARY))
    # Only the lines of orders with lines on both sides of the cutoff (x, y, g) are needed: z did not exist.
    assert straddling(lines, FEBRUARY)["order_id"].unique().tolist() == ["x", "y", "g"]
    pd.testing.assert_frame_equal(purchase_orders_before(now, straddling(lines, FEBRUARY), FEBRUARY), before)


@st.composite
def histories(draw):
    n = draw(st.integers(1, 40))
    order = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    customer = [None if o % 7 == 6 else f"C{o % 4}" for o in order]  # some guest orders; one customer per order
    day = draw(st.lists(st.integers(0, 120), min_size=n, max_size=n))
    amount = draw(st.lists(st.sampled_from([-80, -30, 0, 30, 50, 120]), min_size=n, max_size=n))
    status = draw(st.lists(st.sampled_from(["paid", "paid", "cancelled", "refunded"]), min_size=n, max_size=n))
    return make_lines([(f"o{o:02d}", c, str(pd.Timestamp("2026-01-01") + pd.Timedelta(days=d, hours=d % 24)),
                        a, s) for o, c, d, a, s in zip(order, customer, day, amount, status, strict=True)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(0, 120))
def test_orders_before_any_cutoff_equal_the_orders_computed_from_every_line(lines, days):
    cutoff = pd.Timestamp("2026-01-01") + pd.Timedelta(days=days) - pd.Timedelta(1)
    later = purchase_orders(lines, MARCH + pd.Timedelta(days=30))
    pd.testing.assert_frame_equal(purchase_orders_before(later, lines, cutoff), purchase_orders(lines, cutoff))
    pd.testing.assert_frame_equal(purchase_orders_before(later, straddling(lines, cutoff), cutoff),
                                  purchase_orders(lines, cutoff))
    assert np.isfinite(later["amount"]).all()
