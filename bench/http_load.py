"""HTTP load on the shop's hot endpoints, against bare aiohttp baselines on the same machine.

For each catalogue size it seeds a fresh SQLite file, starts `python -m shop serve` in a
subprocess, registers 32 users and drives wrk (loopback only) at the product listing, one
product, every product (catalogue-cache misses), pages of the listing and searches that
all miss the catalogue cache (a plain page, a broad word that nearly every product holds,
a narrow one that a dozen do), add-to-cart (each user on their own cart of up to 10
lines) and the purchase of pre-filled 3-line carts (on distinct products, and with one hot
product that every cart holds).
Two baselines run before and after the shop: a bare `web.json_response` handler for the
reads, and a bare durable write (one fsync'd SQLite insert per POST) for the writes.
Prints requests/s, p99 and the ratios the targets are about.

    .venv/bin/python bench/http_load.py [--duration 10] [--sizes 1000,100000]

Exits 1 when a target is missed or any answer was not 2xx; 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

from baselines import BARE_READ, BARE_WRITE, measure_bare_read, measure_bare_write
from seed import BenchUser, register_users, seed_carts, seed_products
from servers import PYTHON, BenchError, free_port, parse_sizes, request, serving, shop_env
from wrk import WRK, Load, Result, measure

USERS = 32  # one per wrk connection
CART_LINES = 10  # add-to-cart: each user's cart stays within this many lines
PURCHASE_LINES = 3
ROTATED_PIDS = 100
CACHE_SIZE = 10_000  # shop.store.cache.MAX_PRODUCTS: a larger catalogue misses the cache

LIST = "GET /api/products?limit=10"
GET = "GET /api/products/:pid"
EVERY = "GET /api/products/:pid, every id"
PLAIN = "GET /api/products?limit&page, uncached"
BROAD = "GET /api/products?q=product, uncached"
NARROW = "GET /api/products?q=<n>, uncached"
ADD = "POST /api/carts/:cid/product/:pid"
PURCHASE = "POST /api/carts/:cid/purchase"
PURCHASE_HOT = "POST /api/carts/:cid/purchase, hot product"
READS = (LIST, GET, EVERY, PLAIN, BROAD, NARROW)
SEARCHES = (BROAD, NARROW)
# More distinct listings than the catalogue cache keeps (shop.store.cache.MAX_PAGES), taken
# in turn: every one misses. Pages stay within what a search pages (its COUNT_LIMIT).
UNCACHED_LIMITS = range(10, 31)
WRITES = (ADD, PURCHASE, PURCHASE_HOT)

# Targets. Read rows keep, within 10%, their ratios to the bare read handler at 1,000
# products from before the write path changed (the README's figures of that time, taken
# on a quiet machine: a busy one raises every ratio, as the bare handler suffers most).
TODAY = {LIST: 0.40, GET: 0.47}
KEEP = 0.9
EVERY_FLOOR = 0.35  # catalogue-cache misses at the largest catalogue, of the bare read rate
SCALE_FLOOR = 0.5  # largest catalogue's rate as a share of the smallest's
SEARCH_FLOOR = 1 / 5  # a search, uncached, at least a fifth of the uncached plain page's rate
ADD_FLOOR = 0.5  # add-to-cart, of the bare durable-write rate
ADD_P99 = 2.0  # add-to-cart's p99 at most this many times the bare durable write's
PURCHASE_FLOOR = 0.25
HOT_FLOOR = 0.5  # purchases with one hot product, of the rate on distinct products
NOISY_SPREAD = 0.2  # baseline runs further apart than this: someone else had the CPUs


@dataclass(frozen=True, slots=True)
class Baseline:
    name: str
    runs: list[Result]

    @property
    def rps(self) -> float:
        return statistics.fmean(r.rps for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.fmean(r.p99_ms for r in self.runs)

    @property
    def spread(self) -> float:
        return (max(r.rps for r in self.runs) - min(r.rps for r in self.runs)) / self.rps


# ---- the loads -------------------------------------------------------------------------


def json_post(
    name: str, paths: Sequence[str], users: Sequence[BenchUser], body: str | None
) -> Load:
    """A POST that each user's cookie takes in turn (paths ordered user by user)."""
    return Load(
        name,
        tuple(paths),
        method="POST",
        headers=(("Content-Type", "application/json"),),
        body=body,
        cookies=tuple(user.cookie for user in users),
    )


