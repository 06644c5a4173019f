"""Receipts (*struk*): printed at the counter, or handed to an app as JSON.

:func:`render_text` lays a :class:`~jamsostek_channels.model.Receipt` out for a thermal printer of
32, 40, 42 or 48 columns. Printers in agents' shops are ASCII-only and many interpret control bytes
as commands, so every piece of text is transliterated to printable ASCII first ("José" -> "Jose";
what has no ASCII form is dropped), and no line is ever wider than the paper: a printer that
wraps by itself breaks the label/value columns. Times are printed in WIB whatever zone
``paid_at`` came in, because that is the clock BPJS Ketenagakerjaan and the customer read.
A host that sends receipt lines of its own (an ISO 8583 switch's DE57) has them printed under
the library's, wrapped to the paper and with any NIK or KPJ in them masked (:func:`host_line`):
the library's facts (amounts, the fee apart, months, references) are printed whatever the
host's lines say.

:func:`structured` is the same receipt for an app: the canonical JSON form of every field plus
the texts the printed receipt shows (figures, *terbilang*, the WIB time), so an app displays
exactly what a counter prints. ``schemas/receipt-view.schema.json`` describes it.

The NIK on a receipt is always masked; as a last guard against a caller passing a full NIK in
``nik_masked``, it is masked again here (masking a masked NIK changes nothing).

>>> import datetime as dt
>>> from jamsostek_channels.clock import JAKARTA
>>> from jamsostek_channels.model import PendingPayment, Program, Receipt
>>> from jamsostek_channels.period import YearMonth
>>> receipt = Receipt(
...     channel="bank-contoh", channel_reference="TRX-1", host_reference="BPJS-1",
...     nik_masked="3201********0001", name="Siti Rahayu",
...     programs=(Program.JKK, Program.JKM), periods=(YearMonth(2026, 11),),
...     amount=36800, admin_fee=2500, paid_at=dt.datetime(2026, 11, 22, 9, 31, tzinfo=JAKARTA),
... )
>>> [line for line in render_text(receipt, 32).splitlines() if line.startswith("Total")]
['Total                   Rp39.300']
>>> structured(receipt)["total_text"]
'Rp39.300'
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
import unicodedata
from collections.abc import Iterable

from jamsostek_channels import redact
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.identifiers import nik as _nik
from jamsostek_channels.model import PendingPayment, Program, Receipt
from jamsostek_channels.money import in_words, rupiah
from jamsostek_channels.period import YearMonth

__all__ = [
    "WIDTHS",
    "host_line",
    "period_text",
    "render_in_progress",
    "render_text",
    "structured",
]

#: The printer widths supported, in columns (58 mm printers: 32; 80 mm printers: 40 or 48; a
#: bank agent's EDC prints 32 or 42).
WIDTHS: tuple[int, ...] = (32, 40, 42, 48)

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MEI", "JUN", "JUL", "AGU", "SEP", "OKT", "NOV", "DES")

_HEADER = ("BPJS KETENAGAKERJAAN", "BUKTI BAYAR IURAN BPU")
_FOOTER = "Simpan struk ini sebagai bukti sah"
_PENDING_HEADER = ("BPJS KETENAGAKERJAAN", "PEMBAYARAN DALAM PROSES", "BUKAN BUKTI BAYAR")
#: What happens next, for the customer at the counter (and a line for a foreign reader).
_PENDING_NOTE = (
    "Jawaban host belum diterima. JANGAN bayar ulang: status dicek otomatis. Tanyakan lagi"
    " dengan No. Ref ini; uang tidak akan terpotong dua kali."
)
_PENDING_NOTE_EN = "In progress, not a receipt: do not pay again; ask with this reference."
_NAME_LINES = 2  #: a long name gets at most this many lines of its own, then is shortened
_ELLIPSIS = "..."

# Letters NFKD does not decompose into ASCII, and typographic punctuation common in names
# ("Ma’ruf"): without this table they would simply vanish.
_SPECIAL = str.maketrans(
    {
        "\u00df": "ss",  # ß
        "\u00c6": "AE",
        "\u00e6": "ae",
        "\u00d8": "O",
        "\u00f8": "o",
        "\u0152": "OE",
        "\u0153": "oe",
        "\u0110": "D",  # Đ (Vietnamese)
        "\u0111": "d",
        "\u0141": "L",  # Ł
        "\u0142": "l",
        "\u00de": "Th",
        "\u00fe": "th",
        "\u0131": "i",  # dotless i
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
    }
)


def _ascii(text: str) -> str:
    """Printable ASCII only, whitespace collapsed: safe for any thermal printer.

    Control bytes are dropped rather than passed on because ESC/POS printers would execute them.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    kept = "".join(
        " " if ch.isspace() else ch for ch in decomposed if ch.isspace() or " " < ch <= "~"
    )
    return " ".join(kept.split())


def _check_width(width: int) -> None:
    if isinstance(width, bool) or not isinstance(width, int) or width not in WIDTHS:
        raise ValueError(f"receipt width must be one of {WIDTHS} columns, got {width!r}")


