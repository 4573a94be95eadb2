"""Build the OpenAPI 3.1 document by walking the app's router.

Every route's handler declares its operation (`shop.routes.operation`); a route under
/api/ that declares none stops the build, so nothing the API serves goes undocumented.
Schemas come from the pydantic models that validate input and the msgspec Structs that
shape answers; nothing here lists paths or schemas by hand.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shop.bodies import JSON_TYPE
from shop.models.fields import OBJECT_ID_PATTERN
from shop.models.users import Role
from shop.openapi.statuses import STATUSES, markdown_table
from shop.routes.operation import Operation, Raw, operation_of
from shop.security import UNSAFE_METHODS

REF = "#/components/schemas/{name}"
PATH_PARAM = re.compile(r"{(\w+)}")
ID_SCHEMA = {"type": "string", "pattern": OBJECT_ID_PATTERN, "description": "a 24-hex id"}
COOKIE, BEARER = "cookie", "bearer"


class Undocumented(Exception):
    """An API route whose handler declares no operation."""


def api_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """Every (method, path, handler) the router serves, HEAD aside (aiohttp adds it)."""
    found = []
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        info = route.resource.get_info()
        path = info.get("formatter") or info.get("path")
        if path is not None:
            found.append((route.method, path, route.handler))
    return found


def _tag(handler: Any) -> str:
    return handler.__module__.rsplit(".", 1)[-1].removeprefix("api_")


def _statuses(method: str, path: str, op: Operation) -> list[int]:
    """Every error status the operation may answer: its own and those its kind shares."""
    api = path.startswith("/api/")
    takes_input = bool(PATH_PARAM.search(path) or op.query or op.takes_body or op.headers)
    shared = {
        400: takes_input,
        401: api or op.auth is not None,  # a wrong token, on any API path
        403: op.auth is not None or method in UNSAFE_METHODS,
        404: bool(PATH_PARAM.search(path)),
        411: op.upload is not None,
        413: op.takes_body,
        415: True,  # a non-empty body of another type, on every route
        429: api,  # too many wrong tokens from the address, on any API path
        503: True,
    }
    return sorted({code for code, applies in shared.items() if applies} | op.errors)


def _size(size: int) -> str:
    """A body's limit as people read it: "64 MiB (67108864 bytes)"."""
    for unit, name in ((2**20, "MiB"), (2**10, "KiB")):
        if size % unit == 0:
            return f"{size // unit} {name} ({size} bytes)"
    return f"{size} bytes"


