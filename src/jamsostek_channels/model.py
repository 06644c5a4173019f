"""The one participant and payment model every channel shares.

All classes are frozen attrs classes, checked when they are built: money is whole rupiah (``int``),
months are :class:`~jamsostek_channels.period.YearMonth`, instants are aware datetimes in
Asia/Jakarta. Personal data never appears unmasked in a ``repr`` or ``str``: names show as
initials, NIK, KPJ and phone masked, address, birth date and e-mail hidden
(:mod:`jamsostek_channels.redact`).

Domain words keep their Indonesian names: *peserta* (participant), *iuran* (contribution), KPJ
(membership card number), NIK (national identity number), BPU (*Bukan Penerima Upah*, informal
non-wage worker).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping

import attrs

from jamsostek_channels import redact
from jamsostek_channels.identifiers import nik as _nik
from jamsostek_channels.identifiers import phone as _phone
from jamsostek_channels.period import YearMonth

__all__ = [
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
        from jamsostek_channels.rules import default_rules

        found = default_rules().payer_problems(self)
        if found:
            from jamsostek_channels.errors import InvalidInput

            raise InvalidInput(found)

    @classmethod
    def self_paid(cls) -> Payer:
        return cls(PayerKind.SELF)


@attrs.frozen(init=False)
class Participant:
    """A BPU participant (*peserta*) as registration needs them, checked on construction.

    Raises :class:`~jamsostek_channels.errors.InvalidInput` listing every problem at once. Checks
    that depend on a date (age at registration) are in
    :func:`jamsostek_channels.validation.registration_problems`.
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
        from jamsostek_channels.validation import participant_problems

        values = _normalise(
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
        found = participant_problems(values)
        if found:
            from jamsostek_channels.errors import InvalidInput

            raise InvalidInput(found)
        self.__attrs_init__(**values)  # type: ignore[arg-type]

    @classmethod
    def _trusted(cls, values: Mapping[str, object]) -> Participant:
        """Build from values :func:`participant_problems` has already passed (no second check)."""
        instance = cls.__new__(cls)
        instance.__attrs_init__(**values)  # type: ignore[arg-type]
        return instance


def _normalise(**values: object) -> dict[str, object]:
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
        out["occupations"] = tuple(occupations)
    programs = out["programs"]
    if isinstance(programs, list | tuple | set | frozenset):
        if all(isinstance(p, str) and p in _PROGRAM_VALUES for p in programs):
            out["programs"] = _to_programs(programs)
        else:
            out["programs"] = tuple(programs)
    return out


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
