"""Hostile XML at the Kantor Pos decoders: every attack is refused with MalformedMessage, before
it can cost anything, and no other exception ever escapes a decoder.

"Before it costs anything" is shown without timing: the byte-level refusals are proven to
happen before libxml2 is called (the one call into the parser is replaced by a tripwire), a
network entity is shown never to connect (a listening socket sees no connection), and the
Python-side allocations of a refusal are bounded with tracemalloc.
"""

from __future__ import annotations

import re
import socket
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from jamsostek_channels.adapters.kantorpos import codec, examples, wire, xmlsafe
from jamsostek_channels.adapters.kantorpos.settlement import decode_settlement_file
from jamsostek_channels.adapters.kantorpos.soap import EnvelopeVersionMismatch
from jamsostek_channels.errors import HostDeclined, MalformedMessage

DOCUMENTS = examples.example_documents()
PAYMENT = DOCUMENTS["payment.request"]
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

#: Every decoder, by name (a response decoder may also raise HostDeclined from a Fault).
DECODERS: dict[str, Callable[[bytes], object]] = {
    "request": codec.decode_request,
    "registration_request": codec.decode_registration_request,
    "registration_confirm": codec.decode_registration_confirm,
    "inquiry_request": codec.decode_inquiry_request,
    "payment_request": codec.decode_payment_request,
    "status_request": codec.decode_status_request,
    "reversal_request": codec.decode_reversal_request,
    "registration_challenge": codec.decode_registration_challenge,
    "registration_result": codec.decode_registration_result,
    "inquiry_response": codec.decode_inquiry_response,
    "payment_response": codec.decode_payment_response,
    "status_response": codec.decode_status_response,
    "reversal_response": codec.decode_reversal_response,
    "fault": codec.decode_fault,
    "settlement": decode_settlement_file,
}


