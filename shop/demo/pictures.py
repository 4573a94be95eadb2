"""The demo products' pictures, drawn by the shop with Pillow: a flat illustration of what
each product is (a yerba package, a mate, a bottle...) in its own colours, over a soft
background, with a label. Deterministic: the same product draws the same PNG.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from shop.demo.catalogue import DemoProduct

CANVAS = (1600, 1200)  # 4:3 like the shop's image frames; drawn at twice the size kept
INK = "#3b3026"  # the label's words when the product's own colour is too light to read
# A font with accents when the system has one (Debian's fonts-dejavu); else Pillow's own,
# which lacks them (the label then drops its accents).
FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
)

type Colour = str
type Painter = Callable[[ImageDraw.ImageDraw, int, int, Colour, Colour], None]


@cache
def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """The label's font, and whether it draws accents."""
    for path in FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), size), True
    return ImageFont.load_default(size=size), False


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _box(cx: int, cy: int, w: int, h: int) -> tuple[int, int, int, int]:
    return (cx - w // 2, cy - h // 2, cx + w // 2, cy + h // 2)


def _package(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle(_box(cx, cy + 40, 560, 760), 40, fill=main)
    d.polygon(
        [(cx - 280, cy - 320), (cx + 280, cy - 320), (cx + 240, cy - 400), (cx - 240, cy - 400)],
        fill=accent,
    )
    d.rounded_rectangle(_box(cx, cy + 60, 400, 300), 30, fill="#fffdf5")
    # a yerba leaf on the label
    d.ellipse(_box(cx, cy + 40, 220, 120), fill=main)
    d.line([(cx - 110, cy + 40), (cx + 110, cy + 40)], fill="#fffdf5", width=10)


def _mate(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.line(
        [(cx + 40, cy - 330), (cx + 150, cy - 470), (cx + 230, cy - 480)], fill="#b0b7bf", width=26
    )
    d.ellipse(_box(cx, cy + 90, 620, 620), fill=main)
    d.rounded_rectangle(_box(cx, cy - 190, 440, 120), 40, fill=accent)
    d.ellipse(_box(cx, cy - 250, 400, 90), fill="#3f6b2a")  # the yerba
    d.ellipse(_box(cx - 130, cy + 10, 120, 220), fill="#ffffff40")


def _bombilla(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.line([(cx - 260, cy + 300), (cx + 200, cy - 330)], fill=main, width=40)
    d.line([(cx + 200, cy - 330), (cx + 300, cy - 360)], fill=accent, width=40)
    d.ellipse(_box(cx - 280, cy + 330, 190, 120), fill=main)
    for n in range(-2, 3):
        d.line(
            [(cx - 330, cy + 330 + n * 18), (cx - 230, cy + 330 + n * 18)], fill="#ffffff", width=5
        )
    d.ellipse(_box(cx - 40, cy - 10, 90, 90), fill=accent)


def _thermos(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle(_box(cx, cy + 80, 300, 700), 60, fill=main)
    d.rounded_rectangle(_box(cx, cy - 330, 250, 150), 30, fill=accent)
    d.polygon([(cx + 80, cy - 360), (cx + 190, cy - 330), (cx + 80, cy - 300)], fill=accent)
    d.rounded_rectangle(_box(cx - 70, cy + 80, 50, 560), 25, fill="#ffffff30")


def _tins(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    for x, h in ((cx - 180, 560), (cx + 190, 440)):
        d.rounded_rectangle(_box(x, cy + 130 - h // 2 + 150, 320, h), 24, fill=main)
        d.rounded_rectangle(_box(x, cy + 130 - h + 150 - 10, 340, 60), 20, fill=accent)
        d.ellipse(_box(x, cy + 130 - h // 2 + 150, 170, 170), outline=accent, width=16)


def _alfajor(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    for n, y in enumerate((cy + 180, cy - 60)):
        x = cx + (n * 120 - 60)
        d.rounded_rectangle(_box(x, y + 60, 560, 110), 55, fill=main)
        d.rounded_rectangle(_box(x, y, 520, 50), 25, fill="#b5651d")  # dulce de leche
        d.rounded_rectangle(_box(x, y - 60, 560, 110), 55, fill=main)
        d.ellipse(_box(x, y - 85, 420, 40), fill=accent)


def _jar(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle(_box(cx, cy + 90, 480, 580), 70, fill=main)
    d.rounded_rectangle(_box(cx, cy - 250, 420, 120), 24, fill="#c0392b")
    d.rectangle(_box(cx, cy - 250, 420, 20), fill="#ffffff")
    d.rounded_rectangle(_box(cx, cy + 110, 340, 240), 24, fill=accent)
    d.ellipse(_box(cx, cy + 110, 160, 160), outline=main, width=14)


def _block(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    top = [(cx - 320, cy - 40), (cx + 160, cy - 40), (cx + 320, cy - 160), (cx - 160, cy - 160)]
    d.polygon(top, fill=accent)
    d.rectangle((cx - 320, cy - 40, cx + 160, cy + 260), fill=main)
    d.polygon(
        [(cx + 160, cy - 40), (cx + 320, cy - 160), (cx + 320, cy + 140), (cx + 160, cy + 260)],
        fill=accent,
    )


def _pastry(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    for x, y, w in ((cx - 150, cy + 140, 520), (cx + 170, cy - 80, 460)):
        d.chord(_box(x, y, w, w * 2 // 3), 180, 360, fill=main)
        for n in range(1, 4):
            sx = x - w // 2 + n * w // 4
            d.line([(sx, y - w // 3 + 30), (sx + 30, y - 10)], fill=accent, width=14)


def _buns(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    for x, y in (
        (cx - 200, cy + 150),
        (cx + 40, cy + 170),
        (cx + 270, cy + 140),
        (cx - 90, cy - 80),
        (cx + 160, cy - 70),
    ):
        d.ellipse(_box(x, y, 230, 190), fill=main)
        d.ellipse(_box(x - 30, y - 35, 90, 50), fill=accent)


def _loaf(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.pieslice(_box(cx, cy + 160, 640, 700), 180, 360, fill=main)
    d.rectangle((cx - 320, cy + 160, cx + 320, cy + 300), fill="#8d5524")
    for x, y in (
        (cx - 150, cy - 20),
        (cx + 60, cy - 100),
        (cx + 170, cy + 40),
        (cx - 40, cy + 80),
    ):
        d.ellipse(_box(x, y, 50, 50), fill=accent)


def _tart(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.ellipse(_box(cx, cy + 60, 700, 520), fill=main)
    d.ellipse(_box(cx, cy + 50, 600, 430), fill=accent)
    for n in range(-2, 3):
        d.line(
            [(cx + n * 110 - 120, cy - 150), (cx + n * 110 + 120, cy + 250)], fill=main, width=26
        )
        d.line(
            [(cx + n * 110 + 120, cy - 150), (cx + n * 110 - 120, cy + 250)], fill=main, width=26
        )


def _bottle(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle(_box(cx, cy + 130, 260, 600), 50, fill=main)
    d.rounded_rectangle(_box(cx, cy - 280, 100, 300), 30, fill=main)
    d.rectangle(_box(cx, cy - 420, 110, 60), fill=accent)
    d.rounded_rectangle(_box(cx, cy + 170, 220, 220), 16, fill="#fbf8ef")
    d.rectangle(_box(cx, cy + 120, 160, 24), fill=accent)


def _oil(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle(_box(cx, cy + 130, 300, 600), 40, fill=main)
    d.polygon(
        [(cx - 150, cy - 150), (cx + 150, cy - 150), (cx + 50, cy - 300), (cx - 50, cy - 300)],
        fill=main,
    )
    d.rectangle(_box(cx, cy - 350, 120, 100), fill=accent)
    d.rounded_rectangle(_box(cx, cy + 150, 240, 200), 16, fill="#fbf8ef")
    d.ellipse(_box(cx, cy + 150, 120, 70), fill=main)


def _honey(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle(_box(cx, cy + 100, 460, 520), 120, fill=main)
    d.rounded_rectangle(_box(cx, cy - 210, 380, 100), 20, fill=accent)
    d.line([(cx + 150, cy - 160), (cx + 150, cy - 40)], fill=main, width=40)
    d.ellipse(_box(cx + 150, cy - 40, 60, 80), fill=main)
    for x, y in ((cx - 60, cy + 60), (cx + 60, cy + 60), (cx, cy + 160)):
        d.regular_polygon((x, y, 62), 6, fill="#ffffff55")


def _salame(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle(_box(cx - 60, cy, 700, 260), 130, fill=main)
    d.ellipse(_box(cx + 330, cy + 120, 300, 300), fill=main)
    d.ellipse(_box(cx + 330, cy + 120, 250, 250), fill="#c0504d")
    for x, y in (
        (cx + 290, cy + 80),
        (cx + 370, cy + 100),
        (cx + 320, cy + 170),
        (cx + 390, cy + 180),
    ):
        d.ellipse(_box(x, y, 36, 30), fill=accent)
    d.line([(cx - 410, cy), (cx - 470, cy - 80)], fill="#795548", width=12)


def _cheese(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.polygon(
        [(cx - 340, cy + 220), (cx + 340, cy + 220), (cx + 340, cy - 40), (cx - 340, cy + 60)],
        fill=main,
    )
    d.polygon([(cx - 340, cy + 60), (cx + 340, cy - 40), (cx + 200, cy - 160)], fill=accent)
    for x, y, r in ((cx - 150, cy + 130, 60), (cx + 100, cy + 90, 80), (cx + 240, cy + 170, 40)):
        d.ellipse(_box(x, y, r, r), fill=accent)


def _nuts(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.chord(_box(cx, cy + 60, 700, 560), 0, 180, fill=accent)
    for x, y in (
        (cx - 170, cy + 40),
        (cx, cy + 10),
        (cx + 170, cy + 40),
        (cx - 85, cy - 80),
        (cx + 85, cy - 80),
    ):
        d.ellipse(_box(x, y, 190, 160), fill=main)
        d.line([(x, y - 70), (x, y + 70)], fill=accent, width=8)


def _gift(d: ImageDraw.ImageDraw, cx: int, cy: int, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle(_box(cx, cy + 110, 600, 440), 24, fill=main)
    d.rounded_rectangle(_box(cx, cy - 150, 660, 120), 24, fill=main)
    d.rectangle(_box(cx, cy + 50, 90, 560), fill=accent)
    d.rectangle(_box(cx, cy - 150, 660, 40), fill=accent)
    d.ellipse(_box(cx - 90, cy - 260, 180, 110), outline=accent, width=30)
    d.ellipse(_box(cx + 90, cy - 260, 180, 110), outline=accent, width=30)


PAINTERS: dict[str, Painter] = {
    "package": _package,
    "mate": _mate,
    "bombilla": _bombilla,
    "thermos": _thermos,
    "tins": _tins,
    "alfajor": _alfajor,
    "jar": _jar,
    "block": _block,
    "pastry": _pastry,
    "buns": _buns,
    "loaf": _loaf,
    "tart": _tart,
    "bottle": _bottle,
    "oil": _oil,
    "honey": _honey,
    "salame": _salame,
    "cheese": _cheese,
    "nuts": _nuts,
    "gift": _gift,
}


def draw(product: DemoProduct) -> bytes:
    """The product's picture as PNG bytes."""
    background, main, accent = product.colours
    image = Image.new("RGB", CANVAS, background)
    d = ImageDraw.Draw(image, "RGBA")
    w, h = image.size
    # A soft disc behind the drawing, and the drawing itself.
    d.ellipse(_box(w // 2, h // 2 - 70, 1040, 1040), fill="#ffffff70")
    PAINTERS[product.motif](d, w // 2, h // 2 - 70, main, accent)
    _label(d, w, h, product.label, main if _dark(main) else INK)
    out = io.BytesIO()
    # Halved (smooth edges): 800x600 is plenty for a card and the product page, and the
    # image service re-encodes it fast (it never enlarges a picture).
    image.reduce(2).save(out, "PNG", compress_level=1)
    return out.getvalue()


def _dark(colour: Colour) -> bool:
    """Whether words in this colour read well on white (relative luminance below 0.4)."""
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.4


def _label(d: ImageDraw.ImageDraw, w: int, h: int, text: str, colour: Colour) -> None:
    font, accents = _font(84)
    words = text if accents else _plain(text)
    left, top, right, bottom = d.textbbox((0, 0), words, font=font)
    pad_x, pad_y = 56, 28
    box_w, box_h = right - left + 2 * pad_x, bottom - top + 2 * pad_y
    x0, y0 = (w - box_w) // 2, h - box_h - 48
    d.rounded_rectangle((x0, y0, x0 + box_w, y0 + box_h), box_h // 2, fill="#ffffffe6")
    d.text((x0 + pad_x - left, y0 + pad_y - top), words, font=font, fill=colour)
