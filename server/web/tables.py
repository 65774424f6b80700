"""The columns (with HXL hashtags) of the tables the pages draw that no JSON report has as
such: months side by side, money totals, the log. Offered as files by `downloads`."""

from __future__ import annotations

from server.projections import formats
from server.web.downloads import PARTNER_NAME, SECTOR_NAME, SITE_NAME

_COUNTS: formats.Columns = (
    ("women", "#reached+f+adults"),
    ("men", "#reached+m+adults"),
    ("girls", "#reached+f+children"),
    ("boys", "#reached+m+children"),
    ("other", "#reached+other"),
    ("total", "#reached+total"),
)

MONTH_TOTALS: formats.Columns = (
    ("month", "#date+month"),
    ("month_label_fa", "#date+month+name+i_fa"),
    ("month_label_en", "#date+month+name+i_en"),
    ("deliveries", "#activity+num"),
    *_COUNTS,
)


def compared(key: tuple[str, str], name: tuple[str, str]) -> formats.Columns:
    """A month against the one before, one line per `key` (sector or site)."""
    return (
        key,
        name,
        ("month", "#date+month"),
        ("total", "#reached+total"),
        ("previous_month", "#date+month+previous"),
        ("previous_total", "#reached+total+previous"),
        ("change", "#reached+total+change"),
    )


BY_SECTOR = compared(("sector", "#sector+code"), SECTOR_NAME)
BY_SITE = compared(("site_id", "#loc+code"), SITE_NAME)

MONEY_TOTALS: formats.Columns = (
    ("status", "#status"),
    ("currency", "#currency"),
    ("pledges", "#meta+pledges+num"),
    ("pledged", "#value+pledged"),
    ("committed", "#value+committed"),
    ("disbursed", "#value+disbursed"),
    ("outstanding", "#value+outstanding"),
    ("fulfilment_percent", "#indicator+fulfilment+pct"),
)

MONEY_MONTHS: formats.Columns = (
    ("status", "#status"),
    ("currency", "#currency"),
    ("month", "#date+month"),
    ("this_pledged", "#value+pledged"),
    ("this_disbursed", "#value+disbursed"),
    ("previous_month", "#date+month+previous"),
    ("last_pledged", "#value+pledged+previous"),
    ("last_disbursed", "#value+disbursed+previous"),
)

EVENTS: formats.Columns = (
    ("position", "#meta+position"),
    ("type", "#meta+type"),
    ("stream", "#meta+stream"),
    ("recorded_at", "#date+recorded"),
    ("principal", "#contact+name"),
    ("role", "#meta+role"),
    ("partner_id", "#org+code"),
)

NAMED_PLEDGES: formats.Columns = (*formats.PLEDGES[:2], PARTNER_NAME, *formats.PLEDGES[2:])
NAMED_COMMITMENTS: formats.Columns = (
    *formats.COMMITMENTS[:2],
    PARTNER_NAME,
    *formats.COMMITMENTS[2:],
)
PARTNER_DELIVERIES: formats.Columns = (
    ("site_id", "#loc+code"),
    SITE_NAME,
    ("sector", "#sector+code"),
    SECTOR_NAME,
    *formats.delivery_columns(("month",)),
)
