"""The websocket clients of bench/ws_fanout.py, each process a share of them.

`python bench/ws_clients.py PORT COUNT` opens COUNT sockets to the shop on PORT, prints one
JSON line when they are ready and one per round of product events once every socket has
it (with the time the last one did), and obeys `closes` (report the close codes once the
server stops) and `quit` on its standard input. `Clients` drives such a process.

The clients are part of the instrument, not of what it measures, so they are as light as
one: a bare asyncio Protocol per socket (our own HTTP upgrade and RFC 6455 framing, no
reader task) that finds the `product.updated` frames and their round with a bytes search
instead of parsing the JSON. Real clients are browsers on other machines; on a two-core
machine a heavier client would mostly measure itself.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from servers import HOST, PYTHON, ROOT, BenchError

CONNECT_CONCURRENCY = 64  # per client process; stays under the server's listen backlog
ROUND_TIMEOUT = 60.0
HANDSHAKE_TIMEOUT = 30.0
MAX_HEADER = 8192  # bytes of the upgrade answer before giving up on it

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
GOING_AWAY, NORMAL = 1001, 1000
# JSON strings escape their quotes, so these only match the message's own keys and values:
# the event's type and its product's stock (the round number).
UPDATED = re.compile(rb'"type":\s*"product\.updated"')
STOCK = re.compile(rb'"stock":\s*(\d+)')


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


def client_frame(opcode: int, payload: bytes = b"") -> bytes:
    """A final, masked frame (clients must mask) of a short control payload."""
    if len(payload) > 125:
        raise ValueError("control frames carry at most 125 bytes")
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked


class ProtocolError(Exception):
    """The server broke the handshake or the framing."""


# Every socket of the process reads into this one buffer: buffer_updated runs right after
# each read, on the one thread, and keeps only copies. asyncio's plain Protocol path
# instead allocates a 256 KiB bytes object per read, which cost ~30 us a read here: more
# than the rest of the client put together.
READ_BUFFER = memoryview(bytearray(64 * 1024))


class Socket(asyncio.BufferedProtocol):
    """One websocket client: the upgrade, then the server's frames as they come."""

    def __init__(self, port: int, arrivals: Arrivals | None) -> None:
        self.key = base64.b64encode(os.urandom(16))
        self.host = f"{HOST}:{port}"
        self.arrivals = arrivals  # set once every socket is connected
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        loop = asyncio.get_running_loop()
        self.hello: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()  # its close code
        self.lost: asyncio.Future[None] = loop.create_future()

    # -- asyncio.BufferedProtocol ------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(
            b"GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: http://%s\r\n\r\n"
            % (self.host.encode(), self.key, self.host.encode())
        )

    def get_buffer(self, sizehint: int) -> memoryview:
        return READ_BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(READ_BUFFER[:nbytes]))

    def data_received(self, data: bytes) -> None:
        if self.buffer:
            self.buffer += data
            data = bytes(self.buffer)
            self.buffer.clear()
        try:
            rest = self._frames(data) if self.upgraded else self._upgrade(data)
        except (ProtocolError, ValueError) as exc:  # ValueError: a hello that is not JSON
            self._fail(exc)
            return
        if rest:
            self.buffer += rest

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.hello.done():
            self.hello.set_exception(ConnectionError(f"connection lost before the hello: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)  # dropped without a close frame
        self.lost.set_result(None)

    # -- the handshake -----------------------------------------------------------------
    def _upgrade(self, data: bytes) -> bytes:
        """Check the 101 answer; the bytes after it are frames. Unfinished: keep it all."""
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > MAX_HEADER:
                raise ProtocolError("no end to the upgrade answer")
            return data
        status, *lines = data[:end].decode("latin-1").split("\r\n")
        if status.split(" ", 2)[1:2] != ["101"]:
            raise ProtocolError(f"upgrade answered {status!r}")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines)
        }
        # SHA-1 is what RFC 6455 prescribes for the accept key; no security rests on it.
        digest = hashlib.sha1(self.key + WS_GUID, usedforsecurity=False).digest()
        accept = base64.b64encode(digest).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise ProtocolError("wrong Sec-WebSocket-Accept")
        self.upgraded = True
        return self._frames(data[end + 4 :])

    # -- frames ------------------------------------------------------------------------
    def _frames(self, data: bytes) -> bytes:
        """Handle every whole frame in `data`; return the unfinished rest."""
        at, size = 0, len(data)
        while size - at >= 2:
            first, second = data[at], data[at + 1]
            if second & 0x80:
                raise ProtocolError("the server masked a frame")
            if not first & 0x80:
                raise ProtocolError("a fragmented message (the server never sends one)")
            length, start = second & 0x7F, at + 2
            if length == 126:
                if size - at < 4:
                    break
                (length,) = struct.unpack_from("!H", data, start)
                start += 2
            elif length == 127:
                if size - at < 10:
                    break
                (length,) = struct.unpack_from("!Q", data, start)
                start += 8
            if size - start < length:
                break
            at = start + length
            self._frame(first & 0x0F, data[start:at])
        return data[at:]

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == TEXT:
            if self.arrivals is not None and UPDATED.search(payload):
                stock = STOCK.search(payload)
                if stock is None:
                    raise ProtocolError("a product.updated event without a stock")
                self.arrivals.arrived(int(stock[1]), time.monotonic())
            elif not self.hello.done():
                self._hello(payload)
        elif opcode == PING:
            self._send(client_frame(PONG, payload))
        elif opcode == CLOSE:
            code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else None
            if not self.closed.done():
                self.closed.set_result(code)
            self._send(client_frame(CLOSE, payload[:2]))

    def _hello(self, payload: bytes) -> None:
        """The first message, once per socket: worth a full parse."""
        message = json.loads(payload)
        if message.get("type") != "hello":
            raise ProtocolError(f"first message was not hello: {message}")
        self.hello.set_result(None)

    # -- writing and failing -----------------------------------------------------------
    def _send(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def close(self) -> None:
        """Start the closing handshake; the server then drops the connection."""
        self._send(client_frame(CLOSE, struct.pack("!H", NORMAL)))

    def _fail(self, exc: Exception) -> None:
        """Drop the connection; `closes` then reports it with no code."""
        if self.hello.done():
            print(f"ws_clients: {exc}", file=sys.stderr, flush=True)
        else:
            self.hello.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()


async def run_clients(port: int, count: int) -> None:
    """Open `count` sockets, report arrivals on stdout, obey `closes`/`quit` on stdin."""
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(CONNECT_CONCURRENCY)
    arrivals = Arrivals(count)

    async def connect() -> Socket:
        async with slots:
            _, socket = await loop.create_connection(lambda: Socket(port, None), HOST, port)
            async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                await socket.hello
            return socket

    tasks = [asyncio.ensure_future(connect()) for _ in range(count)]
    try:
        sockets = await asyncio.gather(*tasks)
    except (OSError, ProtocolError, TimeoutError, ValueError) as exc:
        emit(error=f"connecting: {exc!r}")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return
    for socket in sockets:
        socket.arrivals = arrivals
    emit(ready=count)
    closed = [socket.closed for socket in sockets]
    while command := (await asyncio.to_thread(sys.stdin.readline)).strip():
        if command == "closes":
            done, _ = await asyncio.wait(closed, timeout=ROUND_TIMEOUT)
            codes = Counter(str(future.result()) for future in done)
            emit(closes=dict(codes), open=len(closed) - len(done))
            break
        if command == "quit":
            break
    for socket in sockets:
        socket.close()
    # The server answers the close and drops the connection; give it a moment to.
    await asyncio.wait([socket.lost for socket in sockets], timeout=5)
    for socket in sockets:
        if socket.transport is not None:
            socket.transport.abort()


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
