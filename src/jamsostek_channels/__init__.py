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

__version__ = "0.1.0"

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
    "quote": "jamsostek_channels.pricing",
    "coverage_status": "jamsostek_channels.coverage",
    "check_participant": "jamsostek_channels.validation",
    "parse_participant": "jamsostek_channels.validation",
    "default_rules": "jamsostek_channels.rules",
    "load_rules": "jamsostek_channels.rules",
    "JamsostekError": "jamsostek_channels.errors",
    "InvalidInput": "jamsostek_channels.errors",
    "Problem": "jamsostek_channels.errors",
    "connect": "jamsostek_channels.connection",
    "ChannelSpec": "jamsostek_channels.registry",
}

__all__ = [
    "ChannelSpec",
    "CoverageState",
    "CoverageStatus",
    "InvalidInput",
    "JamsostekError",
    "Participant",
    "Payer",
    "PayerKind",
    "Payment",
    "Problem",
    "Program",
    "Quote",
    "QuoteLine",
    "Receipt",
    "Sex",
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
    from jamsostek_channels.coverage import coverage_status
    from jamsostek_channels.errors import InvalidInput, JamsostekError, Problem
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
    from jamsostek_channels.pricing import quote
    from jamsostek_channels.registry import ChannelSpec
    from jamsostek_channels.rules import default_rules, load_rules
    from jamsostek_channels.validation import check_participant, parse_participant


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'jamsostek_channels' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
