"""A small record in which every free-text field of every event type holds one given
text: the events each role posts, in an order the aggregates' rules accept. The text
table test posts it through the API; the poison-event test writes it into the log."""

from __future__ import annotations

import uuid
from typing import Any

from tests import builders as b
from tests.text_cases import free_text_fields

#: partners and the meeting chair every world needs, registered once with plain names
BASE: list[tuple[str, str, dict[str, Any]]] = [
    ("admin", "PartnerRegistered", b.partner_registered("nrc")),
    ("admin", "PartnerRegistered", b.partner_registered("bafia", kind="directorate")),
]

_PATHS: dict[str, list[tuple[Any, ...]]] = {}
for _type, _path in free_text_fields():
    _PATHS.setdefault(_type, []).append(_path)


def fill(type_name: str, data: dict[str, Any], text: str) -> dict[str, Any]:
    """`data` with every free-text value of its type set to `text` (in every list item)."""
    for path in _PATHS.get(type_name, []):
        nodes: list[Any] = [data]
        for step in path[:-1]:
            nodes = [
                item for node in nodes for item in (node if isinstance(step, int) else [node[step]])
            ]
        last = path[-1]
        for node in nodes:
            if isinstance(last, int):
                node[:] = [text] * max(1, len(node))
            else:
                node[last] = text
    return data


def world(text: str, tag: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """(who posts it, type, data, event id) of one world; `tag` keeps its ids apart."""
    partner, site, closing = f"o-{tag}", f"s-{tag}", f"c-{tag}"
    delivery, retracted = b.new_id(), b.new_id()
    pledge, cancelled = b.new_id(), b.new_id()
    meeting = b.new_id()
    progressed, fulfilled, withdrawn = b.new_id(), b.new_id(), b.new_id()
    delivered_event = str(uuid.uuid4())
    specs: list[tuple[str, str, dict[str, Any]]] = [
        ("admin", "PartnerRegistered", b.partner_registered(partner, kind="national_ngo")),
        ("admin", "PartnerSuspended", b.partner_suspended(partner)),
        ("admin", "PartnerReinstated", b.partner_reinstated(partner)),
        ("admin", "SiteRegistered", b.site_registered(site)),
        ("admin", "SiteRegistered", b.site_registered(closing)),
        ("admin", "SiteClosed", b.site_closed(closing)),
        ("nrc", "ServiceDelivered", b.service_delivered(delivery, site_id=site)),
        ("nrc", "DeliveryCorrected", b.delivery_corrected(delivery, activity="x", notes="x")),
        ("nrc", "ServiceDelivered", b.service_delivered(retracted, site_id=site)),
        ("nrc", "DeliveryRetracted", b.delivery_retracted(retracted)),
        ("nrc", "PledgeMade", b.pledge_made(pledge, site_id=site)),
        ("nrc", "PledgeCommitted", b.pledge_committed(pledge)),
        ("nrc", "PledgeAmended", b.pledge_amended(pledge)),
        ("nrc", "PledgeMade", b.pledge_made(cancelled, site_id=site)),
        ("nrc", "PledgeCancelled", b.pledge_cancelled(cancelled)),
        ("nrc", "ChallengeReported", b.challenge_reported(site_id=site)),
        ("coordinator", "MeetingHeld", b.meeting_held(meeting, site_id=site, summary="x")),
        ("coordinator", "ReportPresented", b.report_presented(meeting)),
        *(
            (
                "coordinator",
                "CommitmentMade",
                b.commitment_made(c, site_id=site, meeting_id=meeting),
            )
            for c in (progressed, fulfilled, withdrawn)
        ),
        ("coordinator", "CommitmentProgressReported", b.commitment_progress_reported(progressed)),
        (
            "coordinator",
            "CommitmentFulfilled",
            b.commitment_fulfilled(fulfilled, evidence=[delivered_event]),
        ),
        ("coordinator", "CommitmentWithdrawn", b.commitment_withdrawn(withdrawn)),
        ("coordinator", "PeriodLocked", b.period_locked("2024-01")),
        ("coordinator", "PeriodUnlocked", b.period_unlocked("2024-01")),
    ]
    ids = [delivered_event if i == 6 else str(uuid.uuid4()) for i in range(len(specs))]
    return [(who, t, fill(t, data, text), i) for (who, t, data), i in zip(specs, ids, strict=True)]
