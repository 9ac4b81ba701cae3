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

# Full-width forms (ＡＢＣ１２３，．＄－), the ideographic and the no-break space → their ASCII counterparts.
# Patterns below spell digits [0-9] and blanks [ \t], never \d or \s, so pandas runs them in Arrow's RE2
# engine (C++) instead of Python's `re` cell by cell.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xA0: 0x20}

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
"""Day 0 of Excel's 1900 date system as Excel counts it (its phantom 1900-02-29 makes day 60 + 1 exact)."""
EARLIEST_DATE = pd.Timestamp("1970-01-01")
"""Dates before this are not believed (an empty Excel date, a two-digit year read as the ROC year 24)."""

_ROC = re.compile(r"^(?:民國|民国)?[ \t]*(?P<y>[0-9]{2,3})[ \t]*(?:[/.\-]|年)[ \t]*(?P<m>[0-9]{1,2})[ \t]*"
                  r"(?:[/.\-]|月)[ \t]*(?P<d>[0-9]{1,2})[ \t]*日?(?P<rest>(?:[ T].*)?)$")
_CJK_DATE = re.compile(r"^(?P<y>[0-9]{4})[ \t]*年[ \t]*(?P<m>[0-9]{1,2})[ \t]*月[ \t]*(?P<d>[0-9]{1,2})[ \t]*日?"
                       r"(?P<rest>.*)$")
_AM_PM = re.compile(r"^(?P<date>.*?)[ \t]*(?P<half>上午|下午|早上|中午|晚上|AM|PM|am|pm)[ \t]*"
                    r"(?P<time>[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)[ \t]*$")
_OFFSET = re.compile(r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?[ \t]*(?:Z|[+-][0-9]{2}:?[0-9]{2}|UTC|GMT)$")
_SERIAL = re.compile(r"^[0-9]{5}(?:\.[0-9]+)?$")
_COMPACT = re.compile(r"^[0-9]{8}$")
_EPOCH_S, _EPOCH_MS = re.compile(r"^[0-9]{10}$"), re.compile(r"^[0-9]{13}$")

_CURRENCY = (r"(?i)(NT\$|NTD|TWD|新台幣|新臺幣|US\$|USD|HK\$|HKD|RMB|CNY|人民幣|JPY|円|EUR|€|S\$|SGD|MYR|RM|GBP|£|"
             r"[¥￥]|\$|元)")
CURRENCY_MARKS = {"nt$": "TWD", "ntd": "TWD", "twd": "TWD", "新台幣": "TWD", "新臺幣": "TWD", "元": "TWD",
                  "us$": "USD", "usd": "USD", "hk$": "HKD", "hkd": "HKD", "rmb": "CNY", "cny": "CNY",
                  "人民幣": "CNY", "jpy": "JPY", "円": "JPY", "eur": "EUR", "€": "EUR", "s$": "SGD", "sgd": "SGD",
                  "myr": "MYR", "rm": "MYR", "gbp": "GBP", "£": "GBP", "¥": "JPY or CNY", "￥": "JPY or CNY"}
"""Currency marks in amount cells → ISO code. A bare `$` names no currency and is taken as the client's."""
_UNITS = r"(?i)[ \t]*(?:件|個|組|盒|瓶|包|入|份|pcs?|units?|x)\.?$"

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
    "onhold": "paid", "運送中": "paid", "進行中": "paid", "已結案": "paid",  # WooCommerce, Shopee, CYBERBIZ
    # cancelled: never a purchase
    "cancelled": "cancelled", "canceled": "cancelled", "voided": "cancelled", "void": "cancelled",
    "expired": "cancelled", "failed": "cancelled", "declined": "cancelled",
    "已取消": "cancelled", "取消": "cancelled", "訂單取消": "cancelled", "已作廢": "cancelled", "作廢": "cancelled",
    "付款失敗": "cancelled", "交易失敗": "cancelled", "逾期未付款": "cancelled", "未取貨": "cancelled",
    "不成立": "cancelled",  # Shopee: an order that never went through
    # refunded: a purchase undone
    "refunded": "refunded", "returned": "refunded", "return": "refunded", "refund": "refunded",
    "已退款": "refunded", "退款": "refunded", "已退貨": "refunded", "退貨": "refunded", "退貨完成": "refunded",
    "退款完成": "refunded", "全額退款": "refunded", "已退貨退款": "refunded",
}
"""Status words (normalised: lower case, without spaces, `_` or `-`) → paid / cancelled / refunded."""


