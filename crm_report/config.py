"""A client's `client.yaml`: schema, validation and loading.

Every error names the file and the bad key, and for choices the allowed values.
"""
from __future__ import annotations

import codecs
import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from crm_report.errors import ReportError

CANONICAL_FIELDS = (
    "order_id", "customer_id", "order_date", "amount",
    "product_id", "product_name", "category", "quantity", "unit_price",
    "channel", "status", "store", "customer_name", "email", "phone", "line_user_id",
    "email_consent", "sms_consent", "line_consent",
)
REQUIRED_FIELDS = ("order_id", "customer_id", "order_date", "amount")

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_URL_PASSWORD = re.compile(r"^[\w+.-]+://[^/@:?#]*:[^/@?#]*@")


def _non_empty(value: str, hint: str) -> str:
    """`value` stripped; an empty one is refused with `hint` (what to give instead)."""
    value = value.strip()
    if not value:
        raise ValueError(f"is empty; {hint}")
    return value


class ConfigError(ReportError, ValueError):
    """A client's configuration cannot be used; the message names the file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Brand(_Strict):
    logo: str | None = Field(None, description="Logo file (SVG or PNG) inside the client's folder.")
    primary_color: str = "#1F4E79"
    accent_color: str = "#E07A1F"

    @field_validator("primary_color", "accent_color")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _HEX_COLOUR.match(value):
            raise ValueError(f"must be a colour like '#1F4E79', got {value!r}")
        return value


AUXILIARY_FIELDS = ("currency", "cancels_order_id")
"""Columns a source may map besides the canonical fields: `currency` is checked against the client's;
`cancels_order_id` names the order a credit note cancels (the loader nets the note against it)."""


class Source(_Strict):
    """Where the orders come from (a file, a folder or glob of files, or a database) and how to read them."""

    path: str | None = Field(None, description="Order file, folder or glob (data/*.csv), inside the client's "
                                               "folder.")
    format: Literal["auto", "csv", "excel", "parquet"] = "auto"
    encoding: str = Field("auto", description="CSV text encoding; 'auto' detects UTF-8 (with or without BOM), "
                                              "UTF-16 and Big5/CP950.")
    sheet: str | int | None = Field(None, description="Excel sheet name or 0-based position (default: first).")
    header_row: int | None = Field(None, ge=1, description="Row of the column names (1 = first row); "
                                                           "default: detected.")
    delimiter: str | None = Field(None, min_length=1, max_length=1, description="CSV delimiter; default: "
                                                                                "detected.")
    url: str | None = Field(None, description="SQLAlchemy database URL, without a password.")
    password_env: str | None = Field(None, description="Environment variable that holds the database "
                                                       "password.")
    query: str | None = Field(None, description="SQL query that returns the order lines.")
    table: str | None = Field(None, description="Table (or schema.table) that holds the order lines.")
    preset: Literal["auto", "shopify", "shopline", "91app", "cyberbiz", "shopee", "woocommerce", "generic-zh",
                    "generic-en"] = "auto"
    columns: dict[str, str | list[str] | None] = Field(
        default_factory=dict, description="Canonical field -> column name in the client's file (a list: the "
                                          "first non-empty of these columns; null: do not use a preset's match)."
    )
    status_words: dict[str, Literal["paid", "cancelled", "refunded"]] = Field(
        default_factory=dict, description="Extra status words of this client, e.g. {待付款: cancelled}.")
    date_order: Literal["auto", "dmy", "mdy", "ymd"] = Field(
        "auto", description="How dates with the year last (05/01/2026) are read: dmy (day first), mdy (month "
                            "first), ymd (the year is always first); auto: as each file's dates prove.")
    cancel_prefix: str | None = Field(
        None, min_length=1, max_length=10, description="Order numbers starting with this are cancellations or "
                                                       "credit notes (e.g. C: C536379), netted against the order "
                                                       "they cancel.")
    max_excluded_share: float = Field(0.05, ge=0, le=1, description="A run stops when more rows than this "
                                                                   "share are excluded, or rows that carry "
                                                                   "more than this share of the amount.")
    chunk_rows: int = Field(500_000, ge=1000, description="Rows read at a time from large files and databases.")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str | list[str] | None]) -> dict[str, str | list[str] | None]:
        allowed = (*CANONICAL_FIELDS, *AUXILIARY_FIELDS)
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; allowed: {list(allowed)}")
        return value

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str) -> str:
        if value != "auto":
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r}; use 'auto' or a Python codec name such as "
                                 "'utf-8', 'utf-8-sig', 'cp950' (Big5), 'utf-16'") from None
            sample = "order_id,amount\r\n1,2\n"
            try:  # rot13, hex, zlib (not text encodings), idna, punycode (not for files) would fail later
                decoder = codecs.getincrementaldecoder(value)(errors="replace")
                readable = (decoder.decode(sample.encode(value), final=True) == sample
                            and codecs.lookup(value).name not in ("idna", "punycode"))  # domain names only
            except (LookupError, UnicodeError, TypeError, ValueError):
                readable = False
            if not readable:
                raise ValueError(f"not a text encoding {value!r} for files; use 'auto' or a text encoding such "
                                 "as 'utf-8', 'utf-8-sig', 'cp950' (Big5), 'utf-16'")
        return value

    @field_validator("url")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        if value is not None and _URL_PASSWORD.match(value):
            raise ValueError("the URL holds a password; remove it and name an environment variable that "
                             "holds it in source.password_env")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Source:
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of path (a file, folder or glob) or url (a database)")
        if self.url is not None and (self.query is None) == (self.table is None):
            raise ValueError("with url, give exactly one of query or table")
        if self.url is None and (self.query or self.table or self.password_env):
            raise ValueError("query, table and password_env need url")
        return self

    def describe(self) -> str:
        """Where the orders come from, without credentials: the path, or the URL with the query or table."""
        if self.path is not None:
            return self.path
        return f"{self.url} ({'table ' + self.table if self.table else 'query'})"


class MemberTier(_Strict):
    name: str
    min_spend_12m: float | None = Field(None, ge=0, description="NT$ spent in the last 12 months.")
    invitation_list: str | None = Field(None, description="File of invited customer ids (e.g. 黑卡).")

    @model_validator(mode="after")
    def _one_rule(self) -> MemberTier:
        if (self.min_spend_12m is None) == (self.invitation_list is None):
            raise ValueError("give exactly one of min_spend_12m or invitation_list")
        return self


class ClientEvent(_Strict):
    """A client's own sales event (週年慶, a brand day), shown with the retail calendar's events
    (crm_report.metrics.events): a name and its first and last day (`end` left out: the one day `start`)."""

    name: str = Field(max_length=40, description="As the report shows it, at most 40 characters.")
    start: dt.date
    end: dt.date | None = Field(None, description="Last day, on or after start; default (and null): start.")

    @model_validator(mode="before")
    @classmethod
    def _one_day(cls, data: object) -> object:
        """A missing end is the start, once the start is a date (a bad start is reported once, as start)."""
        if isinstance(data, dict) and data.get("end") is None and _is_day(data.get("start")):
            return {**data, "end": data["start"]}
        return data

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        return _non_empty(value, "give the event's name as the report shows it")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
            raise ValueError(f"must be a date like 2026-10-05, got {value!r}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ClientEvent:
        if self.end is not None and self.end < self.start:  # `_one_day` made a missing end the start
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


def _is_day(value: object) -> bool:
    """A date, or text that reads as one (2026-10-05); not a date and time."""
    if isinstance(value, str):
        try:
            dt.date.fromisoformat(value.strip())
        except ValueError:
            return False
        return True
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


class ReportOptions(_Strict):
    @field_validator("repeat_windows")
    @classmethod
    def _windows(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= days <= 3650 for days in value) or len(set(value)) != len(value):
            raise ValueError(f"each window is a number of days from 1 to 3650, given once; got {list(value)}")
        return tuple(sorted(value))

    trend_months: int = Field(24, ge=13, le=60)
    cohort_months: int = Field(12, ge=3, le=36)
    repeat_windows: tuple[int, ...] = Field((30, 60, 90, 180, 365), min_length=1, max_length=10,
                                            description="Days for the repeat rates: 1 to 3650, each once.")
    winback_top_n: int = Field(20, ge=5, le=100)
    top_products: int = Field(8, ge=3, le=30)
    clv_months: int = Field(12, ge=1, le=60, description="Horizon of predicted lifetime value, in months.")
    clv_model: Literal["auto", "bgnbd", "mbgnbd", "pareto_nbd"] = Field(
        "auto", description="Purchase model: auto picks BG/NBD or MBG/NBD by a 12-month backtest; or name one.")
    clv_monthly_discount: float = Field(0.01, ge=0, le=0.2, description="Monthly discount rate for CLV.")
    acquisition_cost: float | None = Field(
        None, ge=0, description="Average cost to acquire one new customer (CAC), for the seed CLV formula.")
    rfm_style: Literal["shopify", "klaviyo"] = Field(
        "shopify", description="Named RFM groups: Shopify-style quintile grid or Klaviyo's six groups.")
    replenishment_min_buyers: int = Field(
        30, ge=3, description="Repeat buyers a product needs for its own replenishment cycle (else category).")
    reminder_lead_days: int = Field(3, ge=0, le=30, description="Reminder this many days before the 25th "
                                                               "percentile of the replenishment cycle.")
    first_product_min_customers: int = Field(
        30, ge=5, description="First-order customers a product needs before its repeat rate is shown.")


class Winback(_Strict):
    """Win-back campaign rules (crm_report.metrics.campaign); each is written into the methodology appendix."""

    control_share: float = Field(0.10, ge=0, le=0.5, description="Share of each target group held out of the "
                                 "exports as a control group (0 = no control group).")
    control_min_group: int = Field(10, ge=2, description="Groups with fewer customers (with a channel) get no "
                                   "control group: everyone is contacted.")
    min_group_for_evaluation: int = Field(30, ge=2, description="Customers the contacted and the control arm "
                                          "each need before a result is reported as conclusive.")
    no_offer_min_p_alive: float = Field(0.7, ge=0, le=1, description="No offer for customers whose chance of "
                                        "being active (P(alive), else the recency-based chance) is at least this ...")
    no_offer_max_cycle_ratio: float = Field(1.5, ge=1, description="... and at most this many of their "
                                            "purchase cycles since the last purchase.")
    discount_top_share: float = Field(0.2, ge=0, le=1, description="A discount only for the others whose value "
                                      "is in this top share of all targets (0 = never a discount).")
    discount_label: str | None = Field(None, min_length=1, max_length=40,
                                       description="The discount as written in the exports and the report, e.g. "
                                       "滿千折百; by default economics.discount_rate in the report's language "
                                       "(0.10: 9折 / 10% off).")
    max_contacts: int = Field(2, ge=0, le=12, description="Contact hygiene: customers sent this many of the last "
                              "contact_window_months lists rest this month (0 = no cap).")
    contact_window_months: int = Field(3, ge=1, le=3, description="... out of this many months (the pooled lists).")
    unanswered_limit: int = Field(3, ge=0, le=3, description="Customers sent each of this many last lists without "
                                  "buying since are left out (0 = never).")

    def campaign_options(self) -> dict:
        """The keywords of `campaign.build_targets` but the discount label (`ClientConfig.campaign_options` adds
        it; the evaluation and hygiene settings are used elsewhere)."""
        return self.model_dump(exclude={"min_group_for_evaluation", "max_contacts", "contact_window_months",
                                        "unanswered_limit", "discount_label"})


class Economics(_Strict):
    """What a contact costs and is expected to bring (crm_report.metrics.economics); written into the methodology
    appendix. Money in the client's currency: the default prices are Taiwanese, in TWD."""

    gross_margin: float = Field(0.5, gt=0, le=1, description="Gross margin: the share of incremental revenue "
                                "left after the cost of the goods sold.")
    line_message_cost: float = Field(0.2, ge=0, description="One LINE message (LINE official account, price of "
                                     "an extra message in Taiwan: about NT$0.2).")
    email_message_cost: float = Field(0.05, ge=0, description="One e-mail (e-mail service, per message).")
    sms_message_cost: float = Field(0.8, ge=0, description="One SMS (Taiwanese SMS gateways: about NT$0.7–1).")
    own_tool_message_cost: float | None = Field(None, ge=0, description="One message sent with the client's own "
                                                "campaign tool (used when the data holds no contact at all); by "
                                                "default the dearest of the three prices above.")
    discount_rate: float = Field(0.10, ge=0, lt=1, description="The discount a discount offer gives, as a share "
                                 "of the order (0.10 = 9折, the default discount_label).")
    prior_uplift_none: float = Field(0.01, ge=0, le=1, description="Prior: extra chance of a purchase in the month "
                                     "after a message without an offer, before the client's own results are known.")
    prior_uplift_reminder: float = Field(0.02, ge=0, le=1, description="... after a reminder.")
    prior_uplift_discount: float = Field(0.04, ge=0, le=1, description="... after a discount offer.")

    @property
    def message_costs(self) -> dict[str, float]:
        """One message's price by channel (`campaign.SENDING_CHANNELS`): the client's own tool costs
        `own_tool_message_cost`, or when not given the dearest of LINE, e-mail and SMS (a plan never looks
        cheaper than the dearest channel would make it)."""
        prices = {"line": self.line_message_cost, "email": self.email_message_cost, "sms": self.sms_message_cost}
        own = self.own_tool_message_cost
        return {**prices, "own": max(prices.values()) if own is None else own}

    def plan_options(self) -> dict:
        """The keywords of `economics.campaign_plan`."""
        return {"gross_margin": self.gross_margin, "discount_rate": self.discount_rate,
                "message_cost": self.message_costs,
                "prior_uplift": {"none": self.prior_uplift_none, "reminder": self.prior_uplift_reminder,
                                 "discount": self.prior_uplift_discount}}


