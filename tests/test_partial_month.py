"""Issue 11 (honest periods): a report month whose data end before the month does is refused, or with
--allow-partial-month labelled partial on every comparison it makes (`period.data_end`)."""
import json
import math

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from crm_report import charts, summary, workspace  # noqa: E402
from crm_report.config import ClientConfig  # noqa: E402
from crm_report.data.load import DataError  # noqa: E402
from crm_report.metrics import acquisition, conclusions  # noqa: E402
from crm_report.period import data_end, local_now, report_months  # noqa: E402
from crm_report.results import Section  # noqa: E402

OCTOBER = pd.Period("2026-10", freq="M")


def daily_orders(last: str, days: int = 91, lines_per_order: int = 1) -> tuple[pd.Series, pd.Series]:
    """One order a day for `days` days ending on `last` (each order with `lines_per_order` lines)."""
    dates = pd.date_range(end=pd.Timestamp(last) + pd.Timedelta(hours=12), periods=days, freq="D")
    dates = dates.repeat(lines_per_order)
    ids = pd.Series([f"o{d:%Y%m%d}" for d in dates])
    return pd.Series(dates), ids


def test_an_export_that_stops_on_the_9th_makes_the_month_partial():
    """1 order a day (91 in the 91 days up to 10-09); 22 days missing (10-10 … 10-31): e^−22 ≪ 1%."""
    end = data_end(*daily_orders("2026-10-09", lines_per_order=3), OCTOBER)  # lines of one order count once
    assert (end.last_day, end.days_missing, end.daily_orders) == (pd.Timestamp("2026-10-09"), 22, 1.0)
    assert end.chance == pytest.approx(math.exp(-22)) and end.partial


@pytest.mark.parametrize("last, missing, partial", [
    ("2026-10-27", 4, False),  # e^−4 = 1.8%: four quiet days happen to a shop with one order a day
    ("2026-10-26", 5, True),   # e^−5 = 0.67% < 1%
    ("2026-10-31", 0, False),  # the data reach the last day
    ("2026-11-02", 0, False),  # ... or run past it
])
def test_the_days_missing_must_be_unlikely_at_the_shops_usual_rate(last, missing, partial):
    end = data_end(*daily_orders(last), OCTOBER)
    assert (end.days_missing, end.partial) == (missing, partial)


def test_a_small_shop_is_not_partial_after_a_few_quiet_days():
    """30 orders in the 91 days up to 10-20 (the first of them 90 days before: in the window; one more 91 days
    before: outside it): r = 30/91 per day, 11 days missing, e^(−30/91 × 11) = 2.7% → not partial."""
    dates, ids = daily_orders("2026-10-20", days=91)
    keep = pd.Series(range(91)).mod(3).eq(0).to_numpy()  # every third day: 31 orders, the 91st day included
    dates, ids = dates[keep].iloc[1:], ids[keep].iloc[1:]  # drop the earliest → 30
    dates = pd.concat([pd.Series([pd.Timestamp("2026-07-21")]), dates], ignore_index=True)  # 91 days before
    ids = pd.concat([pd.Series(["early"]), ids], ignore_index=True)
    end = data_end(dates, ids, OCTOBER)
    assert end.daily_orders == pytest.approx(30 / 91) and end.days_missing == 11
    assert end.chance == pytest.approx(math.exp(-30 / 91 * 11)) and not end.partial


def test_the_month_in_progress_is_partial_even_for_a_shop_with_few_orders():
    """Issue 12, finding 7: a report for the current month compares part of a month with whole ones. A shop
    with a few orders a month whose latest order is yesterday is not 'partial' by the Poisson rule, but the
    month is not over: it is partial whatever the rate (today 2026-10-20: 11 days of October to come)."""
    dates, ids = daily_orders("2026-10-19", days=91)
    keep = pd.Series(range(91)).mod(30).eq(0).to_numpy()  # one order a month
    end = data_end(dates[keep], ids[keep], OCTOBER, today=pd.Timestamp("2026-10-20"))
    assert end.unfinished and end.partial
    assert not data_end(dates[keep], ids[keep], OCTOBER, today=pd.Timestamp("2026-11-01")).unfinished
    assert not data_end(dates[keep], ids[keep], OCTOBER).unfinished  # no today given: the data decide


