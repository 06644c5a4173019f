"""The channel registry: every channel this installation speaks, one :class:`ChannelSpec` each.

Specs are found through the ``jamsostek_channels.channels`` entry-point group, so a partner adds a
channel from its own package without editing this one::

    [project.entry-points."jamsostek_channels.channels"]
    my-channel = "my_package.channel:SPEC"

The entry point's name is the channel's name. The core names no channel: the command line, the
sandbox, chaos and :func:`jamsostek_channels.connect` ask :func:`channels` or :func:`spec`.
:func:`registered` adds a spec for the length of a ``with`` block (tests, a one-off tool).

A spec holds plain callables; a channel's module keeps heavy imports (its codec, its fake
gateway, lxml) inside them, so listing the channels stays cheap.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

import attrs

from jamsostek_channels.channel_settings import settings_from_mapping
from jamsostek_channels.errors import UnknownChannel

if TYPE_CHECKING:
    from jamsostek_channels.channel import Adapter, Capabilities, SettlementRecord
    from jamsostek_channels.clock import Clock
    from jamsostek_channels.journal import JournalStore
    from jamsostek_channels.sequences import SequenceSource
    from jamsostek_channels.testing.host import FakeHost
    from jamsostek_channels.testing.wire import Faults, Gateway

__all__ = [
    "GROUP",
    "AdapterFactory",
    "CapabilitiesReader",
    "ChannelSpec",
    "FakeFactory",
    "FakeServer",
    "FakeServerFactory",
    "SettlementFiles",
    "SettlementReader",
    "channels",
    "names",
    "registered",
    "spec",
]

#: The entry-point group a package registers its channels in.
GROUP = "jamsostek_channels.channels"

S = TypeVar("S")
S_contra = TypeVar("S_contra", contravariant=True)

#: A channel's name: it becomes a URL path segment (the sandbox's ``/<name>/``) and a CLI value.
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


class AdapterFactory(Protocol[S_contra]):
    """Builds a channel's adapter from its typed settings. ``sequences``: where it takes the
    identifiers that must never repeat (an adapter is never handed the whole journal);
    ``clock`` ``None``: the adapter's own default (the wall clock); ``options`` are the
    adapter's keyword arguments (``timeouts``, ``transport``, ...)."""

    def __call__(
        self,
        settings: S_contra,
        *,
        sequences: SequenceSource,
        clock: Clock | None,
        **options: Any,
    ) -> Adapter: ...


#: ``f(host, prefix, faults) -> (gateway, settings)``: a channel's fake gateway over the shared
#: fake host, answering under ``prefix``, and the settings a client of it needs (all but
#: ``base_url``, which the sandbox adds).
FakeFactory = Callable[["FakeHost", str, "Faults"], tuple["Gateway", Mapping[str, Any]]]


class FakeServer(Protocol):
    """A channel's fake that listens itself (an ISO 8583 switch on its own loopback TCP port):
    a client cannot reach it through ``responses``, so the sandbox starts it whether it serves
    on a socket or in-process. ``address`` is a client's ``base_url`` (known once built);
    ``reset`` forgets the fake's own state (the host's is the sandbox's to reset); a stopped one
    is not started again (the sandbox builds another)."""

    @property
    def address(self) -> str: ...

    def start(self) -> object: ...

    def stop(self) -> None: ...

    def reset(self) -> None: ...

    def client_settings(self) -> Mapping[str, Any]:
        """Settings that differ for each client the sandbox builds (``{}``: none do), e.g. a
        terminal id each where every terminal keeps its own sequence numbers."""
        ...


@runtime_checkable
class SettlementFiles(Protocol):
    """A channel's fake that writes the channel's end-of-day settlement file for any business
    day (the sandbox's ``GET /control/settlement`` serves it): a listening fake
    (:class:`FakeServer`), or the object a fake gateway is a bound method of."""

    def settlement_file(self, day: dt.date) -> bytes:
        """The file's bytes, as the channel writes them."""
        ...

    def settlement_name(self, day: dt.date) -> str:
        """The file's name, as the channel names it."""
        ...


#: ``f(host, name, faults) -> (server, settings)``: a channel's listening fake over the shared
#: fake host, named ``name`` in the host's records and in fault prefixes (``/<name>/``), and the
#: settings a client of it needs (all but ``base_url``, which is the server's ``address``).
FakeServerFactory = Callable[["FakeHost", str, "Faults"], tuple[FakeServer, Mapping[str, Any]]]

#: A channel's capabilities as its shipped profile declares them, read without settings or an
#: adapter (``quote --channel`` prices with them): ``f() -> capabilities``.
CapabilitiesReader = Callable[[], "Capabilities"]

#: Reads a channel's settlement file: ``f(path) -> (day, records)``.
SettlementReader = Callable[[Path], tuple[dt.date, Sequence["SettlementRecord"]]]


def _check_name(instance: object, attribute: object, value: str) -> None:
    if not _NAME.fullmatch(value):
        raise ValueError(f"a channel name is 1-40 of a-z 0-9 - (starting a-z 0-9), not {value!r}")


