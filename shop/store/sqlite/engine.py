"""The SQLite engine: one worker thread that owns the connection, and transactions.

The aggregates hand it jobs, functions of a connection. `write` runs a job inside a write
transaction (BEGIN IMMEDIATE ... COMMIT, rolled back when the job raises), so a job that
reads, checks and writes is atomic; `read` runs a job as it is. Jobs never begin or end
transactions themselves. The event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from shop.store.base import StoreUnavailable
from shop.store.sqlite.schema import prepare

type Job[T] = Callable[[sqlite3.Connection], T]

# Errors that mean the file cannot be reached or written, not a mistake in a statement.
_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_NOTADB,
}


class Engine:
    """Runs jobs on the database file; build it with `await Engine.open(path)`."""

    def __init__(self, executor: ThreadPoolExecutor, db: sqlite3.Connection) -> None:
        self._executor = executor
        self._db = db
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path) -> Engine:
        """Open (creating the directory, file and schema when missing) the database at path."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shop-sqlite")
        try:
            db = await asyncio.get_running_loop().run_in_executor(executor, _connect, Path(path))
        except (OSError, sqlite3.Error) as exc:
            executor.shutdown(wait=False)
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise StoreUnavailable(f"cannot open the SQLite database {path}: {reason}") from None
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(executor, db)

    async def close(self) -> None:
        if self._closed:
            return
        # Calls already queued run first: the worker takes jobs in order.
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
        finally:
            self._executor.shutdown(wait=False)

    async def read[T](self, job: Job[T]) -> T:
        """Run a job that only reads (use `snapshot` in it for several consistent reads)."""
        return await self._run(job)

    async def write[T](self, job: Job[T]) -> T:
        """Run a job in one write transaction: all of its changes commit, or none."""
        return await self._run(lambda db: _in_transaction(db, job))

    async def _run[T](self, job: Job[T]) -> T:
        """Run job in the worker thread, the only thread that touches the connection."""
        if self._closed:
            raise StoreUnavailable("the store is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, job, self._db)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF in _UNAVAILABLE:
                raise StoreUnavailable(str(exc)) from exc
            raise

    async def ping(self) -> None:
        try:
            await self._run(lambda db: db.execute("SELECT n FROM product_counts").fetchone())
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable(str(exc)) from exc


def _connect(path: Path) -> sqlite3.Connection:
    # The file holds password and session hashes: readable by the shop's user alone.
    # (SQLite gives the -wal and -shm files the database file's permissions.)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    # Only the worker thread uses it; it is created there and the pool has one thread.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout = 5000")  # first, so the pragmas below can wait
        db.execute("PRAGMA journal_mode = WAL")
        # FULL syncs the WAL at every commit: an acknowledged write survives power loss.
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        prepare(db)
    except BaseException:
        db.close()
        raise
    return db


def _in_transaction[T](db: sqlite3.Connection, job: Job[T]) -> T:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = job(db)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # some errors (a full disk) have rolled back already
            db.execute("ROLLBACK")
        raise
    return result


@contextmanager
def snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """Several reads from one consistent view of the file."""
    db.execute("BEGIN")
    try:
        yield
    finally:
        if db.in_transaction:
            db.execute("COMMIT")
