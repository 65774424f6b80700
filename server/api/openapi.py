"""OpenAPI pieces litestar cannot infer: the POST /v1/events body, which the handler
decodes itself so that validation errors carry full paths (`data.beneficiaries.women`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, Operation, Reference, RequestBody, Schema

from schemas.envelope import EventBody

REF = "#/components/schemas/{name}"


def _to_schema(node: Any) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return Reference(ref=node["$ref"])
        return node
    return node


def event_body_components() -> dict[str, Schema | Reference]:
    (root,), components = msgspec.json.schema_components([EventBody], ref_template=REF)
    out: dict[str, Any] = {name: _schema_from_dict(value) for name, value in components.items()}
    out["EventBody"] = _schema_from_dict(root)
    return out


def _schema_from_dict(value: dict[str, Any]) -> Schema:
    # litestar's Schema accepts the JSON Schema keywords msgspec emits; nested
    # dictionaries pass through as they are when rendered
    allowed = {f for f in Schema.__dataclass_fields__}
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        name = {"$ref": "ref"}.get(key, key)
        snake = "".join("_" + c.lower() if c.isupper() else c for c in name)
        if snake in allowed:
            kwargs[snake] = _convert(item)
    return Schema(**kwargs)


def _convert(item: Any) -> Any:
    if isinstance(item, dict):
        if set(item) == {"$ref"}:
            return Reference(ref=item["$ref"])
        if any(k in item for k in ("type", "anyOf", "oneOf", "properties", "enum", "$ref")):
            return _schema_from_dict(item)
        return {k: _convert(v) for k, v in item.items()}
    if isinstance(item, list):
        return [_convert(v) for v in item]
    return item


@dataclass
class PostEventsOperation(Operation):
    """The operation for POST /v1/events, with its request body declared."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="One event, or an array of up to 1,000 events appended atomically.",
            content={
                "application/json": OpenAPIMediaType(
                    schema=Reference(ref=REF.format(name="EventBody"))
                )
            },
        )


def install_event_body_schema(app: Any) -> None:
    """Add the EventBody components to the app's generated document.

    litestar replaces `components.schemas` with what it generated itself, and its
    plugin has slots, so the merge wraps the plugin class's build once; it only adds
    what an app put in `state.extra_openapi_components` (a test checks the result)."""
    from litestar._openapi.plugin import OpenAPIPlugin

    app.state.extra_openapi_components = event_body_components()
    if getattr(OpenAPIPlugin, "_hamkari_wrapped", False):
        return
    build = OpenAPIPlugin._build_openapi

    def build_with_extra_components(self: Any) -> Any:
        openapi = build(self)
        extra = self.app.state.get("extra_openapi_components")
        if extra:
            openapi.components.schemas.update(extra)
        return openapi

    OpenAPIPlugin._build_openapi = build_with_extra_components  # type: ignore[method-assign]
    OpenAPIPlugin._hamkari_wrapped = True  # type: ignore[attr-defined]
