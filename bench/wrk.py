"""Driving wrk: one Lua script shape for every row, and the figures it prints."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from servers import HOST, BenchError

WRK = shutil.which("wrk") or "/usr/bin/wrk"

# One script for every row, so wrk's own per-request cost is the same for all of them.
# Request n goes to paths[n] with cookies[n] (both lists wrap around; no cookie when the
# list is empty), so a list of paths ordered user by user gives each connection's requests
# to every user in turn. `done` prints one machine-readable line; latencies in microseconds.
LUA_TEMPLATE = """\
local method = {method}
local paths = {{{paths}}}
local cookies = {{{cookies}}}
local headers = {{{headers}}}
local body = {body}
local n = 0

request = function()
  n = n + 1
  if #cookies > 0 then
    headers["Cookie"] = cookies[(n % #cookies) + 1]
  end
  return wrk.format(method, paths[(n % #paths) + 1], headers, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%.0f p99_us=%.0f status=%d"
      .. " connect=%d read=%d write=%d timeout=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
"""


@dataclass(frozen=True, slots=True)
class Load:
    """What wrk sends: a method, paths and cookies it rotates over, headers, a body."""

    name: str
    paths: tuple[str, ...]
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    cookies: tuple[str, ...] = ()
    # Each path may be taken only once (a purchase empties its cart): the warm-up and the
    # measured run then take separate parts of the list.
    once: bool = False

    def split(self, share: float) -> tuple[Load, Load]:
        """The first `share` of the paths and the rest, cut where a user's turn begins."""
        turn = max(1, len(self.cookies))
        cut = int(len(self.paths) * share) // turn * turn
        return replace(self, paths=self.paths[:cut]), replace(self, paths=self.paths[cut:])


@dataclass(frozen=True, slots=True)
class Result:
    endpoint: str
    size: int | None  # the catalogue's size; None for a baseline server
    rps: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


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
            cookies=", ".join(_lua(cookie) for cookie in load.cookies),
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
    """Warm up, then one measured wrk run of `load`; prints its rate as it goes."""
    warm, timed = (load, load)
    if load.once:
        warm, timed = load.split(args.warmup / (args.warmup + args.duration))
    if args.warmup > 0:
        run_wrk(port, write_script(warm, scripts), args.warmup, args.connections)
    figures = run_wrk(port, write_script(timed, scripts), args.duration, args.connections)
    result = Result(
        endpoint=load.name,
        size=size,
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p99_ms=figures["p99_us"] / 1000,
        non_2xx=int(figures["non_2xx"]),
        socket_errors=int(sum(figures[k] for k in ("connect", "read", "write", "timeout"))),
    )
    where = f"{size:,} products" if size is not None else "baseline"
    print(
        f"  {load.name:<40} {where:>16}  {result.rps:>9,.0f} req/s  p99 {result.p99_ms:.1f} ms",
        flush=True,
    )
    return result
