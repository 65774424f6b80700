"""`hamkari audit verify` (an export file offline, or a live server against an old
checkpoint) and `hamkari audit checkpoint` (sign one now, as the operator)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

from server.audit.auditor import (
    AuditInputError,
    Quorum,
    Report,
    verify_live,
    verify_offline,
    witness_key_from_file,
)
from server.audit.checkpoints import CheckpointRefused, sign_checkpoint
from server.audit.report_check import verify_report
from server.audit.signing import Signer, load_or_create_key
from server.audit.tree_store import AuditTreeError
from server.audit.verify import Progress
from server.cli.common import migrate_dsn
from server.config import Settings
from server.database.pool import create_pool
from server.database.runtime import database_url

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def terminal_progress() -> Progress | None:
    """A progress line on stderr, only when it is a terminal."""
    if not sys.stderr.isatty():
        return None
    last = 0.0

    def show(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < 0.25 and done < total:
            return
        last = now
        share = 100 * done / total if total else 100
        end = "\n" if done >= total else ""
        print(
            f"\r  re-hashed {done:,} / {total:,} entries ({share:.0f}%)",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    return show


def print_report(report: Report) -> int:
    for note in report.notes:
        print(note)
    if report.ok:
        print("OK: every entry re-hashed, every signature and proof holds")
        return EXIT_OK
    for problem in report.problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if report.first_bad is not None:
        print(f"first bad position: {report.first_bad}", file=sys.stderr)
    return EXIT_FAILED


def cmd_verify(_settings: Settings, args: argparse.Namespace) -> int:
    progress = terminal_progress()
    try:
        keys = [witness_key_from_file(path) for path in args.witness_key]
        if args.quorum > len(keys):
            print(
                f"hamkari: --quorum {args.quorum} needs at least as many --witness-key files",
                file=sys.stderr,
            )
            return EXIT_UNUSABLE
        quorum = Quorum(keys, args.quorum)
        if args.url:
            if args.export or len(args.checkpoint) != 1:
                print("hamkari: --url takes one --checkpoint and no export file", file=sys.stderr)
                return EXIT_UNUSABLE
            report = verify_live(
                args.url,
                args.checkpoint[0],
                args.public_key,
                args.token or os.environ.get("HAMKARI_TOKEN"),
                progress,
                quorum,
            )
        else:
            if args.export is None or args.public_key is None:
                print("hamkari: give an EXPORT file and --public-key (or --url)", file=sys.stderr)
                return EXIT_UNUSABLE
            report = verify_offline(args.export, args.checkpoint, args.public_key, progress, quorum)
    except AuditInputError as exc:
        print(f"hamkari: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    return print_report(report)


def cmd_verify_report(_settings: Settings, args: argparse.Namespace) -> int:
    try:
        report = verify_report(
            args.report, args.export, args.checkpoint, args.public_key, args.attestation
        )
    except AuditInputError as exc:
        print(f"hamkari: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    for note in report.notes:
        print(note)
    if report.ok:
        print("OK: the signature, the root, the checkpoint and every recomputed row hold")
        return EXIT_OK
    for problem in report.problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return EXIT_FAILED


def cmd_checkpoint(settings: Settings, _args: argparse.Namespace) -> int:
    signer = Signer(settings.log_origin, load_or_create_key(settings.signing_key_path))

    async def work(dsn: str) -> bytes:
        await migrate_dsn(dsn, settings)
        pool = await create_pool(dsn, settings, min_size=1, max_size=1)
        try:
            checkpoint, _new = await sign_checkpoint(pool, signer)
        finally:
            await pool.close()
        return msgspec.json.encode(checkpoint)

    try:
        with database_url(settings) as dsn:
            encoded = asyncio.run(work(dsn))
    except (CheckpointRefused, AuditTreeError) as exc:
        print(f"hamkari: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(encoded.decode())  # the JSON an auditor keeps
    return EXIT_OK


def register(commands: Any) -> None:
    audit = commands.add_parser("audit", help="verify the audit log; sign a checkpoint")
    actions = audit.add_subparsers(dest="action", required=True)
    verify = actions.add_parser(
        "verify",
        help="verify an export offline, or a live server against an old checkpoint",
        description=(
            "Offline: hamkari audit verify EXPORT.ndjson --checkpoint CHECKPOINT.json "
            "--public-key KEY. Live: hamkari audit verify --url URL --checkpoint OLD.json. "
            "With --witness-key FILE (repeatable) --quorum K, K of those witnesses must have "
            "cosigned the checkpoint relied on. "
            "Exit 0 only when everything holds, 1 naming the first bad position, 2 when "
            "the inputs cannot be used."
        ),
    )
    verify.add_argument("export", nargs="?", type=Path, help="an export (NDJSON) file")
    verify.add_argument(
        "--checkpoint",
        action="append",
        type=Path,
        required=True,
        help="a signed checkpoint (JSON or note); offline, repeat it for more signed sizes",
    )
    verify.add_argument(
        "--public-key",
        type=Path,
        help="the log's key (PEM or C2SP vkey); live, fetched from the server if absent",
    )
    verify.add_argument("--url", help="the server to verify live, e.g. https://hamkari.example")
    verify.add_argument("--token", help="an auditor token for --url (default: HAMKARI_TOKEN)")
    verify.add_argument(
        "--witness-key",
        action="append",
        type=Path,
        default=[],
        help="a witness's C2SP verifier key (a file); repeat it for each witness",
    )
    verify.add_argument(
        "--quorum",
        type=int,
        default=0,
        metavar="K",
        help="pass only when K of the --witness-key witnesses cosigned the checkpoint relied "
        "on (offline: the largest --checkpoint; live: the server's newest)",
    )
    verify.set_defaults(handler=cmd_verify)
    check = actions.add_parser(
        "verify-report",
        help="check an attested report offline: recompute it from an export",
        description=(
            "hamkari audit verify-report REPORT --export EXPORT.ndjson --checkpoint CP.json "
            "--public-key KEY [--attestation SIDECAR.json]. Checks the attestation's "
            "signature, that the export's first N entries hash to the attested root and the "
            "checkpoint extends it, then recomputes the report from those entries with the "
            "server's own fold and report code (no database, no network) and compares it "
            "with the file. Exit 0 only when all hold; 1 naming the first thing that does "
            "not (the first differing row); 2 when the inputs cannot be used."
        ),
    )
    check.add_argument("report", type=Path, help="the report: JSON with ?attest=true, or CSV/HXL")
    check.add_argument("--export", type=Path, required=True, help="an export (NDJSON) file")
    check.add_argument(
        "--checkpoint",
        action="append",
        type=Path,
        required=True,
        help="a signed checkpoint at or after the report's position (JSON or note)",
    )
    check.add_argument(
        "--public-key", type=Path, required=True, help="the log's key (PEM or C2SP vkey)"
    )
    check.add_argument(
        "--attestation",
        type=Path,
        help="the attestation of a CSV/HXL report (its sidecar, /v1/reports/attestations/CODE)",
    )
    check.set_defaults(handler=cmd_verify_report)
    checkpoint = actions.add_parser(
        "checkpoint", help="sign a checkpoint of the log now; prints it as JSON"
    )
    checkpoint.set_defaults(handler=cmd_checkpoint)
