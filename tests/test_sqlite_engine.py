"""The SQLite engine's promises: group commit with a savepoint per write, no answer before
its commit, reads that never wait for the writer, and a held write lock that is a quick
503 while reads and logged-in pages go on answering."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from shop.store.base import StoreUnavailable
from shop.store.sqlite.engine import WRITE_LOCK_WAIT, Engine
from tests.conftest import Auth, Client
from tests.envelopes import NewBrowser, error, success

WAIT = 10.0  # seconds: a bound on waits that should end at once, never reached when green


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: these are promises of the embedded store."""
    return f"sqlite:///{tmp_path / 'shop.db'}"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    engine = await Engine.open(tmp_path / "engine.db")
    await engine.write(lambda db: db.execute("CREATE TABLE notes (key TEXT PRIMARY KEY)"))
    yield engine
    await engine.close()


def note(key: str) -> Callable[[sqlite3.Connection], str]:
    def job(db: sqlite3.Connection) -> str:
        db.execute("INSERT INTO notes (key) VALUES (?)", (key,))
        return key

    return job


def notes(db: sqlite3.Connection) -> list[str]:
    return [row[0] for row in db.execute("SELECT key FROM notes ORDER BY key")]


class Refused(Exception):
    """What a job that refuses raises (a 409 in the shop)."""


def refused_after_writing(db: sqlite3.Connection) -> None:
    note("refused")(db)
    raise Refused


class Gate:
    """A write job that holds the writer thread until the test opens the gate, so the
    writes submitted meanwhile queue up and run together, in one batch."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.open = threading.Event()

    def __call__(self, db: sqlite3.Connection) -> str:
        self.entered.set()
        if not self.open.wait(WAIT):
            raise TimeoutError("the test never opened the gate")
        return "gate"

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, WAIT)


async def queued(*writes: Awaitable[Any]) -> list[asyncio.Future[Any]]:
    """Start the writes and let each queue its job, in order."""
    tasks = [asyncio.ensure_future(write) for write in writes]
    await asyncio.sleep(0)  # one turn of the loop: each task submits its job, nothing more
    return tasks


async def test_a_refused_write_in_a_batch_undoes_only_its_own_changes(engine: Engine) -> None:
    gate = Gate()
    holding = asyncio.ensure_future(engine.write(gate))
    await gate.wait_entered()
    first, refused, last = await queued(
        engine.write(note("first")),
        engine.write(refused_after_writing),
        engine.write(note("last")),
    )
    gate.open.set()
    assert await holding == "gate"
    assert await first == "first"
    with pytest.raises(Refused):
        await refused
    assert await last == "last"
    assert await engine.read(notes) == ["first", "last"]


async def test_a_failed_commit_fails_every_write_of_its_batch(engine: Engine) -> None:
    def breaks_the_commit(db: sqlite3.Connection) -> None:
        # A deferred foreign key is checked at COMMIT: the job itself succeeds, the
        # COMMIT of its batch fails.
        db.execute("PRAGMA defer_foreign_keys = ON")
        db.execute("INSERT INTO cart_lines VALUES ('no cart', 'no product', 1, 1)")

    gate = Gate()
    holding = asyncio.ensure_future(engine.write(gate))
    await gate.wait_entered()
    batch = await queued(
        engine.write(note("before")), engine.write(breaks_the_commit), engine.write(note("after"))
    )
    gate.open.set()
    await holding
    for write in batch:
        with pytest.raises(StoreUnavailable):
            await write
    assert await engine.read(notes) == []
    # The engine goes on: the next write commits.
    assert await engine.write(note("next")) == "next"
    assert await engine.read(notes) == ["next"]


async def test_no_write_is_answered_before_the_commit_of_its_batch(engine: Engine) -> None:
    gate, slow = Gate(), Gate()
    holding = asyncio.ensure_future(engine.write(gate))
    await gate.wait_entered()
    done_early, still_running = await queued(engine.write(note("early")), engine.write(slow))
    gate.open.set()
    await holding
    await slow.wait_entered()
    # "early" ran before `slow` began, in the same transaction; the COMMIT waits for `slow`.
    # A wrong engine would have queued its answer before `slow` began, so the loop would
    # have delivered it before wait_entered() returned.
    assert not done_early.done()
    assert await engine.read(notes) == []  # nothing committed yet, so nothing to read
    slow.open.set()
    assert await done_early == "early"
    assert await still_running == "gate"
    assert await engine.read(notes) == ["early"]


async def test_writes_are_durable_through_a_power_cut_and_reads_cannot_write(
    engine: Engine,
) -> None:
    # WAL, and FULL syncs the WAL at every COMMIT: what was acknowledged survives a power
    # cut, not only a killed process (tests/test_persistence.py kills one).
    def settings(db: sqlite3.Connection) -> tuple[str, int]:
        return db.execute("PRAGMA journal_mode").fetchone()[0], db.execute(
            "PRAGMA synchronous"
        ).fetchone()[0]

    assert await engine.write(settings) == ("wal", 2)  # 2: FULL
    with pytest.raises(StoreUnavailable):  # SQLITE_READONLY: the connection is mode=ro
        await engine.read(note("from a reader"))


async def test_reads_do_not_wait_for_a_busy_writer(engine: Engine) -> None:
    await engine.write(note("committed"))
    gate = Gate()
    holding = asyncio.ensure_future(engine.write(gate))
    await gate.wait_entered()
    async with asyncio.timeout(WAIT):
        assert await engine.read(notes) == ["committed"]
    gate.open.set()
    await holding


async def test_writes_queued_behind_a_stop_still_run_and_later_ones_are_refused(
    tmp_path: Path,
) -> None:
    engine = await Engine.open(tmp_path / "engine.db")
    await engine.write(lambda db: db.execute("CREATE TABLE notes (key TEXT PRIMARY KEY)"))
    pending = asyncio.ensure_future(engine.write(note("pending")))
    await asyncio.sleep(0)
    await engine.close()
    assert await pending == "pending"
    with pytest.raises(StoreUnavailable):
        await engine.write(note("late"))
    reopened = await Engine.open(tmp_path / "engine.db")
    try:
        assert await reopened.read(notes) == ["pending"]
    finally:
        await reopened.close()


# ---- another process holds the write lock ------------------------------------------------


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Hold the database's write lock from another connection, as an `sqlite3` shell
    running BEGIN IMMEDIATE (or a backup tool) would."""
    with closing(sqlite3.connect(path, isolation_level=None, timeout=WAIT)) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")


