"""Product metrics on tiny hand-computed frames; report as-of 2026-03-31 (end of March) unless noted."""
import numpy as np
import pandas as pd
import pytest

from crm_report.metrics import products
from crm_report.metrics.products import (
    baseline_repeat_rate,
    best_sellers,
    customer_next_steps,
    first_product_repeat,
    next_product_affinity,
    replenishment_cycles,
)
from tests.conftest import make_lines

AS_OF = pd.Period("2026-03", "M").end_time


def product_lines(rows: list[tuple]) -> pd.DataFrame:
    """Lines from (order_id, customer_id, 'YYYY-MM-DD', amount, product_id, product_name, category[, status])."""
    records = []
    for order_id, customer_id, day, amount, product_id, product_name, category, *status in rows:
        records.append({"order_id": order_id, "customer_id": customer_id, "order_date": pd.Timestamp(day),
                        "amount": float(amount), "status": status[0] if status else "paid",
                        "product_id": product_id, "product_name": product_name, "category": category})
    return pd.DataFrame(records).astype({"product_id": "str", "product_name": "str", "category": "str"})


# ------------------------------------------------------------------------------------------------
# 1. Replenishment cycles
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def cycle_lines() -> pd.DataFrame:
    """V1 維他命 and F1 魚油 share category 基礎; G1 禮盒 is alone in 禮盒; N1 has no category.

    V1: A 01-01, 01-31, 03-02 → 30, 30 (Feb has 28 days); B 01-10, 02-05 (twice that day) → 26; C once.
        C's cancelled 02-01 line and A's 04-05 line (after March) add nothing.
    F1: D 01-01, 02-15 → 45 (one repeat buyer only).
    G1: E 01-01, 03-01 → 59.   N1: F once.
    """
    return product_lines([
        ("a1", "A", "2026-01-01", 100, "V1", "維他命", "基礎"),
        ("a2", "A", "2026-01-31", 100, "V1", "維他命", "基礎"),
        ("a3", "A", "2026-03-02", 100, "V1", "維他命", "基礎"),
        ("a4", "A", "2026-04-05", 100, "V1", "維他命", "基礎"),
        ("b1", "B", "2026-01-10", 100, "V1", "維他命", "基礎"),
        ("b2", "B", "2026-02-05", 100, "V1", "維他命", "基礎"),
        ("b3", "B", "2026-02-05", 100, "V1", "維他命", "基礎"),
        ("c1", "C", "2026-01-05", 100, "V1", "維他命", "基礎"),
        ("c2", "C", "2026-02-01", 100, "V1", "維他命", "基礎", "cancelled"),
        ("d1", "D", "2026-01-01", 300, "F1", "魚油", "基礎"),
        ("d2", "D", "2026-02-15", 300, "F1", "魚油", "基礎"),
        ("e1", "E", "2026-01-01", 900, "G1", "禮盒", "禮盒"),
        ("e2", "E", "2026-03-01", 900, "G1", "禮盒", "禮盒"),
        ("f1", "F", "2026-01-01", 50, "N1", "無分類", None),
    ])


def test_replenishment_cycles_by_hand(cycle_lines):
    cycles = replenishment_cycles(cycle_lines, AS_OF, min_repeat_buyers=2, lead_days=3)
    # V1 own intervals [26, 30, 30]: p25 at position 0.5 → 28, p50 30, p75 at 1.5 → 30; reminder 28 − 3 = 25.
    # F1 has 1 repeat buyer → category 基礎: A 30, 30; B 26; D 45 → [26, 30, 30, 45]; 3 repeat buyers;
    #   p25 at 0.75 → 29, p50 at 1.5 → 30, p75 at 2.25 → 33.75; reminder 29 − 3 = 26.
    # G1: 1 repeat buyer, and 禮盒 has only G1 → none. N1: no repeat, no category → none.
    # Sorted by buyers: V1 (A, B, C), then F1, G1, N1 (one buyer each) by key.
    expected = pd.DataFrame({
        "product_key": ["V1", "F1", "G1", "N1"],
        "product_name": ["維他命", "魚油", "禮盒", "無分類"],
        "category": ["基礎", "基礎", "禮盒", None],
        "buyers": [3, 1, 1, 1],
        "repeat_buyers": [2, 1, 1, 0],
        "repeat_share": [2 / 3, 1.0, 1.0, 0.0],
        "intervals": [3, 1, 1, 0],
        "basis": ["product", "category", "none", "none"],
        "basis_repeat_buyers": [2, 3, 0, 0],
        "basis_intervals": [3, 4, 0, 0],
        "p25": [28.0, 29.0, np.nan, np.nan],
        "p50": [30.0, 30.0, np.nan, np.nan],
        "p75": [30.0, 33.75, np.nan, np.nan],
        "reminder_day": [25.0, 26.0, np.nan, np.nan],
        "consumable": [True, True, False, False],  # repeat share ≥ 15% and p75 ≤ 3 × p25
    }).astype({"category": "str"})
    pd.testing.assert_frame_equal(cycles, expected)


