#!/usr/bin/env python
"""The consultant's door: build monthly retention reports.

    python run_report.py --client demo-supplements --month 2026-10
    python run_report.py --all                # every client, last month over in every client's time zone
    python run_report.py --list
    python run_report.py --client acme --check-data   # load and validate the data only
    python run_report.py --all --processes 2          # two clients at a time on this machine
    python run_report.py --all --scheduler tcp://10.0.0.5:8786   # every client as a task on a Dask cluster
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

_VENV_PYTHON = Path(__file__).resolve().parent / ".venv" / "bin" / "python"
if __name__ == "__main__" and _VENV_PYTHON.exists() and Path(sys.prefix).resolve() != _VENV_PYTHON.parents[1].resolve():
    # `python run_report.py …` with any interpreter runs in the project's environment (made by `make setup`).
    os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), *sys.argv])

import argparse  # noqa: E402
import logging  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

from crm_report.config import ConfigError, list_clients, load_config  # noqa: E402
from crm_report.errors import ReportError  # noqa: E402
from crm_report.paths import CLIENTS_DIR, PROJECT_ROOT, REPORTS_DIR  # noqa: E402

if TYPE_CHECKING:
    from crm_report import batch
    from crm_report.batch import Outcome

SCHEDULER_VARIABLE = "CRM_REPORT_SCHEDULER"

# The report modules (papermill, WeasyPrint, matplotlib; pandas through crm_report.period) are imported only
# when a report is built, so `--list` and `--check-data` start in a fraction of the time
# (tests/test_startup.py holds them to that).


def main(argv: list[str] | None = None) -> int:
    """0 when everything asked for worked; 1 when a report or check failed; 2 for arguments that cannot work.
    An expected error (`ReportError`: config, data, render, a run in progress) is printed as one line; any
    other exception is a bug and keeps its traceback."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    clients_dir, reports_dir = Path(args.clients_dir), Path(args.reports_dir)
    if args.list:
        return _list(clients_dir)
    clients = list_clients(clients_dir) if args.all else [args.client]
    if not clients:
        print(f"error: no clients in {clients_dir} (each needs a client.yaml)", file=sys.stderr)
        return 2
    if args.check_data:
        return _check_data(clients, clients_dir)
    from crm_report.period import parse_month, report_months

    complete, latest = report_months(zone for client in clients if (zone := _timezone(client, clients_dir)))
    try:
        month = str(parse_month(args.month) if args.month is not None else complete)
    except ValueError as exc:
        print(f"error: --month: {exc}", file=sys.stderr)
        return 2
    if args.month is None and latest - 1 > complete:  # the clients' zones are in different months
        print(f"note: {complete} by default: {latest - 1} is not over yet in the time zone of every client "
              f"(give --month {latest - 1} for the clients where it is)", file=sys.stderr)
    if parse_month(month) > latest:
        print(f"error: --month: {month} has not begun yet; the last complete month is {complete}", file=sys.stderr)
        return 2

    from crm_report import batch

    scheduler = args.scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
    if scheduler and args.processes > 1:
        print("error: --processes runs clients on this machine and --scheduler on a Dask cluster; give one",
              file=sys.stderr)
        return 2
    if scheduler:
        print(f"{len(clients)} client(s) on the Dask cluster at {scheduler} ...", flush=True)
        outcomes = batch.run_on_cluster(clients, month, scheduler, clients_dir=clients_dir, reports_dir=reports_dir,
                                        notebook_jobs=args.jobs, accept_exclusions=args.accept_exclusions,
                                        allow_partial_month=args.allow_partial_month, on_step=_print_step(month))
    elif args.processes > 1 and len(clients) > 1:
        print(f"{len(clients)} clients, {args.processes} at a time ...", flush=True)
        outcomes = batch.run_many(clients, month, clients_dir=clients_dir, reports_dir=reports_dir,
                                  processes=args.processes, notebook_jobs=args.jobs,
                                  accept_exclusions=args.accept_exclusions,
                                  allow_partial_month=args.allow_partial_month, on_step=_print_step(month))
    else:
        outcomes = [_run_with_progress(c, month, clients_dir, reports_dir, args.jobs, args.accept_exclusions,
                                       args.allow_partial_month) for c in clients]
    print()
    for outcome in outcomes:
        if outcome.ok:
            if outcome.report_dir is None:  # batch.run_one gives the folder whenever there is no error
                raise RuntimeError(f"{outcome.client}: the report succeeded but its folder is unknown (a bug)")
            pdf = outcome.report_dir / "report.pdf"
            print(f"OK    {outcome.client:<24} {month}  {_display(pdf)}  ({outcome.seconds:.1f} s)")
        else:
            print(f"FAIL  {outcome.client:<24} {month}  {outcome.error}")
            if outcome.bug:
                print(f"{outcome.client}: a bug in crm_report, not a problem of the client's data or "
                      f"configuration; please report it with this traceback:", file=sys.stderr)
            if outcome.detail and (args.verbose or outcome.bug):
                print(outcome.detail, file=sys.stderr)
    return 0 if all(o.ok for o in outcomes) else 1


