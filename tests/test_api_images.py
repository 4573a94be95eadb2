"""/api/products/:pid/images on every store: uploads, refusals, removal and reordering,
read back through the /media URLs the product lists."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import MultipartWriter
from bson import ObjectId

from shop.keys import IMAGES, STORE
from shop.models.images import card_url
from shop.service.imaging import MAX_BYTES
from shop.settings import Settings
from shop.store.base import StoreUnavailable
from shop.store.mongo import MongoStore
from tests.conftest import Auth, Client
from tests.envelopes import MISSING_ID, NewBrowser, error, success
from tests.pictures import (
    animated_gif,
    image_form,
    noisy_jpeg,
    opened,
    origin,
    photo_with_gps,
    picture,
    png_header,
    upload,
)

ProductBody = Callable[..., dict[str, Any]]
TYPED = "/static/img/mate.png"  # an address typed in, as thumbnails held before uploads


@pytest.fixture
async def pid(client: Client, auth: Auth, product_body: ProductBody) -> str:
    """A product with one typed-in thumbnail; the client is logged in as an admin."""
    await auth.admin()
    response = await client.post("/api/products", json=product_body(thumbnails=[TYPED]))
    return (await success(response, 201))["_id"]


async def uploaded(client: Client, pid: str, data: bytes) -> str:
    """Upload and answer the new image's page-size URL."""
    response = await upload(client, pid, data)
    product = await success(response, 201)
    url = response.headers["Location"]
    assert product["thumbnails"][-1] == url
    return url


async def served(client: Client, url: str) -> bytes:
    response = await client.get(url)
    assert response.status == 200, url
    assert response.content_type == "image/webp"
    return await response.read()


async def gone(client: Client, *urls: str) -> None:
    for url in urls:
        assert (await client.get(url)).status == 404, url


async def thumbnails(client: Client, pid: str) -> list[str]:
    return (await success(await client.get(f"/api/products/{pid}")))["thumbnails"]


async def stored_files(client: Client) -> list[str]:
    return sorted(await client.app[STORE].images.stored_before(time.time() + 60))


# ---- good uploads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        picture("JPEG"),
        picture("PNG", mode="RGBA", color=(0, 128, 128, 100)),
        picture("WEBP"),
        picture("GIF", mode="P", color=3),
    ],
    ids=["jpeg", "png", "webp", "gif"],
)
async def test_each_format_is_stored_as_webp_at_a_page_and_a_card_size(
    client: Client, pid: str, data: bytes
) -> None:
    url = await uploaded(client, pid, data)
    assert url.startswith(f"/media/{pid}/")
    assert await thumbnails(client, pid) == [TYPED, url]
    for address in (url, card_url(url)):
        image = opened(await served(client, address))
        assert image.format == "WEBP"
        assert image.size == (64, 48)  # small images are never enlarged


async def test_transparency_survives_the_re_encoding(client: Client, pid: str) -> None:
    url = await uploaded(client, pid, picture("PNG", mode="RGBA", color=(200, 0, 0, 0)))
    image = opened(await served(client, url))
    assert image.mode == "RGBA"
    assert image.getpixel((5, 5))[3] == 0


async def test_large_images_are_reduced_keeping_their_shape(client: Client, pid: str) -> None:
    url = await uploaded(client, pid, picture("PNG", (2000, 1000)))
    # The page size fits a 1200x900 frame; the card covers a 480x360 one.
    assert opened(await served(client, url)).size == (1200, 600)
    assert opened(await served(client, card_url(url))).size == (720, 360)


async def test_exif_and_gps_are_stripped_and_the_photo_turned_upright(
    client: Client, pid: str
) -> None:
    url = await uploaded(client, pid, photo_with_gps((80, 40), orientation=6))
    for address in (url, card_url(url)):
        data = await served(client, address)
        image = opened(data)
        assert image.size == (40, 80)  # EXIF orientation 6: a quarter turn, applied
        assert not image.getexif()
        assert not {"exif", "xmp", "icc_profile"} & set(image.info)
        assert b"Exif" not in data
        assert b"SpyPhone" not in data


async def test_an_animated_gif_gives_its_first_frame(client: Client, pid: str) -> None:
    url = await uploaded(client, pid, animated_gif("red", "blue"))
    red, _, blue = opened(await served(client, url)).convert("RGB").getpixel((10, 10))
    assert red > 200
    assert blue < 50


