"""The ISO 8583 adapter: the shared channel interface spoken to a switch over one TCP link, as
a BRILink EDC terminal or a retail aggregator's till does (``docs/channels/iso8583.md``).

It only translates: :class:`~jamsostek_channels.client.Client` has checked the rules and the
capabilities and journaled the request. Roles: :class:`~jamsostek_channels.channel.Inquiries`
and :class:`~jamsostek_channels.channel.Payments` (0200/0210 under the profile's processing
codes), :class:`~jamsostek_channels.channel.Advices` (0220, 0221 when the outbox says an
earlier attempt may have arrived → 0230) and :class:`~jamsostek_channels.channel.Reversals`
(DE90 naming the payment's 0200; by the request's ``attempt``, the outbox's durable count: the
first 0400, the next ``repeats`` (the profile's timers) 0401 → 0410, then the reversal is in
store-and-forward: a reversal advice 0420, its repeats 0421 → 0430: :func:`reversal_form`).
Which of the last two settles an unanswered payment is the profile's ``resolution``:
``advice`` (BRILink) or ``reverse`` (the tills).
:class:`~jamsostek_channels.channel.Registrations` where the profile has registration codes
(BRILink: 0200 ``390000`` with the worker → OTP challenge, 0200 ``390100`` with the OTP → KPJ);
a profile without them (the tills) refuses with
:class:`~jamsostek_channels.errors.CapabilityRefused` before sending.

**The session** (:class:`~.session.Iso8583Session`): one persistent connection per adapter,
opened on first use and signed on (0800, DE70 ``001``), kept alive by echoes (``301``) when
idle and reopened with backoff when lost; a message that finds no link waits for it only
within its own timer, else :class:`~jamsostek_channels.errors.NotDelivered`. A
``sign-on-needed`` answer (``01``: the switch restarted) signs on again and sends the message
once more under a new STAN (nothing was processed). A link found lost before a message was
written is reopened and the message sent once more (it surely did not arrive).
:meth:`Iso8583Adapter.close` stops the echoes, signs off (``002``) and closes.

**Identifiers.** DE11 STAN from the journal's durable sequence (``stan``, six digits, wrapping
after 999999: a restart never reuses one). A payment's STAN and DE7, and the STAN of its advice
or reversal, are fixed before they are journaled (:meth:`Iso8583Adapter.prepare`, the
:class:`~jamsostek_channels.channel.WireFacts` seam) and come back with every later request, in
any process: a repeat (0221, 0401) keeps its first message's STAN. A reversal's 0420 is a new
transmission of the stored reversal (as jPOS's store-and-forward sends it), so it has a STAN of
its own, fixed with the 0400's when the reversal is queued; its 0421s keep that one. DE37 RRN
of a payment and
everything naming it:
:func:`~.flows.rrn_of` its reference; of an inquiry: the year's last digit, the day of the year
and the hour, then the STAN (:func:`_inquiry_rrn`). DE41 the terminal, DE32 the acquirer, DE18
the profile's channel type, DE42 the agent where the profile says so; DE7 the adapter's clock in the
profile's zone. DE90 of a reversal: the 0200's MTI, STAN and DE7 as sent, from the payment's
wire facts (a restart between the lost answer and the reversal changes nothing). Only a payment
journaled without them (before journal schema 5) has a STAN of zeros and its request time as
DE7: the switch finds the payment by its reference (DE48 ``FR``) either way.

**Answers** become the library's types and errors, by the profile's response-code map:
``approved`` the result; ``already-paid``, ``no-bill``, ``invalid-amount``,
``invalid-customer``, ``no-inquiry``, ``cut-off`` and the other refusals
:class:`~jamsostek_channels.errors.HostDeclined` (the library's code, the switch's own in
``host_code``); after a payment or an advice ``duplicate`` (``94``), ``too-late`` and
``malfunction`` are :class:`~jamsostek_channels.errors.OutcomeUnknown` (settled by the
profile's policy, never paid again). Nothing written is
:class:`~jamsostek_channels.errors.NotDelivered`; written and unanswered within the profile's
timer, :class:`~jamsostek_channels.errors.OutcomeUnknown`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from jamsostek_channels import clock as _clock
from jamsostek_channels.adapters.iso8583 import flows
from jamsostek_channels.adapters.iso8583.fields import OriginalData, TransmissionTime
from jamsostek_channels.adapters.iso8583.messages import (
    Advice,
    Answer,
    FinancialRequest,
    Message,
    Reversal,
)
from jamsostek_channels.adapters.iso8583.profile import (
    Iso8583Profile,
    Meaning,
    Timers,
    load_profile,
)
from jamsostek_channels.adapters.iso8583.session import Iso8583Session
from jamsostek_channels.adapters.iso8583.settings import Iso8583Settings
from jamsostek_channels.adapters.iso8583.tlv import PrivateData
from jamsostek_channels.channel import (
    AdviceRequest,
    Capabilities,
    Inquiry,
    InquiryRequest,
    OtpChallenge,
    OtpConfirmation,
    PaymentRequest,
    PaymentResult,
    Registration,
    RegistrationRequest,
    ReversalRequest,
    ReversalResult,
    ReversalState,
)
from jamsostek_channels.errors import (
    CapabilityRefused,
    HostDeclined,
    InvalidInput,
    MalformedMessage,
    NotDelivered,
    OutcomeUnknown,
    Problem,
    SettingsInvalid,
)
from jamsostek_channels.sequences import SequenceSource
from jamsostek_channels.transport import Framing, Timeouts

__all__ = [
    "Iso8583Adapter",
    "open_iso8583_adapter",
    "reversal_form",
    "timers_for_timeouts",
    "with_settings_framing",
]

#: The library's code for each refusal the profile's map names (the rest: ``host.rejected``).
_DECLINES = {
    Meaning.ALREADY_PAID: "host.bill_paid",
    Meaning.NO_BILL: "host.not_found",
    Meaning.INVALID_AMOUNT: "host.amount_mismatch",
    Meaning.INVALID_CUSTOMER: "host.customer_not_found",
    Meaning.NO_INQUIRY: "host.bill_expired",
    Meaning.CUT_OFF: "host.cutoff",
    Meaning.NOT_FOUND: "host.not_found",
}
#: After a payment or an advice these say nothing of its fate.
_UNKNOWN = frozenset({Meaning.DUPLICATE, Meaning.TOO_LATE, Meaning.MALFUNCTION})
#: A registration's refusals by meaning: the library's codes SNAP's registration gives for the
#: same cases (a duplicate STAN as SNAP's reused X-EXTERNAL-ID: ``host.conflict``).
_REGISTRATION_DECLINES = {
    Meaning.OTP_INVALID: "host.otp_invalid",
    Meaning.OTP_EXPIRED: "host.otp_expired",
    Meaning.ALREADY_REGISTERED: "host.already_registered",
    Meaning.DUPLICATE: "host.conflict",
    Meaning.NOT_FOUND: "host.not_found",
    Meaning.INVALID_CUSTOMER: "host.rejected",  # a worker the host's rules do not register
}
#: DE48 (LLLVAR) holds at most this many characters.
_PRIVATE_WIDTH = 999
#: DE42 holds at most this many characters of an agent id.
_MERCHANT_WIDTH = 15
#: The wire facts this adapter fixes (:meth:`Iso8583Adapter.prepare`): a message's DE11 (six
#: digits) and, of a payment's 0200, its DE7 (``MMDDhhmmss``).
_STAN = "stan"
_TRANSMITTED = "transmitted"
#: Of a reversal: the DE11 of its store-and-forward 0420 (and every 0421).
_FORWARD_STAN = "saf_stan"


def reversal_form(attempt: int, repeats: int) -> tuple[bool, bool]:
    """How delivery number ``attempt`` (1-based) of a reversal goes, as ``(advice, repeat)``,
    under a profile whose timers say ``repeats``: the first a 0400, the next ``repeats`` 0401s,
    then store-and-forward: a 0420, and 0421s from then on.

    >>> [reversal_form(n, 3) for n in (1, 2, 4, 5, 6)]
    [(False, False), (False, True), (False, True), (True, False), (True, True)]
    """
    if attempt <= repeats + 1:
        return (False, attempt > 1)
    return (True, attempt > repeats + 2)


def _fact_stan(wire: Mapping[str, str], key: str = _STAN) -> int | None:
    """The STAN a request's wire facts fixed under ``key`` (``None``: none fixed, or not a
    STAN)."""
    text = wire.get(key)
    return int(text) if text is not None and len(text) == 6 and text.isdigit() else None


def _fact_time(wire: Mapping[str, str]) -> TransmissionTime | None:
    """The DE7 a payment's wire facts fixed (``None``: none, or not a DE7)."""
    text = wire.get(_TRANSMITTED)
    if text is None:
        return None
    try:
        return TransmissionTime.parse(text)
    except MalformedMessage:
        return None


