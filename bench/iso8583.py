"""ISO 8583 figures (BRILink): a payment end to end through ``Client`` against the fake switch on
loopback, and 16 terminals paying at once against one switch - each beside a floor measured in
the same run, against the same switch.

The switch runs in another process (``bench/switch.py``). The library is opened as any
deployment opens it (``jamsostek_channels.connect("brilink", ...)``); the floor is a bare
terminal written from ``docs/channels/iso8583.md`` with ``pyiso8583`` alone (a spec of its own,
the DE48 TLV spelt and read by hand, the 2-byte length written and read on a plain socket), never
with the library's codec, which is what is measured.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import socket
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import iso8583
import iso8583.specs

from bench.harness import Result
from bench.loopback import DurableLog, Side, fresh, take_turns_with
from bench.switch import SwitchProcess, switch

__all__ = ["concurrent_payments", "payment", "run"]

PROFILE = "brilink"
AGENT = "AGEN-0042"
PRODUCT = "BPU001"
ADMIN_FEE = 3000  # brilink's flat fee (docs/channels/iso8583.md)
TERMINALS = 16
#: Payments each terminal makes in one round of the concurrent figure.
PER_TERMINAL = 8
Doc = dict[str, Any]


# -- the bare terminal ------------------------------------------------------------------------


def _spec() -> dict[str, dict[str, Any]]:
    """BRILink's layout as the page's table gives it: ASCII MTI, 16 hex characters of bitmap,
    every element ASCII (LLVAR DE32, LLLVAR DE48/DE57), DE41 8 characters."""
    spec: dict[str, dict[str, Any]] = copy.deepcopy(dict(iso8583.specs.default_ascii))
    layout = {
        "t": (0, 4), "p": (0, 16), "1": (0, 16), "3": (0, 6), "4": (0, 12), "7": (0, 10),
        "11": (0, 6), "18": (0, 4), "32": (2, 11), "37": (0, 12), "39": (0, 2), "41": (0, 8),
        "42": (0, 15), "48": (3, 999), "49": (0, 3), "57": (3, 999), "70": (0, 3),
    }  # fmt: skip
    for key, (len_type, max_len) in layout.items():
        spec[key] = {**spec[key], "data_enc": "ascii", "len_enc": "ascii",
                     "len_type": len_type, "max_len": max_len}  # fmt: skip
    return spec


def _tlv(items: list[tuple[str, str]]) -> str:
    return "".join(f"{tag}{len(value):02d}{value}" for tag, value in items)


def _items(text: str) -> dict[str, str]:
    items, at = {}, 0
    while at < len(text):
        tag, size = text[at : at + 2], int(text[at + 2 : at + 4])
        items[tag] = text[at + 4 : at + 4 + size]
        at += 4 + size
    return items


class BareTerminal:
    """A BRILink terminal with nothing of ours: one socket, pyiso8583, hand-made DE48; each
    answer decoded, matched (MTI, DE11, DE41) and its DE39 checked; a payment's two durable
    commits (before it is sent, its answer after) as :class:`~bench.loopback.DurableLog`."""

    def __init__(self, address: str, terminal: str, log: Path) -> None:
        parts = urllib.parse.urlsplit(address)
        self._where = (parts.hostname or "127.0.0.1", parts.port or 0)
        self._terminal = terminal.ljust(8)
        self._spec = _spec()
        self._stans = itertools.count(1)
        self._log = DurableLog(log)
        self._sock: socket.socket | None = None

    def _exchange(self, doc: Doc, answer_mti: str) -> Doc:
        assert self._sock is not None
        raw, _ = iso8583.encode(doc, self._spec)
        self._sock.sendall(len(raw).to_bytes(2, "big") + raw)
        size = int.from_bytes(self._read(2), "big")
        answer, _ = iso8583.decode(self._read(size), self._spec)
        if (answer["t"], answer["11"], answer["41"]) != (answer_mti, doc["11"], doc["41"]):
            raise RuntimeError(f"an answer that is not ours: {answer['t']}")
        return answer

    def _read(self, size: int) -> bytes:
        assert self._sock is not None
        data = b""
        while len(data) < size:
            chunk = self._sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the switch closed")
            data += chunk
        return data

    def _header(self, stan: int, rrn: str) -> Doc:
        return {
            "7": time.strftime("%m%d%H%M%S", time.gmtime()),
            "11": f"{stan:06d}",
            "18": "6018",
            "32": "002",
            "37": rrn,
            "41": self._terminal,
            "42": AGENT.ljust(15),
            "49": "360",
        }

    def open(self) -> None:
        """Connect and sign on (0800/001): untimed, as the library's session is."""
        if self._sock is not None:
            return
        self._sock = socket.create_connection(self._where, timeout=10)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stan = next(self._stans)
        signed = self._exchange(
            {
                "t": "0800",
                "7": time.strftime("%m%d%H%M%S", time.gmtime()),
                "11": f"{stan:06d}",
                "41": self._terminal,
                "70": "001",
            },
            "0810",
        )
        if signed["39"] != "00":
            raise RuntimeError(f"sign-on refused: {signed['39']}")

    def pay(self, tag: str, nik: str) -> None:
        stan = next(self._stans)
        now = time.gmtime()
        inquiry_rrn = f"{now.tm_year % 10}{now.tm_yday:03d}{now.tm_hour:02d}{stan:06d}"
        question = _tlv([("PI", PRODUCT), ("CN", nik), ("MC", "1"), ("PK", "self")])
        priced = self._exchange(
            {
                "t": "0200",
                "3": "380000",
                "4": "0" * 12,
                **self._header(stan, inquiry_rrn),
                "48": question,
            },
            "0210",
        )
        if priced["39"] != "00":
            raise RuntimeError(f"inquiry refused: {priced['39']}")
        bill = _items(priced["48"])
        reference = f"BARE-{tag}"
        rrn = hashlib.sha256(reference.encode("ascii")).hexdigest()[:12].upper()
        data = _tlv(
            [
                ("PI", PRODUCT),
                ("CN", nik),
                ("AT", bill["AT"]),
                ("AC", str(ADMIN_FEE)),
                ("MC", bill["MC"]),
                ("FP", bill["FP"]),
                ("FR", reference),
                ("IQ", bill["IQ"]),
                ("PK", "self"),
            ]
        )
        request = {"t": "0200", "3": "500000", "4": bill["AT"].zfill(12),
                   **self._header(next(self._stans), rrn), "48": data}  # fmt: skip
        self._log.commit(f"{tag}-intent", data)
        paid = self._exchange(request, "0210")
        outcome = _items(paid.get("48", ""))
        if paid["39"] != "00" or outcome.get("FR") != reference or not outcome.get("HR"):
            raise RuntimeError(f"payment refused: {paid['39']}")
        self._log.commit(f"{tag}-outcome", paid["48"])

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._log.close()