class ClientConfig(_Strict):
    client_id: str
    display_name: str
    locale: Literal["zh-TW", "en"] = "zh-TW"
    currency: str = Field("TWD", description="ISO 4217 code of the client's amounts (TWD, HKD, USD, MYR, SGD …).")
    currency_rates: dict[str, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        default_factory=dict, description="For a source whose lines are in several currencies: how many units of "
        "`currency` one unit of each other currency is worth (USD: 31.5). Lines in a listed currency are converted "
        "as they are read (crm_report.data.load.CONVERSION); a line in a currency not listed stops the run.")
    timezone: str = "Asia/Taipei"
    phone_region: str = Field("TW", description="ISO 3166 country code whose numbering plan reads phone numbers "
                              "written without a country code (TW: 0912-345-678; GB: 07911 123456); every "
                              "number is then written in E.164 (+886912345678).")
    brand: Brand = Brand()
    source: Source
    member_tiers: tuple[MemberTier, ...] = (
        MemberTier(name="銀卡", min_spend_12m=2000),
        MemberTier(name="金卡", min_spend_12m=10000),
    )
    events: tuple[ClientEvent, ...] = Field((), description="The client's own sales events, shown with the "
                                            "retail calendar's when they explain a month's change.")
    report: ReportOptions = ReportOptions()
    winback: Winback = Winback()
    economics: Economics = Economics()
    folder: Path = Field(description="The client's folder; set by the loader, not the YAML.")

    @field_validator("display_name")
    @classmethod
    def _named(cls, value: str) -> str:
        return _non_empty(value, "give the client's name as the report's title shows it")

    @field_validator("client_id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _CLIENT_ID.match(value):
            raise ValueError("must be lower-case letters, digits, '-' or '_'")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        from babel.numbers import list_currencies  # CLDR data: only when a client.yaml is read

        code = value.strip().upper()
        if code not in list_currencies():
            raise ValueError(f"unknown currency {value!r} (use an ISO 4217 code like TWD, HKD, USD, MYR or SGD)")
        return code

    @field_validator("currency_rates")
    @classmethod
    def _rates(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        """ISO 4217 codes (upper case, each once); the client's own currency only at 1, and then left out."""
        from babel.numbers import list_currencies

        own, rates = info.data.get("currency"), {}
        for given, rate in value.items():
            code = given.strip().upper()
            if code not in list_currencies():
                raise ValueError(f"unknown currency {given!r} (use ISO 4217 codes like USD, HKD or JPY)")
            if code in rates:
                raise ValueError(f"{code} is given twice")
            if code == own and rate != 1:
                raise ValueError(f"{code} is the client's own currency: leave it out (its rate is 1)")
            rates[code] = rate
        return {code: rate for code, rate in rates.items() if code != own}

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str) -> str:
        from phonenumbers import SUPPORTED_REGIONS  # libphonenumber's metadata: only when a client.yaml is read

        code = value.strip().upper()
        if code not in SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {value!r} (use an ISO 3166 country code like TW, HK, MY, SG "
                             "or GB)")
        return code

    @model_validator(mode="after")
    def _prices_in_the_currency(self) -> ClientConfig:
        """The default tier thresholds and message prices are in TWD: another currency must give its own."""
        if self.currency == "TWD":
            return self
        if "member_tiers" not in self.model_fields_set:
            raise ValueError(f"member_tiers: the default thresholds (銀卡 NT$2,000, 金卡 NT$10,000) are in TWD; "
                             f"give this client's tiers with min_spend_12m in {self.currency}")
        prices = {"line_message_cost", "email_message_cost", "sms_message_cost"}
        missing = sorted(prices - self.economics.model_fields_set)
        if missing:
            raise ValueError(f"economics: the default message prices are in TWD; give {', '.join(missing)} in "
                             f"{self.currency}")
        return self

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like 'Asia/Taipei')") from None
        return value

    @property
    def discount_label(self) -> str:
        """The discount as the exports and the report write it: `winback.discount_label`, else the economics'
        discount rate in the report's language (`formatting.discount_label`)."""
        from crm_report.formatting import discount_label  # pandas: not at start-up (`--list`)

        return self.winback.discount_label or discount_label(self.economics.discount_rate, self.locale)

    def campaign_options(self) -> dict:
        """The keywords of `campaign.build_targets`."""
        return {**self.winback.campaign_options(), "discount_label": self.discount_label,
                "phone_region": self.phone_region}

    def resolve(self, relative: str) -> Path:
        """A path from the config, inside the client's folder (never outside it)."""
        path = _resolve(self.folder / relative, f"{self.folder / 'client.yaml'}: path {relative!r}")
        if not path.is_relative_to(self.folder.resolve()):
            raise ConfigError(f"{self.folder / 'client.yaml'}: path {relative!r} leaves the client's folder")
        return path


