"""Regenerate the generated parts of ``docs/channels/snap.md`` from the library itself.

    python docs/channels/snap_examples.py            # rewrite every generated region
    python docs/channels/snap_examples.py --check    # exit 1 if a table or profile is stale

The page keeps its prose; what must be true is generated between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->`` markers:

* the response-code tables, from ``codes.RESPONSE_CASES`` and ``codes.SERVICE_CASES`` through
  ``codes.error_for`` (what the library actually raises);
* the two profiles, copied from ``adapters/snap/profiles/*.toml``;
* every wire example: the library's SNAP adapter (``Sandbox(seed=0).client("linkaja")``) runs a
  small working day against the in-process sandbox (``Sandbox.install()``) while a wrapper
  around ``Sandbox.dispatch`` records each :class:`WireRequest` and :class:`WireResponse`.
  Headers, signatures and tokens are shown as they were sent; bodies are shown indented, and the
  generator checks that ``minify`` of the indented text is the exact byte string that was sent
  and signed.

The sandbox clock is fixed (Monday 23 November 2026, from 09:30 WIB), so everything but the
access tokens, the signatures and the journal's random six-character instance id (inside
X-EXTERNAL-ID and inquiryRequestId) comes out the same on every run. :func:`normalise` blanks
those three, so tests can compare a fresh capture with the page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from doc_regions import regions_of, replace_regions  # this folder: run as a script

from jamsostek_channels.adapters.snap import codes
from jamsostek_channels.adapters.snap.codes import Case, ResponseCode, ServiceCode, error_for
from jamsostek_channels.adapters.snap.security import minify, symmetric_string_to_sign
from jamsostek_channels.errors import (
    AuthenticationFailed,
    CapabilityRefused,
    HostDeclined,
    InvalidInput,
    JamsostekError,
    MalformedMessage,
    NotDelivered,
    OutcomeUnknown,
    RuleViolation,
)

__all__ = [
    "DOC",
    "capture",
    "deterministic_regions",
    "normalise",
    "profile_block",
    "render_regions",
    "replace_regions",
    "response_code_table",
    "service_case_table",
]

DOC = Path(__file__).with_name("snap.md")
PROFILES_DIR = Path(__file__).resolve().parents[2] / "adapters" / "snap" / "profiles"
WIB = ZoneInfo("Asia/Jakarta")
#: The sandbox's clock at the start of the captured working day (a Monday).
START = dt.datetime(2026, 11, 23, 9, 30, tzinfo=WIB)
#: Stands for the port ``--port 0`` picks, in the info-file example.
EXAMPLE_BASE_URL = "http://127.0.0.1:8765"
#: The stand-in ports of the sandbox's TCP switches follow this one.
EXAMPLE_TCP_PORT = 8765

#: Header names as the adapter writes them (``WireRequest`` keeps them lower-cased).
_HEADER_NAMES = {
    "content-type": "Content-Type",
    "authorization": "Authorization",
    "x-timestamp": "X-TIMESTAMP",
    "x-client-key": "X-CLIENT-KEY",
    "x-signature": "X-SIGNATURE",
    "x-partner-id": "X-PARTNER-ID",
    "x-external-id": "X-EXTERNAL-ID",
    "channel-id": "CHANNEL-ID",
    "content-length": "Content-Length",
    "allow": "Allow",
}
#: The HTTP library's own headers, not part of the SNAP contract.
_LEFT_OUT = frozenset({"user-agent", "accept-encoding", "accept", "connection"})
#: The library's public error classes, the ones a caller catches.
_PUBLIC_ERRORS = (
    InvalidInput,
    RuleViolation,
    CapabilityRefused,
    HostDeclined,
    NotDelivered,
    OutcomeUnknown,
    AuthenticationFailed,
    MalformedMessage,
)


# -- regions ----------------------------------------------------------------------------------


# -- response codes ---------------------------------------------------------------------------


def _public_error(error: JamsostekError) -> str:
    for kind in _PUBLIC_ERRORS:
        if isinstance(error, kind):
            return kind.__name__
    return type(error).__name__


#: Columns of the code table: the services where an open answer may hide moved money, and the
#: rest (a cell names the services that differ from the others).
_SERVICE_GROUPS: tuple[tuple[str, tuple[ServiceCode, ...]], ...] = (
    (
        "raised after a payment (25) or auto-debit (91)",
        (ServiceCode.PAYMENT, ServiceCode.AUTODEBIT),
    ),
    (
        "raised after any other call",
        (
            ServiceCode.TOKEN,
            ServiceCode.INQUIRY,
            ServiceCode.STATUS,
            ServiceCode.REGISTRATION,
            ServiceCode.HISTORY,
            ServiceCode.SETTLEMENT,
        ),
    ),
)


def _raised(http_status: int, case: str, service: ServiceCode) -> str:
    code = ResponseCode(http_status, str(service), case)
    error = error_for(code, service=service, reference="REF", response_message=None)
    if error is not None:
        return f"`{_public_error(error)}` `{error.code}`"
    if http_status == 200:
        return "— (read the body)"
    state = codes.case_for(code, service).state
    if state is not None and service in (ServiceCode.PAYMENT, ServiceCode.STATUS):
        return f"— (`PaymentState.{state.name}`)"
    return "— (not an error)"


def _cell(http_status: int, case: str, services: tuple[ServiceCode, ...]) -> str:
    # A service with its own meaning for this case is in the service-case table instead.
    general = [s for s in services if (s, http_status, case) not in codes.SERVICE_CASES]
    by_value: dict[str, list[str]] = {}
    for service in general:
        by_value.setdefault(_raised(http_status, case, service), []).append(str(service))
    ranked = sorted(by_value.items(), key=lambda item: -len(item[1]))
    cell = ranked[0][0]
    for value, names in ranked[1:]:
        cell += f"; on {', '.join(names)}: {value}"
    return cell


def _next_step(case: Case) -> str:
    if case.error_code is None and case.state is None:
        return "read `inquiryStatus` / `paymentFlagStatus`"
    if case.needs_status:
        return "after a payment: **status inquiry**, never pay again"
    if case.error_code == "auth.token":
        return "nothing applied: the adapter fetches a new token and sends once more"
    if case.retry_safe:
        return "nothing applied: the transport retries with backoff, then gives up"
    return "final"


def response_code_table() -> str:
    """One row per ``(http, case)`` of ``codes.RESPONSE_CASES``, with what the library raises."""
    head = [
        "| `responseCode` | `responseMessage` | pesan | "
        + " | ".join(name for name, _ in _SERVICE_GROUPS)
        + " | then |",
        "|---|---|---|" + "---|" * len(_SERVICE_GROUPS) + "---|",
    ]
    rows = []
    for (http_status, case), meaning in codes.RESPONSE_CASES.items():
        cells = [_cell(http_status, case, services) for _, services in _SERVICE_GROUPS]
        rows.append(
            f"| `{http_status}xx{case}` | {meaning.meaning_en} | {meaning.meaning_id} | "
            + " | ".join(cells)
            + f" | {_next_step(meaning)} |"
        )
    return "\n".join(head + rows)


def service_case_table() -> str:
    """``codes.SERVICE_CASES``: cases that mean something narrower on one service."""
    lines = [
        "| `responseCode` | `responseMessage` | pesan | library code | raised |",
        "|---|---|---|---|---|",
    ]
    for (service, http_status, case), meaning in codes.SERVICE_CASES.items():
        code = ResponseCode(http_status, str(service), case)
        error = error_for(code, service=service, reference="REF")
        raised = "—" if error is None else f"`{_public_error(error)}` `{error.code}`"
        lines.append(
            f"| `{code.format()}` | {meaning.meaning_en} | {meaning.meaning_id} | "
            f"`{meaning.error_code}` | {raised} |"
        )
    return "\n".join(lines)


def profile_block(name: str) -> str:
    text = (PROFILES_DIR / f"{name}.toml").read_text(encoding="utf-8")
    return f"```toml\n{text.rstrip()}\n```"


def deterministic_regions() -> dict[str, str]:
    """The regions that depend on code and configuration only (cheap; compared by tests)."""
    return {
        "response-codes": response_code_table(),
        "service-cases": service_case_table(),
        "profile-linkaja": profile_block("linkaja"),
        "profile-bni-agen46": profile_block("bni-agen46"),
    }


# -- capturing the wire -----------------------------------------------------------------------


class _Clock:
    """The sandbox's and the clients' clock: fixed, moved on by hand between steps."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _pretty(body: bytes, *, exact: bool) -> str:
    """The body indented for reading; ``exact``: ``minify`` of it must give back the bytes."""
    text = json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    if exact and minify(text.encode("utf-8")) != body:
        raise AssertionError(f"indenting changed the body: {body[:80]!r}")
    return text


