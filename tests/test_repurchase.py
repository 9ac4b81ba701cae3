"""Repeat rates, intervals and cohorts on the hand-computed example (see conftest.march_lines)."""
import numpy as np
import pandas as pd
import pytest

from crm_report.metrics.orders import purchase_orders
from crm_report.metrics.repurchase import (
    cohort_retention,
    cohort_revenue,
    comparison_cohorts,
    curve_marks,
    interval_summary,
    intervals_by_order_number,
    purchase_intervals,
    repeat_rates,
    second_purchase_curve,
)


@pytest.fixture
def orders(march_lines, march):
    return purchase_orders(march_lines, march.end_time)


def test_repeat_rates_count_only_customers_observed_long_enough(orders, march):
    # Days from first purchase to 2026-03-31: A 111, B 70, C 29, D 49, E 381, H 21.
    # Days to second purchase day: A 36, B 59, E 375; C's two orders are on one day (no repeat).
    rates = repeat_rates(orders, march.end_time, (30, 60, 90)).set_index("window_days")
    assert rates.loc[30, ["eligible_customers", "repeat_customers"]].tolist() == [4, 0]  # A B D E
    assert rates.loc[60, ["eligible_customers", "repeat_customers"]].tolist() == [3, 2]  # A B E; A, B
    assert rates.loc[90, ["eligible_customers", "repeat_customers"]].tolist() == [2, 1]  # A E; A
    assert rates.loc[60, "rate"] == pytest.approx(2 / 3)


def test_repeat_rate_is_nan_when_nobody_is_eligible(orders, march):
    assert np.isnan(repeat_rates(orders, march.end_time, (400,)).at[0, "rate"])


def test_intervals_between_purchase_days(orders):
    intervals = purchase_intervals(orders)
    assert sorted(intervals["interval_days"]) == [36, 49, 59, 375]  # A: 36, 49; B: 59; E: 375
    summary = interval_summary(intervals)
    assert summary["median"] == 54  # (49 + 59) / 2
    assert summary["q25"] == pytest.approx(45.75) and summary["q75"] == pytest.approx(138)


def test_cohort_retention_by_hand(orders, march):
    cohorts = cohort_retention(orders, march, 4).set_index("cohort")
    expected = pd.DataFrame(
        {"customers": [1, 1, 1, 2],
         "m0": [1.0, 1.0, 1.0, 1.0],
         "m1": [1.0, 0.0, 0.0, np.nan],  # A bought in January; B, D not in their second month
         "m2": [0.0, 1.0, np.nan, np.nan],  # B bought in March
         "m3": [1.0, np.nan, np.nan, np.nan]},  # A bought in March
        index=pd.PeriodIndex(["2025-12", "2026-01", "2026-02", "2026-03"], freq="M", name="cohort"))
    pd.testing.assert_frame_equal(cohorts, expected)


def test_cohort_revenue_is_cumulative_revenue_per_acquired_customer(orders, march):
    revenue = cohort_revenue(orders, march, 4).set_index("cohort")
    expected = pd.DataFrame(
        {"customers": [1, 1, 1, 2],
         "m0": [100.0, 50.0, 500.0, 105.0],  # March: C 80 + 20, H 110 → 210 / 2
         "m1": [300.0, 50.0, 500.0, np.nan],  # A 100 + 200 in January
         "m2": [300.0, 200.0, np.nan, np.nan],  # B 50 + 150 in March
         "m3": [600.0, np.nan, np.nan, np.nan]},  # A + 300 in March
        index=pd.PeriodIndex(["2025-12", "2026-01", "2026-02", "2026-03"], freq="M", name="cohort"))
    pd.testing.assert_frame_equal(revenue, expected)


def test_intervals_by_order_number(orders):
    steps = intervals_by_order_number(orders).set_index("from_visit")
    # 1st→2nd: A 36, B 59, E 375; 2nd→3rd: A 49; nobody reached a 4th purchase day.
    assert steps["count"].tolist() == [3, 1, 0]
    assert steps.loc[1, ["median", "q25", "q75"]].tolist() == [59, 47.5, 217]
    assert steps.loc[1, "mean"] == pytest.approx(470 / 3)
    assert steps.loc[2, ["median", "q25", "q75"]].tolist() == [49, 49, 49]
    assert steps.loc[3, ["median", "q25", "q75", "mean"]].isna().all()


def test_second_purchase_curve_counts_customers_still_under_observation(orders, march):
    # First purchases Dec–Mar: A (second after 36 days), B (59), D (none, seen 49 days), C (none, 29), H (none, 21).
    curve = second_purchase_curve(orders, march.end_time, pd.period_range("2025-12", "2026-03", freq="M"),
                                  max_days=60, min_at_risk=2).set_index("day")
    assert curve.loc[[0, 21, 22, 30, 36, 37, 50], "at_risk"].tolist() == [5, 5, 4, 3, 3, 2, 1]
    assert curve.loc[0, "share"] == 0 and curve.loc[35, "share"] == 0
    assert curve.loc[36, "share"] == pytest.approx(1 / 3)  # 1 of the 3 still observed on day 36
    assert curve.loc[49, "share"] == pytest.approx(1 / 3)
    assert curve.loc[50:, "share"].isna().all()  # one customer under observation: too few to say
    assert curve["second_purchases"].sum() == 2
    marks = curve_marks({"latest": curve.reset_index()}, (36, 60, 400))
    assert marks["day"].tolist() == [36, 60, 400]
    assert marks["latest"].iloc[0] == pytest.approx(1 / 3) and marks["latest"].iloc[1:].isna().all()


def test_second_purchase_curve_without_censoring_is_the_plain_share(orders, march):
    # E: first 2025-03-15, second 375 days later; the only March-2025 customer, observed 381 days.
    curve = second_purchase_curve(orders, march.end_time, pd.PeriodIndex(["2025-03"], freq="M"),
                                  max_days=380, min_at_risk=1)
    assert curve.loc[374, "share"] == 0 and curve.loc[375, "share"] == 1


def test_comparison_cohorts_are_the_same_months_a_year_apart(march):
    windows = comparison_cohorts(march, 3)
    assert [str(p) for p in windows["latest"]] == ["2026-01", "2026-02", "2026-03"]
    assert [str(p) for p in windows["year_ago"]] == ["2025-01", "2025-02", "2025-03"]
