"""What every command shares: one exit-code table, ``--version``, ``--json``/``--as-of`` before
or after the command, plain untruncated lines off a terminal and rich tables on one, one-line
errors on stderr, colour only on a terminal and never with ``NO_COLOR``."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import functools
import json
import os
import pty
import re
import sqlite3
import struct
import subprocess
import sys
import termios
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import participant_data

import jamsostek_channels
from jamsostek_channels.cli import check as check_command
from jamsostek_channels.cli import journal_file
from jamsostek_channels.cli.exits import MEANINGS, Exit, exit_for
from jamsostek_channels.cli.main import build_parser, main
from jamsostek_channels.cli.output import ERRORS_SHOWN, print_errors
from jamsostek_channels.clock import now
from jamsostek_channels.errors import (
    AuthenticationFailed,
    CapabilityRefused,
    HostDeclined,
    InvalidInput,
    JamsostekError,
    MalformedMessage,
    NotDelivered,
    OutcomeUnknown,
    Problem,
    RuleViolation,
)
from jamsostek_channels.journal import EntryState, Journal, JournalBusy
from jamsostek_channels.model import CoverageState
from jamsostek_channels.rules import RuleDataError
from jamsostek_channels.testing.sandbox import Sandbox

SCRIPT = Path(sys.executable).with_name("jamsostek-channels")
ROOT = Path(__file__).resolve().parents[1]
QUOTE = [
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
    "1",
]
#: A reference as long as a partner may send (a counter id, a date and a serial): never cut.
LONG_REFERENCE = "KANTORPOS-40123-20261120-LOKET07-0000042"
#: ``jamsostek-channels: error: [code] field: English / Indonesian``, one line.
ERROR_LINE = re.compile(r"^jamsostek-channels: error: \[[a-z_]+(\.[a-z_]+)+\] \S.* / \S.*$")
#: A Select Graphic Rendition sequence (colour, bold, reset ...).
SGR = re.compile(r"\x1b\[([0-9;]*)m")


# The exit-code table ------------------------------------------------------------------------


def test_every_exit_code_is_documented_where_users_look() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = {int(code) for code in re.findall(r"^\| (\d+) +\|", readme, re.MULTILINE)}
    assert documented == {int(code) for code in Exit}
    assert set(MEANINGS) == set(Exit)
    doc = sys.modules[main.__module__].__doc__ or ""
    epilog = build_parser().epilog or ""
    for code in Exit:
        assert re.search(rf"^{int(code)} +\S", doc, re.MULTILINE), code
        assert f"{int(code):>3}  {MEANINGS[code]}" in epilog  # --help


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (InvalidInput([Problem.of("file", "file.unreadable")]), Exit.USAGE),
        (RuleViolation("months.range", {"max": 12}), Exit.USAGE),
        (CapabilityRefused("capability.agent_not_teller", {"channel": "x"}), Exit.USAGE),
        (OutcomeUnknown("outcome.unknown", {"reference": "R-1"}), Exit.UNKNOWN),
        (JournalBusy("journal.busy", {"reason": "locked"}), Exit.JOURNAL),
        (HostDeclined("host.bill_paid"), Exit.HOST),
        (NotDelivered("transport.not_delivered", {"reason": "refused"}), Exit.HOST),
        (AuthenticationFailed("auth.token"), Exit.HOST),
        (MalformedMessage("message.malformed", {"reason": "x"}), Exit.HOST),
        (RuleDataError("levels.csv", 3, "not a number"), Exit.DEPLOYMENT),
    ],
)
def test_a_typed_error_a_command_lets_through_ends_with_its_groups_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    error: JamsostekError,
    expected: Exit,
) -> None:
    assert exit_for(error) is expected

    def fails(args: argparse.Namespace) -> Exit:
        raise error

    monkeypatch.setattr(check_command, "run", fails)
    assert main(["check", str(tmp_path / "x.json")]) == expected
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines
    assert all(ERROR_LINE.match(line) for line in lines), lines
    codes = [p.code for p in error.problems] if isinstance(error, InvalidInput) else [error.code]
    assert all(f"[{code}]" in line for code, line in zip(codes, lines, strict=True))
    assert main(["check", str(tmp_path / "x.json"), "--json"]) == expected
    document = json.loads(capsys.readouterr().out)
    assert [e["code"] for e in document["errors"]] == codes


def test_many_errors_end_with_how_many_more(capsys: pytest.CaptureFixture[str]) -> None:
    problems = [Problem.of(f"records[{i}].amount", "amount.negative") for i in range(53)]
    print_errors(problems)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == ERRORS_SHOWN + 1
    assert all(ERROR_LINE.match(line) for line in lines), lines[-1]
    assert "records[49].amount" in lines[-2]
    assert lines[-1].startswith("jamsostek-channels: error: [cli.more] ... and 3 more")


def test_ctrl_c_ends_with_130_and_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def interrupted(args: argparse.Namespace) -> Exit:
        raise KeyboardInterrupt

    monkeypatch.setattr(check_command, "run", interrupted)
    assert main(["check", str(tmp_path / "x.json")]) == 130
    [line] = capsys.readouterr().err.splitlines()
    assert ERROR_LINE.match(line)
    assert "[cli.interrupted]" in line


# Every command's failure modes --------------------------------------------------------------


@attrs.define
class Kit:
    """What a case builds its arguments from; everything it starts is stopped by ``stack``."""

    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    stack: contextlib.ExitStack
    _sandbox: tuple[Sandbox, Path] | None = attrs.field(default=None, init=False)

    def file(self, name: str, data: Any) -> str:
        path = self.tmp / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
        return str(path)

    def journal(self, fill: Callable[[Journal], object] = lambda journal: None) -> str:
        path = self.tmp / "journal.sqlite"
        with Journal(path) as journal:
            fill(journal)
        return str(path)

    def locked_journal(self) -> str:
        """A journal another writer holds (and never lets go of while the command runs)."""
        path = self.journal()
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        self.stack.callback(holder.close)
        self.stack.callback(holder.execute, "ROLLBACK")
        # The commands open it with the journal's 30 s busy timeout: a test waits less.
        short = functools.partial(Journal, busy_timeout=0.05)
        self.monkeypatch.setattr(journal_file, "Journal", short)
        return path

    def served(self) -> tuple[Sandbox, Path]:
        """A sandbox serving LinkAja on loopback and its info file (the recover settings)."""
        if self._sandbox is None:
            sandbox = Sandbox(seed=5, channels=("linkaja",)).start()
            self.stack.callback(sandbox.stop)
            info = self.tmp / "info.json"
            sandbox.write_info(info)
            self._sandbox = sandbox, info
        return self._sandbox

    def recover(self, journal: str, settings: str | None = None) -> list[str]:
        settings = settings or str(self.served()[1])
        return ["recover", "--channel", "linkaja", "--settings", settings, "--journal", journal]


def settled(reference: str = "KP-1") -> dict[str, Any]:
    return {
        "channel": "kantorpos",
        "reference": reference,
        "host_reference": "H-1",
        "nik_masked": "3201********0001",
        "periods": ["2026-11"],
        "amount": 18_150,
        "admin_fee": 2_500,
        "paid_at": "2026-11-20T10:00:00+07:00",
        "state": "paid",
    }


def reconcile(kit: Kit, records: list[dict[str, Any]], journal: str | None = None) -> list[str]:
    settlement = kit.file("settlement.json", records)
    journal = journal or kit.journal()
    argv = ["reconcile", settlement, "--channel", "kantorpos", "--format", "json"]
    return [*argv, "--journal", journal, "--day", "2026-11-20"]


def payable(sandbox: Sandbox) -> list[str]:
    return [
        p["nik"]
        for p in sandbox.demo_participants
        if sandbox.host.coverage(p["nik"]).state is not CoverageState.LAPSED
    ]


def unknown_payment(kit: Kit) -> list[str]:
    """A LinkAja payment applied at the host whose answer was lost, and a host that still
    cannot say: recover leaves it unknown."""
    sandbox, _ = kit.served()
    path = kit.tmp / "journal.sqlite"
    client = sandbox.client("linkaja", journal=Journal(path), poll_interval=0.0)
    sandbox.faults.inject("drop", match="transfer-va/payment")
    sandbox.faults.inject("reset", match="transfer-va/status", times=1000)
    with pytest.raises(OutcomeUnknown):
        client.pay(payable(sandbox)[0], months=1, reference="CLI-1")
    client.close()
    return kit.recover(str(path))


def conflicting_reference(kit: Kit) -> list[str]:
    """A payment whose outcome is unknown here, while the host holds its reference for another
    customer's payment: no proof of this one, a person must look."""
    sandbox, _ = kit.served()
    path = kit.tmp / "journal.sqlite"
    ours = sandbox.client("linkaja", journal=Journal(path), poll_interval=0.0)
    sandbox.faults.inject("reset", match="transfer-va/payment", times=1000)
    sandbox.faults.inject("reset", match="transfer-va/status", times=1000)
    first, second = payable(sandbox)[:2]
    with pytest.raises(OutcomeUnknown):
        ours.pay(first, months=1, reference="CLI-2")
    ours.close()
    sandbox.faults.clear()
    elsewhere = sandbox.client("linkaja", journal=Journal(kit.tmp / "other.sqlite"))
    elsewhere.pay(second, months=1, reference="CLI-2")
    elsewhere.close()
    return kit.recover(str(path))


