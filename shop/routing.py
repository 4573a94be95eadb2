"""How API paths resolve beyond aiohttp's rules.

- A trailing slash is served by the same handler as without it: `/api/products/` answers
  as `/api/products` does (Express's default), not with a redirect that a script may not
  follow, nor a 404. A resource registered after every route catches what no route
  matched under /api/ and resolves it again without the trailing slashes.
- A fixed path's other methods are 405: `PUT /api/products/export` is not a change of a
  product whose id is "export" (aiohttp would go on to `/api/products/{pid}`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import (
    AbstractResource,
    AbstractRoute,
    MatchInfoError,
    PlainResource,
    _InfoDict,
    _Resolve,
)
from yarl import URL


class _Routeless(AbstractResource):
    """A resource that answers from other resources: it owns no route, builds no URL."""

    def url_for(self, **kwargs: str) -> URL:
        raise NotImplementedError(f"{type(self).__name__} builds no URLs")

    def raw_match(self, path: str) -> bool:
        return False

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(())


class TrailingSlashes(_Routeless):
    """Resolves `<prefix>/.../` like `<prefix>/...`."""

    def __init__(self, router: web.UrlDispatcher, prefix: str = "/api") -> None:
        super().__init__()
        self._router = router
        self._prefix = prefix

    @property
    def canonical(self) -> str:
        return self._prefix

    def add_prefix(self, prefix: str) -> None:
        self._prefix = prefix + self._prefix

    def get_info(self) -> _InfoDict:
        return {"prefix": self._prefix}

    async def resolve(self, request: web.Request) -> _Resolve:
        path = request.rel_url.path
        trimmed = path.rstrip("/")
        if trimmed == path or not trimmed.startswith(self._prefix + "/"):
            return None, set()
        match: Any = await self._router.resolve(
            request.clone(rel_url=request.rel_url.with_path(trimmed))
        )
        if match.http_exception is None:
            return match, set()
        # A path that exists for other methods: its 405 (with Allow) is the right answer.
        return None, set(getattr(match.http_exception, "allowed_methods", ()))


def serve_trailing_slashes(app: web.Application) -> None:
    """Add the fallback; call it after every route is added."""
    app.router.register_resource(TrailingSlashes(app.router))


class OtherMethods(_Routeless):
    """The methods a fixed path does not serve: 405 with its Allow, before any path with a
    `{placeholder}` that would match it too.

    `fixed` are the path's resources (routes added apart make one resource each); being
    registered after them, it is asked only when none of them serves the method."""

    def __init__(self, fixed: list[PlainResource]) -> None:
        super().__init__()
        self._fixed = fixed

    @property
    def canonical(self) -> str:
        return self._fixed[0].canonical

    def add_prefix(self, prefix: str) -> None:
        raise NotImplementedError("the guard of an application's own path")

    def get_info(self) -> _InfoDict:
        return {"path": self.canonical}

    async def resolve(self, request: web.Request) -> _Resolve:
        allowed: set[str] = set()
        for resource in self._fixed:
            match, methods = await resource.resolve(request)
            if match is not None:
                return match, methods
            allowed |= methods
        if not allowed:  # another path
            return None, set()
        return MatchInfoError(web.HTTPMethodNotAllowed(request.method, allowed)), set()


def refuse_other_methods(app: web.Application, prefix: str = "/api/") -> None:
    """Guard every fixed path under `prefix`; call it after every route is added."""
    by_path: dict[str, list[PlainResource]] = {}
    for resource in app.router.resources():
        if isinstance(resource, PlainResource) and resource.canonical.startswith(prefix):
            by_path.setdefault(resource.canonical, []).append(resource)
    for fixed in by_path.values():
        app.router.register_resource(OtherMethods(fixed))
