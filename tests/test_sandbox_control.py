"""The sandbox's control API checks every input: typed 400s, never a 500 or a hang."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.testing.sandbox import (
    MAX_CLOCK_SECONDS,
    MAX_DEMO,
    Sandbox,
)
from jamsostek_channels.testing.wire import FaultKind, Faults, WireRequest

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=JAKARTA)

#: (method, action) of every control call.
ACTIONS = [
    ("POST", "reset"),
    ("POST", "seed"),
    ("GET", "faults"),
    ("POST", "faults"),
    ("DELETE", "faults"),
    ("GET", "ledger"),
    ("GET", "participants"),
    ("GET", "otp"),
    ("GET", "stats"),
    ("POST", "echo"),
    ("POST", "clock"),
    ("GET", "settlement"),
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(demo=2, channels=("linkaja",), clock=lambda: NOW)
    yield box
    box.stop()


def call(sandbox: Sandbox, method: str, path: str, body: object = None) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    response = sandbox.dispatch(WireRequest(method, "/control/" + path, {}, raw))
    return response.status, json.loads(response.body)


def refused(sandbox: Sandbox, method: str, path: str, body: object) -> tuple[str, str | None]:
    status, document = call(sandbox, method, path, body)
    assert status == 400, document
    assert set(document) <= {"error", "detail", "field"}
    assert isinstance(document["detail"], str)
    return document["error"], document.get("field")


@pytest.mark.parametrize(
    ("path", "body", "code", "field"),
    [
        ("clock", {"advance_seconds": 1e300}, "out_of_range", "advance_seconds"),
        ("clock", {"advance_seconds": -(MAX_CLOCK_SECONDS + 1)}, "out_of_range", "advance_seconds"),
        ("clock", {"advance_seconds": 10**400}, "out_of_range", "advance_seconds"),
        ("clock", b'{"advance_seconds": NaN}', "out_of_range", "advance_seconds"),
        ("clock", b'{"advance_seconds": Infinity}', "out_of_range", "advance_seconds"),
        ("clock", {"advance_seconds": True}, "wrong_type", "advance_seconds"),
        ("clock", {"advance_seconds": "60"}, "wrong_type", "advance_seconds"),
        ("clock", {"advance": 60}, "unknown_field", "advance"),
        ("faults", {"kind": "delay", "seconds": -1}, "out_of_range", "seconds"),
        ("faults", {"kind": "delay", "seconds": 1e9}, "out_of_range", "seconds"),
        ("faults", {"kind": "error", "status": 99}, "out_of_range", "status"),
        ("faults", {"kind": "error", "status": 600}, "out_of_range", "status"),
        ("faults", {"kind": "error", "status": 503.0}, "wrong_type", "status"),
        ("faults", {"kind": "drop", "times": -1}, "out_of_range", "times"),
        ("faults", {"kind": "drop", "times": 0}, "out_of_range", "times"),
        ("faults", {"kind": "drop", "times": True}, "wrong_type", "times"),
        ("faults", {"kind": "nope"}, "unknown_fault_kind", "kind"),
        ("faults", {"kind": 1}, "wrong_type", "kind"),
        ("faults", {"match": "x"}, "missing_field", "kind"),
        ("faults", {"kind": "drop", "channel": "nowhere"}, "unknown_channel", "channel"),
        ("faults", {"kind": "drop", "match": None}, "wrong_type", "match"),
        ("seed", {"demo": MAX_DEMO + 1}, "out_of_range", "demo"),
        ("seed", {"demo": -1}, "out_of_range", "demo"),
        ("seed", {"demo": False}, "wrong_type", "demo"),
        ("seed", [1], "not_object", None),
        ("seed", b"{", "not_json", None),
        ("seed", b"\xff\xfe", "not_json", None),
        ("seed", b"[" * 100_000, "not_json", None),
        ("reset", {"everything": True}, "unknown_field", "everything"),
    ],
)
def test_bad_inputs_are_typed_400s(
    sandbox: Sandbox, path: str, body: object, code: str, field: str | None
) -> None:
    method = "POST"
    before = sandbox.faults.describe(), sandbox.host.now(), len(sandbox.demo_participants)
    assert refused(sandbox, method, path, body) == (code, field)
    # nothing changed
    assert (sandbox.faults.describe(), sandbox.host.now(), len(sandbox.demo_participants)) == (
        before
    )


def test_good_inputs_still_work(sandbox: Sandbox) -> None:
    status, document = call(
        sandbox,
        "POST",
        "faults",
        {"kind": "delay", "channel": "linkaja", "seconds": 12, "times": 2, "status": 504},
    )
    assert status == 200
    assert document["fault"] == {
        "kind": "delay",
        "match": "",
        "prefix": "/linkaja/",
        "times": 2,
        "seconds": 12.0,
        "status": 504,
    }
    assert call(sandbox, "DELETE", "faults") == (200, {"ok": True})
    status, moved = call(sandbox, "POST", "clock", {"advance_seconds": -60})
    assert status == 200
    assert dt.datetime.fromisoformat(moved["now"]) == sandbox.host.now()
    assert call(sandbox, "POST", "clock", {"advance_seconds": 60})[0] == 200
    assert call(sandbox, "POST", "echo", b"not even JSON") == (200, {})
    assert call(sandbox, "GET", "otp")[1]["error"] == "missing_query"
    status, document = call(sandbox, "GET", "otp?phone=081234567890")
    assert (status, document["error"]) == (400, "no_otp")


def test_unknown_actions_and_methods(sandbox: Sandbox) -> None:
    assert call(sandbox, "GET", "nowhere")[0] == 404
    response = sandbox.dispatch(WireRequest("GET", "/control/reset", {}, b""))
    assert response.status == 405
    assert response.headers["allow"] == "POST"


def test_the_clock_cannot_be_walked_off_the_calendar() -> None:
    box = Sandbox(demo=0, channels=("linkaja",), clock=lambda: NOW)
    codes = {
        call(box, "POST", "clock", {"advance_seconds": MAX_CLOCK_SECONDS})[0] for _ in range(30)
    }
    assert codes == {200, 400}
    assert 2190 <= box.host.now().year <= 2199


def test_faults_refuse_what_could_never_fire() -> None:
    faults = Faults()
    for bad in ({"times": 0}, {"seconds": -0.5}, {"seconds": float("nan")}, {"status": 99}):
        with pytest.raises(ValueError, match="must be"):
            faults.inject(FaultKind.DELAY, **bad)
    assert faults.describe() == []


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-3, max_value=MAX_DEMO + 3)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["drop", "delay", "error", "reset", "pending", "linkaja", "kantorpos"])
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner),
    max_leaves=6,
)
#: The body fields each action takes (bodies are drawn mostly from these, to get past the
#: unknown-field check to the values).
FIELDS = {
    "seed": ["demo"],
    "faults": ["kind", "channel", "match", "times", "seconds", "status"],
    "clock": ["advance_seconds"],
}


#: What a field's value is drawn from: numbers most often (the bounds are what is tested).
_field_values = st.integers() | st.floats() | st.integers(-3, 700) | _values


@pytest.mark.parametrize("action", ACTIONS, ids="-".join)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), phone=st.text(max_size=20))
def test_any_json_body_gets_a_200_or_a_400(
    action: tuple[str, str], data: st.DataObject, phone: str
) -> None:
    box = _fuzzed()
    method, path = action
    fields = FIELDS.get(path, [])
    objects = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, _field_values))
    body = data.draw(objects | objects | st.dictionaries(st.text(), _values) | _values, "body")
    if path == "otp":
        path += f"?phone={quote(phone)}"
    raw = json.dumps(body, allow_nan=True).encode()
    response = box.dispatch(WireRequest(method, "/control/" + path, {}, raw))
    assert response.status in (200, 400), response.body
    document = json.loads(response.body)
    if response.status == 400:
        assert isinstance(document["error"], str)
        assert isinstance(document["detail"], str)


_FUZZED: list[Sandbox] = []


def _fuzzed() -> Sandbox:
    """One sandbox for the whole property test (building one per example is slow)."""
    if not _FUZZED:
        _FUZZED.append(Sandbox(demo=1, channels=("linkaja",), clock=lambda: NOW))
    return _FUZZED[0]
