"""What the counter and the operator see when an outcome is unknown: the in-progress slip, and
the ``recover`` and ``outbox`` commands."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_client import NIK, Clock, Recording

from jamsostek_channels.cli.main import main
from jamsostek_channels.client import Client
from jamsostek_channels.clock import now
from jamsostek_channels.errors import InvalidInput, OutcomeUnknown
from jamsostek_channels.journal import EntryState, Journal
from jamsostek_channels.model import CoverageState
from jamsostek_channels.receipts import WIDTHS, render_in_progress, render_text
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.sandbox import Sandbox
from jamsostek_channels.testing.wire import FaultKind, Faults

# The in-progress slip ---------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_an_unknown_outcome_prints_an_in_progress_slip_not_a_receipt(
    host: FakeHost, clock: Clock, width: int
) -> None:
    faults = Faults()
    client = Client(
        Recording(host, faults=faults), journal=Journal(), clock=clock, sleep=lambda _: None
    )
    faults.inject(FaultKind.ERROR, match="/direct/pay")
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="SLIP-1")
    slip = client.pending("SLIP-1")
    assert slip.channel_reference == "SLIP-1"
    assert slip.total == slip.amount + slip.admin_fee > 0
    text = render_in_progress(slip, width, channel_label="Kantor Contoh")
    lines = text.splitlines()
    assert max(map(len, lines)) <= width
    assert text.isascii()
    flat = " ".join(text.split())
    assert "DALAM PROSES" in flat
    assert "BUKAN BUKTI BAYAR" in flat
    assert "SLIP-1" in flat
    assert "JANGAN bayar ulang" in flat
    assert "No. BPJS" not in text  # no host reference: nothing to mistake for proof
    assert "Terbilang" not in text
    assert NIK not in text


def test_a_settled_payment_has_no_in_progress_slip(host: FakeHost, clock: Clock) -> None:
    client = Client(Recording(host), journal=Journal(), clock=clock, sleep=lambda _: None)
    receipt = client.pay(NIK, months=1, reference="DONE-1")
    with pytest.raises(InvalidInput) as settled:
        client.pending("DONE-1")
    assert settled.value.problems[0].code == "payment.settled"
    with pytest.raises(InvalidInput):
        client.pending("NEVER-1")
    assert "BUKTI BAYAR" in render_text(receipt)


# recover and outbox -----------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    sandbox = Sandbox(seed=5, channels=("linkaja",)).start()
    info = tmp_path / "info.json"
    sandbox.write_info(info)
    try:
        yield sandbox, info
    finally:
        sandbox.stop()


def payable(sandbox: Sandbox) -> str:
    return next(
        p["nik"]
        for p in sandbox.demo_participants
        if sandbox.host.coverage(p["nik"]).state is not CoverageState.LAPSED
    )


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict[str, Any]]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_recover_command_settles_a_lost_answer(
    served: tuple[Sandbox, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, info = served
    path = tmp_path / "journal.sqlite"
    client = sandbox.client("linkaja", journal=Journal(path), poll_interval=0.0)
    sandbox.faults.inject("drop", match="transfer-va/payment")  # applied, answer lost
    sandbox.faults.inject("reset", match="transfer-va/status", times=10)  # and no status yet
    with pytest.raises(OutcomeUnknown):
        client.pay(payable(sandbox), months=1, reference="CLI-1")
    client.close()
    sandbox.faults.clear()
    code, document = run_json(capsys, ["outbox", "--journal", str(path)])
    assert code == 0  # unknown, but its settle window has not passed: nobody needs to act yet
    assert [row["reference"] for row in document["unresolved"]] == ["CLI-1"]

    argv = ["recover", "--channel", "linkaja", "--settings", str(info), "--journal", str(path)]
    code, document = run_json(capsys, argv)
    assert code == 0
    assert document["applied"] == ["CLI-1"]
    assert document["needs_a_person"] == 0
    with Journal(path) as journal:
        entry = journal.get("linkaja", "pay", "CLI-1")
        assert entry is not None
        assert entry.state is EntryState.APPLIED
    assert [e.reference for e in sandbox.host.ledger()] == ["CLI-1"]


def test_outbox_marks_what_needs_a_person(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "journal.sqlite"
    earlier = now() - dt.timedelta(minutes=30)
    with Journal(path, clock=lambda: earlier) as journal:
        entry, _ = journal.begin("kantorpos", "pay", "OLD-1", {"a": 1}, attempt=True)
        journal.transition(entry.id, EntryState.UNKNOWN)
        journal.enqueue(
            "kantorpos", "reversal", "REV-1", {}, expires_at=earlier + dt.timedelta(minutes=1)
        )
        journal.enqueue("kantorpos", "reversal", "REV-2", {}, expires_at=now() + dt.timedelta(1))
    code, document = run_json(capsys, ["outbox", "--journal", str(path)])
    assert code == 1
    assert document["needs_a_person"] == 2  # the payment unknown past its window, REV-1
    rows = {row["reference"]: row for row in document["outbox"]}
    assert set(rows) == {"REV-1", "REV-2"}
    assert (rows["REV-1"]["needs_a_person"], rows["REV-2"]["needs_a_person"]) == (True, False)
    assert rows["REV-1"]["state"] == "pending"  # listing changes nothing, sends nothing
    readable = main(["outbox", "--journal", str(path)])
    assert readable == 1
    assert "needs a person: 2" in capsys.readouterr().out


def test_recover_and_outbox_refuse_what_is_not_a_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a journal", encoding="utf-8")
    code, document = run_json(capsys, ["outbox", "--journal", str(junk)])
    assert code == 2
    assert document["errors"][0]["field"] == "journal"
    settings = tmp_path / "settings.json"
    settings.write_text("{}", encoding="utf-8")
    argv = ["recover", "--channel", "nope", "--settings", str(settings), "--journal", str(junk)]
    code, document = run_json(capsys, argv)
    assert code == 2
    assert junk.read_text(encoding="utf-8") == "not a journal"  # never turned into a journal