async def test_the_same_picture_twice_gets_two_urls(client: Client, pid: str) -> None:
    data = picture()
    first = await uploaded(client, pid, data)
    second = await uploaded(client, pid, data)
    assert first != second
    # The content hash is the same: only the per-upload tag differs.
    assert first.rsplit("/", 1)[1].split("-")[0] == second.rsplit("/", 1)[1].split("-")[0]


async def test_concurrent_uploads_are_all_listed(client: Client, pid: str) -> None:
    colors = ["red", "green", "blue", "orange", "purple"]
    responses = await asyncio.gather(
        *(upload(client, pid, picture(color=color)) for color in colors)
    )
    urls = [response.headers["Location"] for response in responses]
    assert all(response.status == 201 for response in responses)
    listed = await thumbnails(client, pid)
    assert sorted(listed) == sorted([TYPED, *urls])
    for url in urls:
        await served(client, url)


async def test_an_upload_is_announced_to_live_pages(
    client: Client, pid: str, new_browser: NewBrowser
) -> None:
    watcher = await new_browser()
    ws = await watcher.ws_connect("/ws", origin=origin(watcher)["Origin"])
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    url = await uploaded(client, pid, picture())
    event = await ws.receive_json(timeout=5)
    assert event["type"] == "product.updated"
    assert event["product"]["thumbnails"] == [TYPED, url]
    await ws.close()


# ---- refused uploads -----------------------------------------------------------------------


async def refused(client: Client, pid: str, response: Any, status: int, names: str = "") -> str:
    """The upload was refused, and nothing was listed or stored."""
    message = await error(response, status, names)
    assert await thumbnails(client, pid) == [TYPED]
    assert await stored_files(client) == []
    return message


async def test_a_decompression_bomb_is_refused_before_decoding(client: Client, pid: str) -> None:
    response = await upload(client, pid, png_header(30000, 30000))
    assert "25 megapixels" in await refused(client, pid, response, 400, "image")


async def test_just_over_25_megapixels_is_refused(client: Client, pid: str) -> None:
    response = await upload(client, pid, png_header(5001, 5000))
    assert "25 megapixels" in await refused(client, pid, response, 400, "image")


async def test_a_text_file_named_png_is_refused(client: Client, pid: str) -> None:
    form = image_form(b"just some text, not a picture\n" * 20, filename="cat.png")
    response = await upload(client, pid, form)
    message = await refused(client, pid, response, 400, "image")
    assert "not a JPEG, PNG, WebP or GIF" in message


@pytest.mark.parametrize("kind", ["BMP", "TIFF", "ICO"])
async def test_other_image_formats_are_refused(client: Client, pid: str, kind: str) -> None:
    response = await upload(client, pid, picture(kind, (16, 16)))
    assert "not a JPEG, PNG, WebP or GIF" in await refused(client, pid, response, 400, "image")


