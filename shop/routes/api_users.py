"""/api/users: registration, the admin's user list and role changes, account deletion,
password change."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from shop.keys import USERS
from shop.models import answers
from shop.models.listing import Page
from shop.models.users import PasswordChangeIn, Role, RoleIn, UserIn
from shop.routes.listing import PAGING
from shop.routes.operation import Link, Returns, operation
from shop.security import by_bearer, client_address, current_user
from shop.sessions import log_in

routes = web.RouteTableDef()

USER_ID = "$response.body#/payload/_id"
USER_LINKS = {
    "delete_user": Link("delete_user", {"uid": USER_ID}),
    "set_role": Link("set_role", {"uid": USER_ID}),
    "get_cart": Link("get_cart", {"cid": "$response.body#/payload/cart"}),
}


@routes.post("/api/users")
@operation(
    "Register",
    body=UserIn,
    returns=Returns(answers.User, status=201),
    errors=(409,),
    links=USER_LINKS,
)
async def register(request: web.Request, body: UserIn) -> answers.User:
    """A new account with the role `user` (always) and a new cart, whose id is in `cart`;
    409 when the email has an account."""
    return answers.User.of(await request.app[USERS].register(body))


@routes.get("/api/users")
@operation(
    "List users",
    auth=Role.ADMIN,
    query=PAGING,
    returns=Returns(answers.User, listing=True),
)
async def list_users(request: web.Request, query: dict[str, Any]) -> Page[answers.User]:
    """Every account, paginated like the catalogue."""
    page = await request.app[USERS].list(query["limit"], query["page"])
    return page.map(answers.User.of)


@routes.put("/api/users/me/password")
@operation(
    "Change my password",
    auth=Role.USER,
    body=PasswordChangeIn,
    returns=Returns(answers.PasswordChanged),
)
async def change_password(request: web.Request, body: PasswordChangeIn) -> answers.PasswordChanged:
    """Needs the current password (403 when wrong, 429 after too many wrong ones). Ends
    every session and token of the user; a browser goes on with a new session cookie."""
    users = request.app[USERS]
    user = current_user(request)
    await users.change_password(
        user, body.current_password, body.new_password, client_address(request)
    )
    # Every old cookie and token is dead now; a browser continues on a fresh session (a
    # script that used a token makes a new one).
    if not by_bearer(request):
        await log_in(request, await users.get(user.id))
    return answers.PasswordChanged(changed=True)


@routes.put("/api/users/{uid}/role")
@operation(
    "Change a user's role",
    auth=Role.ADMIN,
    body=RoleIn,
    returns=Returns(answers.User),
    errors=(409,),
)
async def set_role(request: web.Request, uid: str, body: RoleIn) -> answers.User:
    """Ends that user's sessions, tokens and sockets; demoting the last admin is 409."""
    return answers.User.of(await request.app[USERS].set_role(uid, body.role))


@routes.delete("/api/users/{uid}")
@operation("Delete an account", auth=Role.USER, returns=Returns(answers.Deleted), errors=(409,))
async def delete_user(request: web.Request, uid: str) -> answers.Deleted:
    """An admin deletes anyone, a user only themself: the account, its carts, sessions and
    tokens. The last admin is never deleted (409)."""
    await request.app[USERS].delete(current_user(request), uid)
    return answers.Deleted(id=uid)
