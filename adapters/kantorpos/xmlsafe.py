"""The one hardened way in for XML, and the XSDs every Kantor Pos message is checked against.

Whatever the bytes, :func:`parse` returns an element or raises
:class:`~jamsostek_channels.errors.MalformedMessage` (``message.too_large`` or
``message.malformed`` with a short English reason); no lxml exception ever escapes. The rules,
in the order they are applied (cheapest first, and all of the byte checks before any parser
sees the document):

1. more than ``max_bytes`` (:data:`MAX_BYTES`, 256 KiB, for a message; the settlement reader
   passes its own, larger, limit) is ``message.too_large``, refused before anything else;
2. the bytes must be UTF-8 (an optional UTF-8 byte-order mark is allowed), with no NUL byte and
   an XML declaration, if any, that says version 1.x and UTF-8;
3. **no DOCTYPE at all** (nor an ``<!ENTITY``): a SOAP message or a settlement file never has
   one, so refusing the bytes outright means no entity is ever declared, let alone expanded or
   fetched: XXE with ``file:`` or network entities, "billion laughs", parameter entities and
   external DTDs all stop here, before parsing;
4. the parser itself is locked down as a second line (:func:`new_parser`): no entity
   resolution, no network, no DTD loading or validation, no ``huge_tree`` (so libxml2's own
   limits stay on: it abandons a document nested deeper than 256 levels *while parsing*, so a
   10 000-deep document never becomes a 10 000-deep tree), comments and processing instructions
   dropped;
5. nesting deeper than ``max_depth`` (:data:`MAX_DEPTH`, 32) is refused right after parsing,
   by one compiled XPath, before anything reads the tree (the deepest Kantor Pos message is 6
   levels);
6. no attribute from the XML Schema instance namespace (``xsi:type``, ``xsi:nil``,
   ``xsi:schemaLocation``): a sender cannot steer the validator. The tree is searched
   whenever the bytes spell the namespace or hold any reference (``&``), so a namespace
   spelled with a character reference is still caught.

:func:`parse_valid` is :func:`parse` for a reader that validates next: it checks rule 6, runs
the validator (C code, bounded by libxml2's own depth limit) and searches the depth (rule 5)
only when the document is not valid - a valid one is no deeper than its schema allows, which
the tests hold under :data:`MAX_DEPTH` for every shipped schema.

Schemas come from the installed package (``jamsostek_channels.schemas``, folder
``kantorpos/``) through :mod:`importlib.resources`, are parsed with the same hardened parser,
and their ``xs:include``/``xs:import`` are answered from that folder only: any other location
(a file path, a URL) is refused, so loading a schema never touches the disk elsewhere or the
network. :func:`validate` reports the first schema error as ``message.malformed`` naming the
element (and attribute) with the line, never the offending value.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from importlib import resources
from typing import Final, cast

from lxml import etree

from jamsostek_channels.errors import MalformedMessage
from jamsostek_channels.messages import echo

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "SCHEMA_BASE",
    "SCHEMA_FOLDER",
    "SCHEMA_PACKAGE",
    "XSI_NS",
    "load_schema",
    "malformed",
    "new_parser",
    "parse",
    "parse_valid",
    "schema_names",
    "schema_parser",
    "schema_text",
    "validate",
]

#: The largest message any decoder reads (bytes); a larger one is refused before parsing.
MAX_BYTES: Final = 256 * 1024
#: The deepest element nesting accepted (the root element is at depth 1).
MAX_DEPTH: Final = 32
#: Where the XSDs live: ``jamsostek_channels.schemas`` / ``kantorpos/``.
SCHEMA_PACKAGE: Final = "jamsostek_channels.schemas"
SCHEMA_FOLDER: Final = "kantorpos"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"

_BOM = b"\xef\xbb\xbf"
_XSI_ATTRIBUTE = etree.XPath(f"boolean(//@*[namespace-uri()='{XSI_NS}'])")
#: The XSI namespace's distinctive part, as the bytes must spell it without a reference.
_XSI_BYTES = b"XMLSchema-instance"
#: ``<?xml version="1.x" encoding="…" standalone="…"?>``, each part as XML 1.0 allows it.
_DECLARATION = re.compile(
    rb"<\?xml\s+version\s*=\s*([\"'])1\.[0-9]+\1"
    rb"(?:\s+encoding\s*=\s*([\"'])([A-Za-z][A-Za-z0-9._\-]*)\2)?"
    rb"(?:\s+standalone\s*=\s*([\"'])(?:yes|no)\4)?\s*\?>"
)
#: The declaration every document of this profile starts with (the regex need not read it).
_OUR_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
_MARKUP_DECLARATION = re.compile(rb"<!\s*(?i:doctype|entity|element|attlist|notation)")
_UTF8_NAMES = frozenset({"utf-8", "utf8"})
#: libxml2's own nesting limit without huge_tree; it stops parsing there.
_LIBXML2_DEPTH = 256


def malformed(reason: str, *, field: str | None = None) -> MalformedMessage:
    """``message.malformed`` with ``reason`` (short English, no document content)."""
    return MalformedMessage("message.malformed", {"reason": reason}, field=field)


# -- parsing ---------------------------------------------------------------------------------


def new_parser() -> etree.XMLParser:
    """A parser that resolves no entity, loads no DTD, never touches the network, keeps
    libxml2's size and depth limits (no ``huge_tree``) and drops comments and processing
    instructions. Input is always read as UTF-8, whatever a declaration says."""
    return etree.XMLParser(
        encoding="utf-8",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        remove_blank_text=False,
        strip_cdata=True,
        collect_ids=False,
    )


_local = threading.local()


def _parser() -> etree.XMLParser:
    # One parser per thread: lxml serialises concurrent use of one parser object.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = new_parser()
    return parser


def _check_bytes(data: bytes) -> bytes:
    """Steps 2 and 3: the byte-level rules. Returns the document without a byte-order mark."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise malformed("the document is not UTF-8") from None
    if b"\x00" in data:
        raise malformed("the document contains a NUL byte")
    if data.startswith(b"<?xml") and not data.startswith(_OUR_DECLARATION):
        declaration = _DECLARATION.match(data)
        if declaration is None:
            raise malformed("the XML declaration is not well formed")
        encoding = declaration[3]
        if encoding is not None and encoding.decode("ascii").lower() not in _UTF8_NAMES:
            raise malformed("the document must be encoded in UTF-8")
    # "!" alone is found far faster than "<!", and most documents have none.
    if b"!" in data and b"<!" in data and _MARKUP_DECLARATION.search(data):
        raise malformed("a DOCTYPE or entity declaration is not allowed")
    return data


