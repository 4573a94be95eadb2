"""Websocket fan-out: how long until the last of N clients has a product change, and what
an idle socket costs the server.

For each N it starts `python -m shop serve` on a fresh SQLite data dir (loopback only),
makes an admin with `python -m shop create-admin`, and connects N websocket clients from
separate client processes, so the server process is measured alone. The server's memory
per idle socket is its VmRSS growth from before the N sockets to after them, over N. Then,
round after round, the admin changes a product through the API and the time from that call
until the last client has the event is recorded. Stopping the server must close every
socket with GOING_AWAY.

    .venv/bin/python bench/ws_fanout.py [--clients 1000,5000] [--rounds 20] [--procs 2]

Exits 1 when a target is missed, 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from servers import HOST, PYTHON, ROOT, BenchError, free_port, parse_sizes, serving, shop_env

P99_TARGET_MS = 250.0  # at TARGET_CLIENTS
TARGET_CLIENTS = 1000
KB_PER_SOCKET_TARGET = 40.0
WARMUP_SOCKETS = 20
CONNECT_CONCURRENCY = 64  # per client process; stays under the server's listen backlog
ROUND_TIMEOUT = 60.0
GOING_AWAY = 1001
ADMIN_EMAIL = "admin@bench.local"


@dataclass(frozen=True, slots=True)
class Figures:
    clients: int
    latencies_ms: list[float]  # from the API call until the last client has the event
    api_ms: list[float]  # until the API call answered (the store's write is in both)
    kb_per_socket: float
    going_away: int
    stop_seconds: float


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: with 20 rounds, p99 is the slowest round."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ---- the client processes --------------------------------------------------------------


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


class Arrivals:
    """Per round: how many of this process's sockets have the event, and when the last did."""

    def __init__(self, sockets: int) -> None:
        self.sockets = sockets
        self.count: Counter[int] = Counter()
        self.last: dict[int, float] = {}

    def arrived(self, round_no: int, at: float) -> None:
        self.count[round_no] += 1
        self.last[round_no] = max(at, self.last.get(round_no, 0.0))
        if self.count[round_no] == self.sockets:
            emit(round=round_no, last=self.last[round_no])


async def follow(ws: aiohttp.ClientWebSocketResponse, arrivals: Arrivals) -> int | None:
    async for msg in ws:
        if msg.type is aiohttp.WSMsgType.TEXT:
            event = json.loads(msg.data)
            if event["type"] == "product.updated":
                arrivals.arrived(event["product"]["stock"], time.monotonic())
    return ws.close_code


async def run_clients(port: int, count: int) -> None:
    """Open `count` sockets, report arrivals on stdout, obey `closes`/`quit` on stdin."""
    url = f"http://{HOST}:{port}/ws"
    origin = f"http://{HOST}:{port}"
    slots = asyncio.Semaphore(CONNECT_CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def connect() -> aiohttp.ClientWebSocketResponse:
            async with slots:
                ws = await session.ws_connect(url, origin=origin)
                hello = await ws.receive_json(timeout=30)
                if hello.get("type") != "hello":
                    raise RuntimeError(f"first message was not hello: {hello}")
                return ws

        try:
            sockets = await asyncio.gather(*(connect() for _ in range(count)))
        except (aiohttp.ClientError, OSError, RuntimeError, TimeoutError) as exc:
            emit(error=f"connecting: {exc!r}")
            return
        arrivals = Arrivals(count)
        readers = [asyncio.create_task(follow(ws, arrivals)) for ws in sockets]
        emit(ready=count)
        while command := (await asyncio.to_thread(sys.stdin.readline)).strip():
            if command == "closes":
                done, _ = await asyncio.wait(readers, timeout=ROUND_TIMEOUT)
                codes = Counter(str(task.result()) for task in done)
                emit(closes=dict(codes), open=len(readers) - len(done))
                break
            if command == "quit":
                break
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)


