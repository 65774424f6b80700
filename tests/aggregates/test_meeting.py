"""Meetings: held with registered partners; reports presented by those who attended."""

from __future__ import annotations

from server.aggregates.meeting import (
    Meeting,
    MeetingAlreadyHeld,
    PartnerDidNotAttend,
    UnknownMeeting,
)
from server.aggregates.partner import UnknownPartner
from server.aggregates.site import UnknownSite
from tests import builders as b
from tests.aggregates.gwt import World, registered

MEETING = "8d9e0f1a-2b3c-4d5e-8f70-8192a3b4c5d6"
STREAM = f"meeting-{MEETING}"


def held(**overrides: object) -> World:
    return registered(("MeetingHeld", b.meeting_held(MEETING, **overrides)))


def test_meeting_is_held_with_registered_partners() -> None:
    world = registered()
    world.when("MeetingHeld", b.meeting_held(MEETING)).then()
    meeting = world[STREAM]
    assert isinstance(meeting, Meeting)
    assert meeting.participant_ids == ["bafia", "nrc"]


def test_meeting_participants_are_registered_partners() -> None:
    world = registered()
    participants = [{"partner_id": "nrc"}, {"partner_id": "unhcr", "person": "A. Karimi"}]
    outcome = world.when("MeetingHeld", b.meeting_held(participants=participants))
    outcome.then_rejected(UnknownPartner)


def test_meeting_chair_is_a_registered_partner() -> None:
    world = registered()
    outcome = world.when("MeetingHeld", b.meeting_held(chair_partner_id="unhcr"))
    outcome.then_rejected(UnknownPartner)


def test_meeting_at_a_registered_site() -> None:
    world = registered()
    world.when("MeetingHeld", b.meeting_held(site_id="gol-tappeh")).then()


def test_meeting_site_must_be_registered() -> None:
    world = registered()
    world.when("MeetingHeld", b.meeting_held(site_id="varamin")).then_rejected(UnknownSite)


def test_meeting_id_is_unique() -> None:
    held().when("MeetingHeld", b.meeting_held(MEETING)).then_rejected(MeetingAlreadyHeld)


def test_participant_presents_a_report() -> None:
    world = held()
    world.when("ReportPresented", b.report_presented(MEETING)).then()
    assert world[STREAM].reports == [
        {"partner_id": "nrc", "summary": "Literacy classes reached 59 learners in March"}
    ]


def test_chair_presents_a_report() -> None:
    world = held(participants=[{"partner_id": "nrc"}])
    world.when("ReportPresented", b.report_presented(MEETING, partner_id="bafia")).then()


def test_partner_that_did_not_attend_cannot_present() -> None:
    world = held(participants=[{"partner_id": "bafia"}])
    outcome = world.when("ReportPresented", b.report_presented(MEETING))
    outcome.then_rejected(PartnerDidNotAttend)


def test_report_needs_the_meeting() -> None:
    world = registered()
    world.when("ReportPresented", b.report_presented(MEETING)).then_rejected(UnknownMeeting)
