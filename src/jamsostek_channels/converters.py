"""The canonical JSON form of the model, through cattrs.

Months are ``"YYYY-MM"``, dates ``"YYYY-MM-DD"``, instants ISO 8601 with their offset
(``+07:00``), enums their value, money integer rupiah. ``schemas/*.schema.json`` describe these
forms and the tests hold the two together.

>>> from jamsostek_channels.model import Payer
>>> unstructure(Payer("csr", name="PT Contoh", scheme="SC"))
{'kind': 'csr', 'name': 'PT Contoh', 'scheme': 'SC', 'reference': None}
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from typing import Any, TypeVar

import cattrs

from jamsostek_channels.errors import InvalidInput
from jamsostek_channels.model import (
    MonthSummary,
    Participant,
    Program,
    participant_field_problems,
    read_participant,
)
from jamsostek_channels.period import YearMonth

__all__ = ["converter", "structure", "unstructure"]

_T = TypeVar("_T")


def _structure_date(value: Any, _: type) -> dt.date:
    if not isinstance(value, str):
        raise TypeError("expected a YYYY-MM-DD string")
    return dt.date.fromisoformat(value)


def _structure_datetime(value: Any, _: type) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError("expected an ISO 8601 string")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("an instant needs its UTC offset (e.g. +07:00)")
    return parsed


def _structure_participant(value: Any, _: type) -> Participant:
    """Checked as the constructor checks; what a rule set decides and the age at registration
    are :func:`jamsostek_channels.validation.check_participant`'s, given the rules."""
    if not isinstance(value, dict):
        raise TypeError("expected an object")
    values, found, absent = read_participant(value)
    found += [p for p in participant_field_problems(values) if p.field not in absent]
    if found:
        raise InvalidInput(found)
    return Participant._trusted(values)


def _unstructure_month_summary(summary: MonthSummary) -> dict[str, Any]:
    """A month's amounts per program (0 when not taken): schema ``quote-summary``. The month's
    total is left out on purpose: it is the sum of the three, and the CLI contract omits it."""
    return {
        "period": str(summary.period),
        **{program.value: summary.amounts.get(program, 0) for program in Program},
        "discount": summary.discount,
    }


@functools.cache
def _make() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), lambda member: member.value
    )
    conv.register_unstructure_hook(YearMonth, str)
    conv.register_structure_hook(YearMonth, lambda v, _: YearMonth.parse(v))
    conv.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_structure_hook(Participant, _structure_participant)
    conv.register_unstructure_hook(MonthSummary, _unstructure_month_summary)
    return conv


def converter() -> cattrs.Converter:
    """The shared converter (built on first use)."""
    return _make()


def unstructure(obj: object) -> Any:
    """Model object -> canonical JSON-ready value."""
    return _make().unstructure(obj)


def structure(data: Any, cls: type[_T]) -> _T:
    """Canonical JSON value -> model object (checked as the class's constructor checks)."""
    return _make().structure(data, cls)
