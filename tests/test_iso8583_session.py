"""ISO 8583 sessions (issue 12, item 3): echo when idle, reconnect with backoff, sign-off.

Most tests drive :class:`Iso8583Session` against the fake switch with a monotonic clock moved by
hand and call :meth:`Iso8583Session.tend` (one look of the keep-alive) themselves, so nothing
waits for seconds; the keep-alive thread runs beside them but leaves the looks to the test.
The last tests go through ``connect()`` with a real interval of a few hundredths of a second:
echoes arrive, stop at ``close()``, and never disturb payments made at the same time.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from iso8583_kit import AGENT
from test_client import NIK, ONE_MONTH, Clock, payments, person, seed

from jamsostek_channels.adapters.iso8583 import (
    FinancialRequest,
    NetworkCode,
    PrivateData,
    Timers,
    TransmissionTime,
    load_profile,
)
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.adapters.iso8583.session import Iso8583Session, backoff_delay
from jamsostek_channels.client import Client
from jamsostek_channels.errors import NotDelivered
from jamsostek_channels.testing.host import FakeHost

TERMINAL = "BRI00001"
#: Echo after 60 s idle (moved by hand), give up after two; waits short for a loaded machine.
TIMERS = Timers(
    inquiry_timeout=1, payment_timeout=1, echo_idle=60, missed_echoes=2,
    reconnect_backoff=0.5, reconnect_backoff_max=2, reconnect_attempts=3,
)  # fmt: skip
#: A real interval short enough for the suite: echoes every few hundredths of a second.
FAST_ECHO = 0.03


class Monotonic:
    """A monotonic clock that moves only when told (``advance``, or a recorded sleep)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
def sessions(clock: Clock, monotonic: Monotonic) -> Iterator[Callable[..., Iso8583Session]]:
    """Opens sessions on the hand-moved clock (STANs from one counter, full jitter off);
    closed afterwards. Their keep-alive threads run but look at the link only once an hour: the
    tests take each look themselves (:meth:`Iso8583Session.tend`), so no step races another."""
    opened: list[Iso8583Session] = []
    stans = itertools.count(1)

    def open_session(switch: FakeSwitch, **options: object) -> Iso8583Session:
        profile = switch.profile
        session = Iso8583Session(
            profile,
            address=switch.address,
            terminal_id=TERMINAL,
            stan=lambda: next(stans),
            now=lambda: TransmissionTime.of(clock(), profile.time_zone),
            timers=TIMERS,
            monotonic=monotonic,
            sleep=monotonic.sleep,
            jitter=lambda: 1.0,
            tick=3600,
            **options,  # type: ignore[arg-type]
        )
        opened.append(session)
        return session

    yield open_session
    for session in opened:
        session.close()


def codes(switch: FakeSwitch) -> list[NetworkCode]:
    return [code for _terminal, code, _stan in switch.network]


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "never got there"
        time.sleep(0.005)


def keepalive_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("iso8583-keepalive:")]


# The backoff schedule ----------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap_and_jitter_stays_within_half_a_step() -> None:
    top = [backoff_delay(n, base=0.5, cap=4.0, jitter=1.0) for n in range(1, 7)]
    assert top == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff_delay(3, base=0.5, cap=4.0, jitter=0.0) == 1.0
    assert backoff_delay(10_000, base=0.5, cap=4.0, jitter=0.5) == 3.0  # no overflow
    with pytest.raises(ValueError, match="from 1"):
        backoff_delay(0, base=0.5, cap=4.0, jitter=0.0)


# Echo when idle ----------------------------------------------------------------------------------


def test_an_echo_goes_after_the_idle_interval_and_not_before(
    switches: Callable[..., FakeSwitch], sessions: Callable[..., Iso8583Session],
    monotonic: Monotonic,
) -> None:  # fmt: skip
    switch = switches()
    session = sessions(switch)
    session.ready(1)
    assert session.keeping_alive

    monotonic.advance(59)
    session.tend()
    assert switch.echoes() == 0

    monotonic.advance(1)
    session.tend()
    assert switch.echoes(TERMINAL) == 1
    assert ("0810", "00") in switch.answers

    monotonic.advance(59)  # the echo was traffic: idle again from it
    session.tend()
    assert switch.echoes() == 1
    monotonic.advance(1)
    session.tend()
    assert switch.echoes() == 2
    assert codes(switch) == [NetworkCode.SIGN_ON, NetworkCode.ECHO, NetworkCode.ECHO]


