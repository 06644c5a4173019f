"""The channel contract as a pytest plugin: what every channel must do the same way, run against
yours through the sandbox's fake host.

Same quote and the same validation errors and refusals everywhere; inquiries priced by the same
rules; an idempotent payment; a lost answer resolved without paying twice; an unknown outcome
recovered; reversal or its typed refusal; status; registration with an OTP; coverage as the
host records it (or its typed refusal). A partner adding a channel subclasses
:class:`ChannelContract` and provides one fixture, ``jamsostek_channel``::

    from jamsostek_channels.testing.contract import ChannelContract, ContractChannel

    @pytest.fixture
    def jamsostek_channel() -> ContractChannel:
        return ContractChannel("mybank", payment_match="/mybank/pay")

    class TestMyBankContract(ChannelContract):
        pass

``ContractChannel.client`` builds the client against the sandbox; by default
``sandbox.client(name, **options)``. The fixtures (``jamsostek_channel``,
``jamsostek_contract_sandbox``) come with the package's ``pytest11`` plugin; override
``jamsostek_contract_sandbox`` when your fake gateway must be added to the sandbox by hand.
This module imports nothing heavy at load time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import pytest

if TYPE_CHECKING:
    from jamsostek_channels.client import Client
    from jamsostek_channels.testing.host import LedgerEntry
    from jamsostek_channels.testing.sandbox import Sandbox

__all__ = [
    "ChannelContract",
    "ClientFactory",
    "ContractChannel",
    "jamsostek_channel",
    "jamsostek_contract_sandbox",
    "worker_data",
]

#: The sandbox's seed: the demo participants every contract test picks from.
CONTRACT_SEED = 7


class ClientFactory(Protocol):
    """Builds a :class:`~jamsostek_channels.client.Client` for the channel against ``sandbox``
    (its fake host and faults); ``options`` go to the client (``status_polls``, ``sleep``)."""

    def __call__(self, sandbox: Sandbox, /, **options: Any) -> Client: ...


def _sandbox_client(name: str) -> ClientFactory:
    def build(sandbox: Sandbox, /, **options: Any) -> Client:
        client: Client = sandbox.client(name, **options)
        return client

    return build


@attrs.frozen
class ContractChannel:
    """The channel under contract: its ``name``, the fault ``match`` that hits its payment
    request on the wire (a path or a SOAP element, as ``Faults.inject`` matches), and how to
    build its client (default: ``sandbox.client(name)``)."""

    name: str
    payment_match: str
    client: ClientFactory | None = None

    def build(self, sandbox: Sandbox, **options: Any) -> Client:
        options.setdefault("sleep", lambda seconds: None)  # status polls never wait
        factory = self.client or _sandbox_client(self.name)
        return factory(sandbox, **options)


@pytest.fixture
def jamsostek_contract_sandbox() -> Iterator[Sandbox]:
    """The sandbox the contract runs against: in-process, seeded with demo participants."""
    from jamsostek_channels.testing.sandbox import Sandbox

    sandbox = Sandbox(seed=CONTRACT_SEED)
    sandbox.install()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def jamsostek_channel() -> ContractChannel:
    """The channel under contract: a partner's test module or conftest overrides this."""
    pytest.fail(
        "the channel contract needs a `jamsostek_channel` fixture returning "
        "ContractChannel(name, payment_match=...) (see docs/testing.md)"
    )


def worker_data(**changes: Any) -> dict[str, Any]:
    """A valid participant in canonical JSON (synthetic: a woman born 15 Aug 1995 in Kab.
    Bogor), ``changes`` applied: the contract's worker, and a partner's tests' too."""
    data: dict[str, Any] = {
        "nik": "3201015508950001",
        "name": "Siti Rahayu",
        "birth_date": "1995-08-15",
        "sex": "female",
        "phone": "0812-3456-7890",
        "email": "siti@contoh.id",
        "address": "Jl. Merdeka No. 10, Cibinong",
        "postal_code": "16911",
        "occupations": ["pedagang"],
        "income": 2_800_000,
        "programs": ["jkk", "jkm"],
    }
    data.update(changes)
    return data


def _payable(sandbox: Sandbox) -> list[str]:
    """The demo participants who can pay (the demo mix has a lapsed one)."""
    from jamsostek_channels.model import CoverageState

    return [
        p["nik"]
        for p in sandbox.demo_participants
        if sandbox.host.coverage(p["nik"]).state is not CoverageState.LAPSED
    ]


def _undoes_unanswered(client: Client) -> bool:
    """Whether the channel settles an unanswered payment by reversing it (the ``reverse``
    policy: the tills): then a lost answer ends in ``payment.reversed``, never in a receipt."""
    from jamsostek_channels.channel import Resolution

    return client.capabilities.resolution is Resolution.REVERSE


def _ledger(sandbox: Sandbox, kind: str = "payment") -> list[LedgerEntry]:
    return [e for e in sandbox.host.ledger() if e.kind == kind]


