"""The Kantor Pos channel end to end: the library's adapter against the fake post-office gateway,
through the sandbox (in process, and on its real loopback server for hostile XML).

Registration with OTP, inquiry, payment and its receipt, idempotency, a lost answer recovered,
reversals (same day, store and forward, refused the next day), status, the error mapping of the
profile's response codes, and the day's settlement file through the ``reconcile`` command.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
import requests
from conftest import participant_data

from jamsostek_channels import parse_participant, registry
from jamsostek_channels.adapters.kantorpos import codec
from jamsostek_channels.adapters.kantorpos import types as kp
from jamsostek_channels.adapters.kantorpos.adapter import KantorPosAdapter
from jamsostek_channels.adapters.kantorpos.errors import KantorPosDeclined
from jamsostek_channels.adapters.kantorpos.fake import (
    SANDBOX_OFFICE,
    SANDBOX_TELLER,
    KantorPosGateway,
)
from jamsostek_channels.adapters.kantorpos.profile import load_profile
from jamsostek_channels.adapters.kantorpos.settings import KantorPosSettings
from jamsostek_channels.adapters.kantorpos.settlement import (
    decode_settlement_file,
    encode_settlement_file,
    read_settlement_file,
)
from jamsostek_channels.adapters.kantorpos.soap import CONTENT_TYPE, FaultCode
from jamsostek_channels.channel import (
    CustomerId,
    Histories,
    InquiryRequest,
    Mandates,
    Operation,
    PaymentRequest,
    PaymentState,
    ReversalState,
    SettlementState,
    offered,
)
from jamsostek_channels.cli.main import main
from jamsostek_channels.client import Client
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import (
    CapabilityRefused,
    HostDeclined,
    JamsostekError,
    MalformedMessage,
    NotDelivered,
    OutcomeUnknown,
    SettingsInvalid,
)
from jamsostek_channels.journal import EntryState, Journal
from jamsostek_channels.model import CoverageState, Payer
from jamsostek_channels.receipts import render_text
from jamsostek_channels.testing.sandbox import Sandbox
from jamsostek_channels.testing.wire import WireRequest, WireResponse

CHANNEL = "kantorpos"
PROFILE = load_profile(CHANNEL)
#: A Monday morning in Jakarta.
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=JAKARTA)
PAYMENT = "kp:PaymentRequest"
REVERSAL = "kp:ReversalRequest"


class Clock:
    """The time the adapter, the client and the sandbox's host all read; moved by hand."""

    def __init__(self, start: dt.datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


class Spy:
    """Wraps the sandbox's Kantor Pos gateway: records every request and can answer the next
    one whose body holds some text with a planned response instead."""

    def __init__(self, sandbox: Sandbox) -> None:
        channel = sandbox.channels[CHANNEL]
        self.inner = channel.gateway
        self.requests: list[WireRequest] = []
        self.planned: list[tuple[str, WireResponse]] = []
        channel.gateway = self

    def __call__(self, request: WireRequest) -> WireResponse:
        self.requests.append(request)
        text = request.body.decode("utf-8", "replace")
        for plan in self.planned:
            if plan[0] in text:
                self.planned.remove(plan)
                return plan[1]
        return self.inner(request)

    def answer_fault(self, match: str, code: str, fault: FaultCode = FaultCode.SERVER) -> None:
        body = codec.encode_fault(kp.PosFault(fault, "planned", response_code=code))
        self.planned.append((match, WireResponse(500, body, {"content-type": CONTENT_TYPE})))

    def bodies(self, element: str) -> list[str]:
        return [
            r.body.decode("utf-8") for r in self.requests if f"<kp:{element} " in r.body.decode()
        ]


# Fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    box = Sandbox(seed=11, clock=clock, channels=(CHANNEL,))
    box.install()
    yield box
    box.stop()


@pytest.fixture
def spy(sandbox: Sandbox) -> Spy:
    return Spy(sandbox)


def make_client(sandbox: Sandbox, clock: Clock, **options: Any) -> Client:
    options.setdefault("sleep", lambda seconds: None)
    options.setdefault("agent_id", "LKT02")
    return cast(Client, sandbox.client(CHANNEL, clock=clock, **options))


@pytest.fixture
def client(sandbox: Sandbox, clock: Clock, spy: Spy) -> Iterator[Client]:
    made = make_client(sandbox, clock)
    yield made
    made.close()


def payable(sandbox: Sandbox, index: int = 0) -> str:
    niks = [
        p["nik"]
        for p in sandbox.demo_participants
        if sandbox.host.coverage(p["nik"]).state is not CoverageState.LAPSED
    ]
    return niks[index]


def ledger(sandbox: Sandbox, kind: str = "payment") -> list[Any]:
    return [e for e in sandbox.host.ledger() if e.kind == kind]


def adapter_of(client: Client) -> KantorPosAdapter:
    assert isinstance(client.adapter, KantorPosAdapter)
    return client.adapter


def payment_request(client: Client, nik: str, reference: str, **changes: Any) -> PaymentRequest:
    """A payment request as the client would build it, from a real inquiry."""
    customer = CustomerId.parse(nik)
    inquiry = client.adapter.inquire(InquiryRequest(customer, 1, client.agent_id))
    request = PaymentRequest(
        reference=reference,
        customer=customer,
        periods=tuple(bill.period for bill in inquiry.bills),
        amount=inquiry.amount,
        admin_fee=client.capabilities.admin_fee.fee_for(inquiry.amount),
        payer=Payer.self_paid(),
        inquiry_id=inquiry.inquiry_id,
        requested_at=NOW,
        agent_id=client.agent_id,
    )
    return attrs.evolve(request, **changes)


# The wire -----------------------------------------------------------------------------------


def test_every_call_is_one_soap_post_with_its_soapaction(
    sandbox: Sandbox, spy: Spy, client: Client
) -> None:
    client.pay(payable(sandbox), months=1, reference="KP-WIRE-1")
    client.status("KP-WIRE-1")
    operations = ["inquire", "pay", "status"]
    assert len(spy.requests) == len(operations)
    for request, operation in zip(spy.requests, operations, strict=True):
        assert request.method == "POST"
        assert request.path == PROFILE.endpoint_path  # served from the sandbox's root
        assert request.header("content-type") == "text/xml; charset=utf-8"
        assert request.header("soapaction") == f'"{PROFILE.soap_action(operation)}"'
        message = codec.decode_request(request.body)
        assert kp.operation_of(message) == operation
        assert (message.office, message.teller) == (SANDBOX_OFFICE, "LKT02")


def test_an_agent_id_that_is_not_a_teller_id_is_refused(
    sandbox: Sandbox, clock: Clock, spy: Spy
) -> None:
    nik = payable(sandbox)
    generic = make_client(sandbox, clock, agent_id="AGEN46-0001")  # not a teller id
    sent = len(spy.requests)
    with pytest.raises(CapabilityRefused) as not_teller:
        generic.pay(nik, months=1, reference="KP-NOT-A-TELLER")
    assert not_teller.value.code == "capability.agent_not_teller"
    assert not_teller.value.field == "agent_id"
    assert "AGEN46" not in str(not_teller.value)
    assert len(spy.requests) == sent  # refused before anything was sent
    # Straight to an adapter without a configured teller: no teller at all to name.
    settings = {**sandbox.info()["channels"][CHANNEL], "teller": None}
    bare = registry.spec(CHANNEL).open_adapter(settings, journal=Journal(), clock=clock)
    with pytest.raises(CapabilityRefused) as refused:
        bare.inquire(InquiryRequest(CustomerId.parse(nik), 1, None))
    assert refused.value.code == "capability.agent_required"
    assert len(spy.requests) == sent  # refused before anything was sent


def test_the_registry_builds_it_from_the_info_file(sandbox: Sandbox) -> None:
    info = sandbox.info()["channels"][CHANNEL]
    # Its own settings shape: the office and the teller, no SNAP credentials.
    assert info == {
        "base_url": sandbox.base_url,
        "office": SANDBOX_OFFICE,
        "teller": SANDBOX_TELLER,
    }
    spec = registry.spec(CHANNEL)
    assert spec.parse_settings(info) == KantorPosSettings(
        base_url=sandbox.base_url, office=SANDBOX_OFFICE, teller=SANDBOX_TELLER
    )
    adapter = spec.open_adapter(info, journal=Journal())
    try:
        assert isinstance(adapter, KantorPosAdapter)
        assert (adapter.name, adapter.office, adapter.teller) == (CHANNEL, "40115", "LKT01")
        assert adapter.capabilities == PROFILE.capabilities
        assert adapter.endpoint == "/kantorpos/v1/soap"  # not under a second /kantorpos
        # A cash counter keeps no history and takes no mandates: the adapter has no such
        # roles (no method that only refuses), and its operations are what it implements.
        assert not isinstance(adapter, Histories | Mandates)
        assert offered(adapter) == {
            Operation.QUOTE,
            Operation.REGISTER,
            Operation.INQUIRE,
            Operation.PAY,
            Operation.STATUS,
            Operation.REVERSE,
            Operation.SETTLEMENT,
        }
    finally:
        adapter.close()
    with pytest.raises(SettingsInvalid) as missing:
        spec.open_adapter({"base_url": info["base_url"], "partner_id": "40115"}, journal=Journal())
    assert {(p.field, p.code) for p in missing.value.problems} == {
        ("office", "field.required"),
        ("partner_id", "field.unknown"),  # the office is no longer spelled as a SNAP partner
    }
    with pytest.raises(SettingsInvalid) as refused:
        spec.open_adapter({**info, "office": "99999", "teller": "teller-1"}, journal=Journal())
    assert refused.value.channel == CHANNEL
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("office", "settings.office"),
        ("teller", "settings.teller"),
    ]


