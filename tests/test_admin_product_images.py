"""The product form's images on every store: upload (a same-origin multipart post with the
form's token, the API's rules and messages), move up and down, remove; each names the
image it shows, so a change made meanwhile never moves or removes another one."""

from __future__ import annotations

import pytest

from tests.backoffice import BackOffice, field_errors, location
from tests.conftest import Auth, Client
from tests.pictures import picture

RED, GREEN, BLUE = (picture("PNG", (40, 30), color=c) for c in ("red", "green", "blue"))


@pytest.fixture
async def office(client: Client, auth: Auth) -> BackOffice:
    await auth.admin()
    return BackOffice(client)


async def uploaded(office: BackOffice, pid: str, *pictures: bytes) -> list[str]:
    for data in pictures:
        assert location(await office.upload(pid, data)) == f"/admin/products/{pid}#images"
    return (await office.get_product(pid))["thumbnails"]


async def test_an_uploaded_image_joins_the_product_and_its_form(office: BackOffice) -> None:
    product = await office.product()
    [url] = await uploaded(office, product["_id"], RED)
    assert url.startswith(f"/media/{product['_id']}/")
    assert "The image is added." in await office.flashes()
    html = await office.page(f"/admin/products/{product['_id']}")
    assert f'src="{url.replace(".webp", ".card.webp")}"' in html
    assert f'name="url" value="{url}"' in html
    assert (await office.client.get(url)).status == 200


async def test_the_upload_form_is_multipart_with_the_token(office: BackOffice) -> None:
    product = await office.product()
    html = await office.page(f"/admin/products/{product['_id']}")
    form = html.split('class="upload-form"')[1].split("</form>")[0]
    assert f'action="/admin/products/{product["_id"]}/images"' in form
    assert 'enctype="multipart/form-data"' in form
    assert 'name="csrf_token"' in form
    assert 'name="image" type="file" accept="image/jpeg,image/png,image/webp,image/gif"' in form


async def test_an_upload_without_the_form_token_is_refused(office: BackOffice) -> None:
    product = await office.product()
    response = await office.upload(product["_id"], RED, token="stale")
    assert response.status == 403
    assert (await office.get_product(product["_id"]))["thumbnails"] == []


async def test_an_upload_from_another_site_is_refused(office: BackOffice) -> None:
    product = await office.product()
    for headers in ({}, {"Origin": "https://evil.example"}):
        response = await office.upload(product["_id"], RED, headers=headers)
        assert response.status == 403
    assert (await office.get_product(product["_id"]))["thumbnails"] == []


async def test_a_file_that_is_no_image_is_refused_next_to_the_field(office: BackOffice) -> None:
    product = await office.product()
    response = await office.upload(product["_id"], b"GIF89a not really", filename="x.gif")
    assert response.status == 400
    html = await response.text()
    assert field_errors(html) == {"image": "not a JPEG, PNG, WebP or GIF file"}
    assert 'name="title"' in html  # the whole form, again


async def test_sending_no_file_asks_for_one(office: BackOffice) -> None:
    product = await office.product()
    response = await office.upload(product["_id"], b"", filename="")
    assert response.status == 400
    assert field_errors(await response.text()) == {"image": "choose a picture file to upload"}


async def test_a_file_over_the_limit_is_refused_next_to_the_field(office: BackOffice) -> None:
    product = await office.product()
    big = b"\x89PNG" + bytes(5 * 1024 * 1024)
    response = await office.upload(product["_id"], big)
    assert response.status == 413
    assert field_errors(await response.text()) == {"image": "larger than 5 MB"}


async def test_images_move_earlier_and_later(office: BackOffice) -> None:
    product = await office.product()
    pid = product["_id"]
    red, green, blue = await uploaded(office, pid, RED, GREEN, BLUE)
    move = f"/admin/products/{pid}/images/move"
    assert location(await office.post(move, {"url": blue, "direction": "up"})).endswith("#images")
    assert (await office.get_product(pid))["thumbnails"] == [red, blue, green]
    await office.post(move, {"url": red, "direction": "down"})
    assert (await office.get_product(pid))["thumbnails"] == [blue, red, green]
    await office.post(move, {"url": blue, "direction": "up"})  # the first stays first
    assert (await office.get_product(pid))["thumbnails"] == [blue, red, green]


async def test_the_first_image_cannot_move_up_nor_the_last_down(office: BackOffice) -> None:
    product = await office.product()
    await uploaded(office, product["_id"], RED, GREEN)
    html = await office.page(f"/admin/products/{product['_id']}")
    assert html.count('value="up" disabled') == 1
    assert html.count('value="down" disabled') == 1
    first = html.index('value="up" disabled')
    assert first < html.index('value="down" disabled')


async def test_removing_an_image_deletes_its_files(office: BackOffice) -> None:
    product = await office.product()
    pid = product["_id"]
    red, green = await uploaded(office, pid, RED, GREEN)
    response = await office.post(f"/admin/products/{pid}/images/remove", {"url": red})
    assert location(response) == f"/admin/products/{pid}#images"
    assert "The image is removed." in await office.flashes()
    assert (await office.get_product(pid))["thumbnails"] == [green]
    assert (await office.client.get(red)).status == 404


async def test_an_image_removed_meanwhile_is_not_mistaken_for_another(
    office: BackOffice,
) -> None:
    product = await office.product()
    pid = product["_id"]
    red, green = await uploaded(office, pid, RED, GREEN)
    await office.client.delete(f"/api/products/{pid}/images/0")  # another admin removes red
    for action, data in (("remove", {"url": red}), ("move", {"url": red, "direction": "down"})):
        response = await office.post(f"/admin/products/{pid}/images/{action}", data)
        assert location(response) == f"/admin/products/{pid}#images"
        assert "That image changed meanwhile" in await office.flashes()
    assert (await office.get_product(pid))["thumbnails"] == [green]


async def test_image_forms_need_the_token_and_a_direction(office: BackOffice) -> None:
    product = await office.product()
    pid = product["_id"]
    [red] = await uploaded(office, pid, RED)
    response = await office.post(f"/admin/products/{pid}/images/remove", {"url": red}, token="x")
    assert response.status == 403
    response = await office.post(f"/admin/products/{pid}/images/move", {"url": red})
    assert response.status == 400
    assert (await office.get_product(pid))["thumbnails"] == [red]
