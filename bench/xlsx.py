"""The campaign workbook on a large list: XlsxWriter (what `exports.write_winback_xlsx` uses) against
openpyxl's write-only mode (what it used before), on the same rows, in the same run.

    .venv/bin/python bench/xlsx.py [--rows 100000] [--repeat 3]

Prints the median seconds of each and their ratio. The openpyxl writer here is the project's former one,
kept only as the baseline: header, widths, frozen row, filter, text as text, date and number formats.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from crm_report import i18n
from crm_report.exports import EXPORT_COLUMNS, campaign_rows, write_winback_xlsx


def targets(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(40)
    groups = np.array(["cant_lose", "slipping", "half_asleep", "asleep", "fading"])
    return pd.DataFrame({
        "customer_id": [f"C{i:07d}" for i in range(n)],
        "customer_name": [f"顧客{i}" for i in range(n)],
        "group": groups[rng.integers(0, 5, n)],
        "group_rank": np.arange(1, n + 1),
        "priority": rng.gamma(2.0, 800.0, n),
        "contact_date": pd.Timestamp("2026-12-01") + pd.to_timedelta(rng.integers(0, 28, n), unit="D"),
        "channel": np.array(["line", "email", "sms"])[rng.integers(0, 3, n)],
        "contact": [f"c{i}@example.com" for i in range(n)],
        "product": np.array(["魚油", "維他命", "葉黃素", "益生菌"])[rng.integers(0, 4, n)],
        "offer": np.array(["none", "reminder", "discount"])[rng.integers(0, 3, n)],
        "offer_detail": None,
        "control": False,
    })


def openpyxl_baseline(frame: pd.DataFrame, path: Path, words) -> None:
    rows = campaign_rows(frame, words)
    headers = [words["campaign"]["columns"][c] for c in EXPORT_COLUMNS]
    book = Workbook(write_only=True)
    for label, part in rows.groupby("group", sort=False):
        sheet = book.create_sheet(str(label)[:31])
        for position in range(1, len(EXPORT_COLUMNS) + 1):
            sheet.column_dimensions[get_column_letter(position)].width = 14
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_COLUMNS))}{len(part) + 1}"
        header = []
        for text in headers:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font, cell.fill = Font(bold=True), PatternFill("solid", start_color="D9E1F2")
            header.append(cell)
        sheet.append(header)
        values = part.astype(object).where(part.notna(), None)
        values["contact_date"] = [d.date() if d is not None else None for d in values["contact_date"]]
        for record in values.itertuples(index=False, name=None):
            sheet.append(list(record))
    book.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    words, frame = i18n.strings("zh-TW"), targets(args.rows)
    times: dict[str, list[float]] = {"xlsxwriter": [], "openpyxl": []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):  # alternate, so drift hits both alike
            began = time.perf_counter()
            write_winback_xlsx(frame, Path(folder) / "a.xlsx", words)
            times["xlsxwriter"].append(time.perf_counter() - began)
            began = time.perf_counter()
            openpyxl_baseline(frame, Path(folder) / "b.xlsx", words)
            times["openpyxl"].append(time.perf_counter() - began)
    medians = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.rows:,} rows: xlsxwriter {medians['xlsxwriter']:.2f} s, openpyxl write-only "
          f"{medians['openpyxl']:.2f} s, ratio {medians['xlsxwriter'] / medians['openpyxl']:.2f}")


if __name__ == "__main__":
    main()
