"""Nothing lost, end to end: the threshold stops a run (after writing quarantine.csv) unless accepted; the
data-quality appendix counts excluded rows by reason with their share of the amount, customers by how they
were identified and guest orders; `--check-data` reports what it found and what to map."""
import json
import re

import pandas as pd
import pytest
from pypdf import PdfReader

import run_report
from crm_report import pipeline, workspace
from crm_report.config import load_config
from crm_report.data.load import DataError
from tests.equivalence import MONTH, canonical_lines, make_client, write_big5


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """Clients whose Big5 export has spoiled rows: 'few' (under 5%) and 'many' (over)."""
    root = tmp_path_factory.mktemp("messy")
    lines = canonical_lines()
    for client, spoiled in (("few", 12), ("many", 60)):
        folder = make_client(root, client, "x: 1")
        write_big5(lines, folder)
        path = folder / "訂單明細.csv"
        table = pd.read_csv(path, encoding="cp950", dtype=str, keep_default_na=False)
        table.loc[table.index[:spoiled:2], "訂購日期"] = "不詳"  # unreadable dates
        table.loc[table.index[1:spoiled:2], "訂單狀態"] = "待確認"  # an unknown status word
        path.write_bytes(table.to_csv(index=False).encode("cp950"))
        make_client(root, client, "path: 訂單明細.csv")
    return root


def test_over_the_threshold_a_run_stops_after_writing_the_quarantine(messy, tmp_path):
    config = load_config("many", messy)
    with pytest.raises(DataError, match=r"60 of 792 rows \(7.6%\) were excluded, more than the 5.0% allowed.*"
                                        r"unreadable order date 30 "
                                        r"\(first: 訂單明細.csv row 2, column 訂購日期, '不詳'\)"
                                        r".*--accept-exclusions"):
        workspace.prepare(config, pd.Period(MONTH), tmp_path)
    quarantine = pd.read_csv(tmp_path / "quarantine.csv", encoding="utf-8-sig")
    assert len(quarantine) == 60 and set(quarantine["reason"]) == {"unreadable order date", "unknown status"}
    assert quarantine.columns[:5].tolist() == ["file", "source_row", "reason", "column", "value"]
    assert not (tmp_path / "build" / "lines.parquet").exists()


def test_accepted_the_appendix_says_so(messy, tmp_path):
    config = load_config("many", messy)
    workspace.prepare(config, pd.Period(MONTH), tmp_path, accept_exclusions=True)
    section = json.loads((tmp_path / "build" / "results" / "data_quality.json").read_text(encoding="utf-8"))
    values = section["values"]
    assert values["accepted_over_threshold"] is True
    assert (values["rows_read"], values["rows_excluded"], values["rows_used"]) == (792, 60, 732)
    assert values["excluded_share"] == pytest.approx(60 / 792)


def test_data_quality_counts_guests_identity_and_amount_shares(messy, tmp_path):
    loaded = workspace.prepare(load_config("few", messy), pd.Period(MONTH), tmp_path)
    section = json.loads((tmp_path / "build" / "results" / "data_quality.json").read_text(encoding="utf-8"))
    values, reasons = section["values"], section["tables"]["excluded_by_reason"]
    orders = pd.read_parquet(tmp_path / "build" / "orders.parquet")
    guests = orders["customer_id"].isna()
    assert values["guest_orders"] == guests.sum() > 0
    assert values["guest_revenue"] == pytest.approx(orders.loc[guests, "amount"].sum())
    assert values["guest_revenue_share"] == pytest.approx(orders.loc[guests, "amount"].sum() / orders["amount"].sum())
    assert values["customers_by_id"] == values["customers"] and values["customers_by_email"] == 0
    rows = pd.DataFrame(reasons["rows"], columns=reasons["columns"]).set_index("reason")
    assert rows["rows"].to_dict() == {"unknown status": 6, "unreadable order date": 6}
    spoiled = loaded.excluded.assign(amount=pd.to_numeric(loaded.excluded["amount"]))
    total = loaded.lines["amount"].sum() + spoiled["amount"].sum()
    assert rows.loc["unknown status", "revenue_share"] == pytest.approx(
        spoiled.loc[spoiled["reason"].eq("unknown status"), "amount"].sum() / total)


