"""The journal's figures since it keeps a history and leases (issue 10): one compare-and-set
transition, and the throughput of payments journaled as ``Client.pay`` journals them, from 8
threads and from 4 processes on one file - each beside raw durable SQLite commits
(:class:`bench.loopback.DurableLog`) measured in the same run, the two taking turns.

A payment, as the client journals it: ``begin(..., attempt=True, lease=...)`` before it is sent,
then ``transition(..., APPLIED, outcome, owner=...)`` after: two durable commits. Its floor:
two raw inserts + commits of a row of the same size on the caller's own connection.

Both files are primed before any timing, past SQLite's automatic checkpoint, so each is timed in
its steady state: a fresh WAL file grows with every commit (and each fsync then also writes the
file system's metadata), while a WAL past its first checkpoint is rewritten in place, which costs
less. Without it, whichever side had written more before the timing would look cheaper.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from bench.channels import RAW_BODY, RECORD
from bench.harness import Result
from bench.loopback import DurableLog, fresh

__all__ = ["payments_processes", "payments_threads", "run", "transition"]

#: What a payment's APPLIED transition stores, roughly (the host's answer).
OUTCOME: dict[str, Any] = {
    "state": "applied",
    "host_reference": "BPJS-0000001234",
    "amount": 36800,
    "paid_at": "2026-11-22T10:00:00+07:00",
}
_LEASE = dt.timedelta(minutes=2)
#: Rounds per side in the throughput figures (taken in turns, which side first alternating).
_ROUNDS = 6
#: Untimed payments (two commits each) that take a fresh file past its first checkpoint (1000
#: pages of WAL): a journaled payment writes about 6 pages, a raw one about 4.5.
_PRIME = 300


def _until() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + _LEASE


def transition(count: int = 400) -> Result:
    """One compare-and-set transition under a lease (entry read, state checked, lease checked,
    row updated, history appended: one durable commit) beside one raw insert + commit.

    Entries are journaled (untimed) as the client does before sending; each then moves PENDING
    -> UNKNOWN (lease renewed) and UNKNOWN -> APPLIED (with its outcome), each move timed alone.
    Journal and floor take turns call by call; each figure is the median call.
    """
    from jamsostek_channels.journal import EntryState, Journal

    journal = Journal(fresh("bench-transition.sqlite"))
    log = DurableLog(fresh("bench-transition-raw.sqlite"))
    owner = journal.owner_id("bench")
    _prime(journal, log)
    ids = []
    for index in range(count):
        lease = (owner, _until())
        entry, _ = journal.begin("bench", "pay", f"T{index}", RECORD, attempt=True, lease=lease)
        ids.append(entry.id)
    # (to, outcome, why, the lease renewed): PENDING -> UNKNOWN, then UNKNOWN -> APPLIED.
    moves: list[tuple[EntryState, dict[str, Any] | None, str, bool]] = [
        (EntryState.UNKNOWN, None, "no answer", True),
        (EntryState.APPLIED, OUTCOME, "status: applied", False),
    ]
    times: dict[str, list[float]] = {"journal": [], "floor": []}
    # Warm both (statements prepared, pages cached) outside the timing.
    journal.transition(ids[0], EntryState.UNKNOWN, owner=owner, why="warm")
    log.commit("warm", RAW_BODY)
    calls = 0
    for to, outcome, why, renew in moves:
        for entry_id in ids[1:]:
            for side in ("journal", "floor") if calls % 2 == 0 else ("floor", "journal"):
                start = time.perf_counter()
                if side == "journal":
                    renewed = (owner, _until()) if renew else None
                    journal.transition(entry_id, to, outcome, owner=owner, lease=renewed, why=why)
                else:
                    log.commit(f"R{calls}", RAW_BODY)
                times[side].append(time.perf_counter() - start)
            calls += 1
    journal.close()
    log.close()
    value, floor = statistics.median(times["journal"]), statistics.median(times["floor"])
    return Result(
        "journal transition (CAS + history + lease)",
        value,
        "raw SQLite WAL insert+commit, FULL",
        floor,
        "ratio ≤ 1.25×",
        value <= 1.25 * floor,
    )


def _prime(journal: Any, raw: Path | DurableLog) -> None:
    """Take both files past their first checkpoint, untimed (see the module's docstring); the
    raw table made once, not by several payers at once."""
    log = DurableLog(raw) if isinstance(raw, Path) else raw
    journal_pay = _journal_payer(journal, "prime")[1]
    raw_pay = _raw_payer_on(log, "prime")
    for index in range(_PRIME):
        journal_pay(str(index))
        raw_pay(str(index))
    if isinstance(raw, Path):
        log.close()


# One payer (a thread or a process): ``prepare()`` untimed (a connection opened, a payment
# made), then ``pay(tag)`` for each payment, with distinct tags.
_Payer = tuple[Callable[[], None], Callable[[str], None]]


def _journal_payer(journal: Any, name: str) -> _Payer:
    from jamsostek_channels.journal import EntryState

    owner = journal.owner_id(name)

    def pay(tag: str) -> None:
        entry, created = journal.begin(
            "bench",
            "pay",
            f"{name}-{tag}",
            RECORD,
            attempt=True,
            lease=(owner, _until()),
            actor="pay",
        )
        assert created
        journal.transition(
            entry.id, EntryState.APPLIED, OUTCOME, owner=owner, actor="pay", why="applied"
        )

    return (lambda: pay("warm")), pay


def _raw_payer_on(log: DurableLog, name: str) -> Callable[[str], None]:
    def pay(tag: str) -> None:
        log.commit(f"{name}-{tag}-intent", RAW_BODY)
        log.commit(f"{name}-{tag}-outcome", RAW_BODY)

    return pay


def _raw_payer(path: Path, name: str) -> _Payer:
    pays: list[Callable[[str], None]] = []

    def prepare() -> None:
        # Its own connection, opened in the thread that uses it.
        pays.append(_raw_payer_on(DurableLog(path), name))
        pay("warm")

    def pay(tag: str) -> None:
        pays[0](tag)

    return prepare, pay


def _threads_round(payers: list[_Payer], payments: int, tag: str) -> float:
    """Seconds per payment, all threads together: from the first thread's start to the last
    one's end, over every payment made."""
    barrier = threading.Barrier(len(payers))
    spans: list[tuple[float, float]] = []

    def work(payer: _Payer) -> None:
        prepare, pay = payer
        prepare()
        barrier.wait()
        start = time.perf_counter()
        for index in range(payments):
            pay(f"{tag}-{index}")
        spans.append((start, time.perf_counter()))

    threads = [threading.Thread(target=work, args=(payer,)) for payer in payers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _per_payment(spans, len(payers) * payments)


def _per_payment(spans: list[tuple[float, float]], total: int) -> float:
    return (max(end for _, end in spans) - min(start for start, _ in spans)) / total


def payments_threads(threads: int = 8, payments: int = 40) -> Result:
    """Payments through one ``Journal`` from ``threads`` threads (each its own connection, as
    the journal gives it), beside the same threads making two raw commits per payment on
    their own connections to one WAL file. Rounds in turns; the best round of each."""
    from jamsostek_channels.journal import Journal

    journal = Journal(fresh("bench-threads.sqlite"))
    raw_path = fresh("bench-threads-raw.sqlite")
    _prime(journal, raw_path)
    rounds: dict[str, list[float]] = {"journal": [], "floor": []}
    for turn in range(_ROUNDS):
        sides = ["journal", "floor"] if turn % 2 == 0 else ["floor", "journal"]
        for side in sides:
            payers = [
                _journal_payer(journal, f"t{turn}.{n}")
                if side == "journal"
                else _raw_payer(raw_path, f"t{turn}.{n}")
                for n in range(threads)
            ]
            rounds[side].append(_threads_round(payers, payments, side))
    journal.close()
    return _throughput(f"{threads} threads", rounds)


def _throughput(who: str, rounds: dict[str, list[float]]) -> Result:
    value, floor = min(rounds["journal"]), min(rounds["floor"])
    return Result(
        f"payment journaled, {who} (begin + APPLIED; wall time each)",
        value,
        "2 raw WAL commits per payment, same payers",
        floor,
        "throughput ≥ 0.7× floor (ratio ≤ 1.43×)",
        value <= floor / 0.7,
    )


def _process_main(
    index: int, journal_path: Path, raw_path: Path, barrier: Barrier, pipe: Connection
) -> None:
    """A worker process: its own ``Journal`` and raw connection on the shared files; for each
    ``(side, tag, payments)`` it is sent, pays in step with the others and answers its span."""
    from jamsostek_channels.journal import Journal

    journal = Journal(journal_path)
    payers = {
        "journal": _journal_payer(journal, f"p{index}"),
        "floor": _raw_payer(raw_path, f"p{index}"),
    }
    for prepare, _ in payers.values():
        prepare()
    pipe.send("ready")
    while (order := pipe.recv()) is not None:
        side, tag, payments = order
        pay = payers[side][1]
        barrier.wait()
        start = time.perf_counter()  # CLOCK_MONOTONIC: one clock for every process
        for number in range(payments):
            pay(f"{tag}-{number}")
        pipe.send((start, time.perf_counter()))
    journal.close()


def payments_processes(processes: int = 4, payments: int = 80) -> Result:
    """Payments from ``processes`` processes, each its own ``Journal`` on one file, beside the
    same processes making two raw commits per payment on their own connections to one WAL
    file. The workers start (and warm up) once, untimed; rounds in turns, the best of each."""
    context = multiprocessing.get_context("spawn")
    journal_path = fresh("bench-processes.sqlite")
    raw_path = fresh("bench-processes-raw.sqlite")
    from jamsostek_channels.journal import Journal

    with Journal(journal_path) as journal:  # schema and instance made before the workers race
        _prime(journal, raw_path)
    barrier = context.Barrier(processes)
    pipes: list[Connection] = []
    workers = []
    for index in range(processes):
        ours, theirs = context.Pipe()
        worker = context.Process(
            target=_process_main, args=(index, journal_path, raw_path, barrier, theirs)
        )
        worker.start()
        pipes.append(ours)
        workers.append(worker)
    rounds: dict[str, list[float]] = {"journal": [], "floor": []}
    try:
        for pipe in pipes:
            if not pipe.poll(60) or pipe.recv() != "ready":
                raise RuntimeError("a benchmark worker did not start")
        for turn in range(_ROUNDS):
            for side in ["journal", "floor"] if turn % 2 == 0 else ["floor", "journal"]:
                for pipe in pipes:
                    pipe.send((side, f"{turn}", payments))
                spans = []
                for pipe in pipes:
                    if not pipe.poll(120):
                        raise RuntimeError("a benchmark worker stalled")
                    spans.append(pipe.recv())
                rounds[side].append(_per_payment(spans, processes * payments))
        for pipe in pipes:
            pipe.send(None)
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
                worker.join()
    return _throughput(f"{processes} processes", rounds)


def run() -> list[Result]:
    return [transition(), payments_threads(), payments_processes()]
