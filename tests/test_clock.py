"""One clock: the sandbox's clients, journals, adapters and fake host read the same time."""

from __future__ import annotations

import datetime as dt

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
