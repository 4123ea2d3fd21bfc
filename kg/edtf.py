"""Dates as documents state them: a small subset of EDTF (ISO 8601-2) with honest bounds.

Supported: ``2020-01-03`` (day), ``2020-01`` (month), ``2019`` (year), ``XXXX-01-03`` (day and
month, year not stated), and ranges ``A/B`` of those with ``..`` for an open end
(``2019-05/..`` is "since May 2019").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

__all__ = ["DateSpan", "EdtfError", "combine", "parse_edtf"]

# fullmatch with ASCII digits only: no "٢٠٢٠", no trailing newline.
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_YEAR = re.compile(r"([0-9]{4})")
_NO_YEAR = re.compile(r"XXXX-([0-9]{2})-([0-9]{2})")


class EdtfError(ValueError):
    """A date string outside the supported EDTF subset."""


@dataclass(frozen=True)
class DateSpan:
    """A stated date: its EDTF text, its precision, and the earliest/latest day it allows."""

    edtf: str
    precision: str  # Day, Month, Year, Range, UnknownYear (ckg:<precision>Precision)
    earliest: date | None
    latest: date | None
    month_day: tuple[int, int] | None = None  # for UnknownYear: the stated month and day


def _bounds(text: str) -> tuple[str, date, date]:
    try:
        if m := _DAY.fullmatch(text):
            day = date(int(m[1]), int(m[2]), int(m[3]))
            return "Day", day, day
        if m := _MONTH.fullmatch(text):
            year, month = int(m[1]), int(m[2])
            last = calendar.monthrange(year, month)[1]
            return "Month", date(year, month, 1), date(year, month, last)
        if m := _YEAR.fullmatch(text):
            return "Year", date(int(m[1]), 1, 1), date(int(m[1]), 12, 31)
    except ValueError as error:  # a month 13 or a 30 February
        raise EdtfError(f"{text!r} is not a real date: {error}") from None
    raise EdtfError(
        f"{text!r} is not a supported EDTF date; write YYYY-MM-DD, YYYY-MM, YYYY, XXXX-MM-DD, "
        "or a range A/B with '..' for an open end"
    )


def parse_edtf(text: str) -> DateSpan:
    """Parse an EDTF string of the supported subset into a DateSpan."""
    if m := _NO_YEAR.fullmatch(text):
        month, day = int(m[1]), int(m[2])
        try:
            date(2000, month, day)  # a leap year admits every real month/day
        except ValueError:
            raise EdtfError(f"{text!r} is not a real day of the year") from None
        return DateSpan(text, "UnknownYear", None, None, (month, day))
    if "/" in text:
        start, _, end = text.partition("/")
        earliest = None if start == ".." else _bounds(start)[1]
        latest = None if end == ".." else _bounds(end)[2]
        if earliest is None and latest is None:
            raise EdtfError(f"{text!r}: a range needs at least one bound")
        if earliest and latest and earliest > latest:
            raise EdtfError(f"{text!r}: the range ends before it starts")
        return DateSpan(text, "Range", earliest, latest)
    precision, earliest, latest = _bounds(text)
    return DateSpan(text, precision, earliest, latest)


def _describe(earliest: date | None, latest: date | None) -> tuple[str, str]:
    if earliest and latest:
        if earliest == latest:
            return earliest.isoformat(), "Day"
        last = calendar.monthrange(earliest.year, earliest.month)[1]
        if (earliest.day, latest) == (1, date(earliest.year, earliest.month, last)):
            return earliest.isoformat()[:7], "Month"
        if (earliest.month, earliest.day) == (1, 1) and latest == date(earliest.year, 12, 31):
            return str(earliest.year), "Year"
    start = earliest.isoformat() if earliest else ".."
    end = latest.isoformat() if latest else ".."
    return f"{start}/{end}", "Range"


def _on_or_after(day: date, month: int, month_day: int) -> date | None:
    """The first date on or after `day` that falls on month/month_day."""
    for year in range(day.year, day.year + 5):  # 29 February recurs within 4 years
        try:
            candidate = date(year, month, month_day)
        except ValueError:
            continue
        if candidate >= day:
            return candidate
    return None


def _on_or_before(day: date, month: int, month_day: int) -> date | None:
    """The last date on or before `day` that falls on month/month_day."""
    for year in range(day.year, day.year - 5, -1):
        try:
            candidate = date(year, month, month_day)
        except ValueError:
            continue
        if candidate <= day:
            return candidate
    return None


def combine(spans: list[DateSpan]) -> DateSpan | None:
    """The narrowest span every stated span allows, or None if they contradict each other.

    "3 January" (year not stated) with "January 2020" gives 2020-01-03: day precision; with
    "2019/2021" it gives 2019-01-03/2021-01-03.
    """
    if len(spans) == 1:
        return spans[0]
    lows = [s.earliest for s in spans if s.earliest]
    highs = [s.latest for s in spans if s.latest]
    low, high = (max(lows) if lows else None), (min(highs) if highs else None)
    month_days = {s.month_day for s in spans if s.month_day}
    if len(month_days) > 1:
        return None
    if month_days:
        month, day = month_days.pop()
        if low is None and high is None:
            return DateSpan(f"XXXX-{month:02d}-{day:02d}", "UnknownYear", None, None, (month, day))
        # Narrow each bound to the nearest day the stated month and day allow.
        low = _on_or_after(low, month, day) if low else None
        high = _on_or_before(high, month, day) if high else None
        if (lows and low is None) or (highs and high is None):
            return None
    if low and high and low > high:
        return None
    edtf, precision = _describe(low, high)
    return DateSpan(edtf, precision, low, high)
