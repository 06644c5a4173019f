"""SNAP channel profiles: what makes LinkAja and BNI Agen46 different is configuration.

A profile is a TOML file (``profiles/<name>.toml`` beside this module, or any path): the biller's
company code at the channel, the CHANNEL-ID header, the ISO 18245 ``channelCode``, the
X-EXTERNAL-ID prefix, a deployment path prefix, signature variants, and the channel's
:class:`~jamsostek_channels.channel.Capabilities` (operations, month counts, amount limits, admin
fee, receipt width, agent id). Credentials are never in a profile: see :class:`SnapCredentials`.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

import attrs

from jamsostek_channels.channel import Capabilities

__all__ = ["PROFILES", "SnapCredentials", "SnapProfile", "load_profile"]

#: The profiles shipped with the library.
PROFILES = ("linkaja", "bni-agen46")


@attrs.frozen
class SnapProfile:
    name: str
    label: str
    company_code: str
    channel_id: str
    channel_code: int
    external_id_prefix: str
    capabilities: Capabilities
    path_prefix: str = ""
    empty_body: Literal["hash-empty", "omit"] = "hash-empty"
    timestamp_millis: bool = False
    language: str = "ID"

    @property
    def partner_service_id(self) -> str:
        """The company code left-padded with spaces to 8 characters, as SNAP wants it."""
        return self.company_code.rjust(8)


@attrs.frozen
class SnapCredentials:
    """What the biller issued to this channel. Secrets never appear in a repr."""

    client_id: str
    client_secret: str = attrs.field(repr=False)
    private_key_pem: str = attrs.field(repr=False)
    partner_id: str


def load_profile(name_or_path: str | Path) -> SnapProfile:
    """A shipped profile by name (``"linkaja"``) or any profile file by path."""
    if isinstance(name_or_path, str) and name_or_path in PROFILES:
        text = (
            resources.files("jamsostek_channels.adapters.snap")
            .joinpath("profiles", f"{name_or_path}.toml")
            .read_text(encoding="utf-8")
        )
    else:
        text = Path(name_or_path).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return SnapProfile(
        name=str(data["name"]),
        label=str(data.get("label", data["name"])),
        company_code=str(data["company_code"]),
        channel_id=str(data["channel_id"]),
        channel_code=int(data["channel_code"]),
        external_id_prefix=str(data.get("external_id_prefix", "")),
        capabilities=Capabilities.from_mapping(data["capabilities"]),
        path_prefix=str(data.get("path_prefix", "")).rstrip("/"),
        empty_body="omit" if data.get("empty_body") == "omit" else "hash-empty",
        timestamp_millis=bool(data.get("timestamp_millis", False)),
        language=str(data.get("language", "ID")),
    )
