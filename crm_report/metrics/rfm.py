"""RFM: recency, frequency and monetary value per customer; 1–5 scores; named segments; k-means clusters.

- **Recency** = whole days from the customer's last purchase day to the as-of day (0 = bought on the last
  day of the report month). **Frequency** = number of purchase orders. **Monetary** = total paid amount
  (lifetime, net of refunds): the revenue basis of every segment table.
- **Who is scored**: customers with a purchase in the last `ACTIVE_MONTHS` (24) calendar months up to the
  as-of date (`period.window_start`). Those whose last purchase is older are segment `lost` and get no
  scores: ranking a 2021 buyer against this year's customers made "loyal" a label for the long gone.
- **R is scored against the customer's own purchase cycle** (the NES cycle of `lifecycle.nes_stages`, with
  its floor), so RFM can never contradict the NES stages: R5 = at most half a cycle since the last purchase,
  R4 = at most one cycle (NES N/E0), R3 = 1–2 cycles (S1), R2 = 2–3 cycles (S2), R1 = over 3 cycles (S3).
  When the client has no repeat purchase at all there is no cycle, and R falls back to quintiles of recency
  among the scored customers (said in the methodology).
- **F and M scores** (quintiles with deterministic ties) among the scored customers: a customer's score is
  1 + ⌊5 × s⌋, where s is the share of scored customers with a strictly lower value. Equal values always get
  the same score, so with many one-order customers some F scores stay empty; nothing depends on row order.
- **Segments** follow Shopify's documented RFM groups: the group depends on R and on FM = (F + M) / 2
  (help.shopify.com, "RFM customer analysis"; group descriptions in the Admin API `CustomerRfmGroup` enum).
  Shopify does not publish every cut-off; ours is the grid in `SEGMENT_RULES`. Only customers within their
  cycle (R4–5) can be champions, loyal, active, new or promising; R3 is needs attention or, with FM ≥ 4, at
  risk; R1–2 are at risk, almost lost, previously loyal or dormant.
- **Klaviyo-style groups** (option `report.rfm_style: klaviyo`, Klaviyo Help Center, "Understanding scoring
  and customer groups in the RFM report"): Klaviyo's R is 3 for a last purchase within 180 days, 2 within
  365 days, else 1; ours is the lower of that and the cycle's (3 within one cycle, 2 within three, else 1),
  so "champions" and "loyal" are never past their cycle. F and M are terciles (1–3, same tie rule as above);
  the three digits map to six groups (`KLAVIYO_CODES`): champions 333/332/323, loyal 321/322/331, recent
  311–313, needs attention 211–213/221–223/231–233, at risk 121–123/131–133, inactive 111–113. Departure from
  Klaviyo: 232 and 233 (past their cycle) are needs attention, not loyal.
- **Clusters**: k-means on standardised log(1 + recency), log(frequency), log(1 + monetary) of the scored
  customers; k from 3 to 6 with the best silhouette score (on a fixed-seed sample of at most 3,000
  customers); names from the clusters' mean recency, orders and spend (`name_clusters`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crm_report.metrics.orders import customer_facts
from crm_report.period import window_start

ACTIVE_MONTHS = 24
"""Customers with a purchase in this many calendar months up to the as-of date are scored; the rest are lost."""
LOST = "lost"

# (segment, allowed R scores, FM lower bound inclusive, FM upper bound exclusive), checked in order.
SEGMENT_RULES: tuple[tuple[str, frozenset[int], float, float], ...] = (
    ("champions", frozenset({5}), 4.0, 99),
    ("loyal", frozenset({4}), 4.0, 99),
    ("active", frozenset({4, 5}), 2.5, 4.0),
    ("new", frozenset({5}), 0, 2.5),
    ("promising", frozenset({4}), 0, 2.5),
    ("needs_attention", frozenset({3}), 0, 4.0),
    ("at_risk", frozenset({3}), 4.0, 99),
    ("at_risk", frozenset({2}), 3.0, 4.5),
    ("previously_loyal", frozenset({1, 2}), 4.5, 99),
    ("almost_lost", frozenset({2}), 0, 3.0),
    ("dormant", frozenset({1}), 0, 4.5),
)
SEGMENTS = ("champions", "loyal", "active", "new", "promising", "needs_attention", "at_risk", "previously_loyal",
            "almost_lost", "dormant", LOST)
RECENT_SEGMENTS = {"shopify": ("champions", "loyal", "active", "new", "promising"),
                   "klaviyo": ("champions", "loyal", "recent")}
"""The segments whose customers are all within their purchase cycle (NES N or E0), by construction."""

CYCLE_R_LIMITS = (0.5, 1.0, 2.0, 3.0)
"""Shopify-style R: 5 up to 0.5 × the cycle since the last purchase, 4 up to 1×, 3 up to 2×, 2 up to 3×, else 1."""
KLAVIYO_RECENCY_DAYS = (180, 365)  # R = 3 up to 180 days, 2 up to 365 days, else 1
KLAVIYO_CODES: dict[str, frozenset[int]] = {
    "champions": frozenset({333, 332, 323}),
    "loyal": frozenset({321, 322, 331}),
    "recent": frozenset({311, 312, 313}),
    "needs_attention": frozenset({211, 212, 213, 221, 222, 223, 231, 232, 233}),
    "at_risk": frozenset({121, 122, 123, 131, 132, 133}),
    "inactive": frozenset({111, 112, 113}),
}
KLAVIYO_GROUPS = (*KLAVIYO_CODES, LOST)
SCORE_COLUMNS = ("r_score", "f_score", "m_score")


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


def cycle_recency_scores(days_since: pd.Series, cycle_days: pd.Series,
                         limits: tuple[float, ...] = CYCLE_R_LIMITS) -> pd.Series:
    """R from the customer's cycle: len(limits) + 1 for days ≤ limits[0] × cycle, … 1 beyond the last limit.

    Days are compared with multiples of the cycle exactly as `lifecycle.nes_stages` does, so R4–5 is NES
    N/E0, R3 is S1, R2 is S2 and R1 is S3 with the default limits.
    """
    days, cycle = days_since.to_numpy(dtype="float64"), cycle_days.to_numpy(dtype="float64")
    top = len(limits) + 1
    return pd.Series(np.select([days <= k * cycle for k in limits], list(range(top, 1, -1)), default=1),
                     index=days_since.index).astype("int64")


def score_rfm(rfm: pd.DataFrame) -> pd.DataFrame:
    """Adds r_score, f_score, m_score (1–5) and fm_score = (f_score + m_score) / 2 for the customers given.

    R comes from `days_since_last` against `cycle_days` (`cycle_recency_scores`) when `rfm` has a known
    cycle for everyone, else from quintiles of `recency_days`. F and M are quintiles among these customers.
    """
    has_cycle = "cycle_days" in rfm and len(rfm) and rfm["cycle_days"].notna().all()
    r_score = (cycle_recency_scores(rfm["recency_days"], rfm["cycle_days"]) if has_cycle
               else quintile_scores(rfm["recency_days"], higher_is_better=False))
    return rfm.assign(
        r_score=r_score,
        f_score=quintile_scores(rfm["frequency"], higher_is_better=True),
        m_score=quintile_scores(rfm["monetary"], higher_is_better=True),
    ).assign(fm_score=lambda t: (t["f_score"] + t["m_score"]) / 2)


def assign_segments(scored: pd.DataFrame) -> pd.DataFrame:
    """Adds `segment`, the first rule of `SEGMENT_RULES` that the customer's R and FM satisfy."""
    conditions = [
        scored["r_score"].isin(list(r_scores)) & scored["fm_score"].ge(low) & scored["fm_score"].lt(high)
        for _, r_scores, low, high in SEGMENT_RULES
    ]
    segment = np.select(conditions, [rule[0] for rule in SEGMENT_RULES], default="")
    if (segment == "").any():  # the grid covers every (R, FM) pair; this guards future edits of the rules
        raise ValueError("SEGMENT_RULES leave some R/FM combinations without a segment")
    return scored.assign(segment=segment)


