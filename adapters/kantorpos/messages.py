"""The Kantor Pos messages (version 1), for both sides of the wire.

Every message is an attrs frozen type with an ``encode_*`` that produces the exact bytes to
send and a strict ``decode_*`` that reads received bytes back, so
``decode_x(encode_x(message)) == message``. The client (the counter, through the library)
encodes requests and decodes answers; the server (the fake gateway, or a partner's test double)
decodes requests and encodes answers.

* ``register``: :class:`PosRegistrationRequest` -> :class:`PosRegistrationChallenge`
* ``confirm``: :class:`PosRegistrationConfirm` -> :class:`PosRegistrationResult`
* ``inquire``: :class:`PosInquiryRequest` -> :class:`PosInquiryResponse`
* ``pay``: :class:`PosPaymentRequest` -> :class:`PosPaymentResponse`
* ``status``: :class:`PosStatusRequest` -> :class:`PosStatusResponse`
* ``reverse``: :class:`PosReversalRequest` -> :class:`PosReversalResponse`

The XSD element of ``PosX`` is ``kp:X``. Refusals travel as a SOAP Fault
(:class:`PosFault`); the daily :class:`PosSettlementFile` is a plain XML document.

Wire rules kept here:

* UTF-8, an XML declaration, the envelope declaring ``soap`` and ``kp``
  (:data:`NAMESPACE`, ``urn:jamsostek-channels:kantorpos:1``), two-space indentation, and
  ``version="1.0"`` on the message element;
* money is whole rupiah, months ``YYYY-MM``, instants ``2026-11-23T09:30:05+07:00`` (Asia/Jakarta;
  a fraction only when there is one), booleans ``true``/``false``; optional fields that are
  ``None`` are left out;
* every message is validated against the XSDs **on the way out** as well as in: encoding an
  invalid message (a negative amount, a naive datetime, a text with a line break) raises
  :class:`~jamsostek_channels.errors.MalformedMessage` naming the element, before a byte is sent.

Decoding is total: whatever the bytes, a decoder returns its type or raises
:class:`~jamsostek_channels.errors.MalformedMessage` (from :mod:`.xmlsafe`, the envelope, the
schema, or a rule the schema cannot say: a total that is not the sum of its bills, a settlement
trailer that disagrees with its records, an APPLIED payment without its host reference). An
answer decoder that finds a SOAP Fault raises the library error its response code means (see
:mod:`.codes`): :class:`~.errors.KantorPosDeclined` (a ``HostDeclined``) or
:class:`~.errors.KantorPosRefused` (a ``MalformedMessage``: the host refused our message).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final, TypeAlias, TypeVar, cast

import attrs
from lxml import etree

from jamsostek_channels import redact
from jamsostek_channels.adapters.kantorpos import soap, xmlsafe, xsdrules
from jamsostek_channels.adapters.kantorpos.codes import ResponseCodes
from jamsostek_channels.adapters.kantorpos.layouts import Choice, Group, Layout, Leaf, Repeat
from jamsostek_channels.adapters.kantorpos.xmlread import Converter, Reader, compile_reader
from jamsostek_channels.adapters.kantorpos.xmlsafe import malformed
from jamsostek_channels.adapters.kantorpos.xmltext import DECLARATION as _DECLARATION
from jamsostek_channels.adapters.kantorpos.xmltext import (
    Unencodable,
    Written,
    compile_writer,
    format_instant,
)
from jamsostek_channels.channel import (
    Bill,
    CustomerId,
    CustomerIdKind,
    Inquiry,
    OtpChallenge,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    Registration,
    RegistrationRequest,
    ReversalResult,
    ReversalState,
    SettlementRecord,
    SettlementState,
)
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import JamsostekError, MalformedMessage
from jamsostek_channels.model import CoverageState, Participant, Payer, PayerKind, Program, Sex
from jamsostek_channels.period import YearMonth

__all__ = [
    "ENVELOPE_SCHEMA",
    "MESSAGE_LIMITS",
    "NAMESPACE",
    "OPERATION_ELEMENTS",
    "SETTLEMENT_LIMITS",
    "SETTLEMENT_SCHEMA",
    "VERSION",
    "Limits",
    "PaymentStatus",
    "PosAnswer",
    "PosBill",
    "PosFault",
    "PosInquiryRequest",
    "PosInquiryResponse",
    "PosMessage",
    "PosParticipant",
    "PosPayer",
    "PosPaymentRequest",
    "PosPaymentResponse",
    "PosRegistrationChallenge",
    "PosRegistrationConfirm",
    "PosRegistrationRequest",
    "PosRegistrationResult",
    "PosRequest",
    "PosReversalRequest",
    "PosReversalResponse",
    "PosSettlementFile",
    "PosSettlementRecord",
    "PosSettlementTrailer",
    "PosStatusRequest",
    "PosStatusResponse",
    "ReversalStatus",
    "SettlementStatus",
    "TransactionStatus",
    "challenge_for",
    "challenge_from",
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
    "decode_settlement_file",
    "decode_status_request",
    "decode_status_response",
    "element_name",
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
    "encode_settlement_file",
    "encode_status_request",
    "encode_status_response",
    "fault_for",
    "format_instant",
    "inquiry_from_response",
    "inquiry_request_for",
    "inquiry_response_for",
    "operation_of",
    "payment_request_for",
    "payment_response_for",
    "payment_result_from",
    "read_settlement",
    "registration_confirm_for",
    "registration_from",
    "registration_request_for",
    "registration_result_for",
    "reversal_request_for",
    "reversal_response_for",
    "reversal_result_from",
    "settlement_file_for",
    "settlement_records_from",
    "status_request_for",
    "status_response_for",
]

#: The namespace of version 1; its last segment is the major version.
NAMESPACE: Final = "urn:jamsostek-channels:kantorpos:1"
#: The minor version, written on every message element (``version="1.0"``).
VERSION: Final = "1.0"
#: The XSD a whole SOAP envelope is validated against (it imports the messages' XSD).
ENVELOPE_SCHEMA: Final = "kantorpos-envelope-1.xsd"
#: The XSD of the daily settlement file.
SETTLEMENT_SCHEMA: Final = "kantorpos-settlement-1.xsd"

_PREFIX = "kp"
_NSMAP: dict[str, str] = {_PREFIX: NAMESPACE}
_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.Enum)


@attrs.frozen
class Limits:
    """The hardened reader's limits for one kind of document (see :mod:`.xmlsafe`)."""

    max_bytes: int = xmlsafe.MAX_BYTES
    max_depth: int = xmlsafe.MAX_DEPTH


#: Limits for SOAP messages: 256 KiB, 32 levels.
MESSAGE_LIMITS: Final = Limits()
#: Limits for a settlement file: 64 MiB (100,000 lines, a very busy day, are about 40 MB).
SETTLEMENT_LIMITS: Final = Limits(max_bytes=64 * 1024 * 1024)


@functools.cache
def _q(local: str) -> str:
    """``{namespace}local``: built once per element name (the set of names is the schema's)."""
    return f"{{{NAMESPACE}}}{local}"


# -- statuses ---------------------------------------------------------------------------------


class PaymentStatus(enum.StrEnum):
    """A payment's answer: the host's decision, recorded under the reference."""

    APPLIED = "APPLIED"
    DECLINED = "DECLINED"
    PENDING = "PENDING"


class TransactionStatus(enum.StrEnum):
    """A status inquiry's answer."""

    APPLIED = "APPLIED"
    DECLINED = "DECLINED"
    PENDING = "PENDING"
    REVERSED = "REVERSED"
    NOT_FOUND = "NOT_FOUND"


class ReversalStatus(enum.StrEnum):
    REVERSED = "REVERSED"
    NOT_FOUND = "NOT_FOUND"  #: nothing to reverse: the payment was never applied
    REFUSED = "REFUSED"  #: the host will not reverse it (responseCode says why)


