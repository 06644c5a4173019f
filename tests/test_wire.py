"""The loopback server holds up: short bodies, idle keep-alive connections, stop()."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from jamsostek_channels.testing.wire import LoopbackServer, WireRequest, WireResponse

#: Every client socket read here is bounded by this, so a server that hangs fails the test.
CLIENT_TIMEOUT = 10.0


def echo(request: WireRequest) -> WireResponse:
    return WireResponse.json(200, b'{"length":%d}' % len(request.body))


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(echo, socket_timeout=0.3) as served:
        yield served


def connect(server: LoopbackServer) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", server.port), timeout=CLIENT_TIMEOUT)
    client.settimeout(CLIENT_TIMEOUT)
    return client


def read_all(client: socket.socket) -> bytes:
    """Everything until the server closes (EOF or reset)."""
    chunks = []
    try:
        while chunk := client.recv(4096):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def post(length: int, body: bytes) -> bytes:
    return (
        b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (length, body)
    )


def serving_threads(server: LoopbackServer) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"loopback:{server.port}"]


def test_a_body_shorter_than_its_length_gets_a_400_and_frees_the_thread(
    server: LoopbackServer,
) -> None:
    with connect(server) as client:
        client.sendall(post(100, b"0123456789"))  # and then nothing: the client stalls
        answer = read_all(client)  # the server times out, answers and closes
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"incomplete body" in answer
    assert server.open_connections == 0


def test_a_body_cut_short_by_the_client_is_never_passed_on(server: LoopbackServer) -> None:
    seen: list[WireRequest] = []

    def recording(request: WireRequest) -> WireResponse:
        seen.append(request)
        return echo(request)

    server.gateway = recording
    with connect(server) as client:
        client.sendall(post(100, b"0123456789"))
        client.shutdown(socket.SHUT_WR)
        answer = read_all(client)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert seen == []


def test_an_idle_keep_alive_connection_is_closed_after_the_timeout(
    server: LoopbackServer,
) -> None:
    with connect(server) as client:
        client.sendall(post(2, b"{}"))
        answer = read_all(client)  # answered, kept alive, then closed when idle
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b'{"length":2}')
    assert server.open_connections == 0


def test_stop_closes_open_keep_alive_connections() -> None:
    server = LoopbackServer(echo).start()  # default timeout: long, stop() must not wait for it
    try:
        client = connect(server)
        client.sendall(post(2, b"{}"))
        answer = b""
        while not answer.endswith(b'{"length":2}'):
            answer += client.recv(4096)
        assert server.open_connections == 1
        assert len(serving_threads(server)) == 1
    finally:
        server.stop()
    with client:
        assert read_all(client) == b""  # EOF (or reset): the server hung up
    assert server.open_connections == 0
    assert serving_threads(server) == []


def test_a_server_never_started_stops() -> None:
    server = LoopbackServer(echo)
    server.stop()  # returns: no serve_forever to wait for
    assert server.open_connections == 0


def test_the_socket_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LoopbackServer(echo, socket_timeout=0)
