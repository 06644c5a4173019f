"""The BPU rule set: effective-dated tables with a citation on every row.

The figures live in data files beside this module (``data/*.csv``, ``data/*.toml``), not in
code: when a partner brings an official text, a row changes and nothing else. Every row carries a
``source`` and a ``confidence`` (H legal text or several sources, M one credible source, L weak).
``docs/rules.md`` lists them all.

:func:`default_rules` loads the packaged tables once (or the directory named by the
``JAMSOSTEK_RULES_DIR`` environment variable); :func:`load_rules` loads any other directory, for a
partner's adjusted copy or for tests.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import enum
import functools
import os
import threading
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import attrs

from jamsostek_channels.errors import JamsostekError, Problem, RuleViolation
from jamsostek_channels.messages import echo
from jamsostek_channels.model import (
    BudgetSource,
    Confidence,
    Payer,
    PayerKind,
    Program,
    QuoteLine,
)
from jamsostek_channels.period import YearMonth

__all__ = [
    "Discount",
    "IncomeLevel",
    "Occupation",
    "OccupationClass",
    "PayerRule",
    "Policy",
    "ProgramRate",
    "RuleDataError",
    "RuleSet",
    "Scheme",
    "default_rules",
    "load_rules",
]

RULES_DIR_ENV = "JAMSOSTEK_RULES_DIR"


class OccupationClass(enum.StrEnum):
    """Which occupations a discount row covers."""

    ANY = "any"
    TRANSPORT = "transport"
    OTHER = "other"


class RuleDataError(JamsostekError):
    """A rule table cannot be read: names the file and line (a deployment error, not user input)."""

    group = "deployment"

    def __init__(self, file: str, line: int | str, reason: str) -> None:
        super().__init__("rules.data", {"file": file, "line": line, "reason": reason})


@attrs.frozen
class IncomeLevel:
    level: int
    from_income: int
    base: int
    valid_from: YearMonth
    valid_to: YearMonth | None
    source: str
    confidence: Confidence


@attrs.frozen
class ProgramRate:
    program: str
    label_id: str
    label_en: str
    rate_bp: int | None  #: basis points of the level's base (100 = 1%)
    flat: int | None  #: whole rupiah a month
    available: bool  #: False for JP and JKP, which BPU participants cannot take
    valid_from: YearMonth
    valid_to: YearMonth | None
    source: str
    confidence: Confidence


@attrs.frozen
class Discount:
    id: str
    name: str
    programs: tuple[Program, ...]
    cut_bp: int  #: 10000 = 100%
    first_month: YearMonth
    last_month: YearMonth
    occupation_class: OccupationClass
    excluded_budget_sources: frozenset[BudgetSource]
    joiner_after: YearMonth | None
    joiner_full_months: int
    source: str
    confidence: Confidence

    def covers(self, period: YearMonth) -> bool:
        return self.first_month <= period <= self.last_month


@attrs.frozen
class Occupation:
    code: str
    sector: str
    label_id: str
    label_en: str
    transport: bool
    jht_mandatory: bool
    keywords: tuple[str, ...]
    source: str
    confidence: Confidence


@attrs.frozen
class PayerRule:
    kind: PayerKind
    label_id: str
    label_en: str
    budget_source: BudgetSource | None  #: None: decided by the donor scheme code
    requires_name: bool
    source: str
    confidence: Confidence


@attrs.frozen
class Scheme:
    code: str
    label_en: str
    budget_source: BudgetSource
    confidence: Confidence


@attrs.frozen
class Policy:
    """The scalar rules: eligibility, periods, due dates, arrears (``data/policy.toml``)."""

    always_together: tuple[Program, ...]
    never_alone: tuple[Program, ...]
    max_age_exclusive: int
    min_age: int
    max_occupations: int
    standard_month_counts: tuple[int, ...]
    max_months: int
    due_day: int
    move_due_to_working_day: bool
    arrears_window_months: int
    lapse_after_unpaid_months: int
    late_fee: int
    max_declared_income: int
    citations: Mapping[str, tuple[str, Confidence]]


_T = TypeVar("_T")


def _rows(directory: Traversable, name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """CSV rows with their physical line numbers; lines starting with ``#`` are comments."""
    text = directory.joinpath(name).read_text(encoding="utf-8")
    # Comments become blank lines (which csv skips), so line numbers stay those of the file.
    lines = ["" if line.startswith("#") else line for line in text.splitlines()]
    reader = csv.reader(lines)
    header: list[str] | None = None
    for cells in reader:
        if not cells:
            continue
        if header is None:
            header = cells
            continue
        if len(cells) != len(header):
            raise RuleDataError(name, reader.line_num, f"{len(cells)} cells, {len(header)} columns")
        yield reader.line_num, dict(zip(header, cells, strict=True))


