"""Durable sequences (issue 11): blocks reserved in the journal, never reused after a restart,
wrapping like a STAN, unique across threads and across two sources on one file."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jamsostek_channels.journal import Journal
from jamsostek_channels.sequences import SequenceSource


def test_a_restart_never_reuses_a_value(tmp_path: Path) -> None:
    path = tmp_path / "seq.sqlite"
    with Journal(path) as journal:
        source = SequenceSource(journal, block=10)
        before = [source.next("stan") for _ in range(3)]
    with Journal(path) as journal:  # the process restarted: the rest of its block is skipped
        source = SequenceSource(journal, block=10)
        after = [source.next("stan") for _ in range(3)]
    assert before == [1, 2, 3]
    assert after == [11, 12, 13]


def test_one_durable_commit_per_block(tmp_path: Path) -> None:
    reserved: list[tuple[str, int]] = []

    class Counting(Journal):
        def reserve(self, name: str, count: int) -> int:
            reserved.append((name, count))
            return super().reserve(name, count)

    with Counting(tmp_path / "count.sqlite") as journal:
        source = SequenceSource(journal, block=50)
        values = [source.next("rrn") for _ in range(120)]
    assert values == list(range(1, 121))
    assert reserved == [("rrn", 50)] * 3


def test_a_stan_wraps_from_999999_to_000001() -> None:
    journal = Journal()
    journal.reserve("stan", 999_997)  # the counter has come a long way
    source = SequenceSource(journal, block=4)
    stans = [f"{source.next('stan', cycle=999_999):06d}" for _ in range(4)]
    assert stans == ["999998", "999999", "000001", "000002"]


def test_counters_are_independent_by_name() -> None:
    source = SequenceSource(Journal(), block=5)
    assert [source.next("a"), source.next("b"), source.next("a")] == [1, 1, 2]


def test_threads_never_share_a_value(tmp_path: Path) -> None:
    with Journal(tmp_path / "threads.sqlite") as journal:
        source = SequenceSource(journal, block=7)
        taken: list[list[int]] = [[] for _ in range(8)]

        def work(index: int) -> None:
            taken[index].extend(source.next("stan") for _ in range(300))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    values = [value for mine in taken for value in mine]
    assert len(values) == 2400
    assert len(set(values)) == 2400
    assert all(mine == sorted(mine) for mine in taken)  # each thread's own values ascend


def _take(path: str, count: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    with Journal(path) as journal:
        source = SequenceSource(journal, block=3)
        out.put([source.next("stan") for _ in range(count)])


def test_two_processes_on_one_file_take_disjoint_values(tmp_path: Path) -> None:
    path = str(tmp_path / "procs.sqlite")
    Journal(path).close()  # the schema made before the two race
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [context.Process(target=_take, args=(path, 200, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert len(results[0]) == len(results[1]) == 200
    assert not set(results[0]) & set(results[1])


def test_bad_block_or_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="block"):
        SequenceSource(Journal(), block=0)
    with pytest.raises(ValueError, match="cycle"):
        SequenceSource(Journal()).next("stan", cycle=0)


@settings(max_examples=50, deadline=None)
@given(
    blocks=st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=4),
    calls=st.integers(min_value=1, max_value=60),
    cycle=st.integers(min_value=1, max_value=25),
)
def test_across_any_restarts_values_never_repeat_within_a_cycle(
    blocks: list[int], calls: int, cycle: int
) -> None:
    # Each block size is one "process life" on the same journal: together their raw values
    # strictly increase, so wrapped values repeat only after a whole cycle.
    journal = Journal()
    raw: list[int] = []
    for block in blocks:
        source = SequenceSource(journal, block=block)
        raw += [source.next("n") for _ in range(calls)]
    assert raw == sorted(set(raw))
    wrapped = [(value - 1) % cycle + 1 for value in raw]
    assert all(1 <= value <= cycle for value in wrapped)
