"""The public contract as msgspec Structs: what each event's data may look like, which
stream it goes to, the envelope around it, and the committed JSON Schemas. No database."""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal
from typing import Any, get_args

import msgspec
import pytest
import rfc8785

from schemas import codes, jsonschema
from schemas.common import (
    AgeBand,
    Beneficiaries,
    BeneficiaryTotals,
    Calendar,
    Cell,
    PartnerKind,
    PopulationGroup,
    Sector,
    Sex,
    SiteKind,
    derive_short_form,
    money_value,
)
from schemas.envelope import (
    EVENT_IN_TYPES,
    EventBody,
    EventIn,
    EventPage,
    LoggedEvent,
    Receipt,
    RecordedBy,
    type_of,
)
from schemas.events import (
    CORRECTABLE_FIELDS,
    EVENT_TYPES,
    PERIODS_STREAM,
    SCHEMA_VERSIONS,
    DeliveryCorrected,
    PartnerRegistered,
    ServiceDelivered,
    stream_of,
)
from schemas.problems import Problem, ProblemError
from tests import builders
from tests.builders import BUILDERS, cells, short_form

CONTRACT_V1_TYPES = [
    "PartnerRegistered",
    "PartnerSuspended",
    "PartnerReinstated",
    "SiteRegistered",
    "SiteClosed",
    "PledgeMade",
    "PledgeCommitted",
    "PledgeAmended",
    "DisbursementRecorded",
    "PledgeCancelled",
    "ServiceDelivered",
    "DeliveryCorrected",
    "DeliveryRetracted",
    "MeetingHeld",
    "ReportPresented",
    "CommitmentMade",
    "CommitmentProgressReported",
    "CommitmentFulfilled",
    "CommitmentWithdrawn",
    "ChallengeReported",
    "PeriodLocked",
    "PeriodUnlocked",
    "WitnessRegistered",
    "WitnessRetired",
    "TargetSet",
]

canonical = msgspec.json.Encoder(order="sorted")


def decode(type_name: str, data: Any) -> Any:
    """Decode as the server does: JSON bytes into the type's Struct."""
    return msgspec.json.decode(msgspec.json.encode(data), type=EVENT_TYPES[type_name])


def rejection(type_name: str, data: Any) -> str:
    with pytest.raises(msgspec.ValidationError) as excinfo:
        decode(type_name, data)
    return str(excinfo.value)


def fields_of(type_name: str) -> list[msgspec.structs.FieldInfo]:
    return list(msgspec.structs.fields(EVENT_TYPES[type_name]))


REQUIRED_FIELDS = [
    (name, f.encode_name) for name in CONTRACT_V1_TYPES for f in fields_of(name) if f.required
]
BUILT_FIELDS = [(name, field) for name in CONTRACT_V1_TYPES for field in BUILDERS[name]()]


# --- the set of event types ---------------------------------------------------------


def test_event_types_are_exactly_the_contracts_v1_table() -> None:
    assert list(EVENT_TYPES) == CONTRACT_V1_TYPES
    assert list(BUILDERS) == CONTRACT_V1_TYPES


def test_every_event_type_is_at_schema_version_1() -> None:
    assert dict.fromkeys(CONTRACT_V1_TYPES, 1) == SCHEMA_VERSIONS


@pytest.mark.parametrize("type_name", CONTRACT_V1_TYPES)
def test_every_event_data_is_frozen_and_forbids_unknown_fields(type_name: str) -> None:
    config = EVENT_TYPES[type_name].__struct_config__
    assert config.frozen and config.forbid_unknown_fields
    assert EVENT_TYPES[type_name].__name__ == type_name


# --- every type: valid, unknown fields, missing fields, wrong types ----------------------


@pytest.mark.parametrize("type_name", CONTRACT_V1_TYPES)
def test_every_type_decodes_a_valid_example(type_name: str) -> None:
    data = decode(type_name, BUILDERS[type_name]())
    assert isinstance(data, EVENT_TYPES[type_name])


@pytest.mark.parametrize("type_name", CONTRACT_V1_TYPES)
def test_every_type_survives_encoding_and_decoding_unchanged(type_name: str) -> None:
    data = decode(type_name, BUILDERS[type_name]())
    again = msgspec.json.decode(canonical.encode(data), type=EVENT_TYPES[type_name])
    assert again == data
    assert canonical.encode(again) == canonical.encode(data)


