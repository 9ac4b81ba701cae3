"""What each section means ("so what") and the action it points to, chosen from the section's own numbers.

Each function returns a list of conclusions, each {"key": the sentence (locale `so_what.<section>.<key>`),
"params": {name: [format, value]}, "action": the action sentence's key or None}. Formats are those of
`formatting.value` (number, pct, points, relative, money, money_short, text, segments, stage). Templates only word them;
which sentence applies is decided here, by these rules (thresholds are the module constants):

- **acquisition**: new customers against the same month last year, when that month had some, the change is
  beyond chance (`beyond_chance`) and the month is whole (in a partial month no comparison is made): fewer →
  review acquisition; more → the next job is their second purchase.
  Otherwise by who brings the revenue: returning customers' share ≥ `RETURNING_LED` → keep them coming back;
  below → turn new customers into repeat customers.
- **repurchase**: nobody bought twice → say so. Otherwise the latest cohorts' second-purchase share at the
  headline window against the same months a year earlier: better or worse when the difference exceeds
  `CHANCE_Z` standard errors (√(p(1 − p)(1/n₁ + 1/n₀)), n = customers still observed at that day, p pooled),
  else similar; the action is the reminder window: between the 25th and 75th percentile of the days
  between purchases.
- **products**: the entry product whose first buyers come back most, among the table's products whose rate
  is above the baseline by more than chance (more than `CHANCE_Z` × √(p(1 − p)/n), p the baseline, n the
  product's first buyers) → feature it to new customers; none → say no product clearly beats the baseline;
  and, only when the client has consumables, how many products have a replenishment cycle (their buyers are
  on the due-soon list). No refill advice without consumables.
- **segments**: the segments with the highest revenue per customer, taken in that order until they bring at
  least `CONCENTRATION` of revenue, with their share of customers → look after them first.
- **lifecycle**: the largest move this month from an active stage (N, E0) into a lapsed one (S1–S3) →
  they are on this month's list; no such move → the base is steady. In a partial month neither is said
  (customers who would have bought in the missing days show as lapsed): only that the moves set part of a
  month against a whole one.
- **value**: the model's track record (`clv.backtest_verdict`): accurate → rank by predicted value;
  over / under → read the predictions as an upper / lower bound; untested → not checked yet.
- **winback**: the plan (`economics.plan_totals`): contact the recommended groups for the expected profit,
  and name how many customers are left out because contacting them would not pay.
"""
from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np
import pandas as pd

RETURNING_LED = 0.6
CONCENTRATION = 0.5
CHANCE_Z = 2.0
ACTIVE_STAGES = ("N", "E0")
LAPSED_STAGES = ("S1", "S2", "S3")


def _c(key: str, action: str | None = None, /, **params: tuple[str, object]) -> dict[str, object]:
    return {"key": key, "action": action, "params": {name: [kind, value] for name, (kind, value) in params.items()}}


def beyond_chance(now: float, before: float, z: float = CHANCE_Z) -> bool:
    """Whether two counts (e.g. customers in two months) differ by more than chance: |now − before| >
    z √(now + before), the difference of two Poisson counts at about 95% for z = 2."""
    return now + before > 0 and abs(now - before) > z * math.sqrt(now + before)


def acquisition(kpis: pd.DataFrame, partial: bool = False) -> list[dict[str, object]]:
    """`acquisition.month_kpis` of the report month; `partial`: the month's data end early (no comparison)."""
    row = kpis.set_index("kpi")
    new, last_year = float(row.at["new_customers", "value"]), float(row.at["new_customers", "last_year"])
    share = float(row.at["returning_revenue_share", "value"])
    if not partial and last_year > 0 and beyond_chance(new, last_year):  # no base a year ago: no change
        change = (new - last_year) / last_year
        return [_c("new_down" if new < last_year else "new_up",
                   "review_acquisition" if new < last_year else "second_purchase",
                   change=("relative", change), n=("number", new))]
    if np.isnan(share):
        return []
    return [_c("returning_led" if share >= RETURNING_LED else "new_led",
               "keep_returning" if share >= RETURNING_LED else "second_purchase", share=("pct", share))]


def shares_differ(p1: float, n1: float, p0: float, n0: float, z: float = CHANCE_Z) -> bool:
    """Whether two shares (of n₁ and n₀ people) differ by more than chance: |p₁ − p₀| > z √(p(1 − p)(1/n₁ +
    1/n₀)), p pooled; never with nobody on one side."""
    if not (n1 and n0):
        return False
    pooled = (p1 * n1 + p0 * n0) / (n1 + n0)
    return abs(p1 - p0) > z * math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))


def repurchase(curves: dict[str, pd.DataFrame], window: int, intervals: dict[str, float]) -> list[dict[str, object]]:
    """`curves`: `repurchase.second_purchase_curve` of the latest cohorts and a year earlier ("latest",
    "year_ago"); `window`: the headline days; `intervals`: `repurchase.interval_summary`."""
    if not intervals.get("count"):
        return [_c("no_repeat")]
    out = []
    change = second_purchase_change(curves, window)
    if change is not None:
        key, p1, p0 = change
        out.append(_c(key, days=("number", window), rate=("pct", p1), before=("pct", p0), diff=("points", p1 - p0)))
    out.append(_c("timing", "remind", q25=("number", intervals["q25"]), q75=("number", intervals["q75"])))
    return out


