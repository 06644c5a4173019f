"""Kantor Pos XML written as text by compiled writers, escaped exactly as lxml escapes it.

Building an lxml tree only to serialise it costs more than every other step of encoding a
message, and a general-purpose writer object pays a Python call or two per element; so each
message type's layout (:mod:`.layouts`) is compiled once, together with its XSD rules
(:mod:`.xsdrules`), into one straight-line Python function - the way attrs builds
``__init__`` - that writes the element's lines.

What a compiled writer does, element by element:

* refuses a value of the wrong Python type with :class:`Unencodable` (element and problem);
* formats it (whole numbers, ``YYYY-MM``, ISO dates, Jakarta instants, ``true``/``false``);
* checks the text against the element's XSD type and ``xs:unique`` constraint, and returns
  ``valid=False`` on any doubt, so the caller can hand the bytes to libxml2 (which words the
  error) instead of sending them;
* escapes ``&``, ``<``, ``>`` and carriage returns (``&amp;`` ``&lt;`` ``&gt;`` ``&#13;``) and
  refuses a character XML 1.0 cannot carry;
* writes two-space indented lines, ``<kp:x/>`` for an element with nothing inside (an empty
  text included) - byte for byte what ``lxml.etree.tostring(..., pretty_print=True)`` writes
  for the same document parsed;
* records the *shape*: every choice the layout leaves open (an optional element present or
  not, a choice's branch, a list's length), for the caller's once-per-shape validation of the
  structure by libxml2.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple

from jamsostek_channels.adapters.kantorpos.layouts import (
    Choice,
    Group,
    Layout,
    Leaf,
    Repeat,
    Source,
    declared,
)
from jamsostek_channels.adapters.kantorpos.xsdrules import Rule
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.period import YearMonth

__all__ = [
    "DECLARATION",
    "Unencodable",
    "Written",
    "compile_writer",
    "escape",
    "format_instant",
]

#: The first line of every document.
DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
#: What needs escaping, or cannot be carried at all (outside XML 1.0's Char production).
_SPECIAL = re.compile("[&<>\r]|[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_INDENT: Final = "  "


class Unencodable(Exception):
    """A value the message cannot carry (``element``: its local name; ``problem``: why)."""

    def __init__(self, element: str, problem: str) -> None:
        super().__init__(f"{element}: {problem}")
        self.element = element
        self.problem = problem


def escape(element: str, text: str) -> str:
    """``text`` as element content: escaped as lxml does; :class:`Unencodable` for a character
    XML cannot carry."""
    if _SPECIAL.search(text) is None:
        return text
    if _ILLEGAL.search(text):
        raise Unencodable(element, "a character XML cannot carry")
    return text.translate(_ESCAPES)


def format_instant(moment: dt.datetime) -> str:
    """``2026-11-23T09:30:05+07:00``: Asia/Jakarta, seconds, a fraction only when there is one.
    Raises ``ValueError`` for a naive datetime."""
    if not isinstance(moment, dt.datetime) or moment.utcoffset() is None:
        raise ValueError("an aware datetime is needed")
    local = moment if moment.tzinfo is JAKARTA else moment.astimezone(JAKARTA)
    return local.isoformat()  # this very form, for a fixed +07:00 zone


class Written(NamedTuple):
    """What a compiled writer returns: the lines, whether every value passed its XSD check,
    and the shape."""

    lines: list[str]
    valid: bool
    shape: tuple[int, ...]


# -- formatting helpers the compiled code calls --------------------------------------------------


def _int_text(element: str, value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Unencodable(element, "must be an integer")
    try:
        return str(value)
    except ValueError:  # more digits than Python converts (and any schema allows)
        raise Unencodable(element, "out of range") from None


def _bool_text(element: str, value: object) -> str:
    if not isinstance(value, bool):
        raise Unencodable(element, "must be a boolean")
    return "true" if value else "false"


#: ``str(month)`` once per month (a few hundred are ever written).
_MONTH_TEXTS: dict[YearMonth, str] = {}


def _month_text(element: str, value: object) -> str:
    if not isinstance(value, YearMonth):
        raise Unencodable(element, "must be a YearMonth")
    text = _MONTH_TEXTS.get(value)
    if text is None:
        text = str(value)
        if len(_MONTH_TEXTS) < 4096:
            _MONTH_TEXTS[value] = text
    return text


def _date_text(element: str, value: object) -> str:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise Unencodable(element, "must be a date")
    return value.isoformat()


def _instant_text(element: str, value: object) -> str:
    if isinstance(value, dt.datetime) and value.tzinfo is JAKARTA:
        return value.isoformat()  # the usual case, as format_instant writes it
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise Unencodable(element, "must be an aware datetime")
    try:
        return format_instant(value)
    except (ValueError, OverflowError):
        raise Unencodable(element, "out of range") from None


def _type_error(element: str, kind: type) -> Unencodable:
    return Unencodable(element, f"must be a {kind.__name__}")


def _sequence_error(element: str, kind: type) -> Unencodable:
    return Unencodable(element, f"must be a tuple of {kind.__name__}")


#: Inline forms of the formatters for their usual value: ``(test, text)`` of ``{v}``.
_FAST_FORMS: Final[dict[str, tuple[str, str]]] = {
    # Bounded: str() refuses an int of more than 4300 digits (the formatter says so).
    "int": ("{v}.__class__ is int and -_BIG < {v} < _BIG", "str({v})"),
    "instant": ("{v}.__class__ is _datetime and {v}.tzinfo is _JAKARTA", "{v}.isoformat()"),
}

_FORMATTERS: dict[str, str] = {
    "int": "_int_text",
    "bool": "_bool_text",
    "month": "_month_text",
    "date": "_date_text",
    "instant": "_instant_text",
}


# -- the compiler --------------------------------------------------------------------------------


#: What every compiled writer's code refers to by name.
_WRITER_NAMES: Final[dict[str, object]] = {
    "Unencodable": Unencodable,
    "escape": escape,
    "special": _SPECIAL.search,
    "_int_text": _int_text,
    "_bool_text": _bool_text,
    "_month_text": _month_text,
    "_date_text": _date_text,
    "_instant_text": _instant_text,
    "_type_error": _type_error,
    "_sequence_error": _sequence_error,
    "_datetime": dt.datetime,
    "_BIG": 10**18,
    "_JAKARTA": JAKARTA,
}


def _leaf_code(
    src: Source,
    code_depth: int,
    xml_depth: int,
    leaf: Leaf,
    rule: Rule,
    value: str,
    unique: str | None,
) -> None:
    """Code writing ``leaf`` whose value is the expression ``value``."""
    element = leaf.element
    if leaf.kind == "text":
        src.emit(code_depth, f"t = {value}")
        src.emit(code_depth, "if not isinstance(t, str):")
        src.emit(code_depth + 1, f"raise Unencodable({element!r}, 'must be a string')")
    elif leaf.kind == "enum":
        assert leaf.enum_type is not None, element
        kind = src.name(leaf.enum_type, "E")
        src.emit(code_depth, f"t = {value}")
        src.emit(code_depth, f"if not isinstance(t, {kind}):")
        src.emit(code_depth + 1, f"raise _type_error({element!r}, {kind})")
        string_values = all(isinstance(member.value, str) for member in leaf.enum_type)
        src.emit(code_depth, "t = t.value" if string_values else "t = str(t.value)")
    elif leaf.kind in _FAST_FORMS:
        # The usual value inline; anything else (a subclass, another zone, a wrong type)
        # through the formatter, which checks and refuses.
        kind, form = _FAST_FORMS[leaf.kind]
        src.emit(code_depth, f"t = {value}")
        src.emit(code_depth, f"if {kind.format(v='t')}:")
        src.emit(code_depth + 1, f"t = {form.format(v='t')}")
        src.emit(code_depth, "else:")
        src.emit(code_depth + 1, f"t = {_FORMATTERS[leaf.kind]}({element!r}, t)")
    else:
        src.emit(code_depth, f"t = {_FORMATTERS[leaf.kind]}({element!r}, {value})")
    # A formatter's text is canonical: only the facets remain (see xsdrules.Rule).
    checking = rule.check if leaf.kind == "text" else rule.canonical
    escaping = leaf.kind == "text"
    if checking is not None:
        check = src.name(checking, "check")
        src.emit(code_depth, f"if not {check}(t):")
        src.emit(code_depth + 1, "valid = False")
        if escaping and rule.markup_free:
            # Only a text its type refuses can need escaping: escape it for libxml2 to read.
            src.emit(code_depth + 1, f"t = escape({element!r}, t)")
            escaping = False
    if unique is not None:
        src.emit(code_depth, f"if t in {unique}:")
        src.emit(code_depth + 1, "valid = False")
        src.emit(code_depth, f"{unique}.add(t)")
    if escaping:
        src.emit(code_depth, "if special(t):")
        src.emit(code_depth + 1, f"t = escape({element!r}, t)")
    indent = _INDENT * xml_depth
    qname = src.prefix + element
    line = f"out({indent + '<' + qname + '>'!r} + t + {'</' + qname + '>'!r})"
    if leaf.kind == "text" and (checking is None or checking("")):
        # An empty text is an element with nothing inside, which lxml writes <x/> (a text
        # the type refuses goes to libxml2, where the spelling does not matter).
        src.emit(code_depth, "if not t:")
        src.emit(code_depth + 1, f"out({indent + '<' + qname + '/>'!r})")
        src.emit(code_depth, "else:")
        src.emit(code_depth + 1, line)
    else:
        src.emit(code_depth, line)


def _open(src: Source, code_depth: int, xml_depth: int, element: str) -> None:
    src.emit(code_depth, f"out({_INDENT * xml_depth + '<' + src.prefix + element + '>'!r})")


def _close(src: Source, code_depth: int, xml_depth: int, element: str) -> None:
    src.emit(code_depth, f"out({_INDENT * xml_depth + '</' + src.prefix + element + '>'!r})")


def _empty(src: Source, code_depth: int, xml_depth: int, element: str) -> None:
    src.emit(code_depth, f"out({_INDENT * xml_depth + '<' + src.prefix + element + '/>'!r})")


def _fields_code(
    src: Source,
    code_depth: int,
    xml_depth: int,
    fields: tuple[Layout, ...],
    rules: Mapping[str, Rule],
    obj: str,
    collect: tuple[str, str] | None = None,
) -> None:
    """Code writing ``fields`` of the object named ``obj``; ``collect``: ``(field element,
    set)`` of an enclosing ``xs:unique`` that this object's leaf feeds."""
    for layout in fields:
        rule = declared(rules, layout.element)
        value = f"{obj}.{layout.attribute}" if layout.attribute else obj
        if isinstance(layout, Leaf):
            unique = collect[1] if collect and collect[0] == layout.element else None
            if layout.optional:
                var = src.local("v")
                src.emit(code_depth, f"{var} = {value}")
                src.emit(code_depth, f"if {var} is None:")
                src.emit(code_depth + 1, "shape(0)")
                src.emit(code_depth, "else:")
                src.emit(code_depth + 1, "shape(1)")
                _leaf_code(src, code_depth + 1, xml_depth, layout, rule, var, unique)
            else:
                _leaf_code(src, code_depth, xml_depth, layout, rule, value, unique)
        elif isinstance(layout, Group):
            _group_code(src, code_depth, xml_depth, layout, rule, value)
        elif isinstance(layout, Repeat):
            _repeat_code(src, code_depth, xml_depth, layout, rule, value)
        else:
            _choice_code(src, code_depth, xml_depth, layout, rule, value)