@pytest.mark.parametrize("type_name", CONTRACT_V1_TYPES)
def test_every_type_rejects_unknown_fields(type_name: str) -> None:
    message = rejection(type_name, BUILDERS[type_name](surprise="field"))
    assert "unknown field `surprise`" in message


@pytest.mark.parametrize(("type_name", "field"), REQUIRED_FIELDS)
def test_every_required_field_is_required(type_name: str, field: str) -> None:
    data = BUILDERS[type_name]()
    del data[field]
    assert f"missing required field `{field}`" in rejection(type_name, data)


@pytest.mark.parametrize(("type_name", "field"), BUILT_FIELDS)
def test_every_field_rejects_a_value_of_the_wrong_type(type_name: str, field: str) -> None:
    data = BUILDERS[type_name]()
    data[field] = "not an object" if isinstance(data[field], dict) else {"an": "object"}
    assert f"`$.{field}`" in rejection(type_name, data)


def test_the_builders_cover_every_field_of_every_type() -> None:
    for name in CONTRACT_V1_TYPES:
        built = set(BUILDERS[name]())
        required = {f.encode_name for f in fields_of(name) if f.required}
        assert required <= built, name


# --- numbers: ints only, never negative, never beyond 2**53 - 1 ----------------------------


def test_no_schema_anywhere_allows_a_json_number_that_is_not_an_integer() -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            assert node.get("type") != "number", node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(jsonschema.generate())
    walk(jsonschema.envelope_schema())


@pytest.mark.parametrize(
    ("type_name", "data", "path"),
    [
        ("ServiceDelivered", {"beneficiaries": short_form(women=-1)}, "beneficiaries.women"),
        (
            "ServiceDelivered",
            {"beneficiaries": cells(("f", "0-4", -3))},
            "beneficiaries.cells[0].count",
        ),
        ("CommitmentProgressReported", {"percent": -1}, "percent"),
    ],
)
def test_negative_counts_are_rejected(type_name: str, data: dict[str, Any], path: str) -> None:
    message = rejection(type_name, BUILDERS[type_name](**data))
    assert ">= 0" in message and f"$.{path}" in message


@pytest.mark.parametrize(
    ("type_name", "data", "path"),
    [
        (
            "ServiceDelivered",
            {"beneficiaries": {**short_form(), "women": 12.0}},
            "beneficiaries.women",
        ),
        (
            "ServiceDelivered",
            {"beneficiaries": {"cells": [{"sex": "m", "age": "60+", "count": 1.5}]}},
            "beneficiaries.cells[0].count",
        ),
        ("CommitmentProgressReported", {"percent": 50.0}, "percent"),
    ],
)
def test_floats_are_rejected_where_integers_are_expected(
    type_name: str, data: dict[str, Any], path: str
) -> None:
    message = rejection(type_name, BUILDERS[type_name](**data))
    assert "got `float`" in message and f"$.{path}" in message


def test_an_exponent_is_a_float_not_a_count() -> None:
    body = msgspec.json.encode(builders.service_delivered()).replace(b'"women":12', b'"women":1e1')
    with pytest.raises(msgspec.ValidationError, match="got `float`"):
        msgspec.json.decode(body, type=ServiceDelivered)


def test_counts_beyond_two_to_the_53_minus_1_are_rejected() -> None:
    ok = builders.service_delivered(beneficiaries=short_form(women=2**53 - 1))
    decode("ServiceDelivered", ok)
    too_big = builders.service_delivered(beneficiaries=short_form(women=2**53))
    assert "$.beneficiaries.women" in rejection("ServiceDelivered", too_big)


@pytest.mark.parametrize("percent", [-1, 101])
def test_percent_is_a_whole_number_from_0_to_100(percent: int) -> None:
    for fine in (0, 100, None):
        decode("CommitmentProgressReported", builders.commitment_progress_reported(percent=fine))
    data = builders.commitment_progress_reported(percent=percent)
    assert "$.percent" in rejection("CommitmentProgressReported", data)


# --- identifiers, codes, money, dates, texts ----------------------------------------------


@pytest.mark.parametrize("slug", ["nrc", "gol-tappeh", "unhcr", "drc-2", "1st-site", "a" * 64])
def test_lowercase_slugs_are_accepted(slug: str) -> None:
    assert decode("PartnerRegistered", builders.partner_registered(slug)).partner_id == slug