class SettlementStatus(enum.StrEnum):
    PAID = "PAID"
    REVERSED = "REVERSED"


# -- the message types --------------------------------------------------------------------------


@attrs.frozen
class PosParticipant:
    """A participant as ``kp:participant`` carries it: the wire's values, not yet checked by
    the rules (:meth:`to_participant` does that)."""

    nik: str = attrs.field(repr=redact.nik)
    name: str
    birth_date: dt.date
    sex: Sex
    phone: str = attrs.field(repr=redact.phone)
    email: str | None
    address: str
    postal_code: str
    occupations: tuple[str, ...]
    income: int
    programs: tuple[Program, ...]

    @classmethod
    def of(cls, participant: Participant) -> PosParticipant:
        return cls(
            nik=participant.nik,
            name=participant.name,
            birth_date=participant.birth_date,
            sex=participant.sex,
            phone=participant.phone,
            email=participant.email,
            address=participant.address,
            postal_code=participant.postal_code,
            occupations=participant.occupations,
            income=participant.income,
            programs=participant.programs,
        )

    def to_participant(self) -> Participant:
        """The model's participant; raises :class:`~jamsostek_channels.errors.InvalidInput`
        listing every rule problem (the host answers those as a refusal)."""
        return Participant(
            nik=self.nik,
            name=self.name,
            birth_date=self.birth_date,
            sex=self.sex,
            phone=self.phone,
            email=self.email,
            address=self.address,
            postal_code=self.postal_code,
            occupations=self.occupations,
            income=self.income,
            programs=self.programs,
        )


@attrs.frozen
class PosPayer:
    """``kp:payer`` / ``kp:registeredBy``: who pays, as the wire carries it."""

    kind: PayerKind
    scheme: str | None = None
    name: str | None = None
    reference: str | None = None

    @classmethod
    def of(cls, payer: Payer) -> PosPayer:
        return cls(payer.kind, payer.scheme, payer.name, payer.reference)

    def to_payer(self) -> Payer:
        """The model's payer; raises :class:`~jamsostek_channels.errors.InvalidInput` when the
        rules refuse it (an unknown scheme code, a missing name)."""
        return Payer(self.kind, name=self.name, scheme=self.scheme, reference=self.reference)


@attrs.frozen
class PosBill:
    period: YearMonth
    amount: int
    discount: str | None = None


@attrs.frozen
class PosRegistrationRequest:
    office: str
    teller: str
    reference: str
    requested_at: dt.datetime
    participant: PosParticipant
    registered_by: PosPayer


@attrs.frozen
class PosRegistrationChallenge:
    reference: str
    challenge_id: str
    phone_masked: str
    expires_at: dt.datetime


@attrs.frozen
class PosRegistrationConfirm:
    office: str
    teller: str
    reference: str
    challenge_id: str
    otp: str = attrs.field(repr=False)


@attrs.frozen
class PosRegistrationResult:
    reference: str
    kpj: str
    nik_masked: str
    name: str
    registered_from: YearMonth
    programs: tuple[Program, ...]


@attrs.frozen
class PosInquiryRequest:
    office: str
    teller: str
    customer: CustomerId
    months: int
    reference: str | None = None
    payer: PosPayer | None = None


@attrs.frozen
class PosInquiryResponse:
    """``total`` must be the sum of the bills (checked both ways)."""

    inquiry_id: str
    customer: CustomerId
    kpj: str
    name_masked: str
    programs: tuple[Program, ...]
    coverage_state: CoverageState
    bills: tuple[PosBill, ...]
    total: int
    admin_fee: int
    valid_until: dt.datetime | None = None


@attrs.frozen
class PosPaymentRequest:
    office: str
    teller: str
    reference: str
    customer: CustomerId
    periods: tuple[YearMonth, ...]
    amount: int
    admin_fee: int
    payer: PosPayer
    requested_at: dt.datetime
    inquiry_id: str | None = None
    repeat: bool = False


@attrs.frozen
class PosPaymentResponse:
    """APPLIED needs ``host_reference``, ``periods`` and ``paid_at`` (checked both ways)."""

    reference: str
    status: PaymentStatus
    response_code: str
    amount: int
    host_reference: str | None = None
    periods: tuple[YearMonth, ...] = ()
    paid_at: dt.datetime | None = None


@attrs.frozen
class PosStatusRequest:
    office: str
    teller: str
    reference: str


@attrs.frozen
class PosStatusResponse:
    """APPLIED and REVERSED need ``host_reference`` and ``paid_at`` (checked both ways)."""

    reference: str
    status: TransactionStatus
    response_code: str
    host_reference: str | None = None
    periods: tuple[YearMonth, ...] = ()
    amount: int | None = None
    paid_at: dt.datetime | None = None


@attrs.frozen
class PosReversalRequest:
    office: str
    teller: str
    reference: str
    amount: int
    requested_at: dt.datetime
    repeat: bool = False


@attrs.frozen
class PosReversalResponse:
    reference: str
    status: ReversalStatus
    response_code: str
    reversed_at: dt.datetime | None = None


@attrs.frozen
class PosFault:
    """A SOAP Fault of this profile: ``response_code`` is what a receiver acts on."""

    code: soap.FaultCode
    string: str
    response_code: str | None = None
    reference: str | None = None
    message_id: str | None = None
    message_en: str | None = None
    subcode: str | None = None


@attrs.frozen
class PosSettlementRecord:
    reference: str
    host_reference: str
    nik_masked: str
    periods: tuple[YearMonth, ...]
    amount: int
    admin_fee: int
    paid_at: dt.datetime
    state: SettlementStatus
    teller: str | None = None
    reversed_at: dt.datetime | None = None


@attrs.frozen
class PosSettlementTrailer:
    record_count: int
    paid_count: int
    paid_amount: int
    paid_admin_fee: int
    reversed_count: int
    reversed_amount: int

    @classmethod
    def of(cls, records: Iterable[PosSettlementRecord]) -> PosSettlementTrailer:
        every = tuple(records)
        paid = [r for r in every if r.state is SettlementStatus.PAID]
        reversed_ = [r for r in every if r.state is SettlementStatus.REVERSED]
        return cls(
            record_count=len(every),
            paid_count=len(paid),
            paid_amount=sum(r.amount for r in paid),
            paid_admin_fee=sum(r.admin_fee for r in paid),
            reversed_count=len(reversed_),
            reversed_amount=sum(r.amount for r in reversed_),
        )


@attrs.frozen
class PosSettlementFile:
    """One office's business day. The trailer is computed from the records when encoding and
    checked against them when decoding."""

    office: str
    business_date: dt.date
    generated_at: dt.datetime
    records: tuple[PosSettlementRecord, ...]

    @property
    def trailer(self) -> PosSettlementTrailer:
        return PosSettlementTrailer.of(self.records)


#: Any request a server receives.
PosRequest: TypeAlias = (
    PosRegistrationRequest
    | PosRegistrationConfirm
    | PosInquiryRequest
    | PosPaymentRequest
    | PosStatusRequest
    | PosReversalRequest
)
#: Any answer a client receives (a Fault is raised, not returned).
PosAnswer: TypeAlias = (
    PosRegistrationChallenge
    | PosRegistrationResult
    | PosInquiryResponse
    | PosPaymentResponse
    | PosStatusResponse
    | PosReversalResponse
)
PosMessage: TypeAlias = PosRequest | PosAnswer

#: operation -> (request element, answer element), as the SOAPAction names the operation.
OPERATION_ELEMENTS: Final[Mapping[str, tuple[str, str]]] = {
    "register": ("RegistrationRequest", "RegistrationChallenge"),
    "confirm": ("RegistrationConfirm", "RegistrationResult"),
    "inquire": ("InquiryRequest", "InquiryResponse"),
    "pay": ("PaymentRequest", "PaymentResponse"),
    "status": ("StatusRequest", "StatusResponse"),
    "reverse": ("ReversalRequest", "ReversalResponse"),
}


