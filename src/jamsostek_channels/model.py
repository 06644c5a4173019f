"""The one participant and payment model every channel shares.

All classes are frozen attrs classes, checked when they are built: money is whole rupiah (``int``),
months are :class:`~jamsostek_channels.period.YearMonth`, instants are aware datetimes in
Asia/Jakarta. Personal data never appears unmasked in a ``repr`` or ``str``: names show as
initials, NIK, KPJ and phone masked, address, birth date and e-mail hidden
(:mod:`jamsostek_channels.redact`).

A model value holds what is true of it under any rule set: a participant's NIK, name, phone,
e-mail and postal code are well formed and agree with each other, and nothing here reads the BPU
rule tables. What the rule set decides (known occupation codes, the income ceiling, which
programs go together, known donor schemes) is checked by :mod:`jamsostek_channels.validation` and
:mod:`jamsostek_channels.pricing`, which are given the :class:`~jamsostek_channels.rules.RuleSet`
to apply; this keeps the layers one-way (``docs/architecture.md``).

Domain words keep their Indonesian names: *peserta* (participant), *iuran* (contribution), KPJ
(membership card number), NIK (national identity number), BPU (*Bukan Penerima Upah*, informal
non-wage worker).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping

import attrs

from jamsostek_channels import redact
from jamsostek_channels.errors import InvalidInput, Problem
from jamsostek_channels.identifiers import _regions
from jamsostek_channels.identifiers import kpj as _kpj
from jamsostek_channels.identifiers import nik as _nik
from jamsostek_channels.identifiers import phone as _phone
from jamsostek_channels.messages import echo
from jamsostek_channels.period import YearMonth

__all__ = [
    "OPTIONAL_PARTICIPANT_FIELDS",
    "PARTICIPANT_FIELDS",
    "BudgetSource",
    "Confidence",
    "CoverageState",
    "CoverageStatus",
    "MonthSummary",
    "Participant",
    "Payer",
    "PayerKind",
    "Payment",
    "PendingPayment",
    "Program",
    "Quote",
    "QuoteLine",
    "Receipt",
    "Sex",
    "code_key",
    "normalise_participant",
    "participant_field_problems",
    "read_participant",
]


class Program(enum.StrEnum):
    """The programs a BPU participant can take."""

    JKK = "jkk"  #: Jaminan Kecelakaan Kerja: work-accident insurance
    JKM = "jkm"  #: Jaminan Kematian: death insurance
    JHT = "jht"  #: Jaminan Hari Tua: old-age savings


class Sex(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


class PayerKind(enum.StrEnum):
    """Who pays: the worker, or someone paying for them."""

    SELF = "self"
    SERTAKAN = "sertakan"  #: another worker or individual (the SERTAKAN movement)
    CSR = "csr"  #: donor or company CSR budget, with a scheme code
    CREDIT_UNION = "credit-union"
    APBD = "apbd"  #: regional government budget (Pemda)
    APBN = "apbn"  #: central government budget
    APBDES = "apbdes"  #: village fund


class BudgetSource(enum.StrEnum):
    """Which budget a payment comes from (PP 50/2025 excludes APBN and APBD from its discount)."""

    PRIVATE = "private"
    APBN = "apbn"
    APBD = "apbd"
    APBDES = "apbdes"


class Confidence(enum.StrEnum):
    """How sure we are of a rule: H legal text or several sources, M one credible source, L weak."""

    H = "H"
    M = "M"
    L = "L"


_PROGRAMS = tuple(Program)
_SEXES: dict[str, Sex] = {sex.value: sex for sex in Sex}
_PROGRAM_VALUES = frozenset(p.value for p in Program)


def _to_programs(value: Iterable[Program | str]) -> tuple[Program, ...]:
    """Canonical program order (jkk, jkm, jht), duplicates removed."""
    wanted = set(value)  # a StrEnum member equals and hashes like its value
    return tuple(p for p in _PROGRAMS if p in wanted)


def code_key(value: object) -> object:
    """A program or occupation code as the rule tables spell it (lower case, no surrounding
    space): ``JKK`` and ``Pedagang`` are read as ``jkk`` and ``pedagang`` wherever codes come
    in. Anything but text is left for the checks to refuse."""
    return value.strip().lower() if isinstance(value, str) else value


def _clean_text(value: str) -> str:
    return " ".join(value.split())


@attrs.frozen
class Payer:
    """Who pays for a participant's contribution. ``scheme`` is the donor/CSR scheme code
    (SC corporate, SB banking, SG government, SD village budget, SA regional budget, SL other)."""

    kind: PayerKind = attrs.field(converter=PayerKind)
    name: str | None = attrs.field(default=None, repr=redact.optional(redact.name))
    scheme: str | None = None
    reference: str | None = None

    def __attrs_post_init__(self) -> None:
        # Only a donor names a scheme. Whether the code is known is the rule set's to say
        # (RuleSet.payer_problems), checked wherever a payer is priced.
        if self.kind is not PayerKind.CSR and self.scheme is not None:
            raise InvalidInput([Problem.of("payer.scheme", "payer.scheme_not_allowed")])

    @classmethod
    def self_paid(cls) -> Payer:
        return cls(PayerKind.SELF)


@attrs.frozen(init=False)
class Participant:
    """A BPU participant (*peserta*) as registration needs them, checked on construction.

    Raises :class:`~jamsostek_channels.errors.InvalidInput` listing every problem at once
    (:func:`participant_field_problems`: what holds under any rule set). What the rule set
    decides (known occupations, the income ceiling, program combinations) is checked by
    :func:`jamsostek_channels.validation.participant_problems` and ``rule_problems`` with the
    rule set in force, and what depends on a date (age at registration) by
    :func:`jamsostek_channels.validation.registration_problems`; ``Client.register`` runs both.
    """

    nik: str = attrs.field(repr=redact.nik)
    name: str = attrs.field(repr=redact.name)
    birth_date: dt.date = attrs.field(repr=redact.birth_date)
    sex: Sex
    phone: str = attrs.field(repr=redact.phone)
    email: str | None = attrs.field(repr=redact.optional(redact.email))
    address: str = attrs.field(repr=redact.address)
    postal_code: str
    occupations: tuple[str, ...]
    income: int
    programs: tuple[Program, ...]
    kpj: str | None = attrs.field(default=None, repr=redact.optional(redact.kpj))

    def __init__(
        self,
        nik: str,
        name: str,
        birth_date: dt.date,
        sex: Sex | str,
        phone: str,
        email: str | None,
        address: str,
        postal_code: str,
        occupations: Iterable[str],
        income: int,
        programs: Iterable[Program | str],
        kpj: str | None = None,
    ) -> None:
        values = normalise_participant(
            nik=nik,
            name=name,
            birth_date=birth_date,
            sex=sex,
            phone=phone,
            email=email,
            address=address,
            postal_code=postal_code,
            occupations=occupations,
            income=income,
            programs=programs,
            kpj=kpj,
        )
        found = participant_field_problems(values)
        if found:
            raise InvalidInput(found)
        self.__attrs_init__(**values)  # type: ignore[arg-type]

    @classmethod
    def _trusted(cls, values: Mapping[str, object]) -> Participant:
        """Build from values :func:`participant_field_problems` has already passed (no second
        check)."""
        instance = cls.__new__(cls)
        instance.__attrs_init__(**values)  # type: ignore[arg-type]
        return instance


def normalise_participant(**values: object) -> dict[str, object]:
    """Canonical forms of a participant's fields; leaves what it cannot convert for the checks."""
    out = dict(values)
    if isinstance(out["nik"], str):
        out["nik"] = _nik.compact(out["nik"])
    if isinstance(out["name"], str):
        out["name"] = _clean_text(out["name"])
    if isinstance(out["sex"], str):
        out["sex"] = _SEXES.get(out["sex"], out["sex"])
    if isinstance(out["phone"], str):
        out["phone"] = _phone.compact(out["phone"])
    if isinstance(out["email"], str):
        out["email"] = out["email"].strip() or None
    if isinstance(out["address"], str):
        out["address"] = _clean_text(out["address"])
    if isinstance(out["postal_code"], str):
        out["postal_code"] = out["postal_code"].strip()
    occupations = out["occupations"]
    if isinstance(occupations, list | tuple):
        out["occupations"] = tuple(code_key(o) for o in occupations)
    programs = out["programs"]
    if isinstance(programs, list | tuple | set | frozenset):
        programs = [code_key(p) for p in programs]
        codes = [p for p in programs if isinstance(p, str) and p in _PROGRAM_VALUES]
        if len(codes) == len(programs):
            out["programs"] = _to_programs(codes)
        else:
            out["programs"] = tuple(programs)
    return out


