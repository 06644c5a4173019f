"""Crash safety, proven: paying processes killed with SIGKILL at random points, restarted,
recovered; the fake host's ledger and the journal must agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jamsostek_channels.cli.main import main
from jamsostek_channels.testing.chaos import KILL_POINTS, run_chaos


def test_killed_payers_lose_and_double_nothing(tmp_path: Path) -> None:
    report = run_chaos(12, 11, workdir=tmp_path)
    assert report.runs == 12
    assert set(report.kill_points) >= set(KILL_POINTS) - {"none"}
    assert (report.lost, report.duplicated, report.unresolved) == (0, 0, 0)
    assert report.payments_applied >= 6  # crashes after the host committed still count once
    assert report.recovered.get("applied", 0) >= 1
    assert report.recovered.get("not_applied", 0) >= 1


def test_chaos_command_prints_real_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["chaos", "--runs", "3", "--seed", "5", "--json", "--workdir", str(tmp_path)])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["runs"] == 3
    assert {"lost", "duplicated", "unresolved", "kill_points"} <= set(document)
    assert document["lost"] == document["duplicated"] == document["unresolved"] == 0
