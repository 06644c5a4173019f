"""The SQLite journal: one file, WAL, durable commits (the embedded default store)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from jamsostek_channels import clock as _clock
from jamsostek_channels.errors import ReferenceConflict
from jamsostek_channels.journal.errors import (
    JournalBusy,
    JournalCorrupt,
    JournalError,
    JournalFull,
    JournalReadOnly,
    JournalUnavailable,
)
from jamsostek_channels.journal.records import (
    Entry,
    EntryState,
    Move,
    OutboxItem,
    OutboxState,
    PaymentFacts,
    StaleEntry,
    Transition,
    sources_of,
)
from jamsostek_channels.journal.writelock import begin_immediate, is_busy

__all__ = ["SCHEMA_VERSION", "Journal", "storage_error"]

_T = TypeVar("_T")

SCHEMA_VERSION = 5
_INSTANCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    operation   TEXT NOT NULL,
    reference   TEXT NOT NULL,
    state       TEXT NOT NULL,
    request     TEXT NOT NULL,
    outcome     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    sent_at     TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    customer    TEXT,
    amount      INTEGER,
    admin_fee   INTEGER,
    periods     TEXT,
    business_day TEXT,
    host_reference TEXT,
    scope       TEXT NOT NULL DEFAULT '',
    -- What the adapter fixed before sending (its wire facts: an ISO 8583 STAN and DE7), as a
    -- JSON object, written with the attempt (NULL: none).
    wire        TEXT,
    -- Its transitions, oldest first, as a JSON array of [at, actor, from, to, why]: appended
    -- by the same UPDATE that moves the entry (one row, one page per move), append-only (the
    -- triggers below), read by Journal.history() or SQLite's json_each().
    history     TEXT NOT NULL DEFAULT '[]',
    UNIQUE (channel, scope, operation, reference)
);

-- Only entries not settled yet: a settled one leaves the index for good (one write fewer on
-- its last move), and recover() reads the open ones through it (the query repeats the WHERE).
-- Keyed by channel alone: a move between open states (PENDING -> UNKNOWN) rewrites its entry
-- where it is, on the same leaf page, instead of moving it to another state's page.
CREATE INDEX IF NOT EXISTS entries_open ON entries (channel)
    WHERE state IN ('held', 'pending', 'unknown', 'submitted');
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    reference       TEXT NOT NULL,
    state           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    lease_owner     TEXT,
    lease_until     TEXT,
    scope           TEXT NOT NULL DEFAULT '',
    UNIQUE (channel, scope, kind, reference)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS sequences (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
"""

#: The database itself keeps the history append-only and the entries undeletable: an UPDATE
#: that rewrites an earlier line, or a DELETE, is aborted whoever runs it.
_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS entries_history_append_only
    BEFORE UPDATE OF history ON entries
    WHEN substr(NEW.history, 1, length(OLD.history) - 1)
        IS NOT substr(OLD.history, 1, length(OLD.history) - 1)
    BEGIN SELECT RAISE(ABORT, 'journal history is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS entries_never_deleted BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'journal entries are never deleted'); END""",
)

#: Schema 1 -> the current one, in place: an entry's send time, lease, scope and typed columns,
#: and its history (entries already there start their history with the state they are in).
_MIGRATE_1 = """
DROP INDEX IF EXISTS entries_state;
DROP INDEX IF EXISTS outbox_due;
ALTER TABLE entries RENAME TO entries_v1;
ALTER TABLE outbox RENAME TO outbox_v1;
{schema}
INSERT INTO entries (id, channel, operation, reference, state, request, outcome, attempts,
    created_at, updated_at)
    SELECT id, channel, operation, reference, state, request, outcome, attempts, created_at,
        updated_at FROM entries_v1;
INSERT INTO outbox (id, channel, kind, reference, state, payload, attempts, next_attempt_at,
    expires_at, last_error, created_at, updated_at)
    SELECT id, channel, kind, reference, state, payload, attempts, next_attempt_at, expires_at,
        last_error, created_at, updated_at FROM outbox_v1;
DROP TABLE entries_v1;
DROP TABLE outbox_v1;
UPDATE entries SET
    customer = json_extract(request, '$.request.customer.value'),
    amount = json_extract(request, '$.request.amount'),
    admin_fee = json_extract(request, '$.request.admin_fee'),
    periods = (SELECT group_concat(value, ',') FROM json_each(request, '$.request.periods')),
    business_day = date(COALESCE(json_extract(outcome, '$.paid_at'),
                                 json_extract(request, '$.request.requested_at')), '+7 hours'),
    host_reference = json_extract(outcome, '$.host_reference')
    WHERE operation = 'pay' AND json_type(request, '$.request.amount') = 'integer';
UPDATE entries SET sent_at = updated_at WHERE attempts > 0;
UPDATE entries SET history = json_array(
    json_array(updated_at, 'migration', NULL, state, 'journal schema 1 -> {version}'))
"""

#: Schema 2 -> 3, in place: each entry's transitions move into its own row (``history``).
_MIGRATE_2_TO_3 = """
ALTER TABLE entries ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
UPDATE entries SET history = (
    SELECT json_group_array(json_array(at, actor, from_state, to_state, why)) FROM (
        SELECT at, actor, from_state, to_state, why FROM transitions
        WHERE entry_id = entries.id ORDER BY seq));
DROP TABLE transitions
"""

#: Schema 3 -> 4, in place: the open-entries index keyed by channel alone (see _SCHEMA).
_MIGRATE_3_TO_4 = """
DROP INDEX IF EXISTS entries_open;
CREATE INDEX entries_open ON entries (channel)
    WHERE state IN ('held', 'pending', 'unknown', 'submitted')
"""

#: Schema 4 -> 5, in place: an entry's wire facts (entries already there have none).
_MIGRATE_4_TO_5 = """
ALTER TABLE entries ADD COLUMN wire TEXT
"""


#: An entry's columns as :func:`_entry` reads them, in this order: every one but ``history``,
#: which only :meth:`Journal.history` reads (it grows with every move; nothing else copies it).
_ENTRY_COLUMNS = (
    "id, channel, operation, reference, state, request, outcome, attempts, created_at,"
    " updated_at, sent_at, lease_owner, lease_until, customer, amount, admin_fee, periods,"
    " business_day, host_reference, scope, wire"
)


