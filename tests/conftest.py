"""Shared fixtures: tiny order tables whose right answers are worked out by hand in the tests, and the small demo
reports that the pipeline and layout tests read (built once per run: about two minutes); and how `make test`
shares the suite between two pytest-xdist workers without building any of them twice."""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

DEMO_REPORT_MODULES = ("test_dask.py", "test_layout.py", "test_partial_month.py", "test_pipeline.py")
"""The test modules that read the session fixtures below (`demo_reports`, `demo_clients`): one work unit."""
SLOWEST_FIRST = ("demo reports", "tests/test_equivalence.py", "tests/test_degraded_reports.py",
                 "tests/test_platform_reports.py", "tests/test_faults.py", "tests/test_currency.py",
                 "tests/test_data_quality.py", "tests/test_channels.py")
"""The work units that build reports, slowest first (one serial run, 2026-12: 450, 240, 165, 75, 45 and 35 s
of 1,200 s at load 5-12; test_platform_reports.py, added since: 78 s alone at load 2, where test_currency.py took
34 s with one report of its three now; test_channels.py: two small reports); every other module takes under
40 s. Started first, they do not end the run alone."""


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadfile` as `make test` uses it: each test module is one work unit, so a module-scoped report is
    built once; the modules of DEMO_REPORT_MODULES are one unit, so the session's demo reports are too; and
    the units of SLOWEST_FIRST go out first. (`--dist loadgroup` cannot express this: pytest 9.2 ignores the
    group it writes into the test ids, pytest-xdist issue 1386.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "demo reports" if Path(module).name in DEMO_REPORT_MODULES else module

        def _assign_work_unit(self, node) -> None:
            slowest = min(self.workqueue, key=lambda unit: (SLOWEST_FIRST + (unit,)).index(unit))
            self.workqueue.move_to_end(slowest, last=False)
            super()._assign_work_unit(node)

    return SharedFixtureScheduling(config, log)


@contextlib.contextmanager
def kernels_forked() -> Iterator[None]:
    """Reports built inside run in kernels forked from one kernel server (`crm_report.kernels`), as a batch
    worker's do: the same notebooks, their imports done once instead of in two new kernels per report (about
    half of a small report's time)."""
    from crm_report import execute, kernels

    server = kernels.KernelServer(env={**os.environ, **execute.kernel_spec().env})
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(kernels, "_server", server)
            yield
    finally:
        server.stop()


@pytest.fixture(scope="module")
def forked_kernels():
    """`kernels_forked` for a whole module that builds several reports
    (`pytestmark = pytest.mark.usefixtures("forked_kernels")`); not for modules that test kernels themselves."""
    with kernels_forked():
        yield


class _NoLayout:
    """Stands in for `render.PdfProcess` where only the numbers are compared (results.json, exports): runs
    `meanwhile` (the exports) and writes a placeholder PDF instead of laying out 24 pages (about 7 s a report).
    The real render is tested by every module that reads a PDF."""

    def __init__(self, html_path: Path, pdf_path: Path, root: Path, timeout: float | None = None) -> None:
        self.pdf_path = pdf_path

    def __enter__(self) -> _NoLayout:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def finish(self, meanwhile=None) -> None:
        if meanwhile is not None:
            meanwhile()
        self.pdf_path.write_bytes(b"%PDF-1.7 placeholder of tests/conftest.py::no_pdf_layout\n")


@pytest.fixture(scope="module")
def no_pdf_layout():
    """`_NoLayout` for a whole module whose tests read no PDF and no HTML
    (`pytestmark = pytest.mark.usefixtures("no_pdf_layout")`)."""
    from crm_report import render

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "PdfProcess", _NoLayout)
        yield


def pytest_runtest_setup(item: pytest.Item) -> None:
    """On an xdist worker, a module outside DEMO_REPORT_MODULES that uses a session fixture of this file would
    build the demo reports again on the other worker: its tests fail, saying so."""
    if not hasattr(item.config, "workerinput") or item.path.name in DEMO_REPORT_MODULES:
        return
    info = getattr(item, "_fixtureinfo", None)
    session = [name for name, defs in (info.name2fixturedefs.items() if info else [])
               if defs[-1].scope == "session" and defs[-1].func.__module__ == __name__]
    if session:
        pytest.fail(f"{item.nodeid} uses {', '.join(session)}: add {item.path.name} to DEMO_REPORT_MODULES in "
                    f"tests/conftest.py, so that the demo reports are built once", pytrace=False)


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEMO_MONTH = "2026-10"
DEMO_PREVIOUS = "2026-09"


def make_lines(rows: list[tuple]) -> pd.DataFrame:
    """Canonical order lines from (order_id, customer_id, 'YYYY-MM-DD', amount, status[, product_name])."""
    records = []
    for row in rows:
        order_id, customer_id, day, amount, status, *rest = row
        records.append({"order_id": order_id, "customer_id": customer_id, "order_date": pd.Timestamp(day),
                        "amount": float(amount), "status": status, "product_name": rest[0] if rest else "X"})
    return pd.DataFrame(records)


def straddling(lines: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The lines of the orders with a line at or before `cutoff` and a line after it: what
    `workspace.read_lines(straddling=)` reads, in pandas, for the tests to compare with."""
    on = {side: lines.loc[mask, "order_id"] for side, mask in
          (("before", lines["order_date"].le(cutoff)), ("after", lines["order_date"].gt(cutoff)))}
    return lines.loc[lines["order_id"].isin(on["before"]) & lines["order_id"].isin(on["after"])]


@pytest.fixture
def march_lines() -> pd.DataFrame:
    """The hand-computed example used across metric tests; report month 2026-03.

    A: 2025-12-10 100, 2026-01-15 200, 2026-03-05 300 (two lines: 維他命 200 + 魚油 100)
    B: 2026-01-20 50, 2026-03-20 150
    C: 2026-03-02 80 and another order the same day 20 (split basket)
    D: 2026-02-10 500
    E: 2025-03-15 120, 2026-03-25 60
    F: 2026-03-28 90 cancelled (never a purchase)
    G: 2026-04-02 70 (after the report month)
    H: 2026-02-27 40 refunded, 2026-03-10 110
    """
    return make_lines([
        ("o1", "A", "2025-12-10", 100, "paid", "維他命"),
        ("o2", "A", "2026-01-15", 200, "paid", "維他命"),
        ("o3", "A", "2026-03-05", 200, "paid", "維他命"),
        ("o3", "A", "2026-03-05", 100, "paid", "魚油"),
        ("o4", "B", "2026-01-20", 50, "paid", "益生菌"),
        ("o5", "B", "2026-03-20", 150, "paid", "益生菌"),
        ("o6", "C", "2026-03-02", 80, "paid", "葉黃素"),
        ("o7", "C", "2026-03-02", 20, "paid", "魚油"),
        ("o8", "D", "2026-02-10", 500, "paid", "膠原蛋白"),
        ("o9", "E", "2025-03-15", 120, "paid", "維他命"),
        ("o10", "E", "2026-03-25", 60, "paid", "維他命"),
        ("o11", "F", "2026-03-28", 90, "cancelled", "魚油"),
        ("o12", "G", "2026-04-02", 70, "paid", "魚油"),
        ("o13", "H", "2026-02-27", 40, "refunded", "葉黃素"),
        ("o14", "H", "2026-03-10", 110, "paid", "葉黃素"),
    ])


@pytest.fixture
def march() -> pd.Period:
    return pd.Period("2026-03", freq="M")


@pytest.fixture(scope="session")
def demo_clients(tmp_path_factory):
    """Small copies of two demo clients (zh-TW and en) with generated data."""
    # imported here: the pipeline brings papermill and Jupyter, which most test modules never need
    from crm_report.data.demo import generate_orders
    from crm_report.paths import CLIENTS_DIR

    root = tmp_path_factory.mktemp("clients")
    for client in ("demo-supplements", "demo-apparel"):
        folder = root / client
        folder.mkdir()
        for name in ("client.yaml", "logo.svg"):
            shutil.copy(CLIENTS_DIR / client / name, folder / name)
        (folder / "data").mkdir()
        generate_orders(client, DEMO_MONTH, scale=0.06).to_parquet(folder / "data" / "orders.parquet")
    return root


@pytest.fixture(scope="session")
def demo_reports(demo_clients, tmp_path_factory):
    """Supplements for two consecutive months (the second evaluates the first's win-back list), apparel once.

    Built once per test run, with kernels forked from one server: the pipeline and layout tests read them, and
    must not change them."""
    out = tmp_path_factory.mktemp("reports")
    with kernels_forked():
        _build_demo_reports(demo_clients, out)
    return out


def _build_demo_reports(demo_clients: Path, out: Path) -> None:
    from crm_report import pipeline
    from crm_report.data.demo import simulate_campaign
    from crm_report.metrics.campaign import SENT_DIR, TARGETS_FILE, load_targets
    from crm_report.metrics.winback import GROUPS

    pipeline.run_report("demo-supplements", DEMO_PREVIOUS, clients_dir=demo_clients, reports_dir=out)
    # the list answered: every contacted customer of every group places an extra order with chance 0.5
    targets = load_targets(out / "demo-supplements" / DEMO_PREVIOUS / TARGETS_FILE)
    data = demo_clients / "demo-supplements" / "data" / "orders.parquet"
    orders, log = simulate_campaign(pd.read_parquet(data), targets, DEMO_PREVIOUS, dict.fromkeys(GROUPS, 0.5))
    orders.to_parquet(data, index=False)
    (demo_clients / "demo-supplements" / SENT_DIR).mkdir(exist_ok=True)
    log.to_csv(demo_clients / "demo-supplements" / SENT_DIR / f"{DEMO_PREVIOUS}.csv", index=False)
    for client in ("demo-supplements", "demo-apparel"):
        pipeline.run_report(client, DEMO_MONTH, clients_dir=demo_clients, reports_dir=out)
