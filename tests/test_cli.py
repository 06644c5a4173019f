"""The command line: ``quote``, ``check`` and ``demo``, in-process and as the installed script."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import participant_data

from jamsostek_channels.cli.main import main
from jamsostek_channels.validation import FIELDS

SCRIPT = Path(sys.executable).with_name("jamsostek-channels")
NIK = "3201015508950001"
OJEK = [
    "quote",
    "--income",
    "2800000",
    "--occupation",
    "ojek-online",
    "--programs",
    "jkk,jkm",
    "--start",
    "2026-11",
    "--months",
    "12",
]
PROBLEM_KEYS = {"field", "code", "message_id", "message_en"}


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps table cells to the terminal width; a wide one keeps codes on one line."""
    monkeypatch.setenv("COLUMNS", "200")


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, Any]:
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def quote_args(**changes: str) -> list[str]:
    args = dict(zip(OJEK[1::2], OJEK[2::2], strict=True))
    args.update({f"--{k}": v for k, v in changes.items()})
    return ["quote", *(x for pair in args.items() for x in pair)]


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# quote -------------------------------------------------------------------------------------


def test_quote_json_exact_amounts_with_pp_50_2025(capsys: pytest.CaptureFixture[str]) -> None:
    code, document = run_json(capsys, OJEK)
    assert code == 0
    assert set(document) == {"total", "months"}
    months = document["months"]
    assert [m["period"] for m in months] == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
        "2027-03",
        "2027-04",
        "2027-05",
        "2027-06",
        "2027-07",
        "2027-08",
        "2027-09",
        "2027-10",
    ]
    for month in months:
        assert set(month) == {"period", "jkk", "jkm", "jht", "discount"}
        assert month["jht"] == 0
    discounted, full = months[:5], months[5:]
    for month in discounted:
        assert (month["jkk"], month["jkm"], month["discount"]) == (14_750, 3_400, "PP 50/2025")
        assert month["jkk"] + month["jkm"] == 18_150
    for month in full:
        assert (month["jkk"], month["jkm"], month["discount"]) == (29_500, 6_800, None)
        assert month["jkk"] + month["jkm"] == 36_300
    assert document["total"] == 5 * 18_150 + 7 * 36_300 == 344_850
    assert document["total"] == sum(m["jkk"] + m["jkm"] + m["jht"] for m in months)


def test_quote_trader_has_two_discounted_months(capsys: pytest.CaptureFixture[str]) -> None:
    code, document = run_json(capsys, quote_args(occupation="pedagang"))
    assert code == 0
    discounted = [m["period"] for m in document["months"] if m["discount"]]
    assert discounted == ["2026-11", "2026-12"]
    assert document["total"] == 2 * 18_150 + 10 * 36_300


def test_quote_with_jht_is_not_discounted_on_jht(capsys: pytest.CaptureFixture[str]) -> None:
    code, document = run_json(capsys, quote_args(programs="jkk,jkm,jht", months="6"))
    assert code == 0
    first, last = document["months"][0], document["months"][-1]
    assert (first["jkk"], first["jkm"], first["jht"]) == (14_750, 3_400, 59_000)
    assert (last["period"], last["jkk"], last["jkm"], last["jht"]) == (
        "2027-04",
        29_500,
        6_800,
        59_000,
    )
    assert document["total"] == 5 * (18_150 + 59_000) + 95_300


def test_quote_level_1_minimum(capsys: pytest.CaptureFixture[str]) -> None:
    code, document = run_json(
        capsys, quote_args(income="500000", occupation="petani", start="2027-01", months="1")
    )
    assert code == 0
    assert document == {
        "total": 16_800,
        "months": [{"period": "2027-01", "jkk": 10_000, "jkm": 6_800, "jht": 0, "discount": None}],
    }


