"""HTML → PDF with WeasyPrint, restricted: only the report's own files are read (no network, no other
paths), and any warning WeasyPrint logs (a missing image, font or stylesheet) fails the render instead of
leaving a hole.

`render.PdfProcess` runs this file in a process of its own, `python -P crm_report/pdf.py HTML PDF ROOT SECONDS`,
started before the HTML is written: it imports WeasyPrint, then waits for the line `GO` on standard input. A
render that takes too long can be stopped; the child also limits its own CPU time to SECONDS (+1), so it
ends even when the process that started it was killed. It therefore imports nothing from crm_report and nothing heavy
but WeasyPrint (pandas, Jinja and pydantic would add 1.7 s of start-up to every render). Exit status 0: the
PDF is written; `REFUSED` with the reason on standard output: no PDF; `NOT_STARTED`: the parent never said `GO`;
anything else: WeasyPrint crashed.

A batch worker instead keeps one warm renderer, `python -P crm_report/pdf.py --serve` (`serve`): it imports
WeasyPrint once and forks a fresh child for each render, which does what the process above does after `GO`.
"""
from __future__ import annotations

import json
import logging
import math
import mimetypes
import os
import resource
import select
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import IO, Any, NoReturn
from urllib.parse import urlparse
from urllib.request import url2pathname

REFUSED = 3
"""Exit status of a render refused for a reason it prints (a file outside the report, WeasyPrint warnings)."""
GO = "go\n"
"""The line the parent writes on standard input once the HTML is written (the child imports WeasyPrint first).
Anything else, or the end of the input, ends the child without a PDF (status `NOT_STARTED`)."""
NOT_STARTED = 4
SERVE = "--serve"
"""The argument that starts the warm renderer (`serve`) instead of one render."""


def write(html_path: Path, pdf_path: Path, root: Path) -> str | None:
    """WeasyPrint `html_path` → `pdf_path`, reading only files under `root`. Returns why there is no PDF (a
    refused URL, WeasyPrint's warnings), or None when it was written."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    problems = _LogCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(problems)
    try:
        HTML(filename=str(html_path), base_url=str(root), url_fetcher=_report_fetcher(root)).write_pdf(
            str(pdf_path), uncompressed_pdf=False)
    except FatalURLFetchingError as exc:
        return str(exc)
    finally:
        logger.removeHandler(problems)
    if problems.messages:
        pdf_path.unlink(missing_ok=True)
        return "WeasyPrint reported problems:\n  " + "\n  ".join(problems.messages)
    return None


def _report_fetcher(root: Path) -> Any:
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class ReportFetcher(URLFetcher):
        """Serves `file:` URLs inside `root`; anything else stops the render."""

        def __init__(self, root: Path) -> None:
            super().__init__(allowed_protocols={"file"})
            self.root = root.resolve()

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            parsed = urlparse(url)
            path = Path(url2pathname(parsed.path)).resolve() if parsed.scheme == "file" else None
            if path is None or not path.is_relative_to(self.root) or not path.is_file():
                raise FatalURLFetchingError(f"the report may only load its own files; refused {url}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})

    return ReportFetcher(root)


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def main(argv: list[str]) -> int:
    if argv == [SERVE]:
        return serve()
    html_path, pdf_path, root = (Path(a) for a in argv[:3])
    _limit_cpu(float(argv[3]))
    logging.getLogger("weasyprint").propagate = False  # its warnings are collected, not printed
    import weasyprint  # noqa: F401  (now, while the parent still writes the HTML)
    if sys.stdin.readline() != GO:
        return NOT_STARTED
    return render(html_path, pdf_path, root)


def render(html_path: Path, pdf_path: Path, root: Path) -> int:
    """`write` as an exit status: 0 when the PDF is written, else `REFUSED` with the reason printed."""
    refused = write(html_path, pdf_path, root)
    if refused is not None:
        print(refused)
        return REFUSED
    return 0


def _die_with(parent: int) -> None:
    """Be killed when `parent`, the process that forked this one, ends (Linux's PR_SET_PDEATHSIG; elsewhere
    nothing); end now if it already has."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before the signal was asked for
        os._exit(1)


def _limit_cpu(seconds: float) -> None:
    cpu_seconds = math.ceil(seconds) + 1  # past the caller's wall-clock limit: that one speaks first
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))  # SIGXCPU, then SIGKILL


