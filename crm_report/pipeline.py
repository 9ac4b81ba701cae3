"""One client-month, start to finish: load → notebooks → HTML/PDF → atomic publish.

Everything is written to a staging folder beside the final one and renamed into place only when the whole
report succeeded, so a failed run never touches the previous report for that month. A failed run's folder
is kept as `.<month>-failed` for inspection.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from crm_report import execute, exports, i18n, render, workspace
from crm_report.config import load_config
from crm_report.errors import ReportError
from crm_report.paths import CLIENTS_DIR, REPORTS_DIR
from crm_report.period import parse_month

Progress = Callable[[str], None]


def report_steps(client: str, clients_dir: Path = CLIENTS_DIR) -> list[str]:
    """The names of the steps `run_report` reports through `progress`, in order (for progress bars)."""
    config = load_config(client, clients_dir)
    return ["load", *(p.stem for p in execute.notebook_plan(config)), "render", "publish"]


def run_report(client: str, month: str, *, clients_dir: Path = CLIENTS_DIR, reports_dir: Path = REPORTS_DIR,
               jobs: int = 2, progress: Progress | None = None, accept_exclusions: bool = False,
               allow_partial_month: bool = False) -> Path:
    """Build the report for `client` and `month` ('YYYY-MM'); returns the published report folder.

    `accept_exclusions` goes on when more rows are excluded than the client's threshold allows;
    `allow_partial_month` builds a report labelled partial when the export ends inside the month
    (`period.data_end`) instead of refusing."""
    step = progress or (lambda name: None)
    period = parse_month(month)
    config = load_config(client, clients_dir)
    final = reports_dir / client / str(period)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # --reports-dir names a file, or a folder this user may not write in
        raise ReportError(f"cannot make the report folder {final.parent}: {exc.strerror or exc}") from None
    with run_lock(final):
        recover(final)
        return _run_locked(config, period, final, step, jobs, accept_exclusions, allow_partial_month)


def _run_locked(config, period, final: Path, step: Progress, jobs: int, accept_exclusions: bool,
                allow_partial_month: bool) -> Path:
    client = config.client_id
    staging = Path(tempfile.mkdtemp(prefix=f".{period}-staging-", dir=final.parent))
    plan = execute.notebook_plan(config)
    parameters = {"client": client, "month": str(period), "report_dir": str(staging)}
    try:
        with execute.started_kernels(len(plan)) as kernels:  # they boot while the data is prepared
            # a notebook that cannot run (an analyst's copy without its parameters) stops the run before the load
            staged = execute.stage_notebooks(plan, parameters, staging)
            workspace.prepare(config, period, staging, accept_exclusions=accept_exclusions,
                              allow_partial_month=allow_partial_month)
            workspace.release_memory()  # the kernels need the memory the loaded lines held
            step("load")
            execute.run_staged(staged, parameters, staging, jobs=jobs, kernels=kernels,
                               on_done=lambda source: step(source.stem))
        words = i18n.strings(config.locale, config.currency)  # the exports are written while the PDF renders
        render.render_report(staging, config, str(period), meanwhile=lambda: exports.write_handed_over(staging, words))
        step("render")
        shutil.rmtree(staging / "build" / workspace.PRIVATE_DIR)  # personal data: exports/ only
        publish(staging, final)
        shutil.rmtree(failed_run_folder(final), ignore_errors=True)  # a stale failure of this month
        step("publish")
    except BaseException as exc:
        kept = keep_failed_run(staging, final)
        if kept is not None:
            exc.add_note(f"the failed run's files (executed notebooks, prepared data) are in {kept}")
        raise
    return final


def keep_failed_run(staging: Path, final: Path) -> Path | None:
    """Move a failed run's staging folder to `.<month>-failed` beside the report (replacing an older one),
    so its executed notebooks can be inspected; the published report is never touched."""
    if not staging.exists():
        return None
    shutil.rmtree(staging / "build" / workspace.PRIVATE_DIR, ignore_errors=True)  # no personal data kept
    failed = failed_run_folder(final)
    shutil.rmtree(failed, ignore_errors=True)
    try:
        os.replace(staging, failed)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        return None
    return failed


class RunInProgress(ReportError, RuntimeError):
    """Another run of the same client and month holds its lock."""


@contextlib.contextmanager
def run_lock(final: Path) -> Iterator[None]:
    """One run at a time per client and month: an exclusive lock on `.<month>.lock` beside the report. A
    second run refuses at once (RunInProgress) instead of both saying OK and the last silently winning. The
    operating system releases the lock when the process ends, however it ends."""
    path = final.with_name(f".{final.name}.lock")
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress(f"another run of {final.parent.name} {final.name} is in progress "
                                f"(it holds {path}); wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def recover(final: Path) -> None:
    """Finish what a killed run left (called under `run_lock`, so no other run of this month is alive):
    a run killed between `publish`'s two renames left the report only in `.<month>-previous-<pid>`, which is
    moved back; leftover previous copies beside a published report and staging folders of killed runs (full
    of prepared data) are removed, so they never accumulate."""
    previous = sorted(final.parent.glob(f".{final.name}-previous-*"), key=lambda p: p.stat().st_mtime)
    if previous and not final.exists():
        os.replace(previous.pop(), final)
    for leftover in [*previous, *final.parent.glob(f".{final.name}-staging-*")]:
        shutil.rmtree(leftover, ignore_errors=True)


def failed_run_folder(final: Path) -> Path:
    """Where a failed run of the report in `final` is kept: `.<month>-failed` beside it."""
    return final.with_name(f".{final.name}-failed")


def publish(staging: Path, final: Path) -> None:
    """Replace `final` with `staging` by renames on one file system; the old report is removed last."""
    previous = None
    if final.exists():
        previous = final.with_name(f".{final.name}-previous-{os.getpid()}")
        os.replace(final, previous)
    os.replace(staging, final)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