def test_the_month_in_progress_is_refused_unless_the_option_labels_it_partial(tmp_path):
    config = _client(tmp_path, 31)
    with pytest.raises(DataError, match=r"2026-10 is not over yet \(today is 2026-10-31\).*--allow-partial-month"):
        workspace.prepare(config, OCTOBER, tmp_path / "report", today=pd.Timestamp("2026-10-31"))
    workspace.prepare(config, OCTOBER, tmp_path / "report", today=pd.Timestamp("2026-10-31"), allow_partial_month=True)
    values = json.loads((tmp_path / "report" / "build" / "results" / "data_quality.json").read_text())["values"]
    assert values["partial_month"] is True


def _client(tmp_path, last_day: int) -> ClientConfig:
    """Three orders a day from 2026-08-01 to 2026-10-<last_day>."""
    days = pd.date_range("2026-08-01", f"2026-10-{last_day:02d}", freq="D")
    rows = [f"{d:%Y%m%d}-{k},c{k},{d:%Y-%m-%d} 1{k}:00,100" for d in days for k in range(3)]
    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_date,amount\n" + "\n".join(rows) + "\n",
                                         encoding="utf-8")
    return ClientConfig(client_id="acme", display_name="Acme", folder=tmp_path, source={"path": "orders.csv"})


def test_a_partial_month_is_refused_naming_the_last_order_and_the_option(tmp_path):
    """Orders end on 10-09; r = 3 × 70 days ÷ 91 (the export began 08-01, 70 days up to 10-09) ≈ 2.3 a day."""
    config = _client(tmp_path, 9)
    with pytest.raises(DataError, match=r"the orders end on 2026-10-09, 22 days before 2026-10 ends; at this "
                                        r"shop's 2\.3 orders a day .* Report 2026-09, add the newer export, or "
                                        r"run with --allow-partial-month"):
        workspace.prepare(config, OCTOBER, tmp_path / "report")
    workspace.prepare(config, OCTOBER - 1, tmp_path / "september")  # the last complete month runs as before
    quality = json.loads((tmp_path / "september" / "build" / "results" / "data_quality.json").read_text())
    assert quality["values"]["partial_month"] is False


def test_with_the_option_the_month_is_labelled_partial(tmp_path):
    config = _client(tmp_path, 9)
    workspace.prepare(config, OCTOBER, tmp_path / "report", allow_partial_month=True)
    values = json.loads((tmp_path / "report" / "build" / "results" / "data_quality.json").read_text())["values"]
    assert values["partial_month"] is True and values["days_missing"] == 22
    assert values["data_end"].startswith("2026-10-09")
    run = workspace.Run(config, OCTOBER, tmp_path / "report", tmp_path)
    assert run.partial_end == pd.Timestamp("2026-10-09")


def _sections(partial: bool) -> dict[str, Section]:
    monthly = [{"month": m, "new_customers": n, "returning_customers": r, "active_customers": n + r, "revenue": v}
               for m, (n, r, v) in {"2025-10": (300, 900, 90_000.0), "2026-09": (300, 900, 90_000.0),
                                    "2026-10": (90, 300, 30_000.0)}.items()]
    return {"acquisition": Section(values={}, tables={"monthly": monthly}, figures={}),
            "data_quality": Section(values={"partial_month": partial, "data_end": "2026-10-09"}, tables={},
                                    figures={})}


def test_page_one_states_no_move_in_a_partial_month():
    """390 customers against 1,200 is a real fall in a whole month (month, year and new-customer moves); with
    data to the 9th it is the missing days, so page 1 withholds all three."""
    whole = summary.insights(_sections(False), "2026-10")
    assert {i["kind"] for i in whole} == {"month_move", "year_move", "new_move"}
    assert summary.insights(_sections(True), "2026-10") == []