def element_name(message: PosMessage | PosSettlementFile) -> str:
    """The XSD element of a message type: ``PosPaymentRequest`` -> ``"PaymentRequest"``."""
    return type(message).__name__.removeprefix("Pos")


def operation_of(message: PosMessage) -> str:
    """The operation (SOAPAction key in the profile) a request or answer belongs to."""
    name = element_name(message)
    for operation, elements in OPERATION_ELEMENTS.items():
        if name in elements:
            return operation
    raise KeyError(name)


# -- cross-field rules the XSD cannot say (checked when encoding and when decoding) -------------


def _rules(message: object) -> None:
    if isinstance(message, PosInquiryResponse):
        if message.total != sum(bill.amount for bill in message.bills):
            raise malformed("InquiryResponse total is not the sum of its bills", field="total")
    elif isinstance(message, PosPaymentResponse | PosStatusResponse):
        settled = {TransactionStatus.APPLIED, TransactionStatus.REVERSED}
        if message.status in settled and (
            message.host_reference is None or message.paid_at is None
        ):
            name = element_name(message)
            raise malformed(
                f"{name} with status {message.status.value} needs hostReference and paidAt",
                field="hostReference",
            )
        if message.status == PaymentStatus.APPLIED and not message.periods:
            name = element_name(message)
            raise malformed(f"{name} with status APPLIED needs periods", field="periods")
    elif isinstance(message, PosSettlementRecord) and (
        message.state is SettlementStatus.PAID and message.reversed_at is not None
    ):
        raise malformed("a PAID settlement record has no reversedAt", field="record/reversedAt")


# -- writing ------------------------------------------------------------------------------------


# The layout of every element this module writes, in the schema's order; xmltext compiles
# each, with its XSD rules, into one function (see encode).

_COUNTER: Final = (Leaf("office", "office"), Leaf("teller", "teller"))
_CUSTOMER: Final = Choice(
    "customer",
    "customer",
    CustomerId,
    "kind",
    ((CustomerIdKind.NIK, Leaf("nik", "value")), (CustomerIdKind.KPJ, Leaf("kpj", "value"))),
)
_PERIODS: Final = Repeat("periods", "periods", Leaf("month", "", "month"), YearMonth)
_PERIODS_IF_ANY: Final = attrs.evolve(_PERIODS, omit_empty=True)
_PROGRAMS: Final = Repeat(
    "programs", "programs", Leaf("program", "", "enum", enum_type=Program), Program
)


def _payer_layout(element: str, attribute: str, *, optional: bool = False) -> Group:
    return Group(
        element,
        attribute,
        PosPayer,
        (
            Leaf("kind", "kind", "enum", enum_type=PayerKind),
            Leaf("scheme", "scheme", optional=True),
            Leaf("name", "name", optional=True),
            Leaf("reference", "reference", optional=True),
        ),
        optional=optional,
    )


_LAYOUTS: Final[dict[type, tuple[Layout, ...]]] = {
    PosRegistrationRequest: (
        *_COUNTER,
        Leaf("reference", "reference"),
        Leaf("requestedAt", "requested_at", "instant"),
        Group(
            "participant",
            "participant",
            PosParticipant,
            (
                Leaf("nik", "nik"),
                Leaf("name", "name"),
                Leaf("birthDate", "birth_date", "date"),
                Leaf("sex", "sex", "enum", enum_type=Sex),
                Leaf("phone", "phone"),
                Leaf("email", "email", optional=True),
                Leaf("address", "address"),
                Leaf("postalCode", "postal_code"),
                Repeat("occupations", "occupations", Leaf("occupation", ""), str),
                Leaf("income", "income", "int"),
                _PROGRAMS,
            ),
        ),
        _payer_layout("registeredBy", "registered_by"),
    ),
    PosRegistrationChallenge: (
        Leaf("reference", "reference"),
        Leaf("challengeId", "challenge_id"),
        Leaf("phoneMasked", "phone_masked"),
        Leaf("expiresAt", "expires_at", "instant"),
    ),
    PosRegistrationConfirm: (
        *_COUNTER,
        Leaf("reference", "reference"),
        Leaf("challengeId", "challenge_id"),
        Leaf("otp", "otp"),
    ),
    PosRegistrationResult: (
        Leaf("reference", "reference"),
        Leaf("kpj", "kpj"),
        Leaf("nikMasked", "nik_masked"),
        Leaf("name", "name"),
        Leaf("registeredFrom", "registered_from", "month"),
        _PROGRAMS,
    ),
    PosInquiryRequest: (
        *_COUNTER,
        Leaf("reference", "reference", optional=True),
        _CUSTOMER,
        Leaf("months", "months", "int"),
        _payer_layout("payer", "payer", optional=True),
    ),
    PosInquiryResponse: (
        Leaf("inquiryId", "inquiry_id"),
        _CUSTOMER,
        Leaf("kpj", "kpj"),
        Leaf("nameMasked", "name_masked"),
        _PROGRAMS,
        Leaf("coverageState", "coverage_state", "enum", enum_type=CoverageState),
        Repeat(
            "bills",
            "bills",
            Group(
                "bill",
                "",
                PosBill,
                (
                    Leaf("period", "period", "month"),
                    Leaf("amount", "amount", "int"),
                    Leaf("discount", "discount", optional=True),
                ),
            ),
            PosBill,
        ),
        Leaf("total", "total", "int"),
        Leaf("adminFee", "admin_fee", "int"),
        Leaf("validUntil", "valid_until", "instant", optional=True),
    ),
    PosPaymentRequest: (
        *_COUNTER,
        Leaf("reference", "reference"),
        _CUSTOMER,
        Leaf("inquiryId", "inquiry_id", optional=True),
        _PERIODS,
        Leaf("amount", "amount", "int"),
        Leaf("adminFee", "admin_fee", "int"),
        _payer_layout("payer", "payer"),
        Leaf("repeat", "repeat", "bool"),
        Leaf("requestedAt", "requested_at", "instant"),
    ),
    PosPaymentResponse: (
        Leaf("reference", "reference"),
        Leaf("status", "status", "enum", enum_type=PaymentStatus),
        Leaf("responseCode", "response_code"),
        Leaf("hostReference", "host_reference", optional=True),
        _PERIODS_IF_ANY,
        Leaf("amount", "amount", "int"),
        Leaf("paidAt", "paid_at", "instant", optional=True),
    ),
    PosStatusRequest: (*_COUNTER, Leaf("reference", "reference")),
    PosStatusResponse: (
        Leaf("reference", "reference"),
        Leaf("status", "status", "enum", enum_type=TransactionStatus),
        Leaf("responseCode", "response_code"),
        Leaf("hostReference", "host_reference", optional=True),
        _PERIODS_IF_ANY,
        Leaf("amount", "amount", "int", optional=True),
        Leaf("paidAt", "paid_at", "instant", optional=True),
    ),
    PosReversalRequest: (
        *_COUNTER,
        Leaf("reference", "reference"),
        Leaf("amount", "amount", "int"),
        Leaf("repeat", "repeat", "bool"),
        Leaf("requestedAt", "requested_at", "instant"),
    ),
    PosReversalResponse: (
        Leaf("reference", "reference"),
        Leaf("status", "status", "enum", enum_type=ReversalStatus),
        Leaf("responseCode", "response_code"),
        Leaf("reversedAt", "reversed_at", "instant", optional=True),
    ),
}

#: The message elements' local names (``PosPaymentRequest`` is ``kp:PaymentRequest``).
_MESSAGE_NAMES: Final = tuple(kind.__name__.removeprefix("Pos") for kind in _LAYOUTS)

