"""What the services need of a store's server-side session records."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from shop.models.users import User


class SessionStore(Protocol):
    async def create(self, sid: str, uid: str, expires_at: float) -> None: ...

    async def get_user(self, sid: str, now: float) -> User | None:
        """The user of a live session; None when unknown, expired or the user is gone."""

    async def delete(self, sid: str) -> None: ...

    async def delete_for_user(self, uid: str, keep: str | None = None) -> None:
        """End every session of the user except `keep`."""

    async def alive(self, sids: Collection[str], now: float) -> set[str]:
        """Those of `sids` that are live sessions (neither ended nor expired)."""

    async def purge(self, now: float) -> int:
        """Delete expired sessions; return how many."""
