"""KPJ (*Kartu Peserta Jamsostek*): the BPJS Ketenagakerjaan membership card number.

Its format is not published; 11 digits is the common assumption (confidence L), so the length is a
setting (:data:`LENGTH`) rather than a fact baked into callers.

>>> is_valid("12345678901")
True
>>> mask("12345678901")
'*******8901'
"""

from __future__ import annotations

import re

from jamsostek_channels import redact as _redact
from jamsostek_channels.errors import InvalidInput, Problem

__all__ = ["LENGTH", "compact", "format", "is_valid", "mask", "problems", "validate"]

#: Digits in a KPJ number (assumption, confidence L).
LENGTH = 11
_SEPARATORS = re.compile(r"[\s.\-]")


def compact(number: str) -> str:
    return _SEPARATORS.sub("", number)


def problems(number: str, field: str = "kpj") -> list[Problem]:
    digits = compact(number)
    if len(digits) != LENGTH or not digits.isascii() or not digits.isdigit():
        return [Problem.of(field, "kpj.format", {"length": LENGTH})]
    return []


def validate(number: str) -> str:
    found = problems(number)
    if found:
        raise InvalidInput(found)
    return compact(number)


def is_valid(number: str) -> bool:
    return not problems(number)


def format(number: str) -> str:
    return compact(number)


def mask(number: str) -> str:
    """The last 4 digits only (the rule is :func:`jamsostek_channels.redact.kpj`)."""
    return _redact.kpj(number)
