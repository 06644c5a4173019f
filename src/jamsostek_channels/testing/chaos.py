"""Crash safety, proven: pay from a process, kill it with SIGKILL at a random point, restart,
``recover()``, and compare the fake host's ledger with the journal.

Kill points:

* ``before-send`` - the payment is journaled (intent written) but the process dies before a
  byte leaves;
* ``after-commit`` - the host applied the payment, and the process dies while its answer is
  still on the way (the gateway holds the answer back; the parent kills the worker as soon as
  the host's ledger shows the payment);
* ``after-reply`` - the answer arrived, and the process dies before journaling it;
* ``none`` - no crash (the control group; the first run is always one).

Every run uses a fresh worker process (``python -m jamsostek_channels.testing.chaos worker``)
against one sandbox on loopback, then a second worker runs ``Client.recover()`` on the same
journal file. Afterwards the ledger and the journal must agree: nothing applied twice, nothing
the host applied that the journal calls unpaid (or the reverse), nothing left unresolved. And the
run must have tested something: a payment whose last worker was not crashed (a control run, or
the counter's retry) must have been applied, or the run is *vacuous* (a worker refused before
sending anything - a wrong agent id, a lapsed participant - proves nothing about crashes).
Each worker takes its channel's agent or teller id from the sandbox's info file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs

if TYPE_CHECKING:
    from jamsostek_channels.channel import Adapter
    from jamsostek_channels.journal import Entry
    from jamsostek_channels.testing.host import LedgerEntry
    from jamsostek_channels.testing.sandbox import Sandbox

__all__ = ["KILL_POINTS", "ChaosReport", "Comparison", "compare", "run_chaos"]

KILL_POINTS = ("before-send", "after-commit", "after-reply", "none")
CHANNEL = "linkaja"
#: How long the gateway holds an answer back for ``after-commit`` (the worker is killed first).
_HOLD_SECONDS = 3.0
_WORKER_TIMEOUT = 60.0


@attrs.frozen
class ChaosReport:
    runs: int
    seed: int
    channel: str
    payments_applied: int  #: payments the host applied (one per reference at most)
    lost: int  #: host and journal disagree on whether money moved
    duplicated: int  #: a reference or a month applied more than once
    unresolved: int  #: journal entries still without a known outcome after recover()
    vacuous: int  #: payments whose last worker was not crashed, yet the host never applied
    kill_points: dict[str, int]
    recovered: dict[str, int]  #: what recover() found: applied / not-applied / unknown
    refusals: dict[str, int]  #: error codes the uncrashed workers got (why a run is vacuous)

    @property
    def ok(self) -> bool:
        """Nothing lost, doubled or unresolved, and every uncrashed payment applied."""
        return self.lost == self.duplicated == self.unresolved == self.vacuous == 0

    def as_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "ok": self.ok}


@attrs.frozen
class Comparison:
    """The fake host's ledger held against the journal's payment entries."""

    applied: frozenset[str]  #: references the host applied and did not reverse
    lost: int
    duplicated: int
    unresolved: int
    vacuous: int


def compare(
    ledger: Sequence[LedgerEntry], entries: Mapping[str, Entry], uncrashed: Iterable[str]
) -> Comparison:
    """What the ledger (one channel's) and the journal (``reference -> entry``) disagree on;
    ``uncrashed``: references whose last worker ran to its end, so which must be applied."""
    from jamsostek_channels.journal import EntryState

    payments = Counter(e.reference for e in ledger if e.kind == "payment")
    reversed_refs = {e.reference for e in ledger if e.kind == "reversal"}
    months = Counter((e.nik, month) for e in ledger if e.kind == "payment" for month in e.periods)
    duplicated = sum(n - 1 for n in payments.values() if n > 1)
    duplicated += sum(n - 1 for n in months.values() if n > 1)
    applied = frozenset(ref for ref in payments if ref not in reversed_refs)
    lost = 0
    for reference, entry in entries.items():
        host_applied = reference in applied
        if entry.state is EntryState.APPLIED and not host_applied:
            lost += 1  # a receipt for money the host never took
        if host_applied and entry.state in (EntryState.NOT_APPLIED, EntryState.DECLINED):
            lost += 1  # money taken that the journal calls unpaid (it would be paid again)
    lost += len(applied - set(entries))  # applied by the host, unknown to the journal
    return Comparison(
        applied=applied,
        lost=lost,
        duplicated=duplicated,
        unresolved=sum(1 for e in entries.values() if not e.state.final),
        vacuous=len(set(uncrashed) - applied),
    )


def _worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "jamsostek_channels.testing.chaos", "worker", *args]


def run_chaos(
    runs: int,
    seed: int,
    *,
    workdir: Path,
    channel: str = CHANNEL,
    agent_id: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ChaosReport:
    """``runs`` payments, each in a worker killed at a random point, recovered, compared.
    ``agent_id`` replaces the info file's agent (or teller) id."""
    from jamsostek_channels.journal import Journal
    from jamsostek_channels.testing.sandbox import Sandbox
    from jamsostek_channels.testing.wire import FaultKind

    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    info_file = workdir / "sandbox-info.json"
    journal_file = workdir / f"chaos-{seed}.sqlite"
    for stale in workdir.glob(f"chaos-{seed}.sqlite*"):
        stale.unlink()
    sandbox = Sandbox(seed=seed, demo=max(12, runs // 4 + 12), channels=(channel,)).start()
    kills: Counter[str] = Counter()
    recovered: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    uncrashed: set[str] = set()

    def run_to_the_end(arguments: list[str], reference: str) -> None:
        """A worker that is not crashed: its payment must apply."""
        uncrashed.add(reference)
        done = subprocess.run(  # noqa: S603 - our own module, fixed arguments
            _worker_command(*arguments, "--kill-at", "none"),
            capture_output=True,
            text=True,
            timeout=_WORKER_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            refusals[_error_code(done.stdout)] += 1

    try:
        sandbox.write_info(info_file)
        people, settle_window = _payable(sandbox, channel)
        settle_window += dt.timedelta(seconds=1)
        offset = [0.0]  # how far the host's clock (and every worker's) has been moved
        for run in range(runs):
            kill = rng.choice(KILL_POINTS) if run else "none"
            kills[kill] += 1
            nik = people[run % len(people)]
            reference = f"CH{seed}R{run}"
            common = [
                "--info",
                str(info_file),
                "--channel",
                channel,
                "--journal",
                str(journal_file),
                "--offset",
                str(offset[0]),
            ]
            if agent_id is not None:
                common += ["--agent-id", agent_id]
            pay = [*common, "--nik", nik, "--reference", reference]
            if kill == "after-commit":
                sandbox.faults.inject(
                    FaultKind.DELAY, match=reference, seconds=_HOLD_SECONDS, prefix=f"/{channel}/"
                )
                worker = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                    _worker_command(*pay, "--kill-at", "none"),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                deadline = time.monotonic() + _WORKER_TIMEOUT
                while reference not in sandbox.host.applied_references(channel):
                    if worker.poll() is not None or time.monotonic() > deadline:
                        break
                    time.sleep(0.01)
                if worker.poll() is None:
                    worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=_WORKER_TIMEOUT)
            elif kill == "none":
                run_to_the_end(pay, reference)
            else:
                subprocess.run(  # noqa: S603 - our own module, fixed arguments
                    _worker_command(*pay, "--kill-at", kill),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=_WORKER_TIMEOUT,
                    check=False,
                )
            # A payment that may never have left proves "not applied" only once the channel's
            # settle window has passed: the host's time (and so the workers') moves past it.
            sandbox.host.advance(settle_window)
            offset[0] += settle_window.total_seconds()
            for arguments in (common, pay):  # every later worker reads the moved clock
                arguments[arguments.index("--offset") + 1] = str(offset[0])
            outcome = subprocess.run(  # noqa: S603 - our own module, fixed arguments
                _worker_command(*common, "--recover"),
                capture_output=True,
                text=True,
                timeout=_WORKER_TIMEOUT,
                check=False,
            )
            if outcome.returncode == 0 and outcome.stdout.strip():
                report = json.loads(outcome.stdout)
                for key in ("applied", "not_applied", "still_unknown"):
                    recovered[key] += len(report.get(key, ()))
            if rng.random() < 0.5:
                # The counter retries with the same reference: one payment, never two.
                kills["retried"] += 1
                run_to_the_end(pay, reference)
            if progress is not None:
                progress(run + 1)

        ledger = [e for e in sandbox.host.ledger() if e.channel == channel]
        journal = Journal(journal_file)
        try:
            entries = {e.reference: e for e in journal.entries(channel, "pay")}
        finally:
            journal.close()
    finally:
        sandbox.stop()

    found = compare(ledger, entries, uncrashed)
    return ChaosReport(
        runs=runs,
        seed=seed,
        channel=channel,
        payments_applied=len(found.applied),
        lost=found.lost,
        duplicated=found.duplicated,
        unresolved=found.unresolved,
        vacuous=found.vacuous,
        kill_points=dict(sorted(kills.items())),
        recovered=dict(sorted(recovered.items())),
        refusals=dict(sorted(refusals.items())),
    )


def _payable(sandbox: Sandbox, channel: str) -> tuple[list[str], dt.timedelta]:
    """The demo participants whose one month this channel takes: not lapsed, and not below its
    minimum amount (a discounted month can be), so an uncrashed payment must apply; and the
    channel's settle window."""
    from jamsostek_channels.adapters import open_adapter
    from jamsostek_channels.channel import CustomerId
    from jamsostek_channels.journal import Journal
    from jamsostek_channels.model import CoverageState

    with Journal() as scratch:
        adapter = open_adapter(channel, sandbox.info()["channels"][channel], journal=scratch)
        minimum = adapter.capabilities.min_amount
        window = adapter.capabilities.settle_window
        adapter.close()
    people = []
    for person in sandbox.demo_participants:
        nik = person["nik"]
        if sandbox.host.coverage(nik).state is CoverageState.LAPSED:
            continue
        if sandbox.host.inquire(CustomerId.nik(nik), 1).amount >= minimum:
            people.append(nik)
    if not people:
        raise ValueError(f"no demo participant can pay one month at {channel}")
    return people, window


def _error_code(stdout: str) -> str:
    """The error code a worker printed (``{"error": code}``), or why there is none."""
    try:
        document = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return "worker.no_answer"
    return str(document.get("error", "worker.no_answer"))


# The worker process ------------------------------------------------------------------------------


class _Killing:
    """Wraps an adapter so the process dies with SIGKILL at a chosen point of ``pay``."""

    def __init__(self, adapter: Any, kill_at: str) -> None:
        self._adapter = adapter
        self._kill_at = kill_at

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)

    def pay(self, request: Any) -> Any:
        if self._kill_at == "before-send":
            os.kill(os.getpid(), signal.SIGKILL)
        result = self._adapter.pay(request)
        if self._kill_at == "after-reply":
            os.kill(os.getpid(), signal.SIGKILL)
        return result


def _worker(argv: Sequence[str]) -> int:
    from jamsostek_channels.adapters import open_adapter
    from jamsostek_channels.client import Client
    from jamsostek_channels.clock import now
    from jamsostek_channels.errors import JamsostekError
    from jamsostek_channels.journal import Journal
    from jamsostek_channels.transport import Timeouts

    parser = argparse.ArgumentParser(prog="chaos worker")
    parser.add_argument("--info", required=True)
    parser.add_argument("--channel", required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--nik")
    parser.add_argument("--reference")
    parser.add_argument("--kill-at", default="none", choices=KILL_POINTS)
    parser.add_argument("--recover", action="store_true")
    parser.add_argument("--agent-id", help="instead of the info file's")
    parser.add_argument(
        "--offset", type=float, default=0.0, help="seconds the sandbox host's clock was moved"
    )
    args = parser.parse_args(argv)
    settings = json.loads(Path(args.info).read_text(encoding="utf-8"))["channels"][args.channel]
    shift = dt.timedelta(seconds=args.offset)

    def clock() -> dt.datetime:  # the sandbox host's time: the wall clock moved as it was
        return now() + shift

    journal = Journal(args.journal, clock=clock)
    adapter = open_adapter(
        args.channel,
        settings,
        journal=journal,
        clock=clock,  # the wrapper below would take the client's clock, not the adapter
        timeouts=Timeouts(connect=2.0, read=_HOLD_SECONDS * 4),
    )
    agent = args.agent_id or settings["agent_id"]
    killing = cast("Adapter", _Killing(adapter, args.kill_at))
    client = Client(killing, journal=journal, agent_id=agent, poll_interval=0.05, clock=clock)
    if args.recover:
        report = client.recover()
        sys.stdout.write(json.dumps(attrs.asdict(report)) + "\n")
        return 0
    try:
        receipt = client.pay(args.nik, months=1, reference=args.reference)
    except JamsostekError as error:
        sys.stdout.write(json.dumps({"error": error.code}) + "\n")
        return 1
    sys.stdout.write(json.dumps({"host_reference": receipt.host_reference}) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        sys.exit(_worker(sys.argv[2:]))
    sys.exit("usage: python -m jamsostek_channels.testing.chaos worker ...")
