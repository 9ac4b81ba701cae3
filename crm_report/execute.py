"""Running the section notebooks with papermill: which notebooks, checked parameters, executed copies kept.

Notebooks are jupytext percent-format `.py` files in `notebooks/` (git diffs them like code and they can
never carry client data in outputs). A client may override one by putting a notebook with the same name
(`.py` or `.ipynb`) in `clients/<id>/notebooks/`.
"""
from __future__ import annotations

import asyncio
import fcntl
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crm_report.config import ClientConfig
from crm_report.errors import ReportError
from crm_report.paths import NOTEBOOKS_DIR

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

# jupytext, nbformat, papermill and jupyter_client are imported by the functions that use them, after
# `skip_iri_grammar()`: `run_report.py --list` and `--check-data` never pay for them.


KERNEL_NAME = "crm-report"


class NotebookError(ReportError, RuntimeError):
    """A notebook failed or was given parameters it does not declare."""


def install_kernelspec(prefix: Path = Path(sys.prefix)) -> Path:
    """Install the `crm-report` kernel used for report runs into `prefix`/share/jupyter/kernels.

    It runs this interpreter (never whatever `python` is first on PATH), draws charts with the Agg backend
    (the report saves them as SVG; rendering inline PNGs for the executed notebook cost a second per
    report), and keeps the kernel's own start-up log messages off the consultant's terminal. Analysts
    working interactively use their usual kernel and see charts inline.
    """
    folder = prefix / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.log_level=CRITICAL"],
        "display_name": "CRM report (batch)",
        "language": "python",
        "env": {"MPLBACKEND": "agg"},
        "metadata": {"debugger": False},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return folder


def skip_iri_grammar() -> None:
    """Keep jsonschema from importing `rfc3987_syntax`, which builds a URL grammar at import (4–5 s).

    nbformat imports jsonschema, and jsonschema's format module imports `rfc3987_syntax` whenever it is
    installed; it is, because JupyterLab's server (jupyter-events) requires `jsonschema[format-nongpl]`.
    Without it jsonschema only drops its `iri` and `iri-reference` format checks, and nbformat validates
    notebooks without any format checks. A `None` in `sys.modules` makes the import fail, in this process
    only; call this before nbformat is first imported (afterwards it is too late to matter).
    """
    # A None entry is the import system's documented way to block a module; typeshed types the values as modules.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def kernel_spec() -> KernelSpec:
    """The installed report kernel's spec; a NotebookError that says how to fix it when it is not installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        raise NotebookError(f"the Jupyter kernel {KERNEL_NAME!r} is not installed; run `make setup` "
                            f"(or `python -m crm_report.execute --install-kernel`)") from None


def check_kernel() -> None:
    """Raise a NotebookError that says how to fix it when the report kernel is not installed."""
    kernel_spec()


def notebook_plan(config: ClientConfig, notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The notebooks for this client, in order: the defaults, each replaced by the client's copy if any."""
    defaults = sorted(notebooks_dir.glob("[0-9][0-9]_*.py"))
    overrides = {p.stem: p for p in sorted((config.folder / "notebooks").glob("[0-9][0-9]_*.*"))
                 if p.suffix in (".py", ".ipynb")}
    return [overrides.get(p.stem, p) for p in defaults]


def to_ipynb(source: Path, destination: Path) -> Path:
    """Write `source` (.py percent format or .ipynb) as an unexecuted .ipynb at `destination`."""
    skip_iri_grammar()
    import jupytext
    import nbformat

    notebook = jupytext.read(source) if source.suffix == ".py" else nbformat.read(source, as_version=4)
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "CRM report (batch)",
                                       "language": "python"}
    destination.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, destination)
    return destination