def recover_unknown_channel(kit: Kit) -> list[str]:
    settings = kit.file("s.json", {})
    return ["recover", "--channel", "nope", "--settings", settings, "--journal", kit.journal()]


def outbox_needing_a_person(kit: Kit) -> list[str]:
    def fill(journal: Journal) -> None:
        past = now() - dt.timedelta(minutes=1)
        journal.enqueue("kantorpos", "reversal", "REV-1", {}, expires_at=past)

    return ["outbox", "--journal", kit.journal(fill)]


CASES: list[tuple[str, str, Callable[[Kit], list[str]], Exit]] = [
    ("quote", "priced", lambda kit: QUOTE, Exit.OK),
    ("quote", "a rule refuses the months", lambda kit: [*QUOTE[:-1], "13"], Exit.USAGE),
    ("quote", "income not a number", lambda kit: [*QUOTE[:2], "banyak", *QUOTE[3:]], Exit.USAGE),
    ("quote", "an option missing", lambda kit: QUOTE[:3], Exit.USAGE),
    ("check", "valid", lambda kit: ["check", kit.file("p.json", participant_data())], Exit.OK),
    (
        "check",
        "invalid data",
        lambda kit: ["check", kit.file("p.json", participant_data(sex="male"))],
        Exit.INVALID,
    ),
    (
        "check",
        "a CSV without the participant columns",
        lambda kit: ["check", kit.file("p.csv", "nik,name\n1,x\n")],
        Exit.USAGE,
    ),
    ("check", "no such file", lambda kit: ["check", str(kit.tmp / "none.json")], Exit.USAGE),
    ("check", "not JSON", lambda kit: ["check", kit.file("p.json", "{nik")], Exit.USAGE),
    ("check", "not UTF-8", lambda kit: ["check", kit.file("p.json", b'{"a": "\xff"}')], Exit.USAGE),
    ("demo", "people not a number", lambda kit: ["demo", "--people", "many"], Exit.USAGE),
    (
        "sandbox",
        "served and stopped",
        lambda kit: ["sandbox", "--info-file", str(kit.tmp / "i.json"), "--duration", "0"],
        Exit.OK,
    ),
    (
        "sandbox",
        "no such port",
        lambda kit: ["sandbox", "--info-file", str(kit.tmp / "i.json"), "--port", "70000"],
        Exit.USAGE,
    ),
    (
        "sandbox",
        "info file unwritable",
        lambda kit: ["sandbox", "--info-file", str(kit.tmp / "no" / "i.json")],
        Exit.USAGE,
    ),
    ("chaos", "no runs", lambda kit: ["chaos", "--runs", "0"], Exit.USAGE),
    ("chaos", "unknown channel", lambda kit: ["chaos", "--channel", "nope"], Exit.USAGE),
    ("reconcile", "balanced", lambda kit: reconcile(kit, []), Exit.OK),
    ("reconcile", "not balanced", lambda kit: reconcile(kit, [settled()]), Exit.INVALID),
    (
        "reconcile",
        "a bad record",
        lambda kit: reconcile(kit, [{**settled(), "amount": -1}]),
        Exit.USAGE,
    ),
    (
        "reconcile",
        "no such journal",
        lambda kit: reconcile(kit, [], journal=str(kit.tmp / "none.sqlite")),
        Exit.USAGE,
    ),
    (
        "reconcile",
        "journal held by another writer",
        lambda kit: reconcile(kit, [], journal=kit.locked_journal()),
        Exit.JOURNAL,
    ),
    (
        "reconcile",
        "a channel without a settlement reader",
        lambda kit: [*reconcile(kit, [])[:2], "--channel", "nope", "--journal", kit.journal()],
        Exit.USAGE,
    ),
    ("recover", "nothing to do", lambda kit: kit.recover(kit.journal()), Exit.OK),
    ("recover", "a payment still unknown", unknown_payment, Exit.UNKNOWN),
    (
        "recover",
        "its reference is another payment at the host",
        conflicting_reference,
        Exit.INVALID,
    ),
    ("recover", "unknown channel", recover_unknown_channel, Exit.USAGE),
    (
        "recover",
        "settings the channel cannot use",
        lambda kit: kit.recover(kit.journal(), settings=kit.file("s.json", {})),
        Exit.USAGE,
    ),
    (
        "recover",
        "not a journal",
        lambda kit: kit.recover(kit.file("j.sqlite", "not a journal")),
        Exit.USAGE,
    ),
    (
        "recover",
        "journal held by another writer",
        lambda kit: kit.recover(kit.locked_journal()),
        Exit.JOURNAL,
    ),
    ("outbox", "nothing pending", lambda kit: ["outbox", "--journal", kit.journal()], Exit.OK),
    ("outbox", "something needs a person", outbox_needing_a_person, Exit.INVALID),
    (
        "outbox",
        "no such journal",
        lambda kit: ["outbox", "--journal", str(kit.tmp / "none.sqlite")],
        Exit.USAGE,
    ),
    (
        "outbox",
        "journal held by another writer",
        lambda kit: ["outbox", "--journal", kit.locked_journal()],
        Exit.JOURNAL,
    ),
]


