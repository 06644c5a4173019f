"""The command line's first-hour details (issue 13, item 3): codes in any case, ``check`` on CSV
(its columns documented, a progress bar on a terminal only, ``--rejects``), and
``quote --channel`` pricing with the channel's month counts and admin fee apart."""

from __future__ import annotations

import csv
import errno
import io
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import TODAY, participant_data
from test_cli import OJEK, quote_args, run_json, write_csv, write_json
from test_schemas import assert_valid

import jamsostek_channels as jc
from jamsostek_channels.cli.check import CSV_COLUMNS
from jamsostek_channels.cli.main import main
from jamsostek_channels.cli.rejects import REASON_COLUMNS, RejectsFile
from jamsostek_channels.model import Participant, Program
from jamsostek_channels.registry import registered, spec
from jamsostek_channels.validation import FIELDS

SCRIPT = Path(sys.executable).with_name("jamsostek-channels")
README = Path(__file__).parents[1] / "README.md"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


# Codes in any case ---------------------------------------------------------------------------


def test_quote_reads_program_and_occupation_codes_in_any_case(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, lower = run_json(capsys, OJEK)
    code, mixed = run_json(capsys, quote_args(programs="JKK,jkm", occupation="Ojek-Online"))
    assert code == 0
    assert mixed == lower


def test_library_quote_and_participant_read_codes_in_any_case() -> None:
    common: dict[str, Any] = {"income": 2_800_000, "start": "2026-11", "months": 3}
    upper = jc.quote(occupations="PEDAGANG", programs=["JKK", " Jkm "], **common)
    lower = jc.quote(occupations="pedagang", programs=["jkk", "jkm"], **common)
    assert upper == lower
    data = participant_data(occupations=["Pedagang"], programs=["JKM", "JKK"])
    participant = jc.check_participant(data, as_of=TODAY).participant
    assert participant is not None
    assert participant.occupations == ("pedagang",)
    assert participant.programs == (Program.JKK, Program.JKM)
    fields = {**participant_data(), "birth_date": participant.birth_date}
    built = Participant(**{**fields, "occupations": ["PEDAGANG"], "programs": ["JKK", "JKM"]})
    assert built.programs == (Program.JKK, Program.JKM)


def test_unknown_codes_are_still_refused_whatever_their_case() -> None:
    result = jc.check_participant(
        participant_data(occupations=["ASTRONAUT"], programs=["JKK", "JKM", "XYZ"]), as_of=TODAY
    )
    assert {(p.field, p.code) for p in result.problems} == {
        ("occupations", "occupations.unknown"),
        ("programs", "programs.unknown"),
    }


def test_check_files_read_codes_in_any_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    person = participant_data(occupations=["PEDAGANG"], programs=["Jkk", "JKM"])
    code, document = run_json(
        capsys, ["check", str(write_json(tmp_path / "p.json", person)), "--as-of", "2026-11-22"]
    )
    assert code == 0, document
    assert document["participant"]["occupations"] == ["pedagang"]
    assert document["participant"]["programs"] == ["jkk", "jkm"]
    path = write_csv(tmp_path / "batch.csv", [person])
    code, document = run_json(capsys, ["check", str(path), "--as-of", "2026-11-22"])
    assert (code, document["valid"]) == (0, 1)


# quote --channel -----------------------------------------------------------------------------


def test_quote_channel_linkaja_prices_two_months_with_its_fee_apart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Without a channel, 2 months is not one of the standard counts.
    code, refused = run_json(capsys, quote_args(months="2"))
    assert code == 2
    assert [e["code"] for e in refused["errors"]] == ["months.not_allowed"]

    code, document = run_json(capsys, [*quote_args(months="2"), "--channel", "linkaja"])
    assert code == 0
    assert len(document["months"]) == 2
    fee = spec("linkaja").declared_capabilities().admin_fee.flat
    assert fee > 0
    assert document["channel"] == {
        "name": "linkaja",
        "admin_fee": fee,
        "to_pay": document["total"] + fee,
    }
    assert_valid("quote-summary", document)


def test_quote_channel_fee_follows_its_tiers(capsys: pytest.CaptureFixture[str]) -> None:
    code, document = run_json(capsys, [*OJEK, "--channel", "kantorpos"])
    assert code == 0
    expected = spec("kantorpos").declared_capabilities().admin_fee.fee_for(document["total"])
    assert document["channel"]["admin_fee"] == expected == 3_500  # Rp344.850: the second tier


def test_quote_channel_refuses_a_month_count_it_does_not_take(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, document = run_json(capsys, [*quote_args(months="2"), "--channel", "kantorpos"])
    assert code == 2
    (error,) = document["errors"]
    assert error["code"] == "months.not_allowed"
    assert "1, 3, 6, 12" in error["message_en"]


def test_quote_channel_refuses_a_payment_over_its_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    big = quote_args(income="20000000", programs="jkk,jkm,jht", occupation="pedagang")
    code, priced = run_json(capsys, big)
    limit = spec("bni-agen46").declared_capabilities().max_amount
    assert limit is not None
    assert code == 0
    assert priced["total"] > limit
    code, document = run_json(capsys, [*big, "--channel", "bni-agen46"])
    assert code == 2
    (error,) = document["errors"]
    assert (error["field"], error["code"]) == ("months", "capability.amount_max_months")
    assert error["params"]["limit"] == limit
    assert error["params"]["fits_amount"] <= limit < error["params"]["amount"]
    assert f"At most {error['params']['fits']} months" in error["message_en"]


def test_quote_channel_readable_output_shows_the_fee_apart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*quote_args(months="2"), "--channel", "linkaja"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "Kanal / channel linkaja" in lines
    assert any(line.startswith("Biaya admin / admin fee\tRp1.000") for line in lines)
    assert any(line.startswith("Dibayar / to pay\t") for line in lines)


def test_quote_unknown_channel_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, document = run_json(capsys, [*OJEK, "--channel", "nope"])
    assert code == 2
    assert [e["code"] for e in document["errors"]] == ["channel.unknown"]


def test_quote_channel_whose_spec_declares_no_capabilities(
    capsys: pytest.CaptureFixture[str],
) -> None:
    silent = attrs.evolve(spec("linkaja"), name="silent", capabilities=None)
    with registered(silent):
        code, document = run_json(capsys, [*OJEK, "--channel", "silent"])
    assert code == 2
    (error,) = document["errors"]
    assert error["code"] == "channel.no_capabilities"
    assert "silent" in error["message_en"]
    assert "silent" in error["message_id"]


def test_every_installed_channel_declares_its_capabilities_without_settings() -> None:
    for channel in jc.registry.channels():
        capabilities = channel.declared_capabilities()
        assert capabilities.month_counts, channel.name


# check on CSV: the columns -------------------------------------------------------------------


def test_csv_columns_are_the_canonical_fields() -> None:
    assert tuple(CSV_COLUMNS) == FIELDS


def test_check_help_and_readme_document_every_csv_column(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    help_text = capsys.readouterr().out
    readme = README.read_text(encoding="utf-8")
    for name, meaning in CSV_COLUMNS.items():
        assert f"  {name} " in help_text, name
        assert f"| `{name}` |" in readme, name
        assert meaning.split(" ")[0] in help_text
    assert "--rejects" in help_text
    assert "check batch.csv --rejects" in readme


# check --rejects -----------------------------------------------------------------------------


def read_rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_rejects_holds_each_refused_row_as_read_with_its_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        participant_data(),
        participant_data(phone="021-5551234", occupations=["astronaut"]),
        participant_data(),
        participant_data(nik="3201015508950000", sex="male"),
    ]
    path = write_csv(tmp_path / "batch.csv", rows)
    rejects = tmp_path / "refused.csv"
    code, document = run_json(
        capsys, ["check", str(path), "--rejects", str(rejects), "--as-of", "2026-11-22"]
    )
    assert code == 1
    assert [f["row"] for f in document["invalid"]] == [2, 4]
    with rejects.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == [*REASON_COLUMNS, *FIELDS]
    first, second = read_rejects(rejects)
    assert (first["row"], first["line"]) == ("2", "3")
    assert first["reason_codes"] == "phone:phone.not_mobile; occupations:occupations.unknown"
    assert first["reasons_id"].startswith("phone: ")
    assert first["reasons_en"].startswith("phone: ")
    assert "occupations: Unknown occupation code" in first["reasons_en"]
    assert "Kode pekerjaan" in first["reasons_id"]
    # The row as it was read, cell for cell.
    original = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert {k: first[k] for k in FIELDS} == original[1]
    assert {k: second[k] for k in FIELDS} == original[3]
    assert second["reason_codes"] == "nik:nik.serial; sex:nik.sex_mismatch"
    assert rejects.stat().st_mode & 0o077 == 0  # personal data: its owner's alone


def test_rejects_of_a_valid_batch_is_its_header_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "ok.csv", [participant_data()])
    rejects = tmp_path / "refused.csv"
    assert main(["check", str(path), "--rejects", str(rejects), "--as-of", "2026-11-22"]) == 0
    assert rejects.read_text(encoding="utf-8").splitlines() == [
        ",".join([*REASON_COLUMNS, *FIELDS])
    ]


def test_rejects_keeps_cells_beyond_the_header_after_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "batch.csv", [participant_data()])
    text = path.read_text(encoding="utf-8").rstrip("\n") + ",surplus\n"
    path.write_text(text, encoding="utf-8")
    rejects = tmp_path / "refused.csv"
    assert main(["check", str(path), "--rejects", str(rejects), "--as-of", "2026-11-22"]) == 1
    with rejects.open(encoding="utf-8", newline="") as handle:
        _, row = list(csv.reader(handle))
    assert row[-1] == "surplus"
    assert len(row) == len(REASON_COLUMNS) + len(FIELDS) + 1


