"""Single data elements whose spelling is more than "the text as it is": DE4 (amount), DE7
(transmission time) and DE90 (original data elements of a reversal).

Each has a ``encode_*``/``decode_*`` pair (or a value with ``text``/``parse``); decoding raises
:class:`~jamsostek_channels.errors.MalformedMessage` naming the element, never its value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import attrs

from jamsostek_channels.errors import MalformedMessage

__all__ = [
    "MAX_AMOUNT",
    "OriginalData",
    "TransmissionTime",
    "decode_amount",
    "encode_amount",
]

#: DE4 is n12 in whole rupiah: the largest amount it can carry.
MAX_AMOUNT = 999_999_999_999

_DIGITS = re.compile(r"[0-9]+")


_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _all_digits(text: str) -> bool:
    """One or more of ``0``-``9``: what ``[0-9]+`` says, without a regex call."""
    return text.isascii() and text.isdigit()


def _malformed(field: str, reason: str) -> MalformedMessage:
    return MalformedMessage("message.malformed", {"reason": f"{field}: {reason}"})


def encode_amount(rupiah: int) -> str:
    """DE4: whole rupiah, no minor units, 12 digits (``138983`` -> ``"000000138983"``)."""
    if isinstance(rupiah, bool) or not isinstance(rupiah, int) or not 0 <= rupiah <= MAX_AMOUNT:
        raise ValueError(f"DE4 carries whole rupiah 0..{MAX_AMOUNT}")
    return f"{rupiah:012d}"


def decode_amount(text: str) -> int:
    """DE4 read: exactly 12 digits."""
    if len(text) != 12 or not _all_digits(text):
        raise _malformed("DE4", "not 12 digits")
    return int(text)


def _between(low: int, high: int) -> _Validator:
    def check(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{attribute.name}: {low}..{high}")

    return check


@attrs.frozen(order=True)
class TransmissionTime:
    """DE7, ``MMDDhhmmss``: a moment without its year, in the profile's time zone (UTC by
    default). :meth:`of` spells a moment; :meth:`near` gives one back, taking the year that puts
    it closest to a reference moment (the wire has none).

    >>> utc = dt.timezone.utc
    >>> TransmissionTime.of(dt.datetime(2026, 12, 31, 17, 5, 9, tzinfo=utc)).text
    '1231170509'
    >>> TransmissionTime.parse("1231170509").near(dt.datetime(2027, 1, 1, 0, 0, tzinfo=utc))
    datetime.datetime(2026, 12, 31, 17, 5, 9, tzinfo=datetime.timezone.utc)
    """

    month: int = attrs.field(validator=_between(1, 12))
    day: int = attrs.field(validator=_between(1, 31))
    hour: int = attrs.field(validator=_between(0, 23))
    minute: int = attrs.field(validator=_between(0, 59))
    second: int = attrs.field(validator=_between(0, 59))

    def __attrs_post_init__(self) -> None:
        # 29 February is a day in some years; 31 April in none.
        dt.date(2024, self.month, self.day)

    @classmethod
    def of(cls, moment: dt.datetime, zone: dt.tzinfo = dt.UTC) -> TransmissionTime:
        """``moment`` (aware) as the wire spells it in ``zone``."""
        if moment.tzinfo is None:
            raise ValueError("DE7 needs an aware datetime (time is injected, never assumed)")
        local = moment.astimezone(zone)
        return cls(local.month, local.day, local.hour, local.minute, local.second)

    @classmethod
    def parse(cls, text: str) -> TransmissionTime:
        """DE7 read; :class:`MalformedMessage` unless it is a real MMDDhhmmss."""
        if len(text) != 10 or not _all_digits(text):
            raise _malformed("DE7", "not MMDDhhmmss")
        # Two digits a part: divmod by 100 splits the number at half a slice-and-int() a part.
        rest, second = divmod(int(text), 100)
        rest, minute = divmod(rest, 100)
        rest, hour = divmod(rest, 100)
        month, day = divmod(rest, 100)
        try:
            return cls(month, day, hour, minute, second)
        except ValueError:
            raise _malformed("DE7", "not a real date and time") from None

    @property
    def text(self) -> str:
        # Each part is two digits (the validators say so): one number spelt once, not five.
        parts = (((self.month * 100 + self.day) * 100 + self.hour) * 100 + self.minute) * 100
        return f"{parts + self.second:010d}"

    def near(self, reference: dt.datetime, zone: dt.tzinfo = dt.UTC) -> dt.datetime:
        """The moment in ``zone`` with this DE7 closest to ``reference`` (aware)."""
        local = reference.astimezone(zone)
        candidates = []
        for year in (local.year - 1, local.year, local.year + 1):
            try:
                candidates.append(
                    dt.datetime(
                        year, self.month, self.day, self.hour, self.minute, self.second, tzinfo=zone
                    )
                )
            except ValueError:  # 29 February outside a leap year
                continue
        return min(candidates, key=lambda moment: abs(moment - local))


def _digits(width: int) -> _Validator:
    def check(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
        if not (isinstance(value, str) and len(value) <= width and _DIGITS.fullmatch(value)):
            raise ValueError(f"{attribute.name}: 1..{width} digits")

    return check


def _significant(digits: str) -> str:
    """Zero-padded in DE90, so leading zeros say nothing: ``"008"`` and ``"8"`` are one id."""
    return digits.lstrip("0") or "0" if isinstance(digits, str) else digits


@attrs.frozen
class OriginalData:
    """DE90, 42 digits: what a reversal (0400/0420) undoes.

    ``MTI(4) + STAN(6) + DE7(10) + acquirer id(11) + forwarding id(11)``, the ids right-aligned
    with zeros (the regional-bank practice channels.md cites), so an id's leading zeros are not
    kept. A forwarding id of all zeros is "none".

    >>> original = OriginalData("0200", 1234, TransmissionTime(12, 31, 17, 5, 9), "008")
    >>> original.text
    '020000123412311705090000000000800000000000'
    >>> OriginalData.parse(original.text) == original
    True
    """

    mti: str = attrs.field(validator=attrs.validators.matches_re(r"0[0-9]{3}"))
    stan: int = attrs.field(validator=_between(0, 999_999))
    transmitted: TransmissionTime
    acquirer: str = attrs.field(converter=_significant, validator=_digits(11))
    forwarder: str = attrs.field(default="0", converter=_significant, validator=_digits(11))

    @property
    def text(self) -> str:
        return (
            f"{self.mti}{self.stan:06d}{self.transmitted.text}"
            f"{self.acquirer.zfill(11)}{self.forwarder.zfill(11)}"
        )

    @classmethod
    def parse(cls, text: str) -> OriginalData:
        """DE90 read; :class:`MalformedMessage` unless 42 digits with a real DE7 inside."""
        if len(text) != 42 or not _all_digits(text):
            raise _malformed("DE90", "not 42 digits")
        try:
            transmitted = TransmissionTime.parse(text[10:20])
        except MalformedMessage:
            raise _malformed("DE90", "its DE7 is not a real date and time") from None
        try:
            return cls(
                mti=text[:4],
                stan=int(text[4:10]),
                transmitted=transmitted,
                acquirer=text[20:31],
                forwarder=text[31:42],
            )
        except ValueError:
            raise _malformed("DE90", "the original's MTI is not one") from None
