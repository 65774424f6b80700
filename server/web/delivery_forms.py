"""A partner's delivery forms: report a delivery (the short form, or sex × age cells in
the UNHCR bands), and correct or retract one of its own, the form showing the values
as they stand. Each builds envelopes and posts them through `server.web.writing`."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Template

from server.aggregates.base import plain
from server.aggregates.delivery import Delivery, delivery_stream
from server.auth.tokens import Principal, Role
from server.imports import cells
from server.web.days import typed_day
from server.web.fields import (
    BANDS,
    COUNTS,
    SEXES,
    Field,
    draw,
    names,
    population_options,
    sector_options,
    site_options,
)
from server.web.frame import locale_of
from server.web.writing import Draft, aggregate, data_paths, done, submit, writer

# the delivery's fields a form reads, in the contract's names; beneficiaries apart
PLAIN = ("site_id", "sector", "activity", "population_group", "nationality", "notes")
DATES = ("period_start", "period_end")


def cell_name(sex: str, band: str) -> str:
    return f"cell-{sex}-{band}"


async def delivery_fields(request: Request[Any, Any, Any]) -> list[Field]:
    ui = locale_of(request)
    found = await names(request)
    return [
        Field("site_id", "site", "select", options=site_options(ui, found)),
        Field("sector", "sector", "select", options=sector_options(ui)),
        Field("activity", "activity"),
        Field("period_start", "period_start", "date"),
        Field("period_end", "period_end", "date"),
        Field("population_group", "population_group", "select", options=population_options(ui)),
        Field("nationality", "nationality"),
    ]


def _beneficiaries(draft: Draft) -> dict[str, Any] | None:
    """The short form (a blank count is 0) or the cells typed (blank cells left out)."""
    if draft.get("shape") == "cells":
        found = []
        for sex in SEXES:
            for band in BANDS:
                value = draft.count(cell_name(sex, band), required=False)
                if value is not None:
                    found.append({"sex": sex, "age": band, "count": value})
        if not found and not draft.errors:
            draft.error("cells", "required")
        return {"cells": found} if found else None
    counts = {name: draft.count(name, required=False) or 0 for name in COUNTS}
    return counts


def totals(draft: Draft) -> dict[str, int]:
    """The totals as typed (rows of the cells by sex, and all), for the form to show
    them again; the page's script keeps them current while typing."""
    out: dict[str, int] = {}
    if draft.get("shape") == "cells":
        for sex in SEXES:
            out[sex] = sum(_number(draft.get(cell_name(sex, band))) for band in BANDS)
        out["all"] = sum(out[sex] for sex in SEXES)
    else:
        out["all"] = sum(_number(draft.get(name)) for name in COUNTS)
    return out


def _number(text: str) -> int:
    try:
        return cells.count(text) if text.strip() else 0
    except cells.CellError:
        return 0


def _read(draft: Draft) -> dict[str, Any]:
    """The delivery as the form has it, in the contract's names (None: not typed)."""
    values: dict[str, Any] = {}
    for name in ("site_id", "sector", "activity", "population_group", "nationality"):
        values[name] = draft.text(name)
    values["notes"] = draft.text("notes", required=False)
    for name in DATES:
        day = draft.date(name)
        values[name] = day.isoformat() if day else None
    values["beneficiaries"] = _beneficiaries(draft)
    return values


def _paths(draft: Draft) -> dict[str, str]:
    paths = data_paths(0, (*PLAIN, *DATES))
    paths["[0].data.beneficiaries"] = "cells" if draft.get("shape") == "cells" else "women"
    paths["[0].data.delivery_id"] = "form_id"
    return paths


def _prefilled(request: Request[Any, Any, Any], current: Delivery) -> Draft:
    ui = locale_of(request)
    draft = Draft.blank(ui, version=str(current.version))
    for name in PLAIN:
        draft.values[name] = getattr(current, name) or ""
    for name in DATES:
        draft.values[name] = typed_day(ui, getattr(current, name))
    given = current.beneficiaries
    if given.get("cells"):
        draft.values["shape"] = "cells"
        for cell in given["cells"]:
            draft.values[cell_name(cell["sex"], cell["age"])] = ui.digits(cell["count"])
    else:
        for name in COUNTS:
            draft.values[name] = ui.digits(given.get(name, 0))
    return draft


