"""The Kantor Pos messages: round trips, the XSDs both ways, refusals that name the element,
Faults <-> library errors for every configured code, the settlement file and its trailer, the
profile, the converters, and docs/channels/kantorpos.md held to the encoders."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import participant_data
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from jamsostek_channels import parse_participant
from jamsostek_channels.adapters.kantorpos import codec, examples, mapping, soap, wire, xmlsafe
from jamsostek_channels.adapters.kantorpos import fake as server
from jamsostek_channels.adapters.kantorpos import types as kp
from jamsostek_channels.adapters.kantorpos.codes import ResponseCodeInfo, ResponseCodes
from jamsostek_channels.adapters.kantorpos.errors import KantorPosDeclined, KantorPosRefused
from jamsostek_channels.adapters.kantorpos.profile import (
    OPERATIONS,
    default_profile,
    load_profile,
)
from jamsostek_channels.adapters.kantorpos.settlement import (
    decode_settlement_file,
    encode_settlement_file,
    read_settlement_file,
)
from jamsostek_channels.channel import (
    CustomerId,
    CustomerIdKind,
    Inquiry,
    Operation,
    OtpChallenge,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    Registration,
    RegistrationRequest,
    ReversalResult,
    ReversalState,
    SettlementState,
)
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import HostDeclined, InvalidInput, MalformedMessage
from jamsostek_channels.model import CoverageState, Payer, PayerKind, Program
from jamsostek_channels.period import YearMonth

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "channels" / "kantorpos.md"
MESSAGES = examples.example_messages()
DOCUMENTS = examples.example_documents()
PROFILE = default_profile()
CODES = PROFILE.response_codes
#: The examples are version 2, what the library sends (the settlement file is version 1's).
NS = wire.NAMESPACES[wire.CURRENT_MAJOR]
TODAY = dt.date(2026, 11, 22)

DECODER_OF: dict[type, Any] = {
    kp.PosRegistrationRequest: codec.decode_registration_request,
    kp.PosRegistrationChallenge: codec.decode_registration_challenge,
    kp.PosRegistrationConfirm: codec.decode_registration_confirm,
    kp.PosRegistrationResult: codec.decode_registration_result,
    kp.PosInquiryRequest: codec.decode_inquiry_request,
    kp.PosInquiryResponse: codec.decode_inquiry_response,
    kp.PosPaymentRequest: codec.decode_payment_request,
    kp.PosPaymentResponse: codec.decode_payment_response,
    kp.PosStatusRequest: codec.decode_status_request,
    kp.PosStatusResponse: codec.decode_status_response,
    kp.PosReversalRequest: codec.decode_reversal_request,
    kp.PosReversalResponse: codec.decode_reversal_response,
    kp.PosFault: codec.decode_fault,
    kp.PosSettlementFile: decode_settlement_file,
}
ENCODER_OF: dict[type, Any] = {
    kp.PosRegistrationRequest: codec.encode_registration_request,
    kp.PosRegistrationChallenge: codec.encode_registration_challenge,
    kp.PosRegistrationConfirm: codec.encode_registration_confirm,
    kp.PosRegistrationResult: codec.encode_registration_result,
    kp.PosInquiryRequest: codec.encode_inquiry_request,
    kp.PosInquiryResponse: codec.encode_inquiry_response,
    kp.PosPaymentRequest: codec.encode_payment_request,
    kp.PosPaymentResponse: codec.encode_payment_response,
    kp.PosStatusRequest: codec.encode_status_request,
    kp.PosStatusResponse: codec.encode_status_response,
    kp.PosReversalRequest: codec.encode_reversal_request,
    kp.PosReversalResponse: codec.encode_reversal_response,
    kp.PosFault: codec.encode_fault,
    kp.PosSettlementFile: encode_settlement_file,
}
RESPONSE_DECODERS = [
    codec.decode_registration_challenge,
    codec.decode_registration_result,
    codec.decode_inquiry_response,
    codec.decode_payment_response,
    codec.decode_status_response,
    codec.decode_reversal_response,
]


def message(name: str) -> Any:
    return MESSAGES[name]


def schema_valid(document: bytes, schema: str = wire.ENVELOPE_SCHEMA) -> bool:
    """Validated by lxml directly, outside the decoders."""
    return bool(xmlsafe.load_schema(schema).validate(etree.fromstring(document)))


def refusal(decoder: Any, document: bytes) -> MalformedMessage:
    with pytest.raises(MalformedMessage) as caught:
        decoder(document)
    return caught.value


# -- round trips and the XSDs both ways ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_message_round_trips(name: str) -> None:
    original = MESSAGES[name]
    if isinstance(original, kp.PosFault):
        encoded = codec.encode_fault(original, major=wire.CURRENT_MAJOR)
    elif isinstance(original, kp.PosSettlementFile):
        encoded = ENCODER_OF[type(original)](original)
    else:
        encoded = codec.encode(original, major=wire.CURRENT_MAJOR)
        # the per-message encoders write the lowest version that carries it all, readably
        assert DECODER_OF[type(original)](ENCODER_OF[type(original)](original)) == original
    assert encoded == DOCUMENTS[name]
    assert DECODER_OF[type(original)](encoded) == original


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_encoded_message_is_valid_against_the_xsd(name: str) -> None:
    document = DOCUMENTS[name]
    schema = wire.SETTLEMENT_SCHEMA if name == "settlement" else wire.ENVELOPE_SCHEMA
    assert schema_valid(document, schema)
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    major = 1 if name == "settlement" else wire.CURRENT_MAJOR
    assert f'xmlns:kp="{wire.NAMESPACES[major]}"'.encode() in document
    assert f'version="{wire.VERSIONS[major]}"'.encode() in document
    document.decode("utf-8")


@pytest.mark.parametrize("name", sorted(n for n in MESSAGES if n.endswith(".request")))
def test_decode_request_dispatches_on_the_element(name: str) -> None:
    request = codec.decode_request(DOCUMENTS[name])
    assert request == MESSAGES[name]
    operation = kp.operation_of(request)
    assert kp.OPERATION_ELEMENTS[operation][0] == kp.element_name(request)
    action = PROFILE.soap_action(operation)
    assert PROFILE.operation_for(f'"{action}"') == operation


def test_non_ascii_text_round_trips_as_utf8() -> None:
    original = attrs.evolve(message("confirm.response"), name="Ñoman Sëtiawan Ā’isyah")
    encoded = codec.encode(original)
    assert "Ñoman Sëtiawan Ā’isyah".encode() in encoded
    assert codec.decode_registration_result(encoded) == original


def test_instants_keep_fractions_and_come_back_in_jakarta() -> None:
    moment = dt.datetime(2026, 11, 23, 2, 30, 5, 120000, tzinfo=dt.UTC)
    original = attrs.evolve(message("reversal.response"), reversed_at=moment)
    encoded = codec.encode(original)
    assert b"<kp:reversedAt>2026-11-23T09:30:05.120000+07:00</kp:reversedAt>" in encoded
    decoded = codec.decode_reversal_response(encoded)
    assert decoded == original
    assert decoded.reversed_at is not None
    assert decoded.reversed_at.utcoffset() == dt.timedelta(hours=7)


def test_any_offset_and_z_are_accepted() -> None:
    document = DOCUMENTS["reversal.response"].replace(
        b"2026-11-23T09:40:01+07:00", b"2026-11-23T02:40:01Z"
    )
    assert codec.decode_reversal_response(document) == message("reversal.response")
    document = DOCUMENTS["reversal.response"].replace(
        b"2026-11-23T09:40:01+07:00", b"2026-11-23T10:40:01.5+08:00"
    )
    decoded = codec.decode_reversal_response(document)
    assert decoded.reversed_at == dt.datetime(2026, 11, 23, 9, 40, 1, 500000, tzinfo=JAKARTA)


# Hypothesis: generated messages round-trip ------------------------------------------------------

references = st.from_regex(r"[0-9A-Za-z._\-]{1,64}", fullmatch=True)
rupiah = st.integers(0, 999_999_999_999)
months = st.builds(YearMonth, st.integers(1900, 9999), st.integers(1, 12))
instants = st.datetimes(
    min_value=dt.datetime(1000, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.just(JAKARTA),
)
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=12,
).filter(lambda t: not any(c in t for c in "\x85\ufffe\uffff"))
names = st.lists(texts, min_size=1, max_size=4).map(" ".join).filter(lambda n: len(n) <= 100)
customers = st.one_of(
    st.from_regex(r"[0-9]{16}", fullmatch=True).map(lambda v: CustomerId(CustomerIdKind.NIK, v)),
    st.from_regex(r"[0-9]{11}", fullmatch=True).map(lambda v: CustomerId(CustomerIdKind.KPJ, v)),
)
payers = st.builds(
    kp.PosPayer,
    st.sampled_from(PayerKind),
    st.none() | st.from_regex(r"[A-Z]{2}", fullmatch=True),
    st.none() | names,
    st.none() | names.filter(lambda n: len(n) <= 64),
)
periods = st.lists(months, min_size=1, max_size=12, unique=True).map(tuple)


@settings(max_examples=60, deadline=None)
@given(
    st.builds(
        kp.PosPaymentRequest,
        office=st.from_regex(r"[0-9A-Z]{3,10}", fullmatch=True),
        teller=st.from_regex(r"[0-9A-Za-z][0-9A-Za-z._\-]{0,19}", fullmatch=True),
        reference=references,
        customer=customers,
        periods=periods,
        amount=rupiah,
        admin_fee=rupiah,
        payer=payers,
        requested_at=instants,
        inquiry_id=st.none() | references,
        repeat=st.booleans(),
    )
)
def test_generated_payment_requests_round_trip(request: kp.PosPaymentRequest) -> None:
    assert codec.decode_payment_request(codec.encode(request)) == request


bills = st.lists(
    st.builds(
        kp.PosBill, months, st.integers(0, 10**9), st.none() | names.filter(lambda n: len(n) <= 64)
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda bill: bill.period,
).map(tuple)


@settings(max_examples=40, deadline=None)
@given(bills, customers, st.sampled_from(CoverageState), st.none() | instants, names)
def test_generated_inquiry_responses_round_trip(
    generated: tuple[kp.PosBill, ...],
    customer: CustomerId,
    state: CoverageState,
    valid_until: dt.datetime | None,
    name: str,
) -> None:
    response = kp.PosInquiryResponse(
        inquiry_id="INQ1",
        customer=customer,
        kpj="12345678901",
        name_masked=name,
        programs=(Program.JKK, Program.JKM, Program.JHT),
        coverage_state=state,
        bills=generated,
        total=sum(bill.amount for bill in generated),
        admin_fee=2500,
        valid_until=valid_until,
    )
    assert codec.decode_inquiry_response(codec.encode(response)) == response


records = st.builds(
    kp.PosSettlementRecord,
    reference=references,
    host_reference=references,
    nik_masked=st.from_regex(r"[0-9]{4}\*{8}[0-9]{4}", fullmatch=True),
    periods=periods,
    amount=st.integers(0, 10**9),
    admin_fee=st.integers(0, 10**6),
    paid_at=instants,
    state=st.just(kp.SettlementStatus.PAID),
    teller=st.none() | st.just("LKT01"),
)


@settings(max_examples=30, deadline=None)
@given(st.lists(records, max_size=20), st.data())
def test_generated_settlement_files_round_trip(
    generated: list[kp.PosSettlementRecord], data: st.DataObject
) -> None:
    reversed_ = [
        attrs.evolve(
            r, state=kp.SettlementStatus.REVERSED, reversed_at=data.draw(st.none() | instants)
        )
        if data.draw(st.booleans())
        else r
        for r in generated
    ]
    settlement = kp.PosSettlementFile("40115", TODAY, data.draw(instants), tuple(reversed_))
    decoded = decode_settlement_file(encode_settlement_file(settlement))
    assert decoded == settlement
    assert decoded.trailer.record_count == len(generated)


# -- invalid messages are refused, naming the element -------------------------------------------

PAYMENT = DOCUMENTS["payment.request"]


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        pytest.param(
            (b"      <kp:amount>72600</kp:amount>\n", b""),
            "PaymentRequest/adminFee",
            "is not expected here (expected amount)",
            id="missing-element",
        ),
        pytest.param(
            (b"<kp:month>2026-12</kp:month>", b"<kp:month>2026-13</kp:month>"),
            "PaymentRequest/periods/month[2]",
            "does not have the required format",
            id="bad-month",
        ),
        pytest.param(
            (b"<kp:month>2026-12</kp:month>", b"<kp:month>26-12</kp:month>"),
            "PaymentRequest/periods/month[2]",
            "does not have the required format",
            id="short-month",
        ),
        pytest.param(
            (b"<kp:amount>72600</kp:amount>", b"<kp:amount>-72600</kp:amount>"),
            "PaymentRequest/amount",
            "is below its minimum",
            id="negative-amount",
        ),
        pytest.param(
            (b"<kp:amount>72600</kp:amount>", b"<kp:amount>72600.00</kp:amount>"),
            "PaymentRequest/amount",
            "is not a valid value of its type",
            id="decimal-amount",
        ),
        pytest.param(
            (b"<kp:amount>72600</kp:amount>", b"<kp:amount>072600</kp:amount>"),
            "PaymentRequest/amount",
            "does not have the required format",
            id="leading-zero",
        ),
        pytest.param(
            (b'<kp:PaymentRequest version="2.0">', b'<kp:PaymentRequest version="1.0">'),
            "PaymentRequest@version",
            "is not one of the allowed values",
            id="wrong-version",
        ),
        pytest.param(
            (b'<kp:PaymentRequest version="2.0">', b"<kp:PaymentRequest>"),
            "PaymentRequest",
            "is missing its version attribute",
            id="no-version",
        ),
        pytest.param(
            (b"<kp:month>2026-12</kp:month>", b"<kp:month>2026-11</kp:month>"),
            "PaymentRequest/periods/month[2]",
            "repeats a value that must be unique",
            id="repeated-month",
        ),
        pytest.param(
            (b"<kp:teller>LKT01</kp:teller>", b"<kp:teller>LKT 01</kp:teller>"),
            "PaymentRequest/teller",
            "does not have the required format",
            id="bad-teller",
        ),
        pytest.param(
            (b"<kp:repeat>false</kp:repeat>", b"<kp:repeat>no</kp:repeat>"),
            "PaymentRequest/repeat",
            "is not a valid value of its type",
            id="bad-boolean",
        ),
        pytest.param(
            (b"09:31:10+07:00", b"09:31:10"),
            "PaymentRequest/requestedAt",
            "does not have the required format",
            id="no-offset",
        ),
        pytest.param(
            (b"2026-11-23T09:31:10", b"2026-02-30T09:31:10"),
            "PaymentRequest/requestedAt",
            "is not a valid value of its type",
            id="february-30",
        ),
        pytest.param(
            (b"<kp:amount>72600</kp:amount>", b"<kp:amount>72600</kp:amount><kp:extra/>"),
            "PaymentRequest/extra",
            "is not expected here",
            id="unknown-element",
        ),
        pytest.param(
            (b"<kp:office>40115</kp:office>", b'<kp:office code="1">40115</kp:office>'),
            "PaymentRequest/office@code",
            "must not have attributes",
            id="unknown-attribute",
        ),
        pytest.param(
            (b"<kp:customer>", b"<kp:customer><kp:kpj>12345678901</kp:kpj>"),
            "PaymentRequest/customer/nik",
            "is not expected here",
            id="nik-and-kpj",
        ),
    ],
)
def test_invalid_messages_are_refused_naming_the_element(
    change: tuple[bytes, bytes], field: str, why: str
) -> None:
    document = PAYMENT.replace(*change, 1)
    assert document != PAYMENT
    assert not schema_valid(document)
    error = refusal(codec.decode_payment_request, document)
    assert error.code == "message.malformed"
    assert error.field == field
    assert f"{field} {why}" in error.message_en
    assert re.search(r"\(line \d+\)", error.message_en)


def test_a_message_in_another_namespace_is_refused() -> None:
    document = PAYMENT.replace(NS.encode(), b"urn:jamsostek-channels:kantorpos:9")
    error = refusal(codec.decode_payment_request, document)
    assert "PaymentRequest in another namespace" in error.message_en
    assert error.field == "PaymentRequest in another namespace"


def test_a_child_in_another_namespace_is_refused() -> None:
    document = PAYMENT.replace(
        b"<kp:amount>72600</kp:amount>", b'<kq:amount xmlns:kq="urn:kantorpos:2">72600</kq:amount>'
    )
    error = refusal(codec.decode_payment_request, document)
    assert error.field == "PaymentRequest/other:amount"


def test_the_wrong_message_for_the_decoder_is_refused() -> None:
    error = refusal(codec.decode_payment_response, PAYMENT)
    assert "expected PaymentResponse, not PaymentRequest" in error.message_en
    error = refusal(codec.decode_payment_request, DOCUMENTS["inquiry.fault"])
    assert "a request cannot be a soap:Fault" in error.message_en
    error = refusal(codec.decode_request, DOCUMENTS["payment.response"])
    assert "expected" in error.message_en
    error = refusal(decode_settlement_file, PAYMENT)
    assert "expected SettlementFile" in error.message_en
    error = refusal(codec.decode_fault, PAYMENT)
    assert "expected soap:Fault" in error.message_en


def test_an_inquiry_total_that_is_not_the_sum_of_its_bills_is_refused_both_ways() -> None:
    wrong = attrs.evolve(message("inquiry.response"), total=72601)
    with pytest.raises(MalformedMessage, match="not the sum of its bills"):
        codec.encode(wrong)
    document = DOCUMENTS["inquiry.response"].replace(b"<kp:total>72600<", b"<kp:total>72601<")
    assert schema_valid(document)  # a rule the XSD cannot say
    assert refusal(codec.decode_inquiry_response, document).field == "total"


@pytest.mark.parametrize("missing", ["host_reference", "paid_at", "periods"])
def test_an_applied_payment_needs_its_host_reference_time_and_months(missing: str) -> None:
    value: Any = () if missing == "periods" else None
    wrong = attrs.evolve(message("payment.response"), **{missing: value})
    with pytest.raises(MalformedMessage, match="APPLIED needs"):
        codec.encode(wrong)
    wire = {"host_reference": b"hostReference", "paid_at": b"paidAt", "periods": b"periods"}
    document = re.sub(
        rb"\s*<kp:%s>.*?</kp:%s>" % (wire[missing], wire[missing]),
        b"",
        DOCUMENTS["payment.response"],
        flags=re.S,
    )
    assert schema_valid(document)
    with pytest.raises(MalformedMessage, match="APPLIED needs"):
        codec.decode_payment_response(document)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"amount": -1}, "PaymentRequest/amount", id="negative"),
        pytest.param({"amount": 10**12}, "PaymentRequest/amount", id="too-large"),
        pytest.param({"amount": True}, "PaymentRequest/amount", id="bool"),
        pytest.param({"amount": "72600"}, "PaymentRequest/amount", id="str"),
        pytest.param(
            {"requested_at": dt.datetime(2026, 11, 23)}, "PaymentRequest/requestedAt", id="naive"
        ),
        pytest.param({"reference": "KP 1"}, "PaymentRequest/reference", id="space"),
        pytest.param({"reference": ""}, "PaymentRequest/reference", id="empty"),
        pytest.param({"reference": "KP\x001"}, "PaymentRequest/reference", id="nul"),
        pytest.param({"periods": [YearMonth(2026, 11)]}, "PaymentRequest/periods", id="list"),
        pytest.param({"periods": ()}, "PaymentRequest/periods", id="no-months"),
        pytest.param(
            {"periods": tuple(YearMonth(2026, 1) + i for i in range(13))},
            "PaymentRequest/periods/month[13]",
            id="thirteen-months",
        ),
        pytest.param({"payer": Payer.self_paid()}, "PaymentRequest/payer", id="model-payer"),
        pytest.param(
            {"payer": kp.PosPayer(PayerKind.CSR, name="PT  Contoh")},
            "PaymentRequest/payer/name",
            id="double-space",
        ),
        pytest.param(
            {"customer": "3201015508950001"}, "PaymentRequest/customer", id="str-customer"
        ),
    ],
)
def test_encoding_an_invalid_message_is_refused_before_sending(
    change: dict[str, Any], field: str
) -> None:
    wrong = attrs.evolve(message("payment.request"), **change)
    with pytest.raises(MalformedMessage) as caught:
        codec.encode(wrong)
    assert caught.value.code == "message.malformed"
    assert caught.value.field == field


def test_encode_refuses_what_is_not_a_message() -> None:
    with pytest.raises(MalformedMessage):
        codec.encode(object())  # type: ignore[arg-type]
    with pytest.raises(MalformedMessage):
        encode_settlement_file(object())  # type: ignore[arg-type]
    with pytest.raises(MalformedMessage):
        codec.encode_fault(object())  # type: ignore[arg-type]
    with pytest.raises(MalformedMessage):
        codec.encode_fault(kp.PosFault(soap.FaultCode.CLIENT, "x", response_code="1"))


# -- Faults <-> library errors ------------------------------------------------------------------

REFUSALS = sorted(code for code, info in CODES.items() if info.error)


def library_error(code: str) -> Any:
    error_code = CODES[code].error
    assert error_code is not None
    if error_code.startswith("message."):
        return MalformedMessage(error_code, {"reason": "x", "max": 1})
    return HostDeclined(error_code, {"code": code})


@pytest.mark.parametrize("code", REFUSALS)
@pytest.mark.parametrize("decoder", RESPONSE_DECODERS, ids=lambda d: d.__name__)
def test_every_configured_code_travels_as_a_fault_and_back(code: str, decoder: Any) -> None:
    info = CODES[code]
    fault = server.fault_for(library_error(code), codes=CODES, reference="KP1")
    assert fault.response_code == code
    assert fault.code is info.fault
    document = codec.encode_fault(fault)
    assert schema_valid(document)
    assert codec.decode_fault(document) == fault
    with pytest.raises((KantorPosDeclined, KantorPosRefused)) as caught:
        decoder(document, codes=CODES)
    error = caught.value
    assert isinstance(error, KantorPosDeclined | KantorPosRefused)
    assert error.host_code == code
    assert error.info == info
    assert error.fault == fault
    if info.error is not None and info.error.startswith("message."):
        assert isinstance(error, KantorPosRefused)
        assert isinstance(error, MalformedMessage)
        assert error.code == "message.malformed"
    else:
        assert isinstance(error, KantorPosDeclined)
        assert isinstance(error, HostDeclined)
        assert error.code == info.error


def test_the_code_table_is_one_to_one() -> None:
    assert CODES.errors() == {info.error: code for code, info in CODES.items() if info.error}
    for code in REFUSALS:
        error_code = CODES[code].error
        assert error_code is not None
        assert CODES.code_for(error_code) == code
    assert CODES.code_for("host.autodebit_unpaid") == CODES.unknown_refusal == "05"
    assert CODES.code_for("auth.signature") == CODES.unknown_failure == "96"
    assert CODES.error_for("00") is None
    assert CODES.error_for("09") is None


@pytest.mark.parametrize(
    ("faultcode", "detail", "expected_code", "expected_host"),
    [
        ("Client", None, "host.rejected", "05"),
        ("Server", None, "host.error", "96"),
        ("VersionMismatch", None, "message.malformed", "30"),
        ("MustUnderstand", None, "message.malformed", "30"),
        ("Client", "999", "host.rejected", "999"),
        ("Server", "999", "host.error", "999"),
        ("Client.Format", "30", "message.malformed", "30"),
    ],
)
def test_faults_without_a_known_code_are_read_by_their_faultcode(
    faultcode: str, detail: str | None, expected_code: str, expected_host: str
) -> None:
    code, _, subcode = faultcode.partition(".")
    fault = kp.PosFault(soap.FaultCode(code), "x", response_code=detail, subcode=subcode or None)
    with pytest.raises((HostDeclined, MalformedMessage)) as caught:
        codec.decode_payment_response(codec.encode_fault(fault))
    assert caught.value.code == expected_code
    assert caught.value.host_code == expected_host


def test_a_fault_carrying_a_success_code_is_malformed() -> None:
    document = codec.encode_fault(kp.PosFault(soap.FaultCode.CLIENT, "ok?", response_code="00"))
    error = refusal(codec.decode_payment_response, document)
    assert not isinstance(error, KantorPosRefused)
    assert "success code" in error.message_en


def test_a_malformed_request_is_answered_with_code_30_naming_the_element() -> None:
    _, error = examples.malformed_payment_request()
    fault = server.fault_for(error, codes=CODES)
    assert fault.code is soap.FaultCode.CLIENT
    assert fault.response_code == "30"
    assert fault.message_en is not None
    assert "PaymentRequest/amount is below its minimum" in fault.message_en
    assert "72600" not in fault.string


def test_a_soap_12_request_is_answered_with_version_mismatch() -> None:
    soap12 = PAYMENT.replace(soap.SOAP_NS.encode(), soap.SOAP12_NS.encode())
    with pytest.raises(soap.EnvelopeVersionMismatch) as caught:
        codec.decode_request(soap12)
    fault = server.fault_for(caught.value, codes=CODES)
    assert fault.code is soap.FaultCode.VERSION_MISMATCH
    assert b"<faultcode>soap:VersionMismatch</faultcode>" in codec.encode_fault(fault)


def test_a_fault_with_a_foreign_faultcode_is_malformed() -> None:
    document = DOCUMENTS["inquiry.fault"].replace(
        b"<faultcode>soap:Client</faultcode>",
        b'<faultcode xmlns:x="urn:x">x:Client</faultcode>',
    )
    assert "faultcode" in refusal(codec.decode_inquiry_response, document).message_en


# -- the settlement file ---------------------------------------------------------------------------

SETTLEMENT = DOCUMENTS["settlement"]


def test_the_settlement_trailer_adds_up() -> None:
    settlement = message("settlement")
    assert settlement.trailer == kp.PosSettlementTrailer(
        record_count=3,
        paid_count=2,
        paid_amount=117600,
        paid_admin_fee=6000,
        reversed_count=1,
        reversed_amount=72600,
    )


@pytest.mark.parametrize(
    ("element", "value"),
    [
        ("recordCount", b"4"),
        ("paidCount", b"3"),
        ("paidAmount", b"117601"),
        ("paidAdminFee", b"5999"),
        ("reversedCount", b"0"),
        ("reversedAmount", b"0"),
    ],
)
def test_a_trailer_that_disagrees_with_its_records_is_refused(element: str, value: bytes) -> None:
    document = re.sub(
        rb"<kp:%s>\d+</kp:%s>" % (element.encode(), element.encode()),
        b"<kp:%s>%s</kp:%s>" % (element.encode(), value, element.encode()),
        SETTLEMENT,
    )
    assert document != SETTLEMENT
    assert schema_valid(document, wire.SETTLEMENT_SCHEMA)
    error = refusal(decode_settlement_file, document)
    assert error.field == f"trailer/{element}"
    assert "disagrees with the records" in error.message_en


def test_a_dropped_record_is_caught_by_the_trailer() -> None:
    start = SETTLEMENT.index(b"  <kp:record>")
    end = SETTLEMENT.index(b"</kp:record>\n", start) + len(b"</kp:record>\n")
    error = refusal(decode_settlement_file, SETTLEMENT[:start] + SETTLEMENT[end:])
    assert error.field == "trailer/recordCount"


def test_a_paid_record_with_a_reversal_time_is_refused() -> None:
    document = SETTLEMENT.replace(b"<kp:state>REVERSED</kp:state>", b"<kp:state>PAID</kp:state>")
    assert "PAID settlement record" in refusal(decode_settlement_file, document).message_en


def test_a_settlement_file_without_a_trailer_is_refused() -> None:
    document = re.sub(rb"\s*<kp:trailer>.*</kp:trailer>", b"", SETTLEMENT, flags=re.S)
    assert (
        "missing a child element (expected record, trailer)"
        in refusal(decode_settlement_file, document).message_en
    )


def test_a_big_settlement_file_is_read_under_its_own_limit() -> None:
    record = message("settlement").records[1]
    many = tuple(attrs.evolve(record, reference=f"KP40115-20261123-{i:05d}") for i in range(800))
    settlement = attrs.evolve(message("settlement"), records=many)
    document = encode_settlement_file(settlement)
    assert len(document) > 300 * 1024
    assert decode_settlement_file(document) == settlement
    with pytest.raises(MalformedMessage) as caught:
        decode_settlement_file(document, limits=wire.MESSAGE_LIMITS)
    assert caught.value.code == "message.too_large"
    assert PROFILE.settlement_limits.max_bytes == 64 * 1024 * 1024  # 100,000 lines fit


def test_settlement_records_convert_both_ways() -> None:
    settlement = message("settlement")
    records = mapping.settlement_records_from(settlement)
    assert [r.state for r in records] == [
        SettlementState.REVERSED,
        SettlementState.PAID,
        SettlementState.PAID,
    ]
    assert all(r.channel == "kantorpos" for r in records)
    assert records[2].periods == tuple(YearMonth(2026, 11) + i for i in range(6))
    again = server.settlement_file_for(
        records, office="40115", business_date=TODAY, generated_at=settlement.generated_at
    )
    assert mapping.settlement_records_from(again) == records
    assert decode_settlement_file(encode_settlement_file(again)) == again


def test_an_empty_day_is_a_valid_settlement_file() -> None:
    empty = server.settlement_file_for(
        [],
        office="40115",
        business_date=TODAY,
        generated_at=dt.datetime(2026, 11, 22, 23, tzinfo=JAKARTA),
    )
    document = encode_settlement_file(empty)
    assert b"<kp:recordCount>0</kp:recordCount>" in document
    assert decode_settlement_file(document) == empty


def _record_forms() -> kp.PosSettlementFile:
    """One record per layout: with and without a teller, with and without a reversal time."""
    at = dt.datetime(2026, 11, 23, 11, 0, tzinfo=JAKARTA)
    paid, reversed_ = kp.SettlementStatus.PAID, kp.SettlementStatus.REVERSED
    shapes = [
        (None, paid, None),
        ("LKT01", paid, None),
        (None, reversed_, at),
        ("LKT01", reversed_, at),
        (None, reversed_, None),
        ("LKT02", reversed_, None),
    ]
    base = message("settlement").records[1]
    records = tuple(
        attrs.evolve(
            base,
            reference=f"KP40115-20261123-{index:04d}",
            host_reference=f"BPJS{index:012d}",
            teller=teller,
            state=state,
            reversed_at=reversed_at,
        )
        for index, (teller, state, reversed_at) in enumerate(shapes)
    )
    return attrs.evolve(message("settlement"), records=records)


def test_every_record_layout_is_read_back_exactly(tmp_path: Path) -> None:
    # Every mix of the optional elements (teller, reversedAt) lands in the right fields.
    settlement = _record_forms()
    document = encode_settlement_file(settlement)
    assert decode_settlement_file(document) == settlement
    path = tmp_path / "settlement.xml"
    path.write_bytes(document)
    expected = mapping.settlement_records_from(settlement, channel=PROFILE.name)
    assert read_settlement_file(path, profile=PROFILE) == (settlement.business_date, expected)


# Every form the schema allows, none the encoder writes: another prefix and a default namespace,
# a character reference and CDATA in a value, a comment between fields, whitespace around numbers
# and instants, other offsets, fractions of 1, 3 and 6 digits.
OTHER_FORM = b"""<?xml version="1.0" encoding="UTF-8"?>
<SettlementFile xmlns="urn:jamsostek-channels:kantorpos:1" version="1.0"><office>40115</office>
  <businessDate>2026-11-23</businessDate>
  <generatedAt> 2026-11-23T16:15:00Z </generatedAt>
  <record><reference>KP-&#x41;<![CDATA[1]]></reference><hostReference>H1</hostReference>
    <!-- dropped by the parser -->
    <nikMasked>3201********0001</nikMasked>
    <periods><month>2026-11</month><month>2026-12</month></periods>
    <amount> 33600 </amount>
    <adminFee>
      2500
    </adminFee>
    <paidAt>2026-11-23T02:31:11.5Z</paidAt>
    <state>PAID</state>
  </record>
  <k:record xmlns:k="urn:jamsostek-channels:kantorpos:1">
    <k:reference>KP-2</k:reference><k:hostReference>H2</k:hostReference><k:teller>LKT01</k:teller>
    <k:nikMasked>3201********0002</k:nikMasked><k:periods><k:month>2026-11</k:month></k:periods>
    <k:amount>16800</k:amount><k:adminFee>2500</k:adminFee>
    <k:paidAt>2026-11-22T21:01:02.123-05:30</k:paidAt><k:state>REVERSED</k:state>
    <k:reversedAt> 2026-11-23T10:00:00.000001+07:00 </k:reversedAt>
  </k:record>
  <trailer><recordCount>2</recordCount><paidCount>1</paidCount><paidAmount>33600</paidAmount>
    <paidAdminFee>2500</paidAdminFee><reversedCount>1</reversedCount>
    <reversedAmount>16800</reversedAmount></trailer>
