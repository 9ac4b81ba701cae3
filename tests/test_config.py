"""client.yaml validation: every error names the file and the key."""
from pathlib import Path

import pytest

from crm_report.config import ConfigError, list_clients, load_config
from crm_report.paths import CLIENTS_DIR

MINIMAL = "display_name: 測試品牌\nsource:\n  path: orders.csv\n"


def write_client(root: Path, text: str, client: str = "acme") -> Path:
    folder = root / client
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "client.yaml").write_text(text, encoding="utf-8")
    return root


def test_minimal_config_gets_defaults(tmp_path):
    config = load_config("acme", write_client(tmp_path, MINIMAL))
    assert (config.locale, config.timezone, config.currency) == ("zh-TW", "Asia/Taipei", "TWD")
    assert [t.name for t in config.member_tiers] == ["銀卡", "金卡"]
    assert config.folder == tmp_path / "acme"
    assert config.phone_region == "TW" and config.campaign_options()["phone_region"] == "TW"
    # the client's own tool costs the dearest channel unless priced: SMS NT$0.8
    assert config.economics.message_costs == {"line": 0.2, "email": 0.05, "sms": 0.8, "own": 0.8}


def test_phone_region_and_own_tool_price(tmp_path):
    config = load_config("acme", write_client(tmp_path, MINIMAL + "phone_region: hk\n"
                                              "economics: {own_tool_message_cost: 0.1}\n"))
    assert config.phone_region == "HK" and config.economics.message_costs["own"] == 0.1
    with pytest.raises(ConfigError, match=r"phone_region: .*unknown phone region 'XX'"):
        load_config("acme", write_client(tmp_path, MINIMAL + "phone_region: XX\n"))


HKD_TIERS = "member_tiers:\n  - {name: Silver, min_spend_12m: 500}\n"
HKD_PRICES = "economics: {line_message_cost: 0.05, email_message_cost: 0.01, sms_message_cost: 0.3}\n"


def test_any_iso_currency_with_its_own_thresholds_and_prices(tmp_path):
    config = load_config("acme", write_client(tmp_path, MINIMAL + "currency: hkd\n" + HKD_TIERS + HKD_PRICES))
    assert config.currency == "HKD" and config.member_tiers[0].min_spend_12m == 500


@pytest.mark.parametrize("extra, message", [
    ("currency: XYZ\n", r"currency: .*unknown currency 'XYZ'"),
    ("currency: USD\n" + HKD_PRICES, r"member_tiers: the default thresholds .* in TWD; .* in USD"),
    ("currency: USD\n" + HKD_TIERS, r"economics: the default message prices are in TWD; give email_message_cost, "
                                     r"line_message_cost, sms_message_cost in USD"),
])
def test_a_currency_other_than_twd_needs_its_own_amounts(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message):
        load_config("acme", write_client(tmp_path, MINIMAL + extra))


def test_demo_clients_are_valid():
    assert {"demo-supplements", "demo-skincare", "demo-apparel"} <= set(list_clients(CLIENTS_DIR))
    for client in ("demo-supplements", "demo-skincare", "demo-apparel"):
        assert load_config(client, CLIENTS_DIR).brand.logo == "logo.svg"


