"""JSON Schema for every event type and version, and for the request envelope, generated
from the Structs with `msgspec.json.schema_components`; `python -m schemas.jsonschema`
writes them to `schemas/json/`, where a test checks they are not stale."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import msgspec

from schemas.envelope import EventBody
from schemas.events import EVENT_TYPES, SCHEMA_VERSIONS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
JSON_DIR = Path(__file__).parent / "json"
ENVELOPE = "envelope"


def _clean(node: Any) -> Any:
    """Docstrings become descriptions; strip their source indentation (inspect.cleandoc)."""
    if isinstance(node, dict):
        return {
            k: inspect.cleandoc(v) if k == "description" and isinstance(v, str) else _clean(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def _document(root: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    doc = {"$schema": DIALECT, **root}
    if components:
        doc["$defs"] = components
    cleaned: dict[str, Any] = _clean(doc)
    return cleaned


def generate() -> dict[str, dict[str, Any]]:
    """`{Type}.v{N}` -> the standalone JSON Schema of that event type's `data`."""
    schemas: dict[str, dict[str, Any]] = {}
    for name, cls in EVENT_TYPES.items():
        _, components = msgspec.json.schema_components([cls])
        root = components.pop(cls.__name__)
        schemas[f"{name}.v{SCHEMA_VERSIONS[name]}"] = _document(root, components)
    return schemas


def envelope_schema() -> dict[str, Any]:
    """The JSON Schema of a POST /v1/events body: one event or an array of them."""
    (root,), components = msgspec.json.schema_components([EventBody])
    described = {
        "title": "Events to append",
        "description": "One event, or an array of up to 1,000 appended atomically.",
        **root,
    }
    return _document(described, components)


def render() -> dict[str, str]:
    """File name -> file text of everything under `schemas/json/`."""
    documents = {**generate(), ENVELOPE: envelope_schema()}
    return {
        f"{name}.json": json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, doc in documents.items()
    }


def write(directory: Path = JSON_DIR) -> list[Path]:
    """Write every schema file and remove JSON files no longer generated."""
    directory.mkdir(parents=True, exist_ok=True)
    files = render()
    for stale in directory.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path)
