"""create_app(settings): the only place where the parts are wired together."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Collection
from pathlib import Path

from aiohttp import web

from shop.auth import user_middleware
from shop.bodies import body_middleware
from shop.errors import error_middleware
from shop.i18n.languages import load_languages
from shop.i18n.negotiation import vary_on_language
from shop.i18n.scripts import ScriptTexts
from shop.keys import (
    BUS,
    CARTS,
    CATALOGUE,
    HUB,
    IMAGES,
    LANGUAGES,
    METRICS,
    ORDERS,
    PASSWORDS,
    PRODUCTS,
    REPORTS,
    SCRIPT_TEXTS,
    SETTINGS,
    STORE,
    THROTTLE,
    TOKENS,
    USERS,
)
from shop.metrics import Metrics
from shop.middlewares import access_log_middleware, add_security_headers
from shop.models.products import ProductQuery
from shop.realtime import Hub
from shop.realtime.bus import RedisBus
from shop.routes import (
    api_carts,
    api_catalogue,
    api_images,
    api_orders,
    api_products,
    api_sessions,
    api_tokens,
    api_users,
    apidocs,
    health,
    language,
    media,
    metrics,
    pages,
    ws,
)
from shop.routes.layout import page_context
from shop.routing import refuse_other_methods, serve_trailing_slashes
from shop.security import PasswordHasher, origin_middleware, purge_throttle_windows
from shop.server import use_shop_handler
from shop.service.carts import CartService
from shop.service.catalogue import CatalogueFiles
from shop.service.images import ImageService
from shop.service.orders import OrderService
from shop.service.products import ProductService
from shop.service.reports import ReportService
from shop.service.throttle import Limits, Throttle
from shop.service.tokens import TokenService, TokenUsage
from shop.service.users import UserService
from shop.sessions import cookie_storage, purge_expired_sessions, session_middleware
from shop.settings import Settings
from shop.store.base import StoreError
from shop.store.cache import CatalogueCache
from shop.store.open import open_store
from shop.store.redis_throttle import Failover, RedisThrottle
from shop.views import setup_templates

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EMPTY_CATALOGUE = (
    "the catalogue is empty: add products in the back office (/admin/products), import a"
    " CSV file (/admin/products/import, or `shop import-products FILE`), or fill a demo"
    " shop with `shop seed-demo`"
)
TEMPLATES = PROJECT_ROOT / "templates"
STATIC = PROJECT_ROOT / "static"
# On stop, a socket whose peer does not take the close frame within this is cut off; with
# the stores' and Redis' bounded closes, SIGTERM ends the process within 10 s.
SHUTDOWN_CLOSE_TIMEOUT = 2.0

log = logging.getLogger("shop.app")


def _limits(settings: Settings) -> Limits:
    return Limits(
        per_account_and_address=settings.login_max_failures,
        per_address=settings.login_max_failures_per_address,
        per_account=settings.login_max_failures_per_account,
        window=settings.login_window,
    )


async def store_context(app: web.Application) -> AsyncIterator[None]:
    """Open the store and the services over it; close the store on shutdown."""
    settings = app[SETTINGS]
    store = await open_store(settings, app[METRICS])
    app[STORE] = store
    app[PASSWORDS] = PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
    )
    if isinstance(store.products, CatalogueCache):
        # Every product event of any process (a purchase's stock change too) drops what
        # it changed.
        app[HUB].on_product_event(store.products.forget)
    # The throttle's counts are shared by every process of the shop: in Redis when there is
    # one (the store's while Redis is lost), else in the store.
    counters = store.throttle
    if settings.redis_url is not None:
        counters = Failover(RedisThrottle(settings.redis_url), store.throttle)
    app[THROTTLE] = Throttle(counters, _limits(settings))
    usage = TokenUsage(store, settings.token_touch_interval)
    app[PRODUCTS] = ProductService(store, app[HUB])
    app[CARTS] = CartService(store, app[HUB])
    app[ORDERS] = OrderService(store, app[HUB], app[METRICS])
    app[USERS] = UserService(store, app[PASSWORDS], app[THROTTLE], app[HUB])
    app[IMAGES] = ImageService(store, app[HUB], settings.image_workers)
    app[TOKENS] = TokenService(store, app[THROTTLE], usage)
    app[REPORTS] = ReportService(store, settings.timezone)
    app[CATALOGUE] = CatalogueFiles(store, app[HUB])
    try:
        # Token use is written in batches, the last one before the store closes.
        async with usage.recording():
            yield
    finally:
        app[IMAGES].close()
        if isinstance(counters, Failover):
            await counters.close()
        await store.close()


async def bus_context(app: web.Application) -> AsyncIterator[None]:
    """With SHOP_REDIS_URL, share the hub's events with every other process over Redis."""
    settings, hub, store = app[SETTINGS], app[HUB], app[STORE]
    app[BUS] = None
    if settings.redis_url is None:
        yield
        return
    cache = store.products if isinstance(store.products, CatalogueCache) else None

    async def alive(sessions: Collection[str]) -> Collection[str]:
        return await store.sessions.alive(sessions, time.time())

    async def connected() -> None:
        if cache is not None:
            cache.events_trusted(True)
        try:
            await hub.resync(alive)
        except StoreError:
            log.warning("could not re-check the sessions of open websockets: store unavailable")

    def lost() -> None:
        if cache is not None:
            cache.events_trusted(False)

    bus = RedisBus(
        settings.redis_url,
        on_message=hub.receive,
        on_connected=connected,
        on_lost=lost,
        metrics=app[METRICS],
    )
    app[BUS] = bus
    hub.attach(bus)
    await bus.start()
    try:
        yield
    finally:
        hub.attach(None)
        await bus.close()