def _request_block(name: str, request: Any, host: str, *, exact: bool) -> str:
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}"]
    for key, value in request.headers.items():
        if key not in _LEFT_OUT:
            lines.append(f"{_HEADER_NAMES.get(key, key)}: {value}")
    out = f"<!-- example: {name} -->\n```http\n" + "\n".join(lines) + "\n```"
    if request.body:
        out += f"\n\n```json\n{_pretty(request.body, exact=exact)}\n```"
    return out


def _response_block(name: str, response: Any, *, exact: bool) -> str:
    reason = http.HTTPStatus(response.status).phrase
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    for key, value in response.headers.items():
        lines.append(f"{_HEADER_NAMES.get(key, key)}: {value}")
    lines.append(f"Content-Length: {len(response.body)}")
    out = f"<!-- example: {name} -->\n```http\n" + "\n".join(lines) + "\n```"
    if response.body:
        out += f"\n\n```json\n{_pretty(response.body, exact=exact)}\n```"
    return out


def _string_to_sign(name: str, request: Any) -> str:
    if request.header("x-client-key"):
        text = f"{request.header('x-client-key')}|{request.header('x-timestamp')}"
        how = "SHA256withRSA, PKCS#1 v1.5, with the channel's private key, then Base64"
    else:
        text = symmetric_string_to_sign(
            request.method,
            request.path,
            request.header("authorization"),
            request.body,
            request.header("x-timestamp"),
        )
        how = "HMAC-SHA512 with the client secret, then Base64"
    return (
        f"String to sign ({how} gives the X-SIGNATURE above):\n\n"
        f"<!-- string-to-sign: {name} -->\n```text\n{text}\n```"
    )