def _bare(address: str, terminal: str, log: str) -> Side:
    bare = BareTerminal(address, terminal, fresh(log))
    warmed = itertools.count()

    def warm(nik: str) -> None:
        bare.open()
        bare.pay(f"W{terminal}-{next(warmed)}", nik)  # the switch keys payments by reference

    return Side(warm, bare.pay, bare.close)


# -- the library ------------------------------------------------------------------------------


def _library(address: str, terminal: str, journal: str) -> Side:
    """``Client.pay`` at BRILink: inquiry + payment as 0200/0210, journaled, a receipt."""
    from jamsostek_channels import connect

    client = connect(
        PROFILE,
        {"base_url": address, "terminal_id": terminal, "agent_id": AGENT},
        journal=fresh(journal),
    )
    warmed = itertools.count()

    def warm(nik: str) -> None:
        # The switch keys payments by reference alone: each terminal's own.
        client.pay(nik, months=1, reference=f"WARM-{terminal}-{next(warmed)}")

    def pay(tag: str, nik: str) -> None:
        client.pay(nik, months=1, reference=f"LIB-{tag}")

    return Side(warm, pay, client.close)


# -- the figures ------------------------------------------------------------------------------


def payment() -> Result:
    """A BRILink payment end to end through ``Client`` beside the bare terminal, both against
    one switch in another process on loopback, in turns."""
    with switch(PROFILE) as served:
        library = _library(served.address, "BRI00001", "bench-iso8583-e2e.sqlite")
        floor = _bare(served.address, "BRI00002", "bench-iso8583-e2e-bare.sqlite")
        try:
            value, floor_value = take_turns_with(served.payable, library, floor)
        finally:
            library.close()
            floor.close()
    return Result(
        "ISO 8583 payment end to end (BRILink: inquiry + pay + journal)",
        value,
        "bare pyiso8583 + socket, same exchanges, 2 durable commits",
        floor_value,
        "overhead ≤ 25% (ratio ≤ 1.25×)",
        value <= 1.25 * floor_value,
    )


def _round(sides: list[Side], niks: list[str], tag: str) -> float:
    """Seconds per payment while every side pays :data:`PER_TERMINAL` times at once, each
    from its own share of ``niks`` (one terminal's customers are not another's)."""
    for index, side in enumerate(sides):
        side.warm(niks[index])  # the session open, caches warm: untimed
    start = threading.Barrier(len(sides) + 1)
    failures: list[BaseException] = []

    def terminal(index: int, side: Side) -> None:
        share = niks[index :: len(sides)]
        start.wait()
        try:
            for number in range(PER_TERMINAL):
                side.pay(f"{tag}-{index}-{number}", share[number % len(share)])
        except BaseException as exc:  # reported by the caller: a figure of failures is none
            failures.append(exc)

    threads = [
        threading.Thread(target=terminal, args=(index, side), daemon=True)
        for index, side in enumerate(sides)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError("a terminal failed") from failures[0]
    return elapsed / (len(sides) * PER_TERMINAL)


def _concurrently(served: SwitchProcess, rounds: int = 6) -> tuple[float, float]:
    """Seconds per payment (the best round) of 16 library terminals and of 16 bare ones,
    rounds in turns (which goes first alternates), the switch reset before each."""
    library = [
        _library(served.address, f"BRL{n:05d}", f"bench-iso8583-many-{n}.sqlite")
        for n in range(TERMINALS)
    ]
    floor = [
        _bare(served.address, f"BRB{n:05d}", f"bench-iso8583-many-bare-{n}.sqlite")
        for n in range(TERMINALS)
    ]
    times: dict[str, list[float]] = {"library": [], "floor": []}
    kinds: list[tuple[str, list[Side]]] = [("library", library), ("floor", floor)]
    try:
        for turn in range(rounds):
            for name, sides in kinds if turn % 2 == 0 else kinds[::-1]:
                times[name].append(_round(sides, served.payable(), f"{turn}{name[0]}"))
    finally:
        for side in (*library, *floor):
            side.close()
    return min(times["library"]), min(times["floor"])


def concurrent_payments() -> Result:
    """16 BRILink terminals paying at once against one switch: library beside bare."""
    with switch(PROFILE) as served:
        value, floor_value = _concurrently(served)
    return Result(
        f"ISO 8583: {TERMINALS} terminals paying at once, per payment "
        f"({1 / value:.0f} payments/s; bare {1 / floor_value:.0f}/s)",
        value,
        f"{TERMINALS} bare terminals, same switch",
        floor_value,
        "report only (ratio to floor)",
        True,
    )


def run() -> list[Result]:
    return [payment(), concurrent_payments()]
