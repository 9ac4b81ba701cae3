"""Member tiers: spend-based tiers over the last 12 months, invitation-only tiers, and monthly changes.

Seed 001's example programme: 銀卡 from NT$2,000 spent, 金卡 from NT$10,000, 黑卡 by invitation. Spend tiers
are reached by the paid amount of the last 12 months (a rolling window, so a tier is lost when old spend
drops out of it); invitation tiers are given to the customers on a list and rank above every spend tier.
Each client's tiers come from `client.yaml` (`config.member_tiers`).

Customers below the first spend tier get the label `NO_TIER` (a key for the report's locale text, like the
RFM segment keys), never NaN, so that counts and transition matrices keep them.
"""
from __future__ import annotations

import csv
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from crm_report.config import ClientConfig, MemberTier, read_utf8
from crm_report.frames import isin
from crm_report.metrics.lifecycle import GONE, NEW, _check_labels, _require, transition_matrix
from crm_report.period import window_start

CLOSE_SHARE = 0.8  # "close to the next tier": at least this share of its threshold
NO_TIER = "no_tier"
"""Tier label of customers below the first spend tier and on no invitation list."""
CHANGES = ("upgrade", "same", "downgrade", "new", "gone")
TIER_COLUMNS = ("customer_id", "spend_12m", "tier", "next_tier", "next_threshold", "gap_to_next",
                "close_to_next")


def read_invitation_list(path: Path) -> frozenset[str]:
    """Customer ids from a CSV or plain-text file (one id per line), e.g. a 黑卡 invitation list.

    When a cell of the first row is `customer_id` that row is the header and ids are read from that
    column; otherwise the file has no header and ids are the first field of every row. Ids are stripped of
    surrounding whitespace and read as text (leading zeros kept); blank ids and blank lines are skipped and
    duplicates merged. Raises DataError (a ValueError) naming the file, and the row and column where there
    is one: a file that cannot be read, is not UTF-8 text (the byte and line), a row too short to have the
    id column, or no ids at all.
    """
    from crm_report.data.sources import DataError

    text = read_utf8(Path(path), DataError)
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):  # one row a line: an id list has no line breaks
        try:
            rows.append(next(csv.reader([line], strict=True), []))
        except csv.Error as exc:  # a quote left open would otherwise swallow the rows after it
            raise DataError(f"{path} row {number}: not readable as CSV ({exc}): {line[:60]!r}") from None
    column, first = 0, 1
    if rows:
        header = [cell.strip() for cell in rows[0]]
        if "customer_id" in header:
            column, rows, first = header.index("customer_id"), rows[1:], 2
    for number, row in enumerate(rows, start=first):
        if row and len(row) <= column:
            raise DataError(f"{path} row {number}: no customer_id (column {column + 1}) in "
                            f"{','.join(row)[:60]!r}")
    ids = {row[column].strip() for row in rows if row} - {""}
    if not ids:
        raise DataError(f"{path}: the invitation list holds no customer ids")
    return frozenset(ids)


def read_invitations(config: ClientConfig) -> dict[str, frozenset[str]]:
    """The ids of each invitation tier of `config.member_tiers`, in the config's order (file I/O only)."""
    return {tier.name: read_invitation_list(config.resolve(tier.invitation_list))
            for tier in config.member_tiers if tier.invitation_list is not None}


def tier_order(tiers: Sequence[tuple[str, float] | MemberTier],
               invited: Mapping[str, Collection[str]] | None = None) -> tuple[str, ...]:
    """All tier labels from lowest to highest: `NO_TIER`, the spend tiers, then the invitation tiers."""
    spend, invitation = _split_tiers(tiers, invited or {})
    return (NO_TIER, *(name for name, _ in spend), *invitation)


