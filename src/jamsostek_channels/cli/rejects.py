"""``check --rejects FILE``: the refused rows of a CSV batch, written back with their reasons.

Each refused row is written as it was read (its cells under the file's own header, and any
cells beyond the header after them), preceded by where it was and why it was refused::

    row,line,reason_codes,reasons_id,reasons_en,nik,name,...

``reason_codes`` are ``field:code`` pairs, ``reasons_id``/``reasons_en`` are ``field: message``
in Indonesian and English, each list joined by ``"; "``. The file is UTF-8 with ``,`` between
cells, and appears only when the whole input was read: it is written beside its final name and
moved there at the end, so a batch that turns out unreadable halfway leaves no half list behind
(and an earlier list under that name stays as it was).

It holds the rows as given, personal data included: it is the operator's file to fix and
resubmit, never a log. One exception to "as given": a cell a spreadsheet would run as a formula
(beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with a
leading ``'``, as OWASP advises against CSV injection: the operator opens this file in a
spreadsheet, and a hostile batch must not run there.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from jamsostek_channels.errors import Problem
from jamsostek_channels.inputs import CsvRow

__all__ = ["REASON_COLUMNS", "RejectsFile"]

#: The columns written before the row's own.
REASON_COLUMNS = ("row", "line", "reason_codes", "reasons_id", "reasons_en")
_JOIN = "; "
#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell: str) -> str:
    """``cell`` as a spreadsheet shows it but never runs it."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


class RejectsFile:
    """Refused rows written to ``path`` on :meth:`commit`; :meth:`discard` leaves no file.

    Opening raises :class:`OSError` when the folder cannot take the file (the caller reports
    it before reading a row)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
        )
        self._temporary = Path(temporary)
        self._file: IO[str] = os.fdopen(handle, "w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._file)
        self._header_written = False
        self.count = 0

    def _write_header(self, header: Sequence[str]) -> None:
        self._writer.writerow([*REASON_COLUMNS, *map(_inert, header)])
        self._header_written = True

    def add(self, row: CsvRow, problems: Sequence[Problem]) -> None:
        """One refused row with every problem found in it."""
        if not self._header_written:
            self._write_header(row.header)
        cells = [row.values.get(name, "") for name in row.header]
        self._writer.writerow(
            [
                row.row,
                row.line,
                _JOIN.join(f"{p.field}:{p.code}" for p in problems),
                _JOIN.join(f"{p.field}: {p.message_id}" for p in problems),
                _JOIN.join(f"{p.field}: {p.message_en}" for p in problems),
                *map(_inert, cells),
                *map(_inert, row.extra),
            ]
        )
        self.count += 1

    def commit(self, header: Sequence[str]) -> None:
        """Move the list to its name; ``header`` (the input's) heads it when no row was refused."""
        if not self._header_written:
            self._write_header(header)
        self._file.close()
        os.replace(self._temporary, self.path)

    def discard(self) -> None:
        """Drop what was written (the input could not be read to its end)."""
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._temporary.unlink()