def run_main(argv: list[str]) -> int:
    """:func:`main`'s code, usage errors (argparse's SystemExit) included."""
    try:
        return main(argv)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else -1


@pytest.fixture
def kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
    monkeypatch.delenv("NO_COLOR", raising=False)
    with contextlib.ExitStack() as stack:
        yield Kit(tmp_path, monkeypatch, stack)


@pytest.mark.parametrize(
    ("command", "build", "expected"),
    [pytest.param(c, b, e, id=f"{c}: {what}") for c, what, b, e in CASES],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["readable", "json"])
def test_every_command_exits_by_the_table(
    kit: Kit,
    capsys: pytest.CaptureFixture[str],
    command: str,
    build: Callable[[Kit], list[str]],
    expected: Exit,
    as_json: bool,
) -> None:
    argv = build(kit)
    assert argv[0] == command
    code = run_main([*argv, *(["--json"] if as_json else [])])
    assert code == expected
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    errors = [line for line in captured.err.splitlines() if not line[:1].isspace()]
    errors = [line for line in errors if not line.startswith("usage:")]
    if expected in (Exit.OK, Exit.INVALID, Exit.UNKNOWN):
        assert errors == []  # a result, reported on stdout
    else:
        assert errors, "an error says why on stderr"
        assert all(ERROR_LINE.match(line) for line in errors), errors
    if as_json and not captured.err.startswith("usage:"):  # argparse's own refusal aside
        json.loads(captured.out)  # one JSON document whatever the outcome


