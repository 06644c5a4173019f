"""Reading a Kantor Pos settlement file from disk (``jamsostek-channels reconcile --channel
kantorpos FILE``; the adapter fetches the same file over HTTPS).

The file goes through the same hardened reader as every message (:mod:`.xmlsafe`: no DOCTYPE,
bounded depth, UTF-8 only) with the profile's settlement size limit, is validated against
``kantorpos-settlement-1.xsd`` and has its trailer checked against its records: a file that
disagrees with itself is refused whole, never used in part.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jamsostek_channels.adapters.kantorpos import messages as kp
from jamsostek_channels.adapters.kantorpos.profile import KantorPosProfile, default_profile
from jamsostek_channels.channel import SettlementRecord

__all__ = ["read_settlement_file"]


def read_settlement_file(
    path: Path, *, profile: KantorPosProfile | None = None
) -> tuple[dt.date, tuple[SettlementRecord, ...]]:
    """``(business date, records)`` of the settlement file at ``path``.

    Raises :class:`~jamsostek_channels.errors.MalformedMessage` (``message.too_large`` above the
    profile's ``settlement_max_bytes``, else ``message.malformed`` with the reason) and
    ``OSError`` when the file cannot be read. Never reads more than the limit plus one byte.
    """
    limits = (profile or default_profile()).settlement_limits
    with Path(path).open("rb") as handle:
        data = handle.read(limits.max_bytes + 1)
    name = profile.name if profile is not None else "kantorpos"
    _, business_date, records = kp.read_settlement(data, limits=limits, channel=name)
    return business_date, records
