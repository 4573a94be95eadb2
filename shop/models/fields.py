"""Input types shared by the aggregates' input models.

Every input model is strict: wrong types, unknown fields and out-of-range values are refused
before anything reaches a store.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

OBJECT_ID = re.compile(r"[0-9a-f]{24}")


def _no_operator(value: str) -> str:
    if value.startswith("$"):
        raise ValueError("must not start with '$'")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate ("\ud800") is valid JSON but no store can keep it.
        raise ValueError("must be valid text") from None
    return value


Text = Annotated[StrictStr, AfterValidator(_no_operator)]
ObjectIdStr = Annotated[StrictStr, Field(pattern=r"^[0-9a-fA-F]{24}$")]
PositiveInt = Annotated[StrictInt, Field(ge=1)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def describe(error: ValidationError) -> str:
    """One readable line naming the first offending field."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "is not an accepted field"
    elif first["type"] == "missing":
        message = "is required"
    return f"{where}: {message}"
