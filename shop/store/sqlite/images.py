"""Image files beside the embedded database: `<data dir>/media/<pid>/<file>`.

Each file is written to a temporary name, synced, renamed into place and its folder
synced, so a file is whole or absent, and present after a crash once `put` returned.
Folders are 0700 and files 0600, like the rest of the data dir. Disk work runs in worker
threads; a disk that fails is StoreUnavailable (503), as the database's would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from shop.models.images import NAME, PID_PATTERN
from shop.store.base import StoreUnavailable

_TEMPORARY = ".tmp"
_PID = re.compile(PID_PATTERN)


async def _on_disk[*A, T](work: Callable[[*A], T], *args: *A) -> T:
    """Run blocking file work in a thread; an OS failure is StoreUnavailable."""
    try:
        return await asyncio.to_thread(work, *args)
    except OSError as exc:
        raise StoreUnavailable(f"image files: {exc.strerror or exc}") from exc


class SQLiteImages:
    """The ImageStore protocol over a folder, one subfolder per product."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, name: str) -> Path:
        # Names are built by the service from checked parts; refusing anything else here
        # too means no name can ever reach outside the media folder.
        if not NAME.fullmatch(name):
            raise ValueError(f"not an image file name: {name!r}")
        return self._root / name

    async def put(self, name: str, data: bytes) -> None:
        await _on_disk(self._write, self._path(name), data)

    async def get(self, name: str) -> bytes | None:
        return await _on_disk(_read, self._path(name))

    async def delete(self, names: Iterable[str]) -> None:
        paths = [self._path(name) for name in names]
        await _on_disk(_unlink_all, paths)

    async def delete_product(self, pid: str) -> None:
        if not _PID.fullmatch(pid):
            raise ValueError(f"not a product id: {pid!r}")
        await _on_disk(_remove_folder, self._root / pid)

    async def stored_before(self, when: float) -> list[str]:
        return await _on_disk(self._stored_before, when)

    async def drop_leftovers(self, when: float) -> int:
        return await _on_disk(self._drop_leftovers, when)

    def _write(self, path: Path, data: bytes) -> None:
        folder = path.parent
        for attempt in range(2):
            new_folder = not folder.is_dir()
            self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.mkdir(mode=0o700, exist_ok=True)
            if new_folder:
                _sync_folder(self._root)
            temporary = folder / f".{path.name}.{secrets.token_hex(4)}{_TEMPORARY}"
            try:
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileNotFoundError:
                # The product's folder was removed meanwhile (the product was deleted):
                # make it again once; the caller then finds the product gone.
                if attempt:
                    raise
                continue
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
            _sync_folder(folder)
            return

    def _stored_before(self, when: float) -> list[str]:
        return [
            name for name, entry in self._files() if NAME.fullmatch(name) and _older(entry, when)
        ]

    def _drop_leftovers(self, when: float) -> int:
        """Temporary files of writes a crash interrupted, and emptied product folders."""
        dropped = 0
        for name, entry in self._files():
            if name.endswith(_TEMPORARY) and _older(entry, when):
                Path(entry.path).unlink(missing_ok=True)
                dropped += 1
        for folder in self._folders():
            if folder.stat().st_mtime < when:
                with contextlib.suppress(OSError):  # not empty: it is in use
                    folder.rmdir()
        return dropped

    def _folders(self) -> list[Path]:
        try:
            children = list(os.scandir(self._root))
        except FileNotFoundError:
            return []
        return [
            Path(child.path)
            for child in children
            if _PID.fullmatch(child.name) and child.is_dir(follow_symlinks=False)
        ]

    def _files(self) -> list[tuple[str, os.DirEntry[str]]]:
        """Every file of every product folder, as (`<pid>/<file>`, its directory entry)."""
        files = []
        for folder in self._folders():
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                files.extend(
                    (f"{folder.name}/{entry.name}", entry)
                    for entry in os.scandir(folder)
                    if entry.is_file(follow_symlinks=False)
                )
        return files


def _older(entry: os.DirEntry[str], when: float) -> bool:
    try:
        return entry.stat().st_mtime < when
    except FileNotFoundError:  # removed meanwhile
        return False


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _remove_folder(folder: Path) -> None:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # an upload racing the deletion: the sweep ends it
        folder.rmdir()


def _sync_folder(folder: Path) -> None:
    """Make a rename or a new entry in `folder` survive a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
