"""Running notebooks (crm_report.execute): each kernel ends with its notebook."""
import fcntl
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from crm_report import execute
from crm_report.kernels import notebook_imports


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return any(line.startswith("State:") and "Z" in line for line in status)
    except FileNotFoundError:
        return True


def test_a_kernel_is_shut_down_as_soon_as_its_notebook_ends(tmp_path):
    """Issue 13: at 10M lines a finished notebook's kernel kept 4.4 GB until the other notebook ended. Here the
    second notebook waits (up to 60 s) for the first one's kernel to be gone, and fails if it never goes."""
    pid_file = tmp_path / "first.pid"
    (tmp_path / "01_first.py").write_text(f"""# %% tags=["parameters"]
client = ""

# %%
import os, pathlib
pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))
""", encoding="utf-8")
    (tmp_path / "02_second.py").write_text(f"""# %% tags=["parameters"]
client = ""

# %%
import pathlib, time
from tests.test_execute import _gone
path = pathlib.Path({str(pid_file)!r})
deadline = time.monotonic() + 60
while not (path.exists() and path.read_text() and _gone(int(path.read_text()))):
    assert time.monotonic() < deadline, "the first notebook's kernel is still running"
    time.sleep(0.2)
""", encoding="utf-8")
    sources = [tmp_path / "01_first.py", tmp_path / "02_second.py"]
    start = time.monotonic()
    with execute.started_kernels(2) as kernels:
        execute.run_notebooks(sources, {"client": "x"}, tmp_path, jobs=2, kernels=kernels)
        assert not any(kernel.has_kernel for kernel in kernels)
    assert time.monotonic() - start < 60


def test_a_new_kernel_imports_the_notebooks_modules_before_any_notebook_runs(tmp_path):
    """Issue 13: a new kernel imports what the notebooks import while the data loads (about 3 s of each
    notebook's first cell). The notebook then finds the modules imported (the notebook below waits up to
    60 s for them, as it could run before the kernel is warm), and nothing else in its namespace."""
    modules = [name for name in notebook_imports() if name.startswith("crm_report.metrics")]
    assert "crm_report.metrics.clv" in modules
    (tmp_path / "01_look.py").write_text(f"""# %% tags=["parameters"]
client = ""

# %%
import json, pathlib, sys, time
deadline = time.monotonic() + 60
while not all(name in sys.modules for name in {modules!r}):
    assert time.monotonic() < deadline, "the kernel never imported the notebooks' modules"
    time.sleep(0.2)
names = sorted(name for name in dir() if not name.startswith("_"))
pathlib.Path({str(tmp_path / "names.json")!r}).write_text(json.dumps(names))
""", encoding="utf-8")
    with execute.started_kernels(1) as kernels:
        execute.run_notebooks([tmp_path / "01_look.py"], {"client": "x"}, tmp_path, jobs=1, kernels=kernels)
    names = json.loads((tmp_path / "names.json").read_text())
    assert not {"preload", "kernels", "crm_report"} & set(names)


def _one_cell_notebook(folder: Path) -> Path:
    """The smallest report notebook: a `parameters` cell and one cell for the kernel to run."""
    path = folder / "01_one.py"
    path.write_text('# %% tags=["parameters"]\nclient = ""\n\n# %%\nassert 6 * 7 == 42\n', encoding="utf-8")
    return path


def test_report_kernels_talk_over_unix_sockets_in_a_private_folder_removed_afterwards(tmp_path):
    """A kernel on TCP could lose a port to another process between jupyter_client choosing it (bind to port 0,
    close) and the kernel binding it: `ZMQError: Address already in use`, "Kernel died before replying to
    kernel_info" (seen in CI with two test workers; a `--processes 2` batch can hit it too). Report kernels
    therefore listen on Unix sockets in a folder only this user can enter, gone when the kernels are."""
    one = _one_cell_notebook(tmp_path)
    with execute.started_kernels(2) as kernels:
        infos = [kernel.get_connection_info() for kernel in kernels]
        assert {info["transport"] for info in infos} == {"ipc"}
        folders = {Path(info["ip"]).parent for info in infos}
        assert len(folders) == 1 and len({info["ip"] for info in infos}) == 2
        folder = folders.pop()
        assert folder.is_absolute() and folder.stat().st_mode & 0o777 == 0o700
        assert all(Path(kernel.connection_file).parent == folder for kernel in kernels)
        execute.run_notebooks([one], {"client": "x"}, tmp_path, jobs=1, kernels=kernels[:1])
    assert not folder.exists()


def test_socket_folders_of_runs_that_were_killed_are_removed(monkeypatch):
    """A run killed by SIGKILL (or the OOM killer) cannot remove its kernels' socket folder; the next run
    removes it: its lock file is no longer locked. A folder whose lock is held (a running run), one without
    a lock file (being created) are left alone."""
    temp = Path(tempfile.mkdtemp(dir="/tmp"))  # short: pytest's tmp_path can be too long for a socket path
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    killed, running, creating = (temp / f"crm-kernels-{name}" for name in ("killed", "running", "creating"))
    for folder in (killed, running, creating):
        folder.mkdir()
        (folder / "k0.json").write_text("{}")
    (killed / "lock").touch()
    (running / "lock").touch()
    held = os.open(running / "lock", os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        with execute.started_kernels(1) as kernels:
            assert Path(kernels[0].connection_file).parent.parent == temp
            assert not killed.exists() and (running / "k0.json").exists() and (creating / "k0.json").exists()
    finally:
        os.close(held)
        shutil.rmtree(temp)


def test_kernels_start_when_the_temporary_directory_is_too_long_for_a_socket_path(tmp_path, monkeypatch):
    """A Unix socket's path holds 107 bytes: under a long TMPDIR the sockets go to /tmp instead."""
    long = tmp_path / ("x" * 90)
    long.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long))
    one = _one_cell_notebook(tmp_path)
    with execute.started_kernels(1) as kernels:
        folder = Path(kernels[0].connection_file).parent
        assert folder.parent == Path("/tmp")
        execute.run_notebooks([one], {"client": "x"}, tmp_path, jobs=1, kernels=kernels)
    assert not folder.exists()


def test_a_notebook_that_ends_before_its_kernel_was_asked_to_import_does_not_hold_up_the_run(tmp_path,
                                                                                           monkeypatch):
    """A new kernel is asked to import the notebooks' modules (`_import_in`, a thread) while the data load.
    When a notebook ended and its kernel was stopped before that request was answered, the thread waited
    for a reply from a dead kernel until IMPORT_TIMEOUT (120 s), and the run waited for the thread."""
    original = execute._import_in
    asked = []

    def late(manager, modules):  # the kernel is ready, but the request goes out after the notebook ended
        asked.append(manager)
        make = manager.blocking_client

        def client():
            made = make()
            ready = made.wait_for_ready

            def wait(timeout=None):
                ready(timeout=timeout)
                time.sleep(4)  # meanwhile the one-cell notebook ends and its kernel is stopped
            made.wait_for_ready = wait
            return made
        manager.blocking_client = client
        original(manager, modules)

    monkeypatch.setattr(execute, "_import_in", late)
    start = time.perf_counter()
    execute.run_notebooks([_one_cell_notebook(tmp_path)], {"client": "x"}, tmp_path)
    assert time.perf_counter() - start < 30
    assert asked and not execute._running(asked[0])  # the import was asked for; its kernel has ended