@pytest.mark.parametrize(
    "slug",
    ["", "NRC", "Nrc", "nrc_ir", "-nrc", "nrc-", "gol--tappeh", "gol tappeh", "نرک", "a" * 65],
)
def test_bad_slugs_are_rejected(slug: str) -> None:
    assert "$.partner_id" in rejection("PartnerRegistered", builders.partner_registered(slug))
    data = builders.service_delivered(site_id=slug)
    assert "$.site_id" in rejection("ServiceDelivered", data)


@pytest.mark.parametrize("currency", ["eur", "EURO", "EU", "E1R", "", "€"])
def test_bad_currencies_are_rejected(currency: str) -> None:
    data = builders.pledge_made(currency=currency)
    assert "$.currency" in rejection("PledgeMade", data)


@pytest.mark.parametrize(
    "amount", ["250000.00", "250000", "0", "0.5", "1200.1234", "999999999999999.9999"]
)
def test_money_is_a_decimal_string_stored_exactly_as_sent(amount: str) -> None:
    data = decode("PledgeMade", builders.pledge_made(amount=amount))
    assert data.amount == amount
    assert f'"amount":"{amount}"'.encode() in canonical.encode(data)


@pytest.mark.parametrize(
    "amount",
    [250000, 250000.0, "-1", "+5", "1e5", "1E+5", "1.23456", "1,000", "", ".5", "5.", "0012",
     " 5", "5 ", "1000000000000000", "NaN", "Infinity", "۲۵۰۰۰۰"],
)  # fmt: skip
def test_money_that_is_not_a_plain_decimal_string_is_rejected(amount: Any) -> None:
    assert "$.amount" in rejection("PledgeMade", builders.pledge_made(amount=amount))
    data = builders.disbursement_recorded(amount=amount)
    assert "$.amount" in rejection("DisbursementRecorded", data)


def test_money_values_are_exact_decimals() -> None:
    assert money_value("0.1") + money_value("0.2") == Decimal("0.3")
    assert money_value("250000.00") == Decimal(250000)


@pytest.mark.parametrize(
    "month", ["2025-13", "2025-00", "2025-1", "25-01", "1404/07", "2025-01-01"]
)
def test_bad_months_are_rejected(month: str) -> None:
    assert "$.month" in rejection("PeriodLocked", builders.period_locked(month))


def test_a_period_is_gregorian_unless_it_says_jalali() -> None:
    data = builders.period_locked("2025-03")
    del data["calendar"]
    assert decode("PeriodLocked", data).calendar == "gregorian"
    assert decode("PeriodUnlocked", builders.period_unlocked("1404-07", calendar="jalali"))
    data = builders.period_locked("1404-07", calendar="hijri")
    assert "$.calendar" in rejection("PeriodLocked", data)


def test_a_delivery_is_for_refugees_from_afghanistan_unless_it_says_otherwise() -> None:
    data = builders.service_delivered()
    del data["population_group"], data["nationality"]
    delivered = decode("ServiceDelivered", data)
    assert (delivered.population_group, delivered.nationality) == ("REF", "AF")
    other = decode("ServiceDelivered", builders.service_delivered(population_group="HST"))
    assert other.population_group == "HST"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("population_group", "ref"),
        ("population_group", "XYZ"),
        ("nationality", "AFG"),
        ("nationality", "af"),
        ("sector", "Education"),
        ("sector", "mining"),
    ],
)
def test_codes_outside_their_lists_are_rejected(field: str, value: str) -> None:
    data = builders.service_delivered(**{field: value})
    assert f"$.{field}" in rejection("ServiceDelivered", data)


@pytest.mark.parametrize("value", [False, None, "true", 1])
def test_a_delivery_must_say_it_was_free_of_charge(value: Any) -> None:
    data = builders.service_delivered(free_of_charge=value)
    assert "$.free_of_charge" in rejection("ServiceDelivered", data)


@pytest.mark.parametrize("date", ["2025-02-30", "15/03/2025", "2025-3-1", "2025-03-01T00:00:00"])
def test_dates_are_iso_8601_calendar_dates(date: str) -> None:
    data = builders.service_delivered(period_start=date)
    assert "$.period_start" in rejection("ServiceDelivered", data)


def test_uuids_are_validated_and_stored_in_canonical_form() -> None:
    assert "$.pledge_id" in rejection("PledgeCancelled", builders.pledge_cancelled("pledge-1"))
    upper = "7D1C0F0E-5A4B-4C3D-8E2F-1A2B3C4D5E6F"
    data = decode("PledgeCancelled", builders.pledge_cancelled(upper))
    assert data.pledge_id == uuid.UUID(upper)
    assert f'"pledge_id":"{upper.lower()}"'.encode() in canonical.encode(data)


