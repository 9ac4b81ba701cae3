"""Win-back campaign rules on tiny frames whose right answers are worked out by hand in the comments."""
import hashlib

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from scipy import stats

from crm_report.config import Winback
from crm_report.metrics import campaign
from crm_report.metrics.campaign import (
    TARGETS_FILE,
    assign_control,
    assign_offers,
    build_targets,
    choose_channels,
    contact_calendar,
    control_sizes,
    evaluate_campaign,
    evaluation_window,
    join_value,
    latest_consents,
    load_targets,
    newcombe_interval,
    parse_consent,
    previous_targets,
    priority_scores,
    report_channels,
    save_targets,
    summarise_targets,
    uses_own_tool,
)

LINE_A, LINE_B = "U" + "a" * 32, "U" + "b" * 32


# --- priority -------------------------------------------------------------------------------------------------

def candidates() -> pd.DataFrame:
    """A: model basis (repeat buyer with a prediction): chance = P(alive) 0.8, value = 800 / 0.8 = 1000,
          priority = 0.8 × 1000 = 800 (= the CLV).
    B: no prediction → history: chance = 30 / 60 = 0.5; value = 3000 / (730.5 / 365.25 = 2 years) = 1500;
          priority 750.
    C: one-time buyer whom the model judges (MBG/NBD or Pareto/NBD: P(alive) 0.4, CLV 160) → model basis:
          chance 0.4, value 160 / 0.4 = 400, priority 160. (A BG/NBD one-time buyer has no P(alive): see E
          in the test below.)
    D: within its cycle (20 ≤ 30 days) → chance 1; value 900 / 1 year = 900; priority 900.
    """
    return pd.DataFrame({
        "customer_id": ["A", "B", "C", "D"],
        "group": ["slipping", "slipping", "slipping", "asleep"],
        "historic_revenue": [5000.0, 3000.0, 400.0, 900.0],
        "tenure_days": [400.0, 730.5, 100.0, 365.25],
        "days_since": [50, 60, 90, 20],
        "cycle_days": [40.0, 30.0, 45.0, 30.0],
        "frequency": [3, np.nan, 0, np.nan],
        "p_alive": [0.8, np.nan, 0.4, np.nan],
        "clv": [800.0, np.nan, 160.0, np.nan],
    })


def test_priority_is_chance_times_value_with_a_documented_fallback():
    scored = priority_scores(candidates()).set_index("customer_id")
    assert list(scored.index) == ["D", "A", "B", "C"]  # highest priority first
    assert scored["chance"].to_dict() == pytest.approx({"D": 1.0, "A": 0.8, "B": 0.5, "C": 0.4})
    assert scored["value"].to_dict() == pytest.approx({"D": 900, "A": 1000, "B": 1500, "C": 400})
    assert scored["priority"].to_dict() == pytest.approx({"D": 900, "A": 800, "B": 750, "C": 160})
    assert scored["priority_basis"].to_dict() == {"D": "history", "A": "model", "B": "history", "C": "model"}
    # E: a BG/NBD one-time buyer has a CLV but no P(alive) (the model cannot tell) → history:
    # chance = 45 / 90 = 0.5, value = 400 / max(1, 100 / 365.25) = 400, priority 200
    e = candidates().iloc[[2]].assign(customer_id="E", p_alive=np.nan, clv=500.0)
    e = priority_scores(e).iloc[0]
    assert (e["chance"], e["value"], e["priority"], e["priority_basis"]) == (0.5, 400.0, 200.0, "history")
    assert scored["group_rank"].to_dict() == {"D": 1, "A": 1, "B": 2, "C": 3}


def test_priority_ties_go_to_the_customer_id_and_input_is_not_mutated():
    frame = candidates().assign(customer_id=["Z", "Y", "X", "W"], historic_revenue=900.0, tenure_days=365.25,
                                days_since=20, p_alive=np.nan, clv=np.nan)
    before = frame.copy()
    scored = priority_scores(frame.iloc[::-1])
    assert scored["customer_id"].tolist() == ["W", "X", "Y", "Z"]
    assert scored["group_rank"].tolist() == [1, 1, 2, 3]  # W is 'asleep', X Y Z 'slipping'
    assert_frame_equal(frame, before)


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="tenure_days"), r"missing column\(s\) \['tenure_days'\]"),
    (lambda f: f.assign(cycle_days=[40.0, 0.0, 45.0, 30.0]), r"'cycle_days' must be positive"),
    (lambda f: f.assign(days_since=[50, None, 90, 20]), r"'days_since' has missing values"),
    (lambda f: f.assign(customer_id=["A", "A", "C", "D"]), r"'customer_id' must be unique"),
])
def test_priority_input_checks_name_the_column(change, message):
    with pytest.raises(ValueError, match=message):
        priority_scores(change(candidates()))


