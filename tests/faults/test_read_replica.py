"""Reads from a hot standby (HAMKARI_READ_DATABASE_URL): a report with `min_position`
from a receipt waits for the standby's projections and includes the event; the replica's
lag is in /metrics, and /ready says 503 once the standby is too far behind."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.builders import service_delivered
from tests.conftest import free_port
from tests.faults.harness import Server, bearer, issue_tokens, set_up_world
from tests.faults.replication import DATABASE, migrated_env, replicated_pair
from tests.prometheus import sample

pytestmark = pytest.mark.slow

REPORT = "/v1/reports/deliveries?group_by=partner"


def delivered_by_nrc(report: dict[str, Any]) -> int:
    return sum(row["deliveries"] for row in report["rows"] if row["partner_id"] == "nrc")


async def post_delivery(client: httpx.AsyncClient) -> dict[str, Any]:
    body = {"type": "ServiceDelivered", "id": str(uuid.uuid4()), "data": service_delivered()}
    response = await client.post("/v1/events", json=body)
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


async def standby_readers(standby_dsn: str) -> int:
    """The server's connections to the standby (its pool logs in as the app role)."""
    conn = await asyncpg.connect(standby_dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = 'hamkari_app'"
            )
        )
    finally:
        await conn.close()


async def test_reports_read_through_the_replica_wait_for_a_receipts_position(
    tmp_path: Path,
) -> None:
    # asynchronous: the standby may lag, which is what min_position must wait for
    with replicated_pair(synchronous=False) as pair:
        env = await migrated_env(pair, tmp_path)
        env = {
            **env,
            "HAMKARI_READ_DATABASE_URL": pair.standby_dsn(DATABASE),
            "HAMKARI_READ_MAX_LAG": "5",
            "HAMKARI_REPORT_WAIT_MAX": "1",
        }
        tokens = await issue_tokens(pair.primary_dsn(DATABASE))
        server = Server(env, log_dir=tmp_path)
        server.start()
        try:
            await set_up_world(server.url, tokens)
            assert await standby_readers(pair.standby_dsn(DATABASE)) > 0
            async with (
                httpx.AsyncClient(base_url=server.url, headers=bearer(tokens["nrc"])) as nrc,
                httpx.AsyncClient(
                    base_url=server.url, headers=bearer(tokens["coordinator"])
                ) as coordinator,
                httpx.AsyncClient(base_url=server.url) as anyone,
            ):
                before = (await coordinator.get(REPORT)).json()
                receipt = await post_delivery(nrc)
                position = receipt["position"]
                answer = await coordinator.get(f"{REPORT}&min_position={position}")
                assert answer.status_code == 200, answer.text
                assert answer.json()["as_of_position"] >= position
                assert delivered_by_nrc(answer.json()) == delivered_by_nrc(before) + 1
                log = await coordinator.get(f"/v1/events?after={position - 1}&limit=1")
                assert [e["id"] for e in log.json()["events"]] == [receipt["id"]]

                async def replica_lag() -> dict[str, float]:
                    metrics = (await anyone.get("/metrics")).text
                    return {
                        name: sample(metrics, name)
                        for name in ("hamkari_replica_up", "hamkari_replica_lag_events")
                    }

                assert (await replica_lag())["hamkari_replica_up"] == 1
                assert (await anyone.get("/ready")).status_code == 200

                # the standby cut off: the primary goes on, the replica falls behind
                await asyncio.to_thread(pair.cut_off_standby, free_port())
                for _ in range(8):
                    receipt = await post_delivery(nrc)
                lag = await replica_lag()
                assert lag["hamkari_replica_lag_events"] >= 8, lag
                ready = await anyone.get("/ready")
                assert ready.status_code == 503
                assert "read replica is 8 events" in ready.json()["detail"], ready.text
                # a receipt the standby has not replayed: 503, never a stale answer
                late = await coordinator.get(f"{REPORT}&min_position={receipt['position']}")
                assert late.status_code == 503, late.text
                assert "retry-after" in late.headers
                proof = await anyone.get(
                    f"/v1/audit/proofs/consistency?from=1&to={receipt['position']}"
                )
                assert proof.status_code == 503, proof.text
                assert proof.json()["type"].endswith("/replica-behind")
        finally:
            await asyncio.to_thread(server.stop)
