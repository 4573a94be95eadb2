"""What the services need of a store's user accounts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shop.models.listing import Page
from shop.models.users import Role, User


class UserStore(Protocol):
    async def insert(self, user: User) -> None:
        """Raise DuplicateKey("email") when the email is taken."""

    async def get(self, uid: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def list(self, limit: int, page: int) -> Page[User]:
        """Users ordered by id (creation order)."""

    async def search(self, words: Sequence[str], limit: int, page: int) -> Page[User]:
        """Like `list`, only the users each of whose `words` (normalised prefixes,
        `shop.models.search.query_words`) starts a word of their names or email; found
        through an index of those words, never by scanning the accounts."""

    async def delete(self, uid: str) -> bool:
        """Delete the user, their carts, sessions and tokens; False if unknown.

        Raise LastAdmin, changing nothing, when the user is the only admin."""

    async def set_password_hash(self, uid: str, password_hash: str) -> bool: ...

    async def set_role(self, uid: str, role: Role) -> bool:
        """Set the user's role; False if unknown. Raise LastAdmin, changing nothing, when
        it would demote the only admin: checked atomically with the change."""

    async def set_cart(self, uid: str, cid: str) -> bool: ...
