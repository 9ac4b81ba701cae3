"""Issue 9, finding 9: reports that must degrade, not crash (a month without orders; no repeat purchases)."""
import json
import shutil

import pandas as pd
import pytest
from pypdf import PdfReader

from crm_report import pipeline
from crm_report.data.demo import generate_orders
from crm_report.data.load import DataError
from crm_report.paths import CLIENTS_DIR

pytestmark = pytest.mark.usefixtures("forked_kernels")  # several reports: kernels forked, imports once

MONTH = "2026-10"


def _client(root, name, orders):
    folder = root / name
    (folder / "data").mkdir(parents=True)
    for file in ("client.yaml", "logo.svg"):
        shutil.copy(CLIENTS_DIR / "demo-supplements" / file, folder / file)
    orders.to_parquet(folder / "data" / "orders.parquet")
    return folder


@pytest.fixture(scope="module")
def demo_orders():
    return generate_orders("demo-supplements", MONTH, scale=0.04)


def _text(path):
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_a_month_without_orders_gives_a_report(demo_orders, tmp_path):
    """September is empty (the shop was closed), October is not: September's report says so in its numbers."""
    dates = pd.to_datetime(demo_orders["order_date"])
    quiet = demo_orders.loc[dates.dt.to_period("M").astype("str").ne("2026-09")]
    clients = tmp_path / "clients"
    _client(clients, "quiet", quiet)
    folder = pipeline.run_report("quiet", "2026-09", clients_dir=clients, reports_dir=tmp_path / "reports")
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    kpis = results["sections"]["acquisition"]["values"]
    assert kpis["active_customers"] == 0 and kpis["orders"] == 0
    assert (folder / "report.pdf").is_file()


def test_a_client_without_repeat_purchases_gives_a_report_that_says_why(demo_orders, tmp_path):
    first = demo_orders.sort_values("order_date", kind="stable").drop_duplicates("customer_id")
    one_time = demo_orders.loc[demo_orders["order_id"].isin(first["order_id"])]
    clients = tmp_path / "clients"
    _client(clients, "once", one_time)
    folder = pipeline.run_report("once", MONTH, clients_dir=clients, reports_dir=tmp_path / "reports")
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert results["sections"]["lifecycle"]["values"]["staged"] is False
    text = _text(folder / "report.pdf")
    assert "無法估計購買週期" in text


def test_a_month_after_the_data_is_refused_with_the_date_the_data_ends(demo_orders, tmp_path):
    """Issue 12, finding 7: a month the export does not reach was accepted and then crashed (or printed
    "−100% vs last month"); it is refused, naming the last order date."""
    dates = pd.to_datetime(demo_orders["order_date"])
    clients = tmp_path / "clients"
    _client(clients, "ended", demo_orders.loc[dates.lt(pd.Timestamp("2026-10-01"))])
    with pytest.raises(DataError, match=r"the orders end on 2026-09-30, before 2026-10 begins"):
        pipeline.run_report("ended", MONTH, clients_dir=clients, reports_dir=tmp_path / "reports")
    assert not (tmp_path / "reports" / "ended" / MONTH).exists()


def test_odd_product_names_are_shown_literally_and_cut_to_a_readable_length(demo_orders, tmp_path):
    """Issue 12, findings 4 and 6: a product named `$\\frac{1}$` crashed matplotlib's mathtext, `買$100送$20`
    showed as `買100¤20`, and a 100 KB name stalled the PDF layout. Names are text, cut to
    `formatting.NAME_MAX` characters with "…" wherever the report shows them."""
    from crm_report.formatting import NAME_MAX
    long_name = "超長商品名稱" * 20_000  # 120,000 characters
    odd = demo_orders.copy()
    top = odd["product_name"].value_counts().index[:3]
    odd["product_name"] = odd["product_name"].replace({top[0]: "買$100送$20", top[1]: r"$\frac{1}$",
                                                      top[2]: long_name})
    clients = tmp_path / "clients"
    _client(clients, "odd", odd)
    folder = pipeline.run_report("odd", MONTH, clients_dir=clients, reports_dir=tmp_path / "reports")
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "買$100送$20" in html and long_name[: NAME_MAX - 1] + "…" in html and long_name[:NAME_MAX + 1] not in html


def _pages(path):
    return [page.extract_text() for page in PdfReader(path).pages]


