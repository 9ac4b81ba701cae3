"""Win-back targets on a hand-computed example; report month 2026-03 (as-of day 2026-03-31, a Tuesday).

Intervals: J 61 and 45 days, K 31 days; the client median of all intervals is 45 (fewer than 20 intervals per
order count, so every customer without two intervals of their own gets 45).
J: 2025-06-01 (Sun) 250, 2025-08-01 (Fri) 250, 2025-09-15 (Mon) 100 — own cycle median(61, 45) = 53 days;
   197 days since → 3.72× → S3.
K: 2026-01-01 (Thu) 300, 2026-02-01 (Sun) 300 — cycle 45; 58 days since → 1.29× → S1.
L: 2025-12-01 (Mon) 1000 — cycle 45; 120 days since → 2.67× → S2.
M: 2026-03-30 50 — one purchase, 1 day since → N (not targeted).
"""
import numpy as np
import pandas as pd
import pytest

from crm_report.metrics import lifecycle
from crm_report.metrics.orders import purchase_orders
from crm_report.metrics.winback import (
    contact_dates,
    latest_contacts,
    target_groups,
    winback_candidates,
    winback_headline,
)
from tests.conftest import make_lines

AS_OF = pd.Period("2026-03", "M").end_time


@pytest.fixture
def lines():
    frame = make_lines([
        ("j1", "J", "2025-06-01", 250, "paid"), ("j2", "J", "2025-08-01", 250, "paid"),
        ("j3", "J", "2025-09-15", 100, "paid"),
        ("k1", "K", "2026-01-01", 300, "paid"), ("k2", "K", "2026-02-01", 300, "paid"),
        ("l1", "L", "2025-12-01", 1000, "paid"),
        ("m1", "M", "2026-03-30", 50, "paid"),
    ])
    contacts = {"J": ("陳小明", "j@example.com", "0912345678", "U" + "a" * 32),
                "K": ("林美", "k@example.com", None, None),
                "L": ("王大同", None, "0987654321", None),
                "M": (None, None, None, None)}
    for column, index in (("customer_name", 0), ("email", 1), ("phone", 2), ("line_user_id", 3)):
        frame[column] = frame["customer_id"].map(lambda c, index=index: contacts[c][index])
    return frame


@pytest.fixture
def orders(lines):
    return purchase_orders(lines, AS_OF)


@pytest.fixture
def stages(orders):
    return lifecycle.nes_stages(orders, AS_OF)


def test_groups_follow_nes_stages_and_rfm_segments(stages):
    segments = pd.Series({"J": "previously_loyal", "K": "needs_attention", "L": "almost_lost", "M": "new"})
    groups = target_groups(stages, segments, pd.Series(dtype=float), pd.Series({"J": 2, "K": 1}))
    assert groups.dropna().to_dict() == {"J": "cant_lose", "K": "slipping", "L": "half_asleep"}
    assert np.isnan(groups["M"])  # N: within their cycle
    klaviyo = target_groups(stages, segments.replace({"previously_loyal": "inactive"}), pd.Series(dtype=float),
                            pd.Series({"J": 2, "K": 1}), style="klaviyo")
    assert klaviyo["J"] == "asleep"


def test_fading_needs_a_repeat_purchase_and_a_low_p_alive():
    stages = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "stage": ["E0", "E0", "N", "E0"]})
    segments = pd.Series({"a": "loyal", "b": "loyal", "c": "new", "d": "loyal"})
    p_alive = pd.Series({"a": 0.3, "b": 0.5, "c": 0.1, "d": np.nan})  # c: one-time buyer (P(alive) is 1 in
    frequency = pd.Series({"a": 3, "b": 3, "c": 0, "d": 3})            # BG/NBD anyway); d: no prediction
    groups = target_groups(stages, segments, p_alive, frequency)
    assert groups.dropna().to_dict() == {"a": "fading"}  # b: exactly 0.5 is not below the threshold


def test_due_soon_is_an_active_customer_whose_consumable_runs_low_next_month():
    stages = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"], "stage": ["E0", "N", "E0", "S1", "E0"]})
    segments = pd.Series({"a": "loyal", "b": "new", "c": "loyal", "d": "loyal", "e": "loyal"})
    p_alive = pd.Series({"a": 0.9, "b": np.nan, "c": 0.9, "d": 0.9, "e": 0.2})
    frequency = pd.Series({"a": 3, "b": 0, "c": 3, "d": 3, "e": 3})
    reminders = pd.Series(pd.to_datetime(["2026-04-30", "2026-04-02", "2026-05-01", "2026-04-10", "2026-04-10"]),
                          index=["a", "b", "c", "d", "e"])
    groups = target_groups(stages, segments, p_alive, frequency, reminders=reminders,
                           due_by=pd.Timestamp("2026-04-30 23:59:59"))
    # a, b: due by the end of April; c: due in May; d: already lapsed (slipping); e: fading comes first
    assert groups.dropna().to_dict() == {"a": "due_soon", "b": "due_soon", "d": "slipping", "e": "fading"}


