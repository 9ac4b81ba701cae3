"""NES stages, stage summaries and transitions on tiny hand-computed examples (as of 2026-03-31)."""
import numpy as np
import pandas as pd
import pytest

from crm_report.metrics import lifecycle
from crm_report.metrics.orders import purchase_orders

from .conftest import make_lines

AS_OF = pd.Period("2026-03", freq="M").end_time


@pytest.fixture
def stage_lines() -> pd.DataFrame:
    """Customers whose days since their last purchase are exact multiples of their cycle.

    A–D: 3 purchase days, intervals 4 then 16 → own cycle = median(4, 16) = 10.
    F, G: 2 purchase days (intervals 16 and 30). H–L: 1 purchase day.
    Client medians by interval number: 1st→2nd [4, 4, 4, 4 (A–D), 16 (F), 30 (G)] → 4;
    2nd→3rd [16, 16, 16, 16 (A–D)] → 16; all ten intervals → (16 + 16) / 2 = 16.
    """
    return make_lines([
        ("a1", "A", "2026-03-01", 100, "paid"), ("a2", "A", "2026-03-05", 100, "paid"),
        ("a3", "A", "2026-03-21", 100, "paid"), ("a4", "A", "2026-03-21", 50, "paid"),  # split basket
        ("b1", "B", "2026-02-19", 100, "paid"), ("b2", "B", "2026-02-23", 100, "paid"),
        ("b3", "B", "2026-03-11", 100, "paid"),
        ("c1", "C", "2026-02-09", 100, "paid"), ("c2", "C", "2026-02-13", 100, "paid"),
        ("c3", "C", "2026-03-01", 100, "paid"),
        ("d1", "D", "2026-02-08", 100, "paid"), ("d2", "D", "2026-02-12", 100, "paid"),
        ("d3", "D", "2026-02-28", 100, "paid"),
        ("f1", "F", "2026-02-27", 100, "paid"), ("f2", "F", "2026-03-15", 100, "paid"),
        ("g1", "G", "2026-01-28", 100, "paid"), ("g2", "G", "2026-02-27", 100, "paid"),
        ("h1", "H", "2026-03-27", 100, "paid"), ("h2", "H", "2026-04-02", 100, "paid"),  # April: after as-of
        ("i1", "I", "2026-03-26", 100, "paid"),
        ("j1", "J", "2026-03-19", 100, "paid"),
        ("k1", "K", "2026-03-18", 100, "paid"), ("k2", "K", "2026-03-30", 100, "cancelled"),
        ("l1", "L", "2026-03-31", 60, "paid"), ("l2", "L", "2026-03-31", 40, "paid"),  # two orders, one day
        ("m1", "M", "2026-03-02", 100, "refunded"),  # never a purchase: no row
    ])


def _expected_stages(basis_two_time: str) -> pd.DataFrame:
    day = pd.Timestamp
    return pd.DataFrame({
        "customer_id": list("ABCDFGHIJKL"),
        "purchase_days": [3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1],
        "last_purchase": [day("2026-03-21"), day("2026-03-11"), day("2026-03-01"), day("2026-02-28"),
                          day("2026-03-15"), day("2026-02-27"), day("2026-03-27"), day("2026-03-26"),
                          day("2026-03-19"), day("2026-03-18"), day("2026-03-31")],
        # to 2026-03-31: A 10, B 20, C 30, D 31 (February has 28 days), F 16, G 32, H 4, I 5, J 12, K 13, L 0
        "days_since_last": [10, 20, 30, 31, 16, 32, 4, 5, 12, 13, 0],
        # own median 10; two-time buyers: 2nd→3rd median 16; one-time buyers: 1st→2nd median 4
        "cycle_days": [10.0] * 4 + [16.0] * 2 + [4.0] * 5,
        "cycle_basis": ["own"] * 4 + [basis_two_time] * 2 + ["order_count"] * 5,
        "ratio": [1.0, 2.0, 3.0, 3.1, 1.0, 2.0, 1.0, 1.25, 3.0, 3.25, 0.0],
        # exactly 1×, 2×, 3× the cycle stay in the earlier stage; one purchase day and ≤ 1× is N
        "stage": ["E0", "S1", "S2", "S3", "E0", "S1", "N", "S1", "S2", "S3", "N"],
    })


