"""A fake Kantor Pos gateway: BPJS Ketenagakerjaan's side of the post-office SOAP wire, over a
:class:`~jamsostek_channels.testing.host.FakeHost`.

The counters (the library's :class:`~jamsostek_channels.adapters.kantorpos.adapter.
KantorPosAdapter`, or any client written from ``docs/channels/kantorpos.md`` alone) call it.
Modelled on moto, like the SNAP biller (:mod:`jamsostek_channels.adapters.snap.fake`):
:class:`KantorPosGateway` holds the small wire-level *state* (which office and teller took each
payment, declined payments and their codes, when a payment was reversed), its handlers translate
SOAP into calls on the host, and a :class:`~jamsostek_channels.testing.wire.Router` routes. Every
rule about participants, bills, prices and payments is the host's; envelopes, messages, XSD
validation and response codes are :mod:`jamsostek_channels.adapters.kantorpos`'s. Nothing is
re-implemented here. The server's half of the message mapping (answers built from the host's
results: :func:`payment_response_for`, :func:`fault_for`, :func:`settlement_file_for` ...) lives
here, as only a server needs it.

Routes (under ``prefix``)::

    POST {endpoint_path}      one SOAP 1.1 envelope; the SOAPAction names the operation
    GET  {settlement_path}    the office's settlement file for a day (plain XML)

Answers:

* a request is read by the hardened decoder (size, no DOCTYPE, depth, UTF-8, XSD): anything it
  refuses, hostile XML included (XXE, "billion laughs", deep nesting), is a ``soap:Client``
  Fault with code ``30`` (``31`` too large; a SOAP 1.2 envelope ``soap:VersionMismatch``) and
  HTTP 500, never a crash; a ``Content-Type`` other than ``text/xml``, or a SOAPAction that
  does not name the Body's operation, is ``30`` too;
* an office the profile does not accept, or a teller id not of its format: ``05``;
* **versions**: requests of version 1 and 2 are both served, each answered (Faults too) in its
  own version; a version 2 request whose ``sentAt`` is more than ``tolerance`` (5 minutes)
  from the host's clock is a Fault ``93`` (nothing processed), so a request held in the network
  cannot arrive after the sender's settle window;
* references are unique **per office**: payments, declines, status, reversals and the
  settlement file are all keyed by office + reference, as the host keys them;
* host refusals are Faults with the code the profile maps the host's error to (``14``, ``101``,
  ``102``, ``103``, ...), input the rules refuse is ``30`` naming the fields (never values);
* **pay**: the host's decision, recorded under the reference: ``APPLIED``, or ``DECLINED`` with
  the refusal's code (a decline is remembered: the same reference with the same content gets
  the same answer, and its status is ``DECLINED``); the same reference with other content is a
  Fault ``94``. An amount over the profile's ``max_amount`` is declined ``51``, an admin fee
  other than the profile's schedule ``13``;
* **status**: ``APPLIED``/``REVERSED``/``DECLINED``/``NOT_FOUND``, in version 2 with the
  customer, office and teller of the payment found; a planned
  :attr:`~jamsostek_channels.testing.wire.FaultKind.PENDING` fault whose ``match`` is in the
  request answers ``PENDING`` (``09``);
* **reverse**: ``REVERSED``, ``NOT_FOUND`` (``25``) or ``REFUSED`` (``76``; ``13`` when the
  amount is not the payment's);
* **settlement**: the payments the office took through this channel on the day (``REVERSED``
  for one reversed since), as ``kp:SettlementFile``; an unknown office or a malformed date is
  HTTP 404 with a Fault.

Wire faults (drop, delay, error, reset) are applied by the wire layer around the gateway. The
state follows the host: when the host is reset it is forgotten; :meth:`KantorPosGateway.reset`
forgets it at once (``gateway.__self__`` is the :class:`KantorPosGateway`).
"""

from __future__ import annotations

