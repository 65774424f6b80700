"""The Site aggregate: a place where services are delivered, open until it closes.
Also the site checks other aggregates make."""

from __future__ import annotations

import datetime

from eventsourcing.domain import event

from schemas import events
from server.aggregates.base import AlreadyExists, HamkariAggregate, NotFound, RuleBroken
from server.aggregates.context import Context


class UnknownSite(NotFound):
    rule = "unknown-site"


class SiteAlreadyRegistered(AlreadyExists):
    rule = "site-already-registered"


class SiteAlreadyClosed(RuleBroken):
    rule = "site-already-closed"


def site_stream(site_id: str) -> str:
    return f"site-{site_id}"


class Site(HamkariAggregate):
    """A multipurpose centre, camp or office; `closed_on` is None while open."""

    @event("SiteRegistered")
    def __init__(self, id: str, data: events.SiteRegistered) -> None:
        self.site_id: str = data.site_id
        self.name_fa: str = data.name_fa
        self.name_en: str = data.name_en
        self.kind: str = data.kind
        self.province: str = data.province
        self.county: str | None = data.county
        self.closed_on: str | None = None

    @classmethod
    def register(cls, data: events.SiteRegistered) -> Site:
        return cls(id=site_stream(data.site_id), data=data)

    def close(self, data: events.SiteClosed) -> None:
        if self.closed_on is not None:
            raise SiteAlreadyClosed(f"site {self.site_id} closed on {self.closed_on}")
        self._close(data)

    @event("SiteClosed")
    def _close(self, data: events.SiteClosed) -> None:
        self.closed_on = data.closed_on.isoformat()

    def closed_before(self, day: datetime.date) -> datetime.date | None:
        """The closing date, when the site closed before `day`."""
        if self.closed_on is None:
            return None
        closed = datetime.date.fromisoformat(self.closed_on)
        return closed if closed < day else None


def registered_site(ctx: Context, site_id: str) -> Site:
    site = ctx.aggregate(site_stream(site_id), Site)
    if site is None:
        raise UnknownSite(f"site {site_id} is not registered")
    return site
