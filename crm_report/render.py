"""HTML and PDF from the saved results: Jinja templates (strict, autoescaped) and WeasyPrint.

WeasyPrint may read only files inside the report's own folder (no network, no other paths), and any
warning it logs (a missing image, font or stylesheet) fails the render instead of leaving a hole: see
`crm_report.pdf`, which runs in a child process stopped after `RENDER_TIMEOUT` seconds.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import jinja2
from markupsafe import Markup, escape

from crm_report import appendix, formatting, i18n, pdf, results
from crm_report.config import ClientConfig, check_logo
from crm_report.errors import ReportError
from crm_report.metrics.events import event_label
from crm_report.paths import TEMPLATES_DIR
from crm_report.summary import calendar_context, executive_summary

RENDER_TIMEOUT = 300.0
"""Seconds WeasyPrint may take for one PDF before it is stopped. A report takes 5–15 s; a layout that runs for
minutes (a 2,000-character unbroken name once took 60 s, a 100 KB one more than 600 s) fails the run with a
RenderError instead of hanging it and the batch behind it."""


class RenderError(ReportError, RuntimeError):
    """The report could not be rendered completely."""


def make_environment(locale: str, templates_dir: Path = TEMPLATES_DIR, currency: str = "TWD") -> jinja2.Environment:
    """Jinja with StrictUndefined, autoescape and the number/date filters for `locale`, money in `currency`."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({
        "number": formatting.number,
        "money": lambda v: formatting.money(v, locale, currency),
        "money_short": lambda v: formatting.money_short(v, locale, currency),
        "money_unit": lambda rows, *columns: formatting.money_unit(rows, *columns, locale=locale),
        "money_in": lambda v, unit: formatting.money_in(v, unit, locale, currency),
        "price": lambda v, decimals=2: formatting.price(v, locale, currency, decimals),
        "compact": lambda v: formatting.compact(v, locale),
        "pct": formatting.pct,
        "name": formatting.short_name,
        "month": lambda v: formatting.month_label(v, locale),
        "date": lambda v: formatting.date_label(v, locale),
        "change": lambda v, kind: (formatting.signed_points(v, locale) if kind == "points"
                                   else formatting.signed_count(v) if kind == "count"
                                   else formatting.signed_pct(v)),
        "trend": lambda v: "flat" if v is None or abs(v) < 0.005 else ("up" if v > 0 else "down"),
        "fill": lambda text, **kw: formatting.fill(text, locale, **kw),
        "words": unbreakable_words,
    })
    words = i18n.strings(locale, currency)
    env.filters["event"] = lambda key: event_label(key, words["events"])
    env.filters["and_list"] = lambda items: formatting.and_list(list(items), words)
    env.globals["so_what"] = functools.partial(so_what, locale=locale, words=words, currency=currency)
    env.globals["caption"] = functools.partial(caption, locale=locale, words=words, currency=currency)
    return env


def so_what(section: str, conclusions: list[dict[str, Any]], *, locale: str, words: dict[str, Any],
            currency: str = "TWD") -> list[dict[str, str | None]]:
    """The sentences (and actions) of a section's `metrics.conclusions`, worded from the locale's
    `so_what.<section>` texts."""
    texts = words["so_what"][section]
    return [{"text": _worded(texts[item["key"]], item, locale, words, currency),
             "action": _worded(texts["actions"][item["action"]], item, locale, words, currency)
             if item["action"] else None}
            for item in conclusions]


def caption(chart: str, item: dict[str, Any] | None, *, locale: str, words: dict[str, Any],
            currency: str = "TWD") -> str:
    """A chart's caption (`metrics.captions`) worded from the locale's `captions.<chart>` texts; "" for None."""
    return "" if item is None else _worded(words["captions"][chart][item["key"]], item, locale, words, currency)


def _worded(text: str, item: dict[str, Any], locale: str, words: dict[str, Any], currency: str) -> str:
    return formatting.fill(text, locale, **{name: formatting.value(kind, v, locale, words, currency)
                                            for name, (kind, v) in item["params"].items()})


