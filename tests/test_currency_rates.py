"""Issue 11 (money): a source whose lines mix currencies loads when the client gives rates (`currency_rates`):
every money cell of a line in a listed currency is converted into the client's currency at load, rounded to
that currency's minor unit; a line in a currency without a rate still stops the run. The data-quality appendix
counts the converted lines per currency and rate; the methodology states the rates used."""
import json
import re

import pandas as pd
import pytest

from crm_report import appendix, i18n, render, results, workspace
from crm_report.config import ClientConfig, ConfigError, load_config
from crm_report.data.load import DataError, currency_conversions, load_orders
from tests.test_appendix import CONFIG_KEY
from tests.test_config import MINIMAL, write_client

RATES = {"USD": 31.5, "HKD": 4.05}
"""1 USD = NT$31.5, 1 HKD = NT$4.05."""


def config_for(folder, rates=RATES, **source) -> ClientConfig:
    return ClientConfig(client_id="acme", display_name="Acme", folder=folder, currency_rates=rates,
                        source={"path": "orders.csv", **source})


MIXED = ("order_id,customer_id,order_date,product_name,quantity,unit_price,amount,currency\n"
         "A1,c1,2026-03-01 10:00,Tea,2,500,1000,TWD\n"
         "A2,c2,2026-03-02 10:00,Tea,1,12.5,12.5,USD\n"
         "A3,c3,2026-03-03 10:00,Cup,3,33.33,99.99,HKD\n"
         "A4,c1,2026-03-04 10:00,Tea,2,10.01,20.02,usd\n"
         "A4,c1,2026-03-04 10:00,Cup,1,7,7,\n"      # an order's currency written on its first line only
         "A5,c4,2026-03-05 10:00,Tea,1,300,300,\n")  # no currency anywhere: the client's


def test_lines_in_listed_currencies_are_converted_to_the_clients(tmp_path):
    """By hand: 12.5 × 31.5 = 393.75; 99.99 × 4.05 = 404.9595 → 404.96 and 33.33 × 4.05 = 134.9865 → 134.99;
    20.02 × 31.5 = 630.63, 10.01 × 31.5 = 315.315 → 315.32 (TWD has two decimals in ISO 4217); the blank
    currency of A4's second line is its order's USD: 7 × 31.5 = 220.5."""
    (tmp_path / "orders.csv").write_text(MIXED, encoding="utf-8")
    lines = load_orders(config_for(tmp_path)).lines.set_index(["order_id", "product_name"])
    assert lines["amount"].to_dict() == {("A1", "Tea"): 1000.0, ("A2", "Tea"): 393.75, ("A3", "Cup"): 404.96,
                                         ("A4", "Tea"): 630.63, ("A4", "Cup"): 220.5, ("A5", "Tea"): 300.0}
    assert lines["unit_price"].tolist() == [500.0, 393.75, 134.99, 315.32, 220.5, 300.0]
    assert lines["quantity"].tolist() == [2, 1, 3, 2, 1, 1]  # not money: unchanged
    assert lines["converted_from"].fillna("").tolist() == ["", "USD", "HKD", "USD", "USD", ""]


def test_currency_marks_in_amount_cells_are_converted_too(tmp_path):
    """No currency column: `US$12` is 12 × 31.5 = 378; `HK$100` is 405; a bare `$` is the client's."""
    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_date,amount\n"
                                         "A1,c1,2026-03-01,US$12\nA2,c2,2026-03-02,HK$100\nA3,c3,2026-03-03,$80\n",
                                         encoding="utf-8")
    assert load_orders(config_for(tmp_path)).lines["amount"].tolist() == [378.0, 405.0, 80.0]


def test_a_line_in_a_currency_without_a_rate_stops_the_run(tmp_path):
    (tmp_path / "orders.csv").write_text(MIXED + "A6,c5,2026-03-06 10:00,Tea,1,9,9,SGD\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"orders.csv row 8, column currency: 'SGD' is in SGD, but the client's "
                                        r"currency is TWD .* and currency_rates gives no rate for SGD \(it has HKD, "
                                        r"USD\)"):
        load_orders(config_for(tmp_path))
    with pytest.raises(DataError, match=r"orders.csv row 3, column currency: 'USD' is in USD, .*mixed currencies "
                                        r"cannot be added up: give rates under currency_rates"):
        load_orders(config_for(tmp_path, rates={}))


def test_a_mark_that_names_two_currencies_cannot_be_converted(tmp_path):
    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_date,amount\nA1,c1,2026-03-01,¥1200\n",
                                         encoding="utf-8")
    with pytest.raises(DataError, match=r"row 2, column amount: '¥1200' is in JPY or CNY.*name the currency"):
        load_orders(config_for(tmp_path, rates={"JPY": 0.21, "CNY": 4.4}))


def test_a_mark_that_contradicts_the_currency_column_stops_the_run(tmp_path):
    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_date,amount,currency\n"
                                         "A1,c1,2026-03-01,HK$100,USD\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"orders.csv row 2, column amount: 'HK\$100' is in HKD, but column "
                                        r"currency says USD"):
        load_orders(config_for(tmp_path))


def test_the_rates_in_client_yaml(tmp_path):
    config = load_config("acme", write_client(tmp_path, MINIMAL + "currency_rates: {usd: 31.5, HKD: 4}\n"))
    assert config.currency_rates == {"USD": 31.5, "HKD": 4.0}
    own = load_config("acme", write_client(tmp_path, MINIMAL + "currency_rates: {TWD: 1, USD: 31.5}\n"))
    assert own.currency_rates == {"USD": 31.5}  # the client's own currency at 1 says nothing
    assert load_config("acme", write_client(tmp_path, MINIMAL)).currency_rates == {}


