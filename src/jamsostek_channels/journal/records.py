"""What a journal holds: entries and their states, the moves between states, the history of
moves, and outbox items. Plain values, the same whatever store keeps them."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from jamsostek_channels.wirefacts import NO_FACTS

__all__ = [
    "TRANSITIONS",
    "Entry",
    "EntryState",
    "Move",
    "OutboxItem",
    "OutboxState",
    "PaymentFacts",
    "StaleEntry",
    "Transition",
    "sources_of",
]


class EntryState(enum.StrEnum):
    HELD = "held"  #: collected offline, not sent yet (the forwarder sends it)
    PENDING = "pending"  #: written before sending, under the sender's lease
    UNKNOWN = "unknown"  #: sent and no answer came: resolve by status, never by sending again
    SUBMITTED = "submitted"  #: in a batch file, awaiting the result file
    APPLIED = "applied"  #: the other side applied it (once)
    DECLINED = "declined"  #: the other side refused it: nothing applied
    NOT_APPLIED = "not-applied"  #: surely not applied (never delivered, or the host never saw it)
    REVERSED = "reversed"  #: applied, then reversed

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {EntryState.APPLIED, EntryState.DECLINED, EntryState.NOT_APPLIED, EntryState.REVERSED}
)

#: Every move an entry may make; anything else is a programming error (``ValueError``).
#: Final states move only APPLIED -> REVERSED (an accepted reversal) and NOT_APPLIED ->
#: PENDING (the payer tries again under the same reference: a new attempt).
TRANSITIONS: Mapping[EntryState, frozenset[EntryState]] = {
    EntryState.HELD: frozenset({EntryState.PENDING}),
    EntryState.PENDING: frozenset(
        {
            EntryState.UNKNOWN,
            EntryState.SUBMITTED,
            EntryState.APPLIED,
            EntryState.DECLINED,
            EntryState.NOT_APPLIED,
            EntryState.REVERSED,
        }
    ),
    EntryState.UNKNOWN: frozenset(
        {EntryState.APPLIED, EntryState.DECLINED, EntryState.NOT_APPLIED, EntryState.REVERSED}
    ),
    EntryState.SUBMITTED: frozenset(
        {EntryState.APPLIED, EntryState.DECLINED, EntryState.NOT_APPLIED}
    ),
    EntryState.APPLIED: frozenset({EntryState.REVERSED}),
    EntryState.NOT_APPLIED: frozenset({EntryState.PENDING}),
    EntryState.DECLINED: frozenset(),
    EntryState.REVERSED: frozenset(),
}
_SOURCES: Mapping[EntryState, frozenset[EntryState]] = {
    to: frozenset(state for state, targets in TRANSITIONS.items() if to in targets)
    for to in EntryState
}


def sources_of(to: EntryState) -> frozenset[EntryState]:
    """The states :data:`TRANSITIONS` lets into ``to``."""
    return _SOURCES[to]


@attrs.frozen
class Move:
    """One transition of a :meth:`~jamsostek_channels.journal.JournalStore.transition_many`
    batch: move ``entry_id`` to ``to`` (from one of ``from_``, default every state the table
    lets into it), storing ``outcome`` and the host's reference and business day if given."""

    entry_id: int
    to: EntryState
    outcome: Mapping[str, Any] | None = None
    from_: frozenset[EntryState] | None = None
    why: str = ""
    host_reference: str | None = None
    business_day: dt.date | None = None


class StaleEntry(Exception):
    """A transition lost its compare-and-set: the entry left the states it named, or another
    owner holds its lease. ``current`` is the entry as it is now; the caller answers from it."""

    def __init__(self, current: Entry) -> None:
        super().__init__(f"entry {current.id} is {current.state} now")
        self.current = current


class OutboxState(enum.StrEnum):
    PENDING = "pending"  #: stored, to be sent (again) at next_attempt_at
    ACCEPTED = "accepted"  #: the other side accepted it
    REJECTED = "rejected"  #: the other side refused it for good
    EXPIRED = "expired"  #: not accepted before expires_at: needs a person


@attrs.frozen
class PaymentFacts:
    """What a payment entry is about, kept in typed columns (not only inside the caller's JSON
    record): what reconciliation reads, and what a store can index and sum."""

    customer: str = attrs.field(repr=False)  #: the NIK or KPJ paid for (personal: no repr)
    amount: int  #: the contribution, whole rupiah
    admin_fee: int
    periods: tuple[str, ...]  #: the months, ``YYYY-MM``
    business_day: dt.date  #: the WIB day it belongs to (the host's payment day once applied)


