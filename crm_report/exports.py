"""Campaign exports: files a LINE / e-mail / SMS tool or a spreadsheet can import. They hold real contact
details and stay in the client's report folder; nothing here is shown in the PDF.

Every campaign export lists the customers to contact: targets not held out as control and with a channel
(`crm_report.metrics.campaign`), with the campaign columns `EXPORT_COLUMNS`. Words come from the locale's
`campaign` block: `columns` (headers), `groups`, `channels` and `offers` (labels for the codes).
"""
from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crm_report.errors import ReportError
from crm_report.metrics.campaign import to_contact
from crm_report.workspace import PRIVATE_DIR

EXPORT_COLUMNS = ("customer_id", "customer_name", "contact", "channel", "group", "group_rank", "priority",
                  "contact_date", "product", "offer", "offer_detail")
EXPORT_FILES = {"csv": "winback.csv", "xlsx": "winback.xlsx", "line": "line_audience.txt",
                "email": "email_list.csv", "sms": "sms_list.csv"}
LINE_AUDIENCE_MAX = 1_500_000  # user ids per uploaded file (Messaging API, create audience by file)
HEADER_FILL = "D9E1F2"
SHEET_MAX_ROWS = 1_048_576  # rows an Excel sheet holds, the header included (Excel's specifications and limits)
SHEET_TITLE_MAX = 31  # characters in a sheet name
CELL_MAX_UNITS = 32_767  # UTF-16 code units an Excel cell holds (Excel's specifications and limits)
_REFUSED = {-1: "outside the sheet (Excel holds 1,048,576 rows and 16,384 columns)",
            -2: "text longer than Excel's 32,767 characters per cell (XlsxWriter would cut it)"}
_SHEET_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")
# characters wide in a spreadsheet (CJK, Hangul, full-width); characters, not escapes, so that Arrow's RE2 reads it
_WIDE = "[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"


class ExportError(ReportError, ValueError):
    """A campaign file that cannot hold what it must; the message names the file, sheet, row and column."""


def campaign_rows(targets: pd.DataFrame, words: Mapping[str, Any]) -> pd.DataFrame:
    """The customers to contact (not control, channel other than 'none') with `EXPORT_COLUMNS`, groups in the
    order of the locale's `winback_groups_short`, then by group rank. Group, channel and offer become labels;
    priority is rounded to whole NT$; contact_date is a date. Raises ValueError for a code without a label."""
    return _labelled(_to_contact_in_order(targets, words), words)


def _to_contact_in_order(targets: pd.DataFrame, words: Mapping[str, Any]) -> pd.DataFrame:
    """`campaign_rows` before labelling: the customers to contact, in its order, with the codes."""
    missing = [c for c in ("customer_id", "group", "group_rank", "priority", "contact_date", "channel",
                           "offer", "control") if c not in targets]
    if missing:
        raise ValueError(f"targets: missing column(s) {missing}")
    order = {group: i for i, group in enumerate(words["winback_groups_short"])}
    chosen = targets.loc[to_contact(targets)]
    return (chosen.reindex(columns=list(EXPORT_COLUMNS))
            .assign(_order=chosen["group"].map(order))
            .sort_values(["_order", "group_rank", "customer_id"], kind="stable")
            .drop(columns="_order"))


def _labelled(rows: pd.DataFrame, words: Mapping[str, Any]) -> pd.DataFrame:
    labels = {**words["campaign"], "groups": words["winback_groups_short"], "channels": words["channels"]}
    labelled = {column: rows[column].map(labels[key]) for column, key in
                (("group", "groups"), ("channel", "channels"), ("offer", "offers"))}
    for column, values in labelled.items():
        unknown = sorted(rows.loc[values.isna() & rows[column].notna(), column].astype("str").unique())
        if unknown:
            where = "winback_groups_short" if column == "group" else f"campaign.{column}s"
            raise ValueError(f"no label for {column} {unknown} in the locale's {where}")
    return rows.assign(**labelled, priority=rows["priority"].round(0).astype("int64"),
                       contact_date=pd.to_datetime(rows["contact_date"]).dt.normalize()).reset_index(drop=True)