_FAULT_DETAIL: Final = (
    Leaf("responseCode", "response_code"),
    Leaf("reference", "reference", optional=True),
    Leaf("messageId", "message_id", optional=True),
    Leaf("messageEn", "message_en", optional=True),
)

_TRAILER: Final = Group(
    "trailer",
    "trailer",
    PosSettlementTrailer,
    (
        Leaf("recordCount", "record_count", "int"),
        Leaf("paidCount", "paid_count", "int"),
        Leaf("paidAmount", "paid_amount", "int"),
        Leaf("paidAdminFee", "paid_admin_fee", "int"),
        Leaf("reversedCount", "reversed_count", "int"),
        Leaf("reversedAmount", "reversed_amount", "int"),
    ),
)

_SETTLEMENT: Final = (
    Leaf("office", "office"),
    Leaf("businessDate", "business_date", "date"),
    Leaf("generatedAt", "generated_at", "instant"),
    Repeat(
        "record",
        "records",
        Group(
            "record",
            "",
            PosSettlementRecord,
            (
                Leaf("reference", "reference"),
                Leaf("hostReference", "host_reference"),
                Leaf("teller", "teller", optional=True),
                Leaf("nikMasked", "nik_masked"),
                _PERIODS,
                Leaf("amount", "amount", "int"),
                Leaf("adminFee", "admin_fee", "int"),
                Leaf("paidAt", "paid_at", "instant"),
                Leaf("state", "state", "enum", enum_type=SettlementStatus),
                Leaf("reversedAt", "reversed_at", "instant", optional=True),
            ),
        ),
        PosSettlementRecord,
        holder=False,
        each=_rules,
    ),
    _TRAILER,
)

_VERSION_ATTRIBUTE: Final = f' version="{VERSION}"'


@attrs.frozen
class _Compiled:
    """One message type's writer and the constant lines around what it writes."""

    name: str
    head: str
    tail: str
    write: Callable[[object], Written]


@functools.cache
def _compiled() -> dict[type, _Compiled]:
    """Every message's writer, compiled on first use (not at import: the XSDs are read then)."""
    rules = xsdrules.schema_rules(xsdrules.MESSAGES_SCHEMA)
    envelope = soap.envelope_head(tuple(_NSMAP.items()))
    compiled: dict[type, _Compiled] = {}
    for kind, layout in _LAYOUTS.items():
        name = kind.__name__.removeprefix("Pos")
        compiled[kind] = _Compiled(
            name,
            f"{envelope}\n    <{_PREFIX}:{name}{_VERSION_ATTRIBUTE}>\n",
            f"\n    </{_PREFIX}:{name}>\n{soap.ENVELOPE_TAIL}\n",
            compile_writer(layout, rules[name], depth=3),
        )
    return compiled


@functools.cache
def _fault_detail_writer() -> Callable[[object], Written]:
    rules = xsdrules.schema_rules(xsdrules.MESSAGES_SCHEMA)
    return compile_writer(_FAULT_DETAIL, rules["FaultDetail"], depth=5)


@functools.cache
def _settlement_writer() -> Callable[[object], Written]:
    rules = xsdrules.schema_rules(SETTLEMENT_SCHEMA)
    return compile_writer(_SETTLEMENT, rules["SettlementFile"], depth=1)


@attrs.frozen
class _Readers:
    """The compiled readers: every message by element name, a Fault's detail (as keyword
    arguments of :class:`PosFault`) and a settlement file's trailer."""

    messages: dict[str, Reader]
    fault_detail: Reader
    trailer: Reader


@functools.cache
def _compiled_readers() -> _Readers:
    """Compiled on first use from the same layouts as the writers."""
    rules = xsdrules.schema_rules(xsdrules.MESSAGES_SCHEMA)
    converters: dict[str, Converter] = {
        "int": _whole,
        "bool": _bool_of,
        "month": _parse_month,
        "date": _date_of,
        "instant": _vouched_instant,
    }

    def reader(fields: tuple[Layout, ...], rule: xsdrules.Rule, kind: type) -> Reader:
        return compile_reader(fields, rule, kind, namespace=NAMESPACE, converters=converters)

    settlement = xsdrules.schema_rules(SETTLEMENT_SCHEMA)["SettlementFile"]
    assert settlement.children is not None
    return _Readers(
        messages={
            name: reader(layout, rules[name], kind)
            for name, (kind, layout) in zip(_MESSAGE_NAMES, _LAYOUTS.items(), strict=True)
        },
        fault_detail=reader(_FAULT_DETAIL, rules["FaultDetail"], dict),
        trailer=reader(_TRAILER.fields, settlement.children["trailer"], PosSettlementTrailer),
    )


#: Message shapes libxml2 has validated (see :func:`encode`): ``(element, shape)``. Bounded:
#: past the bound it starts again, which costs one libxml2 validation per shape.
_VALIDATED_SHAPES: set[tuple[str, tuple[int, ...]]] = set()
_MAX_SHAPES: Final = 4096


def _unencodable(error: Unencodable, message: str) -> MalformedMessage:
    return malformed(f"cannot encode {message}: {error}", field=f"{message}/{error.element}")


def _validate_out(document: bytes, schema: str, *, max_bytes: int = xmlsafe.MAX_BYTES) -> None:
    """libxml2's verdict on bytes we wrote: parsed by the hardened parser, as a receiver would,
    and validated against ``schema``; its first error raised as ``message.malformed``."""
    root = xmlsafe.parse(document, max_bytes=max(max_bytes, len(document)))
    xmlsafe.validate(root, xmlsafe.load_schema(schema))


def encode(message: PosMessage) -> bytes:
    """The SOAP envelope carrying ``message``, validated against the XSD, as bytes.

    Every value is checked against its XSD type as :mod:`.xsdrules` compiled it; the structure
    (which elements, in which order, how many) is validated by libxml2 the first time each
    shape of message is written, and the whole message whenever a value is in doubt - so what
    libxml2 would refuse is never sent, and the error is libxml2's. Raises
    :class:`MalformedMessage` (naming the element) for a message the schema refuses.
    """
    compiled = _compiled().get(type(message))
    if compiled is None:
        raise malformed(f"{type(message).__name__} is not a Kantor Pos message")
    try:
        written = compiled.write(message)
    except Unencodable as error:
        raise _unencodable(error, compiled.name) from None
    _rules(message)  # after the writer: it has checked the types the rules compute with
    document = (compiled.head + "\n".join(written.lines) + compiled.tail).encode("utf-8")
    document = _DECLARATION + document
    shape = (compiled.name, written.shape)
    if not written.valid or shape not in _VALIDATED_SHAPES:
        _validate_out(document, ENVELOPE_SCHEMA)
        if written.valid:  # a doubt libxml2 did not share says nothing about the shape
            if len(_VALIDATED_SHAPES) >= _MAX_SHAPES:
                _VALIDATED_SHAPES.clear()
            _VALIDATED_SHAPES.add(shape)
    return document


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


def encode_fault(fault: PosFault) -> bytes:
    """Server side: a SOAP Fault envelope (sent with HTTP 500), validated by libxml2 in full
    (faults are rare). Without a ``response_code`` the Fault has no ``detail``."""
    if not isinstance(fault, PosFault) or not isinstance(fault.code, soap.FaultCode):
        raise malformed("not a PosFault")
    if not isinstance(fault.string, str):
        raise malformed("cannot encode Fault: faultstring must be a string", field="faultstring")
    try:
        lines = soap.fault_lines(fault.code, fault.string, subcode=fault.subcode)
    except Unencodable:
        raise malformed("cannot encode Fault: a character XML cannot carry") from None
    if fault.response_code is not None:
        try:
            detail = _fault_detail_writer()(fault).lines
        except Unencodable as error:
            raise _unencodable(error, "FaultDetail") from None
        lines += [
            "      <detail>",
            f"        <{_PREFIX}:FaultDetail{_VERSION_ATTRIBUTE}>",
            *detail,
            f"        </{_PREFIX}:FaultDetail>",
            "      </detail>",
        ]
    lines.append(soap.FAULT_TAIL)
    envelope = soap.envelope_head(tuple(_NSMAP.items()))
    body = "\n".join(lines)
    document = _DECLARATION + f"{envelope}\n{body}\n{soap.ENVELOPE_TAIL}\n".encode()
    _validate_out(document, ENVELOPE_SCHEMA)
    return document


