"""The ISO 8583 codec: typed messages (:mod:`.messages`) to bytes and back, through pyiso8583.

jPOS keeps the *channel* (framing: :class:`~jamsostek_channels.transport.tcp.Framing`) apart
from the *packager* (field layout); this module is the packager. A :class:`Codec` holds one
pyiso8583 spec, built by :func:`build_spec` from a profile's wire settings: a deep copy of
``iso8583.specs.default_ascii`` (ASCII MTI, 16-character hex bitmap) edited per field, with a
binary bitmap and a 16-character DE41 as options.

Reading never leaks a traceback: bytes that are not a message of the family (a bad MTI, a bitmap
or field pyiso8583 cannot read, a missing mandatory element, a DE48/DE57/DE90/DE7 spelt wrong)
raise :class:`~jamsostek_channels.errors.MalformedMessage` whose reason names the element and the
offset, never the bytes. Elements a message type does not use are ignored when read.

:func:`match_key` gives what the TCP transport matches an answer to its request by (jPOS QMUX):
the MTI's class, DE11 and DE41. ``0200``/``0210`` share the class ``0200``; ``0220``, ``0221``
and ``0230`` share ``0220``; ``0400``/``0401``/``0410`` ``0400``; ``0420``/``0421``/``0430``
``0420``; ``0800``/``0810`` ``0800``. A request the switch starts (an MTI whose function digit is
0 or 2: ``0800``, an ``0200`` sent the wrong way) has no key in :meth:`Codec.decode_keyed`: no
request of the terminal's waits for it, whatever its STAN. :meth:`Codec.peek` reads any
well-framed message's elements as text (one the family's types refuse, such as an ``0800`` with
a DE70 the library does not know), and :meth:`Codec.refusal` answers it with a response code.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs
import iso8583
import iso8583.specs

from jamsostek_channels.adapters.iso8583.fields import (
    OriginalData,
    TransmissionTime,
    decode_amount,
    encode_amount,
)
from jamsostek_channels.adapters.iso8583.messages import (
    Advice,
    AdviceResponse,
    FinancialRequest,
    FinancialResponse,
    InvalidValue,
    Message,
    NetworkCode,
    NetworkRequest,
    NetworkResponse,
    Reversal,
    ReversalResponse,
)
from jamsostek_channels.adapters.iso8583.tlv import Lines, PrivateData
from jamsostek_channels.errors import MalformedMessage

__all__ = ["Bitmap", "Codec", "MatchKey", "build_spec", "is_request", "match_key"]

Bitmap = Literal["hex", "binary"]
Spec = dict[str, dict[str, Any]]


def build_spec(*, bitmap: Bitmap = "hex", terminal_id_length: int = 8) -> Spec:
    """A pyiso8583 spec for the family: ``default_ascii`` with the fields we use set as
    channels.md describes them (every field keeps ASCII data and lengths)."""
    if bitmap not in ("hex", "binary"):
        raise ValueError(f"bitmap is 'hex' or 'binary', not {bitmap!r}")
    if terminal_id_length not in (8, 16):
        raise ValueError(f"DE41 is 8 or 16 characters, not {terminal_id_length!r}")
    spec: Spec = copy.deepcopy(dict(iso8583.specs.default_ascii))

    def field(key: str, len_type: int, max_len: int, data_enc: str = "ascii") -> None:
        spec[key] = {**spec[key], "data_enc": data_enc, "len_enc": "ascii",
                     "len_type": len_type, "max_len": max_len}  # fmt: skip

    field("t", 0, 4)
    if bitmap == "binary":
        field("p", 0, 8, "b")
        field("1", 0, 8, "b")
    else:
        field("p", 0, 16)
        field("1", 0, 16)
    field("3", 0, 6)  # processing code
    field("4", 0, 12)  # amount, whole rupiah
    field("7", 0, 10)  # MMDDhhmmss
    field("11", 0, 6)  # STAN
    field("18", 0, 4)  # channel type (merchant category)
    field("32", 2, 11)  # acquirer id, LLVAR
    field("37", 0, 12)  # RRN
    field("39", 0, 2)  # response code
    field("41", 0, terminal_id_length)
    field("42", 0, 15)  # merchant / agent id
    field("48", 3, 999)  # TLV private data, LLLVAR
    field("49", 0, 3)  # currency
    field("57", 3, 999)  # TLV screen and receipt lines, LLLVAR
    field("70", 0, 3)  # network management code
    field("90", 0, 42)  # original data elements
    return spec


@attrs.frozen
class MatchKey:
    """What an answer is matched to its request by: the MTI's class (the request's MTI with
    repeat and answer digits cleared), DE11 and DE41 (``""`` when absent)."""

    mti_class: str
    stan: int
    terminal: str


def is_request(mti: str) -> bool:
    """Whether ``mti`` asks for an answer (a request or an advice, function digit 0 or 2).

    >>> [is_request(mti) for mti in ("0800", "0810", "0221", "0430")]
    [True, False, True, False]
    """
    return len(mti) == 4 and mti[2] in "02"


#: The elements a refusal echoes from the request it answers (those present in it).
_ECHOED = ("3", "4", "7", "11", "32", "37", "41", "42", "49", "70", "90")


def _mti_class(mti: str) -> str:
    # version digit, message class; function 0/1 (request/answer) -> 0, 2/3 (advice) -> 2
    return f"{mti[:2]}{'2' if mti[2] in '23' else '0'}0"


def match_key(message: Message) -> MatchKey:
    """The key under which ``message`` and its answer meet."""
    return MatchKey(_mti_class(message.mti), message.stan, message.terminal or "")


# --- one element at a time --------------------------------------------------------------------


@attrs.frozen
class _Element:
    """How one element is written and read. A text element is read as it is (``str``) or
    without its padding: the message type's own validator checks it (once), and
    :meth:`Codec.decode` names the element when it refuses it."""

    number: str
    write: Callable[[Any], str]
    read: Callable[[str], Any]


def _malformed(reason: str) -> MalformedMessage:
    return MalformedMessage("message.malformed", {"reason": reason})


def _stan(text: str) -> int:
    # Checked before int(), which would also take " 12", "+12" and "1_2".
    if not (len(text) == 6 and text.isascii() and text.isdigit()):
        raise _malformed("DE11: not 6 digits")
    return int(text)


def _unpadded(text: str) -> str:
    return text.rstrip(" ")


def _network_code(text: str) -> NetworkCode:
    try:
        return NetworkCode(text)
    except ValueError:
        raise _malformed("DE70: not a network management code we know") from None


def _elements(terminal_id_length: int) -> Mapping[str, _Element]:
    """The elements by the messages' attribute names, for one DE41 width."""
    width = terminal_id_length
    return {
        "processing_code": _Element("3", str, str),
        "amount": _Element("4", encode_amount, decode_amount),
        "transmitted": _Element("7", lambda t: t.text, TransmissionTime.parse),
        "stan": _Element("11", lambda n: f"{n:06d}", _stan),
        "channel_type": _Element("18", str, str),
        "acquirer": _Element("32", str, str),
        "rrn": _Element("37", str, str),
        "response_code": _Element("39", str, str),
        "terminal": _Element("41", lambda t: t.ljust(width), _unpadded),
        "merchant": _Element("42", lambda m: m.ljust(15), _unpadded),
        "private": _Element("48", lambda p: p.encode(), PrivateData.decode),
        "currency": _Element("49", str, str),
        "lines": _Element("57", lambda lines: lines.encode(), Lines.decode),
        "code": _Element("70", lambda c: c.value, _network_code),
        "original": _Element("90", lambda o: o.text, OriginalData.parse),
    }


