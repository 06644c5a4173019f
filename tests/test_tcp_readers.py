"""Who reads the TCP transport's link: the request that finds no one reading reads it itself (the
leader) and hands other frames to their waiters; when it is done the role goes to another
waiting request, or back to the idle-time reader. The other end is a scripted peer on loopback
that writes exactly what, and when, each test says: answers out of order, in one segment or cut
into pieces, messages no one asked for."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jamsostek_channels.errors import MalformedMessage, OutcomeUnknown
from jamsostek_channels.transport import Framing, TcpTransport, Timeouts, read_frame

FRAMING = Framing()
TIMEOUTS = Timeouts(connect=1.0, read=2.0)


def keyed(payload: bytes) -> tuple[bytes, bytes]:
    """The tests' codec: ``KEY|body``; anything else cannot be read."""
    key, bar, body = payload.partition(b"|")
    if not bar:
        raise ValueError("no key")
    return key, body


def eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


class Peer:
    """The host's end of the transport's one connection, driven by the test."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def read(self) -> bytes:
        payload = read_frame(self.sock, FRAMING)
        assert payload is not None
        return payload

    def write(self, *payloads: bytes) -> None:
        """Every payload framed, all in one write (one segment on loopback)."""
        self.sock.sendall(b"".join(FRAMING.frame(payload) for payload in payloads))


@contextmanager
def linked(
    timeouts: Timeouts = TIMEOUTS,
    on_unmatched: Callable[[bytes], None] | None = None,
) -> Iterator[tuple[TcpTransport[bytes], Peer]]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        transport: TcpTransport[bytes] = TcpTransport(
            f"tcp://127.0.0.1:{port}", keyed, timeouts=timeouts, on_unmatched=on_unmatched
        )
        transport.connect()
        sock, _ = listener.accept()
        sock.settimeout(5.0)
        try:
            yield transport, Peer(sock)
        finally:
            transport.close()
            sock.close()


class Calls:
    """Requests sent from threads of their own; what each got (an answer or an exception)."""

    def __init__(self, transport: TcpTransport[bytes]) -> None:
        self.transport = transport
        self.results: dict[bytes, bytes | BaseException] = {}
        self.elapsed: dict[bytes, float] = {}
        self.threads: list[threading.Thread] = []

    def start(self, key: bytes, timeout: float = 3.0) -> None:
        def call() -> None:
            began = time.monotonic()
            try:
                self.results[key] = self.transport.send(key + b"|ask", key, timeout=timeout)
            except Exception as exc:
                self.results[key] = exc
            self.elapsed[key] = time.monotonic() - began

        thread = threading.Thread(target=call, daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self, within: float = 3.0) -> None:
        for thread in self.threads:
            thread.join(within)
            assert not thread.is_alive(), "a request still waits"


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("tcp-reader:")]


# --- the role handed on ----------------------------------------------------------------------


def test_the_leader_times_out_and_a_follower_reads_its_own_answer() -> None:
    late: list[bytes] = []
    with linked(on_unmatched=late.append) as (transport, peer):
        calls = Calls(transport)
        calls.start(b"A", timeout=0.2)  # no one reads: A does
        assert peer.read() == b"A|ask"
        calls.start(b"B", timeout=3.0)  # A reads: B waits
        assert peer.read() == b"B|ask"
        calls.threads[0].join(1.0)
        assert isinstance(calls.results[b"A"], OutcomeUnknown)
        assert calls.elapsed[b"A"] < 0.6  # bounded by its own timeout, not B's
        time.sleep(0.05)  # B now holds the role: nobody else would read its answer
        peer.write(b"B|paid")
        calls.join()
        assert calls.results[b"B"] == b"paid"
        peer.write(b"A|late")  # no one waits: the idle reader hears it
        eventually(lambda: late == [b"late"])
        assert transport.connected
        assert transport.in_flight == 0


def test_the_leaders_answer_comes_first_while_others_wait() -> None:
    with linked() as (transport, peer):
        calls = Calls(transport)
        for key in (b"A", b"B", b"C"):
            calls.start(key)
            assert peer.read() == key + b"|ask"
        peer.write(b"A|a")
        calls.threads[0].join(2.0)
        assert calls.results == {b"A": b"a"}
        assert transport.in_flight == 2
        peer.write(b"C|c")
        peer.write(b"B|b")
        calls.join()
        assert calls.results == {b"A": b"a", b"B": b"b", b"C": b"c"}


def test_answers_in_one_segment_reach_every_waiter() -> None:
    with linked() as (transport, peer):
        calls = Calls(transport)
        for key in (b"A", b"B", b"C"):
            calls.start(key)
            assert peer.read() == key + b"|ask"
        peer.write(b"C|c", b"B|b", b"X|nobody's", b"A|a")
        calls.join()
        assert calls.results == {b"A": b"a", b"B": b"b", b"C": b"c"}


def test_a_frame_cut_into_pieces_is_put_together() -> None:
    with linked() as (transport, peer):
        calls = Calls(transport)
        calls.start(b"A")
        assert peer.read() == b"A|ask"
        raw = FRAMING.frame(b"A|in pieces")
        for piece in (raw[:1], raw[1:4], raw[4:]):
            peer.sock.sendall(piece)
            time.sleep(0.02)
        calls.join()
        assert calls.results == {b"A": b"in pieces"}


def test_a_frame_begun_when_the_leader_gives_up_is_finished_by_the_next_reader() -> None:
    with linked() as (transport, peer):
        calls = Calls(transport)
        calls.start(b"A", timeout=0.3)
        assert peer.read() == b"A|ask"
        calls.start(b"B", timeout=3.0)
        assert peer.read() == b"B|ask"
        raw = FRAMING.frame(b"B|whole")
        peer.sock.sendall(raw[:5])  # begun while A reads ...
        calls.threads[0].join(1.0)
        assert isinstance(calls.results[b"A"], OutcomeUnknown)
        peer.sock.sendall(raw[5:])  # ... ended after A gave up
        calls.join()
        assert calls.results[b"B"] == b"whole"
        assert transport.connected


def test_a_frame_stalled_midway_drops_the_link_for_everyone() -> None:
    with linked(timeouts=Timeouts(connect=1.0, read=0.2)) as (transport, peer):
        calls = Calls(transport)
        for key in (b"A", b"B"):
            calls.start(key, timeout=3.0)
            assert peer.read() == key + b"|ask"
        peer.sock.sendall(FRAMING.frame(b"A|never finished")[:6])
        calls.join()
        assert all(isinstance(calls.results[k], OutcomeUnknown) for k in (b"A", b"B"))
        assert max(calls.elapsed.values()) < 1.5  # the stall allowance, not the 3 s timeouts
        assert not transport.connected


def test_garbage_read_by_the_leader_is_malformed_for_the_followers_too() -> None:
    with linked() as (transport, peer):
        calls = Calls(transport)
        for key in (b"A", b"B", b"C"):
            calls.start(key)
            assert peer.read() == key + b"|ask"
        peer.write(b"B|b", b"no key at all")
        calls.join()
        assert calls.results[b"B"] == b"b"
        assert all(isinstance(calls.results[k], MalformedMessage) for k in (b"A", b"C"))
        assert not transport.connected


# --- while no one waits ----------------------------------------------------------------------


def test_a_message_the_host_starts_while_idle_reaches_on_unmatched() -> None:
    heard: list[bytes] = []
    with linked(on_unmatched=heard.append) as (transport, peer):
        peer.write(b"E|echo?")
        eventually(lambda: heard == [b"echo?"])
        calls = Calls(transport)
        calls.start(b"A")
        assert peer.read() == b"A|ask"
        peer.write(b"A|a")
        calls.join()
        assert calls.results == {b"A": b"a"}


def test_the_host_closing_while_idle_is_noticed_at_once() -> None:
    with linked() as (transport, peer):
        started = time.monotonic()
        peer.sock.close()
        eventually(lambda: not transport.connected, within=1.0)
        assert time.monotonic() - started < 0.4  # not a tick later: the idle reader was woken


def test_the_host_closing_while_a_request_waits_is_unknown() -> None:
    with linked() as (transport, peer):
        calls = Calls(transport)
        for key in (b"A", b"B"):
            calls.start(key)
            assert peer.read() == key + b"|ask"
        peer.sock.shutdown(socket.SHUT_RDWR)
        calls.join()
        assert all(isinstance(calls.results[k], OutcomeUnknown) for k in (b"A", b"B"))
        assert not transport.connected


def test_no_reader_thread_is_left_after_close() -> None:
    before = len(reader_threads())
    with linked() as (transport, peer):
        calls = Calls(transport)
        calls.start(b"A")
        assert peer.read() == b"A|ask"
        peer.write(b"A|a")
        calls.join()
        assert len(reader_threads()) == before + 1
    eventually(lambda: len(reader_threads()) == before)


# --- many at once ----------------------------------------------------------------------------

THREADS = 16


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    order=st.permutations(range(THREADS)),
    cuts=st.lists(st.integers(min_value=1, max_value=40), max_size=12),
    late=st.sets(st.integers(min_value=0, max_value=THREADS - 1), max_size=3),
)
def test_sixteen_requests_answered_in_any_order_and_any_pieces(
    order: list[int], cuts: list[int], late: set[int]
) -> None:
    """16 threads on one link: the host answers in a chosen order, its bytes cut at chosen
    places; the requests in ``late`` give up before their answers come."""
    unmatched: list[bytes] = []
    with linked(on_unmatched=unmatched.append) as (transport, peer):
        calls = Calls(transport)
        for n in range(THREADS):
            calls.start(f"K{n}".encode(), timeout=0.15 if n in late else 5.0)
        asked = {peer.read() for _ in range(THREADS)}
        assert asked == {f"K{n}|ask".encode() for n in range(THREADS)}
        if late:
            eventually(lambda: all(f"K{n}".encode() in calls.results for n in late))
        raw = b"".join(FRAMING.frame(f"K{n}|{n}".encode()) for n in order)
        at = 0
        for cut in cuts:
            peer.sock.sendall(raw[at : at + cut])
            at += cut
        peer.sock.sendall(raw[at:])
        calls.join(6.0)
        for n in range(THREADS):
            result = calls.results[f"K{n}".encode()]
            if n in late:
                assert isinstance(result, OutcomeUnknown)
            else:
                assert result == str(n).encode()
        eventually(lambda: sorted(unmatched) == sorted(str(n).encode() for n in late))
        assert transport.in_flight == 0
        assert transport.connected


def test_many_threads_many_exchanges_on_one_link() -> None:
    """Sustained: 16 threads, 25 exchanges each, the host answering as it reads (its own
    thread), so the role keeps moving between requests and the idle reader."""
    with linked() as (transport, peer):
        stop = threading.Event()

        def host() -> None:
            while not stop.is_set():
                try:
                    payload = read_frame(peer.sock, FRAMING)
                except OSError:
                    return
                if payload is None:
                    return
                key, _, _ = payload.partition(b"|")
                peer.write(key + b"|" + key)

        answering = threading.Thread(target=host, daemon=True)
        answering.start()
        failures: list[BaseException] = []

        def terminal(n: int) -> None:
            try:
                for round_ in range(25):
                    key = f"T{n}-{round_}".encode()
                    assert transport.send(key + b"|pay", key) == key
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=terminal, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20.0)
        stop.set()
        assert not failures
        assert transport.in_flight == 0


@pytest.mark.parametrize("idle_first", [True, False])
def test_a_request_sent_while_the_idle_reader_reads_is_answered(idle_first: bool) -> None:
    """The idle reader may hold the role (reading a message no one asked for) when a request
    is written: the request waits, then reads or is handed its answer."""
    heard: list[bytes] = []
    with linked(on_unmatched=heard.append) as (transport, peer):
        calls = Calls(transport)
        raw = FRAMING.frame(b"E|unasked")
        if idle_first:
            peer.sock.sendall(raw[:3])  # the idle reader begins this frame ...
            time.sleep(0.05)
        calls.start(b"A")
        assert peer.read() == b"A|ask"
        peer.sock.sendall(raw[3:] if idle_first else raw)  # ... and ends it here
        peer.write(b"A|a")
        calls.join()
        assert calls.results == {b"A": b"a"}
        eventually(lambda: heard == [b"unasked"])
