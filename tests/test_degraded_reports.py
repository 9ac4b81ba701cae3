"""Issue 9, finding 9: reports that must degrade, not crash (a month without orders; no repeat purchases)."""
import json
import shutil

import pandas as pd
import pytest
from pypdf import PdfReader

from crm_report import pipeline
from crm_report.data.load import DataError
from crm_report.data.demo import generate_orders
from crm_report.paths import CLIENTS_DIR

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
