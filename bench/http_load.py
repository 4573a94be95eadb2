"""HTTP load on the shop's hot endpoints, against a bare aiohttp handler on the same machine.

For each catalogue size it seeds a fresh SQLite file, starts `python -m shop serve` in a
subprocess, logs a user in and drives wrk (loopback only) at the product listing, one
product, and add-to-cart; a bare `web.json_response` app, measured before and after the
shop, is the baseline. Prints requests/s, p99 and the ratios the targets are about.

    .venv/bin/python bench/http_load.py [--duration 10] [--sizes 1000,100000]

Exits 1 when a target is missed or any answer was not 2xx; 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bson import ObjectId

from shop.models.search import product_words

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"  # loopback only: this never loads anything but our own processes
WRK = shutil.which("wrk") or "/usr/bin/wrk"
CATEGORIES = [f"Category {n:02d}" for n in range(20)]
ROTATED_PIDS = 100
WIDE_PIDS = 20_000
UNCACHED = "GET /api/products/:pid, 20k ids"
START_TIMEOUT = 60.0
BASE_FLOOR = 0.35  # list and get at the smallest catalogue, as a share of the bare rate
SCALE_FLOOR = 0.5  # largest catalogue's rate as a share of the smallest's
NOISY_SPREAD = 0.2  # bare runs further apart than this: someone else had the CPUs

# The columns of shop.store.sqlite's products table; checked against the file it creates,
# so a schema change stops the bench instead of seeding rows the shop misreads.
PRODUCT_COLUMNS = (
    "id",
    "title",
    "description",
    "code",
    "price_cents",
    "status",
    "stock",
    "category",
    "category_key",
    "thumbnails",
    "title_key",
)
STOCK = 1_000_000_000  # the largest the API accepts: add-to-cart never runs out (no 409)

BARE_APP = """\
import sys

from aiohttp import web

PRODUCT = {
    "_id": "65f0c0ffee0000000000beef",
    "title": "Bench product",
    "description": "A product-like payload of about the shop's size.",
    "code": "BENCH-0000001",
    "price": 19.99,
    "status": True,
    "stock": 1000,
    "category": "Category 01",
    "thumbnails": [],
}


async def product(request: web.Request) -> web.Response:
    return web.json_response({"status": "success", "payload": PRODUCT})


app = web.Application()
app.router.add_get("/", product)
web.run_app(app, host=sys.argv[1], port=int(sys.argv[2]), access_log=None, print=None)
"""

# `done` prints one machine-readable line; latency percentiles are in microseconds. (No
# braces: it is appended to templates that str.format fills in.)
LUA_DONE = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%.0f p99_us=%.0f status=%d"
      .. " connect=%d read=%d write=%d timeout=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
"""

# One script for every run, so wrk's own per-request cost is the same for all of them.
LUA_TEMPLATE = (
    """\
local method = {method}
local paths = {{{paths}}}
local headers = {{{headers}}}
local body = {body}
local n = 0

request = function()
  n = n + 1
  return wrk.format(method, paths[(n % #paths) + 1], headers, body)
end

"""
    + LUA_DONE
)


class BenchError(Exception):
    """The bench cannot go on; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Load:
    """What wrk sends: a method, paths it rotates over, headers and an optional body."""

    name: str
    paths: tuple[str, ...]
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    endpoint: str
    size: int | None
    rps: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


# ---- processes -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def request(
    port: int,
    method: str,
    path: str,
    body: object | None = None,
    cookie: str | None = None,
    timeout: float = 30.0,
) -> tuple[int, http.client.HTTPResponse, Any]:
    """One request over a fresh connection (never through a proxy); the JSON answer."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if cookie:
        headers["Cookie"] = cookie
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data = json.dumps(body) if body is not None else None
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw[:200]
    return response.status, response, payload


