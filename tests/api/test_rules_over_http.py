"""Every rule of API.md's event table, over HTTP against a real database: the wrong
event is refused with 422 naming the rule and appends nothing; the right one is
accepted. (tests/aggregates/ covers the same rules and their edge cases in memory.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.conftest import Api, ev
from tests.api.test_bad_input import assert_problem

P1 = "7d4c1f0e-1111-4a5b-9c1d-000000000001"
P2 = "7d4c1f0e-1111-4a5b-9c1d-000000000002"
D1 = "7d4c1f0e-2222-4a5b-9c1d-000000000001"
M1 = "7d4c1f0e-3333-4a5b-9c1d-000000000001"
C1 = "7d4c1f0e-4444-4a5b-9c1d-000000000001"
C2 = "7d4c1f0e-4444-4a5b-9c1d-000000000002"
E1 = "7d4c1f0e-5555-4a5b-9c1d-000000000001"
GHOST = "7d4c1f0e-9999-4a5b-9c1d-000000000009"

Step = tuple[str, str, dict[str, Any]]  # who posts, event type, data overrides


@dataclass
class Rule:
    slug: str
    wrong: Step
    right: list[Step]
    given: list[Step] = field(default_factory=list)


def pledge(pledge_id: str, amount: str = "100.00", **more: Any) -> Step:
    return ("nrc", "PledgeMade", {"pledge_id": pledge_id, "amount": amount, **more})


def disburse(pledge_id: str, amount: str, **more: Any) -> Step:
    return ("nrc", "DisbursementRecorded", {"pledge_id": pledge_id, "amount": amount, **more})


def commitment(commitment_id: str, **more: Any) -> Step:
    return ("coordinator", "CommitmentMade", {"commitment_id": commitment_id, **more})


RULES = {
    "partner_id unique": Rule(
        "partner-already-registered",
        wrong=("admin", "PartnerRegistered", {"partner_id": "nrc"}),
        right=[("admin", "PartnerRegistered", {"partner_id": "unhcr", "kind": "un_agency"})],
    ),
    "suspended partners cannot post": Rule(
        "partner-suspended",
        given=[("admin", "PartnerSuspended", {"partner_id": "nrc"})],
        wrong=("nrc", "ServiceDelivered", {}),
        right=[
            ("admin", "PartnerReinstated", {"partner_id": "nrc"}),
            ("nrc", "ServiceDelivered", {}),
        ],
    ),
    "site_id unique": Rule(
        "site-already-registered",
        wrong=("admin", "SiteRegistered", {"site_id": "gol-tappeh"}),
        right=[("admin", "SiteRegistered", {"site_id": "khalij-fars"})],
    ),
    "no deliveries dated after closure": Rule(
        "delivery-after-site-closure",
        given=[("admin", "SiteClosed", {"site_id": "gol-tappeh", "closed_on": "2025-03-15"})],
        wrong=("nrc", "ServiceDelivered", {"period_end": "2025-03-31"}),
        right=[("nrc", "ServiceDelivered", {"period_end": "2025-03-15"})],
    ),
    "pledge amount > 0": Rule(
        "pledge-amount-not-positive",
        wrong=pledge(P1, "0.00"),
        right=[pledge(P1, "0.01")],
    ),
    "pledge period_end >= period_start": Rule(
        "period-ends-before-start",
        wrong=pledge(P1, period_start="2025-06-01", period_end="2025-05-31"),
        right=[pledge(P1, period_start="2025-06-01", period_end="2025-06-01")],
    ),
    "amendment never below what was disbursed": Rule(
        "amount-below-disbursed",
        given=[pledge(P1), disburse(P1, "60.00")],
        wrong=("nrc", "PledgeAmended", {"pledge_id": P1, "amount": "59.99"}),
        right=[("nrc", "PledgeAmended", {"pledge_id": P1, "amount": "60.00"})],
    ),
    "disbursement in the pledge's currency": Rule(
        "disbursement-currency-mismatch",
        given=[pledge(P1, currency="EUR")],
        wrong=disburse(P1, "10.00", currency="USD"),
        right=[disburse(P1, "10.00", currency="EUR")],
    ),
    "running total <= pledged": Rule(
        "disbursement-exceeds-pledge",
        given=[pledge(P1), disburse(P1, "60.00")],
        wrong=disburse(P1, "40.01"),
        right=[disburse(P1, "40.00")],
    ),
    "no disbursement on a cancelled pledge": Rule(
        "pledge-cancelled",
        given=[pledge(P1), pledge(P2), ("nrc", "PledgeCancelled", {"pledge_id": P1})],
        wrong=disburse(P1, "10.00"),
        right=[disburse(P2, "10.00")],
    ),
    "no cancellation after full disbursement": Rule(
        "pledge-fully-disbursed",
        given=[pledge(P1), disburse(P1, "100.00"), pledge(P2), disburse(P2, "99.99")],
        wrong=("nrc", "PledgeCancelled", {"pledge_id": P1}),
        right=[("nrc", "PledgeCancelled", {"pledge_id": P2})],
    ),
    "site open: it must exist": Rule(
        "unknown-site",
        wrong=("nrc", "ServiceDelivered", {"site_id": "nowhere"}),
        right=[("nrc", "ServiceDelivered", {"site_id": "gol-tappeh"})],
    ),
    "period not in the future": Rule(
        "delivery-in-future",
        wrong=("nrc", "ServiceDelivered", {"period_end": "2099-01-31"}),
        right=[("nrc", "ServiceDelivered", {})],
    ),
    "period not locked": Rule(
        "period-locked",
        given=[("coordinator", "PeriodLocked", {"month": "2025-03"})],
        wrong=("nrc", "ServiceDelivered", {}),
        right=[
            (
                "nrc",
                "ServiceDelivered",
                {"period_start": "2025-04-01", "period_end": "2025-04-10"},
            )
        ],
    ),
    "named pledge covers the sector": Rule(
        "pledge-does-not-cover-sector",
        given=[pledge(P1, sectors=["education"])],
        wrong=("nrc", "ServiceDelivered", {"pledge_id": P1, "sector": "health"}),
        right=[("nrc", "ServiceDelivered", {"pledge_id": P1, "sector": "education"})],
    ),
    "named pledge is the partner's or funds it": Rule(
        "pledge-not-for-partner",
        given=[("ayandeh", "PledgeMade", {"pledge_id": P1, "partner_id": "ayandeh"})],
        wrong=("nrc", "ServiceDelivered", {"pledge_id": P1}),
        right=[("ayandeh", "ServiceDelivered", {"pledge_id": P1, "partner_id": "ayandeh"})],
    ),
    "meeting participants are registered": Rule(
        "unknown-partner",
        wrong=(
            "coordinator",
            "MeetingHeld",
            {
                "meeting_id": M1,
                "participants": [{"partner_id": "ghost", "person": None, "role": None}],
            },
        ),
        right=[("coordinator", "MeetingHeld", {"meeting_id": M1})],
    ),
    "report needs a meeting": Rule(
        "unknown-meeting",
        wrong=("nrc", "ReportPresented", {"meeting_id": GHOST}),
        right=[
            ("coordinator", "MeetingHeld", {"meeting_id": M1}),
            ("nrc", "ReportPresented", {"meeting_id": M1}),
        ],
    ),
    "reporting partner attended": Rule(
        "partner-did-not-attend",
        given=[("coordinator", "MeetingHeld", {"meeting_id": M1})],
        wrong=("ayandeh", "ReportPresented", {"meeting_id": M1, "partner_id": "ayandeh"}),
        right=[("nrc", "ReportPresented", {"meeting_id": M1})],
    ),
    "commitment owner registered": Rule(
        "unknown-partner",
        wrong=commitment(C1, owner_partner_id="ghost"),
        right=[commitment(C1)],
    ),
    "commitment has a description": Rule(
        "commitment-description-missing",
        wrong=commitment(C1, description_fa=None, description_en=None),
        right=[commitment(C1, description_fa=None)],
    ),
    "progress only on an open commitment": Rule(
        "commitment-not-open",
        given=[
            commitment(C1),
            commitment(C2),
            ("coordinator", "CommitmentWithdrawn", {"commitment_id": C1}),
        ],
        wrong=("nrc", "CommitmentProgressReported", {"commitment_id": C1}),
        right=[("nrc", "CommitmentProgressReported", {"commitment_id": C2})],
    ),
    "withdrawal only of an open commitment": Rule(
        "commitment-not-open",
        given=[
            commitment(C1),
            commitment(C2),
            ("coordinator", "CommitmentWithdrawn", {"commitment_id": C1}),
        ],
        wrong=("coordinator", "CommitmentWithdrawn", {"commitment_id": C1}),
        right=[("coordinator", "CommitmentWithdrawn", {"commitment_id": C2})],
    ),
    "fulfilment evidence ids exist": Rule(
        "unknown-evidence",
        given=[commitment(C1), ("nrc", "ChallengeReported", {"challenge_id": E1})],
        wrong=("nrc", "CommitmentFulfilled", {"commitment_id": C1, "evidence": [GHOST]}),
        right=[("nrc", "CommitmentFulfilled", {"commitment_id": C1, "evidence": ["<challenge>"]})],
    ),
    "unlocking needs a locked month": Rule(
        "period-not-locked",
        wrong=("coordinator", "PeriodUnlocked", {"month": "2025-03"}),
        right=[
            ("coordinator", "PeriodLocked", {"month": "2025-03"}),
            ("coordinator", "PeriodUnlocked", {"month": "2025-03"}),
        ],
    ),
    "no correction of a retracted delivery": Rule(
        "delivery-retracted",
        given=[
            ("nrc", "ServiceDelivered", {"delivery_id": D1}),
            ("nrc", "DeliveryRetracted", {"delivery_id": D1}),
        ],
        wrong=("nrc", "DeliveryCorrected", {"delivery_id": D1}),
        right=[
            ("nrc", "ServiceDelivered", {}),
            ("nrc", "DeliveryCorrected", {"delivery_id": "<delivery>"}),
        ],
    ),
}


class Scenario:
    """Posts steps as their roles; remembers the ids a later step refers back to."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.challenge_event_id: str | None = None
        self.last_delivery_id: str | None = None

    def envelope(self, step: Step) -> dict[str, Any]:
        _, type_name, overrides = step
        fields = dict(overrides)
        if fields.get("evidence") == ["<challenge>"]:
            fields["evidence"] = [self.challenge_event_id]
        if fields.get("delivery_id") == "<delivery>":
            fields["delivery_id"] = self.last_delivery_id
        return ev(type_name, **fields)

    async def post(self, step: Step) -> Any:
        body = self.envelope(step)
        response = await self.api.post(step[0], body)
        if response.status_code == 201:
            if step[1] == "ChallengeReported":
                self.challenge_event_id = response.json()["id"]
            if step[1] == "ServiceDelivered":
                self.last_delivery_id = body["data"]["delivery_id"]
        return response


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
async def test_the_wrong_event_is_refused_and_the_right_one_accepted(api: Api, rule: Rule) -> None:
    await api.setup_world()
    scenario = Scenario(api)
    for step in rule.given:
        response = await scenario.post(step)
        assert response.status_code == 201, (step, response.text)
    before = await api.count()
    problem = assert_problem(await scenario.post(rule.wrong), 422)
    assert problem["type"].endswith(f"/rules/{rule.slug}"), problem
    assert await api.count() == before
    for step in rule.right:
        response = await scenario.post(step)
        assert response.status_code == 201, (step, response.text)
    assert await api.count() == before + len(rule.right)