@pytest.mark.parametrize("text", ["", " ", "\n\t "])
def test_blank_texts_are_rejected(text: str) -> None:
    assert "$.reason" in rejection("PartnerSuspended", builders.partner_suspended(reason=text))
    assert "$.name_fa" in rejection("PartnerRegistered", builders.partner_registered(name_fa=text))


def test_texts_are_bounded_at_4000_characters_and_names_at_300() -> None:
    decode("ServiceDelivered", builders.service_delivered(notes="ب" * 4000))
    notes = builders.service_delivered(notes="ب" * 4001)
    assert "$.notes" in rejection("ServiceDelivered", notes)
    decode("PartnerRegistered", builders.partner_registered(name_fa="ن" * 300))
    name = builders.partner_registered(name_fa="ن" * 301)
    assert "$.name_fa" in rejection("PartnerRegistered", name)


def test_a_pledge_covers_at_least_one_known_sector() -> None:
    assert "$.sectors" in rejection("PledgeMade", builders.pledge_made(sectors=[]))
    assert "$.sectors[1]" in rejection("PledgeMade", builders.pledge_made(sectors=["cash", "x"]))


def test_meeting_participants_are_partners_with_optional_person_and_role() -> None:
    meeting = decode("MeetingHeld", builders.meeting_held(participants=[{"partner_id": "nrc"}]))
    assert meeting.participants[0].person is None
    assert "$.participants" in rejection("MeetingHeld", builders.meeting_held(participants=[]))
    data = builders.meeting_held(participants=[{"partner_id": "nrc", "email": "x@example.org"}])
    assert "$.participants[0]" in rejection("MeetingHeld", data)


def test_commitment_evidence_is_a_list_of_event_ids() -> None:
    data = builders.commitment_fulfilled(evidence=["not-an-id"])
    assert "$.evidence[0]" in rejection("CommitmentFulfilled", data)


# --- shape, not rules ------------------------------------------------------------------


def test_rules_are_not_schema_matters() -> None:
    """What the contract lists as rules (422 from the aggregate) decodes fine here."""
    backwards = {"period_start": "2025-03-31", "period_end": "2025-03-01"}
    decode("PledgeMade", builders.pledge_made(**backwards))
    decode("ServiceDelivered", builders.service_delivered(**backwards))
    decode("PledgeMade", builders.pledge_made(amount="0.00"))
    decode("ServiceDelivered", builders.service_delivered(period_start="2999-01-01"))
    no_description = builders.commitment_made(description_fa=None, description_en=None)
    decode("CommitmentMade", no_description)
    decode("PledgeAmended", {"pledge_id": builders.new_id(), "reason": "nothing"})
    decode("DeliveryCorrected", {"delivery_id": builders.new_id(), "reason": "nothing"})
    decode("CommitmentFulfilled", builders.commitment_fulfilled(evidence=[]))


# --- beneficiaries -----------------------------------------------------------------------


def test_beneficiaries_come_as_the_short_form() -> None:
    delivered = decode("ServiceDelivered", builders.service_delivered())
    assert delivered.beneficiaries.totals() == BeneficiaryTotals(
        women=12, men=9, girls=20, boys=18, other=0, total=59
    )


def test_beneficiaries_come_as_sex_and_age_cells() -> None:
    data = builders.service_delivered(beneficiaries=cells(("f", "5-11", 14), ("m", "18-59", 3)))
    delivered = decode("ServiceDelivered", data)
    assert delivered.beneficiaries.cells == (
        Cell(sex="f", age="5-11", count=14),
        Cell(sex="m", age="18-59", count=3),
    )


@pytest.mark.parametrize(
    ("beneficiaries", "message"),
    [
        ({}, "either all of women, men, girls, boys, or cells"),
        ({"women": 1, "men": 2, "girls": 3}, "either all of women, men, girls, boys, or cells"),
        ({**short_form(), **cells(("f", "0-4", 1))}, "not both"),
        ({"women": 1, **cells(("f", "0-4", 1))}, "not both"),
        (cells(("f", "0-4", 1), ("f", "0-4", 2)), "sex=f age=0-4 appears more than once"),
        ({"cells": []}, "length >= 1"),
        (cells(("u", "0-4", 1)), "$.beneficiaries.cells[0].sex"),
        (cells(("f", "18+", 1)), "$.beneficiaries.cells[0].age"),
        ({**short_form(), "total": 59}, "unknown field `total`"),
        ({"women": None, "men": 1, "girls": 1, "boys": 1}, "$.beneficiaries.women"),
    ],
)
def test_malformed_beneficiaries_are_rejected_at_their_path(
    beneficiaries: dict[str, Any], message: str
) -> None:
    rejected = rejection(
        "ServiceDelivered", builders.service_delivered(beneficiaries=beneficiaries)
    )
    assert message in rejected
    assert "$.beneficiaries" in rejected


