"""The corpus of awkward order files (tests/corpus): each case loads one file, folder or glob with its
client.yaml source options and checks the outcome written next to it in cases.yaml."""
from pathlib import Path

import pandas as pd
import pytest
import yaml

from crm_report.config import ClientConfig, ConfigError
from crm_report.data.load import DataError, check_threshold, load_orders

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
NOW = pd.Timestamp("2025-01-01")


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 30
    assert len({case["file"] for case in CASES}) >= 30


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}-{i}" for i, c in enumerate(CASES)])
def test_case(case):
    expect = case["expect"]
    config = ClientConfig(client_id="corpus", display_name="Corpus", folder=CORPUS / "files",
                          source={"path": case["file"], **case.get("source", {})})
    if "config_error" in expect:
        with pytest.raises(ConfigError, match=expect["config_error"]):
            load_orders(config, now=NOW)
        return
    if "error" in expect:
        with pytest.raises(DataError, match=expect["error"]):
            load_orders(config, now=NOW)
        return
    result = load_orders(config, now=NOW)
    lines, excluded = result.lines, result.excluded
    assert len(lines) + len(excluded) == result.rows_read, "a row was lost"
    info = result.files[0].info
    checks = {
        "rows_read": lambda: result.rows_read,
        "blank": lambda: result.rows_blank,
        "lines": lambda: len(lines),
        "excluded": lambda: excluded["reason"].value_counts().to_dict(),
        "excluded_rows": lambda: dict(zip(excluded["source_row"], excluded["reason"], strict=True)),
        "rows": lambda: lines["source_row"].tolist(),
        "customers": lambda: lines["customer_id"].nunique(),
        "guests": lambda: int(lines["customer_id"].isna().sum()),
        "encoding": lambda: info.encoding,
        "detected": lambda: info.encoding_detected,
        "header_row": lambda: info.header_row,
        "delimiter": lambda: info.delimiter,
        "preset": lambda: result.files[0].matching.preset,
        "findings": lambda: [f.kind for f in result.findings],
    }
    for key, want in expect.items():
        if key in checks:
            assert checks[key]() == want, key
    for field, want in expect.get("values", {}).items():
        got = lines[field]
        if field == "order_date":
            assert got.tolist() == [pd.Timestamp(w) for w in want], field
        elif field in ("amount", "quantity"):
            assert got.tolist() == pytest.approx(want), field
        else:
            assert [None if pd.isna(v) else str(v) for v in got] == want, field
    for field in expect.get("absent_fields", []):
        assert field not in lines
    if "threshold" in expect:
        if expect["threshold"] is False:
            check_threshold(result)
        else:
            with pytest.raises(DataError, match=expect["threshold"]):
                check_threshold(result)
    # every excluded row names its file, row and reason; parse failures name the column and show the value
    assert excluded["file"].notna().all() and excluded["source_row"].gt(0).all() and excluded["reason"].notna().all()
    unreadable = excluded["reason"].str.startswith("unreadable")
    assert excluded.loc[unreadable, "column"].notna().all() and excluded.loc[unreadable, "value"].notna().all()
