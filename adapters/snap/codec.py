"""SNAP virtual-account bodies (inquiry 24, payment 25, status 26), for both sides of the wire.

One module for the client (the library calling a biller) and the server (the fake biller, or a
partner's test double): each service has a request type and a response type, and for each an
``encode_*`` giving the exact bytes to send and a ``decode_*`` reading received bytes back into
the same type, so ``decode_x(encode_x(value)) == value``.

Wire rules kept here:

* amounts are ``{"value": "36800.00", "currency": "IDR"}``: whole rupiah as ``int`` on our side,
  never a float; non-zero cents, negative or non-IDR amounts are refused;
* ``partnerServiceId`` is the company code left-padded with spaces to 8 characters and
  ``virtualAccountNo`` is ``partnerServiceId + customerNo`` (the NIK or KPJ);
* a bill's month travels in ``billNo`` as ``YYYY-MM`` (``billCode`` numbers the bills 01–24);
* project fields travel in ``additionalInfo`` (months, payer, agent; KPJ, programs and coverage
  state in an inquiry answer), which SNAP leaves to each implementation;
* bodies are compact UTF-8 JSON (no ASCII escaping); optional fields that are ``None`` are left
  out, never sent as ``null``; unknown fields received are ignored (SNAP lets partners add
  fields);
* date-times are sent in the seconds form of X-TIMESTAMP (``2026-11-22T09:30:05+07:00``), so
  they round-trip to the second.

Decoding is strict and total: whatever the bytes, a decoder returns its type or raises
:class:`~jamsostek_channels.adapters.snap.errors.SnapFieldError` (a ``MalformedMessage``)
carrying the SNAP case (00 unparseable, 01 bad format, 02 missing mandatory field) and the
field's path. Bodies over :data:`MAX_BODY_BYTES` are refused before parsing.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Callable
from typing import Any, TypeGuard, TypeVar

import attrs

from jamsostek_channels import redact
from jamsostek_channels.adapters.snap._reader import (
    MAX_BODY_BYTES,
    FieldInvalid,
    Reader,
    check_text,
)
from jamsostek_channels.adapters.snap.codes import ResponseCode
from jamsostek_channels.adapters.snap.errors import SnapFieldError
from jamsostek_channels.adapters.snap.security import format_timestamp, parse_timestamp
from jamsostek_channels.channel import CustomerId, PaymentRequest
from jamsostek_channels.errors import MalformedMessage
from jamsostek_channels.model import CoverageState, Payer, PayerKind, Program
from jamsostek_channels.period import YearMonth

__all__ = [
    "AMOUNT_MAX",
    "BILLS_MAX",
    "INQUIRY_PATH",
    "MAX_BODY_BYTES",
    "MONTHS_MAX",
    "PAYMENT_PATH",
    "STATUS_PATH",
    "TOKEN_PATH",
    "Bilingual",
    "SnapBill",
    "SnapInquiryData",
    "SnapInquiryRequest",
    "SnapInquiryResponse",
    "SnapPaidBill",
    "SnapPaymentData",
    "SnapPaymentRequest",
    "SnapPaymentResponse",
    "SnapStatusData",
    "SnapStatusRequest",
    "SnapStatusResponse",
    "decode_amount",
    "decode_inquiry_request",
    "decode_inquiry_response",
    "decode_payment_request",
    "decode_payment_response",
    "decode_status_request",
    "decode_status_response",
    "encode_amount",
    "encode_inquiry_request",
    "encode_inquiry_response",
    "encode_payment_request",
    "encode_payment_response",
    "encode_status_request",
    "encode_status_response",
    "inquiry_request_for",
    "partner_service_id",
    "payment_request_for",
    "status_request_for",
    "virtual_account_no",
]

TOKEN_PATH = "/v1.0/access-token/b2b"  # noqa: S105 - a path, not a secret
INQUIRY_PATH = "/v1.0/transfer-va/inquiry"
PAYMENT_PATH = "/v1.0/transfer-va/payment"
STATUS_PATH = "/v1.0/transfer-va/status"

# -- field limits (SNAP's, or a generous format bound for project fields; rules are not here) ---

PARTNER_SERVICE_ID_LENGTH = 8
CUSTOMER_NO_MAX = 20
VIRTUAL_ACCOUNT_NO_MAX = PARTNER_SERVICE_ID_LENGTH + CUSTOMER_NO_MAX
REQUEST_ID_MAX = 128  #: inquiryRequestId, paymentRequestId
REFERENCE_NO_MAX = 64
VIRTUAL_ACCOUNT_NAME_MAX = 255
RESPONSE_MESSAGE_MAX = 150
REASON_MAX = 64  #: inquiryReason / paymentFlagReason, each language
BILLS_MAX = 24
BILL_NO_MAX = 18
BILL_NAME_MAX = 20
BILL_DESCRIPTION_MAX = 18
FREE_TEXTS_MAX = 25
FREE_TEXT_MAX = 32
BILLER_REFERENCE_MAX = 64
#: Largest amount: SNAP's 16 integer digits.
AMOUNT_MAX = 10**16 - 1
#: Format bound on ``additionalInfo.months``; the BPU rules decide which counts are allowed.
MONTHS_MAX = 120
AGENT_ID_MAX = 64
PAYER_NAME_MAX = 100
PAYER_SCHEME_MAX = 16
DISCOUNT_MAX = 64

_PARTNER_SERVICE_ID = re.compile(r"(?=.{8}\Z) {0,7}[0-9]{1,8}", re.ASCII)
_VIRTUAL_ACCOUNT_NO = re.compile(r" {0,7}[0-9]{2,28}", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_COMPANY_CODE = re.compile(r"[0-9]{1,8}", re.ASCII)
_TWO_DIGITS = re.compile(r"[0-9]{2}", re.ASCII)
_LANGUAGE = re.compile(r"[A-Za-z]{2}", re.ASCII)
_TRX_TYPE = re.compile(r"[A-Z]", re.ASCII)
_YES_NO = re.compile(r"[YN]")
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,15})\.([0-9]{2})", re.ASCII)
_PERIOD = re.compile(r"[0-9]{4}-[0-9]{2}", re.ASCII)
_CHANNEL_CODE_MAX = 9999

_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.Enum)
_Validator = Callable[[Any, Any, Any], None]


# -- validators shared by the wire types (each names the field as it is on the wire) ------------


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(wire: str, max_length: int, pattern: re.Pattern[str] | None = None) -> _Validator:
    def validate(instance: object, attribute: object, value: object) -> None:
        check_text(value, wire, max_length=max_length, pattern=pattern)

    return validate


def _opt_text(wire: str, max_length: int, pattern: re.Pattern[str] | None = None) -> _Validator:
    def validate(instance: object, attribute: object, value: object) -> None:
        if value is not None:
            check_text(value, wire, max_length=max_length, pattern=pattern)

    return validate


def _money(wire: str, *, optional: bool = False) -> _Validator:
    def validate(instance: object, attribute: object, value: object) -> None:
        if value is None and optional:
            return
        if not _is_int(value) or not 0 <= value <= AMOUNT_MAX:
            raise FieldInvalid(wire, f"whole rupiah 0..{AMOUNT_MAX}")

    return validate


def _opt_int(wire: str, low: int, high: int) -> _Validator:
    def validate(instance: object, attribute: object, value: object) -> None:
        if value is not None and (not _is_int(value) or not low <= value <= high):
            raise FieldInvalid(wire, f"an integer {low}..{high}")

    return validate


def _instance(wire: str, kind: type, *, optional: bool = False) -> _Validator:
    def validate(instance: object, attribute: object, value: object) -> None:
        if not (isinstance(value, kind) or (optional and value is None)):
            raise FieldInvalid(wire, f"must be {kind.__name__}")

    return validate


def _aware(wire: str) -> _Validator:
    def validate(instance: object, attribute: object, value: object) -> None:
        if value is not None and (not isinstance(value, dt.datetime) or value.utcoffset() is None):
            raise FieldInvalid(wire, "an aware datetime")

    return validate


def _many(wire: str, kind: type, max_items: int) -> _Validator:
    def validate(instance: object, attribute: object, value: object) -> None:
        if not isinstance(value, tuple) or len(value) > max_items:
            raise FieldInvalid(wire, f"a tuple of at most {max_items}")
        if not all(isinstance(item, kind) for item in value):
            raise FieldInvalid(wire, f"items must be {kind.__name__}")

    return validate


def _bilingual_fits(wire: str, max_length: int) -> _Validator:
    def validate(instance: object, attribute: object, value: object) -> None:
        if value is None:
            return
        if not isinstance(value, Bilingual):
            raise FieldInvalid(wire, "must be Bilingual")
        check_text(value.english, f"{wire}.english", max_length=max_length)
        check_text(value.indonesia, f"{wire}.indonesia", max_length=max_length)

    return validate


def _free_texts(instance: object, attribute: object, value: object) -> None:
    _many("freeTexts", Bilingual, FREE_TEXTS_MAX)(instance, attribute, value)
    assert isinstance(value, tuple)
    for index, text in enumerate(value):
        _bilingual_fits(f"freeTexts[{index}]", FREE_TEXT_MAX)(instance, attribute, text)


_partner_service_id = _text("partnerServiceId", PARTNER_SERVICE_ID_LENGTH, _PARTNER_SERVICE_ID)
_customer_no = _text("customerNo", CUSTOMER_NO_MAX, _DIGITS)


# -- identifiers and amounts ----------------------------------------------------------------


def partner_service_id(company_code: str) -> str:
    """The company code left-padded with spaces to 8 characters: ``"   12345"``.

    Raises :class:`ValueError` unless the code is 1–8 digits (it is configuration).
    """
    if not isinstance(company_code, str) or not _COMPANY_CODE.fullmatch(company_code):
        raise ValueError("a SNAP company code is 1-8 digits")
    return company_code.rjust(PARTNER_SERVICE_ID_LENGTH)


def virtual_account_no(partner_service_id: str, customer_no: str) -> str:
    """``partnerServiceId + customerNo``, both checked (:class:`ValueError` otherwise)."""
    check_text(
        partner_service_id,
        "partnerServiceId",
        max_length=PARTNER_SERVICE_ID_LENGTH,
        pattern=_PARTNER_SERVICE_ID,
    )
    check_text(customer_no, "customerNo", max_length=CUSTOMER_NO_MAX, pattern=_DIGITS)
    return partner_service_id + customer_no


def encode_amount(rupiah: int) -> dict[str, str]:
    """``36800`` → ``{"value": "36800.00", "currency": "IDR"}``."""
    _check_amount(None, None, rupiah)
    return {"value": f"{rupiah}.00", "currency": "IDR"}


_check_amount = _money("amount")


def _read_amount(reader: Reader) -> int:
    text = reader.text("value", max_length=19)
    match = _AMOUNT.fullmatch(text)
    if match is None or match[2] != "00":  # sen do not exist in BPU contributions
        reader.invalid("value")
    if reader.text("currency", max_length=3) != "IDR":
        reader.invalid("currency")
    return int(match[1])


def decode_amount(value: object, field: str = "amount") -> int:
    """A SNAP amount object as whole rupiah.

    Refuses (:class:`SnapFieldError`, case 01; 02 for a missing part) anything but a string
    with exactly two decimals that are ``00``, in ``IDR``, without sign or leading zeros.
    """
    if not isinstance(value, dict):
        raise SnapFieldError("01", field)
    return _read_amount(Reader(value, field))


def _fast_amount(value: object) -> int | None:
    # Just the amounts _read_amount accepts (a 19-character-at-most ASCII "N.00" in "IDR"), read
    # without building a child Reader; anything else is None and goes the long way for its error.
    if type(value) is dict:
        text = value.get("value")
        currency = value.get("currency")
        if type(text) is str and type(currency) is str and currency == "IDR":
            match = _AMOUNT.fullmatch(text)
            if match is not None and match[2] == "00":
                return int(match[1])
    return None


def _amount(reader: Reader, key: str) -> int:
    rupiah = _fast_amount(reader.get(key))
    return _read_amount(reader.child(key)) if rupiah is None else rupiah


def _opt_amount(reader: Reader, key: str) -> int | None:
    value = reader.get(key)
    if value is None or value == "":
        return None
    rupiah = _fast_amount(value)
    return _read_amount(reader.child(key)) if rupiah is None else rupiah


def _opt_time(reader: Reader, key: str) -> dt.datetime | None:
    text = reader.opt_text(key, max_length=40)
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except MalformedMessage:
        reader.invalid(key)


def _opt_enum(reader: Reader | None, key: str, kind: type[_E]) -> _E | None:
    if reader is None:
        return None
    text = reader.opt_text(key, max_length=32)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        reader.invalid(key)


def _opt_channel_code(reader: Reader) -> int | None:
    # ISO 18245 merchant category code, numeric(4). The standard's examples send a JSON number;
    # a four-digit string is accepted too (and re-encoded as a number).
    if not reader.present("channelCode"):
        return None
    value = reader.value("channelCode")
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}", value, re.ASCII):
        return int(value)
    return reader.integer("channelCode", low=0, high=_CHANNEL_CODE_MAX)


def _period(reader: Reader, key: str) -> YearMonth:
    text = reader.text(key, max_length=BILL_NO_MAX, pattern=_PERIOD)
    try:
        return YearMonth.parse(text)
    except ValueError:  # month 13, year 0042 …
        reader.invalid(key)


def _build(reader: Reader, factory: Callable[..., _T], **values: object) -> _T:
    """Construct a wire type through its own constructor, validators included, from values
    the reader has read; a value a validator refuses is a case 01 naming the field's path."""
    try:
        return factory(**values)
    except FieldInvalid as error:
        reader.reraise(error)


