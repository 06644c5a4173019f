"""Channel figures: the journal's durable commits, an end-to-end SNAP payment through the
sandbox on loopback, and SNAP encode + sign + decode - each beside a floor from the same run."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from bench.harness import Result, best_per_call

OUT = Path(__file__).parent / "out"


def _fresh(name: str) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / name
    for stale in OUT.glob(name + "*"):
        stale.unlink()
    return path


def _raw_commits(path: Path, count: int) -> float:
    """Seconds per raw SQLite WAL insert + commit with synchronous=FULL (the floor)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, ref TEXT UNIQUE, body TEXT)")
    body = json.dumps({"request": {"amount": 36800, "periods": ["2026-11"]}, "name": "S*** R***"})
    start = time.perf_counter()
    for index in range(count):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (ref, body) VALUES (?, ?)", (f"R{index}-{start}", body))
        db.execute("COMMIT")
    elapsed = (time.perf_counter() - start) / count
    db.close()
    return elapsed


def journal_commits(count: int = 1500) -> Result:
    from jamsostek_channels.journal import Journal

    journal = Journal(_fresh("bench-journal.sqlite"))
    request = {"request": {"amount": 36800, "periods": ["2026-11"]}, "name": "S*** R***"}
    runs = []
    for run in range(3):
        start = time.perf_counter()
        for index in range(count):
            journal.begin("bench", "pay", f"R{run}-{index}", request)
        runs.append((time.perf_counter() - start) / count)
    journal.close()
    value = min(runs)
    floor = min(_raw_commits(_fresh("bench-raw.sqlite"), count) for _ in range(3))
    return Result(
        "journal write (durable commit)",
        value,
        "raw SQLite WAL insert+commit, FULL",
        floor,
        "rate ≥ 80% of floor (ratio ≤ 1.25×)",
        value <= floor / 0.8,
    )


