"""One valid example of every Kantor Pos message: the documentation's examples, from the encoders.

``docs/channels/kantorpos.md`` shows each example between ``<!-- example: NAME -->`` and the end
of the ``xml`` block after it, the response-code table between ``<!-- generated:codes -->`` and
``<!-- /generated:codes -->`` and the reference profile between ``<!-- generated:profile -->``
and ``<!-- /generated:profile -->``. They are generated here, so they are what the library
sends, and the tests hold the page to them::

    python -m jamsostek_channels.adapters.kantorpos.examples docs/channels/kantorpos.md
    python -m jamsostek_channels.adapters.kantorpos.examples --check docs/channels/kantorpos.md

Every example is version 2 (``kantorpos-2.xsd``), what the library sends: requests carry their
send time (``sentAt``), the status answer the payment it found.

The story: Monday 23 November 2026 at counter LKT01 of post office 40115, Siti Rahayu registers
(an OTP goes to her phone), pays three months, the payment is reversed, another customer's
payment is declined; at night the office's settlement file lists the day.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from jamsostek_channels.adapters.kantorpos import codec
from jamsostek_channels.adapters.kantorpos import types as m
from jamsostek_channels.adapters.kantorpos.profile import KantorPosProfile, load_profile
from jamsostek_channels.adapters.kantorpos.settlement import encode_settlement_file
from jamsostek_channels.adapters.kantorpos.soap import FaultCode
from jamsostek_channels.adapters.kantorpos.wire import CURRENT_MAJOR
from jamsostek_channels.channel import CustomerId, CustomerIdKind
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import MalformedMessage
from jamsostek_channels.model import CoverageState, PayerKind, Program, Sex
from jamsostek_channels.period import YearMonth

__all__ = [
    "codes_table",
    "example_documents",
    "example_messages",
    "main",
    "malformed_payment_request",
    "profile_text",
    "render",
]

OFFICE = "40115"
TELLER = "LKT01"
NIK = "3201015508950001"
KPJ = "26110000017"
_DAY = dt.date(2026, 11, 23)
_PROGRAMS = (Program.JKK, Program.JKM)
_PERIODS = (YearMonth(2026, 11), YearMonth(2026, 12), YearMonth(2027, 1))


def _at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 23, hour, minute, second, tzinfo=JAKARTA)


def example_messages() -> dict[str, m.PosMessage | m.PosFault | m.PosSettlementFile]:
    """Every example by name (``payment.request``, ``inquiry.fault``, ``settlement`` …)."""
    customer = CustomerId(CustomerIdKind.NIK, NIK)
    self_paid = m.PosPayer(PayerKind.SELF)
    bills = (
        m.PosBill(_PERIODS[0], 18150, "PP 50/2025"),
        m.PosBill(_PERIODS[1], 18150, "PP 50/2025"),
        m.PosBill(_PERIODS[2], 36300),
    )
    return {
        "registration.request": m.PosRegistrationRequest(
            office=OFFICE,
            teller=TELLER,
            reference="KP40115-20261123-0001",
            requested_at=_at(9, 30),
            sent_at=_at(9, 30),
            participant=m.PosParticipant(
                nik=NIK,
                name="Siti Rahayu",
                birth_date=dt.date(1995, 8, 15),
                sex=Sex.FEMALE,
                phone="+6281234567890",
                email="siti@contoh.id",
                address="Jl. Merdeka No. 10, Cibinong",
                postal_code="16911",
                occupations=("pedagang",),
                income=2_800_000,
                programs=_PROGRAMS,
            ),
            registered_by=self_paid,
        ),
        "registration.response": m.PosRegistrationChallenge(
            reference="KP40115-20261123-0001",
            challenge_id="OTP0000000001",
            phone_masked="0812****7890",
            expires_at=_at(9, 35),
        ),
        "confirm.request": m.PosRegistrationConfirm(
            office=OFFICE,
            teller=TELLER,
            reference="KP40115-20261123-0001",
            challenge_id="OTP0000000001",
            otp="481516",
            sent_at=_at(9, 30, 45),
        ),
        "confirm.response": m.PosRegistrationResult(
            reference="KP40115-20261123-0001",
            kpj=KPJ,
            nik_masked="3201********0001",
            name="Siti Rahayu",
            registered_from=YearMonth(2026, 11),
            programs=_PROGRAMS,
        ),
        "inquiry.request": m.PosInquiryRequest(
            office=OFFICE,
            teller=TELLER,
            reference="KP40115-20261123-0002",
            customer=customer,
            months=3,
            sent_at=_at(9, 31),
        ),
        "inquiry.response": m.PosInquiryResponse(
            inquiry_id="INQ000000000042",
            customer=customer,
            kpj=KPJ,
            name_masked="S*** R***",
            programs=_PROGRAMS,
            coverage_state=CoverageState.DUE,
            bills=bills,
            total=72600,
            admin_fee=2500,
            valid_until=_at(23, 59, 59),
        ),
        "inquiry.fault": m.PosFault(
            code=FaultCode.CLIENT,
            string="Participant not found.",
            response_code="14",
            reference="KP40115-20261123-0005",
            message_id="Peserta tidak ditemukan.",
            message_en="Participant not found.",
        ),
        "payment.request": m.PosPaymentRequest(
            office=OFFICE,
            teller=TELLER,
            reference="KP40115-20261123-0002",
            customer=customer,
            inquiry_id="INQ000000000042",
            periods=_PERIODS,
            amount=72600,
            admin_fee=2500,
            payer=self_paid,
            repeat=False,
            requested_at=_at(9, 31, 10),
            sent_at=_at(9, 31, 10),
        ),
        "payment.response": m.PosPaymentResponse(
            reference="KP40115-20261123-0002",
            status=m.PaymentStatus.APPLIED,
            response_code="00",
            host_reference="BPJS000000000123",
            periods=_PERIODS,
            amount=72600,
            paid_at=_at(9, 31, 11),
        ),
        "payment-declined.response": m.PosPaymentResponse(
            reference="KP40115-20261123-0003",
            status=m.PaymentStatus.DECLINED,
            response_code="54",
            amount=36300,
        ),
        "status.request": m.PosStatusRequest(
            office=OFFICE, teller=TELLER, reference="KP40115-20261123-0002", sent_at=_at(9, 35)
        ),
        "status.response": m.PosStatusResponse(
            reference="KP40115-20261123-0002",
            status=m.TransactionStatus.APPLIED,
            response_code="00",
            host_reference="BPJS000000000123",
            periods=_PERIODS,
            amount=72600,
            paid_at=_at(9, 31, 11),
            customer=customer,
            office=OFFICE,
            teller=TELLER,
        ),
        "stale.fault": m.PosFault(
            code=FaultCode.CLIENT,
            string="The request's send time is too far from the host's clock.",
            response_code="93",
            reference="KP40115-20261123-0002",
            message_id="Waktu kirim permintaan terlalu jauh dari jam host; tidak diproses.",
            message_en="The request's send time is too far from the host's clock; not processed.",
        ),
        "reversal.request": m.PosReversalRequest(
            office=OFFICE,
            teller=TELLER,
            reference="KP40115-20261123-0002",
            amount=72600,
            repeat=False,
            requested_at=_at(9, 40),
            sent_at=_at(9, 40),
        ),
        "reversal.response": m.PosReversalResponse(
            reference="KP40115-20261123-0002",
            status=m.ReversalStatus.REVERSED,
            response_code="00",
            reversed_at=_at(9, 40, 1),
        ),
        "settlement": m.PosSettlementFile(
            office=OFFICE,
            business_date=_DAY,
            generated_at=_at(23, 15),
            records=(
                m.PosSettlementRecord(
                    reference="KP40115-20261123-0002",
                    host_reference="BPJS000000000123",
                    teller=TELLER,
                    nik_masked="3201********0001",
                    periods=_PERIODS,
                    amount=72600,
                    admin_fee=2500,
                    paid_at=_at(9, 31, 11),
                    state=m.SettlementStatus.REVERSED,
                    reversed_at=_at(9, 40, 1),
                ),
                m.PosSettlementRecord(
                    reference="KP40115-20261123-0004",
                    host_reference="BPJS000000000131",
                    teller=TELLER,
                    nik_masked="3273********0002",
                    periods=(YearMonth(2026, 11),),
                    amount=16800,
                    admin_fee=2500,
                    paid_at=_at(10, 5, 42),
                    state=m.SettlementStatus.PAID,
                ),
                m.PosSettlementRecord(
                    reference="KP40115-20261123-0005",
                    host_reference="BPJS000000000158",
                    teller="LKT02",
                    nik_masked="3204********0003",
                    periods=tuple(YearMonth(2026, 11) + i for i in range(6)),
                    amount=100800,
                    admin_fee=3500,
                    paid_at=_at(14, 20, 3),
                    state=m.SettlementStatus.PAID,
                ),
            ),
        ),
    }


def malformed_payment_request() -> tuple[bytes, MalformedMessage]:
    """A payment request with a negative amount, and the error the decoder raises for it."""
    good = codec.encode(_payment_request())
    bad = good.replace(b"<kp:amount>72600</kp:amount>", b"<kp:amount>-72600</kp:amount>")
    try:
        codec.decode_payment_request(bad)
    except MalformedMessage as error:
        return bad, error
    raise AssertionError("the malformed example decoded")  # pragma: no cover


def _payment_request() -> m.PosPaymentRequest:
    message = example_messages()["payment.request"]
    assert isinstance(message, m.PosPaymentRequest)
    return message


def example_documents() -> dict[str, bytes]:
    """Every example encoded, plus ``format.fault``: the Fault a server answers the malformed
    payment request of :func:`malformed_payment_request` with."""
    documents: dict[str, bytes] = {}
    for name, message in example_messages().items():
        if isinstance(message, m.PosFault):
            documents[name] = codec.encode_fault(message, major=CURRENT_MAJOR)
        elif isinstance(message, m.PosSettlementFile):
            documents[name] = encode_settlement_file(message)
        else:
            documents[name] = codec.encode(message, major=CURRENT_MAJOR)
    _, error = malformed_payment_request()
    # The fake gateway is the reference server: its answer is the example.
    from jamsostek_channels.adapters.kantorpos.fake import fault_for

    codes = load_profile().response_codes
    documents["format.fault"] = codec.encode_fault(
        fault_for(error, codes=codes, reference="KP40115-20261123-0002"), major=CURRENT_MAJOR
    )
    return documents


def codes_table(profile: KantorPosProfile) -> str:
    """The response-code table as Markdown."""
    codes = profile.response_codes
    rows = [
        "| code | meaning | library error | in a Fault | what the counter does |",
        "|---|---|---|---|---|",
    ]
    for code, info in sorted(codes.items(), key=lambda item: int(item[0])):
        error = f"`{info.error}`" if info.error else "—"
        fault = f"`soap:{info.fault.value}`" if info.error else "—"
        if code == codes.success:
            action = "carry on: done"
        elif code == codes.pending:
            action = "ask the status later"
        elif info.retry_safe:
            action = "send the same request again later"
        elif info.needs_status:
            action = "after a payment: ask the status (never pay again under a new reference)"
        elif info.error and info.error.startswith("message."):
            action = "fix the sending side (a bug or a schema mismatch); do not resend as is"
        else:
            action = "tell the customer why; do not resend as is"
        rows.append(f"| `{code}` | {info.label} | {error} | {fault} | {action} |")
    return "\n".join(rows)


def profile_text() -> str:
    """The shipped reference profile's TOML."""
    return (
        resources.files("jamsostek_channels.adapters.kantorpos")
        .joinpath("profile.toml")
        .read_text(encoding="utf-8")
        .rstrip("\n")
    )


