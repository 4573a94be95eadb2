"""100,000 products through the command line, on SQLite: `seed-demo --products`,
`export-products`, then `import-products` of that file into an empty shop, again (nothing
changes), and once more with every row changed.

Each command runs as its own process; wall time, CPU time (user + system, all threads) and
peak memory are read from the OS. The baseline, measured in the same run: the same
100,000 rows written by a bare script, one `executemany` into a table of the same columns
without indexes, triggers or search words, in one transaction (`synchronous=FULL`): what
writing the rows costs before any of the shop's work.

    .venv/bin/python bench/catalogue_files.py [--products 100000]

Targets: every command succeeds with the expected counts in one go; importing a file
that changes nothing costs at most half the CPU of the first import (rows equal to their
products are not written); no command's peak memory passes 1 GiB. Exits 1 on a miss, 2
when it cannot run.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from servers import PYTHON, ROOT, BenchError

from shop.demo.bulk import trial_products

MAX_RSS_KIB = 1024 * 1024
UNCHANGED_SHARE = 0.5


@dataclass(frozen=True)
class Run:
    name: str
    wall: float
    cpu: float
    rss_mib: float
    said: str


def command(name: str, data_dir: Path, *args: str) -> Run:
    """Run `python -m shop *args` over the SQLite shop in `data_dir`: its own usage."""
    env = {**os.environ, "SHOP_DATA_DIR": str(data_dir)}
    env = {key: value for key, value in env.items() if key != "SHOP_DATABASE_URL"}
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [PYTHON, "-m", "shop", *args], env=env, cwd=ROOT, stdout=out, stderr=out
        )
        _, status, usage = os.wait4(process.pid, 0)  # this child's own usage
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        said = out.read()
    if process.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed:\n{said}")
    return Run(name, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, said)


def baseline(count: int, folder: Path) -> float:
    """Seconds for a bare script to write the same rows in one transaction."""
    rows = [
        (p.id, p.title, p.description, p.code, p.price_cents, p.status, p.stock, p.category)
        for p in trial_products(count)
    ]
    db = sqlite3.connect(folder / "bare.db", isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute(
            "CREATE TABLE products (id TEXT PRIMARY KEY, title TEXT, description TEXT,"
            " code TEXT UNIQUE, price_cents INTEGER, status INTEGER, stock INTEGER,"
            " category TEXT)"
        )
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        db.close()


def every_row_changed(source: Path, target: Path) -> None:
    """The file with one more of each product in stock."""
    with source.open(encoding="utf-8-sig", newline="") as read:
        rows = list(csv.DictReader(read))
    for row in rows:
        row["stock"] = str(int(row["stock"]) + 1)
    with target.open("w", encoding="utf-8", newline="") as write:
        writer = csv.DictWriter(write, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def expect(run: Run, pattern: str) -> None:
    if not re.search(pattern, run.said):
        raise BenchError(f"{run.name}: expected {pattern!r} in:\n{run.said}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    args = parser.parse_args()
    n = args.products
    with tempfile.TemporaryDirectory(prefix="shop-bench-files-") as tmp:
        folder = Path(tmp)
        source, target = folder / "source", folder / "target"
        csv_file = folder / "catalogue.csv"
        changed = folder / "changed.csv"
        bare = baseline(n, folder)
        runs = [command("seed-demo --products", source, "seed-demo", "--products", str(n))]
        expect(runs[-1], rf"{n} products in 8 categories")
        runs.append(command("export-products", source, "export-products", str(csv_file)))
        expect(runs[-1], rf"exported {n} products")
        runs.append(command("import-products (all new)", target, "import-products", str(csv_file)))
        expect(runs[-1], rf": {n} new, 0 changed, 0 already up to date")
        runs.append(command("import-products (again)", target, "import-products", str(csv_file)))
        expect(runs[-1], rf": 0 new, 0 changed, {n} already up to date")
        every_row_changed(csv_file, changed)
        runs.append(
            command("import-products (every row changed)", target, "import-products", str(changed))
        )
        expect(runs[-1], rf": 0 new, {n} changed, 0 already up to date")
        size_mib = csv_file.stat().st_size / 2**20
    load = os.getloadavg()[0]
    print(f"{n:,} products on SQLite; the file is {size_mib:.1f} MiB; load average {load:.1f}")
    print(f"baseline: a bare one-transaction executemany of the rows: {bare:.2f} s\n")
    print("| command | wall s | CPU s | vs bare (wall) | peak MiB |")
    print("|---|---|---|---|---|")
    for run in runs:
        print(
            f"| `{run.name}` | {run.wall:.1f} | {run.cpu:.1f} | {run.wall / bare:.0f}x"
            f" | {run.rss_mib:.0f} |"
        )
    missed = []
    first, again = runs[2], runs[3]  # the import of new rows, then of the same file
    if again.cpu > UNCHANGED_SHARE * first.cpu:
        missed.append(f"an unchanged import cost {again.cpu / first.cpu:.2f} of the first")
    if max(run.rss_mib for run in runs) * 1024 > MAX_RSS_KIB:
        missed.append("a command passed 1 GiB of memory")
    for miss in missed:
        print(f"MISSED: {miss}")
    return 1 if missed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(2)
