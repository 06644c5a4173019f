"""BNI Agen46: BPU contributions at BNI bank agents, over SNAP.

A profile of the SNAP adapter (``snap/profiles/bni-agen46.toml``): agent-assisted (the agent's
id travels with every call), 1/3/6/12 months, a per-payment limit. :data:`SPEC` is its registry
entry (the ``jamsostek_channels.channels`` entry point ``bni-agen46``); its settings are
:class:`~jamsostek_channels.adapters.snap.settings.SnapSettings`, whose ``agent_id`` is the
client's default agent id (or pass ``agent_id=`` to the
:class:`~jamsostek_channels.client.Client`).
"""

from __future__ import annotations

from jamsostek_channels.adapters.snap.settings import SnapSettings, snap_channel
from jamsostek_channels.registry import ChannelSpec

__all__ = ["PROFILE", "SPEC"]

PROFILE = "bni-agen46"

SPEC: ChannelSpec[SnapSettings] = snap_channel(PROFILE, docs="docs/channels/bni-agen46.md")
