"""SNAP codec and response codes: round trips on both sides, amounts, ids, the code table, and
hostile bodies that must only ever raise ``MalformedMessage``."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jamsostek_channels.adapters.snap import codec
from jamsostek_channels.adapters.snap.codec import (
    AMOUNT_MAX,
    MAX_BODY_BYTES,
    Bilingual,
    SnapBill,
    SnapInquiryData,
    SnapInquiryRequest,
    SnapInquiryResponse,
    SnapPaidBill,
    SnapPaymentData,
    SnapPaymentRequest,
    SnapPaymentResponse,
    SnapStatusData,
    SnapStatusRequest,
    SnapStatusResponse,
    decode_amount,
    decode_inquiry_request,
    decode_inquiry_response,
    decode_payment_request,
    decode_payment_response,
    decode_status_request,
    decode_status_response,
    encode_amount,
    encode_inquiry_request,
    encode_inquiry_response,
    encode_payment_request,
    encode_payment_response,
    encode_status_request,
    encode_status_response,
    inquiry_request_for,
    partner_service_id,
    payment_request_for,
    status_request_for,
    virtual_account_no,
)
from jamsostek_channels.adapters.snap.codes import (
    HOST_ANSWERS,
    RESPONSE_CASES,
    ResponseCode,
    ServiceCode,
    answer_for,
    case_for,
    code_for,
    error_for,
)
from jamsostek_channels.adapters.snap.errors import SnapFieldError
from jamsostek_channels.channel import CustomerId, PaymentRequest, PaymentState
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import (
    AuthenticationFailed,
    HostDeclined,
    JamsostekError,
    MalformedMessage,
    NotDelivered,
    OutcomeUnknown,
)
from jamsostek_channels.messages import CATALOGUE
from jamsostek_channels.model import CoverageState, Payer, PayerKind, Program
from jamsostek_channels.period import YearMonth

PSID = "   12345"
NIK = "3201015508950001"
AT = dt.datetime(2026, 11, 22, 9, 30, 5, tzinfo=JAKARTA)
OK_24 = ResponseCode(200, "24", "00")
OK_25 = ResponseCode(200, "25", "00")
OK_26 = ResponseCode(200, "26", "00")


def inquiry_request(**changes: Any) -> SnapInquiryRequest:
    values: dict[str, Any] = {
        "partner_service_id": PSID,
        "customer_no": NIK,
        "inquiry_request_id": "INQ-20261122-0001",
        "trx_date_init": AT,
        "channel_code": 6011,
        "language": "ID",
        "amount": 50_400,
        "months": 3,
        "agent_id": "AGT-77",
    }
    values.update(changes)
    return SnapInquiryRequest(**values)


def payment_request(**changes: Any) -> SnapPaymentRequest:
    values: dict[str, Any] = {
        "partner_service_id": PSID,
        "customer_no": NIK,
        "payment_request_id": "INQ-20261122-0001",
        "paid_amount": 50_400,
        "total_amount": 50_400,
        "trx_date_time": AT,
        "reference_no": "LA-REF-0001",
        "flag_advise": True,
        "channel_code": 6011,
        "months": 3,
        "payer_kind": PayerKind.CSR,
        "payer_scheme": "SC",
        "payer_name": "PT Ñusantara Jaya",
        "agent_id": "AGT-77",
    }
    values.update(changes)
    return SnapPaymentRequest(**values)


def status_request(**changes: Any) -> SnapStatusRequest:
    values: dict[str, Any] = {
        "partner_service_id": PSID,
        "customer_no": NIK,
        "inquiry_request_id": "INQ-20261122-0001",
        "payment_request_id": "INQ-20261122-0001",
        "reference_no": "LA-REF-0001",
        "agent_id": "AGT-77",
    }
    values.update(changes)
    return SnapStatusRequest(**values)


BILLS = (
    SnapBill(
        YearMonth(2026, 11),
        16_800,
        name="Iuran BPU",
        description=Bilingual("BPU contribution", "Iuran 2026-11"),
        discount="PP 50/2025",
    ),
    SnapBill(YearMonth(2026, 12), 16_800),
    SnapBill(YearMonth(2027, 1), 16_800),
)
PAID_BILLS = tuple(
    SnapPaidBill(
        bill.period,
        bill.amount,
        biller_reference_id=f"BPJS-{bill.period}",
        status="00",
        reason=Bilingual("Success", "Sukses"),
    )
    for bill in BILLS
)


def inquiry_data(**changes: Any) -> SnapInquiryData:
    values: dict[str, Any] = {
        "partner_service_id": PSID,
        "customer_no": NIK,
        "virtual_account_name": "Siti Rahayu Śrī",
        "inquiry_request_id": "INQ-20261122-0001",
        "total_amount": 50_400,
        "inquiry_status": "00",
        "inquiry_reason": Bilingual("Success", "Sukses"),
        "bill_details": BILLS,
        "free_texts": (Bilingual("Pay before the 15th", "Bayar sebelum tgl 15"),),
        "virtual_account_trx_type": "C",
        "fee_amount": 0,
        "kpj": "12345678901",
        "programs": (Program.JKK, Program.JKM),
        "coverage_state": CoverageState.DUE,
    }
    values.update(changes)
    return SnapInquiryData(**values)


def payment_data(**changes: Any) -> SnapPaymentData:
    values: dict[str, Any] = {
        "partner_service_id": PSID,
        "customer_no": NIK,
        "payment_request_id": "INQ-20261122-0001",
        "paid_amount": 50_400,
        "payment_flag_status": "00",
        "payment_flag_reason": Bilingual("Success", "Sukses"),
        "virtual_account_name": "Siti Rahayu",
        "total_amount": 50_400,
        "trx_date_time": AT,
        "reference_no": "LA-REF-0001",
        "bill_details": PAID_BILLS,
        "free_texts": (Bilingual("Thank you", "Terima kasih"),),
    }
    values.update(changes)
    return SnapPaymentData(**values)


def status_data(**changes: Any) -> SnapStatusData:
    values: dict[str, Any] = {
        "partner_service_id": PSID,
        "customer_no": NIK,
        "payment_flag_status": "00",
        "payment_flag_reason": Bilingual("Success", "Sukses"),
        "inquiry_request_id": "INQ-20261122-0001",
        "payment_request_id": "INQ-20261122-0001",
        "paid_amount": 50_400,
        "total_amount": 50_400,
        "transaction_date": AT,
        "reference_no": "LA-REF-0001",
        "bill_details": PAID_BILLS,
    }
    values.update(changes)
    return SnapStatusData(**values)


def decoded_json(body: bytes) -> dict[str, Any]:
    value = json.loads(body)
    assert isinstance(value, dict)
    return value


def dumps(value: object, *, ascii_only: bool = False) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":")).encode()


# -- identifiers and amounts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [("12345", "   12345"), ("1", "       1"), ("12345678", "12345678"), ("088899", "  088899")],
)
def test_partner_service_id_is_left_padded_to_8(code: str, expected: str) -> None:
    assert partner_service_id(code) == expected
    assert len(expected) == 8


@pytest.mark.parametrize("code", ["", "123456789", "12a45", " 12345", "１２３"])
def test_partner_service_id_refuses_bad_company_codes(code: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        partner_service_id(code)


def test_virtual_account_no_is_service_id_plus_customer() -> None:
    assert virtual_account_no(PSID, NIK) == "   123453201015508950001"
    assert virtual_account_no(PSID, "12345678901") == "   1234512345678901"
    with pytest.raises(ValueError, match="customerNo"):
        virtual_account_no(PSID, "1" * 21)
    with pytest.raises(ValueError, match="partnerServiceId"):
        virtual_account_no("12345", NIK)


@pytest.mark.parametrize(
    ("rupiah", "text"),
    [(36_800, "36800.00"), (0, "0.00"), (1, "1.00"), (AMOUNT_MAX, "9999999999999999.00")],
)
def test_amount_round_trip(rupiah: int, text: str) -> None:
    wire = encode_amount(rupiah)
    assert wire == {"value": text, "currency": "IDR"}
    decoded = decode_amount(wire)
    assert decoded == rupiah
    assert type(decoded) is int


@pytest.mark.parametrize("bad", [-1, True, 1.5, AMOUNT_MAX + 1, "36800"])
def test_encode_amount_refuses_what_is_not_whole_rupiah(bad: Any) -> None:
    with pytest.raises(ValueError, match="amount"):
        encode_amount(bad)


@pytest.mark.parametrize(
    ("wire", "case", "field"),
    [
        ({"value": "36800.50", "currency": "IDR"}, "01", "amount.value"),  # cents
        ({"value": "36800.01", "currency": "IDR"}, "01", "amount.value"),
        ({"value": "-36800.00", "currency": "IDR"}, "01", "amount.value"),
        ({"value": "36800", "currency": "IDR"}, "01", "amount.value"),
        ({"value": "36800.0", "currency": "IDR"}, "01", "amount.value"),
        ({"value": "036800.00", "currency": "IDR"}, "01", "amount.value"),
        ({"value": "3.68e4", "currency": "IDR"}, "01", "amount.value"),
        ({"value": "36,800.00", "currency": "IDR"}, "01", "amount.value"),
        ({"value": "٣٦٨٠٠.00", "currency": "IDR"}, "01", "amount.value"),
        ({"value": "NaN", "currency": "IDR"}, "01", "amount.value"),
        ({"value": "12345678901234567.00", "currency": "IDR"}, "01", "amount.value"),
        ({"value": 36800, "currency": "IDR"}, "01", "amount.value"),
        ({"value": 36800.0, "currency": "IDR"}, "01", "amount.value"),
        ({"value": "36800.00", "currency": "USD"}, "01", "amount.currency"),
        ({"value": "36800.00", "currency": "idr"}, "01", "amount.currency"),
        ({"value": "36800.00"}, "02", "amount.currency"),
        ({"currency": "IDR"}, "02", "amount.value"),
        ({"value": "", "currency": "IDR"}, "02", "amount.value"),
        ("36800.00", "01", "amount"),
        (None, "01", "amount"),
    ],
)
def test_decode_amount_refuses(wire: Any, case: str, field: str) -> None:
    with pytest.raises(SnapFieldError) as caught:
        decode_amount(wire)
    assert (caught.value.case, caught.value.field) == (case, field)
    assert caught.value.code == "message.malformed"


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        inquiry_request(),
        inquiry_request(
            trx_date_init=None, channel_code=None, language=None, amount=None, agent_id=None
        ),
        inquiry_request(customer_no="12345678901", months=None),
    ],
)
def test_inquiry_request_client_to_server(request_: SnapInquiryRequest) -> None:
    body = encode_inquiry_request(request_)
    assert decode_inquiry_request(body) == request_


@pytest.mark.parametrize(
    "request_",
    [
        payment_request(),
        payment_request(
            total_amount=None,
            trx_date_time=None,
            reference_no=None,
            flag_advise=False,
            channel_code=None,
            months=None,
            payer_kind=None,
            payer_scheme=None,
            payer_name=None,
            agent_id=None,
        ),
    ],
)
def test_payment_request_client_to_server(request_: SnapPaymentRequest) -> None:
    assert decode_payment_request(encode_payment_request(request_)) == request_


@pytest.mark.parametrize(
    "request_",
    [
        status_request(),
        status_request(inquiry_request_id=None, reference_no=None, agent_id=None),
        status_request(payment_request_id=None),
    ],
)
def test_status_request_client_to_server(request_: SnapStatusRequest) -> None:
    assert decode_status_request(encode_status_request(request_)) == request_


@pytest.mark.parametrize(
    "response",
    [
        SnapInquiryResponse(OK_24, "Successful", inquiry_data()),
        SnapInquiryResponse(
            OK_24,
            "Successful",
            inquiry_data(
                total_amount=None,
                inquiry_status="01",
                inquiry_reason=Bilingual("Lapsed", "Kepesertaan berakhir"),
                bill_details=(),
                free_texts=(),
                virtual_account_trx_type=None,
                fee_amount=None,
                kpj=None,
                programs=(),
                coverage_state=None,
            ),
        ),
        SnapInquiryResponse(ResponseCode(404, "24", "12"), "Invalid Bill/Virtual Account"),
        SnapInquiryResponse(ResponseCode(500, "24", "01"), "Internal Server Error"),
    ],
)
def test_inquiry_response_server_to_client(response: SnapInquiryResponse) -> None:
    assert decode_inquiry_response(encode_inquiry_response(response)) == response


@pytest.mark.parametrize(
    "response",
    [
        SnapPaymentResponse(OK_25, "Successful", payment_data()),
        SnapPaymentResponse(
            OK_25,
            "Successful",
            payment_data(
                payment_flag_status="01",
                payment_flag_reason=Bilingual("Rejected", "Ditolak"),
                virtual_account_name=None,
                total_amount=None,
                trx_date_time=None,
                reference_no=None,
                bill_details=(),
                free_texts=(),
            ),
        ),
        SnapPaymentResponse(ResponseCode(404, "25", "14"), "Paid Bill"),
        SnapPaymentResponse(ResponseCode(202, "25", "00"), "Request In Progress"),
    ],
)
def test_payment_response_server_to_client(response: SnapPaymentResponse) -> None:
    assert decode_payment_response(encode_payment_response(response)) == response


@pytest.mark.parametrize(
    "response",
    [
        SnapStatusResponse(OK_26, "Successful", status_data()),
        SnapStatusResponse(
            OK_26,
            "Successful",
            status_data(
                payment_flag_reason=None,
                inquiry_request_id=None,
                paid_amount=None,
                total_amount=None,
                transaction_date=None,
                reference_no=None,
                bill_details=(),
            ),
        ),
        SnapStatusResponse(ResponseCode(404, "26", "01"), "Transaction Not Found"),
    ],
)
def test_status_response_server_to_client(response: SnapStatusResponse) -> None:
    assert decode_status_response(encode_status_response(response)) == response


def test_bodies_are_compact_utf8_without_nulls() -> None:
    body = encode_payment_request(payment_request(total_amount=None))
    assert b": " not in body
    assert b", " not in body
    assert "Ñusantara".encode() in body  # not \u00d1
    assert b"null" not in body
    assert b"totalAmount" not in body


def test_inquiry_request_wire_shape() -> None:
    body = decoded_json(encode_inquiry_request(inquiry_request()))
    assert body == {
        "partnerServiceId": "   12345",
        "customerNo": NIK,
        "virtualAccountNo": "   12345" + NIK,
        "inquiryRequestId": "INQ-20261122-0001",
        "trxDateInit": "2026-11-22T09:30:05+07:00",
        "channelCode": 6011,
        "language": "ID",
        "amount": {"value": "50400.00", "currency": "IDR"},
        "additionalInfo": {"months": 3, "agentId": "AGT-77"},
    }


def test_payment_request_wire_shape() -> None:
    body = decoded_json(encode_payment_request(payment_request()))
    assert list(body)[:4] == [
        "partnerServiceId",
        "customerNo",
        "virtualAccountNo",
        "paymentRequestId",
    ]
    assert body["paidAmount"] == {"value": "50400.00", "currency": "IDR"}
    assert body["flagAdvise"] == "Y"
    assert body["referenceNo"] == "LA-REF-0001"
    assert body["additionalInfo"] == {
        "months": 3,
        "payerKind": "csr",
        "payerScheme": "SC",
        "payerName": "PT Ñusantara Jaya",
        "agentId": "AGT-77",
    }
    assert decoded_json(encode_payment_request(payment_request(flag_advise=False)))[
        "flagAdvise"
    ] == ("N")


def test_inquiry_response_wire_shape() -> None:
    body = decoded_json(
        encode_inquiry_response(SnapInquiryResponse(OK_24, "Successful", inquiry_data()))
    )
    assert body["responseCode"] == "2002400"
    data = body["virtualAccountData"]
    assert data["billDetails"][0] == {
        "billCode": "01",
        "billNo": "2026-11",
        "billName": "Iuran BPU",
        "billDescription": {"english": "BPU contribution", "indonesia": "Iuran 2026-11"},
        "billAmount": {"value": "16800.00", "currency": "IDR"},
        "additionalInfo": {"discount": "PP 50/2025"},
    }
    assert [bill["billCode"] for bill in data["billDetails"]] == ["01", "02", "03"]
    assert data["additionalInfo"] == {
        "kpj": "12345678901",
        "programs": ["jkk", "jkm"],
        "coverageState": "due",
    }


def test_status_response_carries_transaction_date() -> None:
    body = decoded_json(
        encode_status_response(SnapStatusResponse(OK_26, "Successful", status_data()))
    )
    assert body["virtualAccountData"]["transactionDate"] == "2026-11-22T09:30:05+07:00"
    assert body["virtualAccountData"]["billDetails"][0]["billerReferenceId"] == "BPJS-2026-11"


def test_decoders_accept_what_other_implementations_send() -> None:
    body = decoded_json(encode_inquiry_request(inquiry_request()))
    body["channelCode"] = "6011"  # a string, as some banks send it
    body["trxDateInit"] = "2026-11-22T02:30:05.123Z"
    body["sourceBankCode"] = "014"  # fields we do not use are ignored
    body["additionalInfo"]["deviceId"] = "x"
    body["language"] = ""  # empty optional = absent
    decoded = decode_inquiry_request(dumps(body))
    assert decoded.channel_code == 6011
    assert decoded.trx_date_init == dt.datetime(2026, 11, 22, 9, 30, 5, 123000, tzinfo=JAKARTA)
    assert decoded.language is None


def test_pretty_printed_bodies_decode() -> None:
    body = json.dumps(decoded_json(encode_payment_request(payment_request())), indent=2).encode()
    assert decode_payment_request(body) == payment_request()


# -- builders from the library's types --------------------------------------------------------


def client_payment(**changes: Any) -> PaymentRequest:
    values: dict[str, Any] = {
        "reference": "LA-REF-0001",
        "customer": CustomerId.nik(NIK),
        "periods": (YearMonth(2026, 11), YearMonth(2026, 12), YearMonth(2027, 1)),
        "amount": 50_400,
        "admin_fee": 2_500,
        "payer": Payer.self_paid(),
        "inquiry_id": "INQ-20261122-0001",
        "requested_at": AT,
        "agent_id": "AGT-77",
        "repeat": False,
    }
    values.update(changes)
    return PaymentRequest(**values)


def test_inquiry_request_for() -> None:
    request = inquiry_request_for(
        CustomerId.nik(NIK),
        3,
        partner_service_id=partner_service_id("12345"),
        inquiry_request_id="INQ-1",
        at=AT,
        agent_id="AGT-77",
    )
    assert (request.customer_no, request.months, request.agent_id) == (NIK, 3, "AGT-77")
    assert request.virtual_account_no == "   12345" + NIK


def test_payment_request_for_follows_the_inquiry() -> None:
    snap = payment_request_for(client_payment(), partner_service_id=PSID, channel_code=6011)
    assert snap.payment_request_id == "INQ-20261122-0001"  # = inquiryRequestId
    assert snap.reference_no == "LA-REF-0001"
    assert snap.paid_amount == snap.total_amount == 50_400  # the admin fee is the channel's
    assert snap.months == 3
    assert snap.payer_kind is PayerKind.SELF
    assert snap.flag_advise is False
    assert decode_payment_request(encode_payment_request(snap)) == snap


def test_payment_request_for_without_inquiry_and_repeated() -> None:
    snap = payment_request_for(
        client_payment(inquiry_id=None, repeat=True), partner_service_id=PSID
    )
    assert snap.payment_request_id == "LA-REF-0001"
    assert snap.flag_advise is True


def test_status_request_for() -> None:
    snap = status_request_for(client_payment(), partner_service_id=PSID)
    assert snap.payment_request_id == snap.inquiry_request_id == "INQ-20261122-0001"
    assert snap.reference_no == "LA-REF-0001"
    assert decode_status_request(encode_status_request(snap)) == snap


# -- strict decoding: the case and the field --------------------------------------------------


def mutated(body: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    value = decoded_json(body)
    change(value)
    return dumps(value, ascii_only=True)


def expect_field_error(
    decode: Callable[[bytes], object], body: bytes, case: str, field: str
) -> None:
    with pytest.raises(SnapFieldError) as caught:
        decode(body)
    assert (caught.value.case, caught.value.field) == (case, field)


INQUIRY_BODY = encode_inquiry_request(inquiry_request())
PAYMENT_BODY = encode_payment_request(payment_request())
STATUS_BODY = encode_status_request(status_request())
INQUIRY_RESPONSE_BODY = encode_inquiry_response(
    SnapInquiryResponse(OK_24, "Successful", inquiry_data())
)
PAYMENT_RESPONSE_BODY = encode_payment_response(
    SnapPaymentResponse(OK_25, "Successful", payment_data())
)
STATUS_RESPONSE_BODY = encode_status_response(
    SnapStatusResponse(OK_26, "Successful", status_data())
)


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()


@pytest.mark.parametrize(
    ("decode", "body", "path", "value", "case", "field"),
    [
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "inquiryRequestId",
            _DELETE,
            "02",
            "inquiryRequestId",
        ),
        (decode_inquiry_request, INQUIRY_BODY, "inquiryRequestId", None, "02", "inquiryRequestId"),
        (decode_inquiry_request, INQUIRY_BODY, "inquiryRequestId", "", "02", "inquiryRequestId"),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "inquiryRequestId",
            "x" * 129,
            "01",
            "inquiryRequestId",
        ),
        (decode_inquiry_request, INQUIRY_BODY, "inquiryRequestId", 12, "01", "inquiryRequestId"),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "inquiryRequestId",
            "a\nb",
            "01",
            "inquiryRequestId",
        ),
        (decode_inquiry_request, INQUIRY_BODY, "customerNo", "1" * 21, "01", "customerNo"),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "customerNo",
            "32010155O8950001",
            "01",
            "customerNo",
        ),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "partnerServiceId",
            "12345",
            "01",
            "partnerServiceId",
        ),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "partnerServiceId",
            "1234 567",
            "01",
            "partnerServiceId",
        ),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "virtualAccountNo",
            "12345" + NIK,
            "01",
            "virtualAccountNo",
        ),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "virtualAccountNo",
            _DELETE,
            "02",
            "virtualAccountNo",
        ),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "trxDateInit",
            "2026-11-22T09:30:05",
            "01",
            "trxDateInit",
        ),
        (decode_inquiry_request, INQUIRY_BODY, "channelCode", 60110, "01", "channelCode"),
        (decode_inquiry_request, INQUIRY_BODY, "channelCode", True, "01", "channelCode"),
        (decode_inquiry_request, INQUIRY_BODY, "language", "IDN", "01", "language"),
        (decode_inquiry_request, INQUIRY_BODY, "additionalInfo", [], "01", "additionalInfo"),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "additionalInfo.months",
            0,
            "01",
            "additionalInfo.months",
        ),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "additionalInfo.months",
            "3",
            "01",
            "additionalInfo.months",
        ),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "additionalInfo.months",
            3.0,
            "01",
            "additionalInfo.months",
        ),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "additionalInfo.months",
            False,
            "01",
            "additionalInfo.months",
        ),
        (
            decode_inquiry_request,
            INQUIRY_BODY,
            "additionalInfo.months",
            10**40,
            "01",
            "additionalInfo.months",
        ),
        (decode_payment_request, PAYMENT_BODY, "paidAmount", _DELETE, "02", "paidAmount"),
        (
            decode_payment_request,
            PAYMENT_BODY,
            "paidAmount.value",
            "1.50",
            "01",
            "paidAmount.value",
        ),
        (
            decode_payment_request,
            PAYMENT_BODY,
            "paymentRequestId",
            _DELETE,
            "02",
            "paymentRequestId",
        ),
        (decode_payment_request, PAYMENT_BODY, "flagAdvise", "y", "01", "flagAdvise"),
        (decode_payment_request, PAYMENT_BODY, "flagAdvise", True, "01", "flagAdvise"),
        (decode_payment_request, PAYMENT_BODY, "referenceNo", "r" * 65, "01", "referenceNo"),
        (
            decode_payment_request,
            PAYMENT_BODY,
            "additionalInfo.payerKind",
            "boss",
            "01",
            "additionalInfo.payerKind",
        ),
        (
            decode_payment_request,
            PAYMENT_BODY,
            "additionalInfo.payerName",
            "n" * 101,
            "01",
            "additionalInfo.payerName",
        ),
        (
            decode_status_request,
            STATUS_BODY,
            "paymentRequestId",
            "\ud800",
            "01",
            "paymentRequestId",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "responseCode",
            "200240",
            "01",
            "responseCode",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "responseCode",
            2002400,
            "01",
            "responseCode",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "responseMessage",
            _DELETE,
            "02",
            "responseMessage",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "virtualAccountData",
            _DELETE,
            "02",
            "virtualAccountData",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "virtualAccountData.virtualAccountName",
            "n" * 256,
            "01",
            "virtualAccountData.virtualAccountName",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "virtualAccountData.billDetails.1.billNo",
            "2026-13",
            "01",
            "virtualAccountData.billDetails[1].billNo",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "virtualAccountData.billDetails.2.billAmount.value",
            "16800.10",
            "01",
            "virtualAccountData.billDetails[2].billAmount.value",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "virtualAccountData.billDetails.0.billDescription.english",
            "e" * 19,
            "01",
            "virtualAccountData.billDetails[0].billDescription.english",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "virtualAccountData.billDetails",
            [{"billNo": "2026-11", "billAmount": {"value": "1.00", "currency": "IDR"}}] * 25,
            "01",
            "virtualAccountData.billDetails",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "virtualAccountData.additionalInfo.programs",
            ["jkk", "jkp"],
            "01",
            "virtualAccountData.additionalInfo.programs[1]",
        ),
        (
            decode_inquiry_response,
            INQUIRY_RESPONSE_BODY,
            "virtualAccountData.additionalInfo.coverageState",
            "zombie",
            "01",
            "virtualAccountData.additionalInfo.coverageState",
        ),
        (
            decode_payment_response,
            PAYMENT_RESPONSE_BODY,
            "virtualAccountData.paymentFlagStatus",
            _DELETE,
            "02",
            "virtualAccountData.paymentFlagStatus",
        ),
        (
            decode_payment_response,
            PAYMENT_RESPONSE_BODY,
            "virtualAccountData.billDetails.0.billerReferenceId",
            "b" * 65,
            "01",
            "virtualAccountData.billDetails[0].billerReferenceId",
        ),
        (
            decode_status_response,
            STATUS_RESPONSE_BODY,
            "virtualAccountData.transactionDate",
            "yesterday",
            "01",
            "virtualAccountData.transactionDate",
        ),
    ],
)
def test_decoders_name_the_case_and_field(
    decode: Callable[[bytes], object],
    body: bytes,
    path: str,
    value: object,
    case: str,
    field: str,
) -> None:
    expect_field_error(decode, mutated(body, _set(path, value)), case, field)


def test_status_request_needs_one_id() -> None:
    def drop_ids(body: dict[str, Any]) -> None:
        del body["inquiryRequestId"], body["paymentRequestId"]

    expect_field_error(
        decode_status_request, mutated(STATUS_BODY, drop_ids), "02", "paymentRequestId"
    )
    with pytest.raises(ValueError, match="paymentRequestId"):
        status_request(inquiry_request_id=None, payment_request_id=None)


def test_field_error_tells_a_server_how_to_answer() -> None:
    with pytest.raises(SnapFieldError) as caught:
        decode_inquiry_request(mutated(INQUIRY_BODY, _set("inquiryRequestId", _DELETE)))
    error = caught.value
    assert error.response_code("24") == "4002402"
    assert error.response_message == "Invalid Mandatory Field inquiryRequestId"
    assert answer_for(error, ServiceCode.INQUIRY) == (
        "4002402",
        "Invalid Mandatory Field inquiryRequestId",
    )
    assert "inquiryRequestId" in error.message_en
    assert isinstance(error, MalformedMessage)


def test_an_error_answer_with_a_broken_data_block_keeps_its_code() -> None:
    body = dumps(
        {
            "responseCode": "4042412",
            "responseMessage": "Invalid Bill/Virtual Account",
            "virtualAccountData": {"partnerServiceId": 5},
        }
    )
    response = decode_inquiry_response(body)
    assert response.response_code == ResponseCode(404, "24", "12")
    assert response.virtual_account is None


def test_an_error_answer_with_a_good_data_block_keeps_it() -> None:
    reason = Bilingual("Membership lapsed", "Kepesertaan berakhir")
    data = inquiry_data(inquiry_status="01", inquiry_reason=reason, bill_details=())
    response = SnapInquiryResponse(
        ResponseCode(404, "24", "12"), "Invalid Bill/Virtual Account", data
    )
    assert decode_inquiry_response(encode_inquiry_response(response)).virtual_account == data


def test_encoders_refuse_to_build_what_snap_refuses() -> None:
    with pytest.raises(ValueError, match="inquiryRequestId"):
        inquiry_request(inquiry_request_id="x" * 129)
    with pytest.raises(ValueError, match="customerNo"):
        inquiry_request(customer_no="NIK")
    with pytest.raises(ValueError, match="billDetails"):
        inquiry_data(bill_details=BILLS * 9)
    with pytest.raises(ValueError, match="billDescription"):
        SnapBill(YearMonth(2026, 11), 1, description=Bilingual("a" * 19, "b"))
    with pytest.raises(ValueError, match="trxDateTime"):
        payment_request(trx_date_time=dt.datetime(2026, 11, 22))


# -- size and depth ---------------------------------------------------------------------------

DECODERS: list[Callable[[bytes], object]] = [
    decode_inquiry_request,
    decode_payment_request,
    decode_status_request,
    decode_inquiry_response,
    decode_payment_response,
    decode_status_response,
]
DECODER_IDS = [
    "inquiry-req",
    "payment-req",
    "status-req",
    "inquiry-resp",
    "payment-resp",
    "status-resp",
]


@pytest.mark.parametrize("decode", DECODERS, ids=DECODER_IDS)
def test_oversized_body_is_refused_before_parsing(
    decode: Callable[[bytes], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parsing(*args: object, **kwargs: object) -> object:
        raise AssertionError("an oversized body was parsed")

    monkeypatch.setattr(json, "loads", no_parsing)
    with pytest.raises(SnapFieldError) as caught:
        decode(b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert caught.value.code == "message.too_large"
    assert caught.value.case == "00"


def test_a_body_of_exactly_the_limit_is_read() -> None:
    body = INQUIRY_BODY + b" " * (MAX_BODY_BYTES - len(INQUIRY_BODY))
    assert len(body) == MAX_BODY_BYTES
    assert decode_inquiry_request(body) == inquiry_request()


@pytest.mark.parametrize("decode", DECODERS, ids=DECODER_IDS)
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 50_000 + b"]" * 50_000,  # over the size limit
        b"[" * 30_000 + b"]" * 30_000,  # within it, but deeper than any parser should go
        b'{"partnerServiceId":' + b"[" * 30_000 + b"]" * 30_000 + b"}",
        b'{"responseCode":"2002400","responseMessage":"ok","virtualAccountData":'
        + b'{"a":' * 10_000
        + b"1"
        + b"}" * 10_001,
        b'{"inquiryRequestId":"' + b"x" * 70_000 + b'"}',
        b'{"inquiryRequestId":"' + b"x" * 60_000 + b'"}',
        b'{"additionalInfo":{"months":' + b"9" * 5_000 + b"}}",  # int() digit limit
        b'{"paidAmount":{"value":1' + b"0" * 4000 + b'.5,"currency":"IDR"}}',
        b"\xef\xbb\xbf{}",
        b"{}",
        b"null",
        b'"string"',
        b"",
    ],
    ids=[
        "deep-50k",
        "deep-30k",
        "deep-field",
        "deep-objects",
        "huge-string-over",
        "huge-string-under",
        "huge-int",
        "huge-fraction",
        "bom",
        "empty-object",
        "null",
        "string",
        "empty",
    ],
)
def test_hostile_bodies_raise_only_field_errors(
    decode: Callable[[bytes], object], body: bytes
) -> None:
    with pytest.raises(SnapFieldError):
        decode(body)


# -- hypothesis: nothing but MalformedMessage, whatever arrives -----------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "\ud800", "2026-13", "36800.00", "IDR", "Y", "00", "jkk", "\x00"])
    | st.text(alphabet="0123456789 .-", max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)

VALID_BODIES: list[tuple[Callable[[bytes], object], bytes]] = [
    (decode_inquiry_request, INQUIRY_BODY),
    (decode_payment_request, PAYMENT_BODY),
    (decode_status_request, STATUS_BODY),
    (decode_inquiry_response, INQUIRY_RESPONSE_BODY),
    (decode_payment_response, PAYMENT_RESPONSE_BODY),
    (decode_status_response, STATUS_RESPONSE_BODY),
]


def paths(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every key or index path inside ``value`` (the root excluded)."""
    found: list[tuple[str | int, ...]] = []
    items: list[tuple[str | int, object]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def replaced(value: Any, path: tuple[str | int, ...], new: object) -> Any:
    result = copy.deepcopy(value)
    target = result
    for key in path[:-1]:
        target = target[key]
    if new is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return result


def decode_or_malformed(decode: Callable[[bytes], object], body: bytes) -> None:
    """Decode ``body``: success, or SnapFieldError; any other exception fails the test."""
    caught: SnapFieldError | None = None
    try:
        decode(body)
    except SnapFieldError as error:
        caught = error
    if caught is not None:
        assert isinstance(caught, MalformedMessage)
        assert caught.code in {"message.malformed", "message.too_large"}
        assert caught.case in {"00", "01", "02"}
        assert caught.message_en
        assert caught.message_id


@given(st.sampled_from(VALID_BODIES), st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_malformed(pair: tuple[Any, bytes], body: bytes) -> None:
    decode_or_malformed(pair[0], body)


@given(st.sampled_from(VALID_BODIES), st.data())
def test_one_field_replaced_raises_only_malformed(
    pair: tuple[Any, bytes], data: st.DataObject
) -> None:
    decode, body = pair
    value = json.loads(body)
    path = data.draw(st.sampled_from(paths(value)))
    new = data.draw(json_values | st.just(_DELETE))
    hostile = replaced(value, path, new)
    encoded = json.dumps(hostile).encode()  # ASCII escapes: lone surrogates can travel too
    decode_or_malformed(decode, encoded)


@given(st.sampled_from(VALID_BODIES), st.data())
def test_byte_level_damage_raises_only_malformed(
    pair: tuple[Any, bytes], data: st.DataObject
) -> None:
    decode, body = pair
    position = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    damage = data.draw(st.binary(min_size=0, max_size=3))
    cut = data.draw(st.integers(min_value=0, max_value=3))
    decode_or_malformed(decode, body[:position] + damage + body[position + cut :])


@given(
    st.sampled_from(VALID_BODIES), st.dictionaries(st.text(max_size=10), json_values, max_size=5)
)
def test_arbitrary_objects_raise_only_malformed(
    pair: tuple[Any, bytes], value: dict[str, Any]
) -> None:
    decode_or_malformed(pair[0], json.dumps(value).encode())


# -- response codes ---------------------------------------------------------------------------


def test_response_code_parse_and_format() -> None:
    code = ResponseCode.parse("2002400")
    assert code == ResponseCode(200, "24", "00")
    assert (code.http, code.service, code.case) == (200, "24", "00")
    assert code.format() == str(code) == "2002400"
    assert code.successful
    assert not ResponseCode.parse("2022500").successful
    assert ResponseCode(404, ServiceCode.INQUIRY, "12").format() == "4042412"


@pytest.mark.parametrize(
    "text", ["", "200240", "20024000", "2OO2400", "6002400", "０２００２４００", None, 2002400]
)
def test_response_code_parse_refuses(text: Any) -> None:
    with pytest.raises(SnapFieldError) as caught:
        ResponseCode.parse(text)
    assert caught.value.field == "responseCode"


def test_response_code_constructor_checks() -> None:
    with pytest.raises(ValueError, match="HTTP"):
        ResponseCode(99, "24", "00")
    with pytest.raises(ValueError, match="service"):
        ResponseCode(200, "2", "00")
    with pytest.raises(ValueError, match="case"):
        ResponseCode(200, "24", "0a")


def test_service_codes() -> None:
    assert [s.value for s in ServiceCode] == ["73", "24", "25", "26", "90", "91", "92", "93"]


CHANNELS_MD_CASES = [
    (200, "00"),
    (202, "00"),
    (400, "00"),
    (400, "01"),
    (400, "02"),
    (401, "00"),
    (401, "01"),
    (403, "02"),
    (403, "06"),
    (404, "01"),
    (404, "12"),
    (404, "13"),
    (404, "14"),
    (404, "18"),
    (404, "19"),
    (409, "00"),
    (409, "01"),
    (429, "00"),
    (500, "00"),
    (500, "01"),
    (500, "02"),
    (504, "00"),
]


def test_every_case_of_the_standard_table_is_mapped() -> None:
    assert set(CHANNELS_MD_CASES) <= set(RESPONSE_CASES)
    for case in RESPONSE_CASES.values():
        assert case.meaning_en
        assert case.meaning_id
        assert case.error_code is None or case.error_code in CATALOGUE


P = ServiceCode.PAYMENT
I = ServiceCode.INQUIRY  # noqa: E741
S = ServiceCode.STATUS


@pytest.mark.parametrize(
    ("code", "service", "kind", "error_code"),
    [
        ("2002400", I, None, None),
        ("2002500", P, None, None),
        ("2022500", P, None, None),
        ("4002400", I, MalformedMessage, "message.malformed"),
        ("4002501", P, MalformedMessage, "message.malformed"),
        ("4002502", P, MalformedMessage, "message.malformed"),
        ("4012500", P, AuthenticationFailed, "auth.signature"),
        ("4012401", I, AuthenticationFailed, "auth.token"),
        ("4032502", P, HostDeclined, "host.limit_exceeded"),
        ("4032506", P, HostDeclined, "host.cutoff"),
        ("4042601", S, None, None),
        ("4042501", P, HostDeclined, "host.not_found"),
        ("4042412", I, HostDeclined, "host.customer_not_found"),
        ("4042513", P, HostDeclined, "host.amount_mismatch"),
        ("4042514", P, HostDeclined, "host.bill_paid"),
        ("4042518", P, OutcomeUnknown, "outcome.unknown"),
        ("4042418", I, HostDeclined, "host.conflict"),
        ("4042519", P, HostDeclined, "host.bill_expired"),
        ("4092500", P, OutcomeUnknown, "outcome.unknown"),
        ("4092501", P, OutcomeUnknown, "outcome.unknown"),
        ("4092400", I, HostDeclined, "host.conflict"),
        ("4292500", P, NotDelivered, "host.busy"),
        ("4292400", I, NotDelivered, "host.busy"),
        ("5002500", P, OutcomeUnknown, "outcome.unknown"),
        ("5002501", P, OutcomeUnknown, "outcome.unknown"),
        ("5002502", P, OutcomeUnknown, "outcome.unknown"),
        ("5002400", I, HostDeclined, "host.error"),
        ("5002401", I, HostDeclined, "host.error"),
        ("5002602", S, HostDeclined, "host.error"),
        ("5042500", P, OutcomeUnknown, "outcome.unknown"),
        ("5042400", I, HostDeclined, "host.error"),
        ("4032599", P, HostDeclined, "host.rejected"),  # a 4xx we do not know: a refusal
        ("5032500", P, OutcomeUnknown, "outcome.unknown"),  # a 5xx we do not know: open
        ("2002501", P, OutcomeUnknown, "outcome.unknown"),  # an odd "success": open
        ("4039015", ServiceCode.REGISTRATION, HostDeclined, "host.already_registered"),
        ("4039115", ServiceCode.AUTODEBIT, HostDeclined, "host.autodebit_unpaid"),
        ("4032515", P, HostDeclined, "host.rejected"),
        ("4049015", ServiceCode.REGISTRATION, HostDeclined, "host.otp_invalid"),
        ("4039012", ServiceCode.REGISTRATION, HostDeclined, "host.otp_expired"),
        ("4039011", ServiceCode.REGISTRATION, HostDeclined, "host.otp_expired"),
        ("5009101", ServiceCode.AUTODEBIT, OutcomeUnknown, "outcome.unknown"),
        ("5009001", ServiceCode.REGISTRATION, HostDeclined, "host.error"),
    ],
)
def test_error_for_maps_every_case(
    code: str, service: str, kind: type[JamsostekError] | None, error_code: str | None
) -> None:
    error = error_for(ResponseCode.parse(code), service=service, reference="LA-REF-0001")
    if kind is None:
        assert error is None
        return
    assert isinstance(error, kind)
    assert error.code == error_code
    assert getattr(error, "host_code", None) == code
    if isinstance(error, OutcomeUnknown):
        assert "LA-REF-0001" in error.message_en


@pytest.mark.parametrize(
    ("code", "needs_status", "retry_safe"),
    [
        ("4042518", True, False),
        ("4092500", True, False),
        ("4092501", True, False),
        ("5002500", True, False),
        ("5002501", True, False),
        ("5002502", True, False),
        ("5042500", True, False),
        ("4292500", False, True),
        ("4012501", False, True),
        ("4042514", False, False),
        ("4032502", False, False),
    ],
)
def test_case_flags(code: str, needs_status: bool, retry_safe: bool) -> None:
    case = case_for(ResponseCode.parse(code), P)
    assert (case.needs_status, case.retry_safe) == (needs_status, retry_safe)


def test_states_of_open_and_missing_payments() -> None:
    assert case_for(ResponseCode.parse("2022500"), P).state is PaymentState.PENDING
    assert case_for(ResponseCode.parse("4042601"), S).state is PaymentState.NOT_FOUND


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("Invalid Field Format paidAmount", "paidAmount"),
        ("Invalid Field Format {paidAmount.value}", "paidAmount.value"),
        ("Invalid Mandatory Field [customerNo]", "customerNo"),
        ("invalid mandatory field: virtualAccountNo", "virtualAccountNo"),
        ("Invalid Field Format billDetails[0].billNo", "billDetails[0].billNo"),
        ("Bad Request", None),
        (None, None),
    ],
)
def test_a_400_answer_keeps_the_field_it_names(message: str | None, field: str | None) -> None:
    error = error_for(
        ResponseCode.parse("4002501"), service=P, reference="R", response_message=message
    )
    assert isinstance(error, SnapFieldError)
    assert error.case == "01"
    assert error.field == field
    assert error.host_code == "4002501"


