"""The membership card (*kartu peserta*): what BPJS Ketenagakerjaan e-mails a new BPU worker.

After a worker is registered and has paid for the first time,
:meth:`MembershipCard.after_first_payment` takes the
:class:`~jamsostek_channels.channel.Registration` and the first
:class:`~jamsostek_channels.model.Receipt` and gives the card's values: KPJ, name, programs, the
first protected month and when it was issued (the payment's time, so nothing reads today's
date). :func:`render_pdf` and :func:`render_png` draw it the size of a bank card (ID-1, 85.6 by
54 mm) with a QR code of the KPJ, and :func:`card_email` builds a standard-library
:class:`~email.message.EmailMessage` (bilingual body, the card attached as PDF and PNG) that the
partner sends with its own mail system: this library sends nothing.

What is shown where: the card is the worker's own document sent to their own address, so the KPJ
and the name are printed in full on it. The e-mail's body greets the worker by name but gives
only the KPJ's last four digits (bodies are previewed in notifications and kept by mail
servers); the attachments and their file names carry no NIK and the card holds none at all.
The module logs nothing, and a card's ``repr`` masks the KPJ and the name.

Drawing needs the ``card`` extra (``pip install 'jamsostek-channels[card]'``): fpdf2 writes the
PDF, qrcode gives the QR code's modules (drawn as vectors), and the PNG is that PDF rasterised by
PDFium (pypdfium2, whose wheels bundle it) and written by Pillow: one layout, two formats. They
are imported when a card is drawn, and their absence raises an :class:`ImportError` naming the
extra. The same card always gives the same bytes (for one version of those libraries): the
PDF's creation date is the card's ``issued_at`` in WIB and the PNG carries no time at all.

Text is drawn with a font every PDF reader has (Helvetica), which covers Latin-1: "José Núñez"
is printed as written, letters beyond Latin-1 lose their accents ("Nguyễn" -> "Nguyen") and
anything with no Latin form is dropped (a name with nothing left is refused).
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
import threading
import unicodedata
from collections.abc import Iterable
from email.message import EmailMessage
from typing import TYPE_CHECKING

import attrs

from jamsostek_channels import redact
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.identifiers import kpj as _kpj
from jamsostek_channels.identifiers import nik as _nik
from jamsostek_channels.model import Program, Receipt
from jamsostek_channels.period import YearMonth

if TYPE_CHECKING:
    from jamsostek_channels.channel import Registration

__all__ = [
    "CARD_SIZE_MM",
    "PDF_FILENAME",
    "PNG_DPI",
    "PNG_FILENAME",
    "MembershipCard",
    "card_email",
    "render_pdf",
    "render_png",
]

#: Width and height of the card in millimetres: ISO/IEC 7810 ID-1, the size of a bank card.
CARD_SIZE_MM: tuple[float, float] = (85.6, 54.0)
#: Resolution of the PNG: print quality, 1011 by 638 pixels.
PNG_DPI = 300
#: The attachments' file names (no KPJ or name in them: file names show in every mail listing).
PDF_FILENAME = "kartu-peserta-bpjs-ketenagakerjaan.pdf"
PNG_FILENAME = "kartu-peserta-bpjs-ketenagakerjaan.png"

_EXTRA_HINT = "pip install 'jamsostek-channels[card]'"

_MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_GREEN = (0, 122, 61)
_WHITE = (255, 255, 255)
_INK = (25, 25, 25)
_GREY = (105, 105, 105)

_NAME_WRAP = 24  #: characters per line of the name: fits the text column in bold 9 pt
_NAME_LINES = 2  #: a longer name is cut at a word boundary and ends with "..."
_ELLIPSIS = "..."
_TEXT_RIGHT_MM = 58.0  #: the text column ends here; the QR code stands to its right
_QR_BOX = (61.0, 16.0, 21.0)  #: x, y and side of the QR code's square, in mm
#: PDFium is not thread-safe: one rendering at a time in this process.
_PDFIUM = threading.Lock()

# Letters and punctuation NFKD does not take to Latin-1, which would otherwise vanish.
_SPECIAL = str.maketrans(
    {
        "\u0110": "D",  # Đ
        "\u0111": "d",
        "\u0141": "L",  # Ł
        "\u0142": "l",
        "\u0152": "OE",
        "\u0153": "oe",
        "\u0131": "i",  # dotless i
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
    }
)


def _latin1(text: str) -> str:
    """What the built-in fonts can draw: Latin-1 kept as written (NFC), other letters without
    their accents, control characters and what has no Latin form dropped, spaces collapsed."""
    kept: list[str] = []
    for ch in unicodedata.normalize("NFC", text.translate(_SPECIAL)):
        if ch.isspace():
            kept.append(" ")
        elif ch.isprintable() and ord(ch) < 0x100:
            kept.append(ch)
        else:
            kept += [c for c in unicodedata.normalize("NFKD", ch) if " " < c <= "~"]
    return " ".join("".join(kept).split())


def _aware(instance: object, attribute: attrs.Attribute[dt.datetime], value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be timezone-aware (e.g. Asia/Jakarta)")


def _stripped(value: str) -> str:
    return value.strip()


def _printable_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _latin1(value):
        raise ValueError("the name has nothing the card can print")


def _programs(value: Iterable[Program | str]) -> tuple[Program, ...]:
    wanted = {Program(p) for p in value}
    if not wanted:
        raise ValueError("a membership card needs at least one program")
    return tuple(p for p in Program if p in wanted)


@attrs.frozen
class MembershipCard:
    """The values printed on a worker's membership card (checked when built).

    ``kpj`` is validated and compacted (:mod:`jamsostek_channels.identifiers.kpj`); ``programs``
    come in canonical order; ``covered_from`` is the first month the worker is protected (the
    first month paid); ``issued_at`` must be timezone-aware and is shown in WIB.
    """

    kpj: str = attrs.field(converter=_kpj.validate, repr=redact.kpj)
    name: str = attrs.field(converter=_stripped, validator=_printable_name, repr=redact.name)
    programs: tuple[Program, ...] = attrs.field(converter=_programs)
    covered_from: YearMonth
    issued_at: dt.datetime = attrs.field(validator=_aware)

    @classmethod
    def after_first_payment(cls, registration: Registration, receipt: Receipt) -> MembershipCard:
        """The card of a worker just registered, once the first payment is made.

        Raises :class:`ValueError` when the receipt is not this registration's (another NIK or
        KPJ, or other programs): a card must not promise what was not paid.
        """
        # A receipt names its customer by the id that was paid: the NIK or the KPJ (masked).
        paid_for = redact.customer(receipt.nik_masked)
        if paid_for not in (_nik.mask(registration.nik_masked), _kpj.mask(registration.kpj)):
            raise ValueError("the receipt is for another participant than the registration")
        if set(registration.programs) != set(receipt.programs):
            raise ValueError("the receipt pays other programs than the registration names")
        if not receipt.periods:
            raise ValueError("the receipt pays no month")
        return cls(
            kpj=registration.kpj,
            name=registration.name,
            programs=registration.programs,
            covered_from=min(receipt.periods),
            issued_at=receipt.paid_at,
        )

    @property
    def issued_wib(self) -> dt.datetime:
        return self.issued_at.astimezone(JAKARTA)


def _month_id(month: YearMonth) -> str:
    return f"{_MONTHS_ID[month.month - 1]} {month.year}"


def _month_en(month: YearMonth) -> str:
    return f"{_MONTHS_EN[month.month - 1]} {month.year}"


def _program_text(programs: Iterable[Program]) -> str:
    return ", ".join(p.value.upper() for p in programs)


def _name_lines(name: str) -> list[str]:
    """The name on at most two lines, cut at a word boundary with "..." beyond that."""
    lines = textwrap.wrap(name, _NAME_WRAP, break_on_hyphens=False) or ["-"]
    if len(lines) <= _NAME_LINES:
        return lines
    last = lines[_NAME_LINES - 1]
    room = _NAME_WRAP - len(_ELLIPSIS)
    if len(last) > room:
        cut = last.rfind(" ", 0, room + 1)
        last = last[:cut] if cut > 0 else last[:room]
    return [*lines[: _NAME_LINES - 1], last.rstrip() + _ELLIPSIS]


@attrs.frozen
class _Text:
    """One line of text: left edge and baseline in mm, size in points."""

    x: float
    y: float
    size: float
    text: str
    bold: bool = False
    colour: tuple[int, int, int] = _INK
    right: float = _TEXT_RIGHT_MM  #: where the line must end by (a font may measure wider)


def _layout(card: MembershipCard) -> list[_Text]:
    """Every line of the card, in the order it is read: both renderers draw this list."""
    width, height = CARD_SIZE_MM
    lines = [
        _Text(4, 6.5, 10, "BPJS KETENAGAKERJAAN", bold=True, colour=_WHITE, right=width - 4),
        _Text(4, 10.5, 6, "KARTU PESERTA BPU \u00b7 MEMBERSHIP CARD", colour=_WHITE),
    ]
    y = 18.0

    def field(label: str, values: list[str]) -> None:
        nonlocal y
        lines.append(_Text(4, y, 5.5, label, colour=_GREY))
        for value in values:
            y += 4.0
            lines.append(_Text(4, y, 9, value, bold=True))
        y += 3.6

    field("Nama / Name", _name_lines(_latin1(card.name)))
    field("No. KPJ / Membership number", [card.kpj])
    field("Program / Programs", [_program_text(card.programs)])
    field("Terlindungi sejak / Covered from", [_month_id(card.covered_from)])
    qr_x, qr_y, qr_side = _QR_BOX
    issued = card.issued_wib.strftime("%d-%m-%Y")
    lines.append(_Text(qr_x, qr_y + qr_side + 3, 5, f"Terbit / Issued {issued}", right=width - 2))
    footer = "Sah tanpa tanda tangan \u00b7 Valid without signature"
    lines.append(_Text(4, height - 2.5, 5, footer, right=width - 4))
    return lines


def _missing(module: str) -> ImportError:
    return ImportError(f"drawing a membership card needs '{module}': {_EXTRA_HINT}", name=module)


def _qr_matrix(kpj: str) -> list[list[bool]]:
    """The QR code of the KPJ's digits as rows of dark (True) and light modules, quiet zone
    included (medium error correction: a printed card survives some wear)."""
    try:
        import qrcode
        from qrcode.constants import ERROR_CORRECT_M
    except ImportError:
        raise _missing("qrcode") from None
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(kpj)
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


def render_pdf(card: MembershipCard) -> bytes:
    """The card as a one-page PDF the size of a bank card, its text selectable and the QR code
    drawn as vectors. The same card gives the same bytes: the PDF's date is ``issued_at`` in WIB."""
    try:
        from fpdf import FPDF
    except ImportError:
        raise _missing("fpdf2") from None
    matrix = _qr_matrix(card.kpj)
    width, height = CARD_SIZE_MM
    pdf = FPDF(orientation="L", unit="mm", format=(height, width))
    pdf.set_creation_date(card.issued_wib)  # equal instants, equal bytes, whatever the zone
    pdf.set_title("Kartu Peserta BPJS Ketenagakerjaan")
    pdf.set_lang("id")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margin(0)
    pdf.add_page()
    pdf.set_fill_color(*_GREEN)
    pdf.rect(0, 0, width, 13, style="F")
    for line in _layout(card):
        style = "B" if line.bold else ""
        size = line.size
        pdf.set_font("Helvetica", style, size)
        while size > 4 and line.x + pdf.get_string_width(line.text) > line.right:
            size -= 0.25  # a line that would run into the QR code or off the card shrinks
            pdf.set_font("Helvetica", style, size)
        pdf.set_text_color(*line.colour)
        pdf.text(line.x, line.y, line.text)
    qr_x, qr_y, qr_side = _QR_BOX
    module = qr_side / len(matrix)
    pdf.set_fill_color(*_INK)
    for row, modules in enumerate(matrix):
        for column, dark in enumerate(modules):
            if dark:
                pdf.rect(qr_x + column * module, qr_y + row * module, module, module, style="F")
    return bytes(pdf.output())


