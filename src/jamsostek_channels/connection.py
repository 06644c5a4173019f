"""One way in: :func:`connect` builds a ready :class:`~jamsostek_channels.client.Client` for any
installed channel from its settings and a journal given once.

::

    import jamsostek_channels as jc

    with jc.connect(name, settings, journal="payments.sqlite") as client:
        receipt = client.pay("3201015508950001", months=3, reference="POS-000123")
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jamsostek_channels.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from jamsostek_channels.client import Client
    from jamsostek_channels.clock import Clock
    from jamsostek_channels.journal import JournalStore

__all__ = ["connect", "open_journal"]

_SQLITE = "sqlite:"


def _refused(given: object) -> InvalidInput:
    from jamsostek_channels.messages import echo

    kind = type(given).__name__ if not isinstance(given, str) else echo(given)
    return InvalidInput([Problem.of("journal", "journal.location", {"given": kind})])


def open_journal(
    journal: JournalStore | str | os.PathLike[str], *, clock: Clock | None = None
) -> tuple[JournalStore, bool]:
    """``(store, opened)``: an open store as it is (``opened`` false), or the SQLite journal at a
    path or a ``sqlite:///path`` URL (SQLAlchemy's spelling: ``sqlite:///relative.sqlite``,
    ``sqlite:////absolute.sqlite``; ``sqlite://`` alone is in memory). Another URL scheme, or
    something that is none of these, is :class:`~jamsostek_channels.errors.InvalidInput`
    (``journal.location``)."""
    from jamsostek_channels.clock import now
    from jamsostek_channels.journal import Journal

    if isinstance(journal, os.PathLike):
        return Journal(Path(journal), clock=clock or now), True
    if isinstance(journal, str):
        location = journal
        if location.startswith(_SQLITE):
            rest = location.removeprefix(_SQLITE)
            if not rest.startswith("//"):
                raise _refused(journal)
            location = rest.removeprefix("//").removeprefix("/") or ":memory:"
        elif "://" in location or not location.strip():
            raise _refused(journal)
        return Journal(location, clock=clock or now), True
    if journal is None or not callable(getattr(journal, "close", None)):
        raise _refused(journal)
    return journal, False


@functools.cache
def _client_options() -> frozenset[str]:
    from jamsostek_channels.client import Client

    parameters = inspect.signature(Client).parameters
    return frozenset(name for name in parameters if name not in {"adapter", "journal", "clock"})


def connect(
    channel: str,
    settings: Mapping[str, Any] | object,
    *,
    journal: JournalStore | str | os.PathLike[str],
    clock: Clock | None = None,
    **options: Any,
) -> Client:
    """A :class:`~jamsostek_channels.client.Client` for installed channel ``channel``.

    ``settings``: a mapping (a deployment's JSON, the sandbox info file's entry) or the
    channel's typed settings object; every missing, unknown or mistyped key is reported at once
    (:class:`~jamsostek_channels.errors.SettingsInvalid`). ``journal``: a path, a
    ``sqlite:///path`` URL or an open :class:`~jamsostek_channels.journal.JournalStore`; closing
    the client closes it, and a journal opened here is closed again if the adapter cannot be
    built. ``clock`` is the one time the client, journal and adapter read (default: the
    adapter's, the wall clock). ``options`` the client takes (``agent_id``, ``rules``,
    ``status_polls``, ...) go to it, the others to the adapter (``timeouts``, ``transport``,
    ...). On an agent channel without ``agent_id=``, the settings' ``agent_id`` is used.

    An unknown ``channel`` is :class:`~jamsostek_channels.errors.UnknownChannel` (listing the
    installed ones)."""
    from jamsostek_channels import registry
    from jamsostek_channels.client import Client
    from jamsostek_channels.sequences import SequenceSource

    spec = registry.spec(channel)
    typed = spec.parse_settings(settings)
    store, opened = open_journal(journal, clock=clock)
    client_options = {k: options.pop(k) for k in _client_options() if k in options}
    try:
        adapter = spec.adapter(typed, sequences=SequenceSource(store), clock=clock, **options)
    except BaseException:
        if opened:
            store.close()
        raise
    if adapter.capabilities.agent_id_required and client_options.get("agent_id") is None:
        # The channel's own kind of agent id (a post-office teller, a bank agent).
        client_options["agent_id"] = getattr(typed, "agent_id", None)
    return Client(adapter, journal=store, clock=clock, **client_options)
