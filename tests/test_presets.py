"""Column names → fields: presets, client.yaml overrides, required fields, suggestions."""
import pandas as pd
import pytest

from crm_report.data import presets

SHOPIFY_2022 = ("Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,"
                "Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,"
                "Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,"
                "Billing Name,Billing Phone,Shipping Phone,Cancelled at,Refunded Amount,Id,Source,"
                "Lineitem discount,Phone").split(",")


def test_shopify_is_recognised_and_mapped():
    matching = presets.match_columns(SHOPIFY_2022)
    assert matching.preset == "shopify" and matching.ok and matching.shopify_amounts
    fields = {f: m.columns for f, m in matching.matches.items()}
    assert fields["order_id"] == ("Name",) and fields["order_date"] == ("Created at",)
    assert fields["phone"] == ("Phone", "Billing Phone", "Shipping Phone")  # first non-empty
    assert "customer_id" not in fields and fields["email"] == ("Email",)


def test_chinese_synonyms_line_amount_first():
    matching = presets.match_columns(["訂單號碼", "訂購日期", "顧客編號", "品名", "應收款", "商品小計", "訂單狀態"])
    fields = {f: m.columns[0] for f, m in matching.matches.items()}
    assert fields == {"order_id": "訂單號碼", "order_date": "訂購日期", "customer_id": "顧客編號",
                      "product_name": "品名", "amount": "商品小計", "status": "訂單狀態"}


def test_names_compare_normalised_and_client_yaml_wins():
    matching = presets.match_columns(["ORDER-ID", "Order Date ", "Customer", "Total", "Net"],
                                     explicit={"customer_id": "customer", "amount": "net"})
    fields = {f: (m.columns[0], m.how) for f, m in matching.matches.items()}
    assert fields["order_id"] == ("ORDER-ID", "same name") and fields["amount"] == ("Net", "client.yaml")
    assert fields["customer_id"] == ("Customer", "client.yaml")


def test_missing_and_absent_are_reported():
    matching = presets.match_columns(["訂單編號", "金額"], explicit={"order_date": "日期欄"})
    assert matching.missing == ("order_date", "customer_id") and matching.absent == {"order_date": ("日期欄",)}
    assert not matching.ok


def test_amount_from_quantity_and_unit_price():
    matching = presets.match_columns(["order_id", "order_date", "email", "qty", "unit price"])
    assert matching.ok and matching.matches["amount"].how == "quantity × unit_price"


def test_suggestions_by_name_and_by_values():
    matching = presets.match_columns(["單號", "會員", "下單日", "實收", "聯絡方式"])
    sample = pd.DataFrame({"會員": ["M1"], "下單日": ["2024-03-05"], "聯絡方式": ["a@b.tw"], "實收": ["100"]})
    found = {s.field: (s.column, s.basis) for s in presets.suggest_mappings(matching, sample)}
    assert found["customer_id"] == ("會員", "name") and found["order_date"] == ("下單日", "values")
    assert found["email"] == ("聯絡方式", "values")


def test_shopify_amounts_add_up_to_the_subtotal():
    amount = presets.shopify_amounts(pd.Series([600.0, 200.0, 300.0]), pd.Series([2.0, 1.0, 1.0]),
                                     pd.Series([1260.0, 1260.0, None]), pd.Series([0.0, 0.0, 50.0]),
                                     pd.Series([1, 1, 2]))
    assert amount.tolist() == pytest.approx([1080, 180, 250])  # 1,400 gross scaled to 1,260; else 300 − 50
