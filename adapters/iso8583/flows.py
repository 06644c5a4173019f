"""The BPU flows' DE48 items: how an inquiry, a payment and their answers ride in ISO 8583.

Both sides use this module (the adapter as terminal, the fake switch as host), so they cannot
disagree. Beside the common tags (:class:`~.tlv.PrivateData`: ``PI``, ``CN``, ``NM``, ``AT``,
``AC``, ``MC``, ``FP``, ``PG``, ``DN``, ``DA``) the flows carry the project's own items, in
:attr:`PrivateData.other`:

====  ==========================================================================================
tag   meaning
====  ==========================================================================================
FR    the channel's payment reference (the journal's idempotency key; 1-64 of ``A-Z a-z 0-9 -
      _ .``): in a payment, its advices and reversals. The host keys a payment by it, so a
      repeat, an advice or a reversal after a restart names the same payment
IQ    the host's inquiry id: in the inquiry's answer, and in the payment that follows it
C1    the participant's KPJ (customer reference 1), in the inquiry's answer
ST    coverage state (``active``, ``due``, ``in-arrears``), in the inquiry's answer
MA    each month's amount, oldest first, comma-separated whole rupiah (``18150,18150``)
PK    who pays (``self``, ``sertakan``, ``csr``, ``credit-union``, ``apbd``, ``apbn``,
      ``apbdes``): the host prices by it (a budget-funded payer gets no PP 50/2025 discount)
PS    the donor's scheme code, with ``PK`` ``csr`` only
HR    the host's payment reference, in a payment's or an advice's answer
PT    when the host applied the payment, ``YYYYMMDDhhmmss`` UTC
====  ==========================================================================================

The RRN (DE37) of a payment and of its advices and reversals is :func:`rrn_of` its reference:
twelve hex digits, the same after a restart, so a switch's own logs tie them together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from jamsostek_channels import redact
from jamsostek_channels.adapters.iso8583.tlv import PrivateData
from jamsostek_channels.channel import (
    Bill,
    CustomerId,
    Inquiry,
    PaymentRequest,
    PaymentResult,
    PaymentState,
)
from jamsostek_channels.errors import InvalidInput, MalformedMessage
from jamsostek_channels.model import CoverageState, Payer, PayerKind
from jamsostek_channels.period import YearMonth, month_range

__all__ = [
    "COVERAGE",
    "HOST_REFERENCE",
    "INQUIRY_ID",
    "KPJ",
    "MONTH_AMOUNTS",
    "PAID_AT",
    "PAYER_KIND",
    "PAYER_SCHEME",
    "PAYMENT_REFERENCE",
    "inquiry_answer",
    "inquiry_of",
    "inquiry_question",
    "payer_of",
    "payment_data",
    "payment_of",
    "reference_of",
    "result_data",
    "result_of",
    "rrn_of",
]

PAYMENT_REFERENCE = "FR"
INQUIRY_ID = "IQ"
KPJ = "C1"
COVERAGE = "ST"
MONTH_AMOUNTS = "MA"
PAYER_KIND = "PK"
PAYER_SCHEME = "PS"
HOST_REFERENCE = "HR"
PAID_AT = "PT"

_PAID_AT_FORMAT = "%Y%m%d%H%M%S"


def _malformed(reason: str) -> MalformedMessage:
    return MalformedMessage("message.malformed", {"reason": reason})


def rrn_of(reference: str) -> str:
    """DE37 of a payment and of everything that names it: 12 upper-case hex digits of the
    reference's SHA-256 (the reference itself may be longer than DE37)."""
    return hashlib.sha256(reference.encode("ascii")).hexdigest()[:12].upper()


def _items(data: PrivateData) -> Mapping[str, str]:
    return dict(data.other)


def _required(data: PrivateData, tag: str) -> str:
    value = _items(data).get(tag)
    if not value:
        raise _malformed(f"DE48 {tag} missing")
    return value


def reference_of(data: PrivateData) -> str:
    """The payment reference (``FR``) a payment, advice or reversal names."""
    return _required(data, PAYMENT_REFERENCE)


def _periods(data: PrivateData) -> tuple[YearMonth, ...]:
    if data.first_period is None or data.months is None:
        raise _malformed("DE48 FP and MC missing")
    return tuple(month_range(data.first_period, data.months))


def _payer_items(payer: Payer) -> list[tuple[str, str]]:
    items = [(PAYER_KIND, payer.kind.value)]
    if payer.scheme is not None:
        items.append((PAYER_SCHEME, payer.scheme))
    return items


def payer_of(data: PrivateData) -> Payer:
    """Who pays, as DE48 ``PK``/``PS`` say (the worker when they say nothing)."""
    items = _items(data)
    try:
        return Payer(PayerKind(items.get(PAYER_KIND, "self")), scheme=items.get(PAYER_SCHEME))
    except ValueError:
        raise _malformed("DE48 PK is not a payer kind") from None


# --- the inquiry ------------------------------------------------------------------------------


def inquiry_question(
    product: str, customer: CustomerId, months: int, payer: Payer | None
) -> PrivateData:
    """DE48 of an inquiry: what ``months`` months cost ``customer`` when ``payer`` pays."""
    other = _payer_items(payer) if payer is not None else []
    return PrivateData(product=product, customer=customer.value, months=months, other=other)


