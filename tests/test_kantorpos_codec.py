"""The Kantor Pos codec's promises beyond plain round trips: a value of the wrong Python type is
refused naming its element, libxml2 words every other refusal (and accepts whatever is sent),
any valid spelling of a message is read the same, valid documents stay under
``xmlsafe.MAX_DEPTH`` (so ``parse_valid`` may skip the depth search for them), and a bare
message or another global element is not taken for a whole document."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from jamsostek_channels.adapters.kantorpos import codec, examples, soap, wire, xmlsafe
from jamsostek_channels.adapters.kantorpos import types as kp
from jamsostek_channels.adapters.kantorpos.settlement import decode_settlement_file
from jamsostek_channels.channel import CustomerId, CustomerIdKind
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import MalformedMessage
from jamsostek_channels.model import Payer, PayerKind, Sex
from jamsostek_channels.period import YearMonth

KP = wire.NAMESPACE
XS = "http://www.w3.org/2001/XMLSchema"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
MESSAGES = examples.example_messages()
DOCUMENTS = examples.example_documents()
#: XML 1.0's Char production: what lxml lets us put in a text at all.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sample(name: str) -> Any:
    """One example message (typed loosely: each test knows which type it picked)."""
    return MESSAGES[name]


def xml_legal(text: str) -> bool:
    return _XML_ILLEGAL.search(text) is None


# -- wrong Python types are refused naming the element; libxml2 words the rest -------------------


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
            codec.encode(evolve_path(original, path, value))
        field = caught.value.field or ""
        # The element's path from the message down; a cross-field rule the element alone.
        named = field.startswith(f"{message_name}/") and field.endswith(f"/{element}")
        assert named or field == element, (value, field)


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
        codec.encode(evolve_path(sample(name), path, value))


@pytest.mark.parametrize("value", ["KP&1", "KP<1>", "KP\r1"])
def test_markup_in_a_field_is_escaped_for_libxml2_to_word_the_error(value: str) -> None:
    """Escaped by lxml, the document is well-formed and libxml2 names the element."""
    wrong = attrs.evolve(sample("payment.request"), reference=value)
    with pytest.raises(MalformedMessage) as caught:
        codec.encode(wrong)
    assert caught.value.field == "PaymentRequest/reference"
    assert "does not have the required format" in caught.value.message_en


def libxml2_refusal(document: bytes) -> MalformedMessage | None:
    try:
        xmlsafe.validate(xmlsafe.parse(document), xmlsafe.load_schema(wire.ENVELOPE_SCHEMA))
    except MalformedMessage as error:
        return error
    return None


#: Texts near the edges of the schema's types, and a few no type accepts.
NEAR_VALID = ["", " ", "0", "-1", " 5", "1.0", "٣", "2026-13", "KP 1", "a\tb", "x" * 300, "a\x00b"]
hostile_texts = st.sampled_from(NEAR_VALID) | st.text(max_size=24)


def valid_or(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> Any:
    """``valid`` about three times in four: a message has a dozen fields."""
    return st.one_of(valid, valid.map(lambda value: value), valid.map(lambda v: v), hostile)


@settings(max_examples=150, deadline=None)
@given(
    st.builds(
        kp.PosPaymentRequest,
        office=valid_or(st.just("40115"), hostile_texts),
        teller=valid_or(st.just("LKT01"), hostile_texts),
        reference=valid_or(st.from_regex(r"[0-9A-Za-z._\-]{1,64}", fullmatch=True), hostile_texts),
        customer=st.builds(
            CustomerId,
            st.sampled_from(CustomerIdKind),
            valid_or(st.just("3201015508950001"), hostile_texts),
        ),
        periods=st.lists(
            st.builds(YearMonth, st.integers(1900, 9999), st.integers(1, 12)), max_size=13
        ).map(tuple),
        amount=valid_or(st.integers(0, 999_999_999_999), st.integers(-(10**15), 10**15)),
        admin_fee=valid_or(st.integers(0, 10**6), st.integers(-(10**15), 10**15)),
        payer=st.builds(
            kp.PosPayer,
            st.sampled_from(PayerKind),
            st.none() | hostile_texts,
            st.none() | hostile_texts,
        ),
        requested_at=st.datetimes(timezones=st.sampled_from([JAKARTA, dt.UTC])) | st.datetimes(),
        inquiry_id=st.none() | hostile_texts,
        repeat=st.booleans(),
    )
)
def test_encode_sends_only_what_libxml2_accepts_and_refuses_the_rest_typed(
    message: kp.PosPaymentRequest,
) -> None:
    refused: MalformedMessage | None = None
    try:
        document = codec.encode(message)
    except MalformedMessage as error:
        refused = error
    if refused is not None:
        assert refused.code == "message.malformed"
        return
    refusal = libxml2_refusal(document)
    assert refusal is None, f"encode sent bytes libxml2 refuses: {refusal}"


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
    code=st.sampled_from(soap.FaultCode),
    string=st.text(
        st.sampled_from(SPECIAL + " \t\n\rab") | st.characters(exclude_categories=["Cs"]),
        max_size=40,
    ).filter(xml_legal),
    message_en=st.none() | one_line(255),
)
@example(soap.FaultCode.CLIENT, "a\r\nb\n", None)
@example(soap.FaultCode.SERVER, "", "A & B <C> \"d\" 'e'")
def test_fault_texts_survive_the_round_trip(
    code: soap.FaultCode, string: str, message_en: str | None
) -> None:
    fault = kp.PosFault(code, string, response_code="30", message_en=message_en)
    assert codec.decode_fault(codec.encode_fault(fault)) == fault


# -- any valid spelling is read the same -----------------------------------------------------------


def respelled(document: bytes, prefix: str | None, *, pretty: bool) -> bytes:
    """``document`` with the kp namespace under ``prefix`` (``None``: the default namespace),
    written compact or pretty: the same information, other bytes."""
    source = etree.fromstring(document, etree.XMLParser(remove_blank_text=True))

    def copy(element: etree._Element, parent: etree._Element | None) -> etree._Element:
        if parent is None:
            namespace = source.nsmap.get("kp", KP)  # the document's version
            nsmap: dict[Any, str] = {"soap": soap.SOAP_NS, prefix: namespace}  # None: default
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
def test_every_optional_combination_is_read_back_in_any_spelling(
    inquiry: bool, kind: CustomerIdKind, payer_parts: tuple[bool, bool, bool]
) -> None:
    months = 1 + sum(payer_parts) * 3 + (2 if inquiry else 0)  # 1 to 12 months across cases
    message = payment_request(inquiry=inquiry, kind=kind, payer_parts=payer_parts, months=months)
    document = codec.encode_payment_request(message)
    assert codec.decode_payment_request(document) == message
    for prefix in ("kp", None, "pos"):
        for pretty in (False, True):
            assert (
                codec.decode_payment_request(respelled(document, prefix, pretty=pretty)) == message
            )


def test_respelling_really_changes_the_bytes() -> None:
    """The re-serialisations above are other documents, not the same bytes again."""
    document = DOCUMENTS["payment.request"]
    default = respelled(document, None, pretty=False)
    assert b"<kp:" not in default
    assert f'xmlns="{wire.NAMESPACES[2]}"'.encode() in default
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
    document = codec.encode_payment_request(message)
    assert codec.decode_payment_request(document) == message
    assert codec.decode_payment_request(respelled(document, prefix, pretty=pretty)) == message


# -- depth: valid documents are shallow, deep ones are refused -----------------------------------


def _xs(name: str) -> str:
    return f"{{{XS}}}{name}"


def _declarations() -> tuple[dict[str, etree._Element], dict[str, etree._Element]]:
    """Every shipped schema's global elements and named complex types, by name."""
    elements: dict[str, etree._Element] = {}
    types: dict[str, etree._Element] = {}
    for name in xmlsafe.schema_names():
        schema = etree.fromstring(xmlsafe.schema_text(name))
        if schema.get("targetNamespace") != KP:
            continue  # the envelope: its levels are counted in ABOVE
        for child in schema:
            if child.tag == _xs("element"):
                elements[child.get("name", "")] = child
            elif child.tag == _xs("complexType"):
                types[child.get("name", "")] = child
    return elements, types


