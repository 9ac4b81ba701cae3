"""Which column of a client's export holds which canonical field: named presets, synonyms, suggestions.

- `shopify`: Shopify's admin orders export (`orders_export_1.csv`). One row per line item; order-level fields
  (Financial Status, Subtotal, Currency …) only on each order's first row; no customer id (customers are
  keyed by e-mail or phone); `Created at` with a UTC offset; the line amount is derived (see
  `shopify_amounts`), net of `Refunded Amount` (see `shopify_refunds`).
- `shopline`, `91app`, `cyberbiz`, `shopee`, `woocommerce`: the order exports of those platforms; each
  dictionary's docstring says where its column names come from and what is guessed.
- `generic-zh`: a synonym dictionary of the column names Taiwanese shop systems and spreadsheets use
  (訂單編號 / 訂單號碼, 訂單日期 / 訂購日期, 會員編號, 商品小計 / 訂單金額 / 應收款 …).
- `generic-en`: the same for English exports (Order ID, Order Date, Customer ID, Line Total …).
- `auto` (the default): the one platform whose signature columns are all in the file (`choose_preset`),
  else the canonical field names plus both generic dictionaries.

Names are compared normalised (`normalise_header`): `Order ID`, `order_id` and `ORDER-ID` are one name, as
are full- and half-width forms. An explicit `source.columns` entry always wins over a preset's match.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from crm_report.config import AUXILIARY_FIELDS, CANONICAL_FIELDS

INTERNAL_FIELDS = ("subtotal", "cancelled_at", "line_discount", "refunded_amount")
"""Shopify columns read only to derive canonical fields (the amount, the cancelled or refunded status)."""

ORDER_LEVEL_FIELDS = ("customer_id", "order_date", "status", "channel", "store", "customer_name", "email",
                      "phone", "line_user_id", "email_consent", "sms_consent", "line_consent", "currency",
                      "subtotal", "cancelled_at", "cancels_order_id", "refunded_amount")
"""Fields an export may give only on an order's first line (Shopify; merged cells in Excel): a blank cell
takes the value of another line of the same order in the same file."""

IDENTITY_FIELDS = ("customer_id", "email", "phone")
"""At least one of these must be found: a row is matched to a customer by id, else e-mail, else mobile."""


def normalise_header(name: object) -> str:
    """`Order ID`, `order_id`, `ＯＲＤＥＲ－ＩＤ`, ` 訂單編號 ` → 'orderid', '訂單編號': compared this way."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return "".join(ch for ch in text if ch.isalnum())


@dataclass(frozen=True)
class Preset:
    """Column names per field, best first; the headers that identify the export; and whether its line
    amount is derived from Shopify's line price, quantity and order subtotal."""

    name: str
    synonyms: Mapping[str, tuple[str, ...]]
    signature: tuple[str | tuple[str, ...], ...] = ()
    """Columns that identify the export for `auto`: every entry must be there (a tuple: one of its names)."""
    coalesce: tuple[str, ...] = ()
    """Fields that take the first non-empty of all their matching columns (Shopify's three phone columns)."""
    shopify_amounts: bool = False
    product_list: bool = False
    """One row per order, its products listed in the product_name cell (`2× A, 1× B`): `split_products`."""
    platform: str = ""
    """The platform's name as people write it (SHOPLINE, 91APP …); empty for the generic dictionaries."""


