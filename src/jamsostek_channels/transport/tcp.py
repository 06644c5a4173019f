"""The length-framed TCP transport under the ISO 8583 family (jPOS's channel + QMUX in one).

A *frame* is a length header followed by that many bytes; :class:`Framing` says how the header
is spelt (2 or 4 bytes, big- or little-endian binary, or ASCII decimal digits) and how large a
frame may be. One connection carries several requests at once: each request is sent with a
*matching key* (the codec's: for ISO 8583 the MTI's class, DE11 and DE41), and every frame
that arrives is decoded and handed to the request waiting under its key.

Who reads (leader/follower): a request that has written its frame and finds no one reading the
connection reads it itself, in its own thread, until its answer comes or its timeout passes,
handing the other frames it reads to their requests (and those no one waits for to
``on_unmatched``); requests that find someone reading wait to be handed their answer, or the
reader role when the reader is done. With no request waiting, an idle-time reader thread watches
the connection, so that a late answer, a message the host starts (its echo) and the host closing
are noticed at once all the same. An exchange with no other in flight thus costs no thread
switch: the request's thread writes, waits and reads, as a bare blocking client would.
A frame the codec gives no key (``None``) is a request the other side started (a switch's
echo): it goes to ``on_request``, which may answer it with :meth:`TcpTransport.write` (a
frame that expects no answer).

What :meth:`TcpTransport.send` says about a request, as the HTTP transport does:

=====================================================  =========================================
what happened                                          what :meth:`TcpTransport.send` does
=====================================================  =========================================
an answer with the request's key came                  returns the decoded answer
no connection (:meth:`~TcpTransport.connect` failed,   raises :class:`NotDelivered`: nothing of
never called, or the link was lost before writing),    the request reached the other side
or the frame could not be written whole
the frame was written and no answer came within the    raises :class:`OutcomeUnknown`, **never
read timeout, or the connection dropped after it       retried**: money may have moved
a frame that cannot be read (bad length header, too    raises :class:`MalformedMessage` for every
large, the codec refuses it)                           request in flight; the connection closes
=====================================================  =========================================

A frame written only in part is never processed by the other side (it waits for the rest), so a
write that fails is "not delivered"; the connection is closed then, since the stream is out of
step. Nothing reconnects on its own: the session above (sign-on after connecting, echo, backoff)
decides when to :meth:`~TcpTransport.connect` again.

Every wait is bounded: connecting by ``timeouts.connect``, each answer by ``timeouts.read`` (or
the ``timeout`` given to :meth:`~TcpTransport.send`), a frame once begun by ``timeouts.read``
(a peer that stops mid-frame loses the connection), closing by a short join.

Plain TCP carries no encryption, so, as plain ``http`` for the HTTP transport, it is only
allowed to a loopback address (tests, the sandbox, or a local TLS tunnel such as stunnel or a VPN
endpoint in front of a real switch). TLS itself is not in scope yet.

Each exchange is logged to ``jamsostek_channels.transport`` as one record (``event=
"tcp.exchange"``): sizes, outcome, elapsed time and the caller's reference, never a byte of the
frames (ISO 8583 messages carry NIKs and names).
"""

from __future__ import annotations

import logging
import math
import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Hashable
from contextlib import suppress
from typing import Generic, Literal, Self, TypeVar

import attrs

from jamsostek_channels.errors import MalformedMessage, NotDelivered, OutcomeUnknown
from jamsostek_channels.transport.http import Timeouts, _is_loopback

__all__ = ["Framing", "TcpTransport", "read_frame"]

_LOGGER_NAME = "jamsostek_channels.transport"

#: The largest frame by default: an ISO 8583 message with every LLLVAR field full is under 8 KB.
DEFAULT_MAX_FRAME = 8192

#: How long :meth:`TcpTransport.close` waits for the idle reader thread to end.
_JOIN_SECONDS = 2.0

