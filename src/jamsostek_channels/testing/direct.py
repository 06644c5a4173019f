"""A channel with no wire at all: an :class:`~jamsostek_channels.channel.Adapter` that calls a
:class:`~jamsostek_channels.testing.host.FakeHost` in-process.

For unit tests of the client, and for partners' tests of their own code, where the wire format
is beside the point but the host's behaviour (and what can go wrong on the way to it) is not::

    host = FakeHost()
    faults = Faults()
    client = Client(HostAdapter(host, faults=faults), journal=Journal())
    faults.inject("drop", match="POS-0001")  # the host applies it, the answer is lost
    client.pay(nik, months=1, reference="POS-0001")  # resolved in-line by a status inquiry

Every call goes to the host as channel ``name``. The same :class:`~jamsostek_channels.testing.wire.
Faults` as the HTTP fakes apply, matched against a pseudo-request whose path is
``/{name}/{operation}`` and whose "body" is the call's reference (the payment's reference for
``pay``, ``status`` and ``reverse``; the mandate request's for ``autodebit`` and
``autodebit-cancel``), so ``match="POS-0001"`` targets one payment and
``match="/direct/status"`` one operation. The operations: ``register``, ``confirm``,
``inquire``, ``pay``, ``status``, ``reverse``, ``history``, ``autodebit``,
``autodebit-cancel``, ``settlement``.

What each fault does here, as the HTTP transport would report it:

============  =====================================================================================
``reset``     :class:`NotDelivered` (``transport.not_delivered``, reason ``reset``); the host
              never sees the call
``error``     a 5xx instead of processing (the host never sees the call): on a call that moves
              money (``pay``, ``reverse``, ``autodebit``, ``autodebit-cancel``) the caller cannot
              tell, so :class:`OutcomeUnknown`; elsewhere ``HostDeclined("host.error")``
``drop``      the host processes (and commits) the call, then the answer is lost:
              :class:`OutcomeUnknown`
``delay``     the host processes the call and answers past the read timeout:
              :class:`OutcomeUnknown` (nobody sleeps)
``pending``   a ``status`` call answers :attr:`PaymentState.PENDING` instead of asking the host
============  =====================================================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from jamsostek_channels.channel import (
    AdviceRequest,
    AutoDebitMandate,
    Capabilities,
    Channel,
    CustomerId,
    CustomerIdKind,
    FeeSchedule,
    HistoryEntry,
    Inquiry,
    InquiryRequest,
    MandateCancellation,
    MandateRequest,
    Operation,
    OtpChallenge,
    OtpConfirmation,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    Registration,
    RegistrationRequest,
    Resolution,
    ReversalRequest,
    ReversalResult,
    SettlementRecord,
)
from jamsostek_channels.clock import Clock
from jamsostek_channels.errors import HostDeclined, NotDelivered, OutcomeUnknown
from jamsostek_channels.registry import ChannelSpec
from jamsostek_channels.sequences import SequenceSource
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.wire import FaultKind, Faults, WireRequest

__all__ = [
    "DEFAULT_CAPABILITIES",
    "POLICY_CHANNELS",
    "AdvisingChannel",
    "BatchChannel",
    "DirectSettings",
    "HostAdapter",
    "ReversingChannel",
    "policy_spec",
]

#: What a :class:`HostAdapter` offers unless told otherwise: everything, NIK and KPJ, 1 to 12
#: months, no fee, a 40-column receipt.
DEFAULT_CAPABILITIES = Capabilities(
    operations=frozenset(Operation),
    customer_ids=frozenset(CustomerIdKind),
    month_counts=tuple(range(1, 13)),
    admin_fee=FeeSchedule(),
    receipt_width=40,
)

#: Calls after which an error answer may hide a change that moves money (as SNAP's payment and
#: auto-debit services): there a 5xx is an unknown outcome, not a decline.
_MONEY_MOVING = frozenset({"pay", "reverse", "advice", "autodebit", "autodebit-cancel"})
_WIRE_FAULTS = (FaultKind.RESET, FaultKind.ERROR, FaultKind.DROP, FaultKind.DELAY)

_T = TypeVar("_T")


class _HostChannel:
    """What every channel straight to a :class:`FakeHost` has (see the module docstring): the
    pseudo-wire, registration, payment, history, mandates and settlement. The classes below
    add the roles of their resolution policy, and nothing else.

    ``faults`` defaults to a fresh :class:`Faults` (none planned), reachable as
    :attr:`faults`; ``capabilities`` to :data:`DEFAULT_CAPABILITIES`, with the class's
    :attr:`resolution`.
    """

    resolution = Resolution.STATUS

    def __init__(
        self,
        host: FakeHost,
        *,
        name: str = "direct",
        capabilities: Capabilities | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.host = host
        self.name = name
        self.capabilities: Capabilities = attrs.evolve(
            capabilities or DEFAULT_CAPABILITIES, resolution=self.resolution
        )
        self.faults = faults if faults is not None else Faults()
        self.closed = False
        #: No message here carries a time: the host stamps everything with its own clock.
        self.clock: Clock = host.now
        self.scope = ""  # the host keys this channel's references by the channel alone
        #: Every call that reached the pseudo-wire, as ``"/{name}/{operation}"``, in order: a
        #: test's proof of what the client did and did not call.
        self.wire_log: list[str] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, host={self.host!r})"

    # The pseudo-wire ----------------------------------------------------------------------

    def _call(self, operation: str, reference: str, call: Callable[[], _T]) -> _T:
        """Run ``call`` against the host with whatever fault is planned for this call."""
        request = WireRequest(
            method="POST",
            path=f"/{self.name}/{operation}",
            headers={},
            body=reference.encode("utf-8"),
        )
        self.wire_log.append(request.path)
        fault = self.faults.take(request, _WIRE_FAULTS)
        if fault is None:
            return call()
        unknown = OutcomeUnknown("outcome.unknown", {"reference": reference or operation})
        if fault.kind is FaultKind.RESET:
            raise NotDelivered("transport.not_delivered", {"reason": "reset"})
        if fault.kind is FaultKind.ERROR:
            if operation in _MONEY_MOVING:
                raise unknown
            code = str(fault.status)
            raise HostDeclined("host.error", {"code": code}, host_code=code)
        call()  # DROP or DELAY: the host processes (and commits) it; the answer is lost
        raise unknown

    # Registrations, Payments, Histories, Mandates, Settlements ----------------------------

    def request_registration(self, request: RegistrationRequest) -> OtpChallenge:
        return self._call(
            "register",
            request.reference,
            lambda: self.host.request_registration(self.name, request),
        )

    def confirm_registration(self, request: OtpConfirmation) -> Registration:
        challenge = request.challenge
        return self._call(
            "confirm",
            challenge.reference,
            lambda: self.host.confirm_registration(challenge.challenge_id, request.otp),
        )

    def pay(self, request: PaymentRequest) -> PaymentResult:
        return self._call("pay", request.reference, lambda: self.host.pay(self.name, request))

    def history(self, customer: CustomerId) -> tuple[HistoryEntry, ...]:
        return self._call("history", "", lambda: self.host.history(customer))

    def enrol_autodebit(self, request: MandateRequest) -> AutoDebitMandate:
        return self._call(
            "autodebit",
            request.reference,
            lambda: self.host.enrol_autodebit(
                self.name,
                request.customer,
                request.months,
                request.payer,
                reference=request.reference,
            ),
        )

    def cancel_autodebit(self, request: MandateCancellation) -> AutoDebitMandate:
        return self._call(
            "autodebit-cancel",
            request.reference,
            lambda: self.host.cancel_autodebit(
                request.mandate_id, channel=self.name, reference=request.reference
            ),
        )

    def settlement(self, day: dt.date) -> tuple[SettlementRecord, ...]:
        return self._call(
            "settlement", day.isoformat(), lambda: self.host.settlement(self.name, day)
        )

    def close(self) -> None:
        """Nothing to release; recorded in :attr:`closed` for tests."""
        self.closed = True


class _Inquiry(_HostChannel):
    """The ``Inquiries`` role: the host prices the months before a payment."""

    def inquire(self, request: InquiryRequest) -> Inquiry:
        return self._call(
            "inquire",
            "",
            lambda: self.host.inquire(
                request.customer, request.months, channel=self.name, payer=request.payer
            ),
        )


class _Status(_HostChannel):
    """The ``StatusInquiries`` role: ask the host what became of a payment."""

    def payment_status(self, request: PaymentRequest) -> PaymentResult:
        reference = request.reference

        def status() -> PaymentResult:
            pending = WireRequest(
                method="POST",
                path=f"/{self.name}/status",
                headers={},
                body=reference.encode("utf-8"),
            )
            if self.faults.pending(pending):
                return PaymentResult(reference=reference, state=PaymentState.PENDING)
            return self.host.payment_status(self.name, reference)

        return self._call("status", reference, status)


class _Reversal(_HostChannel):
    """The ``Reversals`` role: undo a payment; the host voids a reference it never saw."""

    def reverse(self, request: ReversalRequest) -> ReversalResult:
        reference = request.payment.reference
        return self._call("reverse", reference, lambda: self.host.reverse(self.name, reference))


class HostAdapter(_Inquiry, _Status, _Reversal):
    """A faithful channel straight to a :class:`FakeHost` (see the module docstring) with
    every role, settling an unanswered payment by asking the host (the ``status`` policy)."""


class AdvisingChannel(_Inquiry, _Reversal):
    """An ISO-8583-like channel: no status inquiry; an unanswered payment is completed by an
    advice (the host applies a payment it never saw while the bill is still payable, and
    answers one it applied with its first outcome). Reversals on request."""

    resolution = Resolution.ADVICE

    def advise(self, request: AdviceRequest) -> PaymentResult:
        # The customer's money was taken: the host applies it while the bill is payable, the
        # inquiry's expiry aside (an advice may come long after it).
        payment = attrs.evolve(request.payment, inquiry_id=None)
        return self._call("advice", payment.reference, lambda: self.host.pay(self.name, payment))


class ReversingChannel(_Inquiry, _Reversal):
    """A channel with no status inquiry whose unanswered payment is undone by a reversal; the
    host voids a reference it never saw, so a late request under it is refused."""

    resolution = Resolution.REVERSE


class BatchChannel(_HostChannel):
    """A batch-file channel: a payment is taken into the next file (answered PENDING) and
    settled by the result file (:meth:`result_file`); no inquiry (the client prices from a
    quote), no status, no reversal."""

    resolution = Resolution.AWAIT_RESULT

    def __init__(
        self,
        host: FakeHost,
        *,
        name: str = "direct",
        capabilities: Capabilities | None = None,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(host, name=name, capabilities=capabilities, faults=faults)
        self._batch: dict[str, PaymentRequest] = {}

    def pay(self, request: PaymentRequest) -> PaymentResult:
        def take() -> PaymentResult:
            self._batch.setdefault(request.reference, request)  # a resend is the same line
            return PaymentResult(reference=request.reference, state=PaymentState.PENDING)

        return self._call("pay", request.reference, take)

    def result_file(self) -> tuple[PaymentResult, ...]:
        """Process the batch at the host, one line per payment, and return its result file:
        APPLIED, or DECLINED with the host's code."""
        results = []
        for request in self._batch.values():
            try:
                results.append(self.host.pay(self.name, request))
            except HostDeclined as declined:
                results.append(
                    PaymentResult(
                        reference=request.reference,
                        state=PaymentState.DECLINED,
                        host_code=declined.host_code,
                    )
                )
        self._batch.clear()
        return tuple(results)