def test_cells_derive_the_short_form_with_x_and_unknown_ages_as_other() -> None:
    beneficiaries = msgspec.convert(
        cells(
            ("f", "0-4", 3), ("f", "5-11", 14), ("f", "12-17", 2),
            ("f", "18-59", 10), ("f", "60+", 1),
            ("m", "0-4", 4), ("m", "12-17", 5), ("m", "18-59", 7), ("m", "60+", 2),
            ("x", "18-59", 1), ("x", "unknown", 1),
            ("f", "unknown", 2), ("m", "unknown", 3),
        ),
        Beneficiaries,
    )  # fmt: skip
    assert beneficiaries.totals() == BeneficiaryTotals(
        women=11, men=9, girls=19, boys=9, other=7, total=55
    )
    assert not isinstance(beneficiaries.cells, msgspec.UnsetType)
    assert derive_short_form(beneficiaries.cells) == beneficiaries.totals()


def test_girls_and_boys_are_under_18_and_women_and_men_18_and_over() -> None:
    columns: dict[AgeBand, tuple[str, str]] = {
        "0-4": ("girls", "boys"),
        "5-11": ("girls", "boys"),
        "12-17": ("girls", "boys"),
        "18-59": ("women", "men"),
        "60+": ("women", "men"),
    }
    for age, (female, male) in columns.items():
        girls_or_women = derive_short_form([Cell(sex="f", age=age, count=1)])
        assert getattr(girls_or_women, female) == 1 == girls_or_women.total, age
        boys_or_men = derive_short_form([Cell(sex="m", age=age, count=1)])
        assert getattr(boys_or_men, male) == 1 == boys_or_men.total, age


def test_beneficiaries_are_stored_in_the_form_they_were_sent() -> None:
    as_cells = decode(
        "ServiceDelivered", builders.service_delivered(beneficiaries=cells(("x", "60+", 2)))
    )
    stored = json.loads(canonical.encode(as_cells))
    assert stored["beneficiaries"] == {"cells": [{"age": "60+", "count": 2, "sex": "x"}]}
    as_short = json.loads(
        canonical.encode(decode("ServiceDelivered", builders.service_delivered()))
    )
    assert as_short["beneficiaries"] == short_form()


# --- corrections ---------------------------------------------------------------------------


def test_a_correction_carries_only_the_fields_it_corrects() -> None:
    delivery_id = builders.new_id()
    corrected = decode("DeliveryCorrected", builders.delivery_corrected(delivery_id))
    assert corrected.sector is msgspec.UNSET and corrected.pledge_id is msgspec.UNSET
    assert set(json.loads(canonical.encode(corrected))) == {
        "delivery_id",
        "beneficiaries",
        "reason",
    }


def test_a_correction_can_clear_the_pledge_and_the_notes() -> None:
    corrected = decode("DeliveryCorrected", builders.delivery_corrected(pledge_id=None, notes=None))
    assert corrected.pledge_id is None and corrected.notes is None
    stored = json.loads(canonical.encode(corrected))
    assert stored["pledge_id"] is None and stored["notes"] is None


@pytest.mark.parametrize("field", ["partner_id", "free_of_charge", "period"])
def test_a_correction_cannot_change_who_delivered_or_that_it_was_free(field: str) -> None:
    data = builders.delivery_corrected(**{field: "x"})
    assert f"unknown field `{field}`" in rejection("DeliveryCorrected", data)


def test_every_correctable_field_is_a_service_delivered_field() -> None:
    delivered = set(ServiceDelivered.__struct_fields__)
    assert set(CORRECTABLE_FIELDS) == delivered - {"delivery_id", "partner_id", "free_of_charge"}
    assert set(DeliveryCorrected.__struct_fields__) == {
        *CORRECTABLE_FIELDS,
        "delivery_id",
        "reason",
    }


# --- streams ----------------------------------------------------------------------------------

