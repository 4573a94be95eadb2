"""/admin/users: the accounts, searched by name or email and paged; making an account
admin or user (never the last admin), and deleting one through a confirmation page."""

from __future__ import annotations

from aiohttp import web

from shop.bodies import form
from shop.errors import Conflict, NotFound
from shop.i18n import N_
from shop.keys import USERS
from shop.models.listing import MAX_PAGE
from shop.models.search import query_words
from shop.models.users import Role, RoleIn, User
from shop.routes.admin.access import admin_poster, back_to
from shop.routes.common import path_id
from shop.routes.forms import FormErrors, parse_form, read_form
from shop.routes.layout import flash
from shop.routes.listing import MAX_SEARCH, pagination
from shop.routes.query import Query
from shop.security import current_user, requires
from shop.sessions import log_in, log_out
from shop.views import render

routes = web.RouteTableDef()

LIST = "/admin/users"
PER_PAGE = 20
ROLE_LABELS = {Role.ADMIN: N_("Admin"), Role.USER: N_("User")}


@routes.get("/admin/users", name="admin_users")
@requires(Role.ADMIN)
async def user_table(request: web.Request) -> web.Response:
    params = Query(request, frozenset({"q", "page"}))
    text = params.text("q", MAX_SEARCH)
    number = params.whole_number("page", 1, 1, MAX_PAGE)
    params.check()
    page = await request.app[USERS].list(PER_PAGE, number, query_words(text))
    context = {
        **pagination(request, page),
        "page": page,
        "q": text,
        "role_labels": ROLE_LABELS,
    }
    return await render("admin/users.html", request, context)


@routes.post("/admin/users/{uid}/role")
@form
async def set_role(request: web.Request) -> web.Response:
    uid = path_id(request, "uid")
    admin = admin_poster(request, LIST)
    posted = await read_form(request)
    back = back_to(posted, LIST)
    users = request.app[USERS]
    try:
        role = parse_form(RoleIn, {"role": posted.get("role", "")}).role
        user = await users.set_role(uid, role)
    except FormErrors:
        flash(request, N_("Choose admin or user."), "error")
        raise web.HTTPSeeOther(location=back) from None
    except (Conflict, NotFound) as exc:
        # The last admin stays one; an account deleted meanwhile has no role to change.
        flash(request, exc.message, "error")
        raise web.HTTPSeeOther(location=back) from None
    if uid == admin.id and role is not Role.ADMIN:
        # The change ended every session of the account, this one too: it goes on as a
        # user, on a fresh session, away from the back office.
        await log_in(request, user)
        flash(request, N_("You are no longer an admin."), "success")
        raise web.HTTPSeeOther(location="/products")
    message = N_("{name} is now an admin.") if user.is_admin else N_("{name} is now a user.")
    flash(request, message, "success", name=_name(user))
    raise web.HTTPSeeOther(location=back)


@routes.get("/admin/users/{uid}/delete", name="admin_delete_user")
@requires(Role.ADMIN)
async def confirm_delete(request: web.Request) -> web.Response:
    user = await request.app[USERS].get(path_id(request, "uid"))
    context = {"user": user, "is_self": user.id == current_user(request).id}
    return await render("admin/user_delete.html", request, {**context, "role_labels": ROLE_LABELS})


@routes.post("/admin/users/{uid}/delete")
@form
async def delete_user(request: web.Request) -> web.Response:
    uid = path_id(request, "uid")
    admin = admin_poster(request, f"{LIST}/{uid}/delete")
    await read_form(request)
    users = request.app[USERS]
    try:
        user = await users.get(uid)
        await users.delete(admin, uid)
    except NotFound:
        flash(request, N_("That account was deleted meanwhile."), "error")
        raise web.HTTPSeeOther(location=LIST) from None
    except Conflict as exc:  # the last admin
        flash(request, exc.message, "error")
        raise web.HTTPSeeOther(location=LIST) from None
    if uid == admin.id:
        await log_out(request)
        flash(request, N_("Your account is deleted, and you are logged out."), "success")
        raise web.HTTPSeeOther(location="/products")
    flash(request, N_("The account of {name} is deleted."), "success", name=_name(user))
    raise web.HTTPSeeOther(location=LIST)


def _name(user: User) -> str:
    return f"{user.first_name} {user.last_name} <{user.email}>"
