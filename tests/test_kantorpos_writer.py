"""The compiled Kantor Pos writer held to libxml2 and lxml.

``messages.encode`` no longer asks libxml2 about every message: each value is checked by the
per-type checks :mod:`~jamsostek_channels.adapters.kantorpos.xsdrules` compiles from the
shipped XSDs, and the structure by libxml2 once per message shape. These tests hold that
design to its promises:

* the XSD regular expressions are translated with XSD's semantics, not Python's;
* every compiled type check says what libxml2 says, on hostile and near-valid texts;
* with the shape cache forced to "seen", the value checks alone never let an invalid message
  out (so the fast path is sound), and wrong Python types are refused naming the element;
* the text writer produces byte for byte what lxml's pretty printer would;
* the positional payment-request reader reads every optional combination and any namespace
  spelling;
* every valid document is under ``xmlsafe.MAX_DEPTH``, so ``parse_valid`` may skip the depth
  search for valid documents;
* the compiler refuses the XSD constructs it does not translate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from jamsostek_channels.adapters.kantorpos import examples, soap, xmlsafe, xsdrules
from jamsostek_channels.adapters.kantorpos import messages as kp
from jamsostek_channels.adapters.kantorpos.xmltext import format_instant
from jamsostek_channels.channel import CustomerId, CustomerIdKind
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import MalformedMessage
from jamsostek_channels.model import CoverageState, Payer, PayerKind, Program, Sex
from jamsostek_channels.period import YearMonth

KP = kp.NAMESPACE
XS = "http://www.w3.org/2001/XMLSchema"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
MESSAGES = examples.example_messages()
DOCUMENTS = examples.example_documents()


def sample(name: str) -> Any:
    """One example message (typed loosely: each test knows which type it picked)."""
    return MESSAGES[name]


#: The characters XSD treats specially or Python treats differently: XSD's four spaces,
#: Unicode spaces XSD's \s does not cover, pattern metacharacters, XML's special characters,
#: a non-ASCII digit (Python's isdigit and \d accept it) and non-ASCII letters.
EDGE_CHARS = "0159AZaz \t\n\r\xa0\u2003-+._*@:TZ&<>\"'٣éß\u2028\U0001f600"
#: XML 1.0's Char production: what lxml lets us put in a text at all.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_legal(text: str) -> bool:
    return _XML_ILLEGAL.search(text) is None


edge_texts = st.text(
    st.sampled_from(EDGE_CHARS) | st.characters(exclude_categories=["Cs"]), max_size=24
)


def insert_char(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid text with one edge character inserted somewhere: near-valid by construction."""
    return st.tuples(valid, st.integers(0, 80), st.sampled_from(EDGE_CHARS)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
    )


# -- 1. translate_pattern: XSD's regular expressions, not Python's -----------------------------


@functools.cache
def libxml2_pattern(pattern: str) -> etree.XMLSchema:
    """A one-element schema whose string type has ``pattern``: libxml2's own regex engine,
    to confirm the expectations below are XSD's and not just what we believe XSD says."""
    schema = etree.fromstring(
        f'<xs:schema xmlns:xs="{XS}" targetNamespace="urn:probe" elementFormDefault="qualified">'
        '<xs:element name="p"><xs:simpleType><xs:restriction base="xs:string">'
        '<xs:pattern value=""/></xs:restriction></xs:simpleType></xs:element></xs:schema>'
    )
    facet = schema.find(f".//{{{XS}}}pattern")
    assert facet is not None
    facet.set("value", pattern)  # lxml escapes the attribute value
    return etree.XMLSchema(schema)


def libxml2_matches(pattern: str, text: str) -> bool:
    element = etree.Element("{urn:probe}p")
    element.text = text
    return bool(libxml2_pattern(pattern).validate(element))


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        # \s is exactly four characters; every other Unicode space is \S.
        (r"\s", " ", True),
        (r"\s", "\t", True),
        (r"\s", "\n", True),
        (r"\s", "\r", True),
        (r"\s", "\xa0", False),
        (r"\s", "\u2003", False),
        (r"\s", "\u2028", False),
        (r"\s", "\x85", False),
        (r"\S", "\xa0", True),
        (r"\S", "\u2003", True),
        (r"\S", "\u2028", True),
        (r"\S", "\x85", True),
        (r"\S", "\x0b", True),  # Python's \s has VT, FF and \x1c-\x1f; XSD's does not
        (r"\S", "\x0c", True),
        (r"\S", "\x1f", True),
        (r"\S", " ", False),
        (r"\S", "\t", False),
        (r"\S", "\n", False),
        (r"\S", "\r", False),
        (r"\S+( \S+)*", "a\xa0b", True),
        (r"\S+( \S+)*", "a\u2003b", True),
        (r"\S+( \S+)*", "a  b", False),
        (r"\S+( \S+)*", "a\tb", False),
        # . excludes both line ends (Python's only \n).
        (".", "\n", False),
        (".", "\r", False),
        (".", "\xa0", True),
        (".", "\u2028", True),
        ("a.c", "a\rc", False),
        # ^ and $ are ordinary characters.
        ("^a$", "^a$", True),
        ("^a$", "a", False),
        ("a$", "a", False),
        ("[$^]", "$", True),
        # Implicit anchoring, around alternatives too.
        ("ab", "ab", True),
        ("ab", "abc", False),
        ("ab", "xab", False),
        ("a|bc", "bc", True),
        ("a|bc", "abc", False),
        ("a|b", "ab", False),
        # A negated class with \s inside.
        (r"[^@\s]+", "ab", True),
        (r"[^@\s]+", "a@b", False),
        (r"[^@\s]+", "a b", False),
        (r"[^@\s]+", "a\tb", False),
        (r"[^@\s]+", "a\rb", False),
        (r"[^@\s]+", "a\xa0b", True),
        (r"[^@\s]+", "a\u2003b", True),
        # Single-character escapes mean the character, in and out of brackets.
        (r"a\-b", "a-b", True),
        (r"\*{2}", "**", True),
        (r"\*{2}", "*", False),
        (r"\+1", "+1", True),
        (r"\+1", "1", False),
        (r"a\.b", "a.b", True),
        (r"a\.b", "axb", False),
        (r"[a\-z]", "-", True),
        (r"[a\-z]", "b", False),
        (r"[+\-]", "-", True),
        (r"[+\-]", ",", False),  # a range + to - would hold the comma
        (r"[0-9*]{4}", "12**", True),
        (r"[0-9]{2}", "٣٣", False),  # [0-9] is ASCII in both
    ],
)
def test_translate_pattern_has_xsd_semantics(pattern: str, text: str, matches: bool) -> None:
    translated = xsdrules.translate_pattern(pattern)
    assert (translated.fullmatch(text) is not None) is matches
    if xml_legal(text):  # libxml2 agrees with the expectation (it cannot see the others)
        assert libxml2_matches(pattern, text) is matches


@pytest.mark.parametrize(
    "pattern",
    [
        r"\p{L}+",
        r"\P{L}",
        r"[\p{Lu}]",
        r"\i\c*",
        r"\c",
        r"\I",
        r"\w+",
        r"\W",
        r"[\w]",
        "[a-z-[aeiou]]",
        "[a-[b]]",
        "(?:x)",
        "(?i)x",
        "[a",
    ],
)
def test_translate_pattern_refuses_what_it_cannot_translate(pattern: str) -> None:
    with pytest.raises(xsdrules.UnsupportedSchema):
        xsdrules.translate_pattern(pattern)


# -- 2. every compiled type check against libxml2 ------------------------------------------------

