"""Many clients: each report is independent, so clients run one after another or in a process pool."""
from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from crm_report import pipeline
from crm_report.errors import ReportError
from crm_report.paths import CLIENTS_DIR, REPORTS_DIR


@dataclass(frozen=True)
class Outcome:
    """How one client's report went: its folder, or the error that stopped it. `error` is one line (the
    message of an expected error, a `ReportError`; the type and message of a bug); `detail` is its traceback;
    `bug` says the failure was not an expected error, so its traceback is shown."""

    client: str
    month: str
    seconds: float
    report_dir: Path | None = None
    error: str | None = None
    detail: str | None = None
    bug: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def run_one(client: str, month: str, clients_dir: Path = CLIENTS_DIR, reports_dir: Path = REPORTS_DIR,
            jobs: int = 2, progress: pipeline.Progress | None = None, *, accept_exclusions: bool = False,
            allow_partial_month: bool = False) -> Outcome:
    """`pipeline.run_report`, with any failure turned into an Outcome instead of an exception."""
    start = time.perf_counter()
    try:
        folder = pipeline.run_report(client, month, clients_dir=clients_dir, reports_dir=reports_dir, jobs=jobs,
                                     progress=progress, accept_exclusions=accept_exclusions,
                                     allow_partial_month=allow_partial_month)
    except Exception as exc:  # one client's failure must not stop the others
        notes = "".join(f" ({note})" for note in getattr(exc, "__notes__", []))
        expected = isinstance(exc, ReportError)
        return Outcome(client, month, time.perf_counter() - start,
                       error=f"{exc}{notes}" if expected else f"{type(exc).__name__}: {exc}{notes}",
                       detail=traceback.format_exc(), bug=not expected)
    return Outcome(client, month, time.perf_counter() - start, report_dir=folder)


def run_many(clients: list[str], month: str, *, clients_dir: Path = CLIENTS_DIR, reports_dir: Path = REPORTS_DIR,
             processes: int = 1, notebook_jobs: int = 2, accept_exclusions: bool = False,
             allow_partial_month: bool = False, runner: Callable[..., Outcome] | None = None) -> list[Outcome]:
    """Reports for `clients`, `processes` at a time (1 = in this process, one after another), one Outcome each,
    in the order given.

    A worker process that dies (killed, out of memory) breaks the whole pool, so every report still waiting
    in it would fail with BrokenProcessPool. Those clients are run again, each in a fresh single-process pool:
    the others are published, and the client whose run kills its worker again gets a FAIL naming that.
    `runner` replaces `run_one` (tests).
    """
    runner = runner or run_one
    args = (month, clients_dir, reports_dir, notebook_jobs)
    flags = {"accept_exclusions": accept_exclusions, "allow_partial_month": allow_partial_month}
    if processes <= 1 or len(clients) <= 1:
        return [runner(c, *args, **flags) for c in clients]
    outcomes: dict[str, Outcome] = {}
    with ProcessPoolExecutor(max_workers=processes) as pool:
        futures = {c: pool.submit(runner, c, *args, **flags) for c in clients}
        for client, future in futures.items():
            try:
                outcomes[client] = future.result()
            except BrokenProcessPool:
                pass  # run again below, alone
    for client in [c for c in clients if c not in outcomes]:
        start = time.perf_counter()
        with ProcessPoolExecutor(max_workers=1) as alone:
            try:
                outcomes[client] = alone.submit(runner, client, *args, **flags).result()
            except BrokenProcessPool as exc:
                outcomes[client] = Outcome(client, month, time.perf_counter() - start,
                                           error="the worker process running this report died twice "
                                                 "(killed or out of memory)", detail=repr(exc))
    return [outcomes[c] for c in clients]
