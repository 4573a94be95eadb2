"""Images made with Pillow for the upload tests, and uploading them as a browser would."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from aiohttp import ClientResponse, FormData, MultipartWriter
from PIL import ExifTags, Image

from tests.conftest import Client

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def picture(
    kind: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    mode: str = "RGB",
    color: Any = "teal",
    **save: Any,
) -> bytes:
    """A one-colour image of the given size, encoded as `kind`."""
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, kind, **save)
    return out.getvalue()


def noisy_jpeg(size: tuple[int, int] = (400, 300)) -> bytes:
    """A JPEG of noise: its compressed data is long, so a cut falls among the pixels."""
    out = io.BytesIO()
    Image.effect_noise(size, 80).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def animated_gif(*colors: str, size: tuple[int, int] = (32, 24)) -> bytes:
    frames = [Image.new("RGB", size, color) for color in colors]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def photo_with_gps(size: tuple[int, int] = (80, 40), orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: camera make, GPS position and a quarter-turn orientation."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyPhone"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: (34.0, 36.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (58.0, 22.0, 54.0),
    }
    return picture("JPEG", size, exif=exif.tobytes())


def png_header(width: int, height: int) -> bytes:
    """A valid PNG signature and header claiming width x height, then an empty image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def origin(client: Client) -> dict[str, str]:
    """The Origin header a page of the shop itself sends."""
    return {"Origin": str(client.make_url("/").origin())}


def image_form(data: bytes, field: str = "image", filename: str = "photo.jpg") -> FormData:
    form = FormData()
    # A stream rather than bytes: aiohttp warns about bytes bodies over 1 MiB.
    stream = io.BytesIO(data)
    form.add_field(field, stream, filename=filename, content_type="application/octet-stream")
    return form


async def upload(
    client: Client,
    pid: str,
    data: bytes | FormData | MultipartWriter,
    *,
    headers: dict[str, str] | None = None,
) -> ClientResponse:
    """POST the image (or a ready form) as the product page's upload form would."""
    body = image_form(data) if isinstance(data, bytes) else data
    return await client.post(
        f"/api/products/{pid}/images",
        data=body,
        headers=origin(client) if headers is None else headers,
    )
