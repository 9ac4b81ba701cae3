"""Campaign exports: open what was written (openpyxl, raw bytes) and check what a campaign tool would read."""
import datetime as dt
import re
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook
from xlsxwriter.worksheet import Worksheet

from crm_report import exports, i18n
from crm_report.errors import ReportError
from crm_report.exports import (
    EXPORT_COLUMNS,
    HANDED_OVER,
    campaign_rows,
    hand_over,
    sheet_title,
    write_exports,
    write_handed_over,
    write_winback_xlsx,
)
from crm_report.workspace import PRIVATE_DIR
from tests.xlsx_reference import cell_by_cell

BOM = b"\xef\xbb\xbf"
LONG_LABEL = "半睡/需要關懷的高價值顧客：過去一年消費很高但已超過兩倍購買週期"  # "/" is not allowed in a sheet name
WORDS = {
    "winback_groups_short": {"slipping": "開始流失", "at_risk": LONG_LABEL, "asleep": "沉睡"},
    "channels": {"line": "LINE", "email": "電子郵件", "sms": "簡訊", "own": "自有工具", "none": "無可用管道"},
    "campaign": {
        "columns": {"customer_id": "顧客編號", "customer_name": "姓名", "contact": "聯絡方式", "channel": "管道",
                    "group": "族群", "group_rank": "族群內排名", "priority": "優先分數", "contact_date": "建議聯絡日",
                    "product": "推薦商品", "offer": "優惠", "offer_detail": "優惠內容"},
        "offers": {"none": "不給優惠", "reminder": "提醒訊息", "discount": "折扣"},
        "sheet_empty": "喚醒名單",
        "sheet_continued": "{sheet}（{number}）",
    },
}
LINE = {n: "U" + format(n, "x") * 32 for n in range(1, 6)}


def targets() -> pd.DataFrame:
    """s1–s4 slipping, r1–r2 at risk. s2 and r2 are held out as control, s4 has no channel: neither exported."""
    return pd.DataFrame({
        "customer_id": ["s3", "s1", "s2", "s4", "r1", "r2", "s5"],
        "customer_name": ["=1+1", "陳美玲", "林大同", "張三", "李四", None, "周五"],
        "group": ["slipping", "slipping", "slipping", "slipping", "at_risk", "at_risk", "slipping"],
        "group_rank": [3, 1, 2, 5, 1, 2, 4],
        "priority": [700.4, 1500.6, 900.0, 10.0, 3000.0, 2000.0, 500.0],
        "contact_date": pd.to_datetime(["2026-04-06", "2026-04-01", "2026-04-02", "2026-04-01", "2026-04-03",
                                        "2026-04-03", "2026-04-09"]),
        "channel": ["email", "line", "line", "none", "sms", "line", "line"],
        "contact": ["a@example.com", LINE[1], LINE[2], None, "+886912345678", LINE[3], LINE[1]],
        "product": ["魚油", "維他命", None, "魚油", "葉黃素", "魚油", "益生菌"],
        "offer": ["reminder", "none", "discount", "reminder", "discount", "reminder", "reminder"],
        "offer_detail": [None, None, "9折", None, "9折", None, None],
        "control": [False, False, True, False, False, True, False],
    })


def test_campaign_rows_hold_only_customers_to_contact_in_group_order():
    rows = campaign_rows(targets(), WORDS)
    assert list(rows.columns) == list(EXPORT_COLUMNS)
    assert rows["customer_id"].tolist() == ["s1", "s3", "s5", "r1"]  # slipping first (locale order), by rank
    assert rows["priority"].tolist() == [1501, 700, 500, 3000]
    assert rows.loc[3, ["group", "channel", "offer", "offer_detail"]].tolist() == [LONG_LABEL, "簡訊", "折扣", "9折"]