#: One encoder for every body (``json.dumps`` with options would build a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode = _ENCODER.encode


def _dump(body: dict[str, object]) -> bytes:
    return _encode(body).encode("utf-8")


def _compact(fields: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in fields.items() if value is not None}


# -- shared parts ---------------------------------------------------------------------------


@attrs.frozen
class Bilingual:
    """SNAP's two-language text: ``{"english": …, "indonesia": …}`` (reasons, descriptions)."""

    english: str = attrs.field(validator=_text("english", VIRTUAL_ACCOUNT_NAME_MAX))
    indonesia: str = attrs.field(validator=_text("indonesia", VIRTUAL_ACCOUNT_NAME_MAX))

    def as_json(self) -> dict[str, str]:
        return {"english": self.english, "indonesia": self.indonesia}


def _read_bilingual(reader: Reader, max_length: int) -> Bilingual:
    return _build(
        reader,
        Bilingual,
        english=reader.text("english", max_length=max_length),
        indonesia=reader.text("indonesia", max_length=max_length),
    )


def _opt_bilingual(reader: Reader, key: str, max_length: int) -> Bilingual | None:
    child = reader.opt_child(key)
    return None if child is None else _read_bilingual(child, max_length)


def _free_texts_of(reader: Reader) -> tuple[Bilingual, ...]:
    children = reader.children("freeTexts", max_items=FREE_TEXTS_MAX)
    return tuple(_read_bilingual(child, FREE_TEXT_MAX) for child in children)


