"""The campaign workbook as XlsxWriter writes it cell by cell, the reference `exports._add_rows` must equal
byte for byte (tests/test_exports.py) and the baseline it is timed against (bench/xlsx.py)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pandas as pd

from crm_report import exports

_format_sheet = exports._format_sheet


def _format_and_fill(sheet, headers: list[str], rows: pd.DataFrame, styles: dict, where: str) -> None:
    """The sheet as `exports._format_sheet` makes it, then every value written with XlsxWriter's typed
    writers in constant-memory mode, row by row (the column's format applies to each cell): the project's
    writer as it was until 2026-12, one typed writer per column."""
    _format_sheet(sheet, headers, rows, styles, where)
    writers = [sheet.write_datetime if column == "contact_date"
               else sheet.write_number if pd.api.types.is_numeric_dtype(rows[column])
               else sheet.write_string for column in exports.EXPORT_COLUMNS]
    values = rows.astype(object).where(rows.notna(), None)
    values["contact_date"] = [d.to_pydatetime() if d is not None else None for d in values["contact_date"]]
    columns = [values[column].tolist() for column in exports.EXPORT_COLUMNS]
    for number, record in enumerate(zip(*columns, strict=True), start=1):
        for position, value in enumerate(record):
            if value is not None:
                code = writers[position](number, position, value)
                assert code == 0, (number, headers[position], code)


@contextmanager
def cell_by_cell() -> Iterator[None]:
    """While active, `exports.write_winback_xlsx` writes the rows cell by cell through XlsxWriter."""
    with mock.patch.object(exports, "_format_sheet", _format_and_fill), \
            mock.patch.object(exports, "_add_rows", lambda path, sheets: None):
        yield
