"""Hostile input: files, values and configuration written to break the report, each met with a clear
exclusion (file, row, column, reason) or a clear error instead of silence or a late traceback."""
import re
from pathlib import Path

import pandas as pd
import pytest

from crm_report.config import ClientConfig
from crm_report.data.load import load_orders

NOW = pd.Timestamp("2026-12-01")
STRAY = '"oops'
HEADER = "order_id,customer_id,order_date,amount,product_name\n"


def config_for(folder: Path, name: str, **source) -> ClientConfig:
    return ClientConfig(client_id="acme", display_name="Acme", folder=folder, source={"path": name, **source})


def _rows(n: int, product=lambda i: f"p{i}") -> list[str]:
    return [f"{i},c{i},2026-03-05,10,{product(i)}\n" for i in range(2, n + 1)]  # spreadsheet rows 2..n


# --- 1. a stray quote ------------------------------------------------------------------------------------

def _stray_quote_file(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _assert_every_line_accounted(result, rows: int, bad: dict[int, str]) -> None:
    assert result.rows_read == rows - 1
    assert dict(zip(result.excluded["source_row"], result.excluded["reason"], strict=True)) == bad
    assert result.lines["source_row"].tolist() == [r for r in range(2, rows + 1) if r not in bad]
    assert result.lines["order_id"].tolist() == [str(r) for r in range(2, rows + 1) if r not in bad]


def test_a_stray_quote_to_the_end_of_the_file_excludes_its_row_and_reads_the_rest(tmp_path):
    lines = _rows(201)
    lines[50] = '52,c52,2026-03-05,10,"p52\n'  # row 52: the quote never closes
    _stray_quote_file(tmp_path, lines)
    result = load_orders(config_for(tmp_path, "orders.csv"), now=NOW)
    _assert_every_line_accounted(result, 201, {52: "unbalanced quote"})
    assert result.excluded.at[0, "value"] == '52,c52,2026-03-05,10,"p52'


def test_a_stray_quote_closed_by_a_later_quoted_value_swallows_nothing(tmp_path):
    lines = _rows(201)
    lines[50] = '52,c52,2026-03-05,10,"p52\n'
    lines[100] = '102,c102,2026-03-05,10,"bag, large"\n'
    _stray_quote_file(tmp_path, lines)
    result = load_orders(config_for(tmp_path, "orders.csv"), now=NOW)
    _assert_every_line_accounted(result, 201, {52: "unbalanced quote"})
    assert result.lines.set_index("source_row").at[102, "product_name"] == "bag, large"


def test_a_stray_quote_before_a_lot_of_text_is_no_field_limit_crash(tmp_path):
    lines = _rows(201, product=lambda i: "x" * 2000)  # 300,000 characters to the next quote
    lines[50] = '52,c52,2026-03-05,10,"p52\n'
    lines[198] = '200,c200,2026-03-05,10,"end"\n'
    _stray_quote_file(tmp_path, lines)
    result = load_orders(config_for(tmp_path, "orders.csv"), now=NOW)
    _assert_every_line_accounted(result, 201, {52: "unbalanced quote"})


def test_a_stray_quote_in_a_column_that_is_not_read_is_found_too(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_date,amount,note\n" + "".join(
        f"{i},c{i},2026-03-05,10,{STRAY if i == 5 else 'n'}\n" for i in range(2, 31)), encoding="utf-8")
    result = load_orders(config_for(tmp_path, "orders.csv"), now=NOW)
    _assert_every_line_accounted(result, 30, {5: "unbalanced quote"})


def test_two_stray_quotes_do_not_make_one_row_of_two_lines(tmp_path):
    """Found by the loader's property test: the second stray quote closed the first, and since the two lines
    together had the header's number of fields they were read as one row: row 12 vanished into row 11's
    product name. A quote that closes with text after it (`"p11⏎12,…,"p12`) is not a quoted value."""
    lines = _rows(20)
    lines[9] = '11,c11,2026-03-05,10,"p11\n'
    lines[10] = '12,c12,2026-03-05,10,"p12\n'
    _stray_quote_file(tmp_path, lines)
    result = load_orders(config_for(tmp_path, "orders.csv"), now=NOW)
    _assert_every_line_accounted(result, 20, {11: "unbalanced quote", 12: "unbalanced quote"})


