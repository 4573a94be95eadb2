"""What the services announce, and to whom; the realtime hub delivers it, to the sockets
of every process when several share a Redis bus.

Products and carts in events carry the `version` their store gave them (every write bumps
it, in write order): pages drop an event older than what they show, as events of two
processes may arrive in either order.
"""

from __future__ import annotations

from typing import Any, Protocol


class Events(Protocol):
    def publish_products(self, event: dict[str, Any]) -> None:
        """Send to every socket subscribed to product events."""

    def publish_user(self, uid: str, event: dict[str, Any]) -> None:
        """Send to every socket of one user, and only theirs."""

    def publish_order(self, uid: str, event: dict[str, Any]) -> None:
        """Send to the sockets of the order's owner and of every admin."""

    def listening(self, uid: str) -> bool:
        """Whether any socket of the user follows their cart: if not, skip building events."""

    def disconnect_user(self, uid: str, session: str | None = None) -> None:
        """Close the user's sockets (those of one session, when given): that session ended."""


def product_event(kind: str, product: dict[str, Any]) -> dict[str, Any]:
    return {"type": f"product.{kind}", "product": product}


def cart_event(cart: dict[str, Any]) -> dict[str, Any]:
    return {"type": "cart.updated", "cart": cart}


def order_event(order: dict[str, Any]) -> dict[str, Any]:
    return {"type": "order.updated", "order": order}
