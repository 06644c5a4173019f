"""Participant validation: every problem at once, each with a field, a code and two messages.

Three layers, each run exactly once per participant:

* :func:`participant_problems` - what must hold for any participant (NIK structure and region,
  NIK agreeing with birth date and sex, name, mobile phone, e-mail, address, postal code,
  occupations, income, programs). :class:`~jamsostek_channels.model.Participant` runs it on
  construction.
* :func:`registration_problems` - what depends on the registration date (age under 65, minimum
  age, birth date not in the future).
* :func:`check_participant` - reads the canonical JSON form (a mapping), reports type problems,
  unknown fields and both layers above, and returns the participant when all is well.

Warnings (:attr:`CheckResult.warnings`) do not block: a NIK whose region code is not in the latest
Kemendagri data may predate a region split, and real NIKs keep the codes they were issued with.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping

import attrs

from jamsostek_channels import clock
from jamsostek_channels.errors import InvalidInput, Problem
from jamsostek_channels.identifiers import _regions
from jamsostek_channels.identifiers import kpj as _kpj
from jamsostek_channels.identifiers import nik as _nik
from jamsostek_channels.identifiers import phone as _phone
from jamsostek_channels.inputs import CsvRow, csv_rows
from jamsostek_channels.messages import echo
from jamsostek_channels.model import Participant, Sex, _normalise
from jamsostek_channels.pricing import _income_problems, _occupation_problems
from jamsostek_channels.rules import RuleSet, default_rules

__all__ = [
    "CSV_LIST_SEPARATOR",
    "CSV_REQUIRED",
    "FIELDS",
    "CheckResult",
    "age_on",
    "check_csv",
    "check_participant",
    "parse_participant",
    "participant_problems",
    "registration_problems",
]

#: The canonical JSON fields of a participant, in order; ``email`` and ``kpj`` may be omitted.
FIELDS = (
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
_OPTIONAL = frozenset({"email", "kpj"})
_FIELD_SET = frozenset(FIELDS)
_REQUIRED = _FIELD_SET - _OPTIONAL
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


@attrs.frozen
class CheckResult:
    """The outcome of checking one participant: the participant, or every problem."""

    participant: Participant | None
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Age in whole years on ``day`` (a 29 February birthday counts from 1 March)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def _text_problems(value: object, field: str, empty_code: str, limit: int) -> list[Problem]:
    if value is None or value == "":
        return [Problem.of(field, empty_code)]
    if not isinstance(value, str):
        return [Problem.of(field, "field.type", {"expected": "text"})]
    if len(value) > limit:
        return [Problem.of(field, "field.too_long", {"max": limit})]
    return []


def _nik_agreement(nik: str, birth_date: object, sex: object) -> list[Problem]:
    """The NIK's DDMMYY (day + 40 for women) must agree with the stated birth date and sex."""
    found = []
    day = int(nik[6:8])
    female = day > 40
    if isinstance(birth_date, dt.date) and (
        (day - 40 if female else day) != birth_date.day
        or int(nik[8:10]) != birth_date.month
        or int(nik[10:12]) != birth_date.year % 100
    ):
        found.append(Problem.of("birth_date", "nik.birth_date_mismatch"))
    if isinstance(sex, Sex) and female != (sex is Sex.FEMALE):
        found.append(Problem.of("sex", "nik.sex_mismatch"))
    return found


def participant_problems(
    values: Mapping[str, object], rules: RuleSet | None = None
) -> list[Problem]:
    """Every problem with a participant's (normalised) field values."""
    rules = rules or default_rules()
    found: list[Problem] = []

    nik = values.get("nik")
    nik_ok = False
    if not isinstance(nik, str) or not nik:
        found.append(
            Problem.of("nik", "field.required" if not nik else "field.type", {"expected": "text"})
        )
    else:
        nik_problems = _nik.problems(nik)
        found += nik_problems
        nik_ok = not nik_problems

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
    if nik_ok:
        assert isinstance(nik, str)
        found += _nik_agreement(nik, birth_date, sex)

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
        occupations = ()
    else:
        found += _occupation_problems(rules, occupations)

    found += _income_problems(rules, values.get("income"))

    programs = values.get("programs")
    if not isinstance(programs, tuple) or not all(isinstance(p, str) for p in programs):
        found.append(Problem.of("programs", "field.type", {"expected": "list of codes"}))
    else:
        found += rules.program_problems(programs, occupations)

    kpj = values.get("kpj")
    if kpj is not None:
        if not isinstance(kpj, str):
            found.append(Problem.of("kpj", "field.type", {"expected": "text"}))
        else:
            found += _kpj.problems(kpj)
    return found


