"""The sandbox serves the ISO 8583 family (issue 12): each profile's fake switch on a loopback TCP
port of its own, over the sandbox's one fake host, with the TCP fault knobs driven through the
control API like the HTTP fakes' faults.

Money is checked after every fault: what the client says was paid is what the host's ledger
holds, once. Timers are cut to fractions of a second, as in ``test_iso8583_channel.py``.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from test_client import NIK, ONE_MONTH, SEP, Clock, payments, reversals, seed

from jamsostek_channels import connect
from jamsostek_channels.adapters.iso8583 import (
    FinancialRequest,
    NetworkCode,
    NetworkRequest,
    Timers,
    TransmissionTime,
    flows,
)
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.channel import CustomerId, PaymentRequest
from jamsostek_channels.client import Client
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import HostDeclined, JamsostekError
from jamsostek_channels.model import Payer
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.sandbox import IN_PROCESS_URL, Sandbox

PROFILES = ("alfamart", "brilink", "indomaret")
TIMERS = Timers(inquiry_timeout=3, payment_timeout=0.5)
#: Well past the payment timer.
LATE_SECONDS = 1.5
CONTROL = IN_PROCESS_URL + "/control"


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    """The three profiles in-process (the control API through ``responses``), NIK owing two
    months."""
    box = Sandbox(seed=5, demo=2, channels=PROFILES, clock=clock)
    seed(box.host)
    box.install()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def clients(sandbox: Sandbox) -> Iterator[Callable[[str], Client]]:
    opened: list[Client] = []

    def open_client(name: str) -> Client:
        client = sandbox.client(name, timers=TIMERS, sleep=lambda _: None)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def switch(sandbox: Sandbox, name: str) -> FakeSwitch:
    server = sandbox.servers[name].server
    assert isinstance(server, FakeSwitch)
    return server


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "never got there"
        time.sleep(0.02)


# Serving ----------------------------------------------------------------------------------------


def test_installed_each_profile_listens_on_its_own_port_and_pays_through_the_info_file(
    sandbox: Sandbox, tmp_path: Any
) -> None:
    info = sandbox.info()
    ports = set()
    for name in PROFILES:
        settings = info["channels"][name]
        assert settings["base_url"].startswith("tcp://127.0.0.1:")
        ports.add(settings["base_url"])
        assert settings["profile"] == name
        assert settings["terminal_id"]
        assert settings["acquirer_id"]
        framing = switch(sandbox, name).profile.framing
        assert (settings["length_width"], settings["length_byteorder"]) == (
            framing.width,
            framing.byteorder,
        )
        assert settings["ascii_length"] is framing.ascii_length
    assert len(ports) == 3
    assert info["channels"]["alfamart"]["ascii_length"] is True  # jPOS's ASCIIChannel
    assert info["channels"]["brilink"]["agent_id"]  # DE42 carries the agent at BRILink
    assert info["channels"]["indomaret"]["agent_id"] is None

    with connect("brilink", info["channels"]["brilink"], journal=tmp_path / "j.sqlite") as client:
        receipt = client.pay(NIK, months=1, reference="INFO-0001")
    assert receipt.amount == ONE_MONTH
    ledger = requests.get(CONTROL + "/ledger", timeout=5).json()["ledger"]
    assert [(e["channel"], e["reference"]) for e in ledger if e["kind"] == "payment"] == [
        ("brilink", "INFO-0001")
    ]


def test_every_sandbox_client_is_a_terminal_of_its_own(
    sandbox: Sandbox, clients: Callable[[str], Client]
) -> None:
    """Two clients (two journals) of one terminal id would repeat each other's STANs."""
    first, second = clients("indomaret"), clients("indomaret")
    first.pay(NIK, months=1, reference="TERM-0001")
    second.pay(NIK, months=1, reference="TERM-0002")
    terminals = {terminal for terminal, _stan in switch(sandbox, "indomaret").stans}
    assert len(terminals) == 2
    assert payments(sandbox.host) == ["TERM-0001", "TERM-0002"]


