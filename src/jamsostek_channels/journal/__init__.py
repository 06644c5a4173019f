"""The journal: every money-moving request written before it is sent, and its outcome after.

It is three things at once, in one SQLite file:

* the **idempotency store**: one entry per (channel, operation, reference). Paying twice with the
  same reference finds the first entry and returns its outcome without a second send;
* the **store-and-forward queue** (*outbox*) for reversals and advices: persisted first, resent
  with backoff until the other side accepts them or they expire, never lost across restarts;
* the **sequence store** for identifiers that must never repeat (SNAP's X-EXTERNAL-ID is unique
  per partner per day, so a restart must not reuse one).

Durability: WAL mode with ``synchronous=FULL``, so a committed write survives a crash of the
process or the machine. Every write is one ``BEGIN IMMEDIATE`` transaction, so several threads
(one connection each) and several processes can share a file; ``busy_timeout`` makes a writer
wait for another instead of failing (a journal's threads queue in-process; between processes a
writer sleeps in short growing steps, :mod:`~jamsostek_channels.journal.writelock`).
``":memory:"`` gives a private in-memory journal for tests, shared by the threads of one
:class:`Journal`.

History cannot be overwritten. Every change of an entry's state is a compare-and-set: it names
the states it may leave (:data:`TRANSITIONS` says which moves exist at all), and it is appended,
in the same statement, to the entry's own ``history`` (who, when, from, to, why), which an
auditor reads with :meth:`Journal.history`; the database's triggers keep it append-only and
refuse to delete an entry.
Final states are final, but for two moves: APPLIED -> REVERSED (an accepted reversal) and
NOT_APPLIED -> PENDING (the payer tries again under the same reference: a new attempt). A payment
in flight holds a *lease* (owner and expiry); :meth:`Journal.take_lease` lets a recoverer take
over only an expired one, and a transition made for a lease holder fails once another owns it.

Storage failures are typed: a busy, full, read-only, corrupt or unopenable file raises a
:class:`JournalError` subclass with a bilingual message, never a raw ``sqlite3`` error.

The schema is versioned (``PRAGMA user_version``); a file of the earlier schema is migrated in
place, and opening a newer file than this code knows is refused rather than guessed at.
"""

from __future__ import annotations

from jamsostek_channels.journal.errors import (
    JournalBusy,
    JournalCorrupt,
    JournalError,
    JournalFull,
    JournalReadOnly,
    JournalUnavailable,
)
from jamsostek_channels.journal.records import (
    TRANSITIONS,
    Entry,
    EntryState,
    Move,
    OutboxItem,
    OutboxState,
    PaymentFacts,
    StaleEntry,
    Transition,
)
from jamsostek_channels.journal.sqlite import SCHEMA_VERSION, Journal, storage_error
from jamsostek_channels.journal.store import JournalStore

__all__ = [
    "SCHEMA_VERSION",
    "TRANSITIONS",
    "Entry",
    "EntryState",
    "Journal",
    "JournalBusy",
    "JournalCorrupt",
    "JournalError",
    "JournalFull",
    "JournalReadOnly",
    "JournalStore",
    "JournalUnavailable",
    "Move",
    "OutboxItem",
    "OutboxState",
    "PaymentFacts",
    "StaleEntry",
    "Transition",
    "storage_error",
]
