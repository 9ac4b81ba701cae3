"""Charts: matplotlib, styled once from the client's brand, with Noto Sans CJK so Chinese never shows as boxes.

Every chart function takes the data, the locale's chart words (`labels`) and `ax=None`; it draws on `ax` (or a
new figure) and returns the Axes. Nothing here calls `show()` or `savefig()`: `results.save` writes SVGs.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib import font_manager
from matplotlib.backend_bases import RendererBase
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from crm_report.config import Brand
from crm_report.errors import ReportError
from crm_report.formatting import compact, money_short, short_name

CJK_FAMILY = "Noto Sans CJK TC"
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
WIDTH = 6.8  # inches: the A4 text width of the report
NEUTRAL = "#8C96A0"


class FontMissingError(ReportError, RuntimeError):
    """The CJK font is not installed; charts would show Chinese as empty boxes."""


def register_cjk_font() -> None:
    """Add the Noto Sans CJK files to matplotlib's font list (its cache may predate the fonts' install)."""
    files = sorted(p for d in FONT_DIRS if d.is_dir() for p in d.rglob("NotoSansCJK-*.tt[cf]"))
    if not files:
        raise FontMissingError("Noto Sans CJK is not installed (Debian package fonts-noto-cjk); run `make setup`")
    known = {Path(f.fname) for f in font_manager.fontManager.ttflist}
    for path in files:
        if path not in known:
            font_manager.fontManager.addfont(str(path))


def apply_theme(brand: Brand) -> None:
    """Set matplotlib's style for this process: brand colours, CJK font, quiet axes."""
    register_cjk_font()
    plt.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": [CJK_FAMILY, "DejaVu Sans"],
        "font.size": 8.5,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": 8.5,
        "axes.edgecolor": "#B8C0C8",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.axis": "y",
        "axes.axisbelow": True,
        "grid.color": "#E3E7EB",
        "grid.linewidth": 0.6,
        "axes.prop_cycle": cycler(color=palette(brand)),
        "legend.frameon": False,
        "legend.fontsize": 8,
        "figure.dpi": 100,
        "svg.fonttype": "none",  # real <text>: small SVGs, searchable in the PDF, same embedded font
        "svg.hashsalt": "crm-report",  # ids from the content, not uuid4: the same chart, the same bytes
        "axes.unicode_minus": False,
        "text.parse_math": False,  # product names are text: "買$100送$20" stays as written, "$\\frac{1}$" never parses
    })


def palette(brand: Brand) -> list[str | tuple[float, float, float]]:
    """Primary, accent, then muted tints of both and a neutral grey."""
    return [brand.primary_color, brand.accent_color, _tint(brand.primary_color, 0.45),
            _tint(brand.accent_color, 0.45), NEUTRAL, _tint(brand.primary_color, 0.7)]


def new_vs_returning(monthly: pd.DataFrame, labels: Mapping[str, str], measure: str = "customers",
                     ax: plt.Axes | None = None, locale: str = "zh-TW", currency: str = "TWD") -> plt.Axes:
    """Stacked monthly bars of new and returning customers (or `measure` = 'revenue'); a partial month's bars
    (`acquisition.mark_partial`) are hatched and named in the legend."""
    ax = ax or _axes(2.3)
    x = np.arange(len(monthly))
    new, returning = monthly[f"new_{measure}"], monthly[f"returning_{measure}"]
    colors = _colors()
    low = ax.bar(x, returning, color=colors[0], label=labels["returning"], width=0.75)
    high = ax.bar(x, new, bottom=returning, color=colors[1], label=labels["new"], width=0.75)
    partial = monthly["partial"].to_numpy(dtype=bool) if "partial" in monthly else np.zeros(len(monthly), bool)
    for i in np.flatnonzero(partial):
        for bars in (low, high):
            bars.patches[i].set_hatch("////")
            bars.patches[i].set_edgecolor("white")
    if partial.any():
        ax.bar([x[partial][0]], [0], color="none", hatch="////", edgecolor="grey", label=labels["partial"])
    _month_ticks(ax, monthly["month"])
    if measure == "revenue":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money_short(v, locale, currency)))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v, locale)))
        ax.set_ylabel(labels[f"ylabel_{measure}"])
    ax.legend(loc="upper left", ncols=2, bbox_to_anchor=(0, 1.0))
    ax.margins(y=0.15)
    _title(ax, labels[f"title_{measure}"])
    return ax