def _exchange(name: str, exchange: tuple[Any, Any], host: str, *, sign: bool = True) -> str:
    request, response = exchange
    parts = [_request_block(f"{name}.request", request, host, exact=sign)]
    if sign:
        parts.append(_string_to_sign(f"{name}.request", request))
    parts.append(_response_block(f"{name}.response", response, exact=sign))
    return "\n\n".join(parts)


class _Recorder:
    """Wraps ``Sandbox.dispatch``: every request and response, in order."""

    def __init__(self, dispatch: Callable[[Any], Any]) -> None:
        self._dispatch = dispatch
        self.log: list[tuple[Any, Any]] = []

    def __call__(self, request: Any) -> Any:
        response = self._dispatch(request)
        self.log.append((request, response))
        return response

    def mark(self) -> int:
        return len(self.log)

    def since(self, mark: int, path_end: str) -> list[tuple[Any, Any]]:
        return [item for item in self.log[mark:] if item[0].path.endswith(path_end)]

    def one(self, mark: int, path_end: str) -> tuple[Any, Any]:
        found = self.since(mark, path_end)
        if len(found) != 1:
            raise AssertionError(f"expected one call to {path_end}, saw {len(found)}")
        return found[0]


def _rupiah(amount: int) -> str:
    return "Rp" + f"{amount:,}".replace(",", ".")