def test_a_quoted_value_over_two_lines_is_still_one_row_beside_a_stray_quote(tmp_path):
    lines = _rows(20)
    lines[3] = '5,c5,2026-03-05,10,"gift\nwrap"\n'  # row 5 spans two lines: legitimate
    lines[10] = '12,c12,2026-03-05,10,"p12\n'
    _stray_quote_file(tmp_path, lines)
    result = load_orders(config_for(tmp_path, "orders.csv"), now=NOW)
    _assert_every_line_accounted(result, 20, {12: "unbalanced quote"})
    assert result.lines.set_index("source_row").at[5, "product_name"] == "gift\nwrap"


# --- 2. formulas in campaign exports ---------------------------------------------------------------------

HOSTILE_NAMES = ["=HYPERLINK(\"http://x\",\"y\")", "+886912", "-2+3", "@SUM(A1:A9)", "\tTab", "\rCR", "陳美玲"]


def _hostile_targets() -> pd.DataFrame:
    n = len(HOSTILE_NAMES)
    channels = ["email", "sms"] * n
    return pd.DataFrame({
        "customer_id": [f"=c{i}" for i in range(n)], "customer_name": HOSTILE_NAMES,
        "group": "slipping", "group_rank": range(1, n + 1), "priority": [-500.0] + [100.0] * (n - 1),
        "contact_date": pd.Timestamp("2026-04-01"), "channel": channels[:n],
        "contact": ["-a@example.com" if c == "email" else "0912345678" for c in channels[:n]],
        "product": "@魚油", "offer": "discount", "offer_detail": "-100", "control": False,
    })


def test_no_campaign_export_holds_a_cell_a_spreadsheet_would_run_as_a_formula(tmp_path):
    import csv

    from openpyxl import load_workbook

    from crm_report.exports import write_exports
    from tests.test_exports import WORDS

    paths = write_exports(_hostile_targets(), tmp_path, WORDS)
    for key in ("csv", "email", "sms"):
        with paths[key].open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert rows, key
        for row in rows:
            for column, value in row.items():
                plain_number = re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value) is not None
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")) or plain_number, (key, column, value)
            assert row["customer_name"].lstrip("'") in HOSTILE_NAMES
            assert row["offer_detail"] == "-100"  # a plain number is left as it is
    winback = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert winback["priority"].tolist()[0] == -500  # numbers stay numbers
    assert winback["customer_name"].tolist()[0] == "'" + HOSTILE_NAMES[0]
    book = load_workbook(paths["xlsx"])
    cells = [c for sheet in book for row in sheet.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)  # text is stored as text: never run
    # a carriage return is kept as OOXML's escape _x000D_, which Excel shows as the character; openpyxl reads
    # the escape as it is
    names = [c.value.replace("_x000D_", "\r") for c in cells if c.column == 2]
    assert sorted(names) == sorted(HOSTILE_NAMES)
    assert [c.value for c in cells if c.column == 7][0] == -500


# --- 3. links out of the client's folder -----------------------------------------------------------------

def _two_clients(tmp_path: Path) -> tuple[Path, Path]:
    """clients/a and clients/other, each with data/orders.csv; returns (clients dir, a's folder)."""
    for client in ("a", "other"):
        data = tmp_path / client / "data"
        data.mkdir(parents=True)
        (data / "orders.csv").write_text(HEADER + f"1,{client}-c1,2026-03-05,10,p\n", encoding="utf-8")
    return tmp_path, tmp_path / "a"


def _write_yaml(folder: Path, body: str) -> None:
    (folder / "client.yaml").write_text("display_name: A\n" + body, encoding="utf-8")


