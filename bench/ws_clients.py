"""The websocket clients of bench/ws_fanout.py, each process a share of them.

`python bench/ws_clients.py PORT COUNT` opens COUNT sockets to the shop on PORT, prints one
JSON line when they are ready and one per round of product events once every socket has
it (with the time the last one did), and obeys `closes` (report the close codes once the
server stops) and `quit` on its standard input. `Clients` drives such a process.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import aiohttp
from servers import HOST, PYTHON, ROOT, BenchError

CONNECT_CONCURRENCY = 64  # per client process; stays under the server's listen backlog
ROUND_TIMEOUT = 60.0


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
            str(port),
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


if __name__ == "__main__":
    asyncio.run(run_clients(int(sys.argv[1]), int(sys.argv[2])))
