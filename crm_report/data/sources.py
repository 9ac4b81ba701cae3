"""Reading a client's order source into chunks of raw columns, each row numbered as the client sees it.

Sources (`source` in client.yaml):
- **Files**: CSV (encoding detected, or `source.encoding`), Excel `.xlsx` (`source.sheet`), Parquet. One file,
  a folder (every such file in it) or a glob (`data/orders-*.csv`), always inside the client's folder, in
  name order. Which of two overlapping exports is the newer is decided by the orders they hold, not by
  this order (`load.export_ranks`).
- **Databases**: a SQLAlchemy `url` plus a `query` or `table`. The password comes from the environment
  variable named by `password_env`, never from client.yaml. SQLite paths are inside the client's folder.

Large sources are read in chunks of `source.chunk_rows` rows, and only the columns a field is matched to,
so a 10M-line CSV is never held as text in memory: each chunk is parsed into typed columns and dropped.

`source_row` is the row number a spreadsheet shows: for CSV and Excel the first line or row of the file is
row 1, so with the header on top the first data row is row 2 (a value spanning lines is one row, as in
Excel); for Parquet and databases the first row is 1.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, AnyStr

import numpy as np
import pandas as pd

from crm_report.config import ClientConfig
from crm_report.data.presets import PRESETS, normalise_header
from crm_report.errors import ReportError


class DataError(ReportError, ValueError):
    """The order source cannot be used; the message names the file, and the row and column where known."""


FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".xlsm": "excel",
           ".parquet": "parquet", ".pq": "parquet"}
DELIMITERS = (",", "\t", ";", "|")
HEADER_SCAN_ROWS = 50
"""Rows searched for the header when it is not the first (title rows above it, blank lines)."""
_KNOWN_NAMES = frozenset(normalise_header(n) for p in PRESETS.values() for names in p.synonyms.values()
                         for n in names)

Select = Callable[[Sequence[str]], Sequence[str]]
"""Given a table's column names, the ones to read (the loader matches them to fields)."""


@dataclass(frozen=True)
class TableInfo:
    """What was read from one file or query: for `--check-data` and the data-quality appendix."""

    name: str
    kind: str
    columns: tuple[str, ...] = ()
    encoding: str | None = None
    encoding_detected: bool = False
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None


@dataclass
class Table:
    """One file or query. `read(select)` yields chunks of the selected columns plus `source_row`.

    After reading, `malformed` lists CSV rows that could not be split into the header's columns (with
    their row number, text and reason: `malformed row` or `unbalanced quote`), and `fix_rows` maps the
    chunks' provisional row numbers to the true ones (-1: a row read wrongly and read again, to drop).
    """

    info: TableInfo
    sample: pd.DataFrame
    reader: Callable[[Table, Select], Iterator[pd.DataFrame]]
    malformed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"source_row": [], "text": [], "reason": []}))
    fix_rows: Callable[[np.ndarray], np.ndarray] = staticmethod(lambda rows: rows)

    def read(self, select: Select) -> Iterator[pd.DataFrame]:
        try:
            yield from self.reader(self, select)
        except OSError as exc:  # the file went away or became unreadable after it was opened
            raise DataError(f"{exc.filename or self.info.name}: cannot read the file ({exc.strerror or exc})") from None


def open_tables(config: ClientConfig) -> list[Table]:
    """The tables of the client's source: one per file (in name order) or one for the database query."""
    source = config.source
    if source.url is not None:
        return [_sql_table(config)]
    return [_open_file(path, config) for path in find_files(config)]


