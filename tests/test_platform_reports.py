"""The platform presets end to end (issue 11): for each of SHOPLINE, 91APP, CYBERBIZ, Shopee and WooCommerce, the
full report of 2024-04 on the small export of tests/corpus/files/platforms, checked against the totals worked out
by hand in tests/test_platforms.py (its `EXPECTED`, imported, not copied).

Each client folder holds client.yaml (the preset named), a copy of the export and a logo. The five reports are
built once, one after another, with their kernels forked from one kernel server (conftest's `forked_kernels`, as batch
workers do: the notebooks run as in any report, their imports done once), about 15 s of CPU each. With five to
seven order lines a client, most sections degrade (too few customers to segment or to model value): the report
must say so, not crash.

Besides `EXPECTED`, read off the exports by hand: each file's first and last order date, and the sales channels
its rows name (Shopee's export has none). The report shows no sales-channel breakdown; the prepared lines it
publishes (build/lines.parquet) keep the channel.
"""
import json
import re
import shutil

import pandas as pd
import pytest
from pypdf import PdfReader

from tests.test_platforms import EXPECTED, FILES

MONTH = "2024-04"
DATES = {  # first and last order (local time, as the export writes it)
    "shopline": ("2024-03-01T10:15:00", "2024-04-02T11:00:00"),
    "91app": ("2024-03-01T12:00:00", "2024-04-05T10:00:00"),
    "cyberbiz": ("2024-03-02T13:20:00", "2024-04-03T09:15:00"),
    "shopee": ("2024-03-01T09:00:00", "2024-04-02T18:00:00"),
    "woocommerce": ("2024-03-02T09:00:00", "2024-04-01T10:00:00"),
}
CHANNELS = {"shopline": {"網店", "POS"}, "91app": {"APP", "Web"}, "cyberbiz": {"網站", "LINE"}, "shopee": set(),
            "woocommerce": {"Direct", "Referral"}}


@pytest.fixture(scope="module")
def reports(tmp_path_factory, forked_kernels):
    """Preset name → the published report folder, or the exception its run raised (so that one preset's crash
    fails its own tests, with the traceback, and not the other presets')."""
    from crm_report import pipeline
    from crm_report.paths import CLIENTS_DIR

    clients, out = tmp_path_factory.mktemp("clients"), tmp_path_factory.mktemp("reports")
    built: dict[str, object] = {}
    for name, (file, *_) in EXPECTED.items():
        folder = clients / name
        (folder / "data").mkdir(parents=True)
        shutil.copy(FILES / file, folder / "data" / file)
        shutil.copy(CLIENTS_DIR / "demo-supplements" / "logo.svg", folder / "logo.svg")
        (folder / "client.yaml").write_text(
            f"display_name: {name} shop\nbrand:\n  logo: logo.svg\n"
            f"source:\n  path: data/{file}\n  preset: {name}\n", encoding="utf-8")
        try:
            built[name] = pipeline.run_report(name, MONTH, clients_dir=clients, reports_dir=out)
        except Exception as exc:  # reported by this preset's tests
            built[name] = exc
    return built


def _folder(reports, name):
    result = reports[name]
    if isinstance(result, BaseException):
        raise AssertionError(f"the {name} report failed") from result
    return result


def _results(reports, name):
    return json.loads((_folder(reports, name) / "results.json").read_text(encoding="utf-8"))["sections"]


def _purchases(name):
    """Purchase orders, revenue and customers who bought, over the whole export (March and April): the export
    starts in March, so every buyer is new in the month of their first purchase."""
    months = EXPECTED[name][2].values()
    return (sum(m[0] for m in months), sum(m[1] for m in months), sum(m[3] for m in months))


@pytest.mark.parametrize("name", EXPECTED)
def test_the_report_is_published(reports, name):
    folder = _folder(reports, name)
    assert (folder / "report.pdf").is_file() and (folder / "results.json").is_file()
    assert not list(folder.parent.glob(f".{MONTH}-*"))  # no failed run or staging folder left


