"""A fake ISO 8583 switch: BPJS Ketenagakerjaan's side of one profile's TCP link, over a
:class:`~jamsostek_channels.testing.host.FakeHost`.

Terminals (the library's :class:`~.adapter.Iso8583Adapter`, or a client written from
``docs/channels/iso8583.md`` alone) connect to it on 127.0.0.1. Every rule about participants,
bills, prices, payments and reversals is the host's (``host.inquire``, ``host.pay``,
``host.reverse``); framing, faults and the connection's life are
:class:`~jamsostek_channels.testing.tcp.FramedTcpServer`'s; the messages and their DE48 items are
:mod:`.codec`'s and :mod:`.flows`'. What is the switch's own:

* **sign-on**: a terminal (DE41) signs on with 0800/001 (answered 0810 ``00``) and off with
  002; a financial message from a terminal not signed on is answered with the profile's
  ``sign-on-needed`` code (``01``), nothing processed. :meth:`FakeSwitch.forget_sign_ons` is the
  switch restarting. Echo (301) is answered ``00`` signed on or not; every network message is
  kept in :attr:`FakeSwitch.network` (:meth:`FakeSwitch.echoes` counts them) and
  :attr:`FakeSwitch.mute_echoes` leaves echoes unanswered while the link stays up (a half-dead
  switch: the terminal must notice and reconnect).
* **STAN uniqueness**: a first transmission (0200, 0220, 0400, 0420) whose STAN this terminal
  already used today (the switch's day: the host's clock read in the profile's time zone) is a
  *duplicate*: answered with the profile's ``duplicate`` code (``94``) and the original answer's
  elements (amount, DE48), never processed again. A repeat (0221, 0401, 0421) keeps its first
  message's STAN by design and is not one. A reversal's 0420 (its store-and-forward, after the
  0400 and its 0401s went unanswered) is a new transmission under a STAN of its own.
* **inquiry and payment** (0200, the profile's processing codes): the host's inquiry and
  payment; a processing code the profile does not list is ``invalid-transaction`` (``24``), a
  product other than the profile's ``invalid-product`` (``30``), a profile whose agent id
  travels in DE42 refuses a message without it (``invalid-transaction``).
* **advice** (0220, 0221 → 0230): the payment applied if the host never saw it, while the bill
  is payable (the customer's money was taken; the inquiry's expiry does not matter then); one
  the host applied is answered with its first outcome (``host.pay`` is idempotent by reference).
* **reversal** (0400, 0401, 0420, 0421 → 0410, 0430): ``host.reverse`` of the reference DE48
  ``FR`` names: ``00`` reversed, the profile's ``not-found`` code (``92``) when the host never
  had it (the host then voids the reference: a 0200 under it arriving later is refused, never
  applied), ``declined`` (``05``) when refused.
* **registration** (BRILink: 0200 under the profile's ``registration`` code → 0210 with the
  OTP challenge; 0200 under ``registration_confirm`` with the OTP → 0210 with the KPJ): the
  host's ``request_registration`` and ``confirm_registration``; its refusals become the
  profile's ``otp-invalid`` (``55``), ``otp-expired`` (``75``), ``already-registered``
  (``26``), ``not-found`` (an unknown challenge) and ``invalid-customer`` (a worker the host's
  rules refuse). A profile without registration codes answers them ``invalid-transaction``.
* **receipts**: an approved payment's or advice's answer carries DE57, the screen's lines and
  the host's receipt lines (:func:`.flows.receipt_lines`: at most 32 columns each, the KPJ
  masked); a duplicate's answer repeats them with the rest of the original's.
* **settlement**: :meth:`FakeSwitch.settlement_file` writes the profile's end-of-day file
  (:mod:`.settlement`) for any business day from what the host applied through this switch
  (payments and advices; a reversed one marked ``R``), the day cut at the profile's
  ``business_day_cutoff``, with the wire facts (MTI, RRN, STAN, DE41, DE42) of the message
  that applied each.
* **response codes** from the profile's map by meaning: the host's refusals become the profile's
  own numbers (``host.bill_paid`` is ``already-paid``: ``54`` at BRILink and Alfamart, ``88`` at
  Indomaret).

A frame that cannot be read (a bad length, too large, not a message of the family) closes that
connection; the switch keeps serving the others. :attr:`FakeSwitch.received` lists every MTI
that arrived and :attr:`FakeSwitch.answers` every ``(MTI, DE39)`` that left, in order, for tests.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import attrs

from jamsostek_channels import redact
from jamsostek_channels.adapters.iso8583 import flows
from jamsostek_channels.adapters.iso8583.codec import is_request
from jamsostek_channels.adapters.iso8583.fields import TransmissionTime
from jamsostek_channels.adapters.iso8583.messages import (
    Advice,
    AdviceResponse,
    FinancialRequest,
    FinancialResponse,
    Message,
    NetworkCode,
    NetworkRequest,
    NetworkResponse,
    Reversal,
    ReversalResponse,
    Transaction,
)
from jamsostek_channels.adapters.iso8583.profile import Iso8583Profile, Meaning, load_profile
from jamsostek_channels.adapters.iso8583.settlement import (
    CustomerForm,
    SettlementFile,
    SettlementLine,
    encode_settlement,
)
from jamsostek_channels.adapters.iso8583.tlv import Lines, PrivateData
from jamsostek_channels.channel import (
    CustomerId,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    ReversalState,
)
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import HostDeclined, InvalidInput, MalformedMessage
from jamsostek_channels.model import PayerKind
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.tcp import DEFAULT_IDLE_TIMEOUT, FramedTcpServer
from jamsostek_channels.testing.wire import Faults

__all__ = ["SANDBOX_AGENT", "FakeSwitch", "sandbox_switch"]

#: The host's refusals by what they mean on an ISO 8583 switch.
_HOST_MEANINGS = {
    "host.customer_not_found": Meaning.INVALID_CUSTOMER,
    "host.bill_paid": Meaning.ALREADY_PAID,
    "host.not_found": Meaning.NO_BILL,
    "host.amount_mismatch": Meaning.INVALID_AMOUNT,
    "host.bill_expired": Meaning.NO_INQUIRY,
}

#: The host's refusals of a registration or its OTP, by what they mean on the switch.
_REGISTRATION_MEANINGS = {
    "host.otp_invalid": Meaning.OTP_INVALID,
    "host.otp_expired": Meaning.OTP_EXPIRED,
    "host.already_registered": Meaning.ALREADY_REGISTERED,
    "host.not_found": Meaning.NOT_FOUND,  # no such OTP challenge
}

#: What the switch answers a financial message with.
_Reply = FinancialResponse | AdviceResponse | ReversalResponse
_Key = tuple[str, str, int]  # terminal, day, STAN


class FakeSwitch:
    """One profile's switch over ``host`` on 127.0.0.1:``port`` (0: a free one); see the
    module's docstring. ``name``: the channel the host records (default: the profile's name);
    ``faults``: the server's fault knobs. Start with :meth:`start` or ``with``."""

    def __init__(
        self,
        host: FakeHost,
        profile: Iso8583Profile | str,
        *,
        faults: Faults | None = None,
        port: int = 0,
        name: str | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self.host = host
        self.profile = profile if isinstance(profile, Iso8583Profile) else load_profile(profile)
        self.name = name or self.profile.name
        self.codec = self.profile.codec()
        self._lock = threading.Lock()
        self._signed_on: set[str] = set()
        self._seen: dict[_Key, _Reply] = {}
        self._applied: dict[str, _Applied] = {}  # reference -> the message that applied it
        self._clients = 0  # sandbox clients given a terminal id (client_settings)
        #: Every MTI that arrived and was read, in order.
        self.received: list[str] = []
        #: Every answer that left, as ``(MTI, DE39)``, in order.
        self.answers: list[tuple[str, str]] = []
        #: Every ``(terminal, STAN)`` of a first transmission, in order.
        self.stans: list[tuple[str, int]] = []
        #: Every network message (0800) as ``(terminal, DE70, STAN)``, in order.
        self.network: list[tuple[str, NetworkCode, int]] = []
        #: Leave echoes (0800/301) unanswered: the link up, the switch deaf to them.
        self.mute_echoes = False
        #: What terminals answered to the switch's own requests (:meth:`send_echo`,
        #: :meth:`push`): each answer's elements as text by number (``"t"``: the MTI), in order.
        self.terminal_answers: list[dict[str, str]] = []
        self._pushed_stan = 900_000  # the switch's own STANs, apart from any terminal's
        self.server = FramedTcpServer(
            self.handle,
            framing=self.profile.framing,
            faults=faults,
            name=self.name,
            port=port,
            idle_timeout=idle_timeout,
        )

    @property
    def address(self) -> str:
        """``tcp://127.0.0.1:PORT``: a terminal's ``base_url``."""
        return self.server.address

    @property
    def faults(self) -> Faults:
        return self.server.faults

    def start(self) -> FakeSwitch:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeSwitch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def echoes(self, terminal: str | None = None) -> int:
        """How many echoes arrived (from ``terminal``, or from any)."""
        with self._lock:
            return sum(
                1
                for sender, code, _stan in self.network
                if code is NetworkCode.ECHO and terminal in (None, sender)
            )

    def stan_day(self) -> dt.date:
        """The day STANs are unique within: the host's clock in the profile's time zone (a
        switch stamping DE7 in UTC starts its day at 07:00 in Jakarta)."""
        return self.host.now().astimezone(self.profile.time_zone).date()

    def reset(self) -> None:
        """Forget the switch's own state (sign-ons, the STANs seen, the logs of what came and
        went); the host's is its owner's to reset. The sandbox calls it on ``/control/reset``."""
        with self._lock:
            self._signed_on.clear()
            self._seen.clear()
            self.received.clear()
            self.answers.clear()
            self.stans.clear()
            self.network.clear()
            self._applied.clear()
            self.terminal_answers.clear()
            self._clients = 0

    def client_settings(self) -> dict[str, Any]:
        """The terminal id of one more sandbox client: each its own, as each terminal keeps its
        own journal (two terminals sharing one id would repeat each other's STANs)."""
        with self._lock:
            self._clients += 1
            number = self._clients
        return {"terminal_id": _terminal(self.profile, number)}

    def forget_sign_ons(self) -> None:
        """The switch restarted: every terminal must sign on again."""
        with self._lock:
            self._signed_on.clear()

    # --- one message ------------------------------------------------------------------------

    def send_echo(self, terminal: str | None = None) -> int:
        """The switch's own echo (0800/``301``, a STAN of its own, DE41 ``terminal`` if given)
        to every connected terminal; how many links it went to. Their answers are kept in
        :attr:`terminal_answers`."""
        with self._lock:
            self._pushed_stan += 1
            stan = self._pushed_stan
        echo = NetworkRequest(
            code=NetworkCode.ECHO,
            transmitted=TransmissionTime.of(self.host.now(), self.profile.time_zone),
            stan=stan,
            terminal=terminal,
        )
        return self.push(self.codec.encode(echo))

    def push(self, payload: bytes) -> int:
        """Any message (``payload``, without its length header) to every connected terminal, as
        the switch's own: one the library does not take part in too (a key exchange)."""
        return self.server.push(payload)

    def _terminal_answer(self, payload: bytes) -> bool:
        """Keep an answer a terminal sent to the switch's own request (read element by element:
        it may refuse a message the family's types do not know). Whether it was one."""
        if is_request(payload[:4].decode("ascii", "replace")):  # the MTI: most frames stop here
            return False
        fields = self.codec.peek(payload)
        if fields is None:
            return False
        with self._lock:
            self.received.append(fields["t"])
            self.terminal_answers.append(fields)
        return True

    def handle(self, payload: bytes) -> bytes | None:
        """The server's handler: a frame's payload in, the answer's out. A payload that is not a
        message of the family raises (the server closes that connection)."""
        if self._terminal_answer(payload):
            return None
        message = self.codec.decode(payload)
        with self._lock:
            self.received.append(message.mti)
        answer = self._answer(message)
        if answer is None:
            return None
        with self._lock:
            self.answers.append((answer.mti, answer.response_code))
        return self.codec.encode(answer)

    def _code(self, meaning: Meaning) -> str:
        """The profile's first code of ``meaning`` (``declined``'s when it has none)."""
        for code, entry in self.profile.response_codes.items():
            if entry.meaning is meaning:
                return code
        return self._code(Meaning.DECLINED) if meaning is not Meaning.DECLINED else "05"

    def _answer(self, message: Message) -> _Reply | NetworkResponse | None:
        if isinstance(message, NetworkRequest):
            return self._network(message)
        if not isinstance(message, Transaction):
            return None  # an answer sent to the switch: nothing to say
        terminal = message.terminal
        repeat = getattr(message, "repeat", False)
        key = (terminal, self.stan_day().isoformat(), message.stan)
        with self._lock:
            if terminal not in self._signed_on:
                return _refusal(message, self._code(Meaning.SIGN_ON_NEEDED))
            original = None if repeat else self._seen.get(key)
            if original is None and not repeat:
                self.stans.append((terminal, message.stan))
        if original is not None:
            return _echoed(original, message, self._code(Meaning.DUPLICATE))
        answer = self._financial(message)
        if not repeat:
            with self._lock:
                self._seen.setdefault(key, answer)
        return answer

    def _network(self, message: NetworkRequest) -> NetworkResponse | None:
        terminal = message.terminal or ""
        with self._lock:
            self.network.append((terminal, message.code, message.stan))
            if message.code is NetworkCode.ECHO and self.mute_echoes:
                return None
            if message.code is NetworkCode.SIGN_ON:
                self._signed_on.add(terminal)
            elif message.code is NetworkCode.SIGN_OFF:
                self._signed_on.discard(terminal)
        return NetworkResponse(
            code=message.code,
            transmitted=message.transmitted,
            stan=message.stan,
            response_code="00",
            terminal=message.terminal,
        )

    def _financial(self, message: Transaction) -> _Reply:
        if message.private.product != self.profile.product_id:
            return _refusal(message, self._code(Meaning.INVALID_PRODUCT))
        if self.profile.agent_id == "DE42" and message.merchant is None:
            return _refusal(message, self._code(Meaning.INVALID_TRANSACTION))
        try:
            if isinstance(message, Reversal):
                return self._reversal(message)
            if isinstance(message, Advice):
                return self._payment(message, advice=True)
            codes = self.profile.processing_codes
            if isinstance(message, FinancialRequest) and message.processing_code == codes.inquiry:
                return self._inquiry(message)
            if isinstance(message, FinancialRequest) and message.processing_code == codes.payment:
                return self._payment(message, advice=False)
            if isinstance(message, FinancialRequest) and self._registers(message):
                return self._registration(message)
            return _refusal(message, self._code(Meaning.INVALID_TRANSACTION))
        except HostDeclined as declined:
            meaning = _HOST_MEANINGS.get(declined.host_code or "", Meaning.DECLINED)
            return _refusal(message, self._code(meaning))
        except (InvalidInput, MalformedMessage):  # DE48 that names no payment the host takes
            return _refusal(message, self._code(Meaning.INVALID_TRANSACTION))

    def _inquiry(self, message: FinancialRequest) -> _Reply:
        data = message.private
        if data.customer is None:
            return _refusal(message, self._code(Meaning.INVALID_CUSTOMER))
        customer = CustomerId.parse(data.customer, field="CN")
        payer = flows.payer_of(data)
        inquiry = self.host.inquire(customer, data.months or 1, channel=self.name, payer=payer)
        return _approved(
            FinancialResponse,
            message,
            amount=inquiry.amount,
            private=flows.inquiry_answer(self.profile.product_id, inquiry),
        )

    def _payment(self, message: FinancialRequest | Advice, *, advice: bool) -> _Reply:
        request = flows.payment_of(
            message.private,
            amount=message.amount,
            at=self.host.now(),
            agent_id=message.merchant,
        )
        if advice:  # the customer's money was taken: the inquiry's expiry no longer matters
            request = attrs.evolve(request, inquiry_id=None)
        result = self.host.pay(self.name, request)
        kind: Callable[..., _Reply] = AdviceResponse if advice else FinancialResponse
        if result.state is not PaymentState.APPLIED:  # a repeat of one reversed since
            return _refusal(message, self._code(Meaning.DECLINED), kind)
        self._note_applied(message, result.reference)
        return _approved(
            kind,
            message,
            amount=result.amount,
            private=flows.result_data(self.profile.product_id, result),
            lines=self._receipt_lines(request, result),
        )

    def _receipt_lines(self, request: PaymentRequest, result: PaymentResult) -> Lines:
        """DE57 of an approved payment or advice: the screen and receipt lines
        (:func:`.flows.receipt_lines`), the KPJ as the host holds it."""
        participant = self.host.participant(request.customer.value)
        return flows.receipt_lines(result, participant.kpj if participant else None)

    def _reversal(self, message: Reversal) -> _Reply:
        reference = flows.reference_of(message.private)
        result = self.host.reverse(self.name, reference)
        code = {
            ReversalState.REVERSED: "00",
            ReversalState.NOT_FOUND: self._code(Meaning.NOT_FOUND),
        }.get(result.state, self._code(Meaning.DECLINED))
        return ReversalResponse(
            **_echo(message),
            response_code=code,
            amount=message.amount,
            original=message.original,
            advice=message.advice,
            private=PrivateData(
                product=self.profile.product_id, other=[(flows.PAYMENT_REFERENCE, reference)]
            ),
        )

    # --- registration (the profile's ``registration`` / ``registration_confirm`` codes) ----

    def _registers(self, message: FinancialRequest) -> bool:
        """Whether ``message`` is a registration or its confirmation under this profile."""
        codes = self.profile.processing_codes
        wanted = (codes.registration, codes.registration_confirm)
        return None not in wanted and message.processing_code in wanted

    def _registration(self, message: FinancialRequest) -> _Reply:
        """The host's registration (``registration``) or its OTP confirmation
        (``registration_confirm``); the host's refusals by the profile's registration codes."""
        product = self.profile.product_id
        try:
            if message.processing_code == self.profile.processing_codes.registration:
                request = flows.registration_of(
                    message.private, at=self.host.now(), agent_id=message.merchant
                )
                sponsor_allowed = self.profile.capabilities.sponsor_registration
                if request.payer.kind is not PayerKind.SELF and not sponsor_allowed:
                    return _refusal(message, self._code(Meaning.INVALID_TRANSACTION))
                challenge = self.host.request_registration(self.name, request)
                private = flows.challenge_data(product, challenge)
            else:
                reference, challenge_id, otp = flows.confirmation_of(message.private)
                registration = self.host.confirm_registration(challenge_id, otp)
                if registration.reference != reference:  # another registration's challenge
                    return _refusal(message, self._code(Meaning.NOT_FOUND))
                private = flows.registration_answer(product, registration)
        except HostDeclined as declined:
            meaning = _REGISTRATION_MEANINGS.get(declined.host_code or "", Meaning.DECLINED)
            return _refusal(message, self._code(meaning))
        except InvalidInput:  # a worker the host's rules do not register
            return _refusal(message, self._code(Meaning.INVALID_CUSTOMER))
        except MalformedMessage:
            return _refusal(message, self._code(Meaning.INVALID_TRANSACTION))
        return _approved(FinancialResponse, message, amount=0, private=private)

    # --- the end-of-day settlement file ---------------------------------------------------------

    def _note_applied(self, message: FinancialRequest | Advice, reference: str) -> None:
        """Keeps the wire facts of the message that applied ``reference`` (the first: a
        repeat or an advice of a payment already applied changes nothing)."""
        applied = _Applied(
            mti="0220" if isinstance(message, Advice) else "0200",
            rrn=message.rrn or flows.rrn_of(reference),
            stan=message.stan,
            terminal=message.terminal,
            agent=message.merchant or "",
            customer=message.private.customer or "",
        )
        with self._lock:
            self._applied.setdefault(reference, applied)

    def settlement(self, day: dt.date) -> SettlementFile:
        """The switch's settlement of business ``day``: every payment the host applied through
        this channel that day (the profile's ``business_day_cutoff`` decides the day), in the
        order applied, a reversed one marked so."""
        cutoff = self.profile.capabilities.business_day_cutoff
        full = self.profile.settlement.customer is CustomerForm.FULL
        lines = []
        for record in self.host.settlement(self.name, day, cutoff=cutoff):
            with self._lock:
                applied = self._applied.get(record.reference)
            if applied is None:  # applied by the host some other way: no wire facts
                applied = _Applied("0200", flows.rrn_of(record.reference), 0, "", "", "")
            customer = applied.customer or record.nik_masked
            lines.append(
                SettlementLine(
                    paid_at=record.paid_at.astimezone(JAKARTA).replace(microsecond=0),
                    mti=applied.mti,
                    rrn=applied.rrn,
                    stan=applied.stan,
                    terminal=applied.terminal,
                    agent=applied.agent,
                    reference=record.reference,
                    customer=customer if full else redact.customer(customer),
                    first_period=record.periods[0],
                    months=len(record.periods),
                    amount=record.amount,
                    admin_fee=record.admin_fee,
                    host_reference=record.host_reference,
                    state=record.state,
                )
            )
        return SettlementFile(
            business_date=day,
            channel=self.profile.name,
            acquirer=self.profile.acquirer_id,
            product=self.profile.product_id,
            lines=tuple(lines),
        )

    def settlement_file(self, day: dt.date) -> bytes:
        """The bytes of :meth:`settlement` in the profile's layout (``[settlement]``); its name
        is ``self.profile.settlement.name_for(day)``."""
        return encode_settlement(self.settlement(day), self.profile.settlement)

    def settlement_name(self, day: dt.date) -> str:
        """The name the profile gives :meth:`settlement_file` of ``day`` (``[settlement]``):
        with it, the switch is a :class:`~jamsostek_channels.registry.SettlementFiles` and the
        sandbox's ``GET /control/settlement`` serves its files."""
        return self.profile.settlement.name_for(day)


@attrs.frozen
class _Applied:
    """What the settlement file says of the message that applied a payment."""

    mti: str
    rrn: str
    stan: int
    terminal: str
    agent: str
    customer: str  #: DE48 CN as sent (masked when written, unless the profile says full)


def _echo(message: Transaction) -> dict[str, Any]:
    """What every answer echoes of its request."""
    return {
        "processing_code": message.processing_code,
        "transmitted": message.transmitted,
        "stan": message.stan,
        "terminal": message.terminal,
        "channel_type": message.channel_type,
        "acquirer": message.acquirer,
        "rrn": message.rrn,
        "merchant": message.merchant,
        "currency": message.currency,
    }


def _answer_type(message: Transaction) -> Callable[..., _Reply]:
    if isinstance(message, Advice):
        return AdviceResponse
    if isinstance(message, Reversal):
        return lambda **values: ReversalResponse(
            original=message.original, advice=message.advice, **values
        )
    return FinancialResponse


def _approved(kind: Callable[..., _Reply], message: Transaction, **values: Any) -> _Reply:
    return kind(**_echo(message), response_code="00", **values)


def _refusal(message: Transaction, code: str, kind: Callable[..., _Reply] | None = None) -> _Reply:
    return (kind or _answer_type(message))(**_echo(message), response_code=code)


def _echoed(original: _Reply, message: Transaction, code: str) -> _Reply:
    """A duplicate's answer: the original's elements, this message's echoes, ``code``."""
    return attrs.evolve(original, **_echo(message), response_code=code)


# The sandbox's switch ----------------------------------------------------------------------------

#: The agent id (DE42) the sandbox's settings give where the profile carries one.
SANDBOX_AGENT = "AGEN-SANDBOX"
#: The first characters of a sandbox terminal id per shipped profile (then a five-digit number).
_TERMINAL_STEMS = {"brilink": "BRI", "indomaret": "IDM-T001-", "alfamart": "ALF"}


def _terminal(profile: Iso8583Profile, number: int) -> str:
    stem = _TERMINAL_STEMS.get(profile.name, profile.name[:3].upper())
    return f"{stem}{number:05d}"[-profile.terminal_id_length :]


def sandbox_switch(
    host: FakeHost, name: str, faults: Faults, *, profile: str | None = None
) -> tuple[FakeSwitch, dict[str, Any]]:
    """The sandbox's switch of channel ``name`` (profile ``profile``, default ``name``) on a free
    loopback port, and a client's settings but ``base_url``: the profile's acquirer, its framing
    spelled out, the sandbox's agent id where DE42 carries one, and a first terminal id (each
    :meth:`~jamsostek_channels.testing.sandbox.Sandbox.client` gets another:
    :meth:`FakeSwitch.client_settings`)."""
    switch = FakeSwitch(host, profile or name, faults=faults, name=name)
    framing = switch.profile.framing
    settings = {
        "terminal_id": _terminal(switch.profile, 0),
        "acquirer_id": switch.profile.acquirer_id,
        "agent_id": SANDBOX_AGENT if switch.profile.agent_id == "DE42" else None,
        "profile": switch.profile.name,
        "length_width": framing.width,
        "length_byteorder": framing.byteorder,
        "ascii_length": framing.ascii_length,
    }
    return switch, settings