def test_a_400_answer_never_repeats_a_number_it_was_sent() -> None:
    error = error_for(
        ResponseCode.parse("4002401"),
        service=I,
        reference="R",
        response_message="Invalid Field Format customerNo3201015508950001",
    )
    assert error is not None
    assert NIK not in error.message_en


@pytest.mark.parametrize(
    ("host_code", "service", "expected"),
    [
        ("host.customer_not_found", "24", "4042412"),
        ("host.lapsed", "24", "4042412"),
        ("host.amount_mismatch", "25", "4042513"),
        ("host.bill_paid", "25", "4042514"),
        ("host.bill_paid", "24", "4042414"),
        ("host.conflict", "25", "4042518"),
        ("host.bill_expired", "25", "4042519"),
        ("host.limit_exceeded", "25", "4032502"),
        ("host.cutoff", "25", "4032506"),
        ("host.otp_invalid", "90", "4049015"),
        ("host.otp_expired", "90", "4039012"),
        ("host.already_registered", "90", "4039015"),
        ("host.autodebit_unpaid", "91", "4039115"),
        ("host.not_found", "26", "4042601"),
        ("host.busy", "25", "4292500"),
        ("host.error", "25", "5002501"),
        ("auth.signature", "24", "4012400"),
        ("auth.token", "24", "4012401"),
        ("message.malformed", "24", "4002400"),
        ("something.unheard_of", "25", "5002501"),
    ],
)
def test_code_for(host_code: str, service: str, expected: str) -> None:
    assert code_for(host_code, service) == expected