def test_thresholds_are_inclusive(cycle_lines):
    # At 3, V1 (2 repeat buyers) falls back too, and 基礎 with exactly 3 repeat buyers is enough.
    cycles = replenishment_cycles(cycle_lines, AS_OF, min_repeat_buyers=3).set_index("product_key")
    assert cycles["basis"].to_dict() == {"V1": "category", "F1": "category", "G1": "none", "N1": "none"}
    assert cycles.loc["V1", ["basis_repeat_buyers", "basis_intervals", "p25", "p75"]].tolist() == [3, 4, 29, 33.75]
    assert cycles.loc["V1", ["repeat_buyers", "intervals"]].tolist() == [2, 3]  # the product's own counts


def test_category_fallback_needs_enough_category_buyers(cycle_lines):
    # 基礎 has 3 repeat buyers: at a threshold of 4 neither V1 (2) nor its category qualifies.
    cycles = replenishment_cycles(cycle_lines, AS_OF, min_repeat_buyers=4).set_index("product_key")
    assert cycles["basis"].tolist() == ["none"] * 4
    assert cycles["reminder_day"].isna().all() and cycles["basis_intervals"].eq(0).all()
    # At 1, every product with a repeat buyer uses its own intervals: G1's single 59-day interval.
    cycles = replenishment_cycles(cycle_lines, AS_OF, min_repeat_buyers=1).set_index("product_key")
    assert cycles["basis"].to_dict() == {"V1": "product", "F1": "product", "G1": "product", "N1": "none"}
    assert cycles.at["G1", "p50"] == 59 and cycles.at["F1", "reminder_day"] == 42  # 45 − 3


def test_no_category_column_means_no_fallback(cycle_lines):
    cycles = replenishment_cycles(cycle_lines.drop(columns="category"), AS_OF, min_repeat_buyers=2)
    assert "category" not in cycles
    assert cycles.set_index("product_key")["basis"].to_dict() == {
        "V1": "product", "F1": "none", "G1": "none", "N1": "none"}


def test_reminder_day_is_at_least_one(cycle_lines):
    cycles = replenishment_cycles(cycle_lines, AS_OF, min_repeat_buyers=2, lead_days=40)
    assert cycles["reminder_day"].tolist()[:2] == [1.0, 1.0]  # 28 − 40 and 29 − 40


def test_product_key_falls_back_to_the_name_and_shows_the_latest_name():
    lines = product_lines([
        ("o1", "A", "2025-12-31", 10, "V1", "維他命", "基礎"),
        ("o1", "A", "2026-01-01", 10, "V1", "維他命", "基礎"),  # same order after midnight: order day 12-31
        ("o2", "A", "2026-02-01", 10, "V1", "綜合維他命", "基礎保健"),  # renamed, re-categorised later
        ("o2", "A", "2026-02-01", 10, "V1", "Multi", "基礎保健"),  # same day: the alphabetically last name
        ("o3", "B", "2026-01-01", 10, None, "散裝魚油", "基礎"),  # no id: keyed by its name
        ("o4", "B", "2026-01-20", 10, None, "散裝魚油", "基礎"),
    ])
    cycles = replenishment_cycles(lines, AS_OF, min_repeat_buyers=1)
    assert cycles[["product_key", "product_name", "category", "p50"]].values.tolist() == [
        ["V1", "綜合維他命", "基礎保健", 32.0], ["散裝魚油", "散裝魚油", "基礎", 19.0]]
    # Without a product_id column the name is the key (conftest lines have product_name only).
    named = replenishment_cycles(make_lines([("o1", "A", "2026-01-01", 10, "paid", "葉黃素"),
                                             ("o2", "A", "2026-01-11", 10, "paid", "葉黃素")]),
                                 AS_OF, min_repeat_buyers=1)
    assert named[["product_key", "product_name", "p25"]].values.tolist() == [["葉黃素", "葉黃素", 10.0]]


