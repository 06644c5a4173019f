"""The HTTP transport: "no answer" is never "failed", and a request is only sent again when it
surely did not arrive. Most cases run through `responses`; the few that need a real socket
(a server that hangs up, sleeps, or streams forever) use a loopback server started per test."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import responses
import urllib3.exceptions
from urllib3.util.retry import Retry

from jamsostek_channels.errors import MalformedMessage, NotDelivered, OutcomeUnknown
from jamsostek_channels.transport import HttpResponse, HttpTransport, Timeouts

BASE = "https://snap.example.co.id"
PATH = "/openapi/v1.0/transfer-va/payment"
URL = BASE + PATH
NIK = "3201015508950001"
PHONE = "081234567890"
TOKEN = "tok-SECRET-abc123"


class RecordingSigner:
    """A signer that remembers every call and stamps each attempt differently."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes]] = []

    def headers(self, method: str, path: str, body: bytes) -> Mapping[str, str]:
        self.calls.append((method, path, body))
        return {"X-TIMESTAMP": f"t{len(self.calls)}", "X-SIGNATURE": f"sig{len(self.calls)}"}


def transport(base: str = BASE, /, **kwargs: Any) -> HttpTransport:
    """A transport that never sleeps between retries."""
    kwargs.setdefault("backoff", 0.0)
    return HttpTransport(base, **kwargs)


def connect_refused() -> requests.ConnectionError:
    """What requests raises when nothing listens at the port."""
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, PATH, reason))  # type: ignore[arg-type]


