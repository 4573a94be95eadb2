"""Personal API tokens: the record the store keeps (never the token itself) and the input
that names a new one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from shop.models.fields import Input, Line


@dataclass(frozen=True, slots=True)
class ApiToken:
    """One token of a user. The store keeps the SHA-256 of the token, never the token."""

    id: str
    uid: str
    name: str
    created: float
    last_used: float | None = None


class TokenIn(Input):
    name: Annotated[Line, Field(min_length=1, max_length=100)]
