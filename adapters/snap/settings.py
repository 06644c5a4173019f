"""A SNAP channel's settings and its registry entry: every SNAP channel module is one line
(``SPEC = snap_channel("<profile>", docs=...)``).

The heavy modules (the adapter, the fake biller) are imported only when a spec's factory runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from jamsostek_channels.errors import Problem, SettingsInvalid
from jamsostek_channels.registry import ChannelSpec

if TYPE_CHECKING:
    from jamsostek_channels.adapters.snap.adapter import SnapAdapter
    from jamsostek_channels.channel import Capabilities
    from jamsostek_channels.clock import Clock
    from jamsostek_channels.sequences import SequenceSource
    from jamsostek_channels.testing.host import FakeHost
    from jamsostek_channels.testing.wire import Faults, Gateway

__all__ = ["SnapSettings", "open_snap_adapter", "snap_channel"]


@attrs.frozen
class SnapSettings:
    """What a SNAP partner is given: the biller's URL (with any deployment prefix), the client
    id and secret, the partner's RSA private key (PEM) and partner id. ``partner_service_id``
    and ``channel_id`` are the profile's (given, they must agree with it); ``agent_id`` is the
    agent id a client sends by default on an agent channel; ``profile`` the path of an adjusted
    profile file. Secrets never appear in a repr."""

    base_url: str
    client_id: str
    client_secret: str = attrs.field(repr=False)
    private_key_pem: str = attrs.field(repr=False)
    partner_id: str
    partner_service_id: str | None = None
    channel_id: str | None = None
    agent_id: str | None = None
    profile: str | None = None


def open_snap_adapter(
    profile_name: str,
    settings: SnapSettings,
    *,
    sequences: SequenceSource,
    clock: Clock | None = None,
    **options: Any,
) -> SnapAdapter:
    """The SNAP adapter of profile ``profile_name`` (or ``settings.profile``'s file)."""
    from jamsostek_channels.adapters.snap.adapter import SnapAdapter
    from jamsostek_channels.adapters.snap.profile import SnapCredentials, load_profile

    profile = load_profile(settings.profile or profile_name)
    expected = {
        "partner_service_id": profile.partner_service_id,
        "channel_id": profile.channel_id,
    }
    given = {"partner_service_id": settings.partner_service_id, "channel_id": settings.channel_id}
    problems = [
        Problem.of(field, "settings.profile_mismatch", {"expected": expected[field]})
        for field, value in given.items()
        if value is not None and value != expected[field]
    ]
    if problems:
        raise SettingsInvalid(profile_name, problems)
    credentials = SnapCredentials(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        private_key_pem=settings.private_key_pem,
        partner_id=settings.partner_id,
    )
    if clock is not None:
        options["clock"] = clock
    return SnapAdapter(
        profile, credentials, base_url=settings.base_url, sequences=sequences, **options
    )


def snap_channel(profile_name: str, *, docs: str) -> ChannelSpec[SnapSettings]:
    """The registry entry of the SNAP channel whose shipped profile is ``profile_name``."""

    def adapter(
        settings: SnapSettings, *, sequences: SequenceSource, clock: Clock | None, **options: Any
    ) -> SnapAdapter:
        return open_snap_adapter(
            profile_name, settings, sequences=sequences, clock=clock, **options
        )

    def fake(host: FakeHost, prefix: str, faults: Faults) -> tuple[Gateway, Mapping[str, Any]]:
        from jamsostek_channels.adapters.snap.fake import sandbox_gateway

        return sandbox_gateway(profile_name, host, prefix, faults)

    def capabilities() -> Capabilities:
        from jamsostek_channels.adapters.snap.profile import load_profile

        return load_profile(profile_name).capabilities

    return ChannelSpec(
        name=profile_name,
        family="snap",
        settings=SnapSettings,
        adapter=adapter,
        docs=docs,
        fake=fake,
        capabilities=capabilities,
    )
