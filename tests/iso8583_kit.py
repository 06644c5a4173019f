"""What the ISO 8583 tests share: a profile's switch on a free loopback port over the fake host
(``conftest.host``), and clients of a switch opened as a deployment opens them
(``connect`` through the registry). Loaded by ``conftest.py``; a test module overrides
``timers`` (or ``host``) where it needs others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from test_client import Clock

from jamsostek_channels import connect
from jamsostek_channels.adapters.iso8583 import Timers
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.client import Client
from jamsostek_channels.testing.host import FakeHost

__all__ = ["AGENT", "PROFILES", "TERMINALS", "clients", "switches", "timers"]

PROFILES = ("brilink", "indomaret", "alfamart")
#: Each profile's terminal (DE41): 8 characters at BRILink and Alfamart, 16 at Indomaret.
TERMINALS = {"brilink": "BRI00001", "indomaret": "IDM-T001-0042", "alfamart": "ALF00001"}
#: The BRILink agent (DE42).
AGENT = "AGEN-0042"


@pytest.fixture
def timers() -> Timers:
    """The clients' timers: short for a fast suite, long enough for a loaded machine."""
    return Timers(inquiry_timeout=3, payment_timeout=3)


@pytest.fixture
def switches(host: FakeHost) -> Iterator[Callable[..., FakeSwitch]]:
    """Starts a profile's switch (``port``: a given one, e.g. again after a restart); every one
    started is stopped afterwards."""
    started: list[FakeSwitch] = []

    def start(name: str = "brilink", *, port: int = 0) -> FakeSwitch:
        switch = FakeSwitch(host, name, port=port, idle_timeout=10).start()
        started.append(switch)
        return switch

    yield start
    for switch in started:
        switch.stop()


@pytest.fixture
def clients(clock: Clock, tmp_path: Path, timers: Timers) -> Iterator[Callable[..., Client]]:
    """Opens a client of a switch through the registry; closed afterwards. ``journal``: a path,
    or a name for a file of its own (default: one file per profile); ``settings`` added to the
    channel's; ``options`` go to ``connect``."""
    opened: list[Client] = []

    def open_client(
        switch: FakeSwitch,
        journal: Path | str | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Client:
        name = switch.profile.name
        given: dict[str, Any] = {"base_url": switch.address, "terminal_id": TERMINALS[name]}
        if name == "brilink":
            given["agent_id"] = AGENT
        if isinstance(journal, str):
            journal = tmp_path / f"{name}-{journal}.sqlite"
        options.setdefault("timers", timers)
        client = connect(
            name,
            {**given, **(settings or {})},
            journal=journal or tmp_path / f"{name}.sqlite",
            clock=clock,
            sleep=lambda _: None,
            **options,
        )
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()