def test_stages_at_exact_multiples_of_the_cycle(stage_lines):
    orders = purchase_orders(stage_lines, AS_OF)
    before = orders.copy()
    # 2nd→3rd intervals: exactly 4 = min_population_intervals, enough for the order-count median
    stages = lifecycle.nes_stages(orders, AS_OF, min_population_intervals=4)
    pd.testing.assert_frame_equal(stages, _expected_stages("order_count"))
    pd.testing.assert_frame_equal(orders, before)  # input untouched


def test_too_few_intervals_of_an_order_count_fall_back_to_all_intervals(stage_lines):
    orders = purchase_orders(stage_lines, AS_OF)
    # 5 needed: the four 2nd→3rd intervals are too few, so F and G use the median of all ten (16, as it
    # happens); the six 1st→2nd intervals still serve the one-time buyers
    stages = lifecycle.nes_stages(orders, AS_OF, min_population_intervals=5)
    pd.testing.assert_frame_equal(stages, _expected_stages("population"))
    # 7 needed: one-time buyers too use the all-interval median 16: 4, 5, 12, 13 and 0 days are all ≤ 1×
    stages = lifecycle.nes_stages(orders, AS_OF, min_population_intervals=7).set_index("customer_id")
    assert stages.loc[list("HIJKL"), "cycle_days"].tolist() == [16.0] * 5
    assert stages.loc[list("HIJKL"), "cycle_basis"].unique().tolist() == ["population"]
    assert stages.loc[list("HIJKL"), "stage"].tolist() == ["N"] * 5


def test_default_needs_twenty_intervals(stage_lines):
    # 6 and 4 intervals per order count: everyone without an own cycle uses the all-interval median
    stages = lifecycle.nes_stages(purchase_orders(stage_lines, AS_OF), AS_OF)
    assert stages["cycle_basis"].value_counts().to_dict() == {"population": 7, "own": 4}


def test_a_customer_new_this_month_with_two_purchase_days_is_active():
    lines = make_lines([("n1", "N1", "2026-03-02", 10, "paid"), ("n2", "N1", "2026-03-12", 10, "paid")])
    # one interval of 10 days; N1 has 2 purchase days: no 2nd→3rd interval, so the all-interval median 10;
    # 19 days since → 1.9× → S1
    stages = lifecycle.nes_stages(purchase_orders(lines, AS_OF), AS_OF, min_population_intervals=1)
    assert stages[["cycle_days", "cycle_basis", "stage"]].values.tolist() == [[10.0, "population", "S1"]]
    # on 2026-03-20 it is 8 days, ≤ 1× the cycle: E0 (not N, it bought twice)
    as_of = pd.Timestamp("2026-03-20 23:59:59")
    stages = lifecycle.nes_stages(purchase_orders(lines, as_of), as_of, min_population_intervals=1)
    assert stages["stage"].tolist() == ["E0"]


def test_no_orders_give_no_stages(stage_lines):
    orders = purchase_orders(stage_lines, pd.Timestamp("2025-12-31 23:59:59"))  # nothing before 2026
    stages = lifecycle.nes_stages(orders, pd.Timestamp("2025-12-31 23:59:59"))
    assert stages.empty
    assert list(stages.columns) == ["customer_id", "purchase_days", "last_purchase", "days_since_last",
                                    "cycle_days", "cycle_basis", "ratio", "stage"]


def test_a_client_without_any_repeat_purchase_has_no_cycle_and_no_stage():
    """Issue 9, finding 9: no interval anywhere means no cycle to stage anyone by; it no longer raises."""
    lines = make_lines([("o1", "A", "2026-03-01", 10, "paid"), ("o2", "B", "2026-03-02", 10, "paid"),
                        ("o3", "B", "2026-03-02", 10, "paid")])  # B: two orders, one day
    stages = lifecycle.nes_stages(purchase_orders(lines, AS_OF), AS_OF)
    assert stages["customer_id"].tolist() == ["A", "B"]
    assert stages["days_since_last"].tolist() == [30, 29]
    assert stages["cycle_basis"].tolist() == ["none", "none"]
    assert stages["cycle_days"].isna().all() and stages["ratio"].isna().all() and stages["stage"].isna().all()