def inquiry_answer(product: str, inquiry: Inquiry) -> PrivateData:
    """DE48 of an inquiry's approved answer (the switch's side)."""
    return PrivateData(
        product=product,
        customer=inquiry.customer.value,
        name=inquiry.name_masked,
        amount=inquiry.amount,
        months=len(inquiry.bills),
        first_period=inquiry.bills[0].period,
        programs=inquiry.programs,
        discount_name=next((b.discount for b in inquiry.bills if b.discount), None),
        other=[
            (INQUIRY_ID, inquiry.inquiry_id),
            (KPJ, inquiry.kpj),
            (COVERAGE, inquiry.state.value),
            (MONTH_AMOUNTS, ",".join(str(bill.amount) for bill in inquiry.bills)),
        ],
    )


def inquiry_of(data: PrivateData, customer: CustomerId) -> Inquiry:
    """The :class:`Inquiry` an approved answer's DE48 states (``admin_fee`` 0: the client adds
    the channel's)."""
    periods = _periods(data)
    amounts_text = _required(data, MONTH_AMOUNTS).split(",")
    if len(amounts_text) != len(periods) or not all(a.isdigit() for a in amounts_text):
        raise _malformed("DE48 MA does not give one amount per month")
    amounts = [int(text) for text in amounts_text]
    if data.amount != sum(amounts):
        raise _malformed("DE48 AT is not the sum of MA")
    try:
        state = CoverageState(_required(data, COVERAGE))
    except ValueError:
        raise _malformed("DE48 ST is not a coverage state") from None
    return Inquiry(
        customer=customer,
        inquiry_id=_required(data, INQUIRY_ID),
        kpj=_required(data, KPJ),
        name_masked=redact.name(data.name or ""),
        programs=data.programs,
        state=state,
        bills=tuple(
            Bill(period=period, amount=amount, discount=data.discount_name)
            for period, amount in zip(periods, amounts, strict=True)
        ),
        amount=sum(amounts),
        admin_fee=0,
    )


# --- the payment ------------------------------------------------------------------------------


def payment_data(product: str, request: PaymentRequest) -> PrivateData:
    """DE48 of a payment, and of its advices and reversals."""
    other = [(PAYMENT_REFERENCE, request.reference)]
    if request.inquiry_id is not None:
        other.append((INQUIRY_ID, request.inquiry_id))
    return PrivateData(
        product=product,
        customer=request.customer.value,
        amount=request.amount,
        admin_fee=request.admin_fee,
        months=len(request.periods),
        first_period=request.periods[0],
        other=[*other, *_payer_items(request.payer)],
    )


def payment_of(
    data: PrivateData, *, amount: int, at: dt.datetime, agent_id: str | None
) -> PaymentRequest:
    """The payment a 0200 or 0220 states (the switch's side); ``amount`` is DE4, which must
    agree with ``AT``."""
    if data.customer is None:
        raise _malformed("DE48 CN missing")
    if data.amount is not None and data.amount != amount:
        raise _malformed("DE4 and DE48 AT disagree")
    try:
        customer = CustomerId.parse(data.customer, field="CN")
    except InvalidInput:  # the NIK or KPJ is not one
        raise _malformed("DE48 CN is not a NIK or KPJ") from None
    return PaymentRequest(
        reference=reference_of(data),
        customer=customer,
        periods=_periods(data),
        amount=amount,
        admin_fee=data.admin_fee or 0,
        payer=payer_of(data),
        inquiry_id=_items(data).get(INQUIRY_ID),
        requested_at=at,
        agent_id=agent_id,
    )


def result_data(product: str, result: PaymentResult) -> PrivateData:
    """DE48 of an approved payment's or advice's answer: the host's reference and time."""
    other = []
    if result.host_reference:
        other.append((HOST_REFERENCE, result.host_reference))
    if result.paid_at is not None:
        other.append((PAID_AT, result.paid_at.astimezone(dt.UTC).strftime(_PAID_AT_FORMAT)))
    first = result.periods[0] if result.periods else None
    return PrivateData(
        product=product,
        amount=result.amount,
        months=len(result.periods) or None,
        first_period=first,
        other=[(PAYMENT_REFERENCE, result.reference), *other],
    )


def _paid_at(text: str) -> dt.datetime:
    """DE48 ``PT`` read: exactly ``YYYYMMDDhhmmss`` (UTC). By hand: ``strptime`` took longer
    than the rest of reading the answer's DE48."""
    if not (len(text) == 14 and text.isascii() and text.isdigit()):
        raise _malformed("DE48 PT is not YYYYMMDDhhmmss")
    try:
        return dt.datetime(
            int(text[:4]), int(text[4:6]), int(text[6:8]),
            int(text[8:10]), int(text[10:12]), int(text[12:]), tzinfo=dt.UTC,
        )  # fmt: skip
    except ValueError:
        raise _malformed("DE48 PT is not YYYYMMDDhhmmss") from None


def result_of(data: PrivateData, reference: str, host_code: str) -> PaymentResult:
    """The APPLIED result an approved answer's DE48 states."""
    items = _items(data)
    paid_at = _paid_at(items[PAID_AT]) if PAID_AT in items else None
    periods = _periods(data) if data.first_period and data.months else ()
    return PaymentResult(
        reference=reference,
        state=PaymentState.APPLIED,
        host_reference=items.get(HOST_REFERENCE),
        periods=periods,
        amount=data.amount or 0,
        paid_at=paid_at,
        host_code=host_code,
    )