def _masked(nik: str) -> str:
    return f"{nik[:4]}{'*' * 8}{nik[12:]}"


def _control(sandbox: Any, method: str, path: str, body: object = None) -> tuple[Any, Any]:
    from jamsostek_channels.testing.wire import WireRequest

    raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
    headers = {"content-type": "application/json"} if raw else {}
    request = WireRequest(method, path, headers, raw)
    return request, sandbox.dispatch(request)


def _abridged_info(info: dict[str, Any], base_url: str) -> dict[str, Any]:
    text = json.dumps(info, ensure_ascii=False).replace(base_url, EXAMPLE_BASE_URL)
    document: dict[str, Any] = json.loads(text)
    # A fake that listens itself (an ISO 8583 switch) has a free port of its own: stand-ins too.
    listening = (e for e in document["channels"].values() if e["base_url"].startswith("tcp://"))
    for number, entry in enumerate(listening, start=1):
        entry["base_url"] = f"tcp://127.0.0.1:{EXAMPLE_TCP_PORT + number}"
    for entry in document["channels"].values():
        pem = entry.get("private_key_pem")
        if pem:
            lines = pem.strip().splitlines()
            entry["private_key_pem"] = f"{lines[0]}\n…\n{lines[-1]}\n"
    document["participants"] = document["participants"][:3]
    return document


