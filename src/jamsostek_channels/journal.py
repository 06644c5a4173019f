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
wait for another instead of failing. ``":memory:"`` gives a private in-memory journal for tests,
shared by the threads of one :class:`Journal`.

The schema is versioned (``PRAGMA user_version``); opening a newer file than this code knows is
refused rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from jamsostek_channels import clock as _clock
from jamsostek_channels.errors import JamsostekError, ReferenceConflict

__all__ = [
    "SCHEMA_VERSION",
    "Entry",
    "EntryState",
    "Journal",
    "JournalError",
    "OutboxItem",
    "OutboxState",
]

SCHEMA_VERSION = 1
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
    UNIQUE (channel, operation, reference)
);
CREATE INDEX IF NOT EXISTS entries_state ON entries (state);
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
    UNIQUE (channel, kind, reference)
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


class JournalError(JamsostekError):
    """The journal file cannot be used (unknown schema version, not a journal)."""


class EntryState(enum.StrEnum):
    PENDING = "pending"  #: written before sending; the outcome is not known yet
    UNKNOWN = "unknown"  #: sent and no answer came: resolve by status, never by sending again
    APPLIED = "applied"  #: the other side applied it (once)
    DECLINED = "declined"  #: the other side refused it: nothing applied
    NOT_APPLIED = "not-applied"  #: surely not applied (never delivered, or the host never saw it)
    REVERSED = "reversed"  #: applied, then reversed

    @property
    def final(self) -> bool:
        return self not in (EntryState.PENDING, EntryState.UNKNOWN)


class OutboxState(enum.StrEnum):
    PENDING = "pending"  #: stored, to be sent (again) at next_attempt_at
    ACCEPTED = "accepted"  #: the other side accepted it
    REJECTED = "rejected"  #: the other side refused it for good
    EXPIRED = "expired"  #: not accepted before expires_at: needs a person


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

    @property
    def repeat(self) -> bool:
        """True after the first attempt: the wire marks it as a repeat (0421, flagAdvise=Y)."""
        return self.attempts > 0