# Registration and inquiry ----------------------------------------------------------------------


def test_registration_with_otp(sandbox: Sandbox, spy: Spy, client: Client) -> None:
    worker = parse_participant(participant_data(), as_of=sandbox.host.today())
    challenge = client.register(
        worker, reference="KP-REG-1", payer=Payer("sertakan", name="Budi Santoso")
    )
    assert challenge.phone_masked == "0812****7890"
    registration = client.confirm_registration(challenge, sandbox.host.last_otp(worker.phone))
    assert registration.nik_masked == "3201********0001"
    assert registration.registered.year == 2026
    # Registration carries no agent id: the configured teller registers.
    (sent,) = spy.bodies("RegistrationRequest")
    assert codec.decode_request(sent.encode()).teller == SANDBOX_TELLER
    inquiry = client.inquire(registration.kpj, months=3)
    assert inquiry.kpj == registration.kpj
    assert len(inquiry.bills) == 3


def test_a_wrong_otp_and_a_second_registration_are_host_refusals(
    sandbox: Sandbox, client: Client
) -> None:
    worker = parse_participant(participant_data(), as_of=sandbox.host.today())
    challenge = client.register(worker, reference="KP-REG-2")
    otp = sandbox.host.last_otp(worker.phone)
    with pytest.raises(HostDeclined) as wrong:
        client.confirm_registration(challenge, "111111" if otp == "000000" else "000000")
    assert (wrong.value.code, wrong.value.host_code) == ("host.otp_invalid", "103")
    client.confirm_registration(challenge, otp)
    with pytest.raises(HostDeclined) as again:
        client.register(worker, reference="KP-REG-3")
    assert (again.value.code, again.value.host_code) == ("host.already_registered", "102")


