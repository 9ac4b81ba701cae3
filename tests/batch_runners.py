"""Stand-ins for `batch.run_one` that batch tests hand to worker processes (a pool's or Dask's). Kept in a module
that imports nothing heavy: each worker process imports it."""
from __future__ import annotations

import os
import time
from pathlib import Path

from crm_report.batch import Outcome

STEPS = ("load", "01_customers", "02_segments", "render", "publish")


def killer(client, month, clients_dir, reports_dir, jobs, progress=None, *, accept_exclusions=False,
           allow_partial_month=False):
    """'killer' kills its worker process the way the OOM killer would; the others take 0.2 s."""
    if client == "killer":
        os._exit(9)
    time.sleep(0.2)
    return Outcome(client, month, 0.2, report_dir=reports_dir / client / month)


def stepper(client, month, clients_dir, reports_dir, jobs, progress=None, *, accept_exclusions=False,
           allow_partial_month=False):
    """Reports every step; 'waits' finishes only once the batch's caller has seen 'first' load, which it can
    see only if steps reach it while the clients still run (clients_dir is a scratch folder here)."""
    for step in STEPS:
        if client == "waits" and step == "publish":
            seen = Path(clients_dir) / "first-load-seen"
            deadline = time.monotonic() + 60
            while not seen.exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("the caller never saw the other client's first step")
                time.sleep(0.05)
        progress(step)
    return Outcome(client, month, 0.0, report_dir=reports_dir / client / month)


def dies_once(client, month, clients_dir, reports_dir, jobs, progress=None, *, accept_exclusions=False,
           allow_partial_month=False):
    """Logs each attempt in clients_dir/<client>.attempts; 'flaky' kills its worker on the first attempt."""
    attempts = Path(clients_dir) / f"{client}.attempts"
    with attempts.open("a") as log:
        log.write(f"{os.getpid()}\n")
    if client == "flaky" and len(attempts.read_text().split()) == 1:
        os._exit(9)
    progress("publish")
    return Outcome(client, month, 0.0, report_dir=reports_dir / client / month)
