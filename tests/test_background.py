"""`background.start`: a forked copy computes, the notebook collects the same answer (or the same error)."""
from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pandas as pd
import psutil
import pytest

from crm_report import background, execute


@pytest.fixture(autouse=True)
def no_hang():
    """A deadlock fails the test instead of holding up the suite."""
    def expired(signum, frame):
        raise TimeoutError("background test took over 60 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_the_answer_is_computed_by_another_process_from_this_ones_memory():
    frame = pd.DataFrame({"amount": np.arange(100_000, dtype="float64")})  # nothing is sent: no pickling in
    pending = background.start(lambda: (os.getpid(), frame["amount"].sum(), "x" * 1_000_000))
    pid, total, text = pending.result()
    assert pid != os.getpid()
    assert total == frame["amount"].sum()
    assert len(text) == 1_000_000  # more than a pipe holds: read while the copy writes
    assert pending.result()[1] == total  # asked again: the same answer, nothing waited for


def test_an_exception_in_the_copy_is_raised_again_with_its_traceback():
    def fails():
        return {"a": 1}["b"]

    with pytest.raises(KeyError) as raised:
        background.start(fails).result()
    assert "in the background computation" in raised.value.__notes__[0]
    assert "fails" in raised.value.__notes__[0]


def test_an_exception_that_cannot_be_pickled_arrives_as_its_text():
    class Local(Exception):  # defined in a function: pickle cannot find it by name
        pass

    def fails():
        raise Local("the reason")

    with pytest.raises(background.BackgroundError, match="the reason"):
        background.start(fails).result()


def test_a_copy_that_is_killed_is_an_error_not_a_hang():
    with pytest.raises(background.BackgroundError, match="SIGTERM"):
        background.start(lambda: os.kill(os.getpid(), signal.SIGTERM)).result()


def test_a_copy_killed_for_memory_is_computed_here_instead():
    here = os.getpid()
    pending = background.start(lambda: os.kill(os.getpid(), signal.SIGKILL) if os.getpid() != here else "here")
    assert pending.pid is not None
    assert pending.result() == "here"


def test_asking_again_after_a_failure_raises_the_same_error_and_closes_nothing_else():
    pending = background.start(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError) as first:
        pending.result()
    with open(os.devnull) as other:  # likely given the number of the copy's pipe, closed by now
        with pytest.raises(ZeroDivisionError) as second:
            pending.result()
        os.fstat(other.fileno())  # still open
    assert second.value is first.value


def test_the_copy_ignores_the_interrupts_meant_for_the_kernel():
    pending = background.start(lambda: (time.sleep(0.5), "done")[1])
    assert pending.pid is not None
    time.sleep(0.1)
    os.kill(pending.pid, signal.SIGINT)  # Jupyter interrupts the kernel's whole process group
    assert pending.result() == "done"


def test_a_copy_nobody_collects_is_stopped_and_reaped():
    pending = background.start(time.sleep, 30)
    pid = pending.pid
    assert pid is not None
    del pending
    gc.collect()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no longer this process's child
    assert not psutil.pid_exists(pid)


def test_where_no_copy_can_be_forked_the_answer_is_computed_here(monkeypatch):
    def refused():
        raise OSError(12, "Cannot allocate memory")

    pipes, closed = [], []
    real_pipe, real_close = os.pipe, os.close
    monkeypatch.setattr(os, "pipe", lambda: pipes.extend(real_pipe()) or tuple(pipes))
    monkeypatch.setattr(os, "close", lambda fd: closed.append(fd) or real_close(fd))
    monkeypatch.setattr(os, "fork", refused)
    pending = background.start(os.getpid)
    assert pending.pid is None and pending.result() == os.getpid()
    assert sorted(closed) == sorted(pipes)  # the pipe is not left open


def test_warnings_come_back_and_nothing_is_printed_here(capfd):
    def noisy():
        print("to standard output")
        print("to standard error", file=sys.stderr)
        os.write(1, b"straight to the file descriptor\n")
        warnings.warn("small sample", UserWarning, stacklevel=1)
        return 7

    with pytest.warns(UserWarning, match="small sample"):
        assert background.start(noisy).result() == 7
    assert capfd.readouterr() == ("", "")


def test_without_fork_the_answer_is_computed_at_once(monkeypatch):
    monkeypatch.delattr(os, "fork")
    pending = background.start(os.getpid)
    assert pending.result() == os.getpid()


def test_the_copy_dies_with_the_process_that_started_it():
    script = ("import sys, time\nfrom crm_report import background\n"
              "pending = background.start(time.sleep, 60)\nprint(pending.pid, flush=True)\ntime.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    copy = int(parent.stdout.readline())
    assert psutil.pid_exists(copy)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _running(copy):
        time.sleep(0.05)
    assert not _running(copy)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_an_answer_that_cannot_be_pickled_is_an_error():
    with pytest.raises(background.BackgroundError, match="cannot be sent back"):
        background.start(lambda: threading.Lock()).result()


def test_in_a_report_kernel_the_copy_writes_nothing_to_the_notebook(tmp_path):
    """Where it runs: in a report kernel (its threads, sockets and captured streams) the copy answers, and
    nothing it prints reaches the notebook."""
    (tmp_path / "01_copy.py").write_text("""# %% tags=["parameters"]
client = ""

# %%
import os, sys
from crm_report import background

def noisy():
    print("printed by the copy")
    print("to standard error by the copy", file=sys.stderr)
    os.write(1, b"written to fd 1 by the copy\\n")
    os.write(2, b"written to fd 2 by the copy\\n")
    return os.getpid()

pending = background.start(noisy)

# %%
assert pending.result() != os.getpid()
print("collected")
""", encoding="utf-8")
    with execute.started_kernels(1) as kernels:
        execute.run_notebooks([tmp_path / "01_copy.py"], {"client": "x"}, tmp_path, jobs=1, kernels=kernels)
    cells = json.loads((tmp_path / "notebooks" / "01_copy.ipynb").read_text(encoding="utf-8"))["cells"]
    streams = "".join("".join(output.get("text", "")) for cell in cells for output in cell.get("outputs", [])
                      if output["output_type"] == "stream")
    assert streams == "collected\n"