def test_inquiry_prices_with_the_counters_admin_fee(sandbox: Sandbox, client: Client) -> None:
    inquiry = client.inquire(payable(sandbox), months=6)
    assert len(inquiry.bills) == 6
    assert inquiry.amount == sum(bill.amount for bill in inquiry.bills)
    assert inquiry.admin_fee == PROFILE.capabilities.admin_fee.fee_for(inquiry.amount)
    with pytest.raises(HostDeclined) as unknown:
        client.inquire("3201015508950001", months=1)  # valid, never registered
    assert isinstance(unknown.value, KantorPosDeclined)
    assert (unknown.value.code, unknown.value.host_code) == ("host.customer_not_found", "14")


# Payments -------------------------------------------------------------------------------------


def test_pay_prints_a_40_column_receipt(sandbox: Sandbox, client: Client) -> None:
    receipt = client.pay(payable(sandbox), months=3, reference="KP-PAY-1")
    assert receipt.host_reference.startswith("BPJS")
    assert len(receipt.periods) == 3
    assert receipt.admin_fee == PROFILE.capabilities.admin_fee.fee_for(receipt.amount)
    text = render_text(receipt, client.capabilities.receipt_width)
    assert client.capabilities.receipt_width == 40
    assert all(len(line) <= 40 for line in text.splitlines())
    assert "KP-PAY-1" in text
    assert receipt.host_reference in text
    assert [e.reference for e in ledger(sandbox)] == ["KP-PAY-1"]