def _wib(paid_at: dt.datetime) -> dt.datetime:
    """``paid_at`` on the Jakarta clock; a naive time is refused rather than guessed."""
    if paid_at.tzinfo is None or paid_at.utcoffset() is None:
        raise ValueError("paid_at must be timezone-aware (e.g. Asia/Jakarta)")
    return paid_at.astimezone(JAKARTA)


def _months(periods: Iterable[YearMonth]) -> list[YearMonth]:
    return sorted(set(periods))


def _month_label(month: YearMonth) -> str:
    return f"{_MONTHS[month.month - 1]} {month.year}"


def _period_items(periods: Iterable[YearMonth]) -> list[str]:
    """Each run of consecutive months as ``"NOV 2026 - JAN 2027"``, a lone month as itself."""
    runs: list[tuple[YearMonth, YearMonth]] = []
    for month in _months(periods):
        if runs and month - runs[-1][1] == 1:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    return [
        _month_label(first) if first == last else f"{_month_label(first)} - {_month_label(last)}"
        for first, last in runs
    ]


def period_text(periods: Iterable[YearMonth]) -> str:
    """The months a payment covers as a receipt prints them, oldest first.

    >>> period_text([YearMonth(2027, 1), YearMonth(2026, 11), YearMonth(2026, 12)])
    'NOV 2026 - JAN 2027'
    >>> period_text([YearMonth(2026, 1), YearMonth(2026, 2), YearMonth(2026, 5)])
    'JAN 2026 - FEB 2026, MEI 2026'
    """
    return ", ".join(_period_items(periods)) or "-"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _words(amount: int) -> str:
    return _sentence(in_words(amount))


def _wrap(text: str, width: int, *, hyphens: bool = True) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=hyphens) or [""]


def _centred(text: str, width: int) -> list[str]:
    """Centred lines; a text too wide is split at the space nearest its middle, so a footer
    becomes two even lines rather than a full line and a stray word."""
    if len(text) > width:
        middle = len(text) // 2
        spaces = [i for i, ch in enumerate(text) if ch == " "]
        fitting = [i for i in spaces if i <= width and len(text) - i - 1 <= width]
        if fitting:
            cut = min(fitting, key=lambda i: abs(i - middle))
            return [*_centred(text[:cut], width), *_centred(text[cut + 1 :], width)]
        return [line.center(width).rstrip() for line in _wrap(text, width)]
    return [text.center(width).rstrip()]


def _field(label: str, value: str, width: int) -> list[str]:
    """Label left, value right on one line; a value that does not fit gets its own lines."""
    value = value or "-"
    if len(label) + 1 + len(value) <= width:
        return [label + value.rjust(width - len(label))]
    return [label] + [line.rjust(width) for line in _wrap(value, width)]


def _name_field(name: str, width: int) -> list[str]:
    """The name on at most two lines of its own, shortened at a word boundary beyond that."""
    if len(name) + len("Nama") + 1 <= width:
        return _field("Nama", name, width)
    lines = _wrap(name, width, hyphens=False)  # "Muller-Ludenscheidt" stays whole
    if len(lines) > _NAME_LINES:
        last = lines[_NAME_LINES - 1]
        room = width - len(_ELLIPSIS)
        if len(last) > room:
            cut = last.rfind(" ", 0, room + 1)
            last = last[:cut] if cut > 0 else last[:room]
        lines = [*lines[: _NAME_LINES - 1], last.rstrip() + _ELLIPSIS]
    return ["Nama"] + [line.rjust(width) for line in lines]


def _months_field(periods: tuple[YearMonth, ...], width: int) -> list[str]:
    """The months with their count; a long list breaks between months, never inside one."""
    items = _period_items(periods) or ["-"]
    count = f"({len(_months(periods))} bulan)"
    one_line = f"{', '.join(items)} {count}"
    if len("Bulan") + 1 + len(one_line) <= width:
        return _field("Bulan", one_line, width)
    lines: list[str] = []
    for index, item in enumerate(items):
        piece = item if index == len(items) - 1 else f"{item},"
        if lines and len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] = f"{lines[-1]} {piece}"
        else:
            lines.append(piece)
    if len(lines[-1]) + 1 + len(count) <= width:
        lines[-1] = f"{lines[-1]} {count}"
    else:
        lines.append(count)
    return ["Bulan"] + [line.rjust(width) for line in lines]


#: A NIK (16 digits) or a KPJ (11) standing alone in a host's line: masked as everywhere else.
_CUSTOMER_NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{16}|[0-9]{11})(?![0-9])")


def host_line(line: str) -> str:
    """One of the host's receipt lines as the receipt prints it: printable ASCII, and a NIK
    or KPJ in it masked by the library's rules (a host that sent one whole cannot make a
    receipt show it).

    >>> host_line("KPJ 12345678901  NIK 3201015508950001")
    'KPJ *******8901 NIK 3201********0001'
    >>> host_line("No. BPJS000000000001")
    'No. BPJS000000000001'
    """
    return _CUSTOMER_NUMBER.sub(lambda found: redact.customer(found[0]), _ascii(line))


