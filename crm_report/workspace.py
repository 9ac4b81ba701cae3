"""One client-month's working folder: the prepared data and config that every notebook reads.

The pipeline calls `prepare` once per report; notebooks call `open_run`. Run interactively with no
`report_dir`, `open_run` prepares a scratch folder under reports/_scratch from the client's own data.
"""
from __future__ import annotations

import ctypes
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crm_report import i18n, results
from crm_report.config import ClientConfig, load_config
from crm_report.data.load import (
    OVERLAP,
    DataError,
    LoadResult,
    check_threshold,
    credit_notes,
    currency_conversions,
    load_orders,
)
from crm_report.metrics.campaign import CONSENT_FIELDS, latest_consents
from crm_report.metrics.customers import customer_history
from crm_report.metrics.lifecycle import previous_as_of
from crm_report.metrics.orders import purchase_orders, purchase_orders_before
from crm_report.metrics.tiers import read_invitations
from crm_report.metrics.winback import CONTACT_FIELDS, latest_contacts
from crm_report.paths import CLIENTS_DIR, REPORTS_DIR
from crm_report.period import DataEnd, as_of, data_end, local_now, parse_month

if TYPE_CHECKING:
    from crm_report.metrics.products import Purchases


T = TypeVar("T")

PRIVATE_DIR = "private"
"""Inside build/: the only prepared file with personal data (contacts and consents). The pipeline deletes it
before a report is published or a failed run is kept, so personal data stays in exports/ alone."""
PERSONAL_COLUMNS = (*CONTACT_FIELDS, *CONSENT_FIELDS)
"""Columns kept out of build/lines.parquet."""
LINE_COLUMNS = ("order_id", "customer_id", "order_date", "status", "amount", "product_id", "product_name", "category")
"""The columns of build/lines.parquet that notebooks read (`read_lines`): what purchases, products and first
orders need. The others (quantity, prices, channel, where each line came from) stay in the file."""