def _group_code(
    src: Source,
    code_depth: int,
    xml_depth: int,
    group: Group,
    rule: Rule,
    value: str,
) -> None:
    assert rule.children is not None, group.element
    var = src.local("g")
    kind = src.name(group.python_type, "T")
    src.emit(code_depth, f"{var} = {value}")
    if group.optional:
        src.emit(code_depth, f"if {var} is None:")
        src.emit(code_depth + 1, "shape(0)")
        src.emit(code_depth, "else:")
        code_depth += 1
        src.emit(code_depth, "shape(1)")
    src.emit(code_depth, f"if not isinstance({var}, {kind}):")
    src.emit(code_depth + 1, f"raise _type_error({group.element!r}, {kind})")
    _open(src, code_depth, xml_depth, group.element)
    _fields_code(src, code_depth, xml_depth + 1, group.fields, rule.children, var)
    _close(src, code_depth, xml_depth, group.element)


def _repeat_code(
    src: Source, code_depth: int, xml_depth: int, repeat: Repeat, rule: Rule, value: str
) -> None:
    """The holder element and one item per member (or the items alone: ``holder=False``)."""
    items = src.local("items")
    kind = src.name(repeat.python_type, "T")
    src.emit(code_depth, f"{items} = {value}")
    src.emit(code_depth, f"if not isinstance({items}, tuple):")
    src.emit(code_depth + 1, f"raise _sequence_error({repeat.element!r}, {kind})")
    src.emit(code_depth, f"shape(len({items}))")
    if repeat.holder:
        assert rule.children is not None, repeat.element
        item_rule = declared(rule.children, repeat.item.element)
        unique_spec = rule.unique
        item_depth = xml_depth + 1
        if repeat.omit_empty:
            src.emit(code_depth, f"if {items}:")
        else:
            src.emit(code_depth, f"if not {items}:")
            _empty(src, code_depth + 1, xml_depth, repeat.element)
            src.emit(code_depth, "else:")
        code_depth += 1
        _open(src, code_depth, xml_depth, repeat.element)
    else:
        item_rule = rule  # the items are the element itself
        unique_spec = None
        item_depth = xml_depth
    seen: str | None = None
    collect: tuple[str, str] | None = None
    if unique_spec is not None:
        selector, field = unique_spec
        if selector != repeat.item.element:
            raise LookupError(f"xs:unique on {repeat.element} selects {selector}")
        seen = src.local("seen")
        src.emit(code_depth, f"{seen} = set()")
        if field != ".":
            collect = (field, seen)
    item = src.local("item")
    src.emit(code_depth, f"for {item} in {items}:")
    src.emit(code_depth + 1, f"if not isinstance({item}, {kind}):")
    src.emit(code_depth + 2, f"raise _sequence_error({repeat.element!r}, {kind})")
    if repeat.each is not None:
        src.emit(code_depth + 1, f"{src.name(repeat.each, 'each')}({item})")
    if isinstance(repeat.item, Leaf):
        unique = seen if collect is None else None
        _leaf_code(src, code_depth + 1, item_depth, repeat.item, item_rule, item, unique)
    else:
        assert item_rule.children is not None, repeat.item.element
        _open(src, code_depth + 1, item_depth, repeat.item.element)
        _fields_code(
            src,
            code_depth + 1,
            item_depth + 1,
            repeat.item.fields,
            item_rule.children,
            item,
            collect,
        )
        _close(src, code_depth + 1, item_depth, repeat.item.element)
    if repeat.holder:
        _close(src, code_depth, xml_depth, repeat.element)


