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
from collections.abc import Callable
from typing import TypeVar

from jamsostek_channels.channel import (
    AutoDebitMandate,
    Capabilities,
    CustomerId,
    CustomerIdKind,
    FeeSchedule,
    HistoryEntry,
    Inquiry,
    Operation,
    OtpChallenge,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    Registration,
    RegistrationRequest,
    ReversalResult,
    SettlementRecord,
)
from jamsostek_channels.clock import Clock
from jamsostek_channels.errors import HostDeclined, NotDelivered, OutcomeUnknown
from jamsostek_channels.model import Payer
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.wire import FaultKind, Faults, WireRequest

__all__ = ["DEFAULT_CAPABILITIES", "HostAdapter"]

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
_MONEY_MOVING = frozenset({"pay", "reverse", "autodebit", "autodebit-cancel"})
_WIRE_FAULTS = (FaultKind.RESET, FaultKind.ERROR, FaultKind.DROP, FaultKind.DELAY)

_T = TypeVar("_T")


class HostAdapter:
    """A faithful channel straight to a :class:`FakeHost` (see the module docstring).

    ``faults`` defaults to a fresh :class:`Faults` (none planned), reachable as
    :attr:`faults`; ``capabilities`` to :data:`DEFAULT_CAPABILITIES`.
    """

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
        self.capabilities: Capabilities = capabilities or DEFAULT_CAPABILITIES
        self.faults = faults if faults is not None else Faults()
        self.closed = False
        #: No message here carries a time: the host stamps everything with its own clock.
        self.clock: Clock = host.now
        self.scope = ""  # the host keys this channel's references by the channel alone

    def __repr__(self) -> str:
        return f"HostAdapter(name={self.name!r}, host={self.host!r})"

    # The pseudo-wire ----------------------------------------------------------------------

    def _call(self, operation: str, reference: str, call: Callable[[], _T]) -> _T:
        """Run ``call`` against the host with whatever fault is planned for this call."""
        request = WireRequest(
            method="POST",
            path=f"/{self.name}/{operation}",
            headers={},
            body=reference.encode("utf-8"),
        )
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

    # The Adapter protocol -----------------------------------------------------------------

    def request_registration(self, request: RegistrationRequest) -> OtpChallenge:
        return self._call(
            "register",
            request.reference,
            lambda: self.host.request_registration(self.name, request),
        )

    def confirm_registration(self, challenge: OtpChallenge, otp: str) -> Registration:
        return self._call(
            "confirm",
            challenge.reference,
            lambda: self.host.confirm_registration(challenge.challenge_id, otp),
        )

    def inquire(
        self, customer: CustomerId, months: int, agent_id: str | None, payer: Payer | None = None
    ) -> Inquiry:
        return self._call(
            "inquire",
            "",
            lambda: self.host.inquire(customer, months, channel=self.name, payer=payer),
        )

    def pay(self, request: PaymentRequest) -> PaymentResult:
        return self._call("pay", request.reference, lambda: self.host.pay(self.name, request))

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

    def reverse(self, request: PaymentRequest, repeat: bool) -> ReversalResult:
        return self._call(
            "reverse", request.reference, lambda: self.host.reverse(self.name, request.reference)
        )

    def history(self, customer: CustomerId) -> tuple[HistoryEntry, ...]:
        return self._call("history", "", lambda: self.host.history(customer))

    def enrol_autodebit(
        self, customer: CustomerId, months: int, payer: Payer, reference: str
    ) -> AutoDebitMandate:
        return self._call(
            "autodebit",
            reference,
            lambda: self.host.enrol_autodebit(
                self.name, customer, months, payer, reference=reference
            ),
        )

    def cancel_autodebit(self, mandate_id: str, reference: str) -> AutoDebitMandate:
        return self._call(
            "autodebit-cancel",
            reference,
            lambda: self.host.cancel_autodebit(mandate_id, channel=self.name, reference=reference),
        )

    def settlement(self, day: dt.date) -> tuple[SettlementRecord, ...]:
        return self._call(
            "settlement", day.isoformat(), lambda: self.host.settlement(self.name, day)
        )

    def close(self) -> None:
        """Nothing to release; recorded in :attr:`closed` for tests."""
        self.closed = True
