"""Repurchase behaviour: repeat rates, second-purchase curve, time between orders, cohort retention and value.

A repeat purchase is a purchase on a later calendar day than the customer's previous one: several orders on
the same day count as one visit (as in Fader, Hardie & Lee 2005), so split baskets are not "repurchases".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crm_report.metrics.orders import purchase_days


def first_and_second_days(orders: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per customer (index customer_id): their first purchase day, and their second (NaT if none).

    `orders` are purchase orders, or the customer history (`customers.customer_history`), which holds both
    days already: a report passes the history, so the purchase days are not derived again.
    """
    if {"first_purchase", "second_purchase"} <= set(orders.columns):
        return orders["first_purchase"].rename("order_day"), orders["second_purchase"].rename("order_day")
    days = purchase_days(orders)
    first = days.loc[days["visit"].eq(1)].set_index("customer_id")["order_day"]
    second = days.loc[days["visit"].eq(2)].set_index("customer_id")["order_day"].reindex(first.index)
    return first, second


def repeat_rates(orders: pd.DataFrame, as_of: pd.Timestamp, windows: tuple[int, ...],
                 lookback_months: int = 24) -> pd.DataFrame:
    """Share of new customers who bought again within N days of their first purchase, for each N in `windows`.

    `orders`: purchase orders or the customer history (see `first_and_second_days`).
    Cohort: customers whose first purchase falls in the `lookback_months` months ending at `as_of`. For
    window N only customers observed for at least N full days (first purchase day + N ≤ the as-of day) are
    counted, so young customers never pull a rate down. A customer repeats within N days when their second
    purchase day is at most N days after the first.
    Columns: window_days, eligible_customers, repeat_customers, rate (NaN when nobody is eligible).
    """
    first, second = first_and_second_days(orders)
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


def purchase_intervals(orders: pd.DataFrame, days: pd.DataFrame | None = None) -> pd.DataFrame:
    """Days between a customer's consecutive purchase days (one row per repeat visit).

    Columns: customer_id, order_day (the later purchase), visit (2 = the second purchase day), interval_days.
    `days` is `orders.purchase_days(orders)` when the caller has it already.
    """
    days = purchase_days(orders) if days is None else days
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


