"""Assertions on the API's envelopes, shared by the contract tests."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientResponse

from tests.conftest import Client

MISSING_ID = "0123456789abcdef01234567"  # well-formed, but no record has it
LISTING_KEYS = {
    "status",
    "payload",
    "totalPages",
    "prevPage",
    "nextPage",
    "page",
    "totalDocs",
    "totalDocsExact",
    "hasPrevPage",
    "hasNextPage",
    "prevLink",
    "nextLink",
}

NewBrowser = Callable[[], Awaitable[Client]]


async def success(response: ClientResponse, status: int = 200) -> Any:
    """The payload of a success envelope with the expected status."""
    assert response.status == status, await response.text()
    body = await response.json()
    assert body.keys() == {"status", "payload"}
    assert body["status"] == "success"
    return body["payload"]


FIELD = re.compile(r"[\w.$\[\]-]+(: .*)?")
# Validator wording that must never reach a client (pydantic's, mostly).
JARGON = (
    "Input should",
    "Value should",
    "String should",
    "should have",
    "Value error",
    "validation error",
    "pydantic",
    "type=",
    "For further information",
)


def assert_plain(body: dict[str, Any]) -> None:
    """An error envelope in plain words: a 400 names every bad field in `fields`."""
    assert body["status"] == "error"
    assert isinstance(body["error"], str)
    assert "\n" not in body["error"]
    if "fields" in body:
        assert isinstance(body["fields"], dict)
        assert body["fields"]
        assert all(isinstance(text, str) and text for text in body["fields"].values())
    text = str(body)
    for jargon in JARGON:
        assert jargon not in text, body


def assert_error_body(body: Any, status: int, names: str = "") -> None:
    """The envelope's keys for `status` (a 400 carries `fields`, naming `names`)."""
    assert isinstance(body, dict)
    assert body.keys() == ({"status", "error", "fields"} if status == 400 else {"status", "error"})
    assert_plain(body)
    assert names in body["error"]
    if status == 400 and FIELD.fullmatch(names):
        # A field ("quantity" names "products.0.quantity"), or a message about one.
        assert any(names in name or name in names for name in body["fields"]), body


async def error(response: ClientResponse, status: int, names: str = "") -> str:
    """The message of an error envelope with the expected status; it must mention `names`
    (and, for a 400, name it in `fields`)."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert_error_body(body, status, names)
    return body["error"]


async def error_with(response: ClientResponse, status: int, *keys: str) -> dict[str, Any]:
    """The whole error envelope with the expected status, holding exactly these extra keys."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert body.keys() == {"status", "error", *keys}
    assert body["status"] == "error"
    assert isinstance(body["error"], str)
    return body
