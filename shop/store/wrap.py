"""Passing every operation of a store's aggregates through a wrapper (timing, a breaker).

The aggregates are the attributes the Store protocol names (`products`, `carts`, ...), so
an aggregate added to the protocol is wrapped too. A wrapped aggregate answers like the
original: its public coroutine methods go through the wrapper, anything else passes on.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from shop.store.base import Store

type Method = Callable[..., Awaitable[Any]]
type Wrapper = Callable[[str, Method], Method]


class _Wrapped:
    def __init__(self, inner: object, name: str, wrap: Wrapper) -> None:
        self._inner = inner
        for attr, method in inspect.getmembers(inner, inspect.iscoroutinefunction):
            if not attr.startswith("_"):
                setattr(self, attr, wrap(f"{name}.{attr}", method))

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._inner, attr)


def wrap_aggregates(store: Store, wrap: Wrapper) -> None:
    """Replace each aggregate of `store` by one whose operations (named `carts.add`, ...)
    pass through `wrap(name, method)`."""
    for name in Store.__annotations__:
        setattr(store, name, _Wrapped(getattr(store, name), name, wrap))