def _start_sandbox(workdir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    info_file = workdir / "bench-sandbox.json"
    if info_file.exists():
        info_file.unlink()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jamsostek_channels",
            "sandbox",
            "--port",
            "0",
            "--demo",
            "60",
            "--info-file",
            str(info_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not info_file.exists():
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.05)
    info: dict[str, Any] = json.loads(info_file.read_text(encoding="utf-8"))
    return server, info


def _sign(secret: str, path: str, token: str, body: bytes, timestamp: str) -> str:
    digest = hashlib.sha256(body).hexdigest()
    text = f"POST:{path}:{token}:{digest}:{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), text, hashlib.sha512).digest()).decode()


def _bare_payments(info: dict[str, Any], niks: list[str], payments: int) -> float:
    """The floor: what any SNAP client must do per payment, with nothing of ours on the way:
    a bare ``requests`` POST of a pre-signed inquiry, a bare POST of the payment (its amount
    read from the answer with ``json.loads``, signed with ``hmac``), and two durable SQLite
    commits - against the same kind of server doing the same work."""
    from jamsostek_channels import clock
    from jamsostek_channels.adapters.snap.security import format_timestamp, sign_token_request

    channel = info["channels"]["linkaja"]
    base = channel["base_url"]
    prefix = "/" + base.split("/", 3)[3]
    origin = base[: -len(prefix)]
    secret, partner = channel["client_secret"], channel["partner_id"]
    psid = channel["partner_service_id"]
    session = requests.Session()
    timestamp = format_timestamp(clock.now())
    token = session.post(
        f"{base}/v1.0/access-token/b2b",
        data=b'{"grantType":"client_credentials","additionalInfo":{}}',
        headers={
            "Content-Type": "application/json",
            "X-TIMESTAMP": timestamp,
            "X-CLIENT-KEY": channel["client_id"],
            "X-SIGNATURE": sign_token_request(
                channel["private_key_pem"], channel["client_id"], timestamp
            ),
        },
        timeout=10,
    ).json()["accessToken"]

    def headers(body: bytes, path: str, external: str) -> dict[str, str]:
        stamp = format_timestamp(clock.now())
        return {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "X-TIMESTAMP": stamp,
            "X-SIGNATURE": _sign(secret, path, token, body, stamp),
            "X-PARTNER-ID": partner,
            "X-EXTERNAL-ID": external,
            "CHANNEL-ID": channel["channel_id"],
        }

    inquiry_path = f"{prefix}/v1.0/transfer-va/inquiry"
    payment_path = f"{prefix}/v1.0/transfer-va/payment"
    inquiries = []
    for index in range(payments):
        nik = niks[index % len(niks)]
        body = json.dumps(
            {
                "partnerServiceId": psid,
                "customerNo": nik,
                "virtualAccountNo": psid + nik,
                "inquiryRequestId": f"FLQ{index}",
                "additionalInfo": {"months": 1},
            },
            separators=(",", ":"),
        ).encode()
        inquiries.append((nik, body, headers(body, inquiry_path, f"FLI{index}")))
    raw = sqlite3.connect(_fresh("bench-e2e-raw.sqlite"), isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = FULL")
    raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, ref TEXT UNIQUE, body TEXT)")
    start = time.perf_counter()
    for index, (nik, body, signed) in enumerate(inquiries):
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO t (ref, body) VALUES (?, ?)", (f"{index}a", body.decode()))
        raw.execute("COMMIT")
        answer = session.post(origin + inquiry_path, data=body, headers=signed, timeout=10)
        value = json.loads(answer.content)["virtualAccountData"]["totalAmount"]["value"]
        payment = json.dumps(
            {
                "partnerServiceId": psid,
                "customerNo": nik,
                "virtualAccountNo": psid + nik,
                "paymentRequestId": f"FLQ{index}",
                "paidAmount": {"value": value, "currency": "IDR"},
                "referenceNo": f"FLOOR-{index}",
                "flagAdvise": "N",
                "additionalInfo": {"months": 1},
            },
            separators=(",", ":"),
        ).encode()
        paid = session.post(
            origin + payment_path,
            data=payment,
            headers=headers(payment, payment_path, f"FLP{index}"),
            timeout=10,
        )
        paid.raise_for_status()
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO t (ref, body) VALUES (?, ?)", (f"{index}b", paid.text))
        raw.execute("COMMIT")
    elapsed = (time.perf_counter() - start) / payments
    raw.close()
    return elapsed


def _payable(info: dict[str, Any]) -> list[str]:
    listed = requests.get(f"{info['control_url']}/participants", timeout=10).json()
    return [p["nik"] for p in listed["participants"] if p["coverage"] != "lapsed"]


def end_to_end_payment(payments: int = 150) -> Result:
    """``Client.pay`` (inquiry + payment, signed, journaled, receipt) against the sandbox in
    another process, beside :func:`_bare_payments` against an identical sandbox."""
    from jamsostek_channels.adapters import open_adapter
    from jamsostek_channels.client import Client
    from jamsostek_channels.journal import Journal

    server, info = _start_sandbox(OUT)
    try:
        journal = Journal(_fresh("bench-e2e.sqlite"))
        adapter = open_adapter("linkaja", info["channels"]["linkaja"], journal=journal)
        client = Client(adapter, journal=journal)
        niks = _payable(info)
        warm = niks[-5:]
        niks = niks[:-5]
        for index, nik in enumerate(warm):
            client.pay(nik, months=1, reference=f"WARM-{index}")
        start = time.perf_counter()
        for index in range(payments):
            client.pay(niks[index % len(niks)], months=1, reference=f"BENCH-{index}")
        library = (time.perf_counter() - start) / payments
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    server, info = _start_sandbox(OUT)
    try:
        niks = _payable(info)[:-5]
        floor = _bare_payments(info, niks, payments)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return Result(
        "SNAP payment end to end (inquiry + pay)",
        library,
        "2 bare signed POSTs + 2 durable commits",
        floor,
        "overhead ≤ 25% (ratio ≤ 1.25×)",
        library <= 1.25 * floor,
    )


def snap_codec() -> Result:
    """Encode + sign + decode of a payment beside stdlib JSON parse + serialise + the HMAC."""
    from jamsostek_channels import clock
    from jamsostek_channels.adapters.snap import codec
    from jamsostek_channels.adapters.snap.codes import ResponseCode
    from jamsostek_channels.adapters.snap.security import format_timestamp, sign_symmetric
    from jamsostek_channels.channel import CustomerId, PaymentRequest
    from jamsostek_channels.model import Payer
    from jamsostek_channels.period import YearMonth

    now = dt.datetime(2026, 11, 23, 10, 0, tzinfo=clock.JAKARTA)
    request = PaymentRequest(
        reference="POS-0001",
        customer=CustomerId.nik("3201015508950001"),
        periods=(YearMonth(2026, 11),),
        amount=36800,
        admin_fee=1000,
        payer=Payer.self_paid(),
        inquiry_id="IQAB12CD202611230000000001",
        requested_at=now,
    )
    answer = codec.encode_payment_response(
        codec.SnapPaymentResponse(
            response_code=ResponseCode.parse("2002500"),
            response_message="Successful",
            virtual_account=codec.SnapPaymentData(
                partner_service_id="   89001",
                customer_no="3201015508950001",
                payment_request_id="IQAB12CD202611230000000001",
                paid_amount=36800,
                payment_flag_status="00",
                trx_date_time=now,
                reference_no="POS-0001",
                bill_details=(  # type: ignore[arg-type]  # attrs converter typing
                    codec.SnapPaidBill(YearMonth(2026, 11), 36800, "BPJS000000000001", "00"),
                ),
            ),
        )
    )
    timestamp = format_timestamp(now)
    path = "/linkaja/v1.0/transfer-va/payment"

    def library() -> object:
        body = codec.encode_payment_request(
            codec.payment_request_for(request, partner_service_id="   89001", channel_code=6017)
        )
        signature = sign_symmetric("secret", "POST", path, "token", body, timestamp, minified=True)
        return signature, codec.decode_payment_response(answer)

    body = codec.encode_payment_request(
        codec.payment_request_for(request, partner_service_id="   89001", channel_code=6017)
    )

    def floor() -> object:
        sent = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
        digest = hashlib.sha256(sent).hexdigest()
        text = f"POST:{path}:token:{digest}:{timestamp}".encode()
        mac = hmac.new(b"secret", text, hashlib.sha512).digest()
        return mac, json.loads(answer)

    value = best_per_call(library, number=2000)
    floor_value = best_per_call(floor, number=2000)
    return Result(
        "SNAP payment encode + sign + decode",
        value,
        "stdlib JSON loads+dumps + SHA-256 + HMAC-SHA512",
        floor_value,
        "≤ 3× floor",
        value <= 3 * floor_value,
    )


def run() -> list[Result]:
    os.environ.setdefault("PYTHONHASHSEED", "0")
    return [journal_commits(), snap_codec(), end_to_end_payment()]