# ------------------------------------------------------------------------------------------------
# 2. First products that make loyal customers
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def first_lines() -> pd.DataFrame:
    """window 60 days; as-of day 2026-03-31.

    A: first day 01-01 with P and Q (two orders), second day 02-15 (45 days) → repeat.
    B: first day 01-10 P, second day 03-20 (69 days) → not a repeat within 60.
    C: first day 01-20 Q, twice that day (one visit) → not a repeat.
    D: first day 02-15 P, only 44 days observed → not counted (even though D bought again on 02-20).
    E: cancelled 2025-11-01; first purchase day 2025-12-01 R, second 2026-01-15 (45 days) → repeat.
    """
    return product_lines([
        ("a1", "A", "2026-01-01", 10, "P", "P名", "c"), ("a2", "A", "2026-01-01", 10, "Q", "Q名", "c"),
        ("a3", "A", "2026-02-15", 10, "R", "R名", "c"),
        ("b1", "B", "2026-01-10", 10, "P", "P名", "c"), ("b2", "B", "2026-03-20", 10, "P", "P名", "c"),
        ("c1", "C", "2026-01-20", 10, "Q", "Q名", "c"), ("c2", "C", "2026-01-20", 10, "Q", "Q名", "c"),
        ("d1", "D", "2026-02-15", 10, "P", "P名", "c"), ("d2", "D", "2026-02-20", 10, "P", "P名", "c"),
        ("e0", "E", "2025-11-01", 10, "P", "P名", "c", "cancelled"),
        ("e1", "E", "2025-12-01", 10, "R", "R名", "c"), ("e2", "E", "2026-01-15", 10, "R", "R名", "c"),
    ])


def test_first_product_repeat_by_hand(first_lines):
    table = first_product_repeat(first_lines, AS_OF, window_days=60, min_customers=2)
    # P: A (repeat), B → 1/2. Q: A (repeat), C → 1/2 (tie with P: same rate and size → key order).
    # R: E (repeat) → 1/1, but below the 2-customer minimum → listed last.
    expected = pd.DataFrame({
        "product_key": ["P", "Q", "R"], "product_name": ["P名", "Q名", "R名"], "category": ["c", "c", "c"],
        "customers": [2, 2, 1], "repeat_customers": [1, 1, 1], "rate": [0.5, 0.5, 1.0],
        "enough_sample": [True, True, False],
    })
    pd.testing.assert_frame_equal(table, expected)


def test_baseline_repeat_rate_counts_every_eligible_customer_once(first_lines):
    # Eligible: A, B, C, E (A counted once although its first day had two products); repeats: A, E.
    assert baseline_repeat_rate(first_lines, AS_OF, window_days=60) == {
        "customers": 4, "repeat_customers": 2, "rate": 0.5}
    assert np.isnan(baseline_repeat_rate(first_lines, AS_OF, window_days=400)["rate"])


def test_window_bounds_are_inclusive(first_lines):
    # window 45: A and E repeat on day 45 exactly; D (44 days observed) is still out.
    assert baseline_repeat_rate(first_lines, AS_OF, window_days=45) == {
        "customers": 4, "repeat_customers": 2, "rate": 0.5}
    # window 44: D, observed exactly 44 days, is in and repeats after 5 days; A and E (45) no longer repeat.
    assert baseline_repeat_rate(first_lines, AS_OF, window_days=44) == {
        "customers": 5, "repeat_customers": 1, "rate": 0.2}


def test_window_decides_who_is_observed_long_enough(first_lines):
    # window 80: only customers first seen ≥ 80 days before 03-31 (A 89, B 80, E 120); B repeats at 69 days.
    table = first_product_repeat(first_lines, AS_OF, window_days=80, min_customers=1).set_index("product_key")
    assert table[["customers", "repeat_customers"]].to_dict("index") == {
        "P": {"customers": 2, "repeat_customers": 2}, "Q": {"customers": 1, "repeat_customers": 1},
        "R": {"customers": 1, "repeat_customers": 1}}


# ------------------------------------------------------------------------------------------------
# 3. What customers buy next
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def affinity_lines() -> pd.DataFrame:
    """Purchase days (products): A 01-01 {P}, 02-01 {P, Q}, 03-01 {R}; B 01-05 {P}, 02-05 {P};
    C 01-10 {Q}, 02-10 {P}; D 01-15 {P, Q} (two orders, one day: no transition).
    B's 04-10 purchase is after March and ignored. Transitions T = 4: A1→A2, A2→A3, B1→B2, C1→C2.
    """
    return product_lines([
        ("a1", "A", "2026-01-01", 10, "P", "P名", "c"),
        ("a2", "A", "2026-02-01", 10, "P", "P名", "c"), ("a2", "A", "2026-02-01", 10, "Q", "Q名", "c"),
        ("a3", "A", "2026-03-01", 10, "R", "R名", "c"),
        ("b1", "B", "2026-01-05", 10, "P", "P名", "c"), ("b2", "B", "2026-02-05", 10, "P", "P名", "c"),
        ("b3", "B", "2026-04-10", 10, "Q", "Q名", "c"),
        ("c1", "C", "2026-01-10", 10, "Q", "Q名", "c"), ("c2", "C", "2026-02-10", 10, "P", "P名", "c"),
        ("d1", "D", "2026-01-15", 10, "P", "P名", "c"), ("d2", "D", "2026-01-15", 10, "Q", "Q名", "c"),
    ])