def klaviyo_segments(rfm: pd.DataFrame) -> pd.DataFrame:
    """Adds Klaviyo-style r_score (180/365 days, capped by the cycle when `cycle_days` is known), f_score and
    m_score (terciles) and `segment` (six groups)."""
    recent, lapsed = KLAVIYO_RECENCY_DAYS
    days = rfm["recency_days"]
    r_score = pd.Series(np.select([days.le(recent), days.le(lapsed)], [3, 2], default=1), index=rfm.index)
    if "cycle_days" in rfm and len(rfm) and rfm["cycle_days"].notna().all():
        r_score = np.minimum(r_score, cycle_recency_scores(days, rfm["cycle_days"], limits=(1.0, 3.0)))
    scored = rfm.assign(
        r_score=r_score.astype("int64"),
        f_score=quintile_scores(rfm["frequency"], higher_is_better=True, n=3),
        m_score=quintile_scores(rfm["monetary"], higher_is_better=True, n=3),
    )
    code = scored["r_score"] * 100 + scored["f_score"] * 10 + scored["m_score"]
    groups = [code.isin(list(codes)) for codes in KLAVIYO_CODES.values()]
    return scored.assign(segment=np.select(groups, list(KLAVIYO_CODES), default=""))


def segment_order(style: str = "shopify") -> tuple[str, ...]:
    """The named groups of an RFM style, in report order (`lost` last)."""
    return KLAVIYO_GROUPS if style == "klaviyo" else SEGMENTS


