"""The ISO 8583 family's registry entries (the ``jamsostek_channels.channels`` entry points
``brilink``, ``indomaret`` and ``alfamart``): one profile each, one adapter for all. Light to
import: the adapter loads only when used.

Each spec's fake is a ``fake_server``: the profile's :class:`~.fake.FakeSwitch`, which listens on
a loopback TCP port of its own (:func:`~.fake.sandbox_switch`), so the sandbox, the contract
suite, chaos and the demo serve the family like any other channel.

Each spec's ``settlement_reader`` reads the profile's end-of-day file
(:mod:`.settlement`), so ``jamsostek-channels reconcile --channel brilink FILE`` works.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jamsostek_channels.adapters.iso8583.settings import Iso8583Settings
from jamsostek_channels.registry import ChannelSpec

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from pathlib import Path

    from jamsostek_channels.channel import Adapter, Capabilities, SettlementRecord
    from jamsostek_channels.clock import Clock
    from jamsostek_channels.registry import FakeServer
    from jamsostek_channels.sequences import SequenceSource
    from jamsostek_channels.testing.host import FakeHost
    from jamsostek_channels.testing.wire import Faults

__all__ = ["ALFAMART", "BRILINK", "INDOMARET", "iso8583_channel"]


def iso8583_channel(profile: str) -> ChannelSpec[Iso8583Settings]:
    """The registry entry of the channel named after shipped profile ``profile``."""

    def adapter(
        settings: Iso8583Settings,
        *,
        sequences: SequenceSource,
        clock: Clock | None,
        **options: Any,
    ) -> Adapter:
        from jamsostek_channels.adapters.iso8583.adapter import open_iso8583_adapter

        return open_iso8583_adapter(
            settings, profile=profile, sequences=sequences, clock=clock, **options
        )

    def capabilities() -> Capabilities:
        from jamsostek_channels.adapters.iso8583.profile import load_profile

        return load_profile(profile).capabilities

    def settlement(path: Path) -> tuple[dt.date, Sequence[SettlementRecord]]:
        from jamsostek_channels.adapters.iso8583.settlement import settlement_reader

        return settlement_reader(profile)(path)

    def fake_server(
        host: FakeHost, name: str, faults: Faults
    ) -> tuple[FakeServer, Mapping[str, Any]]:
        from jamsostek_channels.adapters.iso8583.fake import sandbox_switch

        return sandbox_switch(host, name, faults, profile=profile)

    return ChannelSpec(
        name=profile,
        family="iso8583",
        settings=Iso8583Settings,
        adapter=adapter,
        docs="docs/channels/iso8583.md",
        capabilities=capabilities,
        settlement_reader=settlement,
        fake_server=fake_server,
    )


BRILINK = iso8583_channel("brilink")
INDOMARET = iso8583_channel("indomaret")
ALFAMART = iso8583_channel("alfamart")
