"""frames.isin: pandas' own `isin` result, on Arrow text by Arrow's `is_in` (pandas 3 converts each value);
frames.coded: integer codes in the values' order; frames.sorted_by: pandas' stable sort, by Arrow for text;
frames.per_distinct: a cell-by-cell transform computed once per distinct value."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_report.data import identity
from crm_report.frames import coded, decoded, isin, per_distinct, sorted_by

TEXT = pd.Series(["a", "b", None, "c", "a"], dtype="string")


@pytest.mark.parametrize("values", [
    ["a"], ["a", None], [], {"b", "c"}, ("c",), np.array(["a", "c"], dtype=object), pd.Index(["b"]),
    pd.Series(["c", None], dtype="string"), pd.Series(["c", None], dtype=object), [1, 2], ["a", np.nan],
    pd.Index([], dtype="string"), ["a", 1],
])
@pytest.mark.parametrize("column", [TEXT, pd.Index(TEXT), TEXT.astype(object), TEXT.astype("category"),
                                    pd.Series(["a", "b", np.nan, "c", "a"], dtype="str")])
def test_isin_is_pandas_isin(column, values):
    expected = np.asarray(column.isin(list(values) if isinstance(values, (set, tuple)) else values), dtype=bool)
    assert isin(column, values).tolist() == expected.tolist()


@given(st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=30),
       st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=30))
def test_isin_agrees_with_pandas_on_any_text(column, values):
    series = pd.Series(column, dtype="string")
    assert isin(series, values).tolist() == np.asarray(series.isin(values), dtype=bool).tolist()


def test_numbers_go_to_pandas():
    assert isin(pd.Series([1, 2, 3]), [2, 3]).tolist() == [False, True, True]


def test_coded_numbers_values_in_sorted_order():
    frame = pd.DataFrame({"customer_id": pd.Series(["b", "a", "é", "b", "Z"], dtype="str"), "amount": [1, 2, 3, 4, 5]})
    codes, values = coded(frame, "customer_id")
    assert values.tolist() == ["Z", "a", "b", "é"]  # code point order, as sort_values on the text
    assert codes["customer_id"].tolist() == [2, 1, 3, 2, 0]
    assert codes["amount"].tolist() == [1, 2, 3, 4, 5]
    assert values.take(codes["customer_id"]).tolist() == frame["customer_id"].tolist()
    by_code = pd.DataFrame({"amount": [7, 9]}, index=[3, 0])
    assert decoded(by_code, values).to_dict() == {"amount": {"é": 7, "Z": 9}}
    assert decoded(by_code, values).index.name == "customer_id"
    assert frame["customer_id"].tolist() == ["b", "a", "é", "b", "Z"]  # the input is left as it was


def test_coded_values_are_text_as_a_groupby_gives_them():
    """Ids in an object column (text beside a guest's None) come back as text, as a groupby's keys do."""
    frame = pd.DataFrame({"customer_id": pd.Series(["b", "a"], dtype=object)})
    assert coded(frame, "customer_id")[1].dtype == frame.groupby("customer_id").size().index.dtype


def test_coded_refuses_missing_ids():
    with pytest.raises(ValueError, match="customer_id has missing values"):
        coded(pd.DataFrame({"customer_id": ["a", None]}), "customer_id")


@given(st.lists(st.tuples(st.one_of(st.none(), st.text(max_size=3)),
                          st.one_of(st.none(), st.integers(0, 3).map(lambda d: pd.Timestamp("2026-01-01") + pd.Timedelta(days=d))),
                          st.one_of(st.none(), st.sampled_from([0.5, -1.0, 2.0]))), max_size=40),
       st.lists(st.booleans(), min_size=3, max_size=3))
def test_sorted_by_is_pandas_stable_sort_with_missing_values_last(rows, ascending):
    frame = pd.DataFrame({"id": pd.Series([r[0] for r in rows], dtype="str"),
                          "when": pd.Series([r[1] for r in rows], dtype="datetime64[ns]"),
                          "value": pd.Series([r[2] for r in rows], dtype="float64")},
                         index=pd.RangeIndex(len(rows)) * 2)
    for keys, order in ((["id", "when", "value"], ascending), (["value", "id"], ascending[:2]), (["when"], True)):
        expected = frame.sort_values(keys, ascending=order, kind="stable")
        pd.testing.assert_frame_equal(sorted_by(frame, keys, ascending=order), expected)


def test_per_distinct_computes_each_distinct_value_once_and_gives_every_cell_its_result():
    seen = []

    def shout(values: pd.Series) -> pd.Series:
        seen.append(values.tolist())
        return values.str.upper().where(values.ne("x"))  # "x" has no result

    cells = pd.Series(["a", None, "b", "a", "x", "b"], index=[5, 3, 1, 0, 2, 4], dtype="str")
    result = per_distinct(shout, cells)
    assert seen == [["a", "b", "x"]]
    assert result.index.tolist() == [5, 3, 1, 0, 2, 4]
    assert result.fillna("-").tolist() == ["A", "-", "B", "A", "-", "B"]
    assert result.dtype == cells.dtype


CELLS = [" Ann@Shop.tw ", "ann@shop.tw", "0912-345-678", "+886912345678", "not mail", "", "02 2345 6789",
         "ｂｏｂ＠ｅｘ．ｃｏｍ", 912345678, 912345678.0, True, 1, ["0912345678"], float("nan")]


@given(st.lists(st.one_of(st.none(), st.sampled_from(CELLS)), max_size=30), st.booleans())
def test_e_mails_and_phones_read_per_distinct_value_are_what_each_cell_reads(cells, as_text):
    """Both readings of `parse_phones` come back aligned, each with its own dtype. An object column (a database
    or spreadsheet source) may mix 912345678, 912345678.0 and True, which Python's equality would merge although
    they read differently, and hold a list, which it cannot hash: they are told apart as text."""
    if as_text:
        cells = [c for c in cells if c is None or isinstance(c, str)]
    series = pd.Series(cells, dtype="str" if as_text else object, index=pd.RangeIndex(len(cells)) * 3)
    pd.testing.assert_series_equal(identity.normalise_emails(series), identity._normalise_emails(series))
    pd.testing.assert_frame_equal(identity.parse_phones(series, "TW"), identity._parse_phones(series, "TW"))