@pytest.mark.parametrize("source_path", ["data", "data/*.csv", "data/zz.csv"])
def test_a_link_to_another_clients_file_is_refused_naming_it(tmp_path, source_path):
    from crm_report.config import ConfigError, load_config
    from crm_report.data.sources import DataError

    clients, a = _two_clients(tmp_path)
    (a / "data" / "zz.csv").symlink_to(Path("../../other/data/orders.csv"))
    _write_yaml(a, f"source:\n  path: '{source_path}'\n")
    with pytest.raises((DataError, ConfigError), match=r"zz\.csv.*outside the client's folder"):
        load_orders(load_config("a", clients), now=NOW)


def test_a_linked_folder_out_of_the_client_is_refused(tmp_path):
    from crm_report.config import ConfigError, load_config

    clients, a = _two_clients(tmp_path)
    (a / "exports").symlink_to(tmp_path / "other" / "data", target_is_directory=True)
    _write_yaml(a, "source:\n  path: exports\n")
    with pytest.raises(ConfigError, match=r"client.yaml: source.path: 'exports'.*outside"):
        load_config("a", clients)


def test_a_link_inside_the_client_folder_is_fine(tmp_path):
    from crm_report.config import load_config

    clients, a = _two_clients(tmp_path)
    (a / "data" / "zz.csv").symlink_to(Path("orders.csv"))
    _write_yaml(a, "source:\n  path: data\n")
    result = load_orders(load_config("a", clients), now=NOW)
    assert result.rows_read == 2 and result.rows_overlap == 1  # zz.csv copies orders.csv: an overlap
    assert result.lines["customer_id"].tolist() == ["a-c1"]


@pytest.mark.parametrize("body, key", [
    ("brand:\n  logo: logo.svg\n", "brand.logo"),
    ("member_tiers:\n  - name: 黑卡\n    invitation_list: vip.csv\n", "member_tiers.0.invitation_list"),
])
def test_a_logo_or_invitation_list_linked_out_of_the_folder_is_a_config_error(tmp_path, body, key):
    from crm_report.config import ConfigError, load_config

    clients, a = _two_clients(tmp_path)
    target = tmp_path / "other" / "secret.txt"
    target.write_text("<svg/>", encoding="utf-8")
    for name in ("logo.svg", "vip.csv"):
        (a / name).symlink_to(target)
    _write_yaml(a, "source:\n  path: data\n" + body)
    with pytest.raises(ConfigError, match=rf"a/client.yaml: {re.escape(key)}: .*outside the client's folder"):
        load_config("a", clients)


# --- 4. odd values that used to pass the loader and kill the report later ----------------------------------

def test_control_characters_are_removed_from_text_at_load(tmp_path):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    (tmp_path / "o.csv").write_bytes(
        (HEADER + "1,c1,2026-03-05,10,Fish\x00 oil\x07\n2,c\x1b2,2026-03-06,10,\x0bVitamin\x7f C\n"
         + '3,c3,2026-03-07,10,"gift\nwrap\tset"\n').encode("utf-8"))
    result = load_orders(config_for(tmp_path, "o.csv"), now=NOW)
    assert result.lines["product_name"].tolist() == ["Fish oil", "Vitamin C", "gift\nwrap\tset"]
    assert result.lines["customer_id"].tolist() == ["c1", "c2", "c3"]
    assert not result.lines["product_name"].str.contains(ILLEGAL_CHARACTERS_RE.pattern).any()


@pytest.mark.parametrize("cell, reason", [
    ("1e309", "implausible amount"), ("-1e309", "implausible amount"), ("1e15", "implausible amount"),
    ("NT$99,999,999,999", "implausible amount"), ("inf", "unreadable amount"), ("NaN", "unreadable amount")])
def test_an_infinite_or_absurd_amount_is_excluded_with_its_row_and_column(tmp_path, cell, reason):
    (tmp_path / "o.csv").write_text(f"{HEADER}1,c1,2026-03-05,10,a\n2,c2,2026-03-06,\"{cell}\",b\n", encoding="utf-8")
    result = load_orders(config_for(tmp_path, "o.csv"), now=NOW)
    assert result.lines["order_id"].tolist() == ["1"]
    row = result.excluded.iloc[0]
    assert (row["source_row"], row["reason"], row["column"]) == (3, reason, "amount")
    assert row["value"] == cell


