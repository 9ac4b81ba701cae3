"""Member tiers on a tiny hand-computed example (seed 001's 銀卡 / 金卡 / 黑卡), as of 2026-03-31."""
import numpy as np
import pandas as pd
import pytest

from crm_report.config import MemberTier
from crm_report.data.sources import DataError
from crm_report.metrics import tiers
from crm_report.metrics.lifecycle import previous_as_of
from crm_report.metrics.orders import purchase_orders

from .conftest import make_lines

MARCH = pd.Period("2026-03", freq="M")
AS_OF = MARCH.end_time
SPEND_TIERS = (("銀卡", 2000), ("金卡", 10000))
INVITED = {"黑卡": {"v", "z"}}  # z never bought: no row
ORDER = ("no_tier", "銀卡", "金卡", "黑卡")


@pytest.fixture
def tier_lines() -> pd.DataFrame:
    """12-month window for March 2026: 2025-04-01 … 2026-03-31; for February: 2025-03-01 … 2026-02-28."""
    return make_lines([
        ("a1", "a", "2025-03-31", 5000, "paid"),    # the day before March's window; in February's
        ("a2", "a", "2025-04-01", 543.67, "paid"),  # first day of March's window
        ("a3", "a", "2025-08-01", 874.53, "paid"), ("a4", "a", "2025-12-01", 196.3, "paid"),
        ("a5", "a", "2026-03-31", 385.5, "paid"),   # 2,000.00: 銀卡 (a float sum gives 1999.99…98)
        ("b1", "b", "2026-01-15", 1600, "paid"),    # exactly 80% of 2,000
        ("c1", "c", "2026-02-10", 1599, "paid"),    # just under 80%
        ("d1", "d", "2025-09-01", 8000, "paid"),    # exactly 80% of 10,000
        ("e1", "e", "2026-02-01", 5000, "paid"), ("e2", "e", "2026-03-15", 5000, "paid"),
        ("f1", "f", "2025-03-10", 3000, "paid"),    # in February's window only
        ("g1", "g", "2026-03-01", 900, "cancelled"),
        ("h1", "h", "2026-03-05", 12000, "paid"),   # new this month, straight to 金卡
        ("h2", "h", "2026-03-06", 5000, "refunded"),
        ("i1", "i", "2026-04-02", 100, "paid"),     # after the report month
        ("v1", "v", "2025-12-01", 500, "paid"),     # invited to 黑卡
    ])


@pytest.fixture
def march_tiers(tier_lines) -> pd.DataFrame:
    return tiers.assign_tiers(purchase_orders(tier_lines, AS_OF), AS_OF, SPEND_TIERS, INVITED)


EXPECTED_MARCH = pd.DataFrame({
    "customer_id": ["a", "b", "c", "d", "e", "f", "h", "v"],
    "spend_12m": [2000.0, 1600.0, 1599.0, 8000.0, 10000.0, 0.0, 12000.0, 500.0],
    "tier": ["銀卡", "no_tier", "no_tier", "銀卡", "金卡", "no_tier", "金卡", "黑卡"],
    "next_tier": ["金卡", "銀卡", "銀卡", "金卡", np.nan, "銀卡", np.nan, np.nan],  # top and invited: none
    "next_threshold": [10000.0, 2000.0, 2000.0, 10000.0, np.nan, 2000.0, np.nan, np.nan],
    "gap_to_next": [8000.0, 400.0, 401.0, 2000.0, np.nan, 2000.0, np.nan, np.nan],
    "close_to_next": [False, True, False, True, False, False, False, False],
})


def test_assign_tiers_by_hand(tier_lines, march_tiers):
    pd.testing.assert_frame_equal(march_tiers, EXPECTED_MARCH)


