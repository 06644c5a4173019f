"""jamsostek-channels: one participant and payment model, one BPU rule set, every channel.

Importing the package is cheap: the names below load their modules on first use, and channel
adapters (``jamsostek_channels.adapters.*``) load only when imported.

>>> import jamsostek_channels as jc
>>> jc.quote(income=1_000_000, occupations="petani", programs=["jkk", "jkm"],
...          start="2027-01", months=1).total
16800
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from jamsostek_channels.version import __version__

# A library leaves logging to the application: without a handler of its own, records would reach
# Python's last-resort handler and be printed to stderr.
logging.getLogger(__name__).addHandler(logging.NullHandler())

# public name -> module that defines it
_EXPORTS = {
    "YearMonth": "jamsostek_channels.period",
    "Participant": "jamsostek_channels.model",
    "Payer": "jamsostek_channels.model",
    "PayerKind": "jamsostek_channels.model",
    "Program": "jamsostek_channels.model",
    "Sex": "jamsostek_channels.model",
    "Quote": "jamsostek_channels.model",
    "QuoteLine": "jamsostek_channels.model",
    "Payment": "jamsostek_channels.model",
    "Receipt": "jamsostek_channels.model",
    "CoverageState": "jamsostek_channels.model",
    "CoverageStatus": "jamsostek_channels.model",
    # the public edge: the packaged rules unless given others (see shortcuts.py)
    "quote": "jamsostek_channels.shortcuts",
    "coverage_status": "jamsostek_channels.shortcuts",
    "check_participant": "jamsostek_channels.shortcuts",
    "parse_participant": "jamsostek_channels.shortcuts",
    "default_rules": "jamsostek_channels.rules",
    "load_rules": "jamsostek_channels.rules",
    # the errors, as errors.py draws them
    "JamsostekError": "jamsostek_channels.errors",
    "NothingSent": "jamsostek_channels.errors",
    "NotDelivered": "jamsostek_channels.errors",
    "LocalRefusal": "jamsostek_channels.errors",
    "InvalidInput": "jamsostek_channels.errors",
    "ReferenceConflict": "jamsostek_channels.errors",
    "RuleViolation": "jamsostek_channels.errors",
    "CapabilityRefused": "jamsostek_channels.errors",
    "AmountLimitRefused": "jamsostek_channels.errors",
    "HostAnswered": "jamsostek_channels.errors",
    "HostDeclined": "jamsostek_channels.errors",
    "AuthenticationFailed": "jamsostek_channels.errors",
    "MalformedMessage": "jamsostek_channels.errors",
    "OutcomeUnknown": "jamsostek_channels.errors",
    "Problem": "jamsostek_channels.errors",
    "JournalError": "jamsostek_channels.journal.errors",
    "JournalUnavailable": "jamsostek_channels.journal.errors",
    "JournalBusy": "jamsostek_channels.journal.errors",
    "JournalFull": "jamsostek_channels.journal.errors",
    "JournalReadOnly": "jamsostek_channels.journal.errors",
    "JournalCorrupt": "jamsostek_channels.journal.errors",
    "RuleDataError": "jamsostek_channels.rules",
    "UnknownChannel": "jamsostek_channels.errors",
    "SettingsInvalid": "jamsostek_channels.errors",
    "connect": "jamsostek_channels.connection",
    "ChannelSpec": "jamsostek_channels.registry",
}

__all__ = [
    "AmountLimitRefused",
    "AuthenticationFailed",
    "CapabilityRefused",
    "ChannelSpec",
    "CoverageState",
    "CoverageStatus",
    "HostAnswered",
    "HostDeclined",
    "InvalidInput",
    "JamsostekError",
    "JournalBusy",
    "JournalCorrupt",
    "JournalError",
    "JournalFull",
    "JournalReadOnly",
    "JournalUnavailable",
    "LocalRefusal",
    "MalformedMessage",
    "NotDelivered",
    "NothingSent",
    "OutcomeUnknown",
    "Participant",
    "Payer",
    "PayerKind",
    "Payment",
    "Problem",
    "Program",
    "Quote",
    "QuoteLine",
    "Receipt",
    "ReferenceConflict",
    "RuleDataError",
    "RuleViolation",
    "SettingsInvalid",
    "Sex",
    "UnknownChannel",
    "YearMonth",
    "__version__",
    "check_participant",
    "connect",
    "coverage_status",
    "default_rules",
    "load_rules",
    "parse_participant",
    "quote",
]

if TYPE_CHECKING:
    from jamsostek_channels.connection import connect
    from jamsostek_channels.errors import (
        AmountLimitRefused,
        AuthenticationFailed,
        CapabilityRefused,
        HostAnswered,
        HostDeclined,
        InvalidInput,
        JamsostekError,
        LocalRefusal,
        MalformedMessage,
        NotDelivered,
        NothingSent,
        OutcomeUnknown,
        Problem,
        ReferenceConflict,
        RuleViolation,
        SettingsInvalid,
        UnknownChannel,
    )
    from jamsostek_channels.journal.errors import (
        JournalBusy,
        JournalCorrupt,
        JournalError,
        JournalFull,
        JournalReadOnly,
        JournalUnavailable,
    )
    from jamsostek_channels.model import (
        CoverageState,
        CoverageStatus,
        Participant,
        Payer,
        PayerKind,
        Payment,
        Program,
        Quote,
        QuoteLine,
        Receipt,
        Sex,
    )
    from jamsostek_channels.period import YearMonth
    from jamsostek_channels.registry import ChannelSpec
    from jamsostek_channels.rules import RuleDataError, default_rules, load_rules
    from jamsostek_channels.shortcuts import (
        check_participant,
        coverage_status,
        parse_participant,
        quote,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'jamsostek_channels' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
