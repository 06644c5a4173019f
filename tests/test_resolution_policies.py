"""Resolution policies (issue 11): how each kind of channel settles a payment whose answer never
came, through the policy test channels of the testing kit (``testing/direct.py``), opened from
the registry like any installed channel.

* ``status`` - ask the host (SNAP, Kantor Pos; covered at length in ``test_money_safety.py``);
* ``advice`` - send it again as an advice until accepted: completes it;
* ``reverse`` - undo it through the outbox: a late request is refused, never applied;
* ``await_result`` - SUBMITTED until the channel's result file says.

Each with the answer lost after the host applied it (``drop``) and with the request lost before
the host saw it (held in the network, arriving later or never); in every case the host's ledger
and the journal agree, and the client never calls an operation the channel does not offer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_client import NIK, OCT, Clock, payments, person, reversals, seed

from jamsostek_channels import connect, registry
from jamsostek_channels.channel import (
    Advices,
    Operation,
    PaymentRequest,
    PaymentResult,
    Resolution,
    StatusInquiries,
)
from jamsostek_channels.client import Client
from jamsostek_channels.errors import HostDeclined, InvalidInput, OutcomeUnknown
from jamsostek_channels.journal import EntryState, Journal, OutboxState
from jamsostek_channels.testing.direct import (
    AdvisingChannel,
    BatchChannel,
    ReversingChannel,
    policy_spec,
)
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.wire import Faults


@pytest.fixture
def faults() -> Faults:
    return Faults()


def opened(resolution: Resolution, host: FakeHost, faults: Faults) -> Iterator[Client]:
    """A client of the policy's test channel, found through the registry and ``connect``."""
    spec = policy_spec(resolution, host, faults=faults)
    with registry.registered(spec):
        assert spec.name in registry.names()
        client = connect(spec.name, {}, journal=Journal(), sleep=lambda _: None)
        yield client
        client.close()


@pytest.fixture
def advice(host: FakeHost, faults: Faults) -> Iterator[Client]:
    yield from opened(Resolution.ADVICE, host, faults)


@pytest.fixture
def reverse(host: FakeHost, faults: Faults) -> Iterator[Client]:
    yield from opened(Resolution.REVERSE, host, faults)


@pytest.fixture
def batch(host: FakeHost, faults: Faults) -> Iterator[Client]:
    yield from opened(Resolution.AWAIT_RESULT, host, faults)


def state(client: Client, reference: str) -> EntryState:
    entry = client.journal.get(client.channel, "pay", reference)
    assert entry is not None
    return entry.state


def wire(client: Client) -> list[str]:
    """The operations that reached the channel, in order."""
    log: list[str] = client.adapter.wire_log  # type: ignore[attr-defined]
    return [path.rsplit("/", 1)[1] for path in log]


class Held:
    """Holds the next payment request in the network: the payer hears nothing and the host has
    not seen it; ``arrive()`` lets it reach the host late."""

    def __init__(self, client: Client) -> None:
        self.adapter: Any = client.adapter
        self.requests: list[PaymentRequest] = []
        original = self.adapter.pay

        def pay(request: PaymentRequest) -> PaymentResult:
            if not self.requests:
                self.adapter.wire_log.append(f"/{self.adapter.name}/pay")
                self.requests.append(request)
                raise OutcomeUnknown("outcome.unknown", {"reference": request.reference})
            result: PaymentResult = original(request)
            return result

        self.adapter.pay = pay

    def arrive(self) -> PaymentResult:
        return self.adapter.host.pay(self.adapter.name, self.requests[0])  # type: ignore[no-any-return]


# The channels offer only their policy's roles ------------------------------------------------


def test_each_policy_channel_offers_what_its_policy_needs_and_no_status() -> None:
    host = FakeHost()
    for channel in (AdvisingChannel, ReversingChannel, BatchChannel):
        adapter = channel(host, name="x")
        assert not isinstance(adapter, StatusInquiries)
    assert isinstance(AdvisingChannel(host, name="x"), Advices)
    assert not isinstance(ReversingChannel(host, name="x"), Advices)


def test_a_policy_whose_role_the_adapter_lacks_is_refused_at_once(host: FakeHost) -> None:
    class NoAdvice(ReversingChannel):
        resolution = Resolution.ADVICE  # says advice, offers none

    with pytest.raises(ValueError, match="advice"):
        Client(NoAdvice(host, name="x"), journal=Journal())


