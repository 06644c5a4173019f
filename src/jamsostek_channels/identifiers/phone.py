"""Indonesian mobile numbers (*nomor HP*), stored in E.164 form (``+628...``).

Registration sends an OTP by SMS, so a participant's number must be a mobile one. Parsing accepts
what people write (``0812-3456-7890``, ``+62 812 3456 7890``, ``6281234567890``) through
``lokal-id``, which knows operator prefixes.

>>> compact("0812-3456-7890")
'+6281234567890'
>>> mask("+6281234567890")
'0812****7890'
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from jamsostek_channels import redact as _redact
from jamsostek_channels.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from lokal import PhoneInfo

__all__ = ["compact", "format", "is_valid", "mask", "problems", "validate"]


@functools.lru_cache(maxsize=1024)
def _parse(number: str) -> PhoneInfo:
    """lokal-id's parse, remembered briefly: normalising and checking read the same number."""
    from lokal import parse_phone  # lokal loads its PII detectors on import: only when needed

    return parse_phone(number)


#: The way most people write a mobile number (0812..., 62812..., +62812...), digits only:
#: normalised directly; everything else goes through lokal-id's full parser.
_PLAIN_MOBILE = re.compile(r"(?:\+62|62|0)(8[0-9]{8,11})")


def compact(number: str) -> str:
    """E.164 form when the number parses, else the input unchanged."""
    plain = _PLAIN_MOBILE.fullmatch(number)
    if plain is not None:
        return "+62" + plain[1]
    return _parse(number).e164 or number


#: The stored form of a valid mobile number (what ``compact`` returns): checked without re-parsing.
_E164_MOBILE = re.compile(r"\+628[0-9]{8,11}")


def problems(number: str, field: str = "phone") -> list[Problem]:
    if _E164_MOBILE.fullmatch(number):
        return []
    info = _parse(number)
    if not info.valid:
        return [Problem.of(field, "phone.format")]
    if info.type != "mobile":
        return [Problem.of(field, "phone.not_mobile")]
    return []


def validate(number: str) -> str:
    found = problems(number)
    if found:
        raise InvalidInput(found)
    return compact(number)


def is_valid(number: str) -> bool:
    return not problems(number)


def format(number: str) -> str:
    """National form for display: ``0812-3456-7890``."""
    return _parse(number).national or number


def mask(number: str) -> str:
    """``0812****7890``: the form for logs, reprs and messages (the rule is
    :func:`jamsostek_channels.redact.phone`)."""
    return _redact.phone(number)
