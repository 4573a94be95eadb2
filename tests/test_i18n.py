"""Spanish (es-AR) and English: the reader's language, pages, flashes, form and API errors
in it, money and dates written by Babel, the settings, and catalogues kept complete."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from babel import Locale
from babel.messages.pofile import read_po
from babel.numbers import format_currency

from shop.i18n.extract import all_translated, extract
from shop.i18n.formats import MoneyFormat
from shop.i18n.languages import LOCALE_DIR, available_tags
from shop.settings import ConfigError, from_env
from tests.conftest import Auth, Client
from tests.envelopes import MISSING_ID
from tests.test_health_cli import assert_one_line_error, run_cli, shop_env
from tests.test_pages import create_product, location, page, post_form, registration

ProductBody = Callable[..., dict[str, Any]]
ROOT = Path(__file__).resolve().parents[1]
SPANISH = {"Accept-Language": "es-AR,es;q=0.9,en;q=0.5"}


async def json_error(response: ClientResponse, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    return body


# ---- which language ---------------------------------------------------------------------


async def test_pages_are_english_without_a_preference(client: Client) -> None:
    html = await page(await client.get("/products"))
    assert '<html lang="en">' in html
    assert "<h1>Products</h1>" in html


@pytest.mark.parametrize("header", ["es-AR", "es", "es-MX,en;q=0.8", "fr, es;q=0.5"])
async def test_accept_language_chooses_spanish(client: Client, header: str) -> None:
    response = await client.get("/products", headers={"Accept-Language": header})
    html = await page(response)
    assert '<html lang="es-AR">' in html
    assert "<h1>Productos</h1>" in html
    assert "Accept-Language" in response.headers.getall("Vary")


async def test_the_preference_cookie_wins_over_accept_language(client: Client) -> None:
    client.session.cookie_jar.update_cookies({"shop_language": "en"})
    html = await page(await client.get("/products", headers=SPANISH))
    assert '<html lang="en">' in html


async def test_shop_language_is_the_default(make_client: Callable[..., Any]) -> None:
    client = await make_client(language="es-AR")
    assert '<html lang="es-AR">' in await page(await client.get("/products"))
    english = await client.get("/products", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en">' in await page(english)


async def test_the_switch_sets_the_preference_and_comes_back_without_a_session(
    client: Client,
) -> None:
    response = await client.get("/language/es-AR?next=/products%3Fq%3Dmate", allow_redirects=False)
    assert location(response) == "/products?q=mate"
    cookies = response.headers.getall("Set-Cookie")
    assert len(cookies) == 1
    assert cookies[0].startswith("shop_language=es-AR;")
    assert "HttpOnly" in cookies[0]
    assert "SameSite=Lax" in cookies[0]
    html = await page(await client.get("/products"))
    assert '<html lang="es-AR">' in html
    # The header offers the way back, to this very page.
    assert 'href="/language/en?next=/products" lang="en" hreflang="en">English</a>' in html


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil"])
async def test_the_switch_never_leaves_the_shop(client: Client, target: str) -> None:
    response = await client.get(f"/language/en?next={target}", allow_redirects=False)
    assert location(response) == "/products"


async def test_an_unknown_language_is_404(client: Client) -> None:
    await page(await client.get("/language/xx"), 404)


# ---- pages, flashes and form errors -------------------------------------------------------


async def test_prices_and_counts_are_written_for_the_language(
    client: Client, admin_browser: Client, product_body: ProductBody
) -> None:
    await create_product(admin_browser, product_body(price=1499.99, stock=3))
    english = await page(await client.get("/products"))
    assert '<span class="price product-price">$1,499.99</span>' in english
    assert ">Only 3 left</p>" in english
    spanish = await page(await client.get("/products", headers=SPANISH))
    assert '<span class="price product-price">US$1.499,99</span>' in spanish
    assert ">Quedan solo 3</p>" in spanish
    assert "Precios en dólares estadounidenses" in spanish
    assert "$" not in (ROOT / "static/css/shop.css").read_text()  # no sign added by CSS


async def test_another_currency_is_written_by_babel(
    make_client: Callable[..., Any], product_body: ProductBody, auth: Auth
) -> None:
    client = await make_client(currency="EUR")
    await Auth(client).admin()
    await create_product(client, product_body(price=1499.99))
    assert "€1,499.99" in await page(await client.get("/products"))
    expected = format_currency(Decimal("1499.99"), "EUR", locale="es_AR")
    assert expected in await page(await client.get("/products", headers=SPANISH))


async def test_flashes_are_in_the_readers_language(
    client: Client, auth: Auth, admin_browser: Client, product_body: ProductBody
) -> None:
    mate = await create_product(admin_browser, product_body())
    user = await auth.user()
    client.session.cookie_jar.update_cookies({"shop_language": "es-AR"})
    response = await post_form(
        client, f"/carts/{user['cart']}/add/{mate['_id']}", {"next": "/products"}
    )
    html = await page(await client.get(location(response)))
    assert "Agregaste Yerba mate al carrito." in html


async def test_form_errors_are_in_the_readers_language(client: Client) -> None:
    client.session.cookie_jar.update_cookies({"shop_language": "es-AR"})
    response = await post_form(client, "/register", registration(email="not-an-email", age="x"))
    html = await page(response, 400)
    assert 'id="error-email">tiene que ser una dirección de email<' in html
    assert 'id="error-age">tiene que ser un número entero<' in html


async def test_a_refused_quantity_names_the_product_in_spanish(
    client: Client, auth: Auth, admin_browser: Client, product_body: ProductBody
) -> None:
    scarce = await create_product(admin_browser, product_body(stock=2))
    user = await auth.user()
    client.session.cookie_jar.update_cookies({"shop_language": "es-AR"})
    response = await post_form(
        client, f"/carts/{user['cart']}/add/{scarce['_id']}", {"quantity": "5"}
    )
    html = await page(await client.get(location(response)))
    assert ">hay solo 2 de Yerba mate en stock</p>" in html


async def test_dates_are_written_for_the_language(
    client: Client, auth: Auth, admin_browser: Client, product_body: ProductBody
) -> None:
    mate = await create_product(admin_browser, product_body())
    user = await auth.user()
    await client.post(f"/api/carts/{user['cart']}/product/{mate['_id']}")
    bought = await client.post(f"/api/carts/{user['cart']}/purchase", json={})
    order = (await bought.json())["payload"]["order"]
    english = await page(await client.get(f"/orders/{order['_id']}"))
    spanish = await page(await client.get(f"/orders/{order['_id']}", headers=SPANISH))
    # "Jan 5, 2026, 3:04 PM UTC" and "5 ene 2026, 15:04 UTC"
    assert re.search(r">[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d\s[AP]M UTC</time>", english)
    assert re.search(r">\d{1,2} [a-z]{3,4}\.? \d{4}, \d\d:\d\d UTC</time>", spanish)


async def test_error_pages_are_in_the_readers_language(client: Client) -> None:
    html = await page(await client.get(f"/products/{MISSING_ID}", headers=SPANISH), 404)
    assert "<h1>No encontrado</h1>" in html
    assert f"no se encontró el producto {MISSING_ID}" in html


# ---- the API ------------------------------------------------------------------------------


async def test_api_errors_are_english_by_default(client: Client) -> None:
    body = await json_error(await client.get(f"/api/products/{MISSING_ID}"), 404)
    assert body["error"] == f"product {MISSING_ID} not found"


async def test_api_errors_follow_accept_language(client: Client) -> None:
    response = await client.get(f"/api/products/{MISSING_ID}", headers=SPANISH)
    body = await json_error(response, 404)
    assert body["error"] == f"no se encontró el producto {MISSING_ID}"
    assert "Accept-Language" in response.headers.getall("Vary")


async def test_api_field_errors_are_translated_then_filled_in(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    bad = product_body(price=-1, title="x" * 300)
    body = await json_error(await client.post("/api/products", json=bad, headers=SPANISH), 400)
    assert body["fields"] == {
        "title": "tiene que tener como máximo 200 caracteres",
        "price": "tiene que ser mayor que 0",
    }
    assert body["error"] == (
        "title: tiene que tener como máximo 200 caracteres; price: tiene que ser mayor que 0"
    )


async def test_an_api_message_naming_its_field_keeps_the_name_out_of_fields(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    taken = product_body(code="TAKEN")
    await client.post("/api/products", json=taken)
    body = await json_error(await client.post("/api/products", json=taken, headers=SPANISH), 409)
    assert body["error"] == "code: ya existe un producto con el código 'TAKEN'"


async def test_websocket_errors_follow_the_handshakes_language(client: Client) -> None:
    async with client.ws_connect("/ws", headers=SPANISH) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        await ws.send_json({"type": "product.delete", "pid": MISSING_ID})
        reply = await ws.receive_json(timeout=5)
    assert reply == {"type": "error", "error": "solo para administradores"}


# ---- the page scripts' words ----------------------------------------------------------------


async def test_the_scripts_words_are_served_per_language_and_kept_by_browsers(
    client: Client,
) -> None:
    html = await page(await client.get("/products", headers=SPANISH))
    src = re.search(r'<script src="(/i18n/es-AR\.js\?v=[0-9a-f]+)" defer>', html)
    assert src is not None
    response = await client.get(src.group(1))
    assert response.status == 200
    assert response.content_type == "text/javascript"
    assert "immutable" in response.headers["Cache-Control"]
    script = await response.text()
    assert '"Added {title} to your cart.": "Agregaste {title} al carrito."' in script
    assert '"prefix": "US$"' in script
    # Dates as Babel writes them: its pattern and month names (static/js/text.js reads them).
    assert '"pattern": "d MMM y, HH:mm"' in script
    assert '"months": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep"' in script
    assert "window.ShopTextData.plural = function (n) { return Number((n == 1 ? 0" in script
    stale = await client.get("/i18n/es-AR.js?v=old")
    assert stale.headers["Cache-Control"] == "no-cache"
    assert (await client.get("/i18n/xx.js")).status == 404


# ---- money ----------------------------------------------------------------------------------

AMOUNTS = [0, 1, 50, 99, 100, 999, 1000, 99_999, 149_999, 1_000_000, 123_456_789, 10**12]


@pytest.mark.parametrize("locale", ["en", "es_AR", "de", "fr", "pt_BR", "hi_IN", "de_CH"])
@pytest.mark.parametrize("currency", ["USD", "EUR", "ARS", "INR", "CHF"])
def test_money_is_written_exactly_as_babel_writes_it(locale: str, currency: str) -> None:
    written = MoneyFormat(Locale.parse(locale), currency)
    for cents in AMOUNTS:
        expected = format_currency(Decimal(cents).scaleb(-2), currency, locale=locale)
        assert written(cents) == expected, (locale, currency, cents)


# ---- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "tag"), [("", "en"), ("es", "es-AR"), ("ES_ar", "es-AR")])
def test_shop_language_names_a_language_the_shop_has(raw: str, tag: str) -> None:
    env = {"SHOP_SECRET_KEY": "k" * 40, "SHOP_LANGUAGE": raw}
    assert from_env(env).language == tag


@pytest.mark.parametrize("raw", ["fr", "klingon", "x"])
def test_an_unknown_shop_language_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="SHOP_LANGUAGE must be one of en, es-AR"):
        from_env({"SHOP_SECRET_KEY": "k" * 40, "SHOP_LANGUAGE": raw})


@pytest.mark.parametrize(("raw", "code"), [("", "USD"), ("eur", "EUR"), ("ARS", "ARS")])
def test_shop_currency_is_a_two_decimal_iso_code(raw: str, code: str) -> None:
    assert from_env({"SHOP_SECRET_KEY": "k" * 40, "SHOP_CURRENCY": raw}).currency == code


@pytest.mark.parametrize("raw", ["JPY", "BHD", "XAU", "XXX", "US", "dollars"])
async def test_another_currency_is_a_one_line_error_at_start_up(tmp_path: Path, raw: str) -> None:
    result = await run_cli(shop_env(tmp_path, SHOP_CURRENCY=raw), "serve")
    await assert_one_line_error(result, "SHOP_CURRENCY")


async def test_an_unknown_language_is_a_one_line_error_at_start_up(tmp_path: Path) -> None:
    result = await run_cli(shop_env(tmp_path, SHOP_LANGUAGE="fr"), "serve")
    await assert_one_line_error(result, "SHOP_LANGUAGE")


# ---- the catalogues ---------------------------------------------------------------------------

_BRACES = re.compile(r"{(\w*)[^{}]*}")
_PERCENT = re.compile(r"%\((\w+)\)[sd]")


def _placeholders(text: str) -> set[str]:
    return set(_BRACES.findall(text)) | set(_PERCENT.findall(text))


def test_spanish_and_english_are_the_shops_languages() -> None:
    assert available_tags() == ("en", "es-AR")


@pytest.mark.parametrize("path", sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")))
def test_every_message_is_translated_with_its_placeholders(path: Path) -> None:
    """Fails when code, a template or a script gained a message: run `make catalogues`
    and translate what it lists."""
    with path.open("rb") as source:
        catalogue = read_po(source)
    messages = {message.id: message for message in catalogue if message.id}
    for wanted in extract():
        if not wanted.id:
            continue
        found = messages.get(wanted.id)
        assert found is not None, f"not in {path.name} (run make catalogues): {wanted.id!r}"
        assert all_translated(found), f"untranslated or fuzzy in {path}: {wanted.id!r}"
        sources = wanted.id if isinstance(wanted.id, tuple) else (wanted.id,)
        forms = found.string if isinstance(found.string, tuple) else (found.string,)
        expected = _placeholders(sources[-1])
        for form in forms:
            assert _placeholders(form) == expected, (wanted.id, form)
