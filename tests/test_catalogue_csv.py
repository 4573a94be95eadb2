"""The catalogue as a CSV file on every store: GET /api/products/export and
POST /api/products/import (bad rows with their lines, nothing written; a BOM, semicolons and
decimal commas; formula cells; upserts by code; round trips), and the same from
/admin/products/import."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import FormData

from shop.models import catalogue_file
from shop.routes.api_catalogue import MAX_IMPORT_BYTES
from shop.service import catalogue as catalogue_service
from tests.conftest import Auth, Client
from tests.envelopes import error, error_with, success
from tests.pictures import origin, picture
from tests.pictures import upload as upload_picture
from tests.test_pages import csrf_token, location, page

ProductBody = Callable[..., dict[str, Any]]

HEADER = "_id,title,description,code,price,status,stock,category,thumbnails"
CSV = {"Content-Type": "text/csv"}
SPANISH = {"Accept-Language": "es-AR"}


@pytest.fixture
async def admin(client: Client, auth: Auth) -> Client:
    await auth.admin()
    return client


async def create(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    return await success(await client.post("/api/products", json=body), 201)


async def export(client: Client) -> str:
    response = await client.get("/api/products/export")
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return (await response.read()).decode("utf-8")


def rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))


async def upload(client: Client, text: str | bytes, **headers: str) -> Any:
    """POST the file as the admin's page would (with the session cookie and our Origin)."""
    data = text.encode() if isinstance(text, str) else text
    return await client.post(
        "/api/products/import", data=data, headers={**CSV, **origin(client), **headers}
    )


async def imported(client: Client, text: str | bytes, left_out: int = 0) -> dict[str, int]:
    """What an import wrote: {created, updated, unchanged}; `left_out` /media addresses."""
    payload = await success(await upload(client, text))
    assert payload.pop("images_left_out") == left_out
    return payload


async def codes(client: Client, query: str) -> list[str]:
    response = await client.get(f"/api/products?{query}")
    assert response.status == 200, await response.text()
    return [product["code"] for product in (await response.json())["payload"]]


async def catalogue(client: Client) -> list[dict[str, Any]]:
    """Every product, as the API shows them, in creation order."""
    response = await client.get("/api/products?limit=100")
    body = await response.json()
    assert body["totalPages"] <= 1
    return body["payload"]


# ---- export ------------------------------------------------------------------------------


async def test_export_has_a_header_with_every_field_and_a_row_per_product(
    admin: Client, product_body: ProductBody
) -> None:
    mate = await create(
        admin,
        product_body(
            title="Mate de calabaza",
            description="Curado a mano,\nforrado en cuero",
            code="MATE-1",
            price=24.9,
            stock=7,
            category="Mates",
            thumbnails=["https://example.com/a.jpg", "/static/img/b.png"],
        ),
    )
    await create(admin, product_body(title="Termo", code="TERMO", status=False, price=40))
    text = await export(admin)
    assert text.startswith("\ufeff" + HEADER + "\r\n")
    first, second = rows(text)
    assert first == {
        "_id": mate["_id"],
        "title": "Mate de calabaza",
        "description": "Curado a mano,\nforrado en cuero",
        "code": "MATE-1",
        "price": "24.90",
        "status": "true",
        "stock": "7",
        "category": "Mates",
        "thumbnails": "https://example.com/a.jpg|/static/img/b.png",
    }
    assert (second["title"], second["status"], second["price"]) == ("Termo", "false", "40.00")