def _wait_ready(process: subprocess.Popen[bytes], port: int, path: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"server exited with {process.returncode}:\n{_tail(log)}")
        try:
            status, _, _ = request(port, "GET", path, timeout=2)
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.1)
    raise BenchError(f"server not ready on port {port} after {START_TIMEOUT:.0f}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (aiohttp shuts down cleanly on it), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def serving(
    argv: Sequence[str], port: int, ready_path: str, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A server subprocess, ready to answer, stopped on the way out whatever happens.

    Its output goes to `log`: the shop writes one access line per request to stderr, and
    a terminal (or a pipe nobody reads) would slow it down or block it.
    """
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
        try:
            _wait_ready(process, port, ready_path, log)
            yield process
        finally:
            stop(process)


# ---- seeding ---------------------------------------------------------------------------


async def _create_schema(path: Path) -> None:
    from shop.store.sqlite import SQLiteStore

    store = await SQLiteStore.open(path)
    await store.close()


def seed_products(path: Path, count: int, rng: random.Random) -> list[str]:
    """Create the shop's schema in a new file and bulk-insert `count` products; their ids.

    The store's own triggers keep product_counts as the rows go in (the totals the
    listing answers from); the counts are checked afterwards.
    """
    asyncio.run(_create_schema(path))
    rows = []
    available = 0
    per_category = dict.fromkeys(CATEGORIES, 0)
    visible_per_category = dict.fromkeys(CATEGORIES, 0)
    for n in range(count):
        category = CATEGORIES[n % len(CATEGORIES)]
        status = int(rng.random() < 0.9)
        available += status
        per_category[category] += 1
        visible_per_category[category] += status
        rows.append(
            (
                str(ObjectId()),
                f"Product {n}",
                f"Bench product number {n}, seeded for load tests.",
                f"BENCH-{n:07d}",
                rng.randint(100, 100_000),  # cents
                status,
                STOCK,
                category,
                category.lower(),
                "[]",
                f"product {n}",
            )
        )
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        columns = tuple(row[1] for row in db.execute("PRAGMA table_info(products)"))
        if sorted(columns) != sorted(PRODUCT_COLUMNS):
            raise BenchError(f"products columns are {columns}, the bench seeds {PRODUCT_COLUMNS}")
        db.execute("PRAGMA synchronous = OFF")  # a throwaway file: no need to survive a crash
        db.execute("PRAGMA cache_size = -262144")  # 256 MiB: every index stays in memory
        db.execute("BEGIN IMMEDIATE")
        placeholders = ", ".join("?" * len(PRODUCT_COLUMNS))
        db.executemany(
            f"INSERT INTO products ({', '.join(PRODUCT_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )
        # The search index, as the store keeps it (shop.models.search).
        db.executemany(
            "INSERT INTO product_words (word, product_id) VALUES (?, ?)",
            [(word, row[0]) for row in rows for word in product_words(row[1], row[2], row[3])],
        )
        db.execute("COMMIT")
        # A counter at 0 (a category whose first product is hidden) counts as no counter.
        counts = dict(db.execute("SELECT key, n FROM product_counts WHERE n != 0"))
    # Every seeded product has stock: each one on sale is available too.
    expected = {"all": count, "visible": available, "available": available}
    expected |= {f"category:{c.lower()}": n for c, n in per_category.items() if n}
    expected |= {f"visible:category:{c.lower()}": n for c, n in visible_per_category.items() if n}
    if counts != expected:
        raise BenchError(f"product_counts after seeding is {counts}, expected {expected}")
    return [row[0] for row in rows]


# ---- wrk -------------------------------------------------------------------------------


def _lua(value: str) -> str:
    """A Lua string literal (JSON's escapes are Lua's for printable ASCII)."""
    if not (value.isascii() and value.isprintable()):
        raise BenchError(f"not printable ASCII, cannot pass it to wrk: {value[:40]!r}")
    return json.dumps(value)


def write_script(load: Load, directory: Path) -> Path:
    script = directory / f"{re.sub(r'[^a-z0-9]+', '-', load.name.lower())}.lua"
    script.write_text(
        LUA_TEMPLATE.format(
            method=_lua(load.method),
            paths=", ".join(_lua(path) for path in load.paths),
            headers=", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in load.headers),
            body=_lua(load.body) if load.body is not None else "nil",
        )
    )
    return script


def run_wrk(port: int, script: Path, duration: float, connections: int) -> dict[str, float]:
    argv = [WRK, "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "5s"]
    argv += ["-s", str(script), f"http://{HOST}:{port}/"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {duration + 30:.0f}s") from None
    match = re.search(r"^BENCH (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    figures = {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", match[1])}
    # wrk's own summary line; `done` counts the same thing, the two must agree.
    printed = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    figures["non_2xx"] = float(printed[1]) if printed else 0.0
    if figures["non_2xx"] != figures["status"]:
        raise BenchError(f"wrk's non-2xx counts disagree:\n{done.stdout}")
    return figures


def measure(
    load: Load, size: int | None, port: int, scripts: Path, args: argparse.Namespace
) -> Result:
    script = write_script(load, scripts)
    if args.warmup > 0:
        run_wrk(port, script, args.warmup, args.connections)
    figures = run_wrk(port, script, args.duration, args.connections)
    result = Result(
        endpoint=load.name,
        size=size,
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p99_ms=figures["p99_us"] / 1000,
        non_2xx=int(figures["non_2xx"]),
        socket_errors=int(sum(figures[k] for k in ("connect", "read", "write", "timeout"))),
    )
    where = f"{size:,} products" if size is not None else "baseline"
    print(f"  {load.name:<34} {where:>16}  {result.rps:>9,.0f} req/s", flush=True)
    return result


# ---- the two servers -------------------------------------------------------------------


def measure_bare(work: Path, label: str, args: argparse.Namespace) -> Result:
    port = free_port()
    app = work / "bare_app.py"
    app.write_text(BARE_APP)
    with serving([PYTHON, str(app), HOST, str(port)], port, "/", work / "bare.log"):
        return measure(Load(f"bare handler ({label})", ("/",)), None, port, work, args)


def shop_env(data_dir: Path) -> dict[str, str]:
    # Only our SHOP_* settings: a developer's SHOP_HTTPS or SHOP_PORT must not leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOP_")}
    env["SHOP_DATA_DIR"] = str(data_dir)
    env["SHOP_DATABASE_URL"] = f"sqlite:///{data_dir / 'shop.db'}"
    env["SHOP_SECRET_KEY"] = secrets.token_hex(20)  # 40 characters
    return env


def _session_cookie(response: http.client.HTTPResponse) -> str:
    for header in response.headers.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0].strip()
        name, _, value = pair.partition("=")
        if value and value != '""':
            return f"{name}={value}"
    raise BenchError("login answered without a session cookie")


def log_in(port: int) -> tuple[str, str]:
    """Register a user, log in; the session cookie and the user's cart id."""
    password = secrets.token_urlsafe(16)
    user = {
        "first_name": "Bench",
        "last_name": "User",
        "email": "bench@bench.local",
        "age": 30,
        "password": password,
    }
    status, _, answer = request(port, "POST", "/api/users", user)
    if status != 201:
        raise BenchError(f"registration answered {status}: {answer}")
    cart = answer["payload"]["cart"]
    login = {"email": user["email"], "password": password}
    status, response, answer = request(port, "POST", "/api/sessions/login", login)
    if status != 200:
        raise BenchError(f"login answered {status}: {answer}")
    return _session_cookie(response), cart