def _with_columns(statement: str) -> str:
    """``statement`` with ``{columns}`` replaced by :data:`_ENTRY_COLUMNS` (this module's
    constant, never input)."""
    return statement.replace("{columns}", _ENTRY_COLUMNS)


#: A compare-and-set move (see :meth:`Journal._move`), numbered parameters: 1 now, 2 actor,
#: 3 the state moved to, 4 why, 5 outcome, 6 sent (0/1), 7 whether the lease is set, 8 its
#: owner, 9 its expiry, 10 host reference, 11 business day, 12 entry id, 13 the states it may
#: leave as ``,a,b,``, 14 the lease holder it is made for (``NULL``: no lease check).
#: The history line is appended as text (the array's closing bracket cut and put back), so
#: SQLite does not parse and re-serialise the whole history on every move; the line itself is
#: built by ``json_array`` (``state`` in SET is the row's value before the update).
_MOVE = (
    "UPDATE entries SET history = substr(history, 1, length(history) - 1)"
    " || iif(history = '[]', '', ',') || json_array(?1, ?2, state, ?3, ?4) || ']',"
    " state = ?3, outcome = COALESCE(?5, outcome),"
    " attempts = attempts + ?6, sent_at = iif(?6, ?1, sent_at),"
    " lease_owner = iif(?7, ?8, lease_owner), lease_until = iif(?7, ?9, lease_until),"
    " updated_at = ?1, host_reference = COALESCE(?10, host_reference),"
    " business_day = iif(amount IS NULL, business_day, COALESCE(?11, business_day))"
    " WHERE id = ?12 AND instr(?13, ',' || state || ',') > 0 AND (?14 IS NULL"
    " OR lease_owner IS NULL OR lease_owner = ?14 OR julianday(lease_until) <= julianday(?1))"
)
_MOVE_ENTRY_ID = 11  #: the entry id's place in _MOVE's parameters (?12)
_ENTRY_BY_ID = _with_columns("SELECT {columns} FROM entries WHERE id = ?")
_ENTRY_BY_KEY = _with_columns(
    "SELECT {columns} FROM entries"
    " WHERE channel = ? AND scope = ? AND operation = ? AND reference = ?"
)
_ENTRY_BY_REFERENCE = _with_columns(
    "SELECT {columns} FROM entries WHERE channel = ? AND operation = ? AND reference = ? LIMIT 2"
)
#: The open entries, through the partial index (its own WHERE, repeated, so SQLite uses it).
_OPEN_ENTRIES = _with_columns(
    "SELECT {columns} FROM entries WHERE state IN ('held', 'pending', 'unknown', 'submitted')"
)
_ALL_ENTRIES = _with_columns("SELECT {columns} FROM entries WHERE 1 = 1")
_TAKE_LEASE = _with_columns(
    "UPDATE entries SET lease_owner = ?, lease_until = ?,"
    " history = CASE WHEN ? IS NULL THEN history"
    " ELSE json_insert(history, '$[#]', json(?)) END WHERE id = ? RETURNING {columns}"
)
_INSERT_ENTRY = (
    "INSERT INTO entries (channel, operation, reference, state, request,"
    " attempts, created_at, updated_at, sent_at, lease_owner, lease_until,"
    " customer, amount, admin_fee, periods, business_day, scope, history, wire)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (channel, scope, operation, reference) DO NOTHING"
)


def _history_line(
    at: str,
    actor: str,
    from_state: EntryState | None,
    to_state: EntryState,
    why: str,
    *,
    first: bool = False,
) -> str:
    """One history line ``[at, actor, from, to, why]`` as JSON (``first``: a whole history of
    that one line), in the compact form SQLite's JSON functions keep. Five strings (or null)
    quoted by the encoder's own string quoting, as ``JSONEncoder(separators=(",", ":"))``
    writes them, a quarter of its time (one per payment)."""
    old = "null" if from_state is None else _quote(from_state)
    line = f"[{_quote(at)},{_quote(actor)},{old},{_quote(to_state)},{_quote(why[:200])}]"
    return f"[{line}]" if first else line


#: The one JSON form every stored mapping takes (built once: ``json.dumps`` with options
#: builds an encoder per call). ``begin`` compares a repeated request by it.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
#: A JSON string as ``JSONEncoder`` (``ensure_ascii``) writes it, quotes included.
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii
_STATES: Mapping[str, EntryState] = {state.value: state for state in EntryState}


