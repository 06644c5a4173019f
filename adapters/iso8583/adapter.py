"""The ISO 8583 adapter: the shared channel interface spoken to a switch over one TCP link, as
a BRILink EDC terminal or a retail aggregator's till does (``docs/channels/iso8583.md``).

It only translates: :class:`~jamsostek_channels.client.Client` has checked the rules and the
capabilities and journaled the request. Roles: :class:`~jamsostek_channels.channel.Inquiries`
and :class:`~jamsostek_channels.channel.Payments` (0200/0210 under the profile's processing
codes), :class:`~jamsostek_channels.channel.Advices` (0220, 0221 when the outbox says an
earlier attempt may have arrived → 0230) and :class:`~jamsostek_channels.channel.Reversals`
(0400, 0401 → 0410, DE90 naming the payment's 0200). Which of the last two settles an unanswered
payment is the profile's ``resolution``: ``advice`` (BRILink) or ``reverse`` (the tills).

**The session.** One persistent connection per adapter
(:class:`~jamsostek_channels.transport.TcpTransport`), opened on first use and signed on (0800,
DE70 ``001``); a ``sign-on-needed`` answer (``01``: the switch restarted) signs on again and
sends the message once more under a new STAN (nothing was processed). A link found lost before
a message was written is reopened and the message sent once more (it surely did not arrive).
:meth:`Iso8583Adapter.close` signs off (``002``) and closes.

**Identifiers.** DE11 STAN from the journal's durable sequence (``stan``, six digits, wrapping
after 999999: a restart never reuses one); a repeat (0221, 0401) keeps its first message's STAN
while this adapter remembers it. DE37 RRN of a payment and everything naming it:
:func:`~.flows.rrn_of` its reference; of an inquiry: the year's last digit, the day of the year
and the hour, then the STAN (:func:`_inquiry_rrn`). DE41 the terminal, DE32 the acquirer, DE18
the profile's channel type, DE42 the agent where the profile says so; DE7 the adapter's clock in the
profile's zone. DE90 of a reversal: the 0200's MTI, STAN and DE7 as sent, when this adapter sent
it; after a restart the STAN is unknown (zeros) and DE7 is the payment's request time: the
switch finds the payment by its reference (DE48 ``FR``) either way.

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

import contextlib
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

from jamsostek_channels import clock as _clock
from jamsostek_channels.adapters.iso8583 import flows
from jamsostek_channels.adapters.iso8583.codec import match_key
from jamsostek_channels.adapters.iso8583.fields import OriginalData, TransmissionTime
from jamsostek_channels.adapters.iso8583.messages import (
    Advice,
    Answer,
    FinancialRequest,
    Message,
    NetworkCode,
    NetworkRequest,
    NetworkResponse,
    Reversal,
)
from jamsostek_channels.adapters.iso8583.profile import (
    Iso8583Profile,
    Meaning,
    Timers,
    load_profile,
)
from jamsostek_channels.adapters.iso8583.settings import Iso8583Settings
from jamsostek_channels.channel import (
    AdviceRequest,
    Capabilities,
    Inquiry,
    InquiryRequest,
    PaymentRequest,
    PaymentResult,
    ReversalRequest,
    ReversalResult,
    ReversalState,
)
from jamsostek_channels.errors import (
    HostDeclined,
    InvalidInput,
    NotDelivered,
    OutcomeUnknown,
    Problem,
    SettingsInvalid,
)
from jamsostek_channels.sequences import SequenceSource
from jamsostek_channels.transport import Framing, TcpTransport, Timeouts

__all__ = ["Iso8583Adapter", "open_iso8583_adapter", "with_settings_framing"]

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
#: DE42 holds at most this many characters of an agent id.
_MERCHANT_WIDTH = 15
#: How many payments' wire details (DE90's STAN and DE7, a repeat's STAN) an adapter remembers.
_REMEMBERED = 10_000

K = TypeVar("K")
V = TypeVar("V")


class _Recent(Generic[K, V]):
    """A mapping that keeps only its latest :data:`_REMEMBERED` keys: what a long-running
    adapter remembers of the wire is a courtesy to the switch (the reference identifies a
    payment), never something to grow without bound."""

    def __init__(self) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: K, value: V, *, replace: bool = True) -> None:
        with self._lock:
            if key in self._items and not replace:
                return
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > _REMEMBERED:
                self._items.popitem(last=False)


def _inquiry_rrn(moment: dt.datetime, stan: int) -> str:
    """An inquiry's DE37: the year's last digit, the day of the year and the hour (UTC), then
    the STAN (common switch practice): ``612314`` + ``000042``."""
    utc = moment.astimezone(dt.UTC)
    return f"{utc.year % 10}{utc.timetuple().tm_yday:03d}{utc.hour:02d}{stan:06d}"


class Iso8583Adapter:
    """One terminal's link to a switch under ``profile`` (see the module's docstring).

    ``address`` ``tcp://127.0.0.1:PORT``; ``terminal_id`` DE41; ``acquirer_id`` DE32 (default:
    the profile's); ``agent_id`` the default agent id (DE42) where the profile carries one;
    ``sequences`` the journal's durable counters; ``clock`` the time messages are stamped with
    (the client sets its own); ``timers`` the profile's timers replaced (tests shorten them);
    ``connect_timeout`` seconds; ``name`` the channel's name (default: the profile's).
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
        self._transport: TcpTransport[Message] = TcpTransport(
            address,
            self._codec.decode_keyed,
            framing=profile.framing,
            timeouts=Timeouts(connect=connect_timeout, read=self.timers.payment_timeout),
            name=self.name,
        )
        self._session_lock = threading.Lock()
        self._signed_on = False
        #: reference -> (STAN, DE7) of the payment's 0200 as this adapter sent it (for DE90)
        self._originals: _Recent[str, tuple[int, TransmissionTime]] = _Recent()
        #: (MTI class, reference) -> the STAN of a first advice or reversal (its repeats keep it)
        self._firsts: _Recent[tuple[str, str], int] = _Recent()

    def __repr__(self) -> str:
        return f"Iso8583Adapter(name={self.name!r}, address={self._transport.address!r})"

    # --- the session ------------------------------------------------------------------------

    def _stan(self) -> int:
        return self._sequences.next("stan", cycle=999_999)

    def _now(self) -> TransmissionTime:
        return TransmissionTime.of(self.clock(), self.profile.time_zone)

    def _session(self) -> None:
        """Connected and signed on, or :class:`NotDelivered` (nothing of the caller's message
        was sent)."""
        with self._session_lock:
            if not self._transport.connected:
                self._signed_on = False
                self._transport.connect()
            if not self._signed_on:
                answer = self._network(NetworkCode.SIGN_ON, self.timers.inquiry_timeout)
                if answer is None or not answer.approved:
                    raise NotDelivered("transport.not_delivered", {"reason": "sign-on refused"})
                self._signed_on = True

    def _network(self, code: NetworkCode, timeout: float) -> NetworkResponse | None:
        """An 0800 and its 0810 (``None``: unanswered; the link may be closed then)."""
        request = NetworkRequest(
            code=code, transmitted=self._now(), stan=self._stan(), terminal=self.terminal_id
        )
        try:
            answer = self._transport.send(
                self._codec.encode(request), match_key(request), timeout=timeout
            )
        except OutcomeUnknown:
            return None
        return answer if isinstance(answer, NetworkResponse) else None

    def close(self) -> None:
        """Sign off (``002``, best effort) and close the link."""
        with self._session_lock:
            if self._transport.connected and self._signed_on:
                # The link may go away meanwhile: then there is nothing to sign off from.
                with contextlib.suppress(NotDelivered):
                    self._network(NetworkCode.SIGN_OFF, min(self.timers.inquiry_timeout, 2.0))
            self._signed_on = False
            self._transport.close()

    def _exchange(
        self, build: Callable[[int], Message], *, stan: int | None, timeout: float, reference: str
    ) -> Answer:
        """Send the message ``build`` makes for a STAN (``stan``, or a new one) and return its
        answer; signs on again once after ``sign-on-needed`` and reconnects once when the link
        was found lost before the message was written."""
        for last in (False, True):
            self._session()
            message = build(stan if stan is not None else self._stan())
            try:
                answer = self._transport.send(
                    self._codec.encode(message),
                    match_key(message),
                    reference=reference,
                    timeout=timeout,
                )
            except NotDelivered:
                if last or self._transport.connected:
                    raise
                continue  # lost before writing: surely not delivered, so once more
            if not isinstance(answer, Answer):
                raise OutcomeUnknown("outcome.unknown", {"reference": reference})
            meaning = self.profile.response(answer.response_code).meaning
            if meaning is Meaning.SIGN_ON_NEEDED and not last:
                with self._session_lock:
                    self._signed_on = False
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

    def _common(self, stan: int, rrn: str, merchant: str | None) -> dict[str, Any]:
        return {
            "transmitted": self._now(),
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

    # --- Payments ---------------------------------------------------------------------------

    def pay(self, request: PaymentRequest) -> PaymentResult:
        merchant = self._merchant(request.agent_id)
        private = flows.payment_data(self.profile.product_id, request)
        rrn = flows.rrn_of(request.reference)

        def build(stan: int) -> Message:
            message = FinancialRequest(
                processing_code=self.profile.processing_codes.payment,
                amount=request.amount,
                private=private,
                **self._common(stan, rrn, merchant),
            )
            self._originals.put(request.reference, (stan, message.transmitted))
            return message

        answer = self._exchange(
            build,
            stan=None,
            timeout=self.timers.payment_timeout,
            reference=request.reference,
        )
        if not answer.approved:
            raise self._refused(answer, money=True, reference=request.reference)
        return flows.result_of(answer.private, request.reference, answer.response_code)

    # --- Advices ----------------------------------------------------------------------------

    def _first_stan(self, kind: str, reference: str, repeat: bool) -> int | None:
        """A repeat's STAN: its first message's, when this adapter sent it."""
        return self._firsts.get((kind, reference)) if repeat else None

    def advise(self, request: AdviceRequest) -> PaymentResult:
        payment = request.payment
        merchant = self._merchant(payment.agent_id)
        private = flows.payment_data(self.profile.product_id, payment)
        stan = self._first_stan("0220", payment.reference, request.repeat)

        def build(number: int) -> Message:
            self._firsts.put(("0220", payment.reference), number, replace=False)
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
        return flows.result_of(answer.private, payment.reference, answer.response_code)

    # --- Reversals --------------------------------------------------------------------------

    def _original(self, payment: PaymentRequest) -> OriginalData:
        stan, transmitted = self._originals.get(payment.reference) or (
            0,
            TransmissionTime.of(payment.requested_at, self.profile.time_zone),
        )
        return OriginalData("0200", stan, transmitted, self.acquirer_id)

    def reverse(self, request: ReversalRequest) -> ReversalResult:
        payment = request.payment
        merchant = self._merchant(payment.agent_id)
        private = attrs.evolve(flows.payment_data(self.profile.product_id, payment), admin_fee=None)
        stan = self._first_stan("0400", payment.reference, request.repeat)

        def build(number: int) -> Message:
            self._firsts.put(("0400", payment.reference), number, replace=False)
            return Reversal(
                processing_code=self.profile.processing_codes.payment,
                amount=payment.amount,
                private=private,
                original=self._original(payment),
                repeat=request.repeat,
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
    (``timers``, ``connect_timeout``)."""
    return Iso8583Adapter(
        with_settings_framing(load_profile(settings.profile or profile), settings),
        address=settings.base_url,
        terminal_id=settings.terminal_id,
        acquirer_id=settings.acquirer_id,
        agent_id=settings.agent_id,
        sequences=sequences,
        clock=clock,
        **options,
    )


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
