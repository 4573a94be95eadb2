"""Money, numbers and dates as Babel writes them for a locale.

Babel's currency formatting costs about 60 us an amount, which a page of 100 product cards
would pay 100 times. `MoneyFormat` asks Babel once how the locale writes the shop's
currency (what comes before and after the number, the separators, the grouping) and then
writes amounts itself; the tests compare it with Babel on many amounts, and the page
scripts get the same parts so that a live price reads like the server's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.core import get_global
from babel.dates import format_datetime, get_datetime_format
from babel.numbers import format_decimal, get_currency_precision

# A sample whose every digit differs, so the number is found in Babel's answer unambiguously.
_SAMPLE = Decimal("1234567.89")


@lru_cache(maxsize=1)
def _legal_tender() -> frozenset[str]:
    """The currencies some country pays in today (not gold, nor the test code XXX)."""
    return frozenset(
        code
        for currencies in get_global("territory_currencies").values()
        for code, _start, end, tender in currencies
        if end is None and tender
    )


def is_two_decimal_currency(code: str) -> bool:
    """True for an ISO 4217 code (upper case) of a currency paid in today, with two
    decimals."""
    return code in _legal_tender() and get_currency_precision(code) == 2


@dataclass(frozen=True, slots=True)
class MoneyParts:
    """How a locale writes an amount of a currency: prefix, grouped number, suffix."""

    prefix: str
    suffix: str
    decimal: str
    group: str
    grouping: tuple[int, int]  # the first group's size, then every other one's


class MoneyFormat:
    """Amounts in cents written for one locale and one two-decimal currency."""

    def __init__(self, locale: Locale, currency: str) -> None:
        self.locale = locale
        self.currency = currency
        self._pattern = locale.currency_formats["standard"]
        self.parts = self._find_parts()

    def _babel(self, amount: Decimal) -> str:
        return self._pattern.apply(amount, self.locale, currency=self.currency)

    def _find_parts(self) -> MoneyParts | None:
        symbols = self.locale.number_symbols.get("latn", {})
        decimal, group = symbols.get("decimal", "."), symbols.get("group", ",")
        grouping = self._pattern.grouping
        parts = MoneyParts("", "", decimal, group, (grouping[0], grouping[1]))
        sample = self._babel(_SAMPLE)
        number = _digits(_SAMPLE, parts)
        before, found, after = sample.partition(number)
        if not found:
            return None  # a pattern this shortcut does not know: Babel writes every amount
        return MoneyParts(before, after, decimal, group, parts.grouping)

    def __call__(self, cents: int) -> str:
        amount = Decimal(cents).scaleb(-2)
        if self.parts is None or cents < 0:
            return self._babel(amount)
        return f"{self.parts.prefix}{_digits(amount, self.parts)}{self.parts.suffix}"


def _digits(amount: Decimal, parts: MoneyParts) -> str:
    """A non-negative amount with two decimals, grouped: 1234567.89 -> "1.234.567,89"."""
    whole, _, fraction = f"{amount:.2f}".partition(".")
    first, other = parts.grouping
    groups = [whole[-first:]] if len(whole) > first else [whole]
    rest = whole[:-first] if len(whole) > first else ""
    while rest:
        groups.insert(0, rest[-other:])
        rest = rest[:-other]
    return f"{parts.group.join(groups)}{parts.decimal}{fraction}"


def number(value: int, locale: Locale) -> str:
    """A count as the locale writes it: 100000 -> "100,000" or "100.000"."""
    return format_decimal(value, locale=locale)


@dataclass(frozen=True, slots=True)
class MomentParts:
    """How a locale writes a date and time to the minute, for the page scripts to write it
    the same way: the CLDR pattern (a medium date and a short time, joined as the locale
    joins them), the abbreviated months from January, and the AM and PM marks."""

    pattern: str
    months: tuple[str, ...]
    periods: tuple[str, str]


@lru_cache(maxsize=16)
def moment_parts(locale: Locale) -> MomentParts:
    date = locale.date_formats["medium"].pattern
    time = locale.time_formats["short"].pattern
    joined = get_datetime_format("medium", locale=locale).replace("{1}", date).replace("{0}", time)
    months = locale.months["format"]["abbreviated"]
    periods = locale.day_periods["format"]["abbreviated"]
    return MomentParts(
        joined, tuple(months[n] for n in range(1, 13)), (periods["am"], periods["pm"])
    )


def moment(value: datetime, locale: Locale) -> str:
    """A date and time to the minute, in UTC: "Jan 5, 2025, 3:04 PM UTC"."""
    pattern = moment_parts(locale).pattern
    return f"{format_datetime(value.astimezone(UTC), pattern, tzinfo=UTC, locale=locale)} UTC"