def repeat_rate_bars(rates: pd.DataFrame, labels: Mapping[str, str], ax: plt.Axes | None = None) -> plt.Axes:
    """Bars: share of new customers who bought again within each window."""
    ax = ax or _axes(2.1, width=WIDTH / 2)
    bars = ax.bar([labels["days"].format(n=d) for d in rates["window_days"]], rates["rate"].fillna(0),
                  color=_colors()[0], width=0.6)
    ax.bar_label(bars, labels=[f"{r:.0%}" if pd.notna(r) else "–" for r in rates["rate"]], padding=2, fontsize=8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, max(0.1, float(rates["rate"].max(skipna=True) or 0) * 1.25))
    _title(ax, labels["title"])
    return ax


def interval_histogram(intervals: pd.DataFrame, median: float, labels: Mapping[str, str],
                       ax: plt.Axes | None = None, cap_days: int = 365) -> plt.Axes:
    """Histogram of days between consecutive purchases (capped at `cap_days`), with the median marked."""
    ax = ax or _axes(2.1, width=WIDTH / 2)
    values = intervals["interval_days"].clip(upper=cap_days)
    colors = _colors()
    ax.hist(values, bins=np.arange(0, cap_days + 15, 15).tolist(), color=colors[2], edgecolor="white", linewidth=0.4)
    if pd.notna(median):
        ax.axvline(median, color=colors[1], linewidth=1.5)
        ax.annotate(labels["median"].format(n=f"{median:.0f}"), xy=(median, 1), xycoords=("data", "axes fraction"),
                    xytext=(4, -10), textcoords="offset points", color=colors[1], fontsize=8, fontweight="bold")
    ax.set_xlabel(labels["xlabel"])
    ax.set_ylabel(labels["ylabel"])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    _title(ax, labels["title"])
    return ax


def cohort_heatmap(cohorts: pd.DataFrame, labels: Mapping[str, str], brand: Brand,
                   ax: plt.Axes | None = None, locale: str = "zh-TW") -> plt.Axes:
    """Heatmap: cohort (rows) × months since first purchase (columns), cells = share still buying."""
    month_cols = [c for c in cohorts.columns if c.startswith("m") and c[1:].isdigit()]
    values = cohorts[month_cols].to_numpy(dtype=float)
    shown = values.copy()
    shown[:, 0] = np.nan  # m0 is 100% by definition; leaving it out keeps the colour scale readable
    ax = ax or _axes(0.22 * len(cohorts) + 0.8)
    ax.grid(False)
    cmap = LinearSegmentedColormap.from_list("brand", ["#FFFFFF", brand.primary_color])
    upper = max(np.nanmax(shown) if np.isfinite(shown).any() else 0.1, 0.05)
    rows, cols = values.shape
    ax.pcolormesh(np.arange(cols + 1) - 0.5, np.arange(rows + 1) - 0.5, np.nan_to_num(shown, nan=0.0),
                  cmap=cmap, vmin=0, vmax=upper, edgecolors="white", linewidth=0.5)  # vector, not a raster
    ax.set_ylim(rows - 0.5, -0.5)
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            dark = j > 0 and v > upper * 0.6
            ax.text(j, i, f"{v:.0%}" if j else "100%", ha="center", va="center", fontsize=6.5,
                    color="white" if dark else "#333333")
    ax.set_xticks(range(len(month_cols)), [c[1:] for c in month_cols])
    ax.set_yticks(range(len(cohorts)),
                  [f"{pd.Period(c, 'M'):%Y-%m}  ({n:,})"
                   for c, n in zip(cohorts["cohort"], cohorts["customers"], strict=True)])
    ax.tick_params(length=0)
    ax.set_xlabel(labels["xlabel"])
    for spine in ax.spines.values():
        spine.set_visible(False)
    _title(ax, labels["title"])
    return ax


