"""The shop's languages: English (the source text) and one per catalogue in shop/locale.

Catalogues are the `.po` files kept in the repository, compiled in memory at start-up (no
compiled `.mo` is ever written or committed). A language is named by its BCP 47 tag
(`en`, `es-AR`): in `<html lang>`, the preference cookie, `Accept-Language` and
`SHOP_LANGUAGE`. A tag of another region of a language we have (`es`, `es-MX`) gets it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import get_currency_name
from babel.support import Translations

from shop.i18n.formats import MoneyFormat, moment, number
from shop.models.messages import Message

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
SOURCE = "en"  # the language the code and templates are written in


def _tag(locale_name: str) -> str:
    """A catalogue's directory name as a BCP 47 tag: "es_AR" -> "es-AR"."""
    return locale_name.replace("_", "-")


@lru_cache(maxsize=1)
def available_tags() -> tuple[str, ...]:
    """English, then every language with a catalogue, by tag."""
    found = sorted(
        _tag(po.parents[1].name) for po in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    )
    return (SOURCE, *(tag for tag in found if tag != SOURCE))


def _catalogue_path(tag: str) -> Path:
    return LOCALE_DIR / tag.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


@dataclass(frozen=True, slots=True)
class Compiled:
    """A catalogue compiled: its translations, its plural rule (a C expression of n), how
    many plural forms it has, and each plural message's forms."""

    translations: NullTranslations
    plural_expr: str = "(n != 1)"
    num_plurals: int = 2
    plurals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def compile_catalogue(tag: str) -> Compiled:
    """The language's catalogue compiled from its `.po` (fuzzy entries left out)."""
    path = _catalogue_path(tag)
    if not path.exists():
        return Compiled(NullTranslations())
    with path.open("rb") as source:
        catalogue = read_po(source, locale=tag.replace("-", "_"))
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    plurals = {
        message.id[0]: tuple(message.string)
        for message in catalogue
        if isinstance(message.id, tuple) and not message.fuzzy and all(message.string)
    }
    return Compiled(
        Translations(compiled, domain=DOMAIN),
        catalogue.plural_expr,
        catalogue.num_plurals,
        plurals,
    )


@dataclass(frozen=True, slots=True)
class Language:
    """One language and what a page in it needs: its words and its ways with numbers."""

    tag: str
    locale: Locale
    catalogue: Compiled = field(repr=False)
    money_format: MoneyFormat = field(repr=False)

    @property
    def name(self) -> str:
        """The language's name in itself, for the switch: "English", "Español"."""
        name = self.locale.language_name or self.tag
        return name[:1].upper() + name[1:]

    @property
    def currency_name(self) -> str:
        """The shop's currency as this language names amounts of it: "US dollars"."""
        return get_currency_name(self.money_format.currency, count=2, locale=self.locale)

    @property
    def decimal_mark(self) -> str:
        """What separates the decimals in this language: "." or ","."""
        return str(self.locale.number_symbols.get("latn", {}).get("decimal", "."))

    def gettext(self, message: str) -> str:
        return self.catalogue.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.catalogue.translations.ngettext(singular, plural, n)

    def plural_forms(self, singular: str, plural: str) -> tuple[str, ...]:
        """Every form of a plural message, by the index the plural rule gives a count."""
        found = self.catalogue.plurals.get(singular)
        if found is not None:
            return found
        # Untranslated: the source's words (form 0 is "one" in the shop's languages).
        return tuple(
            singular if form == 0 else plural for form in range(self.catalogue.num_plurals)
        )

    def message(self, text: Message | str, **params: Any) -> str:
        """A message template translated, then filled in with its parameters."""
        if isinstance(text, Message):
            return replace(text, params={**text.params, **params}).fill(
                self.gettext(text.template)
            )
        translated = self.gettext(text)
        return translated.format(**params) if params else translated

    def money(self, cents: int) -> str:
        return self.money_format(cents)

    def number(self, value: int) -> str:
        return number(value, self.locale)

    def moment(self, value: datetime) -> str:
        return moment(value, self.locale)


class Languages:
    """Every language the shop speaks, and the one it speaks when nobody says."""

    def __init__(self, languages: Mapping[str, Language], default: str) -> None:
        self._by_tag = dict(languages)
        self._lower = {tag.lower(): language for tag, language in self._by_tag.items()}
        self.default = self._by_tag[default]

    def __iter__(self) -> Iterator[Language]:
        return iter(self._by_tag.values())

    def match(self, tag: str) -> Language | None:
        """The language a tag asks for: the same tag, else one of the same language."""
        return match_tag(tag, self._lower)


def match_tag[T](tag: str, by_lower_tag: Mapping[str, T]) -> T | None:
    """`by_lower_tag`'s entry for `tag` (any case, `_` or `-`), else for its language."""
    wanted = tag.strip().replace("_", "-").lower()
    if not wanted:
        return None
    if wanted in by_lower_tag:
        return by_lower_tag[wanted]
    primary = wanted.split("-", 1)[0]
    return next(
        (value for key, value in by_lower_tag.items() if key.split("-", 1)[0] == primary), None
    )


def resolve_tag(raw: str) -> str | None:
    """The available tag `raw` names (SHOP_LANGUAGE), or None."""
    return match_tag(raw, {tag.lower(): tag for tag in available_tags()})


def load_languages(default: str, currency: str) -> Languages:
    """Every available language, compiled, with amounts in `currency`."""
    languages = {}
    for tag in available_tags():
        locale = Locale.parse(tag, sep="-")
        languages[tag] = Language(
            tag=tag,
            locale=locale,
            catalogue=compile_catalogue(tag),
            money_format=MoneyFormat(locale, currency),
        )
    return Languages(languages, default)
