"""DE57 receipts (issue 12): the fake switch answers an approved payment (and advice) with its
screen and receipt lines in DE57, the adapter hands them to the client in the payment's result,
and the receipt prints them under the library's own at the profile's widths: 32 and 42 columns
on a BRILink EDC, 40 on an Indomaret or Alfamart till.

At every width: no line wider than the paper, the same facts (amount, admin fee apart, months,
the channel's and the host's references, the NIK and KPJ masked), Indonesian and English. One
receipt per width is compared with its expected text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from iso8583_kit import AGENT, TERMINALS
from test_client import NIK, ONE_MONTH, Clock

from jamsostek_channels import connect
from jamsostek_channels.adapters.iso8583 import Timers, flows
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.adapters.iso8583.profile import load_profile
from jamsostek_channels.channel import PaymentResult, PaymentState
from jamsostek_channels.client import Client
from jamsostek_channels.identifiers import kpj as kpj_id
from jamsostek_channels.model import Receipt
from jamsostek_channels.money import rupiah
from jamsostek_channels.receipts import host_line, render_text
from jamsostek_channels.testing.host import FakeHost

TIMERS = Timers(inquiry_timeout=3, payment_timeout=0.5)
#: Every profile's receipt widths, as its TOML says them.
WIDTHS = [(name, width) for name in TERMINALS for width in load_profile(name).receipt_widths]


@pytest.fixture
def pay(
    switches: Callable[[str], FakeSwitch], clients: Callable[..., Client]
) -> Callable[[str], tuple[Receipt, Client]]:
    """Pays three months of NIK through a profile's switch and returns the receipt."""

    def paid(name: str) -> tuple[Receipt, Client]:
        client = clients(switches(name), timers=TIMERS)
        return client.pay(NIK, months=3, reference=f"{name.upper()}-0001"), client

    return paid


def test_the_profiles_widths() -> None:
    assert WIDTHS == [("brilink", 32), ("brilink", 42), ("indomaret", 40), ("alfamart", 40)]


# DE57 on the wire ---------------------------------------------------------------------------------


def test_the_switchs_lines_fit_the_narrowest_paper_and_mask_the_kpj() -> None:
    result = PaymentResult(
        reference="R-1", state=PaymentState.APPLIED, host_reference="BPJS000000000001"
    )
    lines = flows.receipt_lines(result, "12345678901")
    assert lines.screen == ("PEMBAYARAN BERHASIL", "PAYMENT APPROVED")
    assert lines.receipt == (
        "BPJS KETENAGAKERJAAN",
        "Iuran BPU diterima",
        "BPU contribution received",
        "KPJ *******8901",
        "Ref. BPJS BPJS000000000001",
        "Info: 175 (Layanan/Call center)",
    )
    assert all(len(line) <= flows.RECEIPT_COLUMNS for line in lines.receipt + lines.screen)
    encoded = lines.encode()
    assert "12345678901" not in encoded
    assert type(lines).decode(encoded) == lines
    assert flows.with_host_lines(result, lines).host_lines == lines.receipt


@pytest.mark.parametrize("name", list(TERMINALS))
def test_the_payment_result_carries_the_host_lines(
    name: str, pay: Callable[[str], tuple[Receipt, Client]], host: FakeHost
) -> None:
    receipt, client = pay(name)
    kpj = host.participant(NIK).kpj  # type: ignore[union-attr]
    assert receipt.host_lines[:3] == (
        "BPJS KETENAGAKERJAAN",
        "Iuran BPU diterima",
        "BPU contribution received",
    )
    assert f"KPJ {kpj_id.mask(kpj)}" in receipt.host_lines
    assert f"Ref. BPJS {receipt.host_reference}" in receipt.host_lines
    assert kpj not in "".join(receipt.host_lines)
    assert "lines>" in repr(receipt)  # the lines never show in a repr
    # the journal keeps them: the same reference again answers with the same receipt
    again = client.pay(NIK, months=3, reference=f"{name.upper()}-0001")
    assert again == receipt


def test_a_payment_completed_by_advice_has_the_same_lines(
    host: FakeHost, clock: Clock, tmp_path: Path
) -> None:
    """BRILink: the payment's answer is lost, the 0230 to the advice carries DE57 instead."""
    with FakeSwitch(host, "brilink", idle_timeout=10) as switch:
        client = connect(
            "brilink",
            {"base_url": switch.address, "terminal_id": TERMINALS["brilink"], "agent_id": AGENT},
            journal=tmp_path / "advice.sqlite",
            clock=clock,
            timers=TIMERS,
            sleep=lambda _: None,
        )
        with client:
            switch.faults.inject("drop", match="PAY-DROP")  # applied; the 0210 is lost
            receipt = client.pay(NIK, months=1, reference="PAY-DROP")
        assert [mti for mti in switch.received if not mti.startswith("08")][-1] == "0220"
    assert f"Ref. BPJS {receipt.host_reference}" in receipt.host_lines
    assert "BPU contribution received" in receipt.host_lines


