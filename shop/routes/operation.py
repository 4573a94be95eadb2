"""`@operation(...)`: what an API handler takes and answers, declared once beside it.

The declaration does the work and is the documentation (`shop.openapi` builds the OpenAPI
document from it by walking the router):

    @routes.put("/api/products/{pid}")
    @operation("Change a product", auth=Role.ADMIN, body=ProductPatch,
               returns=Returns(answers.Product), errors=(409,))
    async def update_product(request, pid: str, body: ProductPatch) -> answers.Product: ...

- `auth`: None (anyone), Role.USER (a session or a token) or Role.ADMIN, checked first;
- every `{name}` of the path is read as a 24-hex id (or with the `path` reader given for
  that name) and passed to the handler by name;
- `query` (a `Params`) is read and passed as `query`; `body` (a pydantic model) is parsed
  from the JSON body and passed as `body` (`body_optional`: an empty body means its
  defaults); `upload` declares a non-JSON body instead (shop.bodies' rule);
- the handler answers with an instance of `returns.model` (or a `Page` of them for a
  listing, or a `Reply` to add headers); it is wrapped in the success envelope and encoded
  by msgspec with the declared status.

Errors keep going through `shop.errors`: the statuses an operation may answer are listed
in `errors` beyond those every operation shares (`shop.openapi.statuses`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from aiohttp import web
from pydantic import BaseModel

from shop.bodies import BodyRule, declare, upload_rule
from shop.models.answers import Answer
from shop.models.listing import Page
from shop.models.users import Role
from shop.routes.common import json_response, path_id, read_json, read_json_or_default
from shop.routes.listing import page_link
from shop.routes.query import Params
from shop.security import requires

_OPERATION = "_shop_operation"

type Handler = Callable[..., Awaitable[Any]]
type PathReader = Callable[[web.Request, str], Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """A payload with response headers of its own (`Location` after an upload)."""

    payload: Any
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Header:
    """A request header an operation reads; `pattern` is what it must match."""

    name: str
    description: str
    pattern: str


@dataclass(frozen=True, slots=True)
class Link:
    """An OpenAPI link: after this answer, `operation` may be called with `parameters`
    (`{"pid": "$response.body#/payload/_id"}`)."""

    operation: str
    parameters: Mapping[str, str]


_ENVELOPES: dict[str, type[msgspec.Struct]] = {}


def _envelope(name: str, fields: list[tuple[str, Any]]) -> type[msgspec.Struct]:
    """The envelope Struct named `name`: one class per name, however often declared."""
    if name not in _ENVELOPES:
        _ENVELOPES[name] = msgspec.defstruct(
            name,
            [("status", Literal["success"]), *fields],
            bases=(Answer,),
            module=Answer.__module__,
        )
    return _ENVELOPES[name]


def _listing(name: str, model: type) -> type[msgspec.Struct]:
    return _envelope(
        name,
        [
            ("payload", list[model]),  # type: ignore[valid-type]
            ("totalPages", int),
            ("prevPage", int | None),
            ("nextPage", int | None),
            ("page", int),
            # Beyond the course's keys: how many match, so a live page keeps its count right
            # (a search counts up to shop.models.search.COUNT_LIMIT: then it is not exact).
            ("totalDocs", int),
            ("totalDocsExact", bool),
            ("hasPrevPage", bool),
            ("hasNextPage", bool),
            ("prevLink", str | None),
            ("nextLink", str | None),
        ],
    )


@dataclass(frozen=True, slots=True)
class Returns:
    """The success answer: `model` in `{"status": "success", "payload": ...}` (a list of
    them when `many`), or the paginated envelope when `listing`."""

    model: type
    status: int = 200
    many: bool = False
    listing: bool = False
    description: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # response header -> meaning
    envelope: type[msgspec.Struct] = field(init=False)

    def __post_init__(self) -> None:
        name = self.model.__name__
        if self.listing:
            envelope = _listing(f"{name}Page", self.model)
        elif self.many:
            envelope = _envelope(f"{name}List", [("payload", list[self.model])])  # type: ignore[name-defined]
        else:
            envelope = _envelope(f"{name}Answer", [("payload", self.model)])
        object.__setattr__(self, "envelope", envelope)

    def respond(self, request: web.Request, result: Any) -> web.Response:
        headers: Mapping[str, str] = {}
        if isinstance(result, Reply):
            result, headers = result.payload, result.headers
        if self.listing:
            body = self._page(request, result)
        else:
            if not self.many:
                self._check(result)
            elif result:
                self._check(result[0])
            body = self.envelope(status="success", payload=result)
        response = json_response(body, status=self.status)
        response.headers.update(headers)
        return response

    def _check(self, payload: Any) -> None:
        if payload is not None and not isinstance(payload, self.model):
            raise TypeError(f"answered {type(payload).__name__}, declared {self.model.__name__}")

    def _page(self, request: web.Request, page: Page[Any]) -> msgspec.Struct:
        has_prev = page.page > 1
        has_next = page.page < page.total_pages
        if page.items:
            self._check(page.items[0])
        return self.envelope(
            status="success",
            payload=page.items,
            totalPages=page.total_pages,
            prevPage=page.page - 1 if has_prev else None,
            nextPage=page.page + 1 if has_next else None,
            page=page.page,
            totalDocs=page.total,
            totalDocsExact=page.exact,
            hasPrevPage=has_prev,
            hasNextPage=has_next,
            prevLink=page_link(request, page.page - 1) if has_prev else None,
            nextLink=page_link(request, page.page + 1) if has_next else None,
        )


@dataclass(frozen=True, slots=True)
class Raw:
    """An answer the handler builds itself: its media type, meaning and JSON Schema."""

    media_type: str
    description: str
    status: int = 200
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    description: str
    auth: Role | None
    returns: Returns | Raw
    body: type[BaseModel] | None = None
    body_optional: bool = False
    query: Params | None = None
    upload: BodyRule | None = None
    upload_schema: Mapping[str, Any] | None = None
    path: Mapping[str, tuple[PathReader, Mapping[str, Any]]] = field(default_factory=dict)
    headers: tuple[Header, ...] = ()
    errors: frozenset[int] = frozenset()
    links: Mapping[str, Link] = field(default_factory=dict)
    deprecated: bool = False

    @property
    def takes_body(self) -> bool:
        return self.body is not None or self.upload is not None


def operation(
    summary: str,
    *,
    returns: Returns | Raw,
    auth: Role | None = None,
    body: type[BaseModel] | None = None,
    body_optional: bool = False,
    query: Params | None = None,
    upload: tuple[tuple[str, ...], int, Mapping[str, Any]] | None = None,
    path: Mapping[str, tuple[PathReader, Mapping[str, Any]]] | None = None,
    headers: tuple[Header, ...] = (),
    errors: tuple[int, ...] = (),
    links: Mapping[str, Link] | None = None,
) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Declare an API operation (see the module's docstring); the handler's docstring is
    its description. `upload` is (media types, max size, the body's JSON Schema)."""
    rule = upload_rule(*upload[0], max_size=upload[1]) if upload else None
    readers = dict(path or {})

    def decorate(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        declared = Operation(
            summary=summary,
            description=(handler.__doc__ or "").strip(),
            auth=auth,
            returns=returns,
            body=body,
            body_optional=body_optional,
            query=query,
            upload=rule,
            upload_schema=upload[2] if upload else None,
            path=readers,
            headers=headers,
            errors=frozenset(errors),
            links=dict(links or {}),
        )

        async def serve(request: web.Request) -> web.StreamResponse:
            kwargs: dict[str, Any] = {
                name: readers[name][0](request, name)
                if name in readers
                else path_id(request, name)
                for name in request.match_info
            }
            if query is not None:
                kwargs["query"] = query.read(request)
            if body is not None:
                read = read_json_or_default if body_optional else read_json
                kwargs["body"] = await read(request, body)
            result = await handler(request, **kwargs)
            if isinstance(returns, Raw):
                return result
            return returns.respond(request, result)

        guarded = requires(auth)(serve) if auth is not None else serve
        functools.update_wrapper(guarded, handler)
        setattr(guarded, _OPERATION, declared)
        if rule is not None:
            declare(rule)(guarded)
        return guarded

    return decorate


def operation_of(handler: Any) -> Operation | None:
    """The operation a route's handler declares, if any."""
    return getattr(handler, _OPERATION, None)
