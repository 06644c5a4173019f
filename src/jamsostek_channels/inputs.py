"""Input files as every command reads them: CSV and JSON, refused with :class:`InvalidInput`.

CSV (:func:`csv_rows`): UTF-8 with or without a byte-order mark (Excel writes one), one header
row, the delimiter ``,`` or ``;`` told from the header (Excel in an Indonesian locale, where the
decimal mark is a comma, writes ``;``). Each row says both its data-row number and the file line
it starts on: a quoted cell may hold line breaks, so the two differ by more than the header.

JSON (:func:`read_json`, :func:`loads_json`): UTF-8 with or without a byte-order mark; a key
twice in one object, ``NaN``/``Infinity`` and numbers too long to mean anything are refused
instead of silently taking the last value or turning into ``inf``.

Every refusal is an :class:`~jamsostek_channels.errors.InvalidInput` whose problems name the
``file`` (or the missing column) and, where it is known, the line:

=========================  =================================================================
``file.unreadable``        the file cannot be opened or read
``field.too_long``         larger than the caller's byte limit
``file.encoding``          not UTF-8 text (the first bad line is named)
``file.not_json``          not JSON (line and column)
``file.duplicate_key``     one key twice in one JSON object
``file.number_range``      ``NaN``, ``Infinity``, or a number of more than ``MAX_JSON_DIGITS``
``file.no_header``         an empty file, or an empty first line, where the header should be
``file.column_missing``    a required column is not in the header
``file.column_repeated``   a column name appears twice in the header
``file.column_blank``      a header cell is empty
``file.csv``               a CSV syntax error (a cell over the csv module's size limit)
=========================  =================================================================
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import math
import re
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import attrs

from jamsostek_channels.errors import InvalidInput, Problem
from jamsostek_channels.messages import echo

__all__ = [
    "MAX_JSON_DIGITS",
    "CsvRow",
    "csv_rows",
    "loads_json",
    "read_json",
    "sniff_delimiter",
]

#: Digits (sign, point and exponent included) a JSON number may have: the largest rupiah amount
#: has 12, and past a few dozen a number is an attack on the parser (Python refuses to convert
#: integers over 4,300 digits, and a long float literal becomes ``inf``).
MAX_JSON_DIGITS = 40

_BOM = codecs.BOM_UTF8.decode("utf-8")
_QUOTED = re.compile(r'"[^"]*"')


@attrs.frozen
class CsvRow:
    """One data row: ``row`` counts data rows from 1 (the header is not one), ``line`` is the
    file line it starts on (1 is the header's). ``values`` maps each header name to its cell; a
    row shorter than the header lacks the last names, and cells beyond it are in ``extra``.
    ``header`` is the file's header, every name in order (to write the row back as it was)."""

    row: int
    line: int
    values: dict[str, str]
    extra: tuple[str, ...] = ()
    header: tuple[str, ...] = ()


def _refuse(problem: Problem) -> NoReturn:
    raise InvalidInput([problem])


def _not_utf8(line: int) -> NoReturn:
    _refuse(Problem.of("file", "file.encoding", {"line": line}))


def _text_lines(source: Iterable[bytes | str]) -> Iterator[str]:
    """Decoded lines, the BOM dropped; bytes are decoded a line at a time so that a bad byte is
    reported on its own line (UTF-8 never has a newline byte inside a character)."""
    for number, line in enumerate(source, 1):
        if isinstance(line, bytes):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                _not_utf8(number)
        else:
            text = line
        if number == 1 and text.startswith(_BOM):
            text = text[1:]
        yield text


def sniff_delimiter(header: str) -> str:
    """``;`` when the header line has more semicolons than commas outside quotes, else ``,``.

    >>> sniff_delimiter("nik;name;income")
    ';'
    >>> sniff_delimiter('nik,"name; full",income')
    ','
    """
    outside = _QUOTED.sub("", header)
    return ";" if outside.count(";") > outside.count(",") else ","


def _header(cells: list[str], required: Collection[str]) -> list[str]:
    names = [cell.strip() for cell in cells]
    problems = []
    seen: set[str] = set()
    for position, name in enumerate(names, 1):
        if not name:
            problems.append(Problem.of("file", "file.column_blank", {"position": position}))
        elif name in seen:
            problems.append(Problem.of(echo(name), "file.column_repeated", {"column": echo(name)}))
        seen.add(name)
    problems += [
        Problem.of(name, "file.column_missing", {"column": name})
        for name in required
        if name not in seen
    ]
    if problems:
        raise InvalidInput(problems)
    return names


def csv_rows(source: Iterable[bytes | str], *, required: Collection[str] = ()) -> Iterator[CsvRow]:
    """The data rows of a CSV file given as lines (a file opened ``"rb"``, or text lines).

    The header is the first line; ``required`` names the columns it must have. Blank lines are
    skipped (they still count as file lines). Raises :class:`InvalidInput` (see the module's
    table), possibly after some rows were yielded: an encoding error is found where it is."""
    lines = _text_lines(source)
    first = next(lines, "")
    if not first.strip():
        _refuse(Problem.of("file", "file.no_header"))
    reader = csv.reader(itertools.chain([first], lines), delimiter=sniff_delimiter(first))
    try:
        header = _header(next(reader), required)
        names = tuple(header)
        width = len(header)
        row = 0
        while True:
            start = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                return
            if not cells:
                continue
            row += 1
            yield CsvRow(
                row, start, dict(zip(header, cells, strict=False)), tuple(cells[width:]), names
            )
    except csv.Error:
        # A cell over the csv module's size limit (a file with no line breaks, or a runaway
        # quote) is the usual cause; the text of csv's message is not worth repeating.
        _refuse(Problem.of("file", "file.csv", {"line": reader.line_num}))


# JSON ------------------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.problem = problem


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(Problem.of("file", "file.duplicate_key", {"key": echo(key)}))
            seen.add(key)
    return found


def _bad_number() -> _Refused:
    return _Refused(Problem.of("file", "file.number_range", {"digits": MAX_JSON_DIGITS}))


def _int(text: str) -> int:
    if len(text) > MAX_JSON_DIGITS:
        raise _bad_number()
    return int(text)


def _float(text: str) -> float:
    value = float(text) if len(text) <= MAX_JSON_DIGITS else math.inf
    if not math.isfinite(value):  # 1e400 reads as inf
        raise _bad_number()
    return value


def _constant(text: str) -> NoReturn:
    raise _bad_number()


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique, parse_int=_int, parse_float=_float, parse_constant=_constant
)


def loads_json(raw: bytes) -> Any:
    """The JSON document in ``raw`` (UTF-8, a BOM allowed); raises :class:`InvalidInput`."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        _not_utf8(raw.count(b"\n", 0, error.start) + 1)
    try:
        return _DECODER.decode(text)
    except _Refused as refused:
        raise InvalidInput([refused.problem]) from None
    except json.JSONDecodeError as error:
        _refuse(Problem.of("file", "file.not_json", {"line": error.lineno, "column": error.colno}))
    except (ValueError, RecursionError):  # nesting deeper than the interpreter's stack
        _refuse(Problem.of("file", "file.not_json", {"line": "?", "column": "?"}))


def read_json(path: Path, *, max_bytes: int) -> Any:
    """The JSON document in the file at ``path``, reading at most ``max_bytes`` (plus one, to
    tell a file over the limit); raises :class:`InvalidInput`."""
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError:
        _refuse(Problem.of("file", "file.unreadable"))
    if len(raw) > max_bytes:
        _refuse(Problem.of("file", "field.too_long", {"max": max_bytes}))
    return loads_json(raw)
