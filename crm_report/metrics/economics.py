"""Campaign economics: what contacting each target group is expected to add, what it costs, and whether it pays.

Every figure is for one campaign: this month's list, judged over the month after it (the window the
evaluation measures, `campaign.evaluation_window`). Money is in the client's currency.

- **Incremental revenue per contacted customer** (the uplift, `u`): what a contacted customer spends in the
  window beyond what they would have spent without the message. It combines a stated prior with what the
  client's own past lists measured against their control groups, weighting each by its precision (the
  posterior mean of a normal prior and a normal measurement):

      u = (m₀ / s₀² + d / se²) ÷ (1 / s₀² + 1 / se²),    sd(u) = 1 ÷ √(1 / s₀² + 1 / se²)

  - prior `m₀` = the mean over the group's contacted customers of `prior_uplift[offer]` (extra chance of a
    purchase in the window that the message brings, by offer: `Economics.prior_uplift_*`) × the customer's
    average order value (historic revenue ÷ orders); `s₀ = m₀` (the prior is uncertain by its own size);
  - measurement `d` ± `se` = the group's revenue per customer, contacted − control, over the pooled confirmed
    past lists (`campaign.evaluate_campaign`, Welch standard error). Used only when sending was confirmed
    and the evaluation could judge the group (not too small, with a control group); otherwise u = m₀.
  - `evidence_weight` = the measurement's share of the estimate, (1/se²) ÷ (1/s₀² + 1/se²): 0 = the prior
    alone, near 1 = the client's own results. With little data the prior dominates, with a lot the
    measurement does: a noisy result cannot swing the plan, a clear one does.
- **Expected incremental revenue** = u × contacted customers (range: (u ± 1.96 sd(u)) × contacted).
- **Cost** = message cost (one message per contacted customer at its channel's `Economics.message_costs`) + offer
  cost: the discount (`Economics.discount_rate`) on what discount recipients are expected to buy in the
  window, i.e. on their usual spend (a twelfth of their 12-month expected spend, `priority`) plus the
  uplift: a discount is also given to those who would have bought anyway. Reminders and no-offer messages
  cost only the message.
- **Expected incremental profit** = `gross_margin` × expected incremental revenue − cost; its range uses the
  revenue's range at the same cost (`profit_low`, `profit_high`).
- The measurement is also reported on its own, with the evaluation's Welch interval (`measured_low`,
  `measured_high`), so the report says what the past lists showed beside what the plan assumes; and each
  group's offers are counted (`offer_none`, `offer_reminder`, `offer_discount`), since discounts are most of
  the cost.
- **Recommended** = a group with customers to contact whose expected incremental profit is positive. Groups
  are ranked by expected incremental profit; a group that does not pay is not contacted this month
  (`apply_plan`: its customers are held back as `unprofitable`, and the report says so).

What the customers of a list are expected to spend anyway (`priority`, the 12-month expected spend) is not
the campaign's value; only the incremental figures are.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crm_report.metrics.campaign import reachable, to_contact

PLAN_COLUMNS = ("group", "contacted", "control", "prior_uplift", "measured_uplift", "measured_se",
                "measured_low", "measured_high", "evidence_weight", "basis", "uplift", "incremental_revenue",
                "incremental_revenue_low", "incremental_revenue_high", "message_cost", "offer_cost", "cost", "profit",
                "profit_low", "profit_high", "recommended", "rank", "offer_none", "offer_reminder", "offer_discount",
                "main_channel", "main_offer", "first_contact", "last_contact")
BASES = ("prior", "mostly_prior", "measured", "measured_unclear")
"""What an estimate rests on: the prior alone (nothing measured), mostly the prior (a measurement with less
than half the weight), or mostly the client's own measurement (evidence_weight ≥ 0.5), which is
`measured_unclear` when its interval still includes 0 (the report then says the effect cannot yet be told
from none)."""
Z95 = 1.959963984540054
MONTHS_PER_YEAR = 12


def basis(weight: float, low: float = np.nan, high: float = np.nan) -> str:
    """The `BASES` code of an estimate with this evidence weight and the measurement's interval (low, high)."""
    if weight >= 0.5:
        return "measured_unclear" if low <= 0 <= high else "measured"
    return "mostly_prior" if weight > 0 else "prior"


def customer_prior(targets: pd.DataFrame, prior_uplift: Mapping[str, float]) -> pd.Series:
    """Each target's prior incremental revenue in the window: prior_uplift[offer] × average order value
    (historic_revenue ÷ orders, 0 for a customer without orders)."""
    aov = (targets["historic_revenue"] / targets["orders"].where(targets["orders"].gt(0))).fillna(0.0)
    return targets["offer"].map(dict(prior_uplift)).astype("float64") * aov