async def test_export_escapes_cells_a_spreadsheet_would_run_as_formulas(
    admin: Client, product_body: ProductBody
) -> None:
    await create(
        admin,
        product_body(
            title='=HYPERLINK("http://evil.example","click")',
            description="+1 best seller",
            code="-SUM",
            category="@cmd",
            thumbnails=["@evil", "https://x.example/a.png"],
        ),
    )
    await create(admin, product_body(title="'quoted", description="\tindented", category="P"))
    await create(admin, product_body(title="Plain", description="\rline", category="P"))
    first, second, third = rows(await export(admin))
    assert first["title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert first["description"] == "'+1 best seller"
    assert first["code"] == "'-SUM"
    assert first["category"] == "'@cmd"
    assert first["thumbnails"] == "'@evil|https://x.example/a.png"
    # A cell that starts with ' keeps it behind one more, so reading it back is exact.
    assert second["title"] == "''quoted"
    assert second["description"] == "'\tindented"
    assert third["description"] == "'\rline"
    assert (third["title"], third["category"]) == ("Plain", "P")


async def test_export_of_an_empty_catalogue_is_the_header_alone(admin: Client) -> None:
    assert await export(admin) == "\ufeff" + HEADER + "\r\n"


async def test_export_streams_a_catalogue_larger_than_one_batch(
    admin: Client, product_body: ProductBody
) -> None:
    products = [product_body(code=f"C{n:04d}", title=f"Producto {n}") for n in range(1, 1202)]
    lines = [f"{p['title']},{p['code']},1,1,Cat" for p in products]
    assert (await imported(admin, "title,code,price,stock,category\n" + "\n".join(lines)))[
        "created"
    ] == 1201
    exported = rows(await export(admin))
    assert [row["code"] for row in exported] == sorted(row["code"] for row in exported)
    assert len(exported) == 1201


@pytest.mark.parametrize("path", ["/api/products/export", "/api/products/import"])
async def test_the_catalogue_file_is_for_admins_only(
    client: Client, auth: Auth, path: str
) -> None:
    async def call() -> Any:
        if path.endswith("export"):
            return await client.get(path)
        return await client.post(path, data=b"title\n", headers={**CSV, **origin(client)})

    await error(await call(), 401)
    await auth.user()
    await error(await call(), 403)


# ---- import: good files -------------------------------------------------------------------


async def test_round_trip_export_then_import_changes_nothing(
    admin: Client, product_body: ProductBody
) -> None:
    for body in (
        product_body(title="=cmd|' /C calc'!A0", code="F1", description='a\nb, "c"'),
        product_body(title="'apóstrofo", code="-F2", price=0.1, status=False, thumbnails=[]),
        product_body(title="Yerba", code="F3", category="+Mas", stock=0),
    ):
        await create(admin, body)
    before = await catalogue(admin)
    text = await export(admin)
    assert await imported(admin, text) == {"created": 0, "updated": 0, "unchanged": 3}
    assert await catalogue(admin) == before
    assert await export(admin) == text


async def test_import_creates_new_codes_and_updates_known_ones(
    admin: Client, product_body: ProductBody
) -> None:
    known = await create(admin, product_body(code="KNOWN", title="Old", price=5, stock=1))
    text = (
        "title,description,code,price,status,stock,category,thumbnails\n"
        "Nuevo,Recién llegado,NEW-1,12.50,true,3,Novedades,https://x.example/n.jpg\n"
        "Renovado,Otra descripción,KNOWN,7.25,false,9,Dulces,\n"
    )
    assert await imported(admin, text) == {"created": 1, "updated": 1, "unchanged": 0}
    products = {product["code"]: product for product in await catalogue(admin)}
    assert products["KNOWN"] == {
        **known,
        "title": "Renovado",
        "description": "Otra descripción",
        "price": 7.25,
        "status": False,
        "stock": 9,
        "category": "Dulces",
        "thumbnails": [],
        "version": known["version"] + 1,  # an import is a write like any other
    }
    new = products["NEW-1"]
    assert (new["title"], new["price"], new["stock"], new["thumbnails"], new["version"]) == (
        "Nuevo",
        12.5,
        3,
        ["https://x.example/n.jpg"],
        1,
    )


async def test_the_id_column_is_ignored_products_are_known_by_code(
    admin: Client, product_body: ProductBody
) -> None:
    first = await create(admin, product_body(code="A"))
    other = await create(admin, product_body(code="B"))
    # The row names B's id but code A: it updates A, and never B.
    text = f"_id,title,code,price,stock,category\n{other['_id']},Cambiado,A,1,1,X\n"
    assert await imported(admin, text) == {"created": 0, "updated": 1, "unchanged": 0}
    products = {product["_id"]: product for product in await catalogue(admin)}
    assert products[first["_id"]]["title"] == "Cambiado"
    assert products[other["_id"]] == other


async def test_columns_left_out_keep_what_a_known_product_has(
    admin: Client, product_body: ProductBody
) -> None:
    known = await create(
        admin, product_body(code="K", description="Se queda", status=False, thumbnails=["/a.png"])
    )
    text = "title,code,price,stock,category,status\nNuevo título,K,3,4,Cat,\n"
    assert (await imported(admin, text))["updated"] == 1
    after = (await catalogue(admin))[0]
    assert after["description"] == "Se queda"
    assert after["status"] is False  # an empty status keeps it too
    assert after["thumbnails"] == known["thumbnails"]
    assert after["title"] == "Nuevo título"


async def test_a_spanish_spreadsheet_file_with_a_bom_semicolons_and_decimal_commas(
    admin: Client,
) -> None:
    text = (
        "\ufefftitle;description;code;price;stock;category;status\n"
        "Alfajor de maicena;Con coco, sin TACC;ALF-1;12,50;10;Alfajores;VERDADERO\n"
        'Vino Malbec;"Tinto; 750 ml";VIN-1;1.234,50;2;Vinos;FALSO\n'
    )
    assert (await imported(admin, text.encode("utf-8")))["created"] == 2
    products = {product["code"]: product for product in await catalogue(admin)}
    assert products["ALF-1"]["price"] == 12.5
    assert products["ALF-1"]["status"] is True
    assert products["ALF-1"]["title"] == "Alfajor de maicena"
    assert products["VIN-1"]["price"] == 1234.5
    assert products["VIN-1"]["description"] == "Tinto; 750 ml"
    assert products["VIN-1"]["status"] is False


async def test_a_file_with_crlf_lines_quoted_newlines_and_blank_rows_imports(
    admin: Client,
) -> None:
    text = (
        "title,description,code,price,stock,category\r\n"
        'Medialunas,"Docena\r\nde manteca",MED,8.90,4,Panadería\r\n'
        ",,,,,\r\n"
        "\r\n"
    )
    assert (await imported(admin, text))["created"] == 1
    assert (await catalogue(admin))[0]["description"] == "Docena\r\nde manteca"


async def test_imported_products_are_found_by_search_sorted_and_counted(
    admin: Client, product_body: ProductBody
) -> None:
    await create(admin, product_body(code="OLD", title="Yerba suave", category="Yerba"))
    text = (
        "title,code,price,stock,category\n"
        "Ñandú de cerámica,NAN,30,1,Regalos\n"
        "Azúcar mascabo,AZU,2,5,Almacén\n"
        "Yerba barbacuá,OLD,9,0,Yerba\n"
    )
    await imported(admin, text)
    assert await codes(admin, "q=nandu") == ["NAN"]
    assert await codes(admin, "q=azucar+masc") == ["AZU"]
    # The old title's words are gone, the new ones found.
    assert await codes(admin, "q=suave") == []
    assert await codes(admin, "q=barbacua") == ["OLD"]
    assert await codes(admin, "sort=title_asc") == ["AZU", "NAN", "OLD"]
    categories = await success(await admin.get("/api/categories"))
    assert {c["name"]: c["count"] for c in categories} == {"Almacén": 1, "Regalos": 1, "Yerba": 1}
    assert await codes(admin, "available=true") == ["NAN", "AZU"]
    assert (await (await admin.get("/api/products?available=true")).json())["page"] == 1


async def test_a_page_read_before_an_import_is_not_served_after_it(
    admin: Client, product_body: ProductBody
) -> None:
    product = await create(admin, product_body(code="P", stock=3))
    assert (await catalogue(admin))[0]["stock"] == 3  # now in the catalogue cache
    assert (await success(await admin.get(f"/api/products/{product['_id']}")))["stock"] == 3
    await imported(admin, "title,code,price,stock,category\nX,P,1,42,C\n")
    assert (await catalogue(admin))[0]["stock"] == 42
    assert (await success(await admin.get(f"/api/products/{product['_id']}")))["stock"] == 42


async def test_importing_the_same_file_again_changes_nothing(admin: Client) -> None:
    text = "title,code,price,stock,category\nA,A,1,1,C\nB,B,2,2,C\n"
    assert await imported(admin, text) == {"created": 2, "updated": 0, "unchanged": 0}
    before = await catalogue(admin)
    assert await imported(admin, text) == {"created": 0, "updated": 0, "unchanged": 2}
    assert await catalogue(admin) == before


async def test_an_import_cut_short_completes_when_the_file_is_imported_again(
    admin: Client,
) -> None:
    lines = [f"Producto {n},P{n:03d},{n}.50,{n},C" for n in range(1, 41)]
    header = "title,code,price,stock,category\n"
    # As if the first run had written its first batches before it stopped.
    await imported(admin, header + "\n".join(lines[:25]))
    done = await imported(admin, header + "\n".join(lines))
    assert done == {"created": 15, "updated": 0, "unchanged": 25}
    assert [p["code"] for p in await catalogue(admin)] == [f"P{n:03d}" for n in range(1, 41)]


# ---- import: bad files -----------------------------------------------------------------


async def bad(client: Client, text: str | bytes) -> dict[str, Any]:
    """The 400 envelope of a refused file (its `fields`, and how many problems)."""
    return await error_with(await upload(client, text), 400, "fields", "problems")


async def test_bad_rows_are_listed_by_line_and_field_and_nothing_is_imported(
    admin: Client, product_body: ProductBody
) -> None:
    known = await create(admin, product_body(code="KEEP", title="Intacto", stock=5))
    text = (
        "title,code,price,stock,category,status\n"
        "Bueno,GOOD,1,1,C,true\n"  # line 2: fine
        ",BAD 1,-3,1.5,C,quizás\n"  # line 3: four problems
        "Cambio,KEEP,2,99,C,\n"  # line 4: fine (would update)
        "Otro,GOOD,1,1,C,\n"  # line 5: repeats line 2's code
    )
    body = await bad(admin, text)
    assert body["fields"] == {
        "line 3, title": "must not be empty",
        "line 3, code": "must contain only letters, digits, '.', '_' and '-'",
        "line 3, price": "must be greater than 0",
        "line 3, stock": "must be a whole number",
        "line 3, status": "must be true or false",
        "line 5, code": "repeats the code of line 2",
    }
    assert body["problems"] == 6
    assert body["error"].startswith("nothing was imported: line 3, title: must not be empty;")
    assert [(p["code"], p["title"], p["stock"]) for p in await catalogue(admin)] == [
        ("KEEP", known["title"], 5)
    ]


async def test_one_bad_row_at_the_end_of_a_long_file_imports_nothing(admin: Client) -> None:
    good = "\n".join(f"P{n},P{n},1,1,C" for n in range(2, 3000))
    text = f"title,code,price,stock,category\n{good}\nÚltimo,LAST,0,1,C\n"
    body = await bad(admin, text)
    assert body["fields"] == {"line 3000, price": "must be greater than 0"}
    assert await catalogue(admin) == []


@pytest.mark.parametrize(
    ("header", "fields"),
    [
        ("title,code,price,category", {"line 1, stock": "is a required column of the header"}),
        (
            "title,code,price,stock,category,colour",
            {"line 1, colour": "is not an accepted field"},
        ),
        (
            "title,code,code,price,stock,category",
            {"line 1, code": "appears twice in the header"},
        ),
    ],
)
async def test_a_bad_header_is_line_1(admin: Client, header: str, fields: dict[str, str]) -> None:
    assert (await bad(admin, f"{header}\nA,B,1,1,C,D\n"))["fields"] == fields


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (b"", {"line 1, file": "is empty: send a CSV file that starts with its header row"}),
        (
            "title,code,price,stock,category\nCaf\xe9,A,1,1,C\n".encode("latin-1"),
            {"line 2, file": "must be UTF-8 text (save the file as CSV UTF-8)"},
        ),
        (
            b'title,code,price,stock,category\n"A"B,A,1,1,C\n',
            {"line 2, row": "is not valid CSV (',' expected after '\"')"},
        ),
        (
            b"title,code,price,stock,category\nA,A,1,1,C,extra\n",
            {"line 2, row": "has 6 cells where the header has 5"},
        ),
        (
            b"title,code,price,stock,category\nA\x00,A,1.001,1,C\n",
            {
                "line 2, title": "must not contain control characters",
                "line 2, price": "must have at most two decimals",
            },
        ),
    ],
)
async def test_files_that_are_not_good_csv_are_refused_by_line(
    admin: Client, data: bytes, fields: dict[str, str]
) -> None:
    assert (await bad(admin, data))["fields"] == fields
    assert await catalogue(admin) == []


