"""Lifetime-value models against the published CDNOW results (shared/data/cdnow/REFERENCE.md)."""
import os

import numpy as np
import pandas as pd
import pytest

from crm_report.metrics import clv
from crm_report.metrics.orders import purchase_orders
from tests.conftest import SHARED_DATA, make_lines

CDNOW = SHARED_DATA / "cdnow"
# Outside CI a checkout without shared/ beside it skips these; in CI (CI=true) a missing data set fails them.
needs_cdnow = pytest.mark.skipif(not CDNOW.is_dir() and os.environ.get("CI") != "true",
                                 reason="shared/data/cdnow is not beside the project")
PUBLISHED_BGNBD = clv.BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=float("nan"), customers=0)
PUBLISHED_GG = clv.GammaGamma(p=6.25, q=3.74, gamma=15.44, log_likelihood=float("nan"), customers=0)


@pytest.fixture(scope="module")
def summary():
    return pd.read_csv(CDNOW / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def with_spend():
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv").rename(
        columns={"x": "frequency", "t_x": "recency", "zbar": "monetary"})


@pytest.fixture(scope="module")
def bgnbd(summary):
    return clv.fit_bgnbd(summary)


@needs_cdnow
def test_bgnbd_matches_fader_hardie_lee_2005(bgnbd):
    fitted = (bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b)
    assert fitted == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=0.01)
    assert bgnbd.log_likelihood == pytest.approx(-9582.43, abs=0.05)


@needs_cdnow
def test_bgnbd_log_likelihood_at_published_parameters(summary):
    ll = clv.bgnbd_log_likelihood((0.243, 4.414, 0.793, 2.426), summary["frequency"].to_numpy(),
                                  summary["recency"].to_numpy(), summary["T"].to_numpy()).sum()
    assert ll == pytest.approx(-9582.4, abs=0.05)


@needs_cdnow
def test_bgnbd_expectations_match_hardie_and_lifetimes(bgnbd):
    # Conditional expectation for customer 1 (x=2, t_x=30.43, T=38.86) over 39 weeks: 1.226 (Hardie's sheet).
    assert clv.expected_purchases(PUBLISHED_BGNBD, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=0.001)
    assert clv.expected_purchases(bgnbd, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=0.001)
    # Unconditional E[X(t)] at the MLE (lifetimes asserts these to 3 decimals).
    t = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
    np.testing.assert_allclose(clv.expected_purchases_new(bgnbd, t),
                               [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576], atol=1e-3)
    assert float(clv.p_alive(PUBLISHED_BGNBD, 2, 30.43, 38.86)) == pytest.approx(0.7266, abs=1e-4)


@needs_cdnow
def test_gamma_gamma_matches_fader_hardie_2013(with_spend):
    model = clv.fit_gamma_gamma(with_spend)
    assert (model.p, model.q, model.gamma) == pytest.approx((6.25, 3.74, 15.44), abs=0.015)
    assert model.customers == 946
    assert model.log_likelihood == pytest.approx(-4055.92, abs=0.01)


@needs_cdnow
def test_gamma_gamma_conditional_spend_matches_hardie_spreadsheet(with_spend):
    head = with_spend.head(10)
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]  # lifetimes, atol 0.1
    np.testing.assert_allclose(clv.expected_spend(PUBLISHED_GG, head["frequency"], head["monetary"]), expected,
                               atol=0.1)


@needs_cdnow
def test_rfm_summary_rebuilds_the_published_cdnow_summary(summary, with_spend):
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "dollars"])
    lines = pd.DataFrame({"order_id": raw.index.astype(str), "customer_id": raw["customer_id"].astype(str),
                          "order_date": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
                          "amount": raw["dollars"].astype(float), "status": "paid"})
    end = pd.Timestamp("1997-09-30")
    ours = clv.rfm_summary(purchase_orders(lines, end + pd.Timedelta(hours=23)), end)
    published = with_spend.assign(customer_id=with_spend["ID"].astype(str)).set_index("customer_id")
    ours = ours.reindex(published.index)
    assert (ours["frequency"] == published["frequency"]).all()
    np.testing.assert_allclose(ours["recency"] / 7, published["recency"], atol=0.005)
    np.testing.assert_allclose(ours["T"] / 7, published["T"], atol=0.005)
    np.testing.assert_allclose(ours["monetary"], published["monetary"], atol=0.005)


def test_rfm_summary_by_hand():
    # A: days 1, 5 (two orders: 10 + 20), 11 → x = 2, t_x = 10, T = 30 − 1 = 29, z̄ = (30 + 40) / 2; first 5
    # B: one purchase on day 21 → x = 0, t_x = 0, T = 9, z̄ = 0
    lines = make_lines([("a1", "A", "2026-03-01", 5, "paid"), ("a2", "A", "2026-03-05", 10, "paid"),
                        ("a3", "A", "2026-03-05", 20, "paid"), ("a4", "A", "2026-03-11", 40, "paid"),
                        ("b1", "B", "2026-03-21", 7, "paid")])
    as_of = pd.Timestamp("2026-03-30")
    summary = clv.rfm_summary(purchase_orders(lines, as_of + pd.Timedelta(hours=23)), as_of)
    assert summary.loc["A"].tolist() == [2, 10.0, 29.0, 35.0, 5.0]
    assert summary.loc["B"].tolist() == [0, 0.0, 9.0, 0.0, 7.0]


