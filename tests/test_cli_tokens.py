"""`hamkari token issue|list|revoke`, as an operator runs them."""

from __future__ import annotations

import asyncpg

from server.auth.tokens import Role, authenticate, hash_token
from tests.conftest import hamkari


async def test_issue_prints_the_token_alone_and_stores_only_its_hash(
    cli_env: dict[str, str], database_url: str, pool: asyncpg.Pool
) -> None:
    result = hamkari(
        "token", "issue", "--role", "partner", "--name", "nrc-app", "--partner", "nrc", env=cli_env
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and token.startswith("hmk_")
    owner = await asyncpg.connect(database_url)
    try:
        stored = await owner.fetchrow("SELECT * FROM tokens WHERE name = 'nrc-app'")
    finally:
        await owner.close()
    assert stored["token_hash"] == hash_token(token)
    assert token not in repr(dict(stored))
    principal = await authenticate(pool, token)
    assert principal is not None
    assert (principal.name, principal.role, principal.partner_id) == (
        "nrc-app",
        Role.PARTNER,
        "nrc",
    )

    listed = hamkari("token", "list", env=cli_env)
    assert "nrc-app" in listed.stdout and "active" in listed.stdout and token not in listed.stdout

    assert hamkari("token", "revoke", "nrc-app", env=cli_env).returncode == 0
    assert await authenticate(pool, token) is None
    assert "revoked" in hamkari("token", "list", env=cli_env).stdout


def test_issue_refuses_a_partner_token_without_its_partner(cli_env: dict[str, str]) -> None:
    result = hamkari("token", "issue", "--role", "partner", "--name", "x", env=cli_env)
    assert result.returncode == 2
    assert "--partner" in result.stderr and result.stdout == ""


def test_issue_refuses_a_duplicate_name(cli_env: dict[str, str]) -> None:
    assert (
        hamkari("token", "issue", "--role", "auditor", "--name", "a1", env=cli_env).returncode == 0
    )
    again = hamkari("token", "issue", "--role", "auditor", "--name", "a1", env=cli_env)
    assert again.returncode == 2 and "already exists" in again.stderr


async def test_unknown_or_malformed_tokens_authenticate_as_nobody(pool: asyncpg.Pool) -> None:
    assert await authenticate(pool, "hmk_nope") is None
    assert await authenticate(pool, "Bearer garbage") is None
    assert await authenticate(pool, "hmk_" + "x" * 500) is None
