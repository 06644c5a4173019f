"""The plumbing every fake gateway shares: requests and responses as plain values, a router,
fault knobs, and two ways to put a gateway on the wire.

A gateway (moto's "responses" layer) is a function ``WireRequest -> WireResponse``. It can be
installed in-process through the ``responses`` library (:func:`install`), so ``requests``-based
adapters talk to it without a socket, or served for real on loopback (:class:`LoopbackServer`),
which is what the sandbox does. Both apply the same :class:`Faults`:

* ``drop``: the gateway processes the request (the host commits), then the connection is closed
  without an answer: the client cannot know what happened;
* ``delay``: the gateway processes it and answers only after ``seconds`` (past the client's read
  timeout);
* ``error``: an HTTP 5xx answer instead of processing;
* ``reset``: the connection is reset before the gateway sees the request;
* ``pending``: status queries for matching requests answer "pending" ``polls`` times (gateways
  ask :meth:`Faults.pending` and translate it into their own wire form).

Two more apply on the framed TCP server (:mod:`jamsostek_channels.testing.tcp`) only, where a
fault acts on one message of a connection rather than on an HTTP exchange:

* ``hold``: the message reaches the gateway only after ``seconds`` (the client's read timeout
  fires before the host has seen it);
* ``garbage``: the gateway processes the message, then a frame of bytes no codec can read goes
  back instead of the answer.
"""

from __future__ import annotations

import enum
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import attrs

__all__ = [
    "Fault",
    "FaultKind",
    "Faults",
    "Gateway",
    "LoopbackServer",
    "Router",
    "WireRequest",
    "WireResponse",
    "install",
]

#: Bodies above this are refused by the servers before the gateway sees them.
MAX_REQUEST_BYTES = 1_000_000

#: How long (seconds) a loopback connection may wait for the client's next bytes: an idle
#: keep-alive connection, or a body shorter than its ``Content-Length``, frees its thread then.
DEFAULT_SOCKET_TIMEOUT = 60.0


@attrs.frozen
class WireRequest:
    method: str
    path: str  #: path and query after the host, exactly as sent (what SNAP signs)
    headers: Mapping[str, str]  #: lower-case names
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@attrs.frozen
class WireResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = attrs.Factory(dict)

    @classmethod
    def json(cls, status: int, body: bytes) -> WireResponse:
        return cls(status, body, {"content-type": "application/json"})


Gateway = Callable[[WireRequest], WireResponse]


class Router:
    """Routes by method and path (regular expression on the path without its query)."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Gateway]] = []

    def add(self, method: str, pattern: str, handler: Gateway) -> None:
        self._routes.append((method.upper(), re.compile(pattern), handler))

    def __call__(self, request: WireRequest) -> WireResponse:
        path = urlsplit(request.path).path
        for method, pattern, handler in self._routes:
            if method == request.method.upper() and pattern.fullmatch(path):
                return handler(request)
        return WireResponse.json(404, b'{"error":"no such route"}')


class FaultKind(enum.StrEnum):
    DROP = "drop"
    DELAY = "delay"
    ERROR = "error"
    RESET = "reset"
    PENDING = "pending"
    HOLD = "hold"  #: framed TCP only: delay before the gateway sees the message
    GARBAGE = "garbage"  #: framed TCP only: an unreadable frame instead of the answer


@attrs.frozen
class Fault:
    kind: FaultKind
    match: str = ""  #: substring of the path (and body) the fault applies to; "" = any
    prefix: str = ""  #: the path must start with this (a channel's mount point); "" = any
    times: int = 1  #: how many matching requests it affects (status polls for PENDING)
    seconds: float = 0.0  #: for DELAY
    status: int = 500  #: for ERROR


class Faults:
    """Planned faults, consumed as matching requests arrive. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: list[list[Any]] = []  # [fault, remaining]
        self.history: list[tuple[FaultKind, str]] = []

    def inject(
        self,
        kind: FaultKind | str,
        *,
        match: str = "",
        times: int = 1,
        seconds: float = 0.0,
        status: int = 500,
        prefix: str = "",
    ) -> Fault:
        # A fault that could never fire (times 0), sleep backwards or answer HTTP 99 is a
        # mistake in the test: say so now, not by a silently missing fault.
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be an integer >= 1, got {times!r}")
        if isinstance(seconds, bool) or not (0 <= seconds < math.inf):
            raise ValueError(f"seconds must be finite and >= 0, got {seconds!r}")
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status 100..599, got {status!r}")
        fault = Fault(FaultKind(kind), match, prefix, times, seconds, status)
        with self._lock:
            self._planned.append([fault, times])
        return fault

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()

    def take(self, request: WireRequest, kinds: tuple[FaultKind, ...]) -> Fault | None:
        """The next planned fault of one of ``kinds`` matching this request (consumed)."""
        text = request.path + request.body.decode("utf-8", "replace")
        with self._lock:
            for slot in self._planned:
                fault, remaining = slot
                if (
                    fault.kind in kinds
                    and remaining > 0
                    and fault.match in text
                    and request.path.startswith(fault.prefix)
                ):
                    slot[1] -= 1
                    self.history.append((fault.kind, request.path))
                    if slot[1] == 0:
                        self._planned.remove(slot)
                    return fault  # type: ignore[no-any-return]
        return None

    def pending(self, request: WireRequest) -> bool:
        """For gateways: should this status query answer "pending" this time? (A PENDING fault
        whose ``match`` is in the query - e.g. the payment's reference - is consumed.)"""
        return self.take(request, (FaultKind.PENDING,)) is not None

    def describe(self) -> list[dict[str, object]]:
        with self._lock:
            return [
                {**attrs.asdict(fault), "kind": fault.kind.value, "remaining": remaining}
                for fault, remaining in self._planned
            ]