def capture() -> dict[str, str]:
    """Run the working day against the in-process sandbox; the example regions, by name."""
    from jamsostek_channels import parse_participant
    from jamsostek_channels.testing.people import PersonFactory
    from jamsostek_channels.testing.sandbox import IN_PROCESS_URL, Sandbox

    clock = _Clock(START)
    sandbox = Sandbox(seed=0, clock=clock)
    recorder = _Recorder(sandbox.dispatch)
    sandbox.dispatch = recorder  # type: ignore[method-assign]
    host = IN_PROCESS_URL.split("://", 1)[1]
    out: dict[str, str] = {}
    sandbox.install()
    try:
        with _quiet("jamsostek_channels.transport"):
            client = sandbox.client("linkaja", clock=clock, sleep=lambda seconds: None)
            demo = sandbox.demo_participants
            payer, lapsed, second = demo[1], demo[2], demo[4]
            reference = "LA-20261123-0001"

            # Token, inquiry and payment: one call of Client.pay.
            mark = recorder.mark()
            receipt = client.pay(payer["nik"], months=2, reference=reference)
            out["example-token"] = _exchange("token", recorder.one(mark, "/access-token/b2b"), host)
            out["example-inquiry"] = _exchange(
                "inquiry", recorder.one(mark, "/transfer-va/inquiry"), host
            )
            out["example-payment"] = _exchange(
                "payment", recorder.one(mark, "/transfer-va/payment"), host
            )

            clock.advance(40)
            mark = recorder.mark()
            client.status(reference)
            out["example-status"] = _exchange(
                "status", recorder.one(mark, "/transfer-va/status"), host
            )

            clock.advance(15)
            mark = recorder.mark()
            try:
                client.inquire(lapsed["nik"], months=1)
            except HostDeclined:
                pass
            else:
                raise AssertionError("the lapsed participant's inquiry was not refused")
            out["example-inquiry-refused"] = _exchange(
                "inquiry-refused", recorder.one(mark, "/transfer-va/inquiry"), host
            )

            # A dropped answer: the biller commits, the connection closes, status resolves it.
            clock.advance(50)
            dropped = "LA-20261123-0002"
            sandbox.faults.inject("drop", match=dropped, prefix="/linkaja/")
            mark = recorder.mark()
            client.pay(second["nik"], months=1, reference=dropped)
            out["dropped-trace"] = _trace(recorder.log[mark:])
            ledger = [e for e in sandbox.host.ledger() if e.reference == dropped]
            if len(ledger) != 1 or len(recorder.since(mark, "/transfer-va/payment")) != 1:
                raise AssertionError("the dropped payment was not applied exactly once")

            # Registration with OTP, for a synthetic person the host does not know yet.
            clock.advance(60)
            person = PersonFactory(seed=7, as_of=clock.now.date()).make()
            participant = parse_participant(person.data, as_of=clock.now.date())
            mark = recorder.mark()
            challenge = client.register(participant, reference="LA-REG-20261123-0001")
            out["example-registration"] = _exchange(
                "registration", recorder.one(mark, "/bpu/registration"), host
            )
            clock.advance(45)
            phone = quote(participant.phone, safe="")  # "+" in a query would read as a space
            otp_exchange = _control(sandbox, "GET", f"/control/otp?phone={phone}")
            otp = json.loads(otp_exchange[1].body)["otp"]
            mark = recorder.mark()
            registration = client.confirm_registration(challenge, otp)
            out["example-registration-confirm"] = _exchange(
                "registration-confirm", recorder.one(mark, "/bpu/registration/confirm"), host
            )

            clock.advance(30)
            mark = recorder.mark()
            mandate = client.enrol_autodebit(
                payer["nik"], months=1, reference="LA-AD-20261123-0001"
            )
            out["example-autodebit-enrol"] = _exchange(
                "autodebit-enrol", recorder.one(mark, "/bpu/auto-debit/enrol"), host
            )
            clock.advance(20)
            mark = recorder.mark()
            client.cancel_autodebit(mandate.mandate_id, reference="LA-ADC-20261123-0001")
            out["example-autodebit-cancel"] = _exchange(
                "autodebit-cancel", recorder.one(mark, "/bpu/auto-debit/cancel"), host
            )

            clock.advance(20)
            mark = recorder.mark()
            client.history(payer["nik"])
            out["example-history"] = _exchange("history", recorder.one(mark, "/bpu/history"), host)

            clock.advance(20)
            mark = recorder.mark()
            client.settlement(clock.now.date())
            out["example-settlement"] = _exchange(
                "settlement", recorder.one(mark, "/bpu/settlement"), host
            )

            # The agent channel: the same services, its own ids and the agent's id.
            clock.advance(30)
            agen46 = sandbox.client("bni-agen46", clock=clock, sleep=lambda seconds: None)
            mark = recorder.mark()
            agen46.inquire(demo[5]["nik"], months=1)
            out["example-agen46-inquiry"] = _exchange(
                "agen46-inquiry", recorder.one(mark, "/transfer-va/inquiry"), host
            )

            # The control API.
            out["control-examples"] = "\n\n".join(
                [
                    _exchange(
                        "control-fault",
                        _control(
                            sandbox,
                            "POST",
                            "/control/faults",
                            {"kind": "delay", "channel": "linkaja", "seconds": 12, "times": 1},
                        ),
                        host,
                        sign=False,
                    ),
                    _exchange("control-otp", otp_exchange, host, sign=False),
                    _exchange(
                        "control-ledger",
                        _control(sandbox, "GET", "/control/ledger"),
                        host,
                        sign=False,
                    ),
                ]
            )
            sandbox.faults.clear()
            info = _abridged_info(sandbox.info(), IN_PROCESS_URL)
            out["info-file"] = (
                "<!-- example: info-file -->\n```json\n"
                + json.dumps(info, ensure_ascii=False, indent=2)
                + "\n```"
            )
            out["scenario"] = _scenario(payer, lapsed, second, receipt, registration)
            client.close()
            agen46.close()
    finally:
        sandbox.stop()
    return out