TYPES = {
    **xsdrules.type_checks(xsdrules.MESSAGES_SCHEMA),
    **xsdrules.type_checks(kp.SETTLEMENT_SCHEMA),
}
INTEGER_TYPES = {"Rupiah", "Count", "MonthCount", "xs:long", "xs:int"}
DATE_TYPES = {"Date", "xs:date"}
INSTANT_TYPES = {"Instant", "xs:dateTime"}
BOOLEAN_TYPES = {"xs:boolean"}
#: Types derived from xs:string: every text is in the base's canonical form.
STRING_TYPES = {
    "xs:string",
    "Version",
    "Month",
    "Nik",
    "NikMasked",
    "Kpj",
    "OfficeCode",
    "TellerId",
    "Reference",
    "HostId",
    "Otp",
    "ResponseCode",
    "Text",
    "PersonName",
    "Address",
    "ShortText",
    "Message",
    "PostalCode",
    "Email",
    "Phone",
    "PhoneMasked",
    "OccupationCode",
    "Program",
    "Sex",
    "PayerKind",
    "SchemeCode",
    "CoverageState",
    "PaymentStatus",
    "TransactionStatus",
    "ReversalStatus",
    "SettlementStatus",
}
#: The built-in date types, whose compiled checks are deliberately stricter than libxml2 in a
#: few corners (see xsdrules: years of other than four digits, hour 24, whitespace around the
#: value), and the shipped types built on them.
BUILTIN_DATES = {"xs:date", "xs:dateTime"}
ON_BUILTIN_DATES = BUILTIN_DATES | {"Date", "Instant"}


def test_every_compiled_type_has_a_family_here() -> None:
    """The families below decide which canonical texts each type is tested with: a new type
    in the XSDs must be placed in one, or it would go untested."""
    families = INTEGER_TYPES | DATE_TYPES | INSTANT_TYPES | BOOLEAN_TYPES | STRING_TYPES
    assert set(TYPES) == families
    assert set(xsdrules.type_checks(xsdrules.MESSAGES_SCHEMA)) >= {"PaymentStatus", "Rupiah"}
    assert "SettlementStatus" in xsdrules.type_checks(kp.SETTLEMENT_SCHEMA)


def probe_name(type_name: str) -> str:
    return "probe-" + type_name.replace(":", ".")


class Probe:
    """libxml2's verdict on one text as the value of one type: an in-memory schema that
    includes the shipped ones and declares one element per type."""

    def __init__(self, type_names: list[str]) -> None:
        declarations = "".join(
            f'<xs:element name="{probe_name(name)}" '
            f'type="{name if name.startswith("xs:") else "kp:" + name}"/>'
            for name in type_names
        )
        # Both shipped schemas include the types file; libxml2 reads it once.
        text = (
            f'<xs:schema xmlns:xs="{XS}" xmlns:kp="{KP}" targetNamespace="{KP}"'
            ' elementFormDefault="qualified">'
            f'<xs:include schemaLocation="{xsdrules.MESSAGES_SCHEMA}"/>'
            f'<xs:include schemaLocation="{kp.SETTLEMENT_SCHEMA}"/>'
            f"{declarations}</xs:schema>"
        )
        document = etree.fromstring(
            text.encode(), xmlsafe.schema_parser(), base_url=xmlsafe.SCHEMA_BASE + "probe.xsd"
        )
        self.schema = etree.XMLSchema(document)

    def accepts(self, type_name: str, text: str) -> bool:
        element = etree.Element(f"{{{KP}}}{probe_name(type_name)}", nsmap={"kp": KP})
        element.text = text  # lxml's escaping, as a receiver's parser would read it back
        return bool(self.schema.validate(element))


@pytest.fixture(scope="module")
def probe() -> Probe:
    return Probe(sorted(TYPES))


def compiled_accepts(check: xsdrules.Check | None, text: str) -> bool:
    """``None`` means there is nothing to check: every text is valid."""
    return True if check is None else bool(check(text))


def test_the_probe_tells_valid_from_invalid(probe: Probe) -> None:
    """The probe itself can say no: otherwise agreement with it would prove nothing."""
    assert probe.accepts("Rupiah", "72600")
    assert not probe.accepts("Rupiah", "072600")
    assert probe.accepts("xs:string", "  anything\n")
    assert not probe.accepts("Text", "two  spaces")
    assert probe.accepts("SettlementStatus", "PAID")
    assert not probe.accepts("PaymentStatus", "PAID")


_YEAR = re.compile(r"(-?)([0-9]+)-")
_HOUR = re.compile(r"T([0-9]{2}):")
_OFFSET = re.compile(r"([+-])([0-9]{2}):([0-9]{2})$")


def stricter_than_libxml2(text: str) -> bool:
    """Whether ``text`` is in a corner where the compiled date checks refuse what libxml2 may
    take (so the encoder hands it to libxml2): a year of other than four digits or a negative
    one, hour 24, or whitespace around the value."""
    if text != text.strip(" \t\n\r"):
        return True
    value = re.sub(r"[ \t\n\r]+", " ", text)
    year = _YEAR.match(value)
    if year is not None and (year[1] or len(year[2]) != 4):
        return True
    hour = _HOUR.search(value)
    return hour is not None and hour[1] == "24"


def disagreements(probe: Probe, text: str) -> list[str]:
    """Every type whose compiled check (and, for string types, canonical check) disagrees
    with libxml2 on ``text``."""
    found = []
    for name, (check, canonical) in TYPES.items():
        expected = probe.accepts(name, text)
        if name in ON_BUILTIN_DATES and stricter_than_libxml2(text):
            # Stricter is safe (the text goes to libxml2); accepting what it refuses is not.
            if compiled_accepts(check, text) and not expected:
                found.append(f"{name}: check accepts what libxml2 refuses")
            continue
        if compiled_accepts(check, text) != expected:
            found.append(f"{name}: check says {not expected}, libxml2 {expected}")
        if name in STRING_TYPES and compiled_accepts(canonical, text) != expected:
            found.append(f"{name}: canonical says {not expected}, libxml2 {expected}")
    return found


NEAR_VALID = [
    *["", " ", "0", "00", "01", "1", "-1", "+1", "-0", "+0", " 5", "5 ", "\t5\n", " 5 "],
    *["5\xa0", "\xa05", "٣", "1٣", "12", "13", "9", "10", "1000000", "1000001", "01000000"],
    *["999999999999", "1000000000000", "0999999999999", "2147483647", "2147483648"],
    *["-2147483648", "-2147483649", "9223372036854775807", "9223372036854775808"],
    *["-9223372036854775808", "-9223372036854775809", "0" * 30 + "1", "1.0", "1e3", "1_000"],
    *["true", "false", " true", "true ", "\ttrue\n", "TRUE", "True", "yes", "t"],
    *["2026-11", "1900-01", "1899-12", "9999-12", "2026-13", "2026-00", "2026-1", "02026-11"],
    *[" 2026-11", "2026-11 ", "٢٠٢٦-11", "2026-11-23", "2026-02-28", "2026-02-29"],
    *["2024-02-29", "2026-02-30", "2026-04-31", "0999-12-31", "1000-01-01", "9999-12-31"],
    *["10000-01-01", "-2026-01-01", "0000-01-01", "2026-11-23Z", "2026-11-23+07:00"],
    *["2026-11-23+14:00", "2026-11-23+14:01", " 2026-11-23", "2026-11-23 ", "2026-11-3"],
    *["2026-11-23T09:30:05+07:00", "2026-11-23T09:30:05Z", "2026-11-23T09:30:05"],
    *["2026-11-23T24:00:00+07:00", "2026-11-23T23:59:60+07:00", "2026-11-23T09:30:05+14:00"],
    *["2026-11-23T09:30:05+14:01", "2026-11-23T09:30:05-14:00", "2026-11-23T09:30:05+13:59"],
    *["2026-11-23T09:30:05+07:60", "2026-11-23T09:30:05.1+07:00", "2026-11-23T09:30:05.+07:00"],
    *["2026-11-23T09:30:05.123456+07:00", "2026-11-23T09:30:05.1234567+07:00"],
    *["2026-11-23t09:30:05+07:00", "2026-11-23T9:30:05+07:00", " 2026-11-23T09:30:05+07:00"],
    *["2026-11-23T09:30:05+07:00 ", "0999-11-23T09:30:05+07:00", "2026-02-30T09:30:05+07:00"],
    *["2026-11-23T09:30:05+0700", "2026-11-23T09:30:05-00:00", "2026-11-23T09:30"],
    *["3201015508950001", "320101550895000", "32010155089500011", "3201********0001"],
    *["3201*******0001", "26110000017", "2611000001", "261100000170", "٣201015508950001"],
    *["40115", "AB", "ABC", "ABCDEFGHIJ", "ABCDEFGHIJK", "abc", "LKT01", "LKT 01", "L"],
    *["-LKT", "A" * 20, "A" * 21, "KP40115-20261123-0001", "x" * 64, "x" * 65, "a b"],
    *["1234", "123", "12345678", "123456789", "000", "0000", "1.00", " 1.0", "1.0 "],
    *["Siti Rahayu", "Siti  Rahayu", " Siti", "Siti ", "Siti\tRahayu", "Siti\nRahayu"],
    *["Siti\rRahayu", "Siti\xa0Rahayu", "Siti\u2003Rahayu", "Ñoman Ā’isyah", "A & B <C>"],
    *["A" * 100, "A" * 101, "A " * 50 + "A", "a" * 200, "a" * 201, "a" * 255, "a" * 256],
    *["\U0001f600" * 100, "\U0001f600" * 101, "16911", "06911", "1691", "169111"],
    *["siti@contoh.id", "siti @contoh.id", "siti@ contoh.id", "siti@contoh.id ", "@contoh.id"],
    *["si\tti@contoh.id", "siti@@contoh.id", "siti@", "si\xa0ti@contoh.id", "a@" + "b" * 252],
    *["a@" + "b" * 251, "+6281234567890", "+628123456", "+62812345678", "+628123456789012"],
    *["+62812345678901", "6281234567890", "+6271234567890", "0812****7890", "***", "****"],
    *["*" * 16, "*" * 17, "pedagang", "pedagang-kaki-lima", "-pedagang", "Pedagang"],
    *["a" * 40, "a" * 41, "ojek_online", "jkk", "jkm", "jht", "JKK", " jkk", "male"],
    *["female", "self", "sertakan", "csr", "credit-union", "apbd", "apbn", "apbdes", "SC"],
    *["S", "SCC", "sc", "active", "due", "in-arrears", "lapsed", "APPLIED", "DECLINED"],
    *["PENDING", "REVERSED", "NOT_FOUND", "REFUSED", "PAID", "applied", "&", "<", "a&b"],
]


