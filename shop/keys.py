"""Every typed key for app and request state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp_session import Session

if TYPE_CHECKING:
    pass

SETTINGS = web.AppKey["Settings"]("shop.settings")
STORE = web.AppKey["Store"]("shop.store")
HUB = web.AppKey["Hub"]("shop.hub")
PASSWORDS = web.AppKey["PasswordHasher"]("shop.passwords")
THROTTLE = web.AppKey["Throttle"]("shop.throttle")
PRODUCTS = web.AppKey["ProductService"]("shop.products")
CARTS = web.AppKey["CartService"]("shop.carts")
USERS = web.AppKey["UserService"]("shop.users")
TOKENS = web.AppKey["TokenService"]("shop.tokens")
IMAGES = web.AppKey["ImageService"]("shop.images")
METRICS = web.AppKey["Metrics"]("shop.metrics")
# The Redis event bus joining this process to the others; None without SHOP_REDIS_URL.
BUS = web.AppKey["RedisBus | None"]("shop.bus")
ORDERS = web.AppKey["OrderService"]("shop.orders")
LANGUAGES = web.AppKey["Languages"]("shop.languages")
SCRIPT_TEXTS = web.AppKey["ScriptTexts"]("shop.script_texts")
# The OpenAPI document, encoded once on first request (shop.routes.apidocs).
API_DOCUMENT = web.AppKey["dict[str, bytes]"]("shop.api_document")
REPORTS = web.AppKey["ReportService"]("shop.reports")
CATALOGUE = web.AppKey["CatalogueFiles"]("shop.catalogue")

# This request's cookie session (loaded by shop.sessions.session_middleware).
SESSION = web.RequestKey("shop.session", Session)
# The authenticated user of this request (None when anonymous), and what authenticated
# it: the session id (a cookie), or the API token's id (a bearer token), never both.
USER = web.RequestKey["User | None"]("shop.user")
SESSION_ID = web.RequestKey["str | None"]("shop.session_id")
# True when the cookie names a session the store could not check (it is down): the request
# goes on anonymous, and anything that needs the user is a 503 rather than a 401.
SESSION_UNCHECKED = web.RequestKey("shop.session_unchecked", bool)
TOKEN_ID = web.RequestKey["str | None"]("shop.token_id")
# The language this request is answered in (shop.i18n.negotiation.language_of).
LANGUAGE = web.RequestKey["Language"]("shop.language")
