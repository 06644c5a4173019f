"""The client, end to end against the fake host through the in-process HostAdapter: capability
checks before anything is sent, journaled payments applied exactly once, unknown outcomes
resolved by status (in-line, by ``status()`` and by ``recover()`` after a crash), reversals
through the store-and-forward outbox, registration with OTP, and no full NIK anywhere."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import TODAY, participant_data

import jamsostek_channels.rules as rules_package
from jamsostek_channels import parse_participant
from jamsostek_channels.channel import (
    Adapter,
    AutoDebitMandate,
    Capabilities,
    CustomerId,
    FeeSchedule,
    HistoryEntry,
    Inquiry,
    InquiryRequest,
    MandateCancellation,
    MandateRequest,
    Operation,
    OtpChallenge,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    RegistrationRequest,
    ReversalRequest,
    ReversalResult,
    ReversalState,
    SettlementState,
)
from jamsostek_channels.client import Client
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.converters import unstructure
from jamsostek_channels.errors import (
    CapabilityRefused,
    HostDeclined,
    InvalidInput,
    JamsostekError,
    NotDelivered,
    OutcomeUnknown,
    ReferenceConflict,
)
from jamsostek_channels.journal import EntryState, Journal, OutboxState
from jamsostek_channels.model import CoverageState, Participant, Payer, PayerKind, Program
from jamsostek_channels.period import YearMonth, month_range
from jamsostek_channels.receipts import render_text
from jamsostek_channels.rules import RuleSet, load_rules
from jamsostek_channels.testing.direct import DEFAULT_CAPABILITIES, HostAdapter
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.sandbox import Sandbox
from jamsostek_channels.testing.wire import FaultKind, Faults

#: 10:00 WIB on the suite's "today" (Sunday 22 Nov 2026).
NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=JAKARTA)
JUN, SEP, OCT, NOV, DEC = (YearMonth(2026, m) for m in (6, 9, 10, 11, 12))
NIK = "3201015508950001"
MASKED = "3201********0001"
#: One month of JKK+JKM at Rp2.8m declared income, with the PP 50/2025 cut (Apr-Dec 2026).
ONE_MONTH = 18_150
FEES = FeeSchedule(flat=2_500, tiers=((50_000, 1_500),))
APBD = Payer(PayerKind.APBD, name="Pemkab Bogor")


class Clock:
    """The time the client, its journal and the host read; tests move it by hand."""

    def __init__(self, start: dt.datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


class Recording(HostAdapter):
    """A HostAdapter that counts what reached the channel (faulted calls included) and can run
    a hook just before a payment is sent."""

    def __init__(self, host: FakeHost, **options: Any) -> None:
        super().__init__(host, **options)
        self.calls: Counter[str] = Counter()
        self.payments: list[PaymentRequest] = []
        self.reversal_repeats: list[bool] = []
        self.before_pay: Callable[[PaymentRequest], None] | None = None

    def request_registration(self, request: RegistrationRequest) -> OtpChallenge:
        self.calls["register"] += 1
        return super().request_registration(request)

    def inquire(self, request: InquiryRequest) -> Inquiry:
        self.calls["inquire"] += 1
        return super().inquire(request)

    def pay(self, request: PaymentRequest) -> PaymentResult:
        self.calls["pay"] += 1
        self.payments.append(request)
        if self.before_pay is not None:
            self.before_pay(request)
        return super().pay(request)

    def payment_status(self, request: PaymentRequest) -> PaymentResult:
        self.calls["status"] += 1
        return super().payment_status(request)

    def reverse(self, request: ReversalRequest) -> ReversalResult:
        self.calls["reverse"] += 1
        self.reversal_repeats.append(request.repeat)
        return super().reverse(request)

    def history(self, customer: CustomerId) -> tuple[HistoryEntry, ...]:
        self.calls["history"] += 1
        return super().history(customer)

    def enrol_autodebit(self, request: MandateRequest) -> AutoDebitMandate:
        self.calls["autodebit"] += 1
        return super().enrol_autodebit(request)

    def cancel_autodebit(self, request: MandateCancellation) -> AutoDebitMandate:
        self.calls["autodebit-cancel"] += 1
        return super().cancel_autodebit(request)


def person(serial: int = 1, **changes: Any) -> Participant:
    """The conftest participant (a woman born 15 Aug 1995, a trader) with another NIK serial."""
    return parse_participant(
        participant_data(nik=f"320101550895{serial:04d}", **changes), as_of=TODAY
    )


def seed(host: FakeHost, serial: int = 1, *, paid_through: YearMonth = SEP) -> Participant:
    """Registered in June 2026 and paid through ``paid_through``: October and November are owed."""
    participant = person(serial)
    host.seed(participant, registered=JUN, paid=month_range(JUN, paid_through - JUN + 1))
    return participant


def payments(host: FakeHost) -> list[str]:
    return [e.reference for e in host.ledger() if e.kind == "payment"]


def reversals(host: FakeHost) -> list[str]:
    return [e.reference for e in host.ledger() if e.kind == "reversal"]


def problem_codes(error: InvalidInput) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in error.problems]


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def journal(clock: Clock) -> Iterator[Journal]:
    with Journal(":memory:", clock=clock) as opened:
        yield opened


Make = Callable[..., tuple[Client, Recording]]


@pytest.fixture
def make(
    host: FakeHost, faults: Faults, journal: Journal, clock: Clock, sleeps: list[float]
) -> Make:
    """A client over a Recording adapter; keywords go to Capabilities (``caps=`` replaces them)
    or, prefixed ``client_``, to the Client."""

    def build(
        *,
        caps: Capabilities | None = None,
        journal_: Journal | str | Path | None = None,
        **options: Any,
    ) -> tuple[Client, Recording]:
        client_options = {k[7:]: v for k, v in options.items() if k.startswith("client_")}
        cap_options = {k: v for k, v in options.items() if not k.startswith("client_")}
        capabilities = caps or attrs.evolve(DEFAULT_CAPABILITIES, admin_fee=FEES, **cap_options)
        adapter = Recording(host, capabilities=capabilities, faults=faults)
        client = Client(
            adapter,
            journal=journal if journal_ is None else journal_,
            clock=clock,
            sleep=sleeps.append,
            **client_options,
        )
        return client, adapter

    return build


@pytest.fixture
def client(make: Make) -> Client:
    return make()[0]


@pytest.fixture
def adapter(client: Client) -> Recording:
    assert isinstance(client.adapter, Recording)
    return client.adapter


# The adapter itself -------------------------------------------------------------------------------


def test_host_adapter_is_an_adapter_with_default_capabilities(host: FakeHost) -> None:
    adapter = HostAdapter(host)
    assert isinstance(adapter, Adapter)
    assert adapter.name == "direct"
    caps = adapter.capabilities
    assert caps.operations == frozenset(Operation)
    assert caps.month_counts == tuple(range(1, 13))
    assert caps.admin_fee == FeeSchedule()
    assert caps.receipt_width == 40
    assert NIK not in repr(adapter)


def test_host_adapter_uses_its_name_as_the_channel(host: FakeHost, journal: Journal) -> None:
    client = Client(HostAdapter(host, name="pos-test"), journal=journal, sleep=lambda _: None)
    client.pay(NIK, months=1, reference="NAME-1")
    assert host.applied_references("pos-test") == {"NAME-1"}
    assert journal.get("pos-test", "pay", "NAME-1") is not None


def test_faults_on_calls_without_money(host: FakeHost, faults: Faults) -> None:
    adapter = HostAdapter(host, faults=faults)
    customer = CustomerId.nik(NIK)
    faults.inject(FaultKind.ERROR, match="/direct/inquire", status=503)
    with pytest.raises(HostDeclined) as declined:
        adapter.inquire(InquiryRequest(customer, 1, None))
    assert (declined.value.code, declined.value.host_code) == ("host.error", "503")
    faults.inject(FaultKind.RESET, match="/direct/history")
    with pytest.raises(NotDelivered, match=r"transport\.not_delivered.*reset"):
        adapter.history(customer)
    faults.inject(FaultKind.DROP, match="/direct/settlement")
    with pytest.raises(OutcomeUnknown):
        adapter.settlement(TODAY)
    # every fault was used once and is gone
    assert faults.describe() == []
    assert adapter.inquire(InquiryRequest(customer, 1, None)).amount == ONE_MONTH
    assert [kind for kind, _ in faults.history] == [
        FaultKind.ERROR,
        FaultKind.RESET,
        FaultKind.DROP,
    ]


def test_a_fault_can_target_one_reference(host: FakeHost, faults: Faults) -> None:
    seed(host, 2)
    adapter = HostAdapter(host, faults=faults)
    faults.inject(FaultKind.RESET, match="REF-B")

    def request(serial: int, reference: str) -> PaymentRequest:
        customer = CustomerId.nik(f"320101550895{serial:04d}")
        inquiry = adapter.inquire(InquiryRequest(customer, 1, None))
        return PaymentRequest(
            reference, customer, (OCT,), inquiry.amount, 0, Payer.self_paid(), None, NOW
        )

    assert adapter.pay(request(1, "REF-A")).state is PaymentState.APPLIED
    with pytest.raises(NotDelivered):
        adapter.pay(request(2, "REF-B"))
    assert payments(host) == ["REF-A"]


def test_pending_fault_answers_status_without_the_host(host: FakeHost, faults: Faults) -> None:
    adapter = HostAdapter(host, faults=faults)
    request = PaymentRequest(
        "P-1", CustomerId.nik(NIK), (OCT,), ONE_MONTH, 0, Payer.self_paid(), None, NOW
    )
    faults.inject(FaultKind.PENDING, match="P-1", times=2)
    assert adapter.payment_status(request).state is PaymentState.PENDING
    assert adapter.payment_status(request).state is PaymentState.PENDING
    assert adapter.payment_status(request).state is PaymentState.NOT_FOUND


def test_a_5xx_on_a_money_moving_call_is_an_unknown_outcome(host: FakeHost, faults: Faults) -> None:
    adapter = HostAdapter(host, faults=faults)
    request = PaymentRequest(
        "P-1", CustomerId.nik(NIK), (OCT,), ONE_MONTH, 0, Payer.self_paid(), None, NOW
    )
    faults.inject(FaultKind.ERROR, match="/direct/pay")
    with pytest.raises(OutcomeUnknown, match="P-1"):
        adapter.pay(request)
    assert payments(host) == []  # a 5xx instead of processing: the host never saw it
    faults.inject(FaultKind.DELAY, match="/direct/pay")
    with pytest.raises(OutcomeUnknown):
        adapter.pay(request)
    assert payments(host) == ["P-1"]  # a late answer: the host did apply it


def test_closing_the_client_closes_the_adapter(host: FakeHost, journal: Journal) -> None:
    adapter = HostAdapter(host)
    with Client(adapter, journal=journal):
        assert not adapter.closed
    assert adapter.closed


# A payment, walked --------------------------------------------------------------------------------


def test_pay_returns_a_receipt(client: Client, adapter: Recording, host: FakeHost) -> None:
    inquiry = client.inquire(NIK, 1)
    receipt = client.pay(NIK, months=1, reference="POS-0001")

    assert receipt.channel == "direct"
    assert receipt.channel_reference == "POS-0001"
    assert receipt.nik_masked == MASKED
    assert receipt.name == "S*** R***"
    assert receipt.programs == (Program.JKK, Program.JKM)
    assert receipt.periods == (OCT,)
    assert receipt.amount == inquiry.amount == ONE_MONTH
    assert receipt.admin_fee == 1_500  # the first tier of the channel's fee schedule
    assert receipt.total == ONE_MONTH + 1_500
    assert receipt.paid_at == NOW
    (entry,) = host.ledger()
    assert (entry.kind, entry.channel, entry.reference) == ("payment", "direct", "POS-0001")
    assert receipt.host_reference == entry.host_reference
    assert entry.amount == ONE_MONTH
    assert adapter.calls["pay"] == 1
    assert adapter.payments[0].repeat is False

    text = render_text(receipt, client.capabilities.receipt_width)
    assert MASKED in text
    assert NIK not in text
    assert "POS-0001" in text
    assert entry.host_reference in text
    assert all(len(line) <= 40 for line in text.splitlines())
    assert "Rp19.650" in text  # the total


def test_pay_several_months_takes_the_oldest_first(client: Client, host: FakeHost) -> None:
    receipt = client.pay(NIK, months=3, reference="POS-0003")
    assert receipt.periods == (OCT, NOV, DEC)
    assert receipt.amount == 3 * ONE_MONTH
    assert receipt.admin_fee == 2_500  # above the tier: the flat fee
    assert host.coverage(NIK).paid_through == DEC
    assert payments(host) == ["POS-0003"]


def test_the_intent_is_journaled_before_sending(
    client: Client, adapter: Recording, journal: Journal
) -> None:
    seen: list[tuple[EntryState, int]] = []

    def check(request: PaymentRequest) -> None:
        entry = journal.get("direct", "pay", request.reference)
        assert entry is not None
        seen.append((entry.state, entry.attempts))

    adapter.before_pay = check
    client.pay(NIK, months=1, reference="POS-0001")
    assert seen == [(EntryState.PENDING, 1)]
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.APPLIED
    assert entry.attempts == 1


def test_pay_by_kpj(client: Client, host: FakeHost) -> None:
    kpj = host.participant(NIK).kpj  # type: ignore[union-attr]
    receipt = client.pay(kpj, months=1, reference="KPJ-1")
    assert receipt.nik_masked == "*" * 7 + kpj[-4:]  # what the channel identified them by
    assert payments(host) == ["KPJ-1"]


@pytest.mark.parametrize("reference", ["", "with space", "x" * 65, "é-1", "a/b"])
def test_a_bad_reference_is_refused_before_anything_is_sent(
    client: Client, adapter: Recording, reference: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        client.pay(NIK, months=1, reference=reference)
    assert problem_codes(error.value) == [("reference", "field.type")]
    assert adapter.calls == Counter()


# Idempotency -------------------------------------------------------------------------------------


def test_paying_twice_with_one_reference_pays_once(
    client: Client, adapter: Recording, host: FakeHost
) -> None:
    first = client.pay(NIK, months=1, reference="POS-0001")
    again = client.pay("3201-0155-0895-0001", months=1, reference="POS-0001")
    assert again == first
    assert payments(host) == ["POS-0001"]
    assert adapter.calls == Counter(inquire=1, pay=1)  # the second call asked nobody


def test_one_reference_from_two_threads_pays_once(
    client: Client, adapter: Recording, host: FakeHost
) -> None:
    # Both threads get past the journal lookup before either journals its intent: the race the
    # journal's unique (channel, operation, reference) settles.
    both_inquired = threading.Barrier(2, timeout=10)
    original = adapter.inquire

    def inquire(request: InquiryRequest) -> Inquiry:
        inquiry = original(request)
        both_inquired.wait()
        return inquiry

    adapter.inquire = inquire  # type: ignore[method-assign]
    results: list[object] = []

    def pay() -> None:
        try:
            results.append(client.pay(NIK, months=1, reference="RACE-1"))
        except Exception as error:  # pragma: no cover - reported by the assertion below
            results.append(error)

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 2
    assert results[0] == results[1]
    assert payments(host) == ["RACE-1"]
    # The loser may find the winner's entry mid-send (PENDING), ask the status before the
    # winner's request has arrived (NOT_FOUND) and send the journaled request again as a
    # repeat: the host's idempotency on the reference keeps it to one payment.
    assert sorted(p.repeat for p in adapter.payments) in ([False], [False, True])
    assert all(p == attrs.evolve(adapter.payments[0], repeat=p.repeat) for p in adapter.payments)


def test_one_reference_from_two_processes_pays_once(
    make: Make, host: FakeHost, tmp_path: Path
) -> None:
    """Two clients, each with its own journal connection on one file (as two processes)."""
    path = tmp_path / "journal.sqlite"
    both_inquired = threading.Barrier(2, timeout=10)
    clients = [make(journal_=Journal(path))[0] for _ in range(2)]
    for each in clients:
        original = each.adapter.inquire

        def inquire(
            request: InquiryRequest, original: Callable[..., Inquiry] = original
        ) -> Inquiry:
            inquiry = original(request)
            both_inquired.wait()
            return inquiry

        each.adapter.inquire = inquire  # type: ignore[method-assign]
    results: list[object] = []
    threads = [
        threading.Thread(
            target=lambda c=each: results.append(c.pay(NIK, months=1, reference="RACE-2"))
        )
        for each in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 2
    assert results[0] == results[1]
    assert payments(host) == ["RACE-2"]
    for each in clients:
        each.close()


def test_many_threads_one_reference(client: Client, host: FakeHost) -> None:
    receipts: list[object] = []
    threads = [
        threading.Thread(
            target=lambda: receipts.append(client.pay(NIK, months=1, reference="MANY-1"))
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(receipts) == 8
    assert len(set(map(repr, receipts))) == 1
    assert payments(host) == ["MANY-1"]


@pytest.mark.parametrize(
    "change",
    [
        {"months": 3},
        {"customer": "3201015508950002"},
        {"payer": Payer(PayerKind.SERTAKAN, name="Budi")},
    ],
    ids=["other-months", "other-customer", "other-payer"],
)
def test_one_reference_for_another_payment_is_a_conflict(
    client: Client, adapter: Recording, host: FakeHost, change: dict[str, Any]
) -> None:
    """A reference names one payment: reusing it for another one is refused, never answered
    with the first payment's receipt (an agent would hand it to the wrong customer)."""
    seed(host, 2)
    client.pay(NIK, months=1, reference="POS-0001")
    arguments: dict[str, Any] = {"customer": NIK, "months": 1} | change
    customer = arguments.pop("customer")
    with pytest.raises(InvalidInput) as error:
        client.pay(customer, reference="POS-0001", **arguments)
    assert problem_codes(error.value) == [("reference", "journal.conflict")]
    assert adapter.calls == Counter(inquire=1, pay=1)
    assert payments(host) == ["POS-0001"]


