"""The back office: pages for admins only (anonymous visitors go to the login page and
come back; other users get the 403 page). One module per section, one route list here."""

from __future__ import annotations

from aiohttp import web

from shop.routes.admin import (
    catalogue,
    home,
    orders,
    product_images,
    product_pages,
    products,
    users,
)

# /admin/products/new and /admin/products/import before /admin/products/{pid}: routes
# match in this order.
routes: list[web.AbstractRouteDef] = [
    *home.routes,
    *orders.routes,
    *catalogue.routes,
    *products.routes,
    *product_pages.routes,
    *product_images.routes,
    *users.routes,
]
