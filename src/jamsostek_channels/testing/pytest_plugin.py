"""pytest fixtures for testing code that uses jamsostek-channels, registered through the
``pytest11`` entry point (installed with the package: nothing to configure).

* ``jamsostek_host`` - a fresh :class:`~jamsostek_channels.testing.FakeHost` (empty);
* ``jamsostek_sandbox`` - the fake host with the fake gateway of every installed channel that
  has one (the registry's, :mod:`jamsostek_channels.registry`), served in-process through
  ``responses`` (no socket) and seeded with demo participants;
  ``jamsostek_sandbox.client(name)`` gives a ready :class:`~jamsostek_channels.client.Client` for
  one of ``jamsostek_sandbox.channels``, ``jamsostek_sandbox.faults.inject("drop",
  match="transfer-va/payment")`` breaks the next SNAP payment;
* ``jamsostek_server`` - the same, served for real on a free loopback port (for code that is not
  built on ``requests``, or to test timeouts against a real socket);
* ``jamsostek_sandbox_factory`` - builds sandboxes with other settings in one test
  (``jamsostek_sandbox_factory(seed=3, today="2027-01-31", participants=40,
  channels=["mybank"], passthru=["http://localhost:8080"])``), each stopped at teardown;
* ``jamsostek_contract_sandbox`` and ``jamsostek_channel`` - what the channel contract
  (:class:`~jamsostek_channels.testing.contract.ChannelContract`) runs against: subclass it and
  override ``jamsostek_channel`` to run it against your channel.

A project sets the defaults every fixture reads in its pytest configuration (``[tool.pytest.ini_
options]``, ``pytest.ini``, ``setup.cfg``)::

    jamsostek_seed = 7                # the fake host's seed: who the demo participants are
    jamsostek_today = 2026-11-22      # the day the fake host starts at (09:00 WIB); its clock
                                      # then runs on. Empty: the wall clock
    jamsostek_participants = 12       # demo participants seeded in a sandbox (0-500)
    jamsostek_channels = mybank otherbank   # the channels a sandbox serves; empty: all
    jamsostek_passthru = http://localhost:8080   # prefixes the in-process mock lets through

``passthru`` is what ``responses`` offers (``RequestsMock.add_passthru``): requests to those URL
prefixes (text, or compiled patterns given to the factory) reach the network; any other request
the sandbox does not answer is refused by the mock.

This module imports nothing heavy at load time, so it costs nothing in test runs that do not use
the fixtures.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import attrs
import pytest

from jamsostek_channels.clock import JAKARTA, Clock
from jamsostek_channels.testing.contract import jamsostek_channel, jamsostek_contract_sandbox

if TYPE_CHECKING:
    from jamsostek_channels.testing.host import FakeHost
    from jamsostek_channels.testing.sandbox import Sandbox

__all__ = [
    "SandboxFactory",
    "SandboxOptions",
    "clock_starting",
    "jamsostek_channel",
    "jamsostek_contract_sandbox",
    "jamsostek_host",
    "jamsostek_sandbox",
    "jamsostek_sandbox_factory",
    "jamsostek_server",
    "pytest_addoption",
    "pytest_configure",
]

#: The hour of "today" a fake host starts at: inside every channel's business day.
START_HOUR = dt.time(9)
#: What the demo participants are when no option says (as the sandbox command seeds).
DEFAULT_PARTICIPANTS = 12
_MAX_PARTICIPANTS = 500  # the sandbox's own bound (its control API's ``seed``)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Passthru = str | re.Pattern[str]


def clock_starting(today: dt.date) -> Clock:
    """A clock that reads 09:00 WIB on ``today`` when made and then runs at the real pace
    (leases, timeouts and settle windows still pass as they would)."""
    start = dt.datetime.combine(today, START_HOUR, JAKARTA)
    origin = time.monotonic()

    def now() -> dt.datetime:
        return start + dt.timedelta(seconds=time.monotonic() - origin)

    return now


def _date(value: dt.date | str, source: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"{source}: a date (YYYY-MM-DD), not a datetime")
    if isinstance(value, dt.date):
        return value
    text = value.strip()
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{source}: expected a date YYYY-MM-DD, got {text!r}") from None


def _count(value: int | str, source: str) -> int:
    try:
        count = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise ValueError(f"{source}: expected a whole number, got {value!r}") from None
    if isinstance(count, bool) or not 0 <= count <= _MAX_PARTICIPANTS:
        raise ValueError(f"{source}: must be from 0 to {_MAX_PARTICIPANTS}, got {value!r}")
    return count


def _seed(text: str, source: str) -> int:
    try:
        return int(text) if text else 0
    except ValueError:
        raise ValueError(f"{source}: expected a whole number, got {text!r}") from None


def _names(values: Iterable[str]) -> tuple[str, ...]:
    """Channel names, whether one a line, space- or comma-separated."""
    return tuple(name for value in values for name in re.split(r"[\s,]+", value) if name)


@attrs.frozen
class SandboxOptions:
    """What a fixture's sandbox is made with: the project's ini options, or a factory call's.

    ``today`` ``None`` is the wall clock; ``channels`` ``None`` every channel with a fake."""

    seed: int = 0
    today: dt.date | None = None
    participants: int = DEFAULT_PARTICIPANTS
    channels: tuple[str, ...] | None = None
    passthru: tuple[Passthru, ...] = ()

    @classmethod
    def from_ini(cls, config: pytest.Config) -> SandboxOptions:
        """The ``jamsostek_*`` ini options; a value that cannot be used is a
        :class:`pytest.UsageError` naming it."""
        try:
            seed = str(config.getini("jamsostek_seed")).strip()
            today = str(config.getini("jamsostek_today")).strip()
            channels = _names(config.getini("jamsostek_channels"))
            return cls(
                seed=_seed(seed, "jamsostek_seed"),
                today=_date(today, "jamsostek_today") if today else None,
                participants=_count(
                    str(config.getini("jamsostek_participants")).strip() or DEFAULT_PARTICIPANTS,
                    "jamsostek_participants",
                ),
                channels=channels or None,
                passthru=tuple(p.strip() for p in config.getini("jamsostek_passthru") if p.strip()),
            )
        except ValueError as error:
            raise pytest.UsageError(f"jamsostek-channels ini options: {error}") from None

    def clock(self) -> Clock | None:
        return None if self.today is None else clock_starting(self.today)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("jamsostek_seed", "jamsostek fixtures: the fake host's seed (default 0)")
    parser.addini(
        "jamsostek_today",
        "jamsostek fixtures: the day (YYYY-MM-DD) the fake host starts at, 09:00 WIB "
        "(default: the wall clock)",
    )
    parser.addini(
        "jamsostek_participants",
        f"jamsostek fixtures: demo participants in a sandbox (default {DEFAULT_PARTICIPANTS})",
    )
    parser.addini(
        "jamsostek_channels",
        "jamsostek fixtures: the channels a sandbox serves (default: every one with a fake)",
        type="args",
    )
    parser.addini(
        "jamsostek_passthru",
        "jamsostek fixtures: URL prefixes the in-process sandbox lets through to the network",
        type="linelist",
    )


_OPTIONS = pytest.StashKey[SandboxOptions]()


def pytest_configure(config: pytest.Config) -> None:
    """Read the ini options once, so a bad one stops the run before any test."""
    config.stash[_OPTIONS] = SandboxOptions.from_ini(config)


def _project_options(config: pytest.Config) -> SandboxOptions:
    if _OPTIONS not in config.stash:  # the plugin registered after configure (rare)
        config.stash[_OPTIONS] = SandboxOptions.from_ini(config)
    return config.stash[_OPTIONS]


class SandboxFactory:
    """``jamsostek_sandbox_factory(...)``: a sandbox made with the project's options, any of
    them replaced by the call's, served in-process (installed) or on a loopback port
    (``loopback=True``); every one it made is stopped at the test's teardown.

    In-process sandboxes all answer at one address, so a test has one of them at a time
    (``jamsostek_sandbox`` is one): ask for another on a loopback port."""

    def __init__(self, defaults: SandboxOptions) -> None:
        self.defaults = defaults
        self._made: list[Sandbox] = []
        self._in_process: Sandbox | None = None

    def __call__(
        self,
        *,
        seed: int | None = None,
        today: dt.date | str | None = None,
        participants: int | None = None,
        channels: Iterable[str] | None = None,
        passthru: Iterable[Passthru] | None = None,
        loopback: bool = False,
    ) -> Sandbox:
        from jamsostek_channels.testing.sandbox import Sandbox

        options = self.defaults
        if seed is not None:
            options = attrs.evolve(options, seed=seed)
        if today is not None:
            options = attrs.evolve(options, today=_date(today, "today"))
        if participants is not None:
            options = attrs.evolve(options, participants=_count(participants, "participants"))
        if channels is not None:
            options = attrs.evolve(options, channels=_names(channels))
        if passthru is not None:
            options = attrs.evolve(options, passthru=tuple(passthru))
        if not loopback and self._in_process is not None:
            raise RuntimeError(
                "this test already has an in-process sandbox (they all answer at one address): "
                "ask for another with loopback=True"
            )
        sandbox = Sandbox(
            seed=options.seed,
            demo=options.participants,
            channels=options.channels,
            clock=options.clock(),
        )
        self._made.append(sandbox)
        if loopback:
            return sandbox.start()
        mock = sandbox.install()
        for prefix in options.passthru:
            mock.add_passthru(prefix)
        self._in_process = sandbox
        return sandbox

    def stop_all(self) -> None:
        while self._made:
            self._made.pop().stop()
        self._in_process = None


@pytest.fixture
def jamsostek_sandbox_factory(request: pytest.FixtureRequest) -> Iterator[SandboxFactory]:
    """Make sandboxes with other seeds, days, participants, channels or passthru prefixes than
    the project's (its ``jamsostek_*`` ini options); each is stopped at teardown."""
    factory = SandboxFactory(_project_options(request.config))
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def jamsostek_host(request: pytest.FixtureRequest) -> FakeHost:
    """A fresh, empty fake BPJS host (the project's seed and day)."""
    from jamsostek_channels.testing.host import FakeHost

    options = _project_options(request.config)
    return FakeHost(seed=options.seed, clock=options.clock())


@pytest.fixture
def jamsostek_sandbox(jamsostek_sandbox_factory: SandboxFactory) -> Sandbox:
    """Every installed channel's fake gateway over one fake host, in-process through
    responses (the project's ``jamsostek_*`` options)."""
    return jamsostek_sandbox_factory()


@pytest.fixture
def jamsostek_server(jamsostek_sandbox_factory: SandboxFactory) -> Sandbox:
    """The sandbox served on 127.0.0.1 (a free port): ``jamsostek_server.base_url``."""
    return jamsostek_sandbox_factory(loopback=True)
