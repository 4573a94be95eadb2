"""/media: the uploaded product images, served for as long as a product lists them.

A URL names its content (see `shop.models.images`), so browsers and proxies may keep an
answer for a year without asking again. The hourly sweep is started from here too.
"""

from __future__ import annotations

import logging

from aiohttp import web

from shop.keys import IMAGES
from shop.models.images import CONTENT_TYPE, FILE_PATTERN, PID_PATTERN
from shop.periodic import every

log = logging.getLogger("shop.images")
routes = web.RouteTableDef()

IMMUTABLE = "public, max-age=31536000, immutable"
SWEEP_INTERVAL = 3600.0


# Only names an upload can have match: nothing else (no "..", no other folder) gets here.
@routes.get(f"/media/{{pid:{PID_PATTERN}}}/{{file:{FILE_PATTERN}}}", name="media")
async def media(request: web.Request) -> web.Response:
    name = f"{request.match_info['pid']}/{request.match_info['file']}"
    data = await request.app[IMAGES].get(name)
    return web.Response(body=data, content_type=CONTENT_TYPE, headers={"Cache-Control": IMMUTABLE})


# cleanup_ctx: hourly, delete image files no product lists (see ImageService.sweep).
sweep_images = every(
    SWEEP_INTERVAL, lambda app: app[IMAGES].sweep(), log, "sweep unlisted image files"
)
