"""`/v1/admin/projections`: each projection's position, lag and last error, and
rebuilding one from position 0 while reads go on."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.params import PathParameter

from server.api.problems import problem_response
from server.auth.middleware import ADMINS, OVERSEERS
from server.projections.catalog import PROJECTIONS
from server.projections.host import ProjectionHost
from server.projections.tracking import rebuild_running, statuses

_DESCRIPTIONS = {name: p.description for name, p in PROJECTIONS.items()}


class AdminProjectionsController(Controller):
    """Operating the projections."""

    path = "/v1/admin/projections"
    tags = ["operations"]

    @get(
        "/",
        guards=[OVERSEERS],
        operation_id="listProjections",
        summary="Projections: position, lag, errors",
    )
    async def list_projections(self, state: State) -> dict[str, Any]:
        """Each projection's position in the log, its lag behind the head (events and
        seconds), whether a process is running it, and the error that stopped it, if
        any (a stopped projection stays at the event it could not apply)."""
        host: ProjectionHost = state.projections
        found = await statuses(state.pool, _DESCRIPTIONS)
        return {"projections": found, "this_process": sorted(host.held)}

    @post(
        "/{name:str}/rebuild",
        guards=[ADMINS],
        operation_id="rebuildProjection",
        summary="Rebuild a projection from position 0",
        status_code=202,
    )
    async def rebuild(
        self,
        state: State,
        name: Annotated[str, PathParameter(description="A projection's name, or `all`.")],
    ) -> Response[Any]:
        """Starts rebuilding into fresh tables from the whole log, then swaps them in
        one transaction; reports keep answering from the old tables meanwhile. Answers
        202 at once; `GET /v1/admin/projections` shows `rebuild_started_at` until the
        swap, then `rebuilt_at` (or `rebuild_error`). `name` may also be `all`."""
        names = list(PROJECTIONS) if name == "all" else [name]
        unknown = [n for n in names if n not in PROJECTIONS]
        if unknown:
            known = ", ".join(PROJECTIONS)
            return problem_response(
                404, "not-found", "Not found", f"no projection {name!r}; known: {known}, all"
            )
        busy = [n for n in names if await rebuild_running(state.pool, n)]
        if busy:
            return problem_response(
                409,
                "rebuild-running",
                "Rebuild already running",
                f"a rebuild of {', '.join(busy)} is already running",
            )
        host: ProjectionHost = state.projections
        host.request_rebuild(names)
        return Response(
            {"rebuilding": names, "status": "started", "see": "/v1/admin/projections"},
            status_code=202,
        )
