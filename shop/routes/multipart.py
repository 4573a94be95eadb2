"""Reading one file from a `multipart/form-data` body, bounded as it streams."""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from shop.errors import Invalid, TooLarge
from shop.i18n import N_

CHUNK = 64 * 1024


async def read_file_field(request: web.Request, field: str, max_bytes: int) -> bytes:
    """The bytes of the one part named `field`: 400 when it is missing, repeated or joined
    by other fields, 413 past `max_bytes`. The part's declared type and file name are not
    trusted (the caller checks the content)."""
    if request.content_type != "multipart/form-data":  # no body at all: nothing to parse
        raise Invalid(N_("{field}: is required (a file field named {field})"), field=field)
    try:
        reader = await request.multipart()
        data: bytes | None = None
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise Invalid(N_("{field}: nested multipart bodies are not accepted"), field=field)
            if part.name != field:
                raise Invalid(
                    N_("{name}: is not an accepted field; send the file as {field}"),
                    name=part.name or "(unnamed part)",
                    field=field,
                )
            if data is not None:
                raise Invalid(N_("{field}: send one file at a time"), field=field)
            data = await _read_part(part, field, max_bytes)
    except (ValueError, HttpProcessingError):  # no boundary, broken part headers, cut short
        raise Invalid(N_("body: not a valid multipart/form-data body")) from None
    if data is None:
        raise Invalid(N_("{field}: is required (a file field named {field})"), field=field)
    return data


async def _read_part(part: BodyPartReader, field: str, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(
                N_("{field}: larger than {most:g} MB"), field=field, most=max_bytes / 2**20
            )
        chunks.append(chunk)
    return b"".join(chunks)
