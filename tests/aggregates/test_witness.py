"""Witnesses: registered once under a name with a cosignature/v1 key of that name,
optionally for a registered partner; retired once, for good."""

from __future__ import annotations

from server.aggregates.partner import UnknownPartner
from server.aggregates.witness import (
    UnknownWitness,
    WitnessAlreadyRegistered,
    WitnessAlreadyRetired,
    WitnessKeyInvalid,
)
from server.audit.cosignature import CosignerKey
from server.audit.signing import Verifier
from tests import builders as b
from tests.aggregates.gwt import given, registered


def test_a_witness_is_registered_for_a_partner() -> None:
    world = registered()
    world.when("WitnessRegistered", b.witness_registered(partner_id="nrc")).then()
    witness = world["witness-witness.nrc.no"]
    assert (witness.partner_id, witness.retired) == ("nrc", False)
    assert witness.key.vkey == b.WITNESS_VKEY


def test_a_witness_name_is_never_taken_twice_even_after_retirement() -> None:
    world = given(
        ("WitnessRegistered", b.witness_registered()), ("WitnessRetired", b.witness_retired())
    )
    world.when("WitnessRegistered", b.witness_registered()).then_rejected(WitnessAlreadyRegistered)


def test_the_key_must_be_a_cosignature_key_of_the_witness_name() -> None:
    other_name = CosignerKey("someone.else", bytes(32)).vkey
    plain_note_key = Verifier(b.WITNESS, bytes(32)).vkey  # type 0x01: a log's key, not a witness's
    for key in (other_name, plain_note_key, b.WITNESS_VKEY.replace("+abbda363+", "+00000000+")):
        outcome = given().when("WitnessRegistered", b.witness_registered(verifier_key=key))
        outcome.then_rejected(WitnessKeyInvalid)


def test_the_partner_running_it_must_be_registered() -> None:
    outcome = given().when("WitnessRegistered", b.witness_registered(partner_id="unhcr"))
    outcome.then_rejected(UnknownPartner)


def test_a_witness_is_retired_once() -> None:
    world = given(("WitnessRegistered", b.witness_registered()))
    world.when("WitnessRetired", b.witness_retired()).then()
    assert world["witness-witness.nrc.no"].retired
    world.when("WitnessRetired", b.witness_retired()).then_rejected(WitnessAlreadyRetired)


def test_an_unknown_witness_cannot_be_retired() -> None:
    given().when("WitnessRetired", b.witness_retired()).then_rejected(UnknownWitness)