def assign_tiers(orders: pd.DataFrame, as_of: pd.Timestamp, tiers: Sequence[tuple[str, float] | MemberTier],
                 invited: Mapping[str, Collection[str]] | None = None,
                 close_share: float = CLOSE_SHARE) -> pd.DataFrame:
    """Every customer's member tier as of `as_of` (seed 001 tiers), with the gap to the next spend tier.

    - spend_12m = paid order amounts with order_date after `period.window_start(as_of, 12)` and at or
      before `as_of`: for the report's as-of (the last instant of month M), the 12 calendar months
      M − 11 … M. Rounded to the cent before comparing with thresholds.
    - `tiers`: spend tiers as (name, min_spend_12m), lowest first with strictly rising thresholds, or the
      config's `MemberTier` objects (invitation tiers among them take their ids from `invited`).
      `invited`: invitation tier name → customer ids, lowest first; all invitation tiers rank above every
      spend tier, and a customer on several lists gets the highest.
    - tier = the highest spend tier whose threshold spend_12m reaches (≥), else `NO_TIER`; an invitation
      overrides it.
    - next_tier / next_threshold = the next spend tier above the customer's tier; gap_to_next =
      next_threshold − spend_12m; close_to_next = spend_12m ≥ `close_share` × next_threshold (it is below
      it by definition). Customers in the top spend tier or an invitation tier have no next tier (NaN,
      close_to_next False): invitation tiers cannot be reached by spending.
    Every customer with a purchase up to `as_of` gets a row (spend_12m 0 when all of it is older); invited
    customers without any purchase do not. Orders after `as_of` raise ValueError.
    Columns: customer_id, spend_12m, tier, next_tier, next_threshold, gap_to_next, close_to_next; sorted by
    customer_id.
    """
    _require(orders, ("customer_id", "order_date", "amount"))
    if not 0 < close_share <= 1:
        raise ValueError(f"close_share must be in (0, 1], got {close_share}")
    invited = invited or {}
    spend_tiers, invitation = _split_tiers(tiers, invited)
    if len(orders) and orders["order_date"].max() > as_of:
        raise ValueError(f"order_date: orders after as_of {as_of} (use purchase_orders(lines, as_of))")

    in_window = orders["order_date"].gt(window_start(as_of, 12)) & orders["order_date"].le(as_of)
    spend = (orders["amount"].where(in_window, 0.0)
             .groupby(orders["customer_id"], observed=True, sort=True).sum().round(2))
    spend_names = [name for name, _ in spend_tiers]
    thresholds = np.array([threshold for _, threshold in spend_tiers], dtype="float64")
    level = np.searchsorted(thresholds, spend.to_numpy(), side="right") - 1  # -1: below the first tier
    tier = pd.Series(np.array([*spend_names, NO_TIER], dtype=object)[level], index=spend.index)  # [-1]: none
    next_tier = np.array([*spend_names, None], dtype=object)[level + 1]  # [len]: no next tier
    next_threshold = np.append(thresholds, np.nan)[level + 1]

    customers = spend.index
    invited_any = np.zeros(len(customers), dtype=bool)
    for name in invitation:  # a handful of tiers, lowest first: a later (higher) list wins
        on_list = isin(customers, invited[name])
        tier = tier.where(~on_list, name)
        invited_any |= on_list
    next_tier = np.where(invited_any, None, next_tier)
    next_threshold = np.where(invited_any, np.nan, next_threshold)
    gap = next_threshold - spend.to_numpy()
    return pd.DataFrame({
        "customer_id": customers.to_numpy(),
        "spend_12m": spend.to_numpy().astype("float64"),
        "tier": tier.to_numpy(),
        "next_tier": pd.Series(next_tier, dtype="str"),
        "next_threshold": next_threshold.astype("float64"),
        "gap_to_next": gap.astype("float64"),
        # rounded to the cent like spend_12m; NaN (no next tier) compares False
        "close_to_next": spend.to_numpy() >= np.round(close_share * next_threshold, 2),
    }, columns=list(TIER_COLUMNS))


