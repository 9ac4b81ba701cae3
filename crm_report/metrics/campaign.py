"""Win-back campaign: who first, what offer, which channel, a held-out control group, and whether it worked.

The rules, in the order `build_targets` applies them (each function's docstring gives the exact rule):

- **Priority** (`priority_scores`) = chance the customer is still active × what they would spend in the next
  12 months if active, i.e. the expected spend of the next 12 months. From the BG/NBD + Gamma-Gamma model when
  it made a prediction and the customer has a repeat purchase; otherwise from their purchase history.
- **Offer** (`assign_offers`): no offer for customers likely to come back anyway, a discount only for the most
  valuable of the rest, a plain reminder for everyone else (restraint against over-promotion, seed 003).
- **Channel** (`choose_channels`): LINE, else e-mail, else SMS, each only with a usable address and without a
  refusal in the consent columns (`latest_consents`); when the data holds no contact at all, the client's own
  campaign tool, by customer id.
- **Control group** (`assign_control`): a reproducible random share of each group is held out of the exports.
- **Evaluation** (`evaluate_campaign`): next month, return rate and revenue of contacted vs control with 95%
  confidence intervals and the incremental revenue.

Codes (translated by the report): offers `OFFERS`, channels `CHANNELS`, evaluation outcomes `OUTCOMES`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from crm_report.data.identity import normalise_mobiles
from crm_report.frames import isin
from crm_report.period import as_of, parse_month

OFFERS = ("none", "reminder", "discount")
CHANNELS = ("line", "email", "sms", "own", "none")
CONTACT_CHANNELS = ("line", "email", "sms")
"""The channels whose addresses the data gives; `own` (the client's own tool, by customer id) stands alone."""
SENDING_CHANNELS = (*CONTACT_CHANNELS, "own")
"""Every channel a customer can be contacted on: the columns of `summarise_targets` and `contact_calendar`."""
OUTCOMES = ("lift", "drop", "unclear", "mixed", "too_small", "no_control", "unconfirmed")
BASES = ("model", "history")
CONSENT_FIELDS = ("line_consent", "email_consent", "sms_consent")
CONSENT_CODES = ("given", "refused", "blank", "unrecognised")
TARGETS_FILE = "campaign_targets.parquet"
TARGET_COLUMNS = ("customer_id", "group", "group_rank", "priority", "priority_basis", "chance", "value",
                  "offer", "offer_detail", "channel", "held_back", "control", "contact_date", "product")
DAYS_PER_YEAR = 365.25

# Consent words after NFKC normalisation, lower case, with spaces, '-' and '_' removed.
_REFUSED = frozenset({
    "n", "no", "false", "f", "0", "0.0", "off", "否", "不", "不同意", "不願意", "拒絕", "拒收", "不接收", "退訂",
    "取消訂閱", "已退訂", "optout", "optedout", "unsubscribe", "unsubscribed", "declined", "refused",
})
_GIVEN = frozenset({
    "y", "yes", "true", "t", "1", "1.0", "on", "是", "同意", "願意", "接收", "訂閱", "已訂閱", "optin", "optedin",
    "subscribe", "subscribed", "agree", "agreed", "consent", "consented",
})
_LINE_USER_ID = r"U[0-9a-f]{32}"
_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s.]+"


HELD_BACK = ("frequency_cap", "unanswered", "unprofitable")
"""Why a target with a channel is not contacted this month ("" = not held back): `contact_hygiene` (frequency
cap, unanswered) or `economics.apply_plan` (its group is not expected to pay)."""


def reachable(targets: pd.DataFrame) -> pd.Series:
    """Targets that take part in this month's campaign: a channel, and not held back by `contact_hygiene`.
    The control group is drawn among them; the others are neither contacted nor compared."""
    held = targets["held_back"].fillna("").ne("") if "held_back" in targets else False
    return targets["channel"].ne("none") & ~held


def to_contact(targets: pd.DataFrame) -> pd.Series:
    """The one rule for who is contacted: reachable (`reachable`) and not in the control group. Every export,
    count, calendar and evaluation uses it."""
    return reachable(targets) & ~targets["control"].astype(bool)


def contact_hygiene(customer_ids: pd.Series, history: pd.DataFrame | None, orders: pd.DataFrame,
                    month: str | pd.Period, max_contacts: int = 2, window_months: int = 3,
                    unanswered_limit: int = 3) -> pd.Series:
    """Why each customer is held back from this month's contacts ("" = not held back), from the lists of
    the past months (`campaign_history`: only sends confirmed by a send record count as contacts).

    - `frequency_cap`: contacted in `max_contacts` or more of the last `window_months` monthly lists (with
      the defaults: anyone contacted in two of the last three months rests this month);
    - `unanswered`: contacted in each of the last `unanswered_limit` lists (consecutive months up to last
      month) and no purchase (`orders`, purchase orders) since the first of those lists' months began.
    The frequency cap is checked first. `max_contacts` or `unanswered_limit` of 0 switches that rule off.
    Returns the reasons indexed by customer id (the values of `customer_ids`).
    """
    period = month if isinstance(month, pd.Period) else parse_month(month)
    customer_ids = pd.Series(customer_ids.to_numpy(), index=customer_ids.to_numpy())
    reason = pd.Series("", index=customer_ids.index, dtype="str")
    if history is None or history.empty:
        return reason
    sent = history.loc[history["sent"].astype(bool), ["customer_id", "campaign_month"]].drop_duplicates()
    age = period.ordinal - sent["campaign_month"].map(lambda m: pd.Period(m, freq="M").ordinal)
    if max_contacts > 0:
        recent = sent.loc[age.between(1, window_months)]["customer_id"].value_counts()
        capped = customer_ids.map(recent).fillna(0).ge(max_contacts)
        reason = reason.mask(capped, "frequency_cap")
    if unanswered_limit > 0:
        streak = sent.loc[age.between(1, unanswered_limit)]["customer_id"].value_counts()
        every = pd.Index(streak.index[streak.ge(unanswered_limit)])
        since = (period - unanswered_limit).start_time + pd.offsets.MonthBegin(1)
        bought = pd.Index(orders.loc[orders["order_date"].ge(since), "customer_id"].dropna().unique())
        silent = isin(customer_ids, every.difference(bought))
        reason = reason.mask(reason.eq("") & silent, "unanswered")
    return reason


