"""Customers without an id: normalised e-mail and mobile (any country, E.164), linked where rows share them."""
import pandas as pd
import pytest

from crm_report import workspace
from crm_report.config import ClientConfig
from crm_report.data import identity


def test_mobiles_in_one_form_and_landlines_left_out():
    cells = pd.Series(["0912-345-678", "0912 345 678", "+886 912 345 678", "+886-0912-345678", "886912345678",
                       "912345678", "０９１２３４５６７８", "886-912-345-678", "02-2345-6789", "09123456789", None],
                      dtype="str")
    assert identity.normalise_mobiles(cells).tolist()[:8] == ["+886912345678"] * 8
    assert identity.normalise_mobiles(cells).iloc[8:].isna().all()
    phones = identity.normalise_phones(cells)
    assert phones.iloc[8] == "+886223456789"  # a landline: kept as a contact (E.164), never as identity
    assert phones.iloc[9] == "09123456789"  # not a number of any plan: kept as written


@pytest.mark.parametrize("raw, region, mobile", [
    ("+44 7911 123456", "TW", "+447911123456"),  # a country code wins over the client's region
    ("07911 123456", "GB", "+447911123456"),
    ("07911 123456", "TW", None),  # read as a Taiwanese number it is none
    ("9123 4567", "HK", "+85291234567"),
    ("+852 9123 4567", "TW", "+85291234567"),
    ("012-345 6789", "MY", "+60123456789"),
    ("(212) 555-0123", "US", "+12125550123"),  # FIXED_LINE_OR_MOBILE in the US plan: counts as a mobile
    ("+886 912 345 678", "GB", "+886912345678"),  # Taiwanese by its country code, whatever the region
    ("912345678", "GB", None),  # ...but not without it
    ("020 7946 0018", "GB", None),  # a London landline
    ("call me", "TW", None),
])
def test_mobiles_of_any_country_in_e164(raw, region, mobile):
    result = identity.normalise_mobiles(pd.Series([raw], dtype="str"), region).iloc[0]
    assert (None if pd.isna(result) else result) == mobile


def test_taiwanese_mobiles_keep_the_keys_they_had_before_e164():
    """Keys pinned from before numbers were E.164 (M- + the hash of 0912345678 / 0922222222): a client's
    customers without an id keep their keys, so their history and past target lists still match."""
    mobile = identity.normalise_mobiles(pd.Series(["0912-345-678", "+886922222222", "+44 7911 123456"], dtype="str"))
    key, match = identity.resolve_customers(pd.Series([None] * 3, dtype="str"), pd.Series([None] * 3, dtype="str"),
                                            mobile, pd.Series(pd.Timestamp("2025-01-10"), index=mobile.index))
    assert key.tolist()[:2] == ["M-fb88c729c3e0dafd", "M-be7664ae56359b78"]
    assert key.iloc[2] == identity.hashed_keys(pd.Series(["+447911123456"]), "M-").iloc[0]
    assert match.tolist() == ["phone"] * 3


