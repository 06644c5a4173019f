"""SNAP response codes, and what each one means to the library.

A SNAP ``responseCode`` is ``HTTP status (3) + service code (2) + case (2)``: ``4042412`` is
HTTP 404, service 24 (virtual-account inquiry), case 12 (invalid bill / VA). The case's meaning
depends on the HTTP status only, so the table here is keyed by ``(http, case)``; the service code
says which call it answers.

Two directions, one table:

* a client turns an answer into the library's error with :func:`error_for` (``None`` when the
  answer is not an error: success, in progress, or "not found" to a status inquiry);
* a server (the fake biller) turns a library error code into the answer with :func:`code_for`.

The rule that matters for money: an answer that leaves a payment's fate open (5xx, 504, a
reference conflict) becomes :class:`~jamsostek_channels.errors.OutcomeUnknown` on a payment,
so the caller asks for its status instead of paying again.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import cast

import attrs

from jamsostek_channels.adapters.snap.errors import (
    BadRequestCase,
    SnapAuthenticationFailed,
    SnapFieldError,
    SnapNotDelivered,
    SnapOutcomeUnknown,
)
from jamsostek_channels.channel import PaymentState
from jamsostek_channels.errors import HostDeclined, JamsostekError
from jamsostek_channels.messages import echo

__all__ = [
    "HOST_ANSWERS",
    "RESPONSE_CASES",
    "SERVICE_CASES",
    "UNKNOWN_OUTCOME_SERVICES",
    "Case",
    "ResponseCode",
    "ServiceCode",
    "answer_for",
    "case_for",
    "code_for",
    "error_for",
]


class ServiceCode(enum.StrEnum):
    """SNAP service codes this library speaks.

    ``73``, ``24``, ``25`` and ``26`` are the standard's. SNAP has no BPU registration or
    auto-debit-mandate service, so ``90`` and ``91`` are **project-defined** extension services,
    chosen away from the ranges the standard's published services use (token 73/74, transfers,
    virtual accounts 24–36, QRIS, direct debit) and secured exactly like the standard's
    transaction calls. Confirm them with each partner; changing them is a one-line edit here.
    """

    TOKEN = "73"  # noqa: S105 - POST /v1.0/access-token/b2b
    INQUIRY = "24"  #: POST /v1.0/transfer-va/inquiry
    PAYMENT = "25"  #: POST /v1.0/transfer-va/payment
    STATUS = "26"  #: POST /v1.0/transfer-va/status
    REGISTRATION = "90"  #: project-defined: BPU registration (OTP to the worker's phone)
    AUTODEBIT = "91"  #: project-defined: auto-debit mandate enrolment / cancellation
    HISTORY = "92"  #: project-defined: a participant's paid months
    SETTLEMENT = "93"  #: project-defined: a channel's payments on one day


#: Services after which an open answer (5xx, 504, conflict) may hide a change that costs money:
#: a payment, or a standing order that will collect every month. There it is
#: :class:`OutcomeUnknown`. Elsewhere (inquiry, status, registration — which the host refuses to
#: repeat with ``host.already_registered``) it is ``HostDeclined("host.error")``.
UNKNOWN_OUTCOME_SERVICES: frozenset[str] = frozenset({ServiceCode.PAYMENT, ServiceCode.AUTODEBIT})

_CODE = re.compile(r"([1-5][0-9]{2})([0-9]{2})([0-9]{2})")
_TWO_DIGITS = re.compile(r"[0-9]{2}")


def _check_http(instance: ResponseCode, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 100 <= value <= 599:
        raise ValueError(f"HTTP status must be 100..599, got {value!r}")


def _check_two_digits(instance: ResponseCode, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _TWO_DIGITS.fullmatch(value):
        raise ValueError(f"{attribute.name} must be two digits, got {value!r}")


@attrs.frozen
class ResponseCode:
    """A SNAP response code: ``ResponseCode.parse("2002400") == ResponseCode(200, "24", "00")``."""

    http: int = attrs.field(validator=_check_http)
    service: str = attrs.field(validator=_check_two_digits, converter=str)
    case: str = attrs.field(validator=_check_two_digits)

    @classmethod
    def parse(cls, text: object) -> ResponseCode:
        """Read 7 digits; anything else is :class:`SnapFieldError` on ``responseCode``."""
        if not isinstance(text, str):
            raise SnapFieldError("01", "responseCode")
        return _parse_code(text)

    def format(self) -> str:
        return f"{self.http:03d}{self.service}{self.case}"

    def __str__(self) -> str:
        return self.format()

    @property
    def successful(self) -> bool:
        """``200xx00``: the call was carried out (its result is in the body's status fields)."""
        return self.http == 200 and self.case == "00"


@functools.lru_cache(maxsize=512)
def _parse_code(text: str) -> ResponseCode:
    """Codes repeat (a channel answers with a few dozen): parsed once each, as immutable values."""
    match = _CODE.fullmatch(text)
    if match is None:
        raise SnapFieldError("01", "responseCode")
    return ResponseCode(int(match[1]), match[2], match[3])


@attrs.frozen
class Case:
    """What one ``(http, case)`` means.

    ``meaning_en`` is SNAP's standard ``responseMessage`` (a server sends it as it is, adding
    the field name for 400 01/02). ``error_code`` is the library's code for the answer (``None``:
    not an error). ``retry_safe``: nothing was applied and the same request may succeed if sent
    again (after refreshing the token, for 401 01). ``needs_status``: the fate of a
    money-moving request is open and must be settled by a status inquiry, never by paying again.
    ``state``: what a status inquiry (service 26) learns from this answer alone.
    """

    meaning_en: str
    meaning_id: str
    error_code: str | None
    retry_safe: bool = False
    needs_status: bool = False
    state: PaymentState | None = None


_UNKNOWN_ERROR = Case("Unknown Answer", "Jawaban tidak dikenal", "host.error", needs_status=True)
_UNKNOWN_REFUSAL = Case("Unknown Refusal", "Penolakan tidak dikenal", "host.rejected")

#: Every case of the SNAP table in ``channels.md``, plus the standard cases the project's
#: extension services use (403 05, 403 11, 403 12, 403 15, 404 15).
RESPONSE_CASES: Mapping[tuple[int, str], Case] = MappingProxyType(
    {
        (200, "00"): Case("Successful", "Berhasil", None),
        (202, "00"): Case(
            "Request In Progress",
            "Permintaan sedang diproses",
            None,
            needs_status=True,
            state=PaymentState.PENDING,
        ),
        (400, "00"): Case("Bad Request", "Permintaan tidak valid", "message.malformed"),
        (400, "01"): Case("Invalid Field Format", "Format kolom tidak valid", "message.malformed"),
        (400, "02"): Case(
            "Invalid Mandatory Field", "Kolom wajib tidak valid", "message.malformed"
        ),
        (401, "00"): Case("Unauthorized", "Tidak berwenang", "auth.signature"),
        (401, "01"): Case(
            "Invalid Token (B2B)", "Token tidak valid (B2B)", "auth.token", retry_safe=True
        ),
        (403, "02"): Case(
            "Exceeds Transaction Amount Limit",
            "Melebihi batas nominal transaksi",
            "host.limit_exceeded",
        ),
        (403, "05"): Case("Do Not Honor", "Transaksi ditolak", "host.rejected"),
        (403, "06"): Case(
            "Feature Not Allowed At This Time",
            "Layanan tidak tersedia saat ini (cut-off)",
            "host.cutoff",
        ),
        (403, "11"): Case("OTP Blocked", "OTP diblokir", "host.otp_expired"),
        (403, "12"): Case("OTP Lifetime Expired", "OTP kedaluwarsa", "host.otp_expired"),
        (403, "15"): Case(
            "Transaction Not Permitted", "Transaksi tidak diizinkan", "host.rejected"
        ),
        (404, "01"): Case(
            "Transaction Not Found",
            "Transaksi tidak ditemukan",
            "host.not_found",
            state=PaymentState.NOT_FOUND,
        ),
        (404, "12"): Case(
            "Invalid Bill/Virtual Account",
            "Tagihan/virtual account tidak valid",
            "host.customer_not_found",
        ),
        (404, "13"): Case("Invalid Amount", "Nominal tidak valid", "host.amount_mismatch"),
        (404, "14"): Case("Paid Bill", "Tagihan sudah dibayar", "host.bill_paid"),
        (404, "15"): Case("Invalid OTP", "OTP salah", "host.otp_invalid"),
        (404, "18"): Case(
            "Inconsistent Request",
            "Permintaan tidak konsisten",
            "host.conflict",
            needs_status=True,
        ),
        (404, "19"): Case(
            "Invalid Bill/Virtual Account",
            "Tagihan/virtual account kedaluwarsa",
            "host.bill_expired",
        ),
        (409, "00"): Case(
            "Conflict",
            "Konflik: X-EXTERNAL-ID sudah dipakai hari ini",
            "host.conflict",
            needs_status=True,
        ),
        (409, "01"): Case(
            "Duplicate partnerReferenceNo",
            "partnerReferenceNo duplikat",
            "host.conflict",
            needs_status=True,
        ),
        (429, "00"): Case(
            "Too Many Requests", "Terlalu banyak permintaan", "host.busy", retry_safe=True
        ),
        (500, "00"): Case("General Error", "Kesalahan umum", "host.error", needs_status=True),
        (500, "01"): Case(
            "Internal Server Error", "Kesalahan internal server", "host.error", needs_status=True
        ),
        (500, "02"): Case(
            "External Server Error", "Kesalahan server eksternal", "host.error", needs_status=True
        ),
        (504, "00"): Case("Timeout", "Waktu habis", "host.error", needs_status=True),
    }
)

#: Cases whose meaning is narrower on one service: ``(service, http, case)``. The extension
#: services say *why* a request is "not permitted" through the service code.
SERVICE_CASES: Mapping[tuple[str, int, str], Case] = MappingProxyType(
    {
        (ServiceCode.REGISTRATION, 403, "15"): Case(
            "Transaction Not Permitted", "NIK sudah terdaftar", "host.already_registered"
        ),
        (ServiceCode.AUTODEBIT, 403, "15"): Case(
            "Transaction Not Permitted",
            "Auto-debit perlu iuran bulan pertama dibayar",
            "host.autodebit_unpaid",
        ),
        # The host keys mandates by partnerReferenceNo: an inconsistent one names another
        # mandate and nothing was made or changed, so it is a refusal, not an open answer.
        (ServiceCode.AUTODEBIT, 404, "18"): Case(
            "Inconsistent Request",
            "partnerReferenceNo sudah dipakai untuk mandat lain",
            "host.mandate_conflict",
        ),
    }
)


def case_for(code: ResponseCode, service: str) -> Case:
    """The meaning of ``code`` as an answer to ``service`` (the service we called).

    A case the table does not know is a refusal when it is a 4xx, and otherwise (an unknown 2xx
    or 5xx) an open answer that needs a status inquiry after a payment.
    """
    special = SERVICE_CASES.get((str(service), code.http, code.case))
    if special is not None:
        return special
    known = RESPONSE_CASES.get((code.http, code.case))
    if known is not None:
        return known
    return _UNKNOWN_REFUSAL if 400 <= code.http < 500 else _UNKNOWN_ERROR


_FIELD_IN_MESSAGE = re.compile(
    r"invalid\s+(?:field\s+format|mandatory\s+field)\W*([A-Za-z][\w.\-\[\]]{0,63})",
    re.IGNORECASE | re.ASCII,
)


def _field_named(response_message: str | None) -> str | None:
    """The field a 400 01/02 answer names (``Invalid Field Format {paidAmount}``), made safe to
    repeat: it is the other side's text."""
    if not isinstance(response_message, str):
        return None
    match = _FIELD_IN_MESSAGE.search(response_message[:300])
    if match is None:
        return None
    field = match[1]
    while field.endswith("]") and field.count("]") > field.count("["):  # "[customerNo]"
        field = field[:-1]
    return echo(field)


def error_for(
    code: ResponseCode,
    *,
    service: str,
    reference: str,
    response_message: str | None = None,
) -> JamsostekError | None:
    """The library error an answer means, or ``None`` when it is not an error.

    ``service`` is the service we called (it decides, whatever service digits the answer
    carries); ``reference`` our channel reference (named in an ``OutcomeUnknown``);
    ``response_message`` the answer's ``responseMessage`` (for a 400, the field it names).
    Every error carries ``host_code``, the 7-character code.

    ``None`` for 200 00 (read ``inquiryStatus`` / ``paymentFlagStatus``), 202 00 (in progress:
    :attr:`PaymentState.PENDING`) and 404 01 to a status inquiry (:attr:`PaymentState.NOT_FOUND`).
    """
    case = case_for(code, service)
    host_code = code.format()
    if case.error_code is None:
        return None
    if case.state is not None and str(service) == ServiceCode.STATUS:
        return None
    if case.needs_status and str(service) in UNKNOWN_OUTCOME_SERVICES:
        return SnapOutcomeUnknown("outcome.unknown", {"reference": reference}, host_code=host_code)
    if case.error_code.startswith("message."):
        return SnapFieldError(
            cast(BadRequestCase, code.case),
            _field_named(response_message),
            reason=f"the other side refused our request: {case.meaning_en.lower()}",
            host_code=host_code,
        )
    if case.error_code.startswith("auth."):
        return SnapAuthenticationFailed(case.error_code, host_code=host_code)
    if case.retry_safe:
        return SnapNotDelivered(case.error_code, host_code=host_code)
    return HostDeclined(case.error_code, {"code": host_code}, host_code=host_code)


#: How a server answers a library error code: ``(http, case)``. Lossy on purpose where SNAP has
#: one case for several of ours: ``host.lapsed`` shares 404 12 ("invalid bill / VA: not found,
#: blocked") with ``host.customer_not_found``, and comes back as the latter (the inquiry's
#: ``inquiryReason`` can say more); an expired or over-tried OTP is 403 12 (403 11 "OTP blocked"
#: reads back as the same ``host.otp_expired``); ``auth.timestamp`` is 401 00 like a bad
#: signature; refusals SNAP has no word for (``host.already_registered``,
#: ``host.autodebit_unpaid``, ``host.reversal_refused``) are 403 15 "not permitted", told apart
#: by the service code on the extension services 90/91.
HOST_ANSWERS: Mapping[str, tuple[int, str]] = MappingProxyType(
    {
        "host.customer_not_found": (404, "12"),
        "host.lapsed": (404, "12"),
        "host.amount_mismatch": (404, "13"),
        "host.bill_paid": (404, "14"),
        "host.conflict": (404, "18"),
        "host.mandate_conflict": (404, "18"),
        "host.bill_expired": (404, "19"),
        "host.not_found": (404, "01"),
        "host.otp_invalid": (404, "15"),
        "host.otp_expired": (403, "12"),
        "host.limit_exceeded": (403, "02"),
        "host.cutoff": (403, "06"),
        "host.rejected": (403, "05"),
        "host.already_registered": (403, "15"),
        "host.autodebit_unpaid": (403, "15"),
        "host.reversal_refused": (403, "15"),
        "host.busy": (429, "00"),
        "host.error": (500, "01"),
        "auth.signature": (401, "00"),
        "auth.timestamp": (401, "00"),
        "auth.token": (401, "01"),
        "message.malformed": (400, "00"),
        "message.too_large": (400, "00"),
    }
)
_ANYTHING_ELSE = (500, "01")


def code_for(host_error_code: str, service: str) -> str:
    """The SNAP ``responseCode`` a server answers a library error code with.

    ``code_for("host.customer_not_found", "24") == "4042412"``. A code with no SNAP case is
    ``500xx01`` (internal server error). ``service`` must be two digits.
    """
    http, case = HOST_ANSWERS.get(host_error_code, _ANYTHING_ELSE)
    return ResponseCode(http, str(service), case).format()


def answer_for(error: JamsostekError, service: str) -> tuple[str, str]:
    """``(responseCode, responseMessage)`` for a server to answer ``error`` with.

    A :class:`SnapFieldError` keeps its case and field (``4002502``, ``Invalid Mandatory Field
    paidAmount``); any other error goes through :func:`code_for`.
    """
    if isinstance(error, SnapFieldError):
        return error.response_code(str(service)), error.response_message
    code = ResponseCode.parse(code_for(error.code, service))
    return code.format(), case_for(code, service).meaning_en
