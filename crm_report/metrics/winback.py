"""Win-back: who to wake up, in which group, on which day and with which product.

- **Target groups**, first rule that applies (one group per customer):
  `cant_lose`: past their purchase cycle (NES S1–S3) and in an RFM segment of valuable customers who stopped
  buying (`CANT_LOSE_SEGMENTS`: Shopify-style previously loyal and at risk; Klaviyo-style at risk);
  `slipping` = NES S1 (1–2× the cycle), `half_asleep` = S2 (2–3×), `asleep` = S3 (over 3×);
  `fading`: still within their cycle (N or E0) but with a repeat purchase and P(alive) below `LOW_P_ALIVE`
  (the BG/NBD model says they have probably stopped although the calendar does not show it yet);
  `due_soon`: active customers (N or E0, not fading) whose consumable runs low by the end of the month after
  the report month (their replenishment reminder, `products.customer_next_steps`, falls on or before that
  day): a reminder before they run out, measured against its own control group like the other groups.
  The purchase cycle is the NES cycle (`lifecycle.nes_stages`), so the groups and the NES stages agree.
- **Due date** = the earlier of the customer's own due day (last purchase day + cycle − `lead_days`) and the
  replenishment reminder of what they last bought (`products.customer_next_steps`): contact before the
  expected run-out, not after.
- **Contact date**: when the due date has passed, the first day after the report month that falls on the
  weekday the customer has bought on most often (ties: the weekday of their latest purchase); when it lies
  ahead, the last of those weekdays on or before it, or the due date itself when that weekday would fall
  inside the report month.
- **Product**: the recommendation of `products.customer_next_steps` (same product when it is a consumable,
  else the next product customers usually buy, else a best-seller).
Priority, offer, channel and the control group are added by `campaign.build_targets`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crm_report.metrics.campaign import HELD_BACK, to_contact
from crm_report.metrics.orders import customer_facts, purchase_days

GROUPS = ("cant_lose", "slipping", "half_asleep", "asleep", "fading", "due_soon")
CANT_LOSE_SEGMENTS = {"shopify": ("previously_loyal", "at_risk"), "klaviyo": ("at_risk",)}
LAPSED_STAGES = {"S1": "slipping", "S2": "half_asleep", "S3": "asleep"}
LOW_P_ALIVE = 0.5
CONTACT_FIELDS = ("customer_name", "email", "phone", "line_user_id")


def latest_contacts(lines: pd.DataFrame) -> pd.DataFrame:
    """Per customer, the most recent non-empty value of each contact field present in `lines`."""
    fields = [f for f in CONTACT_FIELDS if f in lines]
    ordered = lines.sort_values("order_date", kind="stable")[["customer_id", *fields]]
    contacts = ordered.groupby("customer_id", observed=True)[fields].last()
    return contacts.reindex(columns=list(CONTACT_FIELDS))


def preferred_weekday(orders: pd.DataFrame) -> pd.Series:
    """Per customer, the weekday (0 = Monday) of most purchase days; ties go to the latest purchase's weekday."""
    days = purchase_days(orders)
    per_day = (days.assign(weekday=days["order_day"].dt.day_of_week)
               .groupby(["customer_id", "weekday"], observed=True)
               .agg(count=("order_day", "size"), latest=("order_day", "max"))
               .reset_index()
               .sort_values(["customer_id", "count", "latest"], ascending=[True, False, False], kind="stable"))
    return per_day.drop_duplicates("customer_id").set_index("customer_id")["weekday"]


def target_groups(stages: pd.DataFrame, segments: pd.Series, p_alive: pd.Series, frequency: pd.Series,
                  style: str = "shopify", low_p_alive: float = LOW_P_ALIVE, reminders: pd.Series | None = None,
                  due_by: pd.Timestamp | None = None) -> pd.Series:
    """Each customer's target group (see the module docstring), NaN for customers not targeted.

    `stages`: `lifecycle.nes_stages` (customer_id, stage); `segments`, `p_alive`, `frequency` (repeat purchase
    days): Series indexed by customer id (`p_alive` NaN where the model made no prediction). `reminders`: each
    customer's replenishment reminder date (`products.customer_next_steps`, by customer id) and `due_by` the
    last day that counts as due soon (the end of the month after the report month); without them, no due_soon.
    """
    stage = stages.set_index("customer_id")["stage"]
    segment = segments.reindex(stage.index)
    alive = p_alive.reindex(stage.index)
    repeat = frequency.reindex(stage.index).fillna(0).gt(0)
    lapsed = stage.isin(list(LAPSED_STAGES))
    active = stage.isin(["N", "E0"])
    due = (pd.Series(False, index=stage.index) if reminders is None or due_by is None
           else reminders.reindex(stage.index).le(due_by))
    group = np.select(
        [lapsed & segment.isin(list(CANT_LOSE_SEGMENTS[style])), lapsed, active & repeat & alive.lt(low_p_alive),
         active & due],
        ["cant_lose", stage.map(LAPSED_STAGES).fillna(""), "fading", "due_soon"], default="")
    return pd.Series(group, index=stage.index, name="group").replace("", np.nan)


