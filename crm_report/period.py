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