def cohort_value_curves(revenue: pd.DataFrame, labels: Mapping[str, str], ax: plt.Axes | None = None,
                        locale: str = "zh-TW", currency: str = "TWD") -> plt.Axes:
    """Lines per cohort: cumulative revenue per acquired customer by months since first purchase.

    Older cohorts are lighter, the latest darkest; cohorts observed for a single month are left out.
    """
    month_cols = [c for c in revenue.columns if c.startswith("m") and c[1:].isdigit()]
    ax = ax or _axes(2.3, width=WIDTH / 2)
    shown = revenue.loc[revenue[month_cols].notna().sum(axis=1).ge(2) & revenue["customers"].gt(0)]
    primary = _colors()[0]
    for i, (_, row) in enumerate(shown.iterrows()):  # one line per cohort (≤ 36 rows)
        weight = (i + 1) / len(shown)
        values = row[month_cols].to_numpy(dtype=float)
        ax.plot(range(len(month_cols)), values, color=_tint(primary, 0.85 * (1 - weight)),
                linewidth=0.8 + weight, label=f"{pd.Period(row['cohort'], 'M'):%Y-%m}")
    if len(shown):
        handles, names = ax.get_legend_handles_labels()
        ax.legend([handles[0], handles[-1]], [names[0], names[-1]], loc="upper left")
    ax.set_xticks(range(0, len(month_cols), max(1, len(month_cols) // 6)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money_short(v, locale, currency)))
    ax.set_xlabel(labels["xlabel"])
    _title(ax, labels["title"])
    return ax


def second_purchase_curves(curves: Mapping[str, pd.DataFrame], names: Mapping[str, str],
                           labels: Mapping[str, str], marks: tuple[int, ...] = (30, 60, 90, 180, 365),
                           ax: plt.Axes | None = None) -> plt.Axes:
    """Cumulative share of new customers with a second purchase by day, one line per group of cohorts."""
    ax = ax or _axes(2.3, width=WIDTH / 2)
    colors = _colors()
    for i, (key, curve) in enumerate(curves.items()):
        ax.plot(curve["day"], curve["share"], color=colors[0] if i == 0 else colors[4],
                linewidth=1.8 if i == 0 else 1.2, label=names[key])
    for mark in marks:
        ax.axvline(mark, color="#D5DAE0", linewidth=0.6, zorder=0)
    ax.set_xticks(list(marks))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(bottom=0)
    ax.set_xlabel(labels["xlabel"])
    ax.legend(loc="lower right")
    _title(ax, labels["title"])
    return ax


def replenishment_ranges(cycles: pd.DataFrame, labels: Mapping[str, str], ax: plt.Axes | None = None) -> plt.Axes:
    """Per product: the 25th–75th percentile of days between repurchases as a bar, the median as a dot and
    the suggested reminder day as a tick. `cycles` needs product_name, p25, p50, p75, reminder_day."""
    ax = ax or _axes(0.26 * len(cycles) + 0.8)
    colors = _colors()
    y = np.arange(len(cycles))
    ax.barh(y, cycles["p75"] - cycles["p25"], left=cycles["p25"], height=0.5, color=colors[2],
            label=labels["range"])
    ax.scatter(cycles["p50"], y, color=colors[0], zorder=3, s=18, label=labels["median"])
    ax.scatter(cycles["reminder_day"], y, marker="|", color=colors[1], zorder=3, s=120, linewidths=2,
               label=labels["reminder"])
    ax.set_yticks(y, [short_name(n, 24) for n in cycles["product_name"]])
    ax.invert_yaxis()
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.set_xlim(left=0)
    ax.set_xlabel(labels["xlabel"])
    # Below the chart, never over a bar: a figure legend "outside" gets its room from the layout in one pass
    # (one anchored below the axes moves with them, and the layout settles only after several passes).
    ax.figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3)
    ax.margins(y=0.02)
    _title(ax, labels["title"])
    return ax


def share_bars(summary: pd.DataFrame, names: Mapping[str, str], labels: Mapping[str, str],
               key: str = "segment", ax: plt.Axes | None = None) -> plt.Axes:
    """Horizontal paired bars per group: share of customers and share of revenue."""
    ax = ax or _axes(0.24 * len(summary) + 0.7)
    y = np.arange(len(summary))
    colors = _colors()
    ax.barh(y - 0.2, summary["customer_share"], height=0.38, color=colors[2], label=labels["customers"])
    ax.barh(y + 0.2, summary["revenue_share"], height=0.38, color=colors[0], label=labels["revenue"])
    ax.set_yticks(y, [names.get(str(k), str(k)) for k in summary[key]])
    ax.invert_yaxis()
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(loc="best")
    _title(ax, labels["title"])
    return ax


def value_by_segment(by_segment: pd.DataFrame, names: Mapping[str, str], labels: Mapping[str, str],
                     ax: plt.Axes | None = None, locale: str = "zh-TW", currency: str = "TWD") -> plt.Axes:
    """Horizontal paired bars per segment, in money: what its customers have spent so far (`historic_total`)
    and what they are predicted to spend in the coming months (`clv_total`, `clv.value_by_group`). Segments
    without a prediction show only their past."""
    ax = ax or _axes(0.24 * len(by_segment) + 0.7)
    y = np.arange(len(by_segment))
    colors = _colors()
    ax.barh(y - 0.2, by_segment["historic_total"], height=0.38, color=colors[2], label=labels["historic"])
    ax.barh(y + 0.2, by_segment["clv_total"].fillna(0), height=0.38, color=colors[0], label=labels["predicted"])
    ax.set_yticks(y, [names.get(str(k), str(k)) for k in by_segment["group"]])
    ax.invert_yaxis()
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # money labels are long: 'NT$1,250 萬' side by side collide
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: money_short(v, locale, currency)))
    ax.legend(loc="best")
    _title(ax, labels["title"])
    return ax


