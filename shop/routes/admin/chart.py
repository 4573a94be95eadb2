"""The dashboard's revenue chart, drawn on the server: bar geometry for an inline SVG.

The template draws what this computes (no script, nothing but our own stylesheet, so the
CSP holds); the page gives the same figures as a text summary and a table. Dates and
amounts are written by Babel in the reader's language ("Jan 5" and "1,000"; "5 ene" and
"1.000").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal

from shop.models.reports import DaySales

WIDTH, HEIGHT = 720, 280
# Room for the labels: amounts on the right (a narrow screen shows the chart's latest
# days first, and the amounts with them), dates below.
LEFT, RIGHT, TOP, BOTTOM = 12, 64, 16, 36
TICKS = 4  # horizontal lines above zero
LABEL_EVERY = 5  # days between date labels, counted back from today


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: DaySales
    label: str  # the day, as its date label reads


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    cents: int
    text: str  # the amount in whole units of the currency, as the locale groups it


@dataclass(frozen=True, slots=True)
class DayLabel:
    x: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[DayLabel, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM


def day_label(day: date, locale: Locale) -> str:
    """A day as the locale writes a short date without the year: "Jan 5", "5 ene"."""
    return format_skeleton("MMMd", day, locale=locale)


def tick_step(top_cents: int) -> int:
    """A round step (1, 2 or 5 times a power of ten, a whole unit at least) that reaches
    `top_cents` in TICKS steps."""
    step = 100
    while step * TICKS < top_cents:
        for factor in (2, 2.5, 2):  # 1 -> 2 -> 5 -> 10
            step = int(step * factor)
            if step * TICKS >= top_cents:
                break
    return step


def revenue_chart(days: Sequence[DaySales], locale: Locale) -> Chart:
    step = tick_step(max((day.revenue_cents for day in days), default=0))
    top = step * TICKS
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = HEIGHT - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    width = slot * 0.7

    def y_of(cents: int) -> float:
        return baseline - plot_height * cents / top

    bars = tuple(
        Bar(
            x=round(LEFT + slot * n + (slot - width) / 2, 1),
            y=round(y_of(day.revenue_cents), 1),
            width=round(width, 1),
            height=round(baseline - y_of(day.revenue_cents), 1),
            day=day,
            label=day_label(day.day, locale),
        )
        for n, day in enumerate(days)
    )
    labelled = range(len(days) - 1, -1, -LABEL_EVERY)
    return Chart(
        bars=bars,
        ticks=tuple(
            Tick(
                round(y_of(step * n), 1), step * n, format_decimal(step * n // 100, locale=locale)
            )
            for n in range(TICKS + 1)
        ),
        labels=tuple(
            DayLabel(round(LEFT + slot * n + slot / 2, 1), day_label(days[n].day, locale))
            for n in sorted(labelled)
        ),
    )