async def test_media_addresses_are_kept_only_for_that_products_own_uploads(
    admin: Client, product_body: ProductBody
) -> None:
    owner = await create(admin, product_body(code="OWNER", thumbnails=[]))
    response = await upload_picture(admin, owner["_id"], picture())
    assert response.status == 201, await response.text()
    url = response.headers["Location"]
    elsewhere = "/media/0123456789abcdef01234567/0123456789abcdef-01234567.webp"
    text = (
        "title,code,price,stock,category,thumbnails\n"
        f"Dueño,OWNER,1,1,C,{url}|https://x.example/a.jpg\n"  # its own upload: kept
        f"Otro,OTHER,1,1,C,{url}|https://x.example/b.jpg\n"  # another product's file
        f"Mudado,MOVED,1,1,C,{elsewhere}\n"  # another shop's file
    )
    assert await imported(admin, text, left_out=2) == {"created": 2, "updated": 1, "unchanged": 0}
    thumbnails = {p["code"]: p["thumbnails"] for p in await catalogue(admin)}
    assert thumbnails == {
        "OWNER": [url, "https://x.example/a.jpg"],
        "OTHER": ["https://x.example/b.jpg"],
        "MOVED": [],
    }
    assert (await admin.get(url)).status == 200


async def test_a_file_over_the_row_limit_is_refused_without_reading_on(
    admin: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_file, "MAX_ROWS", 3)
    rows = "".join(f"P{n},P{n},1,1,C\n" for n in range(2, 10))
    body = await bad(admin, f"title,code,price,stock,category\n{rows}")
    assert body["fields"] == {"line 5, file": "has more than 3 rows: split it into several files"}
    assert await catalogue(admin) == []


