"""The framed TCP transport and the framed TCP server of the testing kit: frames spelt every way
a partner may want, several requests in flight on one connection, and every fault knob read the
way the HTTP transport reads its failures (not connected: nothing sent; written and unanswered:
unknown; unreadable: malformed). Real loopback sockets, small timeouts, no sleeps."""

from __future__ import annotations

import contextlib
import doctest
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from jamsostek_channels.errors import MalformedMessage, NotDelivered, OutcomeUnknown
from jamsostek_channels.testing.tcp import GARBAGE_FRAME, FramedTcpServer, Handler
from jamsostek_channels.testing.wire import Faults
from jamsostek_channels.transport import Framing, TcpTransport, Timeouts, read_frame

FAST = Timeouts(connect=1.0, read=0.5)
NIK = "3201015508950001"


def keyed(payload: bytes) -> tuple[bytes, bytes]:
    """The tests' codec: ``KEY|body``; anything else cannot be read."""
    key, bar, body = payload.partition(b"|")
    if not bar:
        raise ValueError("no key")
    return key, body


def echo(payload: bytes) -> bytes:
    return payload + b"-ok"


def eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


class Recorder:
    """A handler that records what it processed (what "the host committed")."""

    def __init__(self, answer: Handler = echo) -> None:
        self.seen: list[bytes] = []
        self.answer = answer
        self.called = threading.Event()

    def __call__(self, payload: bytes) -> bytes | None:
        self.seen.append(payload)
        self.called.set()
        return self.answer(payload)


@pytest.fixture
def host() -> Recorder:
    return Recorder()


@pytest.fixture
def server(host: Recorder) -> Iterator[FramedTcpServer]:
    with FramedTcpServer(host, idle_timeout=5.0) as running:
        yield running


def client(server: FramedTcpServer, **kwargs: object) -> TcpTransport[bytes]:
    kwargs.setdefault("timeouts", FAST)
    transport: TcpTransport[bytes] = TcpTransport(server.address, keyed, **kwargs)  # type: ignore[arg-type]
    transport.connect()
    return transport


# --- framing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("framing", "header"),
    [
        (Framing(), b"\x00\x05"),
        (Framing(byteorder="little"), b"\x05\x00"),
        (Framing(width=4), b"\x00\x00\x00\x05"),
        (Framing(width=4, byteorder="little"), b"\x05\x00\x00\x00"),
        (Framing(width=4, ascii_length=True), b"0005"),
        (Framing(width=2, ascii_length=True), b"05"),
    ],
)
def test_frames_are_spelt_as_the_framing_says(framing: Framing, header: bytes) -> None:
    assert framing.frame(b"A|xyz") == header + b"A|xyz"
    assert framing.length(header) == 5


def test_framing_limits() -> None:
    assert Framing().max_bytes == 8192
    assert Framing(width=2, ascii_length=True).max_bytes == 99  # what two digits can spell
    assert Framing(width=4, max_bytes=65_536).capacity == 2**32 - 1
    for bad in ({"width": 3}, {"max_bytes": 0}, {"max_bytes": 65_536}, {"byteorder": "middle"}):
        with pytest.raises(ValueError, match=r"wide|max_bytes|byteorder"):
            Framing(**bad)
    with pytest.raises(ValueError, match=r"1\.\.8192"):
        Framing().frame(b"")
    with pytest.raises(ValueError, match=r"1\.\.10"):
        Framing(max_bytes=10).frame(b"x" * 11)


@pytest.mark.parametrize(
    ("framing", "header", "code"),
    [
        (Framing(), b"\x00\x00", "message.malformed"),
        (Framing(), b"\x20\x01", "message.too_large"),
        (Framing(width=4, ascii_length=True), b"01a9", "message.malformed"),
        (Framing(width=4, ascii_length=True), b"-001", "message.malformed"),
        (Framing(width=4, ascii_length=True, max_bytes=100), b"0101", "message.too_large"),
    ],
)
def test_bad_length_headers_are_malformed(framing: Framing, header: bytes, code: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        framing.length(header)
    assert caught.value.code == code


# --- the address -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "tcp://10.0.0.1:9000",
        "tcp://switch.example.co.id:9000",
        "http://127.0.0.1:9000",
        "tcp://127.0.0.1",
        "tcp://127.0.0.1:9000/path",
        "127.0.0.1:9000",
        "tcp://127.0.0.1:x",
    ],
)
def test_refused_addresses(address: str) -> None:
    with pytest.raises(ValueError, match=r"address|loopback"):
        TcpTransport(address, keyed)


