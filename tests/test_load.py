"""Loading order files: mapping, parsing, and every excluded row accounted for with file, row and reason."""
from pathlib import Path

import numpy as np
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


def write_dates(folder: Path, name: str, *dates: str) -> None:
    rows = "".join(f"{name[0]}{i},c{i},{d},10\n" for i, d in enumerate(dates, start=1))
    (folder / name).write_text("order_id,customer_id,order_date,amount\n" + rows, encoding="utf-8")


def test_a_day_first_file_is_read_day_first_as_its_dates_prove(tmp_path):
    """Issue 11: `01/12/2010 08:26` became 12 January; one date with a first field over 12 proves the file
    is day first, and then every date of the file is read that way."""
    write_dates(tmp_path, "o.csv", "01/12/2010 08:26", "2/12/2010 9:05", "13/12/2010 10:00")
    result = load_orders(config_for(tmp_path, "o.csv"), now=pd.Timestamp("2026-01-01"))
    assert result.lines["order_date"].tolist() == [pd.Timestamp("2010-12-01 08:26"), pd.Timestamp("2010-12-02 09:05"),
                                                   pd.Timestamp("2010-12-13 10:00")]
    order = result.files[0].date_order
    assert (order.order, order.how, order.row, order.value) == ("dmy", "detected", 4, "13/12/2010 10:00")


def test_a_month_first_file_is_read_month_first(tmp_path):
    write_dates(tmp_path, "o.csv", "12/1/2010 8:26", "12/13/2010 10:00")
    result = load_orders(config_for(tmp_path, "o.csv"), now=pd.Timestamp("2026-01-01"))
    assert result.lines["order_date"].tolist() == [pd.Timestamp("2010-12-01 08:26"), pd.Timestamp("2010-12-13 10:00")]
    assert result.files[0].date_order.order == "mdy"


def test_a_file_whose_date_order_cannot_be_told_stops_and_names_the_option(tmp_path):
    write_dates(tmp_path, "o.csv", "01/12/2010 08:26", "2/12/2010", "2010-12-03")
    with pytest.raises(DataError, match=r"o.csv, column order_date: .*year last .*row 2, '01/12/2010 08:26'.*"
                                        r"no day is over 12.*source.date_order: dmy.*or mdy"):
        load_orders(config_for(tmp_path, "o.csv"))
    lines = load_orders(config_for(tmp_path, "o.csv", date_order="dmy")).lines
    assert lines["order_date"].dt.day.tolist() == [1, 2, 3]
    assert load_orders(config_for(tmp_path, "o.csv", date_order="dmy")).files[0].date_order.how == "client.yaml"


def test_a_date_that_contradicts_the_order_stops_with_file_row_and_column(tmp_path):
    write_dates(tmp_path, "o.csv", "01/12/2010", "12/13/2010")
    with pytest.raises(DataError, match=r"o.csv row 3, column order_date: '12/13/2010' cannot be day first.*"
                                        r"source.date_order.*dmy"):
        load_orders(config_for(tmp_path, "o.csv", date_order="dmy"))
    with pytest.raises(DataError, match=r"o.csv row 2, column order_date: '01/12/2010' has the year last.*ymd"):
        load_orders(config_for(tmp_path, "o.csv", date_order="ymd"))
    write_dates(tmp_path, "mixed.csv", "13/12/2010", "12/13/2010")
    with pytest.raises(DataError, match=r"mixed.csv, column order_date: row 2 .*'13/12/2010'.* only day first.*"
                                        r"row 3 .*'12/13/2010'.* only month first"):
        load_orders(config_for(tmp_path, "mixed.csv"))


