# %% [markdown]
# # 商品、顧客價值與喚醒 Products, lifetime value and win-back
# Each product's replenishment cycle and what customers buy next, lifetime value (historic, BG/NBD + Gamma-Gamma,
# and the rule-of-thumb formulas), and the win-back programme: target groups, priority, contact date,
# product, offer, channel, a held-out control group, the exports for LINE / e-mail / SMS, and the result of
# last month's list against its control group.
# All logic lives in `crm_report.metrics`; this notebook only calls it, shows the results and saves them.

# %% tags=["parameters"]
client = "demo-supplements"
month = "2026-10"
report_dir = ""

# %%
from crm_report import charts, exports, privacy, workspace
from crm_report.metrics import campaign, captions, clv, conclusions, economics, products, rfm, winback
from crm_report.period import as_of

run = workspace.open_run(client, month, report_dir)
charts.apply_theme(run.config.brand)
options, locale, words = run.config.report, run.config.locale, run.words

# %% [markdown]
# ## Products: replenishment cycles, first products that make loyal customers, what customers buy next

# %%
cycles = products.replenishment_cycles(run.purchases, run.as_of, options.replenishment_min_buyers,
                                       options.reminder_lead_days)
consumables = cycles.loc[cycles["consumable"]]
cycle_figures = ({"cycles": charts.replenishment_ranges(consumables.head(options.top_products),
                                                        words["charts"]["replenishment"])}
                 if len(consumables) else {})  # no chart when nothing is bought again regularly
consumables.head(options.top_products)

# %%
first_buys = products.first_product_repeat(run.purchases, run.as_of, window_days=180,
                                           min_customers=options.first_product_min_customers)
baseline = products.baseline_repeat_rate(run.purchases, run.as_of, window_days=180)
first_table = products.first_product_table(first_buys, baseline["rate"])
affinity = products.next_product_affinity(run.purchases, run.as_of)
next_products = products.recommendable_pairs(affinity, options.top_products)
first_table, baseline

# %%
run.save("products",
         values={"baseline": baseline, "window_days": 180, "min_repeat_buyers": options.replenishment_min_buyers,
                 "lead_days": options.reminder_lead_days, "min_customers": options.first_product_min_customers,
                 "without_cycle": int(cycles["basis"].eq("none").sum()), "consumables": len(consumables),
                 "so_what": conclusions.products(first_table, baseline["rate"], len(consumables), 180),
                 "captions": {"cycles": captions.cycles(consumables.head(options.top_products))}},
         tables={"cycles": cycles.head(2 * options.top_products),
                 "first_products": first_table, "next_products": next_products},
         figures=cycle_figures)

# %% [markdown]
# ## Lifetime value: historic, and predicted for the next months (the purchase model that best predicted this
# ## client's own past: BG/NBD, MBG/NBD or Pareto/NBD; Gamma-Gamma for spend)

# %%
value = clv.customer_value(run.orders, run.as_of, options.clv_months, options.clv_monthly_discount,
                           model_kind=options.clv_model)
segments = run.customers["segment"]  # the one customer history: same segments as notebook 02
by_segment = clv.value_by_group(value.table, segments, order=rfm.segment_order(options.rfm_style))
seed = clv.seed_clv(run.orders, run.as_of, options.acquisition_cost)
stake = clv.value_at_stake(value.table)
alive_chart = charts.p_alive_histogram(value.table["p_alive"], words["charts"]["p_alive"])
segment_value_chart = charts.value_by_segment(
    by_segment, words["segment_names"],
    {key: text.format(months=options.clv_months) for key, text in words["charts"]["value_segments"].items()},
    locale=locale, currency=run.config.currency)
value.model_kind, value.purchases, value.spend, value.problem, value.selection

# %% [markdown]
# ## Proof that it predicts: the model fitted 6 and 12 months ago against what happened since

# %%
checks = (clv.backtests(run.orders, run.as_of, value.model_kind, groups_at=run.segments_at,
                        order=rfm.segment_order(options.rfm_style), start=value.purchases)
          if value.problem is None else None)
check_figures = ({"backtest": charts.backtest_deciles(checks["deciles"], words["charts"]["backtest"])}
                 if checks is not None and checks["horizon"] else {})
None if checks is None else checks["totals"]

# %%
by_segment