_EXAMPLE = re.compile(
    r"(<!-- example: (?P<name>[\w.-]+) -->\n```xml\n)(?P<body>(?:(?!```)[^\n]*\n)*)(```)"
)
_REGION = re.compile(
    r"(<!-- generated:(?P<name>\w+) -->\n)(?P<body>.*?)(<!-- /generated:(?P=name) -->)", re.S
)


def _regions() -> Mapping[str, str]:
    return {"codes": codes_table(load_profile()), "profile": f"```toml\n{profile_text()}\n```"}


def render(page: str) -> str:
    """``page`` with every example and generated region replaced by the current output.
    An example name the generator does not know raises ``KeyError``."""
    documents = example_documents()
    regions = _regions()

    def example(match: re.Match[str]) -> str:
        body = documents[match["name"]].decode("utf-8").rstrip("\n")
        return match.group(1) + body + "\n" + match.group(4)

    def region(match: re.Match[str]) -> str:
        return match.group(1) + regions[match["name"]] + "\n" + match.group(4)

    return _REGION.sub(region, _EXAMPLE.sub(example, page))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("page", type=Path, help="docs/channels/kantorpos.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    args = parser.parse_args(argv)
    page = args.page.read_text(encoding="utf-8")
    fresh = render(page)
    if args.check:
        if fresh != page:
            print(f"{args.page} is stale: regenerate it", file=sys.stderr)
            return 1
        return 0
    if fresh != page:
        args.page.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
