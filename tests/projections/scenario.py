"""A small world with figures known by hand: three partners, two sites, six
deliveries (one corrected twice, one retracted), five pledges, six commitments, a
meeting and a challenge, appended in steps.

Months (a delivery counts in the month its period ends):
    D6 ends 2025-08-31 = 1404-06-09   Gregorian 2025-08   Jalali 1404-06 (Shahrivar)
    D1 ends 2025-09-20 = 1404-06-29   Gregorian 2025-09   Jalali 1404-06
    D2 ends 2025-10-05 = 1404-07-13   Gregorian 2025-10   Jalali 1404-07 (Mehr)
       (first recorded as ending 2025-09-30, then corrected)
    D3 ends 2025-10-22 = 1404-07-30   Gregorian 2025-10   Jalali 1404-07
    D4 ends 2025-10-23 = 1404-08-01   Gregorian 2025-10   Jalali 1404-08 (Aban)
    D5 ends 2025-09-10, retracted
So Gregorian October splits into Mehr and Aban, and Shahrivar spans August and
September."""

from __future__ import annotations

from tests import builders as b
from tests.builders import cells, short_form
from tests.projections.helpers import Spec

D1, D2, D3, D4, D5, D6 = (f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 7))
P1, P2, P3, P4 = (f"00000000-0000-4000-8000-0000000001{i:02d}" for i in range(1, 5))
C1, C2, C3, C4, C5, C6 = (f"00000000-0000-4000-8000-0000000002{i:02d}" for i in range(1, 7))
MEETING = "00000000-0000-4000-8000-000000000301"
CHALLENGE = "00000000-0000-4000-8000-000000000401"

#: The day overdue is judged on in these tests.
ON = "2025-11-01"


def delivery(
    delivery_id: str,
    partner: str,
    site: str,
    sector: str,
    activity: str,
    start: str,
    end: str,
    beneficiaries: dict[str, object],
) -> Spec:
    return (
        "ServiceDelivered",
        b.service_delivered(
            delivery_id,
            partner_id=partner,
            site_id=site,
            sector=sector,
            activity=activity,
            period_start=start,
            period_end=end,
            beneficiaries=beneficiaries,
        ),
    )