def join_value(candidates: pd.DataFrame, value_table: pd.DataFrame) -> pd.DataFrame:
    """The win-back candidates with what `priority_scores` needs from `clv.customer_value(...).table`:
    tenure_days (= T, days from the first purchase day to the as-of day), historic_revenue, frequency (repeat
    purchase days), p_alive and clv (NaN when the model made no prediction)."""
    _require(candidates, ("customer_id",), "candidates")
    _require(value_table, ("T", "historic_revenue", "frequency", "p_alive", "clv"), "value_table")
    missing = ~isin(candidates["customer_id"], value_table.index)
    if missing.any():
        raise ValueError(f"value_table has no row for {int(missing.sum())} candidate(s), e.g. "
                         f"{candidates.loc[missing, 'customer_id'].iloc[0]!r}: compute both from the same orders")
    value = (value_table[["T", "historic_revenue", "frequency", "p_alive", "clv"]]
             .rename(columns={"T": "tenure_days"}).reindex(candidates["customer_id"]))
    return candidates.drop(columns=list(value.columns), errors="ignore").assign(
        **{column: value[column].to_numpy() for column in value.columns})


def priority_scores(candidates: pd.DataFrame) -> pd.DataFrame:
    """Priority = chance × value: the expected spend (NT$) of the next 12 months. Highest first.

    - **Model basis** (the purchase model + Gamma-Gamma made a prediction with a P(alive) for the customer:
      `clv.customer_value`; MBG/NBD and Pareto/NBD judge one-time buyers too, BG/NBD leaves their P(alive)
      missing): chance = P(alive); value = predicted CLV ÷ P(alive), the spend if still active. So priority = the
      predicted CLV itself: the CLV already contains P(alive) (Fader, Hardie & Lee
      2005, eq. 10), and multiplying by it again would count the chance twice. The CLV's horizon is
      `report.clv_months`; keep it at 12 so that both bases mean "the next year".
    - **History basis** (no prediction, or no P(alive): a BG/NBD one-time buyer, whom that model cannot judge
      because it only lets customers leave right after a purchase): chance = min(1, cycle_days ÷ days_since), so a
      customer twice past their cycle counts as a 50% chance; value = historic revenue ÷ years since the first
      purchase (at least 1 year), their average yearly spend.

    Input columns: customer_id, group, historic_revenue, tenure_days, days_since, cycle_days; optional
    p_alive, clv (missing or NaN = no prediction). Adds chance, value, priority, priority_basis and
    group_rank (1 = highest priority in its group; ties by customer id); sorted by priority, then customer id.
    """
    required = ("customer_id", "group", "historic_revenue", "tenure_days", "days_since", "cycle_days")
    _require(candidates, required, "candidates")
    for column in required:
        if candidates[column].isna().any():
            raise ValueError(f"candidates: column {column!r} has missing values")
    if not candidates["cycle_days"].gt(0).all():
        raise ValueError("candidates: column 'cycle_days' must be positive")
    if candidates["customer_id"].duplicated().any():
        raise ValueError("candidates: column 'customer_id' must be unique (one target group per customer)")
    p_alive, clv = (_optional_number(candidates, c) for c in ("p_alive", "clv"))
    model = p_alive.gt(0) & clv.notna()
    recency_chance = (candidates["cycle_days"] / candidates["days_since"].clip(lower=0)).clip(upper=1.0)
    yearly_spend = candidates["historic_revenue"] / (candidates["tenure_days"] / DAYS_PER_YEAR).clip(lower=1.0)
    chance = p_alive.where(model, recency_chance)
    value = (clv / p_alive).where(model, yearly_spend)
    scored = (candidates.assign(chance=chance, value=value, priority=chance * value,
                                priority_basis=np.where(model, "model", "history"))
              .sort_values(["priority", "customer_id"], ascending=[False, True], kind="stable")
              .reset_index(drop=True))
    return scored.assign(group_rank=scored.groupby("group", sort=False).cumcount() + 1)


def assign_offers(targets: pd.DataFrame, min_chance: float = 0.7, max_cycle_ratio: float = 1.5,
                  discount_top_share: float = 0.2, discount_label: str = "9折") -> pd.DataFrame:
    """Offer restraint: adds `offer` ('none', 'reminder' or 'discount') and `offer_detail`.

    1. **none** (likely to come back anyway): chance ≥ `min_chance` and days_since ≤ `max_cycle_ratio` ×
       cycle_days. A message without any offer may still be sent.
    2. **discount** (`offer_detail` = `discount_label`): the others whose value is in the top
       `discount_top_share` of all targets, i.e. value ≥ the (1 − share) quantile of every target's value
       (linear interpolation); 0 turns discounts off.
    3. **reminder** (a plain reminder or content message, no price offer): everyone else.

    Needs columns chance, value, days_since, cycle_days (from `priority_scores`).
    """
    _require(targets, ("chance", "value", "days_since", "cycle_days"), "targets")
    anyway = targets["chance"].ge(min_chance) & targets["days_since"].le(max_cycle_ratio * targets["cycle_days"])
    threshold = targets["value"].quantile(1 - discount_top_share) if discount_top_share > 0 else np.inf
    offer = np.select([anyway, targets["value"].ge(threshold)], ["none", "discount"], default="reminder")
    return targets.assign(offer=offer, offer_detail=pd.Series(offer, index=targets.index).map(
        {"discount": discount_label}))