@attrs.frozen
class Entry:
    id: int
    channel: str
    operation: str
    reference: str
    state: EntryState
    #: as given to :meth:`Journal.begin`; may hold personal data (a NIK), so never in repr()
    request: Mapping[str, Any] = attrs.field(repr=False)
    outcome: Mapping[str, Any] | None
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime
    sent_at: dt.datetime | None = None  #: when the last attempt was sent (None: never)
    lease_owner: str | None = None  #: who is sending or resolving it now
    lease_until: dt.datetime | None = None
    facts: PaymentFacts | None = None  #: a payment's typed columns (None: not a payment)
    host_reference: str | None = None  #: the host's reference once it applied it
    scope: str = ""  #: where the reference is unique, as the host keys it (a post office)
    #: What the adapter fixed before its latest attempt was sent (its wire facts, e.g. an
    #: ISO 8583 STAN and DE7; empty: none), handed back to it with every later request.
    wire: Mapping[str, str] = NO_FACTS
    #: An entry read from a store (:meth:`stored`): how to decode its JSON columns, and their
    #: texts, until each of ``request``, ``outcome`` and ``wire`` is first read.
    _stored: tuple[Callable[[str], Any], str, str | None, str | None] | None = attrs.field(
        default=None, init=False, eq=False, repr=False
    )

    @classmethod
    def stored(
        cls,
        decode: Callable[[str], Any],
        request: str,
        outcome: str | None,
        wire: str | None,
        fields: tuple[Any, ...],
    ) -> Entry:
        """An entry as a store keeps it: ``fields`` its values from ``id`` to ``scope`` (every
        field but ``request``, ``outcome`` and ``wire``, in their order), the three others the
        JSON texts of its columns (``None``: no outcome; no wire facts), each decoded by
        ``decode`` when it is first read. The same value as one made with them decoded (equal,
        the same repr, the same fields): a payer reads few of the entry it moves, and a
        payment's record is the longest text of its row."""
        entry = cls.__new__(cls)
        for put, value in zip(_PUT_STORED, fields, strict=True):
            put(entry, value)
        if outcome is None:
            object.__setattr__(entry, "outcome", None)
        if wire is None:
            object.__setattr__(entry, "wire", NO_FACTS)
        object.__setattr__(entry, "_stored", (decode, request, outcome, wire))
        return entry

    if not TYPE_CHECKING:  # hidden from the type checker: every other name stays checked

        def __getattr__(self, name: str) -> Any:
            # Only an attribute never set comes here: the JSON columns of a stored() entry.
            place = _DECODED.get(name)
            stored = object.__getattribute__(self, "_stored")
            if place is None or stored is None:
                raise AttributeError(name)
            value = stored[0](stored[place])
            object.__setattr__(self, name, value)  # decoded once: the entry is immutable
            return value

    def leased(self, now: dt.datetime, *, by_other_than: str | None = None) -> bool:
        """Whether an unexpired lease holds it (one not held by ``by_other_than``);
        :meth:`Journal.held` also knows a lease whose process has died is void."""
        return (
            self.lease_owner is not None
            and self.lease_until is not None
            and self.lease_until > now
            and self.lease_owner != by_other_than
        )


#: The fields :meth:`Entry.stored` sets from its ``fields``, in order.
_STORED_FIELDS = tuple(
    field.name
    for field in attrs.fields(Entry)
    if field.name not in ("request", "outcome", "wire") and field.init
)
#: Their slots' setters (what ``object.__setattr__`` finds for each, looked up once).
_PUT_STORED: tuple[Callable[[Entry, Any], None], ...] = tuple(
    getattr(Entry, name).__set__ for name in _STORED_FIELDS
)
#: The fields an entry from a store decodes when first read, and their text's place in
#: ``Entry._stored``.
_DECODED = {"request": 1, "outcome": 2, "wire": 3}


@attrs.frozen
class Transition:
    """One line of an entry's history: who moved it from what to what, when and why."""

    entry_id: int
    at: dt.datetime
    actor: str
    from_state: EntryState | None
    to_state: EntryState
    why: str


@attrs.frozen
class OutboxItem:
    id: int
    channel: str
    kind: str
    reference: str
    state: OutboxState
    payload: Mapping[str, Any]
    attempts: int
    next_attempt_at: dt.datetime
    expires_at: dt.datetime
    last_error: str | None

    lease_owner: str | None = None  #: who is delivering it now (see :meth:`Journal.claim`)
    lease_until: dt.datetime | None = None
    scope: str = ""  #: as its payment's

    @property
    def repeat(self) -> bool:
        """True from the second attempt on (attempts are counted when claimed, before they are
        sent): the wire marks it as a repeat (0421, flagAdvise=Y), even when the process that
        made the first attempt died before any answer."""
        return self.attempts > 1
