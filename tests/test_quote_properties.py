"""Properties of quotes that hold for any participant, payer, month and period length."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from jamsostek_channels import quote
from jamsostek_channels.model import Payer, PayerKind, Program, Quote
from jamsostek_channels.period import YearMonth
from jamsostek_channels.rules import default_rules

ANY_COUNT = range(1, 13)

#: Input values only (occupation codes to pick from); no expected value is read from the rules.
OCCUPATIONS = sorted(default_rules().occupations)

PAYERS = [
    Payer(PayerKind.SELF),
    Payer(PayerKind.SERTAKAN, name="Budi"),
    Payer(PayerKind.CREDIT_UNION, name="CU Sejahtera"),
    Payer(PayerKind.APBD, name="Pemkab Bogor"),
    Payer(PayerKind.APBN, name="Kemnaker"),
    Payer(PayerKind.APBDES, name="Desa Cibinong"),
    Payer(PayerKind.CSR, name="Donatur"),
    *(Payer(PayerKind.CSR, name="Donatur", scheme=s) for s in ("SC", "SB", "SG", "SD", "SA", "SL")),
]

#: Level floors from bpu-rules.md §2, to aim incomes at the boundaries.
FLOORS = [0, 1_100_000, 1_300_000, 1_500_000, 1_700_000, 1_900_000, 2_100_000, 2_300_000]
FLOORS += [2_500_000, 2_700_000, *range(3_200_000, 8_200_000, 500_000)]
FLOORS += list(range(8_200_000, 20_200_001, 1_000_000))

FIRST = YearMonth(2015, 7)  # the tables start here
#: Months around every discount edge (PP 49/2020, PP 50/2025 for both classes).
EDGES = ["2020-06", "2020-07", "2020-08", "2020-11", "2021-01", "2021-02"]
EDGES += ["2025-11", "2025-12", "2026-01", "2026-03", "2026-04", "2026-11"]
EDGES += ["2026-12", "2027-01", "2027-03", "2027-04"]

incomes = st.one_of(
    st.integers(min_value=0, max_value=30_000_000),
    st.sampled_from(FLOORS).flatmap(
        lambda f: st.integers(min_value=max(f - 2, 0), max_value=f + 2)
    ),
)
months_from_first = st.integers(min_value=0, max_value=(2031 - 2015) * 12)
months = st.one_of(
    st.sampled_from(EDGES).map(YearMonth.parse),
    months_from_first.map(lambda n: FIRST + n),
)
joined = st.one_of(st.none(), months)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Everything but income, start and length."""
    occupations = draw(st.lists(st.sampled_from(OCCUPATIONS), min_size=1, max_size=2, unique=True))
    programs = ["jkk", "jkm", "jht"]
    if "pemberi-kerja" not in occupations and draw(st.booleans()):
        programs = ["jkk", "jkm"]
    return {
        "occupations": occupations,
        "programs": draw(st.permutations(programs)),
        "payer": draw(st.sampled_from(PAYERS)),
        "joined": draw(joined),
    }


def _quote(scenario: dict[str, Any], income: int, start: YearMonth, count: int) -> Quote:
    return quote(**scenario, income=income, start=start, months=count, allowed_months=ANY_COUNT)


@given(
    scenario=scenarios(),
    a=incomes,
    b=incomes,
    start=months,
    count=st.integers(1, 12),
)
def test_monotone_in_income(
    scenario: dict[str, Any], a: int, b: int, start: YearMonth, count: int
) -> None:
    low, high = sorted((a, b))
    cheap = _quote(scenario, low, start, count)
    dear = _quote(scenario, high, start, count)
    assert cheap.total <= dear.total
    assert cheap.full_total <= dear.full_total
    assert len(cheap.lines) == len(dear.lines)
    for x, y in zip(cheap.lines, dear.lines, strict=True):
        assert (x.period, x.program) == (y.period, y.program)
        assert x.level <= y.level
        assert x.amount <= y.amount
        assert x.full_amount <= y.full_amount


@given(scenario=scenarios(), income=incomes, start=months, count=st.integers(1, 12))
def test_total_is_the_sum_of_the_lines(
    scenario: dict[str, Any], income: int, start: YearMonth, count: int
) -> None:
    q = _quote(scenario, income, start, count)
    programs = {Program(p) for p in scenario["programs"]}
    assert len(q.lines) == count * len(programs)
    assert q.total == sum(line.amount for line in q.lines)
    assert q.total == sum(m.total for m in q.by_month())
    assert q.full_total == sum(line.full_amount for line in q.lines)
    assert q.total <= q.full_total
    for line in q.lines:
        assert 0 < line.amount <= line.full_amount
        assert line.program in programs
        # A line is cut exactly when it names the regulation that cut it.
        assert (line.discount is None) == (line.amount == line.full_amount)
        assert (line.discount is None) == (line.discount_id is None)
        if line.program is Program.JHT:
            assert line.discount is None


@given(
    scenario=scenarios(),
    income=incomes,
    start=months,
    a=st.integers(1, 11),
    data=st.data(),
)
def test_split_quotes_add_up(
    scenario: dict[str, Any], income: int, start: YearMonth, a: int, data: st.DataObject
) -> None:
    b = data.draw(st.integers(1, 12 - a), label="b")
    first = _quote(scenario, income, start, a)
    second = _quote(scenario, income, start + a, b)
    whole = _quote(scenario, income, start, a + b)
    assert first.lines + second.lines == whole.lines
    assert first.total + second.total == whole.total


@given(
    scenario=scenarios(),
    income=incomes,
    start=months,
    count=st.integers(1, 12),
    other_start=months,
)
def test_a_months_price_does_not_depend_on_the_quote(
    scenario: dict[str, Any], income: int, start: YearMonth, count: int, other_start: YearMonth
) -> None:
    q = _quote(scenario, income, start, count)
    by_period: dict[YearMonth, list[Any]] = {}
    for line in q.lines:
        by_period.setdefault(line.period, []).append(line)
    assert list(by_period) == [start + n for n in range(count)]
    for period, lines in by_period.items():
        assert list(_quote(scenario, income, period, 1).lines) == lines
    # The same month inside a longer quote that starts elsewhere (up to 11 months earlier).
    period = start + count - 1
    offset = max(0, min(11, period - other_start))
    longer = _quote(scenario, income, period - offset, offset + 1)
    assert [line for line in longer.lines if line.period == period] == by_period[period]


@given(scenario=scenarios(), income=incomes, start=months)
def test_full_amounts_depend_only_on_income_and_month(
    scenario: dict[str, Any], income: int, start: YearMonth
) -> None:
    q = _quote(scenario, income, start, 1)
    plain = quote(
        income=income, occupations="petani", programs=scenario["programs"], start=start, months=1
    )
    assert [(x.program, x.level, x.base, x.full_amount) for x in q.lines] == [
        (y.program, y.level, y.base, y.full_amount) for y in plain.lines
    ]


@given(scenario=scenarios(), income=incomes, start=months, count=st.integers(1, 12))
def test_money_is_int(scenario: dict[str, Any], income: int, start: YearMonth, count: int) -> None:
    q = _quote(scenario, income, start, count)
    for value in (q.total, q.full_total, q.income):
        assert type(value) is int
    for line in q.lines:
        for value in (line.amount, line.full_amount, line.base, line.level):
            assert type(value) is int
    for summary in q.by_month():
        assert type(summary.total) is int
        assert all(type(v) is int for v in summary.amounts.values())