@pytest.mark.parametrize(
    "payer", [["--payer", "apbd"], ["--payer", "apbn"], ["--payer", "csr", "--scheme", "SA"]]
)
def test_quote_state_budget_payer_gets_no_discount(
    capsys: pytest.CaptureFixture[str], payer: list[str]
) -> None:
    code, document = run_json(capsys, [*OJEK, *payer])
    assert code == 0
    for month in document["months"]:
        assert (month["jkk"], month["jkm"], month["discount"]) == (29_500, 6_800, None)
    assert document["total"] == 12 * 36_300


@pytest.mark.parametrize(
    "payer",
    [
        ["--payer", "apbdes"],
        ["--payer", "sertakan"],
        ["--payer", "csr", "--scheme", "SC"],
        ["--payer", "csr", "--scheme", "SD"],
    ],
)
def test_quote_other_payers_keep_the_discount(
    capsys: pytest.CaptureFixture[str], payer: list[str]
) -> None:
    code, document = run_json(capsys, [*OJEK, *payer])
    assert code == 0
    assert document["total"] == 344_850


def test_quote_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(OJEK) == 0
    out = capsys.readouterr().out
    for period in ("2026-11", "2027-03", "2027-04", "2027-10"):
        assert period in out
    assert "Rp18.150" in out
    assert "Rp36.300" in out
    assert "Rp344.850" in out
    assert "PP 50/2025" in out
    assert "Rp90.750" in out  # saved: 5 x 18.150


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"occupation": "astronaut"}, "occupations.unknown"),
        ({"occupation": "petani,pedagang,nelayan"}, "occupations.too_many"),
        ({"start": "2026-13"}, "period.format"),
        ({"start": "Nov 2026"}, "period.format"),
        ({"months": "2"}, "months.not_allowed"),
        ({"months": "13"}, "months.range"),
        ({"programs": "jht"}, "programs.jkk_jkm_required"),
        ({"programs": "jkk,jkm,jp"}, "programs.not_for_bpu"),
    ],
)
def test_quote_invalid_arguments(
    capsys: pytest.CaptureFixture[str], changes: dict[str, str], code: str
) -> None:
    assert main(quote_args(**changes)) == 2
    err = capsys.readouterr().err
    assert code in err
    assert main([*quote_args(**changes), "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert code in {e["code"] for e in document["errors"]}
    for error in document["errors"]:
        assert set(error) == PROBLEM_KEYS


def test_quote_bad_scheme(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*OJEK, "--payer", "csr", "--scheme", "XX"]) == 2
    assert "payer.scheme_unknown" in capsys.readouterr().err


@pytest.mark.parametrize("income", ["2.8jt", "2800000.0", "banyak", ""])
def test_quote_non_integer_income(capsys: pytest.CaptureFixture[str], income: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(quote_args(income=income))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--income" in err
    assert "invalid int value" in err


@pytest.mark.parametrize("start", ["2010-01", "1990-06", "9999-12"])
def test_quote_months_without_rules_exit_cleanly(
    capsys: pytest.CaptureFixture[str], start: str
) -> None:
    """Months no rule table covers (before PP 44/2015, or past the calendar) are bad input:
    exit 2 with a message, not a traceback."""
    assert main(quote_args(start=start)) == 2
    assert capsys.readouterr().err.strip()
    code, document = run_json(capsys, quote_args(start=start))
    assert code == 2
    assert document["errors"]
    for error in document["errors"]:
        assert set(error) == PROBLEM_KEYS
        assert error["message_en"]


def test_quote_unknown_payer_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*OJEK, "--payer", "bank"])
    assert info.value.code == 2
    assert "--payer" in capsys.readouterr().err


def test_missing_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


# check -------------------------------------------------------------------------------------


def test_check_valid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_json(tmp_path / "siti.json", participant_data())
    code, document = run_json(capsys, ["check", str(path), "--as-of", "2026-11-22"])
    assert code == 0
    assert document["valid"] is True
    assert document["errors"] == []
    assert document["warnings"] == []
    assert document["participant"]["nik"] == NIK
    assert document["participant"]["phone"] == "+6281234567890"


