"""The lean path (server/aggregates/lean.py) decides a stream's first event exactly as
its aggregate does: the same rule broken with the same words, or the same stored bytes,
schema version and, replayed through the library's mapper, the same aggregate.

Worlds and events are generated over the values the rules care about (registered or
not, suspended, closed, cancelled, funded, locked, held, dates either side of today
and of each other), valid and invalid alike."""

from __future__ import annotations

import copy
import datetime
import types
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.events import stream_of
from server.aggregates.base import HamkariAggregate, RuleBroken
from server.aggregates.lean import CREATIONS, already_exists, check_first, rule_inputs
from server.aggregates.mapping import replay, to_contract
from server.aggregates.registry import decide
from server.eventstore import canonical_json
from tests import builders as b
from tests.aggregates.gwt import TODAY, World, as_data, stored_event

PLEDGE = "11111111-2222-4333-8444-555555555555"
CANCELLED_PLEDGE = "66666666-7777-4888-9999-000000000000"
MEETING = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
EXISTING = "12345678-1234-4234-8234-123456789abc"

PARTNERS = st.sampled_from(["nrc", "bafia", "ayandeh", "unknown"])
SITES = st.sampled_from(["gol-tappeh", "khalij-fars", "nowhere"])
OPTIONAL_SITES = st.none() | SITES
SECTORS = st.sampled_from(["education", "livelihoods", "health"])
DAYS = st.dates(datetime.date(2024, 11, 1), datetime.date(2025, 6, 30))
TEXTS = st.none() | st.sampled_from(["Open two more literacy classes", "کلاس سوادآموزی"])


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """Partners and sites in every state a rule distinguishes, pledges, locks, a meeting."""
    world = World(today=TODAY)
    world.record("PartnerRegistered", b.partner_registered("nrc"))
    world.record("PartnerRegistered", b.partner_registered("bafia", kind="directorate"))
    world.record("PartnerRegistered", b.partner_registered("ayandeh", kind="national_ngo"))
    world.record("SiteRegistered", b.site_registered("gol-tappeh"))
    world.record("SiteRegistered", b.site_registered("khalij-fars"))
    # streams that exist already, whatever comes next
    world.record("MeetingHeld", b.meeting_held(MEETING))
    world.record("ServiceDelivered", b.service_delivered(EXISTING))
    world.record("PledgeMade", b.pledge_made(EXISTING, site_id=None))
    world.record("ChallengeReported", b.challenge_reported(EXISTING))
    world.record("CommitmentMade", b.commitment_made(EXISTING))
    if draw(st.booleans()):
        world.record("PartnerSuspended", b.partner_suspended(draw(PARTNERS.filter(_known))))
    if draw(st.booleans()):
        closed = draw(DAYS).isoformat()
        world.record("SiteClosed", b.site_closed("gol-tappeh", closed_on=closed))
    sectors = draw(st.lists(SECTORS, min_size=1, max_size=3, unique=True))
    world.record("PledgeMade", b.pledge_made(PLEDGE, "nrc", sectors=sectors, site_id=None))
    if draw(st.booleans()):
        world.record(
            "DisbursementRecorded",
            b.disbursement_recorded(PLEDGE, recipient_partner_id="ayandeh", amount="10.00"),
        )
    world.record("PledgeMade", b.pledge_made(CANCELLED_PLEDGE, "bafia", site_id=None))
    world.record("PledgeCancelled", b.pledge_cancelled(CANCELLED_PLEDGE))
    for month in draw(st.lists(st.sampled_from(["2025-01", "2025-03", "2025-04"]), unique=True)):
        world.record("PeriodLocked", b.period_locked(month))
    return world


def _known(partner: str) -> bool:
    return partner != "unknown"


def _ids(draw: st.DrawFn) -> str | None:
    return draw(st.sampled_from([None, EXISTING]))


@st.composite
def deliveries(draw: st.DrawFn) -> dict[str, Any]:
    start, end = draw(DAYS), draw(DAYS)
    return b.service_delivered(
        _ids(draw),
        draw(PARTNERS),
        draw(SITES),
        sector=draw(SECTORS),
        period_start=start.isoformat(),
        period_end=end.isoformat(),
        pledge_id=draw(st.sampled_from([None, PLEDGE, CANCELLED_PLEDGE, UNKNOWN])),
    )


@st.composite
def pledges(draw: st.DrawFn) -> dict[str, Any]:
    start, end = draw(DAYS), draw(DAYS)
    return b.pledge_made(
        _ids(draw),
        draw(PARTNERS),
        amount=draw(st.sampled_from(["0", "0.00", "0.01", "250000.00"])),
        site_id=draw(OPTIONAL_SITES),
        period_start=start.isoformat(),
        period_end=end.isoformat(),
        sectors=draw(st.lists(SECTORS, min_size=1, max_size=3, unique=True)),
    )