def test_operations_are_what_the_adapter_implements(batch: Client) -> None:
    operations = batch.capabilities.operations
    assert Operation.PAY in operations
    assert Operation.INQUIRE not in operations  # priced here, from a quote
    assert Operation.STATUS not in operations
    assert Operation.REVERSE not in operations


# advice: completes the payment --------------------------------------------------------------


def test_advice_completes_a_payment_whose_answer_was_lost(
    advice: Client, host: FakeHost, faults: Faults
) -> None:
    faults.inject("drop", match="/direct-advice/pay")  # applied, the answer lost
    receipt = advice.pay(NIK, months=1, reference="ADV-1")
    assert receipt.host_reference
    assert payments(host) == ["ADV-1"]  # once
    assert state(advice, "ADV-1") is EntryState.APPLIED
    assert wire(advice) == ["inquire", "pay", "advice"]  # never a status inquiry
    item = advice.journal.outbox_item("direct-advice", "advice", "ADV-1")
    assert item is not None
    assert item.state is OutboxState.ACCEPTED


def test_advice_applies_a_payment_the_host_never_saw_and_the_late_request_changes_nothing(
    advice: Client, host: FakeHost
) -> None:
    held = Held(advice)
    receipt = advice.pay(NIK, months=1, reference="ADV-2")
    assert payments(host) == ["ADV-2"]  # the advice applied it: the customer's money was taken
    late = held.arrive()  # the original request reaches the host after all
    assert late.host_reference == receipt.host_reference
    assert payments(host) == ["ADV-2"]  # still once


def test_an_unanswered_advice_is_retried_by_recover_marked_as_a_repeat(
    advice: Client, host: FakeHost, faults: Faults, clock: Clock
) -> None:
    faults.inject("drop", match="/direct-advice/pay")
    faults.inject("reset", match="/direct-advice/advice")  # the advice does not get through
    with pytest.raises(OutcomeUnknown):
        advice.pay(NIK, months=1, reference="ADV-3")
    assert state(advice, "ADV-3") is EntryState.UNKNOWN
    clock.advance(minutes=1)
    report = advice.recover()
    assert report.applied == ("ADV-3",)
    assert state(advice, "ADV-3") is EntryState.APPLIED
    item = advice.journal.outbox_item("direct-advice", "advice", "ADV-3")
    assert item is not None
    assert (item.state, item.attempts) == (OutboxState.ACCEPTED, 2)
    assert payments(host) == ["ADV-3"]
    assert advice.pay(NIK, months=1, reference="ADV-3").host_reference  # the journal answers


def test_an_advice_the_host_refuses_is_declined_for_a_person(
    advice: Client, host: FakeHost, faults: Faults, clock: Clock
) -> None:
    Held(advice)  # the request never arrives
    faults.inject("reset", match="/direct-advice/advice")  # nor, this time, the advice
    with pytest.raises(OutcomeUnknown):
        advice.pay(NIK, months=1, reference="ADV-4")
    # Meanwhile the worker pays the same month at another counter.
    elsewhere = Client(AdvisingChannel(host, name="elsewhere"), journal=Journal())
    elsewhere.pay(NIK, months=1, reference="ELSE-1")
    clock.advance(minutes=1)
    report = advice.recover()
    assert report.not_applied == ("ADV-4",)  # the host refused it: the bill was paid
    assert state(advice, "ADV-4") is EntryState.DECLINED
    item = advice.journal.outbox_item("direct-advice", "advice", "ADV-4")
    assert item is not None
    assert item.state is OutboxState.REJECTED
    assert item.last_error == "host.bill_paid"  # what the person returning the cash reads
    assert payments(host) == ["ELSE-1"]


# reverse: undoes the payment ----------------------------------------------------------------


def test_reverse_undoes_a_payment_whose_answer_was_lost(
    reverse: Client, host: FakeHost, faults: Faults
) -> None:
    faults.inject("drop", match="/direct-reverse/pay")  # applied, the answer lost
    with pytest.raises(HostDeclined) as undone:
        reverse.pay(NIK, months=1, reference="REV-1")
    assert undone.value.code == "payment.reversed"  # pay again under a new reference
    assert payments(host) == ["REV-1"]
    assert reversals(host) == ["REV-1"]
    assert state(reverse, "REV-1") is EntryState.REVERSED
    assert wire(reverse) == ["inquire", "pay", "reverse"]  # never a status inquiry
    again = reverse.pay(NIK, months=1, reference="REV-2")  # the month is payable again
    assert again.host_reference
    assert payments(host) == ["REV-1", "REV-2"]


