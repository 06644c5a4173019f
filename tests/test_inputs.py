"""Input files (``jamsostek_channels.inputs``): CSV as Excel writes it, JSON with a BOM, and
hostile files refused with typed problems, through the reader and through the commands."""

from __future__ import annotations

import codecs
import csv
import doctest
import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import participant_data
from hypothesis import given, settings
from hypothesis import strategies as st

from jamsostek_channels import inputs
from jamsostek_channels.cli.main import main
from jamsostek_channels.errors import InvalidInput
from jamsostek_channels.inputs import MAX_JSON_DIGITS, CsvRow, csv_rows, loads_json
from jamsostek_channels.validation import FIELDS

TODAY_ARGS = ["--as-of", "2026-11-22"]
BOM = codecs.BOM_UTF8


def refused(call: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as info:
        call()
    return [(p.field, p.code) for p in info.value.problems]


def rows(data: bytes, required: tuple[str, ...] = ()) -> list[CsvRow]:
    return list(csv_rows(io.BytesIO(data), required=required))


def test_doctests() -> None:
    assert doctest.testmod(inputs).failed == 0


# CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [b"", BOM])
@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bom_delimiter_and_line_endings(bom: bytes, delimiter: str, newline: str) -> None:
    text = newline.join([f"nik{delimiter}name", f"1{delimiter}Siti", f"2{delimiter}Budi", ""])
    found = rows(bom + text.encode(), required=("nik", "name"))
    assert [r.values for r in found] == [{"nik": "1", "name": "Siti"}, {"nik": "2", "name": "Budi"}]
    assert [(r.row, r.line) for r in found] == [(1, 2), (2, 3)]


def test_row_and_line_differ_after_a_quoted_line_break_and_a_blank_line() -> None:
    data = b'nik;address\n1;"Jl. Merdeka 10\nRT 01"\n\n2;Jl. Sudirman\n'
    assert [(r.row, r.line, r.values["nik"]) for r in rows(data)] == [(1, 2, "1"), (2, 5, "2")]


def test_short_and_long_rows() -> None:
    [short, long] = rows(b"a,b,c\n1\n1,2,3,4,5\n")
    assert (short.values, short.extra) == ({"a": "1"}, ())
    assert (long.values, long.extra) == ({"a": "1", "b": "2", "c": "3"}, ("4", "5"))


def test_a_comma_inside_quotes_does_not_decide_the_delimiter() -> None:
    [row] = rows(b'"name, full";nik;kota\n"Rahayu, Siti";1;Bekasi\n')
    assert row.values == {"name, full": "Rahayu, Siti", "nik": "1", "kota": "Bekasi"}


@pytest.mark.parametrize("data", [b"", BOM, b"\n1,2\n", b"  \r\nnik\n"])
def test_a_missing_header_is_refused(data: bytes) -> None:
    assert refused(lambda: rows(data)) == [("file", "file.no_header")]


def test_header_problems_all_at_once() -> None:
    assert refused(lambda: rows(b"nik, nik ,,kota\n", required=("nik", "name", "phone"))) == [
        ("nik", "file.column_repeated"),
        ("file", "file.column_blank"),
        ("name", "file.column_missing"),
        ("phone", "file.column_missing"),
    ]


def test_not_utf8_names_the_line() -> None:
    data = b"nik,name\n1,Siti\n2,\xd1o\xf1o\n"
    with pytest.raises(InvalidInput) as info:
        rows(data)
    [problem] = info.value.problems
    assert (problem.field, problem.code) == ("file", "file.encoding")
    assert "line 3" in problem.message_en
    assert "baris 3" in problem.message_id


def test_an_oversized_cell_names_the_line() -> None:
    with pytest.raises(InvalidInput) as info:
        rows(b"a,b\n1,2\n" + b"x" * 200_000 + b"\n")
    assert info.value.problems[0].code == "file.csv"
    assert "line 3" in info.value.problems[0].message_en


cells = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    # Two columns at least: a one-column header has no delimiter to tell.
    header=st.lists(
        cells.map(str.strip).filter(lambda h: h and not set(h) & set('",;\r\n')),
        min_size=2,
        max_size=5,
        unique=True,
    ),
    body=st.lists(st.lists(cells, min_size=1, max_size=5), max_size=6),
    delimiter=st.sampled_from([",", ";"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    bom=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_csv_round_trip(
    header: list[str],
    body: list[list[str]],
    delimiter: str,
    quoting: int,
    bom: bool,
    newline: str,
) -> None:
    """Whatever csv.writer writes (any quoting, line breaks in cells, the other delimiter in
    cells, a BOM), the reader gives back: same cells, rows numbered, lines where they start."""
    # Header names hold no quotes, delimiters or line breaks (Excel's never do; the sniffing
    # of quoted headers is tested above).
    if newline == "\n":  # csv.writer then leaves a lone \r unquoted: no reader could tell
        body = [[c.replace("\r", "") for c in cells_] for cells_ in body]
    # A row of one empty cell is written as an empty line, which the reader skips as blank.
    body = [cells_ if cells_ != [""] else ["x"] for cells_ in body]
    text, starts = "", []
    for index, cells_ in enumerate([header, *body]):
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=newline).writerow(
            cells_
        )
        if index:
            starts.append(text.count("\n") + 1)
        text += buffer.getvalue()
    found = rows((BOM if bom else b"") + text.encode("utf-8"), required=header[:1])
    assert [[*r.values.values(), *r.extra] for r in found] == body
    assert [r.row for r in found] == list(range(1, len(body) + 1))
    assert [r.line for r in found] == starts


def _codes(call: Any) -> set[str]:
    """The codes ``call`` raised InvalidInput with (none when it returned)."""
    try:
        call()
    except InvalidInput as error:
        return {f"{p.field}|{p.code}" for p in error.problems}
    return set()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_rows_or_typed_problems(data: bytes) -> None:
    found: list[CsvRow] = []
    codes = _codes(lambda: found.extend(rows(data, required=("nik",))))
    assert all(code.split("|")[1].startswith("file.") for code in codes)
    assert all(row.line > row.row >= 1 for row in found)


# JSON ------------------------------------------------------------------------------------------


def test_json_with_a_bom() -> None:
    assert loads_json(BOM + b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"a": 1, "b": {"c": 1, "c": 2}}', "file.duplicate_key"),
        (b'{"a": NaN}', "file.number_range"),
        (b'{"a": -Infinity}', "file.number_range"),
        (b'{"a": 1e400}', "file.number_range"),
        (b'{"a": ' + b"9" * (MAX_JSON_DIGITS + 1) + b"}", "file.number_range"),
        (b'{"a": ' + b"9" * 5000 + b"}", "file.number_range"),  # over Python's int limit
        (BOM + BOM + b"{}", "file.not_json"),
        (b'{"a": "\xff"}', "file.encoding"),
        (b"[" * 100_000, "file.not_json"),
    ],
)
def test_json_refusals(raw: bytes, code: str) -> None:
    assert refused(lambda: loads_json(raw)) == [("file", code)]


