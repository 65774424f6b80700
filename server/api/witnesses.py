"""The witnesses' endpoints: submitting a cosignature (authenticated by its signature,
not a token) and the list of who cosigned which checkpoint sizes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import QueryParameter

from server.aggregates.witness import Witness, witness_stream
from server.api.problems import problem_response
from server.audit.cosignatures import (
    MAX_SUBMISSION_BYTES,
    CosignatureRefused,
    WitnessKey,
    WitnessList,
    accept,
    witness_list,
)
from server.auth.middleware import READERS
from server.services.repository import AggregateRepository

TEXT = "text/plain; charset=utf-8"


# why a submission was refused -> its answer (nothing of it was stored)
_REFUSALS: dict[str, Callable[[str], Response[Any]]] = {
    "cosignature-malformed": lambda d: problem_response(
        400, "cosignature-malformed", "Malformed cosignature", d
    ),
    "witness-not-registered": lambda d: problem_response(
        403, "witness-not-registered", "Witness not registered", d
    ),
    "witness-retired": lambda d: problem_response(403, "witness-retired", "Witness retired", d),
    "cosignature-replayed": lambda d: problem_response(
        409, "cosignature-replayed", "Cosignature replayed", d
    ),
    "cosignature-stale": lambda d: problem_response(
        409, "cosignature-stale", "Cosignature older than the witness's last", d
    ),
    "checkpoint-not-signed": lambda d: problem_response(
        422, "checkpoint-not-signed", "Checkpoint not signed by the log", d
    ),
    "cosignature-invalid": lambda d: problem_response(
        422, "cosignature-invalid", "Cosignature does not verify", d
    ),
}


def _lookup(repository: AggregateRepository) -> Any:
    async def lookup(names: Sequence[str]) -> dict[str, WitnessKey | None]:
        streams = [witness_stream(name) for name in names]
        # fresh: a retirement appended by another worker must count at once
        loaded = await repository.load_many(streams, fresh=frozenset(streams))
        found: dict[str, WitnessKey | None] = {}
        for name, stream in zip(names, streams, strict=True):
            witness = loaded.get(stream)
            if not isinstance(witness, Witness):
                found[name] = None
                continue
            key = witness.key
            found[name] = WitnessKey(key.key_id, witness.retired, key.verify)
        return found

    return lookup


class WitnessController(Controller):
    """Witnessed checkpoints: parties that each keep their own view of the log cosign
    its checkpoints (C2SP tlog-cosignature). See docs/auditor-guide.md."""

    # POST /cosignatures is public (auth.middleware.PUBLIC_PATHS): a witness proves who
    # it is by its signature, against the key an admin registered in the log.
    path = "/v1/audit"
    tags = ["audit"]

    @post(
        "/cosignatures",
        operation_id="auditSubmitCosignature",
        summary="Submit a witness's cosignature",
        status_code=201,
        request_max_body_size=MAX_SUBMISSION_BYTES,
    )
    async def submit(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        """The body (`text/plain`) is a checkpoint the log signed, as
        `GET /v1/audit/checkpoint` serves it, with the witness's cosignature line
        (`cosignature/v1`, C2SP tlog-cosignature) appended. Every cosignature must be by a
        registered, unretired witness and verify; it is stored, and served after the
        log's signature from then on. Anything wrong refuses the whole body: nothing is
        stored. The answer lists the cosignature lines stored."""
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("text/plain"):
            return problem_response(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                "send the cosigned checkpoint as text/plain",
            )
        raw = await request.body()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return problem_response(
                400, "cosignature-malformed", "Malformed cosignature", "the body is not UTF-8"
            )
        verifier = state.checkpointer.signer.verifier
        try:
            _checkpoint, cosignatures = await accept(
                state.pool, body, verifier.key_id, _lookup(state.posting.repository)
            )
        except CosignatureRefused as exc:
            return _REFUSALS[exc.slug](exc.detail)
        stored = "".join(f"{c.line}\n" for c in cosignatures)
        return Response(stored, status_code=201, media_type=TEXT)

    @get(
        "/witnesses",
        guards=[READERS],
        operation_id="auditWitnesses",
        summary="Who cosigned which checkpoints",
    )
    async def witnesses(
        self,
        state: State,
        checkpoints: Annotated[
            int,
            QueryParameter(ge=1, le=1000, description="how many of the latest checkpoints"),
        ] = 20,
    ) -> WitnessList:
        """Every registered witness (name, C2SP verifier key, the partner that runs it,
        whether it was retired) with how many checkpoints it cosigned and the latest;
        then the latest checkpoints, each with the names of the witnesses that cosigned
        it."""
        return await witness_list(state.pool, checkpoints)
