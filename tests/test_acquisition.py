"""New vs returning customers on the hand-computed March 2026 example (see conftest.march_lines)."""
import pandas as pd
import pytest

from crm_report.metrics import acquisition
from crm_report.metrics.acquisition import (
    first_order_products,
    first_orders,
    kpi_values,
    month_kpis,
    monthly_new_vs_returning,
)
from crm_report.metrics.orders import purchase_orders


@pytest.fixture
def orders(march_lines, march):
    return purchase_orders(march_lines, march.end_time)


def test_purchase_orders_excludes_cancelled_refunded_and_later_orders(orders):
    assert set(orders["customer_id"]) == {"A", "B", "C", "D", "E", "H"}  # F cancelled, G after March
    assert "o13" not in set(orders["order_id"])  # H's refunded February order
    assert orders.set_index("order_id").at["o3", "amount"] == 300  # two lines summed


def test_march_by_hand(orders, march):
    row = monthly_new_vs_returning(orders, march, 13).set_index("month").loc[march]
    # New in March: C (two same-day orders, 80 + 20) and H (110; the refunded February order does not count).
    assert (row.new_customers, row.new_orders, row.new_revenue) == (2, 3, 210)
    # Returning: A (300), B (150), E (60, first bought a year earlier).
    assert (row.returning_customers, row.returning_orders, row.returning_revenue) == (3, 3, 510)
    assert row.active_customers == 5 and row.orders == 6 and row.revenue == 720
    assert row.aov == 120 and row.new_aov == 70 and row.returning_aov == 170
    assert row.returning_revenue_share == pytest.approx(510 / 720)
    assert row.new_customer_share == pytest.approx(2 / 5)


def test_months_without_orders_are_zero_rows(orders, march):
    table = monthly_new_vs_returning(orders, march, 13).set_index("month")
    november = table.loc[pd.Period("2025-11", "M")]
    assert november.active_customers == 0 and november.revenue == 0 and pd.isna(november.aov)
    assert len(table) == 13


def test_no_look_ahead_past_the_report_month(march_lines):
    """January's report must not call B 'returning' because of B's March order."""
    january = pd.Period("2026-01", "M")
    orders = purchase_orders(march_lines, january.end_time)
    row = monthly_new_vs_returning(orders, january, 13).set_index("month").loc[january]
    assert (row.new_customers, row.returning_customers) == (1, 1)  # B new, A returning


def test_kpis_against_previous_month_and_last_year(orders, march):
    kpis = month_kpis(monthly_new_vs_returning(orders, march, 13), march).set_index("kpi")
    assert kpis.at["revenue", "vs_previous"] == pytest.approx((720 - 500) / 500)
    assert kpis.at["revenue", "vs_last_year"] == pytest.approx((720 - 120) / 120)  # E's March 2025 order
    assert kpis.at["active_customers", "previous"] == 1
    assert pd.isna(kpis.at["returning_customers", "vs_previous"])  # base 0: no relative change
    assert kpis.at["returning_revenue_share", "change_kind"] == "points"
    assert kpis.at["returning_revenue_share", "vs_previous"] == pytest.approx(510 / 720 - 0)


def test_first_order_products(march_lines, orders, march):
    firsts = first_orders(orders, march, window_months=12)
    # First orders Apr 2025–Mar 2026: A o1 維他命, B o4 益生菌, C o6 葉黃素, D o8 膠原蛋白, H o14 葉黃素.
    assert sorted(firsts) == ["o1", "o14", "o4", "o6", "o8"]
    table = first_order_products(march_lines, firsts, top=10)
    theirs = march_lines.loc[march_lines["order_id"].isin(firsts)]  # what the notebook reads (`Run.lines_of`)
    pd.testing.assert_frame_equal(first_order_products(theirs, firsts, top=10), table)
    top = table.iloc[0]
    assert (top.product_name, top.first_orders, top.revenue) == ("葉黃素", 2, 190)
    assert top.share == pytest.approx(2 / 5)
    assert set(table["product_name"]) == {"葉黃素", "益生菌", "維他命", "膠原蛋白"}
    assert "魚油" not in set(table["product_name"])  # only in C's second order and A's third


def test_kpi_values_keep_counts_whole(orders, march):
    kpis = month_kpis(monthly_new_vs_returning(orders, march, 13), march)
    result = kpi_values(kpis)
    assert result["new_customers"] == 2 and isinstance(result["new_customers"], int)
    assert result["revenue"] == 720.0 and isinstance(result["revenue"], float)


def test_new_customer_counts_are_reliable_once_most_returning_customers_would_show():
    orders = pd.DataFrame({"customer_id": ["a"], "order_date": pd.to_datetime(["2024-01-15 10:00"])})
    intervals = pd.Series([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    # 90th percentile (linear): 90 + 0.1 × 10 = 91 days after 2024-01-15 is 2024-04-15: the first whole month
    # after it is May
    assert acquisition.reliable_from(orders, intervals) == pd.Period("2024-05", freq="M")
    starting_on_the_first = orders.assign(order_date=pd.to_datetime(["2024-01-31"]))  # + 91 days = 2024-05-01
    assert acquisition.reliable_from(starting_on_the_first, intervals) == pd.Period("2024-05", freq="M")
    assert acquisition.reliable_from(orders, pd.Series([], dtype="int64")) == pd.Period("2024-02", freq="M")
    assert acquisition.reliable_from(orders.iloc[:0], intervals) is None
    monthly = pd.DataFrame({"month": ["2024-04", "2024-05"], "new_customers": [9, 3]})
    assert acquisition.mark_censored(monthly, pd.Period("2024-05", freq="M"))["new_censored"].tolist() == [True, False]
