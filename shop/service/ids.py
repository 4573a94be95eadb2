"""Ids as the API sees them: 24 lowercase hex digits, the string form of an ObjectId."""

from __future__ import annotations

import os
import struct
from datetime import datetime

from bson import ObjectId

from shop.errors import invalid
from shop.models.fields import OBJECT_ID
from shop.models.messages import phrase


def new_id(at: datetime | None = None) -> str:
    """A new id; with `at`, one that sorts where an id made at that moment would (ids lead
    with their creation time: back-dated demo orders keep newest-first order)."""
    if at is None:
        return str(ObjectId())
    return str(ObjectId(struct.pack(">I", int(at.timestamp())) + os.urandom(8)))


def parse_id(value: str, field: str) -> str:
    """The id normalised, or Invalid naming the field (400, never a store error)."""
    normal = value.lower()
    if not OBJECT_ID.fullmatch(normal):
        raise invalid({field: phrase("object_id")})
    return normal
