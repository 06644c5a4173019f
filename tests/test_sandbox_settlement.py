"""``GET /control/settlement``: any faked channel's end-of-day settlement file for a day, through
the control API (teams in other languages reconcile a switch's day without TCP of their own)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from jamsostek_channels import registry
from jamsostek_channels.adapters.iso8583 import Timers
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.channel import CustomerId
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import JamsostekError
from jamsostek_channels.registry import SettlementFiles
from jamsostek_channels.testing.sandbox import Sandbox
from jamsostek_channels.testing.wire import WireRequest, WireResponse

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=JAKARTA)
DAY = NOW.date()
SWITCHES = ("brilink", "indomaret")
#: At least every switch's minimum amount per payment.
MINIMUM = max(registry.spec(name).declared_capabilities().min_amount for name in SWITCHES)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """Two switches and an HTTP channel on loopback; one payment through each switch today."""
    with Sandbox(seed=4, demo=12, channels=(*SWITCHES, "linkaja"), clock=lambda: NOW) as box:
        # Participants whose one month is past the tills' minimum amount.
        payable = [
            person["nik"] for person in box.demo_participants if _owes_enough(box, person["nik"])
        ]
        for name, nik in zip(SWITCHES, payable, strict=False):
            with box.client(name, timers=Timers(payment_timeout=3)) as client:
                client.pay(nik, months=1, reference=f"SETL-{name.upper()}")
        yield box


def _owes_enough(box: Sandbox, nik: str) -> bool:
    try:
        return box.host.inquire(CustomerId.nik(nik), 1).amount >= MINIMUM
    except JamsostekError:
        return False


def get(sandbox: Sandbox, **query: str) -> WireResponse:
    path = "/control/settlement?" + urlencode(query)
    return sandbox.dispatch(WireRequest("GET", path, {}, b""))


def switch(sandbox: Sandbox, name: str) -> FakeSwitch:
    server = sandbox.servers[name].server
    assert isinstance(server, FakeSwitch)
    return server


@pytest.mark.parametrize("name", SWITCHES)
def test_a_switch_s_settlement_file_comes_with_its_name_and_reads_back(
    sandbox: Sandbox, name: str, tmp_path: Path
) -> None:
    # Over HTTP, as a client in another language asks for it.
    answer = requests.get(
        sandbox.base_url + "/control/settlement",
        params={"channel": name, "day": DAY.isoformat()},
        timeout=5,
    )
    assert answer.status_code == 200
    file_name = switch(sandbox, name).settlement_name(DAY)
    assert answer.headers["content-disposition"] == f'attachment; filename="{file_name}"'
    assert answer.content == switch(sandbox, name).settlement_file(DAY)
    saved = tmp_path / file_name
    saved.write_bytes(answer.content)
    reader = registry.spec(name).settlement_reader
    assert reader is not None
    day, records = reader(saved)
    assert day == DAY
    assert [r.reference for r in records] == [f"SETL-{name.upper()}"]


def test_a_day_without_payments_is_a_file_without_lines(sandbox: Sandbox, tmp_path: Path) -> None:
    quiet = DAY - dt.timedelta(days=3)
    answer = get(sandbox, channel="brilink", day=quiet.isoformat())
    assert answer.status == 200
    saved = tmp_path / "quiet"
    saved.write_bytes(answer.body)
    reader = registry.spec("brilink").settlement_reader
    assert reader is not None
    day, records = reader(saved)
    assert (day, list(records)) == (quiet, [])


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ({"day": "2026-11-22"}, "missing_query", "channel"),
        ({"channel": "nope", "day": "2026-11-22"}, "unknown_channel", "channel"),
        ({"channel": "kantorpos", "day": "2026-11-22"}, "unknown_channel", "channel"),
        ({"channel": "brilink"}, "missing_query", "day"),
        ({"channel": "brilink", "day": "2026-13-01"}, "not_a_date", "day"),
        ({"channel": "brilink", "day": "20261122"}, "not_a_date", "day"),
        ({"channel": "brilink", "day": "2026-11-22T10"}, "not_a_date", "day"),
        ({"channel": "brilink", "day": "1999-12-31"}, "out_of_range", "day"),
        # An HTTP fake that writes no file here (its own API serves settlement).
        ({"channel": "linkaja", "day": "2026-11-22"}, "no_settlement_file", "channel"),
    ],
)
def test_bad_channels_and_days_are_typed_400s(
    sandbox: Sandbox, query: dict[str, str], code: str, field: str
) -> None:
    answer = get(sandbox, **query)
    assert answer.status == 400
    document = json.loads(answer.body)
    assert (document["error"], document["field"]) == (code, field)
    assert isinstance(document["detail"], str)


def test_it_takes_get_only(sandbox: Sandbox) -> None:
    answer = sandbox.dispatch(WireRequest("POST", "/control/settlement", {}, b""))
    assert answer.status == 405
    assert answer.headers["allow"] == "GET"


def test_a_switch_offers_settlement_files_and_an_http_fake_need_not() -> None:
    with Sandbox(demo=1, channels=("brilink", "kantorpos"), clock=lambda: NOW) as box:
        server: object = box.servers["brilink"].server
        assert isinstance(server, SettlementFiles)
        gateway: object = box.channels["kantorpos"].gateway
        # Kantor Pos's fake serves its offices' files on its own route, not as this protocol.
        assert not isinstance(getattr(gateway, "__self__", None), SettlementFiles)
        answer = get(box, channel="kantorpos", day=DAY.isoformat())
        assert json.loads(answer.body)["error"] == "no_settlement_file"
