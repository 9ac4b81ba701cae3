"""Work a notebook hands to a forked copy of its kernel, to collect later: `start(function, …).result()`.

Notebook 01 is one chain (products → value → win-back) except the backtests, which need the value section's
model and nothing after it. At 1M order lines that chain was the report's longest path: notebook 02 ended
seconds earlier and its core then sat idle. `start` forks the kernel; the copy computes the backtests while
the notebook goes on with the win-back section, and the two cores share whatever is left to do (notebook 02,
the chain, the copy). A small report loses nothing: the fork costs milliseconds.

The copy sees the kernel's memory as it was (copy-on-write: nothing is sent to it), so it computes exactly
what the notebook would have. It sends back only the pickled result, through a pipe. It writes nothing to
the notebook (its standard output and error go to /dev/null; warnings are recorded and shown by `result`),
never touches the kernel's sockets, ignores the interrupts meant for the kernel (Jupyter signals the whole
process group), and dies with the kernel (Linux's PR_SET_PDEATHSIG), so a notebook stopped for a timeout or a
failure leaves nothing running. Its exception is raised again by `result`, with the copy's traceback as a
note. It is the out-of-memory killer's first choice; when it is killed, `result` computes in this process
instead, as the notebook did before. Where the process cannot fork, `start` computes at once.
"""
from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import traceback
import warnings
import weakref
from collections.abc import Callable
from typing import Any, Generic, NoReturn, TypeVar

from crm_report.pdf import die_with  # stdlib only: the renderer's forked children die the same way

T = TypeVar("T")

_SHOWN: dict[Any, Any] = {}
"""Warnings `result` has shown: like the kernel's own registries, the same warning from the same line once."""


class BackgroundError(RuntimeError):
    """The forked copy's answer could not be sent or read."""


class Pending(Generic[T]):
    """A result a forked copy of this process is computing (`pid`), or one already computed (`pid` None)."""

    def __init__(self, function: Callable[..., T], args: tuple, kwargs: dict) -> None:
        self.pid: int | None = None
        self._call = (function, args, kwargs)
        self._reader = -1
        self._abandon: weakref.finalize | None = None
        self._answered = False
        self._value: T | None = None
        self._error: Exception | None = None

    def result(self) -> T:
        """Wait for the copy and return its result, or raise its exception; the same answer when asked again."""
        if not self._answered:
            try:
                self._value = self._collect()
            except Exception as exc:  # noqa: BLE001  kept, so that asking again raises it again
                self._error = exc
            self._answered = True
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # T itself may include None

    def _collect(self) -> T:
        if self.pid is None:
            function, args, kwargs = self._call
            return function(*args, **kwargs)
        pid, self.pid = self.pid, None
        if self._abandon is not None:
            self._abandon.detach()
        status, payload = _reap(pid, self._reader)
        if not payload and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            return self._collect()  # the out-of-memory killer's choice: compute here, as before
        if not payload:
            raise BackgroundError(f"the background computation ended without an answer ({_describe(status)})")
        ok, answer, caught, trace = pickle.loads(payload)
        for message, category, filename, lineno in caught:
            warnings.warn_explicit(message, category, filename, lineno, registry=_SHOWN)
        try:
            value = pickle.loads(answer)
        except Exception as exc:  # noqa: BLE001  e.g. an exception class whose arguments pickle does not keep
            raise BackgroundError(trace or f"the background computation's answer cannot be read: {exc!r}") from None
        if not ok:
            value.add_note(f"in the background computation:\n{trace}")
            raise value
        return value


def start(function: Callable[..., T], *args: Any, **kwargs: Any) -> Pending[T]:
    """`function(*args, **kwargs)` in a forked copy of this process; `.result()` of the answer waits for it."""
    pending = Pending(function, args, kwargs)
    if not hasattr(os, "fork"):
        pending.result()
        return pending
    reader, writer = os.pipe()
    parent = os.getpid()
    interrupts = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # none reaches the copy as it forks
    try:
        pid = os.fork()
    except OSError:  # no memory or processes left for a copy: compute here
        os.close(reader)
        os.close(writer)
        signal.pthread_sigmask(signal.SIG_SETMASK, interrupts)
        pending.result()
        return pending
    if pid == 0:
        _answer(reader, writer, parent, function, args, kwargs)
    signal.pthread_sigmask(signal.SIG_SETMASK, interrupts)
    os.close(writer)
    pending.pid, pending._reader = pid, reader
    pending._abandon = weakref.finalize(pending, _abandon, pid, reader)  # dropped unread (a cell run again)
    return pending


def _reap(pid: int, reader: int) -> tuple[int, bytes]:
    """Read the copy's answer to the end, then reap it; an interrupt meanwhile stops the copy first."""
    try:
        with os.fdopen(reader, "rb") as answers:
            payload = answers.read()
    except BaseException:
        _kill(pid)
        raise
    finally:
        _, status = os.waitpid(pid, 0)
    return status, payload


def _abandon(pid: int, reader: int) -> None:
    """Stop and reap a copy whose answer nobody will read."""
    os.close(reader)
    _kill(pid)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _answer(reader: int, writer: int, parent: int, function: Callable[..., Any], args: tuple,
            kwargs: dict) -> NoReturn:
    """In the copy: compute, write the pickled (ok, pickled value or exception, warnings, traceback), exit."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the kernel's interrupts are not for the copy
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        os.close(reader)
        die_with(parent)
        with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as score:
            score.write("1000")  # Linux: if memory runs out, the copy goes first
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        sys.stdout = sys.stderr = open(quiet, "w", closefd=False)  # not the kernel's streams (its sockets)
        with warnings.catch_warnings(record=True) as recorded:  # the kernel's filters, warnings kept for it
            try:
                ok, value, trace = True, function(*args, **kwargs), ""
            except BaseException as exc:  # noqa: BLE001  raised again by `result`, in the notebook
                ok, value, trace = False, exc, traceback.format_exc()
        caught = [(str(w.message), _portable(w.category), w.filename, w.lineno) for w in recorded]
        try:
            answer = pickle.dumps(value)
        except Exception as exc:  # noqa: BLE001  e.g. a class defined in a function: it travels as text
            ok, answer = False, pickle.dumps(BackgroundError(trace or f"the answer cannot be sent back: {exc!r}"))
        with os.fdopen(writer, "wb") as answers:
            answers.write(pickle.dumps((ok, answer, caught, trace)))
        code = 0
    except BaseException:  # noqa: BLE001  nothing of the copy may go on running the kernel's code
        pass
    finally:
        os._exit(code)


def _portable(category: type[Warning]) -> type[Warning]:
    """The warning's class when pickle can find it by name, else UserWarning."""
    try:
        pickle.dumps(category)
    except Exception:  # noqa: BLE001
        return UserWarning
    return category


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
