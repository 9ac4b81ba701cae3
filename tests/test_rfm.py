"""RFM on the hand-computed example (see conftest.march_lines) and the scoring rule's tie handling."""
import numpy as np
import pandas as pd
import pytest

from crm_report.metrics import rfm
from crm_report.metrics.orders import purchase_orders
from tests.conftest import make_lines


@pytest.fixture
def scored(march_lines, march):
    orders = purchase_orders(march_lines, march.end_time)
    return rfm.segment_customers(orders, march.end_time).set_index("customer_id")


def test_rfm_values(scored):
    # Recency to 2026-03-31: A 26, B 11, C 29, D 49, E 6, H 21; C has two orders on one day (F = 2).
    assert scored["recency_days"].to_dict() == {"A": 26, "B": 11, "C": 29, "D": 49, "E": 6, "H": 21}
    assert scored["frequency"].to_dict() == {"A": 3, "B": 2, "C": 2, "D": 1, "E": 2, "H": 1}
    assert scored["monetary"].to_dict() == {"A": 600, "B": 200, "C": 100, "D": 500, "E": 180, "H": 110}
    # NES cycles: all intervals 36, 49 (A), 59 (B), 375 (E): median 54, p25 45.75. A: own median 42.5 over 85
    # days, raised to the floor 45.75; the others the population median 54 (too few intervals per count).
    assert scored["cycle_days"].to_dict() == {"A": 45.75, "B": 54, "C": 54, "D": 54, "E": 54, "H": 54}


def test_scores_by_hand(scored):
    # R from days ÷ cycle: A 0.57, B 0.20, C 0.54, D 0.91, E 0.11, H 0.39 → ≤ 0.5: 5, ≤ 1: 4
    assert scored["r_score"].to_dict() == {"A": 4, "B": 5, "C": 4, "D": 4, "E": 5, "H": 5}
    # F and M: 1 + floor(5 * strictly-worse / 6)
    assert scored["f_score"].to_dict() == {"A": 5, "B": 2, "C": 2, "D": 1, "E": 2, "H": 1}
    assert scored["m_score"].to_dict() == {"A": 5, "B": 3, "C": 1, "D": 4, "E": 2, "H": 1}


def test_segments_by_hand(scored):
    assert scored["segment"].to_dict() == {
        "A": "loyal",      # R4, FM 5
        "B": "active",     # R5, FM 2.5
        "C": "promising",  # R4, FM 1.5
        "D": "active",     # R4, FM 2.5
        "E": "new",        # R5, FM 2
        "H": "new",        # R5, FM 1
    }


def test_recency_is_scored_against_the_cycle_like_nes():
    """Issue 9, finding 4: R5 ≤ ½ cycle, R4 ≤ 1 (N/E0), R3 ≤ 2 (S1), R2 ≤ 3 (S2), R1 beyond (S3); exact
    multiples stay in the better score, as NES keeps them in the earlier stage."""
    days = pd.Series([0, 15, 16, 30, 31, 60, 61, 90, 91, 400])
    assert rfm.cycle_recency_scores(days, pd.Series([30.0] * 10)).tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_a_lapsed_big_spender_is_never_loyal_and_old_customers_are_lost():
    """Issue 9, finding 4. In a three-year history a customer who bought often long ago scored R by quintile
    among everyone since the data began, and 'loyal' meant 211 days since the last order on a 32-day cycle.
    Here L bought 6 times in 2024 (every 30 days) and was last seen 2024-06-10; X last bought in 2023.
    As of 2026-03-31: X is lost (nothing in 24 months) with no scores; L is previously loyal (R1, FM 5),
    never loyal; the recent buyers are scored among the active customers only."""
    rows = [(f"l{i}", "L", (pd.Timestamp("2024-01-12") + pd.Timedelta(days=30 * i)).strftime("%Y-%m-%d"),
             500, "paid") for i in range(6)]
    rows += [("x1", "X", "2023-05-01", 90, "paid"), ("x2", "X", "2023-06-01", 90, "paid")]
    rows += [(f"n{i}", f"N{i}", "2026-03-01", 50, "paid") for i in range(4)]
    rows += [(f"n{i}b", f"N{i}", "2026-03-29", 50, "paid") for i in range(4)]
    lines = make_lines(rows)
    as_of = pd.Period("2026-03", "M").end_time
    scored = rfm.segment_customers(purchase_orders(lines, as_of), as_of).set_index("customer_id")
    assert scored.loc["X", "segment"] == rfm.LOST and not scored.loc["X", "active"]
    assert scored.loc["X", ["r_score", "f_score", "m_score"]].isna().all()
    assert scored.loc["L", "segment"] == "previously_loyal"
    assert scored.loc["L", ["r_score", "f_score", "m_score"]].tolist() == [1, 5, 5]
    assert set(scored.loc[[f"N{i}" for i in range(4)], "r_score"]) == {5}
    klaviyo = rfm.segment_customers(purchase_orders(lines, as_of), as_of, "klaviyo").set_index("customer_id")
    assert klaviyo.loc["X", "segment"] == rfm.LOST and klaviyo.loc["L", "segment"] == "at_risk"


def test_ties_share_the_lower_score_whatever_the_row_order():
    values = pd.Series([1, 1, 1, 2, 3, 3, 5, 8, 8, 13])
    scores = rfm.quintile_scores(values, higher_is_better=True)
    assert scores.tolist() == [1, 1, 1, 2, 3, 3, 4, 4, 4, 5]
    shuffled = values.sample(frac=1, random_state=1)
    assert rfm.quintile_scores(shuffled, True).sort_index().tolist() == scores.tolist()


