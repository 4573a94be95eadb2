"""The two baselines every row is set against, measured in the same run as the shop.

The bare read handler is what one aiohttp JSON answer costs; the bare durable write is
what one acknowledged, fsync'd SQLite insert through aiohttp costs. Both are started
before and after the shop, driven by the same wrk script shape and connection count.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from servers import HOST, PYTHON, serving
from wrk import Load, Result, measure

BARE_READ_APP = """\
import sys

from aiohttp import web

PRODUCT = {
    "_id": "65f0c0ffee0000000000beef",
    "title": "Bench product",
    "description": "A product-like payload of about the shop's size.",
    "code": "BENCH-0000001",
    "price": 19.99,
    "status": True,
    "stock": 1000,
    "category": "Category 01",
    "thumbnails": [],
}


async def product(request: web.Request) -> web.Response:
    return web.json_response({"status": "success", "payload": PRODUCT})


app = web.Application()
app.router.add_get("/", product)
web.run_app(app, host=sys.argv[1], port=int(sys.argv[2]), access_log=None, print=None)
"""

# One row per POST, each in its own transaction (BEGIN IMMEDIATE, INSERT, COMMIT) with
# the shop's durability (WAL, synchronous=FULL), on one worker thread that owns the
# connection: the simplest durable write through aiohttp.
BARE_WRITE_APP = """\
import asyncio
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

db = None


def connect(path):
    global db
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")


def insert(body):
    db.execute("BEGIN IMMEDIATE")
    try:
        rowid = db.execute("INSERT INTO events (body) VALUES (?)", (body,)).lastrowid
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return rowid


writer = ThreadPoolExecutor(max_workers=1, initializer=connect, initargs=(sys.argv[3],))


async def write(request):
    body = await request.text()
    rowid = await asyncio.get_running_loop().run_in_executor(writer, insert, body)
    return web.json_response({"status": "success", "payload": {"_id": rowid}})


async def ready(request):
    return web.json_response({"status": "ok"})


app = web.Application()
app.router.add_get("/", ready)
app.router.add_post("/", write)
web.run_app(app, host=sys.argv[1], port=int(sys.argv[2]), access_log=None, print=None)
"""

BARE_READ = "bare read handler"
BARE_WRITE = "bare durable write"


def measure_bare_read(work: Path, label: str, port: int, args: argparse.Namespace) -> Result:
    app = work / "bare_read_app.py"
    app.write_text(BARE_READ_APP)
    with serving([PYTHON, str(app), HOST, str(port)], port, "/", work / "bare-read.log"):
        return measure(Load(f"{BARE_READ} ({label})", ("/",)), None, port, work, args)


def measure_bare_write(work: Path, label: str, port: int, args: argparse.Namespace) -> Result:
    app = work / "bare_write_app.py"
    app.write_text(BARE_WRITE_APP)
    argv = [PYTHON, str(app), HOST, str(port), str(work / "bare.db")]
    load = Load(
        f"{BARE_WRITE} ({label})",
        ("/",),
        method="POST",
        headers=(("Content-Type", "application/json"),),
        body='{"quantity":1}',
    )
    with serving(argv, port, "/", work / "bare-write.log"):
        return measure(load, None, port, work, args)