STREAM_PREFIX = {
    "PartnerRegistered": "partner_id",
    "PartnerSuspended": "partner_id",
    "PartnerReinstated": "partner_id",
    "SiteRegistered": "site_id",
    "SiteClosed": "site_id",
    "PledgeMade": "pledge_id",
    "PledgeCommitted": "pledge_id",
    "PledgeAmended": "pledge_id",
    "DisbursementRecorded": "pledge_id",
    "PledgeCancelled": "pledge_id",
    "ServiceDelivered": "delivery_id",
    "DeliveryCorrected": "delivery_id",
    "DeliveryRetracted": "delivery_id",
    "MeetingHeld": "meeting_id",
    "ReportPresented": "meeting_id",
    "CommitmentMade": "commitment_id",
    "CommitmentProgressReported": "commitment_id",
    "CommitmentFulfilled": "commitment_id",
    "CommitmentWithdrawn": "commitment_id",
    "ChallengeReported": "challenge_id",
    "WitnessRegistered": "witness_name",
    "WitnessRetired": "witness_name",
    "TargetSet": "target_id",
}


@pytest.mark.parametrize("type_name", CONTRACT_V1_TYPES)
def test_every_event_goes_to_the_stream_its_data_names(type_name: str) -> None:
    raw = BUILDERS[type_name]()
    data = decode(type_name, raw)
    if type_name in ("PeriodLocked", "PeriodUnlocked"):
        expected = "periods"
    else:
        key = STREAM_PREFIX[type_name]
        prefix = "witness" if key == "witness_name" else key.removesuffix("_id")
        expected = f"{prefix}-{raw[key]}"
    assert stream_of(type_name, data) == expected


def stream_for(type_name: str, raw: dict[str, Any]) -> str:
    return stream_of(type_name, decode(type_name, raw))


def test_examples_of_stream_names() -> None:
    pledge = "7d1c0f0e-5a4b-4c3d-8e2f-1a2b3c4d5e6f"
    assert stream_for("PartnerRegistered", builders.partner_registered("nrc")) == "partner-nrc"
    assert stream_for("SiteClosed", builders.site_closed("gol-tappeh")) == "site-gol-tappeh"
    disbursement = builders.disbursement_recorded(pledge.upper())
    assert stream_for("DisbursementRecorded", disbursement) == f"pledge-{pledge}"
    locked = builders.period_locked("1404-07", calendar="jalali")
    assert stream_for("PeriodLocked", locked) == PERIODS_STREAM == "periods"


def test_stream_of_refuses_data_of_another_type_or_an_unknown_type() -> None:
    partner = decode("PartnerRegistered", builders.partner_registered())
    with pytest.raises(TypeError):
        stream_of("PartnerSuspended", partner)
    with pytest.raises(KeyError):
        stream_of("PartnerRenamed", partner)


# --- the request envelope ------------------------------------------------------------------


def decode_body(body: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(body), type=EventBody)


def body_rejection(body: Any) -> str:
    with pytest.raises(msgspec.ValidationError) as excinfo:
        decode_body(body)
    return str(excinfo.value)


def test_the_body_is_one_event() -> None:
    event_id = builders.new_id()
    posted = decode_body(builders.event("ServiceDelivered", id=event_id, expected_version=0))
    assert type_of(posted) == "ServiceDelivered"
    assert isinstance(posted.data, ServiceDelivered)
    assert (str(posted.id), posted.expected_version) == (event_id, 0)


def test_the_body_is_an_array_of_events_of_any_types() -> None:
    body = [builders.event(name) for name in CONTRACT_V1_TYPES]
    posted = decode_body(body)
    assert [type_of(e) for e in posted] == CONTRACT_V1_TYPES
    assert all(isinstance(e.data, EVENT_TYPES[type_of(e)]) for e in posted)
    assert all(e.id is None and e.expected_version is None for e in posted)


def test_an_error_in_a_batch_names_the_item_and_the_field() -> None:
    bad = builders.event("ServiceDelivered", beneficiaries=short_form(women=-1))
    message = body_rejection([builders.event("PartnerRegistered"), bad])
    assert "`$[1].data.beneficiaries.women`" in message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "PartnerRenamed", "data": {}}, "Invalid value 'PartnerRenamed' - at `$.type`"),
        ({"data": builders.partner_registered()}, "missing required field `type`"),
        ({"type": "PartnerRegistered"}, "missing required field `data`"),
        ({**builders.event("PartnerRegistered"), "stream": "partner-nrc"}, "unknown field"),
        (builders.event("PartnerRegistered", expected_version=-1), "$.expected_version"),
        (builders.event("PartnerRegistered", id="abc"), "$.id"),
        (builders.event("PartnerSuspended", builders.partner_registered()), "$.data"),
        ("PartnerRegistered", "Expected `object | array`"),
    ],
)
def test_malformed_envelopes_are_rejected(body: Any, message: str) -> None:
    assert message in body_rejection(body)


