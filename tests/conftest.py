"""Shared fixtures. Hypothesis runs without deadlines: timing is the benchmarks' job, not tests'."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings

from jamsostek_channels.rules import RuleSet, default_rules
from jamsostek_channels.testing.contract import worker_data
from jamsostek_channels.testing.host import FakeHost

if TYPE_CHECKING:  # test_client imports this module: its names are read when the fixtures run
    from test_client import Clock

#: The ISO 8583 tests' switches and clients (``tests/iso8583_kit.py``): a module that defines a
#: fixture of the same name (``timers``, ``switches``, ``clients``) uses its own.
pytest_plugins = ["iso8583_kit"]

settings.register_profile(
    "default", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", deadline=None, max_examples=300)
settings.load_profile("default")

#: The date every test treats as "today" unless it says otherwise (a Sunday in WIB).
TODAY = dt.date(2026, 11, 22)


@pytest.fixture
def rules() -> RuleSet:
    return default_rules()


@pytest.fixture
def today() -> dt.date:
    return TODAY


#: A valid participant in canonical JSON (a woman born 15 Aug 1995 in Kab. Bogor), changes
#: applied: the same worker the channel contract registers.
participant_data = worker_data


@pytest.fixture
def valid_data() -> dict[str, Any]:
    return participant_data()


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand (starts on :data:`TODAY`, WIB)."""
    from test_client import Clock

    return Clock()


@pytest.fixture
def host(clock: Clock) -> FakeHost:
    """The fake host on that clock, with the seeded worker (``test_client.NIK``: October and
    November owed). A module that defines its own ``clock`` or ``host`` uses its own."""
    from test_client import seed

    fake = FakeHost(clock=clock, seed=7)
    seed(fake)
    return fake
