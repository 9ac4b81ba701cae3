"""Issue 13, goal 6: many clients on a Dask distributed cluster. A real LocalCluster with two worker processes
runs a small batch through `run_report.py --scheduler`; a worker lost mid-report costs only its own client."""
from __future__ import annotations

import json
import logging
import re

import pytest

import run_report
from crm_report import batch
from crm_report.errors import ReportError
from tests import batch_runners
from tests.conftest import DEMO_MONTH

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=logging.ERROR) as local:
        yield local


def test_a_batch_runs_on_a_dask_cluster_and_every_outcome_comes_back(cluster, demo_clients, demo_reports, tmp_path,
                                                                     capsys):
    """Both tiny demo clients, one task each: published in the reports folder given, progress shown as it
    happens, and the same numbers as a report built in this process (warm forked kernels change nothing)."""
    reports = tmp_path / "reports"
    code = run_report.main(["--all", "--month", DEMO_MONTH, "--scheduler", cluster.scheduler_address,
                            "--clients-dir", str(demo_clients), "--reports-dir", str(reports)])
    out = capsys.readouterr().out
    assert code == 0, out
    for client in ("demo-apparel", "demo-supplements"):
        assert (reports / client / DEMO_MONTH / "report.pdf").stat().st_size > 0
        assert f"OK    {client}" in out
        assert re.search(rf"^  {client} +{DEMO_MONTH}  5/5  publish$", out, re.MULTILINE), out
    ours = json.loads((reports / "demo-apparel" / DEMO_MONTH / "results.json").read_text(encoding="utf-8"))
    local = json.loads((demo_reports / "demo-apparel" / DEMO_MONTH / "results.json").read_text(encoding="utf-8"))
    assert ours == local


def test_a_lost_worker_costs_only_its_own_client(cluster, tmp_path):
    """'flaky' kills its worker on its first attempt: the scheduler runs it again on a live worker, and 'steady'
    (on the other worker) runs once."""
    seen = []
    outcomes = batch.run_on_cluster(["flaky", "steady"], DEMO_MONTH, cluster.scheduler_address,
                                    clients_dir=tmp_path, reports_dir=tmp_path / "r", runner=batch_runners.dies_once,
                                    on_step=lambda *event: seen.append(event))
    assert [(o.client, o.ok) for o in outcomes] == [("flaky", True), ("steady", True)]
    assert len((tmp_path / "flaky.attempts").read_text().split()) == 2
    assert len((tmp_path / "steady.attempts").read_text().split()) == 1


def test_an_unreachable_scheduler_is_an_expected_error_naming_it():
    with pytest.raises(ReportError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        batch.run_on_cluster(["acme"], DEMO_MONTH, "tcp://127.0.0.1:9", connect_timeout=1)


def test_processes_and_a_scheduler_together_are_refused(tmp_path, monkeypatch, capsys):
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "client.yaml").write_text("display_name: Acme\nsource: {path: orders.csv}\n",
                                                  encoding="utf-8")
    monkeypatch.setenv(run_report.SCHEDULER_VARIABLE, "tcp://127.0.0.1:9")  # the variable counts like the option
    code = run_report.main(["--all", "--month", DEMO_MONTH, "--processes", "2", "--clients-dir", str(tmp_path),
                            "--reports-dir", str(tmp_path / "r")])
    assert code == 2
    assert "give one" in capsys.readouterr().err