def test_iso_dates_and_each_file_of_a_folder_are_decided_on_their_own(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    write_dates(folder, "1-uk.csv", "13/12/2010", "01/12/2010")
    write_dates(folder, "2-us.csv", "12/13/2010", "01/12/2011")
    write_dates(folder, "3-iso.csv", "2026-01-05", "2026/1/6")
    result = load_orders(config_for(tmp_path, "exports"), now=pd.Timestamp("2027-01-01"))
    assert result.lines["order_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2010-12-13", "2010-12-01", "2010-12-13", "2011-01-12", "2026-01-05", "2026-01-06"]
    assert [f.date_order.order if f.date_order else None for f in result.files] == ["dmy", "mdy", None]


def test_the_date_order_is_decided_over_every_chunk_of_a_large_file(tmp_path):
    """The proof may come late: the first 1,400 dates have no day over 12, row 1,402 has 13/12/2010."""
    dates = [f"{1 + i % 12:02d}/12/2010" for i in range(1400)] + ["13/12/2010", "05/01/2011"]
    write_dates(tmp_path, "o.csv", *dates)
    result = load_orders(config_for(tmp_path, "o.csv", chunk_rows=1000), now=pd.Timestamp("2026-01-01"))
    assert result.rows_read == len(result.lines) == 1402
    assert result.lines["order_date"].iloc[[0, 11, 1400, 1401]].dt.strftime("%Y-%m-%d").tolist() == [
        "2010-12-01", "2010-12-12", "2010-12-13", "2011-01-05"]
    order = result.files[0].date_order
    assert (order.order, order.row, order.value) == ("dmy", 1402, "13/12/2010")


# --- credit notes: cancellations issued as their own document ---------------------------------------------

UCI_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
UCI_ROWS = (  # the shape of the UCI Online Retail dataset (Chen, Sain & Guo 2012), day first as its CSV copies
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,01/12/2010 08:26,2.55,17850,United Kingdom\n"  # row 2
    "536365,71053,WHITE METAL LANTERN,6,01/12/2010 08:26,3.39,17850,United Kingdom\n"
    "536366,22633,HAND WARMER UNION JACK,6,01/12/2010 08:28,1.85,17850,United Kingdom\n"
    "536370,22728,ALARM CLOCK BAKELIKE PINK,24,01/12/2010 08:45,3.75,12583,France\n"  # row 5
    "536370,22727,ALARM CLOCK BAKELIKE RED,24,01/12/2010 08:45,3.75,12583,France\n"
    "C536379,D,Discount,-1,01/12/2010 09:41,27.50,14527,United Kingdom\n"  # no order of 14527 to cancel
    "536380,22633,HAND WARMER UNION JACK,6,02/12/2010 10:00,1.85,17850,United Kingdom\n"  # row 8
    "C536383,22727,ALARM CLOCK BAKELIKE RED,-24,13/12/2010 09:49,3.75,12583,France\n"  # half of 536370
    "C536391,22633,HAND WARMER UNION JACK,-6,14/12/2010 10:24,1.85,17850,United Kingdom\n"  # the latest: 536380
    "C536400,71053,WHITE METAL LANTERN,-6,15/03/2011 10:00,3.39,17850,United Kingdom\n"  # 104 days after 536365
    "C536401,22728,ALARM CLOCK BAKELIKE PINK,-24,15/12/2010 11:00,3.75,,France\n"  # no customer: a guest
)
"""By hand, December 2010: 536365 = 6 × 2.55 + 6 × 3.39 = 35.64 (its lantern credited 104 days later, beyond the
90-day window: unmatched); 536366 = 6 × 1.85 = 11.10, untouched (C536391 nets against the latest earlier order
of 17850 with product 22633, 536380); 536380 = 11.10 − 11.10 = 0: fully cancelled, not a purchase; 536370 =
24 × 3.75 × 2 = 180 − 90 (C536383) = 90. Unmatched: C536379 (−27.50), C536400 (−20.34), C536401 (−90)."""


def test_a_credit_note_is_netted_against_the_order_it_cancels(tmp_path):
    from crm_report.metrics.orders import purchase_orders

    (tmp_path / "uci.csv").write_text(UCI_HEADER + UCI_ROWS, encoding="utf-8")
    result = load_orders(config_for(tmp_path, "uci.csv", cancel_prefix="C"), now=pd.Timestamp("2012-01-01"))
    assert {f: m.columns[0] for f, m in result.files[0].matching.matches.items() if m.columns} == {
        "order_id": "InvoiceNo", "order_date": "InvoiceDate", "customer_id": "CustomerID", "quantity": "Quantity",
        "unit_price": "UnitPrice", "product_id": "StockCode", "product_name": "Description"}
    assert len(result.lines) + len(result.excluded) == result.rows_read == 11
    excluded = result.excluded.set_index("source_row")
    assert excluded["reason"].to_dict() == {7: "refund without its order", 11: "refund without its order",
                                            12: "refund without its order"}
    assert excluded["amount"].tolist() == pytest.approx([-27.5, -20.34, -90])
    credits = result.lines.dropna(subset=["credit_note"]).set_index("credit_note")
    assert credits["order_id"].to_dict() == {"C536383": "536370", "C536391": "536380"}
    assert credits["credit_match"].tolist() == ["customer and product", "customer and product"]
    december = purchase_orders(result.lines, pd.Timestamp("2010-12-31 23:59:59"))
    assert december.set_index("order_id")["amount"].to_dict() == pytest.approx(
        {"536365": 35.64, "536366": 11.10, "536370": 90})
    before = purchase_orders(result.lines, pd.Timestamp("2010-12-12 23:59:59"))  # before the credit notes
    assert before.set_index("order_id")["amount"].to_dict() == pytest.approx(
        {"536365": 35.64, "536366": 11.10, "536370": 180, "536380": 11.10})


def test_a_cancellation_prefix_makes_a_credit_note_of_a_document_written_with_positive_amounts(tmp_path):
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_date,product_id,quantity,amount\nA1,c1,2026-03-01,P1,2,200\n"
        "CA1,c1,2026-03-05,P1,1,100\nCA2,c2,2026-03-05,P1,1,100\n", encoding="utf-8")
    result = load_orders(config_for(tmp_path, "o.csv", cancel_prefix="C"), now=pd.Timestamp("2027-01-01"))
    assert result.lines[["order_id", "amount", "quantity", "status"]].values.tolist() == [
        ["A1", 200, 2, "paid"], ["A1", -100, -1, "refunded"]]
    assert result.lines["credit_note"].fillna("").tolist() == ["", "CA1"]
    assert result.excluded[["source_row", "reason", "amount"]].values.tolist() == [
        [4, "refund without its order", -100.0]]
    without = load_orders(config_for(tmp_path, "o.csv"), now=pd.Timestamp("2027-01-01"))  # no prefix: sales
    assert without.lines["amount"].tolist() == [200, 100, 100] and without.excluded.empty


