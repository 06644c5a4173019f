"""The sandbox: the fake BPJS host and every built channel's fake gateway on one loopback port.

Teams in other languages point their client at it; the CLI's ``sandbox`` command runs it, the
demo and the crash tests embed it. Layout of the one server::

    /<channel>/...          the channel's gateway (e.g. /linkaja/v1.0/transfer-va/inquiry)
    /control/...            the control API (JSON): reset, seed, faults, ledger, OTPs, clock

The info file describes it: per channel ``base_url`` and the test credentials, the demo
participants, and ``control_url``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

from jamsostek_channels.clock import Clock
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

__all__ = ["GATEWAYS", "IN_PROCESS_URL", "Sandbox", "SandboxChannel"]

#: Where an in-process sandbox answers (through ``responses``; nothing listens there).
IN_PROCESS_URL = "https://bpjs.sandbox.test"

#: Channel name -> "module:function" building its fake gateway:
#: ``f(host, prefix, faults) -> (gateway, credentials)``. A channel joins the sandbox by adding a
#: line here.
GATEWAYS: Mapping[str, str] = {
    "linkaja": "jamsostek_channels.testing.snap_biller:linkaja_gateway",
    "bni-agen46": "jamsostek_channels.testing.snap_biller:bni_agen46_gateway",
    "kantorpos": "jamsostek_channels.testing.kantorpos_gateway:kantorpos_gateway",
}

#: The credential fields every channel entry of the info file has (null when unused).
INFO_FIELDS = (
    "base_url",
    "client_id",
    "client_secret",
    "private_key_pem",
    "partner_id",
    "partner_service_id",
    "channel_id",
    "agent_id",  # the agent (or teller) id a client sends where the channel needs one
)


@attrs.define
class SandboxChannel:
    name: str
    prefix: str
    gateway: Gateway
    credentials: dict[str, Any]


_Builder = Callable[[FakeHost, str, Faults], tuple[Gateway, dict[str, Any]]]


def _builder(spec: str) -> _Builder:
    module, _, function = spec.partition(":")
    builder: _Builder = getattr(importlib.import_module(module), function)
    return builder


def _json(status: int, document: object) -> WireResponse:
    return WireResponse.json(status, json.dumps(document, ensure_ascii=False).encode("utf-8"))


class Sandbox:
    """The fake host with every built channel's gateway, served on 127.0.0.1."""

    def __init__(
        self,
        *,
        port: int = 0,
        seed: int = 0,
        demo: int = 12,
        channels: tuple[str, ...] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.host = FakeHost(seed=seed, clock=clock)
        self.faults = Faults()
        self._demo = demo
        self.demo_participants: list[dict[str, str]] = []
        self.channels: dict[str, SandboxChannel] = {}
        for name in channels or tuple(GATEWAYS):
            prefix = f"/{name}"
            gateway, credentials = _builder(GATEWAYS[name])(self.host, prefix, self.faults)
            self.channels[name] = SandboxChannel(name, prefix, gateway, credentials)
        self._port = port
        self.stats: dict[str, float] = {"gateway_seconds": 0.0, "gateway_requests": 0}
        self.server: LoopbackServer | None = None
        self._mock: Any = None
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
        return self

    def stop(self) -> None:
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
        none is given; :meth:`stop` stops it."""
        import responses

        if mock is None:
            mock = responses.RequestsMock(assert_all_requests_are_fired=False)
            mock.start()
            self._mock = mock
        install(mock, IN_PROCESS_URL, self.dispatch, self.faults)
        return mock

    def client(
        self,
        name: str,
        *,
        journal: Any = ":memory:",
        clock: Clock | None = None,
        **options: Any,
    ) -> Any:
        """A :class:`~jamsostek_channels.client.Client` for channel ``name`` wired to this
        sandbox with its test credentials (and an agent id where the channel needs one).

        The client, its journal and its adapter read ``clock``; by default the host's own
        (:meth:`FakeHost.now`), so moving the host's time moves theirs too. ``timeouts`` and
        ``transport`` (e.g. one with ``log_bodies=True``) go to the adapter; the other options
        to the client."""
        from jamsostek_channels.adapters import open_adapter
        from jamsostek_channels.client import Client
        from jamsostek_channels.journal import Journal

        clock = clock or self.host.now
        if not isinstance(journal, Journal):
            journal = Journal(journal, clock=clock)
        settings = self.info()["channels"][name]
        adapter_options = {k: options.pop(k) for k in ("timeouts", "transport") if k in options}
        adapter = open_adapter(name, settings, journal=journal, clock=clock, **adapter_options)
        if adapter.capabilities.agent_id_required:
            # The channel's own kind of agent id (a post-office teller, a bank agent).
            options.setdefault("agent_id", settings["agent_id"])
        return Client(adapter, journal=journal, clock=clock, **options)

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
            entry = {field: channel.credentials.get(field) for field in INFO_FIELDS}
            entry["base_url"] = self.base_url + channel.prefix
            channels[name] = entry
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
        self.seed_demo()

    # Control API --------------------------------------------------------------------------------

    def _control(self, request: WireRequest, path: str) -> WireResponse:
        action = path.removeprefix("/control/").strip("/")
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        try:
            body: dict[str, Any] = json.loads(request.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            return self._control_action(request.method, action, body, query)
        except (ValueError, KeyError, TypeError) as error:
            return _json(400, {"error": type(error).__name__, "detail": str(error)[:200]})

    def _control_action(
        self, method: str, action: str, body: dict[str, Any], query: dict[str, str]
    ) -> WireResponse:
        if method == "POST" and action == "reset":
            self.reset()
            return _json(200, {"ok": True, "participants": self.demo_participants})
        if method == "POST" and action == "seed":
            self._demo = int(body.get("demo", self._demo))
            self.seed_demo()
            return _json(200, {"ok": True, "participants": self.demo_participants})
        if action == "faults":
            if method == "DELETE":
                self.faults.clear()
                return _json(200, {"ok": True})
            if method == "POST":
                channel = str(body.get("channel", ""))
                if channel and channel not in self.channels:
                    raise ValueError(f"unknown channel {channel!r}")
                fault = self.faults.inject(
                    FaultKind(str(body["kind"])),
                    match=str(body.get("match", "")),
                    prefix=f"/{channel}/" if channel else "",
                    times=int(body.get("times", 1)),
                    seconds=float(body.get("seconds", 0.0)),
                    status=int(body.get("status", 500)),
                )
                return _json(200, {"ok": True, "fault": attrs.asdict(fault)})
            return _json(200, {"faults": self.faults.describe()})
        if method == "GET" and action == "ledger":
            return _json(200, {"ledger": [_ledger_json(e) for e in self.host.ledger()]})
        if method == "GET" and action == "participants":
            return _json(200, {"participants": self._participants()})
        if method == "GET" and action == "otp":
            return _json(200, {"otp": self.host.last_otp(query["phone"])})
        if method == "GET" and action == "stats":
            return _json(200, self.stats)
        if method == "POST" and action == "echo":
            return _json(200, {})
        if method == "POST" and action == "clock":
            moment = self.host.advance(dt.timedelta(seconds=float(body.get("advance_seconds", 0))))
            return _json(200, {"now": moment.isoformat()})
        return _json(404, {"error": "no such control action"})

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


def _ledger_json(entry: Any) -> dict[str, Any]:
    from jamsostek_channels.converters import unstructure

    document: dict[str, Any] = unstructure(entry)
    document.pop("nik", None)  # the control API never shows a full NIK
    return document
