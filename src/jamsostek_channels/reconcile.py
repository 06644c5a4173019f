"""Reconciliation: a channel's end-of-day settlement matched against the local journal.

Every channel hands over what it collected on a day as :class:`SettlementRecord` lines (how it
delivers them is the adapter's business). :func:`reconcile` matches them with the journal's
``pay`` entries by the channel's reference and puts every reference into exactly one category:

* ``matched``: in both; journal APPLIED, record PAID, same contribution, admin fee, months and
  host reference.
* ``amount_mismatch``: in both, but they disagree: amount, admin fee, months, host reference,
  or state (reversed on one side only; reversed but never applied). ``reason`` says which.
* ``missing_in_journal``: in the file, not in the journal: money the channel took that we have
  no record of (also a record for another channel, reason ``channel``).
* ``missing_in_settlement``: journal APPLIED (or REVERSED) on the day, absent from the file.
* ``duplicated``: a reference more than once in the file, or two references sharing a host
  reference: a line per record involved, with the journal's side when known.
* ``reversed``: record REVERSED and journal REVERSED, the amounts agreeing.
* ``unresolved``: journal not settled (held, pending, unknown, submitted; on the day, or
  referenced by the file): run
  ``Client.recover()``; the reason says whether the file shows it.
* ``declined_but_settled``: journal DECLINED/NOT_APPLIED, but the file says PAID.
* ``other_day``: the record agrees with a journal entry requested on another WIB day (a payment
  sent just before midnight, settled after it). A disagreeing one goes to the category of its
  disagreement; either way the line's ``journal_day`` tells.

Journal entries of the day that were declined or never applied and are absent from the file
agree with it (nothing moved): they are in no category, only in the totals
(``journal_not_applied``). Journal entries of other days that the file does not mention are
ignored.

The report is :attr:`~ReconciliationReport.balanced` when nothing but ``matched``, ``reversed``
and ``other_day`` lines exist. Money is integer rupiah: a record's amount and fee must be 0 to
:data:`MAX_AMOUNT` (anything else is refused with
:class:`~jamsostek_channels.errors.InvalidInput`); a line carries both sides' contribution and
admin fee. Lines never hold a full NIK: a record's ``nik_masked`` is used (masked again by
:func:`jamsostek_channels.redact.customer`, in case a file put a full number there), and
journal-only lines mask the journal's customer id the same way.

The work is one pass over the file and one over the journal entries, with dictionaries: 100,000
records against 100,000 entries take under a second in memory (``bench/reconcile.py``).
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from jamsostek_channels import redact
from jamsostek_channels.channel import SettlementRecord, SettlementState
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import InvalidInput, Problem
from jamsostek_channels.journal import Entry, EntryState
from jamsostek_channels.period import YearMonth

if TYPE_CHECKING:
    from jamsostek_channels.journal import JournalStore

__all__ = [
    "CATEGORIES",
    "MAX_AMOUNT",
    "OK_CATEGORIES",
    "CategoryTotal",
    "ReconciliationLine",
    "ReconciliationReport",
    "Sum",
    "Totals",
    "amount_problem",
    "collector_paused",
    "file_scopes",
    "reconcile",
    "reconcile_journal",
]

#: Every category, in the order reports show them.
CATEGORIES: tuple[str, ...] = (
    "matched",
    "amount_mismatch",
    "missing_in_journal",
    "missing_in_settlement",
    "duplicated",
    "reversed",
    "unresolved",
    "declined_but_settled",
    "other_day",
)
#: The categories a balanced day may hold.
OK_CATEGORIES: frozenset[str] = frozenset({"matched", "reversed", "other_day"})
#: The largest contribution or admin fee a settlement record may carry, in rupiah: twelve
#: digits, the Kantor Pos wire type's maximum (``kp:Rupiah``) and far above any BPU payment. It
#: keeps every sum within a signed 64-bit integer (SQLite's, and most partners' databases') for
#: up to nine million records, and within what the report's rupiah formatting can print.
MAX_AMOUNT = 999_999_999_999

_PAY = "pay"
_WIB_OFFSET = dt.timedelta(hours=7)
_PAID = SettlementState.PAID
_REVERSED_RECORD = SettlementState.REVERSED
_APPLIED = EntryState.APPLIED
_REVERSED = EntryState.REVERSED
_OPEN = frozenset(state for state in EntryState if not state.final)  # held, sent, submitted
_NOT_APPLIED = frozenset({EntryState.DECLINED, EntryState.NOT_APPLIED})


@attrs.frozen
class ReconciliationLine:
    """One reference (one record, in ``duplicated``) with both sides as far as they exist.

    ``file_*`` fields are ``None`` when the file does not have it, ``journal_*`` fields when the
    journal does not. ``reason`` is a stable code (several joined by ``+``), ``None`` when the
    category says it all: ``amount``, ``admin_fee``, ``periods``, ``host_reference``,
    ``reversed_in_settlement_only``, ``reversed_in_journal_only``, ``reversed_but_not_applied``,
    ``reference`` / ``host_reference`` (duplicated), ``channel`` (a record for another channel),
    ``journal_reversed`` (missing in the settlement, reversed in the journal), ``in_settlement``
    / ``not_in_settlement`` (unresolved)."""

    reference: str
    reason: str | None
    customer_masked: str
    periods: tuple[YearMonth, ...]
    file_state: SettlementState | None = None
    file_amount: int | None = None
    file_admin_fee: int | None = None
    file_host_reference: str | None = None
    paid_at: dt.datetime | None = None
    journal_state: EntryState | None = None
    journal_amount: int | None = None
    journal_admin_fee: int | None = None
    journal_host_reference: str | None = None
    requested_at: dt.datetime | None = None
    #: the WIB day the journal entry was requested (differs from the report's day in other_day)
    journal_day: dt.date | None = None


@attrs.frozen
class Sum:
    """A count and its rupiah sums (contribution and admin fee kept apart)."""

    count: int = 0
    amount: int = 0
    admin_fee: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"count": self.count, "amount": self.amount, "admin_fee": self.admin_fee}


@attrs.frozen
class CategoryTotal:
    """``lines`` in the category; ``file`` sums its records, ``journal`` its distinct entries."""

    lines: int
    file: Sum
    journal: Sum

    def as_dict(self) -> dict[str, Any]:
        return {"lines": self.lines, "file": self.file.as_dict(), "journal": self.journal.as_dict()}


@attrs.frozen
class Totals:
    """Per category, and the two sides as a whole.

    ``file_paid``/``file_reversed``: every record in the file. ``journal_*``: the day's pay
    entries by state (``journal_unresolved`` = not settled yet, ``journal_not_applied`` =
    DECLINED or NOT_APPLIED); ``journal_other_day``: other days' entries the file references."""

    categories: Mapping[str, CategoryTotal]
    file_paid: Sum
    file_reversed: Sum
    journal_applied: Sum
    journal_reversed: Sum
    journal_unresolved: Sum
    journal_not_applied: Sum
    journal_other_day: Sum

    def as_dict(self) -> dict[str, Any]:
        return {
            "categories": {name: total.as_dict() for name, total in self.categories.items()},
            "file": {"paid": self.file_paid.as_dict(), "reversed": self.file_reversed.as_dict()},
            "journal": {
                "applied": self.journal_applied.as_dict(),
                "reversed": self.journal_reversed.as_dict(),
                "unresolved": self.journal_unresolved.as_dict(),
                "not_applied": self.journal_not_applied.as_dict(),
                "other_day": self.journal_other_day.as_dict(),
            },
        }