def tier_summary(assigned: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Per tier in `order` (see `tier_order`; tiers without customers get zeros): counts and 12-month spend.

    customers, customer_share (of all customers with a purchase), spend_12m (the tier's total),
    revenue_share (of all customers' spend_12m; NaN when that is 0), close_to_next (customers within
    reach of the next spend tier). A tier label outside `order` raises ValueError.
    Columns: tier, customers, customer_share, spend_12m, revenue_share, close_to_next.
    """
    _require(assigned, ("customer_id", "tier", "spend_12m", "close_to_next"))
    _check_labels(assigned["tier"], order, "tier")
    grouped = (assigned.groupby("tier")
               .agg(customers=("customer_id", "size"), spend_12m=("spend_12m", "sum"),
                    close_to_next=("close_to_next", "sum"))
               .reindex(list(order)).fillna(0))
    customers = grouped["customers"].astype("int64")
    spend = grouped["spend_12m"].astype("float64")
    return pd.DataFrame({
        "tier": list(order),
        "customers": customers.to_numpy(),
        "customer_share": (customers / customers.sum()).to_numpy() if customers.sum() else np.nan,
        "spend_12m": spend.to_numpy(),
        "revenue_share": (spend / spend.sum()).to_numpy() if spend.sum() else np.nan,
        "close_to_next": grouped["close_to_next"].astype("int64").to_numpy(),
    })


@dataclass(frozen=True)
class TierChanges:
    """Tier movements between last month's and this month's assignment."""

    counts: pd.DataFrame
    """change (`CHANGES`), customers."""
    matrix: pd.DataFrame
    """`lifecycle.transition_matrix` of the tiers: rows last month (+ `NEW`), columns this month (+ `GONE`)."""


def tier_changes(previous: pd.DataFrame, current: pd.DataFrame, order: Sequence[str]) -> TierChanges:
    """Upgrades, downgrades and unchanged tiers from last month's `assign_tiers` to this month's.

    `previous` is `assign_tiers(purchase_orders(lines, lifecycle.previous_as_of(month)), ...)`, `current`
    the same for `month`; `order` ranks the tiers from lowest (`tier_order`, so `NO_TIER` is lowest and
    invitation tiers highest). A customer upgraded when this month's tier ranks above last month's,
    downgraded when below (also when only the 12-month window dropped old spend), same when equal; `new`
    counts customers with a first purchase this month (whatever tier they reached), `gone` customers
    assigned last month but not this month (none when both come from the same order lines).
    """
    _require(previous, ("customer_id", "tier"))
    _require(current, ("customer_id", "tier"))
    matrix = transition_matrix(previous.set_index("customer_id")["tier"],
                               current.set_index("customer_id")["tier"], order)
    ranks = np.arange(len(order))
    grid = matrix.loc[list(order), list(order)].to_numpy()
    counts = {
        "upgrade": int(grid[ranks[:, None] < ranks[None, :]].sum()),
        "same": int(np.trace(grid)),
        "downgrade": int(grid[ranks[:, None] > ranks[None, :]].sum()),
        "new": int(matrix.loc[NEW].sum()),
        "gone": int(matrix[GONE].sum()),
    }
    return TierChanges(pd.DataFrame({"change": list(CHANGES), "customers": [counts[c] for c in CHANGES]}),
                       matrix)


def _split_tiers(tiers: Sequence[tuple[str, float] | MemberTier],
                 invited: Mapping[str, Collection[str]]) -> tuple[list[tuple[str, float]], list[str]]:
    """(spend tiers lowest first, invitation tier names lowest first), checked."""
    spend: list[tuple[str, float]] = []
    invitation: list[str] = []
    for tier in tiers:
        if isinstance(tier, MemberTier):
            if tier.min_spend_12m is None:
                invitation.append(tier.name)
            else:
                spend.append((tier.name, float(tier.min_spend_12m)))
        else:
            name, threshold = tier
            spend.append((name, float(threshold)))
    configured = bool(invitation)
    if configured:
        missing = [name for name in invitation if name not in invited]
        extra = [name for name in invited if name not in invitation]
        if missing or extra:
            raise ValueError(f"invited: expected ids for the invitation tier(s) {invitation}, got {list(invited)}")
    else:
        invitation = list(invited)
    names = [name for name, _ in spend] + invitation
    if len(set(names)) != len(names):
        raise ValueError(f"tiers: tier names must be unique, got {names}")
    if NO_TIER in names or NEW in names or GONE in names:
        raise ValueError(f"tiers: {NO_TIER!r}, {NEW!r} and {GONE!r} are reserved labels")
    thresholds = [threshold for _, threshold in spend]
    if any(b <= a for a, b in pairwise(thresholds)):
        raise ValueError(f"tiers: spend thresholds must rise strictly from the lowest tier, got {spend}")
    if any(np.isnan(t) or t < 0 for t in thresholds):
        raise ValueError(f"tiers: spend thresholds must be numbers ≥ 0, got {spend}")
    return spend, invitation

