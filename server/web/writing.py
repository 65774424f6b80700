"""What every dashboard form shares: reading what a person typed (any digits, dates in
either calendar), building envelopes, posting them through the same `PostingService.post`
as `POST /v1/events`, and turning every refusal into a message next to its field.

A form is drawn with one hidden `form_id`, a UUID chosen when it is drawn; every event
id and new object id of the form is derived from it (UUIDv5), so the same form sent
twice appends once and a form sent again after a refusal keeps its ids."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    ServiceUnavailableException,
    ValidationException,
)
from litestar.response import Template

from schemas.envelope import EventIn
from server.aggregates.base import HamkariAggregate, RuleBroken
from server.api.events import decode_body
from server.api.problems import ProblemDetail
from server.api.request_id import request_id_of
from server.auth.permissions import Forbidden
from server.auth.tokens import Principal, Role
from server.eventstore import (
    EventIdReused,
    Recorded,
    StoreClosed,
    StoreUnavailable,
    TokenRevoked,
    VersionConflict,
)
from server.imports import cells
from server.services.posting import PostingService
from server.web.frame import WRITERS, render, viewer
from server.web.i18n import Locale
from server.web.labels import LABELS


def writer(request: Request[Any, Any, Any], *roles: Role) -> Principal:
    """The signed-in principal, if its role may use this form (403 otherwise)."""
    principal = viewer(request)
    if principal.role not in (frozenset(roles) or WRITERS):
        raise PermissionDeniedException("this form is not for your role")
    return principal


def new_form_id() -> str:
    return str(uuid.uuid4())


def derived(form_id: str, label: str) -> str:
    """The id of one event or object of the form drawn as `form_id`."""
    return str(uuid.uuid5(uuid.UUID(form_id), label))


def rule_message(ui: Locale, rule: str, detail: str = "") -> str:
    """A rule in the reader's words; the server's English detail for a rule without
    its own label (in English only: a Persian page says which rule, in Persian)."""
    key = f"rule_{rule}"
    if key in LABELS:
        return ui.t(key)
    if ui.lang == "en" and detail:
        return detail
    return f"{ui.t('rule_other')} ({rule})"


@dataclass
class Draft:
    """A form as sent: what was typed (to draw it again), and what is wrong, by field."""

    ui: Locale
    values: dict[str, str]
    lists: dict[str, list[str]]
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # about the whole form

    @classmethod
    async def of(cls, request: Request[Any, Any, Any], ui: Locale) -> Draft:
        form = await request.form()
        values: dict[str, str] = {}
        lists: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                values.setdefault(key, value)
                lists.setdefault(key, []).append(value)
        draft = cls(ui, values, lists)
        form_id = values.get("form_id", "")
        try:
            uuid.UUID(form_id)
        except ValueError:
            raise ValidationException("the form has no form_id: open it again") from None
        return draft

    @classmethod
    def blank(cls, ui: Locale, **values: str) -> Draft:
        return cls(ui, {"form_id": new_form_id(), **values}, {})

    @property
    def form_id(self) -> str:
        return self.values["form_id"]

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.problems)

    def id(self, label: str) -> str:
        return derived(self.form_id, label)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def chosen(self, name: str) -> list[str]:
        return self.lists.get(name, [])

    def error(self, name: str | None, rule: str, detail: str = "") -> None:
        message = rule_message(self.ui, rule, detail)
        if name is None:
            self.problems.append(message)
        else:
            self.errors.setdefault(name, message)

    def text(self, name: str, *, required: bool = True) -> str | None:
        """The text as typed but for its edges; the posting decoder applies the
        contract's text rule, so a NUL is refused there, with the API's words."""
        value = self.get(name).strip()
        if not value:
            if required:
                self.error(name, "required")
            return None
        return value

    def _cell(self, name: str, read: Any, required: bool) -> Any:
        raw = self.get(name)
        if cells.is_blank(raw):
            if required:
                self.error(name, "required")
            return None
        try:
            return read(raw)
        except cells.CellError as exc:
            self.error(name, exc.rule, exc.detail)
            return None

    def date(self, name: str, *, required: bool = True) -> datetime.date | None:
        """A date typed `YYYY/MM/DD` in Solar Hijri or Gregorian, any digits."""
        value: datetime.date | None = self._cell(name, cells.date, required)
        return value

    def count(self, name: str, *, required: bool = True) -> int | None:
        value: int | None = self._cell(name, cells.count, required)
        return value

    def money(self, name: str, *, required: bool = True) -> str | None:
        value: str | None = self._cell(name, cells.money, required)
        return value


def envelope(event_type: str, event_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "id": event_id, "data": dict(data)}


def _field_of(path: str, paths: Mapping[str, str]) -> str | None:
    """The form field of a JSON path the decoder names (`[0].data.amount`): the longest
    prefix the form maps."""
    best: str | None = None
    best_length = -1
    for prefix, name in paths.items():
        if (path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")) and (
            len(prefix) > best_length
        ):
            best, best_length = name, len(prefix)
    return best


@dataclass(frozen=True)
class Receipt:
    """One appended (or, sent again, already appended) event, as the page shows it."""

    type: str
    stream: str
    position: int
    hash: str
    replayed: bool


async def submit(
    request: Request[Any, Any, Any],
    principal: Principal,
    draft: Draft,
    events: Sequence[dict[str, Any]],
    *,
    paths: Mapping[str, str],
) -> list[Receipt] | None:
    """Post `events` as one batch, exactly as `POST /v1/events` would; None (and the
    errors in `draft`) when anything refuses them. `paths` maps JSON paths of the batch
    (`[0].data.amount`) to the form's fields: a shape error and a broken rule are both
    shown next to the field they are about."""
    if draft.failed:
        return None
    body = msgspec.json.encode(list(events))
    state = request.app.state
    try:
        envelopes: list[EventIn] = decode_body(body, state.settings.max_batch_events)
    except ProblemDetail as problem:
        for found in problem.extra.get("errors") or [{"path": "", "message": problem.detail}]:
            name = _field_of(str(found["path"]), paths)
            draft.error(name, "invalid-value", str(found["message"]))
        return None
    session = request.session if "session" in request.scope else {}
    token = bytes.fromhex(str(session.get("token_hash", "")))
    service: PostingService = state.posting
    try:
        posted = await service.post(principal, envelopes, request_id_of(request), token)
    except RuleBroken as broken:
        await _place(service, principal, envelopes, broken, draft, paths)
        return None
    except Forbidden as exc:
        raise PermissionDeniedException(str(exc)) from None
    except VersionConflict:
        draft.error(None, "changed-meanwhile")
        return None
    except EventIdReused:
        draft.error(None, "form-already-sent")
        return None
    except TokenRevoked:
        raise NotAuthorizedException("the token was revoked") from None
    except (StoreUnavailable, StoreClosed) as exc:
        raise ServiceUnavailableException(f"{exc}; send the form again") from None
    return [_receipt(r) for r in posted.receipts]


# rule -> the data fields it is about, most specific first (the first the form maps wins)
RULE_FIELDS: dict[str, tuple[str, ...]] = {
    "delivery-in-future": ("period_end",),
    "period-ends-before-start": ("period_end",),
    "period-locked": ("period_start",),
    "delivery-after-site-closure": ("site_id",),
    "unknown-site": ("site_id",),
    "pledge-not-for-partner": ("pledge_id",),
    "pledge-does-not-cover-sector": ("pledge_id", "sector"),
    "unknown-pledge": ("pledge_id",),
    "pledge-cancelled": ("pledge_id",),
    "pledge-fully-disbursed": ("pledge_id",),
    "pledge-amount-not-positive": ("amount",),
    "disbursement-amount-not-positive": ("amount",),
    "disbursement-exceeds-pledge": ("amount",),
    "disbursement-currency-mismatch": ("currency",),
    "unknown-partner": ("owner_partner_id", "participants", "chair_partner_id", "partner_id"),
    "partner-did-not-attend": ("partner_id",),
    "commitment-description-missing": ("description_fa",),
    "unknown-evidence": ("evidence",),
    "period-already-locked": ("month",),
    "period-not-locked": ("month",),
    "month-out-of-range": ("month",),
    "unlock-reason-missing": ("reason",),
}


async def _place(
    service: PostingService,
    principal: Principal,
    envelopes: list[EventIn],
    broken: RuleBroken,
    draft: Draft,
    paths: Mapping[str, str],
) -> None:
    """Put a broken rule next to its field. The post says which rule, not which event
    of a batch: a dry run of the same batch (as an import's) says which."""
    index = 0
    if len(envelopes) > 1:
        refused = await service.check(principal, envelopes)
        index = min(refused, default=0)
        broken = refused.get(index, broken)
    name = None
    for data_field in RULE_FIELDS.get(broken.rule, ()):
        name = paths.get(f"[{index}].data.{data_field}")
        if name is not None:
            break
    draft.error(name, broken.rule, str(broken))


def data_paths(index: int, names: Iterable[str], prefix: str = "") -> dict[str, str]:
    """`[index].data.<name>` -> `<prefix><name>` for each of `names`."""
    return {f"[{index}].data.{name}": f"{prefix}{name}" for name in names}


def _receipt(recorded: Recorded) -> Receipt:
    return Receipt(
        type=recorded.type,
        stream=recorded.stream,
        position=recorded.position,
        hash=recorded.hash.hex(),
        replayed=recorded.replayed,
    )


async def aggregate(request: Request[Any, Any, Any], stream: str) -> HamkariAggregate | None:
    """An aggregate as the posting service knows it (read only: it is shared)."""
    service: PostingService = request.app.state.posting
    found = await service.repository.load_many([stream], fresh={stream})
    return found.get(stream)


def choices(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def done(
    request: Request[Any, Any, Any], receipts: list[Receipt], links: list[tuple[str, str]]
) -> Template:
    """The receipts of what a form appended (or had appended, when it is sent again),
    with links to the record; the log's receipt pages for those who may read the log."""
    return render(
        request,
        "form_done.html",
        "form_done",
        status_code=201 if any(not r.replayed for r in receipts) else 200,
        receipts=receipts,
        links=links,
    )
