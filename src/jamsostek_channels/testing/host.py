"""A stateful, in-memory fake of the BPJS Ketenagakerjaan host, for tests, demos and the sandbox.

Modelled on moto's service models: :class:`FakeHost` is the *state* (participants, KPJ numbers,
OTP challenges, bills, payments, reversals, auto-debit mandates, the ledger); it speaks no wire
format. The fake channel gateways translate their protocol into calls on it, and the pytest
fixtures and the sandbox server hold one per test or process.

It applies the **same rules as the library**, never a copy of them: bills and payments are priced
by :func:`jamsostek_channels.pricing.quote`, coverage comes from
:func:`jamsostek_channels.coverage.coverage_status`, registration is checked by
:func:`~jamsostek_channels.validation.participant_problems` and
:func:`~jamsostek_channels.validation.registration_problems`, each given the host's rule set
(``FakeHost(rules=...)``, the packaged rules when left out; :attr:`FakeHost.rules` for its
gateways). A quote made by a client with the same rules and a bill made by the host therefore
always agree.

Behaviour worth knowing:

* **Time** comes from one clock (``clock=``, default :func:`jamsostek_channels.clock.now`),
  read in Asia/Jakarta. :meth:`FakeHost.set_clock` and :meth:`FakeHost.advance` move it in tests.
* **Determinism**: OTPs come from ``random.Random(seed)``; KPJ numbers, challenge, inquiry,
  mandate and host references are sequential. The same calls with the same seed and clock give
  the same answers.
* **Bills** are the next unpaid months of the current membership, oldest first (arrears, then
  the current month, then months ahead, at most ``max_months`` past the current month). The
  inquiry does not know who will pay, so it prices the bills for a self-paying participant; the
  payment is priced again with *its* payer (APBN and APBD payers get no PP 50/2025 discount),
  and an amount that does not match that price is declined with ``host.amount_mismatch``.
* **Payments** are idempotent on ``(channel, scope, reference)``, as a real host keys them: a
  reference is unique only within its *scope*, which the channel's gateway names (the post
  office for Kantor Pos, the partner id for SNAP; ``""`` by default), so two offices may use
  one reference for two customers and get two payments. A repeat with the same customer,
  months and amount returns the original result (same host reference and time, also when it
  was reversed since); the same reference with other parameters is ``host.conflict``. Only
  applied payments are remembered: a declined one leaves nothing behind, so its reference may
  be used again and its status is ``NOT_FOUND``.
* **Auto-debit mandates** are idempotent the same way: an enrolment on ``(channel, reference)``
  (the same customer, months and payer again return the same mandate; anything else under that
  reference is ``host.mandate_conflict``), a cancellation on its own ``(channel, reference)``.
* **Reversals** are allowed within ``reversal_window`` (``"same-day"``: the payment's WIB date;
  ``"any"``: no time limit; ``"never"``) and only while no later month has been paid.
* **Seeded months** (:meth:`FakeHost.seed`) count as paid and appear in :meth:`FakeHost.history`
  (channel ``"seed"``), but never in the ledger: the ledger is money that moved through channels.
* Every :class:`~jamsostek_channels.errors.HostDeclined` carries ``host_code`` equal to its message
  code (``"host.bill_paid"``, ...), which gateways map to their own wire codes.
* One re-entrant lock guards all state: every public method is safe to call from several threads.
"""

from __future__ import annotations

import datetime as dt
import hmac
import random
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Literal

import attrs

