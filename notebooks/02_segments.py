# %% [markdown]
# # 新客、回購與 RFM 分群 Acquisition, repurchase, segments and clusters
# New versus returning customers (the month's KPI tiles and the 24-month trend), what new customers buy
# first, how many buy again and how soon (second-purchase curve, intervals by order number, cohorts), then
# RFM scores and named segments (Shopify-style 1–5 grid, or Klaviyo's six groups when the client's
# `report.rfm_style` is `klaviyo`), k-means clusters on log-scaled R, F, M, then the NES life-cycle stages
# (ECFIT, seed 002), member tiers (seed 001), and how customers moved between segments, stages and tiers
# since the end of last month (last month recomputed from the orders up to then).

# %% tags=["parameters"]
client = "demo-supplements"
month = "2026-10"
report_dir = ""

# %%
from crm_report import charts, workspace
from crm_report.metrics import acquisition, captions, conclusions, lifecycle, repurchase, rfm, tiers
from crm_report.metrics import customers as history

run = workspace.open_run(client, month, report_dir)
charts.apply_theme(run.config.brand)
options, locale, words = run.config.report, run.config.locale, run.words
order = rfm.segment_order(options.rfm_style)

# %% [markdown]
# ## KPI tiles: the month against the previous month and the same month last year

# %%
monthly = acquisition.monthly_new_vs_returning(run.orders, run.month, n_months=options.trend_months)
intervals = repurchase.purchase_intervals(run.orders)  # also the repurchase section's
reliable = acquisition.reliable_from(run.orders, intervals["interval_days"])  # the export's first months
monthly = acquisition.mark_censored(monthly, reliable)
monthly = acquisition.mark_partial(monthly, run.month if run.partial_end is not None else None)
kpis = acquisition.month_kpis(monthly, run.month)
kpis

# %% [markdown]
# ## New and returning customers and revenue, month by month

# %%
customers_chart = charts.new_vs_returning(monthly, words["charts"]["acquisition"], "customers", locale=locale)

# %%
revenue_chart = charts.new_vs_returning(monthly, words["charts"]["acquisition"], "revenue", locale=locale,
                                        currency=run.config.currency)

# %% [markdown]
# ## What new customers buy first (first orders of the last 12 months)

# %%
firsts = acquisition.first_orders(run.orders, run.month, window_months=12)
first_products = acquisition.first_order_products(run.lines_of(firsts), firsts, top=options.top_products)
first_products

# %%
run.save("acquisition",
         values={**acquisition.kpi_values(kpis),
                 "so_what": conclusions.acquisition(kpis, partial=run.partial_end is not None),
                 "reliable_from": None if reliable is None else str(reliable),
                 "captions": {"customers": captions.new_customers(monthly), "revenue": captions.revenue_mix(monthly)}},
         tables={"kpis": kpis, "monthly": monthly, "first_products": first_products},
         figures={"customers": customers_chart, "revenue": revenue_chart})

# %% [markdown]
# ## Share of new customers who bought again within N days

# %%
rates = repurchase.repeat_rates(run.customers, run.as_of, options.repeat_windows)
headline = rates.iloc[(rates["window_days"] - 90).abs().argmin()]  # the window closest to 90 days
rates_chart = charts.repeat_rate_bars(rates, words["charts"]["repeat"])
rates

# %% [markdown]
# ## Days between consecutive purchases

# %%
interval_stats = repurchase.interval_summary(intervals)
interval_chart = charts.interval_histogram(intervals, interval_stats["median"], words["charts"]["intervals"])
by_order_number = repurchase.intervals_by_order_number(run.orders, intervals=intervals)
interval_stats, by_order_number

# %% [markdown]
# ## Second-purchase curve: the latest cohorts against the same months a year ago

# %%
comparison = repurchase.comparison_cohorts(run.month, n_months=6)
curves = {key: repurchase.second_purchase_curve(run.customers, run.as_of, months)
          for key, months in comparison.items()}
marks = repurchase.curve_marks(curves, options.repeat_windows)
curve_chart = charts.second_purchase_curves(curves, words["second_purchase_groups"],
                                            words["charts"]["second_purchase"], marks=options.repeat_windows)
marks

# %% [markdown]
# ## Cohort retention: share of each month's new customers buying again k months later

# %%
cohorts = repurchase.cohort_retention(run.orders, run.month, options.cohort_months)
cohort_chart = charts.cohort_heatmap(cohorts, words["charts"]["cohorts"], run.config.brand, locale=locale)
cohort_value = repurchase.cohort_revenue(run.orders, run.month, options.cohort_months)
cohort_value_chart = charts.cohort_value_curves(cohort_value, words["charts"]["cohort_value"], locale=locale,
                                                currency=run.config.currency)
cohort_value

# %%
run.save("repurchase",
         values={"intervals": interval_stats, "headline_window": int(headline["window_days"]),
                 "headline_rate": headline["rate"],
                 "so_what": conclusions.repurchase(curves, int(headline["window_days"]), interval_stats),
                 "comparison": {key: [str(months[0]), str(months[-1])] for key, months in comparison.items()},
                 "captions": {"repeat_rates": captions.repeat_windows(rates, int(headline["window_days"])),
                              "intervals": captions.intervals(interval_stats),
                              "second_purchase": captions.second_purchase(curves, int(headline["window_days"])),
                              "cohorts": captions.cohort_retention(cohorts),
                              "cohort_value": captions.cohort_value(cohort_value)}},
         tables={"repeat_rates": rates, "cohorts": cohorts, "cohort_value": cohort_value,
                 "by_order_number": by_order_number, "second_purchase_marks": marks},
         figures={"repeat_rates": rates_chart, "intervals": interval_chart, "cohorts": cohort_chart,
                  "cohort_value": cohort_value_chart, "second_purchase": curve_chart})

