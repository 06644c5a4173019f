"""The channel interface: what every channel offers, in wire-neutral types.

A partner's code talks to :class:`jamsostek_channels.client.Client`, which is the same for every
channel. The client checks the rules and the channel's :class:`Capabilities`, journals every
money-moving call, and hands wire-neutral requests to an :class:`Adapter`. An adapter only
translates these types to and from its wire format (SNAP JSON, SOAP/XML, ISO 8583, batch files)
and maps its response codes into :mod:`jamsostek_channels.errors`.

Nothing here assumes HTTP: an adapter may frame TCP messages or write files.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from jamsostek_channels import redact
from jamsostek_channels.clock import Clock
from jamsostek_channels.errors import InvalidInput, Problem
from jamsostek_channels.identifiers import kpj as _kpj
from jamsostek_channels.identifiers import nik as _nik
from jamsostek_channels.model import CoverageState, Participant, Payer, Program
from jamsostek_channels.period import YearMonth
from jamsostek_channels.wirefacts import NO_FACTS

__all__ = [
    "POLICY_ROLES",
    "ROLES",
    "Adapter",
    "AdviceRequest",
    "Advices",
    "AutoDebitMandate",
    "Bill",
    "Capabilities",
    "Channel",
    "CustomerId",
    "CustomerIdKind",
    "FeeSchedule",
    "Histories",
    "HistoryEntry",
    "Inquiries",
    "Inquiry",
    "InquiryRequest",
    "MandateCancellation",
    "MandateRequest",
    "Mandates",
    "Operation",
    "OtpChallenge",
    "OtpConfirmation",
    "PaymentRequest",
    "PaymentResult",
    "PaymentState",
    "Payments",
    "Redelivery",
    "Registration",
    "RegistrationRequest",
    "Registrations",
    "Resolution",
    "ReversalRequest",
    "ReversalResult",
    "ReversalState",
    "Reversals",
    "SettlementRecord",
    "SettlementState",
    "Settlements",
    "StatusInquiries",
    "WireFacts",
    "offered",
]


class Operation(enum.StrEnum):
    QUOTE = "quote"
    REGISTER = "register"
    INQUIRE = "inquire"
    PAY = "pay"
    REVERSE = "reverse"
    STATUS = "status"
    HISTORY = "history"
    AUTODEBIT = "autodebit"
    SETTLEMENT = "settlement"


class Resolution(enum.StrEnum):
    """How a channel settles a payment whose answer never came (the profile's ``resolution``).

    ``"no answer"`` is never ``"failed"``: each policy finds out, or makes sure, what happened.
    """

    STATUS = "status"  #: ask the host (:class:`StatusInquiries`): SNAP, Kantor Pos
    ADVICE = "advice"  #: send it again as an advice until accepted (:class:`Advices`): completes it
    REVERSE = "reverse"  #: undo it through the outbox (:class:`Reversals`): never applied twice
    AWAIT_RESULT = "await_result"  #: SUBMITTED until the channel's result file says


class CustomerIdKind(enum.StrEnum):
    NIK = "nik"  #: 16-digit national identity number
    KPJ = "kpj"  #: membership card number


_DIGITS = re.compile(r"[0-9]+")


@attrs.frozen
class CustomerId:
    """How a channel identifies the participant it is paying for: NIK or KPJ."""

    kind: CustomerIdKind
    value: str = attrs.field(repr=redact.customer)

    @classmethod
    def parse(cls, text: str, field: str = "customer") -> CustomerId:
        """16 digits is a NIK, 11 digits a KPJ (separators allowed); anything else is refused."""
        digits = _nik.compact(text) if isinstance(text, str) else ""
        if _DIGITS.fullmatch(digits):
            if len(digits) == 16:
                problems = _nik.problems(digits, field)
                if not problems:
                    return cls(CustomerIdKind.NIK, digits)
                raise InvalidInput(problems)
            if len(digits) == _kpj.LENGTH:
                return cls(CustomerIdKind.KPJ, digits)
        raise InvalidInput([Problem.of(field, "customer.format", {"kpj_length": _kpj.LENGTH})])

    @classmethod
    def nik(cls, value: str) -> CustomerId:
        return cls(CustomerIdKind.NIK, _nik.validate(value))

    @classmethod
    def kpj(cls, value: str) -> CustomerId:
        return cls(CustomerIdKind.KPJ, _kpj.validate(value))

    @property
    def masked(self) -> str:
        return redact.customer(self.value)


@attrs.frozen
class FeeSchedule:
    """The channel's admin fee (*biaya admin*), always shown apart from the contribution.

    ``tiers`` are ``(up_to_amount, fee)`` in ascending order: the first tier whose bound the
    contribution does not exceed sets the fee; above the last tier (or with no tiers) ``flat``
    applies.
    """

    flat: int = 0
    tiers: tuple[tuple[int, int], ...] = ()

    def fee_for(self, amount: int) -> int:
        for bound, fee in self.tiers:
            if amount <= bound:
                return fee
        return self.flat


def _positive_span(
    _instance: object, attribute: attrs.Attribute[dt.timedelta], value: object
) -> None:
    if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
        raise ValueError(f"{attribute.name} must be a positive timedelta")


def _retries(_instance: object, _attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("repeats must be a whole number >= 0")


@attrs.frozen
class Redelivery:
    """When the client tries a queued advice or reversal (its outbox item) again: after each of
    the first ``repeats`` attempts ``repeat_interval`` later, after any later one ``interval``
    later; the item expires ``expiry`` after it was queued (then :meth:`Client.recover
    <jamsostek_channels.client.Client.recover>` reports it for a person). An ISO 8583 profile's
    timers say "0221 every 30 s, three times, then store-and-forward every 60 s, 24 h":
    ``Redelivery(30 s, 3, 60 s, 24 h)``. The default is a flat 30 s for a day.

    >>> schedule = Redelivery(dt.timedelta(seconds=30), 3, dt.timedelta(seconds=60))
    >>> [schedule.wait_after(n).seconds for n in (1, 2, 3, 4, 5)]
    [30, 30, 30, 60, 60]
    """

    repeat_interval: dt.timedelta = attrs.field(
        default=dt.timedelta(seconds=30), validator=_positive_span
    )
    repeats: int = attrs.field(default=0, validator=_retries)
    interval: dt.timedelta = attrs.field(default=dt.timedelta(seconds=30), validator=_positive_span)
    expiry: dt.timedelta = attrs.field(default=dt.timedelta(days=1), validator=_positive_span)

    def wait_after(self, attempts: int) -> dt.timedelta:
        """How long after attempt number ``attempts`` (1 for the first send; the journal counts
        them when an item is claimed) the next one is due."""
        return self.repeat_interval if attempts <= self.repeats else self.interval


@attrs.frozen
class Capabilities:
    """What a channel can do; the client refuses anything else before sending a byte."""

    operations: frozenset[Operation]
    customer_ids: frozenset[CustomerIdKind] = frozenset(CustomerIdKind)
    min_amount: int = 1
    max_amount: int | None = None  #: per payment, contribution without fee
    month_counts: tuple[int, ...] = (1, 3, 6, 12)
    admin_fee: FeeSchedule = FeeSchedule()
    receipt_width: int = 40  #: printer columns: 32, 40, 42 or 48
    sponsor_registration: bool = True  #: a sponsor may register someone else (SERTAKAN)
    agent_id_required: bool = False  #: an agent's id travels with every call
    #: How long after a payment's last send a "not found" from the host is still no proof that
    #: it was not applied: a request held in the network may yet arrive. The host refuses a
    #: request whose send time is older than its tolerance, so the window is that tolerance
    #: plus a margin for clock skew; after it, "not found" is final.
    settle_window: dt.timedelta = dt.timedelta(minutes=6)
    #: How a payment whose answer never came is settled (:class:`Resolution`).
    resolution: Resolution = Resolution.STATUS
    #: When the channel's business day closes (WIB): a payment at or after it is settled
    #: under the next day (:func:`~jamsostek_channels.clock.business_day`). ``None``: midnight.
    business_day_cutoff: dt.time | None = None
    #: When a queued advice or reversal is tried again and when it expires (:class:`Redelivery`;
    #: an ISO 8583 profile's ``[timers]`` fill it).
    redelivery: Redelivery = Redelivery()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Capabilities:
        """From a profile's ``[capabilities]`` table (TOML): every channel's profile reads its
        capabilities the same way."""
        fee = data.get("admin_fee", {})
        return cls(
            operations=frozenset(Operation(o) for o in data["operations"]),
            customer_ids=frozenset(CustomerIdKind(c) for c in data["customer_ids"]),
            min_amount=int(data.get("min_amount", 1)),
            max_amount=None if data.get("max_amount") is None else int(data["max_amount"]),
            month_counts=tuple(int(m) for m in data["month_counts"]),
            admin_fee=FeeSchedule(
                flat=int(fee.get("flat", 0)),
                tiers=tuple((int(bound), int(amount)) for bound, amount in fee.get("tiers", [])),
            ),
            receipt_width=int(data.get("receipt_width", 40)),
            sponsor_registration=bool(data.get("sponsor_registration", True)),
            agent_id_required=bool(data.get("agent_id_required", False)),
            settle_window=dt.timedelta(seconds=int(data.get("settle_window_seconds", 360))),
            business_day_cutoff=_cutoff(data.get("business_day_cutoff")),
            resolution=Resolution(data.get("resolution", Resolution.STATUS)),
        )


def _cutoff(text: object) -> dt.time | None:
    """A profile's ``business_day_cutoff = "HH:MM"`` (WIB); absent: midnight."""
    if text is None:
        return None
    cutoff = dt.time.fromisoformat(str(text))
    if cutoff.tzinfo is not None or len(str(text)) != 5:
        raise ValueError(f"business_day_cutoff must be HH:MM (WIB), not {text!r}")
    return cutoff


@attrs.frozen
class RegistrationRequest:
    """Register ``participant``; ``payer`` is the worker or the sponsor registering them."""

    reference: str
    participant: Participant
    payer: Payer
    requested_at: dt.datetime
    agent_id: str | None = None  #: the agent registering them, where the channel has agents


@attrs.frozen
class OtpChallenge:
    """An OTP was sent to the worker's phone; confirm with the code to finish registering."""

    reference: str
    challenge_id: str
    phone_masked: str = attrs.field(repr=redact.phone)
    expires_at: dt.datetime


@attrs.frozen
class Registration:
    reference: str
    kpj: str = attrs.field(repr=redact.kpj)
    nik_masked: str = attrs.field(repr=redact.nik)
    name: str = attrs.field(repr=redact.name)
    registered: YearMonth  #: first month of membership
    programs: tuple[Program, ...]


@attrs.frozen
class Bill:
    """One contribution month owed, as the host priced it (the same rules as ``quote``)."""

    period: YearMonth
    amount: int
    discount: str | None = None


@attrs.frozen
class Inquiry:
    """What the host says about a participant before a payment."""

    customer: CustomerId
    inquiry_id: str  #: the host's id for this inquiry (SNAP: echoed as paymentRequestId)
    kpj: str = attrs.field(repr=redact.kpj)
    name_masked: str = attrs.field(repr=redact.name)  # masked by the host; again, in case not
    programs: tuple[Program, ...]
    state: CoverageState
    bills: tuple[Bill, ...]  #: the months a payment would cover, oldest first
    amount: int  #: sum of the bills (contribution only)
    admin_fee: int


class PaymentState(enum.StrEnum):
    APPLIED = "applied"  #: the host applied the payment (once)
    DECLINED = "declined"  #: the host refused it: nothing applied
    NOT_FOUND = "not-found"  #: the host never saw it: nothing applied, safe to pay again
    PENDING = "pending"  #: the host has it but has not decided yet
    REVERSED = "reversed"  #: applied, then reversed


@attrs.frozen
class PaymentRequest:
    """A payment as the client hands it to an adapter; ``reference`` is the idempotency key."""

    reference: str
    customer: CustomerId
    periods: tuple[YearMonth, ...]
    amount: int
    admin_fee: int
    payer: Payer
    inquiry_id: str | None
    requested_at: dt.datetime
    agent_id: str | None = None
    repeat: bool = False  #: a re-notification of an earlier attempt (SNAP flagAdvise=Y)
    #: What the adapter fixed for this payment before it was sent (:class:`WireFacts`), as
    #: journaled: empty for a channel without the seam. Not part of the journaled record.
    wire: Mapping[str, str] = NO_FACTS


def _lines(lines: Iterable[str]) -> tuple[str, ...]:
    return tuple(lines)


def _line_count(lines: tuple[str, ...]) -> str:
    return f"<{len(lines)} lines>"  # a host's receipt lines may name the customer


@attrs.frozen
class PaymentResult:
    reference: str
    state: PaymentState
    host_reference: str | None = None
    periods: tuple[YearMonth, ...] = ()
    amount: int = 0
    paid_at: dt.datetime | None = None
    host_code: str | None = None  #: the channel's own response code, for support
    #: The host's own receipt lines, printed under the library's receipt as they came (an ISO
    #: 8583 switch's DE57); empty where the channel sends none.
    host_lines: tuple[str, ...] = attrs.field(default=(), converter=_lines, repr=_line_count)


class ReversalState(enum.StrEnum):
    REVERSED = "reversed"
    QUEUED = "queued"  #: stored and retried until the host accepts it (store-and-forward)
    EXPIRED = "expired"  #: never accepted before its deadline: a person must look
    NOT_FOUND = "not-found"  #: nothing to reverse: the payment was never applied
    REFUSED = "refused"  #: the host will not reverse it (e.g. past the cut-off)


@attrs.frozen
class ReversalResult:
    reference: str
    state: ReversalState
    host_code: str | None = None


@attrs.frozen
class HistoryEntry:
    period: YearMonth
    amount: int
    paid_at: dt.datetime
    channel: str
    reference: str


@attrs.frozen
class AutoDebitMandate:
    """A standing order: ``months`` months are paid on ``day`` of each month from the payer."""

    mandate_id: str
    customer: CustomerId
    months: int
    payer: Payer
    active: bool
    next_run: dt.date | None


class SettlementState(enum.StrEnum):
    PAID = "paid"
    REVERSED = "reversed"


@attrs.frozen
class SettlementRecord:
    """One line of a channel's end-of-day settlement."""

    channel: str
    reference: str
    host_reference: str
    nik_masked: str = attrs.field(repr=redact.customer)  # a file may hold a full number
    periods: tuple[YearMonth, ...]
    amount: int
    admin_fee: int
    paid_at: dt.datetime
    state: SettlementState
    #: Where its reference is unique (the office of a Kantor Pos file; ``""``: the channel):
    #: reconciliation reads only the journal's entries of the scopes a file covers.
    scope: str = ""


@attrs.frozen
class InquiryRequest:
    """What ``months`` months cost ``customer`` when ``payer`` pays (a payer's budget can change
    the price: APBN/APBD-funded payments get no PP 50/2025 discount)."""

    customer: CustomerId
    months: int
    agent_id: str | None = None
    payer: Payer | None = None


@attrs.frozen
class OtpConfirmation:
    """The code the worker received for ``challenge``."""

    challenge: OtpChallenge
    otp: str = attrs.field(repr=lambda _: "'******'")
    agent_id: str | None = None  #: the agent confirming it, where the channel has agents


def _delivery_number(_instance: object, _attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("attempt must be a whole number >= 1")


@attrs.frozen
class ReversalRequest:
    """Undo ``payment``. ``attempt``: which delivery this is, 1 for the first; the client
    takes it from the outbox item's durable count (:attr:`OutboxItem.attempts
    <jamsostek_channels.journal.OutboxItem.attempts>`, counted before the send), so it keeps
    counting across crashes and restarts. From the second on (:attr:`repeat`) an earlier
    attempt may have reached the host, which must then answer with its first outcome; a
    channel whose wire changes further along the schedule (ISO 8583: 0400, 0401, then the
    store-and-forward 0420, 0421) reads the number itself."""

    payment: PaymentRequest
    attempt: int = attrs.field(default=1, validator=_delivery_number)
    #: What the adapter fixed for this reversal before its first attempt (:class:`WireFacts`),
    #: kept for every repeat; the payment's own are ``payment.wire``.
    wire: Mapping[str, str] = NO_FACTS

    @property
    def repeat(self) -> bool:
        """An earlier attempt may have reached the host (``attempt > 1``)."""
        return self.attempt > 1


@attrs.frozen
class AdviceRequest:
    """Tell the host ``payment`` was made (the customer's money was taken) and must be applied;
    ``attempt`` (and :attr:`repeat`) and ``wire`` as for :class:`ReversalRequest`."""

    payment: PaymentRequest
    attempt: int = attrs.field(default=1, validator=_delivery_number)
    wire: Mapping[str, str] = NO_FACTS

    @property
    def repeat(self) -> bool:
        """An earlier attempt may have reached the host (``attempt > 1``)."""
        return self.attempt > 1


@attrs.frozen
class MandateRequest:
    """A standing order under the channel's ``reference``: the host keys mandates by (channel,
    reference), so sending the same enrolment again returns the same mandate."""

    reference: str
    customer: CustomerId
    months: int
    payer: Payer


@attrs.frozen
class MandateCancellation:
    """Stop mandate ``mandate_id``; ``reference`` keys the cancellation as an enrolment's."""

    reference: str
    mandate_id: str


# The roles. An adapter is a Channel and implements the roles its wire offers, and nothing it
# does not: the client derives the operations it offers from them (``offered``), so no adapter
# writes a method only to refuse it. Every method may raise the library's errors:
# NotDelivered when the request surely did not arrive, OutcomeUnknown when no answer came after
# sending, HostDeclined with the channel's code mapped, AuthenticationFailed, MalformedMessage.


@runtime_checkable
class Channel(Protocol):
    """What every adapter is: a name, its capabilities, its clock and its scope."""

    name: str
    capabilities: Capabilities
    #: The time the adapter stamps its messages with; the client sets it to its own clock.
    clock: Clock
    #: Where a reference is unique at the host (a Kantor Pos office, a SNAP partner id; ``""``:
    #: the whole channel): the journal keys its entries by it too.
    scope: str

    def close(self) -> None: ...


#: Any channel's adapter: a :class:`Channel`; what else it offers is the roles it implements.
Adapter = Channel


@runtime_checkable
class Inquiries(Protocol):
    """Ask the host what months cost before paying. Optional: a channel without it (a batch
    file) is paid from a quote the client prices with its own rules."""

    def inquire(self, request: InquiryRequest) -> Inquiry: ...


@runtime_checkable
class Payments(Protocol):
    """Pay bills."""

    def pay(self, request: PaymentRequest) -> PaymentResult: ...


@runtime_checkable
class StatusInquiries(Protocol):
    """Ask the host what became of a payment: the ``status`` resolution policy."""

    def payment_status(self, request: PaymentRequest) -> PaymentResult: ...


@runtime_checkable
class Advices(Protocol):
    """Complete a payment by advice: the ``advice`` resolution policy."""

    def advise(self, request: AdviceRequest) -> PaymentResult: ...


@runtime_checkable
class Reversals(Protocol):
    """Undo a payment (on request, and as the ``reverse`` resolution policy)."""

    def reverse(self, request: ReversalRequest) -> ReversalResult: ...


@runtime_checkable
class Registrations(Protocol):
    """Register a worker: an OTP to their phone, then its confirmation."""

    def request_registration(self, request: RegistrationRequest) -> OtpChallenge: ...

    def confirm_registration(self, request: OtpConfirmation) -> Registration: ...


@runtime_checkable
class Mandates(Protocol):
    """Auto-debit standing orders."""

    def enrol_autodebit(self, request: MandateRequest) -> AutoDebitMandate: ...

    def cancel_autodebit(self, request: MandateCancellation) -> AutoDebitMandate: ...


@runtime_checkable
class Settlements(Protocol):
    """The channel's end-of-day settlement."""

    def settlement(self, day: dt.date) -> tuple[SettlementRecord, ...]: ...


@runtime_checkable
class Histories(Protocol):
    """The host's record of a worker's payments."""

    def history(self, customer: CustomerId) -> tuple[HistoryEntry, ...]: ...


@runtime_checkable
class WireFacts(Protocol):
    """Fix what the wire must remember before a request is sent: the client calls
    :meth:`prepare` before it journals a payment's attempt (or queues its advice or reversal),
    stores the answer with it in the same durable write, and hands it back as the ``wire`` of
    every later request about that payment, in any process (what facts may hold:
    :mod:`~jamsostek_channels.wirefacts`). Optional: a channel whose wire needs nothing of an
    earlier message does not implement it and pays nothing for it."""

    def prepare(
        self, request: PaymentRequest | AdviceRequest | ReversalRequest
    ) -> Mapping[str, str]: ...


#: The role each operation needs (a quote is priced here: every channel offers it).
ROLES: Mapping[Operation, type] = {
    Operation.INQUIRE: Inquiries,
    Operation.PAY: Payments,
    Operation.STATUS: StatusInquiries,
    Operation.REVERSE: Reversals,
    Operation.REGISTER: Registrations,
    Operation.AUTODEBIT: Mandates,
    Operation.SETTLEMENT: Settlements,
    Operation.HISTORY: Histories,
}

#: The role each resolution policy needs of the adapter (a result file is read elsewhere).
POLICY_ROLES: Mapping[Resolution, type | None] = {
    Resolution.STATUS: StatusInquiries,
    Resolution.ADVICE: Advices,
    Resolution.REVERSE: Reversals,
    Resolution.AWAIT_RESULT: None,
}


def offered(adapter: Channel) -> frozenset[Operation]:
    """The operations ``adapter`` implements (the roles it has), quotes always."""
    return frozenset(
        {Operation.QUOTE} | {op for op, role in ROLES.items() if isinstance(adapter, role)}
    )
