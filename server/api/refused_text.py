"""The problem message for a free-text field the log refuses: msgspec reports the text
rule's regex, unreadable to a partner; this names the refused characters instead."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from schemas.text import TEXT_PATTERN, TEXT_RULE, refused_characters

_STEP = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _value_at(body: bytes, path: str) -> Any:
    """The value at a msgspec error path (`[1].data.participants[0].person`), or None."""
    try:
        value: Any = msgspec.json.decode(body)
        for index, key in _STEP.findall(path):
            value = value[int(index)] if index else value[key]
    except (msgspec.DecodeError, LookupError, TypeError, ValueError):
        return None
    return value


def explain(message: str, path: str, body: bytes) -> str:
    """`message` itself, unless it is the text rule's mismatch: then what is wrong with
    the text at `path` in the user's words."""
    if repr(TEXT_PATTERN) not in message:  # msgspec quotes the pattern with repr()
        return message
    value = _value_at(body, path)
    if isinstance(value, str):
        found = refused_characters(value)
        if found:
            shown = ", ".join(dict.fromkeys(found))
            return f"the text holds {shown}, which the log refuses. {TEXT_RULE}"
        return "the text is blank"
    return TEXT_RULE
