"""Crash safety, proven: paying processes killed with SIGKILL at random points, restarted,
recovered; the fake host's ledger and the journal must agree, and the run must have paid."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from jamsostek_channels.cli.main import main
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.journal import Entry, EntryState
from jamsostek_channels.period import YearMonth
from jamsostek_channels.testing.chaos import KILL_POINTS, compare, run_chaos
from jamsostek_channels.testing.host import LedgerEntry
from jamsostek_channels.testing.sandbox import GATEWAYS

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=JAKARTA)


@pytest.mark.parametrize("channel", sorted(GATEWAYS))
def test_killed_payers_lose_and_double_nothing_on_every_channel(
    tmp_path: Path, channel: str
) -> None:
    report = run_chaos(8, 11, workdir=tmp_path, channel=channel)
    assert report.runs == 8
    assert report.channel == channel
    assert set(report.kill_points) >= set(KILL_POINTS) - {"none"}
    assert report.ok, report
    assert (report.lost, report.duplicated, report.unresolved, report.vacuous) == (0, 0, 0, 0)
    assert report.refusals == {}
    # Not vacuous: the control run and the retries paid, and crashes after the host committed
    # count once.
    assert report.payments_applied >= 1 + report.kill_points.get("retried", 0)
    assert report.recovered.get("applied", 0) >= 1


def test_a_run_whose_payments_are_refused_before_sending_is_vacuous(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bank agent's id at a post office: every payment is refused before it is journaled, so
    # nothing is lost or doubled - and nothing was tested.
    code = main(
        [
            "chaos",
            "--channel",
            "kantorpos",
            "--agent-id",
            "AGEN46-0001",
            "--runs",
            "2",
            "--seed",
            "5",
            "--json",
            "--workdir",
            str(tmp_path),
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["ok"] is False
    assert document["lost"] == document["duplicated"] == document["unresolved"] == 0
    assert document["vacuous"] >= 1
    assert document["payments_applied"] == 0
    assert document["refusals"] == {"capability.agent_not_teller": document["vacuous"]}


def test_chaos_command_prints_real_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["chaos", "--runs", "3", "--seed", "5", "--json", "--workdir", str(tmp_path)])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["runs"] == 3
    assert {"lost", "duplicated", "unresolved", "vacuous", "kill_points"} <= set(document)
    assert document["lost"] == document["duplicated"] == document["unresolved"] == 0
    assert document["vacuous"] == 0
    assert document["payments_applied"] >= 1


def test_chaos_refuses_a_channel_the_sandbox_does_not_serve(tmp_path: Path) -> None:
    assert main(["chaos", "--channel", "nope", "--workdir", str(tmp_path)]) == 2


# The comparison, on its own -----------------------------------------------------------------


def payment(reference: str, nik: str = "3201015508950001", month: str = "2026-11") -> LedgerEntry:
    return LedgerEntry(
        kind="payment",
        channel="linkaja",
        reference=reference,
        host_reference=f"H-{reference}",
        nik=nik,
        periods=(YearMonth.parse(month),),
        amount=16800,
        at=NOW,
    )


def entry(reference: str, state: EntryState) -> Entry:
    return Entry(
        id=1,
        channel="linkaja",
        operation="pay",
        reference=reference,
        state=state,
        request={},
        outcome=None,
        attempts=1,
        created_at=NOW,
        updated_at=NOW,
    )


def test_compare_counts_each_disagreement() -> None:
    ledger = [payment("A"), payment("B", month="2026-12"), payment("B", month="2026-12")]
    entries = {
        "A": entry("A", EntryState.NOT_APPLIED),  # money taken, journal says unpaid
        "B": entry("B", EntryState.APPLIED),
        "C": entry("C", EntryState.APPLIED),  # a receipt for money never taken
        "D": entry("D", EntryState.PENDING),
    }
    found = compare(ledger, entries, uncrashed={"A", "E"})
    assert found.applied == {"A", "B"}
    assert found.lost == 2
    assert found.duplicated == 2  # one reference twice, one month twice
    assert found.unresolved == 1
    assert found.vacuous == 1  # E ran uncrashed and was never applied


def test_compare_of_nothing_is_not_vacuous_only_when_nothing_was_expected() -> None:
    assert compare([], {}, uncrashed=()).vacuous == 0
    assert compare([], {}, uncrashed=("X",)).vacuous == 1
