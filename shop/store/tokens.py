"""What the services need of a store's personal API tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from shop.models.tokens import ApiToken
from shop.models.users import User


class TokenStore(Protocol):
    async def create(self, token: ApiToken, token_hash: str) -> bool:
        """Keep a new token under the hash of its secret; False if the user is gone."""

    async def get_user(self, token_hash: str) -> tuple[User, str] | None:
        """The user a token belongs to and the token's id, in one call; None when unknown."""

    async def list(self, uid: str) -> list[ApiToken]:
        """The user's tokens, oldest first."""

    async def delete(self, uid: str, tid: str) -> bool:
        """Revoke one of the user's tokens; False when the user has no such token."""

    async def delete_for_user(self, uid: str) -> None:
        """Revoke every token of the user."""

    async def touch(self, used: Mapping[str, float]) -> None:
        """Record when each token (by id) was last used, never moving a time backwards."""
