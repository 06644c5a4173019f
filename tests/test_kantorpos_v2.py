"""Kantor Pos version 2 (``kantorpos-2.xsd``): every request carries its send time (``sentAt``)
and the host refuses one outside its tolerance (Fault ``93``), so a request held in the network
cannot be applied after the counter's settle window; a status answer names the payment found
(customer, office, teller) and the adapter accepts it only when it is the journaled payment.
Version 1 stays readable and served.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any, cast

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jamsostek_channels.adapters.kantorpos import codec, wire
from jamsostek_channels.adapters.kantorpos import types as kp
from jamsostek_channels.adapters.kantorpos.adapter import KantorPosAdapter
from jamsostek_channels.adapters.kantorpos.errors import KantorPosDeclined
from jamsostek_channels.adapters.kantorpos.fake import DEFAULT_TOLERANCE, SANDBOX_OFFICE
from jamsostek_channels.adapters.kantorpos.profile import load_profile
from jamsostek_channels.adapters.kantorpos.soap import CONTENT_TYPE
from jamsostek_channels.channel import CustomerId, InquiryRequest, PaymentRequest, PaymentState
from jamsostek_channels.client import Client
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import MalformedMessage, NotDelivered, ReferenceConflict
from jamsostek_channels.journal import Journal
from jamsostek_channels.model import CoverageState, Payer
from jamsostek_channels.period import YearMonth
from jamsostek_channels.testing.sandbox import Sandbox
from jamsostek_channels.transport import HttpResponse, HttpTransport

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=JAKARTA)
PROFILE = load_profile("kantorpos")
NIK = CustomerId.nik("3201015508950001")
OTHER_NIK = CustomerId.nik("3201015508950002")
PAYMENT = kp.PosPaymentRequest(
    office="40115",
    teller="LKT01",
    reference="KP-0001",
    customer=NIK,
    periods=(YearMonth(2026, 11),),
    amount=36_800,
    admin_fee=2_500,
    payer=kp.PosPayer.of(Payer.self_paid()),
    requested_at=NOW,
    inquiry_id="INQ000000000001",
)


# The codec -----------------------------------------------------------------------------------


def test_a_request_with_a_send_time_is_version_2_and_round_trips() -> None:
    message = attrs.evolve(PAYMENT, sent_at=NOW + dt.timedelta(seconds=3))
    document = codec.encode(message)
    assert wire.NAMESPACES[2].encode() in document
    assert b'version="2.0"' in document
    assert b"<kp:sentAt>2026-11-23T09:30:03+07:00</kp:sentAt>" in document
    assert codec.decode_payment_request(document) == message


def test_version_1_is_still_written_and_read() -> None:
    document = codec.encode(PAYMENT)
    assert wire.NAMESPACES[1].encode() in document
    assert wire.NAMESPACES[2].encode() not in document
    assert codec.decode_payment_request(document) == PAYMENT


def test_a_version_2_request_without_its_send_time_is_never_sent() -> None:
    with pytest.raises(MalformedMessage) as caught:
        codec.encode(PAYMENT, major=2)
    assert "sentAt" in caught.value.message_en


def test_a_status_answer_names_its_payment_in_version_2_only() -> None:
    answer = kp.PosStatusResponse(
        reference="KP-0001",
        status=kp.TransactionStatus.APPLIED,
        response_code="00",
        host_reference="BPJS000000000001",
        periods=(YearMonth(2026, 11),),
        amount=36_800,
        paid_at=NOW,
        customer=NIK,
        office="40115",
        teller="LKT01",
    )
    assert codec.decode_status_response(codec.encode(answer)) == answer
    bare = codec.decode_status_response(codec.encode(answer, major=1))
    assert bare == attrs.evolve(answer, customer=None, office=None, teller=None)


@pytest.mark.parametrize("major", [1, 2])
def test_faults_of_either_version_are_read(major: int) -> None:
    fault = kp.PosFault(codec.soap.FaultCode.CLIENT, "stale", response_code="93")
    document = codec.encode_fault(fault, major=major)
    assert wire.NAMESPACES[major].encode() in document
    assert codec.decode_fault(document).response_code == "93"
    with pytest.raises(KantorPosDeclined) as caught:
        codec.decode_payment_response(document, codes=PROFILE.response_codes)
    assert caught.value.info.retry_safe  # nothing was processed: the adapter's NotDelivered


# The gateway: send time within the tolerance ---------------------------------------------------


class Clock:
    def __init__(self, start: dt.datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(seed=11, clock=Clock(), channels=("kantorpos",))
    box.install()
    yield box
    box.stop()


def payable(sandbox: Sandbox, index: int = 0) -> str:
    return [
        p["nik"]
        for p in sandbox.demo_participants
        if sandbox.host.coverage(p["nik"]).state is not CoverageState.LAPSED
    ][index]


def counter(sandbox: Sandbox, skew: dt.timedelta) -> Client:
    """A counter whose clock is ``skew`` off the host's."""

    def clock() -> dt.datetime:
        return sandbox.host.now() + skew

    journal = Journal(":memory:", clock=clock)
    adapter = KantorPosAdapter(
        PROFILE,
        base_url=sandbox.base_url,  # the profile's paths begin with /kantorpos/
        office=SANDBOX_OFFICE,
        teller="LKT01",
        clock=clock,
    )
    return Client(adapter, journal=journal, clock=clock, agent_id="LKT01", sleep=lambda s: None)


