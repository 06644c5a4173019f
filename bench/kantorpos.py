"""Kantor Pos figures: a payment message through the hardened XML codec, and reconciling a
100,000-line settlement file (the XML itself) against the journal - beside floors measured in
the same run."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from lxml import etree

from bench.harness import Result, best_per_call

OUT = Path(__file__).parent / "out"


def payment_codec() -> Result:
    """Decode (byte checks, hardened parse, XSD validation by libxml2, typed reading) + encode
    (an lxml tree, serialised, parsed again and validated by libxml2) of a payment request,
    beside raw lxml parse + XSD validate + serialise of the same bytes."""
    from jamsostek_channels.adapters.kantorpos import codec, xmlsafe
    from jamsostek_channels.adapters.kantorpos.examples import example_documents

    document = example_documents()["payment.request"]
    schema = xmlsafe.load_schema("kantorpos-envelope-1.xsd")
    parser = etree.XMLParser(resolve_entities=False, no_network=True)

    def library() -> object:
        message = codec.decode_payment_request(document)
        return codec.encode_payment_request(message)

    def floor() -> object:
        tree = etree.fromstring(document, parser)
        schema.assertValid(tree)
        return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")

    value = best_per_call(library, number=2000)
    floor_value = best_per_call(floor, number=2000)
    return Result(
        "Kantor Pos payment decode+validate+encode",
        value,
        "raw lxml parse + XSD validate + serialise",
        floor_value,
        "≤ 2× floor",
        value <= 2 * floor_value,
    )


def settlement_file(size: int = 100_000) -> Path:
    """The 100,000-line settlement of ``bench/reconcile.py`` written as a Kantor Pos XML file."""
    from bench import reconcile
    from jamsostek_channels.adapters.kantorpos.settlement import encode_settlement_file
    from jamsostek_channels.testing.kantorpos_gateway import settlement_file_for

    path = OUT / f"kantorpos-settlement-{size}-v{reconcile.VERSION}.xml"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        records = reconcile.settlement(size)
        document = encode_settlement_file(
            settlement_file_for(
                records,
                office="40115",
                business_date=reconcile.DAY,
                generated_at=dt.datetime(2026, 11, 22, 23, 0, tzinfo=reconcile.WIB),
            )
        )
        path.write_bytes(document)
    return path


def reconcile_file(size: int = 100_000) -> Result:
    """``jamsostek-channels reconcile``'s work: read and check the XML file, then match it with
    the journal - beside lxml parsing the file plus a raw read of the journal's rows."""
    from bench import reconcile
    from jamsostek_channels.adapters.kantorpos.settlement import read_settlement_file
    from jamsostek_channels.journal import Journal
    from jamsostek_channels.reconcile import collector_paused, reconcile_journal

    journal_path = reconcile.journal_file(size)
    path = settlement_file(size)
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
        "≤ 3 s",
        value <= 3.0,
    )


def run() -> list[Result]:
    return [payment_codec(), reconcile_file()]
