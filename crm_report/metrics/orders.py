"""From order lines to purchase orders and per-customer facts.

A **purchase** is an order line whose status is `paid`; cancelled and refunded lines never count.
An order's amount is the sum of its paid lines; its date is its earliest line's date.
"""
from __future__ import annotations

import pandas as pd


def purchase_orders(lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per order with at least one paid line dated at or before `as_of`.

    Columns: order_id, customer_id, order_date, amount, order_day (the calendar day), order_month (Period).
    Sorted by customer, date and order id so that results never depend on the file's row order.
    """
    paid = lines.loc[lines["status"].eq("paid") & lines["order_date"].le(as_of),
                     ["order_id", "customer_id", "order_date", "amount"]]  # only what is used: 1M lines
    orders = (
        paid.groupby("order_id", sort=False, observed=True)
        .agg(customer_id=("customer_id", "first"), order_date=("order_date", "min"), amount=("amount", "sum"))
        .reset_index()
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
