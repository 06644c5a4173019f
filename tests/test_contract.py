"""The channel contract (:mod:`jamsostek_channels.testing.contract`), run against every built
channel through the shipped fakes: the same plugin a partner runs against theirs.

A built-in channel joins by adding itself to ``CHANNELS``.
"""

from __future__ import annotations

from typing import Any

import pytest

from jamsostek_channels.client import Client
from jamsostek_channels.journal import Journal
from jamsostek_channels.testing.contract import ChannelContract, ContractChannel
from jamsostek_channels.testing.direct import HostAdapter
from jamsostek_channels.testing.sandbox import Sandbox

#: channel -> the fault ``match`` that hits its payment request
CHANNELS = {
    "linkaja": "transfer-va/payment",
    "bni-agen46": "transfer-va/payment",
    "direct": "/direct/pay",
    "kantorpos": "kp:PaymentRequest",
    # ISO 8583: DE48's payment reference tag (FR), which only payments, advices and reversals
    # carry, and its length's first digit (the contract's references are under ten characters)
    "brilink": "FR0",
    "indomaret": "FR0",
    "alfamart": "FR0",
}


def _direct_client(sandbox: Sandbox, /, **options: Any) -> Client:
    """The in-process channel: no wire, the sandbox's host and faults."""
    adapter = HostAdapter(sandbox.host, faults=sandbox.faults)
    return Client(adapter, journal=Journal(":memory:"), **options)


@pytest.fixture(params=sorted(CHANNELS))
def jamsostek_channel(request: pytest.FixtureRequest) -> ContractChannel:
    name = str(request.param)
    factory = _direct_client if name == "direct" else None
    return ContractChannel(name, payment_match=CHANNELS[name], client=factory)


class TestBuiltInChannels(ChannelContract):
    """Every check of the contract, once per built channel."""