import datetime as dt
import re
import string
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from jamsostek_channels.adapters.kantorpos import codec, soap
from jamsostek_channels.adapters.kantorpos.codes import ResponseCodes
from jamsostek_channels.adapters.kantorpos.profile import KantorPosProfile, load_profile
from jamsostek_channels.adapters.kantorpos.settlement import encode_settlement_file
from jamsostek_channels.adapters.kantorpos.soap import CONTENT_TYPE
from jamsostek_channels.adapters.kantorpos.types import (
    PaymentStatus,
    PosAnswer,
    PosBill,
    PosFault,
    PosInquiryRequest,
    PosInquiryResponse,
    PosPaymentRequest,
    PosPaymentResponse,
    PosRegistrationChallenge,
    PosRegistrationConfirm,
    PosRegistrationRequest,
    PosRegistrationResult,
    PosReversalRequest,
    PosReversalResponse,
    PosSettlementFile,
    PosSettlementRecord,
    PosStatusRequest,
    PosStatusResponse,
    ReversalStatus,
    SettlementStatus,
    TransactionStatus,
    lowest_major,
    operation_of,
)
from jamsostek_channels.adapters.kantorpos.wire import NAMESPACES
from jamsostek_channels.adapters.kantorpos.xmlsafe import malformed
from jamsostek_channels.channel import (
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
)
from jamsostek_channels.errors import HostDeclined, InvalidInput, JamsostekError
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.wire import Faults, Gateway, Router, WireRequest, WireResponse

__all__ = [
    "DEFAULT_TOLERANCE",
    "SANDBOX_OFFICE",
    "SANDBOX_TELLER",
    "KantorPosGateway",
    "challenge_for",
    "fault_for",
    "inquiry_response_for",
    "kantorpos_gateway",
    "payment_response_for",
    "registration_result_for",
    "reversal_response_for",
    "settlement_file_for",
    "status_response_for",
]

#: The office and teller the sandbox's info file gives a client (reference profile values).
SANDBOX_OFFICE = "40115"
SANDBOX_TELLER = "LKT01"
#: How far a version 2 request's ``sentAt`` may be from the host's clock (either way). The
#: profile's ``settle_window_seconds`` (360) is this plus a minute for the clocks' skew.
DEFAULT_TOLERANCE = dt.timedelta(minutes=5)

_XML_HEADERS: Mapping[str, str] = {"content-type": CONTENT_TYPE}
_FILE_HEADERS: Mapping[str, str] = {"content-type": "application/xml; charset=utf-8"}


@attrs.frozen
class _Declined:
    """A declined payment: what it asked for, and the answer it got."""

    content: tuple[object, ...]
    result: PaymentResult

    @property
    def customer(self) -> CustomerId:
        customer = self.content[0]
        assert isinstance(customer, CustomerId)
        return customer


def _content(message: PosPaymentRequest) -> tuple[object, ...]:
    return (message.customer, message.periods, message.amount, message.admin_fee, message.payer)


def _host_state(host: FakeHost) -> object:
    """An object that lives exactly as long as the host's data (see the SNAP biller's)."""
    return getattr(host, "_payments", None)


def _path_pattern(template: str) -> re.Pattern[str]:
    """``/x/{office}/{date}.xml`` -> a regex with named groups ``office`` and ``date``."""
    parts = []
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field:
            parts.append(f"(?P<{field}>[^/]+?)")
    return re.compile("".join(parts))


