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
"""
from __future__ import annotations

import logging
import math
import mimetypes
import resource
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

REFUSED = 3
"""Exit status of a render refused for a reason it prints (a file outside the report, WeasyPrint warnings)."""
GO = "go\n"
"""The line the parent writes on standard input once the HTML is written (the child imports WeasyPrint first).
Anything else, or the end of the input, ends the child without a PDF (status `NOT_STARTED`)."""
NOT_STARTED = 4


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
    html_path, pdf_path, root = (Path(a) for a in argv[:3])
    cpu_seconds = math.ceil(float(argv[3])) + 1  # past the caller's wall-clock limit: that one speaks first
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))  # SIGXCPU, then SIGKILL
    logging.getLogger("weasyprint").propagate = False  # its warnings are collected, not printed
    import weasyprint  # noqa: F401  (now, while the parent still writes the HTML)
    if sys.stdin.readline() != GO:
        return NOT_STARTED
    refused = write(html_path, pdf_path, root)
    if refused is not None:
        print(refused)
        return REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