async def test_a_file_of_many_bad_rows_is_counted_whole_and_listed_in_part(
    admin: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_file, "MAX_KEPT", 10)
    rows = "".join(f"P{n},P{n},0,1,C\n" for n in range(2, 1502))
    body = await bad(admin, f"title,code,price,stock,category\n{rows}")
    assert body["problems"] == 1500
    assert list(body["fields"])[:2] == ["line 2, price", "line 3, price"]
    assert len(body["fields"]) == 10
    assert body["error"].endswith("; line 6, price: must be greater than 0; and 1495 more")


async def test_bad_rows_are_explained_in_the_readers_language(
    admin: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_service, "MAX_LISTED", 6)
    rows = "".join(f"P{n},P{n},0,1,C\n" for n in range(2, 9))
    response = await upload(admin, f"title,code,price,stock,category\n{rows}", **SPANISH)
    body = await error_with(response, 400, "fields", "problems")
    assert body["problems"] == 7
    assert len(body["fields"]) == 6
    assert set(body["fields"].values()) == {"tiene que ser mayor que 0"}
    # "nothing was imported: " then the first five, translated, and how many more of all.
    named = "; ".join(f"line {n}, price: tiene que ser mayor que 0" for n in range(2, 7))
    assert re.fullmatch(rf"[^;]+: {named}; y 2 más", body["error"]), body["error"]


