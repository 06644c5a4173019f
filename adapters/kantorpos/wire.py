"""How Kantor Pos XML spells one value, both ways, with plain lxml; and the send-side check.

Shared by :mod:`.codec` (SOAP messages) and :mod:`.settlement` (the daily file).

Writing: each ``add_*`` appends one child element in its parent's namespace (version 1 or 2:
children are qualified, in the message element's namespace) and refuses a Python
value of the wrong type with :class:`~jamsostek_channels.errors.MalformedMessage` naming the
element (``PaymentRequest/payer/name``): attrs does not check types, and ``str()`` of a wrong
value (``"72600"``, ``True``) could otherwise pass the schema by accident. Whether a value of the
right type is *valid* is libxml2's call alone: :func:`validated_bytes` serialises the finished
tree and validates those bytes against the shipped XSD, exactly as a receiver would, before
anything is sent.

Spelling: whole rupiah, months ``YYYY-MM``, dates ``YYYY-MM-DD``, instants
``2026-11-23T09:30:05+07:00`` (Asia/Jakarta; a fraction only when there is one), booleans
``true``/``false``; optional values that are ``None`` are left out; two-space indentation.

Reading: :class:`Children` finds a validated element's children by tag, and the ``read_*``
converters turn their text into values, each raising ``MalformedMessage`` naming the element,
so a reader stays total even on a tree the schema did not vouch for.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Callable
from typing import Final, TypeVar

import attrs
from lxml import etree

from jamsostek_channels.adapters.kantorpos import soap, xmlsafe
from jamsostek_channels.adapters.kantorpos.xmlsafe import malformed
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import MalformedMessage
from jamsostek_channels.period import YearMonth

__all__ = [
    "CURRENT_MAJOR",
    "DECLARATION",
    "ENVELOPE_SCHEMA",
    "MESSAGE_LIMITS",
    "NAMESPACE",
    "NAMESPACES",
    "NSMAP",
    "SETTLEMENT_LIMITS",
    "SETTLEMENT_SCHEMA",
    "VERSION",
    "VERSIONS",
    "Children",
    "Limits",
    "add_bool",
    "add_date",
    "add_enum",
    "add_group",
    "add_instant",
    "add_int",
    "add_items",
    "add_month",
    "add_text",
    "display_name",
    "format_instant",
    "major_of",
    "nsmap",
    "qname",
    "read_bool",
    "read_date",
    "read_enum",
    "read_instant",
    "read_int",
    "read_month",
    "read_text",
    "unencodable",
    "validated_bytes",
]

#: The namespace of version 1; its last segment is the major version. (The settlement file is
#: still version 1's.)
NAMESPACE: Final = "urn:jamsostek-channels:kantorpos:1"
#: Each major version's namespace: 2 adds a request's send time (``sentAt``) and the payment
#: a status answer found (``kantorpos-2.xsd``).
NAMESPACES: Final = {1: NAMESPACE, 2: "urn:jamsostek-channels:kantorpos:2"}
#: The major version the library sends.
CURRENT_MAJOR: Final = 2
#: The minor version of version 1, written on its message elements (``version="1.0"``).
VERSION: Final = "1.0"
#: Each major version's ``version`` attribute.
VERSIONS: Final = {1: VERSION, 2: "2.0"}
#: The prefix every document of version 1 binds :data:`NAMESPACE` to.
NSMAP: Final = {"kp": NAMESPACE}
#: The XSD a whole SOAP envelope is validated against: it imports both versions' messages, as a
#: host serving both namespaces during the migration receives them.
ENVELOPE_SCHEMA: Final = "kantorpos-envelope-2.xsd"
#: The XSD of the daily settlement file.
SETTLEMENT_SCHEMA: Final = "kantorpos-settlement-1.xsd"
#: The first line of every document (lxml would write single quotes).
DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'

_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.Enum)


@attrs.frozen
class Limits:
    """The hardened reader's limits for one kind of document (see :mod:`.xmlsafe`)."""

    max_bytes: int = xmlsafe.MAX_BYTES
    max_depth: int = xmlsafe.MAX_DEPTH


#: Limits for SOAP messages: 256 KiB, 32 levels.
MESSAGE_LIMITS: Final = Limits()
#: Limits for a settlement file: 64 MiB (100,000 lines, a very busy day, are about 40 MB).
SETTLEMENT_LIMITS: Final = Limits(max_bytes=64 * 1024 * 1024)


@functools.cache
def qname(local: str, namespace: str = NAMESPACE) -> str:
    """``{namespace}local``, lxml's spelling of ``kp:local`` (version 1 unless told)."""
    return f"{{{namespace}}}{local}"


def nsmap(major: int) -> dict[str, str]:
    """The prefix map of a document of version ``major``."""
    return {"kp": NAMESPACES[major]}


