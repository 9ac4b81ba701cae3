"""Each section's "so what" (crm_report.metrics.conclusions) against hand-made numbers."""
import numpy as np
import pandas as pd
import pytest

from crm_report import formatting, i18n
from crm_report.metrics import conclusions, products
from crm_report.render import so_what


def _kpis(new, new_last_year, share):
    return pd.DataFrame({"kpi": ["new_customers", "returning_revenue_share"], "value": [new, share],
                         "last_year": [new_last_year, share]})


def keys(found):
    return [(c["key"], c["action"]) for c in found]


def test_chance_rule_by_hand():
    assert not conclusions.beyond_chance(130, 100)  # 30 < 2 √230 = 30.33
    assert conclusions.beyond_chance(131, 100)  # 31 > 2 √231 = 30.40
    assert conclusions.beyond_chance(70, 100)  # a fall of 30 > 2 √170 = 26.08
    assert not conclusions.beyond_chance(0, 0)


def test_acquisition_speaks_of_new_customers_only_when_they_moved_beyond_chance():
    assert keys(conclusions.acquisition(_kpis(70, 100, 0.7))) == [("new_down", "review_acquisition")]
    assert conclusions.acquisition(_kpis(70, 100, 0.7))[0]["params"]["change"] == ["relative", pytest.approx(-0.3)]
    assert keys(conclusions.acquisition(_kpis(140, 100, 0.7))) == [("new_up", "second_purchase")]
    assert keys(conclusions.acquisition(_kpis(110, 100, 0.6))) == [("returning_led", "keep_returning")]
    assert keys(conclusions.acquisition(_kpis(110, 100, 0.59))) == [("new_led", "second_purchase")]


def test_acquisition_without_new_customers_a_year_ago_speaks_of_who_brings_the_revenue():
    """Issue 12, finding 7: a client whose every order is in the report month had 40 new customers against 0
    a year ago, beyond chance, and (40 − 0) / 0 raised ZeroDivisionError: the whole report was lost."""
    assert keys(conclusions.acquisition(_kpis(40, 0, 0.0))) == [("new_led", "second_purchase")]


def _curve(share, at_risk, day=90):
    return pd.DataFrame({"day": [0, day], "at_risk": [at_risk, at_risk], "share": [0.0, share]})


def test_repurchase_compares_cohorts_against_their_standard_error():
    intervals = {"count": 50, "q25": 20.0, "q75": 60.0}
    # 30% of 1,000 vs 25% of 1,000: pooled 27.5%, se = √(0.275 × 0.725 × 2/1000) = 0.01997, 5 pts > 2 se
    found = conclusions.repurchase({"latest": _curve(0.30, 1000), "year_ago": _curve(0.25, 1000)}, 90, intervals)
    assert keys(found) == [("better", None), ("timing", "remind")]
    assert found[0]["params"]["diff"] == ["points", pytest.approx(0.05)]
    # the same rates among 100 customers each: se 0.063, within chance
    found = conclusions.repurchase({"latest": _curve(0.30, 100), "year_ago": _curve(0.25, 100)}, 90, intervals)
    assert keys(found)[0] == ("similar", None)
    found = conclusions.repurchase({"latest": _curve(0.20, 1000), "year_ago": _curve(0.25, 1000)}, 90, intervals)
    assert keys(found)[0] == ("worse", None)
    nan = conclusions.repurchase({"latest": _curve(np.nan, 10), "year_ago": _curve(0.25, 1000)}, 90, intervals)
    assert keys(nan) == [("timing", "remind")]  # too few observed: no comparison
    assert keys(conclusions.repurchase({}, 90, {"count": 0})) == [("no_repeat", None)]


def _first_table(customers, rates, baseline):
    """`products.first_product_table` (where the beyond-chance flags live) of products A, B, C …"""
    names = list("ABCDEFG"[: len(customers)])
    return products.first_product_table(pd.DataFrame({
        "product_key": names, "product_name": names, "customers": customers,
        "repeat_customers": [round(n * r) for n, r in zip(customers, rates, strict=True)], "rate": rates,
        "enough_sample": True}), baseline)


def test_products_feature_the_best_entry_product_and_talk_of_refills_only_with_consumables():
    table = _first_table([500, 200, 100, 30], [0.20, 0.35, 0.10, 0.40], 0.18)
    found = conclusions.products(table, 0.18, consumables=0, window_days=180)
    assert keys(found) == [("entry_product", "feature_entry")]  # no consumables: no refill sentence
    # beyond chance: B 0.17 > 2 √(0.18 × 0.82 / 200) = 0.054 and D 0.22 > 2 √(0.18 × 0.82 / 30) = 0.140; A's
    # 0.02 < 0.034 is not. D has the higher rate, so D is chosen
    assert found[0]["params"]["product"] == ["text", "D"]
    assert conclusions.products(_first_table([500, 200, 100, 3], [0.20, 0.35, 0.10, 0.40], 0.18), 0.18, 0, 180)[0][
        "params"]["product"] == ["text", "B"]  # D with 3 customers: 0.22 < 2 √(0.18 × 0.82 / 3) = 0.44
    assert keys(conclusions.products(table, 0.18, 4, 180))[-1] == ("refills", "due_soon")
    below = _first_table([500, 200, 100, 30], [0.20, 0.35, 0.10, 0.40], 0.5)
    assert keys(conclusions.products(below, 0.5, 0, 180)) == [("no_entry_product", None)]


