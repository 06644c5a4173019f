"""SNAP bodies outside the virtual-account services: the B2B access token (the standard's) and
the project-defined BPU extensions, secured exactly like SNAP transaction calls.

SNAP has no service for registering a BPU worker, for auto-debit mandates, for a participant's
payment history or for a day's settlement, so this project defines them (documented with full
examples in ``docs/channels/snap.md`` and described by ``schemas/snap-extensions.schema.json``):

==========================================  =====  ===============================================
path                                        code   what
==========================================  =====  ===============================================
``/v1.0/access-token/b2b``                  73     token (standard)
``/v1.0/bpu/registration``                  90     register a worker: an OTP goes to their phone
``/v1.0/bpu/registration/confirm``          90     confirm with the OTP: the KPJ comes back
``/v1.0/bpu/auto-debit/enrol``              91     a monthly auto-debit mandate
``/v1.0/bpu/auto-debit/cancel``             91     cancel it
``/v1.0/bpu/history``                       92     a participant's paid months
``/v1.0/bpu/settlement``                    93     a channel's payments on one day
==========================================  =====  ===============================================

Like :mod:`.codec`, one module serves both sides: every body has an encoder producing exact
bytes and a strict decoder that raises only
:class:`~jamsostek_channels.adapters.snap.errors.SnapFieldError`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from jamsostek_channels.adapters.snap._reader import Reader
from jamsostek_channels.adapters.snap.codes import ResponseCode
from jamsostek_channels.adapters.snap.errors import SnapFieldError
from jamsostek_channels.adapters.snap.security import format_timestamp, parse_timestamp
from jamsostek_channels.channel import (
    AutoDebitMandate,
    CustomerId,
    HistoryEntry,
    OtpChallenge,
    Registration,
    SettlementRecord,
    SettlementState,
)
from jamsostek_channels.errors import JamsostekError, MalformedMessage
from jamsostek_channels.model import Payer, PayerKind, Program
from jamsostek_channels.period import YearMonth

__all__ = [
    "AUTODEBIT_CANCEL_PATH",
    "AUTODEBIT_ENROL_PATH",
    "HISTORY_PATH",
    "REGISTRATION_CONFIRM_PATH",
    "REGISTRATION_PATH",
    "SETTLEMENT_PATH",
    "TOKEN_GRANT",
    "Answer",
    "decode_answer",
    "decode_autodebit_cancel",
    "decode_autodebit_enrol",
    "decode_history_request",
    "decode_mandate",
    "decode_registration_confirm",
    "decode_registration_request",
    "decode_settlement_request",
    "decode_token_request",
    "encode_answer",
    "encode_autodebit_cancel",
    "encode_autodebit_enrol",
    "encode_history_request",
    "encode_registration_confirm",
    "encode_registration_request",
    "encode_settlement_request",
    "encode_token_request",
    "read_challenge",
    "read_history",
    "read_mandate",
    "read_registration",
    "read_settlement",
    "read_token",
    "write_challenge",
    "write_history",
    "write_mandate",
    "write_registration",
    "write_settlement",
    "write_token",
]

REGISTRATION_PATH = "/v1.0/bpu/registration"
REGISTRATION_CONFIRM_PATH = "/v1.0/bpu/registration/confirm"
AUTODEBIT_ENROL_PATH = "/v1.0/bpu/auto-debit/enrol"
AUTODEBIT_CANCEL_PATH = "/v1.0/bpu/auto-debit/cancel"
HISTORY_PATH = "/v1.0/bpu/history"
SETTLEMENT_PATH = "/v1.0/bpu/settlement"
TOKEN_GRANT = "client_credentials"  # noqa: S105 - the OAuth grant type, not a secret

_REFERENCE_MAX = 64
_ID_MAX = 64
_TEXT_MAX = 255
_OTP = re.compile(r"[0-9]{4,8}", re.ASCII)
_DIGITS = re.compile(r"[0-9]{1,20}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}", re.ASCII)
_LIST_MAX = 10_000


def _dump(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _month(reader: Reader, key: str) -> YearMonth:
    text = reader.text(key, max_length=7, pattern=_MONTH)
    try:
        return YearMonth.parse(text)
    except ValueError:
        reader.invalid(key)


def _date(reader: Reader, key: str) -> dt.date:
    text = reader.text(key, max_length=10, pattern=_DATE)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        reader.invalid(key)


def _time(reader: Reader, key: str) -> dt.datetime:
    text = reader.text(key, max_length=40)
    try:
        return parse_timestamp(text)
    except JamsostekError:
        reader.invalid(key)


def _amount(reader: Reader, key: str) -> int:
    from jamsostek_channels.adapters.snap.codec import decode_amount

    try:
        return decode_amount(reader.value(key), reader.where(key))
    except JamsostekError:
        reader.invalid(key)


def _programs(reader: Reader, key: str) -> tuple[Program, ...]:
    found = []
    for path, value in reader.items(key, max_items=len(Program)):
        if not isinstance(value, str) or value not in Program._value2member_map_:
            raise SnapFieldError("01", path)
        found.append(Program(value))
    return tuple(found)


def _payer_json(payer: Payer) -> dict[str, object]:
    return {
        k: v
        for k, v in (
            ("kind", payer.kind.value),
            ("name", payer.name),
            ("scheme", payer.scheme),
            ("reference", payer.reference),
        )
        if v
    }


def _payer(reader: Reader, key: str) -> Payer:
    child = reader.opt_child(key)
    if child is None:
        return Payer.self_paid()
    kind = child.text("kind", max_length=20)
    if kind not in PayerKind._value2member_map_:
        child.invalid("kind")
    try:
        return Payer(
            PayerKind(kind),
            name=child.opt_text("name", max_length=100),
            scheme=child.opt_text("scheme", max_length=8),
            reference=child.opt_text("reference", max_length=_REFERENCE_MAX),
        )
    except JamsostekError:
        child.invalid("scheme")


# -- the answer envelope: responseCode + responseMessage + fields -----------------------------


class Answer:
    """A decoded answer: its ``responseCode``, ``responseMessage`` and a reader of the rest."""

    __slots__ = ("code", "message", "reader")

    def __init__(self, code: ResponseCode, message: str, reader: Reader) -> None:
        self.code = code
        self.message = message
        self.reader = reader


def encode_answer(response_code: str, response_message: str, fields: Mapping[str, object]) -> bytes:
    return _dump({"responseCode": response_code, "responseMessage": response_message, **fields})


def decode_answer(body: bytes) -> Answer:
    reader = Reader.load(body)
    text = reader.text("responseCode", max_length=7)
    try:
        code = ResponseCode.parse(text)
    except (ValueError, JamsostekError):
        reader.invalid("responseCode")
    message = reader.opt_text("responseMessage", max_length=150) or ""
    return Answer(code, message, reader)


# -- token (service 73, the standard's) --------------------------------------------------------


def encode_token_request() -> bytes:
    return _dump({"grantType": TOKEN_GRANT, "additionalInfo": {}})


def decode_token_request(body: bytes) -> str:
    """The grant type asked for (the biller accepts only ``client_credentials``)."""
    return Reader.load(body).text("grantType", max_length=32)


def write_token(access_token: str, expires_in: int) -> dict[str, object]:
    return {
        "accessToken": access_token,
        "tokenType": "Bearer",
        "expiresIn": str(expires_in),
        "additionalInfo": {},
    }


def read_token(answer: Answer) -> tuple[str, int]:
    """``(accessToken, expiresIn seconds)`` of a successful token answer."""
    reader = answer.reader
    token = reader.text("accessToken", max_length=2048)
    expires = reader.value("expiresIn")
    if isinstance(expires, str) and expires.isascii() and expires.isdigit():
        seconds = int(expires)
    elif isinstance(expires, int) and not isinstance(expires, bool):
        seconds = expires
    else:
        reader.invalid("expiresIn")
    if not 1 <= seconds <= 86_400:
        reader.invalid("expiresIn")
    return token, seconds


# -- registration (service 90) ---------------------------------------------------------------------


def encode_registration_request(
    reference: str, participant: Mapping[str, Any], payer: Payer, agent_id: str | None
) -> bytes:
    """``participant`` is the canonical JSON form (``converters.unstructure``)."""
    body: dict[str, object] = {
        "partnerReferenceNo": reference,
        "participant": dict(participant),
        "registeredBy": _payer_json(payer),
    }
    body["additionalInfo"] = {"agentId": agent_id} if agent_id else {}
    return _dump(body)


def decode_registration_request(body: bytes) -> tuple[str, dict[str, object], Payer]:
    """``(reference, participant as canonical JSON, payer)``. The participant's content is
    checked by the host's rules, not here: this only checks the envelope."""
    reader = Reader.load(body)
    reference = reader.text("partnerReferenceNo", max_length=_REFERENCE_MAX)
    participant = reader.value("participant")
    if not isinstance(participant, dict):
        reader.invalid("participant")
    return reference, participant, _payer(reader, "registeredBy")


