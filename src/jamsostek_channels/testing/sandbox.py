"""The sandbox: the fake BPJS host and every installed channel's fake gateway on one loopback
port, and every fake that listens itself (an ISO 8583 switch) on a loopback TCP port of its own.

Teams in other languages point their client at it; the CLI's ``sandbox`` command runs it, the
demo and the crash tests embed it. The channels and their fakes come from the registry
(:mod:`jamsostek_channels.registry`: every spec with a ``fake``). Layout of the one server::

    /<channel>/...          the channel's fake gateway (its own paths, e.g. /<channel>/v1.0/...)
    /control/...            the control API (JSON): reset, seed, faults, ledger, OTPs, clock,
                            and any faked channel's settlement file for a day

A channel whose spec gives a ``fake_server`` (:class:`~jamsostek_channels.registry.FakeServer`)
is not routed there: its fake listens on 127.0.0.1 on a port of its own, over the same fake host
and fault knobs (so the control API's ledger, clock, OTPs, faults, reset and seed cover it), from
:meth:`Sandbox.start` or :meth:`Sandbox.install` (a TCP client cannot go through ``responses``)
until :meth:`Sandbox.stop`.

The info file describes it: per channel its settings (``base_url`` and the test credentials, in
the channel's own settings shape; ``tcp://127.0.0.1:PORT`` for a listening fake, listed while it
listens), the demo participants, and ``control_url``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import attrs

from jamsostek_channels import registry
from jamsostek_channels.clock import Clock
from jamsostek_channels.errors import JamsostekError, UnknownChannel
from jamsostek_channels.rules import RuleSet
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.wire import (
    FaultKind,
    Faults,
    Gateway,
    LoopbackServer,
    WireRequest,
    WireResponse,
    install,
)

if TYPE_CHECKING:
    from jamsostek_channels.client import Client
    from jamsostek_channels.journal import JournalStore
    from jamsostek_channels.registry import FakeServer, FakeServerFactory

__all__ = [
    "IN_PROCESS_URL",
    "ControlError",
    "Sandbox",
    "SandboxChannel",
    "SandboxServer",
    "faked_channels",
]

#: Where an in-process sandbox answers (through ``responses``; nothing listens there).
IN_PROCESS_URL = "https://bpjs.sandbox.test"


def faked_channels() -> tuple[str, ...]:
    """The installed channels that have a fake gateway: the ones a sandbox serves."""
    return tuple(spec.name for spec in registry.channels() if spec.faked)


@attrs.define
class SandboxChannel:
    name: str
    #: The path the sandbox routes to the gateway: ``/<name>``.
    prefix: str
    gateway: Gateway
    #: The settings a client needs, but ``base_url``.
    credentials: dict[str, Any]
    #: The path under the sandbox's root of the channel's ``base_url``.
    base_path: str


@attrs.define
class SandboxServer:
    """A channel whose fake listens itself: built and started when the sandbox serves."""

    name: str
    factory: FakeServerFactory
    #: The running fake and a client's settings but ``base_url``; ``None`` while not serving.
    server: FakeServer | None = None
    credentials: dict[str, Any] = attrs.Factory(dict)


def _json(status: int, document: object) -> WireResponse:
    return WireResponse.json(status, json.dumps(document, ensure_ascii=False).encode("utf-8"))


class Sandbox:
    """The fake host with every built channel's gateway, served on 127.0.0.1. ``rules``: the
    host's rule set (default: the packaged rules), which its clients apply too."""

    def __init__(
        self,
        *,
        port: int = 0,
        seed: int = 0,
        demo: int = 12,
        channels: tuple[str, ...] | None = None,
        clock: Clock | None = None,
        rules: RuleSet | None = None,
    ) -> None:
        self.host = FakeHost(seed=seed, clock=clock, rules=rules)
        self.faults = Faults()
        self._demo = demo
        self.demo_participants: list[dict[str, str]] = []
        self.channels: dict[str, SandboxChannel] = {}
        self.servers: dict[str, SandboxServer] = {}
        for name in channels or faked_channels():
            spec = registry.spec(name)
            if spec.fake_server is not None:
                self.servers[name] = SandboxServer(name, spec.fake_server)
                continue
            if spec.fake is None:
                raise UnknownChannel(name, faked_channels())
            base_path = spec.mount if spec.sandbox_path is None else spec.sandbox_path
            gateway, credentials = spec.fake(self.host, base_path, self.faults)
            self.channels[name] = SandboxChannel(
                name, spec.mount, gateway, dict(credentials), base_path
            )
        self._port = port
        self.stats: dict[str, float] = {"gateway_seconds": 0.0, "gateway_requests": 0}
        self.server: LoopbackServer | None = None
        self._mock: Any = None
        #: The clients :meth:`client` built, their links closed by :meth:`stop` (held here: a
        #: client a test dropped may still have a keep-alive thread running).
        self._clients: list[Client] = []
        self.seed_demo()

    # Serving ------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The loopback server's URL once started; before that, the in-process address that
        :meth:`install` serves through ``responses``."""
        return self.server.base_url if self.server is not None else IN_PROCESS_URL

    def start(self) -> Sandbox:
        """Serve on 127.0.0.1 (``port=0``: a free port)."""
        self.server = LoopbackServer(self.dispatch, faults=self.faults, port=self._port)
        self.server.start()
        self._listen()
        return self

    def _listen(self) -> None:
        """Build and start every fake that listens itself (each on a free loopback port)."""
        for entry in self.servers.values():
            if entry.server is None:
                server, credentials = entry.factory(self.host, entry.name, self.faults)
                server.start()
                entry.server, entry.credentials = server, dict(credentials)

    def stop(self) -> None:
        """Stop serving. The links of the clients :meth:`client` built are closed first (a
        switch's client keeps a session with a keep-alive thread; its journal stays open: the
        caller may still read it)."""
        for client in self._clients:
            client.adapter.close()
        self._clients.clear()
        for entry in self.servers.values():
            if entry.server is not None:
                entry.server.stop()
                entry.server = None
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock.reset()
            self._mock = None

    def install(self, mock: Any = None) -> Any:
        """Serve in-process: every ``requests`` call to :data:`IN_PROCESS_URL` reaches the
        sandbox through ``responses`` (no socket). Starts and returns a ``RequestsMock`` when
        none is given; :meth:`stop` stops it. Needs ``responses``, which the ``testing`` extra
        brings (``pip install 'jamsostek-channels[testing]'``)."""
        try:
            import responses
        except ImportError:
            raise ImportError(
                "the in-process sandbox needs 'responses': "
                "pip install 'jamsostek-channels[testing]' (or serve it on a socket: "
                "Sandbox.start(), the jamsostek_server fixture)",
                name="responses",
            ) from None

        if mock is None:
            mock = responses.RequestsMock(assert_all_requests_are_fired=False)
            mock.start()
            self._mock = mock
        install(mock, IN_PROCESS_URL, self.dispatch, self.faults)
        self._listen()
        return mock

    def client(
        self,
        name: str,
        *,
        journal: JournalStore | str | os.PathLike[str] = ":memory:",
        clock: Clock | None = None,
        **options: Any,
    ) -> Client:
        """A :class:`~jamsostek_channels.client.Client` for channel ``name`` (one this sandbox
        serves: :class:`~jamsostek_channels.errors.UnknownChannel` otherwise) wired to this
        sandbox with its test settings, through :func:`jamsostek_channels.connect` (an agent id
        where the channel needs one; ``journal`` a path, a URL or an open store).

        The client, its journal and its adapter read ``clock``; by default the host's own
        (:meth:`FakeHost.now`), so moving the host's time moves theirs too. The client applies
        the host's rule set unless given ``rules=``. Options the client does not take
        (``timeouts``, ``transport``: e.g. one with ``log_bodies=True``) go to the adapter."""
        from jamsostek_channels.connection import connect

        if name not in self.channels and name not in self.servers:
            raise UnknownChannel(name, (*self.channels, *self.servers))
        settings = self.info()["channels"].get(name)
        if settings is None:
            raise RuntimeError(
                f"the sandbox's {name} fake listens once the sandbox serves: start() or install()"
            )
        server = self.servers[name].server if name in self.servers else None
        if server is not None:
            settings = {**settings, **server.client_settings()}
        options.setdefault("rules", self.host.rules)
        client = connect(name, settings, journal=journal, clock=clock or self.host.now, **options)
        self._clients.append(client)
        return client

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dispatch(self, request: WireRequest) -> WireResponse:
        path = urlsplit(request.path).path
        if path.startswith("/control/"):
            return self._control(request, path)
        for channel in self.channels.values():
            if path.startswith(channel.prefix + "/"):
                started = time.perf_counter()
                try:
                    return channel.gateway(request)
                finally:
                    # Server-side work, for benchmarks that separate it from the client's.
                    self.stats["gateway_seconds"] += time.perf_counter() - started
                    self.stats["gateway_requests"] += 1
        return _json(404, {"error": "no such channel"})

    def info(self) -> dict[str, Any]:
        """The info-file document."""
        channels = {}
        for name, channel in self.channels.items():
            channels[name] = {"base_url": self.base_url + channel.base_path, **channel.credentials}
        for name, entry in self.servers.items():
            if entry.server is not None:
                channels[name] = {"base_url": entry.server.address, **entry.credentials}
        return {
            "channels": channels,
            "participants": self.demo_participants,
            "control_url": self.base_url + "/control",
        }

    def write_info(self, path: str | Path) -> None:
        """Write the info file atomically: readers never see a half-written one."""
        target = Path(path)
        fd, temporary = tempfile.mkstemp(dir=target.parent or ".", prefix=".sandbox-info-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.info(), handle, ensure_ascii=False, indent=2)
        os.replace(temporary, target)

    # State --------------------------------------------------------------------------------------

    def seed_demo(self) -> None:
        self.demo_participants = [
            {"nik": participant.nik, "kpj": kpj, "name": participant.name}
            for participant, kpj in self.host.seed_demo(self._demo)
        ]

    def reset(self) -> None:
        self.host.reset()
        self.faults.clear()
        for channel in self.channels.values():
            # A gateway that keeps state of its own (issued tokens, used ids) exposes reset()
            # on the object whose bound method it is.
            reset = getattr(getattr(channel.gateway, "__self__", None), "reset", None)
            if callable(reset):
                reset()
        for entry in self.servers.values():
            if entry.server is not None:
                entry.server.reset()
        self.seed_demo()

    # Control API --------------------------------------------------------------------------------

    def _control(self, request: WireRequest, path: str) -> WireResponse:
        action = path.removeprefix("/control/").strip("/")
        methods = _CONTROL.get(action)
        if methods is None:
            return _json(404, {"error": "unknown_action", "detail": "no such control action"})
        fields = methods.get(request.method.upper())
        if fields is None:
            response = _json(
                405, {"error": "method_not_allowed", "detail": f"{action} takes {sorted(methods)}"}
            )
            return WireResponse(
                response.status, response.body, {**response.headers, "allow": ", ".join(methods)}
            )
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        try:
            body = {} if action == "echo" else _control_body(request.body, fields)
            return self._control_action(request.method.upper(), action, body, query)
        except ControlError as error:
            document = {"error": error.code, "detail": error.detail}
            if error.field is not None:
                document["field"] = error.field
            return _json(400, document)

    def _control_action(
        self, method: str, action: str, body: dict[str, Any], query: dict[str, str]
    ) -> WireResponse:
        """One checked control request (``body`` holds only the action's fields)."""
        if action == "reset":
            self.reset()
            return _json(200, {"ok": True, "participants": self.demo_participants})
        if action == "seed":
            self._demo = _integer(body, "demo", self._demo, 0, MAX_DEMO)
            self.seed_demo()
            return _json(200, {"ok": True, "participants": self.demo_participants})
        if action == "faults" and method == "DELETE":
            self.faults.clear()
            return _json(200, {"ok": True})
        if action == "faults" and method == "POST":
            return _json(200, {"ok": True, "fault": attrs.asdict(self._inject(body))})
        if action == "faults":
            return _json(200, {"faults": self.faults.describe()})
        if action == "ledger":
            return _json(200, {"ledger": [_ledger_json(e) for e in self.host.ledger()]})
        if action == "participants":
            return _json(200, {"participants": self._participants()})
        if action == "otp":
            return _json(200, {"otp": self._last_otp(query)})
        if action == "stats":
            return _json(200, self.stats)
        if action == "echo":
            return _json(200, {})
        if action == "settlement":
            return self._settlement(query)
        seconds = _number(body, "advance_seconds", 0.0, -MAX_CLOCK_SECONDS, MAX_CLOCK_SECONDS)
        delta = dt.timedelta(seconds=seconds)  # action == "clock"
        if not CLOCK_YEARS[0] <= (self.host.now() + delta).year <= CLOCK_YEARS[1]:
            # steps add up: many ten-year steps must not walk the host off the calendar
            detail = f"the host's clock must stay within the years {CLOCK_YEARS}"
            raise ControlError("out_of_range", detail, "advance_seconds")
        moment = self.host.advance(delta)
        return _json(200, {"now": moment.isoformat()})

    def _inject(self, body: dict[str, Any]) -> Any:
        if "kind" not in body:
            raise ControlError("missing_field", "kind is required", "kind")
        kind = _text(body, "kind", "", 20)
        if kind not in {k.value for k in FaultKind}:
            raise ControlError(
                "unknown_fault_kind", f"kind must be one of {[k.value for k in FaultKind]}", "kind"
            )
        channel = _text(body, "channel", "", 100)
        served = sorted((*self.channels, *self.servers))
        if channel and channel not in served:
            raise ControlError("unknown_channel", f"channel must be one of {served}", "channel")
        return self.faults.inject(
            FaultKind(kind),
            match=_text(body, "match", "", MAX_MATCH),
            prefix=f"/{channel}/" if channel else "",
            times=_integer(body, "times", 1, 1, MAX_FAULT_TIMES),
            seconds=_number(body, "seconds", 0.0, 0.0, MAX_DELAY_SECONDS),
            status=_integer(body, "status", 500, 100, 599),
        )

    def _settlement(self, query: Mapping[str, str]) -> WireResponse:
        """A faked channel's end-of-day settlement file for ``?day=``: its bytes as the channel
        writes them, its file name in ``Content-Disposition``. Offered by a fake (a listening
        server, or the object a gateway is a bound method of) that is a
        :class:`~jamsostek_channels.registry.SettlementFiles`."""
        from jamsostek_channels.registry import SettlementFiles

        name = query.get("channel", "")
        if not name:
            raise ControlError("missing_query", "?channel= is required", "channel")
        served = sorted((*self.channels, *self.servers))
        if name not in served:
            raise ControlError("unknown_channel", f"channel must be one of {served}", "channel")
        day = _day(query)
        fake: object = None
        if name in self.servers:
            fake = self.servers[name].server
        else:
            fake = getattr(self.channels[name].gateway, "__self__", None)
        if not isinstance(fake, SettlementFiles):
            detail = f"{name}'s fake writes no settlement file here (its own API may serve one)"
            raise ControlError("no_settlement_file", detail, "channel")
        file_name = fake.settlement_name(day)
        headers = {
            "content-type": "application/octet-stream",
            "content-disposition": f'attachment; filename="{file_name}"',
        }
        return WireResponse(200, fake.settlement_file(day), headers)

    def _last_otp(self, query: Mapping[str, str]) -> str:
        phone = query.get("phone", "")
        if not phone:
            raise ControlError("missing_query", "?phone= is required", "phone")
        try:
            return self.host.last_otp(phone)
        except (KeyError, ValueError, JamsostekError):
            raise ControlError("no_otp", "no OTP was sent to that phone", "phone") from None

    def _participants(self) -> list[dict[str, Any]]:
        out = []
        for entry in self.demo_participants:
            state = self.host.participant(entry["nik"])
            if state is None:
                continue
            out.append(
                {
                    **entry,
                    "registered": str(state.registered),
                    "paid": sorted(str(m) for m in state.paid),
                    "coverage": self.host.coverage(entry["nik"]).state.value,
                }
            )
        return out


# Control API inputs -----------------------------------------------------------------------------

#: Bounds of the control API's numbers: sane for a test tool, and far from the values that make
#: ``timedelta`` or ``datetime`` overflow.
MAX_DEMO = 500
MAX_FAULT_TIMES = 1_000_000
MAX_DELAY_SECONDS = 600.0
MAX_CLOCK_SECONDS = 10 * 366 * 86_400.0  # ten years either way
MAX_MATCH = 1_000
CLOCK_YEARS = (2000, 2199)

#: action -> method -> the body fields it takes.
_CONTROL: Mapping[str, Mapping[str, frozenset[str]]] = {
    "reset": {"POST": frozenset()},
    "seed": {"POST": frozenset({"demo"})},
    "faults": {
        "GET": frozenset(),
        "POST": frozenset({"kind", "channel", "match", "times", "seconds", "status"}),
        "DELETE": frozenset(),
    },
    "ledger": {"GET": frozenset()},
    "participants": {"GET": frozenset()},
    "otp": {"GET": frozenset()},
    "stats": {"GET": frozenset()},
    "echo": {"POST": frozenset()},  # any body: a floor for benchmarks
    "settlement": {"GET": frozenset()},
    "clock": {"POST": frozenset({"advance_seconds"})},
}


class ControlError(Exception):
    """A control request refused: HTTP 400 ``{"error": code, "detail": ..., "field": ...}``."""

    def __init__(self, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.field = field


def _control_body(raw: bytes, fields: frozenset[str]) -> dict[str, Any]:
    """The request body: empty, or a JSON object with only the action's fields."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested too deep for the parser
        raise ControlError("not_json", "the body must be JSON (UTF-8)") from None
    if not isinstance(body, dict):
        raise ControlError("not_object", "the body must be a JSON object")
    for name in body:
        if name not in fields:
            detail = f"{name[:40]!r} is not a field here; fields: {sorted(fields)}"
            raise ControlError("unknown_field", detail, name[:40])
    return body


def _integer(body: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):  # true is not 1 here
        raise ControlError("wrong_type", f"{name} must be an integer", name)
    if not low <= value <= high:
        raise ControlError("out_of_range", f"{name} must be {low}..{high}", name)
    return value


def _number(body: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError("wrong_type", f"{name} must be a number", name)
    # isfinite first for floats (NaN, 1e400); an int too big for a float fails the bounds
    if (isinstance(value, float) and not math.isfinite(value)) or not low <= value <= high:
        raise ControlError("out_of_range", f"{name} must be a finite number in {low}..{high}", name)
    return float(value)


def _text(body: Mapping[str, Any], name: str, default: str, max_length: int) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise ControlError("wrong_type", f"{name} must be a string", name)
    if len(value) > max_length:
        raise ControlError("out_of_range", f"{name} must be at most {max_length} characters", name)
    return value


def _day(query: Mapping[str, str]) -> dt.date:
    """``?day=YYYY-MM-DD``: a calendar date within the host's clock's years."""
    text = query.get("day", "")
    if not text:
        raise ControlError("missing_query", "?day= is required (YYYY-MM-DD)", "day")
    try:
        if len(text) != len("YYYY-MM-DD"):
            raise ValueError(text)
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ControlError("not_a_date", "day must be a date, YYYY-MM-DD", "day") from None
    if not CLOCK_YEARS[0] <= day.year <= CLOCK_YEARS[1]:
        raise ControlError("out_of_range", f"day must be within the years {CLOCK_YEARS}", "day")
    return day


def _ledger_json(entry: Any) -> dict[str, Any]:
    from jamsostek_channels.converters import unstructure

    document: dict[str, Any] = unstructure(entry)
    document.pop("nik", None)  # the control API never shows a full NIK
    return document