def find_files(config: ClientConfig) -> list[Path]:
    """The files `source.path` names: a file, every order file in a folder, or a glob; inside the client's
    folder, sorted by name, skipping hidden files and Excel's `~$` lock files."""
    pattern = config.source.path or ""
    yaml_path = config.folder / "client.yaml"
    base = config.folder.resolve()
    if any(ch in pattern for ch in "*?["):
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise DataError(f"{yaml_path}: source.path {pattern!r} leaves the client's folder")
        paths = [p for p in sorted(base.glob(pattern)) if p.is_file()]
        what = f"no files match source.path {pattern!r} in {config.folder} ({yaml_path})"
    else:
        target = config.resolve(pattern)
        if target.is_dir():
            paths = sorted(p for p in target.iterdir() if p.is_file() and p.suffix.lower() in FORMATS)
            what = f"no order files (.csv, .xlsx, .parquet) in the folder {target} (source.path in {yaml_path})"
        elif target.is_file():
            paths = [target]
        else:
            raise DataError(f"order file not found: {target} (source.path in {yaml_path})")
    paths = [p for p in paths if not p.name.startswith((".", "~$"))]
    for p in paths:  # a link to another client's export must not join this client's orders
        if not p.resolve().is_relative_to(base):
            raise DataError(f"{yaml_path}: source.path {pattern!r}: {display_name(p, config)} is a link to "
                            f"{p.resolve()}, outside the client's folder; links out of the folder are refused")
    if not paths:
        raise DataError(what)
    return paths


def display_name(path: Path, config: ClientConfig) -> str:
    """A file's name as reports show it: relative to the client's folder (a link by its own name, not its
    target's, so a link beside its target is a file of its own)."""
    for folder in (config.folder.resolve(), config.folder.absolute()):
        try:
            return str(path.absolute().relative_to(folder))
        except ValueError:
            continue
    return str(path)


def _open_file(path: Path, config: ClientConfig) -> Table:
    kind: str = config.source.format
    if kind == "auto":
        if path.suffix.lower() == ".xls":
            raise DataError(f"{path}: old Excel .xls files are not read; save it as .xlsx or CSV")
        kind = FORMATS.get(path.suffix.lower(), "")
        if not kind:
            raise DataError(f"{path}: cannot tell the format from the extension {path.suffix!r}; set "
                            f"source.format (csv, excel or parquet) in {config.folder / 'client.yaml'}")
    opener = {"csv": _csv_table, "excel": _excel_table, "parquet": _parquet_table}[kind]
    try:
        if path.stat().st_size == 0:
            raise DataError(f"{path}: the file is empty")
        return opener(path, config)
    except OSError as exc:  # no permission to read it, a disk error
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


# --- CSV ------------------------------------------------------------------------------------------------

def detect_encoding(path: Path, forced: str = "auto") -> tuple[str, bool]:
    """The file's text encoding and whether it was detected (True) or forced by client.yaml (False).

    Detection: a byte-order mark (UTF-8, UTF-16); else UTF-8 when the whole file decodes as UTF-8; else
    Big5 (as CP950, Microsoft's Big5 with its extensions) when the whole file decodes as that, unless
    charset-normalizer finds it reads clearly better as Windows-1252 (`Crème` is also two valid Big5 bytes
    and an `e`); else the best guess of charset-normalizer, Windows-1252 when it ties with other single-byte
    code pages (it chose Central European CP1250 for `Crème`: `Crčme`) or reads with no more noise than the
    guess (for `Crème brûlée` it guessed Big5-HKSCS, `Cr鋗e br堦嶪`, without trying Windows-1252). A file
    with many valid UTF-8 lines among the others (`_mostly_utf8`: a damaged UTF-8 file, or rows pasted from
    a Big5 or Windows-1252 file) is reported, not re-guessed, so it is never read as mojibake; a Big5
    character whose bytes happen to be UTF-8 too does not make a Big5 file UTF-8.
    """
    if forced != "auto":
        bad = _first_undecodable(path, forced)
        if bad is not None:
            raise DataError(f"{path}: not readable as {forced} (byte {bad} on line {_line_at(path, bad)}); fix "
                            "source.encoding in client.yaml, or remove it to detect the encoding")
        return forced, False
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        bad = _first_undecodable(path, "utf-8")
        if bad is None:
            return "utf-8", True
        if _mostly_utf8(path):
            raise DataError(f"{path}: UTF-8 text with a byte that is not UTF-8 (byte {bad} on line "
                            f"{_line_at(path, bad)}); the file is damaged, or set source.encoding")
        if _first_undecodable(path, "cp950") is None:
            return ("cp1252" if _reads_better_as_cp1252(path) else "cp950"), True
        return _guess_encoding(path), True
    bad = _first_undecodable(path, encoding)
    if bad is not None:
        raise DataError(f"{path}: starts with a {encoding} byte-order mark but byte {bad} on line "
                        f"{_line_at(path, bad)} is not {encoding}; the file is damaged")
    return encoding, True


