"""The caption under each chart: the chart's conclusion in one sentence, chosen from the chart's own numbers.

A caption says what the chart shows about this client, never how to read it. Each function returns one
conclusion of the `conclusions` form ({"key", "params", "action": None}), worded from the locale's
`captions.<chart>.<key>` text by `render.caption`; None when the chart is not drawn. Comparisons use the
same margin of chance as the "so what" sentences (`conclusions.CHANCE_Z`): a difference within it is
called "about the same", never up or down.

- **new_customers** (acquisition, customers by month): new customers in the last `RECENT_MONTHS` whole
  months against the same months a year earlier: more / fewer when `conclusions.beyond_chance`, else
  similar; no comparison when a year-earlier month is missing or left-censored (`new_censored`).
- **revenue_mix** (acquisition, revenue by month): returning customers' share of the shown months' revenue
  (returning ÷ (new + returning), as `acquisition.returning_revenue_share`): ≥ `conclusions.RETURNING_LED`
  → returning-led, ≤ 1 − it → new-led, between → balanced.
- **repeat_windows** (repurchase, share buying again within N days): the headline window's rate against the
  longest window's: at least half of it → most who come back do so early; less → most come back later.
- **intervals** (days between purchases): the median and quartiles.
- **second_purchase** (the latest cohorts against a year earlier): `conclusions.second_purchase_change`.
- **cohort_retention** (cohort heatmap): the month-1 return rate of the latest `RECENT_COHORTS` cohorts
  against the earlier ones, pooled by customers; higher / lower when `conclusions.shares_differ`, else
  steady.
- **cohort_value**: the oldest cohort's spend per customer in its first month and after its last observed
  month, and their ratio (what a new customer is worth beyond the first order).
- **cycles** (replenishment ranges): the products bought again soonest and latest (median days).
- **segment_gap** (segments, share of customers and of revenue): the segment whose revenue share most
  exceeds its customer share, and the one it most falls short of.
- **clusters**: the cluster spending most per customer, with its shares of customers and revenue.
- **stages** (NES): the active stages' (N, E0) shares of customers and of the last 12 months' revenue.
- **p_alive**: the shares of customers (of those the model can tell) with P(alive) ≥ `SURE_ALIVE` and
  < 1 − it.
- **segment_value**: the segment expected to bring the largest share of predicted value.
- **backtest**: the model's track record (`clv.backtest_verdict`): predicted against actual purchases.
- **winback_groups**: the group with the most value at stake, and whether this month's plan contacts it (not
  planned: no contactable customer; unprofitable: contacting it is expected to cost more than it returns).
"""
from __future__ import annotations

import pandas as pd

from crm_report.metrics.conclusions import ACTIVE_STAGES, RETURNING_LED, _c, beyond_chance, shares_differ
from crm_report.metrics.conclusions import second_purchase_change as _second_purchase_change

RECENT_MONTHS = 3
RECENT_COHORTS = 3
SURE_ALIVE = 0.8

Caption = dict[str, object]



def _months(monthly: pd.DataFrame) -> pd.PeriodIndex:
    return pd.PeriodIndex(monthly["month"].astype(str), freq="M")


def new_customers(monthly: pd.DataFrame, months: int = RECENT_MONTHS) -> Caption | None:
    """`acquisition.monthly_new_vs_returning`, marked (`mark_censored`, `mark_partial`)."""
    table = monthly.set_index(_months(monthly))
    whole = table.loc[~table["partial"].astype(bool)] if "partial" in table else table
    recent = whole.tail(months)
    if recent.empty:
        return None
    n = float(recent["new_customers"].sum())
    span = {"from_month": ("month", str(recent.index[0])), "to_month": ("month", str(recent.index[-1]))}
    earlier = table.reindex(recent.index - 12)
    if earlier["new_customers"].isna().any() or earlier["new_censored"].fillna(True).astype(bool).any():
        return _c("recent", n=("number", n), **span)
    before = float(earlier["new_customers"].sum())
    if before > 0 and beyond_chance(n, before):
        return _c("more" if n > before else "fewer", n=("number", n), before=("number", before),
                  change=("pct", abs(n - before) / before), **span)
    return _c("similar", n=("number", n), before=("number", before), **span)


