"""Domain errors, and the one middleware that turns errors into answers.

Services raise these; no handler builds an error response by hand. The API gets the
`{"status": "error", "error": ...}` envelope, pages get the shop's error page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar

import msgspec
from aiohttp import web

from shop.i18n.languages import Language
from shop.i18n.negotiation import language_of
from shop.logs import escape
from shop.models import answers
from shop.models.messages import MORE, N_, Message, summary
from shop.store.base import StoreUnavailable
from shop.views import render

log = logging.getLogger("shop.errors")


# What a "<field>: <phrase>" message may name as its field.
_FIELD_NAME = re.compile(r"[\w.$\[\]-]{1,64}")


class ShopError(Exception):
    """A refusal the client should see.

    `template` is the message before its `params` are filled in (`"product {pid} not
    found"`), so it is translated first (`explain`); `fields` names each offending input
    field (a phrase, or a `Message` that keeps its own template and parameters) and `extra`
    carries the other keys an error envelope may hold (`unfilled`, `total`). `headers` go
    on the answer (`Retry-After`, `WWW-Authenticate`). `message` is the English text, for
    logs and tests.
    """

    status = 400
    # The message lists the fields' phrases (`invalid()`, a catalogue file's bad rows): its
    # template holds `{summary}`, built anew from the translated phrases (`explain`);
    # `counted` is how many problems there are when `fields` holds only some.
    summarised = False
    counted: int | None = None
    # The envelope's shape: its keys beyond status and error are `fields` and `extra`'s.
    answer: ClassVar[type[answers.Error]] = answers.Error

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

    @property
    def as_message(self) -> Message:
        """The message before translation, for a page to show next to a form field (without
        the field's name, when the template starts with one)."""
        if self.summarised and len(self.fields) == 1:
            # One bad field: its own phrase, which translates (a summary line does not).
            [(name, text)] = self.fields.items()
            if isinstance(text, Message):
                return Message(text.template, text.params, field=name)
            return Message(text, field=name)
        name, sep, _ = self.template.partition(": ")
        named = name.format(**self.params) if sep and self.params else name
        field = named if sep and _FIELD_NAME.fullmatch(named) else None
        return Message(self.template, self.params, field=field)


class Invalid(ShopError):
    """400: the input is wrong. It names every bad field in `fields`: pass them (see
    `invalid()`), or write the template as "<field>: <phrase>" (the field may be a
    parameter: "{field}: send one file at a time") and the field is read from it; any
    other message is about the `body`."""

    status = 400
    answer = answers.Invalid

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
            name, sep, _ = template.partition(": ")
            name = name.format(**params) if params else name
            if sep and _FIELD_NAME.fullmatch(name):
                # The whole template, so that it is translated whole; the field's name is
                # dropped from its front when shown.
                fields = {name: Message(template, params, field=name)}
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
    answer = answers.Conflict


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
    answer = answers.Unavailable


class LoginRequired(Unauthorized):
    """401 on the API; a redirect to the login page in the browser."""


# Answered to programs (balancers, Prometheus), never with a page or a login redirect.
MACHINE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class InvalidToken(Unauthorized):
    """A bearer token that is malformed, unknown or revoked (RFC 6750's invalid_token)."""

    def __init__(self) -> None:
        super().__init__(
            N_("invalid or revoked API token"),
            headers={"WWW-Authenticate": 'Bearer realm="shop", error="invalid_token"'},
        )


SUMMARY = "{summary}"


def invalid(fields: Mapping[str, str | Message]) -> Invalid:
    """400 naming every bad field: the summary line lists them, `fields` holds each phrase."""
    error = Invalid(SUMMARY, fields=fields, summary=summary(fields))
    error.summarised = True
    return error


def explain(exc: ShopError, language: Language) -> tuple[str, dict[str, str]]:
    """The error's message and its fields' phrases, translated, then filled in."""
    fields = {name: language.message(text) for name, text in exc.fields.items()}
    params = exc.params
    if exc.summarised:
        line = summary(fields, language.gettext(MORE), exc.counted)
        params = {**params, "summary": line}
    return language.message(exc.template, **params), fields


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path in MACHINE_PATHS


def error_body(
    message: str,
    extra: Mapping[str, Any] | None = None,
    shape: type[answers.Error] = answers.Error,
) -> answers.Error:
    """The error envelope, checked against its declared shape: a key it does not declare
    is a TypeError here, never an undocumented key on the wire."""
    body = {"status": "error", "error": message, **(extra or {})}
    try:
        return msgspec.convert(body, shape)
    except msgspec.ValidationError as exc:
        raise TypeError(f"error envelope {shape.__name__}: {exc}") from None


def _envelope(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    shape: type[answers.Error] = answers.Error,
) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(error_body(message, extra, shape)),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def _extra(fields: dict[str, str], exc: ShopError) -> dict[str, Any]:
    """The envelope's keys beyond status and error: `fields` when given, then `extra`."""
    return {**({"fields": fields} if fields else {}), **exc.extra}


# RFC 9110: a 401 says how to authenticate. Browsers show no prompt for Bearer.
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="shop"'}


# The error pages' titles, translated (any other status shows HTTP's English phrase).
TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    409: N_("Conflict"),
    411: N_("Length Required"),
    413: N_("Content Too Large"),
    415: N_("Unsupported Media Type"),
    422: N_("Unprocessable Content"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}


async def _page(
    request: web.Request, status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    title = language_of(request).gettext(TITLES.get(status) or HTTPStatus(status).phrase)
    response = await render(
        "error.html",
        request,
        {"status": status, "title": title, "message": message},
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
    shape: type[answers.Error] = answers.Error,
    **headers: str,
) -> web.Response:
    """The error as the client reads it: `message` is in the reader's language already."""
    if wants_json(request):
        return _envelope(status, message, headers or None, extra, shape)
    return await _page(request, status, message, headers or None)


HTTP_MESSAGES = {
    404: N_("not found"),
    405: N_("method not allowed"),
    411: N_("length required"),
    413: N_("request body too large"),
    415: N_("unsupported media type"),
}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except LoginRequired as exc:
        if wants_json(request):
            message, _ = explain(exc, language_of(request))
            return _envelope(exc.status, message, {**CHALLENGE, **exc.headers})
        return _login_redirect(request)
    except ShopError as exc:
        headers = exc.headers
        if exc.status == 401 and wants_json(request):
            headers = {**CHALLENGE, **headers}
        message, fields = explain(exc, language_of(request))
        extra = _extra(fields, exc)
        return await error_response(request, exc.status, message, extra, exc.answer, **headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        template = HTTP_MESSAGES.get(exc.status) or exc.reason.lower()
        message = language_of(request).gettext(template)
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
        return await error_response(request, exc.status, message, **headers)
    except StoreUnavailable:
        log.warning("store unavailable on %s %s", escape(request.method), escape(request.path))
        message = language_of(request).gettext(
            N_("the shop's database is unavailable, try again soon")
        )
        return await error_response(request, 503, message)
    except Exception:
        # The client learns nothing about the failure; the log keeps the traceback.
        log.exception("unhandled error on %s %s", escape(request.method), escape(request.path))
        message = language_of(request).gettext(N_("internal error"))
        return await error_response(request, 500, message)
