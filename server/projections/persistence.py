"""The SQL that persists projections: load the rows a batch reads, write what the fold
changed (one statement per table, arrays through unnest), or COPY a whole state.

Every function takes `names`, table name -> qualified SQL name, so the same code
writes the live tables, the fresh tables of a rebuild, and the temporary tables of a
report at a past position. The names are ours, never a client's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.projections.model import SCHEMA, Conn, Key, Projection, State, Table, Totals

Names = Mapping[str, str]

#: Suffix of the fresh tables a rebuild fills before swapping them in.
NEXT = "__next"


def live_names(projection: Projection) -> dict[str, str]:
    return {name: f"{SCHEMA}.{name}" for name in projection.table_names}


def next_names(projection: Projection) -> dict[str, str]:
    return {name: f"{SCHEMA}.{name}{NEXT}" for name in projection.table_names}


def temp_names(projection: Projection) -> dict[str, str]:
    return {name: f"pg_temp.{name}" for name in projection.table_names}


def _split(qualified: str) -> tuple[str, str]:
    schema, _, table = qualified.partition(".")
    return schema, table


async def load(
    conn: Conn, projection: Projection, names: Names, keys: Mapping[str, set[Key]]
) -> State:
    """The rows named by `keys` as they are stored now; absent rows stay absent."""
    state = projection.empty()
    for table_name, wanted in keys.items():
        if not wanted:
            continue
        table = projection.table(table_name)
        rows = await conn.fetch(
            f"SELECT {', '.join(table.columns)} FROM {names[table_name]}"
            f" WHERE {table.key} = any($1::{table.types[table.key]}[])",
            list(wanted),
        )
        stored = state[table_name]
        for record in rows:
            stored[record[0]] = table.row(*record)
    return state


async def write_changes(
    conn: Conn, projection: Projection, names: Names, before: State, after: State
) -> int:
    """Write what differs between two partial states; returns the rows written."""
    written = 0
    for table in projection.tables:
        old, new = before[table.name], after[table.name]
        gone = [key for key in old if key not in new]
        changed = [row for key, row in new.items() if old.get(key) != row]
        if gone:
            await conn.execute(
                f"DELETE FROM {names[table.name]}"
                f" WHERE {table.key} = any($1::{table.types[table.key]}[])",
                gone,
            )
        if changed:
            await _upsert(conn, table, names[table.name], changed)
        written += len(gone) + len(changed)
    for totals in projection.totals:
        deltas = _deltas(totals, before[totals.source], after[totals.source])
        if deltas:
            types = projection.table(totals.source).types
            await _add_totals(conn, totals, types, names[totals.name], deltas)
        written += len(deltas)
    return written


async def _upsert(conn: Conn, table: Table, name: str, rows: list[Any]) -> None:
    columns = table.columns
    arrays = _columns_of(rows, len(columns))
    unnest = ", ".join(f"${i + 1}::{table.types[c]}[]" for i, c in enumerate(columns))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    await conn.execute(
        f"INSERT INTO {name} ({', '.join(columns)}) SELECT * FROM unnest({unnest})"
        f" ON CONFLICT ({table.key}) DO UPDATE SET {updates}",
        *arrays,
    )


def _columns_of(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def _deltas(totals: Totals, old: Mapping[Key, Any], new: Mapping[Key, Any]) -> dict[Any, list[int]]:
    """Group key -> change of each value, from the source rows that changed."""
    deltas: dict[Any, list[int]] = {}
    for key in old.keys() | new.keys():
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        for row, sign in ((before, -1), (after, 1)):
            if row is None:
                continue
            group, values = totals.contribute(row)
            delta = deltas.setdefault(group, [0] * len(values))
            for i, value in enumerate(values):
                delta[i] += sign * value
    return {group: delta for group, delta in deltas.items() if any(delta)}


async def _add_totals(
    conn: Conn,
    totals: Totals,
    source_types: Mapping[str, str],
    name: str,
    deltas: dict[Any, list[int]],
) -> None:
    keys = list(totals.keys)
    key_types = [source_types[k] for k in keys]
    rows = [(*group, *delta) for group, delta in deltas.items()]
    arrays = _columns_of(rows, len(totals.columns))
    types = [*key_types, *("bigint" for _ in totals.values)]
    unnest = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(types))
    adds = ", ".join(f"{v} = t.{v} + excluded.{v}" for v in totals.values)
    await conn.execute(
        f"INSERT INTO {name} AS t ({', '.join(totals.columns)})"
        f" SELECT * FROM unnest({unnest})"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}",
        *arrays,
    )
    # groups left with no rows go: reports never show a line of zeros
    key_unnest = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(key_types))
    match = " AND ".join(f"t.{k} = g.{k}" for k in keys)
    await conn.execute(
        f"DELETE FROM {name} AS t USING unnest({key_unnest}) AS g({', '.join(keys)})"
        f" WHERE {match} AND t.{totals.count} = 0",
        *arrays[: len(keys)],
    )


async def write_all(conn: Conn, projection: Projection, names: Names, state: State) -> int:
    """COPY a full state into empty tables; returns the rows written."""
    written = 0
    for table in projection.tables:
        records = list(state[table.name].values())
        written += await _copy(conn, names[table.name], table.columns, records)
    for totals in projection.totals:
        # the same sums the deltas keep, computed by PostgreSQL in one pass: over the
        # source rows, or over the finer totals written just before (same sums)
        keys = ", ".join(totals.keys)
        if totals.rolls_up is None:
            values = ", ".join(["count(*)", *(f"sum({c})::bigint" for c in totals.sums)])
            source = names[totals.source]
        else:
            values = ", ".join(f"sum({c})::bigint" for c in totals.values)
            source = names[totals.rolls_up]
        result = await conn.execute(
            f"INSERT INTO {names[totals.name]} ({', '.join(totals.columns)})"
            f" SELECT {keys}, {values} FROM {source} GROUP BY {keys}"
        )
        written += int(result.rsplit(" ", 1)[-1])
    return written


async def _copy(
    conn: Conn, name: str, columns: tuple[str, ...], records: list[tuple[Any, ...]]
) -> int:
    if records:
        schema, table = _split(name)
        await conn.copy_records_to_table(
            table, schema_name=schema, columns=list(columns), records=records
        )
    return len(records)


async def create_like(conn: Conn, projection: Projection, names: Names) -> None:
    """Empty temporary tables shaped like the live ones, dropped at commit, under
    `names` (all in pg_temp), for a fold at a past position; they get no indexes. A
    rebuild's fresh tables are made by the read models' owner instead
    (server/projections/rebuild.py)."""
    for base, name in names.items():
        schema, table = _split(name)
        if schema != "pg_temp":
            raise ValueError(f"not a temporary table: {name}")
        await conn.execute(f"CREATE TEMPORARY TABLE {table} (LIKE {SCHEMA}.{base}) ON COMMIT DROP")