def test_pay_is_idempotent_in_the_client_and_on_the_wire(
    sandbox: Sandbox, clock: Clock, spy: Spy, client: Client
) -> None:
    nik = payable(sandbox, 1)
    first = client.pay(nik, months=1, reference="KP-IDEM-1")
    sent = len(spy.requests)
    assert client.pay(nik, months=1, reference="KP-IDEM-1") == first
    assert len(spy.requests) == sent  # answered from the journal
    # Another counter process (a fresh journal) sending the same payment again, as a repeat:
    other = make_client(sandbox, clock)
    request = attrs.evolve(
        payment_request(other, nik, "KP-IDEM-1"),
        periods=first.periods,
        amount=first.amount,
        admin_fee=first.admin_fee,
        repeat=True,
    )
    again = other.adapter.pay(request)
    assert again.state is PaymentState.APPLIED
    assert again.host_reference == first.host_reference
    assert "<kp:repeat>true</kp:repeat>" in spy.bodies("PaymentRequest")[-1]
    assert [e.reference for e in ledger(sandbox)] == ["KP-IDEM-1"]


def test_a_dropped_answer_is_recovered_without_paying_twice(
    sandbox: Sandbox, spy: Spy, client: Client
) -> None:
    sandbox.faults.inject("drop", match=PAYMENT)
    receipt = client.pay(payable(sandbox, 2), months=1, reference="KP-DROP-1")
    assert receipt.host_reference
    assert [e.reference for e in ledger(sandbox)] == ["KP-DROP-1"]
    entry = client.journal.get(CHANNEL, "pay", "KP-DROP-1")
    assert entry is not None
    assert entry.state is EntryState.APPLIED
    assert len(spy.bodies("PaymentRequest")) == 1
    assert len(spy.bodies("StatusRequest")) == 1


def test_status_applied_pending_and_not_found(sandbox: Sandbox, client: Client) -> None:
    receipt = client.pay(payable(sandbox), months=1, reference="KP-STAT-1")
    status = client.status("KP-STAT-1")
    assert status.state is PaymentState.APPLIED
    assert status.host_reference == receipt.host_reference
    assert status.host_code == "00"
    sandbox.faults.inject("pending", match="KP-STAT-1")
    pending = client.status("KP-STAT-1")
    assert (pending.state, pending.host_code) == (PaymentState.PENDING, "09")
    never = client.adapter.payment_status(payment_request(client, payable(sandbox, 1), "KP-NEVER"))
    assert (never.state, never.host_code) == (PaymentState.NOT_FOUND, "25")