def read_utf8(path: Path, error: type[ReportError]) -> str:
    """The text of a UTF-8 file a consultant wrote (client.yaml, an invitation list), a byte-order mark
    dropped; `error` names the file, and the byte and line where it is not UTF-8, when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise error(f"{path}: not UTF-8 text (byte {exc.start} on line {line}); save it as UTF-8") from None


def load_config(client_id: str, clients_dir: Path) -> ClientConfig:
    """Read and validate `clients_dir/<client_id>/client.yaml`."""
    folder = clients_dir / client_id
    path = folder / "client.yaml"
    if not path.is_file():
        known = ", ".join(list_clients(clients_dir)) or "none"
        raise ConfigError(f"no client {client_id!r}: {path} does not exist (known clients: {known})")
    text = read_utf8(path, ConfigError)
    try:
        raw = yaml.load(text, Loader=_StrictLoader) or {}  # noqa: S506 (a SafeLoader)
    except _RefusedYaml as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys, got {type(raw).__name__}")
    try:
        config = ClientConfig(**raw, client_id=client_id, folder=folder)
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + _describe(exc)) from None
    named = [("brand.logo", config.brand.logo)] + [
        (f"member_tiers.{i}.invitation_list", tier.invitation_list) for i, tier in enumerate(config.member_tiers)]
    if config.source.path is not None and not any(ch in config.source.path for ch in "*?["):
        named.append(("source.path", config.source.path))
    for key, value in named:
        if value is not None:
            _check_inside(folder, value, path, key)
    if config.brand.logo and not config.resolve(config.brand.logo).is_file():
        raise ConfigError(f"{path}: brand.logo: file {config.brand.logo!r} not found in {folder}")
    if config.brand.logo:
        check_logo(config)
    return config


MAX_LOGO_BYTES = 2 << 20
MAX_LOGO_PIXELS = 4000
"""A logo is a few kilobytes; a bigger file or image would only slow or exhaust the PDF renderer (a small PNG
can declare 100,000 × 100,000 pixels and decompress to tens of gigabytes)."""


def check_logo(config: ClientConfig) -> Path:
    """The logo's path once it is known to be an SVG or PNG of at most `MAX_LOGO_BYTES`; for a PNG,
    `MAX_LOGO_PIXELS` a side (read from its header); for an SVG, self-contained (`_check_svg`). Raises
    ConfigError naming client.yaml and brand.logo."""
    import struct

    value = config.brand.logo or ""
    where = f"{config.folder / 'client.yaml'}: brand.logo: {value!r}"
    logo = config.resolve(value)
    if logo.suffix.lower() not in (".svg", ".png"):
        raise ConfigError(f"{where} must be an SVG or PNG file")
    try:
        size = logo.stat().st_size
        if size > MAX_LOGO_BYTES:
            raise ConfigError(f"{where} is {size / (1 << 20):.1f} MB; a logo may be at most {MAX_LOGO_BYTES >> 20} MB")
        with logo.open("rb") as handle:
            head = handle.read(24 if logo.suffix.lower() == ".png" else MAX_LOGO_BYTES)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the file ({exc.strerror or exc})") from None
    if logo.suffix.lower() == ".svg":
        _check_svg(head, where)
    if logo.suffix.lower() == ".png":
        if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
            raise ConfigError(f"{where} is not a PNG image")
        width, height = struct.unpack(">II", head[16:24])
        if max(width, height) > MAX_LOGO_PIXELS:
            raise ConfigError(f"{where} is {width} × {height} pixels; a logo may be at most {MAX_LOGO_PIXELS} "
                              "pixels a side")
    return logo


_OUTSIDE_REFERENCE = re.compile(rb"@import|url\(\s*['\"]?\s*(?!#)")
"""CSS in an SVG that loads something else (`@import`, `url(file.css)`); `url(#gradient)` stays inside."""


def _check_svg(data: bytes, where: str) -> None:
    """An SVG logo must be self-contained XML without a DTD: entities declared in one make the renderer
    expand a small file into megabytes (a 1 MB expansion took 75 s), and a reference to another file or an
    address (`<image href="http://…">`, `<use href="other.svg#a">`, CSS `url()` / `@import`) would be
    refused at render time, failing the report late. Raises ConfigError naming what was found."""
    from xml.parsers import expat

    def refuse(why: str) -> None:
        raise ConfigError(f"{where} {why}; a logo must be one self-contained SVG file")

    def doctype(name, *args) -> None:
        refuse("declares a DTD (<!DOCTYPE …>), whose entities can expand it many times over")

    def element(name: str, attributes: dict[str, str]) -> None:
        for key, value in attributes.items():
            if key.rpartition(":")[2] == "href" and not value.strip().startswith(("#", "data:")):
                refuse(f"refers to {value!r} ({name} {key})")

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = lambda name, *args: refuse(f"declares the entity {name!r}")
    parser.StartElementHandler = element
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ConfigError(f"{where} is not an SVG image (XML error: {exc})") from None
    found = _OUTSIDE_REFERENCE.search(data)
    if found:
        refuse(f"loads another file with CSS ({found.group().decode(errors='replace').strip()}…)")


def _check_inside(folder: Path, value: str, yaml_path: Path, key: str) -> None:
    """A path client.yaml names must stay in the client's folder once links are followed: a link to another
    client's file or folder (`ln -s ../other/data/orders.csv data/zz.csv`) is refused."""
    target = _resolve(folder / value, f"{yaml_path}: {key}: {value!r}")
    if not target.is_relative_to(folder.resolve()):
        raise ConfigError(f"{yaml_path}: {key}: {value!r} is outside the client's folder (it leads to {target}); "
                          "paths and links out of the folder are refused")