async def mention_empty_catalogue(app: web.Application) -> None:
    """Say once, at start-up, how to fill an empty catalogue (the page says it too).

    `serve` adds it to the app's on_startup (after cleanup_ctx: the store is open); the
    other commands have no log to say it in."""
    if (await app[STORE].products.list(ProductQuery(limit=1))).total == 0:
        log.warning(EMPTY_CATALOGUE)


async def close_websockets(app: web.Application) -> None:
    await app[HUB].close_all(grace=SHUTDOWN_CLOSE_TIMEOUT)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.client_max_size,
        # shop.access logs each request (escaped, with the user); aiohttp's own access log
        # stays off wherever the app is served.
        handler_args={"access_log": None},
        middlewares=[
            access_log_middleware,
            session_middleware(cookie_storage(settings)),
            error_middleware,
            user_middleware,
            origin_middleware,
            body_middleware,
        ],
    )
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    hub = app[HUB] = Hub(app[METRICS])
    app[METRICS].websockets.set_function(lambda: len(hub))
    # The catalogues are compiled here, at start-up, from the .po files.
    app[LANGUAGES] = load_languages(settings.language, settings.currency)
    app[SCRIPT_TEXTS] = ScriptTexts(app[LANGUAGES], STATIC / "js")
    setup_templates(app, TEMPLATES, (page_context,))
    app.cleanup_ctx.append(store_context)
    app.cleanup_ctx.append(bus_context)
    app.cleanup_ctx.append(purge_expired_sessions)
    app.cleanup_ctx.append(purge_throttle_windows)
    app.cleanup_ctx.append(api_orders.purge_expired_keys)
    app.cleanup_ctx.append(media.sweep_images)
    app.on_shutdown.append(close_websockets)
    app.on_response_prepare.append(add_security_headers)
    app.on_response_prepare.append(vary_on_language)
    for module in (
        health,
        metrics,
        api_catalogue,  # before api_products: /api/products/{pid} would take "export"
        api_products,
        api_images,
        api_carts,
        api_orders,
        api_users,
        api_sessions,
        api_tokens,
        apidocs,
        pages,
        language,
        media,
        ws,
    ):
        app.router.add_routes(module.routes)
    app.router.add_static("/static", STATIC, name="static")
    apidocs.add_assets(app)
    refuse_other_methods(app)
    serve_trailing_slashes(app)
    use_shop_handler(app)
    return app
