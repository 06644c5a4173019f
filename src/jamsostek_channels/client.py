"""The client: the same operations on every channel, and a payment applied exactly once.

::

    client = Client(adapter, journal=Journal("payments.sqlite"))
    receipt = client.pay("3201015508950001", months=3, reference="POS-0001")

A payment, walked: the rules and the channel's capabilities are checked; the host is asked what
is owed (inquiry); the channel's limits are checked against that amount; the request is written
to the journal; the adapter sends it; the outcome is journaled; a receipt comes back. When no
answer comes, the outcome is *unknown*, never "failed": the client asks the host for the
payment's status (a few polls), and raises :class:`~jamsostek_channels.errors.OutcomeUnknown`
only if it still cannot tell. :meth:`Client.recover` resolves every unknown entry after a crash.

Calling :meth:`Client.pay` again with the same reference never pays twice: a finished payment
returns its receipt (or its decline) from the journal; an unresolved one is resolved first; one
that surely never reached the host is sent again, marked as a repeat.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import attrs

from jamsostek_channels import clock as _clock
from jamsostek_channels import limits as _limits
from jamsostek_channels.channel import (
    POLICY_ROLES,
    Adapter,
    AdviceRequest,
    Advices,
    AutoDebitMandate,
    Capabilities,
    CustomerId,
    Histories,
    HistoryEntry,
    Inquiries,
    Inquiry,
    InquiryRequest,
    MandateCancellation,
    MandateRequest,
    Mandates,
    Operation,
    OtpChallenge,
    OtpConfirmation,
    PaymentRequest,
    PaymentResult,
    Payments,
    PaymentState,
    Redelivery,
    Registration,
    RegistrationRequest,
    Registrations,
    Resolution,
    ReversalRequest,
    ReversalResult,
    Reversals,
    ReversalState,
    SettlementRecord,
    Settlements,
    StatusInquiries,
    WireFacts,
    offered,
)
from jamsostek_channels.converters import structure, unstructure
from jamsostek_channels.coverage import coverage_status as _coverage_status
from jamsostek_channels.errors import (
    AuthenticationFailed,
    CapabilityRefused,
    HostDeclined,
    InvalidInput,
    JamsostekError,
    MalformedMessage,
    NotDelivered,
    OutcomeUnknown,
    Problem,
    ReferenceConflict,
)
from jamsostek_channels.journal import (
    Entry,
    EntryState,
    Journal,
    JournalError,
    JournalStore,
    Move,
    OutboxItem,
    OutboxState,
    PaymentFacts,
    StaleEntry,
)
from jamsostek_channels.model import (
    CoverageStatus,
    Participant,
    Payer,
    PayerKind,
    PendingPayment,
    Program,
    Quote,
    Receipt,
)
from jamsostek_channels.period import YearMonth
from jamsostek_channels.pricing import quote as _quote
from jamsostek_channels.rules import RuleSet, default_rules
from jamsostek_channels.validation import registration_problems, rule_problems
from jamsostek_channels.wirefacts import NO_FACTS
from jamsostek_channels.wirefacts import checked as _checked_facts

__all__ = [
    "Client",
    "RecoveryReport",
    "ResultReport",
]

_log = logging.getLogger(__name__)

_PAY = "pay"
_DEFAULT_DECLINE = "host.rejected"
_REVERSAL = "reversal"
_ADVICE = "advice"
#: Journal operations of auto-debit mandates (each its own idempotency namespace).
_AUTODEBIT = "autodebit"
_AUTODEBIT_CANCEL = "autodebit-cancel"
#: The default payer, the worker (an immutable value: made once, not per payment).
_SELF_PAID = Payer.self_paid()


@attrs.frozen
class RecoveryReport:
    """What :meth:`Client.recover` did."""

    applied: tuple[str, ...] = ()  #: references found applied by the host
    not_applied: tuple[str, ...] = ()  #: references the host never applied (safe to pay again)
    still_unknown: tuple[str, ...] = ()  #: the host cannot tell yet (or its window is open)
    in_flight: tuple[str, ...] = ()  #: a live payer holds them: left alone
    conflicts: tuple[str, ...] = ()  #: the host's payment under the reference is another one
    reversals_delivered: tuple[str, ...] = ()  #: accepted: the payments are REVERSED
    reversals_refused: tuple[str, ...] = ()  #: refused by the host: the payments stay APPLIED
    reversals_expired: tuple[str, ...] = ()  #: never accepted in time: a person must look
    reversals_pending: tuple[str, ...] = ()  #: still queued: tried again later
    #: Reversals sent in this run marked as a repeat: an earlier attempt (before a crash, or
    #: unanswered) may have reached the host, which must then answer with its first outcome.
    reversals_repeated: tuple[str, ...] = ()
    #: Why each refused reversal was refused: the host's own code (``host.not_found`` when the
    #: host has no such payment), for the person who must look.
    refusal_codes: Mapping[str, str] = attrs.field(factory=dict)
    #: Unanswered payments undone by their reversal (the ``reverse`` policy), or found reversed
    #: by a status answer: nothing of them stands; pay again under a new reference.
    reversed: tuple[str, ...] = ()
    #: Advices never accepted in time: the customer's money was taken and the payment is not
    #: applied. A person must look.
    advices_expired: tuple[str, ...] = ()

    @property
    def unresolved(self) -> int:
        """What is not settled yet (a payer's in-flight payment is not counted)."""
        return len(self.still_unknown) + len(self.reversals_pending) + len(self.conflicts)


@attrs.frozen
class ResultReport:
    """What :meth:`Client.apply_results` did with a channel's result file."""

    applied: tuple[str, ...] = ()  #: lines the host applied: their payments are APPLIED
    declined: tuple[str, ...] = ()  #: lines the host refused: nothing applied
    #: Lines for no payment this client submitted (another scope's, or unknown here), or one
    #: settled already: left alone, for a person to look at.
    unmatched: tuple[str, ...] = ()


def _check_reference(reference: str) -> str:
    if not isinstance(reference, str) or not 1 <= len(reference) <= 64 or not reference.isascii():
        raise InvalidInput(
            [Problem.of("reference", "field.type", {"expected": "1-64 ASCII chars"})]
        )
    if not all(ch.isalnum() or ch in "-_." for ch in reference):
        raise InvalidInput(
            [Problem.of("reference", "field.type", {"expected": "A-Z a-z 0-9 - _ ."})]
        )
    return reference


class Client:
    """One channel, seen through the shared interface.

    ``journal`` is required and should be a file in production (``Journal("path.sqlite")``);
    ``":memory:"`` loses the idempotency record when the process ends. ``rules`` is the rule set
    the client prices, validates and limits months by (default: the packaged rules,
    :func:`~jamsostek_channels.rules.default_rules`); it is handed to every check, so a
    partner's adjusted copy applies to all of them. ``lease`` is how long
    a payment in flight is this client's alone: it must cover the adapter's read timeout and the
    in-line status polls (it is renewed between polls); :meth:`recover` elsewhere takes over a
    payment whose lease has expired. ``clock`` is the one
    time the client, its journal and its adapter read: it is handed to both, replacing any clock
    the journal was built with. Without one, the adapter's (the wall clock unless the adapter
    was given another). ``status_polls`` and
    ``poll_interval`` bound how long a payment whose answer was lost is resolved in-line before
    :class:`OutcomeUnknown` is raised. Queued advices and reversals are tried again and given
    up on the channel's schedule (:attr:`Capabilities.redelivery
    <jamsostek_channels.channel.Capabilities.redelivery>`: an ISO 8583 profile's timers);
    ``reversal_backoff`` (one flat wait between tries) and ``reversal_ttl`` (the expiry) replace
    its parts for this client only, as tests and a deployment with its own agreement need.
    """

    def __init__(
        self,
        adapter: Adapter,
        *,
        journal: JournalStore | str | Path,
        rules: RuleSet | None = None,
        clock: _clock.Clock | None = None,
        agent_id: str | None = None,
        status_polls: int = 3,
        poll_interval: float = 0.5,
        reversal_ttl: dt.timedelta | None = None,
        reversal_backoff: dt.timedelta | None = None,
        lease: dt.timedelta = dt.timedelta(minutes=2),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.adapter = adapter
        clock = clock or adapter.clock
        if isinstance(journal, str | Path):  # a file: the embedded SQLite store
            journal = Journal(journal, clock=clock)
        # One clock for the whole payment: a reversal's expiry written by the client, the
        # journal's stamps and the adapter's message times must never disagree.
        journal.clock = clock
        adapter.clock = clock
        self.journal = journal
        self.rules = rules or default_rules()
        self._clock = clock
        self.agent_id = agent_id
        self._status_polls = status_polls
        self._poll_interval = poll_interval
        self._lease_ttl = lease
        self._token = secrets.token_hex(3)  # this client, in its payers' lease names
        self._sleep = sleep
        # What the channel offers: what its profile declares and its adapter implements (the
        # roles it has); the client never calls an operation the adapter does not offer.
        declared = adapter.capabilities
        self._capabilities = attrs.evolve(
            declared, operations=declared.operations & offered(adapter)
        )
        #: When queued advices and reversals are tried again and given up: the channel's
        #: schedule, unless this client's own ``reversal_backoff``/``reversal_ttl`` replace it.
        schedule = declared.redelivery
        if reversal_backoff is not None:
            schedule = attrs.evolve(
                schedule, repeat_interval=reversal_backoff, interval=reversal_backoff
            )
        if reversal_ttl is not None:
            schedule = attrs.evolve(schedule, expiry=reversal_ttl)
        self.redelivery: Redelivery = schedule
        #: The adapter's wire-facts seam, when it has one (``None``: nothing to fix or store).
        self._prepare: Callable[[Any], Mapping[str, str]] | None = (
            adapter.prepare if isinstance(adapter, WireFacts) else None
        )
        needed = POLICY_ROLES[declared.resolution]
        if needed is not None and not isinstance(adapter, needed):
            raise ValueError(
                f"channel {adapter.name!r} settles unanswered payments by"
                f" {declared.resolution.value!r}, which needs an adapter offering {needed.__name__}"
            )

    @property
    def channel(self) -> str:
        return self.adapter.name

    @property
    def scope(self) -> str:
        """Where this client's references are unique, as the host keys them (a Kantor Pos
        office, a SNAP partner): the journal keys its entries the same way, so two offices
        sharing one journal may use one reference."""
        return self.adapter.scope

    @property
    def capabilities(self) -> Capabilities:
        """The channel's capabilities, its operations those its adapter implements."""
        return self._capabilities

    def close(self) -> None:
        self.adapter.close()
        self.journal.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Capability checks (before anything is sent) ---------------------------------------------

    def _require(self, operation: Operation) -> None:
        if operation not in self.capabilities.operations:
            raise CapabilityRefused(
                "capability.operation", {"channel": self.channel, "operation": operation.value}
            )
        if self.capabilities.agent_id_required and not self.agent_id:
            raise CapabilityRefused("capability.agent_required", {"channel": self.channel})

    def _customer(self, customer: CustomerId | str) -> CustomerId:
        parsed = customer if isinstance(customer, CustomerId) else CustomerId.parse(customer)
        if parsed.kind not in self.capabilities.customer_ids:
            raise CapabilityRefused(
                "capability.customer_id", {"channel": self.channel, "kind": parsed.kind.value}
            )
        return parsed

    def _months(self, months: int) -> int:
        if not isinstance(months, int) or isinstance(months, bool):
            raise InvalidInput([Problem.of("months", "field.type", {"expected": "integer"})])
        limit = self.rules.policy.max_months
        if not 1 <= months <= limit:
            raise InvalidInput([Problem.of("months", "months.range", {"max": limit})])
        if months not in self.capabilities.month_counts:
            allowed = ", ".join(map(str, self.capabilities.month_counts))
            raise CapabilityRefused(
                "capability.months", {"channel": self.channel, "allowed": allowed}, field="months"
            )
        return months

    def _payer(self, payer: Payer | None) -> Payer:
        """The payer (default: the worker), refused when this client's rules do not know its
        donor scheme, before anything is sent."""
        payer = payer or _SELF_PAID
        problems = self.rules.payer_problems(payer)
        if problems:
            raise InvalidInput(problems)
        return payer

    def _amount(
        self, months: int, amount: int, month_amounts: Sequence[int], more: Callable[[int], Any]
    ) -> None:
        """Refuse a payment outside the channel's per-payment limits, naming the month count
        that fits (:mod:`~jamsostek_channels.limits`). ``month_amounts`` price the months asked
        for, oldest first; under a minimum, ``more(count)`` prices ``count`` months (an inquiry
        or a quote: no money moves) so a larger count can be named."""
        caps = self.capabilities
        if not _limits.outside_limits(caps, amount):
            return
        if sum(month_amounts) != amount:  # bills that do not add up name no month count
            month_amounts = ()
        larger = max(caps.month_counts, default=months)
        if amount < caps.min_amount and larger > months:
            with contextlib.suppress(JamsostekError):  # then no count is named
                month_amounts = more(larger)
        refusal = _limits.amount_refusal(self.channel, caps, months, month_amounts, amount=amount)
        assert refusal is not None  # outside the limits
        raise refusal

    def _requote(self, priced: Quote, months: int) -> Quote:
        """``priced`` again for ``months`` months from the same first month."""
        return _quote(
            start=priced.start,
            months=months,
            income=priced.income,
            occupations=priced.occupations,
            programs=priced.programs,
            payer=priced.payer,
            joined=priced.joined,
            allowed_months=self.capabilities.month_counts,
            rules=self.rules,
        )

    # Operations without money --------------------------------------------------------------------

    def quote(
        self,
        *,
        start: YearMonth | str,
        months: int,
        participant: Participant | None = None,
        income: int | None = None,
        occupations: Sequence[str] | str | None = None,
        programs: Iterable[Program | str] | None = None,
        payer: Payer | PayerKind | str = PayerKind.SELF,
        joined: YearMonth | str | None = None,
    ) -> Quote:
        """The same quote as :func:`jamsostek_channels.quote`, with this channel's month counts."""
        self._require(Operation.QUOTE)
        self._months(months)
        return _quote(
            start=start,
            months=months,
            participant=participant,
            income=income,
            occupations=occupations,
            programs=programs,
            payer=payer,
            joined=joined,
            allowed_months=self.capabilities.month_counts,
            rules=self.rules,
        )

    def register(
        self,
        participant: Participant,
        *,
        reference: str,
        payer: Payer | None = None,
    ) -> OtpChallenge:
        """Start a registration: the host sends an OTP to the worker's phone.

        ``payer`` is who registers them: the worker (default) or a sponsor (SERTAKAN)."""
        self._require(Operation.REGISTER)
        _check_reference(reference)
        payer = self._payer(payer)
        if payer.kind is not PayerKind.SELF and not self.capabilities.sponsor_registration:
            raise CapabilityRefused(
                "capability.operation", {"channel": self.channel, "operation": "sponsor register"}
            )
        today = self._clock().astimezone(_clock.JAKARTA).date()
        problems = rule_problems(participant, self.rules)
        problems += registration_problems(participant.birth_date, today, self.rules)
        if problems:
            raise InvalidInput(problems)
        request = RegistrationRequest(
            reference, participant, payer, self._clock(), agent_id=self.agent_id
        )
        return cast(Registrations, self.adapter).request_registration(request)

    def confirm_registration(self, challenge: OtpChallenge, otp: str) -> Registration:
        self._require(Operation.REGISTER)
        if not isinstance(otp, str) or not otp.isascii() or not otp.isdigit() or len(otp) > 8:
            raise InvalidInput([Problem.of("otp", "host.otp_invalid")])
        return cast(Registrations, self.adapter).confirm_registration(
            OtpConfirmation(challenge, otp, agent_id=self.agent_id)
        )

    def inquire(
        self, customer: CustomerId | str, months: int = 1, *, payer: Payer | None = None
    ) -> Inquiry:
        """Masked name, coverage, and what ``months`` months would cost when ``payer`` pays
        (default: the worker), with the channel's admin fee apart."""
        self._require(Operation.INQUIRE)
        if payer is not None:
            self._payer(payer)
        inquiry = self._inquire(self._customer(customer), self._months(months), payer)
        fee = self.capabilities.admin_fee.fee_for(inquiry.amount)
        return attrs.evolve(inquiry, admin_fee=fee)

    def _inquire(self, customer: CustomerId, months: int, payer: Payer | None) -> Inquiry:
        """An inquiry moves no money: an unanswered one is simply not delivered (safe to ask
        again), never the "payment outcome unknown" a lost payment answer is."""
        try:
            return cast(Inquiries, self.adapter).inquire(
                InquiryRequest(customer, months, self.agent_id, payer)
            )
        except OutcomeUnknown:
            raise NotDelivered(
                "transport.not_delivered", {"reason": "inquiry unanswered"}
            ) from None

    def history(self, customer: CustomerId | str) -> tuple[HistoryEntry, ...]:
        self._require(Operation.HISTORY)
        return cast(Histories, self.adapter).history(self._customer(customer))

    def coverage(
        self, customer: CustomerId | str, *, registered: YearMonth | str | None = None
    ) -> CoverageStatus:
        """The participant's coverage status today (this client's clock, in Asia/Jakarta), by
        the rules' :func:`~jamsostek_channels.coverage.coverage_status` over the months the
        host's payment history shows paid: the host's own record, not this client's journal
        (payments made at other channels count).

        A history lists paid months, not the registration month: ``registered`` (e.g.
        :attr:`Registration.registered`) gives it; without it the first month shown paid stands
        in, so months left unpaid before the first payment are not seen, and someone who
        registered again after a lapse shows the lapsed membership until they pay. Refused with
        :class:`CapabilityRefused` when the channel cannot tell: it offers no history
        (``capability.coverage``), or nothing is paid and ``registered`` is not given
        (``coverage.unknown``)."""
        if Operation.HISTORY not in self.capabilities.operations:
            raise CapabilityRefused("capability.coverage", {"channel": self.channel})
        paid = [entry.period for entry in self.history(customer)]
        if registered is None:
            if not paid:
                raise CapabilityRefused("coverage.unknown", {"channel": self.channel})
            registered = min(paid)
        today = self._clock().astimezone(_clock.JAKARTA).date()
        return _coverage_status(registered, paid, as_of=today, rules=self.rules)

    def settlement(self, day: dt.date) -> tuple[SettlementRecord, ...]:
        self._require(Operation.SETTLEMENT)
        return cast(Settlements, self.adapter).settlement(day)

    def enrol_autodebit(
        self,
        customer: CustomerId | str,
        *,
        months: int,
        reference: str,
        payer: Payer | None = None,
    ) -> AutoDebitMandate:
        """A monthly auto-debit of ``months`` months; the host refuses it until the first month
        is paid.

        ``reference`` is the channel's reference for this enrolment and its idempotency key, as
        in :meth:`pay`: the request is journaled before it is sent, and calling again with the
        same reference returns the journaled mandate (or its decline) without a second send. A
        mandate collects every month, so a retried lost answer must never make a second one: one
        whose answer was lost (:class:`OutcomeUnknown`, ``mandate.unknown``) is resolved by
        calling again with the same reference, which sends the same enrolment again and the
        host, keying mandates by (channel, reference), answers the mandate it made, if it made
        one. The same reference for another customer, month count or payer is
        :class:`ReferenceConflict`, and nothing is sent."""
        self._require(Operation.AUTODEBIT)
        _check_reference(reference)
        parsed = self._customer(customer)
        count = self._months(months)
        payer = self._payer(payer)
        record = {"customer": unstructure(parsed), "months": count, "payer": unstructure(payer)}
        return self._mandate(
            _AUTODEBIT,
            reference,
            record,
            lambda: cast(Mandates, self.adapter).enrol_autodebit(
                MandateRequest(reference, parsed, count, payer)
            ),
        )

    def cancel_autodebit(self, mandate_id: str, *, reference: str) -> AutoDebitMandate:
        """Stop a mandate; journaled and idempotent on ``reference`` as
        :meth:`enrol_autodebit` is (the same reference for another mandate is
        :class:`ReferenceConflict`)."""
        self._require(Operation.AUTODEBIT)
        _check_reference(reference)
        if not isinstance(mandate_id, str) or not 1 <= len(mandate_id) <= 64:
            raise InvalidInput([Problem.of("mandate_id", "field.type", {"expected": "1-64 chars"})])
        return self._mandate(
            _AUTODEBIT_CANCEL,
            reference,
            {"mandate_id": mandate_id},
            lambda: cast(Mandates, self.adapter).cancel_autodebit(
                MandateCancellation(reference, mandate_id)
            ),
        )

    def _mandate(
        self,
        operation: str,
        reference: str,
        record: Mapping[str, Any],
        send: Callable[[], AutoDebitMandate],
    ) -> AutoDebitMandate:
        """Journal a mandate request before sending it, or answer from the journal. The record
        holds no time and no inquiry, so the journal's own comparison tells the same request
        from another (:class:`ReferenceConflict`, before anything is sent)."""
        entry, created = self.journal.begin(
            self.channel,
            operation,
            reference,
            record,
            attempt=True,
            lease=self._lease(),
            actor=operation,
            scope=self.scope,
        )
        try:
            if created:
                return self._send_mandate(entry, send, resend=False)
            return self._settle_mandate(entry, send)
        except StaleEntry as lost:  # another owner moved it: the journal has the word
            return self._mandate_answer(lost.current)

    def _settle_mandate(
        self, entry: Entry, send: Callable[[], AutoDebitMandate]
    ) -> AutoDebitMandate:
        """A mandate request already journaled: its outcome, or (unsettled) sent again."""
        operation = entry.operation
        if entry.state is EntryState.NOT_APPLIED:  # surely never arrived: a new attempt
            entry = self.journal.attempt(entry.id, lease=self._lease(), actor=operation)
            return self._send_mandate(entry, send, resend=False)
        if entry.state not in (EntryState.PENDING, EntryState.UNKNOWN):
            return self._mandate_answer(entry)
        if self.journal.held(entry, by_other_than=self.owner):
            # Another caller is sending it now: wait for its outcome rather than race it.
            entry = self.journal.wait(
                entry, owner=self.owner, timeout=self._status_polls * self._poll_interval
            )
            if entry.state.final or self.journal.held(entry, by_other_than=self.owner):
                return self._mandate_answer(entry)
        entry = self.journal.take_lease(entry.id, *self._lease(), actor=operation)
        if entry.state is EntryState.PENDING:  # its sender died, or its answer went unrecorded
            entry = self.journal.transition(
                entry.id,
                EntryState.UNKNOWN,
                owner=self.owner,
                actor=operation,
                why="sender's lease expired",
            )
        # UNKNOWN: the host keys mandates by (channel, reference), so sending the same request
        # again is how to ask what became of it; it never makes a second mandate.
        return self._send_mandate(entry, send, resend=True)

    def _send_mandate(
        self, entry: Entry, send: Callable[[], AutoDebitMandate], *, resend: bool
    ) -> AutoDebitMandate:
        """Send a journaled mandate request under this client's lease and journal the outcome.
        ``resend``: the entry is UNKNOWN, an earlier send may have arrived, so a send that
        surely did not arrive proves nothing (it stays UNKNOWN)."""
        operation = entry.operation

        def move(to: EntryState, outcome: Mapping[str, Any] | None, why: str) -> Entry:
            return self.journal.transition(
                entry.id, to, outcome, owner=self.owner, actor=operation, why=why, sent=resend
            )

        unknown = OutcomeUnknown("mandate.unknown", {"reference": entry.reference})
        try:
            mandate = send()
        except (NotDelivered, AuthenticationFailed) as error:
            if resend:
                self.journal.release(entry.id, self.owner)
                raise unknown from error
            reason = (
                "authentication" if isinstance(error, AuthenticationFailed) else "not-delivered"
            )
            move(EntryState.NOT_APPLIED, {"reason": reason}, reason)
            raise
        except HostDeclined as declined:
            # A refusal: the host made nothing under this reference (or it would have answered
            # with that mandate).
            move(EntryState.DECLINED, _declined_outcome(declined), "declined")
            raise
        except (OutcomeUnknown, MalformedMessage) as error:
            if not resend:
                move(EntryState.UNKNOWN, None, f"no readable answer: {error.code}")
            self.journal.release(entry.id, self.owner)  # anyone may resend it at once
            raise unknown from error
        try:
            why = "resent under the same reference: applied" if resend else "applied"
            move(EntryState.APPLIED, unstructure(mandate), why)
        except JournalError as failed:
            # The host answered and the answer cannot be recorded: the entry stays open and
            # the next call with this reference asks the host again.
            _log.error(
                "journal failed to record the answer to %s %s (%s): %s",
                operation,
                entry.reference,
                failed.code,
                mandate.mandate_id,
            )
            unknown.answer = mandate
            raise unknown from failed
        return mandate

    def _mandate_answer(self, entry: Entry) -> AutoDebitMandate:
        """What the journal says of a mandate request: never a send."""
        if entry.state is EntryState.APPLIED:
            return structure(dict(entry.outcome or {}), AutoDebitMandate)
        if entry.state is EntryState.DECLINED:
            raise _journaled_decline(entry)
        if entry.state is EntryState.NOT_APPLIED:
            raise NotDelivered("transport.not_delivered", {"reason": "not applied"})
        raise OutcomeUnknown("mandate.in_progress", {"reference": entry.reference})

    # Payments ------------------------------------------------------------------------------------

    def pay(
        self,
        customer: CustomerId | str,
        *,
        months: int,
        reference: str,
        payer: Payer | None = None,
        quote: Quote | None = None,
    ) -> Receipt:
        """Pay ``months`` months (the oldest unpaid first) and return the receipt.

        ``reference`` is the channel's reference for this payment and its idempotency key.
        The host prices the months (an inquiry) where the channel offers one; a channel without
        inquiry (a batch file) is paid from ``quote``, priced with this client's rules by
        :meth:`quote` for the same month count and payer (the host checks the amount).
        Raises :class:`CapabilityRefused` before anything is sent when the channel cannot take
        it (:class:`~jamsostek_channels.errors.AmountLimitRefused`, naming the month count that
        fits, when the amount is outside its per-payment limits), :class:`HostDeclined` when
        the host refuses it, and :class:`OutcomeUnknown` when the host's answer was lost and
        its status cannot be told yet (a "not found" right after a lost answer is no proof
        until the channel's settle window has passed): then call :meth:`status` or
        :meth:`recover` later, never pay again with a new reference.
        :class:`NotDelivered` means it surely was not applied: paying again with the same
        reference sends it again (each call sends it at most once). The same reference for
        another customer, month count or payer is :class:`ReferenceConflict` (an
        :class:`InvalidInput`, ``journal.conflict``), as is a host whose payment under this
        reference is another one (``payment.mismatch``).
        """
        self._require(Operation.PAY)
        _check_reference(reference)
        parsed = self._customer(customer)
        count = self._months(months)
        payer = self._payer(payer)
        existing = self.journal.get(self.channel, _PAY, reference, scope=self.scope)
        if existing is not None:
            _check_same_payment(existing, parsed, count, payer)
            return self._settle_existing(existing)

        more: Callable[[int], list[int]]
        if Operation.INQUIRE in self.capabilities.operations:
            if quote is not None:
                raise InvalidInput([Problem.of("quote", "payment.quote_unused")])
            inquiry = self._inquire(parsed, count, payer)
            periods = tuple(bill.period for bill in inquiry.bills)
            amount, inquiry_id = inquiry.amount, inquiry.inquiry_id
            name, programs = inquiry.name_masked, inquiry.programs
            month_amounts = [bill.amount for bill in inquiry.bills]

            def more(months: int) -> list[int]:
                return [bill.amount for bill in self._inquire(parsed, months, payer).bills]

        else:  # priced here, by this client's rules: the host checks the amount
            if quote is None:
                raise InvalidInput([Problem.of("quote", "payment.quote_required")])
            if quote.months != count or quote.payer != payer:
                raise InvalidInput([Problem.of("quote", "payment.quote_mismatch")])
            periods, amount, inquiry_id = quote.periods, quote.total, None
            name, programs = "", quote.programs
            month_amounts = [month.total for month in quote.by_month()]
            priced = quote

            def more(months: int) -> list[int]:
                return [month.total for month in self._requote(priced, months).by_month()]

        self._amount(count, amount, month_amounts, more)
        fields: dict[str, Any] = {
            "reference": reference,
            "customer": parsed,
            "periods": periods,
            "amount": amount,
            "admin_fee": self.capabilities.admin_fee.fee_for(amount),
            "payer": payer,
            "inquiry_id": inquiry_id,
            "requested_at": self._clock(),
            "agent_id": self.agent_id,
        }
        request = PaymentRequest(**fields)
        if self._prepare is not None:  # fixed before the attempt is journaled, stored with it
            # Made again with its facts (cheaper than attrs.evolve, which reads every field).
            request = PaymentRequest(**fields, wire=self._wire(request))
        journaled = unstructure(request)
        del journaled["wire"]  # in the entry's own column (Entry.wire), not in its record
        record = {
            "request": journaled,
            "name": name,
            "programs": [p.value for p in programs],
            "months": count,
        }
        facts = PaymentFacts(
            customer=parsed.value,
            amount=request.amount,
            admin_fee=request.admin_fee,
            periods=tuple(journaled["periods"]),  # the months as the record has them
            business_day=_clock.business_day(
                request.requested_at, self.capabilities.business_day_cutoff
            ),
        )
        try:
            entry, created = self.journal.begin(
                self.channel,
                _PAY,
                reference,
                record,
                attempt=True,
                lease=self._lease(),
                actor=_PAY,
                facts=facts,
                scope=self.scope,
                wire=request.wire,
            )
        except ReferenceConflict:
            # Another thread or process journaled this reference since the lookup above, with
            # its own inquiry (so the records differ): the same payment if customer, months and
            # payer agree.
            existing = self.journal.get(self.channel, _PAY, reference, scope=self.scope)
            if existing is None:
                raise
            _check_same_payment(existing, parsed, count, payer)
            return self._settle_existing(existing)
        if not created:  # another thread or process got there first
            return self._settle_existing(entry)
        try:
            return self._send(entry, request, record)
        except StaleEntry as lost:  # another owner took it over: the journal has the word
            return self._answer(lost.current)

    def _wire(self, request: PaymentRequest | AdviceRequest | ReversalRequest) -> Mapping[str, str]:
        """What the adapter fixes for ``request`` before it is journaled (its seam is there)."""
        assert self._prepare is not None
        return _checked_facts(self._prepare(request))

    @property
    def owner(self) -> str:
        """Who is paying, in the journal's leases: the journal's instance, this process, this
        client and this thread (a client shared by threads is several payers, each of which
        must not take the others' payments for abandoned)."""
        return self.journal.owner_id(f"{self._token}.{threading.get_ident()}")

    def _lease(self) -> tuple[str, dt.datetime]:
        return self.owner, self._clock() + self._lease_ttl

    def _move(
        self,
        entry: Entry,
        to: EntryState,
        outcome: Mapping[str, Any] | None,
        why: str,
        result: PaymentResult | None = None,
    ) -> Entry:
        """A compare-and-set transition made under this client's lease (:class:`StaleEntry`
        when it lost: another owner moved the entry or holds it); ``result``: the host's answer,
        whose reference and payment day go to the journal's typed columns."""
        return self.journal.transition(
            entry.id,
            to,
            outcome,
            owner=self.owner,
            actor=_PAY,
            why=why,
            **_settled(result, self.capabilities.business_day_cutoff),
        )

    def _send(self, entry: Entry, request: PaymentRequest, record: Mapping[str, Any]) -> Receipt:
        """Send a journaled payment whose attempt (and lease) is already recorded; ``record``:
        what the journal holds of it (its :attr:`Entry.request`), which its receipt names."""
        try:
            result = cast(Payments, self.adapter).pay(request)
        except NotDelivered:
            self._move(entry, EntryState.NOT_APPLIED, {"reason": "not-delivered"}, "not delivered")
            raise
        except HostDeclined as declined:
            self._move(entry, EntryState.DECLINED, _declined_outcome(declined), "declined")
            raise
        except AuthenticationFailed:
            # Refused at the door (signature or token): the host did not process it.
            self._move(
                entry, EntryState.NOT_APPLIED, {"reason": "authentication"}, "authentication"
            )
            raise
        except (OutcomeUnknown, MalformedMessage) as error:
            # Sent, and no answer we can read: the money may have moved.
            entry = self._move(entry, EntryState.UNKNOWN, None, f"no readable answer: {error.code}")
            return self._unanswered(entry, resend=False)
        return self._record(entry, request, result, record)

    def _record(
        self,
        entry: Entry,
        request: PaymentRequest,
        result: PaymentResult,
        record: Mapping[str, Any],
    ) -> Receipt:
        try:
            if result.state is PaymentState.APPLIED:
                entry = self._move(
                    entry, EntryState.APPLIED, unstructure(result), "applied", result
                )
                return self._receipt_of(entry, request, result, record)
            if result.state is PaymentState.REVERSED:
                self._move(entry, EntryState.REVERSED, unstructure(result), "reversed", result)
                raise HostDeclined("payment.reversed", host_code=result.host_code)
            if result.state is PaymentState.DECLINED:
                declined = HostDeclined("host.rejected", {"code": result.host_code or "-"})
                self._move(entry, EntryState.DECLINED, _declined_outcome(declined), "declined")
                raise declined
        except JournalError as failed:
            # The host answered and the answer cannot be recorded: the outcome stays unknown
            # in the journal (PENDING, then recover()'s to settle by status). Say so loudly.
            _log.error(
                "journal failed to record the answer to %s (%s): %s %s",
                entry.reference,
                failed.code,
                result.state.value,
                result.host_reference or "-",
            )
            unknown = OutcomeUnknown("outcome.not_recorded", {"reference": entry.reference})
            unknown.answer = result
            raise unknown from failed
        if (
            result.state is PaymentState.PENDING
            and self.capabilities.resolution is Resolution.AWAIT_RESULT
        ):
            # Taken into a batch: the channel's result file will say (apply_results).
            self._move(entry, EntryState.SUBMITTED, unstructure(result), "in a batch", result)
            self.journal.release(entry.id, self.owner)
            raise OutcomeUnknown("outcome.submitted", {"reference": entry.reference})
        # PENDING, or NOT_FOUND straight after sending: not decided yet.
        entry = self._move(entry, EntryState.UNKNOWN, unstructure(result), "answer: not final")
        return self._unanswered(entry, resend=False)

    def _unanswered(self, entry: Entry, *, resend: bool) -> Receipt:
        """Settle a payment whose answer never came (UNKNOWN, under this client's lease) by
        the channel's resolution policy: ask the host (``status``), complete it by advice
        (``advice``), undo it by reversal (``reverse``), or wait for the result file
        (``await_result``). ``resend``: as for :meth:`_resolve_in_line`."""
        policy = self.capabilities.resolution
        if policy is Resolution.STATUS:
            return self._resolve_in_line(entry, resend=resend)
        self.journal.release(entry.id, self.owner)  # the outbox's deliverer moves it now
        if policy is Resolution.AWAIT_RESULT:
            raise OutcomeUnknown("outcome.unknown", {"reference": entry.reference})
        item = self._enqueue(_ADVICE if policy is Resolution.ADVICE else _REVERSAL, entry)
        if item.state is OutboxState.PENDING:
            self._delivery(item)  # one attempt now; recover() keeps trying
        current = self._entry(entry)
        if current.state is EntryState.NOT_APPLIED:
            # Voided by its reversal before it arrived: never applied, and the host refuses the
            # reference from now on. Pay again under a new one.
            raise HostDeclined("payment.reversed", host_code="voided")
        if current.state.final:
            return self._settle_existing(current)
        raise OutcomeUnknown("outcome.unknown", {"reference": entry.reference})

    def _enqueue(self, kind: str, entry: Entry) -> OutboxItem:
        """Persist a reversal or an advice of ``entry``'s payment, to be delivered until the
        host accepts it or it expires (idempotent: the stored item if there is one). Its wire
        facts are fixed now and stored with it, so every attempt (a repeat after a restart
        too) carries the first one's."""
        payload: dict[str, Any] = {"reference": entry.reference}
        if self._prepare is not None:
            stored = self.journal.outbox_item(self.channel, kind, entry.reference, scope=self.scope)
            if stored is not None:  # queued already, with its facts: none fixed for nothing
                return stored
            payment = _request_of(entry)
            first = AdviceRequest(payment) if kind == _ADVICE else ReversalRequest(payment)
            payload["wire"] = self._wire(first)
        return self.journal.enqueue(
            self.channel,
            kind,
            entry.reference,
            payload,
            expires_at=self._clock() + self.redelivery.expiry,
            scope=self.scope,
        )

    def _resolve_in_line(self, entry: Entry, *, resend: bool) -> Receipt:
        """Poll the host's status under this client's lease; ``resend``: whether a payment
        found never applied may be sent (again) by this call. Right after a send it may not:
        one send per call, never a loop."""
        for poll in range(self._status_polls):
            if poll:
                self._sleep(self._poll_interval)
                entry = self.journal.take_lease(entry.id, *self._lease(), actor=_PAY)
            state = self._resolve(entry, actor=_PAY)
            if state is not None:
                entry = self._entry(entry)
                if state is EntryState.NOT_APPLIED and not resend:
                    raise NotDelivered("transport.not_delivered", {"reason": "not applied"})
                return self._settle_existing(entry)
        self.journal.release(entry.id, self.owner)  # recover() may take it at once
        raise OutcomeUnknown("outcome.unknown", {"reference": entry.reference})

    def _settled(self, entry: Entry) -> bool:
        """Whether the channel's settle window has passed since the entry was last sent: a
        request held in the network can no longer arrive (the host refuses a stale send time),
        so "not found" is final."""
        sent = entry.sent_at or entry.created_at
        return self._clock() - sent >= self.capabilities.settle_window

    def _resolve(self, entry: Entry, *, actor: str) -> EntryState | None:
        """Ask the host what became of an unresolved payment and journal what is proven;
        ``None``: still open. :class:`ReferenceConflict` when the host's payment under this
        reference is another payment."""
        request = _request_of(entry)
        try:
            result = cast(StatusInquiries, self.adapter).payment_status(request)
        except ReferenceConflict:
            raise
        except (NotDelivered, OutcomeUnknown, MalformedMessage, AuthenticationFailed, HostDeclined):
            # The status query failed (a "host.error" is a decline of the *query*): the
            # payment's outcome is as open as before.
            return None
        return self._apply_status(entry, result, actor=actor)

    def _apply_status(
        self, entry: Entry, result: PaymentResult, *, actor: str
    ) -> EntryState | None:
        open_states = (EntryState.PENDING, EntryState.UNKNOWN)
        outcome: Mapping[str, Any]
        if result.state is PaymentState.NOT_FOUND:
            if not self._settled(entry):
                return None  # a late request may still arrive: no proof yet
            to, outcome, why = (
                EntryState.NOT_APPLIED,
                {"reason": "not-found"},
                "status: not found after the settle window",
            )
        elif result.state is PaymentState.DECLINED:
            to, outcome = (
                EntryState.DECLINED,
                {"code": _DEFAULT_DECLINE, "host_code": result.host_code},
            )
            why = "status: declined"
        elif result.state in (PaymentState.APPLIED, PaymentState.REVERSED):
            to = EntryState(result.state.value)
            outcome, why = unstructure(result), f"status: {result.state.value}"
        else:
            return None  # PENDING
        self.journal.transition(
            entry.id,
            to,
            outcome,
            from_=open_states,
            owner=self.owner,
            actor=actor,
            why=why,
            **_settled(result, self.capabilities.business_day_cutoff),
        )
        return to

    def _entry(self, entry: Entry) -> Entry:
        fresh = self.journal.get(entry.channel, entry.operation, entry.reference, scope=entry.scope)
        assert fresh is not None
        return fresh

    def _answer(self, entry: Entry) -> Receipt:
        """What the journal says of a payment another owner is handling: never a send."""
        if entry.state is EntryState.NOT_APPLIED:
            raise NotDelivered("transport.not_delivered", {"reason": "not applied"})
        if entry.state.final:
            return self._settle_existing(entry)
        raise OutcomeUnknown("outcome.in_progress", {"reference": entry.reference})

    def _settle_existing(self, entry: Entry) -> Receipt:
        """The answer for a reference already in the journal, without paying twice."""
        if entry.state is EntryState.APPLIED:
            return self._receipt(entry)
        if entry.state is EntryState.DECLINED:
            raise _journaled_decline(entry)
        if entry.state is EntryState.REVERSED:
            raise HostDeclined("payment.reversed", host_code="reversed")
        try:
            if entry.state is EntryState.NOT_APPLIED:
                # Surely never applied: send the same request again, marked as a repeat (its
                # wire facts fixed anew and journaled with this attempt).
                request = attrs.evolve(_request_of(entry), repeat=True)
                wire = None if self._prepare is None else self._wire(request)
                entry = self.journal.attempt(entry.id, lease=self._lease(), actor=_PAY, wire=wire)
                return self._send(entry, attrs.evolve(request, wire=entry.wire), entry.request)
            if entry.state is EntryState.SUBMITTED:
                raise OutcomeUnknown("outcome.submitted", {"reference": entry.reference})
            if entry.state not in (EntryState.PENDING, EntryState.UNKNOWN):
                raise OutcomeUnknown("outcome.in_progress", {"reference": entry.reference})
            if self.journal.held(entry, by_other_than=self.owner):
                # Another payer is sending it now: wait for its outcome rather than race it.
                waited = self.journal.wait(
                    entry, owner=self.owner, timeout=self._status_polls * self._poll_interval
                )
                if waited.state.final:
                    return self._settle_existing(waited)
                entry = waited
            # PENDING or UNKNOWN: resolve it, unless a live payer still holds it.
            entry = self.journal.take_lease(entry.id, *self._lease(), actor=_PAY)
            if entry.state is EntryState.PENDING:  # its sender died mid-send
                entry = self._move(entry, EntryState.UNKNOWN, None, "sender's lease expired")
            return self._unanswered(entry, resend=True)
        except StaleEntry as lost:
            return self._answer(lost.current)

    def _receipt(self, entry: Entry) -> Receipt:
        """The receipt of an applied payment, rebuilt from its journal entry."""
        result = structure(dict(entry.outcome or {}), PaymentResult)
        return self._receipt_of(entry, _request_of(entry), result, entry.request)

    def _receipt_of(
        self,
        entry: Entry,
        request: PaymentRequest,
        result: PaymentResult,
        record: Mapping[str, Any],
    ) -> Receipt:
        """The receipt of ``request`` applied as ``result``; ``record``: the payment as
        journaled (:attr:`Entry.request`, or the very record a payer just journaled: the
        entry's copy is then left undecoded), which names the participant and programs."""
        return Receipt(
            channel=self.channel,
            channel_reference=entry.reference,
            host_reference=result.host_reference or "-",
            nik_masked=request.customer.masked,
            name=str(record.get("name", "")),
            programs=tuple(Program(p) for p in record.get("programs", ())),
            periods=result.periods or request.periods,
            amount=result.amount or request.amount,
            admin_fee=request.admin_fee,
            paid_at=(result.paid_at or entry.updated_at).astimezone(_clock.JAKARTA),
            host_lines=result.host_lines,
        )

    def pending(self, reference: str) -> PendingPayment:
        """The *dalam proses* slip's content for a payment whose outcome is not known yet
        (after :class:`OutcomeUnknown`): print it with
        :func:`~jamsostek_channels.receipts.render_in_progress` so the customer leaves with the
        reference, never with nothing. :class:`InvalidInput` for a reference this client does
        not know or whose outcome is known (print its receipt, or its decline, instead)."""
        entry = self.journal.get(self.channel, _PAY, reference, scope=self.scope)
        if entry is None:
            raise InvalidInput([Problem.of("reference", "host.not_found")])
        if entry.state.final:
            raise InvalidInput([Problem.of("reference", "payment.settled")])
        request = _request_of(entry)
        return PendingPayment(
            channel=self.channel,
            channel_reference=reference,
            nik_masked=request.customer.masked,
            name=str(entry.request.get("name", "")),
            programs=tuple(Program(p) for p in entry.request.get("programs", ())),
            periods=request.periods,
            amount=request.amount,
            admin_fee=request.admin_fee,
            since=(entry.sent_at or entry.created_at).astimezone(_clock.JAKARTA),
        )

    def status(self, reference: str) -> PaymentResult:
        """The host's word on a payment made through this client (journal updated with what
        it proves: a "not found" only after the settle window)."""
        self._require(Operation.STATUS)
        entry = self.journal.get(self.channel, _PAY, reference, scope=self.scope)
        if entry is None:
            raise InvalidInput([Problem.of("reference", "host.not_found")])
        result = cast(StatusInquiries, self.adapter).payment_status(_request_of(entry))
        if not entry.state.final:
            with contextlib.suppress(StaleEntry):  # someone else settled it meanwhile
                self._apply_status(entry, result, actor="status")
        return result

    # Reversals (store and forward) -------------------------------------------------------------

    def reverse(self, reference: str) -> ReversalResult:
        """Reverse a payment made through this client. The reversal is persisted first and
        resent until the host accepts it; if the host cannot be reached now the result is
        ``QUEUED`` and :meth:`recover` (or :meth:`flush_outbox`) keeps trying."""
        self._require(Operation.REVERSE)
        entry = self.journal.get(self.channel, _PAY, reference, scope=self.scope)
        if entry is None:
            raise InvalidInput([Problem.of("reference", "host.not_found")])
        if entry.state is EntryState.REVERSED:
            return ReversalResult(reference, ReversalState.REVERSED)
        if entry.state in (EntryState.DECLINED, EntryState.NOT_APPLIED):
            return ReversalResult(reference, ReversalState.NOT_FOUND)
        item = self._enqueue(_REVERSAL, entry)
        if item.state is OutboxState.PENDING:
            return self._deliver_reversal(item)
        return _reversal_result(item)

    def _deliver_reversal(self, item: OutboxItem) -> ReversalResult:
        """One claimed attempt at a queued reversal (counted before it is sent, so a resend
        after a crash goes out marked as a repeat)."""
        return self._delivery(item)[0]

    def _delivery(self, item: OutboxItem) -> tuple[ReversalResult, bool]:
        """:meth:`_deliver_reversal`, and whether this attempt went out as a repeat."""
        claimed = self.journal.claim(item.id, self.owner, self._clock() + self._lease_ttl)
        if claimed is None:  # another deliverer holds it, or it was settled meanwhile
            current = self.journal.outbox_item(
                item.channel, item.kind, item.reference, scope=item.scope
            )
            assert current is not None
            return _reversal_result(current), False
        if claimed.kind == _ADVICE:
            return self._send_advice(claimed), claimed.repeat
        return self._send_reversal(claimed), claimed.repeat

    def _retry_at(self, claimed: OutboxItem) -> dt.datetime:
        """When a claimed item whose attempt failed is due again: the schedule's wait after
        the attempts the journal has counted (this one included), on the client's clock."""
        return self._clock() + self.redelivery.wait_after(claimed.attempts)

    def _send_advice(self, claimed: OutboxItem) -> ReversalResult:
        """One claimed attempt at an advice: the payment sent again as done, until the host
        accepts it (APPLIED: the payment is complete) or refuses it (DECLINED: the customer's
        money must be given back by a person). Answered in the outbox's terms: accepted
        (``REVERSED`` here means delivered), ``REFUSED`` with the host's code, or ``QUEUED``."""
        entry = self.journal.get(self.channel, _PAY, claimed.reference, scope=self.scope)
        assert entry is not None
        open_states = (EntryState.PENDING, EntryState.UNKNOWN)
        advice = AdviceRequest(_request_of(entry), claimed.attempts, _item_wire(claimed))
        try:
            result = cast(Advices, self.adapter).advise(advice)
        except (NotDelivered, OutcomeUnknown, MalformedMessage, AuthenticationFailed) as error:
            self.journal.retry_later(claimed.id, self._retry_at(claimed), error.code)
            return ReversalResult(claimed.reference, ReversalState.QUEUED)
        except HostDeclined as declined:
            result = PaymentResult(
                claimed.reference, PaymentState.DECLINED, host_code=declined.host_code
            )
        if result.state is PaymentState.APPLIED:
            self.journal.delivered(claimed.id, OutboxState.ACCEPTED)
            with contextlib.suppress(StaleEntry):
                self.journal.transition(
                    entry.id,
                    EntryState.APPLIED,
                    unstructure(result),
                    from_=open_states,
                    actor=_ADVICE,
                    why="advice accepted",
                    **_settled(result, self.capabilities.business_day_cutoff),
                )
            return ReversalResult(claimed.reference, ReversalState.REVERSED)
        if result.state is PaymentState.DECLINED:
            code = result.host_code or "host.rejected"
            self.journal.delivered(claimed.id, OutboxState.REJECTED, code)
            with contextlib.suppress(StaleEntry):
                self.journal.transition(
                    entry.id,
                    EntryState.DECLINED,
                    {"code": "host.rejected", "host_code": result.host_code},
                    from_=open_states,
                    actor=_ADVICE,
                    why="advice refused",
                )
            return ReversalResult(claimed.reference, ReversalState.REFUSED, host_code=code)
        self.journal.retry_later(claimed.id, self._retry_at(claimed), "pending")
        return ReversalResult(claimed.reference, ReversalState.QUEUED)

    def _send_reversal(self, claimed: OutboxItem) -> ReversalResult:
        reference = claimed.reference
        entry = self.journal.get(self.channel, _PAY, reference, scope=self.scope)
        assert entry is not None
        try:
            result = cast(Reversals, self.adapter).reverse(
                ReversalRequest(_request_of(entry), claimed.attempts, _item_wire(claimed))
            )
        except (NotDelivered, OutcomeUnknown, MalformedMessage, AuthenticationFailed) as error:
            # Not (surely) accepted: keep it queued; an authentication failure is retried too,
            # as credentials are renewed.
            self.journal.retry_later(claimed.id, self._retry_at(claimed), error.code)
            return ReversalResult(reference, ReversalState.QUEUED)
        except HostDeclined as declined:
            self.journal.delivered(
                claimed.id, OutboxState.REJECTED, declined.host_code or declined.code
            )
            return ReversalResult(reference, ReversalState.REFUSED, host_code=declined.host_code)
        if result.state is ReversalState.REVERSED:
            self.journal.delivered(claimed.id, OutboxState.ACCEPTED)
            with contextlib.suppress(StaleEntry):  # already REVERSED by a status answer
                self.journal.transition(
                    entry.id,
                    EntryState.REVERSED,
                    {"reversed": True},
                    actor=_REVERSAL,
                    why="reversal accepted",
                )
        elif (
            result.state is ReversalState.NOT_FOUND
            and self.capabilities.resolution is Resolution.REVERSE
            and entry.state in (EntryState.PENDING, EntryState.UNKNOWN)
        ):
            # A host that settles by reversal voids a reference it never saw: a request under
            # it arriving late is refused, so "never applied" is proof at once.
            self.journal.delivered(claimed.id, OutboxState.ACCEPTED)
            with contextlib.suppress(StaleEntry):
                self.journal.transition(
                    entry.id,
                    EntryState.NOT_APPLIED,
                    {"reason": "voided by its reversal"},
                    from_=(EntryState.PENDING, EntryState.UNKNOWN),
                    actor=_REVERSAL,
                    why="reversal: the host never had it (voided)",
                )
        elif result.state is ReversalState.NOT_FOUND:
            # The host has no such payment: nothing to reverse, and no proof either way about
            # an entry whose own outcome is still open. A person looks.
            self.journal.delivered(claimed.id, OutboxState.REJECTED, "host.not_found")
        elif result.state is ReversalState.REFUSED:
            self.journal.delivered(claimed.id, OutboxState.REJECTED, result.host_code)
        else:
            self.journal.retry_later(claimed.id, self._retry_at(claimed), "queued")
        return result

    def flush_outbox(self, *, now: dt.datetime | None = None) -> list[ReversalResult]:
        """Send every due store-and-forward item (advice or reversal) once more, as the
        channel's :class:`~jamsostek_channels.channel.Redelivery` schedule has it due; items
        past their expiry are marked so (:meth:`recover` reports them). Answered in the
        outbox's terms (an advice accepted is ``REVERSED``: delivered)."""
        return [
            self._deliver_reversal(item)
            for item in self.journal.due(self.channel, now=now, scope=self.scope)
            if item.kind in (_REVERSAL, _ADVICE)
        ]

    # Recovery ------------------------------------------------------------------------------------

    def apply_results(self, results: Iterable[PaymentResult]) -> ResultReport:
        """Settle submitted payments (the ``await_result`` policy) from the channel's result
        file, one :class:`PaymentResult` per line: APPLIED or DECLINED, all in one durable
        journal commit. A line for a payment not SUBMITTED here is reported, never applied."""
        moves: list[Move] = []
        unmatched: list[str] = []
        for result in results:
            entry = self.journal.get(self.channel, _PAY, result.reference, scope=self.scope)
            if entry is None or entry.state is not EntryState.SUBMITTED:
                unmatched.append(result.reference)
            elif result.state is PaymentState.APPLIED:
                moves.append(
                    Move(
                        entry.id,
                        EntryState.APPLIED,
                        unstructure(result),
                        why="result file: applied",
                        **_settled(result, self.capabilities.business_day_cutoff),
                    )
                )
            elif result.state is PaymentState.DECLINED:
                outcome = {"code": "host.rejected", "host_code": result.host_code}
                moves.append(
                    Move(entry.id, EntryState.DECLINED, outcome, why="result file: declined")
                )
            else:  # a result file says applied or declined; anything else is not an answer
                unmatched.append(result.reference)
        found: dict[EntryState, list[str]] = {EntryState.APPLIED: [], EntryState.DECLINED: []}
        moved_all = self.journal.transition_many(moves, actor="result-file")
        for move, moved in zip(moves, moved_all, strict=True):
            if isinstance(moved, StaleEntry):  # settled meanwhile by another reader
                unmatched.append(moved.current.reference)
            else:
                found[move.to].append(moved.reference)
        return ResultReport(
            applied=tuple(found[EntryState.APPLIED]),
            declined=tuple(found[EntryState.DECLINED]),
            unmatched=tuple(unmatched),
        )

    def recover(self) -> RecoveryReport:
        """Settle every payment whose outcome is unknown by the channel's resolution policy
        (ask the host's status, or deliver its advice or reversal) and deliver every queued
        reversal. Run at start-up after a crash, and periodically: a payment a live payer holds
        (its lease) is left to it, one whose payer died is taken over, and a "not found"
        proves nothing until the channel's settle window has passed."""
        # What has outlived its schedule first: an item past its expiry is reported for a
        # person, never sent once more by the policy step below.
        ours = [
            item
            for item in self.journal.expire()
            if item.channel == self.channel and item.scope == self.scope
        ]
        found: dict[str, list[str]] = {
            "applied": [],
            "not_applied": [],
            "reversed": [],
            "unknown": [],
            "in_flight": [],
            "conflicts": [],
        }
        for entry in self.journal.unresolved(self.channel, scope=self.scope):
            if entry.operation != _PAY:
                continue
            if self.journal.held(entry, by_other_than=self.owner):
                found["in_flight"].append(entry.reference)
                continue
            found[self._recover_one(entry)].append(entry.reference)
        reversals: dict[str, list[str]] = {
            "delivered": [],
            "refused": [],
            "pending": [],
            "repeated": [],
        }
        codes: dict[str, str] = {}
        expired = [item.reference for item in ours if item.kind == _REVERSAL]
        advices_expired = [item.reference for item in ours if item.kind == _ADVICE]
        settled = {reference for references in found.values() for reference in references}
        for item in self.journal.due(self.channel, ignore_schedule=True, scope=self.scope):
            tried = item.kind == _ADVICE or self.capabilities.resolution is Resolution.REVERSE
            if tried and item.reference in settled:
                continue  # its payment's policy item was tried above: once per run
            if item.kind == _ADVICE:
                self._delivery(item)
                found[_bucket(self._entry_of(item.reference).state)].append(item.reference)
                continue
            if item.kind != _REVERSAL:
                continue
            result, repeat = self._delivery(item)
            if repeat:
                reversals["repeated"].append(item.reference)
            if result.state is ReversalState.REVERSED:
                reversals["delivered"].append(item.reference)
            elif result.state is ReversalState.QUEUED:
                reversals["pending"].append(item.reference)
            else:  # refused by the host (the payment stays APPLIED), or no such payment
                reversals["refused"].append(item.reference)
                codes[item.reference] = result.host_code or _refusal_code(result)
        return RecoveryReport(
            applied=tuple(found["applied"]),
            not_applied=tuple(found["not_applied"]),
            still_unknown=tuple(found["unknown"]),
            in_flight=tuple(found["in_flight"]),
            conflicts=tuple(found["conflicts"]),
            reversals_delivered=tuple(reversals["delivered"]),
            reversals_refused=tuple(reversals["refused"]),
            reversals_expired=tuple(expired),
            reversals_pending=tuple(reversals["pending"]),
            reversals_repeated=tuple(reversals["repeated"]),
            refusal_codes=codes,
            reversed=tuple(found["reversed"]),
            advices_expired=tuple(advices_expired),
        )

    def _entry_of(self, reference: str) -> Entry:
        entry = self.journal.get(self.channel, _PAY, reference, scope=self.scope)
        assert entry is not None
        return entry

    def _recover_one(self, entry: Entry) -> str:
        """Settle one unresolved payment under this client's lease; which list it goes in."""
        try:
            entry = self.journal.take_lease(entry.id, *self._lease(), actor="recover")
            if entry.state is EntryState.PENDING:  # its sender died, or gave up its lease
                entry = self.journal.transition(
                    entry.id,
                    EntryState.UNKNOWN,
                    owner=self.owner,
                    actor="recover",
                    why="sender's lease expired",
                )
            state = self._settle_by_policy(entry)
        except StaleEntry as lost:
            state = lost.current.state if lost.current.state.final else None
        except ReferenceConflict:
            self.journal.release(entry.id, self.owner)
            return "conflicts"
        bucket = _bucket(state)
        if bucket == "unknown":
            self.journal.release(entry.id, self.owner)
        return bucket

    def _settle_by_policy(self, entry: Entry) -> EntryState | None:
        """One try at settling an UNKNOWN payment held under this client's lease, by the
        channel's policy; its final state, or ``None`` while it is still open."""
        policy = self.capabilities.resolution
        if policy is Resolution.STATUS:
            return self._resolve(entry, actor="recover")
        if policy is Resolution.AWAIT_RESULT:
            return None  # only the result file can tell
        self.journal.release(entry.id, self.owner)  # the outbox's deliverer moves it now
        item = self._enqueue(_ADVICE if policy is Resolution.ADVICE else _REVERSAL, entry)
        if item.state is OutboxState.PENDING:
            self._delivery(item)
        state = self._entry(entry).state
        return state if state.final else None


def _reversal_result(item: OutboxItem) -> ReversalResult:
    """What a queued reversal's stored state says, without sending it."""
    if item.state is OutboxState.ACCEPTED:
        return ReversalResult(item.reference, ReversalState.REVERSED)
    if item.state is OutboxState.EXPIRED:  # never answered in time: a person must look
        return ReversalResult(item.reference, ReversalState.EXPIRED, host_code=item.last_error)
    if item.state is OutboxState.REJECTED:
        return ReversalResult(item.reference, ReversalState.REFUSED, host_code=item.last_error)
    return ReversalResult(item.reference, ReversalState.QUEUED)


def _journaled_decline(entry: Entry) -> HostDeclined:
    """The host's decline as the journal recorded it, raised again for a repeated call."""
    outcome = entry.outcome or {}
    return HostDeclined(
        str(outcome.get("code") or _DEFAULT_DECLINE),
        {"code": outcome.get("host_code") or "-"},
        host_code=outcome.get("host_code"),
    )


def _settled(result: PaymentResult | None, cutoff: dt.time | None) -> dict[str, Any]:
    """The typed columns a host's answer settles: its reference, and its business day (the
    day the host's settlement file lists it under: the WIB date of its payment time, or the
    next one past the channel's ``cutoff``)."""
    if result is None:
        return {}
    day = None if result.paid_at is None else _clock.business_day(result.paid_at, cutoff)
    return {"host_reference": result.host_reference, "business_day": day}


#: Which list of a :class:`RecoveryReport` a payment goes in, by its journal state.
_BUCKETS: Mapping[EntryState | None, str] = {
    EntryState.APPLIED: "applied",
    EntryState.REVERSED: "reversed",
    EntryState.NOT_APPLIED: "not_applied",
    EntryState.DECLINED: "not_applied",
}


def _bucket(state: EntryState | None) -> str:
    """The report list of a payment in ``state`` (``"unknown"`` while it is open)."""
    return _BUCKETS.get(state, "unknown")


def _refusal_code(result: ReversalResult) -> str:
    """A refused reversal's code when the host gave none of its own."""
    return "host.not_found" if result.state is ReversalState.NOT_FOUND else "host.rejected"


def _request_of(entry: Entry) -> PaymentRequest:
    """The payment an entry journaled, with the wire facts of its latest attempt."""
    request = structure(dict(entry.request["request"]), PaymentRequest)
    return attrs.evolve(request, wire=entry.wire) if entry.wire else request


def _item_wire(item: OutboxItem) -> Mapping[str, str]:
    """The wire facts an advice or reversal was queued with (none before they existed)."""
    return cast(Mapping[str, str], item.payload.get("wire") or NO_FACTS)


def _check_same_payment(entry: Entry, customer: CustomerId, months: int, payer: Payer) -> None:
    """A reference names one payment: the same reference for another customer, month count or
    payer is refused instead of answered with the first payment's receipt."""
    request = entry.request.get("request", {})
    known = entry.request.get("months")  # absent in entries journaled before it was recorded
    if (
        request.get("customer") != unstructure(customer)
        or request.get("payer") != unstructure(payer)
        or (known is not None and known != months)
    ):
        raise ReferenceConflict(entry.reference)


def _declined_outcome(error: JamsostekError) -> Mapping[str, Any]:
    host_code = getattr(error, "host_code", None)
    return {"code": error.code, "host_code": host_code}
