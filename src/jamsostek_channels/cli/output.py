"""Shared command output, the same for every command.

* Results go to stdout: one JSON document with ``--json``; otherwise rich tables on a terminal,
  and plain lines anywhere else (a pipe, a file): a table's title, then its header and each row
  as tab-separated cells, never wrapped at a guessed width nor cut short with an ellipsis.
* Errors go to stderr, one line each, whatever the output mode:
  ``jamsostek-channels: error: [code] field: English / Indonesian``.
* Colour only on a terminal, and never when ``NO_COLOR`` is set to anything
  (https://no-color.org).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from jamsostek_channels.errors import InvalidInput, JamsostekError, Problem

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from jamsostek_channels.cli.exits import Exit

__all__ = [
    "ERRORS_SHOWN",
    "PROG",
    "console",
    "no_color",
    "print_errors",
    "print_json",
    "print_problems",
    "print_table",
    "printable",
    "problems_of",
    "refuse",
    "safe",
]

#: The program's name, first on every error line.
PROG = "jamsostek-channels"
#: Error lines shown on stderr before "and N more" (``--json`` has all of them).
ERRORS_SHOWN = 50

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


def no_color() -> bool:
    """Whether ``NO_COLOR`` asks for no colour: set to any non-empty value (https://no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            """rich would exit 1 (``INVALID``) when the reader goes away; the console script
            ends with ``PIPE_CLOSED`` instead."""
            raise BrokenPipeError

    return _Console


def console(stderr: bool = False) -> Console:
    """A rich console: on a terminal rich draws at the terminal's width, in colour unless
    :func:`no_color`; anywhere else it writes no colour and never wraps a line (rich would
    otherwise assume 80 columns and break or cut long ones)."""
    out = _console_class()(stderr=stderr, highlight=False, soft_wrap=False, no_color=no_color())
    if not out.is_terminal:
        out.soft_wrap = True
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


def _plain(cell: object) -> str:
    """A table cell's text as rich would show it, markup applied (square brackets escaped by
    :func:`safe` come back as they were)."""
    from rich.text import Text

    if isinstance(cell, Text):
        return cell.plain
    return Text.from_markup(cell).plain if isinstance(cell, str) else str(cell)


def print_table(table: Table, out: Console | None = None) -> None:
    """A table on ``out`` (stdout by default): drawn by rich on a terminal; elsewhere its title,
    then one line for the header and one a row, cells separated by tabs (a tab in a cell is
    already escaped by :func:`safe`), so ``cut``, ``grep`` and ``awk`` see whole values."""
    out = out or console()
    if out.is_terminal:
        out.print(table)
        return
    lines = [_plain(table.title)] if table.title else []
    lines.append("\t".join(_plain(column.header) for column in table.columns))
    for row in zip(*(column.cells for column in table.columns), strict=True):
        lines.append("\t".join(_plain(cell) for cell in row))
    out.file.write("".join(f"{line}\n" for line in lines))
    out.file.flush()


def print_problems(problems: Iterable[Problem], *, title: str, out: Console | None = None) -> None:
    """Problems found in the input (a result, not an error): a table with both languages."""
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
    print_table(table, out)


def _error_line(problem: Problem) -> str:
    where = f"{problem.field}: " if problem.field else ""
    return printable(f"[{problem.code}] {where}{problem.message_en} / {problem.message_id}")


def print_errors(problems: Sequence[Problem], *, limit: int = ERRORS_SHOWN) -> None:
    """Each problem as one line on stderr, ``jamsostek-channels: error: [code] field: English /
    Indonesian`` (``error:`` in red on a terminal unless ``NO_COLOR``), at most ``limit`` of
    them and then how many more. Input text in them is escaped (:func:`printable`)."""
    from rich.text import Text

    shown = list(problems[:limit])
    if len(problems) > limit:
        shown.append(Problem.of("", "cli.more", {"count": len(problems) - limit}))
    lines = [_error_line(problem) for problem in shown]
    out = console(stderr=True)
    for line in lines:  # Text, not markup: nothing in a message is read as rich markup
        out.print(Text.assemble(f"{PROG}: ", ("error:", "bold red"), f" {line}"), soft_wrap=True)


def problems_of(error: JamsostekError, *, field: str) -> tuple[Problem, ...]:
    """A typed error as problems: an :class:`InvalidInput`'s own, or the error itself (under
    its own field, else ``field``)."""
    if isinstance(error, InvalidInput):
        return error.problems
    return (Problem(error.field or field, error.code, error.message_id, error.message_en),)


def refuse(
    problems: Iterable[Problem],
    status: Exit,
    *,
    as_json: bool,
    document: dict[str, Any] | None = None,
) -> Exit:
    """Report what stops a command, the same way for every command, and return ``status``:
    one line a problem on stderr and, with ``--json``, a document on stdout (by default
    ``{"errors": [{field, code, message_id, message_en}]}``)."""
    problems = tuple(problems)
    if as_json:
        print_json(
            document if document is not None else {"errors": [p.as_dict() for p in problems]}
        )
    print_errors(problems)
    return status
