"""A delaying TCP proxy on loopback: the network between a client and the host, made to misbehave.

The sandbox's own faults act *inside* the server (the gateway answers late, or not at all, after
the host committed). This proxy sits in front of it with real sockets and real time, so it can do
what only a network can: hold a request **before it reaches the host**, so that the client's read
timeout fires while the host has not seen the payment yet, and the host applies it afterwards::

    with Proxy(sandbox.base_url) as proxy:
        held = proxy.hold("REF-1", seconds=2.0)        # the bytes of one request
        ... a client whose base_url is proxy.through(url) pays REF-1 ...
        held.matched.wait(5)    # the request is in the proxy; the host has not seen it
        held.forwarded.wait(5)  # passed on: the host applies it now

:meth:`Proxy.drop_answer` passes a matching request on and closes the client's connection
(with a reset) when the answer comes back: the host committed, the client cannot know.

Matching is on the raw bytes a client sends on a connection (a reference, a path), across reads.
Everything is bounded: every socket read and wait times out, a hold ends after its ``seconds``
(or :meth:`Hold.release`), the proxy stops after ``lifetime`` seconds by itself and on
:meth:`Proxy.close`, which closes every connection (a request still held is then never passed
on). It listens on 127.0.0.1 and forwards only to a loopback address.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from urllib.parse import urlsplit, urlunsplit

__all__ = ["DEFAULT_LIFETIME", "Hold", "Proxy"]

#: How long a proxy serves before it stops by itself (seconds): a test that forgets to close
#: one leaves no thread behind for long.
DEFAULT_LIFETIME = 600.0
#: How long a connection may stay idle (no byte either way) before the proxy closes it.
DEFAULT_IDLE_TIMEOUT = 60.0
_TICK = 0.05  # how often blocked reads and holds look at the stop flag
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_RESET = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # SO_LINGER on, 0 s: close() sends RST


class Hold:
    """One planned fault: the next ``times`` requests whose bytes contain ``match``.

    ``matched`` is set when such a request reaches the proxy (before anything is passed on),
    ``forwarded`` once it has been passed on to the host."""

    def __init__(self, match: bytes, *, seconds: float, times: int, drop_answer: bool) -> None:
        if not match:
            raise ValueError("match must not be empty")
        if not 0 <= seconds < DEFAULT_LIFETIME:
            raise ValueError(f"seconds must be in 0..{DEFAULT_LIFETIME}, got {seconds!r}")
        if isinstance(times, bool) or times < 1:
            raise ValueError(f"times must be an integer >= 1, got {times!r}")
        self.match = match
        self.seconds = seconds
        self.drop_answer = drop_answer
        self.remaining = times
        self.matched = threading.Event()
        self.forwarded = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        """End the hold now: a request held (or still to come) is passed on at once."""
        self._released.set()

    def __repr__(self) -> str:
        kind = "drop_answer" if self.drop_answer else f"hold {self.seconds}s"
        return f"Hold({self.match!r}, {kind}, remaining={self.remaining})"


class Proxy:
    """Forwards TCP connections from 127.0.0.1:``port`` to ``upstream`` (a loopback URL or
    ``host:port``), holding or answer-dropping the requests that match a :class:`Hold`."""

    def __init__(
        self,
        upstream: str,
        *,
        port: int = 0,
        lifetime: float = DEFAULT_LIFETIME,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        parts = urlsplit(upstream if "//" in upstream else f"//{upstream}")
        if parts.hostname not in _LOOPBACK or parts.port is None:
            raise ValueError(f"upstream must be a loopback host:port, got {upstream!r}")
        if not 0 < lifetime <= DEFAULT_LIFETIME or not idle_timeout > 0:
            raise ValueError("lifetime must be in (0, 600] and idle_timeout positive")
        self.upstream = (parts.hostname, parts.port)
        self.lifetime = lifetime
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._holds: list[Hold] = []
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", port))
        self._listener.settimeout(_TICK)
        self._acceptor: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def through(self, url: str) -> str:
        """``url`` (an address on the upstream) reached through this proxy instead."""
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"127.0.0.1:{self.port}"))

    # Faults ------------------------------------------------------------------------------------

    def hold(self, match: str | bytes, *, seconds: float, times: int = 1) -> Hold:
        """Hold the next ``times`` requests containing ``match`` for ``seconds`` before they
        reach the host (the client's read timeout should fire first)."""
        return self._plan(Hold(_bytes(match), seconds=seconds, times=times, drop_answer=False))

    def drop_answer(self, match: str | bytes, *, times: int = 1) -> Hold:
        """Pass the next ``times`` requests containing ``match`` on, then reset the client's
        connection instead of giving it the answer."""
        return self._plan(Hold(_bytes(match), seconds=0.0, times=times, drop_answer=True))

    def clear(self) -> None:
        """Forget every planned fault (and end the holds in progress)."""
        with self._lock:
            holds, self._holds = self._holds, []
        for hold in holds:
            hold.release()

    def _plan(self, hold: Hold) -> Hold:
        with self._lock:
            self._holds.append(hold)
        return hold

    def _take(self, window: bytes) -> Hold | None:
        with self._lock:
            for hold in self._holds:
                if hold.remaining > 0 and hold.match in window:
                    hold.remaining -= 1
                    if hold.remaining == 0:
                        self._holds.remove(hold)
                    return hold
        return None

    def _longest_match(self) -> int:
        with self._lock:
            return max((len(hold.match) for hold in self._holds), default=1)

    # Serving -----------------------------------------------------------------------------------

    def start(self) -> Proxy:
        self._acceptor = self._spawn(self._accept, "proxy-accept")
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every connection (held requests are never passed on) and wait
        up to ``timeout`` seconds for the proxy's threads."""
        self._stopping.set()
        self.clear()
        with suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:  # wakes the threads reading them; each closes its own
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        with self._lock:
            left, self._sockets = list(self._sockets), set()
        for sock in left:
            _close(sock)

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, target: Callable[..., object], name: str, *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def _accept(self) -> None:
        deadline = time.monotonic() + self.lifetime
        while not self._stopping.is_set():
            if time.monotonic() > deadline:  # stops by itself, even if nobody closes it
                self.close()
                return
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close()
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5.0)
            except OSError:
                _abort(client)  # the host is down: the client sees a reset
                _close(client)
                continue
            link = _Link(client, upstream)
            with self._lock:
                self._sockets.update((client, upstream))
            for sock in (client, upstream):
                sock.settimeout(_TICK)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(self._to_host, "proxy-up", link)
            self._spawn(self._to_client, "proxy-down", link)

    def _to_host(self, link: _Link) -> None:
        """Client -> host, holding what matches."""
        tail = b""
        try:
            while not self._stopping.is_set():
                data = self._read(link, link.client)
                if not data:
                    break
                window = tail + data
                hold = self._take(window)
                if hold is not None:
                    hold.matched.set()
                    if not self._wait(hold):
                        return  # closed while holding: the request never reaches the host
                    # Before the bytes go: the answer they cause must already find the flag.
                    link.drop_answer = link.drop_answer or hold.drop_answer
                link.upstream.sendall(data)
                if hold is not None:
                    hold.forwarded.set()
                tail = window[-(self._longest_match() - 1) :] if self._longest_match() > 1 else b""
            with suppress(OSError):  # the client is done sending: let the host finish answering
                link.upstream.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            self._done(link)

    def _to_client(self, link: _Link) -> None:
        """Host -> client, dropping the answer when asked to."""
        try:
            while not self._stopping.is_set():
                data = self._read(link, link.upstream)
                if not data:
                    break
                if link.drop_answer:  # the host answered: the client never hears it
                    _abort(link.client)
                    break
                link.client.sendall(data)
            with suppress(OSError):
                link.client.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            self._done(link)

    def _read(self, link: _Link, sock: socket.socket) -> bytes:
        """The next bytes from ``sock``; ``b""`` at its end, when the proxy stops or when the
        connection was idle (both ways) for ``idle_timeout`` seconds."""
        while not self._stopping.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                if time.monotonic() - link.active > self.idle_timeout:
                    return b""
                continue
            link.active = time.monotonic()
            return data
        return b""

    def _wait(self, hold: Hold) -> bool:
        """Hold for the hold's time (or until released); False if the proxy closes meanwhile."""
        deadline = time.monotonic() + hold.seconds
        while not hold._released.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if self._stopping.wait(min(remaining, _TICK)):
                return False
        return not self._stopping.is_set()

    def _done(self, link: _Link) -> None:
        """One direction ended; when both have, close the pair."""
        with self._lock:
            link.open_directions -= 1
            if link.open_directions > 0:
                return
            self._sockets.difference_update((link.client, link.upstream))
        _close(link.client)
        _close(link.upstream)


class _Link:
    """One client connection and its connection to the host."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.drop_answer = False
        self.active = time.monotonic()
        self.open_directions = 2


def _bytes(match: str | bytes) -> bytes:
    return match.encode("utf-8") if isinstance(match, str) else match


def _abort(sock: socket.socket) -> None:
    """End a connection with a reset, not a polite close (its owner closes the socket)."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        sock.shutdown(socket.SHUT_RDWR)


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        sock.close()
