"""Errors people can read: every 400 names each bad field, all at once, in short plain
phrases with their limits; the pages' forms show the same phrases next to their fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Auth, Client, registration
from tests.envelopes import error

ProductBody = Callable[..., dict[str, Any]]


async def fields_of(response: Any) -> dict[str, str]:
    await error(response, 400)
    body = await response.json()
    return body["fields"]


async def test_every_bad_field_is_named_at_once(client: Client, auth: Auth) -> None:
    await auth.admin()
    body = {"code": "A B", "price": 0, "stock": -1, "thumbnails": "x", "colour": "red"}
    response = await client.post("/api/products", json=body)
    assert await fields_of(response) == {
        "title": "is required",
        "code": "must contain only letters, digits, '.', '_' and '-'",
        "price": "must be greater than 0",
        "stock": "must be at least 0",
        "category": "is required",
        "thumbnails": "must be a list",
        "colour": "is not an accepted field",
    }
    summary = (await response.json())["error"]
    assert summary.startswith("title: is required; code: must contain only")
    assert summary.endswith("and 2 more")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "t" * 201, "must be at most 200 characters"),
        ("title", "", "must not be empty"),
        ("title", 5, "must be text"),
        ("title", "$where", "must not start with '$'"),
        ("description", "d" * 5001, "must be at most 5000 characters"),
        ("price", "12", "must be a number"),
        ("price", 0.001, "must have at most two decimals"),
        ("price", 10**10, "must be at most 1000000000"),
        ("stock", 1.5, "must be a whole number"),
        ("stock", "3", "must be a whole number"),
        ("stock", 10**10, "must be at most 1000000000"),
        ("status", "yes", "must be true or false"),
        ("thumbnails", ["x"] * 21, "must have at most 20 items"),
        ("category", {"$ne": 1}, "must be text"),
    ],
)
async def test_product_field_phrases_carry_their_limits(
    client: Client, auth: Auth, product_body: ProductBody, field: str, value: Any, message: str
) -> None:
    await auth.admin()
    response = await client.post("/api/products", json=product_body(**{field: value}))
    assert await fields_of(response) == {field: message}


async def test_nested_fields_are_named_by_their_path(client: Client, auth: Auth) -> None:
    user = await auth.user()
    body = {"products": [{"product": "x", "quantity": 0}, {"quantity": 1}]}
    response = await client.put(f"/api/carts/{user['cart']}", json=body)
    assert await fields_of(response) == {
        "products.0.product": "must be a 24-character hexadecimal id",
        "products.0.quantity": "must be at least 1",
        "products.1.product": "is required",
    }


async def test_patch_says_which_field_is_null_and_that_it_needs_one(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    response = await client.post("/api/products", json=product_body())
    pid = (await response.json())["payload"]["_id"]
    response = await client.put(f"/api/products/{pid}", json={"title": None, "stock": None})
    assert await fields_of(response) == {"title": "must not be null", "stock": "must not be null"}
    response = await client.put(f"/api/products/{pid}", json={})
    assert await fields_of(response) == {"body": "must hold at least one field to change"}


async def test_registration_phrases(client: Client) -> None:
    body = registration(email="not-an-email", age=12, password="short", first_name="A\u0000")
    response = await client.post("/api/users", json=body)
    assert await fields_of(response) == {
        "first_name": "must not contain control characters",
        "email": "must be an email address",
        "age": "must be at least 13",
        "password": "must be at least 8 characters",
    }


async def test_query_string_errors_name_every_parameter(client: Client) -> None:
    response = await client.get(
        "/api/products", params={"limit": "0", "page": "x", "sort": "up", "colour": "red"}
    )
    assert await fields_of(response) == {
        "colour": "is not an accepted parameter",
        "limit": "must be a whole number from 1 to 100",
        "page": "must be a whole number from 1 to 1000000",
        "sort": "must be one of: asc, desc, price_asc, price_desc, title_asc, title_desc,"
        " stock_asc, stock_desc",
    }


async def test_body_that_is_not_json_is_named_as_the_body(client: Client) -> None:
    response = await client.post(
        "/api/sessions/login", data=b"{oops", headers={"Content-Type": "application/json"}
    )
    fields = await fields_of(response)
    assert list(fields) == ["body"]
    assert fields["body"].startswith("must be valid JSON")
    response = await client.post("/api/sessions/login", json=[1])
    assert await fields_of(response) == {"body": "must be a JSON object"}
    response = await client.post(
        "/api/sessions/login", data=b"", headers={"Content-Type": "application/json"}
    )
    assert await fields_of(response) == {"body": "is required: send a JSON object"}


async def test_malformed_path_ids_are_fields_too(client: Client) -> None:
    response = await client.get("/api/products/nope")
    assert await fields_of(response) == {"pid": "must be a 24-character hexadecimal id"}


# ---- the same words in the pages ------------------------------------------------------------

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_register_form_shows_the_apis_phrases_next_to_the_fields(client: Client) -> None:
    token = TOKEN.search(await (await client.get("/register")).text())
    assert token is not None
    form = {
        "csrf_token": token.group(1),
        "first_name": "n" * 101,
        "last_name": "García",
        "email": "ana@example.com",
        "age": "twelve",
        "password": "short",
    }
    html = await (await client.post("/register", data=form)).text()
    assert 'id="error-first_name">must be at most 100 characters<' in html
    assert 'id="error-age">must be a whole number<' in html
    assert 'id="error-password">must be at least 8 characters<' in html
