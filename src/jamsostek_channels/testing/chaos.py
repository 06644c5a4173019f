"""Crash safety, proven: pay from a process, kill it with SIGKILL at a random point, restart,
``recover()``, and compare the fake host's ledger with the journal.

Kill points:

* ``before-send`` - the payment is journaled (intent written) but the process dies before a
  byte leaves;
* ``after-commit`` - the host applied the payment, and the process dies while its answer is
  still on the way (the gateway holds the answer back; the parent kills the worker as soon as
  the host's ledger shows the payment);
* ``after-reply`` - the answer arrived, and the process dies before journaling it;
* ``held`` - the :class:`~jamsostek_channels.testing.proxy.Proxy` in front of the sandbox holds
  the payment *before* it reaches the host, past the payer's read timeout: the payer gets
  ``OutcomeUnknown`` (or is killed while waiting), the host applies it late, and after recovery
  the journal must say APPLIED, never NOT_APPLIED (a "not found" inside the settle window is no
  proof);
* ``answer-dropped`` - the proxy passes the payment on and resets the connection when the
  answer comes back: the payer resolves it by status;
* ``none`` - no crash (the control group; the first run is always one).

A channel whose fake listens itself (an ISO 8583 switch over TCP: the spec's ``fake_server``)
has no proxy in front: the switch plays the faults itself (``held`` is its ``hold``,
``answer-dropped`` its ``drop``, ``after-commit`` its ``delay``), and :data:`TCP_FAULTS` add
``reset`` (the connection reset before the switch sees the payment) and ``garbage`` (an
unreadable frame instead of the answer). What a payment whose answer was lost must end as
follows the channel's ``Capabilities.resolution``: ``status`` and ``advice`` apply it (at an
``advice`` channel every payment, crashed or not, must apply), ``reverse`` undoes it (reversed,
or voided before it arrived): one the host kept is *misresolved*.

Every run uses a fresh worker process (``python -m jamsostek_channels.testing.chaos worker``)
against one sandbox on loopback (through the proxy, for an HTTP fake); half the runs start a
rival worker running ``Client.recover()`` while the payer is mid-payment (SIGKILLed at a random
moment half of the time); then a worker runs ``recover()`` on the same journal file. Afterwards
the ledger and the journal must agree, per reference: nothing applied twice, nothing the host
applied that the journal calls unpaid (or the reverse), the same customer, months and amount, a
reversal on both sides or neither, nothing left unresolved, and no live payer's lease taken
over. And the run must have tested something: a payment whose last worker was not crashed (a
control run, or the counter's retry), that the proxy held, or that an ``advice`` channel
completes must have been applied, or the run is *vacuous* (a worker refused before sending
anything - a wrong agent id, a lapsed participant - proves nothing
about crashes). Each worker takes its channel's agent or teller id from the sandbox's info file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
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
    from jamsostek_channels.channel import Adapter, Resolution
    from jamsostek_channels.journal import Entry, Transition
    from jamsostek_channels.testing.host import LedgerEntry
    from jamsostek_channels.testing.proxy import Hold
    from jamsostek_channels.testing.sandbox import Sandbox

__all__ = [
    "KILL_POINTS",
    "TCP_FAULTS",
    "ChaosReport",
    "Comparison",
    "compare",
    "kill_points",
    "run_chaos",
    "trespasses",
]

KILL_POINTS = ("before-send", "after-commit", "after-reply", "held", "answer-dropped", "none")
#: Faults only a fake that listens itself (an ISO 8583 switch over framed TCP) plays, beside
#: :data:`KILL_POINTS`: the connection reset before the switch sees the payment, and an
#: unreadable frame instead of the answer after the host applied it.
TCP_FAULTS = ("reset", "garbage")
#: How long the gateway holds an answer back for ``after-commit`` (the worker is killed first).
_HOLD_SECONDS = 3.0
_WORKER_TIMEOUT = 60.0
#: ``held``: the payer's read timeout (the proxy holds its payment until the payer gave up).
_HELD_READ_TIMEOUT = 0.75
#: How long the host may take to apply a request once the proxy has passed it on.
_SETTLE_TIMEOUT = 10.0
#: ``held`` at a listening fake: how long the switch holds the payment before its host sees it
#: (past the payer's read timeout; time-bound, as a switch's own ``hold`` fault is).
_TCP_HOLD_SECONDS = 2.0


@attrs.frozen
class ChaosReport:
    runs: int
    seed: int
    channel: str
    payments_applied: int  #: payments the host applied (one per reference at most)
    lost: int  #: host and journal disagree on whether money moved
    duplicated: int  #: a reference or a month applied more than once
    unresolved: int  #: journal entries still without a known outcome after recover()
    vacuous: int  #: payments that had to apply (uncrashed, or held), yet the host never did
    kill_points: dict[str, int]
    recovered: dict[str, int]  #: what recover() found: applied / not-applied / unknown / ...
    refusals: dict[str, int]  #: error codes the uncrashed workers got (why a run is vacuous)
    mismatched: int = 0  #: host and journal disagree on customer, months, amount or reversal
    trespassed: int = 0  #: leases of live (uncrashed) payers taken over by someone else
    reversals: int = 0  #: reversals the host applied (each must be REVERSED in the journal)
    #: payments whose answer was lost that the channel's policy must undo (``reverse``: a
    #: till's), yet the host kept
    misresolved: int = 0

    @property
    def ok(self) -> bool:
        """Nothing lost, doubled, mismatched, trespassed, misresolved or unresolved, and every
        payment that had to apply applied."""
        return (
            self.lost
            == self.duplicated
            == self.unresolved
            == self.vacuous
            == self.mismatched
            == self.trespassed
            == self.misresolved
            == 0
        )

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
    mismatched: int = 0  #: references whose customer, months, amount or reversal disagree
    reversed: frozenset[str] = frozenset()  #: references the host applied, then reversed


def compare(
    ledger: Sequence[LedgerEntry], entries: Mapping[str, Entry], uncrashed: Iterable[str]
) -> Comparison:
    """What the ledger (one channel's) and the journal (``reference -> entry``) disagree on;
    ``uncrashed``: references that must have been applied (their last worker ran to its end, or
    the host was made to apply them late): applied then reversed counts.

    Per reference: whether money moved (``lost``), what moved (``mismatched``: the customer's
    NIK, the months and the amount of the host's payment against the journaled request), and
    reversals: a host reversal is a REVERSED entry and a REVERSED entry a host reversal."""
    from jamsostek_channels.journal import EntryState

    payments = Counter(e.reference for e in ledger if e.kind == "payment")
    paid = {e.reference: e for e in ledger if e.kind == "payment"}
    reversed_refs = frozenset(e.reference for e in ledger if e.kind == "reversal")
    # A reversed payment's months are unpaid again: paying them again is not a double payment.
    months = Counter(
        (e.nik, month)
        for e in ledger
        if e.kind == "payment" and e.reference not in reversed_refs
        for month in e.periods
    )
    duplicated = sum(n - 1 for n in payments.values() if n > 1)
    duplicated += sum(n - 1 for n in months.values() if n > 1)
    duplicated += sum(
        n - 1
        for n in Counter(e.reference for e in ledger if e.kind == "reversal").values()
        if n > 1
    )
    applied = frozenset(ref for ref in payments if ref not in reversed_refs)
    lost = mismatched = 0
    for reference, entry in entries.items():
        host_applied = reference in applied
        host_reversed = reference in reversed_refs
        if entry.state is EntryState.APPLIED and not host_applied:
            if host_reversed:
                mismatched += 1  # refunded at the host, a standing receipt in the journal
            else:
                lost += 1  # a receipt for money the host never took
        if entry.state in (EntryState.NOT_APPLIED, EntryState.DECLINED):
            if host_applied:
                lost += 1  # money taken that the journal calls unpaid (it would be paid again)
            elif host_reversed:
                mismatched += 1  # a payment and its reversal the journal never saw
        if entry.state is EntryState.REVERSED and not host_reversed:
            mismatched += 1  # the journal says refunded; the host kept the money (or never had it)
        if reference in paid and not _same_payment(paid[reference], entry):
            mismatched += 1
    lost += len(applied - set(entries))  # applied by the host, unknown to the journal
    mismatched += len((reversed_refs & set(paid)) - applied - set(entries))
    mismatched += len(reversed_refs - set(paid))  # a reversal of nothing
    return Comparison(
        applied=applied,
        lost=lost,
        duplicated=duplicated,
        unresolved=sum(1 for e in entries.values() if not e.state.final),
        vacuous=len(set(uncrashed) - set(payments)),
        mismatched=mismatched,
        reversed=reversed_refs & frozenset(paid),
    )


def _same_payment(paid: LedgerEntry, entry: Entry) -> bool:
    """Whether the host's payment is the journaled request: the customer (when it is named by
    NIK), the months and the amount. A journal entry whose request cannot be read is not."""
    from jamsostek_channels.channel import CustomerIdKind, PaymentRequest
    from jamsostek_channels.converters import structure

    try:
        request = structure(dict(entry.request["request"]), PaymentRequest)
    except Exception:  # anything unreadable proves nothing: a mismatch
        return False
    same_customer = request.customer.kind is not CustomerIdKind.NIK or (
        request.customer.value == paid.nik
    )
    return same_customer and request.periods == paid.periods and request.amount == paid.amount


def trespasses(histories: Iterable[Transition], live_owners: Iterable[str]) -> int:
    """Lease take-overs (journal history lines) of an owner that was alive and never crashed:
    someone (a concurrent ``recover``, another payer) took a live payer's entry, or a payer
    that ended by itself left its lease behind."""
    live = set(live_owners)
    count = 0
    for line in histories:
        taken = _TAKEN_OVER.fullmatch(line.why)
        if taken is not None and taken.group(1) in live:
            count += 1
    return count


#: ``Journal.take_lease``'s history line when it takes over someone else's lease.
_TAKEN_OVER = re.compile(r"lease of (\S+) expired: taken over")


def _worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "jamsostek_channels.testing.chaos", "worker", *args]


class _Worker:
    """One worker process; its stdout is kept (a few lines) for the owner id and the answer."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            _worker_command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.killed = False
        self.stdout = ""

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, seconds: float) -> None:
        """Let it run for up to ``seconds`` (less if it ends)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=seconds)

    def kill(self) -> None:
        if self.running():
            self.killed = True
            self.process.send_signal(signal.SIGKILL)

    def finish(self, timeout: float = _WORKER_TIMEOUT) -> int:
        """Wait (bounded; killed past it) and reap it: a zombie counts as alive to a lease."""
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            out, _ = self.process.communicate(timeout=_WORKER_TIMEOUT)
        self.stdout = out or ""
        code = self.process.returncode
        if code == -signal.SIGKILL:
            self.killed = True
        return code

    def lines(self) -> list[dict[str, Any]]:
        documents = []
        for line in self.stdout.splitlines():
            with contextlib.suppress(ValueError):
                document = json.loads(line)
                if isinstance(document, dict):
                    documents.append(document)
        return documents

    @property
    def owner(self) -> str | None:
        return next((d["owner"] for d in self.lines() if "owner" in d), None)

    def report(self) -> dict[str, Any]:
        """The last line it printed (an answer, a recovery report, ``{"error": code}``)."""
        documents = [d for d in self.lines() if "owner" not in d]
        return documents[-1] if documents else {}


def _applied(
    sandbox: Sandbox, channel: str, reference: str, timeout: float, worker: _Worker | None = None
) -> bool:
    """Whether the host applies ``reference`` within ``timeout`` seconds (polled; given up
    early when ``worker`` ends)."""
    deadline = time.monotonic() + timeout
    while reference not in sandbox.host.applied_references(channel):
        if (worker is not None and not worker.running()) or time.monotonic() > deadline:
            return reference in sandbox.host.applied_references(channel)
        time.sleep(0.01)
    return True


def _matched(hold: Hold, worker: _Worker) -> bool:
    """Whether the proxy got the held request (given up when the worker ends without it)."""
    deadline = time.monotonic() + _WORKER_TIMEOUT
    while not hold.matched.wait(0.01):
        if not worker.running() or time.monotonic() > deadline:
            return hold.matched.is_set()
    return True


def kill_points(channel: str) -> tuple[str, ...]:
    """The scenarios a run against ``channel`` draws from: :data:`KILL_POINTS`, and
    :data:`TCP_FAULTS` where its fake listens itself."""
    from jamsostek_channels import registry

    listening = registry.spec(channel).fake_server is not None
    return (*KILL_POINTS, *TCP_FAULTS) if listening else KILL_POINTS


def _taken(sandbox: Sandbox, seen: int, worker: _Worker) -> float | None:
    """When (``time.monotonic()``) a fault planned after ``seen`` faults had fired was taken by
    a listening fake's message; ``None`` when the worker ended without sending it."""
    deadline = time.monotonic() + _WORKER_TIMEOUT
    while len(sandbox.faults.history) <= seen:
        if not worker.running() or time.monotonic() > deadline:
            return time.monotonic() if len(sandbox.faults.history) > seen else None
        time.sleep(0.01)
    return time.monotonic()


