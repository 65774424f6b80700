"""`hamkari demo load`: the Tehran meeting's record and demo tokens, for a new user.

Safe to run again: events replay by id, tokens are kept in the data directory."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

import asyncpg

from server.auth.tokens import issue
from server.cli.common import migrate_dsn
from server.config import Settings
from server.database.pool import connect_owner, create_pool
from server.database.runtime import database_url
from server.demo import envelopes, scenario
from server.eventstore import Appender, EventStore
from server.services.posting import PostingService
from server.services.repository import AggregateRepository

DEMO_TOKENS = [
    ("demo-admin", "admin", None),
    ("demo-coordinator", "coordinator", None),
    ("demo-auditor", "auditor", None),
    ("demo-nrc", "partner", "nrc"),
    ("demo-ayandeh", "partner", "ayandeh"),
]


async def load(
    dsn: str, settings: Settings, known_tokens: dict[str, str]
) -> tuple[int, int, dict[str, str]]:
    await migrate_dsn(dsn, settings)
    pool = await create_pool(dsn, settings, min_size=1, max_size=4)
    appender = Appender(pool)
    store = EventStore(pool, appender)
    service = PostingService(store, AggregateRepository(store))
    appended = replayed = 0
    try:
        for principal, batch in scenario():
            posted = await service.post(principal, envelopes(batch), "demo-load")
            for receipt in posted.receipts:
                replayed += receipt.replayed
                appended += not receipt.replayed
    finally:
        await appender.close()
        await pool.close()
    return appended, replayed, await _tokens(dsn, known_tokens)


async def _tokens(dsn: str, known: dict[str, str]) -> dict[str, str]:
    """Demo tokens: issued once, then read back from the data directory (mode 0600)."""
    conn: asyncpg.Connection = await connect_owner(dsn)
    try:
        # a demo token that exists (even revoked: an operator's decision) is never re-issued
        existing = {r["name"] for r in await conn.fetch("SELECT name FROM tokens")}
        for name, role, partner in DEMO_TOKENS:
            if name not in existing:
                known[name] = await issue(conn, name=name, role=role, partner_id=partner)
        revoked = {
            r["name"]
            for r in await conn.fetch("SELECT name FROM tokens WHERE revoked_at IS NOT NULL")
        }
        known = {name: token for name, token in known.items() if name not in revoked}
    finally:
        await conn.close()
    return known


def cmd_demo_load(settings: Settings, _args: argparse.Namespace) -> int:
    token_file = Path(settings.data_dir) / "demo-tokens.json"
    known = json.loads(token_file.read_text()) if token_file.exists() else {}
    with database_url(settings) as dsn:
        appended, replayed, tokens = asyncio.run(load(dsn, settings, known))
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(json.dumps(tokens, indent=2))
    os.chmod(token_file, 0o600)
    print(f"demo record: {appended} event(s) appended, {replayed} already there")
    print(f"demo tokens (also in {token_file}):")
    for name, token in tokens.items():
        print(f"  {name:<18} {token}")
    return 0


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="the demo record of the Tehran meeting")
    actions = demo.add_subparsers(dest="action", required=True)
    load_ = actions.add_parser("load", help="post the demo events and issue demo tokens")
    load_.set_defaults(handler=cmd_demo_load)
