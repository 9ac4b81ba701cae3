"""Purchase models (BG/NBD, MBG/NBD, Pareto/NBD) + Gamma-Gamma: CDNOW fits, CDNOW holdout accuracy, fit time.

    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/clv_models.py [--repeat 3] [--customers 150000]

1. CDNOW fits on `cdnow_customers_summary.csv` (weeks) against the published estimates (REFERENCE.md):
   parameters, log-likelihood, median fit time.
2. CDNOW holdout (FHL 2005): calibrate on weeks 1–39 of `CDNOW_sample.txt`, predict weeks 40–78
   (`clv.backtest(..., months_back=9)`), against the 1,882 repeat purchases (334 by the 1,411 x = 0 customers).
3. Speed on a synthetic set of `--customers` customers (days; Pareto/NBD-like purchases over three years,
   fixed seed): fits on the distinct (x, t_x, T) rows weighted by counts (what `fit_purchases` does) against
   the same likelihood summed over every customer, and `customer_value(model_kind="auto")` end to end.

The earlier comparison with pymc-marketing (MAP, 1.9 s and 0.33 from the published BG/NBD) is in the README;
pymc-marketing is not a dependency and is no longer timed here.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from crm_report.metrics import clv
from crm_report.metrics.orders import purchase_orders

CDNOW = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdnow"
PUBLISHED = {
    "bgnbd": ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4, "FHL 2005"),
    "mbgnbd": ({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}, None, "lifetimes / BTYDplus"),
    "pareto_nbd": ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0, "FHL 2005"),
}


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def cdnow_orders() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "dollars"])
    lines = pd.DataFrame({"order_id": raw.index.astype(str), "customer_id": raw["customer_id"].astype(str),
                          "order_date": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
                          "amount": raw["dollars"].astype(float), "status": "paid"})
    return purchase_orders(lines, pd.Period("1998-06", freq="M").end_time)


def synthetic_orders(customers: int, as_of: pd.Timestamp, seed: int = 40) -> pd.DataFrame:
    """Purchase orders of `customers` customers acquired uniformly over three years before `as_of`: rate
    λ ~ Gamma(0.6, 1/60 per day), lifetime ~ Exp(μ), μ ~ Gamma(0.7, 1/500 per day), spend ~ Gamma(4, 250)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(0, 3 * 365, customers)
    rate, death = rng.gamma(0.6, 1 / 60, customers), rng.gamma(0.7, 1 / 500, customers)
    alive_for = np.minimum(rng.exponential(1 / death), age)
    repeats = rng.poisson(rate * alive_for)
    owner = np.repeat(np.arange(customers), repeats)
    offset = np.concatenate([np.zeros(customers), rng.uniform(0, alive_for[owner])])
    who = np.concatenate([np.arange(customers), owner])
    day = as_of.normalize() - pd.to_timedelta(age[who] - np.floor(offset), unit="D")
    orders = pd.DataFrame({"order_id": np.arange(len(who)).astype(str), "customer_id": who.astype(str),
                           "order_date": day + pd.Timedelta(hours=12),
                           "amount": np.round(rng.gamma(4, 250, len(who))), "status": "paid"})
    return purchase_orders(orders, as_of)


def fit_every_row(summary: pd.DataFrame, kind: str) -> float:
    """The same MLE (same gradients) with the likelihood summed over every customer, no grouping: the baseline."""
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    scale = float(summary["T"].mean())
    start = np.log([0.5, scale, 0.5, scale] if kind == "pareto_nbd" else [0.5, scale, 1.0, 1.0])
    gradient = None if kind == "pareto_nbd" else (
        lambda p: -np.exp(p) * clv._bg_score(kind, tuple(np.exp(p)), x, t_x, T).sum(axis=1))
    return -clv._minimise(lambda p: -float(clv.log_likelihood(kind, tuple(np.exp(p)), x, t_x, T).sum()), start,
                          gradient=gradient).fun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--customers", type=int, default=150_000)
    args = parser.parse_args()

    print("1. CDNOW fits (2,357 customers, weeks)")
    summary = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    for kind, (published, ll, source) in PUBLISHED.items():
        seconds, model = timed(lambda kind=kind: clv.fit_purchases(summary, kind), args.repeat)
        worst = max(abs(model.params[k] - v) for k, v in published.items())
        shown = ", ".join(f"{k}={v:.4f}" for k, v in model.params.items())
        print(f"  {kind:10} {shown}  LL {model.log_likelihood:.3f} (published {ll}, {source})  "
              f"max |Δ| {worst:.4f}  fit {seconds:.3f} s")
    spend = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv").rename(
        columns={"x": "frequency", "t_x": "recency", "zbar": "monetary"})
    seconds, gg = timed(lambda: clv.fit_gamma_gamma(spend), args.repeat)
    print(f"  gamma-gamma p={gg.p:.4f}, q={gg.q:.4f}, gamma={gg.gamma:.4f}  LL {gg.log_likelihood:.3f}  "
          f"fit {seconds:.3f} s")

    print("2. CDNOW holdout, weeks 40-78 (actual 1,882 repeat purchases; 334 by the 1,411 with x = 0)")
    orders, end = cdnow_orders(), pd.Period("1998-06", freq="M").end_time
    for kind in clv.PURCHASE_MODELS:
        seconds, table = timed(lambda kind=kind: clv.backtest(orders, end, 9, kind), 1)
        zero = table["frequency"].eq(0)
        total = clv.backtest_summary(table)["total"].iloc[0]
        print(f"  {kind:10} predicted {total['predicted_purchases']:7.1f} ({total['purchases_error']:+.1%}), "
              f"x = 0: {table.loc[zero, 'predicted_purchases'].sum():6.1f}, MAE {total['purchases_mae']:.3f}; "
              f"revenue {total['predicted_revenue']:,.0f} vs {total['actual_revenue']:,.0f} "
              f"({total['revenue_error']:+.1%}); {seconds:.2f} s")
    choice = clv.choose_model(orders, end, holdout_months=9)
    print(f"  choose_model(holdout 9 months): {choice.reason}")
    default = clv.choose_model(orders, end)
    print(f"  choose_model(default rule): {default.reason}")
    print(default.selection[["model_kind", "holdout_months", "predicted_purchases", "actual_purchases",
                             "purchases_error", "purchases_mae", "chosen"]].round(3).to_string(index=False))

    print(f"3. Speed on {args.customers:,} synthetic customers (days)")
    as_of = pd.Period("2026-10", freq="M").end_time
    synthetic = synthetic_orders(args.customers, as_of)
    seconds, rfm = timed(lambda: clv.rfm_summary(synthetic, as_of), 1)
    distinct = len(clv._distinct_rows(rfm)[0])
    print(f"  {len(synthetic):,} orders; rfm_summary {seconds:.2f} s; {distinct:,} distinct (x, t_x, T) rows")
    for kind in clv.PURCHASE_MODELS:
        grouped, model = timed(lambda kind=kind: clv.fit_purchases(rfm, kind), args.repeat)
        every, ll = timed(lambda kind=kind: fit_every_row(rfm, kind), 1)
        print(f"  {kind:10} fit on distinct rows {grouped:6.2f} s, on every customer {every:6.2f} s "
              f"(LL {model.log_likelihood:,.2f} vs {ll:,.2f})")
    seconds, value = timed(lambda: clv.customer_value(synthetic, as_of), 1)
    print(f"  customer_value(auto) {seconds:.2f} s: {value.selection_reason}")


if __name__ == "__main__":
    main()