# Capability refusals: nothing is sent ------------------------------------------------------------


def test_an_operation_the_channel_does_not_offer(make: Make, host: FakeHost) -> None:
    client, adapter = make(operations=frozenset({Operation.INQUIRE}))
    with pytest.raises(CapabilityRefused) as error:
        client.pay(NIK, months=1, reference="POS-0001")
    assert error.value.code == "capability.operation"
    assert "pay" in error.value.message_en
    assert adapter.calls == Counter()
    assert client.journal.entries() == []
    for call in (
        lambda: client.reverse("POS-0001"),
        lambda: client.status("POS-0001"),
        lambda: client.history(NIK),
        lambda: client.settlement(TODAY),
        lambda: client.enrol_autodebit(NIK, months=1, reference="AD-1"),
        lambda: client.cancel_autodebit("MD00000001", reference="ADC-1"),
        lambda: client.register(person(3), reference="REG-1"),
        lambda: client.quote(start=NOV, months=1, participant=person()),
    ):
        with pytest.raises(CapabilityRefused, match=r"capability\.operation"):
            call()
    assert adapter.calls == Counter()
    assert host.ledger() == ()


def test_a_customer_id_kind_the_channel_does_not_take(make: Make, host: FakeHost) -> None:
    client, adapter = make(customer_ids=frozenset({CustomerId.nik(NIK).kind}))
    kpj = host.participant(NIK).kpj  # type: ignore[union-attr]
    with pytest.raises(CapabilityRefused) as error:
        client.pay(kpj, months=1, reference="POS-0001")
    assert error.value.code == "capability.customer_id"
    with pytest.raises(CapabilityRefused):
        client.inquire(kpj)
    assert adapter.calls == Counter()


