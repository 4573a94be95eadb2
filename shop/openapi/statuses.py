"""The error statuses the API answers: when each is used and the shape of its envelope.

One table, shown in the document (`info.description` and `x-statuses`) and in the README
(a test compares them). Each status's extra keys come from its envelope's Struct.
"""

from __future__ import annotations

from dataclasses import dataclass

from msgspec import structs

from shop.models import answers


@dataclass(frozen=True, slots=True)
class Status:
    code: int
    when: str
    shape: type[answers.Error] = answers.Error
    headers: tuple[str, ...] = ()

    @property
    def extra_keys(self) -> tuple[str, ...]:
        """The keys its envelope may carry beyond `status` and `error`."""
        return tuple(
            field.encode_name
            for field in structs.fields(self.shape)
            if field.name not in ("status", "error")
        )


STATUSES: dict[int, Status] = {
    status.code: status
    for status in (
        Status(
            400,
            "invalid input: body, query string, header or path id; `fields` names each bad"
            " field and what is wrong with it, all at once (nested fields by path:"
            " `products.0.quantity`; the body as a whole: `body`); a catalogue file with"
            " bad rows names each problem by line and column (`line 3, price`; the header"
            " is line 1), lists the first 1,000 and counts them all in `problems`; buying"
            " an empty cart names `cart`",
            answers.Invalid,
        ),
        Status(
            401,
            "no session or token, a wrong password, or a wrong or revoked API token",
            headers=("WWW-Authenticate",),
        ),
        Status(
            403,
            "not allowed (role, owner, wrong current password), or a cross-site request"
            " riding the session cookie",
        ),
        Status(404, "unknown id or path"),
        Status(405, "method not served on this path", headers=("Allow",)),
        Status(
            409,
            "conflicts with the current state: a duplicate email or code, not enough stock"
            " for a cart line (`available`: the stock; the message names the product), the"
            " last admin, a cart of which nothing can be bought (`unfilled`),"
            " a total other than `expected_total` (`total`), an order status off the"
            " workflow, positions that are not the product's images",
            answers.Conflict,
        ),
        Status(411, "an upload without a `Content-Length`"),
        Status(
            413,
            "body over its limit: 64 KiB for JSON; 5 MiB + 64 KiB for an image upload, an"
            " image over 5 MB; 64 MiB for a catalogue file",
        ),
        Status(
            415,
            "a non-empty body that is not `application/json` (`multipart/form-data` for"
            " image uploads, `text/csv` for a catalogue file)",
        ),
        Status(422, "an `Idempotency-Key` used again with another cart or body"),
        Status(
            429,
            "too many failed logins, password checks or token guesses",
            headers=("Retry-After",),
        ),
        Status(
            503,
            "the database is unavailable or did not answer within `SHOP_STORE_TIMEOUT` (on"
            " /readyz: a part is down, each part's check in `checks`)",
            answers.Unavailable,
        ),
    )
}


def markdown_table() -> str:
    """The table as the README and the document show it."""
    rows = ["| status | when | extra keys |", "|---|---|---|"]
    for status in STATUSES.values():
        keys = ", ".join(f"`{key}`" for key in status.extra_keys)
        headers = ", ".join(f"`{name}`" for name in status.headers)
        when = f"{status.when} (with {headers})" if headers else status.when
        rows.append(f"| {status.code} | {when} | {keys or '-'} |")
    return "\n".join(rows)
