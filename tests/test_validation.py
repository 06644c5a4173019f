"""Participant validation: every problem at once, registration rules, messages, CSV, factory."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import string
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import participant_data

import jamsostek_channels
from jamsostek_channels import check_participant, parse_participant
from jamsostek_channels.errors import InvalidInput
from jamsostek_channels.messages import CATALOGUE, render
from jamsostek_channels.model import Participant, Program, Sex
from jamsostek_channels.rules import RuleSet, default_rules, load_rules
from jamsostek_channels.testing import PersonFactory
from jamsostek_channels.validation import (
    FIELDS,
    CheckResult,
    age_on,
    check_csv,
    registration_problems,
)

TODAY = dt.date(2026, 11, 22)
NIK = "3201015508950001"
PHONE_DIGITS = "81234567890"
REQUIRED = tuple(f for f in FIELDS if f not in ("email", "kpj"))


def check(data: dict[str, Any], as_of: dt.date = TODAY, **kwargs: Any) -> CheckResult:
    return check_participant(data, as_of=as_of, **kwargs)


def codes(result: CheckResult) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in result.problems}


def nik_for(birth: dt.date, sex: str, district: str = "320101", serial: str = "0001") -> str:
    day = birth.day + (40 if sex == "female" else 0)
    return f"{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial}"


def person_born(birth: dt.date, sex: str = "male") -> dict[str, Any]:
    return participant_data(nik=nik_for(birth, sex), birth_date=birth.isoformat(), sex=sex)


def years_before(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year - years)


# The happy path ----------------------------------------------------------------------------


def test_valid_participant_is_ok(valid_data: dict[str, Any], today: dt.date) -> None:
    result = check_participant(valid_data, as_of=today)
    assert result.ok
    assert result.problems == ()
    p = result.participant
    assert isinstance(p, Participant)
    assert p.nik == NIK
    assert p.phone == "+6281234567890"
    assert p.birth_date == dt.date(1995, 8, 15)
    assert p.sex is Sex.FEMALE
    assert p.occupations == ("pedagang",)
    assert p.programs == (Program.JKK, Program.JKM)
    assert p.income == 2_800_000
    assert p.email == "siti@contoh.id"


def test_valid_participant_normalised() -> None:
    result = check(
        participant_data(
            nik="3201.01.550895.0001",
            name="  Siti   Rahayu ",
            address=" Jl.  Merdeka No. 10,   Cibinong ",
            programs=["jht", "jkm", "jkk"],
            phone="+62 812 3456 7890",
        )
    )
    assert result.ok, result.problems
    p = result.participant
    assert p is not None
    assert p.nik == NIK
    assert p.name == "Siti Rahayu"
    assert p.address == "Jl. Merdeka No. 10, Cibinong"
    assert p.programs == (Program.JKK, Program.JKM, Program.JHT)


def test_parse_participant_raises_invalid_input() -> None:
    assert parse_participant(participant_data(), as_of=TODAY).nik == NIK
    with pytest.raises(InvalidInput) as info:
        parse_participant(participant_data(phone="021-5551234"), as_of=TODAY)
    assert [p.code for p in info.value.problems] == ["phone.not_mobile"]


def test_every_problem_reported_at_once() -> None:
    result = check(
        participant_data(
            nik="3201015508950000",
            name="Siti 123",
            phone="021-5551234",
            email="not-an-email",
            address="",
            postal_code="1234",
            occupations=[],
            income=-1,
            programs=["jht"],
            kpj="123",
            colour="blue",
        )
    )
    assert not result.ok
    assert result.participant is None
    assert codes(result) >= {
        ("nik", "nik.serial"),
        ("name", "name.characters"),
        ("phone", "phone.not_mobile"),
        ("email", "email.format"),
        ("address", "address.empty"),
        ("postal_code", "postal_code.format"),
        ("occupations", "occupations.empty"),
        ("income", "income.negative"),
        ("programs", "programs.jkk_jkm_required"),
        ("kpj", "kpj.format"),
        ("colour", "field.unknown"),
    }


def test_problems_carry_both_messages() -> None:
    result = check(participant_data(postal_code="1234", income=True))
    assert len(result.problems) == 2
    for problem in result.problems:
        assert problem.message_id
        assert problem.message_en
        assert problem.message_id != problem.message_en
        assert problem.as_dict() == {
            "field": problem.field,
            "code": problem.code,
            "message_id": problem.message_id,
            "message_en": problem.message_en,
        }


# NIK agreement -----------------------------------------------------------------------------


@pytest.mark.parametrize("birth_date", ["1995-08-16", "1995-09-15", "1996-08-15"])
def test_birth_date_mismatch_with_nik(birth_date: str) -> None:
    result = check(participant_data(birth_date=birth_date))
    assert codes(result) == {("birth_date", "nik.birth_date_mismatch")}


def test_sex_mismatch_with_nik() -> None:
    result = check(participant_data(sex="male"))
    assert codes(result) == {("sex", "nik.sex_mismatch")}


def test_man_with_womans_nik_day_and_both_mismatches() -> None:
    result = check(participant_data(sex="male", birth_date="1995-08-16"))
    assert codes(result) == {
        ("sex", "nik.sex_mismatch"),
        ("birth_date", "nik.birth_date_mismatch"),
    }


def test_nik_with_bad_serial_still_cross_checked() -> None:
    # Like python-stdnum: every problem at once, the serial's beside the sex's and the date's.
    result = check(participant_data(nik="3201015508950000", sex="male", birth_date="1995-08-16"))
    assert codes(result) == {
        ("nik", "nik.serial"),
        ("sex", "nik.sex_mismatch"),
        ("birth_date", "nik.birth_date_mismatch"),
    }


def test_nik_with_unknown_province_still_cross_checked() -> None:
    result = check(participant_data(nik="9901015508950001", sex="male"))
    assert codes(result) == {("nik", "nik.province"), ("sex", "nik.sex_mismatch")}


def test_nik_with_unreal_date_checks_sex_but_not_the_date() -> None:
    # 55.13.95: day 15 of month 13. The stated date cannot "mismatch" a date that does not exist.
    result = check(participant_data(nik="3201015513950001", sex="male"))
    assert codes(result) == {("nik", "nik.birth_date"), ("sex", "nik.sex_mismatch")}


def test_nik_not_16_digits_gets_no_cross_checks() -> None:
    result = check(participant_data(nik="32010155089500", sex="male"))
    assert codes(result) == {("nik", "nik.format")}


def test_man_with_matching_nik_is_ok() -> None:
    assert check(person_born(dt.date(1990, 1, 31), "male")).ok


def test_nik_region_unknown_is_a_warning_not_an_error() -> None:
    # 32.01.99 is structurally fine but not a district in the Kemendagri data.
    result = check(participant_data(nik="3201995508950001"))
    assert result.ok
    assert [(w.field, w.code) for w in result.warnings] == [("nik", "nik.region_unknown")]
    assert check(participant_data()).warnings == ()


@pytest.mark.parametrize("sex", ["Female", "f", "", None, 1])
def test_sex_value(sex: object) -> None:
    assert ("sex", "sex.value") in codes(check(participant_data(sex=sex)))


# Age and dates -----------------------------------------------------------------------------


def test_age_64_and_364_days_is_accepted() -> None:
    birth = years_before(TODAY, 65) + dt.timedelta(days=1)  # 65th birthday is tomorrow
    assert age_on(birth, TODAY) == 64
    assert check(person_born(birth)).ok


def test_age_exactly_65_is_refused() -> None:
    birth = years_before(TODAY, 65)
    result = check(person_born(birth))
    assert codes(result) == {("birth_date", "age.too_old")}
    assert "65" in result.problems[0].message_en


def test_age_over_65_is_refused() -> None:
    assert codes(check(person_born(dt.date(1950, 1, 1)))) == {("birth_date", "age.too_old")}


def test_minimum_age_from_policy_file(rules: RuleSet) -> None:
    policy_file = resources.files("jamsostek_channels.rules").joinpath("data/policy.toml")
    data = tomllib.loads(policy_file.read_text(encoding="utf-8"))
    min_age = data["eligibility"]["min_age"]
    assert rules.policy.min_age == min_age
    assert rules.policy.max_age_exclusive == data["eligibility"]["max_age_exclusive"] == 65

    old_enough = years_before(TODAY, min_age)
    too_young = old_enough + dt.timedelta(days=1)
    assert check(person_born(old_enough)).ok
    result = check(person_born(too_young))
    assert codes(result) == {("birth_date", "age.too_young")}
    assert str(min_age) in result.problems[0].message_en


def test_minimum_age_follows_a_changed_policy_table(tmp_path: Path) -> None:
    source = resources.files("jamsostek_channels.rules").joinpath("data")
    target = tmp_path / "rules"
    target.mkdir()
    for entry in source.iterdir():
        if entry.name.endswith((".csv", ".toml")):
            (target / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    policy = (target / "policy.toml").read_text(encoding="utf-8")
    assert "min_age = 15" in policy
    (target / "policy.toml").write_text(
        policy.replace("min_age = 15", "min_age = 18"), encoding="utf-8"
    )
    strict = load_rules(target)
    assert strict.policy.min_age == 18
    sixteen = person_born(years_before(TODAY, 16))
    assert check(sixteen).ok
    assert codes(check(sixteen, rules=strict)) == {("birth_date", "age.too_young")}


def test_birth_date_in_future_refused() -> None:
    result = check(person_born(dt.date(2026, 12, 1)))
    assert codes(result) == {("birth_date", "birth_date.future")}


def test_registration_problems_directly() -> None:
    assert registration_problems(dt.date(2000, 1, 1), TODAY, default_rules()) == []
    assert [
        p.code for p in registration_problems(TODAY + dt.timedelta(days=1), TODAY, default_rules())
    ] == ["birth_date.future"]


def test_age_on_29_february_birthday() -> None:
    birth = dt.date(2008, 2, 29)
    assert age_on(birth, dt.date(2026, 2, 28)) == 17
    assert age_on(birth, dt.date(2026, 3, 1)) == 18
    assert age_on(birth, dt.date(2028, 2, 29)) == 20
    assert age_on(dt.date(1990, 5, 10), dt.date(2026, 5, 9)) == 35
    assert age_on(dt.date(1990, 5, 10), dt.date(2026, 5, 10)) == 36


@pytest.mark.parametrize(
    "birth_date", ["15-08-1995", "1995/08/15", "1995-8-15", "1995-02-30", "", 19950815, None]
)
def test_birth_date_format(birth_date: object) -> None:
    assert ("birth_date", "birth_date.format") in codes(
        check(participant_data(birth_date=birth_date))
    )


# Name, e-mail, address, postal code ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Siti Rahayu",
        "O'Neil",
        "Siti-Nur Aisyah",
        "H. Abdul Rahman",
        "Dr. Made, S.H.",
        "Ñoño",
        "Иван",
    ],
)
def test_names_accepted(name: str) -> None:
    assert check(participant_data(name=name)).ok


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "name.empty"),
        ("   ", "name.empty"),
        (None, "name.empty"),
        ("Siti2", "name.characters"),
        ("Siti_Rahayu", "name.characters"),
        ("Siti <script>", "name.characters"),
        ("-Siti", "name.characters"),
        ("A" * 101, "field.too_long"),
        (42, "field.type"),
    ],
)
def test_names_refused(name: object, code: str) -> None:
    assert codes(check(participant_data(name=name))) == {("name", code)}


def test_name_of_100_letters_accepted() -> None:
    assert check(participant_data(name="A" * 100)).ok


def test_email_optional() -> None:
    data = participant_data()
    del data["email"]
    assert check(data).ok
    assert check(participant_data(email=None)).ok
    result = check(participant_data(email="  "))
    assert result.ok
    assert result.participant is not None
    assert result.participant.email is None


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "siti@", "@contoh.id", "siti@contoh", "siti@@contoh.id", "siti @contoh.id", 5],
)
def test_email_validated_if_given(email: object) -> None:
    assert codes(check(participant_data(email=email))) == {("email", "email.format")}


def test_email_too_long_refused() -> None:
    email = "a" * 250 + "@contoh.id"
    assert codes(check(participant_data(email=email))) == {("email", "email.format")}


def test_address_required() -> None:
    data = participant_data()
    del data["address"]
    assert codes(check(data)) == {("address", "field.required")}
    assert codes(check(participant_data(address=""))) == {("address", "address.empty")}
    assert codes(check(participant_data(address="  \t "))) == {("address", "address.empty")}
    assert codes(check(participant_data(address="x" * 201))) == {("address", "field.too_long")}
    assert codes(check(participant_data(address=["Jl. Merdeka"]))) == {("address", "field.type")}


def test_postal_code_known_and_unknown() -> None:
    assert check(participant_data(postal_code="16911")).ok
    assert check(participant_data(postal_code=" 16911 ")).ok
    assert codes(check(participant_data(postal_code="99999"))) == {
        ("postal_code", "postal_code.unknown")
    }


@pytest.mark.parametrize("postal_code", ["1234", "123456", "01234", "1691a", 16911, None, ""])
def test_postal_code_format(postal_code: object) -> None:
    assert codes(check(participant_data(postal_code=postal_code))) == {
        ("postal_code", "postal_code.format")
    }


# Occupations, programs, income --------------------------------------------------------------


@pytest.mark.parametrize(
    ("occupations", "expected"),
    [
        ([], {"occupations.empty"}),
        (["petani", "pedagang", "nelayan"], {"occupations.too_many"}),
        (["pedagang", "pedagang"], {"occupations.duplicate"}),
        (["astronaut"], {"occupations.unknown"}),
        (["pedagang", "astronaut"], {"occupations.unknown"}),
        ("pedagang", {"field.type"}),
        ([1], {"field.type"}),
        (None, {"field.type"}),
    ],
)
def test_occupations_refused(occupations: object, expected: set[str]) -> None:
    result = check(participant_data(occupations=occupations))
    assert {p.code for p in result.problems if p.field == "occupations"} == expected
    assert {p.field for p in result.problems} == {"occupations"}


def test_two_occupations_accepted() -> None:
    result = check(participant_data(occupations=["pedagang", "ojek-online"]))
    assert result.ok
    assert result.participant is not None
    assert result.participant.occupations == ("pedagang", "ojek-online")


@pytest.mark.parametrize(
    "programs", [["jkk", "jkm"], ["jkk", "jkm", "jht"], ["jht", "jkk", "jkm"], ("jkk", "jkm")]
)
def test_programs_accepted(programs: Any) -> None:
    assert check(participant_data(programs=list(programs))).ok


@pytest.mark.parametrize(
    ("programs", "occupations", "expected"),
    [
        (["jkk"], ["pedagang"], "programs.jkk_jkm_required"),
        (["jkm"], ["pedagang"], "programs.jkk_jkm_required"),
        (["jht"], ["pedagang"], "programs.jkk_jkm_required"),
        (["jkm", "jht"], ["pedagang"], "programs.jkk_jkm_required"),
        ([], ["pedagang"], "programs.jkk_jkm_required"),
        (["jkk", "jkm", "jp"], ["pedagang"], "programs.not_for_bpu"),
        (["jkk", "jkm", "jkp"], ["pedagang"], "programs.not_for_bpu"),
        (["jkk", "jkm", "xyz"], ["pedagang"], "programs.unknown"),
        (["jkk", "jkm"], ["pemberi-kerja"], "programs.jht_required"),
        (["jkk", "jkm"], ["pedagang", "pemberi-kerja"], "programs.jht_required"),
        ("jkk,jkm", ["pedagang"], "field.type"),
        ([1, 2], ["pedagang"], "field.type"),
    ],
)
def test_programs_refused(programs: object, occupations: list[str], expected: str) -> None:
    result = check(participant_data(programs=programs, occupations=occupations))
    assert ("programs", expected) in codes(result)
    assert {p.field for p in result.problems} == {"programs"}


def test_individual_employer_with_jht_accepted() -> None:
    assert check(participant_data(occupations=["pemberi-kerja"], programs=["jkk", "jkm", "jht"])).ok


@pytest.mark.parametrize("income", [0, 999_999, 1_000_000, 21_000_000])
def test_income_accepted(income: int) -> None:
    assert check(participant_data(income=income)).ok


@pytest.mark.parametrize(
    ("income", "code"),
    [
        (-1, "income.negative"),
        (2_800_000.0, "field.type"),
        (2_800_000.5, "field.type"),
        (True, "field.type"),
        (False, "field.type"),
        ("2800000", "field.type"),
        (None, "field.type"),
        (10**13, "income.too_large"),
    ],
)
def test_income_refused(income: object, code: str) -> None:
    assert codes(check(participant_data(income=income))) == {("income", code)}


# Field presence ----------------------------------------------------------------------------


@pytest.mark.parametrize("extra", ["colour", "NIK", "Nama", "nik ", ""])
def test_unknown_fields_refused(extra: str) -> None:
    result = check(participant_data(**{extra: "x"}))
    assert codes(result) == {(extra, "field.unknown")}


@pytest.mark.parametrize("field", REQUIRED)
def test_missing_required_field_reported(field: str) -> None:
    data = participant_data()
    del data[field]
    result = check(data)
    assert not result.ok
    assert (field, "field.required") in codes(result)
    # Reported once, as missing: not again as a format problem of the same field.
    assert [p.code for p in result.problems if p.field == field] == ["field.required"]


def test_all_required_fields_missing_reported_together() -> None:
    result = check({})
    assert codes(result) == {(f, "field.required") for f in REQUIRED}


def test_kpj_optional_and_checked() -> None:
    result = check(participant_data(kpj="12345678901"))
    assert result.ok
    assert result.participant is not None
    assert result.participant.kpj == "12345678901"
    assert codes(check(participant_data(kpj="123"))) == {("kpj", "kpj.format")}
    assert codes(check(participant_data(kpj=12345678901))) == {("kpj", "field.type")}


# The model ---------------------------------------------------------------------------------


def constructor_args(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "nik": NIK,
        "name": "Siti Rahayu",
        "birth_date": dt.date(1995, 8, 15),
        "sex": "female",
        "phone": "0812-3456-7890",
        "email": None,
        "address": "Jl. Merdeka No. 10, Cibinong",
        "postal_code": "16911",
        "occupations": ["pedagang"],
        "income": 2_800_000,
        "programs": ["jkk", "jkm"],
    }
    args.update(changes)
    return args


def test_participant_constructor_builds_a_valid_participant() -> None:
    p = Participant(**constructor_args())
    assert p.sex is Sex.FEMALE
    assert p.phone == "+6281234567890"
    assert p.programs == (Program.JKK, Program.JKM)
    assert p.occupations == ("pedagang",)


def test_participant_constructor_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as info:
        Participant(
            **constructor_args(nik="3201015508950000", phone="021-5551234", income=-5, sex="male")
        )
    found = {(p.field, p.code) for p in info.value.problems}
    assert found == {
        ("nik", "nik.serial"),
        ("phone", "phone.not_mobile"),
        ("income", "income.negative"),
        ("sex", "nik.sex_mismatch"),  # a bad serial does not hide the NIK's sex
    }
    assert info.value.code == "input.invalid"
    assert "4" in info.value.message_en


def test_participant_constructor_checks_nik_agreement() -> None:
    with pytest.raises(InvalidInput) as info:
        Participant(**constructor_args(sex="male"))
    assert [p.code for p in info.value.problems] == ["nik.sex_mismatch"]


def test_participant_is_frozen() -> None:
    p = Participant(**constructor_args())
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        p.income = 0  # type: ignore[misc]


def test_participant_repr_masks_nik_and_phone() -> None:
    p = Participant(**constructor_args())
    text = repr(p)
    assert NIK not in text
    assert PHONE_DIGITS not in text
    assert NIK[4:12] not in text
    assert "3201********0001" in text
    assert "0812****7890" in text
    assert NIK not in str(p)


def test_invalid_input_repr_never_shows_nik_or_phone() -> None:
    bad = participant_data(sex="male", phone="021-5551234", birth_date="1995-08-16")
    with pytest.raises(InvalidInput) as info:
        parse_participant(bad, as_of=TODAY)
    error = info.value
    texts = [repr(error), str(error), repr(error.as_dict()), repr(error.problems)]
    texts += [repr(p) for p in error.problems]
    for text in texts:
        assert NIK not in text
        assert "5551234" not in text
        assert PHONE_DIGITS not in text


@pytest.mark.parametrize("secret", [NIK, "0812-3456-7890", "+62 812 3456 7890"])
@pytest.mark.parametrize("field", [*FIELDS, "unknown_field"])
def test_personal_data_typed_into_any_field_is_never_echoed(field: str, secret: str) -> None:
    """Messages take only non-personal values (errors.py): a NIK or phone number pasted into
    the wrong field must not come back in a problem, which may be logged or printed."""
    value: object = [secret] if field in ("occupations", "programs") else secret
    data = participant_data(**{field: value})
    if field == "nik" and secret == NIK:
        data["nik"] = NIK[:12] + "0000"  # invalid, still personal
    result = check(data)
    digits = "".join(ch for ch in secret if ch.isdigit())
    for problem in result.problems:
        text = repr(problem)
        assert digits[-11:] not in "".join(ch for ch in text if ch.isdigit())
        assert secret not in text


# The message catalogue ---------------------------------------------------------------------


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogue_texts_non_empty_and_same_placeholders() -> None:
    assert CATALOGUE
    for code, (message_id, message_en) in CATALOGUE.items():
        assert message_id.strip(), code
        assert message_en.strip(), code
        assert message_id != message_en, code
        assert placeholders(message_id) == placeholders(message_en), code


def _code_uses() -> dict[str, set[frozenset[str]]]:
    """Every catalogue code used in the library's source, with the parameter names given."""
    root = Path(jamsostek_channels.__file__).parent
    uses: dict[str, set[frozenset[str]]] = {}
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for index, arg in enumerate(node.args):
                texts = []
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    texts = [arg.value]
                elif isinstance(arg, ast.IfExp):
                    texts = [
                        branch.value
                        for branch in (arg.body, arg.orelse)
                        if isinstance(branch, ast.Constant) and isinstance(branch.value, str)
                    ]
                for text in texts:
                    if text not in CATALOGUE:
                        continue
                    params: frozenset[str] = frozenset()
                    rest = node.args[index + 1 : index + 2]
                    if rest and isinstance(rest[0], ast.Dict):
                        params = frozenset(
                            str(k.value) for k in rest[0].keys if isinstance(k, ast.Constant)
                        )
                    uses.setdefault(text, set()).add(params)
    return uses


