"""The Kantor Pos SOAP messages as bytes, both ways, for both sides of the wire.

The client (the counter, through the library) encodes requests and decodes answers; the server
(the fake gateway, or a partner's test double) decodes requests and encodes answers, so
``decode_x(encode_x(message)) == message``.

Encoding builds the envelope with plain lxml (:mod:`.wire` refuses a value of the wrong Python
type, naming the element), checks the rules the XSD cannot say, and has libxml2 validate the
bytes against ``kantorpos-envelope-2.xsd`` (which carries either version) before they are
returned: a message the schema
refuses (a negative amount, a naive datetime, a text with a line break) raises
:class:`~jamsostek_channels.errors.MalformedMessage` naming the element, before a byte is sent.
A message is written in version 2's namespace when it holds what only version 2 carries (a
request's ``sentAt``, the payment a status answer names) or when told (``major=``: a server
answers in its request's version), else in version 1's; decoders read both.
libxml2 validates every message, in and out: at ~0.25 ms a message against a ~100 ms round trip,
one description of each message (its attrs type in :mod:`.types` and its XSD) is worth more
than any shortcut.

Decoding is total: whatever the bytes, a decoder returns its type or raises
:class:`~jamsostek_channels.errors.MalformedMessage` (from :mod:`.xmlsafe`, the envelope, the
schema, or a rule the schema cannot say: a total that is not the sum of its bills, an APPLIED
payment without its host reference). An answer decoder that finds a SOAP Fault raises the
library error its response code means (see :mod:`.codes`): :class:`~.errors.KantorPosDeclined`
(a ``HostDeclined``) or :class:`~.errors.KantorPosRefused` (a ``MalformedMessage``: the host
refused our message).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

from lxml import etree

from jamsostek_channels.adapters.kantorpos import soap, xmlsafe
from jamsostek_channels.adapters.kantorpos.codes import ResponseCodes
from jamsostek_channels.adapters.kantorpos.types import (
    OPERATION_ELEMENTS,
    PaymentStatus,
    PosBill,
    PosFault,
    PosInquiryRequest,
    PosInquiryResponse,
    PosMessage,
    PosParticipant,
    PosPayer,
    PosPaymentRequest,
    PosPaymentResponse,
    PosRegistrationChallenge,
    PosRegistrationConfirm,
    PosRegistrationRequest,
    PosRegistrationResult,
    PosRequest,
    PosReversalRequest,
    PosReversalResponse,
    PosStatusRequest,
    PosStatusResponse,
    ReversalStatus,
    TransactionStatus,
    element_name,
    lowest_major,
)
from jamsostek_channels.adapters.kantorpos.wire import (
    ENVELOPE_SCHEMA,
    MESSAGE_LIMITS,
    NAMESPACES,
    VERSIONS,
    Children,
    Limits,
    add_bool,
    add_date,
    add_enum,
    add_group,
    add_instant,
    add_int,
    add_items,
    add_month,
    add_text,
    child_tag,
    display_name,
    major_of,
    nsmap,
    qname,
    read_bool,
    read_date,
    read_enum,
    read_instant,
    read_int,
    read_month,
    read_text,
    unencodable,
    validated_bytes,
)
from jamsostek_channels.adapters.kantorpos.xmlsafe import malformed
from jamsostek_channels.channel import CustomerId, CustomerIdKind
from jamsostek_channels.errors import JamsostekError
from jamsostek_channels.model import CoverageState, PayerKind, Program, Sex
from jamsostek_channels.period import YearMonth

__all__ = [
    "decode_fault",
    "decode_inquiry_request",
    "decode_inquiry_response",
    "decode_payment_request",
    "decode_payment_response",
    "decode_registration_challenge",
    "decode_registration_confirm",
    "decode_registration_request",
    "decode_registration_result",
    "decode_request",
    "decode_reversal_request",
    "decode_reversal_response",
    "decode_status_request",
    "decode_status_response",
    "encode",
    "encode_fault",
    "encode_inquiry_request",
    "encode_inquiry_response",
    "encode_payment_request",
    "encode_payment_response",
    "encode_registration_challenge",
    "encode_registration_confirm",
    "encode_registration_request",
    "encode_registration_result",
    "encode_reversal_request",
    "encode_reversal_response",
    "encode_status_request",
    "encode_status_response",
]

_T = TypeVar("_T")


# -- rules the XSD cannot say (checked when encoding and when decoding) --------------------------


def _check_consistency(message: PosMessage) -> None:
    if isinstance(message, PosInquiryResponse):
        if message.total != sum(bill.amount for bill in message.bills):
            raise malformed("InquiryResponse total is not the sum of its bills", field="total")
    elif isinstance(message, PosPaymentResponse | PosStatusResponse):
        name = element_name(message)
        settled = {TransactionStatus.APPLIED, TransactionStatus.REVERSED}
        if message.status in settled and (
            message.host_reference is None or message.paid_at is None
        ):
            raise malformed(
                f"{name} with status {message.status.value} needs hostReference and paidAt",
                field="hostReference",
            )
        if message.status == PaymentStatus.APPLIED and not message.periods:
            raise malformed(f"{name} with status APPLIED needs periods", field="periods")


# -- building each message (children in the XSD's order) ---------------------------------------


def _add_counter(element: etree._Element, message: Any) -> None:
    add_text(element, "office", message.office)
    add_text(element, "teller", message.teller)


def _v2(element: etree._Element) -> bool:
    return major_of(element) == 2


def _add_sent_at(element: etree._Element, message: Any) -> None:
    """Version 2: every request ends with its send time (required: a missing one is refused
    by name before anything is sent)."""
    if _v2(element):
        add_instant(element, "sentAt", message.sent_at)


def _add_customer(parent: etree._Element, customer: object) -> None:
    element = add_group(parent, "customer", customer, CustomerId)
    customer = cast(CustomerId, customer)
    if customer.kind is CustomerIdKind.NIK:
        add_text(element, "nik", customer.value)
    elif customer.kind is CustomerIdKind.KPJ:
        add_text(element, "kpj", customer.value)
    else:
        raise unencodable(parent, "customer", "must be a CustomerId")


def _add_months(parent: etree._Element, name: str, periods: object, *, omit_empty: bool) -> None:
    months = add_items(parent, name, periods, YearMonth)
    if months or not omit_empty:  # an empty list is written for libxml2 to refuse
        holder = etree.SubElement(parent, child_tag(parent, name))
        for month in months:
            add_month(holder, "month", month)


def _add_programs(parent: etree._Element, programs: object) -> None:
    holder = etree.SubElement(parent, child_tag(parent, "programs"))
    for program in add_items(parent, "programs", programs, Program):
        add_enum(holder, "program", program, Program)


def _add_payer(parent: etree._Element, name: str, payer: object) -> None:
    element = add_group(parent, name, payer, PosPayer)
    payer = cast(PosPayer, payer)
    add_enum(element, "kind", payer.kind, PayerKind)
    add_text(element, "scheme", payer.scheme, optional=True)
    add_text(element, "name", payer.name, optional=True)
    add_text(element, "reference", payer.reference, optional=True)


def _add_participant(parent: etree._Element, participant: object) -> None:
    element = add_group(parent, "participant", participant, PosParticipant)
    participant = cast(PosParticipant, participant)
    add_text(element, "nik", participant.nik)
    add_text(element, "name", participant.name)
    add_date(element, "birthDate", participant.birth_date)
    add_enum(element, "sex", participant.sex, Sex)
    add_text(element, "phone", participant.phone)
    add_text(element, "email", participant.email, optional=True)
    add_text(element, "address", participant.address)
    add_text(element, "postalCode", participant.postal_code)
    occupations = etree.SubElement(element, child_tag(element, "occupations"))
    for occupation in add_items(element, "occupations", participant.occupations, str):
        add_text(occupations, "occupation", occupation)
    add_int(element, "income", participant.income)
    _add_programs(element, participant.programs)


def _build_registration_request(element: etree._Element, message: PosRegistrationRequest) -> None:
    _add_counter(element, message)
    add_text(element, "reference", message.reference)
    add_instant(element, "requestedAt", message.requested_at)
    _add_participant(element, message.participant)
    _add_payer(element, "registeredBy", message.registered_by)
    _add_sent_at(element, message)


def _build_registration_challenge(
    element: etree._Element, message: PosRegistrationChallenge
) -> None:
    add_text(element, "reference", message.reference)
    add_text(element, "challengeId", message.challenge_id)
    add_text(element, "phoneMasked", message.phone_masked)
    add_instant(element, "expiresAt", message.expires_at)


def _build_registration_confirm(element: etree._Element, message: PosRegistrationConfirm) -> None:
    _add_counter(element, message)
    add_text(element, "reference", message.reference)
    add_text(element, "challengeId", message.challenge_id)
    add_text(element, "otp", message.otp)
    _add_sent_at(element, message)


def _build_registration_result(element: etree._Element, message: PosRegistrationResult) -> None:
    add_text(element, "reference", message.reference)
    add_text(element, "kpj", message.kpj)
    add_text(element, "nikMasked", message.nik_masked)
    add_text(element, "name", message.name)
    add_month(element, "registeredFrom", message.registered_from)
    _add_programs(element, message.programs)


def _build_inquiry_request(element: etree._Element, message: PosInquiryRequest) -> None:
    _add_counter(element, message)
    add_text(element, "reference", message.reference, optional=True)
    _add_customer(element, message.customer)
    add_int(element, "months", message.months)
    if message.payer is not None:
        _add_payer(element, "payer", message.payer)
    _add_sent_at(element, message)


def _build_inquiry_response(element: etree._Element, message: PosInquiryResponse) -> None:
    add_text(element, "inquiryId", message.inquiry_id)
    _add_customer(element, message.customer)
    add_text(element, "kpj", message.kpj)
    add_text(element, "nameMasked", message.name_masked)
    _add_programs(element, message.programs)
    add_enum(element, "coverageState", message.coverage_state, CoverageState)
    bills = etree.SubElement(element, child_tag(element, "bills"))
    for bill in add_items(element, "bills", message.bills, PosBill):
        item = etree.SubElement(bills, child_tag(bills, "bill"))
        add_month(item, "period", bill.period)
        add_int(item, "amount", bill.amount)
        add_text(item, "discount", bill.discount, optional=True)
    add_int(element, "total", message.total)
    add_int(element, "adminFee", message.admin_fee)
    add_instant(element, "validUntil", message.valid_until, optional=True)


def _build_payment_request(element: etree._Element, message: PosPaymentRequest) -> None:
    _add_counter(element, message)
    add_text(element, "reference", message.reference)
    _add_customer(element, message.customer)
    add_text(element, "inquiryId", message.inquiry_id, optional=True)
    _add_months(element, "periods", message.periods, omit_empty=False)
    add_int(element, "amount", message.amount)
    add_int(element, "adminFee", message.admin_fee)
    _add_payer(element, "payer", message.payer)
    add_bool(element, "repeat", message.repeat)
    add_instant(element, "requestedAt", message.requested_at)
    _add_sent_at(element, message)


def _build_payment_response(element: etree._Element, message: PosPaymentResponse) -> None:
    add_text(element, "reference", message.reference)
    add_enum(element, "status", message.status, PaymentStatus)
    add_text(element, "responseCode", message.response_code)
    add_text(element, "hostReference", message.host_reference, optional=True)
    _add_months(element, "periods", message.periods, omit_empty=True)
    add_int(element, "amount", message.amount)
    add_instant(element, "paidAt", message.paid_at, optional=True)


def _build_status_request(element: etree._Element, message: PosStatusRequest) -> None:
    _add_counter(element, message)
    add_text(element, "reference", message.reference)
    _add_sent_at(element, message)


def _build_status_response(element: etree._Element, message: PosStatusResponse) -> None:
    add_text(element, "reference", message.reference)
    add_enum(element, "status", message.status, TransactionStatus)
    add_text(element, "responseCode", message.response_code)
    add_text(element, "hostReference", message.host_reference, optional=True)
    _add_months(element, "periods", message.periods, omit_empty=True)
    add_int(element, "amount", message.amount, optional=True)
    add_instant(element, "paidAt", message.paid_at, optional=True)
    if _v2(element):  # version 2 names the payment found; version 1 cannot
        if message.customer is not None:
            _add_customer(element, message.customer)
        add_text(element, "office", message.office, optional=True)
        add_text(element, "teller", message.teller, optional=True)


def _build_reversal_request(element: etree._Element, message: PosReversalRequest) -> None:
    _add_counter(element, message)
    add_text(element, "reference", message.reference)
    add_int(element, "amount", message.amount)
    add_bool(element, "repeat", message.repeat)
    add_instant(element, "requestedAt", message.requested_at)
    _add_sent_at(element, message)


def _build_reversal_response(element: etree._Element, message: PosReversalResponse) -> None:
    add_text(element, "reference", message.reference)
    add_enum(element, "status", message.status, ReversalStatus)
    add_text(element, "responseCode", message.response_code)
    add_instant(element, "reversedAt", message.reversed_at, optional=True)


#: Each message type's builder (its element is ``kp:`` + the type's name without ``Pos``).
_BUILDERS: Final[dict[type, Callable[[etree._Element, Any], None]]] = {
    PosRegistrationRequest: _build_registration_request,
    PosRegistrationChallenge: _build_registration_challenge,
    PosRegistrationConfirm: _build_registration_confirm,
    PosRegistrationResult: _build_registration_result,
    PosInquiryRequest: _build_inquiry_request,
    PosInquiryResponse: _build_inquiry_response,
    PosPaymentRequest: _build_payment_request,
    PosPaymentResponse: _build_payment_response,
    PosStatusRequest: _build_status_request,
    PosStatusResponse: _build_status_response,
    PosReversalRequest: _build_reversal_request,
    PosReversalResponse: _build_reversal_response,
}


def encode(message: PosMessage, *, major: int | None = None) -> bytes:
    """The SOAP envelope carrying ``message``, validated by libxml2 against the XSD, as bytes:
    in version ``major`` (default: the lowest that carries what ``message`` holds; what only
    version 2 carries is left out of a version 1 message). Raises :class:`MalformedMessage`
    (naming the element) for a message the schema refuses."""
    build = _BUILDERS.get(type(message))
    if build is None:
        raise malformed(f"{type(message).__name__} is not a Kantor Pos message")
    major = lowest_major(message) if major is None else major
    if major not in NAMESPACES:
        raise malformed(f"there is no Kantor Pos version {major}")
    envelope, body = soap.new_envelope(nsmap(major))
    element = qname(element_name(message), NAMESPACES[major])
    build(etree.SubElement(body, element, version=VERSIONS[major]), message)
    _check_consistency(message)  # after building: the types it computes with are checked
    return validated_bytes(envelope, ENVELOPE_SCHEMA)


def encode_registration_request(message: PosRegistrationRequest) -> bytes:
    """Client side: ``register``."""
    return encode(message)


def encode_registration_challenge(message: PosRegistrationChallenge) -> bytes:
    """Server side: the answer to ``register`` (an OTP was sent)."""
    return encode(message)


def encode_registration_confirm(message: PosRegistrationConfirm) -> bytes:
    """Client side: ``confirm`` with the OTP."""
    return encode(message)


def encode_registration_result(message: PosRegistrationResult) -> bytes:
    """Server side: the answer to ``confirm`` (the KPJ)."""
    return encode(message)


def encode_inquiry_request(message: PosInquiryRequest) -> bytes:
    """Client side: ``inquire``."""
    return encode(message)


def encode_inquiry_response(message: PosInquiryResponse) -> bytes:
    """Server side: the answer to ``inquire``."""
    return encode(message)


def encode_payment_request(message: PosPaymentRequest) -> bytes:
    """Client side: ``pay``."""
    return encode(message)


def encode_payment_response(message: PosPaymentResponse) -> bytes:
    """Server side: the answer to ``pay``."""
    return encode(message)


def encode_status_request(message: PosStatusRequest) -> bytes:
    """Client side: ``status``."""
    return encode(message)


def encode_status_response(message: PosStatusResponse) -> bytes:
    """Server side: the answer to ``status``."""
    return encode(message)


def encode_reversal_request(message: PosReversalRequest) -> bytes:
    """Client side: ``reverse``."""
    return encode(message)


def encode_reversal_response(message: PosReversalResponse) -> bytes:
    """Server side: the answer to ``reverse``."""
    return encode(message)


def encode_fault(fault: PosFault, *, major: int = 1) -> bytes:
    """Server side: a SOAP Fault envelope (sent with HTTP 500), validated by libxml2; its
    ``kp:FaultDetail`` in version ``major`` (a server answers in its request's version).
    Without a ``response_code`` the Fault has no ``detail``."""
    if major not in NAMESPACES:
        raise malformed(f"there is no Kantor Pos version {major}")
    if not isinstance(fault, PosFault) or not isinstance(fault.code, soap.FaultCode):
        raise malformed("not a PosFault")
    if not isinstance(fault.string, str):
        raise malformed("cannot encode Fault: faultstring must be a string", field="faultstring")
    envelope, body = soap.new_envelope(nsmap(major))
    try:
        element = soap.add_fault(body, fault.code, fault.string, subcode=fault.subcode)
    except (ValueError, TypeError):
        raise malformed("cannot encode Fault: a character XML cannot carry") from None
    if fault.response_code is not None:
        detail = etree.SubElement(
            etree.SubElement(element, "detail"), qname("FaultDetail", NAMESPACES[major])
        )
        detail.set("version", VERSIONS[major])
        add_text(detail, "responseCode", fault.response_code)
        add_text(detail, "reference", fault.reference, optional=True)
        add_text(detail, "messageId", fault.message_id, optional=True)
        add_text(detail, "messageEn", fault.message_en, optional=True)
    return validated_bytes(envelope, ENVELOPE_SCHEMA)


# -- reading each message (the schema has vouched for the structure) ----------------------------

_payment_status = read_enum(PaymentStatus)
_transaction_status = read_enum(TransactionStatus)
_reversal_status = read_enum(ReversalStatus)
_coverage_state = read_enum(CoverageState)
_payer_kind = read_enum(PayerKind)
_sex = read_enum(Sex)
_program = read_enum(Program)


def _customer(fields: Children) -> CustomerId:
    customer = fields.group("customer")
    nik = customer.maybe("nik", read_text)
    if nik is not None:
        return CustomerId(CustomerIdKind.NIK, nik)
    return CustomerId(CustomerIdKind.KPJ, customer.value("kpj", read_text))


def _programs(fields: Children) -> tuple[Program, ...]:
    return tuple(_program(item.text or "", "program") for item in fields.element_of("programs"))


def _payer(fields: Children | None) -> PosPayer | None:
    if fields is None:
        return None
    return PosPayer(
        kind=fields.value("kind", _payer_kind),
        scheme=fields.maybe("scheme", read_text),
        name=fields.maybe("name", read_text),
        reference=fields.maybe("reference", read_text),
    )


def _required_payer(fields: Children, name: str) -> PosPayer:
    payer = _payer(fields.group(name))
    assert payer is not None
    return payer


def _read_registration_request(fields: Children) -> PosRegistrationRequest:
    participant = fields.group("participant")
    return PosRegistrationRequest(
        office=fields.value("office", read_text),
        teller=fields.value("teller", read_text),
        reference=fields.value("reference", read_text),
        requested_at=fields.value("requestedAt", read_instant),
        participant=PosParticipant(
            nik=participant.value("nik", read_text),
            name=participant.value("name", read_text),
            birth_date=participant.value("birthDate", read_date),
            sex=participant.value("sex", _sex),
            phone=participant.value("phone", read_text),
            email=participant.maybe("email", read_text),
            address=participant.value("address", read_text),
            postal_code=participant.value("postalCode", read_text),
            occupations=tuple(item.text or "" for item in participant.element_of("occupations")),
            income=participant.value("income", read_int),
            programs=_programs(participant),
        ),
        registered_by=_required_payer(fields, "registeredBy"),
        sent_at=fields.maybe("sentAt", read_instant),
    )


def _read_registration_challenge(fields: Children) -> PosRegistrationChallenge:
    return PosRegistrationChallenge(
        reference=fields.value("reference", read_text),
        challenge_id=fields.value("challengeId", read_text),
        phone_masked=fields.value("phoneMasked", read_text),
        expires_at=fields.value("expiresAt", read_instant),
    )


def _read_registration_confirm(fields: Children) -> PosRegistrationConfirm:
    return PosRegistrationConfirm(
        office=fields.value("office", read_text),
        teller=fields.value("teller", read_text),
        reference=fields.value("reference", read_text),
        challenge_id=fields.value("challengeId", read_text),
        otp=fields.value("otp", read_text),
        sent_at=fields.maybe("sentAt", read_instant),
    )


def _read_registration_result(fields: Children) -> PosRegistrationResult:
    return PosRegistrationResult(
        reference=fields.value("reference", read_text),
        kpj=fields.value("kpj", read_text),
        nik_masked=fields.value("nikMasked", read_text),
        name=fields.value("name", read_text),
        registered_from=fields.value("registeredFrom", read_month),
        programs=_programs(fields),
    )


def _read_inquiry_request(fields: Children) -> PosInquiryRequest:
    return PosInquiryRequest(
        office=fields.value("office", read_text),
        teller=fields.value("teller", read_text),
        customer=_customer(fields),
        months=fields.value("months", read_int),
        reference=fields.maybe("reference", read_text),
        payer=_payer(fields.maybe_group("payer")),
        sent_at=fields.maybe("sentAt", read_instant),
    )


def _read_bill(element: etree._Element) -> PosBill:
    bill = Children(element)
    return PosBill(
        period=bill.value("period", read_month),
        amount=bill.value("amount", read_int),
        discount=bill.maybe("discount", read_text),
    )


def _read_inquiry_response(fields: Children) -> PosInquiryResponse:
    return PosInquiryResponse(
        inquiry_id=fields.value("inquiryId", read_text),
        customer=_customer(fields),
        kpj=fields.value("kpj", read_text),
        name_masked=fields.value("nameMasked", read_text),
        programs=_programs(fields),
        coverage_state=fields.value("coverageState", _coverage_state),
        bills=tuple(_read_bill(bill) for bill in fields.element_of("bills")),
        total=fields.value("total", read_int),
        admin_fee=fields.value("adminFee", read_int),
        valid_until=fields.maybe("validUntil", read_instant),
    )


def _read_payment_request(fields: Children) -> PosPaymentRequest:
    return PosPaymentRequest(
        office=fields.value("office", read_text),
        teller=fields.value("teller", read_text),
        reference=fields.value("reference", read_text),
        customer=_customer(fields),
        periods=fields.months("periods"),
        amount=fields.value("amount", read_int),
        admin_fee=fields.value("adminFee", read_int),
        payer=_required_payer(fields, "payer"),
        requested_at=fields.value("requestedAt", read_instant),
        inquiry_id=fields.maybe("inquiryId", read_text),
        repeat=fields.value("repeat", read_bool),
        sent_at=fields.maybe("sentAt", read_instant),
    )


def _read_payment_response(fields: Children) -> PosPaymentResponse:
    return PosPaymentResponse(
        reference=fields.value("reference", read_text),
        status=fields.value("status", _payment_status),
        response_code=fields.value("responseCode", read_text),
        amount=fields.value("amount", read_int),
        host_reference=fields.maybe("hostReference", read_text),
        periods=fields.months("periods"),
        paid_at=fields.maybe("paidAt", read_instant),
    )


def _read_status_request(fields: Children) -> PosStatusRequest:
    return PosStatusRequest(
        office=fields.value("office", read_text),
        teller=fields.value("teller", read_text),
        reference=fields.value("reference", read_text),
        sent_at=fields.maybe("sentAt", read_instant),
    )


def _read_status_response(fields: Children) -> PosStatusResponse:
    return PosStatusResponse(
        reference=fields.value("reference", read_text),
        status=fields.value("status", _transaction_status),
        response_code=fields.value("responseCode", read_text),
        host_reference=fields.maybe("hostReference", read_text),
        periods=fields.months("periods"),
        amount=fields.maybe("amount", read_int),
        paid_at=fields.maybe("paidAt", read_instant),
        customer=None if fields.maybe_element("customer") is None else _customer(fields),
        office=fields.maybe("office", read_text),
        teller=fields.maybe("teller", read_text),
    )


def _read_reversal_request(fields: Children) -> PosReversalRequest:
    return PosReversalRequest(
        office=fields.value("office", read_text),
        teller=fields.value("teller", read_text),
        reference=fields.value("reference", read_text),
        amount=fields.value("amount", read_int),
        requested_at=fields.value("requestedAt", read_instant),
        repeat=fields.value("repeat", read_bool),
        sent_at=fields.maybe("sentAt", read_instant),
    )


def _read_reversal_response(fields: Children) -> PosReversalResponse:
    return PosReversalResponse(
        reference=fields.value("reference", read_text),
        status=fields.value("status", _reversal_status),
        response_code=fields.value("responseCode", read_text),
        reversed_at=fields.maybe("reversedAt", read_instant),
    )


#: Each message element's reader, by its local name (either version's namespace).
_READERS: Final[dict[str, Callable[[Children], PosMessage]]] = {
    "RegistrationRequest": _read_registration_request,
    "RegistrationChallenge": _read_registration_challenge,
    "RegistrationConfirm": _read_registration_confirm,
    "RegistrationResult": _read_registration_result,
    "InquiryRequest": _read_inquiry_request,
    "InquiryResponse": _read_inquiry_response,
    "PaymentRequest": _read_payment_request,
    "PaymentResponse": _read_payment_response,
    "StatusRequest": _read_status_request,
    "StatusResponse": _read_status_response,
    "ReversalRequest": _read_reversal_request,
    "ReversalResponse": _read_reversal_response,
}
_REQUEST_ELEMENTS: Final = frozenset(request for request, _ in OPERATION_ELEMENTS.values())


def _read_fault(envelope: etree._Element, fault_element: etree._Element) -> PosFault:
    xmlsafe.validate(envelope, xmlsafe.load_schema(ENVELOPE_SCHEMA))
    fault = soap.read_fault(fault_element)
    element = next(iter(fault.detail), None)
    if element is None:
        return PosFault(fault.code, fault.string, subcode=fault.subcode)
    detail = Children(element)
    return PosFault(
        fault.code,
        fault.string,
        subcode=fault.subcode,
        response_code=detail.value("responseCode", read_text),
        reference=detail.maybe("reference", read_text),
        message_id=detail.maybe("messageId", read_text),
        message_en=detail.maybe("messageEn", read_text),
    )


def _fault_error(fault: PosFault, codes: ResponseCodes) -> JamsostekError:
    code = fault.response_code
    if code is None:
        if fault.code in (soap.FaultCode.VERSION_MISMATCH, soap.FaultCode.MUST_UNDERSTAND):
            code = codes.code_for("message.malformed")
        elif fault.code is soap.FaultCode.SERVER:
            code = codes.unknown_failure
        else:
            code = codes.unknown_refusal
    error = codes.error_for(code, fault=fault.code, soap_fault=fault)
    if error is None:
        return malformed("a soap:Fault carried a success code", field="responseCode")
    return error


def _decode(
    data: bytes, expected: frozenset[str], *, limits: Limits, codes: ResponseCodes | None
) -> PosMessage:
    """Parse the envelope, turn a Fault into its error (answers only: ``codes`` given), check
    the element, validate, read the message and check the rules the schema cannot say.

    An invalid envelope is examined in the order that names its most useful problem: the
    envelope's structure, a Fault, the element, and only then libxml2's first schema error."""
    schema = xmlsafe.load_schema(ENVELOPE_SCHEMA)
    envelope, valid = xmlsafe.parse_valid(
        data, schema, max_bytes=limits.max_bytes, max_depth=limits.max_depth
    )
    payload = soap.open_envelope(envelope)
    if payload.tag == soap.FAULT:
        if codes is None:
            raise malformed("a request cannot be a soap:Fault", field="soap:Fault")
        raise _fault_error(_read_fault(envelope, payload), codes)
    name = display_name(payload)
    if name not in expected:
        wanted = " or ".join(sorted(expected))
        raise malformed(f"expected {wanted}, not {name}", field=name)
    if not valid:
        xmlsafe.validate(envelope, schema)  # raises libxml2's first error, worded
    message = _READERS[name](Children(payload))
    _check_consistency(message)
    return message


def _default_codes() -> ResponseCodes:
    from jamsostek_channels.adapters.kantorpos.profile import default_profile

    return default_profile().response_codes


def _request(data: bytes, name: str, kind: type[_T], limits: Limits) -> _T:
    message = _decode(data, frozenset({name}), limits=limits, codes=None)
    assert isinstance(message, kind)
    return message


def _answer(
    data: bytes, name: str, kind: type[_T], limits: Limits, codes: ResponseCodes | None
) -> _T:
    codes = codes if codes is not None else _default_codes()
    message = _decode(data, frozenset({name}), limits=limits, codes=codes)
    assert isinstance(message, kind)
    return message


def decode_request(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosRequest:
    """Server side: any request, whichever operation it is (check it against the SOAPAction
    with :func:`~.types.operation_of`)."""
    return cast(PosRequest, _decode(data, _REQUEST_ELEMENTS, limits=limits, codes=None))


def decode_registration_request(
    data: bytes, *, limits: Limits = MESSAGE_LIMITS
) -> PosRegistrationRequest:
    return _request(data, "RegistrationRequest", PosRegistrationRequest, limits)


def decode_registration_confirm(
    data: bytes, *, limits: Limits = MESSAGE_LIMITS
) -> PosRegistrationConfirm:
    return _request(data, "RegistrationConfirm", PosRegistrationConfirm, limits)


def decode_inquiry_request(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosInquiryRequest:
    return _request(data, "InquiryRequest", PosInquiryRequest, limits)


def decode_payment_request(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosPaymentRequest:
    return _request(data, "PaymentRequest", PosPaymentRequest, limits)


def decode_status_request(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosStatusRequest:
    return _request(data, "StatusRequest", PosStatusRequest, limits)


def decode_reversal_request(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosReversalRequest:
    return _request(data, "ReversalRequest", PosReversalRequest, limits)


def decode_registration_challenge(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosRegistrationChallenge:
    """Client side: the answer to ``register`` (``codes``: the profile's response codes, used
    when the answer is a Fault; default: the reference profile's)."""
    return _answer(data, "RegistrationChallenge", PosRegistrationChallenge, limits, codes)


def decode_registration_result(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosRegistrationResult:
    return _answer(data, "RegistrationResult", PosRegistrationResult, limits, codes)


def decode_inquiry_response(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosInquiryResponse:
    return _answer(data, "InquiryResponse", PosInquiryResponse, limits, codes)


def decode_payment_response(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosPaymentResponse:
    return _answer(data, "PaymentResponse", PosPaymentResponse, limits, codes)


def decode_status_response(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosStatusResponse:
    return _answer(data, "StatusResponse", PosStatusResponse, limits, codes)


def decode_reversal_response(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosReversalResponse:
    return _answer(data, "ReversalResponse", PosReversalResponse, limits, codes)


def decode_fault(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosFault:
    """A Fault envelope read as it is (not turned into an error): for tests and logs."""
    envelope = xmlsafe.parse(data, max_bytes=limits.max_bytes, max_depth=limits.max_depth)
    payload = soap.open_envelope(envelope)
    if payload.tag != soap.FAULT:
        raise malformed(f"expected soap:Fault, not {display_name(payload)}", field="soap:Body")
    return _read_fault(envelope, payload)