def write_challenge(challenge: OtpChallenge) -> dict[str, object]:
    return {
        "partnerReferenceNo": challenge.reference,
        "challengeId": challenge.challenge_id,
        "phoneMasked": challenge.phone_masked,
        "expiresAt": format_timestamp(challenge.expires_at),
    }


def read_challenge(answer: Answer) -> OtpChallenge:
    reader = answer.reader
    return OtpChallenge(
        reference=reader.text("partnerReferenceNo", max_length=_REFERENCE_MAX),
        challenge_id=reader.text("challengeId", max_length=_ID_MAX),
        phone_masked=reader.text("phoneMasked", max_length=20),
        expires_at=_time(reader, "expiresAt"),
    )


def encode_registration_confirm(reference: str, challenge_id: str, otp: str) -> bytes:
    return _dump({"partnerReferenceNo": reference, "challengeId": challenge_id, "otp": otp})


def decode_registration_confirm(body: bytes) -> tuple[str, str, str]:
    """``(reference, challengeId, otp)``."""
    reader = Reader.load(body)
    return (
        reader.text("partnerReferenceNo", max_length=_REFERENCE_MAX),
        reader.text("challengeId", max_length=_ID_MAX),
        reader.text("otp", max_length=8, pattern=_OTP),
    )


def write_registration(registration: Registration) -> dict[str, object]:
    return {
        "partnerReferenceNo": registration.reference,
        "kpj": registration.kpj,
        "nikMasked": registration.nik_masked,
        "name": registration.name,
        "registeredFrom": str(registration.registered),
        "programs": [p.value for p in registration.programs],
    }