def _first_undecodable(path: Path, encoding: str, block: int = 1 << 22) -> int | None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with path.open("rb") as handle:
        while True:
            data = handle.read(block)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                return max(offset - pending + exc.start, 0)
            if not data:
                return None
            offset += len(data)


MIXED_UTF8_SHARE = 0.25
"""In a file that is not all UTF-8, the share of its lines with non-ASCII text that are valid UTF-8 from which
it is taken for UTF-8 with rows from another encoding (pasted from another export)."""


def _mostly_utf8(path: Path, sample: int = 1 << 26) -> bool:
    """Whether at least `MIXED_UTF8_SHARE` of the lines with non-ASCII text (in the first `sample` bytes) are
    valid UTF-8: a file of UTF-8 rows and rows in another encoding. A line of Big5 text is valid UTF-8 only by
    accident (a few characters in a hundred are), so in a real Big5 file such lines are far fewer."""
    with path.open("rb") as handle:
        lines = [line for line in handle.read(sample).splitlines() if not line.isascii()]
    valid = 0
    for line in lines:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        valid += 1
    return bool(lines) and valid >= MIXED_UTF8_SHARE * len(lines)


def _reads_better_as_cp1252(path: Path) -> bool:
    """Whether charset-normalizer finds the file reads with less noise ("chaos") as Windows-1252 than as
    CP950 (both decode it): `Cr鋗e` is noisier than `Crème`. On a tie Big5 stays, as the clients are Taiwanese:
    `魚油` and `³½ªo` are both without noise, and coherence (which favours the English header) is not asked."""
    from charset_normalizer import from_path

    found = {match.encoding: match for match in from_path(path, cp_isolation=["cp950", "cp1252"])}
    western, big5 = found.get("cp1252"), found.get("cp950")
    return western is not None and (big5 is None or western.chaos < big5.chaos)


def _line_at(path: Path, offset: int) -> int:
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n") + 1


def _guess_encoding(path: Path) -> str:
    from charset_normalizer import from_path

    matches = from_path(path)
    best = matches.best()
    western = from_path(path, cp_isolation=["cp1252"]).best()  # the full search may not try it at all
    if western is not None and (best is None or western.chaos <= best.chaos):
        return "cp1252"
    if best is None:
        raise DataError(f"{path}: cannot tell the text encoding (not UTF-8, not Big5); set source.encoding "
                        "in client.yaml")
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    return "cp1252" if any("cp1252" in m.could_be_from_charset for m in tied) else best.encoding


def _csv_table(path: Path, config: ClientConfig) -> Table:
    source = config.source
    encoding, detected = detect_encoding(path, source.encoding)
    with path.open("r", encoding=encoding, newline="", errors="replace") as handle:
        head = handle.read(1 << 18)
    if encoding == "utf-8":
        head = head.removeprefix("\ufeff")
    delimiter, records = _sniff(head, source.delimiter, _wanted_names(config))
    header = _header_index(records, source.header_row, _wanted_names(config), path)
    if header is None:
        raise DataError(f"{path}: the file has no header row (only blank lines)")
    columns = _column_names(records[header])
    sample = _sample(records[header + 1:], columns)
    info = TableInfo(display_name(path, config), "csv", columns, encoding, detected, delimiter,
                     header_row=header + 1)
    return Table(info, sample, lambda table, select: _read_csv(table, path, select, source.chunk_rows))


def _wanted_names(config: ClientConfig) -> frozenset[str]:
    explicit = {normalise_header(c) for v in config.source.columns.values() if v
                for c in ([v] if isinstance(v, str) else v)}
    return _KNOWN_NAMES | explicit