def segment_customers(orders: pd.DataFrame, as_of: pd.Timestamp, style: str = "shopify",
                      stages: pd.DataFrame | None = None, active_months: int = ACTIVE_MONTHS) -> pd.DataFrame:
    """Every customer's R, F, M, scores and named segment, Shopify-style (default) or Klaviyo-style.

    `stages` is `lifecycle.nes_stages(orders, as_of)` (computed when not given): its cycle scores R. Customers
    without a purchase in the last `active_months` months are `LOST`, with missing scores.
    Columns: customer_id, recency_days, frequency, monetary, cycle_days, active, r_score, f_score, m_score,
    [fm_score], segment; sorted by customer id.
    """
    if style not in ("shopify", "klaviyo"):
        raise ValueError(f"unknown RFM style {style!r}; use 'shopify' or 'klaviyo'")
    if stages is None:
        from crm_report.metrics.lifecycle import nes_stages  # lifecycle imports this module's neighbours
        stages = nes_stages(orders, as_of)
    rfm = rfm_table(orders, as_of)
    cycle = stages.set_index("customer_id")["cycle_days"].reindex(rfm["customer_id"]).to_numpy()
    last = orders.groupby("customer_id", observed=True)["order_date"].max().reindex(rfm["customer_id"])
    rfm = rfm.assign(cycle_days=cycle, active=last.gt(window_start(as_of, active_months)).to_numpy())
    active = rfm.loc[rfm["active"]]
    scored = klaviyo_segments(active) if style == "klaviyo" else assign_segments(score_rfm(active))
    scores = [c for c in (*SCORE_COLUMNS, "fm_score") if c in scored]
    result = rfm.join(scored[[*scores, "segment"]])
    return result.assign(
        segment=result["segment"].fillna(LOST).astype("str"),
        **{c: result[c].astype("Int64") for c in SCORE_COLUMNS},
    )


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


CLUSTER_K_RANGE = range(3, 7)


def empty_silhouettes() -> pd.DataFrame:
    """The silhouette table of `cluster_rfm` when there are too few customers to cluster."""
    return pd.DataFrame({"k": pd.Series([], dtype="int64"), "silhouette": pd.Series([], dtype="float64"),
                         "chosen": pd.Series([], dtype="bool")})


def cluster_rfm(rfm: pd.DataFrame, k_range: range = CLUSTER_K_RANGE, seed: int = 40,
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
    keys = pd.Series([f"{a}_{b}_{c}" for a, b, c in zip(recent, repeat, value, strict=True)], index=profile.index)
    rank = keys.groupby(keys).cumcount() + 1
    return keys.where(rank.eq(1), keys + "_" + rank.astype(str))
