"""Reaching customers anywhere (issue 11): a client whose export has only e-mail addresses, or only mobile
numbers, gets the campaign files of that channel from a full report, and nothing of the others."""
import shutil

import pandas as pd
import pytest

from crm_report import pipeline
from crm_report.data.demo import generate_orders
from crm_report.metrics.campaign import reachable, to_contact
from crm_report.paths import CLIENTS_DIR

pytestmark = pytest.mark.usefixtures("forked_kernels", "no_pdf_layout")  # several reports, their numbers compared

MONTH = "2026-10"
ONLY = {"email": ("phone", "line_user_id"), "sms": ("email", "line_user_id")}  # channel → contacts removed


@pytest.fixture(scope="module", params=list(ONLY))
def one_channel_report(request, tmp_path_factory):
    channel = request.param
    root = tmp_path_factory.mktemp("clients")
    folder = root / f"only-{channel}"
    (folder / "data").mkdir(parents=True)
    for name in ("client.yaml", "logo.svg"):
        shutil.copy(CLIENTS_DIR / "demo-supplements" / name, folder / name)
    orders = generate_orders("demo-supplements", MONTH, scale=0.05)
    orders.assign(**{column: None for column in ONLY[channel]}).to_parquet(folder / "data" / "orders.parquet")
    out = tmp_path_factory.mktemp("reports")
    pipeline.run_report(folder.name, MONTH, clients_dir=root, reports_dir=out)
    return channel, out / folder.name / MONTH


def test_a_one_channel_client_gets_that_channels_list_and_nothing_else(one_channel_report):
    channel, folder = one_channel_report
    exports = folder / "exports"
    targets = pd.read_parquet(folder / "campaign_targets.parquet")
    contacted = targets.loc[to_contact(targets)]
    assert set(targets.loc[reachable(targets), "channel"]) == {channel} and len(contacted) > 0
    listed = pd.read_csv(exports / "winback.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(listed["customer_id"]) == sorted(contacted["customer_id"])
    own = pd.read_csv(exports / f"{channel}_list.csv", encoding="utf-8-sig", dtype=str)
    pd.testing.assert_frame_equal(own, listed)  # the one channel's list is the whole list
    other = "sms" if channel == "email" else "email"
    assert pd.read_csv(exports / f"{other}_list.csv", encoding="utf-8-sig", dtype=str).empty
    assert (exports / "line_audience.txt").read_text(encoding="utf-8") == ""
    contacts = own["contact"]
    if channel == "email":
        assert contacts.str.contains("@").all()
    else:
        assert contacts.str.fullmatch(r"\+8869[0-9]{8}").all()  # Taiwanese mobiles in E.164
