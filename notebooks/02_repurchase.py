# %% [markdown]
# # 回購行為 Repurchase behaviour
# How many new customers buy again and how soon, the time between orders, and cohort retention.

# %% tags=["parameters"]
client = "demo-supplements"
month = "2026-10"
report_dir = ""

# %%
from crm_report import charts, workspace
from crm_report.metrics import repurchase

run = workspace.open_run(client, month, report_dir)
charts.apply_theme(run.config.brand)
options, locale, words = run.config.report, run.config.locale, run.words["charts"]

# %% [markdown]
# ## Share of new customers who bought again within N days

# %%
rates = repurchase.repeat_rates(run.orders, run.as_of, options.repeat_windows)
headline = rates.iloc[(rates["window_days"] - 90).abs().argmin()]  # the window closest to 90 days
rates_chart = charts.repeat_rate_bars(rates, words["repeat"])
rates

# %% [markdown]
# ## Days between consecutive purchases

# %%
intervals = repurchase.purchase_intervals(run.orders)
interval_stats = repurchase.interval_summary(intervals)
interval_chart = charts.interval_histogram(intervals, interval_stats["median"], words["intervals"])
interval_stats

# %% [markdown]
# ## Cohort retention: share of each month's new customers buying again k months later

# %%
cohorts = repurchase.cohort_retention(run.orders, run.month, options.cohort_months)
cohort_chart = charts.cohort_heatmap(cohorts, words["cohorts"], run.config.brand, locale=locale)
cohorts

# %%
run.save("repurchase",
         values={"intervals": interval_stats, "headline_window": headline["window_days"],
                 "headline_rate": headline["rate"]},
         tables={"repeat_rates": rates, "cohorts": cohorts},
         figures={"repeat_rates": rates_chart, "intervals": interval_chart, "cohorts": cohort_chart})
