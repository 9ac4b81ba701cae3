"""BG/NBD + Gamma-Gamma on CDNOW: our scipy implementation against pymc-marketing (MAP), accuracy and fit time.

    .venv/bin/python bench/clv_models.py [--repeat 5]

pymc-marketing is not a project dependency (it brings PyMC and PyTensor, which compile C at first use); run
this with an interpreter where it is installed to compare, e.g.
    python -m venv /tmp/pmc && /tmp/pmc/bin/pip install pymc-marketing && /tmp/pmc/bin/pip install -e .
    /tmp/pmc/bin/python bench/clv_models.py
Without it, only the scipy figures are printed.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd

from crm_report.metrics import clv

CDNOW = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdnow"
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "gamma": 15.44}


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def scipy_fit(summary: pd.DataFrame, spend: pd.DataFrame) -> dict[str, float]:
    purchases, gg = clv.fit_bgnbd(summary), clv.fit_gamma_gamma(spend)
    return {"r": purchases.r, "alpha": purchases.alpha, "a": purchases.a, "b": purchases.b,
            "p": gg.p, "q": gg.q, "gamma": gg.gamma}


def pymc_fit(summary: pd.DataFrame, spend: pd.DataFrame) -> dict[str, float]:
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    bg = BetaGeoModel(data=summary.rename(columns={"ID": "customer_id"}))
    bg.fit(method="map")
    money = spend.loc[spend["frequency"] > 0].rename(columns={"ID": "customer_id", "monetary": "monetary_value"})
    gg = GammaGammaModel(data=money[["customer_id", "frequency", "monetary_value"]])
    gg.fit(method="map")
    post_bg, post_gg = bg.idata.posterior, gg.idata.posterior
    return {"r": float(post_bg["r"].mean()), "alpha": float(post_bg["alpha"].mean()),
            "a": float(post_bg["a"].mean()), "b": float(post_bg["b"].mean()),
            "p": float(post_gg["p"].mean()), "q": float(post_gg["q"].mean()), "gamma": float(post_gg["v"].mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    summary = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    spend = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv").rename(
        columns={"x": "frequency", "t_x": "recency", "zbar": "monetary"})
    candidates = {"scipy (crm_report.metrics.clv)": scipy_fit}
    try:
        import pymc_marketing  # noqa: F401
        candidates["pymc-marketing MAP"] = pymc_fit
    except ImportError:
        print("pymc-marketing is not installed here: scipy only")
    for name, fit in candidates.items():
        fit(summary, spend)  # warm-up (PyTensor compiles on first use)
        seconds, params = timed(lambda: fit(summary, spend), args.repeat)
        worst = max(abs(params[k] - PUBLISHED[k]) for k in PUBLISHED)
        shown = ", ".join(f"{k}={v:.4f}" for k, v in params.items())
        print(f"{name:32} fit {seconds:6.3f} s  max |Δ published| {worst:.4f}  ({shown})")


if __name__ == "__main__":
    main()