def _dumps(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    return _ENCODER.encode(value)


_DECODER = json.JSONDecoder()
#: The decoder's scanner, called as ``raw_decode`` calls it (one Python frame fewer per read).
_SCAN: Callable[[str, int], tuple[Any, int]] = cast(Any, _DECODER).scan_once  # untyped


def _loads(text: str | None) -> Any:
    """A stored JSON text (ours: no surrounding whitespace) read back, whole: ``raw_decode``'s
    scan without ``json.loads``'s whitespace matching, half the time for an entry's record."""
    if text is None:
        return None
    try:
        value, end = _SCAN(text, 0)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _maybe_time(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _entry(row: Sequence[Any]) -> Entry:
    """The entry of a row of :data:`_ENTRY_COLUMNS` (by position: every move builds one),
    its JSON columns decoded when first read (:meth:`Entry.stored`)."""
    (
        entry_id,
        channel,
        operation,
        reference,
        state,
        request,
        outcome,
        attempts,
        created_at,
        updated_at,
        sent_at,
        lease_owner,
        lease_until,
        customer,
        amount,
        admin_fee,
        periods,
        business_day,
        host_reference,
        scope,
        wire,
    ) = row
    return Entry.stored(
        _loads,
        request,
        outcome,
        wire,
        (
            entry_id,
            channel,
            operation,
            reference,
            _STATES[state],
            attempts,
            dt.datetime.fromisoformat(created_at),
            dt.datetime.fromisoformat(updated_at),
            None if sent_at is None else dt.datetime.fromisoformat(sent_at),
            lease_owner,
            None if lease_until is None else dt.datetime.fromisoformat(lease_until),
            None
            if amount is None
            else PaymentFacts(
                customer=customer,
                amount=amount,
                admin_fee=admin_fee,
                periods=tuple(periods.split(",")) if periods else (),
                business_day=dt.date.fromisoformat(business_day),
            ),
            host_reference,
            scope,
        ),
    )


def _begun(
    new: tuple[tuple[object, ...], dt.datetime],
    found: int | sqlite3.Row,
    facts: PaymentFacts | None,
    until: dt.datetime | None = None,
) -> tuple[Entry, bool]:
    """``begin()``'s answer: the entry made of the columns it inserted (``new``: the values of
    :meth:`Journal._new_entry` and the instant they were stamped with) and the id it got (what
    SQLite would return, without reading it back), or the one found already there. The times,
    facts and lease expiry are the values written, not parsed back from their text; the
    request and wire facts are their stored JSON, decoded when first read (the form every
    later read returns)."""
    if not isinstance(found, int):
        return _entry(found), False
    values, moment = new
    # values: channel .. request (0-4), attempts (5), lease owner (9), scope (16), wire (18).
    fields = (
        found,
        *values[:3],
        _STATES[cast(str, values[3])],
        values[5],
        moment,
        moment,
        moment if values[5] else None,
        values[9],
        until,
        facts,
        None,
        values[16],
    )
    return Entry.stored(
        _loads, cast(str, values[4]), None, cast("str | None", values[18]), fields
    ), True


def _move_params(
    now: str,
    entry_id: int,
    to: EntryState,
    sources: frozenset[EntryState],
    outcome: Mapping[str, Any] | None,
    *,
    actor: str,
    why: str,
    sent: bool = False,
    lease: tuple[str, dt.datetime] | None = None,
    host_reference: str | None = None,
    business_day: dt.date | None = None,
) -> list[object]:
    """:data:`_MOVE`'s parameters 1-13 for a move (the 14th, the lease holder, is added when
    it runs), made before the write lock is taken."""
    if to.final:  # settled: nobody needs to hold it any more
        set_lease, owner_to, until_to = True, None, None
    elif lease is not None:
        set_lease, owner_to, until_to = True, lease[0], lease[1].isoformat()
    else:
        set_lease, owner_to, until_to = False, None, None  # the lease stays as it is
    return [
        now,
        actor,
        to,
        why[:200],
        _dumps(outcome),
        sent,
        set_lease,
        owner_to,
        until_to,
        host_reference,
        None if business_day is None else business_day.isoformat(),
        entry_id,
        _states_text(sources),
    ]


def _equal(query: str, params: list[object], **columns: object) -> tuple[str, list[object]]:
    """``query`` narrowed by ``AND column = ?`` for each column given a value (``None``: any).
    The column names are this module's own keywords, never input; the values are bound."""
    for column, value in columns.items():
        if value is not None:
            query += f" AND {column} = ?"
            params = [*params, value]
    return query, params


def _sources(to: EntryState, from_: Iterable[EntryState] | None) -> frozenset[EntryState]:
    """The states a move into ``to`` may leave: ``from_``, or every one :data:`TRANSITIONS`
    lets into ``to``; ``ValueError`` for a move the table does not have."""
    allowed = sources_of(to)
    sources = frozenset(from_) if from_ is not None else allowed
    if not sources or not sources <= allowed:
        raise ValueError(f"no transition from {sorted(sources - allowed)} to {to}")
    return sources


@functools.cache
def _states_text(sources: frozenset[EntryState]) -> str:
    """``sources`` as :data:`_MOVE` matches them: ``,a,b,`` (a handful of sets, made once)."""
    return "," + ",".join(sorted(sources)) + ","


def _one(rows: list[sqlite3.Row], read: Callable[[sqlite3.Row], _T]) -> _T | None:
    if len(rows) > 1:
        raise ValueError("the reference is in several scopes: name the scope")
    return read(rows[0]) if rows else None


def _fact_columns(facts: PaymentFacts | None) -> tuple[object, ...]:
    if facts is None:
        return (None, None, None, None, None)
    return (
        facts.customer,
        facts.amount,
        facts.admin_fee,
        ",".join(facts.periods),
        facts.business_day.isoformat(),
    )


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        channel=row["channel"],
        kind=row["kind"],
        reference=row["reference"],
        state=OutboxState(row["state"]),
        payload=_loads(row["payload"]),
        attempts=row["attempts"],
        next_attempt_at=_time(row["next_attempt_at"]),
        expires_at=_time(row["expires_at"]),
        last_error=row["last_error"],
        lease_owner=row["lease_owner"],
        lease_until=_maybe_time(row["lease_until"]),
        scope=row["scope"],
    )


#: SQLite's primary result codes (the low byte of an extended code) -> the error to raise.
_STORAGE_ERRORS: Mapping[int, tuple[type[JournalError], str]] = {
    5: (JournalBusy, "journal.busy"),  # SQLITE_BUSY
    6: (JournalBusy, "journal.busy"),  # SQLITE_LOCKED
    8: (JournalReadOnly, "journal.read_only"),  # SQLITE_READONLY
    10: (JournalFull, "journal.io"),  # SQLITE_IOERR: a write refused (EFBIG, ENOSPC) or lost
    11: (JournalCorrupt, "journal.corrupt"),  # SQLITE_CORRUPT
    13: (JournalFull, "journal.full"),  # SQLITE_FULL
    14: (JournalUnavailable, "journal.cannot_open"),  # SQLITE_CANTOPEN
    26: (JournalCorrupt, "journal.corrupt"),  # SQLITE_NOTADB
}


def storage_error(error: sqlite3.Error) -> JournalError:
    """The typed, bilingual error for a failure of SQLite's (never shown raw to a caller)."""
    code = getattr(error, "sqlite_errorcode", None)
    kind, message = _STORAGE_ERRORS.get((code or 0) & 0xFF, (JournalError, "journal.storage"))
    return kind(message, {"reason": getattr(error, "sqlite_errorname", None) or "SQLITE_ERROR"})


@contextmanager
def _typed() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        raise storage_error(error) from error


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # no signal sent: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _create_private(path: str) -> None:
    """Create the journal file readable by its owner only (0600), before SQLite opens it.

    The journal holds NIKs and amounts. SQLite would create the file with 0644 under the usual
    umask; it gives its ``-wal`` and ``-shm`` companions the main file's permissions, so creating
    the main file private is enough. An existing file keeps the mode its owner chose.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # it exists, or cannot be made: SQLite opens it or says why, as before
        return
    os.close(fd)


class _Connection(sqlite3.Connection):
    """A journal's connection, which knows whether SQLite's busy handler is on: on for reads
    (a reader waits out another's recovery or checkpoint as SQLite knows how), off while its
    writer waits for the write lock itself (:func:`writelock.begin_immediate`). Switched only
    when the use changes: a run of writes (or of reads) costs no switch."""

    busy_timeout_ms = 0  #: set by :meth:`Journal._connect` (0 for an in-memory journal)
    _handler_on = True

    def sqlite_waits(self, on: bool) -> None:
        if on is not self._handler_on:
            self.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms if on else 0}")
            self._handler_on = on


class _Transaction:
    """One IMMEDIATE transaction of a :class:`Journal` (a class, not a generator: it is on
    every write's path). The write lock is taken up front, so two writers never deadlock
    upgrading read locks: first this process's writers' lock, then SQLite's, together within
    ``busy_timeout`` or JournalBusy. Committed with synchronous=FULL before ``with`` ends; an
    exception rolls back (when SQLite has not already); a storage failure raises a typed
    JournalError."""

    __slots__ = ("_connection", "_journal", "_lock")

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        # In memory the one connection's lock; on disk this process's writers queue here and
        # only the one at the head waits for SQLite's lock, against other processes.
        self._lock = journal._serial if journal._memory else journal._writers

    def __enter__(self) -> sqlite3.Connection:
        journal, lock = self._journal, self._lock
        left = journal._busy_timeout
        if not lock.acquire(blocking=False):
            started = time.monotonic()
            if not lock.acquire(timeout=max(left, 0.0)):
                raise JournalBusy("journal.busy", {"reason": "SQLITE_BUSY"})
            left -= time.monotonic() - started
        try:
            if journal._memory:  # one connection, no other writer: the lock above is enough
                connection: sqlite3.Connection = journal._anchor
                connection.execute("BEGIN IMMEDIATE")
            else:
                connection = journal._connection()
                connection.sqlite_waits(False)
                begin_immediate(connection, left)
        except BaseException as error:
            lock.release()
            if isinstance(error, sqlite3.Error):
                raise storage_error(error) from error
            raise
        self._connection = connection
        return connection

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: Any
    ) -> None:
        connection = self._connection
        try:
            if error is None:
                connection.execute("COMMIT")
            elif connection.in_transaction:  # SQLite may have rolled back already
                connection.execute("ROLLBACK")
        except sqlite3.Error as failed:
            raise storage_error(failed) from failed
        finally:
            self._lock.release()
        if error is None:
            self._journal._committed()
        elif isinstance(error, sqlite3.Error):
            raise storage_error(error) from error


class Journal:
    """A durable journal in one SQLite file (default ``":memory:"`` only for tests).

    Safe to share between threads (each gets its own connection) and between processes on
    one file.
    """

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        clock: _clock.Clock = _clock.now,
        busy_timeout: float = 30.0,
    ) -> None:
        #: The time every entry and outbox item is stamped with; a :class:`Client` replaces it
        #: with its own so the journal and the adapter read one clock.
        self.clock = clock
        self._busy_timeout = busy_timeout
        self._instance: str | None = None
        #: Notified after every commit through this object: a thread waiting for another's
        #: payment to settle wakes at once (other processes are seen by re-reading).
        self._changed = threading.Condition()
        self._waiting = 0  #: threads in wait(), counted under _changed
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # In memory there is one connection, shared by the threads under this lock (SQLite's
        # shared-cache locks would fail instead of waiting); on disk each thread has its own.
        self._serial = threading.RLock()
        # On disk, this process's writers queue here (woken the moment the one before them
        # commits) and only the one at the head waits for SQLite's lock, against other
        # processes (writelock.begin_immediate).
        self._writers = threading.RLock()
        if str(path) == ":memory:":
            self._target = ":memory:"
            self._memory = True
        else:
            self._target = str(Path(path))
            self._memory = False
        self.path = str(path)
        try:
            if not self._memory:
                _create_private(self._target)
            with _typed():
                self._anchor = self._connect()
                self._migrate(self._anchor)
        except BaseException:
            self.close()
            raise

    # Connections ----------------------------------------------------------------------------

    def _connect(self) -> _Connection:
        connection = sqlite3.connect(
            self._target,
            timeout=self._busy_timeout,
            isolation_level=None,  # explicit BEGIN/COMMIT below
            check_same_thread=False,
            factory=_Connection,
        )
        with self._lock:  # registered first, so close() also closes one that fails below
            self._connections.append(connection)
        connection.row_factory = sqlite3.Row
        connection.busy_timeout_ms = int(self._busy_timeout * 1000)
        connection.execute(f"PRAGMA busy_timeout = {connection.busy_timeout_ms}")
        if not self._memory:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # pragma: no cover - e.g. a network file system
                raise JournalError("message.malformed", {"reason": f"journal mode {mode}"})
        connection.execute("PRAGMA synchronous = FULL")
        return connection

    def _connection(self) -> _Connection:
        if self._memory:
            return self._anchor
        connection: _Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
        return connection

    def _write(self) -> _Transaction:
        """One IMMEDIATE transaction (:class:`_Transaction`): ``with self._write() as db:``."""
        return _Transaction(self)

    def _committed(self) -> None:
        """After every commit through this object: wake the threads waiting in :meth:`wait`
        (none, usually: then nothing is locked)."""
        if self._waiting:
            with self._changed:
                self._changed.notify_all()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with _typed():
            if self._memory:
                with self._serial:
                    yield self._anchor
            else:
                connection = self._connection()
                connection.sqlite_waits(True)
                yield connection

    def _probe(self, statement: str, params: Sequence[object]) -> sqlite3.Row | None:
        """One row read as :meth:`_read` reads it, without switching SQLite's busy handler on
        first (a payer's look-up between two writes: no ``PRAGMA`` there and back). Only if
        another connection holds a lock the handler would have waited out is it switched on
        and the statement read again: a read that failed changed nothing."""
        # A try, not _typed()'s generator: this is on every payment's path.
        try:
            if self._memory:
                with self._serial:
                    return cast(
                        sqlite3.Row | None, self._anchor.execute(statement, params).fetchone()
                    )
            connection = self._connection()
            try:
                return cast(sqlite3.Row | None, connection.execute(statement, params).fetchone())
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
            connection.sqlite_waits(True)
            return cast(sqlite3.Row | None, connection.execute(statement, params).fetchone())
        except sqlite3.Error as error:
            raise storage_error(error) from error

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise JournalError(
                    "message.malformed",
                    {"reason": f"journal schema {version} is newer than {SCHEMA_VERSION}"},
                )
            # A new file gets the whole schema; an older one is migrated in place, step by step.
            if version < SCHEMA_VERSION:
                if version == 0:
                    scripts = [_SCHEMA]
                elif version == 1:  # straight to the current schema
                    scripts = [_MIGRATE_1.format(schema=_SCHEMA, version=SCHEMA_VERSION)]
                else:
                    steps = [_MIGRATE_2_TO_3, _MIGRATE_3_TO_4, _MIGRATE_4_TO_5]
                    scripts = steps[version - 2 :]
                for script in scripts:
                    for statement in script.split(";"):
                        if statement.strip():
                            connection.execute(statement)
                for trigger in _TRIGGERS:
                    connection.execute(trigger)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> str:
        return self.clock().isoformat()

    # Entries --------------------------------------------------------------------------------

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
    ) -> tuple[Entry, bool]:
        """Record a request before it is sent; ``(entry, created)``. ``facts``: a payment's
        typed columns (customer, amounts, months, business day). ``scope``: where the
        reference is unique, as the host keys it (a Kantor Pos office; ``""``: the channel).
        ``wire``: what the adapter fixed before sending (:mod:`~jamsostek_channels.wirefacts`),
        kept apart from ``request`` (a repeated request is compared without it).

        ``attempt=True`` records the first attempt (and its send time) in the same commit: one
        durable write on the payment path instead of two. ``lease``: ``(owner, until)``, held
        while it is sent and resolved. ``state``: PENDING to send now, HELD to send later.

        When the reference is already journaled with the same request, the existing entry comes
        back with ``created=False`` (the caller returns its outcome instead of sending again).
        The same reference with a different request is a :class:`ReferenceConflict`.
        """
        key = (channel, scope, operation, reference)
        new = self._new_entry(key, request, facts, state, actor, attempt, lease, wire)
        with self._write() as db:
            found = self._insert(db, new[0])
        return _begun(new, found, facts, None if lease is None else lease[1])

    def begin_many(
        self,
        channel: str,
        operation: str,
        requests: Sequence[tuple[str, Mapping[str, Any], PaymentFacts | None]],
        *,
        state: EntryState = EntryState.HELD,
        actor: str = "batch",
        scope: str = "",
    ) -> list[tuple[Entry, bool]]:
        """Journal many ``(reference, request, facts)`` in one durable commit (a batch file's
        lines, a day of offline collections): each as :meth:`begin` would, all or none. A
        reference already journaled with other content is a :class:`ReferenceConflict` and
        nothing of the batch is written."""
        batch = [
            self._new_entry((channel, scope, operation, reference), request, facts, state, actor)
            for reference, request, facts in requests
        ]
        with self._write() as db:
            found = [self._insert(db, values) for values, _ in batch]
        return [
            _begun(new, one, facts)
            for new, one, (_, _, facts) in zip(batch, found, requests, strict=True)
        ]

    def _new_entry(
        self,
        key: tuple[str, str, str, str],
        request: Mapping[str, Any],
        facts: PaymentFacts | None,
        state: EntryState,
        actor: str,
        attempt: bool = False,
        lease: tuple[str, dt.datetime] | None = None,
        wire: Mapping[str, str] | None = None,
    ) -> tuple[tuple[object, ...], dt.datetime]:
        """The columns :data:`_INSERT_ENTRY` writes for a new entry (``key``: channel, scope,
        operation, reference) and the instant they are stamped with, made before the write
        lock is taken: a writer holds the lock only for the statements themselves."""
        channel, scope, operation, reference = key
        owner, until = lease if lease is not None else (None, None)
        if state not in (EntryState.PENDING, EntryState.HELD):
            raise ValueError("an entry begins PENDING or HELD")
        moment = self.clock()
        now = moment.isoformat()
        values = (
            channel,
            operation,
            reference,
            state,
            _dumps(request),
            int(attempt),
            now,
            now,
            now if attempt else None,
            owner,
            None if until is None else until.isoformat(),
            *_fact_columns(facts),
            scope,
            _history_line(now, actor, None, state, "journaled", first=True),
            _dumps(wire) if wire else None,
        )
        return values, moment

    def _insert(self, db: sqlite3.Connection, values: tuple[object, ...]) -> int | sqlite3.Row:
        """Inside ``db``'s transaction: the new entry's id, or the row of the entry already
        journaled under its key with the same request (:class:`ReferenceConflict` if another)."""
        # Inserted unless the reference is there already (one statement on the usual path;
        # its new id read from the connection, not RETURNed, which costs SQLite more).
        inserted = db.execute(_INSERT_ENTRY, values)
        if inserted.rowcount == 1:
            return cast(int, inserted.lastrowid)
        channel, operation, reference, _, payload = values[:5]
        scope = values[16]
        existing = db.execute(_ENTRY_BY_KEY, (channel, scope, operation, reference)).fetchone()
        # The stored text is this module's JSON form; one stored otherwise (an older version's)
        # is compared by content.
        if existing[5] != payload and _dumps(json.loads(existing[5])) != payload:
            raise ReferenceConflict(str(reference))
        return cast(sqlite3.Row, existing)

    def attempt(
        self,
        entry_id: int,
        *,
        lease: tuple[str, dt.datetime],
        actor: str = "client",
        wire: Mapping[str, str] | None = None,
    ) -> Entry:
        """Send a journaled request (again): HELD or NOT_APPLIED -> PENDING, attempts + 1, its
        send time now, under ``lease``; durable before it returns. ``wire``: this attempt's
        wire facts, replacing the entry's in the same commit. :class:`StaleEntry` if it is no
        longer HELD or NOT_APPLIED (someone else sent it, or it was settled)."""
        if not wire:
            return self.transition(
                entry_id,
                EntryState.PENDING,
                from_=(EntryState.HELD, EntryState.NOT_APPLIED),
                actor=actor,
                why="attempt",
                sent=True,
                lease=lease,
            )
        sources = _sources(EntryState.PENDING, (EntryState.HELD, EntryState.NOT_APPLIED))
        params = _move_params(
            self.clock().isoformat(),
            entry_id,
            EntryState.PENDING,
            sources,
            None,
            actor=actor,
            why="attempt",
            sent=True,
            lease=lease,
        )
        self.instance_id  # noqa: B018 - known before the transaction that may need it (held())
        with self._write() as db:
            # Written first and undone with the transaction when the move loses (StaleEntry).
            db.execute("UPDATE entries SET wire = ? WHERE id = ?", (_dumps(wire), entry_id))
            row = self._move(db, params, sources, None)
        return _entry(row)

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
    ) -> Entry:
        """Move an entry to ``to`` if it is in one of ``from_`` (default: every state
        :data:`TRANSITIONS` lets into ``to``) and, with ``owner``, only while no one else holds
        a live lease on it. Appended to the history in the same commit. ``outcome`` replaces
        the stored one when given; ``sent`` counts an attempt sent now; ``lease`` takes the
        lease (a final state drops it). Raises :class:`StaleEntry` when the compare-and-set
        loses, ``ValueError`` for a move the table does not have, ``KeyError`` for no entry."""
        sources = _sources(to, from_)
        params = _move_params(
            self.clock().isoformat(),
            entry_id,
            to,
            sources,
            outcome,
            actor=actor,
            why=why,
            sent=sent,
            lease=lease,
            host_reference=host_reference,
            business_day=business_day,
        )
        self.instance_id  # noqa: B018 - known before the transaction that may need it (held())
        with self._write() as db:
            row = self._move(db, params, sources, owner)
        return _entry(row)  # built once the lock is let go

    def transition_many(
        self, moves: Sequence[Move], *, actor: str = "batch"
    ) -> list[Entry | StaleEntry]:
        """Make many :class:`Move` s in one durable commit (a batch's result file settling its
        SUBMITTED entries): each a compare-and-set as :meth:`transition` makes it, answered in
        order by the entry as moved, or by the :class:`StaleEntry` of one that had moved
        elsewhere already (the others are made all the same). A storage failure writes none."""
        now = self.clock().isoformat()
        checked = []
        for move in moves:
            sources = _sources(move.to, move.from_)
            params = _move_params(
                now,
                move.entry_id,
                move.to,
                sources,
                move.outcome,
                actor=actor,
                why=move.why,
                host_reference=move.host_reference,
                business_day=move.business_day,
            )
            checked.append((params, sources))
        self.instance_id  # noqa: B018 - known before the transaction that may need it (held())
        results: list[sqlite3.Row | StaleEntry] = []
        with self._write() as db:
            for params, sources in checked:
                try:
                    results.append(self._move(db, params, sources, None))
                except StaleEntry as lost:
                    results.append(lost)
        return [done if isinstance(done, StaleEntry) else _entry(done) for done in results]

    def _move(
        self,
        db: sqlite3.Connection,
        params: list[object],
        sources: frozenset[EntryState],
        owner: str | None,
    ) -> sqlite3.Row:
        """One compare-and-set move inside ``db``'s transaction (see :meth:`transition`;
        ``params`` from :func:`_move_params`), ``owner`` the lease holder it is made for: the
        entry's row as moved."""
        # One UPDATE is the whole move: the compare-and-set in its WHERE (the entry still in
        # ``sources``, no one else's unexpired lease on it), the history line appended naming
        # the state left, the new values, all in one statement of one IMMEDIATE transaction.
        if db.execute(_MOVE, [*params, owner]).rowcount == 0:
            self._lost(db, params, sources, owner)
            # The lease in the way is void (its process died here): the move is made after all.
            db.execute(_MOVE, [*params, None])
        # Read back in the same transaction (still holding the write lock): the entry as moved.
        # A SELECT by id costs SQLite less than RETURNING, which builds a temporary table.
        return cast(sqlite3.Row, db.execute(_ENTRY_BY_ID, (params[_MOVE_ENTRY_ID],)).fetchone())

    def _lost(
        self,
        db: sqlite3.Connection,
        params: list[object],
        sources: frozenset[EntryState],
        owner: str | None,
    ) -> None:
        """The compare-and-set found the entry moved or leased by another: raise
        :class:`StaleEntry` (or ``KeyError``), unless the lease in the way is void because its
        process on this instance has died: then return, and the move is made after all."""
        entry_id = params[_MOVE_ENTRY_ID]
        before = db.execute(_ENTRY_BY_ID, (entry_id,)).fetchone()
        if before is None:
            raise KeyError(entry_id)
        current = _entry(before)
        if current.state not in sources or (
            owner is not None and self.held(current, by_other_than=owner)
        ):
            raise StaleEntry(current)

    def take_lease(
        self, entry_id: int, owner: str, until: dt.datetime, *, actor: str = "recover"
    ) -> Entry:
        """Hold an unresolved entry's lease: granted when no one else holds a live one (an
        expired lease is taken over, recorded in the history); renews ``owner``'s own.
        :class:`StaleEntry` when another owner's lease is live or the entry is settled."""
        now = self.clock().isoformat()
        self.instance_id  # noqa: B018 - known before the transaction that may need it (held())
        with self._write() as db:
            before = db.execute(_ENTRY_BY_ID, (entry_id,)).fetchone()
            if before is None:
                raise KeyError(entry_id)
            current = _entry(before)
            if current.state.final or self.held(current, by_other_than=owner):
                raise StaleEntry(current)
            line = None
            if current.lease_owner not in (None, owner):
                why = f"lease of {current.lease_owner} expired: taken over"
                line = _history_line(now, actor, current.state, current.state, why)
            row = db.execute(
                _TAKE_LEASE,
                (owner, until.isoformat(), line, line, entry_id),
            ).fetchone()
        return _entry(row)

    def owner_id(self, token: str) -> str:
        """A lease owner's name: this journal's instance, this process, and ``token`` (one per
        client), so a lease left by a process that died on this machine is known void."""
        return f"{self.instance_id}/{os.getpid()}/{token}"

    def held(self, entry: Entry, *, by_other_than: str | None = None) -> bool:
        """Whether a live lease holds ``entry`` for someone other than ``by_other_than``: not
        expired, and not left by a process of this journal's instance that no longer runs
        (after a crash, recovery need not wait out the dead payer's lease)."""
        if not entry.leased(self.clock(), by_other_than=by_other_than):
            return False
        instance, _, rest = (entry.lease_owner or "").partition("/")
        pid_text = rest.partition("/")[0]
        if instance != self.instance_id or not pid_text.isdigit():
            return True  # another instance's payer: only its expiry tells
        return _process_alive(int(pid_text))

    def wait(self, entry: Entry, *, owner: str, timeout: float) -> Entry:
        """``entry`` re-read until it is settled or no live lease of anyone but ``owner`` holds
        it, for at most ``timeout`` seconds: a second call for a payment another payer is
        sending answers with that payer's outcome instead of racing it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._waiting += 1  # counted before the first read: no commit after it goes unseen
        try:
            while True:
                current = self.get(
                    entry.channel, entry.operation, entry.reference, scope=entry.scope
                )
                assert current is not None
                remaining = deadline - time.monotonic()
                if current.state.final or not self.held(current, by_other_than=owner):
                    return current
                if remaining <= 0:
                    return current
                with self._changed:
                    self._changed.wait(min(remaining, 0.05))
        finally:
            with self._changed:
                self._waiting -= 1

    def release(self, entry_id: int, owner: str) -> None:
        """Give up ``owner``'s lease (an unresolved entry left for :meth:`take_lease` by
        anyone at once, rather than when the lease expires)."""
        with self._write() as db:
            db.execute(
                "UPDATE entries SET lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND lease_owner = ?",
                (entry_id, owner),
            )

    def history(self, entry_id: int) -> list[Transition]:
        """An entry's transitions, oldest first: what an auditor reads (``KeyError``: no such
        entry)."""
        with self._read() as db:
            row = db.execute("SELECT history FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise KeyError(entry_id)
        return [
            Transition(
                entry_id=entry_id,
                at=_time(at),
                actor=actor,
                from_state=None if from_state is None else EntryState(from_state),
                to_state=EntryState(to_state),
                why=why,
            )
            for at, actor, from_state, to_state, why in json.loads(row[0])
        ]

    def get(
        self, channel: str, operation: str, reference: str, *, scope: str | None = None
    ) -> Entry | None:
        """The entry of ``reference`` in ``scope``; with no scope, the one entry of that
        reference in any scope (a tool's or a test's look-up; ``ValueError`` if several
        scopes have it)."""
        if scope is not None:  # the whole unique key: one index probe (a payer's look-up)
            row = self._probe(_ENTRY_BY_KEY, (channel, scope, operation, reference))
            return None if row is None else _entry(row)
        with self._read() as db:
            # Any scope: the key's index narrows to the channel only (a tool's look-up).
            rows = db.execute(_ENTRY_BY_REFERENCE, (channel, operation, reference)).fetchall()
        return _one(rows, _entry)

    def unresolved(self, channel: str | None = None, *, scope: str | None = None) -> list[Entry]:
        """Entries whose outcome is not known: PENDING (possibly mid-send when a process died)
        and UNKNOWN, oldest first."""
        # The partial index's own WHERE, repeated, so SQLite may use it.
        query = _OPEN_ENTRIES + " AND state IN (?, ?)"
        query, params = _equal(
            query, [EntryState.PENDING, EntryState.UNKNOWN], channel=channel, scope=scope
        )
        with self._read() as db:
            rows = db.execute(query + " ORDER BY id", params).fetchall()
        return [_entry(row) for row in rows]

    def entries(
        self,
        channel: str | None = None,
        operation: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[Entry]:
        """Entries filtered by channel, operation and creation time ``[since, until)``."""
        query, params = _equal(
            _ALL_ENTRIES,
            [],
            channel=channel,
            operation=operation,
        )
        with self._read() as db:
            rows = [_entry(row) for row in db.execute(query + " ORDER BY id", params)]
        return [
            e
            for e in rows
            if (since is None or e.created_at >= since) and (until is None or e.created_at < until)
        ]

    def payments(
        self, channel: str, operation: str, *, scopes: Collection[str] | None = None
    ) -> list[tuple[Any, ...]]:
        """``(reference, state, created_at, customer, amount, admin_fee, periods,
        business_day, host_reference)`` of every entry of ``channel`` and ``operation`` (in
        ``scopes``, when given: one office's file against a journal several offices share),
        from the typed columns, as plain tuples (``periods`` as ``"YYYY-MM,YYYY-MM"``, days
        and times as ISO text): a day's reconciliation reads 100,000 of these, and parses
        nothing it does not use."""
        with self._read() as db:
            cursor = db.cursor()
            cursor.row_factory = None  # plain tuples: no sqlite3.Row per row to copy again
            return cursor.execute(
                "SELECT reference, state, created_at, customer, amount, admin_fee, periods,"
                " business_day, host_reference FROM entries"
                " WHERE channel = ? AND operation = ?"
                " AND (? IS NULL OR scope IN (SELECT value FROM json_each(?))) ORDER BY id",
                (channel, operation, *(2 * [None if scopes is None else json.dumps(list(scopes))])),
            ).fetchall()

    # Outbox (store and forward) ---------------------------------------------------------------

    def enqueue(
        self,
        channel: str,
        kind: str,
        reference: str,
        payload: Mapping[str, Any],
        *,
        expires_at: dt.datetime,
        scope: str = "",
    ) -> OutboxItem:
        """Persist a message to be delivered until accepted; idempotent per (channel, scope,
        kind, reference): enqueuing again returns the stored item."""
        now = self._now()
        with self._write() as db:
            db.execute(
                "INSERT INTO outbox (channel, kind, reference, state, payload, next_attempt_at,"
                " expires_at, created_at, updated_at, scope)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (channel, scope, kind, reference) DO NOTHING",
                (
                    channel,
                    kind,
                    reference,
                    OutboxState.PENDING,
                    _dumps(payload),
                    now,
                    expires_at.isoformat(),
                    now,
                    now,
                    scope,
                ),
            )
            row = db.execute(
                "SELECT * FROM outbox WHERE channel = ? AND scope = ? AND kind = ?"
                " AND reference = ?",
                (channel, scope, kind, reference),
            ).fetchone()
        return _item(row)

    def outbox_item(
        self, channel: str, kind: str, reference: str, *, scope: str | None = None
    ) -> OutboxItem | None:
        """As :meth:`get`, for an outbox item."""
        with self._read() as db:
            if scope is not None:  # the whole unique key: one index probe
                row = db.execute(
                    "SELECT * FROM outbox WHERE channel = ? AND scope = ? AND kind = ?"
                    " AND reference = ?",
                    (channel, scope, kind, reference),
                ).fetchone()
                return None if row is None else _item(row)
            rows = db.execute(
                "SELECT * FROM outbox WHERE channel = ? AND kind = ? AND reference = ? LIMIT 2",
                (channel, kind, reference),
            ).fetchall()
        return _one(rows, _item)

    def expire(self, *, now: dt.datetime | None = None) -> list[OutboxItem]:
        """Mark PENDING items past ``expires_at`` EXPIRED (a person must look at them) and
        return them: what expires is reported, never silently dropped."""
        moment = (now or self.clock()).isoformat()
        with self._write() as db:
            # julianday(): compare instants, not ISO strings (their UTC offsets may differ).
            rows = db.execute(
                "UPDATE outbox SET state = ?, lease_owner = NULL, lease_until = NULL,"
                " updated_at = ? WHERE state = ? AND julianday(expires_at) <= julianday(?)"
                " RETURNING *",
                (OutboxState.EXPIRED, moment, OutboxState.PENDING, moment),
            ).fetchall()
        return sorted((_item(row) for row in rows), key=lambda item: item.id)

    def due(
        self,
        channel: str | None = None,
        *,
        now: dt.datetime | None = None,
        ignore_schedule: bool = False,
        scope: str | None = None,
    ) -> list[OutboxItem]:
        """Pending items whose next attempt is due (all pending ones with ``ignore_schedule``);
        items past ``expires_at`` are marked EXPIRED first (:meth:`expire`) and never
        returned."""
        moment = now or self.clock()
        self.expire(now=moment)
        query = "SELECT * FROM outbox WHERE state = ?"
        params: list[object] = [OutboxState.PENDING]
        if not ignore_schedule:
            query += " AND julianday(next_attempt_at) <= julianday(?)"
            params.append(moment.isoformat())
        query, params = _equal(query, params, channel=channel, scope=scope)
        with self._read() as db:
            rows = db.execute(query + " ORDER BY id", params).fetchall()
        return [_item(row) for row in rows]

    def outbox(self, channel: str | None = None) -> list[OutboxItem]:
        query, params = _equal("SELECT * FROM outbox WHERE 1 = 1", [], channel=channel)
        with self._read() as db:
            return [_item(row) for row in db.execute(query + " ORDER BY id", params)]

    def claim(self, item_id: int, owner: str, until: dt.datetime) -> OutboxItem | None:
        """Take a PENDING item to deliver it: its attempt is counted and ``owner`` holds it
        until ``until``, durably, before anything is sent, so two processes never deliver one
        item at once and a resend after a crash is marked as a repeat. ``None`` when it is no
        longer PENDING or another owner holds a live claim."""
        now = self.clock().isoformat()
        with self._write() as db:
            row = db.execute(
                "UPDATE outbox SET attempts = attempts + 1, lease_owner = ?, lease_until = ?,"
                " updated_at = ? WHERE id = ? AND state = ? AND (lease_owner IS NULL"
                " OR lease_owner = ? OR julianday(lease_until) <= julianday(?)) RETURNING *",
                (owner, until.isoformat(), now, item_id, OutboxState.PENDING, owner, now),
            ).fetchone()
        return None if row is None else _item(row)

    def delivered(self, item_id: int, state: OutboxState, error: str | None = None) -> OutboxItem:
        """Record a claimed attempt's final answer (ACCEPTED or REJECTED)."""
        with self._write() as db:
            row = db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, lease_owner = NULL,"
                " lease_until = NULL, updated_at = ? WHERE id = ? RETURNING *",
                (state, error, self._now(), item_id),
            ).fetchone()
        return _item(row)

    def retry_later(self, item_id: int, next_attempt_at: dt.datetime, error: str) -> OutboxItem:
        """Record a claimed attempt that failed; the item stays PENDING until
        ``next_attempt_at``, free for any deliverer to claim then."""
        with self._write() as db:
            row = db.execute(
                "UPDATE outbox SET next_attempt_at = ?, last_error = ?, lease_owner = NULL,"
                " lease_until = NULL, updated_at = ? WHERE id = ? RETURNING *",
                (next_attempt_at.isoformat(), error[:200], self._now(), item_id),
            ).fetchone()
        return _item(row)

    # Sequences --------------------------------------------------------------------------------

    @property
    def instance_id(self) -> str:
        """Six random letters and digits chosen when this journal file was created and kept
        for its life: two journals (two gateway instances, or a rebuilt one) never mint the
        same identifiers from the same sequence numbers."""
        if self._instance is None:  # it never changes: read (or minted) once
            with self._write() as db:
                row = db.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
                if row is None:
                    value = "".join(secrets.choice(_INSTANCE_ALPHABET) for _ in range(6))
                    db.execute("INSERT INTO meta (key, value) VALUES ('instance', ?)", (value,))
                else:
                    value = str(row[0])
            self._instance = value
        return self._instance

    def reserve(self, name: str, count: int) -> int:
        """Reserve ``count`` consecutive values of a named counter; returns the first. The
        reservation is durable before it is returned: values handed out from it are never
        handed out again, even if the process dies before using them all (they are skipped)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._write() as db:
            db.execute(
                "INSERT INTO sequences (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                (name, count),
            )
            last: int = db.execute(
                "SELECT value FROM sequences WHERE name = ?", (name,)
            ).fetchone()[0]
        return last - count + 1
