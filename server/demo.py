"""The demo record: the Tehran partner meeting and a few months of work around it,
posted through the same service as any client, so every rule applies.

Event ids are derived from names (UUID v5), so loading twice appends nothing new."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import msgspec

from schemas.envelope import EventIn
from server.auth.tokens import Principal, Role

NAMESPACE = uuid.UUID("5d0c7c1e-6a61-4d39-9c55-1404a1f00d00")

ADMIN = Principal(name="demo-admin", role=Role.ADMIN)
COORDINATOR = Principal(name="demo-coordinator", role=Role.COORDINATOR)


def partner_principal(partner_id: str) -> Principal:
    return Principal(name=f"demo-{partner_id}", role=Role.PARTNER, partner_id=partner_id)


def uid(label: str) -> str:
    return str(uuid.uuid5(NAMESPACE, label))


PARTNERS = [
    (
        "directorate",
        "اداره کل امور اتباع و مهاجرین خارجی استانداری تهران",
        "Bureau of Foreign Nationals and Immigrants Affairs, Tehran Governorate",
        "directorate",
        "IR",
    ),
    ("nrc", "شورای پناهندگان نروژ", "Norwegian Refugee Council", "international_ngo", "NO"),
    ("ayandeh", "انجمن آینده‌سازان", "Ayandeh-Sazan Association", "national_ngo", "IR"),
    ("mehr-ava", "مؤسسه خیریه مهرآوا", "Mehr-Ava Charity Institute", "national_ngo", "IR"),
]
SITES = [
    (
        "khalij-fars",
        "مرکز چندمنظوره خلیج فارس",
        "Khalij Fars multipurpose centre",
        "multipurpose_center",
        "Tehran",
    ),
    (
        "gol-tappeh",
        "مرکز چندمنظوره گل‌تپه",
        "Gol Tappeh multipurpose centre",
        "multipurpose_center",
        "Tehran",
    ),
    ("return-centre", "مرکز بازگشت", "Return centre", "return_center", "Tehran"),
    ("care-camp", "اردوگاه حمایتی", "Care camp", "care_camp", "Tehran"),
]
# (partner, site, sector, activity)
PROGRAMMES = [
    ("nrc", "khalij-fars", "education", "Literacy and numeracy classes"),
    ("nrc", "gol-tappeh", "livelihoods", "Vocational training: tailoring"),
    ("nrc", "return-centre", "legal_aid", "Counselling on documentation"),
    ("ayandeh", "gol-tappeh", "psychosocial", "Group psychosocial support sessions"),
    ("ayandeh", "care-camp", "protection", "Child-friendly space"),
    ("mehr-ava", "khalij-fars", "health", "Mother and child health check-ups"),
    ("mehr-ava", "care-camp", "food_security", "Food parcels"),
    ("directorate", "return-centre", "administrative_services", "Census card renewal"),
]
MONTHS = [(2026, m) for m in range(5, 11)]  # May to October 2026
# how many more contacts a programme of these sectors reaches than one of the others
SCALE = {"food_security": 6, "health": 3, "administrative_services": 8}
MEETING = uid("meeting:tehran-2026-10")


def _event(type_name: str, label: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_name, "id": uid(label), "data": data}


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def scenario() -> Iterator[tuple[Principal, list[dict[str, Any]]]]:
    """(who posts, the batch) in the order a real year would have brought them."""
    yield (
        ADMIN,
        [
            _event(
                "PartnerRegistered",
                f"partner:{pid}",
                {
                    "partner_id": pid,
                    "name_fa": fa,
                    "name_en": en,
                    "kind": kind,
                    "country": country,
                },
            )
            for pid, fa, en, kind, country in PARTNERS
        ]
        + [
            _event(
                "SiteRegistered",
                f"site:{sid}",
                {
                    "site_id": sid,
                    "name_fa": fa,
                    "name_en": en,
                    "kind": kind,
                    "province": province,
                    "county": None,
                },
            )
            for sid, fa, en, kind, province in SITES
        ],
    )

    nrc_pledge, nrc_small, dir_pledge, ayandeh_pledge = (
        uid("pledge:nrc-education"),
        uid("pledge:nrc-legal"),
        uid("pledge:directorate-admin"),
        uid("pledge:ayandeh-cancelled"),
    )
    yield (
        partner_principal("nrc"),
        [
            _event(
                "PledgeMade",
                "pledge-made:nrc-education",
                {
                    "pledge_id": nrc_pledge,
                    "partner_id": "nrc",
                    "amount": "250000.00",
                    "currency": "EUR",
                    "sectors": ["education", "livelihoods"],
                    "site_id": None,
                    "period_start": "2026-03-21",
                    "period_end": "2027-03-20",
                    "meeting_id": None,
                    "description": "Education and livelihoods for Afghan families, 1405",
                },
            ),
            _event(
                "PledgeCommitted",
                "pledge-committed:nrc-education",
                {
                    "pledge_id": nrc_pledge,
                    "committed_on": "2026-04-10",
                    "agreement_ref": "NRC-IR-1405-007",
                },
            ),
            _event(
                "PledgeMade",
                "pledge-made:nrc-legal",
                {
                    "pledge_id": nrc_small,
                    "partner_id": "nrc",
                    "amount": "40000.00",
                    "currency": "USD",
                    "sectors": ["legal_aid"],
                    "site_id": "return-centre",
                    "period_start": "2026-06-01",
                    "period_end": "2026-12-31",
                    "meeting_id": None,
                    "description": "Legal counselling at the return centre (not yet signed)",
                },
            ),
        ],
    )
    yield (
        partner_principal("directorate"),
        [
            _event(
                "PledgeMade",
                "pledge-made:directorate-admin",
                {
                    "pledge_id": dir_pledge,
                    "partner_id": "directorate",
                    "amount": "15000000000",
                    "currency": "IRR",
                    "sectors": ["administrative_services"],
                    "site_id": "return-centre",
                    "period_start": "2026-03-21",
                    "period_end": "2027-03-20",
                    "meeting_id": None,
                    "description": "Census card renewal, 1405 (rials)",
                },
            ),
            _event(
                "PledgeCommitted",
                "pledge-committed:directorate-admin",
                {
                    "pledge_id": dir_pledge,
                    "committed_on": "2026-04-01",
                    "agreement_ref": None,
                },
            ),
        ],
    )
    yield (
        partner_principal("ayandeh"),
        [
            _event(
                "PledgeMade",
                "pledge-made:ayandeh",
                {
                    "pledge_id": ayandeh_pledge,
                    "partner_id": "ayandeh",
                    "amount": "1200000000",
                    "currency": "IRR",
                    "sectors": ["psychosocial"],
                    "site_id": "gol-tappeh",
                    "period_start": "2026-05-01",
                    "period_end": "2026-10-31",
                    "meeting_id": None,
                    "description": "Psychosocial support, second half of the year",
                },
            ),
            _event(
                "PledgeCancelled",
                "pledge-cancelled:ayandeh",
                {
                    "pledge_id": ayandeh_pledge,
                    "reason": "Donor grant not renewed",
                },
            ),
        ],
    )

    # each programme's plan for May to December 2026, set with the coordinator; some
    # run ahead of it and some behind, as plans do
    pace = [0.8, 1.3, 1.0, 0.7, 1.1, 0.9, 1.2, 1.0]
    yield (
        COORDINATOR,
        [
            _event(
                "TargetSet",
                f"target:{partner}:{site}:{sector}",
                {
                    "target_id": uid(f"target:{partner}:{site}:{sector}"),
                    "partner_id": partner,
                    "sector": sector,
                    "site_id": site,
                    "activity": activity,
                    "period_start": "2026-05-01",
                    "period_end": "2026-12-31",
                    "beneficiaries": {
                        k: round(v * 8 * scale * factor)  # eight months
                        for k, v in (("women", 20), ("men", 12), ("girls", 26), ("boys", 26))
                    },
                    "reason": "Plan agreed at the Tehran partners' meeting",
                },
            )
            for (partner, site, sector, activity), factor in zip(PROGRAMMES, pace, strict=True)
            for scale in [
                {"food_security": 6, "health": 3, "administrative_services": 8}.get(sector, 1)
            ]
            for months in [8]
        ],
    )
    rng = random.Random(1405)
    for year, month in MONTHS:
        start, end = date(year, month, 1), _month_end(year, month)
        batches: dict[str, list[dict[str, Any]]] = {}
        for partner, site, sector, activity in PROGRAMMES:
            label = f"delivery:{partner}:{site}:{sector}:{year}-{month:02d}"
            scale = SCALE.get(sector, 1)
            batches.setdefault(partner, []).append(
                _event(
                    "ServiceDelivered",
                    label,
                    {
                        "delivery_id": uid(label),
                        "partner_id": partner,
                        "site_id": site,
                        "sector": sector,
                        "activity": activity,
                        "period_start": start.isoformat(),
                        "period_end": end.isoformat(),
                        "beneficiaries": {
                            "women": rng.randint(8, 30) * scale,
                            "men": rng.randint(4, 20) * scale,
                            "girls": rng.randint(10, 40) * scale,
                            "boys": rng.randint(10, 40) * scale,
                        },
                        "population_group": "REF",
                        "nationality": "AF",
                        "pledge_id": nrc_pledge
                        if partner == "nrc" and sector != "legal_aid"
                        else dir_pledge
                        if partner == "directorate"
                        else None,
                        "free_of_charge": True,
                        "notes": None,
                    },
                )
            )
        for partner, batch in batches.items():
            yield partner_principal(partner), batch
        yield (
            partner_principal("nrc"),
            [
                _event(
                    "DisbursementRecorded",
                    f"disbursement:nrc:{year}-{month:02d}",
                    {
                        "pledge_id": nrc_pledge,
                        "disbursement_id": uid(f"disb:nrc:{month}"),
                        "amount": "25000.00",
                        "currency": "EUR",
                        "disbursed_on": date(year, month, 5).isoformat(),
                        "recipient_partner_id": None,
                    },
                ),
            ],
        )

    first = uid(f"delivery:nrc:khalij-fars:education:{MONTHS[0][0]}-{MONTHS[0][1]:02d}")
    yield (
        partner_principal("nrc"),
        [
            _event(
                "DeliveryCorrected",
                "correction:nrc:first",
                {
                    "delivery_id": first,
                    "beneficiaries": {"women": 21, "men": 9, "girls": 33, "boys": 30},
                    "reason": "Attendance sheets recounted",
                },
            ),
        ],
    )
    yield (
        COORDINATOR,
        [
            _event(
                "MeetingHeld",
                "meeting:tehran",
                {
                    "meeting_id": MEETING,
                    "held_on": "2026-10-15",
                    "title_fa": "نشست هماهنگی شرکای خدمات به اتباع خارجی، تهران",
                    "title_en": "Tehran coordination meeting of partners serving foreign nationals",
                    "site_id": "khalij-fars",
                    "chair_partner_id": "directorate",
                    "participants": [
                        {"partner_id": "directorate", "person": None, "role": "chair"},
                        {"partner_id": "nrc", "person": None, "role": "Country programme"},
                        {"partner_id": "ayandeh", "person": None, "role": "Director"},
                        {"partner_id": "mehr-ava", "person": None, "role": "Health coordinator"},
                    ],
                    "summary": "Review of the first half of 1405 and plans for winter.",
                },
            ),
            _event(
                "ReportPresented",
                "report:nrc",
                {
                    "meeting_id": MEETING,
                    "partner_id": "nrc",
                    "summary": (
                        "Literacy classes and tailoring courses on track; "
                        "the legal aid pledge awaits signature."
                    ),
                    "challenges": [
                        "Transport for girls from Gol Tappeh",
                        "Expired census cards delay enrolment",
                    ],
                },
            ),
            _event(
                "CommitmentMade",
                "commitment:nrc-classes",
                {
                    "commitment_id": uid("commitment:nrc-classes"),
                    "meeting_id": MEETING,
                    "owner_partner_id": "nrc",
                    "description_fa": "برگزاری دو کلاس سوادآموزی دیگر در خلیج فارس",
                    "description_en": "Open two more literacy classes at Khalij Fars",
                    "sector": "education",
                    "site_id": "khalij-fars",
                    "due_on": "2027-01-15",
                },
            ),
            _event(
                "CommitmentMade",
                "commitment:directorate-cards",
                {
                    "commitment_id": uid("commitment:directorate-cards"),
                    "meeting_id": MEETING,
                    "owner_partner_id": "directorate",
                    "description_fa": "تمدید کارت‌های سرشماری پیش از آغاز سال تحصیلی",
                    "description_en": "Renew census cards before enrolment closes",
                    "sector": "administrative_services",
                    "site_id": "return-centre",
                    "due_on": "2026-11-01",
                },
            ),
            _event(
                "CommitmentMade",
                "commitment:mehr-ava-vaccination",
                {
                    "commitment_id": uid("commitment:mehr-ava-vaccination"),
                    "meeting_id": MEETING,
                    "owner_partner_id": "mehr-ava",
                    "description_fa": "کمپین واکسیناسیون کودکان",
                    "description_en": "Children's vaccination campaign at the care camp",
                    "sector": "health",
                    "site_id": "care-camp",
                    "due_on": "2026-10-31",
                },
            ),
            _event(
                "ChallengeReported",
                "challenge:transport",
                {
                    "challenge_id": uid("challenge:transport"),
                    "partner_id": "nrc",
                    "site_id": "gol-tappeh",
                    "sector": "education",
                    "description": "Families cannot pay transport for girls to attend classes",
                },
            ),
        ],
    )
    # evidence names event ids in the log: here, the October food distribution
    evidence = uid("delivery:mehr-ava:care-camp:food_security:2026-10")
    yield (
        partner_principal("mehr-ava"),
        [
            _event(
                "CommitmentFulfilled",
                "fulfilled:mehr-ava-vaccination",
                {
                    "commitment_id": uid("commitment:mehr-ava-vaccination"),
                    "note": "412 children vaccinated with the district health network",
                    "evidence": [evidence],
                },
            ),
        ],
    )


def envelopes(batch: list[dict[str, Any]]) -> list[EventIn]:
    from schemas.envelope import EventBody

    decoded = msgspec.json.decode(msgspec.json.encode(batch), type=EventBody)
    return decoded if isinstance(decoded, list) else [decoded]