def test_the_acquisition_so_what_makes_no_year_on_year_claim_in_a_partial_month():
    monthly = pd.DataFrame({"month": [pd.Period(m, freq="M") for m in ("2025-10", "2026-09", "2026-10")],
                            "new_customers": [300, 300, 90], "returning_customers": [900, 900, 300],
                            "active_customers": [1200, 1200, 390], "returning_revenue_share": [0.7, 0.7, 0.7],
                            **{f: [1.0, 1.0, 1.0] for f in ("orders", "revenue", "aov")}})
    kpis = acquisition.month_kpis(monthly, OCTOBER)
    assert conclusions.acquisition(kpis)[0]["key"] == "new_down"  # 90 vs 300: beyond chance
    assert conclusions.acquisition(kpis, partial=True)[0]["key"] == "returning_led"  # the month's own mix only


def test_the_lifecycle_so_what_claims_no_lapse_in_a_partial_month():
    """120 active customers past their cycle is a finding in a whole month; with data to the 9th they include
    everyone who would have bought in the missing days, so the chapter says the moves are not comparable and
    sends nobody to the list on their account (and does not call the base steady either)."""
    moves = pd.DataFrame({"from": ["E0", "N"], "to": ["S1", "E0"], "customers": [120, 500],
                          "share_of_from": [0.1, 0.4]})
    assert [c["key"] for c in conclusions.lifecycle(moves)] == ["lapsing"]
    assert [(c["key"], c["action"]) for c in conclusions.lifecycle(moves, partial=True)] == [("partial", None)]
    assert [c["key"] for c in conclusions.lifecycle(moves.iloc[[1]], partial=True)] == ["partial"]


def test_the_partial_months_bars_are_hatched():
    monthly = pd.DataFrame({"month": ["2026-08", "2026-09", "2026-10"], "new_customers": [10, 12, 4],
                            "returning_customers": [30, 33, 11]})
    marked = acquisition.mark_partial(monthly, OCTOBER)
    assert marked["partial"].tolist() == [False, False, True]
    assert not acquisition.mark_partial(monthly, None)["partial"].any()
    labels = {"returning": "R", "new": "N", "partial": "Partial month", "title_customers": "T",
              "ylabel_customers": "y"}
    ax = charts.new_vs_returning(marked, labels, "customers")
    hatched = [i for i, patch in enumerate(ax.containers[0].patches) if patch.get_hatch()]
    assert hatched == [2] and ax.containers[1].patches[2].get_hatch() == "////"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["R", "N", "Partial month"]


def test_a_report_labelled_partial_says_so_on_page_one_and_in_the_trend(demo_clients, demo_reports, tmp_path):
    """The demo report re-rendered as if its data ended on 10-09 (what `prepare` saves with the option): page 1
    names the data's last day, both KPI comparison rows say partial, no month or year move is stated, the
    acquisition table marks the month, and so do the life-cycle chapter's moves since last month."""
    import shutil

    from pypdf import PdfReader

    from crm_report import render
    from crm_report.config import load_config
    from tests.conftest import DEMO_MONTH

    folder = tmp_path / "report"
    shutil.copytree(demo_reports / "demo-supplements" / DEMO_MONTH, folder)
    results = folder / "build" / "results"
    quality = json.loads((results / "data_quality.json").read_text(encoding="utf-8"))
    quality["values"].update(partial_month=True, data_end="2026-10-09T00:00:00", days_missing=22)
    (results / "data_quality.json").write_text(json.dumps(quality), encoding="utf-8")
    acquired = json.loads((results / "acquisition.json").read_text(encoding="utf-8"))
    monthly = acquired["tables"]["monthly"]
    at = monthly["columns"].index("partial")
    for row in monthly["rows"]:
        row[at] = row[monthly["columns"].index("month")] == DEMO_MONTH
    (results / "acquisition.json").write_text(json.dumps(acquired), encoding="utf-8")
    whole = json.loads((demo_reports / "demo-supplements" / DEMO_MONTH / "results.json").read_text(encoding="utf-8"))
    assert {"month_move", "year_move"} & {i["kind"] for i in whole["sections"]["summary"]["values"]["insights"]}

    _, pdf = render.render_report(folder, load_config("demo-supplements", demo_clients), DEMO_MONTH)
    page = PdfReader(pdf).pages[0].extract_text().replace("\n", "")
    assert "不完整月份：資料只到 2026/10/09" in page and "距2026 年 10 月月底還有 22 天" in page
    assert page.count("（不完整月份：資料至 2026/10/09") == 2  # vs last month and vs last year
    kinds = {i["kind"] for i in json.loads((folder / "results.json").read_text())["sections"]["summary"]["values"]
             ["insights"]}
    assert not kinds & {"month_move", "year_move", "new_move"}
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert f"{DEMO_MONTH}†" in html and "2026 年 10 月為不完整月份" in html
    lifecycle = html[html.index('id="lifecycle"'):]
    lifecycle = lifecycle[:lifecycle.index("</section>")]
    assert "†2026 年 10 月為不完整月份：資料只到 2026/10/09（五），本章與2026 年 9 月相比的變化" in lifecycle
    for title in ("與 2026 年 9 月底相比，顧客狀態的變化†", "與 2026 年 9 月底相比，RFM 客群的變化†"):
        assert title in lifecycle, title  # the moves since last month, and each flow table's corner cell
    assert lifecycle.count("本月</span>†</th>") == 3