def _trace(log: list[tuple[Any, Any]]) -> str:
    lines = [
        "| # | call | X-EXTERNAL-ID | answer |",
        "|---|---|---|---|",
    ]
    for index, (request, response) in enumerate(log, start=1):
        path = request.path
        external = request.header("x-external-id") or "-"
        if not response.body:
            answer = "(none)"
        else:
            body = json.loads(response.body)
            answer = f"`{body.get('responseCode')}`"
            data = body.get("virtualAccountData") or {}
            if "paymentFlagStatus" in data:
                answer += f", `paymentFlagStatus` `{data['paymentFlagStatus']}`"
            if "paymentRequestId" in data:
                answer += f", `paymentRequestId` `{data['paymentRequestId']}`"
        if path.endswith("/transfer-va/payment"):
            sent = json.loads(request.body)
            answer += (
                f" — **never delivered**: the biller applied `referenceNo` "
                f"`{sent['referenceNo']}` (`flagAdvise` `{sent['flagAdvise']}`), then the "
                "connection was closed"
            )
        lines.append(f"| {index} | `POST {path}` | `{external}` | {answer} |")
    return "\n".join(lines)


def _scenario(
    payer: Mapping[str, str],
    lapsed: Mapping[str, str],
    second: Mapping[str, str],
    receipt: Any,
    registration: Any,
) -> str:
    months = ", ".join(str(period) for period in receipt.periods)
    return "\n".join(
        [
            f"* Sandbox clock: {START:%A %d %B %Y}, from {START:%H:%M} WIB; "
            "`Sandbox(seed=0)`, channel `linkaja`.",
            f"* Payment: demo participant 2 (NIK `{_masked(payer['nik'])}`, "
            f"KPJ `{payer['kpj']}`) pays {len(receipt.periods)} months ({months}): "
            f"{_rupiah(receipt.amount)} plus LinkAja's {_rupiah(receipt.admin_fee)} admin fee, "
            f"reference `{receipt.channel_reference}`, biller reference "
            f"`{receipt.host_reference}`.",
            f"* Refused inquiry: demo participant 3 (NIK `{_masked(lapsed['nik'])}`), "
            "whose membership has lapsed.",
            f"* Dropped answer: demo participant 5 (NIK `{_masked(second['nik'])}`).",
            f"* Registration: a new synthetic person (NIK `{registration.nik_masked}`), "
            f"KPJ `{registration.kpj}` once confirmed.",
        ]
    )


_TOKEN_FIELD = re.compile(r'("accessToken": ")[^"]+(")')
_BEARER = re.compile(r"(Bearer )[A-Za-z0-9_\-]+")
_SIGNATURE = re.compile(r"(X-SIGNATURE: )\S+")
#: X-EXTERNAL-ID and inquiryRequestId: prefix + journal instance (6) + yyyymmdd + sequence (10).
_JOURNAL_ID = re.compile(r"\b(LA|AG|IQ)[A-HJ-NP-Z2-9]{6}([0-9]{18})\b")
_STRING_TO_SIGN = re.compile(r"(<!-- string-to-sign: \S+ -->\n```text\n)[^\n]*")


def normalise(text: str) -> str:
    """``text`` with what changes on every run blanked: tokens, signatures, journal ids."""
    text = _TOKEN_FIELD.sub(r"\1TOKEN\2", text)
    text = _BEARER.sub(r"\1TOKEN", text)
    text = _SIGNATURE.sub(r"\1SIGNATURE", text)
    text = _STRING_TO_SIGN.sub(r"\1STRING-TO-SIGN", text)
    return _JOURNAL_ID.sub(r"\1XXXXXX\2", text)


def render_regions() -> dict[str, str]:
    """Every generated region of the page, by name."""
    return {**deterministic_regions(), **capture()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare the code tables and profiles with the page instead of writing it",
    )
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    if args.check:
        current = regions_of(text)
        stale = [
            name for name, want in deterministic_regions().items() if current.get(name) != want
        ]
        for name in stale:
            print(f"{DOC}: region {name!r} is stale", file=sys.stderr)
        return 1 if stale else 0
    DOC.write_text(replace_regions(text, render_regions(), page="snap.md"), encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