def test_started_it_listens_and_stop_closes_the_ports(clock: Clock) -> None:
    box = Sandbox(seed=5, demo=1, channels=("linkaja", "alfamart"), clock=clock)
    assert "alfamart" not in box.info()["channels"]  # not serving yet: nothing listens
    with pytest.raises(RuntimeError):
        box.client("alfamart")
    with box:
        address = box.info()["channels"]["alfamart"]["base_url"]
        port = int(address.rsplit(":", 1)[1])
        nik = box.demo_participants[0]["nik"]
        with box.client("alfamart", timers=TIMERS) as client:
            assert client.inquire(nik, 1).bills
        assert box.info()["channels"]["linkaja"]["base_url"].startswith("http://127.0.0.1:")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert "alfamart" not in box.info()["channels"]


def test_stop_closes_the_links_of_the_clients_it_built(clock: Clock) -> None:
    """A test that drops a switch's client without closing it must not leave its keep-alive
    thread echoing (and reconnecting, once the switch is gone) for the rest of the run."""

    def keepalives() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("iso8583-keepalive")}

    before = keepalives()
    box = Sandbox(seed=5, demo=1, channels=("brilink",), clock=clock)
    with box:
        nik = box.demo_participants[0]["nik"]
        box.client("brilink", timers=TIMERS).inquire(nik, 1)  # dropped, never closed
        assert keepalives() - before
    assert not keepalives() - before


def test_reset_resets_the_switches_and_clock_moves_them(
    sandbox: Sandbox, clients: Callable[[str], Client], clock: Clock
) -> None:
    clients("alfamart").pay(NIK, months=1, reference="RESET-0001")
    assert switch(sandbox, "alfamart").stans
    assert requests.post(CONTROL + "/reset", timeout=5).json()["ok"] is True
    assert switch(sandbox, "alfamart").stans == []
    assert switch(sandbox, "alfamart").received == []
    assert payments(sandbox.host) == []
    # The switch reads the host's clock: moving it moves the switch's day.
    before = switch(sandbox, "alfamart").stan_day()
    sandbox.host.advance(dt.timedelta(days=1))
    assert switch(sandbox, "alfamart").stan_day() == before + dt.timedelta(days=1)


# Faults -----------------------------------------------------------------------------------------

#: (profile, fault, whether the client ends with a receipt). BRILink completes an unanswered
#: payment by advice; the tills undo it by reversal (a held one is voided before it arrives).
FAULT_CASES = [
    ("brilink", "drop", True),
    ("indomaret", "drop", False),
    ("brilink", "delay", True),
    ("alfamart", "delay", False),
    ("brilink", "hold", True),
    ("indomaret", "hold", False),
    ("brilink", "reset", True),
    ("alfamart", "reset", False),
    ("brilink", "garbage", True),
    ("indomaret", "garbage", False),
]


@pytest.mark.parametrize(("name", "kind", "paid"), FAULT_CASES)
def test_tcp_faults_through_the_control_api_never_lose_or_double_money(
    name: str, kind: str, paid: bool, sandbox: Sandbox, clients: Callable[[str], Client]
) -> None:
    reference = f"FLT-{kind.upper()}"
    fault: dict[str, object] = {"kind": kind, "channel": name, "match": reference}
    if kind in ("delay", "hold"):
        fault["seconds"] = LATE_SECONDS
    answer = requests.post(CONTROL + "/faults", json=fault, timeout=5)
    assert answer.status_code == 200, answer.text
    client = clients(name)

    if paid:
        assert client.pay(NIK, months=1, reference=reference).amount == ONE_MONTH
    else:
        with pytest.raises(HostDeclined) as undone:
            client.pay(NIK, months=1, reference=reference)
        assert undone.value.code == "payment.reversed"
    if kind == "hold":  # the held request arrives at last: refused when voided, a 94 if applied
        wait_for(lambda: len(switch(sandbox, name).answers) >= 4)
    if kind == "delay":  # the late answer left: nothing more is coming
        time.sleep(LATE_SECONDS - TIMERS.payment_timeout)

    host = sandbox.host
    applied = [r for r in payments(host) if r not in reversals(host)]
    assert applied == ([reference] if paid else [])
    assert len(payments(host)) == len(set(payments(host)))  # never applied twice
    assert [str(k) for k, _path in sandbox.faults.history] == [kind]  # it fired, once
    assert requests.get(CONTROL + "/faults", timeout=5).json()["faults"] == []


