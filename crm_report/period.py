"""Report months. A report for month M is computed as of the last instant of M (client's local time)."""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> pd.Period:
    """'2026-10' -> Period('2026-10', 'M'); anything else raises ValueError saying what is expected."""
    if not isinstance(text, str) or not _MONTH.match(text):
        raise ValueError(f"month must look like 2026-10 (YYYY-MM), got {text!r}")
    return pd.Period(text, freq="M")


def as_of(month: pd.Period) -> pd.Timestamp:
    """The last instant of `month`: orders at or before it belong to the report."""
    return month.end_time


def local_now(timezone: str, utc: pd.Timestamp | None = None) -> pd.Timestamp:
    """The wall-clock time in `timezone` (an IANA name, the client's `timezone`) at the instant `utc` (default:
    now), tz-naive like every order date. One clock for the loader's "future date" rule and the "month not
    over yet" rule: on a machine running in UTC, 2026-10-31 17:00 UTC is already 2026-11-01 in Taipei."""
    instant = pd.Timestamp.now(tz="UTC") if utc is None else pd.Timestamp(utc)
    instant = instant.tz_localize("UTC") if instant.tzinfo is None else instant
    return instant.tz_convert(timezone).tz_localize(None)


def report_months(timezones: Iterable[str], utc: pd.Timestamp | None = None) -> tuple[pd.Period, pd.Period]:
    """(the default report month, the latest month that can be reported) at the instant `utc` (default: now),
    for clients in `timezones` (their `timezone`s; none: UTC). The default is the latest month over in every
    client's zone, the latest month the one begun in any: at 2026-11-30 23:00 UTC November is over in Taipei
    but not in New York, so (October, December) for both; the machine's own date plays no part."""
    months = [pd.Period(local_now(zone, utc), freq="M") for zone in dict.fromkeys(timezones)] or \
        [pd.Period(local_now("UTC", utc), freq="M")]
    return min(months) - 1, max(months)


def window_start(as_of: pd.Timestamp, months: int) -> pd.Timestamp:
    """Exclusive start of the trailing window of `months` calendar months that ends at `as_of`.

    An order is in the window when start < order_date ≤ as_of. When `as_of` falls on the last day of a
    month M (the report's as-of is the last instant of M) the start is the last instant of month
    M − `months`, so the window is exactly the calendar months M − `months` + 1 … M (leap days included:
    for February 2025 it starts on 2024-03-01). For any other `as_of` it is the same instant `months`
    calendar months earlier (pandas `DateOffset`, clipped to the shorter month).
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    if as_of.is_month_end:
        return (as_of.to_period("M") - months).end_time
    return as_of - pd.DateOffset(months=months)


PARTIAL_CHANCE = 0.01
"""How unlikely the days without an order at the end of a month must be before the month counts as partial."""
RATE_DAYS = 91
"""The days before the data end over which the shop's usual order rate is measured."""


@dataclass(frozen=True)
class DataEnd:
    """Where an export ends against a report month (`data_end`)."""

    last_day: pd.Timestamp
    """The day of the latest order in the export (any status)."""
    days_missing: int
    """Days of the month after `last_day` (0 when the data reach the month's last day or run past it)."""
    daily_orders: float
    """Orders per day in the `RATE_DAYS` days up to `last_day`."""
    unfinished: bool = False
    """The month is not over yet: its last day is the `today` given to `data_end` or later."""

    @property
    def chance(self) -> float:
        """The chance of `days_missing` days without a single order at `daily_orders` (Poisson): e^(−rate × days)."""
        return math.exp(-self.daily_orders * self.days_missing)

    @property
    def partial(self) -> bool:
        """The month is partial: it is not over yet (`unfinished`), or days are missing at its end and so many
        days without an order are less likely than `PARTIAL_CHANCE` (1%) at the shop's usual rate, so the
        export stopped rather than the shop."""
        return self.unfinished or (self.days_missing > 0 and self.chance < PARTIAL_CHANCE)


def data_end(order_dates: pd.Series, order_ids: pd.Series, month: pd.Period,
             today: pd.Timestamp | None = None) -> DataEnd | None:
    """Where the export's orders end against `month` (None without a dated order).

    A month's data are **partial** when the export ends before the month does: its latest order falls `d`
    days before the month's last day and, at the shop's usual rate `r` (distinct orders per day in the
    `RATE_DAYS` = 91 days up to that order, days before the export began counting as days without orders),
    `d` days without a single order would happen with a chance e^(−r·d) below 1% (two Poisson days without
    an order, at 3 orders a day: 0.25%). A shop with 100 orders a day is partial after one missing day; one
    with 10 orders a month only after 14. The export's latest order counts, not the month's: a quiet end of
    the month is not partial when later orders show the shop went on. A month that ends after `today` is
    partial whatever the rate (`unfinished`): however few orders a shop has, the rest of the month is to come.
    """
    dated = order_dates.notna()
    if not dated.any():
        return None
    last_day = order_dates[dated].max().normalize()
    recent = order_dates.ge(last_day - pd.Timedelta(days=RATE_DAYS - 1))
    rate = order_ids[recent].nunique() / RATE_DAYS
    missing = max(0, (month.end_time.normalize() - last_day).days)
    unfinished = today is not None and month.end_time.normalize() >= pd.Timestamp(today).normalize()
    return DataEnd(last_day=last_day, days_missing=missing, daily_orders=rate, unfinished=unfinished)
