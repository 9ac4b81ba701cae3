import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from crm_report import results


def test_save_and_load_roundtrip(tmp_path):
    build = tmp_path / "build"
    table = pd.DataFrame({"month": pd.period_range("2026-09", periods=2, freq="M"), "n": np.array([1, 2]),
                          "share": [0.5, np.nan],
                          "day": pd.to_datetime(["2026-10-01", "2026-10-02 13:00"], format="ISO8601")})
    fig, ax = plt.subplots()
    results.save(build, "demo", values={"count": np.int64(3), "median": np.float64(1.5), "none": np.nan},
                 tables={"t": table}, figures={"chart": ax})
    raw = json.loads((build / "results" / "demo.json").read_text(encoding="utf-8"))
    assert raw["values"] == {"count": 3, "median": 1.5, "none": None}
    assert raw["tables"]["t"]["rows"][1] == ["2026-10", 2, None, "2026-10-02T13:00:00"]
    assert (tmp_path / raw["figures"]["chart"]).read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert not plt.fignum_exists(fig.number)  # saved figures are closed
    section = results.load_all(build)["demo"]
    assert section.tables["t"][0] == {"month": "2026-09", "n": 1, "share": 0.5, "day": "2026-10-01"}
    assert section.values["count"] == 3


def test_a_plain_datetime_is_written_like_a_timestamp():
    """Found by mypy: `to_jsonable` called `normalize()`, which only pandas' Timestamp has, on any datetime."""
    import datetime as dt

    assert results.to_jsonable(dt.datetime(2026, 10, 1)) == "2026-10-01"
    assert results.to_jsonable(dt.datetime(2026, 10, 1, 13, 5)) == "2026-10-01T13:05:00"
    assert results.to_jsonable(pd.Timestamp("2026-10-01 13:05")) == "2026-10-01T13:05:00"


def test_a_chart_drawn_in_a_subfigure_is_saved_with_its_whole_figure(tmp_path):
    """An axes of a subfigure: its `.figure` is the subfigure, which cannot be saved; the root figure is."""
    fig = plt.figure()
    ax = fig.subfigures(1, 2)[0].subplots()
    results.save(tmp_path / "build", "demo", figures={"chart": ax})
    assert (tmp_path / "build" / "figures" / "demo-chart.svg").is_file()
    assert not plt.fignum_exists(fig.number)


def _axes_box(svg: str) -> str:
    """The axes background's path in a saved SVG (`patch_2`, the first patch after the figure's)."""
    return svg.split('<g id="patch_2">')[1].split('d="')[1].split('"')[0]


def test_a_chart_laid_out_since_its_last_change_is_saved_with_that_layout(tmp_path):
    """Issue 13: laying a chart out costs about 0.2 s and `savefig` did it again in a dry run. A chart laid out since
    its last change (`charts._title` does it last) keeps that layout: the axes sit where the layout put them.
    A chart changed after it (a longer y label here) is laid out again, so nothing is cut off."""
    left, laid_out = {}, {}
    for name, change_after in (("kept", False), ("changed", True)):
        fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
        ax.plot([0, 1], [0, 1000])
        ax.set_title("Predicted and actual purchases")
        fig.draw_without_rendering()
        laid_out[name] = ax.get_window_extent().x0 * 72 / fig.dpi  # pixels → points, the SVG's unit
        if change_after:
            ax.set_ylabel("a label that needs room on the left")
        assert fig.stale == change_after
        results.save(tmp_path / "build", "demo", figures={name: ax})
        svg = (tmp_path / "build" / "figures" / f"demo-{name}.svg").read_text(encoding="utf-8")
        left[name] = float(_axes_box(svg).split()[1])  # "M x0 y0 L ..."
    assert left["kept"] == pytest.approx(laid_out["kept"], abs=1e-4)
    assert left["changed"] > laid_out["changed"] + 5