def test_a_client_with_one_customer_gives_a_report_whose_sections_say_why_they_are_empty(demo_orders, tmp_path):
    """Issue 12, finding 7: a client with a single customer (here the one with the most orders among those who
    bought in the month, all their orders and nobody else's). Segments need 12 customers, the value model 20
    with repeat purchases: each section says so instead of failing the report."""
    dates = pd.to_datetime(demo_orders["order_date"])
    in_month = demo_orders.loc[dates.dt.to_period("M").astype("str").eq(MONTH), "customer_id"]
    best = demo_orders.loc[demo_orders["customer_id"].isin(in_month), "customer_id"].value_counts().index[0]
    clients = tmp_path / "clients"
    _client(clients, "alone", demo_orders.loc[demo_orders["customer_id"].eq(best)])
    folder = pipeline.run_report("alone", MONTH, clients_dir=clients, reports_dir=tmp_path / "reports")
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert results["sections"]["acquisition"]["values"]["active_customers"] == 1
    text = _text(folder / "report.pdf")
    assert "近 24 個月有購買的顧客只有 1 位，少於分群所需的 12 位" in text
    assert "本月無法預測顧客價值：只有 1 位顧客購買過兩次以上，模型至少需要 20 位" in text


@pytest.fixture(scope="module")
def guest_report(demo_orders, tmp_path_factory):
    """The report of a client whose every order is a guest checkout: no customer id, e-mail or mobile (nor
    name or LINE id) on any order."""
    root = tmp_path_factory.mktemp("guests")
    guests = demo_orders.assign(**dict.fromkeys(["customer_id", "email", "phone", "line_user_id", "customer_name"],
                                                None))
    _client(root / "clients", "guests", guests)
    return pipeline.run_report("guests", MONTH, clients_dir=root / "clients", reports_dir=root / "reports")


def test_a_client_whose_orders_are_all_guest_checkouts_gives_a_report(guest_report):
    """Issue 12, finding 7: every order a guest checkout. Orders and revenue are counted, no customer is, and
    the data-quality appendix says that no order (100% of revenue) matches a customer."""
    results = json.loads((guest_report / "results.json").read_text(encoding="utf-8"))
    kpis = results["sections"]["acquisition"]["values"]
    assert kpis["orders"] > 0 and kpis["active_customers"] == 0
    assert results["sections"]["data_quality"]["values"]["guest_revenue_share"] == 1
    pages = "".join(_pages(guest_report / "report.pdf")).replace("\n", "")
    assert "無法對應任何顧客" in pages[pages.index("附錄 C\u3000資料品質"):]  # the data-quality appendix, any page


def test_a_guest_only_report_says_on_its_highlights_page_why_it_has_no_customers(guest_report):
    """Finding 7: the highlights page (page 1) explains that no order names a customer (no id, e-mail or
    mobile), which is why the sections built on customers are empty, instead of showing 0 customers beside the
    month's orders."""
    assert "訪客結帳" in _pages(guest_report / "report.pdf")[0]


def test_a_client_whose_export_holds_no_contact_gets_its_target_list_for_its_own_tool(demo_orders, tmp_path):
    """Issue 11 (reaching customers): an export with customer ids but no e-mail, phone or LINE id reached nobody
    (an empty winback.csv, page 1 advising no contact). Now every target is listed for the client's own
    campaign tool by customer id; the e-mail and SMS lists are written empty, and no channel text is blank."""
    bare = demo_orders.drop(columns=["email", "phone", "line_user_id"])
    clients = tmp_path / "clients"
    _client(clients, "bare", bare)
    folder = pipeline.run_report("bare", MONTH, clients_dir=clients, reports_dir=tmp_path / "reports")
    winback = json.loads((folder / "results.json").read_text(encoding="utf-8"))["sections"]["winback"]
    assert winback["values"]["channels"] == ["own"] and winback["values"]["no_channel"] == 0
    listed = pd.read_csv(folder / "exports" / "winback.csv", encoding="utf-8-sig", dtype=str)
    assert len(listed) == winback["values"]["contacted"] > 0
    assert (listed["contact"] == listed["customer_id"]).all()
    assert set(listed["channel"]) == {"貴公司自有工具（依顧客編號）"}
    assert listed["customer_id"].isin(bare["customer_id"]).all()
    for name in ("email_list.csv", "sms_list.csv"):
        assert pd.read_csv(folder / "exports" / name, encoding="utf-8-sig").empty
    first_page = _pages(folder / "report.pdf")[0].replace("\n", "")
    assert "主要透過 貴公司自有工具" in first_page and "透過 –" not in first_page and "透過 ，" not in first_page
