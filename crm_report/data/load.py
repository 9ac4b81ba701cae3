"""Load a client's orders into canonical order lines, excluding (never silently dropping) bad rows.

Canonical order lines: `order_id`, `customer_id` (missing for a guest order: no id, e-mail or mobile),
`order_date` (tz-naive, client's local time), `amount` (net, client currency; negative = a refund, with
status `refunded`), optional `product_id`, `product_name`, `category`, `quantity`, `unit_price`, `channel`,
`status` (paid / cancelled / refunded), `store`, `customer_name`, `email` (normalised), `phone` (mobiles
normalised to 09xxxxxxxx), `line_user_id`, `email_consent`, `sms_consent`, `line_consent` (raw; read by the
win-back channel rules); plus `source_file` (relative to the client's folder), `source_row` (the row as a
spreadsheet shows it, see `sources`) and `customer_match` (how the customer was found: id, email, phone,
guest); when a credit note was netted, `credit_note` (its own number, on its lines moved into the order it
cancels) and `credit_match` (reference, or customer and product); when a line was converted from another
currency (`CONVERSION`), `converted_from` (that currency's code).

The steps, all vectorised (`sources` reads, `presets` maps, `values` parses, `identity` keys customers):

1. Each file or query is read in chunks of the columns its header maps to fields; each chunk is parsed
   into typed values at once. Unreadable cells are remembered with their column and text.
2. Blank cells of order-level fields take the value of another line of the same order in the same file
   (Shopify, merged Excel cells); lines in another currency are converted (`CONVERSION`); a Shopify line
   amount is derived, net of a partial refund; a blank status is `paid`; the lines of a cancellation
   document (`source.cancel_prefix`) are credits.
3. Customers are keyed by id, else normalised e-mail, else Taiwanese mobile (`identity`), linked only
   through rows dated up to the report's as-of instant.
4. Every row is then either used or excluded with the first reason that applies (`REASONS`), its file,
   row number, column and value. Copies of an order line in an older file of a folder of overlapping
   exports (older by the latest order date each file holds, `export_ranks`) are excluded as `overlap with a
   later file` and do not count towards the threshold. Credit notes
   are netted against the orders they cancel (`CREDIT_WINDOW`); those that find none are excluded.

Dates written with the year last are read in one order per file (`_read_date_order`). The threshold counts
the excluded rows and the share of the amount they carry (`LoadResult.over_threshold`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crm_report.config import CANONICAL_FIELDS, ClientConfig
from crm_report.data import identity, presets, sources, values
from crm_report.data.sources import DataError, TableInfo
from crm_report.formatting import minor_digits
from crm_report.frames import isin
from crm_report.period import local_now

TEXT_FIELDS = ("order_id", "customer_id", "product_id", "product_name", "category", "channel", "store",
               "customer_name", "line_user_id", "email_consent", "sms_consent", "line_consent", "cancels_order_id")
REASONS = (
    "malformed row", "unbalanced quote", "unreadable order date", "unreadable amount", "implausible amount",
    "implausible quantity", "unreadable quantity", "unreadable unit price",
    "unknown status", "missing order id", "missing order date", "future date", "missing amount",
    "duplicate line", "overlap with a later file", "zero amount", "refund without its order",
)
"""Why a row is excluded, in order of precedence (a row gets the first that applies):

- malformed row: a CSV row with more or fewer fields than the header;
- unbalanced quote: a CSV line whose quoted value does not close on it, where reading on would break the
  column count; the lines after it are read as their own rows (`sources._scan_lines`);
- unreadable …, unknown status: a cell holds something that cannot be read as a date, number or status;
- implausible amount: infinite (`1e309`) or beyond `values.MAX_AMOUNT` (NT$1 billion a line), as read or as
  quantity × unit price;
- implausible quantity: infinite or beyond `values.MAX_QUANTITY`, or zero or negative on a paid line with a
  positive amount (a refund line's negative quantity is fine; a fraction is only flagged, as some shops
  sell by weight);
- future date: more than a day after the time of loading (a typo such as 2062);
- duplicate line: the same values in every mapped column as an earlier row of the same file;
- overlap with a later file: the same order line (order, product, sign, n-th such line) is in a newer export
  of the folder (newer: its latest order date is later, `export_ranks`; not its file name);
- zero amount: a paid line of an order whose lines add up to zero (tests, free samples; a free gift line in
  a paid order is kept);
- refund without its order: a credit note (or a refund) that cancels no order in the data (`CREDIT_WINDOW`).
"""
OVERLAP = "overlap with a later file"
UNMATCHED_CREDIT = "refund without its order"
CREDIT_WINDOW = pd.Timedelta(days=90)
"""How far back a credit note without a reference looks for the order it cancels.

A **credit note** is a cancellation or refund issued as a document of its own: every line of an order whose
number starts with `source.cancel_prefix` (`C536379`; its amounts and quantities count as negative however
they are written), and a negative line whose own order has no positive line. Each of its lines is netted
against the order it cancels: the order `cancels_order_id` names when the export has that column (and the
order is in the data), else the latest order of the same customer containing the same product (id, else
name; any product when the export names none) dated at most 90 days before the note. The line then
belongs to that order (`order_id`) and keeps its own number in `credit_note` and how it was matched in
`credit_match` ('reference' or 'customer and product'): the one purchase rule (`metrics.orders`) nets it,
from the note's date on. A note that takes its order to zero or less cancels it (no purchase), a smaller one
reduces its amount. A line that finds no order is excluded as `refund without its order`."""
CREDIT_MATCHES = ("reference", "customer and product")
MONEY_FIELDS = ("amount", "unit_price", "subtotal", "line_discount", "refunded_amount")
CONVERSION = """How a line in another currency becomes one in the client's (`currency_rates` in client.yaml).