def test_every_code_used_renders_with_its_params() -> None:
    uses = _code_uses()
    # The scan must actually find the library's codes.
    assert {"nik.serial", "age.too_old", "occupations.unknown", "file.not_json"} <= set(uses)
    for code, param_sets in uses.items():
        message_en = CATALOGUE[code][1]
        for params in param_sets:
            assert placeholders(message_en) <= params, (code, params)
            values = dict.fromkeys(params, "X")
            rendered_id, rendered_en = render(code, values)
            assert "{" not in rendered_id
            assert "{" not in rendered_en


def test_every_code_the_validators_produce_is_in_the_catalogue() -> None:
    result = check(
        participant_data(
            nik="2000003213950000", occupations=["a", "a", "b"], programs=["jp"], extra=1
        )
    )
    for problem in result.problems:
        assert problem.code in CATALOGUE
        message_id, message_en = CATALOGUE[problem.code]
        if not placeholders(message_en):
            assert (problem.message_id, problem.message_en) == (message_id, message_en)
    assert len(result.problems) >= 6


def test_render_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        render("no.such_code", {})


# CSV batches -------------------------------------------------------------------------------


def csv_row(data: dict[str, Any]) -> dict[str, str]:
    row = {}
    for key in FIELDS:
        value = data.get(key)
        if isinstance(value, list):
            row[key] = "|".join(value)
        elif value is None:
            row[key] = ""
        else:
            row[key] = str(value)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], extra: list[list[str]] | None = None) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([row[k] for k in FIELDS])
    for values in extra or []:
        writer.writerow(values)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def test_check_csv(tmp_path: Path) -> None:
    valid = csv_row(participant_data(occupations=["pedagang", "ojek-online"]))
    no_email = csv_row(participant_data(email=None, programs=["jkk", "jkm", "jht"]))
    bad_phone = csv_row(participant_data(phone="021-5551234"))
    bad_income = csv_row(participant_data(income="2,8 juta"))
    extra = [valid[k] for k in FIELDS] + ["surplus", "more"]
    path = tmp_path / "batch.csv"
    write_csv(path, [valid, no_email, bad_phone, bad_income], extra=[extra])

    with path.open("rb") as handle:
        checked = list(check_csv(handle, as_of=TODAY, rules=default_rules()))
    assert [(row.row, row.line) for row, _ in checked] == [(n, n + 1) for n in range(1, 6)]
    results = [result for _, result in checked]
    assert len(results) == 5
    assert results[0].ok, results[0].problems
    assert results[0].participant is not None
    assert results[0].participant.occupations == ("pedagang", "ojek-online")
    assert results[0].participant.income == 2_800_000
    assert results[1].ok, results[1].problems
    assert results[1].participant is not None
    assert results[1].participant.email is None
    assert results[1].participant.programs == (Program.JKK, Program.JKM, Program.JHT)
    assert codes(results[2]) == {("phone", "phone.not_mobile")}
    assert codes(results[3]) == {("income", "field.type")}
    assert not results[4].ok
    assert {p.code for p in results[4].problems} == {"field.unknown"}


