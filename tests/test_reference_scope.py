"""One reference, two payments (issue 10): a reference is unique only within its scope (an
office at Kantor Pos, a partner at SNAP), and a status answer is accepted only when it is the
whole payment the journal holds: customer, months, amount, and office/teller where the
channel has them. Anything else is ``ReferenceConflict(code="payment.mismatch")``, never a
receipt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import cast

import attrs
import pytest

from jamsostek_channels.adapters.kantorpos.adapter import KantorPosAdapter
from jamsostek_channels.adapters.kantorpos.fake import SANDBOX_OFFICE
from jamsostek_channels.adapters.kantorpos.profile import load_profile
from jamsostek_channels.channel import CustomerId, InquiryRequest, PaymentRequest, PaymentState
from jamsostek_channels.client import Client
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import ReferenceConflict
from jamsostek_channels.journal import Journal
from jamsostek_channels.model import CoverageState, Payer
from jamsostek_channels.reconcile import reconcile_journal
from jamsostek_channels.testing.sandbox import Sandbox

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=JAKARTA)
OTHER_OFFICE = "40000"


class Clock:
    def __init__(self, start: dt.datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def payable(sandbox: Sandbox) -> list[str]:
    return [
        p["nik"]
        for p in sandbox.demo_participants
        if sandbox.host.coverage(p["nik"]).state is not CoverageState.LAPSED
    ]


# Kantor Pos: two offices, one reference ----------------------------------------------------


@pytest.fixture
def kp_sandbox() -> Iterator[Sandbox]:
    box = Sandbox(seed=11, clock=Clock(), channels=("kantorpos",))
    box.install()
    yield box
    box.stop()


def office_client(sandbox: Sandbox, office: str, journal: Journal | None = None) -> Client:
    """A counter of ``office`` with its own journal (or ``journal``), on the sandbox's clock."""
    clock = sandbox.host.now
    journal = journal or Journal(":memory:", clock=clock)
    adapter = KantorPosAdapter(
        load_profile("kantorpos"),
        base_url=sandbox.base_url,  # the profile's paths begin with /kantorpos/
        office=office,
        teller="LKT01",
        clock=clock,
    )
    return Client(adapter, journal=journal, clock=clock, agent_id="LKT01", sleep=lambda s: None)


def test_two_offices_may_use_one_reference_for_two_customers(kp_sandbox: Sandbox) -> None:
    first_nik, second_nik = payable(kp_sandbox)[:2]
    here = office_client(kp_sandbox, SANDBOX_OFFICE)
    there = office_client(kp_sandbox, OTHER_OFFICE)
    try:
        mine = here.pay(first_nik, months=1, reference="KP-0001")
        theirs = there.pay(second_nik, months=1, reference="KP-0001")
        assert theirs.host_reference != mine.host_reference
        payments = [e for e in kp_sandbox.host.ledger() if e.kind == "payment"]
        assert {(e.scope, e.nik) for e in payments} == {
            (SANDBOX_OFFICE, first_nik),
            (OTHER_OFFICE, second_nik),
        }
        # Status, settlement and reversal stay within each office.
        assert here.status("KP-0001").host_reference == mine.host_reference
        assert there.status("KP-0001").host_reference == theirs.host_reference
        day = NOW.date()
        assert [r.host_reference for r in here.settlement(day)] == [mine.host_reference]
        assert [r.host_reference for r in there.settlement(day)] == [theirs.host_reference]
        assert there.reverse("KP-0001").state.value == "reversed"
        assert here.status("KP-0001").state is PaymentState.APPLIED
    finally:
        here.close()
        there.close()