def shop_loads(pids: list[str], users: Sequence[BenchUser], rng: random.Random) -> list[Load]:
    rotated = rng.sample(pids, min(ROTATED_PIDS, len(pids)))
    every = rng.sample(pids, len(pids))
    # Each user adds to their own cart, over their own CART_LINES products: after the first
    # lap every cart holds that many lines, and every answer (and cart event) carries them.
    mine = rng.sample(pids, min(len(pids), len(users) * CART_LINES))
    adds = [
        f"/api/carts/{user.cart}/product/{mine[(n * len(users) + i) % len(mine)]}"
        for n in range(CART_LINES)
        for i, user in enumerate(users)
    ]
    listings = [
        f"limit={limit}&page={page}"
        for limit in UNCACHED_LIMITS
        for page in range(1, 1000 // limit + 1)
    ]
    rng.shuffle(listings)
    # Seeded titles are "Product <n>": a number of one digit fewer than the largest is the
    # start of eleven products' numbers (n and n0 to n9). With the page sizes, there are
    # more such searches than the cache keeps, whatever the catalogue's size.
    size = len(pids)
    narrow = [
        f"q={n}&limit={limit}" for n in range(size // 100, size // 10) for limit in UNCACHED_LIMITS
    ]
    narrow = rng.sample(narrow, min(len(narrow), 2 * len(listings)))
    return [
        Load(LIST, ("/api/products?limit=10",)),
        Load(GET, tuple(f"/api/products/{pid}" for pid in rotated)),
        # Over every product: past CACHE_SIZE products most reads miss the catalogue cache.
        Load(EVERY, tuple(f"/api/products/{pid}" for pid in every)),
        Load(PLAIN, tuple(f"/api/products?{listing}" for listing in listings)),
        Load(BROAD, tuple(f"/api/products?q=product&{listing}" for listing in listings)),
        Load(NARROW, tuple(f"/api/products?{search}" for search in narrow)),
        json_post(ADD, adds, users, '{"quantity":1}'),
    ]


def check_once(port: int, load: Load) -> None:
    """One request of each kind before the load: a 4xx here is a bench bug, say so now."""
    cookie = load.cookies[0] if load.cookies else None
    body = json.loads(load.body) if load.body is not None else None
    status, _, answer = request(port, load.method, load.paths[0], body, cookie)
    if not 200 <= status < 300:
        raise BenchError(f"{load.name} answered {status}: {answer}")


def purchase_load(
    db: Path,
    users: Sequence[BenchUser],
    pids: list[str],
    carts_per_user: int,
    rng: random.Random,
    hot: str | None = None,
) -> Load:
    """Pre-filled carts for every user (call with no server running on `db`), each of
    PURCHASE_LINES lines on products no other user buys, except `hot`, which every cart
    holds first when given; each cart is bought once."""
    distinct = PURCHASE_LINES - (hot is not None)
    chosen = rng.sample([pid for pid in pids if pid != hot], len(users) * distinct)
    lines = [
        ([hot] if hot is not None else []) + chosen[i * distinct : (i + 1) * distinct]
        for i in range(len(users))
    ]
    carts = seed_carts(db, [user.id for user in users], lines, carts_per_user)
    paths = [f"/api/carts/{cid}/purchase" for cid in carts]
    name = PURCHASE if hot is None else PURCHASE_HOT
    return replace(json_post(name, paths, users, None), once=True)


def measure_shop(
    size: int, args: argparse.Namespace, rng: random.Random, bare_write: Result
) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix=f"shop-bench-{size}-") as tmp:
        data_dir = Path(tmp)
        db = data_dir / "shop.db"
        started = time.perf_counter()
        pids = seed_products(db, size, rng)
        print(f"seeded {size:,} products in {time.perf_counter() - started:.1f}s", flush=True)
        port = free_port()
        env = shop_env(data_dir)

        def shop() -> AbstractContextManager[object]:
            argv = [PYTHON, "-m", "shop", "serve", "--port", str(port)]
            return serving(argv, port, "/healthz", data_dir / "server.log", env=env)

        with shop():
            users = register_users(port, USERS)
            loads = shop_loads(pids, users, rng)
            for load in loads:
                check_once(port, load)
            results = [measure(load, size, port, data_dir, args) for load in loads]
        # Enough carts that no cart is bought twice, whatever the rate (the purchase
        # writes more than an add, so it is no faster than the faster of the two).
        fastest = max(bare_write.rps, next(r.rps for r in results if r.endpoint == ADD))
        per_user = math.ceil(2 * fastest * (args.warmup + args.duration) / USERS) + 1
        for hot in (None, rng.choice(pids)):
            # Carts are seeded with the server stopped, straight into the file.
            load = purchase_load(db, users, pids, per_user, rng, hot)
            with shop():
                # wrk's first request takes the second path of its list, so the cart this
                # check buys is reached only if the list ran out (then every answer fails).
                check_once(port, load)
                results.append(measure(load, size, port, data_dir, args))
        return results


# ---- report ----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(read: Baseline, write: Baseline, shop: list[Result], sizes: list[int]) -> bool:
    """Print the tables; True when every target is met and every answer was 2xx."""

    def bare(r: Result) -> Baseline:
        return write if r.endpoint in WRITES else read

    rule = "-" * 108
    print(f"\n{rule}")
    print(
        f"{'endpoint':<42}{'catalogue':>10}{'req/s':>10}{'p99 ms':>9}"
        f"{'vs bare':>9}{'non-2xx':>9}{'sock err':>10}  baseline"
    )
    print(rule)
    for r in [*read.runs, *write.runs, *shop]:
        size = f"{r.size:,}" if r.size is not None else "-"
        ratio = f"{r.rps / bare(r).rps:.2f}" if r.size is not None else "-"
        against = ("write" if bare(r) is write else "read") if r.size is not None else ""
        print(
            f"{r.endpoint:<42}{size:>10}{r.rps:>10,.0f}{r.p99_ms:>9.1f}"
            f"{ratio:>9}{r.non_2xx:>9}{r.socket_errors:>10}  {against}"
        )
    print(rule)
    for baseline in (read, write):
        print(
            f"{baseline.name}: mean of {len(baseline.runs)} runs {baseline.rps:,.0f} req/s,"
            f" p99 {baseline.p99_ms:.1f} ms, spread {baseline.spread:.0%}"
        )
        if baseline.spread > NOISY_SPREAD:
            print(f"warning: the {baseline.name} runs disagree: the machine was busy")

    ok = True

    def target(passed: bool, text: str) -> None:
        nonlocal ok
        ok &= passed
        print(f"  {verdict(passed)}  {text}")

    by_key = {(r.endpoint, r.size): r for r in shop}
    small, large = min(sizes), max(sizes)
    print(f"\ntargets (smallest catalogue {small:,}, largest {large:,}):")
    for endpoint, today in TODAY.items():
        ratio = by_key[endpoint, small].rps / read.rps
        target(
            ratio >= KEEP * today,
            f"{endpoint:<40} {ratio:.2f} of bare read (>= {KEEP:g} x today's {today:.2f})",
        )
    if large > CACHE_SIZE:
        ratio = by_key[EVERY, large].rps / read.rps
        target(
            ratio >= EVERY_FLOOR,
            f"{EVERY:<40} {ratio:.2f} of bare read at {large:,} (>= {EVERY_FLOOR})",
        )
    for size in sizes:
        plain = by_key[PLAIN, size]
        for endpoint in SEARCHES:
            ratio = by_key[endpoint, size].rps / plain.rps
            target(
                ratio >= SEARCH_FLOOR,
                f"{endpoint:<40} {ratio:.2f} of the uncached page at {size:,}"
                f" (>= {SEARCH_FLOOR:g}: within 5x its time)",
            )
    if large != small:
        for endpoint in (LIST, GET, ADD):
            ratio = by_key[endpoint, large].rps / by_key[endpoint, small].rps
            target(
                ratio >= SCALE_FLOOR,
                f"{endpoint:<40} {large:,}/{small:,} = {ratio:.2f} (>= {SCALE_FLOOR})",
            )
    for size in sizes:
        add = by_key[ADD, size]
        ratio = add.rps / write.rps
        target(
            ratio >= ADD_FLOOR, f"{ADD:<40} {ratio:.2f} of bare write at {size:,} (>= {ADD_FLOOR})"
        )
        p99 = add.p99_ms / write.p99_ms
        target(
            p99 <= ADD_P99, f"{ADD:<40} p99 {p99:.2f}x bare write's at {size:,} (<= {ADD_P99:g}x)"
        )
        purchase, hot = by_key[PURCHASE, size], by_key[PURCHASE_HOT, size]
        ratio = purchase.rps / write.rps
        target(
            ratio >= PURCHASE_FLOOR,
            f"{PURCHASE:<40} {ratio:.2f} of bare write at {size:,} (>= {PURCHASE_FLOOR})",
        )
        ratio = hot.rps / purchase.rps
        target(
            ratio >= HOT_FLOOR,
            f"{'hot product purchases':<40} {ratio:.2f} of distinct ones at {size:,}"
            f" (>= {HOT_FLOOR})",
        )
    failed = sum(r.non_2xx + r.socket_errors for r in [*read.runs, *write.runs, *shop])
    target(failed == 0, f"every answer 2xx, no socket errors ({failed} bad)")
    return ok


# ---- main ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before each")
    parser.add_argument(
        "--sizes", type=parse_sizes, default=[1000, 100_000], help="e.g. 1000,100000"
    )
    parser.add_argument("--connections", type=int, default=USERS, help="wrk connections")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the data")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not 1 <= args.duration <= 120 or not 0 <= args.warmup <= 30:
        print("http_load: --duration must be 1-120 and --warmup 0-30 seconds", file=sys.stderr)
        return 2
    if not Path(WRK).is_file():
        print(f"http_load: wrk not found (looked for {WRK})", file=sys.stderr)
        return 2
    # SIGTERM unwinds like Ctrl-C, so the finally blocks stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rng = random.Random(args.seed)
    print(
        f"wrk -t1 -c{args.connections} -d{args.duration:g}s (+{args.warmup:g}s warm-up)"
        f" on 127.0.0.1; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}",
        flush=True,
    )
    read = Baseline(BARE_READ, [])
    write = Baseline(BARE_WRITE, [])
    shop: list[Result] = []

    def baselines(label: str) -> None:
        steps: list[tuple[Baseline, Callable[..., Result]]] = [
            (read, measure_bare_read),
            (write, measure_bare_write),
        ]
        for baseline, run in steps if label == "before" else steps[::-1]:
            with tempfile.TemporaryDirectory(prefix="shop-bench-bare-") as tmp:
                baseline.runs.append(run(Path(tmp), label, free_port(), args))

    try:
        baselines("before")
        for size in args.sizes:
            shop += measure_shop(size, args, rng, write.runs[0])
        baselines("after")
    except BenchError as exc:
        print(f"http_load: {exc}", file=sys.stderr)
        return 2
    return 0 if report(read, write, shop, args.sizes) else 1


if __name__ == "__main__":
    sys.exit(main())