def test_an_infinite_amount_from_parquet_or_from_quantity_times_price_is_excluded(tmp_path):
    pd.DataFrame({"order_id": ["1", "2"], "customer_id": ["c1", "c2"], "order_date": ["2026-03-05"] * 2,
                  "amount": [10.0, float("inf")]}).to_parquet(tmp_path / "o.parquet")
    result = load_orders(config_for(tmp_path, "o.parquet"), now=NOW)
    assert dict(zip(result.excluded["source_row"], result.excluded["reason"], strict=True)) == {2: "implausible amount"}
    (tmp_path / "q.csv").write_text("order_id,customer_id,order_date,quantity,unit_price\n"
                                    "1,c1,2026-03-05,2,10\n2,c2,2026-03-06,1e308,1e308\n", encoding="utf-8")
    result = load_orders(config_for(tmp_path, "q.csv"), now=NOW)
    assert dict(zip(result.excluded["source_row"], result.excluded["reason"], strict=True)) == {3: "implausible amount"}
    assert result.lines["amount"].tolist() == [20.0]


# --- 5. values read wrongly without a word ----------------------------------------------------------------

def test_european_decimal_commas_are_read_when_unambiguous_else_the_cell_is_unreadable():
    from crm_report.data import values

    cells = pd.Series(["1.234,50", "12,50", "1,5", "1.234.567,8", "-1.234,50", "(12,50)", "NT$1.234,50",
                       "1,234", "1,234.50", "１，２３４", "1,23,4", "1,2345", "1.234,5,6", "1.23,4"], dtype="str")
    number, _, bad = values.parse_amounts(cells)
    assert number.iloc[:10].tolist() == [1234.5, 12.5, 1.5, 1234567.8, -1234.5, -12.5, 1234.5, 1234, 1234.5, 1234]
    assert bad.tolist() == [False] * 10 + [True] * 4


def test_a_semicolon_file_with_decimal_commas_is_read_as_written(tmp_path):
    (tmp_path / "o.csv").write_text("order_id;customer_id;order_date;amount\n1;c1;2026-03-05;\"1.234,50\"\n"
                                    "2;c2;2026-03-06;\"12,5\"\n", encoding="utf-8")
    assert load_orders(config_for(tmp_path, "o.csv"), now=NOW).lines["amount"].tolist() == [1234.5, 12.5]


def test_a_paid_line_with_no_or_a_negative_quantity_is_excluded_and_fractions_are_flagged(tmp_path):
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_date,amount,quantity\n1,c1,2026-03-05,100,0\n2,c2,2026-03-05,100,-2\n"
        "3,c3,2026-03-05,100,1.5\n4,c4,2026-03-05,100,2\n4,c4,2026-03-05,-50,-1\n5,c5,2026-03-05,100,1e309\n",
        encoding="utf-8")
    result = load_orders(config_for(tmp_path, "o.csv"), now=NOW)
    excluded = result.excluded.set_index("source_row")
    assert excluded["reason"].to_dict() == {2: "implausible quantity", 3: "implausible quantity",
                                            7: "implausible quantity"}
    assert excluded.loc[3, ["column", "value"]].tolist() == ["quantity", "-2.0"]
    assert result.lines["order_id"].tolist() == ["3", "4", "4"]  # a refund line's negative quantity is fine
    fractions = [f for f in result.findings if f.kind == "quantity_fraction"]
    assert [(f.count, f.file, f.column, f.row, f.example) for f in fractions] == [(1, "o.csv", "quantity", 4, "1.5")]


def test_an_order_with_two_customers_or_two_dates_is_flagged(tmp_path):
    (tmp_path / "o.csv").write_text(
        HEADER + "1,c1,2026-03-05,10,a\n1,c2,2026-03-05,10,b\n2,c3,2026-03-05,10,a\n2,c3,2026-04-09,10,b\n"
        "3,c4,2026-03-05 10:00,10,a\n3,c4,2026-03-05 10:01,10,b\n", encoding="utf-8")
    result = load_orders(config_for(tmp_path, "o.csv"), now=NOW)
    found = {f.kind: (f.count, f.file, f.example) for f in result.findings}
    assert found["order_customers_differ"] == (1, "o.csv", "1")
    assert found["order_dates_differ"] == (1, "o.csv", "2")  # the same day at another minute is one date