@attrs.frozen
class ReconciliationReport:
    """The outcome of :func:`reconcile`: a tuple of lines per category, and the totals."""

    channel: str
    day: dt.date
    matched: tuple[ReconciliationLine, ...]
    amount_mismatch: tuple[ReconciliationLine, ...]
    missing_in_journal: tuple[ReconciliationLine, ...]
    missing_in_settlement: tuple[ReconciliationLine, ...]
    duplicated: tuple[ReconciliationLine, ...]
    reversed: tuple[ReconciliationLine, ...]
    unresolved: tuple[ReconciliationLine, ...]
    declined_but_settled: tuple[ReconciliationLine, ...]
    other_day: tuple[ReconciliationLine, ...]
    totals: Totals

    @property
    def balanced(self) -> bool:
        """Nothing but matched, reversed (both sides) and other-day-but-agreeing lines."""
        return all(
            not lines for name, lines in self.categories().items() if name not in OK_CATEGORIES
        )

    def categories(self) -> dict[str, tuple[ReconciliationLine, ...]]:
        """Category name -> its lines, in :data:`CATEGORIES` order."""
        return {name: getattr(self, name) for name in CATEGORIES}

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{channel, day, balanced, totals, categories: {name: [lines]}}``."""
        from jamsostek_channels.converters import converter

        unstructure = converter().unstructure
        return {
            "channel": self.channel,
            "day": self.day.isoformat(),
            "balanced": self.balanced,
            "totals": self.totals.as_dict(),
            "categories": {
                name: [unstructure(line) for line in lines]
                for name, lines in self.categories().items()
            },
        }


def amount_problem(field: str, value: object) -> Problem | None:
    """The problem with ``value`` as a record's amount or fee, or ``None``: it must be an
    integer number of rupiah from 0 to :data:`MAX_AMOUNT` (a JSON ``true`` is not a number).

    >>> amount_problem("amount", 16_800) is None
    True
    >>> amount_problem("amount", -1).code, amount_problem("amount", 10**28).code
    ('amount.negative', 'amount.too_large')
    >>> amount_problem("amount", 16_800.5).code
    'field.type'
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Problem.of(field, "field.type", {"expected": "integer (rupiah)"})
    # Sign and size first, whatever the type: -5.0 and 1e28 get the message that helps most.
    if value < 0:
        return Problem.of(field, "amount.negative")
    if value > MAX_AMOUNT:
        return Problem.of(field, "amount.too_large", {"max": MAX_AMOUNT})
    if not isinstance(value, int):  # a fraction, or NaN
        return Problem.of(field, "field.type", {"expected": "integer (rupiah)"})
    return None