def _sniff(head: str, forced: str | None, wanted: frozenset[str]) -> tuple[str, list[list[str]]]:
    """The delimiter whose split of the first rows finds the most known column names (ties: the most
    fields), and those rows as records."""
    best: tuple[tuple[int, int], str, list[list[str]]] | None = None
    for delimiter in ([forced] if forced else DELIMITERS):
        records = _records(head, delimiter)
        score = max((sum(normalise_header(c) in wanted for c in r) for r in records), default=0)
        width = max((len(r) for r in records), default=0)
        if best is None or (score, width) > best[0]:
            best = ((score, width), delimiter, records)
    assert best is not None
    return best[1], best[2]


def _records(head: str, delimiter: str) -> list[list[str]]:
    lines = head.splitlines(keepends=True)
    if len(lines) > 1 and not head.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line may be cut off by the read
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)
    records = []
    try:
        for record in reader:
            records.append(record)
            if len(records) > HEADER_SCAN_ROWS + 200:
                break
    except csv.Error:
        pass
    return records


def _header_index(records: list[list[str]], forced: int | None, wanted: frozenset[str], path: Path) -> int | None:
    """Where the header is (0-based): `source.header_row` − 1, else the first of the first rows with the
    most known column names (at least two), else the first non-blank row."""
    if forced is not None:
        if forced > len(records):
            raise DataError(f"{path}: source.header_row is {forced} but the file's first rows end at row "
                            f"{len(records)}")
        return forced - 1
    scores = [sum(normalise_header(c) in wanted for c in r) for r in records[:HEADER_SCAN_ROWS]]
    if scores and max(scores) >= 2:
        return scores.index(max(scores))
    return next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)


def _column_names(cells: Sequence[object]) -> tuple[str, ...]:
    """Header cells as unique names: trimmed; blank → `Unnamed: <position>`; repeats → `name.1`, `name.2`."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, cell in enumerate(cells):
        name = "" if cell is None else str(cell).strip()
        name = name or f"Unnamed: {position}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return tuple(names)


def _sample(records: Sequence[Sequence[object]], columns: Sequence[str]) -> pd.DataFrame:
    rows = [list(r)[:len(columns)] + [None] * (len(columns) - len(r)) for r in records[:200]]
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


def _read_csv(table: Table, path: Path, select: Select, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """pyarrow's streaming reader; then, only when its rows do not match the file's lines one to one (rows
    with the wrong number of fields, values over several lines, a quote that never closes), Python's `csv`
    module goes over the lines to number every row and find each unbalanced quote (`_scan_lines`). After a
    stray quote pyarrow's rows are superseded: the rows from there on are yielded again from the scan, and
    `table.fix_rows` maps pyarrow's to -1 (drop)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    info = table.info
    wanted = list(select(info.columns))
    invalid: list[str] = []

    def on_invalid(row) -> str:  # a row with more or fewer fields than the header: excluded, not fatal
        invalid.append(row.text)
        return "skip"

    encoding = "utf8" if info.encoding in ("utf-8", "utf-8-sig") else info.encoding
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=info.header_row, column_names=list(info.columns),
                                       encoding=encoding, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=info.delimiter, newlines_in_values=True,
                                          ignore_empty_lines=False, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in wanted},
                                             include_columns=wanted, strings_can_be_null=True,
                                             quoted_strings_can_be_null=True, null_values=[""]),
    )
    first_row = (info.header_row or 0) + 1
    count, failed = 0, False
    try:
        for batch in reader:
            for start in range(0, batch.num_rows, chunk_rows):
                part = batch.slice(start, chunk_rows)
                frame = part.to_pandas()
                yield frame.assign(source_row=np.arange(first_row + count, first_row + count + len(frame)))
                count += len(frame)
    except pa.ArrowInvalid:  # e.g. a quoted value larger than a block: the scan below reads the rest
        failed = True
    if not failed and not invalid and count == _count_lines(path, info.encoding) - (info.header_row or 0):
        return  # one row per line: no value over two lines, so no quote left open
    scan = _scan_lines(path, info, count)
    table.malformed = scan.malformed
    resume = min(count if scan.valid_before_break is None else scan.valid_before_break, count, len(scan.valid))
    redo = scan.records
    for start in range(0, len(redo), chunk_rows):
        part = redo[start:start + chunk_rows]
        columns = {c: [record[i] if i < len(record) and record[i] != "" else None for record in part]
                   for c, i in ((c, info.columns.index(c)) for c in wanted)}
        frame = pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()}).to_pandas() if wanted \
            else pd.DataFrame(index=range(len(part)))
        rows = first_row + count + start
        yield frame.assign(source_row=np.arange(rows, rows + len(part)))
    valid = scan.valid
    true_rows = np.concatenate([valid[:resume], np.full(count - resume, -1, dtype="int64"), valid[resume:]])
    table.fix_rows = lambda rows: true_rows[np.asarray(rows, dtype="int64") - first_row]


