"""Win-back: customers who have gone longer than their expected purchase cycle without buying.

- **Expected cycle**: the customer's own median days between purchase days when they have at least 2
  intervals (3+ purchase days); otherwise the client's median interval over all customers' intervals.
- **Overdue ratio** = days since the last purchase day (to the as-of day) / expected cycle. A customer is a
  win-back candidate when the ratio is above 1.
- **Groups** by overdue ratio: `slipping` (1–2× the cycle), `at_risk` (2–3×), `asleep` (over 3×), matching
  the S1/S2/S3 stages of ECFIT's NES model (seed 002).
- **Value** = the customer's historic revenue (all paid orders up to the as-of date); the list is ranked by
  it, highest first (ties: customer id).
- **Contact date**: the first day after the report month that falls on the weekday the customer has bought
  on most often (ties: the weekday of their latest purchase), so the message arrives when they usually shop.
- **Channel**: LINE when a LINE user id exists, else e-mail, else SMS to a mobile number, else none.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crm_report.metrics.orders import customer_facts, purchase_days

GROUPS = ("slipping", "at_risk", "asleep")
CONTACT_FIELDS = ("customer_name", "email", "phone", "line_user_id")


def expected_cycles(intervals: pd.DataFrame, customers: pd.Index, min_intervals: int = 2) -> pd.DataFrame:
    """Per customer in `customers`: cycle_days and cycle_source ('own' or 'client'); see module docstring."""
    stats = intervals.groupby("customer_id", observed=True)["interval_days"].agg(["median", "size"])
    own = stats.loc[stats["size"] >= min_intervals, "median"].reindex(customers)
    client_median = float(intervals["interval_days"].median()) if len(intervals) else np.nan
    return pd.DataFrame({
        "cycle_days": own.fillna(client_median),
        "cycle_source": np.where(own.notna(), "own", "client"),
    }, index=customers)


def latest_contacts(lines: pd.DataFrame) -> pd.DataFrame:
    """Per customer, the most recent non-empty value of each contact field present in `lines`."""
    fields = [f for f in CONTACT_FIELDS if f in lines]
    ordered = lines.sort_values("order_date", kind="stable")[["customer_id", *fields]]
    contacts = ordered.groupby("customer_id", observed=True)[fields].last()
    return contacts.reindex(columns=list(CONTACT_FIELDS))


def preferred_weekday(orders: pd.DataFrame) -> pd.Series:
    """Per customer, the weekday (0 = Monday) of most purchase days; ties go to the latest purchase's weekday."""
    days = purchase_days(orders)
    per_day = (days.assign(weekday=days["order_day"].dt.day_of_week)
               .groupby(["customer_id", "weekday"], observed=True)
               .agg(count=("order_day", "size"), latest=("order_day", "max"))
               .reset_index()
               .sort_values(["customer_id", "count", "latest"], ascending=[True, False, False], kind="stable"))
    return per_day.drop_duplicates("customer_id").set_index("customer_id")["weekday"]


def winback_candidates(orders: pd.DataFrame, intervals: pd.DataFrame, contacts: pd.DataFrame,
                       as_of: pd.Timestamp) -> pd.DataFrame:
    """Every overdue customer, ranked by historic value, with group, contact date and channel.

    Columns: rank, customer_id, group, last_order, days_since, cycle_days, cycle_source, overdue_ratio,
    orders, revenue, contact_date, channel, customer_name, email, phone, line_user_id.
    """
    facts = customer_facts(orders)
    cycles = expected_cycles(intervals, facts.index)
    as_of_day = as_of.normalize()
    days_since = (as_of_day - facts["last_order"].dt.normalize()).dt.days
    # Filter after assigning: pandas gives an empty frame the index of a Series assigned to it.
    candidates = (facts.join(cycles)
                  .assign(days_since=days_since, overdue_ratio=days_since / cycles["cycle_days"])
                  .loc[lambda t: t["overdue_ratio"].gt(1)])

    group = pd.cut(candidates["overdue_ratio"], bins=[1, 2, 3, np.inf], labels=list(GROUPS), right=True)
    first_day = as_of_day + pd.Timedelta(days=1)
    weekday = preferred_weekday(orders).reindex(candidates.index)
    contact_date = first_day + pd.to_timedelta((weekday - first_day.weekday()) % 7, unit="D")
    info = contacts.reindex(candidates.index)
    channel = np.select(
        [info["line_user_id"].notna(), info["email"].notna(), info["phone"].notna()],
        ["line", "email", "sms"], default="none",
    )
    ranked = (candidates.assign(group=group.astype("str"), contact_date=contact_date, channel=channel)
              .join(info)
              .rename_axis("customer_id").reset_index()
              .sort_values(["revenue", "customer_id"], ascending=[False, True], kind="stable")
              .reset_index(drop=True))
    return ranked.assign(rank=np.arange(1, len(ranked) + 1))[[
        "rank", "customer_id", "group", "last_order", "days_since", "cycle_days", "cycle_source",
        "overdue_ratio", "orders", "revenue", "contact_date", "channel", *CONTACT_FIELDS]]


def summarise_winback(candidates: pd.DataFrame) -> pd.DataFrame:
    """Per group: customers, historic revenue at stake, mean days since last purchase, customers per channel."""
    summary = candidates.groupby("group", observed=True).agg(
        customers=("customer_id", "size"),
        revenue=("revenue", "sum"),
        mean_days_since=("days_since", "mean"),
    ).reindex(list(GROUPS)).fillna({"customers": 0, "revenue": 0.0})
    by_channel = pd.crosstab(candidates["group"], candidates["channel"]).reindex(
        index=list(GROUPS), columns=["line", "email", "sms", "none"]).fillna(0).astype("int64")
    return summary.astype({"customers": "int64"}).join(by_channel).rename_axis("group").reset_index()


def winback_headline(candidates: pd.DataFrame) -> dict[str, object]:
    """Headline numbers: candidates per group, the early ones (slipping + at risk, the likeliest to come
    back) with their historic revenue, all candidates' historic revenue, and the first contact date."""
    counts = candidates["group"].value_counts()
    early = candidates["group"].isin(["slipping", "at_risk"])
    return {
        "candidates": len(candidates),
        **{group: int(counts.get(group, 0)) for group in GROUPS},
        "early": int(early.sum()),
        "early_revenue": float(candidates.loc[early, "revenue"].sum()),
        "revenue_at_stake": float(candidates["revenue"].sum()),
        "first_contact_date": candidates["contact_date"].min() if len(candidates) else None,
    }
