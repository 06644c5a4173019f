"""LinkAja: BPU contributions from the e-wallet app, over SNAP.

A profile of the SNAP adapter (``snap/profiles/linkaja.toml``): any 1-12 months, auto-debit,
its own partner ids and admin fee. ``from_settings`` builds the adapter from the fields the
sandbox info file (or a deployment's configuration) gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jamsostek_channels.adapters.snap.adapter import SnapAdapter
from jamsostek_channels.adapters.snap.settings import adapter_from_settings
from jamsostek_channels.journal import JournalStore

__all__ = ["PROFILE", "from_settings"]

PROFILE = "linkaja"


def from_settings(
    settings: Mapping[str, Any], *, journal: JournalStore, **options: Any
) -> SnapAdapter:
    """``settings``: ``base_url``, ``client_id``, ``client_secret``, ``private_key_pem``,
    ``partner_id`` (and optionally ``profile``: a path to an adjusted profile file)."""
    return adapter_from_settings(PROFILE, settings, journal=journal, **options)