class DeliveryForms(Controller):
    path = "/forms"
    include_in_schema = False

    async def _page(
        self, request: Request[Any, Any, Any], draft: Draft, template: str, **context: Any
    ) -> Template:
        return draw(
            request,
            template,
            context.pop("title", "form_delivery"),
            draft,
            fields=await delivery_fields(request),
            totals=totals(draft),
            sexes=SEXES,
            bands=BANDS,
            **context,
        )

    @get("/delivery")
    async def delivery_form(self, request: Request[Any, Any, Any]) -> Template:
        writer(request, Role.PARTNER)
        shape = "cells" if request.query_params.get("shape") == "cells" else "short"
        draft = Draft.blank(
            locale_of(request), shape=shape, population_group="REF", nationality="AF"
        )
        return await self._page(request, draft, "form_delivery.html")

    @post("/delivery", status_code=200)
    async def report_delivery(self, request: Request[Any, Any, Any]) -> Template:
        principal = writer(request, Role.PARTNER)
        draft = await Draft.of(request, locale_of(request))
        values = _read(draft)
        delivery_id = draft.id("delivery")
        data = {
            "delivery_id": delivery_id,
            "partner_id": principal.partner_id,
            **values,
            "free_of_charge": True,
        }
        event = {"type": "ServiceDelivered", "id": draft.id("event"), "data": data}
        receipts = await submit(request, principal, draft, [event], paths=_paths(draft))
        if receipts is None:
            return await self._page(request, draft, "form_delivery.html")
        return done(request, receipts, delivery_links(principal, delivery_id))

    @get("/deliveries/{delivery_id:uuid}")
    async def delivery_page(
        self, request: Request[Any, Any, Any], delivery_id: FromPath[uuid.UUID]
    ) -> Template:
        principal = writer(request, Role.PARTNER)
        current = await _own(request, principal, delivery_id)
        return await self._edit(request, current, _prefilled(request, current))

    async def _edit(
        self,
        request: Request[Any, Any, Any],
        current: Delivery,
        draft: Draft,
        retraction: Draft | None = None,
    ) -> Template:
        ui = locale_of(request)
        if retraction is None:
            retraction = Draft.blank(ui, version=str(current.version))
        return await self._page(
            request,
            draft,
            "form_delivery_edit.html",
            title="form_delivery_edit",
            delivery=current,
            retraction=retraction,
        )

    @post("/deliveries/{delivery_id:uuid}/correct", status_code=200)
    async def correct(
        self, request: Request[Any, Any, Any], delivery_id: FromPath[uuid.UUID]
    ) -> Template:
        principal = writer(request, Role.PARTNER)
        current = await _own(request, principal, delivery_id)
        draft = await Draft.of(request, locale_of(request))
        draft.values.setdefault("shape", "short")
        values = _read(draft)
        reason = draft.text("reason")
        # only what differs from the values the form showed is a correction
        changed = {
            k: v for k, v in values.items() if v is not None and plain(v) != getattr(current, k)
        }
        if values["notes"] is None and current.notes is not None:
            changed["notes"] = None
        data = {"delivery_id": str(delivery_id), **changed, "reason": reason}
        event = {
            "type": "DeliveryCorrected",
            "id": draft.id("correction"),
            "expected_version": _version(draft, current),
            "data": data,
        }
        paths = {**_paths(draft), "[0].data.reason": "reason"}
        receipts = await submit(request, principal, draft, [event], paths=paths)
        if receipts is None:
            return await self._edit(request, current, draft)
        return done(request, receipts, delivery_links(principal, str(delivery_id)))

    @post("/deliveries/{delivery_id:uuid}/retract", status_code=200)
    async def retract(
        self, request: Request[Any, Any, Any], delivery_id: FromPath[uuid.UUID]
    ) -> Template:
        principal = writer(request, Role.PARTNER)
        current = await _own(request, principal, delivery_id)
        draft = await Draft.of(request, locale_of(request))
        data = {"delivery_id": str(delivery_id), "reason": draft.text("reason")}
        event = {
            "type": "DeliveryRetracted",
            "id": draft.id("retraction"),
            "expected_version": _version(draft, current),
            "data": data,
        }
        receipts = await submit(
            request, principal, draft, [event], paths={"[0].data.reason": "reason"}
        )
        if receipts is None:
            return await self._edit(request, current, _prefilled(request, current), draft)
        return done(request, receipts, [("/forms", "nav_write")])


def _version(draft: Draft, current: Delivery) -> int:
    """The version the form was drawn at: a correction of values someone else has
    changed since is refused (changed meanwhile), not applied over theirs."""
    typed = draft.get("version")
    return int(typed) if typed.isdigit() else current.version


async def _own(
    request: Request[Any, Any, Any], principal: Principal, delivery_id: uuid.UUID
) -> Delivery:
    """The partner's own delivery; another's, or none, is 403 (authorized before
    existence, as in the streams API); a retracted one is gone (404)."""
    current = await aggregate(request, delivery_stream(delivery_id))
    if not isinstance(current, Delivery) or current.partner_id != principal.partner_id:
        raise PermissionDeniedException("a partner corrects its own deliveries only")
    if current.retracted:
        raise NotFoundException(f"delivery {delivery_id} was retracted")
    return current


def delivery_links(principal: Principal, delivery_id: str) -> list[tuple[str, str]]:
    return [
        (f"/who-what-where?partner={principal.partner_id}", "nav_www"),
        (f"/partners/{principal.partner_id}", "nav_my_record"),
        (f"/forms/deliveries/{delivery_id}", "form_delivery_edit"),
        ("/forms/delivery", "form_delivery_another"),
    ]
