"""The SNAP channel adapter: the shared channel interface spoken as Bank Indonesia's SNAP.

It only translates: :class:`~jamsostek_channels.client.Client` has already checked the rules,
the capabilities and journaled the request. Here a request becomes exact SNAP bytes, signed; an
answer becomes the library's types or errors.

* **Access token**: one B2B token per adapter, fetched with the RSA-signed token request and
  refreshed before it expires (900 s, less a margin), or at once when the biller answers 401xx01
  (the request was refused unprocessed, so it is sent again with a fresh token exactly once).
* **X-EXTERNAL-ID**: unique per partner per day, drawn from a sequence in the journal, so a
  restarted process never reuses one.
* **Payments**: ``paymentRequestId`` is the inquiry's ``inquiryRequestId``; ``referenceNo`` is the
  channel reference; a repeat is sent with ``flagAdvise=Y``. Answers that leave the outcome open
  (404xx18, 409xx00, 5xx, 504, ``paymentFlagStatus`` 02) raise ``OutcomeUnknown``: the client
  resolves them with the status service, never by paying again.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from jamsostek_channels import clock as _clock
from jamsostek_channels.adapters.snap import codec, extensions
from jamsostek_channels.adapters.snap.codes import ResponseCode, ServiceCode, error_for
from jamsostek_channels.adapters.snap.errors import SnapOutcomeUnknown
from jamsostek_channels.adapters.snap.profile import SnapCredentials, SnapProfile
from jamsostek_channels.adapters.snap.security import (
    external_id,
    format_timestamp,
    sign_symmetric,
    sign_token_request,
)
from jamsostek_channels.channel import (
    AutoDebitMandate,
    Bill,
    Capabilities,
    CustomerId,
    HistoryEntry,
    Inquiry,
    InquiryRequest,
    MandateCancellation,
    MandateRequest,
    OtpChallenge,
    OtpConfirmation,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    Registration,
    RegistrationRequest,
    SettlementRecord,
)
from jamsostek_channels.converters import unstructure
from jamsostek_channels.errors import (
    HostDeclined,
    MalformedMessage,
    ReferenceConflict,
)
from jamsostek_channels.model import CoverageState
from jamsostek_channels.sequences import SequenceSource
from jamsostek_channels.transport import HttpResponse, HttpTransport, Timeouts

__all__ = ["SnapAdapter"]

#: Refresh the token this long before the biller says it expires.
TOKEN_MARGIN = dt.timedelta(seconds=60)
_JSON = "application/json"


class _Headers:
    """Signs one SNAP transaction call; called by the transport for every attempt, so each
    attempt has a fresh X-TIMESTAMP and signature (the X-EXTERNAL-ID stays the call's own)."""

    def __init__(self, adapter: SnapAdapter, token: str, external: str) -> None:
        self._adapter = adapter
        self._token = token
        self._external = external

    def headers(self, method: str, path: str, body: bytes) -> Mapping[str, str]:
        adapter = self._adapter
        timestamp = adapter._timestamp()
        signature = sign_symmetric(
            adapter.credentials.client_secret,
            method,
            path,
            self._token,
            body,
            timestamp,
            empty_body=adapter.profile.empty_body,
            minified=True,  # our encoders write compact JSON: no need to minify it again
        )
        return {
            "Content-Type": _JSON,
            "Authorization": f"Bearer {self._token}",
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": signature,
            "X-PARTNER-ID": adapter.credentials.partner_id,
            "X-EXTERNAL-ID": self._external,
            "CHANNEL-ID": adapter.profile.channel_id,
        }


class SnapAdapter:
    """A SNAP channel (LinkAja, BNI Agen46, ...) as an :class:`~jamsostek_channels.channel.Adapter`.

    ``base_url`` is where the biller is, with any deployment prefix
    (``https://api.example/openapi``); the prefix is signed as part of each path.
    """

    def __init__(
        self,
        profile: SnapProfile,
        credentials: SnapCredentials,
        *,
        base_url: str,
        sequences: SequenceSource,
        timeouts: Timeouts = Timeouts(),  # noqa: B008 - frozen: one shared default is safe
        clock: _clock.Clock = _clock.now,
        transport: HttpTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        self.profile = profile
        self.credentials = credentials
        self.scope = credentials.partner_id  # references are unique per partner (X-PARTNER-ID)
        self.name = profile.name
        self.capabilities: Capabilities = profile.capabilities
        self._sequences = sequences
        self.clock = clock
        parts = urlsplit(base_url)
        self._prefix = parts.path.rstrip("/") + profile.path_prefix
        self._transport = transport or HttpTransport(
            f"{parts.scheme}://{parts.netloc}", timeouts=timeouts, verify=verify, name=profile.name
        )
        self._token_lock = threading.Lock()
        self._token: tuple[str, dt.datetime] | None = None

    def close(self) -> None:
        self._transport.close()

    def __repr__(self) -> str:
        return f"SnapAdapter({self.name!r}, client_id={self.credentials.client_id!r})"

    # Plumbing -------------------------------------------------------------------------------------

    def _timestamp(self) -> str:
        return format_timestamp(self.clock(), millis=self.profile.timestamp_millis)

    def _path(self, path: str) -> str:
        return self._prefix + path

    def _sequence(self, kind: str, prefix: str) -> str:
        """A never-repeating id: ``prefix + journal instance + yyyymmdd + sequence`` (at most
        26 characters), unique per partner per day across restarts and instances: the numbers
        come from the :class:`~jamsostek_channels.sequences.SequenceSource` (durable blocks, a
        restart skips the rest of its block)."""
        day = self.clock().astimezone(_clock.JAKARTA).date()
        name = f"snap:{kind}:{self.credentials.partner_id}:{day.isoformat()}"
        return external_id(day, self._sequences.next(name), prefix + self._sequences.instance)

    def _access_token(self, *, renew: bool = False) -> str:
        with self._token_lock:
            now = self.clock()
            if not renew and self._token is not None and now < self._token[1] - TOKEN_MARGIN:
                return self._token[0]
            timestamp = self._timestamp()
            signature = sign_token_request(
                self.credentials.private_key_pem, self.credentials.client_id, timestamp
            )
            response = self._transport.send(
                "POST",
                self._path(codec.TOKEN_PATH),
                extensions.encode_token_request(),
                headers={
                    "Content-Type": _JSON,
                    "X-TIMESTAMP": timestamp,
                    "X-CLIENT-KEY": self.credentials.client_id,
                    "X-SIGNATURE": signature,
                },
            )
            answer = extensions.decode_answer(response.body)
            error = error_for(answer.code, service=ServiceCode.TOKEN, reference="-")
            if error is not None:
                raise error
            token, seconds = extensions.read_token(answer)
            self._token = (token, now + dt.timedelta(seconds=seconds))
            return token

    def _call(
        self,
        service: ServiceCode,
        path: str,
        body: bytes,
        *,
        reference: str = "-",
    ) -> HttpResponse:
        """One signed transaction call; raises the library error its answer means (except the
        answers the caller reads itself: 202 in progress, 404 01 on a status)."""
        for attempt in range(2):
            token = self._access_token(renew=attempt > 0)
            external = self._sequence("xid", self.profile.external_id_prefix)
            response = self._transport.send(
                "POST",
                self._path(path),
                body,
                reference=reference,
                retry_not_processed=lambda r: r.status == 429,
                signer=_Headers(self, token, external),
            )
            answer = extensions.decode_answer(response.body)
            if attempt == 0 and answer.code.http == 401 and answer.code.case == "01":
                continue  # token refused unprocessed: fetch a new one and send once more
            error = error_for(
                answer.code, service=service, reference=reference, response_message=answer.message
            )
            if error is not None:
                raise error
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    # Operations without money -------------------------------------------------------------------

    def inquire(self, request: InquiryRequest) -> Inquiry:
        customer, months, agent_id, payer = (
            request.customer,
            request.months,
            request.agent_id,
            request.payer,
        )
        inquiry_id = self._sequence("inq", "IQ")
        wire_request = codec.inquiry_request_for(
            customer,
            months,
            partner_service_id=self.profile.partner_service_id,
            inquiry_request_id=inquiry_id,
            at=self.clock(),
            agent_id=agent_id,
            channel_code=self.profile.channel_code,
            language=self.profile.language,
            payer=payer,
        )
        response = self._call(
            ServiceCode.INQUIRY, codec.INQUIRY_PATH, codec.encode_inquiry_request(wire_request)
        )
        data = codec.decode_inquiry_response(response.body).virtual_account
        if data is None or data.inquiry_status not in (None, "00"):
            raise HostDeclined("host.rejected", {"code": "inquiryStatus"}, host_code="01")
        if data.inquiry_request_id != inquiry_id:
            raise MalformedMessage("message.malformed", {"reason": "inquiryRequestId not echoed"})
        bills = tuple(Bill(b.period, b.amount, b.discount) for b in data.bill_details)
        total = sum(bill.amount for bill in bills)
        if data.total_amount is not None and data.total_amount != total:
            raise MalformedMessage("message.malformed", {"reason": "totalAmount != billDetails"})
        return Inquiry(
            customer=customer,
            inquiry_id=inquiry_id,
            kpj=data.kpj or "",
            name_masked=data.virtual_account_name,
            programs=data.programs,
            state=data.coverage_state or CoverageState.ACTIVE,
            bills=bills,
            amount=total,
            admin_fee=0,
        )

    def request_registration(self, request: RegistrationRequest) -> OtpChallenge:
        body = extensions.encode_registration_request(
            request.reference,
            unstructure(request.participant),
            request.payer,
            None,
        )
        response = self._call(ServiceCode.REGISTRATION, extensions.REGISTRATION_PATH, body)
        return extensions.read_challenge(extensions.decode_answer(response.body))

    def confirm_registration(self, request: OtpConfirmation) -> Registration:
        challenge = request.challenge
        body = extensions.encode_registration_confirm(
            challenge.reference, challenge.challenge_id, request.otp
        )
        response = self._call(ServiceCode.REGISTRATION, extensions.REGISTRATION_CONFIRM_PATH, body)
        return extensions.read_registration(extensions.decode_answer(response.body))

    def history(self, customer: CustomerId) -> tuple[HistoryEntry, ...]:
        response = self._call(
            ServiceCode.HISTORY,
            extensions.HISTORY_PATH,
            extensions.encode_history_request(customer),
        )
        return extensions.read_history(extensions.decode_answer(response.body))

    def settlement(self, day: dt.date) -> tuple[SettlementRecord, ...]:
        response = self._call(
            ServiceCode.SETTLEMENT,
            extensions.SETTLEMENT_PATH,
            extensions.encode_settlement_request(day),
        )
        return extensions.read_settlement(extensions.decode_answer(response.body), self.name)

    def enrol_autodebit(self, request: MandateRequest) -> AutoDebitMandate:
        # No repeat flag on the wire: partnerReferenceNo alone makes a resend idempotent.
        reference = request.reference
        body = extensions.encode_autodebit_enrol(
            request.customer, request.months, request.payer, reference
        )
        response = self._call(
            ServiceCode.AUTODEBIT, extensions.AUTODEBIT_ENROL_PATH, body, reference=reference
        )
        return extensions.read_mandate(extensions.decode_answer(response.body), reference)

    def cancel_autodebit(self, request: MandateCancellation) -> AutoDebitMandate:
        reference = request.reference
        body = extensions.encode_autodebit_cancel(request.mandate_id, reference)
        response = self._call(
            ServiceCode.AUTODEBIT, extensions.AUTODEBIT_CANCEL_PATH, body, reference=reference
        )
        return extensions.read_mandate(extensions.decode_answer(response.body), reference)

    # Payments -------------------------------------------------------------------------------------

    def pay(self, request: PaymentRequest) -> PaymentResult:
        body = codec.encode_payment_request(
            codec.payment_request_for(
                request,
                partner_service_id=self.profile.partner_service_id,
                channel_code=self.profile.channel_code,
            )
        )
        response = self._call(
            ServiceCode.PAYMENT, codec.PAYMENT_PATH, body, reference=request.reference
        )
        decoded = codec.decode_payment_response(response.body)
        if decoded.response_code.http == 202:
            return PaymentResult(request.reference, PaymentState.PENDING)
        data = decoded.virtual_account
        if data is None:
            raise MalformedMessage("message.malformed", {"reason": "no virtualAccountData"})
        return self._result(request, decoded.response_code, data.payment_flag_status, data)

    def payment_status(self, request: PaymentRequest) -> PaymentResult:
        body = codec.encode_status_request(
            codec.status_request_for(request, partner_service_id=self.profile.partner_service_id)
        )
        try:
            response = self._call(
                ServiceCode.STATUS, codec.STATUS_PATH, body, reference=request.reference
            )
        except HostDeclined as declined:
            if declined.code == "host.conflict":
                # 404xx18: the biller holds another payment under this reference.
                raise ReferenceConflict(request.reference, code="payment.mismatch") from None
            raise
        decoded = codec.decode_status_response(response.body)
        code = decoded.response_code
        if code.http == 404 and code.case == "01":
            return PaymentResult(request.reference, PaymentState.NOT_FOUND, host_code=code.format())
        if code.http == 202:
            return PaymentResult(request.reference, PaymentState.PENDING, host_code=code.format())
        data = decoded.virtual_account
        if data is None:
            raise MalformedMessage("message.malformed", {"reason": "no virtualAccountData"})
        if not _same_payment(request, data):
            # Another payment under our reference (another instance, a rebuilt journal): not
            # "still open" (stuck forever) and not "not found" (paid again), never a receipt.
            raise ReferenceConflict(request.reference, code="payment.mismatch")
        return self._result(request, code, data.payment_flag_status, data)

    def _result(
        self, request: PaymentRequest, code: ResponseCode, flag: str, data: Any
    ) -> PaymentResult:
        """Read ``paymentFlagStatus``: 00 success, 01 rejected, 02 timeout (outcome open)."""
        host_code = code.format()
        if flag == "01":
            return PaymentResult(request.reference, PaymentState.DECLINED, host_code=host_code)
        if flag != "00":
            raise SnapOutcomeUnknown(
                "outcome.unknown", {"reference": request.reference}, host_code=host_code
            )
        bills = getattr(data, "bill_details", ())
        host_reference = next((b.biller_reference_id for b in bills if b.biller_reference_id), None)
        paid_at = getattr(data, "trx_date_time", None) or getattr(data, "transaction_date", None)
        periods = tuple(b.period for b in bills) or request.periods
        amount = getattr(data, "paid_amount", None) or request.amount
        if periods != request.periods or amount != request.amount:
            # The biller applied something other than what we sent: never paper over it.
            raise MalformedMessage(
                "message.malformed", {"reason": "paid bills differ from request"}
            )
        return PaymentResult(
            reference=request.reference,
            state=PaymentState.APPLIED,
            host_reference=host_reference,
            periods=periods,
            amount=amount,
            paid_at=paid_at,
            host_code=host_code,
        )


def _same_payment(request: PaymentRequest, data: codec.SnapStatusData) -> bool:
    """Whether a status answer describes the payment we journaled: its customer, and the
    months and amount wherever the answer states them."""
    if data.customer_no.strip() != request.customer.value:
        return False
    periods = tuple(bill.period for bill in data.bill_details)
    if periods and periods != request.periods:
        return False
    return all(
        amount is None or amount == request.amount
        for amount in (data.paid_amount, data.total_amount)
    )
