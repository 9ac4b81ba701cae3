"""Batch throughput: N demo-sized clients, four ways, in one run (issue 13, goals 5 and 6).

    .venv/bin/python bench/batch.py [--clients 20] [--month 2026-10] [--phases single,processes,dask1,dask2]

1. single:    `run_report.py --client X` once per client, one after another (each run pays its start-up);
2. processes: `run_report.py --all --processes 2` (warm workers: imports and kernel server once per worker);
3. dask1:     `run_report.py --all --scheduler tcp://…` against `dask scheduler` + one `dask worker --nthreads 1`;
4. dask2:     the same with two such workers.

The clients are copies of the three demo clients (demo generator at scale 1, round-robin) in a temporary
folder. For each phase: wall seconds of the command(s), clients per minute, and CPU seconds of every process
involved: this process is a child subreaper, so every descendant (the CLI, its workers and their fork server,
kernel servers and kernels, WeasyPrint; for Dask the scheduler and workers, stopped at the end of their phase)
is reaped here and counted. Prints the ratios between phases of this run.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMOS = ("demo-supplements", "demo-skincare", "demo-apparel")
PHASES = ("single", "processes", "dask1", "dask2")


def make_clients(folder: Path, count: int, month: str) -> list[str]:
    """`count` client folders, copies of the demo clients with their generated data."""
    source = folder / "demo"
    for demo in DEMOS:
        (source / demo).mkdir(parents=True)
        for name in ("client.yaml", "logo.svg"):
            shutil.copy(ROOT / "clients" / demo / name, source / demo / name)
    subprocess.run([sys.executable, "-m", "crm_report.data.demo", "--clients-dir", str(source), "--end-month", month],
                   check=True, capture_output=True, cwd=ROOT)
    clients = []
    for index in range(count):
        client = f"client-{index + 1:02d}"
        shutil.copytree(source / DEMOS[index % len(DEMOS)], folder / "clients" / client)
        clients.append(client)
    return clients


def _become_subreaper() -> None:
    """Processes orphaned below this one (multiprocessing's fork server and its workers, kernel servers, Dask's
    worker processes) are re-parented here instead of to init, so `_reap_orphans` can wait for them and
    their CPU time counts in this process's RUSAGE_CHILDREN (Linux prctl PR_SET_CHILD_SUBREAPER)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _reap_orphans(timeout: float = 120) -> None:
    """Wait until every process below this one has ended and been reaped."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                raise SystemExit("processes of the last phase are still running; their CPU would be missed")
            time.sleep(0.1)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _report_cmd(folder: Path, month: str, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "run_report.py"), "--month", month, "--clients-dir", str(folder / "clients"),
            "--reports-dir", str(folder / "reports"), *extra]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n"
                         f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dask(folder: Path, month: str, workers: int) -> float:
    """Start a scheduler and `workers` single-threaded workers (as a firm would, README), wait until they have
    joined, then time the batch alone; the cluster is stopped (and its CPU reaped) afterwards."""
    from distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    address = f"tcp://127.0.0.1:{_free_port()}"
    started = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                 "--no-dashboard"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for index in range(workers):
            started.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--nworkers", "1",
                                             "--no-dashboard", "--name", f"bench-{index}"], cwd=ROOT,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout=120) as client:
            client.wait_for_workers(workers, timeout=300)
        start = time.perf_counter()
        _run(_report_cmd(folder, month, "--all", "--scheduler", address))
        return time.perf_counter() - start
    finally:
        for process in reversed(started):
            process.send_signal(signal.SIGINT)
        for process in reversed(started):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def run_phase(phase: str, folder: Path, clients: list[str], month: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one phase, on a fresh reports folder."""
    shutil.rmtree(folder / "reports", ignore_errors=True)
    cpu = _children_cpu()
    start = time.perf_counter()
    if phase == "single":
        for client in clients:
            _run(_report_cmd(folder, month, "--client", client))
        wall = time.perf_counter() - start
    elif phase == "processes":
        _run(_report_cmd(folder, month, "--all", "--processes", "2"))
        wall = time.perf_counter() - start
    else:
        wall = _dask(folder, month, workers=int(phase[-1]))
    _reap_orphans()
    published = sorted(p.parent.parent.name for p in (folder / "reports").glob(f"*/{month}/report.pdf"))
    if published != sorted(clients):
        raise SystemExit(f"{phase}: published {len(published)} of {len(clients)} reports")
    return wall, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--phases", default=",".join(PHASES))
    args = parser.parse_args()
    phases = args.phases.split(",")
    _become_subreaper()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as scratch:
        folder = Path(scratch)
        clients = make_clients(folder, args.clients, args.month)
        print(f"{len(clients)} demo-sized clients, {args.month}; load average {os.getloadavg()[0]:.1f} at start",
              flush=True)
        results = {}
        for phase in phases:
            wall, cpu = run_phase(phase, folder, clients, args.month)
            results[phase] = wall
            print(f"{phase:<10} {wall:7.1f} s wall  {60 * len(clients) / wall:5.2f} clients/min  "
                  f"{cpu:7.1f} s CPU ({cpu / len(clients):.1f} s per report)  "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
        if {"single", "processes"} <= results.keys():
            print(f"throughput --processes 2 (warm) / single runs: {results['single'] / results['processes']:.2f}")
        if {"dask1", "dask2"} <= results.keys():
            print(f"throughput Dask 2 workers / 1 worker: {results['dask1'] / results['dask2']:.2f}")


if __name__ == "__main__":
    main()
