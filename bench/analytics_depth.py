"""What the issue-3 analyses add to a report on a large client (about 1M order lines).

1. Writes a copy of demo-supplements scaled to ~1M order lines into a temporary clients folder.
2. Runs the whole report on it (papermill kernels + WeasyPrint) and times it: T.
3. On the same prepared data, times in this process every issue-3 analysis the notebooks run (second-purchase
   curves, intervals by order number, cohort value, replenishment cycles, first product, next product, seed
   CLV, NES stages and their flow, RFM migration, member tiers) including their charts: A. The notebooks run in
   two kernels in parallel, so A (serial) is an upper bound of the wall time they add.
4. Renders the report's HTML with and without the two chapters issue 3 added (products, life-cycle stages and
   tiers): R = the difference.

Prints T, A, R and the ratio T / (T − A − R): how much longer the report is with the analyses than without
(target ≤ 1.5).

    .venv/bin/python bench/analytics_depth.py [--lines 1000000] [--month 2026-10] [--repeat 3]
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib
import pandas as pd

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402

from crm_report import charts, i18n, pipeline, render  # noqa: E402
from crm_report.config import load_config  # noqa: E402
from crm_report.data import demo  # noqa: E402
from crm_report.metrics import clv, lifecycle, products, repurchase, rfm, tiers  # noqa: E402
from crm_report.metrics.orders import purchase_orders  # noqa: E402
from crm_report.paths import CLIENTS_DIR  # noqa: E402

CLIENT = "bench-large"
BASE = "demo-supplements"
LINES_AT_SCALE_1 = 80_000  # demo-supplements, about


def make_client(root: Path, month: str, lines: int) -> int:
    folder = root / CLIENT
    (folder / "data").mkdir(parents=True)
    for name in ("client.yaml", "logo.svg"):
        shutil.copy(CLIENTS_DIR / BASE / name, folder / name)
    frame = demo.generate_orders(BASE, month, scale=lines / LINES_AT_SCALE_1)
    frame.to_parquet(folder / "data" / "orders.parquet", index=False)
    return len(frame)


def analyses(lines: pd.DataFrame, orders: pd.DataFrame, month: pd.Period, config) -> dict[str, float]:
    """Seconds per issue-3 analysis, as the notebooks call them (charts drawn and saved as SVG)."""
    as_of, options = month.end_time, config.report
    words = i18n.strings(config.locale)
    charts.apply_theme(config.brand)
    times: dict[str, float] = {}

    def timed(name, work):
        start = time.perf_counter()
        result = work()
        times[name] = time.perf_counter() - start
        return result

    def svg(ax):
        ax.figure.savefig(tempfile.TemporaryFile(), format="svg")
        plt.close(ax.figure)

    timed("intervals by order number", lambda: repurchase.intervals_by_order_number(orders))
    timed("second-purchase curves", lambda: svg(charts.second_purchase_curves(
        {key: repurchase.second_purchase_curve(orders, as_of, months)
         for key, months in repurchase.comparison_cohorts(month).items()},
        words["second_purchase_groups"], words["charts"]["second_purchase"])))
    timed("cohort value", lambda: svg(charts.cohort_value_curves(
        repurchase.cohort_revenue(orders, month, options.cohort_months), words["charts"]["cohort_value"])))
    cycles = timed("replenishment cycles", lambda: products.replenishment_cycles(
        lines, as_of, options.replenishment_min_buyers, options.reminder_lead_days))
    timed("replenishment chart", lambda: svg(charts.replenishment_ranges(
        cycles.loc[cycles["consumable"]].head(options.top_products), words["charts"]["replenishment"])))
    timed("first product", lambda: (products.first_product_repeat(lines, as_of),
                                    products.baseline_repeat_rate(lines, as_of)))
    timed("next product", lambda: products.next_product_affinity(lines, as_of))
    timed("seed CLV", lambda: clv.seed_clv(orders, as_of))
    previous_as_of = lifecycle.previous_as_of(month)
    previous = timed("last month's orders", lambda: purchase_orders(lines, previous_as_of))
    stages = timed("NES stages", lambda: lifecycle.nes_stages(orders, as_of))
    before = timed("NES stages last month", lambda: lifecycle.nes_stages(previous, previous_as_of))
    timed("NES summary, flow, chart", lambda: (
        svg(charts.share_bars(lifecycle.stage_summary(stages, orders, as_of), words["nes_names"],
                              words["charts"]["nes"], key="stage")),
        lifecycle.biggest_movements(lifecycle.transition_matrix(
            before.set_index("customer_id")["stage"], stages.set_index("customer_id")["stage"], lifecycle.STAGES))))
    now = rfm.segment_customers(orders, as_of).set_index("customer_id")["segment"]
    timed("RFM migration", lambda: lifecycle.biggest_movements(lifecycle.transition_matrix(
        rfm.segment_customers(previous, previous_as_of).set_index("customer_id")["segment"], now, rfm.SEGMENTS)))
    invited = tiers.read_invitations(config)
    order = tiers.tier_order(config.member_tiers, invited)
    timed("member tiers", lambda: tiers.tier_changes(
        tiers.assign_tiers(previous, previous_as_of, config.member_tiers, invited),
        tiers.assign_tiers(orders, as_of, config.member_tiers, invited), order))
    return times


def render_without_new_chapters(report_dir: Path, folder: Path) -> tuple[float, float]:
    """Seconds to render report.html as published, and without the products and life-cycle chapters."""
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    cut = re.sub(r'<section class="chapter" id="(products|lifecycle)">.*?</section>', "", html, flags=re.S)
    cut = re.sub(r'<li><a href="#(products|lifecycle)">.*?</li>', "", cut, flags=re.S)  # and their TOC lines
    shutil.copytree(report_dir / "assets", folder / "assets", dirs_exist_ok=True)
    shutil.copytree(report_dir / "build" / "figures", folder / "build" / "figures", dirs_exist_ok=True)
    seconds = []
    for name, text in (("full.html", html), ("cut.html", cut)):
        (folder / name).write_text(text, encoding="utf-8")
        start = time.perf_counter()
        render.write_pdf(folder / name, folder / f"{name}.pdf", root=folder)
        seconds.append(time.perf_counter() - start)
    return seconds[0], seconds[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    month = pd.Period(args.month, freq="M")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n_lines = make_client(root / "clients", args.month, args.lines)
        config = load_config(CLIENT, root / "clients")
        reports, added, renders = [], [], []
        for _ in range(args.repeat):  # alternate the measurements, so drift in machine speed hits all alike
            start = time.perf_counter()
            folder = pipeline.run_report(CLIENT, args.month, clients_dir=root / "clients", reports_dir=root / "reports")
            reports.append(time.perf_counter() - start)
            lines = pd.read_parquet(folder / "build" / "lines.parquet")
            orders = pd.read_parquet(folder / "build" / "orders.parquet")
            times = analyses(lines, orders, month, config)
            added.append(sum(times.values()))
            full, cut = render_without_new_chapters(folder, root / "render")
            renders.append(full - cut)
    total, compute, pages = (statistics.median(x) for x in (reports, added, renders))
    print(f"client: {n_lines:,} order lines, {len(orders):,} paid orders, "
          f"{orders['customer_id'].nunique():,} customers")
    print(f"report end to end (T):           median {total:6.2f} s  runs {[round(x, 2) for x in reports]}")
    print(f"issue-3 analyses, serial (A):    median {compute:6.2f} s  runs {[round(x, 2) for x in added]}")
    for name, seconds in sorted(times.items(), key=lambda item: -item[1]):
        print(f"    {name:28s} {seconds:6.2f} s")
    print(f"their chapters' rendering (R):   median {pages:6.2f} s  runs {[round(x, 2) for x in renders]}")
    print(f"ratio T / (T − A − R): {total / (total - compute - pages):.2f}  "
          "(target ≤ 1.5; A is serial, an upper bound)")


if __name__ == "__main__":
    main()