def test_compiled_checks_agree_with_libxml2_on_near_valid_texts(probe: Probe) -> None:
    found = {text: d for text in NEAR_VALID if (d := disagreements(probe, text))}
    assert found == {}


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        edge_texts,
        st.sampled_from(NEAR_VALID),
        insert_char(st.sampled_from(NEAR_VALID)),
        st.lists(st.sampled_from(NEAR_VALID), min_size=2, max_size=3).map(" ".join),
    )
)
def test_compiled_checks_agree_with_libxml2_on_hostile_texts(probe: Probe, text: str) -> None:
    assume(xml_legal(text))  # lxml refuses to hold the others; the writer refuses them too
    assert disagreements(probe, text) == []


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.sampled_from(NEAR_VALID),
        insert_char(st.sampled_from(NEAR_VALID)),
        st.dates().map(dt.date.isoformat),
        st.datetimes(timezones=st.sampled_from([dt.UTC, JAKARTA])).map(dt.datetime.isoformat),
    )
)
def test_builtin_date_checks_agree_with_libxml2_where_they_can(probe: Probe, text: str) -> None:
    """xs:date and xs:dateTime away from the known divergence: four-digit years, hours up to
    23 and offsets within ±14:00 (the only forms the shipped types' patterns let through)."""
    assume(xml_legal(text))
    for name in sorted(BUILTIN_DATES):
        check, _ = TYPES[name]
        if stricter_than_libxml2(text):
            assert not compiled_accepts(check, text) or probe.accepts(name, text), (name, text)
        else:
            assert compiled_accepts(check, text) == probe.accepts(name, text), (name, text)


@pytest.mark.parametrize(
    ("type_name", "text", "agrees"),
    [
        ("xs:date", "2026-01-01+14:01", True),
        ("xs:date", "2026-01-01+99:59", True),
        ("xs:dateTime", "2026-11-23T09:30:05+14:01", True),
        ("xs:dateTime", "2026-11-23T09:30:05+07:60", True),
        ("xs:date", "2026-11-23+07:60", True),
        ("xs:date", "12026-01-01", False),
        ("xs:date", "-2026-01-01", False),
        ("xs:dateTime", "2026-11-23T24:00:00+07:00", False),
        ("xs:dateTime", "12026-11-23T09:30:05Z", False),
        ("xs:date", " 2026-11-23", False),
        ("xs:dateTime", "\n2026-11-23T09:30:05+07:00", False),
        ("xs:date", "2026-11-23\n", False),
        ("Date", " 2026-11-23", False),
        ("Instant", "2026-11-23T09:30:05+07:00 ", False),
    ],
)
def test_builtin_date_checks_never_accept_what_libxml2_refuses(
    probe: Probe, type_name: str, text: str, agrees: bool
) -> None:
    """Offsets are checked as libxml2 checks them; in the corners where the compiled checks
    are stricter (``agrees`` false) they refuse, so the text is handed to libxml2."""
    check, _ = TYPES[type_name]
    if agrees:
        assert compiled_accepts(check, text) == probe.accepts(type_name, text)
    else:
        assert not compiled_accepts(check, text)


#: Integers either side of every bound in the schemas (and the built-ins').
INTEGER_EDGES = [
    edge + delta
    for edge in (0, 1, 12, 10**6, 999_999_999_999, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63))
    for delta in (-1, 0, 1)
]

canonical_instants = st.datetimes(
    min_value=dt.datetime(1, 1, 1),
    max_value=dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
    timezones=st.sampled_from(
        [
            JAKARTA,
            dt.UTC,
            dt.timezone(dt.timedelta(hours=14)),
            dt.timezone(dt.timedelta(hours=-12)),
            dt.timezone(dt.timedelta(hours=5, minutes=45)),
            dt.timezone(dt.timedelta(hours=-3, minutes=-30, seconds=-15)),
        ]
    ),
)


def instant_text(moment: dt.datetime) -> str | None:
    """What the encoder writes for ``moment``; ``None`` when it cannot be written in Jakarta
    time (it falls outside years 1..9999 there)."""
    try:
        return format_instant(moment)
    except (OverflowError, ValueError):
        return None


@settings(max_examples=250, deadline=None)
@given(
    st.one_of(
        st.sampled_from(INTEGER_EDGES).map(lambda i: ("integer", str(i))),
        st.integers(-(2**64), 2**64).map(lambda i: ("integer", str(i))),
        st.integers(0, 10**13).map(lambda i: ("integer", str(i))),
        st.tuples(st.integers(1, 9999), st.integers(1, 12)).map(
            lambda ym: ("month", f"{ym[0]:04d}-{ym[1]:02d}")
        ),
        st.builds(YearMonth, st.integers(1900, 9999), st.integers(1, 12)).map(
            lambda m: ("month", str(m))
        ),
        st.dates().map(lambda d: ("date", d.isoformat())),
        canonical_instants.map(lambda d: ("instant", instant_text(d))),
        st.sampled_from([("boolean", "true"), ("boolean", "false")]),
    )
)
@example(("integer", "999999999999"))
@example(("instant", "0999-12-31T23:59:59+07:00"))
def test_canonical_checks_agree_with_libxml2(
    probe: Probe, family_text: tuple[str, str | None]
) -> None:
    """``canonical`` is only defined on texts the encoder's formatters write; on those it
    must say what libxml2 says (``None``: all of them are valid)."""
    family, text = family_text
    assume(text is not None)
    assert text is not None
    names = {
        "integer": INTEGER_TYPES,
        "month": STRING_TYPES,  # a month is a string: every string type must agree
        "date": DATE_TYPES,
        "instant": INSTANT_TYPES,
        "boolean": BOOLEAN_TYPES,
    }[family]
    for name in sorted(names):
        _, canonical = TYPES[name]
        assert compiled_accepts(canonical, text) == probe.accepts(name, text), (name, text)


# -- 3. the fast path: value checks alone never let an invalid message out ----------------------


class EveryShape:
    """Stands in for ``messages._VALIDATED_SHAPES``: every shape counts as already validated,
    so only the compiled value checks decide whether libxml2 is asked."""

    def __contains__(self, item: object) -> bool:
        return True

    def add(self, item: object) -> None:
        pass

    def clear(self) -> None:
        pass

    def __len__(self) -> int:
        return 0