def test_two_offices_sharing_one_journal_may_use_one_reference(kp_sandbox: Sandbox) -> None:
    # One gateway for many post offices keeps one journal: it keys references by office, as
    # the host does, so the second office's payment is neither refused nor answered with the
    # first office's receipt.
    first_nik, second_nik = payable(kp_sandbox)[:2]
    shared = Journal(":memory:", clock=kp_sandbox.host.now)
    here = office_client(kp_sandbox, SANDBOX_OFFICE, shared)
    there = office_client(kp_sandbox, OTHER_OFFICE, shared)
    mine = here.pay(first_nik, months=1, reference="KP-0002")
    theirs = there.pay(second_nik, months=1, reference="KP-0002")
    assert theirs.host_reference != mine.host_reference
    entries = {e.scope: e for e in shared.entries("kantorpos", "pay")}
    assert set(entries) == {SANDBOX_OFFICE, OTHER_OFFICE}
    assert all(e.state.value == "applied" for e in entries.values())
    assert shared.get("kantorpos", "pay", "KP-0002", scope=OTHER_OFFICE) == entries[OTHER_OFFICE]
    with pytest.raises(ValueError, match="scope"):  # ambiguous without one
        shared.get("kantorpos", "pay", "KP-0002")
    assert here.pay(first_nik, months=1, reference="KP-0002") == mine  # each its own answer
    assert there.pay(second_nik, months=1, reference="KP-0002") == theirs


def test_each_offices_file_reconciles_against_its_own_entries_of_a_shared_journal(
    kp_sandbox: Sandbox,
) -> None:
    # One journal, two offices, one reference at both and one more at the first: each office's
    # settlement file (which names its office) is matched against that office's entries only,
    # so neither reports its neighbour's payments as missing, nor trips on the shared reference.
    first, second, third = payable(kp_sandbox)[:3]
    shared = Journal(":memory:", clock=kp_sandbox.host.now)
    here = office_client(kp_sandbox, SANDBOX_OFFICE, shared)
    there = office_client(kp_sandbox, OTHER_OFFICE, shared)
    here.pay(first, months=1, reference="KP-0003")
    here.pay(third, months=1, reference="KP-0004")
    there.pay(second, months=1, reference="KP-0003")
    day = kp_sandbox.host.now().date()
    matched = {}
    for office, client in ((SANDBOX_OFFICE, here), (OTHER_OFFICE, there)):
        records = client.settlement(day)
        assert {r.scope for r in records} == {office}
        report = reconcile_journal(records, shared, channel="kantorpos", day=day)
        assert report.balanced, report.as_dict()
        assert not report.missing_in_settlement
        matched[office] = sorted(line.reference for line in report.matched)
    assert matched == {SANDBOX_OFFICE: ["KP-0003", "KP-0004"], OTHER_OFFICE: ["KP-0003"]}
    # The same file read as if it named no office sees both offices' entries: not balanced.
    anonymous = [attrs.evolve(r, scope="") for r in here.settlement(day)]
    with pytest.raises(ValueError, match="two journal entries"):
        reconcile_journal(anonymous, shared, channel="kantorpos", day=day)
    # An office's file with no payment names no office: the caller says which.
    empty = reconcile_journal([], shared, channel="kantorpos", day=day, scopes=["40001"])
    assert empty.balanced
    assert not empty.matched
    assert not empty.missing_in_settlement


