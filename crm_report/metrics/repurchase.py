"""Repurchase behaviour: repeat rates within N days, time between orders, cohort retention.

A repeat purchase is a purchase on a later calendar day than the customer's previous one: several orders on
the same day count as one visit (as in Fader, Hardie & Lee 2005), so split baskets are not "repurchases".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crm_report.metrics.orders import purchase_days


def repeat_rates(orders: pd.DataFrame, as_of: pd.Timestamp, windows: tuple[int, ...],
                 lookback_months: int = 24) -> pd.DataFrame:
    """Share of new customers who bought again within N days of their first purchase, for each N in `windows`.

    Cohort: customers whose first purchase falls in the `lookback_months` months ending at `as_of`. For
    window N only customers observed for at least N full days (first purchase day + N ≤ the as-of day) are
    counted, so young customers never pull a rate down. A customer repeats within N days when their second
    purchase day is at most N days after the first.
    Columns: window_days, eligible_customers, repeat_customers, rate (NaN when nobody is eligible).
    """
    days = purchase_days(orders)
    first = days.loc[days["visit"].eq(1)].set_index("customer_id")["order_day"]
    second = days.loc[days["visit"].eq(2)].set_index("customer_id")["order_day"].reindex(first.index)
    as_of_day = as_of.normalize()
    start = (as_of.to_period("M") - (lookback_months - 1)).start_time
    cohort = first.ge(start)
    observed = (as_of_day - first).dt.days
    to_second = (second - first).dt.days
    rows = []
    for window in windows:
        eligible = cohort & observed.ge(window)
        repeat = eligible & to_second.le(window)
        n_eligible = int(eligible.sum())
        rows.append({"window_days": window, "eligible_customers": n_eligible,
                     "repeat_customers": int(repeat.sum()),
                     "rate": repeat.sum() / n_eligible if n_eligible else float("nan")})
    return pd.DataFrame(rows)


def purchase_intervals(orders: pd.DataFrame) -> pd.DataFrame:
    """Days between a customer's consecutive purchase days (one row per repeat visit).

    Columns: customer_id, order_day (the later purchase), visit (2 = the second purchase day), interval_days.
    """
    days = purchase_days(orders)
    gaps = days.groupby("customer_id", observed=True)["order_day"].diff().dt.days
    return (days.assign(interval_days=gaps).dropna(subset=["interval_days"])
            .astype({"interval_days": "int64"})[["customer_id", "order_day", "visit", "interval_days"]]
            .reset_index(drop=True))


def interval_summary(intervals: pd.DataFrame) -> dict[str, float]:
    """Count, median, quartiles and mean of `interval_days` (quantiles interpolate linearly)."""
    values = intervals["interval_days"]
    if values.empty:
        return {"count": 0, "median": float("nan"), "q25": float("nan"), "q75": float("nan"),
                "mean": float("nan")}
    return {"count": int(values.size), "median": float(values.median()), "q25": float(values.quantile(0.25)),
            "q75": float(values.quantile(0.75)), "mean": float(values.mean())}


def cohort_retention(orders: pd.DataFrame, month: pd.Period, n_cohorts: int) -> pd.DataFrame:
    """Share of each acquisition-month cohort that purchased in each month since their first purchase.

    Cohorts: the `n_cohorts` months ending with `month`; a customer's cohort is the month of their first
    purchase. Column `m{k}` = customers of the cohort with a purchase in cohort month + k, divided by the
    cohort's size (m0 is 1 by definition). Cells after `month` are NaN: not yet observed, not zero.
    Columns: cohort, customers, m0 … m{n_cohorts−1}.
    """
    first_month = orders.groupby("customer_id", observed=True)["order_month"].transform("min")
    cohorts = pd.period_range(end=month, periods=n_cohorts, freq="M")
    in_scope = orders.assign(cohort=first_month).loc[lambda o: o["cohort"].isin(cohorts)]
    offset = (in_scope["order_month"].astype("int64") - in_scope["cohort"].astype("int64"))
    active = (in_scope.assign(offset=offset)
              .groupby(["cohort", "offset"], observed=True)["customer_id"].nunique()
              .unstack("offset")
              .reindex(index=cohorts, columns=range(n_cohorts)))
    sizes = in_scope.groupby("cohort", observed=True)["customer_id"].nunique().reindex(cohorts).fillna(0)
    rates = active.fillna(0).div(sizes.where(sizes > 0), axis=0)
    age = (month.ordinal - cohorts.asi8)[:, None]  # months each cohort has been observed after its first
    observed = np.arange(n_cohorts)[None, :] <= age
    rates = rates.where(observed)
    rates.columns = [f"m{k}" for k in range(n_cohorts)]
    return rates.assign(customers=sizes.astype("int64")).rename_axis("cohort").reset_index()[
        ["cohort", "customers", *rates.columns]]