A line's currency is the one its currency column names (a blank cell: the order's, from another line of the
same order in the same file), else the one its amount cell's mark names (`US$12`, `HK$100`:
`values.CURRENCY_MARKS`), else the client's. A line in a currency the client gives a rate for has every money
cell the loader reads (`MONEY_FIELDS`: amount, unit price, subtotal, line discount, refunded amount)
multiplied by that rate as it is read, before amounts are derived, refunds netted or rows excluded, and
rounded to the client currency's minor unit (`formatting.minor_digits`: TWD 2 decimals, JPY none; halves away
from zero), each cell on its own, as accounts book a converted invoice line. Quantities are not money and stay.
The line keeps its original currency in `converted_from`. A line in another currency without a rate stops the
run, naming file, row, column and currency, and so does a cell whose mark names two currencies (`¥`: JPY or
CNY) unless the currency column or the client's currency tells which, and a mark that contradicts the
currency column."""
FUTURE_TOLERANCE = pd.Timedelta(days=1)
_FIELD_OF_REASON = {"missing order id": "order_id", "unreadable order date": "order_date",
                    "missing order date": "order_date", "future date": "order_date", "unreadable amount": "amount",
                    "implausible amount": "amount", "missing amount": "amount",
                    "implausible quantity": "quantity", "unreadable quantity": "quantity",
                    "unreadable unit price": "unit_price", "unknown status": "status", "zero amount": "amount",
                    "refund without its order": "amount"}
_PARSE_CHECKS = (("unreadable order date", "order_date", "order_date"), ("unreadable amount", "amount", "amount"),
                 ("implausible amount", "amount", "amount_range"), ("unreadable amount", "subtotal", "subtotal"),
                 ("unreadable amount", "refunded_amount", "refunded_amount"),
                 ("unreadable quantity", "quantity", "quantity"),
                 ("unreadable unit price", "unit_price", "unit_price"), ("unknown status", "status", "status"))


@dataclass(frozen=True)
class Finding:
    """Something worth a consultant's look that excludes no row: `kind` is 'email_not_address' (cells of
    the e-mail column that are not addresses, not used), 'amount_repeats' (the amount column holds the same
    value on every line of most orders: probably an order total, which would count each order several times),
    'amount_columns' (another column could be the amount too), 'quantity_fraction' (paid lines with a
    quantity that is not whole), 'order_customers_differ' or 'order_dates_differ' (an order whose lines name
    more than one customer, or fall on more than one day)."""

    kind: str
    count: int = 0
    file: str = ""
    column: str = ""
    example: str = ""
    """The first case: a value, an order id, or the other column(s)."""
    row: int = 0
    """The first case's row, where it is one row."""


@dataclass(frozen=True)
class DateOrder:
    """How one file's dates written with the year last (`05/01/2026`) were read: `order` dmy or mdy, `how`
    'detected' (then `row` and `value` are the first date that reads only that way) or 'client.yaml'."""

    order: str
    how: str
    row: int = 0
    value: str = ""


@dataclass(frozen=True)
class SourceFile:
    """One file or query as read: where the header was, which column went to which field, what is left."""

    info: TableInfo
    matching: presets.Matching
    rows: int
    blank_rows: int
    suggestions: tuple[presets.Suggestion, ...] = ()
    date_order: DateOrder | None = None
    """How dates with the year last were read; None when the file has none."""


@dataclass(frozen=True)
class LoadResult:
    """Canonical lines that can be used, the rows excluded with a reason each, and where they came from."""

    lines: pd.DataFrame
    excluded: pd.DataFrame
    rows_read: int
    source: str
    files: tuple[SourceFile, ...] = ()
    rows_blank: int = 0
    max_excluded_share: float = 0.05
    findings: tuple[Finding, ...] = field(default=())
    """What is worth a look but excludes nothing (e-mails that are not addresses, an order total as amount)."""
    currency: str = "TWD"
    """The client's currency, which every amount is in."""
    rates: dict[str, float] = field(default_factory=dict)
    """The client's `currency_rates`: lines in these currencies were converted (`CONVERSION`)."""

    @property
    def rows_overlap(self) -> int:
        """Copies of order lines that a later file of overlapping exports holds too."""
        return int(self.excluded["reason"].eq(OVERLAP).sum())

    @property
    def rows_excluded(self) -> int:
        """Excluded rows that count towards the threshold: all but the copies in overlapping exports."""
        return len(self.excluded) - self.rows_overlap

    @property
    def excluded_share(self) -> float:
        counted = self.rows_read - self.rows_overlap
        return self.rows_excluded / counted if counted else 0.0

    @property
    def excluded_amount_share(self) -> float:
        """The share of the money read that excluded rows carry: their amounts ÷ the amounts of every row
        read, both without sign (a credit note weighs as much as a sale) and without the copies in
        overlapping exports. A row whose amount could not be read carries none: it counts in rows only."""
        counted = self.excluded.loc[self.excluded["reason"].ne(OVERLAP)]
        excluded = float(pd.to_numeric(counted["amount"], errors="coerce").abs().sum()) if "amount" in counted else 0.0
        total = float(self.lines["amount"].abs().sum()) + excluded
        return excluded / total if total else 0.0

    @property
    def over_threshold(self) -> bool:
        """More rows excluded, or more of the amount, than `max_excluded_share` allows (one limit for both)."""
        return max(self.excluded_share, self.excluded_amount_share) > self.max_excluded_share


def load_orders(config: ClientConfig, *, now: pd.Timestamp | None = None,
                as_of: pd.Timestamp | None = None) -> LoadResult:
    """Read the client's orders and return canonical lines plus every excluded row with its reason.

    `now` (client's local time, default: the current time) is the limit for future dates. `as_of` (client's
    local time; a report passes `period.as_of(month)`) is the instant customers are keyed as of: only rows
    dated at or before it link an e-mail or mobile to a customer (`identity.resolve_customers`), so a later
    export keys a past month's customers the same. Later rows are still returned, keyed through the earlier
    ones; the caller cuts them off. None (`--check-data`) links through every dated row.

    Raises DataError when a required field has no column, a file cannot be read, or a line is in another
    currency without a rate (`CONVERSION`). Exceeding the client's excluded-rows threshold does not raise
    here: see `check_threshold`.
    """
    now = local_now(config.timezone) if now is None else now
    parts, files = [], []
    tables = sources.open_tables(config)
    _check_listed_columns(tables, config)
    for table in tables:
        frame, summary = _read_table(table, config)
        parts.append(frame)
        files.append(summary)
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    frame["source_file"] = pd.Categorical(frame["source_file"], categories=[f.info.name for f in files])
    frame = _complete(frame, files, as_of, config)
    frame, reasons, columns, shown = _reasons(frame, files, now)
    bad = reasons.notna()
    findings = tuple(_findings(frame, files, ~bad))  # before the lines are copied out: a lower peak
    lines = frame.loc[~bad, _line_columns(frame)].reset_index(drop=True)
    excluded = _quarantine(frame.loc[bad], reasons[bad], columns[bad], shown[bad])
    return LoadResult(lines=lines, excluded=excluded, rows_read=len(frame), source=config.source.describe(),
                      files=tuple(files), rows_blank=sum(f.blank_rows for f in files),
                      max_excluded_share=config.source.max_excluded_share,
                      findings=findings, currency=config.currency, rates=dict(config.currency_rates))