def test_a_burst_of_purchases_does_not_make_a_short_cycle():
    """Issue 9, finding 5. Background: 30 customers who bought twice, 60 days apart (median interval 60,
    25th percentile 60 once the burst is added). Z bought four times around 11/11 (11-08, 11-11, 11-13,
    11-15: own median 2 days, spread over 7 days < 60) and then nothing: with its own 2-day cycle Z was
    'asleep' (S3) 19 days later. Z now uses the population's 4→5 median (too few: all intervals, 60 days),
    so on 12-04 Z is an active customer (E0)."""
    rows = [(f"p{i}a", f"P{i}", "2026-08-01", 100, "paid") for i in range(30)]
    rows += [(f"p{i}b", f"P{i}", "2026-09-30", 100, "paid") for i in range(30)]
    rows += [(f"z{i}", "Z", day, 100, "paid") for i, day in
             enumerate(["2026-11-08", "2026-11-11", "2026-11-13", "2026-11-15"])]
    as_of = pd.Timestamp("2026-12-04 23:59:59")
    stages = lifecycle.nes_stages(purchase_orders(make_lines(rows), as_of), as_of).set_index("customer_id")
    assert stages.loc["Z", "cycle_basis"] == "population"
    assert stages.loc["Z", "cycle_days"] == 60.0
    assert stages.loc["Z", "stage"] == "E0"


def test_no_cycle_is_shorter_than_the_clients_25th_percentile_interval():
    """Y bought every 5 days for a long time (own cycle 5, spread over 100 days); 40 others bought twice 40
    days apart. All intervals: 20 × 5 and 40 × 40 → p25 = 5 (position 14.75 of 60, still a 5). With 10 more
    of Y's kind the floor rises: the floor is the client's, not one customer's, and it only ever raises a cycle."""
    rows = [(f"y{i}", "Y", (pd.Timestamp("2026-06-01") + pd.Timedelta(days=5 * i)).strftime("%Y-%m-%d"), 10, "paid")
            for i in range(21)]
    rows += [(f"q{i}a", f"Q{i}", "2026-04-01", 100, "paid") for i in range(40)]
    rows += [(f"q{i}b", f"Q{i}", "2026-05-11", 100, "paid") for i in range(40)]
    orders = purchase_orders(make_lines(rows), AS_OF.replace(year=2026, month=12))
    as_of = pd.Timestamp("2026-12-31 23:59:59")
    intervals = lifecycle.purchase_intervals(orders)
    assert lifecycle.cycle_floor(intervals) == 5.0
    stages = lifecycle.nes_stages(orders, as_of).set_index("customer_id")
    assert stages.loc["Y", ["cycle_days", "cycle_basis"]].tolist() == [5.0, "own"]
    # a made-up floor check: with only long intervals around, a short own median is raised to p25
    rows2 = [(f"w{i}", "W", d, 10, "paid") for i, d in enumerate(["2026-01-01", "2026-01-03", "2026-03-01",
                                                                    "2026-03-03"])]
    rows2 += [(f"r{i}a", f"R{i}", "2026-01-01", 100, "paid") for i in range(10)]
    rows2 += [(f"r{i}b", f"R{i}", "2026-02-01", 100, "paid") for i in range(10)]
    orders2 = purchase_orders(make_lines(rows2), as_of)
    # W's intervals 2, 57, 2 (median 2, spread 59 ≥ median 31); all 13 intervals: p25 = 31
    stages2 = lifecycle.nes_stages(orders2, as_of).set_index("customer_id")
    assert stages2.loc["W", ["cycle_days", "cycle_basis"]].tolist() == [31.0, "own"]


def test_orders_after_as_of_and_missing_columns_raise(stage_lines):
    orders = purchase_orders(stage_lines, pd.Period("2026-04", freq="M").end_time)
    with pytest.raises(ValueError, match="order_day"):
        lifecycle.nes_stages(orders, AS_OF)
    with pytest.raises(ValueError, match="order_day"):
        lifecycle.nes_stages(orders.drop(columns="order_day"), AS_OF)


