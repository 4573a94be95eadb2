"""Users: the account record, its roles and the registration and login input."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictInt

from shop.models.fields import Input, Line, Text
from shop.models.messages import refuse


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    first_name: str
    last_name: str
    email: str
    age: int
    role: Role
    cart: str | None
    password_hash: str = field(repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def to_json(self) -> dict[str, Any]:
        """The public view of a user: never the password hash."""
        return {
            "_id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "age": self.age,
            "role": str(self.role),
            "cart": self.cart,
        }


def _email(value: str) -> str:
    value = value.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise refuse("email")
    return value


Name = Annotated[Text, Field(min_length=1, max_length=100)]
Email = Annotated[Line, Field(max_length=254), AfterValidator(_email)]
Password = Annotated[Line, Field(min_length=8, max_length=256)]


class UserIn(Input):
    first_name: Name
    last_name: Name
    email: Email
    age: Annotated[StrictInt, Field(ge=13, le=130)]
    password: Password


class LoginIn(Input):
    email: Annotated[Line, Field(max_length=254)]
    password: Annotated[Line, Field(max_length=256)]


class PasswordChangeIn(Input):
    current_password: Annotated[Line, Field(max_length=256)]
    new_password: Password


class RoleIn(Input):
    role: Role