def test_code_for_refuses_a_bad_service() -> None:
    with pytest.raises(ValueError, match="service"):
        code_for("host.bill_paid", "2")


# What survives a server's answer and a client's reading unchanged (the rest is lossy on
# purpose and documented in HOST_ANSWERS).
LOSSLESS = {
    "host.customer_not_found": I,
    "host.amount_mismatch": P,
    "host.bill_paid": P,
    "host.bill_expired": P,
    "host.limit_exceeded": P,
    "host.cutoff": P,
    "host.conflict": I,
    "host.not_found": P,
    "host.otp_invalid": ServiceCode.REGISTRATION,
    "host.otp_expired": ServiceCode.REGISTRATION,
    "host.already_registered": ServiceCode.REGISTRATION,
    "host.autodebit_unpaid": ServiceCode.AUTODEBIT,
    "host.rejected": P,
    "host.busy": P,
    "host.error": I,
    "auth.signature": I,
    "auth.token": I,
}


@pytest.mark.parametrize(("host_code", "service"), sorted(LOSSLESS.items()))
def test_code_for_and_error_for_agree(host_code: str, service: str) -> None:
    answer = ResponseCode.parse(code_for(host_code, service))
    error = error_for(answer, service=service, reference="R")
    assert error is not None
    assert error.code == host_code


def test_every_answer_names_a_catalogued_code() -> None:
    assert set(LOSSLESS) <= set(HOST_ANSWERS)
    for host_code in HOST_ANSWERS:
        assert host_code in CATALOGUE


def test_answer_for_library_errors() -> None:
    error = HostDeclined("host.bill_paid", host_code=None)
    assert answer_for(error, P) == ("4042514", "Paid Bill")
    assert answer_for(HostDeclined("host.customer_not_found"), I) == (
        "4042412",
        "Invalid Bill/Virtual Account",
    )


def test_module_exports_match() -> None:
    from jamsostek_channels.adapters import snap
    from jamsostek_channels.adapters.snap import codes, errors, security

    for module in (snap, codec, codes, errors, security):
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)
    assert sorted(snap.__all__) == sorted(set(snap.__all__))
