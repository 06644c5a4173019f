"""Building a SNAP adapter from plain settings (a deployment's configuration or the sandbox's
info file), so every SNAP channel module is three lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jamsostek_channels.adapters.snap.adapter import SnapAdapter
from jamsostek_channels.adapters.snap.profile import SnapCredentials, load_profile
from jamsostek_channels.journal import JournalStore

__all__ = ["adapter_from_settings"]


def adapter_from_settings(
    profile_name: str, settings: Mapping[str, Any], *, journal: JournalStore, **options: Any
) -> SnapAdapter:
    profile = load_profile(str(settings.get("profile") or profile_name))
    credentials = SnapCredentials(
        client_id=str(settings["client_id"]),
        client_secret=str(settings["client_secret"]),
        private_key_pem=str(settings["private_key_pem"]),
        partner_id=str(settings["partner_id"]),
    )
    return SnapAdapter(
        profile, credentials, base_url=str(settings["base_url"]), journal=journal, **options
    )