def test_a_month_count_the_channel_does_not_take(make: Make) -> None:
    client, adapter = make(month_counts=(1, 3, 6, 12))
    with pytest.raises(CapabilityRefused) as error:
        client.pay(NIK, months=2, reference="POS-0001")
    assert (error.value.code, error.value.field) == ("capability.months", "months")
    assert "1, 3, 6, 12" in error.value.message_en
    for months in (0, 13, True):
        with pytest.raises(InvalidInput) as invalid:
            client.pay(NIK, months=months, reference="POS-0001")
        assert [p.field for p in invalid.value.problems] == ["months"]
    assert adapter.calls == Counter()
    assert client.journal.entries() == []


def test_an_amount_over_the_channel_limit(make: Make, host: FakeHost) -> None:
    client, adapter = make(max_amount=50_000)
    with pytest.raises(CapabilityRefused) as error:
        client.pay(NIK, months=3, reference="POS-0001")  # Rp54.450
    assert error.value.code == "capability.amount_max_months"
    assert "Rp50.000" in error.value.message_en
    assert error.value.params["fits"] == 2  # Rp36.300: the largest count that fits
    assert adapter.calls == Counter(inquire=1)  # the amount comes from the inquiry
    assert client.journal.entries() == []
    assert host.ledger() == ()
    assert client.pay(NIK, months=2, reference="POS-0002").amount == 2 * ONE_MONTH


def test_an_amount_under_the_channel_minimum(make: Make, host: FakeHost) -> None:
    client, adapter = make(min_amount=20_000)
    with pytest.raises(CapabilityRefused, match=r"capability\.amount_min") as error:
        client.pay(NIK, months=1, reference="POS-0001")
    assert error.value.code == "capability.amount_min_months"
    assert error.value.params["fits"] == 2  # Rp36.300: the smallest count reaching Rp20.000
    # the second inquiry prices the larger counts (no money moves) to name one
    assert adapter.calls == Counter(inquire=2)
    assert client.journal.entries() == []
    assert host.ledger() == ()


def test_an_agent_id_when_the_channel_needs_one(make: Make, host: FakeHost) -> None:
    client, adapter = make(agent_id_required=True)
    with pytest.raises(CapabilityRefused, match=r"capability\.agent_required"):
        client.pay(NIK, months=1, reference="POS-0001")
    with pytest.raises(CapabilityRefused, match=r"capability\.agent_required"):
        client.inquire(NIK)
    assert adapter.calls == Counter()

    client, adapter = make(agent_id_required=True, client_agent_id="AGEN-007")
    client.pay(NIK, months=1, reference="POS-0001")
    assert adapter.payments[0].agent_id == "AGEN-007"
    assert payments(host) == ["POS-0001"]


# Lost answers: resolved by status ---------------------------------------------------------------


@pytest.mark.parametrize("kind", [FaultKind.DROP, FaultKind.DELAY])
def test_a_lost_answer_is_resolved_in_line(
    client: Client,
    adapter: Recording,
    host: FakeHost,
    faults: Faults,
    journal: Journal,
    kind: FaultKind,
) -> None:
    faults.inject(kind, match="/direct/pay")
    receipt = client.pay(NIK, months=1, reference="POS-0001")
    assert receipt.periods == (OCT,)
    assert receipt.host_reference == host.ledger()[0].host_reference
    assert payments(host) == ["POS-0001"]
    assert adapter.calls == Counter(inquire=1, pay=1, status=1)
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.APPLIED


def test_still_pending_after_the_polls_is_an_unknown_outcome(
    make: Make, host: FakeHost, faults: Faults, journal: Journal, sleeps: list[float]
) -> None:
    client, adapter = make(client_status_polls=3, client_poll_interval=0.25)
    faults.inject(FaultKind.DROP, match="/direct/pay")
    faults.inject(FaultKind.PENDING, match="POS-0001", times=3)
    with pytest.raises(OutcomeUnknown) as error:
        client.pay(NIK, months=1, reference="POS-0001")
    assert error.value.code == "outcome.unknown"
    assert "POS-0001" in error.value.message_en
    assert sleeps == [0.25, 0.25]  # between the three polls, through the given sleep
    assert adapter.calls["status"] == 3
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN
    assert payments(host) == ["POS-0001"]  # it was applied all along

    report = client.recover()
    assert report.applied == ("POS-0001",)
    assert report.unresolved == 0
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.APPLIED

    receipt = client.pay(NIK, months=1, reference="POS-0001")
    assert receipt.host_reference == host.ledger()[0].host_reference
    assert payments(host) == ["POS-0001"]
    assert adapter.calls["pay"] == 1