@needs_cdnow
def test_predicted_clv_is_sane(summary, with_spend, bgnbd):
    spend = clv.fit_gamma_gamma(with_spend)
    predicted = clv.predict_clv(with_spend, bgnbd, spend, months=12, monthly_discount=0.01, days_per_unit=7)
    assert predicted["p_alive"].between(0, 1).all()
    assert (predicted.loc[with_spend["frequency"].eq(0).to_numpy(), "p_alive"] == 1).all()
    assert (predicted["clv"] >= 0).all()
    # 12 months ≈ 52.18 weeks: the sum of monthly increments equals the cumulative expectation
    x, t_x, T = (with_spend[c].to_numpy() for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(predicted["expected_purchases"],
                               clv.expected_purchases(bgnbd, 12 * clv.DAYS_PER_MONTH / 7, x, t_x, T))
    undiscounted = clv.predict_clv(with_spend, bgnbd, spend, monthly_discount=0.0, days_per_unit=7)
    np.testing.assert_allclose(undiscounted["clv"], undiscounted["expected_purchases"] * undiscounted["expected_spend"])


def test_customer_value_falls_back_with_a_reason_when_history_is_too_short():
    lines = make_lines([(f"o{i}", f"c{i}", "2026-03-01", 100, "paid") for i in range(30)]
                       + [("r1", "c1", "2026-03-10", 50, "paid")])  # one repeat customer only
    as_of = pd.Timestamp("2026-03-31 23:59")
    value = clv.customer_value(purchase_orders(lines, as_of), as_of)
    assert value.problem == "too_few_repeaters" and value.repeat_customers == 1
    assert value.table["clv"].isna().all() and (value.table["prediction"] == "too_few_repeaters").all()
    assert value.table.at["c1", "historic_revenue"] == 150  # historic value is always there


def test_value_by_group_and_at_stake_by_hand():
    table = pd.DataFrame({"historic_revenue": [100.0, 300.0, 50.0], "clv": [10.0, 30.0, 60.0],
                          "p_alive": [0.9, 0.4, 0.2]}, index=["a", "b", "c"])
    groups = pd.Series({"a": "loyal", "b": "loyal", "c": "dormant"})
    summary = clv.value_by_group(table, groups, order=("loyal", "dormant")).set_index("group")
    assert summary.loc["loyal", ["customers", "historic_mean", "clv_total", "p_alive_mean"]].tolist() == [
        2, 200.0, 40.0, pytest.approx(0.65)]
    assert summary["clv_share"].tolist() == [0.4, 0.6]
    assert clv.value_at_stake(table) == {"threshold": 0.5, "customers": 2, "historic_revenue": 350.0,
                                         "share_of_customers": pytest.approx(2 / 3)}


def test_seed_formulas_by_hand():
    # The year before 2026: P, Q, R, S bought. In 2026: P twice (100, 300), Q once (200), new T once (400).
    # AOV 1000/4 = 250; frequency 4/3; ARPU 1000/3; churn: R, S of 4 = 0.5 → lifespan 2 years.
    # CLV = 250 × 4/3 × 2 = 666.67; net of CAC 200 = 466.67; ARPU / churn = 666.67.
    lines = make_lines([
        ("a1", "P", "2025-02-01", 90, "paid"), ("a2", "Q", "2025-05-01", 80, "paid"),
        ("a3", "R", "2025-08-01", 70, "paid"), ("a4", "S", "2025-12-31", 60, "paid"),
        ("b1", "P", "2026-01-10", 100, "paid"), ("b2", "P", "2026-06-10", 300, "paid"),
        ("b3", "Q", "2026-03-03", 200, "paid"), ("b4", "T", "2026-12-31", 400, "paid"),
        ("b5", "R", "2026-07-07", 999, "cancelled"),
    ])
    as_of = pd.Timestamp("2026-12-31 23:59:59")
    seed = clv.seed_clv(purchase_orders(lines, as_of), as_of, acquisition_cost=200)
    assert (seed["customers"], seed["orders"], seed["base_customers"], seed["churned_customers"]) == (3, 4, 4, 2)
    assert seed["aov"] == 250 and seed["frequency"] == pytest.approx(4 / 3)
    assert seed["churn_rate"] == 0.5 and seed["lifespan_years"] == 2
    assert seed["clv"] == pytest.approx(2000 / 3) and seed["clv_net"] == pytest.approx(2000 / 3 - 200)
    assert seed["ltv_arpu"] == pytest.approx(2000 / 3)


def test_seed_formulas_say_nothing_without_a_year_before():
    lines = make_lines([("b1", "P", "2026-01-10", 100, "paid"), ("b2", "P", "2026-06-10", 300, "paid")])
    as_of = pd.Timestamp("2026-12-31 23:59:59")
    seed = clv.seed_clv(purchase_orders(lines, as_of), as_of)
    assert seed["aov"] == 200 and seed["churn_rate"] is None and seed["clv"] is None and seed["clv_net"] is None


def test_seed_formulas_use_calendar_years_across_a_leap_day():
    # February 2025's last year is March 2024 – February 2025: 29 February 2024 belongs to the year before.
    lines = make_lines([("a", "P", "2024-02-29", 100, "paid"), ("b", "Q", "2024-06-01", 50, "paid"),
                        ("c", "Q", "2025-02-10", 70, "paid")])
    as_of = pd.Period("2025-02", freq="M").end_time
    seed = clv.seed_clv(purchase_orders(lines, as_of), as_of)
    assert (seed["orders"], seed["customers"], seed["base_customers"], seed["churned_customers"]) == (2, 1, 1, 1)
