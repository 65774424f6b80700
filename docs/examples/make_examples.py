"""Writes the import examples beside this file from the server's own template code:
the delivery templates (XLSX in Persian, CSV in English) and a sample spreadsheet of
one month's deliveries (Mehr 1405) by the demo partner NRC at the demo sites.

Run with `.venv/bin/python docs/examples/make_examples.py`; then, with the demo loaded,
import the sample as NRC:
  curl -X POST "$URL/v1/imports?type=ServiceDelivered&dry_run=true" \\
       -H "Authorization: Bearer $NRC" -H "Content-Type: $XLSX" --data-binary @FILE"""

from __future__ import annotations

from pathlib import Path

from schemas.codes import SECTORS
from server.demo import PROGRAMMES, SITES
from server.imports.templates import csv_template, xlsx_template

HERE = Path(__file__).resolve().parent
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
WEEKS = (("01", "07"), ("08", "14"), ("15", "21"), ("22", "30"))


def main() -> None:
    sites = {site_id: (fa, en) for site_id, fa, en, _kind, _province in SITES}
    sector_fa = {s.code: s.label_fa for s in SECTORS}
    rows = []
    for number, (partner, site, sector, activity) in enumerate(PROGRAMMES):
        if partner != "nrc":
            continue
        for week, (first, last) in enumerate(WEEKS):
            counts = [12 + number + week, 9 + week, 20 + 2 * number, 18 + week]
            rows.append(
                [
                    "",
                    "",  # partner: the token's
                    sites[site][0],
                    sector_fa[sector],
                    activity,
                    f"1405/07/{first}".translate(PERSIAN),
                    f"1405/07/{last}".translate(PERSIAN),
                    *(str(c).translate(PERSIAN) for c in counts),
                ]
            )
    (HERE / "ServiceDelivered-template-fa.xlsx").write_bytes(
        xlsx_template("ServiceDelivered", "fa", sites)
    )
    (HERE / "ServiceDelivered-template-en.csv").write_bytes(
        csv_template("ServiceDelivered", "en", sites)
    )
    (HERE / "nrc-deliveries-1405-07.xlsx").write_bytes(
        xlsx_template("ServiceDelivered", "fa", sites, rows)
    )


if __name__ == "__main__":
    main()
