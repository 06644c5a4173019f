"""The counter's side of the mapping between the library's wire-neutral types
(:mod:`jamsostek_channels.channel`) and the Kantor Pos messages (:mod:`.types`).

The adapter builds each request from what the client hands it (``*_for``) and turns each
answer back into the library's types (``*_from``); the settlement file's records become the
library's :class:`~jamsostek_channels.channel.SettlementRecord` for reconciliation. The other
direction, answers built from the host's results, is the server's and lives with the fake
gateway (:mod:`jamsostek_channels.adapters.kantorpos.fake`).
"""

from __future__ import annotations

import datetime as dt

from jamsostek_channels.adapters.kantorpos.types import (
    PosInquiryRequest,
    PosInquiryResponse,
    PosParticipant,
    PosPayer,
    PosPaymentRequest,
    PosPaymentResponse,
    PosRegistrationChallenge,
    PosRegistrationConfirm,
    PosRegistrationRequest,
    PosRegistrationResult,
    PosReversalRequest,
    PosReversalResponse,
    PosSettlementFile,
    PosStatusRequest,
    PosStatusResponse,
    ReversalStatus,
    SettlementStatus,
)
from jamsostek_channels.channel import (
    Bill,
    CustomerId,
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
from jamsostek_channels.model import Payer

__all__ = [
    "challenge_from",
    "inquiry_from_response",
    "inquiry_request_for",
    "payment_request_for",
    "payment_result_from",
    "registration_confirm_for",
    "registration_from",
    "registration_request_for",
    "reversal_request_for",
    "reversal_result_from",
    "settlement_records_from",
    "status_request_for",
]


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
            scope=settlement.office,
        )
        for r in settlement.records
    )
