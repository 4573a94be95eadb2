"""create_app(settings): the only place where the parts are wired together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from shop.errors import error_middleware
from shop.housekeeping import purge_expired_keys
from shop.keys import (
    CARTS,
    HUB,
    ORDERS,
    PASSWORDS,
    PRODUCTS,
    SETTINGS,
    STORE,
    THROTTLE,
    USERS,
)
from shop.middlewares import access_log_middleware, add_security_headers
from shop.realtime import Hub
from shop.routes import (
    api_carts,
    api_orders,
    api_products,
    api_sessions,
    api_users,
    health,
    pages,
    ws,
)
from shop.routes.layout import page_context
from shop.security import LoginThrottle, PasswordHasher, origin_middleware
from shop.service.carts import CartService
from shop.service.orders import OrderService
from shop.service.products import ProductService
from shop.service.users import UserService
from shop.sessions import purge_expired_sessions, session_setup
from shop.settings import Settings
from shop.store.cache import CatalogueCache
from shop.store.open import open_store
from shop.views import setup_templates

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = PROJECT_ROOT / "templates"
STATIC = PROJECT_ROOT / "static"


async def store_context(app: web.Application) -> AsyncIterator[None]:
    """Open the store and the services over it; close the store on shutdown."""
    settings = app[SETTINGS]
    store = await open_store(settings)
    app[STORE] = store
    app[PASSWORDS] = PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
    )
    if isinstance(store.products, CatalogueCache):
        # Every product event (a purchase's stock change too) drops what it changed.
        app[HUB].on_product_event(store.products.forget)
    app[PRODUCTS] = ProductService(store, app[HUB])
    app[CARTS] = CartService(store, app[HUB])
    app[ORDERS] = OrderService(store, app[HUB])
    app[USERS] = UserService(store, app[PASSWORDS], app[THROTTLE], app[HUB])
    try:
        yield
    finally:
        await store.close()


async def close_websockets(app: web.Application) -> None:
    await app[HUB].close_all()


def create_app(settings: Settings) -> web.Application:
    session_middlewares = session_setup(settings)
    app = web.Application(
        client_max_size=settings.client_max_size,
        middlewares=[
            access_log_middleware,
            session_middlewares[0],
            error_middleware,
            *session_middlewares[1:],
            origin_middleware,
        ],
    )
    app[SETTINGS] = settings
    app[HUB] = Hub()
    app[THROTTLE] = LoginThrottle(settings.login_max_failures, settings.login_window)
    setup_templates(app, TEMPLATES, (page_context,))
    app.cleanup_ctx.append(store_context)
    app.cleanup_ctx.append(purge_expired_sessions)
    app.cleanup_ctx.append(purge_expired_keys)
    app.on_shutdown.append(close_websockets)
    app.on_response_prepare.append(add_security_headers)
    for module in (
        health,
        api_products,
        api_carts,
        api_orders,
        api_users,
        api_sessions,
        pages,
        ws,
    ):
        app.router.add_routes(module.routes)
    app.router.add_static("/static", STATIC, name="static")
    return app
