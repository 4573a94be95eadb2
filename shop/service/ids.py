"""Ids as the API sees them: 24 lowercase hex digits, the string form of an ObjectId."""

from __future__ import annotations

from bson import ObjectId

from shop.errors import invalid
from shop.models.fields import OBJECT_ID
from shop.models.messages import phrase


def new_id() -> str:
    return str(ObjectId())


def parse_id(value: str, field: str) -> str:
    """The id normalised, or Invalid naming the field (400, never a store error)."""
    normal = value.lower()
    if not OBJECT_ID.fullmatch(normal):
        raise invalid({field: phrase("object_id")})
    return normal
