"""Personal API tokens: issued once, kept only as a hash, revoked one by one or all together.

A token is `shop_` and 43 random URL-safe characters (256 bits). The store keeps its
SHA-256: a copy of the database cannot be turned into working tokens. "Last used" times are
kept in memory and written in one batch at most once per interval, off the request's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator

from shop.errors import InvalidToken, NotFound
from shop.models.tokens import ApiToken
from shop.models.users import User
from shop.service.ids import new_id
from shop.service.throttle import Throttle
from shop.store.base import Store, StoreError
from shop.tasks import in_background

log = logging.getLogger("shop.tokens")

PREFIX = "shop_"
TOKEN = re.compile(r"shop_[A-Za-z0-9_-]{43}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenUsage:
    """When each token was last used, written to the store in one batch per `interval`."""

    def __init__(self, store: Store, interval: float) -> None:
        self._store = store
        self.interval = interval
        self._pending: dict[str, float] = {}

    def seen(self, tid: str, when: float) -> None:
        self._pending[tid] = when

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            await self._store.tokens.touch(pending)
        except StoreError:
            # Kept for the next batch (newer uses of the same token win).
            self._pending = {**pending, **self._pending}
            log.warning("could not record when %d API tokens were used; will retry", len(pending))

    @contextlib.asynccontextmanager
    async def recording(self) -> AsyncIterator[None]:
        """Flush every interval inside the block, and once more when it ends."""

        async def flush_forever() -> None:
            while True:
                await asyncio.sleep(self.interval)
                await self.flush()

        try:
            async with in_background(flush_forever()):
                yield
        finally:
            await self.flush()


class TokenService:
    def __init__(self, store: Store, throttle: Throttle, usage: TokenUsage) -> None:
        self._store = store
        self._throttle = throttle
        self._usage = usage

    async def create(self, actor: User, name: str) -> tuple[ApiToken, str]:
        """A new token of `actor` and its secret, which is shown this once."""
        secret = PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(id=new_id(), uid=actor.id, name=name, created=time.time())
        if not await self._store.tokens.create(token, token_hash(secret)):
            raise NotFound("user {uid} not found", uid=actor.id)
        return token, secret

    async def list(self, actor: User) -> list[ApiToken]:
        return await self._store.tokens.list(actor.id)

    async def revoke(self, actor: User, tid: str) -> None:
        # Someone else's token is "not found" too: its existence is none of the actor's business.
        if not await self._store.tokens.delete(actor.id, tid):
            raise NotFound("token {tid} not found", tid=tid)

    async def authenticate(self, credentials: str, address: str) -> tuple[User, str]:
        """The user and token id behind `Authorization: Bearer <token>`, in one store call.

        InvalidToken (401) for anything else, counted against the address; TooManyRequests
        (429) once the address has guessed too often.
        """
        self._throttle.check_token(address)
        scheme, _, token = credentials.strip().partition(" ")
        token = token.strip()
        found = None
        if scheme.lower() == "bearer" and TOKEN.fullmatch(token):
            found = await self._store.tokens.get_user(token_hash(token))
        if found is None:
            await self._throttle.token_failed(address)
            raise InvalidToken()
        self._usage.seen(found[1], time.time())
        return found