def test_paying_again_resolves_an_unknown_payment_first(
    client: Client, adapter: Recording, host: FakeHost, faults: Faults
) -> None:
    faults.inject(FaultKind.DROP, match="/direct/pay")
    faults.inject(FaultKind.PENDING, match="POS-0001", times=3)
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="POS-0001")
    receipt = client.pay(NIK, months=1, reference="POS-0001")
    assert receipt.periods == (OCT,)
    assert adapter.calls["pay"] == 1
    assert payments(host) == ["POS-0001"]


def test_status_updates_an_unknown_entry(
    client: Client, host: FakeHost, faults: Faults, journal: Journal
) -> None:
    faults.inject(FaultKind.DROP, match="/direct/pay")
    faults.inject(FaultKind.PENDING, match="POS-0001", times=3)
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="POS-0001")
    result = client.status("POS-0001")
    assert result.state is PaymentState.APPLIED
    assert result.host_reference == host.ledger()[0].host_reference
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.APPLIED
    assert client.recover().applied == ()  # nothing left to resolve


def test_status_of_a_reference_never_used(client: Client, adapter: Recording) -> None:
    with pytest.raises(InvalidInput) as error:
        client.status("NOPE-1")
    assert problem_codes(error.value) == [("reference", "host.not_found")]
    assert adapter.calls == Counter()


def test_an_unreadable_status_leaves_the_outcome_unknown(
    client: Client, adapter: Recording, host: FakeHost, faults: Faults, journal: Journal
) -> None:
    """The status service failing (a 5xx, which reads as "host.error") says nothing about the
    payment: the caller must hear "unknown", never a decline."""
    faults.inject(FaultKind.DROP, match="/direct/pay")
    faults.inject(FaultKind.ERROR, match="/direct/status", times=3)
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="POS-0001")
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN
    faults.inject(FaultKind.RESET, match="/direct/status")
    report = client.recover()
    assert report.still_unknown == ("POS-0001",)
    assert client.recover().applied == ("POS-0001",)
    assert payments(host) == ["POS-0001"]


# Not delivered, not applied: safe to send again ---------------------------------------------------


def test_a_reset_is_not_delivered_and_paying_again_sends_a_repeat(
    client: Client, adapter: Recording, host: FakeHost, faults: Faults, journal: Journal
) -> None:
    faults.inject(FaultKind.RESET, match="/direct/pay")
    with pytest.raises(NotDelivered) as error:
        client.pay(NIK, months=1, reference="POS-0001")
    assert error.value.code == "transport.not_delivered"
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert (entry.state, entry.attempts) == (EntryState.NOT_APPLIED, 1)
    assert host.ledger() == ()

    receipt = client.pay(NIK, months=1, reference="POS-0001")
    assert receipt.periods == (OCT,)
    assert [p.repeat for p in adapter.payments] == [False, True]
    assert adapter.payments[1] == attrs.evolve(adapter.payments[0], repeat=True)
    assert adapter.calls["inquire"] == 1  # the journaled request is sent again as it was
    assert payments(host) == ["POS-0001"]
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert (entry.state, entry.attempts) == (EntryState.APPLIED, 2)
    assert client.pay(NIK, months=1, reference="POS-0001") == receipt
    assert adapter.calls["pay"] == 2


def test_a_5xx_on_pay_is_unknown_until_the_settle_window_has_passed(
    client: Client,
    adapter: Recording,
    host: FakeHost,
    faults: Faults,
    journal: Journal,
    clock: Clock,
) -> None:
    faults.inject(FaultKind.ERROR, match="/direct/pay")
    with pytest.raises(OutcomeUnknown):  # "not found" right after a lost answer proves nothing
        client.pay(NIK, months=1, reference="POS-0001")
    assert adapter.calls == Counter(inquire=1, pay=1, status=3)
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN
    assert host.ledger() == ()
    clock.advance(seconds=359)  # inside the window: still no proof, and never a second send
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="POS-0001")
    assert adapter.calls["pay"] == 1

    clock.advance(seconds=2)  # past it: "not found" is final, and the payment goes again
    receipt = client.pay(NIK, months=1, reference="POS-0001")
    assert receipt.periods == (OCT,)
    assert [p.repeat for p in adapter.payments] == [False, True]
    assert payments(host) == ["POS-0001"]


def test_a_host_that_keeps_failing_is_not_hammered(
    client: Client, adapter: Recording, host: FakeHost, faults: Faults, clock: Clock
) -> None:
    """Each call sends the payment at most once, however often status says "not applied"."""
    faults.inject(FaultKind.ERROR, match="/direct/pay", times=1_000)
    for _ in range(3):
        with pytest.raises(OutcomeUnknown):
            client.pay(NIK, months=1, reference="POS-0001")
        clock.advance(seconds=361)  # each time past the settle window
    assert adapter.calls["pay"] == 3
    assert host.ledger() == ()
    faults.clear()
    assert client.pay(NIK, months=1, reference="POS-0001").periods == (OCT,)
    assert payments(host) == ["POS-0001"]


# Declines --------------------------------------------------------------------------------------


def test_a_decline_is_journaled_and_answered_from_the_journal(
    client: Client, adapter: Recording, host: FakeHost, journal: Journal
) -> None:
    # Between the inquiry and the payment, October is paid at another counter.
    def paid_elsewhere(request: PaymentRequest) -> None:
        host.pay("other-counter", attrs.evolve(request, reference="ELSEWHERE-1"))

    adapter.before_pay = paid_elsewhere
    with pytest.raises(HostDeclined) as first:
        client.pay(NIK, months=1, reference="POS-0001")
    assert (first.value.code, first.value.host_code) == ("host.bill_paid", "host.bill_paid")
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.DECLINED

    adapter.before_pay = None
    with pytest.raises(HostDeclined) as again:
        client.pay(NIK, months=1, reference="POS-0001")
    assert (again.value.code, again.value.host_code) == (first.value.code, first.value.host_code)
    assert adapter.calls == Counter(inquire=1, pay=1)
    assert payments(host) == ["ELSEWHERE-1"]
    assert client.reverse("POS-0001").state is ReversalState.NOT_FOUND
    assert adapter.calls["reverse"] == 0


@pytest.mark.parametrize(
    ("customer", "code"),
    [("3201015508950003", "host.lapsed"), ("99999999999", "host.customer_not_found")],
    ids=["lapsed", "kpj-not-found"],
)
def test_a_decline_at_the_inquiry_journals_nothing(
    client: Client, adapter: Recording, host: FakeHost, customer: str, code: str
) -> None:
    lapsed = person(3)
    host.seed(lapsed, registered="2026-01", paid=["2026-01", "2026-02"])
    assert host.coverage(lapsed.nik).state is CoverageState.LAPSED
    with pytest.raises(HostDeclined) as error:
        client.pay(customer, months=1, reference="POS-0001")
    assert error.value.code == code
    assert adapter.calls == Counter(inquire=1)  # no payment was sent, so none is journaled
    assert client.journal.entries() == []
    assert host.ledger() == ()


def test_a_regional_government_pays_the_full_price(client: Client, host: FakeHost) -> None:
    receipt = client.pay(NIK, months=1, reference="APBD-1", payer=APBD)
    assert receipt.amount == 2 * ONE_MONTH  # no 50% cut when paid from APBD


# Reversals (store and forward) ----------------------------------------------------------------


