"""Cookie sessions backed by a server-side session record.

The encrypted cookie only carries a random session id (and the form CSRF token); the
store holds a hash of that id. Deleting the record ends every copy of the cookie.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import Session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shop.keys import SESSION, SESSION_ID, SETTINGS, STORE, TOKEN_ID, USER
from shop.models.users import User
from shop.periodic import every
from shop.realtime import end_session_sockets
from shop.security import Handler, new_csrf_token
from shop.settings import Settings

log = logging.getLogger("shop.sessions")

SID = "sid"
CSRF = "csrf"


def _cookie_key(secret: bytes) -> bytes:
    # Derived, so the configured secret can be any length and serves only this purpose.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"shop session").derive(
        secret
    )


def cookie_storage(settings: Settings) -> EncryptedCookieStorage:
    return EncryptedCookieStorage(
        _cookie_key(settings.secret_key),
        cookie_name="__Host-shop" if settings.https else "shop_session",
        max_age=settings.session_max_age,
        httponly=True,
        samesite="Lax",
        secure=settings.https,
        path="/",
    )


def session_middleware(storage: EncryptedCookieStorage) -> Middleware:
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
    storage: EncryptedCookieStorage, request: web.Request, response: web.StreamResponse
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
        user = await request.app[STORE].sessions.get_user(_sid_key(sid), time.time())
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