def _check_listed_columns(tables: list[sources.Table], config: ClientConfig) -> None:
    """Stop when a column that client.yaml lists for a field (`source.columns`) is in no file of the source.

    A list may name a column renamed between exports (`product_name: [商品名稱, 品名]`): each file needs one of
    the names (else `_mapping_error` names the file), but a name no file has is a typo, not a rename."""
    present = {presets.normalise_header(c) for t in tables for c in t.info.columns}
    for field_name, wanted in config.source.columns.items():
        if not isinstance(wanted, list) or len(wanted) < 2:
            continue
        nowhere = [w for w in wanted if presets.normalise_header(w) not in present]
        if nowhere:
            raise DataError(f"{config.source.describe()}: source.columns.{field_name} in "
                            f"{config.folder / 'client.yaml'} lists {', '.join(map(repr, nowhere))}, which no file "
                            "of the source has; fix the name or remove it")


def check_threshold(result: LoadResult) -> None:
    """Raise DataError when more rows were excluded than the client allows, or rows that carry more of the
    amount (`LoadResult.excluded_amount_share`), naming the commonest reasons with the file, row, column and
    value of their first row."""
    if not result.over_threshold:
        return
    counted = result.excluded.loc[result.excluded["reason"].ne(OVERLAP)]
    firsts = counted.drop_duplicates("reason").set_index("reason")
    counts = counted["reason"].value_counts()
    examples = "; ".join(
        f"{reason} {count:,} (first: {firsts.at[reason, 'file']} row {firsts.at[reason, 'source_row']}"
        + (f", column {firsts.at[reason, 'column']}" if isinstance(firsts.at[reason, 'column'], str) else "")
        + (f", {firsts.at[reason, 'value']!r}" if isinstance(firsts.at[reason, 'value'], str) else "") + ")"
        for reason, count in counts.head(4).items())
    carry = ("" if result.excluded_share > result.max_excluded_share
             else f", but they carry {result.excluded_amount_share:.1%} of the amount")
    raise DataError(
        f"{result.source}: {result.rows_excluded:,} of {result.rows_read - result.rows_overlap:,} rows "
        f"({result.excluded_share:.1%}) were excluded{carry}, more than the {result.max_excluded_share:.1%} "
        f"allowed (source.max_excluded_share in client.yaml, for the rows and for the amount they carry): "
        f"{examples}. Every excluded row is in quarantine.csv. "
        "Fix the export or the column mapping (run_report.py --check-data), raise the threshold, or run with "
        "--accept-exclusions.")


@dataclass(frozen=True)
class CreditNotes:
    """What netting credit notes did (`CREDIT_WINDOW` has the rule): the notes and lines netted up to an
    instant, by how they were matched, the amount they took off, the orders they cancelled (no longer a
    purchase) or reduced; and the lines that found no order (excluded; amounts as positive numbers)."""

    notes: int = 0
    lines: int = 0
    by_reference: int = 0
    by_product: int = 0
    amount: float = 0.0
    orders_cancelled: int = 0
    orders_reduced: int = 0
    unmatched: int = 0
    unmatched_amount: float = 0.0
    window_days: int = CREDIT_WINDOW.days


def credit_notes(lines: pd.DataFrame, excluded: pd.DataFrame, as_of: pd.Timestamp | None = None) -> CreditNotes:
    """The netting of `lines` dated up to `as_of` (None: all) and the unmatched lines of `excluded` (all: an
    excluded row has no report month). An order is cancelled when it has a paid line up to `as_of` and the
    purchase rule (`metrics.orders.purchase_line_mask`) no longer makes it a purchase; reduced when it still is."""
    from crm_report.metrics.orders import purchase_line_mask

    unmatched = excluded.loc[excluded["reason"].eq(UNMATCHED_CREDIT)]
    missing = CreditNotes(unmatched=len(unmatched),
                          unmatched_amount=float(-pd.to_numeric(unmatched.get("amount"), errors="coerce").sum())
                          if len(unmatched) else 0.0)
    if "credit_note" not in lines:
        return missing
    as_of = lines["order_date"].max() if as_of is None else as_of
    in_time = lines["order_date"].le(as_of)
    credit = lines.loc[in_time & lines["credit_note"].notna()]
    if credit.empty:
        return missing
    credited = credit["order_id"].unique()
    purchases = lines.loc[purchase_line_mask(lines, as_of), "order_id"].unique()
    bought = lines.loc[in_time & lines["status"].eq("paid") & isin(lines["order_id"], credited), "order_id"].unique()
    how = credit["credit_match"].value_counts()
    return CreditNotes(
        notes=int(credit["credit_note"].nunique()), lines=len(credit), by_reference=int(how.get(CREDIT_MATCHES[0], 0)),
        by_product=int(how.get(CREDIT_MATCHES[1], 0)), amount=float(-credit["amount"].sum()),
        orders_cancelled=int((~isin(pd.Series(bought), purchases)).sum()),
        orders_reduced=int(isin(pd.Series(credited), purchases).sum()),
        unmatched=missing.unmatched, unmatched_amount=missing.unmatched_amount)


@dataclass(frozen=True)
class Conversion:
    """The lines converted from one currency (`CONVERSION`): at which rate (units of the client's currency for
    one unit of `currency`), how many, and their amount after conversion."""

    currency: str
    rate: float
    lines: int
    amount: float


def currency_conversions(lines: pd.DataFrame, rates: dict[str, float],
                         as_of: pd.Timestamp | None = None) -> tuple[Conversion, ...]:
    """The lines of `lines` dated up to `as_of` (None: all) converted from another currency, per currency (in
    alphabetical order) with its rate from `rates`; empty when none was."""
    if "converted_from" not in lines:
        return ()
    rows = lines.loc[lines["converted_from"].notna()
                     & (lines["order_date"].le(as_of) if as_of is not None else True)]
    per = rows.groupby(rows["converted_from"].astype("str"))["amount"].agg(["size", "sum"])
    return tuple(Conversion(str(code), rates[code], int(row["size"]), float(row["sum"]))
                 for code, row in per.iterrows())


# --- reading and parsing ---------------------------------------------------------------------------------

