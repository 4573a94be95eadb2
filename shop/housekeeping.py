"""Background upkeep while the app runs: expired sessions and throttle windows purged."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from shop.keys import STORE, THROTTLE
from shop.store.base import StoreError
from shop.tasks import in_background

log = logging.getLogger("shop.housekeeping")

PURGE_INTERVAL = 3600.0


async def purge_expired(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: delete expired sessions and throttle windows hourly, so both stay small."""

    async def purge_forever() -> None:
        while True:
            for name, purge in (
                ("sessions", app[STORE].sessions.purge),
                ("throttle windows", app[THROTTLE].purge),
            ):
                try:
                    removed = await purge(time.time())
                except StoreError:
                    log.warning("could not purge expired %s; will retry", name)
                else:
                    if removed:
                        log.info("purged %d expired %s", removed, name)
            await asyncio.sleep(PURGE_INTERVAL)

    async with in_background(purge_forever()):
        yield
