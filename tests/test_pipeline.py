"""End to end: papermill + WeasyPrint on small demo clients, atomic publishing, and the CLI."""
import json
import re
import shutil
import subprocess

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

import run_report
from crm_report import batch, execute, formatting, i18n, pipeline, render, workspace
from crm_report.paths import PROJECT_ROOT
from tests.conftest import DEMO_MONTH, DEMO_PREVIOUS

pytestmark = pytest.mark.usefixtures("forked_kernels")  # several reports: kernels forked, imports once

MONTH, PREVIOUS = DEMO_MONTH, DEMO_PREVIOUS


@pytest.fixture
def clients(demo_clients):
    """The small demo clients of conftest.py, shared with the layout tests."""
    return demo_clients


@pytest.fixture
def reports(demo_reports):
    """Their reports: supplements for two consecutive months, apparel for the second."""
    return demo_reports


def pdf_text(path):
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.mark.parametrize("client, new_label, titles", [
    ("demo-supplements", "新客", ["本月重點", "新客與回購客", "回購行為", "商品回購與推薦", "RFM 分群與集群", "顧客狀態與會員等級",
                          "顧客終身價值", "喚醒名單", "附錄 A　名詞解釋", "附錄 B　指標定義與方法", "附錄 C　資料品質", "附錄 D　模型細節"]),
    ("demo-apparel", "New customers", ["Highlights", "New and returning customers", "Repurchase behaviour",
                      "Products:", "RFM segments and clusters", "Life-cycle stages and member tiers",
                      "Customer lifetime value", "Win-back list", "Appendix A: Glossary", "Appendix B", "Appendix C", "Appendix D"]),
])
def test_report_pdf(reports, client, new_label, titles):
    folder = reports / client / MONTH
    reader = PdfReader(folder / "report.pdf")
    # a guard against a runaway layout (eight chapters and four appendices: 24-27 pages with the chart captions);
    # whether each page is full enough is test_layout's rule
    assert 12 <= len(reader.pages) <= 28
    text = pdf_text(folder / "report.pdf")
    for title in titles:
        assert title in text
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    new_customers = results["sections"]["acquisition"]["values"]["new_customers"]
    assert isinstance(new_customers, int)
    first_page = " ".join(reader.pages[0].extract_text().split())  # header cells wrap
    assert new_label in first_page and f"{new_customers:,}" in first_page  # the KPI table on page 1
    fonts = {str(f["/BaseFont"]) for page in reader.pages for f in (page["/Resources"].get("/Font") or {}).values()}
    assert any("CJK-TC" in name for name in fonts)
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text.replace("＊＊＊@", "")), "unmasked e-mail in PDF"
    assert not re.search(r"09\d{8}", text), "unmasked phone in PDF"


def test_page_one_states_the_plans_decisions_and_the_exports_follow_it(reports):
    folder = reports / "demo-supplements" / MONTH
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))["sections"]
    plan = results["winback"]["tables"]["plan"]
    decisions = results["summary"]["values"]["decisions"]
    assert [d["group"] for d in decisions] == [row["group"] for row in plan if row["recommended"]][:3]
    assert all(d["profit"] > 0 for d in decisions)
    names = i18n.strings("zh-TW")["winback_groups_short"]
    first_page = PdfReader(folder / "report.pdf").pages[0].extract_text().replace("\n", "")
    for d in decisions:
        assert f"「{names[d['group']]}」：聯絡 {d['contacted']:,} 人" in first_page
        assert formatting.money(d["profit"]) in first_page
    targets = pd.read_parquet(folder / "campaign_targets.parquet")
    dropped = {row["group"] for row in plan if not row["recommended"]}
    held = targets.loc[targets["group"].isin(dropped) & targets["channel"].ne("none")]
    assert (held["held_back"] == "unprofitable").all() and not held["control"].any()
    listed = pd.read_csv(folder / "exports" / "winback.csv", encoding="utf-8-sig", dtype=str)
    assert not set(listed["customer_id"]) & set(held["customer_id"])


def test_report_folder_contents(reports):
    folder = reports / "demo-supplements" / MONTH
    for name in ("report.pdf", "report.html", "results.json", "quarantine.csv", "campaign_targets.parquet",
                 "notebooks/01_customers.ipynb", "notebooks/02_segments.ipynb"):
        assert (folder / name).is_file(), name
    executed = json.loads((folder / "notebooks" / "01_customers.ipynb").read_text(encoding="utf-8"))
    assert executed["metadata"]["papermill"]["parameters"]["month"] == MONTH
    assert not list(folder.parent.glob(".*staging*")), "staging folders left behind"