def shop_loads(cookie: str, cart: str, pids: list[str], wide: list[str]) -> list[Load]:
    # Add-to-cart rotates over the same pids, so after the first lap the cart holds one
    # line per pid and every answer (and cart event) carries all of them.
    return [
        Load("GET /api/products?limit=10", ("/api/products?limit=10",)),
        Load("GET /api/products/:pid", tuple(f"/api/products/{pid}" for pid in pids)),
        # Reported, not a target: more ids than the catalogue cache holds (10,000), so at
        # 100,000 products every read misses it and goes to SQLite.
        Load(UNCACHED, tuple(f"/api/products/{pid}" for pid in wide)),
        Load(
            "POST /api/carts/:cid/product/:pid",
            tuple(f"/api/carts/{cart}/product/{pid}" for pid in pids),
            method="POST",
            headers=(("Cookie", cookie), ("Content-Type", "application/json")),
            body='{"quantity":1}',
        ),
    ]


def check_once(port: int, load: Load) -> None:
    """One request of each kind before the load: a 4xx here is a bench bug, say so now."""
    cookie = dict(load.headers).get("Cookie")
    body = json.loads(load.body) if load.body is not None else None
    status, _, answer = request(port, load.method, load.paths[0], body, cookie)
    if status != 200:
        raise BenchError(f"{load.name} answered {status}: {answer}")


