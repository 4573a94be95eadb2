"""/admin/products/import: the catalogue as a CSV file, from the browser: the export's
download link and the import form (a plain form post; a file with problems is shown back
with every bad row, and nothing is imported)."""

from __future__ import annotations

from aiohttp import web

from shop.bodies import upload
from shop.i18n import N_
from shop.keys import CATALOGUE
from shop.models.users import Role
from shop.routes.api_catalogue import MAX_IMPORT_BYTES
from shop.routes.forms import CSRF_FIELD, check_csrf
from shop.routes.layout import flash
from shop.routes.multipart import read_form_and_file
from shop.security import requires
from shop.service.catalogue import BadRows
from shop.views import render

routes = web.RouteTableDef()

FILE_FIELD = "file"
IMPORT_PATH = "/admin/products/import"
# The file, plus room for the form's other fields and the multipart framing.
MAX_FORM_BYTES = MAX_IMPORT_BYTES + 64 * 1024


async def _page(request: web.Request, problems: BadRows | None = None) -> web.Response:
    context = {
        "problems": problems.problems[:1000] if problems else [],
        "problem_count": problems.count if problems else 0,
        "max_megabytes": MAX_IMPORT_BYTES // 2**20,
    }
    return await render("admin/import.html", request, context, status=400 if problems else 200)


@routes.get(IMPORT_PATH, name="admin_import")
@requires(Role.ADMIN)
async def import_page(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post(IMPORT_PATH)
@requires(Role.ADMIN)
@upload("multipart/form-data", max_size=MAX_FORM_BYTES)
async def import_file(request: web.Request) -> web.Response:
    fields, data = await read_form_and_file(
        request, FILE_FIELD, frozenset({CSRF_FIELD}), MAX_IMPORT_BYTES
    )
    check_csrf(request, fields.get(CSRF_FIELD))
    try:
        result = await request.app[CATALOGUE].import_csv(data)
    except BadRows as exc:
        return await _page(request, exc)
    written = result.written
    flash(
        request,
        N_("Imported: {created} new, {updated} changed, {unchanged} already up to date."),
        "success",
        created=written.created,
        updated=written.updated,
        unchanged=written.unchanged,
    )
    if result.images_left_out:
        flash(
            request,
            N_(
                "{count} image addresses of another shop were left out: upload those"
                " pictures here again."
            ),
            "info",
            count=result.images_left_out,
        )
    raise web.HTTPSeeOther(location=IMPORT_PATH)