class KantorPosGateway:
    """BPJS Ketenagakerjaan's Kantor Pos endpoint over a :class:`FakeHost` (see the module
    docstring). ``gateway`` is the ``WireRequest -> WireResponse`` callable; :meth:`info` the
    fields a client needs. Thread-safe: one lock serialises requests."""

    def __init__(
        self,
        host: FakeHost,
        profile: KantorPosProfile | None = None,
        *,
        prefix: str = "",
        faults: Faults | None = None,
        office: str = SANDBOX_OFFICE,
        teller: str = SANDBOX_TELLER,
        tolerance: dt.timedelta = DEFAULT_TOLERANCE,
    ) -> None:
        if tolerance <= dt.timedelta(0):
            raise ValueError("tolerance must be positive")
        self.host = host
        self.tolerance = tolerance
        self.profile = profile or load_profile("kantorpos")
        if not self.profile.accepts_office(office) or not self.profile.accepts_teller(teller):
            raise ValueError("the sandbox office and teller must be ones the profile accepts")
        self.prefix = prefix.rstrip("/")
        self.faults = faults if faults is not None else Faults()
        self.office = office
        self.teller = teller
        self.channel = self.profile.name
        self._lock = threading.RLock()
        self._settlement_pattern = _path_pattern(self.prefix + self.profile.settlement_path)
        self._handlers: Mapping[str, Callable[[WireRequest, Any], PosAnswer]] = {
            "register": self._register,
            "confirm": self._confirm,
            "inquire": self._inquire,
            "pay": self._pay,
            "status": self._status,
            "reverse": self._reverse,
        }
        self._router = Router()
        self._router.add("POST", re.escape(self.endpoint), self._soap)
        self._router.add("GET", self._settlement_pattern.pattern, self._settlement)
        self.reset()

    def reset(self) -> None:
        """Forget the wire-level state (the host's own state is the host's)."""
        with self._lock:
            # A reference is unique per office (the host keys payments by office + reference),
            # so everything here is keyed by (office, reference) too.
            self._tellers: dict[tuple[str, str], str] = {}
            self._declined: dict[tuple[str, str], _Declined] = {}
            self._reversed_at: dict[tuple[str, str], dt.datetime] = {}
            self._host_state = _host_state(self.host)

    def __repr__(self) -> str:
        return f"<KantorPosGateway {self.endpoint} office={self.office}>"

    @property
    def endpoint(self) -> str:
        return self.prefix + self.profile.endpoint_path

    def info(self) -> dict[str, Any]:
        """The sandbox info file's fields (:class:`~.settings.KantorPosSettings` but
        ``base_url``): the office and the default teller; no secrets (mutual TLS is outside the
        sandbox)."""
        return {"office": self.office, "teller": self.teller}

    def gateway(self, request: WireRequest) -> WireResponse:
        with self._lock:
            if _host_state(self.host) is not self._host_state:
                self.reset()  # the host was reset: nothing it no longer has is replayed
            return self._router(request)

    # SOAP ---------------------------------------------------------------------------------

    def _fault(
        self, error: JamsostekError, reference: str | None, *, status: int = 500, major: int = 1
    ) -> WireResponse:
        if isinstance(error, InvalidInput):
            fields = ", ".join(sorted({p.field for p in error.problems}))[:200]
            error = malformed(f"refused by the rules ({fields or 'input'})")
        fault = fault_for(error, codes=self.profile.response_codes, reference=reference)
        return WireResponse(status, codec.encode_fault(fault, major=major), _XML_HEADERS)

    def _check_sent_at(self, message: Any) -> None:
        """A version 2 request's send time must be within the tolerance of the host's clock:
        an older one may have been held in the network past the sender's settle window."""
        sent_at = message.sent_at
        if sent_at is not None and abs(self.host.now() - sent_at) > self.tolerance:
            raise HostDeclined("host.stale_request")

    def _soap(self, request: WireRequest) -> WireResponse:
        reference: str | None = None
        # Answer in the request's version; one that could not be read, in the version its
        # bytes name (a version 1 counter must be able to read its Fault).
        major = 2 if NAMESPACES[2].encode() in request.body else 1
        try:
            if not request.header("content-type").lower().startswith("text/xml"):
                raise malformed("the Content-Type must be text/xml; charset=utf-8")
            message = codec.decode_request(request.body, limits=self.profile.message_limits)
            reference = getattr(message, "reference", None)
            major = lowest_major(message)  # version 2 requests carry sentAt (the XSD says so)
            operation = operation_of(message)
            if self.profile.operation_for(request.header("soapaction")) != operation:
                raise malformed(
                    "the SOAPAction does not name the Body's operation", field="SOAPAction"
                )
            if not self.profile.accepts_office(message.office):
                raise HostDeclined("host.rejected", {"code": "office"})
            if not self.profile.accepts_teller(message.teller):
                raise HostDeclined("host.rejected", {"code": "teller"})
            self._check_sent_at(message)
            answer = self._handlers[operation](request, message)
        except JamsostekError as error:
            return self._fault(error, reference, major=major)
        return WireResponse(200, codec.encode(answer, major=major), _XML_HEADERS)

    def _register(
        self, request: WireRequest, message: PosRegistrationRequest
    ) -> PosRegistrationChallenge:
        registration = RegistrationRequest(
            reference=message.reference,
            participant=message.participant.to_participant(),
            payer=message.registered_by.to_payer(),
            requested_at=message.requested_at,
        )
        return challenge_for(self.host.request_registration(self.channel, registration))

    def _confirm(
        self, request: WireRequest, message: PosRegistrationConfirm
    ) -> PosRegistrationResult:
        registration = self.host.confirm_registration(message.challenge_id, message.otp)
        return registration_result_for(registration)

    def _inquire(self, request: WireRequest, message: PosInquiryRequest) -> PosInquiryResponse:
        payer = None if message.payer is None else message.payer.to_payer()
        inquiry = self.host.inquire(
            message.customer, message.months, channel=self.channel, payer=payer
        )
        fee = self.profile.capabilities.admin_fee.fee_for(inquiry.amount)
        return inquiry_response_for(
            attrs.evolve(inquiry, admin_fee=fee),
            valid_until=self.host.now() + self.host.inquiry_ttl,
        )

    def _pay(self, request: WireRequest, message: PosPaymentRequest) -> PosPaymentResponse:
        codes = self.profile.response_codes
        key = (message.office, message.reference)
        declined = self._declined.get(key)
        if declined is not None:
            if declined.content != _content(message):
                raise HostDeclined("host.conflict")
            return payment_response_for(declined.result, codes=codes)
        payment = PaymentRequest(
            reference=message.reference,
            customer=message.customer,
            periods=message.periods,
            amount=message.amount,
            admin_fee=message.admin_fee,
            payer=message.payer.to_payer(),
            inquiry_id=message.inquiry_id,
            requested_at=message.requested_at,
            agent_id=message.teller,
            repeat=message.repeat,
        )
        try:
            result = self._apply(payment, message.office)
        except HostDeclined as error:
            if error.code == "host.conflict":
                raise  # not a decision about this payment: a Fault (94)
            result = PaymentResult(
                reference=message.reference,
                state=PaymentState.DECLINED,
                amount=message.amount,
                host_code=codes.code_for(error.code),
            )
            self._declined[key] = _Declined(_content(message), result)
            return payment_response_for(result, codes=codes)
        self._tellers.setdefault(key, message.teller)
        if result.state is PaymentState.REVERSED:  # a repeat answers the first answer
            result = attrs.evolve(result, state=PaymentState.APPLIED)
        return payment_response_for(result, codes=codes)

    def _apply(self, payment: PaymentRequest, office: str) -> PaymentResult:
        capabilities = self.profile.capabilities
        known = self.host.payment_status(self.channel, payment.reference, scope=office)
        if known.state is PaymentState.NOT_FOUND:  # checks for a new payment only
            if capabilities.max_amount is not None and payment.amount > capabilities.max_amount:
                raise HostDeclined("host.limit_exceeded")
            if payment.admin_fee != capabilities.admin_fee.fee_for(payment.amount):
                raise HostDeclined("host.amount_mismatch")
        return self.host.pay(self.channel, payment, scope=office)

    def _status(self, request: WireRequest, message: PosStatusRequest) -> PosStatusResponse:
        codes = self.profile.response_codes
        if self.faults.pending(request):
            pending = PaymentResult(reference=message.reference, state=PaymentState.PENDING)
            return status_response_for(pending, codes=codes)
        key = (message.office, message.reference)
        result = self.host.payment_status(self.channel, message.reference, scope=message.office)
        customer = self.host.payment_customer(self.channel, message.reference, scope=message.office)
        teller = self._tellers.get(key)
        declined = self._declined.get(key)
        if result.state is PaymentState.NOT_FOUND and declined is not None:
            result = declined.result
            customer = declined.customer
        found = result.state is not PaymentState.NOT_FOUND
        return status_response_for(
            result,
            codes=codes,
            customer=customer,
            office=message.office if found else None,
            teller=teller,
        )

    def _reverse(self, request: WireRequest, message: PosReversalRequest) -> PosReversalResponse:
        codes = self.profile.response_codes
        key = (message.office, message.reference)
        known = self.host.payment_status(self.channel, message.reference, scope=message.office)
        if known.state is not PaymentState.NOT_FOUND and known.amount != message.amount:
            refused = ReversalResult(
                message.reference, ReversalState.REFUSED, codes.code_for("host.amount_mismatch")
            )
            return reversal_response_for(refused, codes=codes)
        result = self.host.reverse(self.channel, message.reference, scope=message.office)
        reversed_at = None
        if result.state is ReversalState.REVERSED:
            reversed_at = self._reversed_at.setdefault(key, self.host.now())
        return reversal_response_for(result, codes=codes, reversed_at=reversed_at)

    # The settlement file ------------------------------------------------------------------

    def settlement_file(self, office: str, day: dt.date) -> PosSettlementFile:
        """The office's settlement file for ``day`` (every payment it took through this
        channel that day, in the order taken)."""
        with self._lock:
            records = []
            cutoff = self.profile.capabilities.business_day_cutoff
            for record in self.host.settlement(self.channel, day, scope=office, cutoff=cutoff):
                key = (office, record.reference)
                line = settlement_file_for(
                    (record,), office=office, business_date=day, generated_at=record.paid_at
                ).records[0]
                reversed_at = (
                    self._reversed_at.get(key) if line.state is SettlementStatus.REVERSED else None
                )
                teller = self._tellers.get(key)
                records.append(attrs.evolve(line, teller=teller, reversed_at=reversed_at))
            return PosSettlementFile(
                office=office,
                business_date=day,
                generated_at=self.host.now(),
                records=tuple(records),
            )

    def _settlement(self, request: WireRequest) -> WireResponse:
        match = self._settlement_pattern.fullmatch(urlsplit(request.path).path)
        assert match is not None  # the router matched the same pattern
        office, date = match["office"], match["date"]
        if not self.profile.accepts_office(office):
            return self._fault(HostDeclined("host.rejected", {"code": "office"}), None, status=404)
        try:
            if len(date) != 10:
                raise ValueError(date)
            day = dt.date.fromisoformat(date)
        except ValueError:
            return self._fault(malformed("the date must be YYYY-MM-DD"), None, status=404)
        body = encode_settlement_file(self.settlement_file(office, day))
        return WireResponse(200, body, _FILE_HEADERS)