@pytest.mark.parametrize("minutes", [-6, 6])
def test_a_request_sent_outside_the_tolerance_is_refused_unprocessed(
    sandbox: Sandbox, minutes: int
) -> None:
    late = counter(sandbox, dt.timedelta(minutes=minutes))
    with pytest.raises(NotDelivered) as caught:
        late.pay(payable(sandbox), months=1, reference="KP-LATE-1")
    assert caught.value.host_code == "93"
    assert sandbox.host.ledger() == ()


def test_a_request_within_the_tolerance_is_taken(sandbox: Sandbox) -> None:
    assert dt.timedelta(minutes=5) == DEFAULT_TOLERANCE
    assert PROFILE.capabilities.settle_window > DEFAULT_TOLERANCE
    slow = counter(sandbox, dt.timedelta(minutes=-4, seconds=-59))
    receipt = slow.pay(payable(sandbox), months=1, reference="KP-SLOW-1")
    assert slow.status("KP-SLOW-1").host_reference == receipt.host_reference


def test_a_held_payment_is_refused_when_it_arrives_after_the_tolerance(sandbox: Sandbox) -> None:
    """A payment encoded now and delivered 5 minutes and a second later (by the host's clock)
    is refused, so "not found" after the settle window stays true."""
    box_counter = counter(sandbox, dt.timedelta(0))
    nik = payable(sandbox)
    customer = CustomerId.parse(nik)
    inquiry = box_counter.adapter.inquire(InquiryRequest(customer, 1, "LKT01"))
    message = attrs.evolve(
        PAYMENT,
        customer=customer,
        periods=tuple(b.period for b in inquiry.bills),
        amount=inquiry.amount,
        admin_fee=PROFILE.capabilities.admin_fee.fee_for(inquiry.amount),
        inquiry_id=inquiry.inquiry_id,
        sent_at=sandbox.host.now(),
    )
    body = codec.encode(message)
    sandbox.host.advance(DEFAULT_TOLERANCE + dt.timedelta(seconds=1))
    answer = _post(sandbox, body, "pay")
    assert answer.status == 500
    assert codec.decode_fault(answer.body).response_code == "93"
    assert sandbox.host.ledger() == ()


def test_a_version_1_counter_is_served_in_version_1(sandbox: Sandbox) -> None:
    status = kp.PosStatusRequest(office=SANDBOX_OFFICE, teller="LKT01", reference="KP-V1")
    answer = _post(sandbox, codec.encode(status), "status")
    assert answer.status == 200
    assert wire.NAMESPACES[2].encode() not in answer.body
    assert codec.decode_status_response(answer.body).status is kp.TransactionStatus.NOT_FOUND
    stale = attrs.evolve(PAYMENT, office="99999")  # refused: its Fault is version 1 too
    fault = _post(sandbox, codec.encode(stale), "pay")
    assert wire.NAMESPACES[1].encode() in fault.body
    assert wire.NAMESPACES[2].encode() not in fault.body


