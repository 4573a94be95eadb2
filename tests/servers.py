"""Real servers for the tests: Debian's redis-server, mongoeco's wire server in a thread of
the test process, and a TCP proxy that can stop answering (the shop's own processes and
nginx are in tests/deployment.py).

A missing redis-server or nginx skips the tests that need it, except when
SHOP_REQUIRE_SERVERS=1 (CI), where it is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shop_env(data_dir: Path, **variables: str) -> dict[str, str]:
    """The test's environment without any SHOP_* setting, plus the given ones."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SHOP_")}
    env["SHOP_DATA_DIR"] = str(data_dir)
    env.update(variables)
    return env


def require(program: str) -> str:
    """The program's path; skip the test without it (fail when SHOP_REQUIRE_SERVERS=1)."""
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin")
    if path is not None:
        return path
    reason = f"needs Debian's {program} (apt-get install {program})"
    if os.environ.get("SHOP_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason}; SHOP_REQUIRE_SERVERS=1")
    pytest.skip(reason)


def wait_until(ready: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll `ready()` (a check on another process: there is no event to await)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready within {timeout:g} s")
        time.sleep(0.05)


# ---- Redis -----------------------------------------------------------------------------


class RedisServer:
    """redis-server on a free loopback port, keeping nothing on disk; can be killed and
    started again on the same port."""

    def __init__(self, directory: Path) -> None:
        self.program = require("redis-server")
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [self.program, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=log)
        wait_until(self._answers, "redis-server", 10)

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: every connection is cut, nothing is kept."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()


# ---- MongoDB (mongoeco) in a thread ------------------------------------------------------


class MongoThread:
    """mongoeco's wire server on its own event loop in a thread of the test process, so it
    answers whatever the test's own loop is doing (and whichever loop the test runs on)."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server = AsyncMongoEcoProxyServer()
        self.port = 0

    def url(self, database: str = "shop") -> str:
        return f"mongodb://127.0.0.1:{self.port}/{database}?directConnection=true"

    def __enter__(self) -> MongoThread:
        self._thread.start()
        address = asyncio.run_coroutine_threadsafe(self._server.start(), self._loop).result(10)
        self.port = address.port
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._server.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


# ---- a server that stops answering -------------------------------------------------------


class FreezableProxy:
    """A loopback TCP proxy to `target_port` that can freeze: it then goes on accepting
    connections and reading what they send, but forwards and answers nothing, like a
    server that hangs. Thawing cuts the connections of the frozen spell (their streams
    lost bytes) and forwards again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.frozen = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> FreezableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    def freeze(self) -> None:
        self.frozen = True

    def thaw(self) -> None:
        self.frozen = False
        self._cut()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self._cut()
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _cut(self) -> None:
        for writer in tuple(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        if not self.frozen:
            try:
                upstream = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:
                writer.transport.abort()
                return
            self._writers.add(upstream[1])
        pumps = [self._pump(reader, upstream[1] if upstream else None)]
        if upstream is not None:
            pumps.append(self._pump(upstream[0], writer))
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            self._tasks.discard(task)
            for end in (writer, upstream[1] if upstream else None):
                if end is not None:
                    end.transport.abort()
                    self._writers.discard(end)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter | None) -> None:
        while data := await source.read(65536):
            if sink is not None and not self.frozen:
                sink.write(data)
                await sink.drain()
        if sink is not None:
            sink.transport.abort()
