"""Retail events in Taiwan and a client's own events: which of them can explain a month's sales (issue 10).

The report says *why* a month moved, not only how much: "+73% vs October: 雙11", and a year-on-year
comparison says when an event fell in another month (春節 in January last year, February this year). This
module only says which events apply to a month; whether a change is big enough to mention is decided by the
caller.

**The calendar** (`taiwan_retail_calendar.yaml`, next to this module). Each event has one date a year:
fixed dates — 西洋情人節 2/14, 520 (5/20), 618 (6/18), 雙11 (11/11), 雙12 (12/12); weekday rules — 母親節, the
second Sunday of May (Taiwan, as in the US), and Black Friday, the day after the fourth Thursday of November;
lunar dates, listed per year for 2015–2035 — 春節 (lunar 1/1), 七夕 (lunar 7/7), 中秋 (lunar 8/15): the Chinese
calendar at UTC+8 (Taiwan's time zone), with the Hong Kong Observatory's Gregorian–Lunar calendar conversion
tables as the reference, every date checked against three independent converters (the YAML names them). Years
outside 2015–2035 raise ValueError rather than leaving the lunar events out.

**Sales windows.** Customers buy for an event before it, so each event stands for a window of days around
its date (both ends included), kept simple and the same for events of one kind:

- 春節: the 21 days before it, up to New Year's Eve (除夕): the 年貨 and gift-box weeks; shops and deliveries
  stop over the holiday itself.
- 中秋: the 21 days up to and including the day: mooncakes and gift boxes are ordered weeks ahead.
- 母親節: the 14 days up to and including the day (the department stores' 母親節檔期).
- Gift days — 西洋情人節, 520, 七夕: the 7 days up to and including the day.
- Shopping-festival days — 618, 雙11, 雙12: the day ± 3 days (7 days), where the sales peak.
- Black Friday: Friday to Cyber Monday (4 days).

**Client events** (`events:` in client.yaml: a name, a first and a last day) are their own windows. Their key
is `client:` + the name, so the same promotion in two years (週年慶) is one event that can shift month.

**A month has an event** when the event's window overlaps the month, by at least one day
(`events_in_month`, which also counts the window's days in the month). An event's **month** in a given year
is the month that holds most of its window's days, the earlier one on a tie: 春節 2026 (window 27 January to
16 February) is a February event, though it also overlaps January.

`explain_change(events, month)` lists, for the summary:

- `month_events`: the events the month has, by the start of their window;
- `new_vs_previous`: those with more window days in this month than in the previous month: the events that
  can explain a rise from last month (an event that merely runs on from last month is not new);
- `gone_vs_previous`: the events with more window days in the previous month than in this one: those that
  can explain a fall;
- `yoy_shifts`: the events whose month this year is this month but last year was another (or none), and
  those whose month last year was this month but this year is another (or none); each as
  `{"key", "this_year", "last_year"}` with months as "YYYY-MM" (None: the event had no month that year).
  An event with several months in a year (a client's monthly member day) is compared with its nearest one.

Every list is in the order of the events' windows; the same events and month always give the same answer.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from crm_report.period import parse_month

CALENDAR_PATH = Path(__file__).with_name("taiwan_retail_calendar.yaml")
COLUMNS = ("key", "name", "day", "start", "end", "kind")
CLIENT_PREFIX = "client:"
"""Key of a client event: this prefix + its name, so it never clashes with a retail event's key."""
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RULES = ("fixed", "nth_weekday", "lunar")


@cache
def load_calendar(path: Path = CALENDAR_PATH) -> dict[str, Any]:
    """The retail calendar file, checked: {"first_year", "last_year", "events": {key: {"rule", "params",
    "window": (from, to), "dates": {year: date}}}}. Raises ValueError naming the file and the event."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    first, last = raw.get("first_year"), raw.get("last_year")
    if not (isinstance(first, int) and isinstance(last, int) and first <= last):
        raise ValueError(f"{path}: first_year and last_year must be years, first ≤ last")
    events = {}
    for key, spec in (raw.get("events") or {}).items():
        where = f"{path}: events.{key}"
        rules = [rule for rule in _RULES if isinstance(spec, dict) and rule in spec]
        if len(rules) != 1:
            raise ValueError(f"{where}: give exactly one of {list(_RULES)}")
        window = spec.get("window")
        if not (isinstance(window, list) and len(window) == 2 and all(isinstance(d, int) for d in window)
                and window[0] <= window[1]):
            raise ValueError(f"{where}.window: must be [from, to], days relative to the date, from ≤ to")
        rule, params = rules[0], spec[rules[0]]
        dates = {}
        if rule == "lunar":
            listed = spec.get("dates") or []
            dates = {day.year: day for day in listed if isinstance(day, dt.date)}
            if sorted(dates) != list(range(first, last + 1)) or len(listed) != len(dates):
                raise ValueError(f"{where}.dates: need exactly one date for each year {first}–{last}")
        elif rule == "fixed":
            try:
                dt.date(2000, params["month"], params["day"])   # a leap year: 29 February is a date
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"{where}.fixed: must be {{month, day}} of a date") from None
        elif rule == "nth_weekday":
            if params.get("weekday") not in WEEKDAYS or params.get("nth") not in (1, 2, 3, 4):
                raise ValueError(f"{where}.nth_weekday: weekday must be one of {list(WEEKDAYS)}, nth 1 to 4")
        events[key] = {"rule": rule, "params": params, "window": tuple(window), "dates": dates}
    return {"first_year": first, "last_year": last, "events": events}


def event_date(key: str, year: int, calendar: Mapping[str, Any] | None = None) -> dt.date:
    """The date of retail event `key` in `year` (the day itself, not its window)."""
    calendar = load_calendar() if calendar is None else calendar
    _check_years(year, year, calendar)
    if key not in calendar["events"]:
        raise ValueError(f"unknown retail event {key!r}; the calendar has {list(calendar['events'])}")
    spec = calendar["events"][key]
    params = spec["params"]
    if spec["rule"] == "lunar":
        return spec["dates"][year]
    if spec["rule"] == "fixed":
        return dt.date(year, params["month"], params["day"])
    first = dt.date(year, params["month"], 1)
    to_weekday = (WEEKDAYS.index(params["weekday"]) - first.weekday()) % 7
    return first + dt.timedelta(days=to_weekday + 7 * (params["nth"] - 1) + params.get("plus_days", 0))


def retail_events(first_year: int, last_year: int, client_events: Iterable[Any] = ()) -> pd.DataFrame:
    """Every retail event of the years `first_year`…`last_year`, and the client's events that overlap them.

    `client_events`: `config.ClientEvent`s (or mappings) with a name, a start and an end (None = start).
    Columns: key (retail: the calendar's key, e.g. "double_11"; client: "client:" + name), name (the client
    event's name; missing for retail events, whose display names are in the locale files under `events`),
    day (the event's date; a client event's start), start and end (the window, both days included), kind
    ("retail" or "client"). A retail event belongs to the year of its day (its window may begin in the year
    before). Sorted by start, then key. Raises ValueError for years the calendar does not cover.
    """
    calendar = load_calendar()
    _check_years(first_year, last_year, calendar)
    rows: list[tuple[str, str | None, dt.date, dt.date, dt.date, str]] = []
    for year in range(first_year, last_year + 1):
        for key, spec in calendar["events"].items():
            day = event_date(key, year, calendar)
            before, after = spec["window"]
            rows.append((key, None, day, day + dt.timedelta(days=before), day + dt.timedelta(days=after), "retail"))
    span_start, span_end = dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)
    for name, start, end in map(_client_event, client_events):
        if start <= span_end and end >= span_start:
            rows.append((CLIENT_PREFIX + name, name, start, start, end, "client"))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    dates = {column: pd.to_datetime(frame[column]).astype("datetime64[ns]") for column in ("day", "start", "end")}
    return (frame.assign(**dates, name=frame["name"].astype("str"))
            .sort_values(["start", "key"], kind="stable").reset_index(drop=True))


def events_in_month(events: pd.DataFrame, month: pd.Period | str) -> pd.DataFrame:
    """The events whose window overlaps `month` (a Period or "YYYY-MM"), with `days_in_month`: how many of
    the window's days fall in the month (1 or more). Sorted by start, then key; index 0…n−1."""
    _require(events)
    month = _as_month(month)
    first, last = month.start_time.normalize(), month.end_time.normalize()
    days = (events["end"].clip(upper=last) - events["start"].clip(lower=first)).dt.days + 1
    return (events.assign(days_in_month=days).loc[lambda f: f["days_in_month"] > 0]
            .sort_values(["start", "key"], kind="stable").reset_index(drop=True))


def event_months(events: pd.DataFrame) -> pd.Series:
    """Each event's month: the month that holds most of its window's days, the earlier one on a tie.

    A Series of monthly Periods aligned with `events`' index."""
    _require(events)
    windows = zip(events["start"], events["end"], strict=True)
    spans = (events[["start", "end"]]
             .assign(month=[pd.period_range(start, end, freq="M") for start, end in windows])
             .explode("month").rename_axis("row").reset_index())
    month = spans["month"].astype("period[M]")
    month_first, month_last = month.dt.start_time, month.dt.end_time.dt.normalize()
    first = spans["start"].where(spans["start"] > month_first, month_first)
    last = spans["end"].where(spans["end"] < month_last, month_last)
    # each event's months are in order, so idxmax keeps the earlier month on a tie
    most = ((last - first).dt.days + 1).groupby(spans["row"], sort=False).idxmax()
    return pd.Series(month.loc[most].to_numpy(), index=most.index, name="month").reindex(events.index)


def explain_change(events: pd.DataFrame, month: pd.Period | str) -> dict[str, Any]:
    """The events that can explain `month`'s change from the previous month and from the same month last
    year (rules in the module docstring).

    `events` must hold the retail events of `month`'s year and the year before (`retail_events(year − 1,
    year, client_events)`); otherwise ValueError. Returns {"month", "previous_month", "month_events",
    "new_vs_previous", "gone_vs_previous", "yoy_shifts"}: months as "YYYY-MM", events as keys (see
    `event_label` for their display names).
    """
    _require(events)
    month = _as_month(month)
    events = events.sort_values(["start", "key"], kind="stable")
    years = set(events.loc[events["kind"] == "retail", "day"].dt.year)
    if not {month.year - 1, month.year} <= years:
        raise ValueError(f"events must hold the retail events of {month.year - 1} and {month.year} to explain "
                         f"{month}: build them with retail_events({month.year - 1}, {month.year}, ...)")
    this, previous = _days_by_key(events, month), _days_by_key(events, month - 1)
    return {
        "month": str(month),
        "previous_month": str(month - 1),
        "month_events": list(this),
        "new_vs_previous": [key for key, days in this.items() if days > previous.get(key, 0)],
        "gone_vs_previous": [key for key, days in previous.items() if days > this.get(key, 0)],
        "yoy_shifts": _yoy_shifts(events, month),
    }


def event_label(key: str, names: Mapping[str, str]) -> str:
    """Display name of an event key: a client event's own name, else `names[key]` (the locale's `events`
    mapping; a missing name raises KeyError rather than printing the key)."""
    if key.startswith(CLIENT_PREFIX):
        return key[len(CLIENT_PREFIX):]
    return names[key]


def _days_by_key(events: pd.DataFrame, month: pd.Period) -> dict[str, int]:
    """Window days per event key in `month`, in the order of the windows' starts (keys with 0 days left out)."""
    found = events_in_month(events, month)
    return {key: int(days) for key, days in found.groupby("key", sort=False)["days_in_month"].sum().items()}


def _yoy_shifts(events: pd.DataFrame, month: pd.Period) -> list[dict[str, str | None]]:
    months = events[["key"]].assign(month=event_months(events))
    a_year_ago = month - 12
    shifts = []
    for key, rows in months.groupby("key", sort=False)["month"]:
        now = sorted(m for m in rows if m.year == month.year)
        before = sorted(m for m in rows if m.year == a_year_ago.year)
        if month in now and a_year_ago not in before:
            shifts.append({"key": key, "this_year": str(month), "last_year": _nearest(before, a_year_ago)})
        elif a_year_ago in before and month not in now:
            shifts.append({"key": key, "this_year": _nearest(now, month), "last_year": str(a_year_ago)})
    return shifts


def _nearest(months: list[pd.Period], target: pd.Period) -> str | None:
    """The month of `months` nearest to `target` (the earlier on a tie), as "YYYY-MM"; None when empty."""
    if not months:
        return None
    return str(min(months, key=lambda m: (abs((m - target).n), m)))


def _client_event(event: Any) -> tuple[str, dt.date, dt.date]:
    get = event.get if isinstance(event, Mapping) else lambda field: getattr(event, field, None)
    name, start, end = get("name"), get("start"), get("end")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"client event {event!r}: name is empty")
    if not isinstance(start, dt.date) or not isinstance(end, dt.date | None):
        raise ValueError(f"client event {name!r}: start and end must be dates")
    end = start if end is None else end
    if end < start:
        raise ValueError(f"client event {name!r}: end {end} is before start {start}")
    return name.strip(), _plain_date(start), _plain_date(end)


def _plain_date(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise ValueError(f"client event dates are days, got the time {value}")
        return value.date()
    return value


def _check_years(first_year: int, last_year: int, calendar: Mapping[str, Any]) -> None:
    covered = (calendar["first_year"], calendar["last_year"])
    if not (isinstance(first_year, int) and isinstance(last_year, int) and first_year <= last_year):
        raise ValueError(f"years must be whole numbers, first ≤ last; got {first_year!r}–{last_year!r}")
    if first_year < covered[0] or last_year > covered[1]:
        raise ValueError(f"the retail calendar covers {covered[0]}–{covered[1]} (lunar dates are listed per "
                         f"year in {CALENDAR_PATH.name}); got {first_year}–{last_year}")


def _as_month(month: pd.Period | str) -> pd.Period:
    return parse_month(month) if isinstance(month, str) else pd.Period(month, freq="M")


def _require(events: pd.DataFrame) -> None:
    missing = [column for column in COLUMNS if column not in events.columns]
    if missing:
        raise ValueError(f"events: missing column(s) {missing}; build the frame with retail_events")
