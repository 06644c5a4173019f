"""A framed TCP server on loopback: what the fakes of TCP families (ISO 8583 switches) stand on.

The family's fake gives a *handler*, ``bytes -> bytes | None``: one received frame's payload in,
the answer's payload out (``None``: no answer, e.g. to a message the fake only records). The
server does the rest, the same way for every family:

* framing (:class:`~jamsostek_channels.transport.tcp.Framing`), several messages in flight per
  connection (each handled on its own thread, so a slow one does not hold the others back and
  answers may leave in another order than the requests came);
* the fault knobs of :class:`~jamsostek_channels.testing.wire.Faults`, matched against each
  message (``match`` is a substring of the payload, ``prefix`` is ``/NAME/``):

  ===========  =================================================================================
  ``reset``    the connection is reset before the handler sees the message; a ``reset`` with no
               ``match`` resets the next connection as soon as it opens (before anything is
               written: the client can tell nothing was sent)
  ``hold``     the handler sees the message only after ``seconds``
  ``drop``     the handler processes it (the host commits), then the connection is reset
               without an answer
  ``delay``    the handler processes it, the answer leaves after ``seconds``
  ``garbage``  the handler processes it, :data:`GARBAGE_FRAME` leaves instead of the answer
  ===========  =================================================================================

  ``error`` (an HTTP status) and ``pending`` (a gateway's own status answers) are not the
  server's: they stay planned for a gateway that asks for them.
* a client that sends a bad length header or an oversized frame, or a frame the handler raises
  on, loses that connection (closed cleanly, counted in :attr:`FramedTcpServer.refused`); the
  server serves the others and accepts new ones.

Everything is bounded: a connection idle for ``idle_timeout`` is closed, a frame once begun must
arrive within it, at most ``max_connections`` are open and ``max_in_flight`` messages per
connection are handled at once; holds and delays end early when the server stops, and
:meth:`FramedTcpServer.stop` waits a bounded time for every thread. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress

from jamsostek_channels.errors import MalformedMessage
from jamsostek_channels.testing.wire import FaultKind, Faults, WireRequest
from jamsostek_channels.transport.tcp import Framing, read_frame

__all__ = ["GARBAGE_FRAME", "FramedTcpServer", "Handler"]

#: A received payload in, the answer's payload out (``None``: no answer). Raising closes the
#: connection it came on (a message the fake cannot read).
Handler = Callable[[bytes], bytes | None]

#: What a ``garbage`` fault sends, framed: no ISO 8583 codec reads it (no MTI, not ASCII).
GARBAGE_FRAME = b"\xde\xad\xbe\xef\x00garbage\xff"

#: How long a connection may stay silent before the server closes it (seconds).
DEFAULT_IDLE_TIMEOUT = 60.0
_DEFAULT_FRAMING = Framing()  # frozen: one shared default is safe
_TICK = 0.05  # how often the accept loop looks at the stop flag
_RESET = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # SO_LINGER on, 0 s: close() sends RST
_MESSAGE_FAULTS = (
    FaultKind.RESET,
    FaultKind.HOLD,
    FaultKind.DROP,
    FaultKind.DELAY,
    FaultKind.GARBAGE,
)


class _Connection:
    """One accepted connection: its socket, a lock so answers leave one frame at a time, and a
    bound on the messages handled at once."""

    def __init__(self, sock: socket.socket, max_in_flight: int) -> None:
        self.sock = sock
        self.write_lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(max_in_flight)

    def write(self, frame: bytes) -> None:
        with self.write_lock, suppress(OSError):
            self.sock.sendall(frame)

    def hang_up(self, *, reset: bool = False) -> None:
        """End the connection (with RST if ``reset``); the thread reading it closes the socket."""
        with suppress(OSError):
            if reset:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
            self.sock.shutdown(socket.SHUT_RDWR)


class FramedTcpServer:
    """Serves ``handler`` on 127.0.0.1:``port`` (0: a free one) with faults.

    ``name`` is the fault prefix's mount (``faults.inject(..., prefix="/NAME/")`` hits this
    server only when several share one :class:`Faults`). Start with :meth:`start` or ``with``.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        framing: Framing = _DEFAULT_FRAMING,
        faults: Faults | None = None,
        name: str = "tcp",
        port: int = 0,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_connections: int = 64,
        max_in_flight: int = 16,
    ) -> None:
        if not idle_timeout > 0:
            raise ValueError("idle_timeout must be positive")
        if max_connections < 1 or max_in_flight < 1:
            raise ValueError("max_connections and max_in_flight must be at least 1")
        self.handler = handler
        self.framing = framing
        self.faults = faults or Faults()
        self.name = name
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.max_in_flight = max_in_flight
        #: Connections closed because a client sent what cannot be read (bad or oversized
        #: frame, or a message the handler raised on).
        self.refused = 0
        self._path = f"/{name}/"
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: dict[_Connection, threading.Thread] = {}
        self._workers: set[threading.Thread] = set()
        self._listener = socket.create_server(("127.0.0.1", port))
        self._listener.settimeout(_TICK)
        self._acceptor: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def address(self) -> str:
        """``tcp://127.0.0.1:PORT``, what a :class:`~jamsostek_channels.transport.TcpTransport`
        is given."""
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._connections)

    def push(self, payload: bytes) -> int:
        """Write ``payload`` as one frame to every open connection (a message the server
        starts: a switch's echo); how many connections it went to."""
        frame = self.framing.frame(payload)
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.write(frame)
        return len(connections)

    def start(self) -> FramedTcpServer:
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"tcp-server:{self.port}", daemon=True
        )
        self._acceptor.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, hang up every connection (holds and delays end at once) and wait up
        to ``timeout`` seconds in all for the threads."""
        self._stopping.set()
        with suppress(OSError):  # wakes the acceptor now rather than at its next tick
            self._listener.shutdown(socket.SHUT_RDWR)
        with self._lock:
            threads = [*self._connections.values(), *self._workers]
            connections = list(self._connections)
        for connection in connections:
            connection.hang_up()
        deadline = time.monotonic() + timeout
        for thread in [self._acceptor, *threads]:
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        with suppress(OSError):
            self._listener.close()

    def __enter__(self) -> FramedTcpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- accepting --------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed
            self._opened(sock)

    def _opened(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.idle_timeout)
        connection = _Connection(sock, self.max_in_flight)
        opening = WireRequest("TCP", self._path, {}, b"")
        with self._lock:
            full = len(self._connections) >= self.max_connections
        if full or self.faults.take(opening, (FaultKind.RESET,)) is not None:
            connection.hang_up(reset=True)
            sock.close()
            return
        thread = threading.Thread(
            target=self._serve, args=(connection,), name=f"tcp-server:{self.port}", daemon=True
        )
        with self._lock:
            self._connections[connection] = thread
        thread.start()

    # --- one connection ---------------------------------------------------------------------

    def _serve(self, connection: _Connection) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    payload = read_frame(connection.sock, self.framing)
                except TimeoutError:
                    return  # idle too long
                except MalformedMessage:
                    self._refuse()
                    return
                except OSError:
                    return  # reset, cut short, or hung up by stop()
                if payload is None:
                    return
                if not connection.slots.acquire(timeout=self.idle_timeout):
                    return  # the handler is stuck: give the connection up
                worker = threading.Thread(
                    target=self._answer,
                    args=(connection, payload),
                    name=f"tcp-server:{self.port}",
                    daemon=True,
                )
                with self._lock:
                    self._workers.add(worker)
                worker.start()
        finally:
            with self._lock:
                self._connections.pop(connection, None)
            connection.hang_up()
            connection.sock.close()

    def _answer(self, connection: _Connection, payload: bytes) -> None:
        try:
            self._handle(connection, payload)
        finally:
            connection.slots.release()
            with self._lock:
                self._workers.discard(threading.current_thread())

    def _handle(self, connection: _Connection, payload: bytes) -> None:
        fault = self.faults.take(WireRequest("TCP", self._path, {}, payload), _MESSAGE_FAULTS)
        kind = fault.kind if fault is not None else None
        if kind is FaultKind.RESET:
            connection.hang_up(reset=True)
            return
        if fault is not None and kind is FaultKind.HOLD and self._stopping.wait(fault.seconds):
            return
        try:
            answer = self.handler(payload)
            frame = None if answer is None else self.framing.frame(answer)
        except Exception:  # a message the fake cannot read, or its own bug: this link ends
            self._refuse()
            connection.hang_up()
            return
        if kind is FaultKind.DROP:
            connection.hang_up(reset=True)
            return
        if kind is FaultKind.GARBAGE:
            frame = self.framing.frame(GARBAGE_FRAME)
        if fault is not None and kind is FaultKind.DELAY and self._stopping.wait(fault.seconds):
            return
        if frame is not None:
            connection.write(frame)

    def _refuse(self) -> None:
        with self._lock:
            self.refused += 1