def measure_shop(size: int, args: argparse.Namespace, rng: random.Random) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix=f"shop-bench-{size}-") as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        pids = seed_products(data_dir / "shop.db", size, rng)
        seconds = time.perf_counter() - started
        print(f"seeded {size:,} products in {seconds:.1f}s", flush=True)
        port = free_port()
        argv = [PYTHON, "-m", "shop", "serve", "--port", str(port)]
        log = data_dir / "server.log"
        with serving(argv, port, "/healthz", log, env=shop_env(data_dir)):
            cookie, cart = log_in(port)
            loads = shop_loads(
                cookie,
                cart,
                rng.sample(pids, min(ROTATED_PIDS, len(pids))),
                rng.sample(pids, min(WIDE_PIDS, len(pids))),
            )
            for load in loads:
                check_once(port, load)
            return [measure(load, size, port, data_dir, args) for load in loads]


# ---- report ----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(bare: list[Result], shop: list[Result], sizes: list[int]) -> bool:
    """Print the tables; True when every target is met and every answer was 2xx."""
    bare_rps = sum(r.rps for r in bare) / len(bare)
    rule = "-" * 100
    print(f"\n{rule}")
    print(
        f"{'endpoint':<34}{'catalogue':>10}{'req/s':>10}{'p99 ms':>9}"
        f"{'vs bare':>9}{'non-2xx':>9}{'sock err':>10}"
    )
    print(rule)
    for r in [*bare, *shop]:
        size = f"{r.size:,}" if r.size is not None else "-"
        ratio = f"{r.rps / bare_rps:.2f}" if r.size is not None else "-"
        print(
            f"{r.endpoint:<34}{size:>10}{r.rps:>10,.0f}{r.p99_ms:>9.1f}"
            f"{ratio:>9}{r.non_2xx:>9}{r.socket_errors:>10}"
        )
    print(rule)
    spread = (max(r.rps for r in bare) - min(r.rps for r in bare)) / bare_rps
    print(f"bare handler: mean of {len(bare)} runs {bare_rps:,.0f} req/s, spread {spread:.0%}")
    if spread > NOISY_SPREAD:
        print("warning: the bare runs disagree: the machine was busy, ratios are rough")

    ok = True
    by_key = {(r.endpoint, r.size): r for r in shop}
    small, large = min(sizes), max(sizes)
    print(f"\ntargets (smallest catalogue {small:,}, largest {large:,}):")
    for endpoint in ("GET /api/products?limit=10", "GET /api/products/:pid"):
        ratio = by_key[endpoint, small].rps / bare_rps
        passed = ratio >= BASE_FLOOR
        ok &= passed
        print(f"  {verdict(passed)}  {endpoint:<34} {ratio:.2f} of bare (>= {BASE_FLOOR})")
    if large != small:
        for endpoint in dict.fromkeys(r.endpoint for r in shop if r.endpoint != UNCACHED):
            ratio = by_key[endpoint, large].rps / by_key[endpoint, small].rps
            passed = ratio >= SCALE_FLOOR
            ok &= passed
            print(
                f"  {verdict(passed)}  {endpoint:<34} {large:,}/{small:,} = {ratio:.2f}"
                f" (>= {SCALE_FLOOR})"
            )
    failed = sum(r.non_2xx + r.socket_errors for r in [*bare, *shop])
    ok &= failed == 0
    print(f"  {verdict(failed == 0)}  every answer 2xx, no socket errors ({failed} bad)")
    return ok


# ---- main ------------------------------------------------------------------------------


def _sizes(raw: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in raw.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {raw!r}") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before each")
    parser.add_argument("--sizes", type=_sizes, default=[1000, 100_000], help="e.g. 1000,100000")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
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
        f" on {HOST}; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}",
        flush=True,
    )
    bare: list[Result] = []
    shop: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="shop-bench-bare-") as tmp:
            bare.append(measure_bare(Path(tmp), "before", args))
        for size in args.sizes:
            shop += measure_shop(size, args, rng)
        with tempfile.TemporaryDirectory(prefix="shop-bench-bare-") as tmp:
            bare.append(measure_bare(Path(tmp), "after", args))
    except BenchError as exc:
        print(f"http_load: {exc}", file=sys.stderr)
        return 2
    return 0 if report(bare, shop, args.sizes) else 1


if __name__ == "__main__":
    sys.exit(main())
