"""The fake SNAP biller, driven by a hand-built client that knows only the standard: the
signatures from ``adapters/snap/security.py`` and JSON written by hand (never the library's
adapter or codec), through ``wire.install`` + ``responses`` and over a real loopback socket."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses
from conftest import participant_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jamsostek_channels.adapters.snap.fake import (
    SANDBOX_AGENT_ID,
    BillerCredentials,
    SnapBiller,
    bni_agen46_gateway,
    linkaja_gateway,
)
from jamsostek_channels.adapters.snap.profile import load_profile
from jamsostek_channels.adapters.snap.security import (
    format_timestamp,
    generate_key_pair,
    sign_symmetric,
    sign_token_request,
)
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.sandbox import Sandbox
from jamsostek_channels.testing.wire import Faults, LoopbackServer, WireRequest, install

#: 10:00 WIB on the suite's "today".
NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=JAKARTA)
ORIGIN = "https://biller.test"
UNKNOWN_NIK = "3201015508950001"  # the conftest participant: valid, never seeded

INQUIRY = "/v1.0/transfer-va/inquiry"
PAYMENT = "/v1.0/transfer-va/payment"
STATUS = "/v1.0/transfer-va/status"
TOKEN = "/v1.0/access-token/b2b"
_ids = itertools.count(1)


def next_id(prefix: str = "X") -> str:
    return f"{prefix}{next(_ids):010d}"


def dump(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class Client:
    """A SNAP partner written from the standard: requests + security.py + json."""

    def __init__(
        self, base_url: str, info: dict[str, Any], host: FakeHost, session: Any = requests
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.prefix = urlsplit(self.base_url).path
        self.info = info
        self.host = host
        self.session = session
        self.token: str | None = None

    def timestamp(self, shift: dt.timedelta = dt.timedelta(0), *, millis: bool = False) -> str:
        return format_timestamp(self.host.now() + shift, millis=millis)

    def get_token(
        self,
        *,
        client_id: str | None = None,
        private_key: str | None = None,
        timestamp: str | None = None,
        body: bytes | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> requests.Response:
        client_id = client_id or self.info["client_id"]
        stamp = timestamp or self.timestamp()
        sent = {
            "Content-Type": "application/json",
            "X-TIMESTAMP": stamp,
            "X-CLIENT-KEY": client_id,
            "X-SIGNATURE": sign_token_request(
                private_key or self.info["private_key_pem"], client_id, stamp
            ),
        }
        sent.update({k: v for k, v in (headers or {}).items() if v is not None})
        for name in [k for k, v in (headers or {}).items() if v is None]:
            sent.pop(name, None)
        payload = dump({"grantType": "client_credentials", "additionalInfo": {}})
        response = self.session.post(
            self.base_url + TOKEN, data=payload if body is None else body, headers=sent
        )
        if response.status_code == 200:
            self.token = response.json()["accessToken"]
        return response

    def call(
        self,
        path: str,
        body: Any,
        *,
        external_id: str | None = None,
        secret: str | None = None,
        token: str | None = None,
        timestamp: str | None = None,
        send: bytes | None = None,
        headers: dict[str, str | None] | None = None,
        signature: str | None = None,
    ) -> requests.Response:
        """Sign ``body`` (a dict, dumped compactly, or raw bytes) and send it (or ``send``)."""
        if self.token is None and token is None:
            assert self.get_token().status_code == 200
        raw = body if isinstance(body, bytes) else dump(body)
        token = token or self.token
        assert token is not None
        stamp = timestamp or self.timestamp()
        sent = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "X-TIMESTAMP": stamp,
            "X-SIGNATURE": signature
            or sign_symmetric(
                secret or self.info["client_secret"], "POST", self.prefix + path, token, raw, stamp
            ),
            "X-PARTNER-ID": self.info["partner_id"],
            "X-EXTERNAL-ID": external_id or next_id(),
            "CHANNEL-ID": self.info["channel_id"],
        }
        sent.update({k: v for k, v in (headers or {}).items() if v is not None})
        for name in [k for k, v in (headers or {}).items() if v is None]:
            sent.pop(name, None)
        return self.session.post(
            self.base_url + path, data=raw if send is None else send, headers=sent
        )

    # Bodies, written from the standard ---------------------------------------------------

    def va(self, customer_no: str) -> dict[str, str]:
        service = self.info["partner_service_id"]
        return {
            "partnerServiceId": service,
            "customerNo": customer_no,
            "virtualAccountNo": service + customer_no,
        }

    def inquiry_body(self, customer_no: str, request_id: str, **info: Any) -> dict[str, Any]:
        return {
            **self.va(customer_no),
            "inquiryRequestId": request_id,
            "channelCode": 6017,
            "language": "ID",
            "additionalInfo": info,
        }

    def payment_body(
        self,
        customer_no: str,
        request_id: str,
        amount: int,
        *,
        reference: str | None = None,
        advise: str = "N",
        **info: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            **self.va(customer_no),
            "paymentRequestId": request_id,
            "paidAmount": {"value": f"{amount}.00", "currency": "IDR"},
            "totalAmount": {"value": f"{amount}.00", "currency": "IDR"},
            "trxDateTime": self.timestamp(),
            "flagAdvise": advise,
            "additionalInfo": info,
        }
        if reference is not None:
            body["referenceNo"] = reference
        return body

    def status_body(self, customer_no: str, **ids: str) -> dict[str, Any]:
        return {**self.va(customer_no), **ids, "additionalInfo": {}}


def snap(response: requests.Response) -> dict[str, Any]:
    """The body as SNAP JSON, after checking the envelope every answer must have."""
    # (responses adds its default "text/plain, " in front of a callback's own content type)
    assert response.headers["content-type"].endswith("application/json")
    assert b": " not in response.content
    assert b", " not in response.content
    body: dict[str, Any] = response.json()
    code = body["responseCode"]
    assert len(code) == 7
    assert code.isdigit()
    assert int(code[:3]) == response.status_code
    assert isinstance(body["responseMessage"], str)
    assert body["responseMessage"]
    return body


# Fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def host() -> FakeHost:
    return FakeHost(clock=lambda: NOW, seed=7)


@pytest.fixture
def people(host: FakeHost) -> list[tuple[str, str]]:
    """(NIK, KPJ) of the demo participants: 0 paid up, 1 one month behind, 2 lapsed, 3 new."""
    return [(p.nik, kpj) for p, kpj in host.seed_demo(8)]


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def mounted(
    mock: responses.RequestsMock, host: FakeHost, faults: Faults, name: str = "linkaja"
) -> tuple[SnapBiller, Client]:
    biller = SnapBiller(host, load_profile(name), prefix=f"/{name}", faults=faults)
    base = f"{ORIGIN}/{name}"
    install(mock, ORIGIN, biller.gateway)
    return biller, Client(base, biller.info(), host)


@pytest.fixture
def linkaja(
    mock: responses.RequestsMock, host: FakeHost, faults: Faults, people: list[tuple[str, str]]
) -> tuple[SnapBiller, Client]:
    return mounted(mock, host, faults)


def inquire(client: Client, customer_no: str, months: int = 1) -> dict[str, Any]:
    request_id = next_id("IQ")
    body = snap(client.call(INQUIRY, client.inquiry_body(customer_no, request_id, months=months)))
    assert body["responseCode"] == "2002400", body
    return body["virtualAccountData"]


def amount_of(data: dict[str, Any]) -> int:
    return int(data["totalAmount"]["value"].removesuffix(".00"))


# The whole flow -------------------------------------------------------------------------------


def test_token_inquiry_payment_status_by_nik(
    linkaja: tuple[SnapBiller, Client], host: FakeHost, people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, kpj = people[1]  # one month behind: October, then November
    token = snap(client.get_token())
    assert token["responseCode"] == "2007300"
    assert token["tokenType"] == "Bearer"
    assert token["expiresIn"] == "900"

    data = inquire(client, nik, months=2)
    assert data["inquiryStatus"] == "00"
    assert data["inquiryReason"] == {"english": "Success", "indonesia": "Sukses"}
    assert data["virtualAccountNo"] == "   89001" + nik
    assert data["virtualAccountTrxType"] == "C"
    assert [bill["billNo"] for bill in data["billDetails"]] == ["2026-10", "2026-11"]
    assert all(len(bill["billName"]) <= 20 for bill in data["billDetails"])
    total = amount_of(data)
    assert total == sum(int(b["billAmount"]["value"][:-3]) for b in data["billDetails"])
    assert data["feeAmount"] == {"value": "1000.00", "currency": "IDR"}
    assert data["additionalInfo"]["kpj"] == kpj
    assert data["additionalInfo"]["coverageState"] == "in-arrears"
    assert "*" in data["virtualAccountName"]  # masked

    request_id = data["inquiryRequestId"]
    paid = snap(
        client.call(
            PAYMENT, client.payment_body(nik, request_id, total, reference="REF1", months=2)
        )
    )
    assert paid["responseCode"] == "2002500", paid
    va = paid["virtualAccountData"]
    assert va["paymentFlagStatus"] == "00"
    assert va["paymentFlagReason"] == {"english": "Success", "indonesia": "Sukses"}
    assert va["paymentRequestId"] == request_id
    (entry,) = host.ledger()
    assert entry.reference == "REF1"
    assert [b["billNo"] for b in va["billDetails"]] == ["2026-10", "2026-11"]
    assert {b["billerReferenceId"] for b in va["billDetails"]} == {entry.host_reference}
    assert va["trxDateTime"] == "2026-11-22T10:00:00+07:00"

    status = snap(client.call(STATUS, client.status_body(nik, paymentRequestId=request_id)))
    assert status["responseCode"] == "2002600"
    sva = status["virtualAccountData"]
    assert sva["paymentFlagStatus"] == "00"
    assert sva["transactionDate"] == "2026-11-22T10:00:00+07:00"
    assert sva["paidAmount"]["value"] == f"{total}.00"
    assert sva["referenceNo"] == "REF1"
    assert len(sva["billDetails"]) == 2
    # by the KPJ and by the reference alone too
    by_ref = client.status_body(kpj, paymentRequestId="unknown")
    by_ref["additionalInfo"] = {"referenceNo": "REF1"}
    assert snap(client.call(STATUS, by_ref))["responseCode"] == "2002600"


def test_a_standard_only_client_pays_without_inquiry_or_additional_info(
    linkaja: tuple[SnapBiller, Client], host: FakeHost, people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    _, kpj = people[1]
    body = client.va(kpj) | {"inquiryRequestId": next_id("Q")}  # no additionalInfo: 1 month
    data = snap(client.call(INQUIRY, body))["virtualAccountData"]
    assert len(data["billDetails"]) == 1
    payment = client.va(kpj) | {
        "paymentRequestId": "PAYWITHOUTINQUIRY",
        "paidAmount": data["totalAmount"],
    }
    paid = snap(client.call(PAYMENT, payment))
    assert paid["responseCode"] == "2002500", paid
    assert paid["virtualAccountData"]["billDetails"][0]["billNo"] == "2026-10"
    assert host.ledger()[0].reference == "PAYWITHOUTINQUIRY"
    status = client.status_body(kpj, paymentRequestId="PAYWITHOUTINQUIRY")
    assert snap(client.call(STATUS, status))["responseCode"] == "2002600"


# The access token -----------------------------------------------------------------------------


def test_token_refusals(linkaja: tuple[SnapBiller, Client]) -> None:
    _, client = linkaja
    other_key, _ = generate_key_pair()
    assert snap(client.get_token(private_key=other_key))["responseCode"] == "4017300"
    unknown = snap(client.get_token(client_id="someone-else"))
    assert unknown["responseCode"] == "4017300"
    late = client.timestamp(dt.timedelta(minutes=-6))
    assert snap(client.get_token(timestamp=late))["responseCode"] == "4017300"
    wrong_grant = dump({"grantType": "password"})
    refused = snap(client.get_token(body=wrong_grant))
    assert refused["responseCode"] == "4007301"
    assert refused["responseMessage"] == "Invalid Field Format grantType"
    assert snap(client.get_token(body=b"{}"))["responseCode"] == "4007302"
    assert snap(client.get_token(body=b"not json"))["responseCode"] == "4007300"
    missing = snap(client.get_token(headers={"X-TIMESTAMP": None}))
    assert missing["responseCode"] == "4007302"
    assert client.token is None
    # both timestamp forms are accepted
    assert snap(client.get_token(timestamp=client.timestamp(millis=True)))["responseCode"] == (
        "2007300"
    )
    assert snap(client.get_token())["responseCode"] == "2007300"


# Security of transaction calls ----------------------------------------------------------------


def test_refuses_tampered_body_wrong_secret_and_stale_timestamp(
    linkaja: tuple[SnapBiller, Client], people: list[tuple[str, str]], host: FakeHost
) -> None:
    _, client = linkaja
    nik, _ = people[1]
    body = client.inquiry_body(nik, "IQTAMPER")
    tampered = dump(client.inquiry_body(nik, "IQTAMPER", months=3))
    cases = {
        "tampered": client.call(INQUIRY, body, send=tampered),
        "secret": client.call(INQUIRY, body, secret="not-the-secret"),
        "late": client.call(INQUIRY, body, timestamp=client.timestamp(dt.timedelta(minutes=-6))),
        "early": client.call(INQUIRY, body, timestamp=client.timestamp(dt.timedelta(minutes=6))),
        "partner": client.call(INQUIRY, body, headers={"X-PARTNER-ID": "another"}),
        "channel": client.call(INQUIRY, body, headers={"CHANNEL-ID": "95231"}),
        "garbage signature": client.call(INQUIRY, body, signature="%%%"),
        "no signature": client.call(INQUIRY, body, headers={"X-SIGNATURE": None}),
    }
    for name, response in cases.items():
        assert snap(response)["responseCode"] == "4012400", name
    assert snap(cases["tampered"])["responseMessage"] == "Unauthorized. [Signature]"
    # a timestamp within the tolerance, in the millisecond form, is fine
    stamp = client.timestamp(dt.timedelta(minutes=-4), millis=True)
    assert snap(client.call(INQUIRY, body, timestamp=stamp))["responseCode"] == "2002400"
    assert host.ledger() == ()


def test_payment_and_status_outside_the_timestamp_tolerance_are_refused_unapplied(
    linkaja: tuple[SnapBiller, Client], people: list[tuple[str, str]], host: FakeHost
) -> None:
    """The settle window rests on this: a payment held in the network longer than the
    tolerance (5 minutes by the host's clock) is refused, never applied late."""
    _, client = linkaja
    nik, _ = people[1]
    data = inquire(client, nik)
    body = client.payment_body(nik, data["inquiryRequestId"], amount_of(data), reference="LATE")
    status = client.status_body(nik, paymentRequestId=data["inquiryRequestId"])
    sent = client.timestamp()  # stamped now, delivered after the host's clock moved on
    host.advance(dt.timedelta(minutes=5, seconds=1))
    for path, code, payload in ((PAYMENT, "4012500", body), (STATUS, "4012600", status)):
        assert snap(client.call(path, payload, timestamp=sent))["responseCode"] == code, path
    assert host.ledger() == ()
    # within the tolerance it is taken (a fresh X-EXTERNAL-ID: the refused one was not used)
    assert snap(client.call(PAYMENT, body))["responseCode"] == "2002500"
    assert snap(client.call(STATUS, status))["responseCode"] == "2002600"


def test_refuses_bad_tokens_and_headers(
    linkaja: tuple[SnapBiller, Client], people: list[tuple[str, str]], host: FakeHost
) -> None:
    _, client = linkaja
    nik, _ = people[0]
    body = client.inquiry_body(nik, "IQHEADERS")
    assert snap(client.call(INQUIRY, body, token="made-up"))["responseCode"] == "4012401"
    no_auth = client.call(INQUIRY, body, headers={"Authorization": None})
    assert snap(no_auth)["responseCode"] == "4012401"
    bad_id = snap(client.call(INQUIRY, body, external_id="not-alnum!"))
    assert bad_id["responseCode"] == "4002401"
    assert bad_id["responseMessage"] == "Invalid Field Format X-EXTERNAL-ID"
    assert snap(client.call(INQUIRY, body, external_id="A" * 37))["responseCode"] == "4002401"
    missing = snap(client.call(INQUIRY, body, headers={"X-EXTERNAL-ID": None}))
    assert missing["responseCode"] == "4002402"
    assert snap(client.call(INQUIRY, body, headers={"X-PARTNER-ID": None}))["responseCode"] == (
        "4002402"
    )
    assert snap(client.call(INQUIRY, body))["responseCode"] == "2002400"
    # the token expires by the host's clock
    host.advance(dt.timedelta(seconds=901))
    assert snap(client.call(INQUIRY, body))["responseCode"] == "4012401"
    assert snap(client.get_token())["responseCode"] == "2007300"
    assert snap(client.call(INQUIRY, body))["responseCode"] == "2002400"


def test_unreadable_timestamp_is_a_field_error(linkaja: tuple[SnapBiller, Client]) -> None:
    _, client = linkaja
    client.get_token()
    body = client.inquiry_body(UNKNOWN_NIK, "IQSTAMP")
    answer = snap(client.call(INQUIRY, body, timestamp="22/11/2026 10:00"))
    assert answer["responseCode"] == "4002401"
    assert answer["responseMessage"] == "Invalid Field Format X-TIMESTAMP"


# X-EXTERNAL-ID and idempotent payments --------------------------------------------------------


def test_external_id_replays_the_same_request_and_refuses_another(
    linkaja: tuple[SnapBiller, Client], host: FakeHost, people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, _ = people[1]
    data = inquire(client, nik)
    body = client.payment_body(nik, data["inquiryRequestId"], amount_of(data), reference="R1")
    first = client.call(PAYMENT, body, external_id="LA20261122000001")
    assert snap(first)["responseCode"] == "2002500"
    again = client.call(PAYMENT, body, external_id="LA20261122000001")
    assert again.content == first.content
    other = client.payment_body(nik, "ANOTHERREQUEST", amount_of(data), reference="R2")
    conflict = snap(client.call(PAYMENT, other, external_id="LA20261122000001"))
    assert conflict["responseCode"] == "4092500"
    assert conflict["responseMessage"] == "Conflict"
    # the same id on another service is another request too
    inquiry = client.inquiry_body(nik, "IQ2")
    assert snap(client.call(INQUIRY, inquiry, external_id="LA20261122000001"))["responseCode"] == (
        "4092400"
    )
    assert len(host.ledger()) == 1
    # ids are unique per day: tomorrow the same id is new
    host.advance(dt.timedelta(days=1))
    client.get_token()
    fresh = snap(client.call(INQUIRY, inquiry, external_id="LA20261122000001"))
    assert fresh["responseCode"] == "2002400"


def test_a_reused_external_id_with_the_same_payment_changed_is_a_conflict(
    linkaja: tuple[SnapBiller, Client], host: FakeHost, people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, _ = people[1]
    data = inquire(client, nik)
    request_id, total = data["inquiryRequestId"], amount_of(data)
    body = client.payment_body(nik, request_id, total, reference="C1")
    first = client.call(PAYMENT, body, external_id="SAMEID1")
    assert snap(first)["responseCode"] == "2002500"
    # the same request written otherwise (key order, whitespace): the stored answer
    reordered = dict(reversed(list(body.items())))
    assert client.call(PAYMENT, reordered, external_id="SAMEID1").content == first.content
    spaced = json.dumps(body, indent=2).encode()
    assert client.call(PAYMENT, spaced, external_id="SAMEID1").content == first.content
    # the same paymentRequestId and reference, anything else changed: refused, nothing processed
    for changed in (
        {**body, "paidAmount": {"value": f"{total + 1000}.00", "currency": "IDR"}},
        {**body, "flagAdvise": "Y"},
        {**body, "additionalInfo": {"months": 2}},
        {**body, "trxDateTime": client.timestamp(dt.timedelta(minutes=1))},
    ):
        conflict = snap(client.call(PAYMENT, changed, external_id="SAMEID1"))
        assert conflict["responseCode"] == "4092500"
        assert conflict["responseMessage"] == "Conflict"
        assert "virtualAccountData" not in conflict  # never the stored "Successful"
    assert len(host.ledger()) == 1
    # under a fresh id the changed amount reaches the host's own idempotency check
    changed = {**body, "paidAmount": {"value": f"{total + 1000}.00", "currency": "IDR"}}
    assert snap(client.call(PAYMENT, changed))["responseCode"] == "4042518"


@pytest.mark.parametrize(
    ("content_type", "code", "message"),
    [
        (None, "4002402", "Invalid Mandatory Field Content-Type"),
        ("", "4002402", "Invalid Mandatory Field Content-Type"),
        ("text/plain", "4002401", "Invalid Field Format Content-Type"),
        ("application/jsonx", "4002401", "Invalid Field Format Content-Type"),
        ("application/x-www-form-urlencoded", "4002401", "Invalid Field Format Content-Type"),
        ("application/json; charset=UTF-8", "2002400", "Successful"),
        ("Application/JSON", "2002400", "Successful"),
    ],
)
def test_the_content_type_must_be_json(
    linkaja: tuple[SnapBiller, Client],
    people: list[tuple[str, str]],
    content_type: str | None,
    code: str,
    message: str,
) -> None:
    _, client = linkaja
    nik, _ = people[1]
    body = client.inquiry_body(nik, next_id("IQ"))
    headers: dict[str, str | None] = {"Content-Type": content_type}
    external = next_id("CT")
    answer = snap(client.call(INQUIRY, body, headers=headers, external_id=external))
    assert (answer["responseCode"], answer["responseMessage"]) == (code, message)
    if code != "2002400":  # refused before it was understood: the id is not used up
        again = snap(client.call(INQUIRY, body, external_id=external))
        assert again["responseCode"] == "2002400"


def test_the_token_request_must_be_json_too(linkaja: tuple[SnapBiller, Client]) -> None:
    _, client = linkaja
    refused = snap(client.get_token(headers={"Content-Type": "text/plain"}))
    assert refused["responseCode"] == "4007301"
    missing = snap(client.get_token(headers={"Content-Type": None}))
    assert missing["responseCode"] == "4007302"
    assert client.get_token(headers={"Content-Type": "application/json"}).status_code == 200


def test_a_duplicate_payment_answers_the_original_and_never_pays_twice(
    linkaja: tuple[SnapBiller, Client], host: FakeHost, people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, kpj = people[1]
    data = inquire(client, nik)
    request_id, total = data["inquiryRequestId"], amount_of(data)
    first = snap(client.call(PAYMENT, client.payment_body(nik, request_id, total, reference="D1")))
    for advise, customer in (("N", nik), ("Y", nik), ("Y", kpj)):
        body = client.payment_body(customer, request_id, total, reference="D1", advise=advise)
        repeat = snap(client.call(PAYMENT, body))
        assert repeat["responseCode"] == "2002500"
        original, again = first["virtualAccountData"], repeat["virtualAccountData"]
        assert again["billDetails"] == original["billDetails"]
        assert again["trxDateTime"] == original["trxDateTime"]
    assert len(host.ledger()) == 1
    # the same paymentRequestId with other parameters: inconsistent request, nothing moves
    changed = client.payment_body(nik, request_id, total + 1000, reference="D1")
    inconsistent = snap(client.call(PAYMENT, changed))
    assert inconsistent["responseCode"] == "4042518"
    assert inconsistent["virtualAccountData"]["paymentFlagStatus"] == "01"
    two_references = client.payment_body(nik, request_id, total, reference="D2")
    assert snap(client.call(PAYMENT, two_references))["responseCode"] == "4042518"
    more_months = client.payment_body(nik, request_id, total, reference="D1", months=3)
    assert snap(client.call(PAYMENT, more_months))["responseCode"] == "4042518"
    assert len(host.ledger()) == 1


def test_a_host_reset_forgets_external_ids_and_payments(
    linkaja: tuple[SnapBiller, Client], host: FakeHost, people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, _ = people[1]
    data = inquire(client, nik)
    body = client.payment_body(nik, data["inquiryRequestId"], amount_of(data), reference="RS")
    first = client.call(PAYMENT, body, external_id="RESET1")
    assert snap(first)["responseCode"] == "2002500"
    host.reset()
    host.seed_demo(8)  # the same people again, nothing paid through the channel
    again = snap(client.call(PAYMENT, body, external_id="RESET1"))  # token still valid
    assert again["responseCode"] == "2002500"  # paid afresh, not replayed from before
    assert len(host.ledger()) == 1


def test_amount_mismatch_and_paid_bill(
    linkaja: tuple[SnapBiller, Client], host: FakeHost, people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, _ = people[1]
    data = inquire(client, nik)
    body = client.payment_body(nik, data["inquiryRequestId"], amount_of(data) - 100)
    answer = snap(client.call(PAYMENT, body))
    assert answer["responseCode"] == "4042513"
    assert answer["responseMessage"] == "Invalid Amount"
    va = answer["virtualAccountData"]
    assert va["paymentFlagStatus"] == "01"
    assert va["paymentFlagReason"]["english"] == "Invalid Amount"
    assert host.ledger() == ()
    # a different amount is a new request: the same paymentRequestId may be sent again
    right = client.payment_body(nik, data["inquiryRequestId"], amount_of(data))
    assert snap(client.call(PAYMENT, right))["responseCode"] == "2002500"
    assert len(host.ledger()) == 1


def test_inquiry_refusals_carry_inquiry_status_01(
    linkaja: tuple[SnapBiller, Client], people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    unknown = snap(client.call(INQUIRY, client.inquiry_body(UNKNOWN_NIK, "IQU")))
    assert unknown["responseCode"] == "4042412"
    assert unknown["virtualAccountData"]["inquiryStatus"] == "01"
    assert unknown["virtualAccountData"]["inquiryRequestId"] == "IQU"
    lapsed_nik, _ = people[2]
    lapsed = snap(client.call(INQUIRY, client.inquiry_body(lapsed_nik, "IQL")))
    assert lapsed["responseCode"] == "4042412"
    nik, _ = people[0]
    wrong_service = client.inquiry_body(nik, "IQS")
    wrong_service["partnerServiceId"] = "   12345"
    wrong_service["virtualAccountNo"] = "   12345" + nik
    assert snap(client.call(INQUIRY, wrong_service))["responseCode"] == "4042412"
    not_a_nik = snap(client.call(INQUIRY, client.inquiry_body("1234567890123456", "IQN")))
    assert not_a_nik["responseCode"] == "4002401"
    assert not_a_nik["responseMessage"] == "Invalid Field Format customerNo"
    too_many = snap(client.call(INQUIRY, client.inquiry_body(nik, "IQM", months=99)))
    assert too_many["responseCode"] == "4002401"
    assert too_many["responseMessage"] == "Invalid Field Format additionalInfo.months"
    # one inquiryRequestId for two different questions is inconsistent
    assert snap(client.call(INQUIRY, client.inquiry_body(nik, "IQR")))["responseCode"] == "2002400"
    again = snap(client.call(INQUIRY, client.inquiry_body(nik, "IQR", months=2)))
    assert again["responseCode"] == "4042418"


# BNI Agen46: an agent channel with a limit ------------------------------------------------


def test_bni_agen46_limit_and_agent_id(
    mock: responses.RequestsMock,
    host: FakeHost,
    faults: Faults,
    people: list[tuple[str, str]],
) -> None:
    _, client = mounted(mock, host, faults, "bni-agen46")
    assert client.info["partner_service_id"] == "   89002"
    nik, _ = people[1]
    no_agent = snap(client.call(INQUIRY, client.inquiry_body(nik, "IQA")))
    assert no_agent["responseCode"] == "4002402"
    assert no_agent["responseMessage"] == "Invalid Mandatory Field additionalInfo.agentId"
    data = inquire_agent(client, nik)
    assert data["feeAmount"]["value"] in {"2000.00", "2500.00"}
    body = client.payment_body(nik, data["inquiryRequestId"], amount_of(data))
    assert snap(client.call(PAYMENT, body))["responseCode"] == "4002502"
    over = client.payment_body(nik, data["inquiryRequestId"], 3_000_000, agentId="AG001")
    refused = snap(client.call(PAYMENT, over))
    assert refused["responseCode"] == "4032502"
    assert refused["responseMessage"] == "Exceeds Transaction Amount Limit"
    assert refused["virtualAccountData"]["paymentFlagStatus"] == "01"
    under = client.payment_body(nik, data["inquiryRequestId"], 5000, agentId="AG001")
    assert snap(client.call(PAYMENT, under))["responseCode"] == "4042513"
    ok = client.payment_body(nik, data["inquiryRequestId"], amount_of(data), agentId="AG001")
    assert snap(client.call(PAYMENT, ok))["responseCode"] == "2002500"
    assert len(host.ledger()) == 1
    # auto-debit is not a BNI Agen46 operation
    enrol = {"partnerReferenceNo": "AD1", "customerNo": nik, "months": 1, "payer": {"kind": "self"}}
    refused = snap(client.call("/v1.0/bpu/auto-debit/enrol", enrol))
    assert refused["responseCode"] == "4039101"
    assert refused["responseMessage"] == "Feature Not Allowed"


def inquire_agent(client: Client, nik: str) -> dict[str, Any]:
    body = client.inquiry_body(nik, next_id("IQ"), months=1, agentId="AG001")
    answer = snap(client.call(INQUIRY, body))
    assert answer["responseCode"] == "2002400", answer
    return answer["virtualAccountData"]


# Status -------------------------------------------------------------------------------------


def test_pending_fault_then_final_status(
    linkaja: tuple[SnapBiller, Client], faults: Faults, people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, _ = people[1]
    data = inquire(client, nik)
    request_id = data["inquiryRequestId"]
    body = client.payment_body(nik, request_id, amount_of(data), reference="PENDINGREF")
    assert snap(client.call(PAYMENT, body))["responseCode"] == "2002500"
    faults.inject("pending", match="PENDINGREF", times=1)
    status = client.status_body(nik, paymentRequestId=request_id)
    status["additionalInfo"] = {"referenceNo": "PENDINGREF"}
    pending = snap(client.call(STATUS, status, external_id="POLL1"))
    assert pending["responseCode"] == "2022600"
    assert pending["responseMessage"] == "Request In Progress"
    assert "virtualAccountData" not in pending
    # a 202 is not final: its repeat (same X-EXTERNAL-ID) is answered afresh
    final = snap(client.call(STATUS, status, external_id="POLL1"))
    assert final["responseCode"] == "2002600"
    assert final["virtualAccountData"]["paymentFlagStatus"] == "00"


def test_status_of_an_unknown_payment(
    linkaja: tuple[SnapBiller, Client], people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, _ = people[0]
    unknown = snap(client.call(STATUS, client.status_body(nik, paymentRequestId="NOSUCH")))
    assert unknown["responseCode"] == "4042601"
    assert unknown["responseMessage"] == "Transaction Not Found"
    missing = snap(client.call(STATUS, client.status_body(nik)))
    assert missing["responseCode"] == "4002602"


def test_status_does_not_show_another_customers_payment(
    linkaja: tuple[SnapBiller, Client], people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, _ = people[1]
    data = inquire(client, nik)
    body = client.payment_body(nik, data["inquiryRequestId"], amount_of(data), reference="MINE")
    assert snap(client.call(PAYMENT, body))["responseCode"] == "2002500"
    other, _ = people[0]
    status = client.status_body(other, paymentRequestId=data["inquiryRequestId"])
    answer = snap(client.call(STATUS, status))
    # Not 404 01 ("not found" invites a second payment under the reference): 404 18, the
    # reference names another payment; and nothing of that payment is shown.
    assert answer["responseCode"] == "4042618"
    assert "virtualAccountData" not in answer


# Extensions ---------------------------------------------------------------------------------


def test_registration_with_otp_then_inquiry_by_kpj(
    linkaja: tuple[SnapBiller, Client], host: FakeHost
) -> None:
    _, client = linkaja
    data = participant_data()
    request = {
        "partnerReferenceNo": "REG1",
        "participant": data,
        "registeredBy": {"kind": "self"},
        "additionalInfo": {},
    }
    challenge = snap(client.call("/v1.0/bpu/registration", request))
    assert challenge["responseCode"] == "2009000", challenge
    assert challenge["partnerReferenceNo"] == "REG1"
    assert "3456" not in challenge["phoneMasked"]
    wrong = {"partnerReferenceNo": "REG1", "challengeId": challenge["challengeId"], "otp": "000000"}
    if host.last_otp(data["phone"]) != "000000":
        assert snap(client.call("/v1.0/bpu/registration/confirm", wrong))["responseCode"] == (
            "4049015"
        )
    confirm = dict(wrong, otp=host.last_otp(data["phone"]))
    registered = snap(client.call("/v1.0/bpu/registration/confirm", confirm))
    assert registered["responseCode"] == "2009000", registered
    kpj = registered["kpj"]
    assert registered["registeredFrom"] == "2026-11"
    assert registered["nikMasked"] != data["nik"]
    bills = inquire(client, kpj)
    assert [b["billNo"] for b in bills["billDetails"]] == ["2026-11"]
    # the same NIK again: already registered (403 90 15)
    request["partnerReferenceNo"] = "REG2"
    again = snap(client.call("/v1.0/bpu/registration", request))
    assert again["responseCode"] == "4039015"


def test_registration_of_an_invalid_participant_names_the_field(
    linkaja: tuple[SnapBiller, Client], host: FakeHost
) -> None:
    _, client = linkaja
    request = {
        "partnerReferenceNo": "REGBAD",
        "participant": participant_data(birth_date="1950-08-15"),
        "registeredBy": {"kind": "self"},
    }
    answer = snap(client.call("/v1.0/bpu/registration", request))
    assert answer["responseCode"] == "4009001"
    assert answer["responseMessage"].startswith("Invalid Field Format participant.")
    assert host.sms_outbox == []
    no_participant = snap(client.call("/v1.0/bpu/registration", {"partnerReferenceNo": "R"}))
    assert no_participant["responseMessage"] == "Invalid Mandatory Field participant"


def test_settlement_history_and_auto_debit(
    linkaja: tuple[SnapBiller, Client], host: FakeHost, people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, _ = people[1]
    data = inquire(client, nik)
    body = client.payment_body(nik, data["inquiryRequestId"], amount_of(data), reference="SET1")
    paid = snap(client.call(PAYMENT, body))["virtualAccountData"]
    settlement = snap(client.call("/v1.0/bpu/settlement", {"date": "2026-11-22"}))
    assert settlement["responseCode"] == "2009300"
    (record,) = settlement["records"]
    assert record["referenceNo"] == "SET1"
    assert record["billerReferenceId"] == paid["billDetails"][0]["billerReferenceId"]
    assert record["amount"] == data["totalAmount"]
    assert record["feeAmount"] == {"value": "1000.00", "currency": "IDR"}
    assert record["state"] == "paid"
    assert nik not in json.dumps(settlement)
    empty = snap(client.call("/v1.0/bpu/settlement", {"date": "2026-11-21"}))
    assert empty["records"] == []

    history = snap(client.call("/v1.0/bpu/history", {"customerNo": nik}))
    assert history["responseCode"] == "2009200"
    assert history["entries"][-1]["referenceNo"] == "SET1"
    unknown = snap(client.call("/v1.0/bpu/history", {"customerNo": UNKNOWN_NIK}))
    assert unknown["responseCode"] == "4049212"

    enrol = {"partnerReferenceNo": "AD1", "customerNo": nik, "months": 1, "payer": {"kind": "self"}}
    mandate = snap(client.call("/v1.0/bpu/auto-debit/enrol", enrol))
    assert mandate["responseCode"] == "2009100", mandate
    assert mandate["active"] is True
    assert mandate["partnerReferenceNo"] == "AD1"
    # The same partnerReferenceNo (a new X-EXTERNAL-ID): the same mandate, no second one.
    again = snap(client.call("/v1.0/bpu/auto-debit/enrol", enrol))
    assert again["mandateId"] == mandate["mandateId"]
    assert len(host.mandates("linkaja")) == 1
    # ... and for two months: another mandate under that reference, refused as inconsistent.
    other = snap(client.call("/v1.0/bpu/auto-debit/enrol", {**enrol, "months": 2}))
    assert other["responseCode"] == "4049118", other
    cancel = {"partnerReferenceNo": "ADC1", "mandateId": mandate["mandateId"]}
    cancelled = snap(client.call("/v1.0/bpu/auto-debit/cancel", cancel))
    assert cancelled["active"] is False
    assert cancelled["partnerReferenceNo"] == "ADC1"
    missing = snap(
        client.call(
            "/v1.0/bpu/auto-debit/cancel", {"partnerReferenceNo": "ADC2", "mandateId": "MD404"}
        )
    )
    assert missing["responseCode"] == "4049101"


def test_unknown_path_and_wrong_method(linkaja: tuple[SnapBiller, Client]) -> None:
    _, client = linkaja
    nowhere = snap(client.call("/v1.0/transfer-va/nowhere", {}))
    assert nowhere["responseCode"] == "4040000"
    wrong = requests.get(client.base_url + INQUIRY)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    assert snap(wrong)["responseCode"] == "4050000"
    outside = requests.post(ORIGIN + INQUIRY, data=b"{}")  # without the channel's prefix
    assert snap(outside)["responseCode"] == "4040000"


def test_oversized_body(linkaja: tuple[SnapBiller, Client]) -> None:
    _, client = linkaja
    body = client.inquiry_body(UNKNOWN_NIK, "BIG")
    body["padding"] = "x" * 70_000
    assert snap(client.call(INQUIRY, body))["responseCode"] == "4002400"


def test_credentials_and_info() -> None:
    host = FakeHost(clock=lambda: NOW)
    credentials = BillerCredentials.sandbox("linkaja")
    assert "secret" not in repr(credentials)
    assert "PRIVATE" not in repr(credentials)
    gateway, info = linkaja_gateway(host, "/linkaja", Faults())
    assert set(info) == {
        "client_id",
        "client_secret",
        "private_key_pem",
        "partner_id",
        "partner_service_id",
        "channel_id",
        "agent_id",
    }
    assert info["agent_id"] is None  # a LinkAja customer pays for themself
    assert bni_agen46_gateway(host, "/bni-agen46", Faults())[1]["agent_id"] == SANDBOX_AGENT_ID
    assert info["channel_id"] == "95221"
    assert info["partner_service_id"] == "   89001"
    assert info["client_id"] == "linkaja-sandbox"
    _, bni = bni_agen46_gateway(host, "/bni-agen46", Faults())
    assert bni["channel_id"] == "95231"
    request = WireRequest("POST", "/linkaja/v1.0/transfer-va/inquiry", {}, b"{}")
    assert gateway(request).status == 401


def test_a_long_payment_request_id_is_the_reference(
    linkaja: tuple[SnapBiller, Client], host: FakeHost, people: list[tuple[str, str]]
) -> None:
    _, client = linkaja
    nik, _ = people[1]
    data = inquire(client, nik)
    long_id = "P" * 128
    body = client.payment_body(nik, long_id, amount_of(data))
    paid = snap(client.call(PAYMENT, body))
    assert paid["responseCode"] == "2002500", paid
    assert "referenceNo" not in paid["virtualAccountData"]
    assert host.ledger()[0].reference == long_id
    status = snap(client.call(STATUS, client.status_body(nik, paymentRequestId=long_id)))
    assert status["responseCode"] == "2002600"


# Over a real socket ---------------------------------------------------------------------------


def test_a_dropped_payment_is_settled_by_sending_it_again_over_loopback(
    host: FakeHost, people: list[tuple[str, str]]
) -> None:
    faults = Faults()
    biller = SnapBiller(host, load_profile("linkaja"), prefix="/openapi", faults=faults)
    nik, _ = people[1]
    with LoopbackServer(biller.gateway, faults=faults) as server, requests.Session() as session:
        client = Client(server.base_url + "/openapi", biller.info(), host, session)
        token = client.get_token()
        assert token.headers["content-type"] == "application/json"
        data = inquire(client, nik)
        body = client.payment_body(nik, data["inquiryRequestId"], amount_of(data), reference="DR")
        faults.inject("drop", match="/transfer-va/payment")
        with pytest.raises(requests.ConnectionError):
            client.call(PAYMENT, body)
        assert len(host.ledger()) == 1  # applied, but the answer was lost

        def again() -> dict[str, Any]:
            with requests.Session() as own:
                retry = Client(server.base_url + "/openapi", biller.info(), host, own)
                retry.token = client.token
                return snap(retry.call(PAYMENT, dict(body, flagAdvise="Y")))

        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(lambda _: again(), range(6)))
        assert {a["responseCode"] for a in answers} == {"2002500"}
        references = {
            a["virtualAccountData"]["billDetails"][0]["billerReferenceId"] for a in answers
        }
        assert references == {host.ledger()[0].host_reference}
        assert len(host.ledger()) == 1


# Over a real socket: the sandbox -------------------------------------------------------------


def test_the_flow_over_loopback_through_the_sandbox() -> None:
    with Sandbox(demo=4, channels=("linkaja", "bni-agen46")) as sandbox:
        info = sandbox.info()
        entry = info["channels"]["linkaja"]
        nik = info["participants"][1]["nik"]
        with requests.Session() as session:
            client = Client(entry["base_url"], entry, sandbox.host, session)
            assert snap(client.get_token())["responseCode"] == "2007300"
            data = inquire(client, nik)
            body = client.payment_body(nik, data["inquiryRequestId"], amount_of(data))
            paid = snap(client.call(PAYMENT, body))
            assert paid["responseCode"] == "2002500", paid
            status = client.status_body(nik, paymentRequestId=data["inquiryRequestId"])
            assert snap(client.call(STATUS, status))["responseCode"] == "2002600"
            bni = info["channels"]["bni-agen46"]
            other = Client(bni["base_url"], bni, sandbox.host, session)
            assert snap(other.get_token())["responseCode"] == "2007300"
        assert len(sandbox.host.ledger()) == 1


# Hostile bodies with valid signatures ------------------------------------------------------

_PATHS = [
    INQUIRY,
    PAYMENT,
    STATUS,
    "/v1.0/bpu/registration",
    "/v1.0/bpu/registration/confirm",
    "/v1.0/bpu/auto-debit/enrol",
    "/v1.0/bpu/auto-debit/cancel",
    "/v1.0/bpu/history",
    "/v1.0/bpu/settlement",
]
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_wrong_values = (
    st.none() | st.booleans() | st.integers() | st.lists(_json, max_size=3) | st.just("")
)


@pytest.fixture(scope="module")
def hostile() -> tuple[SnapBiller, Client]:
    host = FakeHost(clock=lambda: NOW, seed=3)
    host.seed_demo(4)
    biller = SnapBiller(host, load_profile("linkaja"), prefix="/linkaja")
    client = Client(f"{ORIGIN}/linkaja", biller.info(), host)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        install(rsps, ORIGIN, biller.gateway)
        assert client.get_token().status_code == 200
    return biller, client


def send_direct(biller: SnapBiller, client: Client, path: str, raw: bytes) -> tuple[int, Any]:
    """Send straight to the gateway (fast), signed when the body is JSON."""
    assert client.token is not None
    stamp = client.timestamp()
    try:
        signature = sign_symmetric(
            client.info["client_secret"], "POST", "/linkaja" + path, client.token, raw, stamp
        )
    except Exception:  # not JSON: the biller must refuse it before the signature matters
        signature = "AAAA"
    headers = {
        "content-type": "application/json",
        "authorization": f"Bearer {client.token}",
        "x-timestamp": stamp,
        "x-signature": signature,
        "x-partner-id": client.info["partner_id"],
        "x-external-id": next_id("H"),
        "channel-id": client.info["channel_id"],
    }
    response = biller.gateway(WireRequest("POST", "/linkaja" + path, headers, raw))
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.body)
    assert set(body) >= {"responseCode", "responseMessage"}
    code = body["responseCode"]
    assert int(code[:3]) == response.status
    return response.status, body


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(_PATHS), raw=st.binary(max_size=200) | _json.map(dump))
def test_arbitrary_bodies_get_a_snap_error(
    hostile: tuple[SnapBiller, Client], path: str, raw: bytes
) -> None:
    biller, client = hostile
    status, body = send_direct(biller, client, path, raw)
    assert 400 <= status < 500, body


def _valid_bodies(client: Client) -> dict[str, dict[str, Any]]:
    nik = UNKNOWN_NIK
    return {
        INQUIRY: client.inquiry_body(nik, "IQH", months=1),
        PAYMENT: client.payment_body(nik, "PH", 36800, reference="RH", months=1),
        STATUS: client.status_body(nik, paymentRequestId="PH"),
        "/v1.0/bpu/history": {"customerNo": nik},
        "/v1.0/bpu/settlement": {"date": "2026-11-22"},
        "/v1.0/bpu/auto-debit/enrol": {
            "partnerReferenceNo": "ADH",
            "customerNo": nik,
            "months": 1,
            "payer": {"kind": "self"},
        },
    }


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_near_valid_bodies_get_a_snap_error(
    hostile: tuple[SnapBiller, Client], data: st.DataObject
) -> None:
    biller, client = hostile
    bodies = _valid_bodies(client)
    path = data.draw(st.sampled_from(sorted(bodies)))
    body = bodies[path]
    key = data.draw(st.sampled_from(sorted(body)))
    if data.draw(st.booleans()):
        del body[key]
    else:
        body[key] = data.draw(_wrong_values)
    status, answer = send_direct(biller, client, path, dump(body))
    assert 400 <= status < 500, answer
    assert answer["responseCode"][3:5] in {"24", "25", "26", "91", "92", "93"}