#: The canonical JSON fields of a participant, in order; ``email`` and ``kpj`` may be omitted.
PARTICIPANT_FIELDS = (
    "nik",
    "name",
    "birth_date",
    "sex",
    "phone",
    "email",
    "address",
    "postal_code",
    "occupations",
    "income",
    "programs",
    "kpj",
)
OPTIONAL_PARTICIPANT_FIELDS = frozenset({"email", "kpj"})
_FIELD_SET = frozenset(PARTICIPANT_FIELDS)
_REQUIRED = _FIELD_SET - OPTIONAL_PARTICIPANT_FIELDS
_NAME_MAX, _ADDRESS_MAX, _EMAIL_MAX = 100, 200, 254
# A letter of any script, then letters, spaces and the punctuation of Indonesian names and
# titles. Each character matches exactly one branch, so matching stays linear on hostile input.
_NAME = re.compile(r"[^\W\d_](?:[^\W\d_]|[ .,'\-])*")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_POSTAL = re.compile(r"[1-9][0-9]{4}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _text_problems(value: object, field: str, empty_code: str, limit: int) -> list[Problem]:
    if value is None or value == "":
        return [Problem.of(field, empty_code)]
    if not isinstance(value, str):
        return [Problem.of(field, "field.type", {"expected": "text"})]
    if len(value) > limit:
        return [Problem.of(field, "field.too_long", {"max": limit})]
    return []


def _nik_agreement(
    nik: str, birth_date: object, sex: object, *, date_readable: bool
) -> list[Problem]:
    """The NIK's DDMMYY (day + 40 for women) must agree with the stated birth date and sex.

    ``nik`` is 16 digits; the birth date is compared only when ``date_readable`` (the NIK's own
    date is real), as its sex always can be."""
    digits = _nik.compact(nik)
    found = []
    day = int(digits[6:8])
    female = day > 40
    if (
        date_readable
        and isinstance(birth_date, dt.date)
        and (
            (day - 40 if female else day) != birth_date.day
            or int(digits[8:10]) != birth_date.month
            or int(digits[10:12]) != birth_date.year % 100
        )
    ):
        found.append(Problem.of("birth_date", "nik.birth_date_mismatch"))
    if isinstance(sex, Sex) and female != (sex is Sex.FEMALE):
        found.append(Problem.of("sex", "nik.sex_mismatch"))
    return found


def participant_field_problems(values: Mapping[str, object]) -> list[Problem]:
    """Every problem with a participant's (normalised) field values that no rule set changes:
    NIK structure and region, NIK agreeing with birth date and sex, name, mobile phone, e-mail,
    address, postal code, the shape of occupations, income and programs, KPJ."""
    found: list[Problem] = []

    nik = values.get("nik")
    # Which of the NIK's own problems still leave it readable for the cross-checks: a bad
    # province or serial must not hide a sex or birth date that disagrees (every problem at once).
    nik_codes: set[str] = {"nik.format"}
    if not isinstance(nik, str) or not nik:
        found.append(
            Problem.of("nik", "field.required" if not nik else "field.type", {"expected": "text"})
        )
    else:
        nik_problems = _nik.problems(nik)
        found += nik_problems
        nik_codes = {p.code for p in nik_problems}

    name = values.get("name")
    text = _text_problems(name, "name", "name.empty", _NAME_MAX)
    if not text and isinstance(name, str) and not _NAME.fullmatch(name):
        text = [Problem.of("name", "name.characters")]
    found += text

    birth_date = values.get("birth_date")
    if not isinstance(birth_date, dt.date) or isinstance(birth_date, dt.datetime):
        found.append(Problem.of("birth_date", "birth_date.format"))
        birth_date = None
    sex = values.get("sex")
    if not isinstance(sex, Sex):
        found.append(Problem.of("sex", "sex.value"))
        sex = None
    if "nik.format" not in nik_codes:
        assert isinstance(nik, str)
        found += _nik_agreement(
            nik, birth_date, sex, date_readable="nik.birth_date" not in nik_codes
        )

    phone = values.get("phone")
    if not isinstance(phone, str) or not phone:
        found.append(Problem.of("phone", "phone.format"))
    else:
        found += _phone.problems(phone)

    email = values.get("email")
    if email is not None and (
        not isinstance(email, str) or len(email) > _EMAIL_MAX or not _EMAIL.fullmatch(email)
    ):
        found.append(Problem.of("email", "email.format"))

    found += _text_problems(values.get("address"), "address", "address.empty", _ADDRESS_MAX)

    postal_code = values.get("postal_code")
    if not isinstance(postal_code, str) or not _POSTAL.fullmatch(postal_code):
        found.append(Problem.of("postal_code", "postal_code.format"))
    elif not _regions.postal_code_known(postal_code):
        found.append(Problem.of("postal_code", "postal_code.unknown"))

    occupations = values.get("occupations")
    if not isinstance(occupations, tuple) or not all(isinstance(o, str) for o in occupations):
        found.append(Problem.of("occupations", "field.type", {"expected": "list of codes"}))
    else:
        if not occupations:
            found.append(Problem.of("occupations", "occupations.empty"))
        if len(set(occupations)) != len(occupations):
            found.append(Problem.of("occupations", "occupations.duplicate"))

    income = values.get("income")
    if not isinstance(income, int) or isinstance(income, bool):
        found.append(Problem.of("income", "field.type", {"expected": "integer rupiah"}))
    elif income < 0:
        found.append(Problem.of("income", "income.negative"))

    programs = values.get("programs")
    if not isinstance(programs, tuple) or not all(isinstance(p, str) for p in programs):
        found.append(Problem.of("programs", "field.type", {"expected": "list of codes"}))
    else:
        found += [
            Problem.of("programs", "programs.unknown", {"code": echo(code)})
            for code in programs
            if code not in _PROGRAM_VALUES
        ]

    kpj = values.get("kpj")
    if kpj is not None:
        if not isinstance(kpj, str):
            found.append(Problem.of("kpj", "field.type", {"expected": "text"}))
        else:
            found += _kpj.problems(kpj)
    return found


def _parse_date(value: object) -> object:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, dt.date) else None