GENERIC_ZH = {
    "order_id": ("訂單編號", "訂單號碼", "訂單號", "訂單ID", "訂單代號", "訂單序號", "單號", "交易序號", "交易編號"),
    "customer_id": ("會員編號", "顧客編號", "客戶編號", "會員ID", "會員代號", "顧客ID", "客戶ID", "客戶代號",
                    "會員帳號",
                    "買家帳號", "顧客代號", "會員卡號"),
    "order_date": ("訂單日期", "訂購日期", "下單日期", "下單時間", "訂單時間", "訂購時間", "交易日期", "交易時間",
                   "訂單成立時間",
                   "成立時間", "建立時間", "日期"),
    "amount": ("商品小計", "明細小計", "小計", "商品總價小計", "售價小計", "實付金額", "折扣後總計", "訂單金額",
               "應收款",
               "應收金額", "訂單總額", "總金額", "銷售金額", "商品金額", "金額"),
    "product_id": ("商品編號", "商品貨號", "產品編號", "商品代號", "商品代碼", "貨號", "料號", "品號"),
    "product_name": ("商品名稱", "品名", "產品名稱", "商品", "品項", "貨品", "貨品名稱", "產品"),
    "category": ("商品分類", "分類", "類別", "商品類別", "產品類別"),
    "quantity": ("數量", "購買數量", "總數量", "件數"),
    "unit_price": ("單價", "商品單價", "售價", "價格", "商品價格"),
    "channel": ("銷售通路", "通路", "訂單來源", "銷售管道", "購買通路", "來源"),
    "status": ("訂單狀態", "狀態", "交易狀態", "付款狀態"),
    "store": ("門市", "門市名稱", "店別", "分店", "店鋪"),
    "customer_name": ("顧客姓名", "會員姓名", "訂購人姓名", "訂購人", "姓名", "買方名稱", "客戶名稱", "顧客名稱"),
    "email": ("電子郵件", "電子信箱", "Email", "E-mail", "訂購人信箱", "買方Email", "會員信箱", "信箱", "電郵"),
    "phone": ("手機", "手機號碼", "行動電話", "訂購人電話", "會員手機", "聯絡電話", "電話", "電話/手機"),
    "line_user_id": ("LINE ID", "LINE UID", "LINE帳號", "LINE 帳號"),
    "email_consent": ("同意接收電子報", "訂閱電子報", "電子報"),
    "sms_consent": ("同意接收簡訊", "簡訊行銷"),
    "line_consent": ("LINE好友", "LINE 好友"),
    "currency": ("幣別", "幣值", "貨幣"),
    "cancels_order_id": ("原訂單編號", "原訂單號碼", "原始訂單編號", "原始訂單號碼", "原單號", "對應訂單編號"),
}

GENERIC_EN = {
    "order_id": ("Order ID", "Order Number", "Order No", "Order No.", "Order", "Invoice ID", "Invoice Number",
                 "Invoice No", "Invoice", "Transaction ID"),
    "customer_id": ("Customer ID", "Customer Number", "Customer No", "Member ID", "Member Number", "Client ID",
                    "User ID", "Buyer ID", "Account ID"),
    "order_date": ("Order Date", "Order Time", "Order Datetime", "Created At", "Created", "Purchase Date",
                   "Transaction Date", "Invoice Date", "Placed At", "Date"),
    "amount": ("Line Total", "Line Amount", "Line Subtotal", "Net Amount", "Net Sales", "Amount", "Sales",
               "Revenue", "Subtotal", "Order Total", "Total"),
    "product_id": ("SKU", "Product ID", "Product Code", "Item ID", "Item Code", "Variant SKU", "Stock Code"),
    "product_name": ("Product Name", "Product", "Item Name", "Item", "Product Title", "Description"),
    "category": ("Category", "Product Category", "Product Type"),
    "quantity": ("Quantity", "Qty", "Units"),
    "unit_price": ("Unit Price", "Price", "Item Price"),
    "channel": ("Channel", "Sales Channel", "Order Source", "Source", "Platform"),
    "status": ("Order Status", "Status", "Financial Status", "Payment Status"),
    "store": ("Store", "Shop", "Location", "Branch"),
    "customer_name": ("Customer Name", "Buyer Name", "Full Name", "Billing Name"),
    "email": ("Email", "E-mail", "Email Address", "Customer Email"),
    "phone": ("Phone", "Mobile", "Phone Number", "Mobile Phone", "Cell Phone", "Telephone", "Billing Phone"),
    "line_user_id": ("LINE ID", "LINE User ID", "LINE UID"),
    "email_consent": ("Accepts Marketing", "Email Consent", "Email Opt In", "Newsletter"),
    "sms_consent": ("SMS Consent", "Accepts SMS Marketing", "SMS Opt In"),
    "line_consent": ("LINE Consent",),
    "currency": ("Currency", "Currency Code"),
    "cancels_order_id": ("Original Order ID", "Original Order Number", "Original Order", "Original Invoice",
                         "Original Invoice No", "Cancels Order", "Credit Note For", "Reference Order ID"),
}

