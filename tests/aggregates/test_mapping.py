"""Decided events -> contract bytes -> stored events -> the same aggregate, for every
event type; snapshots round-trip; the transcoder is canonical and strict."""

from __future__ import annotations

import datetime

import msgspec
import pytest
from eventsourcing.persistence import MapperDeserialisationError

from schemas.events import EVENT_TYPES, DeliveryCorrected, PartnerRegistered
from server.aggregates.base import HamkariAggregate, Snapshot
from server.aggregates.mapping import (
    MsgspecTranscoder,
    replay,
    restore_snapshot,
    take_snapshot,
    to_contract,
)
from server.eventstore import canonical_json
from tests import builders as b
from tests.aggregates.gwt import Recorded, World, registered, stored, stored_event

PLEDGE, PLEDGE2 = "5a0c1a53-8d3c-4a8f-9a57-3f1b0c6d2e10", "5a0c1a53-8d3c-4a8f-9a57-3f1b0c6d2e11"
DELIVERY, DELIVERY2 = "c3a7f0de-2f4e-4c52-b0e1-6a7d9e8f1234", "c3a7f0de-2f4e-4c52-b0e1-6a7d9e8f1235"
MEETING = "8d9e0f1a-2b3c-4d5e-8f70-8192a3b4c5d6"
COMMITMENT, COMMITMENT2 = (
    "0f1e2d3c-4b5a-4968-8776-655443322110",
    "0f1e2d3c-4b5a-4968-8776-655443322111",
)


TARGET = "5e7d9c3b-1a2f-4e6d-8c0b-9a8f7e6d5c4b"


def history() -> World:
    """Every event type at least once, each stream with several events where it can."""
    world = registered(
        ("PartnerSuspended", b.partner_suspended("bafia")),
        ("PartnerReinstated", b.partner_reinstated("bafia")),
        ("SiteRegistered", b.site_registered("varamin")),
        ("SiteClosed", b.site_closed("varamin")),
        ("PledgeMade", b.pledge_made(PLEDGE)),
        ("PledgeCommitted", b.pledge_committed(PLEDGE)),
        ("PledgeAmended", b.pledge_amended(PLEDGE)),
        ("DisbursementRecorded", b.disbursement_recorded(PLEDGE, recipient_partner_id="bafia")),
        ("PledgeMade", b.pledge_made(PLEDGE2, partner_id="bafia", site_id=None)),
        ("PledgeCancelled", b.pledge_cancelled(PLEDGE2)),
        ("ServiceDelivered", b.service_delivered(DELIVERY, pledge_id=PLEDGE)),
        (
            "DeliveryCorrected",
            b.delivery_corrected(
                DELIVERY, beneficiaries=b.cells(("f", "5-11", 14), ("x", "60+", 1)), notes="ok"
            ),
        ),
        ("ServiceDelivered", b.service_delivered(DELIVERY2, period_end="2025-03-02")),
        ("DeliveryRetracted", b.delivery_retracted(DELIVERY2)),
        ("MeetingHeld", b.meeting_held(MEETING)),
        ("ReportPresented", b.report_presented(MEETING)),
        ("CommitmentMade", b.commitment_made(COMMITMENT, meeting_id=MEETING)),
        ("CommitmentProgressReported", b.commitment_progress_reported(COMMITMENT)),
        ("CommitmentMade", b.commitment_made(COMMITMENT2, description_fa=None)),
        ("CommitmentWithdrawn", b.commitment_withdrawn(COMMITMENT2)),
        ("ChallengeReported", b.challenge_reported()),
        ("PeriodLocked", b.period_locked("2025-03")),
        ("PeriodLocked", b.period_locked("1404-07", calendar="jalali")),
        ("PeriodUnlocked", b.period_unlocked("2025-03")),
        ("WitnessRegistered", b.witness_registered(partner_id="nrc")),
        ("WitnessRetired", b.witness_retired()),
        ("TargetSet", b.target_set(TARGET)),
        ("TargetSet", b.target_set(TARGET, site_id=None, reason="No longer tied to one site")),
    )
    evidence = [str(i) for i in sorted(world.event_ids)[:2]]
    world.record("CommitmentFulfilled", b.commitment_fulfilled(COMMITMENT, evidence=evidence))
    return world


@pytest.fixture(scope="module")
def world() -> World:
    return history()


def last_of(world: World, type_name: str) -> Recorded:
    return [r for r in world.log if r.type == type_name][-1]


def stream_until(world: World, recorded: Recorded) -> list[Recorded]:
    version = recorded.event.originator_version
    return [
        r
        for r in world.log
        if r.stream == recorded.stream and r.event.originator_version <= version
    ]


