"""Throttling password and token guesses without handing anyone a lockout weapon.

A failed password (at login, or to confirm a password change: one secret, one budget) is
counted three ways:

- per account and address together: a handful (5), so one client cannot guess on;
- per address, over every account: a much higher ceiling (100), since many people share
  an address behind a proxy;
- per account, from every address: a ceiling (50) against guessing spread over addresses.

So failures from one address never lock anybody else out: a right password from an address
that has not failed keeps working until the account's own ceiling. Bearer-token guesses are
counted per address.

The counts live in a ThrottleStore (the shop's store by default, so every process sees
them; a Redis backend implements the same protocol). A login costs one read of the three
windows, plus one write when it fails (or when it succeeds after failures from its address).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from shop.errors import TooManyRequests
from shop.i18n import N_
from shop.store.throttle import ThrottleStore, Window


@dataclass(frozen=True, slots=True)
class Limits:
    per_account_and_address: int = 5
    per_address: int = 100
    per_account: int = 50
    window: float = 15 * 60


@dataclass(frozen=True, slots=True)
class Attempt:
    """One password check: its three keys, and their windows when it began."""

    keys: tuple[str, str, str]
    windows: tuple[Window, ...]

    @property
    def pair_failed(self) -> bool:
        return self.windows[0].count > 0


# What each refusal says when the wait is a minute at most, and when it is longer.
FAILED_ATTEMPTS = (
    N_("too many failed attempts; try again in a minute"),
    N_("too many failed attempts; try again in {minutes} minutes"),
)
INVALID_TOKENS = (
    N_("too many invalid tokens; try again in a minute"),
    N_("too many invalid tokens; try again in {minutes} minutes"),
)


def _refusal(templates: tuple[str, str], wait: float) -> TooManyRequests:
    seconds = max(1, math.ceil(wait))
    minutes = math.ceil(seconds / 60)
    if minutes <= 1:
        return TooManyRequests(templates[0], retry_after=seconds)
    return TooManyRequests(templates[1], retry_after=seconds, minutes=minutes)


class Throttle:
    # Bearer guesses blocked here, by address, until a time: see check_token.
    MAX_BLOCKED = 10_000

    def __init__(self, backend: ThrottleStore, limits: Limits) -> None:
        self._backend = backend
        self._limits = limits
        self._password_limits = (
            limits.per_account_and_address,
            limits.per_address,
            limits.per_account,
        )
        self._blocked: dict[str, float] = {}

    async def purge(self, now: float) -> int:
        """Delete the windows that have passed (a backend that expires them answers 0)."""
        return await self._backend.purge(now)

    # ---- passwords ---------------------------------------------------------------------

    async def check_password(self, email: str, address: str) -> Attempt:
        """Before checking a password: TooManyRequests while any of its counts is full."""
        keys = (f"pw:{email}|{address}", f"pw-address:{address}", f"pw-account:{email}")
        now = time.time()
        windows = tuple(await self._backend.counts(keys, now))
        waits = [
            window.reset_at - now
            for window, limit in zip(windows, self._password_limits, strict=True)
            if window.count >= limit
        ]
        if waits:
            raise _refusal(FAILED_ATTEMPTS, max(waits))
        return Attempt(keys, windows)

    async def password_failed(self, attempt: Attempt) -> None:
        await self._backend.hit(attempt.keys, time.time(), self._limits.window)

    async def password_passed(self, attempt: Attempt) -> None:
        """The right password: this address's failures on this account are forgiven (the
        address and account counts stay: they guard against others)."""
        if attempt.pair_failed:
            await self._backend.clear(attempt.keys[0])

    # ---- bearer tokens -----------------------------------------------------------------

    def check_token(self, address: str) -> None:
        """Before looking a token up: TooManyRequests while this address is blocked.

        Checked in this process's memory, so a good token costs no extra store call. An
        address is blocked here when its own failure fills the shared count; another
        process learns it at the address's next failure there, so a guesser gets at most
        one extra guess per process.
        """
        until = self._blocked.get(address)
        if until is None:
            return
        wait = until - time.time()
        if wait <= 0:
            del self._blocked[address]
            return
        raise _refusal(INVALID_TOKENS, wait)

    async def token_failed(self, address: str) -> None:
        """Count a wrong token. The one that fills the address's count blocks it here;
        those past it (sent to another process meanwhile) are TooManyRequests."""
        now = time.time()
        (window,) = await self._backend.hit([f"token:{address}"], now, self._limits.window)
        if window.count >= self._limits.per_address:
            self._block(address, window.reset_at, now)
        if window.count > self._limits.per_address:
            raise _refusal(INVALID_TOKENS, window.reset_at - now)

    def _block(self, address: str, until: float, now: float) -> None:
        if len(self._blocked) >= self.MAX_BLOCKED:
            for key in [key for key, when in self._blocked.items() if when <= now]:
                del self._blocked[key]
            if len(self._blocked) >= self.MAX_BLOCKED:
                del self._blocked[next(iter(self._blocked))]
        self._blocked[address] = until
