"""From a sheet's rows to event envelopes: the header matched to columns, each cell read
by its column's kind, ids derived, and each envelope decoded by the same msgspec
Structs as a POST /v1/events body (so every shape and text rule of the API applies).

Ids are UUIDv5 under one namespace: a row without its own id (`delivery_id`, ...)
gets one from the partner and what identifies it (a delivery: site, sector,
activity and period; anything else: all its content), and every event's id comes
from the partner, the type and the data. The same file twice derives the same ids."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from schemas.codes import POPULATION_GROUPS, SECTORS
from schemas.envelope import EventIn
from server.imports import cells
from server.imports.cells import Cell, CellError
from server.imports.columns import (
    COLUMNS,
    COUNTS,
    EXAMPLE_FIELD,
    EXAMPLE_LABELS,
    OWN_ID,
    Column,
)
from server.imports.messages import RowError, row_error
from server.imports.reading import MAX_ROWS, Sheet, TooManyRows

NAMESPACE = uuid.UUID("0b5e7c2a-15f0-4c1e-9d8e-1405a1f00d15")
_envelope = msgspec.json.Decoder(EventIn)
_canonical = msgspec.json.Encoder(order="sorted")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SEPARATORS = str.maketrans({";": ",", "،": ",", "\n": ","})


def derived_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def _codes(entries: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """key(code or either label) -> code."""
    out: dict[str, str] = {}
    for code, fa, en in entries:
        for name in (code, fa, en):
            out[cells.key(name)] = code
    return out


_SECTORS = _codes((c.code, c.label_fa, c.label_en) for c in SECTORS)
_POPULATIONS = _codes((c.code, c.label_fa, c.label_en) for c in POPULATION_GROUPS)


@dataclass(frozen=True)
class Row:
    """A row read into an envelope, and the row number it came from."""

    number: int
    envelope: EventIn


@dataclass
class ReadRows:
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # data rows in the file (examples, the HXL row and blank lines not counted)
    count: int = 0


@dataclass(frozen=True)
class Reader:
    """Reads one type's rows for one poster: `partner_id` is the token's partner (None
    for a coordinator), `sites` maps each registered site's id to its two names."""

    type_name: str
    partner_id: str | None
    sites: Mapping[str, tuple[str, str]]

    def read(self, sheet: Sheet) -> ReadRows:
        out = ReadRows()
        out.errors.extend(
            row_error(None, None, "hidden-sheet", name) for name in sheet.hidden_sheets
        )
        if not sheet.rows:
            out.errors.append(row_error(None, None, "no-rows"))
            return out
        (header_number, header), body = sheet.rows[0], sheet.rows[1:]
        mapping = self._header(header_number, header, out.errors)
        if mapping is None:
            return out
        site_keys = {
            cells.key(name): site_id
            for site_id, names in self.sites.items()
            for name in (site_id, *names)
        }
        seen: dict[str, int] = {}
        for number, values in body:
            if _is_hxl(values) or _is_example(mapping, values):
                continue
            out.count += 1
            if out.count > MAX_ROWS:
                raise TooManyRows(out.count)
            row = self._row(number, values, mapping, sheet, site_keys, out.errors)
            if row is None:
                continue
            stream = row.envelope.data.__getattribute__(OWN_ID[self.type_name])
            first = seen.setdefault(str(stream), number)
            if first != number:
                out.errors.append(
                    row_error(number, OWN_ID[self.type_name], "duplicate-row", str(first))
                )
                continue
            out.rows.append(row)
        if not out.count and not out.errors:
            out.errors.append(row_error(None, None, "no-rows"))
        return out

    def _header(
        self, number: int, header: list[Cell], errors: list[RowError]
    ) -> dict[int, Column | None] | None:
        """Column index -> its Column (None: the example marker), or None on errors."""
        by_key: dict[str, Column | None] = {cells.key(label): None for label in EXAMPLE_LABELS}
        by_key[EXAMPLE_FIELD] = None
        for column in COLUMNS[self.type_name]:
            for name in (column.field, column.label_fa, column.label_en):
                by_key[cells.key(name)] = column
        mapping: dict[int, Column | None] = {}
        fields: set[str] = set()
        before = len(errors)
        for index, value in enumerate(header):
            if cells.is_blank(value):
                continue
            name = cells.text(value).rstrip("*").strip()
            if cells.key(name) not in by_key:
                errors.append(row_error(number, name, "unknown-column", name, index=index))
                continue
            found = by_key[cells.key(name)]
            wanted = EXAMPLE_FIELD if found is None else found.field
            if wanted in fields:
                errors.append(row_error(number, wanted, "duplicate-column", name, index=index))
            fields.add(wanted)
            mapping[index] = found
        for column in COLUMNS[self.type_name]:
            optional = not column.required or (
                column.field == "partner_id" and self.partner_id is not None
            )
            if column.field not in fields and not optional:
                errors.append(row_error(number, column.field, "missing-column", column.label_en))
        return mapping if len(errors) == before else None

    def _row(
        self,
        number: int,
        values: list[Cell],
        mapping: dict[int, Column | None],
        sheet: Sheet,
        site_keys: dict[str, str],
        errors: list[RowError],
    ) -> Row | None:
        data: dict[str, Any] = {}
        before = len(errors)
        for index, column in mapping.items():
            if column is None:
                continue
            value = values[index] if index < len(values) else None
            flag = sheet.flagged.get((number, index))
            if flag is not None:
                errors.append(row_error(number, column.field, flag, index=index))
                continue
            if cells.is_blank(value):
                continue
            try:
                data[column.field] = _value(column, value, site_keys)
            except CellError as exc:
                errors.append(row_error(number, column.field, exc.rule, exc.detail, index=index))
        if self.partner_id is not None and "partner_id" in {
            c.field for c in COLUMNS[self.type_name]
        }:
            data.setdefault("partner_id", self.partner_id)
        where = {c.field: i for i, c in mapping.items() if c is not None}
        named = {e.column for e in errors[before:]}
        for column in COLUMNS[self.type_name]:
            if column.required and column.field not in data and column.field in where:
                if column.field not in named:
                    errors.append(
                        row_error(number, column.field, "required", index=where[column.field])
                    )
            elif column.required and column.field not in data and column.field == "partner_id":
                errors.append(row_error(number, column.field, "required"))
        if len(errors) != before:
            return None
        envelope = self._envelope(data)
        try:
            return Row(number, _envelope.decode(_canonical.encode(envelope)))
        except msgspec.ValidationError as exc:
            message, _, path = str(exc).rpartition(" - at `")
            name = path.rstrip("`").removeprefix("$.data.").split(".")[0].split("[")[0]
            column_name = name if name in where or name in COUNTS else None
            errors.append(
                row_error(
                    number,
                    column_name,
                    "invalid-value",
                    message or str(exc),
                    index=where.get(name) if column_name else None,
                )
            )
            return None

    def _envelope(self, data: dict[str, Any]) -> dict[str, Any]:
        """The row's envelope, with its derived ids."""
        type_name = self.type_name
        partner = str(data.get("partner_id") or self.partner_id or "")
        if type_name == "ServiceDelivered":
            counts = {name: data.pop(name, 0) for name in COUNTS}
            data["beneficiaries"] = counts
            data.pop("free_of_charge", None)
            data["free_of_charge"] = True
            data.setdefault(
                "delivery_id",
                derived_id(
                    "delivery",
                    partner,
                    str(data.get("site_id")),
                    str(data.get("sector")),
                    cells.key(str(data.get("activity"))),
                    str(data.get("period_start")),
                    str(data.get("period_end")),
                ),
            )
        if type_name == "PledgeMade" and "pledge_id" not in data:
            # what the pledge is, not its amount: a file with a corrected amount names
            # the pledge already made (refused: amend it) instead of making a second one
            identity = {k: data.get(k) for k in ("currency", "sectors", "site_id")}
            identity |= {k: data.get(k) for k in ("period_start", "period_end", "meeting_id")}
            data["pledge_id"] = derived_id("pledge", partner, _canonical.encode(identity).decode())
        own = OWN_ID[type_name]
        if own not in data:
            data[own] = derived_id(type_name, partner, _canonical.encode(data).decode())
        event_id = derived_id("event", partner, type_name, _canonical.encode(data).decode())
        return {"type": type_name, "id": event_id, "data": data}


