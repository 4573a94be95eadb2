"""Shop processes for the benches, each set with an admin (`ADMIN_EMAIL`): one process on
a fresh SQLite data dir, or several on one MongoDB (mongoeco's wire server, in its own
process) and one Redis (Debian's redis-server). Everything started is stopped by the
ExitStack it is given."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from servers import HOST, PYTHON, ROOT, BenchError, free_port, serving, shop_env

ADMIN_EMAIL = "admin@bench.local"
type Servers = list[tuple[int, subprocess.Popen[bytes]]]  # (port, process) of each shop

MONGO_SERVER = """\
import asyncio, sys
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

async def main():
    async with AsyncMongoEcoProxyServer(port=int(sys.argv[1])):
        await asyncio.Event().wait()

asyncio.run(main())
"""


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


def single(stack: ExitStack) -> tuple[Servers, str]:
    """One shop on SQLite, ready; its (port, process) and the admin's password."""
    data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shop-bench-")))
    env = shop_env(data_dir)
    password = secrets.token_urlsafe(16)
    create_admin(env, password)
    return [_shop(env, data_dir / "server.log", "/healthz", stack)], password


def cluster(processes: int, stack: ExitStack) -> tuple[Servers, str]:
    """`processes` shops on one MongoDB and one Redis, each subscribed (its /readyz 200)."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise BenchError("several processes need Debian's redis-server")
    data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shop-bench-")))
    mongo_port, redis_port = free_port(), free_port()
    mongo_argv = [PYTHON, "-c", MONGO_SERVER, str(mongo_port)]
    stack.enter_context(_listening(mongo_argv, mongo_port, data_dir / "mongo.log"))
    redis_argv = [redis_server, "--port", str(redis_port), "--bind", HOST, "--save", ""]
    redis_argv += ["--appendonly", "no", "--dir", str(data_dir)]
    stack.enter_context(_listening(redis_argv, redis_port, data_dir / "redis.log"))
    env = shop_env(data_dir)
    env["SHOP_DATABASE_URL"] = f"mongodb://{HOST}:{mongo_port}/shop?directConnection=true"
    env["SHOP_REDIS_URL"] = f"redis://{HOST}:{redis_port}/0"
    password = secrets.token_urlsafe(16)
    create_admin(env, password)
    servers = [
        _shop(env, data_dir / f"server-{number}.log", "/readyz", stack)
        for number in range(processes)
    ]
    return servers, password


def _shop(
    env: dict[str, str], log: Path, ready: str, stack: ExitStack
) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    argv = [PYTHON, "-m", "shop", "serve", "--port", str(port)]
    return port, stack.enter_context(serving(argv, port, ready, log, env=env))


@contextmanager
def _listening(argv: Sequence[str], port: int, log: Path) -> Iterator[None]:
    """A server subprocess (MongoDB, Redis) once it accepts connections on `port`."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BenchError(
                        f"{argv[0]} did not start: {log.read_text()[-500:]}"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        process.kill()
        process.wait()