def status_key(word: str) -> str:
    """How a status word is looked up: half-width, lower case, without spaces, '_' or '-'."""
    return re.sub(r"[\s_\-]+", "", word.translate(_HALFWIDTH).lower())


_WIDE = "[\uff01-\uff5e\u3000\u00a0]"  # the characters themselves (not escapes), so Arrow's RE2 can search


def halfwidth(values: pd.Series) -> pd.Series:
    """Full-width letters, digits and signs (１２３，ＮＴ＄) as ASCII; only the cells holding one are touched."""
    wide = values.str.contains(_WIDE, na=False)
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
    text = values.astype("str")
    if _may_hold_controls(text):
        control = text.str.contains(_CONTROL, na=False)
        text = text.mask(control, text[control].str.replace(_CONTROL, "", regex=True))
    text = text.str.strip()
    return text.mask(text.eq("") | ~present)


_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
"""Control characters removed from text at load (NUL, bell, escape, DEL …; tab and line breaks are kept):
they carry nothing a report shows, and Excel files cannot hold them (the campaign export would fail)."""
_CONTROL_BYTES = np.zeros(256, dtype=bool)
_CONTROL_BYTES[[*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]] = True


def _may_hold_controls(text: pd.Series) -> bool:
    """Whether any cell may hold a control character: one look-up per byte of Arrow's string buffers (UTF-8
    never uses these bytes inside a character), 20 times faster than a regex over every cell."""
    import pyarrow as pa

    try:
        arrow = pa.array(text, from_pandas=True)
    except (pa.ArrowException, TypeError):
        return True
    for chunk in getattr(arrow, "chunks", [arrow]):
        buffers = chunk.buffers()
        if not pa.types.is_string(chunk.type) and not pa.types.is_large_string(chunk.type):
            return True
        if len(buffers) > 2 and buffers[2] is not None and _CONTROL_BYTES[np.frombuffer(buffers[2], np.uint8)].any():
            return True
    return False


MAX_AMOUNT = 1e9
"""An amount (or quantity × unit price) beyond NT$1 billion on one order line is not believed: it is a misread
(an id in the amount column, `1e309` read as infinity) that would swamp every total or break results.json."""


MAX_QUANTITY = 1e6
"""A quantity beyond a million on one order line is not believed either."""


def implausible(numbers: pd.Series, limit: float = MAX_AMOUNT) -> pd.Series:
    """Numbers that are infinite or beyond `limit` either way (missing ones are not)."""
    finite = np.isfinite(numbers.to_numpy(dtype="float64", na_value=np.nan))
    return pd.Series(numbers.notna().to_numpy() & (~finite | (numbers.abs() > limit).to_numpy()),
                     index=numbers.index)


DATE_ORDERS = ("dmy", "mdy", "ymd")
"""How dates written with the year last (`05/01/2026`, `05.01.2026`, `05-01-2026`) are read: `dmy` day first
(5 January), `mdy` month first (May 1); `ymd` says the client writes the year first, so such a date is wrong.
Dates with the year first (`2026-01-05`, `2026/1/5`, `113/01/05`) are read the same under every order."""

_YEAR_LAST = re.compile(r"^(?P<a>[0-9]{1,2})[ \t]*[/.\-][ \t]*(?P<b>[0-9]{1,2})[ \t]*[/.\-][ \t]*(?P<y>[0-9]{4})"
                        r"(?P<rest>(?:[ T].*)?)$")


