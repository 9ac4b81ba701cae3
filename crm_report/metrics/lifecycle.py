"""NES life-cycle stages (ECFIT), stage summaries and month-over-month transitions.

ECFIT's NES model (seed 002; stage table on ecfit-saas.com, "NES 模型是什麼?", 2020-12-21) puts every
customer in one of five stages by how long they have gone without buying, measured in purchase cycles:

- **N** (新顧客, new): one purchase day so far, and not yet past one cycle since it;
- **E0** (主力顧客, active): bought on two or more days, and not yet past one cycle since the last;
- **S1** (瞌睡顧客, drowsy): more than 1× and at most 2× the cycle since the last purchase;
- **S2** (半睡顧客, half-asleep): more than 2× and at most 3×;
- **S3** (沉睡顧客, asleep): more than 3× the cycle.

ECFIT does not publish how the cycle is estimated; ours is in `nes_stages`. A purchase is a calendar day
with at least one paid order (`orders.purchase_days`): several orders on one day are one visit, and a
customer's "order count" here is their number of purchase days.

Month-over-month movements compare two runs of the same function: last month's with
`purchase_orders(lines, previous_as_of(month))`, this month's with `purchase_orders(lines, as_of(month))`,
so last month's labels use no order placed after last month (and the cycles are re-estimated from what was
known then). `transition_matrix` then counts customers per (last month's label, this month's label).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crm_report.metrics.orders import purchase_days
from crm_report.metrics.repurchase import purchase_intervals
from crm_report.period import as_of as month_as_of
from crm_report.period import window_start

STAGES = ("N", "E0", "S1", "S2", "S3")
CYCLE_BASES = ("own", "order_count", "population", "none")
NEW = "(new)"
"""Row label in `transition_matrix` for customers without a label last month (first purchase this month)."""
GONE = "(gone)"
"""Column label in `transition_matrix` for customers labelled last month but not this month."""


def previous_as_of(month: pd.Period) -> pd.Timestamp:
    """The last instant of the month before `month`: the as-of date of "last month"'s labels."""
    return month_as_of(month - 1)


def nes_stages(orders: pd.DataFrame, as_of: pd.Timestamp, min_population_intervals: int = 20,
               days: pd.DataFrame | None = None) -> pd.DataFrame:
    """ECFIT NES stage of every customer with at least one purchase up to `as_of` (seed 002).

    - days_since_last = as-of day − the customer's last purchase day, in whole days (0 = bought on the
      as-of day).
    - cycle_days, the customer's purchase cycle (`cycle_basis` says which one was used):
      `own`: the median of the customer's own intervals between consecutive purchase days, when they have at
      least 2 intervals (3+ purchase days) **spread over at least the client's median interval** (first to
      last purchase day); purchases bunched into a burst (four orders around 11/11) say nothing about how
      often the customer runs out;
      `order_count`: otherwise, for a customer with k purchase days, the median of all customers'
      k→k+1 intervals up to `as_of` (one-time buyers get the median 1st→2nd interval, two-time buyers the
      median 2nd→3rd interval), when at least `min_population_intervals` such intervals exist;
      `population`: otherwise the median of all customers' intervals (however few there are).
      **Floor**: no cycle is shorter than the client's 25th-percentile interval (`cycle_floor`), so no
      customer is called asleep a few days after a burst of purchases.
    - ratio = days_since_last / cycle_days; stage: N = one purchase day and ratio ≤ 1; E0 = two or more
      purchase days and ratio ≤ 1; S1 = 1 < ratio ≤ 2; S2 = 2 < ratio ≤ 3; S3 = ratio > 3. Exactly 1×, 2×
      or 3× the cycle stays in the earlier stage.
    - Intervals are whole days ≥ 1, so every cycle is ≥ 1 day.

    Edge cases: no orders gives an empty frame with the columns below. Orders dated after `as_of` raise
    ValueError (compute them with `purchase_orders(lines, as_of)`). When nobody has bought on two
    different days there is no interval to estimate any cycle from: cycle_days, ratio and stage are then
    missing for everyone (cycle_basis "none") rather than staging customers against an invented cycle.
    `days` is `orders.purchase_days(orders)` when the caller has it already.
    Columns: customer_id, purchase_days, last_purchase (day), days_since_last, cycle_days, cycle_basis,
    ratio, stage; one row per customer, sorted by customer_id.
    """
    _require(orders, ("customer_id", "order_day", "amount"))
    if min_population_intervals < 1:
        raise ValueError(f"min_population_intervals must be at least 1, got {min_population_intervals}")
    as_of_day = as_of.normalize()
    if orders.empty:
        return _empty_stages(orders)
    if orders["order_day"].max() > as_of_day:
        raise ValueError(f"order_day: orders after as_of {as_of} (use purchase_orders(lines, as_of))")

    days = purchase_days(orders) if days is None else days
    by_customer = days.groupby("customer_id", observed=True, sort=True)["order_day"]
    last, first = by_customer.max(), by_customer.min()
    intervals = purchase_intervals(orders, days=days)
    days_since = (as_of_day - last).dt.days.to_numpy().astype("int64")
    own = intervals.groupby("customer_id", observed=True)["interval_days"].agg(["median", "size"])
    n_intervals = own["size"].reindex(last.index, fill_value=0).to_numpy()
    purchase_count = n_intervals + 1
    if intervals.empty:
        return pd.DataFrame({
            "customer_id": last.index.to_numpy(), "purchase_days": purchase_count.astype("int64"),
            "last_purchase": last.to_numpy(), "days_since_last": days_since,
            "cycle_days": np.nan, "cycle_basis": "none", "ratio": np.nan,
            "stage": pd.Series([None] * len(last), dtype="str").to_numpy(),
        })

    # client medians of the k→k+1 interval (visit k+1), usable only with enough intervals
    by_visit = intervals.groupby("visit")["interval_days"].agg(["median", "size"])
    by_visit = by_visit.loc[by_visit["size"] >= min_population_intervals, "median"]
    population = float(intervals["interval_days"].median())

    own_median = own["median"].reindex(last.index).to_numpy()
    by_count = by_visit.reindex(purchase_count + 1).to_numpy()
    span = (last - first).dt.days.to_numpy()
    use_own = (n_intervals >= 2) & (span >= population)
    use_count = ~use_own & ~np.isnan(by_count)
    cycle = np.select([use_own, use_count], [own_median, by_count], default=population).astype("float64")
    cycle = np.maximum(cycle, cycle_floor(intervals))
    basis = np.select([use_own, use_count], list(CYCLE_BASES[:2]), default=CYCLE_BASES[2])

    ratio = days_since / cycle
    # compare days with whole multiples of the cycle: exact, so 2.0× the cycle is S1, never S2
    stage = np.select(
        [days_since <= cycle, days_since <= 2 * cycle, days_since <= 3 * cycle],
        [np.where(purchase_count == 1, "N", "E0"), "S1", "S2"],
        default="S3")
    return pd.DataFrame({
        "customer_id": last.index.to_numpy(),
        "purchase_days": purchase_count.astype("int64"),
        "last_purchase": last.to_numpy(),
        "days_since_last": days_since,
        "cycle_days": cycle,
        "cycle_basis": basis,
        "ratio": ratio,
        "stage": stage,
    })


