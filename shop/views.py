"""Rendering a template inside the layout: the page's own context plus the layout's.

The layout's context comes from the context processors kept under aiohttp_jinja2's
`APP_CONTEXT_PROCESSORS_KEY`. They run here, at render time, rather than in
aiohttp_jinja2's middleware: that middleware stores under a string request key (a
`NotAppKeyWarning`) and would run, popping flashes and querying the cart, on every API,
static and websocket request too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web


async def render(
    template: str, request: web.Request, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """Like aiohttp_jinja2.render_template; the page's own values win over the layout's."""
    merged: dict[str, Any] = {}
    for processor in request.config_dict.get(aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY, ()):
        merged.update(await processor(request))
    merged.update(context)
    return aiohttp_jinja2.render_template(template, request, merged, status=status)
