"""The Kantor Pos messages as attrs types: what each one carries, nothing about XML.

One frozen type per message of ``kantorpos-1.xsd`` and ``kantorpos-2.xsd``; the XSD element of
``PosX`` is ``kp:X`` (:func:`element_name`). Version 2 adds ``sent_at`` to every request (when
this attempt was sent; the host refuses one outside its tolerance) and, to
:class:`PosStatusResponse`, the customer, office and teller of the payment found; a message is
written in the lowest version that carries what it holds (:func:`lowest_major`).

Values are the wire's, not yet checked by the library's rules:
:meth:`PosParticipant.to_participant` and :meth:`PosPayer.to_payer` do that. The bytes are
:mod:`.codec`'s job (SOAP messages) and :mod:`.settlement`'s (the daily file); turning them into
the library's wire-neutral types is :mod:`.mapping`'s.

* ``register``: :class:`PosRegistrationRequest` -> :class:`PosRegistrationChallenge`
* ``confirm``: :class:`PosRegistrationConfirm` -> :class:`PosRegistrationResult`
* ``inquire``: :class:`PosInquiryRequest` -> :class:`PosInquiryResponse`
* ``pay``: :class:`PosPaymentRequest` -> :class:`PosPaymentResponse`
* ``status``: :class:`PosStatusRequest` -> :class:`PosStatusResponse`
* ``reverse``: :class:`PosReversalRequest` -> :class:`PosReversalResponse`

Refusals travel as a SOAP Fault (:class:`PosFault`); the daily :class:`PosSettlementFile` is a
plain XML document.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Final, TypeAlias

import attrs

from jamsostek_channels import redact
from jamsostek_channels.adapters.kantorpos import soap
from jamsostek_channels.channel import CustomerId
from jamsostek_channels.model import CoverageState, Participant, Payer, PayerKind, Program, Sex
from jamsostek_channels.period import YearMonth

__all__ = [
    "OPERATION_ELEMENTS",
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
    "element_name",
    "lowest_major",
    "operation_of",
]


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
    name: str = attrs.field(repr=redact.name)
    birth_date: dt.date = attrs.field(repr=redact.birth_date)
    sex: Sex
    phone: str = attrs.field(repr=redact.phone)
    email: str | None = attrs.field(repr=redact.optional(redact.email))
    address: str = attrs.field(repr=redact.address)
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
    name: str | None = attrs.field(default=None, repr=redact.optional(redact.name))
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
    sent_at: dt.datetime | None = None  #: version 2: when this attempt was sent


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
    sent_at: dt.datetime | None = None  #: version 2: when this attempt was sent


@attrs.frozen
class PosRegistrationResult:
    reference: str
    kpj: str = attrs.field(repr=redact.kpj)
    nik_masked: str
    name: str = attrs.field(repr=redact.name)
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
    sent_at: dt.datetime | None = None  #: version 2: when this attempt was sent


@attrs.frozen
class PosInquiryResponse:
    """``total`` must be the sum of the bills (checked both ways)."""

    inquiry_id: str
    customer: CustomerId
    kpj: str = attrs.field(repr=redact.kpj)
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
    sent_at: dt.datetime | None = None  #: version 2: when this attempt was sent


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
    sent_at: dt.datetime | None = None  #: version 2: when this attempt was sent


@attrs.frozen
class PosStatusResponse:
    """APPLIED and REVERSED need ``host_reference`` and ``paid_at`` (checked both ways).
    Version 2 names the payment found: ``customer``, ``office``, ``teller``."""

    reference: str
    status: TransactionStatus
    response_code: str
    host_reference: str | None = None
    periods: tuple[YearMonth, ...] = ()
    amount: int | None = None
    paid_at: dt.datetime | None = None
    customer: CustomerId | None = None
    office: str | None = None
    teller: str | None = None


@attrs.frozen
class PosReversalRequest:
    office: str
    teller: str
    reference: str
    amount: int
    requested_at: dt.datetime
    repeat: bool = False
    sent_at: dt.datetime | None = None  #: version 2: when this attempt was sent


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


def lowest_major(message: PosMessage) -> int:
    """The lowest major version that carries everything ``message`` holds: 2 for a request
    with a send time or a status answer naming its payment, else 1 (a sender sends the lowest
    version that carries what it needs)."""
    if getattr(message, "sent_at", None) is not None:
        return 2
    if isinstance(message, PosStatusResponse) and (
        message.customer is not None or message.office is not None or message.teller is not None
    ):
        return 2
    return 1
