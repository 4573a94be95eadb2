"""Logging for the server: lines formatted at once, written to stderr in batches.

The access log writes a line per request. One write() per line, or a logging thread
fighting the event loop for the GIL, costs a fast request a large share of its time;
a batch per event-loop tick costs almost nothing and loses no line on a clean exit.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
ACCESS = "shop.access"


def escape(value: str, *, keep_spaces: bool = False) -> str:
    """`value` safe as one field of a log line: what a client sent (a path with `%0a`, a
    header) can neither end the line nor fake the fields after it.

    Backslashes, spaces (unless kept, in free text) and every character that does not print
    (control characters, line and paragraph separators, lone surrogates) are written as
    Python escapes.
    """
    if value.isprintable() and (keep_spaces or " " not in value) and "\\" not in value:
        return value  # the common case, checked at C speed
    return "".join(_escape_char(char, keep_spaces) for char in value)


def _escape_char(char: str, keep_spaces: bool) -> str:
    if char == "\\":
        return "\\\\"
    if char.isprintable() and (keep_spaces or char != " "):
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


class BatchingStreamHandler(logging.Handler):
    """Keeps formatted lines and writes them together, at most `interval` seconds later."""

    def __init__(self, stream: TextIO, interval: float = 0.1, max_lines: int = 1000) -> None:
        super().__init__()
        self._stream = stream
        self._interval = interval
        self._max_lines = max_lines
        self._lines: list[str] = []
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.add(line, urgent=record.levelno >= logging.WARNING)

    def add(self, line: str, *, urgent: bool = False) -> None:
        """Keep a formatted line; write the batch now if `urgent`, else soon."""
        self._lines.append(line)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or urgent or len(self._lines) >= self._max_lines:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_later(self._interval, self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if not self._lines:
            return
        text = "\n".join(self._lines) + "\n"
        self._lines.clear()
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            pass  # stderr is gone (closed pipe): nothing useful left to do with the lines


# The handler `configure` installed: the server's output, once it runs.
_server_output: BatchingStreamHandler | None = None


class AccessLog:
    """The access log: a line per request, on the `shop.access` logger.

    Through `logging`, a line costs a request about 18 µs (a LogRecord, the handler's lock,
    the formatter's strftime), a tenth of a catalogue-cache miss's time. So while the
    server's own output (`configure`) is the only handler anywhere on the way, the line is
    formatted here exactly as that handler would format it, and added to its batch. Any
    other set-up (a test capturing logs, a handler added to `shop.access`) gets a record.
    """

    def __init__(self) -> None:
        self._logger = logging.getLogger(ACCESS)
        self._second = -1
        self._stamp = ""

    def write(self, message: str) -> None:
        output = _server_output
        root = logging.root
        if (
            output is None
            or self._logger.handlers
            or len(root.handlers) != 1
            or root.handlers[0] is not output
            or not self._logger.isEnabledFor(logging.INFO)
        ):
            self._logger.info("%s", message)
            return
        output.add(f"{self._asctime()} INFO {ACCESS} {message}")

    def _asctime(self) -> str:
        """`%(asctime)s` as logging.Formatter writes it, its strftime done once a second."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime(logging.Formatter.default_time_format, time.localtime(now))
        return logging.Formatter.default_msec_format % (self._stamp, int((now - second) * 1000))


def configure(level: int = logging.INFO) -> BatchingStreamHandler:
    """Route every logger to one batching handler on stderr; flush it before exiting."""
    # Our format shows none of these; the logging HOWTO's "Optimization" section lists
    # them as the per-record costs to switch off (the caller lookup walks the stack).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False
    handler = BatchingStreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    global _server_output
    _server_output = handler
    return handler
