"""Periodic clean-ups that keep tables small: expired sessions, old Idempotency-Keys."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from shop.keys import STORE
from shop.models.orders import KEY_LIFE_SECONDS
from shop.store.base import StoreError

log = logging.getLogger("shop.housekeeping")

type CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def every(
    interval: float, purge: Callable[[web.Application], Awaitable[int]], what: str
) -> CleanupContext:
    """A cleanup_ctx that runs `purge` now and then every `interval` seconds while the app
    runs; `purge` answers how many `what` it removed."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async def forever() -> None:
            while True:
                try:
                    removed = await purge(app)
                except StoreError:
                    log.warning("could not purge %s; will retry", what)
                else:
                    if removed:
                        log.info("purged %d %s", removed, what)
                await asyncio.sleep(interval)

        task = asyncio.get_running_loop().create_task(forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context


KEY_PURGE_INTERVAL = 3600.0


async def _purge_keys(app: web.Application) -> int:
    return await app[STORE].orders.purge_keys(time.time() - KEY_LIFE_SECONDS)


# Forget purchases' Idempotency-Keys a day after their first use.
purge_expired_keys = every(KEY_PURGE_INTERVAL, _purge_keys, "expired Idempotency-Keys")