def _particles(node: etree._Element) -> list[etree._Element]:
    """The element declarations of a content model (not those nested inside them)."""
    found: list[etree._Element] = []
    for child in node:
        if child.tag == _xs("element"):
            found.append(child)
        elif child.tag in (_xs("sequence"), _xs("choice"), _xs("complexType")):
            found.extend(_particles(child))
        else:
            assert child.tag in (_xs("attribute"), _xs("annotation"), _xs("unique")), child.tag
    return found


def declared_depth(declaration: etree._Element, seen: frozenset[str] = frozenset()) -> int:
    """Levels from a declared element down to its deepest descendant (1: a leaf)."""
    elements, types = _declarations()
    reference = declaration.get("ref")
    if reference is not None:
        return declared_depth(elements[reference.rpartition(":")[2]], seen)
    name = declaration.get("name", "")
    assert name not in seen, f"{name} is recursive: no depth bound"
    type_name = declaration.get("type", "").rpartition(":")[2]
    content = types.get(type_name) if type_name else declaration.find(_xs("complexType"))
    if content is None:
        return 1  # simple content
    return 1 + max((declared_depth(p, seen | {name}) for p in _particles(content)), default=0)


#: Levels above each kind of root: Envelope and Body above a message; Envelope, Body, Fault
#: and detail above FaultDetail; none above the settlement file.
ABOVE = {"FaultDetail": 4, "SettlementFile": 0}