def read_lines(build_dir: Path, straddling: pd.Timestamp | None = None,
               orders: pd.Series | None = None) -> pd.DataFrame:
    """build/lines.parquet with only `LINE_COLUMNS` (those the client's data has); with `straddling`, only the
    lines of the orders with lines on both sides of it, dated at or before it and after it: the orders that
    existed then and changed since (what `orders.purchase_orders_before` reads); with `orders` (order ids),
    only those orders' lines."""
    if straddling is not None and orders is not None:
        raise ValueError("read_lines: give straddling or orders, not both")
    path = build_dir / "lines.parquet"
    schema = pq.read_schema(path)
    columns = [c for c in LINE_COLUMNS if c in schema.names]
    if orders is not None:
        wanted = pa.array(orders.dropna().unique(), type=schema.field("order_id").type)
        return pd.read_parquet(path, columns=columns, filters=pc.field("order_id").isin(wanted))
    if straddling is None:
        return pd.read_parquet(path, columns=columns)
    dates = pq.read_table(path, columns=["order_id", "order_date"])
    ids, after = dates["order_id"], pc.greater(dates["order_date"], pa.scalar(straddling.to_datetime64()))
    later = pc.unique(ids.filter(after)).drop_null()  # few: the lines after the cutoff; no set of every order
    changed = pc.unique(ids.filter(pc.and_not(pc.is_in(ids, value_set=later), after))).drop_null()
    del dates, ids, after
    return pd.read_parquet(path, columns=columns, filters=pc.field("order_id").isin(changed))


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
        return i18n.strings(self.config.locale, self.config.currency)

    def cluster_label(self, key: str) -> str:
        """A cluster's display name from its key: 'lapsed_repeat_high_2' → '久未回購的高價值客 2'."""
        base, _, number = key.rpartition("_")
        if number.isdigit():
            return f"{self.words['clusters'][base]} {number}"
        return self.words["clusters"][key]

    @cached_property
    def partial_end(self) -> pd.Timestamp | None:
        """The day the data end when the report month is partial (decided by `prepare`, `period.data_end`; the
        run then had --allow-partial-month), else None."""
        values = json.loads((self.build_dir / "results" / "data_quality.json").read_text(encoding="utf-8"))["values"]
        return pd.Timestamp(values["data_end"]) if values.get("partial_month") else None

    @cached_property
    def lines(self) -> pd.DataFrame:
        """Order lines up to the end of the report month (all statuses), with only the columns the analyses
        read (`LINE_COLUMNS`): a kernel never holds every column of every line."""
        return read_lines(self.build_dir)

    @cached_property
    def purchases(self) -> Purchases:
        """The purchases of `lines` as of the month's end, coded once for every product analysis. Unless this
        run holds the lines already, they are read for this only and their memory given back (`_transient`):
        at 10M lines they are about 2.5 GB of a kernel that needs only the coded purchases."""
        from crm_report.metrics import products  # scipy: only the notebook that needs it imports it

        return self._transient(lambda lines: products.purchases(lines, self.as_of))

    @cached_property
    def orders(self) -> pd.DataFrame:
        """Purchase orders (paid) up to the end of the report month (computed once, by `prepare`)."""
        return pd.read_parquet(self.build_dir / "orders.parquet")

    @cached_property
    def contacts(self) -> pd.DataFrame:
        """Per customer, the latest name, e-mail, phone and LINE id and the consent answers
        (`winback.latest_contacts`, `campaign.latest_consents`): only the campaign exports use them."""
        return pd.read_parquet(self.build_dir / PRIVATE_DIR / "contacts.parquet")

    @cached_property
    def customers(self) -> pd.DataFrame:
        """The one customer history as of the report month's end (`customers.customer_history`, by `prepare`)."""
        return pd.read_parquet(self.build_dir / "customers.parquet")

    def lines_of(self, orders: pd.Series) -> pd.DataFrame:
        """The lines (`LINE_COLUMNS`, every status) of the orders with these ids, read for this call only."""
        return read_lines(self.build_dir, orders=orders)

    @cached_property
    def previous_orders(self) -> pd.DataFrame:
        """Purchase orders as of the end of the month before (refunds made since then do not count), from the
        orders and the lines of the orders changed since (`orders.purchase_orders_before`)."""
        return self.orders_before(previous_as_of(self.month))

    @cached_property
    def previous_customers(self) -> pd.DataFrame:
        """The same customer history as of the end of the month before, from the orders known then. Only the
        movements since last month need it, so it is built by the notebook that shows them, not by `prepare`
        (which every notebook waits for)."""
        return customer_history(self.previous_orders, previous_as_of(self.month), self.config.report.rfm_style)

    def segments_at(self, cutoff: pd.Timestamp) -> pd.Series:
        """Each customer's RFM segment as of `cutoff` (before the report month's end), from the orders known
        then: what a backtest groups its predictions by (the segment when the prediction was made)."""
        return customer_history(self.orders_before(cutoff), cutoff, self.config.report.rfm_style)["segment"]

    def orders_before(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        """Purchase orders as of `cutoff` (before the month's end): `orders.purchase_orders_before`, reading only
        the lines of the orders that existed then and changed since."""
        return self._transient(lambda lines: purchase_orders_before(self.orders, lines, cutoff), since=cutoff)

    def _transient(self, use: Callable[[pd.DataFrame], T], since: pd.Timestamp | None = None) -> T:
        """`use(lines)`: this run's `lines` when it holds them, otherwise the lines read for this call only
        (with `since`, only the lines of the orders that existed then and changed since: `read_lines`), their
        memory then given back to the system (`release_memory`)."""
        if "lines" in self.__dict__:  # cached_property keeps its value in the instance's __dict__
            return use(self.lines)
        result = use(read_lines(self.build_dir, straddling=since))
        release_memory()
        return result

    def save(self, section: str, **content: Any) -> Path:
        """`results.save` into this run's build folder."""
        return results.save(self.build_dir, section, **content)


def prepare(config: ClientConfig, month: pd.Period, report_dir: Path, *,
            accept_exclusions: bool = False, allow_partial_month: bool = False,
            today: pd.Timestamp | None = None) -> LoadResult:
    """Load and validate the client's orders; write the quarantine file (every excluded row with its reason),
    the lines up to the month's end, the config snapshot and the data-quality section.

    Stops with DataError when an invitation list of `config.member_tiers` cannot be read (before anything
    else, so no notebook meets it); when more rows are excluded than the client's `source.max_excluded_share`
    allows (unless `accept_exclusions`), after writing quarantine.csv so the rows can be inspected; when no
    order line is left up to the month's end; and when the export ends before the month does
    (`period.data_end`: a partial month) or `month` is not over on `today` (default: today in the client's
    `timezone`, `period.local_now`)
    unless `allow_partial_month`, which labels the report partial instead (data-quality values
    `partial_month`, `data_end`, `days_missing`).
    """
    read_invitations(config)  # a bad invitation list stops the run here, not in a notebook
    cutoff = as_of(month)
    loaded = load_orders(config, as_of=cutoff)  # customers keyed as of the month's end, as every metric
    last_date = loaded.lines["order_date"].max()
    if pd.notna(last_date) and last_date < month.start_time:
        raise DataError(f"{loaded.source}: the orders end on {last_date:%Y-%m-%d}, before {month} begins: "
                        f"report a month the data covers (or add the newer export)")
    today = local_now(config.timezone).normalize() if today is None else today
    end = data_end(loaded.lines["order_date"], loaded.lines["order_id"], month, today=today)
    if end is not None and end.unfinished and not allow_partial_month:
        raise DataError(
            f"{month} is not over yet (today is {today:%Y-%m-%d}): its report would compare part of a month with "
            f"whole ones. Report {month - 1}, wait until {month + 1} begins, or run with --allow-partial-month "
            f"for a report labelled partial (data to {end.last_day:%Y-%m-%d})")
    if end is not None and end.partial and not allow_partial_month:
        raise DataError(
            f"{loaded.source}: the orders end on {end.last_day:%Y-%m-%d}, {end.days_missing} days before {month} "
            f"ends; at this shop's {end.daily_orders:.1f} orders a day so many days without one are unlikely "
            f"({end.chance:.2%}), so the export stops inside the month and {month} would be partial, every "
            f"comparison with last month and last year misleading. Report {month - 1}, add the newer export, or "
            f"run with --allow-partial-month for a report labelled partial (data to {end.last_day:%Y-%m-%d})")
    build = report_dir / "build"
    build.mkdir(parents=True, exist_ok=True)
    loaded.excluded.to_csv(report_dir / "quarantine.csv", index=False, encoding="utf-8-sig")
    if not accept_exclusions:
        check_threshold(loaded)
    after = loaded.lines["order_date"].gt(cutoff)
    lines = loaded.lines.loc[~after].reset_index(drop=True)
    if lines.empty:
        raise DataError(f"{loaded.source}: no usable order lines up to the end of {month} "
                        f"({loaded.rows_read:,} rows read, {len(loaded.excluded):,} excluded: see quarantine.csv)")
    orders = purchase_orders(lines, cutoff)
    private = build / PRIVATE_DIR
    private.mkdir(exist_ok=True)
    latest_contacts(lines).join(latest_consents(lines)).to_parquet(private / "contacts.parquet")
    lines.drop(columns=[c for c in PERSONAL_COLUMNS if c in lines]).to_parquet(build / "lines.parquet", index=False)
    orders.to_parquet(build / "orders.parquet", index=False)
    customer_history(orders, cutoff, config.report.rfm_style).to_parquet(build / "customers.parquet")
    (build / "config.json").write_text(config.model_dump_json(indent=1), encoding="utf-8")
    values, tables = data_quality(loaded, lines, orders, rows_after=int(after.sum()),
                                  accepted=accept_exclusions and loaded.over_threshold, as_of=cutoff, end=end)
    results.save(build, "data_quality", values=values, tables=tables)
    return loaded


def release_memory() -> None:
    """Give the memory of the loaded order lines, freed once `prepare` returns, back to the operating system.

    pandas keeps text in Arrow arrays, whose memory pool (mimalloc) keeps freed blocks for reuse, and glibc
    keeps freed heap: without this the CLI held the peak of loading (3.1 GB at 10M lines) while both
    notebook kernels ran. Measured at 1M lines: 575 MB → 303 MB after `prepare`."""
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the Arrow pool is what matters most
        pass


def data_quality(loaded: LoadResult, lines: pd.DataFrame, orders: pd.DataFrame, rows_after: int,
                 accepted: bool = False, as_of: pd.Timestamp | None = None,
                 end: DataEnd | None = None) -> tuple[dict, dict]:
    """Rows read, used and excluded (by reason, with the amount they carry and its share), how customers
    were identified, guest orders, the data's coverage, the credit notes netted up to `as_of` (and those
    without their order), the lines converted from other currencies up to `as_of` (per currency, with its
    rate: `load.CONVERSION`), and how each file's dates with the year last were read.

    `customers` counts everyone in the used lines; `customers_with_purchase` only those with a paid order
    (the population of every customer metric), so the gap is customers whose orders were all cancelled or
    refunded. Guest orders (no id, e-mail or mobile) count in orders and revenue, not in customers. A
    reason's `revenue_share` is its rows' amount ÷ the amount of all rows read (used, and excluded other than
    copies in overlapping exports), both without sign as for the threshold (`LoadResult.excluded_amount_share`);
    copies in overlapping exports lose nothing, so they have none.
    `accepted` says the run went on although more rows than the client's threshold were excluded.
    `end` (`period.data_end`): where the export ends; `partial_month` says the report month is partial.
    """
    excluded = loaded.excluded
    amounts = pd.to_numeric(excluded["amount"], errors="coerce") if "amount" in excluded else None
    copies = excluded["reason"].eq(OVERLAP)
    base = float(loaded.lines["amount"].abs().sum() + (amounts[~copies].abs().sum() if amounts is not None else 0.0))
    by_reason = (
        excluded.assign(amount_value=amounts, weight=amounts.abs() if amounts is not None else None)
        .groupby("reason").agg(rows=("source_row", "size"), amount=("amount_value", "sum"),
                               weight=("weight", "sum")).reset_index()
        .assign(revenue_share=lambda t: (t["weight"] / base if base else pd.Series(float("nan"), index=t.index))
                .where(t["reason"].ne(OVERLAP)))
        .drop(columns="weight")
        .sort_values(["rows", "reason"], ascending=[False, True], kind="stable")
        if len(excluded) else pd.DataFrame({"reason": [], "rows": [], "amount": [], "revenue_share": []})
    )
    status = lines["status"].value_counts()
    guests = orders["customer_id"].isna()
    revenue = float(orders["amount"].sum())
    matched = (lines.dropna(subset=["customer_id"]).drop_duplicates("customer_id")["customer_match"]
               .astype("str").value_counts())
    values = {
        "source_file": loaded.source,
        "files": len(loaded.files),
        "rows_read": loaded.rows_read,
        "rows_blank": loaded.rows_blank,
        "rows_excluded": loaded.rows_excluded,
        "rows_overlap": loaded.rows_overlap,
        "excluded_share": loaded.excluded_share,
        "excluded_amount_share": loaded.excluded_amount_share,
        "max_excluded_share": loaded.max_excluded_share,
        "accepted_over_threshold": bool(accepted),
        "rows_after_period": rows_after,
        "rows_used": len(lines),
        "lines_paid": int(status.get("paid", 0)),
        "lines_cancelled": int(status.get("cancelled", 0)),
        "lines_refunded": int(status.get("refunded", 0)),
        "orders": int(lines["order_id"].nunique()),
        "customers": int(lines["customer_id"].nunique()),
        "customers_with_purchase": int(orders["customer_id"].nunique()),
        "customers_by_id": int(matched.get("id", 0)),
        "customers_by_email": int(matched.get("email", 0)),
        "customers_by_phone": int(matched.get("phone", 0)),
        "purchase_orders": len(orders),
        "revenue": revenue,
        "guest_orders": int(guests.sum()),
        "guest_revenue": float(orders.loc[guests, "amount"].sum()),
        "guest_revenue_share": float(orders.loc[guests, "amount"].sum() / revenue) if revenue else None,
        "first_date": lines["order_date"].min(),
        "last_date": lines["order_date"].max(),
        "credit_notes": credit_notes(lines, excluded, as_of),
        "currency": loaded.currency,
        "currency_conversions": currency_conversions(lines, loaded.rates, as_of),
        "partial_month": bool(end is not None and end.partial),
        "data_end": end.last_day if end is not None else None,
        "days_missing": end.days_missing if end is not None else 0,
    }
    files = pd.DataFrame([{"file": f.info.name, "rows": f.rows, "blank_rows": f.blank_rows,
                           "encoding": f.info.encoding or "", "sheet": f.info.sheet or "",
                           "header_row": f.info.header_row,
                           "date_order": f.date_order.order if f.date_order else None,
                           "date_order_how": f.date_order.how if f.date_order else None,
                           "date_order_row": f.date_order.row if f.date_order else None,
                           "date_order_value": f.date_order.value if f.date_order else None}
                          for f in loaded.files])
    return values, {"excluded_by_reason": by_reason, "files": files}


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