def test_a_fault_for_one_profile_leaves_the_others_alone(
    sandbox: Sandbox, clients: Callable[[str], Client]
) -> None:
    requests.post(CONTROL + "/faults", json={"kind": "reset", "channel": "alfamart"}, timeout=5)
    assert clients("brilink").pay(NIK, months=1, reference="OTHER-0001").amount == ONE_MONTH
    assert requests.get(CONTROL + "/faults", timeout=5).json()["faults"][0]["remaining"] == 1


def _oversized(name: str, sandbox: Sandbox) -> bytes:
    framing = switch(sandbox, name).profile.framing
    length = framing.max_bytes + 1
    if framing.ascii_length:
        return str(length).zfill(framing.width).encode("ascii")
    return length.to_bytes(framing.width, framing.byteorder)


@pytest.mark.parametrize("name", PROFILES)
def test_garbage_and_oversized_frames_close_that_connection_and_the_switch_lives_on(
    name: str, sandbox: Sandbox, clients: Callable[[str], Client]
) -> None:
    server = switch(sandbox, name).server
    framing = server.framing
    port = server.port
    for hostile in (framing.frame(b"\xde\xad\xbe\xef not a message"), _oversized(name, sandbox)):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            raw.sendall(hostile)
            assert raw.recv(16) == b""  # closed cleanly by the switch
    assert server.refused == 2
    assert clients(name).pay(NIK, months=1, reference="AFTER-0001").amount == ONE_MONTH


# STAN uniqueness per terminal per day, the day in the profile's zone ------------------------------


def _payment(switch: FakeSwitch, clock: Clock, stan: int, reference: str, month: int) -> bytes:
    profile = switch.profile
    request = PaymentRequest(
        reference=reference,
        customer=CustomerId.nik(NIK),
        periods=(SEP + month,),
        amount=ONE_MONTH,
        admin_fee=profile.capabilities.admin_fee.flat,
        payer=Payer.self_paid(),
        inquiry_id=None,
        requested_at=clock(),
    )
    message = FinancialRequest(
        processing_code=profile.processing_codes.payment,
        amount=ONE_MONTH,
        transmitted=TransmissionTime.of(clock(), profile.time_zone),
        stan=stan,
        channel_type=profile.channel_type,
        acquirer=profile.acquirer_id,
        rrn=flows.rrn_of(reference),
        terminal="RAW00001",
        merchant="AGEN-0042" if profile.agent_id == "DE42" else None,
        private=flows.payment_data(profile.product_id, request),
    )
    return switch.codec.encode(message)


@pytest.mark.parametrize(("name", "new_day"), [("brilink", True), ("indomaret", False)])
def test_a_stan_is_unique_per_terminal_per_day_of_the_profiles_zone(
    name: str, new_day: bool
) -> None:
    """06:50 and 07:10 in Jakarta are two days at BRILink (UTC) and one at Indomaret (WIB)."""
    clock = Clock(dt.datetime(2026, 11, 22, 6, 50, tzinfo=JAKARTA))
    host = FakeHost(seed=7, clock=clock)
    seed(host)
    fake = FakeSwitch(host, name)
    try:
        codec = fake.codec
        sign_on = NetworkRequest(
            code=NetworkCode.SIGN_ON,
            transmitted=TransmissionTime.of(clock(), fake.profile.time_zone),
            stan=1,
            terminal="RAW00001",
        )
        fake.handle(codec.encode(sign_on))
        first = codec.decode(fake.handle(_payment(fake, clock, 77, "DAY-0001", 1)) or b"")
        clock.advance(minutes=20)
        second = codec.decode(fake.handle(_payment(fake, clock, 77, "DAY-0002", 2)) or b"")
    finally:
        fake.stop()
    assert getattr(first, "response_code", None) == "00"
    assert getattr(second, "response_code", None) == ("00" if new_day else "94")
    assert payments(host) == (["DAY-0001", "DAY-0002"] if new_day else ["DAY-0001"])


def test_framing_in_the_settings_must_be_one_a_header_can_spell(
    sandbox: Sandbox, tmp_path: Any
) -> None:
    settings = {**sandbox.info()["channels"]["brilink"], "length_width": 3}
    with pytest.raises(JamsostekError) as refused:
        connect("brilink", settings, journal=tmp_path / "j.sqlite")
    assert refused.value.code == "settings.invalid"