def parse_consent(values: pd.Series) -> pd.Series:
    """Raw consent values → 'given', 'refused', 'blank' (missing or empty) or 'unrecognised'.

    Values are compared after Unicode NFKC (full-width letters become half-width), lower case, without spaces,
    '-' or '_': Y/N, yes/no, true/false, 1/0, on/off, 是/否, 同意/不同意, 願意/不願意, 拒絕, 拒收, 退訂, opt-in/opt-out,
    subscribed/unsubscribed and the like (see `_GIVEN`, `_REFUSED`). Booleans and 1.0/0.0 work too.
    """
    text = (values.astype("string").str.normalize("NFKC").str.lower()
            .str.replace(r"[\s\-_]+", "", regex=True))
    blank = text.isna().to_numpy() | text.eq("").fillna(True).to_numpy(dtype=bool)
    code = np.select([blank, text.isin(_REFUSED).to_numpy(dtype=bool), text.isin(_GIVEN).to_numpy(dtype=bool)],
                     ["blank", "refused", "given"], default="unrecognised")
    return pd.Series(code, index=values.index, name=values.name)


def latest_consents(lines: pd.DataFrame) -> pd.DataFrame:
    """Per customer, each consent field's most recent non-blank value (by order date), parsed by
    `parse_consent`. A field the data does not have, or a customer who never filled it in, is 'blank'.
    Index customer_id; columns line_consent, email_consent, sms_consent."""
    _require(lines, ("customer_id", "order_date"), "lines")
    ordered = lines.sort_values("order_date", kind="stable")
    customers = pd.Index(ordered["customer_id"].unique(), name="customer_id")
    consents = {}
    for field in CONSENT_FIELDS:  # three fields, each vectorised over all lines
        if field not in ordered:
            consents[field] = pd.Series("blank", index=customers)
            continue
        code = parse_consent(ordered[field])
        filled = ordered.loc[code.ne("blank"), "customer_id"].to_frame().assign(code=code)
        consents[field] = (filled.groupby("customer_id", observed=True)["code"].last()
                           .reindex(customers, fill_value="blank"))
    return pd.DataFrame(consents, index=customers)


def uses_own_tool(contacts: pd.DataFrame) -> bool:
    """True when no customer in `contacts` (`winback.latest_contacts`, every customer) has a LINE user id, an
    e-mail or a phone: the export carries no contact columns, so the list goes to the client's own tool."""
    fields = [f for f in ("line_user_id", "email", "phone") if f in contacts]
    return not bool(contacts[fields].notna().to_numpy().any()) if fields else True


def choose_channels(contacts: pd.DataFrame, consents: pd.DataFrame | None = None, region: str = "TW",
                    own_tool: bool = False) -> pd.DataFrame:
    """Per customer (the index of `contacts`): `channel` and `contact`, the address to use.

    LINE when the LINE user id looks like one (U + 32 lower-case hex digits, the Messaging API's format) and
    line_consent is not refused; else e-mail when the address looks valid (x@y.z) and email_consent is not
    refused; else SMS when the phone is a mobile number of any country (`identity.normalise_mobiles`, numbers
    without a country code read in `region`; the contact is its E.164 form) and sms_consent is not refused;
    else 'none'. Refused means 'refused' or 'unrecognised' in `consents` (codes from `latest_consents`): an
    answer we cannot read is treated as a no. A missing consent column or a blank value is not a refusal.

    `own_tool` (`uses_own_tool`: the data holds no contact at all): every customer gets 'own', the client's
    own campaign tool, with the customer id as the contact; that tool holds the addresses and the consents.
    """
    if own_tool:
        return pd.DataFrame({"channel": "own", "contact": contacts.index.astype("str")}, index=contacts.index)
    consents = (consents if consents is not None else pd.DataFrame(index=contacts.index)).reindex(
        index=contacts.index, columns=list(CONSENT_FIELDS)).astype(object).fillna("blank")
    allowed = ~consents.isin(["refused", "unrecognised"])
    text = {field: (contacts[field] if field in contacts else pd.Series(pd.NA, index=contacts.index))
            .astype("string").str.strip() for field in ("line_user_id", "email", "phone")}
    line = text["line_user_id"].where(text["line_user_id"].str.fullmatch(_LINE_USER_ID).fillna(False).astype(bool))
    email = text["email"].where(text["email"].str.fullmatch(_EMAIL).fillna(False).astype(bool))
    mobile = normalise_mobiles(text["phone"], region)
    usable = [line.notna() & allowed["line_consent"], email.notna() & allowed["email_consent"],
              mobile.notna() & allowed["sms_consent"]]
    channel = np.select(usable, ["line", "email", "sms"], default="none")
    contact = np.select(usable, [line.fillna(""), email.fillna(""), mobile.fillna("")], default="")
    contact = pd.Series(contact, index=contacts.index, dtype="string")
    return pd.DataFrame({"channel": channel, "contact": contact.mask(contact.eq(""))}, index=contacts.index)


def control_sizes(group_sizes: pd.Series, share: float = 0.10, min_group: int = 10) -> pd.Series:
    """Customers held out per group: round half up of share × group size, at least 1; none for groups
    smaller than `min_group` (too small to measure, so everyone is contacted) or when share is 0."""
    n = group_sizes.astype("int64")
    rounded = np.floor(share * n + 0.5 + 1e-9).clip(lower=1)
    return rounded.where(n.ge(min_group) & (share > 0), 0).astype("int64")


