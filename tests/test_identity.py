"""Customers without an id: normalised e-mail and Taiwanese mobile, linked where rows share them."""
import pandas as pd

from crm_report.data import identity


def test_mobiles_in_one_form_and_landlines_left_out():
    cells = pd.Series(["0912-345-678", "0912 345 678", "+886 912 345 678", "+886-0912-345678", "886912345678",
                       "912345678", "０９１２３４５６７８", "02-2345-6789", "09123456789", None], dtype="str")
    assert identity.normalise_mobiles(cells).tolist()[:7] == ["0912345678"] * 7
    assert identity.normalise_mobiles(cells).iloc[7:].isna().all()
    assert identity.normalise_phones(cells).iloc[7] == "02-2345-6789"  # kept as a contact, not as identity


def test_emails_trimmed_lower_case_and_only_addresses():
    cells = pd.Series([" Alice@Example.COM ", "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "n/a", "alice@", None], dtype="str")
    assert identity.normalise_emails(cells).tolist()[:2] == ["alice@example.com"] * 2
    assert identity.normalise_emails(cells).iloc[2:].isna().all()


def test_resolution_order_and_links():
    customer = pd.Series(["M1", None, None, None, None, None, None], dtype="str")
    email = pd.Series(["bob@x.tw", "bob@x.tw", "amy@x.tw", None, None, None, None], dtype="str")
    mobile = pd.Series([None, None, "0911111111", "0911111111", "0922222222", "0922222222", None], dtype="str")
    key, match = identity.resolve_customers(customer, email, mobile)
    assert key.iloc[:2].tolist() == ["M1", "M1"] and match.iloc[:2].tolist() == ["id", "id"]  # guest checkout
    assert key.iloc[2] == key.iloc[3] and key.iloc[2].startswith("E-")  # linked through the shared mobile
    assert key.iloc[4] == key.iloc[5] and key.iloc[4].startswith("M-")
    assert pd.isna(key.iloc[6]) and match.tolist()[2:] == ["email", "phone", "phone", "phone", "guest"]


def test_keys_are_stable_and_hide_the_address():
    a = identity.hashed_keys(pd.Series(["bob@x.tw", "amy@x.tw"], dtype="str"), "E-")
    b = identity.hashed_keys(pd.Series(["amy@x.tw", "bob@x.tw", None], dtype="str"), "E-")
    assert a.tolist() == b.iloc[[1, 0]].tolist() and pd.isna(b.iloc[2])
    assert all(len(k) == 18 and "@" not in k for k in a)
