"""Customer lifetime value: historic, and predicted with a purchase model (BG/NBD, MBG/NBD or Pareto/NBD:
purchases, P(alive)) and Gamma-Gamma (spend), the purchase model chosen by holdout accuracy.

Models (maximum likelihood, fitted with scipy on log-parameters, vectorised over customers):
- **BG/NBD**: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
  Pareto/NBD Model", Marketing Science 24(2). While alive a customer buys at Poisson rate λ ~ Gamma(r, α);
  after each repeat purchase they drop out with probability p ~ Beta(a, b).
- **MBG/NBD**: Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for
  customer base analysis", International Journal of Research in Marketing 24(3): as BG/NBD, but a customer
  may also drop out right after the first purchase.
- **Pareto/NBD**: Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are They and What Will
  They Do Next?", Management Science 33(1); formulas as in Fader & Hardie, note 008 (brucehardie.com/notes/008).
  Poisson purchases while alive, an exponential lifetime with rate μ ~ Gamma(s, β).
- **Gamma-Gamma**: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (brucehardie.com/notes/025).
  A customer's mean spend per transaction varies around ν ~ Gamma(q, γ); spends are Gamma(p, ν).

The purchase models share one interface: a frozen dataclass with `kind` (one of `PURCHASE_MODELS`), `params`,
`log_likelihood` and `customers`; `fit_purchases`, `log_likelihood`, `p_alive`, `expected_purchases` and
`expected_purchases_new` dispatch on `kind`. `backtest` and `choose_model` check them on held-out months.

Inputs follow the papers: per customer `frequency` x = repeat purchases (purchase days after the first; several
orders on one day are one purchase), `recency` t_x = time from the first to the last purchase, `T` = time from
the first purchase to the end of observation, `monetary` z̄ = mean spend of the repeat purchases (excluding
the first). `rfm_summary` builds these in days from purchase orders; the CDNOW tests use the published
weekly summary.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Literal, TypedDict, overload

import numpy as np
import pandas as pd
from scipy import optimize, special
from threadpoolctl import threadpool_limits  # installed with scikit-learn (requirements.txt)

from crm_report.frames import coded, decoded, isin
from crm_report.metrics.orders import purchase_days
from crm_report.period import window_start

DAYS_PER_MONTH = 365.25 / 12


PURCHASE_MODELS = ("bgnbd", "mbgnbd", "pareto_nbd")
"""The purchase models, by `kind`: BG/NBD, MBG/NBD and Pareto/NBD."""
DEFAULT_MODEL = "mbgnbd"
"""The model used when the client's history is too short to pick one by holdout accuracy (see `choose_model`)."""
AUTO_MODELS = ("bgnbd", "mbgnbd")
"""The models "auto" chooses among. Pareto/NBD is left out: without an analytic gradient, and with a
hypergeometric function that converges slowly when customers' purchase rates barely differ, one fit took
5–9 s on a 10,000-customer demo client (a report fits it up to five times: 10–40 s). It was the most accurate
on two of the three demo clients, by 4–7 points of holdout error (README); `report.clv_model: pareto_nbd`
uses it."""


@dataclass(frozen=True)
class _Fitted:
    """What the fitted purchase models share: `params`, their parameters by name (every field but the fit's
    log-likelihood and the number of customers), in the order the likelihood takes them."""

    @property
    def params(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("log_likelihood", "customers")}


@dataclass(frozen=True)
class BgNbd(_Fitted):
    """Fitted BG/NBD parameters (Fader, Hardie & Lee 2005) and the log-likelihood at them."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int
    kind: ClassVar[str] = "bgnbd"


@dataclass(frozen=True)
class MbgNbd(BgNbd):
    """Fitted MBG/NBD parameters (Batislam, Denizel & Filiztekin 2007): the same r, α, a, b as BG/NBD, read by
    the MBG/NBD formulas (`kind`)."""

    kind: ClassVar[str] = "mbgnbd"


@dataclass(frozen=True)
class ParetoNbd(_Fitted):
    """Fitted Pareto/NBD parameters (Schmittlein, Morrison & Colombo 1987) and the log-likelihood at them."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    customers: int
    kind: ClassVar[str] = "pareto_nbd"


PurchaseModel = BgNbd | MbgNbd | ParetoNbd
_MODEL_CLASSES: dict[str, type[PurchaseModel]] = {"bgnbd": BgNbd, "mbgnbd": MbgNbd, "pareto_nbd": ParetoNbd}


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
        """E[spend per transaction] for a customer with no repeat purchases: pγ / (q − 1); infinite (NaN here)
        when q ≤ 1."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("nan")


def rfm_summary(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer (index customer_id): frequency, recency, T in days, monetary (mean repeat spend, 0 if none)
    and first_spend. Purchases are calendar days; the observation ends on the as-of day."""
    _require(orders, ("customer_id", "order_day", "amount"), "orders")
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
    """Per-customer BG/NBD log-likelihood, FHL (2005) eq. (6), computed with logs for stability:
    L = B(a, b+x)/B(a, b) · Γ(r+x)αʳ/Γ(r) · [(α+T)^−(r+x) + δ(x>0) a/(b+x−1) (α+t_x)^−(r+x)]."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    ln_a2 = (special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b)
             - special.gammaln(a + b + x))
    ln_a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
                         -np.inf)
    return ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4)


def mbgnbd_log_likelihood(params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray,
                          T: np.ndarray) -> np.ndarray:
    """Per-customer MBG/NBD log-likelihood, Batislam, Denizel & Filiztekin (2007), in logs:
    L = B(a, b+x+1)/B(a, b) · Γ(r+x)αʳ/Γ(r) · [(α+T)^−(r+x) + a/(b+x) (α+t_x)^−(r+x)].
    Unlike BG/NBD a customer may also drop out right after the first purchase, so the second term is there
    for x = 0 as well (lifetimes `ModifiedBetaGeoFitter`, BTYDplus `mbgnbd.LL`)."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    ln_a2 = (special.gammaln(a + b) + special.gammaln(b + x + 1) - special.gammaln(b)
             - special.gammaln(a + b + x + 1))
    ln_a3 = -(r + x) * np.log(alpha + T)
    ln_a4 = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x)
    return ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4)


def pareto_nbd_log_likelihood(params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray,
                              T: np.ndarray) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood, Schmittlein, Morrison & Colombo (1987) in the form of
    Fader & Hardie, note 008 ("A Note on Deriving the Pareto/NBD Model and Related Expressions", eq. 22):
    L = Γ(r+x)αʳβˢ/Γ(r) · [(α+T)^−(r+x) (β+T)^−s + s/(r+s+x) · A₀], A₀ = ∫ dropping out in (t_x, T], see
    `_log_a0`. Computed in logs, with the Gauss hypergeometric functions transformed so they never overflow."""
    r, alpha, s, beta = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dead = np.log(s) - np.log(r + s + x) + _log_a0(params, x, t_x, T)
    return ln_a1 + np.logaddexp(alive, dead)


_LOG_LIKELIHOODS = {"bgnbd": bgnbd_log_likelihood, "mbgnbd": mbgnbd_log_likelihood,
                    "pareto_nbd": pareto_nbd_log_likelihood}


def log_likelihood(kind: str, params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray,
                   T: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of the purchase model `kind` (one of `PURCHASE_MODELS`) at `params`
    ((r, α, a, b) for BG/NBD and MBG/NBD, (r, α, s, β) for Pareto/NBD); see the three functions above."""
    return _LOG_LIKELIHOODS[_check_kind(kind)](params, x, t_x, T)