def assign_control(targets: pd.DataFrame, client_id: str, month: str | pd.Period, share: float = 0.10,
                   min_group: int = 10) -> pd.DataFrame:
    """Adds a boolean `control`: the customers held out of this month's exports, per group `control_sizes`.

    Each customer gets the number formed by the first 8 bytes of SHA-256("<client_id>:<YYYY-MM>:<customer_id>");
    in each group the customers with the smallest numbers are the control. The draw therefore depends only on
    the client, the month and the ids (not on row order, the run or the Python version), is the same on every
    re-run, and changes from month to month.
    """
    _require(targets, ("customer_id", "group"), "targets")
    if targets["customer_id"].duplicated().any():
        raise ValueError("targets: column 'customer_id' must be unique (one target group per customer)")
    salt = f"{client_id}:{pd.Period(month, freq='M')}:"
    draw = np.array([int.from_bytes(hashlib.sha256((salt + str(c)).encode()).digest()[:8], "big")
                     for c in targets["customer_id"]], dtype="uint64")  # hashlib has no vectorised form
    ordered = targets[["customer_id", "group"]].assign(draw=draw).sort_values(["group", "draw", "customer_id"])
    position = ordered.groupby("group", sort=False).cumcount()
    size = control_sizes(ordered.groupby("group", sort=False)["customer_id"].transform("size"), share, min_group)
    return targets.assign(control=position.lt(size).reindex(targets.index))


def build_targets(candidates: pd.DataFrame, contacts: pd.DataFrame, consents: pd.DataFrame | None,
                  client_id: str, month: str | pd.Period, *, held_back: pd.Series | None = None,
                  phone_region: str = "TW", control_share: float = 0.10,
                  control_min_group: int = 10, no_offer_min_p_alive: float = 0.7,
                  no_offer_max_cycle_ratio: float = 1.5, discount_top_share: float = 0.2,
                  discount_label: str = "9折") -> pd.DataFrame:
    """The month's target list: `priority_scores` → `assign_offers` → `choose_channels` → `assign_control`.

    The control is drawn only among customers with a channel (the others cannot be contacted, so they are
    neither exported nor compared). `candidates` needs the `priority_scores` columns plus contact_date, and may
    carry product and customer_name; every candidate column is kept after `TARGET_COLUMNS`. `contacts`/`consents`
    are indexed by customer id
    (`winback.latest_contacts`, `latest_consents`). `held_back` (by customer id, from `contact_hygiene`) keeps
    customers with a channel out of this month's contacts and out of the control draw. `contacts` holds every
    customer, so whether the list goes to the client's own tool (`uses_own_tool`) is decided for the client,
    not for this month's targets. The keywords are `config.Winback`'s campaign fields and the client's
    `phone_region` (`config.ClientConfig.campaign_options`).
    """
    _require(candidates, ("contact_date",), "candidates")
    scored = assign_offers(priority_scores(candidates), no_offer_min_p_alive, no_offer_max_cycle_ratio,
                           discount_top_share, discount_label)
    reached = choose_channels(contacts.reindex(scored["customer_id"]),
                              None if consents is None else consents.reindex(scored["customer_id"]),
                              phone_region, uses_own_tool(contacts))
    held = (pd.Series("", index=scored.index, dtype="str") if held_back is None
            else scored["customer_id"].map(held_back).fillna("").astype("str"))
    with_channel = scored.drop(columns=["channel", "contact"], errors="ignore").assign(
        channel=reached["channel"].to_numpy(), contact=reached["contact"].to_numpy(),
        held_back=held.where(reached["channel"].ne("none").to_numpy(), "").to_numpy())
    taking_part = reachable(with_channel)
    drawn = assign_control(with_channel.loc[taking_part], client_id, month, control_share, control_min_group)
    targets = with_channel.assign(control=drawn["control"].reindex(with_channel.index, fill_value=False))
    extra = [c for c in targets.columns if c not in TARGET_COLUMNS]  # candidate columns, name, contact
    return targets.reindex(columns=[*TARGET_COLUMNS, *extra])


def summarise_targets(targets: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Per group: customers, contacted (channel and not control), control, the sum of priority (expected
    12-month spend at stake), the first contact date, and contacted customers per offer and per channel."""
    _require(targets, ("group", "priority", "control", "channel", "offer", "contact_date"), "targets")
    contacted = targets.loc[to_contact(targets)]
    summary = targets.groupby("group").agg(customers=("group", "size"), control=("control", "sum"),
                                           value_at_stake=("priority", "sum"))
    summary = summary.join(contacted.groupby("group").agg(contacted=("group", "size"),
                                                           first_contact=("contact_date", "min")))
    by_offer = pd.crosstab(contacted["group"], contacted["offer"]).reindex(columns=list(OFFERS), fill_value=0)
    by_channel = pd.crosstab(contacted["group"], contacted["channel"]).reindex(columns=list(SENDING_CHANNELS),
                                                                                  fill_value=0)
    summary = summary.join(by_offer.add_prefix("offer_")).join(by_channel.add_prefix("channel_"))
    groups = list(order) if order is not None else sorted(summary.index)
    counts = [c for c in summary.columns if c not in ("value_at_stake", "first_contact")]
    return (summary.reindex(groups).fillna({c: 0 for c in [*counts, "value_at_stake"]})
            .astype({c: "int64" for c in counts}).rename_axis("group").reset_index()
            [["group", "customers", "contacted", "control", "value_at_stake", "first_contact",
              *[f"offer_{o}" for o in OFFERS], *[f"channel_{c}" for c in SENDING_CHANNELS]]])


def report_channels(targets: pd.DataFrame) -> list[str]:
    """The channels the report's tables show: 'own' alone when the list goes to the client's own tool (then
    no other channel exists), else LINE, e-mail and SMS (`CONTACT_CHANNELS`), used or not."""
    return ["own"] if targets["channel"].eq("own").any() else list(CONTACT_CHANNELS)


def save_targets(targets: pd.DataFrame, path: Path) -> Path:
    """Write the month's target list (`TARGET_COLUMNS`, no personal data) as .parquet or .csv (UTF-8 with
    BOM); the next month's report reads it back with `load_targets` to evaluate the campaign."""
    required = ("customer_id", "group", "priority", "control", "contact_date", "channel", "offer")
    _require(targets, required, "targets")
    table = targets.reindex(columns=[c for c in TARGET_COLUMNS if c in targets])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        table.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        table.to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
    else:
        raise ValueError(f"targets file must end in .parquet or .csv, got {path.name!r}")
    return path