class Clients:
    """One client process, driven over its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process, count: int) -> None:
        self.process = process
        self.count = count

    @classmethod
    async def start(cls, port: int, count: int) -> Clients:
        process = await asyncio.create_subprocess_exec(
            PYTHON,
            __file__,
            "--client-of",
            str(port),
            "--count",
            str(count),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        return cls(process, count)

    async def expect(self, key: str) -> dict[str, Any]:
        """The client process's next line, which must carry `key`."""
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(ROUND_TIMEOUT):
                line = await self.process.stdout.readline()
        except TimeoutError:
            raise BenchError(f"no {key!r} from a client within {ROUND_TIMEOUT:.0f}s") from None
        if not line:
            raise BenchError(f"a client process exited ({await self.process.wait()})")
        message = json.loads(line)
        if key not in message:
            raise BenchError(f"a client process said {message}, expected {key!r}")
        return message

    async def tell(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()

    async def finish(self) -> None:
        if self.process.returncode is None:
            try:
                await self.tell("quit")
                await asyncio.wait_for(self.process.wait(), 30)
            except (TimeoutError, ConnectionError):
                self.process.kill()
                await self.process.wait()


# ---- the measuring process -------------------------------------------------------------


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for process {pid}")


def create_admin(env: dict[str, str], password: str) -> None:
    done = subprocess.run(
        [PYTHON, "-m", "shop", "create-admin", "--email", ADMIN_EMAIL, "--password-stdin"],
        cwd=ROOT,
        env=env,
        input=f"{password}\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise BenchError(f"create-admin failed: {done.stderr.strip()}")


async def ok(response: aiohttp.ClientResponse, status: int = 200) -> Any:
    if response.status != status:
        raise BenchError(f"{response.method} {response.url.path} answered {response.status}")
    return (await response.json())["payload"]


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def measure(
    port: int, server: subprocess.Popen[bytes], password: str, n: int, args: argparse.Namespace
) -> Figures:
    base = f"http://{HOST}:{port}"
    jar = aiohttp.CookieJar(unsafe=True)  # the server is an IP address
    async with aiohttp.ClientSession(base, cookie_jar=jar) as api:
        await ok(
            await api.post(
                "/api/sessions/login", json={"email": ADMIN_EMAIL, "password": password}
            )
        )
        body = {"title": "Bench", "code": "BENCH-1", "price": 10.0, "stock": 0, "category": "B"}
        pid = (await ok(await api.post("/api/products", json=body), 201))["_id"]

        # Warm the websocket code paths up, so the baseline already holds them.
        warmup = await Clients.start(port, WARMUP_SOCKETS)
        await warmup.expect("ready")
        await warmup.finish()
        before = rss_kb(server.pid)

        groups: list[Clients] = []
        try:
            for count in split(n, min(args.procs, n)):
                groups.append(await Clients.start(port, count))
            for group in groups:
                await group.expect("ready")
            await asyncio.sleep(1)  # let the server finish its per-connection work
            after = rss_kb(server.pid)
            print(f"  {n:,} sockets open: server RSS {before:,} -> {after:,} kB", flush=True)

            latencies: list[float] = []
            api_times: list[float] = []
            for round_no in range(1, args.rounds + 1):
                started = time.monotonic()
                await ok(await api.put(f"/api/products/{pid}", json={"stock": round_no}))
                api_times.append((time.monotonic() - started) * 1000)
                lasts = []
                for group in groups:
                    message = await group.expect("round")
                    if message["round"] != round_no:
                        raise BenchError(f"round {message['round']} arrived during {round_no}")
                    lasts.append(message["last"])
                latencies.append((max(lasts) - started) * 1000)
                await asyncio.sleep(0.05)
            print(f"  last client, ms: {' '.join(f'{x:.0f}' for x in latencies)}")
            print(f"  API answer, ms:  {' '.join(f'{x:.0f}' for x in api_times)}", flush=True)

            stopping = time.monotonic()
            server.terminate()  # aiohttp's graceful shutdown: on_shutdown closes the sockets
            going_away = 0
            for group in groups:
                await group.tell("closes")
                report = await group.expect("closes")
                going_away += report["closes"].get(str(GOING_AWAY), 0)
            stop_seconds = time.monotonic() - stopping
        finally:
            for group in groups:
                await group.finish()
    return Figures(n, latencies, api_times, (after - before) / n, going_away, stop_seconds)


def run(n: int, args: argparse.Namespace) -> Figures:
    with tempfile.TemporaryDirectory(prefix=f"shop-ws-bench-{n}-") as tmp:
        data_dir = Path(tmp)
        env = shop_env(data_dir)
        password = secrets.token_urlsafe(16)
        create_admin(env, password)
        port = free_port()
        argv = [PYTHON, "-m", "shop", "serve", "--port", str(port)]
        with serving(argv, port, "/healthz", data_dir / "server.log", env=env) as server:
            return asyncio.run(measure(port, server, password, n, args))


def report(results: list[Figures]) -> bool:
    """Print the table; True when every target is met."""
    rule = "-" * 88
    print(f"\n{rule}")
    print(
        f"{'clients':>8}{'rounds':>8}{'p50 ms':>9}{'p99 ms':>9}{'API p50':>9}{'API p99':>9}"
        f"{'KB/idle socket':>16}{'GOING_AWAY':>12}{'stop s':>8}"
    )
    print(rule)
    for r in results:
        print(
            f"{r.clients:>8,}{len(r.latencies_ms):>8}"
            f"{percentile(r.latencies_ms, 50):>9.1f}{percentile(r.latencies_ms, 99):>9.1f}"
            f"{percentile(r.api_ms, 50):>9.1f}{percentile(r.api_ms, 99):>9.1f}"
            f"{r.kb_per_socket:>16.1f}{f'{r.going_away:,}/{r.clients:,}':>12}"
            f"{r.stop_seconds:>8.1f}"
        )
    print(rule)
    print("p50/p99: API call until the last client has the event; API: until the call answered")
    ok = True
    print("targets:")
    for r in results:
        if r.clients == TARGET_CLIENTS:
            p99 = percentile(r.latencies_ms, 99)
            passed = p99 < P99_TARGET_MS
            ok &= passed
            print(
                f"  {verdict(passed)}  p99 {p99:.0f} ms at {r.clients:,} clients"
                f" < {P99_TARGET_MS:.0f} ms"
            )
        passed = r.kb_per_socket < KB_PER_SOCKET_TARGET
        ok &= passed
        print(
            f"  {verdict(passed)}  {r.kb_per_socket:.1f} KB per idle socket at {r.clients:,}"
            f" < {KB_PER_SOCKET_TARGET:.0f} KB"
        )
        passed = r.going_away == r.clients
        ok &= passed
        print(f"  {verdict(passed)}  stopping the server closed all {r.clients:,} with GOING_AWAY")
    return ok


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the children
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise BenchError(f"needs {needed:,} file descriptors, the hard limit is {hard:,}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=parse_sizes, default=[1000, 5000], help="e.g. 1000,5000")
    parser.add_argument("--rounds", type=int, default=20, help="product changes per size")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--client-of", type=int, help=argparse.SUPPRESS)  # a client process
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.client_of is not None:
        asyncio.run(run_clients(args.client_of, args.count))
        return 0
    if not 1 <= args.rounds <= 1000 or not 1 <= args.procs <= 16:
        print("ws_fanout: --rounds must be 1-1000 and --procs 1-16", file=sys.stderr)
        return 2
    print(
        f"{args.procs} client processes on {HOST}; {os.cpu_count()} CPUs;"
        f" Python {sys.version.split()[0]}; aiohttp {aiohttp.__version__}",
        flush=True,
    )
    results = []
    try:
        # The server holds one descriptor per client; each client process its share.
        raise_fd_limit(max(args.clients) + 1024)
        for n in args.clients:
            print(f"{n:,} clients:", flush=True)
            results.append(run(n, args))
    except BenchError as exc:
        print(f"ws_fanout: {exc}", file=sys.stderr)
        return 2
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
