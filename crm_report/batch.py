"""Many clients: each report is independent, so clients run one after another, in a pool of warm worker
processes on this machine, or as tasks on a Dask distributed cluster.

A worker (a process of the local pool, or a Dask worker) is *warm*: it imports the report libraries once and
starts one kernel server (`crm_report.kernels`) that forks each report's kernels with their imports already
done, and one warm renderer (`render.PdfServer`) that forks each report's WeasyPrint process with WeasyPrint
already imported, so only the first report of each worker pays those start-up costs. Every report still gets
fresh kernels (a fresh namespace), its own lock, and the atomic publish of `pipeline.run_report`.
"""
from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crm_report.errors import ReportError
from crm_report.paths import CLIENTS_DIR, REPORTS_DIR

if TYPE_CHECKING:
    from crm_report import pipeline

# pipeline (pandas, Jupyter) is imported where a report is built: a pool's fork server preloads it only for
# real reports (`_worker_context`).

Step = Callable[[str, str, int, int], None]
"""Told of every finished step of every client as it happens: (client, step, steps done, steps in all or 0 when
not known)."""

DASK_RETRIES = 1
"""A task that raises outside the report (a worker that cannot start its kernel server, say) is tried once more,
on whichever worker is free. A report's own failure is its Outcome, never retried: it would fail again."""


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
            allow_partial_month: bool = False, warm: bool = False) -> Outcome:
    """`pipeline.run_report`, with any failure turned into an Outcome instead of an exception. `warm` forks the
    report's kernels from this process's kernel server and its PDF render from its warm renderer, both started
    by the first report that asks."""
    from crm_report import pipeline

    start = time.perf_counter()
    try:
        if warm:
            from crm_report import kernels, render

            kernels.start_server()
            render.start_pdf_server()
        folder = pipeline.run_report(client, month, clients_dir=clients_dir, reports_dir=reports_dir, jobs=jobs,
                                     progress=progress, accept_exclusions=accept_exclusions,
                                     allow_partial_month=allow_partial_month)
    except Exception as exc:  # one client's failure must not stop the others
        return _failed(client, month, start, exc)
    return Outcome(client, month, time.perf_counter() - start, report_dir=folder)


def _failed(client: str, month: str, start: float, exc: BaseException) -> Outcome:
    notes = "".join(f" ({note})" for note in getattr(exc, "__notes__", []))
    expected = isinstance(exc, ReportError)
    return Outcome(client, month, time.perf_counter() - start,
                   error=f"{exc}{notes}" if expected else f"{type(exc).__name__}: {exc}{notes}",
                   detail="".join(traceback.format_exception(exc)), bug=not expected)


def run_many(clients: list[str], month: str, *, clients_dir: Path = CLIENTS_DIR, reports_dir: Path = REPORTS_DIR,
             processes: int = 1, notebook_jobs: int = 2, accept_exclusions: bool = False,
             allow_partial_month: bool = False,
             runner: Callable[..., Outcome] | None = None, on_step: Step | None = None) -> list[Outcome]:
    """Reports for `clients`, `processes` at a time (1 = in this process, one after another), one Outcome each,
    in the order given. `on_step` hears of every step of every client as it finishes.

    The pool's workers are warm (see the module's docstring) and live for the whole batch. A worker process
    that dies (killed, out of memory) breaks the whole pool, so every report still waiting in it would fail
    with BrokenProcessPool. Those clients are run again, each in a fresh single-process pool: the others are
    published, and the client whose run kills its worker again gets a FAIL naming that.
    `runner` replaces `run_one` (tests); it takes run_one's arguments but `warm`.
    """
    args = (runner, month, clients_dir, reports_dir, notebook_jobs, accept_exclusions, allow_partial_month)
    if processes <= 1 or len(clients) <= 1:
        return [_work(client, *args, send=_sender(on_step), warm=False) for client in clients]
    context = _worker_context(preload=["crm_report.pipeline", "crm_report.kernels"] if runner is None
                              else [runner.__module__])
    events = context.Queue()
    relay = threading.Thread(target=_relay, args=(events, on_step), daemon=True)
    relay.start()
    outcomes: dict[str, Outcome] = {}
    try:
        with ProcessPoolExecutor(max_workers=min(processes, len(clients)), mp_context=context,
                                 initializer=_start_worker, initargs=(events,)) as pool:
            futures = {pool.submit(_work_in_pool, client, *args): client for client in clients}
            for future in as_completed(futures):
                try:
                    outcomes[futures[future]] = future.result()
                except BrokenProcessPool:
                    pass  # run again below, alone
        for client in [c for c in clients if c not in outcomes]:
            start = time.perf_counter()
            with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_start_worker,
                                     initargs=(events,)) as alone:
                try:
                    outcomes[client] = alone.submit(_work_in_pool, client, *args).result()
                except BrokenProcessPool as exc:
                    outcomes[client] = Outcome(client, month, time.perf_counter() - start,
                                               error="the worker process running this report died twice "
                                                     "(killed or out of memory)", detail=repr(exc))
    finally:
        events.put(None)
        relay.join()
    return [outcomes[c] for c in clients]


