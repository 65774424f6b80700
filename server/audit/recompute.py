"""Recomputing a report offline from an audit export: no database, no network. The first
N entries are re-hashed (their root is what an attestation names) and decoded, every
projection folds them with the server's own fold code, and the report's body is built
from the folded states by the server's own report definitions (report_bodies.py)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256

import msgspec

from server.audit.export import ExportLine
from server.audit.merkle import Frontier
from server.projections.catalog import PROJECTIONS
from server.projections.decoding import UndecodableEvent, decode
from server.projections.history import collector_paused
from server.projections.model import Projection, State
from server.projections.report_bodies import Body, MemorySource, Params, build

_line = msgspec.json.Decoder(ExportLine)


class _Header(msgspec.Struct):
    """The envelope fields a fold needs besides `data` (which `decode` reads)."""

    position: int
    type: str
    schema_version: int
    recorded_at: datetime.datetime


_header = msgspec.json.Decoder(_Header)


class ExportProblem(Exception):
    """The export cannot give the first N entries (short, malformed, out of order)."""


@dataclass
class Folded:
    """Every projection's state after the first `size` entries, and their root."""

    size: int
    root: bytes
    states: dict[str, State]


def fold_export(lines: Iterable[bytes], size: int) -> Folded:
    """Re-hash and fold the export's first `size` entries (ExportProblem when it has fewer
    or one cannot be read). The leaf hashes are computed here from the bytes, never taken
    from the export's own `leaf_hash`."""
    projections = list(PROJECTIONS.values())
    states = {p.name: p.empty() for p in projections}
    folders: dict[str, list[tuple[Projection, State]]] = {}
    for p in projections:
        for event_type in p.handles:
            folders.setdefault(event_type, []).append((p, states[p.name]))
    frontier = Frontier()
    batch: list[bytes] = []
    with collector_paused():  # the fold's rows are long-lived, as on the server
        for position, entry in _entries(lines, size):
            batch.append(sha256(b"\x00" + entry).digest())
            if len(batch) == 4096:
                frontier, batch = frontier.advance(batch), []
            header = _header_of(position, entry)
            found = folders.get(header.type)
            if not found:
                continue
            try:
                event = decode(
                    (position, header.type, header.schema_version, header.recorded_at, entry)
                )
            except UndecodableEvent as exc:
                raise ExportProblem(str(exc)) from None
            for projection, state in found:
                projection.fold(state, event)
    frontier = frontier.advance(batch)
    if frontier.size < size:
        raise ExportProblem(
            f"the export ends at position {frontier.size}: it lacks positions "
            f"{frontier.size + 1}..{size}, which the report reflects"
        )
    return Folded(size, frontier.root(), states)


def _entries(lines: Iterable[bytes], size: int) -> Iterator[tuple[int, bytes]]:
    expected = 1
    for raw in lines:
        if expected > size:
            return
        if not raw.strip():
            continue
        try:
            line = _line.decode(raw)
        except msgspec.DecodeError as exc:
            raise ExportProblem(
                f"position {expected}: the export line is malformed ({exc})"
            ) from None
        if line.position != expected:
            raise ExportProblem(
                f"position {expected}: the export has position {line.position} there"
            )
        yield expected, line.entry
        expected += 1


def _header_of(position: int, entry: bytes) -> _Header:
    try:
        header = _header.decode(entry)
    except msgspec.DecodeError as exc:
        raise ExportProblem(f"position {position}: not an event envelope ({exc})") from None
    if header.position != position:
        raise ExportProblem(
            f"position {position}: the entry is the event recorded at {header.position}"
        )
    return header


def recompute(folded: Folded, report: str, params: Params) -> Body:
    """The report's body from the folded states: the server's definition, in memory.

    The definition is async (the server's source awaits PostgreSQL); the memory source
    never suspends, so the coroutine finishes at its first step, without an event loop
    (and so also inside one, as in the tests)."""
    coroutine = build(MemorySource(folded.states), report, params)
    try:
        coroutine.send(None)
    except StopIteration as done:
        body: Body = done.value
        return body
    coroutine.close()
    raise RuntimeError("an in-memory report waited on something")
