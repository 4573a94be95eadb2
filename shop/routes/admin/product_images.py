"""The product form's images: upload one, move one up or down, remove one. Plain form
posts (the upload a multipart one, same-origin and within the image's size) that come
back to the form with a flash, or show the form again with the upload's error."""

from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web

from shop.bodies import form, upload
from shop.errors import Conflict, Invalid, NotFound, TooLarge
from shop.i18n import N_
from shop.keys import IMAGES, PRODUCTS
from shop.models.products import Product
from shop.routes.admin.access import admin_poster
from shop.routes.admin.product_pages import edit_path, product_page, still_there
from shop.routes.api_images import FIELD, MAX_BODY
from shop.routes.common import path_id
from shop.routes.forms import CSRF_FIELD, check_csrf, field_error, read_form
from shop.routes.layout import flash
from shop.routes.multipart import read_file_form
from shop.service.imaging import MAX_BYTES

routes = web.RouteTableDef()

MOVES = {"up": -1, "down": 1}


def _images(pid: str) -> str:
    return f"{edit_path(pid)}#images"


@routes.post("/admin/products/{pid}/images")
@upload("multipart/form-data", max_size=MAX_BODY)
async def upload_image(request: web.Request) -> web.Response:
    pid = path_id(request, "pid")
    admin_poster(request, edit_path(pid))
    try:
        texts, data = await read_file_form(request, FIELD, MAX_BYTES, (CSRF_FIELD,))
        check_csrf(request, texts.get(CSRF_FIELD))
        if data is None:
            raise Invalid(N_("image: choose a picture file to upload"))
        await request.app[IMAGES].add(pid, data)
    except (Invalid, TooLarge, Conflict) as exc:
        product = await request.app[PRODUCTS].get(pid)
        errors = field_error(exc, (FIELD,), FIELD)
        return await product_page(request, product, errors=errors, status=exc.status)
    flash(request, N_("The image is added."), "success")
    raise web.HTTPSeeOther(location=_images(pid))


@routes.post("/admin/products/{pid}/images/move")
@form
async def move_image(request: web.Request) -> web.Response:
    pid, url, posted = await _image_form(request)
    offset = MOVES.get(posted.get("direction", ""))
    if offset is None:
        raise Invalid(N_("direction: must be up or down"))
    moved = request.app[IMAGES].move(pid, url, offset)
    raise await _change(request, pid, moved, N_("The images are in their new order."))


@routes.post("/admin/products/{pid}/images/remove")
@form
async def remove_image(request: web.Request) -> web.Response:
    pid, url, _ = await _image_form(request)
    removed = request.app[IMAGES].remove_url(pid, url)
    raise await _change(request, pid, removed, N_("The image is removed."))


async def _image_form(request: web.Request) -> tuple[str, str, dict[str, str]]:
    """A form about one of the product's images: the product's id, the image's URL (as
    the page showed it) and the posted fields."""
    pid = path_id(request, "pid")
    admin_poster(request, edit_path(pid))
    posted = await read_form(request)
    return pid, posted.get("url", ""), posted


async def _change(
    request: web.Request, pid: str, change: Awaitable[Product], done: str
) -> web.HTTPSeeOther:
    """Make the change and go back to the images saying `done`; when the image it names
    is no longer there (another admin removed or replaced it), saying so instead."""
    try:
        await change
    except (NotFound, Conflict) as exc:
        await still_there(request, pid)
        message = N_("That image changed meanwhile: the images are shown as they are now.")
        flash(request, message if isinstance(exc, NotFound) else exc.message, "error")
    else:
        flash(request, done, "success")
    return web.HTTPSeeOther(location=_images(pid))