def revenue_mix(monthly: pd.DataFrame) -> Caption | None:
    """The shown months of `acquisition.monthly_new_vs_returning`."""
    returning, new = float(monthly["returning_revenue"].sum()), float(monthly["new_revenue"].sum())
    if returning + new <= 0:
        return None
    share = returning / (returning + new)
    key = "returning_led" if share >= RETURNING_LED else "new_led" if share <= 1 - RETURNING_LED else "balanced"
    return _c(key, share=("pct", share), months=("number", len(monthly)))


def repeat_windows(rates: pd.DataFrame, headline_days: int) -> Caption | None:
    """`repurchase.repeat_rates`; `headline_days`: the window the report leads with."""
    known = rates.dropna(subset=["rate"])
    if known.empty:
        return None
    last = known.iloc[-1]
    head = known.loc[known["window_days"].eq(headline_days)]
    params = {"last_days": ("number", int(last["window_days"])), "last_rate": ("pct", float(last["rate"]))}
    if float(last["rate"]) == 0:
        return _c("none", **params)
    if head.empty or int(head["window_days"].iloc[0]) >= int(last["window_days"]):
        return _c("only", **params)
    rate = float(head["rate"].iloc[0])
    return _c("early" if rate >= float(last["rate"]) / 2 else "late", days=("number", headline_days),
              rate=("pct", rate), **params)


def intervals(summary: dict[str, float]) -> Caption | None:
    """`repurchase.interval_summary`."""
    if not summary.get("count"):
        return None
    return _c("spread", median=("number", summary["median"]), q25=("number", summary["q25"]),
              q75=("number", summary["q75"]), count=("number", summary["count"]))


def second_purchase(curves: dict[str, pd.DataFrame], window: int) -> Caption | None:
    """`repurchase.second_purchase_curve` of the latest cohorts and a year earlier, at `window` days."""
    change = _second_purchase_change(curves, window)
    if change is None:
        return None
    key, latest, before = change
    return _c(key, days=("number", window), rate=("pct", latest), before=("pct", before))


def cohort_retention(cohorts: pd.DataFrame, recent: int = RECENT_COHORTS) -> Caption | None:
    """`repurchase.cohort_retention`: month-1 rates of the cohorts observed for a month."""
    seen = cohorts.loc[cohorts["m1"].notna() & cohorts["customers"].gt(0)] if "m1" in cohorts else cohorts.iloc[:0]
    if len(seen) <= recent:
        return None
    returned = seen["m1"] * seen["customers"]
    late, early = seen.tail(recent), seen.iloc[:-recent]
    n1, n0 = float(late["customers"].sum()), float(early["customers"].sum())
    p1, p0 = float(returned.loc[late.index].sum()) / n1, float(returned.loc[early.index].sum()) / n0
    key = ("higher" if p1 > p0 else "lower") if shares_differ(p1, n1, p0, n0) else "steady"
    return _c(key, rate=("pct", p1), before=("pct", p0), cohorts=("number", recent),
              from_month=("month", str(late["cohort"].iloc[0])), to_month=("month", str(late["cohort"].iloc[-1])))


def cohort_value(values: pd.DataFrame) -> Caption | None:
    """`repurchase.cohort_revenue`: the oldest cohort with customers."""
    cohorts = values.loc[values["customers"].gt(0)]
    if cohorts.empty:
        return None
    oldest = cohorts.iloc[0]
    spend = oldest[[c for c in cohorts.columns if c.startswith("m")]].dropna().astype(float)
    if len(spend) < 2 or spend.iloc[0] <= 0:
        return None
    first, latest = float(spend.iloc[0]), float(spend.iloc[-1])
    return _c("growth", cohort=("month", str(oldest["cohort"])), first=("money", first), latest=("money", latest),
              months=("number", len(spend)), ratio=("ratio", latest / first))


def cycles(consumables: pd.DataFrame) -> Caption | None:
    """The consumables the chart shows (`products.replenishment_cycles`, consumable rows)."""
    if consumables.empty:
        return None
    ranked = consumables.sort_values(["p50", "product_name"], kind="stable")
    fast, slow = ranked.iloc[0], ranked.iloc[-1]
    params = {"fast": ("text", fast["product_name"]), "fast_days": ("number", fast["p50"])}
    if len(ranked) == 1 or fast["p50"] == slow["p50"]:
        return _c("one", **params)
    return _c("range", **params, slow=("text", slow["product_name"]), slow_days=("number", slow["p50"]))


