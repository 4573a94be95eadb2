"""Input types shared by the aggregates' input models.

Every input model is strict: wrong types, unknown fields and out-of-range values are refused
before anything reaches a store. Every string refuses control characters (a NUL makes
`alice@x.test\\0` a second account that looks like alice's; CR and LF forge lines in
whatever shows the text) and text no store can keep (a lone surrogate); only multi-line
text keeps its newlines and tabs.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
)

from shop.models.messages import refuse

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
# What each kind of string may hold, as regular expressions that mean the same in Python
# and in the API document's JSON Schema (ECMA-262): the validators below test them, the
# document shows them (`pattern`).
CONTROL = r"\x00-\x1f\x7f-\x9f"
LINE_PATTERN = rf"^[^{CONTROL}]*$"
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
TEXT_PATTERN = rf"^(?:[^${CONTROL}][^{CONTROL}]*)?$"
OBJECT_ID_PATTERN = r"^[0-9a-fA-F]{24}$"
_CONTROL = re.compile(rf"[{CONTROL}]")
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _encodable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate ("\ud800") is valid JSON but no store can keep it.
        raise refuse("unencodable") from None
    return value


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise refuse("control_characters")
    return _encodable(value)


def _multi_line(value: str) -> str:
    if _CONTROL_BUT_LAYOUT.search(value):
        raise refuse("control_characters")
    return _encodable(value)


def _no_operator(value: str) -> str:
    if value.startswith("$"):
        raise refuse("operator")
    return value


def _object_id(value: str) -> str:
    if not OBJECT_ID.fullmatch(value.lower()):
        raise refuse("object_id")
    return value


# Beyond any limit the shop has: a bigger whole number is refused by its range check
# without ever being built (a "1e99999999" in a body must not cost a 100-MB integer).
_HUGE = 10**18


def _whole_number(value: object) -> object:
    # JSON (and JSON Schema) count 2.0 as an integer: the body is read with Decimal, so
    # a whole Decimal becomes an int; a fraction, text or bool stays and is refused.
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value) if abs(value) <= _HUGE else _HUGE * (1 if value > 0 else -1)
    return value


def documented(pattern: str) -> Any:
    """A pattern the document shows for a string its validators check."""
    return Field(json_schema_extra={"pattern": pattern})


# Any string a client sends: one line, no control characters.
Line = Annotated[StrictStr, AfterValidator(_single_line), documented(LINE_PATTERN)]
# Text with newlines and tabs (a description).
MultilineText = Annotated[StrictStr, AfterValidator(_multi_line), documented(MULTILINE_PATTERN)]
# A name or label that also reaches queries: never an operator.
Text = Annotated[Line, AfterValidator(_no_operator), documented(TEXT_PATTERN)]


def whole_number(ge: int, le: int) -> Any:
    """A whole number from `ge` to `le`: an int, or a number written with a zero fraction
    (`2.0`). The bounds go before the conversion, so the document shows them."""
    return Annotated[StrictInt, Field(ge=ge, le=le), BeforeValidator(_whole_number)]


ObjectIdStr = Annotated[StrictStr, AfterValidator(_object_id), documented(OBJECT_ID_PATTERN)]


def typed_whole_number(raw: str) -> int | str:
    """Typed-in digits (a CSV cell) as an int; anything else stays a string for the
    model to refuse."""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        return int(raw)
    return raw


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
