"""The sandbox: the real ``jamsostek-channels sandbox`` command, driven by a third-party client.

The client part of this module is what a team in another language would write from the SNAP
standard alone (``docs/channels``' public facts): it uses only ``requests``, ``json``,
``hashlib``, ``hmac``, ``base64`` and ``cryptography`` and never imports jamsostek_channels, so
the sandbox is proved usable by someone who has only the info file.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from jamsostek_channels import registry

SNAP_FIELDS = {
    "agent_id",
    "base_url",
    "client_id",
    "client_secret",
    "private_key_pem",
    "partner_id",
    "partner_service_id",
    "channel_id",
}
STARTUP_SECONDS = 20.0
EXIT_SECONDS = 5.0
TIMEOUT = 5.0  # every HTTP call of the third-party client


# -- running the real command -----------------------------------------------------------------


def _command(info_file: Path, *extra: str, port: int = 0) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jamsostek_channels",
        "sandbox",
        "--port",
        str(port),
        "--info-file",
        str(info_file),
        *extra,
    ]


def _spawn(info_file: Path, *extra: str, port: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command(info_file, *extra, port=port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _wait_for_info(process: subprocess.Popen[str], info_file: Path) -> dict[str, Any]:
    """The info file's document, once the sandbox has written it (bounded wait)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if info_file.exists():
            document: dict[str, Any] = json.loads(info_file.read_text(encoding="utf-8"))
            return document
        if process.poll() is not None:
            _out, err = process.communicate()
            pytest.fail(f"sandbox exited {process.returncode} before writing its info: {err}")
        time.sleep(0.05)
    pytest.fail(f"no info file after {STARTUP_SECONDS} s")


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=EXIT_SECONDS)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One real sandbox process for the client tests; its info file's document."""
    info_file = tmp_path_factory.mktemp("sandbox") / "info.json"
    process = _spawn(info_file)
    try:
        yield _wait_for_info(process, info_file)
    finally:
        _kill(process)


# -- a third-party SNAP client, from the standard alone ----------------------------------------

WIB = dt.timezone(dt.timedelta(hours=7))


def _timestamp() -> str:
    return dt.datetime.now(WIB).strftime("%Y-%m-%dT%H:%M:%S+07:00")


