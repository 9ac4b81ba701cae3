"""Scale on one machine: the whole command on a shop-shaped and a wholesale-shaped client at a given size.

    .venv/bin/python bench/scale.py --lines 1000000                   # both shapes at 1M lines
    .venv/bin/python bench/scale.py --lines 1000000 10000000 --shape shop --limit-gb 10

Shapes (both end with the report month, three years of history):

- `shop`: the demo generator's supplement shop scaled to the line count (about 6.3 lines per customer:
  1M lines ≈ 157k customers, 10M ≈ 1.5M), with contacts, refunds and cancellations as the demos have.
- `wholesale`: few buyers ordering often and in bulk (about 172 lines per customer: 10M lines ≈ 58k
  customers; 1–20 lines per order, 300 products, quantities up to 50, 3% cancelled orders).

For each shape and size it writes the client into a temporary clients folder, then runs
`run_report.py --client … --month …` as a child process, sampling every 0.2 s the memory summed over the
whole process tree (the CLI, both notebook kernels, the PDF renderer): resident (RSS, which counts a page
shared by several processes once in each) and proportional (PSS, which shares it out: the memory the tree
occupies). It prints the wall time, both peaks and the largest single process, and time(largest
size)/time(smallest) per shape. A run whose tree goes above `--limit-gb` (resident) is killed (the machine
is shared) and reported as such, as is a failed run, by the CLI's own FAIL or error line.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from crm_report.data import demo
from crm_report.paths import CLIENTS_DIR, PROJECT_ROOT

BASE = "demo-supplements"
SHOP_LINES_AT_SCALE_1 = 79_400  # demo-supplements' lines at scale 1, about
WHOLESALE_LINES_PER_CUSTOMER = 172


def shop_lines(lines: int, month: str) -> pd.DataFrame:
    return demo.generate_orders(BASE, month, scale=lines / SHOP_LINES_AT_SCALE_1)


def wholesale_lines(lines: int, month: str, seed: int = 40) -> pd.DataFrame:
    """About `lines` order lines of a wholesale client (module docstring), ending with `month`."""
    rng = np.random.default_rng(seed)
    per_order = rng.integers(1, 21, size=lines // 10 + 1)
    per_order = per_order[: int(np.searchsorted(np.cumsum(per_order), lines)) + 1]
    n_orders, n = per_order.size, int(per_order.sum())
    customers = max(lines // WHOLESALE_LINES_PER_CUSTOMER, 1)
    end = pd.Period(month, "M").end_time.floor("s")
    start = end - pd.DateOffset(years=3)
    seconds = np.sort(rng.integers(0, int((end - start).total_seconds()), n_orders))
    order_of_line = np.repeat(np.arange(n_orders), per_order)
    customer = rng.integers(0, customers, n_orders)[order_of_line]
    position = np.arange(n) - np.repeat(np.cumsum(per_order) - per_order, per_order)
    product = (rng.integers(0, 300, n_orders)[order_of_line] + 7 * position) % 300  # distinct within an order
    price = np.round(np.exp(rng.normal(6.0, 0.8, 300)) / 10) * 10 + 10
    quantity = rng.integers(1, 51, n).astype("float64")
    status = np.where(rng.random(n_orders) < 0.03, "cancelled", "paid")[order_of_line]
    ids = pd.Series(customer)
    return pd.DataFrame({
        "order_id": pd.Series(order_of_line).map("W{:08d}".format),
        "customer_id": ids.map("B{:06d}".format),
        "order_date": start + pd.to_timedelta(seconds[order_of_line], unit="s"),
        "amount": price[product] * quantity,
        "product_id": pd.Series(product).map("SKU{:03d}".format),
        "product_name": pd.Series(product).map("商品 {:03d}".format),
        "category": pd.Series(product % 12).map("類別 {:02d}".format),
        "quantity": quantity,
        "unit_price": price[product],
        "status": status,
        "customer_name": ids.map("批發客戶 {:06d}".format),
        "email": ids.map("buyer{}@example.com".format),
        "phone": ids.map(lambda c: f"09{10_000_000 + c:08d}"),
    })


def make_client(clients_dir: Path, shape: str, lines: int, month: str) -> tuple[str, int, int]:
    """Write the client; returns its id, its line count and its customer count."""
    client = f"scale-{shape}-{lines}"
    folder = clients_dir / client
    (folder / "data").mkdir(parents=True)
    for name in ("client.yaml", "logo.svg"):
        shutil.copy(CLIENTS_DIR / BASE / name, folder / name)
    frame = shop_lines(lines, month) if shape == "shop" else wholesale_lines(lines, month)
    frame.to_parquet(folder / "data" / "orders.parquet", index=False)
    return client, len(frame), int(frame["customer_id"].nunique())


def run_measured(command: list[str], limit_bytes: float) -> dict:
    """Run `command`; wall seconds, the peaks of the memory summed over its process tree (resident, and
    proportional: PSS) and the largest single process's resident peak (bytes); killed above `limit_bytes`
    (resident, summed).

    Resident memory summed over processes counts a page shared by several of them once per process: the
    shared libraries every Python process maps, and the pages a forked process shares with the one it was
    forked from (none in a single run today). PSS gives each process its share of a shared page, so its sum
    is the memory the tree occupies."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as said:  # a file, not a pipe: a long traceback can never block the run
        process = subprocess.Popen(command, stdout=said, stderr=said, start_new_session=True)
        root = psutil.Process(process.pid)
        peak_tree = peak_pss = peak_one = 0
        killed = False
        while process.poll() is None:
            try:
                sizes, shares = [], []
                for member in [root, *root.children(recursive=True)]:
                    try:
                        memory = member.memory_full_info()
                    except psutil.Error:
                        continue
                    sizes.append(memory.rss)
                    shares.append(getattr(memory, "pss", memory.rss))
                peak_tree, peak_one = max(peak_tree, sum(sizes)), max(peak_one, *sizes, 0)
                peak_pss = max(peak_pss, sum(shares))
                if sum(sizes) > limit_bytes:
                    killed = True
                    for member in [root, *root.children(recursive=True)]:
                        member.kill()
            except psutil.Error:
                pass
            time.sleep(0.2)
        said.seek(0)
        lines = [line.strip() for line in said.read().decode(errors="replace").replace("\r", "\n").splitlines()]
    return {"seconds": time.perf_counter() - start, "peak_tree": peak_tree, "peak_pss": peak_pss,
            "peak_one": peak_one, "ok": process.returncode == 0 and not killed, "killed": killed,
            "error": "" if process.returncode == 0 else _why(lines, process.returncode)}


