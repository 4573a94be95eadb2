"""Account pages: register, log in, log out, the profile and its password change."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from shop.bodies import form
from shop.errors import Conflict, Forbidden, TooManyRequests, Unauthorized
from shop.i18n import N_
from shop.keys import USER, USERS
from shop.models.messages import phrase
from shop.models.users import LoginIn, PasswordChangeIn, UserIn
from shop.routes.forms import (
    FieldErrors,
    FormErrors,
    field_error,
    local_path,
    parse_form,
    poster,
    read_form,
    whole_number,
)
from shop.routes.layout import flash
from shop.security import client_address, current_user
from shop.sessions import log_in, log_out
from shop.views import render

routes = web.RouteTableDef()

HOME = "/products"
REGISTER_FIELDS = ("first_name", "last_name", "email", "age", "password")
PASSWORD_FIELDS = ("current_password", "new_password", "new_password_confirm")


async def _form_page(
    template: str,
    request: web.Request,
    values: dict[str, str],
    errors: FieldErrors,
    target: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The login or register form: shown again with its errors, never with the password."""
    kept = {name: value for name, value in values.items() if "password" not in name}
    context = {"values": kept, "errors": errors, "next": target}
    response = await render(template, request, context, status=status)
    response.headers.update(headers or {})
    return response


async def _blank_form(template: str, request: web.Request) -> web.Response:
    target = local_path(request.query.get("next"), HOME)
    if request.get(USER) is not None:
        # Logged in already: nothing to do here, on to the catalogue (or where it leads).
        raise web.HTTPSeeOther(location=target)
    return await _form_page(template, request, {}, {}, target)


# ---- register ----------------------------------------------------------------------------


@routes.get("/register", name="register")
async def register_form(request: web.Request) -> web.Response:
    return await _blank_form("register.html", request)


@routes.post("/register")
@form
async def register(request: web.Request) -> web.Response:
    form = await read_form(request)
    target = local_path(form.get("next"), HOME)
    values = {name: form.get(name, "") for name in REGISTER_FIELDS}
    data: dict[str, Any] = {name: value.strip() for name, value in values.items()}
    data["password"] = values["password"]
    data["age"] = whole_number(values["age"])
    try:
        user = await request.app[USERS].register(parse_form(UserIn, data))
    except FormErrors as exc:
        return await _form_page("register.html", request, values, exc.errors, target, status=400)
    except Conflict as exc:
        errors = field_error(exc, REGISTER_FIELDS, "email")
        return await _form_page("register.html", request, values, errors, target, status=409)
    await log_in(request, user)
    flash(request, N_("Welcome, {name}! Your account is ready."), "success", name=user.first_name)
    raise web.HTTPSeeOther(location=target)


# ---- log in and out ----------------------------------------------------------------------


@routes.get("/login", name="login")
async def login_form(request: web.Request) -> web.Response:
    return await _blank_form("login.html", request)


@routes.post("/login")
@form
async def login(request: web.Request) -> web.Response:
    form = await read_form(request)
    target = local_path(form.get("next"), HOME)
    values = {"email": form.get("email", "").strip(), "password": form.get("password", "")}
    try:
        missing: FieldErrors = {
            name: phrase("missing") for name, value in values.items() if not value
        }
        if missing:
            raise FormErrors(missing)
        data = parse_form(LoginIn, values)
        # The API's own path: same throttling, same single answer for every failure.
        user = await request.app[USERS].authenticate(
            data.email, data.password, client_address(request)
        )
    except FormErrors as exc:
        return await _form_page("login.html", request, values, exc.errors, target, status=400)
    except Unauthorized as exc:
        return await _form_page(
            "login.html", request, values, {"password": exc.as_message}, target, status=401
        )
    except TooManyRequests as exc:
        # The form stays, with when to try again.
        return await _form_page(
            "login.html",
            request,
            values,
            {"form": exc.as_message},
            target,
            status=exc.status,
            headers=exc.headers,
        )
    await log_in(request, user)
    flash(request, N_("Welcome back, {name}."), "success", name=user.first_name)
    raise web.HTTPSeeOther(location=target)


@routes.post("/logout", name="logout")
@form
async def logout(request: web.Request) -> web.Response:
    # Nothing to end (the session was already ended elsewhere): no token to check either.
    if request.get(USER) is None:
        raise web.HTTPSeeOther(location=HOME)
    await read_form(request)
    await log_out(request)
    flash(request, N_("You are logged out."))
    raise web.HTTPSeeOther(location=HOME)


# ---- profile -----------------------------------------------------------------------------


async def _profile_page(
    request: web.Request,
    errors: FieldErrors,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    context = {"user": current_user(request), "errors": errors}
    response = await render("profile.html", request, context, status=status)
    response.headers.update(headers or {})
    return response


@routes.get("/profile", name="profile")
async def profile(request: web.Request) -> web.Response:
    return await _profile_page(request, {})


@routes.post("/profile/password")
@form
async def change_password(request: web.Request) -> web.Response:
    user = poster(request, "/profile")
    form = await read_form(request)
    values = {name: form.get(name, "") for name in PASSWORD_FIELDS}
    users = request.app[USERS]
    try:
        if values["new_password"] != values["new_password_confirm"]:
            raise FormErrors({"new_password_confirm": N_("does not match the new password")})
        data = parse_form(PasswordChangeIn, {name: values[name] for name in PASSWORD_FIELDS[:2]})
        await users.change_password(
            user, data.current_password, data.new_password, client_address(request)
        )
    except FormErrors as exc:
        return await _profile_page(request, exc.errors, status=400)
    except Forbidden as exc:
        errors = field_error(exc, PASSWORD_FIELDS, "current_password")
        return await _profile_page(request, errors, status=403)
    except TooManyRequests as exc:
        errors: FieldErrors = {"current_password": exc.as_message}
        return await _profile_page(request, errors, status=exc.status, headers=exc.headers)
    # Every session of the user has ended; this browser continues on a fresh one.
    await log_in(request, await users.get(user.id))
    flash(request, N_("Your password was changed and your other sessions were ended."), "success")
    raise web.HTTPSeeOther(location="/profile")


@routes.post("/profile/logout-all")
@form
async def logout_everywhere(request: web.Request) -> web.Response:
    user = poster(request, "/profile")
    await read_form(request)
    await request.app[USERS].end_credentials(user.id)
    await log_out(request)
    flash(request, N_("You are logged out on every device."))
    raise web.HTTPSeeOther(location="/login")
