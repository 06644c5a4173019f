"""An ISO 8583 terminal's settings: where the switch listens and who the terminal is."""

from __future__ import annotations

import math

import attrs

__all__ = ["Iso8583Settings"]


@attrs.frozen
class Iso8583Settings:
    """``base_url``: the switch, ``tcp://127.0.0.1:PORT`` (plain TCP to a loopback address only:
    the sandbox, or a local TLS tunnel in front of a real switch); ``terminal_id``: DE41, at
    most the profile's ``terminal_id_length`` characters; ``acquirer_id``: DE32 (default: the
    profile's); ``agent_id``: the agent's id, DE42 of every financial message where the profile
    says so (BRILink); ``profile``: a shipped profile's name or a profile file's path (default:
    the channel's own); ``echo_interval``: seconds without traffic before an echo (0800/301),
    replacing the profile's ``timers.echo_idle``; ``length_width``, ``length_byteorder``
    (``big`` or ``little``) and ``ascii_length``: the frame's length header where this link's
    differs from the profile's (``None``: the profile's; the sandbox's info file states all
    three)."""

    base_url: str
    terminal_id: str
    acquirer_id: str | None = None
    agent_id: str | None = None
    profile: str | None = None
    echo_interval: float | None = attrs.field(default=None)
    # Checked here too (as the profile's are), so a wrong one is a settings problem naming it.
    length_width: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_((2, 4)))
    )
    length_byteorder: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(("big", "little")))
    )
    ascii_length: bool | None = None

    @echo_interval.validator
    def _positive(self, _attribute: attrs.Attribute[float | None], value: float | None) -> None:
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError("echo_interval must be a finite number of seconds > 0")
