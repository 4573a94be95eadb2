"""Passwords, throttle upkeep, client addresses, role checks and cross-site request checks."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from shop.errors import Forbidden, LoginRequired
from shop.keys import SESSION_UNCHECKED, SETTINGS, THROTTLE, TOKEN_ID, USER
from shop.models.users import Role, User
from shop.periodic import every
from shop.store.base import StoreUnavailable

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class PasswordHasher:
    """Argon2id hashing in worker threads, a few at a time so a burst cannot exhaust memory."""

    def __init__(self, *, time_cost: int, memory_kib: int, concurrency: int = 4) -> None:
        self._argon2 = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID
        )
        self._slots = asyncio.Semaphore(concurrency)
        # Verified against when the email is unknown, so both answers take as long.
        self._decoy = self._argon2.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._argon2.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches; a missing hash costs the same time and fails."""
        target = password_hash or self._decoy
        async with self._slots:
            try:
                await asyncio.to_thread(self._argon2.verify, target, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False
        return password_hash is not None


log = logging.getLogger("shop.security")

# cleanup_ctx: delete passed throttle windows hourly (shop.service.throttle keeps the counts;
# a backend that expires them by itself answers 0).
purge_throttle_windows = every(
    3600.0,
    lambda app: app[THROTTLE].purge(time.time()),
    log,
    "purge passed throttle windows",
)


def client_address(request: web.Request) -> str:
    if request.app[SETTINGS].trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            # The proxy appends the address it saw: the last entry is the one to trust.
            return forwarded.rsplit(",", 1)[-1].strip()
    return request.remote or "unknown"


# ---- roles -----------------------------------------------------------------------------


def current_user(request: web.Request) -> User:
    """The logged-in user, or LoginRequired (401 on the API, a redirect on pages); a 503
    when the request's session could not be checked (the store is down)."""
    user = request.get(USER)
    if user is None:
        if request.get(SESSION_UNCHECKED):
            raise StoreUnavailable("the session could not be checked")
        raise LoginRequired("login required")
    return user


def requires(role: Role = Role.USER) -> Callable[[Handler], Handler]:
    """Route decorator: a session is needed, and for Role.ADMIN an admin's session."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = current_user(request)
            if role is Role.ADMIN and user.role is not Role.ADMIN:
                raise Forbidden("admin only")
            return await handler(request)

        return guarded

    return decorate


def is_admin(user: User | None) -> bool:
    return user is not None and user.role is Role.ADMIN


# ---- cross-site checks -------------------------------------------------------------------


def own_origin(request: web.Request) -> str:
    """SHOP_PUBLIC_URL when set; otherwise what the request's Host header says (trusted:
    only safe when a proxy in front of the shop sets Host itself)."""
    settings = request.app[SETTINGS]
    if settings.public_url is not None:
        return settings.public_url
    scheme = "https" if settings.https else request.scheme
    return f"{scheme}://{request.host}"


def by_bearer(request: web.Request) -> bool:
    """True when a bearer token authenticated the request (not an ambient cookie)."""
    return request.get(TOKEN_ID) is not None


def is_same_origin(request: web.Request) -> bool:
    """False when the browser says the request comes from another site.

    Browsers send Origin on every cross-site POST, PUT, DELETE and websocket handshake;
    a client that sends neither Origin nor Referer is not a browser riding a cookie.
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == own_origin(request)
    referer = request.headers.get("Referer")
    if referer is not None:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" == own_origin(request)
    return True


@web.middleware
async def origin_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # A bearer token is no ambient credential (a browser never adds it to a cross-site
    # request, and the cookie is then ignored), so such a request needs no Origin check.
    if request.method in UNSAFE_METHODS and not by_bearer(request) and not is_same_origin(request):
        raise Forbidden("cross-site request refused")
    return await handler(request)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: object) -> bool:
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and secrets.compare_digest(expected.encode(), given.encode())
    )
