"""Names for ids: the registered partners and sites in both languages, read in the same
snapshot as a page's figures, for labels and for the filters' choices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server.projections.model import Conn


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
