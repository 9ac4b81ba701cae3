"""Retail calendar and client events: dates, windows, which events a month has, and what can explain a change.

Every expected value below is worked out by hand from the module docstring's rules."""
import datetime as dt
import tomllib
from fnmatch import fnmatch
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crm_report import i18n
from crm_report.metrics import events as ev

D = dt.date


def frame(rows):
    """An events frame as `retail_events` builds it, from (key, name, day, start, end, kind) rows."""
    table = pd.DataFrame(rows, columns=list(ev.COLUMNS))
    return table.assign(**{c: pd.to_datetime(table[c]).astype("datetime64[ns]") for c in ("day", "start", "end")},
                        name=table["name"].astype("str"))


# --- the calendar ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, year, day", [
    ("lunar_new_year", 2025, D(2025, 1, 29)),
    ("lunar_new_year", 2026, D(2026, 2, 17)),
    ("lunar_new_year", 2030, D(2030, 2, 3)),    # some folk calendars say 2 February; HKO says 3 February
    ("qixi", 2025, D(2025, 8, 29)),
    ("mid_autumn", 2025, D(2025, 10, 6)),
    ("mid_autumn", 2033, D(2033, 9, 8)),        # 2033 has a leap 11th month, not a leap 7th
])
def test_lunar_dates_match_the_hong_kong_observatory_tables(key, year, day):
    assert ev.event_date(key, year) == day


@pytest.mark.parametrize("key, year, day", [
    ("mothers_day", 2022, D(2022, 5, 8)),       # 1 May 2022 was a Sunday: the 2nd Sunday is the 8th
    ("mothers_day", 2025, D(2025, 5, 11)),
    ("mothers_day", 2026, D(2026, 5, 10)),
    ("black_friday", 2024, D(2024, 11, 29)),    # Thanksgiving 28 November 2024
    ("black_friday", 2025, D(2025, 11, 28)),
    ("black_friday", 2026, D(2026, 11, 27)),
    ("double_11", 2031, D(2031, 11, 11)),
    ("day_520", 2015, D(2015, 5, 20)),
])
def test_rule_dates(key, year, day):
    assert ev.event_date(key, year) == day


def test_an_unknown_event_is_named():
    with pytest.raises(ValueError, match="unknown retail event 'boxing_day'.*'double_11'"):
        ev.event_date("boxing_day", 2026)


def test_lunar_dates_are_plausible_every_year():
    """Whole-calendar checks that a typo in the YAML would fail: 春節 falls between 21 January and 20 February;
    七夕 → 中秋 is lunar 7/7 → 8/15 with no leap 7th month from 2015 to 2035, so 29 − 7 + 15 = 37 or 38 days
    (the 7th month has 29 or 30 days); consecutive New Years are 12 or 13 lunar months apart (353–355 or
    383–385 days)."""
    calendar = ev.load_calendar()
    assert (calendar["first_year"], calendar["last_year"]) == (2015, 2035)
    new_years = [ev.event_date("lunar_new_year", year) for year in range(2015, 2036)]
    assert all(D(y.year, 1, 21) <= y <= D(y.year, 2, 20) for y in new_years)
    assert all((b - a).days in (353, 354, 355, 383, 384, 385) for a, b in pairwise(new_years))
    for year in range(2015, 2036):
        assert (ev.event_date("mid_autumn", year) - ev.event_date("qixi", year)).days in (37, 38), year


def test_retail_events_of_2026():
    expected = frame([
        ("lunar_new_year", None, "2026-02-17", "2026-01-27", "2026-02-16", "retail"),
        ("valentines_day", None, "2026-02-14", "2026-02-08", "2026-02-14", "retail"),
        ("mothers_day", None, "2026-05-10", "2026-04-27", "2026-05-10", "retail"),
        ("day_520", None, "2026-05-20", "2026-05-14", "2026-05-20", "retail"),
        ("day_618", None, "2026-06-18", "2026-06-15", "2026-06-21", "retail"),
        ("qixi", None, "2026-08-19", "2026-08-13", "2026-08-19", "retail"),
        ("mid_autumn", None, "2026-09-25", "2026-09-05", "2026-09-25", "retail"),
        ("double_11", None, "2026-11-11", "2026-11-08", "2026-11-14", "retail"),
        ("black_friday", None, "2026-11-27", "2026-11-27", "2026-11-30", "retail"),
        ("double_12", None, "2026-12-12", "2026-12-09", "2026-12-15", "retail"),
    ])
    assert_frame_equal(ev.retail_events(2026, 2026), expected)


