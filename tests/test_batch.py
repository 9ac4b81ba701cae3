"""Issue 13, goal 5: warm batch workers. Each worker forks its reports' kernels from a kernel server that has
imported what the notebooks import (fresh kernels, nothing shared between clients), and the steps of clients
running side by side reach the caller as they happen."""
from __future__ import annotations

import asyncio
import os

import pytest

from crm_report import batch, kernels
from tests import batch_runners


def test_the_kernel_server_imports_what_the_notebooks_import(tmp_path):
    (tmp_path / "01_a.py").write_text("# %%\nimport json, os.path\nfrom crm_report import charts, period\n"
                                      "from crm_report.metrics import rfm as r\n", encoding="utf-8")
    (tmp_path / "02_b.py").write_text("# %%\nfrom crm_report.period import as_of\nimport json\n"
                                      "from . import nothing\n", encoding="utf-8")
    (tmp_path / "scratch.py").write_text("import tkinter\n", encoding="utf-8")  # not a report notebook
    assert kernels.notebook_imports(tmp_path) == [
        "json", "os.path", "crm_report", "crm_report.charts", "crm_report.period", "crm_report.metrics",
        "crm_report.metrics.rfm", "crm_report.period.as_of"]


def test_a_name_that_is_not_a_module_is_skipped_but_a_broken_module_is_not(tmp_path, monkeypatch):
    kernels.preload(["crm_report.period.as_of", "json"])  # as_of is a function: nothing to import
    (tmp_path / "broken_for_preload.py").write_text("import no_such_module_anywhere\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="no_such_module_anywhere"):
        kernels.preload(["broken_for_preload"])


async def _printed(manager, code: str) -> str:
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=120)
        text: list[str] = []
        await client.execute_interactive(code, timeout=120, output_hook=lambda msg: text.append(
            msg["content"].get("text", "") if msg["msg_type"] == "stream" else ""))
        return "".join(text).strip()
    finally:
        client.stop_channels()


def test_forked_kernels_are_fresh_processes_with_the_imports_done(monkeypatch):
    """Two kernels of one worker: both children of the kernel server, pandas and crm_report already imported
    before their first cell, and what one defines the other cannot see. Both are gone after the report."""
    from crm_report import execute

    server = kernels.KernelServer(env={**os.environ, **execute.kernel_spec().env})
    monkeypatch.setattr(kernels, "_server", server)
    try:
        with execute.started_kernels(2) as (first, second):
            pids = [m.provisioner.pid for m in (first, second)]
            probe = "import os, sys; print(os.getppid(), 'pandas' in sys.modules, 'crm_report.workspace' in sys.modules)"
            assert asyncio.run(_printed(first, f"{probe}\nclient_secret = 42")) == f"{server.pid} True True"
            assert asyncio.run(_printed(second, f"{probe}\nprint('client_secret' in dir())")) == \
                f"{server.pid} True True\nFalse"
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        server.stop()
    assert not server.alive()


def test_steps_reach_the_caller_while_clients_still_run(tmp_path):
    """`--processes` was silent until the end. Now every step of every client reaches `on_step` as it happens:
    'waits' cannot finish before the caller has seen the first step of 'first'."""
    seen: list[tuple] = []

    def on_step(client, step, done, total):
        seen.append((client, step, done))
        if (client, step) == ("first", "load"):
            (tmp_path / "first-load-seen").touch()

    outcomes = batch.run_many(["waits", "first"], "2026-10", clients_dir=tmp_path, reports_dir=tmp_path / "r",
                              processes=2, runner=batch_runners.stepper, on_step=on_step)
    assert [o.ok for o in outcomes] == [True, True], [o.error for o in outcomes]
    for client in ("waits", "first"):
        assert [(step, done) for c, step, done in seen if c == client] == \
            [(step, n) for n, step in enumerate(batch_runners.STEPS, 1)]
    assert seen.index(("first", "load", 1)) < seen.index(("waits", "publish", 5))