@contextlib.contextmanager
def fast_path() -> Iterator[list[bytes]]:
    """Every shape counted as seen; yields the documents handed to libxml2 by encode.

    A context manager rather than a fixture: hypothesis runs many examples per test call,
    and each must see the patch."""
    calls: list[bytes] = []
    original = kp._validate_out

    def recording(document: bytes, schema: str, *, max_bytes: int = xmlsafe.MAX_BYTES) -> None:
        calls.append(document)
        original(document, schema, max_bytes=max_bytes)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kp, "_VALIDATED_SHAPES", EveryShape())
        patch.setattr(kp, "_validate_out", recording)
        yield calls


def libxml2_refusal(document: bytes) -> MalformedMessage | None:
    try:
        xmlsafe.validate(xmlsafe.parse(document), xmlsafe.load_schema(kp.ENVELOPE_SCHEMA))
    except MalformedMessage as error:
        return error
    return None


def assert_sound(message: Any) -> None:
    """Under the forced fast path: whatever encode returns, libxml2 accepts; whatever it
    refuses, it refuses with MalformedMessage (and if libxml2 was asked, libxml2 refused)."""
    refused: MalformedMessage | None = None
    document = b""
    with fast_path() as calls:
        try:
            document = kp.encode(message)
        except MalformedMessage as error:
            refused = error
    if refused is not None:
        assert refused.code == "message.malformed"
        if calls:  # refused by libxml2 itself: it must really have refused those bytes
            assert libxml2_refusal(calls[-1]) is not None
            event("refused by libxml2")
        else:
            event("refused before libxml2")
        return
    # The events show the property explores both sides (see --hypothesis-show-statistics).
    event("sent on the fast path" if not calls else "doubted, then accepted by libxml2")
    refusal = libxml2_refusal(document)
    assert refusal is None, f"encode sent bytes libxml2 refuses: {refusal}"


def test_the_forced_fast_path_skips_libxml2_for_valid_values() -> None:
    """The harness does what it says: with every shape seen, a valid message never reaches
    libxml2, and one doubtful value sends it there (so the property below tests the checks)."""
    request = sample("payment.request")
    with fast_path() as calls:
        kp.encode(request)
        assert calls == []
        with pytest.raises(MalformedMessage):
            kp.encode(attrs.evolve(request, teller="LKT 01"))
        assert len(calls) == 1


def mostly(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> Any:
    """``valid`` about nine times in ten: a message has a dozen fields, and it takes the fast
    path (the case under test) only when every one of them passes its compiled check.
    (``one_of`` drops a repeated strategy, hence nine distinct copies.)"""
    return st.one_of(*[valid.map(lambda value: value) for _ in range(9)], hostile)


def near(valid: str, *others: str) -> st.SearchStrategy[str]:
    """A field's values: mostly valid ones, else hostile ones: valid ones with an edge
    character inserted, hand-picked near-valid ones and arbitrary text."""
    valid_texts = st.from_regex(valid, fullmatch=True)
    hostile = st.one_of(
        insert_char(valid_texts), st.sampled_from([*others, *NEAR_VALID]), edge_texts
    )
    result: st.SearchStrategy[str] = mostly(valid_texts, hostile)
    return result


hostile_ints: st.SearchStrategy[int] = mostly(
    st.integers(0, 999_999_999_999),
    st.sampled_from(INTEGER_EDGES) | st.integers(-(10**15), 10**15),
)


def sometimes_repeated(
    elements: st.SearchStrategy[Any],
    max_size: int,
    repeat: Callable[[Any, Any], Any] = lambda target, source: source,
    unique_by: Callable[[Any], object] | None = None,
) -> st.SearchStrategy[tuple[Any, ...]]:
    """1 to ``max_size`` distinct items, except that a quarter of the time one of them is
    made to ``repeat`` another (an xs:unique violation the compiled writer must catch: the
    shape alone cannot tell)."""

    @st.composite
    def items(draw: st.DrawFn) -> tuple[Any, ...]:
        drawn = draw(st.lists(elements, min_size=1, max_size=max_size, unique_by=unique_by))
        if len(drawn) >= 2 and draw(st.integers(0, 3)) == 0:
            source, target = draw(st.permutations(range(len(drawn))))[:2]
            drawn[target] = repeat(drawn[target], drawn[source])
        return tuple(drawn)

    return items()


months = st.builds(YearMonth, st.integers(1900, 9999), st.integers(1, 12))
hostile_periods = sometimes_repeated(months, 12, unique_by=lambda month: month)
hostile_programs = sometimes_repeated(st.sampled_from(Program), 3, unique_by=lambda p: p)
valid_instants = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2100, 1, 1),
    timezones=st.sampled_from([JAKARTA, dt.UTC]),
)
hostile_instants: st.SearchStrategy[dt.datetime] = mostly(
    valid_instants,
    canonical_instants  # years 1 to 9999: before 1000 the pattern refuses them
    | st.datetimes(),  # naive
)
hostile_names = near(r"[A-Za-z]{1,8}( [A-Za-z]{1,8}){0,2}", "PT  Contoh", "A" * 101)
hostile_customers = st.builds(
    CustomerId, st.just(CustomerIdKind.NIK), near(r"[0-9]{16}", "320101550895000")
) | st.builds(CustomerId, st.just(CustomerIdKind.KPJ), near(r"[0-9]{11}", "3201015508950001"))
hostile_payers = st.builds(
    kp.PosPayer,
    st.sampled_from(PayerKind),
    st.none() | near(r"[A-Z]{2}", "S", "sc"),
    st.none() | hostile_names,
    st.none() | near(r"[A-Za-z0-9]{1,10}( [A-Za-z0-9]{1,10})?", "x" * 65),
)
hostile_references = near(r"[0-9A-Za-z._\-]{1,64}", "x" * 65, "KP 1")
hostile_offices = near(r"[0-9A-Z]{3,10}")
hostile_tellers = near(r"[0-9A-Za-z][0-9A-Za-z._\-]{0,19}")


@settings(max_examples=200, deadline=None)
@given(
    st.builds(
        kp.PosPaymentRequest,
        office=hostile_offices,
        teller=hostile_tellers,
        reference=hostile_references,
        customer=hostile_customers,
        periods=hostile_periods,
        amount=hostile_ints,
        admin_fee=hostile_ints,
        payer=hostile_payers,
        requested_at=hostile_instants,
        inquiry_id=st.none() | hostile_references,
        repeat=st.booleans(),
    )
)
def test_fast_path_is_sound_for_payment_requests(message: kp.PosPaymentRequest) -> None:
    assert_sound(message)


@settings(max_examples=120, deadline=None)
@given(
    st.builds(
        kp.PosPaymentResponse,
        reference=hostile_references,
        status=st.sampled_from(kp.PaymentStatus),
        response_code=near(r"[0-9]{2,3}", "0", "0000"),
        amount=hostile_ints,
        host_reference=st.none() | hostile_references,
        periods=st.just(()) | hostile_periods,
        paid_at=st.none() | hostile_instants,
    )
)
def test_fast_path_is_sound_for_payment_responses(message: kp.PosPaymentResponse) -> None:
    assert_sound(message)


hostile_bills = sometimes_repeated(
    st.builds(
        kp.PosBill,
        months,
        mostly(st.integers(0, 10**9), hostile_ints),  # twelve bills: one bad amount is enough
        st.none() | near(r"PP [0-9]{1,2}/20[0-9]{2}", "a" * 65, "PP  50"),
    ),
    12,
    repeat=lambda target, source: attrs.evolve(target, period=source.period),
    unique_by=lambda bill: bill.period,
)


@settings(max_examples=120, deadline=None)
@given(
    bills=hostile_bills,
    customer=hostile_customers,
    kpj=near(r"[0-9]{11}"),
    name=hostile_names,
    programs=hostile_programs,
    valid_until=st.none() | hostile_instants,
    inquiry_id=hostile_references,
    admin_fee=hostile_ints,
    total_is_sum=st.sampled_from([True, True, True, False]),
)
def test_fast_path_is_sound_for_inquiry_responses(
    bills: tuple[kp.PosBill, ...],
    customer: CustomerId,
    kpj: str,
    name: str,
    programs: tuple[Program, ...],
    valid_until: dt.datetime | None,
    inquiry_id: str,
    admin_fee: int,
    total_is_sum: bool,
) -> None:
    total = sum(bill.amount for bill in bills)
    message = kp.PosInquiryResponse(
        inquiry_id=inquiry_id,
        customer=customer,
        kpj=kpj,
        name_masked=name,
        programs=programs,
        coverage_state=CoverageState.DUE,
        bills=bills,
        total=total if total_is_sum else total + 1,
        admin_fee=admin_fee,
        valid_until=valid_until,
    )
    assert_sound(message)