def _timezone(client: str, clients_dir: Path) -> str | None:
    """The client's `timezone`; None when its client.yaml cannot be loaded: its own run then fails saying why
    (a bug in loading it too: that client's run reports it, as a batch confines it to that client)."""
    try:
        return load_config(client, clients_dir).timezone
    except Exception:  # reported by the client's run, not here
        return None


def _run_with_progress(client: str, month: str, clients_dir: Path, reports_dir: Path, jobs: int,
                       accept_exclusions: bool = False, allow_partial_month: bool = False) -> Outcome:
    from tqdm import tqdm

    from crm_report import batch, pipeline

    try:
        steps = pipeline.report_steps(client, clients_dir)
    except ConfigError as exc:
        return batch.Outcome(client, month, 0.0, error=str(exc))
    with tqdm(total=len(steps), desc=f"{client} {month}", unit="step", leave=True,
              bar_format="{desc:<32} {bar:20} {n_fmt}/{total_fmt} {postfix}") as bar:
        bar.set_postfix_str(steps[0], refresh=False)
        def progress(done: str) -> None:  # notebooks may finish in any order: name what is still to come
            remaining.remove(done)
            bar.set_postfix_str(", ".join(remaining[:2]), refresh=False)
            bar.update(1)
        remaining = list(steps)
        return batch.run_one(client, month, clients_dir, reports_dir, jobs, progress,
                             accept_exclusions=accept_exclusions, allow_partial_month=allow_partial_month)


def _print_step(month: str) -> batch.Step:
    """Progress of clients running side by side: one line per finished step, as it happens."""
    width = 0

    def step(client: str, name: str, done: int, total: int) -> None:
        nonlocal width
        width = max(width, len(client))
        print(f"  {client:<{width}} {month}  {done}/{total or '?'}  {name}", flush=True)
    return step


def _list(clients_dir: Path) -> int:
    ids = list_clients(clients_dir)
    if not ids:
        print(f"no clients in {clients_dir}")
    invalid = 0
    for client in ids:
        try:
            config = load_config(client, clients_dir)
            print(f"{client:<24} {config.display_name}  ({config.locale}, {config.source.describe()})")
        except ConfigError as exc:
            print(f"{client:<24} INVALID: {exc}")
            invalid += 1
    return 1 if invalid else 0  # a scheduled `--list` check must notice a broken client.yaml


def _check_data(clients: list[str], clients_dir: Path) -> int:
    """Load and validate each client's data only; print what was found. 0 when every client's data can be
    used for a report, 1 otherwise."""
    from crm_report import i18n
    from crm_report.data.check import check_report
    from crm_report.data.load import load_orders

    usable = []
    for client in clients:
        try:
            config = load_config(client, clients_dir)
        except ConfigError as exc:
            print(f"{client}: {exc}\n")
            usable.append(False)
            continue
        try:
            text, ok = check_report(config, load_orders(config), i18n.strings(config.locale))
        except ReportError as exc:  # a DataError, or a ConfigError only the loader finds (a path in source.url)
            text, ok = check_report(config, None, i18n.strings(config.locale), error=exc)
        print(text + "\n")
        usable.append(ok)
    return 0 if usable and all(usable) else 1


def _display(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Build monthly customer-retention reports (PDF + HTML).")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--client", help="client id (a folder in clients/)")
    which.add_argument("--all", action="store_true", help="every client in clients/")
    which.add_argument("--list", action="store_true", help="list the clients and stop")
    parser.add_argument("--month", help="report month YYYY-MM (default: the last month over in the time "
                                            "zone of every client run)")
    parser.add_argument("--check-data", action="store_true",
                        help="load and validate the client's data only: print the columns matched to fields, "
                             "rows, customers, dates, problems and suggested mappings")
    parser.add_argument("--accept-exclusions", action="store_true",
                        help="build the report even when more rows are excluded than the client's "
                             "source.max_excluded_share allows (the data-quality appendix says so)")
    parser.add_argument("--allow-partial-month", action="store_true",
                        help="build the report even when the data end before the month does: every comparison "
                             "is labelled partial and page 1 says to which day the data run")
    parser.add_argument("--jobs", type=_at_least_one, default=2, help="notebooks run at once per report (default 2)")
    parser.add_argument("--processes", type=_at_least_one, default=1,
                        help="clients run at once with --all (default 1: each report already uses --jobs cores)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="run each client as a task on this Dask distributed scheduler (default: the "
                             f"{SCHEDULER_VARIABLE} environment variable; unset: on this machine)")
    parser.add_argument("--clients-dir", default=str(CLIENTS_DIR), help=argparse.SUPPRESS)
    parser.add_argument("--reports-dir", default=str(REPORTS_DIR), help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true", help="print full tracebacks of failures")
    return parser


def _at_least_one(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return int(text)


if __name__ == "__main__":
    sys.exit(main())
