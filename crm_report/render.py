"""HTML and PDF from the saved results: Jinja templates (strict, autoescaped) and WeasyPrint.

WeasyPrint may read only files inside the report's own folder (no network, no other paths), and any
warning it logs (a missing image, font or stylesheet) fails the render instead of leaving a hole.
"""
from __future__ import annotations

import functools
import json
import logging
import mimetypes
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import jinja2
from markupsafe import Markup, escape

from crm_report import formatting, i18n, results
from crm_report.config import ClientConfig, check_logo
from crm_report.paths import TEMPLATES_DIR


class RenderError(RuntimeError):
    """The report could not be rendered completely."""


def __getattr__(name: str) -> Any:
    """`render.ReportFetcher`, built on first use: WeasyPrint is imported only when something is rendered."""
    if name == "ReportFetcher":
        return _report_fetcher_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _report_fetcher_class() -> type:
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

    ReportFetcher.__module__, ReportFetcher.__qualname__ = __name__, "ReportFetcher"
    return ReportFetcher


def make_environment(locale: str, templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """Jinja with StrictUndefined, autoescape and the number/date filters for `locale`."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({
        "number": formatting.number,
        "money": lambda v: formatting.money(v, locale),
        "money_short": lambda v: formatting.money_short(v, locale),
        "compact": lambda v: formatting.compact(v, locale),
        "pct": formatting.pct,
        "name": formatting.short_name,
        "month": lambda v: formatting.month_label(v, locale),
        "date": lambda v: formatting.date_label(v, locale),
        "change": lambda v, kind: (formatting.signed_points(v, locale) if kind == "points"
                                   else formatting.signed_pct(v)),
        "trend": lambda v: "flat" if v is None or abs(v) < 0.005 else ("up" if v > 0 else "down"),
        "fill": lambda text, **kw: text.format(**kw),
        "words": unbreakable_words,
    })
    return env


def unbreakable_words(text: str) -> Markup:
    """`text` with each space-separated word in a `<span class="word">` that the stylesheet keeps on one
    line: a table header then wraps only between words, never inside one (購買人/數, E-/mail)."""
    return Markup(" ").join(Markup('<span class="word">%s</span>') % word for word in escape(text).split())


def render_report(report_dir: Path, config: ClientConfig, month: str) -> tuple[Path, Path]:
    """Write report.html and report.pdf in `report_dir` from `report_dir/build/results`."""
    sections = results.load_all(report_dir / "build")
    assets = _copy_assets(report_dir, config)
    context = {
        "client": {"name": config.display_name, "id": config.client_id, "locale": config.locale,
                   "primary": config.brand.primary_color, "accent": config.brand.accent_color,
                   "logo": assets.get("logo")},
        "month": month,
        "t": i18n.strings(config.locale),
        "s": sections,
    }
    html_text = make_environment(config.locale).get_template("report.html").render(**context)
    html_path = report_dir / "report.html"
    html_path.write_text(html_text, encoding="utf-8")
    pdf_path = report_dir / "report.pdf"
    write_pdf(html_path, pdf_path, root=report_dir)
    results_path = report_dir / "results.json"
    results_path.write_text(_results_json(sections, config, month), encoding="utf-8")
    return html_path, pdf_path


def write_pdf(html_path: Path, pdf_path: Path, root: Path) -> None:
    """WeasyPrint `html_path` → `pdf_path`, reading only files under `root`; its warnings are errors."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    problems = _LogCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(problems)
    try:
        HTML(filename=str(html_path), base_url=str(root), url_fetcher=_report_fetcher_class()(root)).write_pdf(
            str(pdf_path), uncompressed_pdf=False)
    except FatalURLFetchingError as exc:
        raise RenderError(str(exc)) from None
    finally:
        logger.removeHandler(problems)
    if problems.messages:
        pdf_path.unlink(missing_ok=True)
        raise RenderError("WeasyPrint reported problems:\n  " + "\n  ".join(problems.messages))


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


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
