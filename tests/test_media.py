"""/media on every store: how an uploaded image is served, and what is never served."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from shop.models.images import card_url
from shop.settings import Settings
from tests.conftest import Auth, Client
from tests.envelopes import success
from tests.pictures import picture, upload

ProductBody = Callable[..., dict[str, Any]]
SECRET = b"do-not-leak-this-0123456789-abcdefghijklmnop"


@pytest.fixture
async def image(client: Client, auth: Auth, product_body: ProductBody) -> str:
    """The page-size URL of an image uploaded to a new product."""
    await auth.admin()
    pid = (await success(await client.post("/api/products", json=product_body()), 201))["_id"]
    response = await upload(client, pid, picture())
    await success(response, 201)
    return response.headers["Location"]


async def test_an_image_is_webp_cached_for_a_year_and_never_sniffed(
    client: Client, image: str
) -> None:
    for url in (image, card_url(image)):
        response = await client.get(url)
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/webp"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert (await response.read())[8:12] == b"WEBP"


async def test_head_answers_the_headers_without_the_image(client: Client, image: str) -> None:
    response = await client.head(image)
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/webp"
    assert await response.read() == b""


async def test_anyone_may_see_an_image(client: Client, auth: Auth, image: str) -> None:
    await auth.logout()
    assert (await client.get(image)).status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/media/0123456789abcdef01234567/0123456789abcdef-01234567.webp",
        "/media/0123456789abcdef01234567/0123456789abcdef-01234567.card.webp",
        "/media/",
        "/media/shop.db",
        "/media/0123456789abcdef01234567/",
        "/media/0123456789abcdef01234567/0123456789abcdef-01234567.png",
        "/media/0123456789ABCDEF01234567/0123456789abcdef-01234567.webp",
    ],
)
async def test_an_unknown_media_path_is_404(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 404
    assert (
        "Cache-Control" not in response.headers
        or "immutable" not in (response.headers["Cache-Control"])
    )


async def test_another_products_folder_does_not_serve_the_image(
    client: Client, image: str
) -> None:
    _, _, pid, name = image.split("/")
    assert (await client.get(f"/media/{'0' * 24}/{name}")).status == 404
    assert (await client.get(f"/media/{pid}/{name}")).status == 200


async def raw_get(client: Client, target: str) -> tuple[int, bytes]:
    """Send `GET <target>` exactly as written (no client normalises it); status and body."""
    server = client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        request = f"GET {target} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        writer.write((request + "Connection: close\r\n\r\n").encode())
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


TRAVERSALS = [
    "/media/../secret.key",
    "/media/..%2fsecret.key",
    "/media/%2e%2e/secret.key",
    "/media/%2e%2e%2fsecret.key",
    "/media/%252e%252e%252fsecret.key",
    "/media/..%5csecret.key",
    "/media/....//secret.key",
    "/media/{pid}/../../secret.key",
    "/media/{pid}/..%2f..%2fsecret.key",
    "/media/{pid}/%2e%2e%2f%2e%2e%2fsecret.key",
    "/media/{pid}/%2e%2e/%2e%2e/media/../secret.key",
    "/media/%2fetc%2fpasswd",
    "/media//etc/passwd",
    "/media/{pid}/{name}%00.webp",
    "/media/{pid}/{name}/..",
    "/media/../shop.db",
    "/media/..%2fshop.db",
    "/media/%2e%2e%2fmedia%2f{pid}%2f{name}",
]


async def test_path_traversal_never_reaches_outside_the_media_folder(
    client: Client, image: str, settings: Settings
) -> None:
    (settings.data_dir / "secret.key").write_bytes(SECRET)
    (settings.data_dir / "media").mkdir(exist_ok=True)
    (settings.data_dir / "media" / "secret.key").write_bytes(SECRET)
    _, _, pid, name = image.split("/")
    for template in TRAVERSALS:
        target = template.format(pid=pid, name=name)
        status, body = await raw_get(client, target)
        assert status in (400, 404), (target, status)
        assert SECRET not in body, target
        assert b"SQLite format" not in body, target
        assert b"root:" not in body, target
