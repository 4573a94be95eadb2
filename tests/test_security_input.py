"""Input (SECURITY.md): types, bounds and encodings are checked at the edge, before
anything reaches a store. Each malformed input gets a 4xx envelope naming what is wrong,
and nothing a client sends gives a 500. Every attack goes through HTTP, once per store."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from shop.keys import PRODUCTS, STORE
from shop.models.products import ProductIn, ProductQuery
from tests.conftest import PASSWORD, Auth, Client, registration
from tests.envelopes import assert_error_body

ProductBody = Callable[..., dict[str, Any]]
UNKNOWN_ID = "0123456789abcdef01234567"


def assert_refused(status: int, body: Any, *expected: int, naming: str | None = None) -> None:
    """A refusal with one of the `expected` statuses, in plain words; a 400 names the
    offending field (`naming`) in its message and in `fields`."""
    assert status in expected, body
    assert_error_body(body, status, naming or "")


async def send(
    client: Client,
    method: str,
    path: str,
    raw: bytes | str,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    """Send `raw` exactly as given (no client-side JSON encoding) and read the answer."""
    data = raw.encode() if isinstance(raw, str) else raw
    response = await client.request(
        method, path, data=data, headers={"Content-Type": content_type}
    )
    assert response.content_type == "application/json", await response.text()
    return response.status, await response.json()


async def call(
    client: Client, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
) -> tuple[int, Any]:
    response = await client.request(method, path, json=body, params=params)
    assert response.content_type == "application/json", await response.text()
    return response.status, await response.json()


@pytest.fixture
async def admin(auth: Auth) -> dict[str, Any]:
    """An admin logged in on `client`; admins reach every endpoint, so only input decides."""
    return await auth.admin()


@pytest.fixture
async def pid(client: Client, product_body: ProductBody) -> str:
    product = await client.app[PRODUCTS].create(ProductIn(**product_body(stock=50)))
    return product.id


# ---- operators where values belong ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": {"$gt": ""}, "password": {"$gt": ""}}, "email"),
        ({"email": {"$ne": None}, "password": "whatever123"}, "email"),
        ({"email": "ana@example.com", "password": {"$ne": None}}, "password"),
        ({"email": ["ana@example.com"], "password": "whatever123"}, "email"),
        ({"email": "ana@example.com", "password": {"$regex": ".*"}}, "password"),
    ],
)
async def test_operator_injection_on_login_is_refused_naming_the_field(
    client: Client, auth: Auth, body: dict[str, Any], field: str
) -> None:
    await auth.register("ana@example.com")
    status, answer = await call(client, "POST", "/api/sessions/login", body)
    assert_refused(status, answer, 400, naming=field)
    assert (await client.get("/api/sessions/current")).status == 401


async def test_operator_as_a_registration_value_is_refused(client: Client) -> None:
    for field in ("first_name", "last_name"):
        status, answer = await call(
            client, "POST", "/api/users", registration(email="ana@example.com", **{field: "$gt"})
        )
        assert_refused(status, answer, 400, naming=field)
    status, answer = await call(client, "POST", "/api/users", registration(email={"$gt": ""}))
    assert_refused(status, answer, 400, naming="email")
    assert await client.app[STORE].users.get_by_email("ana@example.com") is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("query[$ne]=x", "query"),
        ("limit[$gt]=0", "limit"),
        ("page[$gt]=0", "page"),
        ("sort[$ne]=asc", "sort"),
        ("$where=1", "$where"),
        ("query=a&query=b", "query"),
    ],
)
async def test_operator_in_the_product_query_string_is_refused(
    client: Client, query: str, field: str
) -> None:
    status, answer = await call(client, "GET", f"/api/products?{query}")
    assert_refused(status, answer, 400, naming=field)


async def test_operator_in_the_users_query_string_is_refused(client: Client, admin: Any) -> None:
    for query, field in (("limit[$gt]=0", "limit"), ("page[$ne]=1", "page")):
        status, answer = await call(client, "GET", f"/api/users?{query}")
        assert_refused(status, answer, 400, naming=field)


@pytest.mark.parametrize("pattern", [".*", "D.*", "^Drinks$", "$ne", "Drinks|x", "[A-Z]rinks"])
async def test_category_filter_matches_literally(client: Client, pid: str, pattern: str) -> None:
    status, listing = await call(client, "GET", "/api/products", params={"query": pattern})
    assert status == 200
    assert listing["payload"] == []
    status, listing = await call(client, "GET", "/api/products", params={"query": "drinks"})
    assert [item["_id"] for item in listing["payload"]] == [pid]


# ---- ids ------------------------------------------------------------------------------

BAD_IDS = [
    "xyz",
    "0" * 23,
    "0" * 25,
    "g" * 24,
    "%24ne",
    "0123456789abcdef0123456%20",
    "%D9%A0" * 24,  # ARABIC-INDIC DIGIT ZERO: a digit, but not a hex digit
    "..%2F..%2Fetc%2Fpasswd",
    "%7B%22%24gt%22%3A%22%22%7D",
]

# (method, path with {cid}/{pid}/{uid} where a good id goes and {bad} where the bad one goes,
#  the field the error must name, a valid body)
ID_PATHS: list[tuple[str, str, str, Any]] = [
    ("GET", "/api/products/{bad}", "pid", None),
    ("PUT", "/api/products/{bad}", "pid", {"price": 2.0}),
    ("DELETE", "/api/products/{bad}", "pid", None),
    ("GET", "/api/carts/{bad}", "cid", None),
    ("PUT", "/api/carts/{bad}", "cid", {"products": []}),
    ("DELETE", "/api/carts/{bad}", "cid", None),
    *[
        (method, template, field, body)
        for spelling in ("product", "products")
        for template, field in (
            (f"/api/carts/{{bad}}/{spelling}/{{pid}}", "cid"),
            (f"/api/carts/{{cid}}/{spelling}/{{bad}}", "pid"),
        )
        for method, body in (("POST", {"quantity": 1}), ("PUT", {"quantity": 1}), ("DELETE", None))
    ],
    ("DELETE", "/api/users/{bad}", "uid", None),
]


@pytest.mark.parametrize(("method", "template", "field", "body"), ID_PATHS)
async def test_malformed_id_in_the_path_is_refused_naming_it(
    client: Client,
    admin: dict[str, Any],
    pid: str,
    method: str,
    template: str,
    field: str,
    body: Any,
) -> None:
    for bad in BAD_IDS:
        path = template.format(bad=bad, cid=admin["cart"], pid=pid)
        response = await client.request(method, path, json=body)
        answer = await response.json()
        # Braces are outside aiohttp's route pattern, so no route matches: 404 is right too.
        if "%7B" in bad:
            assert_refused(response.status, answer, 400, 404)
        else:
            assert_refused(response.status, answer, 400, naming=field)
    # Nothing was changed by any of the attempts.
    assert await client.app[STORE].products.get(pid) is not None
    cart = await client.app[STORE].carts.get(admin["cart"])
    assert cart is not None
    assert cart.lines == ()


async def test_unknown_well_formed_ids_are_404(client: Client, admin: dict[str, Any]) -> None:
    for method, path in (
        ("GET", f"/api/products/{UNKNOWN_ID}"),
        ("DELETE", f"/api/products/{UNKNOWN_ID}"),
        ("GET", f"/api/carts/{UNKNOWN_ID}"),
        ("POST", f"/api/carts/{admin['cart']}/product/{UNKNOWN_ID}"),
        ("DELETE", f"/api/users/{UNKNOWN_ID}"),
    ):
        assert_refused(*await call(client, method, path), 404)


# ---- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_number_literal_is_refused(
    client: Client, admin: dict[str, Any], pid: str, literal: str
) -> None:
    cart = f"/api/carts/{admin['cart']}"
    product = '{"title": "T", "code": "C-1", "price": 1.0, "stock": 1, "category": "X"'
    user = f'{{"first_name": "A", "last_name": "B", "email": "a@b.co", "password": "{PASSWORD}"'
    attempts = [
        # A repeated key wins, so each body is valid but for the one literal.
        ("POST", "/api/products", f'{product}, "price": {literal}}}', "price"),
        ("POST", "/api/products", f'{product}, "stock": {literal}}}', "stock"),
        ("PUT", f"/api/products/{pid}", f'{{"price": {literal}}}', "price"),
        ("PUT", f"/api/products/{pid}", f'{{"stock": {literal}}}', "stock"),
        ("POST", f"{cart}/product/{pid}", f'{{"quantity": {literal}}}', "quantity"),
        ("PUT", f"{cart}/product/{pid}", f'{{"quantity": {literal}}}', "quantity"),
        (
            "PUT",
            cart,
            f'{{"products": [{{"product": "{pid}", "quantity": {literal}}}]}}',
            "quantity",
        ),
        ("POST", "/api/users", f'{user}, "age": {literal}}}', "age"),
    ]
    for method, path, raw, field in attempts:
        assert_refused(*await send(client, method, path, raw), 400, naming=field)
    product = await client.app[STORE].products.get(pid)
    assert product is not None
    assert product.price == 12.5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", -1),
        ("price", -0.01),
        ("price", 0),
        ("price", "12.5"),
        ("price", True),
        ("price", None),
        ("price", "1e999"),
        ("stock", 1.5),
        ("stock", -1),
        ("stock", "3"),
        ("stock", True),
        ("stock", 10**30),
    ],
)
async def test_bad_price_or_stock_is_refused_naming_the_field(
    client: Client,
    admin: dict[str, Any],
    pid: str,
    product_body: ProductBody,
    field: str,
    value: Any,
) -> None:
    before = await client.app[STORE].products.get(pid)
    if value == "1e999":
        # Python reads a bare 1e999 as infinity, so it travels unquoted; a repeated key wins.
        create = json.dumps(product_body())[:-1] + f', "{field}": 1e999}}'
        update = f'{{"{field}": 1e999}}'
        attempts = [
            await send(client, "POST", "/api/products", create),
            await send(client, "PUT", f"/api/products/{pid}", update),
        ]
    else:
        attempts = [
            await call(client, "POST", "/api/products", product_body(**{field: value})),
            await call(client, "PUT", f"/api/products/{pid}", {field: value}),
        ]
    for status, answer in attempts:
        assert_refused(status, answer, 400, naming=field)
    assert await client.app[STORE].products.get(pid) == before
    assert len((await client.app[PRODUCTS].list(ProductQuery(), None)).items) == 1


@pytest.mark.parametrize("quantity", [0, 1.5, -2, "1", True, None, 10**30, [1], {"$gt": 0}])
async def test_bad_quantity_is_refused_naming_the_field(
    client: Client, admin: dict[str, Any], pid: str, quantity: Any
) -> None:
    cart = f"/api/carts/{admin['cart']}"
    for method, path, body in (
        ("POST", f"{cart}/product/{pid}", {"quantity": quantity}),
        ("POST", f"{cart}/products/{pid}", {"quantity": quantity}),
        ("PUT", f"{cart}/product/{pid}", {"quantity": quantity}),
        ("PUT", cart, {"products": [{"product": pid, "quantity": quantity}]}),
    ):
        assert_refused(*await call(client, method, path, body), 400, naming="quantity")
    stored = await client.app[STORE].carts.get(admin["cart"])
    assert stored is not None
    assert stored.lines == ()


async def test_out_of_range_age_is_refused_naming_the_field(client: Client) -> None:
    for age in (-1, 0, 1.5, "30", 10**30, True):
        status, answer = await call(client, "POST", "/api/users", registration(age=age))
        assert_refused(status, answer, 400, naming="age")


# ---- bounds ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/users", "/api/sessions/login"])
async def test_megabyte_password_is_refused_quickly(client: Client, path: str) -> None:
    body = registration(password="p" * 1_000_000)
    if path.endswith("login"):
        body = {"email": "ana@example.com", "password": "p" * 1_000_000}
    started = time.perf_counter()
    status, answer = await call(client, "POST", path, body)
    elapsed = time.perf_counter() - started
    assert_refused(status, answer, 413, 400)
    assert elapsed < 2, f"{elapsed:.2f}s"


@pytest.mark.parametrize("path", ["/api/users", "/api/sessions/login"])
async def test_long_password_under_the_body_limit_is_refused_without_hashing(
    client: Client, path: str
) -> None:
    body = registration(password="p" * 50_000)
    if path.endswith("login"):
        body = {"email": "ana@example.com", "password": "p" * 50_000}
    started = time.perf_counter()
    status, answer = await call(client, "POST", path, body)
    assert time.perf_counter() - started < 2
    assert_refused(status, answer, 400, naming="password")


async def test_body_over_the_size_limit_is_413(client: Client) -> None:
    raw = b'{"title": "' + b"x" * (client.app._client_max_size + 1) + b'"}'
    assert_refused(*await send(client, "POST", "/api/users", raw), 413)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "n" * 300),
        ("last_name", "n" * 300),
        ("email", "e" * 300 + "@example.com"),
        ("first_name", ""),
    ],
)
async def test_overlong_or_empty_registration_text_is_refused(
    client: Client, field: str, value: str
) -> None:
    status, answer = await call(client, "POST", "/api/users", registration(**{field: value}))
    assert_refused(status, answer, 400, naming=field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "t" * 300),
        ("code", "c" * 300),
        ("category", "k" * 300),
        ("description", "d" * 6000),
        ("thumbnails", ["x"] * 50),
        ("thumbnails", ["u" * 600]),
    ],
)
async def test_overlong_product_text_is_refused(
    client: Client, admin: dict[str, Any], product_body: ProductBody, field: str, value: Any
) -> None:
    status, answer = await call(client, "POST", "/api/products", product_body(**{field: value}))
    assert_refused(status, answer, 400, naming=field)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=99999999999999999999", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=1e3", "page"),
        ("page=%D9%A3", "page"),  # ARABIC-INDIC DIGIT THREE: isdigit(), but not a page
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("limit=" + "9" * 5000, "limit"),
        ("query=" + "q" * 300, "query"),
    ],
)
async def test_out_of_bounds_listing_parameter_is_refused(
    client: Client, query: str, field: str
) -> None:
    status, answer = await call(client, "GET", f"/api/products?{query}")
    assert_refused(status, answer, 400, naming=field)


async def test_out_of_bounds_user_listing_parameter_is_refused(
    client: Client, admin: dict[str, Any]
) -> None:
    for query, field in (("page=99999999999999999999", "page"), ("limit=101", "limit")):
        status, answer = await call(client, "GET", f"/api/users?{query}")
        assert_refused(status, answer, 400, naming=field)


# ---- encodings and shapes -------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * 30_000 + b"]" * 30_000,
        b'{"a": ' * 8_000 + b"1" + b"}" * 8_000,
        b'{"email": ' + b"[" * 20_000 + b"]" * 20_000 + b', "password": "x"}',
    ],
    ids=["100k-arrays", "30k-arrays", "8k-objects", "nested-field"],
)
async def test_deeply_nested_json_is_refused(client: Client, raw: bytes) -> None:
    for path in ("/api/sessions/login", "/api/users"):
        assert_refused(*await send(client, "POST", path, raw), 400, 413)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"email": "\xff\xfe@example.com", "password": "correct horse"}',
        b'{"email": "ana@example.com", "password": "\xc3\x28 pass word"}',
        b"\xff\xfe\xfd",
        b'{"email": "\xe2\x82", "password": "x"}',
    ],
)
async def test_invalid_utf8_body_is_refused(client: Client, raw: bytes) -> None:
    assert_refused(*await send(client, "POST", "/api/sessions/login", raw), 400)


@pytest.mark.parametrize("raw", ["[]", '"x"', "1", "null", "true", "[{}]", '""'])
async def test_json_that_is_not_an_object_is_refused(
    client: Client, admin: dict[str, Any], pid: str, raw: str
) -> None:
    for method, path in (
        ("POST", "/api/users"),
        ("POST", "/api/sessions/login"),
        ("POST", "/api/products"),
        ("PUT", f"/api/products/{pid}"),
        ("POST", f"/api/carts/{admin['cart']}/product/{pid}"),
    ):
        assert_refused(*await send(client, method, path, raw), 400, naming="body")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
async def test_body_that_is_not_declared_json_is_refused(
    client: Client, content_type: str
) -> None:
    raw = '{"email": "ana@example.com", "password": "correct horse battery"}'
    status, answer = await send(client, "POST", "/api/sessions/login", raw, content_type)
    assert_refused(status, answer, 415)


# ---- fuzz: no input gives a 500 ---------------------------------------------------------

MALFORMED: list[bytes] = [
    b"",
    b" ",
    b"{",
    b"}",
    b"{]",
    b'{"a"',
    b'{"a":}',
    b"{'a': 1}",
    b"{a: 1}",
    b'{"a": 1,}',
    b'{"a": 1} trailing',
    b'{"a": 1}\x00',
    b"\x00",
    b"null",
    b"false",
    b"-1",
    b"1e999",
    b"[[[]]]",
    b"undefined",
    b"NaN",
    b"-Infinity",
    b"{}",
    b'{"": ""}',
    b'{"__proto__": {"role": "admin"}}',
    b'{"$where": "sleep(1000)"}',
    b'{"$gt": ""}',
    b'{"email": {"$gt": ""}, "password": {"$gt": ""}}',
    b'{"quantity": NaN}',
    b'{"price": Infinity}',
    b'{"quantity": 1e999}',
    b'{"quantity": ' + b"9" * 5000 + b"}",
    b'{"quantity": -0}',
    b'{"quantity": 1.0}',
    b'{"quantity": 1, "quantity": {"$inc": 5}}',
    b'{"title": null}',
    b'{"title": "\\u0000"}',
    b'{"title": "\\ud800"}',
    b'{"products": null}',
    b'{"products": [null]}',
    b'{"products": [{"product": {"$gt": ""}, "quantity": 1}]}',
    b'{"products": [{"product": "' + b"a" * 24 + b'", "quantity": 1}] }',
    b'{"current_password": [], "new_password": {}}',
    b'{"new_password": "\\udfff\\udfff\\udfff\\udfff"}',
    b"\xff\xfe\x00\x00",
    b"\xef\xbb\xbf{}",
    b'{"a": "\xed\xa0\x80"}',
    b"[" * 30_000 + b"]" * 30_000,
    b'{"a": ' * 5_000 + b"1" + b"}" * 5_000,
    b'"' + b"\\" * 1000 + b'"',
    b'{"thumbnails": "' + b"x" * 60_000 + b'"}',
]


def fuzz_endpoints(admin: dict[str, Any], pid: str) -> list[tuple[str, str]]:
    cart = f"/api/carts/{admin['cart']}"
    return [
        ("POST", "/api/users"),
        ("POST", "/api/sessions/login"),
        ("POST", "/api/products"),
        ("PUT", f"/api/products/{pid}"),
        ("PUT", cart),
        ("POST", f"{cart}/product/{pid}"),
        ("PUT", f"{cart}/product/{pid}"),
        ("PUT", "/api/users/me/password"),
    ]


async def test_no_malformed_body_gives_a_500(
    client: Client, admin: dict[str, Any], pid: str
) -> None:
    failures: list[str] = []
    for method, path in fuzz_endpoints(admin, pid):
        for raw in MALFORMED:
            status, answer = await send(client, method, path, raw)
            try:
                assert status < 500
                if status >= 400:
                    assert_error_body(answer, status)
            except AssertionError:
                failures.append(f"{method} {path} {raw[:40]!r} -> {status} {answer}")
    assert not failures, "\n".join(failures)
    assert (await client.get("/api/sessions/current")).status == 200


# Otherwise valid bodies whose text cannot be encoded (a lone UTF-16 surrogate, which JSON's
# \u escapes can spell): no store can keep it, so it must be refused, not crash.
def with_surrogate(body: dict[str, Any], field: str) -> str:
    marker = "@@surrogate@@"
    body = {**body, field: f"{body.get(field, '')}{marker}"}
    return json.dumps(body).replace(marker, "\\ud800")


async def test_unencodable_text_in_a_valid_body_is_refused(
    client: Client, admin: dict[str, Any], pid: str, product_body: ProductBody
) -> None:
    login = {"email": "a@example.com", "password": "whatever1"}
    change = {"current_password": PASSWORD, "new_password": "a new pass phrase"}
    attempts = [
        ("POST", "/api/users", with_surrogate(registration(), "first_name")),
        ("POST", "/api/users", with_surrogate(registration(), "last_name")),
        ("POST", "/api/users", with_surrogate(registration(), "email")),
        ("POST", "/api/users", with_surrogate(registration(), "password")),
        ("POST", "/api/sessions/login", with_surrogate(login, "email")),
        ("POST", "/api/sessions/login", with_surrogate(login, "password")),
        ("POST", "/api/products", with_surrogate(product_body(), "title")),
        ("POST", "/api/products", with_surrogate(product_body(), "description")),
        ("POST", "/api/products", with_surrogate(product_body(), "category")),
        ("PUT", f"/api/products/{pid}", with_surrogate({}, "description")),
        ("PUT", "/api/users/me/password", with_surrogate(change, "current_password")),
        ("PUT", "/api/users/me/password", with_surrogate(change, "new_password")),
    ]
    failures: list[str] = []
    for method, path, raw in attempts:
        status, answer = await send(client, method, path, raw)
        try:
            assert 400 <= status < 500
            assert_error_body(answer, status)
        except AssertionError:
            failures.append(f"{method} {path} {raw[:50]!r} -> {status} {answer}")
    assert not failures, "\n".join(failures)


async def test_undecodable_query_string_is_not_a_500(client: Client) -> None:
    for query in ("query=%ED%A0%80", "query=%FF%FE", "sort=%C3%28", "page=%80"):
        status, answer = await call(client, "GET", f"/api/products?{query}")
        assert status < 500, answer


# ---- control characters ---------------------------------------------------------------------

CONTROL = ["\u0000", "\n", "\r", "\t", "\x1b", "\x7f", "\u0085"]


def string_fields(product_body: ProductBody) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, field, a valid body) for every string field a client sends."""
    login = {"email": "ana@example.com", "password": PASSWORD}
    change = {"current_password": PASSWORD, "new_password": "a new pass phrase"}
    return [
        *[("POST", "/api/users", f, registration()) for f in ("first_name", "last_name")],
        *[("POST", "/api/users", f, registration()) for f in ("email", "password")],
        *[("POST", "/api/sessions/login", f, login) for f in ("email", "password")],
        *[("PUT", "/api/users/me/password", f, change) for f in change],
        *[("POST", "/api/products", f, product_body()) for f in ("title", "code", "category")],
        ("POST", "/api/products", "thumbnails", product_body()),
        ("POST", "/api/tokens", "name", {"name": "ci"}),
    ]


