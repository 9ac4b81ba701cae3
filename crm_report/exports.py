"""Campaign exports: files a LINE / e-mail / SMS tool can import. They hold real contact details and stay
in the client's report folder; nothing here is shown in the PDF."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

WINBACK_COLUMNS = ("rank", "customer_id", "customer_name", "group", "group_label", "channel", "line_user_id",
                   "email", "phone", "contact_date", "last_order", "days_since", "cycle_days", "orders",
                   "revenue")


def write_winback_csv(candidates: pd.DataFrame, path: Path, words: Mapping[str, Any]) -> Path:
    """The whole win-back list as CSV, UTF-8 with BOM (Excel then shows Chinese correctly)."""
    table = candidates.assign(
        group_label=candidates["group"].map(words["winback_groups"]),
        contact_date=candidates["contact_date"].dt.strftime("%Y-%m-%d"),
        last_order=candidates["last_order"].dt.strftime("%Y-%m-%d"),
        revenue=candidates["revenue"].round(0).astype("int64"),
        cycle_days=candidates["cycle_days"].round(1),
    )[list(WINBACK_COLUMNS)]
    table.to_csv(path, index=False, encoding="utf-8-sig")
    return path