def _build_tree(data: bytes) -> etree._Element:
    """The only call into libxml2's parser (tests replace it to prove what never reaches it)."""
    return etree.fromstring(data, _parser())


@functools.lru_cache(maxsize=8)
def _deeper_than(depth: int) -> etree.XPath:
    return etree.XPath("boolean(" + "/*" * (depth + 1) + ")")


def _parsed(data: bytes, max_bytes: int) -> tuple[bytes, etree._Element]:
    """Steps 1 to 4: ``(bytes without a byte-order mark, root)``."""
    if data.__class__ is not bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise malformed("the message is not bytes")
        data = bytes(data)
    if len(data) > max_bytes:
        raise MalformedMessage("message.too_large", {"max": max_bytes})
    raw = _check_bytes(data)
    try:
        root = _build_tree(raw)
    except etree.XMLSyntaxError as error:
        if "depth" in (error.msg or "").lower():
            raise malformed(f"nested more than {_LIBXML2_DEPTH} levels deep") from None
        raise malformed(f"not well-formed XML (line {error.lineno or 1})") from None
    except (etree.LxmlError, ValueError, TypeError):  # defensive: lxml refusing the input
        raise malformed("not well-formed XML") from None
    # A DOCTYPE is markup, never spelled by a reference: without "<!" in the bytes there is none.
    if b"!" in raw and b"<!" in raw:
        docinfo = root.getroottree().docinfo
        if getattr(docinfo, "doctype", "") or getattr(docinfo, "internalDTD", None) is not None:
            raise malformed("a DOCTYPE or entity declaration is not allowed")
    return raw, root


