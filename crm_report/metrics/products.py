"""Products: replenishment cycles, first products that make loyal customers, what customers buy next, and
one next step per customer.

Conventions shared by every function here:

- A **purchase** is a paid line of a known customer's purchase order as of `as_of`
  (`orders.purchase_line_mask`: an order refunded in full is no purchase; guest orders, with no customer
  id, are left out: product cycles, first products and next products follow customers). Its day is its
  order's day: the calendar day of the order's earliest paid line, as in `orders.purchase_orders`. Several
  orders on one calendar day are one
  visit (a **purchase day**), as in `orders.purchase_days`.
- The **product key** of a line is its `product_id` when the column exists and the line has one, else its
  `product_name`. A key's display name and category are those of its most recent line that has them, so a
  renamed or re-categorised product is shown as it is now and sits in one category only (a key without any
  name is shown by its key).
- Lines with neither a product id nor a name still count as purchases (they make purchase days, first and
  last days and transitions) but add no product anywhere.

Every function takes the order lines, or their purchases coded once by `purchases(lines, as_of)` (what a
notebook that runs several of them passes: coding a million lines costs more than most analyses here).
Internally customers, products and days are integer codes (positions in the sorted customer ids and
product keys; days since the earliest purchase day), so every step is a numpy sort or count: well under a
second per function on a million lines.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from crm_report.metrics.conclusions import CHANCE_Z
from crm_report.metrics.orders import purchase_line_mask

LINE_COLUMNS = ("order_id", "customer_id", "order_date", "status")
BASES = ("product", "category", "none")
RECOMMENDATION_BASES = ("replenish", "next_product", "best_seller", "none")
NAME_SEPARATOR = " / "
CONSUMABLE_MIN_REPEAT_SHARE = 0.15  # at least this share of a product's buyers bought it again ...
CONSUMABLE_MAX_SPREAD = 3.0  # ... at regular intervals: p75 at most this many times p25


# ------------------------------------------------------------------------------------------------
# Shared steps: coded purchase lines, the catalogue, gaps between purchase days, visits
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purchases:
    """Paid lines dated ≤ as_of as integer codes, with the ids and the catalogue the codes point into
    (`purchases`). Every function here takes it in place of the order lines, so a notebook that runs several
    of them codes the lines once."""

    customer: np.ndarray
    """Position in `customers` per line."""
    day: np.ndarray
    """Order day per line, in days since `day0`."""
    product: np.ndarray
    """Position in `catalog` per line; -1 for a line without product id and name."""
    amount: np.ndarray
    customers: pd.Index
    """Customer ids, sorted (their dtype as given)."""
    catalog: pd.DataFrame
    """Index product_key (sorted); columns product_name and, when the lines have it, category."""
    day0: int
    """Day 0 of `day`, in days since 1970-01-01 (the earliest purchase day)."""
    n_days: int
    """Days from day 0 to the latest purchase day, plus 1: every `day` is below it."""
    as_of: pd.Timestamp
    """The as-of date the purchases were taken at (`purchase_line_mask`)."""

    def day_of(self, timestamp: pd.Timestamp) -> int:
        return int(np.datetime64(timestamp.normalize().date(), "D").astype(np.int64)) - self.day0

    def dates(self, days: np.ndarray) -> np.ndarray:
        """Day numbers (float, NaN = missing) as datetime64[ns]."""
        days = np.asarray(days, dtype="float64")
        result = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
        known = ~np.isnan(days)
        result[known] = (days[known].astype(np.int64) + self.day0).astype("datetime64[D]")
        return result


def _check_lines(lines: pd.DataFrame, extra: tuple[str, ...] = ()) -> None:
    for column in (*LINE_COLUMNS, *extra):
        if column not in lines:
            raise ValueError(f"order lines have no {column!r} column")
    if "product_id" not in lines and "product_name" not in lines:
        raise ValueError("order lines have neither a 'product_id' nor a 'product_name' column")


def purchases(lines: pd.DataFrame, as_of: pd.Timestamp) -> Purchases:
    """The purchases (module docstring) of `lines` as of `as_of`, coded once for every function here. Needs the
    columns `LINE_COLUMNS`, `amount` and a product id or name (`category` when there is one)."""
    _check_lines(lines, ("amount",))
    return _purchases(lines, as_of)


def _coded(lines: pd.DataFrame | Purchases, as_of: pd.Timestamp, extra: tuple[str, ...] = ()) -> Purchases:
    """`lines` coded as of `as_of`; a `Purchases` must have been taken as of that same date."""
    if isinstance(lines, Purchases):
        if lines.as_of != as_of:
            raise ValueError(f"purchases taken as of {lines.as_of}, asked for as of {as_of}")
        return lines
    _check_lines(lines, extra)
    return _purchases(lines, as_of)


def _purchases(lines: pd.DataFrame, as_of: pd.Timestamp) -> Purchases:
    # Codes are taken on the full columns and filtered afterwards: filtering a frame first would copy
    # every string column, which costs more than the codes themselves.
    # Guest orders (no customer id) have no customer to follow from one purchase to the next: left out.
    paid = purchase_line_mask(lines, as_of) & lines["customer_id"].notna().to_numpy(dtype=bool)
    rows = np.flatnonzero(paid)
    line_day = lines["order_date"].to_numpy()[rows].astype("datetime64[D]").astype(np.int64)
    order = pd.factorize(lines["order_id"])[0][rows]
    day = pd.Series(line_day).groupby(order).transform("min").to_numpy()  # the order's earliest line
    day0 = int(day.min()) if day.size else 0
    day = day - day0
    codes, uniques = pd.factorize(lines["customer_id"], sort=True)
    customer, customers = _used_codes(codes, uniques, rows)
    if "product_id" in lines:
        key = lines["product_id"].astype("str")
        if "product_name" in lines:
            key = key.where(key.notna(), lines["product_name"].astype("str"))
    else:
        key = lines["product_name"].astype("str")
    codes, uniques = pd.factorize(key, sort=True)
    product, keys = _used_codes(codes, uniques, rows)
    catalog = pd.DataFrame(index=pd.Index(keys, dtype="str", name="product_key"))
    in_catalog = pd.Series(catalog.index, index=catalog.index)
    names = (_latest(product, day, lines["product_name"].iloc[rows], len(keys)) if "product_name" in lines
             else in_catalog)
    catalog = catalog.assign(product_name=pd.Series(names, index=catalog.index, dtype="str").fillna(in_catalog))
    if "category" in lines:
        catalog = catalog.assign(category=pd.Series(_latest(product, day, lines["category"].iloc[rows], len(keys)),
                                                    index=catalog.index, dtype="str"))
    amount = (lines["amount"].to_numpy(dtype="float64")[rows] if "amount" in lines
              else np.full(rows.size, np.nan))
    return Purchases(customer, day, product, amount, pd.Index(customers, name="customer_id"),
                     catalog, day0, int(day.max()) + 1 if day.size else 1, as_of)


def _used_codes(codes: np.ndarray, uniques: pd.Index, rows: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Codes of `rows`, renumbered over the values those rows use (order kept; -1 stays -1)."""
    codes = codes[rows]
    used = np.zeros(len(uniques) + 1, dtype=bool)
    used[codes] = True  # code -1 marks the extra last slot
    renumber = np.cumsum(used[:-1]) - 1
    return np.where(codes >= 0, renumber[codes], -1), uniques[used[:-1]]