def _va_ids(reader: Reader, *, consistent: bool) -> tuple[str, str]:
    """partnerServiceId and customerNo; in a request virtualAccountNo must be their sum."""
    service_id = reader.text(
        "partnerServiceId", max_length=PARTNER_SERVICE_ID_LENGTH, pattern=_PARTNER_SERVICE_ID
    )
    customer = reader.text("customerNo", max_length=CUSTOMER_NO_MAX, pattern=_DIGITS)
    account = reader.text(
        "virtualAccountNo", max_length=VIRTUAL_ACCOUNT_NO_MAX, pattern=_VIRTUAL_ACCOUNT_NO
    )
    if consistent and account != service_id + customer:
        reader.invalid("virtualAccountNo")
    return service_id, customer


def _va_json(partner_service: str, customer_no: str) -> dict[str, object]:
    return {
        "partnerServiceId": partner_service,
        "customerNo": customer_no,
        "virtualAccountNo": partner_service + customer_no,
    }


def _status_line(reader: Reader) -> tuple[ResponseCode, str]:
    code = ResponseCode.parse(reader.value("responseCode"))
    return code, reader.text("responseMessage", max_length=RESPONSE_MESSAGE_MAX)


def _response_data(reader: Reader, code: ResponseCode, read: Callable[[Reader], _T]) -> _T | None:
    """``virtualAccountData``: mandatory and strict after 200 00; after any other code it is
    read if it is well formed and dropped if not, so a sloppy data block on a failure answer
    never hides the failure's code."""
    key = "virtualAccountData"
    if code.successful:
        return read(reader.child(key))
    if not reader.present(key):
        return None
    try:
        return read(reader.child(key))
    except SnapFieldError:
        return None


def _response_json(code: ResponseCode, message: str, data: dict[str, object] | None) -> bytes:
    body: dict[str, object] = {"responseCode": code.format(), "responseMessage": message}
    if data is not None:
        body["virtualAccountData"] = data
    return _dump(body)


def _encode_answer(response: Any, data_json: Callable[[Any], dict[str, object]]) -> bytes:
    """Server side: ``responseCode``, ``responseMessage`` and ``virtualAccountData`` if any."""
    data = response.virtual_account
    return _response_json(
        response.response_code,
        response.response_message,
        None if data is None else data_json(data),
    )


def _decode_answer(body: bytes, factory: Callable[..., _T], read: Callable[[Reader], Any]) -> _T:
    """Client side: the status line, then ``virtualAccountData`` read by ``read`` when the
    answer must (or may) carry it."""
    reader = Reader.load(body)
    code, message = _status_line(reader)
    return _build(
        reader,
        factory,
        response_code=code,
        response_message=message,
        virtual_account=_response_data(reader, code, read),
    )


def _check_response_line(instance: Any, attribute: Any, value: Any) -> None:
    check_text(value, "responseMessage", max_length=RESPONSE_MESSAGE_MAX)


# -- bills ----------------------------------------------------------------------------------


@attrs.frozen
class SnapBill:
    """One month owed in an inquiry answer: ``billNo`` is the month, ``billAmount`` its price."""

    period: YearMonth = attrs.field(validator=_instance("billNo", YearMonth))
    amount: int = attrs.field(validator=_money("billAmount"))
    name: str | None = attrs.field(default=None, validator=_opt_text("billName", BILL_NAME_MAX))
    description: Bilingual | None = attrs.field(
        default=None, validator=_bilingual_fits("billDescription", BILL_DESCRIPTION_MAX)
    )
    #: the regulation that discounted this month (``"PP 50/2025"``), in additionalInfo
    discount: str | None = attrs.field(
        default=None, validator=_opt_text("additionalInfo.discount", DISCOUNT_MAX)
    )


def _bill_json(bill: SnapBill, index: int) -> dict[str, object]:
    body: dict[str, object] = {"billCode": f"{index + 1:02d}", "billNo": str(bill.period)}
    if bill.name is not None:
        body["billName"] = bill.name
    if bill.description is not None:
        body["billDescription"] = bill.description.as_json()
    body["billAmount"] = encode_amount(bill.amount)
    if bill.discount is not None:
        body["additionalInfo"] = {"discount": bill.discount}
    return body