def test_appendix_in_the_pdf(messy, tmp_path):
    folder = pipeline.run_report("many", MONTH, clients_dir=messy, reports_dir=tmp_path, accept_exclusions=True)
    text = "\n".join(page.extract_text() for page in PdfReader(folder / "report.pdf").pages)
    appendix = text[text.index("本報告讀取"):]
    for words in ("無法辨識的訂單日期", "無法辨識的訂單狀態", "金額占比", "無法對應任何顧客", "依指示仍繼續產出報告",
                  "排除清單"):  # the client's words: no command-line flag or file name (issue 14)
        assert words in re.sub(r"\s+", "", appendix) or words in appendix, words


def test_check_data_cli(messy, capsys):
    args = ["--clients-dir", str(messy)]
    assert run_report.main(["--client", "few", "--check-data", *args]) == 0
    out = capsys.readouterr().out
    for expected in ("訂單明細.csv：csv、cp950（自動偵測）、標題在第 1 列，792 列", "order_date    ← 訂購日期",
                     "customer_id   ← 會員編號", "列數：讀取 792，使用 780，排除 12",
                     "無法辨識的訂單日期：6（第一筆：訂單明細.csv 第 2 列、欄位 訂購日期：'不詳'）",
                     "OK：資料可以使用。"):
        assert expected in out, expected
    assert run_report.main(["--client", "many", "--check-data", *args]) == 1
    assert "排除列占 7.6%，超過上限 5.0%" in capsys.readouterr().out


def test_check_data_suggests_a_mapping(messy, capsys):
    folder = make_client(messy, "renamed", "path: o.csv")
    (folder / "o.csv").write_text("單號,客戶,出貨日期,實收,備註\nA1,M1,2024-03-05,100,x\n", encoding="utf-8")
    assert run_report.main(["--client", "renamed", "--check-data", "--clients-dir", str(messy)]) == 1
    out = capsys.readouterr().out
    assert "no column for required field 'order_date'" in out and "suggested: order_date: 出貨日期" in out
    (folder / "o.csv").write_text("訂單編號,會員,訂單日期,金額,電郵\nA1,M1,2024-03-05,100,a@b.tw\n", encoding="utf-8")
    assert run_report.main(["--client", "renamed", "--check-data", "--clients-dir", str(messy)]) == 0
    out = capsys.readouterr().out
    assert "未使用的欄位：會員" in out and "customer_id: 會員   # 欄名近似 '會員編號'" in out


def test_check_data_says_how_dates_with_the_year_last_were_read(tmp_path, capsys):
    folder = make_client(tmp_path, "uk", "path: o.csv")
    (folder / "o.csv").write_text("order_id,customer_id,order_date,amount\n1,c1,01/12/2010 08:26,10\n"
                                  "2,c2,13/12/2010 09:00,10\n", encoding="utf-8")
    assert run_report.main(["--client", "uk", "--check-data", "--clients-dir", str(tmp_path)]) == 0
    assert "年份在後的日期以日在前（31/12/2026）讀取（依檔案中的日期判定：第 3 列 '13/12/2010 09:00' 只能這樣讀）" in \
        capsys.readouterr().out


