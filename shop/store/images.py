"""What the services need of a store's image files (the product images under /media).

Files are named `<pid>/<file>` (see `shop.models.images`): each product's files are its
own. Where every shop process sees them: under the data dir beside a SQLite database, in
GridFS on MongoDB. A file, once written, never changes: a new content gets a new name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class ImageStore(Protocol):
    async def put(self, name: str, data: bytes) -> None:
        """Store the file durably (it survives a crash once this returns)."""

    async def get(self, name: str) -> bytes | None:
        """The file's bytes, None when there is no such file."""

    async def delete(self, names: Iterable[str]) -> None:
        """Remove these files; names without a file are ignored."""

    async def delete_product(self, pid: str) -> None:
        """Remove every file of the product."""

    async def stored_before(self, when: float) -> list[str]:
        """The names of every file stored before `when` (a Unix time), for the sweep."""

    async def drop_leftovers(self, when: float) -> int:
        """Remove what writes or deletions interrupted before `when` left behind (partial
        files, chunks without a file); return how many."""