def _namespace(element: etree._Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def major_of(element: etree._Element) -> int | None:
    """The major version whose namespace ``element`` is in, or None."""
    namespace = _namespace(element)
    return next((major for major, known in NAMESPACES.items() if known == namespace), None)


def child_tag(parent: etree._Element, name: str) -> str:
    """The tag of ``parent``'s child ``name``: in ``parent``'s namespace when it is one of the
    profile's (children are qualified), else version 1's."""
    namespace = _namespace(parent)
    return qname(name, namespace if namespace in NAMESPACES.values() else NAMESPACE)


def display_name(element: etree._Element) -> str:
    """An element's name for an error: ``PaymentRequest``, ``soap:Fault``, or where it came
    from when that is the problem (``PaymentRequest in another namespace``)."""
    tag = element.tag if isinstance(element.tag, str) else "?"
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    local = local[:40]
    if namespace in NAMESPACES.values():
        return local
    if namespace == soap.SOAP_NS:
        return f"soap:{local}"
    return f"{local} in another namespace" if namespace else f"{local} without a namespace"


def format_instant(moment: dt.datetime) -> str:
    """``2026-11-23T09:30:05+07:00``: Asia/Jakarta, seconds, a fraction only when there is one.
    Raises ``ValueError`` for a naive datetime."""
    if not isinstance(moment, dt.datetime) or moment.utcoffset() is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(JAKARTA).isoformat()  # this very form, for a fixed +07:00 zone


# -- writing ------------------------------------------------------------------------------------


def _path(parent: etree._Element, name: str) -> str:
    """``PaymentRequest/payer/name``: from the message element (or the file's root) down."""
    steps = [name]
    node: etree._Element | None = parent
    while node is not None and node.tag not in (soap.BODY, soap.ENVELOPE):
        steps.append(display_name(node))
        node = node.getparent()
    return "/".join(reversed(steps))


def unencodable(parent: etree._Element, name: str, problem: str) -> MalformedMessage:
    """``message.malformed``: the child ``name`` of ``parent`` cannot be written."""
    path = _path(parent, name)
    return malformed(f"cannot encode {path}: {problem}", field=path)


def _add(parent: etree._Element, name: str, text: str) -> None:
    child = etree.SubElement(parent, child_tag(parent, name))
    if not text:
        return  # no empty text node: lxml then writes <kp:x/>
    try:
        child.text = text
    except ValueError:  # lxml refuses a character XML 1.0 cannot carry (NUL, a lone surrogate)
        raise unencodable(parent, name, "a character XML cannot carry") from None


def add_text(parent: etree._Element, name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise unencodable(parent, name, "must be a string")
    _add(parent, name, value)


def add_int(parent: etree._Element, name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise unencodable(parent, name, "must be an integer")
    try:
        text = str(value)
    except ValueError:  # more digits than Python converts (and far more than any schema allows)
        raise unencodable(parent, name, "out of range") from None
    _add(parent, name, text)


def add_bool(parent: etree._Element, name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise unencodable(parent, name, "must be a boolean")
    _add(parent, name, "true" if value else "false")


def add_month(parent: etree._Element, name: str, value: object) -> None:
    if not isinstance(value, YearMonth):
        raise unencodable(parent, name, "must be a YearMonth")
    _add(parent, name, str(value))


def add_date(parent: etree._Element, name: str, value: object) -> None:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise unencodable(parent, name, "must be a date")
    _add(parent, name, value.isoformat())


def add_instant(
    parent: etree._Element, name: str, value: object, *, optional: bool = False
) -> None:
    if value is None and optional:
        return
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise unencodable(parent, name, "must be an aware datetime")
    try:
        text = format_instant(value)
    except (ValueError, OverflowError):  # e.g. 9999-12-31T23:00Z is past year 9999 in Jakarta
        raise unencodable(parent, name, "out of range") from None
    _add(parent, name, text)


def add_enum(
    parent: etree._Element,
    name: str,
    value: object,
    kind: type[enum.Enum],
    *,
    optional: bool = False,
) -> None:
    if value is None and optional:
        return
    if not isinstance(value, kind):
        raise unencodable(parent, name, f"must be a {kind.__name__}")
    _add(parent, name, str(value.value))


def add_group(parent: etree._Element, name: str, value: object, kind: type) -> etree._Element:
    """An element holding others, for ``value`` (which must be a ``kind``): the caller fills it."""
    if not isinstance(value, kind):
        raise unencodable(parent, name, f"must be a {kind.__name__}")
    return etree.SubElement(parent, child_tag(parent, name))


def add_items(parent: etree._Element, name: str, value: object, kind: type[_T]) -> tuple[_T, ...]:
    """``value`` checked to be a tuple of ``kind`` (for the repeated elements of ``name``)."""
    if not isinstance(value, tuple) or not all(isinstance(item, kind) for item in value):
        raise unencodable(parent, name, f"must be a tuple of {kind.__name__}")
    return value


def validated_bytes(root: etree._Element, schema: str) -> bytes:
    """The document ``root`` as bytes, once libxml2 has accepted them against ``schema``.

    The bytes are parsed again by the hardened reader and validated as a receiver would see
    them, so what libxml2 refuses is never sent and the error (naming the element and line) is
    libxml2's: ``message.malformed``."""
    document = DECLARATION + etree.tostring(
        root, encoding="UTF-8", xml_declaration=False, pretty_print=True
    )
    received = xmlsafe.parse(document, max_bytes=max(xmlsafe.MAX_BYTES, len(document)))
    xmlsafe.validate(received, xmlsafe.load_schema(schema))
    return document


# -- reading ------------------------------------------------------------------------------------


class Children:
    """An element's children by tag; the schema has vouched for which ones there are, and a
    required one that is missing all the same is refused by name, never misread."""

    __slots__ = ("_by_tag", "element")

    def __init__(self, element: etree._Element) -> None:
        self.element = element
        # Children are qualified in their parent's namespace (version 1 or 2): by local name.
        namespace = "{" + _namespace(element) + "}"
        self._by_tag = {
            child.tag.removeprefix(namespace): child
            for child in element
            if isinstance(child.tag, str) and child.tag.startswith(namespace)
        }

    def maybe_element(self, name: str) -> etree._Element | None:
        return self._by_tag.get(name)

    def element_of(self, name: str) -> etree._Element:
        child = self._by_tag.get(name)
        if child is None:
            raise malformed(f"{name} is missing", field=name)
        return child

    def group(self, name: str) -> Children:
        return Children(self.element_of(name))

    def maybe_group(self, name: str) -> Children | None:
        child = self.maybe_element(name)
        return None if child is None else Children(child)

    def value(self, name: str, read: Callable[[str, str], _T]) -> _T:
        """The child ``name``'s text through ``read`` (one of the ``read_*`` converters)."""
        return read(self.element_of(name).text or "", name)

    def maybe(self, name: str, read: Callable[[str, str], _T]) -> _T | None:
        child = self.maybe_element(name)
        return None if child is None else read(child.text or "", name)

    def months(self, name: str) -> tuple[YearMonth, ...]:
        """The ``kp:month`` items of the list element ``name`` (none when it is left out)."""
        holder = self.maybe_element(name)
        if holder is None:
            return ()
        return tuple(read_month(month.text or "", "month") for month in holder)


def read_text(text: str, name: str) -> str:
    return text


def read_int(text: str, name: str) -> int:
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise malformed(f"{name} is not a whole number", field=name)
    return int(text)


def read_bool(text: str, name: str) -> bool:
    text = text.strip()
    if text not in ("true", "false", "1", "0"):
        raise malformed(f"{name} is not a boolean", field=name)
    return text in ("true", "1")


def read_month(text: str, name: str) -> YearMonth:
    try:
        return YearMonth.parse(text.strip())
    except ValueError:
        raise malformed(f"{name} is not a month (YYYY-MM)", field=name) from None


def read_date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise malformed(f"{name} is not a date", field=name) from None


_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,6}))?(Z|([+-])([0-9]{2}):([0-9]{2}))"
)


