"""Personal API tokens: the record the store keeps (never the token itself) and the input
that names a new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from shop.models.fields import Input, Line


def iso_time(seconds: float) -> str:
    """A Unix time as ISO 8601 in UTC, to the second: "2025-05-01T12:00:00Z"."""
    return (
        datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


@dataclass(frozen=True, slots=True)
class ApiToken:
    """One token of a user. The store keeps the SHA-256 of the token, never the token."""

    id: str
    uid: str
    name: str
    created: float
    last_used: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "name": self.name,
            "created": iso_time(self.created),
            "last_used": iso_time(self.last_used) if self.last_used is not None else None,
        }


class TokenIn(Input):
    name: Annotated[Line, Field(min_length=1, max_length=100)]
