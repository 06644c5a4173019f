"""The Kantor Pos profile: everything partner-specific about the post-office channel.

A profile is a TOML file (``profile.toml`` beside this module is the reference profile, loaded
by name ``"kantorpos"``; any other path works too): the endpoint path and SOAPAction values, the
office codes taking part and the teller-id format, the reader's size and depth limits, the
response-code table (:mod:`.codes`) and the channel's
:class:`~jamsostek_channels.channel.Capabilities` (operations, month counts 1/3/6/12, amount
limits, admin fee schedule, 40-column receipts). Credentials (the client certificate for mutual
TLS) are never in a profile.

The wire format (elements, namespaces, versions) is not configuration: it is the XSDs in
``schemas/kantorpos/``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from jamsostek_channels.adapters.kantorpos.codes import ResponseCodeInfo, ResponseCodes
from jamsostek_channels.adapters.kantorpos.soap import FaultCode
from jamsostek_channels.adapters.kantorpos.wire import Limits
from jamsostek_channels.channel import Capabilities

__all__ = ["OPERATIONS", "PROFILES", "KantorPosProfile", "default_profile", "load_profile"]

#: The profiles shipped with the library.
PROFILES = ("kantorpos",)

#: The SOAP operations of version 1, in the order the documentation lists them.
OPERATIONS = ("register", "confirm", "inquire", "pay", "status", "reverse")


@attrs.frozen
class KantorPosProfile:
    name: str
    label: str
    endpoint_path: str
    settlement_path: str
    soap_actions: Mapping[str, str]
    office_pattern: re.Pattern[str]
    offices: frozenset[str]
    teller_pattern: re.Pattern[str]
    max_message_bytes: int
    settlement_max_bytes: int
    max_depth: int
    response_codes: ResponseCodes = attrs.field(eq=False)
    capabilities: Capabilities

    @property
    def message_limits(self) -> Limits:
        """The reader's limits for a SOAP message."""
        return Limits(max_bytes=self.max_message_bytes, max_depth=self.max_depth)

    @property
    def settlement_limits(self) -> Limits:
        """The reader's limits for a settlement file."""
        return Limits(max_bytes=self.settlement_max_bytes, max_depth=self.max_depth)

    def soap_action(self, operation: str) -> str:
        """The SOAPAction header value for ``operation`` (``KeyError`` if not an operation)."""
        return self.soap_actions[operation]

    def operation_for(self, soap_action: str) -> str | None:
        """The operation a received SOAPAction header names (quotes stripped), or ``None``."""
        value = soap_action.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        for operation, action in self.soap_actions.items():
            if action == value:
                return operation
        return None

    def accepts_office(self, office: str) -> bool:
        """Whether ``office`` is a taking-part office code of the right format."""
        if not self.office_pattern.fullmatch(office):
            return False
        return not self.offices or office in self.offices

    def accepts_teller(self, teller: str) -> bool:
        return self.teller_pattern.fullmatch(teller) is not None

    def settlement_location(self, office: str, date: str) -> str:
        """``settlement_path`` for one office and day (``date`` as YYYY-MM-DD)."""
        return self.settlement_path.format(office=office, date=date)


def _response_codes(data: Mapping[str, Any]) -> ResponseCodes:
    entries = []
    for code, entry in data["response_codes"].items():
        entries.append(
            ResponseCodeInfo(
                code=str(code),
                label=str(entry["label"]),
                error=None if entry.get("error") is None else str(entry["error"]),
                fault=FaultCode(str(entry.get("fault", "client")).capitalize()),
                retry_safe=bool(entry.get("retry_safe", False)),
                needs_status=bool(entry.get("needs_status", False)),
            )
        )
    codes = data.get("codes", {})
    return ResponseCodes(
        entries,
        success=str(codes.get("success", "00")),
        pending=str(codes.get("pending", "09")),
        unknown_refusal=str(codes.get("unknown_refusal", "05")),
        unknown_failure=str(codes.get("unknown_failure", "96")),
    )


def _soap_actions(data: Mapping[str, Any]) -> Mapping[str, str]:
    actions = {str(k): str(v) for k, v in data["soap_actions"].items()}
    missing = [operation for operation in OPERATIONS if operation not in actions]
    if missing:
        raise ValueError(f"soap_actions is missing {', '.join(missing)}")
    if len(set(actions.values())) != len(actions):
        raise ValueError("two operations share one SOAPAction")
    return MappingProxyType(actions)


def _from_data(data: Mapping[str, Any]) -> KantorPosProfile:
    return KantorPosProfile(
        name=str(data["name"]),
        label=str(data.get("label", data["name"])),
        endpoint_path=str(data["endpoint_path"]),
        settlement_path=str(data["settlement_path"]),
        soap_actions=_soap_actions(data),
        office_pattern=re.compile(str(data["office_pattern"])),
        offices=frozenset(str(o) for o in data.get("offices", [])),
        teller_pattern=re.compile(str(data["teller_pattern"])),
        max_message_bytes=int(data.get("max_message_bytes", 256 * 1024)),
        settlement_max_bytes=int(data.get("settlement_max_bytes", 64 * 1024 * 1024)),
        max_depth=int(data.get("max_depth", 32)),
        response_codes=_response_codes(data),
        capabilities=Capabilities.from_mapping(data["capabilities"]),
    )


def load_profile(name_or_path: str | Path = "kantorpos") -> KantorPosProfile:
    """A shipped profile by name (``"kantorpos"``) or any profile file by path.

    Raises ``ValueError``/``KeyError`` for a profile that is incomplete or inconsistent (a
    response code listed twice, a library error with two codes, a missing SOAPAction).
    """
    if isinstance(name_or_path, str) and name_or_path in PROFILES:
        text = (
            resources.files("jamsostek_channels.adapters.kantorpos")
            .joinpath("profile.toml")
            .read_text(encoding="utf-8")
        )
    else:
        text = Path(name_or_path).read_text(encoding="utf-8")
    return _from_data(tomllib.loads(text))


_DEFAULT: list[KantorPosProfile] = []


def default_profile() -> KantorPosProfile:
    """The reference profile, loaded once (the decoders' default response-code table)."""
    if not _DEFAULT:
        _DEFAULT.append(load_profile("kantorpos"))
    return _DEFAULT[0]