_INLINE_TAG = r"</?(?:span|strong|em|b|a)\b[^>]*>"
_CJK_GAP = re.compile(rf"([。；：！？，、」』）])((?:\s*{_INLINE_TAG})*)\s+(?=(?:{_INLINE_TAG})*[^\s<])")


def close_cjk_gaps(html_text: str) -> str:
    """zh-TW: no space after full-width punctuation. Templates put one sentence per line, and a line break is a
    space on the page: 「（+632 人）。 本月適逢…」 reads 「（+632 人）。本月適逢…」. Only whitespace after
    。；：！？，、」』）
    goes, also across inline tags (a sentence in its own <span>); never inside a tag, never between blocks."""
    return _CJK_GAP.sub(lambda m: m.group(1) + re.sub(r"\s+(?=<)", "", m.group(2)), html_text)


def unbreakable_words(text: str) -> Markup:
    """`text` with each space-separated word in a `<span class="word">` that the stylesheet keeps on one
    line: a table header then wraps only between words, never inside one (購買人/數, E-/mail)."""
    return Markup(" ").join(Markup('<span class="word">%s</span>') % word for word in escape(text).split())


def render_report(report_dir: Path, config: ClientConfig, month: str, timeout: float | None = None,
                  meanwhile: Callable[[], object] | None = None) -> tuple[Path, Path]:
    """Write report.html and report.pdf in `report_dir` from `report_dir/build/results`; the PDF within
    `timeout` seconds (`RENDER_TIMEOUT` when None). WeasyPrint's process starts first (it imports WeasyPrint
    while this one writes the HTML); `meanwhile` runs here while it lays out the PDF."""
    html_path, pdf_path = report_dir / "report.html", report_dir / "report.pdf"
    with PdfProcess(html_path, pdf_path, root=report_dir, timeout=timeout) as weasyprint:
        sections = results.load_all(report_dir / "build")
        context_events = calendar_context(month, config.events)
        sections["summary"] = results.Section(values=executive_summary(sections, month, context_events),
                                              tables={}, figures={})
        assets = _copy_assets(report_dir, config)
        words = i18n.strings(config.locale, config.currency)
        context = {
            "client": {"name": config.display_name, "id": config.client_id, "locale": config.locale,
                       "primary": config.brand.primary_color, "accent": config.brand.accent_color,
                       "logo": assets.get("logo")},
            "month": month,
            "t": words,
            "s": sections,
            "appendix": appendix.context(config, words, sections["data_quality"].values.get(
                "currency_conversions", ()) if "data_quality" in sections else ()),
        }
        html_text = make_environment(config.locale, currency=config.currency).get_template("report.html").render(
            **context)
        if config.locale == "zh-TW":
            html_text = close_cjk_gaps(html_text)
        html_path.write_text(html_text, encoding="utf-8")
        try:
            weasyprint.finish(meanwhile)
        except RenderError as exc:
            raise RenderError(f"{config.client_id} {month}: {exc}") from None
    results_path = report_dir / "results.json"
    results_path.write_text(_results_json(sections, config, month), encoding="utf-8")
    return html_path, pdf_path


def write_pdf(html_path: Path, pdf_path: Path, root: Path, timeout: float | None = None) -> None:
    """WeasyPrint `html_path` → `pdf_path`, reading only files under `root`; its warnings are errors.

    It runs in a child process (`crm_report.pdf`), killed after `timeout` seconds (`RENDER_TIMEOUT` when None):
    a RenderError naming the limit, and no PDF. The child costs WeasyPrint's import, which a render in this
    process would pay once too (0.8 s)."""
    with PdfProcess(html_path, pdf_path, root, timeout) as weasyprint:
        weasyprint.finish()