MAX_RATE_PARAMETER = 1e6
"""A fit whose purchase-rate gamma (r or α) passes this has run off towards infinity (the customers' rates look
identical, e.g. everyone bought on the same two days): the likelihood has no finite maximum, so `fit_purchases`
raises instead of returning numbers that depend on where the optimiser stopped (and on the machine). Real
clients' r and α are of the order 0.1–10 and 1–1,000 (days)."""


@overload
def fit_purchases(summary: pd.DataFrame, kind: Literal["bgnbd"] = ..., start: PurchaseModel | None = ...,
                  tolerance: float = ...) -> BgNbd: ...
@overload
def fit_purchases(summary: pd.DataFrame, kind: Literal["mbgnbd"], start: PurchaseModel | None = ...,
                  tolerance: float = ...) -> MbgNbd: ...
@overload
def fit_purchases(summary: pd.DataFrame, kind: Literal["pareto_nbd"], start: PurchaseModel | None = ...,
                  tolerance: float = ...) -> ParetoNbd: ...
@overload
def fit_purchases(summary: pd.DataFrame, kind: str, start: PurchaseModel | None = ...,
                  tolerance: float = ...) -> PurchaseModel: ...
def fit_purchases(summary: pd.DataFrame, kind: str = "bgnbd", start: PurchaseModel | None = None,
                  tolerance: float = 1e-12) -> PurchaseModel:
    """Maximum-likelihood fit of the purchase model `kind` on `frequency`, `recency`, `T` (any time unit, used
    consistently). The likelihood depends on a customer only through (x, t_x, T), which repeat a lot (one-time
    buyers differ only in T), so it is maximised over the distinct rows weighted by their counts: the same
    maximum as over every customer, in a fraction of the time. `start`: a fitted model of the same kind to
    start from (e.g. the one fitted on a shorter history, in the same time unit); `tolerance`: the relative
    change of the log-likelihood at which the search stops (L-BFGS-B `ftol`)."""
    kind = _check_kind(kind)
    _check_summary(summary)
    if not summary["frequency"].gt(0).any():
        raise ValueError("purchase models need customers with repeat purchases (column frequency > 0)")
    x, t_x, T, weight = _distinct_rows(summary)
    ll = _LOG_LIKELIHOODS[kind]

    def negative(log_params: np.ndarray) -> float:
        return -float(weight @ ll(tuple(np.exp(log_params)), x, t_x, T))

    def gradient(log_params: np.ndarray) -> np.ndarray:
        params = np.exp(log_params)
        return -params * (_bg_score(kind, tuple(params), x, t_x, T) @ weight)

    scale = max(float(summary["T"].mean()), 1.0)
    if start is not None and start.kind == kind:
        initial = np.log(list(start.params.values()))
    else:
        initial = np.log([0.5, scale, 0.5, scale] if kind == "pareto_nbd" else [0.5, scale, 1.0, 1.0])
    result = _minimise(negative, initial, tolerance, gradient=None if kind == "pareto_nbd" else gradient)
    r, alpha, third, fourth = np.exp(result.x)  # (r, α, a, b) or (r, α, s, β)
    if max(r, alpha) > MAX_RATE_PARAMETER:
        raise ValueError(f"degenerate {kind} fit: r = {r:.3g}, alpha = {alpha:.3g} ran off towards infinity (every "
                         "customer looks alike: the likelihood has no maximum at finite values)")
    return _MODEL_CLASSES[kind](r, alpha, third, fourth, log_likelihood=-result.fun, customers=len(summary))


def _bg_score(kind: str, params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray,
              T: np.ndarray) -> np.ndarray:
    """∂ℓ/∂(r, α, a, b) per customer (4 × n) for BG/NBD and MBG/NBD, from ℓ = A₁ + A₂ + log(e^A₃ + e^A₄)
    (see the log-likelihoods): w = e^A₄ / (e^A₃ + e^A₄) weighs the "dropped out after t_x" term."""
    r, alpha, a, b = params
    shift = 0.0 if kind == "bgnbd" else 1.0
    ln_a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_a4 = np.log(a) - np.log(b + x - 1 + shift) - (r + x) * np.log(alpha + t_x)
        if kind == "bgnbd":
            ln_a4 = np.where(x > 0, ln_a4, -np.inf)
    w = special.expit(ln_a4 - ln_a3)
    both = special.digamma(a + b) - special.digamma(a + b + x + shift)
    with np.errstate(divide="ignore", invalid="ignore"):
        drop_b = np.where(w > 0, w / (b + x - 1 + shift), 0.0)
    return np.stack([
        special.digamma(r + x) - special.digamma(r) + np.log(alpha)
        - (1 - w) * np.log(alpha + T) - w * np.log(alpha + t_x),
        r / alpha - (r + x) * ((1 - w) / (alpha + T) + w / (alpha + t_x)),
        both + w / a,
        both + special.digamma(b + x + shift) - special.digamma(b) - drop_b,
    ])


def fit_bgnbd(summary: pd.DataFrame) -> BgNbd:
    """Maximum-likelihood BG/NBD (FHL 2005) on `frequency`, `recency`, `T`: `fit_purchases(summary, "bgnbd")`."""
    return fit_purchases(summary, "bgnbd")


def fit_mbgnbd(summary: pd.DataFrame) -> MbgNbd:
    """Maximum-likelihood MBG/NBD (Batislam et al. 2007): `fit_purchases(summary, "mbgnbd")`."""
    return fit_purchases(summary, "mbgnbd")


def fit_pareto_nbd(summary: pd.DataFrame) -> ParetoNbd:
    """Maximum-likelihood Pareto/NBD (Schmittlein et al. 1987): `fit_purchases(summary, "pareto_nbd")`."""
    return fit_purchases(summary, "pareto_nbd")


