"""The Challenge aggregate: an obstacle a partner reported, once; reports read it,
no rule acts on it afterwards."""

from __future__ import annotations

from eventsourcing.domain import event

from schemas import events
from schemas.common import id_text
from server.aggregates.base import AlreadyExists, HamkariAggregate
from server.aggregates.context import Context
from server.aggregates.partner import partner_stream, registered_partner
from server.aggregates.site import registered_site, site_stream


class ChallengeAlreadyReported(AlreadyExists):
    rule = "challenge-already-reported"


def challenge_stream(challenge_id: object) -> str:
    return f"challenge-{id_text(challenge_id)}"


#: The fields of a new challenge that its rules read (server/aggregates/lean.py).
REPORT_READS = ("partner_id", "site_id")


def check_report(data: events.ChallengeReported, ctx: Context) -> None:
    """The rules of a new challenge: a registered partner, a registered site if named."""
    registered_partner(ctx, data.partner_id)
    if data.site_id is not None:
        registered_site(ctx, data.site_id)


class Challenge(HamkariAggregate):
    """A challenge reported by `partner_id`, optionally at a site and in a sector."""

    @event("ChallengeReported")
    def __init__(self, id: str, data: events.ChallengeReported) -> None:
        self.challenge_id: str = id_text(data.challenge_id)
        self.partner_id: str = data.partner_id
        self.site_id: str | None = data.site_id
        self.sector: str | None = data.sector
        self.description: str = data.description

    @classmethod
    def report(cls, data: events.ChallengeReported, ctx: Context) -> Challenge:
        check_report(data, ctx)
        return cls(id=challenge_stream(data.challenge_id), data=data)

    @staticmethod
    def streams_to_report(data: events.ChallengeReported) -> list[str]:
        streams = [partner_stream(data.partner_id)]
        if data.site_id is not None:
            streams.append(site_stream(data.site_id))
        return streams
