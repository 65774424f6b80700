"""Text the log accepts, as cases the suite walks: one sample of each refused class, the
accepted oddities, and every free-text field of every event type (found in the Structs,
so a new text field is walked without anyone adding it here)."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec

from schemas.events import EVENT_TYPES
from schemas.text import TEXT_PATTERN
from tests.builders import BUILDERS

#: class of refused text -> characters of it (each is refused alone, inside a text)
REFUSED: dict[str, tuple[str, ...]] = {
    "nul": ("\x00",),
    "c0": ("\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f"),
    "del-c1": ("\x7f", "\x80", "\x85", "\x9f"),
    "noncharacter": ("\ufdd0", "\ufdef", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff"),
    "bidi-override": ("\u202d", "\u202e"),
}

#: accepted oddities: Persian and Arabic script with the joiners and marks it needs
ACCEPTED: dict[str, str] = {
    "zwnj": "می\u200cخواهم",
    "zwj": "ل\u200dا",
    "lrm-rlm": "\u200fگزارش\u200e NRC \u200f۱۴۰۴",
    "persian": "کلاس‌های سوادآموزی برای دختران در «گل‌تپه» — ۵۹ نفر",
    "arabic": "المفوضية السامية للأمم المتحدة لشؤون اللاجئين",
    "emoji": "👩‍🏫 🇮🇷 👍🏾",
    "tab-lf-cr": "line one\tcol\r\nline two\n",
    "replacement-character": "already \ufffd here",
    "long": "ن" * 300,
}

Path = tuple[str | int, ...]


def _is_free_text(tp: Any) -> bool:
    if get_origin(tp) is Annotated:
        base, *metas = get_args(tp)
        return base is str and any(
            isinstance(m, msgspec.Meta) and m.pattern == TEXT_PATTERN for m in metas
        )
    return False


def _text_paths(tp: Any, prefix: Path) -> list[Path]:
    """Paths to the free-text values inside a value of type `tp`."""
    if _is_free_text(tp):
        return [prefix]
    origin = get_origin(tp)
    if origin is Annotated:
        return _text_paths(get_args(tp)[0], prefix)
    if origin is Union or type(tp).__name__ == "UnionType":
        return [p for arg in get_args(tp) for p in _text_paths(arg, prefix)]
    if origin is tuple:
        return _text_paths(get_args(tp)[0], (*prefix, 0))
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return [
            p
            for f in msgspec.structs.fields(tp)
            for p in _text_paths(f.type, (*prefix, f.encode_name))
        ]
    return []


def free_text_fields() -> list[tuple[str, Path]]:
    """(event type, path inside `data`) of every free-text value."""
    return [(name, path) for name, cls in EVENT_TYPES.items() for path in _text_paths(cls, ())]


def dotted(path: Path) -> str:
    """A path as problem details write it: `data.participants[0].person`."""
    out = "data"
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else f".{step}"
    return out


def with_text(type_name: str, path: Path, value: str, **overrides: Any) -> dict[str, Any]:
    """The type's valid example with `value` at `path` (a list is given one item)."""
    data = copy.deepcopy(BUILDERS[type_name](**overrides))
    node: Any = data
    for step, following in itertools.pairwise(path):
        if isinstance(step, int):
            while len(node) <= step:
                node.append({} if isinstance(following, str) else "x")
            node = node[step]
        else:
            if node.get(step) is None or node.get(step) == []:
                node[step] = [] if isinstance(following, int) else {}
            node = node[step]
    last = path[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append("x")
    node[last] = value
    return data


def refused_samples() -> list[tuple[str, str]]:
    """(class, a text holding one refused character of it), for every listed character."""
    return [(name, f"ok {char} ok") for name, chars in REFUSED.items() for char in chars]


def visible(text: str) -> str:
    """A test id that shows refused characters as code points."""
    return re.sub(r"[^\x20-\x7e]", lambda m: f"U+{ord(m.group()):04X}", text)