def _read_bill(reader: Reader) -> SnapBill:
    reader.opt_text("billCode", max_length=2, pattern=_TWO_DIGITS)
    info = reader.opt_child("additionalInfo")
    return _build(
        reader,
        SnapBill,
        period=_period(reader, "billNo"),
        amount=_amount(reader, "billAmount"),
        name=reader.opt_text("billName", max_length=BILL_NAME_MAX),
        description=_opt_bilingual(reader, "billDescription", BILL_DESCRIPTION_MAX),
        discount=None if info is None else info.opt_text("discount", max_length=DISCOUNT_MAX),
    )


@attrs.frozen
class SnapPaidBill:
    """One month in a payment or status answer, with the biller's reference for it."""

    period: YearMonth = attrs.field(validator=_instance("billNo", YearMonth))
    amount: int = attrs.field(validator=_money("billAmount"))
    biller_reference_id: str | None = attrs.field(
        default=None, validator=_opt_text("billerReferenceId", BILLER_REFERENCE_MAX)
    )
    status: str | None = attrs.field(default=None, validator=_opt_text("status", 2, _TWO_DIGITS))
    reason: Bilingual | None = attrs.field(
        default=None, validator=_bilingual_fits("reason", REASON_MAX)
    )


def _paid_bill_json(bill: SnapPaidBill, index: int) -> dict[str, object]:
    body: dict[str, object] = {
        "billCode": f"{index + 1:02d}",
        "billNo": str(bill.period),
        "billAmount": encode_amount(bill.amount),
    }
    if bill.biller_reference_id is not None:
        body["billerReferenceId"] = bill.biller_reference_id
    if bill.status is not None:
        body["status"] = bill.status
    if bill.reason is not None:
        body["reason"] = bill.reason.as_json()
    return body


def _read_paid_bill(reader: Reader) -> SnapPaidBill:
    reader.opt_text("billCode", max_length=2, pattern=_TWO_DIGITS)
    return _build(
        reader,
        SnapPaidBill,
        period=_period(reader, "billNo"),
        amount=_amount(reader, "billAmount"),
        biller_reference_id=reader.opt_text("billerReferenceId", max_length=BILLER_REFERENCE_MAX),
        status=reader.opt_text("status", max_length=2, pattern=_TWO_DIGITS),
        reason=_opt_bilingual(reader, "reason", REASON_MAX),
    )


def _paid_bills_of(reader: Reader) -> tuple[SnapPaidBill, ...]:
    children = reader.children("billDetails", max_items=BILLS_MAX)
    return tuple(_read_paid_bill(child) for child in children)


def _programs(reader: Reader | None) -> tuple[Program, ...]:
    if reader is None:
        return ()
    found = []
    for path, value in reader.items("programs", max_items=len(Program)):
        if not isinstance(value, str) or value not in Program._value2member_map_:
            raise SnapFieldError("01", path)
        found.append(Program(value))
    return tuple(found)


# -- inquiry (service 24) -------------------------------------------------------------------


@attrs.frozen
class SnapInquiryRequest:
    """``POST /v1.0/transfer-va/inquiry``: who is paying, for how many months.

    ``customer_no`` is the NIK (16 digits) or KPJ number; ``inquiry_request_id`` is ours
    (≤128), echoed by the biller and sent again as the payment's ``paymentRequestId``.
    ``months``, ``agent_id`` and the payer (``payer_kind``, ``payer_scheme``: the payer's budget
    can change the price) are project fields in ``additionalInfo``.
    """

    partner_service_id: str = attrs.field(validator=_partner_service_id)
    customer_no: str = attrs.field(validator=_customer_no, repr=redact.customer)
    inquiry_request_id: str = attrs.field(validator=_text("inquiryRequestId", REQUEST_ID_MAX))
    trx_date_init: dt.datetime | None = attrs.field(default=None, validator=_aware("trxDateInit"))
    channel_code: int | None = attrs.field(
        default=None, validator=_opt_int("channelCode", 0, _CHANNEL_CODE_MAX)
    )
    language: str | None = attrs.field(default=None, validator=_opt_text("language", 2, _LANGUAGE))
    amount: int | None = attrs.field(default=None, validator=_money("amount", optional=True))
    months: int | None = attrs.field(
        default=None, validator=_opt_int("additionalInfo.months", 1, MONTHS_MAX)
    )
    agent_id: str | None = attrs.field(
        default=None, validator=_opt_text("additionalInfo.agentId", AGENT_ID_MAX)
    )
    payer_kind: PayerKind | None = attrs.field(
        default=None, validator=_instance("additionalInfo.payerKind", PayerKind, optional=True)
    )
    payer_scheme: str | None = attrs.field(
        default=None, validator=_opt_text("additionalInfo.payerScheme", PAYER_SCHEME_MAX)
    )

    @property
    def virtual_account_no(self) -> str:
        return self.partner_service_id + self.customer_no


def encode_inquiry_request(request: SnapInquiryRequest) -> bytes:
    """Client side: the inquiry body to sign and send."""
    body = _va_json(request.partner_service_id, request.customer_no)
    body["inquiryRequestId"] = request.inquiry_request_id
    if request.trx_date_init is not None:
        body["trxDateInit"] = format_timestamp(request.trx_date_init)
    if request.channel_code is not None:
        body["channelCode"] = request.channel_code
    if request.language is not None:
        body["language"] = request.language
    if request.amount is not None:
        body["amount"] = encode_amount(request.amount)
    body["additionalInfo"] = _compact(
        {
            "months": request.months,
            "agentId": request.agent_id,
            "payerKind": request.payer_kind.value if request.payer_kind else None,
            "payerScheme": request.payer_scheme,
        }
    )
    return _dump(body)


def decode_inquiry_request(body: bytes) -> SnapInquiryRequest:
    """Server side: a received inquiry (``virtualAccountNo`` must equal service id + customer)."""
    reader = Reader.load(body)
    service_id, customer = _va_ids(reader, consistent=True)
    info = reader.opt_child("additionalInfo")
    return _build(
        reader,
        SnapInquiryRequest,
        partner_service_id=service_id,
        customer_no=customer,
        inquiry_request_id=reader.text("inquiryRequestId", max_length=REQUEST_ID_MAX),
        trx_date_init=_opt_time(reader, "trxDateInit"),
        channel_code=_opt_channel_code(reader),
        language=reader.opt_text("language", max_length=2, pattern=_LANGUAGE),
        amount=_opt_amount(reader, "amount"),
        months=None if info is None else info.opt_integer("months", low=1, high=MONTHS_MAX),
        agent_id=None if info is None else info.opt_text("agentId", max_length=AGENT_ID_MAX),
        payer_kind=_opt_enum(info, "payerKind", PayerKind),
        payer_scheme=None
        if info is None
        else info.opt_text("payerScheme", max_length=PAYER_SCHEME_MAX),
    )


