"""Page 1: what happened, why, and the month's three decisions, chosen from the numbers of the other sections.

The summary reads only the saved sections (`results.load_all`), so every sentence on page 1 repeats a number
shown, with its detail, later in the report.

**Insights** (`insights`): candidates, each kept only when the data supports it, ranked by `weight` (the size
of the change relative to its base); the first `MAX_INSIGHTS` are shown.
- `month_move` / `year_move`: the month against the previous month / the same month last year. A move is
  stated only when the change in active customers is larger than chance (`conclusions.beyond_chance`:
  |x₁ − x₀| > 2 √(x₁ + x₀), two Poisson counts, about 95%). Its cause: which of new and returning customers
  changed more (in customers); month on month, the retail or client events this month had and the previous month did not
  (`events.explain_change` "new_vs_previous"); year on year, the events that fell in this month in one year
  and in another month in the other ("yoy_shifts"). When the change is within chance the candidate says
  so (`stable`, weight 0: shown only when fewer than three moves are real). When the other month is
  left-censored (`acquisition.reliable_from`) the sentence warns that its new-customer count runs high.
- `new_move`: new customers against the same month last year (acquisition, the same chance rule); left out
  when last year's month is left-censored, or when `month_move` already names new customers as the driver
  (the year-on-year event shifts are said once, with `year_move`).
- `guests_only`: the month's orders are all guest checkouts (no customer id, e-mail or mobile): said first,
  because it is why every section built on customers is empty.
- In a **partial month** (the export ends inside it: `period.data_end`, run with --allow-partial-month)
  `month_move`, `year_move` and `new_move` are withheld: a part of a month set against whole months says
  nothing about the business. Page 1 says to which day the data run instead.
- `campaign`: the verdict on the past lists (`campaign.campaign_verdict`) when it is a finding (lift or
  drop, weight = the return-rate difference ÷ the control's rate) or a clear non-finding (unclear with
  enough customers: weight 0, the honest "no effect measured").

**Decisions** (`decisions`): the `MAX_DECISIONS` win-back groups with the highest expected incremental profit
among those the plan recommends (`economics.campaign_plan`), each with who (group, customers contacted),
when (first and last contact day), the main channel and offer, expected incremental revenue, cost and profit,
what the estimate rests on (prior or measured) and how it will be measured (the control group's size).
Groups whose expected profit is negative are named as not contacted. Fewer than three decisions when fewer
groups pay; none is invented.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crm_report.metrics import events as events_module
from crm_report.metrics.conclusions import beyond_chance
from crm_report.results import Section

MAX_INSIGHTS = 3
MAX_DECISIONS = 3


def _relative(now: float, before: float) -> float | None:
    return None if not before else (now - before) / before


def _month_rows(acquisition: Section) -> dict[str, dict[str, Any]]:
    return {str(row["month"]): row for row in acquisition.tables["monthly"]}


def move(acquisition: Section, month: str, other: str, kind: str, events: Sequence[Any] = (),
         shifts: Sequence[Any] = (), gone: Sequence[Any] = ()) -> dict[str, Any] | None:
    """The `month_move` / `year_move` candidate: `month` against `other` (YYYY-MM). None when `other` has no
    row or no customers (nothing to compare). `events` / `gone`: the event keys this month has more / fewer
    days of than `other`, named only for a real move (a rise names the new ones, a fall the gone ones);
    `shifts`: year-on-year month shifts, always named (they bias the comparison either way)."""
    rows = _month_rows(acquisition)
    if month not in rows or other not in rows or not rows[other]["active_customers"]:
        return None
    now, before = rows[month], rows[other]
    new_diff = now["new_customers"] - before["new_customers"]
    returning_diff = now["returning_customers"] - before["returning_customers"]
    real = beyond_chance(now["active_customers"], before["active_customers"])
    censored = bool(before.get("new_censored", False))  # `other` is early in the export: new counts run high
    revenue_change = _relative(now["revenue"], before["revenue"])
    return {
        "kind": kind, "stable": not real, "other_month": other,
        "weight": abs(revenue_change or 0.0) if real else 0.0,
        "revenue": now["revenue"], "revenue_change": revenue_change,
        "customers": now["active_customers"],
        "customers_change": _relative(now["active_customers"], before["active_customers"]),
        "new_diff": int(new_diff), "returning_diff": int(returning_diff),
        "driver": "new" if abs(new_diff) > abs(returning_diff) else "returning", "censored": censored,
        "events": list(events) if real and (revenue_change or 0) > 0 else [],
        "gone": list(gone) if real and (revenue_change or 0) < 0 else [], "shifts": list(shifts),
    }


def new_customer_move(acquisition: Section, month: str, other: str) -> dict[str, Any] | None:
    """The `new_move` candidate: new customers in `month` against `other`; None without a base or when the
    change is within chance."""
    rows = _month_rows(acquisition)
    if month not in rows or other not in rows or not rows[other]["new_customers"]:
        return None
    now, before = rows[month]["new_customers"], rows[other]["new_customers"]
    if rows[other].get("new_censored", False) or not beyond_chance(now, before):
        return None
    change = _relative(now, before)
    return {"kind": "new_move", "stable": False, "other_month": other, "weight": abs(change or 0.0),
            "new_customers": int(now), "change": change}


def campaign_insight(verdict: Mapping[str, Any]) -> dict[str, Any] | None:
    """The `campaign` candidate from a `campaign.campaign_verdict`, or None when it is not worth a line on
    page 1 (no list, unconfirmed, too few customers, no control group, mixed: the win-back section says why)."""
    outcome = verdict.get("outcome")
    if outcome in ("lift", "drop"):
        base = verdict.get("control_rate") or 0.0
        weight = abs(verdict["rate_diff"] / base) if base else 1.0
        return {"kind": "campaign", "stable": False, "weight": weight, "verdict": dict(verdict)}
    if outcome == "unclear":
        return {"kind": "campaign", "stable": True, "weight": 0.0, "verdict": dict(verdict)}
    return None


def is_partial(sections: Mapping[str, Section]) -> bool:
    """The report month is partial: the export ends inside it (`period.data_end`, decided by the prepare
    step and saved with the data-quality section)."""
    quality = sections.get("data_quality")
    return bool(quality is not None and quality.values.get("partial_month", False))


def insights(sections: Mapping[str, Section], month: str, events: Mapping[str, Any] | None = None,
             top: int = MAX_INSIGHTS) -> list[dict[str, Any]]:
    """Up to `top` insights (see the module docstring): real moves first by weight, then statements that
    nothing moved beyond chance; no move in a partial month (`is_partial`). `events`:
    `events.explain_change` for the month (or None)."""
    events = events or {}
    acquisition = sections["acquisition"]
    period = pd.Period(month, freq="M")
    previous, last_year = str(period - 1), str(period - 12)
    candidates: list[dict[str, Any] | None] = []
    if not is_partial(sections):
        candidates += [
            move(acquisition, month, previous, "month_move", events.get("new_vs_previous", ()),
                 gone=events.get("gone_vs_previous", ())),
            move(acquisition, month, last_year, "year_move", shifts=events.get("yoy_shifts", ())),
        ]
        month_move = candidates[0]
        if month_move is None or month_move["stable"] or month_move["driver"] != "new":
            candidates.append(new_customer_move(acquisition, month, last_year))
    if "winback" in sections:
        candidates.append(campaign_insight(sections["winback"].values.get("verdict", {})))
    now = _month_rows(acquisition).get(month)
    if now is not None and not now["active_customers"] and now.get("guest_orders", 0):
        candidates.insert(0, {"kind": "guests_only", "stable": False, "weight": math.inf,
                              "orders": int(now["guest_orders"])})
    kept = [c for c in candidates if c is not None]
    kept.sort(key=lambda c: (c["stable"], -c["weight"]))  # stable sort: ties keep the order above
    return kept[:top]


def decisions(plan: Sequence[Mapping[str, Any]], top: int = MAX_DECISIONS) -> list[dict[str, Any]]:
    """The `top` recommended groups of a plan table (rows of `economics.campaign_plan`, already ranked)."""
    chosen = [dict(row) for row in plan if row["recommended"]]
    chosen.sort(key=lambda row: row["rank"])
    return chosen[:top]


def calendar_context(month: str, client_events: Sequence[Any] = ()) -> dict[str, Any] | None:
    """`events.explain_change` for the report month from the Taiwan retail calendar and the client's own events,
    or None when the month or the year before lies outside the calendar's years (nothing is then said of
    events)."""
    period = pd.Period(month, freq="M")
    try:
        calendar = events_module.retail_events(period.year - 1, period.year, client_events)
    except ValueError:
        return None
    return events_module.explain_change(calendar, period)


def executive_summary(sections: Mapping[str, Section], month: str,
                      events: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything page 1 states beyond the KPI tiles: insights, decisions, the other recommended groups (named
    in one line, so the totals cover what page 1 shows), and the groups left out."""
    winback = sections.get("winback")
    plan = winback.tables.get("plan", []) if winback is not None else []
    return {
        "insights": insights(sections, month, events),
        "decisions": decisions(plan),
        "other_decisions": decisions(plan, top=len(plan))[MAX_DECISIONS:],
        "not_recommended": [row["group"] for row in plan if not row["recommended"]],
        "plan_totals": winback.values.get("plan_totals") if winback is not None else None,
        "events": dict(events or {}),
    }