def _amount_problems(records: Iterable[SettlementRecord]) -> list[Problem]:
    found = []
    for index, record in enumerate(records):
        amount, fee = record.amount, record.admin_fee
        if (
            type(amount) is int
            and type(fee) is int
            and 0 <= amount <= MAX_AMOUNT
            and 0 <= fee <= MAX_AMOUNT
        ):
            continue  # the common case, without a call
        for name, value in (("amount", amount), ("admin_fee", fee)):
            problem = amount_problem(f"records[{index}].{name}", value)
            if problem is not None:
                found.append(problem)
    return found


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause CPython's cycle collector while a reconciliation builds its objects.

    Reading 100,000 journal entries and building as many lines allocates millions of small
    objects, none in a reference cycle; the collector would traverse the growing heap again and
    again (measured: two to three times the whole run). It is switched off for the duration and
    back on after, and left alone when the caller had already switched it off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Side(NamedTuple):
    """The journal's side of a payment, read once from its entry (or its projected row)."""

    state: EntryState
    customer: str  #: the journal's customer id: only ever shown masked (redact.customer)
    amount: int | None
    admin_fee: int | None
    host_reference: str | None
    periods: tuple[Any, ...]  #: as journaled: "YYYY-MM" strings
    requested_at: dt.datetime
    day: dt.date


def _money(value: object) -> int | None:
    return value if type(value) is int else None


def _as_dict(value: object) -> dict[str, Any]:
    if type(value) is dict:
        return value
    return dict(value) if isinstance(value, Mapping) else {}


def _side(entry: Entry) -> _Side:
    facts = entry.facts
    if facts is not None:  # the journal's typed columns
        return _Side(
            entry.state,
            facts.customer,
            facts.amount,
            facts.admin_fee,
            entry.host_reference,
            facts.periods,
            entry.created_at,
            facts.business_day,
        )
    # An entry with no typed columns (made by hand): read the client's record.
    request = _as_dict(entry.request.get("request"))
    outcome = entry.outcome
    host = _as_dict(outcome).get("host_reference") if outcome is not None else None
    customer = _as_dict(request.get("customer")).get("value")
    periods = request.get("periods")
    return _make_side(
        entry.state,
        customer,
        request.get("amount"),
        request.get("admin_fee"),
        host,
        tuple(periods) if type(periods) is list else (),
        request.get("requested_at"),
        entry.created_at,
    )


_ENTRY_STATES = {state.value: state for state in EntryState}