def test_join_value_takes_tenure_and_predictions_from_the_value_table():
    table = pd.DataFrame({"T": [400.0, 10.0], "historic_revenue": [5000.0, 1.0], "frequency": [3, 0],
                          "p_alive": [0.8, 1.0], "clv": [800.0, 5.0]}, index=pd.Index(["A", "Z"], name="customer_id"))
    joined = join_value(pd.DataFrame({"customer_id": ["A"], "revenue": [5000.0]}), table)
    assert joined.iloc[0][["tenure_days", "historic_revenue", "frequency", "p_alive", "clv"]].tolist() == [
        400.0, 5000.0, 3, 0.8, 800.0]
    with pytest.raises(ValueError, match="no row for 1 candidate"):
        join_value(pd.DataFrame({"customer_id": ["Q"]}), table)


# --- offers ---------------------------------------------------------------------------------------------------

def offer_frame() -> pd.DataFrame:
    """Values 100…500. Top 40% → threshold = 0.6 quantile = 300 + 0.4 × (400 − 300) = 340 → V and W.
    V is likely to come back anyway (chance 0.9 ≥ 0.7 and 40 ≤ 1.5 × 30 days): no offer despite its value.
    X sits exactly on both limits (0.7, 45 = 1.5 × 30) → none. W: 50 > 45 days → discount. Y, Z → reminder."""
    return pd.DataFrame({"customer_id": list("VWXYZ"), "value": [500.0, 400, 300, 200, 100],
                         "chance": [0.9, 0.9, 0.7, 0.2, 0.69], "days_since": [40, 50, 45, 90, 30],
                         "cycle_days": [30.0, 30, 30, 30, 30]})


def test_offer_restraint():
    offers = assign_offers(offer_frame(), min_chance=0.7, max_cycle_ratio=1.5, discount_top_share=0.4,
                           discount_label="滿千折百")
    assert offers["offer"].tolist() == ["none", "discount", "none", "reminder", "reminder"]
    assert offers["offer_detail"].isna().tolist() == [True, False, True, True, True]
    assert offers.loc[1, "offer_detail"] == "滿千折百"


def test_no_discount_when_the_top_share_is_zero():
    offers = assign_offers(offer_frame(), discount_top_share=0.0)
    assert set(offers["offer"]) == {"none", "reminder"}


# --- consent and channel --------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, code", [
    ("Y", "given"), ("ｙｅｓ", "given"), ("是", "given"), ("同意", "given"), ("Opt-in", "given"), (True, "given"),
    (1, "given"), (1.0, "given"), ("N", "refused"), (" no ", "refused"), ("否", "refused"), ("不同意", "refused"),
    ("opt out", "refused"), ("Opt_Out", "refused"), ("退訂", "refused"), ("unsubscribed", "refused"),
    (False, "refused"), (0, "refused"), ("0", "refused"), (None, "blank"), ("", "blank"), ("  ", "blank"),
    ("maybe", "unrecognised"),
])
def test_parse_consent(raw, code):
    assert parse_consent(pd.Series([raw], dtype=object)).tolist() == [code]


def test_latest_consents_take_the_most_recent_filled_in_value():
    lines = pd.DataFrame({
        "customer_id": ["Q", "P", "Q", "P", "R"],
        "order_date": pd.to_datetime(["2026-02-01", "2026-01-01", "2025-01-01", "2026-02-01", "2026-01-01"]),
        "email_consent": ["退訂", "Y", "Y", None, None],  # rows out of date order on purpose
        "line_consent": [None, "N", None, "是", ""],
    })
    consents = latest_consents(lines)
    assert consents.loc[["P", "Q", "R"]].to_dict("index") == {
        "P": {"line_consent": "given", "email_consent": "given", "sms_consent": "blank"},
        "Q": {"line_consent": "blank", "email_consent": "refused", "sms_consent": "blank"},
        "R": {"line_consent": "blank", "email_consent": "blank", "sms_consent": "blank"},
    }


def contacts_and_consents():
    """a: LINE. b: LINE refused → e-mail. c: LINE id and e-mail malformed → SMS (normalised number).
    d: landline only, e-mail refused → none. e: unreadable e-mail consent counts as a refusal → SMS.
    f: a British mobile with its country code, e-mail refused → SMS in E.164."""
    index = pd.Index(list("abcdef"), name="customer_id")
    contacts = pd.DataFrame({
        "customer_name": ["甲", "乙", "丙", "丁", "戊", "Fay"],
        "line_user_id": [LINE_A, LINE_B, "abc", None, None, None],
        "email": [None, "b@example.com", "not-an-email", "d@example.com", "e@example.com", "f@example.com"],
        "phone": [None, None, "+886 912 345 678", "02-2345-6789", "0987654321", "+44 7911 123456"],
    }, index=index)
    consents = pd.DataFrame({"line_consent": ["blank", "refused", "blank", "blank", "blank", "blank"],
                             "email_consent": ["blank", "given", "blank", "refused", "unrecognised", "refused"],
                             "sms_consent": ["blank", "blank", "blank", "blank", "given", "blank"]}, index=index)
    return contacts, consents


def test_channel_respects_consent_and_address_format():
    contacts, consents = contacts_and_consents()
    chosen = choose_channels(contacts, consents)
    assert chosen["channel"].to_dict() == {"a": "line", "b": "email", "c": "sms", "d": "none", "e": "sms",
                                           "f": "sms"}
    assert chosen["contact"].fillna("-").tolist() == [LINE_A, "b@example.com", "+886912345678", "-",
                                                      "+886987654321", "+447911123456"]


