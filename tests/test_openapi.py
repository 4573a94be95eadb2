"""The contract: /api/openapi.json describes every route the app serves and nothing else,
its schemas are valid and closed, and the README's API and status tables agree with it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from shop.openapi.document import api_routes
from shop.openapi.statuses import STATUSES, markdown_table
from tests.conftest import Client

README = Path(__file__).resolve().parent.parent / "README.md"
METHODS = ("get", "put", "post", "delete", "patch")


async def document(client: Client) -> dict[str, Any]:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    return body


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


async def test_every_api_route_is_documented_and_every_operation_is_routed(
    client: Client,
) -> None:
    doc = await document(client)
    routed = {(method, path) for method, path, _ in api_routes(client.app)}
    documented = set(operations(doc))
    assert {(m, p) for m, p in routed if p.startswith("/api/")} <= documented
    assert documented <= routed


async def test_the_document_is_openapi_3_1_with_valid_schemas(client: Client) -> None:
    doc = await document(client)
    assert doc["openapi"] == "3.1.0"
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for op in operations(doc).values():
        for parameter in op.get("parameters", ()):
            Draft202012Validator.check_schema(parameter["schema"])
    ids = [op["operationId"] for op in operations(doc).values()]
    assert len(ids) == len(set(ids))


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node)) if node else set()
    return set()


async def test_every_answer_allows_no_undeclared_property(client: Client) -> None:
    doc = await document(client)
    schemas = doc["components"]["schemas"]
    seen: set[str] = set()
    todo = {
        ref
        for op in operations(doc).values()
        for response in op["responses"].values()
        for ref in _refs(response)
    }
    while todo:
        name = todo.pop()
        seen.add(name)
        schema = schemas[name]
        if schema.get("type") == "object":
            assert schema.get("additionalProperties") is False, name
        todo |= _refs(schema) - seen
    assert {"Error", "Invalid", "Conflict", "ProductPage", "Cart"} <= seen


async def test_every_operation_documents_its_statuses(client: Client) -> None:
    doc = await document(client)
    for (method, path), op in operations(doc).items():
        codes = set(op["responses"])
        assert {"415", "503"} <= codes, (method, path)
        if path.startswith("/api/"):
            assert {"401", "429"} <= codes, (method, path)
        if op.get("requestBody"):
            assert {"400", "413"} <= codes, (method, path)
    purchase = operations(doc)[("POST", "/api/carts/{cid}/purchase")]
    assert {"201", "409", "422"} <= set(purchase["responses"])
    upload = operations(doc)[("POST", "/api/products/{pid}/images")]
    assert {"411", "413", "415"} <= set(upload["responses"])
    assert "multipart/form-data" in upload["requestBody"]["content"]


async def test_catalogue_files_are_documented_as_csv(client: Client) -> None:
    doc = await document(client)
    schemas = doc["components"]["schemas"]
    export = operations(doc)[("GET", "/api/products/export")]
    assert export["security"] == [{"cookie": []}, {"bearer": []}]
    assert list(export["responses"]["200"]["content"]) == ["text/csv"]
    assert "thumbnails" in export["responses"]["200"]["description"]

    imports = operations(doc)[("POST", "/api/products/import")]
    body = imports["requestBody"]
    assert list(body["content"]) == ["text/csv"]
    assert body["description"].startswith("at most 64 MiB (67108864 bytes)")
    example = body["content"]["text/csv"]["schema"]["examples"][0]
    assert example.startswith("title,description,code,price,status,stock,category,")
    assert {"200", "400", "401", "403", "411", "413", "415"} <= set(imports["responses"])
    answer = imports["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    imported = schemas[answer.rsplit("/", 1)[-1]]["properties"]["payload"]["$ref"]
    assert schemas[imported.rsplit("/", 1)[-1]]["required"] == [
        "created",
        "updated",
        "unchanged",
        "images_left_out",
    ]
    invalid = imports["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert "problems" in schemas[invalid.rsplit("/", 1)[-1]]["properties"]


async def test_bodies_and_parameters_carry_their_limits(client: Client) -> None:
    doc = await document(client)
    schemas = doc["components"]["schemas"]
    product = schemas["ProductIn"]["properties"]
    assert product["price"]["multipleOf"] == 0.01
    assert product["price"]["exclusiveMinimum"] == 0
    assert product["title"]["maxLength"] == 200
    assert product["code"]["pattern"] == "^[A-Za-z0-9._-]+$"
    assert schemas["QuantityIn"]["properties"]["quantity"]["maximum"] == 10_000
    assert schemas["ProductPatch"]["minProperties"] == 1
    assert schemas["PurchaseIn"]["properties"]["expected_total"]["anyOf"][0]["multipleOf"] == 0.01
    listing = operations(doc)[("GET", "/api/products")]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}


async def test_both_auth_schemes_and_who_may_call(client: Client) -> None:
    doc = await document(client)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["cookie"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "shop_session",
        "description": schemes["cookie"]["description"],
    }
    assert schemes["bearer"]["scheme"] == "bearer"
    ops = operations(doc)
    assert {} in ops[("GET", "/api/products")]["security"]  # anyone
    assert {} not in ops[("POST", "/api/products")]["security"]


async def test_the_status_table_is_in_the_document(client: Client) -> None:
    doc = await document(client)
    assert markdown_table() in doc["info"]["description"]
    listed = {entry["status"]: entry for entry in doc["x-statuses"]}
    assert listed.keys() == STATUSES.keys()
    assert listed[400]["extra_keys"] == ["fields", "problems"]
    assert listed[409]["extra_keys"] == ["available", "unfilled", "total"]


# ---- the README -------------------------------------------------------------------------


def readme_api_section() -> str:
    text = README.read_text()
    start = text.index("\n## API\n")
    return text[start : text.index("\n## ", start + 1)]


def readme_operations() -> set[tuple[str, str]]:
    """(method, path) of each row of the README's API table, `:id` spelt `{id}`."""
    found = set()
    for line in readme_api_section().splitlines():
        match = re.match(r"\| ([A-Z, ]+) \| `([^`]+)` \|", line)
        if match:
            path = re.sub(r":(\w+)", r"{\1}", match[2].split("?")[0])
            found |= {(method.strip(), path) for method in match[1].split(",")}
    return found


async def test_the_readme_api_table_matches_the_document(client: Client) -> None:
    documented = {
        (method, path)
        for method, path in operations(await document(client))
        if path.startswith("/api/")
    }
    assert readme_operations() == documented


def test_the_readme_status_table_is_the_documents() -> None:
    assert markdown_table() in readme_api_section()


# ---- /apidocs -----------------------------------------------------------------------------


async def test_apidocs_is_served_with_our_own_files_only(client: Client) -> None:
    response = await client.get("/apidocs")
    assert response.status == 200
    html = await response.text()
    assert "<script>" not in html and "style=" not in html  # the CSP allows neither
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(source.startswith("/") for source in sources), sources
    for source in sources:
        asset = await client.get(source)
        assert asset.status == 200, source
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name", ["swagger-ui-bundle.js", "swagger-ui.css"])
async def test_swagger_ui_comes_from_the_package(client: Client, name: str) -> None:
    response = await client.get(f"/apidocs/assets/{name}")
    assert response.status == 200
    assert len(await response.read()) > 100_000
