"""Accounts: registration, login, password changes and deletion."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from shop.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from shop.models.listing import Page
from shop.models.users import Email, Password, Role, User, UserIn
from shop.security import LoginThrottle, PasswordHasher
from shop.service.events import Events
from shop.service.ids import new_id
from shop.store.base import DuplicateKey, Store

_EMAIL = TypeAdapter(Email)
_PASSWORD = TypeAdapter(Password)


def _parse[T](adapter: TypeAdapter[T], value: object, field: str) -> T:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise Invalid("{field}: {reason}", field=field, reason=exc.errors()[0]["msg"]) from None


class UserService:
    def __init__(
        self, store: Store, passwords: PasswordHasher, throttle: LoginThrottle, events: Events
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
        account = f"account:{email.strip().lower()}"
        keys = [account, f"address:{address}"]
        self._throttle.check(keys)
        user = await self._store.users.get_by_email(email.strip().lower())
        valid = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not valid:
            self._throttle.fail(keys)
            raise Unauthorized("invalid email or password")
        self._throttle.succeed(account)
        return user

    async def get(self, uid: str) -> User:
        user = await self._store.users.get(uid)
        if user is None:
            raise NotFound("user {uid} not found", uid=uid)
        return user

    async def list(self, limit: int, page: int) -> Page[User]:
        return await self._store.users.list(limit, page)

    async def delete(self, actor: User, uid: str) -> None:
        if actor.id != uid and actor.role is not Role.ADMIN:
            raise Forbidden("you may delete only your own account")
        if not await self._store.users.delete(uid):
            raise NotFound("user {uid} not found", uid=uid)
        self._events.disconnect_user(uid)

    async def change_password(self, actor: User, current: str, new: str) -> None:
        """Set a new password and end every session of the user."""
        # Throttled like login: a stolen session must not become a password oracle.
        keys = [f"account:{actor.email}"]
        self._throttle.check(keys)
        if not await self._passwords.verify(actor.password_hash, current):
            self._throttle.fail(keys)
            raise Forbidden("current_password: does not match")
        await self._store.users.set_password_hash(actor.id, await self._passwords.hash(new))
        await self._store.sessions.delete_for_user(actor.id)
        self._events.disconnect_user(actor.id)

    async def end_sessions(self, actor: User) -> None:
        await self._store.sessions.delete_for_user(actor.id)
        self._events.disconnect_user(actor.id)

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
            await self._store.sessions.delete_for_user(existing.id)
            self._events.disconnect_user(existing.id)
            return await self.get(existing.id), False
        data = UserIn(
            first_name="Admin", last_name="Admin", email=email, age=18, password=password
        )
        return await self.register(data, role=Role.ADMIN), True
