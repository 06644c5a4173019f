"""Kantor Pos elements read from a validated tree by readers compiled from their layouts.

Once libxml2 has validated a document, every element's children are where its schema puts
them, so a reader compiled from the element's layout (:mod:`.layouts`) - the same layout its
writer is compiled from - takes them by position. It reads a tag only where the layout leaves a
choice (an optional element, a choice's branch, the end of a run of repeated elements), since
lxml builds a new string for every tag read. Values are converted by the caller's
``converters`` (the wire's rules for numbers, months, dates and instants stay with the
messages), enumerations by their type; each raises
:class:`~jamsostek_channels.errors.MalformedMessage` naming the element.

A reader is only for a tree its schema has accepted: given anything else it may raise
``IndexError``, which the caller turns into a refusal.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

from jamsostek_channels.adapters.kantorpos.layouts import (
    Choice,
    Group,
    Layout,
    Leaf,
    Repeat,
    Source,
    declared,
)
from jamsostek_channels.adapters.kantorpos.xmlsafe import malformed
from jamsostek_channels.adapters.kantorpos.xsdrules import Rule

__all__ = ["Converter", "Reader", "compile_reader"]

#: ``(text, element name) -> value``, raising ``MalformedMessage`` for a text it cannot read.
Converter = Callable[[str, str], object]
#: A compiled reader: the element in, the object out.
Reader = Callable[[etree._Element], Any]


def _enum_of(kind: type[enum.Enum], text: str, element: str) -> enum.Enum:
    try:
        return kind(text)
    except ValueError:
        raise malformed(f"{element} is not one of the allowed values", field=element) from None


def _no_branch(element: str) -> Exception:
    return malformed(f"{element} holds none of its choices", field=element)


class _Compiler:
    """The source of one reader: a function per element of elements, the outermost last."""

    def __init__(self, namespace: str, converters: Mapping[str, Converter]) -> None:
        self.namespace = namespace
        self.src = Source("", {"_enum_of": _enum_of, "_no_branch": _no_branch})
        self.converters = {
            kind: self.src.name(convert, "conv") for kind, convert in converters.items()
        }

    def tag(self, element: str) -> str:
        return self.src.name(f"{{{self.namespace}}}{element}", "Q")

    def value(self, leaf: Leaf, node: str) -> str:
        """The expression reading ``leaf`` from the element named ``node``."""
        text = f"({node}.text or '')"
        if leaf.kind == "text":
            return text
        if leaf.kind == "enum":
            assert leaf.enum_type is not None, leaf.element
            return f"_enum_of({self.src.name(leaf.enum_type, 'E')}, {text}, {leaf.element!r})"
        return f"{self.converters[leaf.kind]}({text}, {leaf.element!r})"

    def function(self, fields: tuple[Layout, ...], rules: Mapping[str, Rule], kind: type) -> str:
        """Emit a function reading an element laid out as ``fields`` into ``kind``; its name."""
        body: list[tuple[int, str]] = []
        arguments: list[str] = []
        for layout in fields:
            rule = declared(rules, layout.element)
            variable = self.src.local("v")
            arguments.append(f"{layout.attribute}={variable}")
            self.field(body, layout, rule, variable)
        name = self.src.local("read")
        src = self.src
        src.emit(0, f"def {name}(element):")
        src.emit(1, "c = element[:]")
        src.emit(1, "n = len(c)")
        src.emit(1, "i = 0")
        for depth, line in body:
            src.emit(1 + depth, line)
        src.emit(1, f"return {src.name(kind, 'T')}({', '.join(arguments)})")
        return name

    def field(self, body: list[tuple[int, str]], layout: Layout, rule: Rule, variable: str) -> None:
        """Lines reading one field into ``variable`` (``i``: the next child's index)."""
        if isinstance(layout, Repeat) and not layout.holder:
            item = self.item_reader(layout, rule)
            tag = self.tag(layout.item.element)
            start = self.src.local("start")
            body += [
                (0, f"{start} = i"),
                (0, f"while i < n and c[i].tag == {tag}:"),
                (1, "i += 1"),
                (0, f"{variable} = tuple([{item('x')} for x in c[{start}:i]])"),
            ]
            return
        optional = (isinstance(layout, Leaf | Group) and layout.optional) or (
            isinstance(layout, Repeat) and layout.omit_empty
        )
        depth = 0
        if optional:
            body.append((0, f"if i < n and c[i].tag == {self.tag(layout.element)}:"))
            depth = 1
        read = self.read(layout, rule, "c[i]")
        body += [(depth + line_depth, line) for line_depth, line in read(variable)]
        body.append((depth, "i += 1"))
        if optional:
            empty = "()" if isinstance(layout, Repeat) else "None"
            body += [(0, "else:"), (1, f"{variable} = {empty}")]

    def read(self, layout: Layout, rule: Rule, node: str) -> Callable[[str], list[tuple[int, str]]]:
        """Lines assigning the value of ``layout`` read from the element ``node``."""
        if isinstance(layout, Leaf):
            expression = self.value(layout, node)
            return lambda variable: [(0, f"{variable} = {expression}")]
        if isinstance(layout, Group):
            assert rule.children is not None, layout.element
            function = self.function(layout.fields, rule.children, layout.python_type)
            return lambda variable: [(0, f"{variable} = {function}({node})")]
        if isinstance(layout, Repeat):
            item = self.item_reader(layout, rule)
            return lambda variable: [(0, f"{variable} = tuple([{item('x')} for x in {node}])")]
        return self.choice(layout, rule, node)

    def item_reader(self, repeat: Repeat, rule: Rule) -> Callable[[str], str]:
        """The expression reading one of ``repeat``'s items from a named element."""
        if repeat.holder:
            assert rule.children is not None, repeat.element
            item_rule = declared(rule.children, repeat.item.element)
        else:
            item_rule = rule  # the items are the element itself
        if isinstance(repeat.item, Leaf):
            leaf = repeat.item
            return lambda node: self.value(leaf, node)
        assert item_rule.children is not None, repeat.item.element
        function = self.function(repeat.item.fields, item_rule.children, repeat.item.python_type)
        return lambda node: f"{function}({node})"

    def choice(
        self, choice: Choice, rule: Rule, node: str
    ) -> Callable[[str], list[tuple[int, str]]]:
        assert rule.children is not None, choice.element
        kind = self.src.name(choice.python_type, "T")

        def lines(variable: str) -> list[tuple[int, str]]:
            out = [(0, f"x = {node}[0]"), (0, "t = x.tag")]
            for index, (selector, leaf) in enumerate(choice.branches):
                declared(rule.children or {}, leaf.element)
                keyword = "if" if index == 0 else "elif"
                branch = self.src.name(selector, "K")
                out.append((0, f"{keyword} t == {self.tag(leaf.element)}:"))
                arguments = (
                    f"{choice.discriminator}={branch}, {leaf.attribute}={self.value(leaf, 'x')}"
                )
                out.append((1, f"{variable} = {kind}({arguments})"))
            out += [(0, "else:"), (1, f"raise _no_branch({choice.element!r})")]
            return out

        return lines


def compile_reader(
    fields: tuple[Layout, ...],
    rule: Rule,
    kind: type,
    *,
    namespace: str,
    converters: Mapping[str, Converter],
) -> Reader:
    """One function reading the element ``rule`` declares, laid out as ``fields``, into
    ``kind(**fields)``. Raises :class:`LookupError` when the layout names an element the schema
    does not declare there (a bug, found at compilation)."""
    if rule.children is None:
        raise LookupError(f"{rule.name} has no element content")
    compiler = _Compiler(namespace, converters)
    name = compiler.function(fields, rule.children, kind)
    return compiler.src.function(name, f"<kantorpos reader {rule.name}>")
