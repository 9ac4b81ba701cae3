"""The report's words, per locale, from `templates/locales/<locale>.yaml` (presentation lives in templates/)."""
from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from crm_report.paths import TEMPLATES_DIR

LOCALES = ("zh-TW", "en")


@cache
def strings(locale: str, currency: str = "TWD") -> dict[str, Any]:
    """All strings for `locale` as a nested dict, every `{currency_unit}` written as the currency's symbol
    (chart axis labels name their unit so). Raises ValueError for an unknown locale."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; allowed: {list(LOCALES)}")
    text = (TEMPLATES_DIR / "locales" / f"{locale}.yaml").read_text(encoding="utf-8")
    if "{currency_unit}" in text:
        from crm_report.formatting import currency_symbol

        text = text.replace("{currency_unit}", currency_symbol(currency, locale).strip())
    return yaml.safe_load(text)