async def test_a_truncated_jpeg_is_refused(client: Client, pid: str) -> None:
    data = noisy_jpeg()
    response = await upload(client, pid, data[: len(data) * 2 // 3])
    assert "truncated" in await refused(client, pid, response, 400, "image")


async def test_a_file_over_5_mb_is_413(client: Client, pid: str) -> None:
    response = await upload(client, pid, b"\xff" * (MAX_BYTES + 1))
    assert "5 MB" in await refused(client, pid, response, 413, "image")


async def test_a_body_over_the_route_limit_is_413_before_it_is_read(
    client: Client, pid: str
) -> None:
    response = await upload(client, pid, b"\xff" * (6 * 1024 * 1024))
    await refused(client, pid, response, 413, "body")


async def test_the_other_routes_keep_the_64_kib_limit(client: Client, pid: str) -> None:
    body = {"description": "x" * (100 * 1024)}
    await error(await client.put(f"/api/products/{pid}", json=body), 413)


async def test_a_form_without_the_image_field_is_400(client: Client, pid: str) -> None:
    empty = MultipartWriter("form-data")
    response = await upload(client, pid, empty)
    await refused(client, pid, response, 400, "image: is required")


async def test_no_body_at_all_is_400(client: Client, pid: str) -> None:
    # Found by schemathesis: it was a 500 (no Content-Type to read a boundary from).
    response = await client.post(f"/api/products/{pid}/images", headers=origin(client))
    await refused(client, pid, response, 400, "image: is required")


async def test_a_file_under_another_field_name_is_400_naming_it(client: Client, pid: str) -> None:
    response = await upload(client, pid, image_form(picture(), field="file"))
    message = await refused(client, pid, response, 400, "file")
    assert "image" in message


async def test_two_files_at_once_are_400(client: Client, pid: str) -> None:
    form = image_form(picture())
    form.add_field("image", picture("PNG"), filename="b.png")
    await refused(client, pid, await upload(client, pid, form), 400, "one file")


async def test_a_json_body_is_415(client: Client, pid: str) -> None:
    response = await client.post(
        f"/api/products/{pid}/images", json={"image": "x"}, headers=origin(client)
    )
    await refused(client, pid, response, 415)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"no boundary given"),
        ("multipart/form-data; boundary=xyz", b"not the boundary at all"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\n\r\nno name\r\n--xyz--\r\n"),
        # Found by schemathesis (a 500): a part header line that is no header.
        ("multipart/form-data; boundary=xyz", b"--xyz\r\n-6.2e+16--xyz--\r\n\r\n"),
    ],
    ids=["no-boundary", "no-parts", "cut-headers", "unnamed-part", "bad-part-header"],
)
async def test_a_broken_multipart_body_is_400(
    client: Client, pid: str, content_type: str, body: bytes
) -> None:
    headers = {"Content-Type": content_type, **origin(client)}
    response = await client.post(f"/api/products/{pid}/images", data=body, headers=headers)
    await refused(client, pid, response, 400)


async def test_a_body_without_a_length_is_411(client: Client, pid: str) -> None:
    async def chunked() -> AsyncIterator[bytes]:
        yield b"--xyz\r\n"

    headers = {"Content-Type": "multipart/form-data; boundary=xyz", **origin(client)}
    response = await client.post(f"/api/products/{pid}/images", data=chunked(), headers=headers)
    await refused(client, pid, response, 411)


async def test_an_unknown_product_is_404_and_stores_nothing(client: Client, pid: str) -> None:
    await error(await upload(client, MISSING_ID, picture()), 404, MISSING_ID)
    assert await stored_files(client) == []


async def test_a_malformed_product_id_is_400(client: Client, pid: str) -> None:
    await error(await upload(client, "not-an-id", picture()), 400, "pid")