def cluster_bubbles(profile: pd.DataFrame, labels: Mapping[str, str], ax: plt.Axes | None = None,
                    locale: str = "zh-TW") -> plt.Axes:
    """Bubbles per cluster: mean days since last purchase (x) × mean spend (y), area ∝ customers."""
    ax = ax or _axes(2.6)
    colors = _colors()
    sizes = 1800 * profile["customers"] / profile["customers"].max()
    ax.scatter(profile["mean_recency_days"], profile["mean_monetary"], s=sizes,
               c=[colors[i % len(colors)] for i in range(len(profile))], alpha=0.75, edgecolors="white")
    for _, row in profile.iterrows():  # one label per cluster (≤ 6 rows)
        ax.annotate(row["label"], (row["mean_recency_days"], row["mean_monetary"]),
                    ha="center", va="center", fontsize=7.5, fontweight="bold", color="#222222",
                    bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    ax.set_xlabel(labels["xlabel"])
    ax.set_ylabel(labels["ylabel"])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v, locale)))
    ax.grid(axis="x")
    ax.margins(x=0.25, y=0.2)  # room for the biggest bubble (about 42 pt across) and its label at either edge
    _title(ax, labels["title"])
    return ax


def p_alive_histogram(p_alive: pd.Series, labels: Mapping[str, str], threshold: float = 0.5,
                      ax: plt.Axes | None = None) -> plt.Axes:
    """Customers by probability of still being active (10 bins); bins below `threshold` in the accent colour."""
    ax = ax or _axes(2.1, width=WIDTH / 2)
    colors = _colors()
    counts, edges = np.histogram(p_alive.dropna(), bins=np.linspace(0, 1, 11))
    ax.bar(edges[:-1], counts, width=0.1, align="edge", edgecolor="white",
           color=[colors[1] if right <= threshold else colors[0] for right in edges[1:]])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel(labels["xlabel"])
    ax.set_ylabel(labels["ylabel"])
    _title(ax, labels["title"])
    return ax


def backtest_deciles(deciles: pd.DataFrame, labels: Mapping[str, str], ax: plt.Axes | None = None) -> plt.Axes:
    """Predicted against actual purchases per decile of predicted value (`clv.backtest_summary`): paired bars,
    decile 1 (lowest predicted) to 10."""
    ax = ax or _axes(2.1, width=WIDTH / 2)
    colors = _colors()
    x = np.arange(len(deciles))
    ax.bar(x - 0.2, deciles["predicted_purchases"], width=0.4, color=colors[0], label=labels["predicted"])
    ax.bar(x + 0.2, deciles["actual_purchases"], width=0.4, color=colors[1], label=labels["actual"])
    ax.set_xticks(x, [str(d) for d in deciles["decile"]])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel(labels["xlabel"])
    ax.set_ylabel(labels["ylabel"])
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    _title(ax, labels["title"])
    return ax


_GROUP_COLOUR = {"cant_lose": 0, "slipping": 1, "half_asleep": 3, "asleep": 4, "fading": 2, "due_soon": 5}
"""Each target group's place in the brand palette, so a group keeps its colour when others are not drawn."""


def winback_groups(summary: pd.DataFrame, names: Mapping[str, str], labels: Mapping[str, str],
                   ax: plt.Axes | None = None, locale: str = "zh-TW", currency: str = "TWD") -> plt.Axes:
    """Bars per win-back group: customers, labelled with the expected 12-month spend at stake."""
    ax = ax or _axes(2.1, width=WIDTH / 2)
    colors = _colors()
    bars = ax.bar([names[g] for g in summary["group"]], summary["customers"],
                  color=[colors[_GROUP_COLOUR.get(g, 4)] for g in summary["group"]], width=0.6)
    ax.bar_label(bars, labels=[f"{c:,}\n{money_short(v, locale, currency)}" for c, v in zip(
        summary["customers"], summary["value_at_stake"], strict=True)],
                 padding=2, fontsize=7)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel(labels["ylabel"])
    ax.tick_params(axis="x", labelsize=7.5)
    ax.margins(y=0.3)
    _wrap_ticks(ax)
    _title(ax, labels["title"])
    return ax