def test_the_interval_is_a_setting(
    switches: Callable[..., FakeSwitch], sessions: Callable[..., Iso8583Session],
    monotonic: Monotonic,
) -> None:  # fmt: skip
    switch = switches()
    session = sessions(switch, interval=5)
    session.ready(1)
    monotonic.advance(5)
    session.tend()
    assert switch.echoes() == 1


def test_no_echo_while_a_request_is_in_flight(
    switches: Callable[..., FakeSwitch], sessions: Callable[..., Iso8583Session],
    monotonic: Monotonic, clock: Clock,
) -> None:  # fmt: skip
    switch = switches()
    session = sessions(switch)
    session.ready(1)
    profile = switch.profile
    inquiry = FinancialRequest(
        processing_code=profile.processing_codes.inquiry, amount=0,
        transmitted=TransmissionTime.of(clock(), profile.time_zone), stan=900_001,
        channel_type=profile.channel_type, acquirer=profile.acquirer_id, rrn="612304900001",
        terminal=TERMINAL, merchant=AGENT,
        private=PrivateData(product=profile.product_id, customer=NIK, months=1),
    )  # fmt: skip
    switch.faults.inject("hold", match=NIK, seconds=0.3)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(session.send, inquiry, timeout=3, reference="inquiry")
        wait_for(lambda: session.transport.in_flight == 1)
        monotonic.advance(600)
        session.tend()  # busy: no echo
        assert switch.echoes() == 0
        assert answer.result().response_code == "00"  # type: ignore[attr-defined]

    session.tend()  # the answer was traffic just now
    assert switch.echoes() == 0
    monotonic.advance(60)
    session.tend()
    assert switch.echoes() == 1


# Missed echoes, a restarted switch ---------------------------------------------------------------


