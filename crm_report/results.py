"""The results bundle: each notebook saves its section here; the renderer reads only this.

`build/results/<section>.json` holds {"values": {...}, "tables": {name: {"columns", "rows"}}, "figures":
{name: relative path}}; charts are written as SVG to `build/figures/<section>-<name>.svg`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pydantic


def save(build_dir: Path, section: str, *, values: Mapping[str, Any] | None = None,
         tables: Mapping[str, pd.DataFrame] | None = None,
         figures: Mapping[str, plt.Axes | plt.Figure] | None = None) -> Path:
    """Write one section's values, tables and figures under `build_dir`; closes the figures. A figure laid out
    since its last change (not `stale`) is saved with that layout, as it was measured; any other is laid out
    by `savefig`."""
    build_dir = Path(build_dir)
    (build_dir / "results").mkdir(parents=True, exist_ok=True)
    (build_dir / "figures").mkdir(parents=True, exist_ok=True)
    figure_paths = {}
    for name, artist in (figures or {}).items():
        figure = artist.get_figure(root=True) if isinstance(artist, plt.Axes) else artist
        if figure is None:
            raise ValueError(f"{section}: figure {name!r} is an axes that belongs to no figure")
        relative = f"build/figures/{section}-{name}.svg"
        if not figure.stale:  # laid out since its last change (`charts._title`): keep that layout, which
            figure.set_layout_engine(None)  # savefig would compute again in a dry-run draw (~0.2 s a chart)
        figure.savefig(build_dir.parent / relative, format="svg", metadata={"Date": None})
        plt.close(figure)
        figure_paths[name] = relative
    payload = {
        "values": to_jsonable(dict(values or {})),
        "tables": {name: table_to_json(frame) for name, frame in (tables or {}).items()},
        "figures": figure_paths,
    }
    path = build_dir / "results" / f"{section}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, allow_nan=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Section:
    """One saved section as templates see it: tables are lists of row dicts."""

    values: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    figures: dict[str, str]


def load_all(build_dir: Path) -> dict[str, Section]:
    """Every saved section of a build folder, by name."""
    sections = {}
    for path in sorted((Path(build_dir) / "results").glob("*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))
        tables = {name: [dict(zip(t["columns"], row, strict=True)) for row in t["rows"]]
                  for name, t in payload["tables"].items()}
        sections[path.stem] = Section(values=payload["values"], tables=tables, figures=payload["figures"])
    return sections


def table_to_json(frame: pd.DataFrame) -> dict[str, list]:
    """Columns and rows of plain JSON values (dates as ISO text, missing as null)."""
    return {"columns": [str(c) for c in frame.columns],
            "rows": [[to_jsonable(v) for v in row] for row in frame.itertuples(index=False, name=None)]}


def to_jsonable(value: Any) -> Any:
    """numpy/pandas scalars → Python; dataclasses and pydantic models → dicts; Period → '2026-10';
    Timestamp → '2026-10-31'; NaN/NaT → None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, pydantic.BaseModel):
        return to_jsonable(value.model_dump())
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return table_to_json(value)
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        value = pd.Timestamp(value)  # a plain datetime has no normalize()
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