def test_numbers_without_a_country_code_are_read_in_the_clients_region():
    """A Hong Kong client's 9123 4567 is a Hong Kong mobile; read as Taiwanese it is no number at all."""
    contacts = pd.DataFrame({"phone": ["9123 4567", "0912-345-678"]}, index=pd.Index(["h", "t"], name="customer_id"))
    assert choose_channels(contacts, region="HK")["contact"].fillna("-").tolist() == ["+85291234567", "-"]
    assert choose_channels(contacts, region="TW")["contact"].fillna("-").tolist() == ["-", "+886912345678"]


def test_missing_consent_columns_are_not_a_refusal():
    contacts, _ = contacts_and_consents()
    assert choose_channels(contacts)["channel"].to_dict() == {
        "a": "line", "b": "line", "c": "sms", "d": "email", "e": "email", "f": "email"}


# --- control group --------------------------------------------------------------------------------------------

def test_control_sizes_round_half_up_with_a_minimum_group():
    sizes = pd.Series([5, 9, 10, 14, 15, 25, 100])
    # 10% of 10, 14, 15, 25, 100 = 1, 1.4, 1.5, 2.5, 10 → 1, 1, 2, 3, 10; groups under 10 get none
    assert control_sizes(sizes, 0.10, 10).tolist() == [0, 0, 1, 1, 2, 3, 10]
    assert control_sizes(sizes, 0.0, 10).tolist() == [0] * 7
    assert control_sizes(pd.Series([20]), 0.02, 10).tolist() == [1]  # 0.4 rounds to 0 → at least 1


def control_targets() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{i:02d}" for i in range(1, 11)] + ["S1", "S2"],
                         "group": ["big"] * 10 + ["small"] * 2})


def test_control_draw_is_the_smallest_sha256_and_ignores_row_order():
    drawn = assign_control(control_targets(), "demo", "2026-10", share=0.25, min_group=10)
    # 25% of 10 = 2.5 → 3 held out: the three ids with the smallest SHA-256("demo:2026-10:<id>") prefixes,
    # pinned here so that a change to the draw (which would change old months' controls) is noticed.
    assert drawn.loc[drawn["control"], "customer_id"].tolist() == ["C02", "C08", "C09"]
    assert not drawn.loc[drawn["group"].eq("small"), "control"].any()  # 2 < min_group
    by_hand = sorted(control_targets()["customer_id"][:10], key=lambda c: hashlib.sha256(
        f"demo:2026-10:{c}".encode()).digest()[:8])[:3]
    assert sorted(by_hand) == ["C02", "C08", "C09"]
    shuffled = assign_control(control_targets().sample(frac=1, random_state=3), "demo", pd.Period("2026-10", "M"),
                              share=0.25, min_group=10)
    assert sorted(shuffled.loc[shuffled["control"], "customer_id"]) == ["C02", "C08", "C09"]
    november = assign_control(control_targets(), "demo", "2026-11", share=0.25, min_group=10)
    assert november.loc[november["control"], "customer_id"].tolist() == ["C05", "C07", "C09"]


def test_build_targets_draws_the_control_only_among_reachable_customers():
    contacts, consents = contacts_and_consents()
    contacts, consents = contacts.loc[list("abcde")], consents.loc[list("abcde")]
    frame = pd.DataFrame({
        "customer_id": list("abcde"), "group": ["slipping"] * 5, "historic_revenue": [1000.0] * 5,
        "tenure_days": [365.25] * 5, "days_since": [60, 70, 80, 90, 100], "cycle_days": [30.0] * 5,
        "contact_date": pd.to_datetime(["2026-04-01"] * 5), "product": ["魚油"] * 5})
    options = Winback(control_share=0.5, control_min_group=2).campaign_options()
    targets = build_targets(frame, contacts, consents, "demo", "2026-03", **options).set_index("customer_id")
    assert targets.at["d", "channel"] == "none" and not targets.at["d", "control"]
    assert targets["control"].sum() == 2  # half of the 4 reachable
    assert list(targets.columns[:13]) == ["group", "group_rank", "priority", "priority_basis", "chance", "value",
                                          "offer", "offer_detail", "channel", "held_back", "control", "contact_date",
                                          "product"]
    assert {"historic_revenue", "days_since", "cycle_days", "contact"} <= set(targets.columns)  # kept after them
    assert targets.at["c", "contact"] == "+886912345678"
    summary = summarise_targets(targets.reset_index()).set_index("group")
    contacted = targets.loc[~targets["control"] & targets["channel"].ne("none")]
    assert summary.loc["slipping", ["customers", "contacted", "control"]].tolist() == [5, 2, 2]
    assert summary.loc["slipping", ["channel_line", "channel_email", "channel_sms"]].tolist() == [
        contacted["channel"].eq(c).sum() for c in ("line", "email", "sms")]


