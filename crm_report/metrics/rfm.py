"""RFM: recency, frequency and monetary value per customer; 1–5 scores; named segments; k-means clusters.

- **Recency** = whole days from the customer's last purchase day to the as-of day (0 = bought on the last
  day of the report month). **Frequency** = number of purchase orders. **Monetary** = total paid amount.
  Every customer with at least one purchase up to the as-of date is scored.
- **Scores** (quintiles with deterministic ties): a customer's score is 1 + ⌊5 × s⌋, where s is the share of
  customers with a strictly worse value (longer recency; fewer orders; lower spend). Equal values always get
  the same score, so with many one-order customers some F scores stay empty; nothing depends on row order.
- **Segments** follow Shopify's documented RFM groups: the group depends on R and on FM = (F + M) / 2
  (help.shopify.com, "RFM customer analysis"; group descriptions in the Admin API `CustomerRfmGroup` enum).
  Shopify does not publish every cut-off; ours is the grid in `SEGMENT_RULES`, one reading of its
  descriptions ("very recent" = R5, "recent" = R3–4, "without recent purchases" = R1–2).
- **Klaviyo-style groups** (option `report.rfm_style: klaviyo`, Klaviyo Help Center, "Understanding scoring
  and customer groups in the RFM report"): R is 3 for a last purchase within 180 days, 2 within 365 days,
  else 1; F and M are terciles (1–3, same tie rule as above); the three digits map to six groups
  (`KLAVIYO_CODES`): champions 333/332/323, loyal 321/322/331/232/233, recent 311–313, needs attention
  211–213/221–223/231, at risk 121–123/131–133, inactive 111–113.
- **Clusters**: k-means on standardised log(1 + recency), log(frequency), log(1 + monetary); k from 3 to 6
  with the best silhouette score (on a fixed-seed sample of at most 3,000 customers); names from the
  clusters' mean recency, orders and spend (`name_clusters`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crm_report.metrics.orders import customer_facts

# (segment, allowed R scores, FM lower bound inclusive, FM upper bound exclusive), checked in order.
SEGMENT_RULES: tuple[tuple[str, frozenset[int], float, float], ...] = (
    ("champions", frozenset({5}), 4.0, 99),
    ("loyal", frozenset({3, 4}), 4.0, 99),
    ("active", frozenset({4, 5}), 2.5, 4.0),
    ("needs_attention", frozenset({3}), 2.5, 4.0),
    ("new", frozenset({5}), 0, 2.5),
    ("promising", frozenset({3, 4}), 0, 2.5),
    ("previously_loyal", frozenset({1, 2}), 4.5, 99),
    ("at_risk", frozenset({1, 2}), 3.0, 4.5),
    ("almost_lost", frozenset({2}), 0, 3.0),
    ("dormant", frozenset({1}), 0, 3.0),
)
SEGMENTS = tuple(rule[0] for rule in SEGMENT_RULES)

KLAVIYO_RECENCY_DAYS = (180, 365)  # R = 3 up to 180 days, 2 up to 365 days, else 1
KLAVIYO_CODES: dict[str, frozenset[int]] = {
    "champions": frozenset({333, 332, 323}),
    "loyal": frozenset({321, 322, 331, 232, 233}),
    "recent": frozenset({311, 312, 313}),
    "needs_attention": frozenset({211, 212, 213, 221, 222, 223, 231}),
    "at_risk": frozenset({121, 122, 123, 131, 132, 133}),
    "inactive": frozenset({111, 112, 113}),
}
KLAVIYO_GROUPS = tuple(KLAVIYO_CODES)


def rfm_table(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer: recency_days, frequency, monetary (columns: customer_id and those three)."""
    facts = customer_facts(orders)
    return pd.DataFrame({
        "customer_id": facts.index,
        "recency_days": (as_of.normalize() - facts["last_order"].dt.normalize()).dt.days.to_numpy(),
        "frequency": facts["orders"].to_numpy(),
        "monetary": facts["revenue"].to_numpy(),
    })


def quintile_scores(values: pd.Series, higher_is_better: bool, n: int = 5) -> pd.Series:
    """1 + ⌊n × share of values strictly worse⌋: 1..n (quintiles by default), ties share the lower score."""
    oriented = values if higher_is_better else -values
    strictly_worse = oriented.rank(method="min") - 1
    return (1 + np.floor(n * strictly_worse / len(values))).astype("int64")


def score_rfm(rfm: pd.DataFrame) -> pd.DataFrame:
    """Adds r_score, f_score, m_score (1–5) and fm_score = (f_score + m_score) / 2."""
    return rfm.assign(
        r_score=quintile_scores(rfm["recency_days"], higher_is_better=False),
        f_score=quintile_scores(rfm["frequency"], higher_is_better=True),
        m_score=quintile_scores(rfm["monetary"], higher_is_better=True),
    ).assign(fm_score=lambda t: (t["f_score"] + t["m_score"]) / 2)


def assign_segments(scored: pd.DataFrame) -> pd.DataFrame:
    """Adds `segment`, the first rule of `SEGMENT_RULES` that the customer's R and FM satisfy."""
    conditions = [
        scored["r_score"].isin(list(r_scores)) & scored["fm_score"].ge(low) & scored["fm_score"].lt(high)
        for _, r_scores, low, high in SEGMENT_RULES
    ]
    segment = np.select(conditions, list(SEGMENTS), default="")
    if (segment == "").any():  # the grid covers every (R, FM) pair; this guards future edits of the rules
        raise ValueError("SEGMENT_RULES leave some R/FM combinations without a segment")
    return scored.assign(segment=segment)


