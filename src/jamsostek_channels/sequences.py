"""Numbers that must never repeat: SNAP's X-EXTERNAL-ID, an ISO 8583 STAN (DE11) and RRN.

An adapter is handed a :class:`SequenceSource`, not the whole journal. The source takes values
from a durable counter in the journal (any :class:`SequenceStore`) in *blocks*: one durable
commit reserves ``block`` values, which are then handed out from memory. A restart never reuses
one: what was left of a block is skipped, never handed out again. Two sources on one journal
(two processes, two threads) reserve disjoint blocks.

A counter may *wrap*: a STAN is six digits, so after 999999 comes 000001 (``cycle=999_999``).
The durable counter underneath keeps counting, so a wrapped value repeats only after a whole
cycle (a million messages), never after a restart.
"""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["SequenceSource", "SequenceStore"]

#: Values reserved per durable commit: one commit per hundred identifiers, not one per message.
DEFAULT_BLOCK = 100


class SequenceStore(Protocol):
    """Where counters live durably (the journal: :class:`~jamsostek_channels.journal.Journal`
    implements it)."""

    @property
    def instance_id(self) -> str:
        """A short id minted with the store: identifiers built from it and a counter are unique
        across stores (two gateway instances, or a journal rebuilt from nothing)."""
        ...

    def reserve(self, name: str, count: int) -> int:
        """Reserve ``count`` consecutive values of counter ``name``, durably; the first."""
        ...


class SequenceSource:
    """Never-repeating counters for one adapter, reserved from ``store`` ``block`` at a time.

    Safe to share between threads.

    >>> from jamsostek_channels.journal import Journal
    >>> source = SequenceSource(Journal(), block=10)
    >>> [source.next("stan", cycle=999_999) for _ in range(3)]
    [1, 2, 3]
    """

    def __init__(self, store: SequenceStore, *, block: int = DEFAULT_BLOCK) -> None:
        if block < 1:
            raise ValueError("block must be at least 1")
        self._store = store
        self._block = block
        self._lock = threading.Lock()
        self._blocks: dict[str, tuple[int, int]] = {}  # name -> (next value, end of its block)

    @property
    def instance(self) -> str:
        """The store's instance id (see :attr:`SequenceStore.instance_id`)."""
        return self._store.instance_id

    def next(self, name: str, *, cycle: int | None = None) -> int:
        """The next value of counter ``name``: 1, 2, 3, ... Values a restart left unused in a
        block are skipped, never reused. With ``cycle``, values run 1 .. ``cycle`` and then
        start again at 1 (a six-digit STAN: ``cycle=999_999``)."""
        if cycle is not None and cycle < 1:
            raise ValueError("cycle must be at least 1")
        with self._lock:
            value, end = self._blocks.get(name, (0, 0))
            if value >= end:
                value = self._store.reserve(name, self._block)
                end = value + self._block
            self._blocks[name] = (value + 1, end)
        return value if cycle is None else (value - 1) % cycle + 1