def _minified(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _amount(value: str) -> dict[str, str]:
    return {"value": value, "currency": "IDR"}


class SnapClient:
    """Written from *SNAP Standar Teknis dan Keamanan*: B2B token, then HMAC-signed calls."""

    def __init__(self, channel: dict[str, Any]) -> None:
        self.channel = channel
        self.base_url: str = channel["base_url"]
        self.path_base = urlsplit(self.base_url).path  # the deployment prefix
        self.token: str | None = None

    def get_token(self) -> dict[str, Any]:
        timestamp = _timestamp()
        key = serialization.load_pem_private_key(
            self.channel["private_key_pem"].encode("ascii"), password=None
        )
        assert isinstance(key, rsa.RSAPrivateKey)
        signed = key.sign(
            f"{self.channel['client_id']}|{timestamp}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
        response = requests.post(
            self.base_url + "/v1.0/access-token/b2b",
            data=_minified({"grantType": "client_credentials", "additionalInfo": {}}),
            headers={
                "Content-Type": "application/json",
                "X-TIMESTAMP": timestamp,
                "X-CLIENT-KEY": self.channel["client_id"],
                "X-SIGNATURE": base64.b64encode(signed).decode("ascii"),
            },
            timeout=TIMEOUT,
        )
        answer: dict[str, Any] = response.json()
        assert response.status_code == 200, answer
        assert answer["responseCode"] == "2007300"
        assert answer["tokenType"] == "Bearer"
        assert answer["expiresIn"] == "900"
        self.token = answer["accessToken"]
        return answer

    def call(self, service: str, body: dict[str, Any]) -> requests.Response:
        """``POST /v1.0/transfer-va/<service>`` signed with HMAC-SHA512."""
        assert self.token is not None
        endpoint = f"{self.path_base}/v1.0/transfer-va/{service}"
        raw = _minified(body)
        timestamp = _timestamp()
        string_to_sign = ":".join(
            ["POST", endpoint, self.token, hashlib.sha256(raw).hexdigest().lower(), timestamp]
        )
        signature = hmac.new(
            self.channel["client_secret"].encode("utf-8"),
            string_to_sign.encode("utf-8"),
            hashlib.sha512,
        ).digest()
        return requests.post(
            self.base_url + f"/v1.0/transfer-va/{service}",
            data=raw,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
                "X-TIMESTAMP": timestamp,
                "X-SIGNATURE": base64.b64encode(signature).decode("ascii"),
                "X-PARTNER-ID": self.channel["partner_id"],
                "X-EXTERNAL-ID": uuid.uuid4().hex,  # unique per partner per day
                "CHANNEL-ID": self.channel["channel_id"],
            },
            timeout=TIMEOUT,
        )

    def va(self, customer_no: str) -> dict[str, str]:
        service_id: str = self.channel["partner_service_id"]
        return {
            "partnerServiceId": service_id,
            "customerNo": customer_no,
            "virtualAccountNo": service_id + customer_no,
        }


def _answer(response: requests.Response, http: int, code: str) -> dict[str, Any]:
    document: dict[str, Any] = response.json()
    assert response.status_code == http, document
    assert document["responseCode"] == code, document
    return document


def _inquire(client: SnapClient, nik: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    request_id = "INQ" + uuid.uuid4().hex
    body = {**client.va(nik), "inquiryRequestId": request_id, **(extra or {})}
    answer = _answer(client.call("inquiry", body), 200, "2002400")
    data: dict[str, Any] = answer["virtualAccountData"]
    assert data["inquiryStatus"] == "00"
    assert data["inquiryRequestId"] == request_id
    assert data["customerNo"] == nik
    assert data["virtualAccountName"]
    assert len(data["billDetails"]) == 1  # no additionalInfo.months: one month
    assert data["totalAmount"]["currency"] == "IDR"
    assert re.fullmatch(r"[1-9][0-9]*\.00", data["totalAmount"]["value"])
    return data


def _payment_body(
    client: SnapClient, nik: str, inquiry: dict[str, Any], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        **client.va(nik),
        "paymentRequestId": inquiry["inquiryRequestId"],
        "paidAmount": _amount(inquiry["totalAmount"]["value"]),
        "totalAmount": _amount(inquiry["totalAmount"]["value"]),
        **(extra or {}),
    }


def _status(
    client: SnapClient, nik: str, request_id: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = {
        **client.va(nik),
        "inquiryRequestId": request_id,
        "paymentRequestId": request_id,
        **(extra or {}),
    }
    data: dict[str, Any] = _answer(client.call("status", body), 200, "2002600")[
        "virtualAccountData"
    ]
    return data


def _payable(
    client: SnapClient,
    participants: list[dict[str, str]],
    extra: dict[str, Any] | None = None,
    minimum: int = 1,
) -> tuple[str, dict[str, Any]]:
    """The first demo participant with a payable month of at least ``minimum`` rupiah, and the
    successful inquiry. (The demo mix has lapsed participants, who cannot pay, and cheap months
    below an agent channel's minimum.)"""
    for participant in participants:
        nik = participant["nik"]
        body = {**client.va(nik), "inquiryRequestId": "PROBE" + uuid.uuid4().hex, **(extra or {})}
        data = client.call("inquiry", body).json().get("virtualAccountData") or {}
        if data.get("inquiryStatus") == "00" and float(data["totalAmount"]["value"]) >= minimum:
            return nik, _inquire(client, nik, extra)
    pytest.fail("no payable demo participant")


def _pay_flow(
    channel: dict[str, Any],
    participants: list[dict[str, str]],
    extra: dict[str, Any] | None = None,
    minimum: int = 1,
) -> tuple[str, str]:
    """Token, inquiry, payment of the quoted amount, status 00: (NIK, paymentRequestId)."""
    client = SnapClient(channel)
    client.get_token()
    nik, inquiry = _payable(client, participants, extra, minimum)
    body = _payment_body(client, nik, inquiry, extra)
    paid = _answer(client.call("payment", body), 200, "2002500")["virtualAccountData"]
    assert paid["paymentFlagStatus"] == "00"
    assert paid["paymentRequestId"] == inquiry["inquiryRequestId"]
    assert paid["paidAmount"] == inquiry["totalAmount"]
    status = _status(client, nik, inquiry["inquiryRequestId"], extra)
    assert status["paymentFlagStatus"] == "00"
    assert status["paidAmount"] == inquiry["totalAmount"]
    request_id: str = inquiry["inquiryRequestId"]
    return nik, request_id


def _control(info: dict[str, Any], method: str, action: str, **body: Any) -> dict[str, Any]:
    response = requests.request(
        method, f"{info['control_url']}/{action}", json=body or None, timeout=TIMEOUT
    )
    document: dict[str, Any] = response.json()
    assert response.status_code == 200, document
    return document


# -- the info file ------------------------------------------------------------------------------


def _check_info_shape(info: dict[str, Any], *, loopback: bool = True) -> None:
    assert set(info) == {"channels", "participants", "control_url"}
    assert {"linkaja", "bni-agen46"} <= set(info["channels"])
    origin = r"http://127\.0\.0\.1:[1-9][0-9]*" if loopback else r"https?://[^/]+"
    assert re.fullmatch(origin + "/control", info["control_url"])
    base = info["control_url"].removesuffix("/control")
    for name, channel in info["channels"].items():
        # Each entry is the channel's own settings shape: its registry settings class takes it.
        registry.spec(name).parse_settings(channel)
        for field, value in channel.items():
            # scalars only (a framing's width is a number, whether its length is ASCII a bool)
            assert value is None or isinstance(value, str | int | bool), (name, field)
    for name in ("linkaja", "bni-agen46"):  # SNAP channels use every field but the agent's
        channel = info["channels"][name]
        assert set(channel) == SNAP_FIELDS, name
        assert channel["base_url"] == f"{base}/{name}"
        assert all(channel[field] for field in SNAP_FIELDS - {"agent_id"}), name
        assert "PRIVATE KEY" in channel["private_key_pem"]
        assert len(channel["partner_service_id"]) == 8
        assert re.fullmatch(r"[0-9]{5}", channel["channel_id"])
    # The agent id a client sends where the channel needs one: a bank agent at BNI Agen46, the
    # teller at a post office; LinkAja's customers pay for themselves.
    assert info["channels"]["linkaja"]["agent_id"] is None
    assert info["channels"]["bni-agen46"]["agent_id"]
    if "kantorpos" in info["channels"]:
        kantorpos = info["channels"]["kantorpos"]
        assert set(kantorpos) == {"base_url", "office", "teller"}
        # The profile's paths already begin with /kantorpos/: the base URL is the root.
        assert kantorpos["base_url"] == base
        assert re.fullmatch(r"[0-9]{5}", kantorpos["office"])
        assert kantorpos["teller"]
    participants = info["participants"]
    assert len(participants) >= 10
    assert len({p["nik"] for p in participants}) == len(participants)
    for participant in participants:
        assert set(participant) == {"nik", "kpj", "name"}
        assert re.fullmatch(r"[0-9]{16}", participant["nik"])
        assert re.fullmatch(r"[0-9]{8,20}", participant["kpj"])
        assert participant["name"].strip()


def test_info_file_shape(served: dict[str, Any]) -> None:
    _check_info_shape(served)
    assert requests.get(served["control_url"] + "/ledger", timeout=TIMEOUT).status_code == 200


# -- a third-party client against the real command ----------------------------------------------


def test_third_party_client_pays_on_linkaja(served: dict[str, Any]) -> None:
    _pay_flow(served["channels"]["linkaja"], served["participants"])


def test_third_party_client_pays_on_bni_agen46(served: dict[str, Any]) -> None:
    channel = served["channels"]["bni-agen46"]
    nik = served["participants"][0]["nik"]
    client = SnapClient(channel)
    client.get_token()
    # An agent channel: without additionalInfo.agentId the inquiry is refused (400 24 02).
    refused = client.call("inquiry", {**client.va(nik), "inquiryRequestId": "INQ1"})
    assert refused.status_code == 400
    assert refused.json()["responseCode"] == "4002402"
    agent = {"additionalInfo": {"agentId": "AGEN46-0042"}}
    _pay_flow(channel, served["participants"], agent, minimum=10_000)  # the channel's minimum


def test_wrong_signature_is_refused(served: dict[str, Any]) -> None:
    channel = {**served["channels"]["linkaja"], "client_secret": "not-the-secret"}
    client = SnapClient(channel)
    client.get_token()  # the token is RSA-signed: the secret plays no part
    nik = served["participants"][1]["nik"]
    response = client.call("inquiry", {**client.va(nik), "inquiryRequestId": "INQ2"})
    assert response.status_code == 401
    assert response.json()["responseCode"] == "4012400"


def test_control_api_ledger_faults_and_reset(served: dict[str, Any]) -> None:
    channel = served["channels"]["linkaja"]
    demo_niks = {p["nik"] for p in served["participants"]}
    fresh = _control(served, "POST", "reset")
    assert fresh["participants"] == served["participants"]
    before = _control(served, "GET", "participants")["participants"]
    assert _control(served, "GET", "ledger") == {"ledger": []}

    nik, request_id = _pay_flow(channel, served["participants"])
    response = requests.get(served["control_url"] + "/ledger", timeout=TIMEOUT)
    ledger = response.json()["ledger"]
    assert [(e["kind"], e["channel"], e["reference"]) for e in ledger] == [
        ("payment", "linkaja", request_id)
    ]
    assert ledger[0]["amount"] > 0
    assert not any(full in response.text for full in demo_niks)  # never a full NIK

    # A dropped answer: the payment is applied, the connection closes without an answer.
    fault = _control(
        served, "POST", "faults", channel="linkaja", kind="drop", match="transfer-va/payment"
    )
    assert fault["fault"]["kind"] == "drop"
    assert [f["kind"] for f in _control(served, "GET", "faults")["faults"]] == ["drop"]
    client = SnapClient(channel)
    client.get_token()
    others = [p for p in served["participants"] if p["nik"] != nik]
    other, inquiry = _payable(client, others)
    with pytest.raises(requests.ConnectionError):
        client.call("payment", _payment_body(client, other, inquiry))
    assert _control(served, "GET", "faults")["faults"] == []  # consumed
    status = _status(client, other, inquiry["inquiryRequestId"])
    assert status["paymentFlagStatus"] == "00"
    assert len(_control(served, "GET", "ledger")["ledger"]) == 2

    # Reset: the demo data as it was, no payments, no faults.
    _control(served, "POST", "faults", kind="error", match="nothing-matches-this")
    after = _control(served, "POST", "reset")
    assert after["participants"] == served["participants"]
    assert _control(served, "GET", "participants")["participants"] == before
    assert _control(served, "GET", "ledger") == {"ledger": []}
    assert _control(served, "GET", "faults") == {"faults": []}
    client.get_token()  # a reset sandbox forgets issued tokens
    again = _inquire(client, other)  # the month paid before the reset is unpaid again
    assert again["billDetails"] == inquiry["billDetails"]
    assert again["totalAmount"] == inquiry["totalAmount"]
    forgotten = client.call(
        "status", {**client.va(other), "paymentRequestId": inquiry["inquiryRequestId"]}
    )
    _answer(forgotten, 404, "4042601")  # the reset host has no such payment


def test_control_api_refuses_nonsense(served: dict[str, Any]) -> None:
    url = served["control_url"]
    assert requests.post(url + "/faults", json={"kind": "nope"}, timeout=TIMEOUT).status_code == 400
    unknown = requests.post(
        url + "/faults", json={"channel": "nowhere", "kind": "drop"}, timeout=TIMEOUT
    )
    assert unknown.status_code == 400
    assert requests.get(url + "/no-such-thing", timeout=TIMEOUT).status_code == 404
    assert requests.post(url + "/seed", data=b"[1]", timeout=TIMEOUT).status_code == 400


# -- process lifetime ---------------------------------------------------------------------------


def test_sigterm_stops_it_cleanly(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    process = _spawn(info_file)
    try:
        info = _wait_for_info(process, info_file)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=EXIT_SECONDS)
        assert process.returncode == 0, err
        assert "sandbox on http://127.0.0.1:" in out
        assert "Traceback" not in err
        with pytest.raises(requests.ConnectionError):
            requests.get(info["control_url"] + "/ledger", timeout=TIMEOUT)
    finally:
        _kill(process)


def test_duration_stops_it_by_itself(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    process = _spawn(info_file, "--duration", "1", "--seed", "3", "--demo", "10")
    try:
        info = _wait_for_info(process, info_file)
        assert len(info["participants"]) == 10
        process.communicate(timeout=EXIT_SECONDS + 1)
        assert process.returncode == 0
        assert not info_file.exists()  # removed on the way out
    finally:
        _kill(process)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_info_file_is_removed_when_stopped(tmp_path: Path, signum: signal.Signals) -> None:
    info_file = tmp_path / "info.json"
    process = _spawn(info_file)
    try:
        info = _wait_for_info(process, info_file)
        # an open keep-alive connection must not keep it alive either
        with requests.Session() as session:
            assert session.get(info["control_url"] + "/stats", timeout=TIMEOUT).ok
            process.send_signal(signum)
            _out, err = process.communicate(timeout=EXIT_SECONDS)
        assert process.returncode == 0, err
        assert "Traceback" not in err
        assert not info_file.exists()
    finally:
        _kill(process)


def test_another_sandbox_s_info_file_is_left_alone(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    process = _spawn(info_file)
    try:
        _wait_for_info(process, info_file)
        info_file.write_text('{"control_url": "http://127.0.0.1:1/control"}', encoding="utf-8")
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=EXIT_SECONDS)
        assert process.returncode == 0
        assert info_file.exists()  # not the file it wrote: someone else's
    finally:
        _kill(process)


def test_port_in_use_exits_2(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        info_file = tmp_path / "info.json"
        info_file.write_text('{"stale": "from an earlier run"}', encoding="utf-8")
        done = subprocess.run(
            _command(info_file, port=port),
            capture_output=True,
            text=True,
            timeout=STARTUP_SECONDS,
            check=False,
        )
    assert done.returncode == 2
    assert f"error: [cli.cannot_listen] --port: Cannot listen on port {port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not info_file.exists()  # a stale file never passes for a ready server


def test_unwritable_info_file_exits_2(tmp_path: Path) -> None:
    info_file = tmp_path / "no-such-directory" / "info.json"
    done = subprocess.run(
        [*_command(info_file), "--duration", "5"],
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
        check=False,
    )
    assert done.returncode == 2
    assert "error: [cli.cannot_write] --info-file: Cannot write" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_port_exits_2(tmp_path: Path) -> None:
    done = subprocess.run(
        _command(tmp_path / "info.json", port=70000),
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
        check=False,
    )
    assert done.returncode == 2
    assert "--port" in done.stderr


# -- in process ----------------------------------------------------------------------------------


def test_in_process_info_has_the_same_shape() -> None:
    from jamsostek_channels.testing.sandbox import Sandbox

    _check_info_shape(Sandbox(seed=1).info(), loopback=False)
    with Sandbox(seed=1) as served:
        info = served.info()
        _check_info_shape(info)
        assert info["control_url"] == served.base_url + "/control"


def test_same_seed_same_demo_participants() -> None:
    from jamsostek_channels.testing.sandbox import Sandbox

    first = Sandbox(seed=1).info()["participants"]
    assert first == Sandbox(seed=1).info()["participants"]
    assert first != Sandbox(seed=2).info()["participants"]
    assert len(Sandbox(seed=1, demo=10).info()["participants"]) == 10