def intervals_by_order_number(orders: pd.DataFrame, steps: int = 3,
                              intervals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Days between the n-th and (n+1)-th purchase day, for n = 1 … `steps` (1st→2nd, 2nd→3rd, 3rd→4th).

    Every customer who reached purchase day n + 1 contributes one interval to step n. Quantiles interpolate
    linearly. Steps nobody reached have count 0 and NaN statistics.
    Columns: from_visit, to_visit, count, median, q25, q75, mean.
    """
    intervals = purchase_intervals(orders) if intervals is None else intervals
    by_step = intervals.loc[intervals["visit"].le(steps + 1)].groupby("visit")["interval_days"]
    stats = pd.DataFrame({
        "count": by_step.size(), "median": by_step.median(), "q25": by_step.quantile(0.25),
        "q75": by_step.quantile(0.75), "mean": by_step.mean(),
    }).reindex(range(2, steps + 2))
    return (stats.assign(count=stats["count"].fillna(0).astype("int64"), from_visit=stats.index - 1,
                         to_visit=stats.index)
            [["from_visit", "to_visit", "count", "median", "q25", "q75", "mean"]].reset_index(drop=True))


def second_purchase_curve(orders: pd.DataFrame, as_of: pd.Timestamp, first_months: pd.PeriodIndex,
                          max_days: int = 365, min_at_risk: int = 30) -> pd.DataFrame:
    """Cumulative share of new customers who made a second purchase within d days, d = 0 … `max_days`.

    Customers: those whose first purchase day falls in one of `first_months`. The second purchase is the
    next purchase *day* (a second order on the first day is the same visit), so the share at d = 0 is 0.
    Customers acquired recently have not been observed for the full `max_days`; instead of dropping them the
    curve is the Kaplan–Meier cumulative incidence 1 − Π_{u ≤ d} (1 − e_u / n_u), where e_u customers made
    their second purchase on day u and n_u customers were still observed without one at day u (a customer
    without a second purchase is censored after as-of day − first day). With everyone observed for the whole
    range this is simply the share who had bought again by day d. Days with fewer than `min_at_risk`
    customers under observation are NaN (too few to say).
    Columns: day, at_risk, second_purchases (that day), share. `orders`: purchase orders or the customer
    history (see `first_and_second_days`).
    """
    first, second = first_and_second_days(orders)
    in_cohorts = first.dt.to_period("M").isin(first_months)
    first, second = first.loc[in_cohorts], second.loc[in_cohorts]
    observed = (as_of.normalize() - first).dt.days.to_numpy()
    to_second = (second - first).dt.days.to_numpy()
    bought = ~np.isnan(to_second)
    time = np.where(bought, to_second, observed).astype("int64")
    horizon = max_days + 1
    events = np.bincount(np.minimum(time[bought], horizon), minlength=horizon + 1)[:horizon]
    leaving = np.bincount(np.minimum(time, horizon), minlength=horizon + 1)  # last day each customer is seen
    at_risk = len(time) - np.concatenate([[0], np.cumsum(leaving)[:-1]])[:horizon]
    hazard = np.divide(events, at_risk, out=np.zeros(horizon), where=at_risk > 0)
    share = 1 - np.cumprod(1 - hazard)
    return pd.DataFrame({"day": np.arange(horizon), "at_risk": at_risk, "second_purchases": events,
                         "share": np.where(at_risk >= min_at_risk, share, np.nan)})


def curve_marks(curves: dict[str, pd.DataFrame], days: tuple[int, ...]) -> pd.DataFrame:
    """The second-purchase share of each curve at the given days (NaN where too few customers were observed).

    Columns: day, then one column per curve (same keys as `curves`).
    """
    return pd.DataFrame({"day": list(days), **{
        key: curve.set_index("day")["share"].reindex(list(days)).to_numpy() for key, curve in curves.items()}})


def comparison_cohorts(month: pd.Period, n_months: int = 6) -> dict[str, pd.PeriodIndex]:
    """First-purchase months of the latest `n_months` cohorts and of the same months one year earlier."""
    latest = pd.period_range(end=month, periods=n_months, freq="M")
    return {"latest": latest, "year_ago": latest - 12}


def cohort_retention(orders: pd.DataFrame, month: pd.Period, n_cohorts: int) -> pd.DataFrame:
    """Share of each acquisition-month cohort that purchased in each month since their first purchase.

    Cohorts: the `n_cohorts` months ending with `month`; a customer's cohort is the month of their first
    purchase. Column `m{k}` = customers of the cohort with a purchase in cohort month + k, divided by the
    cohort's size (m0 is 1 by definition). Cells after `month` are NaN: not yet observed, not zero.
    Columns: cohort, customers, m0 … m{n_cohorts−1}.
    """
    in_scope, cohorts, sizes = _cohort_orders(orders, month, n_cohorts)
    active = (in_scope.groupby(["cohort", "offset"], observed=True)["customer_id"].nunique()
              .unstack("offset").reindex(index=cohorts, columns=range(n_cohorts)).fillna(0))
    return _cohort_table(active.div(sizes.where(sizes > 0), axis=0), sizes, month)


def cohort_revenue(orders: pd.DataFrame, month: pd.Period, n_cohorts: int) -> pd.DataFrame:
    """Cumulative revenue per acquired customer by months since first purchase: cohort LTV curves.

    Same cohorts as `cohort_retention`. Column `m{k}` = all purchases of the cohort's customers from their
    first month up to cohort month + k, divided by the cohort's size (m0 = first-month revenue per customer,
    including any second order in that month). Cells after `month` are NaN.
    Columns: cohort, customers, m0 … m{n_cohorts−1}.
    """
    in_scope, cohorts, sizes = _cohort_orders(orders, month, n_cohorts)
    revenue = (in_scope.groupby(["cohort", "offset"], observed=True)["amount"].sum()
               .unstack("offset").reindex(index=cohorts, columns=range(n_cohorts)).fillna(0).cumsum(axis=1))
    return _cohort_table(revenue.div(sizes.where(sizes > 0), axis=0), sizes, month)


def _cohort_orders(orders: pd.DataFrame, month: pd.Period,
                   n_cohorts: int) -> tuple[pd.DataFrame, pd.PeriodIndex, pd.Series]:
    """Orders of the last `n_cohorts` acquisition cohorts with their cohort and month offset; cohort sizes."""
    first_month = orders.groupby("customer_id", observed=True)["order_month"].transform("min")
    cohorts = pd.period_range(end=month, periods=n_cohorts, freq="M")
    in_scope = orders.assign(cohort=first_month).loc[lambda o: o["cohort"].isin(cohorts)]
    in_scope = in_scope.assign(offset=in_scope["order_month"].astype("int64") - in_scope["cohort"].astype("int64"))
    sizes = in_scope.groupby("cohort", observed=True)["customer_id"].nunique().reindex(cohorts).fillna(0)
    return in_scope, cohorts, sizes


def _cohort_table(values: pd.DataFrame, sizes: pd.Series, month: pd.Period) -> pd.DataFrame:
    """NaN after `month` (not yet observed), columns m0…, plus the cohort size."""
    cohorts = values.index
    age = (month.ordinal - cohorts.asi8)[:, None]  # months each cohort has been observed after its first
    observed = np.arange(values.shape[1])[None, :] <= age
    values = values.where(observed)
    values.columns = [f"m{k}" for k in range(values.shape[1])]
    return values.assign(customers=sizes.astype("int64")).rename_axis("cohort").reset_index()[
        ["cohort", "customers", *values.columns]]
