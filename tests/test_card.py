"""The membership card: read back by tools that did not draw it (pypdf for the PDF's text,
zxing-cpp for the PNG's QR code), the e-mail's structure, determinism, awkward names, and the
error a partner without the ``card`` extra meets."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import io
import os
import re
import subprocess
import sys
from email.message import EmailMessage
from importlib import metadata
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from jamsostek_channels.card import (
    CARD_SIZE_MM,
    PDF_FILENAME,
    PNG_DPI,
    PNG_FILENAME,
    MembershipCard,
    card_email,
    render_pdf,
    render_png,
)
from jamsostek_channels.channel import Registration
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import InvalidInput
from jamsostek_channels.identifiers import nik as nik_id
from jamsostek_channels.model import Program, Receipt
from jamsostek_channels.period import YearMonth, month_range

NIK = "3201015508950001"
KPJ = "12345678901"
ISSUED = dt.datetime(2026, 11, 22, 9, 31, 5, tzinfo=JAKARTA)


def make_registration(**changes: Any) -> Registration:
    values: dict[str, Any] = {
        "reference": "REG-1",
        "kpj": KPJ,
        "nik_masked": nik_id.mask(NIK),
        "name": "Siti Rahayu",
        "registered": YearMonth(2026, 11),
        "programs": (Program.JKK, Program.JKM),
    }
    values.update(changes)
    return Registration(**values)


def make_receipt(**changes: Any) -> Receipt:
    values: dict[str, Any] = {
        "channel": "bank-contoh",
        "channel_reference": "TRX-1",
        "host_reference": "BPJS-1",
        "nik_masked": nik_id.mask(NIK),
        "name": "Siti Rahayu",
        "programs": (Program.JKM, Program.JKK),
        "periods": tuple(reversed(list(month_range(YearMonth(2026, 11), 3)))),
        "amount": 50_400,
        "admin_fee": 2_500,
        "paid_at": ISSUED.astimezone(dt.UTC),
    }
    values.update(changes)
    return Receipt(**values)


def make_card(**changes: Any) -> MembershipCard:
    values: dict[str, Any] = {
        "kpj": KPJ,
        "name": "Siti Rahayu",
        "programs": (Program.JKK, Program.JKM),
        "covered_from": YearMonth(2026, 11),
        "issued_at": ISSUED,
    }
    values.update(changes)
    return MembershipCard(**values)


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def pdf_lines(pdf: bytes) -> list[str]:
    return [line.strip() for line in pdf_text(pdf).splitlines()]


def qr_texts(png: bytes) -> list[str]:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return [code.text for code in found if code.format == zxingcpp.BarcodeFormat.QRCode]


# --- the card's values ---------------------------------------------------------------------------


def test_card_after_registration_and_first_payment() -> None:
    card = MembershipCard.after_first_payment(make_registration(), make_receipt())
    assert card.kpj == KPJ
    assert card.name == "Siti Rahayu"
    assert card.programs == (Program.JKK, Program.JKM)
    assert card.covered_from == YearMonth(2026, 11)  # the first month paid, given in any order
    assert card.issued_at == ISSUED
    assert card.issued_wib.utcoffset() == dt.timedelta(hours=7)


def test_a_receipt_paid_by_kpj_is_the_registrations_too() -> None:
    card = MembershipCard.after_first_payment(make_registration(), make_receipt(nik_masked=KPJ))
    assert card.kpj == KPJ


@pytest.mark.parametrize(
    ("receipt_changes", "message"),
    [
        ({"nik_masked": nik_id.mask("3201015508950002")}, "another participant"),
        ({"nik_masked": "*******8902"}, "another participant"),
        ({"programs": (Program.JKK, Program.JKM, Program.JHT)}, "other programs"),
        ({"periods": ()}, "no month"),
    ],
)
def test_a_card_from_a_receipt_that_is_not_the_registrations_is_refused(
    receipt_changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        MembershipCard.after_first_payment(make_registration(), make_receipt(**receipt_changes))
    assert KPJ not in str(raised.value)


def test_repr_masks_kpj_and_name() -> None:
    text = repr(make_card())
    assert KPJ not in text
    assert "*******8901" in text
    assert "Rahayu" not in text
    assert "S*** R***" in text


def test_invalid_values_are_refused_without_echoing_them() -> None:
    with pytest.raises(InvalidInput) as raised:
        make_card(kpj="1234567890123")
    assert "1234567890123" not in str(raised.value)
    with pytest.raises(ValueError, match="timezone"):
        make_card(issued_at=dt.datetime(2026, 11, 22, 9, 31))
    with pytest.raises(ValueError, match="program"):
        make_card(programs=())
    with pytest.raises(ValueError, match="nothing the card can print"):
        make_card(name="\u0645\u062d\u0645\u062f")  # Arabic script: no Latin form to print


# --- the PDF, read back by pypdf ----------------------------------------------------------------


def test_pdf_shows_kpj_name_programs_and_coverage_start() -> None:
    pdf = render_pdf(make_card(programs=(Program.JHT, Program.JKK, Program.JKM)))
    assert pdf.startswith(b"%PDF-")
    assert pdf_lines(pdf) == [
        "BPJS KETENAGAKERJAAN",
        "KARTU PESERTA BPU · MEMBERSHIP CARD",
        "Nama / Name",
        "Siti Rahayu",
        "No. KPJ / Membership number",
        KPJ,
        "Program / Programs",
        "JKK, JKM, JHT",
        "Terlindungi sejak / Covered from",
        "November 2026",
        "Terbit / Issued 22-11-2026",
        "Sah tanpa tanda tangan · Valid without signature",
    ]
    assert NIK not in pdf_text(pdf)


def test_pdf_page_is_the_size_of_a_bank_card() -> None:
    box = pypdf.PdfReader(io.BytesIO(render_pdf(make_card()))).pages[0].mediabox
    points_per_mm = 72 / 25.4
    assert float(box.width) == pytest.approx(CARD_SIZE_MM[0] * points_per_mm, abs=0.01)
    assert float(box.height) == pytest.approx(CARD_SIZE_MM[1] * points_per_mm, abs=0.01)


def test_issued_date_is_the_jakarta_date() -> None:
    # 18:00 UTC on the 21st is 01:00 WIB on the 22nd.
    card = make_card(issued_at=dt.datetime(2026, 11, 21, 18, 0, tzinfo=dt.UTC))
    assert "Terbit / Issued 22-11-2026" in pdf_lines(render_pdf(card))


def test_diacritics_are_printed_as_written_and_others_lose_only_their_accents() -> None:
    lines = pdf_lines(render_pdf(make_card(name="José Núñez")))
    assert "José Núñez" in lines
    lines = pdf_lines(render_pdf(make_card(name="Nguyễn Łucja")))
    assert "Nguyen Lucja" in lines


def _name_lines(pdf: bytes) -> list[str]:
    lines = pdf_lines(pdf)
    return lines[lines.index("Nama / Name") + 1 : lines.index("No. KPJ / Membership number")]


def test_a_very_long_name_is_wrapped_then_cut_at_a_word() -> None:
    name = "Raden Mas Haryo Bagus Wicaksono Adinegoro Kusumaningrat Prawirodirjo"
    shown = _name_lines(render_pdf(make_card(name=name)))
    assert len(shown) == 2
    assert shown[1].endswith("...")
    joined = " ".join(shown)[: -len("...")]
    assert name.startswith(joined)
    assert name[len(joined)] == " "  # cut between words, not inside one


def test_a_long_name_that_fits_two_lines_is_whole() -> None:
    name = "Siti Nurhaliza Rahmawati Kusumadewi"
    assert " ".join(_name_lines(render_pdf(make_card(name=name)))) == name


def test_a_single_unbroken_long_name_is_cut_and_marked() -> None:
    name = "Wiryawanmangkunegaransuryokusumo" * 3
    shown = _name_lines(render_pdf(make_card(name=name)))
    assert len(shown) == 2
    assert shown[1].endswith("...")
    assert name.startswith("".join(shown)[: -len("...")])


@pytest.mark.parametrize(
    "name",
    [
        "Raden Mas Haryo Bagus Wicaksono Adinegoro Kusumaningrat Prawirodirjo",
        "MMMMMMMMMMMMMMMMMMMMMMMM WWWWWWWWWWWWWWWWWWWWWWW",
        "Wiryawanmangkunegaransuryokusumo" * 3,
    ],
)
def test_no_name_runs_into_the_qr_code(name: str) -> None:
    # Measured by PDFium on the drawn glyphs: every character of the text column ends left of
    # the QR code's square (61 mm from the left edge), however wide the letters.
    document = pypdfium2.PdfDocument(render_pdf(make_card(name=name)))
    try:
        text = document[0].get_textpage()
        qr_left = 61 * 72 / 25.4
        ends = [text.get_charbox(i)[2] for i in range(text.count_chars())]
        drawn = text.get_text_range()
    finally:
        document.close()
    kpj_at = drawn.index(KPJ)
    label_at = drawn.index("No. KPJ")
    name_ends = ends[drawn.index("Nama / Name") : label_at]
    assert max(name_ends) < qr_left
    assert max(ends[kpj_at : kpj_at + len(KPJ)]) < qr_left


# --- the PNG, its QR code read back by zxing-cpp -------------------------------------------------


def test_png_qr_code_holds_the_kpj() -> None:
    png = render_png(make_card())
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert qr_texts(png) == [KPJ]


def test_png_is_the_card_at_print_resolution() -> None:
    image = Image.open(io.BytesIO(render_png(make_card())))
    assert image.format == "PNG"
    assert image.size == (1012, 638)
    assert image.info["dpi"] == pytest.approx((PNG_DPI, PNG_DPI), abs=0.01)


def test_a_long_name_leaves_the_qr_code_readable() -> None:
    card = make_card(kpj="98765432109", name="MMMMMMMMMMMMMMMMMMMMMMMM WWWWWWWWWWWWWWWWWWWWWWW")
    assert qr_texts(render_png(card)) == ["98765432109"]


def test_pdf_qr_code_holds_the_kpj_too() -> None:
    # The PDF's vector QR code, rasterised at a screen's resolution, read by zxing-cpp.
    document = pypdfium2.PdfDocument(render_pdf(make_card()))
    try:
        image = document[0].render(scale=2).to_pil()
    finally:
        document.close()
    found = zxingcpp.read_barcodes(image)
    assert [code.text for code in found] == [KPJ]


# --- determinism --------------------------------------------------------------------------------

_RENDER_ELSEWHERE = """
import datetime as dt, hashlib, sys
from jamsostek_channels.card import MembershipCard, render_pdf, render_png
from jamsostek_channels.period import YearMonth
card = MembershipCard(
    kpj="12345678901", name="José Núñez", programs=("jkm", "jkk"),
    covered_from=YearMonth(2026, 11),
    issued_at=dt.datetime(2026, 11, 22, 2, 31, 5, tzinfo=dt.UTC),
)
sys.stdout.write(hashlib.sha256(render_pdf(card)).hexdigest() + " ")
sys.stdout.write(hashlib.sha256(render_png(card)).hexdigest())
"""


def test_the_same_card_gives_the_same_bytes_in_another_process() -> None:
    # Another process, string-hash seed and time zone, minutes later, and issued_at given in
    # UTC there (the same instant): the PDF's embedded date is issued_at in WIB, the PNG holds
    # no date.
    card = make_card(name="José Núñez", programs=(Program.JKK, Program.JKM))
    here = " ".join(
        hashlib.sha256(data).hexdigest() for data in (render_pdf(card), render_png(card))
    )
    elsewhere = subprocess.run(
        [sys.executable, "-c", _RENDER_ELSEWHERE],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "PYTHONHASHSEED": "7", "TZ": "America/Lima"},
    ).stdout
    assert elsewhere == here


def test_the_pdf_date_is_the_issue_time() -> None:
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(make_card())))
    assert reader.metadata is not None
    assert reader.metadata.creation_date == ISSUED
    assert reader.metadata.title == "Kartu Peserta BPJS Ketenagakerjaan"


def test_another_card_gives_other_bytes() -> None:
    assert render_pdf(make_card()) != render_pdf(make_card(kpj="12345678902"))
    assert render_png(make_card()) != render_png(make_card(kpj="12345678902"))


# --- the e-mail ---------------------------------------------------------------------------------


def _email(**changes: Any) -> EmailMessage:
    card = MembershipCard.after_first_payment(make_registration(**changes), make_receipt())
    return card_email(card, to="siti.rahayu@example.com", sender="kartu@mitra.example")


def test_email_headers_and_bilingual_body() -> None:
    message = _email()
    assert message["To"] == "siti.rahayu@example.com"
    assert message["From"] == "kartu@mitra.example"
    assert message["Subject"] == (
        "Kartu Peserta BPJS Ketenagakerjaan / Your BPJS Ketenagakerjaan membership card"
    )
    assert message["Date"] is None  # the sending side dates it
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert text.startswith("Yth. Siti Rahayu,\n")
    assert "Dear Siti Rahayu," in text
    assert "nomor KPJ Anda berakhiran 8901" in text
    assert "your KPJ number ends in 8901" in text
    assert "Terlindungi sejak November 2026" in text
    assert "Covered from November 2026" in text
    assert "Program: JKK, JKM." in text
    assert "Programs: JKK, JKM." in text


def test_email_attaches_the_card_as_pdf_and_png() -> None:
    message = _email()
    attachments = list(message.iter_attachments())
    assert [(a.get_content_type(), a.get_filename()) for a in attachments] == [
        ("application/pdf", PDF_FILENAME),
        ("image/png", PNG_FILENAME),
    ]
    pdf, png = (a.get_content() for a in attachments)
    assert KPJ in pdf_lines(pdf)
    assert qr_texts(png) == [KPJ]


def test_email_uses_the_renderings_it_is_given() -> None:
    card = make_card()
    pdf, png = render_pdf(card), render_png(card)
    message = card_email(card, to="a@example.com", sender="b@example.com", pdf=pdf, png=png)
    assert [a.get_content() for a in message.iter_attachments()] == [pdf, png]


def test_email_holds_no_nik_and_the_full_kpj_only_in_the_card() -> None:
    message = _email()
    raw = message.as_bytes()
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    for secret in (NIK, nik_id.mask(NIK)):
        assert secret.encode() not in raw
    assert KPJ not in body.get_content()
    headers = "".join(f"{k}: {v}\n" for k, v in message.items())
    assert KPJ not in headers
    pdf, _png = (a.get_content() for a in message.iter_attachments())
    assert NIK not in pdf_text(pdf)
    assert all(KPJ not in str(a.get_filename()) for a in message.iter_attachments())


def test_email_name_with_diacritics_survives_encoding() -> None:
    message = _email(name="José Núñez")
    reparsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(reparsed, EmailMessage)
    body = reparsed.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Yth. José Núñez," in body.get_content()


def test_an_address_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match=r"linefeed|carriage return|newline"):
        card_email(make_card(), to="a@example.com\r\nBcc: x@example.com", sender="b@example.com")


# --- without the card extra ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "render"),
    [
        ("fpdf", render_pdf),
        ("qrcode", render_pdf),
        ("pypdfium2", render_png),
        ("PIL", render_png),
    ],
)
def test_a_missing_library_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, render: Any
) -> None:
    for name in [m for m in sys.modules if m == module or m.startswith(f"{module}.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'jamsostek-channels\[card\]'"):
        render(make_card())


def test_the_card_extra_brings_what_drawing_needs() -> None:
    requires = metadata.requires("jamsostek-channels") or []
    card = {r.split(";")[0].strip().split(">")[0] for r in requires if 'extra == "card"' in r}
    assert card == {"fpdf2", "qrcode", "pypdfium2", "pillow"}


# --- the documentation ---------------------------------------------------------------------------


def test_docs_example_runs_and_prints_what_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    page = (Path(__file__).resolve().parent.parent / "docs" / "card.md").read_text("utf-8")
    block = re.search(r"## Example\n.*?```python\n(.*?)```", page, re.S)
    assert block is not None
    code = block.group(1)
    expected = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    exec(compile(code, "docs/card.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "\n".join(expected)
