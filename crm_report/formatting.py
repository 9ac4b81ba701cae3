"""Number and date formatting per locale: one home for templates (as Jinja filters) and chart axes."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

import pandas as pd
from typing_extensions import TypeIs


def _missing(value: object) -> TypeIs[None]:
    """None or NaN. (`TypeIs[None]` tells the type checker that a value past this check is not None; a NaN
    float is 'None' to it only inside the branch that prints '–'.)"""
    return value is None or (isinstance(value, float) and math.isnan(value))


NAME_MAX = 40
"""Product and customer-facing names are shown with at most this many characters (then "…"): a shop's
100 KB product name must not stall the PDF layout or push a table past the margin."""


def short_name(value: object, limit: int = NAME_MAX) -> str:
    """`value` as text, cut to `limit` characters with "…" when longer; "–" when missing."""
    if _missing(value):
        return "–"
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_BABEL_LOCALES = {"zh-TW": "zh_Hant_TW", "en": "en"}


def number(value: float | None, decimals: int = 0) -> str:
    """1234567 → '1,234,567'; halves round up (26.5 → '27'); missing → '–'."""
    if _missing(value):
        return "–"
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{rounded:,.{decimals}f}"


@cache  # every amount of a report asks: the answer depends on these two only
def currency_symbol(currency: str = "TWD", locale: str = "zh-TW") -> str:
    """The currency's symbol in the report's language, from CLDR (Babel): 'HK$', '€', '¥'; where CLDR's local
    symbol is a bare '$', which would not say whose dollar, the international one: TWD → 'NT$' in both
    languages, USD → 'US$' in zh-TW and '$' in English; a letter code gets a space: 'MYR 12'."""
    from babel.numbers import get_currency_symbol  # CLDR data: not at start-up

    symbol = get_currency_symbol(currency, _BABEL_LOCALES.get(locale, locale))
    if symbol == "$" and not (currency == "USD" and locale == "en"):
        symbol = get_currency_symbol(currency, "en")
    return symbol + " " if symbol[-1].isalpha() else symbol  # 'MYR 12', as CLDR spaces a letter code


@cache
def _fractions(currency: str) -> tuple[int, ...]:
    """CLDR's currency fractions of `currency`: (digits, rounding, cash digits, cash rounding)."""
    from babel.core import get_global

    fractions = get_global("currency_fractions")
    return tuple(int(v) for v in fractions.get(currency, fractions["DEFAULT"]))


def currency_digits(currency: str = "TWD") -> int:
    """Decimals an amount of `currency` is written with: CLDR's cash digits (TWD 0, JPY 0, USD 2, HKD 2)."""
    return _fractions(currency)[2]


def minor_digits(currency: str = "TWD") -> int:
    """Decimals of the currency's minor unit as accounts keep it (ISO 4217, from CLDR): TWD 2, JPY 0, KWD 3.
    Converted amounts are rounded to it (`data.load.CONVERSION`); the report prints the cash digits
    (`currency_digits`)."""
    return _fractions(currency)[0]


def money(value: float | None, locale: str = "zh-TW", currency: str = "TWD") -> str:
    """An amount with the currency's symbol (`currency_symbol`), thousands separators and its cash digits
    (`currency_digits`): 1234567 → 'NT$1,234,567'; 1234.5 USD → 'US$1,234.50' (zh-TW) / '$1,234.50' (en)."""
    if _missing(value):
        return "–"
    sign = "−" if value < 0 else ""
    return f"{sign}{currency_symbol(currency, locale)}{abs(value):,.{currency_digits(currency)}f}"


def price(value: float | None, locale: str = "zh-TW", currency: str = "TWD", decimals: int = 2) -> str:
    """A unit price with the cents it has (at most `decimals`): 0.2 → 'NT$0.2', 0.05 → 'NT$0.05', 12 → 'NT$12';
    an exchange rate with up to 6: 0.2134 → 'NT$0.2134'."""
    if _missing(value):
        return "–"
    sign = "−" if value < 0 else ""
    text = f"{abs(value):,.{decimals}f}"
    return f"{sign}{currency_symbol(currency, locale)}{text.rstrip('0').rstrip('.') if '.' in text else text}"


def discount_label(rate: float, locale: str = "zh-TW") -> str:
    """A discount as shoppers read it: zh-TW as the price paid in tenths, 0.10 → '9折', 0.15 → '85折',
    0.12 → '88折'; English as the share taken off, 0.10 → '10% off', 0.125 → '12.5% off'."""
    if locale == "zh-TW":
        paid = round((1 - rate) * 100)
        return f"{paid // 10}折" if paid % 10 == 0 else f"{paid}折"
    return f"{rate * 100:g}% off"


