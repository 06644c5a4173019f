"""The ISO 8583 family's end-of-day settlement file: what the switch (BRI for BRILink, the
payment aggregator for the tills) sends BPJS Ketenagakerjaan after its business day closes, read
by ``jamsostek-channels reconcile --channel NAME FILE``.

One text file per channel and business day: a header record, one detail record per payment the
switch applied that day (an 0200 or an 0220 advice; a reversed one stays, marked ``R``), and a
trailer with the counts and rupiah totals. Two layouts of the same records, chosen per profile in
its TOML ``[settlement]`` section (:class:`~.profile.SettlementFormat`, re-exported here):
``fixed`` (fixed-width columns, as banks send them: BRILink) and ``delimited`` (one separator,
as aggregators send them: the tills). ``docs/channels/iso8583.md`` ("Settlement") has the
column tables and samples.

Reading is streaming (a line at a time, each line bounded) and strict: a line that breaks the
layout, a bad date or amount, records out of sequence, a missing or disagreeing trailer, or
anything after the trailer refuses the whole file with :class:`SettlementFileInvalid`, which
names the line. Writing checks every value fits its column, so what is written reads back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

import attrs

from jamsostek_channels import redact
from jamsostek_channels.adapters.iso8583.profile import (
    CustomerForm,
    Iso8583Profile,
    Layout,
    SettlementFormat,
)
from jamsostek_channels.channel import SettlementRecord, SettlementState
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import MalformedMessage
from jamsostek_channels.period import YearMonth, month_range

if TYPE_CHECKING:
    from jamsostek_channels.registry import SettlementReader

__all__ = [
    "COLUMNS",
    "HEADER_COLUMNS",
    "RECORD_LENGTH",
    "TRAILER_COLUMNS",
    "CustomerForm",
    "Layout",
    "SettlementFile",
    "SettlementFileInvalid",
    "SettlementFormat",
    "SettlementLine",
    "Trailer",
    "decode_settlement",
    "encode_settlement",
    "read_settlement",
    "read_settlement_file",
    "settlement_reader",
    "settlement_records",
]


class SettlementFileInvalid(MalformedMessage):
    """A settlement file that breaks its layout (``settlement.invalid``): refused whole, never
    used in part. :attr:`line` is the 1-based line at fault (one past the last for a file that
    ends too soon); :attr:`field` is ``file:LINE``."""

    line: int

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        super().__init__(
            "settlement.invalid", {"line": line, "reason": reason}, field=f"file:{line}"
        )


# --- the records --------------------------------------------------------------------------------


@attrs.frozen
class SettlementLine:
    """One detail record: a payment the switch applied (``paid_at`` WIB, to the second)."""

    paid_at: dt.datetime
    mti: str  #: ``0200`` (a payment answered in time) or ``0220`` (completed by advice)
    rrn: str  #: DE37
    stan: int  #: DE11 of the message that applied it
    terminal: str  #: DE41
    agent: str  #: DE42 where the profile sends the agent's id, else ""
    reference: str  #: DE48 FR: the channel's payment reference
    customer: str  #: DE48 CN, masked or whole as the format says
    first_period: YearMonth
    months: int
    amount: int  #: the contribution, whole rupiah (DE4)
    admin_fee: int
    host_reference: str  #: DE48 HR
    state: SettlementState

    @property
    def periods(self) -> tuple[YearMonth, ...]:
        return tuple(month_range(self.first_period, self.months))


@attrs.frozen
class Trailer:
    """The trailer: counts and rupiah totals of the detail records (paid and reversed apart;
    the switch settles ``paid_amount + paid_admin_fee``)."""

    record_count: int = 0
    paid_count: int = 0
    paid_amount: int = 0
    paid_admin_fee: int = 0
    reversed_count: int = 0
    reversed_amount: int = 0
    reversed_admin_fee: int = 0

    @classmethod
    def of(cls, lines: Iterable[SettlementLine]) -> Trailer:
        counts = [0, 0, 0, 0, 0, 0, 0]
        for line in lines:
            counts[0] += 1
            at = 1 if line.state is SettlementState.PAID else 4
            counts[at] += 1
            counts[at + 1] += line.amount
            counts[at + 2] += line.admin_fee
        return cls(*counts)


@attrs.frozen
class SettlementFile:
    """A whole file: the header's facts, the detail records in order, and the trailer they
    make (:attr:`trailer`, computed: a written file's trailer always agrees)."""

    business_date: dt.date
    channel: str  #: the profile's name
    acquirer: str  #: DE32
    product: str  #: DE48 PI
    lines: tuple[SettlementLine, ...]

    @property
    def trailer(self) -> Trailer:
        return Trailer.of(self.lines)


# --- the columns --------------------------------------------------------------------------------

#: ``(name, width, kind)``: kind ``N`` up to ``width`` digits (zero-padded in ``fixed``), ``F``
#: exactly ``width`` digits (dates, times, months, MTI), ``A`` text (space-padded on the right in
#: ``fixed``); the first column is the record type.
_Column = tuple[str, int, str]

HEADER_COLUMNS: Final[tuple[_Column, ...]] = (
    ("record_type", 1, "A"),  # H
    ("business_date", 8, "F"),
    ("channel", 10, "A"),
    ("acquirer", 11, "A"),
    ("product", 6, "A"),
)
COLUMNS: Final[tuple[_Column, ...]] = (
    ("record_type", 1, "A"),  # D
    ("sequence", 6, "N"),
    ("paid_at", 14, "F"),
    ("mti", 4, "F"),
    ("rrn", 12, "A"),
    ("stan", 6, "N"),
    ("terminal", 16, "A"),
    ("agent", 16, "A"),
    ("reference", 64, "A"),
    ("customer", 16, "A"),
    ("first_period", 6, "F"),
    ("months", 2, "N"),
    ("amount", 12, "N"),
    ("admin_fee", 12, "N"),
    ("host_reference", 20, "A"),
    ("state", 1, "A"),  # P paid, R reversed
)
TRAILER_COLUMNS: Final[tuple[_Column, ...]] = (
    ("record_type", 1, "A"),  # T
    ("record_count", 8, "N"),
    ("paid_count", 8, "N"),
    ("paid_amount", 15, "N"),
    ("paid_admin_fee", 15, "N"),
    ("reversed_count", 8, "N"),
    ("reversed_amount", 15, "N"),
    ("reversed_admin_fee", 15, "N"),
)
#: Every fixed-width record is padded to the detail record's length.
RECORD_LENGTH: Final = sum(width for _, width, _ in COLUMNS)
_STATES: Final = {SettlementState.PAID: "P", SettlementState.REVERSED: "R"}
_STATE_OF: Final = {code: state for state, code in _STATES.items()}
_TIME: Final = "%Y%m%d%H%M%S"
#: What a text column may hold: printable ASCII without the separators.
_TEXT: Final = re.compile(r"[\x20-\x7e]*")
_MTIS: Final = frozenset({"0200", "0220"})


def _slices(columns: tuple[_Column, ...]) -> tuple[tuple[str, int, int, str], ...]:
    out, start = [], 0
    for name, width, kind in columns:
        out.append((name, start, start + width, kind))
        start += width
    return tuple(out)


_HEADER_SLICES: Final = _slices(HEADER_COLUMNS)
_DETAIL_SLICES: Final = _slices(COLUMNS)
_TRAILER_SLICES: Final = _slices(TRAILER_COLUMNS)


# --- writing ------------------------------------------------------------------------------------


def _cell(value: str, width: int, kind: str, fmt: SettlementFormat, where: str, line: int) -> str:
    if len(value) > width:
        raise SettlementFileInvalid(line, f"{where} is longer than its {width} characters")
    if kind != "A":
        if not (value.isdigit() and value.isascii()) or (kind == "F" and len(value) != width):
            raise SettlementFileInvalid(line, f"{where} is not {width} digits")
        return value.zfill(width) if fmt.layout is Layout.FIXED else value
    if not _TEXT.fullmatch(value) or (fmt.layout is Layout.DELIMITED and fmt.delimiter in value):
        raise SettlementFileInvalid(line, f"{where} holds a character the layout cannot carry")
    if fmt.layout is Layout.FIXED:
        if value != value.rstrip(" "):
            raise SettlementFileInvalid(line, f"{where} ends with a space")
        return value.ljust(width)
    return value


def _record(
    columns: tuple[_Column, ...], values: Iterable[str], fmt: SettlementFormat, line: int
) -> str:
    cells = [
        _cell(value, width, kind, fmt, name, line)
        for (name, width, kind), value in zip(columns, values, strict=True)
    ]
    if fmt.layout is Layout.FIXED:
        return "".join(cells).ljust(RECORD_LENGTH)
    return fmt.delimiter.join(cells)


def _detail_values(sequence: int, line: SettlementLine) -> tuple[str, ...]:
    return (
        "D",
        str(sequence),
        line.paid_at.astimezone(JAKARTA).strftime(_TIME),
        line.mti,
        line.rrn,
        str(line.stan),
        line.terminal,
        line.agent,
        line.reference,
        line.customer,
        f"{line.first_period.year:04d}{line.first_period.month:02d}",
        str(line.months),
        str(line.amount),
        str(line.admin_fee),
        line.host_reference,
        _STATES[line.state],
    )


def encode_settlement(settlement: SettlementFile, fmt: SettlementFormat) -> bytes:
    """The file's bytes (ASCII, ``fmt``'s line ending after every record, the trailer
    computed from the records); :class:`SettlementFileInvalid` naming the line a value does
    not fit."""
    end = fmt.end_of_line
    day = settlement.business_date.strftime("%Y%m%d")
    header = ("H", day, settlement.channel, settlement.acquirer, settlement.product)
    out = [_record(HEADER_COLUMNS, header, fmt, 1)]
    for number, line in enumerate(settlement.lines, start=1):
        if line.mti not in _MTIS:
            raise SettlementFileInvalid(number + 1, "mti is 0200 or 0220")
        out.append(_record(COLUMNS, _detail_values(number, line), fmt, number + 1))
    trailer = settlement.trailer
    values = ("T", *(str(getattr(trailer, name)) for name, _, _ in TRAILER_COLUMNS[1:]))
    out.append(_record(TRAILER_COLUMNS, values, fmt, len(out) + 1))
    return (end.join(out) + end).encode("ascii")


# --- reading ------------------------------------------------------------------------------------


def _pattern(columns: tuple[_Column, ...], fmt: SettlementFormat) -> re.Pattern[str]:
    """One regular expression a well-formed record of ``columns`` matches whole (one group a
    column): most lines are checked by it alone, in C; a line it refuses is read again column
    by column to say what is wrong."""
    parts = []
    # The text is ASCII already (see _texts): a text column is any printable character, and in
    # a delimited file any but the delimiter.
    printable = (
        r"[\x20-\x7e]" if fmt.layout is Layout.FIXED else rf"[^\x00-\x1f\x7f{fmt.delimiter}]"
    )
    for _, width, kind in columns:
        if kind == "A":
            parts.append(
                f"({printable}{{{width}}})"
                if fmt.layout is Layout.FIXED
                else f"({printable}{{0,{width}}})"
            )
        elif kind == "F" or fmt.layout is Layout.FIXED:
            parts.append(f"([0-9]{{{width}}})")
        else:
            parts.append(f"([0-9]{{1,{width}}})")
    if fmt.layout is Layout.FIXED:
        filler = RECORD_LENGTH - sum(width for _, width, _ in columns)
        return re.compile("".join(parts) + f" {{{filler}}}")
    return re.compile(re.escape(fmt.delimiter).join(parts))


class _Reader:
    """Reads one line's columns, naming the line in every refusal."""

    def __init__(self, fmt: SettlementFormat) -> None:
        self.fmt = fmt
        self.fixed = fmt.layout is Layout.FIXED
        self.patterns = {
            id(slices): _pattern(columns, fmt)
            for columns, slices in (
                (HEADER_COLUMNS, _HEADER_SLICES),
                (COLUMNS, _DETAIL_SLICES),
                (TRAILER_COLUMNS, _TRAILER_SLICES),
            )
        }
        # A day's file repeats a few months and month counts thousands of times.
        self._months: dict[str, YearMonth] = {}
        self._periods: dict[tuple[str, str], tuple[YearMonth, int]] = {}

    def cells(
        self, text: str, slices: tuple[tuple[str, int, int, str], ...], line: int
    ) -> list[str]:
        match = self.patterns[id(slices)].fullmatch(text)
        if match is not None:
            cells = list(match.groups())
            if self.fixed:
                cells = [cell.rstrip(" ") for cell in cells]
            return cells
        raise self._why(text, slices, line)

    def _why(
        self, text: str, slices: tuple[tuple[str, int, int, str], ...], line: int
    ) -> SettlementFileInvalid:
        """What is wrong with a line the pattern refused."""
        if self.fixed:
            if len(text) != RECORD_LENGTH:
                return SettlementFileInvalid(
                    line, f"a record is {RECORD_LENGTH} characters, this one {len(text)}"
                )
            cells = [text[start:stop] for _, start, stop, _ in slices]
            filler = text[slices[-1][2] :]
        else:
            cells = text.split(self.fmt.delimiter)
            if len(cells) != len(slices):
                return SettlementFileInvalid(
                    line, f"a {text[:1]!r} record has {len(slices)} columns, this one {len(cells)}"
                )
            filler = ""
        for (name, start, stop, kind), value in zip(slices, cells, strict=True):
            width = stop - start
            if kind != "A" and not (value.isdigit() and value.isascii() and len(value) <= width):
                return SettlementFileInvalid(line, f"{name} is not a number of {width} digits")
            if kind == "F" and len(value) != width:
                return SettlementFileInvalid(line, f"{name} is not {width} digits")
            if kind == "A" and (len(value) > width or not _TEXT.fullmatch(value)):
                return SettlementFileInvalid(line, f"{name} is not up to {width} characters")
        if filler.strip(" "):
            return SettlementFileInvalid(line, "the filler after the last column is not blank")
        return SettlementFileInvalid(line, "the record breaks the layout")

    def date(self, text: str, line: int, name: str) -> dt.date:
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            raise SettlementFileInvalid(line, f"{name} is not a date (YYYYMMDD)") from None

    def _period(self, first: str, months: str, line: int) -> tuple[YearMonth, int]:
        found = self._periods.get((first, months))
        if found is not None:
            return found
        try:
            month = YearMonth(int(first[:4]), int(first[4:]))
        except ValueError:
            raise SettlementFileInvalid(line, "first_period is not a month (YYYYMM)") from None
        count = int(months)
        if not 1 <= count <= 99 or month.index + count > _LAST_MONTH:
            raise SettlementFileInvalid(line, "months is 1 to 99 (up to 9999-12)")
        found = self._periods[(first, months)] = (month, count)
        return found

    def detail(self, cells: list[str], line: int, expected: int) -> SettlementLine:
        (_, sequence, paid_at, mti, rrn, stan, terminal, agent, reference, customer, first,
         months, amount, fee, host_reference, state) = cells  # fmt: skip
        if int(sequence) != expected:
            raise SettlementFileInvalid(line, f"sequence is {int(sequence)}, expected {expected}")
        try:
            moment = dt.datetime(
                int(paid_at[:4]),
                int(paid_at[4:6]),
                int(paid_at[6:8]),
                int(paid_at[8:10]),
                int(paid_at[10:12]),
                int(paid_at[12:14]),
                tzinfo=JAKARTA,
            )
        except ValueError:
            raise SettlementFileInvalid(line, "paid_at is not a time (YYYYMMDDhhmmss)") from None
        if mti not in _MTIS:
            raise SettlementFileInvalid(line, "mti is 0200 or 0220")
        if not reference or not host_reference:
            raise SettlementFileInvalid(line, "reference and host_reference are required")
        period, count = self._period(first, months, line)
        settled = _STATE_OF.get(state)
        if settled is None:
            raise SettlementFileInvalid(line, "state is P (paid) or R (reversed)")
        if self.fmt.customer is CustomerForm.FULL:
            customer = redact.customer(customer)
        return SettlementLine(
            moment, mti, rrn, int(stan), terminal, agent, reference, customer, period, count,
            int(amount), int(fee), host_reference, settled,
        )  # fmt: skip


_LAST_MONTH: Final = YearMonth(9999, 12).index + 1


def _texts(lines: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(lines, start=1):
        body = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith(b"\n") else raw
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            raise SettlementFileInvalid(number, "not ASCII") from None
        if "\r" in text or "\n" in text:
            raise SettlementFileInvalid(number, "a stray line break")
        yield number, text


def read_settlement(lines: Iterable[bytes], fmt: SettlementFormat) -> SettlementFile:
    """The file whose lines (bytes, each with its line ending) ``lines`` yields, read one at a
    time; :class:`SettlementFileInvalid` (naming the line) for a file that breaks the layout,
    has more than ``fmt.max_records`` records, or whose trailer disagrees with its records."""
    reader = _Reader(fmt)
    texts = _texts(lines)
    first = next(texts, None)
    if first is None:
        raise SettlementFileInvalid(1, "the file is empty: no header")
    number, text = first
    if not text.startswith("H"):
        raise SettlementFileInvalid(number, "the first record is not a header (H)")
    _, day, channel, acquirer, product = reader.cells(text, _HEADER_SLICES, number)
    business_date = reader.date(day, number, "business_date")
    details: list[SettlementLine] = []
    trailer: list[str] | None = None
    for number, text in texts:
        if trailer is not None:
            raise SettlementFileInvalid(number, "a record after the trailer")
        kind = text[:1]
        if kind == "D":
            if len(details) >= fmt.max_records:
                raise SettlementFileInvalid(number, f"more than {fmt.max_records} records")
            cells = reader.cells(text, _DETAIL_SLICES, number)
            details.append(reader.detail(cells, number, len(details) + 1))
        elif kind == "T":
            trailer = reader.cells(text, _TRAILER_SLICES, number)
        else:
            raise SettlementFileInvalid(number, "a record is H, D or T")
    if trailer is None:
        raise SettlementFileInvalid(len(details) + 2, "the file ends without its trailer (T)")
    settlement = SettlementFile(business_date, channel, acquirer, product, tuple(details))
    computed = settlement.trailer
    for (name, _, _), value in zip(TRAILER_COLUMNS[1:], trailer[1:], strict=True):
        if int(value) != getattr(computed, name):
            raise SettlementFileInvalid(
                len(details) + 2,
                f"the trailer's {name} is {int(value)}, the records make {getattr(computed, name)}",
            )
    return settlement


def decode_settlement(data: bytes, fmt: SettlementFormat) -> SettlementFile:
    """:func:`read_settlement` of a file held in memory."""
    return read_settlement(data.splitlines(keepends=True), fmt)


#: A line longer than this is refused before it is read whole (a detail record is 208).
_MAX_LINE: Final = 1024


def _bounded_lines(handle: IO[bytes]) -> Iterator[bytes]:
    number = 0
    while raw := handle.readline(_MAX_LINE + 1):
        number += 1
        if len(raw) > _MAX_LINE:
            raise SettlementFileInvalid(number, f"a line longer than {_MAX_LINE} bytes")
        yield raw


def settlement_records(settlement: SettlementFile) -> tuple[SettlementRecord, ...]:
    """The library's records of a file (channel: the header's), for :mod:`~jamsostek_channels.
    reconcile`."""
    channel = settlement.channel
    periods: dict[tuple[YearMonth, int], tuple[YearMonth, ...]] = {}  # a few, repeated
    return tuple(
        SettlementRecord(
            channel=channel,
            reference=line.reference,
            host_reference=line.host_reference,
            nik_masked=line.customer,
            periods=periods.get((line.first_period, line.months))
            or periods.setdefault((line.first_period, line.months), line.periods),
            amount=line.amount,
            admin_fee=line.admin_fee,
            paid_at=line.paid_at,
            state=line.state,
        )
        for line in settlement.lines
    )


def read_settlement_file(
    path: Path, profile: Iso8583Profile
) -> tuple[dt.date, tuple[SettlementRecord, ...]]:
    """``(business date, records)`` of ``profile``'s settlement file at ``path``, read a line
    at a time. A file of another channel (its header says so) is refused at line 1."""
    with Path(path).open("rb") as handle:
        settlement = read_settlement(_bounded_lines(handle), profile.settlement)
    if settlement.channel != profile.name:
        raise SettlementFileInvalid(1, f"the header names channel {settlement.channel[:10]!r}")
    return settlement.business_date, settlement_records(settlement)


def settlement_reader(profile: str) -> SettlementReader:
    """The registry's reader (``f(path) -> (day, records)``) of shipped profile ``profile``."""

    def read(path: Path) -> tuple[dt.date, tuple[SettlementRecord, ...]]:
        from jamsostek_channels.adapters.iso8583.profile import load_profile

        return read_settlement_file(path, load_profile(profile))

    return read
