"""Loaded through PYTHONPATH by `make unit-shifted` only, in every Python process of that run.

The shifted run fakes the wall clock alone (FAKETIME_DONT_FAKE_MONOTONIC=1): with the monotonic
clock faked too, every timed lock wait (sem_clockwait, which libfaketime 0.9.10 does not
intercept) would block for the length of the shift. With it left real, that libfaketime turns
the absolute monotonic deadline of clock_nanosleep, which ``time.sleep`` uses, into an invalid
one (EINVAL). A timed wait on an event sleeps just as long through the call that does work.
"""

from __future__ import annotations

import threading
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    threading.Event().wait(seconds)


time.sleep = _sleep
