"""Issue 14, layout: the report as a reader sees it.

Nothing runs past a margin, no table is wider than the block that holds it, no table header breaks inside a
word, no page inside a chapter is more than half empty, and every chart has a title, units on its axes and
no text cut off. The report checks read WeasyPrint's own layout of the small demo reports of conftest.py,
in both languages; `python -m tests.layout REPORT_FOLDER` runs them on any built report (the full-size demo).
"""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from crm_report import charts, i18n
from crm_report.config import Brand
from tests import layout
from tests.conftest import DEMO_MONTH, DEMO_PREVIOUS

REPORTS = [("demo-supplements", DEMO_PREVIOUS), ("demo-supplements", DEMO_MONTH), ("demo-apparel", DEMO_MONTH)]
BRAND = Brand(primary_color="#0F6E5A", accent_color="#F2A33A")
PAGE = "<style>@page { size: A4; margin: 20mm }</style>"


@pytest.fixture(scope="module", params=REPORTS, ids=[f"{c}-{m}" for c, m in REPORTS])
def document(request, demo_reports):
    """One demo report laid out by WeasyPrint, once for all the checks below."""
    client, month = request.param
    return layout.render(demo_reports / client / month)


def test_no_text_runs_past_the_page(document):
    assert layout.text_outside_page(document) == []


def test_no_table_is_wider_than_its_block(document):
    assert layout.wide_tables(document) == []


def test_no_table_header_breaks_inside_a_word(document):
    assert layout.broken_headers(document) == []


def test_no_page_is_half_empty_unless_a_chapter_ends_on_it(document):
    assert layout.half_empty_pages(document) == []


# The checks themselves, on pages built to fail them: a check that finds nothing must be because there is nothing.

def _laid_out(body: str, lang: str = "en"):
    return HTML(string=f"<html lang='{lang}'>{PAGE}{body}").render()


def test_no_forbidden_word_or_configuration_key_reaches_the_reader(document):
    assert layout.forbidden_words(document) == []


def test_the_appendix_has_a_glossary(document):
    text = " ".join(b.text for page in document.pages for root in page._page_box.children
                    for b in root.descendants() if isinstance(b, boxes.TextBox))
    assert ("附錄 A　名詞解釋" in text and "信賴區間" in text) or ("Appendix A: Glossary" in text and "Lift" in text)


def test_forbidden_word_check_finds_a_key_a_term_and_the_japanese_dot():
    document = _laid_out("<p>保留 control_share 的族群・名單</p>", lang="zh-TW")
    assert layout.forbidden_words(document) == [
        "page 1: 'control_share' in …保留 control_share 的族群・名單…",
        "page 1: '族群' in …control_share 的族群・名單…",
        "page 1: '・' in …ntrol_share 的族群・名單…"]


def test_checks_find_a_table_and_text_past_the_margin():
    document = _laid_out("<table style='width: 200mm'><tr><th>Channel</th><td>E-mail</td></tr></table>"
                         "<p style='white-space: nowrap'>" + "a long line that cannot wrap " * 6 + "</p>")
    assert layout.wide_tables(document) == ["page 1: table 'Channel' is 756px wide, 129px past its 627px block"]
    assert layout.text_outside_page(document)[0].startswith("page 1: 1 boxes past the content box")
    fitting = _laid_out("<table style='width: 100%'><tr><th>Channel</th></tr></table><p>" + "a line " * 60 + "</p>")
    assert layout.wide_tables(fitting) == [] and layout.text_outside_page(fitting) == []


def test_checks_find_a_header_broken_inside_a_word():
    document = _laid_out("<table><tr><th style='width: 8mm'>購買人數</th><th style='width: 6mm'>E-mail</th>"
                         "<th style='width: 15mm'>Days since</th><th style='width: 14mm'>週期（天）</th></tr></table>")
    found = layout.broken_headers(document)
    assert any("'購買人數' breaks inside a word" in p for p in found)
    assert any("'E-mail' breaks inside a word (E-/mai)" in p for p in found)
    assert not any("Days since" in p or "週期" in p for p in found)  # at a space, before an opening bracket


def test_checks_find_a_half_empty_page_only_where_no_chapter_ends():
    document = _laid_out(
        "<section class='chapter' id='a'><p>one</p><p style='break-before: page'>two</p></section>"
        "<section class='chapter' id='b' style='break-before: page'><p>three</p></section>")
    assert layout.half_empty_pages(document) == ["page 1: 96% empty and no chapter ends on it (a)"]


# Charts: every chart function as the notebooks call it, with the words of both languages.

def _monthly():
    months = pd.period_range("2024-12", "2026-10", freq="M").astype(str)
    rng = np.random.default_rng(40)
    return pd.DataFrame({"month": months, "new_customers": rng.integers(300, 900, len(months)),
                         "returning_customers": rng.integers(1500, 2500, len(months)),
                         "new_revenue": rng.uniform(4e5, 9e5, len(months)),
                         "returning_revenue": rng.uniform(2e6, 4e6, len(months))})


def _cohorts(value: float):
    cohorts = pd.period_range("2025-11", "2026-10", freq="M").astype(str)
    table = pd.DataFrame({"cohort": cohorts, "customers": np.arange(400, 400 + 50 * len(cohorts), 50)})
    for k in range(12):
        table[f"m{k}"] = [value * (1 + k) ** 0.5 if k < len(cohorts) - i else np.nan for i in range(len(cohorts))]
    return table


