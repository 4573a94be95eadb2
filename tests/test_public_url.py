"""SHOP_PUBLIC_URL: when set it is the only origin the cross-site checks accept, so a forged
Host header with a matching Origin no longer passes; unset, the Host header is trusted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import WSServerHandshakeError

from shop.settings import ConfigError, from_env, public_url
from tests.conftest import Auth, Client
from tests.envelopes import error, success

MakeClient = Callable[..., Awaitable[Client]]
PUBLIC = "https://shop.example.com"


@pytest.fixture
async def shop(make_client: MakeClient) -> Client:
    client = await make_client(public_url=PUBLIC)
    await Auth(client).user()
    return client


async def test_forged_host_with_a_matching_origin_is_refused(shop: Client) -> None:
    forged = {"Host": "evil.example", "Origin": "http://evil.example"}
    await error(await shop.post("/api/carts", headers=forged), 403)
    referer = {"Host": "evil.example", "Referer": "http://evil.example/page"}
    await error(await shop.post("/api/carts", headers=referer), 403)


async def test_the_public_origin_is_accepted_whatever_the_host(shop: Client) -> None:
    headers = {"Host": "127.0.0.1:9999", "Origin": PUBLIC}
    await success(await shop.post("/api/carts", headers=headers), 201)


async def test_the_hosts_own_origin_is_no_longer_enough(shop: Client) -> None:
    own = str(shop.make_url("/").origin())
    await error(await shop.post("/api/carts", headers={"Origin": own}), 403)


async def test_websocket_handshake_accepts_only_the_public_origin(shop: Client) -> None:
    for origin, host in (
        ("http://evil.example", "evil.example"),
        (str(shop.make_url("/").origin()), None),
    ):
        headers = {"Host": host} if host else {}
        with pytest.raises(WSServerHandshakeError) as refused:
            await shop.ws_connect("/ws", origin=origin, headers=headers)
        assert refused.value.status == 403
    ws = await shop.ws_connect("/ws", origin=PUBLIC)
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    await ws.close()


async def test_without_a_public_url_the_host_is_trusted(client: Client, auth: Auth) -> None:
    # The documented trade-off: a proxy in front must set Host itself.
    await auth.user()
    headers = {"Host": "elsewhere.example", "Origin": "http://elsewhere.example"}
    await success(await client.post("/api/carts", headers=headers), 201)


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("https://Shop.Example.com/", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("http://shop.example.com:8080", "http://shop.example.com:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("", None),
    ],
)
def test_public_url_is_read_as_browsers_send_origin(raw: str, origin: str | None) -> None:
    assert public_url(raw) == origin


@pytest.mark.parametrize(
    "raw",
    [
        "shop.example.com",
        "ftp://shop.example.com",
        "https://shop.example.com/shop",
        "https://shop.example.com?x=1",
        "https://user@shop.example.com",
        "https://shop.example.com:99999",
        "https://",
    ],
)
def test_bad_public_url_is_a_config_error_naming_it(raw: str) -> None:
    with pytest.raises(ConfigError, match="SHOP_PUBLIC_URL"):
        public_url(raw)


def test_throttle_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = {
        "SHOP_DATA_DIR": str(tmp_path),
        "SHOP_SECRET_KEY": "k" * 40,
        "SHOP_LOGIN_MAX_FAILURES": "7",
        "SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS": "300",
        "SHOP_LOGIN_MAX_FAILURES_PER_ACCOUNT": "80",
        "SHOP_LOGIN_WINDOW": "600",
        "SHOP_PUBLIC_URL": "https://shop.example.com",
    }
    settings = from_env(env)
    assert settings.login_max_failures == 7
    assert settings.login_max_failures_per_address == 300
    assert settings.login_max_failures_per_account == 80
    assert settings.login_window == 600
    assert settings.public_url == "https://shop.example.com"
    defaults = from_env({"SHOP_DATA_DIR": str(tmp_path), "SHOP_SECRET_KEY": "k" * 40})
    assert (
        defaults.login_max_failures,
        defaults.login_max_failures_per_address,
        defaults.login_max_failures_per_account,
        defaults.login_window,
        defaults.public_url,
    ) == (5, 100, 50, 900, None)


@pytest.mark.parametrize("value", ["0", "-1", "five", "1.5", "9" * 20])
def test_bad_throttle_setting_is_a_config_error_naming_it(tmp_path: Path, value: str) -> None:
    env = {"SHOP_DATA_DIR": str(tmp_path), "SHOP_SECRET_KEY": "k" * 40}
    with pytest.raises(ConfigError, match="SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS"):
        from_env({**env, "SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS": value})