def _check_xsi(raw: bytes, root: etree._Element) -> None:
    """Step 6. An xsi: attribute needs the XSI namespace declared, spelled either literally or
    with a character reference (there are no other entities: no DTD). Bytes with neither cannot
    hold one; otherwise the tree is searched, so a namespace spelled with a reference is
    caught."""
    if (b"&" in raw or raw.find(_XSI_BYTES) >= 0) and _XSI_ATTRIBUTE(root):
        raise malformed("xsi: attributes are not allowed")


def _check_depth(raw: bytes, root: etree._Element, max_depth: int) -> None:
    """Step 5. Every element starts with a "<" not followed by "/": with no more of those than
    ``max_depth``, no element can be deeper, and the tree need not be searched."""
    if raw.count(b"<") - raw.count(b"</") > max_depth and _deeper_than(max_depth)(root):
        raise malformed(f"nested more than {max_depth} levels deep")


def parse(data: bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> etree._Element:
    """The root element of ``data``, parsed under every rule in the module docstring.

    Raises :class:`MalformedMessage`: ``message.too_large`` over ``max_bytes``, otherwise
    ``message.malformed`` with a reason such as "a DOCTYPE or entity declaration is not
    allowed" or "not well-formed XML (line 3)".
    """
    raw, root = _parsed(data, max_bytes)
    _check_depth(raw, root, max_depth)
    _check_xsi(raw, root)
    return root


def parse_valid(
    data: bytes,
    schema: etree.XMLSchema,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> tuple[etree._Element, bool]:
    """:func:`parse`, then whether the document is valid against ``schema``: ``(root,
    valid)``. The validator (C code, bounded by libxml2's own depth limit) runs before the depth
    search, which only an invalid document needs: a valid one is no deeper than its schema
    allows (``tests/test_kantorpos_codec.py`` holds every shipped schema under
    :data:`MAX_DEPTH`). Call :func:`validate` for the worded error of an invalid one."""
    raw, root = _parsed(data, max_bytes)
    _check_xsi(raw, root)  # before the validator: a sender must not steer it
    if schema.validate(root):
        return root, True
    _check_depth(raw, root, max_depth)
    return root, False


# -- schemas ---------------------------------------------------------------------------------


def _folder() -> resources.abc.Traversable:
    return resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FOLDER)


def schema_names() -> list[str]:
    """The XSD files shipped in ``jamsostek_channels.schemas/kantorpos``."""
    return sorted(item.name for item in _folder().iterdir() if item.name.endswith(".xsd"))


def schema_text(name: str) -> bytes:
    """The bytes of one shipped XSD (``KeyError`` for a name that is not shipped)."""
    if name not in schema_names():
        raise KeyError(name)
    return _folder().joinpath(name).read_bytes()


#: The base URL the shipped schemas are parsed under; only names under it resolve.
SCHEMA_BASE: Final = "jamsostek-schemas:/" + SCHEMA_FOLDER + "/"


class _LocalSchemas(etree.Resolver):
    """Answers ``xs:include``/``xs:import`` from the shipped folder; refuses anything else."""

    def resolve(  # type: ignore[override]
        self, system_url: str | None, public_id: str | None, context: object
    ) -> object:
        name = (system_url or "").rsplit("/", 1)[-1]
        if not (system_url or "").startswith(SCHEMA_BASE) or name not in schema_names():
            raise LookupError("only the shipped Kantor Pos schemas may be included")
        return self.resolve_string(schema_text(name), context, base_url=SCHEMA_BASE + name)


def schema_parser() -> etree.XMLParser:
    """:func:`new_parser` whose ``xs:include``/``xs:import`` (and any other external
    reference) can only reach the shipped schemas (base URL :data:`SCHEMA_BASE`)."""
    parser = new_parser()
    parser.resolvers.add(_LocalSchemas())
    return parser


def _compile(name: str) -> etree.XMLSchema:
    document = etree.fromstring(schema_text(name), schema_parser(), base_url=SCHEMA_BASE + name)
    return etree.XMLSchema(document)


def load_schema(name: str) -> etree.XMLSchema:
    """The compiled XSD ``name`` (e.g. ``"kantorpos-envelope-1.xsd"``), once per thread.

    lxml keeps a validator's error log on the validator object, so threads do not share one.
    A schema that fails to compile is a packaging error and raises lxml's own exception.
    """
    cache: dict[str, etree.XMLSchema] | None = getattr(_local, "schemas", None)
    if cache is None:
        cache = _local.schemas = {}
    schema = cache.get(name)
    if schema is None:
        schema = cache[name] = _compile(name)
    return schema


# -- validation ------------------------------------------------------------------------------

_ELEMENT = re.compile(r"Element '([^']*)'(?:, attribute '([^']*)')?")
_EXPECTED = re.compile(r"Expected is(?: one of)? \( ([^)]*) \)")
_REQUIRED_ATTRIBUTE = re.compile(r"The attribute '([^']*)' is required")
_CLARK = re.compile(r"\{([^}]*)\}(.*)")

#: The profile's namespaces (versions 1 and 2): their elements are named by local name alone.
_KP_NS = frozenset({"urn:jamsostek-channels:kantorpos:1", "urn:jamsostek-channels:kantorpos:2"})
_SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"

#: libxml2 error type -> what it means, in words that never include the value.
_PHRASES: dict[str, str] = {
    "SCHEMAV_CVC_MININCLUSIVE_VALID": "is below its minimum",
    "SCHEMAV_CVC_MINEXCLUSIVE_VALID": "is below its minimum",
    "SCHEMAV_CVC_MAXINCLUSIVE_VALID": "is above its maximum",
    "SCHEMAV_CVC_MAXEXCLUSIVE_VALID": "is above its maximum",
    "SCHEMAV_CVC_PATTERN_VALID": "does not have the required format",
    "SCHEMAV_CVC_ENUMERATION_VALID": "is not one of the allowed values",
    "SCHEMAV_CVC_LENGTH_VALID": "has the wrong length",
    "SCHEMAV_CVC_MINLENGTH_VALID": "is too short",
    "SCHEMAV_CVC_MAXLENGTH_VALID": "is too long",
    "SCHEMAV_CVC_TOTALDIGITS_VALID": "has too many digits",
    "SCHEMAV_CVC_FRACTIONDIGITS_VALID": "has too many digits",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1": "is not a valid value of its type",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_2": "is not a valid value of its type",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_3": "is not a valid value of its type",
    "SCHEMAV_CVC_TYPE_3_1_1": "must not have attributes",
    "SCHEMAV_CVC_TYPE_3_1_2": "must not have child elements",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_1": "must be empty",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_3": "must not contain text",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_4": "has content that is not allowed",
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1": "has an attribute that is not allowed",
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_2": "has an attribute that is not allowed",
    "SCHEMAV_CVC_COMPLEX_TYPE_4": "is missing a required attribute",
    "SCHEMAV_CVC_ELT_1": "is not a known element (wrong namespace or version?)",
    "SCHEMAV_CVC_WILDCARD": "is not a known message (wrong namespace or version?)",
    "SCHEMAV_CVC_IDC": "repeats a value that must be unique",
    "SCHEMAV_CVC_AU": "has an attribute value that is not allowed",
    "SCHEMAV_CVC_ELT_4_3": "has an xsi:type that is not allowed",
}


def _name(clark: str) -> str:
    """A display name for ``{ns}local``: ``local`` in our namespace, ``soap:local`` in SOAP's,
    ``other:local`` elsewhere (a foreign namespace is named, not echoed). Made safe to log."""
    match = _CLARK.fullmatch(clark)
    if match is None:
        return echo(clark)
    namespace, local = match[1], echo(match[2])
    if namespace in _KP_NS:
        return local
    if namespace == _SOAP_NS:
        return f"soap:{local}"
    return f"other:{local}"


def _names(listing: str) -> str:
    names = [_name(item.strip()) for item in listing.split(",") if item.strip()]
    return ", ".join(names[:4]) + (", …" if len(names) > 4 else "")


def _local_name(element: etree._Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else "?"
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    name = echo(local)
    if namespace == _SOAP_NS:
        return f"soap:{name}"
    return name if namespace in _KP_NS else f"other:{name}"


def _located(document: etree._Element, path: str | None) -> str | None:
    """The element libxml2's ``path`` points at, as local names from the message element down
    (``InquiryResponse/bills/bill[2]/amount``); ``None`` when it cannot be found again."""
    if not path:
        return None
    namespaces: dict[str, str] = {}
    for element in document.iter():
        for prefix, uri in element.nsmap.items():
            if prefix:
                namespaces.setdefault(prefix, uri)
    try:
        found = document.xpath(path, namespaces=namespaces)
    except (etree.XPathError, ValueError, TypeError):
        return None
    if not isinstance(found, list) or len(found) != 1 or not isinstance(found[0], etree._Element):
        return None
    steps: list[str] = []
    node: etree._Element | None = found[0]
    while node is not None and node.tag not in (f"{{{_SOAP_NS}}}Body", f"{{{_SOAP_NS}}}Envelope"):
        parent = node.getparent()
        step = _local_name(node)
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == node.tag]
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/".join(reversed(steps)) or None


def _describe(document: etree._Element, entry: etree._LogEntry) -> tuple[str, str | None]:
    """``(reason, field)`` for one schema error: element, what is wrong, line; no values."""
    message = entry.message or ""
    match = _ELEMENT.match(message)
    element = _located(document, entry.path) or (_name(match[1]) if match else None)
    attribute = echo(match[2]) if match and match[2] else None
    field = element if attribute is None or element is None else f"{element}@{attribute}"
    kind = entry.type_name or ""
    if kind == "SCHEMAV_ELEMENT_CONTENT":
        expected = _EXPECTED.search(message)
        if "not expected" in message:
            what = "is not expected here"
        elif "Missing child" in message:
            what = "is missing a child element"
        else:
            what = "has content that is not allowed"
        if expected:
            what += f" (expected {_names(expected[1])})"
    elif kind.startswith("SCHEMAV_CVC_IDC"):
        what = _PHRASES["SCHEMAV_CVC_IDC"]
    else:
        what = _PHRASES.get(kind, "does not match the schema")
        required = _REQUIRED_ATTRIBUTE.search(message)
        if kind == "SCHEMAV_CVC_COMPLEX_TYPE_4" and required:
            what = f"is missing its {echo(required[1])} attribute"
    subject = field or "the document"
    line = f" (line {entry.line})" if entry.line else ""
    return f"{subject} {what}{line}", field


def validate(document: etree._Element | etree._ElementTree, schema: etree.XMLSchema) -> None:
    """Raise ``message.malformed`` naming the first schema error's element (and attribute) and
    line, unless ``document`` is valid against ``schema``. ``field`` is the element's name."""
    if schema.validate(document):
        return
    root = document.getroot() if isinstance(document, etree._ElementTree) else document
    errors = iter(cast("Iterable[etree._LogEntry]", schema.error_log))
    first = next(errors, None)
    if first is None:
        raise malformed("the document does not match the schema")
    reason, field = _describe(root, first)
    raise malformed(reason, field=field)