def p_alive(model: PurchaseModel, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active at T | x, t_x, T).

    - BG/NBD, FHL (2005) eq. (A2): 1 / (1 + δ(x>0) a/(b+x−1) ((α+T)/(α+t_x))^(r+x)). For x = 0 the model
      gives 1 whatever the time since the only purchase, because it lets customers leave only right after a
      repeat purchase: that is an assumption, not something the data tell, so it is returned as **NaN**.
    - MBG/NBD, Batislam et al. (2007): 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)), for every x.
    - Pareto/NBD, Fader & Hardie note 008 eq. (18): 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A₀).
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if isinstance(model, ParetoNbd):
        r, alpha, s, beta = model.r, model.alpha, model.s, model.beta
        log_odds = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T) + s * np.log(beta + T)
                    + _log_a0((r, alpha, s, beta), x, t_x, T))
        return special.expit(-log_odds)
    alive = 1.0 / (1.0 + _dropout_odds(model, x, t_x, T))
    return np.where(x > 0, alive, np.nan) if model.kind == "bgnbd" else alive


def expected_purchases(model: PurchaseModel, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray,
                       T: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T].

    - BG/NBD, FHL (2005) eq. (10): (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1;
      t/(α+T+t))] / (1 + δ(x>0) a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).
    - MBG/NBD, Batislam et al. (2007): (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x;
      t/(α+T+t))] / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)).
    - Pareto/NBD, Schmittlein et al. (1987), note 008 eq. (41): P(alive) · (r+x)(β+T)/((α+T)(s−1)) ·
      [1 − ((β+T)/(β+T+t))^(s−1)] (the limit (r+x)(β+T)/(α+T) · ln((β+T+t)/(β+T)) at s = 1).

    Finite for any horizon t and any a > 0 (s > 0): only the unbounded-lifetime mean (t → ∞) needs a > 1. At
    a = 1 the BG/NBD and MBG/NBD forms are 0/0 (a removable singularity); within 1e-4 of 1 they are
    interpolated between a = 1 ± 1e-4, which is exact to about 1e-8.
    """
    x, t_x, T, t = (np.asarray(v, dtype=float) for v in (x, t_x, T, t))
    if isinstance(model, ParetoNbd):
        r, alpha, s, beta = model.r, model.alpha, model.s, model.beta
        return (p_alive(model, x, t_x, T) * (r + x) * (beta + T) / (alpha + T)
                * _one_minus_power_over(s - 1, np.log1p(t / (beta + T))))
    r, alpha, b = model.r, model.alpha, model.b
    shift = 0.0 if model.kind == "bgnbd" else 1.0  # MBG/NBD: one more chance to drop out (at the first purchase)

    def conditional(a: float) -> np.ndarray:
        c = a + b + x - 1 + shift
        hyp = special.hyp2f1(r + x, b + x + shift, c, t / (alpha + T + t))
        return c / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)

    head = _removable_at_one(conditional, model.a)
    alive = 1.0 / (1.0 + _dropout_odds(model, x, t_x, T))
    return head * alive


def expected_purchases_new(model: PurchaseModel, t: float | np.ndarray) -> np.ndarray:
    """E[X(t)]: purchases in (0, t] after the first of a customer just acquired.

    - BG/NBD, FHL (2005) eq. (9): (a+b−1)/(a−1) · [1 − (α/(α+t))ʳ ₂F₁(r, b; a+b−1; t/(α+t))].
    - MBG/NBD, Batislam et al. (2007): b/(a−1) · [1 − (α/(α+t))ʳ ₂F₁(r, b+1; a+b; t/(α+t))].
    - Pareto/NBD, Schmittlein et al. (1987), note 008 eq. (17): rβ/(α(s−1)) · [1 − (β/(β+t))^(s−1)].
    Same treatment of a = 1 (and s = 1) as `expected_purchases`.
    """
    t = np.asarray(t, dtype=float)
    if isinstance(model, ParetoNbd):
        r, alpha, s, beta = model.r, model.alpha, model.s, model.beta
        return r * beta / alpha * _one_minus_power_over(s - 1, np.log1p(t / beta))
    r, alpha, b = model.r, model.alpha, model.b
    shift = 0.0 if model.kind == "bgnbd" else 1.0

    def unconditional(a: float) -> np.ndarray:
        head = (a + b - 1) if model.kind == "bgnbd" else b
        hyp = special.hyp2f1(r, b + shift, a + b - 1 + shift, t / (alpha + t))
        return head / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)

    return _removable_at_one(unconditional, model.a)


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

    def gradient(log_params: np.ndarray) -> np.ndarray:
        """∂(−ΣLL)/∂(log p, log q, log γ), from the digamma ψ: analytic, so L-BFGS-B needs no differencing."""
        p, q, gamma = np.exp(log_params)
        px, rest = p * x, np.log(gamma + x * zbar)
        both = special.digamma(px + q)
        d_p = (x * (both - special.digamma(px) + np.log(zbar) + np.log(x) - rest)).sum()
        d_q = (both - special.digamma(q) + np.log(gamma) - rest).sum()
        d_gamma = (q / gamma - (px + q) / (gamma + x * zbar)).sum()
        return -np.array([p * d_p, q * d_q, gamma * d_gamma])

    result = _minimise(negative, np.log([1.0, 2.0, max(float(zbar.mean()), 1.0)]), gradient=gradient)
    p, q, gamma = np.exp(result.x)
    return GammaGamma(p=p, q=q, gamma=gamma, log_likelihood=-result.fun, customers=len(used))


def expected_spend(model: GammaGamma, x: np.ndarray, zbar: np.ndarray) -> np.ndarray:
    """E[spend per transaction | x, z̄] = (p(γ + x z̄)) / (px + q − 1) (Fader & Hardie 2013, eq. 5): a weighted
    mean of the population mean pγ/(q − 1) and the customer's own z̄; customers with x = 0 get the population
    mean. NaN where px + q − 1 ≤ 0: with q ≤ 1 the population mean is infinite, so one-time buyers have no
    spend prediction (repeat buyers still have one)."""
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    denominator = model.p * x + model.q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, model.p * (model.gamma + x * zbar) / denominator, np.nan)


def predict_clv(summary: pd.DataFrame, purchases: PurchaseModel, spend: GammaGamma, months: int = 12,
                monthly_discount: float = 0.01, days_per_unit: float = 1.0) -> pd.DataFrame:
    """Per customer: p_alive, expected purchases in the next `months`, expected spend per purchase and the
    discounted CLV = Σₘ (E[purchases in month m]) × E[spend] / (1 + d)ᵐ, m = 1..months (a month is 365.25/12 days;
    `days_per_unit` converts when the summary is not in days). Any purchase model (`purchases.kind`); the
    expectations are computed once per distinct (x, t_x, T) and spread back to the customers.
    p_alive is NaN for BG/NBD customers without a repeat purchase (see `p_alive`); clv is NaN where the
    spend has no prediction (see `expected_spend`)."""
    _check_summary(summary, ("monetary",))
    codes, distinct = pd.MultiIndex.from_frame(summary[["frequency", "recency", "T"]].astype(float)).factorize()
    x, t_x, T = (distinct.get_level_values(i).to_numpy() for i in range(3))
    month = DAYS_PER_MONTH / days_per_unit
    cumulative = np.stack([expected_purchases(purchases, m * month, x, t_x, T) for m in range(months + 1)])[:, codes]
    per_month = np.diff(cumulative, axis=0)
    discount = (1 + monthly_discount) ** -np.arange(1, months + 1)
    spend_each = expected_spend(spend, summary["frequency"].to_numpy(dtype=float),
                                summary["monetary"].to_numpy(dtype=float))
    return pd.DataFrame({
        "p_alive": p_alive(purchases, x, t_x, T)[codes],
        "expected_purchases": cumulative[-1],
        "expected_spend": spend_each,
        "clv": (per_month * discount[:, None]).sum(axis=0) * spend_each,
    }, index=summary.index)


def _log_a0(params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """log A₀ of the Pareto/NBD (note 008): with m = max(α, β), z(τ) = |α − β| / (m + τ) and k = s + 1 if α ≥ β
    else r + x, A₀ = F(t_x) − F(T), F(τ) = ₂F₁(r+s+x, k; r+s+x+1; z(τ)) / (m + τ)^(r+s+x). The ₂F₁ is
    evaluated after Euler's transformation, (1 − z)^(1−k) ₂F₁(1, r+s+x+1−k; r+s+x+1; z), whose series
    converges at z = 1, so F is computed in logs without overflow (lifetimes' form overflows for large x)."""
    r, alpha, s, beta = params
    rsx = r + s + x
    big, gap = max(alpha, beta), abs(alpha - beta)
    k = s + 1 if alpha >= beta else r + x

    def log_f(tau: np.ndarray) -> np.ndarray:
        z = gap / (big + tau)
        return ((1 - k) * np.log1p(-z) + np.log(special.hyp2f1(1.0, rsx + 1 - k, rsx + 1, z))
                - rsx * np.log(big + tau))

    upper, lower = log_f(t_x), log_f(T)
    with np.errstate(divide="ignore"):
        return upper + np.log(np.maximum(-np.expm1(lower - upper), 0.0))  # −∞ when t_x = T: no time to drop out


def _one_minus_power_over(k: float, log_ratio: np.ndarray) -> np.ndarray:
    """[1 − e^(−k·L)] / k for L = `log_ratio` ≥ 0, equal to L at k = 0 and computed without cancellation
    (L · exprel(−kL), exprel(u) = (eᵘ − 1)/u)."""
    return log_ratio * special.exprel(-k * log_ratio)


def _removable_at_one(evaluate, a: float, half_width: float = 1e-4) -> np.ndarray:
    """`evaluate(a)`, or, within `half_width` of a = 1 where its closed form is 0/0, the straight line between
    `evaluate(1 − half_width)` and `evaluate(1 + half_width)` (the function is smooth in a: error ~ width²)."""
    if abs(a - 1) >= half_width:
        return evaluate(a)
    below, above = evaluate(1 - half_width), evaluate(1 + half_width)
    return below + (a - 1 + half_width) / (2 * half_width) * (above - below)


def _dropout_odds(model: BgNbd | MbgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The odds that a customer has already dropped out: BG/NBD δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x);
    MBG/NBD a/(b+x) · ((α+T)/(α+t_x))^(r+x) for every x."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if model.kind == "mbgnbd":
            return model.a / (model.b + x) * ((model.alpha + T) / (model.alpha + t_x)) ** (model.r + x)
        odds = model.a / (model.b + x - 1) * ((model.alpha + T) / (model.alpha + t_x)) ** (model.r + x)
    return np.where(x > 0, odds, 0.0)


MAX_RESTARTS = 5
RESTART_GAIN = 0.5
"""Log-likelihood units a restart must gain for another one to follow."""
RESTART_EVALUATIONS = 150


def _minimise(negative, start: np.ndarray, tolerance: float = 1e-12, gradient=None) -> optimize.OptimizeResult:
    """L-BFGS-B with tight tolerances from `start` (on CDNOW it reaches the MLE's log-likelihood to 1e-10);
    Nelder–Mead takes over from where it stopped if it reports failure. The objective is divided by its size
    at the start, so that the first step (the length of the gradient) is a modest move in log-parameters and not
    a jump to the edge of the ±20 box; a non-finite likelihood counts as very bad so a step into overflow backs
    off instead of failing. `gradient` (of `negative`), when given, replaces finite differences.
    BLAS runs on one thread during the search: L-BFGS-B's BLAS calls work on 4-vectors, and OpenBLAS's
    threads cost 2 ms a call on a busy 2-CPU machine (measured: the whole CDNOW Gamma-Gamma fit 0.08 s →
    0.003 s), never help."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"), threadpool_limits(1, user_api="blas"):
        size = abs(negative(start))
        size = size if np.isfinite(size) and size > 0 else 1.0

        def scaled(log_params: np.ndarray) -> float:
            value = negative(np.clip(log_params, -20, 20)) / size
            return value if np.isfinite(value) else 1e300

        jac = None if gradient is None else (lambda log_params: gradient(np.clip(log_params, -20, 20)) / size)
        result = optimize.minimize(scaled, start, method="L-BFGS-B", jac=jac, bounds=[(-20, 20)] * len(start),
                                   options={"ftol": tolerance, "gtol": 1e-9})
        if not result.success or result.fun >= 1e300:
            result = optimize.minimize(scaled, np.clip(result.x, -20, 20), method="Nelder-Mead",
                                       options={"xatol": 1e-8, "fatol": tolerance, "maxiter": 3000, "maxfev": 3000})
        # Restart from where it stopped until a restart no longer improves: with finite-difference gradients
        # (Pareto/NBD) L-BFGS-B can stop far from the optimum on a flat ridge (measured on a demo client in
        # days: 232 log-likelihood units short, a 20% different 12-month prediction); a restart costs little.
        # Each restart is capped at `RESTART_EVALUATIONS` and they stop once one gains less than
        # `RESTART_GAIN` log-likelihood units: when the optimum lies at infinity (customers' purchase rates
        # barely differ, so r and α grow together without end) restarts would creep along that ridge for a
        # minute, changing predictions by less than 0.1%.
        for _ in range(MAX_RESTARTS):
            again = optimize.minimize(scaled, np.clip(result.x, -20, 20), method="L-BFGS-B", jac=jac,
                                      bounds=[(-20, 20)] * len(start),
                                      options={"ftol": tolerance, "gtol": 1e-9, "maxfun": RESTART_EVALUATIONS})
            gain = (result.fun - again.fun) * size
            if gain > 0:
                result = again
            if not gain > RESTART_GAIN:
                break
    if result.fun >= 1e300:
        raise ValueError("the model could not be fitted (the likelihood is not finite)")
    result.x, result.fun = np.clip(result.x, -20, 20), result.fun * size
    return result


def _distinct_rows(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (frequency, recency, T) rows and how many customers share each."""
    counts = summary[["frequency", "recency", "T"]].astype(float).value_counts(sort=False)
    x, t_x, T = (counts.index.get_level_values(i).to_numpy() for i in range(3))
    return x, t_x, T, counts.to_numpy(dtype=float)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column {missing[0]!r}")


def _check_summary(summary: pd.DataFrame, extra: tuple[str, ...] = ()) -> None:
    """lifetimes `_check_inputs`: no missing values, frequency ≥ 0, 0 ≤ recency ≤ T."""
    _require(summary, ("frequency", "recency", "T", *extra), "summary")
    for column in ("frequency", "recency", "T", *extra):
        if summary[column].isna().any():
            raise ValueError(f"summary: column {column!r} has missing values")
    if summary["frequency"].lt(0).any():
        raise ValueError("summary: column 'frequency' must not be negative")
    if summary["recency"].lt(0).any():
        raise ValueError("summary: column 'recency' must not be negative")
    if summary["recency"].gt(summary["T"]).any():
        raise ValueError("summary: column 'recency' must not exceed column 'T'")


def _check_kind(kind: str) -> str:
    if kind not in PURCHASE_MODELS:
        raise ValueError(f"model_kind must be one of {PURCHASE_MODELS}, got {kind!r}")
    return kind


MIN_REPEAT_CUSTOMERS = 20
LOW_P_ALIVE = 0.5
MIN_P_ALIVE_COVERAGE = 0.5
"""A group's mean P(alive) is shown only when the model can tell at least this share of its customers."""
HOLDOUT_MONTHS = (12, 6)
"""Holdout lengths `choose_model` tries, longest first: the first for which the calibration period is at least
as long as the holdout."""
SELECTION_TOLERANCE = 1e-9
"""`choose_model` fits the candidates to a relative log-likelihood change of 1e-9: the predictions it compares
do not change at that precision, and the final fit starts from the chosen one."""
SELECTION_SAMPLE = 50_000
"""`choose_model` backtests on at most this many calibration customers, drawn with a fixed seed: the
comparison of three totals does not need 1.5M customers, and the final fit uses everyone."""
TIE_ERROR = 0.005
"""Models whose total-purchase error is within 0.5 percentage points of the best count as tied."""


@dataclass(frozen=True)
class ModelChoice:
    """The purchase model `choose_model` picked, the backtest of every candidate and the reason in words."""

    kind: str
    selection: pd.DataFrame | None
    reason: str
    calibration_model: PurchaseModel | None = None


@dataclass(frozen=True)
class CustomerValue:
    """Per-customer historic and predicted value, the fitted models, and why there is no prediction if so.

    `problem` is None, "too_few_repeaters" (fewer than `MIN_REPEAT_CUSTOMERS` customers bought twice) or
    "fit_failed". `model_kind` is the purchase model used (one of `PURCHASE_MODELS`), `selection` the holdout
    comparison that chose it (`choose_model`; None when the model was given or could not be backtested) and
    `selection_reason` why it was chosen.
    """

    table: pd.DataFrame
    purchases: PurchaseModel | None
    spend: GammaGamma | None
    problem: str | None
    repeat_customers: int
    model_kind: str | None = None
    selection: pd.DataFrame | None = None
    selection_reason: str | None = None


def customer_value(orders: pd.DataFrame, as_of: pd.Timestamp, months: int = 12,
                   monthly_discount: float = 0.01, model_kind: str = "bgnbd",
                   holdout_months: int | None = None) -> CustomerValue:
    """Historic revenue and, where the models can be fitted, P(alive) and predicted `months`-month CLV.

    `model_kind`: "auto" picks the purchase model by holdout accuracy on the client's own history
    (`choose_model`, with `holdout_months`); or one of `PURCHASE_MODELS`. The default stays "bgnbd", the model
    the report's template describes (its parameters r, α, a, b); pass "auto" once the template shows any
    model's `params`. Spend is Gamma-Gamma.
    `table` (index customer_id): frequency, recency, T (days), monetary, first_spend, historic_revenue (all
    paid orders to the as-of date), p_alive, expected_purchases, expected_spend, clv, and `prediction`: "ok",
    "no_finite_spend" (Gamma-Gamma q ≤ 1 makes the population mean spend infinite: customers without a repeat
    purchase then have no expected_spend and no clv; their purchases and P(alive) are still predicted, and
    repeat buyers are unaffected) or the problem code. p_alive is NaN for customers without a repeat purchase
    when the model is BG/NBD (it cannot tell; see `p_alive`). The models need at least `MIN_REPEAT_CUSTOMERS`
    customers with a repeat purchase; otherwise every prediction is missing and `problem` says why. There is
    no other minimum client size (Klaviyo's 500-buyer gate is not copied).
    """
    orders, ids = coded(orders.dropna(subset=["customer_id"]), "customer_id")  # grouped by again and again
    summary = rfm_summary(orders, as_of)
    historic = orders.groupby("customer_id", observed=True)["amount"].sum().reindex(summary.index)
    table = summary.assign(historic_revenue=historic)
    repeaters = int(summary["frequency"].gt(0).sum())
    problem, purchases, spend, selection, reason, start = None, None, None, None, None, None
    kind = None if model_kind == "auto" else _check_kind(model_kind)
    if repeaters < MIN_REPEAT_CUSTOMERS:
        problem = "too_few_repeaters"
    else:
        if kind is None:
            choice = choose_model(orders, as_of, holdout_months)
            kind, selection, reason, start = choice.kind, choice.selection, choice.reason, choice.calibration_model
        else:
            reason = f"{kind} was asked for"
        try:
            purchases, spend = fit_purchases(summary, kind, start=start), fit_gamma_gamma(summary)
        except ValueError:
            problem = "fit_failed"
        else:
            predicted = predict_clv(summary, purchases, spend, months=months, monthly_discount=monthly_discount)
            if predicted["expected_purchases"].isna().all():  # a degenerate fit predicts nothing
                problem = "fit_failed"
    if problem is None:
        status = np.where(predicted["expected_spend"].isna(), "no_finite_spend", "ok")
        return CustomerValue(decoded(table.join(predicted).assign(prediction=status), ids), purchases, spend, None,
                             repeaters, kind, selection, reason)
    empty = pd.DataFrame(np.nan, index=summary.index,
                         columns=["p_alive", "expected_purchases", "expected_spend", "clv"])
    return CustomerValue(decoded(table.join(empty).assign(prediction=problem), ids), purchases, spend, problem,
                         repeaters, kind, selection, reason)


def backtest(orders: pd.DataFrame, as_of: pd.Timestamp, months_back: int, model_kind: str) -> pd.DataFrame:
    """Predict the last `months_back` calendar months from the history before them, and compare.

    Calibration: the orders up to `period.window_start(as_of, months_back)` (the calibration end); holdout:
    the orders after it up to `as_of`. The purchase model `model_kind` and Gamma-Gamma are fitted on the
    calibration summary (`rfm_summary` at the calibration end, in days); per customer the predicted purchases
    are E[purchases in (T, T + t] | x, t_x, T] with t the holdout length in days (`expected_purchases`), and
    predicted revenue = predicted purchases × E[spend | x, z̄] (`expected_spend`). Actual purchases are the
    calendar days with a purchase in the holdout (as in `rfm_summary`), actual revenue their amounts. This is
    the calibration/holdout check of Fader, Hardie & Lee (2005, section 4) and lifetimes'
    `calibration_and_holdout_data`.

    Only customers with a purchase in the calibration period are in the table: customers acquired during the
    holdout have no calibration history to predict from, and guest orders belong to no customer.
    Returns (index customer_id): frequency, recency, T (calibration, days), predicted_purchases,
    actual_purchases, expected_spend, predicted_revenue, actual_revenue.
    """
    split = _holdout_split(orders, as_of, months_back)
    return _predict_holdout(split, fit_purchases(split["summary"], _check_kind(model_kind)),
                            fit_gamma_gamma(split["summary"]))


def backtest_summary(table: pd.DataFrame, groups: pd.Series | None = None, bins: int = 10) -> dict[str, pd.DataFrame]:
    """Holdout accuracy of a `backtest` table: predicted against actual purchases and revenue.

    Returns frames with customers, predicted_purchases, actual_purchases, purchases_error (relative:
    (predicted − actual) / actual), purchases_mae (mean absolute error per customer), predicted_revenue,
    actual_revenue, revenue_error, revenue_mae:
    - "total": one row for everyone;
    - "deciles": per decile of predicted revenue (decile 10 = the tenth of customers with the highest
      predicted revenue; ties broken by order; predicted purchases when no revenue is predicted);
    - "groups": per label of `groups` (a Series aligned with the table's index, e.g. the RFM segment at the
      calibration end), only when given.
    Sums skip customers without a prediction (NaN predicted revenue, see `expected_spend`).
    """
    _require(table, ("predicted_purchases", "actual_purchases", "predicted_revenue", "actual_revenue"), "table")
    value = table["predicted_revenue"] if table["predicted_revenue"].notna().any() else table["predicted_purchases"]
    rank = value.rank(method="first")
    decile = np.ceil(rank * bins / max(len(table), 1)).astype("Int64")
    result = {"total": _accuracy(table.assign(all="all"), "all").drop(columns="all"),
              "deciles": _accuracy(table.assign(decile=decile), "decile")}
    if groups is not None:
        result["groups"] = _accuracy(table.assign(group=groups.reindex(table.index)), "group")
    return result


BACKTEST_MONTHS = (6, 12)
"""The report's proof that the model predicts: fitted as of 6 and of 12 months before the report month."""


def backtests(orders: pd.DataFrame, as_of: pd.Timestamp, model_kind: str,
              horizons: tuple[int, ...] = BACKTEST_MONTHS, groups_at=None,
              order: tuple[str, ...] | None = None, start: PurchaseModel | None = None) -> dict[str, object]:
    """`backtest` of `model_kind` for each horizon in `horizons`, with what the report shows of it.

    A horizon h runs when the history is at least 2h long (first order at or before as_of − 2h months, as in
    `choose_model`), the calibration has at least `MIN_REPEAT_CUSTOMERS` repeat customers and the models can
    be fitted; otherwise its row says why ("short_history", "too_few_repeaters", "fit_failed").
    `groups_at(cutoff)` may give each customer's label as of a calibration end (e.g. the RFM segment then:
    the segment a customer had when the prediction was made, never a later one); `order` lists the labels in
    report order (labels not in it are left out). `start` (a fitted model of the same kind, e.g. the
    report's own) is where each fit starts: the same optimum, found in fewer steps.
    Returns {"totals": one row per horizon (months_back, status, then `backtest_summary`'s columns),
    "horizon": the longest horizon that ran (None if none), "deciles" and "groups": its `backtest_summary`
    frames (empty when none ran)}.
    """
    _check_kind(model_kind)
    orders, ids = coded(orders.dropna(subset=["customer_id"]), "customer_id")  # grouped by again and again
    first = orders["order_date"].min()
    rows, detail, longest = [], {}, None
    for months in sorted(horizons):
        status = "ok"
        if pd.isna(first) or first > window_start(as_of, 2 * months) + pd.Timedelta(days=1):
            status = "short_history"
        else:
            split = _holdout_split(orders, as_of, months)
            if int(split["summary"]["frequency"].gt(0).sum()) < MIN_REPEAT_CUSTOMERS:
                status = "too_few_repeaters"
            else:
                try:
                    table = _predict_holdout(split, fit_purchases(split["summary"], model_kind, start=start),
                                             fit_gamma_gamma(split["summary"]))
                except ValueError:
                    status = "fit_failed"
                else:  # a degenerate fit (parameters running off to infinity) predicts nothing
                    status = "fit_failed" if table["predicted_purchases"].isna().all() else status
        if status != "ok":
            rows.append({"months_back": months, "status": status})
            continue
        groups = None
        if groups_at is not None:  # labels by customer id → by code
            labels = groups_at(window_start(as_of, months))
            code = ids.get_indexer(labels.index)
            groups = labels.loc[code >= 0].set_axis(code[code >= 0])  # customers with no order have no row
        detail[months] = backtest_summary(table, groups)
        rows.append({"months_back": months, "status": status, **detail[months]["total"].iloc[0].to_dict()})
        longest = months
    empty = pd.DataFrame()
    groups = detail[longest].get("groups", empty) if longest else empty
    if order is not None and len(groups):
        groups = groups.set_index("group").reindex([g for g in order if g in set(groups["group"])]).reset_index()
    return {"totals": pd.DataFrame(rows), "horizon": longest,
            "deciles": detail[longest]["deciles"] if longest else empty, "groups": groups}


ACCURATE_WITHIN = 0.10
"""A backtest whose total purchases are within this relative error of what happened is called accurate."""


class Verdict(TypedDict):
    """`backtest_verdict`'s answer."""

    verdict: str
    months_back: int | None
    purchases_error: float | None
    revenue_error: float | None


def backtest_verdict(totals: pd.DataFrame) -> Verdict:
    """What the report says about the model's track record, from `backtests(...)["totals"]`.

    The longest horizon that ran decides: 'accurate' when its total predicted purchases are within
    `ACCURATE_WITHIN` (10%) of the actual ones, 'over' when higher (read the predicted values as an upper
    bound), 'under' when lower (a lower bound); 'untested' when no horizon ran. Returns {verdict, months_back,
    purchases_error, revenue_error}.
    """
    ran = totals.loc[totals["status"].eq("ok")] if len(totals) else totals
    if ran.empty:
        return {"verdict": "untested", "months_back": None, "purchases_error": None, "revenue_error": None}
    row = ran.sort_values("months_back").iloc[-1]
    error = float(row["purchases_error"])
    verdict = "accurate" if abs(error) <= ACCURATE_WITHIN else "over" if error > 0 else "under"
    return {"verdict": verdict, "months_back": int(row["months_back"]), "purchases_error": error,
            "revenue_error": float(row["revenue_error"])}


def model_statement(selection: pd.DataFrame | None, totals: pd.DataFrame | None) -> dict[str, object]:
    """What the value chapter says of the purchase model: "chosen" among several candidates, the "only" one
    that could be fitted, or the "default" (no comparison ran). With a comparison it quotes the relative
    error of total purchases over the chosen holdout (`months`), from the chapter's own backtest table
    (`totals`) when that horizon ran there, else from the quicker comparison fit (`selection`)."""
    chosen = None if selection is None else selection.loc[selection["chosen"].astype(bool)]
    if chosen is None or chosen.empty:
        return {"kind": "default", "months": None, "purchases_error": None}
    row = chosen.iloc[0]
    months = int(row["holdout_months"])
    check = (totals.loc[totals["months_back"].eq(months) & totals["status"].eq("ok")]
             if totals is not None else pd.DataFrame())
    error = float((check if len(check) else chosen)["purchases_error"].iloc[0])
    return {"kind": "chosen" if len(selection) > 1 else "only", "months": months,  # type: ignore[arg-type]
            "purchases_error": error}


def choose_model(orders: pd.DataFrame, as_of: pd.Timestamp, holdout_months: int | None = None,
                 kinds: tuple[str, ...] = AUTO_MODELS) -> ModelChoice:
    """Pick the purchase model that best predicted the client's own recent past (`backtest`).

    Holdout: `holdout_months`, or the first of `HOLDOUT_MONTHS` (12, then 6) for which the calibration period
    is at least as long as the holdout (the first order at or before as_of − 2 × holdout, give or take the
    first day). Criterion: the absolute relative error of total holdout purchases, |Σ predicted − Σ actual| /
    Σ actual; models within `TIE_ERROR` (0.5 percentage points) of the best are tied, and among them the lowest
    mean absolute error per customer wins. When the history is too short (no holdout fits, fewer than
    `MIN_REPEAT_CUSTOMERS` repeat customers in calibration, or no holdout purchase) the choice is
    `DEFAULT_MODEL` (MBG/NBD: a P(alive) for every customer, unlike BG/NBD, and a fast closed form), and
    `selection` is None. Large clients are backtested on `SELECTION_SAMPLE` calibration customers (fixed
    seed). `selection` (one row per model): model_kind, holdout_months, log_likelihood (calibration),
    customers (backtested), predicted_purchases, actual_purchases, purchases_error, purchases_mae,
    predicted_revenue, actual_revenue, revenue_error, revenue_mae, chosen.
    """
    _require(orders, ("customer_id", "order_date", "order_day", "amount"), "orders")
    kinds = tuple(_check_kind(k) for k in kinds)
    first = orders.loc[orders["customer_id"].notna(), "order_date"].min()
    lengths = (holdout_months,) if holdout_months is not None else HOLDOUT_MONTHS
    usable = [m for m in lengths if pd.notna(first) and first <= window_start(as_of, 2 * m) + pd.Timedelta(days=1)]
    if not usable:
        return ModelChoice(DEFAULT_MODEL, None, f"history shorter than twice the holdout: default {DEFAULT_MODEL}")
    months = usable[0]
    split = _holdout_split(orders, as_of, months)
    if len(split["summary"]) > SELECTION_SAMPLE:
        keep = np.sort(np.random.default_rng(40).choice(len(split["summary"]), SELECTION_SAMPLE, replace=False))
        split = {**split, "summary": split["summary"].iloc[keep], "actual": split["actual"].iloc[keep]}
    repeaters = int(split["summary"]["frequency"].gt(0).sum())
    if repeaters < MIN_REPEAT_CUSTOMERS or split["actual"]["actual_purchases"].sum() == 0:
        return ModelChoice(DEFAULT_MODEL, None, f"too few repeat purchases to backtest: default {DEFAULT_MODEL}")
    try:
        spend = fit_gamma_gamma(split["summary"])
    except ValueError:
        return ModelChoice(DEFAULT_MODEL, None, f"no spend model on the calibration: default {DEFAULT_MODEL}")
    rows, models = [], {}
    for kind in kinds:  # three models, not customers
        try:
            model = models[kind] = fit_purchases(split["summary"], kind, tolerance=SELECTION_TOLERANCE)
        except ValueError:
            continue
        predicted = _predict_holdout(split, model, spend)
        if predicted["predicted_purchases"].isna().all():  # a degenerate fit predicts nothing: not a candidate
            continue
        total = backtest_summary(predicted)["total"].iloc[0]
        rows.append({"model_kind": kind, "holdout_months": months, "log_likelihood": model.log_likelihood,
                     **total.to_dict()})
    if not rows:
        return ModelChoice(DEFAULT_MODEL, None, f"no model could be fitted on the calibration: default {DEFAULT_MODEL}")
    selection = pd.DataFrame(rows)
    error = selection["purchases_error"].abs()
    tied = selection.loc[error.le(error.min() + TIE_ERROR)]
    kind = tied.sort_values("purchases_mae", kind="stable")["model_kind"].iloc[0]
    chosen = selection.set_index("model_kind").loc[kind]
    reason = (f"{kind}: total purchases in the last {months} months predicted within "
              f"{abs(chosen['purchases_error']):.1%} (mean absolute error {chosen['purchases_mae']:.3f} per customer)")
    return ModelChoice(kind, selection.assign(chosen=selection["model_kind"].eq(kind)), reason, models[kind])


def _holdout_split(orders: pd.DataFrame, as_of: pd.Timestamp, months_back: int) -> dict:
    """The calibration summary, the holdout facts of the calibration customers and the holdout length (days)."""
    _require(orders, ("customer_id", "order_date", "order_day", "amount"), "orders")
    end = window_start(as_of, months_back)
    calibration = orders.loc[orders["order_date"].le(end)]
    summary = rfm_summary(calibration, end)
    if summary.empty:
        raise ValueError(f"orders: no customer bought by the calibration end {end:%Y-%m-%d}")
    later = orders.loc[orders["order_date"].gt(end) & orders["order_date"].le(as_of)]
    days = purchase_days(later)
    actual = pd.DataFrame({
        "actual_purchases": days.groupby("customer_id", observed=True).size(),
        "actual_revenue": days.groupby("customer_id", observed=True)["amount"].sum(),
    }).reindex(summary.index, fill_value=0).astype({"actual_purchases": "int64", "actual_revenue": "float64"})
    return {"summary": summary, "actual": actual, "days": float((as_of.normalize() - end.normalize()).days)}


def _predict_holdout(split: dict, model: PurchaseModel, spend: GammaGamma) -> pd.DataFrame:
    summary = split["summary"]
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    predicted = expected_purchases(model, split["days"], x, t_x, T)
    spend_each = expected_spend(spend, x, summary["monetary"].to_numpy(dtype=float))
    return summary[["frequency", "recency", "T"]].assign(
        predicted_purchases=predicted, actual_purchases=split["actual"]["actual_purchases"],
        expected_spend=spend_each, predicted_revenue=predicted * spend_each,
        actual_revenue=split["actual"]["actual_revenue"])


def _accuracy(table: pd.DataFrame, by: str) -> pd.DataFrame:
    frame = table.assign(purchases_abs=(table["predicted_purchases"] - table["actual_purchases"]).abs(),
                         revenue_abs=(table["predicted_revenue"] - table["actual_revenue"]).abs())
    out = frame.groupby(by, observed=True, sort=True).agg(
        customers=("actual_purchases", "size"),
        predicted_purchases=("predicted_purchases", "sum"), actual_purchases=("actual_purchases", "sum"),
        purchases_mae=("purchases_abs", "mean"),
        predicted_revenue=("predicted_revenue", "sum"), actual_revenue=("actual_revenue", "sum"),
        revenue_mae=("revenue_abs", "mean"))
    with np.errstate(divide="ignore", invalid="ignore"):  # no actual purchases: no relative error (NaN)
        out = out.assign(
            purchases_error=((out["predicted_purchases"] - out["actual_purchases"])
                             / out["actual_purchases"].where(out["actual_purchases"].gt(0))),
            revenue_error=((out["predicted_revenue"] - out["actual_revenue"])
                           / out["actual_revenue"].where(out["actual_revenue"].gt(0))))
    columns = ["customers", "predicted_purchases", "actual_purchases", "purchases_error", "purchases_mae",
               "predicted_revenue", "actual_revenue", "revenue_error", "revenue_mae"]
    return out[columns].reset_index()


def value_by_group(table: pd.DataFrame, groups: pd.Series, order: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per group: customers, mean and total historic revenue, mean and total predicted CLV, mean P(alive),
    p_alive_customers and the share of all predicted value. `groups` is aligned with `table`'s index.

    p_alive_mean is the mean over the customers the model can tell (`p_alive_customers`, those with a P(alive);
    with BG/NBD the one-time buyers have none), and NaN unless they are at least `MIN_P_ALIVE_COVERAGE` (half)
    of the group: a group of one-time buyers never shows BG/NBD's built-in 100% as "still active", nor the
    mean of the three repeat buyers among 180. clv_mean and clv_total likewise skip missing predictions.
    """
    _require(table, ("historic_revenue", "clv", "p_alive"), "table")
    summary = table.assign(group=groups).groupby("group", observed=True).agg(
        customers=("historic_revenue", "size"),
        historic_mean=("historic_revenue", "mean"),
        historic_total=("historic_revenue", "sum"),
        clv_mean=("clv", "mean"),
        clv_total=("clv", "sum"),
        p_alive_mean=("p_alive", "mean"),
        p_alive_customers=("p_alive", "count"),
    )
    if order is not None:
        summary = summary.reindex([g for g in order if g in summary.index])
    total = summary["clv_total"].sum()
    covered = summary["p_alive_customers"].ge(MIN_P_ALIVE_COVERAGE * summary["customers"])
    return summary.assign(clv_share=summary["clv_total"] / total if total else np.nan,
                          p_alive_mean=summary["p_alive_mean"].where(covered)).rename_axis("group").reset_index()


def value_at_stake(table: pd.DataFrame, threshold: float = LOW_P_ALIVE) -> dict[str, float | int]:
    """Customers who have probably stopped buying (P(alive) < `threshold`): how many, their share, and the
    historic revenue they brought (what the business stands to lose if none returns).

    Only customers with a P(alive) can be counted (`covered_customers`; with BG/NBD one-time buyers have
    none, see `p_alive`), so `share_of_customers` is customers / covered_customers, NaN when nobody is covered;
    `uncovered_customers` says how many the figure does not speak for.
    """
    _require(table, ("p_alive", "historic_revenue"), "table")
    covered = table["p_alive"].notna()
    low = table["p_alive"].lt(threshold)
    return {"threshold": threshold, "customers": int(low.sum()),
            "historic_revenue": float(table.loc[low, "historic_revenue"].sum()),
            "share_of_customers": float(low.sum() / covered.sum()) if covered.any() else float("nan"),
            "covered_customers": int(covered.sum()), "uncovered_customers": int((~covered).sum())}


def seed_clv(orders: pd.DataFrame, as_of: pd.Timestamp,
             acquisition_cost: float | None = None) -> dict[str, float | int | str | None]:
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
    Churn needs the whole year before: the base is everyone who bought in it, and a history that starts
    inside it holds only the customers of its last months (a 13-month history: one month of customers), whose
    churn says nothing about a year. So churn, lifespan, CLV and LTV are None (with `problem`
    "history_shorter_than_two_years") unless the first order (any, guests included: it dates the data) falls
    at or before the start of the year before, give or take its first day; the counts base_customers and
    churned_customers are still shown. Also None when there are no orders in the last year, no customers in
    the year before, or churn = 0 (lifespan unbounded; `problem` "no_churn").
    """
    _require(orders, ("customer_id", "order_date", "amount"), "orders")
    first_order = orders["order_date"].min()
    orders = orders.dropna(subset=["customer_id"])  # guest orders belong to no customer's value
    year_ago, two_years_ago = window_start(as_of, 12), window_start(as_of, 24)
    last = orders.loc[orders["order_date"].gt(year_ago) & orders["order_date"].le(as_of)]
    before = orders.loc[orders["order_date"].gt(two_years_ago) & orders["order_date"].le(year_ago)]
    customers = last["customer_id"].nunique()
    base = pd.Index(before["customer_id"].unique())
    churned = int((~isin(base, last["customer_id"])).sum())
    revenue, n_orders = float(last["amount"].sum()), len(last)
    aov = revenue / n_orders if n_orders else None
    frequency = n_orders / customers if customers else None
    arpu = revenue / customers if customers else None
    covered = pd.notna(first_order) and first_order <= two_years_ago + pd.Timedelta(days=1)
    churn = churned / len(base) if len(base) and covered else None
    problem = ("history_shorter_than_two_years" if not covered or not len(base)
               else "no_churn" if not churn else None)
    lifespan = 1 / churn if churn else None
    gross = aov * frequency * lifespan if aov is not None and frequency is not None and lifespan else None
    return {
        "customers": customers, "orders": n_orders, "revenue": revenue, "aov": aov, "frequency": frequency,
        "arpu": arpu, "base_customers": len(base), "churned_customers": churned, "churn_rate": churn,
        "lifespan_years": lifespan, "acquisition_cost": acquisition_cost, "clv": gross,
        "clv_net": gross - acquisition_cost if gross is not None and acquisition_cost is not None else None,
        "ltv_arpu": arpu / churn if arpu is not None and churn else None, "problem": problem,
    }
