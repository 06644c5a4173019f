"""The ISO 8583 family end to end (issue 12, first slice): a :class:`Client` over the adapter,
opened from the registry, against the fake switch on a free loopback port over the fake host.

Inquiry and payment, idempotency, an unanswered payment settled by each profile's policy
(BRILink completes it by advice, the tills undo it by reversal, a request held in the network is
voided before it arrives), sessions (sign-on again after ``01``), STANs across a restart, the
retail amount limits, and the switch's own guards (duplicates, garbage frames). Timers are cut
to fractions of a second so the whole file runs in a few seconds.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from iso8583_kit import PROFILES
from test_client import JUN, NIK, ONE_MONTH, SEP, Clock, payments, person, reversals, seed

from jamsostek_channels.adapters.iso8583 import (
    FinancialRequest,
    FinancialResponse,
    NetworkCode,
    NetworkRequest,
    Timers,
    TransmissionTime,
    flows,
    load_profile,
    match_key,
)
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.channel import CustomerId, PaymentRequest
from jamsostek_channels.client import Client
from jamsostek_channels.errors import CapabilityRefused, HostDeclined, OutcomeUnknown
from jamsostek_channels.journal import EntryState
from jamsostek_channels.model import Payer
from jamsostek_channels.period import month_range
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.transport import TcpTransport

#: Short enough for a fast suite, long enough for a loaded machine's loopback.
TIMERS = Timers(inquiry_timeout=3, payment_timeout=0.5)
#: Well past the payment timer: the held request arrives after its reversal.
HOLD_SECONDS = 1.5


@pytest.fixture
def timers() -> Timers:
    return TIMERS


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def financial(switch: FakeSwitch) -> list[str]:
    """The financial MTIs the switch received (network management left out)."""
    return [mti for mti in switch.received if not mti.startswith("08")]


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the switch never got there"
        time.sleep(0.02)


# Inquiry and payment ---------------------------------------------------------------------------


def test_inquiry_then_payment_gives_a_receipt(
    profile: str, switches: Callable[[str], FakeSwitch], clients: Callable[..., Client],
    host: FakeHost,
) -> None:  # fmt: skip
    switch = switches(profile)
    client = clients(switch)
    inquiry = client.inquire(NIK, 1)
    assert [bill.amount for bill in inquiry.bills] == [ONE_MONTH]
    assert inquiry.kpj == host.participant(NIK).kpj  # type: ignore[union-attr]
    assert "*" in inquiry.name_masked

    receipt = client.pay(NIK, months=1, reference="POS-0001")

    assert receipt.amount == ONE_MONTH
    assert receipt.admin_fee == switch.profile.capabilities.admin_fee.flat
    assert receipt.host_reference.startswith("BPJS")
    assert payments(host) == ["POS-0001"]
    assert switch.received[0] == "0800"  # signed on before anything else
    assert financial(switch) == ["0200", "0200", "0200"]  # inquiry, then inquiry + payment
    assert set(switch.answers) == {("0810", "00"), ("0210", "00")}


def test_the_same_reference_twice_pays_once(
    profile: str, switches: Callable[[str], FakeSwitch], clients: Callable[..., Client],
    host: FakeHost,
) -> None:  # fmt: skip
    switch = switches(profile)
    client = clients(switch)
    first = client.pay(NIK, months=1, reference="POS-0002")
    again = client.pay(NIK, months=1, reference="POS-0002")
    assert again == first
    assert payments(host) == ["POS-0002"]
    assert financial(switch) == ["0200", "0200"]  # the second call never reached the switch


def test_already_paid_is_the_profiles_own_code(
    switches: Callable[[str], FakeSwitch], clients: Callable[..., Client], host: FakeHost
) -> None:
    """54 means "already paid" at BRILink and 88 at Indomaret: both are ``host.bill_paid``."""
    host.seed(person(2), registered=JUN, paid=month_range(JUN, 24))  # paid as far ahead as allowed
    for name, code in (("brilink", "54"), ("indomaret", "88")):
        switch = switches(name)
        with pytest.raises(HostDeclined) as declined:
            clients(switch).inquire(person(2).nik, 1)
        assert (declined.value.code, declined.value.host_code) == ("host.bill_paid", code)


# An unanswered payment, settled by the profile's policy ------------------------------------------


def test_brilink_completes_a_dropped_payment_by_advice(
    switches: Callable[[str], FakeSwitch], clients: Callable[..., Client], host: FakeHost
) -> None:
    switch = switches("brilink")
    client = clients(switch)
    switch.faults.inject("drop", match="PAY-DROP")  # the host applies it; the answer is lost

    receipt = client.pay(NIK, months=1, reference="PAY-DROP")

    assert receipt.amount == ONE_MONTH
    assert payments(host) == ["PAY-DROP"]
    assert reversals(host) == []
    assert financial(switch) == ["0200", "0200", "0220"]
    assert ("0230", "00") in switch.answers


def test_an_unanswered_advice_is_repeated_as_0221_until_accepted(
    switches: Callable[[str], FakeSwitch], clients: Callable[..., Client], host: FakeHost,
    clock: Clock,
) -> None:  # fmt: skip
    switch = switches("brilink")
    client = clients(switch)
    switch.faults.inject("drop", match="PAY-TWICE", times=2)  # the payment's answer, the advice's

    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="PAY-TWICE")
    clock.advance(minutes=5)  # past the outbox's backoff
    client.recover()

    assert payments(host) == ["PAY-TWICE"]
    assert financial(switch) == ["0200", "0200", "0220", "0221"]
    entry = client.journal.get("brilink", "pay", "PAY-TWICE")
    assert entry is not None
    assert entry.state is EntryState.APPLIED


@pytest.mark.parametrize("name", ["indomaret", "alfamart"])
def test_a_till_undoes_a_dropped_payment_by_reversal(
    name: str, switches: Callable[[str], FakeSwitch], clients: Callable[..., Client],
    host: FakeHost,
) -> None:  # fmt: skip
    switch = switches(name)
    client = clients(switch)
    switch.faults.inject("drop", match="PAY-DROP")

    with pytest.raises(HostDeclined) as reversed_:
        client.pay(NIK, months=1, reference="PAY-DROP")

    assert reversed_.value.code == "payment.reversed"
    assert payments(host) == ["PAY-DROP"]
    assert reversals(host) == ["PAY-DROP"]
    assert financial(switch) == ["0200", "0200", "0400"]
    assert ("0410", "00") in switch.answers
    entry = client.journal.get(name, "pay", "PAY-DROP")
    assert entry is not None
    assert entry.state is EntryState.REVERSED


def test_a_held_payment_is_voided_and_refused_when_it_arrives(
    switches: Callable[[str], FakeSwitch], clients: Callable[..., Client], host: FakeHost
) -> None:
    switch = switches("indomaret")
    client = clients(switch)
    switch.faults.inject("hold", match="PAY-HELD", seconds=HOLD_SECONDS)

    with pytest.raises(HostDeclined) as voided:
        client.pay(NIK, months=1, reference="PAY-HELD")

    assert (voided.value.code, voided.value.host_code) == ("payment.reversed", "voided")
    assert ("0410", "92") in switch.answers  # the host never had it: voided
    wait_for(lambda: ("0210", "05") in switch.answers)  # the late 0200, refused
    assert payments(host) == []
    assert reversals(host) == []
    entry = client.journal.get("indomaret", "pay", "PAY-HELD")
    assert entry is not None
    assert entry.state is EntryState.NOT_APPLIED


# Sessions and STANs -----------------------------------------------------------------------------


def test_signs_on_again_after_01(
    switches: Callable[[str], FakeSwitch], clients: Callable[..., Client], host: FakeHost
) -> None:
    seed(host, 2)
    switch = switches("indomaret")
    client = clients(switch)
    client.pay(NIK, months=1, reference="POS-0003")
    switch.forget_sign_ons()  # the switch restarted

    client.pay(person(2).nik, months=1, reference="POS-0004")

    assert ("0210", "01") in switch.answers
    assert switch.received.count("0800") == 2
    assert payments(host) == ["POS-0003", "POS-0004"]


def test_a_restart_never_reuses_a_stan(
    switches: Callable[[str], FakeSwitch], clients: Callable[..., Client], host: FakeHost,
    tmp_path: Path,
) -> None:  # fmt: skip
    seed(host, 2)
    switch = switches("brilink")
    journal = tmp_path / "terminal.sqlite"
    first = clients(switch, journal)
    first.pay(NIK, months=1, reference="POS-0005")
    first.close()
    before = len(switch.stans)

    clients(switch, journal).pay(person(2).nik, months=1, reference="POS-0006")  # a new adapter

    stans = [stan for _terminal, stan in switch.stans]
    assert len(stans) > before
    assert len(set(stans)) == len(stans)
    assert min(stans[before:]) > max(stans[:before])
    assert all(code != "94" for _mti, code in switch.answers)
    assert payments(host) == ["POS-0005", "POS-0006"]


# The retail limits -------------------------------------------------------------------------------


def test_alfamart_refuses_above_its_cash_limit_before_paying(
    switches: Callable[[str], FakeSwitch], clients: Callable[..., Client], host: FakeHost
) -> None:
    """Six months of JKK, JKM and JHT at Rp20m declared income: Rp3.281.100, over Alfamart's
    Rp2.500.000 cash limit and under Indomaret's Rp5.000.000."""
    wealthy = person(3, income=20_000_000, programs=["jkk", "jkm", "jht"])
    host.seed(wealthy, registered=JUN, paid=month_range(JUN, SEP - JUN + 1))
    alfamart = switches("alfamart")
    with pytest.raises(CapabilityRefused) as refused:
        clients(alfamart).pay(wealthy.nik, months=6, reference="POS-0007")
    assert refused.value.code == "capability.amount_max_months"
    assert refused.value.params["fits"] == 4  # the largest count under Rp2.500.000
    assert financial(alfamart) == ["0200"]  # the inquiry; no payment was sent
    assert payments(host) == []

    indomaret = switches("indomaret")
    receipt = clients(indomaret).pay(wealthy.nik, months=6, reference="POS-0007")
    assert receipt.amount == 3_281_100
    assert payments(host) == ["POS-0007"]


