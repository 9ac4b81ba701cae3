"""Issue 14: the appendix is written for the client — a glossary, and a methodology that states this client's
own settings (not the defaults), with no configuration keys, file names or internal references."""
import re
from pathlib import Path

import pytest

from crm_report import appendix, i18n
from crm_report.config import ClientConfig

CONFIG_KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
"""A configuration key as client.yaml writes it (control_share, no_offer_min_p_alive)."""


def client(**settings) -> ClientConfig:
    return ClientConfig(client_id="acme", display_name="Acme", folder=Path("."), source={"path": "o.csv"},
                        **settings)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_placeholder_is_filled_and_no_key_or_file_reaches_the_client(locale):
    for style in ("shopify", "klaviyo"):
        shown = appendix.context(client(locale=locale, report={"rfm_style": style}), i18n.strings(locale))
        for item in shown["glossary"] + shown["methodology"]:
            text = item["term"] + " " + item["text"]
            assert "{" not in text and "}" not in text, text
            assert not CONFIG_KEY.search(text), (CONFIG_KEY.search(text), text)
            for word in ("client.yaml", "種子文章", "seed 0", ".csv", ".parquet", ".xlsx", "exports/", "sent/"):
                assert word not in text, (word, text)


def test_the_methodology_states_the_clients_own_settings_not_the_defaults():
    words = i18n.strings("zh-TW")
    default = {i["term"]: i["text"] for i in appendix.context(client(), words)["methodology"]}
    own = {i["term"]: i["text"] for i in appendix.context(client(
        winback={"control_share": 0.2, "control_min_group": 25, "max_contacts": 4, "no_offer_min_p_alive": 0.8,
                 "discount_top_share": 0.125},
        report={"replenishment_min_buyers": 50, "reminder_lead_days": 5, "acquisition_cost": 450},
        economics={"discount_rate": 0.15, "gross_margin": 0.6, "sms_message_cost": 1.2}), words)["methodology"]}
    assert "隨機保留 10% 有聯絡管道的顧客" in default["對照組"] and "不足 10 人的客群" in default["對照組"]
    assert "隨機保留 20% 有聯絡管道的顧客" in own["對照組"] and "不足 25 人的客群" in own["對照組"]
    assert "已收到 4 次以上訊息" in own["聯絡頻率與未回應"]
    assert "存活機率 ≥ 80%" in own["優惠克制"] and "前 12.5% 者才提供折扣（85折）" in own["優惠克制"]
    assert "前 20% 者才提供折扣（9折）" in default["優惠克制"]
    assert "回購顧客少於 50 人的商品" in own["補貨週期"] and "− 5) 天" in own["消耗品與提醒日"]
    assert "獲客成本（本品牌設定為 NT$450）" in own["簡易公式顧客終身價值"]
    assert "獲客成本（本品牌未設定，因此不扣除）" in default["簡易公式顧客終身價值"]
    assert "簡訊 NT$1.2" in own["預期效益與是否聯絡"] and "毛利率（60%）" in own["預期效益與是否聯絡"]


def test_english_amounts_and_offers_follow_the_clients_currency_and_language():
    shown = appendix.context(client(locale="en", currency="HKD", report={"acquisition_cost": 80},
                                    member_tiers=[{"name": "Gold", "min_spend_12m": 2500}],
                                    economics={"line_message_cost": 0.05, "email_message_cost": 0.01,
                                               "sms_message_cost": 0.3}),
                             i18n.strings("en", "HKD"))
    text = {i["term"]: i["text"] for i in shown["methodology"]}
    assert "top 20% of this month's list get the discount (10% off)" in text["Offer rule"]
    assert "(set at HK$80.00 for this client)" in text["Rule-of-thumb lifetime value"]
    assert "SMS HK$0.3" in text["Expected value of contacting, and whether to contact"]
    assert "NT$" not in " ".join(text.values())


def test_only_the_rfm_rules_the_report_used_are_described():
    def terms(style):
        return [i["term"] for i in appendix.context(client(report={"rfm_style": style}),
                                                     i18n.strings("zh-TW"))["methodology"]]
    assert "RFM 客群" in terms("shopify") and "RFM 客群（Klaviyo 式）" not in terms("shopify")
    assert "RFM 客群（Klaviyo 式）" in terms("klaviyo") and "RFM 客群" not in terms("klaviyo")
    assert "RFM 分數" not in terms("klaviyo")


def test_the_glossary_explains_the_terms_the_report_uses_in_both_languages():
    zh = [i["term"] for i in appendix.context(client(), i18n.strings("zh-TW"))["glossary"]]
    en = [i["term"] for i in appendix.context(client(locale="en"), i18n.strings("en"))["glossary"]]
    assert len(zh) == len(en) >= 10
    for term in ("RFM", "NES 顧客狀態", "存活機率", "新客群（Cohort）", "信賴區間", "提升度（Lift）", "對照組"):
        assert term in zh
    for term in ("RFM", "Cohort", "Confidence interval", "Lift", "Control group", "Probability of being active, P(active)"):
        assert term in en


def test_the_clients_own_events_are_named():
    config = client(events=[{"name": "週年慶", "start": "2026-10-01", "end": "2026-10-07"}])
    assert appendix.context(config, i18n.strings("zh-TW"))["own_events"] == ["週年慶"]


def test_english_settings_of_one_read_in_the_singular():
    """A client who rests customers after one message in one month reads "1 or more messages in the last 1 month",
    not "1 months": the methodology is filled as every other English sentence is (`formatting.fill`)."""
    shown = appendix.context(client(locale="en", winback={"max_contacts": 1, "contact_window_months": 1,
                                                           "unanswered_limit": 2}), i18n.strings("en"))
    text = {i["term"]: i["text"] for i in shown["methodology"]}
    rest = next(t for t in text.values() if "rest this month" in t)
    assert "in the last 1 month rest this month" in rest and "1 months" not in rest
