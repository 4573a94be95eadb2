"""Money as integer cents: exact sums, no binary-float drift.

Amounts enter as JSON numbers (read as Decimal, so `0.1` stays exactly one tenth), are
kept and added as cents, and leave as JSON numbers again.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from shop.models.messages import refuse

type Cents = int

CENT = Decimal("0.01")
MAX_AMOUNT = 1_000_000_000
MAX_AMOUNT_CENTS = MAX_AMOUNT * 100


def to_amount(cents: Cents) -> float:
    """Cents as the JSON number the API shows (30 -> 0.3: the nearest double prints exactly)."""
    return cents / 100


def to_cents(value: object) -> Cents:
    """A number with at most two decimals as cents; a validation error saying what is wrong.

    Accepts int, Decimal (how JSON bodies are read) and float (taken by its shortest
    repr); refuses text, bool, NaN, infinities and sub-cent amounts.
    """
    if isinstance(value, bool):
        raise refuse("number")
    if isinstance(value, int):
        if abs(value) > MAX_AMOUNT:
            raise refuse("less_than_equal", le=MAX_AMOUNT)
        return value * 100
    if isinstance(value, float):
        value = Decimal(repr(value))
    if not isinstance(value, Decimal):
        raise refuse("number")
    if not value.is_finite():
        raise refuse("finite_number")
    if abs(value) > MAX_AMOUNT:
        raise refuse("less_than_equal", le=MAX_AMOUNT)
    if value != value.quantize(CENT, rounding="ROUND_DOWN"):
        raise refuse("cents")
    return int(value * 100)


def to_text(cents: Cents) -> str:
    """Cents as the plain decimal a form field holds ("12.50"), which from_text reads back."""
    return f"{Decimal(cents) / 100:.2f}"


def from_text(raw: str) -> Decimal | str:
    """A form's decimal text as a number, or the text itself for the model to refuse.

    Accepts a decimal comma too ("12,50"), as people in Argentina write amounts.
    """
    text = raw.strip().replace(",", ".", 1) if raw.count(",") == 1 else raw.strip()
    if not text or len(text) > 20:
        return raw
    try:
        number = Decimal(text)
    except InvalidOperation:
        return raw
    return number if number.is_finite() else raw


def _cents_input(value: Any) -> Cents:
    return to_cents(value)


# An amount in the API (a JSON number with at most two decimals) held as cents in Python.
Amount = Annotated[
    int,
    BeforeValidator(_cents_input),
    PlainSerializer(to_amount, return_type=float),
    WithJsonSchema(
        {"type": "number", "multipleOf": 0.01, "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT}
    ),
]
