"""/api/sessions: log in, log out (here or everywhere), who am I."""

from __future__ import annotations

from aiohttp import web

from shop.keys import USERS
from shop.models import answers
from shop.models.users import LoginIn, Role
from shop.routes.operation import Returns, operation
from shop.security import client_address, current_user
from shop.sessions import log_in, log_out

routes = web.RouteTableDef()

LOGGED_OUT = Returns(answers.LoggedOut)


@routes.post("/api/sessions/login")
@operation("Log in", body=LoginIn, returns=Returns(answers.User))
async def login(request: web.Request, body: LoginIn) -> answers.User:
    """Starts a new session cookie. An unknown email and a wrong password answer the same
    401; too many wrong passwords are 429 with `Retry-After`."""
    user = await request.app[USERS].authenticate(
        body.email, body.password, client_address(request)
    )
    await log_in(request, user)
    return answers.User.of(user)


@routes.post("/api/sessions/logout")
@operation("Log out", returns=LOGGED_OUT)
async def logout(request: web.Request) -> answers.LoggedOut:
    """Ends this session (nothing to end is fine too)."""
    await log_out(request)
    return answers.LoggedOut(logged_out=True)


@routes.post("/api/sessions/logout-all")
@operation("Log out everywhere", auth=Role.USER, returns=LOGGED_OUT)
async def logout_all(request: web.Request) -> answers.LoggedOut:
    """Ends every session and API token of the user, on every device."""
    await request.app[USERS].end_credentials(current_user(request).id)
    await log_out(request)
    return answers.LoggedOut(logged_out=True)


@routes.get("/api/sessions/current")
@operation(
    "Who am I",
    auth=Role.USER,
    returns=Returns(answers.User),
)
async def current(request: web.Request) -> answers.User:
    """The account the session or token belongs to."""
    return answers.User.of(current_user(request))