def test_a_repeated_bill_period_takes_the_slow_path_even_when_its_shape_was_seen() -> None:
    """The xs:unique on bill periods is a value check, not a shape: a deterministic case of
    what the property above explores."""
    response = sample("inquiry.response")
    bills = (response.bills[0], attrs.evolve(response.bills[1], period=response.bills[0].period))
    wrong = attrs.evolve(response, bills=(*bills, response.bills[2]))
    with fast_path() as calls, pytest.raises(MalformedMessage) as caught:
        kp.encode(wrong)
    assert len(calls) == 1
    assert "repeats a value that must be unique" in caught.value.message_en


hostile_participants = st.builds(
    kp.PosParticipant,
    nik=near(r"[0-9]{16}", "320101550895000", "32010155089500011"),
    name=hostile_names,
    birth_date=mostly(st.dates(dt.date(1900, 1, 1)), st.dates()),
    sex=st.sampled_from(Sex),
    phone=near(r"\+628[0-9]{8,11}", "+628123456"),
    email=st.none() | near(r"[a-z]{1,8}@[a-z]{1,8}\.id", "siti @contoh.id"),
    address=near(r"Jl\. [A-Za-z]{1,10} No\. [0-9]{1,3}", "a" * 201),
    postal_code=near(r"[1-9][0-9]{4}"),
    occupations=sometimes_repeated(
        near(r"[a-z0-9][a-z0-9\-]{0,39}", "Petani", "-x", "a" * 41), 2, unique_by=lambda o: o
    ),
    income=hostile_ints,
    programs=hostile_programs,
)


@settings(max_examples=120, deadline=None)
@given(
    st.builds(
        kp.PosRegistrationRequest,
        office=hostile_offices,
        teller=hostile_tellers,
        reference=hostile_references,
        requested_at=hostile_instants,
        participant=hostile_participants,
        registered_by=hostile_payers,
    )
)
def test_fast_path_is_sound_for_registration_requests(
    message: kp.PosRegistrationRequest,
) -> None:
    assert_sound(message)


def leaf_rules(rule: xsdrules.Rule) -> Iterator[xsdrules.Rule]:
    if rule.children is None:
        yield rule
    else:
        for child in rule.children.values():
            yield from leaf_rules(child)


#: Every element with simple content, in both schemas.
LEAVES = [
    leaf
    for schema in (xsdrules.MESSAGES_SCHEMA, kp.SETTLEMENT_SCHEMA)
    for root in xsdrules.schema_rules(schema).values()
    for leaf in leaf_rules(root)
]
MARKUP_FREE = [leaf for leaf in LEAVES if leaf.markup_free]


def test_markup_free_is_claimed_for_some_types_and_not_for_free_text() -> None:
    """The writer skips escaping a valid text of a markup-free type; the claim must be made
    where it holds (identifiers) and not where it does not (names, e-mail addresses)."""
    names = {leaf.name for leaf in MARKUP_FREE}
    assert {"reference", "office", "nik", "month"} <= names
    assert not {"name", "address", "email", "nameMasked", "discount"} & names


@settings(max_examples=100, deadline=None)
@given(
    st.tuples(
        st.sampled_from(NEAR_VALID) | edge_texts,
        st.integers(0, 80),
        st.sampled_from("&<>\r"),
    ).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :])
)
def test_no_text_holding_markup_passes_a_markup_free_check(text: str) -> None:
    """Sound escaping shortcut: a text needing escaping never passes a markup-free check, so
    it is always escaped (and sent to libxml2) rather than written raw."""
    for leaf in MARKUP_FREE:
        assert leaf.check is not None
        assert not leaf.check(text), (leaf.name, text)


@pytest.mark.parametrize("value", ["KP&1", "KP<1>", "KP\r1"])
def test_markup_in_a_markup_free_field_is_escaped_for_libxml2_to_word_the_error(
    value: str,
) -> None:
    """Escaped, the document is well-formed and libxml2 names the element; written raw, it
    would be refused as "not well-formed XML" naming nothing."""
    wrong = attrs.evolve(sample("payment.request"), reference=value)
    with pytest.raises(MalformedMessage) as caught:
        kp.encode(wrong)
    assert caught.value.field == "PaymentRequest/reference"
    assert "does not have the required format" in caught.value.message_en


def evolve_path(obj: Any, path: tuple[str | int, ...], value: object) -> Any:
    """``obj`` with the attribute (or tuple item) at ``path`` replaced by ``value``."""
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(obj)
        items[head] = evolve_path(items[head], rest, value) if rest else value
        return tuple(items)
    new = evolve_path(getattr(obj, head), rest, value) if rest else value
    return attrs.evolve(obj, **{head: new})


NAIVE = dt.datetime(2026, 11, 23, 9, 30)
AWARE = dt.datetime(2026, 11, 23, 9, 30, tzinfo=JAKARTA)
WRONG_TEXT = [5, 5.0, b"LKT01", ["x"], True]
WRONG_INT = ["72600", 72600.0, True, None, b"1"]
WRONG_INSTANT = [NAIVE, AWARE.date(), "2026-11-23T09:30:00+07:00", 0]

#: (example, path to the value, element named in the error, wrong values for it).
WRONG_TYPES: list[tuple[str, tuple[str | int, ...], str, list[object]]] = [
    ("payment.request", ("office",), "office", [*WRONG_TEXT, None]),
    ("payment.request", ("teller",), "teller", [*WRONG_TEXT, None]),
    ("payment.request", ("reference",), "reference", WRONG_TEXT),
    ("payment.request", ("customer",), "customer", ["3201015508950001", None, ("nik", "1")]),
    ("payment.request", ("customer", "value"), "nik", [3201015508950001, None]),
    ("payment.request", ("inquiry_id",), "inquiryId", WRONG_TEXT),
    ("payment.request", ("periods",), "periods", [[YearMonth(2026, 11)], None, "2026-11"]),
    ("payment.request", ("periods", 1), "periods", ["2026-12", dt.date(2026, 12, 1), None]),
    ("payment.request", ("amount",), "amount", WRONG_INT),
    ("payment.request", ("admin_fee",), "adminFee", WRONG_INT),
    ("payment.request", ("payer",), "payer", [Payer.self_paid(), None, "self"]),
    ("payment.request", ("payer", "kind"), "kind", ["self", None, Sex.MALE]),
    ("payment.request", ("payer", "name"), "name", WRONG_TEXT),
    ("payment.request", ("repeat",), "repeat", [0, 1, "false", None]),
    ("payment.request", ("requested_at",), "requestedAt", [*WRONG_INSTANT, None]),
    ("payment.response", ("status",), "status", ["DECLINED", kp.TransactionStatus.PENDING]),
    ("payment.response", ("response_code",), "responseCode", [0, None, b"00"]),
    ("payment.response", ("host_reference",), "hostReference", WRONG_TEXT),
    ("payment.response", ("periods",), "periods", [[YearMonth(2026, 11)], "2026-11"]),
    ("payment.response", ("amount",), "amount", WRONG_INT),
    ("payment.response", ("paid_at",), "paidAt", WRONG_INSTANT),
    ("inquiry.response", ("programs",), "programs", [["jkk"], ("jkk",), None]),
    ("inquiry.response", ("coverage_state",), "coverageState", ["due", None]),
    ("inquiry.response", ("bills", 0, "period"), "period", ["2026-11", None]),
    ("inquiry.response", ("bills", 2, "discount"), "discount", WRONG_TEXT),
    ("inquiry.response", ("admin_fee",), "adminFee", WRONG_INT),
    ("inquiry.response", ("valid_until",), "validUntil", WRONG_INSTANT),
    ("registration.request", ("participant",), "participant", [None, "Siti"]),
    ("registration.request", ("participant", "nik"), "nik", [3201015508950001, None]),
    ("registration.request", ("participant", "birth_date"), "birthDate", [AWARE, "1995-08-15"]),
    ("registration.request", ("participant", "sex"), "sex", ["female", None]),
    ("registration.request", ("participant", "email"), "email", WRONG_TEXT),
    ("registration.request", ("participant", "occupations"), "occupations", [["x"], "x"]),
    ("registration.request", ("participant", "occupations", 0), "occupations", [1, None]),
    ("registration.request", ("participant", "income"), "income", WRONG_INT),
    ("registration.request", ("registered_by",), "registeredBy", [Payer.self_paid(), None]),
]


