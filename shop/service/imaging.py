"""An uploaded file made into the shop's two WebP renditions, with Pillow.

`render` proves the file is a JPEG, PNG, WebP or GIF image by decoding it whole, refuses
decompression bombs before decoding any pixel, turns it upright (EXIF orientation), into
sRGB, and writes a page size and a card size as WebP with no metadata at all (EXIF, GPS,
XMP and ICC are not carried over). An animated GIF or WebP gives its first frame.

It is CPU-bound and blocking: the image service runs it in worker threads, never on the
event loop.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from shop.errors import Invalid
from shop.i18n import N_

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")  # the only decoders Pillow may try on an upload
# Cards show the image in a 4:3 frame, cropped to fill it ("cover"): about 240 CSS pixels
# wide, so 480x360 device pixels at 2x. The card covers that frame, never wider than
# CARD_MAX_SIDE (a panorama would otherwise keep its whole width).
CARD_FRAME = (480, 360)
CARD_MAX_SIDE = 960
# The product page shows the whole image in a 4:3 frame ("contain") at most ~560 CSS
# pixels wide: 1200x900 holds it at 2x.
PAGE_FRAME = (1200, 900)
PAGE_QUALITY = 82
CARD_QUALITY = 80
_QUARTER_TURNS = {5, 6, 7, 8}  # EXIF orientations that swap width and height

# Pillow refuses (DecompressionBombError) images over twice this many pixels wherever it
# opens one; `_open_checked` refuses anything over it before pixels are decoded.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True, slots=True)
class Rendered:
    page: bytes
    card: bytes

    @property
    def digest(self) -> str:
        """64 bits of the SHA-256 of both renditions: names their content in the URL."""
        hashed = hashlib.sha256(self.page)
        hashed.update(self.card)
        return hashed.hexdigest()[:16]


def render(data: bytes) -> Rendered:
    """The page and card renditions of an uploaded image, or Invalid naming the reason."""
    image = _decode(data)
    image = _upright(image)
    image = _to_srgb(image)
    page = _resized(image, _contain(image.size, PAGE_FRAME))
    card = _resized(image, _cover(image.size, CARD_FRAME, CARD_MAX_SIDE))
    return Rendered(page=_webp(page, PAGE_QUALITY), card=_webp(card, CARD_QUALITY))


def _open_checked(data: bytes) -> Image.Image:
    """Open (read the header only) and check the size before any pixel is decoded."""
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Raised by Pillow's own check (the warning only where warnings are errors).
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        raise Invalid(N_("image: not a JPEG, PNG, WebP or GIF file")) from None
    except Exception:  # a header Pillow recognises but cannot parse
        raise Invalid(N_("image: the file is damaged")) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise _too_many_pixels()
    return image


def _too_many_pixels() -> Invalid:
    return Invalid(N_("image: more than 25 megapixels"))


def _decode(data: bytes) -> Image.Image:
    """The first frame, decoded whole: a truncated or forged file is Invalid."""
    with _open_checked(data) as probe:
        kind = probe.format or "image"
        try:
            probe.verify()  # checksums and structure; the image cannot be used afterwards
        except Exception:
            raise _damaged(kind) from None
    image = _open_checked(data)
    try:
        _draft(image)
        image.load()
    except Exception:  # Pillow's decoders raise many kinds for broken input
        image.close()
        raise _damaged(kind) from None
    return image


def _draft(image: Image.Image) -> None:
    """Let a JPEG decode at 1/2, 1/4 or 1/8 scale when the renditions need no more: a
    24-megapixel photo then decodes several times faster (every byte is still read)."""
    if image.format != "JPEG":
        return
    upright = image.size
    if image.getexif().get(ExifTags.Base.Orientation) in _QUARTER_TURNS:
        upright = (upright[1], upright[0])
    page = _contain(upright, PAGE_FRAME)
    card = _cover(upright, CARD_FRAME, CARD_MAX_SIDE)
    needed = (max(page[0], card[0]), max(page[1], card[1]))
    if upright != image.size:
        needed = (needed[1], needed[0])
    image.draft(None, needed)


def _damaged(kind: str) -> Invalid:
    return Invalid(N_("image: the {kind} file is damaged or truncated"), kind=kind)


def _upright(image: Image.Image) -> Image.Image:
    """Rotated as the camera's EXIF orientation says, since the EXIF itself is dropped."""
    # Unreadable EXIF: the pixels stay as they are stored.
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(image, in_place=True)  # in place: no copy of an upright image
    return image


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency; colours converted from an embedded
    ICC profile (a phone's Display P3, a print CMYK) so they survive dropping it."""
    target = "RGBA" if image.has_transparency_data else "RGB"
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _srgb(), outputMode=target)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: convert the pixels as they are
        else:
            if converted is not None:
                return converted
    if image.mode.startswith("I"):  # 16- or 32-bit grey: scale to 8 bits first
        image = image.point(lambda value: value / 256).convert("L")
    return image if image.mode == target else image.convert(target)


def _contain(size: tuple[int, int], frame: tuple[int, int]) -> tuple[int, int]:
    """The largest size that fits in the frame, never larger than the image."""
    width, height = size
    return _scaled(size, min(frame[0] / width, frame[1] / height, 1.0))


def _cover(size: tuple[int, int], frame: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The smallest size that fills the frame, never larger than the image or max_side."""
    width, height = size
    scale = min(max(frame[0] / width, frame[1] / height), max_side / max(size), 1.0)
    return _scaled(size, scale)


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


def _resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _webp(image: Image.Image, quality: int) -> bytes:
    # save() writes only the metadata it is given: none.
    out = io.BytesIO()
    image.save(out, "WEBP", quality=quality, method=4)
    return out.getvalue()