def test_rejects_never_hands_a_spreadsheet_a_formula(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A hostile batch: its name cell is a formula. The operator opens the rejects file in a
    # spreadsheet; the cell must show, never run (OWASP: a leading quote).
    hostile = participant_data(name='=HYPERLINK("http://x.example","klik")', phone="021-5551234")
    path = write_csv(tmp_path / "batch.csv", [hostile])
    rejects = tmp_path / "refused.csv"
    assert main(["check", str(path), "--rejects", str(rejects), "--as-of", "2026-11-22"]) == 1
    (row,) = read_rejects(rejects)
    assert row["name"] == "'" + hostile["name"]
    assert not any(cell.startswith(("=", "+", "@")) for cell in row.values())


def test_rejects_not_written_when_the_batch_cannot_be_read_to_its_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "batch.csv", [participant_data(phone="021-5551234")])
    path.write_bytes(path.read_bytes() + b"\xff\xfe broken line\n")
    rejects = tmp_path / "refused.csv"
    rejects.write_text("an earlier list\n", encoding="utf-8")
    code, document = run_json(capsys, ["check", str(path), "--rejects", str(rejects)])
    assert code == 2
    assert [e["code"] for e in document["errors"]] == ["file.encoding"]
    assert rejects.read_text(encoding="utf-8") == "an earlier list\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.csv", "refused.csv"]


