"""The SNAP adapter from the client's side, through the whole stack against the fake biller.

Every request the adapter sends is captured where the biller receives it (the sandbox's gateway
for the channel is wrapped), so the tests read the exact headers, path and body bytes that went
over the wire: the transaction headers and both signatures, the access token's cache and
refresh, the journaled X-EXTERNAL-ID, the payment's fields, and how each answer (refusals,
conflicts, 5xx, 429, ``paymentFlagStatus``, answers that contradict the request) reaches the
client, which resolves every open outcome by status and never pays twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import attrs
import pytest

from jamsostek_channels import registry
from jamsostek_channels.adapters.snap import codec, extensions
from jamsostek_channels.adapters.snap.adapter import TOKEN_MARGIN, SnapAdapter
from jamsostek_channels.adapters.snap.codes import ResponseCode
from jamsostek_channels.adapters.snap.fake import DEFAULT_TOKEN_TTL, SnapBiller
from jamsostek_channels.adapters.snap.profile import SnapCredentials, load_profile
from jamsostek_channels.adapters.snap.security import (
    EXTERNAL_ID_MAX,
    generate_key_pair,
    parse_timestamp,
    verify_symmetric,
    verify_token_request,
)
from jamsostek_channels.channel import (
    CustomerId,
    FeeSchedule,
    InquiryRequest,
    Operation,
    PaymentState,
    Reversals,
)
from jamsostek_channels.client import Client
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import (
    AuthenticationFailed,
    CapabilityRefused,
    HostDeclined,
    InvalidInput,
    MalformedMessage,
    NotDelivered,
    OutcomeUnknown,
    UnknownChannel,
)
from jamsostek_channels.journal import EntryState, Journal
from jamsostek_channels.sequences import SequenceSource
from jamsostek_channels.testing.sandbox import Sandbox
from jamsostek_channels.testing.wire import FaultKind, WireRequest, WireResponse

#: 10:00 WIB on the suite's "today" (Sunday 22 Nov 2026).
NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=JAKARTA)
#: A well-formed NIK the sandbox's host has never heard of.
UNKNOWN_NIK = "3201015508950001"
AGENT = "AGEN46-0001"

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00")
TIMESTAMP_MILLIS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+07:00")
EXTERNAL_ID = re.compile(r"[A-Za-z0-9]{1,36}")

TOKEN = codec.TOKEN_PATH
INQUIRY = codec.INQUIRY_PATH
PAYMENT = codec.PAYMENT_PATH
STATUS = codec.STATUS_PATH


class Clock:
    """The time the adapter, the client and the sandbox's host all read; moved by hand."""

    def __init__(self, start: dt.datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


Rewrite = Callable[[WireRequest, WireResponse | None], WireResponse]


@attrs.define
class _Plan:
    path: str
    rewrite: Rewrite
    forward: bool
    times: int


@attrs.frozen
class Exchange:
    request: WireRequest
    response: WireResponse

    @property
    def body(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.request.body)
        return document

    @property
    def answer(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.response.body)
        return document

    @property
    def code(self) -> str:
        return str(self.answer.get("responseCode"))


class Wire:
    """Stands in the sandbox in front of one channel's biller: records every request that
    reaches it with the answer it got, and can replace planned answers (after the biller
    processed the request, ``forward=True``, or instead of it)."""

    def __init__(self, sandbox: Sandbox, name: str) -> None:
        channel = sandbox.channels[name]
        self._inner = channel.gateway
        self.biller: SnapBiller = channel.gateway.__self__  # type: ignore[attr-defined]
        self.exchanges: list[Exchange] = []
        self._plans: list[_Plan] = []
        channel.gateway = self.gateway

    def gateway(self, request: WireRequest) -> WireResponse:
        plan = next((p for p in self._plans if p.times > 0 and request.path.endswith(p.path)), None)
        response: WireResponse | None = None
        if plan is None or plan.forward:
            response = self._inner(request)
        if plan is not None:
            plan.times -= 1
            response = plan.rewrite(request, response)
        assert response is not None
        self.exchanges.append(Exchange(request, response))
        return response

    def reset(self) -> None:
        """``Sandbox.reset`` finds the biller's reset through the gateway's ``__self__``."""
        self.biller.reset()

    def answer(self, path: str, rewrite: Rewrite, *, times: int = 1, forward: bool = False) -> None:
        self._plans.append(_Plan(path, rewrite, forward, times))

    def calls(self, path: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.request.path.endswith(path)]

    def transactions(self) -> list[Exchange]:
        return [e for e in self.exchanges if not e.request.path.endswith(TOKEN)]

    def tokens(self) -> list[str]:
        return [str(e.answer["accessToken"]) for e in self.calls(TOKEN) if e.response.status == 200]

    def external_ids(self) -> list[str]:
        return [e.request.header("x-external-id") for e in self.transactions()]


def snap_answer(code: str, message: str = "Refused") -> Rewrite:
    """A bare SNAP answer (HTTP status = the code's first three digits)."""

    def rewrite(request: WireRequest, response: WireResponse | None) -> WireResponse:
        return WireResponse.json(int(code[:3]), extensions.encode_answer(code, message, {}))

    return rewrite


def payment_data(change: Callable[[codec.SnapPaymentData], codec.SnapPaymentData]) -> Rewrite:
    """The biller's own payment answer with its ``virtualAccountData`` changed."""

    def rewrite(request: WireRequest, response: WireResponse | None) -> WireResponse:
        assert response is not None
        decoded = codec.decode_payment_response(response.body)
        assert decoded.virtual_account is not None
        changed = attrs.evolve(decoded, virtual_account=change(decoded.virtual_account))
        return WireResponse.json(response.status, codec.encode_payment_response(changed))

    return rewrite


# Fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    box = Sandbox(seed=7, clock=clock)
    box.install()
    yield box
    box.stop()


@pytest.fixture
def wire(sandbox: Sandbox) -> Wire:
    return Wire(sandbox, "linkaja")


def make_client(sandbox: Sandbox, clock: Clock, name: str = "linkaja", **options: Any) -> Client:
    options.setdefault("sleep", lambda seconds: None)
    client = cast(Client, sandbox.client(name, clock=clock, **options))
    adapter(client)._transport._sleep = lambda seconds: None  # 429 back-off, in zero time
    return client


def adapter(client: Client) -> SnapAdapter:
    assert isinstance(client.adapter, SnapAdapter)
    return client.adapter


@pytest.fixture
def client(sandbox: Sandbox, clock: Clock, wire: Wire) -> Iterator[Client]:
    made = make_client(sandbox, clock)
    yield made
    made.close()


def payable(sandbox: Sandbox, index: int = 0) -> str:
    """A demo participant who can pay (position 2 of the demo mix is lapsed)."""
    niks = [p["nik"] for i, p in enumerate(sandbox.demo_participants) if i != 2]
    return niks[index]


def lapsed(sandbox: Sandbox) -> str:
    return sandbox.demo_participants[2]["nik"]


def ledger(sandbox: Sandbox) -> list[Any]:
    return [e for e in sandbox.host.ledger() if e.kind == "payment"]


def info(sandbox: Sandbox, name: str = "linkaja") -> dict[str, Any]:
    entry: dict[str, Any] = sandbox.info()["channels"][name]
    return entry


def signed(request: WireRequest, secret: str, token: str) -> bool:
    return verify_symmetric(
        secret,
        request.method,
        request.path,
        token,
        request.body,
        request.header("x-timestamp"),
        request.header("x-signature"),
    )


# Headers and signatures ---------------------------------------------------------------------


def test_transaction_calls_carry_exactly_the_snap_headers(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    secret = info(sandbox)["client_secret"]
    client.pay(payable(sandbox), months=3, reference="REF-1")
    (token,) = wire.tokens()
    calls = wire.transactions()
    assert [e.request.path for e in calls] == ["/linkaja" + INQUIRY, "/linkaja" + PAYMENT]
    for exchange in calls:
        request = exchange.request
        headers = request.headers
        assert headers["content-type"] == "application/json"
        assert headers["authorization"] == f"Bearer {token}"
        assert headers["x-timestamp"] == "2026-11-22T10:00:00+07:00"
        assert TIMESTAMP.fullmatch(headers["x-timestamp"])
        assert headers["x-partner-id"] == info(sandbox)["partner_id"] == "linkaja-partner"
        assert EXTERNAL_ID.fullmatch(headers["x-external-id"])
        assert len(headers["x-external-id"]) <= EXTERNAL_ID_MAX
        assert headers["channel-id"] == load_profile("linkaja").channel_id == "95221"
        assert "x-client-key" not in headers
        # HMAC-SHA512 over POST, the path *with* the sandbox's prefix, the bare token, the
        # SHA-256 of the exact body bytes and the timestamp exactly as sent.
        assert signed(request, secret, token)
        assert not verify_symmetric(
            secret,
            "POST",
            request.path.removeprefix("/linkaja"),
            token,
            request.body,
            headers["x-timestamp"],
            headers["x-signature"],
        )
        tampered = request.body.replace(b'"customerNo":"', b'"customerNo":"9', 1)
        assert tampered != request.body
        assert not verify_symmetric(
            secret,
            "POST",
            request.path,
            token,
            tampered,
            headers["x-timestamp"],
            headers["x-signature"],
        )
        assert exchange.code.startswith("200")


def test_timestamp_follows_the_clock_in_jakarta_time(
    sandbox: Sandbox, wire: Wire, client: Client, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 11, 22, 3, 4, 5, 987_654, tzinfo=dt.UTC)
    client.inquire(payable(sandbox))
    for exchange in wire.exchanges:
        assert exchange.request.header("x-timestamp") == "2026-11-22T10:04:05+07:00"


def test_token_request_is_signed_with_the_partner_key(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    client.inquire(payable(sandbox))
    (exchange,) = wire.calls(TOKEN)
    request = exchange.request
    assert request.method == "POST"
    assert request.path == "/linkaja/v1.0/access-token/b2b"
    assert request.header("content-type") == "application/json"
    client_id = info(sandbox)["client_id"]
    assert request.header("x-client-key") == client_id
    timestamp = request.header("x-timestamp")
    assert TIMESTAMP.fullmatch(timestamp)
    assert "authorization" not in request.headers
    public_key = wire.biller.credentials.public_key_pem
    assert verify_token_request(public_key, client_id, timestamp, request.header("x-signature"))
    assert not verify_token_request(
        public_key, client_id + "x", timestamp, request.header("x-signature")
    )
    assert not verify_token_request(
        public_key, client_id, "2026-11-22T10:00:01+07:00", request.header("x-signature")
    )
    assert exchange.body == {"grantType": "client_credentials", "additionalInfo": {}}
    assert exchange.code == "2007300"


def test_timestamp_with_millis_when_the_profile_says_so(
    sandbox: Sandbox, wire: Wire, clock: Clock
) -> None:
    clock.now = NOW.replace(microsecond=123_456)
    profile = attrs.evolve(load_profile("linkaja"), timestamp_millis=True)
    settings = info(sandbox)
    credentials = SnapCredentials(
        client_id=settings["client_id"],
        client_secret=settings["client_secret"],
        private_key_pem=settings["private_key_pem"],
        partner_id=settings["partner_id"],
    )
    snap = SnapAdapter(
        profile,
        credentials,
        base_url=settings["base_url"],
        sequences=SequenceSource(Journal()),
        clock=clock,
    )
    try:
        inquiry = snap.inquire(InquiryRequest(CustomerId.parse(payable(sandbox)), 1))
    finally:
        snap.close()
    assert inquiry.amount > 0
    (token,) = wire.tokens()
    (call,) = wire.transactions()
    for exchange in wire.exchanges:
        timestamp = exchange.request.header("x-timestamp")
        assert timestamp == "2026-11-22T10:00:00.123+07:00"
        assert TIMESTAMP_MILLIS.fullmatch(timestamp)
        assert parse_timestamp(timestamp) == NOW.replace(microsecond=123_000)
    assert verify_token_request(
        wire.biller.credentials.public_key_pem,
        credentials.client_id,
        wire.calls(TOKEN)[0].request.header("x-timestamp"),
        wire.calls(TOKEN)[0].request.header("x-signature"),
    )
    assert signed(call.request, credentials.client_secret, token)


# The access token ---------------------------------------------------------------------------


def test_one_token_serves_many_calls(sandbox: Sandbox, wire: Wire, client: Client) -> None:
    nik = payable(sandbox)
    client.inquire(nik)
    client.inquire(nik, 3)
    client.inquire(payable(sandbox, 1))
    client.pay(nik, months=1, reference="REF-1")
    client.status("REF-1")
    assert len(wire.calls(TOKEN)) == 1
    (token,) = wire.tokens()
    assert len(wire.transactions()) == 6
    assert {e.request.header("authorization") for e in wire.transactions()} == {f"Bearer {token}"}


def test_token_is_renewed_before_it_expires(
    sandbox: Sandbox, wire: Wire, client: Client, clock: Clock
) -> None:
    nik = payable(sandbox)
    client.inquire(nik)
    first = parse_timestamp(wire.calls(TOKEN)[0].request.header("x-timestamp"))
    renew_at = DEFAULT_TOKEN_TTL - TOKEN_MARGIN  # 900 s less the margin
    clock.advance(seconds=renew_at.total_seconds() - 1)
    client.inquire(nik)
    assert len(wire.calls(TOKEN)) == 1  # still comfortably valid

    clock.advance(seconds=2)
    client.inquire(nik)
    assert len(wire.calls(TOKEN)) == 2
    old, new = wire.tokens()
    assert old != new
    renewed = parse_timestamp(wire.calls(TOKEN)[1].request.header("x-timestamp"))
    assert renewed < first + DEFAULT_TOKEN_TTL  # before the old one ran out
    assert wire.transactions()[-1].request.header("authorization") == f"Bearer {new}"
    # Renewed ahead of time: the biller never had to refuse a token.
    assert all(e.response.status != 401 for e in wire.exchanges)

    clock.advance(seconds=1000)  # long past expiry: renewed first, never sent stale
    client.pay(nik, months=1, reference="REF-1")
    assert len(wire.calls(TOKEN)) == 3
    assert all(e.response.status != 401 for e in wire.exchanges)


def test_a_token_the_biller_forgot_is_renewed_and_the_call_sent_once_more(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    nik = payable(sandbox)
    client.inquire(nik)
    wire.biller.reset()  # the biller forgets every token it issued
    before = len(wire.exchanges)

    receipt = client.pay(nik, months=1, reference="REF-1")

    old, new = wire.tokens()
    after = wire.exchanges[before:]
    assert [(e.request.path.removeprefix("/linkaja"), e.code) for e in after] == [
        (INQUIRY, "4012401"),
        (TOKEN, "2007300"),
        (INQUIRY, "2002400"),
        (PAYMENT, "2002500"),
    ]
    assert after[0].request.header("authorization") == f"Bearer {old}"
    assert after[2].request.header("authorization") == f"Bearer {new}"
    assert after[3].request.header("authorization") == f"Bearer {new}"
    assert receipt.amount == ledger(sandbox)[0].amount
    assert len(ledger(sandbox)) == 1


def test_sandbox_reset_forgets_tokens_through_the_wrapped_gateway(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    client.inquire(payable(sandbox))
    sandbox.reset()  # reaches the biller's reset through ``gateway.__self__``
    client.inquire(payable(sandbox))
    assert [e.code for e in wire.calls(INQUIRY)] == ["2002400", "4012401", "2002400"]
    assert len(wire.tokens()) == 2


def test_a_token_refused_twice_is_resent_only_once(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    wire.answer(PAYMENT, snap_answer("4012501", "Invalid Token (B2B)"), times=5)
    with pytest.raises(AuthenticationFailed) as refused:
        client.pay(payable(sandbox), months=1, reference="REF-1")
    assert getattr(refused.value, "host_code", None) == "4012501"
    assert len(wire.calls(PAYMENT)) == 2  # the first attempt and exactly one resend
    assert len(wire.calls(TOKEN)) == 2
    entry = client.journal.get("linkaja", "pay", "REF-1")
    assert entry is not None
    assert entry.state is EntryState.NOT_APPLIED
    assert ledger(sandbox) == []


def _adapter_with(sandbox: Sandbox, clock: Clock, **changes: str) -> SnapAdapter:
    settings = {**info(sandbox), **changes}
    built = registry.spec("linkaja").open_adapter(settings, journal=Journal(), clock=clock)
    assert isinstance(built, SnapAdapter)
    return built


def test_a_token_request_signed_with_another_key_is_refused(
    sandbox: Sandbox, wire: Wire, clock: Clock
) -> None:
    private_key, _public_key = generate_key_pair()
    snap = _adapter_with(sandbox, clock, private_key_pem=private_key)
    try:
        with pytest.raises(AuthenticationFailed) as refused:
            snap.inquire(InquiryRequest(CustomerId.parse(payable(sandbox)), 1))
    finally:
        snap.close()
    assert getattr(refused.value, "host_code", None) == "4017300"
    assert [e.code for e in wire.exchanges] == ["4017300"]  # no transaction without a token


def test_a_wrong_client_secret_is_refused_without_a_token_retry(
    sandbox: Sandbox, wire: Wire, clock: Clock
) -> None:
    snap = _adapter_with(sandbox, clock, client_secret="not-the-secret")
    try:
        with pytest.raises(AuthenticationFailed) as refused:
            snap.inquire(InquiryRequest(CustomerId.parse(payable(sandbox)), 1))
    finally:
        snap.close()
    assert getattr(refused.value, "host_code", None) == "4012400"
    assert [e.code for e in wire.exchanges] == ["2007300", "4012400"]


# X-EXTERNAL-ID --------------------------------------------------------------------------------


def test_external_ids_are_unique_and_journaled(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    instance = client.journal.instance_id
    for index in range(3):
        client.inquire(payable(sandbox, index), 2)
    client.pay(payable(sandbox), months=1, reference="REF-1")
    client.status("REF-1")
    ids = wire.external_ids()
    assert len(ids) == 6
    assert len(set(ids)) == len(ids)
    for external in ids:
        assert EXTERNAL_ID.fullmatch(external)
        assert len(external) <= EXTERNAL_ID_MAX
        assert external.startswith("LA" + instance + "20261122")
    inquiry_ids = [e.body["inquiryRequestId"] for e in wire.calls(INQUIRY)]
    assert len(set(inquiry_ids)) == len(inquiry_ids)


def test_a_restart_on_the_same_journal_never_reuses_an_external_id(
    sandbox: Sandbox, wire: Wire, clock: Clock, tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite"
    first = make_client(sandbox, clock, journal=Journal(path))
    first.inquire(payable(sandbox))
    first.pay(payable(sandbox, 1), months=1, reference="REF-1")
    instance = first.journal.instance_id
    first.close()  # the process ends

    clock.advance(minutes=5)
    second = make_client(sandbox, clock, journal=Journal(path))
    try:
        assert second.journal.instance_id == instance  # the same journal: the same instance
        second.inquire(payable(sandbox))
        second.pay(payable(sandbox, 3), months=1, reference="REF-2")
        assert second.status("REF-1").state is PaymentState.APPLIED
    finally:
        second.close()

    ids = wire.external_ids()
    assert len(ids) == 7
    assert len(set(ids)) == len(ids)
    inquiry_ids = [e.body["inquiryRequestId"] for e in wire.calls(INQUIRY)]
    assert len(set(inquiry_ids)) == len(inquiry_ids) == 4
    assert all(e.response.status == 200 for e in wire.transactions())  # never a 409
    assert len(ledger(sandbox)) == 2


def test_two_journals_mint_different_ids_from_the_same_sequence(
    sandbox: Sandbox, wire: Wire, clock: Clock, tmp_path: Path
) -> None:
    one = make_client(sandbox, clock, journal=Journal(tmp_path / "one.sqlite"))
    two = make_client(sandbox, clock, journal=Journal(tmp_path / "two.sqlite"))
    try:
        assert one.journal.instance_id != two.journal.instance_id
        one.inquire(payable(sandbox))
        two.inquire(payable(sandbox, 1))
        first, second = wire.external_ids()
        assert first != second
        assert first[-10:] == second[-10:] == "0000000001"  # the same sequence number
        assert one.journal.instance_id in first
        assert two.journal.instance_id in second
        assert [e.code for e in wire.calls(INQUIRY)] == ["2002400", "2002400"]
    finally:
        one.close()
        two.close()


# The payment request --------------------------------------------------------------------------


def test_payment_request_follows_the_inquiry(sandbox: Sandbox, wire: Wire, client: Client) -> None:
    receipt = client.pay(payable(sandbox, 1), months=3, reference="REF-1")
    inquiry = wire.calls(INQUIRY)[-1]
    (payment,) = wire.calls(PAYMENT)
    body = payment.body
    assert body["paymentRequestId"] == inquiry.body["inquiryRequestId"]
    entry = client.journal.get("linkaja", "pay", "REF-1")
    assert entry is not None
    assert body["paymentRequestId"] == entry.request["request"]["inquiry_id"]
    assert body["referenceNo"] == "REF-1"
    assert body["flagAdvise"] == "N"
    total = inquiry.answer["virtualAccountData"]["totalAmount"]
    assert body["paidAmount"] == total == {"value": f"{receipt.amount}.00", "currency": "IDR"}
    assert re.fullmatch(r"\d+\.\d{2}", body["paidAmount"]["value"])
    assert body["additionalInfo"]["months"] == 3
    assert body["additionalInfo"]["payerKind"] == "self"
    assert "agentId" not in body["additionalInfo"]
    assert body["partnerServiceId"] == "   89001"
    assert body["customerNo"] == payable(sandbox, 1)
    assert body["virtualAccountNo"] == "   89001" + payable(sandbox, 1)
    assert entry.state is EntryState.APPLIED
    assert [e.reference for e in ledger(sandbox)] == ["REF-1"]


def test_bni_agen46_sends_the_agent_id_with_every_call(sandbox: Sandbox, clock: Clock) -> None:
    wire = Wire(sandbox, "bni-agen46")
    client = make_client(sandbox, clock, "bni-agen46")
    try:
        assert client.agent_id == AGENT
        client.pay(payable(sandbox), months=1, reference="AG-1")
        client.status("AG-1")
    finally:
        client.close()
    for path in (INQUIRY, PAYMENT, STATUS):
        (exchange,) = wire.calls(path)
        assert exchange.body["additionalInfo"]["agentId"] == AGENT
        assert exchange.request.path == "/bni-agen46" + path
        assert exchange.request.header("channel-id") == "95231"
        assert exchange.request.header("x-external-id").startswith("AG")
        assert exchange.request.header("x-partner-id") == "bni-agen46-partner"
    assert len(ledger(sandbox)) == 1


def test_bni_agen46_without_an_agent_sends_nothing(sandbox: Sandbox, clock: Clock) -> None:
    wire = Wire(sandbox, "bni-agen46")
    snap = registry.spec("bni-agen46").open_adapter(info(sandbox, "bni-agen46"), journal=Journal())
    with Client(snap, journal=Journal(), clock=clock) as client, pytest.raises(CapabilityRefused):
        client.pay(payable(sandbox), months=1, reference="AG-1")
    assert wire.exchanges == []


@pytest.mark.parametrize("failure", ["reset", "error", "busy"])
def test_a_payment_not_delivered_is_resent_as_an_advice(
    sandbox: Sandbox, wire: Wire, client: Client, clock: Clock, failure: str
) -> None:
    if failure == "busy":  # 429 on every try: the transport gives up, nothing was applied
        wire.answer(PAYMENT, snap_answer("4292500", "Too Many Requests"), times=3)
        with pytest.raises(NotDelivered):
            client.pay(payable(sandbox), months=1, reference="REF-1")
        settled = EntryState.NOT_APPLIED
    else:  # the connection reset before the biller, or a bare HTTP 500 from a proxy: the
        # request left, so "not found" proves nothing until the settle window has passed
        sandbox.faults.inject(FaultKind(failure), match="transfer-va/payment")
        with pytest.raises(OutcomeUnknown):
            client.pay(payable(sandbox), months=1, reference="REF-1")
        settled = EntryState.UNKNOWN
        clock.advance(seconds=361)
    entry = client.journal.get("linkaja", "pay", "REF-1")
    assert entry is not None
    assert entry.state is settled
    assert ledger(sandbox) == []
    assert all(e.body["flagAdvise"] == "N" for e in wire.calls(PAYMENT))
    sent_before = len(wire.calls(PAYMENT))

    receipt = client.pay(payable(sandbox), months=1, reference="REF-1")

    resent = wire.calls(PAYMENT)[sent_before:]
    assert len(resent) == 1
    assert resent[0].body["flagAdvise"] == "Y"
    assert resent[0].body["paymentRequestId"] == entry.request["request"]["inquiry_id"]
    assert resent[0].body["referenceNo"] == "REF-1"
    assert len(wire.calls(INQUIRY)) == 1  # the resend is the same payment, not a new one
    assert [e.reference for e in ledger(sandbox)] == ["REF-1"]
    assert receipt.amount == ledger(sandbox)[0].amount


def test_busy_is_retried_under_the_same_external_id(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    secret = info(sandbox)["client_secret"]
    wire.answer(PAYMENT, snap_answer("4292500", "Too Many Requests"), times=2)
    client.pay(payable(sandbox), months=1, reference="REF-1")
    attempts = wire.calls(PAYMENT)
    assert [e.code for e in attempts] == ["4292500", "4292500", "2002500"]
    assert len({e.request.header("x-external-id") for e in attempts}) == 1
    (token,) = wire.tokens()
    assert all(signed(e.request, secret, token) for e in attempts)
    assert len(ledger(sandbox)) == 1


def test_busy_on_an_inquiry_is_not_delivered(sandbox: Sandbox, wire: Wire, client: Client) -> None:
    wire.answer(INQUIRY, snap_answer("4292400", "Too Many Requests"), times=3)
    with pytest.raises(NotDelivered):
        client.pay(payable(sandbox), months=1, reference="REF-1")
    assert len(wire.calls(INQUIRY)) == 3
    assert wire.calls(PAYMENT) == []
    assert client.journal.get("linkaja", "pay", "REF-1") is None


# Answers to a payment -------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["4042518", "5002500", "5002501", "5002502", "5042500"])
def test_an_open_answer_is_resolved_by_status_never_by_paying_again(
    sandbox: Sandbox, wire: Wire, client: Client, code: str
) -> None:
    raised: list[BaseException] = []
    snap = adapter(client)
    pay = snap.pay

    def spy(request: Any) -> Any:
        try:
            return pay(request)
        except Exception as error:
            raised.append(error)
            raise

    snap.pay = spy  # type: ignore[method-assign]
    # The biller applies the payment, but what comes back leaves the outcome open.
    wire.answer(PAYMENT, snap_answer(code), forward=True)

    receipt = client.pay(payable(sandbox), months=1, reference="REF-1")

    assert len(raised) == 1
    assert isinstance(raised[0], OutcomeUnknown)
    assert getattr(raised[0], "host_code", None) == code
    assert len(wire.calls(PAYMENT)) == 1
    assert [e.code for e in wire.calls(STATUS)] == ["2002600"]
    (paid,) = ledger(sandbox)
    assert receipt.host_reference == paid.host_reference
    entry = client.journal.get("linkaja", "pay", "REF-1")
    assert entry is not None
    assert entry.state is EntryState.APPLIED


def test_a_reused_external_id_is_a_conflict_that_never_pays_twice(
    sandbox: Sandbox, wire: Wire, client: Client, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap = adapter(client)
    sequence, pay = snap._sequence, snap.pay
    paying = [False]

    def fixed_for_payments(kind: str, prefix: str) -> str:
        if kind == "xid" and paying[0]:
            return "LAFIXED202611220000000001"
        return sequence(kind, prefix)

    def flagged_pay(request: Any) -> Any:
        paying[0] = True
        try:
            return pay(request)
        finally:
            paying[0] = False

    monkeypatch.setattr(snap, "_sequence", fixed_for_payments)
    monkeypatch.setattr(snap, "pay", flagged_pay)

    client.pay(payable(sandbox), months=1, reference="REF-A")
    with pytest.raises(OutcomeUnknown):  # 409: outcome open; "not found" is no proof yet
        client.pay(payable(sandbox, 1), months=1, reference="REF-B")

    first, second = wire.calls(PAYMENT)
    assert first.request.header("x-external-id") == second.request.header("x-external-id")
    assert [first.code, second.code] == ["2002500", "4092500"]
    assert {e.code for e in wire.calls(STATUS)} == {"4042601"}
    assert wire.calls(STATUS)[0].request.header("x-external-id") != first.request.header(
        "x-external-id"
    )
    assert len(wire.calls(PAYMENT)) == 2  # B was not sent again in the same call
    assert [e.reference for e in ledger(sandbox)] == ["REF-A"]
    entry = client.journal.get("linkaja", "pay", "REF-B")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN

    monkeypatch.undo()
    clock.advance(seconds=361)  # past the settle window: B surely never applied, sent again
    client.pay(payable(sandbox, 1), months=1, reference="REF-B")
    assert wire.calls(PAYMENT)[-1].body["flagAdvise"] == "Y"
    assert [e.reference for e in ledger(sandbox)] == ["REF-A", "REF-B"]


def test_the_same_payment_changed_under_a_reused_external_id_is_outcome_unknown(
    sandbox: Sandbox, wire: Wire, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The biller refuses a changed body under a used X-EXTERNAL-ID (409 25 00) instead of
    replaying the stored "Successful": the adapter raises OutcomeUnknown, never a result."""
    snap = adapter(client)
    sequence, pay = snap._sequence, snap.pay
    sent: list[Any] = []

    def fixed_for_payments(kind: str, prefix: str) -> str:
        return "LAFIXED202611220000000002" if kind == "xid" and sent else sequence(kind, prefix)

    def recorded_pay(request: Any) -> Any:
        sent.append(request)
        return pay(request)

    monkeypatch.setattr(snap, "_sequence", fixed_for_payments)
    monkeypatch.setattr(snap, "pay", recorded_pay)
    client.pay(payable(sandbox), months=1, reference="REF-A")
    (request,) = sent

    replayed = snap.pay(request)  # byte for byte again: the stored answer
    assert replayed.state is PaymentState.APPLIED
    with pytest.raises(OutcomeUnknown) as raised:  # flagAdvise Y: another request
        snap.pay(attrs.evolve(request, repeat=True))
    assert raised.value.host_code == "4092500"
    assert [e.code for e in wire.calls(PAYMENT)] == ["2002500", "2002500", "4092500"]
    assert [e.reference for e in ledger(sandbox)] == ["REF-A"]


def test_payment_flag_01_is_a_decline_journaled_as_such(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    def rejected(request: WireRequest, response: WireResponse | None) -> WireResponse:
        sent = codec.decode_payment_request(request.body)
        data = codec.SnapPaymentData(
            partner_service_id=sent.partner_service_id,
            customer_no=sent.customer_no,
            payment_request_id=sent.payment_request_id,
            paid_amount=sent.paid_amount,
            payment_flag_status="01",
            payment_flag_reason=codec.Bilingual("Rejected", "Ditolak"),
        )
        answer = codec.SnapPaymentResponse(ResponseCode.parse("2002500"), "Successful", data)
        return WireResponse.json(200, codec.encode_payment_response(answer))

    wire.answer(PAYMENT, rejected)
    with pytest.raises(HostDeclined) as declined:
        client.pay(payable(sandbox), months=1, reference="REF-1")
    assert declined.value.code == "host.rejected"
    entry = client.journal.get("linkaja", "pay", "REF-1")
    assert entry is not None
    assert entry.state is EntryState.DECLINED
    assert wire.calls(STATUS) == []  # a final answer: nothing to resolve
    with pytest.raises(HostDeclined):  # the same reference: the journal answers
        client.pay(payable(sandbox), months=1, reference="REF-1")
    assert len(wire.calls(PAYMENT)) == 1
    assert ledger(sandbox) == []


def test_payment_flag_02_is_open_and_resolved_by_status(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    wire.answer(
        PAYMENT,
        payment_data(lambda data: attrs.evolve(data, payment_flag_status="02")),
        forward=True,
    )
    receipt = client.pay(payable(sandbox), months=1, reference="REF-1")
    assert len(wire.calls(STATUS)) == 1
    assert len(wire.calls(PAYMENT)) == 1
    (paid,) = ledger(sandbox)
    assert receipt.host_reference == paid.host_reference


@pytest.mark.parametrize("what", ["amount", "months"])
def test_an_answer_that_contradicts_the_request_is_never_papered_over(
    sandbox: Sandbox, wire: Wire, client: Client, what: str
) -> None:
    def contradict(data: codec.SnapPaymentData) -> codec.SnapPaymentData:
        if what == "amount":
            return attrs.evolve(data, paid_amount=data.paid_amount + 100)
        return attrs.evolve(data, bill_details=cast(Any, data.bill_details[:-1]))

    raised: list[BaseException] = []
    snap = adapter(client)
    pay = snap.pay

    def spy(request: Any) -> Any:
        try:
            return pay(request)
        except Exception as error:
            raised.append(error)
            raise

    snap.pay = spy  # type: ignore[method-assign]
    wire.answer(PAYMENT, payment_data(contradict), forward=True)

    receipt = client.pay(payable(sandbox, 1), months=3, reference="REF-1")

    assert len(raised) == 1
    assert isinstance(raised[0], MalformedMessage)
    assert not isinstance(raised[0], HostDeclined)
    (paid,) = ledger(sandbox)
    # Handled as unknown: the status (which agrees with what was sent) settles it.
    assert len(wire.calls(STATUS)) == 1
    assert len(wire.calls(PAYMENT)) == 1
    assert receipt.amount == paid.amount
    assert receipt.periods == paid.periods
    assert len(receipt.periods) == 3


def test_status_in_progress_is_pending(sandbox: Sandbox, wire: Wire, client: Client) -> None:
    client.pay(payable(sandbox), months=1, reference="REF-1")
    sandbox.faults.inject(FaultKind.PENDING, match="REF-1")
    assert client.status("REF-1").state is PaymentState.PENDING
    assert client.status("REF-1").state is PaymentState.APPLIED
    first, _second = wire.calls(STATUS)
    assert first.code == "2022600"
    payment = wire.calls(PAYMENT)[0].body
    assert first.body["paymentRequestId"] == payment["paymentRequestId"]
    assert first.body["inquiryRequestId"] == payment["paymentRequestId"]
    assert first.body["additionalInfo"]["referenceNo"] == "REF-1"


# Inquiry refusals --------------------------------------------------------------------------


def _inquiry_status_01(request: WireRequest, response: WireResponse | None) -> WireResponse:
    assert response is not None
    decoded = codec.decode_inquiry_response(response.body)
    assert decoded.virtual_account is not None
    data = attrs.evolve(decoded.virtual_account, inquiry_status="01")
    changed = attrs.evolve(decoded, virtual_account=data)
    return WireResponse.json(200, codec.encode_inquiry_response(changed))


@pytest.mark.parametrize(
    ("case", "code", "host_code"),
    [
        ("unknown", "host.customer_not_found", "4042412"),
        ("lapsed", "host.customer_not_found", "4042412"),
        ("cutoff", "host.cutoff", "4032406"),
        ("limit", "host.limit_exceeded", "4032402"),
        ("paid", "host.bill_paid", "4042414"),
        ("server", "host.error", "5002401"),
        ("status-01", "host.rejected", None),
    ],
)
def test_inquiry_refusals_are_host_declined_with_the_right_code(
    sandbox: Sandbox, wire: Wire, client: Client, case: str, code: str, host_code: str | None
) -> None:
    nik = {"unknown": UNKNOWN_NIK, "lapsed": lapsed(sandbox)}.get(case, payable(sandbox))
    if host_code is not None and case not in ("unknown", "lapsed"):
        wire.answer(INQUIRY, snap_answer(host_code))
    if case == "status-01":
        wire.answer(INQUIRY, _inquiry_status_01, forward=True)
    with pytest.raises(HostDeclined) as declined:
        client.pay(nik, months=1, reference="REF-1")
    assert declined.value.code == code
    if host_code is not None:
        assert declined.value.host_code == host_code
        assert wire.calls(INQUIRY)[0].code == host_code
    assert not isinstance(declined.value, OutcomeUnknown)
    assert wire.calls(PAYMENT) == []  # refused at the inquiry: nothing journaled or sent
    assert client.journal.get("linkaja", "pay", "REF-1") is None
    if case in ("unknown", "lapsed"):  # the biller's own refusal: the same on an inquiry
        with pytest.raises(HostDeclined) as again:
            client.inquire(nik)
        assert (again.value.code, again.value.host_code) == (code, host_code)


# Secrets and personal data ---------------------------------------------------------------------


def test_repr_never_shows_the_secret_or_the_key(sandbox: Sandbox, client: Client) -> None:
    settings = info(sandbox)
    snap = adapter(client)
    key_body = settings["private_key_pem"].splitlines()[1]
    for text in (repr(snap), str(snap), repr(snap.credentials), repr(snap.profile)):
        assert settings["client_secret"] not in text
        assert key_body not in text
        assert "PRIVATE KEY" not in text
    assert "linkaja" in repr(snap)


def test_logs_carry_no_secret_token_or_nik(
    sandbox: Sandbox, wire: Wire, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    niks = [payable(sandbox, i) for i in range(3)] + [UNKNOWN_NIK]
    client.inquire(niks[0])
    wire.biller.reset()  # a refused token and its renewal are logged too
    wire.answer(PAYMENT, snap_answer("4292500", "Too Many Requests"))
    client.pay(niks[1], months=2, reference="REF-1")
    client.status("REF-1")
    wire.answer(PAYMENT, snap_answer("5002500"), forward=True)
    client.pay(niks[2], months=1, reference="REF-2")
    with pytest.raises(HostDeclined):
        client.inquire(niks[3])

    secrets = [info(sandbox)["client_secret"], *wire.tokens()]
    secrets += info(sandbox)["private_key_pem"].splitlines()[1:3]
    signatures = [e.request.header("x-signature") for e in wire.exchanges]
    assert len(wire.tokens()) == 2
    assert any(getattr(r, "event", None) == "http.exchange" for r in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + " " + repr(vars(record))
        for secret in secrets + signatures:
            assert secret not in text
        for nik in niks:
            assert nik not in text


# Building adapters, and the profiles --------------------------------------------------------------


def test_the_registry_knows_only_the_installed_channels(sandbox: Sandbox) -> None:
    with pytest.raises(UnknownChannel, match="nope") as unknown:
        registry.spec("nope")
    assert {"linkaja", "bni-agen46"} <= set(unknown.value.known)
    for name in ("linkaja", "bni-agen46"):
        built = registry.spec(name).open_adapter(info(sandbox, name), journal=Journal())
        try:
            assert isinstance(built, SnapAdapter)
            assert built.name == name
            assert built.capabilities == load_profile(name).capabilities
        finally:
            built.close()


def test_linkaja_profile() -> None:
    profile = load_profile("linkaja")
    caps = profile.capabilities
    assert caps.month_counts == tuple(range(1, 13))
    assert Operation.AUTODEBIT in caps.operations
    assert Operation.REVERSE not in caps.operations
    assert not caps.agent_id_required
    assert caps.max_amount == 20_000_000
    assert caps.admin_fee == FeeSchedule(flat=1000)
    assert profile.channel_id == "95221"
    assert profile.partner_service_id == "   89001"
    assert profile.external_id_prefix == "LA"
    assert not profile.timestamp_millis


def test_bni_agen46_profile() -> None:
    profile = load_profile("bni-agen46")
    caps = profile.capabilities
    assert caps.month_counts == (1, 3, 6, 12)
    assert caps.agent_id_required
    assert caps.max_amount == 2_500_000
    assert caps.min_amount == 10_000
    assert Operation.AUTODEBIT not in caps.operations
    assert caps.admin_fee == FeeSchedule(flat=2500, tiers=((100_000, 2000),))
    assert caps.admin_fee.fee_for(100_000) == 2000
    assert caps.admin_fee.fee_for(100_001) == 2500
    assert caps.receipt_width == 32
    assert profile.channel_id == "95231"
    assert profile.partner_service_id == "   89002"
    assert profile.external_id_prefix == "AG"


def test_snap_has_no_reversal(sandbox: Sandbox, wire: Wire, client: Client) -> None:
    client.pay(payable(sandbox), months=1, reference="REF-1")
    with pytest.raises(CapabilityRefused):
        client.reverse("REF-1")  # the client refuses first
    entry = client.journal.get("linkaja", "pay", "REF-1")
    assert entry is not None
    assert entry.state is EntryState.APPLIED
    # SNAP's virtual-account services have no reversal: the adapter has no such role at all.
    assert not isinstance(adapter(client), Reversals)
    assert Operation.REVERSE not in client.capabilities.operations
    assert len(wire.transactions()) == 2  # the payment's inquiry and the payment


# Auto-debit mandates (service 91): idempotent on partnerReferenceNo ---------------------------

ENROL = extensions.AUTODEBIT_ENROL_PATH
CANCEL = extensions.AUTODEBIT_CANCEL_PATH


def test_a_dropped_enrol_answer_retried_with_the_same_reference_makes_one_mandate(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    nik = payable(sandbox)
    # The biller makes the mandate, then the connection is closed before the answer.
    sandbox.faults.inject("drop", match="LA-AD-0001")
    with pytest.raises(OutcomeUnknown) as lost:
        client.enrol_autodebit(nik, months=1, reference="LA-AD-0001")
    assert lost.value.code == "mandate.unknown"
    (made,) = sandbox.host.mandates("linkaja")
    entry = client.journal.get("linkaja", "autodebit", "LA-AD-0001")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN

    mandate = client.enrol_autodebit(nik, months=1, reference="LA-AD-0001")
    assert mandate == made
    assert sandbox.host.mandates("linkaja") == [made]
    assert client.enrol_autodebit(nik, months=1, reference="LA-AD-0001") == made  # the journal
    sent = wire.calls(ENROL)
    assert len(sent) == 2  # the lost one and one resend, under two X-EXTERNAL-IDs
    assert sent[0].request.header("x-external-id") != sent[1].request.header("x-external-id")
    assert [e.body["partnerReferenceNo"] for e in sent] == ["LA-AD-0001"] * 2
    assert sent[1].answer["partnerReferenceNo"] == "LA-AD-0001"
    assert sent[1].answer["mandateId"] == made.mandate_id
    entry = client.journal.get("linkaja", "autodebit", "LA-AD-0001")
    assert entry is not None
    assert [(t.from_state, t.to_state) for t in client.journal.history(entry.id)] == [
        (None, EntryState.PENDING),
        (EntryState.PENDING, EntryState.UNKNOWN),
        (EntryState.UNKNOWN, EntryState.APPLIED),
    ]

    # The same reference for two months: refused by the journal, nothing sent.
    with pytest.raises(InvalidInput, match=r"input\.invalid"):
        client.enrol_autodebit(nik, months=2, reference="LA-AD-0001")
    assert len(wire.calls(ENROL)) == 2


def test_a_dropped_cancel_answer_retried_cancels_once(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    mandate = client.enrol_autodebit(payable(sandbox), months=1, reference="LA-AD-0001")
    sandbox.faults.inject("drop", match="LA-ADC-0001")
    with pytest.raises(OutcomeUnknown):
        client.cancel_autodebit(mandate.mandate_id, reference="LA-ADC-0001")
    cancelled = client.cancel_autodebit(mandate.mandate_id, reference="LA-ADC-0001")
    assert (cancelled.mandate_id, cancelled.active) == (mandate.mandate_id, False)
    assert client.cancel_autodebit(mandate.mandate_id, reference="LA-ADC-0001") == cancelled
    assert len(wire.calls(CANCEL)) == 2
    assert [e.body for e in wire.calls(CANCEL)] == [
        {"partnerReferenceNo": "LA-ADC-0001", "mandateId": mandate.mandate_id}
    ] * 2


def test_a_mandate_conflict_at_the_biller_is_a_decline_not_an_open_answer(
    sandbox: Sandbox, wire: Wire, client: Client, clock: Clock
) -> None:
    nik = payable(sandbox)
    client.enrol_autodebit(nik, months=1, reference="LA-AD-0001")
    # Another gateway instance (its own journal) reuses the reference for two months.
    other = make_client(sandbox, clock, journal=Journal())
    with pytest.raises(HostDeclined) as refused:
        other.enrol_autodebit(nik, months=2, reference="LA-AD-0001")
    assert (refused.value.code, refused.value.host_code) == ("host.mandate_conflict", "4049118")
    entry = other.journal.get("linkaja", "autodebit", "LA-AD-0001")
    assert entry is not None
    assert entry.state is EntryState.DECLINED
    assert len(sandbox.host.mandates("linkaja")) == 1
    other.close()


def test_an_answer_for_another_mandate_request_is_not_taken(
    sandbox: Sandbox, wire: Wire, client: Client
) -> None:
    def other_reference(request: WireRequest, response: WireResponse | None) -> WireResponse:
        assert response is not None
        body = json.loads(response.body)
        body["partnerReferenceNo"] = "LA-AD-9999"
        return WireResponse.json(response.status, json.dumps(body).encode())

    wire.answer(ENROL, other_reference, forward=True)
    with pytest.raises(OutcomeUnknown):
        client.enrol_autodebit(payable(sandbox), months=1, reference="LA-AD-0001")
    entry = client.journal.get("linkaja", "autodebit", "LA-AD-0001")
    assert entry is not None
    assert entry.state is EntryState.UNKNOWN
