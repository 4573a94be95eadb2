"""Every server-rendered page, in one route list for the app to add.

The pages live in modules by job: the catalogue (and the live product list), the cart,
and the account pages.
"""

from __future__ import annotations

from aiohttp import web

from shop.routes import account_pages, cart_pages, catalogue_pages

routes: list[web.AbstractRouteDef] = [
    *catalogue_pages.routes,
    *cart_pages.routes,
    *account_pages.routes,
]