def test_a_payment_after_the_channels_cutoff_belongs_to_the_next_business_day() -> None:
    # A channel whose books close at 21:00 WIB lists a payment of 21:30 in the next day's
    # file: the journal's business day says so too, so both days reconcile.
    clock = Clock(dt.datetime(2026, 11, 23, 20, 50, tzinfo=JAKARTA))
    box = Sandbox(seed=11, clock=clock, channels=("kantorpos",))
    box.install()
    profile = load_profile("kantorpos")
    profile = attrs.evolve(
        profile,
        capabilities=attrs.evolve(profile.capabilities, business_day_cutoff=dt.time(21, 0)),
    )
    journal = Journal(":memory:", clock=clock)
    adapter = KantorPosAdapter(
        profile,
        base_url=box.base_url,
        office=SANDBOX_OFFICE,
        teller="LKT01",
        clock=clock,
    )
    client = Client(adapter, journal=journal, clock=clock, agent_id="LKT01", sleep=lambda s: None)
    try:
        early, late = payable(box)[:2]
        client.pay(early, months=1, reference="KP-CUT-1")
        clock.now = dt.datetime(2026, 11, 23, 21, 30, tzinfo=JAKARTA)
        client.pay(late, months=1, reference="KP-CUT-2")
        days = {
            e.reference: e.facts.business_day
            for e in journal.entries("kantorpos", "pay")
            if e.facts is not None
        }
        assert days == {"KP-CUT-1": dt.date(2026, 11, 23), "KP-CUT-2": dt.date(2026, 11, 24)}
        for day, reference in (
            (dt.date(2026, 11, 23), "KP-CUT-1"),
            (dt.date(2026, 11, 24), "KP-CUT-2"),
        ):
            records = box.host.settlement(
                "kantorpos", day, scope=SANDBOX_OFFICE, cutoff=dt.time(21)
            )
            report = reconcile_journal(records, journal, channel="kantorpos", day=day)
            assert report.balanced, report.as_dict()
            assert [line.reference for line in report.matched] == [reference]
    finally:
        client.close()
        box.stop()


# SNAP: one reference through a second instance (or a rebuilt journal) -------------------------


@pytest.fixture
def snap_sandbox() -> Iterator[Sandbox]:
    box = Sandbox(seed=11, clock=Clock(), channels=("linkaja",))
    box.install()
    yield box
    box.stop()


def snap_client(sandbox: Sandbox) -> Client:
    """A LinkAja client with a journal of its own (another instance, or one rebuilt empty)."""
    return cast(Client, sandbox.client("linkaja", journal=Journal(":memory:"), sleep=_no_sleep))


def _no_sleep(seconds: float) -> None:
    return None


def request_for(client: Client, nik: str, reference: str, months: int = 1) -> PaymentRequest:
    """The request a client would journal for ``nik``, from a real inquiry."""
    customer = CustomerId.parse(nik)
    inquiry = client.adapter.inquire(InquiryRequest(customer, months, client.agent_id))
    return PaymentRequest(
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


def test_snap_status_of_another_customers_payment_is_a_conflict(snap_sandbox: Sandbox) -> None:
    first_nik, second_nik = payable(snap_sandbox)[:2]
    first, second = snap_client(snap_sandbox), snap_client(snap_sandbox)
    try:
        first.pay(first_nik, months=1, reference="LA-0001")
        request = request_for(second, second_nik, "LA-0001")
        with pytest.raises(ReferenceConflict) as caught:
            second.adapter.payment_status(request)
        assert caught.value.problems[0].code == "payment.mismatch"
        assert caught.value.reference == "LA-0001"
    finally:
        first.close()
        second.close()


def test_snap_status_with_other_paid_bills_is_a_conflict(snap_sandbox: Sandbox) -> None:
    nik = payable(snap_sandbox)[0]
    first, second = snap_client(snap_sandbox), snap_client(snap_sandbox)
    try:
        first.pay(nik, months=1, reference="LA-0002")
        # The same customer, the same reference, but the next months: another payment.
        request = request_for(second, nik, "LA-0002", months=3)
        with pytest.raises(ReferenceConflict) as caught:
            second.adapter.payment_status(request)
        assert caught.value.problems[0].code == "payment.mismatch"
    finally:
        first.close()
        second.close()


def test_snap_client_never_receipts_or_resends_another_payment(snap_sandbox: Sandbox) -> None:
    first_nik, second_nik = payable(snap_sandbox)[:2]
    first, second = snap_client(snap_sandbox), snap_client(snap_sandbox)
    try:
        first.pay(first_nik, months=1, reference="LA-0003")
        before = snap_sandbox.host.ledger()
        for _ in range(2):  # neither a receipt nor a re-send, however often it is asked
            with pytest.raises(ReferenceConflict):
                second.pay(second_nik, months=1, reference="LA-0003")
        assert snap_sandbox.host.ledger() == before
    finally:
        first.close()
        second.close()
