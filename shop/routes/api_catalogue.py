"""/api/products/export and /api/products/import: the catalogue as a CSV file, for admins.

Added before /api/products/{pid}, which would otherwise take "export" for an id.
"""

from __future__ import annotations

from aiohttp import web

from shop.keys import CATALOGUE
from shop.models import answers
from shop.models.catalogue_file import COLUMNS
from shop.models.users import Role
from shop.routes.operation import Raw, Returns, operation
from shop.service.catalogue import CatalogueFiles

routes = web.RouteTableDef()

# 64 MiB: 100,000 rows of up to 670 bytes each (the demo catalogue's rows take about 300).
MAX_IMPORT_BYTES = 64 * 2**20
CSV_TYPE = "text/csv"

_FILE = (
    "UTF-8 CSV, a header row naming the columns, then one row per product: "
    + ", ".join(f"`{name}`" for name in COLUMNS)
    + ". `price` is an amount, `status` `true` or `false`, `thumbnails` image addresses"
    " joined by `|`."
)
EXPORT = Raw(
    CSV_TYPE,
    f"the whole catalogue as a download (`products.csv`). {_FILE} Written with a byte-order"
    " mark, comma-separated, `price` with a decimal point; a text cell a spreadsheet would"
    " run as a formula (starting with `=`, `+`, `-`, `@`) is written behind a `'`.",
    schema={"type": "string", "contentMediaType": CSV_TYPE},
)
IMPORT_SCHEMA = {
    "type": "string",
    "contentMediaType": CSV_TYPE,
    "description": f"{_FILE} Only `title`, `code`, `price`, `stock` and `category` are"
    " required; `_id` is ignored (a product is known by its code). The byte-order mark is"
    " optional; a file may be `;`-separated with decimal commas (`12,50`), as Spanish"
    " spreadsheets save it.",
    # A good file, for readers and for the fuzzer's examples phase (a random string is no
    # catalogue: it is refused, each bad line named).
    "examples": [
        "title,description,code,price,status,stock,category,thumbnails\r\n"
        "Yerba mate 1 kg,Con palo,YERBA-1KG,7.50,true,20,Yerba,\r\n"
    ],
}


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
@operation("Export the catalogue as a CSV file", auth=Role.ADMIN, returns=EXPORT)
async def export_products(request: web.Request) -> web.StreamResponse:
    """Every product, hidden ones included, in creation order, streamed a batch at a time;
    importing the file again changes nothing."""
    return await stream_export(request, request.app[CATALOGUE], "products.csv")


@routes.post("/api/products/import")
@operation(
    "Import a CSV catalogue file",
    auth=Role.ADMIN,
    upload=((CSV_TYPE,), MAX_IMPORT_BYTES, IMPORT_SCHEMA),
    returns=Returns(answers.Imported),
)
async def import_products(request: web.Request) -> answers.Imported:
    """New codes are created, known ones updated, rows equal to their product left alone.
    Every row is checked before anything is written: any bad row is 400 naming each problem
    by line and column (`line 3, price`; the header is line 1) and nothing is imported.
    With the session cookie, a missing or foreign `Origin` is 403."""
    return answers.Imported.of(await request.app[CATALOGUE].import_csv(await request.read()))