def test_every_valid_document_is_within_max_depth() -> None:
    elements, _ = _declarations()
    roots = {name: element for name, element in elements.items() if name[0].isupper()}
    assert {"PaymentRequest", "FaultDetail", "SettlementFile"} <= set(roots)
    depths = {name: ABOVE.get(name, 2) + declared_depth(e) for name, e in roots.items()}
    assert max(depths.values()) <= xmlsafe.MAX_DEPTH, depths
    # RegistrationRequest/participant/occupations/occupation, under Envelope and Body.
    assert depths["RegistrationRequest"] == 6


def test_declared_depth_measures_an_example_document() -> None:
    """declared_depth counts what a document really nests: the encoded registration request."""
    root = etree.fromstring(DOCUMENTS["registration.request"])

    def depth(element: etree._Element) -> int:
        return 1 + max((depth(child) for child in element), default=0)

    elements, _ = _declarations()
    assert depth(root) == 2 + declared_depth(elements["RegistrationRequest"])


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
        codec.decode_payment_request(document)
    assert f"nested more than {xmlsafe.MAX_DEPTH} levels" in caught.value.message_en


def test_a_document_exactly_max_depth_deep_is_refused_for_its_content_not_depth() -> None:
    """The limit is exact: at MAX_DEPTH levels the depth is fine and the schema's complaint
    (kp:amount must not have children) is what is reported."""
    document = nested_in_amount(xmlsafe.MAX_DEPTH - 4)
    with pytest.raises(MalformedMessage) as caught:
        codec.decode_payment_request(document)
    assert "nested" not in caught.value.message_en
    assert caught.value.field == "PaymentRequest/amount"


@pytest.mark.parametrize("name", ["payment.request", "inquiry.response"])
def test_a_message_without_its_envelope_is_refused_though_the_schema_declares_it(
    name: str,
) -> None:
    """The envelope XSD imports the messages as global elements, so a bare message is valid
    against it: the reader must still see that it is not an envelope."""
    root = etree.fromstring(DOCUMENTS[name])
    bare = DECLARATION + etree.tostring(root[-1][0])
    assert xmlsafe.parse_valid(bare, xmlsafe.load_schema(wire.ENVELOPE_SCHEMA))[1]
    with pytest.raises(MalformedMessage, match=r"not a SOAP 1\.1 envelope"):
        codec.decode_request(bare) if name.endswith("request") else codec.decode_inquiry_response(
            bare
        )


def test_a_settlement_file_whose_root_is_another_global_element_is_refused() -> None:
    periods = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<kp:periods xmlns:kp="urn:jamsostek-channels:kantorpos:1"><kp:month>2026-11</kp:month>'
        b"</kp:periods>"
    )
    assert xmlsafe.parse_valid(periods, xmlsafe.load_schema(wire.SETTLEMENT_SCHEMA))[1]
    with pytest.raises(MalformedMessage, match="expected SettlementFile"):
        decode_settlement_file(periods)
