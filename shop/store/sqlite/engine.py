"""The SQLite engine: one writer thread that commits in groups, and readers that never wait.

The aggregates hand it jobs, functions of a connection; jobs never begin or end
transactions themselves.

`write` queues a job for the one thread that owns the write connection. That thread takes
every job waiting at that moment and runs them in one transaction (group commit), each in
its own savepoint: a job that raises undoes only its own changes and its caller gets the
exception, so the job is atomic as if it ran alone. One COMMIT (one fsync:
`synchronous=FULL`) covers the batch, and no caller hears back before that COMMIT has
returned. A lone write starts at once; it never waits for company. When another process
holds the database's write lock (a backup, an `sqlite3` shell), writes fail with
StoreUnavailable after WRITE_LOCK_WAIT seconds instead of queuing.

`read` runs a job on one of a few read-only connections, each owned by its own thread. In
WAL mode they see the last commit and never wait for the writer, nor for another
process's write lock.

Hand-offs between threads are batched: the reads of one turn of the event loop go to a
reader together (one wake-up of one thread), and answers come back to the loop together
(one wake-up of the loop for all the answers ready at that moment).
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any

from shop.store.base import StoreUnavailable
from shop.store.sqlite.schema import prepare

type Job[T] = Callable[[sqlite3.Connection], T]
# A job and the future its caller awaits; a job of None asks the thread to stop.
type _Task = tuple[Job[Any] | None, asyncio.Future[Any]]
type _Write = tuple[Job[Any], asyncio.Future[Any]]
type _Answer = tuple[asyncio.Future[Any], Any, BaseException | None]

WRITE_LOCK_WAIT = 2.0  # seconds a write waits for another process's write lock
READ_WAIT = 2.0  # seconds a read waits in the rare cases WAL readers wait (a recovery)
READERS = 3  # read connections; reads mostly hold the GIL, so a few are enough
MAX_BATCH = 256  # writes in one transaction, at most

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

    def __init__(self, writer: sqlite3.Connection, readers: list[sqlite3.Connection]) -> None:
        self._loop = asyncio.get_running_loop()
        self._closed = False
        answers = _Answers(self._loop)
        self._writes: queue.SimpleQueue[_Task] = queue.SimpleQueue()
        # Reads go to the readers a loop turn's worth at a time: one wake-up of one reader
        # for all of them, instead of one per read.
        self._reads: queue.SimpleQueue[list[_Task]] = queue.SimpleQueue()
        self._pending_reads: list[_Task] = []
        self._threads = [
            threading.Thread(
                target=_write_loop,
                args=(writer, self._writes, answers),
                name="shop-sqlite-writer",
                daemon=True,  # a store never closed must not keep the process alive
            ),
            *(
                threading.Thread(
                    target=_read_loop,
                    args=(db, self._reads, answers),
                    name=f"shop-sqlite-reader-{n}",
                    daemon=True,
                )
                for n, db in enumerate(readers, start=1)
            ),
        ]
        for thread in self._threads:
            thread.start()

    @classmethod
    async def open(cls, path: str | Path, readers: int = READERS) -> Engine:
        """Open (creating the directory, file and schema when missing) the database at path."""
        try:
            writer, read_dbs = await asyncio.to_thread(_connect_all, Path(path), readers)
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise StoreUnavailable(f"cannot open the SQLite database {path}: {reason}") from None
        return cls(writer, read_dbs)

    async def close(self) -> None:
        """Finish the jobs already queued, then close every connection."""
        if self._closed:
            return
        self._closed = True
        # Readers first: the last connection to close checkpoints the WAL into the file.
        readers = len(self._threads) - 1
        self._hand_reads()
        stops = [(None, self._loop.create_future()) for _ in range(readers)]
        for stop in stops:
            self._reads.put([stop])
        await asyncio.gather(*(future for _, future in stops))
        await self._submit(self._writes, None)

    def read[T](self, job: Job[T]) -> asyncio.Future[T]:
        """Run a job that only reads (use `snapshot` in it for several consistent reads);
        await its answer. A plain future, so callbacks can take it without a task."""
        if self._closed:
            raise StoreUnavailable("the store is closed")
        future = self._loop.create_future()
        if not self._pending_reads:
            self._loop.call_soon(self._hand_reads)
        self._pending_reads.append((job, future))
        return future

    def _hand_reads(self) -> None:
        if self._pending_reads:
            self._reads.put(self._pending_reads)
            self._pending_reads = []

    async def write[T](self, job: Job[T]) -> T:
        """Run a job in a write transaction: all of its changes commit, or none; the answer
        comes once they are durable."""
        return await self._submit(self._writes, job)

    def _submit(self, tasks: queue.SimpleQueue[_Task], job: Job[Any] | None) -> Any:
        if self._closed and job is not None:
            raise StoreUnavailable("the store is closed")
        future = self._loop.create_future()
        tasks.put((job, future))
        return future

    async def ping(self) -> None:
        await self.read(lambda db: db.execute("SELECT n FROM product_counts").fetchone())


# ---- connections -----------------------------------------------------------------------


def _connect_all(path: Path, readers: int) -> tuple[sqlite3.Connection, list[sqlite3.Connection]]:
    writer = _connect_writer(path)
    opened: list[sqlite3.Connection] = []
    try:
        for _ in range(readers):
            opened.append(_connect_reader(path))
    except BaseException:
        for db in [*opened, writer]:
            db.close()
        raise
    return writer, opened


def _connect_writer(path: Path) -> sqlite3.Connection:
    # The file holds password and session hashes: readable by the shop's user alone.
    # (SQLite gives the -wal and -shm files the database file's permissions.)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    # Used by the writer thread alone, after this thread hands it over.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {int(WRITE_LOCK_WAIT * 1000)}")  # first: see below
        db.execute("PRAGMA journal_mode = WAL")
        # FULL syncs the WAL at every commit: an acknowledged write survives power loss.
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        prepare(db)
    except BaseException:
        db.close()
        raise
    return db


def _connect_reader(path: Path) -> sqlite3.Connection:
    # mode=ro: this connection can never write, whatever a job does. Used by its reader
    # thread alone, after this thread hands it over.
    uri = f"{path.resolve().as_uri()}?mode=ro"
    db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {int(READ_WAIT * 1000)}")
    except BaseException:
        db.close()
        raise
    return db


# ---- the threads -----------------------------------------------------------------------


class _Answers:
    """Results from the worker threads, handed to the event loop a batch at a time.

    Only the thread that finds the batch empty wakes the loop; the others add to it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._ready: list[_Answer] = []

    def send(self, answers: list[_Answer]) -> None:
        if not answers:
            return
        with self._lock:
            wake = not self._ready
            self._ready += answers
        if wake:
            # RuntimeError: the loop is closed, nobody is waiting any more.
            with suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._hand_over)

    def _hand_over(self) -> None:
        with self._lock:
            answers, self._ready = self._ready, []
        for future, result, error in answers:
            if future.done():  # cancelled by its caller meanwhile
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)


