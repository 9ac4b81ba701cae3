"""Loading speed: `load_orders` against plain `pd.read_csv` of the same file, measured in the same run.

    .venv/bin/python bench/load.py                 # 1,000,000 order lines, 3 repeats
    .venv/bin/python bench/load.py --rows 200000 --repeat 5

For each shape of the same order lines it reports the median seconds of `load_orders` (read, map, parse,
identify customers, check every row) and of the baseline, `pd.read_csv(path)` with default settings
(pandas' C parser; no dates, no validation), and their ratio. Each measurement runs in a fresh process
that also reports its peak memory (VmHWM: ru_maxrss would carry over the parent's peak across exec). The shapes:

- `csv`: UTF-8, canonical column names, ISO dates, plain numbers (the best case);
- `big5`: Big5 (CP950), Chinese headers, ROC dates, `NT$1,234` amounts, 0912-345-678 phones, Chinese statuses;
- `shopify`: Shopify's admin export (order-level fields on first rows only, offsets, no customer id);
- `parquet`: the clean Parquet, against `pd.read_parquet` (not pd.read_csv) as its baseline.

The baseline is given the file's encoding (CP950 for `big5`); `load_orders` detects it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def make_lines(rows: int, seed: int = 40) -> pd.DataFrame:
    """`rows` order lines: 1-3 lines per order, 1 customer per ~5 orders, 2022-2024, 5% cancelled."""
    rng = np.random.default_rng(seed)
    orders = rows  # more than needed; the lines are cut at `rows`
    per_order = rng.choice([1, 2, 3], orders, p=[0.4, 0.4, 0.2])
    order = np.repeat(np.arange(orders), per_order)[:rows]
    customer = rng.integers(0, max(orders // 5, 1), orders)[order]
    start = pd.Timestamp("2022-01-01").value // 10**9
    seconds = np.sort(rng.integers(0, 3 * 365 * 86400, orders))[order]
    position = pd.Series(order).groupby(order).cumcount().to_numpy()  # products differ within an order
    price = np.array([350, 450, 650, 790, 1180, 1290])[(rng.integers(0, 6, orders)[order] + position) % 6]
    price = price.astype("float64")
    quantity = rng.choice([1, 2, 3], rows, p=[0.7, 0.2, 0.1]).astype("float64")
    status = np.where(rng.random(orders) < 0.05, "cancelled", "paid")[order]
    return pd.DataFrame({
        "order_id": pd.Series(order).map("S{:08d}".format),
        "customer_id": pd.Series(customer).map("C{:07d}".format),
        "order_date": pd.to_datetime(start + seconds, unit="s"),
        "amount": price * quantity,
        "product_id": pd.Series(price.astype("int64")).map("P{}".format),
        "quantity": quantity,
        "unit_price": price,
        "status": status,
        "email": pd.Series(customer).map("user{}@example.com".format),
        "phone": pd.Series(customer).map(lambda c: f"09{10_000_000 + c:08d}"),
    })


def write_shapes(lines: pd.DataFrame, folder: Path) -> dict[str, tuple[Path, str]]:
    """Each shape's file and the client.yaml source block that reads it."""
    lines.assign(order_date=lines["order_date"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(folder / "orders.csv",
                                                                                           index=False)
    date = lines["order_date"]
    big5 = pd.DataFrame({
        "訂單編號": lines["order_id"], "會員編號": lines["customer_id"],
        "訂購日期": (date.dt.year - 1911).astype("str") + date.dt.strftime("/%m/%d %H:%M:%S"),
        "商品編號": lines["product_id"], "數量": lines["quantity"].astype("int64"),
        "單價": lines["unit_price"].astype("int64"),
        "商品小計": "NT$" + lines["amount"].astype("int64").map("{:,}".format),
        "訂單狀態": lines["status"].map({"paid": "已完成", "cancelled": "已取消"}),
        "手機": lines["phone"].str[:4] + "-" + lines["phone"].str[4:7] + "-" + lines["phone"].str[7:],
    })
    (folder / "big5.csv").write_bytes(big5.to_csv(index=False).encode("cp950"))
    first = ~lines["order_id"].duplicated()
    subtotal = lines.groupby("order_id")["amount"].transform("sum")
    shopify = pd.DataFrame({
        "Name": "#" + lines["order_id"], "Email": lines["email"].where(first, ""),
        "Financial Status": lines["status"].map({"paid": "paid", "cancelled": "voided"}).where(first, ""),
        "Currency": pd.Series("TWD", index=lines.index).where(first, ""),
        "Subtotal": subtotal.where(first), "Created at": date.dt.strftime("%Y-%m-%d %H:%M:%S +0800"),
        "Lineitem quantity": lines["quantity"].astype("int64"), "Lineitem name": lines["product_id"],
        "Lineitem price": lines["unit_price"], "Lineitem sku": lines["product_id"],
    })
    shopify.to_csv(folder / "shopify.csv", index=False)
    lines.to_parquet(folder / "orders.parquet", index=False)
    return {"csv": (folder / "orders.csv", "path: orders.csv"), "big5": (folder / "big5.csv", "path: big5.csv"),
            "shopify": (folder / "shopify.csv", "path: shopify.csv"),
            "parquet": (folder / "orders.parquet", "path: orders.parquet")}


CHILD = r"""
import json, re, sys, time
import pandas as pd
kind, path, folder = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.perf_counter()
if kind == "baseline":
    rows = len(pd.read_parquet(path) if path.endswith(".parquet")
               else pd.read_csv(path, encoding="cp950" if path.endswith("big5.csv") else "utf-8"))
else:
    from pathlib import Path
    from crm_report.config import load_config
    from crm_report.data.load import load_orders
    result = load_orders(load_config(Path(folder).name, Path(folder).parent))
    rows = result.rows_read
    assert len(result.excluded) == 0, result.excluded.head()
seconds = time.perf_counter() - start
peak_kb = int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1))  # this process's peak
print(json.dumps({"seconds": seconds, "rows": rows, "max_rss_mb": peak_kb / 1024}))
"""


def measure(kind: str, path: Path, folder: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, kind, str(path), str(folder)], capture_output=True,
                          text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{kind} {path} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shapes", nargs="*", default=["csv", "big5", "shopify", "parquet"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        lines = make_lines(args.rows)
        shapes = write_shapes(lines, root)
        print(f"{args.rows:,} order lines written in {time.perf_counter() - started:.1f} s\n")
        print(f"{'shape':<9} {'file MB':>8} {'load s':>8} {'baseline s':>11} {'ratio':>6} "
              f"{'load MB':>8} {'base MB':>8}")
        for name in args.shapes:
            path, source = shapes[name]
            folder = root / name
            folder.mkdir()
            (folder / "client.yaml").write_text(f"display_name: bench\nsource:\n  {source}\n", encoding="utf-8")
            path = path.rename(folder / path.name)  # a client's data lives inside its folder
            ratios, loads, bases, load_mem, base_mem = [], [], [], [], []
            for _ in range(args.repeat):  # alternate, so drifting machine speed hits both alike
                base = measure("baseline", path, folder)
                load = measure("load", path, folder)
                assert load["rows"] == base["rows"] == args.rows, (load, base)
                ratios.append(load["seconds"] / base["seconds"])
                loads.append(load["seconds"])
                bases.append(base["seconds"])
                load_mem.append(load["max_rss_mb"])
                base_mem.append(base["max_rss_mb"])
            print(f"{name:<9} {path.stat().st_size / 2**20:>8.0f} {statistics.median(loads):>8.2f} "
                  f"{statistics.median(bases):>11.2f} {statistics.median(ratios):>6.2f} "
                  f"{max(load_mem):>8.0f} {max(base_mem):>8.0f}")


if __name__ == "__main__":
    main()
