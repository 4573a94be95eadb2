"""/api/users: registration, the admin's user list, account deletion, password change."""

from __future__ import annotations

from aiohttp import web

from shop.keys import USERS
from shop.models.listing import MAX_PAGE, MAX_PAGE_SIZE
from shop.models.users import PasswordChangeIn, Role, UserIn
from shop.routes.common import int_param, json_response, path_id, query_params, read_json, success
from shop.routes.listing import listing_envelope
from shop.security import current_user, requires
from shop.sessions import log_in

routes = web.RouteTableDef()


@routes.post("/api/users")
async def register(request: web.Request) -> web.Response:
    data = await read_json(request, UserIn)
    user = await request.app[USERS].register(data)
    return success(user.to_json(), status=201)


@routes.get("/api/users")
@requires(Role.ADMIN)
async def list_users(request: web.Request) -> web.Response:
    params = query_params(request, frozenset({"limit", "page"}))
    limit = int_param(params, "limit", 10, 1, MAX_PAGE_SIZE)
    page_no = int_param(params, "page", 1, 1, MAX_PAGE)
    page = await request.app[USERS].list(limit, page_no)
    return json_response(listing_envelope(request, page))


@routes.put("/api/users/me/password")
@requires()
async def change_password(request: web.Request) -> web.Response:
    data = await read_json(request, PasswordChangeIn)
    users = request.app[USERS]
    user = current_user(request)
    await users.change_password(user, data.current_password, data.new_password)
    # Every old cookie is dead now; this client continues on a fresh session.
    await log_in(request, await users.get(user.id))
    return success({"changed": True})


@routes.delete("/api/users/{uid}")
@requires()
async def delete_user(request: web.Request) -> web.Response:
    uid = path_id(request, "uid")
    await request.app[USERS].delete(current_user(request), uid)
    return success({"_id": uid})
