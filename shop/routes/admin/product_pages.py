"""/admin/products/new and /admin/products/:pid: the product form (create, edit), and
deleting a product through a confirmation page. Every form is a plain POST with the CSRF
token that answers with a redirect and a flash, or the form again with its errors."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from shop.bodies import form
from shop.errors import Conflict, NotFound
from shop.i18n import N_
from shop.i18n.negotiation import language_of
from shop.keys import PRODUCTS
from shop.models.messages import Message
from shop.models.products import MAX_THUMBNAILS, Product
from shop.models.users import Role
from shop.routes.admin import product_fields as fields
from shop.routes.admin.access import admin_poster
from shop.routes.common import path_id
from shop.routes.forms import FormErrors, field_error, read_form
from shop.routes.layout import flash
from shop.security import requires
from shop.service.imaging import MAX_BYTES
from shop.views import render

routes = web.RouteTableDef()

LIST = "/admin/products"
QUOTED = 80  # the most of another change's text a conflict message quotes


def edit_path(pid: str) -> str:
    return f"/admin/products/{pid}"


async def product_page(
    request: web.Request,
    product: Product | None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, Message | str] | None = None,
    *,
    seen: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The product form: a new product's (`product` None) or an existing one's, with its
    images. `values` are the form's text (the product's own by default); `seen`, the
    hidden record of what the admin saw, is the product as it is now unless given (a
    form refused for its mistakes keeps what it had: a conflict shown again after the
    admin saw the other change is saved over it)."""
    categories = await request.app[PRODUCTS].categories(include_hidden=True)
    context = {
        "product": product,
        "values": values
        if values is not None
        else fields.shown_to(product, language_of(request).decimal_mark),
        "errors": errors or {},
        "seen": seen if seen is not None else fields.seen_of(product) if product else {},
        "categories": [category.name for category in categories],
        "max_images": MAX_THUMBNAILS,
        "max_image_bytes": MAX_BYTES,
        "max_image_mb": MAX_BYTES // 2**20,
    }
    return await render("admin/product_form.html", request, context, status=status)


@routes.get("/admin/products/new", name="admin_new_product")
@requires(Role.ADMIN)
async def new_product(request: web.Request) -> web.Response:
    return await product_page(request, None)


@routes.post("/admin/products/new")
@form
async def create_product(request: web.Request) -> web.Response:
    admin_poster(request, "/admin/products/new")
    values = fields.posted(await read_form(request))
    try:
        product = await request.app[PRODUCTS].create(fields.product_input(values))
    except FormErrors as exc:
        return await product_page(request, None, values, exc.errors, status=400)
    except Conflict as exc:  # the code is taken
        errors = field_error(exc, fields.FIELDS, "code")
        return await product_page(request, None, values, errors, status=409)
    flash(request, N_("{title} is created. Now add its images."), "success", title=product.title)
    raise web.HTTPSeeOther(location=edit_path(product.id))


@routes.get("/admin/products/{pid}", name="admin_product")
@requires(Role.ADMIN)
async def edit_product(request: web.Request) -> web.Response:
    product = await request.app[PRODUCTS].get(path_id(request, "pid"))
    return await product_page(request, product)


@routes.post("/admin/products/{pid}")
@form
async def save_product(request: web.Request) -> web.Response:
    pid = path_id(request, "pid")
    admin_poster(request, edit_path(pid))
    form = await read_form(request)
    values, seen = fields.posted(form), fields.posted_seen(form)
    try:
        data = fields.product_input(values)
        product, changed = await request.app[PRODUCTS].edit(
            pid, lambda current: fields.patch_for(form, data, current)
        )
    except FormErrors as exc:
        current = await still_there(request, pid)
        return await product_page(request, current, values, exc.errors, seen=seen, status=400)
    except fields.EditConflict as exc:
        errors = {name: _changed_meanwhile(name, v) for name, v in exc.conflicts.items()}
        errors["form"] = _edited_meanwhile(form.get(fields.VERSION), exc.current.version)
        return await product_page(request, exc.current, values, errors, status=409)
    except Conflict as exc:  # the code is taken, or the product keeps changing
        current = await still_there(request, pid)
        errors = field_error(exc, fields.FIELDS, "form")
        return await product_page(request, current, values, errors, seen=seen, status=409)
    except NotFound:
        raise _gone(request) from None
    if changed:
        flash(request, N_("{title} is saved."), "success", title=product.title)
    else:
        flash(request, N_("Nothing to save: no field was changed."))
    raise web.HTTPSeeOther(location=edit_path(pid))


def _edited_meanwhile(then: str | None, now: int) -> Message:
    """Above a form with conflicts: what happened, and what saving again does (the page
    translates it, then fills it in)."""
    if then is None or not then.isdigit():
        return Message(
            N_(
                "This product was changed elsewhere since you opened it: the fields changed"
                " on both sides are marked. Save again to keep yours."
            )
        )
    return Message(
        N_(
            "This product was changed elsewhere since you opened it (version {then}, now"
            " {now}): the fields changed on both sides are marked. Save again to keep yours."
        ),
        {"then": then, "now": now},
    )


def _changed_meanwhile(name: str, now: str) -> Message:
    """A conflict next to its field: what the field holds now."""
    if name == "status":
        if now == fields.ON:
            return Message(N_("was put on sale meanwhile: save again to take it off sale"))
        return Message(N_("was taken off sale meanwhile: save again to put it on sale"))
    if len(now) > QUOTED:
        now = now[: QUOTED - 1] + "…"
    return Message(N_("was changed meanwhile to “{now}”: save again to replace it"), {"now": now})


@routes.get("/admin/products/{pid}/delete", name="admin_delete_product")
@requires(Role.ADMIN)
async def confirm_delete(request: web.Request) -> web.Response:
    product = await request.app[PRODUCTS].get(path_id(request, "pid"))
    return await render("admin/product_delete.html", request, {"product": product})


@routes.post("/admin/products/{pid}/delete")
@form
async def delete_product(request: web.Request) -> web.Response:
    pid = path_id(request, "pid")
    admin_poster(request, f"{edit_path(pid)}/delete")
    await read_form(request)
    product = await still_there(request, pid)
    try:
        await request.app[PRODUCTS].delete(pid)
    except NotFound:
        raise _gone(request) from None
    flash(request, N_("{title} is deleted."), "success", title=product.title)
    raise web.HTTPSeeOther(location=LIST)


async def still_there(request: web.Request, pid: str) -> Product:
    """The product, or back to the list saying it was deleted meanwhile."""
    try:
        return await request.app[PRODUCTS].get(pid)
    except NotFound:
        raise _gone(request) from None


def _gone(request: web.Request) -> web.HTTPSeeOther:
    # Deleted by someone else while its form was open: nothing is left to change.
    flash(request, N_("That product was deleted meanwhile."), "error")
    return web.HTTPSeeOther(location=LIST)
