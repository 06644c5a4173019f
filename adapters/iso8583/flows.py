"""The BPU flows' DE48 items: how an inquiry, a payment and their answers ride in ISO 8583.

Both sides use this module (the adapter as terminal, the fake switch as host), so they cannot
disagree. Beside the common tags (:class:`~.tlv.PrivateData`: ``PI``, ``CN``, ``NM``, ``AT``,
``AC``, ``MC``, ``FP``, ``PG``, ``DN``, ``DA``) the flows carry the project's own items, in
:attr:`PrivateData.other`:

====  ==========================================================================================
tag   meaning
====  ==========================================================================================
FR    the channel's payment reference (the journal's idempotency key; 1-64 of ``A-Z a-z 0-9 -
      _ .``): in a payment, its advices and reversals. The host keys a payment by it, so a
      repeat, an advice or a reversal after a restart names the same payment
IQ    the host's inquiry id: in the inquiry's answer, and in the payment that follows it
C1    the participant's KPJ (customer reference 1), in the inquiry's answer
ST    coverage state (``active``, ``due``, ``in-arrears``), in the inquiry's answer
MA    each month's amount, oldest first, comma-separated whole rupiah (``18150,18150``)
PK    who pays (``self``, ``sertakan``, ``csr``, ``credit-union``, ``apbd``, ``apbn``,
      ``apbdes``): the host prices by it (a budget-funded payer gets no PP 50/2025 discount)
PS    the donor's scheme code, with ``PK`` ``csr`` only
HR    the host's payment reference, in a payment's or an advice's answer
PT    when the host applied the payment, ``YYYYMMDDhhmmss`` UTC
====  ==========================================================================================

Registration (BRILink only: 0200 under the profile's ``registration`` and ``registration_confirm``
processing codes) adds its own (text marked *escaped* is UTF-8 with ``%``, ``,`` and anything
outside printable ASCII written ``%XX``; a value longer than 99 characters continues in the next
item with the same tag, the values joined in order):

====  ==========================================================================================
tag   meaning
====  ==========================================================================================
RF    the channel's registration reference (the host keys the registration by it)
WN    the worker's name, *escaped*
WB    birth date ``YYYYMMDD``
WS    sex: ``M`` or ``F``
WP    mobile phone, as the participant holds it (``+628...``)
WE    e-mail, *escaped* (absent: none)
WA    address, *escaped*
WZ    postal code (5 digits)
WO    occupation codes, each *escaped*, comma-separated
WI    monthly income, whole rupiah
WK    an earlier KPJ the worker holds (absent: none)
YN    the sponsor's name, *escaped*, when ``PK`` is not ``self`` (a SERTAKAN sponsor)
YR    the sponsor's own reference, *escaped*
OI    the host's OTP challenge id: in the registration's answer and in the confirmation
OM    the worker's phone, masked, in the registration's answer
OX    when the OTP expires, ``YYYYMMDDhhmmss`` UTC, in the registration's answer
OT    the OTP the worker received, in the confirmation only
RG    the first month of membership ``YYYYMM``, in the confirmation's answer (with ``C1`` the
      KPJ, ``CN`` the masked NIK, ``WN`` the name, ``PG`` the programs)
====  ==========================================================================================

The RRN (DE37) of a payment and of its advices and reversals is :func:`rrn_of` its reference:
twelve hex digits, the same after a restart, so a switch's own logs tie them together.

DE57 of an approved payment's or advice's answer (:func:`receipt_lines`, read back by
:func:`with_host_lines`) carries the switch's screen lines and its receipt lines, each at most
:data:`RECEIPT_COLUMNS` characters, so a terminal prints them as they are at any of its widths.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import string
import textwrap
import urllib.parse
from collections.abc import Iterable, Mapping

import attrs

from jamsostek_channels import redact
from jamsostek_channels.adapters.iso8583.tlv import Lines, PrivateData
from jamsostek_channels.channel import (
    Bill,
    CustomerId,
    Inquiry,
    OtpChallenge,
    OtpConfirmation,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    Registration,
    RegistrationRequest,
)
from jamsostek_channels.errors import InvalidInput, MalformedMessage
from jamsostek_channels.model import CoverageState, Participant, Payer, PayerKind, Sex
from jamsostek_channels.period import YearMonth, month_range

__all__ = [
    "CHALLENGE_ID",
    "COVERAGE",
    "HOST_REFERENCE",
    "INQUIRY_ID",
    "KPJ",
    "MONTH_AMOUNTS",
    "OTP",
    "PAID_AT",
    "PAYER_KIND",
    "PAYER_SCHEME",
    "PAYMENT_REFERENCE",
    "RECEIPT_COLUMNS",
    "REGISTRATION_REFERENCE",
    "challenge_data",
    "challenge_of",
    "confirmation_data",
    "confirmation_of",
    "inquiry_answer",
    "inquiry_of",
    "inquiry_question",
    "payer_of",
    "payment_data",
    "payment_of",
    "receipt_lines",
    "reference_of",
    "registration_answer",
    "registration_data",
    "registration_of",
    "registration_result_of",
    "result_data",
    "result_of",
    "rrn_of",
    "with_host_lines",
]

PAYMENT_REFERENCE = "FR"
INQUIRY_ID = "IQ"
KPJ = "C1"
COVERAGE = "ST"
MONTH_AMOUNTS = "MA"
PAYER_KIND = "PK"
PAYER_SCHEME = "PS"
HOST_REFERENCE = "HR"
PAID_AT = "PT"

_PAID_AT_FORMAT = "%Y%m%d%H%M%S"


def _malformed(reason: str) -> MalformedMessage:
    return MalformedMessage("message.malformed", {"reason": reason})


def rrn_of(reference: str) -> str:
    """DE37 of a payment and of everything that names it: 12 upper-case hex digits of the
    reference's SHA-256 (the reference itself may be longer than DE37)."""
    return hashlib.sha256(reference.encode("ascii")).hexdigest()[:12].upper()


