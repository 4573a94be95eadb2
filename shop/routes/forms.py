"""Reading the pages' form posts: the CSRF check, fields as strings, errors per field,
and the local paths a form may send the browser back to."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from shop.errors import Forbidden, ShopError
from shop.keys import USER
from shop.models.fields import whole_number as whole_number  # the forms' own, kept here too
from shop.models.messages import field_errors
from shop.models.users import User
from shop.security import csrf_matches
from shop.sessions import CSRF, session_of

CSRF_FIELD = "csrf_token"
MAX_PATH = 2000


class FormErrors(Exception):
    """The form is refused; `errors` maps each offending field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


async def read_form(request: web.Request) -> dict[str, str]:
    """The posted text fields (first value of each), once the CSRF token matches (403 if not)."""
    form = await request.post()
    check_csrf(request, form.get(CSRF_FIELD))
    fields: dict[str, str] = {}
    for name, value in form.items():
        if isinstance(value, str):
            fields.setdefault(name, value)
    return fields


def check_csrf(request: web.Request, given: object) -> None:
    """403 unless `given` is this session's form token."""
    if not csrf_matches(session_of(request).get(CSRF), given):
        raise Forbidden("the form's security token is missing or stale: reload the page")


def poster(request: web.Request, back: str) -> User:
    """The logged-in user posting a form; an anonymous post goes to the login page, which
    returns to `back` (a page, not the form's POST-only address)."""
    user = request.get(USER)
    if user is None:
        location = request.app.router["login"].url_for().with_query(next=back)
        raise web.HTTPSeeOther(location=str(location))
    return user


def parse_form[M: BaseModel](model: type[M], values: dict[str, Any]) -> M:
    """`values` validated by `model`, or FormErrors naming every offending field in the
    API's words."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = {name: str(text) for name, text in field_errors(exc, top_level=True).items()}
        if "body" in errors:  # about the form as a whole
            errors["form"] = errors.pop("body")
        raise FormErrors(errors) from None


def field_error(exc: ShopError, fields: Collection[str], default: str) -> dict[str, str]:
    """A service's error placed next to its field (else next to `default`)."""
    named = {name: str(text) for name, text in exc.fields.items() if name in fields}
    if named:
        return named
    name, sep, message = exc.message.partition(": ")
    if sep and name in fields:
        return {name: message}
    return {default: exc.message}


def is_local_path(value: str) -> bool:
    """True for a path on this site: "/x", never "//host" or "/\\host" (which browsers
    read as another site), nor whitespace or control characters, which browsers drop."""
    return (
        0 < len(value) <= MAX_PATH
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
        and not any(char.isspace() for char in value)
    )


def local_path(value: object, default: str) -> str:
    """`value` when it is a local path, else `default`: the guard against open redirects."""
    if isinstance(value, str) and is_local_path(value):
        return value
    return default
