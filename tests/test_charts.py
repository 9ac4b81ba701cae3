"""Charts hold the right data and labels, and Chinese never falls back to empty boxes."""
import io
import warnings

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from crm_report import charts, i18n, results
from crm_report.config import Brand

BRAND = Brand(primary_color="#0F6E5A", accent_color="#F2A33A")
WORDS = i18n.strings("zh-TW")["charts"]


@pytest.fixture(autouse=True)
def themed():
    with matplotlib.rc_context():
        charts.apply_theme(BRAND)
        yield
    plt.close("all")


def render_png(ax):
    ax.figure.savefig(io.BytesIO(), format="png")  # Agg draws every glyph: missing ones warn


def assert_settled(ax):
    """What `results.save` keeps (issue 13): a chart laid out since its last change, and a layout that one
    more pass would not move by half a point (a legend placed below the axes needs two passes)."""
    figure = ax.figure
    assert not figure.stale
    points = figure.get_size_inches() * 72
    before = [a.get_position().bounds for a in figure.axes]
    figure.draw_without_rendering()
    for old, new in zip(before, (a.get_position().bounds for a in figure.axes), strict=True):
        moved = [abs(o - n) * points[i % 2] for i, (o, n) in enumerate(zip(old, new, strict=True))]
        assert max(moved) < 0.5, f"one more layout pass moves the axes by {max(moved):.1f} pt"


