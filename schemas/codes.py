"""The code lists behind `GET /v1/codes/{list}`, each code with its Persian and English label.

The codes are the `Literal` types in `schemas.common`; these lists follow their order."""

from __future__ import annotations

from typing import Any, get_args

from msgspec import Struct

from schemas.common import (
    AgeBand,
    Calendar,
    PartnerKind,
    PopulationGroup,
    Sector,
    Sex,
    SiteKind,
)


class Code(Struct, frozen=True, kw_only=True):
    """A code with its labels, Persian (`label_fa`) and English (`label_en`)."""

    code: str
    label_fa: str
    label_en: str


def _code_list(codes: Any, labels: dict[str, tuple[str, str]]) -> tuple[Code, ...]:
    """One Code per value of the `Literal` `codes`, in its order; labels are (fa, en).

    A code without labels, or labels without a code, fails at import."""
    values = get_args(codes)
    if set(values) != set(labels):
        raise ValueError(f"labels do not match codes: {sorted(set(values) ^ set(labels))}")
    return tuple(Code(code=v, label_fa=labels[v][0], label_en=labels[v][1]) for v in values)


SECTORS = _code_list(
    Sector,
    {
        "education": ("آموزش", "Education"),
        "livelihoods": ("معیشت", "Livelihoods"),
        "protection": ("حمایت", "Protection"),
        "health": ("سلامت", "Health"),
        "shelter": ("سرپناه", "Shelter"),
        "wash": ("آب، بهداشت و بهسازی", "Water, sanitation and hygiene (WASH)"),
        "food_security": ("امنیت غذایی", "Food security"),
        "cash": ("کمک نقدی", "Cash assistance"),
        "legal_aid": ("مشاوره حقوقی", "Legal aid"),
        "psychosocial": ("حمایت روانی-اجتماعی", "Mental health and psychosocial support"),
        "administrative_services": ("خدمات اداری", "Administrative services"),
        "coordination": ("هماهنگی", "Coordination"),
    },
)

PARTNER_KINDS = _code_list(
    PartnerKind,
    {
        "directorate": (
            "اداره کل امور اتباع و مهاجرین خارجی",
            "Bureau of Foreign Nationals and Immigrants Affairs",
        ),
        "international_ngo": ("سازمان غیردولتی بین‌المللی", "International NGO"),
        "national_ngo": ("سازمان مردم‌نهاد ملی", "National NGO"),
        "un_agency": ("آژانس سازمان ملل متحد", "UN agency"),
        "government": ("نهاد دولتی", "Government body"),
        "donor": ("اهداکننده", "Donor"),
    },
)

SITE_KINDS = _code_list(
    SiteKind,
    {
        "multipurpose_center": ("مرکز چندمنظوره", "Multipurpose community center"),
        "return_center": ("مرکز بازگشت", "Return center"),
        "care_camp": ("اردوگاه", "Care camp"),
        "office": ("دفتر", "Office"),
        "other": ("سایر", "Other"),
    },
)

POPULATION_GROUPS = _code_list(
    PopulationGroup,
    {
        "REF": ("پناهنده", "Refugees"),
        "ASY": ("پناهجو", "Asylum-seekers"),
        "OIP": (
            "سایر افراد نیازمند حمایت بین‌المللی",
            "Other people in need of international protection",
        ),
        "RET": ("پناهنده بازگشته", "Returned refugees"),
        "IDP": ("آواره داخلی", "Internally displaced persons"),
        "RDP": ("آواره داخلی بازگشته", "Returned internally displaced persons"),
        "STA": ("بی‌تابعیت", "Stateless persons"),
        "OOC": ("سایر افراد مورد توجه", "Others of concern"),
        "HST": ("جامعه میزبان", "Host community"),
    },
)

SEXES = _code_list(
    Sex,
    {
        "f": ("مؤنث", "Female"),
        "m": ("مذکر", "Male"),
        "x": ("سایر یا ثبت‌نشده", "Other or not recorded"),
    },
)

AGE_BANDS = _code_list(
    AgeBand,
    {
        "0-4": ("۰ تا ۴ سال", "0–4 years"),
        "5-11": ("۵ تا ۱۱ سال", "5–11 years"),
        "12-17": ("۱۲ تا ۱۷ سال", "12–17 years"),
        "18-59": ("۱۸ تا ۵۹ سال", "18–59 years"),
        "60+": ("۶۰ سال و بالاتر", "60 years and over"),
        "unknown": ("نامشخص", "Age unknown"),
    },
)

CALENDARS = _code_list(
    Calendar,
    {
        "gregorian": ("میلادی", "Gregorian"),
        "jalali": ("هجری شمسی", "Solar Hijri"),
    },
)

#: List name (as in `GET /v1/codes/{list}`) -> its codes.
CODE_LISTS: dict[str, tuple[Code, ...]] = {
    "sectors": SECTORS,
    "partner-kinds": PARTNER_KINDS,
    "site-kinds": SITE_KINDS,
    "population-groups": POPULATION_GROUPS,
    "sexes": SEXES,
    "age-bands": AGE_BANDS,
    "calendars": CALENDARS,
}