def contact_dates(due: pd.Series, weekday: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """The contact day for each due date (see the module docstring); `weekday` 0 = Monday, per customer."""
    as_of_day = as_of.normalize()
    first_day = as_of_day + pd.Timedelta(days=1)
    weekday = weekday.reindex(due.index)
    overdue = first_day + pd.to_timedelta((weekday - first_day.weekday()) % 7, unit="D")
    before_due = due - pd.to_timedelta((due.dt.day_of_week - weekday) % 7, unit="D")
    ahead = due.where(before_due.le(as_of_day), before_due)
    return overdue.where(due.le(as_of_day), ahead).rename("contact_date")


def winback_candidates(orders: pd.DataFrame, stages: pd.DataFrame, groups: pd.Series,
                       next_steps: pd.DataFrame, as_of: pd.Timestamp, lead_days: int = 3) -> pd.DataFrame:
    """Every targeted customer with stage, cycle, due and contact date and the recommended product.

    `groups` is `target_groups(...)`; `next_steps` is `products.customer_next_steps(...)`.
    Columns: customer_id, group, stage, last_order, days_since, cycle_days, cycle_basis, overdue_ratio,
    orders, revenue, due_date, contact_date, product, product_basis; sorted by customer id (campaign ranks).
    """
    targeted = groups.dropna()
    stage = stages.set_index("customer_id").reindex(targeted.index)
    facts = customer_facts(orders).reindex(targeted.index)
    steps = next_steps.set_index("customer_id").reindex(targeted.index)
    last_day = stage["last_purchase"]
    own_due = last_day + pd.to_timedelta(np.floor(stage["cycle_days"]) - lead_days, unit="D")
    due = own_due.where(steps["reminder_date"].isna() | own_due.le(steps["reminder_date"]), steps["reminder_date"])
    contact = contact_dates(due, preferred_weekday(orders), as_of)
    return pd.DataFrame({
        "customer_id": targeted.index.to_numpy(),
        "group": targeted.to_numpy(),
        "stage": stage["stage"].to_numpy(),
        "last_order": last_day.to_numpy(),
        "days_since": stage["days_since_last"].to_numpy(),
        "cycle_days": stage["cycle_days"].to_numpy(),
        "cycle_basis": stage["cycle_basis"].to_numpy(),
        "overdue_ratio": stage["ratio"].to_numpy(),
        "orders": facts["orders"].to_numpy(),
        "revenue": facts["revenue"].to_numpy(),
        "due_date": due.to_numpy(),
        "contact_date": contact.to_numpy(),
        "product": steps["recommended_product_name"].to_numpy(),
        "product_basis": steps["recommendation_basis"].to_numpy(),
    }).sort_values("customer_id", kind="stable").reset_index(drop=True)


def winback_headline(targets: pd.DataFrame) -> dict[str, object]:
    """Headline numbers of the month's list: targets per group, the early ones (can't lose + slipping, the
    likeliest to come back), those to contact, the control group, the expected 12-month spend of all targets
    (sum of priority: what they would spend without any contact) and of those to contact, the historic
    revenue of the targets and the first contact date."""
    counts = targets["group"].value_counts()
    contacted = targets.loc[to_contact(targets)]
    return {
        "targets": len(targets),
        **{group: int(counts.get(group, 0)) for group in GROUPS},
        "early": int(counts.get("cant_lose", 0) + counts.get("slipping", 0)),
        "contacted": len(contacted),
        "control": int(targets["control"].sum()),
        "no_channel": int(targets["channel"].eq("none").sum()),
        **{f"held_back_{why}": int(targets["held_back"].eq(why).sum()) if "held_back" in targets else 0
           for why in HELD_BACK},
        "value_at_stake": float(targets["priority"].sum()),
        "contacted_expected_spend": float(contacted["priority"].sum()),
        "historic_revenue": float(targets["historic_revenue"].sum()),
        "first_contact_date": contacted["contact_date"].min() if len(contacted) else None,
    }
