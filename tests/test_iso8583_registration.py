"""BRILink registration with OTP over ISO 8583 (issue 12): the project's two 0200 messages
(``390000`` the worker in DE48 → the OTP challenge; ``390100`` the OTP → the KPJ) through
``connect("brilink", ...)`` against the fake switch over the fake host.

Registration then a payment for the new worker; a sponsor (SERTAKAN) registering someone; the
refusals typed as SNAP's registration types them (wrong OTP, expired OTP, a NIK already
registered, a repeated STAN); the tills refusing registration before sending; no personal data
in what the library shows; the DE48 items round-tripping (hypothesis).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iso8583_kit import AGENT
from test_client import NIK, Clock, payments, person
from test_redaction import people

from jamsostek_channels import parse_participant
from jamsostek_channels.adapters.iso8583 import (
    FinancialRequest,
    FinancialResponse,
    NetworkCode,
    NetworkRequest,
    TransmissionTime,
    flows,
)
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.adapters.iso8583.tlv import PrivateData
from jamsostek_channels.channel import (
    OtpChallenge,
    OtpConfirmation,
    Registration,
    RegistrationRequest,
)
from jamsostek_channels.client import Client
from jamsostek_channels.errors import CapabilityRefused, HostDeclined, MalformedMessage
from jamsostek_channels.model import Participant, Payer, PayerKind, Program
from jamsostek_channels.period import YearMonth
from jamsostek_channels.testing.host import FakeHost

#: A worker the host does not know yet (the seeded one is serial 1).
NEW = 5


@pytest.fixture
def brilink(switches: Callable[[str], FakeSwitch]) -> FakeSwitch:
    return switches("brilink")


def financial(switch: FakeSwitch) -> list[str]:
    return [mti for mti in switch.received if not mti.startswith("08")]


# Registration, then a payment ------------------------------------------------------------------


def test_register_confirm_then_pay_for_the_new_worker(
    brilink: FakeSwitch, clients: Callable[..., Client], host: FakeHost, clock: Clock
) -> None:
    client = clients(brilink)
    assert "register" in {op.value for op in client.capabilities.operations}
    worker = person(NEW)

    challenge = client.register(worker, reference="REG-0001")

    assert challenge.reference == "REG-0001"
    assert challenge.expires_at == clock() + host.otp_ttl
    assert challenge.phone_masked.count("*") >= 4
    registration = client.confirm_registration(challenge, host.last_otp(worker.nik))

    member = host.participant(worker.nik)
    assert member is not None
    assert registration.kpj == member.kpj
    assert registration.reference == "REG-0001"
    assert registration.name == worker.name
    assert registration.nik_masked == "3201********0005"
    assert registration.registered == YearMonth.of(clock().date())
    assert registration.programs == worker.programs
    assert member.participant == worker  # every field of the worker arrived as it was sent

    receipt = client.pay(registration.kpj, months=1, reference="PAY-NEW-0001")
    assert receipt.amount > 0
    assert payments(host) == ["PAY-NEW-0001"]
    assert financial(brilink) == ["0200"] * 4  # registration, confirmation, inquiry, payment
    assert all(code == "00" for _mti, code in brilink.answers)


def test_the_agent_id_travels_in_every_registration_message(
    brilink: FakeSwitch, clients: Callable[..., Client], host: FakeHost
) -> None:
    seen: list[str | None] = []
    handle = brilink._registration  # the switch's handler, watched

    def watched(message: Any) -> Any:
        seen.append(message.merchant)
        return handle(message)

    brilink._registration = watched  # type: ignore[method-assign]
    client = clients(brilink, agent_id="AGEN-0777")
    challenge = client.register(person(NEW), reference="REG-0002")
    client.confirm_registration(challenge, host.last_otp(person(NEW).nik))
    assert seen == ["AGEN-0777", "AGEN-0777"]


def test_the_same_reference_again_returns_the_same_challenge(
    brilink: FakeSwitch, clients: Callable[..., Client], host: FakeHost
) -> None:
    client = clients(brilink)
    first = client.register(person(NEW), reference="REG-0003")
    again = client.register(person(NEW), reference="REG-0003")
    assert again == first
    assert len(host.sms_outbox) == 1  # one OTP sent


def test_a_sponsor_registers_a_worker(
    brilink: FakeSwitch, clients: Callable[..., Client], host: FakeHost
) -> None:
    """SERTAKAN: someone else registers the worker (the profile's ``sponsor_registration``);
    the sponsor's kind, name and reference reach the host."""
    received: list[RegistrationRequest] = []
    request_registration = host.request_registration

    def watched(channel: str, request: RegistrationRequest) -> OtpChallenge:
        received.append(request)
        return request_registration(channel, request)

    host.request_registration = watched  # type: ignore[method-assign]
    sponsor = Payer(PayerKind.SERTAKAN, name="Budi Santoso, S.E.", reference="SPONSOR/42")
    client = clients(brilink)
    assert client.capabilities.sponsor_registration
    challenge = client.register(person(NEW), reference="REG-0004", payer=sponsor)
    registration = client.confirm_registration(challenge, host.last_otp(person(NEW).nik))

    assert [request.payer for request in received] == [sponsor]
    assert [request.agent_id for request in received] == [AGENT]
    assert registration.kpj == host.participant(person(NEW).nik).kpj  # type: ignore[union-attr]


# Refusals, typed as SNAP's registration types them ------------------------------------------------


def test_a_wrong_otp_is_otp_invalid_and_the_right_one_still_works(
    brilink: FakeSwitch, clients: Callable[..., Client], host: FakeHost
) -> None:
    client = clients(brilink)
    challenge = client.register(person(NEW), reference="REG-0005")
    otp = host.last_otp(person(NEW).nik)
    wrong = f"{(int(otp) + 1) % 1_000_000:06d}"
    with pytest.raises(HostDeclined) as declined:
        client.confirm_registration(challenge, wrong)
    assert (declined.value.code, declined.value.host_code) == ("host.otp_invalid", "55")
    assert wrong not in str(declined.value)
    assert otp not in repr(declined.value)
    assert host.participant(person(NEW).nik) is None
    assert client.confirm_registration(challenge, otp).reference == "REG-0005"


def test_an_expired_otp_is_otp_expired(
    brilink: FakeSwitch, clients: Callable[..., Client], host: FakeHost, clock: Clock
) -> None:
    client = clients(brilink)
    challenge = client.register(person(NEW), reference="REG-0006")
    clock.advance(seconds=host.otp_ttl.total_seconds())
    with pytest.raises(HostDeclined) as declined:
        client.confirm_registration(challenge, host.last_otp(person(NEW).nik))
    assert (declined.value.code, declined.value.host_code) == ("host.otp_expired", "75")
    assert host.participant(person(NEW).nik) is None


def test_too_many_wrong_otps_expire_the_challenge(
    brilink: FakeSwitch, clients: Callable[..., Client], host: FakeHost
) -> None:
    client = clients(brilink)
    challenge = client.register(person(NEW), reference="REG-0007")
    otp = host.last_otp(person(NEW).nik)
    wrong = f"{(int(otp) + 1) % 1_000_000:06d}"
    for _ in range(host.otp_attempts):
        with pytest.raises(HostDeclined, match="OTP"):
            client.confirm_registration(challenge, wrong)
    with pytest.raises(HostDeclined) as declined:
        client.confirm_registration(challenge, otp)
    assert declined.value.code == "host.otp_expired"


def test_a_nik_already_registered_is_refused(
    brilink: FakeSwitch, clients: Callable[..., Client]
) -> None:
    with pytest.raises(HostDeclined) as declined:
        clients(brilink).register(person(1), reference="REG-0008")  # the seeded worker
    assert (declined.value.code, declined.value.host_code) == ("host.already_registered", "26")
    assert NIK not in str(declined.value)
    assert NIK not in repr(declined.value)


def test_a_nik_registered_meanwhile_is_refused_at_confirmation(
    brilink: FakeSwitch, clients: Callable[..., Client], host: FakeHost
) -> None:
    client = clients(brilink)
    first = client.register(person(NEW), reference="REG-0009")
    first_otp = host.last_otp(person(NEW).nik)
    second = client.register(person(NEW), reference="REG-0010")  # another kiosk, same worker
    client.confirm_registration(first, first_otp)
    with pytest.raises(HostDeclined) as declined:
        client.confirm_registration(second, host.last_otp(person(NEW).nik))
    assert declined.value.code == "host.already_registered"


def test_a_repeated_stan_is_a_conflict_and_nothing_is_processed(
    brilink: FakeSwitch, clients: Callable[..., Client], host: FakeHost
) -> None:
    """A terminal whose journal was lost counts its STANs from 1 again: the switch answers the
    reused STAN ``94`` with the first message's elements, processes nothing, and the library
    says ``host.conflict`` (as SNAP does for a reused X-EXTERNAL-ID)."""
    clients(brilink).register(person(NEW), reference="REG-0011")
    restored = clients(brilink, journal="lost")  # the same terminal, counting from 1 again
    with pytest.raises(HostDeclined) as declined:
        restored.register(person(NEW + 1), reference="REG-0012")
    assert (declined.value.code, declined.value.host_code) == ("host.conflict", "94")
    assert len(host.sms_outbox) == 1  # no OTP for the second worker
    with pytest.raises(KeyError):
        host.last_otp(person(NEW + 1).nik)


@pytest.mark.parametrize("till", ["indomaret", "alfamart"])
def test_the_tills_refuse_registration_before_sending(
    till: str, switches: Callable[[str], FakeSwitch], clients: Callable[..., Client], clock: Clock
) -> None:
    switch = switches(till)
    client = clients(switch)
    assert "register" not in {op.value for op in client.capabilities.operations}
    with pytest.raises(CapabilityRefused):
        client.register(person(NEW), reference="REG-0013")
    challenge = OtpChallenge("REG-0013", "OTP0000000001", "0812****7890", clock())
    with pytest.raises(CapabilityRefused):
        client.confirm_registration(challenge, "123456")
    with pytest.raises(CapabilityRefused):  # the adapter itself, asked directly
        client.adapter.confirm_registration(OtpConfirmation(challenge, "123456"))  # type: ignore[attr-defined]
    assert financial(switch) == []


def test_a_till_switch_answers_a_registration_code_invalid_transaction(
    switches: Callable[[str], FakeSwitch], clock: Clock
) -> None:
    """BRILink's registration 0200 sent to a till's switch: ``24``, nothing done."""
    till = switches("indomaret")
    profile, codec = till.profile, till.codec
    now = TransmissionTime.of(clock(), profile.time_zone)
    request = RegistrationRequest("REG-0014", person(NEW), Payer.self_paid(), clock())
    message = FinancialRequest(
        processing_code="390000", amount=0, transmitted=now, stan=2,
        channel_type=profile.channel_type, acquirer=profile.acquirer_id,
        rrn=flows.rrn_of("REG-0014"), terminal="RAW-TERMINAL",
        private=flows.registration_data(profile.product_id, request),
    )  # fmt: skip
    till.handle(
        codec.encode(
            NetworkRequest(
                code=NetworkCode.SIGN_ON, transmitted=now, stan=1, terminal="RAW-TERMINAL"
            )
        )
    )
    answer = codec.decode(till.handle(codec.encode(message)) or b"")
    assert isinstance(answer, FinancialResponse)
    assert answer.response_code == "24"
    assert till.host.sms_outbox == []


# No personal data shown -----------------------------------------------------------------------


def test_no_personal_data_in_logs_or_reprs(
    brilink: FakeSwitch,
    clients: Callable[..., Client],
    host: FakeHost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = person(NEW)
    client = clients(brilink)
    with caplog.at_level(logging.DEBUG):
        challenge = client.register(worker, reference="REG-0015")
        otp = host.last_otp(worker.nik)
        registration = client.confirm_registration(challenge, otp)
    request = RegistrationRequest("REG-0015", worker, Payer.self_paid(), host.now())
    data = flows.registration_data("BPU001", request)
    shown = "\n".join(
        [
            caplog.text,
            repr(challenge),
            repr(registration),
            repr(OtpConfirmation(challenge, otp)),
            repr(data),
            repr(flows.confirmation_data("BPU001", OtpConfirmation(challenge, otp))),
        ]
    )
    for secret in (worker.nik, worker.name, worker.phone, worker.address, registration.kpj, otp):
        assert secret not in shown


def test_a_malformed_answer_is_a_typed_error() -> None:
    with pytest.raises(MalformedMessage):
        flows.challenge_of(PrivateData(other=[("RF", "REG-1"), ("OI", "OTP1"), ("OM", "x")]))
    with pytest.raises(MalformedMessage):
        flows.registration_result_of(
            PrivateData(other=[("RF", "REG-1"), ("C1", "12345678901"), ("WN", "A"), ("RG", "2026")])
        )
    at = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    good = flows.registration_data(
        "BPU001", RegistrationRequest("REG-1", person(NEW), Payer.self_paid(), at)
    )
    assert flows.registration_of(good, at=at, agent_id=None).participant == person(NEW)
    for tag, bad in (("WN", "Ani%ZZ"), ("WN", "Ani%FF"), ("WB", "1995-08-15"), ("WS", "X")):
        other = [(t, bad if t == tag else value) for t, value in good.other]
        with pytest.raises(MalformedMessage, match=tag):
            flows.registration_of(attrs.evolve(good, other=other), at=at, agent_id=None)


# The DE48 items round-trip ----------------------------------------------------------------------

#: Names and addresses beyond ASCII: percent-escaped on the wire, and long enough to continue.
EXTRAS = st.sampled_from(["", " Ñoño", " Wàhyu", " 王", " O'Neil-Putri", " " + "Panjang" * 12])
SPONSORS = st.sampled_from(
    [
        Payer.self_paid(),
        Payer(PayerKind.SERTAKAN, name="Siti Ängel, S.Pd.", reference="SP,01%"),
        Payer(PayerKind.CSR, name="PT Maju", scheme="SC"),
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=people(), extra=EXTRAS, street=EXTRAS, payer=SPONSORS, programs=st.booleans())
def test_the_registration_items_round_trip(
    data: dict[str, Any], extra: str, street: str, payer: Payer, programs: bool
) -> None:
    data = {
        **data,
        "name": (data["name"] + extra)[:100],
        "address": (data["address"] + street)[:200],
        "programs": ["jkk", "jkm", "jht"] if programs else ["jkk", "jkm"],
    }
    worker: Participant = parse_participant(data, as_of=dt.date(2026, 11, 22))
    at = dt.datetime(2026, 11, 22, 3, tzinfo=dt.UTC)
    request = RegistrationRequest("REG-42", worker, payer, at, agent_id="AGEN-1")
    wire = flows.registration_data("BPU001", request).encode()
    assert len(wire) <= 999
    assert flows.registration_of(PrivateData.decode(wire), at=at, agent_id="AGEN-1") == request

    challenge = OtpChallenge("REG-42", "OTP0000000042", "0812****7890", at)
    answer = flows.challenge_data("BPU001", challenge).encode()
    assert flows.challenge_of(PrivateData.decode(answer)) == challenge
    confirmation = OtpConfirmation(challenge, "012345")
    assert flows.confirmation_of(
        PrivateData.decode(flows.confirmation_data("BPU001", confirmation).encode())
    ) == ("REG-42", "OTP0000000042", "012345")

    registration = Registration(
        "REG-42", "12345678901", "3201********0005", worker.name, YearMonth(2026, 11),
        (Program.JKK, Program.JKM),
    )  # fmt: skip
    result = flows.registration_answer("BPU001", registration).encode()
    assert flows.registration_result_of(PrivateData.decode(result)) == registration
