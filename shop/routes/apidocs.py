"""The API's contract: its OpenAPI document at /api/openapi.json, read interactively at
/apidocs (Swagger UI, whose files come from a package and are served by the shop itself:
the CSP allows only the shop's own files)."""

from __future__ import annotations

import importlib.util
import json
from importlib.metadata import version
from pathlib import Path

from aiohttp import web

from shop.keys import API_DOCUMENT, SETTINGS
from shop.openapi.document import build_document
from shop.routes.operation import Raw, operation
from shop.sessions import cookie_name
from shop.views import render

routes = web.RouteTableDef()

DOCUMENT_PATH = "/api/openapi.json"
ASSETS_PATH = "/apidocs/assets"


def swagger_ui_files() -> Path:
    """Swagger UI's built files, as the `flask-swagger-ui` package ships them (found without
    importing it: the shop never loads Flask)."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui is not installed: pip install the shop again")
    return Path(spec.submodule_search_locations[0]) / "dist"


def document(app: web.Application) -> bytes:
    """The document, built from the router the first time it is asked for."""
    cache = app[API_DOCUMENT]
    if "json" not in cache:
        built = build_document(app, cookie_name(app[SETTINGS]), version("shop"))
        cache["json"] = json.dumps(built, ensure_ascii=False, indent=1).encode()
    return cache["json"]


@routes.get(DOCUMENT_PATH)
@operation(
    "This document",
    returns=Raw("application/json", "the OpenAPI 3.1 document", schema={"type": "object"}),
)
async def openapi_document(request: web.Request) -> web.Response:
    """The API's OpenAPI 3.1 document, built from the code that serves it."""
    return web.Response(body=document(request.app), content_type="application/json")


@routes.get("/apidocs", name="apidocs")
async def apidocs(request: web.Request) -> web.Response:
    return await render(
        "apidocs.html", request, {"document": DOCUMENT_PATH, "assets": ASSETS_PATH}
    )


def add_assets(app: web.Application) -> None:
    """Serve Swagger UI's files and start the document's cache."""
    app[API_DOCUMENT] = {}
    app.router.add_static(ASSETS_PATH, swagger_ui_files(), name="apidocs_assets")