def test_previous_as_of_and_window_start():
    february = pd.Period("2026-02", freq="M")
    assert lifecycle.previous_as_of(pd.Period("2026-03", freq="M")) == february.end_time
    # on a month's last day the window is whole calendar months: 2024-02-29 is not in February 2025's
    for as_of in (pd.Period("2025-02", freq="M").end_time, pd.Timestamp("2025-02-28 12:00")):
        assert lifecycle.window_start(as_of, 12) == pd.Period("2024-02", freq="M").end_time
    assert lifecycle.window_start(AS_OF, 12) == pd.Period("2025-03", freq="M").end_time
    assert lifecycle.window_start(pd.Timestamp("2026-03-15 12:00"), 12) == pd.Timestamp("2025-03-15 12:00")


def test_stage_summary_by_hand():
    stages = pd.DataFrame({"customer_id": ["P", "Q", "R", "S"], "stage": ["S3", "E0", "E0", "N"],
                           "days_since_last": [364, 10, 20, 0]})
    lines = make_lines([
        ("p1", "P", "2025-03-31", 100, "paid"),  # the day before the 12-month window: not counted
        ("p2", "P", "2025-04-01", 200, "paid"),  # first day of the window
        ("q1", "Q", "2026-03-21", 300, "paid"),
        ("r1", "R", "2026-03-11", 400, "paid"),
        ("s1", "S", "2026-03-31", 100, "paid"),
    ])
    summary = lifecycle.stage_summary(stages, purchase_orders(lines, AS_OF), AS_OF)
    # revenue in the window: P 200, Q 300, R 400, S 100 → 1,000
    expected = pd.DataFrame({
        "stage": ["N", "E0", "S1", "S2", "S3"],
        "customers": [1, 2, 0, 0, 1],
        "customer_share": [0.25, 0.5, 0.0, 0.0, 0.25],
        "revenue": [100.0, 700.0, 0.0, 0.0, 200.0],
        "revenue_share": [0.1, 0.7, 0.0, 0.0, 0.2],
        "mean_days_since_last": [0.0, 15.0, np.nan, np.nan, 364.0],
    })
    pd.testing.assert_frame_equal(summary, expected)


def test_stage_summary_refuses_customers_without_a_stage():
    stages = pd.DataFrame({"customer_id": ["P"], "stage": ["N"], "days_since_last": [0]})
    lines = make_lines([("p1", "P", "2026-03-31", 1, "paid"), ("x1", "X", "2026-03-31", 1, "paid")])
    orders = purchase_orders(lines, AS_OF)
    with pytest.raises(ValueError, match="customer_id"):
        lifecycle.stage_summary(stages, orders, AS_OF)


def test_stage_summary_of_nobody():
    stages = pd.DataFrame({"customer_id": pd.Series([], dtype="str"), "stage": pd.Series([], dtype="str"),
                           "days_since_last": pd.Series([], dtype="int64")})
    orders = purchase_orders(make_lines([("o1", "A", "2026-04-01", 1, "paid")]), AS_OF)
    summary = lifecycle.stage_summary(stages, orders, AS_OF)
    assert summary["customers"].tolist() == [0] * 5
    assert summary["customer_share"].isna().all() and summary["revenue_share"].isna().all()


def test_transition_matrix_by_hand():
    previous = pd.Series({"a": "N", "b": "E0", "c": "S1", "d": "S1", "g": "S3"})
    current = pd.Series({"a": "E0", "b": "S1", "c": "S1", "d": "S2", "e": "N", "f": "E0"})
    matrix = lifecycle.transition_matrix(previous, current, lifecycle.STAGES)
    # a N→E0, b E0→S1, c stays S1, d S1→S2, g only last month (gone); e and f first bought this month
    expected = pd.DataFrame(
        [[0, 1, 0, 0, 0, 0],   # N
         [0, 0, 1, 0, 0, 0],   # E0
         [0, 0, 1, 1, 0, 0],   # S1
         [0, 0, 0, 0, 0, 0],   # S2
         [0, 0, 0, 0, 0, 1],   # S3
         [1, 1, 0, 0, 0, 0]],  # new
        index=pd.Index(["N", "E0", "S1", "S2", "S3", "(new)"], name="from"),
        columns=pd.Index(["N", "E0", "S1", "S2", "S3", "(gone)"], name="to"))
    pd.testing.assert_frame_equal(matrix, expected)


def test_transition_matrix_of_nobody_is_all_zeros():
    empty = pd.Series([], dtype="str")
    matrix = lifecycle.transition_matrix(empty, empty, ("loyal", "lost"))
    assert matrix.shape == (3, 3) and matrix.to_numpy().sum() == 0