def test_missed_echoes_close_the_link_and_it_is_reopened_and_signed_on(
    switches: Callable[..., FakeSwitch], sessions: Callable[..., Iso8583Session],
    monotonic: Monotonic, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    switch = switches()
    session = sessions(switch, interval=0.2)  # an echo waits at most the interval
    session.ready(1)
    switch.mute_echoes = True  # the link stays up; the switch no longer answers echoes

    with caplog.at_level(logging.WARNING, "jamsostek_channels.transport"):
        monotonic.advance(0.2)
        session.tend()
        assert session.echoes_missed == 1
        assert session.signed_on  # one missed is not enough (missed_echoes = 2)
        monotonic.advance(0.2)
        session.tend()
        assert session.echoes_missed == 2
        assert not session.transport.connected  # held for dead, closed

        switch.mute_echoes = False
        session.tend()  # the first try to reopen goes at once

    assert session.signed_on
    assert session.reconnects == 1
    assert codes(switch) == [
        NetworkCode.SIGN_ON, NetworkCode.ECHO, NetworkCode.ECHO, NetworkCode.SIGN_ON,
    ]  # fmt: skip
    # This thread's looks only: sessions other tests left open log reconnects of their own.
    mine = [r for r in caplog.records if r.thread == threading.get_ident()]
    outcomes = [r.outcome for r in mine if getattr(r, "event", "") == "iso8583.reconnect"]
    assert outcomes == ["missed-echoes", "reconnected"]


def test_a_restarted_switch_is_reached_again_after_growing_waits(
    switches: Callable[..., FakeSwitch], sessions: Callable[..., Iso8583Session],
    monotonic: Monotonic, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    switch = switches()
    port = switch.server.port
    session = sessions(switch)
    session.ready(1)
    switch.stop()  # the switch goes away; the link with it
    wait_for(lambda: not session.transport.connected)

    with caplog.at_level(logging.WARNING, "jamsostek_channels.transport"):
        for wait in (0.0, 0.5, 1.0, 2.0):  # each try after the last one's backoff
            monotonic.advance(wait)
            session.tend()
            session.tend()  # too early for another try: nothing happens
        restarted = switches(port=port)
        monotonic.advance(2.0)  # the cap
        session.tend()

    tries = [r for r in caplog.records if getattr(r, "event", "") == "iso8583.reconnect"]
    assert [r.outcome for r in tries] == ["failed"] * 4 + ["reconnected"]
    assert [r.next_delay for r in tries[:4]] == [0.5, 1.0, 2.0, 2.0]
    assert session.signed_on
    assert codes(restarted) == [NetworkCode.SIGN_ON]  # signed on before anything else


def test_a_message_finding_no_link_gives_up_within_its_own_timer(
    switches: Callable[..., FakeSwitch], sessions: Callable[..., Iso8583Session],
    monotonic: Monotonic,
) -> None:  # fmt: skip
    switch = switches()
    session = sessions(switch)
    switch.stop()

    with pytest.raises(NotDelivered):
        session.ready(10)  # three tries, two waits between them
    assert monotonic.sleeps == [0.5, 1.0]

    monotonic.sleeps.clear()
    with pytest.raises(NotDelivered):
        session.ready(1.2)  # the second wait would end past the timer: not taken
    assert monotonic.sleeps == [0.5]


# Through connect(): real threads, short real intervals --------------------------------------


@pytest.fixture
def timers() -> Timers:
    """The clients': waits long enough for a loaded machine, a reconnect soon after a restart."""
    return Timers(inquiry_timeout=3, payment_timeout=3, reconnect_backoff=0.05)


def test_echoes_arrive_while_idle_and_stop_at_close(
    switches: Callable[..., FakeSwitch], clients: Callable[..., Client]
) -> None:
    switch = switches()
    before = len(keepalive_threads())
    client = clients(switch, settings={"echo_interval": FAST_ECHO})
    client.inquire(NIK, 1)
    wait_for(lambda: switch.echoes(TERMINAL) >= 2)
    assert len(keepalive_threads()) == before + 1
    assert all(thread.daemon for thread in keepalive_threads())  # never holds the process open

    client.close()

    assert len(keepalive_threads()) == before  # no thread left
    sent = switch.echoes()
    assert codes(switch)[-1] is NetworkCode.SIGN_OFF
    time.sleep(FAST_ECHO * 4)
    assert switch.echoes() == sent


def test_payments_at_once_while_echoing_never_mix_answers(
    switches: Callable[..., FakeSwitch], clients: Callable[..., Client], host: FakeHost
) -> None:
    for serial in range(2, 9):
        seed(host, serial)
    switch = switches()
    client = clients(switch, settings={"echo_interval": 0.01})
    client.inquire(NIK, 1)
    wait_for(lambda: switch.echoes() >= 1)

    def pay(serial: int) -> int:
        nik = NIK if serial == 1 else person(serial).nik
        time.sleep(0.02 * (serial % 3))  # some idle gaps for echoes between them
        return client.pay(nik, months=1, reference=f"POS-{serial:04d}").amount

    with ThreadPoolExecutor(4) as pool:
        amounts = list(pool.map(pay, range(1, 9)))

    assert amounts == [ONE_MONTH] * 8
    assert sorted(payments(host)) == [f"POS-{serial:04d}" for serial in range(1, 9)]
    assert all(code == "00" for _mti, code in switch.answers)  # no 94, no refusal
    stans = [stan for _t, _c, stan in switch.network] + [stan for _t, stan in switch.stans]
    assert len(stans) == len(set(stans))  # one durable sequence for echoes and payments


def test_a_payment_with_the_switch_down_is_not_delivered(
    switches: Callable[..., FakeSwitch], clients: Callable[..., Client], host: FakeHost
) -> None:
    switch = switches()
    client = clients(switch)
    client.inquire(NIK, 1)
    switch.stop()
    started = time.monotonic()
    with pytest.raises(NotDelivered):
        client.pay(NIK, months=1, reference="POS-DOWN")
    assert time.monotonic() - started < 3  # within the payment's own timer
    assert payments(host) == []


def test_settings_refuse_a_bad_echo_interval() -> None:
    from jamsostek_channels.adapters.iso8583.spec import BRILINK

    with pytest.raises(ValueError, match="echo_interval"):
        BRILINK.parse_settings(
            {"base_url": "tcp://127.0.0.1:9", "terminal_id": TERMINAL, "echo_interval": 0}
        )
    settings = BRILINK.parse_settings(
        {"base_url": "tcp://127.0.0.1:9", "terminal_id": TERMINAL, "echo_interval": 5}
    )
    assert settings.echo_interval == 5.0
    assert load_profile("brilink").timers.echo_idle == 60  # the profile's, unless replaced