@pytest.fixture
def parser_tripwire(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Replace the one call into libxml2's parser: a test using this proves its refusal
    happened on the bytes, before any parsing."""
    seen: list[bytes] = []

    def tripwire(data: bytes) -> etree._Element:
        seen.append(data)
        raise AssertionError("the parser was reached")

    monkeypatch.setattr(xmlsafe, "_build_tree", tripwire)
    yield seen
    assert not seen


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening TCP socket on 127.0.0.1: any attempt to fetch a URL there would connect."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.setblocking(False)
    yield server
    server.close()


def assert_never_connected(server: socket.socket) -> None:
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return
    connection.close()
    raise AssertionError("something connected to the listener")


def refused(data: bytes, decoder: Callable[[bytes], object] = codec.decode_payment_request) -> str:
    with pytest.raises(MalformedMessage) as caught:
        decoder(data)
    return caught.value.message_en


def with_doctype(doctype: bytes, body: bytes = PAYMENT) -> bytes:
    """``body`` with a DOCTYPE after its XML declaration."""
    return body.replace(DECLARATION, DECLARATION + doctype + b"\n", 1)


# -- entities and DTDs ---------------------------------------------------------------------------

XXE_FILE = with_doctype(
    b'<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    PAYMENT.replace(b"<kp:teller>LKT01</kp:teller>", b"<kp:teller>&xxe;</kp:teller>"),
)

BILLION_LAUGHS = DECLARATION + (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">'
        % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
        for level in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>"
)


def test_xxe_with_a_file_entity_is_refused_before_parsing(parser_tripwire: list[bytes]) -> None:
    message = refused(XXE_FILE)
    assert "DOCTYPE" in message
    assert "root:" not in message


def test_xxe_with_a_network_entity_never_connects(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    attack = with_doctype(
        b'<!DOCTYPE soap:Envelope [<!ENTITY net SYSTEM "http://127.0.0.1:%d/x">]>' % port,
        PAYMENT.replace(b"<kp:teller>LKT01</kp:teller>", b"<kp:teller>&net;</kp:teller>"),
    )
    assert "DOCTYPE" in refused(attack)
    assert_never_connected(listener)


def test_the_parser_itself_fetches_and_expands_nothing(listener: socket.socket) -> None:
    """The second line of defence, on its own: the hardened parser given a DOCTYPE directly."""
    port = listener.getsockname()[1]
    document = (
        b'<!DOCTYPE r [<!ENTITY f SYSTEM "file:///etc/passwd">'
        b'<!ENTITY n SYSTEM "http://127.0.0.1:%d/x">]><r>&f;&n;</r>' % port
    )
    try:
        root = etree.fromstring(document, xmlsafe.new_parser())
    except etree.XMLSyntaxError:
        pass
    else:
        assert "root:" not in etree.tostring(root).decode()
    assert_never_connected(listener)
    try:
        root = etree.fromstring(BILLION_LAUGHS, xmlsafe.new_parser())
    except etree.XMLSyntaxError:
        return
    assert len(etree.tostring(root)) < 10_000  # references kept, never expanded


def test_billion_laughs_is_refused_before_parsing(parser_tripwire: list[bytes]) -> None:
    assert "DOCTYPE" in refused(BILLION_LAUGHS)


def test_billion_laughs_costs_next_to_nothing() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(MalformedMessage):
            codec.decode_payment_request(BILLION_LAUGHS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024


@pytest.mark.parametrize(
    "doctype",
    [
        pytest.param(b'<!DOCTYPE soap:Envelope SYSTEM "http://127.0.0.1:9/evil.dtd">', id="dtd"),
        pytest.param(
            b'<!DOCTYPE soap:Envelope PUBLIC "-//X//Y" "file:///etc/passwd">', id="public-dtd"
        ),
        pytest.param(
            b'<!DOCTYPE soap:Envelope [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
            id="parameter-entity",
        ),
        pytest.param(
            b"<!DOCTYPE soap:Envelope [<!ENTITY % d \"<!ENTITY x 'y'>\"> %d;]>",
            id="parameter-entity-declaring-an-entity",
        ),
        pytest.param(b"<!DOCTYPE soap:Envelope>", id="bare-doctype"),
        pytest.param(b"<!doctype soap:Envelope>", id="lower-case"),
        pytest.param(b"<!  DOCTYPE soap:Envelope>", id="spaced"),
    ],
)
def test_every_doctype_is_refused_before_parsing(
    doctype: bytes, parser_tripwire: list[bytes]
) -> None:
    assert "DOCTYPE" in refused(with_doctype(doctype))


def test_an_external_dtd_is_never_fetched(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    attack = with_doctype(b'<!DOCTYPE soap:Envelope SYSTEM "http://127.0.0.1:%d/e.dtd">' % port)
    refused(attack)
    assert_never_connected(listener)


def test_an_entity_declaration_without_doctype_is_refused(parser_tripwire: list[bytes]) -> None:
    attack = PAYMENT.replace(b"<soap:Body>", b"<soap:Body><!ENTITY x 'y'>")
    assert "DOCTYPE or entity" in refused(attack)


def test_an_undeclared_entity_reference_is_refused() -> None:
    attack = PAYMENT.replace(b"<kp:teller>LKT01</kp:teller>", b"<kp:teller>&x;</kp:teller>")
    assert "not well-formed" in refused(attack)


# -- size, depth, encoding -----------------------------------------------------------------------


def test_a_300_kib_document_is_too_large_before_parsing(parser_tripwire: list[bytes]) -> None:
    padding = b"<!--" + b"x" * (300 * 1024) + b"-->"
    attack = PAYMENT.replace(b"<soap:Body>", b"<soap:Body>" + padding)
    with pytest.raises(MalformedMessage) as caught:
        codec.decode_payment_request(attack)
    assert caught.value.code == "message.too_large"
    assert "262144" in caught.value.message_en


def test_size_limit_counts_bytes_exactly() -> None:
    limit = wire.Limits(max_bytes=len(PAYMENT))
    assert codec.decode_payment_request(PAYMENT, limits=limit).amount == 72600
    with pytest.raises(MalformedMessage) as caught:
        codec.decode_payment_request(PAYMENT + b" ", limits=limit)
    assert caught.value.code == "message.too_large"


def nested(depth: int) -> bytes:
    inner = b"<kp:x>" * depth + b"</kp:x>" * depth
    return PAYMENT.replace(b"<kp:amount>72600</kp:amount>", inner)


def test_ten_thousand_levels_are_refused_without_building_them() -> None:
    attack = nested(10_000)
    assert len(attack) < xmlsafe.MAX_BYTES
    tracemalloc.start()
    try:
        message = refused(attack)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # libxml2 stops reading at 256 levels: the tree never gets 10 000 deep.
    assert "nested more than 256 levels" in message
    assert peak < 256 * 1024


@pytest.mark.parametrize("depth", [30, 40, 200])
def test_nesting_over_the_limit_is_refused(depth: int) -> None:
    # The amount sits at depth 4: the document is depth + 3 deep.
    assert "nested more than 32 levels" in refused(nested(depth))


def test_depth_limit_is_exact() -> None:
    root = etree.fromstring(b"<a>" * 32 + b"</a>" * 32)
    assert sum(1 for _ in root.iter()) == 32
    xmlsafe.parse(b"<a>" * 32 + b"</a>" * 32)
    with pytest.raises(MalformedMessage, match="nested more than 32 levels"):
        xmlsafe.parse(b"<a>" * 33 + b"</a>" * 33)
    xmlsafe.parse(b"<a>" * 40 + b"</a>" * 40, max_depth=40)


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param(PAYMENT.replace(b"LKT01", b"LKT\xff\xfe"), id="invalid-utf8"),
        pytest.param(PAYMENT.replace(b"LKT01", b"LKT\xc0\xaf"), id="overlong-utf8"),
        pytest.param(PAYMENT.decode().encode("utf-16"), id="utf-16"),
        pytest.param(PAYMENT.replace(b"LKT01", b"LKT\x00"), id="nul-byte"),
        pytest.param(PAYMENT.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'), id="latin-1"),
        pytest.param(PAYMENT.replace(b'encoding="UTF-8"', b'encoding="UTF-16"'), id="utf-16-decl"),
        pytest.param(
            PAYMENT.replace(b'version="1.0" encoding', b"version=1.0 encoding"), id="decl"
        ),
    ],
)
def test_anything_but_utf8_is_refused_before_parsing(
    attack: bytes, parser_tripwire: list[bytes]
) -> None:
    refused(attack)


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    assert codec.decode_payment_request(b"\xef\xbb\xbf" + PAYMENT).amount == 72600


# -- not XML, not one root, not our envelope ---------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"hello", id="text"),
        pytest.param(b'{"amount": 72600}', id="json"),
        pytest.param(b"<a>", id="unclosed"),
        pytest.param(b"<a></b>", id="mismatched"),
        pytest.param(b"<a/><b/>", id="two-roots"),
        pytest.param(PAYMENT + b"<soap:Envelope/>", id="two-envelopes"),
        pytest.param(PAYMENT + b"trailing", id="trailing-text"),
        pytest.param(PAYMENT.replace(b"<kp:office>", b"<kp:office a='1' a='2'>"), id="dup-attr"),
        pytest.param(PAYMENT.replace(b"72600<", b"72600&#0;<"), id="char-ref-nul"),
    ],
)
def test_what_is_not_one_well_formed_document_is_refused(attack: bytes) -> None:
    refused(attack)


def envelope(body: bytes, header: bytes = b"") -> bytes:
    return (
        DECLARATION + b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
        b' xmlns:kp="urn:jamsostek-channels:kantorpos:2">' + header + body + b"</soap:Envelope>"
    )


PAYLOAD = PAYMENT[PAYMENT.index(b"<kp:PaymentRequest") : PAYMENT.index(b"</soap:Body>")]


@pytest.mark.parametrize(
    ("attack", "reason"),
    [
        pytest.param(envelope(b"<soap:Body></soap:Body>"), "exactly one element (found 0)", id="0"),
        pytest.param(envelope(b"<soap:Body/>"), "exactly one element (found 0)", id="empty-tag"),
        pytest.param(
            envelope(b"<soap:Body>" + PAYLOAD + PAYLOAD + b"</soap:Body>"),
            "exactly one element (found 2)",
            id="2",
        ),
        pytest.param(
            envelope(b"<soap:Body>text" + PAYLOAD + b"</soap:Body>"),
            "must not contain text",
            id="t",
        ),
        pytest.param(envelope(b""), "one soap:Body", id="no-body"),
        pytest.param(
            envelope(b"<soap:Body>" + PAYLOAD + b"</soap:Body><soap:Body/>"),
            "one soap:Body",
            id="two-bodies",
        ),
        pytest.param(
            envelope(
                b"<soap:Body>" + PAYLOAD + b"</soap:Body>", b"<soap:Header><x/></soap:Header>"
            ),
            "header blocks",
            id="header-block",
        ),
        pytest.param(
            PAYLOAD.replace(b"<kp:PaymentRequest", b'<kp:PaymentRequest xmlns:kp="urn:x"', 1),
            "not a SOAP 1.1 envelope",
            id="bare-payload",
        ),
        pytest.param(
            PAYMENT.replace(b"<soap:Body>", b'<soap:Body soap:encodingStyle="x">'),
            "must not have attributes",
            id="encoding-style",
        ),
    ],
)
def test_the_envelope_must_hold_one_body_with_one_element(attack: bytes, reason: str) -> None:
    assert reason in refused(attack)


def test_an_empty_header_is_tolerated() -> None:
    document = envelope(b"<soap:Body>" + PAYLOAD + b"</soap:Body>", b"<soap:Header/>")
    assert codec.decode_payment_request(document).amount == 72600


def test_a_soap_12_envelope_is_a_version_mismatch() -> None:
    attack = PAYMENT.replace(
        b"http://schemas.xmlsoap.org/soap/envelope/", b"http://www.w3.org/2003/05/soap-envelope"
    )
    with pytest.raises(EnvelopeVersionMismatch):
        codec.decode_payment_request(attack)


@pytest.mark.parametrize(
    "attribute",
    [
        b'xsi:type="xs:string"',
        b'xsi:schemaLocation="urn:x http://127.0.0.1:9/x.xsd"',
        b'xsi:noNamespaceSchemaLocation="file:///etc/passwd"',
        b'xsi:nil="true"',
    ],
)
def test_xsi_attributes_are_refused(attribute: bytes) -> None:
    declaration = b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    attack = PAYMENT.replace(b"<kp:amount>", b"<kp:amount " + declaration + b" " + attribute + b">")
    assert "xsi:" in refused(attack)


def test_an_xsi_namespace_spelled_with_a_character_reference_is_still_refused() -> None:
    spelled = b"http://www.w3.org/2001/XMLSchema&#45;instance"
    attack = PAYMENT.replace(
        b"<soap:Envelope ", b'<soap:Envelope xmlns:x="' + spelled + b'" '
    ).replace(b"<kp:amount>", b'<kp:amount x:type="kp:Rupiah">')
    assert "xsi:" in refused(attack)


def test_an_xsi_namespace_declaration_alone_is_fine() -> None:
    """Some SOAP stacks declare xsi on every envelope; only its attributes are refused."""
    declared = PAYMENT.replace(
        b"<soap:Envelope ",
        b'<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ',
    )
    assert codec.decode_payment_request(declared).amount == 72600


def test_an_xinclude_is_not_processed() -> None:
    attack = PAYMENT.replace(
        b"<kp:teller>LKT01</kp:teller>",
        b'<kp:teller><xi:include xmlns:xi="http://www.w3.org/2001/XInclude"'
        b' href="file:///etc/passwd" parse="text"/></kp:teller>',
    )
    assert "root:" not in refused(attack)


# -- comments and processing instructions --------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "trick"),
    [
        (b"<kp:amount>72600</kp:amount>", b"<kp:amount>72<!-- 0 -->600</kp:amount>"),
        (b"<kp:amount>72600</kp:amount>", b"<kp:amount>72<?x 9?>600</kp:amount>"),
        (b"<kp:amount>72600</kp:amount>", b"<kp:amount><![CDATA[72]]>600</kp:amount>"),
        (b"<soap:Body>", b"<soap:Body><!-- <kp:amount>1</kp:amount> --><?kp amount=1?>"),
        (DECLARATION, DECLARATION + b'<?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?><!--c-->'),
    ],
)
def test_comments_and_processing_instructions_are_transparent(
    original: bytes, trick: bytes
) -> None:
    """What is validated is what is read: a comment or a PI never splits, hides or adds a
    value (the validator and the reader see the same text)."""
    expected = codec.decode_payment_request(PAYMENT)
    assert codec.decode_payment_request(PAYMENT.replace(original, trick, 1)) == expected


def test_a_comment_cannot_smuggle_a_different_value_past_validation() -> None:
    trick = PAYMENT.replace(b"<kp:amount>72600</kp:amount>", b"<kp:amount>-<!-- -->1</kp:amount>")
    assert "amount" in refused(trick)


def test_refusals_never_echo_the_document() -> None:
    secret = b"3201015508950001"
    attack = PAYMENT.replace(
        b"<kp:amount>72600</kp:amount>", b"<kp:amount>" + secret + b"</kp:amount>"
    )
    with pytest.raises(MalformedMessage) as caught:
        codec.decode_payment_request(attack)
    text = f"{caught.value.message_en} {caught.value.message_id} {caught.value.field}"
    assert secret.decode() not in text
    assert re.search(r"PaymentRequest/amount .* \(line \d+\)", caught.value.message_en)


# -- hypothesis: nothing but MalformedMessage (or HostDeclined from a Fault) ever escapes -------

ALLOWED = (MalformedMessage, HostDeclined)


def decode_with_every_decoder(data: bytes) -> None:
    for name, decoder in DECODERS.items():
        try:
            decoder(data)
        except ALLOWED:
            pass
        except Exception as error:  # pragma: no cover - the assertion's message
            raise AssertionError(f"{name} raised {type(error).__name__}: {error}") from error


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(data: bytes) -> None:
    decode_with_every_decoder(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_inside_an_envelope(data: bytes) -> None:
    decode_with_every_decoder(envelope(b"<soap:Body>" + data + b"</soap:Body>"))


SAMPLES = sorted(DOCUMENTS)
_TEXT_NODE = re.compile(rb">([^<>\n]+)<")
_TAG = re.compile(rb"<(/?)kp:(\w+)")


def _unwrapped(document: bytes, data: st.DataObject) -> bytes:
    """One element of ``document`` made the whole document (a message without its envelope, a
    bare ``kp:periods``: valid against schemas that declare them as global elements)."""
    try:
        root = etree.fromstring(document, etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return document
    elements = [element for element in root.iter() if isinstance(element.tag, str)]
    chosen = data.draw(st.sampled_from(elements))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(chosen)


def mutate(document: bytes, data: st.DataObject) -> bytes:
    kinds = ["bytes", "text", "tag", "drop", "duplicate", "swap", "unwrap"]
    kind = data.draw(st.sampled_from(kinds))
    if kind == "unwrap":
        return _unwrapped(document, data)
    if kind == "bytes":
        start = data.draw(st.integers(0, len(document)))
        end = data.draw(st.integers(start, min(len(document), start + 16)))
        return document[:start] + data.draw(st.binary(max_size=16)) + document[end:]
    texts = list(_TEXT_NODE.finditer(document))
    tags = list(_TAG.finditer(document))
    if kind == "text" and texts:
        match = data.draw(st.sampled_from(texts))
        value = data.draw(
            st.sampled_from([b"", b" ", b"-1", b"0", b"999999999999999", b"2026-13", b"true"])
            | st.text(max_size=24).map(lambda t: t.encode("utf-8", "surrogatepass"))
        )
        return document[: match.start(1)] + value + document[match.end(1) :]
    if kind == "tag" and tags:
        match = data.draw(st.sampled_from(tags))
        name = data.draw(st.sampled_from([b"amount", b"reference", b"bill", b"x", b"periods"]))
        return document[: match.start(2)] + name + document[match.end(2) :]
    lines = document.split(b"\n")
    index = data.draw(st.integers(0, len(lines) - 1))
    if kind == "drop":
        del lines[index]
    elif kind == "duplicate":
        lines.insert(index, lines[index])
    else:
        other = data.draw(st.integers(0, len(lines) - 1))
        lines[index], lines[other] = lines[other], lines[index]
    return b"\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SAMPLES), st.data())
def test_mutations_of_valid_messages(sample: str, data: st.DataObject) -> None:
    document = DOCUMENTS[sample]
    for _ in range(data.draw(st.integers(1, 3))):
        document = mutate(document, data)
    decode_with_every_decoder(document)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["00", "09", "05", "14", "30", "31", "91", "96", "999", "7"]),
    st.sampled_from(["Client", "Server", "VersionMismatch", "MustUnderstand", "Other"]),
    st.booleans(),
)
def test_any_fault_becomes_a_typed_error(code: str, faultcode: str, detail: bool) -> None:
    fault = DOCUMENTS["inquiry.fault"].replace(
        b"<kp:responseCode>14<", b"<kp:responseCode>%s<" % code.encode()
    )
    fault = fault.replace(b"soap:Client", b"soap:" + faultcode.encode())
    if not detail:
        fault = re.sub(rb"\s*<detail>.*</detail>", b"", fault, flags=re.S)
    decode_with_every_decoder(fault)