@pytest.mark.parametrize(
    ("name", "path", "element", "wrong"),
    [
        pytest.param(name, path, element, wrong, id=f"{name}-{'.'.join(map(str, path))}")
        for name, path, element, wrong in WRONG_TYPES
    ],
)
def test_a_value_of_the_wrong_python_type_is_refused_naming_its_element(
    name: str, path: tuple[str | int, ...], element: str, wrong: list[object]
) -> None:
    original = sample(name)
    message_name = kp.element_name(original)
    for value in wrong:
        with pytest.raises(MalformedMessage) as caught:
            kp.encode(evolve_path(original, path, value))
        field = caught.value.field or ""
        # The writer names message/element; a cross-field rule (_rules) the element alone.
        assert field in (f"{message_name}/{element}", element), (value, field)


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        pytest.param("inquiry.response", ("bills", 0, "amount"), "18150", id="bill-amount-str"),
        pytest.param("inquiry.response", ("bills",), None, id="bills-none"),
        pytest.param("inquiry.response", ("bills",), ("bill",), id="bills-of-str"),
        pytest.param("payment.response", ("status",), ["APPLIED"], id="status-list"),
        pytest.param("payment.request", ("amount",), 10**5000, id="huge-int"),
    ],
)
def test_wrong_values_that_break_a_rule_or_str_are_refused_too(
    name: str, path: tuple[str | int, ...], value: object
) -> None:
    with pytest.raises(MalformedMessage):
        kp.encode(evolve_path(sample(name), path, value))


# -- 4. byte for byte what lxml writes -----------------------------------------------------------


def lxml_pretty(document: bytes) -> bytes:
    """``document`` parsed and pretty-printed again by lxml: what an lxml-built tree would
    have been serialised as."""
    root = etree.fromstring(document, etree.XMLParser(remove_blank_text=True))
    return DECLARATION + etree.tostring(
        root, encoding="UTF-8", xml_declaration=False, pretty_print=True
    )


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_example_is_byte_for_byte_what_lxml_writes(name: str) -> None:
    assert lxml_pretty(DOCUMENTS[name]) == DOCUMENTS[name]


def test_every_example_message_encodes_as_its_document() -> None:
    """The examples' documents come from the encoders now; encoding again gives the same."""
    for name, message in MESSAGES.items():
        if isinstance(message, kp.PosFault):
            encoded = kp.encode_fault(message)
        elif isinstance(message, kp.PosSettlementFile):
            encoded = kp.encode_settlement_file(message)
        else:
            encoded = kp.encode(message)
        assert encoded == DOCUMENTS[name], name


#: Characters lxml escapes or writes as they are: markup, quotes, non-ASCII, astral.
SPECIAL = "&<>\"'éÑ’٣\u2028\U0001f600"
special_words = st.text(st.sampled_from(SPECIAL + "abcXYZ09.,-"), min_size=1, max_size=8) | st.text(
    st.characters(exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"], exclude_characters="\x85"),
    min_size=1,
    max_size=8,
).filter(lambda t: xml_legal(t) and not re.search(r"[ \t\n\r]", t))


def one_line(max_length: int) -> st.SearchStrategy[str]:
    """A valid kp:Text of at most ``max_length`` characters, rich in special characters."""
    return (
        st.lists(special_words, min_size=1, max_size=5)
        .map(" ".join)
        .filter(lambda t: len(t) <= max_length)
    )


@settings(max_examples=60, deadline=None)
@given(
    payer=st.builds(
        kp.PosPayer,
        st.sampled_from(PayerKind),
        st.none() | st.from_regex(r"[A-Z]{2}", fullmatch=True),
        st.none() | one_line(100),
        st.none() | one_line(64),
    ),
    name=one_line(100),
    address=one_line(200),
    email=st.none()
    | st.tuples(special_words, special_words).map("@".join).filter(lambda e: e.count("@") == 1),
    discount=st.none() | one_line(64),
)
def test_generated_messages_are_byte_for_byte_what_lxml_writes(
    payer: kp.PosPayer, name: str, address: str, email: str | None, discount: str | None
) -> None:
    payment = attrs.evolve(sample("payment.request"), payer=payer)
    request = sample("registration.request")
    registration = attrs.evolve(
        request,
        registered_by=payer,
        participant=attrs.evolve(request.participant, name=name, address=address, email=email),
    )
    response = sample("inquiry.response")
    inquiry = attrs.evolve(
        response,
        name_masked=name,
        bills=tuple(attrs.evolve(bill, discount=discount) for bill in response.bills),
    )
    for message in (payment, registration, inquiry):
        document = kp.encode(message)
        assert lxml_pretty(document) == document


#: At least one character: an empty faultstring is test_an_empty_faultstring_is_what_lxml_writes.
fault_strings = st.text(
    st.sampled_from(SPECIAL + " \t\n\rab") | st.characters(exclude_categories=["Cs"]),
    min_size=1,
    max_size=40,
).filter(xml_legal)


@settings(max_examples=60, deadline=None)
@given(
    code=st.sampled_from(soap.FaultCode),
    string=fault_strings,
    response_code=st.none() | st.sampled_from(["14", "30", "96"]),
    message_en=st.none() | one_line(255),
    reference=st.none() | st.from_regex(r"[0-9A-Za-z._\-]{1,64}", fullmatch=True),
)
@example(soap.FaultCode.CLIENT, "a\r\nb\n", "30", None, None)
@example(soap.FaultCode.SERVER, " ", None, None, None)
@example(soap.FaultCode.SERVER, "\n", "14", "A & B <C> \"d\" 'e'", "R1")
def test_faults_are_byte_for_byte_what_lxml_writes(
    code: soap.FaultCode,
    string: str,
    response_code: str | None,
    message_en: str | None,
    reference: str | None,
) -> None:
    fault = kp.PosFault(
        code,
        string,
        response_code=response_code,
        reference=reference,
        message_en=message_en,
        message_id=message_en,
    )
    document = kp.encode_fault(fault)
    assert lxml_pretty(document) == document
    # And the text survives: the escaping of \r and markup is lxml's, read back exactly.
    assert kp.decode_fault(document).string == string


def test_an_empty_faultstring_is_what_lxml_writes() -> None:
    document = kp.encode_fault(kp.PosFault(soap.FaultCode.SERVER, ""))
    assert lxml_pretty(document) == document


settlement_records = st.builds(
    kp.PosSettlementRecord,
    reference=st.from_regex(r"[0-9A-Za-z._\-]{1,64}", fullmatch=True),
    host_reference=st.from_regex(r"[0-9A-Za-z._\-]{1,64}", fullmatch=True),
    nik_masked=st.from_regex(r"[0-9]{4}\*{8}[0-9]{4}", fullmatch=True),
    periods=st.lists(months, min_size=1, max_size=4, unique=True).map(tuple),
    amount=st.integers(0, 10**9),
    admin_fee=st.integers(0, 10**6),
    paid_at=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    state=st.just(kp.SettlementStatus.PAID),
    teller=st.none() | st.just("LKT01"),
)


@settings(max_examples=30, deadline=None)
@given(st.lists(settlement_records, max_size=5))
def test_settlement_files_are_byte_for_byte_what_lxml_writes(
    records: list[kp.PosSettlementRecord],
) -> None:
    settlement = attrs.evolve(sample("settlement"), records=tuple(records))
    document = kp.encode_settlement_file(settlement)
    assert lxml_pretty(document) == document


# -- 5. round trips and the positional payment-request reader ----------------------------------


def respelled(document: bytes, prefix: str | None, *, pretty: bool) -> bytes:
    """``document`` with the kp namespace under ``prefix`` (``None``: the default namespace),
    written compact or pretty: the same information, other bytes."""
    source = etree.fromstring(document, etree.XMLParser(remove_blank_text=True))

    def copy(element: etree._Element, parent: etree._Element | None) -> etree._Element:
        if parent is None:
            nsmap: dict[Any, str] = {"soap": soap.SOAP_NS, prefix: KP}  # None: default
            new = etree.Element(element.tag, nsmap=nsmap)
        else:
            new = etree.SubElement(parent, element.tag)
        for key, value in element.attrib.items():
            new.set(key, value)
        new.text = element.text
        for child in element:
            copy(child, new)
        return new

    root = copy(source, None)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=pretty)


