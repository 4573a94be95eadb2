"""Templates: the Jinja2 environment the pages render with, and rendering in the layout.

The layout's context comes from the context processors kept under aiohttp_jinja2's
`APP_CONTEXT_PROCESSORS_KEY`. They run here, at render time, rather than in
aiohttp_jinja2's middleware: that middleware stores under a string request key (a
`NotAppKeyWarning`) and would run, popping flashes and querying the cart, on every API,
static and websocket request too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from shop.models.money import Cents

type ContextProcessor = Callable[[web.Request], Awaitable[dict[str, Any]]]


def money(cents: Cents) -> str:
    """An amount for a page: cents as a number with two decimals."""
    return f"{cents / 100:.2f}"


def moment(value: datetime) -> str:
    """A date and time for a page, in UTC to the minute."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def setup_templates(
    app: web.Application, directory: Path, processors: tuple[ContextProcessor, ...]
) -> jinja2.Environment:
    """Autoescaped templates with gettext (`_()`) and the shop's filters."""
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
    )
    # Every page's text is wrapped in _() (or {% trans %}); without catalogues it reads as
    # written, in English.
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    environment.filters["money"] = money
    environment.filters["moment"] = moment
    app[aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY] = processors
    return environment


async def render(
    template: str, request: web.Request, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """Like aiohttp_jinja2.render_template; the page's own values win over the layout's."""
    merged: dict[str, Any] = {}
    for processor in request.config_dict.get(aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY, ()):
        merged.update(await processor(request))
    merged.update(context)
    return aiohttp_jinja2.render_template(template, request, merged, status=status)