def _latest(product: np.ndarray, day: np.ndarray, values: pd.Series, n_products: int) -> np.ndarray:
    """Per product code, the value of its most recent line with a value (ties: the alphabetically last)."""
    known = (product >= 0) & values.notna().to_numpy()
    last_day = np.full(n_products, np.iinfo(np.int64).min)
    np.maximum.at(last_day, product[known], day[known])
    at_last = np.flatnonzero(known)[day[known] == last_day[product[known]]]
    latest = (pd.DataFrame({"product": product[at_last], "value": values.iloc[at_last].astype("str").to_numpy()})
              .sort_values(["product", "value"]).drop_duplicates("product", keep="last"))
    result = np.full(n_products, None, dtype=object)
    result[latest["product"].to_numpy()] = latest["value"].to_numpy()
    return result


def _unique_rows(*columns: tuple[np.ndarray, int], counts: bool = False) -> list[np.ndarray]:
    """Unique rows of integer columns, sorted by the first column, then the second, ...

    Each column is given as (values, size) with 0 ≤ values < size. The columns are packed into one int64
    and sorted (numpy's hash-based `np.unique` is several times slower on a million rows); when the packed
    number could overflow, the rows are sorted with `np.lexsort` instead. With `counts`, the last array
    returned holds how often each row occurs.
    """
    n = columns[0][0].size
    if math.prod(max(size, 1) for _, size in columns) < 2**62:
        packed = np.zeros(n, dtype=np.int64)
        for values, size in columns:
            packed = packed * max(size, 1) + values
        packed = np.sort(packed)
        first = np.r_[True, packed[1:] != packed[:-1]][:n]
        rows, code = [], packed[first]
        for _, size in reversed(columns):
            rows.append(code % max(size, 1))
            code = code // max(size, 1)
        rows.reverse()
    else:
        order = np.lexsort([values for values, _ in reversed(columns)])
        ordered = [values[order] for values, _ in columns]
        first = np.r_[True, np.any([c[1:] != c[:-1] for c in ordered], axis=0).reshape(-1)][:n]
        rows = [c[first] for c in ordered]
    if counts:
        rows.append(np.diff(np.r_[np.flatnonzero(first), n]))
    return rows


