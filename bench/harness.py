"""A tiny harness: best-of-N timing and a result table with figure, floor, ratio and target."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import attrs

__all__ = ["Result", "best_per_call", "print_results"]


@attrs.frozen
class Result:
    name: str
    value: float  #: seconds
    floor_name: str
    floor: float  #: seconds
    target: str
    ok: bool

    @property
    def ratio(self) -> float:
        return self.value / self.floor if self.floor else float("inf")


def best_per_call(fn: Callable[[], object], *, number: int, repeat: int = 7) -> float:
    """Best (least disturbed) mean time per call over ``repeat`` runs of ``number`` calls."""
    fn()  # warm caches, imports and lazy tables outside the timing
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return min(runs)


def median(values: list[float]) -> float:
    return statistics.median(values)


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def print_results(results: list[Result]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="jamsostek-channels benchmarks (this machine, this run)")
    for column in ("figure", "value", "floor (same run)", "floor value", "ratio", "target", "ok"):
        table.add_column(
            column, justify="right" if column in ("value", "floor value", "ratio") else "left"
        )
    for r in results:
        table.add_row(
            r.name,
            _fmt(r.value),
            r.floor_name,
            _fmt(r.floor),
            f"{r.ratio:.2f}×",
            r.target,
            "yes" if r.ok else "NO",
        )
    Console(width=150).print(table)
