"""Reading requests: JSON bodies, ids and query strings, refused with a clear 4xx."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web
from pydantic import BaseModel, ValidationError

from shop.errors import invalid
from shop.models.messages import field_errors, phrase
from shop.service.ids import parse_id


async def read_json[M: BaseModel](request: web.Request, model: type[M]) -> M:
    """Parse the JSON body into `model`, or answer 400 naming every bad field (413 when too
    big; shop.bodies has refused any other media type already)."""
    raw = await request.read()
    if not raw:
        raise invalid({"body": phrase("body_required")})
    return parse_json(raw, model)


async def read_json_or_default[M: BaseModel](request: web.Request, model: type[M]) -> M:
    """Like read_json, but an empty body means the model's defaults."""
    raw = await request.read()
    return parse_json(raw, model) if raw else model()


def parse_json[M: BaseModel](raw: bytes | str, model: type[M]) -> M:
    try:
        # Numbers with a fraction are read as Decimal, so an amount is checked exactly
        # (`0.1` is one tenth, not the nearest double). NaN and Infinity are read as
        # floats so that the models refuse them by field name.
        data = json.loads(raw, parse_float=Decimal, parse_constant=float)
    except (ValueError, RecursionError) as exc:
        raise invalid({"body": phrase("json_syntax", reason=_reason(exc))}) from None
    if not isinstance(data, dict):
        raise invalid({"body": phrase("json_object")})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(field_errors(exc)) from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg.lower()} at position {exc.pos}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return "not UTF-8 text"


def path_id(request: web.Request, name: str) -> str:
    return parse_id(request.match_info[name], name)


_encode = msgspec.json.Encoder().encode


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON answer encoded by msgspec: the hot API paths spend much of their time here."""
    return web.Response(body=_encode(data), status=status, content_type="application/json")


def success(payload: Any, status: int = 200) -> web.Response:
    return json_response({"status": "success", "payload": payload}, status=status)