def registration_problems(
    birth_date: dt.date, on: dt.date, rules: RuleSet | None = None
) -> list[Problem]:
    """What registering on ``on`` requires of the birth date: not in the future, age within
    the policy's bounds (under 65 at registration; a documented minimum age)."""
    policy = (rules or default_rules()).policy
    if birth_date > on:
        return [Problem.of("birth_date", "birth_date.future")]
    age = age_on(birth_date, on)
    if age >= policy.max_age_exclusive:
        return [
            Problem.of(
                "birth_date", "age.too_old", {"max_age": policy.max_age_exclusive, "age": age}
            )
        ]
    if age < policy.min_age:
        return [Problem.of("birth_date", "age.too_young", {"min_age": policy.min_age, "age": age})]
    return []


def _parse_date(value: object) -> object:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, dt.date) else None


def check_participant(
    data: Mapping[str, object],
    *,
    as_of: dt.date | None = None,
    rules: RuleSet | None = None,
) -> CheckResult:
    """Check a participant in canonical JSON form (as registration on ``as_of`` would)."""
    rules = rules or default_rules()
    as_of = as_of or clock.today()
    found: list[Problem] = [
        Problem.of(echo(key), "field.unknown") for key in data.keys() - _FIELD_SET
    ]
    absent = _REQUIRED - data.keys()
    found += [Problem.of(key, "field.required") for key in FIELDS if key in absent]
    raw = {key: data.get(key) for key in FIELDS}
    raw["birth_date"] = _parse_date(raw["birth_date"])
    for key in ("occupations", "programs"):
        if isinstance(raw[key], list):
            raw[key] = tuple(raw[key])  # type: ignore[arg-type]
    values = _normalise(**raw)
    problems = participant_problems(values, rules)
    if absent:  # a missing field is reported once, as missing
        problems = [p for p in problems if p.field not in absent]
    found += problems
    birth_date = values["birth_date"]
    if isinstance(birth_date, dt.date) and not any(p.field == "birth_date" for p in found):
        found += registration_problems(birth_date, as_of, rules)
    warnings: tuple[Problem, ...] = ()
    nik = values["nik"]
    if (
        isinstance(nik, str)
        and not any(p.field == "nik" for p in found)
        and not _nik.region_known(nik)
    ):
        warnings = (Problem.of("nik", "nik.region_unknown"),)
    if found:
        return CheckResult(None, tuple(found), warnings)
    return CheckResult(Participant._trusted(values), (), warnings)


def parse_participant(
    data: Mapping[str, object], *, as_of: dt.date | None = None, rules: RuleSet | None = None
) -> Participant:
    """Like :func:`check_participant`, but returns the participant or raises InvalidInput."""
    result = check_participant(data, as_of=as_of, rules=rules)
    if result.participant is None:
        raise InvalidInput(result.problems)
    return result.participant


#: CSV columns for batch checks: the canonical fields; list fields are separated by ``|``.
CSV_LIST_SEPARATOR = "|"
#: The columns a CSV batch's header must have (``email`` and ``kpj`` may be left out).
CSV_REQUIRED = tuple(name for name in FIELDS if name not in _OPTIONAL)
#: A row longer than the header has its surplus cells under this name: reported as unknown.
_CSV_EXTRA = "extra_columns"


def _csv_row(row: CsvRow) -> dict[str, object]:
    data: dict[str, object] = {}
    for key, value in row.values.items():
        text = value.strip()
        if key in ("occupations", "programs"):
            data[key] = [v.strip() for v in text.split(CSV_LIST_SEPARATOR) if v.strip()]
        elif key == "income":
            data[key] = int(text) if text.isascii() and text.isdigit() else text
        elif key in _OPTIONAL:
            data[key] = text or None
        else:
            data[key] = text
    if row.extra:
        data[_CSV_EXTRA] = list(row.extra)
    return data


def check_csv(
    source: Iterable[bytes | str],
    *,
    as_of: dt.date | None = None,
    rules: RuleSet | None = None,
) -> Iterator[tuple[CsvRow, CheckResult]]:
    """Check one participant per CSV row: a header with the canonical field names (at least
    :data:`CSV_REQUIRED`), then a row per participant. ``source`` is a file opened ``"rb"`` (or
    text lines); :func:`~jamsostek_channels.inputs.csv_rows` reads it (BOM, ``,`` or ``;``).

    Yields each row (its data-row number and file line) with its result; raises
    :class:`InvalidInput` for a file that cannot be read as CSV, when that is found."""
    rules = rules or default_rules()
    as_of = as_of or clock.today()
    for row in csv_rows(source, required=CSV_REQUIRED):
        yield row, check_participant(_csv_row(row), as_of=as_of, rules=rules)