def _why(lines: list[str], code: int) -> str:
    """The CLI's own account of a failure (its FAIL or error: line), else its last line, else the exit code."""
    stated = [line for line in lines if line.startswith(("FAIL", "error:"))]
    return (stated or [line for line in lines if line] or [f"exit {code}"])[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--shape", choices=["shop", "wholesale", "both"], default="both")
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--limit-gb", type=float, default=10.0)
    args = parser.parse_args()
    shapes = ["shop", "wholesale"] if args.shape == "both" else [args.shape]
    results: dict[tuple[str, int], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for shape in shapes:
            for lines in args.lines:
                client, n_lines, n_customers = make_client(root / "clients", shape, lines, args.month)
                outcome = run_measured([sys.executable, str(PROJECT_ROOT / "run_report.py"), "--client", client,
                                        "--month", args.month, "--clients-dir", str(root / "clients"),
                                        "--reports-dir", str(root / "reports")], args.limit_gb * 2**30)
                results[shape, lines] = outcome
                state = "ok" if outcome["ok"] else ("KILLED above the limit" if outcome["killed"]
                                                    else f"FAILED: {outcome['error']}")
                print(f"{shape:9} {n_lines:>11,} lines {n_customers:>10,} customers: {outcome['seconds']:7.1f} s, "
                      f"peak summed over the process tree {outcome['peak_tree'] / 2**30:5.2f} GiB resident, "
                      f"{outcome['peak_pss'] / 2**30:5.2f} GiB proportional (PSS) "
                      f"(largest process {outcome['peak_one'] / 2**30:4.2f} GiB)  {state}", flush=True)
                shutil.rmtree(root / "clients" / client)
                shutil.rmtree(root / "reports", ignore_errors=True)
    if len(args.lines) > 1:
        low, high = min(args.lines), max(args.lines)
        for shape in shapes:
            if results[shape, low]["ok"] and results[shape, high]["ok"]:
                print(f"{shape}: time({high:,}) / time({low:,}) = "
                      f"{results[shape, high]['seconds'] / results[shape, low]['seconds']:.1f}")


if __name__ == "__main__":
    main()