def test_accepted_addresses() -> None:
    for address in ("tcp://127.0.0.1:9000", "tcp://localhost:1", "tcp://[::1]:9"):
        assert repr(TcpTransport(address, keyed)).startswith("TcpTransport('tcp://")


# --- exchanges -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "framing",
    [Framing(), Framing(byteorder="little"), Framing(width=4), Framing(width=4, ascii_length=True)],
)
def test_round_trip_over_every_framing(framing: Framing) -> None:
    host = Recorder()
    with FramedTcpServer(host, framing=framing) as server, client(server, framing=framing) as t:
        assert t.send(b"K1|pay", b"K1", reference="REF-1") == b"pay-ok"
        assert t.send(b"K2|" + b"x" * 4000, b"K2") == b"x" * 4000 + b"-ok"
        assert host.seen == [b"K1|pay", b"K2|" + b"x" * 4000]
        assert t.in_flight == 0


def test_answers_out_of_order_reach_their_requests() -> None:
    """A is answered only after B's answer reached the client: each caller gets its own."""
    b_received = threading.Event()
    a_arrived = threading.Event()

    def handler(payload: bytes) -> bytes:
        if payload.startswith(b"A|"):
            a_arrived.set()
            assert b_received.wait(2.0)
        return payload

    finished: list[bytes] = []
    with FramedTcpServer(handler) as server, client(server) as t:

        def pay(key: bytes) -> None:
            assert t.send(key + b"|" + key.lower(), key) == key.lower()
            finished.append(key)

        first = threading.Thread(target=pay, args=(b"A",))
        first.start()
        assert a_arrived.wait(2.0)
        pay(b"B")
        b_received.set()
        first.join(2.0)
    assert finished == [b"B", b"A"]