def test_check_csv_short_row_reports_missing_values() -> None:
    header = ",".join(FIELDS)
    lines = [header, NIK + ",Siti Rahayu"]
    [(_, result)] = check_csv(lines, as_of=TODAY, rules=default_rules())
    fields = {p.field for p in result.problems}
    assert {"birth_date", "sex", "phone", "address", "postal_code"} <= fields


# The synthetic people factory ----------------------------------------------------------------


def test_person_factory_spoiled_rows_are_caught_and_others_valid() -> None:
    people = PersonFactory(11, as_of=TODAY, invalid_ratio=0.3).take(320)
    spoiled = [p for p in people if p.expected_problem is not None]
    clean = [p for p in people if p.expected_problem is None]
    assert 50 < len(spoiled) < 160
    assert len({p.expected_problem for p in spoiled}) >= 5
    for person in spoiled:
        result = check_participant(person.data, as_of=TODAY)
        assert person.expected_problem in {p.code for p in result.problems}, person
    for person in clean:
        result = check_participant(person.data, as_of=TODAY)
        assert result.ok, (person.data, result.problems)


def test_person_factory_is_deterministic() -> None:
    first = PersonFactory(5, as_of=TODAY).take(20)
    second = PersonFactory(5, as_of=TODAY).take(20)
    assert first == second
    assert all(p.expected_problem is None for p in first)