def second_purchase_change(curves: dict[str, pd.DataFrame], window: int) -> tuple[str, float, float] | None:
    """The latest cohorts' second-purchase share at `window` days against a year earlier's: ("better" |
    "worse" | "similar", latest share, earlier share), or None when either share is unknown (too few
    customers observed that long). Better or worse only beyond `CHANCE_Z` standard errors of the difference,
    √(p(1 − p)(1/n₁ + 1/n₀)), n = customers still observed at that day, p pooled."""
    at = {key: curve.set_index("day").reindex([window]).iloc[0] for key, curve in curves.items()}
    latest, before = at.get("latest"), at.get("year_ago")
    if latest is None or before is None or not (latest.notna()["share"] and before.notna()["share"]):
        return None
    p1, p0 = float(latest["share"]), float(before["share"])
    differ = shares_differ(p1, float(latest["at_risk"]), p0, float(before["at_risk"]))
    return ("better" if p1 > p0 else "worse") if differ else "similar", p1, p0


def products(first_table: pd.DataFrame, baseline_rate: float, consumables: int,
             window_days: int) -> list[dict[str, object]]:
    """`products.first_product_table`, the baseline repeat rate, the number of consumables."""
    out = []
    above = first_table.loc[first_table["above_baseline"]]
    if len(above):
        best = above.sort_values(["rate", "customers"], ascending=False, kind="stable").iloc[0]
        out.append(_c("entry_product", "feature_entry", product=("text", best["product_name"]),
                      rate=("pct", best["rate"]), baseline=("pct", baseline_rate), days=("number", window_days)))
    elif len(first_table):
        out.append(_c("no_entry_product", baseline=("pct", baseline_rate)))
    if consumables:
        out.append(_c("refills", "due_soon", n=("number", consumables)))
    return out


def segments(table: pd.DataFrame, recent: Collection[str] = ()) -> list[dict[str, object]]:
    """`rfm.summarise_groups` by segment: the segments spending most per customer, taken in that order until
    they hold `CONCENTRATION` of revenue. The action is to keep them buying within their cycle when all of them
    are `recent` (`rfm.RECENT_SEGMENTS`: within their purchase cycle by construction); when some are already
    past it (At risk, Previously loyal), it names those as win-back candidates instead of asking to watch a
    cycle they have left."""
    ranked = (table.loc[table["revenue"].gt(0)]
              .assign(per_customer=lambda t: t["revenue_share"] / t["customer_share"])
              .sort_values("per_customer", ascending=False, kind="stable"))
    if ranked.empty:
        return []
    total = ranked["revenue_share"].cumsum()
    top = ranked.iloc[: int(np.searchsorted(total.to_numpy(), CONCENTRATION - 1e-12)) + 1]
    lapsed = [s for s in top["segment"] if s not in recent]
    params = {"segments": ("segments", top["segment"].tolist()), "customers": ("pct", top["customer_share"].sum()),
              "revenue": ("pct", top["revenue_share"].sum())}
    if lapsed:
        return [_c("concentration", "protect_top_lapsed", **params, lapsed=("segments", lapsed))]
    return [_c("concentration", "protect_top", **params)]


def lifecycle(moves: pd.DataFrame, partial: bool = False) -> list[dict[str, object]]:
    """`lifecycle.biggest_movements` of the NES stages since last month; `partial`: the month's data end early
    (no finding from the moves, as `acquisition` makes no comparison)."""
    if partial:
        return [_c("partial")]
    lapsing = moves.loc[moves["from"].isin(ACTIVE_STAGES) & moves["to"].isin(LAPSED_STAGES)]
    if lapsing.empty:
        return [_c("steady")]
    top = lapsing.sort_values("customers", ascending=False, kind="stable").iloc[0]
    return [_c("lapsing", "on_list", n=("number", top["customers"]), share=("pct", top["share_of_from"]),
               from_stage=("stage", top["from"]), to_stage=("stage", top["to"]))]


def value(track_record: dict[str, object] | None) -> list[dict[str, object]]:
    """`clv.backtest_verdict`, or None when no model was fitted."""
    if track_record is None:
        return [_c("no_model")]
    verdict = str(track_record["verdict"])
    action = {"accurate": "rank_by_value", "over": "upper_bound", "under": "lower_bound"}.get(verdict)
    error = track_record.get("purchases_error")
    return [_c(verdict, action, months=("number", track_record.get("months_back")),
               error=("pct", error if error is None else abs(float(error))))]  # type: ignore[arg-type]  # a number in results


def winback(totals: dict[str, float | int]) -> list[dict[str, object]]:
    """`economics.plan_totals` of this month's plan."""
    out = []
    if totals["groups"]:
        out.append(_c("plan", "contact", n=("number", totals["contacted"]), groups=("number", totals["groups"]),
                      profit=("money", totals["profit"]), cost=("money", totals["cost"])))
    else:
        out.append(_c("no_plan"))
    if totals["unprofitable_groups"]:
        out.append(_c("left_out", n=("number", totals["unprofitable_customers"]),
                      groups=("number", totals["unprofitable_groups"])))
    return out