def read_registration(answer: Answer) -> Registration:
    reader = answer.reader
    return Registration(
        reference=reader.text("partnerReferenceNo", max_length=_REFERENCE_MAX),
        kpj=reader.text("kpj", max_length=20, pattern=_DIGITS),
        nik_masked=reader.text("nikMasked", max_length=20),
        name=reader.text("name", max_length=_TEXT_MAX),
        registered=_month(reader, "registeredFrom"),
        programs=_programs(reader, "programs"),
    )


# -- auto-debit (service 91) ----------------------------------------------------------------------


def encode_autodebit_enrol(
    customer: CustomerId, months: int, payer: Payer, reference: str
) -> bytes:
    """``partnerReferenceNo`` is the idempotency key: the host keys mandates by it, so the same
    enrolment sent again (after a lost answer) returns the mandate it made, never a second one."""
    return _dump(
        {
            "partnerReferenceNo": reference,
            "customerNo": customer.value,
            "months": months,
            "payer": _payer_json(payer),
        }
    )


def decode_autodebit_enrol(body: bytes) -> tuple[str, CustomerId, int, Payer]:
    """``(reference, customer, months, payer)``."""
    reader = Reader.load(body)
    reference = reader.text("partnerReferenceNo", max_length=_REFERENCE_MAX)
    customer = _customer(reader, "customerNo")
    return reference, customer, reader.integer("months", low=1, high=12), _payer(reader, "payer")


def encode_autodebit_cancel(mandate_id: str, reference: str) -> bytes:
    return _dump({"partnerReferenceNo": reference, "mandateId": mandate_id})


def decode_autodebit_cancel(body: bytes) -> tuple[str, str]:
    """``(reference, mandate id)``."""
    reader = Reader.load(body)
    reference = reader.text("partnerReferenceNo", max_length=_REFERENCE_MAX)
    return reference, reader.text("mandateId", max_length=_ID_MAX)


def write_mandate(mandate: AutoDebitMandate, reference: str) -> dict[str, object]:
    """The answer to an enrolment or a cancellation: ``reference`` is the request's
    ``partnerReferenceNo``, echoed."""
    return {
        "partnerReferenceNo": reference,
        "mandateId": mandate.mandate_id,
        "customerNo": mandate.customer.value,
        "months": mandate.months,
        "payer": _payer_json(mandate.payer),
        "active": mandate.active,
        "nextRun": mandate.next_run.isoformat() if mandate.next_run else None,
    }