SHOPLINE = {
    "order_id": ("訂單號碼",),
    "order_date": ("訂單日期",),
    "customer_id": ("顧客 ID",),
    "customer_name": ("顧客",),
    "email": ("電郵",),
    "phone": ("電話號碼",),
    "product_id": ("商品貨號",),
    "product_name": ("商品名稱",),
    "quantity": ("數量",),
    "unit_price": ("商品結帳價",),
    "status": ("訂單狀態",),
    "channel": ("訂單來源",),
    "currency": ("貨幣",),
    "refunded_amount": ("已退款金額",),
}
"""SHOPLINE admin, 訂單 → 更多動作 → 匯出訂單報表 (support.shoplineapp.com/hc/zh-tw/articles/115001459203). The
merchant ticks the columns; the names are those of the report's field list (訂單號碼, 訂單日期, 訂單狀態, 貨幣,
已退款金額, 訂單小計, 訂單合計, 商品貨號, 商品名稱, 選項, 商品原價, 商品結帳價, 數量, 顧客 ID, 顧客, 電郵, 電話號碼 …)
as two public tools that read real reports use them (SHOPLINE order-report exporters on GitHub). One row per
product; the order's money columns only on its first row (as those tools treat them). `商品結帳價` is a unit
price: the line amount is 商品結帳價 × 數量, before order-level discounts (優惠折扣, 折抵購物金) and shipping, which
the report gives only per order. `已退款金額` (per order) is taken off the order's lines in proportion, as
Shopify's `Refunded Amount` (`shopify_refunds`). Guessed: that 電話號碼 is the buyer's (收件人電話號碼 is the
recipient's and is not read)."""

APP91 = {
    "order_id": ("購物車編號", "主單編號"),
    "order_date": ("轉單日期時間", "訂單日期"),
    "customer_id": ("會員編號",),
    "customer_name": ("購買人",),
    "product_id": ("商品料號",),
    "product_name": ("商品名稱",),
    "quantity": ("數量",),
    "unit_price": ("商品單價",),
    "amount": ("銷售金額(折扣後)",),
    "status": ("訂單狀態",),
    "channel": ("訂單來源",),
}
"""91APP OSM, 訂單 → 所有訂單查詢 → 批次匯出. The names are those of a merchant's table that holds the export as
it comes (購物車編號, 主單編號, 訂單編號, 轉單日期時間, 商品名稱, 商品選項, 商品料號, 數量, 商品單價, 銷售金額(折扣後),
訂單狀態, 會員編號, 購買人, 取消原因 …; published on GitHub), and 91APP's Admin Order API describes the same
fields. One row per 訂單編號 (TS, one product) inside a 主單 (TM, one shipment) inside a 購物車 (TG, one
checkout): a purchase is the checkout, so order_id is 購物車編號 (主單編號 when the export has no 購物車編號).
`銷售金額(折扣後)` is the line's amount after its discounts. A cancelled line says 已取消 in 訂單狀態; returns
live in 91APP's separate 退貨單 report, not here. Guessed: 轉單日期時間 as the order time (the export has no
other order date) and the status words beyond 已取消 / 已完成."""

