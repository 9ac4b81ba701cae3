"""New versus returning customers, month by month.

Definitions (as of the end of the report month; nothing after it is ever read):
- A customer is **new** in month m when their first purchase ever falls in m.
- A customer is **returning** in m when they purchased in m and their first purchase was before m.
- **Active** customers in m = new + returning.
- New customers' orders and revenue in m are all their orders in m (a second order in the first month
  still belongs to a new customer); likewise for returning customers.
- **AOV** (average order value) = revenue / orders.
- **Guest orders** (no customer: no id, e-mail or mobile) count in orders, revenue and AOV, never as a
  customer: orders = new + returning + guest orders, active customers = new + returning.
- **Left-censored months**: a history starts when the export starts, not when the shop did, so in its
  first months some "new" customers had bought before the export began. New-customer counts are reliable
  from `reliable_from`: the first whole month starting at least the `CENSORING_QUANTILE` (90th percentile)
  of the days between purchases after the first order of the export, so that at most about a tenth of
  returning customers could have their previous purchase before it. Earlier months are flagged
  `new_censored` (their new counts run high, their returning counts low).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crm_report.frames import isin

KPI_FIELDS = ("active_customers", "new_customers", "returning_customers", "returning_revenue_share",
              "orders", "revenue", "aov")
COUNT_FIELDS = ("active_customers", "new_customers", "returning_customers", "orders")


def monthly_new_vs_returning(orders: pd.DataFrame, month: pd.Period, n_months: int) -> pd.DataFrame:
    """The `n_months` months ending with `month`: customers, orders and revenue of new and returning customers.

    Columns: month, new_customers, returning_customers, active_customers, new_orders, returning_orders,
    orders, new_revenue, returning_revenue, revenue, new_aov, returning_aov, aov, new_customer_share,
    returning_revenue_share, guest_orders, guest_revenue. Months without orders are rows of zeros (AOV and
    shares NaN). Orders, revenue and AOV include guest orders; returning_revenue_share is returning revenue ÷
    the revenue of identified customers (new + returning), so guest orders, whose buyer may be new or
    returning, never move it.
    """
    first_month = orders.groupby("customer_id", observed=True)["order_month"].transform("min")
    kind = pd.Series(np.where(first_month.eq(orders["order_month"]), "new", "returning"), index=orders.index)
    kind = kind.mask(orders["customer_id"].isna(), "guest")
    per_month = (
        orders.assign(kind=kind)
        .groupby(["order_month", "kind"], observed=True)
        .agg(customers=("customer_id", "nunique"), orders=("order_id", "size"), revenue=("amount", "sum"))
        .unstack("kind")
    )
    per_month.columns = [f"{kind}_{measure}" for measure, kind in per_month.columns]
    months = pd.period_range(end=month, periods=n_months, freq="M")
    table = per_month.reindex(months).reindex(
        columns=[f"{k}_{m}" for k in ("new", "returning") for m in ("customers", "orders", "revenue")]
        + ["guest_orders", "guest_revenue"]
    ).fillna(0)
    table.index.name = "month"
    return (
        table.astype({c: "int64" for c in table.columns if not c.endswith("revenue")})
        .assign(
            active_customers=lambda t: t["new_customers"] + t["returning_customers"],
            orders=lambda t: t["new_orders"] + t["returning_orders"] + t["guest_orders"],
            revenue=lambda t: t["new_revenue"] + t["returning_revenue"] + t["guest_revenue"],
            new_aov=lambda t: _ratio(t["new_revenue"], t["new_orders"]),
            returning_aov=lambda t: _ratio(t["returning_revenue"], t["returning_orders"]),
            aov=lambda t: _ratio(t["revenue"], t["orders"]),
            new_customer_share=lambda t: _ratio(t["new_customers"], t["active_customers"]),
            returning_revenue_share=lambda t: _ratio(t["returning_revenue"],
                                                     t["new_revenue"] + t["returning_revenue"]),
        )
        .reset_index()
    )


CENSORING_QUANTILE = 0.9


def reliable_from(orders: pd.DataFrame, interval_days: pd.Series) -> pd.Period | None:
    """The first month whose new-customer count is reliable (module docstring); None without orders.
    `interval_days`: the days between consecutive purchase days (`repurchase.purchase_intervals`); without
    any, nothing suggests customers come back, and the first whole month counts as reliable."""
    if orders.empty:
        return None
    start = orders["order_date"].min().normalize()
    lag = int(np.ceil(interval_days.quantile(CENSORING_QUANTILE))) if len(interval_days) else 0
    safe = start + pd.Timedelta(days=lag)
    month = safe.to_period("M")
    return month if safe.day == 1 else month + 1


def mark_censored(monthly: pd.DataFrame, reliable: pd.Period | None) -> pd.DataFrame:
    """`monthly_new_vs_returning` with `new_censored`: the month is before `reliable` (`reliable_from`)."""
    months = monthly["month"].map(lambda m: pd.Period(m, freq="M"))
    return monthly.assign(new_censored=False if reliable is None else months.lt(reliable))


def mark_partial(monthly: pd.DataFrame, partial: pd.Period | None) -> pd.DataFrame:
    """`monthly_new_vs_returning` with `partial`: the month is the report month whose data end inside it
    (`period.data_end`; None: no partial month)."""
    return monthly.assign(partial=False if partial is None else monthly["month"].astype("str").eq(str(partial)))


def month_kpis(monthly: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    """KPI tiles for `month`: each KPI's value, previous month, same month last year and relative changes.

    `monthly` must hold `month` and the 12 months before it. A change is (value − base) / base; for shares
    it is the difference in percentage points instead (`change_kind` says which). NaN when the base is 0.
    """
    by_month = monthly.set_index("month")
    rows = []
    for field in KPI_FIELDS:
        value, previous, last_year = (by_month.at[m, field] for m in (month, month - 1, month - 12))
        is_share = field.endswith("share")
        rows.append({
            "kpi": field,
            "value": value,
            "previous": previous,
            "last_year": last_year,
            "change_kind": "points" if is_share else "relative",
            "vs_previous": _change(value, previous, is_share),
            "vs_last_year": _change(value, last_year, is_share),
        })
    return pd.DataFrame(rows)


def kpi_values(kpis: pd.DataFrame) -> dict[str, int | float]:
    """The month's KPI values by name: counts as int, amounts and shares as float."""
    return {row.kpi: int(row.value) if row.kpi in COUNT_FIELDS else float(row.value)
            for row in kpis.itertuples()}


