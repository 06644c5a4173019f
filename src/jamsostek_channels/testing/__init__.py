"""The testing kit: a stateful fake BPJS host, fake channel gateways, fault knobs, the sandbox
and synthetic participants, modelled on moto (state / handlers / routes).

Nothing here is imported by ``import jamsostek_channels``; the pytest fixtures come through the
``pytest11`` entry point (``jamsostek_channels.testing.pytest_plugin``).
"""

from jamsostek_channels.testing.host import FakeHost, HostParticipant, LedgerEntry, Sms
from jamsostek_channels.testing.people import PersonFactory
from jamsostek_channels.testing.wire import Fault, FaultKind, Faults

__all__ = [
    "FakeHost",
    "Fault",
    "FaultKind",
    "Faults",
    "HostParticipant",
    "LedgerEntry",
    "PersonFactory",
    "Sms",
]
