# %% [markdown]
# # RFM 分群 Segments and clusters
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
from crm_report.metrics import lifecycle, orders, repurchase, rfm, tiers

run = workspace.open_run(client, month, report_dir)
charts.apply_theme(run.config.brand)
options, locale, words = run.config.report, run.config.locale, run.words

# %% [markdown]
# ## RFM scores and named segments

# %%
customers = rfm.segment_customers(run.orders, run.as_of, options.rfm_style)
segments = rfm.summarise_groups(customers, "segment", order=rfm.segment_order(options.rfm_style))
segment_chart = charts.share_bars(segments, words["segment_names"], words["charts"]["segments"])
segments

# %% [markdown]
# ## k-means clusters (k chosen by silhouette score)

# %%
labels, silhouettes = rfm.cluster_rfm(customers)
client_cycle = repurchase.purchase_intervals(run.orders)["interval_days"].median()
clusters = rfm.summarise_groups(customers.assign(cluster=labels), "cluster")
clusters = clusters.assign(name=rfm.name_clusters(clusters, customers, client_cycle))
clusters = clusters.assign(label=clusters["name"].map(run.cluster_label))
cluster_chart = charts.cluster_bubbles(clusters, words["charts"]["clusters"], locale=locale)
silhouettes

# %%
# %% [markdown]
# ## Last month, recomputed from the orders up to its end

# %%
previous_as_of = lifecycle.previous_as_of(run.month)
previous_orders = orders.purchase_orders(run.lines, previous_as_of)
previous_customers = rfm.segment_customers(previous_orders, previous_as_of, options.rfm_style)
segment_flow = lifecycle.transition_matrix(previous_customers.set_index("customer_id")["segment"],
                                           customers.set_index("customer_id")["segment"],
                                           rfm.segment_order(options.rfm_style))
segment_moves = lifecycle.biggest_movements(segment_flow)
segment_moves

# %%
run.save("segments",
         values={"customers": len(customers), "style": options.rfm_style, "k": int(silhouettes.loc[silhouettes["chosen"], "k"].iloc[0])},
         tables={"segments": segments, "clusters": clusters, "silhouettes": silhouettes},
         figures={"segments": segment_chart, "clusters": cluster_chart})

# %% [markdown]
# ## NES life-cycle stages and their flow since last month

# %%
stages = lifecycle.nes_stages(run.orders, run.as_of)
previous_stages = lifecycle.nes_stages(previous_orders, previous_as_of)
stage_table = lifecycle.stage_summary(stages, run.orders, run.as_of)
stage_flow = lifecycle.transition_matrix(previous_stages.set_index("customer_id")["stage"],
                                         stages.set_index("customer_id")["stage"], lifecycle.STAGES)
stage_moves = lifecycle.biggest_movements(stage_flow)
stage_chart = charts.share_bars(stage_table, words["nes_names"], words["charts"]["nes"], key="stage")
stage_table

# %% [markdown]
# ## Member tiers: spend in the last 12 months against the client's thresholds

# %%
invited = tiers.read_invitations(run.config)
tier_names = tiers.tier_order(run.config.member_tiers, invited)
member_tiers = tiers.assign_tiers(run.orders, run.as_of, run.config.member_tiers, invited)
previous_tiers = tiers.assign_tiers(previous_orders, previous_as_of, run.config.member_tiers, invited)
tier_table = tiers.tier_summary(member_tiers, tier_names)
tier_moves = tiers.tier_changes(previous_tiers, member_tiers, tier_names)
tier_table, tier_moves.counts

# %%
run.save("lifecycle",
         values={"previous_month": str(run.month - 1), "stages": list(lifecycle.STAGES),
                 "segment_order": list(rfm.segment_order(options.rfm_style)), "tiers": list(tier_names),
                 "cycle_basis": stages["cycle_basis"].value_counts().to_dict(),
                 "close_share": tiers.CLOSE_SHARE},
         tables={"stages": stage_table, "stage_flow": stage_flow.reset_index(), "stage_moves": stage_moves,
                 "segment_flow": segment_flow.reset_index(), "segment_moves": segment_moves,
                 "tiers": tier_table, "tier_changes": tier_moves.counts,
                 "tier_flow": tier_moves.matrix.reset_index()},
         figures={"stages": stage_chart})
