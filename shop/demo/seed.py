"""`shop seed-demo`: an empty shop filled with a believable Argentine almacén.

Products are created through the product service and their pictures stored through the
image service, exactly as an admin's upload would be. A demo shopper (random password)
then buys a few dozen orders spread over the last 30 days, placed through the store like
any purchase (so every unit sold came out of the stock), back-dated, and moved along their
statuses, some cancelled (their stock went back). The dashboard has something to show.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from random import Random

from shop.demo import pictures
from shop.demo.bulk import trial_products
from shop.demo.catalogue import CATALOGUE, DemoProduct
from shop.models.orders import OrderStatus, PurchaseRequest, purchase_time, sources
from shop.models.products import Product, ProductIn, ProductQuery
from shop.models.reports import SALES_DAYS, local_days, today_in
from shop.models.users import User, UserIn
from shop.service.ids import new_id
from shop.service.images import ImageService
from shop.service.products import ProductService
from shop.service.users import UserService
from shop.store.base import Store
from shop.store.products import Progress

SHOPPER = ("Lucía", "Fernández", "lucia.demo{run}@example.com")
DAYS = SALES_DAYS  # orders on each of the dashboard's days
SEED = 1816  # the same mix of orders every time
PICTURES_AT_ONCE = 4
# The statuses an order goes through to reach each one.
PATHS = {
    OrderStatus.PLACED: (),
    OrderStatus.PAID: (OrderStatus.PAID,),
    OrderStatus.SHIPPED: (OrderStatus.PAID, OrderStatus.SHIPPED),
    OrderStatus.DELIVERED: (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    OrderStatus.CANCELLED: (OrderStatus.CANCELLED,),
}
MIN_STOCK_TO_SELL = 15  # products low on stock stay so for the dashboard

# Starts a step of the work: its name and size; answers how to advance it.
type Steps = Callable[[str, int], Progress]


def _quiet(name: str, total: int) -> Progress:
    return lambda n: None


@dataclass(frozen=True, slots=True)
class DemoResult:
    products: int = 0
    categories: int = 0
    orders: int = 0
    email: str | None = None
    password: str | None = None
    existing: int = 0  # products the shop had (nothing is added to them without force)


class DemoShop:
    def __init__(
        self,
        store: Store,
        products: ProductService,
        images: ImageService,
        users: UserService,
        timezone: str,
    ) -> None:
        """`timezone` is the dashboard's (SHOP_TIMEZONE): the orders fall on its days."""
        self._store = store
        self._timezone = timezone
        self._products = products
        self._images = images
        self._users = users

    async def fill(
        self, *, force: bool = False, count: int | None = None, steps: Steps = _quiet
    ) -> DemoResult:
        """Add the demo catalogue (`count` products in all when given), a shopper and
        their orders; nothing when the shop has products already, unless `force`."""
        existing = (await self._store.products.list(ProductQuery(limit=1))).total
        if existing and not force:
            return DemoResult(existing=existing)
        run = await self._free_run()
        suffix = "" if run == 1 else f"-{run}"
        demo = CATALOGUE if count is None else CATALOGUE[:count]
        made = await self._demo_products(demo, suffix, steps)
        extra = 0 if count is None else max(0, count - len(demo))
        if extra:
            products = list(trial_products(extra, suffix))
            await self._store.products.upsert_by_code(products, steps("products", extra))
        shopper, password = await self._shopper(run)
        orders = await self._orders(shopper, made, steps)
        return DemoResult(
            products=len(made) + extra,
            categories=len({product.category for product in demo}),
            orders=orders,
            email=shopper.email,
            password=password,
            existing=existing,
        )

    async def _free_run(self) -> int:
        """1 on a shop without the demo; else the first run number whose codes and shopper
        are free (`--force` adds the demo again beside the one there)."""
        run = 1
        while True:
            suffix = "" if run == 1 else f"-{run}"
            codes = [product.code + suffix for product in CATALOGUE]
            taken = await self._store.products.find_codes(codes)
            email = SHOPPER[2].format(run="" if run == 1 else run)
            if not taken and await self._store.users.get_by_email(email) is None:
                return run
            run += 1

    async def _demo_products(
        self, demo: Sequence[DemoProduct], suffix: str, steps: Steps
    ) -> list[Product]:
        advance = steps("pictures", len(demo))
        slots = asyncio.Semaphore(PICTURES_AT_ONCE)

        async def make(item: DemoProduct) -> Product:
            async with slots:
                product = await self._products.create(
                    ProductIn(
                        title=item.title,
                        description=item.description,
                        code=item.code + suffix,
                        price=Decimal(item.price_cents).scaleb(-2),
                        stock=item.stock,
                        category=item.category,
                    )
                )
                png = await asyncio.to_thread(pictures.draw, item)
                product, _ = await self._images.add(product.id, png)
                advance(1)
                return product

        return list(await asyncio.gather(*(make(item) for item in demo)))

    async def _shopper(self, run: int) -> tuple[User, str]:
        first, last, email = SHOPPER
        password = secrets.token_urlsafe(12)
        data = UserIn(
            first_name=first,
            last_name=last,
            email=email.format(run="" if run == 1 else run),
            age=34,
            password=password,
        )
        return await self._users.register(data), password

    async def _orders(self, shopper: User, made: Sequence[Product], steps: Steps) -> int:
        """Back-dated purchases over the last DAYS days, through the store; how many."""
        assert shopper.cart is not None
        rng = Random(SEED)  # noqa: S311 (the same mix every time, not a secret)
        sellable = [product for product in made if product.stock >= MIN_STOCK_TO_SELL]
        if not sellable:
            return 0
        plan = _order_times(purchase_time(), self._timezone, rng)
        advance = steps("orders", len(plan))
        placed = 0
        for age, at in plan:
            lines = {
                product.id: rng.randint(1, 3)
                for product in rng.sample(sellable, k=min(len(sellable), rng.randint(1, 3)))
            }
            await self._store.carts.replace(shopper.cart, list(lines.items()), shopper.id)
            request = PurchaseRequest(
                cid=shopper.cart,
                buyer=shopper.id,
                purchaser=shopper.email,
                order_id=new_id(at),
                expected_total=None,
                at=at,
            )
            result = await self._store.orders.purchase(request)
            if result.outcome["result"] == "placed":
                placed += 1
                for status in PATHS[_status(age, rng)]:
                    await self._store.orders.set_status(
                        request.order_id, status, sources(status), None
                    )
            advance(1)
        await self._store.carts.clear(shopper.cart)
        return placed


def _order_times(now: datetime, timezone: str, rng: Random) -> list[tuple[int, datetime]]:
    """(age in days, when) of each demo order: none to three on each of the DAYS local days
    that end today (the dashboard's), each no later into its day than it is now into today.
    So today's are in the past and the oldest day's still on the dashboard, whatever the
    hour, and a day that a clock change shortened keeps its own."""
    days = local_days(today_in(timezone, now), DAYS, timezone)
    elapsed = now - days[-1].start
    plan = []
    for age, day in zip(range(DAYS - 1, -1, -1), days, strict=True):
        span = min(elapsed, day.end - day.start)
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            at = day.start + span * rng.uniform(0.05, 0.95)
            plan.append((age, at.replace(microsecond=at.microsecond // 1000 * 1000)))
    return plan


def _status(age: int, rng: Random) -> OrderStatus:
    """Where an order of that age (in days) stands now: older ones are further along."""
    if rng.random() < 0.08:
        return OrderStatus.CANCELLED
    if age >= 7:
        return OrderStatus.DELIVERED
    if age >= 3:
        return OrderStatus.SHIPPED
    return OrderStatus.PAID if age >= 1 else OrderStatus.PLACED
