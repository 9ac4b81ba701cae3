"""Cell values → typed values: each shape a client's system writes, and what is unreadable."""
import pandas as pd
import pytest

from crm_report.data import values


def test_date_shapes_to_taipei_local_time():
    cells = pd.Series(["2024-03-05", "2024/3/5 14:03", "2024-03-05T14:03:00", "2024-03-05 14:03:00 +0800",
                       "2024-03-05 01:03:00 -0500", "2024-03-05T06:03:00Z", "45356", "45356.5", "20240305",
                       "113/03/05", "113.3.5 14:03", "民國113年3月5日", "2024年3月5日", "2024/3/5 下午 02:03:00",
                       "２０２４／３／５", "Mar 5, 2024", "1709618580"], dtype="str")
    parsed, bad = values.parse_dates(cells, "Asia/Taipei")
    assert not bad.any()
    assert parsed.dt.date.eq(pd.Timestamp("2024-03-05").date()).all()
    assert parsed.iloc[[1, 2, 3, 4, 5, 13, 16]].dt.strftime("%H:%M").tolist() == ["14:03"] * 7


@pytest.mark.parametrize("cell", ["not a date", "2024-13-45", "2024-02-30", "1900-01-00", "24/3/5", "M1", "12",
                                  "2024", "2024-03", "9999-01-01"])
def test_unreadable_dates_are_flagged_not_guessed(cell):
    parsed, bad = values.parse_dates(pd.Series([cell], dtype="str"), "Asia/Taipei")
    assert parsed.isna().all() and bad.all()


def test_blank_dates_are_missing_not_unreadable():
    parsed, bad = values.parse_dates(pd.Series(["", " ", None], dtype="str"), "Asia/Taipei")
    assert parsed.isna().all() and not bad.any()


def test_typed_dates_pass_through_and_aware_ones_are_converted():
    naive = pd.Series(pd.to_datetime(["2024-03-05 14:03"]))
    aware = naive.dt.tz_localize("UTC")
    assert values.parse_dates(naive, "Asia/Taipei")[0].iloc[0] == pd.Timestamp("2024-03-05 14:03")
    assert values.parse_dates(aware, "Asia/Taipei")[0].iloc[0] == pd.Timestamp("2024-03-05 22:03")


def test_amounts_and_their_currency():
    cells = pd.Series(["1,234", "NT$1,234", "$1,234", "1,234 元", "１，２３４", "-500", "(500)", "500-", "US$12",
                       "HK$3", "abc", ""], dtype="str")
    number, currency, bad = values.parse_amounts(cells)
    assert number.iloc[:5].tolist() == [1234] * 5 and number.iloc[5:8].tolist() == [-500] * 3
    assert currency.iloc[[1, 3, 8, 9]].tolist() == ["TWD", "TWD", "USD", "HKD"] and currency.iloc[[0, 2]].isna().all()
    assert bad.tolist() == [False] * 10 + [True, False]


def test_quantities_with_units():
    number, bad = values.parse_numbers(pd.Series(["2", "3 件", "２", "1,200", "x", "4pcs"], dtype="str"))
    assert number.iloc[[0, 1, 2, 3, 5]].tolist() == [2, 3, 2, 1200, 4] and bad.tolist() == [False] * 4 + [True, False]


def test_status_words_in_chinese_and_english_and_the_clients_own():
    cells = pd.Series(["已完成", "PAID", "Partially Refunded", "已出貨", "已取消", "voided", "已退款", "退貨", "",
                       "待付款"], dtype="str")
    status, unknown = values.parse_status(cells)
    assert status.tolist()[:8] == ["paid"] * 4 + ["cancelled"] * 2 + ["refunded"] * 2
    assert pd.isna(status.iloc[8]) and not unknown.iloc[8] and unknown.iloc[9]
    assert values.parse_status(cells, {"待付款": "cancelled"})[0].iloc[9] == "cancelled"


def test_whole_numbers_lose_excels_point_zero():
    assert values.clean_text(pd.Series([1001.0, 1.5, None])).tolist()[:2] == ["1001", "1.5"]


def test_year_last_dates_are_read_in_the_order_given_never_guessed_per_cell():
    """Issue 11: `01/12/2010 08:26` is 1 December day first and 12 January month first; pandas' guesser read
    it month first and `13/12/2010` day first in the same column, a silent guess per cell."""
    cells = pd.Series(["01/12/2010 08:26", "13/12/2010", "05.01.2026", "2024/3/5", "2026-01-05"], dtype="str")
    day_first, bad = values.parse_dates(cells, "Europe/London", order="dmy")
    assert day_first.tolist() == [pd.Timestamp("2010-12-01 08:26"), pd.Timestamp("2010-12-13"),
                                  pd.Timestamp("2026-01-05"), pd.Timestamp("2024-03-05"), pd.Timestamp("2026-01-05")]
    assert not bad.any()
    month_first, bad = values.parse_dates(cells, "Europe/London", order="mdy")
    assert month_first.iloc[[0, 2, 3, 4]].tolist() == [pd.Timestamp("2010-01-12 08:26"), pd.Timestamp("2026-05-01"),
                                                      pd.Timestamp("2024-03-05"), pd.Timestamp("2026-01-05")]
    assert bad.tolist() == [False, True, False, False, False]  # no 13th month


def test_year_last_dates_without_an_order_follow_what_the_column_proves():
    proven, bad = values.parse_dates(pd.Series(["01/12/2010 08:26", "13/12/2010"], dtype="str"), "Asia/Taipei")
    assert proven.tolist() == [pd.Timestamp("2010-12-01 08:26"), pd.Timestamp("2010-12-13")] and not bad.any()
    undecided, bad = values.parse_dates(pd.Series(["01/12/2010", "2024-03-05"], dtype="str"), "Asia/Taipei")
    assert pd.isna(undecided.iloc[0]) and bad.tolist() == [True, False]  # unread, not guessed
    mixed, bad = values.parse_dates(pd.Series(["13/12/2010", "12/13/2010"], dtype="str"), "Asia/Taipei")
    assert mixed.isna().all() and bad.all()


def test_read_dates_keeps_both_readings_of_year_last_cells():
    dates, bad, year_last = values.read_dates(
        pd.Series(["01/12/2010", "13/12/2010", "31/13/2010", "2024-03-05", "1.2.2026 14:00"], dtype="str"),
        "Asia/Taipei")
    assert dates.iloc[:3].isna().all() and dates.iloc[3] == pd.Timestamp("2024-03-05")
    assert bad.tolist() == [False, False, True, False, False]  # 31/13 reads neither way
    assert year_last.index.tolist() == [0, 1, 4]
    assert year_last["dmy"].tolist() == [pd.Timestamp("2010-12-01"), pd.Timestamp("2010-12-13"),
                                         pd.Timestamp("2026-02-01 14:00")]
    assert year_last["mdy"].iloc[[0, 2]].tolist() == [pd.Timestamp("2010-01-12"), pd.Timestamp("2026-01-02 14:00")]
    assert pd.isna(year_last["mdy"].iloc[1])
    assert values.proven_order(year_last) == "dmy" and values.proven_order(year_last.iloc[[0, 2]]) is None