def test_emails_trimmed_lower_case_and_only_addresses():
    cells = pd.Series([" Alice@Example.COM ", "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "n/a", "alice@", None], dtype="str")
    assert identity.normalise_emails(cells).tolist()[:2] == ["alice@example.com"] * 2
    assert identity.normalise_emails(cells).iloc[2:].isna().all()


def test_resolution_order_and_links():
    customer = pd.Series(["M1", None, None, None, None, None, None], dtype="str")
    email = pd.Series(["bob@x.tw", "bob@x.tw", "amy@x.tw", None, None, None, None], dtype="str")
    mobile = pd.Series([None, None, "0911111111", "0911111111", "0922222222", "0922222222", None], dtype="str")
    dates = pd.Series(pd.Timestamp("2025-01-10"), index=customer.index)
    key, match = identity.resolve_customers(customer, email, mobile, dates)
    assert key.iloc[:2].tolist() == ["M1", "M1"] and match.iloc[:2].tolist() == ["id", "id"]  # guest checkout
    assert key.iloc[2] == key.iloc[3] and key.iloc[2].startswith("E-")  # linked through the shared mobile
    assert key.iloc[4] == key.iloc[5] and key.iloc[4].startswith("M-")
    assert pd.isna(key.iloc[6]) and match.tolist()[2:] == ["email", "phone", "phone", "phone", "guest"]


def test_keys_are_stable_and_hide_the_address():
    a = identity.hashed_keys(pd.Series(["bob@x.tw", "amy@x.tw"], dtype="str"), "E-")
    b = identity.hashed_keys(pd.Series(["amy@x.tw", "bob@x.tw", None], dtype="str"), "E-")
    assert a.tolist() == b.iloc[[1, 0]].tolist() and pd.isna(b.iloc[2])
    assert all(len(k) == 18 and "@" not in k for k in a)


JANUARY_END = pd.Period("2025-01", freq="M").end_time


def test_links_only_through_rows_up_to_the_cutoff():
    # A guest orders in January by e-mail, then by mobile; in March both contacts show up on member M-42's
    # order, and a row with an unreadable date links the mobile to M-7.
    customer = pd.Series([None, None, "M-42", "M-7"], dtype="str")
    email = pd.Series(["amy@x.tw", None, "amy@x.tw", None], dtype="str")
    mobile = pd.Series([None, "0911111111", "0911111111", "0911111111"], dtype="str")
    dates = pd.Series(pd.to_datetime(["2025-01-10", "2025-01-20", "2025-03-05", None]))
    key, match = identity.resolve_customers(customer, email, mobile, dates, as_of=JANUARY_END)
    assert key.iloc[0] == identity.hashed_keys(email.iloc[[0]], "E-").iloc[0] and match.iloc[0] == "email"
    assert key.iloc[1] == identity.hashed_keys(mobile.iloc[[1]], "M-").iloc[0] and match.iloc[1] == "phone"
    assert key.iloc[2:].tolist() == ["M-42", "M-7"]
    everything, _ = identity.resolve_customers(customer, email, mobile, dates)  # as_of=None: all dated rows
    assert everything.tolist() == ["M-42", "M-42", "M-42", "M-7"]


def test_mobile_links_to_an_email_key_only_through_rows_up_to_the_cutoff():
    customer = pd.Series([None, None], dtype="str")
    email = pd.Series([None, "amy@x.tw"], dtype="str")
    mobile = pd.Series(["0911111111", "0911111111"], dtype="str")
    dates = pd.Series(pd.to_datetime(["2025-01-10", "2025-03-05"]))
    key, _ = identity.resolve_customers(customer, email, mobile, dates, as_of=JANUARY_END)
    assert key.iloc[0].startswith("M-") and key.iloc[1].startswith("E-")
    linked, _ = identity.resolve_customers(customer, email, mobile, dates)
    assert linked.iloc[0] == linked.iloc[1]


def test_the_earliest_dated_row_wins_a_shared_contact_whatever_the_file_order():
    # amy@x.tw is on M-2's order (February, first in the file) and M-1's (January); ties go to file order.
    customer = pd.Series(["M-2", "M-1", None, "M-3", "M-4", None], dtype="str")
    email = pd.Series(["amy@x.tw", "amy@x.tw", "amy@x.tw", "bob@x.tw", "bob@x.tw", "bob@x.tw"], dtype="str")
    mobile = pd.Series([None] * 6, dtype="str")
    dates = pd.Series(pd.to_datetime(["2025-02-01", "2025-01-05", "2025-03-01",
                                      "2025-01-07", "2025-01-07", "2025-03-01"]))
    key, _ = identity.resolve_customers(customer, email, mobile, dates)
    assert key.iloc[[2, 5]].tolist() == ["M-1", "M-3"]
    reordered, _ = identity.resolve_customers(customer[::-1].reset_index(drop=True), email[::-1].reset_index(drop=True),
                                              mobile, dates[::-1].reset_index(drop=True))
    assert reordered.iloc[3] == "M-1"  # the guest row, now fourth: still the earliest-dated id


def test_a_january_report_keys_customers_the_same_with_or_without_march_in_the_export(tmp_path):
    january = ("order_id,customer_id,email,phone,order_date,amount\n"
               "A1,,amy@x.tw,,2025-01-10,100\n"
               "A2,,,0922-222-222,2025-01-12,80\n"
               "A3,M-7,bob@x.tw,,2025-01-15,50\n")
    march = ("A4,M-42,amy@x.tw,0922222222,2025-03-05,120\n"
             "A5,,bob@x.tw,,2025-03-06,60\n")
    keys = {}
    for name, text in (("january", january), ("march", january + march)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "orders.csv").write_text(text, encoding="utf-8")
        config = ClientConfig(client_id="acme", display_name="Acme", folder=folder, source={"path": "orders.csv"})
        workspace.prepare(config, pd.Period("2025-01", freq="M"), folder / "report")
        keys[name] = pd.read_parquet(folder / "report" / "build" / "lines.parquet")[["order_id", "customer_id"]]
    pd.testing.assert_frame_equal(keys["march"], keys["january"])
    assert keys["january"]["customer_id"].str[:2].tolist() == ["E-", "M-", "M-"]


def test_a_british_clients_phone_numbers_are_read_in_its_region_and_link_its_guests(tmp_path):
    """phone_region GB: 07911 123456 and +44 7911 123456 are one mobile, so the two guest orders are one
    customer keyed by it; the London landline is kept as a contact in E.164 but keys no one (a guest order)."""
    (tmp_path / "orders.csv").write_text(
        "order_id,phone,order_date,amount\n"
        "A1,07911 123456,2025-01-10,100\n"
        "A2,+44 7911 123456,2025-01-12,80\n"
        "A3,020 7946 0018,2025-01-15,50\n", encoding="utf-8")
    config = ClientConfig(client_id="acme", display_name="Acme", folder=tmp_path, source={"path": "orders.csv"},
                          phone_region="gb")
    assert config.phone_region == "GB"
    workspace.prepare(config, pd.Period("2025-01", freq="M"), tmp_path / "report")
    lines = pd.read_parquet(tmp_path / "report" / "build" / "lines.parquet")
    assert lines["customer_id"].iloc[0] == lines["customer_id"].iloc[1]
    assert lines["customer_id"].iloc[0] == identity.hashed_keys(pd.Series(["+447911123456"]), "M-").iloc[0]
    assert lines["customer_match"].astype("str").tolist() == ["phone", "phone", "guest"]
    contacts = pd.read_parquet(tmp_path / "report" / "build" / workspace.PRIVATE_DIR / "contacts.parquet")
    assert contacts["phone"].tolist() == ["+447911123456"]  # the one customer; the landline's order is a guest's