def test_xlsx_has_one_formatted_sheet_per_group(tmp_path):
    path = write_winback_xlsx(targets(), tmp_path / "winback.xlsx", WORDS)
    book = load_workbook(path)
    long_title = LONG_LABEL.replace("/", "_")[:31]  # the full-width ： is allowed
    assert book.sheetnames == ["開始流失", long_title]
    assert len(long_title) <= 31
    sheet = book["開始流失"]
    header = [cell.value for cell in sheet[1]]
    assert header == ["顧客編號", "姓名", "聯絡方式", "管道", "族群", "族群內排名", "優先分數", "建議聯絡日",
                      "推薦商品", "優惠", "優惠內容"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet["A1"].fill.fill_type == "solid" and sheet["A1"].fill.start_color.rgb.endswith("D9E1F2")
    assert sheet.freeze_panes == "A2"
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["s1", "s3", "s5"]
    first = [cell.value for cell in sheet[2]]
    assert first[:4] == ["s1", "陳美玲", LINE[1], "LINE"] and first[6] == 1501
    assert first[7] == dt.datetime(2026, 4, 1) and sheet["H2"].number_format == "yyyy-mm-dd"  # a real date
    assert first[10] is None
    assert sheet.column_dimensions["C"].width >= len(LINE[1])  # the LINE id fits
    assert book[long_title].max_row == 2 and book[long_title]["A2"].value == "r1"
    assert sheet["B3"].value == "=1+1" and sheet["B3"].data_type == "s"  # text, never a formula


def test_xlsx_without_anyone_to_contact_has_a_header_only_sheet(tmp_path):
    everyone_held_out = targets().assign(control=True)
    book = load_workbook(write_winback_xlsx(everyone_held_out, tmp_path / "w.xlsx", WORDS))
    assert book.sheetnames == ["喚醒名單"] and book.active.max_row == 1


@pytest.fixture
def sheet_rows(monkeypatch):
    """Lower the rows a sheet holds (header included) to `n`, both ours and XlsxWriter's (which stands for
    Excel's 1,048,576 and refuses a write beyond it), so a split is tested with a handful of rows."""
    def lower(n: int) -> None:
        monkeypatch.setattr(exports, "SHEET_MAX_ROWS", n, raising=False)
        made = Worksheet.__init__

        def small(self, *args, **kwargs):
            made(self, *args, **kwargs)
            self.xls_rowmax = n
        monkeypatch.setattr(Worksheet, "__init__", small)
    return lower


def many_targets(n: int, group: str = "slipping") -> pd.DataFrame:
    """`n` customers c01… of one group to contact, by LINE, ranked in id order."""
    ids = [f"c{i:02d}" for i in range(1, n + 1)]
    return pd.DataFrame({
        "customer_id": ids, "customer_name": "王小明", "group": group, "group_rank": range(1, n + 1),
        "priority": 100.0, "contact_date": pd.Timestamp("2026-04-01"), "channel": "line", "contact": LINE[1],
        "product": "魚油", "offer": "reminder", "offer_detail": None, "control": False})


def test_our_sheet_limit_is_excels():
    assert exports.SHEET_MAX_ROWS == Worksheet().xls_rowmax == 1_048_576  # rows per sheet, header included


def test_a_list_longer_than_a_sheet_continues_on_more_sheets_and_loses_nobody(tmp_path, sheet_rows):
    """12 to contact, 5 rows a sheet (a header and 4 customers): three sheets named from the locale's
    `sheet_continued`, each with the header and filter, and every customer once, in order, as in the CSV."""
    sheet_rows(5)
    paths = write_exports(many_targets(12), tmp_path, WORDS)
    book = load_workbook(paths["xlsx"])
    assert book.sheetnames == ["開始流失", "開始流失（2）", "開始流失（3）"]
    header = list(WORDS["campaign"]["columns"].values())
    for sheet in book:
        assert [cell.value for cell in sheet[1]] == header and sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:K{sheet.max_row}"
    listed = [row[0] for sheet in book for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert listed == [f"c{i:02d}" for i in range(1, 13)]
    assert listed == pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str)["customer_id"].tolist()


def test_a_line_audience_longer_than_one_upload_continues_in_more_files(tmp_path, monkeypatch):
    """LINE takes at most 1,500,000 user ids per uploaded file (more are added to the same audience with
    further files). With the limit lowered to 2: five LINE ids in priority order go into line_audience.txt,
    line_audience_2.txt and line_audience_3.txt, each id once, nobody lost (before: an error)."""
    monkeypatch.setattr(exports, "LINE_AUDIENCE_MAX", 2)
    frame = many_targets(5).assign(contact=[f"U{i:032d}" for i in range(5)], priority=[1.0, 5.0, 4.0, 3.0, 2.0])
    first = exports.write_line_audience(frame, tmp_path / "line_audience.txt")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert first == tmp_path / "line_audience.txt"
    assert names == ["line_audience.txt", "line_audience_2.txt", "line_audience_3.txt"]
    parts = [(tmp_path / name).read_text(encoding="utf-8").split("\n")[:-1] for name in names]
    assert parts == [[f"U{1:032d}", f"U{2:032d}"], [f"U{3:032d}", f"U{4:032d}"], [f"U{0:032d}"]]


def test_each_group_is_split_on_its_own_and_its_sheets_stay_together(tmp_path, sheet_rows):
    sheet_rows(3)
    frame = pd.concat([many_targets(5), many_targets(2, "at_risk").assign(customer_id=["r1", "r2"])])
    book = load_workbook(write_winback_xlsx(frame, tmp_path / "w.xlsx", WORDS))
    long_title = LONG_LABEL.replace("/", "_")[:31]
    assert book.sheetnames == ["開始流失", "開始流失（2）", "開始流失（3）", long_title]
    assert [book[name].max_row - 1 for name in book.sheetnames] == [2, 2, 1, 2]


def test_a_continued_sheet_name_keeps_its_number_within_31_characters(tmp_path, sheet_rows):
    sheet_rows(2)
    frame = many_targets(2, "at_risk")
    names = load_workbook(write_winback_xlsx(frame, tmp_path / "w.xlsx", WORDS)).sheetnames
    assert names == [LONG_LABEL.replace("/", "_")[:31], LONG_LABEL.replace("/", "_")[:28] + "（2）"]


@pytest.mark.parametrize("locale, names", [("zh-TW", ["開始流失", "開始流失（2）"]), ("en", ["Slipping", "Slipping (2)"])])
def test_continued_sheets_are_named_in_the_client_locale(tmp_path, sheet_rows, locale, names):
    sheet_rows(3)
    book = load_workbook(write_winback_xlsx(many_targets(3), tmp_path / "w.xlsx", i18n.strings(locale)))
    assert book.sheetnames == names


@pytest.mark.parametrize("text, shown", [
    ("x" * 32_767, "x" * 32_767),  # fits: Excel's 32,767 per cell
    ("x" * 32_768, "x" * 32_766 + "…"),
    ("😀" * 16_384, "😀" * 16_383 + "…"),  # an emoji is two UTF-16 units: 32,768 → 32,767 with the mark
])
def test_text_longer_than_a_cell_is_cut_with_a_mark_and_kept_whole_in_the_csv(tmp_path, text, shown):
    """XlsxWriter cuts text over Excel's 32,767 UTF-16 units per cell without a mark (return code -2 only):
    the workbook cuts it visibly with "…" instead, as the report cuts names; winback.csv keeps it whole."""
    paths = write_exports(many_targets(2).assign(product=["魚油", text]), tmp_path, WORDS)
    sheet = load_workbook(paths["xlsx"])["開始流失"]
    assert [sheet["I2"].value, sheet["I3"].value] == ["魚油", shown]
    assert pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str)["product"].tolist() == ["魚油", text]