def test_two_columns_that_could_both_be_the_amount_are_flagged(tmp_path):
    (tmp_path / "o.csv").write_text("訂單編號,會員編號,訂單日期,商品小計,訂單金額\nA1,M1,2026-03-05,100,300\n"
                                    "A1,M1,2026-03-05,200,300\n", encoding="utf-8")
    result = load_orders(config_for(tmp_path, "o.csv"), now=NOW)
    assert result.lines["amount"].tolist() == [100, 200]
    found = {f.kind: (f.file, f.column, f.example) for f in result.findings}
    assert found["amount_columns"] == ("o.csv", "商品小計", "訂單金額")
    (tmp_path / "d.csv").write_text("order_id,customer_id,order_date,amount,amount\n1,c1,2026-03-05,10,99\n",
                                    encoding="utf-8")
    found = {f.kind: (f.column, f.example) for f in load_orders(config_for(tmp_path, "d.csv"), now=NOW).findings}
    assert found["amount_columns"] == ("amount", "amount.1")
    chosen = load_orders(config_for(tmp_path, "o.csv", columns={"amount": "訂單金額"}), now=NOW)
    assert "amount_columns" not in {f.kind for f in chosen.findings}  # client.yaml chose: nothing to flag


def test_check_data_shows_the_order_level_findings(tmp_path):
    from crm_report.data.check import check_report
    from crm_report.i18n import strings

    (tmp_path / "o.csv").write_text(HEADER + "1,c1,2026-03-05,10,a\n1,c2,2026-03-05,10,b\n", encoding="utf-8")
    config = config_for(tmp_path, "o.csv")
    for locale in ("en", "zh-TW"):
        text, ok = check_report(config, load_orders(config, now=NOW), strings(locale))
        assert ok and ("order 1" in text or "訂單 1" in text), text


# --- 6. client.yaml written to break the loader ------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)) + \
    "display_name: A\nlocale: *i\nsource:\n  path: orders.csv\n"


@pytest.mark.parametrize("text, message", [
    (BOMB, r"line 2.*aliases \(\*name\) are not allowed"),
    ("display_name: A\nsource:\n  path: a.csv\n  path: b.csv\n",
     r"source\.path: the key appears twice \(lines 3 and 4\)"),
    ("display_name: A\ndisplay_name: B\nsource:\n  path: a.csv\n", r"display_name: the key appears twice"),
    ("display_name: ''\nsource:\n  path: a.csv\n", r"display_name: .*empty"),
    ("display_name: '   '\nsource:\n  path: a.csv\n", r"display_name: .*empty"),
    ("display_name: " + "[" * 5000 + "]" * 5000 + "\nsource:\n  path: a.csv\n", r"line 1: values nested more than 20"),
    ("display_name: A\nsource:\n  path: a.csv\n  encoding: rot13\n",
     r"source\.encoding: .*not a text encoding 'rot13'"),
    ("display_name: A\nsource:\n  path: a.csv\n  encoding: hex\n", r"source\.encoding: .*not a text encoding 'hex'"),
    ("display_name: A\nsource:\n  path: a.csv\n  encoding: idna\n", r"source\.encoding: .*not a text encoding 'idna'"),
    ("display_name: A\nsource:\n  path: a.csv\n  encoding: punycode\n", r"source\.encoding: .*not a text encoding"),
])
def test_a_hostile_client_yaml_is_a_config_error_naming_the_file_and_key(tmp_path, text, message):
    from crm_report.config import ConfigError, load_config

    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "client.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_config("acme", tmp_path)
    assert str(folder / "client.yaml") in str(caught.value)


def test_the_alias_bomb_is_small():
    assert len(BOMB.encode()) < 600


