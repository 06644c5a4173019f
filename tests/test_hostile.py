"""Hostile input: validation and the ``check`` command never crash, whatever they are given."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from conftest import participant_data
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jamsostek_channels import check_participant
from jamsostek_channels.cli import check as check_command
from jamsostek_channels.cli.main import main
from jamsostek_channels.cli.output import print_json, printable
from jamsostek_channels.inputs import MAX_JSON_DIGITS
from jamsostek_channels.period import YearMonth
from jamsostek_channels.validation import FIELDS, CheckResult

TODAY = dt.date(2026, 11, 22)
TODAY_ARGS = ["--as-of", "2026-11-22"]

# Short texts: the name check's cost grows with length on some inputs (see the dedicated test
# below), and arbitrary data must not make these property tests slow.
short_text = st.text(max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | short_text
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(short_text, children, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from(FIELDS) | short_text


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps table cells to the terminal width; a wide one keeps values on one line."""
    monkeypatch.setenv("COLUMNS", "200")


def assert_check_result(result: object) -> None:
    assert isinstance(result, CheckResult)
    assert result.ok == (result.participant is not None)
    assert result.ok == (not result.problems)
    for problem in result.problems:
        assert problem.code
        assert problem.message_id
        assert problem.message_en


fast = settings(max_examples=150, deadline=None)
with_tmp = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@fast
@given(st.dictionaries(keys, json_values, max_size=14))
def test_check_participant_on_arbitrary_dicts(data: dict[str, Any]) -> None:
    assert_check_result(check_participant(data, as_of=TODAY))


@fast
@given(st.sampled_from([*FIELDS, "extra"]), json_values)
def test_check_participant_on_near_valid_dicts(field: str, value: Any) -> None:
    data = participant_data(**{field: value})
    result = check_participant(data, as_of=TODAY)
    assert_check_result(result)
    # Only the replaced field (or a field checked against it) can be wrong.
    assert {p.field for p in result.problems} <= {field, "birth_date", "sex", "programs"}


@fast
@given(st.lists(st.sampled_from(FIELDS), unique=True), st.data())
def test_check_participant_with_several_fields_replaced(fields: list[str], data: Any) -> None:
    changes = {field: data.draw(json_values, label=field) for field in fields}
    result = check_participant(participant_data(**changes), as_of=TODAY)
    assert_check_result(result)


@fast
@given(st.text())
@example("2026-11")
@example(" 2026-11 ")
@example("2026-13")
@example("0000-01")
@example("２０２６-１１")  # full-width digits
@example("٢٠٢٦-١١")  # Arabic-Indic digits
def test_year_month_parse_raises_only_value_error(text: str) -> None:
    try:
        parsed = YearMonth.parse(text)
    except ValueError:
        return
    # Whatever is accepted is exactly the canonical YYYY-MM form (ASCII digits).
    assert str(parsed) == text.strip()
    assert 1 <= parsed.month <= 12


@given(st.one_of(st.integers(), st.none(), st.binary(max_size=10), st.lists(st.integers())))
def test_year_month_parse_non_text(value: object) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        YearMonth.parse(value)  # type: ignore[arg-type]


# The check command -------------------------------------------------------------------------


@with_tmp
@given(st.binary(max_size=400), st.booleans())
def test_check_command_on_arbitrary_bytes(tmp_path: Path, raw: bytes, as_json: bool) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(raw)
    code = main(["check", str(path), *TODAY_ARGS, *(["--json"] if as_json else [])])
    assert code in (1, 2)


@with_tmp
@given(st.dictionaries(keys, json_values, max_size=14), st.booleans())
def test_check_command_on_arbitrary_json_objects(
    tmp_path: Path, data: dict[str, Any], as_json: bool
) -> None:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code = main(["check", str(path), *TODAY_ARGS, *(["--json"] if as_json else [])])
    # NaN, Infinity and 41-digit numbers are refused as the file is read; the rest is checked.
    assert code == 2 if has_out_of_range_number(data) else code in (0, 1)


