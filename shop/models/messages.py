"""Validation errors in plain words: one short phrase per bad field, with its limits.

Every phrase is a template and its parameters (`"must be at most {max_length}
characters"`, `{"max_length": 200}`), so it can be translated before it is filled in. The
input types raise `refuse(kind, **params)` for the checks of their own; pydantic's built-in
checks are read by their error type. Nothing of pydantic's own wording reaches a client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError


def N_(message: str) -> str:
    """Mark `message` for extraction into the catalogues (`make catalogues`); it is
    translated later, where it is shown, in the reader's language. `shop.i18n` re-exports
    it; it lives here because the models import nothing of ours."""
    return message


# Error type -> template. Pydantic's types first, then the shop's own (raised by `refuse`).
TEMPLATES: dict[str, str] = {
    "missing": N_("is required"),
    "extra_forbidden": N_("is not an accepted field"),
    "string_type": N_("must be text"),
    "string_unicode": N_("must be text"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "list_type": N_("must be a list"),
    "dict_type": N_("must be an object"),
    "model_type": N_("must be an object"),
    "model_attributes_type": N_("must be an object"),
    "string_too_short": N_("must be at least {min_length} characters"),
    "string_too_long": N_("must be at most {max_length} characters"),
    "too_short": N_("must have at least {min_length} items"),
    "too_long": N_("must have at most {max_length} items"),
    "greater_than": N_("must be greater than {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be less than {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "literal_error": N_("must be one of: {expected}"),
    "enum": N_("must be one of: {expected}"),
    "string_pattern_mismatch": N_("is not in the expected format"),
    # The shop's own checks.
    "empty": N_("must not be empty"),
    "control_characters": N_("must not contain control characters"),
    "operator": N_("must not start with '$'"),
    "unencodable": N_("must be valid text"),
    "email": N_("must be an email address"),
    "code_characters": N_("must contain only letters, digits, '.', '_' and '-'"),
    "object_id": N_("must be a 24-character hexadecimal id"),
    "number": N_("must be a number"),
    "finite_number": N_("must be a finite number"),
    "cents": N_("must have at most two decimals"),
    "not_null": N_("must not be null"),
    "nothing_to_change": N_("must hold at least one field to change"),
    "body_required": N_("is required: send a JSON object"),
    "json_object": N_("must be a JSON object"),
    "json_syntax": N_("must be valid JSON ({reason})"),
    "foreign_image": N_("{url} is not an image uploaded to this product"),
    # Catalogue files (CSV).
    "empty_file": N_("is empty: send a CSV file that starts with its header row"),
    "utf8": N_("must be UTF-8 text (save the file as CSV UTF-8)"),
    "csv_syntax": N_("is not valid CSV ({reason})"),
    "missing_column": N_("is a required column of the header"),
    "repeated_column": N_("appears twice in the header"),
    "row_cells": N_("has {cells} cells where the header has {columns}"),
    "duplicate_code": N_("repeats the code of line {line}"),
    "too_many_rows": N_("has more than {most} rows: split it into several files"),
    # Query strings and paths.
    "unknown_parameter": N_("is not an accepted parameter"),
    "repeated_parameter": N_("may be given only once"),
    "whole_number_range": N_("must be a whole number from {min} to {max}"),
    "query_and_category": N_("names a category; give it once, as category or query"),
}
FALLBACK = N_("is not valid")
# A client-chosen field name (an unknown key) is shown, but never at any length.
MAX_NAME = 64
MAX_LISTED = 5


@dataclass(frozen=True, slots=True)
class Message:
    """A phrase before translation: `str()` fills the template in.

    `field`, when set, is the field a "<field>: <phrase>" template names at its front; the
    phrase is shown without it next to that field (the template is translated whole).
    """

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)
    field: str | None = None

    def __str__(self) -> str:
        return self.fill(self.template)

    def fill(self, template: str) -> str:
        """`template` (this one, or its translation) filled in, without the field's name."""
        text = template.format(**self.params) if self.params else template
        return text.removeprefix(f"{self.field}: ") if self.field else text


def phrase(kind: str, **params: Any) -> Message:
    """The message of `kind` (a key of TEMPLATES) with its parameters."""
    return Message(TEMPLATES[kind], params)


def refuse(kind: str, **params: Any) -> PydanticCustomError:
    """The error a validator raises for one of the shop's own checks (`kind` in TEMPLATES)."""
    return PydanticCustomError(kind, TEMPLATES[kind], params)


def _choices(expected: str) -> str:
    # Pydantic spells a Literal's choices "'asc' or 'desc'"; people read "asc, desc".
    names = re.findall(r"'([^']*)'", expected)
    return ", ".join(names) if names else expected


def message(error: ErrorDetails) -> Message:
    """The plain phrase for one pydantic error."""
    kind = error["type"]
    params = dict(error.get("ctx") or {})
    if kind in ("too_short", "too_long") and isinstance(error.get("input"), str):
        # A length limit on a string with validators of its own is checked generically.
        kind = f"string_{kind}"
    if kind == "string_too_short" and params.get("min_length") == 1:
        kind = "empty"
    if kind in ("literal_error", "enum"):
        params = {"expected": _choices(str(params.get("expected", "")))}
    template = TEMPLATES.get(kind, FALLBACK)
    used = {name: params[name] for name in re.findall(r"{(\w+)}", template) if name in params}
    return Message(template, used)


def field_name(loc: tuple[int | str, ...]) -> str:
    """`("products", 0, "quantity")` -> "products.0.quantity"; the body itself is "body"."""
    name = ".".join(str(part) for part in loc) or "body"
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def field_errors(error: ValidationError, *, top_level: bool = False) -> dict[str, Message]:
    """Every offending field with its phrase (the first one per field), in input order.

    `top_level` names nested errors by their top field, as a form shows them.
    """
    fields: dict[str, Message] = {}
    for item in error.errors(include_url=False):
        loc = item["loc"][:1] if top_level else item["loc"]
        fields.setdefault(field_name(loc), message(item))
    return fields


MORE = N_("and {count} more")


def summary(fields: Mapping[str, object], more: str = MORE, total: int | None = None) -> str:
    """One line naming each bad field: "price: must be greater than 0; title: is required".

    `more` is the template for the problems left unnamed (translated by the caller), of
    `total` when `fields` lists only some of them."""
    parts = [f"{name}: {text}" for name, text in list(fields.items())[:MAX_LISTED]]
    hidden = (len(fields) if total is None else total) - len(parts)
    if hidden > 0:
        parts.append(more.format(count=hidden))
    return "; ".join(parts)