def test_every_command_and_code_is_walked() -> None:
    [commands] = [
        action.choices
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    assert {command for command, *_ in CASES} == set(commands)
    # Codes the walk cannot reach cheaply are walked elsewhere: demo's and chaos's OK and
    # INVALID (test_cli, test_crash), HOST, DEPLOYMENT, INTERRUPTED and PIPE_CLOSED here.
    elsewhere = {Exit.HOST, Exit.DEPLOYMENT, Exit.INTERRUPTED, Exit.PIPE_CLOSED}
    assert {expected for *_, expected in CASES} == set(Exit) - elsewhere


# --version, and --json / --as-of on either side of the command ------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"jamsostek-channels {jamsostek_channels.__version__}\n"


def test_json_before_or_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", *QUOTE]) == Exit.OK
    before = json.loads(capsys.readouterr().out)
    assert main([*QUOTE, "--json"]) == Exit.OK
    after = json.loads(capsys.readouterr().out)
    assert before == after
    assert before["total"] == 18_150
    assert main(QUOTE) == Exit.OK
    with pytest.raises(json.JSONDecodeError):
        json.loads(capsys.readouterr().out)  # neither: the readable form


def test_as_of_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A man born 1 Dec 1961 turns 65 on 1 Dec 2026.
    path = tmp_path / "old.json"
    data = participant_data(nik="3201010112610001", birth_date="1961-12-01", sex="male")
    path.write_text(json.dumps(data), encoding="utf-8")
    for argv in (
        ["--as-of", "2026-12-01", "--json", "check", str(path)],
        ["check", str(path), "--as-of", "2026-12-01", "--json"],
        ["--json", "check", str(path), "--as-of", "2026-12-01"],
    ):
        assert main(argv) == Exit.INVALID, argv
        assert json.loads(capsys.readouterr().out)["errors"][0]["code"] == "age.too_old"
    assert main(["--as-of", "2026-11-30", "check", str(path)]) == Exit.OK


def test_a_usage_error_is_the_usage_and_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    nik = "3201015508950001"  # typed into the wrong option: never repeated whole
    assert run_main([*QUOTE[:2], nik, *QUOTE[3:], "--months", "x"]) == Exit.USAGE
    err = capsys.readouterr().err
    usage, line = err.split("\n", 1)[0], err.splitlines()[-1]
    assert usage.startswith("usage: jamsostek-channels quote")
    assert ERROR_LINE.match(line)
    assert line.startswith("jamsostek-channels: error: [cli.usage] quote: ")
    assert "--months" in line
    assert run_main([]) == Exit.USAGE
    assert "[cli.usage]" in capsys.readouterr().err
    assert run_main(["quote", "--income", nik]) == Exit.USAGE
    assert nik not in capsys.readouterr().err


# Output off a terminal and on one -----------------------------------------------------------


def journal_with_an_unknown_payment(path: Path) -> Path:
    """A Kantor Pos payment with a long reference, unknown for 30 minutes: outbox lists it."""
    earlier = now() - dt.timedelta(minutes=30)
    with Journal(path, clock=lambda: earlier) as journal:
        entry, _ = journal.begin("kantorpos", "pay", LONG_REFERENCE, {"a": 1}, attempt=True)
        journal.transition(entry.id, EntryState.UNKNOWN)
    return path


def script_env(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR", "COLUMNS"}}
    return {**env, "PYTHONIOENCODING": "utf-8", "TERM": "xterm-256color", **changes}


def test_piped_output_is_plain_lines_with_references_whole(tmp_path: Path) -> None:
    path = journal_with_an_unknown_payment(tmp_path / "journal.sqlite")
    done = subprocess.run(
        [str(SCRIPT), "outbox", "--journal", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=script_env(COLUMNS="40"),  # a narrow terminal's width must not matter to a pipe
    )
    assert done.returncode == Exit.INVALID, done.stderr
    assert done.stderr == ""
    assert "\x1b" not in done.stdout
    assert "…" not in done.stdout
    [row] = [line.split("\t") for line in done.stdout.splitlines() if LONG_REFERENCE in line]
    header = "channel\treference\tstate\tattempts\tsent\tin flight\t!"
    assert header in done.stdout.splitlines()
    assert row[:3] == ["kantorpos", LONG_REFERENCE, "unknown"]
    assert row[-1] == "!"
    assert done.stdout.splitlines()[-1] == "Perlu ditangani petugas / needs a person: 1"


@pytest.mark.parametrize("as_json", [False, True])
def test_a_reader_gone_ends_with_141_and_no_traceback(as_json: bool) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # gone before the first line: the first write fails (EPIPE)
    try:
        done = subprocess.run(
            [str(SCRIPT), *QUOTE, *(["--json"] if as_json else [])],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
            env=script_env(),
        )
    finally:
        os.close(writer)
    assert done.returncode == Exit.PIPE_CLOSED == 141
    assert done.stderr == ""


def test_reconcile_off_a_terminal_keeps_a_long_reference_whole(
    kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    kit.monkeypatch.setenv("COLUMNS", "40")
    assert main(reconcile(kit, [settled(LONG_REFERENCE)])) == Exit.INVALID
    out = capsys.readouterr().out
    [row] = [line.split("\t") for line in out.splitlines() if LONG_REFERENCE in line]
    assert row[0] == LONG_REFERENCE
    assert "…" not in out
    assert out.splitlines()[-1] == "TIDAK SEIMBANG / NOT BALANCED"


def read_terminal(master: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def on_terminal(argv: list[str], **env: str) -> tuple[int, str, str]:
    """Run the script with stdout and stderr on terminals 160 columns wide."""
    ends = [pty.openpty(), pty.openpty()]
    for _, follower in ends:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    process = subprocess.Popen(
        [str(SCRIPT), *argv],
        stdin=subprocess.DEVNULL,
        stdout=ends[0][1],
        stderr=ends[1][1],
        env=script_env(**env),
    )
    for _, follower in ends:
        os.close(follower)
    out, err = (read_terminal(leader) for leader, _ in ends)
    return process.wait(timeout=60), out, err


def colours(text: str) -> set[int]:
    """The colour parameters (foreground and background, 8/16/256/true colour) of every SGR."""
    found = set()
    for match in SGR.finditer(text):
        for part in filter(None, match.group(1).split(";")):
            if 30 <= int(part) <= 49 or 90 <= int(part) <= 107:
                found.add(int(part))
    return found


def test_a_terminal_gets_rich_tables_and_a_red_error(tmp_path: Path) -> None:
    path = journal_with_an_unknown_payment(tmp_path / "journal.sqlite")
    code, out, err = on_terminal(["outbox", "--journal", str(path)])
    assert code == Exit.INVALID
    assert "┃" in out or "│" in out  # drawn by rich
    assert LONG_REFERENCE in out  # 160 columns: room for it whole
    code, out, err = on_terminal(["check", str(tmp_path / "none.json")])
    assert code == Exit.USAGE
    assert 31 in colours(err)  # "error:" in red
    assert ERROR_LINE.match(SGR.sub("", err).strip())


@pytest.mark.parametrize("value", ["1", "true", "0"])
def test_no_color_means_no_colour_on_a_terminal(tmp_path: Path, value: str) -> None:
    code, _, err = on_terminal(["check", str(tmp_path / "none.json")], NO_COLOR=value)
    assert code == Exit.USAGE
    assert colours(err) == set()
    assert ERROR_LINE.match(SGR.sub("", err).strip())
    settlement = tmp_path / "s.json"
    settlement.write_text(json.dumps([settled()]), encoding="utf-8")
    with Journal(tmp_path / "journal.sqlite"):
        pass
    argv = ["reconcile", str(settlement), "--channel", "kantorpos", "--format", "json"]
    argv += ["--journal", str(tmp_path / "journal.sqlite")]
    code, out, _ = on_terminal(argv, NO_COLOR=value)
    assert code == Exit.INVALID
    assert "NOT BALANCED" in out
    assert colours(out) == set()  # not even the verdict's red


def test_an_empty_no_color_does_not_turn_colour_off(tmp_path: Path) -> None:
    _, _, err = on_terminal(["check", str(tmp_path / "none.json")], NO_COLOR="")
    assert 31 in colours(err)
