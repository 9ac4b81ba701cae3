"""Load a client's order file into canonical order lines, excluding (never silently dropping) bad rows.

Canonical order lines: `order_id`, `customer_id`, `order_date` (tz-naive, client's local time), `amount`
(net, client currency), optional `product_id`, `product_name`, `category`, `quantity`, `unit_price`,
`channel`, `status` (paid / cancelled / refunded), `store`, `customer_name`, `email`, `phone`,
`line_user_id`, `email_consent`, `sms_consent`, `line_consent` (raw; read by the win-back channel rules); plus `source_row`, the row's number in the file (1 = first data row).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from crm_report.config import CANONICAL_FIELDS, REQUIRED_FIELDS, ClientConfig

STATUS_WORDS = {
    "paid": "paid", "completed": "paid", "complete": "paid", "fulfilled": "paid", "已付款": "paid",
    "已完成": "paid", "完成": "paid",
    "cancelled": "cancelled", "canceled": "cancelled", "voided": "cancelled", "已取消": "cancelled",
    "取消": "cancelled",
    "refunded": "refunded", "已退款": "refunded", "退款": "refunded", "已退貨": "refunded",
}
TEXT_FIELDS = ("order_id", "customer_id", "product_id", "product_name", "category", "channel",
               "store", "customer_name", "email", "phone", "line_user_id")


class DataError(ValueError):
    """The order file cannot be used; the message names the file, and the row and column where known."""


@dataclass(frozen=True)
class LoadResult:
    """Canonical lines that can be used, the rows excluded with a reason each, and where they came from."""

    lines: pd.DataFrame
    excluded: pd.DataFrame
    rows_read: int
    source: Path


def load_orders(config: ClientConfig) -> LoadResult:
    """Read the client's order file and return canonical lines plus every excluded row with its reason."""
    path = config.resolve(config.source.path)
    raw = _read(path, config)
    mapped = _map_columns(raw, config, path)
    return _validate(mapped, config, path, rows_read=len(raw))


def _read(path: Path, config: ClientConfig) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"order file not found: {path} (source.path in {config.folder / 'client.yaml'})")
    kind = config.source.format
    if kind == "auto":
        kind = {".parquet": "parquet", ".csv": "csv", ".txt": "csv"}.get(path.suffix.lower())
        if kind is None:
            raise DataError(f"{path}: cannot tell the format from the extension; set source.format")
    if kind == "parquet":
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                           encoding=config.source.encoding)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not readable as {config.source.encoding} ({exc.reason} at byte "
                        f"{exc.start}); set source.encoding in client.yaml") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None


def _map_columns(raw: pd.DataFrame, config: ClientConfig, path: Path) -> pd.DataFrame:
    """Rename the client's columns to canonical fields: explicit mapping first, then same-named columns."""
    mapping = {field: field for field in CANONICAL_FIELDS if field in raw.columns}
    mapping.update(config.source.columns)
    absent = {field: column for field, column in mapping.items() if column not in raw.columns}
    missing_required = [field for field in REQUIRED_FIELDS if field not in mapping]
    if absent or missing_required:
        problems = [f"column {col!r} (for {field}) is not in the file" for field, col in absent.items()]
        problems += [f"no column for required field {field!r}" for field in missing_required]
        raise DataError(f"{path}: " + "; ".join(problems)
                        + f". Columns in the file: {list(raw.columns)}. Map them under source.columns "
                        f"in {config.folder / 'client.yaml'}")
    return pd.DataFrame({field: raw[column] for field, column in mapping.items()}).assign(
        source_row=range(1, len(raw) + 1)
    )


def _validate(frame: pd.DataFrame, config: ClientConfig, path: Path, rows_read: int) -> LoadResult:
    text = {f: _clean_text(frame[f]) for f in TEXT_FIELDS if f in frame}
    dates = _parse_dates(frame["order_date"], config.timezone)
    amounts = pd.to_numeric(frame["amount"], errors="coerce").astype("float64")
    status_raw = _clean_text(frame["status"]) if "status" in frame else pd.Series(pd.NA, index=frame.index)
    status = status_raw.str.lower().map(STATUS_WORDS).where(status_raw.notna(), "paid")
    lines = frame.assign(**text, order_date=dates, amount=amounts, status=status)
    for numeric in ("quantity", "unit_price"):
        if numeric in lines:
            lines[numeric] = pd.to_numeric(lines[numeric], errors="coerce").astype("float64")

    checks = [
        ("missing order id", lines["order_id"].isna()),
        ("missing customer id", lines["customer_id"].isna()),
        ("unreadable order date", lines["order_date"].isna()),
        ("missing or unreadable amount", lines["amount"].isna()),
        ("unknown status", lines["status"].isna()),
        ("duplicate line", lines.drop(columns="source_row").duplicated(keep="first")),
    ]
    reason = pd.Series(pd.NA, index=lines.index, dtype="str")
    for label, mask in checks:
        reason = reason.mask(reason.isna() & mask, label)

    bad = reason.notna()
    columns = [c for c in frame.columns if c != "source_row"]
    excluded = (frame.loc[bad].astype({c: "str" for c in columns}).assign(reason=reason[bad], file=str(path))
                [["file", "source_row", "reason", *columns]])
    return LoadResult(lines=lines.loc[~bad].reset_index(drop=True), excluded=excluded.reset_index(drop=True),
                      rows_read=rows_read, source=path)


def _clean_text(values: pd.Series) -> pd.Series:
    cleaned = values.astype("str").str.strip()
    return cleaned.mask(values.isna() | cleaned.eq(""))


def _parse_dates(values: pd.Series, timezone: str) -> pd.Series:
    """Timestamps in the client's local time, tz-naive; unparseable values become NaT (then excluded)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=_has_offsets(values))
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _has_offsets(values: pd.Series) -> bool:
    return bool(values.astype("str").str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True, na=False).any())