async def test_a_product_holds_at_most_20_images(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    body = product_body(thumbnails=[f"/static/img/{n}.png" for n in range(19)])
    pid = (await success(await client.post("/api/products", json=body), 201))["_id"]
    await uploaded(client, pid, picture())
    await error(await upload(client, pid, picture(color="red")), 409, "20")
    assert len(await thumbnails(client, pid)) == 20
    assert len(await stored_files(client)) == 2  # the first upload's two sizes only


# ---- who may upload ---------------------------------------------------------------------------


async def test_a_user_may_not_upload(client: Client, auth: Auth, pid: str) -> None:
    await auth.logout()
    await auth.user()
    await refused(client, pid, await upload(client, pid, picture()), 403)


async def test_an_anonymous_upload_is_401(client: Client, auth: Auth, pid: str) -> None:
    await auth.logout()
    await refused(client, pid, await upload(client, pid, picture()), 401)


async def test_a_cookie_upload_without_origin_is_403(client: Client, pid: str) -> None:
    response = await upload(client, pid, picture(), headers={})
    await refused(client, pid, response, 403, "Origin")


async def test_a_cookie_upload_from_another_site_is_403(client: Client, pid: str) -> None:
    response = await upload(client, pid, picture(), headers={"Origin": "https://evil.example"})
    await refused(client, pid, response, 403)


async def test_a_cookie_upload_with_a_lookalike_origin_is_403(client: Client, pid: str) -> None:
    own = origin(client)["Origin"]
    for fake in (own + ".evil.example", own.replace("http://", "https://"), "null"):
        response = await upload(client, pid, picture(), headers={"Origin": fake})
        await refused(client, pid, response, 403)


# ---- removing -------------------------------------------------------------------------------


async def test_removing_an_image_unlists_it_and_deletes_both_sizes(
    client: Client, pid: str
) -> None:
    first = await uploaded(client, pid, picture(color="red"))
    second = await uploaded(client, pid, picture(color="blue"))
    product = await success(await client.delete(f"/api/products/{pid}/images/1"))
    assert product["thumbnails"] == [TYPED, second]
    await gone(client, first, card_url(first))
    await served(client, second)
    await served(client, card_url(second))


async def test_removing_a_typed_in_thumbnail_keeps_the_uploads(client: Client, pid: str) -> None:
    url = await uploaded(client, pid, picture())
    product = await success(await client.delete(f"/api/products/{pid}/images/0"))
    assert product["thumbnails"] == [url]
    await served(client, url)


async def test_removing_one_of_two_uploads_of_the_same_picture_keeps_the_other(
    client: Client, pid: str
) -> None:
    data = picture()
    first = await uploaded(client, pid, data)
    second = await uploaded(client, pid, data)
    await success(await client.delete(f"/api/products/{pid}/images/1"))
    await gone(client, first)
    await served(client, second)


async def test_removing_a_missing_position_is_404(client: Client, pid: str) -> None:
    await error(await client.delete(f"/api/products/{pid}/images/1"), 404, "image 1")
    await error(await client.delete(f"/api/products/{MISSING_ID}/images/0"), 404, MISSING_ID)


@pytest.mark.parametrize("n", ["-1", "x", "1.5", "99999"])
async def test_a_malformed_position_is_400(client: Client, pid: str, n: str) -> None:
    await error(await client.delete(f"/api/products/{pid}/images/{n}"), 400, "n")


async def test_concurrent_removals_each_remove_one_image(client: Client, pid: str) -> None:
    urls = [await uploaded(client, pid, picture(color=color)) for color in ("red", "blue")]
    responses = await asyncio.gather(
        *(client.delete(f"/api/products/{pid}/images/1") for _ in range(2))
    )
    assert sorted(response.status for response in responses) == [200, 200]
    assert await thumbnails(client, pid) == [TYPED]
    await gone(client, *urls)


# ---- reordering ---------------------------------------------------------------------------------


async def test_reordering_puts_the_images_in_the_given_order(client: Client, pid: str) -> None:
    first = await uploaded(client, pid, picture(color="red"))
    second = await uploaded(client, pid, picture(color="blue"))
    response = await client.put(f"/api/products/{pid}/images", json={"order": [2, 0, 1]})
    assert (await success(response))["thumbnails"] == [second, TYPED, first]
    assert await thumbnails(client, pid) == [second, TYPED, first]
    await served(client, first)


@pytest.mark.parametrize("order", [[-1, 0], [0, "1"], [0, 1.5], [0, 20], None])
async def test_an_order_that_is_no_list_of_positions_is_400(
    client: Client, pid: str, order: Any
) -> None:
    await uploaded(client, pid, picture())
    response = await client.put(f"/api/products/{pid}/images", json={"order": order})
    await error(response, 400, "order")
    assert len(await thumbnails(client, pid)) == 2


@pytest.mark.parametrize("order", [[0, 0], [1], [0, 1, 2], [1, 2]])
async def test_positions_that_are_not_the_products_images_are_409(
    client: Client, pid: str, order: list[int]
) -> None:
    # Well-formed, but not each of this product's images once: a conflict with its state.
    await uploaded(client, pid, picture())
    response = await client.put(f"/api/products/{pid}/images", json={"order": order})
    assert "order" in await error(response, 409)
    assert len(await thumbnails(client, pid)) == 2


async def test_reordering_an_unknown_product_is_404(client: Client, pid: str) -> None:
    response = await client.put(f"/api/products/{MISSING_ID}/images", json={"order": []})
    await error(response, 404, MISSING_ID)


# ---- the product's own changes ----------------------------------------------------------


async def test_deleting_the_product_deletes_its_files(client: Client, pid: str) -> None:
    urls = [await uploaded(client, pid, picture(color=color)) for color in ("red", "blue")]
    await success(await client.delete(f"/api/products/{pid}"))
    await gone(client, *urls, *(card_url(url) for url in urls))
    assert await stored_files(client) == []


async def test_another_product_with_the_same_picture_keeps_its_copy(
    client: Client, pid: str, product_body: ProductBody
) -> None:
    other = (await success(await client.post("/api/products", json=product_body()), 201))["_id"]
    data = picture()
    mine = await uploaded(client, pid, data)
    theirs = await uploaded(client, other, data)
    await success(await client.delete(f"/api/products/{pid}"))
    await gone(client, mine)
    await served(client, theirs)
    await served(client, card_url(theirs))


async def test_thumbnails_set_through_put_may_keep_and_drop_uploads(
    client: Client, pid: str
) -> None:
    kept = await uploaded(client, pid, picture(color="red"))
    dropped = await uploaded(client, pid, picture(color="blue"))
    body = {"thumbnails": [kept, "https://cdn.example/mate.jpg"]}
    product = await success(await client.put(f"/api/products/{pid}", json=body))
    assert product["thumbnails"] == body["thumbnails"]
    await served(client, kept)
    await gone(client, dropped, card_url(dropped))


async def test_thumbnails_may_not_point_at_media_files_of_other_products(
    client: Client, pid: str, product_body: ProductBody
) -> None:
    other = (await success(await client.post("/api/products", json=product_body()), 201))["_id"]
    theirs = await uploaded(client, other, picture())
    for url in (theirs, f"/media/{pid}/0123456789abcdef-01234567.webp", "/media/x.png"):
        response = await client.put(f"/api/products/{pid}", json={"thumbnails": [url]})
        await error(response, 400, "thumbnails")
        response = await client.post("/api/products", json=product_body(thumbnails=[url]))
        await error(response, 400, "thumbnails")
    assert await thumbnails(client, pid) == [TYPED]


# ---- interrupted writes and the sweep --------------------------------------------------


async def upload_cut_off(client: Client, pid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upload whose files are stored, but the store is lost before the product lists them."""

    async def unavailable(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("connection lost")

    with monkeypatch.context() as patch:
        patch.setattr(client.app[STORE].products, "update", unavailable)
        await error(await upload(client, pid, picture(color="blue")), 503)


async def test_an_upload_cut_off_by_the_store_leaves_only_a_file_the_sweep_removes(
    client: Client, pid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = await uploaded(client, pid, picture(color="red"))
    await upload_cut_off(client, pid, monkeypatch)
    # The product never listed the new files: they are unlisted, not missing.
    assert await thumbnails(client, pid) == [TYPED, kept]
    assert len(await stored_files(client)) == 4
    assert await client.app[IMAGES].sweep(grace=0) == 2
    assert len(await stored_files(client)) == 2
    await served(client, kept)
    await served(client, card_url(kept))


async def test_the_sweep_leaves_recent_unlisted_files_alone(
    client: Client, pid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await upload_cut_off(client, pid, monkeypatch)
    # Younger than the grace period: it could be an upload about to list its files.
    assert await client.app[IMAGES].sweep() == 0
    assert len(await stored_files(client)) == 2


async def test_the_sweep_removes_what_a_killed_write_left_behind(
    client: Client, pid: str, settings: Settings
) -> None:
    """A process killed mid-write leaves a temporary file (SQLite) or chunks without their
    file document (GridFS); neither is ever served, and the sweep removes both."""
    kept = await uploaded(client, pid, picture())
    store = client.app[STORE]
    an_hour_ago = time.time() - 3600
    if isinstance(store, MongoStore):
        database = store.client.get_default_database()
        chunks, files = database["media.chunks"], database["media.files"]
        # A file's id is made when its upload starts: this one started an hour ago.
        started = ObjectId.from_datetime(datetime.fromtimestamp(an_hour_ago, UTC))
        await chunks.insert_one({"files_id": started, "n": 0, "data": b"partial"})

        async def leftovers() -> int:
            listed = [doc["_id"] async for doc in files.find({}, {"_id": 1})]
            return await chunks.count_documents({"files_id": {"$nin": listed}})
    else:
        partial = settings.media_dir / pid / ".partial.webp.0a1b2c3d.tmp"
        partial.write_bytes(b"partial")
        os.utime(partial, (an_hour_ago, an_hour_ago))

        async def leftovers() -> int:
            return len(list((settings.media_dir / pid).glob("*.tmp")))

    assert await leftovers() == 1
    await client.app[IMAGES].sweep(grace=0)
    assert await leftovers() == 0
    await served(client, kept)
