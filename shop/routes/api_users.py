"""/api/users: registration, the admin's user list and role changes, account deletion,
password change."""

from __future__ import annotations

from aiohttp import web

from shop.keys import USERS
from shop.models.users import PasswordChangeIn, Role, RoleIn, UserIn
from shop.routes.common import json_response, path_id, read_json, success
from shop.routes.listing import PAGING_PARAMS, listing_envelope, parse_paging
from shop.routes.query import Query
from shop.security import by_bearer, client_address, current_user, requires
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
    query = Query(request, PAGING_PARAMS)
    limit, page_no = parse_paging(query)
    query.check()
    page = await request.app[USERS].list(limit, page_no)
    return json_response(listing_envelope(request, page))


@routes.put("/api/users/me/password")
@requires()
async def change_password(request: web.Request) -> web.Response:
    data = await read_json(request, PasswordChangeIn)
    users = request.app[USERS]
    user = current_user(request)
    await users.change_password(
        user, data.current_password, data.new_password, client_address(request)
    )
    # Every old cookie and token is dead now; a browser continues on a fresh session (a
    # script that used a token makes a new one).
    if not by_bearer(request):
        await log_in(request, await users.get(user.id))
    return success({"changed": True})


@routes.put("/api/users/{uid}/role")
@requires(Role.ADMIN)
async def set_role(request: web.Request) -> web.Response:
    uid = path_id(request, "uid")
    data = await read_json(request, RoleIn)
    user = await request.app[USERS].set_role(uid, data.role)
    return success(user.to_json())


@routes.delete("/api/users/{uid}")
@requires()
async def delete_user(request: web.Request) -> web.Response:
    uid = path_id(request, "uid")
    await request.app[USERS].delete(current_user(request), uid)
    return success({"_id": uid})
