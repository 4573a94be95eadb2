"""Counters of failed attempts (logins, password checks, token guesses), in fixed windows.

The backend protocol of `shop.service.throttle`: the store implements it by default (so
every process of a shop shares the counts), and a Redis client may implement it too (a
window is then INCR plus an expiry). A key's window opens at its first failure and lasts
`window` seconds; once it has passed, the next failure opens a new one at one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Window:
    """Failures counted for one key, and when they are forgotten (a Unix time)."""

    count: int = 0
    reset_at: float = 0.0


class ThrottleStore(Protocol):
    async def counts(self, keys: Sequence[str], now: float) -> list[Window]:
        """The live window of each key, in order (count 0 when it has none)."""

    async def hit(self, keys: Sequence[str], now: float, window: float) -> list[Window]:
        """Count one failure against each key; answer each key's window after it."""

    async def clear(self, key: str) -> None:
        """Forget a key's failures (a success proved the client right)."""

    async def purge(self, now: float) -> int:
        """Delete windows that have passed; return how many."""