def test_config_tiers_give_the_same_answer(tier_lines):
    config_tiers = (MemberTier(name="銀卡", min_spend_12m=2000), MemberTier(name="金卡", min_spend_12m=10000),
                    MemberTier(name="黑卡", invitation_list="vip_invited.csv"))
    assigned = tiers.assign_tiers(purchase_orders(tier_lines, AS_OF), AS_OF, config_tiers, INVITED)
    pd.testing.assert_frame_equal(assigned, EXPECTED_MARCH)
    assert tiers.tier_order(config_tiers, INVITED) == ORDER
    with pytest.raises(ValueError, match="黑卡"):  # an invitation tier needs its ids
        tiers.assign_tiers(purchase_orders(tier_lines, AS_OF), AS_OF, config_tiers, {})


def test_the_window_start_is_exclusive():
    start = pd.Period("2025-03", freq="M").end_time  # the last instant before March 2026's 12 months
    lines = make_lines([("o1", "a", "2025-04-01", 1, "paid"), ("o2", "a", "2026-03-01", 2, "paid")])
    lines = pd.concat([lines, lines.iloc[[0]].assign(order_id="o0", order_date=start, amount=4.0)])
    assigned = tiers.assign_tiers(purchase_orders(lines, AS_OF), AS_OF, SPEND_TIERS, {})
    assert assigned["spend_12m"].tolist() == [3.0]  # 1 + 2, not the order at the start instant


def test_the_highest_invitation_wins(tier_lines):
    invited = {"黑卡": {"a", "b"}, "鑽石": {"b"}}  # lowest first
    assigned = tiers.assign_tiers(purchase_orders(tier_lines, AS_OF), AS_OF, SPEND_TIERS, invited)
    assert assigned.set_index("customer_id").loc[["a", "b", "v"], "tier"].tolist() == ["黑卡", "鑽石", "no_tier"]
    assert tiers.tier_order(SPEND_TIERS, invited) == ("no_tier", "銀卡", "金卡", "黑卡", "鑽石")


def test_no_orders_give_no_rows(tier_lines):
    orders = purchase_orders(tier_lines, pd.Timestamp("2024-12-31"))
    assigned = tiers.assign_tiers(orders, pd.Timestamp("2024-12-31"), SPEND_TIERS, INVITED)
    assert assigned.empty and list(assigned.columns) == list(EXPECTED_MARCH.columns)
    summary = tiers.tier_summary(assigned, ORDER)
    assert summary["customers"].tolist() == [0, 0, 0, 0] and summary["customer_share"].isna().all()


@pytest.mark.parametrize("bad_tiers, match", [
    ((("金卡", 10000), ("銀卡", 2000)), "rise"),
    ((("銀卡", 2000), ("銀卡", 3000)), "unique"),
    ((("no_tier", 2000),), "reserved"),
])
def test_bad_tier_lists_raise(tier_lines, bad_tiers, match):
    with pytest.raises(ValueError, match=match):
        tiers.assign_tiers(purchase_orders(tier_lines, AS_OF), AS_OF, bad_tiers, {})


def test_orders_after_as_of_and_missing_columns_raise(tier_lines):
    april = purchase_orders(tier_lines, pd.Period("2026-04", freq="M").end_time)
    with pytest.raises(ValueError, match="order_date"):
        tiers.assign_tiers(april, AS_OF, SPEND_TIERS, INVITED)
    with pytest.raises(ValueError, match="amount"):
        tiers.assign_tiers(april.drop(columns="amount"), AS_OF, SPEND_TIERS, INVITED)


def test_tier_summary_by_hand(march_tiers):
    summary = tiers.tier_summary(march_tiers, ORDER)
    # no_tier b, c, f: 1,600 + 1,599 + 0; 銀卡 a, d: 2,000 + 8,000; 金卡 e, h: 10,000 + 12,000; 黑卡 v: 500
    total = 3199 + 10000 + 22000 + 500
    expected = pd.DataFrame({
        "tier": list(ORDER),
        "customers": [3, 2, 2, 1],
        "customer_share": [3 / 8, 2 / 8, 2 / 8, 1 / 8],
        "spend_12m": [3199.0, 10000.0, 22000.0, 500.0],
        "revenue_share": [3199 / total, 10000 / total, 22000 / total, 500 / total],
        "close_to_next": [1, 1, 0, 0],  # b, d
    })
    pd.testing.assert_frame_equal(summary, expected)
    with pytest.raises(ValueError, match="黑卡"):
        tiers.tier_summary(march_tiers, ORDER[:3])