def _items(data: PrivateData) -> Mapping[str, str]:
    return dict(data.other)


def _required(items: Mapping[str, str], tag: str) -> str:
    value = items.get(tag)
    if not value:
        raise _malformed(f"DE48 {tag} missing")
    return value


def reference_of(data: PrivateData) -> str:
    """The payment reference (``FR``) a payment, advice or reversal names."""
    return _required(_items(data), PAYMENT_REFERENCE)


def _periods(data: PrivateData) -> tuple[YearMonth, ...]:
    if data.first_period is None or data.months is None:
        raise _malformed("DE48 FP and MC missing")
    return tuple(month_range(data.first_period, data.months))


def _payer_items(payer: Payer) -> list[tuple[str, str]]:
    items = [(PAYER_KIND, payer.kind.value)]
    if payer.scheme is not None:
        items.append((PAYER_SCHEME, payer.scheme))
    return items


def payer_of(data: PrivateData) -> Payer:
    """Who pays, as DE48 ``PK``/``PS`` say (the worker when they say nothing)."""
    items = _items(data)
    try:
        return Payer(PayerKind(items.get(PAYER_KIND, "self")), scheme=items.get(PAYER_SCHEME))
    except ValueError:
        raise _malformed("DE48 PK is not a payer kind") from None


# --- the inquiry ------------------------------------------------------------------------------


def inquiry_question(
    product: str, customer: CustomerId, months: int, payer: Payer | None
) -> PrivateData:
    """DE48 of an inquiry: what ``months`` months cost ``customer`` when ``payer`` pays."""
    other = _payer_items(payer) if payer is not None else []
    return PrivateData(product=product, customer=customer.value, months=months, other=other)


def inquiry_answer(product: str, inquiry: Inquiry) -> PrivateData:
    """DE48 of an inquiry's approved answer (the switch's side)."""
    return PrivateData(
        product=product,
        customer=inquiry.customer.value,
        name=inquiry.name_masked,
        amount=inquiry.amount,
        months=len(inquiry.bills),
        first_period=inquiry.bills[0].period,
        programs=inquiry.programs,
        discount_name=next((b.discount for b in inquiry.bills if b.discount), None),
        other=[
            (INQUIRY_ID, inquiry.inquiry_id),
            (KPJ, inquiry.kpj),
            (COVERAGE, inquiry.state.value),
            (MONTH_AMOUNTS, ",".join(str(bill.amount) for bill in inquiry.bills)),
        ],
    )