class _RowSides:
    """``(reference, side)`` from a :meth:`Journal.payments` row (the typed columns). A day's
    entries journal the same few month lists and days over and over: each distinct text is
    parsed once."""

    __slots__ = ("_days", "_months")

    def __init__(self) -> None:
        self._months: dict[str, tuple[str, ...]] = {}
        self._days: dict[str, dt.date] = {}

    def __call__(self, row: tuple[Any, ...]) -> tuple[str, _Side]:
        reference, state, created_at, customer, amount, fee, periods, day, host = row
        months: tuple[str, ...] = ()
        if type(periods) is str and periods:
            found = self._months.get(periods)
            if found is None:
                found = self._months[periods] = tuple(periods.split(","))
            months = found
        entry_state = _ENTRY_STATES.get(state)
        if entry_state is None:
            entry_state = EntryState(state)  # raises, naming the value
        created = dt.datetime.fromisoformat(created_at)
        business_day = self._days.get(day) if type(day) is str else None
        if business_day is None:
            business_day = created.astimezone(JAKARTA).date()
            if type(day) is str:
                business_day = self._days[day] = dt.date.fromisoformat(day)
        return reference, _Side(
            entry_state,
            customer if type(customer) is str else "",
            _money(amount),
            _money(fee),
            host if type(host) is str and host else None,
            months,
            created,
            business_day,
        )


def _make_side(
    state: EntryState,
    customer: object,
    amount: object,
    admin_fee: object,
    host: object,
    periods: tuple[Any, ...],
    requested_text: object,
    created_at: dt.datetime,
) -> _Side:
    requested_at: dt.datetime | None = None
    if type(requested_text) is str:
        try:
            requested_at = dt.datetime.fromisoformat(requested_text)
        except ValueError:
            requested_at = None
    if requested_at is None:
        requested_at = created_at
    offset = requested_at.utcoffset()
    if offset is None:  # a naive time: the library's times are WIB
        requested_at = requested_at.replace(tzinfo=JAKARTA)
        day = requested_at.date()
    elif offset == _WIB_OFFSET:
        day = requested_at.date()
    else:
        day = requested_at.astimezone(JAKARTA).date()
    return _Side(
        state,
        customer if type(customer) is str else "",
        _money(amount),
        _money(admin_fee),
        host if type(host) is str and host else None,
        periods,
        requested_at,
        day,
    )


def _parse_periods(texts: tuple[Any, ...]) -> tuple[YearMonth, ...]:
    try:
        return tuple(YearMonth.parse(text) for text in texts)
    except ValueError:
        return ()


def _line(
    reference: str,
    reason: str | None,
    record: SettlementRecord | None,
    side: _Side | None,
) -> ReconciliationLine:
    if record is None:
        assert side is not None
        return ReconciliationLine(
            reference,
            reason,
            redact.customer(side.customer),
            _parse_periods(side.periods),
            journal_state=side.state,
            journal_amount=side.amount,
            journal_admin_fee=side.admin_fee,
            journal_host_reference=side.host_reference,
            requested_at=side.requested_at,
            journal_day=side.day,
        )
    if side is None:
        return ReconciliationLine(
            reference,
            reason,
            redact.customer(record.nik_masked),
            record.periods,
            record.state,
            record.amount,
            record.admin_fee,
            record.host_reference,
            record.paid_at,
        )
    return ReconciliationLine(
        reference,
        reason,
        redact.customer(record.nik_masked),
        record.periods,
        record.state,
        record.amount,
        record.admin_fee,
        record.host_reference,
        record.paid_at,
        side.state,
        side.amount,
        side.admin_fee,
        side.host_reference,
        side.requested_at,
        side.day,
    )


class _Months:
    """``"YYYY-MM"`` texts of a record's months, computed once per distinct tuple."""

    def __init__(self) -> None:
        self._texts: dict[tuple[YearMonth, ...], tuple[str, ...]] = {}

    def __call__(self, periods: tuple[YearMonth, ...]) -> tuple[str, ...]:
        texts = self._texts.get(periods)
        if texts is None:
            texts = self._texts[periods] = tuple(str(p) for p in periods)
        return texts


def _differences(record: SettlementRecord, side: _Side, months: _Months) -> list[str]:
    found = []
    if record.amount != side.amount:
        found.append("amount")
    if record.admin_fee != side.admin_fee:
        found.append("admin_fee")
    if months(record.periods) != side.periods:
        found.append("periods")
    if side.host_reference is not None and record.host_reference != side.host_reference:
        found.append("host_reference")
    return found


def file_scopes(records: Sequence[SettlementRecord], channel: str) -> frozenset[str] | None:
    """The scopes ``channel``'s records name (a Kantor Pos file: its office), or ``None`` (every
    scope) when a record names none or there is no record to ask: a file that covers one office
    is matched against that office's journal entries only, never against its neighbours'."""
    scopes = frozenset(record.scope for record in records if record.channel == channel)
    return None if not scopes or "" in scopes else scopes


