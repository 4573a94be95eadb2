"""Query strings read into plain values, every bad parameter named at once (400, `fields`).

Only the names a route accepts, each at most once; values are checked as text, whole
numbers in a range or one of a few choices. Nothing from a query string reaches a store
unchecked: `query[$ne]=x` is an unknown name, not an operator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from shop.errors import invalid
from shop.models.fields import OBJECT_ID
from shop.models.messages import Message, field_name, phrase

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_DIGITS = 9  # keeps a 5,000-digit "number" away from int()


class Query:
    """Read with the typed getters, then call `check()` to refuse what was wrong."""

    def __init__(self, request: web.Request, allowed: frozenset[str]) -> None:
        self._values: dict[str, str] = {}
        self._errors: dict[str, Message] = {}
        for name, value in request.query.items():
            if name not in allowed:
                self._errors.setdefault(field_name((name,)), phrase("unknown_parameter"))
            elif name in self._values:
                self._errors.setdefault(name, phrase("repeated_parameter"))
            else:
                self._values[name] = value

    def whole_number(self, name: str, default: int, low: int, high: int) -> int:
        raw = self._values.get(name)
        if raw is None:
            return default
        if raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS and low <= int(raw) <= high:
            return int(raw)
        self._errors.setdefault(name, phrase("whole_number_range", min=low, max=high))
        return default

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        raw = self._values.get(name) or None
        if raw is None or raw in choices:
            return raw
        self._errors.setdefault(name, phrase("literal_error", expected=", ".join(choices)))
        return None

    def text(self, name: str, max_length: int) -> str:
        """The text without its surrounding spaces; its length counts them."""
        raw = self._values.get(name) or ""
        if len(raw) > max_length:
            self._errors.setdefault(name, phrase("string_too_long", max_length=max_length))
        elif _CONTROL.search(raw):
            self._errors.setdefault(name, phrase("control_characters"))
        elif not raw.isascii() and not _encodable(raw):
            self._errors.setdefault(name, phrase("unencodable"))
        else:
            return raw.strip()
        return ""

    def object_id(self, name: str) -> str | None:
        """A 24-hex id, lowercased; None when absent or empty."""
        raw = self._values.get(name) or None
        if raw is None:
            return None
        if OBJECT_ID.fullmatch(raw.lower()):
            return raw.lower()
        self._errors.setdefault(name, phrase("object_id"))
        return None

    def flag(self, name: str) -> bool | None:
        """`true` or `false`; None when absent or empty."""
        raw = self._values.get(name) or None
        if raw is None or raw in ("true", "false"):
            return None if raw is None else raw == "true"
        self._errors.setdefault(name, phrase("bool_type"))
        return None

    def refuse(self, name: str, message: Message) -> None:
        """Count a parameter as wrong for a reason of the caller's own."""
        self._errors.setdefault(name, message)

    def check(self) -> None:
        """Invalid (400) naming every bad parameter, if any."""
        if self._errors:
            raise invalid(self._errors)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ---- declared parameters: one declaration reads the query string and documents it ------


TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"


@dataclass(frozen=True, slots=True)
class Param:
    """One query parameter: how it is read (`read`) and how the API document shows it."""

    name: str
    description: str

    def read(self, query: Query) -> Any:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class WholeNumber(Param):
    default: int
    low: int
    high: int

    def read(self, query: Query) -> int:
        return query.whole_number(self.name, self.default, self.low, self.high)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "integer",
            "minimum": self.low,
            "maximum": self.high,
            "default": self.default,
        }


@dataclass(frozen=True, slots=True)
class Choice(Param):
    choices: tuple[str, ...]

    def read(self, query: Query) -> str | None:
        return query.choice(self.name, self.choices)

    def schema(self) -> dict[str, Any]:
        # Empty is "not given": the catalogue page's form sends its unset choices so.
        return {"type": "string", "enum": [*self.choices, ""]}


@dataclass(frozen=True, slots=True)
class Flag(Param):
    def read(self, query: Query) -> bool | None:
        return query.flag(self.name)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": ["true", "false", ""]}


@dataclass(frozen=True, slots=True)
class Words(Param):
    max_length: int

    def read(self, query: Query) -> str:
        return query.text(self.name, self.max_length)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length, "pattern": TEXT_PATTERN}


@dataclass(frozen=True, slots=True)
class IdParam(Param):
    def read(self, query: Query) -> str | None:
        return query.object_id(self.name)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^(?:[0-9a-fA-F]{24})?$"}


class Params:
    """The query parameters a route accepts. `read` answers their values by name (a
    parameter not given has its default), or what `into` makes of them, or raises Invalid
    naming every bad one."""

    def __init__(self, *params: Param, into: Callable[[dict[str, Any]], Any] | None = None):
        self.params = params
        self.names = frozenset(param.name for param in params)
        self._into = into

    def __add__(self, other: Params) -> Params:
        return Params(*self.params, *other.params)

    def into(self, convert: Callable[[dict[str, Any]], Any]) -> Params:
        """The same parameters, read into `convert(values)`."""
        return Params(*self.params, into=convert)

    def read(self, request: web.Request) -> Any:
        query = Query(request, self.names)
        values = {param.name: param.read(query) for param in self.params}
        query.check()
        return values if self._into is None else self._into(values)
