"""Customer lifetime value: historic, and predicted with BG/NBD (purchases, P(alive)) and Gamma-Gamma (spend).

Models (maximum likelihood, fitted with scipy on log-parameters, vectorised over customers):
- **BG/NBD**: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
  Pareto/NBD Model", Marketing Science 24(2). While alive a customer buys at Poisson rate λ ~ Gamma(r, α);
  after each purchase they drop out with probability p ~ Beta(a, b).
- **Gamma-Gamma**: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (brucehardie.com/notes/025).
  A customer's mean spend per transaction varies around ν ~ Gamma(q, γ); spends are Gamma(p, ν).

Inputs follow the papers: per customer `frequency` x = repeat purchases (purchase days after the first; several
orders on one day are one purchase), `recency` t_x = time from the first to the last purchase, `T` = time from
the first purchase to the end of observation, `monetary` z̄ = mean spend of the repeat purchases (excluding
the first). `rfm_summary` builds these in days from purchase orders; the CDNOW tests use the published
weekly summary.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from crm_report.metrics.orders import purchase_days
from crm_report.period import window_start

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class BgNbd:
    """Fitted BG/NBD parameters and the log-likelihood at them."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters (γ is called `gamma`) and the log-likelihood at them."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int

    @property
    def population_mean(self) -> float:
        """E[spend per transaction] for a customer with no repeat purchases: pγ / (q − 1)."""
        return self.p * self.gamma / (self.q - 1)


def rfm_summary(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer (index customer_id): frequency, recency, T in days, monetary (mean repeat spend, 0 if none)
    and first_spend. Purchases are calendar days; the observation ends on the as-of day."""
    days = purchase_days(orders)
    first = days.loc[days["visit"].eq(1)].set_index("customer_id")
    repeat = days.loc[days["visit"].gt(1)].groupby("customer_id", observed=True)
    last = days.groupby("customer_id", observed=True)["order_day"].max()
    summary = pd.DataFrame({
        "frequency": repeat.size().reindex(first.index, fill_value=0),
        "recency": (last - first["order_day"]).dt.days,
        "T": (as_of.normalize() - first["order_day"]).dt.days,
        "monetary": repeat["amount"].mean().reindex(first.index, fill_value=0.0),
        "first_spend": first["amount"],
    })
    return summary.astype({"frequency": "int64", "recency": "float64", "T": "float64"})


def bgnbd_log_likelihood(params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray,
                         T: np.ndarray) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood, FHL (2005) eq. (6), computed with logs for stability."""
    r, alpha, a, b = params
    ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    ln_a2 = (special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b)
             - special.gammaln(a + b + x))
    ln_a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
                         -np.inf)
    return ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4)


def fit_bgnbd(summary: pd.DataFrame) -> BgNbd:
    """Maximum-likelihood BG/NBD on `frequency`, `recency`, `T` (any time unit, used consistently)."""
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    if len(x) == 0 or not (x > 0).any():
        raise ValueError("BG/NBD needs customers with repeat purchases (column frequency > 0)")

    def negative(log_params: np.ndarray) -> float:
        return -float(bgnbd_log_likelihood(tuple(np.exp(log_params)), x, t_x, T).sum())

    start = np.log([0.5, max(float(T.mean()), 1.0), 1.0, 1.0])
    result = _minimise(negative, start)
    r, alpha, a, b = np.exp(result.x)
    return BgNbd(r=r, alpha=alpha, a=a, b=b, log_likelihood=-result.fun, customers=len(x))


def p_alive(model: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active | x, t_x, T), FHL (2005) eq. (A2): 1 for customers without a repeat purchase."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    ratio = _dropout_odds(model, x, t_x, T)
    return 1.0 / (1.0 + ratio)


def expected_purchases(model: BgNbd, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray,
                       T: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T], FHL (2005) eq. (10)."""
    x, t_x, T, t = (np.asarray(v, dtype=float) for v in (x, t_x, T, t))
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    head = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return head / (1 + _dropout_odds(model, x, t_x, T))


def expected_purchases_new(model: BgNbd, t: float | np.ndarray) -> np.ndarray:
    """E[X(t)] for a customer just acquired, FHL (2005) eq. (9)."""
    t = np.asarray(t, dtype=float)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def gamma_gamma_log_likelihood(params: tuple[float, float, float], x: np.ndarray, zbar: np.ndarray) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend z̄ over x transactions (Fader & Hardie 2013)."""
    p, q, gamma = params
    return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q) + q * np.log(gamma)
            + (p * x - 1) * np.log(zbar) + p * x * np.log(x) - (p * x + q) * np.log(gamma + x * zbar))


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma on customers with `frequency` > 0 and positive `monetary`."""
    used = summary.loc[summary["frequency"].gt(0) & summary["monetary"].gt(0)]
    if len(used) < 2:
        raise ValueError("Gamma-Gamma needs at least 2 customers with repeat purchases and positive spend")
    x, zbar = used["frequency"].to_numpy(dtype=float), used["monetary"].to_numpy(dtype=float)

    def negative(log_params: np.ndarray) -> float:
        return -float(gamma_gamma_log_likelihood(tuple(np.exp(log_params)), x, zbar).sum())

    result = _minimise(negative, np.log([1.0, 2.0, max(float(zbar.mean()), 1.0)]))
    p, q, gamma = np.exp(result.x)
    return GammaGamma(p=p, q=q, gamma=gamma, log_likelihood=-result.fun, customers=len(used))


def expected_spend(model: GammaGamma, x: np.ndarray, zbar: np.ndarray) -> np.ndarray:
    """E[spend per transaction | x, z̄] = (p(γ + x z̄)) / (px + q − 1): a weighted mean of the population mean
    and the customer's own z̄; customers with x = 0 get the population mean."""
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    return model.p * (model.gamma + x * zbar) / (model.p * x + model.q - 1)