def _is_hxl(values: list[Cell]) -> bool:
    filled = [v for v in values if not cells.is_blank(v)]
    return bool(filled) and all(isinstance(v, str) and v.strip().startswith("#") for v in filled)


def _is_example(mapping: dict[int, Column | None], values: list[Cell]) -> bool:
    return any(
        column is None and index < len(values) and not cells.is_blank(values[index])
        for index, column in mapping.items()
    )


def _value(column: Column, value: Cell, site_keys: dict[str, str]) -> Any:
    kind = column.kind
    if kind == "text":
        return cells.text(value) if not isinstance(value, str) else value.strip()
    if kind in ("slug", "uuid"):
        return cells.normalise(cells.text(value)).lower()
    if kind in ("currency", "country"):
        return cells.normalise(cells.text(value)).upper()
    if kind == "date":
        return cells.date(value).isoformat()
    if kind == "count":
        return cells.count(value)
    if kind == "money":
        return cells.money(value)
    if kind == "yes":
        if not cells.yes(value):
            raise CellError("not-free-of-charge")
        return True
    if kind == "sector":
        return _code(_SECTORS, value, "unknown-sector")
    if kind == "sectors":
        parts = cells.text(value).translate(_SEPARATORS).split(",")
        return [_code(_SECTORS, part, "unknown-sector") for part in parts if part.strip()]
    if kind == "population":
        return _code(_POPULATIONS, value, "unknown-population-group")
    if kind == "site":
        name = cells.normalise(cells.text(value))
        if _SLUG.match(name.lower()):
            # an id the directory does not list yet: the posting service's rules decide
            return site_keys.get(cells.key(name), name.lower())
        return _code(site_keys, value, "unknown-site")
    raise AssertionError(f"no reader for {kind}")


def _code(known: Mapping[str, str], value: Cell, rule: str) -> str:
    name = cells.text(value)
    found = known.get(cells.key(name))
    if found is None:
        raise CellError(rule, name)
    return found
