"""Who may post the back office's forms, and where its forms send the browser back to."""

from __future__ import annotations

from aiohttp import web

from shop.errors import Forbidden
from shop.i18n import N_
from shop.models.users import User
from shop.routes.forms import local_path, poster


def admin_poster(request: web.Request, back: str) -> User:
    """The admin posting a back-office form: an anonymous post goes to the login page
    (which returns to the page `back`), anyone else gets the 403 page."""
    user = poster(request, back)
    if not user.is_admin:
        raise Forbidden(N_("admin only"))
    return user


def back_to(form: dict[str, str], default: str) -> str:
    """The page a form came from (its `next` field) when it is a back-office page."""
    target = local_path(form.get("next"), default)
    return target if target == "/admin" or target.startswith("/admin/") else default
