"""Loading order files: mapping, parsing, and every excluded row accounted for with file, row and reason."""
from pathlib import Path

import pandas as pd
import pytest

from crm_report.config import ClientConfig
from crm_report.data.load import DataError, load_orders


def config_for(folder: Path, name: str, columns: dict | None = None, **source) -> ClientConfig:
    return ClientConfig(client_id="acme", display_name="Acme", folder=folder,
                        source={"path": name, "columns": columns or {}, **source})


def test_csv_with_mapping_and_bad_rows(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "訂單編號,會員編號,訂單日期,金額,訂單狀態\n"
        "A1,C1,2026-03-01 10:00,100,已完成\n"
        "A2,C2,not a date,50,\n"
        "A3,,2026-03-02,70,\n"
        "A4,C3,2026-03-03,abc,\n"
        "A5,C4,2026-03-04,80,weird\n"
        "A1,C1,2026-03-01 10:00,100,已完成\n"
        "A6,C5,2026-03-05,90,已退款\n",
        encoding="utf-8-sig")
    columns = {"order_id": "訂單編號", "customer_id": "會員編號", "order_date": "訂單日期", "amount": "金額",
               "status": "訂單狀態"}
    result = load_orders(config_for(tmp_path, "orders.csv", columns))
    assert result.rows_read == 7
    assert result.lines["order_id"].tolist() == ["A1", "A3", "A6"]  # A3 has no customer: a guest order
    assert result.lines["status"].tolist() == ["paid", "paid", "refunded"]
    assert result.lines["customer_match"].astype(str).tolist() == ["id", "guest", "id"]
    excluded = result.excluded.set_index("source_row")["reason"].to_dict()  # rows as a spreadsheet numbers them
    assert excluded == {3: "unreadable order date", 5: "unreadable amount", 6: "unknown status",
                        7: "duplicate line"}
    assert result.excluded.set_index("source_row").loc[3, ["column", "value"]].tolist() == ["訂單日期", "not a date"]
    assert (result.excluded["file"] == "orders.csv").all()  # relative to the client folder
    assert len(result.lines) + len(result.excluded) == result.rows_read  # nothing silently dropped


def test_offset_timestamps_are_converted_to_the_client_time_zone(tmp_path):
    pd.DataFrame({"order_id": ["a"], "customer_id": ["c"], "order_date": ["2026-03-31T17:30:00+00:00"],
                  "amount": [10]}).to_csv(tmp_path / "o.csv", index=False)
    lines = load_orders(config_for(tmp_path, "o.csv")).lines
    assert lines.at[0, "order_date"] == pd.Timestamp("2026-04-01 01:30")  # Taipei is UTC+8


def test_missing_required_column_names_file_and_columns(tmp_path):
    (tmp_path / "o.csv").write_text("order_id,customer_id,amount\n1,2,3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"o.csv \(header on row 1\): no column for required field 'order_date'.*"
                                        r"Columns in the file"):
        load_orders(config_for(tmp_path, "o.csv"))


def test_mapped_column_absent_is_named(tmp_path):
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_date,amount\n1,2,2026-01-01,3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"column '金額' \(for amount\) is not in the file"):
        load_orders(config_for(tmp_path, "o.csv", {"amount": "金額"}))


def test_wrong_encoding_and_empty_and_missing_file(tmp_path):
    (tmp_path / "big5.csv").write_bytes("訂單編號\n".encode("big5"))
    with pytest.raises(DataError, match="not readable as utf-8 .*line 1.*source.encoding"):
        load_orders(config_for(tmp_path, "big5.csv", encoding="utf-8"))
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="the file is empty"):
        load_orders(config_for(tmp_path, "empty.csv"))
    with pytest.raises(DataError, match="order file not found"):
        load_orders(config_for(tmp_path, "nope.parquet"))


def test_parquet_demo_roundtrip(tmp_path):
    from crm_report.data.demo import generate_orders

    generate_orders("demo-apparel", "2026-10", scale=0.02).to_parquet(tmp_path / "o.parquet")
    result = load_orders(config_for(tmp_path, "o.parquet"))
    assert result.excluded.empty and len(result.lines) == result.rows_read
