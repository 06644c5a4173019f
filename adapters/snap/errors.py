"""SNAP flavours of the library's errors: each carries the 7-character SNAP code it came from.

The library's own tree (:mod:`jamsostek_channels.errors`) stays the thing callers catch; these
subclasses only add what support and the fake biller need on top: ``host_code`` (the SNAP
``responseCode`` that was received, for a support ticket) and, for a body that cannot be
accepted, the SNAP *case* that a server must answer with (``400`` + service + case).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from jamsostek_channels.errors import (
    AuthenticationFailed,
    MalformedMessage,
    NotDelivered,
    OutcomeUnknown,
)

__all__ = [
    "BadRequestCase",
    "SnapAuthenticationFailed",
    "SnapFieldError",
    "SnapNotDelivered",
    "SnapOutcomeUnknown",
]

#: SNAP's three "400" cases: ``00`` unparseable, ``01`` invalid field format, ``02`` invalid
#: (missing) mandatory field.
BadRequestCase = Literal["00", "01", "02"]

_REASONS: Mapping[str, str] = {
    "00": "bad request",
    "01": "invalid field format",
    "02": "invalid mandatory field",
}
_RESPONSE_MESSAGES: Mapping[str, str] = {
    "00": "Bad Request",
    "01": "Invalid Field Format",
    "02": "Invalid Mandatory Field",
}


class SnapAuthenticationFailed(AuthenticationFailed):
    """A 401 answer (signature or token refused)."""


class SnapNotDelivered(NotDelivered):
    """An answer that says "not processed" (429): nothing was applied; try again later."""


class SnapOutcomeUnknown(OutcomeUnknown):
    """An answer after which a payment may or may not have been applied (5xx, 504, or a
    reference conflict): resolve it by status inquiry, never by paying again."""


class SnapFieldError(MalformedMessage):
    """A SNAP body that cannot be accepted, with the SNAP case that says why.

    Raised by the decoders (``host_code`` is ``None``; a server answers
    :meth:`response_code` with :attr:`response_message`) and built by
    :func:`~jamsostek_channels.adapters.snap.codes.error_for` when the other side answered 400
    to one of our requests (``host_code`` is its code, and :attr:`field` the field it named).
    ``field`` is the field's path in the body (``virtualAccountData.billDetails[2].billNo``),
    never a value, so the message is safe to log.
    """

    case: BadRequestCase

    def __init__(
        self,
        case: BadRequestCase,
        field: str | None = None,
        *,
        reason: str | None = None,
        code: str = "message.malformed",
        params: Mapping[str, object] | None = None,
        host_code: str | None = None,
    ) -> None:
        self.case = case
        if params is None:
            text = reason or _REASONS[case]
            if field:
                text = f"{text} ({field})"
            params = {"reason": text}
        super().__init__(code, params, host_code=host_code, field=field)

    def response_code(self, service: str) -> str:
        """The SNAP ``responseCode`` a server answers with, e.g. ``4002401``."""
        return f"400{service}{self.case}"

    @property
    def response_message(self) -> str:
        """SNAP's standard ``responseMessage``: ``Invalid Field Format {field}`` and so on."""
        message = _RESPONSE_MESSAGES[self.case]
        if self.case != "00" and self.field:
            return f"{message} {self.field}"
        return message