def read_participant(
    data: Mapping[str, object],
) -> tuple[dict[str, object], list[Problem], frozenset[str]]:
    """A participant's canonical JSON form (a mapping) read into normalised field values.

    Returns the values, the problems with the mapping's keys (unknown fields, missing required
    ones) and the names of the missing ones, so that a missing field is reported once, as
    missing. The values are not checked: see :func:`participant_field_problems`."""
    found: list[Problem] = [
        Problem.of(echo(key), "field.unknown") for key in data.keys() - _FIELD_SET
    ]
    absent = frozenset(_REQUIRED - data.keys())
    found += [Problem.of(key, "field.required") for key in PARTICIPANT_FIELDS if key in absent]
    raw = {key: data.get(key) for key in PARTICIPANT_FIELDS}
    raw["birth_date"] = _parse_date(raw["birth_date"])
    for key in ("occupations", "programs"):
        if isinstance(raw[key], list):
            raw[key] = tuple(raw[key])  # type: ignore[arg-type]
    return normalise_participant(**raw), found, absent


@attrs.frozen
class QuoteLine:
    """One program for one month: what it costs in full, what is charged, and why."""

    period: YearMonth
    program: Program
    level: int
    base: int  #: the income level's base, or the flat amount for a flat-rate program
    full_amount: int
    amount: int
    discount: str | None  #: the regulation that cut the amount (e.g. "PP 50/2025"), or None
    discount_id: str | None  #: the rule row that applied (e.g. "pp-50-2025-transport")


