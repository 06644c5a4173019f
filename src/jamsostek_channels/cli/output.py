"""Shared command output: JSON to stdout, rich tables, problems in two languages."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from jamsostek_channels.errors import Problem

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["console", "print_json", "print_problems", "printable", "safe"]

# What a terminal may act on instead of showing: C0 controls (ESC starts colour, title and
# cursor sequences; CR rewrites the line), DEL, C1 controls (U+009B is a one-character CSI),
# and the bidirectional marks, embeddings, overrides and isolates (U+202E reverses what
# follows), plus the line and paragraph separators. JSON escapes C0 itself; the rest it does
# not when it writes non-ASCII as is.
_BEYOND_JSON = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f{_BEYOND_JSON}]")
_UNSAFE_IN_JSON = re.compile(f"[{_BEYOND_JSON}]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    r"""Text from input made inert for a terminal: every control character, bidi override and
    line separator is written as a visible escape.

    >>> print(printable("Siti\x1b[2J\u202eRahayu\r\n"))
    Siti\x1b[2J\u202eRahayu\x0d\x0a
    """
    return _UNSAFE.sub(_escaped, str(text))


def console(stderr: bool = False, *, min_width: int = 0) -> Console:
    """A rich console; ``min_width`` widens it when output is not a terminal (rich would
    assume 80 columns and squeeze wide tables)."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if not out.is_terminal and out.width < min_width:
        out = Console(stderr=stderr, highlight=False, soft_wrap=False, width=min_width)
    return out


def safe(text: object) -> str:
    """User text made inert for rich: control characters escaped (:func:`printable`), and
    square brackets shown, never read as markup."""
    from rich.markup import escape

    return escape(printable(text))


def print_json(document: Any) -> None:
    """One JSON document on stdout; the characters JSON leaves as they are but a terminal would
    act on are written as ``\\uXXXX`` escapes (outside strings JSON has none of them)."""
    text = json.dumps(document, ensure_ascii=False, indent=2)
    text = _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    sys.stdout.write(text + "\n")


def print_problems(problems: Iterable[Problem], *, title: str, stderr: bool = False) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("field")
    table.add_column("code")
    table.add_column("pesan (id)")
    table.add_column("message (en)")
    for problem in problems:
        table.add_row(
            *(
                safe(text)
                for text in (problem.field, problem.code, problem.message_id, problem.message_en)
            )
        )
    console(stderr).print(table)
