"""Report months. A report for month M is computed as of the last instant of M (client's local time)."""
from __future__ import annotations

import datetime as dt
import re

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


def last_complete_month(today: dt.date) -> pd.Period:
    """The month before `today`'s month: the default report month."""
    return pd.Period(today, freq="M") - 1


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
