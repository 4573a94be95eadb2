"""The product form's fields: a product as the form shows it, the form read back through
the API's models (so its errors are the API's `fields` phrases), and what an edit changes.

An edit sends only the fields the admin changed, so a change made elsewhere meanwhile to
another field (a purchase taking stock while the description is edited) is kept. The form
carries a digest of each field as it was shown (`seen_<field>`): a field the admin changed
that was also changed elsewhere since is a conflict, shown next to the field, rather than
silently overwritten. The write itself is conditional on the version the comparison saw
(ProductService.edit), so a change landing in between is compared too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from shop.models.money import from_text, to_text
from shop.models.products import Product, ProductIn, ProductPatch
from shop.routes.forms import parse_form, whole_number

FIELDS = ("title", "code", "price", "stock", "category", "status", "description")
REQUIRED = frozenset({"title", "code", "price", "stock", "category"})
SEEN = "seen_"  # the prefix of the hidden fields holding what the form showed
VERSION = "seen_version"  # the hidden field holding the version it showed
ON = "true"  # the status checkbox's value when ticked


def shown(product: Product | None) -> dict[str, str]:
    """The form's text for each field: the product's, or a new product's (on sale)."""
    if product is None:
        return {**dict.fromkeys(FIELDS, ""), "status": ON}
    return {
        "title": product.title,
        "code": product.code,
        "price": to_text(product.price_cents),
        "stock": str(product.stock),
        "category": product.category,
        "status": ON if product.status else "",
        "description": product.description,
    }


def shown_to(product: Product | None, decimal_mark: str) -> dict[str, str]:
    """shown(), with the price written with the reader's decimal mark ("12,50"): the
    form reads either mark back, and compares fields as shown() writes them."""
    values = shown(product)
    values["price"] = values["price"].replace(".", decimal_mark)
    return values


def posted(form: Mapping[str, str]) -> dict[str, str]:
    """The form's text for each field as the browser sent it."""
    values = {name: form.get(name, "") for name in FIELDS}
    # Browsers send a textarea's line breaks as CRLF; the API keeps them as LF.
    values["description"] = values["description"].replace("\r\n", "\n")
    values["status"] = ON if values["status"] else ""
    return values


def product_input(values: Mapping[str, str]) -> ProductIn:
    """The form's values validated as the API validates a new product (FormErrors naming
    each bad field otherwise). Prices take a decimal comma; an empty field is missing."""
    data: dict[str, Any] = {
        "title": values["title"].strip(),
        "code": values["code"].strip(),
        "price": from_text(values["price"]),
        "stock": whole_number(values["stock"]),
        "category": values["category"].strip(),
        "status": values["status"] == ON,
        "description": values["description"],
    }
    return parse_form(
        ProductIn, {name: v for name, v in data.items() if not (name in REQUIRED and v == "")}
    )


def digest(text: str) -> str:
    """What the form keeps of a field's shown value: enough to tell that it changed."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def seen_of(product: Product) -> dict[str, str]:
    """The hidden fields recording the product as the form shows it, and its version."""
    values = shown(product)
    return {SEEN + name: digest(values[name]) for name in FIELDS} | {VERSION: str(product.version)}


def posted_seen(form: Mapping[str, str]) -> dict[str, str]:
    """The hidden record a posted form carried, to show the form again with it."""
    return {name: form[name] for name in (*(SEEN + f for f in FIELDS), VERSION) if name in form}


class EditConflict(Exception):
    """Fields the form changed were changed elsewhere too since it was shown: `conflicts`
    maps each to its text now, `current` is the product as it is."""

    def __init__(self, conflicts: dict[str, str], current: Product) -> None:
        super().__init__(conflicts)
        self.conflicts = conflicts
        self.current = current


def patch_for(form: Mapping[str, str], data: ProductIn, current: Product) -> ProductPatch | None:
    """What saving the form changes in the product as it is now: the fields the admin
    changed (None when none), or EditConflict when one of them changed elsewhere too."""
    now = shown(current)
    mine = shown(data.as_product(current.id))
    changed: list[str] = []
    conflicts: dict[str, str] = {}
    for name in FIELDS:
        if mine[name] == now[name]:
            continue
        before = form.get(SEEN + name)
        if before is None or digest(now[name]) == before:
            changed.append(name)  # changed here only (or no record of what was shown)
        elif digest(mine[name]) != before:
            conflicts[name] = now[name]  # changed here and elsewhere
        # else: untouched here, changed elsewhere: what is there now stays
    if conflicts:
        raise EditConflict(conflicts, current)
    if not changed:
        return None
    return ProductPatch.model_validate(data.model_dump(include=set(changed)))
