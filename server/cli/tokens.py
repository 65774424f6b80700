"""`hamkari token issue|list|revoke`: the operator's hand on API tokens."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import asyncpg

from server.auth.tokens import TokenError, issue, list_tokens, revoke
from server.cli.common import with_owner
from server.config import Settings


def cmd_issue(settings: Settings, args: argparse.Namespace) -> int:
    async def work(conn: asyncpg.Connection) -> str:
        return await issue(conn, name=args.name, role=args.role, partner_id=args.partner)

    try:
        token = with_owner(settings, work)
    except TokenError as exc:
        print(f"hamkari: {exc}", file=sys.stderr)
        return 2
    print(token)  # alone on stdout, so scripts can capture it
    return 0


def cmd_list(settings: Settings, _args: argparse.Namespace) -> int:
    rows = with_owner(settings, list_tokens)
    print(f"{'NAME':<24} {'ROLE':<12} {'PARTNER':<16} {'CREATED':<20} STATUS")
    for row in rows:
        status = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
        print(
            f"{row.name:<24} {row.role:<12} {row.partner_id or '-':<16} "
            f"{row.created_at:%Y-%m-%d %H:%M}     {status}"
        )
    return 0


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> int:
    async def work(conn: asyncpg.Connection) -> None:
        await revoke(conn, args.name)

    try:
        with_owner(settings, work)
    except TokenError as exc:
        print(f"hamkari: {exc}", file=sys.stderr)
        return 2
    print(f"revoked {args.name}")
    return 0


def register(commands: Any) -> None:
    token = commands.add_parser("token", help="issue, list and revoke API tokens")
    actions = token.add_subparsers(dest="action", required=True)
    issue_ = actions.add_parser("issue", help="create a token; prints it once")
    issue_.add_argument(
        "--role", required=True, choices=["admin", "coordinator", "partner", "auditor"]
    )
    issue_.add_argument("--name", required=True, help="a unique name: the principal id")
    issue_.add_argument("--partner", help="the partner_id a partner token is bound to")
    issue_.set_defaults(handler=cmd_issue)
    list_ = actions.add_parser("list", help="every token, without secrets")
    list_.set_defaults(handler=cmd_list)
    revoke_ = actions.add_parser("revoke", help="revoke a token by name")
    revoke_.add_argument("name")
    revoke_.set_defaults(handler=cmd_revoke)