# The server's half of the message mapping ----------------------------------------------------


def challenge_for(challenge: OtpChallenge) -> PosRegistrationChallenge:
    """Server side: the answer to ``register``."""
    return PosRegistrationChallenge(
        reference=challenge.reference,
        challenge_id=challenge.challenge_id,
        phone_masked=challenge.phone_masked,
        expires_at=challenge.expires_at,
    )


def registration_result_for(registration: Registration) -> PosRegistrationResult:
    """Server side: the answer to ``confirm``."""
    return PosRegistrationResult(
        reference=registration.reference,
        kpj=registration.kpj,
        nik_masked=registration.nik_masked,
        name=registration.name,
        registered_from=registration.registered,
        programs=registration.programs,
    )


def inquiry_response_for(
    inquiry: Inquiry, *, valid_until: dt.datetime | None = None
) -> PosInquiryResponse:
    """Server side: the answer to ``inquire``."""
    return PosInquiryResponse(
        inquiry_id=inquiry.inquiry_id,
        customer=inquiry.customer,
        kpj=inquiry.kpj,
        name_masked=inquiry.name_masked,
        programs=inquiry.programs,
        coverage_state=inquiry.state,
        bills=tuple(PosBill(b.period, b.amount, b.discount) for b in inquiry.bills),
        total=inquiry.amount,
        admin_fee=inquiry.admin_fee,
        valid_until=valid_until,
    )