def test_a_request_reversed_before_it_arrived_is_refused_when_it_does(
    reverse: Client, host: FakeHost
) -> None:
    held = Held(reverse)
    with pytest.raises(HostDeclined):
        reverse.pay(NIK, months=1, reference="REV-3")
    assert state(reverse, "REV-3") is EntryState.NOT_APPLIED  # the host voided the reference
    with pytest.raises(HostDeclined) as late:
        held.arrive()  # the original request reaches the host after its reversal
    assert late.value.code == "payment.reversed"
    assert payments(host) == []  # never applied
    with pytest.raises(HostDeclined):  # and the reference stays spent
        reverse.pay(NIK, months=1, reference="REV-3")
    assert payments(host) == []


def test_an_unanswered_reversal_is_retried_by_recover(
    reverse: Client, host: FakeHost, faults: Faults, clock: Clock
) -> None:
    faults.inject("drop", match="/direct-reverse/pay")
    faults.inject("reset", match="/direct-reverse/reverse")
    with pytest.raises(OutcomeUnknown):
        reverse.pay(NIK, months=1, reference="REV-4")
    clock.advance(minutes=1)
    report = reverse.recover()
    assert report.reversed == ("REV-4",)
    assert report.reversals_delivered == ()  # the payment's own policy, not a queued request
    assert state(reverse, "REV-4") is EntryState.REVERSED
    assert reversals(host) == ["REV-4"]


# await_result: the result file says ---------------------------------------------------------


def test_a_submitted_payment_is_settled_by_the_result_file(batch: Client, host: FakeHost) -> None:
    seed(host, 2)
    other = seed(host, 3)
    # No inquiry at a batch channel: the client prices each line with its own rules.
    quote = batch.quote(participant=person(1), start=OCT, months=1)
    with pytest.raises(InvalidInput) as unpriced:
        batch.pay(NIK, months=1, reference="CU-1")
    assert unpriced.value.problems[0].code == "payment.quote_required"
    with pytest.raises(InvalidInput):  # a quote for another month count is not this payment's
        batch.pay(
            NIK,
            months=1,
            reference="CU-1",
            quote=batch.quote(participant=person(1), start=OCT, months=2),
        )
    with pytest.raises(OutcomeUnknown) as submitted:
        batch.pay(NIK, months=1, reference="CU-1", quote=quote)
    assert submitted.value.code == "outcome.submitted"
    other_quote = batch.quote(participant=other, start=OCT, months=1)
    with pytest.raises(OutcomeUnknown):
        batch.pay(other.nik, months=1, reference="CU-2", quote=other_quote)
    assert state(batch, "CU-1") is EntryState.SUBMITTED
    assert payments(host) == []  # nothing applied before the file is processed
    with pytest.raises(OutcomeUnknown, match="CU-1"):  # asking again sends nothing
        batch.pay(NIK, months=1, reference="CU-1")
    assert batch.recover().still_unknown == ()  # SUBMITTED is no unknown: the file will say
    # Before the file runs, someone pays the other worker's month elsewhere: that line fails.
    Client(AdvisingChannel(host, name="elsewhere"), journal=Journal()).pay(
        other.nik, months=1, reference="ELSE-2"
    )
    adapter = batch.adapter
    assert isinstance(adapter, BatchChannel)
    results = adapter.result_file()
    report = batch.apply_results(results)
    assert report.applied == ("CU-1",)
    assert report.declined == ("CU-2",)
    assert report.unmatched == ()
    assert batch.pay(NIK, months=1, reference="CU-1", quote=quote).host_reference  # a receipt
    with pytest.raises(HostDeclined):
        batch.pay(other.nik, months=1, reference="CU-2", quote=other_quote)
    assert sorted(payments(host)) == ["CU-1", "ELSE-2"]
    again = batch.apply_results(results)  # the same file read twice changes nothing
    assert again.unmatched == ("CU-1", "CU-2")
    assert (again.applied, again.declined) == ((), ())
    entry = batch.journal.get("direct-await-result", "pay", "CU-1")
    assert entry is not None
    assert [t.actor for t in batch.journal.history(entry.id)][-1] == "result-file"
