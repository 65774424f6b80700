"""Bearer-token authentication for every route except the public ones; guards by role.

No token or an unknown/revoked one: 401. Wrong role: 403."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.auth.tokens import Principal, Role, authenticate

# Paths anyone may read: liveness, the contract itself, the checkpoint signing key.
PUBLIC_PATHS = [
    "^/health$",
    "^/ready$",
    "^/metrics$",
    "^/schema",
    "^/v1/codes",
    "^/v1/schemas",
    "^/v1/audit/public-key$",
    "^/v1/audit/checkpoint$",
]


class TokenAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("send Authorization: Bearer <token>")
        principal = await authenticate(connection.app.state.pool, token.strip())
        if principal is None:
            raise NotAuthorizedException("unknown or revoked token")
        return AuthenticationResult(user=principal, auth=token)


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
        principal = principal_of(connection)
        if principal.role not in allowed:
            raise PermissionDeniedException(
                f"role {principal.role.value} may not do this; "
                f"allowed: {', '.join(sorted(r.value for r in allowed))}"
            )

    return guard


# Common guard sets, named for who they admit.
READERS = requires(Role.ADMIN, Role.COORDINATOR, Role.PARTNER, Role.AUDITOR)
WRITERS = requires(Role.ADMIN, Role.COORDINATOR, Role.PARTNER)
OVERSEERS = requires(Role.ADMIN, Role.COORDINATOR, Role.AUDITOR)
ADMINS = requires(Role.ADMIN)
