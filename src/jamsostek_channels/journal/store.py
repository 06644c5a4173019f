"""The store protocol: what the client, reconciliation and the command line need of a journal.

:class:`~jamsostek_channels.journal.sqlite.Journal` (SQLite, one file) implements it; a
PostgreSQL store for gateways running several instances will implement the same protocol, and
nothing above the journal changes. The semantics every store must keep (the SQLite store's
docstrings say them in full): a reference is journaled before it is sent; every state change is
a compare-and-set on the states it may leave (:data:`~jamsostek_channels.journal.TRANSITIONS`),
appended in the same durable commit to the history; a lease names its owner and expiry and a
move for a lease holder fails once another holds it; an outbox item is claimed (attempt counted)
before it is sent; an entry's wire facts (``wire``, small strings the adapter fixed before
sending) are written by the same commit as the attempt they belong to (``begin``, ``attempt``)
and read back with the entry; sequences never hand out a value twice; storage failures raise
:class:`~jamsostek_channels.journal.JournalError` subclasses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from jamsostek_channels.clock import Clock
from jamsostek_channels.journal.records import (
    Entry,
    EntryState,
    Move,
    OutboxItem,
    OutboxState,
    PaymentFacts,
    StaleEntry,
    Transition,
)

__all__ = ["JournalStore"]


class JournalStore(Protocol):
    """A journal store (see the module docstring for the semantics each must keep)."""

    #: The time every entry, transition and outbox item is stamped with.
    clock: Clock

    @property
    def instance_id(self) -> str: ...

    def close(self) -> None: ...

    # Entries, their moves and their history
    def begin(
        self,
        channel: str,
        operation: str,
        reference: str,
        request: Mapping[str, Any],
        *,
        attempt: bool = False,
        lease: tuple[str, dt.datetime] | None = None,
        state: EntryState = EntryState.PENDING,
        actor: str = "client",
        facts: PaymentFacts | None = None,
        scope: str = "",
        wire: Mapping[str, str] | None = None,
    ) -> tuple[Entry, bool]: ...

    def begin_many(
        self,
        channel: str,
        operation: str,
        requests: Sequence[tuple[str, Mapping[str, Any], PaymentFacts | None]],
        *,
        state: EntryState = EntryState.HELD,
        actor: str = "batch",
        scope: str = "",
    ) -> list[tuple[Entry, bool]]: ...

    def attempt(
        self,
        entry_id: int,
        *,
        lease: tuple[str, dt.datetime],
        actor: str = "client",
        wire: Mapping[str, str] | None = None,
    ) -> Entry: ...

    def transition(
        self,
        entry_id: int,
        to: EntryState,
        outcome: Mapping[str, Any] | None = None,
        *,
        from_: Iterable[EntryState] | None = None,
        owner: str | None = None,
        actor: str = "client",
        why: str = "",
        sent: bool = False,
        lease: tuple[str, dt.datetime] | None = None,
        host_reference: str | None = None,
        business_day: dt.date | None = None,
    ) -> Entry: ...

    def transition_many(
        self, moves: Sequence[Move], *, actor: str = "batch"
    ) -> list[Entry | StaleEntry]: ...

    def history(self, entry_id: int) -> list[Transition]: ...

    def get(
        self, channel: str, operation: str, reference: str, *, scope: str | None = None
    ) -> Entry | None: ...

    def unresolved(
        self, channel: str | None = None, *, scope: str | None = None
    ) -> list[Entry]: ...

    def entries(
        self,
        channel: str | None = None,
        operation: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[Entry]: ...

    def payments(
        self, channel: str, operation: str, *, scopes: Collection[str] | None = None
    ) -> list[tuple[Any, ...]]: ...

    # Leases
    def owner_id(self, token: str) -> str: ...

    def take_lease(
        self, entry_id: int, owner: str, until: dt.datetime, *, actor: str = "recover"
    ) -> Entry: ...

    def held(self, entry: Entry, *, by_other_than: str | None = None) -> bool: ...

    def wait(self, entry: Entry, *, owner: str, timeout: float) -> Entry: ...

    def release(self, entry_id: int, owner: str) -> None: ...

    # The outbox (store and forward)
    def enqueue(
        self,
        channel: str,
        kind: str,
        reference: str,
        payload: Mapping[str, Any],
        *,
        expires_at: dt.datetime,
        scope: str = "",
    ) -> OutboxItem: ...

    def outbox_item(
        self, channel: str, kind: str, reference: str, *, scope: str | None = None
    ) -> OutboxItem | None: ...

    def outbox(self, channel: str | None = None) -> list[OutboxItem]: ...

    def expire(self, *, now: dt.datetime | None = None) -> list[OutboxItem]: ...

    def due(
        self,
        channel: str | None = None,
        *,
        now: dt.datetime | None = None,
        ignore_schedule: bool = False,
        scope: str | None = None,
    ) -> list[OutboxItem]: ...

    def claim(self, item_id: int, owner: str, until: dt.datetime) -> OutboxItem | None: ...

    def delivered(
        self, item_id: int, state: OutboxState, error: str | None = None
    ) -> OutboxItem: ...

    def retry_later(self, item_id: int, next_attempt_at: dt.datetime, error: str) -> OutboxItem: ...

    # Sequences (read through sequences.SequenceSource)
    def reserve(self, name: str, count: int) -> int: ...