# The switch's own guards --------------------------------------------------------------------------


def test_a_repeated_stan_is_answered_94_with_the_original_outcome(
    switches: Callable[[str], FakeSwitch], host: FakeHost, clock: Clock
) -> None:
    switch = switches("indomaret")
    profile = switch.profile
    codec = profile.codec()
    now = TransmissionTime.of(clock(), profile.time_zone)
    payment = PaymentRequest(
        reference="RAW-0001",
        customer=CustomerId.nik(NIK),
        periods=(SEP + 1,),
        amount=ONE_MONTH,
        admin_fee=2_500,
        payer=Payer.self_paid(),
        inquiry_id=None,
        requested_at=clock(),
    )
    message = FinancialRequest(
        processing_code=profile.processing_codes.payment, amount=ONE_MONTH, transmitted=now,
        stan=77, channel_type=profile.channel_type, acquirer=profile.acquirer_id,
        rrn=flows.rrn_of("RAW-0001"), terminal="RAW-TERMINAL",
        private=flows.payment_data(profile.product_id, payment),
    )  # fmt: skip
    sign_on = NetworkRequest(
        code=NetworkCode.SIGN_ON, transmitted=now, stan=76, terminal="RAW-TERMINAL"
    )
    with TcpTransport(switch.address, codec.decode_keyed, framing=profile.framing) as link:
        link.connect()
        link.send(codec.encode(sign_on), match_key(sign_on))
        first = link.send(codec.encode(message), match_key(message))
        again = link.send(codec.encode(message), match_key(message))
    assert isinstance(first, FinancialResponse)
    assert isinstance(again, FinancialResponse)
    assert (first.response_code, again.response_code) == ("00", "94")
    assert again.private == first.private
    assert again.amount == first.amount
    assert payments(host) == ["RAW-0001"]


def test_a_garbage_frame_closes_that_connection_and_the_switch_serves_on(
    switches: Callable[[str], FakeSwitch], clients: Callable[..., Client], host: FakeHost
) -> None:
    switch = switches("brilink")
    with socket.create_connection(("127.0.0.1", switch.server.port), timeout=5) as raw:
        raw.sendall(load_profile("brilink").framing.frame(b"\xde\xad\xbe\xef garbage"))
        assert raw.recv(16) == b""  # closed by the switch
    assert switch.server.refused == 1
    assert clients(switch).pay(NIK, months=1, reference="POS-0008").amount == ONE_MONTH
