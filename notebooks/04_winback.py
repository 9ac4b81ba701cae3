# %% [markdown]
# # 喚醒名單 Win-back
# Customers who have gone longer than their own purchase cycle without buying: who, what they are worth,
# when and how to reach them. The full list (with real contact details) is exported to `winback.csv`;
# the report shows only the top customers, with personal data masked.

# %% tags=["parameters"]
client = "demo-supplements"
month = "2026-10"
report_dir = ""

# %%
from crm_report import charts, exports, privacy, workspace
from crm_report.metrics import repurchase, winback

run = workspace.open_run(client, month, report_dir)
charts.apply_theme(run.config.brand)
options, locale, words = run.config.report, run.config.locale, run.words

# %%
intervals = repurchase.purchase_intervals(run.orders)
candidates = winback.winback_candidates(run.orders, intervals, winback.latest_contacts(run.lines), run.as_of)
groups = winback.summarise_winback(candidates)
group_chart = charts.winback_groups(groups, words["winback_groups"], words["charts"]["winback"], locale=locale)
groups

# %%
top = privacy.mask_contacts(candidates.head(options.winback_top_n))
top

# %%
export_path = exports.write_winback_csv(candidates, run.report_dir / "winback.csv", words)
run.save("winback",
         values={"candidates": len(candidates), "revenue_at_stake": float(candidates["revenue"].sum()),
                 "client_cycle_days": float(intervals["interval_days"].median()),
                 "contact_dates": sorted(candidates["contact_date"].dt.date.unique().tolist()),
                 "export": export_path.name},
         tables={"groups": groups, "top": top},
         figures={"groups": group_chart})
