"""A plausible log of a million events for the projections bench, and loading it into
`events` with COPY as the owner, bypassing the appender."""

from __future__ import annotations

import datetime
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import msgspec

from server.eventstore import Metadata, NewEvent, canonical_json
from server.eventstore.appender import EVENT_COLUMNS
from server.eventstore.records import Entry, encode_entry, leaf_hash

SECTORS = ["education", "health", "protection", "livelihoods", "wash", "legal_aid", "cash"]
ACTIVITIES = ["Classes", "Outreach", "Counselling", "Distribution", "Referrals"]
META = Metadata(principal="bench", role="partner", partner_id="p00", request_id="bench")
START = datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC)
ON = datetime.date(2026, 1, 1)


class World:
    """Generates a plausible log: 60 partners at 40 sites, each with a few programmes,
    three years of monthly deliveries, with pledges, commitments and meetings."""

    def __init__(self, total: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.total = total
        self.partners = [f"p{i:02d}" for i in range(60)]
        self.sites = [f"site-{i:02d}" for i in range(40)]
        self.programmes = {
            p: [
                (self.rng.choice(self.sites), self.rng.choice(SECTORS), self.rng.choice(ACTIVITIES))
                for _ in range(4)
            ]
            for p in self.partners
        }
        self.versions: dict[str, int] = {}
        self.deliveries: list[str] = []
        self.pledges: list[tuple[str, str]] = []  # (pledge id, currency)
        self.commitments: list[str] = []
        self.meetings: list[str] = []

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def month(self, position: int) -> tuple[str, str, str]:
        """(period_start, period_end, due) for the month the log has reached."""
        index = min(35, position * 36 // self.total)
        year, month = 2023 + index // 12, index % 12 + 1
        end_day = 28 if self.rng.random() < 0.7 else self.rng.randint(10, 27)
        return (
            f"{year}-{month:02d}-01",
            f"{year}-{month:02d}-{end_day:02d}",
            f"{year}-{month:02d}-15",
        )

    def events(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(type, stream, data) in log order."""
        for p in self.partners:
            yield "PartnerRegistered", f"partner-{p}", {
                "partner_id": p, "name_fa": f"شریک {p}", "name_en": f"Partner {p}",
                "kind": "national_ngo", "country": "IR",
            }  # fmt: skip
        for s in self.sites:
            yield "SiteRegistered", f"site-{s}", {
                "site_id": s, "name_fa": f"مرکز {s}", "name_en": f"Centre {s}",
                "kind": "multipurpose_center", "province": "Tehran", "county": None,
            }  # fmt: skip
        rng = self.rng
        for position in range(len(self.partners) + len(self.sites) + 1, self.total + 1):
            start, end, due = self.month(position)
            partner = rng.choice(self.partners)
            roll = rng.random()
            if roll < 0.80 or not self.deliveries:
                site, sector, activity = rng.choice(self.programmes[partner])
                d = self.uid()
                self.deliveries.append(d)
                women, men, girls, boys = (rng.randint(0, 40) for _ in range(4))
                yield "ServiceDelivered", f"delivery-{d}", {
                    "delivery_id": d, "partner_id": partner, "site_id": site, "sector": sector,
                    "activity": activity, "period_start": start, "period_end": end,
                    "beneficiaries": {"women": women, "men": men, "girls": girls, "boys": boys},
                    "population_group": "REF", "nationality": "AF", "pledge_id": None,
                    "free_of_charge": True, "notes": None,
                }  # fmt: skip
            elif roll < 0.86:
                d = rng.choice(self.deliveries)
                yield "DeliveryCorrected", f"delivery-{d}", {
                    "delivery_id": d, "reason": "recount",
                    "beneficiaries": {"women": rng.randint(0, 40), "men": 3, "girls": 4, "boys": 5},
                }  # fmt: skip
            elif roll < 0.875:
                d = rng.choice(self.deliveries)
                yield "DeliveryRetracted", f"delivery-{d}", {"delivery_id": d, "reason": "twice"}
            elif roll < 0.885 or not self.pledges:
                pl, currency = self.uid(), rng.choice(["EUR", "USD", "IRR"])
                self.pledges.append((pl, currency))
                yield "PledgeMade", f"pledge-{pl}", {
                    "pledge_id": pl, "partner_id": partner, "amount": "250000.00",
                    "currency": currency, "sectors": [rng.choice(SECTORS)], "site_id": None,
                    "period_start": start, "period_end": "2026-12-31", "meeting_id": None,
                    "description": None,
                }  # fmt: skip
            elif roll < 0.892:
                pl, _ = rng.choice(self.pledges)
                yield "PledgeCommitted", f"pledge-{pl}", {
                    "pledge_id": pl, "committed_on": start, "agreement_ref": None,
                }  # fmt: skip
            elif roll < 0.922:
                pl, currency = rng.choice(self.pledges)
                yield "DisbursementRecorded", f"pledge-{pl}", {
                    "pledge_id": pl, "disbursement_id": self.uid(), "amount": "1250.50",
                    "currency": currency, "disbursed_on": end, "recipient_partner_id": None,
                }  # fmt: skip
            elif roll < 0.925:
                pl, _ = rng.choice(self.pledges)
                yield "PledgeAmended", f"pledge-{pl}", {
                    "pledge_id": pl, "amount": "300000.00", "period_end": None, "reason": "more",
                }  # fmt: skip
            elif roll < 0.927:
                pl, _ = rng.choice(self.pledges)
                yield "PledgeCancelled", f"pledge-{pl}", {"pledge_id": pl, "reason": "withdrawn"}
            elif roll < 0.931 or not self.meetings:
                m = self.uid()
                self.meetings.append(m)
                yield "MeetingHeld", f"meeting-{m}", {
                    "meeting_id": m, "held_on": end, "title_fa": "نشست", "title_en": "Meeting",
                    "site_id": None, "chair_partner_id": partner, "summary": None,
                    "participants": [{"partner_id": q, "person": None, "role": None}
                                     for q in rng.sample(self.partners, 8)],
                }  # fmt: skip
            elif roll < 0.941:
                m = rng.choice(self.meetings)
                yield "ReportPresented", f"meeting-{m}", {
                    "meeting_id": m, "partner_id": partner, "summary": "Progress as planned",
                    "challenges": ["Transport"],
                }  # fmt: skip
            elif roll < 0.961 or not self.commitments:
                c = self.uid()
                self.commitments.append(c)
                yield "CommitmentMade", f"commitment-{c}", {
                    "commitment_id": c, "meeting_id": None, "owner_partner_id": partner,
                    "description_fa": "پیگیری", "description_en": "Follow up", "sector": None,
                    "site_id": None, "due_on": due,
                }  # fmt: skip
            elif roll < 0.981:
                c = rng.choice(self.commitments)
                yield "CommitmentProgressReported", f"commitment-{c}", {
                    "commitment_id": c, "note": "under way", "percent": rng.randint(0, 100),
                }  # fmt: skip
            elif roll < 0.989:
                c = rng.choice(self.commitments)
                yield "CommitmentFulfilled", f"commitment-{c}", {
                    "commitment_id": c, "note": "done", "evidence": [],
                }  # fmt: skip
            elif roll < 0.991:
                c = rng.choice(self.commitments)
                yield "CommitmentWithdrawn", f"commitment-{c}", {
                    "commitment_id": c, "reason": "moot",
                }  # fmt: skip
            else:
                ch = self.uid()
                yield "ChallengeReported", f"challenge-{ch}", {
                    "challenge_id": ch, "partner_id": partner, "site_id": None, "sector": None,
                    "description": "Fuel shortages",
                }  # fmt: skip

    def new_events(self) -> Iterator[NewEvent]:
        """The same log as events for the appender (the audit bench builds its tree)."""
        for type_, stream, data in self.events():
            event_id = uuid.UUID(int=self.rng.getrandbits(128))
            yield NewEvent(
                id=event_id, type=type_, stream=stream, data=canonical_json(data), metadata=META
            )

    def rows(self) -> Iterator[tuple[object, ...]]:
        """Rows for COPY into `events`, exactly as the appender would store them."""
        for position, (type_, stream, data) in enumerate(self.events(), start=1):
            version = self.versions.get(stream, 0) + 1
            self.versions[stream] = version
            event_id = uuid.UUID(int=self.rng.getrandbits(128))
            recorded_at = START + datetime.timedelta(seconds=position * 90)
            entry = encode_entry(
                Entry(
                    position=position,
                    id=event_id,
                    type=type_,
                    stream=stream,
                    version=version,
                    schema_version=1,
                    recorded_at=recorded_at,
                    metadata=META,
                    data=msgspec.Raw(canonical_json(data)),
                )
            )
            yield (
                position, event_id, stream, version, type_, 1, recorded_at, entry, leaf_hash(entry)
            )  # fmt: skip


async def generate(dsn: str, total: int) -> float:
    """COPY `total` generated events into the log as the owner; seconds taken."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        world = World(total)
        rows = world.rows()
        while chunk := [row for _, row in zip(range(50_000), rows, strict=False)]:
            await conn.copy_records_to_table("events", records=chunk, columns=EVENT_COLUMNS)
        # the audit tree of these events is not built: the bench reads, it does not verify
        await conn.execute(
            "ALTER TABLE log_head DROP CONSTRAINT IF EXISTS log_head_frontier_at_head"
        )
        await conn.execute("UPDATE log_head SET last_position = $1", total)
        await conn.execute("VACUUM ANALYZE events")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    return time.perf_counter() - started
