"""The analyst's path: a notebook's default parameters (empty report_dir) prepare a scratch folder."""
import shutil

import pandas as pd

from crm_report import workspace
from crm_report.data.demo import generate_orders
from crm_report.paths import CLIENTS_DIR


def test_open_run_prepares_a_scratch_folder_for_interactive_use(tmp_path):
    clients = tmp_path / "clients"
    (clients / "demo-apparel" / "data").mkdir(parents=True)
    for name in ("client.yaml", "logo.svg"):
        shutil.copy(CLIENTS_DIR / "demo-apparel" / name, clients / "demo-apparel" / name)
    generate_orders("demo-apparel", "2026-10", scale=0.02).to_parquet(
        clients / "demo-apparel" / "data" / "orders.parquet")

    run = workspace.open_run("demo-apparel", "2026-09", "", clients_dir=clients, reports_dir=tmp_path / "reports")
    assert run.report_dir == tmp_path / "reports" / "_scratch" / "demo-apparel" / "2026-09"
    assert run.orders["order_date"].max() <= pd.Timestamp("2026-09-30 23:59:59.999999999")
    assert (run.report_dir / "quarantine.csv").is_file()
    # A pipeline run passes report_dir; the notebook then reads the prepared snapshot, not the client folder.
    again = workspace.open_run("demo-apparel", "2026-09", run.report_dir)
    assert again.config == run.config and len(again.orders) == len(run.orders)
    assert run.words["sections"]["winback"] == "Win-back list"