def _read_table(table: sources.Table, config: ClientConfig) -> tuple[pd.DataFrame, SourceFile]:
    info = table.info
    matching = presets.match_columns(info.columns, config.source.preset, config.source.columns)
    if not matching.ok:
        raise DataError(_mapping_error(info, matching, table.sample, config))
    chunks = [_parse_chunk(chunk, matching, config, info.name)
              for chunk in table.read(lambda columns: matching.used)]
    if not chunks:  # a file with a header and no rows
        empty = pd.DataFrame({c: pd.Series(dtype="str") for c in matching.used}).assign(source_row=np.int64(0))
        chunks = [_parse_chunk(empty, matching, config, info.name)]
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) != 1 else chunks[0]
    rows = table.fix_rows(frame["source_row"].to_numpy())
    if (rows < 0).any():  # read wrongly after a stray quote, and read again
        frame, rows = frame.loc[rows >= 0].reset_index(drop=True), rows[rows >= 0]
    frame["source_row"] = rows
    if matching.product_list and "product_name" in frame:
        frame = _split_product_lists(frame)
    frame, date_order = _read_date_order(frame, info, matching, config)
    if len(table.malformed):
        malformed = pd.DataFrame({"source_row": table.malformed["source_row"].to_numpy(),
                                  "_reason": table.malformed["reason"].astype("str").to_numpy(),
                                  "_bad_column": pd.NA,
                                  "_bad_value": table.malformed["text"].astype("str").to_numpy()})
        frame = pd.concat([frame, malformed], ignore_index=True).sort_values("source_row", kind="stable")
    blank = frame["_blank"].fillna(False).astype(bool)
    frame = frame.loc[~blank].drop(columns="_blank").reset_index(drop=True).assign(source_file=info.name)
    suggestions = (tuple(presets.suggest_mappings(matching, table.sample, config.phone_region))
                   if matching.unmatched else ())
    return frame, SourceFile(info, matching, rows=len(frame), blank_rows=int(blank.sum()),
                             suggestions=suggestions, date_order=date_order)


def _split_product_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows that list an order's products in one cell (`presets.split_products`) as one line per product,
    each with its quantity and the share of the row's amount its quantity is of the row's (the export gives
    no price per product). The lines keep the row's number; a row already excluded stays one row."""
    readable = frame["_reason"].isna()
    items = presets.split_products(frame.loc[readable, "product_name"])
    share = (items["quantity"] / items["quantity"].groupby(level=0).transform("sum")).fillna(1.0)
    lines = frame.loc[items.index]
    lines = lines.assign(product_name=items["product_name"].to_numpy(), quantity=items["quantity"].to_numpy(),
                         amount=(lines["amount"] * share).to_numpy())
    return (pd.concat([lines, frame.loc[~readable]]).sort_values("source_row", kind="stable")
            .reset_index(drop=True))


def _read_date_order(frame: pd.DataFrame, info: TableInfo, matching: presets.Matching,
                     config: ClientConfig) -> tuple[pd.DataFrame, DateOrder | None]:
    """The file's dates written with the year last, read in one order for the whole file: the one
    `source.date_order` names, else the one its dates prove (`values.proven_order`: a first field over 12
    proves day first, a second field over 12 month first).

    Raises DataError, naming the file, and the row, column and value where there is one: when the order
    cannot be told (every such date reads both ways: no day over 12), when the file's dates prove both
    orders, when a date reads only the other way than `source.date_order` says, and, with `ymd`, for any
    date with the year last. Never a silent guess."""
    if "_dmy" not in frame:
        return frame, None
    readings = frame[["_dmy", "_mdy"]].astype("datetime64[ns]").set_axis(["dmy", "mdy"], axis=1)
    text = frame["_date_text"]
    frame = frame.drop(columns=["_dmy", "_mdy", "_date_text"])
    pending = readings.notna().any(axis=1)
    if not pending.any():
        return frame, None
    only = {"dmy": readings["dmy"].notna() & readings["mdy"].isna(),
            "mdy": readings["mdy"].notna() & readings["dmy"].isna()}
    column = ", ".join(matching.matches["order_date"].columns)
    yaml = config.folder / "client.yaml"

    def first(mask: pd.Series) -> tuple[int, str]:
        at = frame.loc[mask, "source_row"].idxmin()
        shown = text[at] if isinstance(text[at], str) else str(readings.loc[at].dropna().iat[0])
        return int(frame.at[at, "source_row"]), shown

    forced = config.source.date_order
    if forced == "ymd":
        row, value = first(pending)
        raise DataError(f"{info.name} row {row}, column {column}: {value!r} has the year last, but "
                        f"source.date_order in {yaml} is ymd (the year first); fix the date or the option")
    if forced in ("dmy", "mdy"):
        other = "mdy" if forced == "dmy" else "dmy"
        if only[other].any():
            row, value = first(only[other])
            raise DataError(f"{info.name} row {row}, column {column}: {value!r} cannot be "
                            f"{_ORDER_WORDS[forced]} (a month over 12), but source.date_order in {yaml} is "
                            f"{forced}; fix the date or the option")
        chosen, how, row, value = forced, "client.yaml", 0, ""
    elif only["dmy"].any() and only["mdy"].any():
        (dmy_row, dmy_value), (mdy_row, mdy_value) = first(only["dmy"]), first(only["mdy"])
        raise DataError(f"{info.name}, column {column}: row {dmy_row} ({dmy_value!r}) reads only day first and "
                        f"row {mdy_row} ({mdy_value!r}) only month first: the file mixes two date orders; fix "
                        "the export")
    elif not (only["dmy"].any() or only["mdy"].any()):
        row, value = first(pending)
        raise DataError(f"{info.name}, column {column}: the dates are written with the year last (first: row "
                        f"{row}, {value!r}) and no day is over 12, so they could be day first or month first; "
                        f"say which in {yaml}: source.date_order: dmy (day first, 31/12/2026) or mdy (month "
                        "first, 12/31/2026)")
    else:
        chosen, how = ("dmy", "detected") if only["dmy"].any() else ("mdy", "detected")
        row, value = first(only[chosen])
    dates = frame["order_date"].mask(pending, readings[chosen])
    return frame.assign(order_date=dates), DateOrder(chosen, how, row, value)


_ORDER_WORDS = {"dmy": "day first", "mdy": "month first"}


def _mapping_error(info: TableInfo, matching: presets.Matching, sample: pd.DataFrame, config: ClientConfig) -> str:
    problems = [f"column {', '.join(map(repr, cols))} (for {field}) is not in the file"
                for field, cols in matching.absent.items()]
    for missing in matching.missing:
        if missing == "customer_id":
            problems.append("no column identifies customers (customer_id, email or phone)")
        elif missing == "amount":
            problems.append("no column for required field 'amount' (nor quantity and unit_price to compute it)")
        else:
            problems.append(f"no column for required field {missing!r}")
    where = ", ".join(([f"sheet {info.sheet}"] if info.sheet else [])
                      + ([f"header on row {info.header_row}"] if info.header_row else []))
    where = f" ({where})" if where else ""
    suggested = presets.suggest_mappings(matching, sample, config.phone_region)
    hint = ("; suggested: " + ", ".join(f"{s.field}: {s.column}" for s in suggested)) if suggested else ""
    return (f"{info.name}{where}: " + "; ".join(problems) + f". Columns in the file: {list(info.columns)}{hint}. "
            f"Map them under source.columns in {config.folder / 'client.yaml'} "
            "(run_report.py --check-data shows what was found)")