from jamsostek_channels import clock as _clock
from jamsostek_channels import redact
from jamsostek_channels.channel import (
    AutoDebitMandate,
    Bill,
    CustomerId,
    CustomerIdKind,
    HistoryEntry,
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
from jamsostek_channels.coverage import coverage_status
from jamsostek_channels.errors import HostDeclined, InvalidInput, Problem
from jamsostek_channels.identifiers import kpj as _kpj
from jamsostek_channels.identifiers import nik as _nik
from jamsostek_channels.identifiers import phone as _phone
from jamsostek_channels.model import CoverageState, CoverageStatus, Participant, Payer, Quote
from jamsostek_channels.period import YearMonth, month_range
from jamsostek_channels.pricing import quote
from jamsostek_channels.rules import RuleSet, default_rules
from jamsostek_channels.validation import (
    check_participant,
    participant_problems,
    registration_problems,
)

if TYPE_CHECKING:
    from jamsostek_channels.testing.people import PersonFactory

__all__ = [
    "DEMO_REFERENCE_DATE",
    "REVERSAL_WINDOWS",
    "SEED_CHANNEL",
    "FakeHost",
    "HostParticipant",
    "LedgerEntry",
    "Sms",
]

#: The reversal windows the fake host knows.
REVERSAL_WINDOWS = ("same-day", "any", "never")

#: The channel name recorded for months put in place by :meth:`FakeHost.seed`.
SEED_CHANNEL = "seed"

#: The day demo participants are drawn and checked as of (:meth:`FakeHost.seed_demo`): a fixed
#: date, so the same seed names the same people whatever the clock says. (The day the examples in
#: docs/channels/snap.md were captured: they show these people.)
DEMO_REFERENCE_DATE = dt.date(2026, 11, 23)


# Public records -----------------------------------------------------------------------------


@attrs.frozen
class Sms:
    """A text message the host "sent" (appended to :attr:`FakeHost.sms_outbox`)."""

    phone: str = attrs.field(repr=_phone.mask)  #: E.164 (``+628...``)
    text: str = attrs.field(repr=False)
    otp: str = attrs.field(repr=False)
    at: dt.datetime


@attrs.frozen
class LedgerEntry:
    """One movement of money at the host: a payment applied, or a reversal of one.

    ``amount`` is always positive; a reversal entry cancels the payment with the same
    ``(channel, scope, reference)``.
    """

    kind: Literal["payment", "reversal"]
    channel: str
    reference: str
    host_reference: str
    nik: str = attrs.field(repr=_nik.mask)
    periods: tuple[YearMonth, ...]
    amount: int
    at: dt.datetime
    scope: str = ""  #: where the reference is unique (an office, a partner id; see the docstring)


@attrs.frozen
class HostParticipant:
    """What the host knows of a participant: ``registered`` is the first month of the current
    membership and ``paid`` the months of it that are paid."""

    participant: Participant
    kpj: str = attrs.field(repr=_kpj.mask)
    registered: YearMonth
    paid: frozenset[YearMonth]


# Internal state -----------------------------------------------------------------------------


@attrs.frozen
class _PaidMonth:
    amount: int
    paid_at: dt.datetime
    channel: str
    reference: str


@attrs.define
class _Member:
    participant: Participant
    kpj: str = attrs.field(repr=_kpj.mask)
    registered: YearMonth
    #: every month ever paid, across memberships (the current one: months >= registered)
    months: dict[YearMonth, _PaidMonth] = attrs.field(factory=dict, repr=False)


@attrs.define
class _Payment:
    channel: str
    scope: str
    reference: str
    host_reference: str
    nik: str = attrs.field(repr=_nik.mask)
    customer: CustomerId
    periods: tuple[YearMonth, ...]
    amount: int
    admin_fee: int
    paid_at: dt.datetime
    reversed_at: dt.datetime | None = None

    def result(self) -> PaymentResult:
        return PaymentResult(
            reference=self.reference,
            state=PaymentState.APPLIED if self.reversed_at is None else PaymentState.REVERSED,
            host_reference=self.host_reference,
            periods=self.periods,
            amount=self.amount,
            paid_at=self.paid_at,
        )


@attrs.define
class _Challenge:
    challenge: OtpChallenge
    channel: str
    participant: Participant
    otp: str = attrs.field(repr=False)
    attempts: int = 0
    registration: Registration | None = None


@attrs.frozen
class _InquiryRecord:
    nik: str = attrs.field(repr=_nik.mask)
    channel: str
    periods: tuple[YearMonth, ...]
    amount: int
    expires_at: dt.datetime


@attrs.define
class _Mandate:
    mandate_id: str
    channel: str
    reference: str  #: the channel's enrolment reference: (channel, reference) names it
    nik: str = attrs.field(repr=_nik.mask)
    customer: CustomerId
    months: int
    payer: Payer
    active: bool = True


def _declined(code: str) -> HostDeclined:
    return HostDeclined(code, host_code=code)


def _same_code(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _participant_values(participant: Participant) -> dict[str, object]:
    return {field.name: getattr(participant, field.name) for field in attrs.fields(Participant)}


def _month_text(period: YearMonth) -> str:
    return f"{period.year:04d}{period.month:02d}"


# The host -----------------------------------------------------------------------------------


class FakeHost:
    """A faithful, stateful fake of the BPJS Ketenagakerjaan host (see the module docstring)."""

    def __init__(
        self,
        *,
        rules: RuleSet | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        seed: int = 0,
        otp_ttl: dt.timedelta = dt.timedelta(minutes=5),
        otp_attempts: int = 3,
        inquiry_ttl: dt.timedelta = dt.timedelta(minutes=30),
        reversal_window: str = "same-day",
    ) -> None:
        if reversal_window not in REVERSAL_WINDOWS:
            raise ValueError(f"reversal_window must be one of {REVERSAL_WINDOWS}")
        if otp_attempts < 1:
            raise ValueError("otp_attempts must be at least 1")
        if otp_ttl <= dt.timedelta(0) or inquiry_ttl <= dt.timedelta(0):
            raise ValueError("otp_ttl and inquiry_ttl must be positive")
        self._rules = rules or default_rules()
        self._clock: Callable[[], dt.datetime] = clock or _clock.now
        self._offset = dt.timedelta(0)
        self._seed = seed
        self.otp_ttl = otp_ttl
        self.otp_attempts = otp_attempts
        self.inquiry_ttl = inquiry_ttl
        self.reversal_window = reversal_window
        self._lock = threading.RLock()
        self.sms_outbox: list[Sms] = []
        self._init_state()

    @property
    def rules(self) -> RuleSet:
        """The rule set this host prices, registers and tells coverage by."""
        return self._rules

    def _init_state(self) -> None:
        self._rng = random.Random(self._seed)
        self._members: dict[str, _Member] = {}
        self._by_kpj: dict[str, str] = {}
        self._challenges: dict[str, _Challenge] = {}
        self._challenge_refs: dict[tuple[str, str], str] = {}
        self._inquiries: dict[str, _InquiryRecord] = {}
        self._payments: dict[tuple[str, str, str], _Payment] = {}  # (channel, scope, reference)
        # References reversed before any payment under them arrived: a late request under one
        # (held in the network past its reversal) is refused, never applied.
        self._voided: set[tuple[str, str, str]] = set()
        self._ledger: list[LedgerEntry] = []
        self._mandates: dict[str, _Mandate] = {}
        # (channel, reference) -> mandate id: enrolments and cancellations are idempotent on
        # the channel's reference, as payments are.
        self._mandate_refs: dict[tuple[str, str], str] = {}
        self._cancel_refs: dict[tuple[str, str], str] = {}
        self._sequences: dict[str, int] = {}
        self._factory: PersonFactory | None = None
        self.sms_outbox.clear()

    def __repr__(self) -> str:
        with self._lock:
            return (
                f"<FakeHost participants={len(self._members)} payments={len(self._payments)}"
                f" ledger={len(self._ledger)}>"
            )

    def reset(self) -> None:
        """Forget every participant, challenge, payment, mandate and SMS; the seed starts over.
        The clock and the settings stay."""
        with self._lock:
            self._init_state()

    # Time ---------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The host's current instant, in Asia/Jakarta."""
        with self._lock:
            instant = self._clock() + self._offset
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("the host's clock must return timezone-aware datetimes")
        return instant.astimezone(_clock.JAKARTA)

    def today(self) -> dt.date:
        """The host's current date in Asia/Jakarta."""
        return self.now().date()

    def set_clock(self, clock: dt.datetime | Callable[[], dt.datetime]) -> None:
        """Use a fixed instant or another clock from now on (any earlier :meth:`advance` is
        dropped)."""
        if isinstance(clock, dt.datetime):
            if clock.tzinfo is None or clock.utcoffset() is None:
                raise ValueError("the host's clock must be timezone-aware")
            fixed = clock

            def _fixed() -> dt.datetime:
                return fixed

            clock = _fixed
        with self._lock:
            self._clock = clock
            self._offset = dt.timedelta(0)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move the host's clock forward by ``delta``; returns the new instant."""
        with self._lock:
            self._offset += delta
            return self.now()

    # Helpers ------------------------------------------------------------------------------

    def _next(self, name: str) -> int:
        value = self._sequences.get(name, 0) + 1
        self._sequences[name] = value
        return value

    @property
    def _max_months(self) -> int:
        return self._rules.policy.max_months

    def _check_count(self, count: object, field: str) -> int:
        if (
            not isinstance(count, int)
            or isinstance(count, bool)
            or not 1 <= count <= self._max_months
        ):
            raise InvalidInput([Problem.of(field, "months.range", {"max": self._max_months})])
        return count

    def _lookup(self, customer: CustomerId) -> _Member | None:
        if customer.kind is CustomerIdKind.KPJ:
            nik = self._by_kpj.get(customer.value)
            return None if nik is None else self._members.get(nik)
        return self._members.get(customer.value)

    def _resolve(self, customer: CustomerId) -> _Member:
        member = self._lookup(customer)
        if member is None:
            raise _declined("host.customer_not_found")
        return member

    def _resolve_text(self, nik_or_kpj: str) -> _Member:
        digits = _nik.compact(nik_or_kpj)
        kind = CustomerIdKind.KPJ if len(digits) == _kpj.LENGTH else CustomerIdKind.NIK
        return self._resolve(CustomerId(kind, digits))

    def _status(self, member: _Member, day: dt.date) -> CoverageStatus:
        return coverage_status(member.registered, member.months, as_of=day, rules=self._rules)

    def _next_months(
        self, member: _Member, status: CoverageStatus, day: dt.date, count: int
    ) -> tuple[YearMonth, ...]:
        """The next ``count`` unpaid months, oldest first, up to ``max_months`` past ``day``'s
        month (fewer when that bound cuts them); declines a lapsed membership."""
        if status.state is CoverageState.LAPSED:
            raise _declined("host.lapsed")
        if status.payable:
            first = status.payable[0]
        elif status.paid_through is not None:
            first = status.paid_through + 1
        else:
            first = status.registered
        last = YearMonth.of(day) + self._max_months
        return tuple(m for m in month_range(first, count) if m <= last)

    def _price(self, member: _Member, first: YearMonth, count: int, payer: Payer) -> Quote:
        return quote(
            participant=member.participant,
            start=first,
            months=count,
            allowed_months=range(1, self._max_months + 1),
            payer=payer,
            joined=member.registered,
            rules=self._rules,
        )

    def _allocate_kpj(self, wanted: str | None) -> str:
        if wanted is not None:
            kpj = _kpj.validate(wanted)
            if kpj in self._by_kpj:
                raise ValueError("that KPJ already belongs to another participant")
            return kpj
        prefix = 10 + self._seed % 90
        while True:
            candidate = f"{prefix:02d}{self._next('kpj'):0{_kpj.LENGTH - 2}d}"
            if candidate not in self._by_kpj:
                return candidate

    def _is_lapsed(self, member: _Member, day: dt.date) -> bool:
        return self._status(member, day).state is CoverageState.LAPSED

    # Seeding ------------------------------------------------------------------------------

    def seed(
        self,
        participant: Participant,
        *,
        registered: YearMonth | str,
        paid: Iterable[YearMonth | str] = (),
        kpj: str | None = None,
    ) -> str:
        """Put a participant in place without OTP or payments; returns their KPJ.

        ``registered`` is the first month of their membership; ``paid`` the months already paid
        (priced as self-paid, shown in :meth:`history` with channel ``"seed"``, not in the
        ledger). ``kpj`` (or the participant's own) is used when given, else one is allocated.
        Raises :class:`ValueError` for a NIK or KPJ already present or a paid month before
        ``registered``.
        """
        start = registered if isinstance(registered, YearMonth) else YearMonth.parse(registered)
        months = sorted({m if isinstance(m, YearMonth) else YearMonth.parse(m) for m in paid})
        if months and months[0] < start:
            raise ValueError("a paid month cannot come before the registration month")
        with self._lock:
            if participant.nik in self._members:
                raise ValueError("a participant with that NIK is already seeded; reset() first")
            kpj = self._allocate_kpj(kpj or participant.kpj)
            member = _Member(participant=participant, kpj=kpj, registered=start)
            now = self.now()
            self_paid = Payer.self_paid()
            for month in months:
                priced = self._price(member, month, 1, self_paid)
                morning = dt.datetime.combine(month.first_day(), dt.time(9), _clock.JAKARTA)
                member.months[month] = _PaidMonth(
                    amount=priced.total,
                    paid_at=min(now, morning),
                    channel=SEED_CHANNEL,
                    reference=f"SEED-{_month_text(month)}",
                )
            self._members[participant.nik] = member
            self._by_kpj[kpj] = participant.nik
            return kpj

    def seed_demo(
        self, count: int = 12, *, as_of: dt.date | None = None
    ) -> list[tuple[Participant, str]]:
        """Seed ``count`` synthetic participants (:class:`~jamsostek_channels.testing.PersonFactory`
        with the host's seed; valid people only) and return them with their KPJ.

        Who they are (NIK, name, birth date, KPJ) depends on the seed alone: they are drawn and
        checked as of :data:`DEMO_REFERENCE_DATE`, never the host's today, so a sandbox seeded
        next year names the same people. Only their histories follow ``as_of`` (default: the
        host's today), so "one month in arrears" stays true whenever they are seeded.

        The mix, by position: 0 fully paid through the current month, 1 one month in arrears,
        2 lapsed, 3 never paid (registered this month), then in turn fully paid, two months in
        arrears, fully paid, one month in arrears (the current month is unpaid besides: two or
        three payable months).
        """
        from jamsostek_channels.testing.people import PersonFactory

        with self._lock:
            current = YearMonth.of(as_of or self.today())
            if self._factory is None:
                self._factory = PersonFactory(self._seed, as_of=DEMO_REFERENCE_DATE)
            out: list[tuple[Participant, str]] = []
            for _ in range(count * 50):
                if len(out) >= count:
                    break
                person = self._factory.make()
                checked = check_participant(
                    person.data, as_of=DEMO_REFERENCE_DATE, rules=self._rules
                )
                participant = checked.participant
                if participant is None or participant.nik in self._members:
                    continue
                registered, paid = _demo_history(len(out), current)
                out.append((participant, self.seed(participant, registered=registered, paid=paid)))
            return out

    # Registration -------------------------------------------------------------------------

    def request_registration(self, channel: str, request: RegistrationRequest) -> OtpChallenge:
        """Check the participant as registration today requires and send an OTP by SMS.

        The same ``(channel, reference)`` again returns the same challenge and sends nothing (with
        another participant: ``host.conflict``). Raises InvalidInput, or HostDeclined
        ``host.already_registered`` for a NIK with a membership that has not lapsed.
        """
        with self._lock:
            key = (channel, request.reference)
            known = self._challenge_refs.get(key)
            if known is not None:
                existing = self._challenges[known]
                if existing.participant != request.participant:
                    raise _declined("host.conflict")
                return existing.challenge
            participant = request.participant
            now = self.now()
            found = participant_problems(_participant_values(participant), self._rules)
            if not any(problem.field == "birth_date" for problem in found):
                found += registration_problems(participant.birth_date, now.date(), self._rules)
            if found:
                raise InvalidInput(found)
            member = self._members.get(participant.nik)
            if member is not None and not self._is_lapsed(member, now.date()):
                raise _declined("host.already_registered")
            otp = f"{self._rng.randrange(1_000_000):06d}"
            challenge = OtpChallenge(
                reference=request.reference,
                challenge_id=f"OTP{self._next('challenge'):010d}",
                phone_masked=_phone.mask(participant.phone),
                expires_at=now + self.otp_ttl,
            )
            self._challenges[challenge.challenge_id] = _Challenge(
                challenge=challenge, channel=channel, participant=participant, otp=otp
            )
            self._challenge_refs[key] = challenge.challenge_id
            minutes = max(int(self.otp_ttl.total_seconds() // 60), 1)
            self.sms_outbox.append(
                Sms(
                    phone=participant.phone,
                    text=(
                        f"BPJS Ketenagakerjaan: kode OTP {otp} untuk pendaftaran Anda, berlaku "
                        f"{minutes} menit. JANGAN BERIKAN kode ini kepada siapa pun."
                    ),
                    otp=otp,
                    at=now,
                )
            )
            return challenge

    def last_otp(self, phone_or_nik: str) -> str:
        """The last OTP sent to a phone (any common format) or for a NIK; KeyError if none."""
        with self._lock:
            text = phone_or_nik.strip()
            digits = _nik.compact(text)
            if len(digits) == 16 and digits.isdigit():
                for challenge in reversed(self._challenges.values()):
                    if challenge.participant.nik == digits:
                        return challenge.otp
            else:
                phone = _phone.compact(text)
                for sms in reversed(self.sms_outbox):
                    if sms.phone == phone:
                        return sms.otp
            raise KeyError("no OTP was sent to that phone or NIK")

    def confirm_registration(self, challenge_id: str, otp: str) -> Registration:
        """Finish a registration with the OTP: the membership starts this (WIB) month.

        Wrong code: ``host.otp_invalid`` (counted); after ``otp_attempts`` wrong codes or once
        ``otp_ttl`` has passed: ``host.otp_expired``; unknown challenge: ``host.not_found``.
        Confirming a confirmed challenge with its code returns the same registration.
        """
        with self._lock:
            pending = self._challenges.get(challenge_id)
            if pending is None:
                raise _declined("host.not_found")
            if pending.registration is not None:
                if _same_code(otp, pending.otp):
                    return pending.registration
                raise _declined("host.otp_invalid")
            now = self.now()
            if pending.attempts >= self.otp_attempts or now >= pending.challenge.expires_at:
                raise _declined("host.otp_expired")
            if not _same_code(otp, pending.otp):
                pending.attempts += 1
                raise _declined("host.otp_invalid")
            participant = pending.participant
            member = self._members.get(participant.nik)
            if member is not None and not self._is_lapsed(member, now.date()):
                raise _declined("host.already_registered")
            registered = YearMonth.of(now.date())
            if member is None:
                kpj = self._allocate_kpj(None)
                member = _Member(participant=participant, kpj=kpj, registered=registered)
                self._members[participant.nik] = member
                self._by_kpj[kpj] = participant.nik
            else:  # a lapsed member comes back: a new membership, the old months stay history
                member.participant = participant
                member.registered = registered
            pending.registration = Registration(
                reference=pending.challenge.reference,
                kpj=member.kpj,
                nik_masked=_nik.mask(participant.nik),
                name=participant.name,
                registered=registered,
                programs=participant.programs,
            )
            return pending.registration

    # Bills and payments -------------------------------------------------------------------

    def inquire(
        self,
        customer: CustomerId,
        months: int,
        *,
        channel: str = "-",
        payer: Payer | None = None,
    ) -> Inquiry:
        """The next ``months`` unpaid months (arrears first), priced for ``payer`` (default:
        the participant; an APBN/APBD payer gets no PP 50/2025 discount), under a new
        ``inquiry_id`` valid for ``inquiry_ttl``.

        Declines ``host.customer_not_found``, ``host.lapsed``, or ``host.bill_paid`` when nothing
        can be paid (already paid ``max_months`` ahead). ``admin_fee`` is 0: channels add theirs.
        """
        with self._lock:
            count = self._check_count(months, "months")
            member = self._resolve(customer)
            now = self.now()
            status = self._status(member, now.date())
            periods = self._next_months(member, status, now.date(), count)
            if not periods:
                raise _declined("host.bill_paid")
            priced = self._price(member, periods[0], len(periods), payer or Payer.self_paid())
            bills = tuple(
                Bill(period=month.period, amount=month.total, discount=month.discount)
                for month in priced.by_month()
            )
            inquiry_id = f"INQ{self._next('inquiry'):012d}"
            self._inquiries[inquiry_id] = _InquiryRecord(
                nik=member.participant.nik,
                channel=channel,
                periods=periods,
                amount=priced.total,
                expires_at=now + self.inquiry_ttl,
            )
            return Inquiry(
                customer=customer,
                inquiry_id=inquiry_id,
                kpj=member.kpj,
                name_masked=redact.name(member.participant.name),
                programs=member.participant.programs,
                state=status.state,
                bills=bills,
                amount=priced.total,
                admin_fee=0,
            )

    def pay(self, channel: str, request: PaymentRequest, *, scope: str = "") -> PaymentResult:
        """Apply a payment once per ``(channel, scope, request.reference)``.

        The months must be exactly the next unpaid ones, in order, and the amount the price of
        those months for this payer. Declines: ``host.conflict`` (the reference was used with
        other parameters), ``host.customer_not_found``, ``host.lapsed``, ``host.bill_expired``
        (a known inquiry that expired), ``host.bill_paid`` (a month already paid),
        ``host.not_found`` (not the next unpaid months, or an inquiry of someone else),
        ``host.amount_mismatch``. More than ``max_months`` months (or none): InvalidInput.
        """
        with self._lock:
            return self._pay(channel, request, scope)

    def _same_payment(self, record: _Payment, request: PaymentRequest) -> bool:
        if tuple(request.periods) != record.periods or request.amount != record.amount:
            return False
        if request.customer == record.customer:
            return True
        member = self._lookup(request.customer)
        return member is not None and member.participant.nik == record.nik

    def _pay(self, channel: str, request: PaymentRequest, scope: str = "") -> PaymentResult:
        key = (channel, scope, request.reference)
        record = self._payments.get(key)
        if record is not None:
            if self._same_payment(record, request):
                return record.result()
            raise _declined("host.conflict")
        if key in self._voided:  # reversed before it arrived: it must never apply
            raise _declined("payment.reversed")
        member = self._resolve(request.customer)
        periods = tuple(request.periods)
        self._check_count(len(periods), "periods")
        now = self.now()
        if request.inquiry_id is not None:
            inquiry = self._inquiries.get(request.inquiry_id)
            if inquiry is not None:
                if inquiry.nik != member.participant.nik:
                    raise _declined("host.not_found")
                if now >= inquiry.expires_at:
                    raise _declined("host.bill_expired")
        status = self._status(member, now.date())
        expected = self._next_months(member, status, now.date(), len(periods))
        if any(month in member.months for month in periods):
            raise _declined("host.bill_paid")
        if periods != expected:
            raise _declined("host.not_found")
        priced = self._price(member, periods[0], len(periods), request.payer)
        if request.amount != priced.total:
            raise _declined("host.amount_mismatch")
        nik = member.participant.nik
        record = _Payment(
            channel=channel,
            scope=scope,
            reference=request.reference,
            host_reference=f"BPJS{self._next('payment'):012d}",
            nik=nik,
            customer=request.customer,
            periods=periods,
            amount=request.amount,
            admin_fee=request.admin_fee,
            paid_at=now,
        )
        self._payments[key] = record
        for month in priced.by_month():
            member.months[month.period] = _PaidMonth(
                amount=month.total, paid_at=now, channel=channel, reference=request.reference
            )
        self._ledger.append(
            LedgerEntry(
                kind="payment",
                channel=channel,
                reference=request.reference,
                host_reference=record.host_reference,
                nik=nik,
                periods=periods,
                amount=record.amount,
                at=now,
                scope=scope,
            )
        )
        return record.result()

    def payment_status(self, channel: str, reference: str, *, scope: str = "") -> PaymentResult:
        """APPLIED or REVERSED with the payment's details, or NOT_FOUND (nothing applied in
        this scope under that reference)."""
        with self._lock:
            record = self._payments.get((channel, scope, reference))
            if record is None:
                return PaymentResult(reference=reference, state=PaymentState.NOT_FOUND)
            return record.result()

    def payment_customer(
        self, channel: str, reference: str, *, scope: str = ""
    ) -> CustomerId | None:
        """The customer id a payment was made with, or None: for gateways whose status answer
        names the customer."""
        with self._lock:
            record = self._payments.get((channel, scope, reference))
            return None if record is None else record.customer

    def reverse(self, channel: str, reference: str, *, scope: str = "") -> ReversalResult:
        """Undo an applied payment: its months become unpaid again.

        NOT_FOUND when nothing was applied, and the reference is then void: a payment under it
        arriving later (held in the network past its reversal) is refused (``payment.reversed``),
        never applied. REVERSED (again, without a second ledger entry) when
        it already was; REFUSED (``host.reversal_refused``) outside ``reversal_window`` or once a
        later month has been paid.
        """
        with self._lock:
            record = self._payments.get((channel, scope, reference))
            if record is None:
                self._voided.add((channel, scope, reference))
                return ReversalResult(reference=reference, state=ReversalState.NOT_FOUND)
            if record.reversed_at is not None:
                return ReversalResult(reference=reference, state=ReversalState.REVERSED)
            now = self.now()
            member = self._members[record.nik]
            last = record.periods[-1]
            if not self._in_window(record, now) or any(m > last for m in member.months):
                return ReversalResult(
                    reference=reference,
                    state=ReversalState.REFUSED,
                    host_code="host.reversal_refused",
                )
            for month in record.periods:
                member.months.pop(month, None)
            record.reversed_at = now
            self._ledger.append(
                LedgerEntry(
                    kind="reversal",
                    channel=channel,
                    reference=reference,
                    host_reference=record.host_reference,
                    nik=record.nik,
                    periods=record.periods,
                    amount=record.amount,
                    at=now,
                    scope=scope,
                )
            )
            return ReversalResult(reference=reference, state=ReversalState.REVERSED)

    def _in_window(self, record: _Payment, now: dt.datetime) -> bool:
        if self.reversal_window == "any":
            return True
        if self.reversal_window == "never":
            return False
        return now.date() == record.paid_at.date()

    def history(self, customer: CustomerId) -> tuple[HistoryEntry, ...]:
        """Every paid month (applied, not reversed; earlier memberships included), oldest first."""
        with self._lock:
            member = self._resolve(customer)
            return tuple(
                HistoryEntry(
                    period=period,
                    amount=paid.amount,
                    paid_at=paid.paid_at,
                    channel=paid.channel,
                    reference=paid.reference,
                )
                for period, paid in sorted(member.months.items())
            )

    # Auto-debit ---------------------------------------------------------------------------

    def enrol_autodebit(
        self, channel: str, customer: CustomerId, months: int, payer: Payer, *, reference: str
    ) -> AutoDebitMandate:
        """A standing order paying ``months`` months whenever the next unpaid month has come.

        Idempotent on ``(channel, reference)``: the same enrolment again returns the mandate it
        made (as it stands now, cancelled or not) and makes no second one; the same reference
        for another customer, month count or payer is ``host.mandate_conflict``. Needs the first
        month of the current membership paid (``host.autodebit_unpaid``); declines
        ``host.customer_not_found`` and ``host.lapsed``. A declined enrolment leaves nothing
        behind: its reference may be used again.
        """
        with self._lock:
            count = self._check_count(months, "months")
            known = self._mandate_refs.get((channel, reference))
            if known is not None:
                existing = self._mandates[known]
                if not self._same_mandate(existing, customer, count, payer):
                    raise _declined("host.mandate_conflict")
                return self._mandate_view(existing, self.today())
            member = self._resolve(customer)
            today = self.today()
            status = self._status(member, today)
            if status.state is CoverageState.LAPSED:
                raise _declined("host.lapsed")
            if status.registered not in member.months:
                raise _declined("host.autodebit_unpaid")
            mandate = _Mandate(
                mandate_id=f"MD{self._next('mandate'):08d}",
                channel=channel,
                reference=reference,
                nik=member.participant.nik,
                customer=customer,
                months=count,
                payer=payer,
            )
            self._mandates[mandate.mandate_id] = mandate
            self._mandate_refs[(channel, reference)] = mandate.mandate_id
            return self._mandate_view(mandate, today)

    def _same_mandate(
        self, mandate: _Mandate, customer: CustomerId, months: int, payer: Payer
    ) -> bool:
        if months != mandate.months or payer != mandate.payer:
            return False
        if customer == mandate.customer:
            return True
        member = self._lookup(customer)  # the same worker by NIK or by KPJ
        return member is not None and member.participant.nik == mandate.nik

    def cancel_autodebit(
        self, mandate_id: str, *, channel: str, reference: str
    ) -> AutoDebitMandate:
        """Stop a mandate (idempotent); ``host.not_found`` for an unknown one.

        ``(channel, reference)`` names the cancellation: sent again it answers the mandate as
        it stands; the same reference for another mandate is ``host.mandate_conflict``."""
        with self._lock:
            known = self._cancel_refs.get((channel, reference))
            if known is not None and known != mandate_id:
                raise _declined("host.mandate_conflict")
            mandate = self._mandates.get(mandate_id)
            if mandate is None:
                raise _declined("host.not_found")
            mandate.active = False
            self._cancel_refs[(channel, reference)] = mandate_id
            return self._mandate_view(mandate, self.today())

    def mandates(self, channel: str | None = None) -> list[AutoDebitMandate]:
        """Every mandate (of ``channel``), oldest first: what a test counts."""
        with self._lock:
            today = self.today()
            return [
                self._mandate_view(m, today)
                for m in self._mandates.values()
                if channel is None or m.channel == channel
            ]

    def mandate(self, mandate_id: str) -> AutoDebitMandate | None:
        """A mandate as it stands now, or None."""
        with self._lock:
            found = self._mandates.get(mandate_id)
            return None if found is None else self._mandate_view(found, self.today())

    def _mandate_view(self, mandate: _Mandate, today: dt.date) -> AutoDebitMandate:
        next_run: dt.date | None = None
        if mandate.active:
            member = self._members[mandate.nik]
            status = self._status(member, today)
            if status.state is not CoverageState.LAPSED:
                upcoming = self._next_months(member, status, today, 1)
                if upcoming:
                    next_run = max(today, upcoming[0].first_day())
        return AutoDebitMandate(
            mandate_id=mandate.mandate_id,
            customer=mandate.customer,
            months=mandate.months,
            payer=mandate.payer,
            active=mandate.active,
            next_run=next_run,
        )

    def run_autodebits(self, day: dt.date) -> list[PaymentResult]:
        """Run every active mandate for ``day``: when its next unpaid month is ``day``'s month
        or earlier, pay its next months through :meth:`pay` with reference
        ``AD-{mandate_id}-{yyyymm}`` (``day``'s month), so a second run on any day of that month
        returns the first run's results and pays nothing. A decline becomes a DECLINED result with
        the host code. Payments are applied at the host clock's instant."""
        with self._lock:
            results: list[PaymentResult] = []
            month = YearMonth.of(day)
            for mandate in self._mandates.values():
                if not mandate.active:
                    continue
                reference = f"AD-{mandate.mandate_id}-{_month_text(month)}"
                done = self._payments.get((mandate.channel, "", reference))
                if done is not None:
                    results.append(done.result())
                    continue
                member = self._members[mandate.nik]
                try:
                    now = self.now()
                    status = self._status(member, now.date())
                    periods = self._next_months(member, status, now.date(), mandate.months)
                    if not periods or periods[0] > month:
                        continue
                    priced = self._price(member, periods[0], len(periods), mandate.payer)
                    request = PaymentRequest(
                        reference=reference,
                        customer=mandate.customer,
                        periods=periods,
                        amount=priced.total,
                        admin_fee=0,
                        payer=mandate.payer,
                        inquiry_id=None,
                        requested_at=now,
                    )
                    results.append(self._pay(mandate.channel, request))
                except HostDeclined as exc:
                    results.append(
                        PaymentResult(
                            reference=reference,
                            state=PaymentState.DECLINED,
                            host_code=exc.host_code,
                        )
                    )
            return results

    # Reports ------------------------------------------------------------------------------

    def settlement(
        self,
        channel: str,
        day: dt.date,
        *,
        scope: str | None = None,
        cutoff: dt.time | None = None,
    ) -> tuple[SettlementRecord, ...]:
        """Every payment applied through ``channel`` on business day ``day`` (REVERSED if it
        was): its WIB date, or the next past the channel's ``cutoff``
        (:func:`~jamsostek_channels.clock.business_day`); only those of ``scope`` when given."""
        with self._lock:
            records = sorted(
                (
                    r
                    for r in self._payments.values()
                    if r.channel == channel
                    and _clock.business_day(r.paid_at, cutoff) == day
                    and (scope is None or r.scope == scope)
                ),
                key=lambda r: (r.paid_at, r.host_reference),
            )
            return tuple(
                SettlementRecord(
                    channel=r.channel,
                    reference=r.reference,
                    host_reference=r.host_reference,
                    nik_masked=_nik.mask(r.nik),
                    periods=r.periods,
                    amount=r.amount,
                    admin_fee=r.admin_fee,
                    paid_at=r.paid_at,
                    state=SettlementState.PAID
                    if r.reversed_at is None
                    else SettlementState.REVERSED,
                    scope=r.scope,
                )
                for r in records
            )

    def coverage(self, nik: str, as_of: dt.date | None = None) -> CoverageStatus:
        """The coverage status of a NIK (or KPJ) on ``as_of`` (default: the host's today)."""
        with self._lock:
            member = self._resolve_text(nik)
            return self._status(member, as_of or self.today())

    def ledger(self) -> tuple[LedgerEntry, ...]:
        """Every payment and reversal, in the order they happened."""
        with self._lock:
            return tuple(self._ledger)

    def participant(self, nik: str) -> HostParticipant | None:
        """What the host holds for a NIK (or KPJ), or None."""
        with self._lock:
            try:
                member = self._resolve_text(nik)
            except HostDeclined:
                return None
            return HostParticipant(
                participant=member.participant,
                kpj=member.kpj,
                registered=member.registered,
                paid=frozenset(m for m in member.months if m >= member.registered),
            )

    def applied_references(self, channel: str, *, scope: str | None = None) -> set[str]:
        """The references of the payments through ``channel`` (in ``scope``, when given) that
        stand applied (not reversed)."""
        with self._lock:
            return {
                r.reference
                for r in self._payments.values()
                if r.channel == channel
                and r.reversed_at is None
                and (scope is None or r.scope == scope)
            }


def _demo_history(index: int, current: YearMonth) -> tuple[YearMonth, list[YearMonth]]:
    """(registered, paid months) for the ``index``-th demo participant (see seed_demo)."""
    registered = current - (4 + index % 7)
    if index == 2:  # lapsed: nothing paid for the last six months
        registered = current - 12
        return registered, list(month_range(registered, 6))
    if index == 3:  # never paid: registered this month
        return current, []
    arrears = (0, 1)[index] if index < 2 else (0, 2, 0, 1)[(index - 4) % 4]
    # in arrears: `arrears` past months unpaid, and the current month too
    paid_through = current - 1 - arrears if arrears else current
    return registered, list(month_range(registered, paid_through - registered + 1))