def write_campaign_csv(targets: pd.DataFrame, path: Path, words: Mapping[str, Any]) -> Path:
    """`campaign_rows` as CSV, UTF-8 with BOM; headers are the column codes (stable for import templates in any
    locale), values are labels, dates YYYY-MM-DD; text a spreadsheet would run as a formula is neutralised
    (`neutralise_formulas`)."""
    return _write_csv(neutralise_formulas(campaign_rows(targets, words)), path)


def _write_csv(rows: pd.DataFrame, path: Path) -> Path:
    rows.to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d", lineterminator="\r\n")
    return path


_FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^-?[0-9]+(?:\.[0-9]+)?$|^\+[1-9][0-9]{6,14}$"  # a number, or a phone number in E.164


def neutralise_formulas(rows: pd.DataFrame) -> pd.DataFrame:
    """Text cells that begin with `=`, `+`, `-`, `@`, a tab or a carriage return get a leading `'`, as OWASP
    recommends against CSV injection (owasp.org/www-community/attacks/CSV_Injection): customer names come
    from shoppers' sign-up forms, and Excel or Google Sheets would run `=HYPERLINK(…)` as a formula. Numbers
    stay numbers: numeric columns are not touched, nor text that is a plain number such as `-100` or a phone
    number in E.164 such as `+886912345678` (SMS tools need the `+`; a spreadsheet reads it as the number it
    is, nothing runs)."""
    fixed = {}
    for column in _text_columns(rows):
        cells = rows[column].astype("string")
        risky = cells.str.contains(_FORMULA_START, regex=True, na=False) & ~cells.str.match(_PLAIN_NUMBER, na=False)
        if risky.any():
            fixed[column] = rows[column].mask(risky, "'" + cells[risky])
    return rows.assign(**fixed)


def _text_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows if not pd.api.types.is_numeric_dtype(rows[c])
            and not pd.api.types.is_datetime64_any_dtype(rows[c])]


def excel_text(text: str) -> str:
    """`text` as one Excel cell can hold it: unchanged up to `CELL_MAX_UNITS` (32,767 UTF-16 code units; a
    character outside the Basic Multilingual Plane, such as most emoji, counts two), else cut to that length
    with a closing "…", as the report cuts the names it shows (`formatting.short_name`, which counts
    characters, not UTF-16 units). XlsxWriter would cut it too, but without a mark and saying so only in a
    return code."""
    if len(text) <= CELL_MAX_UNITS // 2 or len(text.encode("utf-16-le")) // 2 <= CELL_MAX_UNITS:
        return text
    kept = text.encode("utf-16-le")[:2 * (CELL_MAX_UNITS - 1)].decode("utf-16-le", errors="ignore")
    return kept + "…"  # a pair cut in half is dropped whole by errors="ignore"


