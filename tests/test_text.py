"""Text the log accepts (schemas.text), checked on the contract's Structs: every free-text
field refuses each refused class and keeps Persian text as it is; no identifier takes
U+0000 or a trailing newline; what an older version stored still decodes. No database."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import msgspec
import pytest

from schemas.events import EVENT_TYPES, MeetingHeld, Participant, ServiceDelivered
from schemas.stored import StoredDecoder
from schemas.text import TEXT_PATTERN, refused_characters, storable
from server.projections.decoding import decode as decode_for_projections
from tests.builders import BUILDERS
from tests.text_cases import (
    ACCEPTED,
    REFUSED,
    dotted,
    free_text_fields,
    refused_samples,
    visible,
    with_text,
)

FIELDS = free_text_fields()


def decode(type_name: str, data: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(data), type=EVENT_TYPES[type_name])


def test_the_free_text_fields_are_the_contracts() -> None:
    names = {str(path[0]) for _, path in FIELDS}
    assert names == {
        "name_fa",
        "name_en",
        "province",
        "county",
        "reason",
        "description",
        "agreement_ref",
        "activity",
        "notes",
        "title_fa",
        "title_en",
        "participants",
        "summary",
        "challenges",
        "description_fa",
        "description_en",
        "note",
    }
    assert ("MeetingHeld", ("participants", 0, "person")) in FIELDS
    assert ("MeetingHeld", ("participants", 0, "role")) in FIELDS
    assert ("ReportPresented", ("challenges", 0)) in FIELDS


@pytest.mark.parametrize(("type_name", "path"), FIELDS, ids=[f"{t}.{dotted(p)}" for t, p in FIELDS])
def test_every_free_text_field_refuses_every_refused_class(type_name: str, path: Any) -> None:
    for kind, text in refused_samples():
        with pytest.raises(msgspec.ValidationError) as refused:
            decode(type_name, with_text(type_name, path, text))
        where = dotted(path).removeprefix("data.")
        assert f"`$.{where}`" in str(refused.value), (kind, visible(text))


@pytest.mark.parametrize(("type_name", "path"), FIELDS, ids=[f"{t}.{dotted(p)}" for t, p in FIELDS])
def test_every_free_text_field_keeps_persian_text_as_it_is(type_name: str, path: Any) -> None:
    for text in ACCEPTED.values():
        data = with_text(type_name, path, text)
        stored = json.loads(msgspec.json.encode(decode(type_name, data)))
        node: Any = stored
        for step in path:
            node = node[step]
        assert node == text


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u3000"])
def test_blank_text_is_still_refused(blank: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode("ChallengeReported", BUILDERS["ChallengeReported"](description=blank))


def _string_leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _string_leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _string_leaves(v, (*path, i))]
    return []


def _replaced(data: Any, path: tuple[Any, ...], value: str) -> Any:
    copied = json.loads(json.dumps(data))
    node = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copied


@pytest.mark.parametrize("type_name", list(EVENT_TYPES))
def test_no_string_of_any_event_takes_nul_or_a_trailing_newline(type_name: str) -> None:
    """Ids, slugs, codes, months, money and dates included: each string of the example,
    with U+0000 appended or with a final LF (Python's `$` matched before one)."""
    example = BUILDERS[type_name]()
    leaves = _string_leaves(example)
    assert leaves
    for path in leaves:
        node: Any = example
        for step in path:
            node = node[step]
        bad = [node + "\x00", "\x00" + node]
        if not re.search(TEXT_PATTERN, node):  # a final newline is text, not an identifier
            bad.append(node + "\n")
        for value in bad:
            with pytest.raises(msgspec.ValidationError):
                decode(type_name, _replaced(example, path, value))


def test_the_text_rule_takes_linear_time() -> None:
    """The first form of the pattern backtracked: 0.2 s for 4,000 spaces, per field."""
    pattern = re.compile(TEXT_PATTERN)
    started = time.perf_counter()
    for text in (" " * 4000, "a" * 3999 + "\x00", " a" * 2000 + "\u202e", "\x00" * 4000):
        assert pattern.search(text) is None
    assert time.perf_counter() - started < 0.05


def test_storable_text_replaces_each_refused_character_and_nothing_else() -> None:
    for _kind, text in refused_samples():
        assert storable(text) == "ok \ufffd ok"
        assert len(refused_characters(text)) == 1
    for text in ACCEPTED.values():
        assert storable(text) == text and refused_characters(text) == []


# --- what an older version stored --------------------------------------------------------


def test_a_stored_event_the_contract_now_refuses_decodes_as_the_contracts_struct() -> None:
    poison = "".join(c for chars in REFUSED.values() for c in chars)
    data = BUILDERS["MeetingHeld"](title_fa=f"a{poison}b", summary="")
    data["participants"][0]["person"] = "\x00"
    raw = msgspec.json.encode(data)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw, type=MeetingHeld)
    read = StoredDecoder(MeetingHeld).decode(raw)
    assert type(read) is MeetingHeld and type(read.participants[0]) is Participant
    assert read.title_fa == f"a{poison}b" and read.summary == ""
    assert read.participants[0].person == "\x00"
    # the canonical bytes are the ones stored: nothing was lost on the way
    assert msgspec.json.Encoder(order="sorted").encode(read) == msgspec.json.Encoder(
        order="sorted"
    ).encode(msgspec.json.decode(raw))


def test_types_and_codes_still_hold_for_stored_events() -> None:
    data = BUILDERS["ServiceDelivered"](sector="astrology")
    with pytest.raises(msgspec.ValidationError):
        StoredDecoder(ServiceDelivered).decode(msgspec.json.encode(data))


def test_projections_read_stored_text_in_its_storable_form() -> None:
    data = BUILDERS["ServiceDelivered"](activity="nul\x00byte", notes="\u202eevil")
    entry = msgspec.json.encode({"data": data})
    event = decode_for_projections((7, "ServiceDelivered", 1, None, entry))  # type: ignore[arg-type]
    assert type(event.data) is ServiceDelivered
    assert (event.data.activity, event.data.notes) == ("nul\ufffdbyte", "\ufffdevil")