@pytest.mark.parametrize("previous, current, message", [
    (pd.Series({"a": "N"}), pd.Series({"a": "X"}), "X"),                      # label outside the order
    (pd.Series({"a": "N"}), pd.Series({"a": None}), "without a label"),
    (pd.Series(["N", "E0"], index=["a", "a"]), pd.Series({"a": "N"}), "twice"),
])
def test_transition_matrix_refuses_bad_labels(previous, current, message):
    with pytest.raises(ValueError, match=message):
        lifecycle.transition_matrix(previous, current, lifecycle.STAGES)


def test_transition_matrix_refuses_reserved_labels():
    with pytest.raises(ValueError, match="reserved"):
        lifecycle.transition_matrix(pd.Series({"a": "(new)"}), pd.Series({"a": "(new)"}), ("(new)", "old"))


@pytest.fixture
def segment_matrix() -> pd.DataFrame:
    return pd.DataFrame(
        [[500, 312, 40, 0],   # loyal: 852 last month
         [40, 100, 60, 0],    # at_risk: 200
         [5, 0, 300, 0],      # lost: 305
         [400, 0, 0, 0]],     # new
        index=pd.Index(["loyal", "at_risk", "lost", "(new)"], name="from"),
        columns=pd.Index(["loyal", "at_risk", "lost", "(gone)"], name="to"))


def test_biggest_movements_skip_the_diagonal_empty_cells_and_new_customers(segment_matrix):
    moves = lifecycle.biggest_movements(segment_matrix, top=10)
    expected = pd.DataFrame({
        "from": ["loyal", "at_risk", "at_risk", "loyal", "lost"],
        "to": ["at_risk", "lost", "loyal", "lost", "loyal"],
        "customers": [312, 60, 40, 40, 5],  # the tie at 40: 40/200 before 40/852
        "share_of_from": [312 / 852, 60 / 200, 40 / 200, 40 / 852, 5 / 305],
    })
    pd.testing.assert_frame_equal(moves, expected)


def test_biggest_movements_top_and_exclude(segment_matrix):
    moves = lifecycle.biggest_movements(segment_matrix, top=2, exclude=())
    assert moves[["from", "to", "customers"]].values.tolist() == [["(new)", "loyal", 400],
                                                                  ["loyal", "at_risk", 312]]
    assert moves["share_of_from"].tolist() == [1.0, 312 / 852]
    moves = lifecycle.biggest_movements(segment_matrix, top=3, exclude=("(new)", "at_risk"))
    assert moves[["from", "to"]].values.tolist() == [["loyal", "lost"], ["lost", "loyal"]]


def test_biggest_movements_full_ties_follow_the_matrix_order():
    matrix = pd.DataFrame([[0, 3, 3], [3, 0, 3], [0, 0, 6]], index=pd.Index(["x", "y", "z"], name="from"),
                          columns=pd.Index(["x", "y", "z"], name="to"))
    # four cells of 3 customers, each half of its row: row order, then column order
    moves = lifecycle.biggest_movements(matrix, top=3)
    assert moves[["from", "to"]].values.tolist() == [["x", "y"], ["x", "z"], ["y", "x"]]


def test_shopify_segment_named_new_is_not_the_new_customer_row():
    # Shopify's RFM group "new" (recent first-time buyers) is a label like any other.
    matrix = lifecycle.transition_matrix(pd.Series({"a": "new"}), pd.Series({"a": "loyal", "b": "new"}),
                                         ("new", "loyal"))
    assert matrix.loc["new", "loyal"] == 1 and matrix.loc[lifecycle.NEW, "new"] == 1


def test_biggest_movements_when_nobody_moved():
    """Issue 9, finding 9: a month in which nobody changed stage (or with no customers at all) crashed with a
    division of integers by an empty text column."""
    same = pd.Series(["E0", "S1"], index=["a", "b"])
    for matrix in (lifecycle.transition_matrix(same, same, lifecycle.STAGES),
                   lifecycle.transition_matrix(pd.Series([], dtype="str"), pd.Series([], dtype="str"),
                                               lifecycle.STAGES)):
        moves = lifecycle.biggest_movements(matrix)
        assert moves.empty and list(moves.columns) == ["from", "to", "customers", "share_of_from"]
