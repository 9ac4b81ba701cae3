"""Who bought: customer ids, or when a row has none, a normalised e-mail or mobile number.

Exports without a customer id (Shopify's, many guest checkouts) still name the buyer by e-mail or phone.
`resolve_customers` gives every row a customer key in this order:

1. the row's own customer id;
2. the id of another row with the same e-mail, then with the same mobile (a member who once checked out
   as a guest);
3. a key made from the e-mail (`E-` + a 64-bit hash of the normalised address), so the report and its
   results never show the address itself;
4. a key made from the mobile (`M-` + hash), or the e-mail key of another row with the same mobile and an
   e-mail (one customer who sometimes leaves the e-mail out);
5. nothing: a **guest** order. Guest orders count in revenue and order totals, not in customer metrics.

Links (2 and 4) look back, never ahead: only rows dated at or before the report's as-of instant (the end
of the report month) and with a readable date link one row to another. A guest who ordered in January by
e-mail only and registered as member M-42 in March is an e-mail-keyed customer in January's report,
whether or not the export runs to March; from March's report on the January order is M-42's. When one
e-mail or mobile belongs to several ids, the earliest-dated row's id wins (ties: file order).

Phone numbers from any country are written in E.164 (`+886912345678`, `+447911123456`) with Google's
libphonenumber rules (the `phonenumbers` package); a number without a country code is read as a number of the
client's `phone_region` (client.yaml, default TW). Landline numbers are kept as contacts but never identify a
customer (a shop's or family's shared line); where libphonenumber cannot tell a landline from a mobile (the
US and Canada, `FIXED_LINE_OR_MOBILE`) the number counts as a mobile. A Taiwanese mobile's key is made from
its national form `09XXXXXXXX` (`key_form`), so keys made before phone numbers were E.164 stay the same.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from crm_report.data.values import clean_text, extract, halfwidth
from crm_report.frames import per_distinct

_EMAIL = re.compile(r"^[^@ \t]+@[^@ \t]+\.[^@ \t.]+$")
MATCHES = ("id", "email", "phone", "guest")
"""How a row's customer was found (`customer_match`)."""


def normalise_emails(values: pd.Series) -> pd.Series:
    """Lower-case, trimmed, half-width addresses; missing where the cell is not an e-mail address."""
    return per_distinct(_normalise_emails, clean_text(values))  # distinct as text: 1 and 1.0 are two cells


def _normalise_emails(values: pd.Series) -> pd.Series:
    text = halfwidth(clean_text(values)).str.strip().str.lower()
    return text.where(text.str.match(_EMAIL.pattern, na=False))


def normalise_mobiles(values: pd.Series, region: str = "TW") -> pd.Series:
    """Mobile numbers in E.164 (`+886912345678`), missing for anything else (landlines, text, invalid numbers).

    Numbers without a country code are read as numbers of `region` (ISO 3166 code, client.yaml
    `phone_region`). Taiwanese mobiles are read by a pattern, whatever the region, when written with +886 or
    00886, and for region TW also as `0912-345-678`, `0912 345 678`, `886912345678`, `912345678` or
    `+886-0912-345678` (a trunk 0 after the country code); full-width digits are read. Every other value is
    parsed by `phonenumbers` (each distinct value once, about 0.3 ms each) and kept when it is a valid number
    of type MOBILE or FIXED_LINE_OR_MOBILE."""
    return parse_phones(values, region)["mobile"]


def normalise_phones(values: pd.Series, region: str = "TW") -> pd.Series:
    """Contact phone numbers: every valid number (mobile or landline) in E.164, the rest as written (trimmed),
    so nothing the shopper wrote is lost."""
    return parse_phones(values, region)["phone"]


def key_form(mobile: pd.Series) -> pd.Series:
    """The text a mobile's customer key is hashed from: a Taiwanese mobile's national form (`+886912345678` →
    `0912345678`, the form keys were made from before numbers were E.164, so keys stay the same), any other
    number its E.164 form."""
    return mobile.str.replace(r"^\+886(9[0-9]{8})$", r"0\1", regex=True)


_TW_MOBILE = r"^(?:8860?|0)?(?P<mobile>9[0-9]{8})$"


def parse_phones(values: pd.Series, region: str = "TW") -> pd.DataFrame:
    """Both readings at once: `phone` (`normalise_phones`) and `mobile` (`normalise_mobiles`) of each cell."""
    return per_distinct(lambda cells: _parse_phones(cells, region), clean_text(values))  # as text, as above