def cycle_floor(intervals: pd.DataFrame) -> float:
    """The shortest purchase cycle any customer gets: the 25th percentile (linear interpolation) of all
    customers' intervals between consecutive purchase days (`repurchase.purchase_intervals`); NaN when there
    is none."""
    values = intervals["interval_days"]
    return float(values.quantile(0.25)) if len(values) else float("nan")


def stage_summary(stages: pd.DataFrame, orders: pd.DataFrame, as_of: pd.Timestamp,
                  months: int = 12) -> pd.DataFrame:
    """Per NES stage (all of `STAGES`, in order, empty ones with 0 customers): size and recent revenue.

    - customers, customer_share (of all staged customers);
    - revenue: paid order amounts in the trailing `months` calendar months ending at `as_of` (see
      `window_start`; for the report's month-end as-of, months M − `months` + 1 … M), of the stage's
      customers; revenue_share of the total of all stages (NaN when that total is 0);
    - mean_days_since_last (NaN for an empty stage).
    `stages` is `nes_stages(orders, as_of)`. A customer with orders but no stage raises ValueError.
    Columns: stage, customers, customer_share, revenue, revenue_share, mean_days_since_last.
    """
    _require(stages, ("customer_id", "stage", "days_since_last"))
    _require(orders, ("customer_id", "order_date", "amount"))
    _check_labels(stages["stage"], STAGES, "stage")
    start = window_start(as_of, months)
    recent = orders.loc[orders["order_date"].gt(start) & orders["order_date"].le(as_of)]
    spend = recent.groupby("customer_id", observed=True)["amount"].sum()
    unknown = spend.index.difference(pd.Index(stages["customer_id"]))
    if len(unknown):
        raise ValueError(f"customer_id: {len(unknown)} customer(s) with orders have no stage, e.g. {unknown[0]!r}")
    revenue = stages["customer_id"].map(spend).fillna(0.0).astype("float64")
    grouped = (stages.assign(revenue=revenue.to_numpy())
               .groupby("stage").agg(customers=("customer_id", "size"), revenue=("revenue", "sum"),
                                     mean_days_since_last=("days_since_last", "mean"))
               .reindex(list(STAGES)))
    customers = grouped["customers"].fillna(0).astype("int64")
    revenue_by_stage = grouped["revenue"].fillna(0.0)
    n_customers, total = customers.sum(), revenue_by_stage.sum()
    return pd.DataFrame({
        "stage": list(STAGES),
        "customers": customers.to_numpy(),
        "customer_share": (customers / n_customers).to_numpy() if n_customers else np.nan,
        "revenue": revenue_by_stage.to_numpy(),
        "revenue_share": (revenue_by_stage / total).to_numpy() if total else np.nan,
        "mean_days_since_last": grouped["mean_days_since_last"].astype("float64").to_numpy(),
    })


