"""Bearer-token authentication for every route except the public ones; guards by role.

No token or an unknown/revoked one: 401, with the RFC 6750 challenge. Wrong role: 403."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.api.headers import header
from server.auth.permissions import POSTERS
from server.auth.tokens import KnownTokens, Principal, Role, hash_token, look_up, well_formed

# Paths anyone may read: liveness, the contract itself, the checkpoint signing key, the
# latest checkpoint and consistency proofs (all a witness reads). Cosignatures are
# posted without a token: their signature, by a key registered in the log, is the
# credential (server/api/witnesses.py).
PUBLIC_PATHS = [
    "^/health$",
    "^/ready$",
    "^/metrics$",
    "^/schema",
    "^/v1/codes",
    "^/v1/schemas",
    "^/v1/audit/public-key$",
    "^/v1/audit/checkpoint$",
    "^/v1/audit/proofs/consistency$",
    "^/v1/audit/cosignatures$",
]


UNKNOWN = "unknown or revoked token"
# RFC 6750 section 3.1: a token was sent and is not (or no longer) valid
INVALID_TOKEN = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def invalid_token() -> NotAuthorizedException:
    """The 401 for a token that was sent but is unknown or revoked. (Without a token the
    challenge is a bare `Bearer`, added to every 401 by server/api/answer_headers.py.)"""
    return NotAuthorizedException(UNKNOWN, headers=INVALID_TOKEN)


# the route whose requests may skip the token look-up (KnownTokens)
POSTING = ("POST", "/v1/events")
# the roles that may post some event (permissions.POSTERS): only their tokens are
# remembered, and only they pass POST /v1/events
WRITER_ROLES: frozenset[Role] = frozenset().union(*POSTERS.values())


@dataclass
class Credential:
    """What a request authenticated with (`request.auth`): its token's hash, and
    whether the database confirmed the token for this request. A known token on a post
    is confirmed by the append that commits its events, or else by `confirm_token`."""

    token_hash: bytes
    confirmed: bool


class TokenAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scheme, _, token = header(connection.scope, b"authorization").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("send Authorization: Bearer <token>")
        if not well_formed(token):
            raise invalid_token()
        token_hash = hash_token(token)
        known: KnownTokens = connection.app.state.known_tokens
        if (connection.scope.get("method"), connection.scope["path"]) == POSTING:
            principal = known.get(token_hash)
            if principal is not None:
                return AuthenticationResult(user=principal, auth=Credential(token_hash, False))
        principal = await look_up(connection.app.state.pool, token_hash)
        if principal is None:
            raise invalid_token()
        if principal.role in WRITER_ROLES:
            known.remember(token_hash, principal)
        return AuthenticationResult(user=principal, auth=Credential(token_hash, True))


async def confirm_token(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Look the request's token up if nothing has yet: 401 if it was revoked."""
    credential = connection.scope.get("auth")
    if not isinstance(credential, Credential) or credential.confirmed:
        return
    if await look_up(connection.app.state.pool, credential.token_hash) is None:
        forget_token(connection)
        raise invalid_token()
    credential.confirmed = True


def forget_token(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """This worker no longer takes the request's token as known (it was revoked)."""
    credential = connection.scope.get("auth")
    if isinstance(credential, Credential):
        connection.app.state.known_tokens.forget(credential.token_hash)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("authentication required")
    return user


def requires(*roles: Role) -> Any:
    """A guard that lets only the given roles through."""
    allowed = frozenset(roles)

    # async: litestar would run a sync guard in a worker thread, a hop per request
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        check_role(principal_of(connection), allowed)

    return guard


def check_role(principal: Principal, allowed: frozenset[Role]) -> None:
    """403 unless the principal has one of the roles. Routes call it themselves where
    a guard's cost shows (litestar copies the route handler for every guard call)."""
    if principal.role not in allowed:
        raise PermissionDeniedException(
            f"role {principal.role.value} may not do this; "
            f"allowed: {', '.join(sorted(r.value for r in allowed))}"
        )


# Common guard sets, named for who they admit.
READERS = requires(Role.ADMIN, Role.COORDINATOR, Role.PARTNER, Role.AUDITOR)
OVERSEERS = requires(Role.ADMIN, Role.COORDINATOR, Role.AUDITOR)
ADMINS = requires(Role.ADMIN)
