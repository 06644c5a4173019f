"""The Kantor Pos channel's registry entry (the ``jamsostek_channels.channels`` entry point
``kantorpos``). Light to import: the adapter, the fake gateway and the settlement reader load
only when used."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jamsostek_channels.adapters.kantorpos.settings import KantorPosSettings
from jamsostek_channels.registry import ChannelSpec

if TYPE_CHECKING:
    from jamsostek_channels.channel import Adapter, Capabilities, SettlementRecord
    from jamsostek_channels.clock import Clock
    from jamsostek_channels.sequences import SequenceSource
    from jamsostek_channels.testing.host import FakeHost
    from jamsostek_channels.testing.wire import Faults, Gateway

__all__ = ["SPEC"]


def _adapter(
    settings: KantorPosSettings,
    *,
    sequences: SequenceSource,
    clock: Clock | None,
    **options: Any,
) -> Adapter:
    from jamsostek_channels.adapters.kantorpos.adapter import open_kantorpos_adapter

    return open_kantorpos_adapter(settings, clock=clock, **options)


def _fake(host: FakeHost, prefix: str, faults: Faults) -> tuple[Gateway, Mapping[str, Any]]:
    from jamsostek_channels.adapters.kantorpos.fake import kantorpos_gateway

    return kantorpos_gateway(host, prefix, faults)


def _capabilities() -> Capabilities:
    from jamsostek_channels.adapters.kantorpos.profile import load_profile

    return load_profile().capabilities


def _read_settlement(path: Path) -> tuple[dt.date, Sequence[SettlementRecord]]:
    from jamsostek_channels.adapters.kantorpos.settlement import read_settlement_file

    return read_settlement_file(path)


SPEC: ChannelSpec[KantorPosSettings] = ChannelSpec(
    name="kantorpos",
    family="kantorpos",
    settings=KantorPosSettings,
    adapter=_adapter,
    docs="docs/channels/kantorpos.md",
    fake=_fake,
    settlement_reader=_read_settlement,
    capabilities=_capabilities,
    # The profile's own paths begin with /kantorpos/ (/kantorpos/v1/soap): the sandbox serves
    # them from its root rather than under a second /kantorpos.
    sandbox_path="",
)
