"""One customer history per report: what every section knows about each customer, computed once.

`customer_history` turns the purchase orders (`orders.purchase_orders`, the one definition of a purchase)
into one row per identified customer with a purchase up to the as-of date:

- purchases: first, second and last purchase day, purchase days, purchase orders, lifetime revenue, the
  first day's spend, revenue in the last 12 calendar months (the member-tier input);
- the purchase cycle and NES stage (`lifecycle.nes_stages`: own cycle, or the population's, with its floor);
- RFM values, scores and named segment (`rfm.segment_customers`: R against the same cycle, F and M among
  customers active in the last 24 months, the rest `lost`).

The prepare step saves it as `build/customers.parquet`; last month's, which only the movements need, is
built from the same function by `workspace.Run.previous_customers`. The notebooks read these instead of
re-deriving purchase days, cycles, stages or segments from lines, so every section tells the same story about
each customer. `reconcile_segments` states that story in numbers.
"""
from __future__ import annotations

import pandas as pd

from crm_report import frames
from crm_report.metrics import lifecycle, rfm
from crm_report.metrics.orders import purchase_days
from crm_report.period import window_start

HISTORY_COLUMNS = (
    "first_purchase", "second_purchase", "last_purchase", "purchase_days", "orders", "revenue",
    "first_day_revenue", "revenue_12m", "days_since_last", "cycle_days", "cycle_basis", "ratio", "stage",
    "active", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "segment",
)


def customer_history(orders: pd.DataFrame, as_of: pd.Timestamp, rfm_style: str = "shopify",
                     active_months: int = rfm.ACTIVE_MONTHS, min_population_intervals: int = 20) -> pd.DataFrame:
    """One row per identified customer with a purchase up to `as_of` (index customer_id, sorted).

    `orders` are purchase orders up to `as_of` (`purchase_orders(lines, as_of)`); guest orders are left out.
    Columns (`HISTORY_COLUMNS`): first_purchase, second_purchase (NaT for one purchase day), last_purchase
    (calendar days); purchase_days; orders (purchase orders); revenue (lifetime, net of refunds);
    first_day_revenue (the first purchase day's orders); revenue_12m (the 12 calendar months ending at
    `as_of`, `period.window_start`); days_since_last, cycle_days, cycle_basis, ratio, stage (`nes_stages`);
    active (a purchase in the last `active_months` months); recency_days, frequency, monetary, r_score,
    f_score, m_score, segment (`rfm.segment_customers` in `rfm_style`).
    """
    orders, ids = frames.coded(orders.dropna(subset=["customer_id"]), "customer_id")  # grouped by again and again
    days = purchase_days(orders)
    stages = lifecycle.nes_stages(orders, as_of, min_population_intervals, days=days).set_index("customer_id")
    segments = rfm.segment_customers(orders, as_of, rfm_style, stages=stages.reset_index(),
                                     active_months=active_months).set_index("customer_id")
    by_visit = days.set_index("customer_id")
    first = by_visit.loc[by_visit["visit"].eq(1)]
    second = by_visit.loc[by_visit["visit"].eq(2), "order_day"]
    recent = orders.loc[orders["order_date"].gt(window_start(as_of, 12))]
    history = pd.DataFrame({
        "first_purchase": first["order_day"],
        "second_purchase": second.reindex(first.index),
        "last_purchase": stages["last_purchase"],
        "purchase_days": stages["purchase_days"],
        "orders": segments["frequency"],
        "revenue": segments["monetary"],
        "first_day_revenue": first["amount"],
        "revenue_12m": recent.groupby("customer_id", observed=True)["amount"].sum().reindex(first.index,
                                                                                              fill_value=0.0),
        **{c: stages[c] for c in ("days_since_last", "cycle_days", "cycle_basis", "ratio", "stage")},
        **{c: segments[c] for c in ("active", "recency_days", "frequency", "monetary", "r_score", "f_score",
                                    "m_score", "segment")},
    }, index=first.index).sort_index()
    return frames.decoded(history, ids)


def reconcile_segments(history: pd.DataFrame, rfm_style: str = "shopify") -> dict[str, int | float]:
    """The numbers behind the report's sentence that RFM segments and NES stages agree.

    - recent_customers: customers in the segments that mean "buying now" (`rfm.RECENT_SEGMENTS`);
      recent_within_cycle: how many of them are within their cycle (NES N or E0) — all of them by
      construction; a smaller number is a bug the sentence would show;
    - lapsed_customers: customers past their cycle (NES S1–S3); lapsed_in_recent_segments: how many of them
      carry a "buying now" segment (0 by construction);
    - lost_customers: no purchase in the last 24 months (segment `lost`), and unstaged_customers (no cycle
      could be estimated: the client has no repeat purchase).
    """
    recent = history["segment"].isin(rfm.RECENT_SEGMENTS[rfm_style])
    within = history["stage"].isin(["N", "E0"])
    lapsed = history["stage"].isin(["S1", "S2", "S3"])
    return {
        "customers": len(history),
        "recent_customers": int(recent.sum()),
        "recent_within_cycle": int((recent & within).sum()),
        "lapsed_customers": int(lapsed.sum()),
        "lapsed_in_recent_segments": int((lapsed & recent).sum()),
        "lost_customers": int(history["segment"].eq(rfm.LOST).sum()),
        "unstaged_customers": int(history["stage"].isna().sum()),
    }
