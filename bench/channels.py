"""Channel figures: the journal's durable commits, and a SNAP payment end to end through
``Client`` against the sandbox on loopback - each beside a floor from the same run."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

import requests

from bench.harness import Result
from bench.loopback import DurableLog, Side, fresh, sandbox, take_turns

_WIB = dt.timezone(dt.timedelta(hours=7))
#: The LinkAja profile's ``channelCode`` (ISO 18245), which the library sends.
_LINKAJA_CHANNEL_CODE = 6017
#: What the journal writes for a payment, roughly (its request record): the body of a raw row.
RECORD: dict[str, Any] = {
    "request": {"amount": 36800, "periods": ["2026-11"]},
    "name": "S*** R***",
}
RAW_BODY = json.dumps(RECORD)


def _raw_commits(path: Path, count: int) -> float:
    """Seconds per raw SQLite WAL insert + commit with synchronous=FULL (the floor)."""
    log = DurableLog(path)
    start = time.perf_counter()
    for index in range(count):
        log.commit(f"R{index}-{start}", RAW_BODY)
    elapsed = (time.perf_counter() - start) / count
    log.close()
    return elapsed


def journal_commits(count: int = 1500) -> Result:
    from jamsostek_channels.journal import Journal

    journal = Journal(fresh("bench-journal.sqlite"))
    runs = []
    for run in range(3):
        start = time.perf_counter()
        for index in range(count):
            journal.begin("bench", "pay", f"R{run}-{index}", RECORD)
        runs.append((time.perf_counter() - start) / count)
    journal.close()
    value = min(runs)
    floor = min(_raw_commits(fresh("bench-raw.sqlite"), count) for _ in range(3))
    return Result(
        "journal write (durable commit)",
        value,
        "raw SQLite WAL insert+commit, FULL",
        floor,
        "rate ≥ 80% of floor (ratio ≤ 1.25×)",
        value <= floor / 0.8,
    )


def _snap_library(info: dict[str, Any]) -> Side:
    """``Client.pay`` at LinkAja: inquiry + payment, signed, journaled, a receipt."""
    from jamsostek_channels.connection import connect

    client = connect("linkaja", info["channels"]["linkaja"], journal=fresh("bench-snap-e2e.sqlite"))
    warmed = itertools.count()

    def warm(nik: str) -> None:
        # After the sandbox's reset the cached token is refused once and renewed: untimed.
        client.pay(nik, months=1, reference=f"WARM-{next(warmed)}")

    def pay(tag: str, nik: str) -> None:
        client.pay(nik, months=1, reference=f"LIB-{tag}")

    return Side(warm, pay, client.close)


def _jakarta_now() -> str:
    return dt.datetime.now(_WIB).isoformat(timespec="seconds")


def _snap_bare(info: dict[str, Any]) -> Side:
    """The floor: a careful SNAP client written from the standard with nothing of ours: one
    ``requests.Session``, the same bodies as the library sends, the HMAC-SHA512 signature
    over each body's SHA-256 (and the RSA-signed token, fetched untimed as the library's is
    cached), each answer parsed and its codes checked, and two durable commits: the payment
    before it is sent and its answer after."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    channel = info["channels"]["linkaja"]
    base = channel["base_url"]
    prefix = "/" + base.split("/", 3)[3]
    origin = base[: -len(prefix)]
    client_id, secret = channel["client_id"], channel["client_secret"].encode()
    partner, psid = channel["partner_id"], channel["partner_service_id"]
    key = serialization.load_pem_private_key(channel["private_key_pem"].encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    inquiry_path = f"{prefix}/v1.0/transfer-va/inquiry"
    payment_path = f"{prefix}/v1.0/transfer-va/payment"
    session = requests.Session()
    session.trust_env = False  # as the library's transport: no proxies or netrc from the env
    log = DurableLog(fresh("bench-snap-e2e-bare.sqlite"))
    token = ""
    warmed = itertools.count()

    def fetch_token() -> str:
        stamp = _jakarta_now()
        signed = key.sign(f"{client_id}|{stamp}".encode(), padding.PKCS1v15(), hashes.SHA256())
        answer = session.post(
            f"{base}/v1.0/access-token/b2b",
            data=b'{"grantType":"client_credentials","additionalInfo":{}}',
            headers={
                "Content-Type": "application/json",
                "X-TIMESTAMP": stamp,
                "X-CLIENT-KEY": client_id,
                "X-SIGNATURE": base64.b64encode(signed).decode(),
            },
            timeout=10,
        )
        answer.raise_for_status()
        return str(answer.json()["accessToken"])

    def post(path: str, body: dict[str, Any], external: str, stamp: str) -> dict[str, Any]:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        digest = hashlib.sha256(data).hexdigest()
        text = f"POST:{path}:{token}:{digest}:{stamp}".encode()
        answer = session.post(
            origin + path,
            data=data,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
                "X-TIMESTAMP": stamp,
                "X-SIGNATURE": base64.b64encode(
                    hmac.new(secret, text, hashlib.sha512).digest()
                ).decode(),
                "X-PARTNER-ID": partner,
                "X-EXTERNAL-ID": external,
                "CHANNEL-ID": channel["channel_id"],
            },
            timeout=10,
        )
        answer.raise_for_status()
        parsed: dict[str, Any] = json.loads(answer.content)
        return parsed

    def pay(tag: str, nik: str) -> None:
        tag = tag.replace("-", "X")  # the ids built from it take letters and digits only
        stamp = _jakarta_now()
        request_id = f"BQ{tag}"
        account = {"partnerServiceId": psid, "customerNo": nik, "virtualAccountNo": psid + nik}
        extra = {"months": 1, "payerKind": "self"}
        inquiry = {
            **account,
            "inquiryRequestId": request_id,
            "trxDateInit": stamp,
            "channelCode": _LINKAJA_CHANNEL_CODE,
            "language": "ID",
            "additionalInfo": extra,
        }
        answer = post(inquiry_path, inquiry, f"BI{tag}", stamp)
        if answer["responseCode"] != "2002400":
            raise RuntimeError(f"inquiry refused: {answer}")
        total = answer["virtualAccountData"]["totalAmount"]
        payment = {
            **account,
            "paymentRequestId": request_id,
            "channelCode": _LINKAJA_CHANNEL_CODE,
            "paidAmount": total,
            "totalAmount": total,
            "trxDateTime": stamp,
            "referenceNo": f"BARE-{tag}",
            "flagAdvise": "N",
            "additionalInfo": extra,
        }
        log.commit(f"{tag}-intent", json.dumps(payment))
        paid = post(payment_path, payment, f"BP{tag}", stamp)
        data = paid.get("virtualAccountData") or {}
        if paid["responseCode"] != "2002500" or data.get("paymentFlagStatus") != "00":
            raise RuntimeError(f"payment refused: {paid}")
        log.commit(f"{tag}-outcome", json.dumps(paid))

    def warm(nik: str) -> None:
        nonlocal token
        token = fetch_token()  # the reset forgot the last one
        pay(f"W{next(warmed)}", nik)

    def close() -> None:
        session.close()
        log.close()

    return Side(warm, pay, close)


def snap_payment() -> Result:
    """A LinkAja payment end to end through ``Client`` beside the bare client, both against
    the sandbox in another process on loopback, in turns."""
    with sandbox() as info:
        library, floor = _snap_library(info), _snap_bare(info)
        try:
            value, floor_value = take_turns(info, library, floor)
        finally:
            library.close()
            floor.close()
    return Result(
        "SNAP payment end to end (inquiry + pay + journal)",
        value,
        "bare requests + HMAC, same exchanges, 2 durable commits",
        floor_value,
        "overhead ≤ 25% (ratio ≤ 1.25×)",
        value <= 1.25 * floor_value,
    )


def run() -> list[Result]:
    os.environ.setdefault("PYTHONHASHSEED", "0")
    return [journal_commits(), snap_payment()]
