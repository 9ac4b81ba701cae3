"""The campaign workbook on a large list, three writers on the same rows in the same run: the project's
(`exports.write_winback_xlsx`: XlsxWriter writes the parts, the rows are added a column at a time), the
same workbook written cell by cell through XlsxWriter's constant-memory mode (`tests/xlsx_reference.py`,
the project's writer until 2026-12 and the bytes the project's must equal), and openpyxl's write-only mode
(the writer before that).

    .venv/bin/python bench/xlsx.py [--rows 100000] [--repeat 3]

Prints the median seconds of each and the project's time as a ratio of each baseline. The openpyxl writer
here is kept only as a baseline: header, widths, frozen row, filter, text as text, date and number formats.
"""
from __future__ import annotations

import argparse
import statistics
import sys
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root, for tests.xlsx_reference
from tests.xlsx_reference import cell_by_cell  # noqa: E402


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
    writers = {"columns": lambda path: write_winback_xlsx(frame, path, words),
               "cell by cell": lambda path: _cell_by_cell(frame, path, words),
               "openpyxl": lambda path: openpyxl_baseline(frame, path, words)}
    times: dict[str, list[float]] = {name: [] for name in writers}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):  # alternate, so drift hits all alike
            for name, write in writers.items():
                began = time.perf_counter()
                write(Path(folder) / "book.xlsx")
                times[name].append(time.perf_counter() - began)
    medians = {k: statistics.median(v) for k, v in times.items()}
    ours = medians["columns"]
    print(f"{args.rows:,} rows, median of {args.repeat}: " + ", ".join(f"{k} {v:.2f} s" for k, v in medians.items()))
    print(f"columns / cell by cell {ours / medians['cell by cell']:.2f}, "
          f"columns / openpyxl {ours / medians['openpyxl']:.2f}")


def _cell_by_cell(frame: pd.DataFrame, path: Path, words) -> None:
    with cell_by_cell():
        write_winback_xlsx(frame, path, words)


if __name__ == "__main__":
    main()
