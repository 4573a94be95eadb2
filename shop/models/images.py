"""Product images: their names, their URLs under /media, and the rule that links a
product's page-size image to its card-size one.

An uploaded image is stored twice, re-encoded as WebP: a page size and a card size. Both
live under the product's own folder and share one key:

    /media/<pid>/<hash>-<tag>.webp        page size: what `thumbnails` lists
    /media/<pid>/<hash>-<tag>.card.webp   card size: the same name with `.card`

`hash` is the first 64 bits of the SHA-256 of both renditions, so a URL never names other
content and can be cached forever. `tag` is random per upload, so every upload owns its
files: removing one upload can never delete the files of another upload of the same
picture. The `pid` folder makes files per product: two products with the same picture hold
their own copies, so no reference count is needed, and deleting a product deletes its
folder. Any other thumbnail (an address typed in before uploads existed) is shown as it is,
at both sizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from shop.models.fields import Input, whole_number
from shop.models.products import MAX_THUMBNAILS

MEDIA_PREFIX = "/media/"
CONTENT_TYPE = "image/webp"
PID_PATTERN = r"[0-9a-f]{24}"
KEY_PATTERN = r"[0-9a-f]{16}-[0-9a-f]{8}"
FILE_PATTERN = rf"{KEY_PATTERN}(?:\.card)?\.webp"
# A stored file's name, relative to the media root: "<pid>/<key>[.card].webp".
NAME = re.compile(rf"(?P<pid>{PID_PATTERN})/(?P<key>{KEY_PATTERN})(?P<card>\.card)?\.webp")
_PAGE_URL = re.compile(rf"/media/(?P<pid>{PID_PATTERN})/(?P<key>{KEY_PATTERN})\.webp")


@dataclass(frozen=True, slots=True)
class ImageFiles:
    """The two stored renditions of one upload, named relative to the media root."""

    pid: str
    key: str

    @property
    def page(self) -> str:
        return f"{self.pid}/{self.key}.webp"

    @property
    def card(self) -> str:
        return f"{self.pid}/{self.key}.card.webp"

    @property
    def names(self) -> tuple[str, str]:
        return (self.page, self.card)

    @property
    def url(self) -> str:
        """The page-size URL, as the product's `thumbnails` lists it."""
        return MEDIA_PREFIX + self.page


def uploaded(url: str) -> ImageFiles | None:
    """The files behind a thumbnail that came from an upload; None for any other address."""
    match = _PAGE_URL.fullmatch(url)
    return ImageFiles(match["pid"], match["key"]) if match else None


def card_url(url: str) -> str:
    """The card-size address of a thumbnail: `.card.webp` for uploads, else the same URL."""
    files = uploaded(url)
    return MEDIA_PREFIX + files.card if files else url


class ImageOrder(Input):
    """A new order for a product's thumbnails: `order[i]` is the current position of the
    image that goes to position i."""

    order: Annotated[
        list[whole_number(0, MAX_THUMBNAILS - 1)],
        Field(max_length=MAX_THUMBNAILS),
    ]


def is_media_url(url: str) -> bool:
    """Whether the address points into /media, where only uploads may point."""
    return url.startswith(MEDIA_PREFIX)