def _choice_code(
    src: Source, code_depth: int, xml_depth: int, choice: Choice, rule: Rule, value: str
) -> None:
    assert rule.children is not None, choice.element
    var = src.local("c")
    kind = src.name(choice.python_type, "T")
    src.emit(code_depth, f"{var} = {value}")
    src.emit(code_depth, f"if not isinstance({var}, {kind}):")
    src.emit(code_depth + 1, f"raise _type_error({choice.element!r}, {kind})")
    _open(src, code_depth, xml_depth, choice.element)
    for index, (selector, leaf) in enumerate(choice.branches):
        keyword = "if" if index == 0 else "elif"
        branch = src.name(selector, "K")
        src.emit(code_depth, f"{keyword} {var}.{choice.discriminator} is {branch}:")
        src.emit(code_depth + 1, f"shape({index})")
        leaf_rule = declared(rule.children, leaf.element)
        leaf_value = f"{var}.{leaf.attribute}"
        _leaf_code(src, code_depth + 1, xml_depth + 1, leaf, leaf_rule, leaf_value, None)
    src.emit(code_depth, "else:")
    src.emit(code_depth + 1, f"raise _type_error({choice.element!r}, {kind})")
    _close(src, code_depth, xml_depth, choice.element)


def compile_writer(
    fields: tuple[Layout, ...], rule: Rule, *, depth: int, prefix: str = "kp:"
) -> Callable[[object], Written]:
    """One function writing the children of the element ``rule`` declares, from an object
    laid out as ``fields``, indented for XML depth ``depth``. Raises :class:`LookupError` when
    the layout names an element the schema does not declare there (a bug, found at import)."""
    if rule.children is None:
        raise LookupError(f"{rule.name} has no element content")
    src = Source(prefix, _WRITER_NAMES)
    src.emit(0, "def write(message):")
    src.emit(1, "lines = []")
    src.emit(1, "out = lines.append")
    src.emit(1, "variable = []")
    src.emit(1, "shape = variable.append")
    src.emit(1, "valid = True")
    _fields_code(src, 1, depth, fields, rule.children, "message")
    src.emit(1, "return Written(lines, valid, tuple(variable))")
    src.names["Written"] = Written
    return src.function("write", f"<kantorpos writer {rule.name}>")  # type: ignore[return-value]