def test_client_events_join_the_years_they_overlap():
    client = [
        {"name": "週年慶", "start": D(2025, 12, 28), "end": D(2026, 1, 3)},   # overlaps 2026: kept
        {"name": "品牌日", "start": D(2026, 3, 8), "end": None},               # one day
        {"name": "舊活動", "start": D(2024, 6, 1), "end": D(2024, 6, 2)},     # before 2026: left out
    ]
    found = ev.retail_events(2026, 2026, client)
    assert found["kind"].tolist().count("client") == 2
    clients = found.loc[found["kind"] == "client"].reset_index(drop=True)
    assert_frame_equal(clients, frame([
        ("client:週年慶", "週年慶", "2025-12-28", "2025-12-28", "2026-01-03", "client"),
        ("client:品牌日", "品牌日", "2026-03-08", "2026-03-08", "2026-03-08", "client"),
    ]))
    assert found["start"].is_monotonic_increasing


def test_client_events_from_the_config_are_accepted():
    from crm_report.config import ClientEvent

    found = ev.retail_events(2026, 2026, [ClientEvent(name=" 會員日 ", start=D(2026, 7, 1))])
    row = found.loc[found["kind"] == "client"].iloc[0]
    assert (row["key"], row["name"], row["end"]) == ("client:會員日", "會員日", pd.Timestamp("2026-07-01"))


@pytest.mark.parametrize("client, message", [
    ({"name": " ", "start": D(2026, 1, 1)}, "name is empty"),
    ({"name": "x", "start": D(2026, 1, 5), "end": D(2026, 1, 4)}, "end 2026-01-04 is before start 2026-01-05"),
    ({"name": "x", "start": "2026-01-05"}, "must be dates"),
    ({"name": "x", "start": dt.datetime(2026, 1, 5, 10, 30)}, "dates are days"),
])
def test_bad_client_events_are_refused(client, message):
    with pytest.raises(ValueError, match=message):
        ev.retail_events(2026, 2026, [client])


@pytest.mark.parametrize("first, last", [(2014, 2026), (2030, 2036), (2027, 2026)])
def test_years_outside_the_calendar_are_refused(first, last):
    with pytest.raises(ValueError, match="2015–2035|first ≤ last"):
        ev.retail_events(first, last)


# --- months -------------------------------------------------------------------------------------------------

EVENTS_2025_2026 = ev.retail_events(2025, 2026)


def test_events_in_month_counts_the_window_days_inside_it():
    feb = ev.events_in_month(EVENTS_2025_2026, "2026-02")
    assert feb[["key", "days_in_month"]].values.tolist() == [["lunar_new_year", 16], ["valentines_day", 7]]
    jan = ev.events_in_month(EVENTS_2025_2026, pd.Period("2026-01", "M"))   # 27–31 January
    assert jan[["key", "days_in_month"]].values.tolist() == [["lunar_new_year", 5]]
    assert ev.events_in_month(EVENTS_2025_2026, "2026-03").empty
    nov = ev.events_in_month(EVENTS_2025_2026, "2025-11")   # Black Friday 28 Nov – 1 Dec 2025: 3 days in November
    assert nov[["key", "days_in_month"]].values.tolist() == [["double_11", 7], ["black_friday", 3]]
    assert list(nov.columns) == [*ev.COLUMNS, "days_in_month"]


