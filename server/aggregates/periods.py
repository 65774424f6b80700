"""The Periods aggregate: the single `periods` stream of month locks, in either
calendar, each held as the Gregorian days it spans, so deliveries can be checked."""

from __future__ import annotations

import datetime
from typing import Any

import jdatetime  # type: ignore[import-untyped]
from eventsourcing.domain import CanMutateAggregate, TAggregate, event
from eventsourcing.utils import get_topic

from schemas import events
from schemas.events import PERIODS_STREAM
from server.aggregates.base import HamkariAggregate, RuleBroken


class PeriodAlreadyLocked(RuleBroken):
    rule = "period-already-locked"


class PeriodNotLocked(RuleBroken):
    """Only a locked month can be unlocked (in the calendar it was locked in)."""

    rule = "period-not-locked"


class UnlockReasonMissing(RuleBroken):
    rule = "unlock-reason-missing"


class MonthOutOfRange(RuleBroken):
    """A month with no place in the calendar (year 0000, or beyond the calendar's end)."""

    rule = "month-out-of-range"


def month_range(month: str, calendar: str) -> tuple[datetime.date, datetime.date]:
    """The first and last Gregorian day of `month` (YYYY-MM) in `calendar`.

    A Jalali month spans two Gregorian months: 1404-07 (Mehr) is 2025-09-23..2025-10-22."""
    year, number = int(month[:4]), int(month[5:7])
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    try:
        if calendar == "jalali":
            first = jdatetime.date(year, number, 1).togregorian()
            after = jdatetime.date(*following, 1).togregorian()
        else:
            first = datetime.date(year, number, 1)
            after = datetime.date(*following, 1)
    except (ValueError, OverflowError) as exc:
        raise MonthOutOfRange(f"month {month} ({calendar}) is out of range: {exc}") from None
    assert isinstance(first, datetime.date) and isinstance(after, datetime.date)
    return first, after - datetime.timedelta(days=1)


def _key(month: str, calendar: str) -> str:
    return f"{calendar}:{month}"


class Periods(HamkariAggregate):
    """Locked months by `calendar:month`, each with its first and last Gregorian day.

    The stream begins with its first PeriodLocked, so that event class both creates
    the aggregate and, later, adds locks to it."""

    def __init__(self) -> None:
        self.locks: dict[str, dict[str, str]] = {}

    class PeriodLocked(HamkariAggregate.Created):
        """Declared by hand, not by @event: the library's "created" events only create,
        and this one must also add a lock to an existing Periods."""

        data: events.PeriodLocked

        def mutate(self, aggregate: TAggregate | None) -> TAggregate | None:
            if aggregate is None:
                return super().mutate(None)
            return CanMutateAggregate.mutate(self, aggregate)

        def apply(self, aggregate: Any) -> None:
            assert isinstance(aggregate, Periods)
            aggregate._record_lock(self.data)

    @classmethod
    def first_lock(cls, data: events.PeriodLocked) -> Periods:
        month_range(data.month, data.calendar)
        return cls._create(cls.PeriodLocked, id=PERIODS_STREAM, data=data)

    # --- commands ---------------------------------------------------------------

    def lock(self, data: events.PeriodLocked) -> None:
        month_range(data.month, data.calendar)
        if _key(data.month, data.calendar) in self.locks:
            raise PeriodAlreadyLocked(f"{data.month} ({data.calendar}) is already locked")
        self.trigger_event(self.PeriodLocked, data=data, originator_topic=get_topic(type(self)))

    def _record_lock(self, data: events.PeriodLocked) -> None:
        first, last = month_range(data.month, data.calendar)
        self.locks[_key(data.month, data.calendar)] = {
            "month": data.month,
            "calendar": data.calendar,
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
        }

    def unlock(self, data: events.PeriodUnlocked) -> None:
        if not data.reason.strip():
            raise UnlockReasonMissing("unlocking a month needs a reason")
        if _key(data.month, data.calendar) not in self.locks:
            raise PeriodNotLocked(f"{data.month} ({data.calendar}) is not locked")
        self._unlock(data)

    @event("PeriodUnlocked")
    def _unlock(self, data: events.PeriodUnlocked) -> None:
        del self.locks[_key(data.month, data.calendar)]

    # --- views ------------------------------------------------------------------

    def locked_month_over(self, start: datetime.date, end: datetime.date) -> str | None:
        """A locked month that shares a day with start..end, as `YYYY-MM (calendar)`."""
        for lock in self.locks.values():
            first = datetime.date.fromisoformat(lock["first_day"])
            last = datetime.date.fromisoformat(lock["last_day"])
            if first <= end and start <= last:
                return f"{lock['month']} ({lock['calendar']})"
        return None