def load_targets(path: Path) -> pd.DataFrame:
    """Read a file written by `save_targets`: customer_id and group as text, control as bool, contact_date as
    a date, priority as a number."""
    path = Path(path)
    if path.suffix == ".parquet":
        table = pd.read_parquet(path)
    elif path.suffix == ".csv":
        table = pd.read_csv(path, dtype={"customer_id": "str", "group": "str"}, encoding="utf-8-sig")
    else:
        raise ValueError(f"targets file must end in .parquet or .csv, got {path.name!r}")
    _require(table, ("customer_id", "group", "priority", "control", "contact_date", "channel", "offer"), str(path))
    control = table["control"]
    if not pd.api.types.is_bool_dtype(control):
        control = control.astype("string").str.lower().map({"true": True, "false": False})
        if control.isna().any():
            raise ValueError(f"{path}: column 'control' must be True/False")
    return table.assign(customer_id=table["customer_id"].astype("str"), group=table["group"].astype("str"),
                        control=control.astype(bool), contact_date=pd.to_datetime(table["contact_date"]),
                        priority=table["priority"].astype("float64"))


def previous_targets(reports_dir: Path, client_id: str, month: str | pd.Period) -> pd.DataFrame | None:
    """The target list saved by the report for the month before `month` (reports_dir/<client>/<YYYY-MM>/
    `TARGETS_FILE`), or None when that report or its file does not exist (first month, run out of order)."""
    period = month if isinstance(month, pd.Period) else parse_month(month)
    path = Path(reports_dir) / client_id / str(period - 1) / TARGETS_FILE
    return load_targets(path) if path.is_file() else None


SENT_DIR = "sent"
"""Inside the client's folder: one file per campaign month confirming the list was sent (see `send_record`)."""
POOLED_MONTHS = 3
"""The evaluation pools the lists of up to this many past months whose sending is confirmed."""


def send_record(client_folder: Path, month: str | pd.Period) -> dict[str, object] | None:
    """Whether the list made in `month` was actually sent, from the file the consultant drops into
    `<client folder>/sent/`: `<YYYY-MM>.csv` (the campaign tool's send log; when it has a `customer_id`
    column, the ids that were sent) or any other `<YYYY-MM>.*` file (a confirmation: the whole list was sent).

    Returns None when there is no such file (sending unconfirmed: the report draws no conclusion), else
    {"file": name, "customer_ids": frozenset or None}.
    """
    period = month if isinstance(month, pd.Period) else parse_month(month)
    folder = Path(client_folder) / SENT_DIR
    found = sorted(folder.glob(f"{period}.*")) if folder.is_dir() else []
    if not found:
        return None
    path = found[0]
    ids = None
    if path.suffix.lower() == ".csv":
        log = pd.read_csv(path, dtype="str", encoding="utf-8-sig")
        if "customer_id" in log:
            ids = frozenset(log["customer_id"].dropna().str.strip())
    return {"file": path.name, "customer_ids": ids}


def campaign_history(reports_dir: Path, client_folder: Path, client_id: str, month: str | pd.Period,
                     months: int = POOLED_MONTHS) -> pd.DataFrame | None:
    """The target lists of the `months` months before `month` (each saved by its own report), stacked with
    `campaign_month` (YYYY-MM), `confirmed` (a `send_record` exists for that month) and `sent` (the customer is
    in that month's send log; True for every contacted customer when the record is a plain confirmation).
    None when last month's list does not exist (first month, or reports run out of order)."""
    period = month if isinstance(month, pd.Period) else parse_month(month)
    lists = []
    for back in range(1, months + 1):
        targets = previous_targets(reports_dir, client_id, period - back + 1)
        if targets is None:
            if back == 1:
                return None
            continue
        record = send_record(client_folder, period - back)
        ids = None if record is None else record["customer_ids"]
        contacted = to_contact(targets)
        sent = contacted & (isin(targets["customer_id"], ids) if ids is not None else record is not None)
        lists.append(targets.assign(campaign_month=str(period - back), confirmed=record is not None, sent=sent))
    return pd.concat(lists, ignore_index=True)


