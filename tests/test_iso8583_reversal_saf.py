"""A till's unanswered payment is undone by a reversal that goes to store-and-forward (issue 12,
item 4): the 0400, its repeats 0401 (the profile's ``repeats``, ``repeat_interval`` apart), then
the reversal advice 0420 and its repeats 0421 (every ``store_and_forward_interval``) until an
answer settles it or it expires. The form of each delivery follows the outbox's durable attempt
count, so a new process on the same journal keeps counting. The 0400 and its 0401s share one
STAN, the 0420 (a new transmission of the stored reversal) and its 0421s another, both fixed
when the reversal was queued.

The client's clock is moved by hand; the switch is real TCP on a free loopback port and keeps
every frame it read (``RecordingSwitch``); faults are the server's ``drop`` (processed, never
answered) and ``reset`` (never seen).
"""

from __future__ import annotations

import datetime as dt
import doctest
from collections.abc import Callable, Iterator

import pytest
from test_client import NIK, Clock
from test_iso8583_channel import financial
from test_iso8583_wire_facts import RecordingSwitch

from jamsostek_channels.adapters.iso8583 import adapter as iso_adapter
from jamsostek_channels.adapters.iso8583.adapter import reversal_form
from jamsostek_channels.channel import (
    AdviceRequest,
    PaymentState,
    ReversalRequest,
)
from jamsostek_channels.client import Client
from jamsostek_channels.errors import OutcomeUnknown
from jamsostek_channels.journal import EntryState, OutboxState
from jamsostek_channels.testing.host import FakeHost

SECOND = dt.timedelta(seconds=1)
TILLS = ("indomaret", "alfamart")
#: When each delivery of a reversal queued at 0 s is due under the shipped timers (30 s apart
#: three times, then every 60 s), and the form it goes in.
SCHEDULE = [(0, "0400"), (30, "0401"), (60, "0401"), (90, "0401"), (150, "0420"),
            (210, "0421"), (270, "0421")]  # fmt: skip
REVERSALS = ("0400", "0401", "0420", "0421")


@pytest.fixture
def recording(host: FakeHost) -> Iterator[Callable[[str], RecordingSwitch]]:
    started: list[RecordingSwitch] = []

    def start(name: str) -> RecordingSwitch:
        switch = RecordingSwitch(host, name, idle_timeout=10)
        started.append(switch.start())
        return switch

    yield start
    for switch in started:
        switch.stop()


def reversals(switch: RecordingSwitch) -> list[tuple[str, str, str]]:
    """Every reversal the switch read: ``(MTI, DE11, DE90)``."""
    return [(f["t"], f["11"], f["90"]) for f in switch.frames if f["t"] in REVERSALS]


def unanswered_payment(client: Client, switch: RecordingSwitch, reference: str) -> None:
    """Pay under ``reference``; the 0200 goes unanswered, its reversal's 0400 is sent at once."""
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference=reference)
    assert [mti for mti, _stan, _original in reversals(switch)] == ["0400"]


def deliver_at(client: Client, clock: Clock, queued: dt.datetime, seconds: int) -> None:
    clock.now = queued + seconds * SECOND
    client.flush_outbox()


def test_the_delivery_number_picks_the_form() -> None:
    forms = {(False, False): "0400", (False, True): "0401", (True, False): "0420",
             (True, True): "0421"}  # fmt: skip
    assert [forms[reversal_form(n, 3)] for n in range(1, 9)] == [
        "0400", "0401", "0401", "0401", "0420", "0421", "0421", "0421"
    ]  # fmt: skip
    assert [forms[reversal_form(n, 0)] for n in range(1, 4)] == ["0400", "0420", "0421"]
    assert [forms[reversal_form(n, 1)] for n in range(1, 5)] == ["0400", "0401", "0420", "0421"]
    assert doctest.testmod(iso_adapter).failed == 0


def test_a_request_counts_its_deliveries_from_one() -> None:
    for kind in (ReversalRequest, AdviceRequest):  # the payment is not looked at here
        first = kind(object())  # type: ignore[arg-type]
        assert (first.attempt, first.repeat) == (1, False)
        assert kind(object(), 2).repeat is True  # type: ignore[arg-type]
        for wrong in (0, -1, True, 1.5):
            with pytest.raises(ValueError, match="attempt"):
                kind(object(), wrong)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", TILLS)
def test_a_tills_reversal_goes_0400_0401s_then_0420_and_0421s_until_it_expires(
    name: str, recording: Callable[[str], RecordingSwitch], clients: Callable[..., Client],
    clock: Clock,
) -> None:  # fmt: skip
    switch = recording(name)
    client = clients(switch)
    switch.faults.inject("drop", match="PAY-SAF", times=1000)  # processed, never answered
    queued = clock()
    unanswered_payment(client, switch, "PAY-SAF")

    for seconds, _mti in SCHEDULE[1:]:
        deliver_at(client, clock, queued, seconds - 1)  # not due yet: nothing sent
        deliver_at(client, clock, queued, seconds)
    sent = reversals(switch)

    assert [mti for mti, _stan, _original in sent] == [mti for _s, mti in SCHEDULE]
    item = client.journal.outbox_item(name, "reversal", "PAY-SAF")
    assert item is not None
    assert item.attempts == len(SCHEDULE)
    # The 0400 and its repeats under the STAN fixed when it was queued; the 0420 under another
    # one fixed then, kept by its repeats; every one names the same 0200 in DE90.
    stans = [stan for _mti, stan, _original in sent]
    assert stans == [item.payload["wire"]["stan"]] * 4 + [item.payload["wire"]["saf_stan"]] * 3
    assert stans[0] != stans[4]
    assert len({original for _mti, _stan, original in sent}) == 1
    # First transmissions (0200, 0400, 0420) never share a STAN: no 94 from the switch.
    firsts = [stan for _terminal, stan in switch.stans]
    assert len(firsts) == len(set(firsts))

    clock.now = queued + dt.timedelta(days=1)  # the profile's store_and_forward_expiry
    count = len(switch.frames)
    assert client.recover().reversals_expired == ("PAY-SAF",)
    assert len(switch.frames) == count  # an expired reversal is never sent again


