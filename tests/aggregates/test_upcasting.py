"""Old event versions stay readable: a v1 event stored long ago is upcast, on replay,
into the shape its event class has now (v2). The aggregate here exists only for this."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

import msgspec
from eventsourcing.domain import event

from schemas.events import EventData
from server.aggregates.base import HamkariAggregate
from server.aggregates.mapping import ContractMapper, MsgspecTranscoder, to_contract
from server.eventstore import canonical_json
from tests.aggregates.gwt import stored_event


class NotebookOpened(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    stream_field: ClassVar[str | None] = "notebook_id"

    notebook_id: uuid.UUID


class NoteAddedV1(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """v1: one text, implicitly in English."""

    stream_field: ClassVar[str | None] = "notebook_id"

    notebook_id: uuid.UUID
    text: str


class NoteAddedV2(EventData, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """v2: the text is tagged with its language (a field whose type changes: a new version)."""

    stream_field: ClassVar[str | None] = "notebook_id"

    notebook_id: uuid.UUID
    text: dict[str, str]


class Notebook(HamkariAggregate):
    @event("NotebookOpened")
    def __init__(self, id: str, data: NotebookOpened) -> None:
        self.notes: list[dict[str, str]] = []

    class NoteAdded(HamkariAggregate.Event):
        class_version = 2
        data: NoteAddedV2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            old = state["data"]
            state["data"] = NoteAddedV2(notebook_id=old.notebook_id, text={"en": old.text})

    @event(NoteAdded)
    def add_note(self, data: NoteAddedV2) -> None:
        self.notes.append(dict(data.text))


NOTEBOOK = uuid.UUID("9e8d7c6b-5a49-4382-a716-f5e4d3c2b1a0")
STREAM = f"notebook-{NOTEBOOK}"
WHEN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)

mapper = ContractMapper(
    aggregates={"NotebookOpened": Notebook, "NoteAdded": Notebook},
    transcoder=MsgspecTranscoder(
        {
            ("NotebookOpened", 1): NotebookOpened,
            ("NoteAdded", 1): NoteAddedV1,
            ("NoteAdded", 2): NoteAddedV2,
        }
    ),
)


def opened() -> Any:
    data = canonical_json(NotebookOpened(notebook_id=NOTEBOOK))
    return stored_event("NotebookOpened", 1, STREAM, 1, data, WHEN)


def test_v1_event_is_upcast_to_v2_on_replay() -> None:
    v1 = canonical_json(NoteAddedV1(notebook_id=NOTEBOOK, text="Ask about transport"))
    old = stored_event("NoteAdded", 1, STREAM, 2, v1, WHEN)

    domain_event = mapper.to_domain_event(old)
    assert domain_event.data == NoteAddedV2(  # type: ignore[attr-defined]
        notebook_id=NOTEBOOK, text={"en": "Ask about transport"}
    )
    notebook = mapper.replay([opened(), old])
    assert isinstance(notebook, Notebook)
    assert notebook.notes == [{"en": "Ask about transport"}]
    assert notebook.version == 2


def test_v2_event_is_read_as_it_is() -> None:
    v2 = canonical_json(NoteAddedV2(notebook_id=NOTEBOOK, text={"fa": "حمل و نقل"}))
    notebook = mapper.replay([opened(), stored_event("NoteAdded", 2, STREAM, 2, v2, WHEN)])
    assert isinstance(notebook, Notebook)
    assert notebook.notes == [{"fa": "حمل و نقل"}]


def test_new_events_are_stored_at_the_current_version() -> None:
    notebook = mapper.replay([opened()])
    assert isinstance(notebook, Notebook)
    notebook.add_note(NoteAddedV2(notebook_id=NOTEBOOK, text={"en": "Call back"}))
    [added] = notebook.collect_events()
    type_name, version, data = to_contract(added)
    assert (type_name, version) == ("NoteAdded", 2)
    assert msgspec.json.decode(data, type=NoteAddedV2).text == {"en": "Call back"}

    replayed = mapper.replay([opened(), stored_event(type_name, version, STREAM, 2, data, WHEN)])
    assert replayed is not None and replayed.notes == notebook.notes  # type: ignore[attr-defined]