def test_a_declined_payment_is_an_answer_the_host_keeps(sandbox: Sandbox, client: Client) -> None:
    adapter = client.adapter
    request = payment_request(client, payable(sandbox), "KP-DECL-1")
    wrong = attrs.evolve(request, amount=request.amount + 1)
    result = adapter.pay(wrong)
    assert (result.state, result.host_code) == (PaymentState.DECLINED, "13")
    assert adapter.pay(wrong) == result  # the same reference and content: the same answer
    status = adapter.payment_status(wrong)
    assert (status.state, status.host_code) == (PaymentState.DECLINED, "13")
    with pytest.raises(OutcomeUnknown) as conflict:  # 94: settled by status, never paid again
        adapter.pay(request)
    assert conflict.value.host_code == "94"
    assert ledger(sandbox) == []


def test_the_client_journals_a_decline(sandbox: Sandbox, spy: Spy, client: Client) -> None:
    nik = payable(sandbox)
    client.pay(nik, months=1, reference="KP-FIRST")
    spy.planned.append(
        (
            PAYMENT,
            WireResponse(
                200,
                codec.encode(
                    kp.PosPaymentResponse(
                        reference="KP-DECL-2",
                        status=kp.PaymentStatus.DECLINED,
                        response_code="54",
                        amount=1,
                    )
                ),
                {"content-type": CONTENT_TYPE},
            ),
        )
    )
    with pytest.raises(HostDeclined) as declined:
        client.pay(nik, months=1, reference="KP-DECL-2")
    assert declined.value.code == "host.rejected"
    assert "(54)" in declined.value.message_en
    entry = client.journal.get(CHANNEL, "pay", "KP-DECL-2")
    assert entry is not None
    assert entry.state is EntryState.DECLINED
    assert ledger(sandbox)[-1].reference == "KP-FIRST"


@pytest.mark.parametrize(
    ("code", "operation", "expected"),
    [
        ("91", "pay", NotDelivered),
        ("96", "pay", OutcomeUnknown),
        ("96", "inquire", HostDeclined),
        ("91", "inquire", NotDelivered),
        ("30", "inquire", MalformedMessage),
        ("81", "pay", HostDeclined),
    ],
)
def test_faults_map_through_the_profiles_codes(
    sandbox: Sandbox, spy: Spy, client: Client, code: str, operation: str, expected: type
) -> None:
    request = payment_request(client, payable(sandbox), "KP-FAULT-1")
    element = {"pay": PAYMENT, "inquire": "kp:InquiryRequest"}[operation]
    spy.answer_fault(element, code, PROFILE.response_codes.fault_for(code))

    def call() -> object:
        if operation == "pay":
            return client.adapter.pay(request)
        return client.adapter.inquire(InquiryRequest(request.customer, 1, client.agent_id))

    with pytest.raises(expected) as caught:
        call()
    assert isinstance(caught.value, JamsostekError)
    assert caught.value.host_code == code
    assert ledger(sandbox) == []


def test_an_answer_that_is_not_soap_leaves_a_payment_open(
    sandbox: Sandbox, spy: Spy, client: Client
) -> None:
    request = payment_request(client, payable(sandbox), "KP-502")
    spy.planned.append((PAYMENT, WireResponse(502, b"<html>Bad Gateway</html>")))
    with pytest.raises(OutcomeUnknown):
        client.adapter.pay(request)
    sandbox.faults.inject("error", match="kp:InquiryRequest")
    with pytest.raises(MalformedMessage):  # a 500 that is no SOAP Fault, on an inquiry
        client.adapter.inquire(InquiryRequest(request.customer, 1, client.agent_id))


# Reversals ------------------------------------------------------------------------------------


def test_reversal_the_same_day(sandbox: Sandbox, client: Client) -> None:
    client.pay(payable(sandbox), months=1, reference="KP-REV-1")
    result = client.reverse("KP-REV-1")
    assert result.state is ReversalState.REVERSED
    assert client.reverse("KP-REV-1").state is ReversalState.REVERSED
    assert len(ledger(sandbox, "reversal")) == 1
    status = client.status("KP-REV-1")
    assert status.state is PaymentState.REVERSED


