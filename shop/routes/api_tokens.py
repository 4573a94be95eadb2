"""/api/tokens: a user's personal API tokens (for `Authorization: Bearer <token>`)."""

from __future__ import annotations

from aiohttp import web

from shop.keys import TOKENS
from shop.models.tokens import TokenIn
from shop.routes.common import path_id, read_json, success
from shop.security import current_user, requires

routes = web.RouteTableDef()


@routes.post("/api/tokens")
@requires()
async def create_token(request: web.Request) -> web.Response:
    data = await read_json(request, TokenIn)
    token, secret = await request.app[TOKENS].create(current_user(request), data.name)
    # The only time the token is shown: the store keeps its hash alone.
    return success({**token.to_json(), "token": secret}, status=201)


@routes.get("/api/tokens")
@requires()
async def list_tokens(request: web.Request) -> web.Response:
    tokens = await request.app[TOKENS].list(current_user(request))
    return success([token.to_json() for token in tokens])


@routes.delete("/api/tokens/{tid}")
@requires()
async def revoke_token(request: web.Request) -> web.Response:
    tid = path_id(request, "tid")
    await request.app[TOKENS].revoke(current_user(request), tid)
    return success({"_id": tid})
