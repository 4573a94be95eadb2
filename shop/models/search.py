"""Text search, the same on every store: the catalogue's, and the back office's accounts.

A product is found by the words of its title, description and code, normalised (accents
removed, case folded, split on anything that is not a letter or digit). A query matches
when each of its words is the start of one of the product's words: `azu caf` finds
"Azúcar para café". The stores keep each product's normalised words and look the
prefixes up in an index, so a search never scans the catalogue; its total counts up to
COUNT_LIMIT matches. An account is found the same way by the words of its names and email.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 8
MAX_WORD_LENGTH = 40
# A search counts its matches up to this many, like search engines do ("more than 1,000"):
# counting every product that holds a common word would cost each search a scan of the
# catalogue, where stopping here costs about as much as listing a page.
COUNT_LIMIT = 1000


def fold(text: str) -> str:
    """`text` without accents, case folded: "Azúcar" -> "azucar"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(*texts: str) -> list[str]:
    """The distinct normalised words of `texts`, in first-seen order."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in _WORD.findall(fold(text)):
            seen.setdefault(word[:MAX_WORD_LENGTH], None)
    return list(seen)


def product_words(title: str, description: str, code: str) -> list[str]:
    return words(title, description, code)


def user_words(first_name: str, last_name: str, email: str) -> list[str]:
    """What finds an account: its names and the parts of its email ("ana.paz@x.com" is
    found by "ana", "paz" or "x")."""
    return words(first_name, last_name, email)


def sort_key(title: str) -> str:
    """What titles sort by: case and accents ignored ("árbol" sorts with "arbol")."""
    return fold(title).strip()


def query_words(query: str) -> tuple[str, ...]:
    """The prefixes a query asks for (at most MAX_QUERY_WORDS), normalised like products'."""
    return tuple(words(query)[:MAX_QUERY_WORDS])


def prefix_end(prefix: str) -> str:
    """The smallest string after every string that starts with `prefix` (for range scans)."""
    return prefix + "\U0010ffff"


def distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