@dataclass
class _Scan:
    """The rows of a CSV file as Python's csv module splits them, one stray quote at a time: `valid` the
    row numbers of the rows with the header's number of fields (or blank), `records` the cells of those
    that pyarrow did not read right (from the first unbalanced quote, or past the rows it read),
    `malformed` the others (row, text, reason), `valid_before_break` how many valid rows come before the
    first unbalanced quote (None: there is none)."""

    valid: np.ndarray
    records: list[list[str]]
    malformed: pd.DataFrame
    valid_before_break: int | None


MAX_LINES_PER_ROW = 1000
"""A quoted value running over more lines than this is taken for a quote left open."""


class _OpenQuote(Exception):
    pass


class _Lines:
    """A text file's physical lines, with the lines taken for the current row and a way to put them back."""

    def __init__(self, handle: Iterator[str]) -> None:
        self.handle = handle
        self.back: deque[str] = deque()
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.back.popleft() if self.back else next(self.handle)
        self.taken.append(line)
        if len(self.taken) > MAX_LINES_PER_ROW:
            raise _OpenQuote
        return line


def _scan_lines(path: Path, info: TableInfo, read: int) -> _Scan:
    """Every row of the file by number. A row whose quoted value runs past the end of its line is one row
    (as in Excel) only when it closes and the row then has the header's number of fields; otherwise its
    first line is excluded as an `unbalanced quote` and the lines after it are read as their own rows, so
    one stray quote never swallows the rest of the file (or trips the csv module's field-size limit).
    `read` is how many rows pyarrow yielded: cells are kept only for rows it did not read right."""
    width, delimiter = len(info.columns), info.delimiter or ","
    valid: list[int] = []
    records: list[list[str]] = []
    numbers: list[int] = []
    texts: list[str] = []
    why: list[str] = []
    first_break: int | None = None
    with path.open("r", encoding=info.encoding, newline="") as handle:
        lines = _Lines(handle)
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        number = 0
        while True:
            lines.taken = []
            try:
                record: list[str] | None = next(reader)
            except StopIteration:
                break
            except (csv.Error, _OpenQuote):
                record = None
            number += 1
            taken = lines.taken
            if number <= (info.header_row or 0):
                continue
            spans = len(taken) > 1
            if record is None or (spans and (len(record) != width or "".join(taken).count('"') % 2)):
                numbers.append(number)
                texts.append(taken[0].rstrip("\r\n"))
                why.append("unbalanced quote")
                first_break = len(valid) if first_break is None else first_break
                lines.back.extendleft(reversed(taken[1:]))
                reader = csv.reader(lines, delimiter=delimiter, strict=True)  # afresh on the next line
            elif record and len(record) != width:
                numbers.append(number)
                texts.append(delimiter.join(record))
                why.append("malformed row")
            else:
                if first_break is not None or len(valid) >= read:
                    records.append(record)
                valid.append(number)
    malformed = pd.DataFrame({"source_row": np.asarray(numbers, dtype="int64"), "text": texts, "reason": why})
    return _Scan(np.asarray(valid, dtype="int64"), records, malformed, first_break)


def _count_lines(path: Path, encoding: str | None, block: int = 1 << 24) -> int:
    """Physical lines in the file (ended by \\n, \\r\\n or \\r), as pyarrow and Python split them. The
    bytes are counted (in C) for encodings in which a line end is always its ASCII byte (UTF-8, Big5 …)."""
    wide = codecs.lookup(encoding or "utf-8").name.startswith(("utf-16", "utf-32"))
    if wide:
        with path.open("r", encoding=encoding, newline="") as text:
            return _count_breaks(text, "\r", "\n", block)
    with path.open("rb") as raw:
        return _count_breaks(raw, b"\r", b"\n", block)


