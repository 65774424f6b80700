"""The contract, readable by machines: JSON Schema per event type and version, and the
code lists (sectors, kinds, population groups, ...) with Persian and English labels."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from litestar import Controller, get
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter, QueryParameter

from schemas.codes import CODE_LISTS, Code
from schemas.events import SCHEMA_VERSIONS
from schemas.jsonschema import envelope_schema, generate


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    return generate()


class ContractController(Controller):
    path = "/v1"
    tags = ["contract"]

    @get("/schemas", operation_id="listSchemas", summary="Event types and their versions")
    async def list_schemas(self) -> dict[str, int]:
        """Every event type with its current schema version."""
        return dict(SCHEMA_VERSIONS)

    @get(
        "/schemas/{type_name:str}",
        operation_id="eventSchema",
        summary="An event type's JSON Schema",
    )
    async def event_schema(
        self,
        type_name: Annotated[str, PathParameter(description="An event type, or `envelope`.")],
        version: Annotated[
            int | None,
            QueryParameter(ge=1, le=1000, description="A schema version; default the latest."),
        ] = None,
    ) -> dict[str, Any]:
        """The JSON Schema of an event type's `data` (latest version unless `version`).
        `envelope` gives the schema of a POST /v1/events body."""
        if type_name == "envelope":
            return envelope_schema()
        latest = SCHEMA_VERSIONS.get(type_name)
        if latest is None:
            raise NotFoundException(f"no event type {type_name!r}")
        schema = _schemas().get(f"{type_name}.v{version or latest}")
        if schema is None:
            raise NotFoundException(f"{type_name} has no schema version {version}")
        return schema

    @get("/codes", operation_id="listCodeLists", summary="The code lists")
    async def code_lists(self) -> list[str]:
        """Names of the code lists served at /v1/codes/{name}."""
        return sorted(CODE_LISTS)

    @get("/codes/{name:str}", operation_id="codeList", summary="One code list, fa and en")
    async def code_list(
        self, name: Annotated[str, PathParameter(description="A code list's name.")]
    ) -> tuple[Code, ...]:
        """Codes with their Persian and English labels, e.g. `sectors`."""
        codes = CODE_LISTS.get(name)
        if codes is None:
            raise NotFoundException(f"no code list {name!r}; see /v1/codes")
        return codes
