"""/admin: the back office's dashboard (sales, orders by status, low stock, best sellers)."""

from __future__ import annotations

from functools import partial

from aiohttp import web

from shop.i18n.negotiation import language_of
from shop.keys import REPORTS
from shop.models.products import LOW_STOCK
from shop.models.users import Role
from shop.routes.admin.chart import day_label, revenue_chart
from shop.routes.order_pages import STATUS_LABELS
from shop.security import requires
from shop.views import render

routes = web.RouteTableDef()


@routes.get("/admin", name="admin")
@requires(Role.ADMIN)
async def admin_home(request: web.Request) -> web.Response:
    board = await request.app[REPORTS].dashboard()
    locale = language_of(request).locale
    context = {
        "board": board,
        "chart": revenue_chart(board.days, locale),
        "day_label": partial(day_label, locale=locale),
        "status_labels": STATUS_LABELS,
        "low_stock_limit": LOW_STOCK,
    }
    return await render("admin/home.html", request, context)
