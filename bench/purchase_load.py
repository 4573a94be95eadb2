"""Purchases per second with 32 buyers, on distinct products and on one hot product.

It seeds a fresh SQLite file with products, starts `python -m shop serve` (loopback only),
registers and logs in the buyers, then gives every buyer thousands of one-line carts,
written straight into the file, so each request is a purchase and nothing else. wrk (32
connections) sends `POST /api/carts/:cid/purchase`, each cart once, with the cart owner's
cookie. Two scenarios, taking turns: every buyer on a product of their own ("distinct"),
and every buyer on the same product ("hot"). A bare aiohttp handler, measured before and
after, is the baseline. Afterwards the file must show one order per bought cart and, for
every product, the stock taken equal to the units in its orders.

    .venv/bin/python bench/purchase_load.py [--duration 10] [--carts 12000]

Exits 1 when a target is missed or any purchase was not 201; 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bson import ObjectId
from http_load import (
    HOST,
    LUA_DONE,
    PYTHON,
    STOCK,
    WRK,
    BenchError,
    Result,
    _session_cookie,
    free_port,
    measure_bare,
    request,
    run_wrk,
    seed_products,
    serving,
    shop_env,
    verdict,
)

BUYERS = 32
HOT_FLOOR = 0.5  # the hot product's rate as a share of the distinct products' rate
ROUNDS = 2  # the scenarios take turns this many times
NOISY_SPREAD = 0.2  # bare runs further apart than this: someone else had the CPUs

# Each cart once: wrk's connections share one counter over the carts, round-robin across
# buyers, each request with its buyer's cookie.
LUA_TEMPLATE = (
    """\
local cookies = {{{cookies}}}
local carts = {{{carts}}}
local n = 0
local headers = {{["Content-Type"] = "application/json"}}

