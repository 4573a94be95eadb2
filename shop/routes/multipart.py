"""Reading one file from a `multipart/form-data` body, bounded as it streams."""

from __future__ import annotations

from collections.abc import Collection

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from shop.errors import Invalid, TooLarge
from shop.i18n import N_

CHUNK = 64 * 1024
MAX_TEXT = 4096  # a text part beside the file (a form's token) is short


async def read_file_field(request: web.Request, field: str, max_bytes: int) -> bytes:
    """The bytes of the one part named `field`: 400 when it is missing, repeated or joined
    by other fields, 413 past `max_bytes`. The part's declared type and file name are not
    trusted (the caller checks the content)."""
    _, data = await read_file_form(request, field, max_bytes)
    if data is None:
        raise Invalid(N_("{field}: is required (a file field named {field})"), field=field)
    return data


async def read_file_form(
    request: web.Request, field: str, max_bytes: int, text_fields: Collection[str] = ()
) -> tuple[dict[str, str], bytes | None]:
    """A form posting one file: its `text_fields` (each at most 4 KiB) and the bytes of the
    part named `field` (None when absent or when the browser sent no file: an empty part
    without a file name). Other parts, a second file or `max_bytes` exceeded are refused
    as in `read_file_field`."""
    texts: dict[str, str] = {}
    data: bytes | None = None
    if request.content_type != "multipart/form-data":  # no body at all: nothing to parse
        return texts, data
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise Invalid(N_("{field}: nested multipart bodies are not accepted"), field=field)
            if part.name in text_fields and part.filename is None:
                texts.setdefault(part.name, await _read_text(part, part.name))
                continue
            if part.name != field:
                raise Invalid(
                    N_("{name}: is not an accepted field; send the file as {field}"),
                    name=part.name or "(unnamed part)",
                    field=field,
                )
            if data is not None:
                raise Invalid(N_("{field}: send one file at a time"), field=field)
            data = await _read_part(part, field, max_bytes)
            if not data and not part.filename:
                data = None  # a form's file input left empty
    except (ValueError, HttpProcessingError):  # no boundary, broken part headers, cut short
        raise Invalid(N_("body: not a valid multipart/form-data body")) from None
    return texts, data


async def _read_text(part: BodyPartReader, field: str) -> str:
    try:
        raw = await _read_part(part, field, MAX_TEXT)
    except TooLarge:
        raise Invalid(N_("{field}: too long"), field=field) from None
    return raw.decode("utf-8", "replace")


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