def _parse_chunk(chunk: pd.DataFrame, matching: presets.Matching, config: ClientConfig, name: str) -> pd.DataFrame:
    """One chunk of raw columns → typed canonical columns, plus the first unreadable cell of each row."""
    raw = {f: _field_values(chunk, m.columns) for f, m in matching.matches.items() if m.columns}
    out = {f: values.clean_text(raw[f]) for f in TEXT_FIELDS if f in raw}
    bad: dict[str, pd.Series] = {}
    if "email" in raw:
        out["email"] = identity.normalise_emails(raw["email"])
        out["_email_text"] = values.clean_text(raw["email"]).notna()
    if "phone" in raw:
        phones = identity.parse_phones(raw["phone"], config.phone_region)
        out["_mobile"], out["phone"] = phones["mobile"], phones["phone"]
    out["order_date"], bad["order_date"], year_last = values.read_dates(raw["order_date"], config.timezone)
    if len(year_last):  # both readings until the whole file has been read (`_read_date_order`)
        out["_dmy"], out["_mdy"] = (year_last[order].reindex(chunk.index) for order in ("dmy", "mdy"))
        kinds = pd.Series(np.select([year_last["mdy"].isna(), year_last["dmy"].isna()], ["dmy", "mdy"], "both"),
                          index=year_last.index)
        firsts = kinds.drop_duplicates().index  # the first cell of each kind, for messages
        out["_date_text"] = values.clean_text(raw["order_date"])[firsts].reindex(chunk.index)
    marks = None
    if "amount" in raw:
        out["amount"], marks, bad["amount"] = values.parse_amounts(raw["amount"])
        bad["amount_range"] = values.implausible(out["amount"])
    for f in ("quantity", "unit_price", "line_discount"):
        if f in raw:
            out[f], bad[f] = values.parse_numbers(raw[f])
    if "subtotal" in raw:
        out["subtotal"], _, bad["subtotal"] = values.parse_amounts(raw["subtotal"])
    if "refunded_amount" in raw:
        out["refunded_amount"], _, bad["refunded_amount"] = values.parse_amounts(raw["refunded_amount"])
    if "cancelled_at" in raw:
        out["cancelled_at"] = values.clean_text(raw["cancelled_at"])
    column = values.clean_text(raw["currency"]).str.upper() if "currency" in raw else None
    currency = _line_currency(marks, column, chunk, matching, config, name)
    if currency is not None:
        out["currency"] = currency
    if "status" in raw:
        out["status"], bad["status"] = values.parse_status(raw["status"], config.source.status_words)
    frame = pd.DataFrame(out, index=chunk.index)
    frame["_blank"] = chunk[list(matching.used)].isna().all(axis=1).to_numpy()
    frame["_reason"] = pd.Series(pd.NA, index=chunk.index, dtype="str")
    frame["_bad_column"] = pd.Series(pd.NA, index=chunk.index, dtype="str")
    frame["_bad_value"] = pd.Series(pd.NA, index=chunk.index, dtype="str")
    for reason, f, check in _PARSE_CHECKS:
        if check in bad and bad[check].any():
            hit = bad[check] & frame["_reason"].isna()
            frame.loc[hit, "_reason"] = reason
            frame.loc[hit, "_bad_column"] = ", ".join(matching.matches[f].columns)
            frame.loc[hit, "_bad_value"] = values.clean_text(raw[f])[hit]
    return frame.assign(source_row=chunk["source_row"].to_numpy()).reset_index(drop=True)


def _field_values(chunk: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """A field's cells: its column, or the first non-blank of its columns."""
    if len(columns) == 1:
        return chunk[columns[0]]
    cleaned = [values.clean_text(chunk[c]) for c in columns]
    result = cleaned[0]
    for other in cleaned[1:]:
        result = result.fillna(other)
    return result


def _line_currency(marks: pd.Series | None, column: pd.Series | None, chunk: pd.DataFrame,
                   matching: presets.Matching, config: ClientConfig, name: str) -> pd.Series | None:
    """Each row's currency (`CONVERSION`): the currency column's, else its amount cell's mark; missing when
    neither names one (or blank in the column: the order's other lines may). None when neither exists.

    A mark naming two currencies (`¥`) is the one of them the currency column names, else the client's
    when it is one of them. Raises DataError for a currency the client has no rate for, a mark still naming
    two, and a mark that contradicts the currency column."""
    if marks is not None:
        marks = marks.copy()
        for both in marks.loc[marks.str.contains(" or ", regex=False, na=False)].unique():
            at, options = marks.eq(both), both.split(" or ")
            named = column.where(column.isin(options)) if column is not None else pd.Series(pd.NA, index=marks.index)
            own = config.currency if config.currency in options else pd.NA
            marks[at] = named[at].fillna(own).fillna(both)
        _check_currency(marks, chunk, matching.matches["amount"].columns[0], config, name)
    if column is None:
        return marks if marks is not None and marks.notna().any() else None
    _check_currency(column, chunk, matching.matches["currency"].columns[0], config, name)
    if marks is None:
        return column
    differ = marks.notna() & column.notna() & marks.ne(column)
    if differ.any():
        first, amount = differ.idxmax(), matching.matches["amount"].columns[0]
        raise DataError(f"{name} row {chunk.at[first, 'source_row']}, column {amount}: "
                        f"{str(chunk.at[first, amount])!r} is in {marks[first]}, but column "
                        f"{matching.matches['currency'].columns[0]} says {column[first]}; fix the export")
    return column.fillna(marks)


def _check_currency(currency: pd.Series, chunk: pd.DataFrame, column: str, config: ClientConfig, name: str) -> None:
    """Stop at the first row in a currency that is neither the client's nor one it gives a rate for."""
    other = currency.notna() & currency.ne(config.currency) & ~currency.isin(list(config.currency_rates))
    if not other.any():
        return
    first = other.idxmax()
    code, yaml, rates = currency[first], config.folder / "client.yaml", config.currency_rates
    where = (f"{name} row {chunk.at[first, 'source_row']}, column {column}: {str(chunk.at[first, column])!r} "
             f"is in {code}")
    if " or " in code:
        raise DataError(f"{where}: the mark names more than one currency, so the amount cannot be added up or "
                        f"converted; name the currency in the cell ({code.replace(' or ', ', ')}) or in a currency "
                        "column")
    if rates:
        raise DataError(f"{where}, but the client's currency is {config.currency} (currency in {yaml}) and "
                        f"currency_rates gives no rate for {code} (it has {', '.join(sorted(rates))}): add one, "
                        "or split or convert the export")
    raise DataError(f"{where}, but the client's currency is {config.currency} (currency in {yaml}); mixed "
                    f"currencies cannot be added up: give rates under currency_rates (how many {config.currency} "
                    f"one {code} is worth), or split or convert the export")


def _convert_currencies(frame: pd.DataFrame, config: ClientConfig) -> pd.DataFrame:
    """Lines in a currency the client gives a rate for, in the client's currency (`CONVERSION`), with
    `converted_from`; the frame as it is when none is."""
    if "currency" not in frame or not config.currency_rates:
        return frame
    rate = frame["currency"].map(config.currency_rates).astype("float64")
    converted = rate.notna()
    if not converted.any():
        return frame
    digits = minor_digits(config.currency)
    money = {f: frame[f].mask(converted, _round_half_away(frame[f] * rate, digits)) for f in MONEY_FIELDS
             if f in frame}
    return frame.assign(**money, converted_from=frame["currency"].where(converted))


def _round_half_away(amounts: pd.Series, digits: int) -> pd.Series:
    """Amounts rounded to `digits` decimals, halves away from zero (315.315 → 315.32, −315.315 → −315.32: a
    refund rounds as its sale did). The binary error of a product such as 10.01 × 31.5 (315.31499999999997)
    goes first: each value is snapped to a millionth of the last digit kept."""
    scaled = np.round(amounts.to_numpy(dtype="float64", na_value=np.nan) * 10.0 ** digits, 6)
    return pd.Series(np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) / 10.0 ** digits, index=amounts.index)


