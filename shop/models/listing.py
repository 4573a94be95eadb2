"""One page of any listing, and the limits every listing shares."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class Page[T]:
    """One page of a listing; `total` counts every match, not just this page.

    A search counts its matches only up to a limit (shop.models.search.COUNT_LIMIT): past
    it `total` is that limit and `exact` False, and only that many matches are paged.
    """

    items: list[T]
    total: int
    page: int
    limit: int
    exact: bool = True

    @property
    def total_pages(self) -> int:
        return max(1, math.ceil(self.total / self.limit))

    def map[U](self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with each item converted (into what the API sends)."""
        items = [convert(item) for item in self.items]
        return Page(items, self.total, self.page, self.limit, exact=self.exact)
