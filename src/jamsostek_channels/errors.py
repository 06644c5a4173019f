"""The exceptions the library raises on purpose, rooted at :class:`JamsostekError`.

Each error sits in one *group* that says what happened to the request, so one ``except`` can
handle a whole group (``except NothingSent``) and :attr:`JamsostekError.group` names it for logs
and metrics::

    JamsostekError                 anything the library raises on purpose
    ├── NothingSent                group "nothing-sent": no money moved; sending again is safe
    │   ├── NotDelivered           the request surely did not arrive: nothing moved, retry as is
    │   └── LocalRefusal           group "local-refusal": refused here; change the request first
    │       ├── InvalidInput       bad input: every Problem at once (also a ValueError)
    │       │   ├── ReferenceConflict  one reference, two different payments (never a receipt)
    │       │   ├── UnknownChannel     no installed channel has this name (the registry's names)
    │       │   └── SettingsInvalid    a channel's settings: every missing/unknown/mistyped key
    │       ├── RuleViolation      a BPU rule forbids it (age, programs, months, arrears window)
    │       └── CapabilityRefused  this channel cannot do it (operation, ID kind, limit, months)
    │           └── AmountLimitRefused  outside its per-payment limits; names months that fit
    ├── HostAnswered               group "host-answered": the other side answered; not applied
    │   ├── HostDeclined           it answered "no" (its code mapped here, its own in host_code)
    │   ├── AuthenticationFailed   a token or signature was refused or does not verify
    │   └── MalformedMessage       bytes that could not be decoded as the protocol says
    ├── OutcomeUnknown             group "outcome-unknown": money may have moved; resolve by status
    ├── JournalError               group "storage": the journal cannot be used or written
    │   ├── JournalUnavailable     the file cannot be opened (a missing folder, no permission)
    │   ├── JournalBusy            another writer held it past the busy timeout
    │   ├── JournalFull            the disk or the file-size limit is full
    │   ├── JournalReadOnly        the file or its folder is read-only
    │   └── JournalCorrupt         a damaged page, or not a journal at all
    └── RuleDataError              group "deployment": a rule table cannot be read

All of them are importable from the top level (``from jamsostek_channels import NothingSent``).
Channel adapters raise their own flavours (e.g. a declined answer carrying the channel's code):
each subclasses one class above, so catching the class above catches it.

A :class:`ReferenceConflict` is a local refusal even when the host's answer revealed it (code
``payment.mismatch``: the host's payment under the reference is another one): nothing of *this*
payment was applied, and the caller must choose a new reference. A :class:`MalformedMessage`
after a payment never reaches the caller as such: the client settles the payment by status
first (a receipt, or :class:`OutcomeUnknown`). ``journal.StaleEntry`` is not an error of this
tree: a journal store's signal to the client (a lost compare-and-set), never raised to a caller.

Every error carries a stable ``code`` and a message in Indonesian (``message_id``) and English
(``message_en``). Messages never contain a full NIK, phone number, secret or token: callers build
them from :mod:`jamsostek_channels.messages`, whose templates take only non-personal values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

import attrs

from jamsostek_channels.messages import render

__all__ = [
    "AmountLimitRefused",
    "AuthenticationFailed",
    "CapabilityRefused",
    "HostAnswered",
    "HostDeclined",
    "InvalidInput",
    "JamsostekError",
    "LocalRefusal",
    "MalformedMessage",
    "NotDelivered",
    "NothingSent",
    "OutcomeUnknown",
    "Problem",
    "ReferenceConflict",
    "RuleViolation",
    "SettingsInvalid",
    "UnknownChannel",
]


@attrs.frozen
class Problem:
    """One thing wrong with the input: where, what (a stable code), and why in two languages."""

    field: str
    code: str
    message_id: str
    message_en: str

    @classmethod
    def of(cls, field: str, code: str, params: Mapping[str, object] | None = None) -> Problem:
        """Build a problem from the message catalogue (``code`` must be in it)."""
        message_id, message_en = render(code, params or {})
        return cls(field=field, code=code, message_id=message_id, message_en=message_en)

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "code": self.code,
            "message_id": self.message_id,
            "message_en": self.message_en,
        }


class JamsostekError(Exception):
    """Base of every error the library raises on purpose."""

    #: What happened to the request, as the module's tree groups it (stable: match on it).
    group: ClassVar[str] = "other"
    code: str
    message_id: str
    message_en: str
    field: str | None
    #: The other side's own code when an answer caused this (e.g. SNAP ``4042512``), for support.
    host_code: str | None

    def __init__(
        self,
        code: str,
        params: Mapping[str, object] | None = None,
        *,
        field: str | None = None,
        host_code: str | None = None,
    ) -> None:
        self.code = code
        self.field = field
        self.host_code = host_code
        self.message_id, self.message_en = render(code, params or {})
        super().__init__(f"[{code}] {self.message_en} / {self.message_id}")

    def as_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "code": self.code,
            "field": self.field,
            "message_id": self.message_id,
            "message_en": self.message_en,
        }


class NothingSent(JamsostekError):
    """Group: the request moved no money: it never arrived, or it was refused here before
    anything was sent. Sending it again is safe (a refusal will refuse again until the request
    is changed)."""

    group = "nothing-sent"


class LocalRefusal(NothingSent):
    """Group: refused by this library (input, rules, the channel's capabilities) before
    anything was sent, or because it contradicts an earlier payment: change the request."""

    group = "local-refusal"


class HostAnswered(JamsostekError):
    """Group: the other side answered and did not apply the request (it declined, refused the
    credentials, or one side could not read the other's message)."""

    group = "host-answered"


class InvalidInput(LocalRefusal, ValueError):
    """The input has one or more problems; all of them are in :attr:`problems`.

    Also a :class:`ValueError`, as python-stdnum's and the standard library's bad values are:
    code written for those catches it too."""

    problems: tuple[Problem, ...]

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        fields = ", ".join(sorted({p.field for p in self.problems}))
        super().__init__("input.invalid", {"count": len(self.problems), "fields": fields})

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "errors": [p.as_dict() for p in self.problems]}


class ReferenceConflict(InvalidInput):
    """A reference already names another payment: reused with other content at this client
    (``journal.conflict``), or the host's payment under it is not this one: another customer,
    other months, another amount or another office (``payment.mismatch``). Never answered with
    a receipt: the caller must choose a new reference, or a person must look."""

    reference: str

    def __init__(self, reference: str, *, code: str = "journal.conflict") -> None:
        self.reference = reference
        super().__init__([Problem.of("reference", code, {"reference": reference[:64]})])


class RuleViolation(LocalRefusal):
    """The request is well-formed but a BPU rule forbids it."""


class CapabilityRefused(LocalRefusal):
    """The channel cannot do what was asked; refused before anything was sent."""


class AmountLimitRefused(CapabilityRefused):
    """A payment's total is outside the channel's per-payment limits (a till takes at most
    Rp5.000.000, cash at some tills Rp2.500.000): refused before any money moved. :attr:`params`
    holds the numbers (``months``, ``amount``, ``limit``, and ``fits`` with ``fits_amount``
    when an allowed month count would fit: the largest below a maximum, the smallest above a
    minimum), so a till can offer that count without parsing the message. ``field`` is
    ``months``: changing the month count is the remedy."""

    params: Mapping[str, object]

    def __init__(self, code: str, params: Mapping[str, object], *, texts: Mapping[str, str]):
        self.params = dict(params)
        super().__init__(code, {**params, **texts}, field="months")

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "params": dict(self.params)}


