"""Websocket fan-out: how long until the last of N clients has a product change, and what
an idle socket costs the server.

For each N it starts `python -m shop serve` on a fresh SQLite data dir (loopback only),
makes an admin with `python -m shop create-admin`, and connects N websocket clients from
separate client processes, so the server process is measured alone. The server's memory
per idle socket is its VmRSS growth from before the N sockets to after them, over N. Then,
round after round, the admin changes a product through the API and the time from that call
until the last client has the event is recorded. Stopping the server must close every
socket with GOING_AWAY.

The cluster row does the same with several shop processes on one MongoDB (mongoeco's
wire server, in its own process) and one Redis (Debian's redis-server), the clients spread
evenly over them (one client process per shop process): the admin's change, made on the
first process, reaches the others over Redis. Its p99 must stay within CLUSTER_FACTOR of
the single process's TARGET_CLIENTS row.

    .venv/bin/python bench/ws_fanout.py [--clients 1000,5000] [--rounds 20] [--procs 2]
        [--cluster 3000] [--cluster-processes 3] [--cluster-procs 1]

Exits 1 when a target is missed, 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import shops
from servers import HOST, BenchError, parse_sizes
from shops import ADMIN_EMAIL, Servers
from ws_clients import Clients

P99_TARGET_MS = 250.0  # at TARGET_CLIENTS
TARGET_CLIENTS = 1000
CLUSTER_FACTOR = 2.0  # the cluster row's p99 at most this times the TARGET_CLIENTS row's
KB_PER_SOCKET_TARGET = 40.0
WARMUP_SOCKETS = 20
GOING_AWAY = 1001


@dataclass(frozen=True, slots=True)
class Figures:
    clients: int
    processes: int  # shop processes the clients were spread over
    latencies_ms: list[float]  # from the API call until the last client has the event
    api_ms: list[float]  # until the API call answered (the store's write is in both)
    kb_per_socket: float
    going_away: int
    stop_seconds: float


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: with 20 rounds, p99 is the slowest round."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ---- the measuring process -------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for process {pid}")


async def ok(response: aiohttp.ClientResponse, status: int = 200) -> Any:
    if response.status != status:
        raise BenchError(f"{response.method} {response.url.path} answered {response.status}")
    return (await response.json())["payload"]


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


class Fanout:
    """Shop processes with N clients spread evenly over them (`procs` client processes per
    server), measured round by round; the admin works on the first server."""

    def __init__(self, servers: Servers, password: str, n: int, procs: int) -> None:
        self.servers = servers
        self.password = password
        self.n = n
        self.procs = procs
        self.groups: list[Clients] = []
        self.latencies: list[float] = []  # from the API call until the last client has it
        self.api_times: list[float] = []
        self.kb_per_socket = 0.0
        self.cpu_ms = 0.0  # the servers' CPU time over the rounds
        self.client_cpu_ms = 0.0  # the client processes' (the harness's own cost)
        self._api: aiohttp.ClientSession | None = None
        self._pid = ""

    async def open(self) -> None:
        """Log in, make the product, warm up, then open the sockets and weigh them."""
        base = f"http://{HOST}:{self.servers[0][0]}"
        jar = aiohttp.CookieJar(unsafe=True)  # the server is an IP address
        self._api = api = aiohttp.ClientSession(base, cookie_jar=jar)
        login = {"email": ADMIN_EMAIL, "password": self.password}
        await ok(await api.post("/api/sessions/login", json=login))
        body = {"title": "Bench", "code": "BENCH-1", "price": 10.0, "stock": 0, "category": "B"}
        self._pid = (await ok(await api.post("/api/products", json=body), 201))["_id"]
        # Warm the websocket code paths up, so the baseline already holds them.
        for port, _ in self.servers:
            warmup = await Clients.start(port, WARMUP_SOCKETS)
            await warmup.expect("ready")
            await warmup.finish()
        before = sum(rss_kb(server.pid) for _, server in self.servers)
        shares = split(self.n, len(self.servers))
        for (port, _), share in zip(self.servers, shares, strict=True):
            for count in split(share, min(self.procs, share)):
                self.groups.append(await Clients.start(port, count))
        for group in self.groups:
            await group.expect("ready")
        await asyncio.sleep(1)  # let the servers finish their per-connection work
        after = sum(rss_kb(server.pid) for _, server in self.servers)
        self.kb_per_socket = (after - before) / self.n
        print(f"  {self.n:,} sockets open: server RSS {before:,} -> {after:,} kB", flush=True)

    async def round(self, round_no: int) -> None:
        assert self._api is not None
        cpu = sum(cpu_seconds(server.pid) for _, server in self.servers)
        client_cpu = sum(cpu_seconds(group.process.pid) for group in self.groups)
        started = time.monotonic()
        await ok(await self._api.put(f"/api/products/{self._pid}", json={"stock": round_no}))
        self.api_times.append((time.monotonic() - started) * 1000)
        lasts = []
        for group in self.groups:
            message = await group.expect("round")
            if message["round"] != round_no:
                raise BenchError(f"round {message['round']} arrived during {round_no}")
            lasts.append(message["last"])
        self.latencies.append((max(lasts) - started) * 1000)
        self.cpu_ms += (sum(cpu_seconds(server.pid) for _, server in self.servers) - cpu) * 1000
        client_cpu = sum(cpu_seconds(group.process.pid) for group in self.groups) - client_cpu
        self.client_cpu_ms += client_cpu * 1000
        await asyncio.sleep(0.05)

    async def close(self) -> Figures:
        """Stop the servers (SIGTERM) and count the sockets closed with GOING_AWAY."""
        for label, values in (("last client", self.latencies), ("API answer", self.api_times)):
            print(f"  {self.n:,} clients, {label}, ms: {' '.join(f'{x:.0f}' for x in values)}")
        rounds = len(self.latencies)
        print(
            f"  {self.n:,} clients, CPU per round: servers {self.cpu_ms / rounds:.0f} ms,"
            f" client processes {self.client_cpu_ms / rounds:.0f} ms"
        )
        stopping = time.monotonic()
        for _, server in self.servers:
            server.terminate()  # aiohttp's graceful shutdown: on_shutdown closes the sockets
        going_away = 0
        for group in self.groups:
            await group.tell("closes")
            report = await group.expect("closes")
            going_away += report["closes"].get(str(GOING_AWAY), 0)
        stop_seconds = time.monotonic() - stopping
        return Figures(
            self.n,
            len(self.servers),
            self.latencies,
            self.api_times,
            self.kb_per_socket,
            going_away,
            stop_seconds,
        )

    async def finish(self) -> None:
        for group in self.groups:
            await group.finish()
        if self._api is not None:
            await self._api.close()


async def measure(fanouts: list[Fanout], rounds: int) -> list[Figures]:
    """Open every fan-out, then run their rounds in turn (so a machine that gets busier
    slows them alike), then close them."""
    try:
        for fanout in fanouts:
            await fanout.open()
        for round_no in range(1, rounds + 1):
            for fanout in fanouts:
                await fanout.round(round_no)
        return [await fanout.close() for fanout in fanouts]
    finally:
        for fanout in fanouts:
            await fanout.finish()


def single(n: int, args: argparse.Namespace, stack: ExitStack) -> Fanout:
    """One shop process on SQLite; `stack` stops it."""
    servers, password = shops.single(stack)
    return Fanout(servers, password, n, args.procs)


def cluster(n: int, args: argparse.Namespace, stack: ExitStack) -> Fanout:
    """Shop processes on one MongoDB and one Redis; `stack` stops them."""
    servers, password = shops.cluster(args.cluster_processes, stack)
    return Fanout(servers, password, n, args.cluster_procs)


def run(args: argparse.Namespace) -> list[Figures]:
    """Every row; the cluster row's rounds alternate with the TARGET_CLIENTS row's."""
    results: list[Figures] = []
    for n in args.clients:
        paired = n == TARGET_CLIENTS and args.cluster
        label = f" and {args.cluster:,} over {args.cluster_processes} processes" if paired else ""
        print(f"{n:,} clients{label}:", flush=True)
        with ExitStack() as stack:
            fanouts = [single(n, args, stack)]
            if paired:
                fanouts.append(cluster(args.cluster, args, stack))
            results += asyncio.run(measure(fanouts, args.rounds))
    if args.cluster and TARGET_CLIENTS not in args.clients:
        print(f"{args.cluster:,} clients over {args.cluster_processes} processes:", flush=True)
        with ExitStack() as stack:
            results += asyncio.run(measure([cluster(args.cluster, args, stack)], args.rounds))
    return results


def report(results: list[Figures]) -> bool:
    """Print the table; True when every target is met."""
    rule = "-" * 98
    print(f"\n{rule}")
    print(
        f"{'clients':>8}{'procs':>7}{'rounds':>8}{'p50 ms':>9}{'p99 ms':>9}{'API p50':>9}"
        f"{'API p99':>9}{'KB/idle socket':>16}{'GOING_AWAY':>12}{'stop s':>8}"
    )
    print(rule)
    for r in results:
        print(
            f"{r.clients:>8,}{r.processes:>7}{len(r.latencies_ms):>8}"
            f"{percentile(r.latencies_ms, 50):>9.1f}{percentile(r.latencies_ms, 99):>9.1f}"
            f"{percentile(r.api_ms, 50):>9.1f}{percentile(r.api_ms, 99):>9.1f}"
            f"{r.kb_per_socket:>16.1f}{f'{r.going_away:,}/{r.clients:,}':>12}"
            f"{r.stop_seconds:>8.1f}"
        )
    print(rule)
    print("p50/p99: API call until the last client has the event; API: until the call answered")
    ok = True
    print("targets:")
    baseline = next((r for r in results if r.clients == TARGET_CLIENTS and r.processes == 1), None)
    for r in results:
        if r.processes > 1 and baseline is not None:
            p99, limit = percentile(r.latencies_ms, 99), percentile(baseline.latencies_ms, 99)
            passed = p99 <= CLUSTER_FACTOR * limit
            ok &= passed
            print(
                f"  {verdict(passed)}  p99 {p99:.0f} ms at {r.clients:,} clients over"
                f" {r.processes} processes <= {CLUSTER_FACTOR:g} x {limit:.0f} ms"
                f" ({TARGET_CLIENTS:,} clients, 1 process)"
            )
        if r.clients == TARGET_CLIENTS and r.processes == 1:
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
    parser.add_argument("--procs", type=int, default=2, help="client processes per server")
    parser.add_argument(
        "--cluster", type=int, default=3000, help="clients of the cluster row (0: none)"
    )
    parser.add_argument("--cluster-processes", type=int, default=3, help="its shop processes")
    # One per shop process: on a two-core machine more client processes than that measure
    # mostly their own scheduling.
    parser.add_argument(
        "--cluster-procs", type=int, default=1, help="its client processes per shop process"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not 1 <= args.rounds <= 1000 or not 1 <= args.procs <= 16:
        print("ws_fanout: --rounds must be 1-1000 and --procs 1-16", file=sys.stderr)
        return 2
    if (
        args.cluster < 0
        or not 2 <= args.cluster_processes <= 8
        or not 1 <= args.cluster_procs <= 8
    ):
        print(
            "ws_fanout: --cluster must be 0 or more, --cluster-processes 2-8, --cluster-procs 1-8",
            file=sys.stderr,
        )
        return 2
    print(
        f"{args.procs} client processes on {HOST}; {os.cpu_count()} CPUs;"
        f" Python {sys.version.split()[0]}; aiohttp {aiohttp.__version__}",
        flush=True,
    )
    try:
        # A server holds one descriptor per client, each client process its share; the
        # paired rows are open at once.
        raise_fd_limit(max(*args.clients, TARGET_CLIENTS + args.cluster) + 1024)
        results = run(args)
    except BenchError as exc:
        print(f"ws_fanout: {exc}", file=sys.stderr)
        return 2
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
