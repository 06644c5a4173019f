"""Regenerate the generated parts of ``docs/channels/iso8583.md`` from the library itself.

    python docs/channels/iso8583_examples.py            # rewrite every generated region
    python docs/channels/iso8583_examples.py --check    # exit 1 if a region is stale

The page keeps its prose; what must be true is generated between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->`` markers:

* ``response-codes``: each profile's DE39 map, from ``adapters/iso8583/profiles/*.toml``;
* ``timers``: each profile's ``[timers]``;
* ``capture-PROFILE``: every message of every flow (:data:`FLOWS`) as it crossed the TCP
  connection. The library's :class:`~jamsostek_channels.adapters.iso8583.adapter.Iso8583Adapter`
  talks to a :class:`~jamsostek_channels.adapters.iso8583.fake.FakeSwitch` over a
  :class:`~jamsostek_channels.testing.host.FakeHost` on a loopback port, as
  ``tests/test_iso8583_channel.py`` stands them up; the switch records every frame it read and
  every frame it wrote (the profile's length header included: what
  :meth:`~jamsostek_channels.transport.tcp.Framing.frame` puts on the wire on both sides). Each
  frame is shown as a hex and ASCII dump, then element by element, DE48 split into its items.

The host's seed is fixed and one injected clock (Monday 23 November 2026, from 09:30 WIB,
moved on by hand between flows) stamps every message, so every byte comes out the same on every
run: ``tests/test_iso8583_docs.py`` captures again and compares byte for byte.

A flow is one :class:`Flow` entry: a title, what it shows, which profiles it applies to, and a
function that drives a :class:`Terminal` (the adapter, its STAN counter, the switch, the host,
the clock). Adding a flow (registration, say) is adding an entry to :data:`FLOWS`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Literal, TypeVar

import attrs
import iso8583
from doc_regions import regions_of, replace_regions  # this folder: run as a script

from jamsostek_channels.adapters.iso8583 import flows
from jamsostek_channels.adapters.iso8583.adapter import Iso8583Adapter
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.adapters.iso8583.messages import NetworkCode
from jamsostek_channels.adapters.iso8583.profile import Iso8583Profile, Timers, load_profile
from jamsostek_channels.adapters.iso8583.tlv import decode_items
from jamsostek_channels.channel import (
    AdviceRequest,
    CustomerId,
    Inquiry,
    InquiryRequest,
    OtpConfirmation,
    PaymentRequest,
    RegistrationRequest,
    ReversalRequest,
)
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import HostDeclined, OutcomeUnknown
from jamsostek_channels.model import Payer, PayerKind
from jamsostek_channels.sequences import SequenceSource
from jamsostek_channels.shortcuts import parse_participant
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.people import PersonFactory

__all__ = [
    "DOC",
    "FLOWS",
    "PROFILES",
    "Direction",
    "Flow",
    "Frame",
    "Terminal",
    "capture",
    "capture_regions",
    "deterministic_regions",
    "dump",
    "element_table",
    "main",
    "regions_of",
    "render_capture",
    "render_regions",
    "replace_regions",
    "response_code_table",
    "timers_table",
]

DOC = Path(__file__).with_name("iso8583.md")
PROFILES = ("brilink", "indomaret", "alfamart")
TERMINALS = {"brilink": "BRI00001", "indomaret": "IDM-T001-0042", "alfamart": "ALF00001"}
AGENT = "AGEN-0042"
#: The clock at the start of every profile's capture (a Monday, Jakarta time).
START = dt.datetime(2026, 11, 23, 9, 30, tzinfo=JAKARTA)
HOST_SEED = 0
#: Generous timers, so a loaded machine changes nothing; the one payment meant to go unanswered
#: is given up after :data:`UNANSWERED_AFTER` seconds.
TIMERS = Timers(inquiry_timeout=10, payment_timeout=10)
UNANSWERED_AFTER = 0.3
#: The longest a held message waits for its flow to let it through.
HOLD_LIMIT = 30.0


#: Element names as the page's tables give them.
ELEMENT_NAMES = {
    "t": "MTI",
    "p": "primary bitmap",
    "1": "secondary bitmap",
    "3": "processing code",
    "4": "amount",
    "7": "transmission date and time",
    "11": "STAN",
    "18": "channel type",
    "32": "acquirer id",
    "37": "retrieval reference number",
    "39": "response code",
    "41": "terminal id",
    "42": "merchant / agent id",
    "48": "private data (TLV)",
    "49": "currency",
    "57": "screen and receipt lines (TLV)",
    "70": "network management code",
    "90": "original data elements",
}
#: DE48 and DE57 item names, for the element tables (the page's DE48 section says more).
TAG_NAMES = {
    "PI": "product id",
    "CN": "customer number",
    "NM": "customer name",
    "AT": "total amount",
    "AC": "admin fee",
    "MC": "months",
    "FP": "first period",
    "PG": "programs",
    "PA": "per-program amounts",
    "DN": "discount named",
    "DA": "discount amount",
    flows.PAYMENT_REFERENCE: "payment reference",
    flows.INQUIRY_ID: "host's inquiry id",
    flows.KPJ: "KPJ",
    flows.COVERAGE: "coverage state",
    flows.MONTH_AMOUNTS: "each month's amount",
    flows.PAYER_KIND: "who pays",
    flows.PAYER_SCHEME: "donor's scheme",
    flows.HOST_REFERENCE: "host's payment reference",
    flows.PAID_AT: "applied at (UTC)",
    # registration (BRILink)
    flows.REGISTRATION_REFERENCE: "registration reference",
    "WN": "worker's name (escaped)",
    "WB": "birth date",
    "WS": "sex",
    "WP": "mobile phone",
    "WE": "e-mail (escaped)",
    "WA": "address (escaped)",
    "WZ": "postal code",
    "WO": "occupation codes",
    "WI": "monthly income",
    "WK": "earlier KPJ",
    "YN": "sponsor's name (escaped)",
    "YR": "sponsor's reference",
    flows.CHALLENGE_ID: "OTP challenge id",
    "OM": "phone, masked",
    "OX": "OTP expires (UTC)",
    flows.OTP: "the OTP",
    "RG": "first month of membership",
}
_TLV_ELEMENTS = ("48", "57")


# -- regions -----------------------------------------------------------------------------------


# -- tables from the profiles ------------------------------------------------------------------


def _profiles() -> list[Iso8583Profile]:
    return [load_profile(name) for name in PROFILES]


def response_code_table() -> str:
    """Every code any profile lists: its meaning and the partner's wording, per profile."""
    profiles = _profiles()
    codes = sorted({code for profile in profiles for code in profile.response_codes})
    lines = [
        "| code | " + " | ".join(p.name for p in profiles) + " |",
        "|---|" + "---|" * len(profiles),
    ]
    for code in codes:
        cells = []
        for profile in profiles:
            entry = profile.response_codes.get(code)
            cells.append("—" if entry is None else f"`{entry.meaning}` ({entry.label})")
        lines.append(f"| {code} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: What each timer bounds, in the order the table lists them.
_TIMER_ROWS = (
    ("inquiry_timeout", "the wait for a 0210 to an inquiry (and an 0810)"),
    (
        "payment_timeout",
        "the wait for a 0210 to a payment, a 0230, a 0410; then advice or reversal",
    ),
    ("repeat_interval", "between a 0220/0400 left unanswered and its 0221/0401 repeat"),
    ("repeats", "repeats before the advice or reversal is stored and forwarded"),
    ("store_and_forward_interval", "between store-and-forward attempts"),
    ("store_and_forward_expiry", "store-and-forward gives up (and an operator is told)"),
    ("echo_idle", "an 0800/301 echo after this long without traffic"),
    ("missed_echoes", "unanswered echoes before the terminal reconnects"),
    ("reconnect_backoff", "the wait after a failed connect, doubled per try"),
    ("reconnect_backoff_max", "the cap of that wait (each wait then scaled by a random 0.5-1)"),
    ("reconnect_attempts", "connect tries a message makes itself, within its own timer"),
)


def timers_table() -> str:
    """Each profile's ``[timers]`` (seconds, or a count)."""
    profiles = _profiles()
    lines = [
        "| timer | " + " | ".join(f"`{p.name}`" for p in profiles) + " | what it bounds |",
        "|---|" + "---|" * (len(profiles) + 1),
    ]
    for name, meaning in _TIMER_ROWS:
        values = [getattr(p.timers, name) for p in profiles]
        cells = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
        lines.append(f"| `{name}` | " + " | ".join(cells) + f" | {meaning} |")
    return "\n".join(lines)


def deterministic_regions() -> dict[str, str]:
    """The regions that need no capture."""
    return {"response-codes": response_code_table(), "timers": timers_table()}


# -- recording the wire ------------------------------------------------------------------------


#: A request the adapter fixes wire facts for.
_Prepared = TypeVar("_Prepared", PaymentRequest, AdviceRequest, ReversalRequest)

Direction = Literal["terminal → switch", "switch → terminal"]


@attrs.frozen
class Frame:
    """One frame as it crossed the connection: ``wire`` is the length header and the message."""

    direction: Direction
    wire: bytes
    payload: bytes


class _RecordingSwitch(FakeSwitch):
    """The fake switch, writing down every frame it read and wrote; :meth:`hold` keeps a
    message in the network until its flow lets it through (the server's ``hold`` fault, but
    released by the flow rather than after some seconds, so the order never depends on the
    machine's load)."""

    def __init__(self, host: FakeHost, profile: Iso8583Profile) -> None:
        super().__init__(host, profile, idle_timeout=60)
        self.frames: list[Frame] = []
        self._recording = threading.Lock()
        self._held: dict[bytes, threading.Event] = {}

    def hold(self, marker: str) -> threading.Event:
        """Hold the next message containing ``marker`` until the event is set."""
        gate = threading.Event()
        with self._recording:
            self._held[marker.encode("ascii")] = gate
        return gate

    def _gate(self, payload: bytes) -> threading.Event | None:
        with self._recording:
            for marker in list(self._held):
                if marker in payload:
                    return self._held.pop(marker)
        return None

    def _record(self, direction: Direction, payload: bytes) -> None:
        with self._recording:
            self.frames.append(Frame(direction, self.profile.framing.frame(payload), payload))

    def handle(self, payload: bytes) -> bytes | None:
        gate = self._gate(payload)
        if gate is not None and not gate.wait(HOLD_LIMIT):
            raise RuntimeError("a held message was never let through")
        self._record("terminal → switch", payload)
        answer = super().handle(payload)
        if answer is not None:
            self._record("switch → terminal", answer)
        return answer


class _Counters:
    """A :class:`~jamsostek_channels.sequences.SequenceStore` in memory whose STAN can be set
    back: how a terminal that lost its counter reuses a STAN."""

    instance_id = "DOCS01"

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def reserve(self, name: str, count: int) -> int:
        first = self.values.get(name, 0) + 1
        self.values[name] = first + count - 1
        return first


class _Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@attrs.define
class Terminal:
    """What a flow drives: the library's adapter as one terminal, and what it talks to."""

    profile: Iso8583Profile
    adapter: Iso8583Adapter
    switch: _RecordingSwitch
    host: FakeHost
    clock: _Clock
    counters: _Counters
    #: The seeded participants who owe months, by role in the flows.
    customers: dict[str, CustomerId]
    #: What earlier flows left for later ones (the payment, its STAN).
    payments: dict[str, PaymentRequest] = attrs.Factory(dict)
    stans: dict[str, int] = attrs.Factory(dict)

    def inquire(self, who: str) -> Inquiry:
        return self.adapter.inquire(InquiryRequest(self.customers[who], 1, agent_id=self._agent()))

    def payment(self, who: str, reference: str, inquiry: Inquiry | None = None) -> PaymentRequest:
        """The payment the client would send after ``inquiry`` (one month, the worker pays)."""
        found = inquiry or self.inquire(who)
        return PaymentRequest(
            reference=reference,
            customer=self.customers[who],
            periods=tuple(bill.period for bill in found.bills),
            amount=found.amount,
            admin_fee=self.profile.capabilities.admin_fee.flat,
            payer=Payer(PayerKind.SELF),
            inquiry_id=found.inquiry_id,
            requested_at=self.clock(),
            agent_id=self._agent(),
        )

    def _agent(self) -> str | None:
        return AGENT if self.profile.agent_id == "DE42" else None

    def next_stan(self) -> int:
        return self.counters.values.get("stan", 0) + 1

    def set_next_stan(self, stan: int) -> None:
        self.counters.values["stan"] = stan - 1

    def fixed(self, request: _Prepared) -> _Prepared:
        """``request`` with the wire facts the adapter fixes before it is first sent (its STAN,
        a payment's DE7), as the client journals them (the ``WireFacts`` seam)."""
        return attrs.evolve(request, wire=self.adapter.prepare(request))

    def pay_unanswered(self, payment: PaymentRequest) -> threading.Event:
        """Send ``payment`` and have it held in the network past the payment timer: the
        terminal hears nothing (:class:`OutcomeUnknown`); the switch reads it when the
        returned event is set."""
        gate = self.switch.hold(payment.reference)
        timers = self.adapter.timers
        self.adapter.timers = attrs.evolve(timers, payment_timeout=UNANSWERED_AFTER)
        try:
            self.adapter.pay(payment)
        except OutcomeUnknown:
            return gate
        finally:
            self.adapter.timers = timers
        raise RuntimeError("the held payment was answered")

    def arrived(self, count: int) -> None:
        """Wait until the switch has answered ``count`` frames in all (a held one too)."""
        deadline = time.monotonic() + HOLD_LIMIT
        while len(self.switch.answers) < count:
            if time.monotonic() > deadline:
                raise RuntimeError("a held message never reached the switch")
            time.sleep(0.02)


# -- the flows ---------------------------------------------------------------------------------


@attrs.frozen
class Flow:
    """One exchange of the family as the page shows it."""

    name: str  #: the anchor: ``PROFILE-NAME``
    title: str
    what: str  #: a sentence or two: what happens and why
    run: Callable[[Terminal], None]
    applies: Callable[[Iso8583Profile], bool] = lambda _profile: True
    #: What must happen first and is shown by another flow (an inquiry), not recorded here.
    prepare: Callable[[Terminal], None] = lambda _terminal: None


def _sign_on(terminal: Terminal) -> None:
    # The adapter signs on by itself when first used; done here alone to show it apart.
    terminal.adapter.session.ready(TIMERS.inquiry_timeout)


def _echo(terminal: Terminal) -> None:
    terminal.adapter.session.network(NetworkCode.ECHO, TIMERS.inquiry_timeout)


def _inquiry(terminal: Terminal) -> None:
    terminal.payments["inquiry"] = terminal.payment("paying", "POS-0001")


def _payment(terminal: Terminal) -> None:
    terminal.stans["payment"] = terminal.next_stan()
    terminal.adapter.pay(terminal.fixed(terminal.payments["inquiry"]))


def _already_paid(terminal: Terminal) -> None:
    again = attrs.evolve(terminal.payments["inquiry"], reference="POS-0002")
    with suppress(HostDeclined):
        terminal.adapter.pay(terminal.fixed(again))


def _inquire_for(who: str, reference: str) -> Callable[[Terminal], None]:
    def prepare(terminal: Terminal) -> None:
        terminal.payments[reference] = terminal.payment(who, reference)

    return prepare


def _duplicate(terminal: Terminal) -> None:
    resume = terminal.next_stan()
    terminal.set_next_stan(terminal.stans["payment"])  # a terminal that lost its counter
    with suppress(OutcomeUnknown):
        terminal.adapter.pay(terminal.fixed(terminal.payments["POS-0003"]))
    terminal.set_next_stan(resume)


def _settled_by(policy: type[AdviceRequest] | type[ReversalRequest]) -> Callable[[Terminal], None]:
    """The flow of a payment held in the network, settled by the profile's policy: its first
    advice or reversal 30 s later, a repeat 30 s after that, then the held 0200 let through."""

    def flow(terminal: Terminal) -> None:
        payment = terminal.fixed(terminal.payments["POS-0004"])
        answered = len(terminal.switch.answers)
        held = terminal.pay_unanswered(payment)
        first = terminal.fixed(policy(payment))
        for request in (first, attrs.evolve(first, attempt=2)):
            terminal.clock.now += dt.timedelta(seconds=30)
            if isinstance(request, AdviceRequest):
                terminal.adapter.advise(request)
            else:
                terminal.adapter.reverse(request)
        held.set()
        terminal.arrived(answered + 3)

    return flow


_advice = _settled_by(AdviceRequest)
_reversal = _settled_by(ReversalRequest)


def _reversal_forwarded(terminal: Terminal) -> None:
    payment = terminal.fixed(terminal.payments["POS-0005"])
    answered = len(terminal.switch.answers)
    held = terminal.pay_unanswered(payment)
    held.set()  # the 0200 arrives at last and is applied; the terminal no longer listens
    terminal.arrived(answered + 1)
    # The 0400 and its `repeats` 0401s found no switch (not shown: see the reversal flow); the
    # next delivery is the first in store-and-forward, `repeat_interval` x `repeats` +
    # `store_and_forward_interval` after the 0400, as the outbox schedules it.
    timers = terminal.profile.timers
    first = 1 + timers.repeats + 1
    terminal.clock.now += dt.timedelta(
        seconds=timers.repeat_interval * timers.repeats + timers.store_and_forward_interval
    )
    reversal = terminal.fixed(ReversalRequest(payment))
    terminal.adapter.reverse(attrs.evolve(reversal, attempt=first))
    terminal.clock.now += dt.timedelta(seconds=timers.store_and_forward_interval)
    terminal.adapter.reverse(attrs.evolve(reversal, attempt=first + 1))


def _registration(terminal: Terminal) -> None:
    # A synthetic worker (the people factory's first for its own seed, not one the host has).
    data = PersonFactory(seed=8583, as_of=START.date()).make().data
    participant = parse_participant(data, as_of=START.date())
    agent = terminal._agent()
    request = RegistrationRequest(
        "REG-0001", participant, Payer(PayerKind.SELF), terminal.clock(), agent_id=agent
    )
    challenge = terminal.adapter.request_registration(request)
    terminal.clock.now += dt.timedelta(seconds=40)  # the worker reads the SMS aloud
    otp = terminal.host.last_otp(participant.nik)
    terminal.adapter.confirm_registration(OtpConfirmation(challenge, otp, agent_id=agent))


def _registers(profile: Iso8583Profile) -> bool:
    return profile.processing_codes.registration is not None


def _sign_off(terminal: Terminal) -> None:
    terminal.adapter.close()


def _by_advice(profile: Iso8583Profile) -> bool:
    return profile.resolution == "advice"


def _by_reversal(profile: Iso8583Profile) -> bool:
    return profile.resolution == "reverse"


FLOWS: tuple[Flow, ...] = (
    Flow(
        "sign-on",
        "Sign-on: 0800 / 0810, DE70 `001`",
        "The first message on a new connection, and again after a `01` answer. No DE39 in the "
        "0800; the 0810 echoes DE7, DE11 and DE41.",
        _sign_on,
    ),
    Flow(
        "echo",
        "Echo: 0800 / 0810, DE70 `301`",
        "Keeps an idle link alive; answered `00` whether signed on or not.",
        _echo,
    ),
    Flow(
        "inquiry",
        "Inquiry: 0200 / 0210",
        "One month asked for a worker who owes two. DE4 is zero in the 0200; the 0210 gives the "
        "total in DE4 and `AT`, the bill in DE48, and the host's inquiry id `IQ` the payment "
        "must carry.",
        _inquiry,
    ),
    Flow(
        "payment",
        "Payment: 0200 / 0210",
        "The month just inquired, under the channel's reference `FR` (DE37 is derived from it). "
        "The 0210 names the host's reference `HR` and when it was applied `PT`.",
        _payment,
    ),
    Flow(
        "already-paid",
        "Payment refused: the month is already paid",
        "The same month again under another reference: the profile's `already-paid` code "
        "(`54` at BRILink and Alfamart, `88` at Indomaret), nothing applied.",
        _already_paid,
    ),
    Flow(
        "duplicate-stan",
        "Duplicate STAN: `94`",
        "A terminal that lost its counter sends another worker's payment under the STAN of the "
        "payment above: the switch answers `94` with the *original* answer's DE4 and DE48, and "
        "processes nothing. The terminal cannot tell what happened to its own payment: it "
        "settles it by its profile's policy, never by paying again.",
        _duplicate,
        prepare=_inquire_for("duplicate", "POS-0003"),
    ),
    Flow(
        "advice",
        "Unanswered payment settled by advice: 0200 held, 0220 / 0230, 0221 / 0230",
        "BRILink (`resolution = advice`). The 0200 is held in the network past `payment_timeout`;"
        " the terminal sends an 0220 (the payment's DE3, DE4, DE37 and DE48, a new STAN), the "
        "switch applies it; the 0221 repeat keeps the 0220's STAN and gets the same answer. "
        "When the held 0200 arrives at last it is answered with the first outcome, never "
        "applied twice.",
        _advice,
        _by_advice,
        _inquire_for("settled", "POS-0004"),
    ),
    Flow(
        "reversal",
        "Unanswered payment undone by reversal: 0200 held, 0400 / 0410, 0401 / 0410, late 0200",
        "The tills (`resolution = reverse`). The 0200 is held in the network past "
        "`payment_timeout`; the 0400 names it in DE90 (MTI, STAN, DE7, acquirer) and by `FR`. "
        "The switch never had it: `92`, and the reference is voided. The 0401 repeat keeps the "
        "0400's STAN and gets `92` again. When the held 0200 arrives it is refused (`05`), "
        "never applied: the payer pays again under a new reference.",
        _reversal,
        _by_reversal,
        _inquire_for("settled", "POS-0004"),
    ),
    Flow(
        "reversal-forwarded",
        "Reversal in store-and-forward: 0200 held, 0420 / 0430, 0421 / 0430",
        "The tills again. The 0200 is held past `payment_timeout` and then arrives: the switch "
        "applies it, but its 0210 finds no one listening. The 0400 and its `repeats` 0401s go "
        "unanswered too (not shown), so the reversal is stored and forwarded: an 0420, a new "
        "transmission with a STAN of its own (fixed with the 0400's when the reversal was "
        "queued), DE90 naming the 0200 as the 0400 did. The switch reverses the payment (`00`, "
        "the month is owed again); the 0421 repeat, `store_and_forward_interval` later, keeps "
        "the 0420's STAN and gets `00` again.",
        _reversal_forwarded,
        _by_reversal,
        _inquire_for("settled", "POS-0005"),
    ),
    Flow(
        "registration",
        "Registration with OTP: 0200 / 0210 under `390000`, then 0200 / 0210 under `390100`",
        "BRILink only. The agent registers a worker at the kiosk: the first 0200 carries the "
        "worker in DE48 (`CN` the NIK, `WN` the name, `WB` `WS` `WP` `WA` `WZ` `WO` `PG`, "
        "names percent-escaped UTF-8), DE4 zero; the 0210 gives the challenge (`OI`, the phone "
        "masked `OM`, expiry `OX`) and the host texts the OTP to the worker. The second 0200 "
        "carries the reference `RF`, the challenge and the OTP `OT`; its 0210 gives the KPJ and "
        "the first month of membership `RG`.",
        _registration,
        _registers,
    ),
    Flow(
        "sign-off",
        "Sign-off: 0800 / 0810, DE70 `002`",
        "When the terminal closes the connection.",
        _sign_off,
    ),
)


@contextmanager
def _terminal(name: str) -> Iterator[Terminal]:
    profile = load_profile(name)
    clock = _Clock(START)
    host = FakeHost(clock=clock, seed=HOST_SEED)
    people = host.seed_demo(8)
    # seed_demo's mix: 1 and 7 owe one month and the current one, 5 owes two and the current.
    customers = {
        role: CustomerId.parse(people[index][0].nik, field="CN")
        for role, index in (("paying", 1), ("duplicate", 7), ("settled", 5))
    }
    counters = _Counters()
    switch = _RecordingSwitch(host, profile)
    switch.start()
    adapter = Iso8583Adapter(
        profile,
        address=switch.address,
        terminal_id=TERMINALS[name],
        sequences=SequenceSource(counters, block=1),
        agent_id=AGENT if profile.agent_id == "DE42" else None,
        clock=clock,
        timers=TIMERS,
    )
    try:
        yield Terminal(profile, adapter, switch, host, clock, counters, customers)
    finally:
        adapter.close()
        switch.stop()


def capture(name: str) -> list[tuple[Flow, list[Frame]]]:
    """Run every flow that applies to profile ``name``; the frames each put on the wire."""
    out: list[tuple[Flow, list[Frame]]] = []
    with _terminal(name) as terminal:
        for flow in FLOWS:
            if not flow.applies(terminal.profile):
                continue
            flow.prepare(terminal)
            first = len(terminal.switch.frames)
            flow.run(terminal)
            out.append((flow, terminal.switch.frames[first:]))
            terminal.clock.now += dt.timedelta(minutes=1)
    return out


# -- rendering ---------------------------------------------------------------------------------


def dump(data: bytes) -> str:
    """``data`` 16 bytes a line: offset, hex, printable ASCII (``.`` for the rest)."""
    lines = []
    for offset in range(0, len(data), 16):
        chunk = data[offset : offset + 16]
        hexes = " ".join(f"{byte:02x}" for byte in chunk)
        text = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in chunk)
        lines.append(f"{offset:04x}  {hexes:<47}  |{text}|")
    return "\n".join(lines)