_WIRE_FAULTS = (FaultKind.DROP, FaultKind.DELAY, FaultKind.ERROR, FaultKind.RESET)


def _error_response(fault: Fault) -> WireResponse:
    return WireResponse.json(fault.status, b'{"responseCode":"5000000","responseMessage":"fault"}')


# In-process, through `responses` -----------------------------------------------------------------


def install(
    mock: Any,
    base_url: str,
    gateway: Gateway,
    faults: Faults | None = None,
) -> None:
    """Serve ``gateway`` for every request under ``base_url`` inside a ``responses.RequestsMock``.

    Faults become the exceptions ``requests`` raises for them on a real network: a reset is a
    connection error before anything is processed; a drop is a connection aborted after the
    gateway processed the request; a delay is a read timeout after processing.
    """
    import requests
    from urllib3.exceptions import ProtocolError

    faults = faults or Faults()
    origin = urlsplit(base_url)
    prefix = f"{origin.scheme}://{origin.netloc}"

    def callback(prepared: Any) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(prepared.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        request = WireRequest(
            method=prepared.method,
            path=path,
            headers={k.lower(): v for k, v in prepared.headers.items()},
            body=body,
        )
        fault = faults.take(request, _WIRE_FAULTS)
        if fault is not None and fault.kind is FaultKind.RESET:
            raise requests.ConnectionError(
                ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
            )
        if fault is not None and fault.kind is FaultKind.ERROR:
            response = _error_response(fault)
        else:
            response = gateway(request)
        if fault is not None and fault.kind is FaultKind.DROP:
            raise requests.ConnectionError(
                ProtocolError("Connection aborted.", ConnectionError("closed without response"))
            )
        if fault is not None and fault.kind is FaultKind.DELAY:
            raise requests.ReadTimeout("read timed out (injected delay)")
        return response.status, dict(response.headers), response.body

    pattern = re.compile(re.escape(prefix) + r"(/.*)?")
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        mock.add_callback(method, pattern, callback=callback, content_type=None)


# On loopback, for real ----------------------------------------------------------------------------


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 serving one gateway with faults.

    ``port=0`` picks a free port; :attr:`base_url` tells which. Stops with :meth:`stop` or at
    the end of a ``with`` block.

    Every read and write on a connection times out after ``socket_timeout`` seconds, so a
    client that sends fewer body bytes than its ``Content-Length`` (answered 400) or keeps an
    idle keep-alive connection cannot hold a thread forever. :meth:`stop` also closes the
    connections still open and waits (bounded) for their threads.
    """

    def __init__(
        self,
        gateway: Gateway,
        *,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    ) -> None:
        if not socket_timeout > 0:
            raise ValueError("socket_timeout must be positive")
        self.gateway = gateway
        self.faults = faults or Faults()
        self.socket_timeout = socket_timeout
        self._lock = threading.Lock()
        self._stopping = False
        # open connection -> the thread serving it (what stop() closes and waits for)
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        self._serving = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._serving = True
        self._server.serve_forever(poll_interval=0.2)

    @property
    def open_connections(self) -> int:
        """Connections being served now (kept-alive ones included)."""
        with self._lock:
            return len(self._connections)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close open connections (idle keep-alive ones too) and wait up to
        ``timeout`` seconds for the threads serving them."""
        with self._lock:
            self._stopping = True
            serving = dict(self._connections)
        if self._serving:  # shutdown() waits for serve_forever, so only if it runs
            self._serving = False
            self._server.shutdown()
        self._server.server_close()
        for connection in serving:
            _hang_up(connection)
        deadline = time.monotonic() + timeout
        for thread in [*serving.values(), self._thread]:
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections[connection] = threading.current_thread()
            stopping = self._stopping
        if stopping:  # accepted while stop() ran: close it at once
            _hang_up(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.pop(connection, None)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: without TCP_NODELAY, Nagle's algorithm
            # holds the body until the client's delayed ACK (~40 ms per request on Linux).
            disable_nagle_algorithm = True
            # setup() puts it on the socket: every read and write is bounded.
            timeout = server.socket_timeout

            def setup(self) -> None:
                super().setup()
                # named after the port, so a test can tell this server's threads apart
                threading.current_thread().name = f"loopback:{server.port}"
                server._opened(self.connection)

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    server._closed(self.connection)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the sandbox prints its own summary, never request lines (PII)."""

            def _handle(self) -> None:
                length_text = self.headers.get("Content-Length", "0")
                try:
                    length = int(length_text)
                except ValueError:
                    length = -1
                if not 0 <= length <= MAX_REQUEST_BYTES:
                    self._write(WireResponse.json(413, b'{"error":"request too large"}'))
                    self.close_connection = True
                    return
                try:
                    body = self.rfile.read(length) if length else b""
                except OSError:  # TimeoutError included
                    body = None
                if body is None or len(body) < length:
                    # Fewer bytes than announced (timed out, or the client stopped sending):
                    # never hand a truncated body to the gateway.
                    self.close_connection = True
                    self._write(WireResponse.json(400, b'{"error":"incomplete body"}'))
                    return
                request = WireRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                fault = server.faults.take(request, _WIRE_FAULTS)
                if fault is not None and fault.kind is FaultKind.RESET:
                    self._abort()
                    return
                if fault is not None and fault.kind is FaultKind.ERROR:
                    self._write(_error_response(fault))
                    return
                try:
                    response = server.gateway(request)
                except Exception:  # a gateway bug must not kill the server thread
                    response = WireResponse.json(500, b'{"error":"gateway error"}')
                if fault is not None and fault.kind is FaultKind.DROP:
                    self._abort()
                    return
                if fault is not None and fault.kind is FaultKind.DELAY:
                    time.sleep(fault.seconds)
                self._write(response)

            def _abort(self) -> None:
                """Close the connection without an answer (RST where the OS allows)."""
                self.close_connection = True
                try:
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def _write(self, response: WireResponse) -> None:
                try:
                    self.send_response(response.status)
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
                except OSError:
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        return Handler


def _hang_up(connection: socket.socket) -> None:
    """Wake the thread blocked reading ``connection`` (it reads EOF and ends); its own
    handler closes the socket."""
    with suppress(OSError):  # already closed by its handler
        connection.shutdown(socket.SHUT_RDWR)


@contextmanager
def serving(gateway: Gateway, faults: Faults | None = None) -> Iterator[LoopbackServer]:
    """``with serving(gateway) as server: ...`` on a free loopback port."""
    with LoopbackServer(gateway, faults=faults) as server:
        yield server