CYBERBIZ = {
    "order_id": ("訂單編號",),
    "order_date": ("成立日期", "訂單成立日期"),
    "customer_id": ("會員",),
    "product_name": ("商品詳情",),
    "amount": ("訂單總額",),
    "status": ("訂單狀態",),
    "channel": ("來源", "商品通路"),
}
"""CYBERBIZ admin, 訂單 → 所有訂單. The names are the order list's own fields as CYBERBIZ's help centre lists
them (新版訂單列表, cyberbiz.io/helpcenter/?p=10999: 會員, 商品詳情, 成立日期, 付款狀態, 配送狀態, 退貨狀態, 訂單狀態,
訂單總額, 來源, 商品通路 …); order statuses 進行中, 已結案, 已取消. One row per order: its products are listed in
`商品詳情` and split into lines (`split_products`), sharing 訂單總額 by quantity. Guessed: that the exported file
uses the list's names, the 商品詳情 cell's layout (`name x 2` per line), and that 會員 identifies the member;
map `source.columns` if the client's file says otherwise (`--check-data` shows what was found)."""

SHOPEE = {
    "order_id": ("訂單編號",),
    "order_date": ("訂單成立日期", "訂單成立時間"),
    "customer_id": ("買家帳號", "買家帳號 (單)"),
    "product_id": ("商品選項貨號", "商品選項貨號 (品)", "主商品貨號", "主商品貨號 (品)"),
    "product_name": ("商品名稱", "商品名稱 (品)"),
    "quantity": ("數量",),
    "unit_price": ("商品活動價格", "商品活動價格 (品)", "商品原價", "商品原價 (品)"),
    "status": ("訂單狀態", "訂單狀態 (單)"),
}
"""Shopee seller centre (蝦皮賣家中心), 訂單 → 我的銷售 → 匯出. The 57 columns of the order export as Shopee's
field table (seller.shopee.tw/edu/article/11911) and public parsers of real files give them: 訂單編號, 訂單狀態,
不成立原因, 退貨 / 退款狀態, 買家帳號, 訂單成立日期, 商品總價, …, 買家總支付金額, …, 商品名稱, 商品選項名稱, 商品原價,
商品活動價格, 主商品貨號, 商品選項貨號, 數量, 退貨數量, …; older exports add (單) or (品) to some names
(`買家帳號 (單)`,
`商品活動價格 (品)`), which are listed too. One row per product; order-level money (商品總價, 買家總支付金額) repeats
on every row and is not read. The line amount is the unit price × 數量: 商品活動價格, else 商品原價 (the first
non-empty). Cancelled orders say 不成立. Customers are buyers' Shopee accounts (the export holds no buyer
e-mail; 收件者電話 is the recipient's and is not read). Not handled: 退貨數量 (a partial return) and sellers'
vouchers (per order)."""

WOOCOMMERCE = {
    "order_id": ("Order #",),
    "order_date": ("Date",),
    "customer_id": ("Customer",),
    "status": ("Status",),
    "product_name": ("Product(s)",),
    "amount": ("Net sales",),
    "channel": ("Origin",),
}
"""WooCommerce admin, Analytics → Orders → Download (WooCommerce has no other order export of its own). The
columns are those of WooCommerce's Orders report table (woocommerce/client/admin/client/analytics/report/
orders/table.js): Date, Order #, Status, Customer, Customer type, Product(s), Items sold, Coupon(s), Net sales,
Origin. One row per order; Product(s) lists `2× Name, 1× Other` and is split into lines
(`split_products`), sharing Net sales (after discounts, without shipping and taxes) by quantity. Status is the
status slug (completed, processing, on-hold, cancelled, refunded, failed). The report names its customer only
by first and last name: customers are keyed by that name, so two customers with one name are one (an export
with billing e-mails, mapped with `source.columns`, avoids this)."""