def reconcile(
    records: Iterable[SettlementRecord],
    journal_entries: Iterable[Entry],
    *,
    channel: str,
    day: dt.date,
    scopes: Collection[str] | None = None,
) -> ReconciliationReport:
    """Match a channel's settlement for WIB ``day`` against journal entries.

    ``journal_entries`` may be the whole journal: only ``pay`` entries of ``channel`` count,
    those requested on ``day`` (the request's ``requested_at`` in WIB) as the day's, and those
    of other days only when the file references them. The journal keeps one entry per
    reference; two relevant entries with one reference raise :class:`ValueError`. A record
    whose amount or fee is not integer rupiah from 0 to :data:`MAX_AMOUNT` raises
    :class:`~jamsostek_channels.errors.InvalidInput` (``records[i].amount``, ...), before any
    matching: a channel reader that let it through is refused, not summed.

    ``scopes``: the scopes the file covers (one office's file, when several offices share a
    journal); by default those its records name (see :func:`file_scopes`).
    """
    records = records if isinstance(records, list | tuple) else list(records)
    covered = file_scopes(records, channel) if scopes is None else frozenset(scopes)
    sides = (
        (entry.reference, _side(entry))
        for entry in journal_entries
        if entry.operation == _PAY
        and entry.channel == channel
        and (covered is None or entry.scope in covered)
    )
    with collector_paused():
        return _reconcile(records, sides, channel, day)


def reconcile_journal(
    records: Iterable[SettlementRecord],
    journal: JournalStore,
    *,
    channel: str,
    day: dt.date,
    scopes: Collection[str] | None = None,
) -> ReconciliationReport:
    """:func:`reconcile` against a :class:`~jamsostek_channels.journal.Journal`: its ``pay``
    entries for ``channel`` (in the file's ``scopes``, as :func:`reconcile` reads them)
    requested on WIB ``day``, plus any entry of another day the file references
    (``other_day`` when it agrees, else the category of its disagreement). Records are
    refused as :func:`reconcile` refuses them."""
    records = records if isinstance(records, list | tuple) else list(records)
    covered = file_scopes(records, channel) if scopes is None else frozenset(scopes)
    with collector_paused():
        # The typed columns only: no request is parsed here.
        sides = map(_RowSides(), journal.payments(channel, _PAY, scopes=covered))
        return _reconcile(records, sides, channel, day)


