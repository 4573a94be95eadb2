"""The HTTP connection handler: what the shop answers when a request never reaches the app.

A request aiohttp cannot parse (bad header bytes, a broken request line) is answered by its
connection handler, not by the app: by default a plain-text 400 that echoes the offending
bytes, and a logged traceback. The shop answers it with its JSON error envelope and its
usual headers, and logs one escaped line.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from shop.logs import escape
from shop.middlewares import SECURITY_HEADERS

log = logging.getLogger("shop.http")

MAX_REASON = 200


class ShopRequestHandler(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            # A failure outside the app's error middleware: the log keeps the traceback.
            log.error("unhandled error from %s", escape(request.remote or "-"), exc_info=exc)
            text = "internal error"
        else:
            # The parser's first line says what was wrong; the rest echoes the client's bytes.
            reason = str(message or exc or "malformed request").strip().split("\n")[0]
            reason = escape(reason[:MAX_REASON], keep_spaces=True)
            log.info("malformed request from %s: %s", escape(request.remote or "-"), reason)
            text = "malformed HTTP request"
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already sent; the connection is closed")
        response = web.json_response(
            {"status": "error", "error": text}, status=status, headers=SECURITY_HEADERS
        )
        response.force_close()
        return response


class ShopServer(web.Server):
    """aiohttp's Server, making ShopRequestHandlers."""

    def __call__(self) -> RequestHandler:
        return ShopRequestHandler(self, loop=self._loop, **self._kwargs)


def use_shop_handler(app: web.Application) -> None:
    """Serve `app` with ShopRequestHandler, under run_app and test servers alike.

    aiohttp creates its connection handler in Server.__call__, and the Server in the app's
    `_make_handler`; neither takes a class. So the app's factory is wrapped to hand back
    the same Server as a ShopServer (which only changes __call__).
    """
    make_server = app._make_handler

    def make_shop_server(**kwargs: Any) -> web.Server:
        server = make_server(**kwargs)
        server.__class__ = ShopServer
        return server

    app._make_handler = make_shop_server  # type: ignore[method-assign]
