"""Coverage status: active, due, in arrears, lapsed; restarts after a lapse; unpaid holes."""

from __future__ import annotations

import datetime as dt

import pytest

from jamsostek_channels import coverage_status
from jamsostek_channels.model import CoverageState
from jamsostek_channels.period import YearMonth, month_range
from jamsostek_channels.rules import RuleSet

TODAY = dt.date(2026, 11, 22)  # a Sunday


def ym(text: str) -> YearMonth:
    return YearMonth.parse(text)


def months(first: str, last: str) -> list[YearMonth]:
    start, end = ym(first), ym(last)
    return list(month_range(start, end - start + 1))


# Due dates ---------------------------------------------------------------------------------


def test_due_date_is_the_15th_on_a_working_day(rules: RuleSet) -> None:
    assert rules.due_date(ym("2026-12")) == dt.date(2026, 12, 15)  # Tuesday
    assert rules.due_date(ym("2026-10")) == dt.date(2026, 10, 15)  # Thursday


def test_due_date_moves_over_a_weekend(rules: RuleSet) -> None:
    assert dt.date(2026, 11, 15).weekday() == 6  # Sunday
    assert rules.due_date(ym("2026-11")) == dt.date(2026, 11, 16)


def test_due_date_moves_over_weekend_and_public_holiday(rules: RuleSet) -> None:
    # 15 Aug 2026 is a Saturday, 17 Aug (Monday) is Independence Day.
    assert dt.date(2026, 8, 15).weekday() == 5
    assert not rules.is_working_day(dt.date(2026, 8, 17))
    assert rules.due_date(ym("2026-08")) == dt.date(2026, 8, 18)


# Active ------------------------------------------------------------------------------------


def test_active_when_current_month_paid(rules: RuleSet) -> None:
    status = coverage_status("2026-01", months("2026-01", "2026-11"), as_of=TODAY)
    assert status.state is CoverageState.ACTIVE
    assert status.protected is True
    assert status.as_of == TODAY
    assert status.registered == ym("2026-01")
    assert status.paid_through == ym("2026-11")
    assert status.payable == ()
    assert status.pay_by is None
    assert status.lapsed_since is None
    assert status.unpaid_holes == ()
    assert status.next_due == rules.due_date(ym("2026-12")) == dt.date(2026, 12, 15)


def test_active_when_paid_ahead(rules: RuleSet) -> None:
    status = coverage_status("2026-06", months("2026-06", "2027-02"), as_of=TODAY)
    assert status.state is CoverageState.ACTIVE
    assert status.protected
    assert status.paid_through == ym("2027-02")
    assert status.next_due == rules.due_date(ym("2027-03"))


def test_accepts_strings_and_year_months_alike() -> None:
    as_text = coverage_status(
        "2026-01", [str(m) for m in months("2026-01", "2026-11")], as_of=TODAY
    )
    as_months = coverage_status(ym("2026-01"), months("2026-01", "2026-11"), as_of=TODAY)
    assert as_text == as_months


def test_payments_before_registration_are_ignored() -> None:
    status = coverage_status("2026-10", [*months("2025-01", "2025-06"), ym("2026-10")], as_of=TODAY)
    assert status.registered == ym("2026-10")
    assert status.paid_through == ym("2026-10")
    assert status.unpaid_holes == ()
    assert status.state is CoverageState.IN_ARREARS
    assert status.payable == (ym("2026-11"),)


# Due ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 15),  # the nominal due date, a Sunday
        dt.date(2026, 11, 16),  # the moved due date, a Monday: still due
    ],
)
def test_due_before_moved_due_date(day: dt.date) -> None:
    status = coverage_status("2026-01", months("2026-01", "2026-10"), as_of=day)
    assert status.state is CoverageState.DUE
    assert status.protected is False
    assert status.paid_through == ym("2026-10")
    assert status.payable == (ym("2026-11"),)
    assert status.next_due == dt.date(2026, 11, 16)
    assert status.pay_by == dt.date(2027, 1, 31)
    assert status.lapsed_since is None


def test_in_arrears_the_day_after_the_moved_due_date() -> None:
    status = coverage_status("2026-01", months("2026-01", "2026-10"), as_of=dt.date(2026, 11, 17))
    assert status.state is CoverageState.IN_ARREARS
    assert status.payable == (ym("2026-11"),)
    assert status.next_due == dt.date(2026, 11, 16)


def test_due_date_moved_over_holiday_keeps_month_due() -> None:
    paid = months("2026-01", "2026-07")
    assert coverage_status("2026-01", paid, as_of=dt.date(2026, 8, 17)).state is CoverageState.DUE
    assert coverage_status("2026-01", paid, as_of=dt.date(2026, 8, 18)).state is CoverageState.DUE
    late = coverage_status("2026-01", paid, as_of=dt.date(2026, 8, 19))
    assert late.state is CoverageState.IN_ARREARS


def test_not_due_but_in_arrears_when_an_older_month_is_unpaid() -> None:
    # Before November's due date, but October is unpaid too.
    status = coverage_status("2026-01", months("2026-01", "2026-09"), as_of=dt.date(2026, 11, 2))
    assert status.state is CoverageState.IN_ARREARS
    assert status.payable == (ym("2026-10"), ym("2026-11"))


