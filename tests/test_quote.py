"""Pricing: discounts by contribution month, joiners, straddling quotes, validation, rounding.

Expected amounts are worked out by hand from bpu-rules.md: at income Rp2.800.000 (level 10, base
Rp2.950.000) JKK is 29.500, JKM 6.800, JHT 59.000 (95.300 a month); PP 50/2025 halves JKK and JKM
(14.750 + 3.400 + 59.000 = 77.150). At level 1 JKK is 10.000, JKM 6.800, JHT 20.000; PP 49/2020
keeps 1% of JKK and JKM (100 and 68).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import participant_data

import jamsostek_channels.rules as rules_module
from jamsostek_channels import parse_participant, quote
from jamsostek_channels.errors import InvalidInput, RuleViolation
from jamsostek_channels.model import Payer, PayerKind, Program, Quote, QuoteLine
from jamsostek_channels.period import YearMonth
from jamsostek_channels.pricing import round_half_up
from jamsostek_channels.rules import RuleSet, load_rules

ALL = ["jkk", "jkm", "jht"]
INCOME = 2_800_000  # level 10, base 2.950.000

FULL_10 = {Program.JKK: 29_500, Program.JKM: 6_800, Program.JHT: 59_000}
HALF_10 = {Program.JKK: 14_750, Program.JKM: 3_400, Program.JHT: 59_000}
FULL_1 = {Program.JKK: 10_000, Program.JKM: 6_800, Program.JHT: 20_000}
PP49_1 = {Program.JKK: 100, Program.JKM: 68, Program.JHT: 20_000}

PP50 = "PP 50/2025"
PP49 = "PP 49/2020"
TRANSPORT_ID = "pp-50-2025-transport"
OTHER_ID = "pp-50-2025-other"


def _one_month(period: str, **kwargs: Any) -> dict[Program, QuoteLine]:
    args: dict[str, Any] = {"income": INCOME, "programs": ALL, "start": period, "months": 1}
    args.update(kwargs)
    q = quote(**args)
    assert q.periods == (YearMonth.parse(period),)
    return {line.program: line for line in q.lines}


def _amounts(lines: dict[Program, QuoteLine]) -> dict[Program, int]:
    return {program: line.amount for program, line in lines.items()}


def _by_period(q: Quote) -> dict[str, dict[Program, int]]:
    out: dict[str, dict[Program, int]] = {}
    for line in q.lines:
        out.setdefault(str(line.period), {})[line.program] = line.amount
    return out


# PP 50/2025 windows --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("occupation", "period", "discount_id"),
    [
        # Transport: Jan 2026 - Mar 2027.
        ("ojek-online", "2025-12", None),
        ("ojek-online", "2026-01", TRANSPORT_ID),
        ("ojek-online", "2026-02", TRANSPORT_ID),
        ("ojek-online", "2026-12", TRANSPORT_ID),
        ("ojek-online", "2027-01", TRANSPORT_ID),
        ("ojek-online", "2027-03", TRANSPORT_ID),
        ("ojek-online", "2027-04", None),
        ("kurir", "2026-01", TRANSPORT_ID),
        ("becak", "2027-03", TRANSPORT_ID),
        ("pengemudi-lainnya", "2027-04", None),
        # Everyone else: Apr 2026 - Dec 2026.
        ("pedagang", "2026-01", None),
        ("pedagang", "2026-03", None),
        ("pedagang", "2026-04", OTHER_ID),
        ("pedagang", "2026-05", OTHER_ID),
        ("pedagang", "2026-12", OTHER_ID),
        ("pedagang", "2027-01", None),
        ("pedagang", "2027-03", None),
        ("petani", "2026-04", OTHER_ID),
        ("asisten-rumah-tangga", "2026-12", OTHER_ID),
    ],
)
def test_pp50_window(occupation: str, period: str, discount_id: str | None) -> None:
    lines = _one_month(period, occupations=occupation)
    if discount_id is None:
        assert _amounts(lines) == FULL_10
        assert all(line.discount is None and line.discount_id is None for line in lines.values())
    else:
        assert _amounts(lines) == HALF_10
        for program in (Program.JKK, Program.JKM):
            assert lines[program].discount == PP50
            assert lines[program].discount_id == discount_id
    # JHT is never cut, and the full amounts are what the month would cost undiscounted.
    assert lines[Program.JHT].discount is None
    assert lines[Program.JHT].discount_id is None
    assert {p: line.full_amount for p, line in lines.items()} == FULL_10
    assert {line.level for line in lines.values()} == {10}
    assert lines[Program.JKK].base == 2_950_000
    assert lines[Program.JKM].base == 6_800


@pytest.mark.parametrize("occupations", [["pedagang", "ojek-online"], ["sopir", "petani"]])
@pytest.mark.parametrize("period", ["2026-01", "2026-03", "2027-01", "2027-03"])
def test_two_occupations_one_transport_gets_the_transport_window(
    occupations: list[str], period: str
) -> None:
    lines = _one_month(period, occupations=occupations)
    assert _amounts(lines) == HALF_10
    assert lines[Program.JKK].discount_id == TRANSPORT_ID


@pytest.mark.parametrize(
    "payer",
    [
        PayerKind.SELF,
        PayerKind.SERTAKAN,
        PayerKind.CREDIT_UNION,
        PayerKind.APBDES,
        Payer(PayerKind.CSR, name="Donatur"),
        Payer(PayerKind.CSR, name="PT Maju", scheme="SC"),
        Payer(PayerKind.CSR, name="Bank Jaya", scheme="SB"),
        Payer(PayerKind.CSR, name="Desa Sukamaju", scheme="SD"),
        Payer(PayerKind.CSR, name="Komunitas", scheme="SL"),
    ],
    ids=str,
)
@pytest.mark.parametrize(
    ("occupation", "period"),
    [("ojek-online", "2026-01"), ("ojek-online", "2027-03"), ("pedagang", "2026-04")],
)
def test_pp50_for_privately_and_village_funded_payers(
    payer: Payer | PayerKind, occupation: str, period: str
) -> None:
    assert _amounts(_one_month(period, occupations=occupation, payer=payer)) == HALF_10


@pytest.mark.parametrize(
    "payer",
    [
        PayerKind.APBD,
        PayerKind.APBN,
        "apbd",
        "apbn",
        Payer(PayerKind.APBD, name="Pemkab Bogor"),
        Payer(PayerKind.CSR, name="Pemprov", scheme="SA"),
        Payer(PayerKind.CSR, name="Kementerian", scheme="SG"),
    ],
    ids=str,
)
@pytest.mark.parametrize(
    ("occupation", "period"),
    [("ojek-online", "2026-01"), ("ojek-online", "2027-03"), ("pedagang", "2026-06")],
)
def test_no_pp50_for_state_or_regional_budgets(
    payer: Payer | PayerKind | str, occupation: str, period: str
) -> None:
    lines = _one_month(period, occupations=occupation, payer=payer)
    assert _amounts(lines) == FULL_10
    assert all(line.discount is None for line in lines.values())


def test_pp50_applies_to_new_participants() -> None:
    """PP 50/2025 is for active *and new* BPU: a joiner is discounted from the first month."""
    q = quote(
        income=INCOME,
        occupations="ojek-online",
        programs=ALL,
        start="2026-11",
        months=3,
        joined="2026-11",
    )
    assert list(_by_period(q).values()) == [HALF_10, HALF_10, HALF_10]


# Straddling the end of a policy --------------------------------------------------------------


def test_trader_from_november_2026_for_12_months() -> None:
    q = quote(income=INCOME, occupations="pedagang", programs=ALL, start="2026-11", months=12)
    months = _by_period(q)
    assert list(months) == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
        "2027-03",
        "2027-04",
        "2027-05",
        "2027-06",
        "2027-07",
        "2027-08",
        "2027-09",
        "2027-10",
    ]
    assert list(months.values()) == [HALF_10] * 2 + [FULL_10] * 10
    # 2 x 77.150 + 10 x 95.300
    assert q.total == 1_107_300
    assert q.full_total == 12 * 95_300
    assert [m.discount for m in q.by_month()] == [PP50] * 2 + [None] * 10


def test_ojek_online_from_november_2026_for_12_months() -> None:
    q = quote(income=INCOME, occupations="ojek-online", programs=ALL, start="2026-11", months=12)
    assert list(_by_period(q).values()) == [HALF_10] * 5 + [FULL_10] * 7
    # 5 x 77.150 + 7 x 95.300
    assert q.total == 1_052_850
    assert q.full_total == 1_143_600
    assert [m.discount for m in q.by_month()] == [PP50] * 5 + [None] * 7


def test_level_1_ojek_online_jkk_jkm_straddle() -> None:
    q = quote(
        income=0, occupations="ojek-online", programs=["jkk", "jkm"], start="2027-01", months=6
    )
    # Jan-Mar 2027: 5.000 + 3.400; Apr-Jun: 10.000 + 6.800.
    assert [m.total for m in q.by_month()] == [8_400] * 3 + [16_800] * 3
    assert q.total == 75_600


def test_docstring_example() -> None:
    q = quote(
        income=INCOME, occupations="pedagang", programs=["jkk", "jkm"], start="2026-11", months=3
    )
    assert [(str(m.period), m.total, m.discount) for m in q.by_month()] == [
        ("2026-11", 18_150, PP50),
        ("2026-12", 18_150, PP50),
        ("2027-01", 36_300, None),
    ]


@pytest.mark.parametrize("occupation", ["ojek-online", "pedagang", "petani"])
@pytest.mark.parametrize("payer", [PayerKind.SELF, PayerKind.APBD])
def test_jht_is_never_discounted(occupation: str, payer: PayerKind) -> None:
    q = quote(
        income=INCOME,
        occupations=occupation,
        programs=ALL,
        start="2026-01",
        months=12,
        payer=payer,
    )
    jht = [line for line in q.lines if line.program is Program.JHT]
    assert len(jht) == 12
    assert all(line.amount == line.full_amount == 59_000 for line in jht)
    assert all(line.discount is None for line in jht)
    q49 = quote(income=0, occupations=occupation, programs=ALL, start="2020-08", months=6)
    jht49 = [line for line in q49.lines if line.program is Program.JHT]
    assert [line.amount for line in jht49] == [20_000] * 6


# PP 49/2020 ----------------------------------------------------------------------------------


def test_pp49_window_and_amounts() -> None:
    q = quote(income=0, occupations="petani", programs=ALL, start="2020-07", months=12)
    months = _by_period(q)
    assert list(months.values()) == [FULL_1] + [PP49_1] * 6 + [FULL_1] * 5
    assert list(months)[1] == "2020-08"
    assert list(months)[6] == "2021-01"
    # 6 x 36.800 + 6 x (100 + 68 + 20.000)
    assert q.total == 341_808
    names = {(line.discount, line.discount_id) for line in q.lines if line.discount}
    assert names == {(PP49, "pp-49-2020")}


def test_pp49_at_level_10() -> None:
    lines = _one_month("2020-10", occupations="ojek-online")
    assert _amounts(lines) == {Program.JKK: 295, Program.JKM: 68, Program.JHT: 59_000}


@pytest.mark.parametrize("payer", [PayerKind.APBD, PayerKind.APBN])
def test_pp49_has_no_budget_exclusion(payer: PayerKind) -> None:
    lines = _one_month("2020-08", income=0, occupations="petani", payer=payer)
    assert _amounts(lines) == PP49_1


@pytest.mark.parametrize("joined", [None, "2015-07", "2019-03", "2020-07"])
def test_pp49_existing_participants_relief_from_august(joined: str | None) -> None:
    q = quote(
        income=0,
        occupations="petani",
        programs=["jkk", "jkm"],
        start="2020-07",
        months=12,
        joined=joined,
    )
    # Jul full, Aug 2020 - Jan 2021 at 1%, Feb - Jun full.
    assert [m.total for m in q.by_month()] == [16_800] + [168] * 6 + [16_800] * 5


F, D = 16_800, 168  # level 1 JKK + JKM: in full, and at 1% under PP 49/2020


@pytest.mark.parametrize(
    ("joined", "expected"),
    [
        # Joined Aug 2020: Aug and Sep in full, relief from Oct (month 3) to Jan 2021.
        ("2020-08", [F, F, D, D, D, D]),
        ("2020-09", [F, F, D, D, D, F]),
        ("2020-10", [F, F, D, D, F, F]),
        ("2020-11", [F, F, D, F, F, F]),
        # Joined Dec 2020: Dec and Jan in full, and the relief has ended by month 3.
        ("2020-12", [F, F, F, F, F, F]),
        ("2021-01", [F, F, F, F, F, F]),
    ],
)
def test_pp49_joiner_pays_first_two_months_in_full(joined: str, expected: list[int]) -> None:
    q = quote(
        income=0,
        occupations="petani",
        programs=["jkk", "jkm"],
        start=joined,
        months=6,
        joined=joined,
    )
    assert [m.total for m in q.by_month()] == expected


def test_pp49_joiner_from_their_first_month() -> None:
    q = quote(
        income=0,
        occupations="petani",
        programs=["jkk", "jkm"],
        start="2020-09",
        months=6,
        joined=YearMonth(2020, 9),
    )
    # Sep, Oct full; Nov, Dec, Jan at 1%; Feb full (window over).
    assert [m.total for m in q.by_month()] == [16_800, 16_800, 168, 168, 168, 16_800]
    assert q.total == 50_904
    assert q.joined == YearMonth(2020, 9)


# Quoting a participant -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "start"),
    [
        ({"occupations": ["ojek-online"], "programs": ALL}, "2026-11"),
        ({"occupations": ["pedagang"], "programs": ["jkk", "jkm"]}, "2026-11"),
        ({"occupations": ["pedagang", "kurir"], "income": 20_200_000, "programs": ALL}, "2027-01"),
    ],
)
def test_quote_via_participant_equals_explicit_args(
    today: dt.date, changes: dict[str, Any], start: str
) -> None:
    data = participant_data(**changes)
    participant = parse_participant(data, as_of=today)
    via_participant = quote(participant=participant, start=start, months=12)
    explicit = quote(
        income=data["income"],
        occupations=data["occupations"],
        programs=data["programs"],
        start=start,
        months=12,
    )
    assert via_participant.lines == explicit.lines
    assert via_participant.total == explicit.total
    assert via_participant.programs == explicit.programs
    assert via_participant.occupations == tuple(data["occupations"])


def test_participant_ojek_online_total(today: dt.date) -> None:
    participant = parse_participant(
        participant_data(occupations=["ojek-online"], programs=ALL), as_of=today
    )
    assert quote(participant=participant, start="2026-11", months=12).total == 1_052_850


def test_explicit_args_override_the_participant(today: dt.date) -> None:
    participant = parse_participant(participant_data(), as_of=today)
    q = quote(participant=participant, income=0, programs=ALL, start="2027-01", months=1)
    assert {line.program: line.amount for line in q.lines} == FULL_1
    assert q.income == 0


# Validation ----------------------------------------------------------------------------------


def _problems(**kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        quote(**kwargs)
    problems = caught.value.problems
    for problem in problems:
        assert problem.field
        assert problem.code
        assert problem.message_id.strip()
        assert problem.message_en.strip()
    return sorted((p.field, p.code) for p in problems)


def test_every_problem_at_once() -> None:
    found = _problems(
        income=-1,
        occupations=["pedagang", "petani", "astronot"],
        programs=["jkk", "jp"],
        start="2026-13",
        months=2,
    )
    assert found == [
        ("income", "income.negative"),
        ("months", "months.not_allowed"),
        ("occupations", "occupations.too_many"),
        ("occupations", "occupations.unknown"),
        ("programs", "programs.not_for_bpu"),
        ("start", "period.format"),
    ]


def test_every_problem_at_once_other_values() -> None:
    found = _problems(
        income="dua juta",
        occupations=[],
        programs=["jht"],
        start="Nov 2026",
        months=13,
        payer="tetangga",
        joined="kemarin",
    )
    assert found == [
        ("income", "field.type"),
        ("joined", "period.format"),
        ("months", "months.range"),
        ("occupations", "occupations.empty"),
        ("payer", "payer.kind"),
        ("programs", "programs.jkk_jkm_required"),
        ("start", "period.format"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"income": None}, [("income", "field.required")]),
        ({"income": True}, [("income", "field.type")]),
        ({"income": 2_800_000.0}, [("income", "field.type")]),
        ({"occupations": "astronot"}, [("occupations", "occupations.unknown")]),
        (
            {"occupations": ["pedagang", "petani", "nelayan"]},
            [("occupations", "occupations.too_many")],
        ),
        ({"occupations": ["pedagang", "pedagang"]}, [("occupations", "occupations.duplicate")]),
        ({"programs": ["jkk"]}, [("programs", "programs.jkk_jkm_required")]),
        ({"programs": ["jkk", "jkm", "jkp"]}, [("programs", "programs.not_for_bpu")]),
        ({"programs": ["jkk", "jkm", "abc"]}, [("programs", "programs.unknown")]),
        (
            {"occupations": "pemberi-kerja", "programs": ["jkk", "jkm"]},
            [("programs", "programs.jht_required")],
        ),
        ({"start": "2026-00"}, [("start", "period.format")]),
        ({"start": "2026/11"}, [("start", "period.format")]),
        ({"months": 2}, [("months", "months.not_allowed")]),
        ({"months": 5}, [("months", "months.not_allowed")]),
        ({"months": 13}, [("months", "months.range")]),
        ({"months": 0}, [("months", "months.range")]),
        ({"months": True}, [("months", "field.type")]),
    ],
)
def test_single_problem(kwargs: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    args: dict[str, Any] = {
        "income": INCOME,
        "occupations": "pedagang",
        "programs": ["jkk", "jkm"],
        "start": "2026-11",
        "months": 3,
    }
    args.update(kwargs)
    assert _problems(**args) == expected


def test_months_not_allowed_message_lists_the_allowed_counts() -> None:
    with pytest.raises(InvalidInput) as caught:
        quote(
            income=INCOME,
            occupations="pedagang",
            programs=["jkk", "jkm"],
            start="2026-11",
            months=2,
        )
    (problem,) = caught.value.problems
    for count in ("1", "3", "6", "12"):
        assert count in problem.message_en


@pytest.mark.parametrize("months", [1, 3, 6, 12])
def test_standard_month_counts(months: int) -> None:
    q = quote(income=INCOME, occupations="pedagang", programs=ALL, start="2026-11", months=months)
    assert q.months == months
    assert len(q.periods) == months
    assert len(q.lines) == 3 * months


@pytest.mark.parametrize("months", range(1, 13))
def test_allowed_months_override(months: int) -> None:
    q = quote(
        income=INCOME,
        occupations="pedagang",
        programs=["jkk", "jkm"],
        start="2026-11",
        months=months,
        allowed_months=range(1, 13),
    )
    assert len(q.periods) == months
    assert q.periods[0] == YearMonth(2026, 11)
    assert q.periods[-1] == YearMonth(2026, 11) + (months - 1)
    # Nov and Dec 2026 discounted for a trader, the rest full.
    discounted = min(months, 2)
    assert q.total == discounted * 18_150 + (months - discounted) * 36_300


def test_allowed_months_can_restrict() -> None:
    assert _problems(
        income=INCOME,
        occupations="pedagang",
        programs=["jkk", "jkm"],
        start="2026-11",
        months=3,
        allowed_months=[1],
    ) == [("months", "months.not_allowed")]


def test_allowed_months_cannot_exceed_the_policy_maximum() -> None:
    assert _problems(
        income=INCOME,
        occupations="pedagang",
        programs=["jkk", "jkm"],
        start="2026-11",
        months=13,
        allowed_months=range(1, 25),
    ) == [("months", "months.range")]


def test_quote_result_fields() -> None:
    q = quote(
        income=INCOME,
        occupations=["pedagang"],
        programs=["jht", "jkm", "jkk"],
        start=YearMonth(2026, 11),
        months=1,
        payer="sertakan",
    )
    assert q.programs == (Program.JKK, Program.JKM, Program.JHT)
    assert [line.program for line in q.lines] == [Program.JKK, Program.JKM, Program.JHT]
    assert q.payer == Payer(PayerKind.SERTAKAN)
    assert q.start == YearMonth(2026, 11)
    assert q.income == INCOME
    assert q.joined is None


# Cache ---------------------------------------------------------------------------------------


def test_month_cache_gives_identical_results(rules: RuleSet) -> None:
    args: dict[str, Any] = {
        "income": INCOME,
        "occupations": "ojek-online",
        "programs": ALL,
        "start": "2026-11",
        "months": 12,
    }
    first = quote(**args)
    assert rules.month_cache
    second = quote(**args)
    assert first == second
    assert first.lines == second.lines


def test_month_cache_does_not_mix_payers_occupations_or_joiners() -> None:
    def month(**kwargs: Any) -> dict[Program, int]:
        return _amounts(_one_month(**kwargs))

    for _ in range(2):  # second round answers from the cache
        assert month(period="2026-06", occupations="pedagang") == HALF_10
        assert month(period="2026-06", occupations="pedagang", payer="apbd") == FULL_10
        assert month(period="2027-02", occupations="pedagang") == FULL_10
        assert month(period="2027-02", occupations="kurir") == HALF_10
        assert month(period="2020-09", occupations="petani", income=0) == PP49_1
        assert month(period="2020-09", occupations="petani", income=0, joined="2020-09") == FULL_1
        assert month(period="2026-06", occupations="pedagang", income=2_700_000) == HALF_10
        assert month(period="2026-06", occupations="pedagang", income=2_699_999) == {
            Program.JKK: 13_000,
            Program.JKM: 3_400,
            Program.JHT: 52_000,
        }


def test_no_rates_before_the_tables_start() -> None:
    with pytest.raises(RuleViolation) as caught:
        quote(income=INCOME, occupations="pedagang", programs=ALL, start="2015-06", months=1)
    assert caught.value.code == "months.no_rule"


# Rounding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (0, 10, 0),
        (4, 10, 0),
        (5, 10, 1),
        (6, 10, 1),
        (14, 10, 1),
        (15, 10, 2),
        (25, 10, 3),  # half-up, not half-to-even
        (35, 10, 4),
        (49, 100, 0),
        (50, 100, 1),
        (10_000, 1, 10_000),
        (1, 3, 0),
        (2, 3, 1),
        (3_400_050, 100, 34_001),
    ],
)
def test_round_half_up(numerator: int, denominator: int, expected: int) -> None:
    result = round_half_up(numerator, denominator)
    assert result == expected
    assert type(result) is int


def _rules_with_other_cut(tmp_path: Path, cut_bp: int) -> RuleSet:
    directory = tmp_path / "rules"
    shutil.copytree(Path(rules_module.__file__).parent / "data", directory)
    path = directory / "discounts.toml"
    old = 'cut_bp = 5000\nfirst_month = "2026-04"'
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, f'cut_bp = {cut_bp}\nfirst_month = "2026-04"'), "utf-8")
    return load_rules(directory)


def _pedagang_june(rules: RuleSet, income: int) -> dict[Program, int]:
    q = quote(
        income=income, occupations="pedagang", programs=ALL, start="2026-06", months=1, rules=rules
    )
    return {line.program: line.amount for line in q.lines}


@pytest.mark.parametrize(
    ("income", "expected"),
    [
        # keep 66,67%: JKK = base x 1% x 0,6667; JKM = 6.800 x 0,6667 = 4.533,56 -> 4.534.
        (0, {Program.JKK: 6_667, Program.JKM: 4_534, Program.JHT: 20_000}),
        # 12.000 x 0,6667 = 8.000,4 -> 8.000 (rounds down)
        (1_100_000, {Program.JKK: 8_000, Program.JKM: 4_534, Program.JHT: 24_000}),
        # 18.000 x 0,6667 = 12.000,6 -> 12.001
        (1_700_000, {Program.JKK: 12_001, Program.JKM: 4_534, Program.JHT: 36_000}),
        # 29.500 x 0,6667 = 19.667,65 -> 19.668
        (INCOME, {Program.JKK: 19_668, Program.JKM: 4_534, Program.JHT: 59_000}),
        # 207.000 x 0,6667 = 138.006,9 -> 138.007
        (20_200_000, {Program.JKK: 138_007, Program.JKM: 4_534, Program.JHT: 414_000}),
    ],
)
def test_fractional_discount_rounds_each_line(
    tmp_path: Path, income: int, expected: dict[Program, int]
) -> None:
    edited = _rules_with_other_cut(tmp_path, 3333)
    assert _pedagang_june(edited, income) == expected


@pytest.mark.parametrize(
    ("income", "expected"),
    [
        # keep 66,70%: 29.500 x 0,667 = 19.676,5 exactly -> 19.677 (half-up)
        (INCOME, {Program.JKK: 19_677, Program.JKM: 4_536, Program.JHT: 59_000}),
        # 34.500 x 0,667 = 23.011,5 exactly -> 23.012 (half-up, not to even)
        (3_200_000, {Program.JKK: 23_012, Program.JKM: 4_536, Program.JHT: 69_000}),
        # 10.000 x 0,667 = 6.670; 6.800 x 0,667 = 4.535,6 -> 4.536
        (0, {Program.JKK: 6_670, Program.JKM: 4_536, Program.JHT: 20_000}),
    ],
)
def test_exact_half_rounds_up(tmp_path: Path, income: int, expected: dict[Program, int]) -> None:
    edited = _rules_with_other_cut(tmp_path, 3330)
    assert _pedagang_june(edited, income) == expected


def test_fractional_rounding_does_not_touch_other_months(tmp_path: Path) -> None:
    edited = _rules_with_other_cut(tmp_path, 3333)
    q = quote(
        income=INCOME,
        occupations="pedagang",
        programs=["jkk", "jkm"],
        start="2026-12",
        months=3,
        rules=edited,
    )
    assert [m.total for m in q.by_month()] == [19_668 + 4_534, 36_300, 36_300]
    assert all(type(line.amount) is int for line in q.lines)


def test_fractional_rule_set_has_its_own_cache(tmp_path: Path) -> None:
    edited = _rules_with_other_cut(tmp_path, 3333)
    packaged = _one_month("2026-06", occupations="pedagang")
    assert _amounts(packaged) == HALF_10
    assert _pedagang_june(edited, INCOME)[Program.JKK] == 19_668
    again = _one_month("2026-06", occupations="pedagang")
    assert list(packaged.values()) == list(again.values())
