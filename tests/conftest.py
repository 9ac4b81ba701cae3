"""Shared fixtures: tiny order tables whose right answers are worked out by hand in the tests."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def make_lines(rows: list[tuple]) -> pd.DataFrame:
    """Canonical order lines from (order_id, customer_id, 'YYYY-MM-DD', amount, status[, product_name])."""
    records = []
    for row in rows:
        order_id, customer_id, day, amount, status, *rest = row
        records.append({"order_id": order_id, "customer_id": customer_id, "order_date": pd.Timestamp(day),
                        "amount": float(amount), "status": status, "product_name": rest[0] if rest else "X"})
    return pd.DataFrame(records)


@pytest.fixture
def march_lines() -> pd.DataFrame:
    """The hand-computed example used across metric tests; report month 2026-03.

    A: 2025-12-10 100, 2026-01-15 200, 2026-03-05 300 (two lines: 維他命 200 + 魚油 100)
    B: 2026-01-20 50, 2026-03-20 150
    C: 2026-03-02 80 and another order the same day 20 (split basket)
    D: 2026-02-10 500
    E: 2025-03-15 120, 2026-03-25 60
    F: 2026-03-28 90 cancelled (never a purchase)
    G: 2026-04-02 70 (after the report month)
    H: 2026-02-27 40 refunded, 2026-03-10 110
    """
    return make_lines([
        ("o1", "A", "2025-12-10", 100, "paid", "維他命"),
        ("o2", "A", "2026-01-15", 200, "paid", "維他命"),
        ("o3", "A", "2026-03-05", 200, "paid", "維他命"),
        ("o3", "A", "2026-03-05", 100, "paid", "魚油"),
        ("o4", "B", "2026-01-20", 50, "paid", "益生菌"),
        ("o5", "B", "2026-03-20", 150, "paid", "益生菌"),
        ("o6", "C", "2026-03-02", 80, "paid", "葉黃素"),
        ("o7", "C", "2026-03-02", 20, "paid", "魚油"),
        ("o8", "D", "2026-02-10", 500, "paid", "膠原蛋白"),
        ("o9", "E", "2025-03-15", 120, "paid", "維他命"),
        ("o10", "E", "2026-03-25", 60, "paid", "維他命"),
        ("o11", "F", "2026-03-28", 90, "cancelled", "魚油"),
        ("o12", "G", "2026-04-02", 70, "paid", "魚油"),
        ("o13", "H", "2026-02-27", 40, "refunded", "葉黃素"),
        ("o14", "H", "2026-03-10", 110, "paid", "葉黃素"),
    ])


@pytest.fixture
def march() -> pd.Period:
    return pd.Period("2026-03", freq="M")
