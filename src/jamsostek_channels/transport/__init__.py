"""The transports under every channel adapter: they move bytes and say honestly what happened
to them (:class:`~jamsostek_channels.errors.NotDelivered`,
:class:`~jamsostek_channels.errors.OutcomeUnknown`,
:class:`~jamsostek_channels.errors.MalformedMessage`).

* :mod:`.http` — HTTP through ``requests`` (SNAP JSON, SOAP/XML, REST JSON);
* :mod:`.tcp` — length-framed TCP with several requests in flight on one connection (ISO 8583).

Both share :class:`Timeouts` and log to the ``jamsostek_channels.transport`` logger.
"""

from __future__ import annotations

from jamsostek_channels.transport.http import HttpResponse, HttpTransport, Signer, Timeouts
from jamsostek_channels.transport.tcp import Framing, TcpTransport, read_frame

__all__ = [
    "Framing",
    "HttpResponse",
    "HttpTransport",
    "Signer",
    "TcpTransport",
    "Timeouts",
    "read_frame",
]
