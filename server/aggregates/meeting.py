"""The Meeting aggregate: a coordination meeting, who took part, and the reports
partners presented at it."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import event

from schemas import events
from schemas.common import id_text
from server.aggregates.base import AlreadyExists, HamkariAggregate, NotFound, RuleBroken, plain
from server.aggregates.context import Context
from server.aggregates.partner import partner_stream, registered_partner
from server.aggregates.site import registered_site, site_stream


class UnknownMeeting(NotFound):
    rule = "unknown-meeting"


class MeetingAlreadyHeld(AlreadyExists):
    rule = "meeting-already-held"


class PartnerDidNotAttend(RuleBroken):
    """Only a partner that took part in the meeting (or chaired it) presents there."""

    rule = "partner-did-not-attend"


def meeting_stream(meeting_id: object) -> str:
    return f"meeting-{id_text(meeting_id)}"


def _attendees(data: events.MeetingHeld) -> list[str]:
    """The chair and the participants' partners, each once, in order of mention."""
    ids = [data.chair_partner_id, *(p.partner_id for p in data.participants)]
    return list(dict.fromkeys(ids))


class Meeting(HamkariAggregate):
    """A meeting; `participant_ids` are the participating partners (each once)."""

    @event("MeetingHeld")
    def __init__(self, id: str, data: events.MeetingHeld) -> None:
        self.meeting_id: str = id_text(data.meeting_id)
        self.held_on: str = data.held_on.isoformat()
        self.title_fa: str = data.title_fa
        self.title_en: str = data.title_en
        self.site_id: str | None = data.site_id
        self.chair_partner_id: str = data.chair_partner_id
        self.participants: list[dict[str, Any]] = plain(data.participants)
        self.participant_ids: list[str] = list(
            dict.fromkeys(p.partner_id for p in data.participants)
        )
        self.reports: list[dict[str, Any]] = []

    @classmethod
    def hold(cls, data: events.MeetingHeld, ctx: Context) -> Meeting:
        for partner_id in _attendees(data):
            registered_partner(ctx, partner_id)
        if data.site_id is not None:
            registered_site(ctx, data.site_id)
        return cls(id=meeting_stream(data.meeting_id), data=data)

    @staticmethod
    def streams_to_hold(data: events.MeetingHeld) -> list[str]:
        streams = [partner_stream(p) for p in _attendees(data)]
        if data.site_id is not None:
            streams.append(site_stream(data.site_id))
        return streams

    def attended(self, partner_id: str) -> bool:
        return partner_id == self.chair_partner_id or partner_id in self.participant_ids

    def present_report(self, data: events.ReportPresented) -> None:
        if not self.attended(data.partner_id):
            raise PartnerDidNotAttend(
                f"partner {data.partner_id} did not take part in meeting {self.meeting_id}"
            )
        self._present_report(data)

    @event("ReportPresented")
    def _present_report(self, data: events.ReportPresented) -> None:
        self.reports.append({"partner_id": data.partner_id, "summary": data.summary})