def _count_breaks(handle: IO[AnyStr], cr: AnyStr, lf: AnyStr, block: int) -> int:
    """`_count_lines` over an open file, read `block` characters (or bytes) at a time."""
    breaks, carry, last = 0, cr[:0], cr[:0]
    while data := handle.read(block):
        data = carry + data
        carry = cr if data.endswith(cr) else cr[:0]  # a \r\n may be split between two blocks
        data = data[:len(data) - len(carry)]
        returns = data.count(cr)
        breaks += data.count(lf) + (returns - data.count(cr + lf) if returns else 0)
        last = data[-1:] or last
    if carry:
        breaks, last = breaks + 1, cr
    return breaks + (1 if last and last not in (cr, lf) else 0)


# --- Excel -----------------------------------------------------------------------------------------------

def _excel_table(path: Path, config: ClientConfig) -> Table:
    """An .xlsx sheet: merged cells take their top-left value on every row they span (an order's fields
    merged over its lines), dates as ISO text, whole numbers without '.0'; the header row detected."""
    import openpyxl

    source = config.source
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not .xlsx
        raise DataError(f"{path}: not readable as an Excel .xlsx workbook ({exc})") from None
    try:
        sheet = _sheet(book, source.sheet, path)
        sheet.reset_dimensions()  # some writers leave out or misstate the sheet's size
        rows = list(sheet.iter_rows(values_only=True))
        width = max((len(r) for r in rows), default=0)
        cells = np.array([tuple(r) + (None,) * (width - len(r)) for r in rows], dtype=object).reshape(len(rows), width)
        merged = _merged_ranges(path, getattr(sheet, "_worksheet_path", None))
        title = sheet.title
    finally:
        book.close()
    if cells.size == 0:
        raise DataError(f"{path}: sheet {title!r} is empty")
    for top, left, bottom, right in merged:
        cells[top:bottom + 1, left:right + 1] = cells[top, left]
    text = pd.DataFrame(cells).apply(lambda column: column.map(_cell_text, na_action="ignore"))
    records = text.head(HEADER_SCAN_ROWS).fillna("").to_numpy().tolist()
    wanted = _wanted_names(config)
    header = _header_index(records, source.header_row, wanted, path)
    if header is None:
        raise DataError(f"{path}: sheet {title!r} has no header row")
    columns = _column_names(records[header])
    body = text.iloc[header + 1:].set_axis(list(columns), axis=1)
    info = TableInfo(display_name(path, config), "excel", columns, sheet=title, header_row=header + 1)

    def read(table: Table, select: Select) -> Iterator[pd.DataFrame]:
        wanted_columns = list(select(columns))
        rows = np.arange(header + 2, header + 2 + len(body))
        for start in range(0, max(len(body), 1), source.chunk_rows):
            part = body.iloc[start:start + source.chunk_rows][wanted_columns].astype("str")
            yield part.reset_index(drop=True).assign(source_row=rows[start:start + source.chunk_rows])

    return Table(info, body.head(200).reset_index(drop=True), read)


