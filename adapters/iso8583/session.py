"""One terminal's session with a switch: the link's life, apart from what travels on it.

jPOS splits a terminal into a channel (framing), a multiplexer (matching answers) and a channel
adaptor that keeps the link up; :class:`Iso8583Session` is the last, over
:class:`~jamsostek_channels.transport.TcpTransport` (the first two). Its one job: a link that is
connected and signed on whenever a financial message is sent, and nothing else.

* **sign-on** (0800, DE70 ``001``) after every connect and when the switch answers
  ``sign-on-needed`` (:meth:`Iso8583Session.sign_on_needed`); **sign-off** (``002``) on
  :meth:`~Iso8583Session.close`.
* **echo when idle**: a keep-alive thread (a daemon: it never holds the process open) sends
  0800/``301`` after ``interval`` seconds without traffic on the link (the profile's
  ``timers.echo_idle`` unless given); never while a request is in flight (the link is busy, not
  idle). Its STAN comes from the same durable sequence as the payments', and it waits for its
  answer through the same in-flight matching, so it cannot take a payment's answer.
  After ``timers.missed_echoes`` unanswered echoes in a row (at least one) the link is held for
  dead: it is closed and opened again.
* **reconnect with backoff**: a link found lost (the switch restarted, a missed-echo close) is
  reopened by the keep-alive thread, waiting :func:`backoff_delay` between tries (capped
  exponential, jittered: terminals that lost the same switch do not all come back at once);
  it stops on :meth:`~Iso8583Session.close`. A caller that finds no link
  (:meth:`~Iso8583Session.ready`) tries itself too, at most ``timers.reconnect_attempts`` times
  and only while its own timer (``budget``) lasts, then gives up with
  :class:`~jamsostek_channels.errors.NotDelivered`: nothing of its message was written.

* **answering the switch**: a request the switch starts (the codec gives it no matching key)
  is answered at once, from the reader thread, with a frame that expects no answer
  (:meth:`~jamsostek_channels.transport.TcpTransport.write`): an echo (0800/``301``) with 0810
  DE39 ``00`` echoing DE7, DE11, DE41 and DE70; anything else (a sign-on or key exchange the
  library does not take part in, a DE70 it does not know, a financial request sent the wrong
  way) with the same elements and the profile's refusal code
  (:attr:`~.profile.Iso8583Profile.refusal_code`). A frame that is not even that is refused as
  before (the link closes); a failing answer is logged, never the reader's end.

The backoff is a small function rather than tenacity's ``Retrying``: the keep-alive thread must
not block in a retry loop (``close()`` interrupts its waits at once), so both paths share one
schedule, :func:`backoff_delay`, and each waits its own way.

Idle time and the backoff schedule are read from ``monotonic`` (``time.monotonic`` unless given:
tests inject a clock they move by hand), never from the wall clock. Logs
(``jamsostek_channels.transport``, events ``iso8583.echo`` and ``iso8583.reconnect``) name the
channel, counts and delays, never a byte of a message.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import cast

import attrs

from jamsostek_channels.adapters.iso8583.codec import MatchKey, is_request, match_key
from jamsostek_channels.adapters.iso8583.fields import TransmissionTime
from jamsostek_channels.adapters.iso8583.messages import (
    Message,
    NetworkCode,
    NetworkRequest,
    NetworkResponse,
)
from jamsostek_channels.adapters.iso8583.profile import Iso8583Profile, Timers
from jamsostek_channels.errors import MalformedMessage, NotDelivered, OutcomeUnknown
from jamsostek_channels.transport import TcpTransport, Timeouts

__all__ = ["Iso8583Session", "PeerRequest", "backoff_delay"]

_LOGGER_NAME = "jamsostek_channels.transport"
#: How long :meth:`Iso8583Session.close` waits for the keep-alive thread.
_JOIN_SECONDS = 2.0
#: The longest the keep-alive thread sleeps between looks at the link.
_MAX_TICK = 1.0
#: A sign-off never waits longer than this: closing must not hang on a silent switch.
_SIGN_OFF_WAIT = 2.0


@attrs.frozen
class PeerRequest:
    """A request the switch started: its elements as text (``"t"`` the MTI) and, when the
    family's types read it, the typed message. Never logged: it may carry personal data."""

    fields: Mapping[str, str] = attrs.field(repr=False)
    message: Message | None = attrs.field(default=None, repr=False)

    @property
    def mti(self) -> str:
        return self.fields.get("t", "")