async def test_import_takes_only_a_csv_body_with_our_origin(admin: Client) -> None:
    text = b"title,code,price,stock,category\nA,A,1,1,C\n"
    plain = {"Content-Type": "text/plain", **origin(admin)}
    await error(await admin.post("/api/products/import", data=text, headers=plain), 415)
    await error(
        await admin.post(
            "/api/products/import", data=text, headers={**CSV, "Origin": "http://evil.example"}
        ),
        403,
    )
    assert await catalogue(admin) == []


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/products/export", "GET,HEAD"),
        ("DELETE", "/api/products/export/", "GET,HEAD"),
        ("DELETE", "/api/products/import", "POST"),
        ("GET", "/api/products/import", "POST"),
        ("PATCH", "/api/products", "GET,HEAD,POST"),  # a path of two route tables
    ],
)
async def test_other_methods_on_the_file_paths_are_405_not_a_product_id(
    admin: Client, method: str, path: str, allowed: str
) -> None:
    """`/api/products/{pid}` serves PUT and DELETE, but "export" is no product id."""
    response = await admin.request(method, path, headers=origin(admin))
    await error(response, 405)
    assert set(response.headers["Allow"].split(",")) == set(allowed.split(","))


async def test_an_import_over_its_limit_is_413_before_it_is_read(admin: Client) -> None:
    too_big = str(MAX_IMPORT_BYTES + 1)
    response = await admin.post(
        "/api/products/import",
        data=b"x" * 10,
        headers={**CSV, **origin(admin), "Content-Length": too_big},
    )
    await error(response, 413)