def test_contact_dates_before_the_due_date():
    # Preferred weekday Monday (0). Due 04-16 (Thu) → the Monday before, 04-13. Due 04-02 (Thu): that Monday
    # (03-30) is in the report month → 04-02 itself. Due 03-20 (passed) → the first Monday after March, 04-06.
    due = pd.Series(pd.to_datetime(["2026-04-16", "2026-04-02", "2026-03-20"]), index=["a", "b", "c"])
    contact = contact_dates(due, pd.Series({"a": 0, "b": 0, "c": 0}), AS_OF)
    assert contact.dt.strftime("%Y-%m-%d").tolist() == ["2026-04-13", "2026-04-02", "2026-04-06"]


def test_candidates_due_and_contact_dates_with_products(orders, stages):
    groups = pd.Series({"J": "cant_lose", "K": "slipping", "L": "half_asleep", "M": np.nan})
    steps = pd.DataFrame({"customer_id": ["J", "K", "L", "M"],
                          "reminder_date": pd.to_datetime([None, "2026-03-10", "2026-04-20", None]),
                          "recommended_product_name": ["魚油", "維他命", "葉黃素", "魚油"],
                          "recommendation_basis": ["best_seller", "replenish", "replenish", "best_seller"]})
    candidates = winback_candidates(orders, stages, groups, steps, AS_OF, lead_days=3).set_index("customer_id")
    assert list(candidates.index) == ["J", "K", "L"]
    # Own due day = last purchase + ⌊cycle⌋ − 3: J 2025-09-15 + 50 = 11-04; K 02-01 + 42 = 03-15, but its
    # reminder 03-10 is earlier; L 2025-12-01 + 42 = 2026-01-12 (its reminder 04-20 is later).
    assert candidates["due_date"].dt.strftime("%Y-%m-%d").to_dict() == {
        "J": "2025-11-04", "K": "2026-03-10", "L": "2026-01-12"}
    # All overdue → first preferred weekday after March (Wed 04-01): J ties → latest (Mon) 04-06;
    # K ties → latest (Sun) 04-05; L Monday 04-06.
    assert candidates["contact_date"].dt.strftime("%Y-%m-%d").to_dict() == {
        "J": "2026-04-06", "K": "2026-04-05", "L": "2026-04-06"}
    assert candidates["cycle_days"].to_dict() == {"J": 53, "K": 45, "L": 45}
    assert candidates["overdue_ratio"]["J"] == pytest.approx(197 / 53)
    assert candidates["revenue"].to_dict() == {"J": 600, "K": 600, "L": 1000}
    assert candidates["product"].to_dict() == {"J": "魚油", "K": "維他命", "L": "葉黃素"}


def test_latest_contacts_take_the_newest_non_empty_value(lines):
    later = make_lines([("k3", "K", "2026-02-15", 0, "cancelled")]).assign(
        customer_name="林美美", email=None, phone="0911000111", line_user_id=None)
    contacts = latest_contacts(pd.concat([lines, later]))
    assert contacts.loc["K"].tolist() == ["林美美", "k@example.com", "0911000111", None]


def test_headline_counts_the_list():
    targets = pd.DataFrame({"group": ["cant_lose", "slipping", "slipping", "asleep"],
                            "control": [False, True, False, False], "channel": ["line", "email", "none", "sms"],
                            "priority": [100.0, 50.0, 20.0, 5.0], "historic_revenue": [900.0, 300, 200, 100],
                            "contact_date": pd.to_datetime(["2026-04-06", "2026-04-02", "2026-04-03",
                                                            "2026-04-05"])})
    headline = winback_headline(targets)
    assert headline == {"targets": 4, "cant_lose": 1, "slipping": 2, "half_asleep": 0, "asleep": 1, "fading": 0,
                        "due_soon": 0, "early": 3, "contacted": 2, "control": 1, "no_channel": 1,
                        "held_back_frequency_cap": 0, "held_back_unanswered": 0, "held_back_unprofitable": 0,
                        "value_at_stake": 175.0, "contacted_expected_spend": 105.0,  # the line and the SMS customer
                        "historic_revenue": 1500.0, "first_contact_date": pd.Timestamp("2026-04-05")}