def test_next_product_affinity_by_hand(affinity_lines):
    table = next_product_affinity(affinity_lines, AS_OF, min_pairs=1, top_per_product=3)
    # Pairs: A1→A2 P→P, P→Q; A2→A3 P→R, Q→R; B P→P; C Q→P.
    # from: P in A1, A2, B1 → 3; Q in A2, C1 → 2.
    # Next day holds P: A2, B2, C2 → 3/4; Q: A2 → 1/4; R: A3 → 1/4.
    # P→Q: (1/3) / (1/4) = 4/3; P→R: 4/3 (tie → key order Q, R); P→P: (2/3) / (3/4) = 8/9.
    # Q→R: (1/2) / (1/4) = 2; Q→P: (1/2) / (3/4) = 2/3.
    expected = pd.DataFrame({
        "product_key": ["P", "P", "P", "Q", "Q"],
        "product_name": ["P名", "P名", "P名", "Q名", "Q名"],
        "category": ["c"] * 5,
        "next_product_key": ["Q", "R", "P", "R", "P"],
        "next_product_name": ["Q名", "R名", "P名", "R名", "P名"],
        "next_category": ["c"] * 5,
        "pairs": [1, 1, 2, 1, 1],
        "from_transitions": [3, 3, 3, 2, 2],
        "confidence": [1 / 3, 1 / 3, 2 / 3, 1 / 2, 1 / 2],
        "base_rate": [1 / 4, 1 / 4, 3 / 4, 1 / 4, 3 / 4],
        "lift": [4 / 3, 4 / 3, 8 / 9, 2.0, 2 / 3],
        "support": [1 / 4, 1 / 4, 2 / 4, 1 / 4, 1 / 4],
        "same_product": [False, False, True, False, False],
        # clear: pairs > n·p + 2 √(n·p(1 − p)); P→Q: 1 < 0.75 + 2 × 0.75; Q→R: 1 < 0.5 + 2 × 0.61 — none on so few
        "clear": [False] * 5,
        "rank": [1, 2, 3, 1, 2],
    })
    pd.testing.assert_frame_equal(table, expected)


def test_affinity_keeps_enough_pairs_and_the_top_per_product(affinity_lines):
    only_repeat = next_product_affinity(affinity_lines, AS_OF, min_pairs=2)
    assert only_repeat[["product_key", "next_product_key", "pairs", "same_product"]].values.tolist() == [
        ["P", "P", 2, True]]
    best = next_product_affinity(affinity_lines, AS_OF, min_pairs=1, top_per_product=1)
    assert best[["product_key", "next_product_key"]].values.tolist() == [["P", "Q"], ["Q", "R"]]


def test_equal_lift_ranks_more_pairs_first():
    # U: {P} → {Q1, R2}; W: {P} → {R2}. T = 2, from P = 2. R2: conf 2/2, base 2/2 → lift 1;
    # Q1: conf 1/2, base 1/2 → lift 1. Equal lift: R2 (2 pairs) before Q1, against key order.
    lines = product_lines([
        ("u1", "U", "2026-01-01", 10, "P", "P", "c"), ("u2", "U", "2026-02-01", 10, "Q1", "Q1", "c"),
        ("u2", "U", "2026-02-01", 10, "R2", "R2", "c"),
        ("w1", "W", "2026-01-01", 10, "P", "P", "c"), ("w2", "W", "2026-02-01", 10, "R2", "R2", "c"),
    ])
    table = next_product_affinity(lines, AS_OF, min_pairs=1)
    assert table[["next_product_key", "pairs", "lift", "rank"]].values.tolist() == [
        ["R2", 2, 1.0, 1], ["Q1", 1, 1.0, 2]]