def klaviyo_segments(rfm: pd.DataFrame) -> pd.DataFrame:
    """Adds Klaviyo-style r_score (180/365 days), f_score and m_score (terciles) and `segment` (six groups)."""
    recent, lapsed = KLAVIYO_RECENCY_DAYS
    days = rfm["recency_days"]
    scored = rfm.assign(
        r_score=np.select([days.le(recent), days.le(lapsed)], [3, 2], default=1).astype("int64"),
        f_score=quintile_scores(rfm["frequency"], higher_is_better=True, n=3),
        m_score=quintile_scores(rfm["monetary"], higher_is_better=True, n=3),
    )
    code = scored["r_score"] * 100 + scored["f_score"] * 10 + scored["m_score"]
    groups = [code.isin(list(codes)) for codes in KLAVIYO_CODES.values()]
    return scored.assign(segment=np.select(groups, list(KLAVIYO_GROUPS), default=""))


def segment_order(style: str = "shopify") -> tuple[str, ...]:
    """The named groups of an RFM style, in report order."""
    return KLAVIYO_GROUPS if style == "klaviyo" else SEGMENTS


def segment_customers(orders: pd.DataFrame, as_of: pd.Timestamp, style: str = "shopify") -> pd.DataFrame:
    """Every customer's R, F, M, scores and named segment, Shopify-style (default) or Klaviyo-style."""
    rfm = rfm_table(orders, as_of)
    if style == "klaviyo":
        return klaviyo_segments(rfm)
    if style != "shopify":
        raise ValueError(f"unknown RFM style {style!r}; use 'shopify' or 'klaviyo'")
    return assign_segments(score_rfm(rfm))


def summarise_groups(customers: pd.DataFrame, by: str, order: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per group: customers, share of customers, revenue, share of revenue, mean recency/frequency/monetary."""
    summary = customers.groupby(by, observed=True).agg(
        customers=("customer_id", "size"),
        revenue=("monetary", "sum"),
        mean_recency_days=("recency_days", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary=("monetary", "mean"),
    )
    if order is not None:
        summary = summary.reindex([g for g in order if g in summary.index])
    total_revenue = summary["revenue"].sum()
    return summary.assign(
        customer_share=summary["customers"] / summary["customers"].sum(),
        revenue_share=summary["revenue"] / total_revenue if total_revenue else np.nan,
    ).reset_index()


def cluster_rfm(rfm: pd.DataFrame, k_range: range = range(3, 7), seed: int = 40,
                sample_size: int = 3000) -> tuple[pd.Series, pd.DataFrame]:
    """k-means clusters on standardised log R, F, M; k chosen by the highest silhouette score.

    Returns (labels aligned with `rfm`, ordered so cluster 0 has the highest mean monetary value; and a
    table of k → silhouette). Raises ValueError with fewer customers than 2 × the largest k.
    """
    # scikit-learn is imported here, not at module level: it takes about a second, and only clustering needs it.
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    if len(rfm) < 2 * max(k_range):
        raise ValueError(f"clustering needs at least {2 * max(k_range)} customers, got {len(rfm)}")
    features = StandardScaler().fit_transform(np.column_stack([
        np.log1p(rfm["recency_days"]), np.log(rfm["frequency"]), np.log1p(rfm["monetary"].clip(lower=0)),
    ]))
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(features), size=min(sample_size, len(features)), replace=False)
    fits, scores = {}, []
    # One thread: the data are small, and OpenMP threads spinning against the other report notebook's kernel
    # on a 2-core machine made this 3× slower.
    with threadpool_limits(limits=1):
        for k in k_range:
            model = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(features)  # k-means++: sklearn default
            fits[k] = model.labels_
            scores.append({"k": k, "silhouette": float(silhouette_score(features[sample], model.labels_[sample]))})
    table = pd.DataFrame(scores)
    best = int(table.loc[table["silhouette"].idxmax(), "k"])
    labels = pd.Series(fits[best], index=rfm.index)
    by_value = rfm["monetary"].groupby(labels).mean().sort_values(ascending=False).index
    relabel = {old: new for new, old in enumerate(by_value)}
    return labels.map(relabel).astype("int64"), table.assign(chosen=table["k"].eq(best))


def name_clusters(profile: pd.DataFrame, rfm: pd.DataFrame, cycle_days: float) -> pd.Series:
    """A readable name key per cluster from the same means the report's cluster table shows.

    `profile` is `summarise_groups(..., "cluster")` (one row per cluster), `rfm` all scored customers.
    - recent: mean days since the last purchase ≤ 2 × `cycle_days` (the client's median time between
      purchases; 180 days when nobody bought twice), i.e. on average not yet past "at risk"; else lapsed;
    - repeat: mean orders ≥ 1.5; else one-time;
    - high: mean spend above the mean spend of all customers; else low.
    The key is "{recent|lapsed}_{repeat|onetime}_{high|low}"; clusters with the same traits get "_2", "_3"…
    in row order (cluster 0 has the highest mean spend).
    """
    threshold = 2 * cycle_days if np.isfinite(cycle_days) else 180.0
    recent = np.where(profile["mean_recency_days"] <= threshold, "recent", "lapsed")
    repeat = np.where(profile["mean_frequency"] >= 1.5, "repeat", "onetime")
    value = np.where(profile["mean_monetary"] > rfm["monetary"].mean(), "high", "low")
    keys = pd.Series([f"{a}_{b}_{c}" for a, b, c in zip(recent, repeat, value)], index=profile.index)
    rank = keys.groupby(keys).cumcount() + 1
    return keys.where(rank.eq(1), keys + "_" + rank.astype(str))