@attrs.frozen
class MonthSummary:
    """A quote's lines for one month, added up (what the CLI prints per month)."""

    period: YearMonth
    amounts: Mapping[Program, int]
    total: int
    discount: str | None


@attrs.frozen
class Quote:
    """What a participant owes for `months` months from `start`: a line per month per program."""

    income: int
    occupations: tuple[str, ...]
    programs: tuple[Program, ...]
    payer: Payer
    start: YearMonth
    months: int
    joined: YearMonth | None
    lines: tuple[QuoteLine, ...]
    total: int

    @property
    def periods(self) -> tuple[YearMonth, ...]:
        return tuple(dict.fromkeys(line.period for line in self.lines))

    @property
    def full_total(self) -> int:
        """What the same months would cost with no discount."""
        return sum(line.full_amount for line in self.lines)

    def by_month(self) -> list[MonthSummary]:
        grouped: dict[YearMonth, list[QuoteLine]] = {}
        for line in self.lines:
            grouped.setdefault(line.period, []).append(line)
        summaries = []
        for period, lines in grouped.items():
            amounts = dict.fromkeys(Program, 0)
            for line in lines:
                amounts[line.program] = line.amount
            discounts = [line.discount for line in lines if line.discount]
            summaries.append(
                MonthSummary(
                    period=period,
                    amounts=amounts,
                    total=sum(line.amount for line in lines),
                    discount=discounts[0] if discounts else None,
                )
            )
        return summaries