def test_the_largest_number_allowed_is_read() -> None:
    assert loads_json(b"9" * MAX_JSON_DIGITS) == int("9" * MAX_JSON_DIGITS)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_json_bytes_give_a_value_or_typed_problems(raw: bytes) -> None:
    assert all(code.startswith("file|file.") for code in _codes(lambda: loads_json(raw)))


# Through the commands --------------------------------------------------------------------------


def excel_csv(path: Path, rows_: list[dict[str, Any]]) -> Path:
    """A CSV as Excel saves "CSV UTF-8" in an Indonesian locale: BOM, ';', CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(FIELDS)
    for row in rows_:
        writer.writerow(
            "|".join(v) if isinstance(v, list) else ("" if v is None else str(v))
            for v in (row.get(k) for k in FIELDS)
        )
    path.write_bytes(BOM + buffer.getvalue().encode("utf-8"))
    return path


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, Any]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_check_reads_an_excel_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = excel_csv(
        tmp_path / "excel.csv",
        [
            participant_data(address="Jl. Merdeka 10;\r\nRT 01, RW 02"),  # ';' and a line break
            participant_data(phone="021-5551234"),
        ],
    )
    code, document = run_json(capsys, ["check", str(path), *TODAY_ARGS])
    assert code == 1
    assert document["rows"] == 2
    [failure] = document["invalid"]
    assert (failure["row"], failure["line"]) == (2, 4)  # the first row spans lines 2 and 3
    assert [e["code"] for e in failure["errors"]] == ["phone.not_mobile"]
    assert main(["check", str(path), *TODAY_ARGS]) == 1
    assert "row 2 (line 4): phone:phone.not_mobile" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "errors"),
    [
        (b"", [("file", "file.no_header")]),
        (b"3201015508950001;Siti\n", [(f, "file.column_missing") for f in FIELDS[:11]]),
        (BOM + b"nik,name\n\xff\n", [("file", "file.encoding")]),
    ],
)
@pytest.mark.parametrize("as_json", [True, False])
def test_check_refuses_a_csv_it_cannot_read(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    errors: list[tuple[str, str]],
    as_json: bool,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content.replace(b"nik,name\n", (",".join(FIELDS) + "\n").encode()))
    if not as_json:
        assert main(["check", str(path)]) == 2
        captured = capsys.readouterr()
        assert errors[0][1] in captured.err
        assert "Traceback" not in captured.err
        return
    code, document = run_json(capsys, ["check", str(path)])
    assert code == 2
    assert [(e["field"], e["code"]) for e in document["errors"]] == [
        e for e in errors if e[0] not in ("email", "kpj")
    ]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (BOM + json.dumps(participant_data()).encode(), 0),
        (b'{"nik": "1", ' + json.dumps(participant_data())[1:].encode(), 2),  # nik twice
    ],
)
def test_check_json_bom_and_duplicate_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, code: int
) -> None:
    path = tmp_path / "participant.json"
    path.write_bytes(content)
    exit_code, document = run_json(capsys, ["check", str(path), *TODAY_ARGS])
    assert exit_code == code
    if code == 2:
        assert [e["code"] for e in document["errors"]] == ["file.duplicate_key"]
        assert '"nik"' in document["errors"][0]["message_en"]
