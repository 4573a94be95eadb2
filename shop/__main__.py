"""The shop's command line: `serve`, `create-admin`, `seed-demo`, `export-products` and
`import-products`. An error is one line on stderr and a non-zero exit (a catalogue file
with bad rows: exit 1, one line per problem)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from typing import TextIO

from aiohttp import web

from shop import commands, logs
from shop.commands import STDIO
from shop.errors import ShopError
from shop.service.catalogue import BadRows
from shop.settings import ConfigError, Settings, from_env
from shop.store.base import StoreError

SHUTDOWN_TIMEOUT = 2.0
MAX_DEMO_PRODUCTS = 1_000_000


def _serve(settings: Settings, host: str | None, port: int | None) -> None:
    from shop.app import create_app, mention_empty_catalogue

    log_output = logs.configure()
    app = create_app(settings)
    app.on_startup.append(mention_empty_catalogue)
    try:
        web.run_app(
            app,
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


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise ConfigError("the passwords do not match")
    return first


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shop", description="A small-shop backend.")
    subcommands = parser.add_subparsers(dest="command", required=True)
    serve = subcommands.add_parser("serve", help="serve the shop")
    serve.add_argument("--host", help="address to listen on (default SHOP_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default SHOP_PORT or 8080)")
    admin = subcommands.add_parser("create-admin", help="create an admin, or promote an account")
    admin.add_argument("--email", required=True)
    admin.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    demo = subcommands.add_parser(
        "seed-demo", help="fill an empty shop with a demo catalogue, a shopper and orders"
    )
    demo.add_argument(
        "--force", action="store_true", help="add the demo even when the shop has products"
    )
    demo.add_argument(
        "--products",
        type=_count,
        metavar="N",
        help="make N products in all (beyond the demo's own: generated, without pictures)",
    )
    export = subcommands.add_parser("export-products", help="write the catalogue as a CSV file")
    export.add_argument("file", nargs="?", default=STDIO, help="where to write (default: stdout)")
    load = subcommands.add_parser(
        "import-products", help="create and update products from a CSV file, all or nothing"
    )
    load.add_argument("file", help="the CSV file (- reads standard input)")
    return parser


def _count(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_DEMO_PRODUCTS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_DEMO_PRODUCTS:,}")
    return int(raw)


def _run(args: argparse.Namespace, settings: Settings, info: TextIO) -> int:
    """Run a command other than serve; its exit code."""
    match args.command:
        case "create-admin":
            password = _read_password(args.password_stdin)
            print(asyncio.run(commands.create_admin(settings, args.email, password)))
        case "seed-demo":
            asyncio.run(commands.seed_demo(settings, args.force, args.products, info))
        case "export-products":
            asyncio.run(commands.export_products(settings, args.file, info))
        case "import-products":
            data = commands.read_input(args.file)
            try:
                asyncio.run(commands.import_products(settings, args.file, data, info))
            except BadRows as exc:
                print(f"shop: error: nothing was imported: {exc.count} problems", file=sys.stderr)
                for problem in exc.problems:
                    print(f"{problem.where}: {problem.message}", file=sys.stderr)
                if exc.count > len(exc.problems):
                    print(f"and {exc.count - len(exc.problems)} more", file=sys.stderr)
                return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # A CSV written to stdout must hold the file alone: what is said goes to stderr then.
    to_stdout = args.command == "export-products" and args.file == STDIO
    info = sys.stderr if to_stdout else sys.stdout
    try:
        settings = from_env()
        # Said first: run from another directory, a relative SQLite path is another file.
        print(f"database: {settings.describe_database()}", file=info, flush=True)
        if args.command != "serve":
            return _run(args, settings, info)
        if args.port is not None and not 0 <= args.port <= 65535:
            raise ConfigError(f"--port must be between 0 and 65535, got {args.port}")
        _serve(settings, args.host, args.port)
    except (ConfigError, ShopError, StoreError, ValueError) as exc:
        print(f"shop: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"shop: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
