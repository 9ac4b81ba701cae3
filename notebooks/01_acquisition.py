# %% [markdown]
# # 新客與回購客 Acquisition
# New versus returning customers each month, the report month's KPI tiles, and what new customers buy first.
# All logic lives in `crm_report.metrics.acquisition`; this notebook only calls it, shows and saves.

# %% tags=["parameters"]
client = "demo-supplements"
month = "2026-10"
report_dir = ""

# %%
from crm_report import charts, workspace
from crm_report.metrics import acquisition

run = workspace.open_run(client, month, report_dir)
charts.apply_theme(run.config.brand)
options, locale, words = run.config.report, run.config.locale, run.words["charts"]

# %% [markdown]
# ## KPI tiles: the month against the previous month and the same month last year

# %%
monthly = acquisition.monthly_new_vs_returning(run.orders, run.month, n_months=options.trend_months)
kpis = acquisition.month_kpis(monthly, run.month)
kpis

# %% [markdown]
# ## New and returning customers and revenue, month by month

# %%
customers_chart = charts.new_vs_returning(monthly, words["acquisition"], "customers", locale=locale)

# %%
revenue_chart = charts.new_vs_returning(monthly, words["acquisition"], "revenue", locale=locale)

# %% [markdown]
# ## What new customers buy first (first orders of the last 12 months)

# %%
first_products = acquisition.first_order_products(run.lines, run.orders, run.month, window_months=12,
                                                  top=options.top_products)
first_products

# %%
run.save("acquisition",
         values={row.kpi: row.value for row in kpis.itertuples()},
         tables={"kpis": kpis, "monthly": monthly, "first_products": first_products},
         figures={"customers": customers_chart, "revenue": revenue_chart})