def test_rejects_in_a_missing_folder_is_refused_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "batch.csv", [participant_data()])
    code, document = run_json(
        capsys, ["check", str(path), "--rejects", str(tmp_path / "no" / "refused.csv")]
    )
    assert code == 2
    (error,) = document["errors"]
    assert (error["field"], error["code"]) == ("--rejects", "cli.cannot_write")


def test_rejects_disk_full_is_reported_as_the_rejects_not_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: RejectsFile, row: object, problems: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(RejectsFile, "add", full)
    path = write_csv(tmp_path / "batch.csv", [participant_data(phone="021-5551234")])
    rejects = tmp_path / "refused.csv"
    code, document = run_json(capsys, ["check", str(path), "--rejects", str(rejects)])
    assert code == 2
    (error,) = document["errors"]
    assert (error["field"], error["code"]) == ("--rejects", "cli.cannot_write")
    assert os.strerror(errno.ENOSPC) in error["message_en"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.csv"]


def test_rejects_is_for_csv_batches_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_json(tmp_path / "p.json", participant_data())
    code, document = run_json(capsys, ["check", str(path), "--rejects", str(tmp_path / "r.csv")])
    assert code == 2
    assert [e["code"] for e in document["errors"]] == ["cli.usage"]
    assert not (tmp_path / "r.csv").exists()


# check on CSV: the progress bar --------------------------------------------------------------


def _batch(tmp_path: Path, rows: int) -> Path:
    return write_csv(tmp_path / "batch.csv", [participant_data() for _ in range(rows)])


def run_in_pty(*args: str) -> tuple[int, bytes]:
    """The installed script with stdin, stdout and stderr on a pseudo-terminal: what a person
    sees. (``subprocess``, not ``pty.fork``: forking a test process that may hold threads is
    unsafe.)"""
    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": "120"}
    with subprocess.Popen(
        [str(SCRIPT), *args], stdin=terminal, stdout=terminal, stderr=terminal, env=env
    ) as process:
        os.close(terminal)
        out = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        code = process.wait(timeout=60)
    os.close(controller)
    return code, out


def test_check_csv_draws_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    path = _batch(tmp_path, 5)
    code, out = run_in_pty("check", str(path), "--as-of", "2026-11-22")
    assert code == 0
    assert b"Memeriksa / checking" in out
    assert b"100%" in out
    assert b"5 rows: 5 valid, 0 invalid" in out


def test_check_csv_draws_no_progress_bar_when_piped(tmp_path: Path) -> None:
    path = _batch(tmp_path, 5)
    done = subprocess.run(
        [str(SCRIPT), "check", str(path), "--as-of", "2026-11-22"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stderr == b""
    assert done.stdout == b"5 rows: 5 valid, 0 invalid\n"


def test_check_csv_in_process_with_captured_output_has_no_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(_batch(tmp_path, 3))]) == 0
    captured = capsys.readouterr()
    assert "Memeriksa" not in captured.err + captured.out
