"""The Kantor Pos channel adapter: the shared channel interface spoken as the post-office SOAP
profile (``docs/channels/kantorpos.md``).

It only translates: :class:`~jamsostek_channels.client.Client` has already checked the rules,
the capabilities and journaled the request. Here a request becomes one SOAP 1.1 envelope of
version 2 (:mod:`.codec`, validated by libxml2 against the XSDs before a byte leaves), stamped
with its send time (``sentAt``, from the adapter's clock, new for every call: the host refuses
a request outside its tolerance, which is what makes the channel's settle window hold),
``POST``-ed to
the profile's ``endpoint_path`` under the base URL's path with
``SOAPAction: "<profile.soap_action(op)>"``;
an answer becomes the library's types, a SOAP Fault the library error its response code means:

* ``retry_safe`` codes (``91`` busy: nothing was applied) raise
  :class:`~jamsostek_channels.errors.NotDelivered`;
* ``needs_status`` codes (``96`` malfunction, ``94`` reference conflict) raise
  :class:`~jamsostek_channels.errors.OutcomeUnknown` on the money operations (``pay`` and
  ``reverse``: their fate is settled by a status inquiry, never by paying again) and
  :class:`~jamsostek_channels.errors.HostDeclined` elsewhere;
* every other refusal is :class:`~.errors.KantorPosDeclined` (a ``HostDeclined``), or
  :class:`~.errors.KantorPosRefused` (a ``MalformedMessage``) when the host refused our message.

**A status answer must be our payment.** The host keys payments by office + reference; an
answer is accepted only when what it states agrees with the journaled request: customer,
months, amount, office, and the teller when the request names one. Anything else is
:class:`~jamsostek_channels.errors.ReferenceConflict` (``payment.mismatch``): never a receipt
for another payment, never "not found" and paid again.

A payment's ``DECLINED`` answer is a :class:`~jamsostek_channels.channel.PaymentResult` with the
channel's code in ``host_code`` (the client journals the decline), ``PENDING`` one in
``PENDING``. An answer other than HTTP 200 or a SOAP Fault says nothing about a payment's fate:
:class:`~jamsostek_channels.errors.OutcomeUnknown` for ``pay`` and ``reverse``.

**Counter identity.** Every call carries the office (the post office's *nopend*, fixed per
adapter) and the teller: the client's ``agent_id``, which must be a teller id of the profile's
format (another kind of agent id is refused before anything is sent,
``capability.agent_not_teller``: the office's records must name the person who took the money),
or, without one, the ``teller`` the adapter was built with (registration, which carries no agent
id, always uses that one). With neither, the call is refused before anything is sent
(``capability.agent_required``).

**Settlement** is a file, not a SOAP call: :meth:`KantorPosAdapter.settlement` ``GET``\\ s the
day's file at ``profile.settlement_location(office, day)`` under the base URL's path and reads it
with the settlement limits; ``history`` and auto-debit are not offered (``CapabilityRefused``).

Settings (:class:`~.settings.KantorPosSettings`, the sandbox info file's fields): ``base_url``,
``office`` (the office code), ``teller`` (the default teller id) and ``profile`` (the path of an
adjusted profile file); :func:`open_kantorpos_adapter` builds the adapter from them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs

from jamsostek_channels import clock as _clock
from jamsostek_channels.adapters.kantorpos import codec, mapping
from jamsostek_channels.adapters.kantorpos.errors import KantorPosDeclined, KantorPosRefused
from jamsostek_channels.adapters.kantorpos.profile import KantorPosProfile, load_profile
from jamsostek_channels.adapters.kantorpos.settings import KantorPosSettings
from jamsostek_channels.adapters.kantorpos.settlement import read_settlement
from jamsostek_channels.adapters.kantorpos.soap import CONTENT_TYPE
from jamsostek_channels.adapters.kantorpos.types import (
    PosRequest,
    PosStatusResponse,
    TransactionStatus,
)
from jamsostek_channels.channel import (
    Capabilities,
    Inquiry,
    InquiryRequest,
    OtpChallenge,
    OtpConfirmation,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    Registration,
    RegistrationRequest,
    ReversalRequest,
    ReversalResult,
    SettlementRecord,
)
from jamsostek_channels.errors import (
    CapabilityRefused,
    HostDeclined,
    MalformedMessage,
    NotDelivered,
    OutcomeUnknown,
    Problem,
    ReferenceConflict,
    SettingsInvalid,
)
from jamsostek_channels.model import PayerKind
from jamsostek_channels.transport import HttpResponse, HttpTransport, Timeouts

__all__ = ["KantorPosAdapter", "open_kantorpos_adapter"]

#: Operations whose fate a lost or failed answer leaves open.
MONEY_OPERATIONS = frozenset({"pay", "reverse"})
_XML = "application/xml"
_T = TypeVar("_T")


class KantorPosAdapter:
    """The Kantor Pos channel as an :class:`~jamsostek_channels.channel.Adapter` (see the module
    docstring).

    ``base_url`` is the host with any deployment prefix (``https://h2h.example/bpjs``): the
    profile's paths are requested under that prefix. ``office`` must be an office the profile
    accepts and ``teller``, when given, a teller id of its format (``ValueError`` otherwise).
    ``transport``, when given, carries every call (SOAP and the settlement file).
    """

    def __init__(
        self,
        profile: KantorPosProfile,
        *,
        base_url: str,
        office: str,
        teller: str | None = None,
        timeouts: Timeouts = Timeouts(),  # noqa: B008 - frozen: one shared default is safe
        clock: _clock.Clock = _clock.now,
        transport: HttpTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        if not profile.accepts_office(office):
            raise ValueError(f"office {office!r} is not an office of profile {profile.name!r}")
        if teller is not None and not profile.accepts_teller(teller):
            raise ValueError(f"teller {teller!r} is not a teller id of profile {profile.name!r}")
        self.profile = profile
        self.name = profile.name
        self.capabilities: Capabilities = profile.capabilities
        self.office = office
        self.scope = office  # the host keys a reference by office: so does the journal
        self.teller = teller
        self.clock = clock
        parts = urlsplit(base_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        self._prefix = parts.path.rstrip("/")
        self._transport = transport or HttpTransport(
            origin,
            timeouts=timeouts,
            verify=verify,
            name=profile.name,
            max_response_bytes=profile.max_message_bytes,
        )
        # The day's file may be far larger than any SOAP answer: its own read limit.
        self._files = transport or HttpTransport(
            origin,
            timeouts=timeouts,
            verify=verify,
            name=profile.name,
            max_response_bytes=profile.settlement_max_bytes,
        )

    def close(self) -> None:
        self._transport.close()
        if self._files is not self._transport:
            self._files.close()

    def __repr__(self) -> str:
        return f"KantorPosAdapter({self.name!r}, office={self.office!r})"

    # Plumbing -------------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The path every SOAP call is ``POST``-ed to."""
        return self._prefix + self.profile.endpoint_path

    def _teller(self, agent_id: str | None) -> str:
        if agent_id:
            if self.profile.accepts_teller(agent_id):
                return agent_id
            # Booking it under the configured teller would put another person's name on the
            # payment in the office's records: refused instead.
            raise CapabilityRefused(
                "capability.agent_not_teller", {"channel": self.name}, field="agent_id"
            )
        if self.teller is not None:
            return self.teller
        raise CapabilityRefused("capability.agent_required", {"channel": self.name})

    def _call(
        self,
        operation: str,
        message: PosRequest,
        decode: Callable[[bytes], _T],
        *,
        reference: str | None = None,
    ) -> _T:
        """Send one request; return its decoded answer or raise the library error it means."""
        # Version 2, stamped now: the host checks this send time against its own clock.
        stamped = attrs.evolve(message, sent_at=self.clock())
        body = codec.encode(stamped)  # validated against the XSD: nothing invalid is ever sent
        response = self._transport.send(
            "POST",
            self.endpoint,
            body,
            headers={
                "Content-Type": CONTENT_TYPE,
                "Accept": "text/xml",
                "SOAPAction": f'"{self.profile.soap_action(operation)}"',
            },
            reference=reference,
        )
        money = operation in MONEY_OPERATIONS
        try:
            return self._read(response, decode, money=money, reference=reference)
        except KantorPosDeclined as declined:
            raise self._mapped(declined, money=money, reference=reference) from None

    def _read(
        self,
        response: HttpResponse,
        decode: Callable[[bytes], _T],
        *,
        money: bool,
        reference: str | None,
    ) -> _T:
        if response.status in (200, 500):
            try:
                return decode(response.body)
            except (KantorPosDeclined, KantorPosRefused):
                raise
            except MalformedMessage:
                if response.status == 200 or not money:
                    raise
                # A 500 that is not a SOAP Fault (a proxy's error page): nothing to read.
        if money:
            raise OutcomeUnknown(
                "outcome.unknown",
                {"reference": reference or "-"},
                host_code=f"HTTP {response.status}",
            )
        raise HostDeclined(
            "host.error", {"code": f"HTTP {response.status}"}, host_code=str(response.status)
        )

    def _mapped(
        self, declined: KantorPosDeclined, *, money: bool, reference: str | None
    ) -> Exception:
        info = declined.info
        if info.retry_safe:
            return NotDelivered(
                "transport.not_delivered",
                {"reason": f"{info.label.lower()} ({info.code})"},
                host_code=info.code,
            )
        if info.needs_status and money:
            return OutcomeUnknown(
                "outcome.unknown", {"reference": reference or "-"}, host_code=info.code
            )
        return declined

    def _codes(self) -> dict[str, Any]:
        return {"codes": self.profile.response_codes, "limits": self.profile.message_limits}

    # Registration -----------------------------------------------------------------------------

    def request_registration(self, request: RegistrationRequest) -> OtpChallenge:
        message = mapping.registration_request_for(
            request, office=self.office, teller=self._teller(None)
        )
        answer = self._call(
            "register",
            message,
            lambda body: codec.decode_registration_challenge(body, **self._codes()),
            reference=request.reference,
        )
        return mapping.challenge_from(answer)

    def confirm_registration(self, request: OtpConfirmation) -> Registration:
        challenge = request.challenge
        message = mapping.registration_confirm_for(
            challenge, request.otp, office=self.office, teller=self._teller(None)
        )
        answer = self._call(
            "confirm",
            message,
            lambda body: codec.decode_registration_result(body, **self._codes()),
            reference=challenge.reference,
        )
        return mapping.registration_from(answer)

    # Inquiry ----------------------------------------------------------------------------------

    def inquire(self, request: InquiryRequest) -> Inquiry:
        customer, months, agent_id, payer = (
            request.customer,
            request.months,
            request.agent_id,
            request.payer,
        )
        message = mapping.inquiry_request_for(
            customer,
            months,
            office=self.office,
            teller=self._teller(agent_id),
            # The worker paying is the default; any other payer can change the price.
            payer=None if payer is None or payer.kind is PayerKind.SELF else payer,
        )
        answer = self._call(
            "inquire", message, lambda body: codec.decode_inquiry_response(body, **self._codes())
        )
        if answer.customer != customer:
            raise MalformedMessage(
                "message.malformed", {"reason": "the inquiry answers for another customer"}
            )
        return mapping.inquiry_from_response(answer)

    # Payments ---------------------------------------------------------------------------------

    def pay(self, request: PaymentRequest) -> PaymentResult:
        message = mapping.payment_request_for(
            request, office=self.office, teller=self._teller(request.agent_id)
        )
        answer = self._call(
            "pay",
            message,
            lambda body: codec.decode_payment_response(body, **self._codes()),
            reference=request.reference,
        )
        result = self._checked(request, mapping.payment_result_from(answer))
        if result.state is PaymentState.APPLIED and (
            result.periods != request.periods or result.amount != request.amount
        ):
            # The host applied something other than what we sent: never paper over it.
            raise MalformedMessage(
                "message.malformed", {"reason": "the paid months differ from the request"}
            )
        return result

    def payment_status(self, request: PaymentRequest) -> PaymentResult:
        message = mapping.status_request_for(
            request, office=self.office, teller=self._teller(request.agent_id)
        )
        answer = self._call(
            "status",
            message,
            lambda body: codec.decode_status_response(body, **self._codes()),
            reference=request.reference,
        )
        result = self._checked(request, mapping.payment_result_from(answer))
        if not self._same_payment(request, answer):
            # Another payment under our reference: a receipt would show it as ours.
            raise ReferenceConflict(request.reference, code="payment.mismatch")
        return result

    def _same_payment(self, request: PaymentRequest, answer: PosStatusResponse) -> bool:
        """Whether everything the status answer states about the payment it found is the
        journaled payment's (a PENDING or NOT_FOUND answer found none to compare)."""
        if answer.status in (TransactionStatus.PENDING, TransactionStatus.NOT_FOUND):
            return True
        if answer.customer is not None and answer.customer != request.customer:
            return False
        if answer.office is not None and answer.office != self.office:
            return False
        # The teller only when the journal names one: the adapter's default may have changed
        # since (another process, another configuration) without the payment being another.
        if request.agent_id and answer.teller is not None and answer.teller != request.agent_id:
            return False
        if answer.periods and answer.periods != request.periods:
            return False
        return answer.amount is None or answer.amount == request.amount

    @staticmethod
    def _checked(request: PaymentRequest, result: PaymentResult) -> PaymentResult:
        if result.reference != request.reference:
            raise MalformedMessage(
                "message.malformed", {"reason": "the answer is for another reference"}
            )
        return result

    def reverse(self, reversal: ReversalRequest) -> ReversalResult:
        request = reversal.payment
        message = mapping.reversal_request_for(
            request,
            reversal.repeat,
            office=self.office,
            at=self.clock(),
            teller=self._teller(request.agent_id),
        )
        answer = self._call(
            "reverse",
            message,
            lambda body: codec.decode_reversal_response(body, **self._codes()),
            reference=request.reference,
        )
        if answer.reference != request.reference:
            raise MalformedMessage(
                "message.malformed", {"reason": "the answer is for another reference"}
            )
        return mapping.reversal_result_from(answer)

    # Settlement -------------------------------------------------------------------------------

    def settlement_path(self, day: dt.date) -> str:
        """The path the day's settlement file is fetched from."""
        return self._prefix + self.profile.settlement_location(self.office, day.isoformat())

    def settlement(self, day: dt.date) -> tuple[SettlementRecord, ...]:
        """The office's settlement file for ``day``, read with the settlement limits; a file for
        another office or day is refused whole (``MalformedMessage``)."""
        response = self._files.send(
            "GET", self.settlement_path(day), headers={"Accept": _XML}, reference=day.isoformat()
        )
        if response.status != 200:
            try:
                fault = codec.decode_fault(response.body, limits=self.profile.message_limits)
            except MalformedMessage:
                fault = None
            if fault is not None and fault.response_code is not None:
                error = self.profile.response_codes.error_for(
                    fault.response_code, fault=fault.code, soap_fault=fault
                )
                if error is not None:
                    raise error
            if response.status == 404:
                raise HostDeclined("host.not_found", host_code="404")
            raise HostDeclined(
                "host.error", {"code": f"HTTP {response.status}"}, host_code=str(response.status)
            )
        office, business_date, records = read_settlement(
            response.body, limits=self.profile.settlement_limits, channel=self.name
        )
        if office != self.office or business_date != day:
            raise MalformedMessage(
                "message.malformed", {"reason": "the settlement file is for another office or day"}
            )
        return records


def open_kantorpos_adapter(
    settings: KantorPosSettings,
    *,
    clock: _clock.Clock | None = None,
    **options: Any,
) -> KantorPosAdapter:
    """The adapter from typed settings (:class:`~.settings.KantorPosSettings`); an office or
    teller the profile does not accept is :class:`~jamsostek_channels.errors.SettingsInvalid`.
    ``options``: the adapter's keyword arguments (``timeouts``, ``transport``, ``verify``)."""
    profile = load_profile(settings.profile or "kantorpos")
    problems = []
    if not profile.accepts_office(settings.office):
        problems.append(Problem.of("office", "settings.office", {"profile": profile.name}))
    if settings.teller is not None and not profile.accepts_teller(settings.teller):
        problems.append(Problem.of("teller", "settings.teller", {"profile": profile.name}))
    if problems:
        raise SettingsInvalid(profile.name, problems)
    if clock is not None:
        options["clock"] = clock
    return KantorPosAdapter(
        profile,
        base_url=settings.base_url,
        office=settings.office,
        teller=settings.teller,
        **options,
    )