@contextmanager
def started_kernels(count: int) -> Iterator[list[AsyncKernelManager]]:
    """Start `count` report kernels now and shut them down on exit.

    A kernel takes about a second to boot; started before the data is loaded, it boots meanwhile. In a
    process that runs a kernel server (`kernels.start_server`, batch workers) each kernel is forked from it,
    its imports already done; otherwise it is a new process.

    Kernels listen on Unix sockets in a folder only this user can enter, removed on exit. On TCP, a port
    jupyter_client picked as free (bind to port 0, close) could be taken by another process before the kernel
    bound it, and the kernel died ("Address already in use"). The folder is set explicitly: left to itself,
    jupyter_client would put the sockets in the working directory (`kernel-ipc-1`, …), shared by every run.
    """
    from jupyter_client.manager import AsyncKernelManager

    from crm_report import kernels as warm

    check_kernel()
    with ExitStack() as cleanup:  # each step undone even when a later one fails
        sockets = cleanup.enter_context(_socket_folder())
        managers = [AsyncKernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=str(sockets / f"k{index}"),
                                       connection_file=str(sockets / f"k{index}.json"))
                    for index in range(count)]
        cleanup.callback(_stop_all, managers)
        modules = None if warm.running_server() is not None else warm.notebook_imports()  # forked: imported
        warm.fork_from_server(managers)
        for manager in managers:
            # spawns the process and returns; readiness is awaited later. jupyter_client annotates start_kernel
            # as returning an Awaitable; it is an `async def`, so a coroutine, which asyncio.run takes.
            asyncio.run(manager.start_kernel())  # type: ignore[arg-type]
            if modules is not None:
                warming = threading.Thread(target=_import_in, args=(manager, modules), name="kernel-imports",
                                           daemon=True)
                warming.start()
                cleanup.callback(warming.join, timeout=IMPORT_TIMEOUT)  # before the kernels stop (LIFO)
        yield managers


def _stop_all(managers: list[AsyncKernelManager]) -> None:
    for manager in managers:
        if manager.has_kernel:
            asyncio.run(_stop(manager))


SOCKET_FOLDER = "crm-kernels-"
SOCKET_PATH_MAX = 107  # bytes in a Unix socket's path (sun_path, Linux; zmq.IPC_PATH_MAX_LEN)
_LONGEST_NAME = f"/{SOCKET_FOLDER}{'x' * 8}/k99-99"  # mkdtemp's 8 random characters, kernel 99, socket 99


@contextmanager
def _socket_folder() -> Iterator[Path]:
    """A new folder (mode 0700) for kernel sockets, removed on exit; a lock file in it stays locked while
    this process uses it. Folders whose lock is free (their run was killed: SIGKILL or the OOM killer run no
    clean-up) are removed first; a folder being created (no lock file yet) or another user's is left alone.
    The folder is in the temporary directory, or in /tmp when that path is too long for a socket's."""
    temp = Path(tempfile.gettempdir())
    if len(os.fsencode(temp)) + len(_LONGEST_NAME) > SOCKET_PATH_MAX:
        temp = Path("/tmp")
    for stale in temp.glob(f"{SOCKET_FOLDER}*"):
        _remove_if_unlocked(stale)
    folder = Path(tempfile.mkdtemp(prefix=SOCKET_FOLDER, dir=temp))
    try:
        lock = os.open(folder / "lock.new", os.O_CREAT | os.O_RDWR, 0o600)  # not inherited by kernels (PEP 446)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            os.rename(folder / "lock.new", folder / "lock")  # so that no sweep ever sees it unlocked
            yield folder
        finally:
            os.close(lock)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _remove_if_unlocked(folder: Path) -> None:
    try:
        lock = os.open(folder / "lock", os.O_RDWR)
    except OSError:
        return
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # a running process holds it
        return
    finally:
        os.close(lock)
    shutil.rmtree(folder, ignore_errors=True)


IMPORT_TIMEOUT = 120  # seconds a new kernel may take to import the notebooks' modules


def _import_in(manager: AsyncKernelManager, modules: list[str]) -> None:
    """Have a new kernel import `modules` (`kernels.preload`) as soon as it is ready, while this process loads
    the data: the notebooks' own imports then find them done. Only modules are imported; nothing is defined in
    the notebook's namespace and nothing is kept in its history. A kernel that cannot do it is left as it is:
    the notebook's own imports run and report any problem with the notebook's name and cell. The reply is
    awaited only while the kernel runs: a notebook may end, and its kernel be stopped, before the request was
    answered (a short notebook on a busy machine), and a stopped kernel never replies."""
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=IMPORT_TIMEOUT)
        request = client.execute(f"__import__('crm_report.kernels', fromlist=['preload']).preload({modules!r})",
                                 silent=True, store_history=False)
        deadline = time.monotonic() + IMPORT_TIMEOUT
        while _running(manager) and time.monotonic() < deadline:
            with suppress(queue.Empty):
                if client.get_shell_msg(timeout=0.2)["parent_header"].get("msg_id") == request:
                    return
    except (RuntimeError, TimeoutError):
        pass
    finally:
        client.stop_channels()


