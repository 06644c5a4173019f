"""Kantor Pos figures: a payment end to end through ``Client`` against the sandbox on loopback,
and reconciling a 100,000-line settlement file (the XML itself) against the journal - each
beside a floor measured in the same run.

Only the library's public faces are used here (the sandbox command and its info file,
``jamsostek_channels.connect``, the channel's registered settlement reader, the shipped
XSDs): the bare client (lxml) and the settlement file (text, checked against its XSD) are
written from the XSDs and ``docs/channels/kantorpos.md``, never with the library's codec, which
is what is measured.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, cast

import requests
from lxml import etree

from bench.harness import Result, best_per_call
from bench.loopback import OUT, DurableLog, Side, fresh, sandbox, take_turns

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
KP = "urn:jamsostek-channels:kantorpos:1"
_NSMAP = {"soap": SOAP, "kp": KP}
_BODY = f"{{{SOAP}}}Body"
_ACTION = "urn:jamsostek-channels:kantorpos:1#{}"
_WIB = dt.timezone(dt.timedelta(hours=7))
#: Bump when the settlement file's writer changes, so a stale cached file is not reused.
FILE_VERSION = 2


@contextmanager
def _schema(name: str) -> Iterator[etree.XMLSchema]:
    """A shipped XSD of ``schemas/kantorpos/``, loaded from its folder (they include each
    other by relative path)."""
    folder = resources.files("jamsostek_channels.schemas").joinpath("kantorpos")
    with resources.as_file(folder) as path:
        yield etree.XMLSchema(etree.parse(str(Path(path) / name)))


def _kp(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{KP}}}{name}")
    child.text = text
    return child


# -- a payment end to end ---------------------------------------------------------------------


def _library(info: dict[str, Any]) -> Side:
    """``Client.pay`` at Kantor Pos: inquiry + payment as SOAP, journaled, a receipt."""
    from jamsostek_channels.connection import connect

    settings = info["channels"]["kantorpos"]
    # The teller taking the money: the info file's default teller.
    client = connect(
        "kantorpos",
        settings,
        journal=fresh("bench-kantorpos-e2e.sqlite"),
        agent_id=settings["teller"],
    )

    warmed = itertools.count()

    def warm(nik: str) -> None:
        client.pay(nik, months=1, reference=f"WARM-{next(warmed)}")

    def pay(tag: str, nik: str) -> None:
        client.pay(nik, months=1, reference=f"LIB-{tag}")

    return Side(warm, pay, client.close)


def _bare(info: dict[str, Any], schema: etree.XMLSchema) -> Side:
    """The floor: a careful Kantor Pos client written from the documentation with lxml alone:
    each request built as a tree, validated against ``kantorpos-envelope-1.xsd`` and
    serialised; ``POST``-ed with ``requests`` (one session) and its SOAPAction; each answer
    parsed with entities and network off, validated against the same XSD and read; and two
    durable commits: the payment before it is sent and its answer after."""
    settings = info["channels"]["kantorpos"]
    office, teller = settings["office"], settings["teller"]
    url = settings["base_url"] + "/kantorpos/v1/soap"  # the reference profile's endpoint_path
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    session = requests.Session()
    session.trust_env = False  # as the library's transport: no proxies or netrc from the env
    log = DurableLog(fresh("bench-kantorpos-e2e-bare.sqlite"))

    def message(name: str) -> tuple[etree._Element, etree._Element]:
        envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap=_NSMAP)
        body = etree.SubElement(envelope, _BODY)
        payload = etree.SubElement(body, f"{{{KP}}}{name}", version="1.0")
        _kp(payload, "office", office)
        _kp(payload, "teller", teller)
        return envelope, payload

    def call(operation: str, envelope: etree._Element, answer: str) -> etree._Element:
        schema.assertValid(envelope)  # nothing invalid is sent
        data = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        response = session.post(
            url,
            data=data,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "Accept": "text/xml",
                "SOAPAction": f'"{_ACTION.format(operation)}"',
            },
            timeout=10,
        )
        response.raise_for_status()
        tree = etree.fromstring(response.content, parser)
        schema.assertValid(tree)
        body = tree.find(_BODY)
        assert body is not None  # the XSD requires it
        payload = body[0]
        if payload.tag != f"{{{KP}}}{answer}":
            raise RuntimeError(f"{operation}: {response.text}")
        return payload

    def pay(tag: str, nik: str) -> None:
        envelope, inquiry = message("InquiryRequest")
        _kp(_kp(inquiry, "customer"), "nik", nik)
        _kp(inquiry, "months", "1")
        priced = call("inquire", envelope, "InquiryResponse")
        reference = f"BARE-{tag}"
        envelope, payment = message("PaymentRequest")
        _kp(payment, "reference", reference)
        _kp(_kp(payment, "customer"), "nik", nik)
        _kp(payment, "inquiryId", priced.findtext(f"{{{KP}}}inquiryId"))
        periods = _kp(payment, "periods")
        for period in priced.iterfind(f"{{{KP}}}bills/{{{KP}}}bill/{{{KP}}}period"):
            _kp(periods, "month", period.text)
        _kp(payment, "amount", priced.findtext(f"{{{KP}}}total"))
        _kp(payment, "adminFee", priced.findtext(f"{{{KP}}}adminFee"))
        _kp(_kp(payment, "payer"), "kind", "self")
        _kp(payment, "repeat", "false")
        _kp(payment, "requestedAt", dt.datetime.now(_WIB).isoformat())
        log.commit(f"{tag}-intent", etree.tostring(payment, encoding="unicode"))
        paid = call("pay", envelope, "PaymentResponse")
        if (
            paid.findtext(f"{{{KP}}}status") != "APPLIED"
            or paid.findtext(f"{{{KP}}}reference") != reference
        ):
            raise RuntimeError(f"payment refused: {etree.tostring(paid, encoding='unicode')}")
        log.commit(f"{tag}-outcome", etree.tostring(paid, encoding="unicode"))

    warmed = itertools.count()

    def close() -> None:
        session.close()
        log.close()

    return Side(lambda nik: pay(f"W{next(warmed)}", nik), pay, close)


def payment() -> Result:
    """A Kantor Pos payment end to end through ``Client`` beside the bare lxml client, both
    against the sandbox in another process on loopback, in turns."""
    with _schema("kantorpos-envelope-1.xsd") as schema, sandbox() as info:
        library, floor = _library(info), _bare(info, schema)
        try:
            value, floor_value = take_turns(info, library, floor)
        finally:
            library.close()
            floor.close()
    return Result(
        "Kantor Pos payment end to end (inquiry + pay + journal)",
        value,
        "bare lxml build/parse + XSD, requests, 2 durable commits",
        floor_value,
        "overhead ≤ 25% (ratio ≤ 1.25×)",
        value <= 1.25 * floor_value,
    )


# -- reconciling the day's file ---------------------------------------------------------------


def settlement_file(size: int = 100_000) -> Path:
    """The 100,000-line settlement of ``bench/reconcile.py`` as a Kantor Pos XML file, written
    as ``kantorpos-settlement-1.xsd`` defines it (and checked against it once)."""
    from bench import reconcile
    from jamsostek_channels.channel import SettlementState

    path = OUT / f"kantorpos-settlement-{size}-v{reconcile.VERSION}.{FILE_VERSION}.xml"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    records = reconcile.settlement(size)
    # Plain text, indented as the documentation's example: the values are ASCII without any
    # character XML escapes, and the XSD check below vouches for the result.
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<kp:SettlementFile xmlns:kp="{KP}" version="1.0">',
        "  <kp:office>40115</kp:office>",
        f"  <kp:businessDate>{reconcile.DAY.isoformat()}</kp:businessDate>",
        f"  <kp:generatedAt>{dt.datetime(2026, 11, 22, 23, 0, tzinfo=_WIB).isoformat()}"
        "</kp:generatedAt>",
    ]
    paid = reversed_ = paid_amount = paid_fee = reversed_amount = 0
    for record in records:
        state = "REVERSED" if record.state is SettlementState.REVERSED else "PAID"
        if state == "PAID":
            paid, paid_amount, paid_fee = (
                paid + 1,
                paid_amount + record.amount,
                paid_fee + record.admin_fee,
            )
        else:
            reversed_, reversed_amount = reversed_ + 1, reversed_amount + record.amount
        lines += [
            "  <kp:record>",
            f"    <kp:reference>{record.reference}</kp:reference>",
            f"    <kp:hostReference>{record.host_reference}</kp:hostReference>",
            "    <kp:teller>LKT01</kp:teller>",
            f"    <kp:nikMasked>{record.nik_masked}</kp:nikMasked>",
            "    <kp:periods>",
            *(f"      <kp:month>{period}</kp:month>" for period in record.periods),
            "    </kp:periods>",
            f"    <kp:amount>{record.amount}</kp:amount>",
            f"    <kp:adminFee>{record.admin_fee}</kp:adminFee>",
            f"    <kp:paidAt>{record.paid_at.isoformat()}</kp:paidAt>",
            f"    <kp:state>{state}</kp:state>",
            "  </kp:record>",
        ]
    lines += [
        "  <kp:trailer>",
        f"    <kp:recordCount>{len(records)}</kp:recordCount>",
        f"    <kp:paidCount>{paid}</kp:paidCount>",
        f"    <kp:paidAmount>{paid_amount}</kp:paidAmount>",
        f"    <kp:paidAdminFee>{paid_fee}</kp:paidAdminFee>",
        f"    <kp:reversedCount>{reversed_}</kp:reversedCount>",
        f"    <kp:reversedAmount>{reversed_amount}</kp:reversedAmount>",
        "  </kp:trailer>",
        "</kp:SettlementFile>",
        "",
    ]
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(lines), encoding="utf-8")
    with _schema("kantorpos-settlement-1.xsd") as schema:
        parser = etree.XMLParser(resolve_entities=False, huge_tree=True)
        schema.assertValid(etree.parse(str(partial), parser))
    partial.rename(path)
    return path


def _settlement_reader() -> Callable[[Path], tuple[dt.date, tuple[Any, ...]]]:
    """The reader ``jamsostek-channels reconcile --channel kantorpos`` uses for a file."""
    from jamsostek_channels import registry

    reader = registry.spec("kantorpos").settlement_reader
    assert reader is not None
    return cast("Callable[[Path], tuple[dt.date, tuple[Any, ...]]]", reader)


def reconcile_file(size: int = 100_000) -> Result:
    """``jamsostek-channels reconcile``'s work: read and check the XML file, then match it with
    the journal - beside lxml parsing the file plus a raw read of the journal's rows."""
    from bench import reconcile
    from jamsostek_channels.journal import Journal
    from jamsostek_channels.reconcile import collector_paused, reconcile_journal

    journal_path = reconcile.journal_file(size)
    path = settlement_file(size)
    read_settlement_file = _settlement_reader()
    journal = Journal(journal_path)
    try:

        def library() -> object:
            # As the reconcile command runs it: the cycle collector paused for the whole job.
            with collector_paused():
                day, records = read_settlement_file(path)
                return reconcile_journal(records, journal, channel=reconcile.CHANNEL, day=day)

        value = best_per_call(library, number=1, repeat=2)
    finally:
        journal.close()

    def floor() -> object:
        with collector_paused():
            return _floor()

    def _floor() -> object:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, huge_tree=True))
        db = sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT reference, state, request, outcome FROM entries WHERE channel = ?",
                (reconcile.CHANNEL,),
            ).fetchall()
        finally:
            db.close()
        return tree, rows

    return Result(
        f"reconcile a {size:,}-line Kantor Pos file",
        value,
        "lxml parse of the file + raw journal read",
        best_per_call(floor, number=1, repeat=2),
        "report only (ratio to floor)",
        True,
    )


def run() -> list[Result]:
    return [payment(), reconcile_file()]
