"""One client-month's working folder: the prepared data and config that every notebook reads.

The pipeline calls `prepare` once per report; notebooks call `open_run`. Run interactively with no
`report_dir`, `open_run` prepares a scratch folder under reports/_scratch from the client's own data.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from crm_report import i18n, results
from crm_report.config import ClientConfig, load_config
from crm_report.data.load import LoadResult, load_orders
from crm_report.metrics.orders import purchase_orders
from crm_report.paths import CLIENTS_DIR, REPORTS_DIR
from crm_report.period import as_of, parse_month


@dataclass(frozen=True)
class Run:
    """What a notebook needs: the client's config, the report month and the prepared order lines."""

    config: ClientConfig
    month: pd.Period
    report_dir: Path
    reports_dir: Path
    """Where the client's published reports live (`reports_dir/<client>/<YYYY-MM>/`): last month's targets."""

    @property
    def as_of(self) -> pd.Timestamp:
        return as_of(self.month)

    @property
    def build_dir(self) -> Path:
        return self.report_dir / "build"

    @property
    def words(self) -> dict[str, Any]:
        """The report's words in the client's locale."""
        return i18n.strings(self.config.locale)

    def cluster_label(self, key: str) -> str:
        """A cluster's display name from its key: 'lapsed_repeat_high_2' → '久未回購的高價值客 2'."""
        base, _, number = key.rpartition("_")
        if number.isdigit():
            return f"{self.words['clusters'][base]} {number}"
        return self.words["clusters"][key]

    @cached_property
    def lines(self) -> pd.DataFrame:
        """Canonical order lines up to the end of the report month (all statuses)."""
        return pd.read_parquet(self.build_dir / "lines.parquet")

    @cached_property
    def orders(self) -> pd.DataFrame:
        """Purchase orders (paid) up to the end of the report month (computed once, by `prepare`)."""
        return pd.read_parquet(self.build_dir / "orders.parquet")

    def save(self, section: str, **content: Any) -> Path:
        """`results.save` into this run's build folder."""
        return results.save(self.build_dir, section, **content)


def prepare(config: ClientConfig, month: pd.Period, report_dir: Path) -> LoadResult:
    """Load and validate the client's orders; write the lines up to the month's end, the config snapshot,
    the quarantine file (every excluded row with its reason) and the data-quality section."""
    loaded = load_orders(config)
    cutoff = as_of(month)
    after = loaded.lines["order_date"].gt(cutoff)
    lines = loaded.lines.loc[~after].reset_index(drop=True)
    build = report_dir / "build"
    build.mkdir(parents=True, exist_ok=True)
    orders = purchase_orders(lines, cutoff)
    lines.to_parquet(build / "lines.parquet", index=False)
    orders.to_parquet(build / "orders.parquet", index=False)
    (build / "config.json").write_text(config.model_dump_json(indent=1), encoding="utf-8")
    loaded.excluded.to_csv(report_dir / "quarantine.csv", index=False, encoding="utf-8-sig")
    values, tables = data_quality(loaded, lines, orders, rows_after=int(after.sum()))
    results.save(build, "data_quality", values=values, tables=tables)
    return loaded


def data_quality(loaded: LoadResult, lines: pd.DataFrame, orders: pd.DataFrame,
                 rows_after: int) -> tuple[dict, dict]:
    """Rows read, used and excluded (by reason, with the amount they carry), and the data's coverage.

    `customers` counts everyone in the used lines; `customers_with_purchase` only those with a paid order
    (the population of every customer metric), so the gap is customers whose orders were all cancelled or
    refunded.
    """
    amounts = pd.to_numeric(loaded.excluded.get("amount"), errors="coerce") if len(loaded.excluded) else None
    by_reason = (
        loaded.excluded.assign(amount_value=amounts)
        .groupby("reason").agg(rows=("source_row", "size"), amount=("amount_value", "sum")).reset_index()
        if len(loaded.excluded) else pd.DataFrame({"reason": [], "rows": [], "amount": []})
    )
    status = lines["status"].value_counts()
    values = {
        "source_file": loaded.source.name,
        "rows_read": loaded.rows_read,
        "rows_excluded": len(loaded.excluded),
        "rows_after_period": rows_after,
        "rows_used": len(lines),
        "lines_paid": int(status.get("paid", 0)),
        "lines_cancelled": int(status.get("cancelled", 0)),
        "lines_refunded": int(status.get("refunded", 0)),
        "orders": int(lines["order_id"].nunique()),
        "customers": int(lines["customer_id"].nunique()),
        "customers_with_purchase": int(orders["customer_id"].nunique()),
        "purchase_orders": len(orders),
        "first_date": lines["order_date"].min(),
        "last_date": lines["order_date"].max(),
    }
    return values, {"excluded_by_reason": by_reason}


def open_run(client: str, month: str, report_dir: str | Path = "", clients_dir: Path = CLIENTS_DIR,
             reports_dir: Path = REPORTS_DIR) -> Run:
    """The run for a notebook. With `report_dir` empty (interactive use) the client's data is prepared in
    `reports_dir/_scratch/<client>/<month>/`, so a notebook's default parameters run on their own. A report
    run's `report_dir` is its staging folder, which the pipeline creates beside the published months
    (`reports_dir/<client>/.<month>-staging-…`), so the reports root is two levels up."""
    period = parse_month(month)
    if report_dir:
        folder = Path(report_dir)
        snapshot = json.loads((folder / "build" / "config.json").read_text(encoding="utf-8"))
        return Run(config=ClientConfig(**snapshot), month=period, report_dir=folder,
                   reports_dir=folder.resolve().parent.parent)
    config = load_config(client, clients_dir)
    folder = reports_dir / "_scratch" / client / str(period)
    prepare(config, period, folder)
    return Run(config=config, month=period, report_dir=folder, reports_dir=reports_dir)