def _post(sandbox: Sandbox, body: bytes, action: str) -> Any:
    from jamsostek_channels.testing.wire import WireRequest

    gateway = sandbox.channels["kantorpos"].gateway
    return gateway(
        WireRequest(
            "POST",
            PROFILE.endpoint_path,
            {"content-type": CONTENT_TYPE, "soapaction": f'"{PROFILE.soap_action(action)}"'},
            body,
        )
    )


# The adapter: a status answer must be the journaled payment -----------------------------------


class Answering:
    """A transport that answers every call with one prepared body (HTTP 200)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent: list[bytes] = []

    def send(self, method: str, path: str, body: bytes = b"", **options: Any) -> HttpResponse:
        self.sent.append(body)
        return HttpResponse(200, cast(Mapping[str, str], {}), self.body, 0.0)

    def close(self) -> None:
        return None


REQUEST = PaymentRequest(
    reference="KP-0001",
    customer=NIK,
    periods=(YearMonth(2026, 11),),
    amount=36_800,
    admin_fee=2_500,
    payer=Payer.self_paid(),
    inquiry_id="INQ000000000001",
    requested_at=NOW,
    agent_id="LKT01",
)
OURS = kp.PosStatusResponse(
    reference="KP-0001",
    status=kp.TransactionStatus.APPLIED,
    response_code="00",
    host_reference="BPJS000000000001",
    periods=REQUEST.periods,
    amount=REQUEST.amount,
    paid_at=NOW,
    customer=NIK,
    office="40115",
    teller="LKT01",
)
#: One field of the answer changed: another customer, other months, another amount, another
#: office, another teller.
CHANGES: dict[str, st.SearchStrategy[Any]] = {
    "customer": st.sampled_from([OTHER_NIK, CustomerId.kpj("26110000017")]),
    "periods": st.lists(
        st.builds(YearMonth, st.integers(2020, 2030), st.integers(1, 12)),
        min_size=1,
        max_size=12,
        unique=True,
    )
    .map(lambda months: tuple(sorted(months)))
    .filter(lambda months: months != REQUEST.periods),
    "amount": st.integers(0, 999_999_999_999).filter(lambda amount: amount != REQUEST.amount),
    "office": st.sampled_from(["10000", "40000", "60000"]),
    "teller": st.sampled_from(["LKT02", "ABC99"]),
}


def status_of(answer: kp.PosStatusResponse, *, at: dt.datetime = NOW) -> Any:
    transport = Answering(codec.encode(answer))
    adapter = KantorPosAdapter(
        PROFILE,
        base_url="https://h2h.example",
        office="40115",
        teller="LKT01",
        clock=lambda: at,
        transport=cast(HttpTransport, transport),
    )
    try:
        return adapter.payment_status(REQUEST), transport
    finally:
        adapter.close()


def test_the_status_of_our_payment_is_accepted_and_the_request_stamped() -> None:
    result, transport = status_of(OURS, at=NOW + dt.timedelta(seconds=7))
    assert result.state is PaymentState.APPLIED
    (sent,) = transport.sent
    assert codec.decode_status_request(sent).sent_at == NOW + dt.timedelta(seconds=7)


@given(field=st.sampled_from(sorted(CHANGES)), data=st.data())
def test_any_difference_from_the_journaled_payment_is_a_reference_conflict(
    field: str, data: st.DataObject
) -> None:
    changed = attrs.evolve(OURS, **{field: data.draw(CHANGES[field])})
    for status in (kp.TransactionStatus.APPLIED, kp.TransactionStatus.REVERSED):
        with pytest.raises(ReferenceConflict) as caught:
            status_of(attrs.evolve(changed, status=status))
        assert caught.value.problems[0].code == "payment.mismatch"
