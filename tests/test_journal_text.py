"""The journal's own JSON texts: what it writes by hand is what ``json`` would write."""

from __future__ import annotations

import json

import pytest

from jamsostek_channels.journal import EntryState
from jamsostek_channels.journal.sqlite import _history_line, _loads

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
