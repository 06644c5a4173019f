"""The ISO 8583 family's end-of-day settlement files (issue 12): a day of payments through the
adapter against the fake switch, the file the switch writes for that day, and
``jamsostek-channels reconcile --channel NAME FILE`` against the client's journal; then files
that disagree with the journal, hostile files, a writer/reader round trip, and the samples in
``docs/channels/iso8583.md`` (byte for byte what the fake writes).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from iso8583_kit import AGENT
from test_client import NIK, NOW, Clock, seed

from jamsostek_channels import registry
from jamsostek_channels.adapters.iso8583.fake import FakeSwitch
from jamsostek_channels.adapters.iso8583.profile import load_profile
from jamsostek_channels.adapters.iso8583.settlement import (
    COLUMNS,
    HEADER_COLUMNS,
    RECORD_LENGTH,
    TRAILER_COLUMNS,
    CustomerForm,
    Layout,
    SettlementFile,
    SettlementFileInvalid,
    SettlementFormat,
    SettlementLine,
    decode_settlement,
    encode_settlement,
    read_settlement,
    read_settlement_file,
)
from jamsostek_channels.channel import SettlementState
from jamsostek_channels.cli.main import main
from jamsostek_channels.client import Client
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.period import YearMonth
from jamsostek_channels.redact import customer as masked
from jamsostek_channels.testing.host import FakeHost

PROFILES = ("brilink", "indomaret", "alfamart")
DAY = NOW.date()
DOC = Path(__file__).parent.parent / "docs" / "channels" / "iso8583.md"


@pytest.fixture
def host(clock: Clock) -> FakeHost:
    fake = FakeHost(clock=clock, seed=7)
    for serial in (1, 2, 3, 4):
        seed(fake, serial)  # each owes October and November
    return fake


def nik(serial: int) -> str:
    return f"320101550895{serial:04d}"


def pay_a_day(client: Client, clock: Clock) -> None:
    """Four payments a few minutes apart (one of three months), the third reversed."""
    for serial, months in ((1, 1), (2, 3), (3, 1), (4, 1)):
        client.pay(nik(serial), months=months, reference=f"SETL-{serial:04d}")
        clock.advance(minutes=7)
    client.reverse("SETL-0003")


def reconcile(
    capsys: pytest.CaptureFixture[str], name: str, journal: Path, file: Path
) -> tuple[int, dict[str, Any]]:
    code = main(["reconcile", "--channel", name, "--journal", str(journal), str(file), "--json"])
    return int(code), json.loads(capsys.readouterr().out)


def references(report: dict[str, Any], category: str) -> list[tuple[str, str | None]]:
    return [(line["reference"], line["reason"]) for line in report["categories"][category]]


# A day through the adapter, reconciled -------------------------------------------------------


@pytest.mark.parametrize("name", PROFILES)
def test_the_fakes_file_reconciles_clean_against_the_journal(
    name: str, switches: Callable[[str], FakeSwitch], clients: Callable[[FakeSwitch], Client],
    clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    switch = switches(name)
    client = clients(switch)
    pay_a_day(client, clock)
    file = tmp_path / switch.profile.settlement.name_for(DAY)
    file.write_bytes(switch.settlement_file(DAY))

    code, report = reconcile(capsys, name, tmp_path / f"{name}.sqlite", file)

    assert (code, report["balanced"], report["day"]) == (0, True, DAY.isoformat())
    assert references(report, "matched") == [("SETL-0001", None), ("SETL-0002", None),
                                             ("SETL-0004", None)]  # fmt: skip
    assert references(report, "reversed") == [("SETL-0003", None)]
    day, records = registry.spec(name).settlement_reader(file)  # type: ignore[misc]
    assert day == DAY
    assert [r.periods for r in records][1] == (
        YearMonth(2026, 10),
        YearMonth(2026, 11),
        YearMonth(2026, 12),
    )
    assert all("*" in r.nik_masked for r in records)  # even from a file with whole NIKs


@pytest.mark.parametrize("name", PROFILES)
def test_reconcile_reports_what_the_file_and_journal_disagree_on(
    name: str, switches: Callable[[str], FakeSwitch], clients: Callable[[FakeSwitch], Client],
    clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    switch = switches(name)
    pay_a_day(clients(switch), clock)
    fmt = switch.profile.settlement
    day = switch.settlement(DAY)
    first, second, third, fourth = day.lines
    unknown = attrs.evolve(first, reference="SETL-9999", host_reference="BPJS999999999999")
    edited = attrs.evolve(
        day,
        lines=(
            attrs.evolve(first, amount=first.amount + 1000),  # wrong amount
            attrs.evolve(third, state=SettlementState.PAID),  # reversed in the journal only
            fourth,
            unknown,  # the journal lacks it
        ),  # the second is missing from the file
    )
    file = tmp_path / "edited.txt"
    file.write_bytes(encode_settlement(edited, fmt))

    code, report = reconcile(capsys, name, tmp_path / f"{name}.sqlite", file)

    assert (code, report["balanced"]) == (1, False)
    assert references(report, "matched") == [("SETL-0004", None)]
    assert references(report, "amount_mismatch") == [
        ("SETL-0001", "amount"),
        ("SETL-0003", "reversed_in_journal_only"),
    ]
    assert references(report, "missing_in_settlement") == [("SETL-0002", None)]
    assert references(report, "missing_in_journal") == [("SETL-9999", None)]
    assert second.reference == "SETL-0002"


def test_brilink_lists_a_payment_after_its_cut_off_in_the_next_days_file(
    switches: Callable[[str], FakeSwitch], clients: Callable[[FakeSwitch], Client],
    clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    switch = switches("brilink")
    client = clients(switch)
    clock.now = NOW.replace(hour=22, minute=59, second=30)
    client.pay(nik(1), months=1, reference="LATE-2259")
    clock.now = NOW.replace(hour=23, minute=30)  # the bank's day closed at 23:00
    client.pay(nik(2), months=1, reference="LATE-2330")
    tomorrow = DAY + dt.timedelta(days=1)

    assert [line.reference for line in switch.settlement(DAY).lines] == ["LATE-2259"]
    assert [line.reference for line in switch.settlement(tomorrow).lines] == ["LATE-2330"]
    file = tmp_path / "tomorrow.txt"
    file.write_bytes(switch.settlement_file(tomorrow))
    code, report = reconcile(capsys, "brilink", tmp_path / "brilink.sqlite", file)
    assert (code, references(report, "matched")) == (0, [("LATE-2330", None)])


def test_the_file_carries_the_wire_facts_of_the_message_that_applied_it(
    switches: Callable[[str], FakeSwitch], clients: Callable[[FakeSwitch], Client],
    clock: Clock,
) -> None:  # fmt: skip
    switch = switches("brilink")
    client = clients(switch)
    switch.faults.inject("drop", match="SETL-DROP")  # the 0200 applies, its answer is lost
    client.pay(NIK, months=1, reference="SETL-DROP")  # completed by advice

    (line,) = switch.settlement(DAY).lines
    assert (line.mti, line.terminal, line.agent) == ("0200", "BRI00001", AGENT)
    assert (line.terminal, line.stan) in switch.stans
    assert line.customer == masked(NIK)
    assert line.state is SettlementState.PAID
    text = switch.settlement_file(DAY).decode("ascii")
    assert NIK not in text
    assert all(len(row) == RECORD_LENGTH for row in text.split("\r\n")[:-1])


# Hostile files -------------------------------------------------------------------------------

FIXED = load_profile("brilink").settlement
PIPES = load_profile("indomaret").settlement


def line(serial: int, **changes: Any) -> SettlementLine:
    values: dict[str, Any] = {
        "paid_at": dt.datetime(2026, 11, 22, 9, 0, serial % 60, tzinfo=JAKARTA),
        "mti": "0200",
        "rrn": f"{serial:012X}",
        "stan": serial % 1_000_000,
        "terminal": "BRI00001",
        "agent": AGENT,
        "reference": f"REF-{serial:08d}",
        "customer": "3201********0001",
        "first_period": YearMonth(2026, 10),
        "months": 1,
        "amount": 18_150,
        "admin_fee": 3_000,
        "host_reference": f"BPJS{serial:012d}",
        "state": SettlementState.PAID,
    }
    return SettlementLine(**{**values, **changes})


def a_file(count: int = 3, channel: str = "brilink") -> SettlementFile:
    lines = tuple(line(n) for n in range(1, count + 1))
    return SettlementFile(DAY, channel, "002", "BPU001", lines)


def refused(data: bytes, fmt: SettlementFormat = FIXED) -> SettlementFileInvalid:
    with pytest.raises(SettlementFileInvalid) as error:
        decode_settlement(data, fmt)
    return error.value


def test_a_file_that_ends_too_soon_is_refused_naming_the_line() -> None:
    data = encode_settlement(a_file(), FIXED)
    rows = data.split(b"\r\n")
    assert refused(b"\r\n".join(rows[:4]) + b"\r\n").line == 5  # no trailer
    cut = refused(data[: len(rows[0]) + 2 + 100])  # half a detail record
    assert (cut.line, cut.code) == (2, "settlement.invalid")
    assert "208" in cut.message_en
    assert "baris 2" in cut.message_id
    assert refused(b"").line == 1


@pytest.mark.parametrize(
    ("fmt", "column", "value", "reason"),
    [
        (FIXED, 1, b"00000004", "record_count is 4"),
        (FIXED, 3, b"000000000058450", "paid_amount is 58450"),
        (PIPES, 2, b"2", "paid_count is 2"),
        (PIPES, 6, b"1", "reversed_amount is 1"),
    ],
)
def test_a_trailer_that_disagrees_with_the_records_is_refused(
    fmt: SettlementFormat, column: int, value: bytes, reason: str
) -> None:
    data = encode_settlement(a_file(), fmt)
    rows = data.splitlines(keepends=True)
    trailer = rows[-1].rstrip(b"\r\n")
    if fmt.layout is Layout.FIXED:
        offsets = [1, 9, 17, 32, 47, 55, 70, 85]
        start = offsets[column - 1]
        trailer = trailer[:start] + value + trailer[start + len(value) :]
    else:
        cells = trailer.split(b"|")
        cells[column] = value
        trailer = b"|".join(cells)
    error = refused(b"".join(rows[:-1]) + trailer + b"\n", fmt)
    assert error.line == 5
    assert reason in error.message_en


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b"|18150|", b"|18.150|", "amount is not a number"),
        (b"|18150|", b"|-18150|", "amount is not a number"),
        (b"|20261122090002|", b"|20261122250002|", "paid_at is not a time"),
        (b"|202610|", b"|202613|", "first_period is not a month"),
        (b"|P\n", b"|X\n", "state is P (paid) or R"),
        (b"|0200|", b"|0210|", "mti is 0200 or 0220"),
        (b"D|2|", b"D|5|", "sequence is 5, expected 2"),
        (b"|BRI00001|", b"|BRI|00001|", "has 16 columns, this one 17"),
        (b"|BRI00001|", "|BRÍ00001|".encode(), "not ASCII"),
    ],
)
def test_a_bad_detail_record_is_refused_naming_its_line(
    old: bytes, new: bytes, reason: str
) -> None:
    data = encode_settlement(a_file(), PIPES)
    rows = data.splitlines(keepends=True)
    assert old in rows[2]
    rows[2] = rows[2].replace(old, new, 1)
    error = refused(b"".join(rows), PIPES)
    assert error.line == 3
    assert reason in error.message_en
    assert error.field == "file:3"


def test_a_bad_header_and_records_after_the_trailer_are_refused() -> None:
    data = encode_settlement(a_file(), PIPES)
    assert refused(data.replace(b"H|20261122|", b"H|20261131|", 1), PIPES).line == 1
    assert "business_date" in refused(data.replace(b"H|20261122|", b"H|2026112|"), PIPES).message_en
    assert refused(data + data.splitlines(keepends=True)[1], PIPES).line == 6
    assert refused(data.replace(b"H|", b"X|", 1), PIPES).line == 1
    assert refused(data.replace(b"\nD", b"\nQ", 1), PIPES).line == 2


def test_the_cli_refuses_a_bad_file_with_its_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "bad.txt"
    file.write_bytes(encode_settlement(a_file(), FIXED)[:-120])
    journal = tmp_path / "journal.sqlite"  # the file is read first: no journal needed
    code = main(["reconcile", "--channel", "brilink", "--journal", str(journal), str(file)])
    err = capsys.readouterr().err
    assert code == 2
    assert "[settlement.invalid] file:5" in err
    assert "Traceback" not in err
    other = tmp_path / "alfamart.txt"
    other.write_bytes(encode_settlement(a_file(channel="alfamart"), FIXED))
    with pytest.raises(SettlementFileInvalid, match="names channel 'alfamart'"):
        read_settlement_file(other, load_profile("brilink"))


def test_a_huge_line_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    file = tmp_path / "long.txt"
    file.write_bytes(b"H" + b"9" * 50_000_000 + b"\n")
    started = time.perf_counter()
    with pytest.raises(SettlementFileInvalid, match="longer than 1024 bytes"):
        read_settlement_file(file, load_profile("brilink"))
    assert time.perf_counter() - started < 1


def many_records(count: int, fmt: SettlementFormat) -> bytes:
    """A file of ``count`` records like ``line(1)`` but for sequence, reference and host
    reference, built from the writer's own rows (building ``count`` lines to encode them would
    take longer than reading them)."""
    header, row, _ = encode_settlement(a_file(1), fmt).decode("ascii").splitlines()
    end = fmt.end_of_line
    paid = (count, count, 18_150 * count, 3_000 * count, 0, 0, 0)
    if fmt.layout is Layout.FIXED:
        rows = (
            f"D{n:06d}{row[7:75]}{f'REF-{n:08d}':<64}{row[139:187]}{f'BPJS{n:012d}':<20}P"
            for n in range(1, count + 1)
        )
        widths = (8, 8, 15, 15, 8, 15, 15)
        trailer = "T" + "".join(f"{v:0{w}d}" for v, w in zip(paid, widths, strict=True))
        trailer = trailer.ljust(RECORD_LENGTH)
    else:
        cells = row.split(fmt.delimiter)
        rows = (
            fmt.delimiter.join(
                ["D", str(n), *cells[2:8], f"REF-{n:08d}", *cells[9:14], f"BPJS{n:012d}", "P"]
            )
            for n in range(1, count + 1)
        )
        trailer = fmt.delimiter.join(["T", *map(str, paid)])
    return end.join([header, *rows, trailer, ""]).encode("ascii")


@pytest.mark.parametrize("fmt", [FIXED, PIPES], ids=["fixed", "delimited"])
def test_a_hundred_thousand_records_read_fast_and_a_line_at_a_time(
    fmt: SettlementFormat, tmp_path: Path
) -> None:
    data = many_records(100_000, fmt)
    file = tmp_path / "big.txt"
    file.write_bytes(data)
    profile = attrs.evolve(load_profile("brilink"), settlement=fmt)

    started = time.perf_counter()
    day, records = read_settlement_file(file, profile)
    elapsed = time.perf_counter() - started

    assert (day, len(records), records[-1].reference) == (DAY, 100_000, "REF-00100000")
    assert elapsed < 10, elapsed  # about a second on an idle machine

    consumed = []

    def rows() -> Iterator[bytes]:  # the reader stops at the first bad line
        for number, row in enumerate(data.splitlines(keepends=True), 1):
            consumed.append(number)
            yield b"garbage\n" if number == 3 else row

    with pytest.raises(SettlementFileInvalid):
        read_settlement(rows(), fmt)
    assert consumed == [1, 2, 3]


def test_more_records_than_the_format_allows_are_refused() -> None:
    fmt = attrs.evolve(PIPES, max_records=2)
    assert "more than 2 records" in refused(encode_settlement(a_file(), PIPES), fmt).message_en


def test_the_writer_refuses_what_its_columns_cannot_carry() -> None:
    too_long = attrs.evolve(a_file(), lines=(line(1, terminal="T" * 17),))
    with pytest.raises(SettlementFileInvalid, match="terminal is longer"):
        encode_settlement(too_long, FIXED)
    piped = attrs.evolve(a_file(), lines=(line(1, agent="A|B"),))
    with pytest.raises(SettlementFileInvalid, match="agent holds a character"):
        encode_settlement(piped, PIPES)


def test_a_profile_refuses_a_bad_settlement_section() -> None:
    with pytest.raises(ValueError, match="unknown keys: width"):
        SettlementFormat.from_mapping({"width": 200})
    with pytest.raises(ValueError, match="delimiter"):
        SettlementFormat(delimiter=",")
    with pytest.raises(ValueError, match="'xml' is not a valid Layout"):
        SettlementFormat.from_mapping({"layout": "xml"})


# Round trip ------------------------------------------------------------------------------------

_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="|;"))


def _fits(width: int, *, blank: bool = True) -> st.SearchStrategy[str]:
    return (
        _TEXT.filter(lambda t: t == t.strip())
        .map(lambda t: t[:width])
        .filter(lambda t: blank or t != "")
    )


_lines = st.builds(
    SettlementLine,
    paid_at=st.datetimes(
        min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)
    ).map(lambda t: t.replace(microsecond=0, tzinfo=JAKARTA)),
    mti=st.sampled_from(["0200", "0220"]),
    rrn=_fits(12),
    stan=st.integers(0, 999_999),
    terminal=_fits(16),
    agent=_fits(16),
    reference=_fits(64, blank=False),
    customer=_fits(16),
    first_period=st.builds(YearMonth, st.integers(1900, 9999), st.integers(1, 12)),
    months=st.integers(1, 99),
    amount=st.integers(0, 999_999_999_999),
    admin_fee=st.integers(0, 999_999_999_999),
    host_reference=_fits(20, blank=False),
    state=st.sampled_from(SettlementState),
).filter(lambda x: x.first_period.index + x.months <= YearMonth(9999, 12).index + 1)

_formats = st.builds(
    SettlementFormat,
    layout=st.sampled_from(Layout),
    delimiter=st.sampled_from(["|", ";"]),
    line_ending=st.sampled_from(["crlf", "lf"]),
    customer=st.sampled_from(CustomerForm),
)


@given(
    lines=st.lists(_lines, max_size=8).map(tuple),
    fmt=_formats,
    channel=_fits(10),
    acquirer=st.from_regex(r"[0-9]{1,11}", fullmatch=True),
    product=_fits(6),
    day=st.dates(dt.date(1900, 1, 1), dt.date(9999, 12, 31)),
)
def test_what_the_writer_writes_the_reader_reads_back(
    lines: tuple[SettlementLine, ...], fmt: SettlementFormat, channel: str, acquirer: str,
    product: str, day: dt.date,
) -> None:  # fmt: skip
    settlement = SettlementFile(day, channel, acquirer, product, lines)
    back = decode_settlement(encode_settlement(settlement, fmt), fmt)
    if fmt.customer is CustomerForm.FULL:  # read masked: a record never holds a whole NIK
        lines = tuple(attrs.evolve(x, customer=masked(x.customer)) for x in lines)
    assert back == attrs.evolve(settlement, lines=lines)
    assert back.trailer == settlement.trailer


# The samples in docs/channels/iso8583.md ------------------------------------------------------


def doc_sample(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- settlement-sample: {name} -->\n```text\n(.*?)```", text, flags=re.DOTALL
    )
    assert match is not None, f"no settlement sample for {name} in {DOC.name}"
    return match[1]


@pytest.mark.parametrize("name", ["brilink", "indomaret"])
def test_the_docs_sample_is_what_the_fake_writes_for_that_day(
    name: str, switches: Callable[[str], FakeSwitch], clients: Callable[[FakeSwitch], Client],
    clock: Clock,
) -> None:  # fmt: skip
    switch = switches(name)
    pay_a_day(clients(switch), clock)
    ending = "\r\n" if switch.profile.settlement.line_ending == "crlf" else "\n"
    assert switch.settlement_file(DAY) == doc_sample(name).replace("\n", ending).encode("ascii")


def test_the_docs_layout_tables_are_the_modules_columns() -> None:
    section = DOC.read_text(encoding="utf-8").split("## Settlement", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| *(\d+) \| *(\d+) \| ([AFN]) \|", section, flags=re.MULTILINE)
    documented = [(int(pos), int(width), kind) for pos, width, kind in rows]
    expected = []
    for columns in (HEADER_COLUMNS, COLUMNS, TRAILER_COLUMNS):
        position = 1
        for _, width, kind in columns:
            expected.append((position, width, kind))
            position += width
    assert documented == expected