@attrs.frozen
class SnapInquiryData:
    """``virtualAccountData`` of an inquiry answer.

    ``inquiry_status`` ``"00"`` is ok, ``"01"`` failed (with ``inquiry_reason``). ``bill_details``
    are the months a payment would cover, oldest first; ``total_amount`` their sum. ``kpj``,
    ``programs`` and ``coverage_state`` are project fields in ``additionalInfo``.
    """

    partner_service_id: str = attrs.field(validator=_partner_service_id)
    customer_no: str = attrs.field(validator=_customer_no, repr=redact.customer)
    virtual_account_name: str = attrs.field(
        validator=_text("virtualAccountName", VIRTUAL_ACCOUNT_NAME_MAX), repr=redact.name
    )
    inquiry_request_id: str = attrs.field(validator=_text("inquiryRequestId", REQUEST_ID_MAX))
    total_amount: int | None = attrs.field(
        default=None, validator=_money("totalAmount", optional=True)
    )
    inquiry_status: str | None = attrs.field(
        default=None, validator=_opt_text("inquiryStatus", 2, _TWO_DIGITS)
    )
    inquiry_reason: Bilingual | None = attrs.field(
        default=None, validator=_bilingual_fits("inquiryReason", REASON_MAX)
    )
    bill_details: tuple[SnapBill, ...] = attrs.field(
        default=(), converter=tuple, validator=_many("billDetails", SnapBill, BILLS_MAX)
    )
    free_texts: tuple[Bilingual, ...] = attrs.field(
        default=(), converter=tuple, validator=_free_texts
    )
    virtual_account_trx_type: str | None = attrs.field(
        default=None, validator=_opt_text("virtualAccountTrxType", 1, _TRX_TYPE)
    )
    fee_amount: int | None = attrs.field(default=None, validator=_money("feeAmount", optional=True))
    kpj: str | None = attrs.field(
        default=None,
        validator=_opt_text("additionalInfo.kpj", CUSTOMER_NO_MAX, _DIGITS),
        repr=redact.optional(redact.kpj),
    )
    programs: tuple[Program, ...] = attrs.field(
        default=(),
        converter=tuple,
        validator=_many("additionalInfo.programs", Program, len(Program)),
    )
    coverage_state: CoverageState | None = attrs.field(
        default=None,
        validator=_instance("additionalInfo.coverageState", CoverageState, optional=True),
    )

    @property
    def virtual_account_no(self) -> str:
        return self.partner_service_id + self.customer_no


@attrs.frozen
class SnapInquiryResponse:
    """An inquiry answer: the code, and ``virtual_account`` (always there after 200 00)."""

    response_code: ResponseCode = attrs.field(validator=_instance("responseCode", ResponseCode))
    response_message: str = attrs.field(validator=_check_response_line)
    virtual_account: SnapInquiryData | None = attrs.field(
        default=None, validator=_instance("virtualAccountData", SnapInquiryData, optional=True)
    )


def _inquiry_data_json(data: SnapInquiryData) -> dict[str, object]:
    body = _va_json(data.partner_service_id, data.customer_no)
    body["virtualAccountName"] = data.virtual_account_name
    body["inquiryRequestId"] = data.inquiry_request_id
    if data.inquiry_status is not None:
        body["inquiryStatus"] = data.inquiry_status
    if data.inquiry_reason is not None:
        body["inquiryReason"] = data.inquiry_reason.as_json()
    if data.total_amount is not None:
        body["totalAmount"] = encode_amount(data.total_amount)
    if data.fee_amount is not None:
        body["feeAmount"] = encode_amount(data.fee_amount)
    body["billDetails"] = [_bill_json(bill, i) for i, bill in enumerate(data.bill_details)]
    if data.free_texts:
        body["freeTexts"] = [text.as_json() for text in data.free_texts]
    if data.virtual_account_trx_type is not None:
        body["virtualAccountTrxType"] = data.virtual_account_trx_type
    info: dict[str, object] = _compact({"kpj": data.kpj})
    if data.programs:
        info["programs"] = [program.value for program in data.programs]
    if data.coverage_state is not None:
        info["coverageState"] = data.coverage_state.value
    body["additionalInfo"] = info
    return body


def _read_inquiry_data(reader: Reader) -> SnapInquiryData:
    service_id, customer = _va_ids(reader, consistent=False)
    info = reader.opt_child("additionalInfo")
    bills = reader.children("billDetails", max_items=BILLS_MAX)
    return _build(
        reader,
        SnapInquiryData,
        partner_service_id=service_id,
        customer_no=customer,
        virtual_account_name=reader.text("virtualAccountName", max_length=VIRTUAL_ACCOUNT_NAME_MAX),
        inquiry_request_id=reader.text("inquiryRequestId", max_length=REQUEST_ID_MAX),
        total_amount=_opt_amount(reader, "totalAmount"),
        inquiry_status=reader.opt_text("inquiryStatus", max_length=2, pattern=_TWO_DIGITS),
        inquiry_reason=_opt_bilingual(reader, "inquiryReason", REASON_MAX),
        bill_details=tuple(_read_bill(bill) for bill in bills),
        free_texts=_free_texts_of(reader),
        virtual_account_trx_type=reader.opt_text(
            "virtualAccountTrxType", max_length=1, pattern=_TRX_TYPE
        ),
        fee_amount=_opt_amount(reader, "feeAmount"),
        kpj=None
        if info is None
        else info.opt_text("kpj", max_length=CUSTOMER_NO_MAX, pattern=_DIGITS),
        programs=_programs(info),
        coverage_state=_opt_enum(info, "coverageState", CoverageState),
    )


def encode_inquiry_response(response: SnapInquiryResponse) -> bytes:
    """Server side: the inquiry answer."""
    return _encode_answer(response, _inquiry_data_json)


def decode_inquiry_response(body: bytes) -> SnapInquiryResponse:
    """Client side: an inquiry answer (map its code with ``codes.error_for``)."""
    return _decode_answer(body, SnapInquiryResponse, _read_inquiry_data)


# -- payment (service 25) -------------------------------------------------------------------