@pytest.mark.parametrize("rates, message", [
    ("{XYZ: 2}", r"currency_rates: .*unknown currency 'XYZ'"),
    ("{USD: 0}", r"currency_rates.USD: .*greater than 0"),
    ("{USD: -31.5}", r"currency_rates.USD: .*greater than 0"),
    ("{USD: .inf}", r"currency_rates.USD: .*finite number"),
    ("{USD: thirty}", r"currency_rates.USD: .*valid number"),
    ("{TWD: 1.1}", r"currency_rates: .*TWD is the client's own currency: leave it out"),
    ("{usd: 31.5, USD: 31.6}", r"currency_rates: .*USD is given twice"),
    ("[USD, 31.5]", r"currency_rates: .*valid dictionary"),
])
def test_bad_rates_are_refused_when_client_yaml_is_read(tmp_path, rates, message):
    with pytest.raises(ConfigError, match=message):
        load_config("acme", write_client(tmp_path, MINIMAL + f"currency_rates: {rates}\n"))


def test_the_appendices_count_the_converted_lines_and_state_the_rates(tmp_path):
    """As of March 2026 (every line): USD 3 lines (393.75 + 630.63 + 220.5 = 1,244.88), HKD 1 line (404.96)."""
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "orders.csv").write_text(MIXED, encoding="utf-8")
    (folder / "client.yaml").write_text("display_name: Acme\nsource:\n  path: orders.csv\n"
                                        "currency_rates: {USD: 31.5, HKD: 4.05, JPY: 0.21}\n", encoding="utf-8")
    config = load_config("acme", tmp_path)
    report = tmp_path / "report"
    workspace.prepare(config, pd.Period("2026-03"), report, allow_partial_month=True)
    values = json.loads((report / "build" / "results" / "data_quality.json").read_text(encoding="utf-8"))["values"]
    assert values["currency_conversions"] == [
        {"currency": "HKD", "rate": 4.05, "lines": 1, "amount": pytest.approx(404.96)},
        {"currency": "USD", "rate": 31.5, "lines": 3, "amount": pytest.approx(1244.88)}]  # JPY: no line, not used
    sections = results.load_all(report / "build")
    for locale, expected in (
            ("en", "Amounts in other currencies were converted into TWD as they were read, at the rates set for "
                   "this client: 1 line in HKD at 1 HKD = NT$4.05 (NT$405); 3 lines in USD at 1 USD = NT$31.5 "
                   "(NT$1,245)."),
            ("zh-TW", "以其他幣別記錄的金額，已在讀取時依本品牌提供的匯率換算為 TWD：HKD 1 列（1 HKD = NT$4.05，"
                      "換算後 NT$405）；USD 3 列（1 USD = NT$31.5，換算後 NT$1,245）。")):
        words = i18n.strings(locale)
        html = render.make_environment(locale).get_template("sections/data_quality.html").render(s=sections,
                                                                                                t=words)
        assert expected in re.sub(r"\s+", " ", html).replace("&#39;", "'"), locale
        method = {i["term"]: i["text"] for i in appendix.context(config.model_copy(update={"locale": locale}),
                                                                 words, values["currency_conversions"])
                  ["methodology"]}
        term = words["methodology"]["conversion_term"]
        assert "1 HKD = NT$4.05" in method[term] and "1 USD = NT$31.5" in method[term] and "JPY" not in method[term]
        assert "NT$0.01" in method[term] and not CONFIG_KEY.search(method[term])  # TWD's minor unit; no key
    assert words["methodology"]["conversion_term"] not in {
        i["term"] for i in appendix.context(config, i18n.strings("zh-TW"), [])["methodology"]}


def test_conversions_count_only_lines_up_to_the_month(tmp_path):
    (tmp_path / "orders.csv").write_text(MIXED, encoding="utf-8")
    lines = load_orders(config_for(tmp_path)).lines
    counted = currency_conversions(lines, RATES, pd.Timestamp("2026-03-02 23:59:59"))
    assert [(c.currency, c.lines, c.amount) for c in counted] == [("USD", 1, 393.75)]
    assert currency_conversions(lines.drop(columns="converted_from"), RATES) == ()


def test_check_data_says_which_lines_were_converted_at_which_rate(tmp_path, capsys):
    import run_report

    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "orders.csv").write_text(MIXED, encoding="utf-8")
    (folder / "client.yaml").write_text("display_name: Acme\nlocale: en\nsource:\n  path: orders.csv\n"
                                        "currency_rates: {USD: 31.5, HKD: 4.05}\n", encoding="utf-8")
    assert run_report.main(["--client", "acme", "--check-data", "--clients-dir", str(tmp_path)]) == 0
    assert ("Currency: TWD; lines in USD, HKD are converted at the rates in client.yaml (currency_rates): "
            "HKD 1 lines at 4.05, USD 3 lines at 31.5;") in capsys.readouterr().out


def test_a_yen_mark_is_the_clients_yen():
    """`¥` names JPY or CNY: a JPY client's `¥1200` is 1,200 yen, not a mixed currency."""
    import pathlib
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        (folder / "orders.csv").write_text("order_id,customer_id,order_date,amount\nA1,c1,2026-03-01,¥1200\n",
                                           encoding="utf-8")
        config = ClientConfig(client_id="acme", display_name="Acme", folder=folder, currency="JPY",
                              member_tiers=[{"name": "Gold", "min_spend_12m": 50000}],
                              economics={"line_message_cost": 3, "email_message_cost": 1, "sms_message_cost": 10},
                              source={"path": "orders.csv"})
        assert load_orders(config).lines["amount"].tolist() == [1200.0]