class HostDeclined(HostAnswered):
    """The host or channel answered and declined; ``host_code`` is its own code."""


class NotDelivered(NothingSent):
    """The request never reached the other side (connect failed, or it answered "not
    processed"): nothing was applied, and sending again with the same reference is safe."""


class OutcomeUnknown(JamsostekError):
    """Group: no answer came, so money may have moved. Resolve by status inquiry
    (:meth:`Client.recover`), never by paying again."""

    group = "outcome-unknown"

    #: The host's answer when one came but could not be recorded (the journal failed after the
    #: host applied it): for the log and support; :meth:`Client.recover` settles it by status.
    answer: object | None = None


class AuthenticationFailed(HostAnswered):
    """A token or signature was refused, or an incoming one does not verify."""


class MalformedMessage(HostAnswered):
    """Bytes that cannot be decoded as the protocol says (a parser's own error is never leaked)."""


# The registry's errors (jamsostek_channels.registry, jamsostek_channels.connect) ---------------


class UnknownChannel(InvalidInput):
    """No installed channel has this name (``channel.unknown``); :attr:`known` lists the names
    the registry has (:mod:`jamsostek_channels.registry`). A local refusal: nothing was sent."""

    name: str
    known: tuple[str, ...]

    def __init__(self, name: str, known: Iterable[str]) -> None:
        from jamsostek_channels.messages import echo

        self.name = name
        self.known = tuple(known)
        shown, listed = echo(name), ", ".join(self.known) or "-"
        self.problems = (
            Problem.of("channel", "channel.unknown", {"name": shown, "known": listed}),
        )
        # The message itself lists the installed channels, not only "1 problem (channel)".
        JamsostekError.__init__(
            self, "channel.unknown", {"name": shown, "known": listed}, field="channel"
        )


class SettingsInvalid(InvalidInput):
    """A channel's settings cannot be used: every missing, unknown or wrongly typed key at once
    in :attr:`problems` (each problem's ``field`` is the key). A local refusal: nothing was
    sent."""

    channel: str

    def __init__(self, channel: str, problems: Iterable[Problem]) -> None:
        from jamsostek_channels.messages import echo

        self.channel = channel
        self.problems = tuple(problems)
        fields = ", ".join(sorted({p.field for p in self.problems}))
        # InvalidInput's own message does not name the channel: this one does.
        JamsostekError.__init__(
            self,
            "settings.invalid",
            {"channel": echo(channel), "count": len(self.problems), "fields": fields},
        )
