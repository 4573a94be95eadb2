"""The header's language switch, and the page scripts' words in each language.

The switch is a plain link: `GET /language/<tag>?next=<page>` sets the preference cookie
and goes back to the page. It changes nothing on the server (the cookie is the reader's
own preference), so a GET is right, and it works for anonymous visitors without any
session.
"""

from __future__ import annotations

from aiohttp import web

from shop.errors import NotFound
from shop.i18n import N_
from shop.i18n.negotiation import COOKIE, COOKIE_MAX_AGE
from shop.keys import LANGUAGES, SCRIPT_TEXTS, SETTINGS
from shop.routes.forms import local_path
from shop.routes.query import Query

routes = web.RouteTableDef()

HOME = "/products"
MAX_NEXT = 2000
# The scripts' words change only with the catalogues; their address says which version.
SCRIPT_CACHE = "public, max-age=31536000, immutable"


@routes.get("/language/{tag}", name="language")
async def switch(request: web.Request) -> web.Response:
    chosen = request.app[LANGUAGES].match(request.match_info["tag"])
    params = Query(request, frozenset({"next"}))
    target = local_path(params.text("next", MAX_NEXT), HOME)
    params.check()
    if chosen is None:
        raise NotFound(N_("this shop has no such language"))
    response = web.HTTPSeeOther(location=target)
    response.set_cookie(
        COOKIE,
        chosen.tag,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.app[SETTINGS].https,
    )
    raise response


@routes.get("/i18n/{tag}.js", name="script_texts")
async def script_texts(request: web.Request) -> web.Response:
    params = Query(request, frozenset({"v"}))
    version = params.text("v", 64)
    params.check()
    script = request.app[SCRIPT_TEXTS].get(request.match_info["tag"])
    if script is None:
        raise NotFound(N_("not found"))
    cache = SCRIPT_CACHE if version == script.version else "no-cache"
    return web.Response(
        body=script.source,
        content_type="text/javascript",
        charset="utf-8",
        headers={"Cache-Control": cache, "ETag": f'"{script.version}"'},
    )