@attrs.frozen
class SnapPaymentRequest:
    """``POST /v1.0/transfer-va/payment``.

    ``payment_request_id`` equals the inquiry's ``inquiryRequestId`` when the payment follows an
    inquiry; ``reference_no`` is our channel reference (the journal's idempotency key);
    ``flag_advise`` is ``True`` ("Y") when this re-notifies an earlier attempt. ``paid_amount``
    is the contribution (the channel's admin fee is the channel's, not the biller's). Payer,
    months and agent are project fields in ``additionalInfo``.
    """

    partner_service_id: str = attrs.field(validator=_partner_service_id)
    customer_no: str = attrs.field(validator=_customer_no, repr=redact.customer)
    payment_request_id: str = attrs.field(validator=_text("paymentRequestId", REQUEST_ID_MAX))
    paid_amount: int = attrs.field(validator=_money("paidAmount"))
    total_amount: int | None = attrs.field(
        default=None, validator=_money("totalAmount", optional=True)
    )
    trx_date_time: dt.datetime | None = attrs.field(default=None, validator=_aware("trxDateTime"))
    reference_no: str | None = attrs.field(
        default=None, validator=_opt_text("referenceNo", REFERENCE_NO_MAX)
    )
    flag_advise: bool = attrs.field(default=False, validator=_instance("flagAdvise", bool))
    channel_code: int | None = attrs.field(
        default=None, validator=_opt_int("channelCode", 0, _CHANNEL_CODE_MAX)
    )
    months: int | None = attrs.field(
        default=None, validator=_opt_int("additionalInfo.months", 1, MONTHS_MAX)
    )
    payer_kind: PayerKind | None = attrs.field(
        default=None, validator=_instance("additionalInfo.payerKind", PayerKind, optional=True)
    )
    payer_scheme: str | None = attrs.field(
        default=None, validator=_opt_text("additionalInfo.payerScheme", PAYER_SCHEME_MAX)
    )
    payer_name: str | None = attrs.field(
        default=None,
        validator=_opt_text("additionalInfo.payerName", PAYER_NAME_MAX),
        repr=redact.optional(redact.name),
    )
    agent_id: str | None = attrs.field(
        default=None, validator=_opt_text("additionalInfo.agentId", AGENT_ID_MAX)
    )

    @property
    def virtual_account_no(self) -> str:
        return self.partner_service_id + self.customer_no


def encode_payment_request(request: SnapPaymentRequest) -> bytes:
    """Client side: the payment body to sign and send (``flagAdvise`` always explicit)."""
    body = _va_json(request.partner_service_id, request.customer_no)
    body["paymentRequestId"] = request.payment_request_id
    if request.channel_code is not None:
        body["channelCode"] = request.channel_code
    body["paidAmount"] = encode_amount(request.paid_amount)
    if request.total_amount is not None:
        body["totalAmount"] = encode_amount(request.total_amount)
    if request.trx_date_time is not None:
        body["trxDateTime"] = format_timestamp(request.trx_date_time)
    if request.reference_no is not None:
        body["referenceNo"] = request.reference_no
    body["flagAdvise"] = "Y" if request.flag_advise else "N"
    body["additionalInfo"] = _compact(
        {
            "months": request.months,
            "payerKind": None if request.payer_kind is None else request.payer_kind.value,
            "payerScheme": request.payer_scheme,
            "payerName": request.payer_name,
            "agentId": request.agent_id,
        }
    )
    return _dump(body)


def decode_payment_request(body: bytes) -> SnapPaymentRequest:
    """Server side: a received payment (absent ``flagAdvise`` reads as ``N``)."""
    reader = Reader.load(body)
    service_id, customer = _va_ids(reader, consistent=True)
    info = reader.opt_child("additionalInfo")
    flag = reader.opt_text("flagAdvise", max_length=1, pattern=_YES_NO)
    return _build(
        reader,
        SnapPaymentRequest,
        partner_service_id=service_id,
        customer_no=customer,
        payment_request_id=reader.text("paymentRequestId", max_length=REQUEST_ID_MAX),
        paid_amount=_amount(reader, "paidAmount"),
        total_amount=_opt_amount(reader, "totalAmount"),
        trx_date_time=_opt_time(reader, "trxDateTime"),
        reference_no=reader.opt_text("referenceNo", max_length=REFERENCE_NO_MAX),
        flag_advise=flag == "Y",
        channel_code=_opt_channel_code(reader),
        months=None if info is None else info.opt_integer("months", low=1, high=MONTHS_MAX),
        payer_kind=_opt_enum(info, "payerKind", PayerKind),
        payer_scheme=None
        if info is None
        else info.opt_text("payerScheme", max_length=PAYER_SCHEME_MAX),
        payer_name=None if info is None else info.opt_text("payerName", max_length=PAYER_NAME_MAX),
        agent_id=None if info is None else info.opt_text("agentId", max_length=AGENT_ID_MAX),
    )


@attrs.frozen
class SnapPaymentData:
    """``virtualAccountData`` of a payment answer.

    ``payment_flag_status`` is the payment's final word: ``"00"`` applied, ``"01"`` rejected
    (``payment_flag_reason`` says why), ``"02"`` timed out at the biller.
    """

    partner_service_id: str = attrs.field(validator=_partner_service_id)
    customer_no: str = attrs.field(validator=_customer_no, repr=redact.customer)
    payment_request_id: str = attrs.field(validator=_text("paymentRequestId", REQUEST_ID_MAX))
    paid_amount: int = attrs.field(validator=_money("paidAmount"))
    payment_flag_status: str = attrs.field(validator=_text("paymentFlagStatus", 2, _TWO_DIGITS))
    payment_flag_reason: Bilingual | None = attrs.field(
        default=None, validator=_bilingual_fits("paymentFlagReason", REASON_MAX)
    )
    virtual_account_name: str | None = attrs.field(
        default=None,
        validator=_opt_text("virtualAccountName", VIRTUAL_ACCOUNT_NAME_MAX),
        repr=redact.optional(redact.name),
    )
    total_amount: int | None = attrs.field(
        default=None, validator=_money("totalAmount", optional=True)
    )
    trx_date_time: dt.datetime | None = attrs.field(default=None, validator=_aware("trxDateTime"))
    reference_no: str | None = attrs.field(
        default=None, validator=_opt_text("referenceNo", REFERENCE_NO_MAX)
    )
    bill_details: tuple[SnapPaidBill, ...] = attrs.field(
        default=(), converter=tuple, validator=_many("billDetails", SnapPaidBill, BILLS_MAX)
    )
    free_texts: tuple[Bilingual, ...] = attrs.field(
        default=(), converter=tuple, validator=_free_texts
    )

    @property
    def virtual_account_no(self) -> str:
        return self.partner_service_id + self.customer_no