def _chart(name: str, locale: str):
    words = i18n.strings(locale)
    w = words["charts"]
    rng = np.random.default_rng(40)
    segments = list(words["segment_names"])
    if name == "customers":
        return charts.new_vs_returning(_monthly(), w["acquisition"], "customers", locale=locale)
    if name == "revenue":
        return charts.new_vs_returning(_monthly(), w["acquisition"], "revenue", locale=locale)
    if name == "repeat_rates":
        return charts.repeat_rate_bars(pd.DataFrame({"window_days": [30, 60, 90, 180, 365],
                                                     "rate": [0.08, 0.14, 0.2, 0.29, 0.38]}), w["repeat"])
    if name == "intervals":
        intervals = pd.DataFrame({"interval_days": rng.gamma(2, 40, 20_000)})
        return charts.interval_histogram(intervals, 62.0, w["intervals"])
    if name == "second_purchase":
        days = np.arange(0, 366)
        curves = {key: pd.DataFrame({"day": days, "share": share * (1 - np.exp(-days / 90))})
                  for key, share in (("latest", 0.4), ("year_ago", 0.35))}
        return charts.second_purchase_curves(curves, words["second_purchase_groups"], w["second_purchase"])
    if name == "cohorts":
        return charts.cohort_heatmap(_cohorts(0.1), w["cohorts"], BRAND, locale=locale)
    if name == "cohort_value":
        return charts.cohort_value_curves(_cohorts(2400.0), w["cohort_value"], locale=locale)
    if name == "cycles":
        cycles = pd.DataFrame({"product_name": ["膠原蛋白粉 30 入（經典原味，加大容量家庭號）",
                                                "Fish oil Omega-3 90 capsules"],
                               "p25": [25, 40], "p50": [31, 55], "p75": [40, 70], "reminder_day": [27, 50]})
        return charts.replenishment_ranges(cycles, w["replenishment"])
    if name == "segments":
        summary = pd.DataFrame({"segment": segments, "customer_share": 1 / len(segments),
                                "revenue_share": rng.dirichlet(np.ones(len(segments)))})
        return charts.share_bars(summary, words["segment_names"], w["segments"])
    if name == "stages":
        stages = list(words["nes_names"])
        summary = pd.DataFrame({"stage": stages, "customer_share": 0.2, "revenue_share": 0.2})
        return charts.share_bars(summary, words["nes_names"], w["nes"], key="stage")
    if name == "clusters":
        profile = pd.DataFrame({"label": ["A", "B", "C", "D"], "customers": [4000, 2500, 900, 300],
                                "mean_recency_days": [40, 160, 300, 600], "mean_monetary": [9e3, 4e3, 2.5e3, 1.2e3]})
        return charts.cluster_bubbles(profile, w["clusters"], locale=locale)
    if name == "p_alive":
        return charts.p_alive_histogram(pd.Series(rng.beta(2, 2, 20_000)), w["p_alive"])
    if name == "backtest":
        deciles = pd.DataFrame({"decile": range(1, 11), "predicted_purchases": np.linspace(200, 1800, 10),
                                "actual_purchases": np.linspace(100, 1400, 10)})
        return charts.backtest_deciles(deciles, w["backtest"])
    if name == "value_segments":
        by_segment = pd.DataFrame({"group": segments, "historic_total": rng.uniform(1e5, 4e7, len(segments)),
                                   "clv_total": rng.uniform(1e5, 2e7, len(segments))})
        labels = {key: text.format(months=12) for key, text in w["value_segments"].items()}
        return charts.value_by_segment(by_segment, words["segment_names"], labels, locale=locale)
    if name == "winback":
        groups = list(words["winback_groups_short"])
        summary = pd.DataFrame({"group": groups, "customers": [2190, 1540, 980, 3200, 410, 2600][: len(groups)],
                                "value_at_stake": [1.23e7, 4.5e6, 1.2e6, 8.9e5, 3.3e5, 6.1e6][: len(groups)]})
        return charts.winback_groups(summary, words["winback_groups_short"], w["winback"], locale=locale)
    raise ValueError(name)


CHARTS = ["customers", "revenue", "repeat_rates", "intervals", "second_purchase", "cohorts", "cohort_value",
          "cycles", "segments", "stages", "clusters", "p_alive", "backtest", "value_segments", "winback"]


@pytest.fixture
def themed():
    with matplotlib.rc_context():
        charts.apply_theme(BRAND)
        yield
    plt.close("all")


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_has_a_whole_title_and_units(themed, name, locale):
    assert layout.chart_problems(_chart(name, locale)) == []


def test_chart_check_finds_a_missing_unit_and_a_clipped_title(themed):
    fig, ax = plt.subplots(figsize=(3, 2), layout="constrained")
    ax.plot([0, 1], [0, 1000])
    ax.set_title("A title far too long to fit on a chart three inches wide, so it is cut off")
    problems = layout.chart_problems(ax)
    assert problems[0].startswith("the x axis has no unit") and problems[1].startswith("the y axis has no unit")
    assert problems[2].endswith("runs past the figure's edge")
