"""LinkAja: BPU contributions from the e-wallet app, over SNAP.

A profile of the SNAP adapter (``snap/profiles/linkaja.toml``): any 1-12 months, auto-debit,
its own partner ids and admin fee. :data:`SPEC` is its registry entry (the
``jamsostek_channels.channels`` entry point ``linkaja``); its settings are
:class:`~jamsostek_channels.adapters.snap.settings.SnapSettings`.
"""

from __future__ import annotations

from jamsostek_channels.adapters.snap.settings import SnapSettings, snap_channel
from jamsostek_channels.registry import ChannelSpec

__all__ = ["PROFILE", "SPEC"]

PROFILE = "linkaja"

SPEC: ChannelSpec[SnapSettings] = snap_channel(PROFILE, docs="docs/channels/linkaja.md")
