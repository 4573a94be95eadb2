"""The /api/products contract, on every store: listing, reading and the admin's changes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

from tests.conftest import Auth, Client
from tests.envelopes import LISTING_KEYS, MISSING_ID, error, success

ProductBody = Callable[..., dict[str, Any]]


async def create(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    return await success(await client.post("/api/products", json=body), 201)


async def listing(client: Client, query: str = "") -> dict[str, Any]:
    response = await client.get(f"/api/products{query}")
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body.keys() == LISTING_KEYS
    assert body["status"] == "success"
    return body


@pytest.fixture
async def admin(auth: Auth) -> dict[str, Any]:
    """The test client is logged in as an admin."""
    return await auth.admin()


async def create_priced(client: Client, product_body: ProductBody, *prices: float) -> list[str]:
    return [(await create(client, product_body(price=price)))["_id"] for price in prices]


# ---- listing -----------------------------------------------------------------------------


async def test_list_envelope_has_exactly_the_pagination_keys(client: Client) -> None:
    body = await listing(client)
    assert set(body) == LISTING_KEYS


async def test_empty_catalogue_is_one_empty_page_without_links(client: Client) -> None:
    body = await listing(client)
    assert body["payload"] == []
    assert body["totalPages"] == 1
    assert body["page"] == 1
    assert body["hasPrevPage"] is False
    assert body["hasNextPage"] is False
    assert body["prevPage"] is None
    assert body["nextPage"] is None
    assert body["prevLink"] is None
    assert body["nextLink"] is None


async def test_exactly_limit_items_fit_on_one_page(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    await create_priced(client, product_body, 1, 2)
    body = await listing(client, "?limit=2")
    assert len(body["payload"]) == 2
    assert body["totalPages"] == 1
    assert body["hasNextPage"] is False
    assert body["nextLink"] is None


async def test_one_item_over_limit_makes_a_second_page(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    await create_priced(client, product_body, 1, 2, 3)
    body = await listing(client, "?limit=2")
    assert len(body["payload"]) == 2
    assert body["totalPages"] == 2
    assert body["page"] == 1
    assert body["hasNextPage"] is True
    assert body["nextPage"] == 2
    assert body["hasPrevPage"] is False
    assert body["prevLink"] is None


async def test_last_page_holds_the_rest_and_has_no_next(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    ids = await create_priced(client, product_body, 1, 2, 3)
    body = await listing(client, "?limit=2&page=2")
    assert [product["_id"] for product in body["payload"]] == ids[2:]
    assert body["page"] == 2
    assert body["totalPages"] == 2
    assert body["hasNextPage"] is False
    assert body["nextPage"] is None
    assert body["nextLink"] is None
    assert body["hasPrevPage"] is True
    assert body["prevPage"] == 1


async def test_pages_together_list_every_product_once_in_creation_order(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    ids = await create_priced(client, product_body, 5, 4, 3, 2, 1)
    seen = []
    for page in (1, 2, 3):
        seen += [p["_id"] for p in (await listing(client, f"?limit=2&page={page}"))["payload"]]
    assert seen == ids


async def test_page_beyond_the_end_is_empty_without_next(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    await create_priced(client, product_body, 1, 2, 3)
    body = await listing(client, "?limit=2&page=5")
    assert body["payload"] == []
    assert body["page"] == 5
    assert body["totalPages"] == 2
    assert body["hasNextPage"] is False
    assert body["nextLink"] is None


async def test_links_are_relative_and_keep_the_other_parameters(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    for price in (1, 2, 3):
        await create(client, product_body(price=price, category="Tea"))
    body = await listing(client, "?sort=desc&query=tea&limit=1&page=2")
    for name, page in (("prevLink", "1"), ("nextLink", "3")):
        link = URL(body[name])
        assert not link.is_absolute()
        assert link.path == "/api/products"
        assert dict(link.query) == {"sort": "desc", "query": "tea", "limit": "1", "page": page}


async def test_following_next_link_gives_the_next_page(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    await create_priced(client, product_body, 30, 10, 20)
    first = await listing(client, "?sort=asc&limit=2")
    response = await client.get(first["nextLink"])
    assert response.status == 200
    second = await response.json()
    assert [p["price"] for p in second["payload"]] == [30]
    assert second["page"] == 2


async def test_sort_asc_orders_by_price_ascending(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    await create_priced(client, product_body, 30, 10, 20.5)
    body = await listing(client, "?sort=asc")
    assert [p["price"] for p in body["payload"]] == [10, 20.5, 30]


async def test_sort_desc_orders_by_price_descending(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    await create_priced(client, product_body, 30, 10, 20.5)
    body = await listing(client, "?sort=desc")
    assert [p["price"] for p in body["payload"]] == [30, 20.5, 10]


async def test_sort_applies_before_paging(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    await create_priced(client, product_body, 30, 10, 20, 40)
    body = await listing(client, "?sort=desc&limit=2&page=2")
    assert [p["price"] for p in body["payload"]] == [20, 10]


async def test_query_filters_by_category_ignoring_case(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    tea = await create(client, product_body(category="Tea"))
    await create(client, product_body(category="Coffee"))
    body = await listing(client, "?query=tEA")
    assert [p["_id"] for p in body["payload"]] == [tea["_id"]]
    assert body["totalPages"] == 1


async def test_query_for_an_unknown_category_is_empty(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    await create(client, product_body(category="Tea"))
    body = await listing(client, "?query=Shoes")
    assert body["payload"] == []
    assert body["totalPages"] == 1


async def test_query_available_lists_only_products_with_status_true(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    on = await create(client, product_body(status=True))
    await create(client, product_body(status=False))
    body = await listing(client, "?query=available")
    assert [p["_id"] for p in body["payload"]] == [on["_id"]]


async def test_category_filter_counts_pages_over_matches_only(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    for category in ("Tea", "Tea", "Tea", "Coffee", "Coffee"):
        await create(client, product_body(category=category))
    body = await listing(client, "?query=tea&limit=2")
    assert body["totalPages"] == 2


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("sort=up", "sort"),
        ("color=red", "color"),
        ("query[$ne]=x", "query[$ne]"),
        ("limit=1&limit=2", "limit"),
        ("query=" + "x" * 101, "query"),
    ],
)
async def test_bad_listing_parameter_is_refused_naming_it(
    client: Client, query: str, name: str
) -> None:
    await error(await client.get(f"/api/products?{query}"), 400, name)


async def test_limit_100_is_accepted(client: Client) -> None:
    body = await listing(client, "?limit=100")
    assert body["payload"] == []


# ---- reading one ---------------------------------------------------------------------------


async def test_get_by_id_returns_the_product(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    created = await create(client, product_body())
    await client.post("/api/sessions/logout")
    assert await success(await client.get(f"/api/products/{created['_id']}")) == created


async def test_get_unknown_id_is_404(client: Client) -> None:
    await error(await client.get(f"/api/products/{MISSING_ID}"), 404, MISSING_ID)


@pytest.mark.parametrize("pid", ["123", "zzzzzzzzzzzzzzzzzzzzzzzz", "0123456789abcdef012345678"])
async def test_get_malformed_id_is_400(client: Client, pid: str) -> None:
    await error(await client.get(f"/api/products/{pid}"), 400, "pid")


# ---- creating --------------------------------------------------------------------------------


async def test_admin_creates_a_product_with_every_field(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    body = product_body(status=False, thumbnails=["/a.png", "/b.png"])
    created = await create(client, body)
    assert set(created) == {"_id", "version", *body}
    assert {key: created[key] for key in body} == body
    assert await success(await client.get(f"/api/products/{created['_id']}")) == created


async def test_created_product_defaults_to_available_without_thumbnails(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    body = product_body()
    del body["thumbnails"]
    created = await create(client, body)
    assert created["status"] is True
    assert created["thumbnails"] == []


async def test_create_anonymous_is_401(client: Client, product_body: ProductBody) -> None:
    await error(await client.post("/api/products", json=product_body()), 401)


async def test_create_as_user_is_403(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.user()
    await error(await client.post("/api/products", json=product_body()), 403)
    assert (await listing(client))["payload"] == []


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"price": 0}, "price"),
        ({"price": -1}, "price"),
        ({"price": "12"}, "price"),
        ({"price": True}, "price"),
        ({"price": None}, "price"),
        ({"stock": 1.5}, "stock"),
        ({"stock": -1}, "stock"),
        ({"stock": "3"}, "stock"),
        ({"status": "yes"}, "status"),
        ({"_id": "0123456789abcdef01234567"}, "_id"),
        ({"role": "admin"}, "role"),
        ({"title": {"$gt": ""}}, "title"),
        ({"title": "$where"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"code": {"$ne": None}}, "code"),
        ({"category": ["a"]}, "category"),
        ({"thumbnails": "x.png"}, "thumbnails"),
        ({"thumbnails": [1]}, "thumbnails"),
    ],
)
async def test_create_with_invalid_field_is_400_naming_it(
    client: Client,
    admin: dict[str, Any],
    product_body: ProductBody,
    fields: dict[str, Any],
    name: str,
) -> None:
    await error(await client.post("/api/products", json=product_body(**fields)), 400, name)
    assert (await listing(client))["payload"] == []


@pytest.mark.parametrize("name", ["title", "code", "price", "stock", "category"])
async def test_create_without_required_field_is_400_naming_it(
    client: Client, admin: dict[str, Any], product_body: ProductBody, name: str
) -> None:
    body = product_body()
    del body[name]
    await error(await client.post("/api/products", json=body), 400, name)


async def test_title_of_200_characters_is_accepted(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    created = await create(client, product_body(title="x" * 200))
    assert created["title"] == "x" * 200


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_create_with_non_finite_price_is_400_naming_price(
    client: Client, admin: dict[str, Any], product_body: ProductBody, constant: str
) -> None:
    raw = json.dumps(product_body(price="PRICE")).replace('"PRICE"', constant)
    response = await client.post(
        "/api/products", data=raw, headers={"Content-Type": "application/json"}
    )
    await error(response, 400, "price")
    assert (await listing(client))["payload"] == []


async def test_create_with_invalid_json_is_400(client: Client, admin: dict[str, Any]) -> None:
    response = await client.post(
        "/api/products", data='{"title": ', headers={"Content-Type": "application/json"}
    )
    await error(response, 400, "body")


async def test_create_with_a_json_array_is_400(client: Client, admin: dict[str, Any]) -> None:
    await error(await client.post("/api/products", json=[1, 2]), 400, "body")


async def test_create_with_a_taken_code_is_409(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    await create(client, product_body(code="MATE-1"))
    response = await client.post("/api/products", json=product_body(code="MATE-1"))
    await error(response, 409, "code")
    assert len((await listing(client))["payload"]) == 1


async def test_create_with_form_content_type_is_415(client: Client, admin: dict[str, Any]) -> None:
    response = await client.post("/api/products", data={"title": "x"})
    await error(response, 415)


async def test_create_with_text_plain_json_is_415(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    raw = json.dumps(product_body())
    response = await client.post("/api/products", data=raw, headers={"Content-Type": "text/plain"})
    await error(response, 415)
    assert (await listing(client))["payload"] == []


async def test_body_over_64_kib_is_413_with_the_json_envelope(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    response = await client.post("/api/products", json=product_body(description="x" * (65 * 1024)))
    await error(response, 413)


# ---- updating --------------------------------------------------------------------------------


async def test_update_changes_only_the_given_fields(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    created = await create(client, product_body())
    path = f"/api/products/{created['_id']}"
    updated = await success(await client.put(path, json={"price": 99.5, "stock": 3}))
    assert updated == {**created, "price": 99.5, "stock": 3, "version": created["version"] + 1}
    assert await success(await client.get(path)) == updated


async def test_update_can_change_category_and_status(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    created = await create(client, product_body(category="Tea"))
    path = f"/api/products/{created['_id']}"
    await success(await client.put(path, json={"category": "Coffee", "status": False}))
    assert (await listing(client, "?query=tea"))["payload"] == []
    assert (await listing(client, "?query=available"))["payload"] == []
    assert len((await listing(client, "?query=coffee"))["payload"]) == 1


async def test_update_thumbnails_replaces_the_list(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    created = await create(client, product_body())
    path = f"/api/products/{created['_id']}"
    updated = await success(await client.put(path, json={"thumbnails": ["/x.png"]}))
    assert updated["thumbnails"] == ["/x.png"]


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"_id": MISSING_ID}, "_id"),
        ({"color": "red"}, "color"),
        ({"title": None}, "title"),
        ({"price": -1}, "price"),
        ({"stock": 2.5}, "stock"),
        ({"title": {"$set": "x"}}, "title"),
    ],
)
async def test_update_with_invalid_field_is_400_naming_it_and_changes_nothing(
    client: Client,
    admin: dict[str, Any],
    product_body: ProductBody,
    fields: dict[str, Any],
    name: str,
) -> None:
    created = await create(client, product_body())
    path = f"/api/products/{created['_id']}"
    await error(await client.put(path, json=fields), 400, name)
    assert await success(await client.get(path)) == created


async def test_update_with_no_fields_is_400(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    created = await create(client, product_body())
    await error(await client.put(f"/api/products/{created['_id']}", json={}), 400)


async def test_update_to_a_taken_code_is_409_and_changes_nothing(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    await create(client, product_body(code="TAKEN"))
    created = await create(client, product_body())
    path = f"/api/products/{created['_id']}"
    await error(await client.put(path, json={"code": "TAKEN", "price": 1}), 409, "code")
    assert await success(await client.get(path)) == created


async def test_update_keeping_its_own_code_is_allowed(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    created = await create(client, product_body())
    path = f"/api/products/{created['_id']}"
    updated = await success(await client.put(path, json={"code": created["code"], "stock": 1}))
    assert updated["stock"] == 1


async def test_update_unknown_product_is_404(client: Client, admin: dict[str, Any]) -> None:
    await error(await client.put(f"/api/products/{MISSING_ID}", json={"stock": 1}), 404)


async def test_update_as_user_is_403(
    client: Client,
    auth: Auth,
    new_browser: Callable[[], Awaitable[Client]],
    product_body: ProductBody,
) -> None:
    await auth.admin()
    created = await create(client, product_body())
    path = f"/api/products/{created['_id']}"
    other = Auth(await new_browser())
    await other.user()
    await error(await other.client.put(path, json={"price": 1}), 403)
    assert await success(await client.get(path)) == created


# ---- deleting --------------------------------------------------------------------------------


async def test_delete_then_get_is_404(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    created = await create(client, product_body())
    path = f"/api/products/{created['_id']}"
    assert await success(await client.delete(path)) == {"_id": created["_id"]}
    await error(await client.get(path), 404)
    assert (await listing(client))["payload"] == []


async def test_delete_unknown_product_is_404(client: Client, admin: dict[str, Any]) -> None:
    await error(await client.delete(f"/api/products/{MISSING_ID}"), 404)


async def test_delete_anonymous_is_401(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    created = await create(client, product_body())
    await auth.logout()
    await error(await client.delete(f"/api/products/{created['_id']}"), 401)
    await success(await client.get(f"/api/products/{created['_id']}"))


async def test_delete_removes_the_product_from_carts_holding_it(
    client: Client, admin: dict[str, Any], product_body: ProductBody
) -> None:
    doomed = await create(client, product_body())
    kept = await create(client, product_body())
    cart = f"/api/carts/{admin['cart']}"
    await success(await client.post(f"{cart}/product/{doomed['_id']}"))
    await success(await client.post(f"{cart}/product/{kept['_id']}"))
    await success(await client.delete(f"/api/products/{doomed['_id']}"))
    lines = (await success(await client.get(cart)))["products"]
    assert [line["product"]["_id"] for line in lines] == [kept["_id"]]
