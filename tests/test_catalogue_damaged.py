"""Damaged catalogue files on every store: whatever the damage, POST /api/products/import
imports the whole file (200) or nothing (400, the catalogue as it was); never a 500.

The files are a good catalogue with random damage (a seeded generator: the same files on
every run): cells missing or added, bad prices, stocks and codes, control characters, an
unclosed quote, a repeated code, a byte that is not UTF-8, changed prices and stocks that
make a good row an update.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.conftest import Auth, Client
from tests.test_catalogue_csv import catalogue, upload

HEADER = "title,code,price,stock,category"
FILES = 40  # per store; about two seconds
CODES = [f"P{n:03d}" for n in range(1, 13)]

type Damage = Callable[[random.Random, list[str]], list[str]]


def _set(index: int, *values: str) -> Damage:
    return lambda rng, cells: [*cells[:index], rng.choice(values), *cells[index + 1 :]]


DAMAGES: list[Damage] = [
    lambda rng, cells: cells[: rng.randrange(len(cells))],  # cells missing
    lambda rng, cells: [*cells, "extra"],  # a cell more than the header
    _set(0, "", "   ", "Ti\x00tle", "Ti\x1btle", "x" * 201),
    _set(1, "", "bad code", "ñandú", "$gt", "a" * 300),
    _set(2, "0", "-1", "1.001", "abc", "NaN", "Infinity", "1e400", ""),
    _set(3, "-1", "1.5", "x", "99999999999999999999", ""),
    _set(4, "", "\r", "Cat\x07"),
    lambda rng, cells: ['"unclosed', *cells[1:]],
]


def _row(rng: random.Random, code: str) -> list[str]:
    """A good row for `code`; its price and stock vary, so a known code is updated."""
    return [f"Producto {code}", code, f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
            str(rng.randint(0, 50)), f"Cat{rng.randint(0, 2)}"]  # fmt: skip


def damaged_file(rng: random.Random) -> tuple[bytes, list[list[str]]]:
    """A file and the rows it holds undamaged (a damaged row may still be a good one: a
    row cut to nothing is a blank line)."""
    rows = [_row(rng, code) for code in rng.sample(CODES, rng.randint(1, len(CODES)))]
    lines = [HEADER]
    intact = []
    rate = rng.choice((0.0, 0.0, 0.1, 0.3))  # about half the files are damaged
    for cells in rows:
        if rng.random() < rate:
            lines.append(",".join(rng.choice(DAMAGES)(rng, cells)))
        else:
            lines.append(",".join(cells))
            intact.append(cells)
    if rng.random() < 0.1:
        lines.append(lines[-1])  # a repeated code
    data = "\r\n".join(lines).encode() + b"\r\n"
    if rng.random() < 0.05:
        cut = rng.randrange(len(data))
        data = data[:cut] + b"\xff" + data[cut:]  # not UTF-8
    return data, intact


async def test_a_damaged_file_is_imported_whole_or_not_at_all(client: Client, auth: Auth) -> None:
    await auth.admin()
    rng = random.Random(9)
    outcomes = set()
    for _ in range(FILES):
        data, rows = damaged_file(rng)
        before = await catalogue(client)
        response = await upload(client, data)
        assert response.status in (200, 400), await response.text()
        outcomes.add(response.status)
        after = await catalogue(client)
        if response.status == 400:
            assert after == before
            continue
        by_code = {product["code"]: product for product in after}
        for title, code, price, stock, category in rows:
            product = by_code[code]
            assert (product["title"], product["price"], product["stock"], product["category"]) == (
                title,
                float(price),
                int(stock),
                category,
            )
        assert by_code.keys() <= {p["code"] for p in before} | set(CODES)
    assert outcomes == {200, 400}  # both kinds of file were met
