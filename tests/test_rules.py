"""The BPU rule set: income levels, programs, payers, occupations, due dates, data loading.

Every expected figure below is copied from docs/domain ``bpu-rules.md`` (the regulation facts),
never read back from the library's own tables.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

import jamsostek_channels.rules as rules_module
from jamsostek_channels import quote
from jamsostek_channels.errors import InvalidInput
from jamsostek_channels.model import BudgetSource, Confidence, Payer, PayerKind, Program
from jamsostek_channels.period import YearMonth
from jamsostek_channels.rules import RuleDataError, RuleSet, load_rules

#: bpu-rules.md §2 (PP 44/2015 Lampiran II): (level, from, base), in rupiah.
LEVELS: tuple[tuple[int, int, int], ...] = (
    (1, 0, 1_000_000),
    (2, 1_100_000, 1_200_000),
    (3, 1_300_000, 1_400_000),
    (4, 1_500_000, 1_600_000),
    (5, 1_700_000, 1_800_000),
    (6, 1_900_000, 2_000_000),
    (7, 2_100_000, 2_200_000),
    (8, 2_300_000, 2_400_000),
    (9, 2_500_000, 2_600_000),
    (10, 2_700_000, 2_950_000),
    (11, 3_200_000, 3_450_000),
    (12, 3_700_000, 3_950_000),
    (13, 4_200_000, 4_450_000),
    (14, 4_700_000, 4_950_000),
    (15, 5_200_000, 5_450_000),
    (16, 5_700_000, 5_950_000),
    (17, 6_200_000, 6_450_000),
    (18, 6_700_000, 6_950_000),
    (19, 7_200_000, 7_450_000),
    (20, 7_700_000, 7_950_000),
    (21, 8_200_000, 8_700_000),
    (22, 9_200_000, 9_700_000),
    (23, 10_200_000, 10_700_000),
    (24, 11_200_000, 11_700_000),
    (25, 12_200_000, 12_700_000),
    (26, 13_200_000, 13_700_000),
    (27, 14_200_000, 14_700_000),
    (28, 15_200_000, 15_700_000),
    (29, 16_200_000, 16_700_000),
    (30, 17_200_000, 17_700_000),
    (31, 18_200_000, 18_700_000),
    (32, 19_200_000, 19_700_000),
    (33, 20_200_000, 20_700_000),
)
BASE = {level: base for level, _, base in LEVELS}


def _boundary_cases() -> list[tuple[int, int, int]]:
    """(income, expected level, expected base) at from-1, from and from+1 of every level."""
    cases = []
    for index, (level, start, base) in enumerate(LEVELS):
        below = LEVELS[index - 1] if index else (1, 0, 1_000_000)  # under level 1: level 1
        cases.append((start - 1, below[0], below[2]))
        cases.append((start, level, base))
        cases.append((start + 1, level, base))
    return cases


#: Months on both sides of today, in and out of every discount window.
PERIODS = ("2015-07", "2020-08", "2026-01", "2026-11", "2027-04", "2030-12")

DATA_DIR = Path(rules_module.__file__).parent / "data"


def _data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur exactly once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# Income levels -------------------------------------------------------------------------------


@pytest.mark.parametrize(("income", "level", "base"), _boundary_cases())
def test_level_boundaries(rules: RuleSet, income: int, level: int, base: int) -> None:
    found = rules.level_for(income, YearMonth(2026, 11))
    assert (found.level, found.base) == (level, base)


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("income", [0, 1, 500_000, 999_999, 1_000_000, 1_099_999])
def test_incomes_under_the_second_floor_are_level_1(
    rules: RuleSet, income: int, period: str
) -> None:
    found = rules.level_for(income, YearMonth.parse(period))
    assert (found.level, found.base) == (1, 1_000_000)


@pytest.mark.parametrize("income", [20_200_000, 50_000_000, 1_000_000_000_000])
def test_incomes_above_the_top_floor_are_level_33(rules: RuleSet, income: int) -> None:
    found = rules.level_for(income, YearMonth(2026, 11))
    assert (found.level, found.base) == (33, 20_700_000)


def test_33_levels_exist_with_source_and_confidence(rules: RuleSet) -> None:
    in_force = [r for r in rules.income_levels if r.valid_from <= YearMonth(2026, 11)]
    in_force = [r for r in in_force if r.valid_to is None or r.valid_to >= YearMonth(2026, 11)]
    assert sorted((r.level, r.from_income, r.base) for r in in_force) == list(LEVELS)
    for row in in_force:
        assert row.source.strip()
        assert isinstance(row.confidence, Confidence)
    # Both ends match the official minimum and maximum: high confidence (bpu-rules.md §2).
    by_level = {r.level: r for r in in_force}
    assert by_level[1].confidence is Confidence.H
    assert by_level[33].confidence is Confidence.H


def _month_amounts(income: int, period: str, programs: list[str]) -> dict[Program, int]:
    q = quote(income=income, occupations="petani", programs=programs, start=period, months=1)
    return {line.program: line.amount for line in q.lines}


@pytest.mark.parametrize("period", ["2019-05", "2025-12", "2027-06"])
def test_worked_rows(period: str) -> None:
    """bpu-rules.md §2 worked rows, in months with no discount."""
    all_three = ["jkk", "jkm", "jht"]
    assert _month_amounts(0, period, all_three) == {
        Program.JKK: 10_000,
        Program.JKM: 6_800,
        Program.JHT: 20_000,
    }
    level_10 = _month_amounts(2_800_000, period, all_three)
    assert level_10 == {Program.JKK: 29_500, Program.JKM: 6_800, Program.JHT: 59_000}
    assert sum(level_10.values()) == 95_300
    assert sum(_month_amounts(2_800_000, period, ["jkk", "jkm"]).values()) == 36_300
    level_33 = _month_amounts(25_000_000, period, all_three)
    assert level_33[Program.JKK] == 207_000
    assert level_33[Program.JHT] == 414_000
    # Minimums (bpu-rules.md §1).
    assert sum(_month_amounts(0, period, ["jkk", "jkm"]).values()) == 16_800
    assert sum(_month_amounts(0, period, all_three).values()) == 36_800


@pytest.mark.parametrize(("level", "start", "base"), LEVELS)
def test_every_level_prices_jkk_at_1_and_jht_at_2_percent(
    level: int, start: int, base: int
) -> None:
    q = quote(
        income=start,
        occupations="petani",
        programs=["jkk", "jkm", "jht"],
        start="2027-06",
        months=1,
    )
    lines = {line.program: line for line in q.lines}
    assert {line.level for line in q.lines} == {level}
    assert lines[Program.JKK].base == base
    assert lines[Program.JKK].amount == base // 100
    assert lines[Program.JHT].amount == base * 2 // 100
    assert lines[Program.JKM].amount == 6_800
    assert lines[Program.JKK].amount <= 207_000  # JKK maximum (bpu-rules.md §1)


# Programs ------------------------------------------------------------------------------------


def _codes(rules: RuleSet, programs: list[str], occupations: list[str]) -> list[str]:
    return sorted(p.code for p in rules.program_problems(programs, occupations))


@pytest.mark.parametrize(
    "programs",
    [["jkk", "jkm"], ["jkm", "jkk"], ["jkk", "jkm", "jht"], ["jht", "jkm", "jkk"]],
)
def test_valid_program_sets(rules: RuleSet, programs: list[str]) -> None:
    assert _codes(rules, programs, ["petani"]) == []


@pytest.mark.parametrize(
    "programs",
    [[], ["jkk"], ["jkm"], ["jht"], ["jkk", "jht"], ["jkm", "jht"]],
)
def test_jkk_and_jkm_always_together_and_jht_never_alone(
    rules: RuleSet, programs: list[str]
) -> None:
    assert _codes(rules, programs, ["petani"]) == ["programs.jkk_jkm_required"]


@pytest.mark.parametrize("occupations", [["pemberi-kerja"], ["petani", "pemberi-kerja"]])
def test_jht_mandatory_for_an_individual_employer(rules: RuleSet, occupations: list[str]) -> None:
    assert _codes(rules, ["jkk", "jkm"], occupations) == ["programs.jht_required"]
    assert _codes(rules, ["jkk", "jkm", "jht"], occupations) == []


@pytest.mark.parametrize("code", ["jp", "jkp"])
def test_jp_and_jkp_are_not_for_bpu(rules: RuleSet, code: str) -> None:
    found = rules.program_problems(["jkk", "jkm", code], ["petani"])
    assert [(p.field, p.code) for p in found] == [("programs", "programs.not_for_bpu")]
    assert code in found[0].message_en
    assert code in found[0].message_id


def test_unknown_program_and_not_for_bpu_reported_together(rules: RuleSet) -> None:
    found = rules.program_problems(["jkk", "jkm", "xyz", "jp"], ["petani"])
    assert sorted(p.code for p in found) == ["programs.not_for_bpu", "programs.unknown"]
    unknown = next(p for p in found if p.code == "programs.unknown")
    assert "xyz" in unknown.message_en


# Payers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payer", "budget"),
    [
        (Payer(PayerKind.SELF), BudgetSource.PRIVATE),
        (Payer(PayerKind.SERTAKAN, name="Budi"), BudgetSource.PRIVATE),
        (Payer(PayerKind.CREDIT_UNION, name="CU Sejahtera"), BudgetSource.PRIVATE),
        (Payer(PayerKind.APBD, name="Pemkab Bogor"), BudgetSource.APBD),
        (Payer(PayerKind.APBN, name="Kemnaker"), BudgetSource.APBN),
        (Payer(PayerKind.APBDES, name="Desa Cibinong"), BudgetSource.APBDES),
        (Payer(PayerKind.CSR, name="Donatur"), BudgetSource.PRIVATE),
        (Payer(PayerKind.CSR, name="PT Maju", scheme="SC"), BudgetSource.PRIVATE),
        (Payer(PayerKind.CSR, name="Bank Jaya", scheme="SB"), BudgetSource.PRIVATE),
        (Payer(PayerKind.CSR, name="Kementerian", scheme="SG"), BudgetSource.APBN),
        (Payer(PayerKind.CSR, name="Desa Sukamaju", scheme="SD"), BudgetSource.APBDES),
        (Payer(PayerKind.CSR, name="Pemprov", scheme="SA"), BudgetSource.APBD),
        (Payer(PayerKind.CSR, name="Komunitas", scheme="SL"), BudgetSource.PRIVATE),
    ],
    ids=lambda value: (
        str(value.kind) + "-" + str(value.scheme) if isinstance(value, Payer) else str(value)
    ),
)
def test_budget_source(rules: RuleSet, payer: Payer, budget: BudgetSource) -> None:
    assert rules.budget_source(payer) is budget
    assert rules.payer_problems(payer) == []


def test_every_payer_kind_has_a_rule_and_every_scheme_code_exists(rules: RuleSet) -> None:
    assert set(rules.payers) == set(PayerKind)
    assert set(rules.schemes) == {"SC", "SB", "SG", "SD", "SA", "SL"}


@pytest.mark.parametrize(
    "kind",
    [k for k in PayerKind if k is not PayerKind.CSR],
)
def test_scheme_only_for_csr(kind: PayerKind) -> None:
    with pytest.raises(InvalidInput) as caught:
        Payer(kind, name="Someone", scheme="SC")
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("payer.scheme", "payer.scheme_not_allowed")
    ]


def test_unknown_scheme_refused(rules: RuleSet) -> None:
    # Scheme codes are rule data: the model holds the payer, the rule set refuses it, and
    # pricing asks the rule set it is given.
    payer = Payer(PayerKind.CSR, name="PT Maju", scheme="XX")
    problems = rules.payer_problems(payer)
    assert [(p.field, p.code) for p in problems] == [("payer.scheme", "payer.scheme_unknown")]
    assert "XX" in problems[0].message_en
    for code in ("SC", "SB", "SG", "SD", "SA", "SL"):
        assert code in problems[0].message_en  # the message lists the valid codes
    with pytest.raises(InvalidInput) as caught:
        quote(**PETANI, payer=payer, rules=rules)
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("payer.scheme", "payer.scheme_unknown")
    ]


PETANI: dict[str, Any] = {
    "income": 1_000_000,
    "occupations": "petani",
    "programs": ["jkk", "jkm"],
    "start": "2027-01",
    "months": 1,
}


def test_a_scheme_known_to_a_partners_rules_prices(tmp_path: Path) -> None:
    """A rule set with one more donor scheme prices a payer the packaged rules refuse: the
    payer is a plain value, and only the rule set given decides."""
    target = _data_copy(tmp_path)
    extra = '[[scheme]]\ncode = "SX"\nlabel_en = "Zakat"\nbudget_source = "private"\n'
    with (target / "payers.toml").open("a", encoding="utf-8") as payers:
        payers.write("\n" + extra + 'confidence = "L"\n')
    partner = load_rules(target)
    payer = Payer(PayerKind.CSR, name="Baznas", scheme="SX")
    assert quote(**PETANI, payer=payer, rules=partner).total == 16800
    with pytest.raises(InvalidInput):
        quote(**PETANI, payer=payer)  # the packaged rules know no SX


# Occupations ---------------------------------------------------------------------------------

NON_TRANSPORT = (
    "petani",
    "pekebun",
    "peternak",
    "nelayan",
    "pedagang",
    "pedagang-online",
    "asisten-rumah-tangga",
    "tukang",
    "buruh-harian",
    "penjahit",
    "pekerja-seni",
    "magang",
    "honorer",
    "pemberi-kerja",
)
TRANSPORT = (
    "ojek-online",
    "ojek-pangkalan",
    "sopir",
    "taksi-online",
    "kurir",
    "pengemudi-logistik",
    "becak",
    "pengemudi-lainnya",
)


@pytest.mark.parametrize(
    ("code", "transport"),
    [(c, False) for c in NON_TRANSPORT] + [(c, True) for c in TRANSPORT],
)
def test_mandatory_occupations(rules: RuleSet, code: str, transport: bool) -> None:
    occupation = rules.occupations[code]
    assert occupation.transport is transport
    assert occupation.jht_mandatory is (code == "pemberi-kerja")
    assert occupation.label_id.strip()
    assert occupation.label_en.strip()
    assert occupation.source.strip()
    assert isinstance(occupation.confidence, Confidence)


@pytest.mark.parametrize(
    ("occupations", "transport"),
    [
        (["petani"], False),
        (["ojek-online"], True),
        (["pedagang", "ojek-online"], True),
        (["kurir", "pedagang"], True),
        (["pedagang", "penjahit"], False),
    ],
)
def test_occupation_class(rules: RuleSet, occupations: list[str], transport: bool) -> None:
    cls = rules.occupation_class(occupations)
    assert cls == (
        rules_module.OccupationClass.TRANSPORT if transport else rules_module.OccupationClass.OTHER
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [("ojol", "ojek-online"), ("prt", "asisten-rumah-tangga"), ("PRT", "asisten-rumah-tangga")],
)
def test_search_occupations_everyday_words(rules: RuleSet, text: str, code: str) -> None:
    found = rules.search_occupations(text)
    assert found
    assert found[0].code == code


def test_search_occupations_empty_text(rules: RuleSet) -> None:
    assert rules.search_occupations("   ") == []


# Due dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "due"),
    [
        # Ordinary weekdays: the 15th itself.
        ("2026-12", dt.date(2026, 12, 15)),  # Tuesday
        ("2026-10", dt.date(2026, 10, 15)),  # Thursday
        # Weekends.
        ("2026-11", dt.date(2026, 11, 16)),  # Sun 15 Nov 2026 -> Mon 16
        ("2026-02", dt.date(2026, 2, 16)),  # Sun 15 Feb 2026 -> Mon 16
        ("2025-11", dt.date(2025, 11, 17)),  # Sat 15 Nov 2025 -> Mon 17
        # The 15th itself a public holiday: Good Friday, Fri 15 Apr 2022 -> Mon 18.
        ("2022-04", dt.date(2022, 4, 18)),
        # Weekend followed by a public holiday on the Monday.
        ("2026-08", dt.date(2026, 8, 18)),  # Sat 15, Mon 17 Aug 2026 Independence Day
        ("2020-08", dt.date(2020, 8, 18)),  # Sat 15, Mon 17 Aug 2020 Independence Day
        ("2024-06", dt.date(2024, 6, 18)),  # Sat 15, Mon 17 Jun 2024 Idul Adha
        ("2024-09", dt.date(2024, 9, 17)),  # Sun 15, Mon 16 Sep 2024 Maulid Nabi
        ("2022-05", dt.date(2022, 5, 17)),  # Sun 15, Mon 16 May 2022 Waisak
    ],
)
def test_due_date(rules: RuleSet, period: str, due: dt.date) -> None:
    assert rules.due_date(YearMonth.parse(period)) == due
    assert rules.due_date(YearMonth.parse(period)) == due  # cached answer is the same


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2026, 11, 16), True),
        (dt.date(2026, 11, 15), False),
        (dt.date(2026, 11, 14), False),
        (dt.date(2026, 8, 17), False),  # Independence Day, a Monday
        (dt.date(2022, 4, 15), False),  # Good Friday
    ],
)
def test_is_working_day(rules: RuleSet, day: dt.date, working: bool) -> None:
    assert rules.is_working_day(day) is working


# Loading rule tables -------------------------------------------------------------------------


def test_load_rules_from_an_edited_copy_changes_the_quote(tmp_path: Path) -> None:
    directory = _data_copy(tmp_path)
    _edit(directory / "income_levels.csv", "\n10,2700000,2950000,", "\n10,2700000,3000000,")
    edited = load_rules(directory)
    args: dict[str, Any] = {
        "income": 2_800_000,
        "occupations": "pedagang",
        "programs": ["jkk", "jkm", "jht"],
        "start": "2027-01",
        "months": 1,
    }
    lines = {line.program: line.amount for line in quote(**args, rules=edited).lines}
    assert lines == {Program.JKK: 30_000, Program.JKM: 6_800, Program.JHT: 60_000}
    # The packaged rules are untouched.
    assert quote(**args).total == 95_300


def test_load_rules_from_an_edited_discount_window(tmp_path: Path) -> None:
    directory = _data_copy(tmp_path)
    _edit(
        directory / "discounts.toml",
        'last_month = "2026-12"\noccupation_class = "other"',
        'last_month = "2027-02"\noccupation_class = "other"',
    )
    edited = load_rules(directory)
    q = quote(
        income=2_800_000,
        occupations="pedagang",
        programs=["jkk", "jkm"],
        start="2027-01",
        months=3,
        rules=edited,
    )
    assert [m.total for m in q.by_month()] == [18_150, 18_150, 36_300]


def test_load_rules_default_dir_matches_default_rules(rules: RuleSet) -> None:
    loaded = load_rules(DATA_DIR)
    assert [(r.level, r.from_income, r.base) for r in loaded.income_levels] == [
        (r.level, r.from_income, r.base) for r in rules.income_levels
    ]


def _line_of(path: Path, prefix: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(prefix):
            return number
    raise AssertionError(prefix)


def _assert_names(error: RuleDataError, file: str, line: int | str) -> None:
    assert error.code == "rules.data"
    for message in (error.message_en, error.message_id):
        assert file in message
        assert re.search(rf"\b{re.escape(str(line))}:", message), message


def test_broken_income_row_names_file_and_line(tmp_path: Path) -> None:
    directory = _data_copy(tmp_path)
    path = directory / "income_levels.csv"
    _edit(path, "\n10,2700000,2950000,", "\n10,2700000,29500x0,")
    line = _line_of(path, "10,")
    assert line == 13  # two comment lines, the header, then levels 1..9
    with pytest.raises(RuleDataError) as caught:
        load_rules(directory)
    _assert_names(caught.value, "income_levels.csv", line)


def test_broken_row_after_a_blank_line_names_the_real_line(tmp_path: Path) -> None:
    directory = _data_copy(tmp_path)
    path = directory / "income_levels.csv"
    _edit(path, "\n5,1700000,", "\n\n5,1700000,")  # a blank line before level 5
    _edit(path, "\n10,2700000,2950000,", "\n10,2700000,29500x0,")
    line = _line_of(path, "10,")
    assert line == 14
    with pytest.raises(RuleDataError) as caught:
        load_rules(directory)
    _assert_names(caught.value, "income_levels.csv", line)


def test_broken_occupation_flag_names_file_and_line(tmp_path: Path) -> None:
    directory = _data_copy(tmp_path)
    path = directory / "occupations.csv"
    _edit(path, ",Individual employer,0,1,", ",Individual employer,0,yes,")
    line = _line_of(path, "pemberi-kerja,")
    with pytest.raises(RuleDataError) as caught:
        load_rules(directory)
    _assert_names(caught.value, "occupations.csv", line)


def test_out_of_range_discount_refused(tmp_path: Path) -> None:
    directory = _data_copy(tmp_path)
    _edit(
        directory / "discounts.toml",
        'cut_bp = 5000\nfirst_month = "2026-04"',
        'cut_bp = 12000\nfirst_month = "2026-04"',
    )
    with pytest.raises(RuleDataError) as caught:
        load_rules(directory)
    assert "discounts.toml" in caught.value.message_en
    assert "pp-50-2025-other" in caught.value.message_en


def test_missing_payer_row_refused(tmp_path: Path) -> None:
    directory = _data_copy(tmp_path)
    path = directory / "payers.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index('[[payer]]\nkind = "apbdes"')
    end = text.index("[[scheme]]")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(RuleDataError) as caught:
        load_rules(directory)
    assert "payers.toml" in caught.value.message_en
    assert "apbdes" in caught.value.message_en
