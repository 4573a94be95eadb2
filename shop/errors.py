"""Domain errors, and the one middleware that turns errors into answers.

Services raise these; no handler builds an error response by hand. The API gets the
`{"status": "error", "error": ...}` envelope, pages get the shop's error page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web

from shop.logs import escape
from shop.models.messages import Message, summary
from shop.store.base import StoreUnavailable
from shop.views import render

log = logging.getLogger("shop.errors")


# What a "<field>: <phrase>" message may name as its field.
_FIELD_NAME = re.compile(r"[\w.$\[\]-]{1,64}")


class ShopError(Exception):
    """A refusal the client should see.

    `template` is the message before its `params` are filled in (`"product {pid} not
    found"`), so it can be translated first; `fields` names each offending input field
    (a phrase, or a `Message` that keeps its own template and parameters) and `extra`
    carries the other keys an error envelope may hold (`unfilled`, `total`). `headers` go
    on the answer (`Retry-After`, `WWW-Authenticate`).
    """

    status = 400

    def __init__(
        self,
        template: str,
        /,
        *,
        fields: Mapping[str, str | Message] | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> None:
        self.template = template
        self.params = params
        self.fields = dict(fields or {})
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        self.message = template.format(**params) if params else template
        super().__init__(self.message)


class Invalid(ShopError):
    """400: the input is wrong. It names every bad field in `fields`: pass them (see
    `invalid()`), or write the template as "<field>: <phrase>" (the field may be a
    parameter: "{field}: send one file at a time") and the field is read from it; any
    other message is about the `body`."""

    status = 400

    def __init__(
        self,
        template: str,
        /,
        *,
        fields: Mapping[str, str | Message] | None = None,
        extra: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> None:
        if fields is None:
            name, sep, phrase = template.partition(": ")
            name = name.format(**params) if params else name
            if sep and _FIELD_NAME.fullmatch(name):
                fields = {name: Message(phrase, params)}
            else:  # about no one field: the body as a whole
                fields = {"body": Message(template, params)}
        super().__init__(template, fields=fields, extra=extra, **params)


class Unauthorized(ShopError):
    status = 401


class Forbidden(ShopError):
    status = 403


class NotFound(ShopError):
    status = 404


class Conflict(ShopError):
    status = 409


class TooLarge(ShopError):
    status = 413


class UnsupportedMediaType(ShopError):
    status = 415


class Unprocessable(ShopError):
    """Well-formed, but contradicting what the request claims (a reused Idempotency-Key)."""

    status = 422


class TooManyRequests(ShopError):
    status = 429

    def __init__(self, template: str, /, *, retry_after: int, **params: Any) -> None:
        super().__init__(template, headers={"Retry-After": str(retry_after)}, **params)
        self.retry_after = retry_after


class Unavailable(ShopError):
    """This process cannot serve the request now (a part it needs is down)."""

    status = 503


class LoginRequired(Unauthorized):
    """401 on the API; a redirect to the login page in the browser."""


# Answered to programs (balancers, Prometheus), never with a page or a login redirect.
MACHINE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class InvalidToken(Unauthorized):
    """A bearer token that is malformed, unknown or revoked (RFC 6750's invalid_token)."""

    def __init__(self) -> None:
        super().__init__(
            "invalid or revoked API token",
            headers={"WWW-Authenticate": 'Bearer realm="shop", error="invalid_token"'},
        )


def invalid(fields: Mapping[str, str | Message]) -> Invalid:
    """400 naming every bad field: the summary line lists them, `fields` holds each phrase."""
    return Invalid(summary(fields), fields=fields)


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path in MACHINE_PATHS


def _envelope(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> web.Response:
    body = {"status": "error", "error": message, **(extra or {})}
    return web.json_response(body, status=status, headers=headers)


def _extra(exc: ShopError) -> dict[str, Any]:
    """The envelope's keys beyond status and error: `fields` when given, then `extra`."""
    fields = {name: str(text) for name, text in exc.fields.items()}
    return {**({"fields": fields} if fields else {}), **exc.extra}


# RFC 9110: a 401 says how to authenticate. Browsers show no prompt for Bearer.
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="shop"'}


async def _page(
    request: web.Request, status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    response = await render(
        "error.html",
        request,
        {"status": status, "title": HTTPStatus(status).phrase, "message": message},
        status=status,
    )
    if headers:
        response.headers.update(headers)
    return response


def _login_redirect(request: web.Request) -> web.Response:
    target = request.rel_url.path_qs
    location = request.app.router["login"].url_for().with_query(next=target)
    raise web.HTTPSeeOther(location=str(location))


async def error_response(
    request: web.Request,
    status: int,
    message: str,
    extra: Mapping[str, Any] | None = None,
    **headers: str,
) -> web.Response:
    if wants_json(request):
        return _envelope(status, message, headers or None, extra)
    return await _page(request, status, message, headers or None)


HTTP_MESSAGES = {
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    415: "unsupported media type",
}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except LoginRequired as exc:
        if wants_json(request):
            return _envelope(exc.status, exc.message, {**CHALLENGE, **exc.headers})
        return _login_redirect(request)
    except ShopError as exc:
        headers = exc.headers
        if exc.status == 401 and wants_json(request):
            headers = {**CHALLENGE, **headers}
        return await error_response(request, exc.status, exc.message, _extra(exc), **headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = HTTP_MESSAGES.get(exc.status) or exc.reason.lower()
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
        return await error_response(request, exc.status, message, **headers)
    except StoreUnavailable:
        log.warning("store unavailable on %s %s", escape(request.method), escape(request.path))
        return await error_response(
            request, 503, "the shop's database is unavailable, try again soon"
        )
    except Exception:
        # The client learns nothing about the failure; the log keeps the traceback.
        log.exception("unhandled error on %s %s", escape(request.method), escape(request.path))
        return await error_response(request, 500, "internal error")