def test_every_score_pair_has_exactly_one_segment():
    grid = pd.DataFrame([(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)],
                        columns=["r_score", "f_score", "m_score"]
                        ).assign(fm_score=lambda t: (t.f_score + t.m_score) / 2)
    hits = np.sum([grid["r_score"].isin(list(r)) & grid["fm_score"].ge(lo) & grid["fm_score"].lt(hi)
                   for _, r, lo, hi in rfm.SEGMENT_RULES], axis=0)
    assert (hits == 1).all()


def test_summary_shares(scored):
    summary = rfm.summarise_groups(scored.reset_index(), "segment", order=rfm.SEGMENTS).set_index("segment")
    assert summary.at["active", "customers"] == 2
    assert summary.at["active", "revenue_share"] == pytest.approx(700 / 1690)
    assert summary["customer_share"].sum() == pytest.approx(1)


def test_clusters_are_deterministic_and_named():
    rng = np.random.default_rng(40)
    n = 600
    table = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                          "recency_days": np.concatenate([rng.integers(0, 60, n // 2), rng.integers(300, 700, n // 2)]),
                          "frequency": np.concatenate([rng.integers(3, 12, n // 2), np.ones(n // 2, int)]),
                          "monetary": np.concatenate([rng.uniform(3000, 9000, n // 2), rng.uniform(200, 800, n // 2)])})
    labels, silhouettes = rfm.cluster_rfm(table)
    again, _ = rfm.cluster_rfm(table)
    assert labels.equals(again)
    assert silhouettes["k"].tolist() == [3, 4, 5, 6] and silhouettes["chosen"].sum() == 1
    profile = rfm.summarise_groups(table.assign(cluster=labels), "cluster")
    names = rfm.name_clusters(profile, table, cycle_days=40)
    assert names.iloc[0].startswith("recent_repeat_high")  # cluster 0 has the highest mean spend
    assert names.is_unique


def test_cluster_names_by_hand():
    profile = pd.DataFrame({"mean_recency_days": [20.0, 400.0, 59.0, 61.0], "mean_frequency": [4.0, 1.2, 1.5, 1.0],
                            "mean_monetary": [900.0, 60.0, 300.0, 80.0]})
    customers = pd.DataFrame({"monetary": [100.0, 200.0, 300.0, 400.0]})  # mean spend 250
    # recent when mean recency ≤ 2 × 30 = 60; repeat when mean orders ≥ 1.5; high when mean spend > 250
    assert rfm.name_clusters(profile, customers, cycle_days=30).tolist() == [
        "recent_repeat_high", "lapsed_onetime_low", "recent_repeat_high_2", "lapsed_onetime_low_2"]
    # nobody bought twice: recent means within 180 days
    assert rfm.name_clusters(profile, customers, cycle_days=float("nan")).tolist()[3] == "recent_onetime_low"


def test_clustering_refuses_too_few_customers():
    table = pd.DataFrame({"customer_id": ["a"], "recency_days": [1], "frequency": [1], "monetary": [1.0]})
    with pytest.raises(ValueError, match="at least 12 customers"):
        rfm.cluster_rfm(table)


def test_klaviyo_groups_by_hand():
    # R: 3 up to 180 days, 2 up to 365, else 1.  F, M terciles of six customers: 1 + ⌊3 × (strictly worse) / 6⌋.
    # F strictly worse: a 5, b 0, c 4, d 3, e 0, f 0 → 3 1 3 2 1 1.  M: a 5, b 1, c 4, d 3, e 0, f 2 → 3 1 3 2 1 2.
    table = pd.DataFrame({"customer_id": list("abcdef"),
                          "recency_days": [10, 200, 400, 30, 180, 366],
                          "frequency": [5, 1, 3, 2, 1, 1],
                          "monetary": [900.0, 100.0, 500.0, 300.0, 50.0, 200.0]})
    scored = rfm.klaviyo_segments(table).set_index("customer_id")
    assert scored["r_score"].tolist() == [3, 2, 1, 3, 3, 1]
    assert scored["f_score"].tolist() == [3, 1, 3, 2, 1, 1]
    assert scored["m_score"].tolist() == [3, 1, 3, 2, 1, 2]
    assert scored["segment"].tolist() == ["champions", "needs_attention", "at_risk", "loyal", "recent", "inactive"]


def test_klaviyo_codes_cover_every_score_once():
    codes = [code for group in rfm.KLAVIYO_CODES.values() for code in group]
    assert sorted(codes) == sorted(r * 100 + f * 10 + m for r in (1, 2, 3) for f in (1, 2, 3) for m in (1, 2, 3))


def test_segment_customers_selects_the_style(march_lines, march):
    orders = purchase_orders(march_lines, march.end_time)
    assert set(rfm.segment_customers(orders, march.end_time, "klaviyo")["segment"]) <= set(rfm.KLAVIYO_GROUPS)
    assert rfm.segment_order("klaviyo") == rfm.KLAVIYO_GROUPS and rfm.segment_order("shopify") == rfm.SEGMENTS
    with pytest.raises(ValueError, match="unknown RFM style"):
        rfm.segment_customers(orders, march.end_time, "hubspot")