def _read_loop(
    db: sqlite3.Connection, tasks: queue.SimpleQueue[list[_Task]], answers: _Answers
) -> None:
    stop: asyncio.Future[Any] | None = None
    with closing(db):
        while stop is None:
            done: list[_Answer] = []
            for job, future in tasks.get():
                if job is None:
                    stop = future
                elif not future.cancelled():  # a caller gone meanwhile: skip its work
                    try:
                        done.append((future, job(db), None))
                    except Exception as exc:
                        done.append((future, None, _translated(exc)))
            answers.send(done)
    answers.send([(stop, None, None)])  # the stop request: this connection is closed


def _write_loop(
    db: sqlite3.Connection, tasks: queue.SimpleQueue[_Task], answers: _Answers
) -> None:
    with closing(db):
        while True:
            batch, stop = _take(tasks)
            if batch:
                answers.send(_commit(db, batch, tasks))
            if stop is not None:
                break
    answers.send([(stop, None, None)])  # the stop request: this connection is closed


def _take(tasks: queue.SimpleQueue[_Task]) -> tuple[list[_Write], asyncio.Future[Any] | None]:
    """Wait for a task, then take every task already waiting (never waiting for more),
    MAX_BATCH at most: the writes, and the future of a stop request if one came."""
    batch: list[_Write] = []
    task = tasks.get()
    while True:
        job, future = task
        if job is None:
            return batch, future
        if not future.cancelled():  # a caller gone before its write began: skip it
            batch.append((job, future))
        if len(batch) >= MAX_BATCH:
            return batch, None
        try:
            task = tasks.get_nowait()
        except queue.Empty:
            return batch, None


def _commit(
    db: sqlite3.Connection, batch: list[_Write], tasks: queue.SimpleQueue[_Task]
) -> list[_Answer]:
    """Run the batch in one transaction, a savepoint per job, and commit it: every job's
    answer, or StoreUnavailable for all of them when nothing could be kept."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        # Another process held the write lock for all of WRITE_LOCK_WAIT: the writes
        # that queued meanwhile would only wait as long again. They fail too.
        _take_waiting(tasks, batch)
        return _all_failed(batch, exc)
    answers: list[_Answer] = []
    try:
        for job, future in batch:
            db.execute("SAVEPOINT job")
            try:
                result = job(db)
            except Exception as exc:
                if not db.in_transaction:
                    raise  # the error ended the whole transaction (a full disk)
                db.execute("ROLLBACK TO job")
                db.execute("RELEASE job")
                answers.append((future, None, _translated(exc)))
            else:
                db.execute("RELEASE job")
                answers.append((future, result, None))
        db.execute("COMMIT")
    except Exception as exc:
        # The transaction, or its COMMIT, failed (disk full, I/O error): nothing of the
        # batch is kept, so no job may report success.
        if db.in_transaction:
            # If even that fails, the connection rolls back when it can; same answer.
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        return _all_failed(batch, exc)
    return answers


def _take_waiting(tasks: queue.SimpleQueue[_Task], batch: list[_Write]) -> None:
    while True:
        try:
            task = tasks.get_nowait()
        except queue.Empty:
            return
        job, future = task
        if job is None:
            tasks.put(task)  # a stop request: the write loop sees it next
            return
        batch.append((job, future))


def _all_failed(batch: list[_Write], exc: Exception) -> list[_Answer]:
    # One exception object per caller: each raises it in its own task.
    return [(future, None, _unavailable(exc)) for _, future in batch]


def _unavailable(exc: Exception) -> StoreUnavailable:
    error = StoreUnavailable(str(exc))
    error.__cause__ = exc
    return error


def _translated(exc: Exception) -> Exception:
    """A job's error as its caller should see it: an unreachable file is StoreUnavailable."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in _UNAVAILABLE:
        return _unavailable(exc)
    return exc


@contextmanager
def snapshot(db: sqlite3.Connection) -> Iterator[None]:
    """Several reads from one consistent view of the file (a write job has one already)."""
    if db.in_transaction:
        yield
        return
    db.execute("BEGIN")
    try:
        yield
    finally:
        if db.in_transaction:
            db.execute("COMMIT")
