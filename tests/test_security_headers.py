"""What every answer carries and what no answer or log line gives away (SECURITY.md:
browser protections, errors that leak nothing, an access log without secrets)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from pymongo.errors import ServerSelectionTimeoutError
from yarl import URL

from shop import logs
from shop.keys import CARTS, PRODUCTS, STORE
from shop.models.products import ProductIn
from tests.conftest import PASSWORD, Auth, Client

ProductBody = Callable[..., dict[str, Any]]
UNKNOWN_ID = "0123456789abcdef01234567"
LEAKS = ("Traceback", 'File "', "sqlite", "pymongo", "/work", "site-packages", "SELECT ")


def assert_protective_headers(response: ClientResponse) -> None:
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "same-origin"
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";")}
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", csp
    assert directives.get("script-src") == "script-src 'self'", csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    # The server does not name its software or version.
    server = headers.get("Server", "")
    assert "aiohttp" not in server.lower() and "python" not in server.lower(), server


# Each kind of answer the shop gives, made by one request.
Probe = Callable[[Client], Awaitable[ClientResponse]]
PROBES: dict[str, Probe] = {
    "api-json": lambda c: c.get("/api/products"),
    "api-not-found": lambda c: c.get(f"/api/products/{UNKNOWN_ID}"),
    "api-no-route": lambda c: c.get("/api/nowhere"),
    "api-bad-request": lambda c: c.get("/api/products/not-an-id"),
    "api-unauthorized": lambda c: c.get("/api/sessions/current"),
    "api-method-not-allowed": lambda c: c.get("/api/sessions/logout"),
    "api-unsupported-media": lambda c: c.post("/api/users", data="x"),
    "api-too-large": lambda c: c.post(
        "/api/users", data=b"x" * 200_000, headers={"Content-Type": "application/json"}
    ),
    "health": lambda c: c.get("/healthz"),
    "page-not-found": lambda c: c.get("/nowhere"),
    "page-html": lambda c: c.get("/products"),
    "page-form": lambda c: c.get("/login"),
    "static-file": lambda c: c.get("/static/css/shop.css"),
    "static-missing": lambda c: c.get("/static/css/missing.css"),
}


@pytest.mark.parametrize("probe", list(PROBES), ids=list(PROBES))
async def test_every_answer_carries_the_protective_headers(client: Client, probe: str) -> None:
    response = await PROBES[probe](client)
    await response.read()
    assert_protective_headers(response)


def page_routes(app: web.Application) -> list[str]:
    """The fixed-path GET pages of the app (neither API, static, health nor websocket)."""
    paths = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path")
        if route.method != "GET" or not path:
            continue
        if path.startswith(("/api/", "/static", "/healthz", "/ws")):
            continue
        paths.append(path)
    return paths


async def test_login_redirect_carries_the_protective_headers(client: Client) -> None:
    redirects = []
    for path in page_routes(client.app):
        response = await client.get(path, allow_redirects=False)
        if response.status in (302, 303) and response.headers["Location"].startswith("/login"):
            redirects.append(response)
    assert redirects, "no page answers an anonymous visitor with the login redirect"
    for response in redirects:
        assert_protective_headers(response)
        # Only a local path comes back: the login page must not become an open redirect.
        location = URL(response.headers["Location"])
        assert not location.is_absolute()
        assert location.path == "/login"
        target = location.query.get("next", "/")
        assert target.startswith("/")
        assert not target.startswith("//")


async def test_api_answers_are_not_cached(client: Client, auth: Auth) -> None:
    await auth.user()
    response = await client.get("/api/sessions/current")
    assert response.headers.get("Cache-Control") == "no-store"


# ---- errors leak nothing -----------------------------------------------------------------


async def test_error_answers_leak_no_internals(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    user = await auth.user()
    bodies: list[str] = []

    async def record(response: ClientResponse) -> None:
        assert response.status >= 400
        bodies.append(await response.text())

    await record(
        await client.post("/api/users", data=b"{", headers={"Content-Type": "application/json"})
    )
    await record(await client.post("/api/users", json={"email": {"$gt": ""}}))
    duplicate = {
        "first_name": "A",
        "last_name": "B",
        "email": user["email"],
        "age": 30,
        "password": PASSWORD,
    }
    await record(await client.post("/api/users", json=duplicate))
    await record(await client.get(f"/api/products/{UNKNOWN_ID}"))
    await record(await client.get(f"/api/carts/{UNKNOWN_ID}"))
    await record(await client.get("/api/products/zz"))
    await record(await client.get("/api/products?page=abc"))
    await record(await client.post("/api/products", json=product_body()))
    for traversal in (
        "/static/../shop/app.py",
        "/static/%2e%2e/shop/app.py",
        "/static/..%2fshop/app.py",
    ):
        response = await client.get(traversal)
        assert "create_app" not in await response.text()
        await record(response)
    await record(await client.delete("/api/products"))
    await record(
        await client.post(
            "/api/sessions/login",
            data=b'{"email": "a@b.co", "password": "' + b"x" * 100_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
    )
    for body in bodies:
        for leak in LEAKS:
            assert leak not in body, body


async def test_duplicate_product_code_conflict_leaks_no_internals(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    body = product_body()
    assert (await client.post("/api/products", json=body)).status == 201
    response = await client.post("/api/products", json={**body, "title": "Other"})
    assert response.status == 409
    text = await response.text()
    for leak in (*LEAKS, "UNIQUE", "constraint", "E11000", "duplicate key"):
        assert leak not in text, text


async def test_unexpected_failure_is_a_bare_500(
    client: Client,
    auth: Auth,
    product_body: ProductBody,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = await auth.user()
    product = await client.app[PRODUCTS].create(ProductIn(**product_body()))

    async def sqlite_failure(*args: Any) -> Any:
        raise sqlite3.OperationalError("no such table: products in /work/main/var/shop.db")

    async def mongo_failure(*args: Any) -> Any:
        raise ServerSelectionTimeoutError("localhost:27017: [Errno 111] Connection refused")

    monkeypatch.setattr(client.app[PRODUCTS], "get", sqlite_failure)
    monkeypatch.setattr(client.app[CARTS], "get", mongo_failure)
    with caplog.at_level(logging.ERROR, logger="shop"):
        for path in (f"/api/products/{product.id}", f"/api/carts/{user['cart']}"):
            response = await client.get(path)
            assert response.status == 500
            assert await response.json() == {"status": "error", "error": "internal error"}
            text = await response.text()
            for leak in (*LEAKS, "no such table", "Connection refused", "27017"):
                assert leak not in text
            assert_protective_headers(response)
    # The operator still learns what happened: the log keeps it.
    assert "no such table" in caplog.text
    assert "Connection refused" in caplog.text


async def test_store_failure_behind_health_check_leaks_nothing(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("cannot open /work/main/var/shop.db: sqlite3 locked")

    monkeypatch.setattr(client.app[STORE], "ping", broken)
    with caplog.at_level(logging.ERROR, logger="shop"):
        response = await client.get("/healthz")
    assert response.status in (500, 503)
    text = await response.text()
    for leak in (*LEAKS, "locked", "RuntimeError"):
        assert leak not in text


# ---- the access log ----------------------------------------------------------------------

ACCESS_LINE = re.compile(
    r"method=(?P<method>[A-Z]+) path=(?P<path>\S+) status=(?P<status>\d{3}) "
    r"duration_ms=(?P<duration>\d+(\.\d+)?) user=(?P<user>\S+)"
)


async def test_access_log_has_one_line_per_request_without_secrets(
    client: Client, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    new_password = "another long passphrase"
    caplog.set_level(logging.INFO)
    user = await auth.register()
    response = await client.post(
        "/api/sessions/login", json={"email": user["email"], "password": PASSWORD}
    )
    assert response.status == 200
    cookie = next(iter(response.cookies.values())).value
    await client.get("/api/sessions/current")
    await client.get("/api/nowhere")
    await client.post(
        "/api/sessions/login", json={"email": user["email"], "password": "wrong password!"}
    )
    await client.put(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    await client.post("/api/sessions/logout")
    requests = [
        ("POST", "/api/users", "201", "-"),
        ("POST", "/api/sessions/login", "200", None),
        ("GET", "/api/sessions/current", "200", user["_id"]),
        ("GET", "/api/nowhere", "404", user["_id"]),
        ("POST", "/api/sessions/login", "401", None),
        ("PUT", "/api/users/me/password", "200", user["_id"]),
        ("POST", "/api/sessions/logout", "200", "-"),
    ]

    lines = [r.getMessage() for r in caplog.records if r.name == "shop.access"]
    assert len(lines) == len(requests), lines
    for line, (method, path, status, uid) in zip(lines, requests, strict=True):
        match = ACCESS_LINE.search(line)
        assert match, line
        assert (match["method"], match["path"], match["status"]) == (method, path, status)
        assert float(match["duration"]) >= 0
        if uid is not None:
            assert match["user"] == uid, line

    stored = await client.app[STORE].users.get_by_email(user["email"])
    assert stored is not None
    everything = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (PASSWORD, new_password, "wrong password!", cookie, stored.password_hash):
        assert secret not in everything
    assert "$argon2" not in everything


# ---- what a client cannot make the log or the server say ------------------------------------


async def raw_exchange(client: Client, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are over a socket; the status, headers and body of the answer."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


def request_bytes(client: Client, target: bytes, *headers: bytes) -> bytes:
    host = f"Host: {client.server.host}:{client.server.port}".encode()
    lines = [b"GET " + target + b" HTTP/1.1", host, *headers, b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


FORGED_PATHS = [
    b"/api/x%0a2025-01-01%20INFO%20shop.access%20method=GET%20path=/admin%20status=200",
    b"/api/a%0d%0aforged",
    b"/api/nul%00byte",
    b"/api/a%20status=200%20user=admin",
    b"/api/line%E2%80%A8separator",
    b"/api/back%5Cslash",
]


async def test_control_characters_in_a_path_cannot_forge_log_lines(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for target in FORGED_PATHS:
        status, _, _ = await raw_exchange(client, request_bytes(client, target))
        assert status == 404
    access = [r for r in caplog.records if r.name == "shop.access"]
    assert len(access) == len(FORGED_PATHS)
    formatter = logging.Formatter(logs.FORMAT)
    assert all("\n" not in formatter.format(record) for record in access)
    access = [record.getMessage() for record in access]
    for line in access:
        assert line.isprintable(), line
        # Five space-separated fields, whatever the path held.
        assert [field.split("=")[0] for field in line.split(" ")] == [
            "method",
            "path",
            "status",
            "duration_ms",
            "user",
        ], line
        assert ACCESS_LINE.fullmatch(line), line
    assert "\\x0a2025-01-01\\x20INFO" in access[0]
    assert "\\x0d\\x0aforged" in access[1]
    assert "\\x00byte" in access[2]
    assert "\\u2028" in access[4]
    assert "back\\\\slash" in access[5]


@pytest.mark.parametrize(
    "request_data",
    [
        b"X-Evil: a\x01b",
        b"Bad Header: x",
        b"X-Nul: a\x00b",
    ],
    ids=["control-in-value", "space-in-name", "nul-in-value"],
)
async def test_malformed_http_gets_the_json_envelope_and_one_log_line(
    client: Client, caplog: pytest.LogCaptureFixture, request_data: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    status, headers, body = await raw_exchange(
        client, request_bytes(client, b"/api/products", request_data)
    )
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"status": "error", "error": "malformed HTTP request"}
    assert request_data.split(b":")[0] not in body
    assert headers["Server"] == "shop"
    assert headers["X-Content-Type-Options"] == "nosniff"
    records = [r for r in caplog.records if r.name.startswith(("shop", "aiohttp"))]
    assert len(records) == 1, [r.getMessage() for r in records]
    (record,) = records
    assert record.name == "shop.http"
    assert record.exc_info is None
    assert record.getMessage().isprintable()
    assert record.getMessage().startswith("malformed request from 127.0.0.1: Invalid header")


async def test_bad_request_line_gets_the_json_envelope(client: Client) -> None:
    status, _, body = await raw_exchange(client, b"GET /\x00 HTTP/1.1\r\n\r\n")
    assert status == 400
    assert json.loads(body)["status"] == "error"