#: What the session's transport reads: answers to its own requests, and the switch's requests.
Incoming = Message | PeerRequest


def backoff_delay(attempt: int, *, base: float, cap: float, jitter: float) -> float:
    """Seconds to wait after failed try number ``attempt`` (1, 2, ...): ``base`` doubled per
    try, at most ``cap``, then scaled by ``0.5 + jitter / 2`` (``jitter`` in [0, 1)), so a wait
    is never under half its step nor over the cap.

    >>> [backoff_delay(n, base=0.5, cap=4.0, jitter=1.0) for n in (1, 2, 3, 4, 5)]
    [0.5, 1.0, 2.0, 4.0, 4.0]
    >>> backoff_delay(3, base=0.5, cap=4.0, jitter=0.0)
    1.0
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    step = min(cap, base * 2.0 ** min(attempt - 1, 62))
    return step * (0.5 + min(max(jitter, 0.0), 1.0) / 2)


class Iso8583Session:
    """The link of terminal ``terminal_id`` to the switch at ``address`` under ``profile``
    (see the module's docstring).

    ``stan`` gives the next STAN (the journal's durable sequence, shared with the financial
    messages); ``now`` the DE7 to stamp; ``timers`` replace the profile's; ``interval`` the idle
    seconds before an echo (default ``timers.echo_idle``); ``monotonic`` the idle clock;
    ``sleep`` how a caller waits between its own reconnect tries; ``jitter`` a number in [0, 1)
    per wait; ``tick`` how often the keep-alive thread looks at the link (default: a quarter of
    the interval, at most a second).
    """

    def __init__(
        self,
        profile: Iso8583Profile,
        *,
        address: str,
        terminal_id: str,
        stan: Callable[[], int],
        now: Callable[[], TransmissionTime],
        timers: Timers | None = None,
        connect_timeout: float = 3.05,
        interval: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        tick: float | None = None,
        name: str | None = None,
    ) -> None:
        self.profile = profile
        self.name = name or profile.name
        self.terminal_id = terminal_id
        self.timers = timers or profile.timers
        self.interval = self.timers.echo_idle if interval is None else float(interval)
        if not self.interval > 0:
            raise ValueError("the echo interval must be > 0 seconds")
        self.tick = min(_MAX_TICK, self.interval / 4) if tick is None else tick
        self._codec = profile.codec()
        self.transport: TcpTransport[Incoming] = TcpTransport(
            address,
            self._decode,
            framing=profile.framing,
            timeouts=Timeouts(connect=connect_timeout, read=self.timers.payment_timeout),
            on_unmatched=self._unmatched,
            on_request=self._answer_peer,
            name=self.name,
        )
        self._stan = stan
        self._now = now
        self._monotonic = monotonic
        self._sleep = sleep
        self._jitter = jitter
        self._logger = logging.getLogger(_LOGGER_NAME)
        #: held while connecting and signing on (never while waiting between tries)
        self._open_lock = threading.Lock()
        #: one keep-alive step at a time (the thread's, or a test's :meth:`tend`)
        self._tend_lock = threading.Lock()
        #: starting and stopping the keep-alive thread (never held while waiting on the link)
        self._keeper_lock = threading.Lock()
        self._signed_on = False
        self._last_traffic = monotonic()
        self._missed = 0
        self._failed_tries = 0  # the keep-alive's reconnect tries since the link was lost
        self._next_try = 0.0
        self._stopping = threading.Event()
        self._keeper: threading.Thread | None = None
        #: Echoes sent, and those that went unanswered (for logs and tests).
        self.echoes_sent = 0
        self.echoes_missed = 0
        #: Links opened by the keep-alive thread after one was lost.
        self.reconnects = 0
        #: The switch's own requests, as ``(MTI, DE39 answered)``, in order.
        self.peer_requests: list[tuple[str, str]] = []

    def __repr__(self) -> str:
        return f"Iso8583Session(name={self.name!r}, address={self.transport.address!r})"

    @property
    def signed_on(self) -> bool:
        """Connected and signed on."""
        return self._signed_on and self.transport.connected

    @property
    def keeping_alive(self) -> bool:
        """Whether the keep-alive thread runs."""
        keeper = self._keeper
        return keeper is not None and keeper.is_alive()

    # --- for the adapter --------------------------------------------------------------------

    def ready(self, budget: float) -> None:
        """Connected and signed on, or :class:`NotDelivered` (nothing of the caller's message
        was written). Tries at most ``timers.reconnect_attempts`` times (at least once), waiting
        :func:`backoff_delay` between tries only while ``budget`` seconds last."""
        self._start_keeper()
        deadline = self._monotonic() + budget
        attempt = 0
        while True:
            attempt += 1
            try:
                self._open(max(0.0, deadline - self._monotonic()))
                return
            except NotDelivered:
                pause = self._backoff(attempt)
                last = attempt >= max(1, self.timers.reconnect_attempts)
                if last or self._monotonic() + pause >= deadline:
                    raise
            self._sleep(pause)

    def send(self, message: Message, *, timeout: float, reference: str | None = None) -> Message:
        """``message`` on the link and its answer (the transport's errors as they are)."""
        self._touch()
        try:
            answer = self.transport.send(
                self._codec.encode(message), match_key(message), reference=reference,
                timeout=timeout,
            )  # fmt: skip
        finally:
            self._touch()
        # Only answers carry a key (a peer's request never meets a waiting request).
        return cast(Message, answer)

    def sign_on_needed(self) -> None:
        """The switch answered ``sign-on-needed``: sign on before the next message."""
        with self._open_lock:
            self._signed_on = False

    def close(self) -> None:
        """Stop the keep-alive thread, sign off (``002``, best effort) and close the link."""
        with self._keeper_lock:
            self._stopping.set()
            keeper, self._keeper = self._keeper, None
        if keeper is not None and keeper is not threading.current_thread():
            keeper.join(_JOIN_SECONDS)
        with self._open_lock:
            if self.transport.connected and self._signed_on:
                # The link may go away meanwhile: then there is nothing to sign off from.
                with suppress(NotDelivered):
                    self.network(NetworkCode.SIGN_OFF, min(self.timers.inquiry_timeout, 2.0))
            self._signed_on = False
            self.transport.close()

    # --- the keep-alive ---------------------------------------------------------------------

    def tend(self) -> None:
        """One look at the link, as the keep-alive thread takes every ``tick``: reopen a lost
        link when its backoff has passed, else send an echo when the link has been idle for
        ``interval``, and hold the link for dead after too many unanswered."""
        with self._tend_lock:
            if self._stopping.is_set():
                return
            if not self.transport.connected:
                self._reopen()
                return
            if self.transport.in_flight:
                self._touch()  # busy, not idle
                return
            if self._monotonic() - self._last_traffic < self.interval:
                return
            self._echo()

    def _start_keeper(self) -> None:
        with self._keeper_lock:
            if self._keeper is not None:
                return
            self._stopping.clear()
            self._touch()
            self._keeper = threading.Thread(
                target=self._keep, name=f"iso8583-keepalive:{self.name}", daemon=True
            )
            self._keeper.start()

    def _keep(self) -> None:
        while not self._stopping.wait(self.tick):
            try:
                self.tend()
            except Exception as exc:  # a bug here must not end the keep-alive
                self._logger.error(
                    "iso8583.keepalive channel=%s error=%s",
                    self.name,
                    type(exc).__name__,
                    extra={"event": "iso8583.keepalive", "channel": self.name},
                )

    def _echo(self) -> None:
        self.echoes_sent += 1
        try:
            answer = self.network(NetworkCode.ECHO, min(self.timers.inquiry_timeout, self.interval))
        except NotDelivered:
            return  # the link went just now: the next look reopens it
        if answer is not None and answer.approved:
            self._missed = 0
            return
        self._missed += 1
        self.echoes_missed += 1
        self._log("iso8583.echo", "missed", missed=self._missed)
        if self._missed >= max(1, self.timers.missed_echoes):
            self._drop("missed-echoes")

    def _drop(self, why: str) -> None:
        """Hold the link for dead: close it; the next :meth:`tend` opens it again."""
        with self._open_lock:
            self._signed_on = False
            self.transport.close()
        self._missed = 0
        self._failed_tries = 0
        self._next_try = self._monotonic()
        self._log("iso8583.reconnect", why)

    def _reopen(self) -> None:
        if self._monotonic() < self._next_try:
            return
        try:
            self._open(self.timers.inquiry_timeout)
        except NotDelivered:
            self._failed_tries += 1
            pause = self._backoff(self._failed_tries)
            self._next_try = self._monotonic() + pause
            self._log("iso8583.reconnect", "failed", attempt=self._failed_tries, next_delay=pause)
            return
        self.reconnects += 1
        self._failed_tries = 0
        self._log("iso8583.reconnect", "reconnected")

    # --- the link ---------------------------------------------------------------------------

    def _open(self, wait: float) -> None:
        """Connect and sign on unless done; waits at most ``wait`` for another thread doing it."""
        if not self._open_lock.acquire(timeout=max(wait, 0.001)):
            raise NotDelivered("transport.not_delivered", {"reason": "connecting"})
        try:
            if not self.transport.connected:
                self._signed_on = False
                self.transport.connect()
                self._missed = 0
            if not self._signed_on:
                answer = self.network(NetworkCode.SIGN_ON, self.timers.inquiry_timeout)
                if answer is None or not answer.approved:
                    raise NotDelivered("transport.not_delivered", {"reason": "sign-on refused"})
                self._signed_on = True
        finally:
            self._open_lock.release()

    def network(self, code: NetworkCode, timeout: float) -> NetworkResponse | None:
        """An 0800 and its 0810 (``None``: unanswered; the link may be closed then)."""
        request = NetworkRequest(
            code=code, transmitted=self._now(), stan=self._stan(), terminal=self.terminal_id
        )
        try:
            answer = self.send(request, timeout=timeout, reference=f"0800/{code.value}")
        except OutcomeUnknown:
            return None
        return answer if isinstance(answer, NetworkResponse) else None

    def _decode(self, frame: bytes) -> tuple[MatchKey | None, Incoming]:
        """The transport's reader: an answer under its key, or the switch's own request (no
        key) as a :class:`PeerRequest`, its elements kept to answer it with. A request the
        family's types refuse (an unknown DE70) is still answered, with a refusal."""
        try:
            key, message = self._codec.decode_keyed(frame)
        except MalformedMessage:
            fields = self._codec.peek(frame)
            if fields is None or not is_request(fields.get("t", "")):
                raise
            return None, PeerRequest(fields)
        if key is None:
            return None, PeerRequest(self._codec.peek(frame) or {"t": message.mti}, message)
        return key, message

    def _answer_peer(self, incoming: Incoming) -> None:
        """Answer the switch's own request (see the module's docstring), on the reader thread."""
        self._touch()
        if not isinstance(incoming, PeerRequest):  # only the session's own decode feeds this
            return
        message = incoming.message
        if isinstance(message, NetworkRequest) and message.code is NetworkCode.ECHO:
            code = "00"
            answer = self._codec.encode(
                NetworkResponse(
                    code=message.code,
                    transmitted=message.transmitted,
                    stan=message.stan,
                    response_code=code,
                    terminal=message.terminal,
                )
            )
        else:
            code = self.profile.refusal_code
            answer = self._codec.refusal(incoming.fields, code)
        self.peer_requests.append((incoming.mti, code))
        outcome = "answered" if code == "00" else "refused"
        self._logger.info(
            "iso8583.peer channel=%s mti=%s outcome=%s",
            self.name,
            incoming.mti,
            outcome,
            extra={"event": "iso8583.peer", "channel": self.name, "outcome": outcome},
        )
        with suppress(NotDelivered):  # the link went meanwhile: the switch asks again
            self.transport.write(answer, reference=f"{incoming.mti}/peer")

    def _unmatched(self, _message: Incoming) -> None:
        """A frame no request waits for (a late answer): traffic all the same."""
        self._touch()
        self._logger.warning(
            "tcp.unmatched channel=%s: an answer no request waits for (late?) dropped",
            self.name,
            extra={"event": "tcp.unmatched", "channel": self.name},
        )

    def _touch(self) -> None:
        self._last_traffic = self._monotonic()

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(
            attempt,
            base=self.timers.reconnect_backoff,
            cap=self.timers.reconnect_backoff_max,
            jitter=self._jitter(),
        )

    def _log(self, event: str, outcome: str, **details: float) -> None:
        text = " ".join(f"{key}={value:g}" for key, value in details.items())
        self._logger.warning(
            "%s channel=%s outcome=%s%s",
            event,
            self.name,
            outcome,
            f" {text}" if text else "",
            extra={"event": event, "channel": self.name, "outcome": outcome, **details},
        )
