"""What one partner did and said over a period, as it presents itself at a meeting:
its deliveries, pledges, commitments, the challenges it reported and the meetings
it attended or presented at. The meetings and challenges are this projection's own
tables; the rest is read from the deliveries, pledges and commitments projections."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import msgspec

from schemas import events as ev
from server.projections.commitments import commitment_rows, tehran_date
from server.projections.deliveries import Filters, deliveries_report
from server.projections.model import Conn, Event, Projection, State, Table
from server.projections.pledges import partner_rows, pledge_rows, totals

_json = msgspec.json.Encoder(order="sorted")


class MeetingRow(NamedTuple):
    meeting_id: uuid.UUID
    held_on: datetime.date
    title_fa: str
    title_en: str
    site_id: str | None
    chair_partner_id: str
    participants: str  # jsonb: [{partner_id, person, role}]
    held_position: int


class PresentationRow(NamedTuple):
    presented_position: int
    meeting_id: uuid.UUID
    partner_id: str
    summary: str
    challenges: str  # jsonb: [text]


class ChallengeRow(NamedTuple):
    challenge_id: uuid.UUID
    partner_id: str
    site_id: str | None
    sector: str | None
    description: str
    reported_on: datetime.date
    reported_position: int


def _meeting_held(state: State, event: Event) -> None:
    d: ev.MeetingHeld = event.data
    state["meetings"][d.meeting_id] = MeetingRow(
        d.meeting_id,
        d.held_on,
        d.title_fa,
        d.title_en,
        d.site_id,
        d.chair_partner_id,
        _json.encode(d.participants).decode(),
        event.position,
    )


def _report_presented(state: State, event: Event) -> None:
    d: ev.ReportPresented = event.data
    state["presentations"][event.position] = PresentationRow(
        event.position, d.meeting_id, d.partner_id, d.summary, _json.encode(d.challenges).decode()
    )


def _challenge_reported(state: State, event: Event) -> None:
    d: ev.ChallengeReported = event.data
    state["challenges"][d.challenge_id] = ChallengeRow(
        d.challenge_id,
        d.partner_id,
        d.site_id,
        d.sector,
        d.description,
        tehran_date(event.recorded_at),  # a challenge carries no date: the day it was told
        event.position,
    )


PARTNER_RECORD = Projection(
    name="partner_record",
    description="meetings, reports presented at them, and challenges reported",
    tables=(
        Table(
            "meetings",
            MeetingRow,
            {
                "meeting_id": "uuid",
                "held_on": "date",
                "title_fa": "text",
                "title_en": "text",
                "site_id": "text",
                "chair_partner_id": "text",
                "participants": "jsonb",
                "held_position": "bigint",
            },
        ),
        Table(
            "presentations",
            PresentationRow,
            {
                "presented_position": "bigint",
                "meeting_id": "uuid",
                "partner_id": "text",
                "summary": "text",
                "challenges": "jsonb",
            },
        ),
        Table(
            "challenges",
            ChallengeRow,
            {
                "challenge_id": "uuid",
                "partner_id": "text",
                "site_id": "text",
                "sector": "text",
                "description": "text",
                "reported_on": "date",
                "reported_position": "bigint",
            },
        ),
    ),
    handlers={
        "MeetingHeld": _meeting_held,
        "ReportPresented": _report_presented,
        "ChallengeReported": _challenge_reported,
    },
    # every event here writes a whole row: nothing needs loading first
    reads={},
)


# --- the partner record -----------------------------------------------------------


def _between(column: str, filters: Filters, first: int) -> tuple[str, list[Any]]:
    conditions, args = [], []
    for sql, value in ((">=", filters.period.start), ("<=", filters.period.end)):
        if value is not None:
            args.append(value)
            conditions.append(f" AND {column} {sql} ${first + len(args) - 1}")
    return "".join(conditions), args


async def partner_record(
    conn: Conn,
    names: Mapping[str, str],
    partner_id: str,
    filters: Filters,
    on: datetime.date,
) -> dict[str, Any] | None:
    """The partner's record for the period; None when no such partner is registered."""
    partner = await conn.fetchrow(
        f"SELECT partner_id, name_fa, name_en, kind, country, suspended"
        f" FROM {names['partners']} WHERE partner_id = $1",
        partner_id,
    )
    if partner is None:
        return None
    filters = msgspec.structs.replace(filters, partner=partner_id)
    period = filters.period
    deliveries = await deliveries_report(conn, names, ("site", "sector", "month"), filters)
    overall = await deliveries_report(conn, names, (), filters)
    by_partner = await partner_rows(conn, names, period, partner_id)

    reported_on, args = _between("reported_on", filters, 2)
    challenges = await conn.fetch(
        f"SELECT * FROM {names['challenges']} WHERE partner_id = $1{reported_on}"
        " ORDER BY reported_on, reported_position",
        partner_id,
        *args,
    )
    held_on, args = _between("m.held_on", filters, 3)
    meetings = await conn.fetch(
        f"""
        SELECT m.meeting_id, m.held_on, m.title_fa, m.title_en, m.site_id, m.chair_partner_id,
               coalesce(json_agg(json_build_object(
                   'summary', p.summary, 'challenges', p.challenges)
                   ORDER BY p.presented_position)
                   FILTER (WHERE p.presented_position IS NOT NULL), '[]')::text AS presented
        FROM {names["meetings"]} m
        LEFT JOIN {names["presentations"]} p
               ON p.meeting_id = m.meeting_id AND p.partner_id = $1
        WHERE (m.participants @> $2::jsonb OR p.presented_position IS NOT NULL){held_on}
        GROUP BY m.meeting_id, m.held_on, m.title_fa, m.title_en, m.site_id, m.chair_partner_id
        ORDER BY m.held_on, m.meeting_id
        """,
        partner_id,
        _json.encode([{"partner_id": partner_id}]).decode(),
        *args,
    )
    return assemble(
        dict(partner),
        period.describe(),
        deliveries,
        overall[0],
        await pledge_rows(conn, names, period, partner_id),
        by_partner,
        await commitment_rows(conn, names, on=on, owner=partner_id, period=period),
        challenges,
        [{**m, "presented": msgspec.json.decode(m["presented"])} for m in meetings],
    )


def assemble(
    partner: dict[str, Any],
    period: dict[str, Any],
    deliveries: list[dict[str, Any]],
    overall: dict[str, Any],
    pledges: list[dict[str, Any]],
    by_currency: list[dict[str, Any]],
    commitments: list[dict[str, Any]],
    challenges: Sequence[Mapping[str, Any]],
    meetings: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The record from its parts (challenges and meetings as read, in order, a meeting's
    `presented` decoded); shared by the SQL report and its in-memory twin."""
    return {
        "partner": partner,
        "period": period,
        "rows": deliveries,
        "deliveries_total": overall,
        "pledges": {"rows": pledges, "by_currency": by_currency, "totals": totals(by_currency)},
        "commitments": commitments,
        "challenges": [
            {
                "challenge_id": str(c["challenge_id"]),
                "reported_on": c["reported_on"].isoformat(),
                "site_id": c["site_id"],
                "sector": c["sector"],
                "description": c["description"],
            }
            for c in challenges
        ],
        "meetings": [
            {
                "meeting_id": str(m["meeting_id"]),
                "held_on": m["held_on"].isoformat(),
                "title_fa": m["title_fa"],
                "title_en": m["title_en"],
                "site_id": m["site_id"],
                "chair_partner_id": m["chair_partner_id"],
                "presented": m["presented"],
            }
            for m in meetings
        ],
    }
