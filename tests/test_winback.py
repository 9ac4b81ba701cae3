"""Win-back candidates on a hand-computed example; report month 2026-03 (as-of day 2026-03-31, a Tuesday).

J: 2025-06-01 (Sun) 250, 2025-08-01 (Fri) 250, 2025-09-15 (Mon) 100 — own cycle median(61, 45) = 53 days;
   197 days since → 3.72× → asleep.
K: 2026-01-01 (Thu) 300, 2026-02-01 (Sun) 300 — one interval only → client cycle median(61, 45, 31) = 45;
   58 days since → 1.29× → slipping.
L: 2025-12-01 (Mon) 1000 — client cycle 45; 120 days since → 2.67× → at risk.
M: 2026-03-30 50 — one purchase, 1 day since → not overdue (and adds no interval).
"""
import pandas as pd
import pytest

from crm_report.metrics.orders import purchase_orders
from crm_report.metrics.repurchase import purchase_intervals
from crm_report.metrics.winback import latest_contacts, summarise_winback, winback_candidates, winback_headline
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
        frame[column] = frame["customer_id"].map(lambda c: contacts[c][index])
    return frame


@pytest.fixture
def candidates(lines):
    orders = purchase_orders(lines, AS_OF)
    return winback_candidates(orders, purchase_intervals(orders), latest_contacts(lines), AS_OF).set_index("customer_id")


def test_who_is_overdue_and_by_how_much(candidates):
    assert list(candidates.index) == ["L", "J", "K"]  # by revenue; J and K tie at 600 → id order
    assert candidates["rank"].tolist() == [1, 2, 3]
    assert candidates.at["J", "cycle_days"] == 53 and candidates.at["J", "cycle_source"] == "own"
    assert candidates.at["K", "cycle_days"] == 45 and candidates.at["K", "cycle_source"] == "client"
    assert candidates["days_since"].to_dict() == {"L": 120, "J": 197, "K": 58}
    assert candidates.at["J", "overdue_ratio"] == pytest.approx(197 / 53)
    assert candidates["group"].to_dict() == {"L": "at_risk", "J": "asleep", "K": "slipping"}


def test_contact_date_and_channel(candidates):
    # First day after March is Wed 2026-04-01. J's weekdays tie → latest (Mon) → 04-06;
    # K ties → latest (Sun) → 04-05; L bought on a Monday → 04-06.
    assert candidates["contact_date"].dt.strftime("%Y-%m-%d").to_dict() == {
        "L": "2026-04-06", "J": "2026-04-06", "K": "2026-04-05"}
    assert candidates["channel"].to_dict() == {"L": "sms", "J": "line", "K": "email"}


def test_group_summary(candidates):
    summary = summarise_winback(candidates.reset_index()).set_index("group")
    assert summary["customers"].to_dict() == {"slipping": 1, "at_risk": 1, "asleep": 1}
    assert summary.at["at_risk", "revenue"] == 1000
    assert summary.at["asleep", "line"] == 1 and summary.at["slipping", "email"] == 1


def test_no_candidates_without_any_repeat_purchase():
    """No intervals at all → no cycle → nobody can be called overdue (found by hypothesis)."""
    lines = make_lines([("a1", "A", "2024-10-01", 10, "paid"), ("b1", "B", "2025-01-01", 20, "paid")])
    orders = purchase_orders(lines, AS_OF)
    candidates = winback_candidates(orders, purchase_intervals(orders), latest_contacts(lines), AS_OF)
    assert candidates.empty


def test_headline(candidates):
    headline = winback_headline(candidates.reset_index())
    assert headline | {"first_contact_date": None} == {
        "candidates": 3, "slipping": 1, "at_risk": 1, "asleep": 1, "early": 2, "early_revenue": 1600.0,
        "revenue_at_stake": 2200.0, "first_contact_date": None}
    assert headline["first_contact_date"] == pd.Timestamp("2026-04-05")