def first_orders(orders: pd.DataFrame, month: pd.Period, window_months: int) -> pd.Series:
    """The order ids of the customers' first orders placed in the `window_months` ending `month`.

    A customer's first order is their earliest purchase order (ties on the same timestamp: lowest order id;
    `orders` are sorted so, as `purchase_orders` returns them). Guest orders have no customer and count as nobody's.
    """
    firsts = orders.dropna(subset=["customer_id"]).drop_duplicates("customer_id", keep="first")
    return firsts.loc[firsts["order_month"].between(month - (window_months - 1), month), "order_id"]


def first_order_products(lines: pd.DataFrame, firsts: pd.Series, top: int) -> pd.DataFrame:
    """What new customers buy first: the products in the first orders `firsts` (`first_orders`).

    `lines` may be every line or only those of `firsts` (`Run.lines_of`). Columns: product_name, first_orders
    (first orders containing it), share (of all first orders), revenue (the product's paid line amount in
    those orders). Sorted by first_orders, then product_name.
    """
    first_lines = lines.loc[isin(lines["order_id"], firsts) & lines["status"].eq("paid")]
    table = (
        first_lines.groupby("product_name", observed=True)
        .agg(first_orders=("order_id", "nunique"), revenue=("amount", "sum"))
        .reset_index()
        .assign(share=lambda t: t["first_orders"] / max(len(firsts), 1))
        .sort_values(["first_orders", "product_name"], ascending=[False, True], kind="stable")
        .head(top)
        .reset_index(drop=True)
    )
    return table[["product_name", "first_orders", "share", "revenue"]]


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator / denominator.where(denominator != 0)


def _change(value: float, base: float, is_share: bool) -> float:
    if pd.isna(value) or pd.isna(base):
        return float("nan")
    if is_share:
        return float(value - base)
    return float((value - base) / base) if base else float("nan")