@pytest.mark.parametrize("char", CONTROL, ids=[f"U+{ord(c):04X}" for c in CONTROL])
async def test_control_characters_are_refused_in_every_string_field(
    client: Client, admin: dict[str, Any], product_body: ProductBody, char: str
) -> None:
    failures = []
    for method, path, field, body in string_fields(product_body):
        value = f"ok{char}ok@example.com" if field == "email" else f"value{char}value"
        # A thumbnail is one string in a list: the error names its place.
        sent, named = ([value], "thumbnails.0") if field == "thumbnails" else (value, field)
        status, answer = await call(client, method, path, {**body, field: sent})
        if status != 400 or named not in answer.get("fields", {}):
            failures.append(f"{method} {path} {field}: {status} {answer}")
    assert not failures, "\n".join(failures)
    assert (await client.get("/api/sessions/current")).status == 200


@pytest.mark.parametrize("char", ["\u0000", "\x1b", "\x7f", "\x0b"])
async def test_description_refuses_control_characters_but_keeps_newlines_and_tabs(
    client: Client, admin: dict[str, Any], product_body: ProductBody, char: str
) -> None:
    status, answer = await call(
        client, "POST", "/api/products", product_body(description=f"a{char}b")
    )
    assert_refused(status, answer, 400, naming="description")
    text = "Line one\nLine two\r\n\tIndented"
    status, answer = await call(client, "POST", "/api/products", product_body(description=text))
    assert status == 201, answer
    assert answer["payload"]["description"] == text


async def test_nul_after_an_email_makes_no_second_account(client: Client, auth: Auth) -> None:
    await auth.register("alice@x.test")
    status, answer = await call(
        client, "POST", "/api/users", registration(email="alice@x.test\u0000")
    )
    assert_refused(status, answer, 400, naming="email")
    status, answer = await call(
        client,
        "POST",
        "/api/sessions/login",
        {"email": "alice@x.test\u0000", "password": PASSWORD},
    )
    assert_refused(status, answer, 400, naming="email")
    assert await client.app[STORE].users.get_by_email("alice@x.test\u0000") is None


async def test_control_characters_in_a_query_are_refused(client: Client) -> None:
    status, answer = await call(client, "GET", "/api/products", params={"query": "Drinks\u0000"})
    assert_refused(status, answer, 400, naming="query")