def _fit_cells(rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` with every text too long for a cell cut by `excel_text` (only the few long ones are looked at)."""
    fixed = {}
    for column in _text_columns(rows):
        cells = rows[column].astype("string")
        long = cells.str.len().gt(CELL_MAX_UNITS // 2).fillna(False)
        if long.any():
            fixed[column] = rows[column].mask(long, cells[long].map(excel_text))
    return rows.assign(**fixed)


def write_winback_xlsx(targets: pd.DataFrame, path: Path, words: Mapping[str, Any]) -> Path:
    """`campaign_rows` as an Excel workbook: one sheet per target group that has customers to contact, named
    by the group's label (made valid: at most 31 characters, none of \\ / ? * [ ] :, unique), in the order of
    the locale's groups. A group longer than a sheet (`SHEET_MAX_ROWS`, header included: 1,048,575
    customers) goes on over further sheets right after it, named by the locale's `campaign.sheet_continued`
    ('開始流失（2）', 'Slipping (2)'), each with the header, so the workbook lists everyone the CSV lists.
    Headers are the locale's column names, bold on a fill, with the first row frozen and a filter; dates are
    real dates (yyyy-mm-dd), priority a whole number; column widths follow the content (CJK characters count
    double); text is always text (a name like '=1+1' is never run as a formula), and a text longer than a
    cell holds (32,767 characters) is cut with "…" (`excel_text`; winback.csv keeps it whole). With nobody
    to contact: one sheet with the header only.

    XlsxWriter writes the workbook: its parts, styles, each sheet's header, widths, column formats, frozen
    row and filter, every call's return code checked (`ExportError` naming the sheet, row and column). The
    customers' rows are then added to each sheet by `_add_rows`, as XlsxWriter's constant-memory mode would
    write them cell by cell (inline strings, the column's format on each cell; tested to be the same
    bytes), but a column at a time: 4.5× faster on 100,000 rows (`bench/xlsx.py`; README, Performance)."""
    return _write_xlsx(campaign_rows(targets, words), path, words)


def _write_xlsx(rows: pd.DataFrame, path: Path, words: Mapping[str, Any]) -> Path:
    import xlsxwriter  # only a report run writes a workbook

    rows = _fit_cells(rows)
    headers = [words["campaign"]["columns"][c] for c in EXPORT_COLUMNS]
    path = Path(path)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False,
                                           "default_date_format": "yyyy-mm-dd"})
    styles = {"header": book.add_format({"bold": True, "bg_color": f"#{HEADER_FILL[-6:]}", "align": "center",
                                         "valign": "vcenter"}),
              "priority": book.add_format({"num_format": "#,##0"}), "group_rank": book.add_format({"num_format": "0"}),
              "contact_date": book.add_format({"num_format": "yyyy-mm-dd"})}
    used: set[str] = set()
    groups = [(label, part) for label, part in rows.groupby("group", sort=False)] or [
        (words["campaign"]["sheet_empty"], rows)]
    per_sheet = SHEET_MAX_ROWS - 1
    sheets: list[pd.DataFrame] = []  # each sheet's customers, in the order the sheets are added
    try:
        for label, part in groups:
            for number, start in enumerate(range(0, max(len(part), 1), per_sheet), start=1):
                title = sheet_title(str(label), used, number, words["campaign"]["sheet_continued"])
                sheets.append(part.iloc[start:start + per_sheet])
                _format_sheet(book.add_worksheet(title), headers, sheets[-1], styles, f"{path}, sheet {title}")
    finally:
        book.close()
    _add_rows(path, sheets)
    return path


def write_line_audience(targets: pd.DataFrame, path: Path) -> Path:
    """LINE audience upload file: the LINE user ids of the customers to contact by LINE, one per line, no
    header, UTF-8 without BOM (the Messaging API's "create audience for uploading user IDs (by file)" takes a
    text/plain file with one user ID per line, at most 1,500,000; more are added to the same audience with
    further files). Duplicates are written once. Beyond `LINE_AUDIENCE_MAX` ids the list goes on in
    `line_audience_2.txt`, `line_audience_3.txt`… beside `path`, in priority order; returns `path`."""
    ids = campaign_audience(targets, "line")
    path = Path(path)
    for number, start in enumerate(range(0, max(len(ids), 1), LINE_AUDIENCE_MAX), start=1):
        part = path if number == 1 else path.with_name(f"{path.stem}_{number}{path.suffix}")
        part.write_text("".join(f"{user}\n" for user in ids[start:start + LINE_AUDIENCE_MAX]), encoding="utf-8",
                        newline="\n")
    return path


def campaign_audience(targets: pd.DataFrame, channel: str) -> list[str]:
    """The contacts of the customers to contact on `channel` (not control), in priority order, each once."""
    chosen = targets.loc[to_contact(targets) & targets["channel"].eq(channel)]
    ordered = chosen.sort_values(["priority", "customer_id"], ascending=[False, True], kind="stable")
    return ordered["contact"].dropna().astype("str").drop_duplicates().tolist()


HANDED_OVER = Path("build") / PRIVATE_DIR / "export_targets.parquet"
"""Inside a report folder: the month's target list with its contacts, as notebook 01 hands it to the pipeline
(`hand_over`), which writes the exports from it (`write_handed_over`) while WeasyPrint lays out the PDF in a
process of its own. In build/private/, so it is deleted with the other personal data before publishing."""


def hand_over(targets: pd.DataFrame, folder: Path) -> dict[str, str]:
    """Save `targets` (with contacts) for `write_handed_over`; returns the export files' names by key
    (`EXPORT_FILES`), which the report lists. Writing the files here instead takes notebook 01 7 s on a
    1M-line client while the other notebook's core idles; the pipeline writes them while the PDF renders."""
    path = Path(folder) / HANDED_OVER
    path.parent.mkdir(parents=True, exist_ok=True)
    targets.to_parquet(path)
    return dict(EXPORT_FILES)


def write_handed_over(folder: Path, words: Mapping[str, Any]) -> dict[str, Path]:
    """`write_exports` of the targets `hand_over` saved in `folder`; nothing when none were handed over (a
    client's own notebook that writes its exports itself)."""
    path = Path(folder) / HANDED_OVER
    return write_exports(pd.read_parquet(path), folder, words) if path.is_file() else {}


def write_exports(targets: pd.DataFrame, folder: Path, words: Mapping[str, Any]) -> dict[str, Path]:
    """Every campaign export into `folder/exports/` (created): winback.csv and winback.xlsx (everyone to
    contact), line_audience.txt, email_list.csv and sms_list.csv (only the customers assigned to that channel).
    Every file is written even when it has nobody, so the folder always looks the same. Returns the paths by
    key of `EXPORT_FILES`. The customers are chosen, ordered and labelled once (`campaign_rows`); each
    channel's list is its rows of that list (the same bytes as `write_campaign_csv` of its targets alone)."""
    out = Path(folder) / "exports"
    out.mkdir(parents=True, exist_ok=True)
    paths = {key: out / name for key, name in EXPORT_FILES.items()}
    chosen = _to_contact_in_order(targets, words)
    rows = _labelled(chosen, words)
    safe = neutralise_formulas(rows)
    _write_csv(safe, paths["csv"])
    _write_xlsx(rows, paths["xlsx"], words)
    write_line_audience(targets, paths["line"])
    for channel in ("email", "sms"):
        _write_csv(safe.loc[chosen["channel"].eq(channel).fillna(False).to_numpy(dtype=bool)], paths[channel])
    return paths


def sheet_title(label: str, used: set[str], number: int = 1, continued: str = "{sheet} ({number})") -> str:
    """A valid, unique Excel sheet name from `label`: forbidden characters become '_', leading and trailing
    apostrophes go, at most 31 characters, never blank or 'History' (reserved by Excel); duplicates (compared
    case-insensitively, as Excel does) get ' (2)', ' (3)'…. Sheet `number` 2, 3… of one label (a list longer
    than a sheet) is named by the pattern `continued` (the locale's `campaign.sheet_continued`), the label
    shortened so that the number always fits. Adds the result to `used`."""
    base = _valid_title(label)
    if number > 1:
        room = SHEET_TITLE_MAX - len(continued.format(sheet="", number=number))
        base = _valid_title(continued.format(sheet=base[:room].rstrip(), number=number))
    if base.lower() == "history":
        base = f"{base}_"
    title, duplicate = base, 2
    while title.lower() in used:
        suffix = f" ({duplicate})"
        title, duplicate = base[:SHEET_TITLE_MAX - len(suffix)] + suffix, duplicate + 1
    used.add(title.lower())
    return title


def _valid_title(label: str) -> str:
    return _SHEET_FORBIDDEN.sub("_", label).strip().strip("'")[:SHEET_TITLE_MAX].strip() or "Sheet"


def _format_sheet(sheet, headers: list[str], rows: pd.DataFrame, styles: dict, where: str) -> None:
    """Widths and column formats, frozen header row, the header and the filter over `rows` (added later by
    `_add_rows`). Every call's return code is checked (`_refused`): XlsxWriter refuses without raising."""
    for position, column in enumerate(EXPORT_COLUMNS):
        shown = rows[column].astype("string") if column != "contact_date" else pd.Series("yyyy-mm-dd", dtype="string")
        width = _display_width(pd.concat([pd.Series([headers[position]], dtype="string"), shown]))
        if code := sheet.set_column(position, position, min(max(width + 2, 8), 60), styles.get(column)):
            raise _refused(code, where, 0, headers[position])
    sheet.freeze_panes(1, 0)
    for position, header in enumerate(headers):
        if code := sheet.write_string(0, position, header, styles["header"]):
            raise _refused(code, where, 0, header)
    if code := sheet.autofilter(0, 0, len(rows), len(EXPORT_COLUMNS) - 1):
        raise _refused(code, where, len(rows), headers[-1])


def _display_width(texts: pd.Series) -> int:
    """The widest of `texts` in narrow characters, a wide (CJK, full-width) character counting two. Only texts
    long enough to be the widest are searched for wide ones (a text is at most twice its length wide)."""
    texts = pd.Series(texts.dropna().unique(), dtype="string")
    if texts.empty:
        return 0
    lengths = texts.str.len()
    long_enough = 2 * lengths >= lengths.max()
    return int((lengths[long_enough] + texts[long_enough].str.count(_WIDE)).max())


_SHEET_PART = re.compile(r"xl/worksheets/sheet(\d+)\.xml")
_DIMENSION = re.compile(r'<dimension ref="[^"]*"/>')
_COLUMN = re.compile(r"<col ([^>]*)/>")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_LOOKALIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")  # text that reads like Excel's escape is escaped itself
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_EDGE_SPACE = re.compile(r"^\s|\s$")
_SPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # Python's \\s
# what `_inline_text` changes, written so that Arrow's RE2 can search it (characters, not escapes; no \\s)
_ESCAPED = f"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{{4}}_|^[{_SPACE}]|[{_SPACE}]\\Z"
ROWS_PER_CHUNK = 20_000
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # column names up to Z: the workbook has 11 columns


def _add_rows(path: Path, sheets: list[pd.DataFrame]) -> None:
    """Add each sheet's customers (`sheets`, in the order the sheets were added) to the workbook at `path`,
    which XlsxWriter wrote with each sheet's header only: the rows go before `</sheetData>`, the sheet's
    dimension becomes A1 to its last cell, every other part is copied as it is. Written to a temporary file
    beside it, then moved over it."""
    staged = path.with_name(f".{path.name}.part")
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                part = _SHEET_PART.fullmatch(info.filename)
                rows = sheets[int(part.group(1)) - 1] if part else None
                if rows is None or rows.empty:
                    target.writestr(info, source.read(info))
                    continue
                head, tail = source.read(info).decode("utf-8").split("</sheetData>")
                last = f"{_LETTERS[len(EXPORT_COLUMNS) - 1]}{len(rows) + 1}"
                head = _DIMENSION.sub(f'<dimension ref="A1:{last}"/>', head, count=1)
                entry = zipfile.ZipInfo(info.filename, info.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                styles = _column_styles(head)
                with target.open(entry, "w", force_zip64=_may_pass_zip32(rows)) as out:
                    out.write(head.encode("utf-8"))
                    for start in range(0, len(rows), ROWS_PER_CHUNK):
                        chunk = rows.iloc[start:start + ROWS_PER_CHUNK]
                        out.write(_rows_xml(chunk, first=start + 2, styles=styles).encode("utf-8"))
                    out.write(f"</sheetData>{tail}".encode())
        staged.replace(path)
    finally:
        staged.unlink(missing_ok=True)


def _may_pass_zip32(rows: pd.DataFrame) -> bool:
    """Whether a sheet of `rows` could exceed 2 GiB of XML (each character at most 4 bytes of UTF-8 after
    escaping, 200 bytes of markup a cell): only then is the entry written as ZIP64."""
    characters = sum(int(rows[c].astype("string").str.len().sum()) for c in _text_columns(rows))
    return 4 * 6 * characters + 200 * rows.size > zipfile.ZIP64_LIMIT


def _column_styles(sheet_head: str) -> dict[int, str]:
    """The format index of each column (0-based) that has one, from the sheet's `<cols>` as XlsxWriter wrote
    them (`<col min="6" max="6" … style="2" …/>`, min and max 1-based)."""
    styles = {}
    for column in _COLUMN.finditer(sheet_head):
        attributes = dict(_ATTRIBUTE.findall(column.group(1)))
        if "style" in attributes:
            for position in range(int(attributes["min"]) - 1, int(attributes["max"])):
                styles[position] = attributes["style"]
    return styles


def _rows_xml(rows: pd.DataFrame, first: int, styles: Mapping[int, str]) -> str:
    """`<row>` elements for `rows`, the first numbered `first`, as XlsxWriter's constant-memory mode writes
    them: a cell per value present (none for a missing one), `r` its reference, `s` its column's format;
    numbers as `{:.16G}`, dates as the days since 1899-12-30, text as an inline string (`_inline_text`)."""
    numbers = pd.Series(np.arange(first, first + len(rows)), dtype="string")
    cells = []
    for position, column in enumerate(EXPORT_COLUMNS):
        values = rows[column].reset_index(drop=True)
        style = f' s="{styles[position]}"' if position in styles else ""
        if column == "contact_date":
            values = (values - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
        if pd.api.types.is_numeric_dtype(values):
            content, kind = _each_distinct(values, lambda v: f"<v>{v:.16G}</v>"), ""
        else:
            content, kind = _inline_texts(values.astype("string")), ' t="inlineStr"'
        ref = f'<c r="{_LETTERS[position]}' + numbers + f'"{style}{kind}>'
        cells.append((ref + content + "</c>").fillna(""))
    return "".join(('<row r="' + numbers + '">' + cells[0].str.cat(cells[1:]) + "</row>").tolist())


def _each_distinct(values: pd.Series, make: Any) -> pd.Series:
    """`make(value)` for every value of `values`, computed once per distinct value; missing stays missing."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    made = pd.array([make(v) for v in distinct] + [pd.NA], dtype="string")
    return pd.Series(made.take(codes), dtype="string")  # code -1 takes the final NA


def _inline_texts(values: pd.Series) -> pd.Series:
    """`_inline_text` of every value of `values` (missing stays missing); only values it would change are
    passed through it, the rest are wrapped as they are."""
    made = "<is><t>" + values + "</t></is>"
    special = values.str.contains(_ESCAPED, regex=True).fillna(False).astype(bool)
    if special.any():
        made[special] = _each_distinct(values[special], _inline_text).to_numpy()
    return made


def _inline_text(text: str) -> str:
    """An inline string as XlsxWriter writes it (`XMLwriter._xml_inline_string` after
    `_escape_control_characters`): control characters as _xHHHH_ (and a literal _xHHHH_ escaped as
    _x005F_xHHHH_), xml:space="preserve" when it begins or ends with white space, & < > escaped. Unlike
    XlsxWriter, a text that looks like rich-text markup (`<r>…</r>`) is escaped too, not written raw."""
    text = _CONTROL.sub(lambda match: f"_x{ord(match.group(1)):04X}_", _LOOKALIKE.sub(r"_x005F\1", text))
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    return f'<is><t{space}>{text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}</t></is>'


def _refused(code: int, where: str, row: int, header: str) -> ExportError:
    """The error for an XlsxWriter write that returned `code` at 0-based `row` (shown 1-based, as Excel)."""
    reason = _REFUSED.get(code, f"refused by XlsxWriter (code {code})")
    return ExportError(f"{where}, row {row + 1}, column {header}: {reason}")
