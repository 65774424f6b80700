"""Attested reports (`?attest=true`) checked offline by `hamkari audit verify-report`:
honest reports of every kind and both calendars verify; a changed figure, a report of
another position, swapped parameters, another key's signature and an export lacking
the last entries each fail, named; the check runs with no database and no server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.audit.attestation import Attestation, code_of, note_text, parse, qr_payload
from server.audit.report_check import verify_report
from server.audit.signing import Signer
from server.auth.tokens import issue
from server.config import Settings
from server.eventstore import EventStore
from tests.conftest import hamkari
from tests.projections.helpers import append
from tests.projections.scenario import EVENTS, ON

Client = AsyncTestClient[Litestar]
ROOT = Path(__file__).resolve().parents[2]

#: (path, params) of every report kind, in both calendars.
REPORTS: list[tuple[str, dict[str, str]]] = [
    ("/v1/reports/who-what-where", {}),
    ("/v1/reports/who-what-where", {"calendar": "jalali", "from": "1404-06", "to": "1404-07"}),
    ("/v1/reports/deliveries", {"group_by": "site,sector,month"}),
    ("/v1/reports/deliveries", {"group_by": "partner,month", "calendar": "jalali"}),
    ("/v1/reports/deliveries", {"group_by": ""}),
    ("/v1/reports/pledges", {}),
    ("/v1/reports/pledges", {"view": "partners", "from": "2025-01", "to": "2025-12"}),
    ("/v1/reports/pledges", {"view": "months", "calendar": "jalali"}),
    ("/v1/reports/commitments", {"on": ON}),
    ("/v1/reports/commitments", {"status": "overdue", "on": ON, "calendar": "jalali"}),
    ("/v1/reports/partners/nrc", {"on": ON}),
    ("/v1/reports/partners/nrc", {"on": ON, "calendar": "jalali", "from": "1404-06"}),
    ("/v1/reports/progress", {"group_by": "partner,month"}),
    ("/v1/reports/progress", {"view": "completeness", "month": "1404-07", "calendar": "jalali"}),
]


@pytest.fixture
async def client(settings: Settings, database_url: str) -> AsyncIterator[Client]:
    conn = await asyncpg.connect(database_url)
    try:
        token = await issue(conn, name="test-auditor", role="auditor", partner_id=None)
    finally:
        await conn.close()
    fast = msgspec.structs.replace(settings, poll_interval=0.1, projection_lock_retry=0.1)
    async with AsyncTestClient(create_app(fast)) as client:
        client.headers.update({"Authorization": f"Bearer {token}"})
        yield client


class Kit:
    """What an auditor keeps: the export, a checkpoint and the log's public key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.export = folder / "export.ndjson"
        self.checkpoint = folder / "checkpoint.json"
        self.key = folder / "log.pem"

    def check(self, report: bytes, sidecar: bytes | None = None, name: str = "report") -> Any:
        path = self.folder / f"{name}.json"
        path.write_bytes(report)
        side = None
        if sidecar is not None:
            side = self.folder / f"{name}.attestation.json"
            side.write_bytes(sidecar)
        return verify_report(path, self.export, [self.checkpoint], self.key, side)


async def kit(client: Client, folder: Path) -> Kit:
    k = Kit(folder)
    signed = await client.post("/v1/audit/checkpoints")
    assert signed.status_code in (200, 201), signed.text
    k.checkpoint.write_bytes(signed.content)
    size = signed.json()["size"]
    export = await client.get("/v1/audit/export", params={"from": 1, "to": size})
    assert export.status_code == 200, export.text
    k.export.write_bytes(export.content)
    k.key.write_text((await client.get("/v1/audit/public-key")).text)
    return k


async def world(client: Client, store: EventStore) -> int:
    recorded = await append(store, EVENTS)
    head = recorded[-1].position
    # every report's projections have reached the head
    for path, _ in REPORTS:
        got = await client.get(path, params={"min_position": head, "on": ON})
        assert got.status_code == 200, got.text
    return head


def refuse_float(text: str) -> Any:
    raise AssertionError(f"a float in a report: {text}")


NO_FLOATS = msgspec.json.Decoder(float_hook=refuse_float)


async def attested(client: Client, path: str, **params: Any) -> Any:
    got = await client.get(path, params={**params, "attest": "true"})
    assert got.status_code == 200, got.text
    return got


