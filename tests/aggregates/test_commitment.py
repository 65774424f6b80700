"""Commitments: made for a registered owner with a description; progress, fulfilment
(with evidence in the log) and withdrawal only while open."""

from __future__ import annotations

import uuid

from server.aggregates.commitment import (
    CommitmentAlreadyMade,
    CommitmentDescriptionMissing,
    CommitmentNotOpen,
    UnknownCommitment,
    UnknownEvidence,
)
from server.aggregates.meeting import UnknownMeeting
from server.aggregates.partner import UnknownPartner
from server.aggregates.site import UnknownSite
from tests import builders as b
from tests.aggregates.gwt import World, registered

COMMITMENT = "0f1e2d3c-4b5a-4968-8776-655443322110"
STREAM = f"commitment-{COMMITMENT}"
MEETING = "8d9e0f1a-2b3c-4d5e-8f70-8192a3b4c5d6"


def made(*more: tuple[str, dict[str, object]]) -> World:
    return registered(("CommitmentMade", b.commitment_made(COMMITMENT)), *more)


def withdrawn() -> tuple[str, dict[str, object]]:
    return ("CommitmentWithdrawn", b.commitment_withdrawn(COMMITMENT))


def fulfilled(world: World) -> dict[str, object]:
    return b.commitment_fulfilled(COMMITMENT, evidence=[str(next(iter(world.event_ids)))])


# --- CommitmentMade ---------------------------------------------------------------


def test_commitment_is_made_open() -> None:
    world = registered()
    world.when("CommitmentMade", b.commitment_made(COMMITMENT)).then()
    commitment = world[STREAM]
    assert (commitment.owner_partner_id, commitment.status) == ("nrc", "open")


def test_commitment_owner_must_be_registered() -> None:
    world = registered()
    outcome = world.when("CommitmentMade", b.commitment_made(owner_partner_id="unhcr"))
    outcome.then_rejected(UnknownPartner)


def test_commitment_needs_only_one_description() -> None:
    world = registered()
    world.when("CommitmentMade", b.commitment_made(description_fa=None)).then()


def test_commitment_needs_a_description() -> None:
    world = registered()
    outcome = world.when(
        "CommitmentMade", b.commitment_made(description_fa=None, description_en=None)
    )
    outcome.then_rejected(CommitmentDescriptionMissing)


def test_commitment_made_at_a_meeting_that_was_held() -> None:
    world = registered(("MeetingHeld", b.meeting_held(MEETING)))
    world.when("CommitmentMade", b.commitment_made(meeting_id=MEETING)).then()


def test_commitment_meeting_must_exist() -> None:
    world = registered()
    outcome = world.when("CommitmentMade", b.commitment_made(meeting_id=MEETING))
    outcome.then_rejected(UnknownMeeting)


def test_commitment_site_must_be_registered() -> None:
    world = registered()
    outcome = world.when("CommitmentMade", b.commitment_made(site_id="varamin"))
    outcome.then_rejected(UnknownSite)


def test_commitment_id_is_unique() -> None:
    outcome = made().when("CommitmentMade", b.commitment_made(COMMITMENT))
    outcome.then_rejected(CommitmentAlreadyMade)


# --- progress, fulfilment, withdrawal ---------------------------------------------


def test_progress_is_reported_on_an_open_commitment() -> None:
    world = made()
    world.when("CommitmentProgressReported", b.commitment_progress_reported(COMMITMENT)).then()
    assert world[STREAM].percent == 50


def test_progress_needs_the_commitment() -> None:
    world = registered()
    outcome = world.when("CommitmentProgressReported", b.commitment_progress_reported(COMMITMENT))
    outcome.then_rejected(UnknownCommitment)


def test_no_progress_on_a_withdrawn_commitment() -> None:
    world = made(withdrawn())
    outcome = world.when("CommitmentProgressReported", b.commitment_progress_reported(COMMITMENT))
    outcome.then_rejected(CommitmentNotOpen)


def test_commitment_is_fulfilled_with_evidence_in_the_log() -> None:
    world = made()
    world.when("CommitmentFulfilled", fulfilled(world)).then()
    assert world[STREAM].status == "fulfilled"


def test_fulfilment_evidence_must_be_in_the_log() -> None:
    world = made()
    evidence = [str(next(iter(world.event_ids))), str(uuid.uuid4())]
    outcome = world.when(
        "CommitmentFulfilled", b.commitment_fulfilled(COMMITMENT, evidence=evidence)
    )
    outcome.then_rejected(UnknownEvidence)


def test_commitment_is_fulfilled_once() -> None:
    world = made()
    world.when("CommitmentFulfilled", fulfilled(world)).then()
    world.when("CommitmentFulfilled", fulfilled(world)).then_rejected(CommitmentNotOpen)


def test_open_commitment_is_withdrawn() -> None:
    world = made()
    world.when(*withdrawn()).then()
    assert world[STREAM].status == "withdrawn"


def test_fulfilled_commitment_cannot_be_withdrawn() -> None:
    world = made()
    world.when("CommitmentFulfilled", fulfilled(world)).then()
    world.when(*withdrawn()).then_rejected(CommitmentNotOpen)


def test_unknown_commitment_cannot_be_withdrawn() -> None:
    registered().when(*withdrawn()).then_rejected(UnknownCommitment)
