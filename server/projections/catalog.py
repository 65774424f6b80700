"""Every projection the server runs, by name, and which ones each report reads."""

from __future__ import annotations

from server.projections.commitments import COMMITMENTS
from server.projections.deliveries import DELIVERIES
from server.projections.directory import DIRECTORY
from server.projections.model import Projection
from server.projections.partner_record import PARTNER_RECORD
from server.projections.pledges import PLEDGES
from server.projections.targets import TARGETS

PROJECTIONS: dict[str, Projection] = {
    p.name: p for p in (DIRECTORY, DELIVERIES, PLEDGES, COMMITMENTS, PARTNER_RECORD, TARGETS)
}

#: Report -> the projections it reads (its as_of_position is the lowest of theirs).
REPORTS: dict[str, tuple[str, ...]] = {
    "who-what-where": ("directory", "deliveries"),
    "deliveries": ("deliveries",),
    "pledges": ("pledges",),
    "commitments": ("commitments",),
    "partner": ("directory", "deliveries", "pledges", "commitments", "partner_record"),
    "progress": ("directory", "deliveries", "targets"),
}


def projections_named(names: tuple[str, ...] | list[str]) -> list[Projection]:
    return [PROJECTIONS[name] for name in names]