def _parse_phones(values: pd.Series, region: str) -> pd.DataFrame:
    written = clean_text(values)
    text = halfwidth(written).str.strip()
    digits = text.str.replace(r"[^0-9]", "", regex=True)
    international = text.str.match(r"^(?:\+|00)886", na=False)
    taiwanese = international | (region == "TW")
    tw = extract(digits.where(taiwanese), _TW_MOBILE)["mobile"]
    tw = ("+886" + tw).where(tw.ne("") & taiwanese & digits.notna())
    phone = tw.copy()
    mobile = tw.copy()
    rest = tw.isna() & text.notna() & digits.str.len().ge(5)
    if rest.any():  # everything the pattern does not settle: libphonenumber, once per distinct value
        codes, unique = pd.factorize(text[rest])
        found = [_parse_one(value, region) for value in unique]
        numbers = np.array([f[0] for f in found] + [None], dtype=object)
        mobiles = np.array([f[0] if f[1] else None for f in found] + [None], dtype=object)
        phone[rest] = numbers[codes]
        mobile[rest] = mobiles[codes]
    return pd.DataFrame({"phone": phone.astype("str").fillna(written), "mobile": mobile.astype("str")},
                        index=values.index)


def _parse_one(value: str, region: str) -> tuple[str | None, bool]:
    """(E.164 or None, whether it is a mobile) for one written number."""
    import phonenumbers  # only when a file holds numbers the Taiwanese pattern does not read

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None, False
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:  # not a valid number of its country
        return None, False
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def hashed_keys(values: pd.Series, prefix: str) -> pd.Series:
    """`prefix` + 16 hex digits of a fixed 64-bit hash of each value (stable across runs and machines)."""
    codes, unique = pd.factorize(values)  # each distinct value hashed once; -1 for missing
    hashes = pd.util.hash_array(np.asarray(unique, dtype=object))
    keys = np.array([f"{prefix}{h:016x}" for h in hashes.tolist()] + [None], dtype=object)
    return pd.Series(keys[codes], index=values.index, dtype="str")


def resolve_customers(customer_id: pd.Series, email: pd.Series, mobile: pd.Series, order_date: pd.Series, *,
                      as_of: pd.Timestamp | None = None) -> tuple[pd.Series, pd.Series]:
    """Customer keys and how each was found ('id', 'email', 'phone', 'guest'); see the module docstring.

    `customer_id` is the cleaned id (missing where blank), `email` and `mobile` the normalised values of
    `normalise_emails` and `normalise_mobiles` (E.164; a mobile key is hashed from `key_form`), `order_date`
    each row's date (NaT where unreadable).

    Only rows dated at or before `as_of` (None: every dated row) link one row to another: a report for
    month M keys its customers as they were known at the end of M, so an export that runs past M gives the
    same keys. Later rows are keyed too, through the earlier rows only; a row without a date links no one.
    When one e-mail or mobile belongs to several ids, the id of the earliest-dated row wins (ties: the
    first in file order), so the winner does not depend on how the export is sorted. Only rows without an
    id are looked up, so a file where every row has one costs nothing.
    """
    key = customer_id.astype("str")
    match = pd.Series("id", index=key.index, dtype="str").where(key.notna())
    linking = order_date.notna() if as_of is None else order_date.le(as_of)
    for contact in (email, mobile):  # 2. a member's id found through the same e-mail or mobile
        open_rows = key.isna() & contact.notna()
        if open_rows.any():
            found = _lookup(contact[open_rows], _first_by_date(contact, key, order_date, linking)).dropna()
            key[found.index] = found
            match[found.index] = "id"
    open_rows = key.isna() & email.notna()
    if open_rows.any():  # 3. e-mail keys
        by_email = hashed_keys(email[open_rows], "E-")
        key[open_rows], match[open_rows] = by_email, "email"
    open_rows = key.isna() & mobile.notna()
    if open_rows.any():  # 4. the e-mail key of the same mobile, else a mobile key
        linked = _first_by_date(mobile, key.where(match.eq("email")), order_date, linking)
        by_mobile = _lookup(mobile[open_rows], linked).fillna(hashed_keys(key_form(mobile[open_rows]), "M-"))
        key[open_rows], match[open_rows] = by_mobile, "phone"
    return key, match.fillna("guest")


def _first_by_date(contact: pd.Series, key: pd.Series, order_date: pd.Series, linking: pd.Series) -> pd.Series:
    """contact → the key of its earliest-dated row among `linking` rows with both (ties: the first row)."""
    known = pd.DataFrame({"contact": contact, "key": key, "date": order_date})[linking].dropna()
    return (known.sort_values("date", kind="stable").drop_duplicates("contact")
            .set_index("contact")["key"])


def _lookup(values: pd.Series, table: pd.Series) -> pd.Series:
    """`values.map(table)` through the distinct values (pandas' map indexes every row)."""
    codes, unique = pd.factorize(values)
    found = np.append(table.reindex(unique).to_numpy(dtype=object), np.array([None]))
    return pd.Series(found[codes], index=values.index, dtype="str")