request = function()
  n = n + 1
  local cart = carts[((n - 1) % #carts) + 1]
  headers["Cookie"] = cookies[cart[2]]
  return wrk.format("POST", "/api/carts/" .. cart[1] .. "/purchase", headers, "{{}}")
end

"""
    + LUA_DONE
)


@dataclass(frozen=True, slots=True)
class Buyer:
    uid: str
    cookie: str


def log_in_buyers(port: int, count: int) -> list[Buyer]:
    buyers = []
    for n in range(count):
        password = secrets.token_urlsafe(16)
        body = {
            "first_name": "Buyer",
            "last_name": str(n),
            "email": f"buyer{n}@bench.local",
            "age": 30,
            "password": password,
        }
        status, _, answer = request(port, "POST", "/api/users", body)
        if status != 201:
            raise BenchError(f"registration answered {status}: {answer}")
        login = {"email": body["email"], "password": password}
        status, response, answer = request(port, "POST", "/api/sessions/login", login)
        if status != 200:
            raise BenchError(f"login answered {status}: {answer}")
        buyers.append(Buyer(answer["payload"]["_id"], _session_cookie(response)))
    return buyers


def seed_carts(db_path: Path, buyers: list[Buyer], pids: list[str], count: int) -> list[tuple]:
    """`count` one-line carts, round-robin over the buyers, buyer n's line on pids[n % len]:
    (cart id, buyer index) in the order wrk will buy them. Written beside the running
    server: WAL lets this connection write while the shop holds the file open."""
    carts = []
    with closing(sqlite3.connect(db_path, isolation_level=None, timeout=30)) as db:
        db.execute("BEGIN IMMEDIATE")
        for n in range(count):
            buyer = n % len(buyers)
            cid = str(ObjectId())
            db.execute("INSERT INTO carts (id, owner) VALUES (?, ?)", (cid, buyers[buyer].uid))
            db.execute(
                "INSERT INTO cart_lines (cart_id, product_id, quantity, seq) VALUES (?, ?, 1, 1)",
                (cid, pids[buyer % len(pids)]),
            )
            carts.append((cid, buyer + 1))  # Lua counts from 1
        db.execute("COMMIT")
    return carts


def write_script(path: Path, buyers: list[Buyer], carts: Sequence[tuple]) -> Path:
    for buyer in buyers:
        if not (buyer.cookie.isascii() and buyer.cookie.isprintable()):
            raise BenchError("a session cookie is not printable ASCII")
    path.write_text(
        LUA_TEMPLATE.format(
            cookies=", ".join(json.dumps(buyer.cookie) for buyer in buyers),
            carts=", ".join(f'{{"{cid}", {buyer}}}' for cid, buyer in carts),
        )
    )
    return path


def one_run(
    name: str, port: int, work: Path, seconds: float, carts: Sequence[tuple], buyers: list[Buyer]
) -> dict[str, float]:
    script = write_script(work / f"{re.sub(r'[^a-z0-9]+', '-', name)}.lua", buyers, carts)
    figures = run_wrk(port, script, seconds, BUYERS)
    if figures["requests"] >= len(carts):
        raise BenchError(f"{name}: wrk bought every cart; raise --carts above {len(carts)}")
    return figures


def measure(
    port: int,
    work: Path,
    db_path: Path,
    buyers: list[Buyer],
    scenarios: dict[str, list[str]],
    args: argparse.Namespace,
) -> tuple[list[Result], int, int]:
    """Each scenario's result, how many purchases were answered 201, and how many wrk runs.

    The scenarios take turns, ROUNDS times, so a neighbour's load on the machine weighs
    on each of them alike; every run buys carts of its own.
    """
    answered, runs = 0, 0
    totals = {name: [0.0, 0.0, 0.0, 0, 0] for name in scenarios}  # requests, us, p99, bad
    plan = [("warm-up", args.warmup)] if args.warmup > 0 else []
    plan += [(f"round {n}", args.duration / ROUNDS) for n in range(1, ROUNDS + 1)]
    for phase, seconds in plan:
        for name, pids in scenarios.items():
            carts = seed_carts(db_path, buyers, pids, args.carts)
            figures = one_run(f"{name} {phase}", port, work, seconds, carts, buyers)
            answered += int(figures["requests"] - figures["non_2xx"])
            runs += 1
            if phase == "warm-up":
                continue
            total = totals[name]
            total[0] += figures["requests"]
            total[1] += figures["duration_us"]
            total[2] = max(total[2], figures["p99_us"])
            total[3] += int(figures["non_2xx"])
            total[4] += int(sum(figures[k] for k in ("connect", "read", "write", "timeout")))
    results = []
    for name, (requests, micros, p99, non_2xx, errors) in totals.items():
        result = Result(
            name, len(scenarios[name]), requests / (micros / 1e6), p99 / 1000, non_2xx, errors
        )
        print(f"  {name:<40} {result.rps:>9,.0f} purchases/s", flush=True)
        results.append(result)
    return results, answered, runs


def check_books(db_path: Path, pids: list[str], answered: int, runs: int) -> list[str]:
    """What is wrong with the file after the runs; empty when the books balance.

    Every bought cart is empty, so there must be one order per empty cart. wrk stops
    counting at the deadline while up to one request per connection is still being
    served, so the orders are the 201s counted plus at most that many per run.
    """
    problems = []
    with closing(sqlite3.connect(db_path)) as db:
        orders = db.execute("SELECT count(*) FROM orders").fetchone()[0]
        emptied = db.execute(
            # The seeded carts, not the empty one each buyer got at registration.
            "SELECT count(*) FROM carts WHERE id NOT IN (SELECT cart FROM users)"
            " AND NOT EXISTS (SELECT 1 FROM cart_lines WHERE cart_id = carts.id)"
        ).fetchone()[0]
        if orders != emptied:
            problems.append(f"{orders} orders for {emptied} carts bought")
        if not answered <= orders <= answered + runs * BUYERS:
            problems.append(f"{orders} orders for {answered} purchases answered 201")
        for pid in pids:
            stock = db.execute("SELECT stock FROM products WHERE id = ?", (pid,)).fetchone()[0]
            sold = db.execute(
                "SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE product_id = ?", (pid,)
            ).fetchone()[0]
            if STOCK - stock != sold:
                problems.append(f"product {pid}: {STOCK - stock} taken, {sold} in orders")
    return problems


def run(args: argparse.Namespace) -> tuple[list[Result], list[str]]:
    with tempfile.TemporaryDirectory(prefix="shop-bench-purchase-") as tmp:
        work = Path(tmp)
        db_path = work / "shop.db"
        pids = seed_products(db_path, BUYERS + 1, random.Random(args.seed))
        with closing(sqlite3.connect(db_path, isolation_level=None)) as db:
            db.execute("UPDATE products SET status = 1")  # every one on sale
        scenarios = {
            f"{BUYERS} buyers, distinct products": pids[1:],
            f"{BUYERS} buyers, one hot product": pids[:1],
        }
        port = free_port()
        argv = [PYTHON, "-m", "shop", "serve", "--port", str(port)]
        with serving(argv, port, "/healthz", work / "server.log", env=shop_env(work)):
            buyers = log_in_buyers(port, BUYERS)
            results, answered, runs = measure(port, work, db_path, buyers, scenarios, args)
        return results, check_books(db_path, pids, answered, runs)


def report(bare: list[Result], shop: list[Result], problems: list[str]) -> bool:
    bare_rps = sum(r.rps for r in bare) / len(bare)
    rule = "-" * 92
    print(f"\n{rule}")
    columns = ("purchases/s", 13), ("p99 ms", 9), ("vs bare", 9), ("non-201", 9), ("sock err", 10)
    print(f"{'scenario':<40}" + "".join(f"{name:>{width}}" for name, width in columns))
    print(rule)
    for r in shop:
        print(
            f"{r.endpoint:<40}{r.rps:>13,.0f}{r.p99_ms:>9.1f}{r.rps / bare_rps:>9.3f}"
            f"{r.non_2xx:>9}{r.socket_errors:>10}"
        )
    print(rule)
    spread = (max(r.rps for r in bare) - min(r.rps for r in bare)) / bare_rps
    print(f"bare handler: mean of {len(bare)} runs {bare_rps:,.0f} req/s, spread {spread:.0%}")
    print(f"p99 is the worst of the {ROUNDS} rounds")
    if spread > NOISY_SPREAD:
        print("warning: the bare runs disagree: the machine was busy, figures are rough")
    distinct, hot = shop
    ratio = hot.rps / distinct.rps
    ok = ratio >= HOT_FLOOR
    print(f"\n  {verdict(ok)}  hot product {ratio:.2f} of distinct products (>= {HOT_FLOOR})")
    bad = sum(r.non_2xx + r.socket_errors for r in shop + bare)
    ok &= bad == 0
    print(f"  {verdict(bad == 0)}  every purchase 201, no socket errors ({bad} bad)")
    ok &= not problems
    print(f"  {verdict(not problems)}  one order per purchase, stock taken = units in orders")
    for problem in problems[:10]:
        print(f"        {problem}")
    return ok


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before each")
    parser.add_argument("--carts", type=int, default=12_000, help="carts seeded per run")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the data")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.connections = BUYERS  # the bare baseline runs with as many connections
    if not 1 <= args.duration <= 120 or not 0 <= args.warmup <= 30 or args.carts < BUYERS:
        print("purchase_load: --duration 1-120, --warmup 0-30, --carts >= 32", file=sys.stderr)
        return 2
    if not Path(WRK).is_file():
        print(f"purchase_load: wrk not found (looked for {WRK})", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(
        f"wrk -t1 -c{BUYERS} -d{args.duration:g}s (+{args.warmup:g}s warm-up) on {HOST};"
        f" {os.cpu_count()} CPUs; Python {sys.version.split()[0]}",
        flush=True,
    )
    bare: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="shop-bench-bare-") as tmp:
            bare.append(measure_bare(Path(tmp), "before", args))
        shop, problems = run(args)
        with tempfile.TemporaryDirectory(prefix="shop-bench-bare-") as tmp:
            bare.append(measure_bare(Path(tmp), "after", args))
    except BenchError as exc:
        print(f"purchase_load: {exc}", file=sys.stderr)
        return 2
    return 0 if report(bare, shop, problems) else 1


if __name__ == "__main__":
    sys.exit(main())