# In arrears --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid_through", "payable", "pay_by"),
    [
        ("2026-10", ["2026-11"], dt.date(2027, 1, 31)),
        ("2026-09", ["2026-10", "2026-11"], dt.date(2026, 12, 31)),
        ("2026-08", ["2026-09", "2026-10", "2026-11"], dt.date(2026, 11, 30)),
    ],
)
def test_in_arrears(paid_through: str, payable: list[str], pay_by: dt.date, rules: RuleSet) -> None:
    status = coverage_status("2026-01", months("2026-01", paid_through), as_of=TODAY)
    assert status.state is CoverageState.IN_ARREARS
    assert status.protected is False
    assert status.paid_through == ym(paid_through)
    assert status.payable == tuple(ym(m) for m in payable)
    # Last day of the 3rd month after protection ended.
    assert status.pay_by == pay_by == (ym(paid_through) + 3).last_day()
    assert status.next_due == rules.due_date(ym(payable[0]))
    assert status.lapsed_since is None


def test_arrears_window_boundary() -> None:
    paid = months("2026-01", "2026-08")
    last_day = coverage_status("2026-01", paid, as_of=dt.date(2026, 11, 30))
    assert last_day.state is CoverageState.IN_ARREARS
    assert last_day.pay_by == dt.date(2026, 11, 30)
    next_day = coverage_status("2026-01", paid, as_of=dt.date(2026, 12, 1))
    assert next_day.state is CoverageState.LAPSED
    assert next_day.payable == ()


# Lapsed ------------------------------------------------------------------------------------


def test_lapsed_after_four_consecutive_unpaid_months() -> None:
    status = coverage_status("2026-01", months("2026-01", "2026-07"), as_of=TODAY)
    assert status.state is CoverageState.LAPSED
    assert status.protected is False
    assert status.paid_through == ym("2026-07")
    assert status.lapsed_since == ym("2026-08")
    assert status.payable == ()
    assert status.pay_by is None
    assert status.next_due is None


def test_lapsed_long_ago() -> None:
    status = coverage_status("2020-01", months("2020-01", "2021-06"), as_of=TODAY)
    assert status.state is CoverageState.LAPSED
    assert status.lapsed_since == ym("2021-07")
    assert status.payable == ()


# Restarts and holes ------------------------------------------------------------------------


def test_gap_of_more_than_three_months_restarts_membership() -> None:
    # April-July 2025 unpaid (4 months): the membership ended; August began a new one.
    paid = [*months("2025-01", "2025-03"), *months("2025-08", "2026-11")]
    status = coverage_status("2025-01", paid, as_of=TODAY)
    assert status.state is CoverageState.ACTIVE
    assert status.registered == ym("2025-08")
    assert status.unpaid_holes == ()
    assert status.protected


def test_gap_of_three_months_is_a_hole_not_a_restart() -> None:
    paid = [*months("2025-01", "2025-03"), *months("2025-07", "2026-11")]
    status = coverage_status("2025-01", paid, as_of=TODAY)
    assert status.state is CoverageState.ACTIVE
    assert status.registered == ym("2025-01")
    assert status.unpaid_holes == (ym("2025-04"), ym("2025-05"), ym("2025-06"))


def test_holes_before_a_restart_are_forgotten() -> None:
    paid = [
        *months("2024-01", "2024-02"),
        *months("2024-04", "2024-06"),  # hole: 2024-03 (old membership)
        *months("2024-11", "2026-05"),  # restart after Jul-Oct 2024
        *months("2026-07", "2026-11"),  # hole: 2026-06
    ]
    status = coverage_status("2024-01", paid, as_of=TODAY)
    assert status.registered == ym("2024-11")
    assert status.unpaid_holes == (ym("2026-06"),)
    assert status.state is CoverageState.ACTIVE


def test_short_holes_are_reported_and_not_payable() -> None:
    paid = [*months("2026-01", "2026-04"), *months("2026-06", "2026-07"), ym("2026-10")]
    status = coverage_status("2026-01", paid, as_of=TODAY)
    assert status.unpaid_holes == (ym("2026-05"), ym("2026-08"), ym("2026-09"))
    assert status.state is CoverageState.IN_ARREARS
    assert status.payable == (ym("2026-11"),)
    assert status.paid_through == ym("2026-10")


# Nothing paid ------------------------------------------------------------------------------


def test_nothing_paid_registered_this_month() -> None:
    early = coverage_status("2026-11", [], as_of=dt.date(2026, 11, 10))
    assert early.state is CoverageState.DUE
    assert early.paid_through is None
    assert early.payable == (ym("2026-11"),)
    assert early.protected is False
    late = coverage_status("2026-11", [], as_of=TODAY)
    assert late.state is CoverageState.IN_ARREARS
    assert late.paid_through is None
    assert late.payable == (ym("2026-11"),)


def test_nothing_paid_since_registration_three_months_ago() -> None:
    status = coverage_status("2026-09", [], as_of=TODAY)
    assert status.state is CoverageState.IN_ARREARS
    assert status.payable == (ym("2026-09"), ym("2026-10"), ym("2026-11"))
    assert status.pay_by == dt.date(2026, 11, 30)
    assert status.registered == ym("2026-09")


def test_nothing_paid_since_registration_four_months_ago_lapses() -> None:
    status = coverage_status("2026-08", [], as_of=TODAY)
    assert status.state is CoverageState.LAPSED
    assert status.paid_through is None
    assert status.lapsed_since == ym("2026-08")
    assert status.payable == ()