STEPS: list[list[Spec]] = [
    # 1. the directory
    [
        ("PartnerRegistered", b.partner_registered("nrc")),
        (
            "PartnerRegistered",
            b.partner_registered(
                "ayandeh",
                name_fa="آینده",
                name_en="Ayandeh Foundation",
                kind="national_ngo",
                country="IR",
            ),
        ),
        (
            "PartnerRegistered",
            b.partner_registered("unhcr", name_en="UNHCR", name_fa="کمیساریا", kind="un_agency"),
        ),
        ("SiteRegistered", b.site_registered("gol-tappeh")),
        (
            "SiteRegistered",
            b.site_registered(
                "shahriar", name_fa="شهریار", name_en="Shahriar center", county="Shahriar"
            ),
        ),
    ],
    # 2. deliveries as first recorded
    [
        delivery(
            D1,
            "nrc",
            "gol-tappeh",
            "education",
            "Literacy classes",
            "2025-09-01",
            "2025-09-20",
            short_form(12, 9, 20, 18),
        ),
        delivery(
            D2,
            "nrc",
            "gol-tappeh",
            "education",
            "Literacy classes",
            "2025-09-23",
            "2025-09-30",
            short_form(10, 5, 7, 3),
        ),
        delivery(
            D3,
            "nrc",
            "gol-tappeh",
            "education",
            "Homework club",
            "2025-10-01",
            "2025-10-22",
            cells(("f", "18-59", 4), ("m", "5-11", 6), ("x", "60+", 2), ("f", "unknown", 1)),
        ),
        delivery(
            D4,
            "ayandeh",
            "shahriar",
            "health",
            "Vaccination",
            "2025-10-10",
            "2025-10-23",
            short_form(30, 0, 15, 15),
        ),
        delivery(
            D5,
            "ayandeh",
            "shahriar",
            "health",
            "Vaccination",
            "2025-09-05",
            "2025-09-10",
            short_form(100, 100, 100, 100),
        ),
        delivery(
            D6,
            "nrc",
            "shahriar",
            "legal_aid",
            "Legal counselling",
            "2025-08-01",
            "2025-08-31",
            short_form(5, 5, 0, 0),
        ),
    ],
    # 3. corrections and a retraction
    [
        (
            "DeliveryCorrected",
            {
                "delivery_id": D6,
                "site_id": "gol-tappeh",
                "beneficiaries": short_form(6, 5, 0, 0),
                "pledge_id": P1,
                "reason": "Sheets recounted; it was Gol Tappeh",
            },
        ),
        ("DeliveryCorrected", {"delivery_id": D6, "pledge_id": None, "reason": "Not funded"}),
        ("DeliveryCorrected", {"delivery_id": D2, "period_end": "2025-10-05", "reason": "Dates"}),
        ("DeliveryRetracted", b.delivery_retracted(D5)),
    ],
    # 4. pledges
    [
        ("PledgeMade", b.pledge_made(P1, "nrc", amount="250000.00", currency="EUR")),
        ("PledgeCommitted", b.pledge_committed(P1)),
        ("DisbursementRecorded", b.disbursement_recorded(P1, amount="50000.00")),
        ("DisbursementRecorded", b.disbursement_recorded(P1, amount="25000.50")),
        # another currency than the pledge's: not added to it
        ("DisbursementRecorded", b.disbursement_recorded(P1, amount="999", currency="USD")),
        ("PledgeMade", b.pledge_made(P2, "nrc", amount="1000000000", currency="IRR")),
        ("PledgeMade", b.pledge_made(P3, "ayandeh", amount="40000", currency="EUR")),
        ("PledgeCommitted", b.pledge_committed(P3)),
        ("PledgeAmended", b.pledge_amended(P3, amount="60000.00")),
        ("DisbursementRecorded", b.disbursement_recorded(P3, amount="60000.00")),
        ("PledgeMade", b.pledge_made(P4, "unhcr", amount="10000.00", currency="EUR")),
        ("PledgeCommitted", b.pledge_committed(P4)),
        ("DisbursementRecorded", b.disbursement_recorded(P4, amount="2000.00")),
        ("PledgeCancelled", b.pledge_cancelled(P4)),
    ],
    # 5. a meeting, commitments, a challenge
    [
        (
            "MeetingHeld",
            b.meeting_held(
                MEETING,
                held_on="2025-10-08",
                participants=[{"partner_id": "nrc"}, {"partner_id": "ayandeh"}],
                chair_partner_id="ayandeh",
            ),
        ),
        ("ReportPresented", b.report_presented(MEETING, "nrc", challenges=["Transport", "Fees"])),
        ("CommitmentMade", b.commitment_made(C1, "nrc", due_on="2025-10-15", meeting_id=MEETING)),
        ("CommitmentMade", b.commitment_made(C2, "nrc", due_on="2025-12-01")),
        ("CommitmentProgressReported", b.commitment_progress_reported(C2, percent=40)),
        ("CommitmentMade", b.commitment_made(C3, "ayandeh", due_on="2025-09-30")),
        ("CommitmentFulfilled", b.commitment_fulfilled(C3)),
        ("CommitmentMade", b.commitment_made(C4, "unhcr", due_on="2025-10-01")),
        ("CommitmentWithdrawn", b.commitment_withdrawn(C4)),
        ("CommitmentMade", b.commitment_made(C5, "ayandeh", due_on="2025-10-31")),
        ("CommitmentMade", b.commitment_made(C6, "ayandeh", due_on=ON)),
        ("ChallengeReported", b.challenge_reported(CHALLENGE, "nrc")),
        # other events the projections do not fold move their positions all the same
        ("PeriodLocked", b.period_locked("2025-08")),
    ],
]

EVENTS: list[Spec] = [spec for step in STEPS for spec in step]