def test_missing_cjk_glyphs_are_detected():
    """The guard the other chart tests rely on: a font without CJK must raise, not draw boxes."""
    plt.rcParams["font.sans-serif"] = ["DejaVu Sans"]
    fig, ax = plt.subplots()
    ax.set_title("回購客")
    with pytest.raises(UserWarning, match="missing from font"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            render_png(ax)


def test_new_vs_returning_bars():
    monthly = pd.DataFrame({"month": ["2026-08", "2026-09", "2026-10"], "new_customers": [3, 4, 5],
                            "returning_customers": [10, 11, 12], "new_revenue": [1.0, 2.0, 3.0],
                            "returning_revenue": [4.0, 5.0, 6.0]})
    ax = charts.new_vs_returning(monthly, WORDS["acquisition"], "customers")
    assert_settled(ax)
    returning, new = ax.containers
    assert [b.get_height() for b in returning] == [10, 11, 12]
    assert [b.get_height() for b in new] == [3, 4, 5] and [b.get_y() for b in new] == [10, 11, 12]
    assert ax.get_title(loc="left") == "每月顧客數：新客與回購客"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["回購客", "新客"]
    render_png(ax)


def test_repeat_rate_bars_label_each_window():
    rates = pd.DataFrame({"window_days": [30, 60], "rate": [0.2, 0.35]})
    ax = charts.repeat_rate_bars(rates, WORDS["repeat"])
    assert_settled(ax)
    assert [b.get_height() for b in ax.containers[0]] == [0.2, 0.35]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["30 天", "60 天"]
    render_png(ax)


def test_cohort_heatmap_annotates_each_observed_cell():
    cohorts = pd.DataFrame({"cohort": ["2026-09", "2026-10"], "customers": [10, 4],
                            "m0": [1.0, 1.0], "m1": [0.3, None]})
    ax = charts.cohort_heatmap(cohorts, WORDS["cohorts"], BRAND)
    assert_settled(ax)
    assert sorted(t.get_text() for t in ax.texts) == ["100%", "100%", "30%"]  # the unobserved cell is blank
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2026-09  (10)", "2026-10  (4)"]
    render_png(ax)


def test_share_bars_and_winback_groups_use_localised_names():
    summary = pd.DataFrame({"segment": ["champions", "dormant"], "customer_share": [0.1, 0.9],
                            "revenue_share": [0.6, 0.4]})
    ax = charts.share_bars(summary, i18n.strings("zh-TW")["segment_names"], WORDS["segments"])
    assert_settled(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["頂級顧客", "休眠"]
    render_png(ax)
    groups = pd.DataFrame({"group": ["cant_lose", "slipping", "half_asleep", "asleep"], "customers": [2, 5, 3, 9],
                           "value_at_stake": [3e5, 1e5, 5e4, 2e5]})
    ax = charts.winback_groups(groups, i18n.strings("zh-TW")["winback_groups_short"], WORDS["winback"])
    assert_settled(ax)
    assert [b.get_height() for b in ax.containers[0]] == [2, 5, 3, 9]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["高價值流失客", "開始流失", "半睡", "沉睡"]
    assert [t.get_text() for t in ax.texts][:2] == ["2\nNT$30 萬", "5\nNT$10 萬"]  # customers, value at stake
    render_png(ax)


def test_cohort_value_curves_skip_cohorts_seen_for_one_month():
    revenue = pd.DataFrame({"cohort": ["2026-08", "2026-09", "2026-10"], "customers": [10, 4, 6],
                            "m0": [100.0, 90.0, 80.0], "m1": [150.0, 120.0, None], "m2": [170.0, None, None]})
    ax = charts.cohort_value_curves(revenue, WORDS["cohort_value"])
    assert_settled(ax)
    assert [list(line.get_ydata()[:2]) for line in ax.lines] == [[100.0, 150.0], [90.0, 120.0]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["2026-08", "2026-09"]
    render_png(ax)


def test_second_purchase_curves_one_line_per_group():
    curve = pd.DataFrame({"day": [0, 1, 2], "share": [0.0, 0.1, 0.2]})
    ax = charts.second_purchase_curves({"latest": curve, "year_ago": curve.assign(share=[0.0, 0.05, None])},
                                       {"latest": "近 6 個月", "year_ago": "去年同期"}, WORDS["second_purchase"],
                                       marks=(1, 2))
    assert_settled(ax)
    latest, year_ago = ax.lines[:2]
    assert list(latest.get_ydata()) == [0.0, 0.1, 0.2] and list(year_ago.get_ydata())[:2] == [0.0, 0.05]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["近 6 個月", "去年同期"]
    render_png(ax)


def test_replenishment_ranges_show_quartiles_median_and_reminder():
    cycles = pd.DataFrame({"product_name": ["魚油", "維他命"], "p25": [24.0, 40.0], "p50": [28.0, 55.0],
                           "p75": [33.0, 70.0], "reminder_day": [21.0, 37.0]})
    ax = charts.replenishment_ranges(cycles, WORDS["replenishment"])
    assert_settled(ax)
    bars = ax.containers[0]
    assert [(b.get_x(), b.get_width()) for b in bars] == [(24.0, 9.0), (40.0, 30.0)]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["魚油", "維他命"]
    render_png(ax)


def test_a_title_too_wide_for_a_half_width_chart_wraps_between_words():
    """The English backtest title was cut off at "by tenth"; wrapped, each line fits and no word is split."""
    deciles = pd.DataFrame({"decile": range(1, 11), "predicted_purchases": range(10), "actual_purchases": range(10)})
    ax = charts.backtest_deciles(deciles, i18n.strings("en")["charts"]["backtest"])
    assert_settled(ax)
    lines = ax.get_title(loc="left").split("\n")
    assert " ".join(lines) == "Predicted and actual purchases, by tenth of predicted value" and len(lines) == 2
    ax.figure.canvas.draw()
    assert ax.get_tightbbox().x1 <= ax.figure.bbox.x1  # title, ticks and labels inside the figure
    render_png(ax)


def test_titles_wrap_at_cjk_punctuation_before_between_characters():
    width = len  # one unit per character
    assert (charts._wrap("預測與實際購買次數（依預測價值十等分）", width, 12)
            == "預測與實際購買次數\n（依預測價值十等分）")
    assert charts._wrap("新客完成第二次購買的比例", width, 8) == "新客完成第二次購\n買的比例"
    assert charts._wrap("Share of new customers", width, 30) == "Share of new customers"


def test_a_group_name_wider_than_its_bar_goes_on_two_lines():
    """Five bars in a half-width chart: 高價值流失客 would run into 開始流失, so it is halved; short names stay."""
    words = i18n.strings("zh-TW")
    groups = pd.DataFrame({"group": ["cant_lose", "slipping", "half_asleep", "asleep", "due_soon"],
                           "customers": [1214, 410, 210, 7661, 2515],
                           "value_at_stake": [4.65e6, 8.85e5, 1.25e5, 1.95e7, 1.69e7]})
    ax = charts.winback_groups(groups, words["winback_groups_short"], words["charts"]["winback"])
    assert_settled(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["高價值\n流失客", "開始流失", "半睡", "沉睡", "即將回購"]


def test_the_same_chart_is_saved_as_the_same_bytes(tmp_path):
    """No random ids in the SVG (matplotlib draws them from uuid4 unless `svg.hashsalt` is set): the same data
    give the same file, so two runs of one report can be compared chart by chart."""
    monthly = pd.DataFrame({"month": ["2026-08", "2026-09", "2026-10"], "new_customers": [3, 4, 5],
                            "returning_customers": [10, 11, 12], "new_revenue": [1.0, 2.0, 3.0],
                            "returning_revenue": [4.0, 5.0, 6.0]})
    saved = []
    for run in ("first", "second"):
        ax = charts.new_vs_returning(monthly, WORDS["acquisition"], "customers")
        results.save(tmp_path / run / "build", "acquisition", figures={"customers": ax})
        saved.append((tmp_path / run / "build" / "figures" / "acquisition-customers.svg").read_bytes())
    assert b" id=" in saved[0]
    assert saved[0] == saved[1]