def transition_matrix(previous: pd.Series, current: pd.Series, order: Sequence[str]) -> pd.DataFrame:
    """Customers per (last month's label, this month's label): NES stages, RFM segments, member tiers.

    `previous` and `current` map customer_id (the index, unique) to a label in `order`; a label outside
    `order`, a missing label or a duplicated customer raises ValueError. Rows (index "from"): `order`, then
    `NEW` for customers in `current` only (their first purchase was this month). Columns ("to"): `order`,
    then `GONE` for customers in `previous` only. With both months computed from the same order lines no
    customer disappears, so the `GONE` column is all zeros unless past purchases were since cancelled.
    Every cell is present (0 when empty); the diagonal is customers who kept their label.
    """
    labels = list(order)
    if len(set(labels)) != len(labels):
        raise ValueError(f"order: labels must be unique, got {labels}")
    reserved = {NEW, GONE} & set(labels)
    if reserved:
        raise ValueError(f"order: {sorted(reserved)} are reserved for customers present in one month only")
    for name, series in (("previous", previous), ("current", current)):
        if not series.index.is_unique:
            raise ValueError(f"{name}: customer_id {series.index[series.index.duplicated()][0]!r} appears twice")
        _check_labels(series, labels, name)
    rows, columns = [*labels, NEW], [*labels, GONE]
    customers = previous.index.union(current.index)
    from_code = pd.Categorical(previous.reindex(customers), categories=labels).codes.astype("int64")
    to_code = pd.Categorical(current.reindex(customers), categories=labels).codes.astype("int64")
    from_code[from_code < 0] = len(labels)  # not labelled last month: new
    to_code[to_code < 0] = len(labels)  # not labelled this month: gone
    counts = np.bincount(from_code * len(columns) + to_code, minlength=len(rows) * len(columns))
    return pd.DataFrame(counts.reshape(len(rows), len(columns)).astype("int64"),
                        index=pd.Index(rows, name="from"), columns=pd.Index(columns, name="to"))


def biggest_movements(matrix: pd.DataFrame, top: int = 5, exclude: Sequence[str] = (NEW,)) -> pd.DataFrame:
    """The `top` largest off-diagonal cells of a `transition_matrix`: "312 customers moved from A to B".

    Customers who kept their label (the diagonal) and empty cells are never listed. Rows or columns named
    in `exclude` are left out; by default that is the `NEW` row, because first-time buyers did not move
    from anywhere (acquisition is reported on its own). share_of_from = customers / all customers in the
    `from` row (including those who stayed), i.e. the share of last month's group that made this move.
    Ties: larger share_of_from first, then the matrix's row and column order.
    Columns: from, to, customers, share_of_from.
    """
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    row_totals = matrix.sum(axis=1)
    cells = (matrix.rename_axis(index="from", columns="to").stack().rename("customers").reset_index()
             .assign(row=lambda c: c["from"].map({k: i for i, k in enumerate(matrix.index)}),
                     col=lambda c: c["to"].map({k: i for i, k in enumerate(matrix.columns)})))
    keep = (cells["from"].ne(cells["to"]) & cells["customers"].gt(0)
            & ~cells["from"].isin(list(exclude)) & ~cells["to"].isin(list(exclude)))
    moves = cells.loc[keep]
    # positions, not labels: an empty selection keeps numeric dtypes (a label map of nothing is text)
    totals = row_totals.to_numpy(dtype="float64")[moves["row"].to_numpy(dtype="int64")]
    moves = moves.assign(share_of_from=moves["customers"].to_numpy(dtype="float64") / totals)
    return (moves.sort_values(["customers", "share_of_from", "row", "col"],
                              ascending=[False, False, True, True], kind="stable")
            .head(top)[["from", "to", "customers", "share_of_from"]]
            .astype({"customers": "int64", "share_of_from": "float64"})
            .reset_index(drop=True))


def _require(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}")


def _check_labels(labels: pd.Series, allowed: Sequence[str], name: str) -> None:
    if labels.isna().any():
        raise ValueError(f"{name}: {int(labels.isna().sum())} customer(s) without a label")
    unknown = sorted(set(labels.unique()) - set(allowed), key=str)
    if unknown:
        raise ValueError(f"{name}: label(s) {unknown} not in {list(allowed)}")


def _empty_stages(orders: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": pd.Series([], dtype=orders["customer_id"].dtype),
        "purchase_days": pd.Series([], dtype="int64"),
        "last_purchase": pd.Series([], dtype=orders["order_day"].dtype),
        "days_since_last": pd.Series([], dtype="int64"),
        "cycle_days": pd.Series([], dtype="float64"),
        "cycle_basis": pd.Series([], dtype="str"),
        "ratio": pd.Series([], dtype="float64"),
        "stage": pd.Series([], dtype="str"),
    })
