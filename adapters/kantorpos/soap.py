"""SOAP 1.1 envelopes as the Kantor Pos profile uses them: build one (an lxml tree) around a
payload, open one to find its payload, and build or read a SOAP Fault.

The profile is a strict subset of SOAP 1.1 (namespace :data:`SOAP_NS`), document/literal:

* ``soap:Envelope`` holds an optional, empty ``soap:Header`` and one ``soap:Body``;
* the Body holds **exactly one** element: the message, or a ``soap:Fault``;
* a Fault has ``faultcode`` (a QName in the SOAP namespace: ``soap:Client``, ``soap:Server``,
  ``soap:VersionMismatch``, ``soap:MustUnderstand``, optionally refined with dots as SOAP 1.1
  allows: ``soap:Client.Format``), ``faultstring``, an optional ``faultactor`` and an optional
  ``detail`` (this profile puts one ``kp:FaultDetail`` there).

Opening an envelope checks its structure and raises
:class:`~jamsostek_channels.errors.MalformedMessage` with a reason naming what is wrong; an
envelope in the SOAP 1.2 namespace raises :class:`EnvelopeVersionMismatch`, which a server
answers with a ``soap:VersionMismatch`` fault. Schema validation of the whole envelope is the
caller's next step (:mod:`.codec`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

import attrs
from lxml import etree

from jamsostek_channels.adapters.kantorpos.xmlsafe import malformed
from jamsostek_channels.errors import MalformedMessage

__all__ = [
    "BODY",
    "CONTENT_TYPE",
    "ENVELOPE",
    "FAULT",
    "HEADER",
    "SOAP12_NS",
    "SOAP_NS",
    "EnvelopeVersionMismatch",
    "FaultCode",
    "SoapFault",
    "add_fault",
    "new_envelope",
    "open_envelope",
    "read_fault",
]

SOAP_NS: Final = "http://schemas.xmlsoap.org/soap/envelope/"
#: SOAP 1.2's namespace: recognised only to answer it with a VersionMismatch fault.
SOAP12_NS: Final = "http://www.w3.org/2003/05/soap-envelope"
#: The HTTP ``Content-Type`` of every SOAP 1.1 request and answer.
CONTENT_TYPE: Final = "text/xml; charset=utf-8"

ENVELOPE: Final = f"{{{SOAP_NS}}}Envelope"
HEADER: Final = f"{{{SOAP_NS}}}Header"
BODY: Final = f"{{{SOAP_NS}}}Body"
FAULT: Final = f"{{{SOAP_NS}}}Fault"

_FAULT_STRING_MAX = 512


class EnvelopeVersionMismatch(MalformedMessage):
    """The envelope is not SOAP 1.1 (a SOAP 1.2 envelope, most likely)."""


class FaultCode(enum.StrEnum):
    """SOAP 1.1's four fault codes (section 4.4.1)."""

    VERSION_MISMATCH = "VersionMismatch"
    MUST_UNDERSTAND = "MustUnderstand"
    CLIENT = "Client"  #: the request was wrong or refused: sending it again unchanged fails again
    SERVER = "Server"  #: the server failed: the same request may succeed later


@attrs.frozen
class SoapFault:
    """A SOAP Fault as read from (or written to) the wire.

    ``subcode`` is the dotted refinement after the code (``"Format"`` in ``soap:Client.Format``),
    ``detail`` the elements inside ``detail`` (none when it is absent).
    """

    code: FaultCode
    string: str
    subcode: str | None = None
    actor: str | None = None
    detail: tuple[etree._Element, ...] = attrs.field(default=(), eq=False, repr=False)


def new_envelope(
    payload_nsmap: Mapping[str, str] | None = None,
) -> tuple[etree._Element, etree._Element]:
    """An empty ``soap:Envelope/soap:Body``: ``(envelope, body)``. The payload's prefixes are
    declared once, on the envelope, after ``soap`` (so a Fault's ``soap:Client`` and every
    message element share the same declarations)."""
    nsmap: dict[str, str] = {"soap": SOAP_NS}
    for prefix, uri in (payload_nsmap or {}).items():
        if prefix not in nsmap and uri != SOAP_NS:
            nsmap[prefix] = uri
    envelope = etree.Element(ENVELOPE, nsmap=nsmap)
    return envelope, etree.SubElement(envelope, BODY)