def payment_request(
    *,
    inquiry: bool,
    kind: CustomerIdKind,
    payer_parts: tuple[bool, bool, bool],
    months: int,
    repeat: bool = False,
) -> kp.PosPaymentRequest:
    scheme, name, reference = payer_parts
    return kp.PosPaymentRequest(
        office="40115",
        teller="LKT01",
        reference="KP40115-20261123-0002",
        customer=CustomerId(
            kind, "3201015508950001" if kind is CustomerIdKind.NIK else "26110000017"
        ),
        inquiry_id="INQ000000000042" if inquiry else None,
        periods=tuple(YearMonth(2026, 1) + i for i in range(months)),
        amount=16800 * months,
        admin_fee=2500,
        payer=kp.PosPayer(
            PayerKind.CSR,
            scheme="SC" if scheme else None,
            name="PT Contoh & Rekan" if name else None,
            reference="CSR-1" if reference else None,
        ),
        repeat=repeat,
        requested_at=dt.datetime(2026, 11, 23, 9, 31, 10, tzinfo=JAKARTA),
    )


@pytest.mark.parametrize("inquiry", [True, False], ids=["inquiry", "no-inquiry"])
@pytest.mark.parametrize("kind", list(CustomerIdKind), ids=str)
@pytest.mark.parametrize(
    "payer_parts",
    [(s, n, r) for s in (False, True) for n in (False, True) for r in (False, True)],
    ids=lambda parts: "payer-" + "".join("snr"[i] for i, on in enumerate(parts) if on),
)
def test_every_optional_combination_is_read_back_by_position(
    inquiry: bool, kind: CustomerIdKind, payer_parts: tuple[bool, bool, bool]
) -> None:
    months = 1 + sum(payer_parts) * 3 + (2 if inquiry else 0)  # 1 to 12 months across cases
    message = payment_request(inquiry=inquiry, kind=kind, payer_parts=payer_parts, months=months)
    document = kp.encode_payment_request(message)
    assert kp.decode_payment_request(document) == message
    for prefix in ("kp", None, "pos"):
        for pretty in (False, True):
            assert kp.decode_payment_request(respelled(document, prefix, pretty=pretty)) == message


def test_respelling_really_changes_the_bytes() -> None:
    """The re-serialisations above are other documents, not the same bytes again."""
    document = DOCUMENTS["payment.request"]
    default = respelled(document, None, pretty=False)
    assert b"<kp:" not in default
    assert f'xmlns="{KP}"'.encode() in default
    assert b"\n  " not in default
    assert b"<pos:PaymentRequest" in respelled(document, "pos", pretty=True)


