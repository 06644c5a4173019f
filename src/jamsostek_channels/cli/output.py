"""Shared command output: JSON to stdout, rich tables, problems in two languages."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from jamsostek_channels.errors import Problem

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["console", "print_json", "print_problems", "safe"]


def console(stderr: bool = False, *, min_width: int = 0) -> Console:
    """A rich console; ``min_width`` widens it when output is not a terminal (rich would
    assume 80 columns and squeeze wide tables)."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if not out.is_terminal and out.width < min_width:
        out = Console(stderr=stderr, highlight=False, soft_wrap=False, width=min_width)
    return out


def safe(text: object) -> str:
    """User text made inert for rich: square brackets are shown, never read as markup."""
    from rich.markup import escape

    return escape(str(text))


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


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