# ---- the admin's page ---------------------------------------------------------------------


async def post_file(client: Client, data: bytes, token: str | None = None) -> Any:
    form = FormData()
    form.add_field("csrf_token", token or await csrf_token(client, "/admin/products/import"))
    form.add_field("file", data, filename="catalogo.csv", content_type="text/csv")
    return await client.post(
        "/admin/products/import", data=form, headers=origin(client), allow_redirects=False
    )


async def test_the_import_page_links_the_export_and_imports_a_file(admin: Client) -> None:
    html = await page(await admin.get("/admin/products/import"))
    assert 'href="/api/products/export"' in html
    assert 'enctype="multipart/form-data"' in html
    response = await post_file(admin, b"title,code,price,stock,category\nA,A,1,1,C\n")
    assert location(response) == "/admin/products/import"
    html = await page(await admin.get("/admin/products/import"))
    assert "Imported: 1 new, 0 changed, 0 already up to date." in html
    assert [p["code"] for p in await catalogue(admin)] == ["A"]


async def test_the_import_page_lists_bad_rows_and_imports_nothing(admin: Client) -> None:
    response = await post_file(admin, b"title,code,price,stock,category\nA,A,1,1,C\n,B,0,1,C\n")
    html = await page(response, 400)
    assert "Nothing was imported: 2 problems to fix" in html
    assert '<td data-label="Line">3</td><td data-label="Field"><code>title</code></td>' in html
    assert "must be greater than 0" in html
    assert await catalogue(admin) == []


async def test_the_import_form_needs_its_csrf_token(admin: Client) -> None:
    response = await post_file(admin, b"title,code,price,stock,category\nA,A,1,1,C\n", "forged")
    await page(response, 403)
    assert await catalogue(admin) == []


async def test_the_import_page_is_for_admins(client: Client, auth: Auth) -> None:
    response = await client.get("/admin/products/import", allow_redirects=False)
    assert location(response) == "/login?next=/admin/products/import"
    await auth.user()
    await page(await client.get("/admin/products/import"), 403)
