"""Campaign economics (crm_report.metrics.economics) against hand-computed examples."""
import numpy as np
import pandas as pd
import pytest

from crm_report.config import Economics
from crm_report.metrics import economics

OPTIONS = Economics().plan_options()  # margin 0.5; LINE 0.2, e-mail 0.05, SMS 0.8; discount 10%; prior 1/2/4%


def _targets() -> pd.DataFrame:
    day = pd.Timestamp("2026-12-03")
    rows = [  # customer, group, offer, channel, control, historic revenue, orders, priority
        ("c1", "slipping", "reminder", "line", False, 3000.0, 3, 1200.0),
        ("c2", "slipping", "discount", "sms", False, 2000.0, 1, 2400.0),
        ("c3", "slipping", "none", "email", False, 500.0, 1, 600.0),
        ("c4", "slipping", "reminder", "line", True, 900.0, 1, 300.0),
        ("c5", "asleep", "discount", "sms", False, 100.0, 1, 1200.0),
        ("c6", "asleep", "reminder", "none", False, 100.0, 1, 50.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "group", "offer", "channel", "control", "historic_revenue",
                                        "orders", "priority"])
    return frame.assign(held_back="", contact_date=[day + pd.Timedelta(days=i) for i in range(len(frame))])


def test_plan_by_hand_without_past_results():
    plan = economics.campaign_plan(_targets(), None, **OPTIONS).set_index("group")
    slipping = plan.loc["slipping"]
    # priors: c1 2% × 1,000 = 20, c2 4% × 2,000 = 80, c3 1% × 500 = 5 → mean 35 per contacted customer
    assert slipping["contacted"] == 3 and slipping["control"] == 1
    assert slipping["uplift"] == pytest.approx(35) and slipping["basis"] == "prior"
    assert slipping["evidence_weight"] == 0
    assert slipping["incremental_revenue"] == pytest.approx(105)
    assert slipping["message_cost"] == pytest.approx(0.2 + 0.8 + 0.05)
    assert slipping["offer_cost"] == pytest.approx(0.10 * (2400 / 12 + 35))  # the discount on usual spend + uplift
    assert slipping["profit"] == pytest.approx(0.5 * 105 - 1.05 - 23.5)
    assert slipping["recommended"] and slipping["rank"] == 1
    # the range: the prior's sd is its own size, 35 → revenue (35 ± 1.96 × 35) × 3, at the same cost
    assert slipping["profit_low"] == pytest.approx(0.5 * (35 - 1.959964 * 35) * 3 - 24.55, abs=1e-3)
    assert slipping["profit_high"] == pytest.approx(0.5 * (35 + 1.959964 * 35) * 3 - 24.55, abs=1e-3)
    assert np.isnan(slipping["measured_low"])
    assert slipping["main_channel"] in {"line", "sms", "email"}
    asleep = plan.loc["asleep"]  # c6 has no channel: not contacted
    assert asleep["contacted"] == 1
    assert asleep["profit"] == pytest.approx(0.5 * 4 - 0.8 - 0.10 * (100 + 4))
    assert not asleep["recommended"] and np.isnan(asleep["rank"])
    assert list(plan.index) == ["slipping", "asleep"]  # recommended first, by profit


def test_measured_results_outweigh_the_prior_by_their_precision():
    uplift, sd, weight = economics.combine(35.0, 15.0, 17.5)
    # prior sd 35 (variance 1,225), measurement variance 306.25: weights 0.2 and 0.8
    assert weight == pytest.approx(0.8)
    assert uplift == pytest.approx(0.2 * 35 + 0.8 * 15)
    assert sd == pytest.approx(np.sqrt(245))
    assert economics.combine(35.0, None, None) == (35.0, 35.0, 0.0)
    assert economics.combine(35.0, 15.0, float("nan"))[2] == 0.0


