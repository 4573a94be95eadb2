"""The catalogue as a CSV file, the way shop owners move catalogues in spreadsheets.

Written: UTF-8 with a byte-order mark (so Excel reads the accents right), a header row
naming every field, comma-separated, `price` with a decimal point, `status` true/false,
`thumbnails` joined by `|`. A text cell that a spreadsheet would run as a formula (one
starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is written behind a `'`,
and so is one that starts with `'` itself, so reading the file back gives the text as it
was.

Read: UTF-8 with or without the byte-order mark, comma- or semicolon-separated (as Spanish
spreadsheets save them, with decimal commas: `12,50`, `1.234,50`); the `_id` column is
ignored, since a product is known by its code. Every row is checked by the API's own
input model, and every problem is reported with its line: the header is line 1, and each
row is one line as a spreadsheet counts them (a quoted cell spanning lines is still one).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from shop.models.fields import typed_whole_number
from shop.models.messages import Message, field_errors, phrase
from shop.models.money import from_text
from shop.models.products import Product, ProductIn, Upserted

COLUMNS = (
    "_id",
    "title",
    "description",
    "code",
    "price",
    "status",
    "stock",
    "category",
    "thumbnails",
)
REQUIRED = frozenset({"title", "code", "price", "stock", "category"})
# Columns a file may leave out: a new product then gets the default, a known one keeps
# what it has.
OPTIONAL = frozenset({"description", "status", "thumbnails"})
IGNORED = frozenset({"_id"})
TEXT_COLUMNS = frozenset({"title", "description", "code", "category", "thumbnails"})
SEPARATOR = "|"
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
TRUE_WORDS = frozenset({"true", "1", "yes", "sí", "si", "verdadero", "v"})
FALSE_WORDS = frozenset({"false", "0", "no", "falso", "f"})
MAX_ROWS = 200_000  # a file's products at most: memory stays bounded whatever its size
MAX_KEPT = 10_000  # problems kept (all are counted): a file of bad rows is reported, not held
# "1.234,50": dots group thousands only where a comma marks the decimals.
_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+,\d+")


# ---- writing ---------------------------------------------------------------------------


def escape_cell(text: str) -> str:
    """The cell as a spreadsheet must never run it: a formula's first character (or a `'`)
    gets a `'` in front, which `unescape_cell` takes off again."""
    return QUOTE + text if text.startswith((*FORMULA_STARTS, QUOTE)) else text


def unescape_cell(text: str) -> str:
    if text.startswith(QUOTE) and text[1:].startswith((*FORMULA_STARTS, QUOTE)):
        return text[1:]
    return text


def price_text(cents: int) -> str:
    """Cents as the exact decimal text a file holds: 1250 -> "12.50"."""
    return f"{cents // 100}.{cents % 100:02d}"


def product_row(product: Product) -> list[str]:
    # A `|` inside an address would split it; %7C is the same address to a browser.
    thumbnails = SEPARATOR.join(url.replace(SEPARATOR, "%7C") for url in product.thumbnails)
    return [
        product.id,
        escape_cell(product.title),
        escape_cell(product.description),
        escape_cell(product.code),
        price_text(product.price_cents),
        "true" if product.status else "false",
        str(product.stock),
        escape_cell(product.category),
        escape_cell(thumbnails),
    ]


def write_rows(rows: Iterable[list[str]], *, header: bool = False) -> bytes:
    """Rows as CSV bytes (RFC 4180: CRLF, quotes where needed); the BOM and header first
    when `header`."""
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        out.write(BOM)
        writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode()


# ---- reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong on one line of a file, and in which field (or column)."""

    line: int
    field: str
    message: Message

    @property
    def where(self) -> str:
        return f"line {self.line}, {self.field}"


@dataclass(frozen=True, slots=True)
class Row:
    """A row that passed the product input model; `line` says where it was."""

    line: int
    product: ProductIn