def inquiry_of(data: PrivateData, customer: CustomerId) -> Inquiry:
    """The :class:`Inquiry` an approved answer's DE48 states (``admin_fee`` 0: the client adds
    the channel's)."""
    items = _items(data)  # once: four items are read from it
    periods = _periods(data)
    amounts_text = _required(items, MONTH_AMOUNTS).split(",")
    if len(amounts_text) != len(periods) or not all(a.isdigit() for a in amounts_text):
        raise _malformed("DE48 MA does not give one amount per month")
    amounts = [int(text) for text in amounts_text]
    if data.amount != sum(amounts):
        raise _malformed("DE48 AT is not the sum of MA")
    try:
        state = CoverageState(_required(items, COVERAGE))
    except ValueError:
        raise _malformed("DE48 ST is not a coverage state") from None
    return Inquiry(
        customer=customer,
        inquiry_id=_required(items, INQUIRY_ID),
        kpj=_required(items, KPJ),
        name_masked=redact.name(data.name or ""),
        programs=data.programs,
        state=state,
        bills=tuple(
            Bill(period=period, amount=amount, discount=data.discount_name)
            for period, amount in zip(periods, amounts, strict=True)
        ),
        amount=sum(amounts),
        admin_fee=0,
    )


# --- the payment ------------------------------------------------------------------------------


def payment_data(product: str, request: PaymentRequest) -> PrivateData:
    """DE48 of a payment, and of its advices and reversals."""
    other = [(PAYMENT_REFERENCE, request.reference)]
    if request.inquiry_id is not None:
        other.append((INQUIRY_ID, request.inquiry_id))
    return PrivateData(
        product=product,
        customer=request.customer.value,
        amount=request.amount,
        admin_fee=request.admin_fee,
        months=len(request.periods),
        first_period=request.periods[0],
        other=[*other, *_payer_items(request.payer)],
    )


def payment_of(
    data: PrivateData, *, amount: int, at: dt.datetime, agent_id: str | None
) -> PaymentRequest:
    """The payment a 0200 or 0220 states (the switch's side); ``amount`` is DE4, which must
    agree with ``AT``."""
    if data.customer is None:
        raise _malformed("DE48 CN missing")
    if data.amount is not None and data.amount != amount:
        raise _malformed("DE4 and DE48 AT disagree")
    try:
        customer = CustomerId.parse(data.customer, field="CN")
    except InvalidInput:  # the NIK or KPJ is not one
        raise _malformed("DE48 CN is not a NIK or KPJ") from None
    return PaymentRequest(
        reference=reference_of(data),
        customer=customer,
        periods=_periods(data),
        amount=amount,
        admin_fee=data.admin_fee or 0,
        payer=payer_of(data),
        inquiry_id=_items(data).get(INQUIRY_ID),
        requested_at=at,
        agent_id=agent_id,
    )


def result_data(product: str, result: PaymentResult) -> PrivateData:
    """DE48 of an approved payment's or advice's answer: the host's reference and time."""
    other = []
    if result.host_reference:
        other.append((HOST_REFERENCE, result.host_reference))
    if result.paid_at is not None:
        other.append((PAID_AT, result.paid_at.astimezone(dt.UTC).strftime(_PAID_AT_FORMAT)))
    first = result.periods[0] if result.periods else None
    return PrivateData(
        product=product,
        amount=result.amount,
        months=len(result.periods) or None,
        first_period=first,
        other=[(PAYMENT_REFERENCE, result.reference), *other],
    )


def _paid_at(text: str) -> dt.datetime:
    """DE48 ``PT`` read: exactly ``YYYYMMDDhhmmss`` (UTC). By hand: ``strptime`` took longer
    than the rest of reading the answer's DE48."""
    if not (len(text) == 14 and text.isascii() and text.isdigit()):
        raise _malformed("DE48 PT is not YYYYMMDDhhmmss")
    try:
        return dt.datetime(
            int(text[:4]), int(text[4:6]), int(text[6:8]),
            int(text[8:10]), int(text[10:12]), int(text[12:]), tzinfo=dt.UTC,
        )  # fmt: skip
    except ValueError:
        raise _malformed("DE48 PT is not YYYYMMDDhhmmss") from None