@pytest.mark.parametrize("name", TILLS)
def test_an_answered_0420_settles_the_payment_as_reversed(
    name: str, recording: Callable[[str], RecordingSwitch], clients: Callable[..., Client],
    clock: Clock, host: FakeHost,
) -> None:  # fmt: skip
    switch = recording(name)
    client = clients(switch)
    switch.faults.inject("drop", match="PAY-SAF", times=5)  # the 0200, the 0400, three 0401s
    queued = clock()
    unanswered_payment(client, switch, "PAY-SAF")
    for seconds, _mti in SCHEDULE[1:5]:
        deliver_at(client, clock, queued, seconds)

    assert [mti for mti, _stan, _original in reversals(switch)][-1] == "0420"
    assert switch.answers[-1] == ("0430", "00")
    entry = client.journal.get(name, "pay", "PAY-SAF")
    assert entry is not None
    assert entry.state is EntryState.REVERSED
    item = client.journal.outbox_item(name, "reversal", "PAY-SAF")
    assert item is not None
    assert (item.state, item.attempts) == (OutboxState.ACCEPTED, 5)
    assert host.payment_status(name, "PAY-SAF").state is PaymentState.REVERSED  # bill owed again
    count = len(switch.frames)
    deliver_at(client, clock, queued, 3600)
    assert len(switch.frames) == count  # settled: nothing more goes


@pytest.mark.parametrize("name", TILLS)
def test_a_0421_answered_not_found_settles_the_payment_as_never_applied(
    name: str, recording: Callable[[str], RecordingSwitch], clients: Callable[..., Client],
    clock: Clock,
) -> None:  # fmt: skip
    switch = recording(name)
    client = clients(switch)
    switch.faults.inject("reset", match="PAY-SAF", times=1)  # the 0200 never reaches the switch
    switch.faults.inject("drop", match="PAY-SAF", times=5)  # the 0400, three 0401s, the 0420
    queued = clock()
    unanswered_payment(client, switch, "PAY-SAF")
    for seconds, _mti in SCHEDULE[1:6]:
        deliver_at(client, clock, queued, seconds)

    assert [mti for mti, _stan, _original in reversals(switch)] == [mti for _s, mti in SCHEDULE[:6]]
    assert switch.answers[-1] == ("0430", "92")
    entry = client.journal.get(name, "pay", "PAY-SAF")
    assert entry is not None
    assert entry.state is EntryState.NOT_APPLIED
    item = client.journal.outbox_item(name, "reversal", "PAY-SAF")
    assert item is not None
    assert item.state is OutboxState.ACCEPTED


@pytest.mark.parametrize("name", TILLS)
def test_a_new_process_on_the_same_journal_keeps_counting(
    name: str, recording: Callable[[str], RecordingSwitch], clients: Callable[..., Client],
    clock: Clock,
) -> None:  # fmt: skip
    switch = recording(name)
    first = clients(switch)
    switch.faults.inject("drop", match="PAY-SAF", times=7)  # answered at the second 0421
    queued = clock()
    unanswered_payment(first, switch, "PAY-SAF")
    for seconds, _mti in SCHEDULE[1:3]:
        deliver_at(first, clock, queued, seconds)
    first.adapter.close()  # that process ends after its second 0401

    second = clients(switch)
    for seconds, _mti in SCHEDULE[3:5]:
        deliver_at(second, clock, queued, seconds)
    second.adapter.close()  # this one after the 0420

    third = clients(switch)
    for seconds, _mti in SCHEDULE[5:7]:
        deliver_at(third, clock, queued, seconds)
    sent = reversals(switch)

    assert [mti for mti, _stan, _original in sent] == [mti for _s, mti in SCHEDULE]
    assert len({stan for _mti, stan, _original in sent[:4]}) == 1
    assert len({stan for _mti, stan, _original in sent[4:]}) == 1  # the 0420's, after a restart
    assert switch.answers[-1] == ("0430", "00")
    entry = third.journal.get(name, "pay", "PAY-SAF")
    assert entry is not None
    assert entry.state is EntryState.REVERSED
    assert third.recover().reversals_expired == ()


def test_an_advice_stays_0220_then_0221_however_long_it_is_retried(
    recording: Callable[[str], RecordingSwitch], clients: Callable[..., Client], clock: Clock,
) -> None:  # fmt: skip
    switch = recording("brilink")
    client = clients(switch)
    switch.faults.inject("drop", match="PAY-ADV", times=1000)
    queued = clock()
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="PAY-ADV")
    for seconds, _mti in SCHEDULE[1:]:
        deliver_at(client, clock, queued, seconds)

    assert financial(switch) == ["0200", "0200", "0220"] + ["0221"] * (len(SCHEDULE) - 1)
    advices = [f["11"] for f in switch.frames if f["t"] in ("0220", "0221")]
    assert len(set(advices)) == 1
    item = client.journal.outbox_item("brilink", "advice", "PAY-ADV")
    assert item is not None
    assert (item.state, item.attempts) == (OutboxState.PENDING, len(SCHEDULE))
