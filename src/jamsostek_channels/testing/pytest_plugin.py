"""pytest fixtures for testing code that uses jamsostek-channels, registered through the
``pytest11`` entry point (installed with the package: nothing to configure).

* ``jamsostek_host`` - a fresh :class:`~jamsostek_channels.testing.FakeHost` (seed 0, empty);
* ``jamsostek_sandbox`` - the fake host with the fake gateway of every installed channel that
  has one (the registry's, :mod:`jamsostek_channels.registry`), served in-process through
  ``responses`` (no socket) and seeded with demo participants;
  ``jamsostek_sandbox.client(name)`` gives a ready :class:`~jamsostek_channels.client.Client` for
  one of ``jamsostek_sandbox.channels``, ``jamsostek_sandbox.faults.inject("drop",
  match="transfer-va/payment")`` breaks the next SNAP payment;
* ``jamsostek_server`` - the same, served for real on a free loopback port (for code that is not
  built on ``requests``, or to test timeouts against a real socket).
* ``jamsostek_contract_sandbox`` and ``jamsostek_channel`` - what the channel contract
  (:class:`~jamsostek_channels.testing.contract.ChannelContract`) runs against: subclass it and
  override ``jamsostek_channel`` to run it against your channel.

This module imports nothing heavy at load time, so it costs nothing in test runs that do not use
the fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from jamsostek_channels.testing.contract import jamsostek_channel, jamsostek_contract_sandbox

if TYPE_CHECKING:
    from jamsostek_channels.testing.host import FakeHost
    from jamsostek_channels.testing.sandbox import Sandbox

__all__ = [
    "jamsostek_channel",
    "jamsostek_contract_sandbox",
    "jamsostek_host",
    "jamsostek_sandbox",
    "jamsostek_server",
]


@pytest.fixture
def jamsostek_host() -> FakeHost:
    """A fresh, empty fake BPJS host."""
    from jamsostek_channels.testing.host import FakeHost

    return FakeHost(seed=0)


@pytest.fixture
def jamsostek_sandbox() -> Iterator[Sandbox]:
    """Every installed channel's fake gateway over one fake host, in-process through
    responses."""
    from jamsostek_channels.testing.sandbox import Sandbox

    sandbox = Sandbox(seed=0)
    sandbox.install()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def jamsostek_server() -> Iterator[Sandbox]:
    """The sandbox served on 127.0.0.1 (a free port): ``jamsostek_server.base_url``."""
    from jamsostek_channels.testing.sandbox import Sandbox

    sandbox = Sandbox(seed=0).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
