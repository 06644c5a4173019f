"""Crash safety, proven: paying processes killed with SIGKILL at random points, requests held
by a proxy before they reach the host, rival recovers killed at random; the fake host's ledger
and the journal must agree on every payment (and what it paid), and the run must have paid."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from jamsostek_channels import registry
from jamsostek_channels.channel import CustomerId, PaymentRequest, Resolution
from jamsostek_channels.cli.main import main
from jamsostek_channels.client import Client
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.converters import unstructure
from jamsostek_channels.errors import OutcomeUnknown
from jamsostek_channels.journal import Entry, EntryState, Journal, Transition
from jamsostek_channels.model import Payer
from jamsostek_channels.period import YearMonth
from jamsostek_channels.testing.chaos import (
    KILL_POINTS,
    TCP_FAULTS,
    compare,
    kill_points,
    run_chaos,
    trespasses,
)
from jamsostek_channels.testing.host import LedgerEntry
from jamsostek_channels.testing.proxy import Proxy
from jamsostek_channels.testing.sandbox import Sandbox, faked_channels
from jamsostek_channels.transport import Timeouts

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=JAKARTA)


#: Channels whose fake listens itself (ISO 8583 switches over TCP): their faults are their own.
LISTENING = tuple(c for c in faked_channels() if registry.spec(c).fake_server is not None)
#: Channels with an HTTP fake, reached through the proxy.
HTTP = tuple(c for c in faked_channels() if c not in LISTENING)


@pytest.mark.parametrize("channel", faked_channels())
def test_killed_payers_lose_and_double_nothing_on_every_channel(
    tmp_path: Path, channel: str
) -> None:
    # One round of every scenario after the control run: 6 runs over HTTP, 8 where the switch's
    # own TCP faults (reset, garbage) join them.
    runs = len(kill_points(channel)) + 1
    report = run_chaos(runs, 11, workdir=tmp_path, channel=channel)
    assert report.runs == runs
    assert report.channel == channel
    # Every scenario ran: the kills, the payment held past the payer's read timeout (by the
    # proxy, or by the switch), the answer lost (dropped by the proxy or the switch, garbage,
    # a reset) and rival recovers running beside the payers.
    assert set(report.kill_points) >= set(kill_points(channel))
    assert report.kill_points["rival-recover"] >= 1
    assert report.ok, report
    assert (report.lost, report.duplicated, report.unresolved, report.vacuous) == (0, 0, 0, 0)
    assert (report.mismatched, report.trespassed, report.misresolved) == (0, 0, 0)
    assert report.refusals == {}
    resolution = registry.spec(channel).declared_capabilities().resolution
    if resolution is Resolution.REVERSE:
        # A till undoes every payment whose answer it did not get: only the control run paid.
        assert report.payments_applied == report.kill_points["none"] == 1
        assert report.reversals >= 1
    elif resolution is Resolution.ADVICE:
        # An advice completes every payment, crashed or not: each applied (some then reversed).
        assert report.payments_applied + report.reversals == runs
    else:
        # Not vacuous: the control run and the retries paid, and crashes after the host
        # committed count once.
        assert report.payments_applied >= 1 + report.kill_points.get("retried", 0)
        assert report.recovered.get("applied", 0) >= 1


def test_a_run_whose_payments_are_refused_before_sending_is_vacuous(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bank agent's id at a post office: every payment is refused before it is journaled, so
    # nothing is lost or doubled - and nothing was tested.
    code = main(
        [
            "chaos",
            "--channel",
            "kantorpos",
            "--agent-id",
            "AGEN46-0001",
            "--runs",
            "2",
            "--seed",
            "5",
            "--json",
            "--workdir",
            str(tmp_path),
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["ok"] is False
    assert document["lost"] == document["duplicated"] == document["unresolved"] == 0
    assert document["vacuous"] >= 1
    assert document["payments_applied"] == 0
    assert document["refusals"] == {"capability.agent_not_teller": document["vacuous"]}


def test_chaos_command_prints_real_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["chaos", "--runs", "3", "--seed", "5", "--json", "--workdir", str(tmp_path)])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["runs"] == 3
    assert {"lost", "duplicated", "unresolved", "vacuous", "kill_points"} <= set(document)
    assert document["lost"] == document["duplicated"] == document["unresolved"] == 0
    assert document["vacuous"] == 0
    assert document["payments_applied"] >= 1


def test_chaos_refuses_a_channel_the_sandbox_does_not_serve(tmp_path: Path) -> None:
    assert main(["chaos", "--channel", "nope", "--workdir", str(tmp_path)]) == 2


# The comparison, on its own -----------------------------------------------------------------


def payment(reference: str, nik: str = "3201015508950001", month: str = "2026-11") -> LedgerEntry:
    return LedgerEntry(
        kind="payment",
        channel="linkaja",
        reference=reference,
        host_reference=f"H-{reference}",
        nik=nik,
        periods=(YearMonth.parse(month),),
        amount=16800,
        at=NOW,
    )


def journaled(
    reference: str, nik: str = "3201015508950001", month: str = "2026-11", amount: int = 16800
) -> dict[str, Any]:
    """What ``Client.pay`` journals: the request as the adapter got it."""
    request = PaymentRequest(
        reference=reference,
        customer=CustomerId.nik(nik),
        periods=(YearMonth.parse(month),),
        amount=amount,
        admin_fee=0,
        payer=Payer.self_paid(),
        inquiry_id=None,
        requested_at=NOW,
    )
    return {"request": unstructure(request), "months": 1}


def entry(reference: str, state: EntryState, request: dict[str, Any] | None = None) -> Entry:
    return Entry(
        id=1,
        channel="linkaja",
        operation="pay",
        reference=reference,
        state=state,
        request=journaled(reference) if request is None else request,
        outcome=None,
        attempts=1,
        created_at=NOW,
        updated_at=NOW,
    )


def test_compare_counts_each_disagreement() -> None:
    ledger = [payment("A"), payment("B", month="2026-12"), payment("B", month="2026-12")]
    entries = {
        "A": entry("A", EntryState.NOT_APPLIED),  # money taken, journal says unpaid
        "B": entry("B", EntryState.APPLIED),
        "C": entry("C", EntryState.APPLIED),  # a receipt for money never taken
        "D": entry("D", EntryState.PENDING),
    }
    found = compare(ledger, entries, uncrashed={"A", "E"})
    assert found.applied == {"A", "B"}
    assert found.lost == 2
    assert found.duplicated == 2  # one reference twice, one month twice
    assert found.unresolved == 1
    assert found.vacuous == 1  # E ran uncrashed and was never applied


def test_compare_of_nothing_is_not_vacuous_only_when_nothing_was_expected() -> None:
    assert compare([], {}, uncrashed=()).vacuous == 0
    assert compare([], {}, uncrashed=("X",)).vacuous == 1


def reversal(reference: str) -> LedgerEntry:
    paid = payment(reference)
    return LedgerEntry(
        kind="reversal",
        channel=paid.channel,
        reference=reference,
        host_reference=paid.host_reference,
        nik=paid.nik,
        periods=paid.periods,
        amount=paid.amount,
        at=NOW,
    )


def test_compare_holds_what_the_host_took_against_what_was_journaled() -> None:
    ledger = [
        payment("OK"),
        payment("NIK", nik="3201015508950002"),  # another customer than the journal's
        payment("MONTH", month="2026-12"),  # another month
        attrs.evolve(payment("AMOUNT", month="2027-01"), amount=1),  # another amount
    ]
    entries = {ref: entry(ref, EntryState.APPLIED) for ref in ("OK", "NIK", "MONTH")}
    entries["AMOUNT"] = entry("AMOUNT", EntryState.APPLIED, journaled("AMOUNT", month="2027-01"))
    found = compare(ledger, entries, uncrashed=())
    assert found.applied == {"OK", "NIK", "MONTH", "AMOUNT"}
    assert (found.lost, found.duplicated, found.mismatched) == (0, 0, 3)
    # A journal entry whose request cannot be read proves nothing about what was paid.
    unreadable = {"OK": entry("OK", EntryState.APPLIED, request={})}
    assert compare([payment("OK")], unreadable, uncrashed=()).mismatched == 1


def test_compare_matches_host_reversals_with_reversed_entries_both_ways() -> None:
    ledger = [payment("R1"), reversal("R1"), payment("R2"), reversal("R2"), payment("R3")]
    entries = {
        "R1": entry("R1", EntryState.REVERSED),  # agrees
        "R2": entry("R2", EntryState.APPLIED),  # refunded at the host, a receipt here
        "R3": entry("R3", EntryState.REVERSED),  # refunded here, the host kept the money
    }
    found = compare(ledger, entries, uncrashed={"R1"})
    assert found.applied == {"R3"}
    assert found.reversed == {"R1", "R2"}
    assert (found.lost, found.mismatched, found.vacuous) == (0, 2, 0)  # R1 was paid: not vacuous
    # A reversal of a payment the journal never saw, and one of a payment never made.
    assert compare([payment("X"), reversal("X")], {}, uncrashed=()).mismatched == 1
    assert compare([reversal("Y")], {}, uncrashed=()).mismatched == 1
    # A payment the journal calls unpaid, paid and refunded at the host.
    assert compare(ledger[:2], {"R1": entry("R1", EntryState.NOT_APPLIED)}, ()).mismatched == 1
    # A month paid again after its payment was reversed is no double payment.
    again = attrs.evolve(payment("R4"), periods=ledger[0].periods)
    assert compare([*ledger[:2], again], {}, ()).duplicated == 0
    # A second reversal of one payment is money moved twice.
    assert compare([*ledger[:2], reversal("R1")], {"R1": entries["R1"]}, ()).duplicated == 1


def test_trespasses_are_take_overs_of_live_payers_leases() -> None:
    def taken(owner: str) -> Transition:
        why = f"lease of {owner} expired: taken over"
        return Transition(1, NOW, "recover", EntryState.UNKNOWN, EntryState.UNKNOWN, why)

    lines = [
        taken("inst/101/aa.1"),  # a live payer's: a trespass
        taken("inst/102/bb.1"),  # a killed payer's: what recover is for
        Transition(1, NOW, "pay", None, EntryState.PENDING, "journaled"),
    ]
    assert trespasses(lines, live_owners={"inst/101/aa.1"}) == 1
    assert trespasses(lines, live_owners=()) == 0


# The proxy ------------------------------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, channels=("linkaja",)) as running:
        yield running


def client_through(
    sandbox: Sandbox, proxy: Proxy, journal: Journal, channel: str = "linkaja"
) -> Client:
    settings = dict(sandbox.info()["channels"][channel])
    settings["base_url"] = proxy.through(settings["base_url"])
    spec = registry.spec(channel)
    adapter = spec.open_adapter(
        settings,
        journal=journal,
        clock=sandbox.host.now,
        timeouts=Timeouts(connect=2.0, read=0.3),
    )
    return Client(
        adapter,
        journal=journal,
        clock=sandbox.host.now,
        agent_id=spec.parse_settings(settings).agent_id,
        poll_interval=0.01,
    )


def applied(sandbox: Sandbox, reference: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while reference not in sandbox.host.applied_references("linkaja"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_proxy_holds_a_payment_before_it_reaches_the_host(sandbox: Sandbox) -> None:
    assert sandbox.server is not None
    nik = sandbox.demo_participants[0]["nik"]
    with Proxy(sandbox.server.base_url) as proxy, Journal(clock=sandbox.host.now) as journal:
        client = client_through(sandbox, proxy, journal)
        held = proxy.hold("HOLD-1", seconds=60.0)  # until released below
        with pytest.raises(OutcomeUnknown):  # the read timeout fired first
            client.pay(nik, months=1, reference="HOLD-1")
        assert held.matched.is_set()
        assert not held.forwarded.is_set()
        # The host has not seen it: "not found" now is no proof (the settle window).
        assert "HOLD-1" not in sandbox.host.applied_references("linkaja")
        assert client.recover().still_unknown == ("HOLD-1",)
        held.release()
        assert held.forwarded.wait(10.0)
        assert applied(sandbox, "HOLD-1")  # it reached the host late, and was applied
        assert client.recover().applied == ("HOLD-1",)
        settled = journal.get("linkaja", "pay", "HOLD-1")
        assert settled is not None
        assert settled.state is EntryState.APPLIED


def test_the_proxy_drops_an_answer_after_the_host_applied(sandbox: Sandbox) -> None:
    assert sandbox.server is not None
    nik = sandbox.demo_participants[0]["nik"]
    with Proxy(sandbox.server.base_url) as proxy, Journal(clock=sandbox.host.now) as journal:
        client = client_through(sandbox, proxy, journal)
        dropped = proxy.drop_answer("DROP-1")
        receipt = client.pay(nik, months=1, reference="DROP-1")  # resolved by status
        assert dropped.forwarded.is_set()
        assert receipt.channel_reference == "DROP-1"
        history = journal.history(receipt_entry(journal, "DROP-1").id)
        assert [line.to_state for line in history] == [
            EntryState.PENDING,
            EntryState.UNKNOWN,
            EntryState.APPLIED,
        ]


def receipt_entry(journal: Journal, reference: str) -> Entry:
    found = journal.get("linkaja", "pay", reference)
    assert found is not None
    return found


def test_a_request_held_when_the_proxy_closes_never_reaches_the_host(sandbox: Sandbox) -> None:
    assert sandbox.server is not None
    nik = sandbox.demo_participants[0]["nik"]
    with Journal(clock=sandbox.host.now) as journal:
        proxy = Proxy(sandbox.server.base_url).start()
        client = client_through(sandbox, proxy, journal)
        held = proxy.hold("GONE-1", seconds=60.0)
        with pytest.raises(OutcomeUnknown):
            client.pay(nik, months=1, reference="GONE-1")
        proxy.close()
        assert held.matched.is_set()
        assert not held.forwarded.is_set()
        assert not applied(sandbox, "GONE-1", timeout=0.2)


@pytest.mark.parametrize("channel", HTTP)
def test_a_payment_held_past_the_settle_window_is_refused_by_the_host(channel: str) -> None:
    # The other half of the settle window: recover calls a payment unpaid once the window has
    # passed, so the host must refuse that payment if it arrives later still (stale send time).
    with Sandbox(seed=3, channels=(channel,)) as sandbox, Journal() as journal:
        assert sandbox.server is not None
        with Proxy(sandbox.server.base_url) as proxy:
            client = client_through(sandbox, proxy, journal, channel)
            held = proxy.hold("LATE-1", seconds=60.0)
            with pytest.raises(OutcomeUnknown):
                client.pay(sandbox.demo_participants[0]["nik"], months=1, reference="LATE-1")
            sandbox.host.advance(client.capabilities.settle_window + dt.timedelta(seconds=1))
            assert client.recover().not_applied == ("LATE-1",)
            served = sandbox.stats["gateway_requests"]
            held.release()
            assert held.forwarded.wait(10.0)
            deadline = time.monotonic() + 10.0
            while sandbox.stats["gateway_requests"] == served and time.monotonic() < deadline:
                time.sleep(0.01)  # until the host has answered the late request
            assert sandbox.stats["gateway_requests"] > served
        assert "LATE-1" not in sandbox.host.applied_references(channel)
        late = journal.get(channel, "pay", "LATE-1")
        assert late is not None
        assert late.state is EntryState.NOT_APPLIED


def test_the_proxy_forwards_only_to_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Proxy("http://192.0.2.1:80")
    with pytest.raises(ValueError, match="loopback"):
        Proxy("127.0.0.1")  # no port


# Listening fakes ------------------------------------------------------------------------------


def test_a_listening_fake_adds_its_own_tcp_faults_to_the_scenarios() -> None:
    assert {"brilink", "indomaret", "alfamart"} <= set(LISTENING)
    assert "linkaja" in HTTP
    for channel in LISTENING:
        assert kill_points(channel) == (*KILL_POINTS, *TCP_FAULTS)
    for channel in HTTP:
        assert kill_points(channel) == KILL_POINTS


def test_a_switch_adapter_takes_the_generic_timeouts_as_its_timers() -> None:
    # What lets a chaos worker shorten any channel's waits alike: the read timeout becomes
    # every message's timer, the connect timeout the link's; the other timers stay.
    with Sandbox(seed=3, channels=("brilink",)) as sandbox, Journal() as journal:
        settings = sandbox.info()["channels"]["brilink"]
        spec = registry.spec("brilink")
        adapter: Any = spec.open_adapter(
            settings, journal=journal, timeouts=Timeouts(connect=1.5, read=0.4)
        )
        try:
            shipped = spec.declared_capabilities()  # loads the profile
            assert shipped.resolution is Resolution.ADVICE
            assert adapter.timers.payment_timeout == adapter.timers.inquiry_timeout == 0.4
            assert adapter.timers.repeats == adapter.profile.timers.repeats
            assert adapter.timers.payment_timeout != adapter.profile.timers.payment_timeout
            assert adapter.session.transport.timeouts.connect == 1.5
        finally:
            adapter.close()