def _result_code(result: PaymentResult, codes: ResponseCodes) -> str:
    if result.state is PaymentState.PENDING:
        return codes.pending
    if result.state in (PaymentState.DECLINED, PaymentState.NOT_FOUND):
        if result.host_code is not None and result.host_code in codes:
            return result.host_code
        if result.state is PaymentState.NOT_FOUND:
            return codes.code_for("host.not_found")
        return codes.unknown_refusal
    return codes.success


def payment_response_for(result: PaymentResult, *, codes: ResponseCodes) -> PosPaymentResponse:
    """Server side: the answer to ``pay`` (APPLIED, DECLINED or PENDING only: anything else
    raises ``ValueError``). A DECLINED result's ``host_code`` is its response code."""
    status = PaymentStatus(result.state.name)
    return PosPaymentResponse(
        reference=result.reference,
        status=status,
        response_code=_result_code(result, codes),
        host_reference=result.host_reference,
        periods=result.periods,
        amount=result.amount,
        paid_at=result.paid_at,
    )


def status_response_for(
    result: PaymentResult,
    *,
    codes: ResponseCodes,
    customer: CustomerId | None = None,
    office: str | None = None,
    teller: str | None = None,
) -> PosStatusResponse:
    """Server side: the answer to ``status``; ``customer``, ``office`` and ``teller`` name the
    payment found (version 2 carries them, version 1 leaves them out)."""
    return PosStatusResponse(
        reference=result.reference,
        status=TransactionStatus(result.state.name),
        response_code=_result_code(result, codes),
        host_reference=result.host_reference,
        periods=result.periods,
        amount=None
        if result.state in (PaymentState.NOT_FOUND, PaymentState.PENDING)
        else result.amount,
        paid_at=result.paid_at,
        customer=customer,
        office=office,
        teller=teller,
    )


