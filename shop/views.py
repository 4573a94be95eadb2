"""Templates: the Jinja2 environment the pages render with, and rendering in the layout.

The layout's context comes from the context processors kept under aiohttp_jinja2's
`APP_CONTEXT_PROCESSORS_KEY`. They run here, at render time, rather than in
aiohttp_jinja2's middleware: that middleware stores under a string request key (a
`NotAppKeyWarning`) and would run, popping flashes and querying the cart, on every API,
static and websocket request too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from jinja2.runtime import Context

from shop.i18n.languages import Language
from shop.models.messages import Message
from shop.models.money import Cents
from shop.models.products import LOW_STOCK

type ContextProcessor = Callable[[web.Request], Awaitable[dict[str, Any]]]


def _language(context: Context) -> Language:
    language = context.get("language")
    if not isinstance(language, Language):
        raise RuntimeError("a page rendered without its language (shop.views.render sets it)")
    return language


@jinja2.pass_context
def _gettext(context: Context, message: str) -> str:
    return _language(context).gettext(message)


@jinja2.pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _language(context).ngettext(singular, plural, n)


@jinja2.pass_context
def money(context: Context, cents: Cents) -> str:
    """An amount in the shop's currency, as the page's language writes it."""
    return _language(context).money(cents)


@jinja2.pass_context
def number(context: Context, value: int) -> str:
    """A count as the page's language writes it ("100,000" or "100.000")."""
    return _language(context).number(value)


@jinja2.pass_context
def moment(context: Context, value: datetime) -> str:
    """A date and time to the minute, in UTC, as the page's language writes it."""
    return _language(context).moment(value)


@jinja2.pass_context
def message(context: Context, text: Message | str) -> str:
    """A message kept apart from its parameters (a form error), translated and filled in."""
    return _language(context).message(text)


def amount(cents: Cents) -> str:
    """An amount for a script to read (`data-` attributes): "1499.99", never localised."""
    return f"{cents / 100:.2f}"


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
    # Every page's text is wrapped in _() (or {% trans %}), translated into the language
    # each page is rendered in (its context's `language`).
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    environment.globals["low_stock"] = LOW_STOCK
    environment.filters.update(
        money=money, number=number, moment=moment, message=message, amount=amount
    )
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
