"""The message XSDs compiled into per-element checks, for the encoder's outbound validation.

Validating every outbound message with libxml2 costs as much as building it, so the encoder
(:mod:`.xmltext`) validates in two parts that together say what the XSD says:

* **values**, on every message: each element's text is checked against the facets of its
  simple type, read from the shipped XSDs by this module (patterns, enumerations, bounds,
  lengths, the base type's own lexical rules) together with the ``xs:unique`` constraints;
* **structure** (which elements, in which order, how many), by libxml2 on the first message of
  each shape: the writer's code decides the structure, so a shape that passed once passes
  always (see ``messages.encode``).

A value any check doubts sends the message through libxml2 in full, so the error reported is
always libxml2's. The compiler understands exactly the XSD constructs the shipped schemas use
and raises :class:`UnsupportedSchema` on any other, so extending a schema beyond that fails the
test suite instead of silently checking less; ``tests/test_kantorpos_writer.py`` holds the
compiled checks equal to libxml2 on generated hostile values.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from typing import Final

from lxml import etree

from jamsostek_channels.adapters.kantorpos import xmlsafe

__all__ = [
    "MESSAGES_SCHEMA",
    "Check",
    "Rule",
    "UnsupportedSchema",
    "schema_rules",
    "translate_pattern",
    "type_checks",
]

#: The XSD holding the message elements (it includes the shared types).
MESSAGES_SCHEMA: Final = "kantorpos-1.xsd"

_XS = "http://www.w3.org/2001/XMLSchema"
_KP = "urn:jamsostek-channels:kantorpos:1"

#: A compiled check: truthy when the text is a valid value.
Check = Callable[[str], object]


class UnsupportedSchema(Exception):
    """The schema uses an XSD construct this compiler does not translate."""


class Rule:
    """One element declaration: its children's rules by local name (element content) or the
    checks of its text (simple content), and its ``xs:unique`` constraint, if any:
    ``(selector, field)`` as local names, the field ``"."`` for the selected element itself.

    ``check`` takes any text; ``canonical`` only a text in its base type's canonical lexical
    form (what the encoder's formatters write: ``str(int)``, ``date.isoformat()``,
    ``true``/``false``, an ISO instant), so only the restrictions' facets remain to check.
    ``None`` means there is nothing to check. ``markup_free``: no valid text holds a
    character element content must escape."""

    __slots__ = ("canonical", "check", "children", "markup_free", "name", "unique")

    def __init__(
        self,
        name: str,
        simple: _SimpleType | None,
        children: Mapping[str, Rule] | None,
        unique: tuple[str, str] | None,
    ) -> None:
        self.name = name
        self.check = simple.compiled() if simple is not None else None
        self.canonical = simple.compiled(canonical=True) if simple is not None else None
        self.markup_free = simple is not None and simple.markup_free
        self.children = children
        self.unique = unique

    def __repr__(self) -> str:
        kind = "element content" if self.children is not None else "simple content"
        return f"<Rule {self.name}: {kind}>"


# -- XSD regular expressions -------------------------------------------------------------------

#: XSD's \s is exactly these four characters (Python's is all of Unicode's whitespace).
_XSD_SPACE = " \t\n\r"
#: Single-character escapes that mean the character itself, in and out of brackets.
_LITERAL_ESCAPES = frozenset("\\|.-^?*+{}()[]")
_CONTROL_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}


def _escape_char(char: str) -> str:
    return re.escape(char)


def _class_item_escape(pattern: str, at: int) -> tuple[str, int]:
    """A backslash escape inside brackets at ``pattern[at]`` (the backslash)."""
    char = pattern[at + 1 : at + 2]
    if char in _LITERAL_ESCAPES:
        return _escape_char(char), at + 2
    if char in _CONTROL_ESCAPES:
        return _escape_char(_CONTROL_ESCAPES[char]), at + 2
    if char == "s":
        return "".join(_escape_char(c) for c in _XSD_SPACE), at + 2
    if char == "d":
        return r"\d", at + 2
    raise UnsupportedSchema(f"escape \\{char} inside brackets in pattern {pattern!r}")


def _translate_class(pattern: str, at: int) -> tuple[str, int]:
    """``[...]`` starting at ``pattern[at]``; returns the Python class and the index after."""
    out = ["["]
    at += 1
    if pattern[at : at + 1] == "^":
        out.append("^")
        at += 1
    first = True
    while True:
        if at >= len(pattern):
            raise UnsupportedSchema(f"unclosed bracket in pattern {pattern!r}")
        char = pattern[at]
        if char == "]" and not first:
            out.append("]")
            return "".join(out), at + 1
        if char == "[" or pattern.startswith("-[", at):
            raise UnsupportedSchema(f"character class subtraction in pattern {pattern!r}")
        if char == "\\":
            item, at = _class_item_escape(pattern, at)
        elif char == "-" and not first and pattern[at + 1 : at + 2] not in ("]", ""):
            item, at = "-", at + 1  # a range between the items either side
        else:
            item, at = _escape_char(char), at + 1
        out.append(item)
        first = False


#: The characters element content must escape: a type that can hold none needs no escaping.
_MARKUP = "&<>\r"


def _admits_markup(atom: str) -> bool:
    """Whether the one-character expression ``atom`` matches a character to escape."""
    return any(re.fullmatch(atom, char) for char in _MARKUP)


@functools.cache
def _translated(pattern: str) -> tuple[re.Pattern[str], bool]:
    """:func:`translate_pattern`, and whether a text it matches can hold a character to
    escape (so ``False`` is exact: every character comes from one of the atoms tested)."""
    out: list[str] = []
    markup = False
    at = 0
    while at < len(pattern):
        char = pattern[at]
        atom: str | None = None
        if char == "\\":
            escaped = pattern[at + 1 : at + 2]
            if escaped in _LITERAL_ESCAPES:
                atom = _escape_char(escaped)
            elif escaped in _CONTROL_ESCAPES:
                atom = _escape_char(_CONTROL_ESCAPES[escaped])
            elif escaped == "s":
                atom = "[" + "".join(_escape_char(c) for c in _XSD_SPACE) + "]"
            elif escaped == "S":
                atom = "[^" + "".join(_escape_char(c) for c in _XSD_SPACE) + "]"
            elif escaped in ("d", "D"):
                atom = "\\" + escaped  # both mean Unicode's decimal digits (Nd)
            else:
                raise UnsupportedSchema(f"escape \\{escaped} in pattern {pattern!r}")
            at += 2
        elif char == "[":
            atom, at = _translate_class(pattern, at)
        elif char == ".":
            atom = "[^\\n\\r]"
            at += 1
        elif char in "^$":
            atom = _escape_char(char)
            at += 1
        elif char == "(" and pattern.startswith("(?", at):
            raise UnsupportedSchema(f"'(?' in pattern {pattern!r}")
        elif char in "()|?*+{}":
            out.append(char)  # structure: groups, alternatives, quantifiers
            at += 1
            continue
        else:
            atom = _escape_char(char)  # an ordinary character (or a quantifier's digit)
            at += 1
        markup = markup or _admits_markup(atom)
        out.append(atom)
    return re.compile("(?:" + "".join(out) + ")"), markup


def translate_pattern(pattern: str) -> re.Pattern[str]:
    """An XSD ``xs:pattern`` as a compiled Python expression to ``fullmatch`` with.

    XSD patterns are implicitly anchored, ``.`` excludes both line ends, ``\\s`` is four
    characters and ``^``/``$`` are ordinary characters; the escapes XSD adds (``\\i``,
    ``\\c``, ``\\p{…}``) and class subtraction are refused (:class:`UnsupportedSchema`)."""
    return _translated(pattern)[0]


# -- simple types --------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]")
_COLLAPSE = re.compile(r"[ \t\n\r]+")
_INTEGER = re.compile(r"[+-]?[0-9]+")
#: xs:date and xs:dateTime as checked here: four-digit years, hours 00-23, offsets within
#: ±14:00, no whitespace. libxml2 also takes longer and negative years, 24:00:00 and some
#: surrounding whitespace: such a text is refused here and so goes to libxml2, which decides -
#: stricter is safe (never the other way: that would send what libxml2 refuses).
_OFFSET = r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}" + _OFFSET + "?")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    + _OFFSET
    + "?"
)


def _real_date(value: str) -> bool:
    """Whether the ``YYYY-MM-DD`` at the start of ``value`` is a day of the calendar."""
    try:
        dt.date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def _date_value(value: str) -> bool:
    return _DATE.fullmatch(value) is not None and _real_date(value)


def _date_time_value(value: str) -> bool:
    return _DATE_TIME.fullmatch(value) is not None and _real_date(value)


class _SimpleType:
    """A simple type: its built-in base's ``lexical`` check, the ``facets`` of its
    restrictions, all run on the text as XSD sees the value (whitespace collapsed first when
    ``collapse``), and for integer types their ``bounds``, which ``minInclusive`` and
    ``maxInclusive`` narrow."""

    __slots__ = ("bounds", "collapse", "facets", "lexical", "markup_free")

    def __init__(
        self,
        lexical: tuple[Check, ...],
        collapse: bool,
        bounds: tuple[int, int] | None = None,
        facets: tuple[Check, ...] = (),
        markup_free: bool = False,
    ) -> None:
        self.lexical = lexical
        self.collapse = collapse
        self.bounds = bounds
        self.facets = facets
        #: No valid text of a string type holds a character to escape (& < > CR).
        self.markup_free = markup_free

    def compiled(self, *, canonical: bool = False) -> Check | None:
        """One check of a text; ``canonical``: of a text in the base type's canonical form
        (no whitespace, lexically valid), which leaves the bounds and the facets."""
        steps = self.facets if canonical else self.lexical + self.facets
        if self.bounds is not None:
            bounded = _within(*self.bounds) if canonical else _in_bounds(*self.bounds)
            steps = (bounded, *steps)
        if canonical or not self.collapse:
            if not steps:
                return None
            if len(steps) == 1:
                return steps[0]
            if len(steps) == 2:
                first, second = steps
                return lambda text: first(text) and second(text)
        collapse = self.collapse and not canonical

        def check(text: str) -> bool:
            if collapse and _WHITESPACE.search(text):
                text = _COLLAPSE.sub(" ", text).strip(" ")
            # A plain loop: all() over a generator costs more than most checks.
            for step in steps:  # noqa: SIM110
                if not step(text):
                    return False
            return True

        return check


def _within(low: int, high: int) -> Check:
    """Bounds of a canonical integer (``str(int)``: ``int()`` reads it)."""
    return lambda value: low <= int(value) <= high


def _in_bounds(low: int, high: int) -> Check:
    def check(value: str) -> bool:
        if not (value.isascii() and value.isdigit()) and _INTEGER.fullmatch(value) is None:
            return False
        return low <= int(value) <= high

    return check


#: The built-in types the schemas use.
_BUILTINS: dict[str, _SimpleType] = {
    "string": _SimpleType((), collapse=False),
    "long": _SimpleType((), collapse=True, bounds=(-(2**63), 2**63 - 1)),
    "int": _SimpleType((), collapse=True, bounds=(-(2**31), 2**31 - 1)),
    # No whitespace collapsing here: libxml2 refuses some whitespace around these (above).
    "date": _SimpleType((_date_value,), collapse=False),
    "dateTime": _SimpleType((_date_time_value,), collapse=False),
    "boolean": _SimpleType((frozenset({"true", "false", "1", "0"}).__contains__,), collapse=True),
}

_LENGTHS = frozenset({"maxLength", "minLength", "length"})


def _any_of(expressions: tuple[re.Pattern[str], ...]) -> Check:
    def check(value: str) -> bool:
        return any(expression.fullmatch(value) for expression in expressions)

    return check


def _length(kind: str, size: int) -> Check:
    def check(value: str) -> bool:
        length = len(value)  # characters, as XSD counts them for strings
        if kind == "maxLength":
            return length <= size
        return length >= size if kind == "minLength" else length == size

    return check


def _restricted(base: _SimpleType, facets: dict[str, list[str]]) -> _SimpleType:
    """``base`` with one derivation step's facets (patterns of one step are alternatives)."""
    checks = list(base.facets)
    bounds = base.bounds
    markup_free = base.markup_free
    for kind, values in facets.items():
        if kind == "pattern":
            expressions = tuple(translate_pattern(value) for value in values)
            if not base.collapse and not any(_translated(value)[1] for value in values):
                markup_free = True
            if len(expressions) == 1:
                checks.append(expressions[0].fullmatch)
            else:
                checks.append(_any_of(expressions))
        elif kind == "enumeration":
            checks.append(frozenset(values).__contains__)
            if not base.collapse and not any(set(value) & set(_MARKUP) for value in values):
                markup_free = True
        elif len(values) != 1:
            raise UnsupportedSchema(f"{kind} given twice in one restriction")
        elif kind in ("minInclusive", "maxInclusive"):
            if bounds is None:
                raise UnsupportedSchema(f"{kind} on a type that is not an integer")
            limit = int(values[0])
            low, high = bounds
            bounds = (max(low, limit), high) if kind == "minInclusive" else (low, min(high, limit))
        elif kind in _LENGTHS:
            if base.collapse or bounds is not None:
                raise UnsupportedSchema(f"{kind} on a type that is not a string")
            checks.append(_length(kind, int(values[0])))
        else:
            raise UnsupportedSchema(f"facet xs:{kind}")
    return _SimpleType(base.lexical, base.collapse, bounds, tuple(checks), markup_free)