class PdfProcess:
    """WeasyPrint's child process (`crm_report.pdf`), started before the HTML exists: it imports WeasyPrint
    (0.8 s) and waits; `finish` tells it the HTML is written and waits for the PDF, at most `timeout` seconds
    from then (`RENDER_TIMEOUT` when None). Its output goes to files, not pipes, so it never waits for this
    process to read. Leaving the `with` block stops a child still running and deletes what PDF it began.

    In a batch worker that runs a warm renderer (`start_pdf_server`) and is not rendering another report
    with it at the moment, the child is forked from that renderer instead, WeasyPrint already imported."""

    def __init__(self, html_path: Path, pdf_path: Path, root: Path, timeout: float | None = None) -> None:
        self.html_path, self.pdf_path, self.root = html_path, pdf_path, root
        self.limit = RENDER_TIMEOUT if timeout is None else timeout
        self.server = _free_server()
        try:
            # the warm renderer's child opens them by name; a new process is given them open (none left behind)
            temporary = tempfile.TemporaryFile if self.server is None else tempfile.NamedTemporaryFile
            self.output, self.errors = temporary(), temporary()
            self.process = None if self.server is not None else self._start()
        except BaseException:
            if self.server is not None:
                self.server.lock.release()
            raise

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-P", pdf.__file__, str(self.html_path), str(self.pdf_path),
                                 str(self.root), str(self.limit)],
                                stdin=subprocess.PIPE, stdout=self.output, stderr=self.errors)

    def __enter__(self) -> PdfProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.lock.release()
        elif self.process is not None:
            if self.process.poll() is None:
                self._stop()
            if self.process.stdin is not None:
                with contextlib.suppress(BrokenPipeError):  # "go" still buffered for a child that has ended
                    self.process.stdin.close()
        self.output.close()
        self.errors.close()

    def finish(self, meanwhile: Callable[[], object] | None = None) -> None:
        """Let WeasyPrint read the HTML, run `meanwhile` here, then wait for the PDF: a RenderError when it
        was refused, crashed or ran out of time (no PDF is left then)."""
        if self.server is not None and not self.server.ready():  # it never came up: a process of its own
            self.server.lock.release()
            self.server, self.process = None, self._start()
        if self.server is not None:
            status = self.server.render(self.html_path, self.pdf_path, self.root, self.limit, self.output.name,
                                        self.errors.name, meanwhile)
        else:
            status = self._wait_for_child(meanwhile)
        if status is None or status == -signal.SIGXCPU:  # the child's own limit, should this one be late
            self._stop()
            raise RenderError(f"{self.html_path.name}: no PDF after {self.limit:g} s, the render time limit "
                              f"(render.RENDER_TIMEOUT); WeasyPrint was stopped")
        if status == pdf.REFUSED:
            raise RenderError(_read(self.output).strip())
        if status != 0:
            self.pdf_path.unlink(missing_ok=True)
            how = f"was killed by signal {-status}" if status < 0 else f"failed ({status})"
            raise RenderError(f"{self.html_path.name}: WeasyPrint {how}:\n{_read(self.errors).strip()[-4000:]}")

    def _wait_for_child(self, meanwhile: Callable[[], object] | None) -> int | None:
        """Say `GO` to the child, run `meanwhile`, wait for the child: its exit status, None when late."""
        assert self.process is not None and self.process.stdin is not None
        deadline = time.monotonic() + self.limit
        with contextlib.suppress(BrokenPipeError):  # the child has ended already: its status says why
            self.process.stdin.write(pdf.GO.encode())
            self.process.stdin.close()
        if meanwhile is not None:
            meanwhile()
        try:  # a child that has ended is reaped at once, however late this is
            return self.process.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            return None

    def _stop(self) -> None:
        """Kill the child (if still running) and delete the PDF it may have cut off while writing it."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.pdf_path.unlink(missing_ok=True)


class PdfServer:
    """A batch worker's warm WeasyPrint (`pdf.serve`, a child process): WeasyPrint is imported once per worker,
    not once per report (0.8 s of CPU each), and every render is still a fresh process forked from it. One
    render at a time: `lock` is held by the `PdfProcess` using it."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-P", pdf.__file__, pdf.SERVE], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        self.replies = pdf.Lines(self.process.stdout.fileno())
        self.lock = threading.Lock()
        self._ready = False  # WeasyPrint imported (`ready`)

    def alive(self) -> bool:
        return self.process.poll() is None

    def ready(self) -> bool:
        """Whether the renderer has imported WeasyPrint: the first time, waits for it up to `READY_TIMEOUT`
        seconds; a renderer that has not by then, or has gone, is stopped (renders then start processes of
        their own)."""
        if not self._ready:
            with contextlib.suppress(RenderError):
                self._ready = self._reply(READY_TIMEOUT) == "ready"
            if not self._ready:
                self._kill()
        return self._ready

    def render(self, html_path: Path, pdf_path: Path, root: Path, seconds: float, output: str, errors: str,
               meanwhile: Callable[[], object] | None) -> int | None:
        """Have the (`ready`) server fork a child that renders the PDF, and run `meanwhile` here meanwhile: the
        child's exit status (as `PdfProcess`'s own child's), or None when it was not done within `seconds`. A
        render that is late, or whose `meanwhile` fails, is stopped and what PDF it began deleted. Exactly one
        reply is read per render, so the next render's reply is its own. RenderError when the server has
        gone."""
        job = {"html": str(html_path), "pdf": str(pdf_path), "root": str(root), "seconds": seconds,
               "output": output, "errors": errors}
        deadline = time.monotonic() + seconds
        self._send(json.dumps(job))
        status = None
        try:
            if meanwhile is not None:
                meanwhile()
            status = self._reply(max(deadline - time.monotonic(), 0.0))
        finally:
            if status is None:
                self._stop_render()
                pdf_path.unlink(missing_ok=True)
        return None if status is None else int(status)

    def _stop_render(self) -> None:
        """Stop the render in progress and take its one reply (its status, or the status it had just ended
        with); a renderer that does not reply within `STOP_TIMEOUT` seconds, or has gone, is killed, and its
        child with it."""
        with contextlib.suppress(RenderError):
            self._send(pdf.STOP)
            if self._reply(STOP_TIMEOUT) is not None:
                return
        self._kill()

    def _kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def _send(self, line: str) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((line + "\n").encode())
            self.process.stdin.flush()
        except BrokenPipeError:
            raise RenderError("the warm PDF renderer stopped") from None

    def _reply(self, timeout: float | None) -> str | None:
        try:
            return self.replies.next(timeout)
        except EOFError:
            raise RenderError("the warm PDF renderer stopped") from None

    def stop(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        if self.alive():
            self.process.stdin.close()  # the server ends at the end of its input
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._kill()
        self.process.stdout.close()


READY_TIMEOUT = 60.0
"""Seconds a batch worker's warm renderer may take to import WeasyPrint (about 1 s) before its worker renders
without it."""
STOP_TIMEOUT = 30.0
"""Seconds the warm renderer may take to stop a render and say so before it is killed."""


_server: PdfServer | None = None
_starting = threading.Lock()


def start_pdf_server() -> PdfServer:
    """Start this process's warm renderer (once; batch workers): its reports' PDFs are then rendered by it. It is
    stopped when this process exits."""
    global _server
    with _starting:  # two threads of a Dask worker may start their first reports at once
        if _server is None or not _server.alive():
            _server = PdfServer()
            atexit.register(_server.stop)
        return _server


def _free_server() -> PdfServer | None:
    """This process's warm renderer, taken (its lock held) when it runs and no other render is using it."""
    server = _server
    if server is not None and server.alive() and server.lock.acquire(blocking=False):
        return server
    return None


def _read(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read().decode("utf-8", errors="replace")


def _copy_assets(report_dir: Path, config: ClientConfig) -> dict[str, str]:
    """Copy the stylesheet and the client's logo into the report folder so it is self-contained."""
    target = report_dir / "assets"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(TEMPLATES_DIR / "assets" / "report.css", target / "report.css")
    copied = {}
    if config.brand.logo:
        logo = check_logo(config)  # again: the file may have changed since client.yaml was read
        shutil.copy2(logo, target / f"logo{logo.suffix.lower()}")
        copied["logo"] = f"assets/logo{logo.suffix.lower()}"
    return copied


def _results_json(sections: dict[str, Any], config: ClientConfig, month: str) -> str:
    payload = {"client": config.client_id, "month": month, "locale": config.locale, "sections": sections}
    return json.dumps(results.to_jsonable(payload), ensure_ascii=False, indent=1)
