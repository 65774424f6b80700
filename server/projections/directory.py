"""Who is who and where: the registered partners and sites, with their names in both
languages, a partner's suspension and a site's closure, and the witnesses that cosign
the log's checkpoints. Reports join it for names."""

from __future__ import annotations

import datetime
from typing import NamedTuple

from schemas import events as ev
from server.projections.model import Event, Handler, Projection, State, Table


class PartnerRow(NamedTuple):
    partner_id: str
    name_fa: str
    name_en: str
    kind: str
    country: str | None
    suspended: bool
    registered_position: int


class SiteRow(NamedTuple):
    site_id: str
    name_fa: str
    name_en: str
    kind: str
    province: str
    county: str | None
    closed_on: datetime.date | None
    registered_position: int


class WitnessRow(NamedTuple):
    witness_name: str
    verifier_key: str
    partner_id: str | None
    retired: bool
    registered_position: int


def _partner_registered(state: State, event: Event) -> None:
    d: ev.PartnerRegistered = event.data
    state["partners"][d.partner_id] = PartnerRow(
        d.partner_id, d.name_fa, d.name_en, d.kind, d.country, False, event.position
    )


def _suspension(suspended: bool) -> Handler:
    def handler(state: State, event: Event) -> None:
        partners = state["partners"]
        row = partners.get(event.data.partner_id)
        if row is not None:
            partners[row.partner_id] = row._replace(suspended=suspended)

    return handler


def _site_registered(state: State, event: Event) -> None:
    d: ev.SiteRegistered = event.data
    state["sites"][d.site_id] = SiteRow(
        d.site_id, d.name_fa, d.name_en, d.kind, d.province, d.county, None, event.position
    )


def _site_closed(state: State, event: Event) -> None:
    d: ev.SiteClosed = event.data
    sites = state["sites"]
    row = sites.get(d.site_id)
    if row is not None:
        sites[d.site_id] = row._replace(closed_on=d.closed_on)


def _witness_registered(state: State, event: Event) -> None:
    d: ev.WitnessRegistered = event.data
    state["witnesses"][d.witness_name] = WitnessRow(
        d.witness_name, d.verifier_key, d.partner_id, False, event.position
    )


def _witness_retired(state: State, event: Event) -> None:
    witnesses = state["witnesses"]
    row = witnesses.get(event.data.witness_name)
    if row is not None:
        witnesses[row.witness_name] = row._replace(retired=True)


DIRECTORY = Projection(
    name="directory",
    description="partners, sites and witnesses, with names in Persian and English",
    tables=(
        Table(
            "partners",
            PartnerRow,
            {
                "partner_id": "text",
                "name_fa": "text",
                "name_en": "text",
                "kind": "text",
                "country": "text",
                "suspended": "boolean",
                "registered_position": "bigint",
            },
        ),
        Table(
            "sites",
            SiteRow,
            {
                "site_id": "text",
                "name_fa": "text",
                "name_en": "text",
                "kind": "text",
                "province": "text",
                "county": "text",
                "closed_on": "date",
                "registered_position": "bigint",
            },
        ),
        Table(
            "witnesses",
            WitnessRow,
            {
                "witness_name": "text",
                "verifier_key": "text",
                "partner_id": "text",
                "retired": "boolean",
                "registered_position": "bigint",
            },
        ),
    ),
    handlers={
        "PartnerRegistered": _partner_registered,
        "PartnerSuspended": _suspension(True),
        "PartnerReinstated": _suspension(False),
        "SiteRegistered": _site_registered,
        "SiteClosed": _site_closed,
        "WitnessRegistered": _witness_registered,
        "WitnessRetired": _witness_retired,
    },
    reads={
        "PartnerSuspended": ("partners", "partner_id"),
        "PartnerReinstated": ("partners", "partner_id"),
        "SiteClosed": ("sites", "site_id"),
        "WitnessRetired": ("witnesses", "witness_name"),
    },
)
