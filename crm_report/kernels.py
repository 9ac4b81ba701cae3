"""Warm report kernels for batch workers: each kernel is a fresh process forked from one that has already
imported what the notebooks import.

A report kernel normally starts as a new Python process that imports ipykernel, then pandas, matplotlib,
scikit-learn, scipy and crm_report when the notebook's first cell runs: 2–4 s of CPU for each of a report's
two kernels. A batch worker (`batch.run_many`, a Dask worker) instead starts one *kernel server* once: a child
process (`python -m crm_report.kernels`) that imports ipykernel and every module the default notebooks import,
then waits. For each kernel a report needs it forks: the new process runs ipykernel exactly as
`python -m ipykernel_launcher -f CONNECTION_FILE …` would, with the report's environment, and its imports are
already done. The server itself never runs a notebook or sees client data, and every kernel serves one report
and is then killed, so each report still gets a fresh namespace: nothing one client's notebook did can reach
another's.

Lifetimes: the server exits when the worker that started it goes away (its standard input closes); a kernel
exits when the server goes away (ipykernel's parent poller watches the server's pid) or when the report is
done with it (`execute.started_kernels` kills it).
"""
from __future__ import annotations

import ast
import atexit
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crm_report.paths import NOTEBOOKS_DIR

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager

from jupyter_client.provisioning import LocalProvisioner

_LAUNCHER = ["-m", "ipykernel_launcher"]


def notebook_imports(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[str]:
    """The modules the default notebooks import (their `import` and `from … import` statements, in order,
    each once); a `from package import name` counts `package.name` when that is a module."""
    modules: list[str] = []
    for source in sorted(notebooks_dir.glob("[0-9][0-9]_*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), filename=str(source))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            modules.extend(name for name in names if name not in modules)
    return modules


def preload(modules: list[str]) -> None:
    """Import `modules`; a `package.name` that is an attribute rather than a module is skipped."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but one of its own imports is missing: a real error
                raise


class KernelServer:
    """The worker's side of the kernel server: starts it, asks it for kernels, stops it."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", "crm_report.kernels"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, env=env, text=True)
        self._lock = threading.Lock()  # a report starts its kernels from several threads
        assert self._process.stdin is not None and self._process.stdout is not None  # both are PIPE
        self._stdin, self._stdout = self._process.stdin, self._process.stdout
        ready = self._stdout.readline()
        if ready.strip() != "ready":
            self.stop()
            raise RuntimeError(f"the kernel server did not start (it said {ready!r})")

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def fork_kernel(self, args: list[str], env: dict[str, str], cwd: str | None) -> int:
        """A new kernel process running `ipykernel_launcher args` with `env` in `cwd`; returns its pid."""
        request = json.dumps({"args": args, "env": env, "cwd": cwd})
        with self._lock:
            self._stdin.write(request + "\n")
            self._stdin.flush()
            reply = self._stdout.readline()
        if not reply.strip().isdigit():
            raise RuntimeError(f"the kernel server could not start a kernel (it said {reply!r})")
        return int(reply)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._stdin.close()  # the server exits at the end of its input
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


_server: KernelServer | None = None
_starting = threading.Lock()


def start_server() -> KernelServer:
    """Start this process's kernel server (once); report kernels started in this process are then forked
    from it (`execute.started_kernels`). It is stopped when this process exits."""
    global _server
    with _starting:  # two threads of a Dask worker may start their first reports at once
        if _server is None or not _server.alive():
            from crm_report import execute

            spec_env = execute.kernel_spec().env  # MPLBACKEND=agg must be in place before matplotlib is imported
            _server = KernelServer(env={**os.environ, **spec_env})
            atexit.register(_server.stop)
        return _server


def running_server() -> KernelServer | None:
    """This process's kernel server, when `start_server` started one and it still runs."""
    return _server if _server is not None and _server.alive() else None


def fork_from_server(managers: list[AsyncKernelManager]) -> None:
    """Have these not yet started kernel managers fork their kernels from this process's kernel server, when
    it runs one (otherwise they start new processes, as usual)."""
    server = running_server()
    if server is None:
        return
    for manager in managers:
        manager.kernel_id = manager.kernel_id or str(uuid.uuid4())
        manager.provisioner = ForkedKernelProvisioner(kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec,
                                                      parent=manager)
        manager.provisioner.server = server


class _ForkedKernel:
    """The `subprocess.Popen` surface jupyter_client's LocalProvisioner uses, for a kernel that is not this
    process's child (the server forked it and reaps it). Linux pidfds make the pid safe against reuse."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._fd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):  # not Linux ≥ 5.3, or already gone
            self._fd = None

    def poll(self) -> int | None:
        if self.returncode is None:
            if self._fd is not None:
                ended = bool(select.select([self._fd], [], [], 0)[0])
            else:
                try:
                    os.kill(self.pid, 0)
                    ended = False
                except ProcessLookupError:
                    ended = True
            if ended:
                self.returncode = 0  # the server reaped it; its status is not ours to know
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0.0)
            time.sleep(0.05)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkedKernelProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, except that the kernel process comes from the kernel server."""

    server: KernelServer | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        if self.server is None or not self.server.alive() or cmd[:3] != [sys.executable, *_LAUNCHER]:
            return await super().launch_kernel(cmd, **kwargs)  # a kernel the server cannot stand in for
        cwd = kwargs.get("cwd")
        pid = self.server.fork_kernel(cmd[3:], dict(kwargs.get("env") or os.environ), str(cwd) if cwd else None)
        # jupyter_client types these as Popen / None; a forked kernel is Popen-like (`_ForkedKernel`)
        self.process = _ForkedKernel(pid)  # type: ignore[assignment]
        self.pid = self.pgid = pid  # type: ignore[assignment]  # the kernel leads its own session, as Popen's would
        self.cwd = cwd or Path.cwd()  # type: ignore[assignment]
        return self.connection_info


# The server process ------------------------------------------------------------------------------------------


def _serve() -> None:
    """Import, say `ready`, then fork one kernel per request line until standard input ends."""
    requests = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # kernels must not read the requests or write into the replies
    os.dup2(2, 1)
    os.close(devnull)
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]  # as ipykernel_launcher does; ipykernel adds it back for the notebook
    import ipykernel.kernelapp  # noqa: F401  (imported here, before any fork, so each kernel has it)

    preload(notebook_imports())
    signal.signal(signal.SIGCHLD, _reap)
    replies.write("ready\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            requests.close()
            replies.close()
            _run_kernel(request["args"], request["env"], request["cwd"], server=os.getppid())
        replies.write(f"{pid}\n")
        replies.flush()


def _reap(signum: int, frame: Any) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _run_kernel(args: list[str], env: dict[str, str], cwd: str | None, server: int) -> None:
    """In the forked child: become `python -m ipykernel_launcher args`; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        os.environ.clear()
        os.environ.update(env)
        if cwd:
            os.chdir(cwd)
        sys.argv = ["ipykernel_launcher", *args]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=[*args, f"--IPKernelApp.parent_handle={server}"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    _serve()
