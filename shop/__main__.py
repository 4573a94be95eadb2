"""The shop's command line: `serve` and `create-admin`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence

from aiohttp import web

from shop import logs
from shop.errors import ShopError
from shop.settings import ConfigError, Settings, from_env
from shop.store.base import StoreError

SHUTDOWN_TIMEOUT = 2.0


def _serve(settings: Settings, host: str | None, port: int | None) -> None:
    from shop.app import create_app

    log_output = logs.configure()
    try:
        web.run_app(
            create_app(settings),
            host=host or settings.host,
            port=settings.port if port is None else port,
            access_log=None,  # shop.access logs one line per request instead
            print=lambda message: print(message, flush=True),
            # Requests in flight get this long (twice, the second time cancelled); with the
            # bounded closes of the sockets, stores and Redis, a stop takes under 10 s.
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
    finally:
        log_output.flush()


async def _create_admin(settings: Settings, email: str, password: str) -> str:
    from shop.app import create_app
    from shop.keys import USERS

    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()  # runs cleanup_ctx: the same store and services as the server
    try:
        user, created = await app[USERS].create_admin(email, password)
    finally:
        await runner.cleanup()
    return f"{'created' if created else 'promoted'} admin {user.email} ({user.id})"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise ConfigError("the passwords do not match")
    return first


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shop", description="A small-shop backend.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the shop")
    serve.add_argument("--host", help="address to listen on (default SHOP_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default SHOP_PORT or 8080)")
    admin = commands.add_parser("create-admin", help="create an admin, or promote an account")
    admin.add_argument("--email", required=True)
    admin.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = from_env()
        # Said first: run from another directory, a relative SQLite path is another file.
        print(f"database: {settings.describe_database()}", flush=True)
        if args.command == "serve":
            if args.port is not None and not 0 <= args.port <= 65535:
                raise ConfigError(f"--port must be between 0 and 65535, got {args.port}")
            _serve(settings, args.host, args.port)
        else:
            password = _read_password(args.password_stdin)
            print(asyncio.run(_create_admin(settings, args.email, password)))
    except (ConfigError, ShopError, StoreError, ValueError) as exc:
        print(f"shop: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"shop: error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
