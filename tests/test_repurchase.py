"""Repeat rates, intervals and cohorts on the hand-computed example (see conftest.march_lines)."""
import numpy as np
import pandas as pd
import pytest

from crm_report.metrics.orders import purchase_orders
from crm_report.metrics.repurchase import cohort_retention, interval_summary, purchase_intervals, repeat_rates


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
