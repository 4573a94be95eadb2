"""Every server-rendered page, in one route list for the app to add.

The pages live in modules by job: the catalogue (and the live product list), the cart,
checkout and orders, the account pages, and the back office (a package of its own).
"""

from __future__ import annotations

from aiohttp import web

from shop.routes import account_pages, admin, cart_pages, catalogue_pages, order_pages

routes: list[web.AbstractRouteDef] = [
    *catalogue_pages.routes,
    *cart_pages.routes,
    *order_pages.routes,
    *account_pages.routes,
    *admin.routes,
]