def _wrap_ticks(ax: plt.Axes) -> None:
    """Put an x tick label on two lines when it is wider than its bar's slot, so a long name (高價值流失客) never
    runs into its neighbour: at spaces (`_wrap`), or a name without spaces halved (高價值 / 流失客)."""
    renderer = _laid_out(ax)
    ticks = ax.get_xticklabels()
    if not ticks:
        return
    room = ax.get_window_extent(renderer).width / len(ticks) * TITLE_ROOM
    font = ticks[0].get_fontproperties()

    def width(text: str) -> float:
        return renderer.get_text_width_height_descent(text, font, ismath=False)[0]

    def fitted(text: str) -> str:
        if width(text) <= room:
            return text
        if " " in text:
            return _wrap(text, width, room)
        half = (len(text) + 1) // 2
        return text[:half] + "\n" + text[half:]

    ax.set_xticks(ax.get_xticks(), [fitted(tick.get_text()) for tick in ticks])


def _laid_out(ax: plt.Axes) -> RendererBase:
    """Lay the chart out (constrained layout places the axes) and return its renderer, to measure text."""
    figure = ax.figure
    figure.draw_without_rendering()  # type: ignore[union-attr]  # a chart's axes sit on a Figure, not a SubFigure
    return figure.canvas.get_renderer()  # type: ignore[attr-defined]  # charts draw on Agg, which has it


def _colors() -> list:
    """The brand palette set by `apply_theme`."""
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _title(ax: plt.Axes, text: str) -> None:
    """Set the chart's title, wrapped onto more lines when it is wider than the room from the axes' left edge
    to the figure's right edge (a half-width chart has about 3 inches): a title is never cut off.

    Lines break at a space or CJK punctuation first, between two CJK characters only when nothing else fits,
    never inside a Latin word. Call it last, when the rest of the chart is drawn: the chart is laid out here
    for the last time (twice when the title wraps), and `results.save` keeps that layout unless something
    changed since, so a chart must settle in one pass: a legend outside the axes is a figure legend placed
    "outside", not one anchored to the axes."""
    title = ax.set_title(text)
    renderer = _laid_out(ax)
    room = (ax.figure.bbox.x1 - ax.get_window_extent(renderer).x0) * TITLE_ROOM
    font = title.get_fontproperties()
    wrapped = _wrap(text, lambda s: renderer.get_text_width_height_descent(s, font, ismath=False)[0], room)
    if wrapped != text:
        title.set_text(wrapped)
        _laid_out(ax)  # room for the title's lines; `results.save` keeps this layout


TITLE_ROOM = 0.97
"""Share of the measured room a title line may fill: the PDF sets the SVG's text with its own font metrics."""
BREAK_AFTER, BREAK_BEFORE = " ：，、）)", "（("


def _wrap(text: str, width: Callable[[str], float], room: float) -> str:
    """`text` with line breaks so that each line's `width` is at most `room` where a break point allows."""
    if width(text) <= room:
        return text
    preferred = [i for i in range(1, len(text)) if text[i - 1] in BREAK_AFTER or text[i] in BREAK_BEFORE]
    between_cjk = [i for i in range(1, len(text)) if _is_cjk(text[i - 1]) and _is_cjk(text[i])]
    for points in (preferred, between_cjk):
        for i in reversed(points):
            head = text[:i].rstrip()
            if head and width(head) <= room:
                return head + "\n" + _wrap(text[i:].lstrip(), width, room)
    return text


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def _axes(height: float, width: float = WIDTH) -> plt.Axes:
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def _month_ticks(ax: plt.Axes, months: pd.Series, every: int = 3) -> None:
    periods = [pd.Period(m, "M") for m in months]
    ticks = [i for i, p in enumerate(periods) if (len(periods) - 1 - i) % every == 0]
    ax.set_xticks(ticks, [f"{periods[i]:%Y-%m}" for i in ticks])
    ax.set_xlim(-0.6, len(periods) - 0.4)


def _tint(colour: str, amount: float) -> tuple[float, float, float]:
    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)
