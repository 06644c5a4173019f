"""One clock: the sandbox's clients, journals, adapters and fake host read the same time."""

from __future__ import annotations

import datetime as dt

import pytest

from jamsostek_channels import clock
from jamsostek_channels.channel import Capabilities
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.testing.sandbox import Sandbox

START = dt.datetime(2031, 12, 31, 23, 59, 30, tzinfo=JAKARTA)


def test_a_sandbox_client_reads_the_hosts_clock_by_default() -> None:
    sandbox = Sandbox(seed=3, clock=lambda: START, channels=("linkaja",))
    client = sandbox.client("linkaja")
    try:
        assert client.journal.clock() == START
        assert client.adapter.clock() == START
        # Moving the host's time (the control API's clock action does this) moves theirs.
        sandbox.host.advance(dt.timedelta(seconds=45))
        after = START + dt.timedelta(seconds=45)
        assert after.date() == dt.date(2032, 1, 1)
        assert client.journal.clock() == after
        assert client.adapter.clock() == after
    finally:
        client.close()


def test_a_clock_given_to_a_sandbox_client_reaches_its_journal() -> None:
    sandbox = Sandbox(seed=3, channels=("linkaja",))
    client = sandbox.client("linkaja", clock=lambda: START)
    try:
        assert client.journal.clock() == START
        assert client.adapter.clock() == START
    finally:
        client.close()


@pytest.mark.parametrize(
    ("moment", "cutoff", "day"),
    [
        (dt.datetime(2026, 12, 31, 23, 59, tzinfo=JAKARTA), None, dt.date(2026, 12, 31)),
        (dt.datetime(2026, 12, 31, 16, 59, tzinfo=dt.UTC), None, dt.date(2026, 12, 31)),
        (dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC), None, dt.date(2027, 1, 1)),
        (
            dt.datetime(2026, 12, 31, 22, 59, tzinfo=clock.JAKARTA),
            dt.time(23),
            dt.date(2026, 12, 31),
        ),
        (dt.datetime(2026, 12, 31, 23, 0, tzinfo=clock.JAKARTA), dt.time(23), dt.date(2027, 1, 1)),
        (dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC), dt.time(23), dt.date(2027, 1, 1)),
    ],
)
def test_business_day_is_the_wib_date_or_the_next_past_the_cutoff(
    moment: dt.datetime, cutoff: dt.time | None, day: dt.date
) -> None:
    assert clock.business_day(moment, cutoff) == day


def test_a_profiles_cutoff_is_hh_mm_in_wib() -> None:
    base = {"operations": ["pay"], "customer_ids": ["nik"], "month_counts": [1]}
    assert Capabilities.from_mapping(base).business_day_cutoff is None
    parsed = Capabilities.from_mapping({**base, "business_day_cutoff": "21:30"})
    assert parsed.business_day_cutoff == dt.time(21, 30)
    for bad in ("21", "21:30:00", "25:00", "21:30+07:00"):
        with pytest.raises(ValueError, match=r"HH:MM|hour|Invalid"):
            Capabilities.from_mapping({**base, "business_day_cutoff": bad})