def render_png(card: MembershipCard) -> bytes:
    """The card as a PNG image at :data:`PNG_DPI` (1012 by 638 pixels): the PDF of
    :func:`render_pdf` rasterised by PDFium, so both show exactly the same card. The QR code's
    edges are drawn without anti-aliasing, sharp for a scanner. The same card gives the same
    bytes: no date or time is written into the file."""
    try:
        import pypdfium2
    except ImportError:
        raise _missing("pypdfium2") from None
    try:
        import PIL.Image  # noqa: F401 - pypdfium2 hands its bitmap over as a Pillow image
    except ImportError:
        raise _missing("pillow") from None
    pdf = render_pdf(card)
    with _PDFIUM:
        document = pypdfium2.PdfDocument(pdf)
        try:
            bitmap = document[0].render(scale=PNG_DPI / 72, no_smoothpath=True)
            image = bitmap.to_pil()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(PNG_DPI, PNG_DPI))
    return out.getvalue()


def _body(card: MembershipCard) -> str:
    name = " ".join(card.name.split())
    last4 = _kpj.mask(card.kpj)[-4:]
    programs = _program_text(card.programs)
    return (
        f"Yth. {name},\n\n"
        "Anda telah terdaftar sebagai peserta Bukan Penerima Upah (BPU) BPJS Ketenagakerjaan.\n"
        f"Kartu peserta Anda terlampir (PDF dan PNG); nomor KPJ Anda berakhiran {last4}.\n"
        f"Program: {programs}. Terlindungi sejak {_month_id(card.covered_from)}.\n"
        "Perlindungan berlaku untuk bulan yang iurannya telah dibayar. Simpan kartu ini dan\n"
        "tunjukkan saat mengajukan klaim.\n\n"
        "---\n\n"
        f"Dear {name},\n\n"
        "You are now registered with BPJS Ketenagakerjaan as an informal (BPU) worker.\n"
        f"Your membership card is attached (PDF and PNG); your KPJ number ends in {last4}.\n"
        f"Programs: {programs}. Covered from {_month_en(card.covered_from)}.\n"
        "Only months whose contribution has been paid are covered. Keep this card and show it\n"
        "when you make a claim.\n"
    )


def card_email(
    card: MembershipCard,
    *,
    to: str,
    sender: str,
    pdf: bytes | None = None,
    png: bytes | None = None,
) -> EmailMessage:
    """An e-mail to the worker, ready to send, with the card attached as PDF and PNG.

    ``to`` is the worker's address (``Participant.email``), ``sender`` the partner's. ``pdf``
    and ``png`` are the rendered card when the caller already has them (rendered here
    otherwise). The body is plain text, Indonesian then English. ``Date`` and ``Message-ID``
    are left to the sending side, which knows when and from which host it sends
    (:func:`email.utils.format_datetime`, :func:`email.utils.make_msgid`). An address holding a
    line break raises :class:`ValueError` (no header injection).
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = (
        "Kartu Peserta BPJS Ketenagakerjaan / Your BPJS Ketenagakerjaan membership card"
    )
    message.set_content(_body(card))
    message.add_attachment(
        render_pdf(card) if pdf is None else pdf,
        maintype="application",
        subtype="pdf",
        filename=PDF_FILENAME,
    )
    message.add_attachment(
        render_png(card) if png is None else png,
        maintype="image",
        subtype="png",
        filename=PNG_FILENAME,
    )
    return message
