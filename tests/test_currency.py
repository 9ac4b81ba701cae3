"""A client in another currency: every amount in the report carries that currency, never NT$ (issue 11)."""
import json
import shutil

import pytest
from pypdf import PdfReader

from crm_report import pipeline
from crm_report.data.demo import generate_orders
from crm_report.paths import CLIENTS_DIR

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
