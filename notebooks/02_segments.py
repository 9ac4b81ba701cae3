# %% [markdown]
# # RFM 分群與顧客價值 Segments, clusters and lifetime value
# RFM scores (1–5), Shopify-style named segments, k-means clusters on log-scaled R, F, M, and customer
# lifetime value: historic, and predicted with BG/NBD (purchases, P(alive)) and Gamma-Gamma (spend).

# %% tags=["parameters"]
client = "demo-supplements"
month = "2026-10"
report_dir = ""

# %%
from crm_report import charts, workspace
from crm_report.metrics import clv, repurchase, rfm

run = workspace.open_run(client, month, report_dir)
charts.apply_theme(run.config.brand)
options, locale, words = run.config.report, run.config.locale, run.words

# %% [markdown]
# ## RFM scores and named segments

# %%
customers = rfm.assign_segments(rfm.score_rfm(rfm.rfm_table(run.orders, run.as_of)))
segments = rfm.summarise_groups(customers, "segment", order=rfm.SEGMENTS)
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
         values={"customers": len(customers), "k": int(silhouettes.loc[silhouettes["chosen"], "k"].iloc[0])},
         tables={"segments": segments, "clusters": clusters, "silhouettes": silhouettes},
         figures={"segments": segment_chart, "clusters": cluster_chart})

# %% [markdown]
# ## Lifetime value: historic, and predicted for the next months (BG/NBD + Gamma-Gamma)

# %%
value = clv.customer_value(run.orders, run.as_of, options.clv_months, options.clv_monthly_discount)
by_segment = clv.value_by_group(value.table, customers.set_index("customer_id")["segment"], order=rfm.SEGMENTS)
stake = clv.value_at_stake(value.table)
alive_chart = charts.p_alive_histogram(value.table["p_alive"], words["charts"]["p_alive"])
value.purchases, value.spend, value.problem

# %%
by_segment

# %%
run.save("value",
         values={"problem": value.problem, "repeat_customers": value.repeat_customers,
                 "min_repeat_customers": clv.MIN_REPEAT_CUSTOMERS, "months": options.clv_months,
                 "monthly_discount": options.clv_monthly_discount, "purchases_model": value.purchases,
                 "spend_model": value.spend, "at_stake": stake,
                 "predicted_total": value.table["clv"].sum(min_count=1),
                 "historic_total": value.table["historic_revenue"].sum()},
         tables={"by_segment": by_segment},
         figures={"p_alive": alive_chart})
