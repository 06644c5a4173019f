"""Per-payment amount limits (issue 12): a payment outside a channel's limits is refused before
money moves, with :class:`AmountLimitRefused` naming the month count that fits, the same way by
the client and by ``quote --channel``.

The named count is checked as a property: over a maximum, its total fits and the next allowed
count's does not; under a minimum, its total reaches the minimum and the allowed count before it
does not. Then with the packaged rules (the counts priced by ``quote``), through a till's client
over the fake switch (Alfamart's cash limit against Indomaret's), and on the command line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_client import JUN, SEP, Clock, payments, person

from jamsostek_channels import AmountLimitRefused, CapabilityRefused, connect, quote
from jamsostek_channels.adapters.iso8583 import Timers
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.channel import Capabilities, Operation
from jamsostek_channels.cli.main import main
from jamsostek_channels.client import Client
from jamsostek_channels.limits import amount_refusal, outside_limits
from jamsostek_channels.period import month_range
from jamsostek_channels.registry import spec
from jamsostek_channels.testing.host import FakeHost

TILL = Capabilities(frozenset({Operation.PAY}), min_amount=10_000, max_amount=5_000_000)


def caps(minimum: int, maximum: int, counts: tuple[int, ...]) -> Capabilities:
    return attrs.evolve(TILL, min_amount=minimum, max_amount=maximum, month_counts=counts)


def totals(amounts: list[int]) -> dict[int, int]:
    return {count: sum(amounts[:count]) for count in range(1, len(amounts) + 1)}


# The named count, as a property ------------------------------------------------------------------

counts = st.lists(st.integers(1, 12), min_size=1, max_size=12, unique=True).map(
    lambda found: tuple(sorted(found))
)
month_amounts = st.lists(st.integers(1, 400_000), min_size=12, max_size=12)


@settings(max_examples=300, deadline=None)
@given(month_amounts, counts, st.integers(1, 200_000), st.integers(0, 3_000_000), st.data())
def test_the_named_count_fits_and_the_next_allowed_one_does_not(
    amounts: list[int], allowed: tuple[int, ...], minimum: int, room: int, data: st.DataObject
) -> None:
    channel = caps(minimum, minimum + room, allowed)
    months = data.draw(st.sampled_from(allowed))
    total = totals(amounts)
    refusal = amount_refusal("till", channel, months, amounts)
    if not outside_limits(channel, total[months]):
        assert refusal is None
        return
    assert isinstance(refusal, AmountLimitRefused)
    assert isinstance(refusal, CapabilityRefused)  # caught as every capability refusal
    assert refusal.field == "months"
    params = refusal.params
    assert (params["months"], params["amount"]) == (months, total[months])

    def fits(count: int) -> bool:
        return not outside_limits(channel, total[count])

    over = total[months] > minimum + room
    assert params["limit"] == (minimum + room if over else minimum)
    if over:
        smaller = [count for count in allowed if count < months]
        if "fits" in params:
            named = params["fits"]
            assert refusal.code == "capability.amount_max_months"
            assert named in smaller
            assert fits(named)
            assert params["fits_amount"] == total[named]
            # the next allowed count is over the limit (or is the refused count itself)
            assert all(total[count] > minimum + room for count in smaller if count > named)
        else:
            assert refusal.code == "capability.amount_max"
            assert not any(fits(count) for count in smaller)
    else:
        larger = [count for count in allowed if count > months]
        if "fits" in params:
            named = params["fits"]
            assert refusal.code == "capability.amount_min_months"
            assert named in larger
            assert fits(named)
            assert params["fits_amount"] == total[named]
            assert all(total[count] < minimum for count in larger if count < named)
        else:
            assert refusal.code == "capability.amount_min"
            assert not any(fits(count) for count in larger)


def test_the_message_names_the_count_in_both_languages() -> None:
    refusal = amount_refusal("alfamart", caps(10_000, 2_500_000, (1, 3, 6)), 6, [500_000] * 6)
    assert refusal is not None
    assert refusal.params == {
        "channel": "alfamart",
        "months": 6,
        "amount": 3_000_000,
        "limit": 2_500_000,
        "fits": 3,
        "fits_amount": 1_500_000,
    }
    assert refusal.message_id == (
        "Iuran 6 bulan (Rp3.000.000) melebihi batas kanal alfamart (Rp2.500.000) per transaksi."
        " Paling banyak 3 bulan (Rp1.500.000) dapat dibayar sekaligus."
    )
    assert refusal.message_en == (
        "6 months (Rp3.000.000) exceed channel alfamart's limit (Rp2.500.000) per payment."
        " At most 3 months (Rp1.500.000) can be paid at once."
    )
    assert refusal.as_dict()["params"] == refusal.params


def test_a_count_not_yet_priced_is_never_named() -> None:
    """Under a minimum, only the months priced can be named: the caller prices further."""
    channel = caps(50_000, 5_000_000, (1, 3, 6))
    assert amount_refusal("till", channel, 1, [20_000]).code == "capability.amount_min"  # type: ignore[union-attr]
    named = amount_refusal("till", channel, 1, [20_000] * 6)
    assert named is not None
    assert named.params["fits"] == 3


# With the packaged rules: each count priced by quote ---------------------------------------------

ALFAMART = spec("alfamart").declared_capabilities()
INDOMARET = spec("indomaret").declared_capabilities()


@settings(max_examples=60, deadline=None)
@given(
    income=st.integers(1_000_000, 30_000_000),
    programs=st.sampled_from([("jkk", "jkm"), ("jkk", "jkm", "jht")]),
    start=st.sampled_from(["2026-01", "2026-11", "2027-06"]),
    channel=st.sampled_from(["alfamart", "indomaret", "brilink"]),
)
def test_a_quote_over_a_tills_limit_names_a_count_priced_by_the_same_rules(
    income: int, programs: tuple[str, ...], start: str, channel: str
) -> None:
    capabilities = spec(channel).declared_capabilities()
    assert capabilities.max_amount is not None
    largest = max(capabilities.month_counts)

    def priced(months: int) -> int:
        return quote(
            income=income,
            occupations="pedagang",
            programs=programs,
            start=start,
            months=months,
            allowed_months=capabilities.month_counts,
        ).total

    by_month = quote(
        income=income, occupations="pedagang", programs=programs, start=start, months=largest
    ).by_month()
    refusal = amount_refusal(channel, capabilities, largest, [m.total for m in by_month])
    if priced(largest) <= capabilities.max_amount:
        assert refusal is None
        return
    assert refusal is not None
    assert refusal.code == "capability.amount_max_months"
    named = int(refusal.params["fits"])  # type: ignore[call-overload]
    assert refusal.params["fits_amount"] == priced(named) <= capabilities.max_amount
    following = min(count for count in capabilities.month_counts if count > named)
    assert priced(following) > capabilities.max_amount


def test_alfamart_cash_is_capped_lower_than_indomaret() -> None:
    """The profiles' limits as configured: Alfamart's cash cap is Rp2.500.000 per payment,
    Indomaret's (any tender) Rp5.000.000. Neither profile tells cash from non-cash tender: a
    till that takes cards at Alfamart is a profile of its own with its own ``max_amount``."""
    assert (ALFAMART.min_amount, ALFAMART.max_amount) == (10_000, 2_500_000)
    assert (INDOMARET.min_amount, INDOMARET.max_amount) == (10_000, 5_000_000)
    twelve = [546_850] * 12  # a month of Rp546.850: 4 fit in Rp2.500.000, 9 in Rp5.000.000
    at_alfamart = amount_refusal("alfamart", ALFAMART, 12, twelve)
    at_indomaret = amount_refusal("indomaret", INDOMARET, 12, twelve)
    assert at_alfamart is not None
    assert at_indomaret is not None
    assert (at_alfamart.params["fits"], at_indomaret.params["fits"]) == (4, 9)


# Through a till's client over the fake switch ----------------------------------------------------

TERMINALS = {"indomaret": "IDM-T001-0042", "alfamart": "ALF00001"}


@pytest.fixture
def host(clock: Clock) -> FakeHost:
    fake = FakeHost(clock=clock, seed=7)
    wealthy = person(3, income=20_000_000, programs=["jkk", "jkm", "jht"])
    fake.seed(wealthy, registered=JUN, paid=month_range(JUN, SEP - JUN + 1))
    return fake


@pytest.fixture
def till(host: FakeHost, clock: Clock, tmp_path: Path) -> Iterator[Callable[[str], Client]]:
    opened: list[tuple[FakeSwitch, Client]] = []

    def open_till(name: str) -> Client:
        switch = FakeSwitch(host, name, idle_timeout=10).start()
        client = connect(
            name,
            {"base_url": switch.address, "terminal_id": TERMINALS[name]},
            journal=tmp_path / f"{name}.sqlite",
            clock=clock,
            timers=Timers(inquiry_timeout=3, payment_timeout=0.5),
            sleep=lambda _: None,
        )
        opened.append((switch, client))
        return client

    yield open_till
    for switch, client in opened:
        client.close()
        switch.stop()


def test_a_till_refuses_before_paying_and_the_named_count_pays(
    till: Callable[[str], Client], host: FakeHost
) -> None:
    nik = person(3).nik
    alfamart = till("alfamart")
    with pytest.raises(AmountLimitRefused) as refused:
        alfamart.pay(nik, months=12, reference="ALF-0001")
    params: dict[str, Any] = dict(refused.value.params)
    assert refused.value.code == "capability.amount_max_months"
    assert params["limit"] == 2_500_000 < params["amount"]
    assert payments(host) == []  # refused before any money moved
    receipt = alfamart.pay(nik, months=params["fits"], reference="ALF-0002")
    assert receipt.amount == params["fits_amount"] <= 2_500_000
    assert payments(host) == ["ALF-0002"]

    indomaret = till("indomaret")  # the next months, under Indomaret's higher limit
    with pytest.raises(AmountLimitRefused) as again:
        indomaret.pay(nik, months=12, reference="IDM-0001")
    assert again.value.params["fits"] > params["fits"]


# On the command line -----------------------------------------------------------------------------


def test_quote_channel_names_the_count_with_its_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "quote", "--income", "20000000", "--occupation", "pedagang", "--programs", "jkk,jkm,jht",
        "--start", "2027-01", "--months", "12", "--channel", "alfamart", "--json",
    ]  # fmt: skip
    assert main(args) == 2
    (error,) = json.loads(capsys.readouterr().out)["errors"]
    assert (error["field"], error["code"]) == ("months", "capability.amount_max_months")
    assert error["params"]["limit"] == 2_500_000
    assert error["params"]["fits_amount"] <= 2_500_000 < error["params"]["amount"]
    assert f"Paling banyak {error['params']['fits']} bulan" in error["message_id"]