def test_the_appendix_counts_every_netting_and_the_credit_notes_without_their_order(tmp_path):
    """The UCI-shaped export of tests/test_load.py, by hand as of December 2010: C536383 (−90) and C536391
    (−11.10) netted by customer and product; 536380 cancelled, 536370 reduced; three lines unmatched
    (−27.50, −20.34, −90)."""
    from crm_report import i18n, render, results
    from tests.test_load import UCI_HEADER, UCI_ROWS

    folder = make_client(tmp_path, "uci", "path: uci.csv\n  cancel_prefix: C")
    (folder / "uci.csv").write_text(UCI_HEADER + UCI_ROWS, encoding="utf-8")
    config = load_config("uci", tmp_path)
    report = tmp_path / "report"
    loaded = workspace.prepare(config, pd.Period("2010-12"), report, accept_exclusions=True)
    section = json.loads((report / "build" / "results" / "data_quality.json").read_text(encoding="utf-8"))
    assert section["values"]["credit_notes"] == {
        "notes": 2, "lines": 2, "by_reference": 0, "by_product": 2, "amount": pytest.approx(101.10),
        "orders_cancelled": 1, "orders_reduced": 1, "unmatched": 3, "unmatched_amount": pytest.approx(137.84),
        "window_days": 90}
    total = 35.64 + 11.10 + 180 + 11.10 + 27.50 + 90 + 11.10 + 20.34 + 90
    assert section["values"]["excluded_amount_share"] == pytest.approx((27.50 + 20.34 + 90) / total)
    assert loaded.excluded_amount_share == pytest.approx((27.50 + 20.34 + 90) / total)
    files = pd.DataFrame(section["tables"]["files"]["rows"], columns=section["tables"]["files"]["columns"])
    assert files[["date_order", "date_order_how", "date_order_row"]].values.tolist() == [["dmy", "detected", 9]]
    html = render.make_environment("en").get_template("sections/data_quality.html").render(
        s=results.load_all(report / "build"), t=i18n.strings("en"))
    text = re.sub(r"\s+", " ", html)
    assert ("2 credit notes (2 lines, NT$101) were netted against the orders they cancel: 0 lines by the order "
            "they name, 2 by the latest earlier order of the same customer with the same product within 90 days. "
            "They cancelled 1 order") in text
    assert "3 credit-note or refund lines (NT$138) cancel no order in the data" in text
    assert "uci.csv: Dates with the year last are read day first (31/12/2026)" in text
    assert "They carry 28.9% of the amount read" in text
    zh = render.make_environment("zh-TW").get_template("sections/data_quality.html").render(
        s=results.load_all(report / "build"), t=i18n.strings("zh-TW"))
    assert "有 2 張折讓單／作廢單（2 列明細，NT$101）已與其沖銷的原訂單相抵" in zh
    assert ("uci.csv：年份在後的日期以日在前（31/12/2026）讀取"
            "（依檔案中的日期判定：第 9 列 &#39;13/12/2010 09:49&#39; 只能這樣讀）") in zh


