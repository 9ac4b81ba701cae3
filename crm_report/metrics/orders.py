"""From order lines to purchase orders and per-customer facts.

A **purchase** is an order line whose status is `paid`; cancelled and refunded lines never count.
An order's amount is the sum of its paid lines, net of its refund lines (negative amounts); its date is its
earliest line's date. An order that refund lines take down to zero or less is not a purchase.
A **guest** order has no customer (`customer_id` missing: no id, e-mail or mobile). It counts in orders and
revenue; every per-customer fact below leaves it out (pandas drops missing group keys).
"""
from __future__ import annotations

import pandas as pd


def purchase_orders(lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per order with paid lines dated at or before `as_of`, net of its refund lines up to then.

    Columns: order_id, customer_id (missing for guest orders), order_date, amount, order_day (the calendar
    day), order_month (Period). Sorted by customer, date and order id so that results never depend on the
    file's row order (guest orders last).
    """
    paid, refund = lines["status"].eq("paid").to_numpy(), lines["amount"].lt(0).to_numpy()
    keep = (paid | refund) & lines["order_date"].le(as_of).to_numpy()  # positions: any index will do
    counted = lines.loc[keep, ["order_id", "customer_id", "order_date", "amount"]].assign(  # only what is used
        paid=paid[keep], refund=refund[keep])
    orders = (
        counted.groupby("order_id", sort=False, observed=True)
        .agg(customer_id=("customer_id", "first"), order_date=("order_date", "min"), amount=("amount", "sum"),
             paid=("paid", "any"), refund=("refund", "any"))
        .reset_index()
        .loc[lambda o: o["paid"] & ~(o["refund"] & o["amount"].le(0))]
        .drop(columns=["paid", "refund"])
    )
    return (
        orders.assign(order_day=orders["order_date"].dt.normalize(),
                      order_month=orders["order_date"].dt.to_period("M"))
        .sort_values(["customer_id", "order_date", "order_id"], kind="stable")
        .reset_index(drop=True)
    )


def customer_facts(orders: pd.DataFrame) -> pd.DataFrame:
    """Per customer: first and last order date, number of orders, total revenue (index: customer_id)."""
    return orders.groupby("customer_id", observed=True).agg(
        first_order=("order_date", "min"),
        last_order=("order_date", "max"),
        orders=("order_id", "size"),
        revenue=("amount", "sum"),
    )


def purchase_days(orders: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and calendar day with a purchase (several orders on one day = one visit).

    Columns: customer_id, order_day, amount (the day's total), visit (1 = first day the customer bought).
    """
    days = (
        orders.groupby(["customer_id", "order_day"], observed=True, sort=True)["amount"].sum().reset_index()
    )
    return days.assign(visit=days.groupby("customer_id", observed=True).cumcount() + 1)