def segment_gap(segments: pd.DataFrame, key: str = "segment", kind: str = "segments") -> Caption | None:
    """`rfm.summarise_groups` (or `lifecycle.stage_summary` with `key="stage"`): the group bringing most
    more revenue than its headcount, and the one bringing most less."""
    groups = segments.loc[segments["customers"].gt(0)]
    if groups.empty or not groups["revenue"].gt(0).any():
        return None
    gap = groups["revenue_share"] - groups["customer_share"]
    top, low = groups.loc[gap.idxmax()], groups.loc[gap.idxmin()]

    def named(row: pd.Series) -> tuple[str, object]:
        return (kind, [row[key]]) if kind == "segments" else (kind, row[key])

    params = {"top": named(top), "top_customers": ("pct", top["customer_share"]),
              "top_revenue": ("pct", top["revenue_share"])}
    if gap.min() >= 0 or top[key] == low[key]:
        return _c("top", **params)
    return _c("gap", **params, low=named(low), low_customers=("pct", low["customer_share"]),
              low_revenue=("pct", low["revenue_share"]))


def clusters(table: pd.DataFrame) -> Caption | None:
    """`rfm.summarise_groups` by cluster, with `label`."""
    if table.empty:
        return None
    best = table.sort_values(["mean_monetary", "cluster"], ascending=[False, True], kind="stable").iloc[0]
    return _c("best", cluster=("text", best["label"]), spend=("money", best["mean_monetary"]),
              customers=("pct", best["customer_share"]), revenue=("pct", best["revenue_share"]))


def stages(table: pd.DataFrame) -> Caption | None:
    """`lifecycle.stage_summary`."""
    if table.empty or not table["customers"].gt(0).any():
        return None
    active = table.loc[table["stage"].isin(ACTIVE_STAGES)]
    return _c("active", stages=("stages", list(ACTIVE_STAGES)),
              customers=("pct", float(active["customer_share"].sum())),
              revenue=("pct", float(active["revenue_share"].sum())))


def p_alive(values: pd.Series, sure: float = SURE_ALIVE) -> Caption | None:
    """Each customer's P(alive) (NaN: the model cannot tell)."""
    known = values.dropna()
    if known.empty:
        return None
    return _c("split", alive=("pct", float(known.ge(sure).mean())), gone=("pct", float(known.lt(1 - sure).mean())),
              sure=("number", round(100 * sure)), unsure=("number", round(100 * (1 - sure))))


def segment_value(by_segment: pd.DataFrame, months: int) -> Caption | None:
    """`clv.value_by_group` by segment."""
    known = by_segment.dropna(subset=["clv_share"])
    if known.empty or not known["clv_share"].gt(0).any():
        return None
    top = known.loc[known["clv_share"].idxmax()]
    return _c("top", segment=("segments", [top["group"]]), share=("pct", top["clv_share"]),
              customers=("number", top["customers"]), months=("number", months))


def backtest(track_record: dict[str, object] | None, totals: pd.DataFrame | None) -> Caption | None:
    """`clv.backtest_verdict` and the backtest totals it was read from."""
    if track_record is None or totals is None or track_record["verdict"] == "untested":
        return None
    row = totals.loc[totals["months_back"].eq(track_record["months_back"])].iloc[0]
    return _c(str(track_record["verdict"]), months=("number", row["months_back"]),
              predicted=("number", row["predicted_purchases"]), actual=("number", row["actual_purchases"]),
              error=("pct", abs(float(row["purchases_error"]))))


def winback_groups(summary: pd.DataFrame, plan: pd.DataFrame) -> Caption | None:
    """`campaign.summarise_targets` (the groups drawn) and `economics.campaign_plan`."""
    drawn = summary.loc[summary["customers"].gt(0) & summary["value_at_stake"].notna()]
    if drawn.empty or not drawn["value_at_stake"].gt(0).any():
        return None
    top = drawn.loc[drawn["value_at_stake"].idxmax()]
    planned = plan.loc[plan["group"].eq(top["group"])]
    params = {"group": ("group", top["group"]), "value": ("money_short", top["value_at_stake"]),
              "customers": ("number", top["customers"])}
    if planned.empty:
        return _c("top_not_planned", **params)
    if not bool(planned["recommended"].iloc[0]):
        return _c("top_unprofitable", **params)
    return _c("top_planned", **params, profit=("money", float(planned["profit"].iloc[0])))

