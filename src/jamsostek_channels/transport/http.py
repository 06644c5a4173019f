"""The HTTP transport under every HTTP channel adapter (SNAP JSON, SOAP/XML, REST JSON).

Its one job is to move bytes and say honestly what happened to them:

=====================================================  =========================================
what happened                                          what :meth:`HttpTransport.send` does
=====================================================  =========================================
an answer came (any HTTP status)                       returns :class:`HttpResponse`
the connection could not be made (refused, DNS,        retries (tenacity, backoff with jitter),
connect timeout): the request surely did not arrive    then raises :class:`NotDelivered`
an answer that says "not processed, try again"         retries the same way, then
(``retry_not_processed(response)`` is true)            raises :class:`NotDelivered`
the request was (possibly) sent and no answer came     raises :class:`OutcomeUnknown`, **never
(read timeout, reset, closed, anything unexpected)     retried**: money may have moved
an answer that is not HTTP or is too large             raises :class:`MalformedMessage`
=====================================================  =========================================

A read timeout is not a reason to pay again: the caller resolves an unknown outcome by status
inquiry or advice, with the same reference. Redirects are never followed (a payment is not
re-sent to another address), and urllib3's own retries stay off so that nothing but this module
decides when a request is sent twice.

Every attempt is logged to ``jamsostek_channels.transport`` as one record with structured
``extra`` fields (``event="http.exchange"``). Logs carry no personal data: no bodies (unless
``log_bodies=True``, and then only after :func:`jamsostek_channels.redact.text`, which masks
by field name and by shape), no query strings, no header values beyond an allow-list, and the
path itself is masked.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import logging
import math
import ssl
import time
import types
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Literal, Protocol, Self

import attrs
import requests
import requests.adapters
import tenacity
import urllib3.exceptions
from urllib3.util.retry import Retry

from jamsostek_channels import redact
from jamsostek_channels.errors import MalformedMessage, NotDelivered, OutcomeUnknown
from jamsostek_channels.version import __version__

__all__ = ["HttpResponse", "HttpTransport", "Signer", "Timeouts"]

_LOGGER_NAME = "jamsostek_channels.transport"

#: Header names whose values may be logged; every other header value may carry a token,
#: a signature or an identifier.
_LOGGED_HEADERS = frozenset({"content-type", "content-length", "x-timestamp"})

#: With ``log_bodies=True``, at most this many characters of each (masked) body are logged.
_LOG_BODY_CHARS = 4096

#: Bytes asked of the socket per read while streaming a response.
_CHUNK_BYTES = 16_384

#: Hosts allowed over plain http: the loopback interface, where tests and the sandbox run.
_LOOPBACK_NAMES = frozenset({"localhost"})


def _positive_finite(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a finite number of seconds > 0, not {value!r}")


@attrs.frozen
class Timeouts:
    """How long to wait, in seconds; kept apart because they mean different things.

    ``connect`` bounds making the connection (TCP and TLS): when it runs out, nothing was sent,
    so it is safe to try again. 3.05 s is just over a multiple of TCP's 3 s retransmission
    window. ``read`` bounds each wait for the other side's bytes once the request is on its way:
    when it runs out the outcome is unknown. 20 s leaves room for a host that itself waits on a
    bank; it is the longest *silence*, not a cap on the whole exchange.
    """

    connect: float = attrs.field(default=3.05, converter=float, validator=_positive_finite)
    read: float = attrs.field(default=20.0, converter=float, validator=_positive_finite)


def _read_only(headers: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType({k.lower(): v for k, v in headers.items()})


@attrs.frozen
class HttpResponse:
    """An answer as it came: status, headers (read-only, keys lower-case), raw body bytes, and
    the seconds from sending to the last body byte. Decoding the body is the codec's job."""

    status: int
    headers: Mapping[str, str] = attrs.field(converter=_read_only)
    body: bytes
    elapsed: float


class Signer(Protocol):
    """Adds authentication headers to a request (SNAP's ``X-TIMESTAMP`` + ``X-SIGNATURE``, a
    bearer token, ...).

    Called once for **every attempt**, retries included, so timestamps are fresh. It receives
    the upper-case method, the exact ``path`` (path and query after the host, as sent) and the
    exact body bytes: sign those, not a re-serialised copy. Its headers are applied last.
    """

    def headers(self, method: str, path: str, body: bytes) -> Mapping[str, str]: ...