def _message_costs(people: pd.DataFrame, message_cost: Mapping[str, float]) -> pd.Series:
    """One message per customer at its channel's price (0 for a channel without one)."""
    return people["channel"].map(dict(message_cost)).astype("float64").fillna(0.0)


def _discount_costs(people: pd.DataFrame, discount_rate: float, uplift: float | pd.Series) -> pd.Series:
    """What a discount offer gives away per customer: the rate on their usual month (priority ÷ 12) plus the
    uplift; 0 for the other offers."""
    given = discount_rate * (people["priority"] / MONTHS_PER_YEAR + uplift)
    return given.where(people["offer"].eq("discount"), 0.0)


def combine(prior: float, measured: float | None, se: float | None) -> tuple[float, float, float]:
    """(uplift, its sd, evidence weight): the precision-weighted mean of the prior (sd = its own size) and the
    measurement (see the module docstring). Without a usable measurement (None, NaN, se ≤ 0), the prior."""
    prior_var = prior ** 2
    if measured is None or se is None or not np.isfinite(measured) or not np.isfinite(se) or se <= 0:
        return prior, abs(prior), 0.0
    if prior_var == 0:
        return measured, se, 1.0
    precision = 1 / prior_var + 1 / se ** 2
    weight = (1 / se ** 2) / precision
    return (prior / prior_var + measured / se ** 2) / precision, float(np.sqrt(1 / precision)), weight


def measured_uplift(evaluation: pd.DataFrame | None) -> pd.DataFrame:
    """Per group, the past lists' revenue difference per customer, its standard error and its (Welch) 95%
    interval, from `campaign.evaluate_campaign` (index group; columns measured_uplift, measured_se,
    measured_low, measured_high). Rows with fewer than two customers in either arm, or that the evaluation
    calls too small to judge (`too_small`, `no_control`), are left out: what the report says cannot be judged
    is given no weight. Pass None when sending was not confirmed."""
    names = {"revenue_diff": "measured_uplift", "revenue_diff_se": "measured_se", "revenue_diff_low": "measured_low",
             "revenue_diff_high": "measured_high"}
    if evaluation is None:
        return pd.DataFrame(columns=list(names.values())).rename_axis("group")
    rows = evaluation.loc[evaluation["group"].ne("total") & evaluation["contacted_n"].ge(2)
                          & evaluation["control_n"].ge(2)
                          & ~evaluation.get("outcome", pd.Series("", index=evaluation.index))
                          .isin(["too_small", "no_control"])]
    return rows.set_index("group")[list(names)].rename(columns=names)


def evidence(evaluation: pd.DataFrame | None, verdict: dict[str, object]) -> pd.DataFrame | None:
    """The evaluation the plan may learn from: only one whose sending was confirmed (`campaign.campaign_verdict`
    outcome other than 'no_list' or 'unconfirmed'), else None (the prior alone)."""
    return None if verdict["outcome"] in ("no_list", "unconfirmed") else evaluation


def campaign_plan(targets: pd.DataFrame, evaluation: pd.DataFrame | None, *, gross_margin: float,
                  message_cost: Mapping[str, float], discount_rate: float,
                  prior_uplift: Mapping[str, float]) -> pd.DataFrame:
    """One row per group with customers to contact: the economics of the module docstring, ranked by expected
    incremental profit (rank 1 = the most profitable recommended group; NaN for groups not recommended; ties
    by group name).

    `targets`: `campaign.build_targets` (group, offer, channel, control, held_back, priority, historic_revenue,
    orders, contact_date). `evaluation`: `campaign.evaluate_campaign` over confirmed past lists, or None.
    `message_cost` by channel (`config.Economics.message_costs`); `prior_uplift` by offer (`campaign.OFFERS`).
    """
    contacted = targets.loc[to_contact(targets)].assign(prior=lambda t: customer_prior(t, prior_uplift))
    control = targets.loc[reachable(targets) & targets["control"].astype(bool)].groupby("group").size()
    measured = measured_uplift(evaluation)
    rows = []
    for group, people in contacted.groupby("group", sort=False):
        prior = float(people["prior"].mean())
        found = measured.reindex([group]).iloc[0]  # NaN everywhere when the group was not measured
        d, se, d_low, d_high = (float(found[c]) for c in ("measured_uplift", "measured_se", "measured_low",
                                                          "measured_high"))
        uplift, sd, weight = combine(prior, d, se)
        n = len(people)
        offer_cost = float(_discount_costs(people, discount_rate, uplift).sum())
        message = float(_message_costs(people, message_cost).sum())
        revenue = uplift * n
        low, high = (uplift - Z95 * sd) * n, (uplift + Z95 * sd) * n
        offers = people["offer"].value_counts()
        rows.append({
            "group": group, "contacted": n, "control": int(control.get(group, 0)), "prior_uplift": prior,
            "measured_uplift": d, "measured_se": se, "measured_low": d_low, "measured_high": d_high,
            "evidence_weight": weight, "basis": basis(weight, d_low, d_high), "uplift": uplift,
            "incremental_revenue": revenue, "incremental_revenue_low": low, "incremental_revenue_high": high,
            "message_cost": message, "offer_cost": offer_cost, "cost": message + offer_cost,
            "profit": gross_margin * revenue - message - offer_cost,
            "profit_low": gross_margin * low - message - offer_cost,
            "profit_high": gross_margin * high - message - offer_cost,
            **{f"offer_{offer}": int(offers.get(offer, 0)) for offer in ("none", "reminder", "discount")},
            "main_channel": people["channel"].value_counts().idxmax(),
            "main_offer": people["offer"].value_counts().idxmax(),
            "first_contact": people["contact_date"].min(), "last_contact": people["contact_date"].max()})
    plan = pd.DataFrame(rows, columns=[c for c in PLAN_COLUMNS if c not in ("recommended", "rank")])
    plan["recommended"] = plan["profit"].gt(0)
    plan = plan.sort_values(["recommended", "profit", "group"], ascending=[False, False, True], kind="stable")
    plan["rank"] = np.where(plan["recommended"], np.arange(1, len(plan) + 1), np.nan)
    return plan.reset_index(drop=True)[list(PLAN_COLUMNS)]