# %% [markdown]
# ## RFM scores and named segments (from the one customer history the prepare step built)

# %%
customers = run.customers.reset_index()
segments = rfm.summarise_groups(customers, "segment", order=order)
segment_chart = charts.share_bars(segments, words["segment_names"], words["charts"]["segments"])
agreement = history.reconcile_segments(run.customers, options.rfm_style)
segments, agreement

# %% [markdown]
# ## k-means clusters (k chosen by silhouette score) among the customers scored by RFM

# %%
scored = customers.loc[customers["active"]].reset_index(drop=True)
can_cluster = len(scored) >= 2 * max(rfm.CLUSTER_K_RANGE)
if can_cluster:
    labels, silhouettes = rfm.cluster_rfm(scored)
    client_cycle = intervals["interval_days"].median()
    clusters = rfm.summarise_groups(scored.assign(cluster=labels), "cluster")
    clusters = clusters.assign(name=rfm.name_clusters(clusters, scored, client_cycle))
    clusters = clusters.assign(label=clusters["name"].map(run.cluster_label))
    cluster_figures = {"clusters": charts.cluster_bubbles(clusters, words["charts"]["clusters"], locale=locale)}
else:  # too few customers to cluster: the section says so
    silhouettes = rfm.empty_silhouettes()
    clusters, cluster_figures = rfm.summarise_groups(scored.assign(cluster=0).iloc[:0], "cluster"), {}
silhouettes

# %% [markdown]
# ## Last month, from the history as of its end (orders known then)

# %%
previous = run.previous_customers
segment_flow = lifecycle.transition_matrix(previous["segment"], run.customers["segment"], order)
segment_moves = lifecycle.biggest_movements(segment_flow)
segment_moves

# %%
run.save("segments",
         values={"customers": len(customers), "scored": len(scored), "style": options.rfm_style,
                 "active_months": rfm.ACTIVE_MONTHS, "agreement": agreement,
                 "recent_segments": list(rfm.RECENT_SEGMENTS[options.rfm_style]),
                 "k": int(silhouettes.loc[silhouettes["chosen"], "k"].iloc[0]) if can_cluster else None,
                 "so_what": conclusions.segments(segments, rfm.RECENT_SEGMENTS[options.rfm_style]),
                 "captions": {"segments": captions.segment_gap(segments),
                              "clusters": captions.clusters(clusters) if can_cluster else None}},
         tables={"segments": segments, "clusters": clusters, "silhouettes": silhouettes},
         figures={"segments": segment_chart, **cluster_figures})

# %% [markdown]
# ## NES life-cycle stages and their flow since last month

# %%
staged = bool(run.customers["stage"].notna().any())  # no stages when nobody ever bought twice
if staged:
    stage_table = lifecycle.stage_summary(customers, run.orders, run.as_of)
    stage_flow = lifecycle.transition_matrix(previous["stage"].dropna(), run.customers["stage"], lifecycle.STAGES)
    stage_figures = {"stages": charts.share_bars(stage_table, words["nes_names"], words["charts"]["nes"],
                                                 key="stage")}
else:
    stage_table = lifecycle.stage_summary(customers.iloc[:0], run.orders.iloc[:0], run.as_of)
    stage_flow = lifecycle.transition_matrix(previous["stage"].iloc[:0], run.customers["stage"].iloc[:0],
                                             lifecycle.STAGES)
    stage_figures = {}
stage_moves = lifecycle.biggest_movements(stage_flow)
stage_table

# %% [markdown]
# ## Member tiers: spend in the last 12 months against the client's thresholds

# %%
previous_as_of = lifecycle.previous_as_of(run.month)
previous_orders = run.previous_orders
invited = tiers.read_invitations(run.config)
tier_names = tiers.tier_order(run.config.member_tiers, invited)
member_tiers = tiers.assign_tiers(run.orders, run.as_of, run.config.member_tiers, invited)
previous_tiers = tiers.assign_tiers(previous_orders, previous_as_of, run.config.member_tiers, invited)
tier_table = tiers.tier_summary(member_tiers, tier_names)
tier_moves = tiers.tier_changes(previous_tiers, member_tiers, tier_names)
tier_table, tier_moves.counts

# %%
run.save("lifecycle",
         values={"previous_month": str(run.month - 1), "stages": list(lifecycle.STAGES), "staged": staged,
                 "segment_order": list(order), "tiers": list(tier_names),
                 "cycle_basis": run.customers["cycle_basis"].value_counts().to_dict(),
                 "close_share": tiers.CLOSE_SHARE,
                 "so_what": conclusions.lifecycle(stage_moves, partial=run.partial_end is not None) if staged else [],
                 "captions": {"stages": captions.stages(stage_table) if staged else None}},
         tables={"stages": stage_table, "stage_flow": stage_flow.reset_index(), "stage_moves": stage_moves,
                 "segment_flow": segment_flow.reset_index(), "segment_moves": segment_moves,
                 "tiers": tier_table, "tier_changes": tier_moves.counts,
                 "tier_flow": tier_moves.matrix.reset_index()},
         figures=stage_figures)
