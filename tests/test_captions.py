"""Chart captions (crm_report.metrics.captions): each chart's conclusion, against hand-made numbers."""
import numpy as np
import pandas as pd
import pytest

from crm_report import formatting, i18n
from crm_report.metrics import captions
from crm_report.render import caption


def _monthly(new, censored=None, partial=None, start="2025-01"):
    months = pd.period_range(start, periods=len(new), freq="M")
    return pd.DataFrame({"month": months.astype(str), "new_customers": new,
                         "new_revenue": [100.0] * len(new), "returning_revenue": [300.0] * len(new),
                         "new_censored": censored or [False] * len(new), "partial": partial or [False] * len(new)})


def test_new_customers_compare_the_last_three_months_with_a_year_earlier_beyond_chance():
    # 15 months: the last three (2026-01..03) against 2025-01..03. 100+100+100 = 300 against 3 × 80 = 240:
    # 60 > 2 √540 = 46.5 → more, by 60 / 240 = 25%.
    found = captions.new_customers(_monthly([80, 80, 80] + [50] * 9 + [100, 100, 100]))
    assert found["key"] == "more"
    assert found["params"]["n"] == ["number", 300.0] and found["params"]["before"] == ["number", 240.0]
    assert found["params"]["change"] == ["pct", pytest.approx(0.25)]
    assert found["params"]["from_month"] == ["month", "2026-01"]
    # 3 × 90 = 270 against 300: 30 < 2 √570 = 47.7 → within chance
    assert captions.new_customers(_monthly([100] * 3 + [50] * 9 + [90] * 3))["key"] == "similar"
    assert captions.new_customers(_monthly([100] * 3 + [50] * 9 + [60] * 3))["key"] == "fewer"


def test_new_customers_make_no_comparison_with_censored_or_missing_months_and_skip_a_partial_month():
    censored = [True, False, False] + [False] * 12
    assert captions.new_customers(_monthly([80] * 12 + [100] * 3, censored=censored))["key"] == "recent"
    assert captions.new_customers(_monthly([100] * 6))["key"] == "recent"  # no year earlier at all
    # a partial last month: the three whole months before it (2026-01..03 of 16) are compared
    found = captions.new_customers(_monthly([80] * 3 + [50] * 9 + [100] * 3 + [5], partial=[False] * 15 + [True]))
    assert found["key"] == "more" and found["params"]["to_month"] == ["month", "2026-03"]


def test_revenue_mix_by_the_returning_customers_share():
    monthly = _monthly([10, 10])  # 600 returning of 800
    assert captions.revenue_mix(monthly)["key"] == "returning_led"
    assert captions.revenue_mix(monthly)["params"]["share"] == ["pct", 0.75]
    assert captions.revenue_mix(monthly.assign(new_revenue=300.0))["key"] == "balanced"  # 50%
    assert captions.revenue_mix(monthly.assign(new_revenue=500.0))["key"] == "new_led"  # 37.5%
    assert captions.revenue_mix(monthly.assign(new_revenue=0.0, returning_revenue=0.0)) is None


def test_repeat_windows_say_whether_most_repeaters_come_back_early():
    rates = pd.DataFrame({"window_days": [30, 90, 365], "rate": [0.1, 0.3, 0.5]})
    assert captions.repeat_windows(rates, 90)["key"] == "early"  # 0.3 ≥ 0.5 / 2
    assert captions.repeat_windows(rates.assign(rate=[0.1, 0.2, 0.5]), 90)["key"] == "late"
    assert captions.repeat_windows(rates.assign(rate=[0.1, 0.3, np.nan]), 90)["key"] == "only"  # 90 is the last known
    assert captions.repeat_windows(rates.assign(rate=0.0), 90)["key"] == "none"
    assert captions.repeat_windows(rates.assign(rate=np.nan), 90) is None


def test_cohort_retention_compares_the_latest_cohorts_month_one_with_the_earlier_ones():
    cohorts = pd.DataFrame({"cohort": [f"2026-0{i}" for i in range(1, 8)],
                            "customers": [100] * 7, "m1": [0.1, 0.1, 0.1, 0.1, 0.2, 0.2, np.nan]})
    # latest three observed: 2026-04..06 with 10 + 20 + 20 = 50 of 300; earlier 30 of 300.
    found = captions.cohort_retention(cohorts)
    p1, p0 = 50 / 300, 30 / 300
    pooled = 80 / 600
    se = np.sqrt(pooled * (1 - pooled) * (2 / 300))  # 0.0277: the difference 0.0667 is 2.4 se
    assert (p1 - p0) / se > 2 and found["key"] == "higher"
    assert found["params"]["rate"] == ["pct", pytest.approx(p1)]
    assert found["params"]["from_month"] == ["month", "2026-04"] and found["params"]["to_month"] == ["month", "2026-06"]
    assert captions.cohort_retention(cohorts.assign(customers=30))["key"] == "steady"  # same rates, fewer customers
    assert captions.cohort_retention(cohorts.iloc[:3]) is None  # nothing earlier to compare with