def result_of(data: PrivateData, reference: str, host_code: str) -> PaymentResult:
    """The APPLIED result an approved answer's DE48 states."""
    items = _items(data)
    paid_at = _paid_at(items[PAID_AT]) if PAID_AT in items else None
    periods = _periods(data) if data.first_period and data.months else ()
    return PaymentResult(
        reference=reference,
        state=PaymentState.APPLIED,
        host_reference=items.get(HOST_REFERENCE),
        periods=periods,
        amount=data.amount or 0,
        paid_at=paid_at,
        host_code=host_code,
    )


# --- registration (BRILink: the project's 0200 under ``registration`` / ``registration_confirm``)

REGISTRATION_REFERENCE = "RF"
_WORKER_NAME = "WN"
_BIRTH_DATE = "WB"
_SEX = "WS"
_PHONE = "WP"
_EMAIL = "WE"
_ADDRESS = "WA"
_POSTAL_CODE = "WZ"
_OCCUPATIONS = "WO"
_INCOME = "WI"
_EARLIER_KPJ = "WK"
_SPONSOR_NAME = "YN"
_SPONSOR_REFERENCE = "YR"
CHALLENGE_ID = "OI"
_PHONE_MASKED = "OM"
_OTP_EXPIRES = "OX"
OTP = "OT"
_REGISTERED = "RG"

#: Tags whose value may continue over several items (joined in order).
_CONTINUED = frozenset({_WORKER_NAME, _EMAIL, _ADDRESS, _OCCUPATIONS, _SPONSOR_NAME,
                       _SPONSOR_REFERENCE})  # fmt: skip
_ITEM_WIDTH = 99
#: Printable ASCII written as is: all of it but ``%`` (the escape) and ``,`` (the separator).
_PLAIN = "".join(c for c in string.printable if c.isprintable() and c not in "%,")
_SEXES = {Sex.MALE: "M", Sex.FEMALE: "F"}
_DATE_FORMAT = "%Y%m%d"


def _escape(text: str) -> str:
    return urllib.parse.quote(text, safe=_PLAIN, encoding="utf-8", errors="strict")


def _unescape(tag: str, text: str) -> str:
    if any(c == "%" and not _is_escape(text[at : at + 3]) for at, c in enumerate(text)):
        raise _malformed(f"DE48 {tag}: a % that is not %XX")
    try:
        return urllib.parse.unquote(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise _malformed(f"DE48 {tag}: not UTF-8 once unescaped") from None


def _is_escape(text: str) -> bool:
    return len(text) == 3 and all(c in string.hexdigits for c in text[1:])


def _long(tag: str, value: str) -> list[tuple[str, str]]:
    """``value`` as items of ``tag``, at most 99 characters each (one item when it fits)."""
    pieces = [value[at : at + _ITEM_WIDTH] for at in range(0, len(value), _ITEM_WIDTH)]
    return [(tag, piece) for piece in pieces or [""]]


def _joined(data: PrivateData, tag: str) -> str | None:
    """A value that may continue over several items of ``tag`` (``None``: no item)."""
    pieces = [value for item_tag, value in data.other if item_tag == tag]
    return "".join(pieces) if pieces else None


def _single(data: PrivateData, tag: str) -> str | None:
    """An item that appears at most once (``None``: absent)."""
    values = [value for item_tag, value in data.other if item_tag == tag]
    if len(values) > 1:
        raise _malformed(f"DE48 {tag} twice")
    return values[0] if values else None


def _needed(data: PrivateData, tag: str) -> str:
    value = _joined(data, tag) if tag in _CONTINUED else _single(data, tag)
    if not value:
        raise _malformed(f"DE48 {tag} missing")
    return value


def _time_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_PAID_AT_FORMAT)