# -- the schema as rules -------------------------------------------------------------------------


def _xs(local: str) -> str:
    return f"{{{_XS}}}{local}"


class _Compiler:
    """Reads the shipped XSD and what it includes; builds rules on demand, each once."""

    def __init__(self, name: str) -> None:
        self.simple: dict[str, etree._Element] = {}
        self.complex: dict[str, etree._Element] = {}
        self.elements: dict[str, etree._Element] = {}
        self._simple_cache: dict[str, _SimpleType] = {}
        self._global_rules: dict[str, Rule] = {}
        self._load(name, set())

    def _load(self, name: str, seen: set[str]) -> None:
        if name in seen:
            return
        seen.add(name)
        root = etree.fromstring(xmlsafe.schema_text(name), xmlsafe.new_parser())
        if root.get("targetNamespace") != _KP or root.get("elementFormDefault") != "qualified":
            raise UnsupportedSchema(f"{name}: not a qualified schema of the kp namespace")
        for child in root:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            if local == "include":
                self._load(child.get("schemaLocation", ""), seen)
            elif local == "simpleType":
                self.simple[child.get("name", "")] = child
            elif local == "complexType":
                self.complex[child.get("name", "")] = child
            elif local == "element":
                self.elements[child.get("name", "")] = child
            elif local != "annotation":
                raise UnsupportedSchema(f"{name}: top-level xs:{local}")

    # simple types

    def _type_name(self, element: etree._Element, attribute: str) -> tuple[str, str]:
        """``(namespace, local)`` of a QName-valued attribute (``type``, ``base``, ``ref``)."""
        value = element.get(attribute, "")
        prefix, _, local = value.rpartition(":")
        namespace = element.nsmap.get(prefix or None)
        if namespace not in (_XS, _KP):
            raise UnsupportedSchema(f"{attribute}={value!r}")
        return namespace, local

    def simple_type(self, namespace: str, local: str) -> _SimpleType:
        if namespace == _XS:
            if local not in _BUILTINS:
                raise UnsupportedSchema(f"built-in type xs:{local}")
            return _BUILTINS[local]
        cached = self._simple_cache.get(local)
        if cached is None:
            cached = self._simple_cache[local] = self._restriction(self.simple[local])
        return cached

    def _restriction(self, declaration: etree._Element) -> _SimpleType:
        parts = [c for c in declaration if isinstance(c.tag, str) and c.tag != _xs("annotation")]
        if len(parts) != 1 or parts[0].tag != _xs("restriction"):
            raise UnsupportedSchema("a simple type that is not a restriction")
        restriction = parts[0]
        base = self.simple_type(*self._type_name(restriction, "base"))
        facets: dict[str, list[str]] = {}
        for facet in restriction:
            if not isinstance(facet.tag, str) or facet.tag == _xs("annotation"):
                continue
            kind = etree.QName(facet).localname
            facets.setdefault(kind, []).append(facet.get("value", ""))
        return _restricted(base, facets)

    # elements

    def global_rule(self, local: str) -> Rule:
        rule = self._global_rules.get(local)
        if rule is None:
            rule = self._global_rules[local] = self._element_rule(self.elements[local])
        return rule

    def _element_rule(self, declaration: etree._Element) -> Rule:
        if declaration.get("ref") is not None:
            namespace, local = self._type_name(declaration, "ref")
            if namespace != _KP:
                raise UnsupportedSchema(f"ref to {local} outside the kp namespace")
            return self.global_rule(local)
        if declaration.get("form") is not None:
            raise UnsupportedSchema("element form= other than the schema's default")
        name = declaration.get("name", "")
        unique: tuple[str, str] | None = None
        inline: etree._Element | None = None
        for child in declaration:
            if not isinstance(child.tag, str) or child.tag == _xs("annotation"):
                continue
            if child.tag == _xs("unique"):
                if unique is not None:
                    raise UnsupportedSchema(f"{name}: two xs:unique")
                unique = self._unique(child)
            elif child.tag in (_xs("complexType"), _xs("simpleType")) and inline is None:
                inline = child
            else:
                raise UnsupportedSchema(f"{name}: xs:{etree.QName(child).localname}")
        if inline is not None:
            if inline.tag == _xs("simpleType"):
                return Rule(name, self._restriction(inline), None, unique)
            return Rule(name, None, self._content(inline), unique)
        namespace, local = self._type_name(declaration, "type")
        if namespace == _KP and local in self.complex:
            return Rule(name, None, self._content(self.complex[local]), unique)
        return Rule(name, self.simple_type(namespace, local), None, unique)

    def _unique(self, constraint: etree._Element) -> tuple[str, str]:
        selector = constraint.find(_xs("selector"))
        fields = constraint.findall(_xs("field"))
        if selector is None or len(fields) != 1:
            raise UnsupportedSchema("xs:unique needs one selector and one field")

        def step(path: str) -> str:
            prefix, _, local = path.partition(":")
            if prefix != "kp" or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", local):
                raise UnsupportedSchema(f"xs:unique path {path!r}")
            return local

        field = fields[0].get("xpath", "")
        return step(selector.get("xpath", "")), "." if field == "." else step(field)

    def _content(self, complex_type: etree._Element) -> dict[str, Rule]:
        children: dict[str, Rule] = {}
        for part in complex_type:
            if not isinstance(part.tag, str) or part.tag in (
                _xs("annotation"),
                _xs("attribute"),  # the version attribute: written as a constant
            ):
                continue
            if part.tag not in (_xs("sequence"), _xs("choice")):
                raise UnsupportedSchema(f"content xs:{etree.QName(part).localname}")
            self._particles(part, children)
        return children

    def _particles(self, group: etree._Element, children: dict[str, Rule]) -> None:
        for particle in group:
            if not isinstance(particle.tag, str) or particle.tag == _xs("annotation"):
                continue
            if particle.tag in (_xs("sequence"), _xs("choice")):
                self._particles(particle, children)
            elif particle.tag == _xs("element"):
                rule = self._element_rule(particle)
                if rule.name in children:
                    raise UnsupportedSchema(f"{rule.name} declared twice in one content model")
                children[rule.name] = rule
            else:
                raise UnsupportedSchema(f"particle xs:{etree.QName(particle).localname}")


@functools.cache
def type_checks(name: str) -> Mapping[str, tuple[Check | None, Check | None]]:
    """Every named simple type of the shipped schema ``name`` (and what it includes), and the
    built-in types the schemas use as ``xs:…``: ``(check, canonical)`` as a :class:`Rule`
    holds them. For tests that hold the compiled checks equal to libxml2's."""
    compiler = _Compiler(name)
    types = {f"xs:{local}": compiler.simple_type(_XS, local) for local in _BUILTINS}
    types.update({local: compiler.simple_type(_KP, local) for local in compiler.simple})
    return {
        local: (simple.compiled(), simple.compiled(canonical=True))
        for local, simple in sorted(types.items())
    }


@functools.cache
def schema_rules(name: str) -> Mapping[str, Rule]:
    """Every global element of the shipped schema ``name`` (for :data:`MESSAGES_SCHEMA`:
    ``PaymentRequest``, ``FaultDetail`` …) as a :class:`Rule`; compiled once."""
    compiler = _Compiler(name)
    return {element: compiler.global_rule(element) for element in sorted(compiler.elements)}