def test_tier_changes_by_hand(tier_lines, march_tiers):
    february_as_of = previous_as_of(MARCH)
    february = tiers.assign_tiers(purchase_orders(tier_lines, february_as_of), february_as_of, SPEND_TIERS,
                                  INVITED)
    # February: a 6,614.5 銀卡, b 1,600 none, c 1,599 none, d 8,000 銀卡, e 5,000 銀卡, f 3,000 銀卡,
    # v 黑卡
    # March:    a 銀卡 same, b c d v same, e 金卡 up, f none down (its spend left the window), h new
    changes = tiers.tier_changes(february, march_tiers, ORDER)
    pd.testing.assert_frame_equal(changes.counts, pd.DataFrame({
        "change": ["upgrade", "same", "downgrade", "new", "gone"], "customers": [1, 5, 1, 1, 0]}))
    expected = pd.DataFrame(
        [[2, 0, 0, 0, 0],   # no_tier: b, c
         [1, 2, 1, 0, 0],   # 銀卡: f down, a and d stay, e up
         [0, 0, 0, 0, 0],   # 金卡
         [0, 0, 0, 1, 0],   # 黑卡: v
         [0, 0, 1, 0, 0]],  # new: h
        index=pd.Index([*ORDER, "(new)"], name="from"), columns=pd.Index([*ORDER, "(gone)"], name="to"))
    pd.testing.assert_frame_equal(changes.matrix, expected)


def test_leaving_the_invitation_list_is_a_downgrade(march_tiers):
    previous = march_tiers
    current = march_tiers.assign(tier=march_tiers["tier"].replace({"黑卡": "no_tier"}))
    counts = tiers.tier_changes(previous, current, ORDER).counts.set_index("change")["customers"]
    assert counts.to_dict() == {"upgrade": 0, "same": 7, "downgrade": 1, "new": 0, "gone": 0}


def test_read_invitation_list_with_a_header(tmp_path):
    path = tmp_path / "vip.csv"
    path.write_text("name,customer_id\n王小明, C001 \n李大華,\n陳美玲,C002\n王小明,C001\n",
                    encoding="utf-8")
    assert tiers.read_invitation_list(path) == frozenset({"C001", "C002"})


def test_read_invitation_list_one_id_per_line(tmp_path):
    path = tmp_path / "vip.txt"
    path.write_text("\ufeff C010\n\n0042\n", encoding="utf-8")  # BOM, blank line, leading zero
    assert tiers.read_invitation_list(path) == frozenset({"C010", "0042"})


def test_read_invitation_list_refuses_empty_missing_and_undecodable_files(tmp_path):
    header_only = tmp_path / "header_only.csv"
    header_only.write_text("customer_id\n", encoding="utf-8")
    big5 = tmp_path / "big5.csv"
    big5.write_bytes("客戶編號\n".encode("big5"))
    for path in (header_only, tmp_path / "missing.csv", big5):
        with pytest.raises(DataError, match=path.name):
            tiers.read_invitation_list(path)


@pytest.mark.parametrize("content, message", [
    (b"customer_id\nC001\n" + "王小明\n".encode("cp950"), r"vip\.csv: not UTF-8 text \(byte 17 on line 3\)"),
    (b"name,customer_id\nA,C001\nB\nC,C003\n", r"vip\.csv row 3: no customer_id \(column 2\) in 'B'"),
    (b'customer_id\nC001\n"C002\nC003\n', r"vip\.csv row 3: not readable as CSV"),
    (b"customer_id\n\n , \n", r"vip\.csv: the invitation list holds no customer ids"),
])
def test_a_bad_invitation_list_is_a_data_error_naming_its_row_and_column(tmp_path, content, message):
    """Issue 12: a bad invitation list raised a plain ValueError (a traceback from the notebook); an open
    quote on row 3 swallowed the ids after it."""
    (tmp_path / "vip.csv").write_bytes(content)
    with pytest.raises(DataError, match=message):
        tiers.read_invitation_list(tmp_path / "vip.csv")