def read_instant(text: str, name: str) -> dt.datetime:
    """Any offset (or ``Z``) and a fraction of 1 to 6 digits; the result is in Asia/Jakarta."""
    match = _INSTANT.fullmatch(text.strip())
    if match is None:
        raise malformed(f"{name} is not a date-time with an offset", field=name)
    try:
        if match[8] == "Z":
            zone = dt.UTC
        else:
            sign = -1 if match[9] == "-" else 1
            zone = dt.timezone(sign * dt.timedelta(hours=int(match[10]), minutes=int(match[11])))
        moment = dt.datetime(
            int(match[1]),
            int(match[2]),
            int(match[3]),
            int(match[4]),
            int(match[5]),
            int(match[6]),
            int((match[7] or "0").ljust(6, "0")),
            tzinfo=zone,
        )
        return moment.astimezone(JAKARTA)
    except (ValueError, OverflowError):
        raise malformed(f"{name} is not a valid date-time", field=name) from None


def read_enum(kind: type[_E]) -> Callable[[str, str], _E]:
    """A converter to a member of ``kind``, found by its value."""

    def read(text: str, name: str) -> _E:
        try:
            return kind(text.strip())
        except ValueError:
            raise malformed(f"{name} is not one of the allowed values", field=name) from None

    return read
