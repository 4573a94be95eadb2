"""/api/products/export and /api/products/import: the catalogue as a CSV file, for admins.

Added before /api/products/{pid}, which would otherwise take "export" for an id.
"""

from __future__ import annotations

from aiohttp import web

from shop.bodies import upload
from shop.keys import CATALOGUE
from shop.models.users import Role
from shop.routes.common import success
from shop.security import requires
from shop.service.catalogue import CatalogueFiles

routes = web.RouteTableDef()

# 64 MiB: 100,000 rows of up to 670 bytes each (the demo catalogue's rows take about 300).
MAX_IMPORT_BYTES = 64 * 2**20
CSV_TYPE = "text/csv"


async def stream_export(
    request: web.Request, files: CatalogueFiles, name: str
) -> web.StreamResponse:
    """Send the catalogue as a CSV download, a batch of products at a time."""
    response = web.StreamResponse(
        headers={
            "Content-Type": f"{CSV_TYPE}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        }
    )
    chunks = files.export()
    # The first chunk comes from the store before the status line goes out: a store that
    # does not answer is still a 503. Later failures can only cut the download short.
    first = await anext(chunks)
    await response.prepare(request)
    await response.write(first)
    async for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


@routes.get("/api/products/export")
@requires(Role.ADMIN)
async def export_products(request: web.Request) -> web.StreamResponse:
    return await stream_export(request, request.app[CATALOGUE], "products.csv")


@routes.post("/api/products/import")
@requires(Role.ADMIN)
@upload(CSV_TYPE, max_size=MAX_IMPORT_BYTES)
async def import_products(request: web.Request) -> web.Response:
    result = await request.app[CATALOGUE].import_csv(await request.read())
    return success(result.to_json())