def _png(width: int, height: int) -> bytes:
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + data)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("name, content, message", [
    ("logo.svg", b"<svg/>" + b" " * (3 << 20), r"brand\.logo: 'logo\.svg' is 3\.0 MB.*at most 2 MB"),
    ("logo.png", _png(100_000, 100_000), r"brand\.logo: 'logo\.png' is 100000 × 100000 pixels.*at most 4000"),
    ("logo.png", b"GIF89a not a png", r"brand\.logo: 'logo\.png' is not a PNG image"),
    ("logo.gif", b"GIF89a", r"brand\.logo: 'logo\.gif' .*SVG or PNG"),
    ("logo.svg", b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "' + b"x" * 1000 + b'">'
     b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg"><text>'
     + b"&b;" * 100 + b"</text></svg>", r"brand\.logo: 'logo\.svg' declares a DTD"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://127.0.0.1:9/x.png"/></svg>',
     r"'logo\.svg' refers to 'http://127\.0\.0\.1:9/x\.png' \(image href\)"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
     b'<use xlink:href="file:///etc/passwd#a"/></svg>', r"refers to 'file:///etc/passwd#a' \(use xlink:href\)"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "http://127.0.0.1:9/a.css";</style>'
     b"</svg>", r"loads another file with CSS \(@import"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url( \'x.svg#g\')"/></svg>',
     r"loads another file with CSS \(url\("),
    ("logo.svg", b"<svg><rect></svg>", r"'logo\.svg' is not an SVG image \(XML error: mismatched tag"),
])
def test_an_oversized_or_odd_logo_is_a_config_error(tmp_path, name, content, message):
    from crm_report.config import ConfigError, load_config

    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / name).write_bytes(content)
    (folder / "client.yaml").write_text(f"display_name: A\nbrand:\n  logo: {name}\nsource:\n  path: a.csv\n",
                                        encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config("acme", tmp_path)


@pytest.mark.parametrize("client", ["demo-supplements", "demo-apparel", "demo-skincare"])
def test_the_demo_logos_pass_the_logo_checks(client):
    """Gradients and clip paths inside the file (`url(#a)`, `href="#a"`) are fine."""
    from crm_report.config import load_config
    from crm_report.paths import CLIENTS_DIR

    assert load_config(client, CLIENTS_DIR).brand.logo == "logo.svg"


def test_a_small_png_logo_is_fine(tmp_path):
    from crm_report.config import load_config

    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "logo.png").write_bytes(_png(400, 120))
    (folder / "client.yaml").write_text("display_name: A\nbrand:\n  logo: logo.png\nsource:\n  path: a.csv\n",
                                        encoding="utf-8")
    assert load_config("acme", tmp_path).brand.logo == "logo.png"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp950", "big5", "latin-1"])
def test_real_text_encodings_are_accepted(encoding):
    source = ClientConfig(client_id="acme", display_name="A", folder=Path("."),
                          source={"path": "a.csv", "encoding": encoding}).source
    assert source.encoding == encoding


def test_a_client_yaml_that_is_not_utf8_names_the_byte_and_line(tmp_path):
    from crm_report.config import ConfigError, load_config

    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "client.yaml").write_bytes("display_name: 測試\nsource:\n  path: a.csv\n".encode("cp950"))
    with pytest.raises(ConfigError, match=r"acme/client.yaml: not UTF-8 text \(byte 14 on line 1\)"):
        load_config("acme", tmp_path)


def test_a_file_where_no_row_has_an_order_id_excludes_every_row_instead_of_crashing(tmp_path):
    """Found by the loader's property test: with no order id anywhere the per-order totals were empty and
    looking up a line's order (-1) raised IndexError."""
    (tmp_path / "orders.csv").write_text(HEADER + ",c1,2026-03-05,10,p\n,c2,2026-03-06,20,p\n", encoding="utf-8")
    result = load_orders(config_for(tmp_path, "orders.csv"), now=NOW)
    assert result.lines.empty and result.rows_read == 2
    assert result.excluded["source_row"].tolist() == [2, 3]