def _cell(raw: bytes) -> str:
    text = raw.decode("ascii") if raw.isascii() and raw.decode("ascii").isprintable() else None
    if text is None:
        return "`" + raw.hex(" ") + "` (binary)"
    return "`" + text.replace("|", "\\|").replace(" ", "·") + "`" if text else "(empty)"


def element_table(profile: Iso8583Profile, frame: Frame) -> str:
    """The frame element by element, as spelt on the wire: the length header, the MTI, the
    bitmaps, each DE (an LLVAR's or LLLVAR's length apart), DE48 and DE57 item by item."""
    _doc, encoded = iso8583.decode(frame.payload, profile.codec().spec)
    header = frame.wire[: len(frame.wire) - len(frame.payload)]
    lines = [
        "| element | name | length | value |",
        "|---|---|---|---|",
        f"| header | length of what follows | | `{header.hex(' ')}` = {len(frame.payload)} |",
    ]
    for key in sorted(encoded, key=lambda k: (k not in ("t", "p"), int(k) if k.isdigit() else 0)):
        raw = encoded[key]
        element = {"t": "MTI", "p": "bitmap"}.get(key, f"DE{key}")
        length = raw["len"].decode("ascii") if raw["len"] else ""
        lines.append(f"| {element} | {ELEMENT_NAMES[key]} | {length} | {_cell(raw['data'])} |")
        if key in _TLV_ELEMENTS:
            for tag, value in decode_items(raw["data"].decode("ascii"), field=f"DE{key}"):
                name = TAG_NAMES.get(tag, "")
                lines.append(f"| · `{tag}` | {name} | {len(value):02d} | {_cell(value.encode())} |")
    return "\n".join(lines)


