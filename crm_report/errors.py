"""The one base class of the errors a consultant can cause or meet, as papermill's `exceptions.py` has.

A client.yaml that cannot be used (`config.ConfigError`), an order source that cannot be used
(`data.sources.DataError`), a notebook that fails or is given parameters it does not declare
(`execute.NotebookError`), a campaign workbook that cannot hold a value (`exports.ExportError`), a PDF
that cannot be written or takes too long (`render.RenderError`), another run of the same client-month
(`pipeline.RunInProgress`), a missing font (`charts.FontMissingError`), a report folder that cannot be
made (a plain `ReportError`): each is a `ReportError` whose message names the file, row and column or key,
and what to do. `run_report.py` prints them as one line; any other exception is a bug and keeps its traceback.

Each keeps the built-in base it had (ValueError, RuntimeError), so code that caught those still does.
"""
from __future__ import annotations


class ReportError(Exception):
    """An expected failure of a report or a check: the message says what and where, for the consultant."""
