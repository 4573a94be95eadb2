"""The back office's product form on every store: creating and editing with the API's
rules and messages shown next to each field, edits that never silently overwrite a change
made meanwhile, and deleting through a confirmation page."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.backoffice import BackOffice, field_errors, form_fields, location, seen
from tests.conftest import Auth, Client
from tests.envelopes import MISSING_ID, NewBrowser


@pytest.fixture
async def office(client: Client, auth: Auth) -> BackOffice:
    await auth.admin()
    return BackOffice(client)


# ---- creating -----------------------------------------------------------------------------


async def test_the_new_product_form_offers_every_field_and_the_categories(
    office: BackOffice,
) -> None:
    await office.product(category="Infusiones", status=False)  # hidden products count too
    html = await office.page("/admin/products/new")
    for name in ("title", "code", "price", "stock", "category", "status", "description"):
        assert f'name="{name}"' in html
    assert '<option value="Infusiones">' in html
    assert 'name="status" type="checkbox" value="true" checked' in html
    assert 'name="image"' not in html  # images come once the product exists


async def test_creating_a_product_takes_a_decimal_comma_and_opens_its_form(
    office: BackOffice,
) -> None:
    fields = form_fields(price="1.234,5".replace(".", ""), description="Line 1\r\nLine 2")
    target = location(await office.post("/admin/products/new", fields))
    pid = target.removeprefix("/admin/products/")
    product = await office.get_product(pid)
    assert product["price"] == 1234.5
    assert product["description"] == "Line 1\nLine 2"
    assert product["status"] is True
    assert product["thumbnails"] == []
    assert "Yerba mate is created. Now add its images." in await office.flashes()


async def test_an_unticked_status_creates_an_off_sale_product(office: BackOffice) -> None:
    fields = form_fields()
    del fields["status"]  # a browser sends nothing for an unticked box
    pid = location(await office.post("/admin/products/new", fields)).rsplit("/", 1)[1]
    assert (await office.get_product(pid))["status"] is False


async def test_bad_fields_are_shown_next_to_each_field_in_the_api_words(
    office: BackOffice,
) -> None:
    fields = form_fields(title="  ", code="no spaces", price="12.345", stock="-1", category="")
    response = await office.post("/admin/products/new", fields)
    html = await response.text()
    assert response.status == 400
    # The API, sent the same values as JSON (an empty field is a missing one):
    body = '{"code": "no spaces", "price": 12.345, "stock": -1, "description": ""}'
    api = await office.client.post(
        "/api/products", data=body, headers={"Content-Type": "application/json"}
    )
    expected = (await api.json())["fields"]
    assert set(expected) == {"title", "code", "price", "stock", "category"}
    assert field_errors(html) == expected
    assert 'value="no spaces"' in html  # what was typed stays
    assert 'aria-invalid="true" aria-describedby="hint-code error-code"' in html


async def test_a_price_that_is_not_a_number_says_so(office: BackOffice) -> None:
    response = await office.post("/admin/products/new", form_fields(price="twelve"))
    assert field_errors(await response.text())["price"] == "must be a number"


async def test_a_taken_code_is_a_409_next_to_the_code(office: BackOffice) -> None:
    taken = await office.product()
    response = await office.post("/admin/products/new", form_fields(code=taken["code"]))
    assert response.status == 409
    assert field_errors(await response.text()) == {
        "code": f"a product with code {taken['code']!r} already exists"
    }


async def test_form_text_with_markup_is_shown_escaped(office: BackOffice) -> None:
    response = await office.post("/admin/products/new", form_fields(title="<b>x</b>", stock=""))
    html = await response.text()
    assert 'value="&lt;b&gt;x&lt;/b&gt;"' in html
    assert "<b>x</b>" not in html


# ---- editing ------------------------------------------------------------------------------


async def test_the_edit_form_shows_the_product_as_it_is(office: BackOffice) -> None:
    product = await office.product(price=7.5, stock=3, status=False, description="A\nB")
    html = await office.page(f"/admin/products/{product['_id']}")
    assert f'value="{product["code"]}"' in html
    assert 'name="price" type="text" value="7.50"' in html
    assert 'name="stock" type="text" value="3"' in html
    assert 'name="status" type="checkbox" value="true">' in html  # not checked
    assert ">A\nB</textarea>" in html
    record = seen(html)
    assert set(record) == {
        f"seen_{name}"
        for name in ("title", "code", "price", "stock", "category", "status", "description")
    } | {"seen_version"}
    assert record["seen_version"] == "1"


async def test_saving_changes_only_what_was_changed_and_stays_on_the_form(
    office: BackOffice,
) -> None:
    product = await office.product()
    response = await office.edit(product["_id"], price="3,99", title="Yerba suave")
    assert location(response) == f"/admin/products/{product['_id']}"
    after = await office.get_product(product["_id"])
    assert (after["price"], after["title"], after["stock"]) == (3.99, "Yerba suave", 100)
    assert "Yerba suave is saved." in await office.flashes()


async def test_saving_an_unchanged_form_says_there_was_nothing_to_save(
    office: BackOffice,
) -> None:
    product = await office.product()
    assert location(await office.edit(product["_id"])) == f"/admin/products/{product['_id']}"
    assert "Nothing to save" in await office.flashes()


async def test_a_field_changed_elsewhere_meanwhile_is_kept_when_the_form_did_not_touch_it(
    office: BackOffice,
) -> None:
    pid = (await office.product(stock=10))["_id"]
    opened = await office.open_form(pid)
    await office.client.put(f"/api/products/{pid}", json={"stock": 7})  # a purchase, say
    assert location(await office.save(pid, opened, title="Renamed"))
    after = await office.get_product(pid)
    assert (after["title"], after["stock"]) == ("Renamed", 7)


async def stock_saved_over(
    office: BackOffice, pid: str, opened: dict[str, str], change: dict[str, Any]
) -> str:
    """The page answering a save of stock 20 from the form as `opened`, after `change` was
    made through the API meanwhile: a 409 conflict."""
    await office.client.put(f"/api/products/{pid}", json=change)
    response = await office.save(pid, opened, stock="20")
    assert response.status == 409
    return await response.text()


async def test_a_field_changed_both_here_and_elsewhere_is_a_conflict_until_saved_again(
    office: BackOffice,
) -> None:
    pid = (await office.product(stock=10))["_id"]
    opened = await office.open_form(pid)
    conflict = await stock_saved_over(office, pid, opened, {"stock": 7})
    assert field_errors(conflict) == {
        "stock": "was changed meanwhile to “7”: save again to replace it"
    }
    assert "changed elsewhere since you opened it (version 1, now 2)" in conflict
    assert 'name="stock" type="text" value="20"' in conflict  # the admin's value stays
    assert (await office.get_product(pid))["stock"] == 7

    again = await office.save(pid, {**opened, **seen(conflict)}, stock="20")
    assert location(again) == f"/admin/products/{pid}"
    assert (await office.get_product(pid))["stock"] == 20


async def test_two_admins_saving_the_same_field_at_once_never_lose_one_silently(
    office: BackOffice, new_browser: NewBrowser
) -> None:
    other = BackOffice(await new_browser())
    await Auth(other.client).admin()
    pid = (await office.product(stock=10))["_id"]
    forms = [
        (admin, await admin.open_form(pid), await admin.token(), stock)
        for admin, stock in ((office, "20"), (other, "30"))
    ]
    # Both read the product at version 1; only one write may be made on that reading.
    answers = await asyncio.gather(
        *(admin.save(pid, opened, token=t, stock=stock) for admin, opened, t, stock in forms)
    )
    assert sorted(answer.status for answer in answers) == [303, 409]
    [saved] = [
        stock for (*_, stock), answer in zip(forms, answers, strict=True) if answer.status == 303
    ]
    assert (await office.get_product(pid))["stock"] == int(saved)


async def test_a_form_refused_for_a_mistake_still_knows_what_the_admin_first_saw(
    office: BackOffice,
) -> None:
    pid = (await office.product(stock=10))["_id"]
    opened = await office.open_form(pid)
    await office.client.put(f"/api/products/{pid}", json={"stock": 7})
    refused = await office.save(pid, opened, price="0", stock="20")
    assert refused.status == 400
    record = {name: value for name, value in opened.items() if name.startswith("seen_")}
    assert seen(await refused.text()) == record
    # The mistake fixed: the stock changed meanwhile is still caught.
    response = await office.save(pid, opened, stock="20")
    assert response.status == 409
    assert (await office.get_product(pid))["stock"] == 7


async def test_an_edit_is_refused_with_the_same_messages(office: BackOffice) -> None:
    product = await office.product()
    other = await office.product()
    response = await office.edit(product["_id"], code=other["code"])
    assert response.status == 409
    assert "already exists" in field_errors(await response.text())["code"]
    response = await office.edit(product["_id"], price="0")
    assert response.status == 400
    assert field_errors(await response.text()) == {"price": "must be greater than 0"}


async def test_editing_a_product_deleted_meanwhile_goes_back_to_the_list(
    office: BackOffice,
) -> None:
    pid = (await office.product())["_id"]
    opened = await office.open_form(pid)
    await office.client.delete(f"/api/products/{pid}")
    response = await office.save(pid, opened, title="Gone")
    assert location(response) == "/admin/products"
    assert "That product was deleted meanwhile." in await office.flashes()


async def test_an_unknown_product_form_is_a_404_page(office: BackOffice) -> None:
    await office.page(f"/admin/products/{MISSING_ID}", 404)
    await office.page("/admin/products/not-an-id", 400)


# ---- deleting -----------------------------------------------------------------------------


async def test_deleting_goes_through_a_confirmation_page(office: BackOffice) -> None:
    product = await office.product(title="Mate de calabaza")
    pid = product["_id"]
    html = await office.page(f"/admin/products/{pid}/delete")
    assert "Delete “Mate de calabaza”?" in html
    assert (
        f'<form class="confirm-actions" method="post" action="/admin/products/{pid}/delete">'
        in html
    )
    assert f'href="/admin/products/{pid}">Keep it</a>' in html
    assert (await office.get_product(pid))["_id"] == pid  # the GET deleted nothing

    assert location(await office.post(f"/admin/products/{pid}/delete", {})) == "/admin/products"
    assert (await office.client.get(f"/api/products/{pid}")).status == 404
    assert "Mate de calabaza is deleted." in await office.flashes()


async def test_deleting_a_product_already_gone_says_so(office: BackOffice) -> None:
    product = await office.product()
    await office.client.delete(f"/api/products/{product['_id']}")
    response = await office.post(f"/admin/products/{product['_id']}/delete", {})
    assert location(response) == "/admin/products"
    assert "deleted meanwhile" in await office.flashes()


# ---- in Spanish ------------------------------------------------------------------------------


async def test_in_spanish_the_price_has_a_decimal_comma_and_a_conflict_is_explained(
    office: BackOffice,
) -> None:
    office.client.session.cookie_jar.update_cookies({"shop_language": "es-AR"})
    pid = (await office.product(price=8.9, stock=10))["_id"]
    html = await office.page(f"/admin/products/{pid}")
    assert 'name="price" type="text" value="8,90"' in html
    assert "En dólares estadounidenses: 12,50 o 12.50." in html
    # The form as shown, comma and all, saves nothing: it is not a change.
    opened = {**await office.open_form(pid), "price": "8,90"}
    assert location(await office.save(pid, opened))
    assert "No hay nada para guardar" in await office.flashes()

    conflict = await stock_saved_over(office, pid, opened, {"stock": 7, "status": False})
    assert field_errors(conflict) == {
        "stock": "mientras tanto cambió a “7”: guardá de nuevo para reemplazarlo"
    }
    assert "Alguien cambió este producto desde que lo abriste (versión 1, ahora 2)" in conflict
