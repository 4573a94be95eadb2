"""Extracting the shop's messages into its catalogues (`make catalogues`).

    python -m shop.i18n.extract            # update every shop/locale/*/LC_MESSAGES/messages.po
    python -m shop.i18n.extract --new pt_BR   # start a catalogue for a new language

Messages come from the Python code (`N_()` and the first argument of the domain errors,
`NotFound("product {pid} not found", ...)`), the templates (`_()`, `ngettext()`,
`{% trans %}`) and the page scripts (`t()`, `nt()`). Updating keeps every translation,
marks changed messages fuzzy (a fuzzy entry is not used until a translator checks it) and
drops the messages no code uses any more.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from shop.i18n.languages import DOMAIN, LOCALE_DIR

ROOT = LOCALE_DIR.parents[1]
# (directory under the project, Babel's extraction method for its files)
SOURCES = (
    ("shop", [("**.py", "python")]),
    ("templates", [("**.html", "jinja2")]),
    ("static/js", [("**.js", "javascript")]),
)
ERRORS = (
    "ShopError",
    "Invalid",
    "Unauthorized",
    "LoginRequired",
    "Forbidden",
    "NotFound",
    "Conflict",
    "TooLarge",
    "UnsupportedMediaType",
    "Unprocessable",
    "TooManyRequests",
    "Unavailable",
)
KEYWORDS: dict[str, object] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    **dict.fromkeys(ERRORS),
    "t": None,  # static/js/text.js
    "nt": (1, 2),
}
PO_OPTIONS = {"width": 100, "sort_by_file": True}


def extract() -> Catalog:
    """Every message of the shop's code, templates and scripts, with where it is used."""
    template = Catalog(project="shop", domain=DOMAIN, charset="utf-8")
    for directory, method_map in SOURCES:
        found = extract_from_dir(
            ROOT / directory,
            method_map=method_map,
            keywords=KEYWORDS,
            comment_tags=("Translators:",),
            strip_comment_tags=True,
        )
        for filename, line, message, comments, context in found:
            template.add(
                message,
                None,
                [(f"{directory}/{filename}", line)],
                auto_comments=comments,
                context=context,
            )
    return template


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def update(template: Catalog) -> list[Path]:
    """Bring every catalogue up to date with `template`; the files written."""
    written = []
    for path in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with path.open("rb") as source:
            catalogue = read_po(source, locale=path.parents[1].name)
        catalogue.update(template, update_header_comment=False, update_creation_date=False)
        _write(path, catalogue)
        written.append(path)
    return written


def new_language(template: Catalog, locale: str) -> Path:
    """Start the catalogue of a new language, every message untranslated."""
    try:
        parsed = Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        raise SystemExit(f"extract: {locale!r} is not a locale Babel knows (like pt_BR)") from None
    path = catalogue_path(str(parsed))
    if path.exists():
        raise SystemExit(f"extract: {path} exists already; run without --new to update it")
    catalogue = Catalog(project="shop", domain=DOMAIN, locale=parsed, charset="utf-8")
    catalogue.update(template)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, catalogue)
    return path


def _write(path: Path, catalogue: Catalog) -> None:
    with path.open("wb") as out:
        write_po(out, catalogue, ignore_obsolete=True, omit_header=False, **PO_OPTIONS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--new", metavar="LOCALE", help="start a catalogue for this language")
    args = parser.parse_args(argv)
    template = extract()
    if args.new:
        print(f"created {new_language(template, args.new).relative_to(ROOT)}")
        return 0
    for path in update(template):
        with path.open("rb") as source:
            catalogue = read_po(source)
        missing = sum(1 for message in catalogue if message.id and not all_translated(message))
        print(f"updated {path.relative_to(ROOT)}: {missing} messages to translate")
    return 0


def all_translated(message: object) -> bool:
    """True when a catalogue entry has every form translated and is not fuzzy."""
    string = getattr(message, "string", "")
    forms = string if isinstance(string, tuple) else (string,)
    return bool(forms) and all(forms) and not getattr(message, "fuzzy", False)


if __name__ == "__main__":
    sys.exit(main())