# --- completing lines ------------------------------------------------------------------------------------

def _complete(frame: pd.DataFrame, files: list[SourceFile], as_of: pd.Timestamp | None,
              config: ClientConfig) -> pd.DataFrame:
    """Fill order-level blanks from the order's other lines, derive amounts, default statuses, make the
    amounts of cancellation documents (`source.cancel_prefix`) credits, key customers (linked only through
    rows up to `as_of`)."""
    order_codes = pd.factorize(frame["order_id"])[0]
    order = pd.Series(np.where(order_codes >= 0, frame["source_file"].cat.codes.to_numpy().astype("int64")
                               * (order_codes.max(initial=0) + 1) + order_codes, -1), index=frame.index)
    filled = {}
    for f in presets.ORDER_LEVEL_FIELDS + ("_mobile",):  # one order = one file's order id (-1: no id)
        if f in frame and frame[f].isna().any() and frame[f].notna().any():
            first = frame[f].groupby(order.where(order >= 0), sort=False).transform("first")
            filled[f] = frame[f].fillna(first)
    frame = _convert_currencies(frame.assign(**filled), config)
    shopify = {f.info.name for f in files if f.matching.shopify_amounts}
    derived = {f.info.name for f in files if f.matching.matches["amount"].how == "quantity × unit_price"}
    if "amount" not in frame:
        frame["amount"] = np.nan
    if shopify:
        rows = frame["source_file"].isin(shopify)
        derived_amounts = presets.shopify_amounts(
            frame["unit_price"], frame["quantity"],
            frame["subtotal"] if "subtotal" in frame else pd.Series(np.nan, index=frame.index),
            frame["line_discount"] if "line_discount" in frame else pd.Series(np.nan, index=frame.index),
            order)
        frame["amount"] = frame["amount"].mask(rows, derived_amounts)
    if derived:
        rows = frame["source_file"].isin(derived)
        frame["amount"] = frame["amount"].mask(rows, frame["quantity"] * frame["unit_price"])
    refunded_in_full = pd.Series(False, index=frame.index)
    if "refunded_amount" in frame:  # the money refunded on an order (Shopify, SHOPLINE), on its first row
        frame["amount"], refunded_in_full = presets.shopify_refunds(frame["amount"], frame["refunded_amount"], order)
    status = frame["status"] if "status" in frame else pd.Series(pd.NA, index=frame.index, dtype="str")
    status = status.fillna("paid")
    if "cancelled_at" in frame:
        status = status.mask(frame["cancelled_at"].notna(), "cancelled")
    status = status.mask(refunded_in_full & status.eq("paid"), "refunded")
    prefix = config.source.cancel_prefix
    cancel_doc = (frame["order_id"].str.startswith(prefix, na=False) if prefix
                  else pd.Series(False, index=frame.index))
    if cancel_doc.any():  # a cancellation document: its amounts are credits, however they are written
        frame["amount"] = frame["amount"].mask(cancel_doc, -frame["amount"].abs())
        if "quantity" in frame:
            frame["quantity"] = frame["quantity"].mask(cancel_doc, -frame["quantity"].abs())
        status = status.mask(cancel_doc, "refunded")
    status = status.mask(frame["amount"].lt(0), "refunded")  # a negative amount is a refund
    key, match = identity.resolve_customers(
        frame["customer_id"] if "customer_id" in frame else pd.Series(pd.NA, index=frame.index, dtype="str"),
        frame["email"] if "email" in frame else pd.Series(pd.NA, index=frame.index, dtype="str"),
        frame["_mobile"] if "_mobile" in frame else pd.Series(pd.NA, index=frame.index, dtype="str"),
        frame["order_date"], as_of=as_of)
    return frame.assign(status=status, customer_id=key, _order=order, _cancel_doc=cancel_doc,
                        customer_match=pd.Categorical(match, categories=identity.MATCHES))


