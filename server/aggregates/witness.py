"""The Witness aggregate: a party's key that may cosign the log's checkpoints, from its
registration until it is retired. The set of witnesses is part of the record."""

from __future__ import annotations

from eventsourcing.domain import event

from schemas import events
from server.aggregates.base import AlreadyExists, HamkariAggregate, NotFound, RuleBroken
from server.aggregates.context import Context
from server.aggregates.partner import partner_stream, registered_partner
from server.audit.cosignature import CosignerKey
from server.audit.signing import NoteError


class UnknownWitness(NotFound):
    rule = "unknown-witness"


class WitnessAlreadyRegistered(AlreadyExists):
    """The name is taken, by a live or a retired witness: names are never reused, so a
    cosignature's name always means one key."""

    rule = "witness-already-registered"


class WitnessKeyInvalid(RuleBroken):
    """The verifier key is not an Ed25519 cosignature/v1 key named like the witness."""

    rule = "witness-key-invalid"


class WitnessAlreadyRetired(RuleBroken):
    rule = "witness-already-retired"


def witness_stream(name: str) -> str:
    return f"witness-{name}"


class Witness(HamkariAggregate):
    """A witness's name and verifier key; `retired` once its cosignatures are refused."""

    @event("WitnessRegistered")
    def __init__(self, id: str, data: events.WitnessRegistered) -> None:
        self.witness_name: str = data.witness_name
        self.verifier_key: str = data.verifier_key
        self.partner_id: str | None = data.partner_id
        self.retired: bool = False

    @classmethod
    def register(cls, data: events.WitnessRegistered, ctx: Context) -> Witness:
        try:
            key = CosignerKey.from_vkey(data.verifier_key)
        except NoteError as exc:
            raise WitnessKeyInvalid(str(exc)) from None
        if key.name != data.witness_name:
            raise WitnessKeyInvalid(
                f"the verifier key is named {key.name!r}, the witness {data.witness_name!r}"
            )
        if data.partner_id is not None:
            registered_partner(ctx, data.partner_id)
        return cls(id=witness_stream(data.witness_name), data=data)

    @staticmethod
    def streams_to_register(data: events.WitnessRegistered) -> list[str]:
        return [] if data.partner_id is None else [partner_stream(data.partner_id)]

    @property
    def key(self) -> CosignerKey:
        return CosignerKey.from_vkey(self.verifier_key)

    def retire(self, data: events.WitnessRetired) -> None:
        if self.retired:
            raise WitnessAlreadyRetired(f"witness {self.witness_name} is already retired")
        self._retire(data)

    @event("WitnessRetired")
    def _retire(self, data: events.WitnessRetired) -> None:
        self.retired = True
