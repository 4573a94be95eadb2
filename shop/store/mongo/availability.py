"""Failing fast while MongoDB is down.

Once an operation finds the server gone (no server to select, a lost or silent
connection), every operation is refused at once with StoreUnavailable (a 503) instead of
each waiting out the timeout again, until a probe, once a second, finds the server
answering. What the catalogue cache holds keeps being served meanwhile: it sits above.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from shop.store.base import StoreUnavailable
from shop.store.mongo.docs import UNAVAILABLE

log = logging.getLogger("shop.store.mongo")

PROBE_INTERVAL = 1.0  # seconds between probes while the server is down


class Availability:
    """Whether MongoDB answers, as the last operations and the probe found."""

    def __init__(self, probe: Callable[[], Awaitable[None]]) -> None:
        self._probe = probe  # raises StoreUnavailable while the server does not answer
        self._down: str | None = None  # why, while down
        self._prober: asyncio.Task[None] | None = None

    @property
    def down(self) -> bool:
        return self._down is not None

    def check(self) -> None:
        """Raise StoreUnavailable at once while the server is known to be down."""
        if self._down is not None:
            raise StoreUnavailable(f"MongoDB is not answering ({self._down})")

    def guard(self, operation: str, method: Callable[..., Awaitable[Any]]) -> Any:
        """`method`, refused at once while the server is down, and reporting it gone."""

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.check()
            try:
                return await method(*args, **kwargs)
            except StoreUnavailable as exc:
                # A lost server; an operation that merely ran out of time is not one.
                if isinstance(exc.__cause__, UNAVAILABLE):
                    self.lost(str(exc))
                raise

        return call

    def lost(self, reason: str) -> None:
        if self._down is not None:
            return
        self._down = reason.splitlines()[0][:200] if reason else "connection lost"
        log.warning("MongoDB unavailable, refusing store calls until it answers: %s", reason)
        self._prober = asyncio.get_running_loop().create_task(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        while True:
            await asyncio.sleep(PROBE_INTERVAL)
            try:
                await self._probe()
            except StoreUnavailable:
                continue
            self._down = None
            log.info("MongoDB answers again")
            return

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