def money_short(value: float | None, locale: str = "zh-TW", currency: str = "TWD") -> str:
    """Compact money for tiles and axes: zh-TW 'NT$123.4 萬' / 'NT$1.23 億'; en 'NT$1.2M' / 'NT$85.0K';
    negative amounts (a loss, a drop) lead with a minus sign: '−NT$1.2 萬'. Other currencies take their symbol
    (`currency_symbol`): 'HK$1.2M'."""
    if _missing(value):
        return "–"
    sign = "−" if value < 0 else ""
    return sign + currency_symbol(currency, locale) + compact(abs(value), locale)


_UNITS = {"zh-TW": ((1e8, "億", 2), (1e5, "萬", 1)), "en": ((1e6, "M", 2), (1e4, "K", 1))}
"""Per locale, from this size on (the largest amount), the unit and its decimals; the divisor is the unit's
value: 億 10⁸, 萬 10⁴, M 10⁶, K 10³. Shared by `compact` (one number) and `money_unit` (a table)."""
_UNIT_VALUE = {"億": 1e8, "萬": 1e4, "M": 1e6, "K": 1e3}


def money_unit(rows: Iterable[Mapping[str, Any]], *columns: str, locale: str = "zh-TW") -> str:
    """The one unit a table prints all its amounts in (`money_in`): the unit `compact` gives the largest amount
    of `columns` over `rows` ('萬', '億', 'K', 'M'), '' (whole amounts) when none is that large. A table never
    mixes 'NT$28.1 萬' and 'NT$35,176' in one column."""
    sizes = [abs(row[c]) for row in rows for c in columns if not _missing(row.get(c))]
    largest = max(sizes, default=0)
    return next((unit for threshold, unit, _ in _UNITS[locale] if largest >= threshold), "")


def money_in(value: float | None, unit: str, locale: str = "zh-TW", currency: str = "TWD") -> str:
    """An amount in a table's `unit` (`money_unit`): 35,176 in 萬 → 'NT$3.5 萬', in M → 'NT$0.04M'; '' → `money`."""
    if not unit:
        return money(value, locale, currency)
    if _missing(value):
        return "–"
    decimals = next(d for _, u, d in _UNITS[locale] if u == unit)
    shown = round(abs(value) / _UNIT_VALUE[unit], decimals)
    sign = "−" if value < 0 and shown else ""  # −12 in 萬 is NT$0.0 萬, not −NT$0.0 萬
    space = " " if locale == "zh-TW" else ""
    return f"{sign}{currency_symbol(currency, locale)}{shown:,.{decimals}f}{space}{unit}"


def compact(value: float | None, locale: str = "zh-TW") -> str:
    """Compact plain number: zh-TW uses 萬 (10⁴) and 億 (10⁸); en uses K and M; trailing zeros dropped.

    3,026,304 → '302.6 萬' / '3.03M'; 3,500,000 → '350 萬' / '3.5M'; values under 10⁵ (zh) or 10⁴ (en) stay whole.
    """
    if _missing(value):
        return "–"
    space = " " if locale == "zh-TW" else ""
    for threshold, unit, decimals in _UNITS[locale]:
        if abs(value) >= threshold:
            return f"{value / _UNIT_VALUE[unit]:,.{decimals}f}".rstrip("0").rstrip(".") + space + unit
    return number(value)


def pct(value: float | None, decimals: int = 1) -> str:
    """0.1234 → '12.3%'."""
    if _missing(value):
        return "–"
    return f"{value * 100:.{decimals}f}%"


def signed_pct(value: float | None, decimals: int = 1) -> str:
    """A relative change: 0.052 → '+5.2%', -0.1 → '−10.0%'."""
    if _missing(value):
        return "–"
    return f"{'+' if value >= 0 else '−'}{abs(value) * 100:.{decimals}f}%"


def signed_count(value: float | None) -> str:
    """A change of a count: 180 → '+180', -1234 → '−1,234', 0 → '0'."""
    if _missing(value):
        return "–"
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return sign + number(abs(value))


def signed_points(value: float | None, locale: str = "zh-TW", decimals: int = 1) -> str:
    """A change of a share in percentage points: 0.021 → '+2.1 個百分點' / '+2.1 pts'. (Not a no-break space: one
    in the PDF makes its font map the space glyph to U+00A0, so every space of the PDF's text becomes one.)"""
    if _missing(value):
        return "–"
    unit = " 個百分點" if locale == "zh-TW" else " pts"
    return f"{'+' if value >= 0 else '−'}{abs(value) * 100:.{decimals}f}{unit}"