def test_a_day_without_product_still_counts_as_a_transition(affinity_lines):
    # E: 01-01 {P}, 02-01 a line with neither id nor name → one more transition from P (T = 5), no pair.
    lines = pd.concat([affinity_lines, product_lines([("e1", "E", "2026-01-01", 10, "P", "P名", "c"),
                                                      ("e2", "E", "2026-02-01", 10, None, None, None)])],
                      ignore_index=True)
    table = next_product_affinity(lines, AS_OF, min_pairs=1).set_index(["product_key", "next_product_key"])
    assert table.at[("P", "P"), "from_transitions"] == 4
    assert table.at[("P", "P"), "base_rate"] == pytest.approx(3 / 5)
    assert table.at[("P", "P"), "support"] == pytest.approx(2 / 5)


# ------------------------------------------------------------------------------------------------
# 4–5. Best sellers and next steps
# ------------------------------------------------------------------------------------------------

NAMES = {"V": "維他命", "W": "B群", "G": "禮盒", "T": "體驗包", "S": "膠原蛋白", "X": "魚油"}


@pytest.fixture
def step_lines() -> pd.DataFrame:
    """Last purchase days: A 03-01 {V, W}; B 02-10 {T}; C 03-15 {S}; D 03-20 {a line without product};
    E 03-05 {V, X}. Revenue 01-01..03-31: S 1000, V 300 + 300 = 600, T 100 + 100 = 200, W 200, X 100
    (D's S 2025-10-01 is before the window, W's cancelled 5000 and A's April order never count).
    """
    rows = [
        ("a1", "A", "2026-01-05", 100, "T"), ("a2", "A", "2026-03-01", 300, "V"), ("a2", "A", "2026-03-01", 200, "W"),
        ("a3", "A", "2026-04-02", 100, "G"),
        ("b1", "B", "2026-02-10", 100, "T"),
        ("c1", "C", "2026-03-15", 1000, "S"),
        ("d0", "D", "2025-10-01", 500, "S"), ("d1", "D", "2026-03-20", 50, None),
        ("e1", "E", "2026-03-05", 300, "V"), ("e1", "E", "2026-03-05", 100, "X"),
    ]
    lines = product_lines([(o, c, d, a, p, NAMES.get(p), "c" if p else None) for o, c, d, a, p in rows])
    cancelled = product_lines([("z1", "Z", "2026-03-10", 5000, "W", "B群", "c", "cancelled")])
    return pd.concat([lines, cancelled], ignore_index=True)


@pytest.fixture
def cycles() -> pd.DataFrame:
    return pd.DataFrame({"product_key": ["V", "W", "G", "X"], "basis": ["product", "category", "none", "product"],
                         "reminder_day": [25.0, 10.0, np.nan, 25.0], "p50": [30.0, 40.5, np.nan, 28.0],
                         "consumable": [True, True, False, True]})


@pytest.fixture
def affinity() -> pd.DataFrame:
    # W → S would win on lift, but W has a cycle: A is reminded to replenish W instead.
    # S → X has lift below 1 (less likely than after an average purchase): never recommended.
    return pd.DataFrame({"product_key": ["T", "T", "G", "W", "S"], "next_product_key": ["V", "S", "S", "S", "X"],
                         "lift": [3.0, 5.0, 1.2, 9.0, 0.8], "pairs": [50, 10, 30, 40, 100],
                         "clear": [True, True, True, True, False]})


def test_best_sellers_by_revenue_in_the_window(step_lines):
    table = best_sellers(step_lines, AS_OF)
    # T and W tie at 200 → key order.
    expected = pd.DataFrame({
        "rank": [1, 2, 3, 4, 5], "product_key": ["S", "V", "T", "W", "X"],
        "product_name": ["膠原蛋白", "維他命", "體驗包", "B群", "魚油"], "category": ["c"] * 5,
        "revenue": [1000.0, 600.0, 200.0, 200.0, 100.0], "buyers": [1, 2, 2, 1, 1],
    })
    pd.testing.assert_frame_equal(table, expected)
    # 30 days to 03-31 start on 03-02: S (03-15), X and V (E 03-05); A's 03-01 lines fall outside.
    assert best_sellers(step_lines, AS_OF, days=30, top=2)["product_key"].tolist() == ["S", "V"]
    assert best_sellers(step_lines, AS_OF, days=30, top=10)["revenue"].tolist() == [1000.0, 300.0, 100.0]


