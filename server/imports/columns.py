"""The columns of each importable event type: the field in `data` each one fills, its
labels in Persian and English, its HXL hashtag, what kind of value it holds and an
example. Templates are written from these and imported files are read by them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "text", "slug", "uuid", "date", "count", "money", "currency", "sector", "sectors",
    "site", "population", "country", "yes",
]  # fmt: skip

#: The column that marks a template's example rows: any row with a value there is skipped.
EXAMPLE_FIELD = "example"
EXAMPLE_LABELS = ("نمونه", "example")
EXAMPLE_HXL = "#meta+example"
COUNTS = ("women", "men", "girls", "boys")


@dataclass(frozen=True)
class Column:
    field: str
    label_fa: str
    label_en: str
    hxl: str
    kind: Kind
    required: bool = True
    # in the template (columns left out may still be imported by their name)
    in_template: bool = True
    example_fa: str = ""
    example_en: str = ""

    def label(self, lang: str) -> str:
        return self.label_fa if lang == "fa" else self.label_en

    def example(self, lang: str) -> str:
        return self.example_fa if lang == "fa" else self.example_en


def _partner(hxl: str) -> Column:
    # required, but a partner's file may leave it out: the token says whose it is
    return Column("partner_id", "شریک", "Partner", hxl, "slug", example_fa="nrc", example_en="nrc")


def _site(required: bool) -> Column:
    return Column(
        "site_id",
        "محل",
        "Site",
        "#loc+code",
        "site",
        required=required,
        example_fa="gol-tappeh",
        example_en="gol-tappeh",
    )


def _period(field: str, fa: str, en: str, hxl: str, jalali: str, gregorian: str) -> Column:
    return Column(field, fa, en, hxl, "date", example_fa=jalali, example_en=gregorian)


_DELIVERY: tuple[Column, ...] = (
    _partner("#org+impl+code"),
    _site(True),
    Column("sector", "بخش", "Sector", "#sector+code", "sector", example_fa="education"),
    Column(
        "activity",
        "فعالیت",
        "Activity",
        "#activity+name",
        "text",
        example_fa="کلاس سوادآموزی",
        example_en="Literacy classes",
    ),
    _period("period_start", "شروع دوره", "Period start", "#date+start", "1405/07/01", "2026-09-23"),
    _period("period_end", "پایان دوره", "Period end", "#date+end", "1405/07/30", "2026-10-22"),
    Column(
        "women", "زنان", "Women", "#reached+f+adults", "count", example_fa="۱۲", example_en="12"
    ),
    Column("men", "مردان", "Men", "#reached+m+adults", "count", example_fa="۹", example_en="9"),
    Column(
        "girls", "دختران", "Girls", "#reached+f+children", "count", example_fa="۲۰", example_en="20"
    ),
    Column(
        "boys", "پسران", "Boys", "#reached+m+children", "count", example_fa="۱۸", example_en="18"
    ),
    Column(
        "population_group",
        "گروه جمعیتی",
        "Population group",
        "#population+type+code",
        "population",
        required=False,
        example_fa="REF",
        example_en="REF",
    ),
    Column(
        "nationality",
        "ملیت",
        "Nationality",
        "#country+code",
        "country",
        required=False,
        example_fa="AF",
        example_en="AF",
    ),
    Column("pledge_id", "شناسه تعهد مالی", "Pledge id", "#meta+pledge", "uuid", required=False),
    Column("notes", "یادداشت", "Notes", "#meta+notes", "text", required=False),
    Column(
        "delivery_id",
        "شناسه ارائه خدمت",
        "Delivery id",
        "#meta+id",
        "uuid",
        required=False,
        in_template=False,
    ),
    Column(
        "free_of_charge",
        "رایگان",
        "Free of charge",
        "#meta+free",
        "yes",
        required=False,
        in_template=False,
    ),
)

_PLEDGE: tuple[Column, ...] = (
    _partner("#org+funder+code"),
    Column(
        "amount",
        "مبلغ",
        "Amount",
        "#value+pledged",
        "money",
        example_fa="۲۵۰٬۰۰۰",
        example_en="250,000",
    ),
    Column("currency", "ارز", "Currency", "#currency", "currency", example_fa="EUR"),
    Column(
        "sectors",
        "بخش‌ها",
        "Sectors",
        "#sector+code",
        "sectors",
        example_fa="education; livelihoods",
        example_en="education; livelihoods",
    ),
    _site(False),
    _period("period_start", "شروع دوره", "Period start", "#date+start", "1405/01/01", "2026-03-21"),
    _period("period_end", "پایان دوره", "Period end", "#date+end", "1405/12/29", "2027-03-20"),
    Column(
        "description",
        "شرح",
        "Description",
        "#description",
        "text",
        required=False,
        example_fa="آموزش و معیشت خانواده‌های افغانستانی",
        example_en="Education and livelihoods for Afghan families",
    ),
    Column("meeting_id", "شناسه جلسه", "Meeting id", "#meta+meeting", "uuid", required=False),
    Column(
        "pledge_id",
        "شناسه تعهد مالی",
        "Pledge id",
        "#meta+id",
        "uuid",
        required=False,
        in_template=False,
    ),
)

_DISBURSEMENT: tuple[Column, ...] = (
    Column(
        "pledge_id",
        "شناسه تعهد مالی",
        "Pledge id",
        "#meta+pledge",
        "uuid",
        example_fa="00000000-0000-4000-8000-000000000000",
        example_en="00000000-0000-4000-8000-000000000000",
    ),
    Column(
        "amount",
        "مبلغ",
        "Amount",
        "#value+disbursed",
        "money",
        example_fa="۵۰٬۰۰۰",
        example_en="50,000",
    ),
    Column("currency", "ارز", "Currency", "#currency", "currency", example_fa="EUR"),
    _period(
        "disbursed_on", "تاریخ پرداخت", "Disbursed on", "#date+paid", "1405/05/10", "2026-08-01"
    ),
    Column(
        "recipient_partner_id",
        "شریک دریافت‌کننده",
        "Recipient partner",
        "#org+impl+code",
        "slug",
        required=False,
    ),
    Column(
        "disbursement_id",
        "شناسه پرداخت",
        "Disbursement id",
        "#meta+id",
        "uuid",
        required=False,
        in_template=False,
    ),
)

_CHALLENGE: tuple[Column, ...] = (
    _partner("#org+impl+code"),
    _site(False),
    Column("sector", "بخش", "Sector", "#sector+code", "sector", required=False),
    Column(
        "description",
        "شرح چالش",
        "Description",
        "#description",
        "text",
        example_fa="کمبود فضای آموزشی در مرکز",
        example_en="Not enough classroom space at the centre",
    ),
    Column(
        "challenge_id",
        "شناسه چالش",
        "Challenge id",
        "#meta+id",
        "uuid",
        required=False,
        in_template=False,
    ),
)

#: Event type -> its columns, in template order.
COLUMNS: dict[str, tuple[Column, ...]] = {
    "ServiceDelivered": _DELIVERY,
    "PledgeMade": _PLEDGE,
    "DisbursementRecorded": _DISBURSEMENT,
    "ChallengeReported": _CHALLENGE,
}
IMPORT_TYPES = tuple(COLUMNS)

#: The id field each type's stream is named by, derived when a row leaves it out.
OWN_ID = {
    "ServiceDelivered": "delivery_id",
    "PledgeMade": "pledge_id",
    "DisbursementRecorded": "disbursement_id",
    "ChallengeReported": "challenge_id",
}
