"""The fake ISO 8583 switch of the ISO 8583 figures, served in another process on loopback.

The sandbox serves HTTP gateways only, so ``bench/iso8583.py`` starts this instead: a
:class:`~jamsostek_channels.testing.host.FakeHost` with demo participants behind one profile's
:class:`~jamsostek_channels.adapters.iso8583.fake.FakeSwitch` on a free port, in its own process
(its own interpreter lock, as a real switch would be: the client's time is not the switch's).

``python -m bench.switch PROFILE DEMO`` prints one JSON line, ``{"address": "tcp://..."}``, then
answers every ``reset`` line on its standard input by resetting the host (payments, inquiries;
the demo participants seeded again) and printing ``{"niks": [...]}``: the NIKs that can pay
(a month at a time, at least the channel's minimum). It
stops when its standard input closes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = ["SwitchProcess", "serve", "switch"]


class SwitchProcess:
    """The parent's handle on the switch process: its address and :meth:`payable`."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process
        self._stdin: IO[str] = _pipe(process.stdin)
        self._stdout: IO[str] = _pipe(process.stdout)
        self.address: str = self._read()["address"]

    def _read(self) -> dict[str, Any]:
        line = self._stdout.readline()
        if not line:
            raise RuntimeError("the fake switch did not start")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def payable(self) -> list[str]:
        """Reset the host and return the NIKs that can pay (every demo participant not lapsed)."""
        self._stdin.write("reset\n")
        self._stdin.flush()
        niks: list[str] = self._read()["niks"]
        return niks

    def close(self) -> None:
        self._stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)


def _pipe(stream: IO[str] | None) -> IO[str]:
    assert stream is not None  # opened with PIPE
    return stream


@contextmanager
def switch(profile: str = "brilink", demo: int = 160) -> Iterator[SwitchProcess]:
    """The switch process for ``profile`` with ``demo`` demo participants."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.switch", profile, str(demo)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    handle = None
    try:
        handle = SwitchProcess(process)
        yield handle
    finally:
        if handle is not None:
            handle.close()
        elif process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def serve(profile: str, demo: int) -> None:
    """The child's side (see the module's docstring)."""
    from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
    from jamsostek_channels.adapters.iso8583.profile import load_profile
    from jamsostek_channels.channel import CustomerId
    from jamsostek_channels.testing.host import FakeHost

    host = FakeHost(seed=0)
    minimum = load_profile(profile).capabilities.min_amount or 0

    def payable(nik: str) -> bool:
        """Not lapsed, and each of its next three months at least the channel's minimum
        payment (a figure pays one month at a time, a customer at most three times a round)."""
        if host.coverage(nik).state.value == "lapsed":
            return False
        bills = host.inquire(CustomerId.parse(nik), 3, channel=profile).bills
        return all(bill.amount >= minimum for bill in bills)

    # Idle links stay open between rounds: the terminals keep one session each.
    fake = FakeSwitch(host, profile, idle_timeout=600).start()
    try:
        print(json.dumps({"address": fake.address}), flush=True)
        for line in sys.stdin:
            if line.strip() != "reset":
                continue
            host.reset()
            seeded = host.seed_demo(demo)
            niks = [participant.nik for participant, _kpj in seeded if payable(participant.nik)]
            # What the switch remembers for tests grows with every message: not a bench's.
            fake.received.clear()
            fake.answers.clear()
            fake.stans.clear()
            print(json.dumps({"niks": niks}), flush=True)
    finally:
        fake.stop()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
