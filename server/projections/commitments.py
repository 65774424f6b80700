"""Who promised to do what by when, and did they: every commitment with its progress
and its end (fulfilled or withdrawn). Overdue is not stored: it is open and past its
due date on the day asked, which by default is today in Asia/Tehran."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from schemas import events as ev
from server.projections.model import Conn, Event, Handler, Projection, State, Table
from server.projections.periods import Period

TEHRAN = ZoneInfo("Asia/Tehran")


def tehran_date(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(TEHRAN).date()


def today_in_tehran() -> datetime.date:
    return datetime.datetime.now(TEHRAN).date()


class CommitmentRow(NamedTuple):
    commitment_id: uuid.UUID
    meeting_id: uuid.UUID | None
    owner_partner_id: str
    description_fa: str | None
    description_en: str | None
    sector: str | None
    site_id: str | None
    due_on: datetime.date
    state: str
    percent: int | None
    last_note: str | None
    progress_reports: int
    closed_on: datetime.date | None
    made_position: int


def _made(state: State, event: Event) -> None:
    d: ev.CommitmentMade = event.data
    state["commitments"][d.commitment_id] = CommitmentRow(
        d.commitment_id,
        d.meeting_id,
        d.owner_partner_id,
        d.description_fa,
        d.description_en,
        d.sector,
        d.site_id,
        d.due_on,
        "open",
        None,
        None,
        0,
        None,
        event.position,
    )


def _progress(state: State, event: Event) -> None:
    d: ev.CommitmentProgressReported = event.data
    rows = state["commitments"]
    row = rows.get(d.commitment_id)
    if row is not None:
        rows[d.commitment_id] = row._replace(
            percent=row.percent if d.percent is None else d.percent,
            last_note=d.note,
            progress_reports=row.progress_reports + 1,
        )


def _closing(new_state: str) -> Handler:
    def handler(state: State, event: Event) -> None:
        rows = state["commitments"]
        row = rows.get(event.data.commitment_id)
        if row is not None and row.state == "open":  # only an open commitment ends
            rows[row.commitment_id] = row._replace(
                state=new_state,
                closed_on=tehran_date(event.recorded_at),
                # fulfilled: its note; withdrawn: its reason. Chosen by the field, not
                # by truthiness: an empty note from an older version is still a note
                last_note=event.data.note if hasattr(event.data, "note") else event.data.reason,
            )

    return handler


COMMITMENTS = Projection(
    name="commitments",
    description="commitments with their progress, fulfilment or withdrawal",
    tables=(
        Table(
            "commitments",
            CommitmentRow,
            {
                "commitment_id": "uuid",
                "meeting_id": "uuid",
                "owner_partner_id": "text",
                "description_fa": "text",
                "description_en": "text",
                "sector": "text",
                "site_id": "text",
                "due_on": "date",
                "state": "text",
                "percent": "integer",
                "last_note": "text",
                "progress_reports": "integer",
                "closed_on": "date",
                "made_position": "bigint",
            },
        ),
    ),
    handlers={
        "CommitmentMade": _made,
        "CommitmentProgressReported": _progress,
        "CommitmentFulfilled": _closing("fulfilled"),
        "CommitmentWithdrawn": _closing("withdrawn"),
    },
    reads={
        name: ("commitments", "commitment_id")
        for name in (
            "CommitmentMade",
            "CommitmentProgressReported",
            "CommitmentFulfilled",
            "CommitmentWithdrawn",
        )
    },
)


# --- the commitments report -------------------------------------------------------

STATUSES = ("open", "overdue", "fulfilled", "withdrawn")


async def commitment_rows(
    conn: Conn,
    names: Mapping[str, str],
    *,
    on: datetime.date,
    status: str | None = None,
    owner: str | None = None,
    period: Period | None = None,
) -> list[dict[str, Any]]:
    """Commitments due in the period; `overdue` means open with `due_on` before `on`."""
    period = period or Period()
    conditions: list[str] = []
    args: list[Any] = [on]
    for sql, value in (
        ("state = ${}", "open" if status == "overdue" else status),
        ("owner_partner_id = ${}", owner),
        ("due_on >= ${}", period.start),
        ("due_on <= ${}", period.end),
    ):
        if value is not None:
            args.append(value)
            conditions.append(sql.format(len(args)))
    if status == "overdue":
        conditions.append("due_on < $1")
    condition = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    records = await conn.fetch(
        f"SELECT *, (state = 'open' AND due_on < $1) AS overdue FROM {names['commitments']}"
        f"{condition} ORDER BY due_on, commitment_id",
        *args,
    )
    return [commitment_row(r, on) for r in records]


def commitment_row(r: Mapping[str, Any], on: datetime.date) -> dict[str, Any]:
    """A commitments-table row with its `overdue` -> a report row; shared by the SQL
    report and its in-memory twin."""
    return {
        "commitment_id": str(r["commitment_id"]),
        "owner_partner_id": r["owner_partner_id"],
        "status": r["state"],
        "overdue": r["overdue"],
        "days_overdue": (on - r["due_on"]).days if r["overdue"] else None,
        "due_on": r["due_on"].isoformat(),
        "description_fa": r["description_fa"],
        "description_en": r["description_en"],
        "sector": r["sector"],
        "site_id": r["site_id"],
        "meeting_id": r["meeting_id"] and str(r["meeting_id"]),
        "percent": r["percent"],
        "progress_reports": r["progress_reports"],
        "last_note": r["last_note"],
        "closed_on": r["closed_on"] and r["closed_on"].isoformat(),
    }
