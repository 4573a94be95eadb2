"""Accounts: registration, login, password changes, roles and deletion.

Ending a user's credentials (logout-all, a password change, a role change, deletion) ends
every session, every API token and every open socket of the user at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter, ValidationError

from shop.errors import Conflict, Forbidden, NotFound, Unauthorized, invalid
from shop.models.listing import Page
from shop.models.messages import field_errors
from shop.models.users import Email, Password, Role, User, UserIn
from shop.security import PasswordHasher
from shop.service.events import Events
from shop.service.ids import new_id
from shop.service.throttle import Throttle
from shop.store.base import DuplicateKey, LastAdmin, Store

_EMAIL = TypeAdapter(Email)
_PASSWORD = TypeAdapter(Password)


def _parse[T](adapter: TypeAdapter[T], value: object, field: str) -> T:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise invalid({field: next(iter(field_errors(exc).values()))}) from None


class UserService:
    def __init__(
        self, store: Store, passwords: PasswordHasher, throttle: Throttle, events: Events
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._throttle = throttle
        self._events = events

    async def register(self, data: UserIn, role: Role = Role.USER) -> User:
        """Create the user and their cart; the role never comes from the request."""
        user = User(
            id=new_id(),
            first_name=data.first_name,
            last_name=data.last_name,
            email=data.email,
            age=data.age,
            role=role,
            cart=new_id(),
            password_hash=await self._passwords.hash(data.password),
        )
        try:
            await self._store.users.insert(user)
        except DuplicateKey:
            raise Conflict("email: an account with this email already exists") from None
        assert user.cart is not None
        await self._store.carts.create(user.cart, user.id)
        return user

    async def authenticate(self, email: str, password: str, address: str) -> User:
        """The user, or one answer for an unknown email and a wrong password alike."""
        email = email.strip().lower()
        attempt = await self._throttle.check_password(email, address)
        user = await self._store.users.get_by_email(email)
        valid = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not valid:
            await self._throttle.password_failed(attempt)
            raise Unauthorized("invalid email or password")
        await self._throttle.password_passed(attempt)
        return user

    async def get(self, uid: str) -> User:
        user = await self._store.users.get(uid)
        if user is None:
            raise NotFound("user {uid} not found", uid=uid)
        return user

    async def list(self, limit: int, page: int, words: Sequence[str] = ()) -> Page[User]:
        """Accounts by creation order; with `words` (shop.models.search.query_words), those
        found by them: each word starts a word of the names or the email."""
        if words:
            return await self._store.users.search(words, limit, page)
        return await self._store.users.list(limit, page)

    async def delete(self, actor: User, uid: str) -> None:
        """Delete an account (its sessions and tokens go with it); never the last admin."""
        if actor.id != uid and actor.role is not Role.ADMIN:
            raise Forbidden("you may delete only your own account")
        try:
            deleted = await self._store.users.delete(uid)
        except LastAdmin:
            raise _last_admin() from None
        if not deleted:
            raise NotFound("user {uid} not found", uid=uid)
        self._events.disconnect_user(uid)

    async def set_role(self, uid: str, role: Role) -> User:
        """Give the user `role`; a change ends their sessions and tokens, so it applies at
        once. Demoting the last admin is refused (Conflict)."""
        user = await self.get(uid)
        if user.role is role:
            return user
        try:
            changed = await self._store.users.set_role(uid, role)
        except LastAdmin:
            raise _last_admin() from None
        if not changed:
            raise NotFound("user {uid} not found", uid=uid)
        await self.end_credentials(uid)
        return await self.get(uid)

    async def change_password(self, actor: User, current: str, new: str, address: str) -> None:
        """Set a new password and end every session and token of the user."""
        # Throttled like login, on the same counts: a stolen session must not become a
        # password oracle, nor double the guesses an address gets.
        attempt = await self._throttle.check_password(actor.email, address)
        if not await self._passwords.verify(actor.password_hash, current):
            await self._throttle.password_failed(attempt)
            raise Forbidden("current_password: does not match")
        await self._throttle.password_passed(attempt)
        await self._store.users.set_password_hash(actor.id, await self._passwords.hash(new))
        await self.end_credentials(actor.id)

    async def end_credentials(self, uid: str) -> None:
        """End every session and API token of the user and close their sockets."""
        await self._store.sessions.delete_for_user(uid)
        await self._store.tokens.delete_for_user(uid)
        self._events.disconnect_user(uid)

    async def create_admin(self, email: str, password: str) -> tuple[User, bool]:
        """Make `email` an admin, creating the account if needed; True when created.

        Promoting an existing account ends its sessions, so the new role applies at once.
        """
        email = _parse(_EMAIL, email, "email")
        password = _parse(_PASSWORD, password, "password")
        existing = await self._store.users.get_by_email(email)
        if existing is not None:
            await self._store.users.set_role(existing.id, Role.ADMIN)
            await self._store.users.set_password_hash(
                existing.id, await self._passwords.hash(password)
            )
            await self.end_credentials(existing.id)
            return await self.get(existing.id), False
        data = UserIn(
            first_name="Admin", last_name="Admin", email=email, age=18, password=password
        )
        return await self.register(data, role=Role.ADMIN), True


def _last_admin() -> Conflict:
    return Conflict("role: the shop must keep at least one admin")