# --- classifying failures --------------------------------------------------------------------


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: requests puts urllib3's error in ``args``, urllib3's
    MaxRetryError its cause in ``reason``, ProtocolError the socket error in ``args``. Implicit
    ``__context__`` is not followed: an unrelated earlier error must not decide the outcome."""
    seen: set[int] = set()
    stack = [exc]
    while stack and len(seen) < 32:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
        if current.__cause__ is not None:
            stack.append(current.__cause__)


#: Signs that the request may have reached the other side.
_SENT_SIGNS: tuple[type[BaseException], ...] = (
    urllib3.exceptions.ReadTimeoutError,
    urllib3.exceptions.ProtocolError,
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
    ConnectionResetError,
    BrokenPipeError,
)

_Failure = Literal["connect failed", "connect timeout", "tls", "malformed", "unknown"]


def _classify(chain: list[BaseException]) -> _Failure:
    """What a failure from requests/urllib3 means for the request.

    Only a failure to *establish* the connection proves nothing was sent (a refused server
    certificate too, but trying again is pointless). An answer that is not HTTP (bad status line,
    header line too long) or whose content cannot be decoded is malformed. Everything else,
    including whatever is not recognised here, is unknown. ``chain`` is from :func:`_chain`.
    """

    def found(*kinds: type[BaseException]) -> bool:
        return any(isinstance(e, kinds) for e in chain)

    if found(http.client.RemoteDisconnected):
        return "unknown"  # a BadStatusLine, but it means: closed without answering
    if found(urllib3.exceptions.DecodeError) or any(
        isinstance(e, http.client.HTTPException) and not isinstance(e, _SENT_SIGNS) for e in chain
    ):
        return "malformed"
    if found(*_SENT_SIGNS):
        return "unknown"
    if found(ssl.SSLCertVerificationError):
        return "tls"
    if found(urllib3.exceptions.NewConnectionError):  # refused, unreachable, DNS
        return "connect failed"
    if found(urllib3.exceptions.ConnectTimeoutError, requests.ConnectTimeout):
        return "connect timeout"
    return "unknown"


class _TryAgain(Exception):
    """This attempt surely applied nothing (no connection, or "not processed"): tenacity tries
    again, and when the tries run out it becomes :class:`NotDelivered` with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TooLarge(Exception):
    pass


# --- the transport ---------------------------------------------------------------------------