def test_check_data_explains_the_netting_and_the_amount_excluded(tmp_path, capsys):
    from tests.test_load import UCI_HEADER, UCI_ROWS

    folder = tmp_path / "uci"
    folder.mkdir()
    (folder / "client.yaml").write_text("display_name: UCI\nlocale: en\nsource:\n  path: uci.csv\n"
                                        "  cancel_prefix: C\n  max_excluded_share: 0.3\n", encoding="utf-8")
    (folder / "uci.csv").write_text(UCI_HEADER + UCI_ROWS, encoding="utf-8")
    assert run_report.main(["--client", "uci", "--check-data", "--clients-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for expected in ("  Dates with the year last are read day first (31/12/2026) (as the file's dates prove: row 9, "
                     "'13/12/2010 09:49' reads only this way)",
                     "Rows: 11 read, 8 used, 3 excluded (27.3%; the limit is 30.0%)",
                     "  The excluded rows carry 28.9% of the amount read (the limit applies to it too)",
                     "Credit notes: 2 netted against the orders they cancel (0 lines by the order they name, 2 by the "
                     "latest order of the same customer with the same product within 90 days; 101.10 TWD): 1 orders "
                     "cancelled, 1 reduced; 3 lines cancel no order (137.84 TWD), excluded",
                     "OK: the data can be used."):
        assert expected in out, expected
    (folder / "client.yaml").write_text("display_name: UCI\nlocale: en\nsource:\n  path: uci.csv\n"
                                        "  cancel_prefix: C\n  max_excluded_share: 0.28\n", encoding="utf-8")
    assert run_report.main(["--client", "uci", "--check-data", "--clients-dir", str(tmp_path)]) == 1
    assert "The excluded rows carry 28.9% of the amount, over the limit 28.0%" in capsys.readouterr().out


def check_output(root, client: str, source_yaml: str, files: dict[str, str], capsys) -> tuple[int, str]:
    folder = make_client(root, client, source_yaml)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    code = run_report.main(["--client", client, "--check-data", "--clients-dir", str(root)])
    return code, capsys.readouterr().out


def test_check_data_explains_the_preset_it_detected_and_every_decision_before_the_first_run(tmp_path, capsys):
    from tests.test_platforms import FILES

    text = (FILES / "shopline_訂單報表.csv").read_text(encoding="utf-8-sig")
    code, out = check_output(tmp_path, "sl", "path: o.csv", {"o.csv": text}, capsys)
    assert code == 0
    for expected in ("欄位對應（預設集 shopline；自動辨識：檔案有 SHOPLINE 匯出檔的欄位 訂單號碼, 訂單日期, 商品結帳價）：",
                     "order_id        ← 訂單號碼  (SHOPLINE 預設集)", "amount          ← quantity × unit_price",
                     "日期：沒有年份在後的日期，不需判定日月順序",
                     "折讓單／作廢單：沒有（未設定 source.cancel_prefix；也沒有所屬訂單無正數明細的負數明細）",
                     "幣別：TWD（預設值：client.yaml 未設定 currency）"):
        assert expected in out, expected
    both = "購物車編號,主單編號,訂單編號,成立日期,商品詳情,訂單總額,會員編號,訂單日期\nTG1,TM1,TS1,2024-03-01,a,100,M1,2024-03-01\n"
    code, out = check_output(tmp_path, "both", "path: o.csv\n  cancel_prefix: C", {"o.csv": both}, capsys)
    assert "欄位同時符合 91APP, CYBERBIZ 的匯出檔，無法判定，改用常見欄名對應（請在 source.preset 指定）" in out
    assert "訂單編號以 'C' 開頭者為折讓單／作廢單（source.cancel_prefix）" in out
    generic = "訂單編號,會員編號,訂單日期,金額\nA1,M1,2024-03-01,100\n"
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "client.yaml").write_text("display_name: En\nlocale: en\ncurrency: TWD\nsource:\n  path: o.csv\n"
                                                 "  preset: generic-zh\n", encoding="utf-8")
    (tmp_path / "en" / "o.csv").write_text(generic, encoding="utf-8")
    assert run_report.main(["--client", "en", "--check-data", "--clients-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for expected in ("Columns → fields (preset generic-zh; named in client.yaml (source.preset)):",
                     "No product column (product_id, product_name): the report's product sections will have no products",
                     "Currency: TWD (currency in client.yaml)"):
        assert expected in out, expected


def test_check_data_suggests_the_product_column(tmp_path, capsys):
    text = "訂單編號,會員編號,訂單日期,金額,品項名稱\nA1,M1,2024-03-01,100,維他命\n"
    code, out = check_output(tmp_path, "p", "path: o.csv", {"o.csv": text}, capsys)
    assert code == 0 and "product_name: 品項名稱   # 欄名近似 '品項'" in out
    assert "沒有商品欄位" not in out


def test_check_data_names_renamed_columns_and_the_newer_export(tmp_path, capsys):
    header = "訂單編號,會員編號,訂單日期,{},商品小計,訂單狀態\n"
    files = {"exports/a-reexport.csv": header.format("貨品名") + "A2,M2,2024-02-28,魚油,590,已退款\n",
             "exports/b-february.csv": header.format("商品敘述") + "A2,M2,2024-02-28,魚油,590,已完成\n"
                                                             "A1,M1,2024-02-01,維他命,790,已完成\n"}
    code, out = check_output(tmp_path, "f", "path: exports\n  columns: {product_name: [貨品名, 商品敘述]}", files, capsys)
    assert code == 0
    assert "source.columns.product_name：本檔沒有 商品敘述（匯出檔間改名的欄位；使用清單中的另一個欄名）" in out
    assert "重疊匯出檔中有 1 筆重複明細（只保留一次，以較新的匯出檔為準：最晚一筆訂單較晚的檔案，與檔名無關）" in out