@pytest.mark.parametrize("text, message", [
    (MINIMAL + "locale: fr\n", r"locale: .*'zh-TW'.*'en'.*got 'fr'"),
    (MINIMAL + "colour: red\n", r"colour: unknown key"),
    (MINIMAL + "brand:\n  primary_color: blue\n", r"brand.primary_color: .*#1F4E79"),
    (MINIMAL + "timezone: Mars/Olympus\n", r"timezone: .*unknown time zone"),
    ("display_name: x\n", r"source: Field required"),
    (MINIMAL.replace("path: orders.csv", "path: orders.csv\n  columns: {customer: 會員編號}"),
     r"source.columns: .*unknown field\(s\) \['customer'\]"),
    (MINIMAL + "member_tiers:\n  - name: 金卡\n", r"member_tiers.0: .*exactly one of"),
    (MINIMAL + "  preset: shopfy\n", r"source.preset: .*'auto'.*'shopify'.*'generic-zh'.*'generic-en'.*got 'shopfy'"),
    (MINIMAL + "  format: xls\n", r"source.format: .*'csv'.*'excel'.*'parquet'.*got 'xls'"),
    (MINIMAL + "  encoding: big-five\n", r"source.encoding: .*unknown encoding 'big-five'.*'cp950'"),
    (MINIMAL + "  status_words: {待付款: unpaid}\n", r"source.status_words.待付款: .*'paid'.*'cancelled'.*'refunded'"),
    (MINIMAL + "  max_excluded_share: 1.5\n", r"source.max_excluded_share: .*less than or equal to 1"),
    (MINIMAL + "  url: sqlite:///x.db\n", r"source: .*exactly one of path .* or url"),
    ("display_name: x\nsource:\n  url: postgresql://shop:hunter2@db/shop\n  table: orders\n",
     r"source.url: .*holds a password.*source.password_env"),
    ("display_name: x\nsource:\n  url: postgresql://shop@db/shop\n", r"source: .*exactly one of query or table"),
    (MINIMAL + "  table: orders\n", r"source: .*query, table and password_env need url"),
    ("- just\n- a list\n", r"expected a mapping"),
    ("display_name: [unclosed\n", r"not valid YAML"),
])
def test_errors_name_file_and_key(tmp_path, text, message):
    root = write_client(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config("acme", root)
    assert str(root / "acme" / "client.yaml") in str(caught.value)


def test_unknown_client_lists_known_ones(tmp_path):
    root = write_client(tmp_path, MINIMAL)
    with pytest.raises(ConfigError, match=r"no client 'nope'.*known clients: acme"):
        load_config("nope", root)


def test_logo_must_exist_and_paths_stay_in_the_client_folder(tmp_path):
    root = write_client(tmp_path, MINIMAL + "brand:\n  logo: missing.svg\n")
    with pytest.raises(ConfigError, match="brand.logo: file 'missing.svg' not found"):
        load_config("acme", root)
    config = load_config("acme", write_client(tmp_path, MINIMAL))
    with pytest.raises(ConfigError, match="leaves the client's folder"):
        config.resolve("../other-client/data/orders.parquet")


def test_a_password_in_the_url_is_refused_without_being_repeated(tmp_path):
    root = write_client(tmp_path, "display_name: x\nsource:\n  url: postgresql://shop:hunter2@db/shop\n"
                                  "  table: orders\n")
    with pytest.raises(ConfigError) as caught:
        load_config("acme", root)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("windows", ["[]", "[30, -5]", "[30, 30]", "[99999]"])
def test_repeat_windows_that_make_no_sense_are_refused_at_load(tmp_path, windows):
    """Issue 12, finding 7: `repeat_windows: []` or negative windows were accepted and crashed the report."""
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "client.yaml").write_text(f"display_name: Acme\nsource: {{path: orders.csv}}\n"
                                        f"report: {{repeat_windows: {windows}}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="repeat_windows"):
        load_config("acme", tmp_path)


def test_a_month_that_has_not_begun_is_refused(tmp_path, capsys):
    import run_report
    assert run_report.main(["--client", "demo-supplements", "--month", "2099-01", "--clients-dir", str(tmp_path),
                            "--reports-dir", str(tmp_path / "r")]) == 2
    assert "has not begun" in capsys.readouterr().err


def test_list_exits_non_zero_when_any_config_is_invalid(tmp_path, capsys):
    """Issue 12, finding 12: `--list` printed INVALID and still exited 0."""
    import shutil

    import run_report
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir(), bad.mkdir()
    for name in ("client.yaml", "logo.svg"):
        shutil.copy(CLIENTS_DIR / "demo-apparel" / name, good / name)
    (bad / "client.yaml").write_text('display_name: ""\nsource: {path: x.csv}\n', encoding="utf-8")
    assert run_report.main(["--list", "--clients-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and "display_name" in out and "Formosa Threads" in out
    shutil.rmtree(bad)
    assert run_report.main(["--list", "--clients-dir", str(tmp_path)]) == 0


def test_client_events_are_read_and_a_missing_end_is_the_start(tmp_path):
    """Issue 10: the client's own sales events, shown with the retail calendar's (metrics.events)."""
    import datetime as dt

    root = write_client(tmp_path, MINIMAL + "events:\n  - {name: 週年慶, start: 2026-10-20, end: 2026-11-02}\n"
                                            "  - {name: ' 品牌日 ', start: '2026-05-05'}\n")
    events = load_config("acme", root).events
    assert [(e.name, e.start, e.end) for e in events] == [
        ("週年慶", dt.date(2026, 10, 20), dt.date(2026, 11, 2)), ("品牌日", dt.date(2026, 5, 5), dt.date(2026, 5, 5))]
    assert load_config("acme", write_client(tmp_path, MINIMAL)).events == ()


@pytest.mark.parametrize("event, message", [
    ("{name: '  ', start: 2026-10-20}", r"events.0.name: .*is empty"),
    ("{name: " + "長" * 41 + ", start: 2026-10-20}", r"events.0.name: .*at most 40 characters"),
    ("{name: 週年慶, start: 2026-10-20, end: 2026-10-01}", r"events.0: .*end 2026-10-01 is before start 2026-10-20"),
    ("{name: 週年慶, start: 20261020}", r"events.0.start: .*a date like 2026-10-05, got 20261020$"),
    ("{name: 週年慶, start: 2026-13-01}",
     r"events.0.start: '2026-13-01' on line 5 is not a date \(month must be in 1..12\)"),
    ("{name: 週年慶, start: 2026-02-01, end: 2026-02-30}", r"events.0.end: '2026-02-30' on line 5 is not a date"),
    ("{name: 週年慶}", r"events.0.start: Field required$"),
    ("{name: 週年慶, start: 2026-10-20, until: 2026-10-25}", r"events.0.until: unknown key"),
])
def test_client_event_errors_name_the_key(tmp_path, event, message):
    root = write_client(tmp_path, MINIMAL + f"events:\n  - {event}\n")
    with pytest.raises(ConfigError, match=message) as caught:
        load_config("acme", root)
    assert str(root / "acme" / "client.yaml") in str(caught.value)