def read_mandate(answer: Answer, reference: str) -> AutoDebitMandate:
    """The mandate in an answer to the request sent under ``reference``: an answer that does
    not echo it is not the answer to that request (:class:`MalformedMessage`)."""
    reader = answer.reader
    if reader.text("partnerReferenceNo", max_length=_REFERENCE_MAX) != reference:
        raise MalformedMessage("message.malformed", {"reason": "partnerReferenceNo not echoed"})
    return decode_mandate(reader)


def decode_mandate(reader: Reader) -> AutoDebitMandate:
    active = reader.value("active")
    if not isinstance(active, bool):
        reader.invalid("active")
    return AutoDebitMandate(
        mandate_id=reader.text("mandateId", max_length=_ID_MAX),
        customer=_customer(reader, "customerNo"),
        months=reader.integer("months", low=1, high=12),
        payer=_payer(reader, "payer"),
        active=active,
        next_run=_date(reader, "nextRun") if reader.present("nextRun") else None,
    )


def _customer(reader: Reader, key: str) -> CustomerId:
    text = reader.text(key, max_length=20, pattern=_DIGITS)
    try:
        return CustomerId.parse(text, reader.where(key))
    except JamsostekError:
        reader.invalid(key)


# -- history (service 92) and settlement (service 93) ----------------------------------------------


def encode_history_request(customer: CustomerId) -> bytes:
    return _dump({"customerNo": customer.value})


def decode_history_request(body: bytes) -> CustomerId:
    return _customer(Reader.load(body), "customerNo")


def write_history(entries: tuple[HistoryEntry, ...]) -> dict[str, object]:
    from jamsostek_channels.adapters.snap.codec import encode_amount

    return {
        "entries": [
            {
                "period": str(e.period),
                "amount": encode_amount(e.amount),
                "paidAt": format_timestamp(e.paid_at),
                "channel": e.channel,
                "referenceNo": e.reference,
            }
            for e in entries
        ]
    }


def read_history(answer: Answer) -> tuple[HistoryEntry, ...]:
    return tuple(
        HistoryEntry(
            period=_month(child, "period"),
            amount=_amount(child, "amount"),
            paid_at=_time(child, "paidAt"),
            channel=child.text("channel", max_length=_ID_MAX),
            reference=child.text("referenceNo", max_length=_REFERENCE_MAX),
        )
        for child in answer.reader.children("entries", max_items=_LIST_MAX)
    )


def encode_settlement_request(day: dt.date) -> bytes:
    return _dump({"date": day.isoformat()})


def decode_settlement_request(body: bytes) -> dt.date:
    return _date(Reader.load(body), "date")


def write_settlement(records: tuple[SettlementRecord, ...]) -> dict[str, object]:
    from jamsostek_channels.adapters.snap.codec import encode_amount

    return {
        "records": [
            {
                "referenceNo": r.reference,
                "billerReferenceId": r.host_reference,
                "nikMasked": r.nik_masked,
                "periods": [str(p) for p in r.periods],
                "amount": encode_amount(r.amount),
                "feeAmount": encode_amount(r.admin_fee),
                "paidAt": format_timestamp(r.paid_at),
                "state": r.state.value,
            }
            for r in records
        ]
    }


def read_settlement(answer: Answer, channel: str) -> tuple[SettlementRecord, ...]:
    records = []
    for child in answer.reader.children("records", max_items=_LIST_MAX):
        state = child.text("state", max_length=10)
        if state not in SettlementState._value2member_map_:
            child.invalid("state")
        periods = []
        for path, value in child.items("periods", max_items=12):
            try:
                periods.append(YearMonth.parse(value if isinstance(value, str) else ""))
            except ValueError:
                raise SnapFieldError("01", path) from None
        records.append(
            SettlementRecord(
                channel=channel,
                reference=child.text("referenceNo", max_length=_REFERENCE_MAX),
                host_reference=child.text("billerReferenceId", max_length=_REFERENCE_MAX),
                nik_masked=child.text("nikMasked", max_length=20),
                periods=tuple(periods),
                amount=_amount(child, "amount"),
                admin_fee=_amount(child, "feeAmount"),
                paid_at=_time(child, "paidAt"),
                state=SettlementState(state),
            )
        )
    return tuple(records)
