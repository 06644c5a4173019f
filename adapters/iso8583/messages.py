"""The ISO 8583 messages of the family as typed values (attrs, frozen): what a terminal, the
library and the fake switch say to each other, before any byte is spelt (:mod:`.codec` spells
them).

=================  ==========================  ===================================================
MTI                value                       what it is
=================  ==========================  ===================================================
0200 / 0210        :class:`FinancialRequest`   inquiry, payment (and the project's registration)
                   / :class:`FinancialResponse`  by processing code (DE3)
0220, 0221 / 0230  :class:`Advice` /           "the payment stands": completes an unanswered
                   :class:`AdviceResponse`     payment; 0221 is a repeat (``repeat=True``)
0400, 0401 / 0410  :class:`Reversal` /         "undo it": DE90 names the original; 0401 repeat
                   :class:`ReversalResponse`
0420, 0421 / 0430  :class:`Reversal` /         the reversal as an advice (``advice=True``): the
                   :class:`ReversalResponse`   acquirer has already undone it on its side
0800 / 0810        :class:`NetworkRequest` /   sign-on (DE70 001), sign-off (002), echo (301)
                   :class:`NetworkResponse`
=================  ==========================  ===================================================

Field by field: DE3 processing code, DE4 amount in whole rupiah, DE7 transmission time
(:class:`~.fields.TransmissionTime`), DE11 STAN, DE18 channel type, DE32 acquirer id, DE37 RRN,
DE39 response code, DE41 terminal id, DE42 merchant/agent id, DE48 private data
(:class:`~.tlv.PrivateData`), DE49 currency, DE57 screen/receipt lines (:class:`~.tlv.Lines`),
DE70 network management code, DE90 original data (:class:`~.fields.OriginalData`).

Values are checked when built (``ValueError``: our own message would be wrong); reprs mask what
DE48 and DE57 carry about the customer.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any

import attrs

from jamsostek_channels.adapters.iso8583.fields import MAX_AMOUNT, OriginalData, TransmissionTime
from jamsostek_channels.adapters.iso8583.tlv import Lines, PrivateData

__all__ = [
    "RUPIAH",
    "Advice",
    "AdviceResponse",
    "Answer",
    "FinancialRequest",
    "FinancialResponse",
    "InvalidValue",
    "Message",
    "NetworkCode",
    "NetworkRequest",
    "NetworkResponse",
    "Reversal",
    "ReversalResponse",
    "Transaction",
]

#: DE49 for Indonesian rupiah (ISO 4217 numeric).
RUPIAH = "360"

_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


class InvalidValue(ValueError):
    """A message's value its type refuses: :attr:`attribute` names it and :attr:`what` says
    what it must be (never the value), so the codec's reason can name the element instead of
    checking the element a second time while reading it."""

    def __init__(self, attribute: str, what: str) -> None:
        super().__init__(f"{attribute}: {what}")
        self.attribute = attribute
        self.what = what


def _pattern(regex: str, what: str) -> _Validator:
    compiled = re.compile(regex)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not (isinstance(value, str) and compiled.fullmatch(value)):
            raise InvalidValue(attribute.name, what)

    return check


def _whole(low: int, high: int) -> _Validator:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidValue(attribute.name, f"a whole number {low}..{high}")

    return check


_PROCESSING_CODE = _pattern(r"[0-9]{6}", "6 digits")
_CHANNEL_TYPE = _pattern(r"[0-9]{4}", "4 digits")
_ACQUIRER = _pattern(r"[0-9]{1,11}", "1 to 11 digits")
_RRN = _pattern(r"[0-9A-Za-z]{12}", "12 letters or digits")
_RESPONSE_CODE = _pattern(r"[0-9A-Z]{2}", "2 digits or upper-case letters")
# Space-padded on the wire, so no trailing space of its own.
_TERMINAL = _pattern(r"[\x21-\x7e]([\x20-\x7e]{0,14}[\x21-\x7e])?", "1 to 16 printable characters")
_MERCHANT = _pattern(r"[\x21-\x7e]([\x20-\x7e]{0,13}[\x21-\x7e])?", "1 to 15 printable characters")
_CURRENCY = _pattern(r"[0-9]{3}", "3 digits")
_STAN = _whole(0, 999_999)
# A message without DE48 or DE57 shares these (frozen, so nothing can tell): an answer without
# DE57, an echo without DE48, no longer build and check an empty one each.
_NO_ITEMS = PrivateData()
_NO_LINES = Lines()
_AMOUNT = _whole(0, MAX_AMOUNT)


class NetworkCode(enum.StrEnum):
    """DE70 of a network management message."""

    SIGN_ON = "001"
    SIGN_OFF = "002"
    ECHO = "301"


@attrs.frozen(kw_only=True)
class Transaction:
    """What every financial request carries (0200, 0220/0221, 0400/0401, 0420/0421)."""

    processing_code: str = attrs.field(validator=_PROCESSING_CODE)
    amount: int = attrs.field(validator=_AMOUNT)
    transmitted: TransmissionTime
    stan: int = attrs.field(validator=_STAN)
    channel_type: str = attrs.field(validator=_CHANNEL_TYPE)
    acquirer: str = attrs.field(validator=_ACQUIRER)
    rrn: str = attrs.field(validator=_RRN)
    terminal: str = attrs.field(validator=_TERMINAL)
    merchant: str | None = attrs.field(default=None, validator=_MERCHANT)
    private: PrivateData = attrs.field(default=_NO_ITEMS)
    currency: str = attrs.field(default=RUPIAH, validator=_CURRENCY)


@attrs.frozen(kw_only=True)
class FinancialRequest(Transaction):
    """0200: an inquiry or a payment, told apart by DE3."""

    @property
    def mti(self) -> str:
        return "0200"


@attrs.frozen(kw_only=True)
class Advice(Transaction):
    """0220 (0221 when ``repeat``): the payment stands; the host applies it if it has not."""

    repeat: bool = False

    @property
    def mti(self) -> str:
        return "0221" if self.repeat else "0220"


@attrs.frozen(kw_only=True)
class Reversal(Transaction):
    """0400 (0401 when ``repeat``), or 0420 (0421) when ``advice``: undo the payment that
    :attr:`original` names."""

    original: OriginalData
    advice: bool = False
    repeat: bool = False

    @property
    def mti(self) -> str:
        return f"04{2 if self.advice else 0}{1 if self.repeat else 0}"


@attrs.frozen(kw_only=True)
class Answer:
    """What every answer to a financial request carries (0210, 0230, 0410, 0430): the
    request's DE3, DE7, DE11 and DE41 echoed (they match it), and DE39. The rest is optional:
    a refusal may carry no amount."""

    processing_code: str = attrs.field(validator=_PROCESSING_CODE)
    transmitted: TransmissionTime
    stan: int = attrs.field(validator=_STAN)
    terminal: str = attrs.field(validator=_TERMINAL)
    response_code: str = attrs.field(validator=_RESPONSE_CODE)
    amount: int | None = attrs.field(default=None, validator=_AMOUNT)
    channel_type: str | None = attrs.field(default=None, validator=_CHANNEL_TYPE)
    acquirer: str | None = attrs.field(default=None, validator=_ACQUIRER)
    rrn: str | None = attrs.field(default=None, validator=_RRN)
    merchant: str | None = attrs.field(default=None, validator=_MERCHANT)
    private: PrivateData = attrs.field(default=_NO_ITEMS)
    lines: Lines = attrs.field(default=_NO_LINES)
    currency: str | None = attrs.field(default=None, validator=_CURRENCY)

    @property
    def approved(self) -> bool:
        return self.response_code == "00"


@attrs.frozen(kw_only=True)
class FinancialResponse(Answer):
    """0210."""

    @property
    def mti(self) -> str:
        return "0210"


@attrs.frozen(kw_only=True)
class AdviceResponse(Answer):
    """0230: the answer to 0220 and 0221 alike."""

    @property
    def mti(self) -> str:
        return "0230"


@attrs.frozen(kw_only=True)
class ReversalResponse(Answer):
    """0410 (0430 when ``advice``): the answer to 0400/0401 (0420/0421)."""

    original: OriginalData | None = None
    advice: bool = False

    @property
    def mti(self) -> str:
        return "0430" if self.advice else "0410"


@attrs.frozen(kw_only=True)
class NetworkRequest:
    """0800: sign-on, sign-off or echo (:class:`NetworkCode`). DE48 may carry a partner's
    sign-on credentials (in :attr:`PrivateData.other`)."""

    code: NetworkCode = attrs.field(converter=NetworkCode)
    transmitted: TransmissionTime
    stan: int = attrs.field(validator=_STAN)
    terminal: str | None = attrs.field(default=None, validator=_TERMINAL)
    private: PrivateData = attrs.field(default=_NO_ITEMS)

    @property
    def mti(self) -> str:
        return "0800"


@attrs.frozen(kw_only=True)
class NetworkResponse:
    """0810."""

    code: NetworkCode = attrs.field(converter=NetworkCode)
    transmitted: TransmissionTime
    stan: int = attrs.field(validator=_STAN)
    response_code: str = attrs.field(validator=_RESPONSE_CODE)
    terminal: str | None = attrs.field(default=None, validator=_TERMINAL)
    private: PrivateData = attrs.field(default=_NO_ITEMS)

    @property
    def mti(self) -> str:
        return "0810"

    @property
    def approved(self) -> bool:
        return self.response_code == "00"


#: Any message of the family.
Message = (
    FinancialRequest
    | FinancialResponse
    | Advice
    | AdviceResponse
    | Reversal
    | ReversalResponse
    | NetworkRequest
    | NetworkResponse
)