def _month(value: str) -> YearMonth:
    return YearMonth.parse(value)


def _optional(value: str | None, convert: Callable[[str], _T]) -> _T | None:
    return convert(value) if value not in (None, "") else None


def _flag(value: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError(f"expected 0 or 1, got {value!r}")
    return value == "1"


def _parse_rows(
    directory: Traversable, name: str, build: Callable[[dict[str, str]], _T]
) -> list[_T]:
    out = []
    for line, row in _rows(directory, name):
        try:
            out.append(build(row))
        except (KeyError, ValueError, TypeError) as exc:
            raise RuleDataError(name, line, str(exc)) from None
    return out


def _toml(directory: Traversable, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(directory.joinpath(name).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RuleDataError(name, "?", str(exc)) from None


def _income_level(row: dict[str, str]) -> IncomeLevel:
    return IncomeLevel(
        level=int(row["level"]),
        from_income=int(row["from_income"]),
        base=int(row["base"]),
        valid_from=_month(row["valid_from"]),
        valid_to=_optional(row["valid_to"], _month),
        source=row["source"],
        confidence=Confidence(row["confidence"]),
    )


def _program_rate(row: dict[str, str]) -> ProgramRate:
    return ProgramRate(
        program=row["program"],
        label_id=row["label_id"],
        label_en=row["label_en"],
        rate_bp=_optional(row["rate_bp"], int),
        flat=_optional(row["flat"], int),
        available=_flag(row["available"]),
        valid_from=_month(row["valid_from"]),
        valid_to=_optional(row["valid_to"], _month),
        source=row["source"],
        confidence=Confidence(row["confidence"]),
    )


def _occupation(row: dict[str, str]) -> Occupation:
    return Occupation(
        code=row["code"],
        sector=row["sector"],
        label_id=row["label_id"],
        label_en=row["label_en"],
        transport=_flag(row["transport"]),
        jht_mandatory=_flag(row["jht_mandatory"]),
        keywords=tuple(k for k in row["keywords"].split("|") if k),
        source=row["source"],
        confidence=Confidence(row["confidence"]),
    )


def _discount(entry: dict[str, Any]) -> Discount:
    return Discount(
        id=entry["id"],
        name=entry["name"],
        programs=tuple(Program(p) for p in entry["programs"]),
        cut_bp=int(entry["cut_bp"]),
        first_month=_month(entry["first_month"]),
        last_month=_month(entry["last_month"]),
        occupation_class=OccupationClass(entry["occupation_class"]),
        excluded_budget_sources=frozenset(
            BudgetSource(b) for b in entry.get("excluded_budget_sources", [])
        ),
        joiner_after=_optional(entry.get("joiner_after"), _month),
        joiner_full_months=int(entry.get("joiner_full_months", 0)),
        source=entry["source"],
        confidence=Confidence(entry["confidence"]),
    )


def _policy(data: dict[str, Any]) -> Policy:
    programs, eligibility = data["programs"], data["eligibility"]
    periods, due, arrears, income = (
        data["periods"],
        data["due_date"],
        data["arrears"],
        data["income"],
    )
    return Policy(
        always_together=tuple(Program(p) for p in programs["always_together"]),
        never_alone=tuple(Program(p) for p in programs["never_alone"]),
        max_age_exclusive=int(eligibility["max_age_exclusive"]),
        min_age=int(eligibility["min_age"]),
        max_occupations=int(eligibility["max_occupations"]),
        standard_month_counts=tuple(int(m) for m in periods["standard_month_counts"]),
        max_months=int(periods["max_months"]),
        due_day=int(due["day_of_month"]),
        move_due_to_working_day=bool(due["move_to_next_working_day"]),
        arrears_window_months=int(arrears["window_months"]),
        lapse_after_unpaid_months=int(arrears["lapse_after_unpaid_months"]),
        late_fee=int(arrears["late_fee"]),
        max_declared_income=int(income["max_declared"]),
        citations={
            section: (data[section]["source"], Confidence(data[section]["confidence"]))
            for section in data
        },
    )


def _payer_rule(entry: dict[str, Any]) -> PayerRule:
    budget = entry["budget_source"]
    return PayerRule(
        kind=PayerKind(entry["kind"]),
        label_id=entry["label_id"],
        label_en=entry["label_en"],
        budget_source=None if budget == "by-scheme" else BudgetSource(budget),
        requires_name=bool(entry["requires_name"]),
        source=entry["source"],
        confidence=Confidence(entry["confidence"]),
    )


def _scheme(entry: dict[str, Any]) -> Scheme:
    return Scheme(
        code=entry["code"],
        label_en=entry["label_en"],
        budget_source=BudgetSource(entry["budget_source"]),
        confidence=Confidence(entry["confidence"]),
    )


def _toml_list(
    directory: Traversable, name: str, key: str, build: Callable[[dict[str, Any]], _T]
) -> list[_T]:
    out = []
    for index, entry in enumerate(_toml(directory, name).get(key, []), 1):
        try:
            out.append(build(entry))
        except (KeyError, ValueError, TypeError) as exc:
            raise RuleDataError(name, f"[[{key}]] #{index}", str(exc)) from None
    return out


def _in_force(valid_from: YearMonth, valid_to: YearMonth | None, period: YearMonth) -> bool:
    return valid_from <= period and (valid_to is None or period <= valid_to)


class RuleSet:
    """All BPU rules, loaded from one directory of tables. Immutable once built; thread-safe."""

    def __init__(
        self,
        *,
        income_levels: Iterable[IncomeLevel],
        programs: Iterable[ProgramRate],
        discounts: Iterable[Discount],
        occupations: Iterable[Occupation],
        payers: Iterable[PayerRule],
        schemes: Iterable[Scheme],
        policy: Policy,
    ) -> None:
        self.income_levels = tuple(sorted(income_levels, key=lambda r: (r.valid_from, r.level)))
        self.programs = tuple(programs)
        self._program_rows = {row.program: row for row in self.programs}
        self._bpu_programs = frozenset(row.program for row in self.programs if row.available)
        self.discounts = tuple(discounts)
        self.occupations: Mapping[str, Occupation] = {o.code: o for o in occupations}
        self.payers: Mapping[PayerKind, PayerRule] = {p.kind: p for p in payers}
        self.schemes: Mapping[str, Scheme] = {s.code: s for s in schemes}
        self.policy = policy
        self._always_together = frozenset(p.value for p in policy.always_together)
        self._jht_mandatory = frozenset(
            o.code for o in self.occupations.values() if o.jht_mandatory
        )
        self._check()
        self._levels_by_period: dict[YearMonth, tuple[list[int], list[IncomeLevel]]] = {}
        self._due_dates: dict[YearMonth, dt.date] = {}
        self._lock = threading.Lock()
        self._holidays: Any = None
        #: flyweight cache for the quote engine: see jamsostek_channels.pricing
        self.month_cache: dict[tuple[object, ...], tuple[tuple[QuoteLine, ...], int]] = {}

    def _check(self) -> None:
        """Cross-table consistency a data edit could break."""
        for kind in PayerKind:
            if kind not in self.payers:
                raise RuleDataError("payers.toml", "-", f"no row for payer kind {kind.value!r}")
        for program in Program:
            if not any(r.program == program.value and r.available for r in self.programs):
                raise RuleDataError("programs.csv", "-", f"no rate for {program.value!r}")
        for rate in self.programs:
            if rate.available and (rate.rate_bp is None) == (rate.flat is None):
                raise RuleDataError("programs.csv", "-", f"{rate.program}: rate_bp xor flat")
        for discount in self.discounts:
            if not 0 <= discount.cut_bp <= 10000:
                raise RuleDataError("discounts.toml", discount.id, "cut_bp must be 0..10000")

    # Income levels --------------------------------------------------------------------------

    def level_for(self, income: int, period: YearMonth) -> IncomeLevel:
        """The level a declared monthly income falls in for a contribution month."""
        table = self._levels_by_period.get(period)
        if table is None:
            rows = sorted(
                (r for r in self.income_levels if _in_force(r.valid_from, r.valid_to, period)),
                key=lambda r: r.from_income,
            )
            if not rows:
                raise RuleViolation("months.no_rule", {"period": period}, field="start")
            table = ([r.from_income for r in rows], rows)
            with self._lock:
                self._levels_by_period[period] = table
        starts, rows = table
        # Incomes under the first level's floor (and under Rp1.000.000) are level 1.
        return rows[max(bisect.bisect_right(starts, income) - 1, 0)]

    # Programs -------------------------------------------------------------------------------

    def rate(self, program: Program, period: YearMonth) -> ProgramRate:
        for row in self.programs:
            if (
                row.program == program.value
                and row.available
                and _in_force(row.valid_from, row.valid_to, period)
            ):
                return row
        raise RuleViolation("months.no_rule", {"period": period}, field="start")

    def program_problems(
        self, programs: Iterable[str], occupations: Iterable[str], field: str = "programs"
    ) -> list[Problem]:
        """JKK+JKM always together, JHT never alone, JHT for individual employers, BPU only."""
        codes = set(programs)
        if codes <= self._bpu_programs:  # the common case: every code known and for BPU
            ok = self._always_together <= codes and (
                Program.JHT in codes or self._jht_mandatory.isdisjoint(occupations)
            )
            if ok:
                return []
        found: list[Problem] = []
        chosen: set[Program] = set()
        for code in programs:
            row = self._program_rows.get(code)
            if row is None:
                found.append(Problem.of(field, "programs.unknown", {"code": echo(code)}))
            elif not row.available:
                found.append(Problem.of(field, "programs.not_for_bpu", {"code": echo(code)}))
            else:
                chosen.add(Program(code))
        if found:
            return found
        if not set(self.policy.always_together) <= chosen:
            found.append(Problem.of(field, "programs.jkk_jkm_required"))
        needs_jht = any(
            (occupation := self.occupations.get(code)) is not None and occupation.jht_mandatory
            for code in occupations
        )
        if needs_jht and Program.JHT not in chosen:
            found.append(Problem.of(field, "programs.jht_required"))
        return found

    # Occupations and income -----------------------------------------------------------------

    def occupation_problems(
        self, occupations: Sequence[str], field: str = "occupations"
    ) -> list[Problem]:
        """At least one, at most the policy's maximum, no duplicates, every code known."""
        found = []
        if not occupations:
            found.append(Problem.of(field, "occupations.empty"))
        limit = self.policy.max_occupations
        if len(occupations) > limit:
            found.append(Problem.of(field, "occupations.too_many", {"max": limit}))
        if len(set(occupations)) != len(occupations):
            found.append(Problem.of(field, "occupations.duplicate"))
        for code in occupations:
            if code not in self.occupations:
                found.append(Problem.of(field, "occupations.unknown", {"code": echo(code)}))
        return found

    def income_problems(self, income: object, field: str = "income") -> list[Problem]:
        """Whole rupiah, not negative, not above the policy's declared-income ceiling."""
        if not isinstance(income, int) or isinstance(income, bool):
            return [Problem.of(field, "field.type", {"expected": "integer rupiah"})]
        if income < 0:
            return [Problem.of(field, "income.negative")]
        limit = self.policy.max_declared_income
        if income > limit:
            return [Problem.of(field, "income.too_large", {"max": limit})]
        return []

    def occupation_class(self, occupations: Iterable[str]) -> OccupationClass:
        """TRANSPORT when any of the participant's occupations is transport, else OTHER.

        PP 50/2025 gives transport workers a longer discount; a participant with a transport
        occupation among their (at most two) gets it. Project decision, see docs/rules.md.
        """
        for code in occupations:
            occupation = self.occupations.get(code)
            if occupation is not None and occupation.transport:
                return OccupationClass.TRANSPORT
        return OccupationClass.OTHER

    def search_occupations(self, text: str) -> list[Occupation]:
        """Occupations whose code, labels or everyday words contain ``text`` (case-insensitive)."""
        needle = text.strip().lower()
        if not needle:
            return []
        exact = [o for o in self.occupations.values() if needle in o.keywords or needle == o.code]
        partial = [
            o
            for o in self.occupations.values()
            if o not in exact
            and (
                needle in o.code
                or needle in o.label_id.lower()
                or needle in o.label_en.lower()
                or any(needle in k for k in o.keywords)
            )
        ]
        return exact + partial

    # Payers ---------------------------------------------------------------------------------

    def payer_problems(self, payer: Payer, field: str = "payer") -> list[Problem]:
        codes = ", ".join(self.schemes)
        if payer.kind is PayerKind.CSR:
            if payer.scheme is not None and payer.scheme not in self.schemes:
                return [
                    Problem.of(
                        f"{field}.scheme",
                        "payer.scheme_unknown",
                        {"scheme": echo(payer.scheme), "codes": codes},
                    )
                ]
        elif payer.scheme is not None:
            return [Problem.of(f"{field}.scheme", "payer.scheme_not_allowed")]
        return []

    def budget_source(self, payer: Payer) -> BudgetSource:
        """Which budget funds the payer; a donor's depends on its scheme code (private if none)."""
        rule = self.payers[payer.kind]
        if rule.budget_source is not None:
            return rule.budget_source
        if payer.scheme is None:
            return BudgetSource.PRIVATE
        return self.schemes[payer.scheme].budget_source

    # Discounts ------------------------------------------------------------------------------

    def discount_for(
        self,
        period: YearMonth,
        program: Program,
        occupation_class: OccupationClass,
        budget: BudgetSource,
        joined: YearMonth | None,
    ) -> Discount | None:
        """The discount on one program for one month, or None. Discounts do not stack: when
        several rows apply, the largest cut wins."""
        best: Discount | None = None
        for discount in self.discounts:
            if not discount.covers(period) or program not in discount.programs:
                continue
            if discount.occupation_class not in (OccupationClass.ANY, occupation_class):
                continue
            if budget in discount.excluded_budget_sources:
                continue
            if (
                joined is not None
                and discount.joiner_after is not None
                and joined > discount.joiner_after
                and period - joined < discount.joiner_full_months
            ):
                continue
            if best is None or discount.cut_bp > best.cut_bp:
                best = discount
        return best

    # Calendar -------------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday and not an Indonesian public holiday (``holidays`` package)."""
        if day.weekday() >= 5:
            return False
        if self._holidays is None:
            import holidays

            with self._lock:
                if self._holidays is None:
                    self._holidays = holidays.country_holidays("ID")
        return day not in self._holidays

    def due_date(self, period: YearMonth) -> dt.date:
        """The due date of a contribution month: the 15th, moved to the next working day."""
        cached = self._due_dates.get(period)
        if cached is not None:
            return cached
        day = dt.date(period.year, period.month, self.policy.due_day)
        if self.policy.move_due_to_working_day:
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
        self._due_dates[period] = day
        return day


def _traversable(directory: str | os.PathLike[str] | Traversable | None) -> Traversable:
    if directory is None:
        env = os.environ.get(RULES_DIR_ENV)
        if env:
            return Path(env)
        return resources.files("jamsostek_channels.rules").joinpath("data")
    if isinstance(directory, str | os.PathLike):
        return Path(directory)
    return directory


def load_rules(directory: str | os.PathLike[str] | Traversable | None = None) -> RuleSet:
    """Load every table from ``directory`` (default: the packaged tables)."""
    source = _traversable(directory)
    return RuleSet(
        income_levels=_parse_rows(source, "income_levels.csv", _income_level),
        programs=_parse_rows(source, "programs.csv", _program_rate),
        discounts=_toml_list(source, "discounts.toml", "discount", _discount),
        occupations=_parse_rows(source, "occupations.csv", _occupation),
        payers=_toml_list(source, "payers.toml", "payer", _payer_rule),
        schemes=_toml_list(source, "payers.toml", "scheme", _scheme),
        policy=_policy(_toml(source, "policy.toml")),
    )


@functools.cache
def default_rules() -> RuleSet:
    """The packaged rule set (or ``$JAMSOSTEK_RULES_DIR``), loaded once per process."""
    return load_rules()
