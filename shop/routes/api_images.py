"""/api/products/:pid/images: admins upload, remove and reorder a product's images."""

from __future__ import annotations

from aiohttp import web

from shop.bodies import upload
from shop.errors import Invalid
from shop.i18n import N_
from shop.keys import IMAGES
from shop.models.images import ImageOrder
from shop.models.users import Role
from shop.routes.common import path_id, read_json, success
from shop.routes.multipart import read_file_field
from shop.security import requires
from shop.service.imaging import MAX_BYTES

routes = web.RouteTableDef()

FIELD = "image"
# The file, plus room for the multipart framing around it.
MAX_BODY = MAX_BYTES + 64 * 1024


@routes.post("/api/products/{pid}/images")
@requires(Role.ADMIN)
@upload("multipart/form-data", max_size=MAX_BODY)
async def upload_image(request: web.Request) -> web.Response:
    pid = path_id(request, "pid")
    data = await read_file_field(request, FIELD, MAX_BYTES)
    product, url = await request.app[IMAGES].add(pid, data)
    response = success(product.to_json(), status=201)
    response.headers["Location"] = url
    return response


@routes.put("/api/products/{pid}/images")
@requires(Role.ADMIN)
async def reorder_images(request: web.Request) -> web.Response:
    pid = path_id(request, "pid")
    body = await read_json(request, ImageOrder)
    product = await request.app[IMAGES].reorder(pid, body.order)
    return success(product.to_json())


@routes.delete("/api/products/{pid}/images/{n}")
@requires(Role.ADMIN)
async def remove_image(request: web.Request) -> web.Response:
    pid = path_id(request, "pid")
    raw = request.match_info["n"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
        raise Invalid(N_("n: must be an image's position, a whole number from 0"))
    product = await request.app[IMAGES].remove(pid, int(raw))
    return success(product.to_json())
