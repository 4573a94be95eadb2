"""Cookie sessions backed by a server-side session record.

The encrypted cookie only carries a random session id (and the form CSRF token); the
store holds a hash of that id. Deleting the record ends every copy of the cookie.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import Session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shop.keys import SESSION, SESSION_ID, SESSION_UNCHECKED, SETTINGS, STORE, TOKEN_ID, USER
from shop.models.users import User
from shop.periodic import every
from shop.realtime import end_session_sockets
from shop.security import Handler, new_csrf_token
from shop.settings import Settings
from shop.store.base import StoreUnavailable

log = logging.getLogger("shop.sessions")

SID = "sid"
CSRF = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _cookie_key(secret: bytes) -> bytes:
    # Derived, so the configured secret can be any length and serves only this purpose.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"shop session").derive(
        secret
    )


class CookieStorage(EncryptedCookieStorage):
    """aiohttp-session's encrypted cookie, remembering what recent cookies decrypted to.

    A browser sends the same cookie with every request until its session changes, and
    decrypting it each time (HMAC, AES, base64) cost a logged-in request a tenth of its
    time. What a cookie decrypted to is kept with the time its token was made, so the age
    limit holds as before, and each request parses its own copy. This caches no session:
    the server-side check still runs on every request, so ending a session ends it at once.
    """

    def __init__(self, secret_key: bytes, *, remember: int = 10_000, **params: Any) -> None:
        super().__init__(secret_key, **params)
        self._remember = remember
        self._plain: OrderedDict[str, tuple[int, str]] = OrderedDict()

    async def load_session(self, request: web.Request) -> Session:
        cookie = self.load_cookie(request)
        plain = self._plain_text(cookie) if cookie is not None else None
        if plain is None:
            return Session(None, data=None, new=True, max_age=self.max_age)
        return Session(None, data=self._decoder(plain), new=False, max_age=self.max_age)

    def _plain_text(self, cookie: str) -> str | None:
        """What the cookie decrypts to; None when it does not, or is past its age."""
        kept = self._plain.get(cookie)
        if kept is not None and self._young(kept[0]):
            self._plain.move_to_end(cookie)
            return kept[1]
        token = cookie.encode()  # a UnicodeError is the session middleware's to handle
        try:
            plain = self._fernet.decrypt(token, ttl=self.max_age).decode()
            made = self._fernet.extract_timestamp(token)
        except InvalidToken:
            return None  # a cookie no server of ours issued: the client is anonymous
        self._plain[cookie] = (made, plain)
        if len(self._plain) > self._remember:
            self._plain.popitem(last=False)
        return plain

    def _young(self, made: int) -> bool:
        return self.max_age is None or made + self.max_age >= time.time()


def cookie_storage(settings: Settings) -> CookieStorage:
    return CookieStorage(
        _cookie_key(settings.secret_key),
        cookie_name="__Host-shop" if settings.https else "shop_session",
        max_age=settings.session_max_age,
        httponly=True,
        samesite="Lax",
        secure=settings.https,
        path="/",
    )


def session_middleware(storage: CookieStorage) -> Middleware:
    """Load the cookie session before the handler and save it after, when it changed.

    Our own loop around aiohttp-session's storage, with typed request keys (its own
    middleware uses string keys) and so error answers also carry a cleared cookie.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            request[SESSION] = await storage.load_session(request)
        except UnicodeError:
            # Header bytes that are not UTF-8 reach the storage as surrogates and fail to
            # encode: a cookie no server ever issued, so the client is simply anonymous.
            request[SESSION] = Session(None, data=None, new=True, max_age=storage.max_age)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            # Redirects are raised; a login that redirects must still set its cookie.
            await _save(storage, request, exc)
            raise
        if isinstance(response, web.Response) and not response.prepared:
            await _save(storage, request, response)
        return response

    return middleware


async def _save(
    storage: CookieStorage, request: web.Request, response: web.StreamResponse
) -> None:
    session = request[SESSION]
    # aiohttp-session exposes no public "changed" flag; its own middleware reads this one.
    if session._changed:
        await storage.save_session(request, response, session)


def session_of(request: web.Request) -> Session:
    """This request's cookie session (loaded by the session middleware)."""
    return request[SESSION]


def _sid_key(sid: str) -> str:
    # The store keeps only a hash: a copy of the database cannot be turned into cookies.
    return hashlib.sha256(sid.encode()).hexdigest()


async def load_session_user(request: web.Request) -> None:
    """Set USER and SESSION_ID from the cookie's live session (one store call), if any."""
    session = session_of(request)
    sid = session.get(SID)
    if isinstance(sid, str):
        try:
            user = await request.app[STORE].sessions.get_user(_sid_key(sid), time.time())
        except StoreUnavailable:
            if request.method not in SAFE_METHODS:
                raise
            # The store is down: reads go on anonymous (the cached catalogue still
            # answers); what needs the user is a 503 (shop.security.current_user).
            request[SESSION_UNCHECKED] = True
            return
        if user is None:
            session.invalidate()
        else:
            request[USER] = user
            request[SESSION_ID] = _sid_key(sid)


async def log_in(request: web.Request, user: User) -> None:
    """Start a fresh session for `user`: a new cookie, never the one the client brought."""
    settings = request.app[SETTINGS]
    store = request.app[STORE]
    old = request.get(SESSION_ID)
    if old is not None:
        end_session_sockets(request)
        await store.sessions.delete(old)
    # A new Session object gets a new cookie: the one the client brought is never reused.
    session = Session(None, data=None, new=True, max_age=settings.session_max_age)
    request[SESSION] = session
    sid = secrets.token_urlsafe(32)
    await store.sessions.create(_sid_key(sid), user.id, time.time() + settings.session_max_age)
    session[SID] = sid
    session[CSRF] = new_csrf_token()
    request[USER] = user
    request[SESSION_ID] = _sid_key(sid)


async def log_out(request: web.Request) -> None:
    """End this session everywhere its cookie was copied, and clear the cookie.

    A request authenticated by a bearer token has no session: its cookie is left alone.
    """
    if request.get(TOKEN_ID) is not None:
        return
    sid = request.get(SESSION_ID)
    if sid is not None:
        end_session_sockets(request)
        await request.app[STORE].sessions.delete(sid)
    session_of(request).invalidate()
    request[USER] = None
    request[SESSION_ID] = None


def csrf_token(request: web.Request) -> str:
    """The session's form token, created on first use."""
    session = session_of(request)
    token = session.get(CSRF)
    if not isinstance(token, str):
        token = new_csrf_token()
        session[CSRF] = token
    return token


PURGE_INTERVAL = 3600.0

# cleanup_ctx: delete expired session records hourly, so the table stays small.
purge_expired_sessions = every(
    PURGE_INTERVAL,
    lambda app: app[STORE].sessions.purge(time.time()),
    log,
    "purge expired sessions",
)
