"""/api/products/:pid/images: admins upload, remove and reorder a product's images."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from shop.errors import Invalid
from shop.i18n import N_
from shop.keys import IMAGES
from shop.models import answers
from shop.models.images import ImageOrder
from shop.models.users import Role
from shop.routes.multipart import read_file_field
from shop.routes.operation import Link, Reply, Returns, operation
from shop.service.imaging import MAX_BYTES

routes = web.RouteTableDef()

FIELD = "image"
# The file, plus room for the multipart framing around it.
MAX_BODY = MAX_BYTES + 64 * 1024
UPLOAD_SCHEMA = {
    "type": "object",
    "properties": {
        FIELD: {
            "type": "string",
            "contentMediaType": "application/octet-stream",
            "description": f"a JPEG, PNG, WebP or GIF file of at most {MAX_BYTES} bytes and"
            " 25 megapixels",
        }
    },
    "required": [FIELD],
    "additionalProperties": False,
}
POSITION_PATTERN = r"^[0-9]{1,3}$"
PRODUCT_ID = "$response.body#/payload/_id"


def position(request: web.Request, name: str) -> int:
    """The `n` of /images/{n}: an image's position, from 0."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
        raise Invalid(N_("n: must be an image's position, a whole number from 0"))
    return int(raw)


POSITION: dict[str, Any] = {
    "type": "string",
    "pattern": POSITION_PATTERN,
    "description": "the image's position in `thumbnails`, from 0",
}


@routes.post("/api/products/{pid}/images")
@operation(
    "Upload a product image",
    auth=Role.ADMIN,
    upload=(("multipart/form-data",), MAX_BODY, UPLOAD_SCHEMA),
    returns=Returns(
        answers.Product,
        status=201,
        headers={"Location": "the uploaded image's page-size URL"},
    ),
    errors=(409,),
    links={
        "remove_image": Link("remove_image", {"pid": PRODUCT_ID, "n": "0"}),
        "reorder_images": Link("reorder_images", {"pid": PRODUCT_ID}),
    },
)
async def upload_image(request: web.Request, pid: str) -> Reply:
    """The file (field `image`) is decoded, re-encoded as WebP at two sizes and added to
    `thumbnails`. A body without `Content-Length` is 411; a file over 5 MB or a body over
    the route's limit is 413; with the session cookie, a missing or foreign `Origin` is 403."""
    data = await read_file_field(request, FIELD, MAX_BYTES)
    product, url = await request.app[IMAGES].add(pid, data)
    return Reply(answers.Product.of(product), {"Location": url})


@routes.put("/api/products/{pid}/images")
@operation(
    "Reorder a product's images",
    auth=Role.ADMIN,
    body=ImageOrder,
    returns=Returns(answers.Product),
    errors=(409,),
)
async def reorder_images(request: web.Request, pid: str, body: ImageOrder) -> answers.Product:
    """`order` lists every current position once, in the new order (409 when it does not
    match the product's images)."""
    return answers.Product.of(await request.app[IMAGES].reorder(pid, body.order))


@routes.delete("/api/products/{pid}/images/{n}")
@operation(
    "Remove a product image",
    auth=Role.ADMIN,
    path={"n": (position, POSITION)},
    returns=Returns(answers.Product),
    errors=(409,),
)
async def remove_image(request: web.Request, pid: str, n: int) -> answers.Product:
    """Remove the `n`th thumbnail, and its files when it was uploaded."""
    return answers.Product.of(await request.app[IMAGES].remove(pid, n))
