"""/healthz, and the command line (`python -m shop ...`) run as a real process."""

from __future__ import annotations

import asyncio
import re
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import ClientSession
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

from shop.app import create_app
from shop.keys import STORE
from shop.settings import SECRET_KEY_FILE, Settings
from tests.conftest import PASSWORD, Auth, Client
from tests.servers import free_port, shop_env

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30


async def run_cli(
    env: Mapping[str, str],
    *args: str,
    stdin: str = "",
    cwd: Path = PROJECT_ROOT,
    timeout: float = START_TIMEOUT,
) -> tuple[int, str, str]:
    """Run `python -m shop *args` to completion (within `timeout` seconds): (exit code,
    stdout, stderr).

    Asynchronous, so a store served by this test's event loop keeps answering meanwhile.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shop",
        *args,
        env=dict(env),
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(timeout):
        out, err = await process.communicate(stdin.encode())
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@asynccontextmanager
async def running_server(
    env: Mapping[str, str], log: Path, printed: list[str] | None = None
) -> AsyncIterator[str]:
    """`python -m shop serve` on a free port; yields its base URL once it listens.

    Waits for the line the server prints when it is listening, not for a fixed time, and
    keeps the lines printed until then in `printed`. On exit the process is killed if it
    is still running.
    """
    port = free_port()
    with log.open("ab") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "shop",
            "serve",
            env={**env, "SHOP_PORT": str(port)},
            cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
        )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            while b"Running on" not in (line := await process.stdout.readline()):
                assert line, f"the server exited early:\n{log.read_text()}"
                if printed is not None:
                    printed.append(line.decode().rstrip("\n"))
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def assert_one_line_error(result: tuple[int, str, str], *words: str) -> None:
    code, _, err = result
    assert code != 0
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert err.endswith("\n")
    for word in words:
        assert word in err


# ---- /healthz --------------------------------------------------------------------------------


async def test_healthz_is_200_while_the_store_answers(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "success"
    assert set(body) == {"status", "payload"}


def own_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key=b"test-secret-key-that-is-long-enough-0123456789",
    )


async def test_healthz_is_503_when_the_sqlite_store_is_closed(
    aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path
) -> None:
    settings = own_settings(tmp_path, f"sqlite:///{tmp_path / 'shop.db'}")
    client = await aiohttp_client(create_app(settings))
    await client.app[STORE].close()
    response = await client.get("/healthz")
    assert response.status == 503
    assert await response.json() == {"status": "error", "error": "store unavailable"}


async def test_healthz_is_503_when_the_mongodb_server_stops(
    aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path
) -> None:
    server = AsyncMongoEcoProxyServer()
    address = await server.start()
    try:
        url = f"mongodb://{address.host}:{address.port}/shop?directConnection=true"
        client = await aiohttp_client(create_app(own_settings(tmp_path, url)))
        assert (await client.get("/healthz")).status == 200
    finally:
        await server.close()
    response = await client.get("/healthz")
    assert response.status == 503
    assert await response.json() == {"status": "error", "error": "store unavailable"}


# ---- create-admin ------------------------------------------------------------------------------


async def test_create_admin_makes_an_admin_who_logs_in_through_the_api(
    settings: Settings, tmp_path: Path, make_client: Callable[..., Awaitable[Client]]
) -> None:
    env = shop_env(tmp_path, SHOP_DATABASE_URL=settings.database_url)
    code, out, err = await run_cli(
        env, "create-admin", "--email", "a@b.co", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0, err
    assert out.splitlines()[-1].startswith("created admin a@b.co")
    client = await make_client()
    admin = await Auth(client).login("a@b.co")
    assert admin["role"] == "admin"
    response = await client.get("/api/users")
    assert response.status == 200


async def test_create_admin_promotes_an_existing_user(
    settings: Settings, tmp_path: Path, make_client: Callable[..., Awaitable[Client]]
) -> None:
    client = await make_client()
    user = await Auth(client).register(email="ana@example.com")
    env = shop_env(tmp_path, SHOP_DATABASE_URL=settings.database_url)
    code, out, err = await run_cli(
        env,
        "create-admin",
        "--email",
        "ana@example.com",
        "--password-stdin",
        stdin="a new admin passphrase\n",
    )
    assert code == 0, err
    assert out.splitlines()[-1].startswith("promoted admin ana@example.com")
    promoted = await Auth(client).login("ana@example.com", "a new admin passphrase")
    assert promoted["_id"] == user["_id"]
    assert promoted["role"] == "admin"


async def test_create_admin_with_a_short_password_is_one_line_error(tmp_path: Path) -> None:
    result = await run_cli(
        shop_env(tmp_path), "create-admin", "--email", "a@b.co", "--password-stdin", stdin="short"
    )
    await assert_one_line_error(result, "password")


async def test_create_admin_with_a_bad_email_is_one_line_error(tmp_path: Path) -> None:
    result = await run_cli(
        shop_env(tmp_path), "create-admin", "--email", "nope", "--password-stdin", stdin=PASSWORD
    )
    await assert_one_line_error(result, "email")


# ---- which database --------------------------------------------------------------------------


async def test_create_admin_says_which_sqlite_file_it_used(tmp_path: Path) -> None:
    # A relative path is relative to where the command runs: say the absolute one.
    env = shop_env(tmp_path / "data", SHOP_DATABASE_URL="sqlite:///relative/shop.db")
    code, out, err = await run_cli(
        env, "create-admin", "--email", "a@b.co", "--password-stdin", stdin=PASSWORD, cwd=tmp_path
    )
    assert code == 0, err
    database = tmp_path / "relative" / "shop.db"
    assert out.splitlines()[0] == f"database: SQLite file {database}"
    assert database.exists()


async def test_serve_says_which_sqlite_file_it_serves(tmp_path: Path) -> None:
    printed: list[str] = []
    async with running_server(shop_env(tmp_path), tmp_path / "server.log", printed):
        pass
    assert printed[0] == f"database: SQLite file {tmp_path.resolve() / 'shop.db'}"


async def test_a_mongodb_password_is_masked_where_the_database_is_named(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: the command fails after naming the database
    url = f"mongodb://shopuser:s3cr3t-pa55@127.0.0.1:{port}/shop?authSource=admin"
    code, out, err = await run_cli(
        shop_env(tmp_path, SHOP_DATABASE_URL=url),
        *("create-admin", "--email", "a@b.co", "--password-stdin"),
        stdin=PASSWORD,
    )
    assert code != 0
    masked = f"mongodb://shopuser:***@127.0.0.1:{port}/shop?authSource=admin"
    assert out.splitlines()[0] == f"database: MongoDB {masked}"
    assert "s3cr3t" not in out + err


# ---- configuration errors ----------------------------------------------------------------------


async def test_unreachable_mongodb_is_one_line_error(tmp_path: Path) -> None:
    env = shop_env(tmp_path, SHOP_DATABASE_URL=f"mongodb://127.0.0.1:{free_port()}/shop")
    result = await run_cli(env, "serve")
    await assert_one_line_error(result, "cannot reach MongoDB at 127.0.0.1:")


async def test_unopenable_sqlite_file_is_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the database's folder should be")
    env = shop_env(tmp_path, SHOP_DATABASE_URL=f"sqlite:///{blocker / 'shop.db'}")
    result = await run_cli(env, "serve")
    await assert_one_line_error(result, "cannot open the SQLite database", str(blocker))


@pytest.mark.parametrize(
    "command", [["serve"], ["create-admin", "--email", "a@b.co", "--password-stdin"]]
)
async def test_bad_database_url_is_one_line_error(tmp_path: Path, command: list[str]) -> None:
    env = shop_env(tmp_path, SHOP_DATABASE_URL="postgres://x")
    result = await run_cli(env, *command, stdin=PASSWORD)
    await assert_one_line_error(result, "SHOP_DATABASE_URL")


@pytest.mark.parametrize("port", ["http", "70000", "-1"])
async def test_bad_port_is_one_line_error(tmp_path: Path, port: str) -> None:
    result = await run_cli(shop_env(tmp_path, SHOP_PORT=port), "serve")
    await assert_one_line_error(result, "SHOP_PORT")


async def test_short_secret_key_is_one_line_error(tmp_path: Path) -> None:
    result = await run_cli(shop_env(tmp_path, SHOP_SECRET_KEY="too short"), "serve")
    await assert_one_line_error(result, "SHOP_SECRET_KEY")


# ---- the secret key file ------------------------------------------------------------------------


async def test_secret_key_file_is_created_readable_only_by_its_owner(tmp_path: Path) -> None:
    code, _, err = await run_cli(
        shop_env(tmp_path), "create-admin", "--email", "a@b.co", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, err
    key_file = tmp_path / SECRET_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes().strip()) >= 32


async def test_data_dir_and_database_are_readable_only_by_their_owner(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    code, _, err = await run_cli(
        shop_env(data_dir), "create-admin", "--email", "a@b.co", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, err
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    database = data_dir / "shop.db"
    for path in (database, *data_dir.glob("shop.db-*")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


async def test_secret_key_file_is_reused_on_the_next_run(tmp_path: Path) -> None:
    env = shop_env(tmp_path)
    args = ("create-admin", "--email", "a@b.co", "--password-stdin")
    assert (await run_cli(env, *args, stdin=PASSWORD))[0] == 0
    key = (tmp_path / SECRET_KEY_FILE).read_bytes()
    assert (await run_cli(env, *args, stdin=PASSWORD))[0] == 0
    assert (tmp_path / SECRET_KEY_FILE).read_bytes() == key


async def test_secret_key_is_never_printed(tmp_path: Path) -> None:
    code, out, err = await run_cli(
        shop_env(tmp_path), "create-admin", "--email", "a@b.co", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, err
    key = (tmp_path / SECRET_KEY_FILE).read_text().strip()
    assert key not in out
    assert key not in err


# ---- serve ------------------------------------------------------------------------------------


async def test_serve_answers_healthz(tmp_path: Path) -> None:
    env = shop_env(tmp_path, SHOP_DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}")
    async with running_server(env, tmp_path / "server.log") as base, ClientSession() as http:
        response = await http.get(f"{base}/healthz")
        assert response.status == 200
        assert (await response.json())["status"] == "success"


async def test_serve_logs_every_request_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = shop_env(tmp_path)
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shop",
        "serve",
        env={**env, "SHOP_PORT": str(port)},
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    async with asyncio.timeout(START_TIMEOUT):
        while b"Running on" not in await process.stdout.readline():
            pass
        async with ClientSession() as http:
            for _ in range(3):
                assert (await http.get(f"http://127.0.0.1:{port}/healthz")).status == 200
        process.terminate()
        _, err = await process.communicate()
    assert process.returncode == 0
    assert b"Traceback" not in err
    # Access lines are written in batches: the ones still waiting are written at exit.
    assert err.count(b"method=GET path=/healthz status=200") == 3
    # Written straight into the batch, yet laid out as logging.Formatter(logs.FORMAT) would.
    access = re.compile(
        rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO shop\.access method=GET path=/healthz"
        rb" status=200 duration_ms=\d+\.\d\d user=-$",
        re.MULTILINE,
    )
    assert len(access.findall(err)) == 3, err
