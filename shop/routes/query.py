"""Query strings read into plain values, every bad parameter named at once (400, `fields`).

Only the names a route accepts, each at most once; values are checked as text, whole
numbers in a range or one of a few choices. Nothing from a query string reaches a store
unchecked: `query[$ne]=x` is an unknown name, not an operator.
"""

from __future__ import annotations

import re

from aiohttp import web

from shop.errors import invalid
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
        raw = (self._values.get(name) or "").strip()
        if len(raw) > max_length:
            self._errors.setdefault(name, phrase("string_too_long", max_length=max_length))
        elif _CONTROL.search(raw):
            self._errors.setdefault(name, phrase("control_characters"))
        elif not raw.isascii() and not _encodable(raw):
            self._errors.setdefault(name, phrase("unencodable"))
        else:
            return raw
        return ""

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