def test_a_reversal_is_stored_and_forwarded_after_a_reset(
    sandbox: Sandbox, clock: Clock, spy: Spy, client: Client
) -> None:
    client.pay(payable(sandbox), months=1, reference="KP-SAF-1")
    sandbox.faults.inject("reset", match=REVERSAL)
    queued = client.reverse("KP-SAF-1")
    assert queued.state is ReversalState.QUEUED
    assert ledger(sandbox, "reversal") == []
    (flushed,) = client.flush_outbox(now=clock.advance(minutes=1))
    assert flushed.state is ReversalState.REVERSED
    assert len(ledger(sandbox, "reversal")) == 1
    bodies = spy.bodies("ReversalRequest")
    assert "<kp:repeat>true</kp:repeat>" in bodies[-1]
    entry = client.journal.get(CHANNEL, "pay", "KP-SAF-1")
    assert entry is not None
    assert entry.state is EntryState.REVERSED
    assert client.flush_outbox(now=clock.advance(minutes=1)) == []


def test_a_reversal_the_next_day_is_refused(sandbox: Sandbox, clock: Clock, client: Client) -> None:
    client.pay(payable(sandbox), months=1, reference="KP-LATE-1")
    clock.advance(days=1)
    refused = client.reverse("KP-LATE-1")
    assert (refused.state, refused.host_code) == (ReversalState.REFUSED, "76")
    assert ledger(sandbox, "reversal") == []
    assert client.status("KP-LATE-1").state is PaymentState.APPLIED


def test_recover_reports_a_reversal_refused_after_midnight_with_the_hosts_code(
    sandbox: Sandbox, clock: Clock, client: Client
) -> None:
    clock.now = NOW.replace(hour=23, minute=50)
    client.pay(payable(sandbox), months=1, reference="KP-MID-1")
    sandbox.faults.inject("reset", match=REVERSAL)
    assert client.reverse("KP-MID-1").state is ReversalState.QUEUED
    clock.advance(minutes=20)  # 00:10 WIB: the office's day has closed
    report = client.recover()
    assert report.reversals_refused == ("KP-MID-1",)
    assert report.refusal_codes == {"KP-MID-1": "76"}
    assert report.reversals_repeated == ("KP-MID-1",)  # the reset attempt may have arrived
    assert ledger(sandbox, "reversal") == []


def test_recover_reports_an_expired_reversal_of_this_office(
    sandbox: Sandbox, clock: Clock, client: Client
) -> None:
    # The outbox keys items by office as the journal keys entries: recover() for this office
    # finds its own expired reversal (and reports it: a person must look), not an empty list.
    client.pay(payable(sandbox), months=1, reference="KP-EXP-1")
    sandbox.faults.inject("reset", match=REVERSAL, times=100)
    assert client.reverse("KP-EXP-1").state is ReversalState.QUEUED
    item = client.journal.outbox_item(CHANNEL, "reversal", "KP-EXP-1")
    assert item is not None
    assert item.scope == client.scope != ""
    clock.advance(days=2)
    report = client.recover()
    assert report.reversals_expired == ("KP-EXP-1",)
    assert report.reversals_pending == ()


def test_a_busy_host_keeps_the_reversal_queued(
    sandbox: Sandbox, clock: Clock, spy: Spy, client: Client
) -> None:
    client.pay(payable(sandbox), months=1, reference="KP-BUSY-1")
    spy.answer_fault(REVERSAL, "91")
    assert client.reverse("KP-BUSY-1").state is ReversalState.QUEUED
    report = client.recover()
    assert report.reversals_delivered == ("KP-BUSY-1",)
    assert len(ledger(sandbox, "reversal")) == 1


# The day's settlement --------------------------------------------------------------------------


