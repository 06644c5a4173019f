"""Opening a journal file a command was pointed at: an existing journal, or a typed refusal.

Opening a :class:`~jamsostek_channels.journal.Journal` creates its tables, so a command that
reads one (``reconcile``, ``recover``, ``outbox``) checks first, read-only, that the file is
there and is a journal: a wrong path must not turn another SQLite file, or a new empty file,
into a journal. A journal that is there but cannot be used (held by another writer past the
busy timeout, damaged, of a newer schema) is the journal's own typed error, which the commands
end with :attr:`~jamsostek_channels.cli.exits.Exit.JOURNAL`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from jamsostek_channels.errors import InvalidInput, Problem
from jamsostek_channels.journal import Journal

__all__ = ["open_existing"]


def open_existing(path: Path, *, field: str = "journal") -> Journal:
    """The journal at ``path``; :class:`InvalidInput` (naming ``field``) when there is no file,
    it cannot be read, or it is not a journal; the journal's
    :class:`~jamsostek_channels.journal.JournalError` when it cannot be opened."""
    if not path.is_file():
        raise InvalidInput([Problem.of(field, "file.unreadable")])
    not_a_journal = Problem.of(field, "message.malformed", {"reason": "not a journal"})
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {
                row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            probe.close()
    except sqlite3.DatabaseError as error:
        if isinstance(error, sqlite3.OperationalError):
            raise InvalidInput([Problem.of(field, "file.unreadable")]) from None
        raise InvalidInput([not_a_journal]) from None
    if "entries" not in tables:
        raise InvalidInput([not_a_journal])
    return Journal(path)