def predict_clv(summary: pd.DataFrame, purchases: BgNbd, spend: GammaGamma, months: int = 12,
                monthly_discount: float = 0.01, days_per_unit: float = 1.0) -> pd.DataFrame:
    """Per customer: p_alive, expected purchases in the next `months`, expected spend per purchase and the
    discounted CLV = Σₘ (E[purchases in month m]) × E[spend] / (1 + d)ᵐ, m = 1..months (a month is 365.25/12 days;
    `days_per_unit` converts when the summary is not in days)."""
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    month = DAYS_PER_MONTH / days_per_unit
    cumulative = np.stack([expected_purchases(purchases, m * month, x, t_x, T) for m in range(months + 1)])
    per_month = np.diff(cumulative, axis=0)
    discount = (1 + monthly_discount) ** -np.arange(1, months + 1)
    spend_each = expected_spend(spend, x, summary["monetary"].to_numpy(dtype=float))
    return pd.DataFrame({
        "p_alive": p_alive(purchases, x, t_x, T),
        "expected_purchases": cumulative[-1],
        "expected_spend": spend_each,
        "clv": (per_month * discount[:, None]).sum(axis=0) * spend_each,
    }, index=summary.index)


def _dropout_odds(model: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x): the odds that a customer has already dropped out."""
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = model.a / (model.b + x - 1) * ((model.alpha + T) / (model.alpha + t_x)) ** (model.r + x)
    return np.where(x > 0, odds, 0.0)


def _minimise(negative, start: np.ndarray) -> optimize.OptimizeResult:
    """L-BFGS-B with tight tolerances from `start` (on CDNOW it reaches the MLE's log-likelihood to 1e-10);
    Nelder–Mead takes over from where it stopped if it reports failure."""
    result = optimize.minimize(negative, start, method="L-BFGS-B", options={"ftol": 1e-12, "gtol": 1e-9})
    if not result.success or not np.isfinite(result.fun):
        result = optimize.minimize(negative, result.x, method="Nelder-Mead",
                                   options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 20000, "maxfev": 20000})
    if not np.isfinite(result.fun):
        raise ValueError("the model could not be fitted (the likelihood is not finite)")
    return result


MIN_REPEAT_CUSTOMERS = 20
LOW_P_ALIVE = 0.5


@dataclass(frozen=True)
class CustomerValue:
    """Per-customer historic and predicted value, the fitted models, and why there is no prediction if so.

    `problem` is None, "too_few_repeaters" (fewer than `MIN_REPEAT_CUSTOMERS` customers bought twice),
    "no_finite_mean" (fitted a ≤ 1 or q ≤ 1: expectations are infinite) or "fit_failed".
    """

    table: pd.DataFrame
    purchases: BgNbd | None
    spend: GammaGamma | None
    problem: str | None
    repeat_customers: int


def customer_value(orders: pd.DataFrame, as_of: pd.Timestamp, months: int = 12,
                   monthly_discount: float = 0.01) -> CustomerValue:
    """Historic revenue and, where the models can be fitted, P(alive) and predicted `months`-month CLV.

    `table` (index customer_id): frequency, recency, T (days), monetary, first_spend, historic_revenue (all
    paid orders to the as-of date), p_alive, expected_purchases, expected_spend, clv, and `prediction`: "ok" or
    the problem code. The models need at least `MIN_REPEAT_CUSTOMERS` customers with a repeat purchase and
    finite means; otherwise every prediction is missing and `problem` says why. There is no other minimum
    client size (Klaviyo's 500-buyer gate is not copied).
    """
    summary = rfm_summary(orders, as_of)
    historic = orders.groupby("customer_id", observed=True)["amount"].sum().reindex(summary.index)
    table = summary.assign(historic_revenue=historic)
    repeaters = int(summary["frequency"].gt(0).sum())
    problem, purchases, spend = None, None, None
    if repeaters < MIN_REPEAT_CUSTOMERS:
        problem = "too_few_repeaters"
    else:
        try:
            purchases, spend = fit_bgnbd(summary), fit_gamma_gamma(summary)
        except ValueError:
            problem = "fit_failed"
        else:
            if spend.q <= 1 or purchases.a <= 1:
                problem = "no_finite_mean"
    if problem is None:
        predicted = predict_clv(summary, purchases, spend, months=months, monthly_discount=monthly_discount)
        return CustomerValue(table.join(predicted).assign(prediction="ok"), purchases, spend, None, repeaters)
    empty = pd.DataFrame(np.nan, index=summary.index,
                         columns=["p_alive", "expected_purchases", "expected_spend", "clv"])
    return CustomerValue(table.join(empty).assign(prediction=problem), purchases, spend, problem, repeaters)


def value_by_group(table: pd.DataFrame, groups: pd.Series, order: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per group: customers, mean and total historic revenue, mean and total predicted CLV, mean P(alive),
    and the share of all predicted value. `groups` is aligned with `table`'s index."""
    summary = table.assign(group=groups).groupby("group", observed=True).agg(
        customers=("historic_revenue", "size"),
        historic_mean=("historic_revenue", "mean"),
        historic_total=("historic_revenue", "sum"),
        clv_mean=("clv", "mean"),
        clv_total=("clv", "sum"),
        p_alive_mean=("p_alive", "mean"),
    )
    if order is not None:
        summary = summary.reindex([g for g in order if g in summary.index])
    total = summary["clv_total"].sum()
    return summary.assign(clv_share=summary["clv_total"] / total if total else np.nan).rename_axis("group").reset_index()


def value_at_stake(table: pd.DataFrame, threshold: float = LOW_P_ALIVE) -> dict[str, float | int]:
    """Customers who have probably stopped buying (P(alive) < `threshold`): how many, their share of all
    customers, and the historic revenue they brought (what the business stands to lose if none returns)."""
    low = table["p_alive"].lt(threshold)
    return {"threshold": threshold, "customers": int(low.sum()),
            "historic_revenue": float(table.loc[low, "historic_revenue"].sum()),
            "share_of_customers": float(low.mean()) if len(table) else float("nan")}


def seed_clv(orders: pd.DataFrame, as_of: pd.Timestamp, acquisition_cost: float | None = None) -> dict[str, float | int | None]:
    """The two rule-of-thumb CLV formulas of seed 003, with every input shown.

    Windows (`period.window_start`): the last year = the 12 calendar months ending at `as_of`; the year
    before = the 12 months before that.
    - AOV = last year's revenue / last year's orders; frequency = last year's orders / customers who bought
      in the last year; ARPU = last year's revenue / those customers (= AOV × frequency).
    - Annual churn = share of the customers who bought in the year before who did not buy in the last year;
      expected lifespan = 1 / churn (years).
    - CLV = AOV × frequency × lifespan − CAC (`acquisition_cost`, optional), and LTV = ARPU × 1 / churn.
      With lifespan = 1 / churn the two agree before CAC; the first shows what a customer is worth net of
      what it costs to win them.
    Guest orders (no customer id) are left out: the formulas describe a customer's value.
    Missing (None) when the data cannot support a figure: no orders in the last year, no customers in the
    year before (less than two years of history), or churn = 0 (lifespan unbounded).
    """
    orders = orders.dropna(subset=["customer_id"])  # guest orders belong to no customer's value
    year_ago, two_years_ago = window_start(as_of, 12), window_start(as_of, 24)
    last = orders.loc[orders["order_date"].gt(year_ago) & orders["order_date"].le(as_of)]
    before = orders.loc[orders["order_date"].gt(two_years_ago) & orders["order_date"].le(year_ago)]
    customers = last["customer_id"].nunique()
    base = pd.Index(before["customer_id"].unique())
    churned = int((~base.isin(last["customer_id"])).sum())
    revenue, n_orders = float(last["amount"].sum()), len(last)
    aov = revenue / n_orders if n_orders else None
    frequency = n_orders / customers if customers else None
    arpu = revenue / customers if customers else None
    churn = churned / len(base) if len(base) else None
    lifespan = 1 / churn if churn else None
    gross = aov * frequency * lifespan if aov is not None and frequency is not None and lifespan else None
    return {
        "customers": customers, "orders": n_orders, "revenue": revenue, "aov": aov, "frequency": frequency,
        "arpu": arpu, "base_customers": len(base), "churned_customers": churned, "churn_rate": churn,
        "lifespan_years": lifespan, "acquisition_cost": acquisition_cost, "clv": gross,
        "clv_net": gross - acquisition_cost if gross is not None and acquisition_cost is not None else None,
        "ltv_arpu": arpu / churn if arpu is not None and churn else None,
    }
