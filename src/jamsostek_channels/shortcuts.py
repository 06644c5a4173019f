"""The package's top-level functions: pricing, validation and coverage under the packaged rules.

``jamsostek_channels.quote(...)``, ``coverage_status``, ``check_participant`` and
``parse_participant`` are the functions of :mod:`~jamsostek_channels.pricing`,
:mod:`~jamsostek_channels.coverage` and :mod:`~jamsostek_channels.validation` with one difference:
``rules`` may be left out, and then the packaged rule set (or ``$JAMSOSTEK_RULES_DIR``,
:func:`~jamsostek_channels.rules.default_rules`) applies. The default is taken only at the
public edges (these functions, ``Client(rules=...)``, ``FakeHost(rules=...)``, the command line,
the rule report's ``python -m``); below them every function is given its rule set, so a client or
a fake host built with a partner's rules applies them everywhere.

>>> import jamsostek_channels as jc
>>> jc.quote(income=1_000_000, occupations="petani", programs=["jkk", "jkm"],
...          start="2027-01", months=1).total
16800
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from jamsostek_channels import coverage, pricing, validation
from jamsostek_channels.model import CoverageStatus, Participant, Payer, PayerKind, Program, Quote
from jamsostek_channels.period import YearMonth
from jamsostek_channels.rules import RuleSet, default_rules

__all__ = ["check_participant", "coverage_status", "parse_participant", "quote"]


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
    rules: RuleSet | None = None,
) -> Quote:
    """:func:`jamsostek_channels.pricing.quote`, by the packaged rules unless ``rules`` is given."""
    return pricing.quote(
        start=start,
        months=months,
        income=income,
        occupations=occupations,
        programs=programs,
        participant=participant,
        payer=payer,
        joined=joined,
        allowed_months=allowed_months,
        rules=rules or default_rules(),
    )


def coverage_status(
    registered: YearMonth | str,
    paid: Iterable[YearMonth | str],
    *,
    as_of: dt.date | None = None,
    rules: RuleSet | None = None,
) -> CoverageStatus:
    """:func:`jamsostek_channels.coverage.coverage_status`, by the packaged rules unless
    ``rules`` is given."""
    return coverage.coverage_status(registered, paid, as_of=as_of, rules=rules or default_rules())


def check_participant(
    data: Mapping[str, object],
    *,
    as_of: dt.date | None = None,
    rules: RuleSet | None = None,
) -> validation.CheckResult:
    """:func:`jamsostek_channels.validation.check_participant`, by the packaged rules unless
    ``rules`` is given."""
    return validation.check_participant(data, as_of=as_of, rules=rules or default_rules())


def parse_participant(
    data: Mapping[str, object], *, as_of: dt.date | None = None, rules: RuleSet | None = None
) -> Participant:
    """:func:`jamsostek_channels.validation.parse_participant`, by the packaged rules unless
    ``rules`` is given."""
    return validation.parse_participant(data, as_of=as_of, rules=rules or default_rules())