def _time_of(data: PrivateData, tag: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(_needed(data, tag), _PAID_AT_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        raise _malformed(f"DE48 {tag} is not YYYYMMDDhhmmss") from None


def _sponsor_items(payer: Payer) -> list[tuple[str, str]]:
    items = _payer_items(payer)
    if payer.name is not None:
        items += _long(_SPONSOR_NAME, _escape(payer.name))
    if payer.reference is not None:
        items += _long(_SPONSOR_REFERENCE, _escape(payer.reference))
    return items


def registration_data(product: str, request: RegistrationRequest) -> PrivateData:
    """DE48 of a registration (0200, ``registration``): the worker and who registers them."""
    person = request.participant
    other: list[tuple[str, str]] = [
        (REGISTRATION_REFERENCE, request.reference),
        *_long(_WORKER_NAME, _escape(person.name)),
        (_BIRTH_DATE, person.birth_date.strftime(_DATE_FORMAT)),
        (_SEX, _SEXES[person.sex]),
        (_PHONE, person.phone),
    ]
    if person.email is not None:
        other += _long(_EMAIL, _escape(person.email))
    other += [
        *_long(_ADDRESS, _escape(person.address)),
        (_POSTAL_CODE, person.postal_code),
        *_long(_OCCUPATIONS, ",".join(_escape(code) for code in person.occupations)),
        (_INCOME, str(person.income)),
    ]
    if person.kpj is not None:
        other.append((_EARLIER_KPJ, person.kpj))
    return PrivateData(
        product=product,
        customer=person.nik,
        programs=person.programs,
        other=[*other, *_sponsor_items(request.payer)],
    )


def _sponsor_of(data: PrivateData) -> Payer:
    payer = payer_of(data)
    name, reference = _joined(data, _SPONSOR_NAME), _joined(data, _SPONSOR_REFERENCE)
    try:
        return Payer(
            payer.kind,
            name=None if name is None else _unescape(_SPONSOR_NAME, name),
            scheme=payer.scheme,
            reference=None if reference is None else _unescape(_SPONSOR_REFERENCE, reference),
        )
    except InvalidInput:  # a scheme with a payer other than a donor
        raise _malformed("DE48 PS with a PK other than csr") from None


def _occupations(text: str) -> Iterable[str]:
    return tuple(_unescape(_OCCUPATIONS, code) for code in text.split(","))


def registration_of(
    data: PrivateData, *, at: dt.datetime, agent_id: str | None
) -> RegistrationRequest:
    """The registration a 0200 ``registration`` states (the switch's side).

    :class:`MalformedMessage` when an item is missing or misspelt; :class:`InvalidInput` (from
    :class:`~jamsostek_channels.model.Participant`) when the worker's values are not valid."""
    if data.customer is None:
        raise _malformed("DE48 CN missing")
    sexes = {text: sex for sex, text in _SEXES.items()}
    sex = sexes.get(_needed(data, _SEX))
    if sex is None:
        raise _malformed("DE48 WS is not M or F")
    try:
        birth_date = dt.datetime.strptime(_needed(data, _BIRTH_DATE), _DATE_FORMAT).date()
    except ValueError:
        raise _malformed("DE48 WB is not YYYYMMDD") from None
    income = _needed(data, _INCOME)
    if not (income.isascii() and income.isdigit()):
        raise _malformed("DE48 WI is not whole rupiah")
    email = _joined(data, _EMAIL)
    participant = Participant(
        nik=data.customer,
        name=_unescape(_WORKER_NAME, _needed(data, _WORKER_NAME)),
        birth_date=birth_date,
        sex=sex,
        phone=_needed(data, _PHONE),
        email=None if email is None else _unescape(_EMAIL, email),
        address=_unescape(_ADDRESS, _needed(data, _ADDRESS)),
        postal_code=_needed(data, _POSTAL_CODE),
        occupations=_occupations(_needed(data, _OCCUPATIONS)),
        income=int(income),
        programs=data.programs,
        kpj=_single(data, _EARLIER_KPJ),
    )
    return RegistrationRequest(
        reference=_needed(data, REGISTRATION_REFERENCE),
        participant=participant,
        payer=_sponsor_of(data),
        requested_at=at,
        agent_id=agent_id,
    )


def challenge_data(product: str, challenge: OtpChallenge) -> PrivateData:
    """DE48 of a registration's approved answer: the OTP is on its way to the worker."""
    return PrivateData(
        product=product,
        other=[
            (REGISTRATION_REFERENCE, challenge.reference),
            (CHALLENGE_ID, challenge.challenge_id),
            (_PHONE_MASKED, challenge.phone_masked),
            (_OTP_EXPIRES, _time_text(challenge.expires_at)),
        ],
    )


def challenge_of(data: PrivateData) -> OtpChallenge:
    """The :class:`OtpChallenge` a registration's approved answer states."""
    return OtpChallenge(
        reference=_needed(data, REGISTRATION_REFERENCE),
        challenge_id=_needed(data, CHALLENGE_ID),
        phone_masked=redact.phone(_needed(data, _PHONE_MASKED)),  # masked again, in case not
        expires_at=_time_of(data, _OTP_EXPIRES),
    )


def confirmation_data(product: str, confirmation: OtpConfirmation) -> PrivateData:
    """DE48 of an OTP confirmation (0200, ``registration_confirm``)."""
    challenge = confirmation.challenge
    return PrivateData(
        product=product,
        other=[
            (REGISTRATION_REFERENCE, challenge.reference),
            (CHALLENGE_ID, challenge.challenge_id),
            (OTP, confirmation.otp),
        ],
    )


def confirmation_of(data: PrivateData) -> tuple[str, str, str]:
    """``(reference, challenge id, OTP)`` of a confirmation (the switch's side)."""
    return (
        _needed(data, REGISTRATION_REFERENCE),
        _needed(data, CHALLENGE_ID),
        _needed(data, OTP),
    )


def registration_answer(product: str, registration: Registration) -> PrivateData:
    """DE48 of a confirmation's approved answer: the worker's KPJ and membership."""
    registered = registration.registered
    return PrivateData(
        product=product,
        customer=registration.nik_masked,
        programs=registration.programs,
        other=[
            (REGISTRATION_REFERENCE, registration.reference),
            (KPJ, registration.kpj),
            *_long(_WORKER_NAME, _escape(registration.name)),
            (_REGISTERED, f"{registered.year:04d}{registered.month:02d}"),
        ],
    )


def registration_result_of(data: PrivateData) -> Registration:
    """The :class:`Registration` a confirmation's approved answer states."""
    registered = _needed(data, _REGISTERED)
    try:
        if len(registered) != 6 or not (registered.isascii() and registered.isdigit()):
            raise ValueError(registered)
        first = YearMonth(int(registered[:4]), int(registered[4:]))
    except ValueError:
        raise _malformed("DE48 RG is not YYYYMM") from None
    return Registration(
        reference=_needed(data, REGISTRATION_REFERENCE),
        kpj=_needed(data, KPJ),
        nik_masked=redact.nik(data.customer or ""),
        name=_unescape(_WORKER_NAME, _needed(data, _WORKER_NAME)),
        registered=first,
        programs=data.programs,
    )


# --- DE57: the switch's screen and receipt lines -----------------------------------------------

#: The widest a DE57 line is written: a BRILink EDC's narrowest paper (32 columns), so the same
#: lines print unchanged at 32 and 42 columns on an EDC and at 40 on a till.
RECEIPT_COLUMNS = 32

#: What the terminal's screen shows after an approved payment.
_SCREEN = ("PEMBAYARAN BERHASIL", "PAYMENT APPROVED")
_RECEIPT_HEAD = ("BPJS KETENAGAKERJAAN", "Iuran BPU diterima", "BPU contribution received")
_RECEIPT_FOOT = "Info: 175 (Layanan/Call center)"


def receipt_lines(result: PaymentResult, kpj: str | None) -> Lines:
    """DE57 of an approved payment's or advice's answer (the switch's side): the screen's two
    lines and the host's receipt lines, Indonesian and English, none wider than
    :data:`RECEIPT_COLUMNS`: who received it, the participant's KPJ masked (never whole), the
    host's reference, and where to ask. The amounts, months and fee are the terminal's own
    receipt's (the library prints them from the payment it journaled)."""
    receipt = list(_RECEIPT_HEAD)
    if kpj:
        receipt.append(f"KPJ {redact.kpj(kpj)}")
    if result.host_reference:
        receipt.append(f"Ref. BPJS {result.host_reference}")
    receipt.append(_RECEIPT_FOOT)
    fitted = [piece for line in receipt for piece in textwrap.wrap(line, RECEIPT_COLUMNS)]
    return Lines(screen=_SCREEN, receipt=fitted)


def with_host_lines(result: PaymentResult, lines: Lines) -> PaymentResult:
    """``result`` with the receipt lines of its answer's DE57 (the terminal's side)."""
    return attrs.evolve(result, host_lines=lines.receipt)
