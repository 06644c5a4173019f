"""The journal's errors: typed storage failures, each with a bilingual message (never a raw
``sqlite3`` error), all :class:`JournalError`::

    JournalError            the journal cannot be used or written
    ├── JournalUnavailable  the file cannot be opened (a missing folder, no permission)
    ├── JournalBusy         another writer held it past the busy timeout
    ├── JournalFull         the disk or the file-size limit is full
    ├── JournalReadOnly     the file or its folder is read-only
    └── JournalCorrupt      a damaged page, or not a journal at all
"""

from __future__ import annotations

from jamsostek_channels.errors import JamsostekError

__all__ = [
    "JournalBusy",
    "JournalCorrupt",
    "JournalError",
    "JournalFull",
    "JournalReadOnly",
    "JournalUnavailable",
]


class JournalError(JamsostekError):
    """Group "storage": the journal cannot be used or written: the file is not a journal, is of
    a newer schema, or the storage failed (the subclasses say how)."""

    group = "storage"


class JournalUnavailable(JournalError):
    """The journal file cannot be opened (a missing folder, no permission)."""


class JournalBusy(JournalError):
    """Another writer held the journal past the busy timeout."""


class JournalFull(JournalError):
    """The disk (or the file-size limit) is full: nothing more can be written."""


class JournalReadOnly(JournalError):
    """The journal file (or its folder) is read-only."""


class JournalCorrupt(JournalError):
    """The journal file is damaged (a corrupt page) or is not a journal."""
