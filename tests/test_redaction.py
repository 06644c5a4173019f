"""No personal data where people and log pipelines read: for generated participants, a working
day at each channel (registration with OTP, inquiry, payments by NIK and by KPJ, status, refusals)
through the in-process sandbox, with every HTTP body logged at DEBUG, leaves no full NIK, KPJ,
phone, name, address, birth date or e-mail in a log record, a ``repr``/``str`` or an exception
message. And the journal's file is readable by its owner only."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from conftest import participant_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jamsostek_channels import parse_participant
from jamsostek_channels.channel import (
    CustomerId,
    Inquiry,
    OtpChallenge,
    PaymentRequest,
    Registration,
    SettlementRecord,
    SettlementState,
)
from jamsostek_channels.client import Client
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import JamsostekError
from jamsostek_channels.journal import Journal
from jamsostek_channels.model import CoverageState, Participant, Payer, Payment, Receipt
from jamsostek_channels.period import YearMonth
from jamsostek_channels.testing.people import _MOBILE_PREFIXES, _districts
from jamsostek_channels.testing.sandbox import IN_PROCESS_URL, Sandbox
from jamsostek_channels.transport import HttpTransport

#: A Monday morning in Jakarta.
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=JAKARTA)
CHANNELS = ("linkaja", "kantorpos")
END_TO_END = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

WORD = st.from_regex(r"[A-Z][a-z]{3,9}", fullmatch=True)
NAMES = st.builds("{} {}".format, WORD, WORD)


@st.composite
def people(draw: st.DrawFn) -> dict[str, Any]:
    """A valid participant in canonical JSON: a real district, a NIK agreeing with the birth
    date and sex, a mobile number, and a name, address and e-mail of random words."""
    district, village, postal_code = draw(st.sampled_from(_districts(2026, 20)))
    female = draw(st.booleans())
    birth = draw(st.dates(dt.date(1970, 1, 1), dt.date(2004, 12, 31)))
    serial = draw(st.integers(1, 9999))
    day = birth.day + (40 if female else 0)
    word = draw(WORD)
    return {
        "nik": f"{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}",
        "name": draw(NAMES),
        "birth_date": birth.isoformat(),
        "sex": "female" if female else "male",
        "phone": draw(st.sampled_from(_MOBILE_PREFIXES))
        + draw(st.from_regex(r"[0-9]{8}", fullmatch=True)),
        "email": draw(st.sampled_from([None, f"{word.lower()}.{serial}@contoh.id"])),
        "address": f"Jl. {word} No. {draw(st.integers(1, 200))}, {village}",
        "postal_code": postal_code,
        "occupations": ["pedagang"],
        "income": 1_000_000,
        "programs": ["jkk", "jkm"],
    }


def personal(participant: Participant, kpj: str, *others: str) -> list[str]:
    """What must never be shown whole: each identifier in the forms people write it."""
    national = "0" + participant.phone.removeprefix("+62")
    values = [
        participant.nik,
        kpj,
        participant.phone,
        participant.phone.removeprefix("+"),
        national,
        f"{national[:4]}-{national[4:8]}-{national[8:]}",
        participant.name,
        participant.address,
        participant.birth_date.isoformat(),
        participant.birth_date.strftime("%d%m%Y"),
        *others,
    ]
    if participant.email:
        values.append(participant.email)
    return values


def assert_hidden(texts: list[str], secrets: list[str]) -> None:
    """No secret in any text; a number only where it stands alone (the sandbox's KPJ
    ``30000000001`` is also the tail of its inquiry id ``IQ...202611230000000001``)."""
    patterns = [
        re.compile(rf"(?<!\d){re.escape(s)}(?!\d)" if s.isdigit() else re.escape(s))
        for s in secrets
    ]
    for text in texts:
        for pattern in patterns:
            assert pattern.search(text) is None, f"{pattern.pattern!r} shown in {text[:300]!r}"


@contextmanager
def client_for(channel: str, seed: int) -> Iterator[tuple[Sandbox, Client]]:
    """A client whose transport logs every body (masked): the most a deployment can log."""
    box = Sandbox(seed=seed, demo=0, channels=(channel,), clock=lambda: NOW)
    box.install()
    transport = HttpTransport(IN_PROCESS_URL, name=channel, log_bodies=True)
    client = cast(
        Client,
        box.client(channel, clock=lambda: NOW, transport=transport, sleep=lambda _: None),
    )
    try:
        yield box, client
    finally:
        client.close()
        box.stop()


def working_day(box: Sandbox, client: Client, participant: Participant, sponsor: str) -> list[Any]:
    """Everything a counter does with one worker; returns the values it got back and the errors
    it caught, for their reprs."""
    shown: list[Any] = [participant, client, client.adapter, client.journal]

    def refused(call: Callable[[], object]) -> None:
        with pytest.raises(JamsostekError) as caught:
            call()
        shown.append(caught.value)
        shown.append(caught.value.as_dict())

    challenge = client.register(
        participant, reference="REG-1", payer=Payer("sertakan", name=sponsor)
    )
    refused(lambda: client.confirm_registration(challenge, "x" + participant.phone))
    registration = client.confirm_registration(challenge, box.host.last_otp(participant.phone))
    inquiry = client.inquire(participant.nik, months=1)
    receipt = client.pay(participant.nik, months=1, reference="PAY-1")
    later = client.pay(registration.kpj, months=1, reference="PAY-2")
    status = client.status("PAY-1")
    refused(lambda: client.register(participant, reference="REG-2"))  # already registered
    refused(lambda: client.pay(participant.nik[:15], months=1, reference="PAY-3"))
    refused(lambda: client.pay(registration.kpj, months=99, reference="PAY-4"))
    refused(lambda: client.pay(participant.nik, months=2, reference="PAY-1"))  # a conflict
    shown += [challenge, registration, inquiry, receipt, later, status]
    shown += list(client.journal.entries())
    shown += list(box.host.sms_outbox)
    return shown


@pytest.mark.parametrize("channel", CHANNELS)
@END_TO_END
@given(data=people(), sponsor=NAMES, seed=st.integers(0, 10_000))
def test_no_personal_data_in_logs_reprs_or_errors(
    channel: str,
    data: dict[str, Any],
    sponsor: str,
    seed: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    participant = parse_participant(data, as_of=NOW.date())
    with client_for(channel, seed) as (box, client):
        shown = working_day(box, client, participant, sponsor)
        member = box.host.participant(participant.nik)
        assert member is not None
        kpj = member.kpj
    bodies = [r for r in caplog.records if "request_body" in vars(r)]
    assert len(bodies) >= 8  # every exchange was logged with its bodies
    texts = [r.getMessage() + repr(vars(r)) for r in caplog.records]
    texts += [repr(value) + str(value) for value in shown]
    assert_hidden(texts, personal(participant, kpj, sponsor))


# reprs and exceptions of the model, without a channel -----------------------------------------


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=people(), sponsor=NAMES, kpj=st.from_regex(r"[1-9][0-9]{10}", fullmatch=True))
def test_reprs_show_initials_and_masked_numbers(
    data: dict[str, Any], sponsor: str, kpj: str
) -> None:
    participant = parse_participant({**data, "kpj": kpj}, as_of=NOW.date())
    payer = Payer("sertakan", name=sponsor)
    nik = participant.nik
    period = YearMonth(2026, 11)
    values: list[object] = [
        participant,
        payer,
        CustomerId.nik(nik),
        CustomerId.kpj(kpj),
        Payment("R", "kantorpos", nik, payer, (period,), participant.programs, 1, 0, NOW, kpj),
        Receipt("c", "R", "H", nik, participant.name, participant.programs, (period,), 1, 0, NOW),
        OtpChallenge("R", "C", participant.phone, NOW),
        Registration("R", kpj, nik, participant.name, period, participant.programs),
        Inquiry(
            CustomerId.kpj(kpj), "I", kpj, participant.name, (), CoverageState.ACTIVE, (), 0, 0
        ),
        PaymentRequest("R", CustomerId.nik(nik), (period,), 1, 0, payer, None, NOW),
        SettlementRecord("c", "R", "H", nik, (period,), 1, 0, NOW, SettlementState.PAID),
    ]
    texts = [repr(v) + str(v) + repr([v]) for v in values]
    assert_hidden(texts, personal(participant, kpj, sponsor))
    initials = " ".join(f"{word[0]}***" for word in participant.name.split())
    assert f"name={initials}" in repr(participant)
    assert f"kpj=*******{kpj[-4:]}" in repr(participant)


@given(data=people(), field=st.sampled_from(["nik", "phone", "birth_date", "name", "email"]))
def test_exceptions_never_carry_the_values_they_refuse(data: dict[str, Any], field: str) -> None:
    spoiled = {
        "nik": data["nik"][:15] + "x",
        "phone": "021" + data["phone"][4:],  # a landline
        "birth_date": "1890-01-01",
        "name": data["name"] + " <script>",
        "email": data["name"].replace(" ", "") + "@",
    }
    bad = {**data, field: spoiled[field]}
    with pytest.raises(JamsostekError) as caught:
        parse_participant(bad, as_of=NOW.date())
    error = caught.value
    text = repr(error) + str(error) + repr(error.as_dict()) + repr(error.args)
    for value in (data["nik"], data["phone"], data["name"], spoiled[field], data["address"]):
        assert value not in text


# The journal's file -----------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_journal_files_are_created_private(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    old = os.umask(0o022)  # the usual umask: SQLite alone would make them 0644
    try:
        journal = Journal(path)
        journal.begin("kantorpos", "pay", "R-1", {"customer": "3201015508950001"})
        companions = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        files = [path, *(p for p in companions if p.exists())]
        assert len(files) == 3  # WAL mode: both companions exist while it is open
        for file in files:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        journal.close()
    finally:
        os.umask(old)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_an_existing_journal_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    Journal(path).close()
    path.chmod(0o640)  # an operator's choice (a group that backs it up)
    Journal(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_reprs_stay_attrs_reprs() -> None:
    """The masks change values only: the field names and order stay as attrs writes them."""
    names = [f.name for f in attrs.fields(Participant)]
    text = repr(parse_participant(participant_data(email=None), as_of=NOW.date()))
    assert text.startswith("Participant(nik=3201********0001, name=S*** R***, ")
    assert all(f"{name}=" in text for name in names)
    assert "email=None" in text
    assert "birth_date=***" in text
    assert "address=***" in text


# Wire messages ----------------------------------------------------------------------------------

#: Fields that hold a person's data, whatever message carries them.
PERSONAL_FIELDS = frozenset(
    {"nik", "kpj", "customer_no", "name", "virtual_account_name", "payer_name", "phone"}
    | {"address", "birth_date", "email"}
)
#: Fields of those names that hold no person's data.
NOT_PERSONAL = frozenset({("SnapBill", "name")})  # the bill's name: "Iuran BPU"


def _message_classes() -> list[type]:
    from jamsostek_channels.adapters.kantorpos import types as kantorpos_types
    from jamsostek_channels.adapters.snap import codec as snap_codec

    return [
        value
        for module in (snap_codec, kantorpos_types)
        for value in vars(module).values()
        if isinstance(value, type) and attrs.has(value) and value.__module__ == module.__name__
    ]


def test_wire_messages_mask_personal_fields_in_repr() -> None:
    classes = _message_classes()
    checked = [
        (cls.__name__, field.name)
        for cls in classes
        for field in attrs.fields(cls)
        if field.name in PERSONAL_FIELDS
    ]
    assert len(checked) >= 10  # SNAP inquiries, payments, statuses; Kantor Pos participants...
    unmasked = [
        (cls.__name__, field.name)
        for cls in classes
        for field in attrs.fields(cls)
        if field.name in PERSONAL_FIELDS
        and not callable(field.repr)
        and (cls.__name__, field.name) not in NOT_PERSONAL
    ]
    assert unmasked == []
