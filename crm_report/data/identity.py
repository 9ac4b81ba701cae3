"""Who bought: customer ids, or when a row has none, a normalised e-mail or Taiwanese mobile number.

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

Landline numbers are kept as contacts but never identify a customer (a shop's or family's shared line).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from crm_report.data.values import clean_text, extract, halfwidth

_EMAIL = re.compile(r"^[^@ \t]+@[^@ \t]+\.[^@ \t.]+$")
MATCHES = ("id", "email", "phone", "guest")
"""How a row's customer was found (`customer_match`)."""


def normalise_emails(values: pd.Series) -> pd.Series:
    """Lower-case, trimmed, half-width addresses; missing where the cell is not an e-mail address."""
    text = halfwidth(clean_text(values)).str.strip().str.lower()
    return text.where(text.str.match(_EMAIL.pattern, na=False))


def normalise_mobiles(values: pd.Series) -> pd.Series:
    """Taiwanese mobiles in one form, `0912345678`: from `0912-345-678`, `0912 345 678`, `+886 912 345 678`,
    `+886-0912-345678`, `886912345678` or `912345678`. Missing for anything else (landlines, foreign)."""
    digits = halfwidth(clean_text(values)).str.replace(r"[^0-9]", "", regex=True)
    core = extract(digits, r"^(?:8860?|0)?(?P<mobile>9[0-9]{8})$")["mobile"]
    return ("0" + core).where(core.ne("") & digits.notna())


def normalise_phones(values: pd.Series) -> pd.Series:
    """Contact phone numbers: mobiles in the one form of `normalise_mobiles`, others as written (trimmed)."""
    return normalise_mobiles(values).fillna(clean_text(values))


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
    `normalise_emails` and `normalise_mobiles`, `order_date` each row's date (NaT where unreadable).

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
        by_mobile = _lookup(mobile[open_rows], linked).fillna(hashed_keys(mobile[open_rows], "M-"))
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
    found = np.append(table.reindex(unique).to_numpy(dtype=object), None)
    return pd.Series(found[codes], index=values.index, dtype="str")