def test_cohort_value_is_the_oldest_cohorts_growth_over_its_first_month():
    values = pd.DataFrame({"cohort": ["2026-01", "2026-02"], "customers": [10, 10],
                           "m0": [1000.0, 900.0], "m1": [1500.0, 1200.0], "m2": [2500.0, np.nan]})
    found = captions.cohort_value(values)
    assert found["params"]["ratio"] == ["ratio", 2.5] and found["params"]["months"] == ["number", 3]
    assert captions.cohort_value(values[["cohort", "customers", "m0"]]) is None  # one month: no growth to tell


def test_cycles_name_the_fastest_and_slowest_consumables():
    table = pd.DataFrame({"product_name": ["A", "B", "C"], "p50": [60.0, 30.0, 90.0]})
    found = captions.cycles(table)
    assert found["key"] == "range" and found["params"]["fast"] == ["text", "B"] and found["params"]["slow"][1] == "C"
    assert captions.cycles(table.iloc[:1])["key"] == "one"
    assert captions.cycles(table.iloc[:0]) is None


def test_segment_gap_names_the_largest_gaps_between_revenue_and_headcount():
    table = pd.DataFrame({"segment": ["champions", "loyal", "hibernating"], "customers": [10, 30, 60],
                          "revenue": [50.0, 30.0, 20.0], "customer_share": [0.1, 0.3, 0.6],
                          "revenue_share": [0.5, 0.3, 0.2]})
    found = captions.segment_gap(table)
    assert found["key"] == "gap"
    assert found["params"]["top"] == ["segments", ["champions"]] and found["params"]["low"] == ["segments", ["hibernating"]]


def test_stages_p_alive_value_backtest_and_winback_captions():
    stages = pd.DataFrame({"stage": ["N", "E0", "S1"], "customers": [1, 1, 2], "customer_share": [0.25, 0.25, 0.5],
                           "revenue_share": [0.1, 0.6, 0.3]})
    found = captions.stages(stages)
    assert found["params"]["customers"] == ["pct", 0.5] and found["params"]["revenue"] == ["pct", pytest.approx(0.7)]
    alive = captions.p_alive(pd.Series([0.9, 0.85, 0.5, 0.1, np.nan]))
    assert alive["params"]["alive"] == ["pct", 0.5] and alive["params"]["gone"] == ["pct", 0.25]
    by_segment = pd.DataFrame({"group": ["loyal", "champions"], "customers": [5, 3], "clv_share": [0.3, 0.7]})
    assert captions.segment_value(by_segment, 12)["params"]["segment"] == ["segments", ["champions"]]
    totals = pd.DataFrame({"months_back": [6, 12], "predicted_purchases": [110.0, 130.0],
                           "actual_purchases": [100.0, 100.0], "purchases_error": [0.1, 0.3]})
    found = captions.backtest({"verdict": "over", "months_back": 12}, totals)
    assert found["key"] == "over" and found["params"]["error"] == ["pct", 0.3]
    assert captions.backtest({"verdict": "untested", "months_back": None}, totals) is None
    summary = pd.DataFrame({"group": ["cant_lose", "slipping"], "customers": [10, 20], "value_at_stake": [900.0, 100.0]})
    plan = pd.DataFrame({"group": ["slipping", "cant_lose"], "recommended": [True, False], "profit": [50.0, -5.0]})
    assert captions.winback_groups(summary, plan)["key"] == "top_unprofitable"
    assert captions.winback_groups(summary, plan.assign(recommended=True))["key"] == "top_planned"
    assert captions.winback_groups(summary, plan.iloc[:1])["key"] == "top_not_planned"


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_every_caption_key_is_worded_in_both_locales(locale):
    """Every key a caption function can return has a sentence whose fields are the function's params."""
    words = i18n.strings(locale, "TWD")
    monthly = _monthly([80] * 3 + [50] * 9 + [100] * 3)
    item = captions.new_customers(monthly)
    text = caption("new_customers", item, locale=locale, words=words)
    assert "300" in text and "240" in text and "25.0%" in text
    keys = {"new_customers": {"more", "fewer", "similar", "recent"},
            "revenue_mix": {"returning_led", "new_led", "balanced"},
            "repeat_windows": {"early", "late", "only", "none"}, "intervals": {"spread"},
            "second_purchase": {"better", "worse", "similar"}, "cohort_retention": {"higher", "lower", "steady"},
            "cohort_value": {"growth"}, "cycles": {"range", "one"}, "segment_gap": {"gap", "top"},
            "clusters": {"best"}, "stages": {"active"}, "p_alive": {"split"}, "segment_value": {"top"},
            "backtest": {"accurate", "over", "under"},
            "winback_groups": {"top_planned", "top_unprofitable", "top_not_planned"}}
    assert {chart: set(texts) for chart, texts in words["captions"].items()} == keys
    assert caption("p_alive", None, locale=locale, words=words) == ""


def test_and_list_ends_an_english_list_with_and():
    en, zh = i18n.strings("en", "TWD"), i18n.strings("zh-TW", "TWD")
    assert formatting.and_list(["A", "B", "C"], en) == "A, B and C"
    assert formatting.and_list(["A", "B"], en) == "A and B"
    assert formatting.and_list(["A"], en) == "A"
    assert formatting.and_list(["甲", "乙", "丙"], zh) == "甲、乙、丙"