def _host_lines(lines: Iterable[str], width: int) -> list[str]:
    """The host's lines under a rule of their own, each wrapped to the paper (a host writes
    up to 50 columns; a 32-column EDC wraps them); a blank line stays blank."""
    printed = [wrapped for line in lines for wrapped in _wrap(host_line(line), width)]
    return ["-" * width, *printed] if printed else []


def _programs(programs: Iterable[Program | str]) -> str:
    wanted = set(programs)
    return ", ".join(p.value.upper() for p in Program if p in wanted)


def render_text(receipt: Receipt, width: int = 40, *, channel_label: str | None = None) -> str:
    """The receipt as plain ASCII text for a thermal printer ``width`` columns wide.

    ``width`` is 32, 40, 42 or 48 (anything else raises :class:`ValueError`, as does a naive
    ``paid_at``). ``channel_label`` replaces the channel's code with a name for the customer
    ("Bank Contoh" rather than "bank-contoh"). Every line is at most ``width`` characters, the
    text ends with a newline, and the same receipt always gives the same text. *Terbilang* spells
    out the total the customer paid (contribution and admin fee), the figure printed above it:
    in words, a receipt states what changed hands. The host's own lines, if any, follow under a
    rule of their own, before the footer.
    """
    _check_width(width)
    lines = _slip(receipt, _HEADER, receipt.paid_at, receipt.host_reference, width, channel_label)
    lines += _wrap(f"Terbilang: {_words(receipt.total)}", width)
    lines += _host_lines(receipt.host_lines, width)
    lines.append("-" * width)
    lines += _centred(_FOOTER, width)
    return "\n".join(lines) + "\n"


def render_in_progress(
    pending: PendingPayment, width: int = 40, *, channel_label: str | None = None
) -> str:
    """The *dalam proses* slip for a payment whose outcome is not known yet, laid out as a
    receipt is but headed and footed so that nobody takes it for one: no host reference, no
    *terbilang*, and what happens next. The same widths and guarantees as :func:`render_text`.
    """
    _check_width(width)
    lines = _slip(pending, _PENDING_HEADER, pending.since, None, width, channel_label)
    lines += _wrap(_PENDING_NOTE, width)
    lines += _wrap(_PENDING_NOTE_EN, width)
    return "\n".join(lines) + "\n"


def _slip(
    paid: Receipt | PendingPayment,
    header: Iterable[str],
    at: dt.datetime,
    host_reference: str | None,
    width: int,
    channel_label: str | None,
) -> list[str]:
    """What a receipt and an in-progress slip share: header, who, what, how much."""
    rule = "-" * width
    lines: list[str] = [centred for line in header for centred in _centred(line, width)]
    lines.append(rule)
    lines += _field("Kanal", _ascii(channel_label or paid.channel), width)
    lines += _field("Waktu", _wib(at).strftime("%d-%m-%Y %H:%M:%S WIB"), width)
    lines += _field("No. Ref", _ascii(paid.channel_reference), width)
    if host_reference is not None:
        lines += _field("No. BPJS", _ascii(host_reference), width)
    lines += _field("NIK", _ascii(_nik.mask(paid.nik_masked)), width)
    lines += _name_field(_ascii(paid.name) or "-", width)
    lines += _field("Program", _programs(paid.programs), width)
    lines += _months_field(paid.periods, width)
    lines.append(rule)
    lines += _field("Iuran", rupiah(paid.amount), width)
    lines += _field("Biaya admin", rupiah(paid.admin_fee), width)
    lines += _field("Total", rupiah(paid.total), width)
    lines.append(rule)
    return lines


def structured(receipt: Receipt) -> dict[str, object]:
    """The receipt as a JSON-ready dict for apps (``receipt-view`` schema).

    Every :class:`~jamsostek_channels.model.Receipt` field in its canonical JSON form, plus what
    the printed receipt shows, ready to display: ``total``, ``amount_text``, ``admin_fee_text``,
    ``total_text`` (``"Rp36.800"``), ``total_in_words`` (sentence-cased *terbilang* of the
    total paid), ``paid_at_wib`` (ISO 8601, ``+07:00``), ``periods_text`` and ``months_count``
    (distinct months). Raises :class:`ValueError` for a naive ``paid_at``.
    """
    from jamsostek_channels.converters import unstructure

    paid = _wib(receipt.paid_at)
    data: dict[str, object] = dict(unstructure(receipt))
    data["programs"] = [Program(p).value for p in receipt.programs]
    data["nik_masked"] = _nik.mask(receipt.nik_masked)
    data.update(
        total=receipt.total,
        amount_text=rupiah(receipt.amount),
        admin_fee_text=rupiah(receipt.admin_fee),
        total_text=rupiah(receipt.total),
        total_in_words=_words(receipt.total),
        paid_at_wib=paid.isoformat(),
        periods_text=period_text(receipt.periods),
        months_count=len(_months(receipt.periods)),
        host_lines=[host_line(line) for line in receipt.host_lines],
    )
    return data
