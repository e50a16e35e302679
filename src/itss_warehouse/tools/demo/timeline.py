"""The demo's calendar: the export window, working hours, and business minutes added up."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

BUSINESS_START, BUSINESS_END = time(9), time(18)


@dataclass(frozen=True)
class Window:
    """The calendar months covered by the export; nothing happens after `last` 23:59:59."""

    first: date
    last: date

    @property
    def cutoff(self) -> datetime:
        return datetime.combine(self.last, time(23, 59, 59))

    @property
    def years(self) -> range:
        return range(self.first.year, self.last.year + 1)

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


def shift_month(first_of_month: date, months: int) -> date:
    year, month = divmod(first_of_month.year * 12 + first_of_month.month - 1 + months, 12)
    return date(year, month + 1, 1)


def next_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def work_time(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59), rng.randint(0, 59)))


def window_months(window: Window) -> list[date]:
    months = [window.first]
    while (following := shift_month(months[-1], 1)) <= window.last:
        months.append(following)
    return months


def add_minutes(start: datetime, minutes: float, calendar: str) -> datetime:
    """Wall-clock time `minutes` after `start`, counting only Mon-Fri 09:00-18:00 for business hours."""
    if calendar == "7x24":
        return start + timedelta(minutes=minutes)
    at, remaining = start, minutes
    while True:
        if at.weekday() >= 5 or at.time() >= BUSINESS_END:
            at = datetime.combine(at.date() + timedelta(days=1), BUSINESS_START)
            continue
        at = max(at, datetime.combine(at.date(), BUSINESS_START))
        available = (datetime.combine(at.date(), BUSINESS_END) - at).total_seconds() / 60
        if remaining <= available:
            return at + timedelta(minutes=remaining)
        remaining -= available
        at = datetime.combine(at.date() + timedelta(days=1), BUSINESS_START)
