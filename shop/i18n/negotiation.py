"""Which language a request is answered in: the preference cookie the header's switch
sets, else the browser's `Accept-Language`, else `SHOP_LANGUAGE`.

Pages and the API's error messages follow the same choice. An answer that depended on it
says so with `Vary: Accept-Language`. (Not `Cookie`: pages carry no freshness information
nor validators, so no shared cache keeps them, and varying on the cookie would make a
browser refetch the page a Back button should show as it was.)
"""

from __future__ import annotations

from aiohttp import web

from shop.i18n.languages import Language, Languages
from shop.keys import LANGUAGE, LANGUAGES

COOKIE = "shop_language"
COOKIE_MAX_AGE = 365 * 24 * 3600
# An Accept-Language header is a short list; a long one is read no further than this.
MAX_HEADER = 500
MAX_RANGES = 20


def accepted(header: str) -> list[str]:
    """The language ranges of an Accept-Language header, most wanted first (q=0 left out)."""
    ranges: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:MAX_HEADER].split(",")[:MAX_RANGES]):
        tag, _, params = item.partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        if tag.strip() and 0 < quality <= 1:
            ranges.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranges)]


def choose(languages: Languages, cookie: str | None, header: str | None) -> Language:
    """The cookie's language, else the first of the header's we have, else the default."""
    if cookie and (chosen := languages.match(cookie)) is not None:
        return chosen
    for tag in accepted(header or ""):
        if tag == "*":
            return languages.default
        if (chosen := languages.match(tag)) is not None:
            return chosen
    return languages.default


def language_of(request: web.Request) -> Language:
    """This request's language (worked out once per request)."""
    chosen = request.get(LANGUAGE)
    if chosen is None:
        chosen = choose(
            request.app[LANGUAGES],
            request.cookies.get(COOKIE),
            request.headers.get("Accept-Language"),
        )
        request[LANGUAGE] = chosen
    return chosen


async def vary_on_language(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: an answer written in the chosen language says it varies."""
    if request.get(LANGUAGE) is not None:
        response.headers.add("Vary", "Accept-Language")
