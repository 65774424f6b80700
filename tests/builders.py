"""Small builders of valid event data (plain dicts, as a client would post them).

Each builder takes the event's identifying fields as keyword arguments and any other
field as an override; UUID ids not given are fresh. Dates are in the past, so the
events also pass the rules about future periods."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

Data = dict[str, Any]

PARTNER = "nrc"
SITE = "gol-tappeh"
PERIOD_START = "2025-03-01"
PERIOD_END = "2025-03-31"


def new_id() -> str:
    return str(uuid.uuid4())


def _id(value: str | None) -> str:
    return value if value is not None else new_id()


def partner_registered(partner_id: str = PARTNER, **overrides: Any) -> Data:
    return {
        "partner_id": partner_id,
        "name_fa": "شورای پناهندگان نروژ",
        "name_en": "Norwegian Refugee Council",
        "kind": "international_ngo",
        "country": "NO",
        **overrides,
    }


def partner_suspended(partner_id: str = PARTNER, **overrides: Any) -> Data:
    return {"partner_id": partner_id, "reason": "Reporting overdue by three months", **overrides}


def partner_reinstated(partner_id: str = PARTNER, **overrides: Any) -> Data:
    return {"partner_id": partner_id, "reason": "Overdue reports received", **overrides}


def site_registered(site_id: str = SITE, **overrides: Any) -> Data:
    return {
        "site_id": site_id,
        "name_fa": "مرکز چندمنظوره گل‌تپه",
        "name_en": "Gol Tappeh multipurpose center",
        "kind": "multipurpose_center",
        "province": "Tehran",
        "county": "Varamin",
        **overrides,
    }


def site_closed(site_id: str = SITE, **overrides: Any) -> Data:
    return {
        "site_id": site_id,
        "closed_on": "2025-06-30",
        "reason": "Lease ended; services moved to Varamin",
        **overrides,
    }


def pledge_made(pledge_id: str | None = None, partner_id: str = PARTNER, **overrides: Any) -> Data:
    return {
        "pledge_id": _id(pledge_id),
        "partner_id": partner_id,
        "amount": "250000.00",
        "currency": "EUR",
        "sectors": ["education", "livelihoods"],
        "site_id": SITE,
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "meeting_id": None,
        "description": "Vocational training for Afghan youth",
        **overrides,
    }


def pledge_committed(pledge_id: str | None = None, **overrides: Any) -> Data:
    return {
        "pledge_id": _id(pledge_id),
        "committed_on": "2025-02-01",
        "agreement_ref": "NRC-IR-2025-014",
        **overrides,
    }


def pledge_amended(pledge_id: str | None = None, **overrides: Any) -> Data:
    return {
        "pledge_id": _id(pledge_id),
        "amount": "300000.00",
        "reason": "Second donor tranche confirmed",
        **overrides,
    }


def disbursement_recorded(
    pledge_id: str | None = None, disbursement_id: str | None = None, **overrides: Any
) -> Data:
    return {
        "pledge_id": _id(pledge_id),
        "disbursement_id": _id(disbursement_id),
        "amount": "50000.00",
        "currency": "EUR",
        "disbursed_on": "2025-03-15",
        "recipient_partner_id": None,
        **overrides,
    }


def pledge_cancelled(pledge_id: str | None = None, **overrides: Any) -> Data:
    return {"pledge_id": _id(pledge_id), "reason": "Donor funding withdrawn", **overrides}


def short_form(women: int = 12, men: int = 9, girls: int = 20, boys: int = 18) -> Data:
    return {"women": women, "men": men, "girls": girls, "boys": boys}


def cells(*triples: tuple[str, str, int]) -> Data:
    """`cells(("f", "5-11", 14), ("m", "18-59", 3))` -> a cells-form beneficiaries."""
    return {"cells": [{"sex": s, "age": a, "count": c} for s, a, c in triples]}


def service_delivered(
    delivery_id: str | None = None,
    partner_id: str = PARTNER,
    site_id: str = SITE,
    **overrides: Any,
) -> Data:
    return {
        "delivery_id": _id(delivery_id),
        "partner_id": partner_id,
        "site_id": site_id,
        "sector": "education",
        "activity": "Literacy classes",
        "period_start": PERIOD_START,
        "period_end": PERIOD_END,
        "beneficiaries": short_form(),
        "population_group": "REF",
        "nationality": "AF",
        "pledge_id": None,
        "free_of_charge": True,
        "notes": None,
        **overrides,
    }


def delivery_corrected(delivery_id: str | None = None, **overrides: Any) -> Data:
    return {
        "delivery_id": _id(delivery_id),
        "beneficiaries": short_form(women=14),
        "reason": "Attendance sheets recounted",
        **overrides,
    }


def delivery_retracted(delivery_id: str | None = None, **overrides: Any) -> Data:
    return {"delivery_id": _id(delivery_id), "reason": "Recorded twice", **overrides}


def meeting_held(meeting_id: str | None = None, **overrides: Any) -> Data:
    return {
        "meeting_id": _id(meeting_id),
        "held_on": "2025-03-10",
        "title_fa": "نشست ماهانه هماهنگی شرکا",
        "title_en": "Monthly partner coordination meeting",
        "site_id": None,
        "chair_partner_id": "bafia",
        "participants": [
            {"partner_id": "bafia", "person": None, "role": "chair"},
            {"partner_id": PARTNER, "person": "Sara Ahmadi", "role": "Education lead"},
        ],
        "summary": None,
        **overrides,
    }


def report_presented(
    meeting_id: str | None = None, partner_id: str = PARTNER, **overrides: Any
) -> Data:
    return {
        "meeting_id": _id(meeting_id),
        "partner_id": partner_id,
        "summary": "Literacy classes reached 59 learners in March",
        "challenges": ["Transport costs for girls"],
        **overrides,
    }


def commitment_made(
    commitment_id: str | None = None, owner_partner_id: str = PARTNER, **overrides: Any
) -> Data:
    return {
        "commitment_id": _id(commitment_id),
        "meeting_id": None,
        "owner_partner_id": owner_partner_id,
        "description_fa": "برگزاری دو کلاس سوادآموزی دیگر",
        "description_en": "Open two more literacy classes",
        "sector": "education",
        "site_id": SITE,
        "due_on": "2025-06-30",
        **overrides,
    }


def commitment_progress_reported(commitment_id: str | None = None, **overrides: Any) -> Data:
    return {
        "commitment_id": _id(commitment_id),
        "note": "One class opened",
        "percent": 50,
        **overrides,
    }


def commitment_fulfilled(commitment_id: str | None = None, **overrides: Any) -> Data:
    return {
        "commitment_id": _id(commitment_id),
        "note": "Both classes running",
        "evidence": [new_id()],
        **overrides,
    }


def commitment_withdrawn(commitment_id: str | None = None, **overrides: Any) -> Data:
    return {"commitment_id": _id(commitment_id), "reason": "Site closed", **overrides}


def challenge_reported(
    challenge_id: str | None = None, partner_id: str = PARTNER, **overrides: Any
) -> Data:
    return {
        "challenge_id": _id(challenge_id),
        "partner_id": partner_id,
        "site_id": SITE,
        "sector": "education",
        "description": "Families cannot pay transport for girls to attend",
        **overrides,
    }


def period_locked(month: str = "2025-03", **overrides: Any) -> Data:
    return {"month": month, "calendar": "gregorian", "reason": "Q1 report sent", **overrides}


def period_unlocked(month: str = "2025-03", **overrides: Any) -> Data:
    return {
        "month": month,
        "calendar": "gregorian",
        "reason": "Late deliveries from Varamin",
        **overrides,
    }


# a cosignature/v1 verifier key of the name "witness.nrc.no" (any 32 bytes are a key here)
WITNESS = "witness.nrc.no"
WITNESS_VKEY = "witness.nrc.no+abbda363+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def witness_registered(
    witness_name: str = WITNESS, verifier_key: str = WITNESS_VKEY, **overrides: Any
) -> Data:
    return {
        "witness_name": witness_name,
        "verifier_key": verifier_key,
        "partner_id": None,
        "reason": "NRC keeps its own view of the log",
        **overrides,
    }


def target_set(target_id: str | None = None, partner_id: str = PARTNER, **overrides: Any) -> Data:
    return {
        "target_id": _id(target_id),
        "partner_id": partner_id,
        "sector": "education",
        "site_id": SITE,
        "activity": "Catch-up classes",
        "period_start": "2025-01-01",
        "period_end": "2025-06-30",
        "beneficiaries": {"women": 0, "men": 0, "girls": 300, "boys": 280},
        "reason": "Plan agreed at the education working group",
        **overrides,
    }


def witness_retired(witness_name: str = WITNESS, **overrides: Any) -> Data:
    return {"witness_name": witness_name, "reason": "The key's laptop was lost", **overrides}


#: Event type name -> builder of valid data for it.
BUILDERS: dict[str, Callable[..., Data]] = {
    "PartnerRegistered": partner_registered,
    "PartnerSuspended": partner_suspended,
    "PartnerReinstated": partner_reinstated,
    "SiteRegistered": site_registered,
    "SiteClosed": site_closed,
    "PledgeMade": pledge_made,
    "PledgeCommitted": pledge_committed,
    "PledgeAmended": pledge_amended,
    "DisbursementRecorded": disbursement_recorded,
    "PledgeCancelled": pledge_cancelled,
    "ServiceDelivered": service_delivered,
    "DeliveryCorrected": delivery_corrected,
    "DeliveryRetracted": delivery_retracted,
    "MeetingHeld": meeting_held,
    "ReportPresented": report_presented,
    "CommitmentMade": commitment_made,
    "CommitmentProgressReported": commitment_progress_reported,
    "CommitmentFulfilled": commitment_fulfilled,
    "CommitmentWithdrawn": commitment_withdrawn,
    "ChallengeReported": challenge_reported,
    "PeriodLocked": period_locked,
    "PeriodUnlocked": period_unlocked,
    "WitnessRegistered": witness_registered,
    "WitnessRetired": witness_retired,
    "TargetSet": target_set,
}


def event(
    type_name: str,
    data: Data | None = None,
    *,
    id: str | None = None,
    expected_version: int | None = None,
    **overrides: Any,
) -> Data:
    """A POST /v1/events item: `event("ServiceDelivered", expected_version=0)`.

    Without `data`, the type's builder makes it (with `overrides`)."""
    body: Data = {
        "type": type_name,
        "data": data if data is not None else BUILDERS[type_name](**overrides),
    }
    if id is not None:
        body["id"] = id
    if expected_version is not None:
        body["expected_version"] = expected_version
    return body