def test_a_client_whose_data_holds_no_contact_sends_the_whole_list_to_its_own_tool():
    """No customer has a LINE id, e-mail or phone: all five targets are listed for the client's own campaign tool
    with their customer id as the contact, and the control is drawn among all five (50% of 5 = 2.5 → 3).
    One other customer with an e-mail (not on the list) means the data does hold contacts: then the five have
    no channel, as before."""
    frame = pd.DataFrame({
        "customer_id": list("abcde"), "group": ["slipping"] * 5, "historic_revenue": [1000.0] * 5,
        "tenure_days": [365.25] * 5, "days_since": [60, 70, 80, 90, 100], "cycle_days": [30.0] * 5,
        "contact_date": pd.to_datetime(["2026-04-01"] * 5), "product": ["魚油"] * 5})
    bare = pd.DataFrame({"customer_name": list("甲乙丙丁戊"), "line_user_id": None, "email": None, "phone": None},
                        index=pd.Index(list("abcde"), name="customer_id"))
    options = Winback(control_share=0.5, control_min_group=2).campaign_options()
    assert uses_own_tool(bare) and uses_own_tool(bare[["customer_name"]])
    targets = build_targets(frame, bare, None, "demo", "2026-03", **options).set_index("customer_id")
    assert targets["channel"].eq("own").all() and targets["contact"].tolist() == list("abcde")
    assert targets["control"].sum() == 3
    summary = summarise_targets(targets.reset_index()).set_index("group")
    assert summary.loc["slipping", ["contacted", "channel_own", "channel_line"]].tolist() == [2, 2, 0]
    assert report_channels(targets) == ["own"]
    calendar = contact_calendar(targets.reset_index(), "2026-03")
    assert calendar["own"].sum() == 2 and calendar["contacts"].sum() == 2

    with_one = pd.concat([bare, pd.DataFrame({"email": ["z@example.com"]}, index=pd.Index(["z"], name="customer_id"))])
    assert not uses_own_tool(with_one)
    reached = build_targets(frame, with_one, None, "demo", "2026-03", **options)
    assert reached["channel"].eq("none").all() and not reached["control"].any()
    assert report_channels(reached) == ["line", "email", "sms"]


# --- targets file ---------------------------------------------------------------------------------------------

def saved_targets() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["007", "A2"], "group": ["slipping", "asleep"], "group_rank": [1, 1],
                         "priority": [900.5, 10.0], "control": [False, True],
                         "contact_date": pd.to_datetime(["2026-10-05", "2026-10-06"]),
                         "channel": ["line", "email"], "offer": ["none", "discount"],
                         "customer_name": ["王小明", "李四"], "contact": [LINE_A, "x@example.com"]})


@pytest.mark.parametrize("name", ["targets.parquet", "targets.csv"])
def test_targets_round_trip_without_personal_data(tmp_path, name):
    path = save_targets(saved_targets(), tmp_path / "m" / name)
    loaded = load_targets(path)
    assert "customer_name" not in loaded and "contact" not in loaded
    assert loaded["customer_id"].tolist() == ["007", "A2"]  # leading zeros kept
    assert loaded["control"].tolist() == [False, True]
    assert loaded["contact_date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-05", "2026-10-06"]
    assert loaded["priority"].tolist() == [900.5, 10.0]


def test_previous_targets_are_none_for_a_first_month(tmp_path):
    assert previous_targets(tmp_path, "demo", "2026-10") is None
    save_targets(saved_targets(), tmp_path / "demo" / "2026-09" / TARGETS_FILE)
    assert previous_targets(tmp_path, "demo", "2026-10")["customer_id"].tolist() == ["007", "A2"]
    assert previous_targets(tmp_path, "demo", "2026-11") is None  # October never ran


# --- evaluation -----------------------------------------------------------------------------------------------

START, END = evaluation_window("2026-09")


def arm(prefix: str, group: str, n: int, returned: int, control: bool, channel: str = "line") -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"{prefix}{i}" for i in range(n)], "group": group, "control": control,
                         "channel": channel, "returned": np.arange(n) < returned})


def orders_for(people: pd.DataFrame, amounts: list[float] | None = None) -> pd.DataFrame:
    """One order per returner inside the window (amount 100 unless given), plus for the others an order
    exactly at the window's start and one just after its end, which must not count."""
    buyers = people.loc[people["returned"], "customer_id"]
    others = people.loc[~people["returned"], "customer_id"]
    inside = pd.DataFrame({"customer_id": buyers, "order_date": START + pd.Timedelta(days=3),
                           "amount": amounts if amounts is not None else 100.0})
    outside = pd.concat([pd.DataFrame({"customer_id": others, "order_date": START, "amount": 999.0}),
                         pd.DataFrame({"customer_id": others, "order_date": END + pd.Timedelta(seconds=1),
                                       "amount": 999.0})])
    return pd.concat([inside, outside], ignore_index=True)