async def test_every_report_of_both_calendars_verifies_offline(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    head = await world(client, store)
    k = await kit(client, tmp_path)
    for i, (path, params) in enumerate(REPORTS):
        got = await attested(client, path, **params)
        document = got.json()
        statement = document["attestation"]["statement"]
        assert statement["as_of_position"] == head
        assert got.headers["hamkari-attestation"] == document["attestation"]["code"]
        # the signed content holds no floats (RFC 8785 for our data: money is decimal text)
        NO_FLOATS.decode(got.content)
        result = k.check(got.content, name=f"r{i}")
        assert result.ok, (path, params, result.problems)
    # a past position, too
    past = await attested(client, "/v1/reports/deliveries", at_position=head - 5)
    assert past.json()["attestation"]["statement"]["as_of_position"] == head - 5
    assert k.check(past.content).ok


async def test_csv_and_hxl_stay_plain_and_verify_with_their_sidecar(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    await world(client, store)
    k = await kit(client, tmp_path)
    for fmt in ("csv", "hxl"):
        got = await attested(client, "/v1/reports/who-what-where", format=fmt)
        assert got.text.splitlines()[0].startswith("partner_id,")  # no comment row
        code = got.headers["hamkari-attestation"]
        assert f"/v1/reports/attestations/{code}" in got.headers["link"]
        sidecar = await client.get(f"/v1/reports/attestations/{code.lower().replace('-', '')}")
        assert sidecar.status_code == 200, sidecar.text
        assert k.check(got.content, sidecar.content, name=fmt).ok
        lines = got.text.split("\r\n")
        head, total = lines[-2].rsplit(",", 1)
        lines[-2] = f"{head},{int(total) + 1}"  # the last row's total
        changed = "\r\n".join(lines)
        failed = k.check(changed.encode(), sidecar.content, name=f"{fmt}-changed")
        assert not failed.ok
        assert failed.problems[0].startswith(f"line {len(lines) - 1} differs"), failed.problems


async def test_a_changed_figure_fails_naming_its_row(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    await world(client, store)
    k = await kit(client, tmp_path)
    document = (await attested(client, "/v1/reports/deliveries", group_by="site,sector")).json()
    document["rows"][1]["total"] += 1
    result = k.check(msgspec.json.encode(document))
    assert not result.ok
    assert result.problems[0].startswith("row 2 differs"), result.problems
    assert "total" in result.problems[0]


async def test_a_report_of_another_position_fails(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    head = await world(client, store)
    k = await kit(client, tmp_path)
    now = (await attested(client, "/v1/reports/pledges")).json()
    before = (await attested(client, "/v1/reports/pledges", at_position=head - 12)).json()
    mixed = {**now, "attestation": before["attestation"]}
    result = k.check(msgspec.json.encode(mixed))
    assert not result.ok
    assert any(p.startswith("position:") for p in result.problems), result.problems


async def test_swapped_parameters_fail(client: Client, store: EventStore, tmp_path: Path) -> None:
    await world(client, store)
    k = await kit(client, tmp_path)
    gregorian = (await attested(client, "/v1/reports/deliveries", group_by="month")).json()
    jalali = (
        await attested(client, "/v1/reports/deliveries", group_by="month", calendar="jalali")
    ).json()
    swapped = {**gregorian, "attestation": jalali["attestation"]}
    result = k.check(msgspec.json.encode(swapped))
    assert not result.ok
    assert result.problems[0].startswith("row 1 differs"), result.problems


async def test_a_signature_by_another_key_fails(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    await world(client, store)
    k = await kit(client, tmp_path)
    document = (await attested(client, "/v1/reports/commitments", on=ON)).json()
    real = msgspec.convert(document["attestation"], Attestation)
    impostor = Signer(real.statement.origin, Ed25519PrivateKey.generate())
    note, _ = impostor.sign(note_text(real.statement))
    forged = Attestation(statement=real.statement, note=note, code=code_of(note))
    result = k.check(msgspec.json.encode({**document, "attestation": forged}))
    assert not result.ok
    assert result.problems[0].startswith("signature:"), result.problems


async def test_an_export_lacking_the_last_entries_fails(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    head = await world(client, store)
    k = await kit(client, tmp_path)
    document = await attested(client, "/v1/reports/who-what-where")
    lines = k.export.read_bytes().splitlines(keepends=True)
    k.export.write_bytes(b"".join(lines[: head - 3]))
    result = k.check(document.content)
    assert not result.ok
    assert result.problems[0].startswith("export: the export ends at position"), result.problems
    assert f"{head - 2}..{head}" in result.problems[0]


async def test_verify_report_needs_no_database_and_no_network(
    client: Client, store: EventStore, tmp_path: Path
) -> None:
    await world(client, store)
    k = await kit(client, tmp_path)
    report = tmp_path / "partner.json"
    report.write_bytes((await attested(client, "/v1/reports/partners/nrc", on=ON)).content)
    # nothing listens there, and the proxies lead nowhere: any connection would fail
    nowhere = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_URL": "postgresql://hamkari@127.0.0.1:9/nowhere",
        "HAMKARI_DATA_DIR": str(tmp_path / "data"),
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "PYTHONPATH": str(ROOT),
    }
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(
        "import socket\n"
        "class _NoSocket(socket.socket):\n"
        "    def __init__(self, *a, **k):\n"
        "        raise OSError('no network in an offline check')\n"
        "socket.socket = _NoSocket\n"
    )
    nowhere["PYTHONPATH"] = f"{guard}{os.pathsep}{nowhere['PYTHONPATH']}"
    # the guard holds: a socket in that environment is refused
    probe = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", "import socket; socket.socket()"],
        env=nowhere,
        capture_output=True,
    )
    assert probe.returncode != 0 and b"no network" in probe.stderr
    args = ["audit", "verify-report", str(report), "--export", str(k.export)]
    args += ["--checkpoint", str(k.checkpoint), "--public-key", str(k.key)]
    ran = hamkari(*args, env=nowhere)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "OK:" in ran.stdout
    document = msgspec.json.decode(report.read_bytes())
    document["pledges"]["rows"][0]["disbursed"] = "1.00"
    report.write_bytes(msgspec.json.encode(document))
    ran = hamkari(*args, env=nowhere)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "FAILED: pledges differs" in ran.stderr


async def test_an_attestation_parses_from_its_qr_payload_and_note(
    client: Client, store: EventStore
) -> None:
    await world(client, store)
    document = (await attested(client, "/v1/reports/pledges")).json()
    attestation = msgspec.convert(document["attestation"], Attestation)
    assert parse(qr_payload(attestation.note)) == attestation
    assert parse(attestation.note) == attestation
    assert parse(msgspec.json.encode(document)) == attestation


async def test_a_partner_finds_no_attestation_of_another_partners_record(
    client: Client, store: EventStore, database_url: str
) -> None:
    await world(client, store)
    code = (await attested(client, "/v1/reports/partners/nrc", on=ON)).json()["attestation"]["code"]
    shared = (await attested(client, "/v1/reports/pledges")).json()["attestation"]["code"]
    conn = await asyncpg.connect(database_url)
    try:
        other = await issue(conn, name="test-other", role="partner", partner_id="ayandeh")
        own = await issue(conn, name="test-nrc", role="partner", partner_id="nrc")
    finally:
        await conn.close()
    as_other = {"Authorization": f"Bearer {other}"}
    as_own = {"Authorization": f"Bearer {own}"}
    assert (
        await client.get(f"/v1/reports/attestations/{code}", headers=as_other)
    ).status_code == 404
    assert (await client.get(f"/v1/reports/attestations/{code}", headers=as_own)).status_code == 200
    assert (
        await client.get(f"/v1/reports/attestations/{shared}", headers=as_other)
    ).status_code == 200
    missing = await client.get("/v1/reports/attestations/AAAA-AAAA-AAAA-AAAA")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_bad_input_gets_a_problem_and_signs_nothing(
    client: Client, store: EventStore, database_url: str
) -> None:
    await world(client, store)
    for path, params in [
        ("/v1/reports/pledges", {"attest": "maybe"}),
        ("/v1/reports/deliveries", {"attest": "true", "group_by": "planet"}),
        ("/v1/reports/who-what-where", {"attest": "true", "from": "2025-13"}),
        ("/v1/reports/progress", {"attest": "true", "view": "completeness"}),
        ("/v1/reports/attestations/" + "x" * 41, {}),
    ]:
        got = await client.get(path, params=params)
        assert got.status_code == 400, (path, params, got.text)
        assert got.headers["content-type"].startswith("application/problem+json")
    missing = await client.get("/v1/reports/partners/nobody", params={"attest": "true"})
    assert missing.status_code == 404
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM report_attestations") == 0
    finally:
        await conn.close()