@attrs.frozen
class DirectSettings:
    """A direct channel's settings: nothing to configure but the registry's common keys
    (``base_url`` only names it; the host is the one its spec was made with)."""

    base_url: str = "direct:"
    agent_id: str | None = None


def policy_spec(
    resolution: Resolution,
    host: FakeHost,
    *,
    name: str | None = None,
    faults: Faults | None = None,
) -> ChannelSpec[DirectSettings]:
    """A registry entry for the test channel of ``resolution`` over ``host`` (named
    ``direct-<policy>`` unless ``name`` is given), to register for a test with
    :func:`jamsostek_channels.registry.registered` and open with
    :func:`jamsostek_channels.connect` like any installed channel."""
    channel = POLICY_CHANNELS[resolution]
    channel_name = name or "direct-" + resolution.value.replace("_", "-")

    def adapter(
        settings: DirectSettings,
        *,
        sequences: SequenceSource,  # a direct channel mints no identifiers
        clock: Clock | None,
        **options: Any,
    ) -> Channel:
        return channel(host, name=channel_name, faults=faults, **options)

    return ChannelSpec(
        name=channel_name,
        family="direct",
        settings=DirectSettings,
        adapter=adapter,
        docs="docs/testing.md",
    )


#: The test channel of each resolution policy.
POLICY_CHANNELS: Mapping[Resolution, type[_HostChannel]] = {
    Resolution.STATUS: HostAdapter,
    Resolution.ADVICE: AdvisingChannel,
    Resolution.REVERSE: ReversingChannel,
    Resolution.AWAIT_RESULT: BatchChannel,
}