@attrs.frozen
class SnapPaymentResponse:
    """A payment answer: the code, and ``virtual_account`` (always there after 200 00)."""

    response_code: ResponseCode = attrs.field(validator=_instance("responseCode", ResponseCode))
    response_message: str = attrs.field(validator=_check_response_line)
    virtual_account: SnapPaymentData | None = attrs.field(
        default=None, validator=_instance("virtualAccountData", SnapPaymentData, optional=True)
    )


def _payment_data_json(data: SnapPaymentData) -> dict[str, object]:
    body = _va_json(data.partner_service_id, data.customer_no)
    if data.virtual_account_name is not None:
        body["virtualAccountName"] = data.virtual_account_name
    body["paymentRequestId"] = data.payment_request_id
    body["paidAmount"] = encode_amount(data.paid_amount)
    if data.total_amount is not None:
        body["totalAmount"] = encode_amount(data.total_amount)
    if data.trx_date_time is not None:
        body["trxDateTime"] = format_timestamp(data.trx_date_time)
    if data.reference_no is not None:
        body["referenceNo"] = data.reference_no
    body["paymentFlagStatus"] = data.payment_flag_status
    if data.payment_flag_reason is not None:
        body["paymentFlagReason"] = data.payment_flag_reason.as_json()
    body["billDetails"] = [_paid_bill_json(bill, i) for i, bill in enumerate(data.bill_details)]
    if data.free_texts:
        body["freeTexts"] = [text.as_json() for text in data.free_texts]
    return body


def _read_payment_data(reader: Reader) -> SnapPaymentData:
    service_id, customer = _va_ids(reader, consistent=False)
    return _build(
        reader,
        SnapPaymentData,
        partner_service_id=service_id,
        customer_no=customer,
        payment_request_id=reader.text("paymentRequestId", max_length=REQUEST_ID_MAX),
        paid_amount=_amount(reader, "paidAmount"),
        payment_flag_status=reader.text("paymentFlagStatus", max_length=2, pattern=_TWO_DIGITS),
        payment_flag_reason=_opt_bilingual(reader, "paymentFlagReason", REASON_MAX),
        virtual_account_name=reader.opt_text(
            "virtualAccountName", max_length=VIRTUAL_ACCOUNT_NAME_MAX
        ),
        total_amount=_opt_amount(reader, "totalAmount"),
        trx_date_time=_opt_time(reader, "trxDateTime"),
        reference_no=reader.opt_text("referenceNo", max_length=REFERENCE_NO_MAX),
        bill_details=_paid_bills_of(reader),
        free_texts=_free_texts_of(reader),
    )


def encode_payment_response(response: SnapPaymentResponse) -> bytes:
    """Server side: the payment answer."""
    return _encode_answer(response, _payment_data_json)


def decode_payment_response(body: bytes) -> SnapPaymentResponse:
    """Client side: a payment answer; the result is ``paymentFlagStatus``, not the code alone."""
    return _decode_answer(body, SnapPaymentResponse, _read_payment_data)


# -- status (service 26) --------------------------------------------------------------------


def _one_id_given(instance: SnapStatusRequest) -> None:
    if instance.inquiry_request_id is None and instance.payment_request_id is None:
        raise FieldInvalid("paymentRequestId", "inquiryRequestId or paymentRequestId is needed")


@attrs.frozen
class SnapStatusRequest:
    """``POST /v1.0/transfer-va/status``: the payment asked about by ``inquiryRequestId`` or
    ``paymentRequestId`` (at least one). ``reference_no`` (our channel reference) and
    ``agent_id`` are project fields in ``additionalInfo``."""

    partner_service_id: str = attrs.field(validator=_partner_service_id)
    customer_no: str = attrs.field(validator=_customer_no, repr=redact.customer)
    inquiry_request_id: str | None = attrs.field(
        default=None, validator=_opt_text("inquiryRequestId", REQUEST_ID_MAX)
    )
    payment_request_id: str | None = attrs.field(
        default=None, validator=_opt_text("paymentRequestId", REQUEST_ID_MAX)
    )
    reference_no: str | None = attrs.field(
        default=None, validator=_opt_text("additionalInfo.referenceNo", REFERENCE_NO_MAX)
    )
    agent_id: str | None = attrs.field(
        default=None, validator=_opt_text("additionalInfo.agentId", AGENT_ID_MAX)
    )

    def __attrs_post_init__(self) -> None:
        _one_id_given(self)

    @property
    def virtual_account_no(self) -> str:
        return self.partner_service_id + self.customer_no


def encode_status_request(request: SnapStatusRequest) -> bytes:
    """Client side: the status-inquiry body to sign and send."""
    body = _va_json(request.partner_service_id, request.customer_no)
    if request.inquiry_request_id is not None:
        body["inquiryRequestId"] = request.inquiry_request_id
    if request.payment_request_id is not None:
        body["paymentRequestId"] = request.payment_request_id
    body["additionalInfo"] = _compact(
        {"referenceNo": request.reference_no, "agentId": request.agent_id}
    )
    return _dump(body)


def decode_status_request(body: bytes) -> SnapStatusRequest:
    """Server side: a received status inquiry (one of the two ids is mandatory)."""
    reader = Reader.load(body)
    service_id, customer = _va_ids(reader, consistent=True)
    info = reader.opt_child("additionalInfo")
    inquiry_id = reader.opt_text("inquiryRequestId", max_length=REQUEST_ID_MAX)
    payment_id = reader.opt_text("paymentRequestId", max_length=REQUEST_ID_MAX)
    if inquiry_id is None and payment_id is None:
        reader.missing("paymentRequestId")
    return _build(
        reader,
        SnapStatusRequest,
        partner_service_id=service_id,
        customer_no=customer,
        inquiry_request_id=inquiry_id,
        payment_request_id=payment_id,
        reference_no=None
        if info is None
        else info.opt_text("referenceNo", max_length=REFERENCE_NO_MAX),
        agent_id=None if info is None else info.opt_text("agentId", max_length=AGENT_ID_MAX),
    )


