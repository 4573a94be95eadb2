"""/healthz: is this process alive (and its store answering); /readyz: can it take writes.

A balancer sends traffic to a process while /readyz is 200 and restarts one whose
/healthz fails. Both answer at once when a part is known to be down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from aiohttp import web

from shop.errors import Unavailable
from shop.keys import BUS, SETTINGS, STORE
from shop.realtime.bus import BusUnavailable
from shop.routes.common import success
from shop.store.base import NotWritable, StoreError

log = logging.getLogger("shop.health")
routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(3):
            await request.app[STORE].ping()
    except (StoreError, TimeoutError):
        return web.json_response({"status": "error", "error": "store unavailable"}, status=503)
    return web.json_response({"status": "success", "payload": {"store": "ok"}})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """200 when the store takes writes and Redis (when configured) answers; else 503 naming
    what is wrong, with every check's result under `checks`."""
    timeout = request.app[SETTINGS].store_timeout
    checks = {"store": await _outcome(request.app[STORE].writable(), timeout)}
    bus = request.app[BUS]
    if bus is not None:
        checks["redis"] = await _outcome(bus.ping(), timeout)
    failed = "; ".join(f"{part}: {outcome}" for part, outcome in checks.items() if outcome != "ok")
    if failed:
        raise Unavailable("not ready: {failed}", failed=failed, extra={"checks": checks})
    return success(checks)


async def _outcome(check: Awaitable[None], seconds: float) -> str:
    """'ok', or why the check failed, in words that name no host, path or driver detail
    (anyone may ask; the log keeps the detail)."""
    try:
        async with asyncio.timeout(seconds):
            await check
    except TimeoutError:
        return f"no answer within {seconds:g} s"
    except (NotWritable, BusUnavailable) as exc:
        return str(exc)
    except StoreError as exc:
        log.warning("not ready: %s", exc)
        return "unavailable"
    return "ok"