async def timed[T](call: Awaitable[T]) -> tuple[T, float]:
    started = time.monotonic()
    result = await call
    return result, time.monotonic() - started


async def test_a_held_write_lock_is_a_quick_503_and_reads_go_on(
    client: Client,
    auth: Auth,
    new_browser: NewBrowser,
    product_body: Callable[..., Any],
    tmp_path: Path,
) -> None:
    admin = Auth(await new_browser())
    await admin.admin()
    product = await success(await admin.client.post("/api/products", json=product_body()), 201)
    user = await auth.user()
    line = f"/api/carts/{user['cart']}/product/{product['_id']}"
    await success(await client.post(line))

    with write_lock(tmp_path / "shop.db"):
        adding = asyncio.ensure_future(timed(client.post(line)))
        # While that write waits for the lock: reads, a logged-in page and the session
        # check behind both answer at their normal speed (bounds are generous: precise
        # speed is the bench's business).
        # The product was never read since it was created: its read misses the cache.
        reads = (f"/api/products/{product['_id']}", f"/api/carts/{user['cart']}")
        for path in (*reads, f"/carts/{user['cart']}", "/profile"):
            response, seconds = await timed(client.get(path))
            assert response.status == 200, path
            assert seconds < 1.0, (path, seconds)
        response, seconds = await adding
        await error(response, 503)
        assert seconds < WRITE_LOCK_WAIT + 1.5, seconds

    # The lock is gone: writes go through again, and the refused one changed nothing.
    cart = await success(await client.post(line))
    assert [item["quantity"] for item in cart["products"]] == [2]