def _dumps(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        id=row["id"],
        channel=row["channel"],
        operation=row["operation"],
        reference=row["reference"],
        state=EntryState(row["state"]),
        request=_loads(row["request"]),
        outcome=_loads(row["outcome"]),
        attempts=row["attempts"],
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
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
    )


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
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # In memory there is one connection, shared by the threads under this lock (SQLite's
        # shared-cache locks would fail instead of waiting); on disk each thread has its own.
        self._serial = threading.RLock()
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
            self._anchor = self._connect()
            self._migrate(self._anchor)
        except BaseException as error:
            self.close()
            if isinstance(error, sqlite3.DatabaseError) and not isinstance(
                error, sqlite3.OperationalError
            ):  # e.g. "file is not a database": not a journal, never a raw sqlite3 error
                raise JournalError("message.malformed", {"reason": "not a journal"}) from error
            raise

    # Connections ----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._target,
            timeout=self._busy_timeout,
            isolation_level=None,  # explicit BEGIN/COMMIT below
            check_same_thread=False,
        )
        with self._lock:  # registered first, so close() also closes one that fails below
            self._connections.append(connection)
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        if not self._memory:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # pragma: no cover - e.g. a network file system
                raise JournalError("message.malformed", {"reason": f"journal mode {mode}"})
        connection.execute("PRAGMA synchronous = FULL")
        return connection

    def _connection(self) -> sqlite3.Connection:
        if self._memory:
            return self._anchor
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
        return connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken up front, so two writers never
        deadlock upgrading read locks; committed with synchronous=FULL before returning."""
        with self._read() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        if self._memory:
            with self._serial:
                yield self._anchor
        else:
            yield self._connection()

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise JournalError(
                    "message.malformed",
                    {"reason": f"journal schema {version} is newer than {SCHEMA_VERSION}"},
                )
            if version < SCHEMA_VERSION:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        connection.execute(statement)
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
    ) -> tuple[Entry, bool]:
        """Record a request before it is sent; ``(entry, created)``.

        ``attempt=True`` records the first attempt in the same commit (one durable write on the
        payment path instead of two; :meth:`attempt` counts later ones).

        When the reference is already journaled with the same request, the existing entry comes
        back with ``created=False`` (the caller returns its outcome instead of sending again).
        The same reference with a different request is refused: a reference names one request.
        """
        payload = _dumps(request)
        assert payload is not None
        now = self._now()
        with self._write() as db:
            row = db.execute(
                "SELECT * FROM entries WHERE channel = ? AND operation = ? AND reference = ?",
                (channel, operation, reference),
            ).fetchone()
            if row is None:
                row = db.execute(
                    "INSERT INTO entries (channel, operation, reference, state, request,"
                    " attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " RETURNING *",
                    (
                        channel,
                        operation,
                        reference,
                        EntryState.PENDING,
                        payload,
                        int(attempt),
                        now,
                        now,
                    ),
                ).fetchone()
                return _entry(row), True
        existing = _entry(row)
        if _dumps(existing.request) != payload:
            raise ReferenceConflict(reference)
        return existing, False

    def attempt(self, entry_id: int) -> Entry:
        """Mark an entry as about to be sent (again): PENDING, attempts + 1, durable."""
        return self._update(entry_id, EntryState.PENDING, None, count_attempt=True)

    def finish(
        self, entry_id: int, state: EntryState, outcome: Mapping[str, Any] | None = None
    ) -> Entry:
        """Record what happened (or that nobody knows yet: ``EntryState.UNKNOWN``)."""
        return self._update(entry_id, state, outcome, count_attempt=False)

    def _update(
        self,
        entry_id: int,
        state: EntryState,
        outcome: Mapping[str, Any] | None,
        *,
        count_attempt: bool,
    ) -> Entry:
        with self._write() as db:
            row = db.execute(
                "UPDATE entries SET state = ?, outcome = COALESCE(?, outcome),"
                " attempts = attempts + ?, updated_at = ? WHERE id = ? RETURNING *",
                (state, _dumps(outcome), int(count_attempt), self._now(), entry_id),
            ).fetchone()
        if row is None:
            raise KeyError(entry_id)
        return _entry(row)

    def get(self, channel: str, operation: str, reference: str) -> Entry | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM entries WHERE channel = ? AND operation = ? AND reference = ?",
                (channel, operation, reference),
            ).fetchone()
        return None if row is None else _entry(row)

    def unresolved(self, channel: str | None = None) -> list[Entry]:
        """Entries whose outcome is not known: PENDING (possibly mid-send when a process died)
        and UNKNOWN, oldest first."""
        query = "SELECT * FROM entries WHERE state IN (?, ?)"
        params: list[object] = [EntryState.PENDING, EntryState.UNKNOWN]
        if channel is not None:
            query += " AND channel = ?"
            params.append(channel)
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
        query, params = "SELECT * FROM entries WHERE 1 = 1", []
        for column, value in (("channel", channel), ("operation", operation)):
            if value is not None:
                query += f" AND {column} = ?"
                params.append(value)
        with self._read() as db:
            rows = [_entry(row) for row in db.execute(query + " ORDER BY id", params)]
        return [
            e
            for e in rows
            if (since is None or e.created_at >= since) and (until is None or e.created_at < until)
        ]

    def project(self, channel: str, operation: str, paths: Sequence[str]) -> list[tuple[Any, ...]]:
        """``(reference, state, created_at, *values)`` of every entry of ``channel`` and
        ``operation``, where each value is the JSON path ``paths[i]`` (``$.request.amount``,
        ``$outcome.host_reference`` for the outcome) extracted by SQLite. For large reads
        (a day's reconciliation) that need a few fields, not whole entries: nothing is parsed in
        Python but what is asked for."""
        columns: list[str] = []
        params: list[object] = []
        for path in paths:
            # The paths are bound parameters, never SQL text; only the column is chosen here.
            if path.startswith("$outcome"):
                columns.append("json_extract(outcome, ?)")
                params.append("$" + path[len("$outcome") :])
            else:
                columns.append("json_extract(request, ?)")
                params.append(path)
        # Only constant column expressions are joined in; the JSON paths are bound parameters.
        query = (
            "SELECT reference, state, created_at"  # noqa: S608
            + "".join(f", {column}" for column in columns)
            + " FROM entries WHERE channel = ? AND operation = ? ORDER BY id"
        )
        with self._read() as db:
            cursor = db.cursor()
            cursor.row_factory = None  # plain tuples: no sqlite3.Row per row to copy again
            return cursor.execute(query, (*params, channel, operation)).fetchall()

    # Outbox (store and forward) ---------------------------------------------------------------

    def enqueue(
        self,
        channel: str,
        kind: str,
        reference: str,
        payload: Mapping[str, Any],
        *,
        expires_at: dt.datetime,
    ) -> OutboxItem:
        """Persist a message to be delivered until accepted; idempotent per (channel, kind,
        reference): enqueuing again returns the stored item."""
        now = self._now()
        with self._write() as db:
            db.execute(
                "INSERT INTO outbox (channel, kind, reference, state, payload, next_attempt_at,"
                " expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (channel, kind, reference) DO NOTHING",
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
                ),
            )
            row = db.execute(
                "SELECT * FROM outbox WHERE channel = ? AND kind = ? AND reference = ?",
                (channel, kind, reference),
            ).fetchone()
        return _item(row)

    def outbox_item(self, channel: str, kind: str, reference: str) -> OutboxItem | None:
        with self._read() as db:
            row = db.execute(
                "SELECT * FROM outbox WHERE channel = ? AND kind = ? AND reference = ?",
                (channel, kind, reference),
            ).fetchone()
        return None if row is None else _item(row)

    def due(
        self,
        channel: str | None = None,
        *,
        now: dt.datetime | None = None,
        ignore_schedule: bool = False,
    ) -> list[OutboxItem]:
        """Pending items whose next attempt is due (all pending ones with ``ignore_schedule``);
        items past ``expires_at`` are marked EXPIRED first and never returned."""
        moment = (now or self.clock()).isoformat()
        with self._write() as db:
            # julianday(): compare instants, not ISO strings (their UTC offsets may differ).
            db.execute(
                "UPDATE outbox SET state = ?, updated_at = ?"
                " WHERE state = ? AND julianday(expires_at) <= julianday(?)",
                (OutboxState.EXPIRED, moment, OutboxState.PENDING, moment),
            )
        query = "SELECT * FROM outbox WHERE state = ?"
        params: list[object] = [OutboxState.PENDING]
        if not ignore_schedule:
            query += " AND julianday(next_attempt_at) <= julianday(?)"
            params.append(moment)
        if channel is not None:
            query += " AND channel = ?"
            params.append(channel)
        with self._read() as db:
            rows = db.execute(query + " ORDER BY id", params).fetchall()
        return [_item(row) for row in rows]

    def outbox(self, channel: str | None = None) -> list[OutboxItem]:
        query, params = "SELECT * FROM outbox", []
        if channel is not None:
            query += " WHERE channel = ?"
            params.append(channel)
        with self._read() as db:
            return [_item(row) for row in db.execute(query + " ORDER BY id", params)]

    def delivered(self, item_id: int, state: OutboxState, error: str | None = None) -> OutboxItem:
        """Record an attempt's final answer (ACCEPTED or REJECTED)."""
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?,"
                " updated_at = ? WHERE id = ?",
                (state, error, self._now(), item_id),
            )
            row = db.execute("SELECT * FROM outbox WHERE id = ?", (item_id,)).fetchone()
        return _item(row)

    def retry_later(self, item_id: int, next_attempt_at: dt.datetime, error: str) -> OutboxItem:
        """Record a failed attempt; the item stays PENDING until ``next_attempt_at``."""
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,"
                " updated_at = ? WHERE id = ?",
                (next_attempt_at.isoformat(), error[:200], self._now(), item_id),
            )
            row = db.execute("SELECT * FROM outbox WHERE id = ?", (item_id,)).fetchone()
        return _item(row)

    # Sequences --------------------------------------------------------------------------------

    @property
    def instance_id(self) -> str:
        """Six random letters and digits chosen when this journal file was created and kept
        for its life: two journals (two gateway instances, or a rebuilt one) never mint the
        same identifiers from the same sequence numbers."""
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
            if row is None:
                value = "".join(secrets.choice(_INSTANCE_ALPHABET) for _ in range(6))
                db.execute("INSERT INTO meta (key, value) VALUES ('instance', ?)", (value,))
                return value
        return str(row[0])

    def next_sequence(self, name: str) -> int:
        """The next value of a named counter (1, 2, ...), durable before it is returned, so a
        restarted process never hands out a value twice."""
        return self.reserve(name, 1)

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
