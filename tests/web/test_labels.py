"""The dashboard's words, checked without a browser: every event type the contract has
is named in both languages, so no page shows a contract name raw in Persian."""

from __future__ import annotations

import pytest

from schemas.events import EVENT_TYPES
from server.web.labels import LABELS


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_every_event_type_has_words_in_both_languages(type_name: str) -> None:
    fa, en = LABELS[f"event_{type_name}"]
    assert fa.strip() and en.strip()
    assert type_name not in fa
