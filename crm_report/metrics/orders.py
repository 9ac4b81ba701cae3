"""From order lines to purchase orders and per-customer facts.

A **purchase** is an order with a paid line that its refund lines (negative amounts) do not take to zero or
less; cancelled lines never count (`purchase_line_mask`, the one home of this rule: products, customers,
win-back and every other section use it). An order's amount is the sum of its paid lines, net of its refund
lines; its date is its earliest paid line's date.
A **guest** order has no customer (`customer_id` missing: no id, e-mail or mobile). It counts in orders and
revenue; every per-customer fact below leaves it out (pandas drops missing group keys).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crm_report.frames import sorted_by


def purchase_line_mask(lines: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    """Per line (by position): True for a paid line, dated at or before `as_of`, of an order that is a
    purchase as of `as_of`. The one rule for "purchase" that every metric uses (directly or through
    `purchase_orders`): an order is a purchase when it has a paid line up to `as_of` and its refund lines up
    to then (negative amounts) do not take it to zero or less.
    """
    paid, _, in_purchase = _purchase_lines(lines, as_of)
    return paid & in_purchase


def _purchase_lines(lines: pd.DataFrame, as_of: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per line: paid up to `as_of`, refund (negative amount) up to `as_of`, and whether its order is a
    purchase as of `as_of` (the rule of `purchase_line_mask`), as boolean arrays. Orders are integer codes, so
    no string comparison is made per line."""
    in_time = lines["order_date"].le(as_of).to_numpy(dtype=bool)
    paid = lines["status"].eq("paid").to_numpy(dtype=bool) & in_time
    refund = lines["amount"].lt(0).to_numpy(dtype=bool) & in_time
    order, _ = pd.factorize(lines["order_id"])
    known = order >= 0
    n = int(order.max(initial=-1)) + 1
    counted = (paid | refund) & known
    net = np.bincount(order[counted], weights=lines["amount"].to_numpy(dtype="float64")[counted], minlength=n)
    has_paid = np.bincount(order[paid & known], minlength=n) > 0
    has_refund = np.bincount(order[refund & known], minlength=n) > 0
    purchase = np.append(has_paid & ~(has_refund & (net <= 0)), False)  # code -1 (no order id): never
    return paid, refund, purchase[order]


def purchase_orders(lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per purchase order as of `as_of` (`purchase_line_mask`), net of its refund lines up to then.

    Columns: order_id, customer_id (missing for guest orders), order_date (its earliest paid line), amount
    (paid lines + refund lines), order_day (the calendar day), order_month (Period). Sorted by customer, date
    and order id so that results never depend on the file's row order (guest orders last).
    """
    paid, refund, in_purchase = _purchase_lines(lines, as_of)
    paid_lines = paid & in_purchase
    keep = (paid | refund) & in_purchase  # positions: any index will do
    counted = lines.loc[keep, ["order_id", "customer_id", "order_date", "amount"]].assign(paid=paid_lines[keep])
    orders = (
        counted.assign(paid_date=counted["order_date"].where(counted["paid"]))
        .groupby("order_id", sort=False, observed=True)
        .agg(customer_id=("customer_id", "first"), order_date=("paid_date", "min"), amount=("amount", "sum"))
        .reset_index()
    )
    return _in_order(orders.assign(order_day=orders["order_date"].dt.normalize(),
                                   order_month=orders["order_date"].dt.to_period("M")))


def _in_order(orders: pd.DataFrame) -> pd.DataFrame:
    """Sorted by customer, date and order id (guest orders last), as `purchase_orders` returns them."""
    return sorted_by(orders, ["customer_id", "order_date", "order_id"]).reset_index(drop=True)


def purchase_orders_before(orders: pd.DataFrame, lines: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """`purchase_orders(lines, cutoff)`, from `orders` = `purchase_orders(lines, as_of)` at a later `as_of`.

    An order none of whose lines is dated after `cutoff` has the same lines at both dates, so it is the same
    purchase (or no purchase) then as now: it is taken from `orders` as it is. An order with no line up to
    `cutoff` did not exist then: an order dated after `cutoff` (its earliest paid line) is left out. Only the
    orders with lines on both sides of `cutoff` (a refund since, a line added since) are computed again from
    their lines as of `cutoff`. So `lines` needs only those orders' lines (any more are harmless): last
    month's orders cost the lines of the orders that changed, not every line again.
    `lines` needs order_id, customer_id, order_date, status and amount.
    """
    # Order ids as integer codes shared by lines and orders (an Arrow-string `isin` with many values is slow).
    codes, _ = pd.factorize(pd.concat([lines["order_id"], orders["order_id"]], ignore_index=True))
    line_code, order_code = codes[:len(lines)], codes[len(lines):]
    touched = np.zeros(int(codes.max(initial=-1)) + 2, dtype=bool)  # the last slot: code -1 (no order id)
    touched[line_code[lines["order_date"].gt(cutoff).to_numpy(dtype=bool)]] = True
    touched[-1] = False
    again = purchase_orders(lines.loc[touched[line_code]], cutoff)
    kept = orders.loc[~touched[order_code] & orders["order_date"].le(cutoff).to_numpy(dtype=bool)]
    if again.empty or kept.empty:
        return (kept if again.empty else again).reset_index(drop=True)
    return _in_order(pd.concat([kept, again], ignore_index=True))


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