def test_exports_open_in_a_spreadsheet_and_leave_out_the_control_group(reports):
    folder = reports / "demo-supplements" / MONTH
    exports = folder / "exports"
    targets = pd.read_parquet(folder / "campaign_targets.parquet")
    to_contact = targets.loc[~targets["control"] & targets["channel"].ne("none")]
    assert targets["control"].any() and len(to_contact) > 0
    assert (exports / "winback.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese
    listed = pd.read_csv(exports / "winback.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(listed["customer_id"]) == sorted(to_contact["customer_id"])
    book = load_workbook(exports / "winback.xlsx")
    assert sum(sheet.max_row - 1 for sheet in book.worksheets) == len(to_contact)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold and sheet["A1"].value == "顧客編號"
    line_ids = (exports / "line_audience.txt").read_text(encoding="utf-8").split()
    assert len(line_ids) == to_contact["channel"].eq("line").sum() > 0  # the targets file keeps no contacts
    assert all(i.startswith("U") and len(i) == 33 for i in line_ids)


def test_the_second_month_evaluates_the_first_months_list(clients, reports):
    first = json.loads((reports / "demo-supplements" / PREVIOUS / "results.json").read_text(encoding="utf-8"))
    assert first["sections"]["winback"]["values"]["has_previous"] is False
    assert "找不到" in pdf_text(reports / "demo-supplements" / PREVIOUS / "report.pdf")
    second = json.loads((reports / "demo-supplements" / MONTH / "results.json").read_text(encoding="utf-8"))
    winback = second["sections"]["winback"]
    assert winback["values"]["has_previous"] is True and winback["values"]["evaluated_month"] == PREVIOUS
    total = [row for row in winback["tables"]["evaluation"] if row["group"] == "total"][0]
    previous = pd.read_parquet(reports / "demo-supplements" / PREVIOUS / "campaign_targets.parquet")
    reachable = previous.loc[previous["channel"].ne("none")]
    # the total pools the groups with at least 2 customers in each arm (small groups have no control group)
    arms = reachable.groupby("group")["control"].agg(control="sum", size="size")
    pooled = arms.loc[arms["control"].ge(2) & (arms["size"] - arms["control"]).ge(2)].index
    reachable = reachable.loc[reachable["group"].isin(pooled)]
    assert total["contacted_n"] == (~reachable["control"]).sum() and total["control_n"] == reachable["control"].sum()
    # the simulated response is found, and its interval holds the effect it had on the contacted customers:
    # their return rate with the extra orders minus their rate without them
    assert total["outcome"] == "lift" and winback["values"]["verdict"]["outcome"] == "lift"
    orders = pd.read_parquet(clients / "demo-supplements" / "data" / "orders.parquet")
    window = orders.loc[pd.to_datetime(orders["order_date"]).dt.to_period("M").astype("str").eq(MONTH)
                        & orders["status"].eq("paid")]
    contacted = reachable.loc[~reachable["control"], "customer_id"]
    with_campaign = contacted.isin(window["customer_id"]).mean()
    without = contacted.isin(window.loc[~window["order_id"].str.startswith("CAMP-"), "customer_id"]).mean()
    assert total["rate_diff_low"] < with_campaign - without < total["rate_diff_high"]
    assert "名單的成效" in pdf_text(reports / "demo-supplements" / MONTH / "report.pdf")


def test_control_group_is_stable_across_reruns(clients, reports, tmp_path):
    rerun = tmp_path / "reports"
    pipeline.run_report("demo-supplements", MONTH, clients_dir=clients, reports_dir=rerun)
    first = pd.read_parquet(reports / "demo-supplements" / MONTH / "campaign_targets.parquet")
    again = pd.read_parquet(rerun / "demo-supplements" / MONTH / "campaign_targets.parquet")
    assert set(first.loc[first["control"], "customer_id"]) == set(again.loc[again["control"], "customer_id"])


def test_failed_run_keeps_the_previous_report(clients, reports):
    folder = reports / "demo-supplements" / MONTH
    before = (folder / "report.pdf").read_bytes()
    data = clients / "demo-supplements" / "data" / "orders.parquet"
    saved = data.read_bytes()
    data.write_bytes(b"not parquet")
    try:
        with pytest.raises(Exception) as failure:
            pipeline.run_report("demo-supplements", MONTH, clients_dir=clients, reports_dir=reports)
    finally:
        data.write_bytes(saved)
    assert (folder / "report.pdf").read_bytes() == before
    assert not list(folder.parent.glob(".*staging*"))
    kept = folder.parent / f".{MONTH}-failed"
    assert kept.is_dir() and any(str(kept) in note for note in failure.value.__notes__)


def test_a_render_over_the_time_limit_fails_the_run_and_keeps_the_previous_report(clients, reports, monkeypatch):
    """Issue 12, finding 6: a render that does not end is stopped at `render.RENDER_TIMEOUT` (here 1 ms) with
    an error naming the client, the month and the limit; the published report stays as it was."""
    folder = reports / "demo-apparel" / MONTH
    before = (folder / "report.pdf").read_bytes()
    monkeypatch.setattr(render, "RENDER_TIMEOUT", 0.001)
    with pytest.raises(render.RenderError, match=rf"^demo-apparel {MONTH}: report.html: no PDF after 0.001 s, "
                                                 r"the render time limit \(render.RENDER_TIMEOUT\)") as failure:
        pipeline.run_report("demo-apparel", MONTH, clients_dir=clients, reports_dir=reports)
    assert (folder / "report.pdf").read_bytes() == before
    kept = folder.parent / f".{MONTH}-failed"
    assert (kept / "report.html").is_file() and not (kept / "report.pdf").exists()
    assert any(str(kept) in note for note in failure.value.__notes__)
    assert not list(folder.parent.glob(".*staging*"))


def test_an_override_notebook_that_cannot_run_is_refused_before_the_data_are_loaded(clients, tmp_path, monkeypatch):
    """An analyst's copy of a notebook without a `parameters` cell is refused before the data are loaded: at
    10M lines the load alone takes minutes."""
    override = clients / "demo-apparel" / "notebooks"
    override.mkdir()
    (override / "01_customers.py").write_text("# %%\nprint('no parameters cell')\n", encoding="utf-8")
    loaded = []
    monkeypatch.setattr(workspace, "prepare", lambda *args, **kwargs: loaded.append(args))
    try:
        with pytest.raises(execute.NotebookError, match=r"01_customers\.py: no cell tagged 'parameters'"):
            pipeline.run_report("demo-apparel", MONTH, clients_dir=clients, reports_dir=tmp_path)
    finally:
        shutil.rmtree(override)
    assert loaded == []
    assert not (tmp_path / "demo-apparel" / MONTH).exists()


def test_failing_notebook_names_the_cell_and_keeps_the_executed_notebook(clients, tmp_path):
    override = clients / "demo-apparel" / "notebooks"
    override.mkdir()
    source = (PROJECT_ROOT / "notebooks" / "02_segments.py").read_text(encoding="utf-8")
    assert "segments = rfm.summarise_groups(" in source  # the line this test breaks
    (override / "02_segments.py").write_text(source.replace("segments = rfm.summarise_groups(",
                                                            "segments = rfm.no_such_function("), encoding="utf-8")
    try:
        outcome = batch.run_one("demo-apparel", MONTH, clients, tmp_path)
    finally:
        shutil.rmtree(override)
    assert not outcome.ok
    assert "02_segments.py failed in cell" in outcome.error and "no_such_function" in outcome.error
    assert (tmp_path / "demo-apparel" / f".{MONTH}-failed" / "notebooks" / "02_segments.ipynb").is_file()
    assert not (tmp_path / "demo-apparel" / MONTH).exists()
    assert batch.run_one("demo-apparel", MONTH, clients, tmp_path).ok  # fixed: the stale failure is cleared
    assert not (tmp_path / "demo-apparel" / f".{MONTH}-failed").exists()


def test_cli_exit_codes(clients, reports, capsys):
    args = ["--clients-dir", str(clients), "--reports-dir", str(reports)]
    assert run_report.main(["--list", *args]) == 0
    assert "demo-apparel" in capsys.readouterr().out
    assert run_report.main(["--client", "demo-supplements", "--month", "2026-13", *args]) == 2
    assert run_report.main(["--client", "no-such-client", "--month", MONTH, *args]) == 1
    assert "FAIL  no-such-client" in capsys.readouterr().out


def test_cli_runs_as_a_script(clients, tmp_path):
    done = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "python"), str(PROJECT_ROOT / "run_report.py"), "--client",
         "demo-apparel", "--month", MONTH, "--clients-dir", str(clients), "--reports-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "OK    demo-apparel" in done.stdout
    assert (tmp_path / "demo-apparel" / MONTH / "report.pdf").is_file()


def test_personal_data_stays_in_the_exports_folder(clients, reports):
    """Issue 12, finding 11: build/lines.parquet held every name, e-mail, mobile and LINE id beside the HTML a
    consultant may share. Now no file of the report folder outside exports/ holds a contact column or any
    e-mail address, mobile or LINE id of the input, and the private contacts file is gone once published."""
    folder = reports / "demo-supplements" / MONTH
    source = pd.read_parquet(clients / "demo-supplements" / "data" / "orders.parquet")
    secrets = {str(v) for c in ("email", "phone", "line_user_id") for v in source[c].dropna().unique()}
    assert len(secrets) > 100
    for path in folder.rglob("*"):
        if not path.is_file() or "exports" in path.relative_to(folder).parts:
            continue
        if path.suffix == ".parquet":
            columns = set(pd.read_parquet(path).columns)
            assert not columns & {"customer_name", "email", "phone", "line_user_id"}, path
        text = path.read_bytes().decode("utf-8", errors="ignore")
        leaked = [s for s in list(secrets)[:3000] if s in text]
        assert not leaked, (path, leaked[:3])
    assert not (folder / "build" / "private").exists()
