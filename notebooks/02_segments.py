# %% [markdown]
# # RFM 分群 Segments and clusters
# RFM scores and named segments (Shopify-style 1–5 grid, or Klaviyo's six groups when the client's
# `report.rfm_style` is `klaviyo`), and k-means clusters on log-scaled R, F, M.

# %% tags=["parameters"]
client = "demo-supplements"
month = "2026-10"
report_dir = ""

# %%
from crm_report import charts, workspace
from crm_report.metrics import repurchase, rfm

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
run.save("segments",
         values={"customers": len(customers), "style": options.rfm_style, "k": int(silhouettes.loc[silhouettes["chosen"], "k"].iloc[0])},
         tables={"segments": segments, "clusters": clusters, "silhouettes": silhouettes},
         figures={"segments": segment_chart, "clusters": cluster_chart})
