"""Deterministic, realistic demo order lines for three fictional Taiwanese D2C brands.

The data feeds every chart of a retention report, so it is simulated with real structure rather than
drawn at random:

* **Acquisition** - each customer's first order falls on a day drawn from the brand's daily intensity
  (calendar-month seasonality x weekday x promotion days such as 雙11 or the pre-Lunar-New-Year rush)
  times a slow growth trend, so cohorts grow slightly and have seasonal peaks.
* **Repeat purchases** - simulated one purchase number at a time for all still-active customers at once
  (vectorised: there is no Python loop over customers or rows). After each order a customer either
  buys again, drops out for good, or drops out and is *reactivated* after a long pause. The chance to
  place a second order is about one half (many one-time buyers); after that each customer has a
  personal loyalty drawn from a Beta distribution, giving a long tail of loyal customers (5-20+ orders).
* **Timing** - replenishment brands (supplements, skin care) re-order when the pack of their regular
  product runs out: gap = days one unit lasts x quantity x personal pace x noise; sometimes a cycle is
  skipped. Fashion customers ("browse" timing) buy at irregular gamma-distributed gaps around a personal
  mean. Gaps are measured in *operational time*: the calendar is warped by the daily intensity, so repeat
  orders also cluster on promotion days and in strong months (a non-homogeneous renewal process).
* **Baskets** - 1-3 lines per order (mostly 1), quantity mostly 1; first orders favour starter / trial
  items, which lead on to a full-size product; seasonal items follow their season; promotion days and
  first orders carry discounts more often.
* **Channel and contacts** - each customer has a stable main channel (官網 / LINE / 門市) with an
  occasional switch; which contact details are known depends on that channel. E-mail domains are fake.

The brand already sold for `Profile.prehistory_months` before the exported history starts, like a real
export from a shop system: the first months already contain repeat customers (and some customers seen
for the first time in the export had bought before it). Orders are simulated regardless of the window
end, so the last month is as full as any other and nothing falls after it.
"""
from __future__ import annotations

import argparse
import time
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Product:
    """One catalogue item and how customers buy it."""

    product_id: str
    name: str
    category: str
    price: float
    cycle_days: float | None = None
    """Days one unit lasts (drives replenishment timing); None for items that are not used up."""
    weight: float = 1.0
    """Popularity in repeat orders and as an add-on line."""
    starter_weight: float = 1.0
    """Popularity as the main line of a customer's first order."""
    core_weight: float = 0.0
    """Chance to become a customer's regularly replenished product (replenishment brands only)."""
    season: tuple[float, ...] = (1.0,) * 12
    """Multiplier of `weight` and `starter_weight` by calendar month (January first)."""
    follow_on: str | None = None
    """Product a first-time buyer of this item goes on to replenish (e.g. trial pack -> full size);
    by default the item itself when it has a `core_weight`."""


@dataclass(frozen=True)
class Event:
    """A multiplier on order intensity for days `start`..`end` (inclusive) relative to an anchor date.

    `anchor` is "MM-DD" (e.g. "11-11" for 雙11), "mothers_day" (second Sunday of May) or
    "lunar_new_year" (正月初一; known for 2018-2035, the event is skipped in other years).
    """

    anchor: str
    start: int
    end: int
    multiplier: float


@dataclass(frozen=True)
class Profile:
    """Everything that differs between demo brands."""

    client_id: str
    brand_name: str
    industry: str
    months: int
    """Months of exported history, ending with the requested end month."""
    prehistory_months: int
    """Months the brand sold before the exported history starts (simulated, not exported)."""
    n_customers: int
    """Customers acquired from launch to the end month at scale 1 (those with no order in the export
    do not appear)."""
    products: tuple[Product, ...]
    month_weights: tuple[float, ...]
    """Order intensity by calendar month (January first)."""
    events: tuple[Event, ...]
    channel_mix: tuple[float, float, float]
    """Share of customers whose main channel is 官網, LINE, 門市."""
    timing: Literal["replenish", "browse"]
    acquisition_growth: float = 0.15
    """Yearly growth rate of new-customer inflow."""
    second_order_prob: float = 0.5
    """Chance that a first-time buyer orders again without a long pause."""
    loyalty_beta: tuple[float, float] = (6.0, 1.4)
    """Beta(a, b) of each customer's chance to order again after the second and later orders."""
    reactivation_prob: float = 0.12
    """Chance that a customer who drops out comes back after a long pause."""
    reactivation_gap_days: tuple[int, int] = (150, 480)
    pace_median: float = 1.0
    """Median of the personal multiplier on gaps (< 1: re-order a few days before running out)."""
    pace_sigma: float = 0.15
    """Log-sd of the personal multiplier on gaps (heterogeneous purchase rates)."""
    browse_gap_days: float = 90.0
    """"browse" timing: the typical customer's mean gap between orders."""
    gap_shape: float = 14.0
    """Gamma shape of the noise on each gap (higher = more regular)."""
    skip_prob: float = 0.1
    """Replenishment: chance that a customer still has stock and skips a cycle."""
    core_line_prob: float = 0.85
    """Replenishment: chance that a repeat order's main line is the customer's regular product."""
    line_count_probs: tuple[float, float, float] = (0.72, 0.21, 0.07)
    quantity_probs: tuple[float, float, float] = (0.84, 0.12, 0.04)
    discount_prob: float = 0.08
    """Chance of a 10-20% coupon on an ordinary order."""
    promo_discount_prob: float = 0.45
    """... on an order placed on a promotion day (event multiplier >= 1.5)."""
    welcome_discount_prob: float = 0.3
    """... on a customer's first order."""
    cancel_rate: float = 0.03
    refund_rate: float = 0.02
    female_share: float = 0.65
    order_id_prefix: str = "S"


