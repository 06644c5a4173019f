"""Time, always in Asia/Jakarta (WIB, UTC+7).

BPJS Ketenagakerjaan counts due dates and months in Western Indonesian Time, whatever the time zone
of the machine running the library. Every "today" in the library comes from here, and every
function that depends on the date also takes an explicit one so tests and the CLI's ``--as-of``
can fix it.

A :data:`Clock` is any callable returning an aware datetime. One clock flows through a payment:
the :class:`~jamsostek_channels.client.Client` hands its clock to its journal and its adapter,
and the sandbox hands its clock to the fake host and to the clients it builds, so an expiry
written by one is compared with the same time by the other. :func:`now` is the wall clock, the
default wherever no clock is given; nothing else in the library reads the wall clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeAlias

__all__ = ["JAKARTA", "Clock", "business_day", "now", "today"]

#: Anything that tells the current instant as an aware datetime: :func:`now`, a test's manual
#: clock, the fake host's :meth:`~jamsostek_channels.testing.host.FakeHost.now`.
Clock: TypeAlias = Callable[[], dt.datetime]

#: The one time zone the rules speak in: Asia/Jakarta, Western Indonesian Time. It has been
#: UTC+7 without daylight saving since 1964, so a fixed offset is exact for every date this
#: library handles, needs no time-zone database on the host, and converts several times faster
#: than a ZoneInfo on the payment path.
JAKARTA = dt.timezone(dt.timedelta(hours=7), "WIB")


def now() -> dt.datetime:
    """The current instant, as an aware datetime in Asia/Jakarta."""
    return dt.datetime.now(JAKARTA)


def today() -> dt.date:
    """Today's date in Asia/Jakarta (not the machine's local date)."""
    return now().date()


def business_day(moment: dt.datetime, cutoff: dt.time | None = None) -> dt.date:
    """The WIB day a payment made at ``moment`` is settled under: its WIB date, or the next
    day when the channel's day closes at ``cutoff`` (WIB) and ``moment`` is at or after it
    (a bank that closes its books at 23:00 lists a payment of 23:30 in tomorrow's file)."""
    local = moment.astimezone(JAKARTA)
    if cutoff is not None and local.time() >= cutoff:
        return local.date() + dt.timedelta(days=1)
    return local.date()
