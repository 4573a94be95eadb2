"""Reading one file from a `multipart/form-data` body, bounded as it streams."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from shop.errors import Invalid, TooLarge
from shop.i18n import N_

CHUNK = 64 * 1024


async def read_file_field(request: web.Request, field: str, max_bytes: int) -> bytes:
    """The bytes of the one part named `field`: 400 when it is missing, repeated or joined
    by other fields, 413 past `max_bytes`. The part's declared type and file name are not
    trusted (the caller checks the content)."""
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
    except ValueError:  # no boundary, a broken part header or a body cut short
        raise Invalid(N_("body: not a valid multipart/form-data body")) from None
    if data is None:
        raise Invalid(N_("{field}: is required (a file field named {field})"), field=field)
    return data


MAX_TEXT_FIELD = 4096


async def read_form_and_file(
    request: web.Request, field: str, text_fields: frozenset[str], max_bytes: int
) -> tuple[dict[str, str], bytes]:
    """A page's upload form: its small text fields (`text_fields`, such as the CSRF token)
    and the bytes of the file part named `field`, each bounded as it streams. Any other
    part, or a repeated one, is 400; a missing file is an empty one."""
    fields: dict[str, str] = {}
    data: bytes | None = None
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise Invalid(N_("{field}: nested multipart bodies are not accepted"), field=field)
            name = part.name or "(unnamed part)"
            if name in fields or (name == field and data is not None):
                raise Invalid(N_("{name}: is given twice"), name=name)
            if name == field:
                data = await _read_part(part, field, max_bytes)
            elif name in text_fields:
                raw = await _read_part(part, name, MAX_TEXT_FIELD)
                fields[name] = raw.decode("utf-8", "replace")
            else:
                raise Invalid(N_("{name}: is not an accepted field"), name=name)
    except ValueError:  # no boundary, a broken part header or a body cut short
        raise Invalid(N_("body: not a valid multipart/form-data body")) from None
    return fields, data or b""


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
