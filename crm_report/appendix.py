"""The methodology appendix's figures from this client's own settings.

The appendix states the thresholds the report actually used (a client who holds back 20% as a control group
reads 20%, not the default 10%), in the reader's words: no configuration keys, file names or internal
references reach the client. Each locale's `methodology.terms` texts name these values as `{placeholders}`;
`settings` gives them, formatted for the report's locale and currency.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crm_report import formatting
from crm_report.config import ClientConfig


def settings(config: ClientConfig, words: Mapping[str, Any]) -> dict[str, str]:
    """Every client setting the methodology names, formatted as the report prints it.

    Counts as integers ('30'), shares as percentages ('10%', '12.5%'), prices in the client's currency
    ('NT$0.2'), the discount as shoppers read it ('9折', '10% off'), the acquisition cost as a phrase that says
    whether the client set one. `words` is the locale's `methodology` strings."""
    locale, currency = config.locale, config.currency
    r, w, e = config.report, config.winback, config.economics
    cost = r.acquisition_cost

    def share(v: float) -> str:
        return formatting.pct(v, 0) if round(v * 100, 6).is_integer() else formatting.pct(v)

    return {
        "replenishment_min_buyers": formatting.number(r.replenishment_min_buyers),
        "reminder_lead_days": formatting.number(r.reminder_lead_days),
        "first_product_min_customers": formatting.number(r.first_product_min_customers),
        "clv_months": formatting.number(r.clv_months),
        "clv_monthly_discount": share(r.clv_monthly_discount),
        "acquisition_cost": words["no_acquisition_cost"] if cost is None else words["acquisition_cost"].format(
            cost=formatting.money(cost, locale, currency)),
        "control_share": share(w.control_share),
        "control_min_group": formatting.number(w.control_min_group),
        "min_group_for_evaluation": formatting.number(w.min_group_for_evaluation),
        "no_offer_min_p_alive": share(w.no_offer_min_p_alive),
        "no_offer_max_cycle_ratio": formatting.number(w.no_offer_max_cycle_ratio, 1),
        "discount_top_share": share(w.discount_top_share),
        "discount_label": config.discount_label,
        "max_contacts": formatting.number(w.max_contacts),
        "contact_window_months": formatting.number(w.contact_window_months),
        "unanswered_limit": formatting.number(w.unanswered_limit),
        "gross_margin": share(e.gross_margin),
        "line_message_cost": formatting.price(e.line_message_cost, locale, currency),
        "email_message_cost": formatting.price(e.email_message_cost, locale, currency),
        "sms_message_cost": formatting.price(e.sms_message_cost, locale, currency),
        "discount_rate": share(e.discount_rate),
        "prior_uplift_none": share(e.prior_uplift_none),
        "prior_uplift_reminder": share(e.prior_uplift_reminder),
        "prior_uplift_discount": share(e.prior_uplift_discount),
    }


def context(config: ClientConfig, words: Mapping[str, Any],
            conversions: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """What the appendix templates show for this client (`words`: the locale's strings): the glossary and the
    methodology's terms with their `{placeholders}` filled by `settings`, and the client's own events.

    A methodology term written for one RFM style (`rfm_style: klaviyo`) is left out for a client of the
    other, so the client reads the rules the report used and no others. `conversions` (the data-quality
    values' `currency_conversions`: `load.Conversion`s) adds a term stating the exchange rates the report's
    lines were converted at, when any were."""
    values = settings(config, words["methodology"])
    style = config.report.rfm_style

    def filled(terms: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{"term": term["term"], "text": formatting.fill(term["text"], config.locale, **values)}
                for term in terms if term.get("rfm_style", style) == style]

    methodology = filled(words["methodology"]["terms"])
    if conversions:
        methodology.append(conversion_term(config, words, conversions))
    return {"glossary": filled(words["glossary"]["terms"]), "methodology": methodology,
            "own_events": [event.name for event in config.events]}


def conversion_term(config: ClientConfig, words: Mapping[str, Any],
                    conversions: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The methodology term on currency conversion: the rates used, as '1 USD = NT$31.5', and the unit
    converted amounts are rounded to (`load.CONVERSION`)."""
    w, locale, currency = words["methodology"], config.locale, config.currency
    rates = words["report"]["list_sep"].join(
        w["conversion_rate"].format(code=c["currency"], rate=formatting.price(c["rate"], locale, currency, 6))
        for c in conversions)
    unit = formatting.price(10.0 ** -formatting.minor_digits(currency), locale, currency)
    return {"term": w["conversion_term"], "text": w["conversion_text"].format(currency=currency, rates=rates,
                                                                              unit=unit)}
