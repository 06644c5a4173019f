"""Kantor Pos flavours of the library's errors: each carries the response code it came from.

Callers catch the library's own classes (:class:`~jamsostek_channels.errors.HostDeclined`,
:class:`~jamsostek_channels.errors.MalformedMessage`); these subclasses add what an adapter
and support need: :attr:`info` (what the channel's code means: may the request be sent again,
must a payment's fate be settled by a status inquiry) and, when a SOAP Fault brought it,
:attr:`fault`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from jamsostek_channels.errors import HostDeclined, MalformedMessage

if TYPE_CHECKING:
    from jamsostek_channels.adapters.kantorpos.codes import ResponseCodeInfo
    from jamsostek_channels.adapters.kantorpos.types import PosFault

__all__ = ["KantorPosDeclined", "KantorPosRefused"]


class KantorPosDeclined(HostDeclined):
    """The host answered with a refusal code (in a SOAP Fault, or a DECLINED/REFUSED status).

    ``host_code`` is the channel's 2-3 digit code. ``info.needs_status``: after a payment,
    its fate is open (e.g. 96 system malfunction) and must be settled by a status inquiry;
    ``info.retry_safe``: nothing was applied and the same request may succeed later (91 busy).
    """

    info: ResponseCodeInfo
    fault: PosFault | None

    def __init__(
        self,
        code: str,
        params: Mapping[str, object] | None = None,
        *,
        info: ResponseCodeInfo,
        fault: PosFault | None = None,
    ) -> None:
        self.info = info
        self.fault = fault
        super().__init__(code, params, host_code=info.code)


class KantorPosRefused(MalformedMessage):
    """The host refused *our* message as malformed (code 30) or too large (31): a bug or a
    schema mismatch on this side, never a reason to send the same bytes again."""

    info: ResponseCodeInfo
    fault: PosFault | None

    def __init__(
        self,
        code: str,
        params: Mapping[str, object] | None = None,
        *,
        info: ResponseCodeInfo,
        fault: PosFault | None = None,
    ) -> None:
        self.info = info
        self.fault = fault
        super().__init__(code, params, host_code=info.code)