def test_customer_next_steps_by_hand(step_lines, cycles, affinity):
    steps = customer_next_steps(step_lines, AS_OF, cycles, affinity)
    # A: V reminds on 03-26, W (category cycle) on 03-11 → W; run-out 03-01 + ⌊40.5⌋ = 04-10. Names sorted.
    # B: T has no cycle; its affinity targets S (lift 5) and V (lift 3) → S.
    # C: S has no cycle and only a rule with lift < 1 → the best seller the day did not hold: V (S is rank 1).
    # D: the last day names no product → the top seller S.
    # E: V and X both remind on 03-30; X runs out first (03-05 + 28 = 04-02 before 04-04) → X.
    nat = pd.NaT
    expected = pd.DataFrame({
        "customer_id": ["A", "B", "C", "D", "E"],
        "last_purchase_day": pd.to_datetime(["2026-03-01", "2026-02-10", "2026-03-15", "2026-03-20", "2026-03-05"]),
        "last_products": ["B群 / 維他命", "體驗包", "膠原蛋白", None, "維他命 / 魚油"],
        "reminder_product_key": ["W", None, None, None, "X"],
        "reminder_product_name": ["B群", None, None, None, "魚油"],
        "reminder_date": pd.to_datetime(["2026-03-11", nat, nat, nat, "2026-03-30"]),
        "run_out_date": pd.to_datetime(["2026-04-10", nat, nat, nat, "2026-04-02"]),
        "recommended_product_key": ["W", "S", "V", "S", "X"],
        "recommended_product_name": ["B群", "膠原蛋白", "維他命", "膠原蛋白", "魚油"],
        "recommendation_basis": ["replenish", "next_product", "best_seller", "best_seller", "replenish"],
    }).astype({c: "str" for c in ("last_products", "reminder_product_key", "reminder_product_name")})
    pd.testing.assert_frame_equal(steps, expected.astype({"last_purchase_day": "datetime64[ns]",
                                                          "reminder_date": "datetime64[ns]",
                                                          "run_out_date": "datetime64[ns]"}))


def test_no_recommendation_when_the_only_best_seller_was_just_bought(step_lines, cycles, affinity):
    steps = customer_next_steps(step_lines, AS_OF, cycles, affinity, best_sellers_top=1).set_index("customer_id")
    assert steps.at["C", "recommendation_basis"] == "none" and pd.isna(steps.at["C", "recommended_product_key"])
    assert steps.at["D", "recommended_product_key"] == "S"


def test_next_steps_from_the_computed_tables(step_lines):
    # End to end: with real tables nobody has enough repeat buyers here, so nobody gets a reminder.
    cycles = replenishment_cycles(step_lines, AS_OF)
    affinity = next_product_affinity(step_lines, AS_OF)
    steps = customer_next_steps(step_lines, AS_OF, cycles, affinity)
    assert steps["reminder_date"].isna().all()
    assert steps["recommendation_basis"].tolist() == ["best_seller"] * 5


# ------------------------------------------------------------------------------------------------
# Empty input, bad input, purity
# ------------------------------------------------------------------------------------------------


def test_empty_input_gives_empty_tables(cycle_lines):
    for lines in (cycle_lines.iloc[:0], cycle_lines.assign(status="cancelled")):
        cycles = replenishment_cycles(lines, AS_OF)
        assert cycles.empty and "reminder_day" in cycles and "category" in cycles
        assert first_product_repeat(lines, AS_OF).empty
        assert np.isnan(baseline_repeat_rate(lines, AS_OF)["rate"])
        affinity = next_product_affinity(lines, AS_OF)
        assert affinity.empty and list(affinity.columns)[-3:] == ["same_product", "clear", "rank"]
        assert best_sellers(lines, AS_OF).empty
        steps = customer_next_steps(lines, AS_OF, cycles, affinity)
        assert steps.empty and "recommendation_basis" in steps


def test_customers_without_a_second_purchase_give_no_cycles_or_transitions():
    lines = make_lines([("o1", "A", "2025-01-01", 10, "paid", "P"), ("o2", "B", "2025-01-01", 10, "paid", "P")])
    assert replenishment_cycles(lines, AS_OF)["basis"].tolist() == ["none"]
    assert next_product_affinity(lines, AS_OF, min_pairs=1).empty
    assert first_product_repeat(lines, AS_OF, min_customers=1)[["customers", "rate"]].values.tolist() == [[2, 0.0]]


@pytest.mark.parametrize("column", ["order_id", "customer_id", "order_date", "status"])
def test_missing_column_is_named(cycle_lines, column):
    for metric in (replenishment_cycles, first_product_repeat, next_product_affinity, best_sellers):
        with pytest.raises(ValueError, match=column):
            metric(cycle_lines.drop(columns=column), AS_OF)