def _inquiry_rrn(moment: dt.datetime, stan: int) -> str:
    """An inquiry's DE37: the year's last digit, the day of the year and the hour (UTC), then
    the STAN (common switch practice): ``612314`` + ``000042``."""
    utc = moment.astimezone(dt.UTC)
    day = utc.toordinal() - dt.date(utc.year, 1, 1).toordinal() + 1  # timetuple()'s tm_yday
    return f"{utc.year % 10}{day:03d}{utc.hour:02d}{stan:06d}"


class Iso8583Adapter:
    """One terminal's link to a switch under ``profile`` (see the module's docstring).

    ``address`` ``tcp://127.0.0.1:PORT``; ``terminal_id`` DE41; ``acquirer_id`` DE32 (default:
    the profile's); ``agent_id`` the default agent id (DE42) where the profile carries one;
    ``sequences`` the journal's durable counters; ``clock`` the time messages are stamped with
    (the client sets its own); ``timers`` the profile's timers replaced (tests shorten them);
    ``connect_timeout`` seconds; ``echo_interval`` the idle seconds before an echo (default:
    the timers' ``echo_idle``); ``name`` the channel's name (default: the profile's).
    """

    def __init__(
        self,
        profile: Iso8583Profile,
        *,
        address: str,
        terminal_id: str,
        sequences: SequenceSource,
        acquirer_id: str | None = None,
        agent_id: str | None = None,
        clock: _clock.Clock | None = None,
        timers: Timers | None = None,
        connect_timeout: float = 3.05,
        echo_interval: float | None = None,
        name: str | None = None,
    ) -> None:
        if not 1 <= len(terminal_id) <= profile.terminal_id_length:
            raise ValueError(f"terminal_id is 1..{profile.terminal_id_length} characters here")
        self.profile = profile
        self.name = name or profile.name
        self.capabilities: Capabilities = profile.capabilities
        self.clock: _clock.Clock = clock or _clock.now
        self.scope = ""  # the switch keys a payment by its reference alone
        self.terminal_id = terminal_id
        self.acquirer_id = acquirer_id or profile.acquirer_id
        self.agent_id = agent_id
        self.timers = timers or profile.timers
        self._sequences = sequences
        self._codec = profile.codec()
        #: the link: connect, sign-on, echo when idle, reconnect, sign-off
        self.session = Iso8583Session(
            profile,
            address=address,
            terminal_id=terminal_id,
            stan=self._stan,
            now=self._now,
            timers=self.timers,
            connect_timeout=connect_timeout,
            interval=echo_interval,
            name=self.name,
        )
        self._transport = self.session.transport

    def __repr__(self) -> str:
        return f"Iso8583Adapter(name={self.name!r}, address={self._transport.address!r})"

    # --- the session ------------------------------------------------------------------------

    def _stan(self) -> int:
        return self._sequences.next("stan", cycle=999_999)

    def _now(self) -> TransmissionTime:
        return TransmissionTime.of(self.clock(), self.profile.time_zone)

    def close(self) -> None:
        """Stop the echoes, sign off (``002``, best effort) and close the link."""
        self.session.close()

    def _exchange(
        self, build: Callable[[int], Message], *, stan: int | None, timeout: float, reference: str
    ) -> Answer:
        """Send the message ``build`` makes for a STAN (``stan``, or a new one) and return its
        answer; signs on again once after ``sign-on-needed`` and reconnects once when the link
        was found lost before the message was written. Waiting for a link is bounded by
        ``timeout`` too."""
        for last in (False, True):
            self.session.ready(timeout)
            message = build(stan if stan is not None else self._stan())
            try:
                answer = self.session.send(message, timeout=timeout, reference=reference)
            except NotDelivered:
                if last or self._transport.connected:
                    raise
                continue  # lost before writing: surely not delivered, so once more
            if not isinstance(answer, Answer):
                raise OutcomeUnknown("outcome.unknown", {"reference": reference})
            meaning = self.profile.response(answer.response_code).meaning
            if meaning is Meaning.SIGN_ON_NEEDED and not last:
                self.session.sign_on_needed()
                stan = None  # that STAN was seen: a new one
                continue
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    # --- building messages ------------------------------------------------------------------

    def _merchant(self, agent_id: str | None) -> str | None:
        if self.profile.agent_id != "DE42":
            return None
        agent = agent_id or self.agent_id
        if agent is not None and not (
            1 <= len(agent) <= _MERCHANT_WIDTH and agent.isascii() and agent.isprintable()
        ):
            raise InvalidInput(
                [Problem.of("agent_id", "field.type", {"expected": "1-15 printable ASCII"})]
            )
        return agent

    def _common(
        self,
        stan: int,
        rrn: str,
        merchant: str | None,
        transmitted: TransmissionTime | None = None,
    ) -> dict[str, Any]:
        return {
            "transmitted": transmitted or self._now(),
            "stan": stan,
            "channel_type": self.profile.channel_type,
            "acquirer": self.acquirer_id,
            "rrn": rrn,
            "terminal": self.terminal_id,
            "merchant": merchant,
        }

    def _refused(self, answer: Answer, *, money: bool, reference: str) -> Exception:
        """What a refusal means here: the error to raise."""
        code = answer.response_code
        meaning = self.profile.response(code).meaning
        if money and meaning in _UNKNOWN:
            return OutcomeUnknown("outcome.unknown", {"reference": reference})
        if meaning in _DECLINES:
            return HostDeclined(_DECLINES[meaning], host_code=code)
        if meaning in _UNKNOWN or meaning is Meaning.LINK_DOWN:
            return HostDeclined("host.error", {"code": code}, host_code=code)
        return HostDeclined("host.rejected", {"code": code}, host_code=code)

    # --- Inquiries --------------------------------------------------------------------------

    def inquire(self, request: InquiryRequest) -> Inquiry:
        merchant = self._merchant(request.agent_id)
        private = flows.inquiry_question(
            self.profile.product_id, request.customer, request.months, request.payer
        )

        def build(stan: int) -> Message:
            return FinancialRequest(
                processing_code=self.profile.processing_codes.inquiry,
                amount=0,
                private=private,
                **self._common(stan, _inquiry_rrn(self.clock(), stan), merchant),
            )

        answer = self._exchange(
            build, stan=None, timeout=self.timers.inquiry_timeout, reference="inquiry"
        )
        if not answer.approved:
            raise self._refused(answer, money=False, reference="inquiry")
        return flows.inquiry_of(answer.private, request.customer)

    # --- Wire facts -------------------------------------------------------------------------

    def prepare(self, request: PaymentRequest | AdviceRequest | ReversalRequest) -> dict[str, str]:
        """What the client journals before ``request`` is first sent (the
        :class:`~jamsostek_channels.channel.WireFacts` seam): its STAN and, of a payment, its
        DE7, as the wire spells them. They come back as the ``wire`` of every later request
        about the payment: a reversal's DE90 names the 0200's STAN and DE7, a repeat (0221,
        0401) keeps its first message's STAN, after a restart too. A reversal gets its
        store-and-forward 0420's STAN now as well (most are answered before they need it: a
        STAN skipped is harmless, one drawn later would be lost with its process)."""
        facts = {_STAN: f"{self._stan():06d}"}
        if isinstance(request, PaymentRequest):
            facts[_TRANSMITTED] = self._now().text
        if isinstance(request, ReversalRequest):
            facts[_FORWARD_STAN] = f"{self._stan():06d}"
        return facts

    # --- Payments ---------------------------------------------------------------------------

    def pay(self, request: PaymentRequest) -> PaymentResult:
        merchant = self._merchant(request.agent_id)
        private = flows.payment_data(self.profile.product_id, request)
        rrn = flows.rrn_of(request.reference)
        # The STAN and DE7 the journal holds (a later DE90 names them); after a "sign-on
        # needed" answer the 0200 goes once more under a new STAN (see _exchange).
        transmitted = _fact_time(request.wire)

        def build(stan: int) -> Message:
            return FinancialRequest(
                processing_code=self.profile.processing_codes.payment,
                amount=request.amount,
                private=private,
                **self._common(stan, rrn, merchant, transmitted),
            )

        answer = self._exchange(
            build,
            stan=_fact_stan(request.wire),
            timeout=self.timers.payment_timeout,
            reference=request.reference,
        )
        if not answer.approved:
            raise self._refused(answer, money=True, reference=request.reference)
        result = flows.result_of(answer.private, request.reference, answer.response_code)
        return flows.with_host_lines(result, answer.lines)

    # --- Advices ----------------------------------------------------------------------------

    def advise(self, request: AdviceRequest) -> PaymentResult:
        payment = request.payment
        merchant = self._merchant(payment.agent_id)
        private = flows.payment_data(self.profile.product_id, payment)
        stan = _fact_stan(request.wire)  # the first advice's, for it and every repeat

        def build(number: int) -> Message:
            return Advice(
                processing_code=self.profile.processing_codes.payment,
                amount=payment.amount,
                private=private,
                repeat=request.repeat,
                **self._common(number, flows.rrn_of(payment.reference), merchant),
            )

        answer = self._exchange(
            build, stan=stan, timeout=self.timers.payment_timeout, reference=payment.reference
        )
        if not answer.approved:
            raise self._refused(answer, money=True, reference=payment.reference)
        result = flows.result_of(answer.private, payment.reference, answer.response_code)
        return flows.with_host_lines(result, answer.lines)

    # --- Reversals --------------------------------------------------------------------------

    def _original(self, payment: PaymentRequest) -> OriginalData:
        """DE90: the payment's 0200 as its wire facts say it was sent (journaled without them:
        STAN zeros, its request time)."""
        stan = _fact_stan(payment.wire)
        transmitted = _fact_time(payment.wire)
        return OriginalData(
            "0200",
            0 if stan is None else stan,
            transmitted or TransmissionTime.of(payment.requested_at, self.profile.time_zone),
            self.acquirer_id,
        )

    def reverse(self, request: ReversalRequest) -> ReversalResult:
        payment = request.payment
        merchant = self._merchant(payment.agent_id)
        private = attrs.evolve(flows.payment_data(self.profile.product_id, payment), admin_fee=None)
        advice, repeat = reversal_form(request.attempt, self.timers.repeats)
        # 0400 and its 0401s share one STAN, the store-and-forward 0420 and its 0421s another
        # (a reversal queued without one: a new STAN each time, still never a duplicate).
        stan = _fact_stan(request.wire, _FORWARD_STAN if advice else _STAN)
        original = self._original(payment)

        def build(number: int) -> Message:
            return Reversal(
                processing_code=self.profile.processing_codes.payment,
                amount=payment.amount,
                private=private,
                original=original,
                advice=advice,
                repeat=repeat,
                **self._common(number, flows.rrn_of(payment.reference), merchant),
            )

        answer = self._exchange(
            build, stan=stan, timeout=self.timers.payment_timeout, reference=payment.reference
        )
        code = answer.response_code
        meaning = self.profile.response(code).meaning
        if meaning is Meaning.APPROVED:
            return ReversalResult(payment.reference, ReversalState.REVERSED, host_code=code)
        if meaning is Meaning.NOT_FOUND:
            return ReversalResult(payment.reference, ReversalState.NOT_FOUND, host_code=code)
        if meaning in _UNKNOWN or meaning in (Meaning.LINK_DOWN, Meaning.CUT_OFF):
            return ReversalResult(payment.reference, ReversalState.QUEUED, host_code=code)
        return ReversalResult(payment.reference, ReversalState.REFUSED, host_code=code)

    # --- Registrations (BRILink: the project's 0200s under the registration codes) ----------

    def _registration_code(self, confirm: bool) -> str:
        """The profile's processing code for a registration or its confirmation; a profile
        without one (the tills) refuses before anything is sent."""
        codes = self.profile.processing_codes
        code = codes.registration_confirm if confirm else codes.registration
        if code is None:
            raise CapabilityRefused(
                "capability.operation", {"channel": self.name, "operation": "register"}
            )
        return code

    def _registration_exchange(
        self, processing_code: str, private: PrivateData, agent_id: str | None, reference: str
    ) -> Answer:
        """Send a registration 0200 (DE4 0, DE37 the registration reference's RRN) and return
        its approved answer; a refusal raises as SNAP's registration does for the same case."""
        merchant = self._merchant(agent_id)
        if len(private.encode()) > _PRIVATE_WIDTH:  # only a long, mostly non-ASCII worker
            raise InvalidInput(
                [Problem.of("participant", "field.too_long", {"max": _PRIVATE_WIDTH})]
            )

        def build(stan: int) -> Message:
            return FinancialRequest(
                processing_code=processing_code,
                amount=0,
                private=private,
                **self._common(stan, flows.rrn_of(reference), merchant),
            )

        answer = self._exchange(
            build, stan=None, timeout=self.timers.inquiry_timeout, reference=reference
        )
        if answer.approved:
            return answer
        code = answer.response_code
        known = _REGISTRATION_DECLINES.get(self.profile.response(code).meaning)
        if known is not None:
            raise HostDeclined(known, {"code": code}, host_code=code)
        raise self._refused(answer, money=False, reference=reference)

    def request_registration(self, request: RegistrationRequest) -> OtpChallenge:
        """0200 under ``registration`` with the worker in DE48 → 0210 with the OTP challenge
        (the host sends the OTP to the worker's phone). The host keys a registration by its
        reference: the same reference again returns the same challenge."""
        code = self._registration_code(confirm=False)
        private = flows.registration_data(self.profile.product_id, request)
        answer = self._registration_exchange(code, private, request.agent_id, request.reference)
        return flows.challenge_of(answer.private)

    def confirm_registration(self, request: OtpConfirmation) -> Registration:
        """0200 under ``registration_confirm`` with the challenge and the OTP → 0210 with the
        worker's KPJ."""
        code = self._registration_code(confirm=True)
        private = flows.confirmation_data(self.profile.product_id, request)
        reference = request.challenge.reference
        answer = self._registration_exchange(code, private, request.agent_id, reference)
        return flows.registration_result_of(answer.private)