payment_requests = st.builds(
    kp.PosPaymentRequest,
    office=st.from_regex(r"[0-9A-Z]{3,10}", fullmatch=True),
    teller=st.from_regex(r"[0-9A-Za-z][0-9A-Za-z._\-]{0,19}", fullmatch=True),
    reference=st.from_regex(r"[0-9A-Za-z._\-]{1,64}", fullmatch=True),
    customer=st.one_of(
        st.from_regex(r"[0-9]{16}", fullmatch=True).map(
            lambda v: CustomerId(CustomerIdKind.NIK, v)
        ),
        st.from_regex(r"[0-9]{11}", fullmatch=True).map(
            lambda v: CustomerId(CustomerIdKind.KPJ, v)
        ),
    ),
    periods=st.lists(
        st.builds(YearMonth, st.integers(1900, 9999), st.integers(1, 12)),
        min_size=1,
        max_size=12,
        unique=True,
    ).map(tuple),
    amount=st.integers(0, 999_999_999_999),
    admin_fee=st.integers(0, 999_999_999_999),
    payer=st.builds(
        kp.PosPayer,
        st.sampled_from(PayerKind),
        st.none() | st.from_regex(r"[A-Z]{2}", fullmatch=True),
        st.none() | one_line(100),
        st.none() | one_line(64),
    ),
    requested_at=st.datetimes(
        min_value=dt.datetime(1000, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from([JAKARTA, dt.UTC, dt.timezone(dt.timedelta(hours=-5))]),
    ),
    inquiry_id=st.none() | st.from_regex(r"[0-9A-Za-z._\-]{1,64}", fullmatch=True),
    repeat=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(payment_requests, st.sampled_from(["kp", None, "p"]), st.booleans())
def test_generated_payment_requests_round_trip_in_any_spelling(
    message: kp.PosPaymentRequest, prefix: str | None, pretty: bool
) -> None:
    document = kp.encode_payment_request(message)
    assert kp.decode_payment_request(document) == message
    assert kp.decode_payment_request(respelled(document, prefix, pretty=pretty)) == message


# -- 6. depth: valid documents are shallow, deep ones are refused --------------------------------


def rule_depth(rule: xsdrules.Rule, seen: frozenset[str] = frozenset()) -> int:
    """Levels from the element ``rule`` declares down to its deepest descendant (1: a leaf)."""
    if not rule.children:
        return 1
    assert rule.name not in seen, f"{rule.name} is recursive: no depth bound"
    return 1 + max(rule_depth(child, seen | {rule.name}) for child in rule.children.values())


#: Levels above each kind of root: Envelope and Body above a message; Envelope, Body, Fault
#: and detail above FaultDetail; none above the settlement file.
ABOVE = {"FaultDetail": 4, "SettlementFile": 0}


@pytest.mark.parametrize("schema", [xsdrules.MESSAGES_SCHEMA, kp.SETTLEMENT_SCHEMA])
def test_every_valid_document_is_within_max_depth(schema: str) -> None:
    rules = xsdrules.schema_rules(schema)
    roots = {name: rule for name, rule in rules.items() if name[0].isupper()}
    assert roots  # the messages (or the settlement file), not the shared periods/programs
    depths = {name: ABOVE.get(name, 2) + rule_depth(rule) for name, rule in roots.items()}
    assert max(depths.values()) <= xmlsafe.MAX_DEPTH, depths
    if schema == xsdrules.MESSAGES_SCHEMA:
        # RegistrationRequest/participant/occupations/occupation, under Envelope and Body.
        assert depths["RegistrationRequest"] == 6


def test_rule_depth_measures_an_example_document() -> None:
    """rule_depth counts what a document really nests: the encoded registration request."""
    root = etree.fromstring(DOCUMENTS["registration.request"])

    def depth(element: etree._Element) -> int:
        return 1 + max((depth(child) for child in element), default=0)

    rules = xsdrules.schema_rules(xsdrules.MESSAGES_SCHEMA)
    assert depth(root) == 2 + rule_depth(rules["RegistrationRequest"])


def nested_in_amount(levels: int) -> bytes:
    """The payment request with ``levels`` elements nested inside kp:amount (at depth 4)."""
    inner = b"<kp:x>" * levels + b"</kp:x>" * levels
    return DOCUMENTS["payment.request"].replace(
        b"<kp:amount>72600</kp:amount>", b"<kp:amount>" + inner + b"</kp:amount>"
    )


@pytest.mark.parametrize("levels", [xmlsafe.MAX_DEPTH - 4 + 1, xmlsafe.MAX_DEPTH + 10, 200, 250])
def test_a_document_deeper_than_max_depth_is_refused_for_its_depth(levels: int) -> None:
    document = nested_in_amount(levels)
    assert 4 + levels > xmlsafe.MAX_DEPTH
    with pytest.raises(MalformedMessage) as caught:
        kp.decode_payment_request(document)
    assert f"nested more than {xmlsafe.MAX_DEPTH} levels" in caught.value.message_en


def test_a_document_exactly_max_depth_deep_is_refused_for_its_content_not_depth() -> None:
    """The limit is exact: at MAX_DEPTH levels the depth is fine and the schema's complaint
    (kp:amount must not have children) is what is reported."""
    document = nested_in_amount(xmlsafe.MAX_DEPTH - 4)
    with pytest.raises(MalformedMessage) as caught:
        kp.decode_payment_request(document)
    assert "nested" not in caught.value.message_en
    assert caught.value.field == "PaymentRequest/amount"


# -- 7. the compiler refuses what it does not translate ------------------------------------------


def fake_schema(body: str) -> str:
    return (
        f'<xs:schema xmlns:xs="{XS}" xmlns:kp="{KP}" targetNamespace="{KP}"'
        f' elementFormDefault="qualified">{body}</xs:schema>'
    )


def restricted(base: str, facets: str) -> str:
    return (
        f'<xs:simpleType name="T"><xs:restriction base="{base}">{facets}'
        '</xs:restriction></xs:simpleType><xs:element name="M" type="kp:T"/>'
    )


@pytest.fixture
def serve_schemas() -> Iterator[Callable[[dict[str, str]], None]]:
    """Replace the shipped XSDs with the given files, for the compiler only. The compiler's
    caches are cleared before and after, so no other test sees a fake schema's rules."""
    with pytest.MonkeyPatch.context() as patch:

        def serve(files: dict[str, str]) -> None:
            def schema_text(name: str) -> bytes:
                return files[name].encode()

            patch.setattr(xmlsafe, "schema_text", schema_text)
            patch.setattr(xmlsafe, "schema_names", lambda: sorted(files))

        xsdrules.schema_rules.cache_clear()
        xsdrules.type_checks.cache_clear()
        try:
            yield serve
        finally:
            xsdrules.schema_rules.cache_clear()
            xsdrules.type_checks.cache_clear()
    xsdrules.schema_rules.cache_clear()
    xsdrules.type_checks.cache_clear()


def test_a_fake_schema_is_compiled_when_it_uses_only_supported_constructs(
    serve_schemas: Callable[[dict[str, str]], None],
) -> None:
    """The harness serves what it is given: a supported schema compiles, and its checks work
    (so the refusals below are about the constructs, not a missing file)."""
    serve_schemas(
        {"fake-1.xsd": fake_schema(restricted("xs:string", '<xs:pattern value="[0-9]{2}"/>'))}
    )
    check = xsdrules.schema_rules("fake-1.xsd")["M"].check
    assert check is not None
    assert check("12")
    assert not check("1")
    assert set(xsdrules.type_checks("fake-1.xsd")) >= {"T", "xs:string"}


def message_with(content: str) -> str:
    return f'<xs:element name="M"><xs:complexType>{content}</xs:complexType></xs:element>'


@pytest.mark.parametrize(
    ("body", "in_simple_types"),
    [
        pytest.param(restricted("xs:long", '<xs:totalDigits value="5"/>'), True, id="totalDigits"),
        pytest.param(
            restricted("xs:string", '<xs:whiteSpace value="collapse"/>'), True, id="whiteSpace"
        ),
        pytest.param(
            restricted("xs:string", r'<xs:pattern value="\p{L}+"/>'), True, id="pattern-p-L"
        ),
        pytest.param(restricted("xs:long", '<xs:minExclusive value="0"/>'), True, id="minExcl"),
        pytest.param(
            restricted("xs:string", '<xs:fractionDigits value="0"/>'), True, id="fractionDigits"
        ),
        pytest.param(restricted("xs:decimal", ""), True, id="xs-decimal"),
        pytest.param(
            '<xs:simpleType name="T"><xs:list itemType="xs:int"/></xs:simpleType>'
            '<xs:element name="M" type="kp:T"/>',
            True,
            id="xs-list",
        ),
        pytest.param(
            message_with('<xs:complexContent><xs:extension base="kp:B"/></xs:complexContent>')
            + '<xs:complexType name="B"><xs:sequence/></xs:complexType>',
            False,
            id="complexContent",
        ),
        pytest.param(
            message_with(
                '<xs:sequence><xs:element name="a" type="xs:string"/>'
                '<xs:any namespace="##other" processContents="lax"/></xs:sequence>'
            ),
            False,
            id="any-in-message",
        ),
        pytest.param(message_with("<xs:all/>"), False, id="xs-all"),
        pytest.param(
            message_with('<xs:sequence><xs:group ref="kp:G"/></xs:sequence>'),
            False,
            id="group-ref",
        ),
        pytest.param(
            message_with(
                '<xs:sequence><xs:element name="a" type="xs:string" form="unqualified"/>'
                "</xs:sequence>"
            ),
            False,
            id="form",
        ),
        pytest.param(
            '<xs:element name="M" type="xs:string"><xs:key name="k">'
            '<xs:selector xpath="."/><xs:field xpath="."/></xs:key></xs:element>',
            False,
            id="xs-key",
        ),
        pytest.param('<xs:attributeGroup name="A"/>', True, id="top-level-attributeGroup"),
    ],
)
def test_the_compiler_refuses_constructs_it_does_not_translate(
    serve_schemas: Callable[[dict[str, str]], None], body: str, in_simple_types: bool
) -> None:
    serve_schemas({"fake-1.xsd": fake_schema(body)})
    with pytest.raises(xsdrules.UnsupportedSchema):
        xsdrules.schema_rules("fake-1.xsd")
    if in_simple_types:  # type_checks reads every named simple type, and every file
        with pytest.raises(xsdrules.UnsupportedSchema):
            xsdrules.type_checks("fake-1.xsd")


def test_the_compiler_follows_includes_into_unsupported_constructs(
    serve_schemas: Callable[[dict[str, str]], None],
) -> None:
    serve_schemas(
        {
            "fake-1.xsd": fake_schema(
                '<xs:include schemaLocation="fake-types-1.xsd"/><xs:element name="M" type="kp:T"/>'
            ),
            "fake-types-1.xsd": fake_schema(
                '<xs:simpleType name="T"><xs:restriction base="xs:string">'
                r'<xs:pattern value="\i\c*"/></xs:restriction></xs:simpleType>'
            ),
        }
    )
    with pytest.raises(xsdrules.UnsupportedSchema):
        xsdrules.schema_rules("fake-1.xsd")
    with pytest.raises(xsdrules.UnsupportedSchema):
        xsdrules.type_checks("fake-1.xsd")


def test_a_schema_of_another_namespace_is_refused(
    serve_schemas: Callable[[dict[str, str]], None],
) -> None:
    serve_schemas(
        {"fake-1.xsd": fake_schema(restricted("xs:string", "")).replace(KP, "urn:other", 2)}
    )
    with pytest.raises(xsdrules.UnsupportedSchema):
        xsdrules.schema_rules("fake-1.xsd")


def test_the_real_schemas_compile_again_after_the_fakes() -> None:
    """The fixture's cache clearing leaves the shipped rules in place for everyone else."""
    assert "PaymentRequest" in xsdrules.schema_rules(xsdrules.MESSAGES_SCHEMA)
    assert "Rupiah" in xsdrules.type_checks(xsdrules.MESSAGES_SCHEMA)


@pytest.mark.parametrize("name", ["payment.request", "inquiry.response"])
def test_a_message_without_its_envelope_is_refused_though_the_schema_declares_it(
    name: str,
) -> None:
    """The envelope XSD imports the messages as global elements, so a bare message is valid
    against it: the reader must still see that it is not an envelope."""
    root = etree.fromstring(DOCUMENTS[name])
    bare = DECLARATION + etree.tostring(root[-1][0])
    assert xmlsafe.parse_valid(bare, xmlsafe.load_schema(kp.ENVELOPE_SCHEMA))[1]
    with pytest.raises(MalformedMessage, match=r"not a SOAP 1\.1 envelope"):
        kp.decode_request(bare) if name.endswith("request") else kp.decode_inquiry_response(bare)


def test_a_settlement_file_whose_root_is_another_global_element_is_refused() -> None:
    periods = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<kp:periods xmlns:kp="urn:jamsostek-channels:kantorpos:1"><kp:month>2026-11</kp:month>'
        b"</kp:periods>"
    )
    assert xmlsafe.parse_valid(periods, xmlsafe.load_schema(kp.SETTLEMENT_SCHEMA))[1]
    with pytest.raises(MalformedMessage, match="expected SettlementFile"):
        kp.decode_settlement_file(periods)