def add_fault(
    body: etree._Element,
    code: FaultCode,
    string: str,
    *,
    subcode: str | None = None,
    actor: str | None = None,
) -> etree._Element:
    """A ``soap:Fault`` appended to ``body`` with ``faultcode``, ``faultstring`` (cut at 512
    characters) and ``faultactor``; the caller appends a ``detail`` if there is one. lxml's
    ``ValueError`` for a character XML cannot carry is left to the caller, who names it."""
    fault = etree.SubElement(body, FAULT)
    _add(fault, "faultcode", f"soap:{code.value}" + (f".{subcode}" if subcode else ""))
    _add(fault, "faultstring", string[:_FAULT_STRING_MAX])
    if actor is not None:
        _add(fault, "faultactor", actor)
    return fault


def _add(parent: etree._Element, name: str, text: str) -> None:
    """One unqualified Fault child (SOAP 1.1 leaves them in no namespace)."""
    child = etree.SubElement(parent, name)
    if text:  # no empty text node: an empty faultstring is written <faultstring/>
        child.text = text


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _elements(parent: etree._Element) -> list[etree._Element]:
    """Child elements, refusing text between them (comments and PIs never reach here)."""
    if not _blank(parent.text):
        raise malformed(f"{_display(parent)} must not contain text")
    children = []
    for child in parent:
        if not isinstance(child.tag, str):
            raise malformed(f"{_display(parent)} holds something other than elements")
        if not _blank(child.tail):
            raise malformed(f"{_display(parent)} must not contain text")
        children.append(child)
    return children


def _display(element: etree._Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else "?"
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    local = local[:40]
    return f"soap:{local}" if namespace == SOAP_NS else local


def open_envelope(root: etree._Element) -> etree._Element:
    """The one element inside ``soap:Body`` (the message, or a ``soap:Fault``).

    Raises :class:`MalformedMessage` unless ``root`` is a SOAP 1.1 envelope holding an optional
    empty Header, then a Body, and nothing else, and the Body holds exactly one element;
    :class:`EnvelopeVersionMismatch` for a SOAP 1.2 envelope.
    """
    if root.tag != ENVELOPE:
        if isinstance(root.tag, str) and root.tag.startswith(f"{{{SOAP12_NS}}}"):
            raise EnvelopeVersionMismatch(
                "message.malformed", {"reason": "SOAP 1.2 is not supported: send SOAP 1.1"}
            )
        raise malformed("the document is not a SOAP 1.1 envelope", field="Envelope")
    if root.attrib:
        raise malformed("soap:Envelope must not have attributes", field="soap:Envelope")
    parts = _elements(root)
    if parts and parts[0].tag == HEADER:
        header = parts.pop(0)
        if len(header) or not _blank(header.text) or header.attrib:
            raise malformed("SOAP header blocks are not supported", field="soap:Header")
    if len(parts) != 1 or parts[0].tag != BODY:
        raise malformed("the envelope must hold one soap:Body (after an optional soap:Header)")
    body = parts[0]
    if body.attrib:
        raise malformed("soap:Body must not have attributes", field="soap:Body")
    payload = _elements(body)
    if len(payload) != 1:
        raise malformed(
            f"soap:Body must hold exactly one element (found {len(payload)})", field="soap:Body"
        )
    return payload[0]


def _fault_code(element: etree._Element) -> tuple[FaultCode, str | None]:
    text = (element.text or "").strip()
    prefix, _, name = text.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    code, _, subcode = name.partition(".")
    if namespace != SOAP_NS or code not in FaultCode._value2member_map_:
        raise malformed("faultcode is not a SOAP 1.1 fault code", field="faultcode")
    return FaultCode(code), subcode or None


def read_fault(fault: etree._Element) -> SoapFault:
    """Read a ``soap:Fault`` element (already schema-valid or not: the structure is checked)."""
    if fault.tag != FAULT:
        raise malformed("not a soap:Fault", field="soap:Fault")
    parts = {child.tag: child for child in _elements(fault)}
    code_element = parts.get("faultcode")
    string_element = parts.get("faultstring")
    if code_element is None or string_element is None:
        raise malformed("a soap:Fault needs faultcode and faultstring", field="soap:Fault")
    code, subcode = _fault_code(code_element)
    actor = parts.get("faultactor")
    detail = parts.get("detail")
    return SoapFault(
        code=code,
        string=(string_element.text or "")[:_FAULT_STRING_MAX],
        subcode=subcode,
        actor=None if actor is None else (actor.text or ""),
        detail=() if detail is None else tuple(_elements(detail)),
    )
