"""ISO 8583 across a restart (issue 12): a payment's STAN and DE7 are fixed before it is
journaled, so a reversal sent by another process names the 0200 in DE90 byte for byte, and an
advice's repeat (0221) keeps the first advice's STAN, though the new adapter's STANs come from
a new block of the journal's sequence.

Each test kills the first process between the lost answer and the queueing of its advice or
reversal (the entry UNKNOWN, nothing queued), then opens a new adapter and client on the same
journal file and runs ``recover()``, against a fake switch that keeps every frame it read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import iso8583
import pytest
from test_client import NIK, Clock, payments, reversals
from test_iso8583_channel import TIMERS, financial

from jamsostek_channels.adapters.iso8583 import Timers
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.client import Client
from jamsostek_channels.journal import EntryState
from jamsostek_channels.testing.host import FakeHost


class RecordingSwitch(FakeSwitch):
    """A fake switch that also keeps every frame it read, as its data elements' raw text."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.frames: list[dict[str, str]] = []
        super().__init__(*args, **kwargs)

    def handle(self, payload: bytes) -> bytes | None:
        doc, _ = iso8583.decode(bytearray(payload), self.codec.spec)
        self.frames.append(dict(doc))
        return super().handle(payload)

    def sent(self, mti: str) -> list[dict[str, str]]:
        return [frame for frame in self.frames if frame["t"] == mti]


class Killed(BaseException):
    """The process died here."""


class Ticking(Clock):
    """A clock one second later at every reading: the payment's request time, its DE7 and the
    reversal's own DE7 all differ, so DE90 shows which one it names."""

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Ticking()


@pytest.fixture
def timers() -> Timers:
    return TIMERS


@pytest.fixture
def switch(host: FakeHost, request: pytest.FixtureRequest) -> Iterator[RecordingSwitch]:
    started = RecordingSwitch(host, request.param, idle_timeout=10).start()
    yield started
    started.stop()


def pay_and_die(client: Client, reference: str) -> None:
    """Pay; the answer is lost and the process dies before its advice or reversal is queued."""

    def enqueue(*_: object, **__: object) -> None:
        raise Killed

    client.journal.enqueue = enqueue  # type: ignore[assignment,method-assign]
    with pytest.raises(Killed):
        client.pay(NIK, months=1, reference=reference)
    client.adapter.close()
    entry = client.journal.get(client.channel, "pay", reference)
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN
    assert client.journal.outbox(client.channel) == []


@pytest.mark.parametrize("switch", ["indomaret", "alfamart"], indirect=True)
def test_a_reversal_after_a_restart_names_the_original_0200_in_de90(
    switch: RecordingSwitch, clients: Callable[..., Client], host: FakeHost
) -> None:
    switch.faults.inject("drop", match="PAY-LOST")  # applied; the 0210 never arrives
    pay_and_die(clients(switch, "terminal"), "PAY-LOST")

    report = clients(switch, "terminal").recover()  # another process

    assert report.reversed == ("PAY-LOST",)
    assert financial(switch) == ["0200", "0200", "0400"]  # inquiry, payment, reversal
    paying = switch.profile.processing_codes.payment
    (payment,) = [frame for frame in switch.sent("0200") if frame["3"] == paying]
    (reversal,) = switch.sent("0400")
    assert reversal["90"][:20] == "0200" + payment["11"] + payment["7"]
    assert reversal["90"][20:31] == payment["32"].zfill(11)
    assert payment["11"] != "000000"
    assert reversal["11"] != payment["11"]
    assert reversal["7"] != payment["7"]  # the reversal's own time; DE90 keeps the 0200's
    assert payments(host) == ["PAY-LOST"]
    assert reversals(host) == ["PAY-LOST"]


@pytest.mark.parametrize("switch", ["brilink"], indirect=True)
def test_an_0221_after_restarts_keeps_the_first_advices_stan(
    switch: RecordingSwitch, clients: Callable[..., Client], host: FakeHost,
    clock: Clock,
) -> None:  # fmt: skip
    switch.faults.inject("drop", match="PAY-ADV", times=2)  # the 0210 and the first 0230
    pay_and_die(clients(switch, "terminal"), "PAY-ADV")

    second = clients(switch, "terminal")
    assert second.recover().still_unknown == ("PAY-ADV",)  # the 0220 went unanswered
    second.adapter.close()  # that process ends too
    clock.advance(minutes=5)  # past the outbox's backoff
    third = clients(switch, "terminal")
    assert third.recover().applied == ("PAY-ADV",)

    assert financial(switch) == ["0200", "0200", "0220", "0221"]
    (advice,) = switch.sent("0220")
    (repeat,) = switch.sent("0221")
    assert repeat["11"] == advice["11"]
    stans = [frame["11"] for frame in switch.frames]
    assert stans.count(advice["11"]) == 2  # no other message took it
    assert payments(host) == ["PAY-ADV"]
    entry = third.journal.get("brilink", "pay", "PAY-ADV")
    assert entry is not None
    assert entry.state is EntryState.APPLIED
    assert entry.wire["stan"] == switch.sent("0200")[-1]["11"]
