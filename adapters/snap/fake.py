"""A fake SNAP biller: BPJS Ketenagakerjaan's side of the SNAP wire, over a :class:`FakeHost`.

The library's SNAP adapter, and any third-party SNAP client written from the standard alone,
calls it. Modelled on moto: :class:`SnapBiller` holds the small wire-level *state* (issued
tokens, X-EXTERNAL-IDs seen today with their answers, ``inquiryRequestId`` and
``paymentRequestId`` maps), its handlers translate SNAP into calls on the host, and a
:class:`~jamsostek_channels.testing.wire.Router` routes ``POST {prefix}{path}``. Every rule
about participants, bills, prices and payments is the host's; signing, timestamps and bodies are
:mod:`jamsostek_channels.adapters.snap`'s. Nothing is re-implemented here.

Paths (all under ``prefix`` + the profile's ``path_prefix``; the prefix is part of the signed
path)::

    POST /v1.0/access-token/b2b            73  token (RSA-signed; answers 2007300)
    POST /v1.0/transfer-va/inquiry         24  inquiry
    POST /v1.0/transfer-va/payment         25  payment
    POST /v1.0/transfer-va/status          26  status
    POST /v1.0/bpu/registration[/confirm]  90  project extension: registration with OTP
    POST /v1.0/bpu/auto-debit/enrol|cancel 91  project extension: auto-debit mandate
    POST /v1.0/bpu/history                 92  project extension: paid months
    POST /v1.0/bpu/settlement              93  project extension: a day's payments

Answers (``responseCode`` = HTTP status + service + case; the HTTP status is always the code's
first three digits; bodies are compact JSON):

* **Security** (every call but the token, in this order): body over ``MAX_BODY_BYTES`` 400xx00;
  ``Authorization: Bearer`` missing, unknown or expired 401xx01; ``X-TIMESTAMP`` missing 400xx02,
  unreadable 400xx01, outside the tolerance 401xx00; ``X-PARTNER-ID`` / ``CHANNEL-ID`` missing
  400xx02, not ours 401xx00; ``X-EXTERNAL-ID`` missing 400xx02, not 1-36 letters/digits
  400xx01; ``Content-Type`` missing 400xx02, not ``application/json`` (parameters such as
  ``charset`` aside) 400xx01; body not JSON 400xx00; ``X-SIGNATURE`` missing or wrong 401xx00.
  A 401xx00 says why in its message (``Unauthorized. [Signature]``).
* **Operations the profile does not offer** (e.g. auto-debit on BNI Agen46): 403xx01 *Feature
  Not Allowed* (SNAP's standard case; 403 15 is not used because on service 91 it means "first
  month unpaid").
* **X-EXTERNAL-ID** is unique per partner per WIB day. The same id with the same request (the
  same method, path and ``CHANNEL-ID``, and the same body compared as canonical JSON: key order
  and whitespace aside, every field counts) replays the original answer byte for byte; with
  another request it is 409xx00 *Conflict*, and nothing is processed: a payment whose amount,
  ``flagAdvise`` or any other field changed is never answered with the stored "Successful". A
  request that was refused unauthenticated (401) or not understood (any 400) does not use the id
  up; a 202 answer (in progress) reserves it for the same request but is not final, so a repeat
  is answered afresh.
* **Token**: ``X-CLIENT-KEY`` not the client id, timestamp outside the tolerance or signature
  wrong 4017300; missing headers 4007302 (unreadable timestamp 4007301, a ``Content-Type`` other
  than JSON 4007301); a body that is not
  ``{"grantType":"client_credentials"}`` 4007300/01/02.
* **Decoding** failures: ``SnapFieldError.response_code`` (400xx00/01/02, naming the field).
  A ``customerNo`` that is neither a NIK nor a KPJ, or input the host's rules refuse (months
  beyond the policy, an unknown payer scheme, a participant that cannot register), is 400xx01
  naming the field (``participant.birth_date`` for a registration).
* **Host refusals**: :func:`~jamsostek_channels.adapters.snap.codes.answer_for` (404xx12 not
  found or lapsed, 404xx13 amount, 404xx14 paid, 404xx18 inconsistent, 404xx19 expired, 403 90
  15 already registered, 404 90 15 wrong OTP, 403 90 12 OTP expired, ...). Inquiry and payment
  refusals carry ``virtualAccountData`` with ``inquiryStatus`` / ``paymentFlagStatus`` ``"01"``.
* **Inquiry**: ``partnerServiceId`` not ours 404 24 12; ``additionalInfo.months`` defaults to 1;
  on an agent channel (``agent_id_required``) a missing ``additionalInfo.agentId`` is 400 24 02.
  An ``inquiryRequestId`` sent again for another customer or month count is 404 24 18.
* **Payment**: the idempotency reference is ``referenceNo``, else ``paymentRequestId``. After an
  inquiry (``paymentRequestId`` = its ``inquiryRequestId``) the months are the inquiry's (another
  ``months`` is 404 25 18); otherwise the host's next unpaid ``months`` (default 1). The same
  reference again with the same parameters (any X-EXTERNAL-ID, ``flagAdvise`` Y or N) answers
  the original result and moves no money; with other parameters, or one ``paymentRequestId``
  with two references, 404 25 18. ``paidAmount`` above the profile's ``max_amount`` is 403 25 02,
  below ``min_amount`` 404 25 13; the host checks it against the bills' price (404 25 13), priced
  for the payer in ``additionalInfo.payerKind``. Agent channels need ``additionalInfo.agentId``
  (400 25 02).
* **Auto-debit** (91): the enrolment and the cancellation each carry a ``partnerReferenceNo``,
  echoed in the answer; the host keys them by it, so the same request again (any
  X-EXTERNAL-ID) answers the same mandate and makes no second one, and the same reference for
  another mandate is 404 91 18 (a refusal: nothing was made).
* **Status**: found by ``additionalInfo.referenceNo``, ``paymentRequestId`` or
  ``inquiryRequestId``; applied 2002600 with ``paymentFlagStatus`` 00, reversed 2002600 with 01,
  unknown 4042601 *Transaction Not Found*; another customer's payment under the reference
  4042618 (inconsistent request: nothing of it is shown, and "not found" would invite a second
  payment under the reference). A planned
  :attr:`~jamsostek_channels.testing.wire.FaultKind.PENDING` fault answers HTTP 202
  ``2022600`` *Request In Progress* **without** ``virtualAccountData`` (no final flag: SNAP's
  "02" means timed out, which this is not).
* The month counts allowed are the host's policy (the profile's ``month_counts`` are checked by
  the client library, not here). A bug in the biller raises (under ``responses``) or is the
  loopback server's HTTP 500: it is never disguised as a SNAP answer.
* Unknown path: HTTP 404 ``4040000`` *Not Found*; a known path with another method: HTTP 405
  ``4050000`` *Method Not Allowed* (SNAP has no case for either; the body keeps SNAP's shape).

The request maps follow the host: when the host is reset (the sandbox's ``/control/reset``),
the X-EXTERNAL-IDs, inquiry and payment maps are forgotten with it, so nothing is replayed about
payments the host no longer has; issued tokens stay valid. :meth:`SnapBiller.reset` forgets
everything (``biller.gateway.__self__`` is the biller).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from jamsostek_channels.adapters.snap import codec, extensions
from jamsostek_channels.adapters.snap._reader import MAX_BODY_BYTES
from jamsostek_channels.adapters.snap.codes import ResponseCode, ServiceCode, answer_for, case_for
from jamsostek_channels.adapters.snap.errors import SnapFieldError
from jamsostek_channels.adapters.snap.profile import SnapProfile, load_profile
from jamsostek_channels.adapters.snap.security import (
    DEFAULT_TOLERANCE,
    generate_key_pair,
    is_external_id,
    parse_timestamp,
    verify_symmetric,
    verify_token_request,
    within_tolerance,
)
from jamsostek_channels.channel import (
    CustomerId,
    Operation,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    RegistrationRequest,
)
from jamsostek_channels.errors import (
    HostDeclined,
    InvalidInput,
    JamsostekError,
    MalformedMessage,
)
from jamsostek_channels.model import Payer, PayerKind
from jamsostek_channels.period import YearMonth
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.wire import Faults, Gateway, Router, WireRequest, WireResponse
from jamsostek_channels.validation import parse_participant

__all__ = [
    "DEFAULT_TOKEN_TTL",
    "SANDBOX_AGENT_ID",
    "BillerCredentials",
    "SnapBiller",
    "bni_agen46_gateway",
    "linkaja_gateway",
    "sandbox_gateway",
]

#: How long an access token lives (SNAP: ``expiresIn`` "900").
DEFAULT_TOKEN_TTL = dt.timedelta(seconds=900)

#: The agent id the sandbox's info file gives a client of an agent channel (BNI Agen46).
SANDBOX_AGENT_ID = "AGEN46-0001"

_SUCCESS = "Successful"
_SUCCESS_REASON = codec.Bilingual("Success", "Sukses")
_REVERSED_REASON = codec.Bilingual("Reversed", "Dibatalkan")
_BILL_NAME = "Iuran BPU"
#: Channels display this many characters of ``virtualAccountName``.
_NAME_DISPLAY = 30
_UNKNOWN_NAME = "-"
_OTHER_METHODS = ("GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
_ALL_METHODS = ("POST", *_OTHER_METHODS)

#: Fields the host's rules name, as they are called on the SNAP wire.
_WIRE_FIELDS: Mapping[str, str] = {
    "months": "additionalInfo.months",
    "periods": "additionalInfo.months",
    "customer": "customerNo",
    "payer.scheme": "additionalInfo.payerScheme",
    "payer.kind": "additionalInfo.payerKind",
    "payer.name": "additionalInfo.payerName",
}


# Credentials --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _sandbox_key_pair(name: str) -> tuple[str, str]:
    """One RSA pair per profile name and process: a sandbox built twice keeps its keys."""
    return generate_key_pair()


@attrs.frozen
class BillerCredentials:
    """What the biller issued to one channel (a SNAP partner).

    ``public_key_pem`` verifies the partner's token requests; ``private_key_pem`` is the
    partner's key, known only in a sandbox (it goes into the info file so a client can sign).
    Secrets never appear in a repr.
    """

    client_id: str
    client_secret: str = attrs.field(repr=False)
    public_key_pem: str = attrs.field(repr=False)
    private_key_pem: str | None = attrs.field(default=None, repr=False)
    partner_id: str = ""

    @classmethod
    def sandbox(cls, profile_name: str) -> BillerCredentials:
        """Deterministic ids and secret from the profile name, a fresh RSA pair per process.
        For sandboxes and tests only."""
        private, public = _sandbox_key_pair(profile_name)
        return cls(
            client_id=f"{profile_name}-sandbox",
            client_secret=f"{profile_name}-sandbox-secret",
            public_key_pem=public,
            private_key_pem=private,
            partner_id=f"{profile_name}-partner",
        )


# State records ------------------------------------------------------------------------------


@attrs.frozen
class _Quoted:
    """An inquiry answered under an ``inquiryRequestId``."""

    customer: CustomerId
    months: int
    periods: tuple[YearMonth, ...]
    amount: int
    host_inquiry_id: str
    name: str


@attrs.frozen
class _Paid:
    """A payment the host applied through this biller, under its idempotency reference."""

    reference: str
    payment_request_id: str
    customer: CustomerId
    periods: tuple[YearMonth, ...]
    host_inquiry_id: str | None
    name: str | None


@attrs.define
class _Seen:
    """An X-EXTERNAL-ID used today: what it was used for, and the final answer (None: 202)."""

    fingerprint: str
    response: WireResponse | None


class _Refused(Exception):
    """Answer this SNAP code now (a header or routing refusal the library has no error for)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def _respond(code: str, message: str, fields: Mapping[str, object] | None = None) -> WireResponse:
    return WireResponse.json(int(code[:3]), extensions.encode_answer(code, message, fields or {}))


