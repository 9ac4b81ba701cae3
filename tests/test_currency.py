"""A client in another currency: every amount in the report carries that currency, never NT$ (issue 11)."""
import json
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from crm_report import pipeline
from crm_report.data.demo import generate_orders
from crm_report.paths import CLIENTS_DIR

pytestmark = pytest.mark.usefixtures("forked_kernels")  # several reports: kernels forked, imports once

MONTH = "2026-10"


@pytest.fixture(scope="module")
def hkd_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("clients")
    folder = root / "hk-threads"
    (folder / "data").mkdir(parents=True)
    shutil.copy(CLIENTS_DIR / "demo-apparel" / "logo.svg", folder / "logo.svg")
    text = (CLIENTS_DIR / "demo-apparel" / "client.yaml").read_text(encoding="utf-8")
    text = text.replace("currency: TWD", "currency: HKD") + (
        "economics:\n  line_message_cost: 0.05\n  email_message_cost: 0.01\n  sms_message_cost: 0.3\n")
    (folder / "client.yaml").write_text(text, encoding="utf-8")
    generate_orders("demo-apparel", MONTH, scale=0.05).to_parquet(folder / "data" / "orders.parquet")
    out = tmp_path_factory.mktemp("reports")
    pipeline.run_report("hk-threads", MONTH, clients_dir=root, reports_dir=out)
    return out / "hk-threads" / MONTH


def test_amounts_carry_the_clients_currency_everywhere(hkd_report):
    text = "\n".join(page.extract_text() for page in PdfReader(hkd_report / "report.pdf").pages)
    assert "HK$" in text and "NT$" not in text
    html = (hkd_report / "report.html").read_text(encoding="utf-8")
    assert "NT$" not in html
    for svg in (hkd_report / "build" / "figures").glob("*.svg"):
        assert "NT$" not in svg.read_text(encoding="utf-8"), svg.name
    results = json.loads((hkd_report / "results.json").read_text(encoding="utf-8"))
    assert "10% off" in json.dumps(results["sections"]["winback"]["values"]["discount_label"])


def build_report(tmp_path_factory, client: str, month: str, client_yaml: str, file: str, data: str,
                 **options) -> Path:
    """A client folder with `client_yaml` (its brand's logo added), `data` in data/`file`; the full report of
    `month`, published. Returns its folder."""
    root = tmp_path_factory.mktemp("clients")
    folder = root / client
    (folder / "data").mkdir(parents=True)
    shutil.copy(CLIENTS_DIR / "demo-apparel" / "logo.svg", folder / "logo.svg")
    (folder / "data" / file).write_text(data, encoding="utf-8")
    source = "".join(f"  {key}: {value}\n" for key, value in options.pop("source", {}).items())
    (folder / "client.yaml").write_text(f"{client_yaml}brand:\n  logo: logo.svg\nsource:\n  path: data/{file}\n{source}",
                                        encoding="utf-8")
    out = tmp_path_factory.mktemp("reports")
    pipeline.run_report(client, month, clients_dir=root, reports_dir=out, **options)
    return out / client / month


@pytest.fixture(scope="module")
def gbp_report(tmp_path_factory):
    """Issue 11's example client: pounds sterling, day-first dates, cancellations as credit notes (C…), in the
    shape of the UCI Online Retail export (tests/test_load.py's rows and hand-worked totals), in English.
    Three of its eleven rows are credit notes that cancel nothing in the data: accepted, as a consultant would
    after reading the quarantine."""
    from tests.test_load import UCI_HEADER, UCI_ROWS

    return build_report(
        tmp_path_factory, "uk-gifts", "2010-12",
        "display_name: UK Gifts\nlocale: en\ncurrency: GBP\ntimezone: Europe/London\n"
        "member_tiers:\n  - name: Silver\n    min_spend_12m: 100\n  - name: Gold\n    min_spend_12m: 500\n"
        "economics:\n  line_message_cost: 0.01\n  email_message_cost: 0.002\n  sms_message_cost: 0.04\n",
        "uci.csv", UCI_HEADER + UCI_ROWS, source={"cancel_prefix": "C"}, accept_exclusions=True)


def test_a_pound_client_with_day_first_dates_and_credit_notes_by_hand(gbp_report):
    """By hand (tests/test_load.py): December 2010 has 536365 (£35.64) and 536366 (£11.10) of 17850 and 536370
    of 12583 (£180 − £90 credit note C536383 = £90): 3 orders, £136.74, 2 new customers. 536380 (£11.10) is
    cancelled in full by C536391: no purchase. Read month first, '01/12/2010' would fall in January."""
    sections = json.loads((gbp_report / "results.json").read_text(encoding="utf-8"))["sections"]
    monthly = {row["month"]: row for row in sections["acquisition"]["tables"]["monthly"]}
    december = monthly["2010-12"]
    assert (december["orders"], december["active_customers"], december["new_customers"]) == (3, 2, 2)
    assert december["revenue"] == pytest.approx(136.74)
    assert sum(row["orders"] for row in monthly.values()) == 3  # no order in any other month
    notes = sections["data_quality"]["values"]["credit_notes"]
    assert (notes["notes"], notes["orders_cancelled"], notes["orders_reduced"], notes["unmatched"]) == (2, 1, 1, 3)
    assert notes["unmatched_amount"] == pytest.approx(27.50 + 20.34 + 90)
    text = "\n".join(page.extract_text() for page in PdfReader(gbp_report / "report.pdf").pages)
    assert "£" in text and "NT$" not in text
    assert "NT$" not in (gbp_report / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hkd_shopify_report(tmp_path_factory):
    """Issue 11's HKD Shopify client: tests/test_shopify.py's export (the full 2023 header, hand-worked totals)
    with its Currency column in HKD, in Traditional Chinese."""
    source = Path(__file__).resolve().parent / "corpus" / "files" / "shopify_orders_export_1.csv"
    text = source.read_text(encoding="utf-8")
    assert text.count(",TWD,") == 10  # one per order
    return build_report(
        tmp_path_factory, "hk-shop", "2024-03",
        "display_name: 香港小店\nlocale: zh-TW\ncurrency: HKD\ntimezone: Asia/Hong_Kong\n"
        "member_tiers:\n  - name: 銀卡\n    min_spend_12m: 500\n  - name: 金卡\n    min_spend_12m: 2500\n"
        "economics:\n  line_message_cost: 0.05\n  email_message_cost: 0.01\n  sms_message_cost: 0.3\n",
        "orders_export_1.csv", text.replace(",TWD,", ",HKD,"))


def test_an_hkd_shopify_client_by_hand(hkd_shopify_report):
    """By hand (tests/test_shopify.py): March 2024 has 6 purchases, HK$6,150 (#1002 partially refunded: 1,500 −
    500), one of them a guest's; 4 customers, all new. Refunded, voided and cancelled orders are no purchases."""
    sections = json.loads((hkd_shopify_report / "results.json").read_text(encoding="utf-8"))["sections"]
    march = {row["month"]: row for row in sections["acquisition"]["tables"]["monthly"]}["2024-03"]
    assert (march["orders"], march["guest_orders"], march["active_customers"], march["new_customers"],
            march["returning_customers"]) == (6, 1, 4, 4, 0)
    assert march["revenue"] == pytest.approx(6150)
    first_page = re.sub(r"\s+", " ", PdfReader(hkd_shopify_report / "report.pdf").pages[0].extract_text())
    assert "HK$6,150" in first_page and "NT$" not in first_page
