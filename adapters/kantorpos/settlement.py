"""The Kantor Pos daily settlement file (``kantorpos-settlement-1.xsd``): one office's business
day, a plain XML document the adapter fetches over HTTPS and ``jamsostek-channels reconcile
--channel kantorpos FILE`` reads from disk.

A file goes through the same hardened reader as every message (:mod:`.xmlsafe`: no DOCTYPE,
bounded depth, UTF-8 only) with the settlement size limit, is validated by libxml2 against the
XSD and has its trailer checked against its records: a file that disagrees with itself is
refused whole, never used in part. Written files are built with plain lxml, their trailer
computed from the records, and validated the same way before they are returned.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final

from lxml import etree

from jamsostek_channels.adapters.kantorpos import xmlsafe
from jamsostek_channels.adapters.kantorpos.mapping import settlement_records_from
from jamsostek_channels.adapters.kantorpos.profile import KantorPosProfile, default_profile
from jamsostek_channels.adapters.kantorpos.types import (
    PosSettlementFile,
    PosSettlementRecord,
    PosSettlementTrailer,
    SettlementStatus,
)
from jamsostek_channels.adapters.kantorpos.wire import (
    NSMAP,
    SETTLEMENT_LIMITS,
    SETTLEMENT_SCHEMA,
    VERSION,
    Children,
    Limits,
    add_date,
    add_enum,
    add_group,
    add_instant,
    add_int,
    add_items,
    add_month,
    add_text,
    display_name,
    qname,
    read_date,
    read_enum,
    read_instant,
    read_int,
    read_text,
    validated_bytes,
)
from jamsostek_channels.adapters.kantorpos.xmlsafe import malformed
from jamsostek_channels.channel import SettlementRecord
from jamsostek_channels.period import YearMonth

__all__ = [
    "decode_settlement_file",
    "encode_settlement_file",
    "read_settlement",
    "read_settlement_file",
]

#: The trailer's elements and the :class:`PosSettlementTrailer` attributes they carry.
_TRAILER_FIELDS: Final = (
    ("recordCount", "record_count"),
    ("paidCount", "paid_count"),
    ("paidAmount", "paid_amount"),
    ("paidAdminFee", "paid_admin_fee"),
    ("reversedCount", "reversed_count"),
    ("reversedAmount", "reversed_amount"),
)
_state = read_enum(SettlementStatus)


def _check_record(record: PosSettlementRecord) -> None:
    # A rule the XSD cannot say, checked when writing and when reading.
    if record.state is SettlementStatus.PAID and record.reversed_at is not None:
        raise malformed("a PAID settlement record has no reversedAt", field="record/reversedAt")


def encode_settlement_file(settlement: PosSettlementFile) -> bytes:
    """The day's settlement file (trailer computed from the records), validated by libxml2."""
    if not isinstance(settlement, PosSettlementFile):
        raise malformed("not a PosSettlementFile")
    root = etree.Element(qname("SettlementFile"), nsmap=NSMAP)
    root.set("version", VERSION)
    add_text(root, "office", settlement.office)
    add_date(root, "businessDate", settlement.business_date)
    add_instant(root, "generatedAt", settlement.generated_at)
    for record in add_items(root, "record", settlement.records, PosSettlementRecord):
        _check_record(record)
        element = etree.SubElement(root, qname("record"))
        add_text(element, "reference", record.reference)
        add_text(element, "hostReference", record.host_reference)
        add_text(element, "teller", record.teller, optional=True)
        add_text(element, "nikMasked", record.nik_masked)
        periods = etree.SubElement(element, qname("periods"))
        for month in add_items(element, "periods", record.periods, YearMonth):
            add_month(periods, "month", month)
        add_int(element, "amount", record.amount)
        add_int(element, "adminFee", record.admin_fee)
        add_instant(element, "paidAt", record.paid_at)
        add_enum(element, "state", record.state, SettlementStatus)
        add_instant(element, "reversedAt", record.reversed_at, optional=True)
    summary = settlement.trailer
    trailer = add_group(root, "trailer", summary, PosSettlementTrailer)
    for wire, attribute in _TRAILER_FIELDS:
        add_int(trailer, wire, getattr(summary, attribute))
    return validated_bytes(root, SETTLEMENT_SCHEMA)


def _read_record(element: etree._Element) -> PosSettlementRecord:
    fields = Children(element)
    record = PosSettlementRecord(
        reference=fields.value("reference", read_text),
        host_reference=fields.value("hostReference", read_text),
        nik_masked=fields.value("nikMasked", read_text),
        periods=fields.months("periods"),
        amount=fields.value("amount", read_int),
        admin_fee=fields.value("adminFee", read_int),
        paid_at=fields.value("paidAt", read_instant),
        state=fields.value("state", _state),
        teller=fields.maybe("teller", read_text),
        reversed_at=fields.maybe("reversedAt", read_instant),
    )
    _check_record(record)
    return record


def decode_settlement_file(data: bytes, *, limits: Limits = SETTLEMENT_LIMITS) -> PosSettlementFile:
    """The day's settlement file, validated, with its trailer checked against its records
    (count, paid and reversed totals): a file that disagrees with itself is refused whole."""
    schema = xmlsafe.load_schema(SETTLEMENT_SCHEMA)
    root, valid = xmlsafe.parse_valid(
        data, schema, max_bytes=limits.max_bytes, max_depth=limits.max_depth
    )
    if root.tag != qname("SettlementFile"):  # the types' global elements are valid roots too
        name = display_name(root)
        raise malformed(f"expected SettlementFile, not {name}", field=name)
    if not valid:
        xmlsafe.validate(root, schema)  # raises libxml2's first error, worded
    fields = Children(root)
    settlement = PosSettlementFile(
        office=fields.value("office", read_text),
        business_date=fields.value("businessDate", read_date),
        generated_at=fields.value("generatedAt", read_instant),
        records=tuple(_read_record(record) for record in root.iterchildren(qname("record"))),
    )
    trailer = fields.group("trailer")
    computed = settlement.trailer
    for wire, attribute in _TRAILER_FIELDS:
        if trailer.value(wire, read_int) != getattr(computed, attribute):
            raise malformed(
                f"the trailer's {wire} disagrees with the records", field=f"trailer/{wire}"
            )
    return settlement


def read_settlement(
    data: bytes, *, limits: Limits = SETTLEMENT_LIMITS, channel: str = "kantorpos"
) -> tuple[str, dt.date, tuple[SettlementRecord, ...]]:
    """``(office, business date, records)`` of a settlement file, as the library's
    reconciliation reads them: :func:`decode_settlement_file` (the same checks and refusals),
    then :func:`~.mapping.settlement_records_from`. What the adapter reads a fetched file with."""
    settlement = decode_settlement_file(data, limits=limits)
    records = settlement_records_from(settlement, channel=channel)
    return settlement.office, settlement.business_date, records


def read_settlement_file(
    path: Path, *, profile: KantorPosProfile | None = None
) -> tuple[dt.date, tuple[SettlementRecord, ...]]:
    """``(business date, records)`` of the settlement file at ``path``.

    Raises :class:`~jamsostek_channels.errors.MalformedMessage` (``message.too_large`` above the
    profile's ``settlement_max_bytes``, else ``message.malformed`` with the reason) and
    ``OSError`` when the file cannot be read. Never reads more than the limit plus one byte.
    """
    limits = (profile or default_profile()).settlement_limits
    with Path(path).open("rb") as handle:
        data = handle.read(limits.max_bytes + 1)
    name = profile.name if profile is not None else "kantorpos"
    _, business_date, records = read_settlement(data, limits=limits, channel=name)
    return business_date, records
