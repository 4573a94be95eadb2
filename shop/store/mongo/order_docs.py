"""Orders as MongoDB documents, and the tombstone that marks a purchase that never was."""

from __future__ import annotations

from collections.abc import Sequence

from bson import ObjectId

from shop.models import answers
from shop.models.orders import Order, OrderLine, OrderStatus, Unfilled
from shop.store.mongo.docs import Doc

# The status of a tombstone: a document under an order's id saying that purchase died
# before its commit. Every read of orders leaves tombstones out.
ABORTED = "aborted"


def order_doc(order: Order, cid: str, unfilled: Sequence[Unfilled]) -> Doc:
    return {
        "_id": ObjectId(order.id),
        "code": order.code,
        "purchased_at": order.purchased_at,
        "user": ObjectId(order.user),
        "purchaser": order.purchaser,
        "status": str(order.status),
        "cart": ObjectId(cid),
        "lines": [
            {
                "product": ObjectId(line.product),
                "title": line.title,
                "code": line.code,
                "price_cents": line.price_cents,
                "quantity": line.quantity,
            }
            for line in order.lines
        ],
        # Kept so that a key whose purchase died after its commit can still be answered.
        "unfilled": answers.unfilled_list(unfilled),
    }


def order_of_doc(doc: Doc) -> Order:
    return Order(
        id=str(doc["_id"]),
        code=doc["code"],
        purchased_at=doc["purchased_at"],
        user=str(doc["user"]),
        purchaser=doc["purchaser"],
        status=OrderStatus(doc["status"]),
        lines=tuple(
            OrderLine(
                product=str(line["product"]),
                title=line["title"],
                code=line["code"],
                price_cents=int(line["price_cents"]),
                quantity=int(line["quantity"]),
            )
            for line in doc["lines"]
        ),
    )
