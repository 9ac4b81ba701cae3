"""Masking personal data for anything a reader sees (the PDF and HTML). Exports keep the real values."""
from __future__ import annotations

import re

import pandas as pd

_MASK = "＊"


def mask_name(name: object) -> str:
    """王小明 → 王＊明, 李四 → 李＊, Alice Chen → A＊＊＊＊ C＊＊＊ (first letter of each word kept)."""
    if not isinstance(name, str) or not name.strip():
        return ""
    name = name.strip()
    if re.search(r"[\u3400-\u9fff]", name):
        if len(name) <= 2:
            return name[0] + _MASK
        return name[0] + _MASK * (len(name) - 2) + name[-1]
    return " ".join(word[0] + _MASK * (len(word) - 1) for word in name.split())


def mask_email(email: object) -> str:
    """alice.chen@example.com → a＊＊＊@example.com."""
    if not isinstance(email, str) or "@" not in email:
        return ""
    local, _, domain = email.strip().partition("@")
    return f"{local[:1]}{_MASK * 3}@{domain}"


def mask_phone(phone: object) -> str:
    """0912345678 or +886 912 345 678 → 0912-＊＊＊-678: the last three digits stay, to recognise a caller.
    Another country's number in E.164 keeps its country code, the first four digits of its national number
    (fewer when it is short: at least three are always hidden) and the last three: +447911123456 →
    +44 7911-＊＊＊-456."""
    if not isinstance(phone, str):
        return ""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("886") and len(digits) == 12:  # +886 912 345 678 → 0912345678
        digits = "0" + digits[3:]
    elif phone.strip().startswith("+"):
        return _mask_international(phone)
    if len(digits) < 6:
        return _MASK * len(digits)
    return f"{digits[:4]}-{_MASK * 3}-{digits[-3:]}"


def mask_contacts(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with customer_name, email and phone masked and line_user_id reduced to a flag."""
    masked = frame.copy()
    for column, mask in (("customer_name", mask_name), ("email", mask_email), ("phone", mask_phone)):
        if column in masked:
            masked[column] = masked[column].map(mask)
    if "line_user_id" in masked:
        masked["line_user_id"] = masked["line_user_id"].notna()
    return masked


def _mask_international(phone: str) -> str:
    import phonenumbers  # only for a foreign number, in the few rows a report shows

    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return _MASK * len(re.sub(r"\D", "", phone))
    national = phonenumbers.national_significant_number(number)
    head = national[:max(0, min(4, len(national) - 6))]
    return f"+{number.country_code} {head}-{_MASK * 3}-{national[-3:]}"
