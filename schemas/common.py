"""The value types every event is made of: slugs, money, codes, counts, texts, beneficiaries.

Shape only: what a well-formed value looks like. Whether a value is allowed (a pledge
above zero, a period that ends after it starts) is a rule, checked by the aggregates."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, to_builtins

from schemas.text import TEXT_PATTERN, TEXT_RULE

# Every pattern ends `(?!\n)$`: Python's `$` also matches before a final newline, so
# `^[A-Z]{3}$` took "EUR\n"; ECMA-262's `$` never does, so JSON Schema reads it the same.

#: The largest integer every JSON reader represents exactly (IEEE 754 double), and so
#: the largest integer RFC 8785 canonical JSON may carry.
MAX_SAFE_INT = 2**53 - 1


def id_text(value: object) -> str:
    """An id as the log writes it: a UUID in lowercase hyphenated form, a code as it is.
    msgspec does in C what `str(uuid)` does in Python, a few times a post per event."""
    text = to_builtins(value)
    if not isinstance(text, str):
        raise TypeError(f"an id is a UUID or a string, not {type(value).__name__}")
    return text


Slug = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*(?!\n)$",
        description="Lowercase slug: letters a-z, digits, single hyphens between them.",
        examples=["nrc", "gol-tappeh"],
    ),
]
"""Identifier of a partner or a site (`partner_id`, `site_id`)."""

Money = Annotated[
    str,
    Meta(
        pattern=r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?(?!\n)$",
        description=(
            "Non-negative decimal amount as a string: up to 15 integer digits without "
            "leading zeros, optionally a point and 1 to 4 decimals. No sign, no exponent."
        ),
        examples=["250000.00", "1200", "0.5"],
    ),
]
"""A money amount, kept as the decimal string that was sent.

Why a string and not `decimal.Decimal`: msgspec decodes a `Decimal` from JSON numbers
too (floats included) and from exponent forms such as "1E+5", and a Struct holding a
`Decimal` re-encodes `str(value)`, which is not always the text the client sent. A
`str` with this pattern rejects numbers, signs and exponents at the edge and keeps
the stored (hashed) bytes exactly as posted. Arithmetic goes through `money_value`."""

Currency = Annotated[
    str,
    Meta(
        pattern=r"^[A-Z]{3}(?!\n)$",
        description="ISO 4217 alphabetic currency code (IRR amounts in rials, never toman).",
        examples=["EUR", "IRR", "USD"],
    ),
]

CountryCode = Annotated[
    str,
    Meta(
        pattern=r"^[A-Z]{2}(?!\n)$",
        description="ISO 3166-1 alpha-2 country code.",
        examples=["AF", "IR", "NO"],
    ),
]

Month = Annotated[
    str,
    Meta(
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])(?!\n)$",
        description="A month as YYYY-MM, in the calendar named next to it.",
        examples=["2025-10", "1404-07"],
    ),
]

Calendar = Literal["gregorian", "jalali"]
"""Gregorian, or Solar Hijri (`jalali`, the Iranian civil calendar)."""

Sector = Literal[
    "education",
    "livelihoods",
    "protection",
    "health",
    "shelter",
    "wash",
    "food_security",
    "cash",
    "legal_aid",
    "psychosocial",
    "administrative_services",
    "coordination",
]
"""Sector codes; labels in `schemas.codes.SECTORS`."""

PartnerKind = Literal[
    "directorate", "international_ngo", "national_ngo", "un_agency", "government", "donor"
]

SiteKind = Literal["multipurpose_center", "return_center", "care_camp", "office", "other"]

PopulationGroup = Literal["REF", "ASY", "OIP", "RET", "IDP", "RDP", "STA", "OOC", "HST"]
"""UNHCR population types; labels in `schemas.codes.POPULATION_GROUPS`."""

Sex = Literal["f", "m", "x"]
"""`f` female, `m` male, `x` another sex or not recorded."""

AgeBand = Literal["0-4", "5-11", "12-17", "18-59", "60+", "unknown"]
"""UNHCR age bands, in years."""

Count = Annotated[int, Meta(ge=0, le=MAX_SAFE_INT)]
"""A non-negative integer that stays exact in every JSON reader."""

Percent = Annotated[int, Meta(ge=0, le=100, description="Whole percent, 0 to 100.")]

Name = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=300,
        pattern=TEXT_PATTERN,
        description=f"Text of at most 300 characters. {TEXT_RULE}",
    ),
]
"""Names, titles, activities, references: short, non-blank."""

Text = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=4000,
        pattern=TEXT_PATTERN,
        description=f"Text of at most 4,000 characters. {TEXT_RULE}",
    ),
]
"""Notes, descriptions, reasons, summaries."""

WitnessName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=128,
        pattern=r"^[a-z0-9]+([.-][a-z0-9]+)*(?!\n)$",
        description=(
            "A witness's key name: lowercase letters, digits, single dots or hyphens "
            "between them (a host name such as `witness.nrc.no` fits)."
        ),
        examples=["witness.nrc.no", "donor-audit"],
    ),
]
"""The name of a witness: its C2SP key name and its stream (`witness-<name>`)."""

VerifierKey = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=300,
        pattern=r"^[a-z0-9]+([.-][a-z0-9]+)*\+[0-9a-f]{8}\+[A-Za-z0-9+/]+={0,2}(?!\n)$",
        description="A C2SP verifier key: name+hex(key id)+base64(type || public key).",
        examples=["witness.nrc.no+1a2b3c4d+BE3GOuOq2PNdVDvbYHWi9B/aMqxGQhXd1bi2OJ1u0wP2"],
    ),
]

UNDER_18: frozenset[AgeBand] = frozenset({"0-4", "5-11", "12-17"})
ADULT: frozenset[AgeBand] = frozenset({"18-59", "60+"})


def money_value(amount: str) -> Decimal:
    """The exact value of a `Money` string, for arithmetic and comparison."""
    return Decimal(amount)


class Cell(Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Beneficiary contacts of one sex in one age band."""

    sex: Sex
    age: AgeBand
    count: Count