def render_capture(profile: Iso8583Profile, captured: list[tuple[Flow, list[Frame]]]) -> str:
    parts: list[str] = []
    for flow, frames in captured:
        parts.append(f"#### {flow.title}\n\n{flow.what}")
        for frame in frames:
            mti = frame.payload[:4].decode("ascii")
            parts.append(
                f"{mti}, {frame.direction}, {len(frame.wire)} bytes:\n\n"
                f"```\n{dump(frame.wire)}\n```\n\n{element_table(profile, frame)}"
            )
    return "\n\n".join(parts)


def capture_regions() -> dict[str, str]:
    """``capture-PROFILE`` for every profile: a fresh capture, rendered."""
    return {
        f"capture-{name}": render_capture(load_profile(name), capture(name)) for name in PROFILES
    }


def render_regions() -> dict[str, str]:
    return {**deterministic_regions(), **capture_regions()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with the page instead of writing it"
    )
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    fresh = render_regions()
    if args.check:
        current = regions_of(text)
        stale = [name for name, want in fresh.items() if current.get(name) != want.rstrip()]
        for name in stale:
            print(f"{DOC}: region {name!r} is stale", file=sys.stderr)
        return 1 if stale else 0
    DOC.write_text(replace_regions(text, fresh, page="iso8583.md"), encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
