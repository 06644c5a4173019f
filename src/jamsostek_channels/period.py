"""Contribution periods: a calendar month, written ``YYYY-MM``.

BPU contributions (*iuran*) are owed per month, so the month is the unit every rule speaks in.
:class:`YearMonth` is a small immutable value with arithmetic in whole months.

>>> YearMonth.parse("2026-11") + 2
YearMonth(year=2027, month=1)
>>> YearMonth(2027, 3) - YearMonth(2026, 11)
4
>>> str(YearMonth(2026, 4))
'2026-04'
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from typing import overload

import attrs

__all__ = ["YearMonth", "month_range"]

_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})")


def _check_month(instance: YearMonth, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= 12:
        raise ValueError(f"month must be 1..12, got {value}")


def _check_year(instance: YearMonth, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1900 <= value <= 9999:
        raise ValueError(f"year must be 1900..9999, got {value}")


@attrs.frozen(order=True, cache_hash=True)
class YearMonth:
    """One calendar month; ordered, hashable, and usable as a dictionary key."""

    year: int = attrs.field(validator=_check_year)
    month: int = attrs.field(validator=_check_month)

    @classmethod
    def parse(cls, text: str) -> YearMonth:
        """Read ``YYYY-MM``; raises :class:`ValueError` on anything else."""
        if not isinstance(text, str):
            raise ValueError(f"expected YYYY-MM, got {text!r}")
        return _parse(text)

    @classmethod
    def of(cls, day: dt.date) -> YearMonth:
        """The month a date falls in."""
        return cls(day.year, day.month)

    @property
    def index(self) -> int:
        """Months since year 0: makes month arithmetic plain integer arithmetic."""
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> YearMonth:
        """The month ``index`` months after year 0 (interned: months are hot dictionary keys)."""
        cached = _INTERNED.get(index)
        if cached is None:
            year, month0 = divmod(index, 12)
            cached = cls(year, month0 + 1)
            if len(_INTERNED) < _INTERN_LIMIT:
                _INTERNED[index] = cached
        return cached

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def last_day(self) -> dt.date:
        return (self + 1).first_day() - dt.timedelta(days=1)

    def __add__(self, months: int) -> YearMonth:
        if not isinstance(months, int) or isinstance(months, bool):
            return NotImplemented
        return YearMonth.from_index(self.index + months)

    @overload
    def __sub__(self, other: YearMonth) -> int: ...
    @overload
    def __sub__(self, other: int) -> YearMonth: ...
    def __sub__(self, other: YearMonth | int) -> int | YearMonth:
        if isinstance(other, YearMonth):
            return self.index - other.index
        if isinstance(other, int) and not isinstance(other, bool):
            return YearMonth.from_index(self.index - other)
        return NotImplemented

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> YearMonth:
    """Months repeat (a settlement file names the same few thousands of times): each text is
    read once; failures are not cached."""
    match = _PATTERN.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"expected YYYY-MM, got {text!r}")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    if not 1900 <= year <= 9999:
        raise ValueError(f"year must be 1900..9999, got {year}")
    return YearMonth.from_index(year * 12 + month - 1)


_INTERNED: dict[int, YearMonth] = {}
_INTERN_LIMIT = 12 * 300  # three centuries of months


def month_range(first: YearMonth, count: int) -> Iterator[YearMonth]:
    """``count`` consecutive months starting at ``first``."""
    start = first.index
    for index in range(start, start + count):
        yield YearMonth.from_index(index)
