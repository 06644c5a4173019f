"""A Kantor Pos element's layout, declared once, from which both its writer (:mod:`.xmltext`)
and its reader (:mod:`.xmlread`) are compiled, and the small code builder both use.

A layout names, in the schema's order, each child element and the attribute of the Python
object it comes from or goes to: :class:`Leaf` (text), :class:`Group` (an element of
elements, another object), :class:`Repeat` (a tuple) and :class:`Choice` (one of several
leaves). The XSD rules (:mod:`.xsdrules`) supply what the layout does not: each element's type
and constraints; a layout naming an element its schema does not declare there fails at
compilation (:class:`LookupError`), so at first use, in every test run.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

import attrs

from jamsostek_channels.adapters.kantorpos.xsdrules import Rule

__all__ = ["Choice", "Group", "Layout", "Leaf", "Repeat", "Source", "declared"]


@attrs.frozen
class Leaf:
    """An element with text: ``attribute`` of the object, formatted as ``kind``.

    ``kind``: ``"text"`` (a str), ``"int"`` (whole, not bool), ``"bool"``, ``"month"``
    (:class:`YearMonth`), ``"date"``, ``"instant"`` (aware datetime) or ``"enum"`` (a member
    of ``enum_type``, written as its value). ``optional``: ``None`` leaves the element out.
    """

    element: str
    attribute: str
    kind: str = "text"
    optional: bool = False
    enum_type: type[enum.Enum] | None = None


@attrs.frozen
class Group:
    """An element holding other elements, read from ``attribute`` (an instance of
    ``python_type``; ``optional``: ``None`` leaves it out) or, with ``attribute`` ``""``, from
    the object itself (a list item)."""

    element: str
    attribute: str
    python_type: type
    fields: tuple[Layout, ...]
    optional: bool = False


@attrs.frozen
class Repeat:
    """An element holding one ``item`` per member of the tuple ``attribute`` (members must be
    ``python_type``). ``omit_empty``: an empty tuple leaves the holder out; ``holder``
    ``False``: the items are written straight into the enclosing element (the settlement
    file's records). ``each`` is called with every member before it is written (cross-field
    rules)."""

    element: str
    attribute: str
    item: Leaf | Group
    python_type: type
    omit_empty: bool = False
    holder: bool = True
    each: Callable[[object], None] | None = None


@attrs.frozen
class Choice:
    """An element holding one of several leaves, chosen by the object's ``discriminator``
    attribute: ``branches`` maps each of its values to the leaf written (``python_type``: the
    object's type)."""

    element: str
    attribute: str
    python_type: type
    discriminator: str
    branches: tuple[tuple[object, Leaf], ...]


Layout = Leaf | Group | Repeat | Choice


def declared(rules: Mapping[str, Rule], element: str) -> Rule:
    """The rule of ``element`` among ``rules``; :class:`LookupError` when the schema declares
    no such element there (a layout's bug)."""
    rule = rules.get(element)
    if rule is None:
        raise LookupError(f"the schema declares no element {element} here")
    return rule


class Source:
    """The Python source of one compiled function and the objects it refers to by name
    (``names``, starting with ``common``); :meth:`function` compiles it."""

    def __init__(self, prefix: str, common: Mapping[str, object]) -> None:
        self.prefix = prefix
        self.lines: list[str] = []
        self.names: dict[str, object] = dict(common)
        self._counter = 0

    def name(self, value: object, stem: str) -> str:
        """A name the generated code uses for ``value``."""
        self._counter += 1
        name = f"{stem}{self._counter}"
        self.names[name] = value
        return name

    def local(self, stem: str) -> str:
        """A fresh local variable name."""
        self._counter += 1
        return f"{stem}{self._counter}"

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def function(self, name: str, origin: str) -> Callable[..., object]:
        """The function ``name`` the source defines. Only layouts and schema names reach the
        source, quoted with ``repr``; never a value from a message."""
        namespace = dict(self.names)
        exec(compile("\n".join(self.lines), origin, "exec"), namespace)  # noqa: S102
        function = namespace[name]
        assert callable(function)
        return function