class ChannelContract:
    """The contract's tests; subclass it as ``Test...`` beside a ``jamsostek_channel`` fixture."""

    def test_same_quote_everywhere(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.pricing import quote
        from jamsostek_channels.validation import parse_participant

        client = jamsostek_channel.build(jamsostek_contract_sandbox)
        rules = jamsostek_contract_sandbox.host.rules  # the one rule set of host and clients
        worker = parse_participant(
            worker_data(occupations=["ojek-online"]), as_of=dt.date(2026, 11, 22), rules=rules
        )
        for months in (1, 3, 12):
            expected = quote(
                participant=worker,
                start="2026-11",
                months=months,
                allowed_months=range(1, 13),
                rules=rules,
            )
            assert client.quote(participant=worker, start="2026-11", months=months) == expected

    def test_inquiry_prices_by_the_same_rules(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.pricing import quote

        sandbox = jamsostek_contract_sandbox
        client = jamsostek_channel.build(sandbox)
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
                rules=sandbox.host.rules,
            ).total
            for bill in inquiry.bills
        ]
        assert [bill.amount for bill in inquiry.bills] == lines
        assert inquiry.amount == sum(lines)
        assert inquiry.admin_fee == client.capabilities.admin_fee.fee_for(inquiry.amount)
        assert "*" in inquiry.name_masked

    def test_same_validation_errors_everywhere(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.channel import Operation
        from jamsostek_channels.errors import InvalidInput
        from jamsostek_channels.validation import parse_participant

        sandbox = jamsostek_contract_sandbox
        client = jamsostek_channel.build(sandbox)
        with pytest.raises(InvalidInput) as bad_customer:
            client.pay("12345", months=1, reference="X-1")
        assert [(p.field, p.code) for p in bad_customer.value.problems] == [
            ("customer", "customer.format")
        ]
        too_old = parse_participant(
            worker_data(nik="3201011501600001", birth_date="1960-01-15", sex="male"),
            as_of=dt.date(2024, 1, 1),
            rules=sandbox.host.rules,
        )
        if Operation.REGISTER in client.capabilities.operations:
            with pytest.raises(InvalidInput) as old:
                client.register(too_old, reference="REG-OLD")
            assert [p.code for p in old.value.problems] == ["age.too_old"]
        assert sandbox.host.sms_outbox == []

    def test_same_refusals_before_anything_is_sent(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.channel import Operation
        from jamsostek_channels.errors import CapabilityRefused

        sandbox = jamsostek_contract_sandbox
        client = jamsostek_channel.build(sandbox)
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

    def test_pay_is_idempotent(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.channel import Operation, PaymentState
        from jamsostek_channels.errors import CapabilityRefused

        sandbox = jamsostek_contract_sandbox
        client = jamsostek_channel.build(sandbox)
        nik = _payable(sandbox)[1]
        first = client.pay(nik, months=1, reference="IDEM-1")
        again = client.pay(nik, months=1, reference="IDEM-1")
        assert again == first
        assert [e.reference for e in _ledger(sandbox)] == ["IDEM-1"]
        if Operation.STATUS not in client.capabilities.operations:  # an ISO 8583 till
            with pytest.raises(CapabilityRefused):
                client.status("IDEM-1")
            return
        status = client.status("IDEM-1")
        assert status.state is PaymentState.APPLIED
        assert status.host_reference == first.host_reference

    def test_lost_answer_is_resolved_without_paying_twice(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.journal import EntryState

        sandbox = jamsostek_contract_sandbox
        client = jamsostek_channel.build(sandbox)
        nik = _payable(sandbox)[2]
        sandbox.faults.inject("drop", match=jamsostek_channel.payment_match)
        if _undoes_unanswered(client):  # the reverse policy: undone, never applied twice
            from jamsostek_channels.errors import HostDeclined

            with pytest.raises(HostDeclined) as undone:
                client.pay(nik, months=1, reference="DROP-1")
            assert undone.value.code == "payment.reversed"
            assert [e.reference for e in _ledger(sandbox)] == ["DROP-1"]
            assert [e.reference for e in _ledger(sandbox, "reversal")] == ["DROP-1"]
            entry = client.journal.get(client.channel, "pay", "DROP-1")
            assert entry is not None
            assert entry.state is EntryState.REVERSED
            return
        receipt = client.pay(nik, months=1, reference="DROP-1")
        assert receipt.host_reference
        assert [e.reference for e in _ledger(sandbox)] == ["DROP-1"]
        entry = client.journal.get(client.channel, "pay", "DROP-1")
        assert entry is not None
        assert entry.state is EntryState.APPLIED

    def test_unknown_outcome_then_recover(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.channel import Resolution
        from jamsostek_channels.errors import OutcomeUnknown

        sandbox = jamsostek_contract_sandbox
        client = jamsostek_channel.build(sandbox, status_polls=2)
        nik = _payable(sandbox)[3]
        resolution = client.capabilities.resolution
        if resolution in (Resolution.ADVICE, Resolution.REVERSE):
            # the payment's answer and its advice's (or reversal's) are lost: still unknown
            sandbox.faults.inject("drop", match="UNK-1", times=2)
        else:
            sandbox.faults.inject("drop", match=jamsostek_channel.payment_match)
            sandbox.faults.inject("pending", match="UNK-1", times=2)
        with pytest.raises(OutcomeUnknown):
            client.pay(nik, months=1, reference="UNK-1")
        sandbox.host.advance(dt.timedelta(minutes=5))  # past an outbox's backoff
        report = client.recover()
        assert report.unresolved == 0
        if resolution is Resolution.REVERSE:
            assert report.reversed == ("UNK-1",)
            assert [e.reference for e in _ledger(sandbox, "reversal")] == ["UNK-1"]
            return
        assert report.applied == ("UNK-1",)
        client.pay(nik, months=1, reference="UNK-1")  # the receipt, from the journal
        assert [e.reference for e in _ledger(sandbox)] == ["UNK-1"]

    def test_reset_before_delivery_is_not_applied_and_can_be_sent_again(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.errors import HostDeclined, NotDelivered, OutcomeUnknown

        sandbox = jamsostek_contract_sandbox
        client = jamsostek_channel.build(sandbox)
        nik = _payable(sandbox)[0]
        sandbox.faults.inject("reset", match=jamsostek_channel.payment_match)
        if _undoes_unanswered(client):  # the reverse policy undoes it: nothing stands
            with pytest.raises(HostDeclined) as undone:
                client.pay(nik, months=1, reference="RST-1")
            assert undone.value.code == "payment.reversed"
            assert _ledger(sandbox) == []
            client.pay(nik, months=1, reference="RST-2")
            assert [e.reference for e in _ledger(sandbox)] == ["RST-2"]
            return
        # A reset before the request left is surely undelivered (NotDelivered: send again at
        # once); one after it left is an unknown outcome, and "not found" proves nothing until
        # the channel's settle window has passed. Either way exactly one payment results.
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

    def test_reversal_or_its_refusal(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.channel import Operation, PaymentState, ReversalState
        from jamsostek_channels.errors import CapabilityRefused

        sandbox = jamsostek_contract_sandbox
        client = jamsostek_channel.build(sandbox)
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
        if Operation.STATUS in client.capabilities.operations:
            assert client.status("REV-1").state is PaymentState.REVERSED

    def test_registration_with_otp(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.channel import Operation
        from jamsostek_channels.model import Payer
        from jamsostek_channels.validation import parse_participant

        sandbox = jamsostek_contract_sandbox
        client = jamsostek_channel.build(sandbox)
        if Operation.REGISTER not in client.capabilities.operations:
            pytest.skip("channel does not register")
        worker = parse_participant(
            worker_data(), as_of=sandbox.host.today(), rules=sandbox.host.rules
        )
        challenge = client.register(
            worker, reference=f"REG-{jamsostek_channel.name}", payer=Payer("sertakan", name="Budi")
        )
        registration = client.confirm_registration(challenge, sandbox.host.last_otp(worker.phone))
        assert registration.kpj
        assert registration.nik_masked == "3201********0001"
        inquiry = client.inquire(registration.kpj, months=1)
        assert inquiry.kpj == registration.kpj

    def test_coverage_as_the_host_records_it(
        self, jamsostek_contract_sandbox: Sandbox, jamsostek_channel: ContractChannel
    ) -> None:
        from jamsostek_channels.channel import Operation
        from jamsostek_channels.errors import CapabilityRefused

        sandbox = jamsostek_contract_sandbox
        client = jamsostek_channel.build(sandbox)
        people = [p["nik"] for p in sandbox.demo_participants]
        if Operation.HISTORY not in client.capabilities.operations:
            with pytest.raises(CapabilityRefused) as refused:
                client.coverage(people[0])
            assert refused.value.code == "capability.coverage"
            return
        for nik in people:
            expected = sandbox.host.coverage(nik)
            held = sandbox.host.participant(nik)
            assert held is not None
            assert client.coverage(nik, registered=held.registered) == expected
            if expected.paid_through is None:  # nothing paid: the channel cannot tell alone
                with pytest.raises(CapabilityRefused) as unknown:
                    client.coverage(nik)
                assert unknown.value.code == "coverage.unknown"
                continue
            # The demo participants paid from their first month on, so the first month paid
            # stands in for the registration month exactly.
            assert client.coverage(nik) == expected
        # A payment made through the channel shows at once.
        nik = next(n for n in _payable(sandbox) if sandbox.host.coverage(n).payable)
        held = sandbox.host.participant(nik)
        assert held is not None
        before = client.coverage(nik, registered=held.registered)
        receipt = client.pay(nik, months=1, reference="COV-1")
        after = client.coverage(nik, registered=held.registered)
        assert after.paid_through == receipt.periods[-1]
        assert after.payable == before.payable[1:]
        assert after == sandbox.host.coverage(nik)