def customer_profit(targets: pd.DataFrame, plan: pd.DataFrame, *, gross_margin: float,
                    message_cost: Mapping[str, float], discount_rate: float,
                    prior_uplift: Mapping[str, float]) -> pd.Series:
    """Each contacted target's expected incremental profit, the plan's arithmetic for one customer: their prior
    (`customer_prior`) scaled by their group's uplift ÷ prior (so the group's measurement counts as it does for
    the group), times the margin, minus their message and, with a discount, the discount on their usual month
    (priority ÷ 12) plus the uplift. Indexed like `targets`; NaN for customers not contacted."""
    contacted = targets.loc[to_contact(targets)]
    by_group = plan.set_index("group")
    scale = (by_group["uplift"] / by_group["prior_uplift"].where(by_group["prior_uplift"] > 0)).fillna(1.0)
    uplift = customer_prior(contacted, prior_uplift) * contacted["group"].map(scale).astype("float64").fillna(1.0)
    message = _message_costs(contacted, message_cost)
    discount = _discount_costs(contacted, discount_rate, uplift)
    return (gross_margin * uplift - message - discount).reindex(targets.index).rename("expected_profit")


def most_profitable(targets: pd.DataFrame, plan: pd.DataFrame, n: int, *, gross_margin: float,
                    message_cost: Mapping[str, float], discount_rate: float,
                    prior_uplift: Mapping[str, float]) -> pd.DataFrame:
    """The `n` contacted targets (`to_contact`) with the highest expected profit (`customer_profit`; ties by
    customer id, a missing profit last), with it as a last column `expected_profit`. Only the ids and profits
    are sorted and only the `n` rows returned, so no sorted copy of the whole list is kept."""
    profit = customer_profit(targets, plan, gross_margin=gross_margin, message_cost=message_cost,
                             discount_rate=discount_rate, prior_uplift=prior_uplift)
    contacted = targets.loc[to_contact(targets), ["customer_id"]].assign(expected_profit=profit)
    first = contacted.sort_values(["expected_profit", "customer_id"], ascending=[False, True], kind="stable").index[:n]
    return targets.loc[first].assign(expected_profit=profit.loc[first])


def apply_plan(targets: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """The targets with the groups the plan does not recommend held back (`held_back` = 'unprofitable',
    `control` = False): nobody in them is contacted or compared this month."""
    dropped = plan.loc[~plan["recommended"], "group"]
    out = targets["group"].isin(dropped) & reachable(targets)
    return targets.assign(held_back=targets["held_back"].mask(out, "unprofitable"),
                          control=targets["control"].astype(bool) & ~out)


def plan_totals(plan: pd.DataFrame) -> dict[str, float | int]:
    """The recommended groups together: customers, expected incremental revenue, cost and profit, and how many
    groups were left out because they do not pay."""
    kept = plan.loc[plan["recommended"]]
    return {"groups": len(kept), "contacted": int(kept["contacted"].sum()),
            "incremental_revenue": float(kept["incremental_revenue"].sum()), "cost": float(kept["cost"].sum()),
            "profit": float(kept["profit"].sum()), "unprofitable_groups": int((~plan["recommended"]).sum()),
            "unprofitable_customers": int(plan.loc[~plan["recommended"], "contacted"].sum())}