def evaluation_window(targets_month: str | pd.Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end] for evaluating the list made in `targets_month`: the whole following month."""
    period = targets_month if isinstance(targets_month, pd.Period) else parse_month(targets_month)
    return as_of(period), as_of(period + 1)


ALPHA = 0.05
POWER = 0.80


def evaluate_campaign(targets: pd.DataFrame, orders: pd.DataFrame, start: pd.Timestamp | None = None,
                      end: pd.Timestamp | None = None, min_group: int = 30, confidence: float = 0.95,
                      order: Sequence[str] | None = None) -> pd.DataFrame:
    """Did the list work? Contacted vs control, per group and in total, over purchases in (start, end].

    - **Arms**: among targets with a channel, contacted = not held out, control = held out. The control was
      drawn at random among customers with a channel, so the arms are comparable; customers without a channel
      are in neither. This measures the effect of being put on the list (whether or not the message was sent or
      opened).
    - **Window**: (start, end]; or, when `targets` has a `campaign_month` column (lists of several months
      stacked by `campaign_history`), each customer's own list's `evaluation_window`. A customer on the lists
      of two months counts once per list.
    - **Returned** = at least one paid order (`orders` from `purchase_orders`) dated in the window;
      **revenue per customer** = the arm's paid revenue in the window ÷ its customers (0 for non-buyers).
    - **Primary measure**: the total return-rate difference (contacted − control). The groups' differences are
      secondary: their p-values (two-proportion z-test, pooled variance) are adjusted for the number of groups
      tested with Holm's method (Holm 1979), and a group is a lift or a drop only when its adjusted p-value is
      below `ALPHA` (5%).
    - **Return-rate difference** with Newcombe's hybrid score interval (Newcombe 1998, Statistics in Medicine
      17:873–890, method 10: Wilson intervals of each rate combined), which stays accurate for small groups
      and rates near 0.
    - **Smallest detectable difference** (`mde`): the return-rate difference the arms' sizes could detect
      with `POWER` (80%) at `ALPHA`: (z₀.₉₇₅ + z₀.₈₀) × √(p̄(1 − p̄)(1/n₁ + 1/n₀)), p̄ = both arms' pooled rate.
    - **Revenue difference** per customer with Welch's t interval (unequal variances, Welch–Satterthwaite
      degrees of freedom); **incremental revenue** = revenue difference × contacted customers (same for its CI).
    - **Total**: over groups with ≥ 2 customers in each arm, the control's rate and revenue are re-weighted to
      the contacted customers' group mix (weights = contacted per group), so unequal control shares cannot skew
      it; total incremental revenue = the sum of the groups'. Its intervals combine the groups' variances
      (normal approximation for the rate, Welch–Satterthwaite for revenue).
    - **Outcome**: 'no_control' (nobody held out), 'too_small' (fewer than `min_group` customers in either
      arm: too few to tell), else 'lift' / 'drop' when the difference is significant (total: the interval
      lies above / below 0; groups: Holm-adjusted p < 5%), 'unclear' otherwise (enough customers, no clear
      difference: see `mde` for what could have been seen), and 'mixed' when the return rate and the revenue
      per customer differ significantly in opposite directions (no conclusion). `conclusive` = lift or drop;
      `revenue_conclusive` = the revenue interval excludes 0 (for measured rows).
    """
    _require(targets, ("customer_id", "group", "control"), "targets")
    _require(orders, ("customer_id", "order_date", "amount"), "orders")
    if "campaign_month" not in targets and (start is None or end is None):
        raise ValueError("evaluate_campaign needs start and end, or targets with a campaign_month column")
    taking_part = reachable(targets) if "channel" in targets else pd.Series(True, index=targets.index)
    control = targets["control"].astype(bool)
    arm = np.select([taking_part & control, taking_part & ~control], ["control", "contacted"], default="")
    people = targets.assign(arm=arm).loc[lambda t: t["arm"].ne("")].reset_index(drop=True)
    if "campaign_month" in people:
        windows = {m: evaluation_window(m) for m in people["campaign_month"].unique()}
        people = people.assign(start=people["campaign_month"].map(lambda m: windows[m][0]),
                               end=people["campaign_month"].map(lambda m: windows[m][1]))
    else:
        people = people.assign(start=start, end=end)
    pairs = (people[["customer_id", "start", "end"]].reset_index()
             .merge(orders[["customer_id", "order_date", "amount"]], on="customer_id"))
    pairs = pairs.loc[pairs["order_date"].gt(pairs["start"]) & pairs["order_date"].le(pairs["end"])]
    bought = pairs.groupby("index").agg(n=("amount", "size"), revenue=("amount", "sum"))
    people = (people[["group", "arm"]].join(bought).fillna({"n": 0, "revenue": 0.0})
              .assign(returned=lambda t: t["n"].gt(0)))
    present = set(people["group"].astype("str"))  # groups with anyone in either arm
    groups = [g for g in order if g in present] if order is not None else sorted(present)
    per_arm = (people.groupby(["group", "arm"]).agg(n=("returned", "size"), returned=("returned", "sum"),
                                                    mean=("revenue", "mean"), var=("revenue", "var"))
               .unstack("arm").reindex(groups))
    # columns n1, returned1, mean1, var1 (contacted) and n0, returned0, mean0, var0 (control), one row per group
    g = pd.DataFrame({f"{field}{suffix}": (per_arm[(field, name)] if (field, name) in per_arm
                                           else pd.Series(np.nan, index=per_arm.index))
                      for field in ("n", "returned", "mean", "var")
                      for suffix, name in (("1", "contacted"), ("0", "control"))}
                     ).fillna({"n1": 0, "n0": 0, "returned1": 0, "returned0": 0})
    z = stats.norm.ppf(0.5 + confidence / 2)
    rows = _arm_comparison(g, z, confidence)
    total = _total_comparison(g.loc[g["n1"].ge(2) & g["n0"].ge(2)], z, confidence)
    table = pd.concat([rows, total.rename(index={0: "total"})]).rename_axis("group").reset_index()
    return _outcomes(table, min_group)


def lists_to_judge(history: pd.DataFrame | None) -> pd.DataFrame | None:
    """The past lists the evaluation covers: those of the confirmed months (`campaign_history`), pooled; when
    none is confirmed, last month's list alone, so its numbers can be shown (`campaign_verdict` then draws no
    conclusion). None when there is no list."""
    if history is None:
        return None
    confirmed = history.loc[history["confirmed"]]
    return confirmed if len(confirmed) else history.loc[history["campaign_month"].eq(history["campaign_month"].max())]


VERDICT_EVIDENCE = ("contacted_n", "control_n", "contacted_rate", "control_rate", "rate_diff", "rate_diff_low",
                    "rate_diff_high", "p_value", "mde", "incremental_revenue", "incremental_revenue_low",
                    "incremental_revenue_high")
"""The total row's numbers every verdict carries (None when there is nothing to judge)."""