def test_a_filter_the_workbook_refuses_beyond_our_limit_is_an_error(tmp_path, monkeypatch):
    """Should XlsxWriter's limit ever be lower than ours, the sheet it cannot hold is an error naming the sheet,
    row and column, not a lost customer (any call XlsxWriter refuses with a return code is)."""
    made = Worksheet.__init__

    def small(self, *args, **kwargs):
        made(self, *args, **kwargs)
        self.xls_rowmax = 3
    monkeypatch.setattr(Worksheet, "__init__", small)
    with pytest.raises(ReportError, match=r"sheet 開始流失, row 6, column 優惠內容: .*outside the sheet"):
        write_winback_xlsx(many_targets(5), tmp_path / "w.xlsx", WORDS)


def hostile_targets() -> pd.DataFrame:
    """Text XlsxWriter escapes (control characters, a literal _xHHHH_, & < >, white space at either end, an
    ideographic space), emoji, a missing name, product and date, a text too long for a cell, three groups."""
    names = ["\x01王\x1f", "_x0041_ 小明", " 陳 ", "\u3000林", "A & <B> \"C\"", "😀 emoji", None, "=1+1",
             "tab\tin", "new\nline", "\ufffe", "x" * 40_000]
    n = len(names)
    return pd.DataFrame({
        "customer_id": [f"c{i:02d}" for i in range(n)], "customer_name": names,
        "group": ["slipping", "at_risk", "asleep"] * (n // 3), "group_rank": range(1, n + 1),
        "priority": [1234.5, 0.0, 99_999_999.0, 7.49] * (n // 4),
        "contact_date": [pd.Timestamp("2026-04-01"), pd.NaT, pd.Timestamp("2030-12-31")] * (n // 3),
        "channel": "line", "contact": [LINE[1 + i % 5] for i in range(n)],
        "product": ["魚油", None, "維他命 & 鈣"] * (n // 3), "offer": "discount", "offer_detail": "9折",
        "control": False})


@pytest.mark.parametrize("per_sheet", [1_048_576, 4])
def test_rows_added_a_column_at_a_time_are_what_xlsxwriter_writes_cell_by_cell(tmp_path, sheet_rows, per_sheet):
    """`_add_rows` writes each sheet's rows as XML built a column at a time: every part of the workbook is
    the same as XlsxWriter's own, cell by cell (the document properties aside: they hold the time)."""
    sheet_rows(per_sheet)
    ours = write_winback_xlsx(hostile_targets(), tmp_path / "ours.xlsx", WORDS)
    with cell_by_cell():
        theirs = write_winback_xlsx(hostile_targets(), tmp_path / "theirs.xlsx", WORDS)
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(theirs) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name != "docProps/core.xml":
                assert a.read(name) == b.read(name), name
    book = load_workbook(ours)
    assert sum(sheet.max_row - 1 for sheet in book) == len(hostile_targets())
    assert book.worksheets[0]["B2"].value == "_x0001_王_x001F_"  # Excel reads its escape back; openpyxl does not


def test_text_that_looks_like_rich_text_is_still_text(tmp_path):
    """XlsxWriter writes a string beginning `<r>` and ending `</r>` raw, as rich-text markup: a customer named
    so would break the sheet. The rows we add escape it like any text."""
    frame = many_targets(2).assign(customer_name=["<r>x</r>", "<r><t>y</t></r>"])
    sheet = load_workbook(write_winback_xlsx(frame, tmp_path / "w.xlsx", WORDS))["開始流失"]
    assert [sheet["B2"].value, sheet["B3"].value] == ["<r>x</r>", "<r><t>y</t></r>"]


@pytest.mark.parametrize("texts, width", [
    (["abc", "王小明", "ab"], 6),  # three wide characters count six
    (["abcdefg", "王小明"], 7),  # a longer narrow text is wider
    (["ｘｙ", "abc"], 4),  # full-width Latin letters are wide
    (["한국", "a" * 3], 4),
    ([None, "a"], 1),
    ([None], 0),
])
def test_display_width_counts_wide_characters_twice(texts, width):
    assert exports._display_width(pd.Series(texts, dtype="string")) == width


def test_only_texts_that_need_escaping_are_escaped():
    """`_inline_texts` passes a value through `_inline_text` only when `_ESCAPED` finds something in it: the
    pattern must find everything `_inline_text` changes (every character Python calls white space at either
    end, control characters, markup characters, escape lookalikes) and nothing else."""
    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace() or re.match(r"\s", chr(c))]
    texts = ([f"{s}x" for s in spaces] + [f"x{s}" for s in spaces] + [f"x{s}y" for s in spaces]
             + [f"a{chr(c)}b" for c in range(0x20)] + ["a&b", "<", ">", "_x0041_", "_x004_", "_X0041_", "王小明",
                                                        "\ufffe", "\uffff", "plain", "a\u3000b", ""])
    found = pd.Series(texts, dtype="string").str.contains(exports._ESCAPED).tolist()
    changed = [exports._inline_text(t) != f"<is><t>{t}</t></is>" for t in texts]
    assert found == changed
    assert sum(changed) > len(spaces) * 2


@pytest.mark.parametrize("label, used, title", [
    ("a/b\\c?d*e[f]g:h", set(), "a_b_c_d_e_f_g_h"),
    ("x" * 40, set(), "x" * 31),
    ("'quoted'", set(), "quoted"),
    ("History", set(), "History_"),
    ("沉睡", {"沉睡"}, "沉睡 (2)"),
    ("x" * 40, {"x" * 31}, "x" * 27 + " (2)"),
    ("", set(), "Sheet"),
])
def test_sheet_titles_are_valid_and_unique(label, used, title):
    assert sheet_title(label, set(used)) == title


def test_write_exports_writes_every_file_with_only_its_channel(tmp_path):
    paths = write_exports(targets(), tmp_path, WORDS)
    assert {key: path.relative_to(tmp_path).as_posix() for key, path in paths.items()} == {
        "csv": "exports/winback.csv", "xlsx": "exports/winback.xlsx", "line": "exports/line_audience.txt",
        "email": "exports/email_list.csv", "sms": "exports/sms_list.csv"}
    # LINE: user ids only, one per line, no header or BOM; s2 (control) left out, s5 shares s1's id → once
    assert paths["line"].read_bytes() == f"{LINE[1]}\n".encode()
    for key in ("csv", "email", "sms"):
        assert paths[key].read_bytes().startswith(BOM)
    everyone = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str)
    assert list(everyone.columns) == list(EXPORT_COLUMNS)
    assert everyone["customer_id"].tolist() == ["s1", "s3", "s5", "r1"]
    assert everyone.loc[0, "contact_date"] == "2026-04-01"
    email = pd.read_csv(paths["email"], encoding="utf-8-sig", dtype=str)
    assert email[["customer_id", "contact", "offer"]].values.tolist() == [["s3", "a@example.com", "提醒訊息"]]
    sms = pd.read_csv(paths["sms"], encoding="utf-8-sig", dtype=str)
    assert sms[["customer_id", "contact"]].values.tolist() == [["r1", "+886912345678"]]  # E.164, no "'" added
    assert load_workbook(paths["xlsx"]).sheetnames[0] == "開始流失"


@pytest.mark.parametrize("channel_of", [
    lambda n: ["email", "sms", "line", "none"][n % 4],
    lambda n: "email",
    lambda n: "line",
    lambda n: ["email", pd.NA, "sms", None][n % 4],  # a client notebook's list with channels missing
])
def test_each_channel_list_is_the_campaign_file_of_that_channels_targets(tmp_path, channel_of):
    """write_exports labels and orders the customers once: each channel's list must still be, byte for byte,
    what `write_campaign_csv` writes from that channel's targets alone (same rows, order, quoting, neutralised
    formulas), also when a channel has nobody."""
    frame = pd.concat([targets(), many_targets(9, group="asleep")], ignore_index=True)
    frame["channel"] = pd.Series([channel_of(n) for n in range(len(frame))], dtype=object)
    frame.loc[3, "customer_name"] = "-2+3"  # a formula in a list's own rows
    paths = write_exports(frame, tmp_path / "all", WORDS)
    for channel in ("email", "sms"):
        alone = exports.write_campaign_csv(frame.loc[frame["channel"].eq(channel)], tmp_path / f"{channel}.csv",
                                           WORDS)
        assert paths[channel].read_bytes() == alone.read_bytes(), channel


def test_targets_handed_over_by_the_notebook_are_written_by_the_pipeline_as_they_were(tmp_path):
    """Notebook 01 hands its targets over (`hand_over`); the pipeline writes the files while the PDF renders
    (`write_handed_over`): the same bytes as writing them from the notebook, and the names the report lists."""
    direct, handed = tmp_path / "direct", tmp_path / "handed"
    written = write_exports(targets(), direct, WORDS)
    assert hand_over(targets(), handed) == {key: path.name for key, path in written.items()}
    assert (handed / HANDED_OVER).parent.name == PRIVATE_DIR  # deleted with the other personal data
    assert not (handed / "exports").exists()  # nothing written yet
    for key, path in write_handed_over(handed, WORDS).items():
        if key == "xlsx":  # a workbook's zip stores the time it was written; compare its parts
            assert _parts(path) == _parts(written[key])
        else:
            assert path.read_bytes() == written[key].read_bytes(), key


def test_nothing_handed_over_writes_nothing(tmp_path):
    """A client's own notebook that writes its exports itself hands nothing over."""
    assert write_handed_over(tmp_path, WORDS) == {}
    assert not (tmp_path / "exports").exists()


def _parts(path):
    with zipfile.ZipFile(path) as workbook:
        return {name: workbook.read(name) for name in workbook.namelist() if name != "docProps/core.xml"}


@pytest.mark.parametrize("only", ["email", "sms"])
def test_an_email_only_or_phone_only_client_gets_its_channels_list(tmp_path, only):
    """Every target reachable on one channel: that channel's list and winback.csv hold the same customers to
    contact (s2 and r2, the control, left out; s4 has no channel), the other lists are empty with a header."""
    frame = targets().assign(channel=lambda t: t["channel"].mask(t["channel"].ne("none"), only),
                             contact=lambda t: t["contact"].mask(t["channel"].ne("none"),
                                                                 "+447911123456" if only == "sms" else "x@example.com"))
    paths = write_exports(frame, tmp_path, WORDS)
    listed = pd.read_csv(paths[only], encoding="utf-8-sig", dtype=str)
    assert listed["customer_id"].tolist() == ["s1", "s3", "s5", "r1"]
    assert set(listed["contact"]) == {"+447911123456" if only == "sms" else "x@example.com"}
    other = "sms" if only == "email" else "email"
    assert pd.read_csv(paths[other], encoding="utf-8-sig").empty and paths["line"].read_bytes() == b""
    everyone = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str)
    assert everyone["customer_id"].tolist() == ["s1", "s3", "s5", "r1"]


def test_a_client_without_any_channel_gets_the_list_for_its_own_tool(tmp_path):
    """Channel 'own' (`campaign.choose_channels` when the data holds no contact): winback.csv and the workbook
    list the customers to contact with their customer id as the contact; the channel lists stay empty."""
    frame = targets().assign(channel="own", contact=lambda t: t["customer_id"])
    paths = write_exports(frame, tmp_path, WORDS)
    everyone = pd.read_csv(paths["csv"], encoding="utf-8-sig", dtype=str)
    assert everyone["customer_id"].tolist() == ["s1", "s3", "s5", "s4", "r1"]  # s4 reachable too now
    assert (everyone["contact"] == everyone["customer_id"]).all() and set(everyone["channel"]) == {"自有工具"}
    book = load_workbook(paths["xlsx"])
    assert [book[name].max_row - 1 for name in book.sheetnames] == [4, 1]  # four slipping, one at risk
    for key in ("email", "sms"):
        assert pd.read_csv(paths[key], encoding="utf-8-sig").empty


def test_a_code_without_a_label_is_an_error():
    with pytest.raises(ValueError, match=r"no label for offer \['gift'\]"):
        campaign_rows(targets().assign(offer="gift"), WORDS)