# %%
track_record = None if checks is None else clv.backtest_verdict(checks["totals"])
run.save("value",
         values={"problem": value.problem, "repeat_customers": value.repeat_customers,
                 "min_repeat_customers": clv.MIN_REPEAT_CUSTOMERS, "months": options.clv_months,
                 "monthly_discount": options.clv_monthly_discount, "model_kind": value.model_kind,
                 "model_params": None if value.purchases is None else value.purchases.params,
                 "purchases_model": value.purchases, "spend_model": value.spend, "at_stake": stake,
                 "predicted_total": value.table["clv"].sum(min_count=1),
                 "historic_total": value.table["historic_revenue"].sum(), "seed": seed,
                 "backtest_horizon": None if checks is None else checks["horizon"],
                 "track_record": track_record,
                 "model_statement": clv.model_statement(value.selection, None if checks is None else checks["totals"]),
                 "so_what": conclusions.value(track_record),
                 "captions": {"p_alive": captions.p_alive(value.table["p_alive"]),
                              "by_segment": captions.segment_value(by_segment, options.clv_months),
                              "backtest": captions.backtest(track_record,
                                                            None if checks is None else checks["totals"])}},
         tables={"by_segment": by_segment,
                 **({} if value.selection is None else {"selection": value.selection}),
                 **({} if checks is None else {"backtest": checks["totals"], "backtest_deciles": checks["deciles"],
                                               "backtest_segments": checks["groups"]})},
         figures={"p_alive": alive_chart, "by_segment": segment_value_chart, **check_figures})

# %% [markdown]
# ## Win-back: target groups (NES stages, RFM segments, P(alive), consumables running low), contact date, product

# %%
stages = run.customers.reset_index()  # NES stages and cycles from the one customer history
next_steps = products.customer_next_steps(run.purchases, run.as_of, cycles, affinity)
groups = winback.target_groups(stages, segments, value.table["p_alive"], value.table["frequency"],
                               options.rfm_style, reminders=next_steps.set_index("customer_id")["reminder_date"],
                               due_by=as_of(run.month + 1))
candidates = winback.winback_candidates(run.orders, stages, groups, next_steps, run.as_of,
                                        options.reminder_lead_days)
candidates = campaign.join_value(candidates, value.table)
candidates["group"].value_counts()

# %% [markdown]
# ## Did the past lists work? Contacted against the control group, pooled over the confirmed months

# %%
rules = run.config.winback
history = campaign.campaign_history(run.reports_dir, run.config.folder, run.config.client_id, run.month)
shown = campaign.lists_to_judge(history)
evaluation = (None if shown is None else
              campaign.evaluate_campaign(shown, run.orders, min_group=rules.min_group_for_evaluation,
                                         order=winback.GROUPS))
verdict = campaign.campaign_verdict(evaluation, history)
evaluation = campaign.evaluation_for_report(evaluation, verdict)
verdict, evaluation

# %% [markdown]
# ## This month's list: priority, offer, channel, control group, and what each group is expected to earn

# %%
held_back = campaign.contact_hygiene(candidates["customer_id"], history, run.orders, run.month, rules.max_contacts,
                                     rules.contact_window_months, rules.unanswered_limit)
contacts = run.contacts[list(winback.CONTACT_FIELDS)]
targets = campaign.build_targets(candidates.join(contacts["customer_name"], on="customer_id"), contacts,
                                 run.contacts[list(campaign.CONSENT_FIELDS)], run.config.client_id, run.month,
                                 held_back=held_back,
                                 **run.config.campaign_options())
plan = economics.campaign_plan(targets, economics.evidence(evaluation, verdict),
                               **run.config.economics.plan_options())
targets = economics.apply_plan(targets, plan)
target_summary = campaign.summarise_targets(targets, order=winback.GROUPS)
calendar = campaign.contact_calendar(targets, run.month)
group_chart = charts.winback_groups(target_summary.loc[target_summary["customers"].gt(0)],  # no empty bars
                                    words["winback_groups_short"], words["charts"]["winback"], locale=locale,
                                    currency=run.config.currency)
plan

# %%
export_files = exports.hand_over(targets, run.report_dir)  # the pipeline writes them while the PDF renders
campaign.save_targets(targets, run.report_dir / campaign.TARGETS_FILE)
best = economics.most_profitable(targets, plan, options.winback_top_n, **run.config.economics.plan_options())
top = privacy.mask_contacts(best.drop(columns=["contact", "customer_name"]).join(contacts, on="customer_id"))
top

# %%
totals = economics.plan_totals(plan)
run.save("winback",
         values={**winback.winback_headline(targets), "rules": run.config.winback,
                 "economics": run.config.economics, "plan_totals": totals,
                 "discount_label": run.config.discount_label, "so_what": conclusions.winback(totals),
                 "captions": {"groups": captions.winback_groups(target_summary, plan)},
                 "exports": export_files,
                 "channels": campaign.report_channels(targets),
                 "message_costs": run.config.economics.message_costs,
                 "evaluated_month": str(run.month - 1), "has_previous": history is not None, "verdict": verdict,
                 "pooled_months": sorted(shown["campaign_month"].unique()) if shown is not None else []},
         tables={"groups": target_summary, "plan": plan, "top": top, "calendar": calendar,
                 **({} if evaluation is None else {"evaluation": evaluation})},
         figures={"groups": group_chart})