def test_a_clear_null_result_stops_a_group_a_noisy_one_does_not():
    evaluation = pd.DataFrame({
        "group": ["slipping", "asleep", "total"], "contacted_n": [5000, 1, 5001], "control_n": [500, 1, 501],
        "revenue_diff": [0.0, 500.0, 0.0], "revenue_diff_se": [1.0, 300.0, 1.0],
        "revenue_diff_low": [-1.96, -100.0, -1.96], "revenue_diff_high": [1.96, 1100.0, 1.96],
        "outcome": ["unclear", "too_small", "unclear"]})
    measured = economics.measured_uplift(evaluation)
    assert list(measured.index) == ["slipping"]  # one customer per arm measures nothing; total is not a group
    too_small = evaluation.assign(contacted_n=[5000, 20, 5020], control_n=[500, 20, 520])
    assert list(economics.measured_uplift(too_small).index) == ["slipping"]  # "too small to judge": no weight
    plan = economics.campaign_plan(_targets(), evaluation, **OPTIONS).set_index("group")
    assert plan.loc["slipping", "basis"] == "measured_unclear" and plan.loc["slipping", "uplift"] < 0.1
    assert plan.loc["slipping", ["measured_low", "measured_high"]].tolist() == pytest.approx([-1.96, 1.96], abs=0.01)
    assert not plan.loc["slipping", "recommended"]  # measured ≈ 0: the messages and discounts do not pay


def test_groups_that_do_not_pay_are_held_back_and_not_compared():
    targets = _targets()
    plan = economics.campaign_plan(targets, None, **OPTIONS)
    applied = economics.apply_plan(targets, plan).set_index("customer_id")
    assert applied.loc["c5", "held_back"] == "unprofitable" and not applied.loc["c5", "control"]
    assert applied.loc["c6", "held_back"] == ""  # no channel: not a contact anyway
    assert (applied.loc[["c1", "c2", "c3", "c4"], "held_back"] == "").all()
    assert applied.loc["c4", "control"]
    totals = economics.plan_totals(plan)
    assert totals["groups"] == 1 and totals["contacted"] == 3 and totals["unprofitable_groups"] == 1
    assert totals["unprofitable_customers"] == 1
    assert totals["profit"] == pytest.approx(0.5 * 105 - 1.05 - 23.5)


@pytest.mark.parametrize("weight, low, high, expected", [
    (0.0, np.nan, np.nan, "prior"), (0.2, -5, 9, "mostly_prior"), (0.5, 1, 9, "measured"),
    (0.9, -11, 68, "measured_unclear"), (0.9, -9, -1, "measured")])
def test_the_basis_names_what_the_estimate_rests_on(weight, low, high, expected):
    assert economics.basis(weight, low, high) == expected


def test_each_customers_profit_adds_up_to_the_groups():
    targets = _targets()
    plan = economics.campaign_plan(targets, None, **OPTIONS)
    profit = economics.customer_profit(targets, plan, **OPTIONS)
    # c1: 0.5 × 20 − 0.2 = 9.8; c2: 0.5 × 80 − 0.8 − 0.1 × (2400/12 + 80) = 11.2; c3: 0.5 × 5 − 0.05 = 2.45
    assert profit[:3].tolist() == pytest.approx([9.8, 11.2, 2.45])
    assert np.isnan(profit[3]) and np.isnan(profit[5])  # the control and the customer without a channel
    # the group's discount is on its mean uplift (35), each customer's on their own (c2: 80)
    assert profit[:3].sum() == pytest.approx(plan.set_index("group").loc["slipping", "profit"] + 0.1 * (35 - 80))


def test_the_most_profitable_contacts_first_ties_by_customer_id():
    """The report's "who first" table: contacted customers only (not the control c4, not c6 without a
    channel), highest expected profit first; c7 has c1's profit (9.8) and comes after it by id."""
    targets = pd.concat([_targets(), _targets().iloc[[0]].assign(customer_id="c7")], ignore_index=True)
    plan = economics.campaign_plan(targets, None, **OPTIONS)
    best = economics.most_profitable(targets, plan, 3, **OPTIONS)
    assert best["customer_id"].tolist() == ["c2", "c1", "c7"]
    assert best["expected_profit"].tolist() == pytest.approx([11.2, 9.8, 9.8])
    assert best.columns.tolist() == [*targets.columns, "expected_profit"]
    everyone = economics.most_profitable(targets, plan, 100, **OPTIONS)
    assert sorted(everyone["customer_id"]) == ["c1", "c2", "c3", "c5", "c7"]
    assert everyone["expected_profit"].is_monotonic_decreasing