def _reconcile(
    records: Iterable[SettlementRecord],
    journal_sides: Iterable[tuple[str, _Side]],
    channel: str,
    day: dt.date,
) -> ReconciliationReport:
    records = records if isinstance(records, list | tuple) else list(records)
    problems = _amount_problems(records)
    if problems:
        raise InvalidInput(problems)

    # The file: first record per reference, repeated references and shared host references.
    first: dict[str, SettlementRecord] = {}
    repeated: set[str] = set()
    host_owner: dict[str, str] = {}
    shared_hosts: set[str] = set()
    foreign: list[SettlementRecord] = []
    for record in records:
        if record.channel != channel:
            foreign.append(record)
            continue
        reference = record.reference
        if reference in first:
            repeated.add(reference)
        else:
            first[reference] = record
        host = record.host_reference
        if host and host_owner.setdefault(host, reference) != reference:
            shared_hosts.add(host)
    duplicate_refs = set(repeated)
    if shared_hosts:
        duplicate_refs.update(
            r.reference
            for r in records
            if r.channel == channel and r.host_reference in shared_hosts
        )

    # The journal: the day's entries, and other days' entries the file references.
    today: dict[str, _Side] = {}
    elsewhere: dict[str, _Side] = {}
    for reference, side in journal_sides:
        if side.day == day:
            target = today
        elif reference in first:
            target = elsewhere
        else:
            continue
        if reference in today or reference in elsewhere:
            raise ValueError(f"two journal entries for reference {reference[:64]!r}")
        target[reference] = side

    out: dict[str, list[ReconciliationLine]] = {name: [] for name in CATEGORIES}
    matched = out["matched"]
    mismatched = out["amount_mismatch"]
    for record in foreign:
        out["missing_in_journal"].append(_line(record.reference, "channel", record, None))

    if duplicate_refs:
        for record in records:
            reference = record.reference
            if record.channel != channel or reference not in duplicate_refs:
                continue
            why = []
            if reference in repeated:
                why.append("reference")
            if record.host_reference in shared_hosts:
                why.append("host_reference")
            found = today.get(reference) or elsewhere.get(reference)
            out["duplicated"].append(_line(reference, "+".join(why), record, found))

    months = _Months()
    for reference, record in first.items():
        if reference in duplicate_refs:
            continue
        found = today.get(reference)
        other = found is None
        if found is None:
            found = elsewhere.get(reference)
            if found is None:
                out["missing_in_journal"].append(_line(reference, None, record, None))
                continue
        side = found
        state = side.state
        if (  # the common case first, cheaply
            state is _APPLIED
            and record.state is _PAID
            and not other
            and record.amount == side.amount
            and record.admin_fee == side.admin_fee
            and months(record.periods) == side.periods
            and (side.host_reference is None or side.host_reference == record.host_reference)
        ):
            matched.append(_line(reference, None, record, side))
        elif state in _OPEN:
            out["unresolved"].append(_line(reference, "in_settlement", record, side))
        elif state in _NOT_APPLIED:
            if record.state is _PAID:
                out["declined_but_settled"].append(_line(reference, None, record, side))
            else:
                mismatched.append(_line(reference, "reversed_but_not_applied", record, side))
        else:
            reasons = []
            if state is _APPLIED and record.state is _REVERSED_RECORD:
                reasons.append("reversed_in_settlement_only")
            elif state is _REVERSED and record.state is _PAID:
                reasons.append("reversed_in_journal_only")
            reasons += _differences(record, side, months)
            if reasons:
                mismatched.append(_line(reference, "+".join(reasons), record, side))
            elif other:
                out["other_day"].append(_line(reference, None, record, side))
            elif record.state is _PAID:
                matched.append(_line(reference, None, record, side))
            else:
                out["reversed"].append(_line(reference, None, record, side))

    for reference, side in today.items():
        if reference in first:
            continue
        state = side.state
        if state is _APPLIED:
            out["missing_in_settlement"].append(_line(reference, None, None, side))
        elif state is _REVERSED:
            out["missing_in_settlement"].append(_line(reference, "journal_reversed", None, side))
        elif state in _OPEN:
            out["unresolved"].append(_line(reference, "not_in_settlement", None, side))

    lines = {name: tuple(found) for name, found in out.items()}
    return ReconciliationReport(
        channel=channel,
        day=day,
        matched=lines["matched"],
        amount_mismatch=lines["amount_mismatch"],
        missing_in_journal=lines["missing_in_journal"],
        missing_in_settlement=lines["missing_in_settlement"],
        duplicated=lines["duplicated"],
        reversed=lines["reversed"],
        unresolved=lines["unresolved"],
        declined_but_settled=lines["declined_but_settled"],
        other_day=lines["other_day"],
        totals=_totals(lines, records, today, elsewhere),
    )


def _sum(pairs: Iterable[tuple[int | None, int | None]]) -> Sum:
    count = amount = fee = 0
    for a, f in pairs:
        count += 1
        amount += a or 0
        fee += f or 0
    return Sum(count, amount, fee)


def _totals(
    lines: Mapping[str, tuple[ReconciliationLine, ...]],
    records: Iterable[SettlementRecord],
    today: Mapping[str, _Side],
    elsewhere: Mapping[str, _Side],
) -> Totals:
    categories = {}
    for name, found in lines.items():
        # One journal entry per reference, even when the file repeats it (``duplicated``).
        journal = {
            line.reference: (line.journal_amount, line.journal_admin_fee)
            for line in found
            if line.journal_state is not None
        }
        categories[name] = CategoryTotal(
            len(found),
            _sum((x.file_amount, x.file_admin_fee) for x in found if x.file_state is not None),
            _sum(journal.values()),
        )
    by_state: dict[EntryState, list[tuple[int | None, int | None]]] = {s: [] for s in EntryState}
    for side in today.values():
        by_state[side.state].append((side.amount, side.admin_fee))
    return Totals(
        categories=categories,
        file_paid=_sum((r.amount, r.admin_fee) for r in records if r.state is _PAID),
        file_reversed=_sum((r.amount, r.admin_fee) for r in records if r.state is not _PAID),
        journal_applied=_sum(by_state[_APPLIED]),
        journal_reversed=_sum(by_state[_REVERSED]),
        journal_unresolved=_sum([e for state in _OPEN for e in by_state[state]]),
        journal_not_applied=_sum(by_state[EntryState.DECLINED] + by_state[EntryState.NOT_APPLIED]),
        journal_other_day=_sum((s.amount, s.admin_fee) for s in elsewhere.values()),
    )
