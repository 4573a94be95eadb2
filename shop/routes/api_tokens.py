"""/api/tokens: a user's personal API tokens (for `Authorization: Bearer <token>`)."""

from __future__ import annotations

from aiohttp import web

from shop.keys import TOKENS
from shop.models import answers
from shop.models.tokens import TokenIn
from shop.models.users import Role
from shop.routes.operation import Link, Returns, operation
from shop.security import current_user

routes = web.RouteTableDef()


@routes.post("/api/tokens")
@operation(
    "Make an API token",
    auth=Role.USER,
    body=TokenIn,
    returns=Returns(answers.NewToken, status=201),
    links={"revoke_token": Link("revoke_token", {"tid": "$response.body#/payload/_id"})},
)
async def create_token(request: web.Request, body: TokenIn) -> answers.NewToken:
    """A personal API token, shown this once (the shop keeps only its hash). It acts as
    its user, with that user's role, until revoked."""
    token, secret = await request.app[TOKENS].create(current_user(request), body.name)
    return answers.NewToken.made(token, secret)


@routes.get("/api/tokens")
@operation("List my API tokens", auth=Role.USER, returns=Returns(answers.Token, many=True))
async def list_tokens(request: web.Request) -> list[answers.Token]:
    """The caller's tokens, never the token itself."""
    tokens = await request.app[TOKENS].list(current_user(request))
    return [answers.Token.of(token) for token in tokens]


@routes.delete("/api/tokens/{tid}")
@operation("Revoke an API token", auth=Role.USER, returns=Returns(answers.Deleted))
async def revoke_token(request: web.Request, tid: str) -> answers.Deleted:
    """Revoke one of the caller's tokens (another's is 404)."""
    await request.app[TOKENS].revoke(current_user(request), tid)
    return answers.Deleted(id=tid)