def test_every_event_type_has_an_envelope_carrying_its_data() -> None:
    assert list(EVENT_IN_TYPES) == CONTRACT_V1_TYPES
    for name, envelope in EVENT_IN_TYPES.items():
        data_field = next(f for f in msgspec.structs.fields(envelope) if f.name == "data")
        assert data_field.type is EVENT_TYPES[name]
    assert set(get_args(EventIn)) == set(EVENT_IN_TYPES.values())


# --- receipts and the log ---------------------------------------------------------------

HASH = "9f" * 32
RECORDED_AT = "2025-03-01T10:15:00.123456Z"
RECORDED = datetime.datetime(2025, 3, 1, 10, 15, 0, 123456, tzinfo=datetime.UTC)


def test_a_receipt_carries_the_leaf_hash_as_lowercase_hex() -> None:
    receipt = msgspec.json.decode(
        json.dumps(
            {
                "id": builders.new_id(),
                "type": "PartnerRegistered",
                "stream": "partner-nrc",
                "version": 1,
                "position": 1,
                "recorded_at": RECORDED_AT,
                "hash": HASH,
            }
        ),
        type=Receipt,
    )
    assert json.loads(canonical.encode(receipt))["hash"] == HASH
    bad = msgspec.to_builtins(receipt) | {"hash": HASH.upper()}
    with pytest.raises(msgspec.ValidationError, match=r"\$\.hash"):
        msgspec.convert(bad, Receipt)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.position"):
        msgspec.convert(msgspec.to_builtins(receipt) | {"position": 0}, Receipt)


def test_a_logged_event_keeps_its_data_exactly_as_stored() -> None:
    stored = canonical.encode(decode("PartnerRegistered", builders.partner_registered()))
    logged = LoggedEvent(
        id=uuid.uuid4(),
        type="PartnerRegistered",
        stream="partner-nrc",
        version=1,
        position=7,
        recorded_at=RECORDED,
        recorded_by=RecordedBy(principal="admin-1", role="admin"),
        request_id="req-1",
        data=msgspec.Raw(stored),
        hash=HASH,
    )
    page = msgspec.json.decode(
        canonical.encode(EventPage(events=[logged], next_after=7)), type=EventPage
    )
    read = page.events[0]
    assert bytes(read.data) == stored
    assert msgspec.json.decode(read.data, type=EVENT_TYPES[read.type]) == decode(
        "PartnerRegistered", builders.partner_registered()
    )
    assert read.schema_version == 1 and read.recorded_by.partner_id is None


# --- problems -----------------------------------------------------------------------------


def test_a_problem_leaves_out_what_it_does_not_say() -> None:
    problem = Problem(type="https://hamkari.example/problems/x", title="X", status=404, detail="d")
    assert json.loads(msgspec.json.encode(problem)) == {
        "type": "https://hamkari.example/problems/x",
        "title": "X",
        "status": 404,
        "detail": "d",
    }


def test_a_validation_problem_lists_errors_by_path_and_a_conflict_the_version() -> None:
    problem = Problem(
        type="about:blank",
        title="Invalid event",
        status=422,
        detail="1 error",
        errors=[ProblemError(path="data.beneficiaries.women", message="must be >= 0")],
        current_version=3,
    )
    assert json.loads(msgspec.json.encode(problem))["errors"] == [
        {"path": "data.beneficiaries.women", "message": "must be >= 0"}
    ]
    assert msgspec.json.decode(msgspec.json.encode(problem), type=Problem) == problem


# --- code lists ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes_list", "literal"),
    [
        (codes.SECTORS, Sector),
        (codes.PARTNER_KINDS, PartnerKind),
        (codes.SITE_KINDS, SiteKind),
        (codes.POPULATION_GROUPS, PopulationGroup),
        (codes.SEXES, Sex),
        (codes.AGE_BANDS, AgeBand),
        (codes.CALENDARS, Calendar),
    ],
)
def test_every_code_list_labels_exactly_the_codes_events_accept(
    codes_list: tuple[codes.Code, ...], literal: Any
) -> None:
    assert tuple(c.code for c in codes_list) == get_args(literal)
    for code in codes_list:
        assert code.label_en.strip() and code.label_fa.strip()
        assert any("\u0600" <= ch <= "\u06ff" for ch in code.label_fa), code


