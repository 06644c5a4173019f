"""One reference, two payments (issue 10): a reference is unique only within its scope (an
office at Kantor Pos, a partner at SNAP), and a status answer is accepted only when it is the
whole payment the journal holds: customer, months, amount, and office/teller where the
channel has them. Anything else is ``ReferenceConflict(code="payment.mismatch")``, never a
receipt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from jamsostek_channels.adapters.kantorpos.adapter import KantorPosAdapter
from jamsostek_channels.adapters.kantorpos.profile import load_profile
from jamsostek_channels.channel import PaymentState
from jamsostek_channels.client import Client
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.journal import Journal
from jamsostek_channels.model import CoverageState
from jamsostek_channels.testing.kantorpos_gateway import SANDBOX_OFFICE
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


def office_client(sandbox: Sandbox, office: str) -> Client:
    """A counter of ``office`` with its own journal, on the sandbox's clock."""
    clock = sandbox.host.now
    journal = Journal(":memory:", clock=clock)
    adapter = KantorPosAdapter(
        load_profile("kantorpos"),
        base_url=sandbox.base_url + "/kantorpos",
        journal=journal,
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
