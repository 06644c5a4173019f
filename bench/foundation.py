"""Foundation figures: a 12-month quote, validating 100,000 participants from CSV (through the
library, and through ``check`` on a terminal beside it), import time."""

from __future__ import annotations

import csv
import datetime as dt
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import Result, best_per_call, median

OUT = Path(__file__).parent / "out"
AS_OF = dt.date(2026, 11, 22)
DEPENDENCIES = "attrs, cattrs, requests, tenacity, lxml, lokal, holidays, rich"


def quote_12_months() -> Result:
    from jamsostek_channels.pricing import quote
    from jamsostek_channels.rules import default_rules

    rules = default_rules()

    def library() -> object:
        return quote(
            income=2_800_000,
            occupations="ojek-online",
            programs=["jkk", "jkm", "jht"],
            start="2026-11",
            months=12,
            rules=rules,
        )

    # Floor: the same 36 amounts computed by bare integer arithmetic into tuples, no checks.
    def floor() -> object:
        base = 2_950_000
        out = []
        for month in range(12):
            keep = 5_000 if month < 5 else 10_000
            out.append((month, "jkk", (2 * base * 100 * keep + 100_000_000) // 200_000_000))
            out.append((month, "jkm", (2 * 6_800 * keep + 10_000) // 20_000))
            out.append((month, "jht", (2 * base * 200 + 10_000) // 20_000))
        return sum(amount for _, _, amount in out)

    value = best_per_call(library, number=2_000)
    return Result(
        "quote, 12 months × 3 programs",
        value,
        "bare integer arithmetic",
        best_per_call(floor, number=2_000),
        "≤ 20 µs",
        value <= 20e-6,
    )


def _participants_csv(rows: int) -> Path:
    from jamsostek_channels.testing import PersonFactory
    from jamsostek_channels.validation import FIELDS

    path = OUT / f"participants-{rows}.csv"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    factory = PersonFactory(7, as_of=AS_OF, invalid_ratio=0.05)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f for f in FIELDS if f != "kpj"])
        writer.writeheader()
        for _ in range(rows):
            data = factory.make().data
            data["occupations"] = "|".join(data["occupations"])
            data["programs"] = "|".join(data["programs"])
            data["email"] = data["email"] or ""
            writer.writerow(data)
    return path


def validate_csv(rows: int = 100_000) -> Result:
    from jamsostek_channels.rules import default_rules
    from jamsostek_channels.validation import check_csv

    path = _participants_csv(rows)

    def library() -> object:
        with path.open("rb") as handle:  # as the check command reads it
            return sum(
                result.ok for _, result in check_csv(handle, as_of=AS_OF, rules=default_rules())
            )

    # Floor: reading the same file into dicts with the csv module (no validation at all).
    def floor() -> object:
        with path.open(encoding="utf-8", newline="") as handle:
            return sum(1 for _ in csv.DictReader(handle))

    value = best_per_call(library, number=1, repeat=3)
    return Result(
        f"validate {rows:,} participants from CSV",
        value,
        "csv.DictReader of the file",
        best_per_call(floor, number=1, repeat=3),
        "≤ 3 s",
        value <= 3.0,
    )


def _run_on_a_terminal(argv: list[str]) -> tuple[float, int, bytes]:
    """Run ``argv`` with stdin, stdout and stderr on a pseudo-terminal, as a person at a
    terminal would (so the progress bar draws); its wall time, exit code and output."""
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: never returns
        os.environ["COLUMNS"] = "120"
        os.execv(argv[0], argv)
    output = bytearray()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    seconds = time.perf_counter() - started
    os.close(fd)
    return seconds, os.waitstatus_to_exitcode(status), bytes(output)


def check_command_csv(library: Result, rows: int = 100_000, repeat: int = 3) -> Result:
    """``jamsostek-channels check`` of the same CSV file on a pseudo-terminal, the progress bar
    drawing, beside the library's validation of it measured in this run (``library``): the
    command's whole cost (interpreter start, imports, the bar, the summary) over the library's."""
    path = _participants_csv(rows)
    script = Path(sys.executable).with_name("jamsostek-channels")
    argv = [str(script), "check", str(path), "--as-of", AS_OF.isoformat()]
    runs = [_run_on_a_terminal(argv) for _ in range(repeat)]
    value = min(seconds for seconds, _, _ in runs)
    # Exit 1: the file has invalid rows on purpose; the bar must have drawn for the figure to
    # mean what it says.
    drawn = all(code == 1 and b"Memeriksa / checking" in out for _, code, out in runs)
    return Result(
        f"check {rows:,} CSV rows, CLI on a terminal",
        value,
        "the same validation through the library",
        library.value,
        "≤ 1.2× floor",
        drawn and value <= 1.2 * library.value,
    )


def _import_seconds(statement: str, runs: int = 9) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    values = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return median(values)


def import_time() -> list[Result]:
    deps = _import_seconds(f"import {DEPENDENCIES}")
    package = _import_seconds("import jamsostek_channels")
    first_use = _import_seconds("import jamsostek_channels as j; j.quote; j.check_participant")
    return [
        Result(
            "import jamsostek_channels",
            package,
            "import its dependencies",
            deps,
            "≤ 1.3× floor",
            package <= 1.3 * deps,
        ),
        Result(
            "import + first use (quote, check)",
            first_use,
            "import its dependencies",
            deps,
            "(reported)",
            True,
        ),
    ]


def run() -> list[Result]:
    library = validate_csv()
    return [quote_12_months(), library, check_command_csv(library), *import_time()]