def serve() -> int:
    """The warm renderer (`render.PdfServer`): import WeasyPrint, say `ready`, then for each job line (JSON:
    html, pdf, root, seconds, output, errors) fork a child that renders as a `main` process would after `GO`
    (its own CPU limit; standard output and error appended to the files `output` and `errors`) and reply with
    one line when it has ended: its exit status (as `Popen.returncode`: negative, the signal that killed it).
    A `STOP` line while it renders kills it first (the worker's time limit, or a failure there); a `STOP` that
    comes after the reply is ignored. Only this process reaps the children, so the one it kills is always its
    own. One render at a time, each in a fresh fork: nothing one report's render did reaches the next. Ends
    at the end of its input (its worker is gone), stopping a render still running."""
    requests, replies = Lines(os.dup(0)), os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the children must not read the requests or write into the replies
    os.dup2(2, 1)
    os.close(devnull)
    logging.getLogger("weasyprint").propagate = False
    import weasyprint  # noqa: F401

    try:
        _reply(replies, "ready")
        while True:
            try:
                line = requests.next()
            except EOFError:
                return 0
            if line is None or line == STOP:  # a stop for a render that had ended before it came
                continue
            job = json.loads(line)
            server = os.getpid()
            try:
                pid = os.fork()
            except OSError as exc:  # no process to be had now: this render fails, the renderer stays
                _note(job["errors"], f"the warm PDF renderer could not fork: {exc}")
                _reply(replies, "1")
                continue
            if pid == 0:
                _render_forked(job, server, (requests.fd, replies))
            _reply(replies, str(_wait_or_stop(pid, requests)))
    except BrokenPipeError:  # the worker went away while this render ended
        return 0


STOP = "stop"
"""What `render.PdfServer` sends the warm renderer to stop the render in progress."""


def _wait_or_stop(pid: int, requests: Lines) -> int:
    """The exit status of the child `pid`, killed first when `STOP` arrives or the input ends."""
    try:
        ended = os.pidfd_open(pid)  # readable once the child has ended
    except (AttributeError, OSError):  # not Linux ≥ 5.3: look again every 50 ms
        ended = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            watched = [requests.fd] if ended is None else [requests.fd, ended]
            if requests.ready() or requests.fd in select.select(watched, [], [], 0.05 if ended is None else None)[0]:
                try:
                    line = requests.next(timeout=0)
                except EOFError:  # the worker is gone
                    line = STOP
                if line == STOP:
                    os.kill(pid, signal.SIGKILL)  # not reaped yet, so still this process's child
                    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    finally:
        if ended is not None:
            os.close(ended)


def _reply(replies: IO[str], line: str) -> None:
    replies.write(line + "\n")
    replies.flush()


class Lines:
    """Lines from a pipe read straight from its file descriptor: a line already read is never left waiting in
    a buffer that `select` cannot see (the warm renderer and `render.PdfServer` each wait on a pipe and on
    something else)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pending = b""

    def ready(self) -> bool:
        """Whether a whole line has been read and not yet taken."""
        return b"\n" in self._pending

    def next(self, timeout: float | None = None) -> str | None:
        """The next line, without its end; None when none came within `timeout` seconds; EOFError at the end
        of the input."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.ready():
            wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not select.select([self.fd], [], [], wait)[0]:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise EOFError
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode()


def _note(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8") as errors:
        errors.write(text + "\n")


def _render_forked(job: dict[str, Any], server: int, pipes: tuple[int, IO[str]]) -> NoReturn:
    """In `serve`'s child: render `job` and exit with `render`'s status (1 and the traceback on a crash). It
    closes the server's pipes and dies with the server (Linux), as a render whose server was killed must not
    go on writing a PDF for a run that has failed."""
    code = 1
    try:
        os.close(pipes[0])
        pipes[1].close()
        _die_with(server)
        for fd, name in ((1, job["output"]), (2, job["errors"])):
            target = os.open(name, os.O_WRONLY | os.O_APPEND)
            os.dup2(target, fd)
            os.close(target)
        _limit_cpu(job["seconds"])
        code = render(Path(job["html"]), Path(job["pdf"]), Path(job["root"]))
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
