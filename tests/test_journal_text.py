"""The journal's own JSON texts: what it writes by hand is what ``json`` would write, and an
entry read back decodes its JSON columns when first read into the value it always was."""

from __future__ import annotations

import datetime as dt
import json
import pickle

import attrs
import pytest

from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.journal import Entry, EntryState, PaymentFacts
from jamsostek_channels.journal.sqlite import _history_line, _loads
from jamsostek_channels.wirefacts import NO_FACTS

_COMPACT = json.JSONEncoder(separators=(",", ":"))


@pytest.mark.parametrize(
    ("actor", "from_state", "why"),
    [
        ("client", None, "journaled"),
        ("pay", EntryState.PENDING, 'quote " backslash \\ newline \n tab \t'),
        ("kasir Ümit", EntryState.UNKNOWN, "non-ASCII: é, 日本, \u2028, \x00, emoji \U0001f600"),
        ("recover", EntryState.APPLIED, "long " * 100),
    ],
)
@pytest.mark.parametrize("first", [True, False])
def test_a_history_line_is_what_the_json_encoder_writes(
    actor: str, from_state: EntryState | None, why: str, first: bool
) -> None:
    at = "2026-11-22T09:15:00+07:00"
    line = [at, actor, from_state, EntryState.REVERSED, why[:200]]
    written = _history_line(at, actor, from_state, EntryState.REVERSED, why, first=first)
    assert written == _COMPACT.encode([line] if first else line)
    assert json.loads(written) == ([line] if first else line)


def test_a_stored_text_with_more_after_its_value_is_refused() -> None:
    assert _loads('{"a":[1,2]}') == {"a": [1, 2]}
    assert _loads(None) is None
    with pytest.raises(json.JSONDecodeError, match="Extra data"):
        _loads('{"a":1}x')
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        _loads("")
    with pytest.raises(json.JSONDecodeError):
        _loads('{"a":')


def _stored_and_decoded(outcome: str | None, wire: str | None) -> tuple[Entry, Entry]:
    at = dt.datetime(2026, 11, 22, 9, 15, tzinfo=JAKARTA)
    fields = (7, "brilink", "pay", "R-1", EntryState.APPLIED, 1, at, at, at, None, None)
    facts = PaymentFacts("3201015508950001", 36800, 3000, ("2026-11",), at.date())
    request = '{"months":1,"name":"S***","request":{"amount":36800}}'
    stored = Entry.stored(_loads, request, outcome, wire, (*fields, facts, "H-1", ""))
    decoded = Entry(
        *fields[:5],
        request=json.loads(request),
        outcome=None if outcome is None else json.loads(outcome),
        attempts=1,
        created_at=at,
        updated_at=at,
        sent_at=at,
        facts=facts,
        host_reference="H-1",
        wire=NO_FACTS if wire is None else json.loads(wire),
    )
    return stored, decoded


@pytest.mark.parametrize(
    ("outcome", "wire"),
    [('{"host_reference":"H-1","state":"applied"}', '{"stan":"000042"}'), (None, None)],
)
def test_an_entry_read_from_a_store_is_the_value_made_of_its_decoded_columns(
    outcome: str | None, wire: str | None
) -> None:
    stored, decoded = _stored_and_decoded(outcome, wire)
    assert repr(stored) == repr(decoded)  # repr reads (and decodes) the outcome first
    stored, decoded = _stored_and_decoded(outcome, wire)
    assert stored == decoded
    assert stored.request == decoded.request
    assert type(stored.request) is dict
    assert stored.outcome == decoded.outcome
    assert stored.wire == decoded.wire
    assert stored.request is stored.request  # decoded once
    assert attrs.evolve(stored, state=EntryState.REVERSED) == attrs.evolve(
        decoded, state=EntryState.REVERSED
    )
    if wire is not None:  # NO_FACTS, a mappingproxy, is no more picklable than ever
        assert pickle.loads(pickle.dumps(stored)) == decoded
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stored.request = {}  # type: ignore[misc]
    with pytest.raises(AttributeError):
        stored.unknown  # type: ignore[attr-defined]  # noqa: B018


def test_a_stored_entry_whose_record_is_not_json_raises_when_it_is_read() -> None:
    at = dt.datetime(2026, 11, 22, 9, 15, tzinfo=JAKARTA)
    fields = (7, "brilink", "pay", "R-1", EntryState.PENDING, 1, at, at, None, None, None)
    entry = Entry.stored(_loads, '{"months":', None, None, (*fields, None, None, ""))
    assert entry.state is EntryState.PENDING
    assert entry.outcome is None
    with pytest.raises(json.JSONDecodeError):
        entry.request  # noqa: B018
