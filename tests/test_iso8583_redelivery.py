"""The profile's timers drive the client's outbox (issue 12, item 3): an unanswered BRILink
payment's advice is sent as 0220, repeated as 0221 ``repeat_interval`` apart ``repeats`` times,
then every ``store_and_forward_interval``, and given up ``store_and_forward_expiry`` after it was
queued, reported by :meth:`Client.recover` for a person. The client's clock is moved by hand;
the switch is real TCP on a free loopback port (fixtures of ``test_iso8583_channel``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import test_iso8583_channel as iso
from test_client import NIK, Clock

from jamsostek_channels.adapters.iso8583 import load_profile
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.adapters.iso8583.profile import PROFILES
from jamsostek_channels.adapters.kantorpos.profile import load_profile as kantorpos_profile
from jamsostek_channels.adapters.snap.profile import PROFILES as SNAP_PROFILES
from jamsostek_channels.adapters.snap.profile import load_profile as snap_profile
from jamsostek_channels.channel import Capabilities, Redelivery
from jamsostek_channels.client import Client
from jamsostek_channels.errors import OutcomeUnknown
from jamsostek_channels.journal import EntryState, OutboxState
from jamsostek_channels.testing.direct import HostAdapter
from jamsostek_channels.testing.host import FakeHost

SECOND = dt.timedelta(seconds=1)

# The ISO 8583 channel tests' timers (a short payment timer); the fake host, its switches and
# clients are every ISO 8583 test's (tests/iso8583_kit.py).
timers = iso.timers
financial = iso.financial


def repeats(switch: FakeSwitch) -> int:
    return financial(switch).count("0221")


def test_brilink_repeats_its_advice_on_the_profiles_schedule_then_gives_up(
    switches: Callable[[str], FakeSwitch], clients: Callable[..., Client], clock: Clock,
) -> None:  # fmt: skip
    switch = switches("brilink")
    client = clients(switch)
    assert client.redelivery == Redelivery(30 * SECOND, 3, 60 * SECOND, dt.timedelta(days=1))
    switch.faults.inject("drop", match="PAY-SAF", times=1000)  # nothing about it is answered
    queued = clock()
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="PAY-SAF")
    assert financial(switch) == ["0200", "0200", "0220"]  # inquiry, payment, first advice

    # (seconds after queueing, 0221s sent by then): 30 s apart three times, then 60 s apart
    schedule = [(29, 0), (30, 1), (59, 1), (60, 2), (90, 3), (149, 3), (150, 4), (209, 4),
                (210, 5), (270, 6)]  # fmt: skip
    for seconds, expected in schedule:
        clock.now = queued + seconds * SECOND
        client.flush_outbox()
        assert repeats(switch) == expected, f"at {seconds} s"
    item = client.journal.outbox_item("brilink", "advice", "PAY-SAF")
    assert item is not None
    assert item.attempts == 7
    assert item.next_attempt_at == queued + 330 * SECOND

    clock.now = queued + dt.timedelta(days=1)  # the profile's store_and_forward_expiry
    sent = len(switch.received)
    report = client.recover()

    assert report.advices_expired == ("PAY-SAF",)
    assert report.still_unknown == ("PAY-SAF",)  # a person settles it now
    assert len(switch.received) == sent  # an expired advice is never sent again
    item = client.journal.outbox_item("brilink", "advice", "PAY-SAF")
    assert item is not None
    assert item.state is OutboxState.EXPIRED
    entry = client.journal.get("brilink", "pay", "PAY-SAF")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN
    assert client.recover().advices_expired == ()  # reported once


@pytest.mark.parametrize("name", ["indomaret", "alfamart"])
def test_a_tills_reversal_follows_the_same_schedule(
    name: str, switches: Callable[[str], FakeSwitch], clients: Callable[..., Client],
    clock: Clock,
) -> None:  # fmt: skip
    switch = switches(name)
    client = clients(switch)
    switch.faults.inject("drop", match="PAY-SAF", times=1000)
    queued = clock()
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="PAY-SAF")
    sent: list[int] = []
    for seconds in (29, 30, 60, 90, 149, 150):
        clock.now = queued + seconds * SECOND
        client.flush_outbox()
        sent.append(sum(financial(switch).count(mti) for mti in ("0401", "0420", "0421")))
    assert sent == [0, 1, 2, 3, 3, 4]  # the fourth in store-and-forward: test_iso8583_reversal_saf
    clock.now = queued + dt.timedelta(days=1)
    assert client.recover().reversals_expired == ("PAY-SAF",)


def test_a_profile_with_other_timers_gets_its_own_schedule(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "src/jamsostek_channels/adapters/iso8583/profiles"
            / "brilink.toml").read_text(encoding="utf-8")  # fmt: skip
    for old, new in [
        ("repeat_interval = 30 ", "repeat_interval = 10 "),
        ("repeats = 3 ", "repeats = 5 "),
        ("store_and_forward_interval = 60", "store_and_forward_interval = 300"),
        ("store_and_forward_expiry = 86400", "store_and_forward_expiry = 7200"),
    ]:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "other.toml"
    path.write_text(text, encoding="utf-8")

    schedule = load_profile(path).capabilities.redelivery

    assert schedule == Redelivery(10 * SECOND, 5, 300 * SECOND, dt.timedelta(hours=2))
    assert [schedule.wait_after(n) // SECOND for n in range(1, 8)] == [10] * 5 + [300] * 2


@pytest.mark.parametrize("name", PROFILES)
def test_every_shipped_profile_states_the_documented_schedule(name: str) -> None:
    assert load_profile(name).capabilities.redelivery == Redelivery(
        30 * SECOND, 3, 60 * SECOND, dt.timedelta(days=1)
    )


def test_other_channels_keep_a_flat_30_seconds_for_a_day() -> None:
    flat = Redelivery(30 * SECOND, 0, 30 * SECOND, dt.timedelta(days=1))
    assert Capabilities(frozenset()).redelivery == flat
    assert kantorpos_profile().capabilities.redelivery == flat
    for name in SNAP_PROFILES:
        assert snap_profile(name).capabilities.redelivery == flat


def test_the_clients_keywords_replace_the_channels_schedule(host: FakeHost) -> None:
    def client(backoff: dt.timedelta | None = None, ttl: dt.timedelta | None = None) -> Client:
        return Client(
            HostAdapter(host), journal=":memory:", reversal_backoff=backoff, reversal_ttl=ttl
        )

    backoff = client(backoff=5 * SECOND).redelivery
    assert backoff == Redelivery(5 * SECOND, 0, 5 * SECOND, dt.timedelta(days=1))
    ttl = client(ttl=dt.timedelta(hours=1)).redelivery
    assert (ttl.interval, ttl.expiry) == (30 * SECOND, dt.timedelta(hours=1))


def test_a_schedule_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="repeat_interval"):
        Redelivery(repeat_interval=dt.timedelta(0))
    with pytest.raises(ValueError, match="repeats"):
        Redelivery(repeats=-1)
    with pytest.raises(ValueError, match="expiry"):
        Redelivery(expiry=-SECOND)
