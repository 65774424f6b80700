"""What a projection is: a fold over decoded events into keyed rows, and the tables
that persist those rows. The runner, rebuild and time travel all drive this one shape.

A projection's state is a mapping table name -> key -> row (a NamedTuple whose
fields are the table's columns, the first being the primary key: COPY takes it as is). Its fold is a
deterministic function of the state and one event, with no I/O; it updates the
mapping it is given (rows themselves are immutable and replaced) and returns it.
Folds are total: an event about a row the projection never saw changes nothing,
because the log is immutable and a projection that refused an event would be stuck
forever (the write side's rules make such events impossible anyway)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple, TypeAlias

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

#: The PostgreSQL schema of every read-model table (owned by the application role).
SCHEMA = "readmodel"

#: A connection of its own or one borrowed from the pool.
Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

Key = Any
Rows = dict[Key, Any]
State = dict[str, Rows]


class Event(msgspec.Struct, frozen=True, gc=False):
    """One event from the log, its data decoded into the contract's Struct."""

    position: int
    type: str
    recorded_at: datetime.datetime
    data: Any


@dataclass(frozen=True)
class Table:
    """A read-model table holding rows of `row`; `types` gives each column's SQL type."""

    name: str
    row: type[NamedTuple]
    types: Mapping[str, str]

    def __post_init__(self) -> None:
        if tuple(self.types) != self.row._fields:
            raise ValueError(f"{self.name}: types must list {self.row._fields} in order")

    @property
    def columns(self) -> tuple[str, ...]:
        return self.row._fields

    @property
    def key(self) -> str:
        return self.columns[0]


@dataclass(frozen=True)
class Totals:
    """A table of sums over another table's rows, grouped by some of its columns.

    Its columns are `keys` (source columns), then `count` (rows in the group), then
    `sums` (source columns added up). The live runner keeps it by deltas computed
    here; a bulk load aggregates the source table in SQL. Both follow from this one
    definition. A group whose count falls to zero is deleted.

    `rolls_up`: another totals table of the same source whose keys include these and
    whose values are these: a bulk load then sums its (few) rows instead of the source's."""

    name: str
    source: str
    keys: tuple[str, ...]
    count: str
    sums: tuple[str, ...]
    rolls_up: str | None = None
    _key: Callable[[Any], tuple[Any, ...]] = field(init=False, repr=False, compare=False)
    _sums: Callable[[Any], tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", attrgetter(*self.keys))
        object.__setattr__(self, "_sums", attrgetter(*self.sums))

    @property
    def values(self) -> tuple[str, ...]:
        return (self.count, *self.sums)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.keys, *self.values)

    def contribute(self, row: Any) -> tuple[tuple[Any, ...], tuple[int, ...]]:
        """The group a source row belongs to, and what it adds there (1, then its sums)."""
        return self._key(row), (1, *self._sums(row))


Handler = Callable[[State, Event], None]


@dataclass(frozen=True)
class Projection:
    """A named read model: its tables, its fold, and which rows each event reads.

    `reads` maps an event type to (table, data field): the row the event needs
    before it can be folded, loaded by the runner from the live table."""

    name: str
    tables: tuple[Table, ...]
    handlers: Mapping[str, Handler]
    reads: Mapping[str, tuple[str, str]]
    totals: tuple[Totals, ...] = ()
    description: str = ""
    _tables: dict[str, Table] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tables", {t.name: t for t in self.tables})
        for event_type, (table, _field) in self.reads.items():
            if table not in self._tables or event_type not in self.handlers:
                raise ValueError(f"{self.name}: bad read for {event_type}")
        earlier: dict[str, Totals] = {}
        for totals in self.totals:
            source = self._tables[totals.source].columns
            if not set(totals.keys) | set(totals.sums) <= set(source):
                raise ValueError(f"{self.name}: {totals.name} sums columns {source} lacks")
            finer = earlier.get(totals.rolls_up or "")
            if totals.rolls_up is not None and (
                finer is None
                or finer.source != totals.source
                or finer.values != totals.values
                or not set(totals.keys) <= set(finer.keys)
            ):
                raise ValueError(f"{self.name}: {totals.name} cannot roll up {totals.rolls_up}")
            earlier[totals.name] = totals

    @property
    def handles(self) -> frozenset[str]:
        return frozenset(self.handlers)

    @property
    def table_names(self) -> tuple[str, ...]:
        """Every table this projection owns, stored rows first, then totals."""
        return tuple(t.name for t in self.tables) + tuple(t.name for t in self.totals)

    def table(self, name: str) -> Table:
        return self._tables[name]

    def empty(self) -> State:
        return {t.name: {} for t in self.tables}

    def fold(self, state: State, event: Event) -> State:
        """Apply one event; events of types this projection ignores change nothing."""
        handler = self.handlers.get(event.type)
        if handler is not None:
            handler(state, event)
        return state

    def needs(self, events: Iterable[Event]) -> dict[str, set[Key]]:
        """The rows (table -> keys) these events read, to load before folding them."""
        wanted: dict[str, set[Key]] = {}
        for event in events:
            read = self.reads.get(event.type)
            if read is not None:
                table, field_name = read
                wanted.setdefault(table, set()).add(getattr(event.data, field_name))
        return wanted


def copy_state(state: State) -> State:
    """A copy that shares the (immutable) rows: what the fold may change is the mapping."""
    return {name: dict(rows) for name, rows in state.items()}


def select(state: State, keys: Mapping[str, set[Key]]) -> State:
    """The part of a full in-memory state that `keys` name (absent keys stay absent)."""
    part: State = {name: {} for name in state}
    for name, wanted in keys.items():
        rows = state[name]
        for key in wanted:
            row = rows.get(key)
            if row is not None:
                part[name][key] = row
    return part
