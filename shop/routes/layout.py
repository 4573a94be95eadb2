"""What every page's layout shows: its language, who is logged in, the form token, the cart
badge and the flash messages. `page_context` is the app's Jinja2 context processor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from markupsafe import Markup, escape

from shop.errors import ShopError, explain
from shop.i18n.negotiation import language_of
from shop.keys import CARTS, LANGUAGES, SCRIPT_TEXTS, USER
from shop.models.carts import Cart
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
    field: str | None = None  # shown next to this form field, when the page has it


def flash(
    request: web.Request,
    message: str,
    category: str = "info",
    *,
    field: str | None = None,
    **params: Any,
) -> None:
    """Keep a message (a template, N_-marked, filled with `params`) for the next page this
    browser renders, in the reader's language; with `field`, next to that form field."""
    _keep(request, category, language_of(request).message(message, **params), field)


def flash_error(request: web.Request, exc: ShopError) -> None:
    """Keep a refusal's message for the next page, in the reader's language."""
    _keep(request, "error", explain(exc, language_of(request))[0], None)


def _keep(request: web.Request, category: str, text: str, field: str | None) -> None:
    session = session_of(request)
    pending = session.get(FLASHES)
    if not isinstance(pending, list):
        pending = []
    text = text[:MAX_FLASH_LENGTH]
    pending.append([category, text] if field is None else [category, text, field])
    # Reassigned, not mutated in place: the session only saves what it sees assigned.
    session[FLASHES] = pending[-MAX_FLASHES:]


def pop_flashes(request: web.Request) -> list[Flash]:
    session = session_of(request)
    if FLASHES not in session:
        return []
    pending = session.pop(FLASHES)
    if not isinstance(pending, list):
        return []
    return [Flash(*item) for item in pending if _is_flash(item)]


def _is_flash(item: object) -> bool:
    return (
        isinstance(item, list)
        and len(item) in (2, 3)
        and item[0] in CATEGORIES
        and all(isinstance(part, str) for part in item[1:])
    )


class CsrfToken:
    """The session's form token, made only when a page prints it: an anonymous visitor
    browsing pages without forms gets no session, hence no cookie."""

    def __init__(self, request: web.Request) -> None:
        self._request = request

    def __str__(self) -> str:
        return csrf_token(self._request)

    def __html__(self) -> Markup:
        return escape(str(self))


def image_src(url: str) -> str:
    """A thumbnail the page may load (a local path or https), else the placeholder."""
    if is_local_path(url) or (url.startswith("https://") and not any(c.isspace() for c in url)):
        return url
    return PLACEHOLDER_IMAGE


def card_image_src(url: str) -> str:
    """Like image_src, at the card size (uploads have one; other addresses are as given)."""
    return image_src(card_url(url))


async def _cart(request: web.Request, user: User | None) -> Cart | None:
    """The cart the badge shows (its count, total, products and version), if any."""
    if user is None or user.cart is None:
        return None
    try:
        return await request.app[CARTS].get(user, user.cart)
    except (ShopError, StoreError):
        # The badge must never turn a page, least of all an error page, into a failure.
        return None


async def page_context(request: web.Request) -> dict[str, Any]:
    """The layout's values: language, current_user, is_admin, csrf_token, the cart (for
    its badge), flashes (field_flashes are shown next to their form fields)."""
    user = request.get(USER)
    path = request.rel_url.path
    language = language_of(request)
    flashes = pop_flashes(request)
    cart = await _cart(request, user)
    return {
        "language": language,
        "other_languages": [other for other in request.app[LANGUAGES] if other is not language],
        "text_script": request.app[SCRIPT_TEXTS].url(language.tag),
        "current_user": user,
        "is_admin": is_admin(user),
        "csrf_token": CsrfToken(request),
        "badge_cart": cart,
        "cart_version": cart.version if cart is not None else 0,
        "flashes": [item for item in flashes if item.field is None],
        "field_flashes": {item.field: item.message for item in flashes if item.field},
        "here": request.rel_url.raw_path_qs,
        # The header's search box shows the catalogue's search words on its listing.
        "search_words": request.query.get("q", "") if path == "/products" else "",
        "login_next": (
            request.rel_url.raw_path_qs
            if request.method == "GET" and path not in NO_RETURN and is_local_path(path)
            else None
        ),
        "image_src": image_src,
        "card_image_src": card_image_src,
    }