def _gaps(customer: np.ndarray, key: np.ndarray, day: np.ndarray, n_customers: int, n_keys: int,
          n_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days between one customer's consecutive purchase days of one key (a product or category code).

    Lines with key -1 are skipped; several lines of one key on one day are one purchase day. Returns
    (key, customer, interval_days) arrays, sorted by key and customer.
    """
    known = key >= 0
    key, customer, day = _unique_rows((key[known], n_keys), (customer[known], n_customers), (day[known], n_days))
    later = (key[1:] == key[:-1]) & (customer[1:] == customer[:-1])
    return key[1:][later], customer[1:][later], (day[1:] - day[:-1])[later]


def _cycle_stats(key: np.ndarray, customer: np.ndarray, interval: np.ndarray, n_keys: int) -> pd.DataFrame:
    """Per key code 0..n_keys-1: repeat_buyers, intervals, p25, p50, p75 (linear interpolation)."""
    new_buyer = np.r_[True, (key[1:] != key[:-1]) | (customer[1:] != customer[:-1])][: key.size]
    quantiles = (pd.Series(interval, dtype="float64").groupby(key).quantile([0.25, 0.5, 0.75]).unstack()
                 .reindex(index=range(n_keys), columns=[0.25, 0.5, 0.75]))
    return pd.DataFrame({
        "repeat_buyers": np.bincount(key[new_buyer], minlength=n_keys),
        "intervals": np.bincount(key, minlength=n_keys),
        "p25": quantiles[0.25].to_numpy(), "p50": quantiles[0.5].to_numpy(), "p75": quantiles[0.75].to_numpy(),
    })


def _visits(purchases: Purchases) -> list[np.ndarray]:
    """Each customer's purchase days: [customer, day] arrays, unique and sorted by customer, then day."""
    return _unique_rows((purchases.customer, len(purchases.customers)), (purchases.day, purchases.n_days))


def _display_columns(catalog: pd.DataFrame) -> list[str]:
    return list(catalog.columns)


# ------------------------------------------------------------------------------------------------
# 1. Replenishment cycles
# ------------------------------------------------------------------------------------------------


def replenishment_cycles(lines: pd.DataFrame, as_of: pd.Timestamp, min_repeat_buyers: int = 30,
                         lead_days: int = 3) -> pd.DataFrame:
    """How many days after a purchase each product is bought again, and when to send the reminder.

    - **Interval**: the days between one customer's consecutive purchase days of the same product (bought
      on two different days = one interval; several lines or orders of it on one day count once). Other
      products bought in between do not break the chain.
    - Per product: `buyers` (customers who bought it), `repeat_buyers` (customers with at least one
      interval), `repeat_share` = repeat_buyers / buyers, `intervals` (their count).
    - **Basis**: `product` when the product has at least `min_repeat_buyers` repeat buyers; else `category`
      when its category does, computed the same way on the customer's consecutive purchase days of *any*
      product of that category (a vitamin bought 30 days after a fish oil of the same category is one
      interval); else `none`. `p25`, `p50`, `p75` are the linearly interpolated quartiles of the basis's
      intervals (NaN for `none`); `basis_repeat_buyers` and `basis_intervals` count the basis used (0 for
      `none`).
    - **Reminder day** = max(1, ⌊p25⌋ − `lead_days`) days after the purchase day (NaN for `none`). By p25 a
      quarter of the repeat purchases have already happened, so those customers ran out sooner; contacting
      `lead_days` before that reaches most customers before their pack is empty, not after they bought
      elsewhere. `p50` is the typical run-out point (half of the repeat purchases happened by then).
    - The basis only needs repeat buyers, not a high `repeat_share`: a gift box that 5% of its buyers buy
      again a year later gets a cycle too. **Consumable** (used for reminders and "buy it again"
      recommendations) = a basis, `repeat_share` ≥ `CONSUMABLE_MIN_REPEAT_SHARE` (15%) and a regular cycle,
      p75 ≤ `CONSUMABLE_MAX_SPREAD` (3) × p25. Supplement packs run 2.1–2.4; trial packs, gift boxes and
      clothes 3.4–8.4 and rarely 15%.

    Columns: product_key, product_name, [category], buyers, repeat_buyers, repeat_share, intervals, basis,
    basis_repeat_buyers, basis_intervals, p25, p50, p75, reminder_day, consumable. Sorted by buyers (most first), then
    product key.
    """
    purchases = _coded(lines, as_of)
    catalog = purchases.catalog
    n_products, n_customers = len(catalog), len(purchases.customers)
    own = _cycle_stats(*_gaps(purchases.customer, purchases.product, purchases.day, n_customers, n_products,
                              purchases.n_days), n_products)
    if "category" in catalog:
        category_of, categories = pd.factorize(catalog["category"])
        line_category = np.append(category_of, -1)[purchases.product]  # product -1 → category -1
        by_category = _cycle_stats(*_gaps(purchases.customer, line_category, purchases.day, n_customers,
                                          len(categories), purchases.n_days), len(categories))
        fallback = by_category.reindex(category_of).reset_index(drop=True)  # -1 (no category) → NaN row
    else:
        fallback = own.iloc[:0].reindex(range(n_products))

    use_own = own["repeat_buyers"].ge(min_repeat_buyers).to_numpy()
    use_category = ~use_own & fallback["repeat_buyers"].ge(min_repeat_buyers).to_numpy()
    chosen = {column: np.select([use_own, use_category], [own[column], fallback[column]],
                                default=0 if column in ("repeat_buyers", "intervals") else np.nan)
              for column in own.columns}
    known = purchases.product >= 0
    bought, _ = _unique_rows((purchases.product[known], n_products), (purchases.customer[known], n_customers))
    buyers = np.bincount(bought, minlength=n_products)
    table = catalog.assign(
        buyers=buyers,
        repeat_buyers=own["repeat_buyers"].to_numpy(),
        repeat_share=own["repeat_buyers"].to_numpy() / np.maximum(buyers, 1),
        intervals=own["intervals"].to_numpy(),
        basis=np.select([use_own, use_category], ["product", "category"], default="none"),
        basis_repeat_buyers=chosen["repeat_buyers"].astype("int64"),
        basis_intervals=chosen["intervals"].astype("int64"),
        p25=chosen["p25"].astype("float64"),
        p50=chosen["p50"].astype("float64"),
        p75=chosen["p75"].astype("float64"),
        reminder_day=np.maximum(1.0, np.floor(chosen["p25"].astype("float64")) - lead_days),
    ).astype({"buyers": "int64", "repeat_buyers": "int64", "intervals": "int64", "basis": "str"})
    consumable = (table["basis"].ne("none") & table["repeat_share"].ge(CONSUMABLE_MIN_REPEAT_SHARE)
                  & table["p75"].le(CONSUMABLE_MAX_SPREAD * table["p25"]))
    return (table.assign(consumable=consumable).reset_index()
            .sort_values(["buyers", "product_key"], ascending=[False, True], kind="stable")
            .reset_index(drop=True))


# ------------------------------------------------------------------------------------------------
# 2. First products that make loyal customers
# ------------------------------------------------------------------------------------------------


def _first_day_repeat(purchases: Purchases, as_of: pd.Timestamp,
                      window_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer code: first purchase day, eligible (observed ≥ window_days), repeat within the window."""
    customer, day = _visits(purchases)
    n = len(purchases.customers)
    first_row = np.r_[True, customer[1:] != customer[:-1]][: customer.size]
    second_row = np.r_[False, first_row[:-1]][: customer.size] & ~first_row
    first_day = np.zeros(n, dtype=np.int64)
    first_day[customer[first_row]] = day[first_row]
    to_second = np.full(n, np.inf)
    to_second[customer[second_row]] = day[second_row] - first_day[customer[second_row]]
    eligible = purchases.day_of(as_of) - first_day >= window_days
    return first_day, eligible, eligible & (to_second <= window_days)


def baseline_repeat_rate(lines: pd.DataFrame, as_of: pd.Timestamp, window_days: int = 180) -> dict[str, float]:
    """The overall rate that `first_product_repeat` compares products with.

    Customers: everyone whose first purchase day is at least `window_days` days before the as-of day.
    Rate = share of them whose second purchase day is at most `window_days` days after the first (NaN when
    nobody is eligible). Keys: customers, repeat_customers, rate.
    """
    _, eligible, repeat = _first_day_repeat(_coded(lines, as_of), as_of, window_days)
    n, repeats = int(eligible.sum()), int(repeat.sum())
    return {"customers": n, "repeat_customers": repeats, "rate": repeats / n if n else float("nan")}


def first_product_repeat(lines: pd.DataFrame, as_of: pd.Timestamp, window_days: int = 180,
                         min_customers: int = 30) -> pd.DataFrame:
    """Which first purchases make loyal customers: the repeat rate of customers by what they bought first.

    - **Customers counted**: those whose first purchase day is at least `window_days` days before the as-of
      day, so everyone was observed for the full window (as in `repurchase.repeat_rates`).
    - Each is counted under every product of their first purchase day (two products that day: counted
      under both, so the products' customers add up to more than the customers).
    - **Repeat customer**: their second purchase day is at most `window_days` days after the first
      (several orders on the first day are one visit, never a repeat).
    - `rate` = repeat_customers / customers; `enough_sample` = customers ≥ `min_customers` (smaller
      products are listed after the others: their rate is mostly noise). Compare with
      `baseline_repeat_rate`, the same rate over all counted customers.

    Columns: product_key, product_name, [category], customers, repeat_customers, rate, enough_sample.
    Sorted with enough_sample first, then by rate (highest first), customers (most first) and product key;
    only products that were some counted customer's first purchase are listed.
    """
    purchases = _coded(lines, as_of)
    first_day, eligible, repeat = _first_day_repeat(purchases, as_of, window_days)
    n_products = len(purchases.catalog)
    on_first_day = ((purchases.product >= 0) & eligible[purchases.customer]
                    & (purchases.day == first_day[purchases.customer]))
    product, customer = _unique_rows((purchases.product[on_first_day], n_products),
                                     (purchases.customer[on_first_day], len(purchases.customers)))
    customers = np.bincount(product, minlength=n_products)
    table = purchases.catalog.assign(
        customers=customers,
        repeat_customers=np.bincount(product, weights=repeat[customer], minlength=n_products).astype("int64"),
    ).loc[customers > 0]
    table = table.assign(rate=table["repeat_customers"] / table["customers"],
                         enough_sample=table["customers"].ge(min_customers))
    return (table.reset_index()
            .sort_values(["enough_sample", "rate", "customers", "product_key"],
                         ascending=[False, False, False, True], kind="stable")
            .reset_index(drop=True))


def first_product_table(first_buys: pd.DataFrame, baseline_rate: float, limit: int = 20) -> pd.DataFrame:
    """The report's table of first products: every product with enough customers (`enough_sample`), the
    ones that brought the most customers first (not the best rates: those hid the biggest entry products), at
    most `limit`; `rate_vs_baseline` = rate − `baseline_rate`; `above_baseline` / `below_baseline` when the
    rate differs from the baseline by more than chance: by more than `CHANCE_Z` × √(p(1 − p)/n), p the baseline
    rate, n the product's customers (a few points below the baseline on a few dozen customers is not a finding).
    `first_buys` is `first_product_repeat(...)`."""
    table = first_buys.loc[first_buys["enough_sample"]]
    table = table.sort_values(["customers", "product_key"], ascending=[False, True], kind="stable").head(limit)
    margin = CHANCE_Z * np.sqrt(baseline_rate * (1 - baseline_rate) / table["customers"].clip(lower=1))
    gap = table["rate"] - baseline_rate
    return table.assign(rate_vs_baseline=gap, above_baseline=gap.gt(margin),
                        below_baseline=gap.lt(-margin)).reset_index(drop=True)


def recommendable_pairs(affinity: pd.DataFrame, top_products: int) -> pd.DataFrame:
    """The next-product pairs worth recommending: lift above 1 beyond chance (`clear`: customers who bought X
    pick Y next more often than repeat visits in general do, by more than chance), for the `top_products`
    products with the most transitions among those
    that have such a pair. `affinity` is `next_product_affinity(...)`."""
    liked = affinity.loc[affinity["clear"]]
    keys = liked.drop_duplicates("product_key").nlargest(top_products, "from_transitions")["product_key"]
    return liked.loc[liked["product_key"].isin(keys)].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# 3. What customers buy next
# ------------------------------------------------------------------------------------------------


def next_product_affinity(lines: pd.DataFrame, as_of: pd.Timestamp, min_pairs: int = 20,
                          top_per_product: int = 3) -> pd.DataFrame:
    """After a purchase day that contained product X, which products the customer's next purchase day holds.

    - **Transition**: a customer's purchase day and that customer's next purchase day (a customer with n
      purchase days has n − 1). T = all transitions of all customers.
    - `pairs` = transitions whose day contains X and whose next day contains Y; `from_transitions` =
      transitions whose day contains X; `confidence` = pairs / from_transitions (P(next day has Y | day has
      X)); `base_rate` = transitions whose next day contains Y / T; `lift` = confidence / base_rate (above 1:
      X's buyers pick Y next more often than repeat visits in general do); `support` = pairs / T. These are
      the association-rule measures (Agrawal, Imieliński & Swami 1993; lift: Brin et al. 1997) applied to
      consecutive purchase days instead of one basket.
    - X → X is kept and flagged `same_product`: buying the same product again is the replenishment signal.
    - Kept: pairs ≥ `min_pairs`; per X the `top_per_product` rows by lift, then pairs (ties: Y's key). A
      kept row can have lift below 1 when X has few strong successors.
    - `clear`: the pair is worth recommending: lift above 1 beyond chance, pairs > n·p + `CHANCE_Z` √(n·p(1 − p))
      with n = from_transitions and p = base_rate (the pairs X would have by chance, binomial). A lift of 1.05
      on a few dozen transitions is noise and is not recommended.

    Columns: product_key, product_name, [category], next_product_key, next_product_name, [next_category],
    pairs, from_transitions, confidence, base_rate, lift, support, same_product, clear, rank (1 = best for X).
    Sorted by from_transitions (most first), product key, rank.
    """
    purchases = _coded(lines, as_of)
    catalog = purchases.catalog
    n_products = max(len(catalog), 1)
    display = _display_columns(catalog)
    columns = ["product_key", *display, "next_product_key", *(f"next_{c}" for c in display), "pairs",
               "from_transitions", "confidence", "base_rate", "lift", "support", "same_product", "clear", "rank"]

    # One row per customer, day and product (-1: lines without a product still make the day), sorted.
    customer, day, product = _unique_rows((purchases.customer, len(purchases.customers)),
                                          (purchases.day, purchases.n_days),
                                          (purchases.product + 1, n_products + 1))
    product = product - 1
    new_day = np.r_[True, (customer[1:] != customer[:-1]) | (day[1:] != day[:-1])][: customer.size]
    day_id = np.cumsum(new_day) - 1
    day_customer = customer[new_day]
    has_next = np.r_[day_customer[1:] == day_customer[:-1], False][: day_customer.size]
    n_transitions = int(has_next.sum())

    # A day × product 0/1 matrix; its rows for each transition's day (F) and next day (N). The sparse
    # product Fᵀ·N counts the pairs without one row per (product of the day, product of the next day).
    known = product >= 0
    days = sparse.csr_matrix((np.ones(int(known.sum()), dtype=np.int64), (day_id[known], product[known])),
                             shape=(day_customer.size, n_products))
    transition_day = np.flatnonzero(has_next)
    from_days, next_days = days[transition_day], days[transition_day + 1]
    from_count = np.asarray(from_days.sum(axis=0)).ravel()
    to_count = np.asarray(next_days.sum(axis=0)).ravel()
    counted = (from_days.T @ next_days).tocoo()

    keys = catalog.index.to_numpy()
    rules = pd.DataFrame({"x": counted.row.astype(np.int64), "y": counted.col.astype(np.int64),
                          "pairs": counted.data.astype(np.int64)})
    rules = rules.loc[rules["pairs"].ge(min_pairs)]
    rules = rules.assign(
        from_transitions=from_count[rules["x"]],
        confidence=rules["pairs"] / from_count[rules["x"]],
        base_rate=to_count[rules["y"]] / max(n_transitions, 1),
        support=rules["pairs"] / max(n_transitions, 1),
        same_product=rules["x"].eq(rules["y"]),
        y_key=keys[rules["y"]],
    )
    expected = rules["from_transitions"] * rules["base_rate"]
    rules = (rules.assign(lift=rules["confidence"] / rules["base_rate"],
                          clear=rules["pairs"] > expected + CHANCE_Z * np.sqrt(expected * (1 - rules["base_rate"])))
             .sort_values(["x", "lift", "pairs", "y_key"], ascending=[True, False, False, True], kind="stable"))
    rules = rules.assign(rank=rules.groupby("x").cumcount() + 1).loc[lambda r: r["rank"].le(top_per_product)]
    source = catalog.iloc[rules["x"].to_numpy()].reset_index()
    target = catalog.iloc[rules["y"].to_numpy()].reset_index().add_prefix("next_")
    table = pd.concat([source, target, rules.drop(columns=["x", "y", "y_key"]).reset_index(drop=True)], axis=1)
    return (table.astype({"pairs": "int64", "from_transitions": "int64", "rank": "int64", "lift": "float64",
                          "confidence": "float64", "base_rate": "float64", "support": "float64",
                          "same_product": "bool", "clear": "bool"})
            .sort_values(["from_transitions", "product_key", "rank"], ascending=[False, True, True], kind="stable")
            .reset_index(drop=True)[columns])


# ------------------------------------------------------------------------------------------------
# 4–5. Best sellers and one next step per customer
# ------------------------------------------------------------------------------------------------


def _best_sellers(purchases: Purchases, as_of: pd.Timestamp, days: int, top: int) -> pd.DataFrame:
    n_products, n_customers = len(purchases.catalog), len(purchases.customers)
    window = (purchases.day > purchases.day_of(as_of) - days) & (purchases.product >= 0)
    product = purchases.product[window]
    revenue = np.bincount(product, weights=purchases.amount[window], minlength=n_products)
    bought, _ = _unique_rows((product, n_products), (purchases.customer[window], n_customers))
    buyers = np.bincount(bought, minlength=n_products)
    table = (purchases.catalog.assign(revenue=revenue, buyers=buyers, code=np.arange(n_products))
             .loc[np.bincount(product, minlength=n_products) > 0]
             .reset_index()
             .sort_values(["revenue", "product_key"], ascending=[False, True], kind="stable")
             .head(top).reset_index(drop=True))
    return table.assign(rank=np.arange(1, len(table) + 1))[
        ["rank", "product_key", *_display_columns(purchases.catalog), "revenue", "buyers", "code"]]


def best_sellers(lines: pd.DataFrame, as_of: pd.Timestamp, days: int = 90, top: int = 5) -> pd.DataFrame:
    """The `top` products by revenue over the `days` calendar days ending with the as-of day.

    Revenue = sum of the paid line amounts of the product whose purchase day falls in the window (for a
    month-end as-of and days=90: the 90 days up to and including the month's last day). `buyers` =
    distinct customers who bought it there. Ties: product key.
    Columns: rank, product_key, product_name, [category], revenue, buyers.
    """
    return _best_sellers(_coded(lines, as_of, ("amount",)), as_of, days, top).drop(columns="code")


def _check_table(table: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in table:
            raise ValueError(f"{name} has no {column!r} column")


def _first_per_group(group: np.ndarray, *sort_keys: np.ndarray) -> np.ndarray:
    """Row positions of each group's first row when sorted by group, then by `sort_keys` in order."""
    order = np.lexsort((*reversed(sort_keys), group))
    first = np.r_[True, group[order][1:] != group[order][:-1]][: order.size]
    return order[first]


def _per_product(catalog: pd.DataFrame, keys: pd.Series, values: pd.Series, fill: float) -> np.ndarray:
    """`values` (given per product key) as an array indexed by product code; `fill` for absent products."""
    result = np.full(max(len(catalog), 1), fill, dtype="float64")
    code = catalog.index.get_indexer(keys)
    result[code[code >= 0]] = values.to_numpy(dtype="float64")[code >= 0]
    return result


def _join_names(customer: np.ndarray, product: np.ndarray, names: np.ndarray, n_customers: int) -> pd.Series:
    """Per customer code, the names of its products in alphabetical order, joined (missing when none)."""
    name_rank = np.argsort(np.argsort(names, kind="stable"), kind="stable")
    by_name = np.lexsort((name_rank[product], customer))
    counts = np.bincount(customer, minlength=n_customers)
    offsets = pa.array(np.r_[0, np.cumsum(counts)], type=pa.int32())
    values = pa.array(names[product[by_name]], type=pa.string())
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, values), NAME_SEPARATOR)
    return pd.Series(joined.to_pandas(), dtype="str").where(counts > 0)


def _labels(codes: np.ndarray, values: np.ndarray) -> pd.Series:
    """values[code] per code, missing where the code is -1."""
    taken = values[np.maximum(codes, 0)] if values.size else np.full(codes.size, None)
    return pd.Series(np.where(codes >= 0, taken, np.array(None)), dtype="str")


def customer_next_steps(lines: pd.DataFrame, as_of: pd.Timestamp, cycles: pd.DataFrame,
                        affinity: pd.DataFrame, best_sellers_top: int = 5,
                        best_sellers_days: int = 90) -> pd.DataFrame:
    """Per customer with a purchase: what they last bought, when to remind them, and what to offer.

    - `last_purchase_day` and `last_products` (names of that day's products, sorted, joined by " / "; missing
      when no line of that day names a product).
    - **Reminder**: among the last day's consumables (`cycles["consumable"]`, from `replenishment_cycles`),
      the one with the earliest `reminder_date` = last purchase day +
      reminder_day (ties: earlier run-out, then product key); `run_out_date` = last purchase day + ⌊p50⌋
      days. Dates can lie before the as-of day: the customer is then already due.
    - **Recommendation**, first rule that applies: `replenish` = the reminder product itself (a product
      customers re-buy); else `next_product` = the highest-lift target in `affinity` (from
      `next_product_affinity`) of any last-day product, among targets whose lift is above 1 beyond chance
      (`clear`; ties: more pairs,
      then key); else `best_seller` =
      the best-selling product by revenue over the `best_sellers_days` days to the as-of day (among the
      `best_sellers_top`, see `best_sellers`) that the last day did not contain; else `none`.

    Columns: customer_id, last_purchase_day, last_products, reminder_product_key, reminder_product_name,
    reminder_date, run_out_date, recommended_product_key, recommended_product_name, recommendation_basis.
    Sorted by customer id.
    """
    _check_table(cycles, "cycles", ("product_key", "consumable", "reminder_day", "p50"))
    _check_table(affinity, "affinity", ("product_key", "next_product_key", "lift", "pairs", "clear"))
    purchases = _coded(lines, as_of, ("amount",))
    catalog, n_customers = purchases.catalog, len(purchases.customers)
    n_products = max(len(catalog), 1)

    visit_customer, visit_day = _visits(purchases)
    last_row = np.r_[visit_customer[1:] != visit_customer[:-1], True][: visit_customer.size]
    last_day = np.zeros(n_customers, dtype=np.int64)
    last_day[visit_customer[last_row]] = visit_day[last_row]
    on_last = (purchases.product >= 0) & (purchases.day == last_day[purchases.customer])
    customer, product = _unique_rows((purchases.customer[on_last], n_customers),
                                     (purchases.product[on_last], n_products))  # one row per last-day product

    # Reminder: the last-day product with a known cycle and the earliest reminder date.
    known = cycles.loc[cycles["consumable"]]
    reminder_day = _per_product(catalog, known["product_key"], known["reminder_day"], np.nan)[product]
    run_out_day = np.floor(_per_product(catalog, known["product_key"], known["p50"], np.nan))[product]
    has_cycle = ~np.isnan(reminder_day)
    remind_on, run_out = last_day[customer] + reminder_day, last_day[customer] + run_out_day
    chosen = np.flatnonzero(has_cycle)[_first_per_group(customer[has_cycle], remind_on[has_cycle],
                                                        run_out[has_cycle], product[has_cycle])]
    reminder = np.full(n_customers, -1)
    reminder[customer[chosen]] = product[chosen]
    reminder_date, run_out_date = np.full(n_customers, np.nan), np.full(n_customers, np.nan)
    reminder_date[customer[chosen]] = remind_on[chosen]
    run_out_date[customer[chosen]] = run_out[chosen]

    # Next product: the highest-lift affinity target of any last-day product.
    rules = affinity.assign(x=catalog.index.get_indexer(affinity["product_key"]),
                            y=catalog.index.get_indexer(affinity["next_product_key"]))
    rules = rules.loc[rules["x"].ge(0) & rules["y"].ge(0) & rules["clear"]]
    rules = rules.iloc[_first_per_group(rules["x"].to_numpy(), -rules["lift"].to_numpy(dtype="float64"),
                                        -rules["pairs"].to_numpy(dtype="float64"), rules["y"].to_numpy())]
    target = np.full(n_products, -1)
    target[rules["x"].to_numpy()] = rules["y"].to_numpy()
    lift = _per_product(catalog, rules["product_key"], rules["lift"], np.nan)[product]
    rule_pairs = _per_product(catalog, rules["product_key"], rules["pairs"], 0)[product]
    has_rule = target[product] >= 0
    chosen = np.flatnonzero(has_rule)[_first_per_group(customer[has_rule], -lift[has_rule], -rule_pairs[has_rule],
                                                       target[product[has_rule]])]
    next_product = np.full(n_customers, -1)
    next_product[customer[chosen]] = target[product[chosen]]

    # Best seller: the best-ranked of the top sellers that the customer's last day did not contain.
    sellers = _best_sellers(purchases, as_of, best_sellers_days, best_sellers_top)["code"].to_numpy()
    seller_rank = np.full(n_products, -1)
    seller_rank[sellers] = np.arange(sellers.size)
    contained = np.zeros((n_customers, sellers.size), dtype=bool)
    is_seller = seller_rank[product] >= 0
    contained[customer[is_seller], seller_rank[product[is_seller]]] = True
    best = np.full(n_customers, -1)
    if sellers.size:
        best = np.where((~contained).any(axis=1), sellers[(~contained).argmax(axis=1)], -1)

    recommended = np.select([reminder >= 0, next_product >= 0], [reminder, next_product], default=best)
    basis = np.select([reminder >= 0, next_product >= 0, best >= 0], list(RECOMMENDATION_BASES[:3]),
                      default=RECOMMENDATION_BASES[3])
    keys = catalog.index.to_numpy(dtype=object)
    names = catalog["product_name"].to_numpy(dtype=object)
    return pd.DataFrame({
        "customer_id": purchases.customers,
        "last_purchase_day": purchases.dates(last_day),
        "last_products": _join_names(customer, product, names, n_customers).to_numpy(),
        "reminder_product_key": _labels(reminder, keys).to_numpy(),
        "reminder_product_name": _labels(reminder, names).to_numpy(),
        "reminder_date": purchases.dates(reminder_date),
        "run_out_date": purchases.dates(run_out_date),
        "recommended_product_key": _labels(recommended, keys).to_numpy(),
        "recommended_product_name": _labels(recommended, names).to_numpy(),
        "recommendation_basis": basis,
    }).astype({column: "str" for column in ("customer_id", "last_products", "reminder_product_key",
                                            "reminder_product_name", "recommended_product_key",
                                            "recommended_product_name", "recommendation_basis")})