def has_out_of_range_number(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_out_of_range_number(v) for v in value.values())
    if isinstance(value, list):
        return any(has_out_of_range_number(v) for v in value)
    if isinstance(value, float):
        return not math.isfinite(value) or len(json.dumps(value)) > MAX_JSON_DIGITS
    if isinstance(value, int) and not isinstance(value, bool):
        return len(str(value)) > MAX_JSON_DIGITS
    return False


@with_tmp
@given(st.binary(max_size=400), st.booleans())
def test_check_command_on_arbitrary_csv_bytes(tmp_path: Path, raw: bytes, as_json: bool) -> None:
    path = tmp_path / "input.csv"
    path.write_bytes(raw)
    code = main(["check", str(path), *TODAY_ARGS, *(["--json"] if as_json else [])])
    assert code in (0, 1, 2)


@pytest.mark.parametrize("as_json", [True, False])
def test_deeply_nested_json_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert main(["check", str(path), *(["--json"] if as_json else [])]) == 2
    if as_json:
        document = json.loads(capsys.readouterr().out)
        assert [e["code"] for e in document["errors"]] == ["file.not_json"]


def test_deeply_nested_object_inside_participant_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"name": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    assert main(["check", str(path), "--json"]) == 2


def test_file_over_the_limit_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    limit = check_command.MAX_FILE_BYTES
    assert limit <= 10_000_000
    data = participant_data(address="x")
    text = json.dumps(data)
    padded = text[:-1] + " " * (limit + 1 - len(text)) + "}"
    assert len(padded.encode()) == limit + 1
    path = tmp_path / "big.json"
    path.write_text(padded, encoding="utf-8")
    assert main(["check", str(path), "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert [(e["field"], e["code"]) for e in document["errors"]] == [("file", "field.too_long")]
    # Exactly at the limit is read and checked.
    path.write_text(padded[: limit - 1] + "}", encoding="utf-8")
    assert main(["check", str(path), "--json", *TODAY_ARGS]) == 0


@pytest.mark.parametrize("key", ["[/x]", "[bold]", "[/]", "[link=x]y", "[red"])
@pytest.mark.parametrize("as_json", [True, False])
def test_markup_like_field_names_do_not_crash_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, as_json: bool
) -> None:
    path = tmp_path / "markup.json"
    path.write_text(json.dumps(participant_data(**{key: 1})), encoding="utf-8")
    code = main(["check", str(path), *TODAY_ARGS, *(["--json"] if as_json else [])])
    assert code == 1
    out = capsys.readouterr().out
    assert "field.unknown" in out
    assert key in out


def test_markup_like_csv_header_does_not_crash_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "markup.csv"
    header = ",".join([*FIELDS, "[/x]"])
    path.write_text(header + "\n3201015508950001" + "," * len(FIELDS) + "1\n", encoding="utf-8")
    assert main(["check", str(path), *TODAY_ARGS]) == 1
    out = capsys.readouterr().out
    assert "[/x]:field.unknown" in out


@pytest.mark.parametrize("occupation", ["[/x]", "[bold]astronaut"])
def test_markup_like_occupation_does_not_crash_the_quote_table(
    capsys: pytest.CaptureFixture[str], occupation: str
) -> None:
    argv = ["quote", "--income", "1", "--occupation", occupation, "--programs", "jkk,jkm"]
    assert main([*argv, "--start", "2026-11", "--months", "1"]) == 2
    assert occupation in capsys.readouterr().err


def test_csv_with_an_oversized_field_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "big-field.csv"
    path.write_text(",".join(FIELDS) + "\n" + "x" * 200_000 + "\n", encoding="utf-8")
    assert main(["check", str(path), "--json"]) == 2


def test_csv_not_utf8_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(",".join(FIELDS).encode() + b"\n\xd1o\xf1o\n")
    assert main(["check", str(path), "--json"]) == 2


# Catastrophic backtracking --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a" + "-" * 60 + "1",
        "Siti" + " ." * 45 + "9",
    ],
)
def test_name_check_is_linear_on_hostile_names(name: str) -> None:
    """A 100-character name must be checked in well under a second. Run in a subprocess so a
    catastrophically backtracking pattern fails the test instead of hanging the suite."""
    assert len(name) <= 100
    code = textwrap.dedent(
        f"""
        import datetime as dt
        import sys
        from jamsostek_channels import check_participant
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from conftest import participant_data
        result = check_participant(participant_data(name={name!r}), as_of=dt.date(2026, 11, 22))
        assert "name.characters" in {{p.code for p in result.problems}}
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=3, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"checking the name {name!r} took more than 3 s (regular-expression blow-up)")
    assert done.returncode == 0, done.stderr


# Terminal escapes -------------------------------------------------------------------------------

# What a terminal could act on: ESC (colour, clear screen, window title), CR (rewrite the line),
# BEL, a C1 CSI, DEL, a right-to-left override, an isolate, a line separator.
TERMINAL_CONTROLS = ["\x1b", "\r", "\n", "\x07", "\x9b", "\x7f", "\u202e", "\u2066", "\u2028"]


def acts_on_terminal(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or unicodedata.bidirectional(char) in {
        "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", "LRM", "RLM", "ALM"
    } or char in "\u2028\u2029"  # fmt: skip


@pytest.mark.parametrize("char", TERMINAL_CONTROLS)
def test_printable_escapes_each_control(char: str) -> None:
    shown = printable(f"Siti{char}Rahayu")
    assert char not in shown
    assert shown.startswith("Siti\\")
    assert shown.endswith("Rahayu")


@given(st.text())
@example("Siti Rahayu, Ñoño; 陈; 🙂 [bold]")
def test_printable_leaves_nothing_a_terminal_acts_on(text: str) -> None:
    shown = printable(text)
    assert not any(acts_on_terminal(c) for c in shown)
    if not any(acts_on_terminal(c) for c in text):
        assert shown == text


def test_print_json_escapes_what_json_leaves_raw(capsys: pytest.CaptureFixture[str]) -> None:
    document = {"name": "a\u202eb\x9bc\x1bd\x7fe\u2028f", "kota": "Bekasi"}
    print_json(document)
    out = capsys.readouterr().out
    assert not any(acts_on_terminal(c) for c in out.replace("\n", ""))
    assert json.loads(out) == document


HOSTILE_KEY = "\x1b]0;pwned\x07[bold]x\u202e\r"


def test_check_table_escapes_a_hostile_field_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(participant_data(**{HOSTILE_KEY: 1})), encoding="utf-8")
    assert main(["check", str(path), *TODAY_ARGS]) == 1
    out = capsys.readouterr().out
    # Line breaks, and the tabs between a plain table's cells, are the output's own.
    assert not any(acts_on_terminal(c) for c in out.replace("\n", "").replace("\t", ""))
    rows = [line.split("\t") for line in out.splitlines() if "\t" in line]
    assert {len(row) for row in rows} == {4}  # field, code, two messages: no tab from the input
    assert "\\x1b]0;pwned\\x07[bold]x\\u202e\\x0d" in out  # shown, markup and all


def test_check_csv_summary_escapes_a_hostile_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hostile.csv"
    header = ",".join([*FIELDS, '"' + HOSTILE_KEY.replace("\r", "") + '"'])
    path.write_text(header + "\n3201015508950001" + "," * len(FIELDS) + "1\n", encoding="utf-8")
    assert main(["check", str(path), *TODAY_ARGS]) == 1
    out = capsys.readouterr().out
    assert not any(acts_on_terminal(c) for c in out.replace("\n", ""))
    assert "\\x1b]0;pwned\\x07[bold]x\\u202e:field.unknown" in out