def generate_orders(client_id: str, end_month: str, *, seed: int = 40, scale: float = 1.0) -> pd.DataFrame:
    """Order lines for `client_id` from `PROFILES`, covering the `profile.months` months that end with
    `end_month` ("YYYY-MM", inclusive, last order no later than that month's last day 23:59).

    Deterministic: same (client_id, end_month, seed, scale) -> identical frame. `scale` multiplies the
    number of customers (tests use scale=0.05 for a small client). Columns: order_id, customer_id,
    order_date, amount, product_id, product_name, category, quantity, unit_price, channel, status,
    customer_name, email, phone, line_user_id; rows sorted by order_date.
    """
    if client_id not in PROFILES:
        raise KeyError(f"unknown demo client {client_id!r}; choose one of {sorted(PROFILES)}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    profile = PROFILES[client_id]
    rng = np.random.default_rng([seed, zlib.crc32(client_id.encode("utf-8"))])
    window_start, window_end = _window(end_month, profile.months)
    launch = _add_months(window_start, -profile.prehistory_months)
    calendar = _Calendar.build(profile, launch, window_start, window_end)

    customers = _simulate_customers(profile, calendar, max(1, round(profile.n_customers * scale)), rng)
    orders = _simulate_orders(profile, calendar, customers, rng)
    lines = _expand_lines(profile, calendar, orders, rng)
    return _assemble(profile, calendar, customers, orders, lines, rng)


def write_demo_data(clients_dir: Path, end_month: str, *, seed: int = 40,
                    scale: float = 1.0) -> dict[str, Path]:
    """Writes clients_dir/<id>/data/orders.parquet for each profile (creating folders), returns {id: path}."""
    return {client_id: _write_client(Path(clients_dir), client_id, end_month, seed, scale)[0]
            for client_id in PROFILES}


def _write_client(clients_dir: Path, client_id: str, end_month: str, seed: int,
                  scale: float) -> tuple[Path, pd.DataFrame]:
    path = clients_dir / client_id / "data" / "orders.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = generate_orders(client_id, end_month, seed=seed, scale=scale)
    frame.to_parquet(path, index=False)
    _invited(frame).to_csv(path.parent / "vip_invited.csv", index=False)
    return path, frame


CAMPAIGN_UPLIFT: dict[str, dict[str, float]] = {
    "demo-supplements": {"cant_lose": 0.15, "slipping": 0.15, "half_asleep": 0.08, "asleep": 0.03},
    "demo-skincare": {"slipping": 0.10},
    "demo-apparel": {},
}
"""The demo's simulated win-back effect: the chance, per target group, that a contacted customer places one
extra order in the month after the list (none for the control group; none for the due-soon reminders, which
those customers' own purchases swamp; none for apparel: its verdict must find no effect). The measured
return-rate lift is about this chance × (1 − the group's return rate without it)."""


def simulate_campaign(orders: pd.DataFrame, targets: pd.DataFrame, campaign_month: str,
                      uplift: dict[str, float], *, seed: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Adds the response to a win-back list to demo order lines, so the next report has a real effect to find.

    Each contacted customer (not control, with a channel) of a group in `uplift` places, with that chance, one
    paid order on a random day of the month after `campaign_month`: their latest line again (same product, one
    unit at its unit price, same channel and contacts), order id `CAMP-<month>-<n>`. Deterministic for
    (targets, month, seed). Returns (orders with the new lines, sorted by date; the send log: the contacted
    customers' ids, as the campaign tool would export it).
    """
    from crm_report.metrics.campaign import to_contact

    contacted = targets.loc[to_contact(targets)]
    chance = contacted["group"].map(uplift).fillna(0.0).to_numpy(dtype=float)
    rng = np.random.default_rng([seed, zlib.crc32(campaign_month.encode("utf-8"))])
    responders = contacted.loc[rng.random(len(contacted)) < chance, "customer_id"]
    latest = (orders.loc[orders["status"].eq("paid") & orders["customer_id"].isin(responders)]
              .sort_values("order_date", kind="stable").drop_duplicates("customer_id", keep="last")
              .sort_values("customer_id", kind="stable").reset_index(drop=True))
    start = pd.Period(campaign_month, freq="M") + 1
    days = rng.integers(0, start.days_in_month, len(latest))
    seconds = rng.integers(9 * 3600, 22 * 3600, len(latest))
    when = start.start_time + pd.to_timedelta(days, unit="D") + pd.to_timedelta(seconds, unit="s")
    added = latest.assign(order_id=[f"CAMP-{campaign_month}-{i + 1}" for i in range(len(latest))],
                          order_date=when.astype(orders["order_date"].dtype), quantity=1,
                          amount=latest["unit_price"])
    combined = pd.concat([orders, added], ignore_index=True).sort_values("order_date", kind="stable")
    log = pd.DataFrame({"customer_id": contacted["customer_id"].sort_values().to_numpy()})
    return combined.reset_index(drop=True), log


def simulate_campaigns(clients_dir: Path, reports_dir: Path, campaign_month: str) -> dict[str, int]:
    """`simulate_campaign` for every demo client whose report for `campaign_month` saved a target list: adds
    the responses to its orders.parquet (once: a second call changes nothing) and writes the send log
    `sent/<campaign_month>.csv`. Returns {client: orders added}."""
    from crm_report.metrics.campaign import SENT_DIR, TARGETS_FILE, load_targets

    added = {}
    for client_id, uplift in CAMPAIGN_UPLIFT.items():
        targets_path = Path(reports_dir) / client_id / campaign_month / TARGETS_FILE
        data_path = Path(clients_dir) / client_id / "data" / "orders.parquet"
        if not targets_path.is_file() or not data_path.is_file():
            continue
        orders = pd.read_parquet(data_path)
        if orders["order_id"].astype("str").str.startswith(f"CAMP-{campaign_month}-").any():
            continue
        combined, log = simulate_campaign(orders, load_targets(targets_path), campaign_month, uplift)
        combined.to_parquet(data_path, index=False)
        sent = Path(clients_dir) / client_id / SENT_DIR
        sent.mkdir(exist_ok=True)
        log.to_csv(sent / f"{campaign_month}.csv", index=False)
        added[client_id] = len(combined) - len(orders)
    return added


def _invited(frame: pd.DataFrame, share: float = 0.005) -> pd.DataFrame:
    """The brand's invitation list (e.g. 黑卡): its top `share` of customers by lifetime paid spend."""
    spend = frame.loc[frame["status"].eq("paid")].groupby("customer_id")["amount"].sum()
    top = spend.sort_values(ascending=False, kind="stable").head(max(1, round(len(spend) * share)))
    return pd.DataFrame({"customer_id": top.index.sort_values()})


# ------------------------------------------------------------------------------------------------
# Calendar: window, daily intensity and the operational-time warp
# ------------------------------------------------------------------------------------------------


def _window(end_month: str, months: int) -> tuple[date, date]:
    """First day of the exported window and the first day after it."""
    try:
        if len(end_month) != 7 or end_month[4] != "-":
            raise ValueError
        last_month = date(int(end_month[:4]), int(end_month[5:]), 1)
    except ValueError:
        raise ValueError(f"end_month must look like 'YYYY-MM', got {end_month!r}") from None
    return _add_months(last_month, 1 - months), _add_months(last_month, 1)


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _lunar_new_year(year: int) -> date | None:
    """正月初一 for the years the table covers (the festival follows the lunar calendar)."""
    table = {
        2018: (2, 16), 2019: (2, 5), 2020: (1, 25), 2021: (2, 12), 2022: (2, 1), 2023: (1, 22),
        2024: (2, 10), 2025: (1, 29), 2026: (2, 17), 2027: (2, 6), 2028: (1, 26), 2029: (2, 13),
        2030: (2, 3), 2031: (1, 23), 2032: (2, 11), 2033: (1, 31), 2034: (2, 19), 2035: (2, 8),
    }
    month_day = table.get(year)
    return date(year, *month_day) if month_day else None


def _anchor_date(anchor: str, year: int) -> date | None:
    if anchor == "lunar_new_year":
        return _lunar_new_year(year)
    if anchor == "mothers_day":
        first_may = date(year, 5, 1)
        return first_may + timedelta(days=(6 - first_may.weekday()) % 7 + 7)
    month, day = (int(part) for part in anchor.split("-"))
    return date(year, month, day)


@dataclass(frozen=True)
class _Calendar:
    """Day grid from the brand's launch to well past the window end, with intensity and time warp.

    Times are floats in days since `start` (the launch). The exported window is days
    [`window_start`, `window_end`); the grid runs on past it so that gaps jumping beyond the end can be
    computed (those orders are then dropped).
    """

    start: date
    window_start: int
    window_end: int
    month: np.ndarray
    """Calendar month (0 = January) per grid day."""
    event_factor: np.ndarray
    """Product of event multipliers per grid day."""
    intensity: np.ndarray
    """Relative order intensity per grid day, mean 1 up to the window end."""
    cumulative: np.ndarray
    """Operational time at each day boundary (grid days + 1 values)."""

    @classmethod
    def build(cls, profile: Profile, launch: date, window_start: date, window_end: date,
              buffer_days: int = 1500) -> _Calendar:
        end = (window_end - launch).days
        n_days = end + buffer_days
        days = np.arange(n_days) + np.datetime64(launch, "D")
        month = days.astype("datetime64[M]").astype(np.int64) % 12
        weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        event_factor = np.ones(n_days)
        for year in range(launch.year - 1, launch.year + n_days // 365 + 2):
            for event in profile.events:
                anchor = _anchor_date(event.anchor, year)
                if anchor is not None:
                    offset = (anchor - launch).days
                    lo, hi = max(offset + event.start, 0), min(offset + event.end + 1, n_days)
                    event_factor[lo:max(lo, hi)] *= event.multiplier
        weekday_factor = np.array([1.02, 0.98, 0.98, 1.0, 0.94, 0.98, 1.1])[weekday]  # Sunday evenings
        intensity = np.asarray(profile.month_weights)[month] * weekday_factor * event_factor
        intensity = intensity / intensity[:end].mean()
        cumulative = np.concatenate([[0.0], np.cumsum(intensity)])
        return cls(launch, (window_start - launch).days, end, month, event_factor, intensity, cumulative)

    def month_of(self, t: np.ndarray) -> np.ndarray:
        return self.month[np.clip(t.astype(np.int64), 0, len(self.month) - 1)]

    def event_of(self, t: np.ndarray) -> np.ndarray:
        return self.event_factor[np.clip(t.astype(np.int64), 0, len(self.event_factor) - 1)]

    def advance(self, t: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Time after `gap` days of operational time: busy days pass 'slowly', so orders cluster there."""
        edges = np.arange(len(self.cumulative), dtype=float)
        return np.interp(np.interp(t, edges, self.cumulative) + gap, self.cumulative, edges)


# ------------------------------------------------------------------------------------------------
# Customers and their orders
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Customers:
    """Per-customer traits, in sign-up order."""

    first_time: np.ndarray
    channel: np.ndarray
    """Main channel: 0 官網, 1 LINE, 2 門市."""
    pace: np.ndarray
    loyalty: np.ndarray
    core: np.ndarray
    """Index of the regularly replenished product at sign-up (-1 when none)."""
    has_email: np.ndarray
    has_phone: np.ndarray
    has_line: np.ndarray


@dataclass(frozen=True)
class _Orders:
    """One entry per exported order (unsorted)."""

    customer: np.ndarray
    time: np.ndarray
    number: np.ndarray
    """0 for a customer's first order ever, 1 for the second, ..."""
    product: np.ndarray
    """Main line's product."""
    quantity: np.ndarray
    """Main line's quantity."""
    channel: np.ndarray


def _product_matrix(profile: Profile, attribute: str) -> np.ndarray:
    """12 x products matrix: each product's `attribute` weight times its monthly season."""
    base = np.array([getattr(p, attribute) for p in profile.products], dtype=float)
    return np.array([p.season for p in profile.products], dtype=float).T * base


def _choose_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column index per row of a (rows x columns) weight matrix."""
    cumulative = weights.cumsum(axis=1)
    u = rng.random(len(weights)) * cumulative[:, -1]
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), weights.shape[1] - 1)


def _draw_core(profile: Profile, rng: np.random.Generator, n: int) -> np.ndarray:
    """Regular products for `n` customers by `core_weight` (-1 for brands without replenishment)."""
    weights = np.array([p.core_weight for p in profile.products], dtype=float)
    if profile.timing != "replenish" or weights.sum() <= 0:
        return np.full(n, -1)
    return rng.choice(weights.size, size=n, p=weights / weights.sum())


def _simulate_customers(profile: Profile, calendar: _Calendar, n: int,
                        rng: np.random.Generator) -> _Customers:
    """First-order times (growing, seasonal inflow) and the personal traits of each customer."""
    days = np.arange(calendar.window_end)
    trend = np.exp(np.log1p(profile.acquisition_growth) * days / 365.0)
    acquisition = trend * calendar.intensity[: days.size]  # promotion days and strong months recruit more
    first_day = rng.choice(days.size, size=n, p=acquisition / acquisition.sum())
    channel = rng.choice(3, size=n, p=np.asarray(profile.channel_mix) / sum(profile.channel_mix))
    # which contact details are known depends on the main channel (官網, LINE, 門市):
    # LINE buyers always have a LINE id, store members usually register with their phone
    return _Customers(
        first_time=np.sort(first_day + rng.random(n)),
        channel=channel,
        pace=profile.pace_median * rng.lognormal(0.0, profile.pace_sigma, size=n),
        loyalty=rng.beta(*profile.loyalty_beta, size=n),
        core=_draw_core(profile, rng, n),
        has_email=rng.random(n) < np.array([0.97, 0.72, 0.65])[channel],
        has_phone=rng.random(n) < np.array([0.76, 0.78, 0.92])[channel],
        has_line=rng.random(n) < np.array([0.37, 1.0, 0.35])[channel],
    )


def _follow_on_index(profile: Profile) -> np.ndarray:
    """Per product: index of the product a first-time buyer goes on to replenish, or -1."""
    position = {p.product_id: i for i, p in enumerate(profile.products)}
    return np.array([position[p.follow_on] if p.follow_on else (i if p.core_weight > 0 else -1)
                     for i, p in enumerate(profile.products)])


def _simulate_orders(profile: Profile, calendar: _Calendar, customers: _Customers,
                     rng: np.random.Generator) -> _Orders:
    """Every customer's orders, simulated one purchase number at a time; returns those in the window.

    Purchase number k for all customers still active: pick the main line (first orders: starter mix;
    later: the regular product or the seasonal repeat mix), decide whether the customer goes on,
    drops out, or drops out and comes back after a long pause, and schedule the next order.
    """
    starter = _product_matrix(profile, "starter_weight")
    repeat = _product_matrix(profile, "weight")
    follow_on = _follow_on_index(profile)
    quantity_p = np.asarray(profile.quantity_probs) / sum(profile.quantity_probs)
    core = customers.core.copy()

    active = np.arange(customers.first_time.size)
    t = customers.first_time.copy()
    parts: list[tuple[np.ndarray, ...]] = []
    number = 0
    while active.size:
        month = calendar.month_of(t)
        if number == 0:
            product = _choose_rows(rng, starter[month])
            adopt = (follow_on[product] >= 0) & (rng.random(active.size) < 0.7)  # keep what they tried
            core[active[adopt]] = follow_on[product[adopt]]
        else:
            product = _choose_rows(rng, repeat[month])
            regular = (core[active] >= 0) & (rng.random(active.size) < profile.core_line_prob)
            product = np.where(regular, core[active], product)
        quantity = 1 + rng.choice(3, size=active.size, p=quantity_p)
        parts.append((active, t, np.full(active.size, number), product, quantity))

        goes_on = rng.random(active.size) < (
            profile.second_order_prob if number == 0 else customers.loyalty[active])
        comes_back = ~goes_on & (rng.random(active.size) < profile.reactivation_prob)
        gap = _next_gap(profile, customers.pace[active], core[active], product, quantity, rng)
        gap += comes_back * rng.uniform(*profile.reactivation_gap_days, size=active.size)
        next_t = calendar.advance(t, gap)

        # tastes drift a little, and more over a long pause
        switch = rng.random(active.size) < np.where(comes_back, 0.4, 0.03)
        core[active[switch]] = _draw_core(profile, rng, int(switch.sum()))

        stay = (goes_on | comes_back) & (next_t < calendar.window_end)
        active, t = active[stay], next_t[stay]
        number += 1

    customer, times, numbers, product, quantity = (np.concatenate(column) for column in zip(*parts, strict=True))
    exported = times >= calendar.window_start
    customer = customer[exported]
    return _Orders(customer, times[exported], numbers[exported], product[exported], quantity[exported],
                   _order_channels(customers, customer, rng))


def _next_gap(profile: Profile, pace: np.ndarray, core: np.ndarray, product: np.ndarray,
              quantity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Operational days until each active customer's next order."""
    noise = rng.gamma(profile.gap_shape, 1.0 / profile.gap_shape, size=pace.size)
    if profile.timing == "browse":
        return np.maximum(profile.browse_gap_days * pace * noise, 4.0)
    cycle = np.array([p.cycle_days or 0.0 for p in profile.products])
    regular_cycle = np.where(core >= 0, cycle[np.maximum(core, 0)], 30.0)
    # the pack bought now lasts cycle x quantity; gifts and other durables fall back on the regular cycle
    lasts = np.where(cycle[product] > 0, cycle[product] * quantity, regular_cycle)
    skipped = rng.random(pace.size) < profile.skip_prob
    lasts = lasts + skipped * regular_cycle * rng.uniform(0.6, 1.1, size=pace.size)
    return np.maximum(lasts * pace * noise, 3.0)


def _order_channels(customers: _Customers, customer: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mostly the customer's main channel; 8% of orders go through another (LINE only with a LINE id)."""
    main = customers.channel[customer]
    other = (main + rng.integers(1, 3, size=customer.size)) % 3
    other = np.where((other == 1) & ~customers.has_line[customer], 0, other)
    return np.where(rng.random(customer.size) < 0.08, other, main)


def _expand_lines(profile: Profile, calendar: _Calendar, orders: _Orders,
                  rng: np.random.Generator) -> pd.DataFrame:
    """Order lines: each order's main line plus 0-2 seasonal add-ons, at most one line per product."""
    n_orders = orders.customer.size
    line_count_p = np.asarray(profile.line_count_probs) / sum(profile.line_count_probs)
    extra_order = np.repeat(np.arange(n_orders), rng.choice(3, size=n_orders, p=line_count_p))
    add_on_weights = _product_matrix(profile, "weight")[calendar.month_of(orders.time[extra_order])]
    add_on = _choose_rows(rng, add_on_weights)
    quantity_p = np.asarray(profile.quantity_probs) / sum(profile.quantity_probs)
    lines = pd.DataFrame({
        "order": np.concatenate([np.arange(n_orders), extra_order]),
        "product": np.concatenate([orders.product, add_on]),
        "quantity": np.concatenate([orders.quantity, 1 + rng.choice(3, size=extra_order.size, p=quantity_p)]),
    })
    return lines.drop_duplicates(["order", "product"], keep="first").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# Output frame: ids, timestamps, prices, statuses and contact details
# ------------------------------------------------------------------------------------------------


def _assemble(profile: Profile, calendar: _Calendar, customers: _Customers, orders: _Orders,
              lines: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The canonical frame, one row per line, sorted by time; order ids increase with time."""
    n_orders = orders.customer.size
    timestamp = _timestamps(calendar, orders, rng)
    rank = np.empty(n_orders, dtype=np.int64)
    rank[np.argsort(timestamp, kind="stable")] = np.arange(n_orders)
    serial = 1_000_000 + np.cumsum(rng.integers(1, 4, size=n_orders))  # gaps: test and deleted orders
    order_id = profile.order_id_prefix + pd.Series(serial[rank]).astype("str").str.zfill(9)
    cancelled = rng.random(n_orders) < profile.cancel_rate
    refunded = ~cancelled & (rng.random(n_orders) < profile.refund_rate / (1 - profile.cancel_rate))
    status = np.where(cancelled, "cancelled", np.where(refunded, "refunded", "paid"))
    contacts = _contacts(profile, customers, rng)

    order = lines["order"].to_numpy()
    product = lines["product"].to_numpy()
    customer = orders.customer[order]
    unit_price = np.array([p.price for p in profile.products], dtype=float)[product]
    quantity = lines["quantity"].to_numpy().astype(np.int64)
    discount = _order_discounts(profile, calendar, orders, rng)[order]
    frame = pd.DataFrame({
        "order_id": order_id.to_numpy()[order],
        "customer_id": contacts["customer_id"][customer],
        "order_date": timestamp[order],
        "amount": np.round(quantity * unit_price * (1.0 - discount)),
        "product_id": np.array([p.product_id for p in profile.products])[product],
        "product_name": np.array([p.name for p in profile.products])[product],
        "category": np.array([p.category for p in profile.products])[product],
        "quantity": quantity,
        "unit_price": unit_price,
        "channel": np.array(["官網", "LINE", "門市"])[orders.channel[order]],
        "status": status[order],
        **{field: contacts[field][customer] for field in ("customer_name", "email", "phone", "line_user_id")},
    })
    frame = frame.iloc[np.argsort(rank[order], kind="stable")].reset_index(drop=True)
    numeric = {"order_date": "datetime64[ns]", "amount": "float64", "quantity": "int64",
               "unit_price": "float64"}
    return frame.astype({column: numeric.get(column, "str") for column in frame.columns})


def _timestamps(calendar: _Calendar, orders: _Orders, rng: np.random.Generator) -> np.ndarray:
    """Order day from the simulated time; the hour by channel (online peaks 20-23h, stores 11:00-21:30)."""
    online_hours = np.array([2.5, 1.5, 0.8, 0.4, 0.3, 0.3, 0.6, 1.5, 2.5, 3.0, 3.5, 4.0,
                             5.0, 4.5, 3.8, 3.8, 3.8, 4.0, 4.2, 5.0, 7.0, 8.5, 8.0, 5.5])
    store_hours = np.zeros(24)
    store_hours[11:22] = [3.0, 5.0, 6.0, 6.0, 6.0, 6.5, 7.0, 7.0, 7.5, 6.0, 2.0]
    n = orders.customer.size
    in_store = orders.channel == 2
    hour = np.where(in_store, rng.choice(24, size=n, p=store_hours / store_hours.sum()),
                    rng.choice(24, size=n, p=online_hours / online_hours.sum()))
    minute = np.where(in_store & (hour == 21), rng.integers(0, 30, n), rng.integers(0, 60, n))
    seconds = (np.floor(orders.time).astype(np.int64) * 86_400 + hour * 3_600 + minute * 60
               + rng.integers(0, 60, n))
    return np.datetime64(calendar.start, "ns") + seconds.astype("timedelta64[s]")


def _order_discounts(profile: Profile, calendar: _Calendar, orders: _Orders,
                     rng: np.random.Generator) -> np.ndarray:
    """Per-order discount rate (applied to every line): promotion days, welcome and ordinary coupons."""
    n = orders.customer.size
    chance = np.where(calendar.event_of(orders.time) >= 1.5, profile.promo_discount_prob,
                      np.where(orders.number == 0, profile.welcome_discount_prob, profile.discount_prob))
    rate = rng.choice([0.1, 0.15, 0.2], size=n, p=[0.55, 0.3, 0.15])
    return np.where(rng.random(n) < chance, rate, 0.0)


def _name_tables() -> tuple[tuple[tuple[str, str, float], ...], tuple[tuple[str, str], ...],
                            tuple[tuple[str, str], ...]]:
    """Surnames (character, passport romanisation, % of Taiwan's population), female and male given names."""
    surnames = (
        ("陳", "chen", 11.1), ("林", "lin", 8.3), ("黃", "huang", 6.0), ("張", "chang", 5.3),
        ("李", "lee", 5.1), ("王", "wang", 4.1), ("吳", "wu", 4.0), ("劉", "liu", 3.2), ("蔡", "tsai", 2.9),
        ("楊", "yang", 2.7), ("許", "hsu", 2.3), ("鄭", "cheng", 1.9), ("謝", "hsieh", 1.8),
        ("郭", "kuo", 1.7), ("洪", "hung", 1.5), ("邱", "chiu", 1.5), ("曾", "tseng", 1.4),
        ("廖", "liao", 1.3), ("賴", "lai", 1.3), ("徐", "hsu", 1.3), ("周", "chou", 1.2), ("葉", "yeh", 1.2),
        ("蘇", "su", 1.2), ("莊", "chuang", 0.9), ("呂", "lu", 0.9), ("江", "chiang", 0.9), ("何", "ho", 0.8),
        ("蕭", "hsiao", 0.8), ("羅", "lo", 0.8), ("高", "kao", 0.8), ("潘", "pan", 0.6), ("簡", "chien", 0.6),
        ("朱", "chu", 0.6), ("鍾", "chung", 0.6), ("彭", "peng", 0.5), ("游", "yu", 0.5), ("詹", "chan", 0.5),
        ("胡", "hu", 0.5), ("施", "shih", 0.5), ("沈", "shen", 0.5),
    )
    female = (
        ("怡君", "yichun"), ("雅婷", "yating"), ("淑芬", "shufen"), ("佩珊", "peishan"), ("欣怡", "hsinyi"),
        ("詩涵", "shihhan"), ("雅雯", "yawen"), ("婉婷", "wanting"), ("靜怡", "chingyi"), ("美玲", "meiling"),
        ("淑惠", "shuhui"), ("宜蓁", "yichen"), ("思妤", "szuyu"), ("品妍", "pinyen"), ("子晴", "tzuching"),
        ("芷涵", "chihhan"), ("郁婷", "yuting"), ("佳穎", "chiaying"), ("雅琪", "yachi"), ("惠雯", "huiwen"),
        ("筱涵", "hsiaohan"), ("家瑜", "chiayu"), ("映彤", "yingtung"), ("心怡", "hsinyi"), ("秀英", "hsiuying"),
        ("麗華", "lihua"), ("宜庭", "yiting"), ("怡萱", "yihsuan"), ("曉雯", "hsiaowen"), ("佳蓉", "chiajung"),
    )
    male = (
        ("家豪", "chiahao"), ("志明", "chihming"), ("俊傑", "chunchieh"), ("宗翰", "tsunghan"),
        ("冠宇", "kuanyu"), ("承恩", "chengen"), ("建宏", "chienhung"), ("志豪", "chihhao"),
        ("家瑋", "chiawei"), ("彥廷", "yenting"), ("柏翰", "pohan"), ("宇軒", "yuhsuan"),
        ("冠廷", "kuanting"), ("俊宏", "chunhung"), ("信宏", "hsinhung"), ("文彬", "wenpin"),
        ("振宇", "chenyu"), ("哲瑋", "chewei"), ("育誠", "yucheng"), ("明哲", "mingche"),
        ("凱文", "kaiwen"), ("士傑", "shihchieh"), ("品睿", "pinjui"), ("子翔", "tzuhsiang"),
    )
    return surnames, female, male


def _contacts(profile: Profile, customers: _Customers, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Customer ids (in sign-up order), Chinese names and contact details; unknown details are missing."""
    n = customers.first_time.size
    surnames, female, male = _name_tables()
    shares = np.array([share for _, _, share in surnames])
    surname = rng.choice(len(surnames), size=n, p=shares / shares.sum())
    given = np.where(rng.random(n) < profile.female_share, rng.integers(0, len(female), n),
                     len(female) + rng.integers(0, len(male), n))
    surname_zh, surname_en = (np.array(column)[surname]
                              for column in zip(*((s, r) for s, r, _ in surnames), strict=True))
    given_zh, given_en = (np.array(column)[given] for column in zip(*(female + male), strict=True))

    serial = pd.Series(1_000 + np.cumsum(rng.integers(1, 4, size=n))).astype("str")  # gaps: non-buyers
    first, last = pd.Series(given_en), pd.Series(surname_en)
    two_digits = pd.Series(rng.integers(10, 100, n)).astype("str")
    birth_year = pd.Series(rng.integers(1965, 2006, n) % 100).astype("str").str.zfill(2)
    style = rng.integers(0, 4, n)
    local = pd.Series(np.select(
        [style == 0, style == 1, style == 2],
        [first + "." + last + two_digits, last + first + birth_year,
         first.str[0] + last + two_digits + birth_year],
        first + "_" + last))
    local = local.where(~local.duplicated(), local + "." + serial)
    domains = np.array(["example.com", "example.com.tw", "mail.example.net", "example.org"])
    email = local + "@" + domains[rng.choice(domains.size, size=n, p=[0.4, 0.3, 0.2, 0.1])]
    phone = "09" + pd.Series(rng.choice(100_000_000, size=n, replace=False)).astype("str").str.zfill(8)
    hex_digits = np.array(list("0123456789abcdef"))[rng.integers(0, 16, size=(n, 32))]
    line_user_id = "U" + pd.Series(np.ascontiguousarray(hex_digits).view("<U32")[:, 0])
    return {
        "customer_id": ("C" + serial.str.zfill(7)).to_numpy(),
        "customer_name": np.char.add(surname_zh, given_zh),
        "email": email.where(customers.has_email).to_numpy(),
        "phone": phone.where(customers.has_phone).to_numpy(),
        "line_user_id": line_user_id.where(customers.has_line).to_numpy(),
    }


# ------------------------------------------------------------------------------------------------
# Brand profiles
# ------------------------------------------------------------------------------------------------


def _build_profiles() -> dict[str, Profile]:
    """The three demo brands. Product tuples: (id, name, category, price NT$, days one unit lasts)."""
    summer = (0.15, 0.2, 0.4, 0.8, 1.5, 1.9, 1.9, 1.5, 0.8, 0.3, 0.15, 0.15)
    winter = (1.7, 1.0, 0.4, 0.15, 0.05, 0.03, 0.03, 0.1, 0.4, 1.3, 1.9, 2.0)
    spring_autumn = (0.6, 0.9, 1.3, 1.3, 0.8, 0.4, 0.3, 0.5, 1.2, 1.4, 1.0, 0.7)
    sunny = (0.4, 0.5, 0.8, 1.1, 1.5, 1.8, 1.8, 1.6, 1.2, 0.8, 0.5, 0.4)
    gifts_new_year_mothers_moon = (3.0, 2.0, 0.3, 0.4, 1.8, 0.3, 0.3, 0.6, 1.8, 0.5, 0.6, 1.0)
    gifts_mothers_year_end = (0.5, 0.3, 0.2, 0.3, 2.5, 0.4, 0.3, 0.3, 0.3, 0.5, 3.0, 3.5)

    supplements = Profile(
        client_id="demo-supplements", brand_name="沛活營養 VitaPeak", industry="保健食品",
        months=36, prehistory_months=18, n_customers=15_500,
        products=(
            Product("PH-MV60", "綜合維他命 60錠", "基礎保健", 790, 30,
                    weight=1.2, starter_weight=2.0, core_weight=2.2),
            Product("PH-FO90", "魚油 Omega-3 90粒", "基礎保健", 1180, 30,
                    weight=1.0, starter_weight=1.2, core_weight=1.8),
            Product("PH-BC60", "B群 60錠", "基礎保健", 590, 60, weight=1.0, starter_weight=1.0, core_weight=0.8),
            Product("PH-CD60", "鈣+D3 咀嚼錠 60錠", "基礎保健", 690, 30,
                    weight=0.6, starter_weight=0.5, core_weight=0.6),
            Product("PH-TM60", "薑黃 60粒", "基礎保健", 990, 30, weight=0.5, starter_weight=0.4, core_weight=0.5),
            Product("PH-PB30", "益生菌 30包", "腸道保健", 990, 30, weight=1.2, starter_weight=0.8, core_weight=1.8),
            Product("PH-PB07", "益生菌 體驗包 7包", "腸道保健", 199, 7,
                    weight=0.2, starter_weight=2.5, follow_on="PH-PB30"),
            Product("PH-DF30", "膳食纖維飲 30包", "腸道保健", 690, 30,
                    weight=0.6, starter_weight=0.4, core_weight=0.4),
            Product("PH-LT60", "葉黃素 60粒", "護眼保健", 1080, 60, weight=0.9, starter_weight=0.9, core_weight=1.0),
            Product("PH-AX30", "蝦紅素 30粒", "護眼保健", 890, 30, weight=0.4, starter_weight=0.3, core_weight=0.4),
            Product("PH-CP30", "膠原蛋白粉 30入", "美容保養", 1280, 30,
                    weight=1.0, starter_weight=1.0, core_weight=1.3),
            Product("PH-HA30", "玻尿酸膠囊 30粒", "美容保養", 990, 30,
                    weight=0.5, starter_weight=0.4, core_weight=0.5),
            Product("PH-GB03", "保健禮盒 三入組", "禮盒組", 2680,
                    weight=0.25, starter_weight=0.4, season=gifts_new_year_mothers_moon),
        ),
        month_weights=(1.08, 0.95, 0.97, 0.97, 1.03, 0.98, 0.96, 0.97, 1.0, 0.98, 1.1, 1.05),
        events=(
            Event("lunar_new_year", -21, -3, 1.35), Event("lunar_new_year", -2, 3, 0.55),
            Event("mothers_day", -10, -1, 1.25), Event("06-18", 0, 0, 1.6), Event("08-08", -3, 0, 1.2),
            Event("11-11", -3, -1, 1.2), Event("11-11", 0, 0, 3.0), Event("12-12", 0, 0, 1.8),
        ),
        channel_mix=(0.55, 0.30, 0.15), timing="replenish", acquisition_growth=0.12,
        second_order_prob=0.45, loyalty_beta=(7.0, 1.3), reactivation_prob=0.12,
        pace_median=0.93, pace_sigma=0.1, gap_shape=20.0, skip_prob=0.06, core_line_prob=0.92,
        female_share=0.62, order_id_prefix="S",
    )

    skincare = Profile(
        client_id="demo-skincare", brand_name="霧光保養 Lumi Mist", industry="保養品",
        months=32, prehistory_months=12, n_customers=12_000,
        products=(
            Product("MG-CL120", "胺基酸洗面乳 120ml", "潔顏", 480, 60,
                    weight=1.2, starter_weight=1.0, core_weight=1.2),
            Product("MG-OC150", "溫和卸妝油 150ml", "潔顏", 680, 60,
                    weight=0.7, starter_weight=0.5, core_weight=0.6),
            Product("MG-TN200", "玻尿酸保濕化妝水 200ml", "保濕", 880, 60,
                    weight=1.3, starter_weight=1.2, core_weight=1.8),
            Product("MG-EM100", "神經醯胺修護乳液 100ml", "保濕", 980, 60,
                    weight=1.0, starter_weight=0.8, core_weight=1.2),
            Product("MG-VC30", "維他命C亮白精華液 30ml", "精華", 1680, 45,
                    weight=1.1, starter_weight=0.9, core_weight=1.6),
            Product("MG-RA30", "A醇煥膚精華 30ml", "精華", 1880, 60,
                    weight=0.6, starter_weight=0.4, core_weight=0.7),
            Product("MG-EY15", "緊緻眼霜 15ml", "精華", 1480, 75, weight=0.6, starter_weight=0.4, core_weight=0.6),
            Product("MG-SS50", "輕透防曬乳 SPF50+ 50ml", "防曬", 780, 45,
                    weight=1.0, starter_weight=0.9, core_weight=0.5, season=sunny),
            Product("MG-MK05", "保濕面膜 5入", "面膜", 580, 30, weight=1.0, starter_weight=0.8),
            Product("MG-TR01", "旅行體驗組", "體驗組", 590, 21,
                    weight=0.1, starter_weight=2.5, follow_on="MG-TN200"),
            Product("MG-GS01", "經典保養禮盒", "禮盒", 2400,
                    weight=0.35, starter_weight=0.5, season=gifts_mothers_year_end),
        ),
        month_weights=(0.95, 0.85, 0.95, 0.95, 1.1, 1.0, 1.0, 0.95, 0.92, 0.98, 1.2, 1.15),
        events=(
            Event("lunar_new_year", -2, 3, 0.6), Event("mothers_day", -14, -1, 1.35),
            Event("06-18", 0, 0, 1.8), Event("11-11", -5, -1, 1.25), Event("11-11", 0, 0, 4.0),
            Event("12-12", 0, 0, 2.0), Event("12-24", -10, -1, 1.2),
        ),
        channel_mix=(0.52, 0.33, 0.15), timing="replenish", acquisition_growth=0.12,
        second_order_prob=0.47, loyalty_beta=(6.0, 1.4), reactivation_prob=0.12,
        pace_median=0.92, pace_sigma=0.15, gap_shape=12.0, skip_prob=0.1, core_line_prob=0.85,
        line_count_probs=(0.66, 0.25, 0.09), female_share=0.86, order_id_prefix="M",
    )

    apparel = Profile(
        client_id="demo-apparel", brand_name="Formosa Threads 福爾摩沙織物", industry="服飾",
        months=28, prehistory_months=12, n_customers=11_000,
        products=(
            Product("FT-TS01", "有機棉短袖T恤", "上衣", 590, weight=1.5, starter_weight=1.8, season=summer),
            Product("FT-HD01", "連帽衛衣", "上衣", 1180, weight=1.0, starter_weight=0.9, season=winter),
            Product("FT-LS01", "亞麻襯衫", "襯衫", 1480, weight=1.0, starter_weight=0.8, season=summer),
            Product("FT-OX01", "牛津長袖襯衫", "襯衫", 1280, weight=0.8, starter_weight=0.6, season=spring_autumn),
            Product("FT-JN01", "直筒牛仔褲", "褲裝", 1680, weight=1.0, starter_weight=0.9),
            Product("FT-LP01", "亞麻寬褲", "褲裝", 1380, weight=0.8, starter_weight=0.6, season=summer),
            Product("FT-SH01", "棉麻短褲", "褲裝", 890, weight=0.8, starter_weight=0.7, season=summer),
            Product("FT-DJ01", "輕量羽絨外套", "外套", 2980, weight=1.0, starter_weight=0.8, season=winter),
            Product("FT-TC01", "防潑水風衣", "外套", 2480, weight=0.7, starter_weight=0.5, season=spring_autumn),
            Product("FT-KN01", "針織毛衣", "針織", 1580, weight=1.0, starter_weight=0.8, season=winter),
            Product("FT-SC01", "羊毛圍巾", "配件", 790, weight=0.6, starter_weight=0.5, season=winter),
            Product("FT-TB01", "帆布托特包", "配件", 690, weight=0.6, starter_weight=1.4),
            Product("FT-SK03", "機能襪三入組", "配件", 390, weight=0.8, starter_weight=0.8),
        ),
        month_weights=(1.1, 0.75, 0.85, 0.95, 1.05, 1.1, 1.0, 0.8, 0.8, 1.0, 1.35, 1.3),
        events=(
            Event("lunar_new_year", -20, -3, 1.4), Event("lunar_new_year", -2, 3, 0.5),
            Event("06-18", 0, 0, 2.5), Event("07-01", 0, 13, 1.25),
            Event("11-11", -4, -1, 1.4), Event("11-11", 0, 0, 6.0), Event("11-11", 1, 3, 1.3),
            Event("12-12", 0, 0, 3.0), Event("12-20", 0, 11, 1.5),
        ),
        channel_mix=(0.58, 0.27, 0.15), timing="browse", acquisition_growth=0.2,
        second_order_prob=0.46, loyalty_beta=(5.0, 1.4), reactivation_prob=0.1,
        browse_gap_days=100.0, gap_shape=2.2, pace_sigma=0.35,
        line_count_probs=(0.6, 0.28, 0.12), quantity_probs=(0.85, 0.12, 0.03),
        discount_prob=0.12, promo_discount_prob=0.7, cancel_rate=0.035, refund_rate=0.028,
        female_share=0.6, order_id_prefix="F",
    )
    return {profile.client_id: profile for profile in (supplements, skincare, apparel)}


PROFILES: dict[str, Profile] = _build_profiles()


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write orders.parquet for each demo client.")
    parser.add_argument("--clients-dir", type=Path, default=Path("clients"))
    parser.add_argument("--end-month", default=_add_months(date.today().replace(day=1), -1).strftime("%Y-%m"),
                        help="last month of data, YYYY-MM (default: the last complete month)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the number of customers")
    parser.add_argument("--seed", type=int, default=40)
    parser.add_argument("--simulate-campaign", metavar="YYYY-MM",
                        help="instead of writing data: add the simulated response to the win-back list that the "
                             "reports of this month saved, and its send log (see CAMPAIGN_UPLIFT)")
    parser.add_argument("--reports-dir", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    if args.simulate_campaign:
        for client_id, n in simulate_campaigns(args.clients_dir, args.reports_dir, args.simulate_campaign).items():
            print(f"{client_id}: {n:,} orders answering the {args.simulate_campaign} win-back list; send log in "
                  f"{args.clients_dir / client_id / 'sent'}")
        return
    for client_id in PROFILES:
        began = time.perf_counter()
        path, frame = _write_client(args.clients_dir, client_id, args.end_month, args.seed, args.scale)
        print(f"{client_id}: {len(frame):,} rows, {frame['order_id'].nunique():,} orders, "
              f"{frame['customer_id'].nunique():,} customers -> {path} ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    _main()