@pytest.mark.parametrize("body", ["Crème brûlée\n2,c2,2026-03-05,10,Café naïve", "Crème", "Crème brûlée"])
def test_a_windows_1252_file_reads_as_written(tmp_path, body):
    """Issue 12, finding 5: a Windows-1252 file turned `Crème` into `Crčme` (read as Central European CP1250);
    a file whose only accented word is `Crème` was read as Big5, since `è` followed by `m` is a Big5 pair.
    Found by the loader's property test: `Crème brûlée` alone is three Big5 pairs (鋗, 堦, 嶪), as free of
    "noise" to charset-normalizer as the Windows-1252 reading."""
    (tmp_path / "o.csv").write_bytes(f"{HEADER}1,c1,2026-03-05,10,{body}\n".encode("cp1252"))
    result = load_orders(config_for(tmp_path, "o.csv"), now=NOW)
    assert result.lines["product_name"].tolist() == [line.split(",")[-1] for line in body.split("\n")]
    assert result.files[0].info.encoding == "cp1252"


def test_a_utf8_file_with_a_row_from_another_encoding_is_refused_naming_its_line(tmp_path):
    """Found by the loader's property test: a UTF-8 file with Chinese names whose first non-ASCII byte was in
    a row pasted from a Windows-1252 file decoded as Big5 as a whole: every Chinese name became mojibake."""
    rows = [f"{i},c{i},2026-03-05,10,魚油\n".encode() for i in range(3, 8)]
    (tmp_path / "o.csv").write_bytes(HEADER.encode() + "2,c2,2026-03-05,10,Crème\n".encode("cp1252") + b"".join(rows))
    from crm_report.data.sources import DataError
    with pytest.raises(DataError, match=r"o\.csv: UTF-8 text with a byte that is not UTF-8 \(byte \d+ on line 2\)"):
        load_orders(config_for(tmp_path, "o.csv"), now=NOW)


def test_a_big5_row_before_a_utf8_row_is_refused_too(tmp_path):
    """Found by the loader's property test in the full suite: a Big5 row then a UTF-8 row (three bad bytes
    against two good characters) was read whole as Big5: 낸챣 and 邀싨껸 instead of 魚油 twice."""
    (tmp_path / "o.csv").write_bytes(HEADER.encode() + "1,c1,2026-03-05,10,魚油\n".encode("cp950")
                                     + "2,c2,2026-03-05,10,魚油\n".encode())
    from crm_report.data.sources import DataError
    with pytest.raises(DataError, match=r"UTF-8 text with a byte that is not UTF-8 \(byte \d+ on line 2\)"):
        load_orders(config_for(tmp_path, "o.csv"), now=NOW)


def test_a_big5_file_with_a_few_lines_valid_as_utf8_by_accident_is_big5(tmp_path):
    """A Big5 character whose two bytes happen to form a UTF-8 character (C2–DF then A1–BF) makes its line
    valid UTF-8; a real Big5 file has few such lines, and stays Big5."""
    accidental = bytes([0xC4, 0xA1]).decode("cp950")
    assert bytes([0xC4, 0xA1]).decode("utf-8")  # valid UTF-8 too
    names = [accidental] + ["魚油", "維他命", "葉黃素", "益生菌"] * 2
    (tmp_path / "o.csv").write_bytes((HEADER + "".join(f"{i},c{i},2026-03-05,10,{n}\n" for i, n in enumerate(names))
                                      ).encode("cp950"))
    assert load_orders(config_for(tmp_path, "o.csv"), now=NOW).lines["product_name"].tolist() == names


def test_a_short_big5_file_is_still_read_as_big5(tmp_path):
    """Found by the loader's property test while the Windows-1252 fix above was written: `魚油` read as
    `³½ªo` when coherence, which favours the English header, decided between the two readings."""
    (tmp_path / "o.csv").write_bytes(f"{HEADER}1,c1,2026-03-05,10,魚油\n".encode("cp950"))
    assert load_orders(config_for(tmp_path, "o.csv"), now=NOW).lines["product_name"].tolist() == ["魚油"]
