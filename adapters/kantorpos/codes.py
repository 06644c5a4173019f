"""The Kantor Pos response codes, and what each one means to the library.

The table is configuration (``[response_codes]`` in the profile, see :mod:`.profile`): a
deployment whose post-office host numbers its answers differently edits the TOML, not code.
Each entry says

* ``error``: the library's error code (``host.*`` or ``message.*``), or none for the two codes
  that are not refusals: success (``00``) and in progress (``09``);
* ``fault``: whether a SOAP Fault carrying it says ``soap:Client`` (the request was refused;
  the same request would be refused again) or ``soap:Server`` (the host failed);
* ``retry_safe``: nothing was applied and the same request may succeed later (busy);
* ``needs_status``: after a payment, its fate is open and is settled by a status inquiry,
  never by paying again (system malfunction, reference conflict).

Two directions, one table: a client turns a received code into the library's error with
:meth:`ResponseCodes.error_for`; a server (the fake gateway) turns a library error into the code
to answer with via :meth:`ResponseCodes.code_for`. A code the table does not know is a refusal
(``host.rejected``) in a ``soap:Client`` fault and a host error (``host.error``, status needed)
otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

from jamsostek_channels.adapters.kantorpos.errors import KantorPosDeclined, KantorPosRefused
from jamsostek_channels.adapters.kantorpos.soap import FaultCode
from jamsostek_channels.errors import JamsostekError
from jamsostek_channels.messages import CATALOGUE

if TYPE_CHECKING:
    from jamsostek_channels.adapters.kantorpos.types import PosFault

__all__ = ["ResponseCodeInfo", "ResponseCodes"]


@attrs.frozen
class ResponseCodeInfo:
    """What one response code means (see the module docstring)."""

    code: str
    label: str
    error: str | None = None
    fault: FaultCode = FaultCode.CLIENT
    retry_safe: bool = False
    needs_status: bool = False

    @property
    def refusal(self) -> bool:
        return self.error is not None


def _check(entry: ResponseCodeInfo) -> None:
    if not (entry.code.isascii() and entry.code.isdigit() and 2 <= len(entry.code) <= 3):
        raise ValueError(f"response code {entry.code!r} must be 2-3 digits")
    if entry.error is not None:
        if entry.error not in CATALOGUE:
            raise ValueError(f"response code {entry.code}: unknown error code {entry.error!r}")
        if not entry.error.startswith(("host.", "message.")):
            raise ValueError(f"response code {entry.code}: {entry.error!r} is not host.*/message.*")


class ResponseCodes(Mapping[str, ResponseCodeInfo]):
    """The response-code table: a read-only mapping code -> :class:`ResponseCodeInfo`.

    Every library error code appears at most once, so the two directions are inverse for every
    configured code: ``error_for(code_for(e)).code == e``.
    """

    def __init__(
        self,
        entries: Iterable[ResponseCodeInfo],
        *,
        success: str = "00",
        pending: str = "09",
        unknown_refusal: str = "05",
        unknown_failure: str = "96",
    ) -> None:
        table: dict[str, ResponseCodeInfo] = {}
        by_error: dict[str, str] = {}
        for entry in entries:
            _check(entry)
            if entry.code in table:
                raise ValueError(f"response code {entry.code} is listed twice")
            table[entry.code] = entry
            if entry.error is not None:
                if entry.error in by_error:
                    raise ValueError(f"{entry.error} has two response codes")
                by_error[entry.error] = entry.code
        for name, code in (
            ("success", success),
            ("pending", pending),
            ("unknown_refusal", unknown_refusal),
            ("unknown_failure", unknown_failure),
        ):
            if code not in table:
                raise ValueError(f"the {name} code {code!r} is not in the table")
        if table[success].refusal or table[pending].refusal:
            raise ValueError("the success and pending codes cannot be refusals")
        self._table = MappingProxyType(table)
        self._by_error = MappingProxyType(by_error)
        self.success = success
        self.pending = pending
        self.unknown_refusal = unknown_refusal
        self.unknown_failure = unknown_failure

    # Mapping ------------------------------------------------------------------------------

    def __getitem__(self, code: str) -> ResponseCodeInfo:
        return self._table[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"ResponseCodes({len(self)} codes)"

    # Reading ------------------------------------------------------------------------------

    def info(self, code: str, fault: FaultCode | None = None) -> ResponseCodeInfo:
        """What ``code`` means; an unknown code is read from the fault side it came with."""
        known = self._table.get(code)
        if known is not None:
            return known
        if fault is FaultCode.SERVER:
            return ResponseCodeInfo(
                code, "Unknown failure", "host.error", FaultCode.SERVER, needs_status=True
            )
        return ResponseCodeInfo(code, "Unknown refusal", "host.rejected")

    def error_for(
        self, code: str, *, fault: FaultCode | None = None, soap_fault: PosFault | None = None
    ) -> JamsostekError | None:
        """The library error ``code`` means, or ``None`` for success and in-progress.

        ``host.*`` codes become :class:`KantorPosDeclined`; ``message.*`` codes (the host
        refused our message) :class:`KantorPosRefused`. ``soap_fault`` (a
        :class:`~.types.PosFault`) is attached when a fault brought the code.
        """
        info = self.info(code, fault)
        if info.error is None:
            return None
        params = {
            "code": code,
            "reason": f"the other side refused our message: {info.label.lower()} ({code})",
        }
        if info.error.startswith("message."):
            return KantorPosRefused("message.malformed", params, info=info, fault=soap_fault)
        return KantorPosDeclined(info.error, params, info=info, fault=soap_fault)

    # Answering ----------------------------------------------------------------------------

    def code_for(self, error_code: str) -> str:
        """The code a server answers the library error ``error_code`` with.

        Unlisted codes: an error of this side (``host.error``, anything unexpected) is the
        ``unknown_failure`` code (96); any other ``host.*`` refusal ``unknown_refusal`` (05).
        """
        code = self._by_error.get(error_code)
        if code is not None:
            return code
        if error_code.startswith("host.") and error_code != "host.error":
            return self.unknown_refusal
        if error_code.startswith("message."):
            return self._by_error.get("message.malformed", self.unknown_refusal)
        return self.unknown_failure

    def fault_for(self, code: str) -> FaultCode:
        """The SOAP faultcode a Fault carrying ``code`` is sent with."""
        return self.info(code).fault

    def errors(self) -> Mapping[str, str]:
        """library error code -> response code, for every configured refusal."""
        return self._by_error