def test_check_valid_table_masks_personal_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_json(tmp_path / "siti.json", participant_data())
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Valid" in out
    assert "3201********0001" in out
    assert NIK not in out
    assert "81234567890" not in out


def test_check_invalid_json_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = participant_data(sex="male", postal_code="1234", income=-1, extra=True)
    path = write_json(tmp_path / "bad.json", data)
    code, document = run_json(capsys, ["check", str(path)])
    assert code == 1
    assert document["valid"] is False
    assert "participant" not in document
    assert isinstance(document["errors"], list)
    for error in document["errors"]:
        assert set(error) == PROBLEM_KEYS
        assert all(isinstance(v, str) and v for v in error.values())
    assert {(e["field"], e["code"]) for e in document["errors"]} == {
        ("sex", "nik.sex_mismatch"),
        ("postal_code", "postal_code.format"),
        ("income", "income.negative"),
        ("extra", "field.unknown"),
    }


def test_check_invalid_table_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_json(tmp_path / "bad.json", participant_data(postal_code="1234"))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "postal_code.format" in out
    assert "5 digit" in out


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document = run_json(capsys, ["check", str(tmp_path / "nope.json")])
    assert code == 2
    assert document["valid"] is False
    assert [e["code"] for e in document["errors"]] == ["file.unreadable"]
    assert main(["check", str(tmp_path / "nope.json")]) == 2
    assert "file.unreadable" in capsys.readouterr().err


def test_check_directory_is_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "folder.json"
    folder.mkdir()
    code, document = run_json(capsys, ["check", str(folder)])
    assert code == 2
    assert [e["code"] for e in document["errors"]] == ["file.unreadable"]


@pytest.mark.parametrize("text", ['{"nik": ', "not json", "{'nik': 1}", "", '{"a": 1} {}'])
def test_check_invalid_json_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    code, document = run_json(capsys, ["check", str(path)])
    assert code == 2
    assert [e["code"] for e in document["errors"]] == ["file.not_json"]


def test_check_not_utf8_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"name": "Ñoño"}'.encode("latin-1"))
    code, document = run_json(capsys, ["check", str(path)])
    assert code == 2
    assert document["errors"][0]["field"] == "file"


@pytest.mark.parametrize("value", [[], [participant_data()], "text", 1, None, True])
def test_check_non_object_json_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: Any
) -> None:
    path = write_json(tmp_path / "other.json", value)
    code, document = run_json(capsys, ["check", str(path)])
    assert code == 2
    assert [e["code"] for e in document["errors"]] == ["file.not_object"]


def test_check_as_of_changes_the_age_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A man born 1 Dec 1961 turns 65 on 1 Dec 2026.
    data = participant_data(nik="3201010112610001", birth_date="1961-12-01", sex="male")
    path = write_json(tmp_path / "old.json", data)
    code, document = run_json(capsys, ["check", str(path), "--as-of", "2026-11-30"])
    assert (code, document["valid"]) == (0, True)
    code, document = run_json(capsys, ["check", str(path), "--as-of", "2026-12-01"])
    assert (code, document["valid"]) == (1, False)
    assert [(e["field"], e["code"]) for e in document["errors"]] == [("birth_date", "age.too_old")]


@pytest.mark.parametrize("as_of", ["2026-11", "22-11-2026", "2026-02-30", "tomorrow"])
def test_check_bad_as_of_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_of: str
) -> None:
    path = write_json(tmp_path / "siti.json", participant_data())
    with pytest.raises(SystemExit) as info:
        main(["check", str(path), "--as-of", as_of])
    assert info.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow(
            "|".join(v) if isinstance(v, list) else ("" if v is None else str(v))
            for v in (row.get(k) for k in FIELDS)
        )
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_check_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        participant_data(),
        participant_data(phone="021-5551234"),
        participant_data(email=None, programs=["jkk", "jkm", "jht"]),
    ]
    path = write_csv(tmp_path / "batch.csv", rows)
    code, document = run_json(capsys, ["check", str(path), "--as-of", "2026-11-22"])
    assert code == 1
    assert document["rows"] == 3
    assert document["valid"] == 2
    assert len(document["invalid"]) == 1
    failure = document["invalid"][0]
    assert failure["row"] == 2
    assert [(e["field"], e["code"]) for e in failure["errors"]] == [("phone", "phone.not_mobile")]

    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "3 rows: 2 valid, 1 invalid" in out
    assert "phone:phone.not_mobile" in out