def test_evaluation_matches_newcombe_1998_and_welch():
    """Group g1 is Newcombe (1998) Table II example (a): 56/70 contacted vs 48/80 control returned; the
    published hybrid score interval (method 10) for the difference 0.2 is 0.0524 to 0.3339.

    Revenue: every returner spent 100, so contacted mean = 5600 / 70 = 80, s² = (56·20² + 14·80²) / 69 =
    1623.19; control mean = 4800 / 80 = 60, s² = (48·40² + 32·60²) / 79 = 2430.38. Welch: se² = 1623.19/70 +
    2430.38/80 = 23.188 + 30.380 = 53.568, se = 7.3190; df = 53.568² / (23.188²/69 + 30.380²/79) = 147.34;
    t(0.975, 147.34) = 1.97620 → 20 ± 14.4638 = (5.5362, 34.4638). Incremental revenue = 20 × 70 = 1400.
    g2: control of 1 (< 30) → too_small. g3: nobody held out → no_control. A returner without a channel is in
    neither arm. Total = g1 alone (the only group with ≥ 2 in each arm), its rate interval the normal one:
    0.2 ± 1.95996 · √(0.8·0.2/70 + 0.6·0.4/80) = 0.2 ± 0.14250.
    """
    people = pd.concat([arm("t", "g1", 70, 56, False), arm("c", "g1", 80, 48, True),
                        arm("u", "g2", 5, 1, False), arm("v", "g2", 1, 1, True),
                        arm("w", "g3", 3, 1, False), arm("x", "g1", 1, 1, False, channel="none")],
                       ignore_index=True)
    result = evaluate_campaign(people.drop(columns="returned"), orders_for(people), START, END, min_group=30,
                               order=["g1", "g2", "g3"]).set_index("group")
    g1 = result.loc["g1"]
    assert g1[["contacted_n", "control_n", "contacted_returned", "control_returned"]].tolist() == [70, 80, 56, 48]
    assert g1["rate_diff"] == pytest.approx(0.2)
    assert (g1["rate_diff_low"], g1["rate_diff_high"]) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert g1[["contacted_revenue_per_customer", "control_revenue_per_customer", "revenue_diff"]].tolist() == (
        pytest.approx([80, 60, 20]))
    assert (g1["revenue_diff_low"], g1["revenue_diff_high"]) == pytest.approx((5.5362, 34.4638), abs=1e-4)
    contacted = np.r_[np.full(56, 100.0), np.zeros(14)]
    control = np.r_[np.full(48, 100.0), np.zeros(32)]
    scipy_ci = stats.ttest_ind(contacted, control, equal_var=False).confidence_interval()
    assert (g1["revenue_diff_low"], g1["revenue_diff_high"]) == pytest.approx(tuple(scipy_ci))
    assert g1["incremental_revenue"] == pytest.approx(1400)
    assert (g1["incremental_revenue_low"], g1["incremental_revenue_high"]) == pytest.approx((387.53, 2412.47),
                                                                                            abs=0.01)
    assert (g1["outcome"], g1["conclusive"], g1["revenue_conclusive"]) == ("lift", True, True)
    assert result.loc["g2", "outcome"] == "too_small" and not result.loc["g2", "conclusive"]
    assert result.loc["g3", ["contacted_n", "control_n", "outcome"]].tolist() == [3, 0, "no_control"]
    total = result.loc["total"]
    assert total[["contacted_n", "control_n", "rate_diff", "incremental_revenue"]].tolist() == pytest.approx(
        [70, 80, 0.2, 1400])
    assert (total["rate_diff_low"], total["rate_diff_high"]) == pytest.approx((0.05750, 0.34250), abs=5e-6)
    assert (total["revenue_diff_low"], total["revenue_diff_high"]) == pytest.approx(tuple(scipy_ci))


def test_published_newcombe_examples():
    # Newcombe (1998) Table II, method 10: (b) 9/10 − 3/10, (c) 6/7 − 2/7, (d) 5/56 − 0/29
    low, high = newcombe_interval([9, 6, 5], [10, 7, 56], [3, 2, 0], [10, 7, 29], stats.norm.ppf(0.975))
    assert low == pytest.approx([0.1705, 0.0582, -0.0381], abs=5e-5)
    assert high == pytest.approx([0.8090, 0.8062, 0.1926], abs=5e-5)