def _running(manager: AsyncKernelManager) -> bool:
    """Whether the kernel's process is still running: False once it has ended, however (stopped after its
    notebook, killed, crashed), even before jupyter_client has noticed."""
    process = getattr(manager.provisioner, "process", None)
    return process is not None and process.poll() is None


async def _stop(manager: AsyncKernelManager) -> None:
    await manager.shutdown_kernel(now=True)


def check_parameters(notebook: Path, parameters: Mapping[str, Any], label: str) -> None:
    """Raise when a parameter is not declared in the notebook's `parameters` cell (papermill only warns)."""
    skip_iri_grammar()
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    if not declared:
        raise NotebookError(f"{label}: no cell tagged 'parameters'")
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise NotebookError(f"{label}: unknown parameter(s) {unknown}; the notebook declares {sorted(declared)}")


def stage_notebooks(sources: list[Path], parameters: Mapping[str, Any], report_dir: Path) -> list[tuple[Path, Path]]:
    """Each notebook as papermill runs it (`to_ipynb` into `report_dir/build/notebooks/`) with its parameters
    checked (`check_parameters`): (source, staged notebook) pairs. A notebook that cannot run with `parameters`
    raises NotebookError here: the pipeline stages before it loads any data (`run_staged` runs them)."""
    staged = [(source, to_ipynb(source, report_dir / "build" / "notebooks" / f"{source.stem}.ipynb"))
              for source in sources]
    for source, notebook in staged:
        check_parameters(notebook, parameters, label=str(source))
    return staged


def run_notebooks(sources: list[Path], parameters: Mapping[str, Any], report_dir: Path, *, jobs: int = 2,
                  kernels: list[AsyncKernelManager] | None = None,
                  on_done: Callable[[Path], None] | None = None) -> list[Path]:
    """`run_staged` of `stage_notebooks(sources, parameters, report_dir)`."""
    return run_staged(stage_notebooks(sources, parameters, report_dir), parameters, report_dir, jobs=jobs,
                      kernels=kernels, on_done=on_done)


def run_staged(staged: list[tuple[Path, Path]], parameters: Mapping[str, Any], report_dir: Path, *,
               jobs: int = 2, kernels: list[AsyncKernelManager] | None = None,
               on_done: Callable[[Path], None] | None = None) -> list[Path]:
    """Execute every staged notebook (`stage_notebooks`) with `parameters`; executed copies go to
    `report_dir/notebooks/`.

    Notebooks are independent and run `jobs` at a time, each in its own kernel: one of `kernels` (already
    started, one per notebook; shut down as soon as its notebook ends, so its memory is free while the other
    notebook runs), or of `started_kernels` when none are given. The first failure raises NotebookError naming
    the notebook and the cell.
    """
    if kernels is None:
        with started_kernels(len(staged)) as started:
            return run_staged(staged, parameters, report_dir, jobs=jobs, kernels=started, on_done=on_done)
    if len(kernels) != len(staged):
        raise ValueError(f"{len(staged)} notebooks need {len(staged)} kernels, got {len(kernels)}")
    skip_iri_grammar()
    import papermill

    check_kernel()

    def execute(item: tuple[int, tuple[Path, Path]]) -> Path:
        index, (source, notebook) = item
        output = report_dir / "notebooks" / f"{source.stem}.ipynb"
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            # No `cwd=`: papermill implements it with os.chdir, which is process-wide and races between
            # threads. Notebooks never depend on the working directory; they get `report_dir`.
            papermill.execute_notebook(str(notebook), str(output), parameters=dict(parameters),
                                       kernel_name=KERNEL_NAME, progress_bar=False, log_output=False,
                                       km=kernels[index])
        except papermill.PapermillExecutionError as exc:
            raise NotebookError(f"{source.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                                f"(see notebooks/{output.name})") from None
        finally:  # a finished notebook's kernel gives back its memory now, not when the other notebook ends
            if kernels[index].has_kernel:
                asyncio.run(_stop(kernels[index]))
        if on_done:
            on_done(source)
        return output

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(execute, enumerate(staged)))


if __name__ == "__main__":
    if sys.argv[1:] != ["--install-kernel"]:
        sys.exit("usage: python -m crm_report.execute --install-kernel")
    print(f"installed kernel {KERNEL_NAME!r} in {install_kernelspec()}")