def test_check_csv_all_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "ok.CSV", [participant_data(), participant_data(kpj="12345678901")])
    code, document = run_json(capsys, ["check", str(path)])
    assert code == 0
    assert document == {"rows": 2, "valid": 2, "invalid": []}


def test_check_csv_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document = run_json(capsys, ["check", str(tmp_path / "none.csv")])
    assert code == 2
    assert [e["code"] for e in document["errors"]] == ["file.unreadable"]


# demo --------------------------------------------------------------------------------------


def test_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, document = run_json(capsys, ["demo", "--people", "200", "--as-of", "2026-11-22"])
    assert code == 0
    people = document["participants"]
    assert people["checked"] == 200
    assert people["spoiled"] > 0
    assert people["caught"] == people["spoiled"]
    assert people["valid"] + people["invalid"] == 200
    assert people["invalid"] == people["spoiled"]
    quotes = document["quotes"]
    assert quotes["Ojek online driver"]["total"] == 344_850
    assert quotes["Pedagang pasar / market trader"]["total"] == 399_300
    assert document["ok"] is True
    day = document["working_day"]
    assert set(day["channels"]) == {"linkaja", "bni-agen46", "kantorpos"}
    for stats in day["channels"].values():
        assert stats["registered"] == 1
        assert stats["dropped"] == stats["recovered"] == 1
        assert stats["settlement_matches_journal"] is True
    assert day["ledger_references_unique"] is True
    # The ISO 8583 switches over TCP: BRILink completes its lost answer by advice, the tills
    # undo theirs by reversal; either way settled, the host's ledger agreeing.
    switches = day["switches"]
    assert set(switches) == {"brilink", "indomaret", "alfamart"}
    assert (switches["brilink"]["lost_answer"], switches["brilink"]["lost_state"]) == (
        "advice",
        "applied",
    )
    for till in ("indomaret", "alfamart"):
        assert (switches[till]["lost_answer"], switches[till]["lost_state"]) == (
            "reverse",
            "reversed",
        )
    assert all(stats["settled"] for stats in switches.values())
    # Each switch's settlement file, fetched through the control API, balances with the journal.
    assert all(stats["settlement_matches_journal"] is True for stats in switches.values())
    assert all(stats["settlement_records"] == 2 for stats in switches.values())  # paid, lost


def test_demo_prints_receipts_as_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--people", "20", "--as-of", "2026-11-22"]) == 0
    out = capsys.readouterr().out
    assert "\\x0a" not in out  # a receipt's line breaks are layout, never escaped
    receipt_lines = [line for line in out.splitlines() if line.startswith("Terbilang: ")]
    assert len(receipt_lines) >= 3  # one receipt a channel at least


# The installed script ------------------------------------------------------------------------


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), SCRIPT
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def test_installed_script_quote() -> None:
    done = run_script(*OJEK, "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["total"] == 344_850
    assert len(document["months"]) == 12


def test_installed_script_check_exit_codes(tmp_path: Path) -> None:
    good = write_json(tmp_path / "good.json", participant_data())
    bad = write_json(tmp_path / "bad.json", participant_data(sex="male"))
    assert run_script("check", str(good), "--json").returncode == 0
    done = run_script("check", str(bad), "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["errors"][0]["code"] == "nik.sex_mismatch"
    done = run_script("check", str(tmp_path / "missing.json"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_installed_script_usage_error() -> None:
    done = run_script("quote", "--income", "x")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "usage" in done.stderr.lower()