def test_total_reweights_the_control_to_the_contacted_group_mix():
    """a: contacted 2/4 returned (100, 100, 0, 0), control 1/4 (100, 0, 0, 0);
    b: contacted 0/6, control 1/2 (50, 0). Weights = contacted shares 4/10, 6/10.
    Control rate = 0.4·0.25 + 0.6·0.5 = 0.4 (not the pooled 2/6), contacted rate 0.2, difference −0.2;
    se² = 0.16·(0.25/4 + 0.1875/4) + 0.36·(0 + 0.25/2) = 0.0625 → −0.2 ± 1.95996·0.25 = (−0.6900, 0.2900).
    Revenue per customer: contacted 0.4·50 + 0.6·0 = 20, control 0.4·25 + 0.6·25 = 25, difference −5;
    incremental = −5 × 10 = −50 = a's (50 − 25)·4 = 100 plus b's (0 − 25)·6 = −150.
    s²: a contacted 10000/3, a control 7500/3, b contacted 0, b control 1250 → terms w²s²/n: 133.33, 100, 0, 225;
    se² = 458.33; df = 458.33² / (133.33²/3 + 100²/3 + 225²/1) = 3.5079; t = 2.93700 → −5 ± 62.877.
    """
    people = pd.concat([arm("a", "a", 4, 2, False), arm("ac", "a", 4, 1, True),
                        arm("b", "b", 6, 0, False), arm("bc", "b", 2, 1, True)], ignore_index=True)
    orders = orders_for(people, amounts=[100.0, 100.0, 100.0, 50.0])
    total = evaluate_campaign(people.drop(columns="returned"), orders, START, END, min_group=2).set_index(
        "group").loc["total"]
    assert total[["contacted_n", "control_n", "contacted_returned", "control_returned"]].tolist() == [10, 6, 2, 2]
    assert total[["contacted_rate", "control_rate", "rate_diff"]].tolist() == pytest.approx([0.2, 0.4, -0.2])
    assert (total["rate_diff_low"], total["rate_diff_high"]) == pytest.approx((-0.68999, 0.28999), abs=1e-5)
    assert total[["contacted_revenue_per_customer", "control_revenue_per_customer", "incremental_revenue"]].tolist() \
        == pytest.approx([20, 25, -50])
    t = stats.t.ppf(0.975, 458.3333 ** 2 / (133.3333 ** 2 / 3 + 100 ** 2 / 3 + 225 ** 2))
    assert (total["revenue_diff_low"], total["revenue_diff_high"]) == pytest.approx(
        (-5 - t * 458.3333 ** 0.5, -5 + t * 458.3333 ** 0.5), abs=1e-3)
    assert (total["outcome"], total["conclusive"], total["revenue_conclusive"]) == ("unclear", False, False)


def test_evaluation_window_is_the_month_after_the_list():
    assert (START, END) == (pd.Period("2026-09", "M").end_time, pd.Period("2026-10", "M").end_time)


# --- calendar -------------------------------------------------------------------------------------------------

def test_contact_calendar_counts_contacts_per_iso_week_of_the_next_month():
    """Report month 2026-03 → contacts in April 2026 (1 April is a Wednesday): weeks from Mon 30 March
    (W14) to the week of 30 April (W18, Mon 27 April), extended to W19 for a contact on 5 May. Control and
    channel-less customers are not contacted."""
    targets = pd.DataFrame({
        "contact_date": pd.to_datetime(["2026-04-01", "2026-04-05", "2026-04-06", "2026-04-07", "2026-04-08",
                                        "2026-05-05"]),
        "channel": ["line", "email", "sms", "line", "none", "line"],
        "control": [False, False, False, True, False, False]})
    calendar = contact_calendar(targets, "2026-03")
    assert calendar["week"].tolist() == ["2026-W14", "2026-W15", "2026-W16", "2026-W17", "2026-W18", "2026-W19"]
    assert calendar["week_start"].dt.strftime("%m-%d").tolist() == ["03-30", "04-06", "04-13", "04-20", "04-27",
                                                                   "05-04"]
    assert calendar["contacts"].tolist() == [2, 1, 0, 0, 0, 1]
    assert calendar[["line", "email", "sms"]].iloc[0].tolist() == [1, 1, 0]
    assert calendar["contacts"].sum() == 4


# --- options --------------------------------------------------------------------------------------------------

