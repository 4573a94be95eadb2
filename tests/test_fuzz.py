"""Schemathesis against the shop's own OpenAPI document: every check, every phase
(examples, coverage, fuzzing, stateful links), on each store, as an admin, a user and
anonymously. Zero failures.

The shop runs in-process on the test's loop (with the test's cheap Argon2 settings);
`st run` runs as a subprocess against it. Its auth hook (tests/fuzz_auth.py) asks the
provisioning endpoint below for a fresh account and token of the run's role. Budget: at
most MAX_EXAMPLES cases per operation and phase, MAX_STEPS per stateful scenario, and
MAX_SECONDS for a whole run (the six runs take about 2 minutes 10 s on 2 cores).
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shop.keys import TOKENS, USERS
from shop.models.users import Role, UserIn
from tests.conftest import PASSWORD, Client, registration

ROOT = Path(__file__).resolve().parent.parent
ST = Path(sys.executable).with_name("st")
MAX_EXAMPLES = 8
MAX_STEPS = 10
MAX_SECONDS = 20  # per run: six runs take about 2 minutes 10 s of make test
TIMEOUT = 240

# Per-check settings, each with its reason (TOML written into the run's config file).
CONFIG = f"""
# Every check. Said here, not with `--checks all`: the command line's choice would
# override the per-operation settings below.
[checks]
enabled = true

[generation]
max-examples = {MAX_EXAMPLES}

[phases.stateful]
max-steps = {MAX_STEPS}

# A purchase's Idempotency-Key used again with another cart or body is 422 by design (the
# coverage phase sends the same example key with different bodies): schema-valid, refused.
# Buying an empty cart (a new cart, in the stateful phase) is 400 naming `cart` (issue 7):
# the body is fine, the cart is not. The rest is the check's default list.
[[operations]]
include-operation-id = "purchase"
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx"
]

# The schema can say "a file", not "the bytes of a JPEG, PNG, WebP or GIF picture": the
# random bytes schemathesis uploads are refused as no image (400 naming `image`).
[[operations]]
include-operation-id = "upload_image"
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"
]

# The schema can say "CSV text", not "rows that are good products": the text schemathesis
# makes up (an empty body included) is refused as a file with bad rows (400 naming each
# line; nothing is imported). The schema's example, a good file, is imported (200).
[[operations]]
include-operation-id = "import_products"
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"
]

# DELETE /api/carts/:cid empties the cart (the course this project rebuilds does so): the
# cart stays, so reading it afterwards is no use after free.
[[operations]]
include-operation-id = "get_cart"
checks.use_after_free.enabled = false
"""
# The run guesses API tokens on purpose (`ignored_auth` sends wrong ones) from one address:
# past the per-address ceiling every bearer request from it would be 429, so the shop
# under test allows that address more guesses. Throttling has its own tests.
GUESSES = 1_000_000


async def mint(request: web.Request) -> web.Response:
    """A new account of the asked role, and an API token for it."""
    shop = request.app[SHOP]
    role = Role((await request.json())["role"])
    users = shop[USERS]
    email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
    if role is Role.ADMIN:
        user, _ = await users.create_admin(email, PASSWORD)
    else:
        user = await users.register(UserIn.model_validate(registration(email=email)))
    _, token = await shop[TOKENS].create(user, "fuzz")
    return web.json_response({"token": token})


SHOP = web.AppKey("shop.fuzz.shop", web.Application)


@pytest.fixture
async def shop(make_client: Callable[..., Awaitable[Client]]) -> Client:
    return await make_client(login_max_failures_per_address=GUESSES)


@pytest.fixture
async def minting(shop: Client) -> AsyncIterator[str]:
    app = web.Application()
    app[SHOP] = shop.app
    app.router.add_post("/mint", mint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/mint"))
    finally:
        await server.close()


@pytest.mark.parametrize("role", ["admin", "user", "anonymous"])
async def test_schemathesis_finds_nothing(
    shop: Client, minting: str, role: str, tmp_path: Path
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    document = str(shop.make_url("/api/openapi.json"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.fuzz_auth",
        "SHOP_FUZZ_MINT": minting,
        "SHOP_FUZZ_ROLE": role,
    }
    process = await asyncio.create_subprocess_exec(
        str(ST),
        "--no-color",
        "--config-file",
        str(config),
        "run",
        document,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-time",
        str(MAX_SECONDS),
        "--workers",
        "2",
        "--report-dir",
        str(tmp_path / "report"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"schemathesis ran past {TIMEOUT} s")
    text = output.decode(errors="replace")
    (tmp_path / "schemathesis.txt").write_text(text)
    assert process.returncode == 0, text
