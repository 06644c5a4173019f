"""The terminal answers the switch's own requests (issue 12, item 4): an echo (0800/301) with
0810 ``00`` echoing DE7, DE11, DE41 and DE70; anything else it does not support (a key exchange,
a financial request sent the wrong way) with the profile's refusal code, the link kept. Below
them, the transport's frame that expects no answer and its keyless frames (``on_request``).
Sessions on a hand-moved clock against the fake switch (fixtures of ``test_iso8583_session``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import iso8583
import pytest
import test_iso8583_session as sessions_module

from jamsostek_channels.adapters.iso8583 import NetworkCode, load_profile
from jamsostek_channels.adapters.iso8583.codec import is_request
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.adapters.iso8583.session import Iso8583Session
from jamsostek_channels.errors import NotDelivered
from jamsostek_channels.testing.tcp import FramedTcpServer
from jamsostek_channels.transport import TcpTransport, Timeouts

# The session tests' fixtures: a hand-moved monotonic clock and sessions (the fake host and its
# switches are every ISO 8583 test's: tests/iso8583_kit.py).
monotonic = sessions_module.monotonic
sessions = sessions_module.sessions
TERMINAL = sessions_module.TERMINAL


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "never got there"
        time.sleep(0.01)


def raw(switch: FakeSwitch, **elements: str) -> bytes:
    """A message spelt element by element (``t`` the MTI, ``e70`` DE70), as a switch may."""
    doc = {key.removeprefix("e"): value for key, value in elements.items()}
    encoded, _ = iso8583.encode(doc, switch.codec.spec)
    return bytes(encoded)


def test_the_switchs_echo_is_answered_with_0810_00(
    switches: Callable[..., FakeSwitch], sessions: Callable[..., Iso8583Session],
) -> None:  # fmt: skip
    switch = switches()
    session = sessions(switch)
    session.ready(5)

    assert switch.send_echo(TERMINAL) == 1

    wait_for(lambda: len(switch.terminal_answers) == 1)
    (answer,) = switch.terminal_answers
    assert (answer["t"], answer["39"], answer["11"], answer["70"]) == (
        "0810",
        "00",
        "900001",
        "301",
    )
    assert answer["41"] == TERMINAL
    assert len(answer["7"]) == 10
    assert session.peer_requests == [("0800", "00")]
    assert switch.echoes() == 0  # the terminal sent no echo of its own
    assert session.signed_on


def test_an_unknown_network_code_is_refused_and_the_link_serves_on(
    switches: Callable[..., FakeSwitch], sessions: Callable[..., Iso8583Session],
) -> None:  # fmt: skip
    switch = switches()
    session = sessions(switch)
    session.ready(5)
    key_exchange = raw(switch, t="0800", e7="1204101112", e11="900777", e41=TERMINAL, e70="161")

    assert switch.push(key_exchange) == 1

    wait_for(lambda: len(switch.terminal_answers) == 1)
    (answer,) = switch.terminal_answers
    refusal = load_profile("brilink").refusal_code
    assert refusal == "24"
    assert {k: answer[k] for k in ("t", "7", "11", "39", "41", "70")} == {
        "t": "0810", "7": "1204101112", "11": "900777", "39": refusal, "41": TERMINAL,
        "70": "161",
    }  # fmt: skip
    assert session.peer_requests == [("0800", refusal)]
    answered = session.network(NetworkCode.ECHO, 2)  # the reader read on: the link works
    assert answered is not None
    assert answered.approved


def test_a_financial_request_from_the_switch_is_refused_with_its_elements(
    switches: Callable[..., FakeSwitch], sessions: Callable[..., Iso8583Session],
) -> None:  # fmt: skip
    switch = switches()
    session = sessions(switch)
    session.ready(5)
    switch.push(raw(switch, t="0200", e3="380000", e4="000000010000", e7="1204101112",
                    e11="900778", e41=TERMINAL))  # fmt: skip

    wait_for(lambda: len(switch.terminal_answers) == 1)
    (answer,) = switch.terminal_answers
    assert (answer["t"], answer["39"], answer["3"], answer["4"], answer["11"]) == (
        "0210", "24", "380000", "000000010000", "900778",
    )  # fmt: skip
    assert session.signed_on


@pytest.mark.parametrize(("name", "code"), [("brilink", "24"), ("indomaret", "24")])
def test_the_refusal_code_is_the_profiles(name: str, code: str) -> None:
    assert load_profile(name).refusal_code == code


def test_is_request_tells_requests_from_answers() -> None:
    mtis = ("0200", "0210", "0220", "0230", "0421", "0800", "0810")
    assert [mti for mti in mtis if is_request(mti)] == ["0200", "0220", "0421", "0800"]


# The transport underneath ---------------------------------------------------------------------


def keyed(payload: bytes) -> tuple[bytes | None, bytes]:
    """``KEY|body`` is an answer under KEY; ``REQ|body`` the other side's request (no key)."""
    key, _bar, body = payload.partition(b"|")
    return (None if key == b"REQ" else key), body


def test_write_sends_a_frame_that_expects_no_answer() -> None:
    seen: list[bytes] = []

    def host(payload: bytes) -> None:
        seen.append(payload)

    with FramedTcpServer(host, idle_timeout=5.0) as server:
        transport: TcpTransport[bytes] = TcpTransport(
            server.address, keyed, timeouts=Timeouts(1, 1)
        )
        with pytest.raises(NotDelivered):
            transport.write(b"A|early")  # not connected: nothing written
        with transport:
            transport.connect()
            transport.write(b"A|one")
            wait_for(lambda: seen == [b"A|one"])
            assert transport.in_flight == 0


def test_a_keyless_frame_goes_to_on_request_which_may_answer_and_may_fail() -> None:
    requests: list[bytes] = []

    def on_request(body: bytes) -> None:
        requests.append(body)
        if body == b"boom":
            raise RuntimeError("the handler's bug")
        transport.write(b"ANS|" + body)

    def host(payload: bytes) -> bytes | None:
        return None if payload.startswith(b"ANS|") else payload + b"-ok"

    answers: list[bytes] = []
    with FramedTcpServer(host, idle_timeout=5.0) as server:
        transport: TcpTransport[bytes] = TcpTransport(
            server.address, keyed, timeouts=Timeouts(1, 1), on_request=on_request,
            on_unmatched=answers.append,
        )  # fmt: skip
        with transport:
            transport.connect()
            # Connected once the kernel accepted: the server's own accept may come a little later.
            wait_for(lambda: server.open_connections == 1)
            server.push(b"REQ|boom")
            server.push(b"REQ|ping")
            wait_for(lambda: requests == [b"boom", b"ping"])
            assert transport.send(b"K1|still", b"K1") == b"still-ok"  # the reader lives
            assert answers == []  # a request is never taken for a late answer
