"""The report's words, per locale, from `templates/locales/<locale>.yaml` (presentation lives in templates/)."""
from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from crm_report.paths import TEMPLATES_DIR

LOCALES = ("zh-TW", "en")


@cache
def strings(locale: str) -> dict[str, Any]:
    """All strings for `locale` as a nested dict. Raises ValueError for an unknown locale."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; allowed: {list(LOCALES)}")
    return yaml.safe_load((TEMPLATES_DIR / "locales" / f"{locale}.yaml").read_text(encoding="utf-8"))
