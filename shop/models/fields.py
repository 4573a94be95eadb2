"""Input types shared by the aggregates' input models.

Every input model is strict: wrong types, unknown fields and out-of-range values are refused
before anything reaches a store. Every string refuses control characters (a NUL makes
`alice@x.test\\0` a second account that looks like alice's; CR and LF forge lines in
whatever shows the text) and text no store can keep (a lone surrogate); only multi-line
text keeps its newlines and tabs.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr

from shop.models.messages import refuse

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
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


# Any string a client sends: one line, no control characters.
Line = Annotated[StrictStr, AfterValidator(_single_line)]
# Text with newlines and tabs (a description).
MultilineText = Annotated[StrictStr, AfterValidator(_multi_line)]
# A name or label that also reaches queries: never an operator.
Text = Annotated[Line, AfterValidator(_no_operator)]
ObjectIdStr = Annotated[StrictStr, AfterValidator(_object_id)]


def whole_number(raw: str) -> int | str:
    """Typed-in digits (a form, a CSV cell) as an int; anything else stays a string for the
    model to refuse."""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        return int(raw)
    return raw


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
