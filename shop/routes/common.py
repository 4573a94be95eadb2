"""Reading requests: JSON bodies, ids and query strings, refused with a clear 4xx."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web
from pydantic import BaseModel, ValidationError

from shop.errors import Invalid
from shop.models.fields import describe
from shop.service.ids import parse_id


async def read_json[M: BaseModel](request: web.Request, model: type[M]) -> M:
    """Parse an application/json body into `model` or answer 400/413/415."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="the body must be application/json")
    raw = await request.read()
    return parse_json(raw, model)


async def read_json_or_default[M: BaseModel](request: web.Request, model: type[M]) -> M:
    """Like read_json, but an empty body means the model's defaults."""
    if not request.body_exists:
        return model()
    return await read_json(request, model)


def parse_json[M: BaseModel](raw: bytes | str, model: type[M]) -> M:
    try:
        # Numbers with a fraction are read as Decimal, so an amount is checked exactly
        # (`0.1` is one tenth, not the nearest double). NaN and Infinity are read as
        # floats so that the models refuse them by field name.
        data = json.loads(raw, parse_float=Decimal, parse_constant=float)
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"body: not valid JSON ({_reason(exc)})") from None
    if not isinstance(data, dict):
        raise Invalid("body: must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(describe(exc)) from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at position {exc.pos}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


def path_id(request: web.Request, name: str) -> str:
    return parse_id(request.match_info[name], name)


def query_params(request: web.Request, allowed: frozenset[str]) -> dict[str, str]:
    """The query string as single values; unknown or repeated names are refused."""
    params: dict[str, str] = {}
    for name, value in request.query.items():
        if name not in allowed:
            raise Invalid(f"{name}: is not an accepted query parameter")
        if name in params:
            raise Invalid(f"{name}: may be given only once")
        params[name] = value
    return params


def int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    # The length check keeps a 5,000-digit "number" from reaching int().
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise Invalid(f"{name}: must be a whole number from {low} to {high}")
    return int(raw)


_encode = msgspec.json.Encoder().encode


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON answer encoded by msgspec: the hot API paths spend much of their time here."""
    return web.Response(body=_encode(data), status=status, content_type="application/json")


def success(payload: Any, status: int = 200) -> web.Response:
    return json_response({"status": "success", "payload": payload}, status=status)
