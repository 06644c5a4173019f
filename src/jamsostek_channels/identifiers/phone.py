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

from jamsostek_channels.errors import InvalidInput, Problem

__all__ = ["compact", "format", "is_valid", "mask", "problems", "validate"]


def compact(number: str) -> str:
    """E.164 form when the number parses, else the input unchanged."""
    from lokal import parse_phone

    return parse_phone(number).e164 or number


def problems(number: str, field: str = "phone") -> list[Problem]:
    from lokal import parse_phone

    info = parse_phone(number)
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
    from lokal import parse_phone

    return parse_phone(number).national or number


def mask(number: str) -> str:
    """``0812****7890``: the form for logs, reprs and messages."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"
