"""Page 1's selection of insights and decisions (crm_report.summary) on hand-made sections."""
import pytest

from crm_report import summary
from crm_report.results import Section


def _acquisition(rows: dict[str, tuple[int, int, float]]) -> Section:
    """rows: month → (new customers, returning customers, revenue)."""
    monthly = [{"month": m, "new_customers": n, "returning_customers": r, "active_customers": n + r, "revenue": v}
               for m, (n, r, v) in rows.items()]
    return Section(values={}, tables={"monthly": monthly}, figures={})


def test_a_real_month_move_names_its_driver_and_the_new_events():
    acquisition = _acquisition({"2025-11": (100, 400, 50_000.0), "2026-10": (100, 400, 50_000.0),
                                "2026-11": (120, 580, 80_000.0)})
    events = {"new_vs_previous": ["double_11"], "month_events": ["double_11"], "yoy_shifts": []}
    found = summary.insights({"acquisition": acquisition}, "2026-11", events)
    month = next(i for i in found if i["kind"] == "month_move")
    assert not month["stable"] and month["revenue_change"] == pytest.approx(0.6)
    assert month["driver"] == "returning" and month["returning_diff"] == 180 and month["new_diff"] == 20
    assert month["events"] == ["double_11"]
    assert month["weight"] == pytest.approx(0.6)


def test_moves_within_chance_are_said_to_be_stable_and_rank_last():
    acquisition = _acquisition({"2025-11": (100, 400, 50_000.0), "2026-10": (100, 400, 40_000.0),
                                "2026-11": (105, 410, 52_000.0)})  # 515 vs 500: within 2 √1015 ≈ 64
    found = summary.insights({"acquisition": acquisition}, "2026-11", None)
    assert [i["kind"] for i in found] == ["month_move", "year_move"]
    assert all(i["stable"] for i in found) and found[0]["events"] == []
    # new customers 105 vs 100 last year: within chance, so no separate new-customer line


def test_a_campaign_finding_outranks_small_moves_and_a_non_finding_is_stated_last():
    acquisition = _acquisition({"2025-11": (100, 400, 50_000.0), "2026-10": (100, 400, 50_000.0),
                                "2026-11": (100, 500, 55_000.0)})
    lift = {"outcome": "lift", "rate_diff": 0.05, "control_rate": 0.10}
    sections = {"acquisition": acquisition, "winback": Section(values={"verdict": lift}, tables={}, figures={})}
    found = summary.insights(sections, "2026-11")
    assert [i["kind"] for i in found][:1] == ["campaign"] and found[0]["weight"] == pytest.approx(0.5)
    unclear = {"outcome": "unclear", "rate_diff": 0.001, "control_rate": 0.10}
    sections["winback"] = Section(values={"verdict": unclear}, tables={}, figures={})
    found = summary.insights(sections, "2026-11")
    assert found[-1]["kind"] == "campaign" and found[-1]["stable"]
    for outcome in ("unconfirmed", "no_list", "too_small", "mixed", "no_control"):
        assert summary.campaign_insight({"outcome": outcome}) is None


def test_new_customers_year_on_year_only_when_not_already_the_driver():
    acquisition = _acquisition({"2025-11": (100, 400, 50_000.0), "2026-10": (100, 400, 50_000.0),
                                "2026-11": (300, 400, 60_000.0)})
    found = summary.insights({"acquisition": acquisition}, "2026-11")
    assert "new_move" not in [i["kind"] for i in found]  # the month move already says new customers drove it
    acquisition = _acquisition({"2025-11": (200, 400, 50_000.0), "2026-10": (100, 400, 50_000.0),
                                "2026-11": (100, 400, 50_000.0)})
    new = next(i for i in summary.insights({"acquisition": acquisition}, "2026-11") if i["kind"] == "new_move")
    assert new["change"] == pytest.approx(-0.5) and new["new_customers"] == 100


def test_decisions_are_the_three_most_profitable_recommended_groups():
    plan = [{"group": g, "recommended": rec, "rank": rank, "profit": p}
            for g, rec, rank, p in (("slipping", True, 1, 900.0), ("due_soon", True, 2, 500.0),
                                    ("cant_lose", True, 3, 80.0), ("half_asleep", True, 4, 10.0),
                                    ("asleep", False, None, -40.0))]
    chosen = summary.decisions(plan)
    assert [d["group"] for d in chosen] == ["slipping", "due_soon", "cant_lose"]
    assert summary.decisions(plan[3:]) == [plan[3]]  # fewer groups pay: fewer decisions, none invented
    winback = Section(values={"verdict": {"outcome": "no_list"}, "plan_totals": {"groups": 4}},
                      tables={"plan": plan}, figures={})
    acquisition = _acquisition({"2026-10": (1, 1, 1.0), "2026-11": (1, 1, 1.0)})
    page = summary.executive_summary({"acquisition": acquisition, "winback": winback}, "2026-11")
    assert page["not_recommended"] == ["asleep"] and len(page["decisions"]) == 3


def test_events_are_named_as_the_cause_of_a_real_move_in_its_direction():
    acquisition = _acquisition({"2025-11": (100, 400, 50_000.0), "2026-10": (100, 400, 50_000.0),
                                "2026-11": (120, 580, 80_000.0), "2026-12": (90, 390, 45_000.0)})
    november = summary.calendar_context("2026-11")
    assert "double_11" in november["new_vs_previous"]
    month = summary.insights({"acquisition": acquisition}, "2026-11", november)[0]
    assert month["kind"] == "month_move" and "double_11" in month["events"] and month["gone"] == []
    december = summary.calendar_context("2026-12")
    fall = next(i for i in summary.insights({"acquisition": acquisition}, "2026-12", december)
                if i["kind"] == "month_move")
    assert fall["revenue_change"] < 0 and "double_11" in fall["gone"] and fall["events"] == []
    # Lunar New Year: late January 2025 (its window mostly in January), February 2026
    february = summary.calendar_context("2026-02")
    assert {"key": "lunar_new_year", "this_year": "2026-02", "last_year": "2025-01"} in february["yoy_shifts"]


def test_client_events_join_the_calendar_and_months_outside_it_say_nothing():
    from crm_report.config import ClientEvent
    context = summary.calendar_context("2026-10", [ClientEvent(name="週年慶", start="2026-10-20", end="2026-11-02")])
    assert "client:週年慶" in context["new_vs_previous"]
    assert summary.calendar_context("2015-06") is None  # the calendar starts in 2015: no year before


def test_a_left_censored_comparison_month_is_flagged_and_its_new_customers_not_compared():
    acquisition = _acquisition({"2025-11": (300, 100, 50_000.0), "2026-10": (100, 400, 50_000.0),
                                "2026-11": (100, 400, 50_000.0)})
    acquisition.tables["monthly"][0]["new_censored"] = True  # the export began in autumn 2025
    found = summary.insights({"acquisition": acquisition}, "2026-11")
    year = next(i for i in found if i["kind"] == "year_move")
    assert year["censored"] and "new_move" not in [i["kind"] for i in found]


def test_a_month_of_guest_checkouts_only_says_so_first():
    acquisition = _acquisition({"2026-10": (0, 0, 0.0), "2026-11": (0, 0, 5_000.0)})
    acquisition.tables["monthly"][1]["guest_orders"] = 67
    found = summary.insights({"acquisition": acquisition}, "2026-11")
    assert found[0] == {"kind": "guests_only", "stable": False, "weight": float("inf"), "orders": 67}
