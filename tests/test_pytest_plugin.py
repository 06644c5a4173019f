"""The pytest plugin: installed with the package, its fixtures work with no conftest at all."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = '''
import requests

from jamsostek_channels.client import Client
from jamsostek_channels.errors import HostDeclined
from jamsostek_channels.model import Receipt
from jamsostek_channels.testing.host import FakeHost


def pay_someone(client, people, prefix, skip=()):
    """Pay one month for the first demo participant who can pay (the mix has lapsed ones)."""
    for number, person in enumerate(people):
        if person["nik"] in skip:
            continue
        try:
            return person["nik"], client.pay(person["nik"], months=1, reference=f"{prefix}{number}")
        except HostDeclined:
            continue
    raise AssertionError("nobody could pay")


def test_sandbox(jamsostek_sandbox):
    client = jamsostek_sandbox.client("linkaja")
    assert isinstance(client, Client)
    people = jamsostek_sandbox.demo_participants
    assert len(people) >= 10
    nik, receipt = pay_someone(client, people, "PAY")
    assert isinstance(receipt, Receipt)
    assert receipt.channel == "linkaja"
    assert receipt.channel_reference.startswith("PAY")
    assert receipt.amount > 0 and len(receipt.periods) == 1
    assert receipt.nik_masked != nik  # masked on the receipt
    # A planned fault: the next payment's answer is lost; the client resolves it by status.
    jamsostek_sandbox.faults.inject("drop", match="transfer-va/payment")
    _other, after_drop = pay_someone(client, people, "DROP", skip={nik})
    assert after_drop.amount > 0
    assert [kind.value for kind, _ in jamsostek_sandbox.faults.history] == ["drop"]
    assert jamsostek_sandbox.faults.describe() == []
    # In process: the fixture's responses mock answers, no socket is opened.
    assert jamsostek_sandbox.base_url.startswith("https://")
    assert len(jamsostek_sandbox.host.ledger()) == 2


def test_host(jamsostek_host):
    assert isinstance(jamsostek_host, FakeHost)
    assert jamsostek_host.ledger() == ()
    seeded = jamsostek_host.seed_demo(3)
    assert len(seeded) == 3
    participant, kpj = seeded[0]
    assert jamsostek_host.participant(participant.nik) is not None


def test_server(jamsostek_server):
    base_url = jamsostek_server.base_url
    assert base_url.startswith("http://127.0.0.1:")
    info = jamsostek_server.info()
    assert info["control_url"] == base_url + "/control"
    answer = requests.get(base_url + "/control/ledger", timeout=5)
    assert answer.status_code == 200
    assert answer.json() == {"ledger": []}
    people = requests.get(base_url + "/control/participants", timeout=5).json()["participants"]
    assert len(people) >= 10
'''


def test_fixtures_come_from_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user_code=USER_TESTS)
    assert not list(pytester.path.glob("conftest.py"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_fixtures_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures")
    result.stdout.fnmatch_lines(
        ["*jamsostek_host*", "*jamsostek_sandbox*", "*jamsostek_server*"], consecutive=False
    )
    assert result.ret in (0, 5)  # 5: no tests collected


def test_without_the_entry_point_the_fixtures_are_missing(pytester: pytest.Pytester) -> None:
    """Disabling the plugin by its entry-point name removes them: they come from nowhere else."""
    pytester.makepyfile(test_user_code=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:jamsostek_channels")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*fixture 'jamsostek_sandbox' not found*"])


PARTNER_CONTRACT = '''
import attrs
import pytest

from jamsostek_channels.client import Client
from jamsostek_channels.journal import Journal
from jamsostek_channels.testing.contract import ChannelContract, ContractChannel
from jamsostek_channels.testing.direct import HostAdapter


class OwnPrices(HostAdapter):
    """A channel that adds a rupiah to every bill it shows: it must fail the contract."""

    def inquire(self, request):
        inquiry = super().inquire(request)
        bills = tuple(attrs.evolve(bill, amount=bill.amount + 1) for bill in inquiry.bills)
        return attrs.evolve(inquiry, bills=bills)


def own_prices(sandbox, /, **options):
    adapter = OwnPrices(sandbox.host, faults=sandbox.faults)
    return Client(adapter, journal=Journal(":memory:"), **options)


@pytest.fixture(params=["linkaja", "ownprices"])
def jamsostek_channel(request):
    if request.param == "ownprices":
        return ContractChannel("direct", payment_match="/direct/pay", client=own_prices)
    return ContractChannel("linkaja", payment_match="transfer-va/payment")


class TestPartnerContract(ChannelContract):
    pass
'''


def test_a_partner_runs_the_contract_with_one_fixture(pytester: pytest.Pytester) -> None:
    """Subclass and one fixture: the contract runs against the partner's channel, and a channel
    that prices by its own rules fails it (only there)."""
    pytester.makepyfile(test_partner=PARTNER_CONTRACT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-k", "inquiry or idempotent or coverage"
    )
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(["*FAILED*test_inquiry_prices_by_the_same_rules?ownprices?*"])


def test_the_contract_asks_for_the_channel_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_partner="from jamsostek_channels.testing.contract import ChannelContract\n\n"
        "class TestMine(ChannelContract):\n    pass\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "idempotent")
    result.assert_outcomes(errors=1)  # at setup: the default fixture says what is missing
    result.stdout.fnmatch_lines(["*needs a `jamsostek_channel` fixture*"])