class Builder:
    def __init__(self, app: web.Application, cookie_name: str, version: str) -> None:
        self.app = app
        self.cookie_name = cookie_name
        self.version = version
        self.inputs: list[type[BaseModel]] = []
        self.outputs: list[Any] = []
        self.operation_ids: set[str] = set()

    def build(self) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        tags: list[str] = []
        for method, path, handler in api_routes(self.app):
            op = operation_of(handler)
            if op is None:
                if path.startswith("/api/"):
                    raise Undocumented(f"{method} {path} declares no @operation")
                continue
            tag = _tag(handler)
            if tag not in tags:
                tags.append(tag)
            paths.setdefault(path, {})[method.lower()] = self.operation(method, path, handler, op)
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "shop API",
                "version": self.version,
                "description": DESCRIPTION + "\n\n" + markdown_table(),
            },
            "x-statuses": [
                {
                    "status": status.code,
                    "when": status.when,
                    "extra_keys": list(status.extra_keys),
                    "headers": list(status.headers),
                }
                for status in STATUSES.values()
            ],
            "servers": [{"url": "/"}],
            "tags": [{"name": tag} for tag in tags],
            "paths": paths,
            "components": {
                "schemas": self.schemas(),
                "securitySchemes": {
                    COOKIE: {
                        "type": "apiKey",
                        "in": "cookie",
                        "name": self.cookie_name,
                        "description": "the session cookie `POST /api/sessions/login` sets",
                    },
                    BEARER: {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "a personal API token (`POST /api/tokens`)",
                    },
                },
            },
        }

    def operation(self, method: str, path: str, handler: Any, op: Operation) -> dict[str, Any]:
        name = handler.__name__
        operation_id = name
        if operation_id in self.operation_ids:  # the course's second spelling of a path
            operation_id = f"{name}_{[s for s in path.split('/') if '{' not in s][-1]}"
        self.operation_ids.add(operation_id)
        doc: dict[str, Any] = {
            "operationId": operation_id,
            "summary": op.summary,
            "tags": [_tag(handler)],
        }
        if op.description:
            doc["description"] = " ".join(op.description.split())
        doc["security"] = self.security(op.auth)
        parameters = self.parameters(path, op)
        if parameters:
            doc["parameters"] = parameters
        if op.takes_body:
            doc["requestBody"] = self.request_body(op)
        doc["responses"] = self.responses(method, path, op)
        return doc

    @staticmethod
    def security(auth: Role | None) -> list[dict[str, list[str]]]:
        required = [{COOKIE: []}, {BEARER: []}]
        return required if auth is not None else [{}, *required]

    @staticmethod
    def parameters(path: str, op: Operation) -> list[dict[str, Any]]:
        found = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": dict(op.path[name][1]) if name in op.path else ID_SCHEMA,
            }
            for name in PATH_PARAM.findall(path)
        ]
        for param in op.query.params if op.query else ():
            found.append(
                {
                    "name": param.name,
                    "in": "query",
                    "required": False,
                    "description": param.description,
                    "schema": param.schema(),
                }
            )
        for header in op.headers:
            found.append(
                {
                    "name": header.name,
                    "in": "header",
                    "required": False,
                    "description": header.description,
                    "schema": {"type": "string", "pattern": header.pattern},
                }
            )
        return found

    def request_body(self, op: Operation) -> dict[str, Any]:
        if op.upload is not None:
            return {
                "required": True,
                "description": f"at most {_size(op.upload.max_size)}, with a Content-Length",
                "content": {
                    media_type: {"schema": dict(op.upload_schema or {})}
                    for media_type in sorted(op.upload.media_types)
                },
            }
        assert op.body is not None
        self.inputs.append(op.body)
        return {
            "required": not op.body_optional,
            "description": "at most 64 KiB"
            + ("; an empty body means the defaults" if op.body_optional else ""),
            "content": {JSON_TYPE: {"schema": {"$ref": REF.format(name=op.body.__name__)}}},
        }

    def responses(self, method: str, path: str, op: Operation) -> dict[str, Any]:
        returns = op.returns
        answer: dict[str, Any] = {"description": op.summary}
        if isinstance(returns, Raw):
            answer["description"] = returns.description
            answer["content"] = {returns.media_type: {"schema": dict(returns.schema)}}
        else:
            self.outputs.append(returns.envelope)
            answer["content"] = {
                JSON_TYPE: {"schema": {"$ref": REF.format(name=returns.envelope.__name__)}}
            }
            if returns.headers:
                answer["headers"] = {
                    name: {"description": text, "required": True, "schema": {"type": "string"}}
                    for name, text in returns.headers.items()
                }
            if op.links:
                answer["links"] = {
                    name: {"operationId": link.operation, "parameters": dict(link.parameters)}
                    for name, link in op.links.items()
                }
        responses = {str(returns.status): answer}
        for code in _statuses(method, path, op):
            status = STATUSES[code]
            self.outputs.append(status.shape)
            response: dict[str, Any] = {
                "description": status.when,
                "content": {
                    JSON_TYPE: {"schema": {"$ref": REF.format(name=status.shape.__name__)}}
                },
            }
            if status.headers:
                response["headers"] = {
                    name: {"required": True, "schema": {"type": "string"}}
                    for name in status.headers
                }
            responses[str(code)] = response
        return responses

    def schemas(self) -> dict[str, Any]:
        unique_inputs = list(dict.fromkeys(self.inputs))
        _, inputs = models_json_schema(
            [(model, "validation") for model in unique_inputs],
            ref_template=REF.replace("{name}", "{model}"),
        )
        _, outputs = msgspec.json.schema_components(
            list(dict.fromkeys(self.outputs)), ref_template=REF
        )
        defs = inputs.get("$defs", {})
        clash = defs.keys() & outputs.keys()
        if clash:
            raise ValueError(f"input and output schemas share names: {sorted(clash)}")
        return dict(sorted({**defs, **outputs}.items()))


DESCRIPTION = """\
The JSON API of the shop. Every answer is JSON: success `{"status": "success", "payload":
...}` (listings add their pagination keys), failure `{"status": "error", "error": "<one
line naming the field or the cause>", ...}` with the extra keys its status lists below.
Ids are 24-hex ObjectId strings. Amounts are JSON numbers with at most two decimals.
A path with a trailing slash is served as the path without it.

A body is JSON or nothing: an empty body needs no `Content-Type`, any other body must be
`application/json` (415 otherwise); upload routes name their own types and size limit.
Authenticate with the session cookie (`POST /api/sessions/login`) or a personal API token
(`Authorization: Bearer <token>`, from `POST /api/tokens`); with a token, no `Origin`
check applies and the cookie is ignored. A state-changing request riding the cookie from
another site is 403."""


def build_document(app: web.Application, cookie_name: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every operation `app` routes."""
    return Builder(app, cookie_name, version).build()