def test_a_reference_column_names_the_order_a_credit_note_cancels(tmp_path):
    from crm_report.metrics.orders import purchase_orders

    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_date,amount,product_id,original_order_id\n"
        "A1,c1,2026-03-01,1000,P1,\nA1,c1,2026-03-01,500,P2,\nA2,c2,2026-03-02,300,P3,\n"
        "CN1,c1,2026-03-10,-500,P2,A1\nCN2,,2026-03-12,-300,,A2\nCN3,c3,2026-03-12,-100,P9,A99\n"
        "CN4,c1,2026-03-13,-200,P1,\n", encoding="utf-8")
    result = load_orders(config_for(tmp_path, "o.csv", {"cancels_order_id": "original_order_id"}),
                         now=pd.Timestamp("2027-01-01"))
    assert result.files[0].matching.matches["cancels_order_id"].columns == ("original_order_id",)
    credits = result.lines.dropna(subset=["credit_note"]).set_index("credit_note")
    assert credits[["order_id", "credit_match"]].values.tolist() == [
        ["A1", "reference"], ["A2", "reference"], ["A1", "customer and product"]]
    assert result.excluded[["source_row", "reason"]].values.tolist() == [[7, "refund without its order"]]  # A99
    march = purchase_orders(result.lines, pd.Timestamp("2026-03-31 23:59:59")).set_index("order_id")["amount"]
    assert march.to_dict() == {"A1": 800}  # A2 fully cancelled by a credit note without a customer


def test_a_negative_line_in_its_own_order_is_still_a_refund_of_that_order(tmp_path):
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_date,amount,product_id\nA1,c1,2026-03-01,1000,P1\nA1,c1,2026-03-05,-300,P1\n"
        "A2,c1,2026-03-06,500,P1\n", encoding="utf-8")
    lines = load_orders(config_for(tmp_path, "o.csv"), now=pd.Timestamp("2027-01-01")).lines
    assert lines["order_id"].tolist() == ["A1", "A1", "A2"] and "credit_note" not in lines