class _RefusedYaml(yaml.YAMLError):
    """client.yaml uses YAML that is valid but refused (an alias, a key given twice)."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases, without repeated keys and with a readable error for impossible
    dates (PyYAML raises a bare ValueError for `start: 2026-13-01`, which named neither the file nor the line).

    An alias (`*name`) lets 600 bytes expand to millions of values (the "billion laughs"), which exhausts
    memory as soon as the values are validated or printed; client.yaml has no use for them. A key given twice
    silently keeps the last value in PyYAML; here it is an error naming the key and both lines."""

    MAX_DEPTH = 20
    """client.yaml nests four levels at most; `[[[[…` thousands deep exhausts Python's recursion limit."""

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            raise _RefusedYaml(f"line {mark.line + 1}: YAML aliases (*name) are not allowed in client.yaml; "
                               "write the value out")
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > self.MAX_DEPTH:
                raise _RefusedYaml(f"line {mark.line + 1}: values nested more than {self.MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node):
        self._root = node
        return super().construct_document(node)

    def construct_mapping(self, node, deep=False):
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise _RefusedYaml(f"{_key_path(self, node, key)}: the key appears twice (lines {seen[key]} and "
                                   f"{line}); keep one")
            if isinstance(key, (str, int, float, bool)):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            key = ".".join(_node_path(self, node) or ["(top level)"])
            raise _RefusedYaml(f"{key}: {node.value!r} on line {node.start_mark.line + 1} is not a date ({exc}); "
                               "write dates as YYYY-MM-DD, or quote text") from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def _key_path(loader: _StrictLoader, mapping: yaml.MappingNode, key: object) -> str:
    """`source.path` for a key of the mapping under `source`: found by walking down from the document root."""
    return ".".join([*(_node_path(loader, mapping) or []), str(key)])


def _node_path(loader: _StrictLoader, target: yaml.Node) -> list[str] | None:
    """The keys and list positions from the document root down to `target` (None: not found)."""
    def walk(node, trail):
        if node is target:
            return trail
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                found = walk(v, [*trail, str(k.value)])
                if found is not None:
                    return found
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                found = walk(v, [*trail, str(i)])
                if found is not None:
                    return found
        return None

    return walk(getattr(loader, "_root", None), [])


def _resolve(path: Path, where: str) -> Path:
    """`path` with its links followed; a link that leads back to itself is a ConfigError naming `where`
    (pathlib raises RuntimeError or OSError)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        raise ConfigError(f"{where} is a link that leads back to itself; fix or remove the link") from None


def list_clients(clients_dir: Path) -> list[str]:
    """Client ids: the folders of `clients_dir` that hold a client.yaml, sorted."""
    if not clients_dir.is_dir():
        return []
    return sorted(p.parent.name for p in clients_dir.glob("*/client.yaml"))


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "literal_error":
            message = f"{message} (got {error['input']!r})"
        lines.append(f"{key}: {message}")
    return "; ".join(lines)