def test_local_now_is_the_clients_wall_clock():
    """The same instant is still 31 October in London and already 1 November in Taipei."""
    instant = pd.Timestamp("2026-10-31 17:00", tz="UTC")
    assert local_now("Asia/Taipei", instant) == pd.Timestamp("2026-11-01 01:00")
    assert local_now("Europe/London", instant) == pd.Timestamp("2026-10-31 17:00")  # GMT again since 25 October
    assert local_now("Asia/Taipei", pd.Timestamp("2026-10-31 17:00")) == pd.Timestamp("2026-11-01 01:00")  # naive = UTC
    assert local_now("Asia/Taipei").tzinfo is None


def test_the_month_is_over_when_it_is_over_in_the_clients_timezone(tmp_path, monkeypatch):
    """A machine running in UTC at 2026-10-31 17:00 UTC: October is over for a Taiwanese client (01:00 on
    1 November in Taipei), not yet for a client in London. Before, the machine's date decided for both."""
    instant = pd.Timestamp("2026-10-31 17:00", tz="UTC")
    monkeypatch.setattr(workspace, "local_now", lambda timezone: local_now(timezone, instant))
    config = _client(tmp_path, 31)
    workspace.prepare(config, OCTOBER, tmp_path / "taipei")
    london = config.model_copy(update={"timezone": "Europe/London"})
    with pytest.raises(DataError, match=r"2026-10 is not over yet \(today is 2026-10-31\)"):
        workspace.prepare(london, OCTOBER, tmp_path / "london")


def test_the_default_report_month_is_complete_in_every_clients_time_zone():
    """A monthly job on a server running in UTC, at 07:00 on 1 December in Taipei (2026-11-30 23:00 UTC): the
    machine's date said November was not over and picked October. In Taipei November is over; in New York
    (18:00 on 30 November) it is not. The default is the latest month complete in every client's zone; a
    month may be asked for once it has begun in any of them."""
    instant = pd.Timestamp("2026-11-30 23:00", tz="UTC")
    assert report_months(["Asia/Taipei"], instant) == (pd.Period("2026-11", "M"), pd.Period("2026-12", "M"))
    assert report_months(["America/New_York"], instant) == (pd.Period("2026-10", "M"), pd.Period("2026-11", "M"))
    assert report_months(["Asia/Taipei", "America/New_York", "Asia/Taipei"], instant) == (
        pd.Period("2026-10", "M"), pd.Period("2026-12", "M"))
    assert report_months([], instant) == (pd.Period("2026-10", "M"), pd.Period("2026-11", "M"))  # UTC
