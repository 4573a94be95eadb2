"""Assertions on the API's envelopes, shared by the contract tests."""

from __future__ import annotations

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


async def error(response: ClientResponse, status: int, names: str = "") -> str:
    """The message of an error envelope with the expected status; it must mention `names`."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert body.keys() == {"status", "error"}
    assert body["status"] == "error"
    assert isinstance(body["error"], str)
    assert names in body["error"]
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