def reversal_response_for(
    result: ReversalResult, *, codes: ResponseCodes, reversed_at: dt.datetime | None = None
) -> PosReversalResponse:
    """Server side: the answer to ``reverse`` (a QUEUED result is the client's, never an
    answer: ``ValueError``)."""
    status = ReversalStatus(result.state.name)
    if status is ReversalStatus.REVERSED:
        code = codes.success
    elif result.host_code is not None and result.host_code in codes:
        code = result.host_code
    elif status is ReversalStatus.NOT_FOUND:
        code = codes.code_for("host.not_found")
    else:
        code = codes.code_for("host.reversal_refused")
    return PosReversalResponse(
        reference=result.reference, status=status, response_code=code, reversed_at=reversed_at
    )


def _clean(text: str) -> str:
    return " ".join(text.split())[:255] or "-"


def fault_for(
    error: JamsostekError, *, codes: ResponseCodes, reference: str | None = None
) -> PosFault:
    """Server side: the Fault that answers ``error`` (its code mapped through ``codes``).

    A malformed request is ``soap:Client`` with code 30 (31 when too large); a SOAP 1.2
    envelope ``soap:VersionMismatch``; a refusal ``soap:Client`` and a failure of the host
    ``soap:Server``, as the code's entry says.
    """
    code = codes.code_for(error.code)
    faultcode = codes.fault_for(code)
    if isinstance(error, soap.EnvelopeVersionMismatch):
        faultcode = soap.FaultCode.VERSION_MISMATCH
    return PosFault(
        code=faultcode,
        string=_clean(error.message_en),
        response_code=code,
        reference=reference,
        message_id=_clean(error.message_id),
        message_en=_clean(error.message_en),
    )


def settlement_file_for(
    records: Iterable[SettlementRecord],
    *,
    office: str,
    business_date: dt.date,
    generated_at: dt.datetime,
) -> PosSettlementFile:
    """A settlement file from the library's records (their order kept)."""
    return PosSettlementFile(
        office=office,
        business_date=business_date,
        generated_at=generated_at,
        records=tuple(
            PosSettlementRecord(
                reference=r.reference,
                host_reference=r.host_reference,
                nik_masked=r.nik_masked,
                periods=r.periods,
                amount=r.amount,
                admin_fee=r.admin_fee,
                paid_at=r.paid_at,
                state=SettlementStatus(r.state.name),
            )
            for r in records
        ),
    )


def kantorpos_gateway(
    host: FakeHost, prefix: str, faults: Faults
) -> tuple[Gateway, dict[str, Any]]:
    """The Kantor Pos gateway for the sandbox: ``(gateway, info-file fields)``."""
    gateway = KantorPosGateway(host, prefix=prefix, faults=faults)
    return gateway.gateway, gateway.info()
