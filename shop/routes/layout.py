"""What every page's layout shows: who is logged in, the form token, the cart badge and
the flash messages. `page_context` is the app's Jinja2 context processor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from shop.errors import ShopError
from shop.keys import CARTS, USER
from shop.models.images import card_url
from shop.models.users import User
from shop.routes.forms import is_local_path
from shop.security import is_admin
from shop.sessions import csrf_token, session_of
from shop.store.base import StoreError

FLASHES = "flashes"
MAX_FLASHES = 5
MAX_FLASH_LENGTH = 300
CATEGORIES = frozenset({"info", "success", "error"})
PLACEHOLDER_IMAGE = "/static/img/placeholder.svg"
# The login link brings the visitor back, except from the pages that are about logging in.
NO_RETURN = frozenset({"/login", "/register", "/logout"})


@dataclass(frozen=True, slots=True)
class Flash:
    category: str
    message: str


def flash(request: web.Request, message: str, category: str = "info", **params: Any) -> None:
    """Keep a message (a template filled with `params`) for the next page this browser
    renders."""
    session = session_of(request)
    pending = session.get(FLASHES)
    if not isinstance(pending, list):
        pending = []
    text = message.format(**params) if params else message
    pending.append([category, text[:MAX_FLASH_LENGTH]])
    # Reassigned, not mutated in place: the session only saves what it sees assigned.
    session[FLASHES] = pending[-MAX_FLASHES:]


def pop_flashes(request: web.Request) -> list[Flash]:
    session = session_of(request)
    if FLASHES not in session:
        return []
    pending = session.pop(FLASHES)
    if not isinstance(pending, list):
        return []
    return [Flash(item[0], item[1]) for item in pending if _is_flash(item)]


def _is_flash(item: object) -> bool:
    return (
        isinstance(item, list)
        and len(item) == 2
        and item[0] in CATEGORIES
        and isinstance(item[1], str)
    )


def image_src(url: str) -> str:
    """A thumbnail the page may load (a local path or https), else the placeholder."""
    if is_local_path(url) or (url.startswith("https://") and not any(c.isspace() for c in url)):
        return url
    return PLACEHOLDER_IMAGE


def card_image_src(url: str) -> str:
    """Like image_src, at the card size (uploads have one; other addresses are as given)."""
    return image_src(card_url(url))


async def _badge(request: web.Request, user: User | None) -> tuple[int, int]:
    """The cart badge's count, and the version of the cart it counts (0 when unknown)."""
    if user is None or user.cart is None:
        return 0, 0
    try:
        cart = await request.app[CARTS].get(user, user.cart)
    except (ShopError, StoreError):
        # The badge must never turn a page, least of all an error page, into a failure.
        return 0, 0
    return cart.item_count, cart.version


async def page_context(request: web.Request) -> dict[str, Any]:
    """The layout's values: current_user, is_admin, csrf_token, cart_count, flashes."""
    user = request.get(USER)
    path = request.rel_url.path
    cart_count, cart_version = await _badge(request, user)
    return {
        "current_user": user,
        "is_admin": is_admin(user),
        "csrf_token": csrf_token(request),
        "cart_count": cart_count,
        "cart_version": cart_version,
        "flashes": pop_flashes(request),
        "here": request.rel_url.raw_path_qs,
        "login_next": (
            request.rel_url.raw_path_qs
            if request.method == "GET" and path not in NO_RETURN and is_local_path(path)
            else None
        ),
        "image_src": image_src,
        "card_image_src": card_image_src,
    }
