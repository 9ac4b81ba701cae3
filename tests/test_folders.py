"""A folder of exports: a column renamed between exports, and overlapping exports where the newer one (by
the orders it holds, not by its file name) wins."""
from pathlib import Path

import pandas as pd
import pytest

from crm_report.config import ClientConfig
from crm_report.data.load import OVERLAP, DataError, load_orders

NOW = pd.Timestamp("2025-01-01")


def folder_config(root: Path, columns: dict | None = None) -> ClientConfig:
    return ClientConfig(client_id="acme", display_name="Acme", folder=root,
                        source={"path": "exports", "columns": columns or {}})


def write(root: Path, name: str, text: str) -> None:
    (root / "exports").mkdir(exist_ok=True)
    (root / "exports" / name).write_text(text, encoding="utf-8")


@pytest.fixture
def renamed(tmp_path):
    """February's export calls the amount 實收 and the product 貨品名; March's renamed them 實收金額 and 商品敘述
    (names no preset knows)."""
    write(tmp_path, "2024-02.csv", "訂單編號,會員編號,訂單日期,貨品名,實收\nA1,M1,2024-02-10,維他命,790\n"
                                   "A2,M2,2024-02-20,魚油,590\n")
    write(tmp_path, "2024-03.csv", "訂單編號,會員編號,訂單日期,商品敘述,實收金額\nA3,M1,2024-03-05,葉黃素,650\n")
    return tmp_path


def test_a_renamed_column_loads_when_the_mapping_lists_both_names(renamed):
    columns = {"amount": ["實收", "實收金額"], "product_name": ["貨品名", "商品敘述"]}
    result = load_orders(folder_config(renamed, columns), now=NOW)
    assert result.excluded.empty
    assert result.lines[["order_id", "product_name", "amount"]].values.tolist() == [
        ["A1", "維他命", 790], ["A2", "魚油", 590], ["A3", "葉黃素", 650]]
    assert [f.matching.matches["amount"].columns for f in result.files] == [("實收",), ("實收金額",)]
    assert [f.matching.unlisted for f in result.files] == [
        {"amount": ("實收金額",), "product_name": ("商品敘述",)}, {"amount": ("實收",), "product_name": ("貨品名",)}]


def test_without_both_names_the_file_that_lacks_its_name_is_named(renamed):
    with pytest.raises(DataError, match=r"2024-03.csv \(header on row 1\): column '實收' \(for amount\) is not in"):
        load_orders(folder_config(renamed, {"amount": "實收"}), now=NOW)


def test_a_listed_name_that_no_file_has_is_a_typo_and_stops(renamed):
    with pytest.raises(DataError, match=r"source.columns.amount in .*client.yaml lists '實收額', which no file "
                                        r"of the source has"):
        load_orders(folder_config(renamed, {"amount": ["實收", "實收金額", "實收額"]}), now=NOW)


def test_the_newer_export_wins_by_its_latest_order_date_not_its_file_name(tmp_path):
    """`a-reexport.csv` sorts first by name but holds the later orders (up to 03-20): its copy of A2, now
    refunded, is kept; `b-february.csv` (orders up to 03-01) loses its copy of A2 as an overlap."""
    header = "訂單編號,會員編號,訂單日期,商品名稱,商品小計,訂單狀態\n"
    write(tmp_path, "a-reexport.csv", header + "A2,M2,2024-02-28,魚油,590,已退款\nA3,M1,2024-03-20,維他命,790,已完成\n")
    write(tmp_path, "b-february.csv", header + "A1,M1,2024-02-10,維他命,790,已完成\nA2,M2,2024-02-28,魚油,590,已完成\n"
                                                "A9,M3,2024-03-01,葉黃素,650,已完成\n")
    result = load_orders(folder_config(tmp_path), now=NOW)
    status = result.lines.set_index("order_id")["status"]
    assert status.to_dict() == {"A2": "refunded", "A3": "paid", "A1": "paid", "A9": "paid"}
    overlap = result.excluded.loc[result.excluded["reason"].eq(OVERLAP)]
    assert overlap[["file", "source_row", "value"]].values.tolist() == [
        ["exports/b-february.csv", 3, "kept: exports/a-reexport.csv row 2"]]
    assert result.rows_overlap == 1 and result.rows_excluded == 0