def test_winback_options_in_client_yaml(tmp_path):
    from crm_report.config import ConfigError, load_config
    folder = tmp_path / "acme"
    folder.mkdir()
    base = "display_name: 測試\nsource:\n  path: orders.csv\n"
    (folder / "client.yaml").write_text(base, encoding="utf-8")
    assert load_config("acme", tmp_path).winback == Winback()
    assert Winback().control_share == 0.10 and Winback().discount_label is None
    assert load_config("acme", tmp_path).discount_label == "9折"  # economics.discount_rate 0.10, in zh-TW
    (folder / "client.yaml").write_text(base + "winback:\n  control_share: 0.2\n  discount_label: 滿千折百\n",
                                        encoding="utf-8")
    options = load_config("acme", tmp_path).winback
    assert (options.control_share, options.discount_label, options.min_group_for_evaluation) == (0.2, "滿千折百", 30)
    assert load_config("acme", tmp_path).campaign_options()["discount_label"] == "滿千折百"
    (folder / "client.yaml").write_text(base + "winback:\n  control_share: 0.8\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"winback.control_share: .*less than or equal to 0.5"):
        load_config("acme", tmp_path)


def test_evaluation_without_any_control_says_so_instead_of_failing():
    people = arm("t", "g1", 3, 1, False)
    result = evaluate_campaign(people.drop(columns="returned"), orders_for(people), START, END)
    assert result["group"].tolist() == ["g1", "total"]
    assert result["outcome"].tolist() == ["no_control", "no_control"]
    assert result["rate_diff"].isna().all() and not result["conclusive"].any()
    empty = evaluate_campaign(people.drop(columns="returned").iloc[:0], orders_for(people), START, END)
    assert empty["group"].tolist() == ["total"] and empty.at[0, "outcome"] == "no_control"


def test_evaluation_lists_only_groups_that_had_anyone():
    targets = pd.DataFrame({"customer_id": list("abcd"), "group": ["slipping"] * 4,
                            "control": [False, False, True, True], "channel": ["line"] * 4})
    orders = pd.DataFrame({"customer_id": ["a"], "order_date": pd.to_datetime(["2026-04-03"]), "amount": [100.0]})
    table = evaluate_campaign(targets, orders, pd.Timestamp("2026-03-31 23:59:59"),
                              pd.Timestamp("2026-04-30 23:59:59"), min_group=1, order=("cant_lose", "slipping"))
    assert table["group"].tolist() == ["slipping", "total"]


# --- honest evaluation (issue 10): Holm, detectable difference, mixed results, pooled months, send records ---


def test_holm_adjustment_by_hand():
    # sorted 0.01, 0.03, 0.04 → × 3, 2, 1 = 0.03, 0.06, 0.04 → running max 0.03, 0.06, 0.06
    np.testing.assert_allclose(campaign.holm(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])
    assert campaign.holm(np.array([])).size == 0
    np.testing.assert_allclose(campaign.holm(np.array([0.5, 0.6])), [1.0, 1.0])


def test_smallest_detectable_difference_and_p_value_by_hand():
    """g: 30/100 contacted vs 20/100 control. Pooled rate 0.25; √(0.25·0.75·(2/100)) = 0.061237;
    z = 0.1 / 0.061237 = 1.63299 → p = 0.10247; mde = (1.959964 + 0.841621) × 0.061237 = 0.171562."""
    people = pd.concat([arm("t", "g", 100, 30, False), arm("c", "g", 100, 20, True)], ignore_index=True)
    row = evaluate_campaign(people.drop(columns="returned"), orders_for(people), START, END).set_index(
        "group").loc["g"]
    assert row["p_value"] == pytest.approx(0.10247, abs=1e-5)
    assert row["mde"] == pytest.approx(0.171562, abs=1e-6)
    assert row["outcome"] == "unclear"  # enough customers, no clear difference: not "too small"


def test_five_groups_of_noise_rarely_report_an_effect():
    """Issue 10: a 2.3-point 'drop' was reported from five groups tested without correction on data with no
    campaign at all. With the same true return rate in both arms, over 100 simulated campaigns of five groups
    (400 contacted, 100 control each), the share of campaigns with any group called a lift or a drop stays
    near 5% (Holm), where testing each group at 5% would give about 1 − 0.95⁵ = 23%."""
    rng = np.random.default_rng(40)
    flagged = 0
    for _ in range(100):
        parts = []
        for k in range(5):
            rate = 0.05 + 0.03 * k
            parts.append(arm(f"t{k}-", f"g{k}", 400, rng.binomial(400, rate), False))
            parts.append(arm(f"c{k}-", f"g{k}", 100, rng.binomial(100, rate), True))
        people = pd.concat(parts, ignore_index=True)
        result = evaluate_campaign(people.drop(columns="returned"), orders_for(people), START, END)
        flagged += result.loc[result["group"].ne("total"), "conclusive"].any()
    assert flagged / 100 <= 0.10


def test_a_real_effect_is_recovered():
    """Contacted return 20%, control 10% in a group of 2,000 + 500: the lift is found, with the interval
    around +10 points."""
    people = pd.concat([arm("t", "g", 2000, 400, False), arm("c", "g", 500, 50, True)], ignore_index=True)
    result = evaluate_campaign(people.drop(columns="returned"), orders_for(people), START, END).set_index("group")
    assert result.loc["g", "outcome"] == "lift" and result.loc["total", "outcome"] == "lift"
    assert result.loc["total", "rate_diff_low"] < 0.10 < result.loc["total", "rate_diff_high"]


def test_rate_and_revenue_in_opposite_directions_are_mixed_not_a_lift():
    """More contacted customers came back (60% vs 30%) but each spent far less (10 vs 1,000): the rate says
    lift, the revenue says drop, so the report draws no conclusion."""
    people = pd.concat([arm("t", "g", 100, 60, False), arm("c", "g", 100, 30, True)], ignore_index=True)
    amounts = [10.0] * 60 + [1000.0] * 30
    result = evaluate_campaign(people.drop(columns="returned"), orders_for(people, amounts), START, END)
    assert result.set_index("group").loc["total", "outcome"] == "mixed"


def test_campaign_history_pools_months_and_needs_a_send_record(tmp_path):
    reports, folder = tmp_path / "reports", tmp_path / "client"
    for month, ids in (("2026-08", ["a", "b"]), ("2026-09", ["c", "d"])):
        targets = pd.DataFrame({"customer_id": ids, "group": "slipping", "priority": 1.0, "control": [False, True],
                                "contact_date": pd.Timestamp(f"{month}-28"), "channel": "line", "offer": "reminder"})
        save_targets(targets, reports / "demo" / month / TARGETS_FILE)
    assert campaign.campaign_history(reports, folder, "demo", "2026-08") is None  # no July list
    history = campaign.campaign_history(reports, folder, "demo", "2026-10")
    assert history["campaign_month"].tolist() == ["2026-09", "2026-09", "2026-08", "2026-08"]
    assert not history["confirmed"].any()
    verdict = campaign.campaign_verdict(None, history)
    assert verdict["outcome"] == "unconfirmed"
    (folder / campaign.SENT_DIR).mkdir(parents=True)
    (folder / campaign.SENT_DIR / "2026-09.csv").write_text("customer_id\nc\n", encoding="utf-8")
    (folder / campaign.SENT_DIR / "2026-08.txt").write_text("sent by LINE on 8/29", encoding="utf-8")
    history = campaign.campaign_history(reports, folder, "demo", "2026-10")
    assert history["confirmed"].all()
    assert history.set_index("customer_id")["sent"].to_dict() == {"c": True, "d": False, "a": True, "b": False}
    assert campaign.campaign_verdict(None, None)["outcome"] == "no_list"


def test_pooled_lists_use_each_months_own_window():
    """a was on August's list and bought in September (its window); c on September's list bought in September,
    which is before its October window: only a returned."""
    targets = pd.DataFrame({"customer_id": ["a", "c"], "group": "g", "control": False, "channel": "line",
                            "campaign_month": ["2026-08", "2026-09"]})
    orders = pd.DataFrame({"customer_id": ["a", "c"], "order_date": pd.Timestamp("2026-09-10"), "amount": 10.0})
    result = evaluate_campaign(targets, orders, min_group=1).set_index("group")
    assert result.loc["g", ["contacted_n", "contacted_returned"]].tolist() == [2, 1]


def test_verdict_says_when_a_lift_has_an_uncertain_amount():
    people = pd.concat([arm("t", "g", 2000, 400, False), arm("c", "g", 500, 50, True)], ignore_index=True)
    orders = orders_for(people, amounts=[1.0] * 399 + [100000.0] + [50.0] * 50)  # one huge order: noisy revenue
    evaluation = evaluate_campaign(people.drop(columns="returned"), orders, START, END)
    history = people.assign(campaign_month="2026-09", confirmed=True)
    verdict = campaign.campaign_verdict(evaluation, history)
    assert verdict["outcome"] == "lift" and verdict["sentence"] == "lift_revenue_unclear"
    assert verdict["months"] == ["2026-09"] and verdict["significant_groups"] == ["g"]


# --- contact hygiene (issue 10): frequency cap and unanswered contacts --------------------------------------


def _history(rows: list[tuple[str, str, bool]]) -> pd.DataFrame:
    """(customer_id, campaign_month, sent)."""
    return pd.DataFrame(rows, columns=["customer_id", "campaign_month", "sent"]).assign(confirmed=True)


def test_contact_hygiene_by_hand():
    """November's list. A was sent in Sept and Oct (2 of the last 3 months) → frequency cap. B was sent in
    Aug, Sept, Oct without buying since 1 Aug → unanswered (with the cap off: a cap of 2 would catch B
    first). C was sent in Aug, Sept, Oct but bought on 15 Sept → not held back. D's October list was prepared
    but its sending is unconfirmed (sent False) → counts as no contact."""
    history = _history([("A", "2026-09", True), ("A", "2026-10", True),
                        ("B", "2026-08", True), ("B", "2026-09", True), ("B", "2026-10", True),
                        ("C", "2026-08", True), ("C", "2026-09", True), ("C", "2026-10", True),
                        ("D", "2026-09", True), ("D", "2026-10", False)])
    orders = pd.DataFrame({"customer_id": ["C"], "order_date": [pd.Timestamp("2026-09-15")], "amount": [10.0]})
    ids = pd.Series(["A", "B", "C", "D", "E"])
    capped = campaign.contact_hygiene(ids, history, orders, "2026-11", max_contacts=2, window_months=3)
    assert capped.to_dict() == {"A": "frequency_cap", "B": "frequency_cap", "C": "frequency_cap", "D": "",
                                "E": ""}
    silent = campaign.contact_hygiene(ids, history, orders, "2026-11", max_contacts=0, unanswered_limit=3)
    assert silent.to_dict() == {"A": "", "B": "unanswered", "C": "", "D": "", "E": ""}
    assert campaign.contact_hygiene(ids, None, orders, "2026-11").eq("").all()


def test_held_back_customers_are_neither_contacted_nor_control():
    frame = candidates().assign(contact_date=pd.Timestamp("2026-04-01"))
    contacts = pd.DataFrame({"email": ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]},
                            index=frame["customer_id"])
    held = pd.Series({"A": "frequency_cap"})
    targets = build_targets(frame, contacts, None, "demo", "2026-03", held_back=held, control_share=0.5,
                            control_min_group=1)
    row = targets.set_index("customer_id").loc["A"]
    assert row["held_back"] == "frequency_cap" and not row["control"] and row["channel"] == "email"
    assert not campaign.to_contact(targets).loc[targets["customer_id"].eq("A")].any()
    assert campaign.reachable(targets).sum() == 3
