"""Coverage status (*status kepesertaan*): is a participant protected on a given day?

Only paid months are protected. From a payment history (the months paid) and a date:

* **active** - the current month is paid;
* **due** - the current month is unpaid but its due date (the 15th, moved to the next working
  day) has not passed, and nothing older is unpaid;
* **in arrears** - unpaid months that can still be paid, oldest first, until ``pay_by``: the
  last day of the third month after protection ended (no late fee for BPU);
* **lapsed** - more than three consecutive unpaid months: membership ended and coming back means
  a fresh registration; older arrears can no longer be paid.

A gap of more than three months *between* paid months means the membership lapsed and a new one
began at the next paid month; the status describes the latest membership. Shorter gaps between
paid months are ``unpaid_holes``: never protected, and not payable once later months are paid
(hosts apply payments to the oldest unpaid month, so the library never creates them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from jamsostek_channels import clock
from jamsostek_channels.model import CoverageState, CoverageStatus
from jamsostek_channels.period import YearMonth
from jamsostek_channels.rules import RuleSet

__all__ = ["coverage_status"]


def coverage_status(
    registered: YearMonth | str,
    paid: Iterable[YearMonth | str],
    *,
    rules: RuleSet,
    as_of: dt.date | None = None,
) -> CoverageStatus:
    """The coverage status on ``as_of`` (default: today in Asia/Jakarta) under ``rules`` (the
    lapse and arrears windows, due dates).

    ``registered`` is the first month of membership; ``paid`` the contribution months paid
    (months before ``registered`` are ignored). :func:`jamsostek_channels.coverage_status` is
    this function with the packaged rules by default.
    """
    policy = rules.policy
    day = as_of or clock.today()
    current = YearMonth.of(day)
    start = registered if isinstance(registered, YearMonth) else YearMonth.parse(registered)
    months = sorted({m if isinstance(m, YearMonth) else YearMonth.parse(m) for m in paid})
    months = [m for m in months if m >= start and m <= current + policy.max_months]

    # Walk the history: a run of more than `lapse` unpaid months restarts the membership.
    lapse = policy.lapse_after_unpaid_months
    period_start = start
    last_paid: YearMonth | None = None
    holes: list[YearMonth] = []
    for month in months:
        previous = last_paid if last_paid is not None else period_start - 1
        gap = month - previous - 1
        if gap > lapse:
            period_start, holes = month, []
        else:
            holes += [previous + i for i in range(1, gap + 1)]
        last_paid = month

    protected_through = last_paid if last_paid is not None else period_start - 1
    unpaid_run = current - protected_through
    first_unpaid = protected_through + 1

    if unpaid_run > lapse:
        return CoverageStatus(
            state=CoverageState.LAPSED,
            as_of=day,
            registered=period_start,
            paid_through=last_paid,
            protected=False,
            payable=(),
            pay_by=None,
            next_due=None,
            lapsed_since=first_unpaid,
            unpaid_holes=tuple(holes),
        )
    if unpaid_run <= 0:
        return CoverageStatus(
            state=CoverageState.ACTIVE,
            as_of=day,
            registered=period_start,
            paid_through=last_paid,
            protected=current >= period_start,
            payable=(),
            pay_by=None,
            next_due=rules.due_date(first_unpaid),
            lapsed_since=None,
            unpaid_holes=tuple(h for h in holes),
        )
    payable = tuple(first_unpaid + i for i in range(unpaid_run))
    due = rules.due_date(first_unpaid)
    state = CoverageState.DUE if unpaid_run == 1 and day <= due else CoverageState.IN_ARREARS
    return CoverageStatus(
        state=state,
        as_of=day,
        registered=period_start,
        paid_through=last_paid,
        protected=False,
        payable=payable,
        pay_by=(protected_through + policy.arrears_window_months).last_day(),
        next_due=due,
        lapsed_since=None,
        unpaid_holes=tuple(holes),
    )