def open_iso8583_adapter(
    settings: Iso8583Settings,
    *,
    profile: str,
    sequences: SequenceSource,
    clock: _clock.Clock | None = None,
    **options: Any,
) -> Iso8583Adapter:
    """The adapter from a channel's settings; ``profile`` names the channel's own profile (the
    settings' ``profile`` replaces it); ``options``: :class:`Iso8583Adapter`'s keywords
    (``timers``, ``connect_timeout``, ``echo_interval``: the settings' unless given), or the
    HTTP adapters' ``timeouts`` (:func:`timers_for_timeouts`), so code that serves every
    channel alike (the chaos workers) can shorten any channel's waits the same way."""
    if settings.echo_interval is not None:
        options.setdefault("echo_interval", settings.echo_interval)
    loaded = with_settings_framing(load_profile(settings.profile or profile), settings)
    timeouts = options.pop("timeouts", None)
    if timeouts is not None:
        options.setdefault("timers", timers_for_timeouts(loaded.timers, timeouts))
        options.setdefault("connect_timeout", timeouts.connect)
    return Iso8583Adapter(
        loaded,
        address=settings.base_url,
        terminal_id=settings.terminal_id,
        acquirer_id=settings.acquirer_id,
        agent_id=settings.agent_id,
        sequences=sequences,
        clock=clock,
        **options,
    )


