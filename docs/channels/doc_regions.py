"""The generated regions of a channel page: what a page's capture script rewrites and its test
compares, between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``. Shared by
``snap_examples.py`` and ``iso8583_examples.py`` (run as scripts, this folder is on their path;
the tests that load them put it there).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["regions_of", "replace_regions"]

_REGION = re.compile(r"(<!-- generated:([\w-]+) -->\n)(.*?)(<!-- /generated:\2 -->)", re.DOTALL)


def replace_regions(text: str, regions: Mapping[str, str], *, page: str) -> str:
    """``text`` with each named region's content replaced; every name must have a region
    (``page`` names the page in that error)."""
    missing = set(regions) - {match[2] for match in _REGION.finditer(text)}
    if missing:
        raise KeyError(f"{page} has no region for: {', '.join(sorted(missing))}")

    def swap(match: re.Match[str]) -> str:
        name = match[2]
        if name not in regions:
            return match[0]
        return f"{match[1]}{regions[name].rstrip()}\n{match[4]}"

    return _REGION.sub(swap, text)


def regions_of(text: str) -> dict[str, str]:
    """The current content of every generated region."""
    return {match[2]: match[3].rstrip() for match in _REGION.finditer(text)}