def parse_dates(values: pd.Series, timezone: str, order: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Order times in the client's time zone, tz-naive; and the mask of cells that could not be read.

    Read: ISO 8601 (`2024-03-05`, `2024-03-05T14:03:00`), slashes and no zero padding (`2024/3/5 14:03`),
    Chinese (`2024年3月5日`, `下午 02:03:00`), Republic-of-China years (`113/03/05` = 2024-03-05,
    `民國113年3月5日`), Excel serial days (`45356`, `45356.5`), `20240305`, Unix epoch seconds or
    milliseconds, and text pandas can read otherwise (`Mar 5, 2024`). A time with a UTC offset
    (`2024-03-05 14:03:00 +0800`, `…Z`) is converted to `timezone`; a time without one is already local.
    Both kinds may be mixed in one column. Dates before 1970 are not believed (unreadable).

    Dates with the year last (`01/12/2010 08:26`) are read in `order` (`DATE_ORDERS`): day first for `dmy`,
    month first for `mdy`; a cell that reads only the other way is unreadable. Without an order they are
    read as the column proves (`proven_order`); when it proves neither order or both, or with `ymd`, they
    are unreadable: never guessed cell by cell. The loader decides per file (`read_dates`).
    """
    dates, bad, year_last = read_dates(values, timezone)
    if len(year_last):
        chosen = order if order in ("dmy", "mdy") else None if order == "ymd" else proven_order(year_last)
        if chosen is None:
            bad[year_last.index] = True
        else:
            dates[year_last.index] = year_last[chosen].to_numpy()
            bad[year_last.index] = year_last[chosen].isna().to_numpy()
    return dates, bad


def read_dates(values: pd.Series, timezone: str) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """`parse_dates` with the order of year-last dates left open: the dates (missing for year-last cells),
    the unreadable cells (a year-last cell only when it reads neither way), and for the year-last cells
    that read at least one way a frame (indexed like `values`) of both readings, `dmy` and `mdy` (missing
    where that reading is no date, as 13/12/2010 month first)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert(timezone).dt.tz_localize(None)
        return (*_plausible(parsed.astype("datetime64[ns]"), values.notna()), _NO_YEAR_LAST)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return (*_plausible(values.astype("datetime64[ns]"), values.notna()), _NO_YEAR_LAST)
    text = clean_text(values)
    present = text.notna()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if not present.any():
        return (*_plausible(parsed, present), _NO_YEAR_LAST)
    cells = halfwidth(text[present])
    last = cells.str.match(_YEAR_LAST.pattern, na=False)
    year_last = _NO_YEAR_LAST
    if last.any():
        parts = extract(cells[last], _YEAR_LAST.pattern)
        readings = {order: _plausible(_parse_date_text(parts["y"] + "-" + month + "-" + day + parts["rest"],
                                                       timezone), parts["y"].notna())[0]
                    for order, day, month in (("dmy", parts["a"], parts["b"]), ("mdy", parts["b"], parts["a"]))}
        year_last = pd.DataFrame(readings, index=parts.index)
        year_last = year_last.loc[year_last.notna().any(axis=1)]
    if (~last).any():
        parsed[cells.index[~last.to_numpy()]] = _parse_date_text(cells[~last], timezone).to_numpy()
    dates, bad = _plausible(parsed, present)
    bad[year_last.index] = False
    return dates, bad, year_last


_NO_YEAR_LAST = pd.DataFrame({"dmy": pd.Series(dtype="datetime64[ns]"), "mdy": pd.Series(dtype="datetime64[ns]")})


def proven_order(year_last: pd.DataFrame) -> str | None:
    """The order that year-last dates (both readings, from `read_dates`) prove: `dmy` when some date reads
    only day first (its first field is over 12) and none only month first, `mdy` the other way round; None
    when every date reads both ways (no day over 12) or the dates contradict each other."""
    only_dmy = (year_last["dmy"].notna() & year_last["mdy"].isna()).any()
    only_mdy = (year_last["mdy"].notna() & year_last["dmy"].isna()).any()
    return "dmy" if only_dmy and not only_mdy else "mdy" if only_mdy and not only_dmy else None


def _plausible(parsed: pd.Series, present: pd.Series) -> tuple[pd.Series, pd.Series]:
    parsed = parsed.where(parsed.ge(EARLIEST_DATE))
    return parsed, present & parsed.isna()


_PLAIN_DATE = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?: [0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?$"
_PLAIN_FORMATS = {0: "%Y-%m-%d", 1: "%Y-%m-%d %H:%M", 2: "%Y-%m-%d %H:%M:%S"}
_PLAIN_OFFSET = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2} [0-9]{1,2}:[0-9]{2}:[0-9]{2} ?[+-][0-9]{2}:?[0-9]{2}$"
"""Shopify's `Created at` (`2024-03-05 14:03:00 +0800`) and ISO with an offset, read with %z."""


def _parse_date_text(text: pd.Series, timezone: str) -> pd.Series:
    """The common shapes first (`2024-03-05`, `2024/3/5 14:03`, `2024-03-05T14:03:00`: one exact format per
    number of colons, pandas' fastest path); the cells left go through `_parse_any`."""
    plain = text.str.replace("T", " ", regex=False).str.replace("/", "-", regex=False)
    is_plain = plain.str.match(_PLAIN_DATE, na=False)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if is_plain.any():
        colons = plain[is_plain].str.count(":")
        for n, form in _PLAIN_FORMATS.items():
            rows = colons.index[colons.eq(n).to_numpy()]
            if len(rows):
                out[rows] = _bounded(pd.to_datetime(plain[rows], format=form, errors="coerce")).to_numpy()
    with_offset = out.isna() & plain.str.match(_PLAIN_OFFSET, na=False)
    if with_offset.any():
        cells = plain[with_offset].str.replace(" +", "+", regex=False).str.replace(" -", "-", regex=False)
        parsed = pd.to_datetime(cells, format="%Y-%m-%d %H:%M:%S%z", errors="coerce", utc=True)
        out[with_offset] = _to_local(_bounded(parsed), timezone).to_numpy()
    todo = out.isna()
    if todo.any():
        out[todo] = _parse_any(text[todo], timezone).to_numpy()
    return out


def _parse_any(text: pd.Series, timezone: str) -> pd.Series:
    """ISO 8601 (with `/`, without padding) in one vectorised pass, times with and without a UTC offset
    apart; only the cells that fail go through the other shapes."""
    offset = text.str.contains(_OFFSET.pattern, na=False)
    partial = text.str.match(r"^[0-9]{4}(?:[-/.][0-9]{1,2})?$", na=False)  # 2024 or 2024-03: no day
    other = (text.str.match(_ROC.pattern, na=False) | text.str.match(_CJK_DATE.pattern, na=False)
             | text.str.match(_AM_PM.pattern, na=False))  # not ISO: straight to the other shapes
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    local = ~offset & ~partial & ~other
    if local.any():
        out[local] = _bounded(pd.to_datetime(text[local], format="ISO8601", errors="coerce"))
    offset &= ~other
    if offset.any():
        out[offset] = _to_local(_bounded(pd.to_datetime(text[offset], format="ISO8601", errors="coerce",
                                                        utc=True)), timezone)
    todo = out.isna() & ~partial
    if todo.any():
        out[todo] = _parse_other_shapes(text[todo], timezone)
    return out


def _parse_other_shapes(text: pd.Series, timezone: str) -> pd.Series:
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
    rest = ~(serial | compact | text.str.match(r"^[0-9]{10}(?:[0-9]{3})?$", na=False))
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
    return text.mask(hit, build(extract(text[hit], pattern.pattern)))


def extract(text: pd.Series, pattern: str) -> pd.DataFrame:
    """The named groups of `pattern` (searched, not anchored) in each cell, "" where it does not match.

    Arrow's RE2 engine does this in C++; pandas' `str.extract` loops over the cells in Python. Patterns must
    keep to RE2's syntax (no look-around, no back-references)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.extract_regex(pa.array(text.astype("str"), from_pandas=True), pattern)
    names = [found.type.field(i).name for i in range(found.type.num_fields)]
    return pd.DataFrame({name: pd.Series(pc.fill_null(pc.struct_field(found, [i]), ""), dtype="str",
                                         index=text.index)
                         for i, name in enumerate(names)}, index=text.index)


def _cascade(text: pd.Series, utc: bool) -> pd.Series:
    """ISO 8601 first (fast, and lenient about `/` and padding), then pandas' per-cell guesser for the rest
    of the cells that hold a four-digit year (the guesser reads `M1` or `12` as some date otherwise)."""
    parsed = _bounded(pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc))
    todo = parsed.isna() & text.str.contains(r"[0-9]{4}", na=False)
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
    number = _to_float(text)
    todo = text.notna() & number.isna()
    if todo.any():
        cell = halfwidth(text[todo])
        mark = extract(cell, _CURRENCY.replace("(?i)(", "(?i)(?P<mark>", 1))["mark"].str.lower()
        currency[todo] = map_values(mark, CURRENCY_MARKS).to_numpy()
        number[todo] = _read_number(cell.str.replace(_CURRENCY, "", regex=True)).to_numpy()
    return number, currency, text.notna() & number.isna()


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Quantities and prices as float (`2`, `1,200`, `２`, `3 件`, `-1`); and the unreadable cells."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64"), pd.Series(False, index=values.index)
    text = clean_text(values)
    number = _to_float(text)
    todo = text.notna() & number.isna()
    if todo.any():
        cell = halfwidth(text[todo]).str.replace(_UNITS, "", regex=True)
        number[todo] = _read_number(cell.str.replace(_CURRENCY, "", regex=True)).to_numpy()
    return number, text.notna() & number.isna()


_PLAIN_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def _to_float(text: pd.Series) -> pd.Series:
    """Plain numbers (`12`, `-3.5`, `1e3`) as float64, NaN for any other cell; in Arrow's C++ kernels."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = pa.array(text.astype("str"), from_pandas=True)
    plain = pc.match_substring_regex(cells, _PLAIN_NUMBER)
    cast = pc.cast(pc.if_else(plain, cells, pa.scalar(None, cells.type)), pa.float64())
    return pd.Series(cast.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


_THOUSANDS = r"^[(+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?[)-]?$"
_DECIMAL_COMMA = r"^[(+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+),[0-9]{1,2}[)-]?$"


def _read_number(cell: pd.Series) -> pd.Series:
    """`1,234.5`, `(500)`, `500-`, `- 500` → float (NaN when still not a number).

    A comma is a thousands separator when it groups three digits (`1,234`, `12,345.6`), and a decimal comma
    when one or two digits follow it, with dots (if any) grouping thousands (`12,50`, `1.234,50`: European
    exports, often semicolon-separated). A cell whose commas are neither (`1,23,4`, `1,2345`) is unreadable,
    never read as some other number. A dot alone is a decimal point (`1.234` is 1.234)."""
    cell = cell.str.replace(r"[ \t]", "", regex=True)
    comma = cell.str.contains(",", regex=False, na=False)
    if comma.any():
        decimal = comma & cell.str.match(_DECIMAL_COMMA, na=False)
        grouped = comma & cell.str.match(_THOUSANDS, na=False)
        cell = cell.mask(decimal, cell[decimal].str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
        cell = cell.mask(grouped, cell[grouped].str.replace(",", "", regex=False))
        cell = cell.mask(comma & ~decimal & ~grouped)
    negative = cell.str.match(r"^\(.*\)$", na=False) | cell.str.match(r"^[^-].*-$", na=False)
    cell = cell.str.replace(r"^\((.*)\)$", r"\1", regex=True).str.replace(r"^([^-].*)-$", r"\1", regex=True)
    number = _to_float(cell)
    return number.mask(negative, -number)


def map_values(values: pd.Series, mapping: Mapping[str, str | None]) -> pd.Series:
    """`values.map(mapping)` for text columns with few distinct values: each distinct value looked up once
    (a value the mapping lacks, or maps to None, is missing)."""
    codes, uniques = pd.factorize(values)
    looked_up = np.array([mapping.get(u) for u in uniques] + [None], dtype=object)
    return pd.Series(looked_up[codes], index=values.index, dtype="str")


def parse_status(values: pd.Series, extra_words: Mapping[str, str] | None = None) -> tuple[pd.Series, pd.Series]:
    """paid / cancelled / refunded from the client's status words (Chinese or English, any case); blank →
    missing (the loader decides: another line of the order, else paid); and the mask of unknown words."""
    words = STATUS_WORDS | {status_key(word): status for word, status in (extra_words or {}).items()}
    text = clean_text(values)
    status = map_values(text, {word: words.get(status_key(word)) for word in text.dropna().unique()})
    return status.where(status.notna() & text.notna()), text.notna() & status.isna()