def _reasons(frame: pd.DataFrame, files: list[SourceFile],
             now: pd.Timestamp) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """Each row's exclusion reason (missing when used), the column it concerns and the value shown; and the
    frame with credit notes netted against the orders they cancel (`CREDIT_WINDOW`)."""
    reason = frame["_reason"].copy()
    column = frame["_bad_column"].copy()
    shown = frame["_bad_value"].copy()

    def flag(label: str, mask: pd.Series, value: pd.Series | None = None) -> None:
        hit = mask.fillna(False).astype(bool) & reason.isna()
        if not hit.any():
            return
        reason[hit] = label
        if label in _FIELD_OF_REASON:
            column[hit] = _column_names(frame.loc[hit, "source_file"], files, _FIELD_OF_REASON[label])
        if value is not None:
            shown[hit] = value[hit].astype("str")

    flag("missing order id", frame["order_id"].isna())
    flag("missing order date", frame["order_date"].isna())
    flag("future date", frame["order_date"].gt(now + FUTURE_TOLERANCE), frame["order_date"])
    flag("missing amount", frame["amount"].isna())
    flag("implausible amount", values.implausible(frame["amount"]), frame["amount"])  # quantity × unit price
    if "quantity" in frame:
        quantity = frame["quantity"]
        sold = frame["status"].eq("paid") & frame["amount"].gt(0)
        flag("implausible quantity", values.implausible(quantity, values.MAX_QUANTITY) | (sold & quantity.le(0)),
             quantity)
    order = pd.factorize(frame["order_id"])[0]  # -1 for a missing id
    flag("duplicate line", *_duplicates(frame, order, reason.isna()))
    if len(files) > 1:
        flag(OVERLAP, *_overlap(frame, reason.isna()))
    ok = (reason.isna() & (order >= 0)).to_numpy()
    amount, orders = frame["amount"].to_numpy(), int(order.max(initial=-1)) + 1
    total = np.bincount(order[ok], weights=amount[ok], minlength=orders)
    positive = np.bincount(order[ok], weights=amount[ok] > 0, minlength=orders) > 0
    # code -1 (no order id) reads the appended NaN, so an export without any order id cannot index an empty array
    per_line = lambda values: pd.Series(np.append(values.astype("float64"), np.nan)[order],  # noqa: E731
                                        index=frame.index)
    flag("zero amount", ok & frame["status"].eq("paid") & frame["amount"].eq(0) & per_line(total).eq(0),
         frame["amount"])
    credit = ok & per_line(positive).ne(1) & (frame["amount"].lt(0) | frame["_cancel_doc"])
    frame = _net_credit_notes(frame, credit, reason.isna() & ~credit)
    flag(UNMATCHED_CREDIT, credit & frame["credit_match"].isna(), frame["amount"])
    return frame, reason, column, shown


def _net_credit_notes(frame: pd.DataFrame, credit: pd.Series, usable: pd.Series) -> pd.DataFrame:
    """Credit-note lines (`credit`) moved into the order each cancels, among the `usable` lines' orders: by
    `cancels_order_id`, else by customer and product within `CREDIT_WINDOW` (the rule is there). Adds
    `credit_note` (the note's own number) and `credit_match` (how; missing: no order found)."""
    target = pd.Series(pd.NA, index=frame.index, dtype="str")
    how = pd.Series(pd.NA, index=frame.index, dtype="str")
    if credit.any():
        reference = (frame["cancels_order_id"] if "cancels_order_id" in frame
                     else pd.Series(pd.NA, index=frame.index, dtype="str"))
        by_reference = credit & reference.notna()
        known = by_reference & isin(reference, frame.loc[usable, "order_id"].unique())
        target[known], how[known] = reference[known], CREDIT_MATCHES[0]
        by_window = credit & ~by_reference & frame["customer_id"].notna()
        if by_window.any():
            found = _latest_order_with_product(frame, by_window, usable)
            target[found.index], how[found.index] = found, CREDIT_MATCHES[1]
    matched = target.notna()
    return frame.assign(order_id=frame["order_id"].mask(matched, target),
                        credit_note=frame["order_id"].where(matched), credit_match=how)


def _latest_order_with_product(frame: pd.DataFrame, notes: pd.Series, usable: pd.Series) -> pd.Series:
    """For each credit-note line of `notes`, the order id of the latest paid line of the same customer and
    product (any product when the export names none) dated from `CREDIT_WINDOW` before the note to the note's
    time, among the `usable` lines; only the notes that found one."""
    product = pd.Series("", index=frame.index, dtype="str")
    for f in ("product_name", "product_id"):  # the id first, else the name
        if f in frame:
            product = frame[f].fillna(product)
    sold = (usable & frame["status"].eq("paid") & frame["amount"].gt(0)
            & isin(frame["customer_id"], frame.loc[notes, "customer_id"].unique()))
    columns = lambda rows: pd.DataFrame({"customer_id": frame.loc[rows, "customer_id"],  # noqa: E731
                                         "product": product[rows], "order_date": frame.loc[rows, "order_date"]})
    left = columns(notes).assign(row=np.flatnonzero(notes.to_numpy())).sort_values("order_date", kind="stable")
    right = (columns(sold).assign(target=frame.loc[sold, "order_id"], position=np.flatnonzero(sold.to_numpy()))
             .sort_values(["order_date", "position"], kind="stable"))
    found = pd.merge_asof(left, right, on="order_date", by=["customer_id", "product"], direction="backward",
                          tolerance=CREDIT_WINDOW, allow_exact_matches=True)
    found = found.dropna(subset=["target"])
    return pd.Series(found["target"].to_numpy(), index=frame.index[found["row"].to_numpy()], dtype="str")