def _http(body_code: str) -> int:
    return int(body_code[:3])


def _unauthorized(service: str, reason: str) -> _Refused:
    return _Refused(f"401{service}00", f"Unauthorized. [{reason}]")


def _same_text(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _wire_field(field: str) -> str:
    if field in _WIRE_FIELDS:
        return _WIRE_FIELDS[field]
    return field


def _field_error(error: InvalidInput, prefix: str = "") -> SnapFieldError:
    """Case 01 naming the first field the rules refused (a path, never a value)."""
    field = error.problems[0].field if error.problems else "body"
    return SnapFieldError("01", prefix + _wire_field(field) if prefix else _wire_field(field))


def _reason(code: str, service: str) -> codec.Bilingual:
    case = case_for(ResponseCode.parse(code), service)
    return codec.Bilingual(case.meaning_en[: codec.REASON_MAX], case.meaning_id[: codec.REASON_MAX])


def _split(total: int, count: int) -> list[int]:
    share, rest = divmod(total, count)
    return [share] * (count - 1) + [share + rest]


def _host_state(host: FakeHost) -> object:
    """An object that lives exactly as long as the host's data: ``FakeHost.reset`` builds new
    state containers, so a different object means the host was reset. (None, and no tracking,
    if the host's internals ever change.)"""
    return getattr(host, "_payments", None)


def _items(values: Iterable[object]) -> Any:
    """A tuple for the wire types' ``converter=tuple`` fields (which mypy's attrs plugin types
    as an unbound ``Iterable[_T_co]``)."""
    return tuple(values)


def _reference_no(reference: str) -> str | None:
    """``referenceNo`` to echo: the reference, unless it is a ``paymentRequestId`` too long for
    the field (the reference is then the request id, which the answer carries anyway)."""
    return reference if len(reference) <= codec.REFERENCE_NO_MAX else None


def _check_content_type(request: WireRequest) -> None:
    """SNAP sends ``Content-Type: application/json``; a parameter (``; charset=UTF-8``) is fine."""
    given = request.header("content-type")
    if not given.strip():
        raise SnapFieldError("02", "Content-Type")
    if given.partition(";")[0].strip().lower() != "application/json":
        raise SnapFieldError("01", "Content-Type")


def _customer(text: str) -> CustomerId:
    try:
        return CustomerId.parse(text, "customerNo")
    except InvalidInput:
        raise SnapFieldError("01", "customerNo") from None


# The biller ---------------------------------------------------------------------------------


class SnapBiller:
    """BPJS Ketenagakerjaan's SNAP biller for one channel profile, over a :class:`FakeHost`.

    ``biller.gateway`` is the ``WireRequest -> WireResponse`` callable (install it with
    :func:`~jamsostek_channels.testing.wire.install` or serve it with ``LoopbackServer``);
    :meth:`info` gives the fields a client needs (the sandbox info file). Thread-safe: one lock
    serialises requests.
    """

    def __init__(
        self,
        host: FakeHost,
        profile: SnapProfile,
        *,
        prefix: str = "",
        faults: Faults | None = None,
        credentials: BillerCredentials | None = None,
        tolerance: dt.timedelta = DEFAULT_TOLERANCE,
        token_ttl: dt.timedelta = DEFAULT_TOKEN_TTL,
    ) -> None:
        if token_ttl <= dt.timedelta(0):
            raise ValueError("token_ttl must be positive")
        self.host = host
        self.profile = profile
        self.prefix = prefix.rstrip("/")
        self.faults = faults if faults is not None else Faults()
        self.credentials = credentials or BillerCredentials.sandbox(profile.name)
        self.tolerance = tolerance
        self.token_ttl = token_ttl
        self._lock = threading.RLock()
        self._init_state()
        self._router = self._routes()

    def _init_state(self) -> None:
        self._tokens: dict[str, dt.datetime] = {}
        self._forget_requests()

    def _forget_requests(self) -> None:
        self._seen_day: dt.date | None = None
        self._seen: dict[str, _Seen] = {}
        self._inquiries: dict[str, _Quoted] = {}
        self._payments: dict[str, _Paid] = {}
        self._request_ids: dict[str, str] = {}  # paymentRequestId -> reference
        self._host_state = _host_state(self.host)

    def _follow_host(self) -> None:
        """Forget the request maps when the host was reset (``FakeHost.reset`` replaces its
        state), so a reset sandbox never replays answers about payments it no longer has.
        Issued tokens stay valid: they belong to the credentials, not to the host's data."""
        if _host_state(self.host) is not self._host_state:
            self._forget_requests()

    def reset(self) -> None:
        """Forget tokens, X-EXTERNAL-IDs and request-id maps."""
        with self._lock:
            self._init_state()

    def __repr__(self) -> str:
        return f"<SnapBiller {self.profile.name} at {self.base_path or '/'}>"

    # Public surface -----------------------------------------------------------------------

    @property
    def scope(self) -> str:
        """Where a reference is unique at the host: the partner (``X-PARTNER-ID``)."""
        return self.credentials.partner_id

    @property
    def base_path(self) -> str:
        """Where the SNAP paths start: ``prefix`` + the profile's ``path_prefix``."""
        return self.prefix + self.profile.path_prefix

    def gateway(self, request: WireRequest) -> WireResponse:
        """Answer one request (the gateway callable)."""
        return self._router(request)

    def info(self) -> dict[str, Any]:
        """What a client needs: the sandbox info-file fields of this channel."""
        return {
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret,
            "private_key_pem": self.credentials.private_key_pem,
            "partner_id": self.credentials.partner_id,
            "partner_service_id": self.profile.partner_service_id,
            "channel_id": self.profile.channel_id,
            "agent_id": SANDBOX_AGENT_ID if self.profile.capabilities.agent_id_required else None,
        }

    # Routes -------------------------------------------------------------------------------

    def _routes(self) -> Router:
        router = Router()
        secured: list[tuple[str, ServiceCode, Callable[[WireRequest], WireResponse]]] = [
            (codec.INQUIRY_PATH, ServiceCode.INQUIRY, self._inquiry),
            (codec.PAYMENT_PATH, ServiceCode.PAYMENT, self._payment),
            (codec.STATUS_PATH, ServiceCode.STATUS, self._status),
            (extensions.REGISTRATION_PATH, ServiceCode.REGISTRATION, self._registration),
            (extensions.REGISTRATION_CONFIRM_PATH, ServiceCode.REGISTRATION, self._confirm),
            (extensions.AUTODEBIT_ENROL_PATH, ServiceCode.AUTODEBIT, self._enrol),
            (extensions.AUTODEBIT_CANCEL_PATH, ServiceCode.AUTODEBIT, self._cancel),
            (extensions.HISTORY_PATH, ServiceCode.HISTORY, self._history),
            (extensions.SETTLEMENT_PATH, ServiceCode.SETTLEMENT, self._settlement),
        ]
        paths = [codec.TOKEN_PATH] + [path for path, _, _ in secured]
        router.add("POST", re.escape(self.base_path + codec.TOKEN_PATH), self._locked(self._token))
        for path, service, handler in secured:
            router.add(
                "POST", re.escape(self.base_path + path), self._transaction(service, handler)
            )
        for path in paths:
            for method in _OTHER_METHODS:
                router.add(method, re.escape(self.base_path + path), _method_not_allowed)
        for method in _ALL_METHODS:
            router.add(method, r".*", _not_found)
        return router

    def _locked(self, handler: Gateway) -> Gateway:
        def route(request: WireRequest) -> WireResponse:
            with self._lock:
                self._follow_host()
                return handler(request)

        return route

    # Token (73) ---------------------------------------------------------------------------

    def _token(self, request: WireRequest) -> WireResponse:
        service = ServiceCode.TOKEN
        try:
            if len(request.body) > MAX_BODY_BYTES:
                raise SnapFieldError("00", code="message.too_large", params={"max": MAX_BODY_BYTES})
            client_key = request.header("x-client-key")
            if not client_key:
                raise SnapFieldError("02", "X-CLIENT-KEY")
            timestamp = self._timestamp(request, service)
            signature = request.header("x-signature")
            if not signature:
                raise _unauthorized(service, "Signature")
            if not _same_text(client_key, self.credentials.client_id):
                raise _unauthorized(service, "Unknown client")
            if not verify_token_request(
                self.credentials.public_key_pem, client_key, timestamp, signature
            ):
                raise _unauthorized(service, "Signature")
            _check_content_type(request)
            if extensions.decode_token_request(request.body) != extensions.TOKEN_GRANT:
                raise SnapFieldError("01", "grantType")
        except _Refused as refused:
            return _respond(refused.code, refused.message)
        except JamsostekError as error:
            return self._error(error, service)
        self._prune_tokens()
        token = secrets.token_urlsafe(32)
        self._tokens[token] = self.host.now() + self.token_ttl
        seconds = int(self.token_ttl.total_seconds())
        return _respond(f"200{service}00", _SUCCESS, extensions.write_token(token, seconds))

    def _prune_tokens(self) -> None:
        now = self.host.now()
        for token in [t for t, until in self._tokens.items() if until <= now]:
            del self._tokens[token]

    # Security of transaction calls -------------------------------------------------------

    def _timestamp(self, request: WireRequest, service: str) -> str:
        text = request.header("x-timestamp")
        if not text:
            raise SnapFieldError("02", "X-TIMESTAMP")
        try:
            moment = parse_timestamp(text)
        except MalformedMessage:
            raise SnapFieldError("01", "X-TIMESTAMP") from None
        if not within_tolerance(moment, self.host.now(), self.tolerance):
            raise _unauthorized(service, "Timestamp")
        return text

    def _authenticate(self, request: WireRequest, service: str) -> None:
        """Every check of a transaction call's headers and signature (see the module doc)."""
        if len(request.body) > MAX_BODY_BYTES:
            raise SnapFieldError("00", code="message.too_large", params={"max": MAX_BODY_BYTES})
        authorization = request.header("authorization")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        expires = self._tokens.get(token) if scheme.lower() == "bearer" and token else None
        if expires is None or self.host.now() >= expires:
            raise _Refused(f"401{service}01", "Invalid Token (B2B)")
        timestamp = self._timestamp(request, service)
        for header, expected in (
            ("X-PARTNER-ID", self.credentials.partner_id),
            ("CHANNEL-ID", self.profile.channel_id),
        ):
            given = request.header(header)
            if not given:
                raise SnapFieldError("02", header)
            if not _same_text(given, expected):
                raise _unauthorized(service, header)
        external = request.header("x-external-id")
        if not external:
            raise SnapFieldError("02", "X-EXTERNAL-ID")
        if not is_external_id(external):
            raise SnapFieldError("01", "X-EXTERNAL-ID")
        _check_content_type(request)
        signature = request.header("x-signature")
        if not signature:
            raise _unauthorized(service, "Signature")
        if not verify_symmetric(  # a body that is not JSON raises MalformedMessage: 400xx00
            self.credentials.client_secret,
            request.method,
            request.path,
            token,
            request.body,
            timestamp,
            signature,
            empty_body=self.profile.empty_body,
        ):
            raise _unauthorized(service, "Signature")

    def _transaction(
        self, service: ServiceCode, handler: Callable[[WireRequest], WireResponse]
    ) -> Gateway:
        operation = _OPERATIONS[service]

        def route(request: WireRequest) -> WireResponse:
            with self._lock:
                self._follow_host()
                try:
                    self._authenticate(request, service)
                    if operation not in self.profile.capabilities.operations:
                        raise _Refused(f"403{service}01", "Feature Not Allowed")
                    return handler(request)
                except _Refused as refused:
                    return _respond(refused.code, refused.message)
                except JamsostekError as error:
                    return self._error(error, service)

        return route

    def _error(self, error: JamsostekError, service: str) -> WireResponse:
        if isinstance(error, InvalidInput):
            error = _field_error(error)
        code, message = answer_for(error, service)
        return _respond(code, message)

    # X-EXTERNAL-ID: unique per partner per day ---------------------------------------------

    def _once(
        self,
        request: WireRequest,
        service: str,
        fingerprint: str,
        answer: Callable[[], WireResponse],
    ) -> WireResponse:
        """Answer ``request`` once per X-EXTERNAL-ID today: replay, 409, or ``answer()``."""
        today = self.host.today()
        if self._seen_day != today:  # ids are unique per day: yesterday's are forgotten
            self._seen_day = today
            self._seen.clear()
        key = f"{self.credentials.partner_id}|{request.header('x-external-id')}"
        seen = self._seen.get(key)
        if seen is not None:
            if seen.fingerprint != fingerprint:
                return _respond(f"409{service}00", "Conflict")
            if seen.response is not None:
                return seen.response
        try:
            response = answer()
        except JamsostekError as error:
            response = self._error(error, service)
        if response.status != 400:  # a request not understood does not use the id up
            self._seen[key] = _Seen(fingerprint, None if response.status == 202 else response)
        return response

    @staticmethod
    def _fingerprint(request: WireRequest) -> str:
        """What makes two requests under one X-EXTERNAL-ID "the same": method, path (with its
        query: it is signed), CHANNEL-ID and the whole body as canonical JSON."""
        try:
            canonical = json.dumps(
                json.loads(request.body or b"null"),
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode("utf-8")
        except (ValueError, RecursionError):  # not reached: the signature check parsed it
            canonical = request.body
        digest = hashlib.sha256(canonical).hexdigest()
        return f"{request.method.upper()} {request.path} {request.header('channel-id')} {digest}"

    # Inquiry (24) ---------------------------------------------------------------------------

    def _check_agent(self, agent_id: str | None) -> None:
        if self.profile.capabilities.agent_id_required and not agent_id:
            raise SnapFieldError("02", "additionalInfo.agentId")

    def _inquiry(self, request: WireRequest) -> WireResponse:
        decoded = codec.decode_inquiry_request(request.body)
        return self._once(
            request,
            ServiceCode.INQUIRY,
            self._fingerprint(request),
            lambda: self._inquire(decoded),
        )

    def _inquire(self, decoded: codec.SnapInquiryRequest) -> WireResponse:
        service = ServiceCode.INQUIRY
        self._check_agent(decoded.agent_id)
        customer = _customer(decoded.customer_no)
        months = decoded.months or 1
        try:
            if decoded.partner_service_id != self.profile.partner_service_id:
                raise HostDeclined("host.customer_not_found")
            prior = self._inquiries.get(decoded.inquiry_request_id)
            if prior is not None and (prior.customer != customer or prior.months != months):
                raise HostDeclined("host.conflict")
            try:
                inquiry = self.host.inquire(
                    customer, months, channel=self.profile.name, payer=_inquiry_payer(decoded)
                )
            except InvalidInput as error:
                raise _field_error(error) from None
        except HostDeclined as error:
            code, message = answer_for(error, service)
            data = codec.SnapInquiryData(
                partner_service_id=decoded.partner_service_id,
                customer_no=decoded.customer_no,
                virtual_account_name=_UNKNOWN_NAME,
                inquiry_request_id=decoded.inquiry_request_id,
                inquiry_status="01",
                inquiry_reason=_reason(code, service),
            )
            return self._inquiry_answer(code, message, data)
        name = inquiry.name_masked[:_NAME_DISPLAY] or _UNKNOWN_NAME
        periods = tuple(bill.period for bill in inquiry.bills)
        if decoded.inquiry_request_id not in self._request_ids:  # not yet used by a payment
            self._inquiries[decoded.inquiry_request_id] = _Quoted(
                customer=customer,
                months=months,
                periods=periods,
                amount=inquiry.amount,
                host_inquiry_id=inquiry.inquiry_id,
                name=name,
            )
        data = codec.SnapInquiryData(
            partner_service_id=decoded.partner_service_id,
            customer_no=decoded.customer_no,
            virtual_account_name=name,
            inquiry_request_id=decoded.inquiry_request_id,
            total_amount=inquiry.amount,
            inquiry_status="00",
            inquiry_reason=_SUCCESS_REASON,
            bill_details=_items(
                codec.SnapBill(
                    period=bill.period,
                    amount=bill.amount,
                    name=f"{_BILL_NAME} {bill.period}",
                    discount=bill.discount,
                )
                for bill in inquiry.bills
            ),
            virtual_account_trx_type="C",
            fee_amount=self.profile.capabilities.admin_fee.fee_for(inquiry.amount),
            kpj=inquiry.kpj,
            programs=_items(inquiry.programs),
            coverage_state=inquiry.state,
        )
        return self._inquiry_answer(f"200{service}00", _SUCCESS, data)

    @staticmethod
    def _inquiry_answer(code: str, message: str, data: codec.SnapInquiryData) -> WireResponse:
        response = codec.SnapInquiryResponse(ResponseCode.parse(code), message, data)
        return WireResponse.json(_http(code), codec.encode_inquiry_response(response))

    # Payment (25) ---------------------------------------------------------------------------

    def _payment(self, request: WireRequest) -> WireResponse:
        decoded = codec.decode_payment_request(request.body)
        return self._once(
            request, ServiceCode.PAYMENT, self._fingerprint(request), lambda: self._pay(decoded)
        )

    def _pay(self, decoded: codec.SnapPaymentRequest) -> WireResponse:
        service = ServiceCode.PAYMENT
        self._check_agent(decoded.agent_id)
        customer = _customer(decoded.customer_no)
        try:
            payer = Payer(
                decoded.payer_kind or PayerKind.SELF,
                name=decoded.payer_name,
                scheme=decoded.payer_scheme,
            )
        except InvalidInput as error:
            raise _field_error(error) from None
        reference = decoded.reference_no or decoded.payment_request_id
        name: str | None = None
        try:
            if decoded.partner_service_id != self.profile.partner_service_id:
                raise HostDeclined("host.customer_not_found")
            periods, host_inquiry_id, name = self._periods_for(decoded, customer, reference)
            capabilities = self.profile.capabilities
            if (
                capabilities.max_amount is not None
                and decoded.paid_amount > capabilities.max_amount
            ):
                raise HostDeclined("host.limit_exceeded")
            if decoded.paid_amount < capabilities.min_amount:
                raise HostDeclined("host.amount_mismatch")
            payment = PaymentRequest(
                reference=reference,
                customer=customer,
                periods=periods,
                amount=decoded.paid_amount,
                admin_fee=capabilities.admin_fee.fee_for(decoded.paid_amount),
                payer=payer,
                inquiry_id=host_inquiry_id,
                requested_at=decoded.trx_date_time or self.host.now(),
                agent_id=decoded.agent_id,
                repeat=decoded.flag_advise,
            )
            try:
                result = self.host.pay(self.profile.name, payment, scope=self.scope)
            except InvalidInput as error:
                raise _field_error(error) from None
        except HostDeclined as error:
            code, message = answer_for(error, service)
            refused = codec.SnapPaymentData(
                partner_service_id=decoded.partner_service_id,
                customer_no=decoded.customer_no,
                payment_request_id=decoded.payment_request_id,
                paid_amount=decoded.paid_amount,
                payment_flag_status="01",
                payment_flag_reason=_reason(code, service),
                virtual_account_name=name,
                reference_no=_reference_no(reference),
            )
            return self._payment_answer(code, message, refused)
        if reference not in self._payments:
            self._payments[reference] = _Paid(
                reference=reference,
                payment_request_id=decoded.payment_request_id,
                customer=customer,
                periods=result.periods,
                host_inquiry_id=host_inquiry_id,
                name=name,
            )
            self._request_ids[decoded.payment_request_id] = reference
        data = codec.SnapPaymentData(
            partner_service_id=decoded.partner_service_id,
            customer_no=decoded.customer_no,
            payment_request_id=decoded.payment_request_id,
            paid_amount=result.amount,
            payment_flag_status="00",
            payment_flag_reason=_SUCCESS_REASON,
            virtual_account_name=name,
            total_amount=result.amount,
            trx_date_time=result.paid_at,
            reference_no=_reference_no(reference),
            bill_details=_items(self._paid_bills(customer, result)),
        )
        return self._payment_answer(f"200{service}00", _SUCCESS, data)

    def _periods_for(
        self, decoded: codec.SnapPaymentRequest, customer: CustomerId, reference: str
    ) -> tuple[tuple[YearMonth, ...], str | None, str | None]:
        """(months, host inquiry id, display name) the payment is for; HostDeclined("host.
        conflict") when it contradicts what this reference or request id was used for."""
        used_by = self._request_ids.get(decoded.payment_request_id)
        if used_by is not None and used_by != reference:
            raise HostDeclined("host.conflict")  # one paymentRequestId, two payments
        paid = self._payments.get(reference)
        if paid is not None:  # a repeat: the host answers the original if nothing changed
            if paid.payment_request_id != decoded.payment_request_id or (
                decoded.months is not None and decoded.months != len(paid.periods)
            ):
                raise HostDeclined("host.conflict")
            return paid.periods, paid.host_inquiry_id, paid.name
        quoted = self._inquiries.get(decoded.payment_request_id)
        if quoted is not None:
            if decoded.months is not None and decoded.months != len(quoted.periods):
                raise HostDeclined("host.conflict")
            return quoted.periods, quoted.host_inquiry_id, quoted.name
        try:  # no inquiry: the host's next unpaid months
            inquiry = self.host.inquire(customer, decoded.months or 1, channel=self.profile.name)
        except InvalidInput as error:
            raise _field_error(error) from None
        periods = tuple(bill.period for bill in inquiry.bills)
        return periods, None, inquiry.name_masked[:_NAME_DISPLAY] or None

    def _paid_bills(
        self, customer: CustomerId, result: PaymentResult
    ) -> tuple[codec.SnapPaidBill, ...]:
        """One bill per month paid, with the host's reference and the month's own amount."""
        amounts: dict[YearMonth, int] = {}
        try:
            for entry in self.host.history(customer):
                if entry.channel == self.profile.name and entry.reference == result.reference:
                    amounts[entry.period] = entry.amount
        except HostDeclined:
            amounts = {}
        if any(period not in amounts for period in result.periods) or not result.periods:
            shares = _split(result.amount, len(result.periods)) if result.periods else []
            amounts = dict(zip(result.periods, shares, strict=True))
        return tuple(
            codec.SnapPaidBill(
                period=period,
                amount=amounts[period],
                biller_reference_id=result.host_reference,
                status="00" if result.state is PaymentState.APPLIED else "01",
                reason=_SUCCESS_REASON
                if result.state is PaymentState.APPLIED
                else _REVERSED_REASON,
            )
            for period in result.periods
        )

    @staticmethod
    def _payment_answer(code: str, message: str, data: codec.SnapPaymentData) -> WireResponse:
        response = codec.SnapPaymentResponse(ResponseCode.parse(code), message, data)
        return WireResponse.json(_http(code), codec.encode_payment_response(response))

    # Status (26) ----------------------------------------------------------------------------

    def _status(self, request: WireRequest) -> WireResponse:
        decoded = codec.decode_status_request(request.body)
        return self._once(
            request,
            ServiceCode.STATUS,
            self._fingerprint(request),
            lambda: self._status_of(request, decoded),
        )

    def _status_of(self, request: WireRequest, decoded: codec.SnapStatusRequest) -> WireResponse:
        service = ServiceCode.STATUS
        customer = _customer(decoded.customer_no)
        if decoded.partner_service_id != self.profile.partner_service_id:
            raise HostDeclined("host.customer_not_found")
        if self.faults.pending(request):
            return _respond(f"202{service}00", "Request In Progress")
        result = self._find_payment(decoded, customer)
        if result is None:
            return _respond(f"404{service}01", "Transaction Not Found")
        paid = self._payments.get(result.reference)
        applied = result.state is PaymentState.APPLIED
        data = codec.SnapStatusData(
            partner_service_id=decoded.partner_service_id,
            customer_no=decoded.customer_no,
            payment_flag_status="00" if applied else "01",
            payment_flag_reason=_SUCCESS_REASON if applied else _REVERSED_REASON,
            inquiry_request_id=decoded.inquiry_request_id,
            payment_request_id=paid.payment_request_id
            if paid is not None
            else decoded.payment_request_id,
            paid_amount=result.amount,
            total_amount=result.amount,
            transaction_date=result.paid_at,
            reference_no=_reference_no(result.reference),
            bill_details=_items(self._paid_bills(customer, result)),
        )
        response = codec.SnapStatusResponse(ResponseCode.parse(f"200{service}00"), _SUCCESS, data)
        return WireResponse.json(200, codec.encode_status_response(response))

    def _find_payment(
        self, decoded: codec.SnapStatusRequest, customer: CustomerId
    ) -> PaymentResult | None:
        """The payment a status request asks about (APPLIED or REVERSED), or None."""
        candidates: list[str] = []
        if decoded.reference_no is not None:
            candidates.append(decoded.reference_no)
        for request_id in (decoded.payment_request_id, decoded.inquiry_request_id):
            if request_id is not None:
                mapped = self._request_ids.get(request_id)
                if mapped is not None:
                    candidates.append(mapped)
                candidates.append(request_id)
        for reference in dict.fromkeys(candidates):
            result = self.host.payment_status(self.profile.name, reference, scope=self.scope)
            if result.state is PaymentState.NOT_FOUND:
                continue
            paid = self._payments.get(result.reference)
            if paid is not None and not self._same_person(paid.customer, customer):
                # Another customer's payment under this reference: "not found" would invite a
                # second payment, the payment itself would show a stranger's: 404xx18.
                raise HostDeclined("host.conflict")
            return result
        return None

    def _same_person(self, first: CustomerId, second: CustomerId) -> bool:
        if first == second:
            return True
        one = self.host.participant(first.value)
        other = self.host.participant(second.value)
        return (
            one is not None and other is not None and one.participant.nik == other.participant.nik
        )

    # Extensions (90-93) ---------------------------------------------------------------------

    def _extension(
        self,
        request: WireRequest,
        service: ServiceCode,
        answer: Callable[[], Mapping[str, object]],
    ) -> WireResponse:
        return self._once(
            request,
            service,
            self._fingerprint(request),
            lambda: _respond(f"200{service}00", _SUCCESS, answer()),
        )

    def _registration(self, request: WireRequest) -> WireResponse:
        reference, participant_data, payer = extensions.decode_registration_request(request.body)
        if payer.kind is not PayerKind.SELF and not self.profile.capabilities.sponsor_registration:
            raise _Refused(f"403{ServiceCode.REGISTRATION}01", "Feature Not Allowed")

        def answer() -> Mapping[str, object]:
            try:
                participant = parse_participant(
                    participant_data, as_of=self.host.today(), rules=self.host.rules
                )
            except InvalidInput as error:
                raise _field_error(error, "participant.") from None
            registration = RegistrationRequest(
                reference=reference,
                participant=participant,
                payer=payer,
                requested_at=self.host.now(),
            )
            challenge = self.host.request_registration(self.profile.name, registration)
            return extensions.write_challenge(challenge)

        return self._extension(request, ServiceCode.REGISTRATION, answer)

    def _confirm(self, request: WireRequest) -> WireResponse:
        _reference, challenge_id, otp = extensions.decode_registration_confirm(request.body)
        return self._extension(
            request,
            ServiceCode.REGISTRATION,
            lambda: extensions.write_registration(
                self.host.confirm_registration(challenge_id, otp)
            ),
        )

    def _enrol(self, request: WireRequest) -> WireResponse:
        reference, customer, months, payer = extensions.decode_autodebit_enrol(request.body)
        return self._extension(
            request,
            ServiceCode.AUTODEBIT,
            lambda: extensions.write_mandate(
                self.host.enrol_autodebit(
                    self.profile.name, customer, months, payer, reference=reference
                ),
                reference,
            ),
        )

    def _cancel(self, request: WireRequest) -> WireResponse:
        reference, mandate_id = extensions.decode_autodebit_cancel(request.body)
        return self._extension(
            request,
            ServiceCode.AUTODEBIT,
            lambda: extensions.write_mandate(
                self.host.cancel_autodebit(
                    mandate_id, channel=self.profile.name, reference=reference
                ),
                reference,
            ),
        )

    def _history(self, request: WireRequest) -> WireResponse:
        customer = extensions.decode_history_request(request.body)
        return self._extension(
            request,
            ServiceCode.HISTORY,
            lambda: extensions.write_history(self.host.history(customer)),
        )

    def _settlement(self, request: WireRequest) -> WireResponse:
        day = extensions.decode_settlement_request(request.body)
        return self._extension(
            request,
            ServiceCode.SETTLEMENT,
            lambda: extensions.write_settlement(
                self.host.settlement(self.profile.name, day, scope=self.scope)
            ),
        )


#: The profile operation each service needs.
_OPERATIONS: Mapping[ServiceCode, Operation] = {
    ServiceCode.INQUIRY: Operation.INQUIRE,
    ServiceCode.PAYMENT: Operation.PAY,
    ServiceCode.STATUS: Operation.STATUS,
    ServiceCode.REGISTRATION: Operation.REGISTER,
    ServiceCode.AUTODEBIT: Operation.AUTODEBIT,
    ServiceCode.HISTORY: Operation.HISTORY,
    ServiceCode.SETTLEMENT: Operation.SETTLEMENT,
}


def _not_found(request: WireRequest) -> WireResponse:
    return _respond("4040000", "Not Found")


def _method_not_allowed(request: WireRequest) -> WireResponse:
    response = _respond("4050000", "Method Not Allowed")
    return WireResponse(response.status, response.body, {**response.headers, "allow": "POST"})


# Sandbox builders (the registry's fake factories) ------------------------------------------


def sandbox_gateway(
    name: str, host: FakeHost, prefix: str, faults: Faults
) -> tuple[Gateway, dict[str, Any]]:
    """The biller of SNAP profile ``name`` for the sandbox: ``(gateway, settings fields)``."""
    biller = SnapBiller(host, load_profile(name), prefix=prefix, faults=faults)
    return biller.gateway, biller.info()


def linkaja_gateway(host: FakeHost, prefix: str, faults: Faults) -> tuple[Gateway, dict[str, Any]]:
    """The LinkAja biller for the sandbox: ``(gateway, info-file fields)``."""
    return sandbox_gateway("linkaja", host, prefix, faults)


def bni_agen46_gateway(
    host: FakeHost, prefix: str, faults: Faults
) -> tuple[Gateway, dict[str, Any]]:
    """The BNI Agen46 biller for the sandbox: ``(gateway, info-file fields)``."""
    return sandbox_gateway("bni-agen46", host, prefix, faults)


def _inquiry_payer(decoded: codec.SnapInquiryRequest) -> Payer | None:
    """The payer an inquiry prices for (its budget can change the price); ``None``: the
    participant. A payer that cannot be (a scheme named for a kind other than a donor) prices
    as the participant; a donor scheme the host's rules do not know is refused by the host's
    pricing, naming the field, as at payment."""
    if decoded.payer_kind is None:
        return None
    try:
        return Payer(decoded.payer_kind, scheme=decoded.payer_scheme)
    except JamsostekError:
        return None