def test_missing_product_columns_and_table_columns_are_named(step_lines, cycles, affinity):
    with pytest.raises(ValueError, match="product_id.*product_name"):
        replenishment_cycles(step_lines.drop(columns=["product_id", "product_name"]), AS_OF)
    with pytest.raises(ValueError, match="amount"):
        best_sellers(step_lines.drop(columns="amount"), AS_OF)
    with pytest.raises(ValueError, match="cycles has no 'reminder_day'"):
        customer_next_steps(step_lines, AS_OF, cycles.drop(columns="reminder_day"), affinity)
    with pytest.raises(ValueError, match="affinity has no 'lift'"):
        customer_next_steps(step_lines, AS_OF, cycles, affinity.drop(columns="lift"))


def test_inputs_are_not_mutated(step_lines, cycles, affinity):
    before = [frame.copy() for frame in (step_lines, cycles, affinity)]
    replenishment_cycles(step_lines, AS_OF)
    next_product_affinity(step_lines, AS_OF)
    customer_next_steps(step_lines, AS_OF, cycles, affinity)
    for frame, copy in zip((step_lines, cycles, affinity), before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


def test_row_order_does_not_matter(affinity_lines, cycle_lines):
    shuffled = affinity_lines.sample(frac=1, random_state=40)
    pd.testing.assert_frame_equal(next_product_affinity(shuffled, AS_OF, min_pairs=1),
                                  next_product_affinity(affinity_lines, AS_OF, min_pairs=1))
    pd.testing.assert_frame_equal(replenishment_cycles(cycle_lines.iloc[::-1], AS_OF, min_repeat_buyers=2),
                                  replenishment_cycles(cycle_lines, AS_OF, min_repeat_buyers=2))


def test_unique_rows_sorts_and_counts_the_same_with_and_without_packing():
    rng = np.random.default_rng(40)
    a, b = rng.integers(0, 5, 200), rng.integers(0, 7, 200)
    packed = products._unique_rows((a, 5), (b, 7), counts=True)
    unpacked = products._unique_rows((a, 2**40), (b, 2**40), counts=True)  # too big to pack: lexsort path
    expected = pd.DataFrame({"a": a, "b": b}).value_counts().sort_index()
    for rows in (packed, unpacked):
        assert rows[0].tolist() == expected.index.get_level_values("a").tolist()
        assert rows[1].tolist() == expected.index.get_level_values("b").tolist()
        assert rows[2].tolist() == expected.tolist()


def test_a_product_bought_again_rarely_or_irregularly_is_not_a_consumable():
    # R: 10 buyers, 1 bought it again (10% < 15%). S: one buyer on days 0, 10, 20, 120 → intervals 10, 10, 100:
    # p25 10, p75 55 > 3 × 10. Q: one buyer, intervals 30 and 40 → p25 32.5, p75 37.5: regular.
    rows = [(f"r{i}", f"C{i}", "2026-01-05", 10, "R", "體驗包", "試用") for i in range(10)]
    rows += [("r10", "C0", "2026-02-05", 10, "R", "體驗包", "試用")]
    rows += [(f"s{i}", "D", day, 10, "S", "禮盒", "禮盒") for i, day in
             enumerate(["2025-11-01", "2025-11-11", "2025-11-21", "2026-03-01"])]
    rows += [(f"q{i}", "E", day, 10, "Q", "魚油", "保健") for i, day in
             enumerate(["2026-01-01", "2026-01-31", "2026-03-12"])]
    cycles = replenishment_cycles(product_lines(rows), AS_OF, min_repeat_buyers=1).set_index("product_key")
    assert cycles["basis"].eq("product").all()
    assert cycles["consumable"].to_dict() == {"R": False, "S": False, "Q": True}


def test_first_product_table_lists_the_biggest_entry_products_and_flags_those_below_baseline():
    """Issue 14: the table showed the 8 best rates, which hid the products that bring most customers. A product
    is flagged above or below the baseline only beyond chance: by more than 2 √(p(1 − p)/n), p the baseline
    (0.3), n its customers — b: 2 √(0.21/500) = 0.041, 0.2 < 0.259; a: 2 √(0.21/40) = 0.145, 0.75 > 0.445;
    c: 2 √(0.21/35) = 0.155, 0.4 < 0.455; e: 2 √(0.21/100) = 0.092, 0.28 > 0.208 (−2 points is noise)."""
    first_buys = pd.DataFrame({"product_key": ["a", "b", "c", "d", "e"], "product_name": ["A", "B", "C", "D", "E"],
                               "customers": [40, 500, 35, 10, 100], "repeat_customers": [30, 100, 14, 9, 28],
                               "rate": [0.75, 0.2, 0.4, 0.9, 0.28],
                               "enough_sample": [True, True, True, False, True]})
    table = products.first_product_table(first_buys, baseline_rate=0.3)
    assert table["product_key"].tolist() == ["b", "e", "a", "c"]  # by customers; d is too small to list
    assert table["below_baseline"].tolist() == [True, False, False, False]
    assert table["above_baseline"].tolist() == [False, False, True, False]
    assert table["rate_vs_baseline"].tolist() == pytest.approx([-0.1, -0.02, 0.45, 0.1])


def test_a_pair_is_clear_only_when_its_lift_above_one_is_beyond_chance():
    """Issue 14 review: pairs with lift 1.01–1.05 on a few dozen transitions were recommended. 300 customers with
    one transition each: 100 buy P then Q (40) or S (60); 100 buy R then Q (20), S (40) or U (40); 100 buy T
    twice. Next days: Q 60, S 100, T 100, U 40 of 300, so base rates Q 0.2, S 1/3, U 0.133. Clear when pairs >
    n·p + 2 √(n·p(1 − p)), n = 100:
    P → Q: 40 > 20 + 2 √16 = 28 (lift 2.0), clear;   P → S: 60 > 33.3 + 2 √22.2 = 42.8 (lift 1.8), clear;
    R → Q: 20 (lift 1.0), not clear;   R → S: 40 < 42.8 (lift 1.2: noise), not clear;
    R → U: 40 > 13.3 + 2 √11.6 = 20.1 (lift 3.0), clear."""
    rows = []
    for i in range(300):
        first, then = ("P", "Q" if i < 40 else "S") if i < 100 else \
            ("R", "Q" if i < 120 else "S" if i < 160 else "U") if i < 200 else ("T", "T")
        rows += [(f"a{i}", f"c{i}", "2026-01-05", 10, first, first, "x"),
                 (f"b{i}", f"c{i}", "2026-02-05", 10, then, then, "x")]
    table = next_product_affinity(product_lines(rows), AS_OF, min_pairs=1).set_index(["product_key", "next_product_key"])
    assert table.at[("P", "Q"), "lift"] == pytest.approx(2.0) and table.at[("R", "S"), "lift"] == pytest.approx(1.2)
    assert table["clear"].to_dict() == {("P", "Q"): True, ("P", "S"): True, ("R", "Q"): False, ("R", "S"): False,
                                        ("R", "U"): True, ("T", "T"): True}


def test_recommendable_pairs_keep_only_clear_pairs():
    affinity = pd.DataFrame({"product_key": ["x", "x", "y", "z"], "next_product_key": ["p", "q", "p", "p"],
                             "lift": [1.5, 0.8, 1.0, 2.0], "from_transitions": [100, 100, 300, 50],
                             "clear": [True, False, False, True]})
    pairs = products.recommendable_pairs(affinity, top_products=8)
    assert list(zip(pairs["product_key"], pairs["next_product_key"], strict=True)) == [("x", "p"), ("z", "p")]
    assert products.recommendable_pairs(affinity, top_products=1)["product_key"].tolist() == ["x"]


def test_purchases_coded_once_give_the_same_tables_as_the_lines(step_lines, cycle_lines, first_lines, affinity_lines):
    # A notebook codes the lines once (`products.purchases`) and passes that to every function.
    for lines in (step_lines, cycle_lines, first_lines, affinity_lines):
        coded = products.purchases(lines, AS_OF)
        cycles, affinity = replenishment_cycles(lines, AS_OF, 1), next_product_affinity(lines, AS_OF, min_pairs=1)
        pd.testing.assert_frame_equal(replenishment_cycles(coded, AS_OF, 1), cycles)
        pd.testing.assert_frame_equal(next_product_affinity(coded, AS_OF, min_pairs=1), affinity)
        pd.testing.assert_frame_equal(first_product_repeat(coded, AS_OF, min_customers=1),
                                      first_product_repeat(lines, AS_OF, min_customers=1))
        assert baseline_repeat_rate(coded, AS_OF) == pytest.approx(baseline_repeat_rate(lines, AS_OF), nan_ok=True)
        pd.testing.assert_frame_equal(best_sellers(coded, AS_OF), best_sellers(lines, AS_OF))
        pd.testing.assert_frame_equal(customer_next_steps(coded, AS_OF, cycles, affinity),
                                      customer_next_steps(lines, AS_OF, cycles, affinity))


def test_purchases_of_another_date_are_refused(step_lines):
    coded = products.purchases(step_lines, AS_OF)
    with pytest.raises(ValueError, match="as of"):
        replenishment_cycles(coded, AS_OF - pd.Timedelta(days=1))
    with pytest.raises(ValueError, match="amount"):
        products.purchases(step_lines.drop(columns="amount"), AS_OF)