def month_label(value: str | pd.Period, locale: str = "zh-TW") -> str:
    """'2026-10' → '2026 年 10 月' / 'Oct 2026'."""
    period = pd.Period(value, freq="M")
    if locale == "zh-TW":
        return f"{period.year} 年 {period.month} 月"
    return period.strftime("%b %Y")


def date_label(value: str | dt.date | pd.Timestamp | None, locale: str = "zh-TW") -> str:
    """'2026-11-03' → '2026/11/03（二）' (full-width brackets, as Taiwanese type sets them) / 'Tue 3 Nov 2026'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    day = pd.Timestamp(value)
    if locale == "zh-TW":
        return f"{day:%Y/%m/%d}（{'一二三四五六日'[day.weekday()]}）"
    return f"{day:%a} {day.day} {day:%b %Y}"


def and_list(items: Sequence[str], words: Mapping[str, Mapping[str, str]]) -> str:
    """Items as a list in running text, by the locale's `report.and_sep` and `report.and_last`: 「A、B、C」 /
    "A, B and C" ("A and B")."""
    sep, last = words["report"]["and_sep"], words["report"]["and_last"]
    return sep.join(items[:-1]) + last + items[-1] if len(items) > 1 else "".join(items)


# English nouns the report counts, and the verbs that follow them, in the singular: "{n} customers are" with
# n = 1 reads "1 customer is".
_SINGULAR_NOUNS = {"customers": "customer", "orders": "order", "months": "month", "days": "day", "weeks": "week",
                   "years": "year", "lists": "list", "groups": "group", "decisions": "decision",
                   "clusters": "cluster", "cycles": "cycle", "lines": "line", "notes": "note", "products": "product",
                   "buyers": "buyer", "members": "member", "files": "file", "rows": "row", "purchases": "purchase",
                   "contacts": "contact", "messages": "message", "sheets": "sheet", "tiers": "tier",
                   "segments": "segment", "stages": "stage"}
_SINGULAR_VERBS = {"are": "is", "have": "has", "were": "was", "show": "shows", "cancel": "cancels",
                   "do": "does", "need": "needs", "come": "comes", "buy": "buys", "make": "makes"}
_ONE = re.compile(r"(?P<before>\{(?P<name>\w+)\}(?: (?!(?:of|in|on|at|for|by|to|from|with|and|or|than|the|a|an)\b)"
                  r"[a-z-]+)? )(?P<noun>[a-z]+s\b)(?P<verb> [a-z]+\b)?")


def fill(text: str, locale: str, **values: Any) -> str:
    """`text.format(**values)`, in English with a noun counted by a value shown as "1" in the singular, and the
    verb after it: "{n} new customers are" → "1 new customer is" (at most one word, not a preposition, between
    the number and the noun; nouns and verbs of `_SINGULAR_NOUNS`, `_SINGULAR_VERBS`). Other locales have no
    plural forms."""
    if locale == "en" and any(str(v) == "1" for v in values.values()):
        def singular(match: re.Match[str]) -> str:
            noun, verb = match["noun"], match["verb"] or ""
            if str(values.get(match["name"], "")) != "1" or noun not in _SINGULAR_NOUNS:
                return match[0]
            return match["before"] + _SINGULAR_NOUNS[noun] + (f" {_SINGULAR_VERBS.get(verb[1:], verb[1:])}"
                                                              if verb else "")
        text = _ONE.sub(singular, text)
    return text.format(**values)


def value(kind: str, v: Any, locale: str, names: Mapping[str, Mapping[str, str]], currency: str = "TWD") -> str:
    """One number or name of a sentence by its format (the `metrics.conclusions` formats): number, pct, points,
    relative, money, money_short, ratio (one decimal), month, text (a product name, shortened), segments
    (segment codes → names, `and_list`), stage (an NES stage code → its name), stages (codes → names,
    `and_list`), group (a win-back group → its short name). `names`: the locale's words (segment_names,
    nes_names, winback_groups_short, report)."""
    if kind == "number":
        return number(v)
    if kind == "pct":
        return pct(v)
    if kind == "points":
        return signed_points(v, locale)
    if kind == "relative":
        return signed_pct(v)
    if kind == "money":
        return money(v, locale, currency)
    if kind == "money_short":
        return money_short(v, locale, currency)
    if kind == "ratio":
        return f"{v:.1f}"
    if kind == "month":
        return month_label(v, locale)
    if kind == "text":
        return short_name(v)
    if kind == "segments":
        return and_list([names["segment_names"][code] for code in v], names)
    if kind == "group":
        return names["winback_groups_short"][v]
    if kind == "stage":
        return names["nes_names"][v]
    if kind == "stages":
        return and_list([names["nes_names"][code] for code in v], names)
    raise ValueError(f"unknown format {kind!r}")
