"""The TLV sub-fields of ISO 8583 private data: DE48 (what is paid) and DE57 (screen and receipt
lines).

Each item is a 2-character tag, a 2-digit decimal length (``00``–``99``) and that many
characters, one after another with nothing between (the AltoPay EBIPP practice)::

    >>> encode_items([("PI", "BPU001"), ("AT", "36800")])
    'PI06BPU001AT0536800'
    >>> decode_items("PI06BPU001AT0536800")
    (('PI', 'BPU001'), ('AT', '36800'))

Tags are upper-case letters and digits; values printable ASCII. Reading keeps every item, known
or not, in order; anything that does not parse (a length that is not two digits, a value cut
short, a character outside printable ASCII) is a :class:`MalformedMessage` naming the field and
the offset, never the value.

:class:`PrivateData` gives DE48's items names: the common tags of Indonesian PPOB practice and
this project's own (documented in ``docs/channels/iso8583.md``):

====  =========================  =====  ======================================================
tag   meaning                    max    spelling
====  =========================  =====  ======================================================
PI    product id                 6      ``BPU001`` (the biller's product for BPU contributions)
CN    customer number            24     the 16-digit NIK or the 11-digit KPJ
NM    customer name              50     as the host has it (printable ASCII)
AT    total amount               12     whole rupiah, digits only (contribution, no fee)
AC    admin fee                  12     whole rupiah, digits only, always apart from AT
MC    months paid *(project)*    2      ``1``–``99``
FP    first period *(project)*   6      ``YYYYMM``: the first month paid
PG    programs *(project)*       11     ``JKK,JKM,JHT`` (upper-case, comma-separated)
PA    per-program amounts        99     ``JKK=16800,JKM=6800``: whole rupiah for the months
      *(project)*
DN    discount named *(project)* 50     the discount's name as the quote names it
DA    discount amount            12     whole rupiah taken off AT's undiscounted sum
      *(project)*
====  =========================  =====  ======================================================

Any other tag (C1/C2 customer references, FR forwarding reference, FS forwarding STAN, a
partner's own) is kept, in order, in :attr:`PrivateData.other`.

:class:`Lines` gives DE57's: ``S0``–``S9`` screen lines and ``R0``–``R9``, ``RA``–``RI`` receipt
lines, at most 50 characters each.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from jamsostek_channels import redact
from jamsostek_channels.errors import MalformedMessage
from jamsostek_channels.model import Program
from jamsostek_channels.period import YearMonth

__all__ = [
    "RECEIPT_TAGS",
    "SCREEN_TAGS",
    "Lines",
    "PrivateData",
    "decode_items",
    "encode_items",
]

_TAG_CHARACTERS = string.ascii_uppercase + string.digits
#: Every tag there can be (``[A-Z0-9]{2}``) and every length (``[0-9]{2}``, read): a set and a
#: dict look-up check and read an item's head at a fraction of a regex match and an int().
_TAGS = frozenset(a + b for a in _TAG_CHARACTERS for b in _TAG_CHARACTERS)
_LENGTHS = {f"{length:02d}": length for length in range(100)}
_MAX_ITEM = 99
#: The longest screen or receipt line.
LINE_WIDTH = 50
SCREEN_TAGS = tuple(f"S{c}" for c in "0123456789")
RECEIPT_TAGS = tuple(f"R{c}" for c in "0123456789ABCDEFGHI")


_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _malformed(field: str, reason: str) -> MalformedMessage:
    return MalformedMessage("message.malformed", {"reason": f"{field}: {reason}"})


def _printable(text: str) -> bool:
    """Printable ASCII (``\\x20``-``\\x7e``) throughout, the empty text too: what the regex
    ``[\\x20-\\x7e]*`` says, in two str methods at about half its cost."""
    return text.isascii() and text.isprintable()


def _digits(text: str) -> bool:
    """One or more of ``0``-``9`` (``[0-9]+``; ``isdigit`` alone also takes other scripts')."""
    return text.isascii() and text.isdigit()


def encode_items(items: Iterable[tuple[str, str]]) -> str:
    """The TLV text of ``items``; ``ValueError`` for a bad tag, a value over 99 characters or
    one outside printable ASCII (our own message would be wrong: nothing is sent)."""
    parts = []
    for tag, value in items:
        if tag not in _TAGS:
            raise ValueError(f"a TLV tag is 2 upper-case letters or digits, not {tag!r}")
        if len(value) > _MAX_ITEM or not _printable(value):
            raise ValueError(f"TLV {tag}: at most {_MAX_ITEM} printable ASCII characters")
        parts.append(f"{tag}{len(value):02d}{value}")
    return "".join(parts)


def _bad_head(text: str, at: int, field: str) -> MalformedMessage:
    """Why the item at ``at`` has no tag and length to read."""
    if len(text) - at < 4:
        return _malformed(field, f"TLV item cut short at offset {at}")
    tag = text[at : at + 2]
    if tag not in _TAGS:
        return _malformed(field, f"bad TLV tag at offset {at}")
    return _malformed(field, f"TLV {tag}: length is not 2 digits")


def decode_items(text: str, *, field: str = "DE48") -> tuple[tuple[str, str], ...]:
    """Every item of ``text`` in order; :class:`MalformedMessage` if it is not TLV."""
    items = []
    at, size = 0, len(text)
    # Printable throughout (the usual case): each value need not be checked again below; a
    # text that is not is read item by item, so the error names the item at fault.
    printable = _printable(text)
    while at < size:
        tag = text[at : at + 2]
        start = at + 4
        length = _LENGTHS.get(text[at + 2 : start])  # None: not two digits, or cut short
        if length is None or tag not in _TAGS:
            raise _bad_head(text, at, field)
        end = start + length
        if end > size:
            raise _malformed(field, f"TLV {tag}: value cut short")
        value = text[start:end]
        if not printable and not _printable(value):
            raise _malformed(field, f"TLV {tag}: not printable ASCII")
        items.append((tag, value))
        at = end
    return tuple(items)


# --- DE48 --------------------------------------------------------------------------------------


def _fits(limit: int) -> _Validator:
    def check(_instance: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None and (len(value) > limit or not _printable(value)):
            raise ValueError(f"{attribute.name}: at most {limit} printable ASCII characters")

    return check


def _rupiah(_instance: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and not 0 <= value <= 999_999_999_999:
        raise ValueError(f"{attribute.name}: whole rupiah 0..999999999999")


def _texts(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


# The converters build a list, not a generator: a third cheaper, and every PrivateData built
# (four a payment) runs all three.
def _pairs(values: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple([(str(tag), str(value)) for tag, value in values])


def _program_list(values: Iterable[Program]) -> tuple[Program, ...]:
    return tuple(map(Program, values))


def _others(items: tuple[tuple[str, str], ...]) -> str:
    return repr(tuple(tag for tag, _ in items))  # tags only: a C1 may be a phone number


def _program_amounts(
    value: Mapping[Program, int] | Iterable[tuple[Program, int]],
) -> tuple[tuple[Program, int], ...]:
    pairs = value.items() if isinstance(value, Mapping) else value
    return tuple([(Program(program), int(amount)) for program, amount in pairs])


@attrs.frozen(kw_only=True)
class PrivateData:
    """DE48's items by name (see the module's table); every field optional. Personal data is
    masked in the repr."""

    product: str | None = attrs.field(default=None, validator=_fits(6))
    customer: str | None = attrs.field(
        default=None,
        validator=_fits(24),
        repr=redact.optional(redact.customer),
    )
    name: str | None = attrs.field(
        default=None,
        validator=_fits(50),
        repr=redact.optional(redact.name),
    )
    amount: int | None = attrs.field(default=None, validator=_rupiah)
    admin_fee: int | None = attrs.field(default=None, validator=_rupiah)
    months: int | None = attrs.field(default=None)
    first_period: YearMonth | None = None
    programs: tuple[Program, ...] = attrs.field(default=(), converter=_program_list)
    program_amounts: tuple[tuple[Program, int], ...] = attrs.field(
        default=(), converter=_program_amounts
    )
    discount_name: str | None = attrs.field(default=None, validator=_fits(50))
    discount_amount: int | None = attrs.field(default=None, validator=_rupiah)
    #: Items with any other tag, in the order they came.
    other: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs, repr=_others)

    def __attrs_post_init__(self) -> None:
        if self.months is not None and not 1 <= self.months <= 99:
            raise ValueError("months: 1..99")
        if len(set(self.programs)) != len(self.programs):
            raise ValueError("programs: each at most once")
        if self.program_amounts:  # (each check below holds of no amounts)
            paid_for = [program for program, _amount in self.program_amounts]
            if len(set(paid_for)) != len(paid_for):
                raise ValueError("program_amounts: each program at most once")
            for _program, amount in self.program_amounts:
                if not 0 <= amount <= 999_999_999_999:
                    raise ValueError("program_amounts: whole rupiah 0..999999999999")
        for tag, _value in self.other:
            if tag in _KNOWN:
                raise ValueError(f"tag {tag} has its own field")

    def items(self) -> tuple[tuple[str, str], ...]:
        """The TLV items, known tags first in the table's order, then :attr:`other`."""
        items: list[tuple[str, str]] = []

        def put(tag: str, value: object) -> None:
            if value is not None:
                items.append((tag, str(value)))

        put("PI", self.product)
        put("CN", self.customer)
        put("NM", self.name)
        put("AT", self.amount)
        put("AC", self.admin_fee)
        put("MC", self.months)
        if self.first_period is not None:
            put("FP", f"{self.first_period.year:04d}{self.first_period.month:02d}")
        if self.programs:
            put("PG", ",".join(p.name for p in self.programs))
        if self.program_amounts:
            put("PA", ",".join(f"{p.name}={amount}" for p, amount in self.program_amounts))
        put("DN", self.discount_name)
        put("DA", self.discount_amount)
        return (*items, *self.other)

    def encode(self) -> str:
        return encode_items(self.items())

    @classmethod
    def decode(cls, text: str) -> PrivateData:
        """DE48's text read; :class:`MalformedMessage` for bad TLV, a known tag twice, or a
        known tag whose value is not spelt as the table says."""
        # Each known item goes straight to its field, read as the table says: no dict of
        # texts looked up again tag by tag, no reader called for a tag that is absent.
        values: dict[str, Any] = {}
        other = []
        try:
            for tag, value in decode_items(text, field="DE48"):
                known = _FIELDS.get(tag)
                if known is None:
                    other.append((tag, value))
                    continue
                name, read = known
                if name in values:
                    raise _malformed("DE48", f"TLV {tag} twice")
                values[name] = value if read is None else read(tag, value)
            return cls(**values, other=other)
        except ValueError as exc:  # a value the table does not allow (these texts quote no data)
            raise _malformed("DE48", str(exc)) from None


#: Known tags and their longest value.
_KNOWN = {"PI": 6, "CN": 24, "NM": 50, "AT": 12, "AC": 12, "MC": 2, "FP": 6, "PG": 11, "PA": 99,
          "DN": 50, "DA": 12}  # fmt: skip


def _whole(tag: str, value: str) -> int:
    if not (_digits(value) and len(value) <= _KNOWN[tag]):
        raise ValueError(f"TLV {tag} is not whole rupiah digits")
    return int(value)


def _period(_tag: str, value: str) -> YearMonth:
    if not (len(value) == 6 and _digits(value)):
        raise ValueError("TLV FP is not YYYYMM")
    try:
        return YearMonth(int(value[:4]), int(value[4:]))
    except ValueError:
        raise ValueError("TLV FP is not a month") from None


def _program(code: str) -> Program:
    try:
        return Program[code]
    except KeyError:
        raise ValueError("TLV PG/PA: unknown program") from None


def _programs(_tag: str, value: str) -> tuple[Program, ...]:
    return tuple([_program(code) for code in value.split(",")])


def _amounts(_tag: str, value: str) -> tuple[tuple[Program, int], ...]:
    pairs = []
    for part in value.split(","):
        code, equals, amount = part.partition("=")
        if not (equals and _digits(amount) and len(amount) <= 12):
            raise ValueError("TLV PA is not PROGRAM=amount")
        pairs.append((_program(code), int(amount)))
    return tuple(pairs)


#: Known tags (those of :data:`_KNOWN`): the field each fills, and how it is read (``None``: as
#: it is; the field's validator checks it).
_FIELDS: dict[str, tuple[str, Callable[[str, str], Any] | None]] = {
    "PI": ("product", None),
    "CN": ("customer", None),
    "NM": ("name", None),
    "AT": ("amount", _whole),
    "AC": ("admin_fee", _whole),
    "MC": ("months", _whole),
    "FP": ("first_period", _period),
    "PG": ("programs", _programs),
    "PA": ("program_amounts", _amounts),
    "DN": ("discount_name", None),
    "DA": ("discount_amount", _whole),
}


# --- DE57 --------------------------------------------------------------------------------------


def _lines(limit: int) -> _Validator:
    def check(
        _instance: object, attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]
    ) -> None:
        if len(value) > limit:
            raise ValueError(f"{attribute.name}: at most {limit} lines")
        # Every line is printable exactly when all of them joined are: one check, not one a line.
        if max(map(len, value), default=0) > LINE_WIDTH or not _printable("".join(value)):
            raise ValueError(f"{attribute.name}: lines of at most {LINE_WIDTH} printable ASCII")

    return check


#: DE57's tags: screen (0) or receipt (1), and which line.
_LINE_SLOTS = {
    **{tag: (0, at) for at, tag in enumerate(SCREEN_TAGS)},
    **{tag: (1, at) for at, tag in enumerate(RECEIPT_TAGS)},
}


def _count(lines: tuple[str, ...]) -> str:
    return f"<{len(lines)} lines>"  # a receipt names the customer


@attrs.frozen
class Lines:
    """DE57: what the terminal shows and prints, line by line (each ≤ 50 characters)."""

    screen: tuple[str, ...] = attrs.field(
        default=(),
        converter=_texts,
        validator=_lines(len(SCREEN_TAGS)),
        repr=_count,
    )
    receipt: tuple[str, ...] = attrs.field(
        default=(),
        converter=_texts,
        validator=_lines(len(RECEIPT_TAGS)),
        repr=_count,
    )

    def encode(self) -> str:
        return encode_items(
            [
                *zip(SCREEN_TAGS, self.screen, strict=False),
                *zip(RECEIPT_TAGS, self.receipt, strict=False),
            ]
        )

    @classmethod
    def decode(cls, text: str) -> Lines:
        """DE57's text read: screen and receipt lines in tag order (a gap is an empty line);
        unknown tags are ignored, a tag twice is malformed."""
        # Each line goes straight to its place (a gap stays ""), in one pass over the items.
        seen: set[str] = set()
        found: tuple[list[str], list[str]] = ([], [])  # screen, receipt
        for tag, value in decode_items(text, field="DE57"):
            if tag in seen:
                raise _malformed("DE57", f"TLV {tag} twice")
            seen.add(tag)
            slot = _LINE_SLOTS.get(tag)
            if slot is not None:
                lines, at = found[slot[0]], slot[1]
                while len(lines) < at:
                    lines.append("")
                if len(lines) == at:
                    lines.append(value)
                else:
                    lines[at] = value
        try:
            return cls(tuple(found[0]), tuple(found[1]))
        except ValueError:
            raise _malformed("DE57", f"lines over {LINE_WIDTH} characters") from None
