"""Participant validation: every problem at once, each with a field, a code and two messages.

Three layers, each run exactly once per participant, each given the
:class:`~jamsostek_channels.rules.RuleSet` to apply (``jamsostek_channels.check_participant`` and
``parse_participant`` default to the packaged rules at the package's public edge):

* :func:`participant_problems` - what must hold for any participant (NIK structure and region,
  NIK agreeing with birth date and sex, name, mobile phone, e-mail, address, postal code: the
  model's :func:`~jamsostek_channels.model.participant_field_problems`, which
  :class:`~jamsostek_channels.model.Participant` runs on construction) and what the rule set
  decides (occupations, income, programs: :func:`rule_problems`).
* :func:`registration_problems` - what depends on the registration date (age under 65, minimum
  age, birth date not in the future).
* :func:`check_participant` - reads the canonical JSON form (a mapping), reports type problems,
  unknown fields and both layers above, and returns the participant when all is well.

Warnings (:attr:`CheckResult.warnings`) do not block: a NIK whose region code is not in the latest
Kemendagri data may predate a region split, and real NIKs keep the codes they were issued with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping

import attrs

from jamsostek_channels import clock
from jamsostek_channels.errors import InvalidInput, Problem
from jamsostek_channels.identifiers import nik as _nik
from jamsostek_channels.inputs import CsvRow, csv_rows
from jamsostek_channels.model import (
    OPTIONAL_PARTICIPANT_FIELDS,
    PARTICIPANT_FIELDS,
    Participant,
    participant_field_problems,
    read_participant,
)
from jamsostek_channels.rules import RuleSet

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
    "rule_problems",
]

#: The canonical JSON fields of a participant, in order; ``email`` and ``kpj`` may be omitted.
FIELDS = PARTICIPANT_FIELDS
#: The fields whose every check is the rule set's (a superset of the model's shape checks there).
_RULED = frozenset({"occupations", "income", "programs"})


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


def _ruled(values: Mapping[str, object], rules: RuleSet) -> list[Problem]:
    """The rule set's checks of occupations, income and programs (their types included)."""
    found: list[Problem] = []
    occupations = values.get("occupations")
    if not isinstance(occupations, tuple) or not all(isinstance(o, str) for o in occupations):
        found.append(Problem.of("occupations", "field.type", {"expected": "list of codes"}))
        occupations = ()
    else:
        found += rules.occupation_problems(occupations)
    found += rules.income_problems(values.get("income"))
    programs = values.get("programs")
    if not isinstance(programs, tuple) or not all(isinstance(p, str) for p in programs):
        found.append(Problem.of("programs", "field.type", {"expected": "list of codes"}))
    else:
        found += rules.program_problems(programs, occupations)
    return found


def participant_problems(values: Mapping[str, object], rules: RuleSet) -> list[Problem]:
    """Every problem with a participant's (normalised) field values under ``rules``, in the
    order of the fields."""
    shape = participant_field_problems(values)
    # The rule set's checks replace the model's on the fields they cover, in their place.
    return (
        [p for p in shape if p.field not in _RULED and p.field != "kpj"]
        + _ruled(values, rules)
        + [p for p in shape if p.field == "kpj"]
    )


def rule_problems(participant: Participant, rules: RuleSet) -> list[Problem]:
    """What ``rules`` refuse in a participant already built (whose fields are well formed):
    occupations, the income ceiling, program combinations. ``Client.register`` runs it with
    the client's rule set before anything is sent."""
    values = {name: getattr(participant, name) for name in _RULED}
    return _ruled(values, rules)


def registration_problems(birth_date: dt.date, on: dt.date, rules: RuleSet) -> list[Problem]:
    """What registering on ``on`` requires of the birth date: not in the future, age within
    the policy's bounds (under 65 at registration; a documented minimum age)."""
    policy = rules.policy
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


def check_participant(
    data: Mapping[str, object],
    *,
    rules: RuleSet,
    as_of: dt.date | None = None,
) -> CheckResult:
    """Check a participant in canonical JSON form under ``rules`` (as registration on ``as_of``
    would; default: today in Asia/Jakarta)."""
    as_of = as_of or clock.today()
    values, found, absent = read_participant(data)
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
    data: Mapping[str, object], *, rules: RuleSet, as_of: dt.date | None = None
) -> Participant:
    """Like :func:`check_participant`, but returns the participant or raises InvalidInput."""
    result = check_participant(data, as_of=as_of, rules=rules)
    if result.participant is None:
        raise InvalidInput(result.problems)
    return result.participant


#: CSV columns for batch checks: the canonical fields; list fields are separated by ``|``.
CSV_LIST_SEPARATOR = "|"
#: The columns a CSV batch's header must have (``email`` and ``kpj`` may be left out).
CSV_REQUIRED = tuple(name for name in FIELDS if name not in OPTIONAL_PARTICIPANT_FIELDS)
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
        elif key in OPTIONAL_PARTICIPANT_FIELDS:
            data[key] = text or None
        else:
            data[key] = text
    if row.extra:
        data[_CSV_EXTRA] = list(row.extra)
    return data


def check_csv(
    source: Iterable[bytes | str],
    *,
    rules: RuleSet,
    as_of: dt.date | None = None,
) -> Iterator[tuple[CsvRow, CheckResult]]:
    """Check one participant per CSV row: a header with the canonical field names (at least
    :data:`CSV_REQUIRED`), then a row per participant. ``source`` is a file opened ``"rb"`` (or
    text lines); :func:`~jamsostek_channels.inputs.csv_rows` reads it (BOM, ``,`` or ``;``).

    Yields each row (its data-row number and file line) with its result; raises
    :class:`InvalidInput` for a file that cannot be read as CSV, when that is found."""
    as_of = as_of or clock.today()
    for row in csv_rows(source, required=CSV_REQUIRED):
        yield row, check_participant(_csv_row(row), as_of=as_of, rules=rules)