class Problems:
    """Every problem found in a file: all counted, the first MAX_KEPT kept."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.count = 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.kept) < MAX_KEPT:
            self.kept.append(problem)

    def __bool__(self) -> bool:
        return self.count > 0


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import wrote, and how many `/media` addresses it left out."""

    written: Upserted
    images_left_out: int = 0


@dataclass(slots=True)
class CatalogueFile:
    """A read file: its good rows, its problems, and which optional columns it has."""

    rows: list[Row] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    columns: frozenset[str] = frozenset()


def read_catalogue(data: bytes) -> CatalogueFile:
    """Read and check every row of a CSV file (CPU work: run it off the event loop)."""
    result = CatalogueFile()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        result.problems.add(Problem(line, "file", phrase("utf8")))
        return result
    if not text.strip():
        result.problems.add(Problem(1, "file", phrase("empty_file")))
        return result
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    records = _records(text, delimiter, result.problems)
    header = next(records, None)
    if header is None:
        return result
    columns = _columns(header[1], result.problems)
    if result.problems:
        return result
    result.columns = frozenset(columns)
    seen: dict[str, int] = {}
    for line, cells in records:
        if line > MAX_ROWS + 1:
            result.problems.add(Problem(line, "file", phrase("too_many_rows", most=MAX_ROWS)))
            break
        if not any(cell.strip() for cell in cells):
            continue  # a blank row, as spreadsheets leave at the end
        if len(cells) > len(columns):
            result.problems.add(
                Problem(line, "row", phrase("row_cells", cells=len(cells), columns=len(columns)))
            )
            continue
        row = _row(line, dict(zip(columns, cells, strict=False)), result.problems)
        if row is None:
            continue
        first = seen.setdefault(row.product.code, line)
        if first != line:
            result.problems.add(Problem(line, "code", phrase("duplicate_code", line=first)))
            continue
        result.rows.append(row)
    return result


def _records(text: str, delimiter: str, problems: Problems) -> Iterator[tuple[int, list[str]]]:
    """Each record with its line (the header is 1); a syntax error ends the file."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 0
    while True:
        line += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.add(Problem(line, "row", phrase("csv_syntax", reason=str(exc))))
            return
        yield line, cells


def _columns(header: list[str], problems: Problems) -> list[str]:
    names = [name.strip().lstrip(BOM).strip().lower() for name in header]
    known = REQUIRED | OPTIONAL | IGNORED
    for name in dict.fromkeys(names):
        if names.count(name) > 1:
            problems.add(Problem(1, name or "(empty)", phrase("repeated_column")))
        elif name not in known:
            problems.add(Problem(1, name or "(empty)", phrase("extra_forbidden")))
    for name in sorted(REQUIRED - set(names)):
        problems.add(Problem(1, name, phrase("missing_column")))
    return names


def _row(line: int, cells: dict[str, str], problems: Problems) -> Row | None:
    values: dict[str, Any] = {}
    for name, raw in cells.items():
        if name in IGNORED:
            continue
        cell = unescape_cell(raw) if name in TEXT_COLUMNS else raw
        value = _value(name, cell)
        if value is not None:
            values[name] = value
    try:
        return Row(line, ProductIn.model_validate(values))
    except ValidationError as exc:
        for name, message in field_errors(exc, top_level=True).items():
            problems.add(Problem(line, name, message))
        return None


def _value(name: str, cell: str) -> Any:
    """A cell as the input model takes it; None leaves the field out (its default)."""
    match name:
        case "price":
            return _amount(cell)
        case "stock":
            return typed_whole_number(cell)
        case "status":
            word = cell.strip().lower()
            if not word:
                return None
            if word in TRUE_WORDS:
                return True
            return False if word in FALSE_WORDS else cell
        case "thumbnails":
            return [url.strip() for url in cell.split(SEPARATOR) if url.strip()]
        case _:
            return cell


def _amount(cell: str) -> Decimal | str:
    """A price as written: `12.50`, or with a decimal comma, `12,50` or `1.234,50`."""
    text = cell.strip()
    if _GROUPED.fullmatch(text):
        text = text.replace(".", "")
    return from_text(text)
