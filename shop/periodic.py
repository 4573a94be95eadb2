"""Housekeeping that runs in the background: at start, then every `interval` seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from shop.store.base import StoreError
from shop.tasks import in_background

type Job = Callable[[web.Application], Awaitable[int]]
type CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def every(interval: float, job: Job, log: logging.Logger, what: str) -> CleanupContext:
    """A cleanup_ctx running `job` (which answers how many things it removed) until the
    app stops. A store that does not answer is logged and tried again next time."""

    async def run_forever(app: web.Application) -> None:
        while True:
            try:
                done = await job(app)
            except StoreError:
                log.warning("could not %s; will retry", what)
            else:
                if done:
                    log.info("%s: %d", what, done)
            await asyncio.sleep(interval)

    async def context(app: web.Application) -> AsyncIterator[None]:
        async with in_background(run_forever(app)):
            yield

    return context