def campaign_verdict(evaluation: pd.DataFrame | None, history: pd.DataFrame | None) -> dict[str, object]:
    """What the report may conclude about the past lists, with its evidence (the summary's sentence).

    - No list last month (`history` None): outcome 'no_list'.
    - No confirmed sending among the pooled months: 'unconfirmed' — the list was prepared, but without a
      send record (`send_record`) the report draws no conclusion, whatever the numbers.
    - Otherwise the total row of `evaluation` (computed on the confirmed months only): its outcome
      ('lift', 'drop', 'unclear', 'mixed', 'too_small', 'no_control'), the return-rate difference with its
      interval and p-value, the smallest detectable difference, the incremental revenue with its interval,
      the months pooled, and the groups whose own (Holm-adjusted) result is a lift or a drop.
    Every verdict has the same keys: the `VERDICT_EVIDENCE` numbers are None when nothing was judged.
    - `sentence` picks the summary's wording: the outcome, or 'lift_revenue_unclear' for a lift in return rate
      whose incremental revenue interval still includes 0 (the amount is then stated as uncertain).
    """
    if history is None:
        return {"outcome": "no_list", "sentence": "no_list", "months": [], **dict.fromkeys(VERDICT_EVIDENCE),
                "significant_groups": []}
    confirmed = sorted(history.loc[history["confirmed"], "campaign_month"].unique())
    if not confirmed or evaluation is None:
        return {"outcome": "unconfirmed", "sentence": "unconfirmed", "months": confirmed,
                **dict.fromkeys(VERDICT_EVIDENCE), "significant_groups": []}
    total = evaluation.set_index("group").loc["total"]
    groups = evaluation.loc[evaluation["group"].ne("total")]
    outcome = str(total["outcome"])
    sentence = f"{outcome}_revenue_unclear" if outcome == "lift" and not total["revenue_conclusive"] else outcome
    return {"outcome": outcome, "sentence": sentence, "months": confirmed,
            **{key: float(total[key]) for key in VERDICT_EVIDENCE},
            "significant_groups": groups.loc[groups["conclusive"], "group"].astype("str").tolist()}


def evaluation_for_report(evaluation: pd.DataFrame | None, verdict: dict[str, object]) -> pd.DataFrame | None:
    """The evaluation table as the report shows it: when sending is unconfirmed every row's outcome is
    'unconfirmed' (the numbers stay, no row may read as a finding)."""
    if evaluation is None or verdict["outcome"] != "unconfirmed":
        return evaluation
    return evaluation.assign(outcome="unconfirmed", conclusive=False, revenue_conclusive=False)


def contact_calendar(targets: pd.DataFrame, month: str | pd.Period) -> pd.DataFrame:
    """Contacts per week (Monday to Sunday) for the month after the report month `month`, by channel.

    Counts the customers who will be contacted (not in the control, with a channel) by their contact_date.
    Rows: every week that overlaps the following month, extended to the weeks of any contact dated outside
    it, so no contact is left out. Columns: week (ISO 8601, e.g. 2026-W14), week_start, week_end, contacts,
    line, email, sms.
    """
    _require(targets, ("control", "channel", "contact_date"), "targets")
    period = month if isinstance(month, pd.Period) else parse_month(month)
    following = period + 1
    contacted = targets.loc[to_contact(targets)]
    if contacted["contact_date"].isna().any():
        raise ValueError("targets: column 'contact_date' is missing for customers to be contacted")
    days = pd.to_datetime(contacted["contact_date"]).dt.normalize()
    first = min(following.start_time, days.min()) if len(days) else following.start_time
    last = max(following.end_time.normalize(), days.max()) if len(days) else following.end_time.normalize()
    weeks = pd.date_range(first - pd.Timedelta(days=first.day_of_week), last, freq="7D")
    week_of = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    counts = (pd.crosstab(week_of, contacted["channel"]).reindex(index=weeks, columns=list(SENDING_CHANNELS),
                                                                 fill_value=0).astype("int64"))
    iso = weeks.isocalendar()
    return pd.DataFrame({
        "week": [f"{y}-W{w:02d}" for y, w in zip(iso["year"], iso["week"], strict=True)],
        "week_start": weeks, "week_end": weeks + pd.Timedelta(days=6),
        "contacts": counts.sum(axis=1).to_numpy(), **{c: counts[c].to_numpy() for c in counts.columns},
    })


