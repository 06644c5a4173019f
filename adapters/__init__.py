"""Channel adapters: one module per channel over shared wire-family codecs.

Adapters are imported on use, never by ``import jamsostek_channels``, so the core stays light.
Each one only translates: the rules run in the core before anything is sent.

:func:`open_adapter` builds any channel's adapter by name from plain settings (a deployment's
configuration, or the sandbox info file's entry for that channel)::

    adapter = open_adapter("linkaja", info["channels"]["linkaja"], journal=journal)
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jamsostek_channels.channel import Adapter
    from jamsostek_channels.journal import JournalStore

__all__ = ["CHANNELS", "open_adapter"]

#: Channel name -> the module whose ``from_settings(settings, journal=..., **options)`` builds it.
CHANNELS: Mapping[str, str] = {
    "linkaja": "jamsostek_channels.adapters.linkaja",
    "bni-agen46": "jamsostek_channels.adapters.bni_agen46",
    "kantorpos": "jamsostek_channels.adapters.kantorpos.adapter",
}


def open_adapter(
    name: str, settings: Mapping[str, Any], *, journal: JournalStore, **options: Any
) -> Adapter:
    """The adapter for channel ``name`` (one of :data:`CHANNELS`)."""
    if name not in CHANNELS:
        raise KeyError(f"unknown channel {name!r}; built: {', '.join(CHANNELS)}")
    module = importlib.import_module(CHANNELS[name])
    adapter: Adapter = module.from_settings(settings, journal=journal, **options)
    return adapter
