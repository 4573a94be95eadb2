"""Users: the account record, its roles and the registration and login input."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from shop.models.fields import CONTROL, Input, Line, Text, documented, whole_number
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


# Spaces Python strips that are no control characters (those never reach this check).
_SPACE = r" \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NOT_SPACE_OR_AT = rf"[^@{_SPACE}{CONTROL}]"
# An address around its `@`, with a dot after it; surrounding spaces are dropped.
EMAIL_PATTERN = (
    rf"^[{_SPACE}]*{_NOT_SPACE_OR_AT}+@{_NOT_SPACE_OR_AT}+\.{_NOT_SPACE_OR_AT}+[{_SPACE}]*$"
)
_EMAIL = re.compile(EMAIL_PATTERN.removeprefix("^").removesuffix("$"))


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise refuse("email")
    return value.strip().lower()


Name = Annotated[Text, Field(min_length=1, max_length=100)]
Email = Annotated[Line, Field(max_length=254), AfterValidator(_email), documented(EMAIL_PATTERN)]
Password = Annotated[Line, Field(min_length=8, max_length=256)]


class UserIn(Input):
    first_name: Name
    last_name: Name
    email: Email
    age: whole_number(13, 130)
    password: Password


class LoginIn(Input):
    email: Annotated[Line, Field(max_length=254)]
    password: Annotated[Line, Field(max_length=256)]


class PasswordChangeIn(Input):
    current_password: Annotated[Line, Field(max_length=256)]
    new_password: Password


class RoleIn(Input):
    role: Role
