"""The registry: every contract type has its aggregate and event class, decide refuses
commands on missing streams and creations of existing ones, and names what it reads."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest

from schemas.events import EVENT_TYPES, PERIODS_STREAM, EventData, stream_of
from server.aggregates import base
from server.aggregates.base import AlreadyExists, NotFound, RuleBroken
from server.aggregates.context import Context
from server.aggregates.periods import PeriodNotLocked
from server.aggregates.pledge import DisbursementExceedsPledge
from server.aggregates.registry import AGGREGATE_OF, decide, evidence_ids, related_streams
from tests import builders as b
from tests.aggregates.gwt import TODAY, as_data, registered

CREATES = {
    "PartnerRegistered",
    "SiteRegistered",
    "PledgeMade",
    "ServiceDelivered",
    "MeetingHeld",
    "CommitmentMade",
    "ChallengeReported",
    "WitnessRegistered",
}
EMPTY = Context(today=TODAY)


def data_of(type_name: str) -> EventData:
    return as_data(type_name, b.BUILDERS[type_name]())


def all_rules() -> list[type[RuleBroken]]:
    found: list[type[RuleBroken]] = []
    todo: list[type[RuleBroken]] = [RuleBroken]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_contract_type_has_an_event_class_named_like_it() -> None:
    assert AGGREGATE_OF.keys() == EVENT_TYPES.keys()
    for type_name, aggregate in AGGREGATE_OF.items():
        event_class = getattr(aggregate, type_name)
        assert event_class.__name__ == type_name
        assert "data" in event_class.__dataclass_fields__


# PeriodLocked and TargetSet start their stream or change it: neither needs it to exist
STARTS_OR_CHANGES = {"PeriodLocked", "TargetSet"}


@pytest.mark.parametrize("type_name", sorted(set(EVENT_TYPES) - CREATES - STARTS_OR_CHANGES))
def test_command_on_a_missing_stream_names_what_is_missing(type_name: str) -> None:
    with pytest.raises(RuleBroken) as raised:
        decide(type_name, None, data_of(type_name), EMPTY)
    expected = PeriodNotLocked if type_name == "PeriodUnlocked" else NotFound
    assert isinstance(raised.value, expected)


@pytest.mark.parametrize("type_name", sorted(CREATES))
def test_creation_of_an_existing_stream_is_refused(type_name: str) -> None:
    data = data_of(type_name)
    world = registered()
    stream = stream_of(type_name, data)
    if stream not in world.streams:
        world.record(type_name, data)
    aggregate = world.streams[stream]
    with pytest.raises(AlreadyExists):
        decide(type_name, aggregate, data, world.context(type_name, data))


def test_periods_stream_starts_with_its_first_lock() -> None:
    periods = decide("PeriodLocked", None, data_of("PeriodLocked"), EMPTY)
    assert (periods.id, periods.version) == (PERIODS_STREAM, 1)
    assert len(periods.collect_events()) == 1


def test_rejected_command_leaves_the_aggregate_unchanged() -> None:
    pledge_id = b.new_id()
    world = registered(("PledgeMade", b.pledge_made(pledge_id)))
    pledge = world[f"pledge-{pledge_id}"]
    before = dict(vars(pledge))
    too_much = as_data(
        "DisbursementRecorded", b.disbursement_recorded(pledge_id, amount="1000000000")
    )
    with pytest.raises(DisbursementExceedsPledge):
        decide("DisbursementRecorded", pledge, too_much, EMPTY)
    assert vars(pledge) == before
    assert pledge.collect_events() == []


def test_decide_refuses_data_of_another_type() -> None:
    with pytest.raises(TypeError):
        decide("PartnerSuspended", None, data_of("PartnerReinstated"), EMPTY)


def test_decide_refuses_an_aggregate_of_another_stream() -> None:
    world = registered()
    with pytest.raises(TypeError):
        decide("PartnerSuspended", world["partner-bafia"], data_of("PartnerSuspended"), EMPTY)


def test_a_stream_left_out_of_the_context_is_a_programming_error() -> None:
    with pytest.raises(LookupError):
        decide("PledgeMade", None, data_of("PledgeMade"), EMPTY)


def test_every_rule_has_its_own_kebab_case_slug() -> None:
    rules = all_rules()
    slugs = [cls.rule for cls in rules]
    assert len(slugs) == len(set(slugs)), sorted(slugs)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) for slug in slugs)
    assert len(rules) > 40


def test_a_rule_without_a_slug_cannot_be_defined() -> None:
    with pytest.raises(TypeError):
        type("Nameless", (base.RuleBroken,), {})


def test_a_delivery_reads_partner_site_periods_and_pledge() -> None:
    pledge_id = b.new_id()
    data = as_data("ServiceDelivered", b.service_delivered(pledge_id=pledge_id))
    assert related_streams("ServiceDelivered", data, None) == [
        "partner-nrc",
        "site-gol-tappeh",
        PERIODS_STREAM,
        f"pledge-{pledge_id}",
    ]


def test_a_correction_reads_what_its_changes_touch() -> None:
    delivery_id = b.new_id()
    world = registered(("ServiceDelivered", b.service_delivered(delivery_id)))
    delivery = world[f"delivery-{delivery_id}"]

    def reads(**changes: object) -> list[str]:
        data = as_data("DeliveryCorrected", b.delivery_corrected(delivery_id, **changes))
        return related_streams("DeliveryCorrected", data, delivery)

    pledge_id = b.new_id()
    assert reads() == [PERIODS_STREAM]
    assert reads(site_id="varamin") == [PERIODS_STREAM, "site-varamin"]
    assert reads(period_end="2025-04-01") == [PERIODS_STREAM, "site-gol-tappeh"]
    assert reads(pledge_id=pledge_id) == [PERIODS_STREAM, f"pledge-{pledge_id}"]
    assert reads(sector="health") == [PERIODS_STREAM]
    assert related_streams("DeliveryCorrected", data_of("DeliveryCorrected"), None) == []


def test_a_meeting_reads_its_chair_and_each_participant_once() -> None:
    data = as_data("MeetingHeld", b.meeting_held(site_id="gol-tappeh"))
    assert related_streams("MeetingHeld", data, None) == [
        "partner-bafia",
        "partner-nrc",
        "site-gol-tappeh",
    ]


@pytest.mark.parametrize(
    ("type_name", "streams"),
    [
        ("PledgeMade", ["partner-nrc", "site-gol-tappeh"]),
        ("DisbursementRecorded", []),
        ("DeliveryRetracted", [PERIODS_STREAM]),
        ("CommitmentMade", ["partner-nrc", "site-gol-tappeh"]),
        ("ChallengeReported", ["partner-nrc", "site-gol-tappeh"]),
        ("PartnerRegistered", []),
        ("PeriodLocked", []),
        ("ReportPresented", []),
        ("TargetSet", ["partner-nrc", "site-gol-tappeh"]),
    ],
)
def test_what_each_type_reads(type_name: str, streams: list[str]) -> None:
    assert related_streams(type_name, data_of(type_name), None) == streams


def test_disbursement_to_a_partner_reads_the_recipient() -> None:
    data = as_data("DisbursementRecorded", b.disbursement_recorded(recipient_partner_id="bafia"))
    assert related_streams("DisbursementRecorded", data, None) == ["partner-bafia"]


def test_fulfilment_evidence_is_checked_for_existence() -> None:
    evidence = [uuid.uuid4(), uuid.uuid4()]
    data = as_data(
        "CommitmentFulfilled", b.commitment_fulfilled(evidence=[str(e) for e in evidence])
    )
    assert evidence_ids("CommitmentFulfilled", data) == evidence
    assert evidence_ids("PledgeMade", data_of("PledgeMade")) == []


def test_context_today_is_a_plain_date() -> None:
    assert Context(today=datetime.date(2025, 1, 1)).known_event_ids == frozenset()