def test_sectors_include_the_contracts_twelve_with_their_persian_labels() -> None:
    labels = {c.code: c.label_fa for c in codes.SECTORS}
    assert labels == {
        "education": "آموزش",
        "livelihoods": "معیشت",
        "protection": "حمایت",
        "health": "سلامت",
        "shelter": "سرپناه",
        "wash": "آب، بهداشت و بهسازی",
        "food_security": "امنیت غذایی",
        "cash": "کمک نقدی",
        "legal_aid": "مشاوره حقوقی",
        "psychosocial": "حمایت روانی-اجتماعی",
        "administrative_services": "خدمات اداری",
        "coordination": "هماهنگی",
    }
    assert codes.CODE_LISTS["sectors"] is codes.SECTORS


# --- JSON Schema --------------------------------------------------------------------------


def test_the_committed_json_schemas_are_up_to_date() -> None:
    expected = jsonschema.render()
    committed = {p.name: p.read_text(encoding="utf-8") for p in jsonschema.JSON_DIR.glob("*.json")}
    stale = sorted(
        name
        for name in expected.keys() | committed.keys()
        if expected.get(name) != committed.get(name)
    )
    assert not stale, (
        f"schemas/json is stale ({', '.join(stale)}): run `python -m schemas.jsonschema`"
    )


def test_there_is_one_json_schema_per_event_type_and_version() -> None:
    generated = jsonschema.generate()
    assert set(generated) == {f"{name}.v1" for name in CONTRACT_V1_TYPES}
    for key, schema in generated.items():
        assert schema["title"] == key.split(".")[0]
        assert schema["additionalProperties"] is False
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_envelope_schema_dispatches_on_type() -> None:
    schema = jsonschema.envelope_schema()
    (array,) = [s for s in schema["anyOf"] if s.get("type") == "array"]
    (single,) = [s for s in schema["anyOf"] if "discriminator" in s]
    assert array["items"] == {k: single[k] for k in ("anyOf", "discriminator")}
    assert single["discriminator"]["propertyName"] == "type"
    assert set(single["discriminator"]["mapping"]) == set(CONTRACT_V1_TYPES)


# --- canonical JSON ------------------------------------------------------------------------

PERSIAN = "کلاس‌های سوادآموزی برای دختران\nدر «گل‌تپه» — ۵۹ نفر 👩‍🏫"


def persian_sample(type_name: str) -> dict[str, Any]:
    """The type's example with every free text in Persian, control characters included."""
    data = BUILDERS[type_name]()
    for name in ("reason", "note", "summary", "description", "notes", "activity", "name_fa"):
        if name in data:
            data[name] = PERSIAN if name not in ("activity", "name_fa") else "سوادآموزی\t"
    return data


@pytest.mark.parametrize("type_name", CONTRACT_V1_TYPES)
def test_encoding_any_event_with_sorted_keys_is_rfc_8785_canonical_json(type_name: str) -> None:
    for sample in (BUILDERS[type_name](), persian_sample(type_name)):
        encoded = canonical.encode(decode(type_name, sample))
        assert encoded == rfc8785.dumps(json.loads(encoded))


def test_receipts_logged_events_and_extreme_values_are_canonical_too() -> None:
    beneficiaries = cells(("f", "0-4", 2**53 - 1), ("x", "unknown", 0))
    data = decode(
        "ServiceDelivered", persian_sample("ServiceDelivered") | {"beneficiaries": beneficiaries}
    )
    receipt = Receipt(
        id=uuid.uuid4(),
        type="ServiceDelivered",
        stream=stream_of("ServiceDelivered", data),
        version=1,
        position=2**53 - 1,
        recorded_at=RECORDED,
        hash=HASH,
    )
    logged = LoggedEvent(
        id=receipt.id,
        type=receipt.type,
        stream=receipt.stream,
        version=receipt.version,
        position=receipt.position,
        recorded_at=receipt.recorded_at,
        recorded_by=RecordedBy(principal="nrc-client", role="partner", partner_id="nrc"),
        data=msgspec.Raw(canonical.encode(data)),
        hash=receipt.hash,
    )
    minimal = PartnerRegistered(partner_id="nrc", name_fa="ن", name_en="N", kind="donor")
    for value in (data, receipt, logged, minimal):
        encoded = canonical.encode(value)
        assert encoded == rfc8785.dumps(json.loads(encoded))
