"""`hamkari witness keygen` (a witness's key; prints the verifier key an admin registers)
and `hamkari witness run` (cosign the log's checkpoints, once or every few seconds)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from server.audit.cosignature import read_cosigner, write_new_key
from server.audit.signing import NoteError, Verifier, load_verifier
from server.audit.witness import LogClient, WitnessError, WitnessRefused, run_round
from server.config import Settings

EXIT_OK, EXIT_REFUSED, EXIT_UNUSABLE = 0, 1, 2


def cmd_keygen(_settings: Settings, args: argparse.Namespace) -> int:
    try:
        cosigner = write_new_key(args.out, args.name)
    except FileExistsError:
        print(f"hamkari: {args.out} exists; a witness key is never overwritten", file=sys.stderr)
        return EXIT_UNUSABLE
    except (OSError, NoteError) as exc:
        print(f"hamkari: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(cosigner.key.vkey)  # what an admin registers with WitnessRegistered
    return EXIT_OK


def cmd_run(_settings: Settings, args: argparse.Namespace) -> int:
    try:
        cosigner = read_cosigner(args.key, args.name)
        log_key: Verifier | None = None
        if args.log_key is not None:
            log_key = load_verifier(args.log_key.read_text(), args.log_origin)
    except (OSError, NoteError) as exc:
        print(f"hamkari: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    client = LogClient(args.url)
    try:
        while True:
            try:
                done = run_round(client, cosigner, args.state, log_key)
            except WitnessRefused as exc:
                print(
                    f"REFUSED: {exc.reason}; not cosigned; evidence kept in {exc.evidence}",
                    file=sys.stderr,
                )
                return EXIT_REFUSED
            except (WitnessError, NoteError, OSError) as exc:
                print(f"hamkari: {exc}", file=sys.stderr)
                if args.every is None:
                    return EXIT_UNUSABLE
            else:
                print(
                    f"{done.outcome} size {done.size} as {cosigner.name} "
                    f"({done.seconds * 1000:.0f} ms)",
                    flush=True,
                )
                if args.every is None:
                    return EXIT_OK
            time.sleep(args.every)
    finally:
        client.close()


def register(commands: Any) -> None:
    witness = commands.add_parser(
        "witness", help="cosign the log's checkpoints as a witness (C2SP cosignature/v1)"
    )
    actions = witness.add_subparsers(dest="action", required=True)
    keygen = actions.add_parser(
        "keygen",
        help="make a witness key; prints its verifier key for an admin to register",
        description=(
            "Writes a new Ed25519 key (PKCS#8 PEM after a `witness: NAME` line, mode 0600) "
            "to FILE and prints the C2SP verifier key NAME+KEYID+base64(0x04 || key) alone "
            "on stdout. An admin registers it with a WitnessRegistered event."
        ),
    )
    keygen.add_argument("name", help="the witness's name, e.g. witness.nrc.no")
    keygen.add_argument("--out", type=Path, required=True, help="the key file to create")
    keygen.set_defaults(handler=cmd_keygen)
    run = actions.add_parser(
        "run",
        help="cosign the newest checkpoint when it extends the last one cosigned",
        description=(
            "Each round: fetch the newest checkpoint, check the log's signature, prove it "
            "extends the last checkpoint this witness cosigned (kept in --state), cosign and "
            "submit it. Exit 0 when it cosigned or had nothing new; 1 when the log showed a "
            "checkpoint that does not extend the last one cosigned (the evidence is kept in "
            "the state directory); 2 when the round could not run."
        ),
    )
    run.add_argument("--url", required=True, help="the log's server, e.g. https://hamkari.example")
    run.add_argument("--key", type=Path, required=True, help="the witness key file (keygen)")
    run.add_argument("--state", type=Path, required=True, help="the witness's state directory")
    run.add_argument("--name", help="the witness's name, if the key file does not give it")
    run.add_argument(
        "--log-key",
        type=Path,
        help="the log's public key (PEM or C2SP vkey); default: fetched on the first round "
        "and pinned in the state",
    )
    run.add_argument("--log-origin", help="the log's name, to go with a PEM --log-key")
    every = run.add_mutually_exclusive_group()
    every.add_argument("--once", action="store_true", help="one round (the default)")
    every.add_argument("--every", type=float, metavar="SECONDS", help="a round every SECONDS")
    run.set_defaults(handler=cmd_run)