def test_reverse_an_applied_payment(
    client: Client, adapter: Recording, host: FakeHost, journal: Journal
) -> None:
    client.pay(NIK, months=1, reference="POS-0001")
    result = client.reverse("POS-0001")
    assert result == ReversalResult("POS-0001", ReversalState.REVERSED)
    assert reversals(host) == ["POS-0001"]
    assert host.coverage(NIK).paid_through == SEP
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.REVERSED
    item = journal.outbox_item("direct", "reversal", "POS-0001")
    assert item is not None
    assert (item.state, item.attempts) == (OutboxState.ACCEPTED, 1)

    assert client.reverse("POS-0001").state is ReversalState.REVERSED
    assert adapter.calls["reverse"] == 1
    assert reversals(host) == ["POS-0001"]
    (record,) = client.settlement(TODAY)
    assert record.state is SettlementState.REVERSED


def test_paying_a_reversed_reference_again_is_refused_without_sending(
    client: Client, adapter: Recording, host: FakeHost
) -> None:
    client.pay(NIK, months=1, reference="POS-0001")
    client.reverse("POS-0001")
    with pytest.raises(HostDeclined) as error:
        client.pay(NIK, months=1, reference="POS-0001")
    assert error.value.code == "payment.reversed"
    assert adapter.calls["pay"] == 1
    assert payments(host) == ["POS-0001"]


@pytest.mark.parametrize("kind", [FaultKind.RESET, FaultKind.ERROR, FaultKind.DROP])
def test_a_reversal_that_cannot_be_confirmed_is_queued_and_flushed(
    client: Client,
    adapter: Recording,
    host: FakeHost,
    faults: Faults,
    journal: Journal,
    kind: FaultKind,
) -> None:
    client.pay(NIK, months=1, reference="POS-0001")
    faults.inject(kind, match="/direct/reverse")
    assert client.reverse("POS-0001").state is ReversalState.QUEUED
    item = journal.outbox_item("direct", "reversal", "POS-0001")
    assert item is not None
    assert (item.state, item.attempts) == (OutboxState.PENDING, 1)
    assert item.last_error in ("transport.not_delivered", "outcome.unknown")
    assert item.next_attempt_at == NOW + dt.timedelta(seconds=30)
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.APPLIED  # until the host confirms the reversal

    assert client.flush_outbox(now=NOW) == []  # not due yet: backing off
    results = client.flush_outbox(now=NOW + dt.timedelta(seconds=31))
    assert [r.state for r in results] == [ReversalState.REVERSED]
    assert adapter.reversal_repeats == [False, True]
    item = journal.outbox_item("direct", "reversal", "POS-0001")
    assert item is not None
    assert item.state is OutboxState.ACCEPTED
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.REVERSED
    assert reversals(host) == ["POS-0001"]  # a dropped answer did not reverse twice


def test_recover_delivers_queued_reversals(
    client: Client, host: FakeHost, faults: Faults, journal: Journal
) -> None:
    client.pay(NIK, months=1, reference="POS-0001")
    faults.inject(FaultKind.RESET, match="/direct/reverse", times=2)
    assert client.reverse("POS-0001").state is ReversalState.QUEUED
    report = client.recover()  # ignores the backoff
    assert report.reversals_pending == ("POS-0001",)
    assert report.unresolved == 1
    report = client.recover()
    assert report.reversals_delivered == ("POS-0001",)
    assert report.unresolved == 0
    assert reversals(host) == ["POS-0001"]
    assert journal.due(ignore_schedule=True) == []


def test_a_reversal_the_host_refuses(
    client: Client, adapter: Recording, host: FakeHost, journal: Journal
) -> None:
    client.pay(NIK, months=1, reference="POS-0001")
    host.advance(dt.timedelta(days=1))  # past the same-day window
    result = client.reverse("POS-0001")
    assert result.state is ReversalState.REFUSED
    assert result.host_code == "host.reversal_refused"
    item = journal.outbox_item("direct", "reversal", "POS-0001")
    assert item is not None
    assert (item.state, item.last_error) == (OutboxState.REJECTED, "host.reversal_refused")
    entry = journal.get("direct", "pay", "POS-0001")
    assert entry is not None
    assert entry.state is EntryState.APPLIED
    assert client.reverse("POS-0001").state is ReversalState.REFUSED
    assert adapter.calls["reverse"] == 1
    assert reversals(host) == []
    assert client.recover().reversals_delivered == ()


def test_a_queued_reversal_expires(
    client: Client, clock: Clock, faults: Faults, journal: Journal
) -> None:
    client.pay(NIK, months=1, reference="POS-0001")
    faults.inject(FaultKind.RESET, match="/direct/reverse", times=100)
    assert client.reverse("POS-0001").state is ReversalState.QUEUED
    clock.advance(days=1, seconds=1)  # the client's reversal_ttl
    assert client.flush_outbox() == []
    item = journal.outbox_item("direct", "reversal", "POS-0001")
    assert item is not None
    assert item.state is OutboxState.EXPIRED  # a person must look at it
    assert client.recover().unresolved == 0
    assert client.reverse("POS-0001").state is ReversalState.EXPIRED


def test_reversing_an_unknown_reference(client: Client, adapter: Recording) -> None:
    with pytest.raises(InvalidInput) as error:
        client.reverse("NOPE-1")
    assert problem_codes(error.value) == [("reference", "host.not_found")]
    assert adapter.calls == Counter()


def test_reversing_a_payment_that_was_never_applied(
    client: Client, adapter: Recording, faults: Faults
) -> None:
    faults.inject(FaultKind.RESET, match="/direct/pay")
    with pytest.raises(NotDelivered):
        client.pay(NIK, months=1, reference="POS-0001")
    assert client.reverse("POS-0001").state is ReversalState.NOT_FOUND
    assert adapter.calls["reverse"] == 0


# Crash recovery with a journal file ------------------------------------------------------------


def _died_mid_send(path: Path, host: FakeHost, reference: str, *, applied: bool) -> None:
    """What a process leaves behind when it dies after journaling a payment as being sent:
    a PENDING entry with one attempt; the host applied it or not."""
    customer = CustomerId.nik(NIK)
    inquiry = host.inquire(customer, 1, channel="direct")
    request = PaymentRequest(
        reference=reference,
        customer=customer,
        periods=tuple(bill.period for bill in inquiry.bills),
        amount=inquiry.amount,
        admin_fee=0,
        payer=Payer.self_paid(),
        inquiry_id=inquiry.inquiry_id,
        requested_at=NOW,
    )
    record = {
        "request": unstructure(request),
        "name": inquiry.name_masked,
        "programs": [p.value for p in inquiry.programs],
        "months": 1,
    }
    with Journal(path, clock=host.now) as journal:
        # No lease: the process that held it is gone.
        _, created = journal.begin("direct", "pay", reference, record, attempt=True)
        assert created
        if applied:
            assert host.pay("direct", request).state is PaymentState.APPLIED


@pytest.mark.parametrize("applied", [True, False], ids=["host-applied", "never-arrived"])
def test_recover_after_a_crash_mid_send(
    make: Make, host: FakeHost, tmp_path: Path, applied: bool, clock: Clock
) -> None:
    path = tmp_path / "journal.sqlite"
    _died_mid_send(path, host, "CRASH-1", applied=applied)
    ledger = host.ledger()
    clock.advance(seconds=361)  # past the settle window: "not found" is then proof

    client, adapter = make(journal_=path)  # a new process on the same file
    assert [e.reference for e in client.journal.unresolved()] == ["CRASH-1"]
    report = client.recover()
    if applied:
        assert (report.applied, report.not_applied) == (("CRASH-1",), ())
    else:
        assert (report.applied, report.not_applied) == ((), ("CRASH-1",))
    assert report.unresolved == 0
    assert client.journal.unresolved() == []
    assert host.ledger() == ledger  # recovery only asks
    assert adapter.calls == Counter(status=1)
    entry = client.journal.get("direct", "pay", "CRASH-1")
    assert entry is not None
    assert entry.state is (EntryState.APPLIED if applied else EntryState.NOT_APPLIED)
    client.close()

    # Yet another process pays the same reference: once in the ledger either way.
    client, adapter = make(journal_=path)
    receipt = client.pay(NIK, months=1, reference="CRASH-1")
    assert receipt.periods == (OCT,)
    assert payments(host) == ["CRASH-1"]
    assert adapter.calls["pay"] == (0 if applied else 1)
    assert [p.repeat for p in adapter.payments] == ([] if applied else [True])
    client.close()


