# %% [markdown]
# # 新客、回購、喚醒與顧客價值 Acquisition, repurchase, win-back and lifetime value
# New versus returning customers (the month's KPI tiles and the 24-month trend), what new customers buy
# first, how many buy again and how soon, cohort retention, and the win-back list: customers past their own
# purchase cycle, what they are worth, when and how to reach them. The full win-back list (real contact
# details) is exported to `winback.csv`; the report shows only the top customers, masked. Last, lifetime
# value: historic, and predicted with BG/NBD (purchases, P(alive)) and Gamma-Gamma (spend), by RFM segment.
# All logic lives in `crm_report.metrics`; this notebook only calls it, shows the results and saves them.

# %% tags=["parameters"]
client = "demo-supplements"
month = "2026-10"
report_dir = ""

# %%
from crm_report import charts, exports, privacy, workspace
from crm_report.metrics import acquisition, clv, repurchase, rfm, winback

run = workspace.open_run(client, month, report_dir)
charts.apply_theme(run.config.brand)
options, locale, words = run.config.report, run.config.locale, run.words

# %% [markdown]
# ## KPI tiles: the month against the previous month and the same month last year

# %%
monthly = acquisition.monthly_new_vs_returning(run.orders, run.month, n_months=options.trend_months)
kpis = acquisition.month_kpis(monthly, run.month)
kpis

# %% [markdown]
# ## New and returning customers and revenue, month by month

# %%
customers_chart = charts.new_vs_returning(monthly, words["charts"]["acquisition"], "customers", locale=locale)

# %%
revenue_chart = charts.new_vs_returning(monthly, words["charts"]["acquisition"], "revenue", locale=locale)

# %% [markdown]
# ## What new customers buy first (first orders of the last 12 months)

# %%
first_products = acquisition.first_order_products(run.lines, run.orders, run.month, window_months=12,
                                                  top=options.top_products)
first_products

# %%
run.save("acquisition",
         values=acquisition.kpi_values(kpis),
         tables={"kpis": kpis, "monthly": monthly, "first_products": first_products},
         figures={"customers": customers_chart, "revenue": revenue_chart})

# %% [markdown]
# ## Share of new customers who bought again within N days

# %%
rates = repurchase.repeat_rates(run.orders, run.as_of, options.repeat_windows)
headline = rates.iloc[(rates["window_days"] - 90).abs().argmin()]  # the window closest to 90 days
rates_chart = charts.repeat_rate_bars(rates, words["charts"]["repeat"])
rates

# %% [markdown]
# ## Days between consecutive purchases

# %%
intervals = repurchase.purchase_intervals(run.orders)
interval_stats = repurchase.interval_summary(intervals)
interval_chart = charts.interval_histogram(intervals, interval_stats["median"], words["charts"]["intervals"])
by_order_number = repurchase.intervals_by_order_number(run.orders)
interval_stats, by_order_number

# %% [markdown]
# ## Second-purchase curve: the latest cohorts against the same months a year ago

# %%
comparison = repurchase.comparison_cohorts(run.month, n_months=6)
curves = {key: repurchase.second_purchase_curve(run.orders, run.as_of, months)
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
cohort_value_chart = charts.cohort_value_curves(cohort_value, words["charts"]["cohort_value"], locale=locale)
cohort_value

# %%
run.save("repurchase",
         values={"intervals": interval_stats, "headline_window": int(headline["window_days"]),
                 "headline_rate": headline["rate"],
                 "comparison": {key: [str(months[0]), str(months[-1])] for key, months in comparison.items()}},
         tables={"repeat_rates": rates, "cohorts": cohorts, "cohort_value": cohort_value,
                 "by_order_number": by_order_number, "second_purchase_marks": marks},
         figures={"repeat_rates": rates_chart, "intervals": interval_chart, "cohorts": cohort_chart,
                  "cohort_value": cohort_value_chart, "second_purchase": curve_chart})

# %% [markdown]
# ## Win-back: who is past their purchase cycle

# %%
candidates = winback.winback_candidates(run.orders, intervals, winback.latest_contacts(run.lines), run.as_of)
groups = winback.summarise_winback(candidates)
group_chart = charts.winback_groups(groups, words["winback_groups_short"], words["charts"]["winback"],
                                    locale=locale)
groups

# %%
top = privacy.mask_contacts(candidates.head(options.winback_top_n))
top

# %%
export_path = exports.write_winback_csv(candidates, run.report_dir / "winback.csv", words)
run.save("winback",
         values={**winback.winback_headline(candidates), "export": export_path.name,
                 "client_cycle_days": interval_stats["median"]},
         tables={"groups": groups, "top": top},
         figures={"groups": group_chart})

# %% [markdown]
# ## Lifetime value: historic, and predicted for the next months (BG/NBD + Gamma-Gamma)

# %%
value = clv.customer_value(run.orders, run.as_of, options.clv_months, options.clv_monthly_discount)
segments = rfm.segment_customers(run.orders, run.as_of, options.rfm_style).set_index("customer_id")["segment"]
by_segment = clv.value_by_group(value.table, segments, order=rfm.segment_order(options.rfm_style))
seed = clv.seed_clv(run.orders, run.as_of, options.acquisition_cost)
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
                 "historic_total": value.table["historic_revenue"].sum(), "seed": seed},
         tables={"by_segment": by_segment},
         figures={"p_alive": alive_chart})