def wilson_interval(successes: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion (Wilson 1927), without continuity correction; NaN when n = 0."""
    successes, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def newcombe_interval(x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray,
                      z: float) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for p1 − p0 (1998, method 10): with Wilson limits (l, u) of each rate,
    lower = d − √((p1 − l1)² + (u0 − p0)²), upper = d + √((u1 − p1)² + (p0 − l0)²)."""
    x1, n1, x0, n0 = (np.asarray(v, dtype=float) for v in (x1, n1, x0, n0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson_interval(x1, n1, z)
    l0, u0 = wilson_interval(x0, n0, z)
    d = p1 - p0
    return d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)


def _arm_comparison(g: pd.DataFrame, z: float, confidence: float) -> pd.DataFrame:
    """Per group row of `g` (n1, returned1, mean1, var1 and the same with 0 for control)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rate1, rate0 = g["returned1"] / g["n1"], g["returned0"] / g["n0"]
        low, high = newcombe_interval(g["returned1"], g["n1"], g["returned0"], g["n0"], z)
        a, b = g["var1"] / g["n1"], g["var0"] / g["n0"]
        df = (a + b) ** 2 / (a ** 2 / (g["n1"] - 1) + b ** 2 / (g["n0"] - 1))
    return _assemble(g, rate1, rate0, low, high, g["mean1"], g["mean0"], np.sqrt(a + b), df, confidence)


def _total_comparison(g: pd.DataFrame, z: float, confidence: float) -> pd.DataFrame:
    """One row: contacted-weighted (standardised) comparison over the groups in `g`; NaN when `g` is empty."""
    counts = pd.DataFrame({c: [g[c].sum()] for c in ("n1", "n0", "returned1", "returned0")})
    if g.empty:
        nan = pd.Series([np.nan])
        return _assemble(counts, nan, nan, nan, nan, nan, nan, nan, nan, confidence)
    w = g["n1"] / g["n1"].sum()
    rate1_g, rate0_g = g["returned1"] / g["n1"], g["returned0"] / g["n0"]
    rate1, rate0 = (w * rate1_g).sum(), (w * rate0_g).sum()
    rate_se = np.sqrt((w ** 2 * (rate1_g * (1 - rate1_g) / g["n1"] + rate0_g * (1 - rate0_g) / g["n0"])).sum())
    a, b = w ** 2 * g["var1"] / g["n1"], w ** 2 * g["var0"] / g["n0"]
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (a + b).sum() ** 2 / (a ** 2 / (g["n1"] - 1) + b ** 2 / (g["n0"] - 1)).sum()
    diff = rate1 - rate0
    rate1, rate0, low, high, mean1, mean0, se, df = (pd.Series([v]) for v in (
        rate1, rate0, diff - z * rate_se, diff + z * rate_se, (w * g["mean1"]).sum(), (w * g["mean0"]).sum(),
        np.sqrt((a + b).sum()), df))
    return _assemble(counts, rate1, rate0, low, high, mean1, mean0, se, df, confidence, rate_se=[rate_se])


def _assemble(g, rate1, rate0, low, high, mean1, mean0, se, df, confidence, rate_se=None) -> pd.DataFrame:
    n1, n0 = g["n1"].to_numpy(dtype=float), g["n0"].to_numpy(dtype=float)
    x1, x0 = g["returned1"].to_numpy(dtype=float), g["returned0"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = stats.t.ppf(0.5 + confidence / 2, np.asarray(df, dtype=float))
        pooled = (x1 + x0) / (n1 + n0)
        spread = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        test_se = spread if rate_se is None else np.asarray(rate_se, dtype=float)
        diff = np.asarray(rate1, dtype=float) - np.asarray(rate0, dtype=float)
        p_value = np.where(test_se > 0, 2 * stats.norm.sf(np.abs(diff) / test_se), np.where(diff == 0, 1.0, 0.0))
        mde = (stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(POWER)) * spread
        mde = np.where(np.isfinite(mde), mde, np.nan)  # an empty arm detects nothing
    revenue_diff = np.asarray(mean1, dtype=float) - np.asarray(mean0, dtype=float)
    half = t * np.asarray(se, dtype=float)
    return pd.DataFrame({
        "contacted_n": g["n1"].to_numpy(dtype="int64"), "control_n": g["n0"].to_numpy(dtype="int64"),
        "contacted_returned": g["returned1"].to_numpy(dtype="int64"),
        "control_returned": g["returned0"].to_numpy(dtype="int64"),
        "contacted_rate": np.asarray(rate1, dtype=float), "control_rate": np.asarray(rate0, dtype=float),
        "rate_diff": diff,
        "rate_diff_low": np.asarray(low, dtype=float), "rate_diff_high": np.asarray(high, dtype=float),
        "p_value": np.where(np.isnan(diff), np.nan, p_value), "mde": mde,
        "contacted_revenue_per_customer": np.asarray(mean1, dtype=float),
        "control_revenue_per_customer": np.asarray(mean0, dtype=float),
        "revenue_diff": revenue_diff, "revenue_diff_se": np.asarray(se, dtype=float),
        "revenue_diff_low": revenue_diff - half, "revenue_diff_high": revenue_diff + half,
        "incremental_revenue": revenue_diff * n1, "incremental_revenue_low": (revenue_diff - half) * n1,
        "incremental_revenue_high": (revenue_diff + half) * n1,
    }, index=g.index)


def _outcomes(table: pd.DataFrame, min_group: int) -> pd.DataFrame:
    measured = table["control_n"].gt(0) & table["control_n"].ge(min_group) & table["contacted_n"].ge(min_group)
    is_total = table["group"].eq("total")
    adjusted = pd.Series(np.nan, index=table.index)
    tested = measured & ~is_total
    adjusted[tested] = holm(table.loc[tested, "p_value"].to_numpy())
    adjusted[is_total] = table.loc[is_total, "p_value"]  # the primary measure: not adjusted
    significant = np.where(is_total, table["rate_diff_low"].gt(0) | table["rate_diff_high"].lt(0),
                           adjusted.lt(ALPHA))
    revenue_up, revenue_down = table["revenue_diff_low"].gt(0), table["revenue_diff_high"].lt(0)
    up, down = significant & table["rate_diff"].gt(0), significant & table["rate_diff"].lt(0)
    outcome = np.select(
        [table["control_n"].eq(0), ~measured, (up & revenue_down) | (down & revenue_up), up, down],
        ["no_control", "too_small", "mixed", "lift", "drop"], default="unclear")
    return table.assign(p_adjusted=adjusted, outcome=outcome, conclusive=np.isin(outcome, ["lift", "drop"]),
                        revenue_conclusive=measured.to_numpy() & (revenue_up | revenue_down).to_numpy())


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979): sort ascending, p₍ᵢ₎ × (m − i + 1) for i = 1…m, made
    non-decreasing and capped at 1, returned in the input order. Comparing them with α controls the
    chance of any false "lift" or "drop" among the m groups at α."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return adjusted


def _optional_number(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[column], errors="raise").astype("float64")


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}")