def test_an_events_month_holds_most_of_its_window_the_earlier_on_a_tie():
    events = frame([
        ("a", None, "2026-02-17", "2026-01-27", "2026-02-16", "retail"),   # 5 days in Jan, 16 in Feb
        ("b", "b", "2026-01-30", "2026-01-30", "2026-02-02", "client"),    # 2 and 2: January
        ("c", "c", "2026-03-31", "2026-03-31", "2026-05-01", "client"),    # 1, 30 and 1: April
        ("d", "d", "2026-06-05", "2026-06-05", "2026-06-05", "client"),
    ])
    assert ev.event_months(events).tolist() == [pd.Period(m, "M") for m in ("2026-02", "2026-01", "2026-04",
                                                                            "2026-06")]


def test_double_11_explains_november_against_october():
    assert ev.explain_change(EVENTS_2025_2026, "2026-11") == {
        "month": "2026-11", "previous_month": "2026-10",
        "month_events": ["double_11", "black_friday"],
        "new_vs_previous": ["double_11", "black_friday"],
        "gone_vs_previous": [],
        "yoy_shifts": [],
    }


def test_lunar_new_year_moved_from_january_2025_to_february_2026():
    shift = [{"key": "lunar_new_year", "this_year": "2026-02", "last_year": "2025-01"}]
    january = ev.explain_change(EVENTS_2025_2026, "2026-01")
    assert january["month_events"] == ["lunar_new_year"]           # its first 5 days
    assert january["new_vs_previous"] == ["lunar_new_year"]         # 5 days against none in December
    assert january["gone_vs_previous"] == ["black_friday", "double_12"]
    assert january["yoy_shifts"] == shift                          # January 2025 had it, January 2026 not
    february = ev.explain_change(EVENTS_2025_2026, "2026-02")
    assert february["new_vs_previous"] == ["lunar_new_year", "valentines_day"]   # 16 days against 5
    assert february["yoy_shifts"] == shift
    march = ev.explain_change(EVENTS_2025_2026, "2026-03")
    assert (march["month_events"], march["gone_vs_previous"], march["yoy_shifts"]) == (
        [], ["lunar_new_year", "valentines_day"], [])


def test_an_event_running_on_from_last_month_is_not_new():
    events = pd.concat([EVENTS_2025_2026, frame([
        ("client:年終慶", "年終慶", "2026-06-10", "2026-06-10", "2026-07-05", "client")])])   # 21 June days, 5 July
    july = ev.explain_change(events, "2026-07")
    assert july["month_events"] == ["client:年終慶"]
    assert july["new_vs_previous"] == []
    assert july["gone_vs_previous"] == ["client:年終慶", "day_618"]   # by start, though appended last


def test_client_event_shifts_year_on_year():
    client = [{"name": "週年慶", "start": D(2025, 10, 20), "end": D(2025, 11, 2)},   # 12 Oct days, 2 Nov: October
              {"name": "週年慶", "start": D(2026, 11, 2), "end": D(2026, 11, 15)},
              {"name": "快閃", "start": D(2026, 11, 20)}]                            # new this year
    events = ev.retail_events(2025, 2026, client)
    november = ev.explain_change(events, "2026-11")
    assert november["month_events"] == ["client:週年慶", "double_11", "client:快閃", "black_friday"]
    assert november["yoy_shifts"] == [{"key": "client:週年慶", "this_year": "2026-11", "last_year": "2025-10"},
                                      {"key": "client:快閃", "this_year": "2026-11", "last_year": None}]
    october = ev.explain_change(events, "2026-10")
    assert october["yoy_shifts"] == [{"key": "client:週年慶", "this_year": "2026-11", "last_year": "2025-10"}]


def test_a_repeated_client_event_is_compared_with_its_nearest_month():
    monthly = [{"name": "會員日", "start": D(year, month, 1)} for year, month in
               [(2025, 3), (2025, 4), (2025, 9), (2026, 3), (2026, 6)]]
    events = ev.retail_events(2025, 2026, monthly)
    assert ev.explain_change(events, "2026-03")["yoy_shifts"] == []
    assert ev.explain_change(events, "2026-04")["yoy_shifts"] == [
        {"key": "client:會員日", "this_year": "2026-03", "last_year": "2025-04"}]
    # June 2026 has no June 2025: April and September 2025 are 2 and 3 months away, April is the nearer
    assert ev.explain_change(events, "2026-06")["yoy_shifts"] == [
        {"key": "client:會員日", "this_year": "2026-06", "last_year": "2025-04"}]