#: MTI -> the type it is read as, and the flags the MTI itself sets.
_TYPES: Mapping[str, tuple[type[Any], Mapping[str, bool]]] = {
    "0200": (FinancialRequest, {}),
    "0210": (FinancialResponse, {}),
    "0220": (Advice, {"repeat": False}),
    "0221": (Advice, {"repeat": True}),
    "0230": (AdviceResponse, {}),
    "0400": (Reversal, {"advice": False, "repeat": False}),
    "0401": (Reversal, {"advice": False, "repeat": True}),
    "0410": (ReversalResponse, {"advice": False}),
    "0420": (Reversal, {"advice": True, "repeat": False}),
    "0421": (Reversal, {"advice": True, "repeat": True}),
    "0430": (ReversalResponse, {"advice": True}),
    "0800": (NetworkRequest, {}),
    "0810": (NetworkResponse, {}),
}
_FLAGS = frozenset({"repeat", "advice"})
#: pyiso8583's keys that are no data element, as a reason names them.
_NAMES = {"t": "MTI", "p": "bitmap", "1": "secondary bitmap"}


#: One message type's elements, in attribute order: name, element, whether the type requires it.
_Plan = tuple[tuple[str, _Element, bool], ...]


class Codec:
    """Encodes and decodes the family's messages with one spec (see :func:`build_spec`)."""

    def __init__(self, *, bitmap: Bitmap = "hex", terminal_id_length: int = 8) -> None:
        self.bitmap = bitmap
        self.terminal_id_length = terminal_id_length
        self.spec = build_spec(bitmap=bitmap, terminal_id_length=terminal_id_length)
        self._elements = _elements(terminal_id_length)
        #: attribute name -> element number, for naming what a type's validator refused
        self._numbers = {name: element.number for name, element in self._elements.items()}
        self._plans: dict[type[Any], _Plan] = {}

    def _plan(self, kind: type[Any]) -> _Plan:
        """``kind``'s elements, worked out once per type: looking up its attrs fields and the
        element table on every message was a third of the codec's own time."""
        plan = self._plans.get(kind)
        if plan is None:
            plan = tuple(
                (field.name, self._elements[field.name], field.default is attrs.NOTHING)
                for field in attrs.fields(kind)
                if field.name not in _FLAGS
            )
            self._plans[kind] = plan  # the same tuple whichever thread builds it first
        return plan

    def encode(self, message: Message) -> bytes:
        """The message's bytes (no length header: that is the framing's). ``ValueError`` if a
        value does not fit its element (a DE41 longer than the profile's, DE48 over 999)."""
        doc: dict[str, str] = {"t": message.mti}
        for name, element, _required in self._plan(type(message)):
            value = getattr(message, name)
            if value is None:
                continue
            text = element.write(value)
            if not text and isinstance(value, PrivateData | Lines):
                continue  # no items: the element is left out (spelt once, not twice)
            doc[element.number] = text
        if len(doc.get("41", "")) > self.terminal_id_length:
            raise ValueError(f"DE41 is {self.terminal_id_length} characters in this profile")
        try:
            raw, _encoded = iso8583.encode(doc, self.spec)
        except iso8583.EncodeError as exc:
            raise ValueError(f"DE{exc.field} does not fit its element") from None
        return bytes(raw)

    def decode(self, frame: bytes) -> Message:
        """The message in ``frame``; :class:`MalformedMessage` if it is not one of the family."""
        try:
            doc, _encoded = iso8583.decode(frame, self.spec)
        except iso8583.DecodeError as exc:
            where = _NAMES.get(exc.field, f"DE{exc.field}")
            raise _malformed(f"{where} at byte {exc.pos}: {exc.msg[:80]}") from None
        mti = doc["t"]
        if mti not in _TYPES:
            raise _malformed("MTI: not a message of this family")
        kind, flags = _TYPES[mti]
        values: dict[str, Any] = dict(flags)
        for name, element, required in self._plan(kind):
            text = doc.get(element.number)
            if text is not None:
                try:
                    values[name] = element.read(text)
                except ValueError:  # a reader's own check; its text may quote the value
                    raise _malformed(f"DE{element.number}: not as the element is spelt") from None
            elif required:
                raise _malformed(f"DE{element.number} missing from {mti}")
        try:
            message: Message = kind(**values)
        except InvalidValue as exc:  # an element not spelt as its type says (what, not value)
            raise _malformed(f"DE{self._numbers[exc.attribute]}: not {exc.what}") from None
        except ValueError:  # every element read well, yet not a valid message
            raise _malformed(f"{mti}: an element out of range") from None
        return message

    def decode_keyed(self, frame: bytes) -> tuple[MatchKey | None, Message]:
        """What :class:`~jamsostek_channels.transport.tcp.TcpTransport` is given as
        ``decode``: the message and its :func:`match_key`; ``None`` for a request (the switch's
        own: a terminal's transport only ever receives answers to what it sent, and these)."""
        message = self.decode(frame)
        return (None if is_request(message.mti) else match_key(message)), message

    def peek(self, frame: bytes) -> dict[str, str] | None:
        """The message's elements as text by number (``"t"`` the MTI), read by the spec alone
        without the family's types; ``None`` if even that fails. For answering a request the
        types refuse: the elements may hold personal data, never log them."""
        try:
            doc, _encoded = iso8583.decode(frame, self.spec)
        except iso8583.DecodeError:
            return None
        return {key: value for key, value in doc.items() if isinstance(value, str)}

    def refusal(self, request: Mapping[str, str], code: str) -> bytes:
        """The answer to ``request`` (elements by number, as :meth:`peek` gives) refusing it
        with response code ``code``: its MTI's response (``0800`` -> ``0810``, ``0220`` ->
        ``0230``), the request's DE3, DE4, DE7, DE11, DE32, DE37, DE41, DE42, DE49, DE70 and
        DE90 as they came, DE39 ``code``."""
        mti = request["t"]
        if not is_request(mti):
            raise ValueError("only a request is refused")
        doc = {"t": f"{mti[:2]}{int(mti[2]) + 1}{mti[3]}", "39": code}
        doc.update({number: request[number] for number in _ECHOED if number in request})
        try:
            raw, _encoded = iso8583.encode(doc, self.spec)
        except iso8583.EncodeError as exc:
            raise ValueError(f"DE{exc.field} does not fit its element") from None
        return bytes(raw)
