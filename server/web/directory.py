"""Names for ids: the registered partners and sites in both languages, read in the same
snapshot as a page's figures, for labels and for the filters' choices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from server.projections.catalog import projections_named
from server.projections.model import Conn
from server.projections.persistence import live_names


@dataclass(frozen=True)
class Directory:
    partners: dict[str, tuple[str, str]]
    sites: dict[str, tuple[str, str]]

    def partner(self, partner_id: str | None) -> tuple[str | None, str | None]:
        if partner_id is None:
            return None, None
        return self.partners.get(partner_id, (partner_id, partner_id))

    def site(self, site_id: str | None) -> tuple[str | None, str | None]:
        if site_id is None:
            return None, None
        return self.sites.get(site_id, (site_id, site_id))


async def directory(conn: Conn, names: Mapping[str, str]) -> Directory:
    partners = await conn.fetch(
        f"SELECT partner_id, name_fa, name_en FROM {names['partners']} ORDER BY partner_id"
    )
    sites = await conn.fetch(
        f"SELECT site_id, name_fa, name_en FROM {names['sites']} ORDER BY site_id"
    )
    return Directory(
        partners={r["partner_id"]: (r["name_fa"], r["name_en"]) for r in partners},
        sites={r["site_id"]: (r["name_fa"], r["name_en"]) for r in sites},
    )


async def partner_names(pool: asyncpg.Pool, partner_id: str) -> tuple[str, str] | None:
    """A signed-in partner's (Persian, English) name for the page's header, or None
    when it is not registered yet: the header names the organisation, not its slug."""
    (table,) = [live_names(p)["partners"] for p in projections_named(("directory",))]
    row = await pool.fetchrow(
        f"SELECT name_fa, name_en FROM {table} WHERE partner_id = $1", partner_id
    )
    return None if row is None else (row["name_fa"], row["name_en"])