def test_explain_change_needs_both_years():
    with pytest.raises(ValueError, match=r"retail events of 2025 and 2026 .*retail_events\(2025, 2026"):
        ev.explain_change(ev.retail_events(2026, 2026), "2026-05")
    with pytest.raises(ValueError, match="missing column"):
        ev.explain_change(pd.DataFrame({"key": []}), "2026-05")
    with pytest.raises(ValueError, match="YYYY-MM"):
        ev.explain_change(EVENTS_2025_2026, "2026-5")


def test_events_frames_are_not_mutated():
    before = EVENTS_2025_2026.copy()
    ev.explain_change(EVENTS_2025_2026, "2026-02")
    ev.event_months(EVENTS_2025_2026)
    assert_frame_equal(EVENTS_2025_2026, before)


# --- names, the data file ------------------------------------------------------------------------------------

def test_every_event_has_a_display_name_in_both_locales():
    for locale in i18n.LOCALES:
        names = i18n.strings(locale)["events"]
        for key in ev.load_calendar()["events"]:
            assert ev.event_label(key, names)
    names = i18n.strings("zh-TW")["events"]
    assert [ev.event_label(k, names) for k in ("lunar_new_year", "double_11", "client:週年慶")] == [
        "春節", "雙11", "週年慶"]
    with pytest.raises(KeyError):
        ev.event_label("boxing_day", names)


@pytest.mark.parametrize("text, message", [
    ("first_year: 2015\nlast_year: 2016\nevents:\n  x: {window: [0, 1]}\n", r"events.x: give exactly one of"),
    ("first_year: 2015\nlast_year: 2016\nevents:\n  x: {fixed: {month: 1, day: 1}, window: [1, 0]}\n",
     r"events.x.window: must be \[from, to\]"),
    ("first_year: 2015\nlast_year: 2016\nevents:\n  x: {lunar: {month: 1, day: 1}, window: [0, 0], "
     "dates: [2015-02-19]}\n", r"events.x.dates: need exactly one date for each year 2015–2016"),
    ("first_year: 2015\nlast_year: 2016\nevents:\n  x: {lunar: {month: 1, day: 1}, window: [0, 0], "
     "dates: [2015-02-19, 2016-02-08, 2016-02-09]}\n", r"events.x.dates: need exactly one date"),
    ("first_year: 2015\nlast_year: 2016\nevents:\n  x: {nth_weekday: {month: 5, nth: 2, weekday: sun}, "
     "window: [0, 0]}\n", r"events.x.nth_weekday: weekday must be one of"),
    ("first_year: 2015\nlast_year: 2016\nevents:\n  x: {fixed: {month: 2, day: 30}, window: [0, 0]}\n",
     r"events.x.fixed: must be \{month, day\}"),
    ("first_year: 2016\nlast_year: 2015\nevents: {}\n", "first ≤ last"),
])
def test_a_broken_calendar_file_names_the_event(tmp_path, text, message):
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        ev.load_calendar(path)


def test_the_calendar_ships_with_the_package():
    """Without package-data a wheel would leave the YAML out and every report would fail on page 1."""
    root = Path(__file__).resolve().parents[1]
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(fnmatch(ev.CALENDAR_PATH.name, pattern) for pattern in package_data["crm_report.metrics"])


def test_the_windows_are_those_the_methodology_text_states():
    """`events._method` in both locale files spells these windows out: change the text with the YAML."""
    windows = {key: spec["window"] for key, spec in ev.load_calendar()["events"].items()}
    assert windows == {
        "lunar_new_year": (-21, -1), "mid_autumn": (-20, 0), "mothers_day": (-13, 0),
        "valentines_day": (-6, 0), "day_520": (-6, 0), "qixi": (-6, 0),
        "day_618": (-3, 3), "double_11": (-3, 3), "double_12": (-3, 3), "black_friday": (0, 3),
    }
