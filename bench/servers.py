"""Servers under load: free ports, server subprocesses and one-off requests to them.

Shared by the benches (`http_load.py`, `purchase_load.py`, `ws_fanout.py` and their helpers);
everything stays on loopback.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"  # loopback only: this never loads anything but our own processes
START_TIMEOUT = 60.0


class BenchError(Exception):
    """The bench cannot go on; the message says why in one line."""


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
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
        try:
            _wait_ready(process, port, ready_path, log)
            yield process
        finally:
            stop(process)


def shop_env(data_dir: Path) -> dict[str, str]:
    # Only our SHOP_* settings: a developer's SHOP_HTTPS or SHOP_PORT must not leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOP_")}
    env["SHOP_DATA_DIR"] = str(data_dir)
    env["SHOP_DATABASE_URL"] = f"sqlite:///{data_dir / 'shop.db'}"
    env["SHOP_SECRET_KEY"] = secrets.token_hex(20)  # 40 characters
    return env


def session_cookie(response: http.client.HTTPResponse) -> str:
    """The `name=value` of the session cookie a login answer set."""
    for header in response.headers.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0].strip()
        name, _, value = pair.partition("=")
        if value and value != '""':
            return f"{name}={value}"
    raise BenchError("login answered without a session cookie")


def parse_sizes(raw: str) -> list[int]:
    """`--sizes 1000,100_000` as a sorted list of distinct positive numbers."""
    try:
        sizes = sorted({int(part.replace("_", "")) for part in raw.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {raw!r}") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes
