"""Reading back what the log holds: a decoder that gives the contract's own Structs for
any stored event, including one an older version accepted and this one would refuse.

The contract's constraints (text rules, patterns, lengths, bounds) judge what comes in;
the log never forgets what it once took (an older version accepted U+0000 in text). So
a stored event is decoded with the contract's Struct first, the path every event this
version accepted takes; only when that refuses it is it decoded through a twin of each
Struct with the annotated constraints dropped (types, codes and shapes still hold),
then rebuilt as the contract's Struct without validation."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

import msgspec

T = TypeVar("T")

# contract Struct -> its twin without constraints, and back
_TWINS: dict[type[msgspec.Struct], type[msgspec.Struct]] = {}
_CONTRACT_OF: dict[type[msgspec.Struct], type[msgspec.Struct]] = {}


def unconstrained(tp: Any) -> Any:
    """`tp` with every `Annotated[..., Meta(...)]` inside it reduced to its bare type and
    every Struct replaced by its unconstrained twin."""
    origin = get_origin(tp)
    if origin is Annotated:
        return unconstrained(get_args(tp)[0])
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _twin(tp)
    if origin in (Union, types.UnionType):
        return Union[tuple(unconstrained(arg) for arg in get_args(tp))]  # noqa: UP007
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple[unconstrained(args[0]), ...]  # type: ignore[misc]
        return tuple[tuple(unconstrained(arg) for arg in args)]  # type: ignore[misc]
    if origin is list:
        return list[unconstrained(get_args(tp)[0])]  # type: ignore[misc]
    return tp


def _twin(cls: type[msgspec.Struct]) -> type[msgspec.Struct]:
    found = _TWINS.get(cls)
    if found is not None:
        return found
    fields: list[Any] = []
    for f in msgspec.structs.fields(cls):
        relaxed = unconstrained(f.type)
        if f.default is not msgspec.NODEFAULT:
            fields.append((f.name, relaxed, f.default))
        elif f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, relaxed, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((f.name, relaxed))
    config = cls.__struct_config__
    twin = msgspec.defstruct(
        f"Stored{cls.__name__}",
        fields,
        kw_only=True,
        frozen=config.frozen,
        # a stored event is read as it is; extra fields are ignored, not refused
        forbid_unknown_fields=False,
        tag=config.tag,
        tag_field=config.tag_field,
        rename={f.name: f.encode_name for f in msgspec.structs.fields(cls)},
        module=__name__,
    )
    _TWINS[cls] = twin
    _CONTRACT_OF[twin] = cls
    return twin


def _identity(text: str) -> str:
    return text


def adopt(value: Any, text: Callable[[str], str] = _identity) -> Any:
    """A value decoded through twins, rebuilt of the contract's Structs (constructing a
    Struct validates nothing), with `text` applied to every string in it."""
    if isinstance(value, str):
        return text(value)
    contract = _CONTRACT_OF.get(type(value))
    if contract is not None:
        return contract(
            **{name: adopt(getattr(value, name), text) for name in value.__struct_fields__}
        )
    if isinstance(value, tuple):
        return tuple(adopt(item, text) for item in value)
    if isinstance(value, list):
        return [adopt(item, text) for item in value]
    return value


class StoredDecoder(Generic[T]):
    """Decodes stored JSON into `tp`: validated when the value passes the contract, else
    through the unconstrained twin. `text` maps every string of a value that took the
    second path (the first path's strings already passed the text rule)."""

    def __init__(self, tp: type[T], text: Callable[[str], str] = _identity) -> None:
        self._strict: msgspec.json.Decoder[T] = msgspec.json.Decoder(tp)
        self._lenient: msgspec.json.Decoder[Any] = msgspec.json.Decoder(unconstrained(tp))
        self._text = text

    def decode(self, raw: bytes | msgspec.Raw) -> T:
        try:
            return self._strict.decode(raw)
        except msgspec.ValidationError:
            adopted: T = adopt(self._lenient.decode(raw), self._text)
            return adopted
