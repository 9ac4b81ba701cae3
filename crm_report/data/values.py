"""Cell values as clients' shop systems write them → typed canonical values, vectorised.

Each parser takes one column (strings from CSV and Excel, or typed values from Parquet and databases) and
returns the parsed values plus a mask of the cells that held something but could not be read, so the loader
can exclude those rows with a reason instead of losing them. Blank cells are missing, not unreadable.

Common cases take a fast path (one vectorised pandas call over the whole column); only the cells it
cannot read go through the slower cleaning steps.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

# Full-width forms (ＡＢＣ１２３，．＄－) and the ideographic space → their ASCII counterparts.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
"""Day 0 of Excel's 1900 date system as Excel counts it (its phantom 1900-02-29 makes day 60 + 1 exact)."""
EARLIEST_DATE = pd.Timestamp("1970-01-01")
"""Dates before this are not believed (an empty Excel date, a two-digit year read as the ROC year 24)."""

_ROC = re.compile(r"^(?:民國|民国)?\s*(?P<y>\d{2,3})\s*(?:[/.\-]|年)\s*(?P<m>\d{1,2})\s*(?:[/.\-]|月)\s*(?P<d>\d{1,2})"
                  r"\s*日?(?P<rest>(?:[ T].*)?)$")
_CJK_DATE = re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?(?P<rest>.*)$")
_AM_PM = re.compile(r"^(?P<date>.*?)\s*(?P<half>上午|下午|早上|中午|晚上|AM|PM|am|pm)\s*"
                    r"(?P<time>\d{1,2}:\d{2}(?::\d{2})?)\s*$")
_OFFSET = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_COMPACT = re.compile(r"^\d{8}$")
_EPOCH_S, _EPOCH_MS = re.compile(r"^\d{10}$"), re.compile(r"^\d{13}$")

_CURRENCY = re.compile(r"(NT\$|NTD|TWD|新台幣|新臺幣|US\$|USD|HK\$|HKD|RMB|CNY|人民幣|JPY|円|EUR|€|S\$|SGD|MYR|RM|GBP|£|"
                       r"[¥￥]|\$|元)", flags=re.IGNORECASE)
CURRENCY_MARKS = {"nt$": "TWD", "ntd": "TWD", "twd": "TWD", "新台幣": "TWD", "新臺幣": "TWD", "元": "TWD",
                  "us$": "USD", "usd": "USD", "hk$": "HKD", "hkd": "HKD", "rmb": "CNY", "cny": "CNY",
                  "人民幣": "CNY", "jpy": "JPY", "円": "JPY", "eur": "EUR", "€": "EUR", "s$": "SGD", "sgd": "SGD",
                  "myr": "MYR", "rm": "MYR", "gbp": "GBP", "£": "GBP", "¥": "JPY or CNY", "￥": "JPY or CNY"}
"""Currency marks in amount cells → ISO code. A bare `$` names no currency and is taken as the client's."""
_UNITS = re.compile(r"\s*(?:件|個|組|盒|瓶|包|入|份|pcs?|units?|x)\.?$", flags=re.IGNORECASE)

STATUS_WORDS = {
    # paid: the order was placed and not (yet) cancelled or refunded; pending payment still counts, as in
    # Shopify's and SHOPLINE's own sales reports (a cancellation later gets its own status).
    "paid": "paid", "completed": "paid", "complete": "paid", "fulfilled": "paid", "shipped": "paid",
    "delivered": "paid", "confirmed": "paid", "processing": "paid", "pending": "paid", "authorized": "paid",
    "partiallypaid": "paid", "partiallyrefunded": "paid", "partiallyfulfilled": "paid", "unfulfilled": "paid",
    "open": "paid", "closed": "paid", "success": "paid", "successful": "paid", "ok": "paid",
    "已付款": "paid", "已完成": "paid", "完成": "paid", "交易完成": "paid", "訂單完成": "paid", "已出貨": "paid",
    "已發貨": "paid", "已送達": "paid", "已取貨": "paid", "已到貨": "paid", "已確認": "paid", "處理中": "paid",
    "待出貨": "paid", "備貨中": "paid", "已付款待出貨": "paid", "部分退款": "paid", "已成立": "paid",
    "成立": "paid", "付款完成": "paid", "貨到付款": "paid",
    # cancelled: never a purchase
    "cancelled": "cancelled", "canceled": "cancelled", "voided": "cancelled", "void": "cancelled",
    "expired": "cancelled", "failed": "cancelled", "declined": "cancelled",
    "已取消": "cancelled", "取消": "cancelled", "訂單取消": "cancelled", "已作廢": "cancelled", "作廢": "cancelled",
    "付款失敗": "cancelled", "交易失敗": "cancelled", "逾期未付款": "cancelled", "未取貨": "cancelled",
    # refunded: a purchase undone
    "refunded": "refunded", "returned": "refunded", "return": "refunded", "refund": "refunded",
    "已退款": "refunded", "退款": "refunded", "已退貨": "refunded", "退貨": "refunded", "退貨完成": "refunded",
    "退款完成": "refunded", "全額退款": "refunded", "已退貨退款": "refunded",
}
"""Status words (normalised: lower case, without spaces, `_` or `-`) → paid / cancelled / refunded."""


def status_key(word: str) -> str:
    """How a status word is looked up: half-width, lower case, without spaces, '_' or '-'."""
    return re.sub(r"[\s_\-]+", "", word.translate(_HALFWIDTH).lower())


def halfwidth(values: pd.Series) -> pd.Series:
    """Full-width letters, digits and signs (１２３，ＮＴ＄) as ASCII; only non-ASCII cells are touched."""
    wide = ~values.str.isascii().fillna(True).astype(bool)
    if not wide.any():
        return values
    return values.mask(wide, values[wide].str.translate(_HALFWIDTH))


def clean_text(values: pd.Series) -> pd.Series:
    """Text cells stripped, blank as missing; numbers that are whole (Excel's 1001.0) without the '.0'."""
    present = values.notna()
    if pd.api.types.is_float_dtype(values.dtype):
        whole = present & values.mod(1).eq(0) & values.abs().lt(2**53)
        text = values.astype("str")
        text[whole] = values[whole].astype("int64").astype("str")
        return text.where(present)
    text = values.astype("str").str.strip()
    return text.mask(text.eq("") | ~present)


def parse_dates(values: pd.Series, timezone: str) -> tuple[pd.Series, pd.Series]:
    """Order times in the client's time zone, tz-naive; and the mask of cells that could not be read.

    Read: ISO 8601 (`2024-03-05`, `2024-03-05T14:03:00`), slashes and no zero padding (`2024/3/5 14:03`),
    Chinese (`2024年3月5日`, `下午 02:03:00`), Republic-of-China years (`113/03/05` = 2024-03-05,
    `民國113年3月5日`), Excel serial days (`45356`, `45356.5`), `20240305`, Unix epoch seconds or
    milliseconds, and text pandas can read otherwise (month first when ambiguous). A time with a UTC offset
    (`2024-03-05 14:03:00 +0800`, `…Z`) is converted to `timezone`; a time without one is already local.
    Both kinds may be mixed in one column. Dates before 1970 are not believed (unreadable).
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert(timezone).dt.tz_localize(None)
        return _plausible(parsed.astype("datetime64[ns]"), values.notna())
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return _plausible(values.astype("datetime64[ns]"), values.notna())
    text = clean_text(values)
    present = text.notna()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if present.any():
        parsed[present] = _parse_date_text(halfwidth(text[present]), timezone)
    return _plausible(parsed, present)


def _plausible(parsed: pd.Series, present: pd.Series) -> tuple[pd.Series, pd.Series]:
    parsed = parsed.where(parsed.ge(EARLIEST_DATE))
    return parsed, present & parsed.isna()


def _parse_date_text(text: pd.Series, timezone: str) -> pd.Series:
    text = _rewrite(text, _CJK_DATE, lambda m: m["y"] + "-" + m["m"] + "-" + m["d"] + m["rest"])
    roc_year = lambda m: (m["y"].astype("int64") + 1911).astype("str")  # noqa: E731
    text = _rewrite(text, _ROC, lambda m: roc_year(m) + "-" + m["m"] + "-" + m["d"] + m["rest"])
    text = _rewrite(text, _AM_PM, lambda m: m["date"] + " " + m["time"] + " "
                    + m["half"].str.upper().map({"上午": "AM", "早上": "AM", "下午": "PM", "中午": "PM",
                                                 "晚上": "PM", "AM": "AM", "PM": "PM"}))
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    serial = text.str.match(_SERIAL.pattern, na=False)
    if serial.any():
        days = pd.to_numeric(text[serial], errors="coerce")
        out[serial] = EXCEL_EPOCH + pd.to_timedelta(days.where(days.between(20000, 80000)), unit="D")
    compact = text.str.match(_COMPACT.pattern, na=False)
    if compact.any():
        out[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
    for pattern, unit in ((_EPOCH_S, "s"), (_EPOCH_MS, "ms")):
        epoch = text.str.match(pattern.pattern, na=False)
        if epoch.any():
            out[epoch] = _to_local(pd.to_datetime(text[epoch].astype("int64"), unit=unit, utc=True), timezone)
    rest = ~(serial | compact | text.str.match(r"^\d{10}(?:\d{3})?$", na=False))
    offset = rest & text.str.contains(_OFFSET.pattern, na=False)
    if offset.any():
        out[offset] = _to_local(_cascade(text[offset], utc=True), timezone)
    naive = rest & ~offset
    if naive.any():
        out[naive] = _cascade(text[naive], utc=False)
    return out


def _rewrite(text: pd.Series, pattern: re.Pattern, build) -> pd.Series:
    """Replace the cells matching `pattern` by `build(groups)`; a vectorised `re.sub` with named groups."""
    hit = text.str.match(pattern.pattern, na=False)
    if not hit.any():
        return text
    groups = text[hit].str.extract(pattern.pattern).fillna("")
    return text.mask(hit, build(groups))


def _cascade(text: pd.Series, utc: bool) -> pd.Series:
    """ISO 8601 first (fast, and lenient about `/` and padding), then pandas' per-cell guesser for the rest
    of the cells that hold a four-digit year (the guesser reads `M1` or `12` as some date otherwise)."""
    parsed = _bounded(pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc))
    todo = parsed.isna() & text.str.contains(r"(?<!\d)\d{4}(?!\d)", na=False)
    if todo.any():
        parsed[todo] = _bounded(pd.to_datetime(text[todo], format="mixed", errors="coerce", utc=utc,
                                               dayfirst=False))
    return parsed


def _bounded(parsed: pd.Series) -> pd.Series:
    """Nanosecond timestamps; values outside 1677–2262 (which nanoseconds cannot hold) become NaT."""
    low, high = pd.Timestamp("1678-01-01"), pd.Timestamp("2262-01-01")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        low, high = low.tz_localize("UTC"), high.tz_localize("UTC")
        inside = parsed.ge(low) & parsed.lt(high)
        return parsed.where(inside).astype("datetime64[ns, UTC]")
    return parsed.where(parsed.ge(low) & parsed.lt(high)).astype("datetime64[ns]")


def _to_local(parsed: pd.Series, timezone: str) -> pd.Series:
    return parsed.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[ns]")


def parse_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Money as float; the currency each cell names (ISO code, missing when none); unreadable cells.

    Read: `1234.5`, `1,234`, `NT$1,234`, `$1,234`, `1,234 元`, full-width `１，２３４`, negatives `-500`,
    `(500)` and `500-` (refunds). A cell naming another currency (`US$12`) is read, and its currency is
    returned so the loader can stop on mixed currencies.
    """
    currency = pd.Series(pd.NA, index=values.index, dtype="str")
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64"), currency, pd.Series(False, index=values.index)
    text = clean_text(values)
    number = pd.to_numeric(text, errors="coerce").astype("float64")
    todo = text.notna() & number.isna()
    if todo.any():
        cell = halfwidth(text[todo])
        mark = cell.str.extract(_CURRENCY.pattern, flags=re.IGNORECASE)[0].str.lower()
        currency[todo] = mark.map(CURRENCY_MARKS)
        number[todo] = _read_number(cell.str.replace(_CURRENCY.pattern, "", regex=True, flags=re.IGNORECASE))
    return number, currency, text.notna() & number.isna()


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Quantities and prices as float (`2`, `1,200`, `２`, `3 件`, `-1`); and the unreadable cells."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64"), pd.Series(False, index=values.index)
    text = clean_text(values)
    number = pd.to_numeric(text, errors="coerce").astype("float64")
    todo = text.notna() & number.isna()
    if todo.any():
        cell = halfwidth(text[todo]).str.replace(_UNITS.pattern, "", regex=True, flags=re.IGNORECASE)
        number[todo] = _read_number(cell.str.replace(_CURRENCY.pattern, "", regex=True, flags=re.IGNORECASE))
    return number, text.notna() & number.isna()


def _read_number(cell: pd.Series) -> pd.Series:
    """`1,234.5`, `(500)`, `500-`, `- 500` → float (NaN when still not a number)."""
    cell = cell.str.replace(r"[,\s]", "", regex=True)
    negative = cell.str.match(r"^\(.*\)$", na=False) | cell.str.match(r"^[^-].*-$", na=False)
    cell = cell.str.replace(r"^\((.*)\)$", r"\1", regex=True).str.replace(r"^([^-].*)-$", r"\1", regex=True)
    number = pd.to_numeric(cell, errors="coerce").astype("float64")
    return number.mask(negative, -number)


def parse_status(values: pd.Series, extra_words: Mapping[str, str] | None = None) -> tuple[pd.Series, pd.Series]:
    """paid / cancelled / refunded from the client's status words (Chinese or English, any case); blank →
    missing (the loader decides: another line of the order, else paid); and the mask of unknown words."""
    words = STATUS_WORDS | {status_key(word): status for word, status in (extra_words or {}).items()}
    text = clean_text(values)
    keys = halfwidth(text).str.lower().str.replace(r"[\s_\-]+", "", regex=True)
    status = keys.map(words).astype("str")
    return status.where(status.notna() & text.notna()), text.notna() & status.isna()