class BeneficiaryTotals(Struct, frozen=True, kw_only=True):
    """The short form derived from any `Beneficiaries`, plus what it cannot place.

    `other` counts contacts with sex `x` (any age) and contacts of sex `f` or `m` whose
    age is `unknown`: they are neither women/men nor girls/boys. `total` is the sum of
    all five columns, so reports add up."""

    women: int
    men: int
    girls: int
    boys: int
    other: int
    total: int


class Beneficiaries(Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Beneficiary contacts, in exactly one of two forms.

    Short form: all four of `women`, `men`, `girls`, `boys`. Cells: `cells`, a list of
    1 to 18 sex-and-age cells, each (sex, age) pair at most once. Counts are contacts:
    one person reached by two activities counts twice.

    The short form derived from cells: girls and boys are `f` and `m` under 18
    (bands 0-4, 5-11, 12-17), women and men are `f` and `m` aged 18 and over (18-59,
    60+). Sex `x` at any age, and `f`/`m` of `unknown` age, fit none of the four: they
    are counted in `total` and shown as `other`, never guessed into a column."""

    women: Count | UnsetType = UNSET
    men: Count | UnsetType = UNSET
    girls: Count | UnsetType = UNSET
    boys: Count | UnsetType = UNSET
    cells: Annotated[tuple[Cell, ...], Meta(min_length=1, max_length=18)] | UnsetType = UNSET

    def __post_init__(self) -> None:
        short = (self.women, self.men, self.girls, self.boys)
        given = sum(value is not UNSET for value in short)
        if self.cells is UNSET:
            if given != 4:
                raise ValueError(
                    "beneficiaries need either all of women, men, girls, boys, or cells"
                )
            return
        if given:
            raise ValueError("beneficiaries are either the short form or cells, not both")
        seen: set[tuple[str, str]] = set()
        for cell in self.cells:
            key = (cell.sex, cell.age)
            if key in seen:
                raise ValueError(f"cell sex={cell.sex} age={cell.age} appears more than once")
            seen.add(key)

    def totals(self) -> BeneficiaryTotals:
        """The short form of these beneficiaries (see the class docstring)."""
        return beneficiary_totals(self)


def derive_short_form(cells: Iterable[Cell]) -> BeneficiaryTotals:
    """Women, men, girls and boys from sex-and-age cells; `x` and unknown ages go to `other`."""
    women = men = girls = boys = other = 0
    for cell in cells:
        if cell.sex == "f" and cell.age in ADULT:
            women += cell.count
        elif cell.sex == "m" and cell.age in ADULT:
            men += cell.count
        elif cell.sex == "f" and cell.age in UNDER_18:
            girls += cell.count
        elif cell.sex == "m" and cell.age in UNDER_18:
            boys += cell.count
        else:
            other += cell.count
    return BeneficiaryTotals(
        women=women,
        men=men,
        girls=girls,
        boys=boys,
        other=other,
        total=women + men + girls + boys + other,
    )


def beneficiary_totals(beneficiaries: Beneficiaries) -> BeneficiaryTotals:
    """The short form of either form; the short form itself has `other` = 0."""
    b = beneficiaries
    if not isinstance(b.cells, UnsetType):
        return derive_short_form(b.cells)
    counts = [b.women, b.men, b.girls, b.boys]
    women, men, girls, boys = (0 if isinstance(v, UnsetType) else v for v in counts)
    return BeneficiaryTotals(
        women=women,
        men=men,
        girls=girls,
        boys=boys,
        other=0,
        total=women + men + girls + boys,
    )