def test_segments_name_the_fewest_segments_holding_half_the_revenue():
    table = pd.DataFrame({"segment": ["champions", "loyal", "new", "lost"], "revenue": [400.0, 300.0, 200.0, 100.0],
                          "revenue_share": [0.4, 0.3, 0.2, 0.1], "customer_share": [0.05, 0.15, 0.3, 0.5]})
    (found,) = conclusions.segments(table)
    assert found["params"]["segments"] == ["segments", ["champions", "loyal"]]
    assert found["params"]["customers"] == ["pct", pytest.approx(0.2)]
    assert found["params"]["revenue"] == ["pct", pytest.approx(0.7)]
    exactly_half = table.assign(revenue_share=[0.5, 0.2, 0.2, 0.1])
    assert conclusions.segments(exactly_half)[0]["params"]["segments"][1] == ["champions"]
    recent = ("champions", "loyal", "new")
    assert conclusions.segments(table, recent)[0]["action"] == "protect_top"


def test_top_segments_past_their_cycle_are_named_as_win_back_candidates():
    """Issue 14 review: 'check that they come back within their cycle' was said of At risk, past it by definition."""
    table = pd.DataFrame({"segment": ["champions", "at_risk", "lost"], "revenue": [400.0, 300.0, 300.0],
                          "revenue_share": [0.4, 0.3, 0.3], "customer_share": [0.1, 0.1, 0.8]})
    (found,) = conclusions.segments(table, recent=("champions", "loyal"))
    assert found["action"] == "protect_top_lapsed"
    assert found["params"]["lapsed"] == ["segments", ["at_risk"]]


def test_lifecycle_reports_the_largest_lapsing_move():
    moves = pd.DataFrame({"from": ["E0", "S1", "E0", "N"], "to": ["S1", "S2", "S2", "E0"],
                          "customers": [120, 300, 10, 500], "share_of_from": [0.1, 0.3, 0.01, 0.4]})
    (found,) = conclusions.lifecycle(moves)  # S1 → S2 is deeper sleep, not a lapse from activity
    assert found["key"] == "lapsing" and found["params"]["n"] == ["number", 120]
    assert keys(conclusions.lifecycle(moves.iloc[[1, 3]])) == [("steady", None)]


def test_value_follows_the_track_record():
    assert keys(conclusions.value(None)) == [("no_model", None)]
    record = {"verdict": "over", "months_back": 12, "purchases_error": 0.25}
    (found,) = conclusions.value(record)
    assert (found["key"], found["action"]) == ("over", "upper_bound")
    assert found["params"]["error"] == ["pct", 0.25]
    assert keys(conclusions.value({"verdict": "untested", "months_back": None,
                                   "purchases_error": None})) == [("untested", None)]


def test_winback_states_the_plan_and_what_it_leaves_out():
    totals = {"groups": 3, "contacted": 1200, "incremental_revenue": 5e4, "cost": 3e3, "profit": 2.2e4,
              "unprofitable_groups": 1, "unprofitable_customers": 7000}
    assert keys(conclusions.winback(totals)) == [("plan", "contact"), ("left_out", None)]
    none = {**totals, "groups": 0, "contacted": 0, "unprofitable_groups": 0}
    assert keys(conclusions.winback(none)) == [("no_plan", None)]


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_every_conclusion_has_its_words(locale):
    """Each key and action any function can return is worded in both locales, with the numbers filled in."""
    words = i18n.strings(locale)
    table = _first_table([500], [0.2], 0.1)
    produced = [
        ("acquisition", conclusions.acquisition(_kpis(70, 100, 0.7)) + conclusions.acquisition(_kpis(140, 100, 0.7))
         + conclusions.acquisition(_kpis(110, 100, 0.7)) + conclusions.acquisition(_kpis(110, 100, 0.2))),
        ("repurchase", conclusions.repurchase({"latest": _curve(0.3, 1000), "year_ago": _curve(0.2, 1000)}, 90,
                                              {"count": 5, "q25": 10, "q75": 40})
         + conclusions.repurchase({}, 90, {"count": 0})),
        ("products", conclusions.products(table, 0.1, 3, 180)
         + conclusions.products(_first_table([500], [0.2], 0.5), 0.5, 0, 180)),
        ("segments", conclusions.segments(pd.DataFrame({"segment": ["champions"], "revenue": [1.0],
                                                        "revenue_share": [1.0], "customer_share": [1.0]}),
                                          recent=("champions",))
         + conclusions.segments(pd.DataFrame({"segment": ["at_risk"], "revenue": [1.0], "revenue_share": [1.0],
                                              "customer_share": [1.0]}))),
        ("lifecycle", conclusions.lifecycle(pd.DataFrame({"from": ["E0"], "to": ["S1"], "customers": [5],
                                                          "share_of_from": [0.1]}))
         + conclusions.lifecycle(pd.DataFrame(columns=["from", "to", "customers", "share_of_from"]))
         + conclusions.lifecycle(pd.DataFrame({"from": ["E0"], "to": ["S1"], "customers": [5],
                                               "share_of_from": [0.1]}), partial=True)),
        ("value", [c for v in ("accurate", "over", "under", "untested") for c in conclusions.value(
            {"verdict": v, "months_back": 12, "purchases_error": 0.1})] + conclusions.value(None)),
        ("winback", conclusions.winback({"groups": 1, "contacted": 5, "cost": 1.0, "profit": 2.0,
                                         "unprofitable_groups": 1, "unprofitable_customers": 3})
         + conclusions.winback({"groups": 0, "contacted": 0, "cost": 0, "profit": 0, "unprofitable_groups": 0,
                                "unprofitable_customers": 0})),
    ]
    for section, found in produced:
        said = so_what(section, found, locale=locale, words=words)
        assert len(said) == len(found)
        for item in said:
            assert "{" not in item["text"] and (item["action"] is None or "{" not in item["action"])
    assert formatting.value("segments", ["champions", "loyal"], locale, words).count(
        words["segment_names"]["loyal"]) == 1