def _sheet(book, wanted: str | int | None, path: Path):
    names = book.sheetnames
    if wanted is None:
        return book.worksheets[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return book.worksheets[wanted]
    elif wanted in names:
        return book[wanted]
    raise DataError(f"{path}: no sheet {wanted!r} (source.sheet); the sheets are {names} "
                    f"(or their positions 0–{len(names) - 1})")


def _merged_ranges(path: Path, member: str | None) -> list[tuple[int, int, int, int]]:
    """Merged cell ranges as 0-based (top, left, bottom, right), read from the sheet's XML (openpyxl's
    fast read-only mode does not report them)."""
    from openpyxl.utils.cell import range_boundaries

    if not member:
        return []
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(member)
    ranges = []
    for ref in re.findall(rb'<mergeCell\s+ref="([A-Z]+\d+(?::[A-Z]+\d+)?)"', xml):
        left, top, right, bottom = range_boundaries(ref.decode())
        ranges.append((top - 1, left - 1, bottom - 1, right - 1))
    return ranges


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


# --- Parquet ---------------------------------------------------------------------------------------------

def _parquet_table(path: Path, config: ClientConfig) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: not readable as Parquet ({exc})") from None
    columns = tuple(n for n in parquet.schema_arrow.names if not n.startswith("__index_level_"))
    sample = next(parquet.iter_batches(batch_size=200, columns=list(columns)), None)
    info = TableInfo(display_name(path, config), "parquet", columns)

    def read(table: Table, select: Select) -> Iterator[pd.DataFrame]:
        first = 1
        for batch in parquet.iter_batches(batch_size=config.source.chunk_rows, columns=list(select(columns))):
            frame = batch.to_pandas()
            yield frame.assign(source_row=np.arange(first, first + len(frame)))
            first += len(frame)

    return Table(info, sample.to_pandas() if sample is not None else pd.DataFrame(columns=list(columns)), read)


# --- Databases -------------------------------------------------------------------------------------------

def database_url(config: ClientConfig):
    """The SQLAlchemy URL with the password from `source.password_env`; SQLite files inside the client's
    folder. Raises DataError when the variable is not set."""
    import sqlalchemy as sa

    source = config.source
    yaml_path = config.folder / "client.yaml"
    if source.url is None:
        raise DataError(f"{yaml_path}: source.url is not set (a database source needs it)")
    try:
        url = sa.engine.make_url(source.url)
    except sa.exc.ArgumentError as exc:
        raise DataError(f"{yaml_path}: source.url is not a database URL ({exc})") from None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = config.resolve(url.database)
        if not database.is_file():  # connecting would create an empty one
            raise DataError(f"database file not found: {database} (source.url in {yaml_path})")
        url = url.set(database=str(database))
    if source.password_env:
        password = os.environ.get(source.password_env)
        if not password:
            raise DataError(f"{yaml_path}: source.password_env names {source.password_env}, which is not set "
                            "in the environment (set it to the database password)")
        url = url.set(password=password)
    return url


def _sql_table(config: ClientConfig) -> Table:
    import sqlalchemy as sa

    source = config.source
    url = database_url(config)
    shown = url.render_as_string(hide_password=True)
    name = f"{shown} table {source.table}" if source.table else f"{shown} query"

    def failed(exc: Exception) -> DataError:
        first = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
        return DataError(f"{name}: {first}")

    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise DataError(f"{name}: cannot use this database URL ({exc})") from None
    try:
        with engine.connect() as connection:
            if source.table:
                schema, _, table_name = source.table.rpartition(".")
                table = sa.Table(table_name, sa.MetaData(), schema=schema or None, autoload_with=connection)
                statement: sa.Select | sa.TextClause = sa.select(table)
            elif source.query:
                statement = sa.text(source.query)
            else:
                raise DataError(f"{name}: give source.query or source.table")
            result = connection.execution_options(stream_results=True).execute(
                statement.limit(200) if isinstance(statement, sa.Select) else statement)
            columns = tuple(result.keys())
            sample = pd.DataFrame(result.fetchmany(200), columns=list(columns))
            result.close()
    except sa.exc.NoSuchTableError:
        raise DataError(f"{name}: no table {source.table!r} in the database (source.table)") from None
    except sa.exc.SQLAlchemyError as exc:
        raise failed(exc) from None
    info = TableInfo(name, "sql", columns)

    def read(table: Table, select: Select) -> Iterator[pd.DataFrame]:
        wanted = list(select(columns))
        first = 1
        try:
            with engine.connect() as connection:
                result = connection.execution_options(stream_results=True).execute(statement)
                for rows in result.partitions(source.chunk_rows):
                    frame = pd.DataFrame.from_records(rows, columns=list(columns), coerce_float=True)[wanted]
                    yield frame.assign(source_row=np.arange(first, first + len(frame)))
                    first += len(frame)
        except sa.exc.SQLAlchemyError as exc:
            raise failed(exc) from None
        finally:
            engine.dispose()

    return Table(info, sample, read)