class EndlessBody(io.RawIOBase):
    """A response body that never ends, counting what was read from it."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = len(buffer)
        buffer[:size] = b"x" * size
        self.served += size
        return size


# --- values -------------------------------------------------------------------------------


def test_timeouts_defaults_and_validation() -> None:
    assert Timeouts() == Timeouts(connect=3.05, read=20.0)
    for bad in ({"connect": 0}, {"read": -1}, {"read": float("inf")}, {"connect": float("nan")}):
        with pytest.raises(ValueError, match="seconds"):
            Timeouts(**bad)


def test_response_headers_are_read_only_and_lower_case() -> None:
    response = HttpResponse(200, {"Content-Type": "application/json"}, b"{}", 0.01)
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(TypeError):
        response.headers["x"] = "y"  # type: ignore[index]


@pytest.mark.parametrize(
    "base",
    [
        "http://bpjs.example.co.id",
        "http://10.0.0.1:8080",
        "ftp://127.0.0.1",
        "https://host.example/prefix",
        "https://user:pw@host.example",
        "not a url",
    ],
)
def test_refused_base_urls(base: str) -> None:
    with pytest.raises(ValueError, match=r"base_url|http"):
        HttpTransport(base)


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:9", "https://a.example/"]
)
def test_accepted_base_urls(base: str) -> None:
    with HttpTransport(base) as t:
        assert not t.base_url.endswith("/")


@pytest.mark.parametrize("path", ["no-slash", "/with space", "/frag#ment", "/caf\u00e9"])
def test_paths_that_would_not_be_sent_as_signed(path: str) -> None:
    with transport() as t, pytest.raises(ValueError, match="path"):
        t.send("POST", path)


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "\u2603"])
def test_headers_that_cannot_be_sent_are_refused_before_sending(value: str) -> None:
    with transport() as t, pytest.raises(ValueError, match="header"):
        t.send("POST", PATH, headers={"X-Name": value})


def test_a_session_that_retries_on_its_own_is_refused() -> None:
    session = requests.Session()
    session.mount("https://", requests.adapters.HTTPAdapter(max_retries=Retry(total=3)))
    with pytest.raises(ValueError, match="retries"):
        HttpTransport(BASE, session=session)
    session.close()


@responses.activate
def test_a_given_session_is_used_and_left_open() -> None:
    class Session(requests.Session):
        closed = False

        def close(self) -> None:
            self.closed = True
            super().close()

    responses.post(URL)
    session = Session()
    with transport(session=session) as t:
        t.send("POST", PATH)
    assert len(responses.calls) == 1
    assert not session.closed
    session.close()


# --- exchanges through `responses` --------------------------------------------------------


@responses.activate
def test_success_returns_status_headers_body() -> None:
    responses.post(
        URL, body=b'{"responseCode":"2002500"}', status=200, content_type="application/json"
    )
    with transport() as t:
        result = t.send("post", PATH, b'{"a":1}', headers={"Content-Type": "application/json"})
    assert result.status == 200
    assert result.body == b'{"responseCode":"2002500"}'
    assert result.headers["content-type"] == "application/json"
    assert result.elapsed >= 0
    sent = responses.calls[0].request
    assert sent.method == "POST"
    assert sent.body == b'{"a":1}'
    assert sent.headers["User-Agent"].startswith("jamsostek-channels/")


@responses.activate
def test_signer_called_once_per_attempt_with_exact_path_and_body() -> None:
    path = PATH + "?channel=6011&x=%2F"
    responses.post(BASE + path, status=429)
    responses.post(BASE + path, status=200, body=b"ok")
    signer = RecordingSigner()
    body = b'{"partnerServiceId":"   88888"}'
    with transport(signer=signer) as t:
        result = t.send("POST", path, body, retry_not_processed=lambda r: r.status == 429)
    assert result.status == 200
    assert signer.calls == [("POST", path, body), ("POST", path, body)]
    assert [c.request.url for c in responses.calls] == [BASE + path] * 2
    assert [c.request.headers["X-TIMESTAMP"] for c in responses.calls] == ["t1", "t2"]
    assert responses.calls[1].request.headers["X-SIGNATURE"] == "sig2"


@responses.activate
def test_signer_headers_win_over_call_and_default_headers() -> None:
    responses.post(URL)

    class Signer:
        def headers(self, method: str, path: str, body: bytes) -> Mapping[str, str]:
            return {"Authorization": "Bearer signed"}

    with transport(
        signer=Signer(), default_headers={"Authorization": "x", "CHANNEL-ID": "95221"}
    ) as t:
        t.send("POST", PATH, headers={"Authorization": "y"})
    sent = responses.calls[0].request.headers
    assert sent["Authorization"] == "Bearer signed"
    assert sent["CHANNEL-ID"] == "95221"


@responses.activate
def test_connect_failure_is_retried_then_not_delivered() -> None:
    responses.post(URL, body=connect_refused())
    with transport(connect_retries=2) as t, pytest.raises(NotDelivered) as caught:
        t.send("POST", PATH, b"{}")
    assert len(responses.calls) == 3
    assert caught.value.code == "transport.not_delivered"
    assert "connect failed" in caught.value.message_en


@responses.activate
def test_connect_failure_then_success() -> None:
    responses.post(URL, body=connect_refused())
    responses.post(URL, body=b"ok")
    with transport() as t:
        assert t.send("POST", PATH).body == b"ok"
    assert len(responses.calls) == 2


@responses.activate
def test_connect_timeout_is_not_delivered() -> None:
    responses.post(URL, body=requests.ConnectTimeout())
    with transport(connect_retries=1) as t, pytest.raises(NotDelivered, match="connect timeout"):
        t.send("POST", PATH)
    assert len(responses.calls) == 2


@responses.activate
def test_read_timeout_is_unknown_and_never_retried() -> None:
    responses.post(URL, body=requests.ReadTimeout())
    with transport(connect_retries=5) as t, pytest.raises(OutcomeUnknown) as caught:
        t.send("POST", PATH, reference="PAY-0001")
    assert len(responses.calls) == 1
    assert caught.value.code == "outcome.unknown"
    assert "PAY-0001" in caught.value.message_en
    assert caught.value.__cause__ is None  # requests' message carries the URL and query


@pytest.mark.parametrize(
    "error",
    [
        requests.ConnectionError(
            urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104))
        ),
        requests.exceptions.ChunkedEncodingError(),
        requests.ConnectionError(),
        requests.RequestException(),
    ],
    ids=["reset", "chunked", "bare-connection-error", "other"],
)
@responses.activate
def test_failures_after_sending_are_unknown_and_not_retried(error: Exception) -> None:
    responses.post(URL, body=error)
    with transport() as t, pytest.raises(OutcomeUnknown, match=r"No answer for -"):
        t.send("POST", PATH)
    assert len(responses.calls) == 1


@responses.activate
def test_not_processed_is_retried_then_not_delivered() -> None:
    responses.post(URL, status=429, json={"responseCode": "4292500"})
    answers: list[int] = []

    def not_processed(response: HttpResponse) -> bool:
        answers.append(response.status)
        code: str = json.loads(response.body)["responseCode"]
        return code.startswith("429")

    with transport(connect_retries=3) as t, pytest.raises(NotDelivered, match="HTTP 429"):
        t.send("POST", PATH, retry_not_processed=not_processed)
    assert len(responses.calls) == 4
    assert answers == [429] * 4


@responses.activate
def test_an_error_status_is_an_answer() -> None:
    responses.post(URL, status=500, body=b"oops")
    with transport() as t:
        assert t.send("POST", PATH).status == 500
    assert len(responses.calls) == 1


@responses.activate
def test_redirects_are_not_followed() -> None:
    responses.post(URL, status=307, headers={"Location": BASE + "/elsewhere"})
    with transport() as t:
        assert t.send("POST", PATH, b"{}").status == 307
    assert len(responses.calls) == 1


@responses.activate
def test_retry_sleeps_stay_under_the_cap() -> None:
    responses.post(URL, body=connect_refused())
    sleeps: list[float] = []
    t = HttpTransport(BASE, connect_retries=4, backoff=10.0, retry_sleep_cap=0.5)
    t._sleep = sleeps.append
    with t, pytest.raises(NotDelivered):
        t.send("POST", PATH)
    assert len(sleeps) == 4
    assert sum(sleeps) <= 0.5 + 1e-9


@responses.activate
def test_oversized_stream_is_abandoned_early() -> None:
    endless = EndlessBody()
    responses.post(URL, body=io.BufferedReader(endless))
    with transport(max_response_bytes=1000) as t, pytest.raises(MalformedMessage) as caught:
        t.send("POST", PATH)
    assert caught.value.code == "message.too_large"
    assert 1000 < endless.served < 50_000


@responses.activate
def test_oversized_declared_length_is_refused_unread() -> None:
    endless = EndlessBody()
    responses.post(URL, body=io.BufferedReader(endless), headers={"Content-Length": "5000000"})
    with transport(max_response_bytes=1000) as t, pytest.raises(MalformedMessage, match="1000"):
        t.send("POST", PATH)
    assert endless.served == 0


@responses.activate
def test_body_exactly_at_the_limit_is_fine() -> None:
    responses.post(URL, body=b"x" * 1000)
    with transport(max_response_bytes=1000) as t:
        assert len(t.send("POST", PATH).body) == 1000


@responses.activate
def test_undecodable_content_is_malformed() -> None:
    responses.post(URL, body=b"this is not gzip", headers={"Content-Encoding": "gzip"})
    with transport() as t, pytest.raises(MalformedMessage) as caught:
        t.send("POST", PATH)
    assert caught.value.code == "message.malformed"


# --- logging ------------------------------------------------------------------------------

SECRET_REQUEST = json.dumps(
    {"customerNo": NIK, "phone": PHONE, "accessToken": TOKEN, "otp": "482913"}
).encode()
SECRET_RESPONSE = (
    f"<Resp><nik>{NIK}</nik><hp>+62 812-3456-7890</hp><Signature>{TOKEN}</Signature></Resp>"
)


def _exchange_with_secrets(caplog: pytest.LogCaptureFixture, **kwargs: Any) -> str:
    caplog.set_level(logging.INFO, logger="jamsostek_channels.transport")
    path = f"/v1/participants/{NIK}/bills?phone={PHONE}&token={TOKEN}"
    responses.get(
        BASE + path,
        body=SECRET_RESPONSE,
        headers={
            "X-Customer": NIK,
            "Set-Cookie": f"s={TOKEN}",
            "X-TIMESTAMP": "2026-11-22T10:00:00+07:00",
        },
    )
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "X-Phone": PHONE,
        "Content-Type": "application/json",
    }
    with transport(name="linkaja", **kwargs) as t:
        t.send("GET", path, SECRET_REQUEST, headers=headers, reference="PAY-77")
    return caplog.text + "".join(str(vars(r)) for r in caplog.records)


@responses.activate
def test_log_record_fields_and_no_pii(caplog: pytest.LogCaptureFixture) -> None:
    everything = _exchange_with_secrets(caplog)
    for secret in (NIK, PHONE, TOKEN, "482913", "3456-7890"):
        assert secret not in everything
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "http.exchange"]
    assert record.levelno == logging.INFO
    assert record.name == "jamsostek_channels.transport"
    fields = vars(record)
    assert fields["channel"] == "linkaja"
    assert fields["method"] == "GET"
    assert fields["path"] == "/v1/participants/3201********0001/bills"
    assert fields["status"] == 200
    assert fields["attempt"] == 1
    assert fields["reference"] == "PAY-77"
    assert fields["request_bytes"] == len(SECRET_REQUEST)
    assert fields["response_bytes"] == len(SECRET_RESPONSE)
    assert isinstance(fields["elapsed_ms"], float)
    assert fields["request_headers"] == {"content-type": "application/json"}
    assert fields["response_headers"] == {
        "content-type": "text/plain",
        "x-timestamp": "2026-11-22T10:00:00+07:00",
    }
    assert "reference=PAY-77" in record.getMessage()
    assert "status=200" in record.getMessage()
    assert "request_body" not in fields


@responses.activate
def test_logged_bodies_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    everything = _exchange_with_secrets(caplog, log_bodies=True)
    for secret in (NIK, PHONE, TOKEN, "482913"):
        assert secret not in everything
    assert '"customerNo": "3201********0001"' in caplog.text
    assert '"accessToken": "***"' in caplog.text
    assert "<hp>0812****7890</hp>" in caplog.text
    assert "<Signature>***</Signature>" in caplog.text


@responses.activate
def test_every_attempt_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="jamsostek_channels.transport")
    responses.post(URL, body=connect_refused())
    responses.post(URL, body=requests.ReadTimeout())
    with transport() as t, pytest.raises(OutcomeUnknown):
        t.send("POST", PATH, reference="R1")
    records = [vars(r) for r in caplog.records if getattr(r, "event", None) == "http.exchange"]
    assert [(r["attempt"], r["outcome"], r["status"]) for r in records] == [
        (1, "connect-failed", None),
        (2, "unknown", None),
    ]
    assert all(r["reference"] == "R1" for r in records)


# --- real sockets -------------------------------------------------------------------------


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    mode = "ok"
    release = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        mode = self.server.mode
        try:
            if mode == "close":  # read the request, then hang up without a word
                self.close_connection = True
                return
            if mode == "garbage":
                self.wfile.write(b"SURE, WHY NOT\r\n\r\n")
                self.close_connection = True
                return
            if mode == "slow":  # answers only once released (or after a minute)
                self.server.release.wait(60.0)
            if mode == "endless":
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                for _ in range(1024):  # at most 64 MiB, stopped by the client hanging up
                    self.wfile.write(b"x" * 65536)
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:
            self.close_connection = True


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    httpd = LoopbackServer(("127.0.0.1", 0), Handler)
    httpd.release = threading.Event()
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=2)


def base_of(httpd: LoopbackServer) -> str:
    host, port = httpd.server_address[:2]
    return f"http://{host!s}:{port}"


def test_real_socket_success_and_reuse(server: LoopbackServer) -> None:
    with transport(base_of(server)) as t:
        assert t.send("POST", "/pay", b"{}").body == b"ok"
        assert t.send("POST", "/pay", b"{}").status == 200


def test_real_connection_refused_is_retried_then_not_delivered() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    signer = RecordingSigner()
    t = transport(f"http://127.0.0.1:{port}", signer=signer, connect_retries=2)
    with t, pytest.raises(NotDelivered, match="connect failed"):
        t.send("POST", "/pay", b"{}")
    assert len(signer.calls) == 3


def test_server_hangs_up_after_reading_is_unknown(server: LoopbackServer) -> None:
    server.mode = "close"
    signer = RecordingSigner()
    with transport(base_of(server), signer=signer) as t, pytest.raises(OutcomeUnknown):
        t.send("POST", "/pay", b"{}", reference="PAY-9")
    assert len(signer.calls) == 1


def test_server_slower_than_read_timeout_is_unknown(server: LoopbackServer) -> None:
    server.mode = "slow"
    timeouts = Timeouts(connect=0.5, read=0.2)
    with transport(base_of(server), timeouts=timeouts) as t, pytest.raises(OutcomeUnknown):
        t.send("POST", "/pay", b"{}")
    # The read timeout gave up while the server still held its answer: no wall clock needed.
    assert not server.release.is_set()


def test_not_http_is_malformed(server: LoopbackServer) -> None:
    server.mode = "garbage"
    with (
        transport(base_of(server)) as t,
        pytest.raises(MalformedMessage, match="cannot be decoded"),
    ):
        t.send("POST", "/pay", b"{}")


def test_real_endless_stream_is_cut_at_the_limit(server: LoopbackServer) -> None:
    server.mode = "endless"
    t = transport(base_of(server), max_response_bytes=10_000)
    with t, pytest.raises(MalformedMessage, match="10000"):
        t.send("POST", "/pay", b"{}")