#: The most one read asks the socket for: every frame waiting, in one system call.
_RECV_BYTES = 65536

#: How often the idle reader looks again at a link no one reads (closing wakes it at once).
_IDLE_TICK = 0.5

#: How soon the idle reader watches the link again after requests stop reading it.
_IDLE_PARK = 0.02

AnswerT = TypeVar("AnswerT")

_DEFAULT_TIMEOUTS = Timeouts()  # frozen: one shared default is safe


def _width(_instance: object, _attribute: attrs.Attribute[int], value: int) -> None:
    if value not in (2, 4):
        raise ValueError(f"the length header is 2 or 4 bytes wide, not {value!r}")


def _default_max(framing: Framing) -> int:
    return min(DEFAULT_MAX_FRAME, framing.capacity)


@attrs.frozen
class Framing:
    """How one frame's length is written before it: a per-partner setting.

    - ``width``: 2 or 4 bytes of header;
    - ``byteorder``: of a binary length (the AltoPay spec shows both: a setting);
    - ``ascii_length``: the length as ``width`` decimal digits instead (jPOS's ASCIIChannel:
      ``"0119"``);
    - ``max_bytes``: a longer frame is refused either way (:class:`MalformedMessage` when
      read, ``ValueError`` when asked to write). A zero-length frame is refused too: no message
      is empty.

    >>> Framing().frame(b"0800")
    b'\\x00\\x040800'
    >>> Framing(width=4, ascii_length=True).frame(b"0800")
    b'00040800'
    """

    width: int = attrs.field(default=2, validator=_width)
    byteorder: Literal["big", "little"] = attrs.field(
        default="big", validator=attrs.validators.in_(("big", "little"))
    )
    ascii_length: bool = False
    max_bytes: int = attrs.field(default=attrs.Factory(_default_max, takes_self=True))

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.max_bytes <= self.capacity:
            raise ValueError(
                f"max_bytes must be 1..{self.capacity} for this length header, not {self.max_bytes}"
            )

    @property
    def capacity(self) -> int:
        """The largest length the header can spell."""
        if self.ascii_length:
            return int(10**self.width - 1)
        return int(2 ** (8 * self.width) - 1)

    def frame(self, payload: bytes) -> bytes:
        """``payload`` with its length header, ready to write in one send."""
        if not 1 <= len(payload) <= self.max_bytes:
            raise ValueError(f"a frame carries 1..{self.max_bytes} bytes, not {len(payload)}")
        if self.ascii_length:
            return str(len(payload)).zfill(self.width).encode("ascii") + payload
        return len(payload).to_bytes(self.width, self.byteorder) + payload

    def length(self, header: bytes) -> int:
        """The length a received header announces; :class:`MalformedMessage` if it is not one
        this framing allows."""
        if self.ascii_length:
            if not (len(header) == self.width and header.isdigit()):
                raise MalformedMessage("message.malformed", {"reason": "bad frame length header"})
            size = int(header)
        else:
            size = int.from_bytes(header, self.byteorder)
        if size == 0:
            raise MalformedMessage("message.malformed", {"reason": "empty frame"})
        if size > self.max_bytes:
            raise MalformedMessage("message.too_large", {"max": self.max_bytes})
        return size


def _read_exactly(sock: socket.socket, size: int, got: bytes = b"") -> bytes:
    """``size`` bytes, the first of them ``got``; a frame once begun must be completed within
    the socket's timeout per read, else the connection is out of step."""
    parts = [got]
    missing = size - len(got)
    while missing > 0:
        try:
            chunk = sock.recv(missing)
        except TimeoutError:
            raise ConnectionAbortedError("the peer stopped in the middle of a frame") from None
        if not chunk:
            raise ConnectionAbortedError("the peer closed in the middle of a frame")
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)