# The printed receipt at each width ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "width"), WIDTHS)
def test_every_width_fits_and_says_the_same_facts(
    name: str, width: int, pay: Callable[[str], tuple[Receipt, Client]], host: FakeHost
) -> None:
    receipt, _client = pay(name)
    text = render_text(receipt, width, channel_label=load_profile(name).label)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines)
    flat = " ".join(" ".join(lines).split())
    kpj = host.participant(NIK).kpj  # type: ignore[union-attr]
    facts = [
        rupiah(3 * ONE_MONTH),  # the contribution
        rupiah(receipt.admin_fee),  # the fee, apart
        rupiah(3 * ONE_MONTH + receipt.admin_fee),  # the total
        "OKT 2026 - DES 2026 (3 bulan)",  # the months
        f"{name.upper()}-0001",  # the channel's reference
        receipt.host_reference,  # the host's
        "3201********0001",  # the NIK, masked
        kpj_id.mask(kpj),  # the KPJ, masked
        "Iuran BPU diterima",  # Indonesian
        "BPU contribution received",  # and English
    ]
    for fact in facts:
        assert fact in flat, fact
    assert NIK not in text
    assert kpj not in text


def test_a_host_line_wider_than_the_paper_is_wrapped_and_ids_masked() -> None:
    assert host_line("KPJ 12345678901 / NIK 3201015508950001") == (
        "KPJ *******8901 / NIK 3201********0001"
    )
    assert host_line("Ref BPJS000000000001") == "Ref BPJS000000000001"  # 12 digits: no id


EXPECTED = {
    ("brilink", 32): """\
      BPJS KETENAGAKERJAAN
     BUKTI BAYAR IURAN BPU
--------------------------------
Kanal                    BRILink
Waktu    22-11-2026 10:00:00 WIB
No. Ref             BRILINK-0001
No. BPJS        BPJS000000000001
NIK             3201********0001
Nama                   S*** R***
Program                 JKK, JKM
Bulan
   OKT 2026 - DES 2026 (3 bulan)
--------------------------------
Iuran                   Rp54.450
Biaya admin              Rp3.000
Total                   Rp57.450
--------------------------------
Terbilang: Lima puluh tujuh ribu
empat ratus lima puluh rupiah
--------------------------------
BPJS KETENAGAKERJAAN
Iuran BPU diterima
BPU contribution received
KPJ *******0001
Ref. BPJS BPJS000000000001
Info: 175 (Layanan/Call center)
--------------------------------
        Simpan struk ini
       sebagai bukti sah
""",
    ("brilink", 42): """\
           BPJS KETENAGAKERJAAN
          BUKTI BAYAR IURAN BPU
------------------------------------------
Kanal                              BRILink
Waktu              22-11-2026 10:00:00 WIB
No. Ref                       BRILINK-0001
No. BPJS                  BPJS000000000001
NIK                       3201********0001
Nama                             S*** R***
Program                           JKK, JKM
Bulan        OKT 2026 - DES 2026 (3 bulan)
------------------------------------------
Iuran                             Rp54.450
Biaya admin                        Rp3.000
Total                             Rp57.450
------------------------------------------
Terbilang: Lima puluh tujuh ribu empat
ratus lima puluh rupiah
------------------------------------------
BPJS KETENAGAKERJAAN
Iuran BPU diterima
BPU contribution received
KPJ *******0001
Ref. BPJS BPJS000000000001
Info: 175 (Layanan/Call center)
------------------------------------------
    Simpan struk ini sebagai bukti sah
""",
    ("indomaret", 40): """\
          BPJS KETENAGAKERJAAN
         BUKTI BAYAR IURAN BPU
----------------------------------------
Kanal                          Indomaret
Waktu            22-11-2026 10:00:00 WIB
No. Ref                   INDOMARET-0001
No. BPJS                BPJS000000000001
NIK                     3201********0001
Nama                           S*** R***
Program                         JKK, JKM
Bulan      OKT 2026 - DES 2026 (3 bulan)
----------------------------------------
Iuran                           Rp54.450
Biaya admin                      Rp2.500
Total                           Rp56.950
----------------------------------------
Terbilang: Lima puluh enam ribu sembilan
ratus lima puluh rupiah
----------------------------------------
BPJS KETENAGAKERJAAN
Iuran BPU diterima
BPU contribution received
KPJ *******0001
Ref. BPJS BPJS000000000001
Info: 175 (Layanan/Call center)
----------------------------------------
   Simpan struk ini sebagai bukti sah
""",
}


@pytest.mark.parametrize(("name", "width"), list(EXPECTED))
def test_one_receipt_per_width_as_printed(
    name: str, width: int, pay: Callable[[str], tuple[Receipt, Client]]
) -> None:
    receipt, _client = pay(name)
    text = render_text(receipt, width, channel_label=load_profile(name).label)
    assert text == EXPECTED[(name, width)]


def test_the_receipt_lines_are_only_ascii() -> None:
    assert re.fullmatch(r"[ -~]*", host_line("Iuran BPU diterima — terima kasih"))
