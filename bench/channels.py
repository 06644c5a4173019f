"""Channel figures: the journal's durable commits, an end-to-end SNAP payment through the
sandbox on loopback, and SNAP encode + sign + decode - each beside a floor from the same run."""

from __future__ import annotations

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


def end_to_end_payment(payments: int = 150) -> Result:
    """``Client.pay`` (inquiry + payment, signed, journaled) against the sandbox in another
    process, beside the floor: two bare ``requests`` POSTs of the same size to the same server,
    plus the server's own processing time for these payments, plus two durable commits."""
    from jamsostek_channels.adapters import open_adapter
    from jamsostek_channels.client import Client
    from jamsostek_channels.journal import Journal

    server, info = _start_sandbox(OUT)
    control = info["control_url"]
    session = requests.Session()
    try:
        journal = Journal(_fresh("bench-e2e.sqlite"))
        adapter = open_adapter("linkaja", info["channels"]["linkaja"], journal=journal)
        client = Client(adapter, journal=journal)
        niks = [p["nik"] for p in info["participants"]]
        covered = [
            p["nik"]
            for p in session.get(f"{control}/participants", timeout=10).json()["participants"]
            if p["coverage"] != "lapsed"
        ]
        niks = [nik for nik in niks if nik in covered]
        for warm in range(5):
            client.pay(niks[warm], months=1, reference=f"WARM-{warm}")
        before = session.get(f"{control}/stats", timeout=10).json()
        start = time.perf_counter()
        for index in range(payments):
            client.pay(niks[index % len(niks)], months=1, reference=f"BENCH-{index}")
        library = (time.perf_counter() - start) / payments
        after = session.get(f"{control}/stats", timeout=10).json()
        server_side = (after["gateway_seconds"] - before["gateway_seconds"]) / payments

        # The floor does what any client must, in the same loop shape: two POSTs of the same
        # size to the same server, and two durable commits.
        body = b'{"x":"' + b"a" * 400 + b'"}'
        echo = f"{control}/echo"
        raw = sqlite3.connect(_fresh("bench-e2e-raw.sqlite"), isolation_level=None)
        raw.execute("PRAGMA journal_mode = WAL")
        raw.execute("PRAGMA synchronous = FULL")
        raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, ref TEXT UNIQUE, body TEXT)")
        row = body.decode()
        for _ in range(20):
            session.post(echo, data=body, timeout=10)
        start = time.perf_counter()
        for index in range(payments):
            session.post(echo, data=body, timeout=10)
            session.post(echo, data=body, timeout=10)
            for step in ("a", "b"):
                raw.execute("BEGIN IMMEDIATE")
                raw.execute("INSERT INTO t (ref, body) VALUES (?, ?)", (f"{index}{step}", row))
                raw.execute("COMMIT")
        posts_and_commits = (time.perf_counter() - start) / payments
        raw.close()
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    floor = posts_and_commits + server_side
    return Result(
        "SNAP payment end to end (inquiry + pay)",
        library,
        "2 bare POSTs + server work + 2 commits",
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
