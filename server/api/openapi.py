"""OpenAPI pieces litestar cannot infer: the POST /v1/events body, which the handler
decodes itself so that validation errors carry full paths (`data.beneficiaries.women`),
and the errors, which are all RFC 9457 `application/problem+json` documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)

from schemas.envelope import EventBody
from schemas.imports import ImportReport
from schemas.problems import Problem

REF = "#/components/schemas/{name}"
TEXT = Schema(type=OpenAPIType.STRING)


def _to_schema(node: Any) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return Reference(ref=node["$ref"])
        return node
    return node


# the errors any operation may answer, beyond those litestar documents itself
COMMON_ERRORS = {
    "400": "The query or path is malformed.",
    "503": "The database is unreachable for now; retry after `Retry-After` seconds.",
}
AUTHENTICATED_ERRORS = {
    "401": "No token, or a token that is unknown or revoked.",
    "403": "The token's role or partner may not do this.",
    "429": "Too many requests for this token; retry after `Retry-After` seconds.",
}
PATH_ERRORS = {"404": "Nothing at this path."}
POST_EVENT_ERRORS = {
    "409": "An expected version does not match, or an event id was reused with other "
    "content; `current_version` says the stream's version.",
    "413": "The body or the batch is too large.",
    "415": "The body is not `application/json`.",
    "422": "The event breaks a rule; `type` names it (`.../rules/<slug>`).",
}
IMPORT_ERRORS = {
    "400": "The file is not the CSV or XLSX it claims, or is damaged.",
    "413": "The body is too large, or the file holds more than 10,000 rows.",
    "415": "The body is neither `text/csv` nor an XLSX workbook.",
    "422": "Rows with errors: the import's answer with `type`, `title`, `status` and "
    "`detail`; each error names its row, column and rule. Nothing was appended.",
}
CSV_MEDIA = "text/csv"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PUBLIC_OPERATIONS = ("/health", "/ready", "/metrics", "/schema", "/v1/codes", "/v1/schemas")


def event_body_components() -> dict[str, Schema | Reference]:
    (root,), components = msgspec.json.schema_components([EventBody], ref_template=REF)
    out: dict[str, Any] = {name: _schema_from_dict(value) for name, value in components.items()}
    out["EventBody"] = _schema_from_dict(root)
    # Problem has no nested Structs but ProblemError: both land in the components, with
    # an import's answer and what it holds
    _, problem_components = msgspec.json.schema_components(
        [Problem, ImportReport], ref_template=REF
    )
    out.update({name: _schema_from_dict(value) for name, value in problem_components.items()})
    return out


def document_problems(openapi: OpenAPI) -> None:
    """Declare every error response as `application/problem+json` with the Problem schema.

    litestar documents its own 400s as `application/json` with a schema of its own;
    Hamkari answers every error with a Problem (server/api/problems.py)."""
    problem = OpenAPIMediaType(schema=Reference(ref=REF.format(name="Problem")))
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            errors = dict(COMMON_ERRORS)
            if not path.startswith(PUBLIC_OPERATIONS):
                errors |= AUTHENTICATED_ERRORS
            if "{" in path:
                errors |= PATH_ERRORS
            if path == "/v1/events" and method == "post":
                errors |= POST_EVENT_ERRORS
            if path == "/v1/imports" and method == "post":
                errors |= IMPORT_ERRORS
            responses = dict(operation.responses or {})
            for status, description in errors.items():
                responses.setdefault(status, OpenAPIResponse(description=description))
            responses.setdefault(
                "default", OpenAPIResponse(description="Any other error, as a problem document.")
            )
            ok = responses.get("200")
            if path.startswith("/v1/reports/") and isinstance(ok, OpenAPIResponse):
                # `?format=csv|hxl` answers the same report as CSV
                ok.content = {**(ok.content or {}), "text/csv": OpenAPIMediaType(schema=TEXT)}
            for status, response in responses.items():
                is_error = status == "default" or int(status) >= 400
                if is_error and isinstance(response, OpenAPIResponse):
                    response.content = {"application/problem+json": problem}
            operation.responses = responses


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


def _spreadsheet(description: str) -> dict[str, OpenAPIMediaType]:
    text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, description=description))
    binary = OpenAPIMediaType(
        schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=description)
    )
    return {CSV_MEDIA: text, XLSX_MEDIA: binary}


@dataclass
class ImportTemplateOperation(Operation):
    """GET /v1/imports/templates/{type_name}: a CSV or an XLSX file, not JSON."""

    def __post_init__(self) -> None:
        self.responses = {
            "200": OpenAPIResponse(
                description="The template, as `?format=` asks.",
                content=_spreadsheet("a template: labels, HXL hashtags, example rows"),
            )
        }


@dataclass
class ImportOperation(Operation):
    """POST /v1/imports: the body is the file itself."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="The spreadsheet: one row per event, header row first.",
            content=_spreadsheet("a CSV (UTF-8) or XLSX file of up to 10,000 rows"),
        )
        answer = OpenAPIMediaType(schema=Reference(ref=REF.format(name="ImportReport")))
        self.responses = {
            "200": OpenAPIResponse(
                description="A dry run, or a file whose rows were all already recorded.",
                content={"application/json": answer},
            ),
            "201": OpenAPIResponse(
                description="Appended: one receipt per event in `receipts`.",
                content={"application/json": answer},
            ),
        }


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
            document_problems(openapi)
        return openapi

    OpenAPIPlugin._build_openapi = build_with_extra_components  # type: ignore[method-assign]
    OpenAPIPlugin._hamkari_wrapped = True  # type: ignore[attr-defined]