@attrs.frozen
class ChannelSpec(Generic[S]):
    """One channel: what builds it, what configures it, what fakes it, where it is described.

    * ``name`` - the channel's name (the entry point's name);
    * ``family`` - its wire family (``adapters/<family>/``: the codec, profiles and fake it
      shares with its siblings);
    * ``settings`` - its settings class (frozen attrs; see
      :mod:`jamsostek_channels.channel_settings`), which must offer ``base_url`` and
      ``agent_id`` (:class:`~jamsostek_channels.channel_settings.ChannelSettings`);
    * ``adapter`` - builds the adapter from typed settings (:class:`AdapterFactory`);
    * ``docs`` - its documentation page (``docs/channels/<name>.md`` here; a URL elsewhere);
    * ``fake`` - its fake gateway for the sandbox (:data:`FakeFactory`), or ``None``;
    * ``fake_server`` - or, for a channel that is not HTTP, its fake that listens on a port of
      its own (:data:`FakeServerFactory`), or ``None``; a spec gives at most one of the two;
    * ``settlement_reader`` - reads its settlement file (:data:`SettlementReader`), or ``None``
      (``reconcile --format json`` still works);
    * ``capabilities`` - reads what its shipped profile declares (:data:`CapabilitiesReader`),
      or ``None`` (then only a built adapter tells: :meth:`declared_capabilities` refuses);
    * ``sandbox_path`` - the path under the sandbox's root a client of the fake puts in its base
      URL; ``None``: ``/<name>``. A channel whose own paths already begin with ``/<name>/`` gives
      ``""`` (the sandbox routes ``/<name>/...`` to the fake either way).
    """

    name: str = attrs.field(validator=_check_name)
    family: str
    settings: type[S]
    adapter: AdapterFactory[S] = attrs.field(repr=False)
    docs: str
    fake: FakeFactory | None = attrs.field(default=None, repr=False)
    settlement_reader: SettlementReader | None = attrs.field(default=None, repr=False)
    sandbox_path: str | None = None
    capabilities: CapabilitiesReader | None = attrs.field(default=None, repr=False)
    fake_server: FakeServerFactory | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.fake is not None and self.fake_server is not None:
            raise ValueError(f"channel {self.name!r}: give a fake or a fake_server, not both")

    @property
    def faked(self) -> bool:
        """Whether the sandbox can serve this channel (it has either kind of fake)."""
        return self.fake is not None or self.fake_server is not None

    def declared_capabilities(self) -> Capabilities:
        """What the channel's shipped profile declares (month counts, admin fee, limits),
        without settings or an adapter; :class:`~jamsostek_channels.errors.CapabilityRefused`
        (``channel.no_capabilities``) when the spec does not say."""
        if self.capabilities is None:
            from jamsostek_channels.errors import CapabilityRefused

            raise CapabilityRefused(
                "channel.no_capabilities", {"channel": self.name}, field="channel"
            )
        return self.capabilities()

    def parse_settings(self, settings: Mapping[str, Any] | S) -> S:
        """``settings`` as this channel's settings class (every problem in one
        :class:`~jamsostek_channels.errors.SettingsInvalid`)."""
        return settings_from_mapping(self.settings, settings, channel=self.name)

    def open_adapter(
        self,
        settings: Mapping[str, Any] | S,
        *,
        journal: JournalStore,
        clock: Clock | None = None,
        **options: Any,
    ) -> Adapter:
        """The channel's adapter, from plain or typed settings, taking its sequences from
        ``journal``."""
        from jamsostek_channels.sequences import SequenceSource

        return self.adapter(
            self.parse_settings(settings),
            sequences=SequenceSource(journal),
            clock=clock,
            **options,
        )

    @property
    def mount(self) -> str:
        """The path the sandbox routes to this channel's fake: ``/<name>``."""
        return f"/{self.name}"


_lock = threading.Lock()
#: Specs registered for a while by :func:`registered` (they hide an installed one of that name).
_temporary: dict[str, ChannelSpec[Any]] = {}


@functools.cache
def _installed() -> Mapping[str, ChannelSpec[Any]]:
    found: dict[str, ChannelSpec[Any]] = {}
    for point in entry_points(group=GROUP):
        loaded = point.load()
        if not isinstance(loaded, ChannelSpec):
            raise TypeError(f"entry point {point.name} = {point.value} is not a ChannelSpec")
        if loaded.name != point.name:
            raise ValueError(f"entry point {point.name} names a spec called {loaded.name!r}")
        if point.name in found and found[point.name] is not loaded:
            raise ValueError(f"two packages register the channel {point.name!r}")
        found[point.name] = loaded
    return found


def channels() -> tuple[ChannelSpec[Any], ...]:
    """Every channel installed (and registered for now), by name."""
    with _lock:
        merged = {**_installed(), **_temporary}
    return tuple(merged[name] for name in sorted(merged))


def names() -> tuple[str, ...]:
    """The names of :func:`channels`."""
    return tuple(channel.name for channel in channels())


def spec(name: str) -> ChannelSpec[Any]:
    """The spec of channel ``name``; :class:`~jamsostek_channels.errors.UnknownChannel` (listing
    the installed names) when there is none."""
    for channel in channels():
        if channel.name == name:
            return channel
    raise UnknownChannel(name, names())


@contextmanager
def registered(channel: ChannelSpec[Any]) -> Iterator[ChannelSpec[Any]]:
    """``channel`` is in the registry inside the ``with`` block (it hides an installed channel
    of its name), and gone after it."""
    with _lock:
        previous = _temporary.get(channel.name)
        _temporary[channel.name] = channel
    try:
        yield channel
    finally:
        with _lock:
            if previous is None:
                _temporary.pop(channel.name, None)
            else:
                _temporary[channel.name] = previous
