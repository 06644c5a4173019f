"""Pricing: what a participant owes, month by month and program by program.

A month is priced by the rules in force *for that month*: the income level table, the program
rates, and any discount whose window contains it (which depends on the occupation, on the budget
the payer draws on, and on when the participant joined). A quote that spans the end of a
discount therefore prices each side by its own rules.

Lines are values: the engine keeps the lines of each (month, level, occupation class, budget,
join month, programs) combination it has priced (a flyweight cache per rule set), so a quote is a
few dictionary look-ups and no rule is ever evaluated twice for the same month.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from jamsostek_channels.errors import InvalidInput, Problem, RuleViolation
from jamsostek_channels.messages import echo
from jamsostek_channels.model import (
    BudgetSource,
    Participant,
    Payer,
    PayerKind,
    Program,
    Quote,
    QuoteLine,
    code_key,
)
from jamsostek_channels.period import YearMonth
from jamsostek_channels.rules import OccupationClass, RuleSet

__all__ = ["quote", "round_half_up"]

_MONTH_CACHE_LIMIT = 200_000
_LAST_MONTH = YearMonth(9999, 12)


def round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounding halves up (for non-negative amounts): no floats near money."""
    return (2 * numerator + denominator) // (2 * denominator)


def _month_lines(
    rules: RuleSet,
    period: YearMonth,
    income: int,
    occupation_class: OccupationClass,
    budget: BudgetSource,
    joined: YearMonth | None,
    programs: tuple[Program, ...],
) -> tuple[tuple[QuoteLine, ...], int]:
    """The lines of one month and their sum (cached per rule set)."""
    key = (period, income, occupation_class, budget, joined, programs)
    cached = rules.month_cache.get(key)
    if cached is not None:
        return cached
    level = rules.level_for(income, period)
    lines = []
    for program in programs:
        rate = rules.rate(program, period)
        discount = rules.discount_for(period, program, occupation_class, budget, joined)
        keep_bp = 10_000 - (discount.cut_bp if discount else 0)
        if rate.flat is not None:
            base, full = rate.flat, rate.flat
            amount = round_half_up(rate.flat * keep_bp, 10_000)
        else:
            assert rate.rate_bp is not None  # RuleSet._check guarantees one of the two
            base = level.base
            full = round_half_up(level.base * rate.rate_bp, 10_000)
            amount = round_half_up(level.base * rate.rate_bp * keep_bp, 100_000_000)
        lines.append(
            QuoteLine(
                period=period,
                program=program,
                level=level.level,
                base=base,
                full_amount=full,
                amount=amount,
                discount=discount.name if discount else None,
                discount_id=discount.id if discount else None,
            )
        )
    result = (tuple(lines), sum(line.amount for line in lines))
    if len(rules.month_cache) >= _MONTH_CACHE_LIMIT:
        rules.month_cache.clear()
    rules.month_cache[key] = result
    return result


def _as_month(value: YearMonth | str, field: str, found: list[Problem]) -> YearMonth | None:
    if isinstance(value, YearMonth):
        return value
    try:
        return YearMonth.parse(value)
    except (ValueError, TypeError):
        found.append(Problem.of(field, "period.format"))
        return None


def _months_problems(
    rules: RuleSet, months: object, allowed: Iterable[int] | None
) -> list[Problem]:
    if not isinstance(months, int) or isinstance(months, bool):
        return [Problem.of("months", "field.type", {"expected": "integer"})]
    limit = rules.policy.max_months
    if not 1 <= months <= limit:
        return [Problem.of("months", "months.range", {"max": limit})]
    allowed_set = tuple(rules.policy.standard_month_counts if allowed is None else allowed)
    if months not in allowed_set:
        listed = ", ".join(str(m) for m in sorted(allowed_set))
        return [Problem.of("months", "months.not_allowed", {"months": months, "allowed": listed})]
    return []


def quote(
    *,
    start: YearMonth | str,
    months: int,
    income: int | None = None,
    occupations: Sequence[str] | str | None = None,
    programs: Iterable[Program | str] | None = None,
    participant: Participant | None = None,
    payer: Payer | PayerKind | str = PayerKind.SELF,
    joined: YearMonth | str | None = None,
    allowed_months: Iterable[int] | None = None,
    rules: RuleSet,
) -> Quote:
    """Price ``months`` contribution months from ``start`` by ``rules``.

    Give either a ``participant`` or ``income``, ``occupations`` and ``programs``; explicit
    arguments win over the participant's. ``joined`` is the participant's first month of
    membership (only the PP 49/2020 joiner rule uses it). ``allowed_months`` is the channel's set
    of month counts (default: the rule set's standard 1, 3, 6, 12).

    Raises :class:`~jamsostek_channels.errors.InvalidInput` with every problem at once.
    :func:`jamsostek_channels.quote` is this function with the packaged rules by default.

    >>> from jamsostek_channels.rules import default_rules
    >>> q = quote(income=2_800_000, occupations="pedagang", programs=["jkk", "jkm"],
    ...           start="2026-11", months=3, rules=default_rules())
    >>> [(str(m.period), m.total, m.discount) for m in q.by_month()]
    [('2026-11', 18150, 'PP 50/2025'), ('2026-12', 18150, 'PP 50/2025'), ('2027-01', 36300, None)]
    """
    found: list[Problem] = []
    if participant is not None:
        income = participant.income if income is None else income
        occupations = participant.occupations if occupations is None else occupations
        programs = participant.programs if programs is None else programs
    if income is None:
        found.append(Problem.of("income", "field.required"))
    else:
        found += rules.income_problems(income)
    if isinstance(occupations, str):
        occupations = (occupations,)
    occupation_codes = tuple(str(code_key(o)) for o in occupations or ())
    found += rules.occupation_problems(occupation_codes)
    program_codes = [
        p.value if isinstance(p, Program) else str(code_key(p)) for p in programs or ()
    ]
    found += rules.program_problems(program_codes, occupation_codes)
    if not isinstance(payer, Payer):
        try:
            payer = Payer(PayerKind(payer))
        except ValueError:
            found.append(Problem.of("payer", "payer.kind", {"kind": echo(payer)}))
            payer = Payer.self_paid()
    found += rules.payer_problems(payer)
    first = _as_month(start, "start", found)
    joined_month = _as_month(joined, "joined", found) if joined is not None else None
    found += _months_problems(rules, months, allowed_months)
    if found:
        raise InvalidInput(found)
    assert first is not None
    assert income is not None

    if first.index + months - 1 > _LAST_MONTH.index:
        raise RuleViolation("months.no_rule", {"period": _LAST_MONTH + 0}, field="start")
    chosen = tuple(p for p in Program if p.value in program_codes)
    occupation_class = rules.occupation_class(occupation_codes)
    budget = rules.budget_source(payer)
    lines: list[QuoteLine] = []
    total = 0
    index = first.index
    for offset in range(months):
        period = YearMonth.from_index(index + offset)
        month_lines, month_total = _month_lines(
            rules, period, income, occupation_class, budget, joined_month, chosen
        )
        lines += month_lines
        total += month_total
    return Quote(
        income=income,
        occupations=occupation_codes,
        programs=chosen,
        payer=payer,
        start=first,
        months=months,
        joined=joined_month,
        lines=tuple(lines),
        total=total,
    )