def encode_settlement_file(settlement: PosSettlementFile) -> bytes:
    """The day's settlement file (a plain XML document, trailer computed from the records),
    validated by libxml2 in full: its shape is its number of records."""
    if not isinstance(settlement, PosSettlementFile):
        raise malformed("not a PosSettlementFile")
    try:
        written = _settlement_writer()(settlement)
    except Unencodable as error:
        raise _unencodable(error, "SettlementFile") from None
    root = f'{_PREFIX}:SettlementFile xmlns:{_PREFIX}="{NAMESPACE}"{_VERSION_ATTRIBUTE}'
    body = "\n".join(written.lines)
    document = _DECLARATION + f"<{root}>\n{body}\n</{_PREFIX}:SettlementFile>\n".encode()
    _validate_out(document, SETTLEMENT_SCHEMA, max_bytes=SETTLEMENT_LIMITS.max_bytes)
    return document


# -- reading (the schema has vouched for the structure; values are converted here) -------------

_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,6}))?(Z|([+-])([0-9]{2}):([0-9]{2}))"
)


def _whole(text: str, name: str) -> int:
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise malformed(f"{name} is not a whole number", field=name)
    return int(text)


def _bool_of(text: str, name: str) -> bool:
    text = text.strip()
    if text not in ("true", "false", "1", "0"):
        raise malformed(f"{name} is not a boolean", field=name)
    return text in ("true", "1")


def _parse_month(text: str, name: str) -> YearMonth:
    try:
        return YearMonth.parse(text)  # cached per text there
    except ValueError:
        raise malformed(f"{name} is not a month (YYYY-MM)", field=name) from None