def _duplicates(frame: pd.DataFrame, order: np.ndarray, ok: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Rows (among `ok`) equal in every field to an earlier row of the same file, and "same as row N" (N: that
    earlier row's number) for them.

    Linear in the rows: a cheap numeric key (file, order, date, amount) finds the rows that may be copies, a
    hash of all their fields narrows them to rows that are very probably copies, and only those are compared
    field by field (a hash collision is therefore never taken for a copy). An order whose lines share the
    same amount used to send them all to the field-by-field comparison and its sort."""
    fields = [c for c in (*CANONICAL_FIELDS, "source_file") if c in frame]
    key = pd.DataFrame({"file": frame["source_file"].cat.codes.to_numpy(), "order": order,
                        "date": frame["order_date"].to_numpy().view("int64"), "amount": frame["amount"].to_numpy()},
                       index=frame.index).loc[ok]
    rows = frame.loc[key.index[key.duplicated(keep=False).to_numpy()], fields]
    hashed = pd.util.hash_pandas_object(rows.assign(**{c: _same_bits(rows[c]) for c in rows
                                                       if pd.api.types.is_float_dtype(rows[c])}), index=False)
    candidates = rows.loc[hashed.duplicated(keep=False).to_numpy()]
    duplicate = candidates.duplicated(keep="first")
    first = (frame.loc[candidates.index, "source_row"]
             .groupby([candidates[c] for c in fields], observed=True, dropna=False, sort=False).transform("min"))
    shown = "same as row " + first[duplicate].astype("Int64").astype("str")
    return (duplicate.reindex(frame.index, fill_value=False),
            shown.reindex(frame.index).astype("str"))


def _same_bits(values: pd.Series) -> np.ndarray:
    """Floats whose equal values have equal bits (one NaN, no -0.0), so equal rows hash alike."""
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isnan(numbers), np.nan, numbers + 0.0)


def export_ranks(frame: pd.DataFrame, ok: pd.Series) -> pd.Series:
    """Each file's rank from oldest to newest export (0 = oldest), by the latest order date among its `ok`
    rows, then by name order: a re-export of January named `orders-old.csv` still supersedes the January
    export it re-exports when its latest order is later. A file without a readable date ranks oldest."""
    files = frame["source_file"].cat.categories
    latest = frame.loc[ok, "order_date"].groupby(frame.loc[ok, "source_file"], observed=False).max()
    key = pd.DataFrame({"latest": latest.reindex(files).to_numpy(), "position": np.arange(len(files))},
                       index=files).sort_values(["latest", "position"], na_position="first", kind="stable")
    return pd.Series(np.arange(len(files)), index=key.index).reindex(files)


def _overlap(frame: pd.DataFrame, ok: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Copies of an order line in an older export when a newer one has the same line: same order, product
    (id, else name), sign of the amount and the n-th such line of that order in its file. Newer is by
    `export_ranks` (the latest order date a file holds), not by file name."""
    product = (frame["product_id"] if "product_id" in frame else pd.Series(pd.NA, index=frame.index, dtype="str"))
    if "product_name" in frame:
        product = product.fillna(frame["product_name"])
    rows = frame.loc[ok]
    key = pd.DataFrame({"order_id": rows["order_id"], "product": product[ok].fillna(""),
                        "sign": np.sign(rows["amount"]).astype("int8")})
    key["n"] = key.groupby([rows["source_file"], *[key[c] for c in key]], observed=True).cumcount()
    file_no = rows["source_file"].map(export_ranks(frame, ok)).astype("int64")
    last = file_no.groupby([key[c] for c in key]).transform("max")
    copy = file_no.lt(last)
    kept = (rows.loc[file_no.eq(last)].assign(**{c: key[c] for c in key})
            .drop_duplicates(["order_id", "product", "sign", "n"])
            .set_index(["order_id", "product", "sign", "n"]))
    where = key.loc[copy].join(kept[["source_file", "source_row"]], on=["order_id", "product", "sign", "n"])
    shown = ("kept: " + where["source_file"].astype("str")
             + " row " + where["source_row"].astype("Int64").astype("str"))
    return copy.reindex(frame.index, fill_value=False), shown.reindex(frame.index)


def _column_names(file: pd.Series, files: list[SourceFile], field_name: str) -> pd.Series:
    """The column(s) a field was read from, per file (for a derived amount: how it was derived)."""
    def name(matching: presets.Matching) -> str:
        match = matching.matches.get(field_name)
        if match is None:
            return field_name
        return ", ".join(match.columns) or match.how
    return file.astype("str").map({f.info.name: name(f.matching) for f in files})


def _line_columns(frame: pd.DataFrame) -> list[str]:
    canonical = [c for c in CANONICAL_FIELDS if c in frame]
    credits = ["credit_note", "credit_match"] if frame["credit_match"].notna().any() else []
    converted = ["converted_from"] if "converted_from" in frame else []
    return [*canonical, "source_file", "source_row", "customer_match", *credits, *converted]


def _quarantine(rows: pd.DataFrame, reason: pd.Series, column: pd.Series, shown: pd.Series) -> pd.DataFrame:
    """Excluded rows as written to quarantine.csv: file, row, reason, column, value, then the fields read."""
    fields = [c for c in CANONICAL_FIELDS if c in rows]
    body = rows[fields].astype({c: "str" for c in fields if c != "amount"})
    return (pd.DataFrame({"file": rows["source_file"].astype("str"), "source_row": rows["source_row"].astype("int64"),
                          "reason": reason.astype("str"), "column": column.astype("str"),
                          "value": shown.astype("str")})
            .join(body)
            .sort_values(["file", "source_row"], kind="stable")
            .reset_index(drop=True))


def _findings(frame: pd.DataFrame, files: list[SourceFile], used: pd.Series) -> list[Finding]:
    found = []
    if "_email_text" in frame:
        unusable = int((frame["_email_text"].fillna(False).astype(bool) & frame["email"].isna()).sum())
        if unusable:
            found.append(Finding("email_not_address", unusable))
    for f in files:
        amount = f.matching.matches.get("amount")
        if amount is None or not amount.columns or "product_name" not in f.matching.matches:
            continue
        rows = frame.loc[frame["source_file"].eq(f.info.name), ["order_id", "amount"]]
        per_order = rows.groupby("order_id")["amount"].agg(["size", "nunique"])  # netted credit notes included
        multi = per_order.loc[per_order["size"].gt(1)]
        if len(multi) >= 5 and multi["nunique"].eq(1).mean() > 0.9:
            found.append(Finding("amount_repeats", len(multi), f.info.name, amount.columns[0]))
    for f in files:
        if f.matching.amount_rivals:
            found.append(Finding("amount_columns", len(f.matching.amount_rivals), f.info.name,
                                 f.matching.matches["amount"].columns[0], ", ".join(f.matching.amount_rivals)))
    if "quantity" in frame:
        fraction = used & frame["status"].eq("paid") & frame["amount"].gt(0) & frame["quantity"].mod(1).gt(0)
        if fraction.any():
            first = fraction.idxmax()
            file = str(frame.at[first, "source_file"])
            found.append(Finding("quantity_fraction", int(fraction.sum()), file,
                                 _column_names(frame.loc[[first], "source_file"], files, "quantity").iat[0],
                                 f"{frame.at[first, 'quantity']:g}", int(frame.at[first, "source_row"])))
    order, ok = frame["_order"].to_numpy(), (used & frame["_order"].ge(0)).to_numpy()
    checks = (("order_customers_differ", pd.factorize(frame["customer_id"])[0], frame["customer_id"].notna()),
              ("order_dates_differ", frame["order_date"].dt.normalize().to_numpy(), frame["order_date"].notna()))
    for kind, cells, present in checks:
        differ = _orders_differing(order, cells, ok & present.to_numpy())
        if differ.any():
            first = int(np.argmax(differ))
            found.append(Finding(kind, int(np.unique(order[differ]).size), str(frame.at[first, "source_file"]), "",
                                 str(frame.at[first, "order_id"])))
    return found


def _orders_differing(order: np.ndarray, cells: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Rows (among `ok`) of the orders whose `ok` rows hold more than one value of `cells`: the rows sorted
    by order, each compared with the one before it (no groupby: this runs on every load)."""
    rows = np.flatnonzero(ok)
    rows = rows[np.argsort(order[rows], kind="stable")]
    same_order = order[rows[1:]] == order[rows[:-1]]
    changed = same_order & (cells[rows[1:]] != cells[rows[:-1]])
    return ok & np.isin(order, order[rows[1:][changed]])


def source_path(config: ClientConfig) -> Path | None:
    """The first file of a file source (for messages); None for a database."""
    return sources.find_files(config)[0] if config.source.path is not None else None