@pytest.mark.parametrize("name", EXPECTED)
def test_monthly_orders_revenue_and_customers_by_hand(reports, name):
    monthly = {row["month"]: row for row in _results(reports, name)["acquisition"]["tables"]["monthly"]}
    for month, (orders, revenue, customers, new, returning) in EXPECTED[name][2].items():
        row = monthly[month]
        assert (row["orders"], row["active_customers"], row["new_customers"], row["returning_customers"],
                row["guest_orders"]) == (orders, customers, new, returning, 0), month
        assert row["revenue"] == pytest.approx(revenue), month
    # every order in the month its date names: none in the 22 months before March 2024
    assert sum(row["orders"] for row in monthly.values()) == _purchases(name)[0]


@pytest.mark.parametrize("name", EXPECTED)
def test_amounts_are_new_taiwan_dollars_and_april_revenue_is_printed(reports, name):
    folder = _folder(reports, name)
    first_page = re.sub(r"\s+", " ", PdfReader(folder / "report.pdf").pages[0].extract_text())
    april = EXPECTED[name][2][MONTH][1]
    assert f"營收 NT${april:,}，" in first_page  # the headline: "營收 NT$1,580，下單顧客 1 人…"
    # every amount of the report (its text, and the charts the PDF embeds) in NT$: no bare $ nor US$
    for shown in (folder / "report.html", *(folder / "build" / "figures").glob("*.svg")):
        text = shown.read_text(encoding="utf-8")
        assert "NT$" in text or shown.suffix == ".svg", shown.name
        assert not re.findall(r"(?<!NT)\$", text), shown.name


@pytest.mark.parametrize("name", EXPECTED)
def test_cancelled_and_refunded_orders_are_no_purchases(reports, name):
    sections = _results(reports, name)
    quality, seed = sections["data_quality"]["values"], sections["value"]["values"]["seed"]
    not_bought = EXPECTED[name][3]
    orders, revenue, buyers = _purchases(name)
    assert (quality["purchase_orders"], quality["orders"] - quality["purchase_orders"]) == (orders, len(not_bought))
    assert quality["revenue"] == pytest.approx(revenue) and seed["revenue"] == pytest.approx(revenue)
    assert sections["value"]["values"]["historic_total"] == pytest.approx(revenue)
    assert (quality["customers_with_purchase"], sections["segments"]["values"]["customers"],
            seed["customers"], seed["orders"]) == (buyers, buyers, buyers, orders)

    build = _folder(reports, name) / "build"
    lines = pd.read_parquet(build / "lines.parquet")
    status = lines.groupby("order_id")["status"].agg(lambda s: "paid" if s.eq("paid").any() else s.iat[0])
    assert status[status.ne("paid")].to_dict() == not_bought
    purchased = pd.read_parquet(build / "orders.parquet")
    assert not set(purchased["order_id"]) & set(not_bought)
    # a customer whose every order was cancelled or refunded never bought: not a customer of any metric
    never = set(lines.loc[lines["order_id"].isin(list(not_bought)), "customer_id"]) - set(purchased["customer_id"])
    assert quality["customers"] - quality["customers_with_purchase"] == len(never)
    customers = pd.read_parquet(build / "customers.parquet")
    targets = pd.read_parquet(_folder(reports, name) / "campaign_targets.parquet")
    assert len(customers) == buyers and not never & (set(customers.index) | set(targets["customer_id"]))


@pytest.mark.parametrize("name", EXPECTED)
def test_every_line_of_the_export_is_accounted_for(reports, name):
    sections = _results(reports, name)
    quality = sections["data_quality"]["values"]
    n_lines = EXPECTED[name][1]
    assert (quality["rows_read"], quality["rows_used"]) == (n_lines, n_lines)
    assert (quality["rows_blank"], quality["rows_excluded"], quality["rows_after_period"]) == (0, 0, 0)
    assert quality["lines_paid"] + quality["lines_cancelled"] + quality["lines_refunded"] == n_lines
    assert sections["data_quality"]["tables"]["excluded_by_reason"] == []
    assert (quality["first_date"], quality["last_date"]) == DATES[name]
    assert quality["currency"] == "TWD"


@pytest.mark.parametrize("name", EXPECTED)
def test_the_sales_channels_of_the_export_are_kept(reports, name):
    lines = pd.read_parquet(_folder(reports, name) / "build" / "lines.parquet")
    channels = set(lines["channel"].dropna()) if "channel" in lines else set()
    assert channels == CHANNELS[name]