def test_settlement_round_trip_and_reconcile(
    sandbox: Sandbox,
    clock: Clock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    journal_path = tmp_path / "journal.sqlite"
    client = make_client(sandbox, clock, journal=Journal(journal_path, clock=clock))
    client.pay(payable(sandbox, 0), months=1, reference="KP-SET-1")
    clock.advance(minutes=5)
    client.pay(payable(sandbox, 1), months=3, reference="KP-SET-2")
    clock.advance(minutes=5)
    client.pay(payable(sandbox, 2), months=1, reference="KP-SET-3")
    assert client.reverse("KP-SET-3").state is ReversalState.REVERSED
    day = NOW.date()

    records = client.settlement(day)
    assert [r.reference for r in records] == ["KP-SET-1", "KP-SET-2", "KP-SET-3"]
    assert [r.state for r in records] == [
        SettlementState.PAID,
        SettlementState.PAID,
        SettlementState.REVERSED,
    ]
    assert all(r.channel == CHANNEL and "*" in r.nik_masked for r in records)

    # The same file, as the office hands it over: fetched from the gateway's path.
    adapter = adapter_of(client)
    fetched = requests.get(sandbox.base_url + adapter.settlement_path(day), timeout=5)
    assert fetched.status_code == 200
    settlement = decode_settlement_file(fetched.content)
    assert [r.teller for r in settlement.records] == ["LKT02"] * 3
    assert settlement.records[2].reversed_at is not None
    path = tmp_path / f"kantorpos-{SANDBOX_OFFICE}-{day.isoformat()}.xml"
    path.write_bytes(fetched.content)
    assert read_settlement_file(path) == (day, records)
    client.close()

    argv = ["reconcile", "--channel", CHANNEL, str(path), "--journal", str(journal_path)]
    code = main([*argv, "--day", day.isoformat(), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["balanced"] is True
    assert len(report["categories"]["matched"]) == 2
    assert len(report["categories"]["reversed"]) == 1


def test_an_empty_office_file_reconciles_by_the_scope_named(
    sandbox: Sandbox, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An office that took no payment hands over a file with no record to name its office: the
    # operator names it, and the other offices' entries in a shared journal stay out of it.
    journal_path = tmp_path / "journal.sqlite"
    client = make_client(sandbox, clock, journal=Journal(journal_path, clock=clock))
    client.pay(payable(sandbox, 0), months=1, reference="KP-EMPTY-1")
    client.close()
    day = NOW.date()
    path = tmp_path / "kantorpos-60000.xml"
    empty = KantorPosGateway(sandbox.host).settlement_file("60000", day)
    path.write_bytes(encode_settlement_file(empty))
    argv = ["reconcile", "--channel", CHANNEL, str(path), "--journal", str(journal_path)]
    argv += ["--day", day.isoformat(), "--json"]
    assert main(argv) == 1  # read for every office: the neighbour's payment looks missing
    missing = json.loads(capsys.readouterr().out)["categories"]["missing_in_settlement"]
    assert [line["reference"] for line in missing] == ["KP-EMPTY-1"]
    assert main([*argv, "--scope", "60000"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["balanced"] is True
    assert not report["categories"]["missing_in_settlement"]


def test_settlement_of_another_office_is_empty_and_unknown_offices_are_refused(
    sandbox: Sandbox, clock: Clock, client: Client
) -> None:
    client.pay(payable(sandbox), months=1, reference="KP-OFF-1")
    settings = {**sandbox.info()["channels"][CHANNEL], "office": "60000"}
    elsewhere = registry.spec(CHANNEL).open_adapter(settings, journal=Journal(), clock=clock)
    assert elsewhere.settlement(NOW.date()) == ()
    elsewhere.close()
    gateway = sandbox.channels[CHANNEL].gateway
    assert isinstance(gateway, Spy)
    inner = cast(KantorPosGateway, getattr(gateway.inner, "__self__", None))
    assert [r.reference for r in inner.settlement_file("40115", NOW.date()).records] == ["KP-OFF-1"]
    response = requests.get(
        sandbox.base_url + "/kantorpos/v1/settlement/99999/2026-11-23.xml", timeout=5
    )
    assert response.status_code == 404
    assert codec.decode_fault(response.content).response_code == "05"


def test_a_sandbox_reset_forgets_the_gateways_state(sandbox: Sandbox, client: Client) -> None:
    client.pay(payable(sandbox), months=1, reference="KP-RESET-1")
    sandbox.reset()
    gateway = KantorPosGateway(sandbox.host)
    assert gateway.settlement_file("40115", NOW.date()).records == ()


# Hostile XML on the real loopback server -------------------------------------------------------

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:kp="urn:jamsostek-channels:kantorpos:1">
  <soap:Body><kp:StatusRequest version="1.0"><kp:office>40115</kp:office>
  <kp:teller>LKT01</kp:teller><kp:reference>&xxe;</kp:reference></kp:StatusRequest></soap:Body>
</soap:Envelope>"""

LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soap:Body><x>&lol9;</x></soap:Body></soap:Envelope>"
)

SOAP12 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body/></env:Envelope>'
)


@pytest.fixture
def served() -> Iterator[Sandbox]:
    with Sandbox(seed=11, channels=(CHANNEL,)) as box:
        yield box


def _post(box: Sandbox, body: bytes, action: str = "status", **headers: str) -> requests.Response:
    return requests.post(
        box.base_url + PROFILE.endpoint_path,
        data=body,
        headers={
            "Content-Type": CONTENT_TYPE,
            "SOAPAction": f'"{PROFILE.soap_action(action)}"',
            **headers,
        },
        timeout=10,
    )


def test_hostile_xml_is_answered_with_a_fault_and_changes_nothing(served: Sandbox) -> None:
    before = (served.host.ledger(), len(served.host.sms_outbox), repr(served.host))
    for body in (XXE, LAUGHS, b"<" * 5000, b"\xff\xfe<x/>", b"<a>" * 10_000 + b"</a>" * 10_000):
        response = _post(served, body)
        assert response.status_code == 500, body[:40]
        assert response.headers["content-type"].startswith("text/xml")
        fault = codec.decode_fault(response.content)
        assert fault.code is FaultCode.CLIENT
        assert fault.response_code == "30"
        assert b"root:" not in response.content  # nothing of /etc/passwd
    too_large = _post(served, b"<x>" + b"a" * (PROFILE.max_message_bytes + 1) + b"</x>")
    assert too_large.status_code == 500
    assert codec.decode_fault(too_large.content).response_code == "31"
    version = codec.decode_fault(_post(served, SOAP12).content)
    assert version.code is FaultCode.VERSION_MISMATCH
    assert (served.host.ledger(), len(served.host.sms_outbox), repr(served.host)) == before


def test_requests_that_disagree_with_their_headers_or_profile_are_refused(
    served: Sandbox,
) -> None:
    status = codec.encode(kp.PosStatusRequest(office="40115", teller="LKT01", reference="R-1"))
    assert _post(served, status).status_code == 200
    wrong_action = _post(served, status, action="pay")
    assert codec.decode_fault(wrong_action.content).response_code == "30"
    no_action = _post(served, status, SOAPAction="")
    assert codec.decode_fault(no_action.content).response_code == "30"
    as_json = _post(served, status, **{"Content-Type": "application/json"})
    assert codec.decode_fault(as_json.content).response_code == "30"
    other_office = codec.encode(
        kp.PosStatusRequest(office="99999", teller="LKT01", reference="R-1")
    )
    refused = codec.decode_fault(_post(served, other_office).content)
    assert (refused.code, refused.response_code, refused.reference) == (
        FaultCode.CLIENT,
        "05",
        "R-1",
    )
    bad_teller = codec.encode(kp.PosStatusRequest(office="40115", teller="lkt-1", reference="R-1"))
    assert codec.decode_fault(_post(served, bad_teller).content).response_code == "05"


def test_a_client_pays_over_the_loopback_after_hostile_requests(served: Sandbox) -> None:
    _post(served, XXE)
    _post(served, LAUGHS)
    client = cast(Client, served.client(CHANNEL, agent_id="LKT03", sleep=lambda seconds: None))
    try:
        nik = payable(served)
        receipt = client.pay(nik, months=1, reference="KP-LOOP-1")
        assert receipt.host_reference
        assert client.status("KP-LOOP-1").state is PaymentState.APPLIED
        assert client.reverse("KP-LOOP-1").state is ReversalState.REVERSED
    finally:
        client.close()