def test_recover_when_the_host_cannot_answer_yet(
    make: Make, host: FakeHost, faults: Faults, tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite"
    _died_mid_send(path, host, "CRASH-1", applied=True)
    client, _ = make(journal_=path)
    faults.inject(FaultKind.RESET, match="/direct/status")
    report = client.recover()
    assert report.still_unknown == ("CRASH-1",)
    entry = client.journal.get("direct", "pay", "CRASH-1")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN  # no longer "being sent": sent, outcome open
    assert client.recover().applied == ("CRASH-1",)
    client.close()


class _Killed(BaseException):
    """The process dies (SIGKILL): nothing in the client gets to handle it."""


@pytest.mark.parametrize("applied", [True, False], ids=["after-commit", "before-send"])
def test_a_client_killed_mid_payment_is_recovered_by_the_next(
    make: Make, host: FakeHost, tmp_path: Path, applied: bool, clock: Clock
) -> None:
    path = tmp_path / "journal.sqlite"
    client, adapter = make(journal_=Journal(path))
    real_pay = HostAdapter.pay

    def pay(request: PaymentRequest) -> PaymentResult:
        if applied:
            real_pay(adapter, request)
        raise _Killed

    adapter.pay = pay  # type: ignore[method-assign]
    with pytest.raises(_Killed):
        client.pay(NIK, months=1, reference="KILL-1")
    client.journal.close()
    # In one test process the "dead" payer's process lives on: its lease must expire, and for
    # a payment that never left, the settle window must pass.
    clock.advance(minutes=7)

    client, adapter = make(journal_=Journal(path))
    report = client.recover()
    assert report.unresolved == 0
    assert (report.applied if applied else report.not_applied) == ("KILL-1",)
    client.pay(NIK, months=1, reference="KILL-1")
    assert payments(host) == ["KILL-1"]
    client.close()


def test_a_file_journal_answers_a_repeat_after_a_restart(
    make: Make, host: FakeHost, tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite"
    client, _ = make(journal_=path)
    first = client.pay(NIK, months=1, reference="POS-0001")
    client.close()
    client, adapter = make(journal_=path)
    assert client.pay(NIK, months=1, reference="POS-0001") == first
    assert adapter.calls == Counter()
    client.close()


# Registration -----------------------------------------------------------------------------------


def test_register_and_confirm_with_the_otp(client: Client, host: FakeHost) -> None:
    newcomer = person(4)
    challenge = client.register(newcomer, reference="REG-1")
    assert challenge.reference == "REG-1"
    assert challenge.phone_masked == "0812****7890"
    registration = client.confirm_registration(challenge, host.last_otp(newcomer.nik))
    assert registration.reference == "REG-1"
    assert registration.nik_masked == "3201********0004"
    assert registration.registered == NOV
    assert registration.programs == newcomer.programs
    assert host.participant(newcomer.nik) is not None

    # The new member pays their first month by KPJ.
    receipt = client.pay(registration.kpj, months=1, reference="FIRST-1")
    assert receipt.periods == (NOV,)


def test_a_wrong_otp(client: Client, host: FakeHost) -> None:
    challenge = client.register(person(4), reference="REG-1")
    with pytest.raises(InvalidInput) as error:
        client.confirm_registration(challenge, "12ab")
    assert problem_codes(error.value) == [("otp", "host.otp_invalid")]
    wrong = "000000" if host.last_otp(person(4).nik) != "000000" else "111111"
    with pytest.raises(HostDeclined, match=r"host\.otp_invalid"):
        client.confirm_registration(challenge, wrong)


def test_sponsor_registration_where_the_channel_offers_none(make: Make, host: FakeHost) -> None:
    sponsor = Payer(PayerKind.SERTAKAN, name="Budi Santoso")
    client, adapter = make(sponsor_registration=False)
    with pytest.raises(CapabilityRefused, match=r"capability\.operation"):
        client.register(person(4), reference="REG-1", payer=sponsor)
    assert adapter.calls == Counter()
    assert host.sms_outbox == []
    client.register(person(4), reference="REG-2")  # the worker themself: fine

    client, _ = make()
    assert client.register(person(5), reference="REG-3", payer=sponsor).reference == "REG-3"


@pytest.mark.parametrize(
    ("nik", "born", "code"),
    [
        ("3201015508120001", dt.date(2012, 8, 15), "age.too_young"),
        ("3201015508600001", dt.date(1960, 8, 15), "age.too_old"),
    ],
)
def test_registration_age_is_checked_before_the_host(
    client: Client, adapter: Recording, host: FakeHost, nik: str, born: dt.date, code: str
) -> None:
    participant = Participant(**participant_data(nik=nik, birth_date=born))
    with pytest.raises(InvalidInput) as error:
        client.register(participant, reference="REG-1")
    assert problem_codes(error.value) == [("birth_date", code)]
    assert adapter.calls == Counter()
    assert host.sms_outbox == []


# Everything else a channel offers ----------------------------------------------------------------


def test_inquire_adds_the_channel_fee(client: Client) -> None:
    inquiry = client.inquire("3201.0155.0895.0001", 3)
    assert inquiry.customer == CustomerId.nik(NIK)
    assert [bill.period for bill in inquiry.bills] == [OCT, NOV, DEC]
    assert inquiry.amount == 3 * ONE_MONTH
    assert inquiry.admin_fee == 2_500
    assert inquiry.state is CoverageState.IN_ARREARS
    assert inquiry.name_masked == "S*** R***"
    assert client.inquire(NIK, 1).admin_fee == 1_500


def test_quote_uses_the_channel_month_counts(make: Make) -> None:
    client, adapter = make(month_counts=(1, 3))
    quote = client.quote(start=NOV, months=3, participant=person())
    assert quote.periods == (NOV, DEC, YearMonth(2027, 1))
    with pytest.raises(CapabilityRefused, match=r"capability\.months"):
        client.quote(start=NOV, months=6, participant=person())
    assert adapter.calls == Counter()


# A client's rule set applies everywhere ------------------------------------------------------


@pytest.fixture
def partner_rules(tmp_path: Path) -> RuleSet:
    """A partner's adjusted copy of the packaged tables: JKM at Rp10.000 a month instead of
    Rp6.800, and one more occupation (a herbal-drink seller the packaged list lacks)."""
    target = tmp_path / "rules"
    shutil.copytree(Path(rules_package.__file__).parent / "data", target)
    programs = target / "programs.csv"
    text = programs.read_text(encoding="utf-8")
    assert text.count(",,6800,1,2015-07,") == 1
    programs.write_text(text.replace(",,6800,1,2015-07,", ",,10000,1,2015-07,"), encoding="utf-8")
    with (target / "occupations.csv").open("a", encoding="utf-8") as occupations:
        occupations.write(
            "penjual-jamu,perdagangan,Penjual jamu,Herbal drink seller,0,0,jamu,test,L\n"
        )
    return load_rules(target)


def test_a_client_prices_by_its_rule_set(make: Make, partner_rules: RuleSet) -> None:
    packaged, _ = make()
    partner, adapter = make(client_rules=partner_rules)
    wanted = {"start": YearMonth(2027, 1), "months": 3, "participant": person()}
    assert partner.quote(**wanted).total - packaged.quote(**wanted).total == 3 * 3_200
    assert {line.amount for line in partner.quote(**wanted).lines if line.program == "jkm"} == {
        10_000
    }
    assert adapter.calls == Counter()  # priced locally


def test_a_client_and_a_host_with_one_rule_set_agree(
    partner_rules: RuleSet, clock: Clock, journal: Journal
) -> None:
    host = FakeHost(rules=partner_rules, clock=clock, seed=7)
    participant = seed(host)
    client = Client(
        HostAdapter(host), journal=journal, rules=partner_rules, clock=clock, sleep=lambda _: None
    )
    quoted = client.quote(start=OCT, months=2, participant=participant, joined=JUN)
    receipt = client.pay(NIK, months=2, reference="PARTNER-1")
    assert receipt.periods == (OCT, NOV)
    # The host billed by the same rules: JKM Rp10.000, halved by PP 50/2025 as Rp6.800 was.
    assert receipt.amount == quoted.total == 2 * ONE_MONTH + 2 * 1_600


def test_a_client_registers_by_its_rule_set(
    make: Make, partner_rules: RuleSet, clock: Clock, journal: Journal
) -> None:
    seller = parse_participant(
        participant_data(nik=f"320101550895{4:04d}", occupations=["penjual-jamu"]),
        as_of=TODAY,
        rules=partner_rules,
    )
    packaged, adapter = make()
    with pytest.raises(InvalidInput) as refused:
        packaged.register(seller, reference="REG-JAMU")
    assert problem_codes(refused.value) == [("occupations", "occupations.unknown")]
    assert adapter.calls == Counter()  # refused before anything was sent

    host = FakeHost(rules=partner_rules, clock=clock, seed=7)
    partner = Client(HostAdapter(host), journal=journal, rules=partner_rules, clock=clock)
    challenge = partner.register(seller, reference="REG-JAMU")
    registration = partner.confirm_registration(challenge, host.last_otp(seller.nik))
    assert registration.nik_masked == "3201********0004"


def test_a_sandbox_and_its_clients_share_one_rule_set(partner_rules: RuleSet) -> None:
    sandbox = Sandbox(seed=3, channels=("linkaja",), clock=lambda: NOW, rules=partner_rules)
    participant = seed(sandbox.host)
    sandbox.install()
    client = sandbox.client("linkaja")
    try:
        assert client.rules is sandbox.host.rules is partner_rules
        inquiry = client.inquire(NIK, 1)
        quoted = client.quote(start=OCT, months=1, participant=participant, joined=JUN)
        assert inquiry.amount == quoted.total == ONE_MONTH + 1_600
    finally:
        client.close()
        sandbox.stop()


def test_history(client: Client) -> None:
    client.pay(NIK, months=1, reference="POS-0001")
    history = client.history(NIK)
    assert [entry.period for entry in history] == list(month_range(JUN, 5))
    assert {entry.channel for entry in history[:-1]} == {"seed"}
    assert (history[-1].channel, history[-1].reference) == ("direct", "POS-0001")
    assert history[-1].amount == ONE_MONTH


def test_autodebit_needs_the_first_month_paid(client: Client, host: FakeHost) -> None:
    newcomer = person(4)
    host.seed(newcomer, registered=NOV)
    with pytest.raises(HostDeclined, match=r"host\.autodebit_unpaid"):
        client.enrol_autodebit(newcomer.nik, months=1, reference="AD-1")
    client.pay(newcomer.nik, months=1, reference="FIRST-1")
    # The declined reference stays declined (journaled); a new one enrols.
    with pytest.raises(HostDeclined, match=r"host\.autodebit_unpaid"):
        client.enrol_autodebit(newcomer.nik, months=1, reference="AD-1")
    mandate = client.enrol_autodebit(newcomer.nik, months=1, reference="AD-2")
    assert mandate.active
    assert mandate.customer == CustomerId.nik(newcomer.nik)
    assert mandate.next_run == DEC.first_day()
    cancelled = client.cancel_autodebit(mandate.mandate_id, reference="ADC-1")
    assert not cancelled.active


# Auto-debit mandates: journaled, idempotent on the reference -------------------------------------


def transitions(journal: Journal, operation: str, reference: str) -> list[tuple[str | None, str]]:
    entry = journal.get("direct", operation, reference)
    assert entry is not None
    return [
        (None if t.from_state is None else t.from_state.value, t.to_state.value)
        for t in journal.history(entry.id)
    ]


def test_a_lost_enrol_answer_retried_with_the_same_reference_makes_one_mandate(
    make: Make, host: FakeHost, faults: Faults, journal: Journal
) -> None:
    client, adapter = make()
    faults.inject(FaultKind.DROP, match="AD-1")  # the host makes the mandate; the answer is lost
    with pytest.raises(OutcomeUnknown) as lost:
        client.enrol_autodebit(NIK, months=1, reference="AD-1")
    assert lost.value.code == "mandate.unknown"
    (made,) = host.mandates("direct")
    entry = journal.get("direct", "autodebit", "AD-1")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN
    assert entry.lease_owner is None  # released: any caller may resolve it at once

    # Retried: the host keys mandates by (channel, reference) and answers the one it made.
    mandate = client.enrol_autodebit(NIK, months=1, reference="AD-1")
    assert mandate == made
    assert host.mandates("direct") == [made]  # one mandate: one debit a month, not two
    # Settled: the journal answers, nothing is sent again.
    assert client.enrol_autodebit(NIK, months=1, reference="AD-1") == made
    assert adapter.calls["autodebit"] == 2
    assert transitions(journal, "autodebit", "AD-1") == [
        (None, "pending"),
        ("pending", "unknown"),
        ("unknown", "applied"),
    ]
    history = journal.history(entry.id)
    assert {t.actor for t in history} == {"autodebit"}
    assert history[-1].why.startswith("resent")


def test_the_same_mandate_reference_for_another_mandate_is_a_conflict_and_nothing_is_sent(
    make: Make, host: FakeHost
) -> None:
    client, adapter = make()
    seed(host, 2)
    mandate = client.enrol_autodebit(NIK, months=1, reference="AD-1")
    client.cancel_autodebit(mandate.mandate_id, reference="ADC-1")
    for other in (
        lambda: client.enrol_autodebit(person(2).nik, months=1, reference="AD-1"),
        lambda: client.enrol_autodebit(NIK, months=2, reference="AD-1"),
        lambda: client.enrol_autodebit(NIK, months=1, reference="AD-1", payer=APBD),
        lambda: client.cancel_autodebit("MD99999999", reference="ADC-1"),
    ):
        with pytest.raises(ReferenceConflict) as conflict:
            other()
        assert problem_codes(conflict.value) == [("reference", "journal.conflict")]
    assert (adapter.calls["autodebit"], adapter.calls["autodebit-cancel"]) == (1, 1)
    assert host.mandates("direct") == [attrs.evolve(mandate, active=False, next_run=None)]


def test_a_mandate_conflict_at_the_host_is_a_journaled_decline(make: Make, host: FakeHost) -> None:
    # Another journal (another gateway instance) enrolled under AD-1 for one month first.
    host.enrol_autodebit("direct", CustomerId.nik(NIK), 1, Payer.self_paid(), reference="AD-1")
    client, adapter = make()
    with pytest.raises(HostDeclined, match=r"host\.mandate_conflict"):
        client.enrol_autodebit(NIK, months=2, reference="AD-1")
    with pytest.raises(HostDeclined, match=r"host\.mandate_conflict"):  # from the journal
        client.enrol_autodebit(NIK, months=2, reference="AD-1")
    assert adapter.calls["autodebit"] == 1
    assert len(host.mandates("direct")) == 1


def test_cancel_is_journaled_and_idempotent(
    make: Make, host: FakeHost, faults: Faults, journal: Journal
) -> None:
    client, adapter = make()
    mandate = client.enrol_autodebit(NIK, months=1, reference="AD-1")
    faults.inject(FaultKind.DROP, match="ADC-1")
    with pytest.raises(OutcomeUnknown, match=r"mandate\.unknown"):
        client.cancel_autodebit(mandate.mandate_id, reference="ADC-1")
    (stopped,) = host.mandates("direct")
    assert not stopped.active  # the host did cancel it; only the answer was lost
    cancelled = client.cancel_autodebit(mandate.mandate_id, reference="ADC-1")
    assert cancelled == stopped
    assert client.cancel_autodebit(mandate.mandate_id, reference="ADC-1") == stopped
    assert adapter.calls["autodebit-cancel"] == 2
    assert transitions(journal, "autodebit-cancel", "ADC-1") == [
        (None, "pending"),
        ("pending", "unknown"),
        ("unknown", "applied"),
    ]


def test_a_mandate_request_never_delivered_is_sent_again(
    make: Make, host: FakeHost, faults: Faults, journal: Journal
) -> None:
    client, _ = make()
    faults.inject(FaultKind.RESET, match="AD-1")
    with pytest.raises(NotDelivered):
        client.enrol_autodebit(NIK, months=1, reference="AD-1")
    assert host.mandates("direct") == []
    mandate = client.enrol_autodebit(NIK, months=1, reference="AD-1")
    assert host.mandates("direct") == [mandate]
    entry = journal.get("direct", "autodebit", "AD-1")
    assert entry is not None
    assert entry.attempts == 2
    assert transitions(journal, "autodebit", "AD-1") == [
        (None, "pending"),
        ("pending", "not-applied"),
        ("not-applied", "pending"),
        ("pending", "applied"),
    ]


def test_a_resend_that_never_arrives_proves_nothing(
    make: Make, host: FakeHost, faults: Faults, journal: Journal
) -> None:
    client, _ = make()
    faults.inject(FaultKind.DROP, match="AD-1")
    with pytest.raises(OutcomeUnknown):
        client.enrol_autodebit(NIK, months=1, reference="AD-1")
    # The resend is refused at the door: the first send may still have made the mandate (it
    # did), so the entry stays unknown rather than "not applied".
    faults.inject(FaultKind.RESET, match="AD-1")
    with pytest.raises(OutcomeUnknown, match=r"mandate\.unknown"):
        client.enrol_autodebit(NIK, months=1, reference="AD-1")
    entry = journal.get("direct", "autodebit", "AD-1")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN
    (made,) = host.mandates("direct")
    assert client.enrol_autodebit(NIK, months=1, reference="AD-1") == made
    assert len(host.mandates("direct")) == 1


def test_a_mandate_request_another_caller_holds_is_not_sent(
    make: Make, host: FakeHost, journal: Journal, clock: Clock
) -> None:
    client, adapter = make(client_poll_interval=0.01)
    record = {
        "customer": unstructure(CustomerId.nik(NIK)),
        "months": 1,
        "payer": unstructure(Payer.self_paid()),
    }
    # A live caller of another gateway instance is sending it now.
    lease = ("OTHER1/1/x", clock.now + dt.timedelta(minutes=2))
    journal.begin("direct", "autodebit", "AD-1", record, attempt=True, lease=lease)
    with pytest.raises(OutcomeUnknown, match=r"mandate\.in_progress"):
        client.enrol_autodebit(NIK, months=1, reference="AD-1")
    assert adapter.calls["autodebit"] == 0
    clock.advance(minutes=3)  # its lease expired: the caller died; resolved by resending
    mandate = client.enrol_autodebit(NIK, months=1, reference="AD-1")
    assert host.mandates("direct") == [mandate]
    assert transitions(journal, "autodebit", "AD-1")[-2:] == [
        ("pending", "unknown"),
        ("unknown", "applied"),
    ]


def test_a_mandate_reference_is_checked_before_anything_is_sent(make: Make) -> None:
    client, adapter = make()
    with pytest.raises(InvalidInput):
        client.enrol_autodebit(NIK, months=1, reference="AD 1/")
    with pytest.raises(InvalidInput):
        client.cancel_autodebit("", reference="ADC-1")
    assert adapter.calls == Counter()
    assert client.journal.entries() == []


def test_settlement_lists_the_day(client: Client) -> None:
    receipt = client.pay(NIK, months=1, reference="POS-0001")
    (record,) = client.settlement(TODAY)
    assert record.reference == "POS-0001"
    assert record.host_reference == receipt.host_reference
    assert record.nik_masked == MASKED
    assert (record.amount, record.admin_fee) == (ONE_MONTH, 1_500)
    assert record.state is SettlementState.PAID
    assert client.settlement(TODAY + dt.timedelta(days=1)) == ()


# No full NIK anywhere ---------------------------------------------------------------------------


def test_no_full_nik_in_reprs_errors_or_logs(
    make: Make, host: FakeHost, faults: Faults, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = make(max_amount=50_000)
    errors: list[JamsostekError] = []

    def expect(error: type[JamsostekError], call: Callable[[], object]) -> None:
        with pytest.raises(error) as raised:
            call()
        errors.append(raised.value)

    client.pay(NIK, months=1, reference="POS-0001")
    expect(InvalidInput, lambda: client.pay(NIK, months=2, reference="POS-0001"))
    expect(CapabilityRefused, lambda: client.pay(NIK, months=3, reference="POS-0002"))
    faults.inject(FaultKind.RESET, match="/direct/pay")
    expect(NotDelivered, lambda: client.pay(NIK, months=1, reference="POS-0003"))
    faults.inject(FaultKind.DROP, match="/direct/pay")
    faults.inject(FaultKind.PENDING, match="POS-0004", times=3)
    seed(host, 2)
    other = "3201015508950002"
    expect(OutcomeUnknown, lambda: client.pay(other, months=1, reference="POS-0004"))
    expect(HostDeclined, lambda: client.pay("3201015508950009", months=1, reference="X-1"))
    expect(InvalidInput, lambda: client.pay("3201015508950", months=1, reference="X-2"))
    expect(InvalidInput, lambda: client.reverse("NOPE-1"))

    texts = [repr(client), repr(client.adapter), repr(client.journal), caplog.text]
    texts += [repr(e) + str(e) + repr(e.as_dict()) for e in errors]
    texts += [repr(entry) for entry in client.journal.entries()]
    for text in texts:
        assert NIK not in text
        assert other not in text


def test_an_unanswered_inquiry_is_not_a_payment_outcome(
    client: Client, faults: Faults, host: FakeHost, journal: Journal
) -> None:
    faults.inject(FaultKind.DROP, match="/direct/inquire")
    with pytest.raises(NotDelivered) as error:
        client.pay(NIK, months=1, reference="POS-0001")
    assert error.value.code == "transport.not_delivered"
    assert journal.get("direct", "pay", "POS-0001") is None  # nothing journaled, nothing sent
    assert payments(host) == []
    assert client.pay(NIK, months=1, reference="POS-0001").channel_reference == "POS-0001"


# One clock ------------------------------------------------------------------------------------


def test_the_clients_clock_reaches_its_journal_and_its_adapter(
    host: FakeHost, clock: Clock
) -> None:
    journal = Journal()  # built with the wall clock
    adapter = HostAdapter(host)
    Client(adapter, journal=journal, clock=clock)
    assert journal.clock is clock
    assert adapter.clock is clock


def test_without_a_clock_the_client_reads_its_adapters(host: FakeHost) -> None:
    journal = Journal()
    client = Client(HostAdapter(host), journal=journal)
    assert journal.clock == host.now
    assert client.journal is journal


def test_a_queued_reversal_is_timed_by_the_clients_clock_not_the_wall(
    host: FakeHost, faults: Faults, clock: Clock
) -> None:
    # The journal was opened with the wall clock; the client's clock is days behind it (NOW).
    # Compared with wall time, the queued reversal would expire at once and vanish.
    client = Client(
        HostAdapter(host, faults=faults), journal=Journal(), clock=clock, sleep=lambda _: None
    )
    client.pay(NIK, months=1, reference="POS-0001")
    faults.inject(FaultKind.RESET, match="/direct/reverse")
    assert client.reverse("POS-0001").state is ReversalState.QUEUED
    item = client.journal.outbox_item("direct", "reversal", "POS-0001")
    assert item is not None
    assert item.expires_at == NOW + dt.timedelta(days=1)
    assert client.recover().reversals_delivered == ("POS-0001",)
    assert reversals(host) == ["POS-0001"]
