import math

import pytest

from crm_report import formatting as f
from crm_report import privacy


@pytest.mark.parametrize("value, locale, expected", [
    (1234567, "zh-TW", "NT$1,234,567"), (-300, "zh-TW", "−NT$300"), (None, "zh-TW", "–"),
])
def test_money(value, locale, expected):
    assert f.money(value, locale) == expected


@pytest.mark.parametrize("value, locale, expected", [
    (-12_345, "zh-TW", "−NT$12,345"), (-1_234_567, "en", "−NT$1.23M"), (250_000, "zh-TW", "NT$25 萬"),
])
def test_money_short_puts_the_sign_first(value, locale, expected):
    assert f.money_short(value, locale) == expected


@pytest.mark.parametrize("value, locale, expected", [
    (3_026_304, "zh-TW", "302.6 萬"), (54_662_000, "zh-TW", "5,466.2 萬"), (123_456_789, "zh-TW", "1.23 億"),
    (99_999, "zh-TW", "99,999"), (3_500_000, "zh-TW", "350 萬"), (3_026_304, "en", "3.03M"),
    (3_500_000, "en", "3.5M"), (85_000, "en", "85K"), (950, "en", "950"),
])
def test_compact(value, locale, expected):
    assert f.compact(value, locale) == expected


def test_numbers_round_half_up():
    assert [f.number(v) for v in (26.5, 29.5, 42.5, 47.5)] == ["27", "30", "43", "48"]
    assert f.number(1234.25, 1) == "1,234.3"


def test_percentages_and_changes():
    assert f.pct(0.1234) == "12.3%" and f.pct(math.nan) == "–"
    assert f.signed_pct(0.052) == "+5.2%" and f.signed_pct(-0.1) == "−10.0%"
    assert f.signed_points(0.021, "zh-TW") == "+2.1 個百分點" and f.signed_points(-0.021, "en") == "−2.1 pts"


def test_dates():
    assert f.month_label("2026-10", "zh-TW") == "2026 年 10 月" and f.month_label("2026-10", "en") == "Oct 2026"
    assert f.date_label("2026-11-03", "zh-TW") == "2026/11/03（二）"
    assert f.date_label("2026-11-03", "en") == "Tue 3 Nov 2026"


@pytest.mark.parametrize("name, expected", [("王小明", "王＊明"), ("李四", "李＊"), ("歐陽小明", "歐＊＊明"),
                                            ("Alice Chen", "A＊＊＊＊ C＊＊＊"), (None, "")])
def test_mask_name(name, expected):
    assert privacy.mask_name(name) == expected


def test_mask_contacts():
    assert privacy.mask_email("alice.chen@example.com") == "a＊＊＊@example.com"
    assert privacy.mask_phone("0912-345-678") == "0912-＊＊＊-678"
    assert privacy.mask_phone("+886 912 345 678") == "0912-＊＊＊-678"
    assert privacy.mask_phone("+886912345678") == "0912-＊＊＊-678"  # the E.164 form the loader writes
    assert privacy.mask_phone("+447911123456") == "+44 7911-＊＊＊-456"  # country code, 4 digits, last 3
    assert privacy.mask_phone("+85291234567") == "+852 91-＊＊＊-567"  # 8 digits: at least 3 stay hidden


@pytest.mark.parametrize("value, expected", [(0.2, "NT$0.2"), (0.05, "NT$0.05"), (12, "NT$12"), (100, "NT$100"),
                                             (1234.5, "NT$1,234.5"), (0, "NT$0"), (-0.8, "−NT$0.8")])
def test_price_keeps_the_cents_it_has(value, expected):
    assert f.price(value) == expected


@pytest.mark.parametrize("value, expected", [(180, "+180"), (-1234, "−1,234"), (0, "0"), (None, "–")])
def test_signed_count(value, expected):
    assert f.signed_count(value) == expected


@pytest.mark.parametrize("rate, locale, expected", [(0.10, "zh-TW", "9折"), (0.15, "zh-TW", "85折"),
                                                    (0.12, "zh-TW", "88折"), (0.20, "zh-TW", "8折"),
                                                    (0.10, "en", "10% off"), (0.125, "en", "12.5% off")])
