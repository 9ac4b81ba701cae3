"""End-to-end benchmark: one demo report against the floor, measured in the same run.

Floor = a papermill run of a notebook that only imports the libraries the report notebooks import, plus a
one-page WeasyPrint render of Traditional Chinese text with the same stylesheet. Both are fixed costs no
report can avoid, so the ratio report / floor says how much the report's own work adds.

    .venv/bin/python bench/end_to_end.py [--client demo-supplements] [--month 2026-10] [--repeat 3]

Floor and report runs alternate; prints the medians and the median of the paired ratios (target ≤ 2.0).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

from crm_report import execute, pipeline, render
from crm_report.data import demo
from crm_report.paths import CLIENTS_DIR, TEMPLATES_DIR

IMPORTS = """\
import pandas, numpy, matplotlib.pyplot, sklearn.cluster
from crm_report import charts, exports, privacy, workspace
from crm_report.metrics import acquisition, repurchase, rfm, winback
"""
ONE_PAGE = """<!DOCTYPE html><html lang="zh-TW"><head><meta charset="utf-8">
<link rel="stylesheet" href="report.css">
<style>:root { --primary: #0F6E5A; --accent: #F2A33A; }</style></head><body><h1>顧客經營月報</h1>
<p>本月共有 1,901 位顧客下單,其中新客 316 人、回購客 1,585 人;回購客貢獻了 85.2% 的營收。</p></body></html>"""


def floor_once(folder: Path) -> float:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(IMPORTS)])
    notebook.metadata["kernelspec"] = {"name": execute.KERNEL_NAME, "display_name": "CRM report (batch)",
                                       "language": "python"}
    source = folder / "floor.ipynb"
    nbformat.write(notebook, source)
    (folder / "report.css").write_bytes((TEMPLATES_DIR / "assets" / "report.css").read_bytes())
    (folder / "page.html").write_text(ONE_PAGE, encoding="utf-8")
    start = time.perf_counter()
    papermill.execute_notebook(str(source), str(folder / "floor-out.ipynb"), kernel_name=execute.KERNEL_NAME,
                               progress_bar=False, log_output=False)
    render.write_pdf(folder / "page.html", folder / "page.pdf", root=folder)
    return time.perf_counter() - start


def report_once(client: str, month: str, reports_dir: Path) -> float:
    start = time.perf_counter()
    pipeline.run_report(client, month, reports_dir=reports_dir)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", default="demo-supplements")
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not (CLIENTS_DIR / args.client / "data" / "orders.parquet").exists():
        demo.write_demo_data(CLIENTS_DIR, args.month)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        floor_once(folder)  # warm-up: caches, .pyc files
        report_once(args.client, args.month, folder / "reports")
        floors, reports = [], []
        for _ in range(args.repeat):  # alternate, so a machine that speeds up or slows down hits both alike
            floors.append(floor_once(folder))
            reports.append(report_once(args.client, args.month, folder / "reports"))
    ratios = [r / f for r, f in zip(reports, floors, strict=True)]
    print(f"floor  (empty notebook + 1-page CJK render): median {statistics.median(floors):5.2f} s  "
          f"runs {[round(x, 2) for x in floors]}")
    print(f"report ({args.client} {args.month}):        median {statistics.median(reports):5.2f} s  "
          f"runs {[round(x, 2) for x in reports]}")
    print(f"ratio report / floor (median of paired runs): {statistics.median(ratios):.2f}  "
          f"runs {[round(x, 2) for x in ratios]}  (target ≤ 2.0)")


if __name__ == "__main__":
    main()
