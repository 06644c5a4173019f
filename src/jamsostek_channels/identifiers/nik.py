"""NIK (*Nomor Induk Kependudukan*): Indonesia's 16-digit national identity number.

``PPRRSSDDMMYYXXXX``: province (PP), regency or city (RR), district (SS), birth date DDMMYY with 40
added to the day for women, and a 4-digit serial that is never ``0000``. It is the customer ID that
every partner channel uses for BPU payments. Structure and region are checked with ``lokal-id``
(which, unlike python-stdnum 2.2, knows Kalimantan Utara (65) and the new Papua provinces 92-96).
A structurally valid NIK is not proof that Dukcapil issued it.

>>> compact("3201.01.550895.0001")
'3201015508950001'
>>> mask("3201015508950001")
'3201********0001'
>>> decode("3201015508950001").sex
'female'
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

import attrs

from jamsostek_channels import redact as _redact
from jamsostek_channels.errors import InvalidInput, Problem
from jamsostek_channels.identifiers import _regions

__all__ = ["NikParts", "compact", "decode", "format", "is_valid", "mask", "problems", "validate"]

_SEPARATORS = re.compile(r"[\s.\-]")
_DIGITS16 = re.compile(r"[0-9]{16}")


@attrs.frozen
class NikParts:
    """What a NIK says about its holder. ``birth_day``/``birth_month``/``birth_yy`` are as encoded
    (the century is not in the NIK)."""

    province: str
    regency: str
    district: str
    birth_day: int
    birth_month: int
    birth_yy: int
    sex: Literal["male", "female"]
    serial: str


def compact(number: str) -> str:
    """Remove spaces, dots and hyphens."""
    if number.isascii() and number.isdigit():  # already compact: skip the regular expression
        return number
    return _SEPARATORS.sub("", number)


def decode(number: str) -> NikParts:
    """Split a 16-digit NIK into its parts (call :func:`validate` first for a checked NIK)."""
    digits = compact(number)
    day = int(digits[6:8])
    female = day > 40
    return NikParts(
        province=digits[0:2],
        regency=digits[0:4],
        district=digits[0:6],
        birth_day=day - 40 if female else day,
        birth_month=int(digits[8:10]),
        birth_yy=int(digits[10:12]),
        sex="female" if female else "male",
        serial=digits[12:16],
    )


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def problems(number: str, field: str = "nik") -> list[Problem]:
    """Every structural problem with ``number`` (an empty list when it is a valid NIK)."""
    digits = compact(number)
    if not _DIGITS16.fullmatch(digits):
        return [Problem.of(field, "nik.format")]
    found: list[Problem] = []
    if not _regions.province_known(digits[0:2]):
        found.append(Problem.of(field, "nik.province"))
    if digits[2:4] == "00" or digits[4:6] == "00":
        found.append(Problem.of(field, "nik.region"))
    day = int(digits[6:8])
    day = day - 40 if day > 40 else day
    # 2000 is a leap year, so 29 February is accepted here; the full date check against the
    # stated birth date happens in validation, where the century is known.
    if not _real_date(2000, int(digits[8:10]), day):
        found.append(Problem.of(field, "nik.birth_date"))
    if digits[12:16] == "0000":
        found.append(Problem.of(field, "nik.serial"))
    return found


def region_known(number: str) -> bool:
    """True when the regency and district codes exist in the latest Kemendagri data.

    A NIK keeps the codes it was issued with, so an unknown code after a region split
    (*pemekaran*) is a warning, not an error.
    """
    digits = compact(number)
    return _regions.district_known(digits[0:6])


def validate(number: str) -> str:
    """Return the compact NIK, or raise :class:`InvalidInput` listing every problem."""
    found = problems(number)
    if found:
        raise InvalidInput(found)
    return compact(number)


def is_valid(number: str) -> bool:
    return not problems(number)


def format(number: str) -> str:
    """``PP.RR.SS.DDMMYY.XXXX``, the way it is often written on forms."""
    d = compact(number)
    return f"{d[0:2]}.{d[2:4]}.{d[4:6]}.{d[6:12]}.{d[12:16]}"


def mask(number: str) -> str:
    """The first 4 and last 4 digits only: the form for logs, reprs, receipts and messages
    (the rule is :func:`jamsostek_channels.redact.nik`)."""
    return _redact.nik(number)
