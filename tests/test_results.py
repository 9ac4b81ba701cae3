import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

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
