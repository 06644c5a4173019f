"""A Kantor Pos counter's settings: the office and its default teller, not a SNAP partner's
credentials (mutual TLS, when a deployment uses it, is the transport's)."""

from __future__ import annotations

import attrs

__all__ = ["KantorPosSettings"]


@attrs.frozen
class KantorPosSettings:
    """``base_url``: the host with any deployment prefix; ``office``: the post office's code
    (*nopend*, fixed per adapter); ``teller``: the default teller id (the client's agent id when
    it is given none); ``profile``: the path of an adjusted profile file (default: the
    reference profile)."""

    base_url: str
    office: str
    teller: str | None = None
    profile: str | None = None

    @property
    def agent_id(self) -> str | None:
        """At a post office the teller is the agent."""
        return self.teller