def run_on_cluster(clients: list[str], month: str, scheduler: str, *, clients_dir: Path = CLIENTS_DIR,
                   reports_dir: Path = REPORTS_DIR, notebook_jobs: int = 2, accept_exclusions: bool = False,
                   allow_partial_month: bool = False,
                   runner: Callable[..., Outcome] | None = None, on_step: Step | None = None,
                   connect_timeout: float = 30) -> list[Outcome]:
    """Reports for `clients`, each client-month one task on the Dask distributed cluster whose scheduler is at
    `scheduler` ('tcp://host:8786'); one Outcome each, in the order given.

    Every worker must see `clients_dir` and `reports_dir` at the same paths (a shared file system): the report
    is built and published there by the worker, with the lock and atomic publish of a local run. A worker that
    is lost mid-report (killed, out of memory, its machine gone) costs only its client: the scheduler runs that
    task again on another worker, up to `distributed.scheduler.allowed-failures` times (3 by default), and then
    that client gets a FAIL. `on_step` hears of every step, relayed by the scheduler's event log.
    """
    from distributed import Client
    from distributed import as_completed as completed
    from distributed.scheduler import KilledWorker

    try:
        dask_client = Client(scheduler, timeout=connect_timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ReportError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    topic = f"crm-report-{uuid.uuid4().hex}"
    args = (runner, month, clients_dir, reports_dir, notebook_jobs, accept_exclusions, allow_partial_month)
    outcomes: dict[str, Outcome] = {}
    with dask_client:
        if on_step is not None:
            dask_client.subscribe_topic(topic, lambda event: on_step(*event[1]))
        started = time.perf_counter()
        futures = {dask_client.submit(_work_on_dask, client, *args, topic, key=f"report-{client}-{month}-{topic}",
                                      pure=False, retries=DASK_RETRIES): client for client in clients}
        for future in completed(futures):
            client = futures[future]
            try:
                outcomes[client] = future.result()
            except KilledWorker as exc:
                outcomes[client] = Outcome(client, month, time.perf_counter() - started,
                                           error="every Dask worker that ran this report died (killed or out "
                                                 "of memory)", detail=str(exc))
            except Exception as exc:  # the task itself failed twice: not the report, which returns its Outcome
                outcomes[client] = _failed(client, month, started, exc)
        if on_step is not None:
            dask_client.unsubscribe_topic(topic)
    return [outcomes[c] for c in clients]


def _worker_context(preload: list[str]) -> multiprocessing.context.BaseContext:
    """Workers are forked from multiprocessing's fork server: a clean single-threaded parent (this process
    has threads: the relay, the pool's own) that has imported `preload` (the report modules), so each worker
    starts with them imported. The server is started once per process: the first batch's `preload` holds."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    return context


# In the workers ----------------------------------------------------------------------------------------------

_events: Any = None  # the local pool's progress queue, set in each worker process by `_start_worker`


def _start_worker(events: Any) -> None:
    global _events
    _events = events


def _work_in_pool(client: str, *args: Any) -> Outcome:
    return _work(client, *args, send=_events.put, warm=True)


def _work_on_dask(client: str, *args: Any) -> Outcome:
    from distributed import get_worker

    *rest, topic = args
    worker = get_worker()
    return _work(client, *rest, send=lambda event: worker.log_event(topic, list(event)), warm=True)


def _work(client: str, runner: Callable[..., Outcome] | None, month: str, clients_dir: Path, reports_dir: Path,
          jobs: int, accept_exclusions: bool, allow_partial_month: bool, *, send: Callable[[tuple], None] | None,
          warm: bool) -> Outcome:
    """One client in a worker: its steps are sent as (client, step, done, total) while it runs."""
    progress = _counting(client, clients_dir if runner is None else None, send) if send is not None else None
    if runner is None:
        return run_one(client, month, clients_dir, reports_dir, jobs, progress, accept_exclusions=accept_exclusions,
                       allow_partial_month=allow_partial_month, warm=warm)
    return runner(client, month, clients_dir, reports_dir, jobs, progress, accept_exclusions=accept_exclusions,
                  allow_partial_month=allow_partial_month)


def _counting(client: str, clients_dir: Path | None, send: Callable[[tuple], None]) -> pipeline.Progress:
    """A report's `progress` that sends (client, step, steps done, steps in all) for each finished step; in all
    is 0 when unknown (without `clients_dir`, or when the client's configuration cannot be read: the report then
    fails on that and says so)."""
    total = 0
    if clients_dir is not None:
        from crm_report import pipeline

        try:
            total = len(pipeline.report_steps(client, clients_dir))
        except ReportError:
            pass
    done = itertools.count(1)
    return lambda step: send((client, step, next(done), total))


def _sender(on_step: Step | None) -> Callable[[tuple], None] | None:
    return None if on_step is None else (lambda event: on_step(*event))


def _relay(events: Any, on_step: Step | None) -> None:
    """In this process: hand each worker's step events to `on_step` until the batch ends (None)."""
    while (event := events.get()) is not None:
        if on_step is not None:
            on_step(*event)