def read_frame(sock: socket.socket, framing: Framing) -> bytes | None:
    """The next frame's payload from ``sock``, or ``None`` if the peer closed between frames.

    Raises ``TimeoutError`` only when no byte of a frame came within the socket's timeout (an
    idle link: the caller may wait again); ``ConnectionError`` (or another ``OSError``) when the
    link broke, mid-frame silence included; :class:`MalformedMessage` for a length header this
    framing refuses (the caller must then close the connection: the stream is out of step).
    """
    first = sock.recv(framing.width)  # TimeoutError here: idle, nothing of a frame yet
    if not first:
        return None
    header = _read_exactly(sock, framing.width, first)
    return _read_exactly(sock, framing.length(header))


def _check_address(address: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None:
        raise ValueError("address must be tcp://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("address must be tcp://host:port only")
    if not _is_loopback(parts.hostname):
        raise ValueError("plain TCP is only allowed to a loopback host (TLS is not supported yet)")
    return parts.hostname, port


def _poller(sock: socket.socket, events: int) -> select.poll:
    """A poll object watching ``sock`` for ``events``, for one thread (or one role) at a time:
    a poll object refuses to be polled by two threads at once (and ``select`` would refuse
    descriptors over 1023). ``ConnectionAbortedError`` if ``sock`` has been closed."""
    descriptor = sock.fileno()
    if descriptor < 0:
        raise ConnectionAbortedError("the connection is closed")
    poller = select.poll()
    poller.register(descriptor, events)
    return poller


def _wait_for(poller: select.poll, sock: socket.socket, seconds: float) -> bool:
    """Whether ``sock``, watched by ``poller`` (see :func:`_poller`), became ready within
    ``seconds``; ``ConnectionAbortedError`` if it has been closed."""
    if sock.fileno() < 0:
        raise ConnectionAbortedError("the connection is closed")
    return bool(poller.poll(max(0, math.ceil(seconds * 1000))))


def _write_all(sock: socket.socket, data: bytes, seconds: float) -> None:
    """``data`` written whole on the non-blocking ``sock`` within ``seconds``, else
    ``TimeoutError`` (or the ``OSError`` of a broken link)."""
    view = memoryview(data)
    deadline: float | None = None
    writable: select.poll | None = None  # made only if the socket's buffer is ever full
    while view:
        try:
            view = view[sock.send(view) :]
            continue
        except BlockingIOError:
            pass
        now = time.monotonic()
        deadline = now + seconds if deadline is None else deadline
        if writable is None:
            writable = _poller(sock, select.POLLOUT)
        if now >= deadline or not _wait_for(writable, sock, deadline - now):
            raise TimeoutError("the frame could not be written in time")


class _Frames:
    """The frames arriving on one non-blocking socket, read only by whoever holds the link's
    reader role. One ``recv`` takes every byte waiting (usually a whole frame, header and body);
    what is left stays buffered for the next reader. A frame once begun must be complete within
    ``stall`` seconds, whoever reads it. One poll object serves every reader in turn (the role
    is held by one thread at a time)."""

    def __init__(self, sock: socket.socket, framing: Framing, stall: float) -> None:
        self.sock = sock
        self.readable = _poller(sock, select.POLLIN)
        self.framing = framing
        self.stall = stall
        self.buffer = bytearray()
        self.begun = 0.0  # when the first buffered byte arrived

    def _take(self) -> bytes | None:
        width = self.framing.width
        if len(self.buffer) < width:
            return None
        end = width + self.framing.length(bytes(self.buffer[:width]))
        if len(self.buffer) < end:
            return None
        frame = bytes(self.buffer[width:end])
        del self.buffer[:end]
        if self.buffer:
            self.begun = time.monotonic()
        return frame

    def patience(self) -> float:
        """The deadline of a reader that only takes what is there: now, or the end of the
        stall allowance of a frame begun."""
        return self.begun + self.stall if self.buffer else time.monotonic()

    def next(self, deadline: float) -> bytes | None:
        """The next frame's payload, or ``None`` if the peer closed between frames.

        Raises ``TimeoutError`` if no frame was complete by ``deadline`` (the bytes of one begun
        stay for the next reader); ``ConnectionError`` (or another ``OSError``) when the link
        broke, a frame stalled for ``stall`` seconds included; :class:`MalformedMessage` for a
        length header the framing refuses."""
        while True:
            frame = self._take()
            if frame is not None:
                return frame
            now = time.monotonic()
            until = deadline
            if self.buffer:
                if now >= self.begun + self.stall:
                    raise ConnectionAbortedError("the peer stopped in the middle of a frame")
                until = min(deadline, self.begun + self.stall)
            if not _wait_for(self.readable, self.sock, until - now):
                if until == deadline and time.monotonic() >= deadline:
                    raise TimeoutError("no frame yet")
                continue
            try:
                chunk = self.sock.recv(_RECV_BYTES)
            except BlockingIOError:
                continue  # readiness taken back: look again
            if not chunk:
                if self.buffer:
                    raise ConnectionAbortedError("the peer closed in the middle of a frame")
                return None
            if not self.buffer:
                self.begun = time.monotonic()
            self.buffer += chunk


class _Waiter(Generic[AnswerT]):
    """One request in flight. Settled once, under the link's lock, by whoever reads its answer
    or by the link failing; ``wake`` tells its thread to look again (settled, or handed the
    reader role). ``wake`` is made, under the link's lock, only when the thread has to sleep
    (someone else reads): a request that reads its own answer never needs one."""

    __slots__ = ("answer", "done", "failure", "reference", "wake")

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.wake: threading.Event | None = None
        self.done = False
        self.answer: AnswerT | None = None
        #: what happened instead of an answer: the link dropped, or a frame was unreadable
        self.failure: MalformedMessage | Literal["unknown"] | None = None

    def settle(
        self, answer: AnswerT | None, failure: MalformedMessage | Literal["unknown"] | None
    ) -> None:
        self.answer = answer
        self.failure = failure
        self.done = True
        self.rouse()

    def rouse(self) -> None:
        """Tell a sleeping thread to look again (under the link's lock, as ``wake`` is made)."""
        if self.wake is not None:
            self.wake.set()


#: The idle reader in :attr:`_Link.reader`.
_IDLE = "idle reader"


class _Link(Generic[AnswerT]):
    """One TCP connection, the requests waiting on it and who reads it.

    The *reader role* (:attr:`reader`) belongs to one thread at a time: a request that has
    written its frame and finds no one reading takes it and reads until its own answer comes
    (handing other frames to their waiters), then passes it to another waiting request, or back
    to the idle reader when none waits."""

    def __init__(self, sock: socket.socket, framing: Framing, stall: float) -> None:
        self.sock = sock
        self.frames = _Frames(sock, framing, stall)
        self.lock = threading.Lock()  # waiters, alive, reader, and every waiter's settling
        self.idle = threading.Condition(self.lock)  # the idle reader waits for the role here
        self.write_lock = threading.Lock()  # one frame at a time on the wire
        self.waiters: dict[Hashable, _Waiter[AnswerT]] = {}
        self.alive = True
        #: who holds the reader role: a waiting request, :data:`_IDLE`, or no one
        self.reader: object | None = None
        self.idle_reader: threading.Thread | None = None

    def deliver(self, key: Hashable, answer: AnswerT) -> bool:
        """Settle the request waiting under ``key``; False if none does."""
        with self.lock:
            waiter = self.waiters.pop(key, None)
            if waiter is None:
                return False
            waiter.settle(answer, None)
            return True

    def hand_on(self, holder: object) -> None:
        """``holder`` stops reading: the role goes to the oldest waiting request, else back to
        the idle reader."""
        with self.lock:
            if self.reader is not holder:
                return
            self.reader = None
            for waiter in self.waiters.values():
                self.reader = waiter
                waiter.rouse()
                return
            # Not woken: the idle reader looks again within _IDLE_PARK (waking it after every
            # exchange would cost each one a thread switch).

    def fail(self, failure: MalformedMessage | Literal["unknown"]) -> None:
        """Close the connection; every request still waiting gets ``failure``."""
        with self.lock:
            self.alive = False
            for waiter in self.waiters.values():
                waiter.settle(None, failure)
            self.waiters.clear()
            self.idle.notify_all()
        with suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with suppress(OSError):
            self.sock.close()


class TcpTransport(Generic[AnswerT]):
    """Length-framed requests to one host over one persistent TCP connection.

    - ``address``: ``tcp://host:port``, a loopback host only (see the module's docstring).
    - ``decode``: the codec's reader, run on every frame that arrives: it returns the frame's
      matching key and the decoded answer, or raises (any exception: the frame cannot be read,
      :class:`MalformedMessage` for every request in flight, and the connection closes).
    - ``framing``: see :class:`Framing`; ``timeouts``: see :class:`~.http.Timeouts`.
    - ``on_unmatched``: called with an answer no request waits for: a late answer after its
      request timed out, or a message the host started (an echo). It runs on whichever thread
      reads (a waiting request's, or the idle reader), so it must not wait for an answer on
      this transport. By default it is logged and dropped. Its exceptions are logged, never
      raised.
    - ``on_request``: called with a request the other side started (a switch's own echo): a
      frame ``decode`` gives the key ``None``, which no request of ours can wait under. It runs
      on whichever thread reads, as ``on_unmatched`` does, and may answer with :meth:`write`.
      Without it such a frame goes to ``on_unmatched``. Its exceptions are logged, never
      raised: the reader reads on.
    - ``logger``, ``name`` (the channel named in log records).

    One instance may be shared by threads: that is the point of matching by key.
    """

    def __init__(
        self,
        address: str,
        decode: Callable[[bytes], tuple[Hashable, AnswerT]],
        *,
        framing: Framing = Framing(),  # frozen: one shared default is safe
        timeouts: Timeouts = _DEFAULT_TIMEOUTS,
        on_unmatched: Callable[[AnswerT], None] | None = None,
        on_request: Callable[[AnswerT], None] | None = None,
        logger: logging.Logger | None = None,
        name: str = "tcp",
    ) -> None:
        self._host, self._port = _check_address(address)
        self.address = f"tcp://{self._host}:{self._port}"
        self.framing = framing
        self.timeouts = timeouts
        self.name = name
        self._decode = decode
        self._on_unmatched = on_unmatched
        self._on_request = on_request
        self._logger = logger or logging.getLogger(_LOGGER_NAME)
        self._connect_lock = threading.Lock()
        self._link: _Link[AnswerT] | None = None

    # --- the connection ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a live connection is open (one the reader has not seen break)."""
        link = self._link
        return link is not None and link.alive

    @property
    def in_flight(self) -> int:
        """Requests waiting for their answer (one being written included)."""
        link = self._link
        if link is None:
            return 0
        with link.lock:
            return len(link.waiters)

    def connect(self) -> None:
        """Open the connection unless one is open; :class:`NotDelivered` if it cannot be made
        within ``timeouts.connect`` (refused, unreachable, timed out)."""
        with self._connect_lock:
            if self.connected:
                return
            try:
                sock = socket.create_connection(
                    (self._host, self._port), timeout=self.timeouts.connect
                )
            except TimeoutError:
                self._log_connect("connect-timeout")
                raise NotDelivered(
                    "transport.not_delivered", {"reason": "connect timeout"}
                ) from None
            except OSError as exc:
                self._log_connect("connect-failed", type(exc).__name__)
                raise NotDelivered(
                    "transport.not_delivered", {"reason": "connect failed"}
                ) from None
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Non-blocking: every wait is a poll with its own deadline (a socket timeout is one
            # per socket, and the threads sharing it wait for different deadlines).
            sock.setblocking(False)
            link: _Link[AnswerT] = _Link(sock, self.framing, stall=self.timeouts.read)
            link.idle_reader = threading.Thread(
                target=self._idle_read, args=(link,), name=f"tcp-reader:{self.name}", daemon=True
            )
            self._link = link
            link.idle_reader.start()

    def close(self) -> None:
        """Close the connection. Requests still waiting end with :class:`OutcomeUnknown` (they
        were written: the host may have applied them)."""
        with self._connect_lock:
            link, self._link = self._link, None
        if link is None:
            return
        link.fail("unknown")
        idle_reader = link.idle_reader
        if idle_reader is not None and idle_reader is not threading.current_thread():
            idle_reader.join(_JOIN_SECONDS)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TcpTransport({self.address!r}, name={self.name!r})"

    # --- an exchange ------------------------------------------------------------------------

    def send(
        self,
        payload: bytes,
        key: Hashable,
        *,
        reference: str | None = None,
        timeout: float | None = None,
    ) -> AnswerT:
        """Write ``payload`` as one frame and return the decoded answer whose key is ``key``.

        ``reference`` names the business request in logs and in :class:`OutcomeUnknown` (not
        personal data). ``timeout`` replaces ``timeouts.read`` as the wait for this answer (a
        payment may wait longer than an inquiry).

        Raises :class:`NotDelivered` (nothing reached the host: send it again once connected),
        :class:`OutcomeUnknown` (it may have been applied: resolve by advice, reversal or status,
        never by sending the same payment as new), :class:`MalformedMessage` (an answer came
        that cannot be read), or ``ValueError`` before anything is sent (a payload over the
        framing's limit, or ``key`` already waiting on this connection: a STAN used twice).
        """
        framed = self.framing.frame(payload)
        wait = self.timeouts.read if timeout is None else timeout
        if not (math.isfinite(wait) and wait > 0):
            raise ValueError("timeout must be > 0 seconds")
        reference = reference or "-"
        log = _Exchange(self._logger, self.name, reference, len(payload))
        link = self._link
        waiter: _Waiter[AnswerT] = _Waiter(reference)
        if link is None:
            log.finish("not-connected")
            raise NotDelivered("transport.not_delivered", {"reason": "not connected"})
        with link.lock:
            if not link.alive:
                log.finish("not-connected")
                raise NotDelivered("transport.not_delivered", {"reason": "connection lost"})
            if key in link.waiters:
                raise ValueError("a request with this matching key is already in flight")
            link.waiters[key] = waiter
        try:
            with link.write_lock:
                _write_all(link.sock, framed, self.timeouts.read)
        except OSError as exc:
            with link.lock:
                link.waiters.pop(key, None)
            link.fail("unknown")  # the stream is out of step: the others' answers are lost
            log.error = type(exc).__name__
            log.finish("write-failed")
            raise NotDelivered("transport.not_delivered", {"reason": "connection lost"}) from None

        if not self._await(link, key, waiter, time.monotonic() + wait):
            log.finish("timeout")
            raise OutcomeUnknown("outcome.unknown", {"reference": reference})
        if waiter.failure == "unknown":
            log.finish("dropped")
            raise OutcomeUnknown("outcome.unknown", {"reference": reference})
        if isinstance(waiter.failure, MalformedMessage):
            log.finish("malformed")
            raise _twin(waiter.failure)
        log.finish("answered")
        return waiter.answer  # type: ignore[return-value]  # settled with no failure

    def write(self, payload: bytes, *, reference: str | None = None) -> None:
        """Write ``payload`` as one frame that expects no answer (an answer to the other side's
        own request). :class:`NotDelivered` when there is no connection or the frame could not
        be written whole (the connection is closed then: the stream is out of step);
        ``ValueError`` for a payload over the framing's limit, before anything is written."""
        framed = self.framing.frame(payload)
        log = _Exchange(self._logger, self.name, reference or "-", len(payload))
        link = self._link
        if link is None or not link.alive:
            log.finish("not-connected")
            raise NotDelivered("transport.not_delivered", {"reason": "not connected"})
        try:
            with link.write_lock:
                _write_all(link.sock, framed, self.timeouts.read)
        except OSError as exc:
            link.fail("unknown")
            log.error = type(exc).__name__
            log.finish("write-failed")
            raise NotDelivered("transport.not_delivered", {"reason": "connection lost"}) from None
        log.finish("written")

    # --- reading ----------------------------------------------------------------------------

    def _await(
        self, link: _Link[AnswerT], key: Hashable, waiter: _Waiter[AnswerT], deadline: float
    ) -> bool:
        """Whether ``waiter`` was settled by ``deadline``: reading the link itself while it
        holds the reader role, else waiting to be settled or handed the role. Past the
        deadline it is no longer waited for (a late answer goes to ``on_unmatched``)."""
        while True:
            with link.lock:
                if waiter.done:
                    return True
                if link.reader is None:
                    link.reader = waiter  # no one reads: this thread does
                wake = None
                if link.reader is not waiter:  # someone else reads: sleep until roused
                    if waiter.wake is None:
                        waiter.wake = threading.Event()
                    wake = waiter.wake
                    wake.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if wake is None:
                self._lead(link, waiter, deadline)
            else:
                wake.wait(remaining)
        with link.lock:
            if link.waiters.get(key) is not waiter:
                return True  # settled just now (a waiter leaves the table only when settled)
            del link.waiters[key]
        link.hand_on(waiter)
        return False

    def _lead(self, link: _Link[AnswerT], waiter: _Waiter[AnswerT], deadline: float) -> None:
        """Read frames while ``waiter`` holds the reader role, until it is settled or
        ``deadline`` passes; then the role goes on."""
        try:
            while not waiter.done and self._read_one(link, deadline):
                pass
        finally:
            link.hand_on(waiter)

    def _idle_read(self, link: _Link[AnswerT]) -> None:
        """The idle-time reader: while no request holds the reader role it watches the link,
        so that a late answer, a message the host starts and the host closing are noticed when
        no one waits. It takes the role only while there is something to read."""
        try:
            watch = _poller(link.sock, select.POLLIN)  # its own: it watches without the role
        except OSError:
            return  # closed before this thread began: every waiter is settled already
        while True:
            with link.lock:
                while link.alive and (link.reader is not None or link.waiters):
                    link.idle.wait(_IDLE_PARK)  # notified only when the link fails
                if not link.alive:
                    return
            try:
                ready = bool(link.frames.buffer) or _wait_for(watch, link.sock, _IDLE_TICK)
            except OSError:
                link.fail("unknown")
                return
            if not ready:
                continue
            with link.lock:
                if not link.alive or link.reader is not None or link.waiters:
                    continue
                link.reader = _IDLE
            try:
                # Every frame there is, without waiting for more (only for the rest of one
                # begun); a request that comes meanwhile is handed the role after this frame.
                while self._read_one(link, link.frames.patience()) and not link.waiters:
                    pass
            finally:
                link.hand_on(_IDLE)

    def _read_one(self, link: _Link[AnswerT], deadline: float) -> bool:
        """One frame read from ``link`` and handed to its waiter (or to ``on_unmatched``);
        False if none came by ``deadline`` or the link broke (it is failed then: closed, every
        waiter settled)."""
        try:
            frame = link.frames.next(deadline)
        except TimeoutError:
            return False
        except MalformedMessage as exc:
            self._broken(link, exc)
            return False
        except OSError:
            self._broken(link, "unknown")  # reset, or closed under us: whoever waits cannot know
            return False
        if frame is None:
            self._broken(link, "unknown")  # the host closed
            return False
        try:
            key, answer = self._decode(frame)
        except Exception as exc:  # the codec's refusal, or its bug: never the reader's death
            self._broken(link, _unreadable(exc))
            return False
        if key is None:  # the other side's own request: nothing of ours waits for it
            self._request(answer)
        elif not link.deliver(key, answer):
            self._unmatched(answer)
        return True

    def _broken(self, link: _Link[AnswerT], failure: MalformedMessage | Literal["unknown"]) -> None:
        if link.alive and isinstance(failure, MalformedMessage):
            self._logger.warning(
                "tcp.unreadable channel=%s", self.name, extra={"event": "tcp.unreadable"}
            )
        link.fail(failure)

    def _unmatched(self, answer: AnswerT) -> None:
        if self._on_unmatched is None:
            self._logger.warning(
                "tcp.unmatched channel=%s: an answer no request waits for (late?) dropped",
                self.name,
                extra={"event": "tcp.unmatched", "channel": self.name},
            )
            return
        try:
            self._on_unmatched(answer)
        except Exception as exc:
            self._logger.error(
                "tcp.unmatched channel=%s: on_unmatched raised %s",
                self.name,
                type(exc).__name__,
                extra={"event": "tcp.unmatched", "channel": self.name},
            )

    def _request(self, request: AnswerT) -> None:
        if self._on_request is None:
            self._unmatched(request)
            return
        try:
            self._on_request(request)
        except Exception as exc:
            self._logger.error(
                "tcp.request channel=%s: on_request raised %s",
                self.name,
                type(exc).__name__,
                extra={"event": "tcp.request", "channel": self.name},
            )

    def _log_connect(self, outcome: str, error: str | None = None) -> None:
        self._logger.warning(
            "tcp.connect channel=%s outcome=%s%s",
            self.name,
            outcome,
            f" error={error}" if error else "",
            extra={"event": "tcp.connect", "channel": self.name, "outcome": outcome},
        )


def _twin(error: MalformedMessage) -> MalformedMessage:
    """A copy of ``error`` for one waiting thread: several requests fail with the same frame,
    and one exception instance raised in several threads would share its traceback."""
    twin = type(error).__new__(type(error))
    twin.__dict__.update(error.__dict__)
    twin.args = error.args
    return twin


def _unreadable(exc: Exception) -> MalformedMessage:
    """The codec's own MalformedMessage as it is; anything else named by type only (a parser's
    message may quote the bytes, and they may be personal data)."""
    if isinstance(exc, MalformedMessage):
        return exc
    return MalformedMessage(
        "message.malformed", {"reason": f"unreadable frame ({type(exc).__name__})"}
    )


class _Exchange:
    """The log record of one exchange, written once by :meth:`finish`: INFO when answered,
    WARNING otherwise. Sizes and outcome only: never a byte of the frames."""

    def __init__(self, logger: logging.Logger, channel: str, reference: str, size: int) -> None:
        self.logger = logger
        self.channel = channel
        self.reference = reference
        self.size = size
        self.started = time.perf_counter()
        self.error: str | None = None

    def finish(self, outcome: str) -> None:
        level = logging.INFO if outcome in ("answered", "written") else logging.WARNING
        if not self.logger.isEnabledFor(level):
            return
        elapsed_ms = round((time.perf_counter() - self.started) * 1000, 1)
        message = (
            f"tcp.exchange channel={self.channel} outcome={outcome} elapsed_ms={elapsed_ms} "
            f"request_bytes={self.size} reference={self.reference}"
        )
        if self.error:
            message += f" error={self.error}"
        self.logger.log(
            level,
            "%s",
            message,
            extra={
                "event": "tcp.exchange",
                "channel": self.channel,
                "outcome": outcome,
                "error": self.error,
                "elapsed_ms": elapsed_ms,
                "request_bytes": self.size,
                "reference": self.reference,
            },
        )