@attrs.frozen
class SnapStatusData:
    """``virtualAccountData`` of a status answer: the payment's ``payment_flag_status`` as in a
    payment answer, plus ``transaction_date`` (when the biller applied it)."""

    partner_service_id: str = attrs.field(validator=_partner_service_id)
    customer_no: str = attrs.field(validator=_customer_no, repr=redact.customer)
    payment_flag_status: str = attrs.field(validator=_text("paymentFlagStatus", 2, _TWO_DIGITS))
    payment_flag_reason: Bilingual | None = attrs.field(
        default=None, validator=_bilingual_fits("paymentFlagReason", REASON_MAX)
    )
    inquiry_request_id: str | None = attrs.field(
        default=None, validator=_opt_text("inquiryRequestId", REQUEST_ID_MAX)
    )
    payment_request_id: str | None = attrs.field(
        default=None, validator=_opt_text("paymentRequestId", REQUEST_ID_MAX)
    )
    paid_amount: int | None = attrs.field(
        default=None, validator=_money("paidAmount", optional=True)
    )
    total_amount: int | None = attrs.field(
        default=None, validator=_money("totalAmount", optional=True)
    )
    transaction_date: dt.datetime | None = attrs.field(
        default=None, validator=_aware("transactionDate")
    )
    reference_no: str | None = attrs.field(
        default=None, validator=_opt_text("referenceNo", REFERENCE_NO_MAX)
    )
    bill_details: tuple[SnapPaidBill, ...] = attrs.field(
        default=(), converter=tuple, validator=_many("billDetails", SnapPaidBill, BILLS_MAX)
    )

    @property
    def virtual_account_no(self) -> str:
        return self.partner_service_id + self.customer_no


@attrs.frozen
class SnapStatusResponse:
    """A status answer. 404 01 (transaction not found) comes without ``virtual_account``."""

    response_code: ResponseCode = attrs.field(validator=_instance("responseCode", ResponseCode))
    response_message: str = attrs.field(validator=_check_response_line)
    virtual_account: SnapStatusData | None = attrs.field(
        default=None, validator=_instance("virtualAccountData", SnapStatusData, optional=True)
    )


def _status_data_json(data: SnapStatusData) -> dict[str, object]:
    body = _va_json(data.partner_service_id, data.customer_no)
    if data.inquiry_request_id is not None:
        body["inquiryRequestId"] = data.inquiry_request_id
    if data.payment_request_id is not None:
        body["paymentRequestId"] = data.payment_request_id
    if data.paid_amount is not None:
        body["paidAmount"] = encode_amount(data.paid_amount)
    if data.total_amount is not None:
        body["totalAmount"] = encode_amount(data.total_amount)
    if data.transaction_date is not None:
        body["transactionDate"] = format_timestamp(data.transaction_date)
    if data.reference_no is not None:
        body["referenceNo"] = data.reference_no
    body["paymentFlagStatus"] = data.payment_flag_status
    if data.payment_flag_reason is not None:
        body["paymentFlagReason"] = data.payment_flag_reason.as_json()
    body["billDetails"] = [_paid_bill_json(bill, i) for i, bill in enumerate(data.bill_details)]
    return body


def _read_status_data(reader: Reader) -> SnapStatusData:
    service_id, customer = _va_ids(reader, consistent=False)
    return _build(
        reader,
        SnapStatusData,
        partner_service_id=service_id,
        customer_no=customer,
        payment_flag_status=reader.text("paymentFlagStatus", max_length=2, pattern=_TWO_DIGITS),
        payment_flag_reason=_opt_bilingual(reader, "paymentFlagReason", REASON_MAX),
        inquiry_request_id=reader.opt_text("inquiryRequestId", max_length=REQUEST_ID_MAX),
        payment_request_id=reader.opt_text("paymentRequestId", max_length=REQUEST_ID_MAX),
        paid_amount=_opt_amount(reader, "paidAmount"),
        total_amount=_opt_amount(reader, "totalAmount"),
        transaction_date=_opt_time(reader, "transactionDate"),
        reference_no=reader.opt_text("referenceNo", max_length=REFERENCE_NO_MAX),
        bill_details=_paid_bills_of(reader),
    )


def encode_status_response(response: SnapStatusResponse) -> bytes:
    """Server side: the status answer."""
    return _encode_answer(response, _status_data_json)


def decode_status_response(body: bytes) -> SnapStatusResponse:
    """Client side: a status answer (404 01 = the biller never saw the payment)."""
    return _decode_answer(body, SnapStatusResponse, _read_status_data)


# -- from the library's wire-neutral types ----------------------------------------------------


def inquiry_request_for(
    customer: CustomerId,
    months: int,
    *,
    partner_service_id: str,
    inquiry_request_id: str,
    at: dt.datetime,
    agent_id: str | None = None,
    channel_code: int | None = None,
    language: str | None = None,
    payer: Payer | None = None,
) -> SnapInquiryRequest:
    """The inquiry for ``customer`` (NIK or KPJ as ``customerNo``) and ``months`` months, priced
    for ``payer`` (omitted: the participant pays)."""
    return SnapInquiryRequest(
        partner_service_id=partner_service_id,
        customer_no=customer.value,
        inquiry_request_id=inquiry_request_id,
        trx_date_init=at,
        channel_code=channel_code,
        language=language,
        months=months,
        agent_id=agent_id,
        payer_kind=payer.kind if payer is not None else None,
        payer_scheme=payer.scheme if payer is not None else None,
    )


def payment_request_for(
    request: PaymentRequest, *, partner_service_id: str, channel_code: int | None = None
) -> SnapPaymentRequest:
    """The payment for a client :class:`~jamsostek_channels.channel.PaymentRequest`.

    ``paymentRequestId`` is the inquiry's id when there was one (SNAP ties the two), else our
    reference; ``referenceNo`` is always our reference; ``paidAmount`` and ``totalAmount`` are
    the contribution without the channel's admin fee; ``flagAdvise`` follows ``repeat``.
    """
    return SnapPaymentRequest(
        partner_service_id=partner_service_id,
        customer_no=request.customer.value,
        payment_request_id=request.inquiry_id or request.reference,
        paid_amount=request.amount,
        total_amount=request.amount,
        trx_date_time=request.requested_at,
        reference_no=request.reference,
        flag_advise=request.repeat,
        channel_code=channel_code,
        months=len(request.periods),
        payer_kind=request.payer.kind,
        payer_scheme=request.payer.scheme,
        payer_name=request.payer.name,
        agent_id=request.agent_id,
    )


def status_request_for(request: PaymentRequest, *, partner_service_id: str) -> SnapStatusRequest:
    """The status inquiry for a payment sent with :func:`payment_request_for`."""
    return SnapStatusRequest(
        partner_service_id=partner_service_id,
        customer_no=request.customer.value,
        inquiry_request_id=request.inquiry_id,
        payment_request_id=request.inquiry_id or request.reference,
        reference_no=request.reference,
        agent_id=request.agent_id,
    )
