"""Invariants that must hold for any order history (hypothesis generates the histories)."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crm_report.metrics import acquisition, lifecycle, repurchase, rfm, winback
from crm_report.metrics.orders import purchase_orders

MONTH = pd.Period("2026-03", "M")
START = pd.Timestamp("2024-10-01")


@st.composite
def order_lines(draw):
    n = draw(st.integers(min_value=1, max_value=60))
    customers = draw(st.lists(st.integers(0, 14), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 600), min_size=n, max_size=n))
    amounts = draw(st.lists(st.floats(1, 5000, allow_nan=False), min_size=n, max_size=n))
    statuses = draw(st.lists(st.sampled_from(["paid", "paid", "paid", "cancelled", "refunded"]),
                             min_size=n, max_size=n))
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)],
        "customer_id": [f"c{c:02d}" for c in customers],
        "order_date": [START + pd.Timedelta(days=d, hours=10) for d in days],
        "amount": amounts, "status": statuses,
    })


settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


@given(order_lines())
def test_new_plus_returning_is_active_and_shares_are_shares(lines):
    orders = purchase_orders(lines, MONTH.end_time)
    table = acquisition.monthly_new_vs_returning(orders, MONTH, 18)
    assert (table["new_customers"] + table["returning_customers"] == table["active_customers"]).all()
    assert table["revenue"].sum() == pytest.approx(orders.loc[orders["order_month"] >= MONTH - 17, "amount"].sum())
    shares = table["returning_revenue_share"].dropna()
    assert ((shares >= 0) & (shares <= 1)).all()
    # every customer is new in exactly one month, at most
    assert table["new_customers"].sum() <= orders["customer_id"].nunique()


@given(order_lines())
def test_rfm_scores_segments_and_shares(lines):
    orders = purchase_orders(lines, MONTH.end_time)
    if orders.empty:
        return
    scored = rfm.assign_segments(rfm.score_rfm(rfm.rfm_table(orders, MONTH.end_time)))
    for column in ("r_score", "f_score", "m_score"):
        assert scored[column].between(1, 5).all()
    assert set(scored["segment"]) <= set(rfm.SEGMENTS)
    summary = rfm.summarise_groups(scored, "segment", order=rfm.SEGMENTS)
    assert summary["customers"].sum() == orders["customer_id"].nunique()
    assert summary["customer_share"].sum() == pytest.approx(1)
    assert summary["revenue_share"].sum() == pytest.approx(1)


@given(order_lines())
def test_repeat_rates_and_cohorts_are_proportions(lines):
    orders = purchase_orders(lines, MONTH.end_time)
    rates = repurchase.repeat_rates(orders, MONTH.end_time, (30, 60, 90, 180, 365))
    assert rates["eligible_customers"].is_monotonic_decreasing
    assert rates["rate"].dropna().between(0, 1).all()
    cohorts = repurchase.cohort_retention(orders, MONTH, 12)
    values = cohorts.filter(regex=r"^m\d+$").to_numpy(dtype=float)
    assert np.all((values[np.isfinite(values)] >= 0) & (values[np.isfinite(values)] <= 1))
    assert (cohorts.loc[cohorts["customers"] > 0, "m0"] == 1).all()


@given(order_lines())
def test_winback_targets_are_the_lapsed_customers_once_each(lines):
    orders = purchase_orders(lines, MONTH.end_time)
    assume(len(repurchase.purchase_intervals(orders)) > 0)  # without any repeat purchase there is no cycle
    stages = lifecycle.nes_stages(orders, MONTH.end_time)
    segments = rfm.segment_customers(orders, MONTH.end_time).set_index("customer_id")["segment"]
    groups = winback.target_groups(stages, segments, pd.Series(dtype=float), pd.Series(dtype=float))
    lapsed = stages.set_index("customer_id")["stage"].isin(["S1", "S2", "S3"])
    assert groups.notna().equals(lapsed)
    steps = pd.DataFrame({"customer_id": stages["customer_id"], "reminder_date": pd.NaT,
                          "recommended_product_name": None, "recommendation_basis": "none"})
    candidates = winback.winback_candidates(orders, stages, groups, steps, MONTH.end_time)
    assert candidates["customer_id"].is_unique and len(candidates) == lapsed.sum()
    assert (candidates["overdue_ratio"] > 1).all()
    assert (candidates["contact_date"] > MONTH.end_time).all()
    assert (candidates["contact_date"] <= MONTH.end_time + pd.Timedelta(days=7)).all()  # all overdue: next week
