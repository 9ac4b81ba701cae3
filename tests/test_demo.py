"""Tests for the demo order-line generator (crm_report.data.demo)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest

from crm_report.data.demo import PROFILES, generate_orders, write_demo_data

END_MONTH = "2026-10"
SMALL = 0.05
COLUMNS = [
    "order_id", "customer_id", "order_date", "amount", "product_id", "product_name", "category", "quantity",
    "unit_price", "channel", "status", "customer_name", "email", "phone", "line_user_id",
]
TEXT_COLUMNS = [c for c in COLUMNS if c not in ("order_date", "amount", "quantity", "unit_price")]
ORDER_COUNT_RANGES = {
    "demo-supplements": (50_000, 70_000),
    "demo-skincare": (30_000, 45_000),
    "demo-apparel": (20_000, 30_000),
}
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", params=sorted(PROFILES))
def small(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame]:
    return request.param, generate_orders(request.param, END_MONTH, scale=SMALL)


def _orders(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.drop_duplicates("order_id")


def test_profiles_are_the_three_demo_clients() -> None:
    assert set(PROFILES) == {"demo-supplements", "demo-skincare", "demo-apparel"}
    for client_id, profile in PROFILES.items():
        assert profile.client_id == client_id
        assert 8 <= len(profile.products) <= 14
        assert len({p.product_id for p in profile.products}) == len(profile.products)


def test_same_inputs_give_identical_frames() -> None:
    first = generate_orders("demo-skincare", END_MONTH, seed=7, scale=SMALL)
    second = generate_orders("demo-skincare", END_MONTH, seed=7, scale=SMALL)
    pdt.assert_frame_equal(first, second)


def test_different_seeds_and_clients_differ() -> None:
    base = generate_orders("demo-apparel", END_MONTH, seed=1, scale=SMALL)
    other_seed = generate_orders("demo-apparel", END_MONTH, seed=2, scale=SMALL)
    assert not base.equals(other_seed)
    assert base["customer_name"].tolist()[:50] != other_seed["customer_name"].tolist()[:50]


def test_schema(small: tuple[str, pd.DataFrame]) -> None:
    _, lines = small
    assert list(lines.columns) == COLUMNS
    assert lines["order_date"].dtype == "datetime64[ns]"
    assert lines["amount"].dtype == "float64"
    assert lines["unit_price"].dtype == "float64"
    assert lines["quantity"].dtype == "int64"
    for column in TEXT_COLUMNS:
        assert pd.api.types.is_string_dtype(lines[column]), column
    required = ["order_id", "customer_id", "order_date", "amount", "product_id", "product_name", "category",
                "quantity", "unit_price", "channel", "status", "customer_name"]
    assert not lines[required].isna().any().any()
    assert (lines["amount"] > 0).all()
    assert (lines["quantity"] >= 1).all()
    assert (lines["amount"] <= lines["quantity"] * lines["unit_price"]).all()
    assert (lines["amount"] == lines["amount"].round()).all()
    assert set(lines["channel"]) <= {"官網", "LINE", "門市"}
    assert set(lines["status"]) <= {"paid", "cancelled", "refunded"}
    assert not lines.duplicated(["order_id", "product_id"]).any()
    assert lines["order_date"].is_monotonic_increasing


def test_dates_cover_the_window_and_the_last_month_is_full(small: tuple[str, pd.DataFrame]) -> None:
    client_id, lines = small
    months = PROFILES[client_id].months
    end = pd.Period(END_MONTH, "M")
    assert lines["order_date"].min() >= (end - (months - 1)).start_time
    assert lines["order_date"].max() <= pd.Timestamp("2026-10-31 23:59:59")
    per_month = _orders(lines)["order_date"].dt.to_period("M").value_counts()
    assert len(per_month) == months
    previous = per_month.reindex([end - k for k in (1, 2, 3)]).mean()
    assert per_month[end] > 0.7 * previous


def test_other_end_month_moves_the_window() -> None:
    lines = generate_orders("demo-supplements", "2025-02", scale=SMALL)
    assert lines["order_date"].max() < pd.Timestamp("2025-03-01")
    assert lines["order_date"].min() >= pd.Timestamp("2022-03-01")
    assert lines["order_date"].dt.to_period("M").nunique() == 36


def test_one_customer_date_status_and_channel_per_order(small: tuple[str, pd.DataFrame]) -> None:
    _, lines = small
    per_order = lines.groupby("order_id")[["customer_id", "order_date", "status", "channel"]].nunique()
    assert (per_order == 1).all().all()


def test_contact_details_are_per_customer(small: tuple[str, pd.DataFrame]) -> None:
    _, lines = small
    fields = ["customer_name", "email", "phone", "line_user_id"]
    per_customer = lines.groupby("customer_id")[fields].nunique(dropna=False)
    assert (per_customer == 1).all().all()


def test_contact_formats_and_availability(small: tuple[str, pd.DataFrame]) -> None:
    _, lines = small
    customers = lines.drop_duplicates("customer_id")
    email = r"[a-z0-9._]+@(?:[a-z]+\.)*example\.(?:com|com\.tw|net|org)"
    assert customers["email"].dropna().str.fullmatch(email).all()
    assert customers["phone"].dropna().str.fullmatch(r"09\d{8}").all()
    assert customers["line_user_id"].dropna().str.fullmatch(r"U[0-9a-f]{32}").all()
    assert customers["customer_name"].str.fullmatch(r"[\u4e00-\u9fff]{3}").all()
    assert customers["customer_id"].str.fullmatch(r"C\d{7}").all()
    assert customers["email"].dropna().is_unique and customers["phone"].dropna().is_unique
    assert 0.45 <= customers["line_user_id"].notna().mean() <= 0.65
    assert 0.78 <= customers["email"].notna().mean() <= 0.92
    assert 0.72 <= customers["phone"].notna().mean() <= 0.88
    assert customers[["email", "phone", "line_user_id"]].isna().all(axis=1).mean() < 0.03


def test_line_orders_come_from_customers_with_a_line_id(small: tuple[str, pd.DataFrame]) -> None:
    _, lines = small
    assert lines.loc[lines["channel"] == "LINE", "line_user_id"].notna().all()


def test_status_and_channel_mix(small: tuple[str, pd.DataFrame]) -> None:
    _, lines = small
    orders = _orders(lines)
    status = orders["status"].value_counts(normalize=True)
    assert 0.015 <= status.get("cancelled", 0) <= 0.05
    assert 0.005 <= status.get("refunded", 0) <= 0.045
    channel = orders["channel"].value_counts(normalize=True)
    assert 0.45 <= channel["官網"] <= 0.65
    assert 0.2 <= channel["LINE"] <= 0.4
    assert 0.08 <= channel["門市"] <= 0.25
    main_channel_share = orders.groupby("customer_id")["channel"].agg(
        lambda channels: channels.value_counts().iloc[0] / len(channels))
    assert main_channel_share.mean() > 0.85


def test_order_hours(small: tuple[str, pd.DataFrame]) -> None:
    _, lines = small
    orders = _orders(lines)
    hour = orders["order_date"].dt.hour
    online = orders["channel"] != "門市"
    assert hour[online].between(20, 23).mean() > 0.25
    assert hour[online].between(2, 6).mean() < 0.05
    store_time = orders.loc[~online, "order_date"].dt.strftime("%H:%M")
    assert store_time.between("11:00", "21:30").all()


def test_baskets(small: tuple[str, pd.DataFrame]) -> None:
    _, lines = small
    lines_per_order = lines.groupby("order_id").size()
    assert lines_per_order.max() <= 3
    assert 0.55 <= (lines_per_order == 1).mean() <= 0.85
    assert 0.75 <= (lines["quantity"] == 1).mean() <= 0.92
    discounted = lines["amount"] < lines["quantity"] * lines["unit_price"]
    assert 0.05 <= discounted.mean() <= 0.35


def test_customer_structure(small: tuple[str, pd.DataFrame]) -> None:
    _, lines = small
    orders_per_customer = _orders(lines).groupby("customer_id").size()
    assert 0.35 <= (orders_per_customer == 1).mean() <= 0.7
    assert (orders_per_customer >= 5).sum() >= 20
    assert orders_per_customer.max() >= 10


def test_supplement_replenishment_cycle_is_visible() -> None:
    lines = generate_orders("demo-supplements", END_MONTH, scale=SMALL)
    gaps = lines.groupby(["customer_id", "product_id"])["order_date"].diff().dt.total_seconds() / 86_400
    assert 20 <= gaps.median() <= 40
    cycle_days = {p.product_id: p.cycle_days for p in PROFILES["demo-supplements"].products}
    month_pack = lines["product_id"].map(cycle_days)
    assert 25 <= gaps[month_pack == 30].median() <= 36
    assert 50 <= gaps[month_pack == 60].median() <= 72


def test_first_orders_favour_the_trial_pack() -> None:
    lines = generate_orders("demo-supplements", END_MONTH, scale=SMALL)
    first_order = lines.groupby("customer_id")["order_id"].transform("first")
    trial = lines["product_id"] == "PH-PB07"
    assert trial[lines["order_id"] == first_order].mean() > 4 * trial[lines["order_id"] != first_order].mean()


def test_apparel_seasonality_and_double_eleven() -> None:
    lines = generate_orders("demo-apparel", END_MONTH, scale=0.2)
    month = lines["order_date"].dt.month
    winter = lines["product_id"].isin(["FT-DJ01", "FT-KN01", "FT-SC01", "FT-HD01"])
    assert winter[month.isin([12, 1])].mean() > 4 * winter[month.isin([6, 7])].mean()
    daily = _orders(lines).set_index("order_date").resample("D").size()
    assert daily[pd.Timestamp("2025-11-11")] > 5 * daily.median()


def test_skincare_gift_sets_peak_at_year_end_and_mothers_day() -> None:
    lines = generate_orders("demo-skincare", END_MONTH, scale=0.2)
    month = lines["order_date"].dt.month
    gift = lines["product_id"] == "MG-GS01"
    assert gift[month.isin([5, 11, 12])].mean() > 3 * gift[month.isin([2, 3, 7, 8])].mean()


def test_full_scale_order_counts() -> None:
    for client_id, (low, high) in ORDER_COUNT_RANGES.items():
        n_orders = generate_orders(client_id, END_MONTH)["order_id"].nunique()
        assert low <= n_orders <= high, (client_id, n_orders)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(KeyError):
        generate_orders("no-such-client", END_MONTH)
    with pytest.raises(ValueError):
        generate_orders("demo-apparel", "2026/10")
    with pytest.raises(ValueError):
        generate_orders("demo-apparel", END_MONTH, scale=0)


def test_write_demo_data_round_trips(tmp_path: Path) -> None:
    paths = write_demo_data(tmp_path / "clients", END_MONTH, scale=0.02)
    assert set(paths) == set(PROFILES)
    for client_id, path in paths.items():
        assert path == tmp_path / "clients" / client_id / "data" / "orders.parquet"
        pdt.assert_frame_equal(pd.read_parquet(path), generate_orders(client_id, END_MONTH, scale=0.02))


def test_command_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crm_report.data.demo", "--clients-dir", str(tmp_path),
         "--end-month", END_MONTH, "--scale", "0.02"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    )
    printed = result.stdout.strip().splitlines()
    assert len(printed) == len(PROFILES)
    for client_id in PROFILES:
        assert any(line.startswith(f"{client_id}:") and "orders" in line and "customers" in line
                   for line in printed)
        assert (tmp_path / client_id / "data" / "orders.parquet").is_file()