def test_discount_label_reads_as_shoppers_read_it(rate, locale, expected):
    assert f.discount_label(rate, locale) == expected


@pytest.mark.parametrize("currency, locale, expected", [
    ("TWD", "zh-TW", "NT$1,235"), ("TWD", "en", "NT$1,235"), ("USD", "zh-TW", "US$1,234.56"),
    ("USD", "en", "$1,234.56"), ("HKD", "zh-TW", "HK$1,234.56"), ("JPY", "en", "¥1,235"),
    ("MYR", "en", "MYR 1,234.56"), ("EUR", "en", "€1,234.56")])
def test_money_takes_the_currencys_symbol_and_decimals_from_cldr(currency, locale, expected):
    assert f.money(1234.56, locale, currency) == expected


def test_short_money_and_prices_in_other_currencies():
    assert f.money_short(1_234_567, "zh-TW", "HKD") == "HK$123.5 萬"
    assert f.money_short(-1_234_567, "en", "USD") == "−$1.23M"
    assert f.price(0.05, "en", "SGD").endswith("0.05") and "NT$" not in f.price(0.05, "en", "SGD")


def test_a_table_prints_all_its_amounts_in_one_unit():
    """Issue 14: one money format per table. The unit is the one `compact` gives the table's largest amount;
    every amount then takes it with one decimal, so NT$35,176 beside NT$28.1 萬 reads NT$3.5 萬."""
    rows = [{"a": 281_234, "b": 35_176}, {"a": None, "b": -12_000}]
    assert f.money_unit(rows, "a", "b", locale="zh-TW") == "萬"
    assert [f.money_in(r["b"], "萬", "zh-TW") for r in rows] == ["NT$3.5 萬", "−NT$1.2 萬"]
    assert f.money_in(281_234, "萬", "zh-TW") == "NT$28.1 萬" and f.money_in(None, "萬", "zh-TW") == "–"
    assert f.money_unit([{"a": 99_999}], "a", locale="zh-TW") == ""
    assert f.money_in(35_176, "", "zh-TW") == "NT$35,176"  # whole amounts when none reaches 萬
    assert f.money_unit([{"a": 123_456_789}], "a", locale="zh-TW") == "億"
    assert f.money_in(35_176_000, "億", "zh-TW") == "NT$0.35 億"
    assert f.money_unit(rows, "a", "b", locale="en") == "K"
    assert f.money_in(35_176, "K", "en", "HKD") == "HK$35.2K"
    assert f.money_unit([{"a": 2_500_000}], "a", locale="en") == "M"
    assert f.money_in(35_176, "M", "en") == "NT$0.04M"
    assert f.money_unit([], "a", locale="en") == ""
    assert f.money_in(-120, "萬", "zh-TW") == "NT$0.0 萬"  # no negative zero


@pytest.mark.parametrize("text, values, filled", [
    ("{n} customers are slipping.", {"n": "1"}, "1 customer is slipping."),
    ("{n} customers are slipping.", {"n": "2"}, "2 customers are slipping."),
    ("{n} customers are slipping.", {"n": "1,000"}, "1,000 customers are slipping."),
    ("{notes} credit notes ({lines} lines, {amount})", {"notes": "1", "lines": "2", "amount": "NT$5"},
     "1 credit note (2 lines, NT$5)"),
    ("They cancelled {cancelled} orders, which", {"cancelled": "1"}, "They cancelled 1 order, which"),
    ("{n} new customers bought again", {"n": "1"}, "1 new customer bought again"),
    ("{n} paid lines have no amount", {"n": "1"}, "1 paid line has no amount"),
    ("within {days} days of {n} orders", {"days": "1", "n": "3"}, "within 1 day of 3 orders"),
    ("{month} ends", {"month": "1"}, "1 ends"),  # not a counted noun: left as it is
    ("{share} of customers", {"share": "1"}, "1 of customers"),  # the noun is not counted by the value
])
def test_fill_puts_a_noun_counted_by_one_in_the_singular_in_english(text, values, filled):
    assert f.fill(text, "en", **values) == filled


def test_fill_leaves_chinese_as_it_is():
    assert f.fill("{n} 位顧客", "zh-TW", n="1") == "1 位顧客"
