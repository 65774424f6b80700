"""Verifying an export against signed roots, trusting nothing the server states: every
leaf is re-hashed from the exported bytes, the root recomputed at each signed size, and
the first position that cannot be proven is named."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import sha256

import msgspec

from server.audit.export import ExportLine
from server.audit.merkle import HASH_SIZE, Frontier, verify_consistency

# (old size, new size) -> the server's consistency proof; used to narrow down a mismatch
Prover = Callable[[int, int], Sequence[bytes]]
Progress = Callable[[int, int], None]

_BATCH = 4096
# leaf hashes kept offline to name an event that was pushed down the log (32 MB)
_WINDOW = 1 << 20


class _EntryPosition(msgspec.Struct):
    position: int


_lines_decoder = msgspec.json.Decoder(list[ExportLine])
_line_decoder = msgspec.json.Decoder(ExportLine)
_positions_decoder = msgspec.json.Decoder(list[_EntryPosition])
_position_decoder = msgspec.json.Decoder(_EntryPosition)


@dataclass
class Outcome:
    """What a verification found. `first_bad` is the first position not proven to be what
    the signed checkpoints commit to (None when everything holds)."""

    target_size: int
    verified_size: int = 0
    first_bad: int | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    root: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad is None and not self.problems


@dataclass(frozen=True)
class _Stop:
    """A line shows the export is wrong at `position`; `recorded_at` is the position its
    entry says it was recorded at, `digest` its hash, when they are known."""

    position: int
    reason: str
    recorded_at: int | None = None
    digest: bytes | None = None


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines of an NDJSON byte stream that arrives in arbitrary chunks."""
    rest = b""
    for chunk in chunks:
        if not chunk:
            continue
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def verify_export(
    lines: Iterable[bytes],
    trusted: dict[int, bytes],
    *,
    prover: Prover | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Check the export's lines 1..max(trusted) against `trusted` ({size: signed root}).

    Every entry is re-hashed; the line's position, the position inside the entry and the
    stated leaf hash must agree with it; the recomputed root must equal each signed root
    on the way. On a mismatch, `prover` (the live server) narrows it down to one position;
    offline, the position is the first anomaly, or the range after the last signed size
    that still matched.
    """
    log = _Log(trusted, keep_all=prover is not None)
    stop: _Stop | None = None
    batch: list[bytes] = []
    taken = 0
    for raw in lines:
        if log.target == 0:
            break
        if len(raw) < 3 and not raw.strip():  # a blank line (not a copy of every line)
            continue
        batch.append(raw)
        taken += 1
        if len(batch) == _BATCH or taken == log.target:
            stop = log.take(batch)
            batch = []
            if stop is not None or log.mismatch_at is not None or taken == log.target:
                break
            if progress is not None:
                progress(log.held, log.target)
    if batch:
        stop = log.take(batch)
    if stop is None and log.mismatch_at is None and log.held < log.target:
        stop = _Stop(
            log.held + 1,
            f"the export ends at position {log.held}; the checkpoint covers {log.target}",
        )
    if progress is not None:
        progress(log.held, log.target)
    if stop is None and log.mismatch_at is None:
        return Outcome(log.target, log.target, root=log.running.root())
    return log.explain(stop, prover)


class _Log:
    """The tree recomputed so far: proven up to the last signed size that matched
    (`verified`), and all leaves held (`running`). When a server can narrow a mismatch
    down, the leaf hashes past `verified` are kept (32 bytes each) for the search."""

    def __init__(self, trusted: dict[int, bytes], keep_all: bool) -> None:
        self.trusted = trusted
        self.target = max(trusted)
        self.sizes = sorted(size for size in trusted if size > 0)
        self.next_signed = 0
        self.verified = Frontier()
        self.running = Frontier()
        # leaf hashes from position leaves_from + 1 on: all since `verified` when a server
        # can narrow a mismatch down, else a bounded window (to name moved events)
        self.keep_all = keep_all
        self.leaves = bytearray()
        self.leaves_from = 0
        self.mismatch_at: int | None = None

    @property
    def held(self) -> int:
        return self.running.size

    def take(self, batch: list[bytes]) -> _Stop | None:
        hashes, stop = _check_batch(batch, self.held + 1)
        done = 0
        while done < len(hashes):
            boundary = self.target
            if self.next_signed < len(self.sizes):
                boundary = self.sizes[self.next_signed]
            chunk = hashes[done : done + boundary - self.running.size]
            self.running = self.running.advance(chunk)
            self.leaves += b"".join(chunk)
            done += len(chunk)
            if self.running.size < boundary:
                break
            if self.running.root() != self.trusted[boundary]:
                self.mismatch_at = boundary
                return stop
            self.verified = self.running
            self.next_signed += 1
        self._forget()
        return stop

    def _forget(self) -> None:
        keep_from = self.verified.size
        if not self.keep_all:
            keep_from = max(keep_from, self.held - _WINDOW)
        if keep_from - self.leaves_from >= _WINDOW:
            del self.leaves[: (keep_from - self.leaves_from) * HASH_SIZE]
            self.leaves_from = keep_from

    def leaf(self, position: int) -> bytes | None:
        """Our hash of the leaf at `position`, if still held."""
        offset = (position - 1 - self.leaves_from) * HASH_SIZE
        if offset < 0 or offset + HASH_SIZE > len(self.leaves):
            return None
        return bytes(self.leaves[offset : offset + HASH_SIZE])

    def held_leaves(self) -> list[bytes]:
        data = bytes(self.leaves[(self.verified.size - self.leaves_from) * HASH_SIZE :])
        return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]

    def explain(self, stop: _Stop | None, prover: Prover | None) -> Outcome:
        if self.mismatch_at is not None:
            # a signed root did not match: something in (verified, mismatch_at] changed,
            # whatever a later line says
            against, stop = self.mismatch_at, None
        else:
            assert stop is not None
            against = self.sizes[self.next_signed]
        good = self.verified.size
        if prover is not None:
            held = self.held_leaves()[: against - good]
            good = _longest_proven(self.verified, held, against, self.trusted[against], prover)
        outcome = Outcome(self.target, good)
        if stop is None:
            outcome.first_bad = good + 1
            outcome.problems.append(
                f"position {good + 1}: the log differs from signed checkpoint {against} here "
                f"or later: positions 1..{good} are proven, {good + 1}..{against} are not"
            )
            return outcome
        position, reason = stop.position, stop.reason
        moved = stop.recorded_at
        if moved is not None and good < moved < position and self.leaf(moved) != stop.digest:
            # the event recorded at `moved` was pushed down: its own place holds another
            position, reason = (
                moved,
                (
                    f"not the event recorded here, which now sits at position {stop.position}:"
                    " an event was inserted or moved"
                ),
            )
        outcome.first_bad = position
        outcome.problems.append(f"position {position}: {reason}")
        if good < position - 1:
            outcome.notes.append(
                f"positions {good + 1}..{position - 1} look intact but no signed checkpoint "
                f"proves them (the next is at {against})"
            )
        return outcome


def _longest_proven(
    base: Frontier,
    leaves: list[bytes],
    size: int,
    root: bytes,
    prover: Prover | None,
) -> int:
    """The longest prefix of the log proven to be what the signed root commits to: at
    least `base` (already matched), extended by a binary search over the server's
    consistency proofs. A proof that verifies is conclusive whatever the server is; one
    that fails may be the server's fault, so the answer is never past the first change."""

    def proven(count: int) -> bool:
        frontier = base.advance(leaves[:count])
        if frontier.size == size:
            return frontier.root() == root
        if prover is None:
            return False
        try:
            proof = prover(frontier.size, size)
        except Exception:  # an unreachable or failing server proves nothing
            return False
        return verify_consistency(frontier.size, size, frontier.root(), root, proof)

    if not leaves or prover is None:
        return base.size  # offline nothing proves a prefix that no signed size ends
    if proven(len(leaves)):
        return base.size + len(leaves)
    low, high = 0, len(leaves) - 1  # low is proven (or the base); high is the most it can be
    while low < high:
        middle = (low + high + 1) // 2
        if proven(middle):
            low = middle
        else:
            high = middle - 1
    return base.size + low


def _check_batch(batch: list[bytes], first: int) -> tuple[list[bytes], _Stop | None]:
    """The leaf hashes of the lines that hold, up to the first that does not."""
    lines, stop = _decode_lines(batch, first)
    entries = [line.entry for line in lines]
    inner = _entry_positions(entries)
    hashes = [sha256(b"\x00" + entry).digest() for entry in entries]
    expected = list(range(first, first + len(lines)))
    if (
        stop is None
        and inner == expected
        and [line.position for line in lines] == expected
        and hashes == [line.leaf_hash for line in lines]
    ):
        return hashes, None  # the common case, checked a batch at a time
    hashes = []
    for offset, line in enumerate(lines):
        position = first + offset
        if line.position != position:
            return hashes, _Stop(position, _gap(position, line.position))
        if inner[offset] is None:
            return hashes, _Stop(position, "the entry is not a JSON event envelope")
        digest = sha256(b"\x00" + line.entry).digest()
        if inner[offset] != position:
            return hashes, _Stop(
                position,
                f"the entry stored here is the event recorded at position {inner[offset]}",
                inner[offset],
                digest,
            )
        if digest != line.leaf_hash:
            return hashes, _Stop(position, "the entry's bytes do not hash to its stored leaf hash")
        hashes.append(digest)
    return hashes, stop


def _decode_lines(batch: list[bytes], first: int) -> tuple[list[ExportLine], _Stop | None]:
    try:
        return _lines_decoder.decode(b"[" + b",".join(batch) + b"]"), None
    except msgspec.DecodeError:
        pass
    lines: list[ExportLine] = []
    for offset, raw in enumerate(batch):
        try:
            lines.append(_line_decoder.decode(raw))
        except msgspec.DecodeError as exc:
            return lines, _Stop(first + offset, f"the export line is malformed ({exc})")
    return lines, None


def _entry_positions(entries: list[bytes]) -> list[int | None]:
    """The position recorded inside each entry (hashed with it, so the server cannot
    change it without changing the hash): catches moved and swapped events."""
    try:
        decoded = _positions_decoder.decode(b"[" + b",".join(entries) + b"]")
        return [entry.position for entry in decoded]
    except msgspec.DecodeError:
        pass
    positions: list[int | None] = []
    for entry in entries:
        try:
            positions.append(_position_decoder.decode(entry).position)
        except msgspec.DecodeError:
            positions.append(None)
    return positions


def _gap(expected: int, found: int) -> str:
    if found > expected:
        missing = f"{expected}" if found == expected + 1 else f"{expected}..{found - 1}"
        return f"the export skips position {missing}: the event is missing"
    return f"position {found} comes again or out of order where {expected} was due"
