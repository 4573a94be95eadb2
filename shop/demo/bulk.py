"""A large catalogue for trials (`shop seed-demo --products 100000`): the demo products in
many makers' versions and lots, made in memory and written with one bulk store call."""

from __future__ import annotations

from collections.abc import Iterator
from random import Random

from shop.demo.catalogue import CATALOGUE
from shop.models.products import Product
from shop.service.ids import new_id

MAKERS = (
    "La Tranquera",
    "Don Aurelio",
    "Pampa Sur",
    "El Ceibo",
    "Santa Catalina",
    "Tres Arroyos",
    "Doña Rosa",
    "Los Abuelos",
    "Cerro Azul",
    "La Querencia",
    "El Hornero",
    "Monte Alegre",
)
SEED = 20_24


def trial_products(count: int, suffix: str = "") -> Iterator[Product]:
    """`count` believable products with distinct codes (each ending in `suffix`), no pictures."""
    rng = Random(SEED)  # noqa: S311 (the same mix every time, not a secret)
    for n in range(1, count + 1):
        base = CATALOGUE[(n - 1) % len(CATALOGUE)]
        maker = MAKERS[(n - 1) // len(CATALOGUE) % len(MAKERS)]
        yield Product(
            id=new_id(),
            title=f"{base.title} {maker} (lote {n})",
            description=f"{base.description} Elaborado por {maker}.",
            code=f"{base.code}-{n:06d}{suffix}",
            price_cents=max(100, base.price_cents + rng.randint(-30, 30) * 10),
            status=rng.random() > 0.03,
            stock=rng.choice((0, 2, 5)) if rng.random() < 0.05 else rng.randint(6, 250),
            category=base.category,
        )