def test_many_requests_in_flight_on_one_connection(server: FramedTcpServer) -> None:
    results: dict[int, bytes] = {}
    with client(server) as t:

        def pay(n: int) -> None:
            results[n] = t.send(f"K{n}|{n}".encode(), f"K{n}".encode())

        threads = [threading.Thread(target=pay, args=(n,)) for n in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(3.0)
    assert results == {n: f"{n}-ok".encode() for n in range(24)}
    assert server.open_connections <= 1


def test_a_key_already_in_flight_is_refused_before_sending() -> None:
    release = threading.Event()
    host = Recorder(lambda payload: payload if release.wait(2.0) else None)
    with FramedTcpServer(host) as server, client(server) as t:
        first = threading.Thread(target=lambda: t.send(b"K|1", b"K"))
        first.start()
        assert host.called.wait(2.0)
        with pytest.raises(ValueError, match="in flight"):
            t.send(b"K|2", b"K")
        release.set()
        first.join(2.0)
    assert host.seen == [b"K|1"]


# --- nothing sent ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connect_refused_is_not_delivered() -> None:
    t = TcpTransport(f"tcp://127.0.0.1:{free_port()}", keyed, timeouts=FAST)
    with pytest.raises(NotDelivered, match="connect failed") as caught:
        t.connect()
    assert caught.value.code == "transport.not_delivered"
    assert not t.connected


def test_send_without_a_connection_is_not_delivered(server: FramedTcpServer) -> None:
    t = TcpTransport(server.address, keyed, timeouts=FAST)
    with pytest.raises(NotDelivered, match="not connected"):
        t.send(b"K|1", b"K")
    assert server.open_connections == 0


def test_reset_before_the_write_is_not_delivered(server: FramedTcpServer, host: Recorder) -> None:
    server.faults.inject("reset")  # no match: the next connection is reset as it opens
    t = TcpTransport(server.address, keyed, timeouts=FAST)
    with contextlib.suppress(NotDelivered):  # the reset may even beat connect() returning
        t.connect()
    eventually(lambda: not t.connected)
    with pytest.raises(NotDelivered, match=r"connection lost|not connected"):
        t.send(b"K|1", b"K")
    assert host.seen == []
    t.connect()  # the fault is spent: a new connection works
    assert t.send(b"K|2", b"K") == b"2-ok"
    t.close()


# --- outcome unknown -------------------------------------------------------------------------


def test_a_dropped_answer_is_unknown(server: FramedTcpServer, host: Recorder) -> None:
    server.faults.inject("drop", match="PAY-1")
    with client(server) as t, pytest.raises(OutcomeUnknown, match="REF-1") as caught:
        t.send(b"K|PAY-1", b"K", reference="REF-1")
    assert caught.value.code == "outcome.unknown"
    assert host.seen == [b"K|PAY-1"]  # the host committed it


def test_a_late_answer_is_unknown_then_handed_to_on_unmatched(
    server: FramedTcpServer, host: Recorder
) -> None:
    server.faults.inject("delay", match="PAY-2", seconds=0.4)
    late: list[bytes] = []
    with client(server, on_unmatched=late.append) as t:
        started = time.monotonic()
        with pytest.raises(OutcomeUnknown):
            t.send(b"K|PAY-2", b"K", timeout=0.1)
        assert time.monotonic() - started < 0.35  # bounded by the send's own timeout
        eventually(lambda: late == [b"PAY-2-ok"])
        assert t.connected  # a late answer is no reason to drop the link
        assert t.send(b"K|next", b"K") == b"next-ok"


def test_a_held_request_is_unknown_and_applied_afterwards(
    server: FramedTcpServer, host: Recorder
) -> None:
    server.faults.inject("hold", match="PAY-3", seconds=0.3)
    with client(server) as t:
        with pytest.raises(OutcomeUnknown):
            t.send(b"K|PAY-3", b"K", timeout=0.1)
        assert host.seen == []  # the host has not seen it yet
        assert host.called.wait(2.0)
    assert host.seen == [b"K|PAY-3"]


def test_a_reset_after_the_write_is_unknown(server: FramedTcpServer, host: Recorder) -> None:
    server.faults.inject("reset", match="PAY-4")
    with client(server) as t, pytest.raises(OutcomeUnknown):
        t.send(b"K|PAY-4", b"K")
    assert host.seen == []  # the host never saw it, but the client cannot know that


def test_closing_with_requests_in_flight_makes_them_unknown() -> None:
    release = threading.Event()
    host = Recorder(lambda payload: payload if release.wait(2.0) else None)
    outcome: list[BaseException] = []
    with FramedTcpServer(host) as server:
        t = client(server, timeouts=Timeouts(connect=1.0, read=5.0))

        def pay() -> None:
            try:
                t.send(b"K|1", b"K")
            except OutcomeUnknown as exc:
                outcome.append(exc)

        waiting = threading.Thread(target=pay)
        waiting.start()
        assert host.called.wait(2.0)  # written: the host has it
        t.close()
        waiting.join(2.0)
        release.set()
    assert len(outcome) == 1


def test_a_peer_that_stops_mid_frame_makes_it_unknown() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def half_answer() -> None:
            peer, _ = listener.accept()
            with peer:
                read_frame(peer, Framing())
                peer.sendall(b"\x00\x20K|only part")  # 32 bytes announced, 11 sent
                time.sleep(0.5)

        threading.Thread(target=half_answer, daemon=True).start()
        t = TcpTransport(f"tcp://127.0.0.1:{port}", keyed, timeouts=Timeouts(1.0, 0.2))
        t.connect()
        with pytest.raises(OutcomeUnknown):
            t.send(b"K|1", b"K", timeout=1.0)
        assert not t.connected
        t.close()


# --- malformed -------------------------------------------------------------------------------


def test_a_garbage_frame_is_malformed_for_everyone_waiting() -> None:
    release = threading.Event()
    b_arrived = threading.Event()

    def handler(payload: bytes) -> bytes | None:
        if payload.startswith(b"B|"):
            b_arrived.set()
            release.wait(2.0)
        return payload

    errors: list[MalformedMessage] = []
    with FramedTcpServer(handler) as server:
        server.faults.inject("garbage", match="A|")
        t = client(server)

        def pay_b() -> None:
            try:
                t.send(b"B|1", b"B")
            except MalformedMessage as exc:
                errors.append(exc)

        other = threading.Thread(target=pay_b)
        other.start()
        assert b_arrived.wait(2.0)  # B is written and waits for its answer
        with pytest.raises(MalformedMessage, match="ValueError") as caught:
            t.send(b"A|1", b"A")
        other.join(2.0)
        release.set()
        assert not t.connected
    assert caught.value.code == "message.malformed"
    assert [e.code for e in errors] == ["message.malformed"]
    assert errors[0] is not caught.value  # each thread raises its own instance


def test_an_oversized_answer_is_malformed() -> None:
    big = Framing(max_bytes=20_000)
    with FramedTcpServer(lambda p: p + b"x" * 9000, framing=big) as server, client(server) as t:
        with pytest.raises(MalformedMessage, match="8192") as caught:
            t.send(b"K|1", b"K")
        assert caught.value.code == "message.too_large"
        assert not t.connected


def test_a_codec_that_raises_its_own_malformed_message_is_heard() -> None:
    def strict(payload: bytes) -> tuple[bytes, bytes]:
        raise MalformedMessage("message.malformed", {"reason": "DE39 missing"})

    with FramedTcpServer(echo) as server:
        t: TcpTransport[bytes] = TcpTransport(server.address, strict, timeouts=FAST)
        t.connect()
        with pytest.raises(MalformedMessage, match="DE39 missing"):
            t.send(b"K|1", b"K")
        t.close()


# --- the server lives on ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [b"\xff\xff" + b"x" * 10, b"\x00\x00", b"\x00"],  # oversized, empty, cut short
)
def test_a_client_sending_garbage_loses_its_connection_only(
    server: FramedTcpServer, garbage: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=2.0) as raw:
        raw.sendall(garbage)
        if len(garbage) < 2:
            raw.shutdown(socket.SHUT_WR)  # the frame is cut short by the close
        assert raw.recv(100) == b""  # closed by the server, without a word
    with client(server) as t:
        assert t.send(b"K|still", b"K") == b"still-ok"
    eventually(lambda: server.open_connections == 0)


