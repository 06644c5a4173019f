"""The contract every channel adapter must pass, run against each one through the shipped fakes.

Same quote, same validation errors and same refusals everywhere; idempotent pay; an unknown
outcome resolved without paying twice; reversal (or its refusal where a channel has none);
status. A new channel joins by adding itself to ``CHANNELS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import participant_data

from jamsostek_channels.channel import Operation, PaymentState, ReversalState
from jamsostek_channels.client import Client
from jamsostek_channels.errors import (
    CapabilityRefused,
    InvalidInput,
    NotDelivered,
    OutcomeUnknown,
)
from jamsostek_channels.journal import EntryState
from jamsostek_channels.model import CoverageState, Payer
from jamsostek_channels.pricing import quote
from jamsostek_channels.testing.direct import HostAdapter
from jamsostek_channels.testing.sandbox import Sandbox
from jamsostek_channels.validation import parse_participant

#: channel -> the fault ``match`` that hits its payment request
CHANNELS = {
    "linkaja": "transfer-va/payment",
    "bni-agen46": "transfer-va/payment",
    "direct": "/direct/pay",
    "kantorpos": "kp:PaymentRequest",
}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(seed=7)
    box.install()
    yield box
    box.stop()


def _client(sandbox: Sandbox, name: str, **options: Any) -> Client:
    options.setdefault("sleep", lambda seconds: None)
    if name == "direct":
        from jamsostek_channels.journal import Journal

        adapter = HostAdapter(sandbox.host, faults=sandbox.faults)
        return Client(adapter, journal=Journal(":memory:"), **options)
    client: Client = sandbox.client(name, **options)
    return client


@pytest.fixture(params=sorted(CHANNELS))
def channel(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _payable(sandbox: Sandbox) -> list[str]:
    return [
        p["nik"]
        for p in sandbox.demo_participants
        if sandbox.host.coverage(p["nik"]).state is not CoverageState.LAPSED
    ]


def _ledger(sandbox: Sandbox, kind: str = "payment") -> list[Any]:
    return [e for e in sandbox.host.ledger() if e.kind == kind]


def test_same_quote_everywhere(sandbox: Sandbox, channel: str) -> None:
    client = _client(sandbox, channel)
    worker = parse_participant(
        participant_data(occupations=["ojek-online"]), as_of=dt.date(2026, 11, 22)
    )
    for months in (1, 3, 12):
        expected = quote(
            participant=worker, start="2026-11", months=months, allowed_months=range(1, 13)
        )
        assert client.quote(participant=worker, start="2026-11", months=months) == expected


def test_inquiry_prices_by_the_same_rules(sandbox: Sandbox, channel: str) -> None:
    client = _client(sandbox, channel)
    nik = _payable(sandbox)[0]
    inquiry = client.inquire(nik, months=3)
    state = sandbox.host.participant(nik)
    assert state is not None
    lines = [
        quote(
            participant=state.participant,
            start=bill.period,
            months=1,
            allowed_months=range(1, 13),
            joined=state.registered,
        ).total
        for bill in inquiry.bills
    ]
    assert [bill.amount for bill in inquiry.bills] == lines
    assert inquiry.amount == sum(lines)
    assert inquiry.admin_fee == client.capabilities.admin_fee.fee_for(inquiry.amount)
    assert "*" in inquiry.name_masked


def test_same_validation_errors_everywhere(sandbox: Sandbox, channel: str) -> None:
    client = _client(sandbox, channel)
    with pytest.raises(InvalidInput) as bad_customer:
        client.pay("12345", months=1, reference="X-1")
    assert [(p.field, p.code) for p in bad_customer.value.problems] == [
        ("customer", "customer.format")
    ]
    too_old = parse_participant(
        participant_data(nik="3201011501600001", birth_date="1960-01-15", sex="male"),
        as_of=dt.date(2024, 1, 1),
    )
    if Operation.REGISTER in client.capabilities.operations:
        with pytest.raises(InvalidInput) as old:
            client.register(too_old, reference="REG-OLD")
        assert [p.code for p in old.value.problems] == ["age.too_old"]
    assert sandbox.host.sms_outbox == []


def test_same_refusals_before_anything_is_sent(sandbox: Sandbox, channel: str) -> None:
    client = _client(sandbox, channel)
    nik = _payable(sandbox)[0]
    not_offered = [m for m in range(1, 13) if m not in client.capabilities.month_counts]
    for months in not_offered:
        with pytest.raises(CapabilityRefused):
            client.pay(nik, months=months, reference=f"NO-{months}")
    if Operation.REVERSE not in client.capabilities.operations:
        with pytest.raises(CapabilityRefused):
            client.reverse("ANY-1")
    if Operation.AUTODEBIT not in client.capabilities.operations:
        with pytest.raises(CapabilityRefused):
            client.enrol_autodebit(nik, months=1, reference="AD-1")
    assert _ledger(sandbox) == []


def test_pay_is_idempotent(sandbox: Sandbox, channel: str) -> None:
    client = _client(sandbox, channel)
    nik = _payable(sandbox)[1]
    first = client.pay(nik, months=1, reference="IDEM-1")
    again = client.pay(nik, months=1, reference="IDEM-1")
    assert again == first
    assert [e.reference for e in _ledger(sandbox)] == ["IDEM-1"]
    status = client.status("IDEM-1")
    assert status.state is PaymentState.APPLIED
    assert status.host_reference == first.host_reference


def test_lost_answer_is_resolved_without_paying_twice(sandbox: Sandbox, channel: str) -> None:
    client = _client(sandbox, channel)
    nik = _payable(sandbox)[2]
    sandbox.faults.inject("drop", match=CHANNELS[channel])
    receipt = client.pay(nik, months=1, reference="DROP-1")
    assert receipt.host_reference
    assert [e.reference for e in _ledger(sandbox)] == ["DROP-1"]
    entry = client.journal.get(client.channel, "pay", "DROP-1")
    assert entry is not None
    assert entry.state is EntryState.APPLIED


def test_unknown_outcome_then_recover(sandbox: Sandbox, channel: str) -> None:
    client = _client(sandbox, channel, status_polls=2)
    nik = _payable(sandbox)[3]
    sandbox.faults.inject("drop", match=CHANNELS[channel])
    sandbox.faults.inject("pending", match="UNK-1", times=2)
    with pytest.raises(OutcomeUnknown):
        client.pay(nik, months=1, reference="UNK-1")
    report = client.recover()
    assert report.applied == ("UNK-1",)
    assert report.unresolved == 0
    client.pay(nik, months=1, reference="UNK-1")  # the receipt, from the journal
    assert [e.reference for e in _ledger(sandbox)] == ["UNK-1"]


def test_reset_before_delivery_is_not_applied_and_can_be_sent_again(
    sandbox: Sandbox, channel: str
) -> None:
    client = _client(sandbox, channel)
    nik = _payable(sandbox)[0]
    sandbox.faults.inject("reset", match=CHANNELS[channel])
    # A reset before the request left is surely undelivered (NotDelivered: send again at
    # once); one after it left is an unknown outcome, and "not found" proves nothing until the
    # channel's settle window has passed. Either way exactly one payment results.
    try:
        receipt = client.pay(nik, months=1, reference="RST-1")
    except NotDelivered:
        assert _ledger(sandbox) == []
        receipt = client.pay(nik, months=1, reference="RST-1")
    except OutcomeUnknown:
        assert _ledger(sandbox) == []
        with pytest.raises(OutcomeUnknown):  # within the window: no second send
            client.pay(nik, months=1, reference="RST-1")
        assert _ledger(sandbox) == []
        sandbox.host.advance(client.capabilities.settle_window + dt.timedelta(seconds=1))
        receipt = client.pay(nik, months=1, reference="RST-1")
    assert receipt.channel_reference == "RST-1"
    assert [e.reference for e in _ledger(sandbox)] == ["RST-1"]


def test_reversal_or_its_refusal(sandbox: Sandbox, channel: str) -> None:
    client = _client(sandbox, channel)
    nik = _payable(sandbox)[1]
    client.pay(nik, months=1, reference="REV-1")
    if Operation.REVERSE not in client.capabilities.operations:
        with pytest.raises(CapabilityRefused):
            client.reverse("REV-1")
        assert _ledger(sandbox, "reversal") == []
        return
    result = client.reverse("REV-1")
    assert result.state is ReversalState.REVERSED
    assert client.reverse("REV-1").state is ReversalState.REVERSED
    assert len(_ledger(sandbox, "reversal")) == 1
    assert client.status("REV-1").state is PaymentState.REVERSED


def test_registration_with_otp(sandbox: Sandbox, channel: str) -> None:
    client = _client(sandbox, channel)
    if Operation.REGISTER not in client.capabilities.operations:
        pytest.skip("channel does not register")
    worker = parse_participant(participant_data(), as_of=sandbox.host.today())
    challenge = client.register(
        worker, reference=f"REG-{channel}", payer=Payer("sertakan", name="Budi")
    )
    registration = client.confirm_registration(challenge, sandbox.host.last_otp(worker.phone))
    assert registration.kpj
    assert registration.nik_masked == "3201********0001"
    inquiry = client.inquire(registration.kpj, months=1)
    assert inquiry.kpj == registration.kpj