</SettlementFile>
"""


def test_a_settlement_file_in_any_valid_form_is_read_the_same(tmp_path: Path) -> None:
    assert schema_valid(OTHER_FORM, wire.SETTLEMENT_SCHEMA)
    settlement = decode_settlement_file(OTHER_FORM)
    first, second = settlement.records
    assert settlement.generated_at == dt.datetime(2026, 11, 23, 23, 15, tzinfo=JAKARTA)
    assert (first.reference, first.teller, first.amount, first.admin_fee) == (
        "KP-A1",
        None,
        33600,
        2500,
    )
    assert first.periods == (YearMonth(2026, 11), YearMonth(2026, 12))
    assert first.paid_at == dt.datetime(2026, 11, 23, 9, 31, 11, 500_000, tzinfo=JAKARTA)
    assert (second.teller, second.state) == ("LKT01", kp.SettlementStatus.REVERSED)
    assert second.paid_at == dt.datetime(2026, 11, 23, 9, 31, 2, 123_000, tzinfo=JAKARTA)
    assert second.reversed_at == dt.datetime(2026, 11, 23, 10, 0, 0, 1, tzinfo=JAKARTA)
    # Every instant is given in Asia/Jakarta, whatever offset the file used.
    moments = [settlement.generated_at, first.paid_at, second.paid_at, second.reversed_at]
    assert all(moment is not None and moment.tzinfo is JAKARTA for moment in moments)
    path = tmp_path / "settlement.xml"
    path.write_bytes(OTHER_FORM)
    assert read_settlement_file(path) == (
        settlement.business_date,
        mapping.settlement_records_from(settlement),
    )


@pytest.mark.parametrize(
    ("element", "name"),
    [
        (b"<kp:state>PAID</kp:state>", "state"),
        (b"<kp:office>40115</kp:office>", "office"),
        (re.compile(rb"<kp:trailer>.*</kp:trailer>", re.S), "trailer"),
    ],
)
def test_without_the_schema_an_element_out_of_place_is_refused_not_misread(
    monkeypatch: pytest.MonkeyPatch, element: bytes | re.Pattern[bytes], name: str
) -> None:
    # The reader relies on the XSD, but stays total on its own: a missing element is named.
    monkeypatch.setattr(xmlsafe, "validate", lambda document, schema: None)
    if isinstance(element, bytes):
        document = SETTLEMENT.replace(element, b"", 1)
    else:
        document = element.sub(b"", SETTLEMENT)
    assert document != SETTLEMENT
    error = refusal(decode_settlement_file, document)
    assert error.field == name
    assert f"{name} is missing" in error.message_en


# -- converters to and from the library's wire-neutral types --------------------------------------

AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=JAKARTA)


def test_registration_converts_both_ways() -> None:
    participant = parse_participant(participant_data(), as_of=TODAY)
    request = RegistrationRequest("KP1", participant, Payer.self_paid(), AT)
    wire = mapping.registration_request_for(request, office="40115", teller="LKT01")
    decoded = codec.decode_registration_request(codec.encode(wire))
    assert decoded == wire
    assert decoded.participant.to_participant() == participant
    assert decoded.registered_by.to_payer() == Payer.self_paid()
    challenge = OtpChallenge("KP1", "OTP1", "0812****7890", AT)
    assert (
        mapping.challenge_from(
            codec.decode_registration_challenge(codec.encode(server.challenge_for(challenge)))
        )
        == challenge
    )
    confirm = mapping.registration_confirm_for(challenge, "123456", office="40115", teller="LKT01")
    assert codec.decode_registration_confirm(codec.encode(confirm)) == confirm
    assert "123456" not in repr(confirm)
    registration = Registration(
        "KP1",
        "12345678901",
        "3201********0001",
        "Siti Rahayu",
        YearMonth(2026, 11),
        (Program.JKK, Program.JKM),
    )
    wire_result = server.registration_result_for(registration)
    assert (
        mapping.registration_from(codec.decode_registration_result(codec.encode(wire_result)))
        == registration
    )


def test_a_participant_the_rules_refuse_decodes_but_does_not_convert() -> None:
    document = DOCUMENTS["registration.request"].replace(b"1995-08-15", b"1995-08-16")
    wire = codec.decode_registration_request(document)  # well-formed: the wire layer accepts it
    with pytest.raises(InvalidInput):
        wire.participant.to_participant()  # the birth date does not match the NIK
    assert "3201015508950001" not in repr(wire)


def test_inquiry_converts_both_ways() -> None:
    inquiry = mapping.inquiry_from_response(message("inquiry.response"))
    assert isinstance(inquiry, Inquiry)
    assert inquiry.amount == 72600
    assert inquiry.admin_fee == 2500
    assert [b.discount for b in inquiry.bills] == ["PP 50/2025", "PP 50/2025", None]
    assert inquiry.state is CoverageState.DUE
    again = server.inquiry_response_for(
        inquiry, valid_until=message("inquiry.response").valid_until
    )
    assert again == message("inquiry.response")
    csr = Payer(PayerKind.CSR, name="PT Contoh", scheme="SC")
    request = mapping.inquiry_request_for(
        inquiry.customer, 3, office="40115", teller="LKT01", payer=csr
    )
    decoded = codec.decode_inquiry_request(codec.encode(request))
    assert decoded.payer is not None
    assert decoded.payer.to_payer() == csr


def payment_request() -> PaymentRequest:
    return PaymentRequest(
        reference="KP40115-20261123-0002",
        customer=CustomerId(CustomerIdKind.NIK, "3201015508950001"),
        periods=(YearMonth(2026, 11), YearMonth(2026, 12), YearMonth(2027, 1)),
        amount=72600,
        admin_fee=2500,
        payer=Payer.self_paid(),
        inquiry_id="INQ000000000042",
        requested_at=dt.datetime(2026, 11, 23, 9, 31, 10, tzinfo=JAKARTA),
        agent_id="LKT01",
    )


def test_payment_status_and_reversal_requests_from_a_payment_request() -> None:
    request = payment_request()
    unsent = {"sent_at": None}  # the adapter stamps each attempt as it sends it
    payment = mapping.payment_request_for(request, office="40115")
    assert payment == attrs.evolve(message("payment.request"), **unsent)
    status = mapping.status_request_for(request, office="40115")
    assert status == attrs.evolve(message("status.request"), **unsent)
    reversal = mapping.reversal_request_for(
        request, False, office="40115", at=dt.datetime(2026, 11, 23, 9, 40, tzinfo=JAKARTA)
    )
    assert reversal == attrs.evolve(message("reversal.request"), **unsent)
    assert mapping.reversal_request_for(request, True, office="40115", at=AT, teller="LKT02").repeat


def test_payment_results_convert_both_ways() -> None:
    applied = mapping.payment_result_from(message("payment.response"))
    assert applied.state is PaymentState.APPLIED
    assert applied.host_reference == "BPJS000000000123"
    assert applied.host_code == "00"
    assert server.payment_response_for(applied, codes=CODES) == message("payment.response")
    declined = mapping.payment_result_from(message("payment-declined.response"))
    assert declined.state is PaymentState.DECLINED
    assert declined.host_code == "54"
    error = CODES.error_for(declined.host_code or "")
    assert isinstance(error, HostDeclined)
    assert error.code == "host.bill_paid"
    assert server.payment_response_for(declined, codes=CODES) == message(
        "payment-declined.response"
    )
    pending = PaymentResult("KP9", PaymentState.PENDING, amount=1)
    assert server.payment_response_for(pending, codes=CODES).response_code == "09"
    with pytest.raises(ValueError, match="NOT_FOUND"):
        server.payment_response_for(PaymentResult("KP9", PaymentState.NOT_FOUND), codes=CODES)


def test_status_results_convert_both_ways() -> None:
    assert mapping.payment_result_from(message("status.response")).state is PaymentState.APPLIED
    missing = PaymentResult("KP9", PaymentState.NOT_FOUND)
    wire = server.status_response_for(missing, codes=CODES)
    assert (wire.status, wire.response_code, wire.amount) == (
        kp.TransactionStatus.NOT_FOUND,
        "25",
        None,
    )
    decoded = codec.decode_status_response(codec.encode(wire))
    assert mapping.payment_result_from(decoded) == PaymentResult(
        "KP9", PaymentState.NOT_FOUND, host_code="25"
    )
    reversed_ = attrs.evolve(
        mapping.payment_result_from(message("status.response")), state=PaymentState.REVERSED
    )
    wire = server.status_response_for(reversed_, codes=CODES)
    assert (
        mapping.payment_result_from(codec.decode_status_response(codec.encode(wire))).state
        is PaymentState.REVERSED
    )


def test_reversal_results_convert_both_ways() -> None:
    assert mapping.reversal_result_from(message("reversal.response")) == ReversalResult(
        "KP40115-20261123-0002", ReversalState.REVERSED, "00"
    )
    for state, code in [(ReversalState.NOT_FOUND, "25"), (ReversalState.REFUSED, "76")]:
        wire = server.reversal_response_for(ReversalResult("KP1", state), codes=CODES)
        assert wire.response_code == code
        decoded = codec.decode_reversal_response(codec.encode(wire))
        assert mapping.reversal_result_from(decoded) == ReversalResult("KP1", state, code)
    with pytest.raises(ValueError, match="QUEUED"):
        server.reversal_response_for(ReversalResult("KP1", ReversalState.QUEUED), codes=CODES)


# -- the profile ---------------------------------------------------------------------------------


def test_the_reference_profile() -> None:
    assert PROFILE.name == "kantorpos"
    caps = PROFILE.capabilities
    assert caps.month_counts == (1, 3, 6, 12)
    assert caps.receipt_width == 40
    assert caps.agent_id_required
    assert Operation.HISTORY not in caps.operations
    assert Operation.AUTODEBIT not in caps.operations
    assert {
        Operation.REGISTER,
        Operation.PAY,
        Operation.REVERSE,
        Operation.SETTLEMENT,
    } <= caps.operations
    assert [caps.admin_fee.fee_for(a) for a in (72600, 100000, 100001, 2_000_000)] == [
        2500,
        2500,
        3500,
        5000,
    ]
    assert set(PROFILE.soap_actions) == set(OPERATIONS) == set(kp.OPERATION_ELEMENTS)
    assert PROFILE.operation_for('"urn:jamsostek-channels:kantorpos:1#pay"') == "pay"
    assert PROFILE.operation_for("urn:jamsostek-channels:kantorpos:1#pay") == "pay"
    assert PROFILE.operation_for('"urn:other#pay"') is None
    assert PROFILE.accepts_office("40115")
    assert not PROFILE.accepts_office("99999")  # right format, not taking part
    assert not PROFILE.accepts_office("4011")
    assert PROFILE.accepts_teller("LKT01")
    assert not PROFILE.accepts_teller("lkt01")
    assert (
        PROFILE.settlement_location("40115", "2026-11-23")
        == "/kantorpos/v1/settlement/40115/2026-11-23.xml"
    )
    assert PROFILE.message_limits == wire.MESSAGE_LIMITS


def test_a_profile_file_is_configuration(tmp_path: Path) -> None:
    source = ROOT / "adapters" / "kantorpos" / "profile.toml"
    path = tmp_path / "pos.toml"
    text = source.read_text(encoding="utf-8")
    text = text.replace(
        '"54" = { label = "Bill already paid"', '"88" = { label = "Bill already paid"'
    )
    text = text.replace("month_counts = [1, 3, 6, 12]", "month_counts = [1, 12]")
    path.write_text(text, encoding="utf-8")
    profile = load_profile(path)
    assert profile.capabilities.month_counts == (1, 12)
    assert profile.response_codes.code_for("host.bill_paid") == "88"
    answer = codec.encode(attrs.evolve(message("payment-declined.response"), response_code="88"))
    result = mapping.payment_result_from(
        codec.decode_payment_response(answer, codes=profile.response_codes)
    )
    error = profile.response_codes.error_for(result.host_code or "")
    assert error is not None
    assert error.code == "host.bill_paid"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            '"05" = { label = "Declined", error = "host.rejected" }',
            '"05" = { label = "Declined", error = "host.bill_paid" }',
            "two response codes",
        ),
        ('error = "host.cutoff"', 'error = "auth.signature"', "not host"),
        ('error = "host.cutoff"', 'error = "host.nonsense"', "unknown error code"),
        ('"81" = {', '"8" = {', "2-3 digits"),
        ('pay = "urn:jamsostek-channels:kantorpos:1#pay"\n', "", "missing pay"),
        ('success = "00"', 'success = "05"', "cannot be refusals"),
        ('unknown_failure = "96"', 'unknown_failure = "97"', "not in the table"),
    ],
)
def test_an_inconsistent_profile_is_refused(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    source = ROOT / "adapters" / "kantorpos" / "profile.toml"
    path = tmp_path / "bad.toml"
    text = source.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        load_profile(path)


def test_response_codes_refuse_duplicates() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        ResponseCodes(
            [
                ResponseCodeInfo("00", "ok"),
                ResponseCodeInfo("09", "wait"),
                ResponseCodeInfo("05", "no", "host.rejected"),
                ResponseCodeInfo("05", "no", "host.error"),
            ],
            unknown_failure="05",
        )


# -- the schemas ---------------------------------------------------------------------------------


def test_the_schemas_ship_in_the_package_and_compile() -> None:
    assert xmlsafe.schema_names() == [
        "kantorpos-1.xsd",
        "kantorpos-2.xsd",
        "kantorpos-envelope-1.xsd",
        "kantorpos-envelope-2.xsd",
        "kantorpos-settlement-1.xsd",
        "kantorpos-types-1.xsd",
        "kantorpos-types-2.xsd",
    ]
    for name in xmlsafe.schema_names():
        assert isinstance(xmlsafe.load_schema(name), etree.XMLSchema)
        assert xmlsafe.schema_text(name) == (ROOT / "schemas" / "kantorpos" / name).read_bytes()
    with pytest.raises(KeyError):
        xmlsafe.schema_text("../__init__.py")


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "http://127.0.0.1:{port}/x.xsd", "../../x.xsd"]
)
def test_schema_includes_resolve_only_to_the_shipped_files(location: str) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    try:
        where = location.format(port=listener.getsockname()[1])
        evil = (
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:e">'
            f'<xs:include schemaLocation="{where}"/></xs:schema>'
        ).encode()
        document = etree.fromstring(
            evil, xmlsafe.schema_parser(), base_url=xmlsafe.SCHEMA_BASE + "e.xsd"
        )
        with pytest.raises(etree.XMLSchemaParseError):
            etree.XMLSchema(document)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


def test_the_schema_files_are_copied_with_the_package(tmp_path: Path) -> None:
    """The XSDs resolve each other by file name only, so a copied folder still compiles."""
    for name in xmlsafe.schema_names():
        shutil.copy(ROOT / "schemas" / "kantorpos" / name, tmp_path / name)
    schema = etree.XMLSchema(etree.parse(str(tmp_path / wire.ENVELOPE_SCHEMA)))
    assert schema.validate(etree.fromstring(PAYMENT))


# -- docs/channels/kantorpos.md --------------------------------------------------------------------

_DOC_EXAMPLE = re.compile(r"<!-- example: (?P<name>[\w.-]+) -->\n```xml\n(?P<body>.*?)\n```", re.S)


def test_the_page_is_generated_from_the_encoders() -> None:
    page = DOC_PATH.read_text(encoding="utf-8")
    assert examples.render(page) == page, (
        "docs/channels/kantorpos.md is stale: run "
        "`python -m jamsostek_channels.adapters.kantorpos.examples docs/channels/kantorpos.md`"
    )


def test_every_example_on_the_page_decodes() -> None:
    page = DOC_PATH.read_text(encoding="utf-8")
    shown = {
        match["name"]: (match["body"] + "\n").encode() for match in _DOC_EXAMPLE.finditer(page)
    }
    assert set(shown) == set(DOCUMENTS)
    for name, body in shown.items():
        if name == "settlement":
            assert decode_settlement_file(body) == MESSAGES[name]
        elif name.endswith(".fault"):
            fault = codec.decode_fault(body)
            assert fault.response_code in CODES
        else:
            assert DECODER_OF[type(MESSAGES[name])](body) == MESSAGES[name]


def test_the_page_shows_every_operation_and_code() -> None:
    page = DOC_PATH.read_text(encoding="utf-8")
    for operation, (request, answer) in kp.OPERATION_ELEMENTS.items():
        assert f"`{PROFILE.soap_action(operation)}` | `kp:{request}` | `kp:{answer}`" in page
    for code in CODES:
        assert f"| `{code}` |" in page
    length = re.search(r"Content-Length: (\d+)", page)
    assert length is not None
    assert int(length[1]) == len(DOCUMENTS["payment.request"])
