"""The offline recomputation and the server's SQL reports agree on a generated log: every
report kind, both calendars, several filters, at the head and at a past position.

The log is bench/generated_log.py's World (deliveries, corrections, retractions,
pledges with commitments, amendments, disbursements and cancellations, meetings,
presentations, commitments and challenges) with targets, locked and unlocked months and
a suspension mixed in. 5,000 events: enough for every kind of event to occur many times
over in every month and every partner's record, small enough for the unit suite (the
fold in memory is ~0.1 s here; the SQL side pays for temporary tables per report)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from bench.generated_log import World
from server.audit.export import export_line
from server.audit.recompute import fold_export, recompute
from server.eventstore.appender import EVENT_COLUMNS
from server.projections.catalog import REPORTS, projections_named
from server.projections.history import at_position
from server.projections.report_bodies import TableSource, build, content

SIZE = 5_000
ON = "2025-06-01"


class Mixed(World):
    """The bench's world, with what it lacks for these reports: targets, locked months
    and a partner suspended and reinstated."""

    def events(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for i, event in enumerate(super().events()):
            yield event
            if i % 97 == 50:
                partner = self.partners[i % len(self.partners)]
                site, sector, activity = self.programmes[partner][0]
                t = f"00000000-0000-4000-8000-{i:012d}"
                yield "TargetSet", f"target-{t}", {
                    "target_id": t, "partner_id": partner, "sector": sector,
                    "site_id": site if i % 2 else None, "activity": activity,
                    "period_start": "2023-03-01", "period_end": "2024-08-31",
                    "beneficiaries": {"women": i % 500, "men": 40, "girls": 7, "boys": 9},
                    "reason": None,
                }  # fmt: skip
            if i % 401 == 400:
                month = f"{2023 + i // 2000}-{i % 12 + 1:02d}"
                yield "PeriodLocked", "periods", {
                    "month": month, "calendar": "gregorian", "reason": "sent",
                }  # fmt: skip
                if i % 802 == 400:
                    yield "PeriodUnlocked", "periods", {
                        "month": month, "calendar": "gregorian", "reason": "late reports",
                    }  # fmt: skip
            if i == 1500:
                yield "PartnerSuspended", "partner-p03", {"partner_id": "p03", "reason": "audit"}
            if i == 2500:
                yield "PartnerReinstated", "partner-p03", {"partner_id": "p03", "reason": "ok"}


CASES: list[tuple[str, dict[str, Any]]] = [
    ("who-what-where", {"partner": None, "site": None, "sector": None}),
    ("who-what-where", {"partner": "p07", "site": None, "sector": "health", "from": "2023-04"}),
    ("deliveries", {"group_by": ["partner", "site", "sector", "month"]}),
    ("deliveries", {"group_by": ["site", "month"], "to": "2024-02"}),
    ("deliveries", {"group_by": []}),
    ("pledges", {"view": "pledges", "partner": None}),
    ("pledges", {"view": "partners", "partner": None, "from": "2024-01"}),
    ("pledges", {"view": "months", "partner": None}),
    ("pledges", {"view": "months", "partner": "p04"}),
    ("commitments", {"status": None, "owner": None, "on": ON}),
    ("commitments", {"status": "overdue", "owner": None, "on": ON, "to": "2024-12"}),
    ("commitments", {"status": "fulfilled", "owner": None, "on": ON}),
    ("commitments", {"status": None, "owner": "p04", "on": ON}),
    ("partner", {"partner_id": "p03", "on": ON}),
    ("partner", {"partner_id": "p21", "on": ON, "from": "2024-01", "to": "2024-06"}),
    ("progress", {"view": "progress", "group_by": ["partner", "month"], "partner": None}),
    ("progress", {"view": "progress", "group_by": ["sector"], "partner": None, "site": None}),
    ("progress", {"view": "completeness", "month": "2024-03"}),
]


def params_in(calendar: str, given: dict[str, Any]) -> dict[str, Any]:
    """The case's parameters in `calendar` (a Gregorian month moved to a Jalali one)."""
    shift = {"from": None, "to": None, **given}
    if calendar == "jalali":
        for key in ("from", "to", "month"):
            if shift.get(key):
                year, month = shift[key].split("-")
                shift[key] = f"{int(year) - 622}-{month}"
    return {"calendar": calendar, **shift}


@pytest.fixture
async def generated(database_url: str) -> list[bytes]:
    """The log loaded into `events` (COPY, as the bench does) and as export lines."""
    rows = list(Mixed(SIZE).rows())
    conn = await asyncpg.connect(database_url)
    try:
        await conn.copy_records_to_table("events", records=rows, columns=EVENT_COLUMNS)
        await conn.execute(
            "ALTER TABLE log_head DROP CONSTRAINT IF EXISTS log_head_frontier_at_head"
        )
        await conn.execute("UPDATE log_head SET last_position = $1", len(rows))
    finally:
        await conn.close()
    return [export_line(r[0], r[8], r[7]) for r in rows]  # type: ignore[arg-type]


async def test_recomputation_and_the_server_agree_on_a_generated_log(
    pool: asyncpg.Pool, generated: list[bytes]
) -> None:
    size = len(generated)
    kinds = {type_ for type_, _ in REPORTS.items()}
    assert {report for report, _ in CASES} == kinds  # every report kind is checked
    for upto in (size, size * 3 // 5):
        started = time.perf_counter()
        folded = fold_export(generated, upto)
        fold_seconds = time.perf_counter() - started
        print(f"\nfolded {upto:,} events in memory in {fold_seconds:.2f} s")
        for calendar in ("gregorian", "jalali"):
            for report, given in CASES:
                params = params_in(calendar, given)

                async def query(conn: Any, names: Any, r: str = report, p: Any = params) -> Any:
                    return await build(TableSource(conn, names), r, p)

                server = await at_position(
                    pool, projections_named(REPORTS[report]), upto, query, from_snapshots=False
                )
                offline = recompute(folded, report, params)
                assert server.document is not None, (report, params)
                live, recomputed = content(server.document), content(offline.document or {})
                assert live == recomputed, (upto, report, params)
                # at the head, every case compares something
                assert live["rows"] or upto < size, (report, params)