def test_the_threshold_also_counts_the_share_of_the_amount_excluded(tmp_path):
    """Issue 11: 3% of the rows carrying 9% of the money passed the 5% threshold."""
    from crm_report.data.load import check_threshold

    rows = [f"A{i},c{i},2026-03-05,100\n" for i in range(97)]
    rows += ["B1,c1,2026-03-05,about 330\n", "B2,c1,not a date,330\n", "B3,c1,2026-03-05,330,\n"]
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_date,amount\n" + "".join(rows), encoding="utf-8")
    result = load_orders(config_for(tmp_path, "o.csv"), now=pd.Timestamp("2027-01-01"))
    assert result.excluded["reason"].tolist() == ["unreadable amount", "unreadable order date", "malformed row"]
    assert result.excluded_share == pytest.approx(0.03)
    assert result.excluded_amount_share == pytest.approx(330 / (9700 + 330))  # 3.3%: only what could be read
    assert not result.over_threshold
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_date,amount\n" + "".join(rows[:97])
                                    + "B1,c1,2026-03-05,450\n" * 3, encoding="utf-8")
    result = load_orders(config_for(tmp_path, "o.csv", max_excluded_share=0.05), now=pd.Timestamp("2027-01-01"))
    assert result.excluded["reason"].tolist() == ["duplicate line", "duplicate line"]
    assert result.excluded_share == pytest.approx(0.02)
    assert result.excluded_amount_share == pytest.approx(900 / (9700 + 1350))  # 8.1%
    assert result.over_threshold
    with pytest.raises(DataError, match=r"2 of 100 rows \(2.0%\) were excluded, but they carry 8.1% of the amount, "
                                        r"more than the 5.0% allowed"):
        check_threshold(result)


def test_duplicates_are_found_among_lines_sharing_order_date_and_amount(tmp_path):
    # Every line of order W1 has the same amount (the cheap key matches them all); only the true copies of a
    # row (all fields equal, a blank quantity included) are excluded, each naming the first row.
    rows = ["W1,c1,2026-03-05,100,SKU1,\n", "W1,c1,2026-03-05,100,SKU2,2\n", "W1,c1,2026-03-05,100,SKU1,\n",
            "W1,c1,2026-03-05,100,SKU3,2\n", "W1,c1,2026-03-05,100,SKU2,2\n", "W1,c1,2026-03-05,100,SKU1,\n"]
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_date,amount,product_id,quantity\n" + "".join(rows),
                                    encoding="utf-8")
    result = load_orders(config_for(tmp_path, "o.csv"), now=pd.Timestamp("2027-01-01"))
    assert result.excluded["reason"].tolist() == ["duplicate line"] * 3
    assert result.excluded["source_row"].tolist() == [4, 6, 7]
    assert result.lines["product_id"].tolist() == ["SKU1", "SKU2", "SKU3"]


def test_equal_floats_hash_alike():
    from crm_report.data.load import _same_bits

    values = pd.Series([0.0, -0.0, np.nan, float("nan") * -1, 1.5])
    hashed = pd.util.hash_pandas_object(pd.Series(_same_bits(values)), index=False)
    assert hashed[0] == hashed[1] and hashed[2] == hashed[3] and hashed[0] != hashed[4]


def test_an_order_total_on_every_line_is_a_finding_naming_the_file_and_column(tmp_path):
    """Most multi-line orders with one amount on all their lines: probably the order's total, which summing the
    lines would count several times ('amount_repeats'): at least five multi-line orders, over 90% of them so;
    fewer, or fewer alike, are not a finding."""
    def orders(repeated: int, differing: int) -> str:
        rows = [f"R{i},C{i},2026-03-0{i % 9 + 1},300,P{line}" for i in range(repeated) for line in (1, 2)]
        rows += [f"D{i},E{i},2026-03-0{i % 9 + 1},{100 + line},P{line}" for i in range(differing) for line in (1, 2)]
        return "order_id,customer_id,order_date,amount,product_name\n" + "\n".join(rows) + "\n"

    for repeated, differing, expected in ((6, 0, 6), (4, 0, None), (10, 1, 11), (9, 1, None), (5, 5, None)):
        (tmp_path / "o.csv").write_text(orders(repeated, differing), encoding="utf-8")
        found = [f for f in load_orders(config_for(tmp_path, "o.csv")).findings if f.kind == "amount_repeats"]
        assert [(f.count, f.file, f.column) for f in found] == ([] if expected is None else [(expected, "o.csv", "amount")])