def test_a_message_the_handler_cannot_read_closes_its_connection() -> None:
    def strict(payload: bytes) -> bytes:
        keyed(payload)  # raises for a message without a key
        return echo(payload)

    with FramedTcpServer(strict) as server:
        with client(server) as t, pytest.raises(OutcomeUnknown):
            t.send(b"no key at all", b"?")
        eventually(lambda: server.refused == 1)
        with client(server) as t:
            assert t.send(b"K|fine", b"K") == b"fine-ok"


def test_an_idle_connection_is_closed_by_the_server() -> None:
    with FramedTcpServer(echo, idle_timeout=0.1) as server:
        t = client(server)
        eventually(lambda: not t.connected)
        with pytest.raises(NotDelivered):
            t.send(b"K|1", b"K")


def test_stop_ends_holds_at_once(host: Recorder) -> None:
    faults = Faults()
    faults.inject("hold", seconds=60.0)
    server = FramedTcpServer(host, faults=faults).start()
    t = client(server)
    with pytest.raises(OutcomeUnknown):
        t.send(b"K|1", b"K", timeout=0.1)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2.0
    assert host.seen == []
    t.close()


def test_garbage_frame_is_no_message() -> None:
    with pytest.raises(ValueError, match="no key"):
        keyed(GARBAGE_FRAME)
    with pytest.raises(UnicodeDecodeError):
        GARBAGE_FRAME.decode("ascii")


# --- logs ------------------------------------------------------------------------------------


def test_logs_carry_sizes_and_outcomes_never_bytes(
    server: FramedTcpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jamsostek_channels.transport")
    server.faults.inject("drop", match="DROPME")
    with client(server, name="brilink-test") as t:
        t.send(f"K|{NIK}".encode(), b"K", reference="REF-9")
        with pytest.raises(OutcomeUnknown):
            t.send(f"K|DROPME{NIK}".encode(), b"K", reference="REF-10")
    records = [r for r in caplog.records if getattr(r, "event", "") == "tcp.exchange"]
    assert [r.outcome for r in records] == ["answered", "dropped"]  # type: ignore[attr-defined]
    assert [r.levelno for r in records] == [logging.INFO, logging.WARNING]
    assert "channel=brilink-test" in records[0].getMessage()
    assert all(NIK not in r.getMessage() for r in caplog.records)


def test_doctests() -> None:
    from jamsostek_channels.transport import tcp

    assert doctest.testmod(tcp).failed == 0