def run_chaos(
    runs: int,
    seed: int,
    *,
    workdir: Path,
    channel: str | None = None,
    agent_id: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ChaosReport:
    """``runs`` payments, each in a worker killed at a random point (or held, or its answer
    lost, by the proxy in front of an HTTP fake or by a listening fake's own fault knobs), with
    a rival ``recover`` now and then (killed at random too), recovered, compared. ``channel``:
    one the sandbox fakes (:func:`~jamsostek_channels.testing.sandbox.faked_channels`;
    default: the first; another is a ``ValueError``).
    ``agent_id`` replaces the info file's agent (or teller) id.

    What a payment whose answer was lost must end as follows the channel's resolution policy:
    applied where the host is asked (``status``) or the payment completed by advice
    (``advice``, where every payment applies, crashed or not); not applied where it is undone
    by reversal (``reverse``: every payment but the uncrashed ones ends reversed or voided)."""
    from jamsostek_channels import registry
    from jamsostek_channels.channel import Resolution
    from jamsostek_channels.journal import Journal
    from jamsostek_channels.testing.proxy import Proxy
    from jamsostek_channels.testing.sandbox import Sandbox, faked_channels
    from jamsostek_channels.testing.wire import FaultKind

    covered = faked_channels()
    channel = channel or covered[0]
    if channel not in covered:
        raise ValueError(f"chaos runs against {', '.join(covered)}, not {channel!r}")
    listening = registry.spec(channel).fake_server is not None

    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    info_file = workdir / "sandbox-info.json"
    journal_file = workdir / f"chaos-{seed}.sqlite"
    for stale in workdir.glob(f"chaos-{seed}.sqlite*"):
        stale.unlink()
    sandbox = Sandbox(seed=seed, demo=max(12, runs // 4 + 12), channels=(channel,)).start()
    # An HTTP fake is reached through the proxy; a listening fake plays its faults itself.
    proxy = None
    if not listening:
        assert sandbox.server is not None
        proxy = Proxy(sandbox.server.base_url).start()
    prefix = f"/{channel}/"
    kills: Counter[str] = Counter()
    recovered: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    must_apply: set[str] = set()
    must_not_apply: set[str] = set()  # the policy undoes them (``reverse``)
    live_owners: set[str] = set()  # payers that ran to their end: nobody may take their lease

    def count_recovery(worker: _Worker) -> None:
        report = worker.report()
        for key in ("applied", "not_applied", "still_unknown", "in_flight", "conflicts"):
            recovered[key] += len(report.get(key, ()))

    def payer_done(worker: _Worker) -> None:
        if not worker.killed and worker.owner is not None:
            live_owners.add(worker.owner)

    def run_to_the_end(arguments: list[str], reference: str) -> None:
        """A worker that is not crashed: its payment must apply."""
        must_apply.add(reference)
        worker = _Worker(*arguments, "--kill-at", "none")
        if worker.finish() != 0:
            refusals[_error_code(worker.stdout)] += 1
        payer_done(worker)

    def expect_unanswered(reference: str) -> None:
        """A payment whose answer was lost (or whose payer died) ends as the channel's policy
        settles it: completed (``advice``) or undone (``reverse``); ``status`` proves either."""
        if resolution is Resolution.ADVICE:
            must_apply.add(reference)
        elif resolution is Resolution.REVERSE:
            must_not_apply.add(reference)

    def run_unanswered(arguments: list[str], reference: str) -> None:
        """A worker that is not crashed, its answer lost on the wire: it must end with its
        receipt unless the channel's policy undoes such a payment (then it is refused)."""
        if resolution is not Resolution.REVERSE:
            run_to_the_end(arguments, reference)
            return
        must_not_apply.add(reference)
        worker = _Worker(*arguments, "--kill-at", "none")
        worker.finish()
        payer_done(worker)

    def rival(arguments: list[str]) -> _Worker:
        """A recover() running while a payer is mid-payment; SIGKILLed at a random moment
        half of the time."""
        worker = _Worker(*arguments, "--recover")
        kills["rival-recover"] += 1
        if rng.random() < 0.5:
            kills["rival-killed"] += 1
            worker.wait(rng.uniform(0.0, 0.8))
            worker.kill()
        return worker

    try:
        info = sandbox.info()
        if proxy is not None:  # every worker reaches the host through the proxy
            base_url = info["channels"][channel]["base_url"]
            info["channels"][channel]["base_url"] = proxy.through(base_url)
        _write_json(info_file, info)
        people, settle_window, reversible, resolution = _payable(sandbox, channel, runs)
        settle_window += dt.timedelta(seconds=1)
        offset = [0.0]  # how far the host's clock (and every worker's) has been moved
        # Every crash scenario once per round, in a random order, so a short run covers each
        # (the control group: the first run and every retry).
        order: list[str] = []
        for run in range(runs):
            if run and not order:
                order = [point for point in kill_points(channel) if point != "none"]
                rng.shuffle(order)
            kill = order.pop() if run else "none"
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
            with_rival = run > 0 and rng.random() < 0.5
            rivals: list[_Worker] = []
            if kill in ("before-send", "after-commit", "after-reply"):
                expect_unanswered(reference)
            if kill == "after-commit":
                # The fake holds the answer: the host committed, the payer waits, is killed.
                sandbox.faults.inject(
                    FaultKind.DELAY, match=reference, seconds=_HOLD_SECONDS, prefix=prefix
                )
                worker = _Worker(*pay, "--kill-at", "none")
                _applied(sandbox, channel, reference, _WORKER_TIMEOUT, worker)
                if with_rival:  # while the payer still waits for its answer, lease held
                    rivals.append(rival(common))
                    rivals[-1].finish(_HOLD_SECONDS)
                worker.kill()
                worker.finish()
            elif kill == "held" and proxy is not None:
                # The proxy holds the payment before the host sees it, past the payer's read
                # timeout, and lets it go only once the payer gave up (OutcomeUnknown) or was
                # killed and a recover has asked about it: "not found" inside the settle window
                # is no proof, so nobody may call it unpaid. The host then applies it late.
                must_apply.add(reference)
                held = proxy.hold(reference, seconds=_WORKER_TIMEOUT)  # released below
                worker = _Worker(
                    *pay, "--kill-at", "none", "--read-timeout", str(_HELD_READ_TIMEOUT)
                )
                _matched(held, worker)
                if with_rival:
                    rivals.append(rival(common))
                if rng.random() < 0.5:
                    kills["held-killed"] += 1
                    worker.kill()
                if worker.finish() != 0 and not worker.killed and not held.matched.is_set():
                    refusals[_error_code(worker.stdout)] += 1  # refused before it was sent
                payer_done(worker)
                if held.matched.is_set():
                    early = _Worker(*common, "--recover")  # while the payment is still held
                    early.finish()
                    count_recovery(early)
                    held.release()
                    held.forwarded.wait(_WORKER_TIMEOUT)
                    _applied(sandbox, channel, reference, _SETTLE_TIMEOUT)
            elif kill == "held":
                # The listening fake holds the payment before its host sees it, past the
                # payer's read timeout: the payer (or, killed, a recover) settles it by policy
                # meanwhile - an advice applies it, a reversal voids it so the late one is
                # refused - and the held one arrives late without moving money twice.
                expect_unanswered(reference)
                seen = len(sandbox.faults.history)
                sandbox.faults.inject(
                    FaultKind.HOLD, match=reference, seconds=_TCP_HOLD_SECONDS, prefix=prefix
                )
                worker = _Worker(
                    *pay, "--kill-at", "none", "--read-timeout", str(_HELD_READ_TIMEOUT)
                )
                taken = _taken(sandbox, seen, worker)
                if with_rival:
                    rivals.append(rival(common))
                if rng.random() < 0.5:
                    kills["held-killed"] += 1
                    worker.kill()
                if worker.finish() != 0 and not worker.killed and taken is None:
                    refusals[_error_code(worker.stdout)] += 1  # refused before it was sent
                payer_done(worker)
                if taken is not None:
                    early = _Worker(*common, "--recover")  # while the payment may be held
                    early.finish()
                    count_recovery(early)
                    # Until the held payment has reached the host (and been answered).
                    time.sleep(max(0.0, taken + _TCP_HOLD_SECONDS + 0.3 - time.monotonic()))
            elif kill == "answer-dropped":
                # The payment is passed on and the connection reset when the answer comes:
                # the payer settles it by its channel's policy.
                if proxy is not None:
                    proxy.drop_answer(reference)
                else:
                    sandbox.faults.inject(FaultKind.DROP, match=reference, prefix=prefix)
                if with_rival:
                    rivals.append(rival(common))
                run_unanswered(pay, reference)
            elif kill in TCP_FAULTS:
                # The connection reset before the switch sees the payment, or an unreadable
                # frame instead of its answer once the host applied it.
                sandbox.faults.inject(FaultKind(kill), match=reference, prefix=prefix)
                if with_rival:
                    rivals.append(rival(common))
                run_unanswered(pay, reference)
            elif kill == "none":
                if with_rival:
                    rivals.append(rival(common))
                run_to_the_end(pay, reference)
            else:
                worker = _Worker(*pay, "--kill-at", kill)
                if with_rival:
                    rivals.append(rival(common))
                worker.finish()
            for other in rivals:
                other.finish()
                count_recovery(other)
            if proxy is not None:
                proxy.clear()
            sandbox.faults.clear()  # one a payment refused before sending never took
            # A payment that may never have left proves "not applied" only once the channel's
            # settle window has passed: the host's time (and so the workers') moves past it.
            offset[0] = _advance(sandbox, settle_window, offset[0], common, pay)
            recovery = _Worker(*common, "--recover")
            recovery.finish()
            count_recovery(recovery)
            if kill != "held" and rng.random() < 0.5:
                # The counter retries with the same reference: one payment, never two. (Not
                # after ``held``: the retry's idempotent answer would hide a premature
                # NOT_APPLIED.) One the policy undid stays undone: refused, never applied.
                kills["retried"] += 1
                if reference in must_not_apply:
                    retry = _Worker(*pay, "--kill-at", "none")
                    retry.finish()
                    payer_done(retry)
                else:
                    run_to_the_end(pay, reference)
            if reversible and rng.random() < 0.3:
                # A reversal, its worker killed at random half of the time; recover delivers it.
                kills["reversal"] += 1
                reverser = _Worker(*common, "--reverse", reference)
                if rng.random() < 0.5:
                    kills["reversal-killed"] += 1
                    reverser.wait(rng.uniform(0.0, 0.8))
                    reverser.kill()
                reverser.finish()
            if progress is not None:
                progress(run + 1)
        # The last word: past every lease and settle window, one more recover settles what a
        # killed worker (a payer, a rival, a reverser) left behind.
        offset[0] = _advance(sandbox, settle_window, offset[0], [], [])
        final = _Worker(*_with_offset(common, offset[0]), "--recover")
        final.finish()
        count_recovery(final)

        ledger = [e for e in sandbox.host.ledger() if e.channel == channel]
        journal = Journal(journal_file)
        try:
            entries = {e.reference: e for e in journal.entries(channel, "pay")}
            history = [line for e in entries.values() for line in journal.history(e.id)]
        finally:
            journal.close()
    finally:
        if proxy is not None:
            proxy.close()
        sandbox.stop()

    found = compare(ledger, entries, must_apply)
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
        mismatched=found.mismatched,
        trespassed=trespasses(history, live_owners),
        reversals=len(found.reversed),
        misresolved=len(must_not_apply & found.applied),
    )


def _advance(sandbox: Sandbox, by: dt.timedelta, offset: float, *arguments: list[str]) -> float:
    """Move the host's clock by ``by``; the new offset, written into every worker's
    ``arguments`` that has one."""
    sandbox.host.advance(by)
    offset += by.total_seconds()
    for argument in arguments:
        if "--offset" in argument:
            argument[argument.index("--offset") + 1] = str(offset)
    return offset


def _with_offset(arguments: list[str], offset: float) -> list[str]:
    moved = list(arguments)
    moved[moved.index("--offset") + 1] = str(offset)
    return moved


def _write_json(path: Path, document: object) -> None:
    """Write atomically: a worker never reads a half-written info file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(temporary, path)


def _payable(
    sandbox: Sandbox, channel: str, runs: int
) -> tuple[list[str], dt.timedelta, bool, Resolution]:
    """The demo participants whose one month this channel takes: not lapsed, now or when the
    runs have moved the host's clock as far as they may (a run that starts just before a
    month's end must not find its participants lapsed after midnight), and not below its
    minimum amount (a discounted month can be), so an uncrashed payment must apply; the
    channel's settle window; whether it takes reversals; how it settles a lost answer."""
    from jamsostek_channels import registry
    from jamsostek_channels.channel import CustomerId, Operation
    from jamsostek_channels.journal import Journal
    from jamsostek_channels.model import CoverageState

    with Journal() as scratch:
        settings = sandbox.info()["channels"][channel]
        adapter = registry.spec(channel).open_adapter(settings, journal=scratch)
        minimum = adapter.capabilities.min_amount
        window = adapter.capabilities.settle_window
        reversible = Operation.REVERSE in adapter.capabilities.operations
        resolution = adapter.capabilities.resolution
        adapter.close()
    # Each run moves the host's clock past the settle window a few times at most.
    last_day = (sandbox.host.now() + runs * 4 * window + dt.timedelta(days=1)).date()
    people = []
    for person in sandbox.demo_participants:
        nik = person["nik"]
        if any(
            sandbox.host.coverage(nik, as_of=day).state is CoverageState.LAPSED
            for day in (sandbox.host.today(), last_day)
        ):
            continue
        if sandbox.host.inquire(CustomerId.nik(nik), 1).amount >= minimum:
            people.append(nik)
    if not people:
        raise ValueError(f"no demo participant can pay one month at {channel}")
    return people, window, reversible, resolution


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
    from jamsostek_channels import registry
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
    parser.add_argument("--reverse", metavar="REFERENCE", help="reverse this payment")
    parser.add_argument("--read-timeout", type=float, default=_HOLD_SECONDS * 4)
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
    spec = registry.spec(args.channel)
    typed = spec.parse_settings(settings)
    adapter = spec.open_adapter(
        typed,
        journal=journal,
        clock=clock,  # the wrapper below would take the client's clock, not the adapter
        timeouts=Timeouts(connect=2.0, read=args.read_timeout),
    )
    agent = args.agent_id or typed.agent_id
    killing = cast("Adapter", _Killing(adapter, args.kill_at))
    client = Client(killing, journal=journal, agent_id=agent, poll_interval=0.05, clock=clock)
    # Who holds this worker's leases: the parent checks nobody took a live payer's over.
    sys.stdout.write(json.dumps({"owner": client.owner}) + "\n")
    sys.stdout.flush()
    if args.recover:
        report = client.recover()
        sys.stdout.write(json.dumps(attrs.asdict(report)) + "\n")
        return 0
    try:
        if args.reverse:
            reversal = client.reverse(args.reverse)
            sys.stdout.write(json.dumps({"reversal": reversal.state.value}) + "\n")
            return 0
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