@st.composite
def challenges(draw: st.DrawFn) -> dict[str, Any]:
    return b.challenge_reported(_ids(draw), draw(PARTNERS), site_id=draw(OPTIONAL_SITES))


@st.composite
def commitments(draw: st.DrawFn) -> dict[str, Any]:
    return b.commitment_made(
        _ids(draw),
        draw(PARTNERS),
        description_fa=draw(TEXTS),
        description_en=draw(TEXTS),
        meeting_id=draw(st.sampled_from([None, MEETING, UNKNOWN])),
        site_id=draw(OPTIONAL_SITES),
    )


EVENTS = {
    "ServiceDelivered": deliveries(),
    "PledgeMade": pledges(),
    "ChallengeReported": challenges(),
    "CommitmentMade": commitments(),
}


def test_every_creation_type_has_a_strategy() -> None:
    assert set(EVENTS) == set(CREATIONS)


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        return "decided", run()
    except RuleBroken as broken:
        return "refused", (type(broken), broken.rule, broken.message)


def _state(aggregate: HamkariAggregate) -> dict[str, Any]:
    """What an aggregate holds, but for the moments it was built and its pending events."""
    state = dict(vars(aggregate))
    for moment in ("_created_on", "_modified_on", "_pending_events"):
        state.pop(moment, None)
    return state


def _decide_both(world: World, type_name: str, raw: dict[str, Any]) -> None:
    data = as_data(type_name, raw)
    stream = stream_of(type_name, data)
    current = copy.deepcopy(world.streams.get(stream))
    ctx = world.context(type_name, data)

    def aggregate_path() -> HamkariAggregate:
        return decide(type_name, current, data, ctx)

    def lean_path() -> bytes:
        if current is not None:
            raise already_exists(type_name, data)
        check_first(type_name, data, ctx)
        return canonical_json(data)

    (kind, by_aggregate), (lean_kind, by_lean) = _outcome(aggregate_path), _outcome(lean_path)
    assert kind == lean_kind, (by_aggregate, by_lean)
    if kind == "refused":
        assert by_aggregate == by_lean
        return
    [event] = by_aggregate.collect_events()
    schema_version = CREATIONS[type_name].schema_version
    assert to_contract(event) == (type_name, schema_version, by_lean)
    # the aggregate built later from the lean event's stored form is the one decided now
    stored = stored_event(type_name, schema_version, stream, 1, by_lean, event.timestamp)
    rebuilt = replay([stored])
    assert type(rebuilt) is type(by_aggregate)
    assert rebuilt is not None and _state(rebuilt) == _state(by_aggregate)


def _check_reads(world: World, type_name: str, raw: dict[str, Any]) -> None:
    """The rules read no field of the data but the ones the creation names, which key
    a batch's decisions: a rule that read another would make two events with equal
    keys be decided alike where they differ."""
    data = as_data(type_name, raw)
    if world.streams.get(stream_of(type_name, data)) is not None:
        return
    ctx = world.context(type_name, data)
    names = CREATIONS[type_name].reads
    only_reads = types.SimpleNamespace(**{name: getattr(data, name) for name in names})
    assert rule_inputs(type_name, data) == tuple(getattr(data, name) for name in names)
    assert _outcome(lambda: check_first(type_name, data, ctx)) == _outcome(
        lambda: check_first(type_name, only_reads, ctx)  # type: ignore[arg-type]
    )


PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("type_name", sorted(EVENTS))
@PROPERTY
@given(data=st.data())
def test_first_events_are_decided_alike(type_name: str, data: st.DataObject) -> None:
    world, raw = data.draw(worlds()), data.draw(EVENTS[type_name])
    _decide_both(world, type_name, raw)
    _check_reads(world, type_name, raw)


def test_the_generated_cases_reach_both_outcomes_of_every_type() -> None:
    """The strategies are not vacuous: each type is both decided and refused, and by
    more than one rule, in a fixed sample."""
    rules: dict[str, set[str]] = {name: set() for name in EVENTS}

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(st.data())
    def sample(data: st.DataObject) -> None:
        world = data.draw(worlds())
        for type_name, strategy in EVENTS.items():
            parsed = as_data(type_name, data.draw(strategy))
            if world.streams.get(stream_of(type_name, parsed)) is not None:
                rules[type_name].add("exists")
                continue
            ctx = world.context(type_name, parsed)
            kind, detail = _outcome(lambda t=type_name, p=parsed, c=ctx: check_first(t, p, c))
            rules[type_name].add("decided" if kind == "decided" else detail[1])

    sample()
    for type_name, seen in rules.items():
        assert "decided" in seen and "exists" in seen, (type_name, seen)
        assert len(seen - {"decided", "exists"}) >= 2, (type_name, seen)