def timers_for_timeouts(timers: Timers, timeouts: Timeouts) -> Timers:
    """``timers`` with every message's wait (inquiry, payment, advice, reversal) the HTTP
    transport's ``read`` timeout: the longest silence before an answer counts as lost."""
    return attrs.evolve(timers, inquiry_timeout=timeouts.read, payment_timeout=timeouts.read)


def with_settings_framing(profile: Iso8583Profile, settings: Iso8583Settings) -> Iso8583Profile:
    """``profile`` with the length header the settings state where they state one (a link whose
    framing differs from its profile's; the sandbox's info file states it for every link)."""
    old = profile.framing
    if (settings.length_width, settings.length_byteorder, settings.ascii_length) == (None,) * 3:
        return profile
    try:
        framing = Framing(
            width=old.width if settings.length_width is None else settings.length_width,
            byteorder=old.byteorder  # type: ignore[arg-type]  # the validator checks it
            if settings.length_byteorder is None
            else settings.length_byteorder,
            ascii_length=old.ascii_length
            if settings.ascii_length is None
            else settings.ascii_length,
        )
        framing = attrs.evolve(framing, max_bytes=min(old.max_bytes, framing.capacity))
    except (TypeError, ValueError) as error:
        problem = Problem.of("length_width", "settings.framing", {"reason": str(error)})
        raise SettingsInvalid(profile.name, [problem]) from None
    return attrs.evolve(profile, framing=framing)