def test_history_has_every_event_type(world: World) -> None:
    assert {r.type for r in world.log} == set(EVENT_TYPES)


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_stored_events_replay_to_the_decided_aggregate(world: World, type_name: str) -> None:
    recorded = last_of(world, type_name)
    events = [stored(r) for r in stream_until(world, recorded)]
    assert replay(events) == recorded.state
    assert replay(reversed(events)) == recorded.state  # replay orders by version


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_contract_form_is_the_type_its_version_and_canonical_data(
    world: World, type_name: str
) -> None:
    event = last_of(world, type_name).event
    contract_type, version, data = to_contract(event)
    assert (contract_type, version) == (type_name, 1)
    assert data == canonical_json(event.data)
    assert msgspec.json.decode(data, type=EVENT_TYPES[type_name]) == event.data


def test_contract_form_of_a_correction_leaves_out_what_it_does_not_correct(world: World) -> None:
    _, _, data = to_contract(last_of(world, "DeliveryCorrected").event)
    decoded = msgspec.json.decode(data)
    assert set(decoded) == {"delivery_id", "beneficiaries", "notes", "reason"}
    assert msgspec.json.decode(data, type=DeliveryCorrected).site_id is msgspec.UNSET


def test_nothing_stored_replays_to_nothing() -> None:
    assert replay([]) is None


def test_replay_refuses_an_event_of_another_stream(world: World) -> None:
    first = stored(world.log[0])
    other = stored(world.log[1])
    wrong = stored_event(
        other.type, 1, first.stream, 2, other.data, other.recorded_at
    )  # bafia's registration in nrc's stream
    with pytest.raises(Exception):  # noqa: B017 - the library's OriginatorVersionError/TypeError
        replay([first, wrong])


def test_unknown_schema_version_is_not_read_as_another(world: World) -> None:
    recorded = world.log[0]
    event = stored(recorded)
    future = stored_event(event.type, 9, event.stream, 1, event.data, event.recorded_at)
    with pytest.raises(MapperDeserialisationError):
        replay([future])


# --- snapshots --------------------------------------------------------------------


def final_states(world: World) -> dict[str, HamkariAggregate]:
    return {r.stream: r.state for r in world.log}


def test_snapshot_round_trips_every_aggregate(world: World) -> None:
    for stream, aggregate in final_states(world).items():
        topic, version, state = take_snapshot(aggregate)
        assert (topic, version) == (
            f"{type(aggregate).__module__}:{type(aggregate).__qualname__}",
            aggregate.version,
        )
        restored = restore_snapshot(topic, version, state)
        assert restored == aggregate, stream
        assert restored.id == stream


def test_snapshot_state_is_canonical_json(world: World) -> None:
    _, _, state = take_snapshot(last_of(world, "ServiceDelivered").state)
    assert canonical_json(msgspec.json.decode(state)) == state


def test_snapshot_plus_later_events_replays_to_the_latest_state(world: World) -> None:
    history = [r for r in world.log if r.stream == f"pledge-{PLEDGE}"]
    restored = restore_snapshot(*take_snapshot(history[1].state))
    later = [stored(r) for r in history]  # the ones the snapshot covers are skipped
    assert replay(later, restored) == history[-1].state


def test_replay_starts_from_a_snapshot_object(world: World) -> None:
    history = [r for r in world.log if r.stream == "periods"]
    snapshot = Snapshot.take(history[0].state)
    assert replay([stored(r) for r in history[1:]], snapshot) == history[-1].state


def test_snapshot_restored_as_another_aggregate_is_refused(world: World) -> None:
    _, version, state = take_snapshot(world.log[0].state)
    with pytest.raises(ValueError):
        restore_snapshot("server.aggregates.site:Site", version, state)


# --- the transcoder ---------------------------------------------------------------


def test_transcoder_round_trips_an_event_state_with_sorted_keys() -> None:
    transcoder = MsgspecTranscoder()
    data = msgspec.json.decode(msgspec.json.encode(b.partner_registered()), type=PartnerRegistered)
    when = datetime.datetime(2025, 3, 1, 8, 30, tzinfo=datetime.UTC)
    state = {"timestamp": when, "data": data, "originator_topic": "x:Y"}
    encoded = transcoder.encode(state)
    assert encoded == canonical_json(msgspec.json.decode(encoded))
    assert transcoder.decode(encoded) == {**state, "class_version": 1}
    assert b'"type":"PartnerRegistered"' in encoded


def test_transcoder_refuses_data_that_is_no_contract_struct() -> None:
    when = datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC)
    with pytest.raises(TypeError):
        MsgspecTranscoder().encode({"timestamp": when, "data": {"partner_id": "nrc"}})


def test_transcoder_refuses_attributes_it_cannot_restore(world: World) -> None:
    when = datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC)
    data = last_of(world, "PartnerRegistered").event.data
    with pytest.raises(TypeError):
        MsgspecTranscoder().encode({"timestamp": when, "data": data, "extra": 1})