def _check_base_url(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError("base_url must be https://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        # The path a channel signs (SNAP's EndpointUrl) must be exactly the path requested, so
        # a deployment prefix belongs in the path given to send(), not here; and credentials in
        # a URL end up in logs.
        raise ValueError("base_url must be scheme://host[:port] only; put any prefix in the path")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValueError("plain http is only allowed to a loopback host; use https")
    return f"{parts.scheme}://{parts.netloc}"


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _never_resends(retries: Retry) -> bool:
    return retries.total is False or retries.total == 0


def _allowed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in _LOGGED_HEADERS}


@functools.lru_cache(maxsize=256)
def _checked_url(base_url: str, path: str) -> str:
    """``base_url + path``, once it is sure requests sends ``path`` byte for byte as the signer
    signed it. Cached: a channel sends to a handful of paths, and preparing a probe request to
    check one costs more than the rest of building the request."""
    if not path.startswith("/"):
        raise ValueError("path must start with '/'")
    url = base_url + path
    probe = requests.PreparedRequest()
    try:
        probe.prepare_url(url, None)
    except requests.RequestException as exc:
        raise ValueError("path is not a valid URL path") from exc
    if probe.path_url != path:  # requests would send other bytes than the signer signs
        raise ValueError("path must be percent-encoded ASCII without a fragment")
    return url


class HttpTransport:
    """Sends requests to one host over a pooled, TLS-verified :class:`requests.Session`.

    - ``base_url``: ``https://host[:port]`` and nothing more (plain ``http`` only to loopback);
      any deployment prefix goes into each ``path``, because that is what a channel signs.
    - ``timeouts``: see :class:`Timeouts`. ``verify``: True, or the path of a CA bundle; False
      only for a test host (it is logged as a warning).
    - ``signer``: called for every attempt; see :class:`Signer`.
    - ``connect_retries``: how many more times a request that surely did not arrive is tried
      (connect failure, or ``retry_not_processed``); between tries it sleeps up to
      ``backoff * 2**n`` seconds (full jitter), never more than ``retry_sleep_cap`` in all.
    - ``max_response_bytes``: a larger answer is abandoned unread (:class:`MalformedMessage`).
    - ``default_headers``: sent with every request; per-call headers and then the signer's
      override them.
    - ``logger``, ``name`` (the channel named in log records), ``log_bodies`` (masked bodies
      in the log: for diagnosing a channel, not for production).
    - ``session``: the caller's own (proxies, client certificates). Its adapter must not retry
      on its own, and :meth:`close` leaves it open. The session made here instead ignores the
      environment (proxy variables, ``.netrc``, ``REQUESTS_CA_BUNDLE``): configuration is
      explicit. ``pool_maxsize`` connections to the host are kept alive in it and reused.

    One instance may be shared by threads.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeouts: Timeouts = Timeouts(),  # frozen: one shared default is safe
        signer: Signer | None = None,
        session: requests.Session | None = None,
        verify: bool | str = True,
        connect_retries: int = 2,
        backoff: float = 0.2,
        retry_sleep_cap: float = 2.0,
        max_response_bytes: int = 1_000_000,
        default_headers: Mapping[str, str] | None = None,
        logger: logging.Logger | None = None,
        name: str = "http",
        log_bodies: bool = False,
        pool_maxsize: int = 10,
    ) -> None:
        self.base_url = _check_base_url(base_url)
        if connect_retries < 0:
            raise ValueError("connect_retries must be >= 0")
        if not (math.isfinite(backoff) and backoff >= 0):
            raise ValueError("backoff must be >= 0 seconds")
        if not (math.isfinite(retry_sleep_cap) and retry_sleep_cap >= 0):
            raise ValueError("retry_sleep_cap must be >= 0 seconds")
        if max_response_bytes <= 0:
            raise ValueError("max_response_bytes must be > 0")
        if pool_maxsize <= 0:
            raise ValueError("pool_maxsize must be > 0")
        self.name = name
        self.timeouts = timeouts
        self.max_response_bytes = max_response_bytes
        self._signer = signer
        self._verify = verify
        self._connect_retries = connect_retries
        self._retry_sleep_cap = retry_sleep_cap
        self._wait_base = tenacity.wait_random_exponential(multiplier=backoff, max=retry_sleep_cap)
        #: How the retry loop sleeps; tests may replace it.
        self._sleep: Callable[[float], None] = time.sleep
        self._log_bodies = log_bodies
        self._logger = logger or logging.getLogger(_LOGGER_NAME)
        self._default_headers = {"User-Agent": f"jamsostek-channels/{__version__}"}
        self._default_headers.update(default_headers or {})
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            session.trust_env = False
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=1,  # one host per transport
                pool_maxsize=pool_maxsize,
                max_retries=Retry(total=0, read=False, redirect=False),
                pool_block=False,
            )
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        else:
            theirs = session.get_adapter(self.base_url)
            if isinstance(theirs, requests.adapters.HTTPAdapter) and not _never_resends(
                theirs.max_retries
            ):
                raise ValueError("the session's adapter retries on its own; give it max_retries=0")
        self._session = session
        if verify is False:
            self._logger.warning("TLS verification is off for channel %s", name)

    def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
        retry_not_processed: Callable[[HttpResponse], bool] | None = None,
        reference: str | None = None,
        signer: Signer | None = None,
    ) -> HttpResponse:
        """Send ``body`` to ``base_url + path`` and return the answer, whatever its status.

        ``signer`` overrides the transport's own for this call (a call-specific signature, e.g.
        SNAP's, which covers the call's access token and X-EXTERNAL-ID).

        ``path`` is the path and query after the host, exactly as it is signed and sent (it must
        start with ``/`` and be percent-encoded already). ``reference`` names the business
        request in logs and in :class:`OutcomeUnknown` (it is not personal data).

        Raises :class:`NotDelivered` (nothing was applied; the same request may be sent again),
        :class:`OutcomeUnknown` (it may have been applied: resolve by status, do not re-send),
        :class:`MalformedMessage` (an answer came but cannot be read: for a money-moving call
        that too must be resolved by status), or ``ValueError`` for a bad path or header
        (nothing was sent).
        """
        method = method.upper()
        url = self._url(path)
        reference = reference or "-"
        attempts = 0

        def attempt() -> HttpResponse:
            nonlocal attempts
            attempts += 1
            return self._attempt(
                method,
                path,
                url,
                body,
                headers,
                retry_not_processed,
                reference,
                attempts,
                signer or self._signer,
            )

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_TryAgain),
            stop=tenacity.stop_after_attempt(self._connect_retries + 1),
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _TryAgain as exc:
            raise NotDelivered("transport.not_delivered", {"reason": exc.reason}) from None

    def close(self) -> None:
        """Close the pooled connections (not those of a session the caller gave)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HttpTransport({self.base_url!r}, name={self.name!r})"

    def _url(self, path: str) -> str:
        return _checked_url(self.base_url, path)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """Backoff with full jitter, clipped so that the sleeps of one send stay under the cap."""
        return min(self._wait_base(state), max(0.0, self._retry_sleep_cap - state.idle_for))

    def _attempt(
        self,
        method: str,
        path: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None,
        retry_not_processed: Callable[[HttpResponse], bool] | None,
        reference: str,
        attempt: int,
        signer: Signer | None,
    ) -> HttpResponse:
        request_headers = dict(self._default_headers)
        request_headers.update(headers or {})
        if signer is not None:
            request_headers.update(signer.headers(method, path, body))
        try:
            for value in request_headers.values():
                value.encode("latin-1")  # what http.client would fail on, mid-request
            prepared = self._session.prepare_request(
                requests.Request(method, url, headers=request_headers, data=body or None)
            )
        except (requests.RequestException, ValueError) as exc:
            raise ValueError("invalid request header") from exc

        log = _Exchange(self._logger, self.name, self._log_bodies, method, path, body, reference)
        log.attempt = attempt
        log.request_headers = request_headers
        try:
            response = self._session.send(
                prepared,
                stream=True,
                timeout=(self.timeouts.connect, self.timeouts.read),
                verify=self._verify,
                allow_redirects=False,
            )
            log.status = response.status_code
            log.response_headers = response.headers
            with response:
                content = self._read_body(response)
        except _TooLarge:
            log.finish("too-large")
            raise MalformedMessage("message.too_large", {"max": self.max_response_bytes}) from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            # Not chained: requests' messages carry the URL, query string included.
            raise self._failure(exc, log, reference) from None

        result = HttpResponse(response.status_code, response.headers, content, log.elapsed())
        log.response_body = content
        if retry_not_processed is not None and retry_not_processed(result):
            log.finish("not-processed")
            raise _TryAgain(f"not processed, HTTP {result.status}")
        log.finish("answered")
        return result

    def _read_body(self, response: requests.Response) -> bytes:
        """The body, read in chunks and abandoned as soon as it passes the limit."""
        limit = self.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=min(_CHUNK_BYTES, limit + 1)):
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _failure(exc: BaseException, log: _Exchange, reference: str) -> Exception:
        """The exception (library error or :class:`_TryAgain`) for a failed exchange, logged."""
        chain = list(_chain(exc))
        log.error = "/".join(type(e).__name__ for e in chain)  # names only: no URL, no data
        failure = _classify(chain)
        log.finish(failure.replace(" ", "-"))
        if failure in ("connect failed", "connect timeout"):
            return _TryAgain(failure)
        if failure == "tls":
            return NotDelivered("transport.not_delivered", {"reason": "TLS certificate refused"})
        if failure == "malformed":
            return MalformedMessage("message.malformed", {"reason": "not a readable HTTP answer"})
        return OutcomeUnknown("outcome.unknown", {"reference": reference})