@attrs.frozen
class Payment:
    """A request to pay ``periods`` for a participant; ``reference`` is the channel's idempotency
    key: paying twice with one reference applies once."""

    reference: str
    channel: str
    nik: str = attrs.field(repr=redact.nik)
    payer: Payer
    periods: tuple[YearMonth, ...]
    programs: tuple[Program, ...]
    amount: int = attrs.field()
    admin_fee: int
    requested_at: dt.datetime = attrs.field()
    kpj: str | None = attrs.field(default=None, repr=redact.optional(redact.kpj))

    @requested_at.validator
    def _aware(self, attribute: attrs.Attribute[dt.datetime], value: dt.datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("requested_at must be timezone-aware (Asia/Jakarta)")

    @amount.validator
    def _money(self, attribute: attrs.Attribute[int], value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError("amount must be a non-negative whole number of rupiah")


def _lines(lines: Iterable[str]) -> tuple[str, ...]:
    return tuple(lines)


def _line_count(lines: tuple[str, ...]) -> str:
    return f"<{len(lines)} lines>"  # a host's receipt lines may name the customer


@attrs.frozen
class Receipt:
    """Proof of a payment, as printed at the counter or shown in an app (NIK already masked)."""

    channel: str
    channel_reference: str
    host_reference: str
    nik_masked: str = attrs.field(repr=redact.customer)  # masked again: a caller may slip
    name: str = attrs.field(repr=redact.name)
    programs: tuple[Program, ...]
    periods: tuple[YearMonth, ...]
    amount: int
    admin_fee: int
    paid_at: dt.datetime
    #: The host's own receipt lines (an ISO 8583 switch's DE57), printed under the library's
    #: own; empty where the channel sends none.
    host_lines: tuple[str, ...] = attrs.field(default=(), converter=_lines, repr=_line_count)

    @property
    def total(self) -> int:
        return self.amount + self.admin_fee


@attrs.frozen
class PendingPayment:
    """A payment whose outcome is not known yet (*dalam proses*): what the counter hands over
    instead of a receipt when the host's answer was lost, so the customer keeps the reference
    and is not tempted to pay again. ``since``: when it was sent."""

    channel: str
    channel_reference: str
    nik_masked: str = attrs.field(repr=redact.customer)
    name: str = attrs.field(repr=redact.name)
    programs: tuple[Program, ...]
    periods: tuple[YearMonth, ...]
    amount: int
    admin_fee: int
    since: dt.datetime

    @property
    def total(self) -> int:
        return self.amount + self.admin_fee


class CoverageState(enum.StrEnum):
    ACTIVE = "active"  #: the current month is paid: protected now
    DUE = "due"  #: the current month is unpaid but not yet past its due date
    IN_ARREARS = "in-arrears"  #: unpaid months that can still be paid (until ``pay_by``)
    LAPSED = "lapsed"  #: more than 3 consecutive unpaid months: must register again


@attrs.frozen
class CoverageStatus:
    """A participant's protection on ``as_of``, derived from what they paid."""

    state: CoverageState
    as_of: dt.date
    registered: YearMonth
    paid_through: YearMonth | None
    protected: bool  #: the month of ``as_of`` is paid, so an accident today is covered
    payable: tuple[YearMonth, ...]  #: unpaid months that can still be paid, oldest first
    pay_by: dt.date | None  #: last day the oldest payable month can be paid before lapse
    next_due: dt.date | None  #: due date of the first unpaid month
    lapsed_since: YearMonth | None  #: first month of the lapsed membership's gap
    unpaid_holes: tuple[YearMonth, ...]  #: unpaid months between paid ones (never protected)