def _date_of(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise malformed(f"{name} is not a date", field=name) from None


def _parse_instant(text: str, name: str) -> dt.datetime:
    match = _INSTANT.fullmatch(text.strip())
    if match is None:
        raise malformed(f"{name} is not a date-time with an offset", field=name)
    if match[7] is None or len(match[7]) in (3, 6):
        try:  # the usual forms: the C parser, once the pattern has vouched for the text
            return dt.datetime.fromisoformat(text.strip()).astimezone(JAKARTA)
        except ValueError:
            pass  # read field by field below, which names the problem
    try:
        if match[8] == "Z":
            zone = dt.UTC
        else:
            sign = -1 if match[9] == "-" else 1
            zone = dt.timezone(sign * dt.timedelta(hours=int(match[10]), minutes=int(match[11])))
        moment = dt.datetime(
            int(match[1]),
            int(match[2]),
            int(match[3]),
            int(match[4]),
            int(match[5]),
            int(match[6]),
            int((match[7] or "0").ljust(6, "0")),
            tzinfo=zone,
        )
        return moment.astimezone(JAKARTA)
    except (ValueError, OverflowError):
        raise malformed(f"{name} is not a valid date-time", field=name) from None


_REQUEST_ELEMENTS = frozenset(request for request, _ in OPERATION_ELEMENTS.values())


def _display(element: etree._Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else "?"
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    local = local[:40]
    if namespace == NAMESPACE:
        return local
    if namespace == soap.SOAP_NS:
        return f"soap:{local}"
    return f"{local} in another namespace" if namespace else f"{local} without a namespace"


def _read_fault(envelope: etree._Element, fault_element: etree._Element) -> PosFault:
    xmlsafe.validate(envelope, xmlsafe.load_schema(ENVELOPE_SCHEMA))
    fault = soap.read_fault(fault_element)
    element = next(iter(fault.detail), None)
    if element is None:
        return PosFault(fault.code, fault.string, subcode=fault.subcode)
    detail: dict[str, str | None] = _compiled_readers().fault_detail(element)
    return PosFault(fault.code, fault.string, subcode=fault.subcode, **detail)


def _payload(data: bytes, limits: Limits) -> tuple[etree._Element, etree._Element]:
    root = xmlsafe.parse(data, max_bytes=limits.max_bytes, max_depth=limits.max_depth)
    return root, soap.open_envelope(root)


def _decode(
    data: bytes,
    expected: frozenset[str],
    *,
    limits: Limits,
    codes: ResponseCodes | None,
) -> PosMessage:
    """Parse and validate the envelope, turn a Fault into its error (answers only: ``codes``
    given), check the element, read the message and check its cross-field rules.

    A valid envelope's payload is where the schema puts it. An invalid one is examined in the
    order that names its most useful problem: the envelope's structure, a Fault, the element,
    and only then libxml2's first schema error."""
    schema = xmlsafe.load_schema(ENVELOPE_SCHEMA)
    envelope, valid = xmlsafe.parse_valid(
        data, schema, max_bytes=limits.max_bytes, max_depth=limits.max_depth
    )
    # Valid, and an envelope (the schema also declares the messages themselves as global
    # elements): soap:Body is the envelope's last child and holds exactly one element.
    if valid and envelope.tag == soap.ENVELOPE:
        payload = envelope[-1][0]
    else:
        payload = soap.open_envelope(envelope)
    tag = payload.tag  # lxml builds the string anew on every read
    if tag == soap.FAULT:
        if codes is None:
            raise malformed("a request cannot be a soap:Fault", field="soap:Fault")
        raise _fault_error(_read_fault(envelope, payload), codes)
    name = _ELEMENT_NAMES.get(tag) or _display(payload)
    if name not in expected:
        wanted = " or ".join(sorted(expected))
        raise malformed(f"expected {wanted}, not {name}", field=name)
    if not valid:
        xmlsafe.validate(envelope, schema)  # raises libxml2's first error, worded
    try:
        message: PosMessage = _compiled_readers().messages[name](payload)
    except IndexError:  # the schema makes this impossible; kept total all the same
        raise malformed(f"{name} does not have its schema's layout", field=name) from None
    _rules(message)
    return message


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


def _default_codes() -> ResponseCodes:
    from jamsostek_channels.adapters.kantorpos.profile import default_profile

    return default_profile().response_codes


#: The local name of each message element, by its qualified tag.
_ELEMENT_NAMES: Final = {_q(name): name for name in _MESSAGE_NAMES}
#: Each element as the one ``expected`` (built once, not per message).
_ONLY: Final = {name: frozenset({name}) for name in _MESSAGE_NAMES}


def _answer(data: bytes, name: str, limits: Limits, codes: ResponseCodes | None) -> PosMessage:
    return _decode(
        data,
        _ONLY[name],
        limits=limits,
        codes=codes if codes is not None else _default_codes(),
    )


def _request(data: bytes, name: str, limits: Limits) -> PosMessage:
    return _decode(data, _ONLY[name], limits=limits, codes=None)


def _as(message: PosMessage, kind: type[_T]) -> _T:
    assert isinstance(message, kind)
    return message


def decode_request(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosRequest:
    """Server side: any request, whichever operation it is (check it against the SOAPAction
    with :func:`operation_of`)."""
    return cast(PosRequest, _decode(data, _REQUEST_ELEMENTS, limits=limits, codes=None))


def decode_registration_request(
    data: bytes, *, limits: Limits = MESSAGE_LIMITS
) -> PosRegistrationRequest:
    return _as(_request(data, "RegistrationRequest", limits), PosRegistrationRequest)


def decode_registration_confirm(
    data: bytes, *, limits: Limits = MESSAGE_LIMITS
) -> PosRegistrationConfirm:
    return _as(_request(data, "RegistrationConfirm", limits), PosRegistrationConfirm)


def decode_inquiry_request(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosInquiryRequest:
    return _as(_request(data, "InquiryRequest", limits), PosInquiryRequest)


def decode_payment_request(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosPaymentRequest:
    # The gateway's hot path: _decode straight, without the two wrappers the others use.
    message = _decode(data, _ONLY["PaymentRequest"], limits=limits, codes=None)
    assert isinstance(message, PosPaymentRequest)
    return message


def decode_status_request(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosStatusRequest:
    return _as(_request(data, "StatusRequest", limits), PosStatusRequest)


def decode_reversal_request(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosReversalRequest:
    return _as(_request(data, "ReversalRequest", limits), PosReversalRequest)


def decode_registration_challenge(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosRegistrationChallenge:
    """Client side: the answer to ``register`` (``codes``: the profile's response codes, used
    when the answer is a Fault; default: the reference profile's)."""
    return _as(_answer(data, "RegistrationChallenge", limits, codes), PosRegistrationChallenge)


def decode_registration_result(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosRegistrationResult:
    return _as(_answer(data, "RegistrationResult", limits, codes), PosRegistrationResult)


def decode_inquiry_response(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosInquiryResponse:
    return _as(_answer(data, "InquiryResponse", limits, codes), PosInquiryResponse)


def decode_payment_response(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosPaymentResponse:
    return _as(_answer(data, "PaymentResponse", limits, codes), PosPaymentResponse)


def decode_status_response(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosStatusResponse:
    return _as(_answer(data, "StatusResponse", limits, codes), PosStatusResponse)


def decode_reversal_response(
    data: bytes, *, codes: ResponseCodes | None = None, limits: Limits = MESSAGE_LIMITS
) -> PosReversalResponse:
    return _as(_answer(data, "ReversalResponse", limits, codes), PosReversalResponse)


def decode_fault(data: bytes, *, limits: Limits = MESSAGE_LIMITS) -> PosFault:
    """A Fault envelope read as it is (not turned into an error): for tests and logs."""
    envelope, payload = _payload(data, limits)
    if payload.tag != soap.FAULT:
        raise malformed(f"expected soap:Fault, not {_display(payload)}", field="soap:Body")
    return _read_fault(envelope, payload)


#: A settlement record's values, in :class:`PosSettlementRecord`'s field order.
_RecordRow: TypeAlias = tuple[
    str,
    str,
    str,
    tuple[YearMonth, ...],
    int,
    int,
    dt.datetime,
    SettlementStatus,
    str | None,
    dt.datetime | None,
]
_SETTLEMENT_STATUSES: Final = {status.value: status for status in SettlementStatus}


def _read_settlement_record(element: etree._Element) -> _RecordRow:
    """One record, its children found by tag: the reference reader, which names a missing
    child. :class:`_SettlementReader` reads the usual layout faster and falls back to this."""
    texts: dict[str, str] = {}
    months: tuple[YearMonth, ...] = ()
    for child in element:
        if child.tag == _Q_PERIODS:
            months = tuple(_parse_month(m.text or "", "month") for m in child)
        else:
            texts[child.tag] = child.text or ""
    try:
        reversed_at = texts.get(_Q_REVERSED_AT)
        state = _SETTLEMENT_STATUSES.get(texts[_Q_STATE])
        if state is None:
            raise malformed("state is not one of the allowed values", field="state")
        return _checked_row(
            (
                texts[_Q_REFERENCE],
                texts[_Q_HOST_REFERENCE],
                texts[_Q_NIK_MASKED],
                months,
                _whole(texts[_Q_AMOUNT], "amount"),
                _whole(texts[_Q_ADMIN_FEE], "adminFee"),
                _parse_instant(texts[_Q_PAID_AT], "paidAt"),
                state,
                texts.get(_Q_TELLER),
                None if reversed_at is None else _parse_instant(reversed_at, "reversedAt"),
            )
        )
    except KeyError as missing:  # the schema makes this impossible; kept total all the same
        name = str(missing.args[0]).rpartition("}")[2]
        raise malformed(f"{name} is missing", field=name) from None


def _checked_row(row: _RecordRow) -> _RecordRow:
    # The cross-field rule lives in _rules; only a record with a reversal time can break it.
    if row[9] is not None:
        _rules(PosSettlementRecord(*row))
    return row


def _vouched_instant(text: str, name: str) -> dt.datetime:
    """:func:`_parse_instant` for a text the XSD has already matched against its Instant
    pattern: the C parser reads every form that pattern allows, so the regex is not run again
    (anything it cannot read, such as an impossible date, goes the long way and is named)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return _parse_instant(text, name)
    if moment.tzinfo is None:
        return _parse_instant(text, name)
    return moment.astimezone(JAKARTA)


class _SettlementReader:
    """Reads a validated file's records by position (the XSD fixes their children's order): only
    the few tags that place the optional elements and confirm the layout are read. Amounts and
    month lists repeat all day and are converted once per distinct text. A layout it does not
    recognise goes to :func:`_read_settlement_record`."""

    __slots__ = ("_months", "_numbers")

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._months: dict[tuple[str, ...], tuple[YearMonth, ...]] = {}

    def __call__(self, element: etree._Element) -> _RecordRow:
        # One C call for all the children (list(element) steps an iterator per child); the
        # stubs only know an int index.
        children: list[etree._Element] = element[:]  # type: ignore[index,assignment]
        count = len(children)
        # reference, hostReference, [teller], nikMasked, periods, amount, adminFee, paidAt, state,
        # [reversedAt]: nikMasked is at 2, or at 3 after a teller.
        at = 3 if count > 8 and children[2].tag == _Q_TELLER else 2
        tail = count - at
        if (
            tail not in (6, 7)
            or children[at + 1].tag != _Q_PERIODS
            or children[at + 5].tag != _Q_STATE
            or (tail == 7 and children[at + 6].tag != _Q_REVERSED_AT)
        ):
            return _read_settlement_record(element)
        key = tuple([month.text or "" for month in children[at + 1]])
        months = self._months.get(key)
        if months is None:
            months = self._months[key] = tuple(_parse_month(text, "month") for text in key)
        state = _SETTLEMENT_STATUSES.get(children[at + 5].text or "")
        if state is None:
            raise malformed("state is not one of the allowed values", field="state")
        return _checked_row(
            (
                children[0].text or "",
                children[1].text or "",
                children[at].text or "",
                months,
                self._number(children[at + 2].text or "", "amount"),
                self._number(children[at + 3].text or "", "adminFee"),
                _vouched_instant(children[at + 4].text or "", "paidAt"),
                state,
                (children[2].text or "") if at == 3 else None,
                _vouched_instant(children[at + 6].text or "", "reversedAt") if tail == 7 else None,
            )
        )

    def _number(self, text: str, name: str) -> int:
        number = self._numbers.get(text)
        if number is None:
            number = self._numbers[text] = _whole(text, name)
        return number


_Q_PERIODS = _q("periods")
_Q_NIK = _q("nik")
_Q_REFERENCE = _q("reference")
_Q_HOST_REFERENCE = _q("hostReference")
_Q_TELLER = _q("teller")
_Q_NIK_MASKED = _q("nikMasked")
_Q_AMOUNT = _q("amount")
_Q_ADMIN_FEE = _q("adminFee")
_Q_PAID_AT = _q("paidAt")
_Q_STATE = _q("state")
_Q_REVERSED_AT = _q("reversedAt")
_Q_RECORD = _q("record")


_TRAILER_FIELDS = (
    ("recordCount", "record_count"),
    ("paidCount", "paid_count"),
    ("paidAmount", "paid_amount"),
    ("paidAdminFee", "paid_admin_fee"),
    ("reversedCount", "reversed_count"),
    ("reversedAmount", "reversed_amount"),
)


def _settlement_element(root: etree._Element, name: str, position: int) -> etree._Element:
    # The XSD fixes where the header fields and the trailer are: taken from there (lxml's
    # iterchildren looks ahead for the next match, past every record), looked for only if not.
    if -len(root) <= position < len(root) and root[position].tag == _q(name):
        return root[position]
    child = next(root.iterchildren(_q(name)), None)
    if child is None:  # the schema makes this impossible; kept total all the same
        raise malformed(f"{name} is missing", field=name)
    return child


def _decode_settlement(
    data: bytes, limits: Limits
) -> tuple[str, dt.date, dt.datetime, list[_RecordRow]]:
    """``(office, business date, generated at, records)`` of a settlement file: parsed,
    validated against the XSD as a whole, every record read, then the trailer checked against
    them. Nothing is returned from a file that disagrees with itself."""
    schema = xmlsafe.load_schema(SETTLEMENT_SCHEMA)
    # The depth search runs only for a file the schema refuses (100,000 records: ~0.2 s).
    root, valid = xmlsafe.parse_valid(
        data, schema, max_bytes=limits.max_bytes, max_depth=limits.max_depth
    )
    if root.tag != _q("SettlementFile"):  # the types' global elements are valid roots too
        raise malformed(f"expected SettlementFile, not {_display(root)}", field=_display(root))
    if not valid:
        xmlsafe.validate(root, schema)  # raises libxml2's first error, worded
    office = _settlement_element(root, "office", 0).text or ""
    try:
        business_date = dt.date.fromisoformat(
            (_settlement_element(root, "businessDate", 1).text or "").strip()
        )
    except ValueError:
        raise malformed("businessDate is not a date", field="businessDate") from None
    generated_at = _parse_instant(
        _settlement_element(root, "generatedAt", 2).text or "", "generatedAt"
    )
    read = _SettlementReader()
    rows = [read(record) for record in root.iterchildren(_Q_RECORD)]
    trailer = _compiled_readers().trailer(_settlement_element(root, "trailer", -1))
    computed = _trailer_of(rows)
    for wire, attribute in _TRAILER_FIELDS:
        if getattr(trailer, attribute) != getattr(computed, attribute):
            raise malformed(
                f"the trailer's {wire} disagrees with the records", field=f"trailer/{wire}"
            )
    return office, business_date, generated_at, rows


def _trailer_of(rows: list[_RecordRow]) -> PosSettlementTrailer:
    """:meth:`PosSettlementTrailer.of` over rows, in one pass."""
    paid = paid_amount = paid_fee = reversed_count = reversed_amount = 0
    for row in rows:
        if row[7] is SettlementStatus.PAID:
            paid += 1
            paid_amount += row[4]
            paid_fee += row[5]
        elif row[7] is SettlementStatus.REVERSED:
            reversed_count += 1
            reversed_amount += row[4]
    return PosSettlementTrailer(
        record_count=len(rows),
        paid_count=paid,
        paid_amount=paid_amount,
        paid_admin_fee=paid_fee,
        reversed_count=reversed_count,
        reversed_amount=reversed_amount,
    )


def decode_settlement_file(data: bytes, *, limits: Limits = SETTLEMENT_LIMITS) -> PosSettlementFile:
    """The day's settlement file, validated, with its trailer checked against its records
    (count, paid and reversed totals): a file that disagrees with itself is refused whole."""
    office, business_date, generated_at, rows = _decode_settlement(data, limits)
    return PosSettlementFile(
        office=office,
        business_date=business_date,
        generated_at=generated_at,
        records=tuple(PosSettlementRecord(*row) for row in rows),
    )


# -- from and to the library's wire-neutral types -----------------------------------------------


def registration_request_for(
    request: RegistrationRequest, *, office: str, teller: str
) -> PosRegistrationRequest:
    """Client side: ``register`` for a :class:`~jamsostek_channels.channel.RegistrationRequest`."""
    return PosRegistrationRequest(
        office=office,
        teller=teller,
        reference=request.reference,
        requested_at=request.requested_at,
        participant=PosParticipant.of(request.participant),
        registered_by=PosPayer.of(request.payer),
    )


def challenge_for(challenge: OtpChallenge) -> PosRegistrationChallenge:
    """Server side: the answer to ``register``."""
    return PosRegistrationChallenge(
        reference=challenge.reference,
        challenge_id=challenge.challenge_id,
        phone_masked=challenge.phone_masked,
        expires_at=challenge.expires_at,
    )


def challenge_from(message: PosRegistrationChallenge) -> OtpChallenge:
    return OtpChallenge(
        reference=message.reference,
        challenge_id=message.challenge_id,
        phone_masked=message.phone_masked,
        expires_at=message.expires_at,
    )


def registration_confirm_for(
    challenge: OtpChallenge, otp: str, *, office: str, teller: str
) -> PosRegistrationConfirm:
    return PosRegistrationConfirm(
        office=office,
        teller=teller,
        reference=challenge.reference,
        challenge_id=challenge.challenge_id,
        otp=otp,
    )


def registration_result_for(registration: Registration) -> PosRegistrationResult:
    """Server side: the answer to ``confirm``."""
    return PosRegistrationResult(
        reference=registration.reference,
        kpj=registration.kpj,
        nik_masked=registration.nik_masked,
        name=registration.name,
        registered_from=registration.registered,
        programs=registration.programs,
    )


def registration_from(message: PosRegistrationResult) -> Registration:
    return Registration(
        reference=message.reference,
        kpj=message.kpj,
        nik_masked=message.nik_masked,
        name=message.name,
        registered=message.registered_from,
        programs=message.programs,
    )


def inquiry_request_for(
    customer: CustomerId,
    months: int,
    *,
    office: str,
    teller: str,
    reference: str | None = None,
    payer: Payer | None = None,
) -> PosInquiryRequest:
    """Client side: ``inquire`` (``payer`` left out: the participant pays)."""
    return PosInquiryRequest(
        office=office,
        teller=teller,
        customer=customer,
        months=months,
        reference=reference,
        payer=None if payer is None else PosPayer.of(payer),
    )


def inquiry_response_for(
    inquiry: Inquiry, *, valid_until: dt.datetime | None = None
) -> PosInquiryResponse:
    """Server side: the answer to ``inquire``."""
    return PosInquiryResponse(
        inquiry_id=inquiry.inquiry_id,
        customer=inquiry.customer,
        kpj=inquiry.kpj,
        name_masked=inquiry.name_masked,
        programs=inquiry.programs,
        coverage_state=inquiry.state,
        bills=tuple(PosBill(b.period, b.amount, b.discount) for b in inquiry.bills),
        total=inquiry.amount,
        admin_fee=inquiry.admin_fee,
        valid_until=valid_until,
    )


def inquiry_from_response(message: PosInquiryResponse) -> Inquiry:
    """Client side: the answer to ``inquire`` as the library's
    :class:`~jamsostek_channels.channel.Inquiry`."""
    return Inquiry(
        customer=message.customer,
        inquiry_id=message.inquiry_id,
        kpj=message.kpj,
        name_masked=message.name_masked,
        programs=message.programs,
        state=message.coverage_state,
        bills=tuple(Bill(b.period, b.amount, b.discount) for b in message.bills),
        amount=message.total,
        admin_fee=message.admin_fee,
    )


def payment_request_for(
    request: PaymentRequest, *, office: str, teller: str | None = None
) -> PosPaymentRequest:
    """Client side: ``pay``. ``teller`` defaults to the request's ``agent_id``."""
    return PosPaymentRequest(
        office=office,
        teller=teller if teller is not None else (request.agent_id or ""),
        reference=request.reference,
        customer=request.customer,
        inquiry_id=request.inquiry_id,
        periods=request.periods,
        amount=request.amount,
        admin_fee=request.admin_fee,
        payer=PosPayer.of(request.payer),
        repeat=request.repeat,
        requested_at=request.requested_at,
    )


def status_request_for(
    request: PaymentRequest, *, office: str, teller: str | None = None
) -> PosStatusRequest:
    return PosStatusRequest(
        office=office,
        teller=teller if teller is not None else (request.agent_id or ""),
        reference=request.reference,
    )


def reversal_request_for(
    request: PaymentRequest,
    repeat: bool,
    *,
    office: str,
    at: dt.datetime,
    teller: str | None = None,
) -> PosReversalRequest:
    return PosReversalRequest(
        office=office,
        teller=teller if teller is not None else (request.agent_id or ""),
        reference=request.reference,
        amount=request.amount,
        repeat=repeat,
        requested_at=at,
    )


_PAYMENT_STATES = {
    "APPLIED": PaymentState.APPLIED,
    "DECLINED": PaymentState.DECLINED,
    "PENDING": PaymentState.PENDING,
    "REVERSED": PaymentState.REVERSED,
    "NOT_FOUND": PaymentState.NOT_FOUND,
}


def payment_result_from(message: PosPaymentResponse | PosStatusResponse) -> PaymentResult:
    """Client side: a payment's or status inquiry's answer as a
    :class:`~jamsostek_channels.channel.PaymentResult` (``host_code`` is the response code;
    turn a DECLINED one into an error with ``codes.error_for``)."""
    return PaymentResult(
        reference=message.reference,
        state=_PAYMENT_STATES[message.status.value],
        host_reference=message.host_reference,
        periods=message.periods,
        amount=message.amount or 0,
        paid_at=message.paid_at,
        host_code=message.response_code,
    )


def _result_code(result: PaymentResult, codes: ResponseCodes) -> str:
    if result.state is PaymentState.PENDING:
        return codes.pending
    if result.state in (PaymentState.DECLINED, PaymentState.NOT_FOUND):
        if result.host_code is not None and result.host_code in codes:
            return result.host_code
        if result.state is PaymentState.NOT_FOUND:
            return codes.code_for("host.not_found")
        return codes.unknown_refusal
    return codes.success


def payment_response_for(result: PaymentResult, *, codes: ResponseCodes) -> PosPaymentResponse:
    """Server side: the answer to ``pay`` (APPLIED, DECLINED or PENDING only: anything else
    raises ``ValueError``). A DECLINED result's ``host_code`` is its response code."""
    status = PaymentStatus(result.state.name)
    return PosPaymentResponse(
        reference=result.reference,
        status=status,
        response_code=_result_code(result, codes),
        host_reference=result.host_reference,
        periods=result.periods,
        amount=result.amount,
        paid_at=result.paid_at,
    )


def status_response_for(result: PaymentResult, *, codes: ResponseCodes) -> PosStatusResponse:
    """Server side: the answer to ``status``."""
    return PosStatusResponse(
        reference=result.reference,
        status=TransactionStatus(result.state.name),
        response_code=_result_code(result, codes),
        host_reference=result.host_reference,
        periods=result.periods,
        amount=None if result.state is PaymentState.NOT_FOUND else result.amount,
        paid_at=result.paid_at,
    )


_REVERSAL_STATES = {
    ReversalStatus.REVERSED: ReversalState.REVERSED,
    ReversalStatus.NOT_FOUND: ReversalState.NOT_FOUND,
    ReversalStatus.REFUSED: ReversalState.REFUSED,
}


def reversal_result_from(message: PosReversalResponse) -> ReversalResult:
    return ReversalResult(
        reference=message.reference,
        state=_REVERSAL_STATES[message.status],
        host_code=message.response_code,
    )


def reversal_response_for(
    result: ReversalResult, *, codes: ResponseCodes, reversed_at: dt.datetime | None = None
) -> PosReversalResponse:
    """Server side: the answer to ``reverse`` (a QUEUED result is the client's, never an
    answer: ``ValueError``)."""
    status = ReversalStatus(result.state.name)
    if status is ReversalStatus.REVERSED:
        code = codes.success
    elif result.host_code is not None and result.host_code in codes:
        code = result.host_code
    elif status is ReversalStatus.NOT_FOUND:
        code = codes.code_for("host.not_found")
    else:
        code = codes.code_for("host.reversal_refused")
    return PosReversalResponse(
        reference=result.reference, status=status, response_code=code, reversed_at=reversed_at
    )


def _clean(text: str) -> str:
    return " ".join(text.split())[:255] or "-"


def fault_for(
    error: JamsostekError, *, codes: ResponseCodes, reference: str | None = None
) -> PosFault:
    """Server side: the Fault that answers ``error`` (its code mapped through ``codes``).

    A malformed request is ``soap:Client`` with code 30 (31 when too large); a SOAP 1.2
    envelope ``soap:VersionMismatch``; a refusal ``soap:Client`` and a failure of the host
    ``soap:Server``, as the code's entry says.
    """
    code = codes.code_for(error.code)
    faultcode = codes.fault_for(code)
    if isinstance(error, soap.EnvelopeVersionMismatch):
        faultcode = soap.FaultCode.VERSION_MISMATCH
    return PosFault(
        code=faultcode,
        string=_clean(error.message_en),
        response_code=code,
        reference=reference,
        message_id=_clean(error.message_id),
        message_en=_clean(error.message_en),
    )


_SETTLEMENT_STATES = {
    SettlementStatus.PAID: SettlementState.PAID,
    SettlementStatus.REVERSED: SettlementState.REVERSED,
}


def settlement_records_from(
    settlement: PosSettlementFile, *, channel: str = "kantorpos"
) -> tuple[SettlementRecord, ...]:
    """The file's records as the library's reconciliation reads them."""
    return tuple(
        SettlementRecord(
            channel=channel,
            reference=r.reference,
            host_reference=r.host_reference,
            nik_masked=r.nik_masked,
            periods=r.periods,
            amount=r.amount,
            admin_fee=r.admin_fee,
            paid_at=r.paid_at,
            state=_SETTLEMENT_STATES[r.state],
        )
        for r in settlement.records
    )


def read_settlement(
    data: bytes, *, limits: Limits = SETTLEMENT_LIMITS, channel: str = "kantorpos"
) -> tuple[str, dt.date, tuple[SettlementRecord, ...]]:
    """``(office, business date, records)`` of a settlement file, as
    :func:`decode_settlement_file` then :func:`settlement_records_from` give them (the same
    checks and refusals), without building a :class:`PosSettlementRecord` per line first: a
    day's file has ~100,000 of them. What the adapter and ``reconcile`` read a file with."""
    office, business_date, _, rows = _decode_settlement(data, limits)
    states = _SETTLEMENT_STATES
    return (
        office,
        business_date,
        tuple(
            SettlementRecord(channel, r[0], r[1], r[2], r[3], r[4], r[5], r[6], states[r[7]])
            for r in rows
        ),
    )


def settlement_file_for(
    records: Iterable[SettlementRecord],
    *,
    office: str,
    business_date: dt.date,
    generated_at: dt.datetime,
) -> PosSettlementFile:
    """A settlement file from the library's records (their order kept)."""
    return PosSettlementFile(
        office=office,
        business_date=business_date,
        generated_at=generated_at,
        records=tuple(
            PosSettlementRecord(
                reference=r.reference,
                host_reference=r.host_reference,
                nik_masked=r.nik_masked,
                periods=r.periods,
                amount=r.amount,
                admin_fee=r.admin_fee,
                paid_at=r.paid_at,
                state=SettlementStatus(r.state.name),
            )
            for r in records
        ),
    )