class _Exchange:
    """The log record of one attempt, filled in as it goes and written once by :meth:`finish`:
    INFO when an answer was used, WARNING otherwise."""

    def __init__(
        self,
        logger: logging.Logger,
        channel: str,
        log_bodies: bool,
        method: str,
        path: str,
        body: bytes,
        reference: str,
    ) -> None:
        self.logger = logger
        self.channel = channel
        self.log_bodies = log_bodies
        self.method = method
        self.path = path
        self.request_body = body
        self.reference = reference
        self.started = time.perf_counter()
        self.attempt = 1
        self.request_headers: Mapping[str, str] = {}
        self.status: int | None = None
        self.response_headers: Mapping[str, str] = {}
        self.response_body = b""
        self.error: str | None = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def finish(self, outcome: str) -> None:
        level = logging.INFO if outcome == "answered" else logging.WARNING
        if not self.logger.isEnabledFor(level):
            return
        elapsed_ms = round(self.elapsed() * 1000, 1)
        # The query string may carry a NIK or a phone number, and a REST path may too.
        path = redact.text(self.path.partition("?")[0])
        extra: dict[str, object] = {
            "event": "http.exchange",
            "channel": self.channel,
            "method": self.method,
            "path": path,
            "status": self.status,
            "outcome": outcome,
            "error": self.error,
            "elapsed_ms": elapsed_ms,
            "attempt": self.attempt,
            "request_bytes": len(self.request_body),
            "response_bytes": len(self.response_body),
            "reference": self.reference,
            "request_headers": _allowed_headers(self.request_headers),
            "response_headers": _allowed_headers(self.response_headers),
        }
        message = (
            f"http.exchange channel={self.channel} {self.method} {path} "
            f"status={self.status if self.status is not None else '-'} outcome={outcome} "
            f"elapsed_ms={elapsed_ms} attempt={self.attempt} "
            f"request_bytes={len(self.request_body)} response_bytes={len(self.response_body)} "
            f"reference={self.reference}"
        )
        if self.error:
            message += f" error={self.error}"
        if self.log_bodies:
            extra["request_body"] = request_body = _masked_body(self.request_body)
            extra["response_body"] = response_body = _masked_body(self.response_body)
            message += f" request_body={request_body} response_body={response_body}"
        self.logger.log(level, "%s", message, extra=extra)


def _masked_body(body: bytes) -> str:
    """Masked first, then shortened: cutting first could leave part of a NIK unmasked."""
    return redact.text(body.decode("utf-8", errors="replace"))[:_LOG_BODY_CHARS]