SHOPIFY = {
    "order_id": ("Name",),
    "order_date": ("Created at",),
    "email": ("Email",),
    "phone": ("Phone", "Billing Phone", "Shipping Phone"),
    "customer_name": ("Billing Name", "Shipping Name"),
    "product_id": ("Lineitem sku",),
    "product_name": ("Lineitem name",),
    "quantity": ("Lineitem quantity",),
    "unit_price": ("Lineitem price",),
    "status": ("Financial Status",),
    "channel": ("Source",),
    "store": ("Location",),
    "email_consent": ("Accepts Marketing",),
    "currency": ("Currency",),
    "subtotal": ("Subtotal",),
    "cancelled_at": ("Cancelled at",),
    "line_discount": ("Lineitem discount",),
    "refunded_amount": ("Refunded Amount",),
}


def _merged(*dictionaries: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    fields = dict.fromkeys(key for d in dictionaries for key in d)
    return {f: tuple(dict.fromkeys(name for d in dictionaries for name in d.get(f, ()))) for f in fields}


_CANONICAL_NAMES = {f: (f,) for f in (*CANONICAL_FIELDS, *AUXILIARY_FIELDS)}
PRESETS = {
    "shopify": Preset("shopify", SHOPIFY, signature=("Name", "Created at", "Lineitem name", "Financial Status"),
                      coalesce=("phone", "customer_name"), shopify_amounts=True, platform="Shopify"),
    "shopline": Preset("shopline", SHOPLINE, signature=("訂單號碼", "訂單日期", "商品結帳價"), platform="SHOPLINE"),
    "91app": Preset("91app", APP91, signature=("購物車編號", "主單編號", "訂單編號"), platform="91APP"),
    "cyberbiz": Preset("cyberbiz", CYBERBIZ, signature=("訂單編號", "成立日期", "商品詳情"), product_list=True,
                       platform="CYBERBIZ"),
    "shopee": Preset("shopee", SHOPEE, signature=("訂單編號", "訂單成立日期", ("商品選項貨號", "商品選項貨號 (品)")),
                     coalesce=("unit_price",), platform="Shopee"),
    "woocommerce": Preset("woocommerce", WOOCOMMERCE, signature=("Order #", "Product(s)", "Net sales"),
                          product_list=True, platform="WooCommerce"),
    "generic-zh": Preset("generic-zh", _merged(_CANONICAL_NAMES, GENERIC_ZH)),
    "generic-en": Preset("generic-en", _merged(_CANONICAL_NAMES, GENERIC_EN)),
    "generic": Preset("generic", _merged(_CANONICAL_NAMES, GENERIC_ZH, GENERIC_EN)),
}
FIELD_ORDER = ("order_id", "order_date", "customer_id", "amount", "quantity", "unit_price", "product_id",
               "product_name", "category", "status", "channel", "store", "email", "phone", "customer_name",
               "line_user_id", "email_consent", "sms_consent", "line_consent", "currency", "cancels_order_id",
               *INTERNAL_FIELDS)
"""The order fields claim columns in: the most specific first, so `Date` goes to order_date before anything."""


@dataclass(frozen=True)
class Match:
    """One field's column(s) and how they were found: 'client.yaml', 'shopify', 'synonym', 'same name',
    or 'quantity × unit_price' for an amount computed from two columns."""

    field: str
    columns: tuple[str, ...]
    how: str


@dataclass(frozen=True)
class Matching:
    """The result of matching a file's header: what was found, what is missing, what is left over."""

    preset: str
    matches: dict[str, Match]
    columns: tuple[str, ...]
    missing: tuple[str, ...] = ()
    """Required fields without a column (order_id, order_date, amount, and one of the identity fields)."""
    absent: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """client.yaml columns that are not in the file, by field."""
    shopify_amounts: bool = False
    amount_rivals: tuple[str, ...] = ()
    """Other columns that could be the amount (another amount name, or the same name twice) when the preset
    chose one: `--check-data` says so, since an order total taken for a line amount counts orders twice."""
    product_list: bool = False
    """The product_name cell lists the order's products (`split_products` makes them lines)."""
    chosen_by: str = "client.yaml"
    """How the preset was chosen: 'client.yaml', 'detected', 'ambiguous' or 'no platform' (`choose_preset`)."""
    candidates: tuple[str, ...] = ()
    """The platform presets whose signature columns the file has."""
    unlisted: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """client.yaml columns of a list that this file does not have while it has another of the list (a column
    renamed between exports): by field. The loader stops only when no file of the source has a name."""

    @property
    def used(self) -> tuple[str, ...]:
        """The file's columns that are read, in file order."""
        taken = {c for m in self.matches.values() for c in m.columns}
        return tuple(c for c in self.columns if c in taken)

    @property
    def unmatched(self) -> tuple[str, ...]:
        """The file's columns no field uses."""
        taken = set(self.used)
        return tuple(c for c in self.columns if c not in taken)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.absent


def detect_presets(columns: Sequence[str]) -> tuple[str, ...]:
    """The platform presets whose signature columns are all in `columns` (normalised names)."""
    present = {normalise_header(c) for c in columns}
    found = []
    for name, preset in PRESETS.items():
        entries = [(e,) if isinstance(e, str) else e for e in preset.signature]
        if entries and all(any(normalise_header(n) in present for n in entry) for entry in entries):
            found.append(name)
    return tuple(found)


def choose_preset(columns: Sequence[str], preset: str) -> tuple[Preset, str, tuple[str, ...]]:
    """The preset for a file, how it was chosen and the platforms whose signature the file has.

    A named preset is used as named ('client.yaml'). For 'auto': the one platform whose signature columns
    are all there ('detected'); 'generic' when none is ('no platform') or when several are ('ambiguous':
    the file's columns fit more than one platform's export, and guessing between them could read one
    platform's order total as another's line amount; `source.preset` settles it)."""
    if preset != "auto":
        return PRESETS[preset], "client.yaml", ()
    found = detect_presets(columns)
    if len(found) == 1:
        return PRESETS[found[0]], "detected", found
    return PRESETS["generic"], "ambiguous" if found else "no platform", found


def match_columns(columns: Sequence[str], preset: str = "auto",
                  explicit: Mapping[str, str | list[str] | None] | None = None) -> Matching:
    """Match a file's column names to canonical fields: `explicit` (client.yaml) first, then the preset.

    A field mapped to None in `explicit` is left out even if the preset would find it. A list in `explicit`
    takes the first non-empty of those of its columns the file has (a folder whose exports renamed a column
    lists both names); the field is `absent` only when the file has none of them. Each column serves one
    field, except where client.yaml says otherwise.
    """
    explicit = dict(explicit or {})
    chosen, chosen_how, candidates = choose_preset(columns, preset)
    by_name: dict[str, str] = {}
    for column in columns:
        by_name.setdefault(normalise_header(column), column)
    matches: dict[str, Match] = {}
    absent: dict[str, tuple[str, ...]] = {}
    unlisted: dict[str, tuple[str, ...]] = {}
    for name, wanted in explicit.items():
        if wanted is None:
            continue
        names = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        found = tuple(by_name.get(normalise_header(w)) for w in names)
        if all(f is None for f in found):
            absent[name] = names
            continue
        if None in found:
            unlisted[name] = tuple(w for w, f in zip(names, found, strict=True) if f is None)
        matches[name] = Match(name, tuple(f for f in found if f is not None), "client.yaml")
    taken = {c for m in matches.values() for c in m.columns}
    how = chosen.name if chosen.platform else "synonym"
    for name in sorted(chosen.synonyms, key=lambda f: FIELD_ORDER.index(f) if f in FIELD_ORDER else 99):
        if name in explicit:
            continue
        hits = [by_name[n] for n in map(normalise_header, chosen.synonyms[name])
                if n in by_name and by_name[n] not in taken]
        if not hits:
            continue
        hits = list(dict.fromkeys(hits)) if name in chosen.coalesce else hits[:1]
        kind = "same name" if normalise_header(hits[0]) == normalise_header(name) else how
        matches[name] = Match(name, tuple(hits), kind)
        taken.update(hits)
    if "amount" not in matches and not chosen.shopify_amounts and {"quantity", "unit_price"} <= set(matches):
        matches["amount"] = Match("amount", (), "quantity × unit_price")
    shopify_amounts = chosen.shopify_amounts and "amount" not in matches
    if shopify_amounts:
        matches["amount"] = Match("amount", (), "Shopify: line price × quantity, to the order's subtotal")
    missing = [f for f in ("order_id", "order_date") if f not in matches]
    if "amount" not in matches:
        missing.append("amount")
    if not any(f in matches for f in IDENTITY_FIELDS):
        missing.append("customer_id")
    return Matching(chosen.name, matches, tuple(columns), tuple(missing), absent, shopify_amounts,
                    _rivals(matches.get("amount"), matches, columns, chosen), chosen.product_list, chosen_how,
                    candidates, unlisted)


def _rivals(match: Match | None, matches: dict[str, Match], columns: Sequence[str], chosen: Preset) -> tuple[str, ...]:
    """Columns no other field took that are named like the amount too (or repeat its name: `amount.1`)."""
    if match is None or not match.columns or match.how == "client.yaml":
        return ()
    names = {normalise_header(n) for n in (*chosen.synonyms.get("amount", ()), "amount")}
    taken = {c for m in matches.values() for c in m.columns}
    repeat = re.compile(re.escape(match.columns[0]) + r"\.[0-9]+")
    return tuple(c for c in columns if c not in taken and (normalise_header(c) in names or repeat.fullmatch(c)))


_ITEM_SPLIT = r"\s*(?:\r?\n|；|;)\s*|,\s*(?=[0-9]+\s*[×xX✕]\s*\S)"
_LEADING_COUNT = r"^(?P<n>[0-9]+)\s*[×xX✕]\s*(?P<name>.+)$"
_TRAILING_COUNT = r"^(?P<name>.+?)\s*[×xX✕*＊]\s*(?P<n>[0-9]+)$"


def split_products(names: pd.Series) -> pd.DataFrame:
    """The products an order's one cell lists, one row each: `product_name` and `quantity`, indexed by the
    cell's own index (repeated once per product).

    Products are separated by line breaks or semicolons, or by a comma before a count (`2× A, 1× B`, as
    WooCommerce writes them, so `T-shirt, blue` stays one name). A product's count is written before its
    name (`2× A`, `2 x A`) or after it (`A x 2`, `A × 2`, `A*2`); without one it is 1. A blank cell gives one
    row with no product and no quantity."""
    parts = names.astype("str").where(names.notna()).str.split(_ITEM_SPLIT, regex=True).explode()
    parts = parts.str.strip().replace("", pd.NA)
    keep = parts.notna() | ~parts.notna().groupby(level=0).transform("any")
    parts = parts[keep]
    lead = parts.str.extract(_LEADING_COUNT)
    trail = parts.str.extract(_TRAILING_COUNT)
    name = lead["name"].fillna(trail["name"]).fillna(parts)
    count = pd.to_numeric(lead["n"].fillna(trail["n"]), errors="coerce").fillna(1.0)
    return pd.DataFrame({"product_name": name.astype("str").where(parts.notna()),
                         "quantity": count.where(parts.notna())}, index=parts.index)


def shopify_amounts(unit_price: pd.Series, quantity: pd.Series, subtotal: pd.Series, line_discount: pd.Series,
                    order: pd.Series) -> pd.Series:
    """Net line amounts for a Shopify export, so that an order's lines add up to its `Subtotal`.

    Shopify's `Subtotal` is the order's line items after discounts, before shipping and taxes. Each line
    gets its share of it in proportion to `Lineitem price` × `Lineitem quantity`. Without a subtotal (not
    on any row of the order) a line is worth price × quantity − `Lineitem discount`. `order` groups the lines
    (file and order name); `subtotal` must already be filled in on every line of its order.
    """
    gross = unit_price * quantity.fillna(1)
    order_gross = gross.groupby(order, observed=True, sort=False).transform("sum")
    share = (gross / order_gross.where(order_gross.ne(0))).fillna(0)
    scaled = subtotal * share
    return scaled.where(subtotal.notna() & order_gross.ne(0), gross - line_discount.fillna(0))


def shopify_refunds(amount: pd.Series, refunded: pd.Series, order: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Line amounts net of Shopify's `Refunded Amount`, and the lines of orders refunded in full.

    Shopify gives the money refunded on an order (`partially_refunded` orders; on the order's first row, so
    `refunded` must already be filled in on every line of its order) but not which lines it was for: it is
    taken off the order's lines in proportion to their amounts. The export gives no refund date, so the
    order counts net from its own date, as a `refunded` status does. An order refunded its whole amount or
    more (the refund may include shipping and taxes, which the line amounts leave out) is marked in the
    second series: the loader makes it refunded, not a purchase of zero. `order` groups the lines."""
    total = amount.groupby(order, observed=True, sort=False).transform("sum")
    share = (refunded.fillna(0) / total.where(total.gt(0))).fillna(0)
    partial = share.gt(0) & share.lt(1)
    return amount.mask(partial, amount * (1 - share)), share.ge(1)


@dataclass(frozen=True)
class Suggestion:
    """A column that may hold a field no column was matched to, and why: `basis` is 'name' (the column's
    name is like `like`, one of the field's synonyms) or 'values' (its values look like the field's)."""

    column: str
    field: str
    basis: str
    like: str = ""


def suggest_mappings(matching: Matching, sample: pd.DataFrame, region: str = "TW") -> list[Suggestion]:
    """Suggested `source.columns` entries: for fields without a column, among the file's unmatched columns.

    A column is suggested for a field when its name resembles one of the field's known names (difflib
    ratio ≥ 0.75, or one name contains the other and the shorter has at least two CJK characters or four
    letters), or when at least 80% of its sample values look like the field's: e-mail addresses, Taiwanese
    mobile numbers (`identity.normalise_mobiles`, numbers without a country code read in `region`), or dates
    (order_date). Each field and each column is suggested at most once, strongest first;
    unnamed columns never.
    """
    from crm_report.data import identity, values  # the value checks; imported here to keep presets light

    known = PRESETS["generic"].synonyms
    open_fields = [f for f in FIELD_ORDER if f in known and f not in matching.matches]
    candidates: list[tuple[float, Suggestion]] = []
    for column in matching.unmatched:
        name = normalise_header(column)
        if not name or str(column).startswith("Unnamed: "):
            continue
        for f in open_fields:
            for synonym in known[f]:
                wanted = normalise_header(synonym)
                score = difflib.SequenceMatcher(None, name, wanted).ratio()
                if _long_enough(wanted) and wanted in name:
                    score = max(score, 0.85)
                elif _long_enough(name) and name in wanted:
                    score = max(score, 0.8)
                if score >= 0.75:
                    candidates.append((score, Suggestion(column, f, "name", synonym)))
        cells = values.clean_text(sample[column]).dropna() if column in sample else pd.Series(dtype="str")
        if len(cells):
            numeric = cells.str.fullmatch(r"-?[0-9.,]+").mean() > 0.5
            checks = (("email", identity.normalise_emails(cells).notna().mean()),
                      ("phone", identity.normalise_mobiles(cells, region).notna().mean()),
                      ("order_date", 0.0 if numeric else 1 - values.read_dates(cells, "UTC")[1].mean()))
            candidates += [(share, Suggestion(column, f, "values")) for f, share in checks
                           if f in open_fields and share >= 0.8]
    out: list[Suggestion] = []
    for _, suggestion in sorted(candidates, key=lambda c: -c[0]):
        if all(s.field != suggestion.field and s.column != suggestion.column for s in out):
            out.append(suggestion)
    return out


def _long_enough(name: str) -> bool:
    return len(name) >= (4 if name.isascii() else 2)
