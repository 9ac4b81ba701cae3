"""The analyst's path: a notebook's default parameters (empty report_dir) prepare a scratch folder."""
import shutil
from pathlib import Path

import pandas as pd

from crm_report import workspace
from crm_report.data.demo import generate_orders
from crm_report.metrics import acquisition
from crm_report.paths import CLIENTS_DIR
from tests.conftest import straddling


def small_apparel_client(tmp_path) -> Path:
    """A clients folder with demo-apparel at 2% of its size (data to October 2026)."""
    clients = tmp_path / "clients"
    (clients / "demo-apparel" / "data").mkdir(parents=True)
    for name in ("client.yaml", "logo.svg"):
        shutil.copy(CLIENTS_DIR / "demo-apparel" / name, clients / "demo-apparel" / name)
    generate_orders("demo-apparel", "2026-10", scale=0.02).to_parquet(
        clients / "demo-apparel" / "data" / "orders.parquet")
    return clients


def test_open_run_prepares_a_scratch_folder_for_interactive_use(tmp_path):
    clients = small_apparel_client(tmp_path)
    run = workspace.open_run("demo-apparel", "2026-09", "", clients_dir=clients, reports_dir=tmp_path / "reports")
    assert run.report_dir == tmp_path / "reports" / "_scratch" / "demo-apparel" / "2026-09"
    assert run.orders["order_date"].max() <= pd.Timestamp("2026-09-30 23:59:59.999999999")
    assert (run.report_dir / "quarantine.csv").is_file()
    # A pipeline run passes report_dir; the notebook then reads the prepared snapshot, not the client folder.
    again = workspace.open_run("demo-apparel", "2026-09", run.report_dir)
    assert again.config == run.config and len(again.orders) == len(run.orders)
    assert run.words["sections"]["winback"] == "Win-back list"


def test_a_run_that_does_not_hold_the_lines_reads_them_only_for_what_needs_them(tmp_path):
    """Issue 13: notebook 01 needs the lines only for the coded purchases and the backtests' segments, notebook 02
    for the first orders' products and last month's orders; each reads them for that and gives the memory back
    instead of keeping every line (2.5 GB at 10M lines). The results are those computed from every line the run
    holds; the cutoffs (backtests, last month) read only the lines of orders that existed then and changed
    since, with lines on both sides of the cutoff (`read_lines(straddling=…)`), and the first orders' products
    only the lines of those orders (`Run.lines_of`)."""
    clients = small_apparel_client(tmp_path)
    data = clients / "demo-apparel" / "data" / "orders.parquet"
    orders = pd.read_parquet(data)
    paid = orders.loc[orders["status"].eq("paid")]
    refunds = pd.concat([  # refund lines months after their orders: orders that straddle the cutoffs below
        paid.loc[paid["order_date"].between(start, end)].head(4).assign(
            amount=lambda lines: -lines["amount"] / 2, status="refunded", order_date=pd.Timestamp(later))
        for start, end, later in (("2026-03-01", "2026-04-30", "2026-06-15"), ("2025-08-01", "2025-10-31", "2026-01-10"))])
    pd.concat([orders, refunds], ignore_index=True).to_parquet(data)
    prepared = workspace.open_run("demo-apparel", "2026-10", "", clients_dir=clients, reports_dir=tmp_path / "r")
    holding, lean = (workspace.open_run("demo-apparel", "2026-10", prepared.report_dir) for _ in range(2))
    lines = holding.lines
    for cutoff in (pd.Timestamp("2026-04-30 23:59:59.999999"), pd.Timestamp("2025-10-31 23:59:59.999999")):
        pd.testing.assert_series_equal(lean.segments_at(cutoff), holding.segments_at(cutoff))
        changed = workspace.read_lines(lean.build_dir, straddling=cutoff)
        expected = straddling(lines, cutoff)
        assert 0 < len(changed) == len(expected) < len(lines)
        pd.testing.assert_frame_equal(changed.reset_index(drop=True), expected.reset_index(drop=True))
    for field in ("customer", "day", "product", "amount"):
        assert (getattr(lean.purchases, field) == getattr(holding.purchases, field)).all()
    pd.testing.assert_index_equal(lean.purchases.customers, holding.purchases.customers)
    pd.testing.assert_frame_equal(lean.purchases.catalog, holding.purchases.catalog)
    pd.testing.assert_frame_equal(lean.previous_orders, holding.previous_orders)
    firsts = acquisition.first_orders(lean.orders, lean.month, window_months=12)
    theirs = lean.lines_of(firsts)
    assert 0 < len(theirs) < len(lines)
    pd.testing.assert_frame_equal(theirs.reset_index(drop=True),
                                  lines.loc[lines["order_id"].isin(firsts)].reset_index(drop=True))
    assert "lines" not in lean.__dict__
    nothing = workspace.read_lines(lean.build_dir, straddling=pd.Timestamp("2030-01-01"))  # no order changed
    assert nothing.empty and nothing.dtypes.to_dict() == lines.dtypes.to_dict()


def test_data_quality_gives_no_amount_share_when_no_row_carries_an_amount(tmp_path):
    """Found by mypy: with every amount 0 the share's base is 0, and `float("nan").where(...)` raised. (Here both
    rows are excluded, one for its date and one as a zero amount; the function is called as `prepare` does.)"""
    from crm_report.config import ClientConfig
    from crm_report.data.load import load_orders
    from crm_report.metrics.orders import purchase_orders

    (tmp_path / "o.csv").write_text("order_id,customer_id,order_date,amount\n1,c1,2026-03-05,0\n"
                                    "2,c2,not a date,0\n", encoding="utf-8")
    config = ClientConfig(client_id="acme", display_name="Acme", folder=tmp_path, source={"path": "o.csv"})
    cutoff = pd.Period("2026-03", "M").end_time
    loaded = load_orders(config, as_of=cutoff)
    _, tables = workspace.data_quality(loaded, loaded.lines, purchase_orders(loaded.lines, cutoff), rows_after=0)
    excluded = tables["excluded_by_reason"]
    assert excluded["reason"].tolist() == ["unreadable order date", "zero amount"]
    assert excluded["rows"].tolist() == [1, 1]
    assert excluded["revenue_share"].isna().all()
