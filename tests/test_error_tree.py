"""Every error a caller can meet is importable from the top level and drawn, where it really
sits, in the tree at the top of ``errors.py``; every one belongs to a group."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import jamsostek_channels
from jamsostek_channels import errors
from jamsostek_channels.errors import JamsostekError
from jamsostek_channels.identifiers import nik

_SKIPPED = ("jamsostek_channels.adapters", "jamsostek_channels.schemas")
_TREE_LINE = re.compile(r"^    (?P<indent>[ │├└─]*)(?P<name>[A-Z][A-Za-z]+)\b")
_GROUPS = {
    "nothing-sent",
    "local-refusal",
    "host-answered",
    "outcome-unknown",
    "storage",
    "deployment",
}


def _import_all(prefix: str, skipped: tuple[str, ...] = ()) -> None:
    package = importlib.import_module(prefix)
    for module in pkgutil.walk_packages(package.__path__, prefix + "."):
        if not module.name.startswith(skipped) and not module.name.endswith(".__main__"):
            importlib.import_module(module.name)


def _subclasses(root: type) -> set[type]:
    found: set[type] = set()
    for cls in root.__subclasses__():
        found |= {cls} | _subclasses(cls)
    return found


def _drawn_parents() -> dict[str, str | None]:
    """The tree in errors.py's docstring: class name -> the name drawn as its parent."""
    assert errors.__doc__ is not None
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in errors.__doc__.splitlines():
        match = _TREE_LINE.match(line)
        if match is None:
            continue
        depth = len(match["indent"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((depth, match["name"]))
    return parents


def _core_errors() -> set[type]:
    _import_all("jamsostek_channels", _SKIPPED)
    return {
        cls
        for cls in _subclasses(JamsostekError) | {JamsostekError}
        if not cls.__module__.startswith(_SKIPPED) and not cls.__module__.startswith("tests")
    }


def test_the_tree_is_drawn_as_the_classes_inherit() -> None:
    parents = _drawn_parents()
    assert parents["JamsostekError"] is None
    core = _core_errors()
    assert {cls.__name__ for cls in core} == set(parents)
    for cls in core - {JamsostekError}:
        # A second, built-in base (InvalidInput is also a ValueError) is not a node of the tree.
        (base,) = [b for b in cls.__bases__ if issubclass(b, JamsostekError)]
        assert parents[cls.__name__] == base.__name__, cls


def test_invalid_input_is_also_a_value_error() -> None:
    """As python-stdnum's and the standard library's: ``except ValueError`` catches bad input,
    and only bad input (no other group's error is a ValueError)."""
    with pytest.raises(ValueError, match=r"\[input\.invalid\]") as info:
        nik.validate("3201015508950000")
    assert isinstance(info.value, jamsostek_channels.InvalidInput)
    assert issubclass(jamsostek_channels.ReferenceConflict, ValueError)
    for cls in _core_errors():
        if not issubclass(cls, jamsostek_channels.InvalidInput):
            assert not issubclass(cls, ValueError), cls


def test_every_core_error_is_exported_at_the_top_level() -> None:
    for cls in _core_errors():
        assert cls.__name__ in jamsostek_channels.__all__, cls
        assert getattr(jamsostek_channels, cls.__name__) is cls


def test_every_error_below_the_root_belongs_to_a_group() -> None:
    for cls in _core_errors() - {JamsostekError}:
        assert cls.group in _GROUPS, cls
        assert f'"{cls.group}"' in (errors.__doc__ or ""), cls.group


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("NotDelivered", "nothing-sent"),
        ("InvalidInput", "local-refusal"),
        ("ReferenceConflict", "local-refusal"),
        ("RuleViolation", "local-refusal"),
        ("CapabilityRefused", "local-refusal"),
        ("HostDeclined", "host-answered"),
        ("AuthenticationFailed", "host-answered"),
        ("MalformedMessage", "host-answered"),
        ("OutcomeUnknown", "outcome-unknown"),
        ("JournalBusy", "storage"),
    ],
)
def test_one_except_catches_a_group(name: str, group: str) -> None:
    cls = getattr(jamsostek_channels, name)
    assert cls.group == group
    caught = {
        "nothing-sent": jamsostek_channels.NothingSent,
        "local-refusal": jamsostek_channels.LocalRefusal,
        "host-answered": jamsostek_channels.HostAnswered,
        "outcome-unknown": jamsostek_channels.OutcomeUnknown,
        "storage": jamsostek_channels.JournalError,
    }
    assert issubclass(cls, caught[group])
    others = {base for key, base in caught.items() if key != group}
    # A local refusal is also "nothing sent"; no error is in two groups otherwise.
    others.discard(jamsostek_channels.NothingSent)
    assert not any(issubclass(cls, other) for other in others)
    assert issubclass(jamsostek_channels.LocalRefusal, jamsostek_channels.NothingSent)


def test_channel_flavours_subclass_an_exported_group_member() -> None:
    """An adapter's own error (e.g. a declined answer with the channel's code) is caught by
    the class it extends, which is exported and not the bare root."""
    _import_all("jamsostek_channels.adapters")
    flavours = [
        cls
        for cls in _subclasses(JamsostekError)
        if cls.__module__.startswith("jamsostek_channels.adapters")
    ]
    assert flavours, "the adapters raise their own flavours"
    for cls in flavours:
        base = next(b for b in cls.__mro__[1:] if not b.__module__.startswith(_SKIPPED))
        assert base is not JamsostekError, cls
        assert getattr(jamsostek_channels, base.__name__) is base
        assert cls.group in _GROUPS - {"deployment"}, cls


def test_the_group_attribute_never_names_a_person() -> None:
    error = jamsostek_channels.InvalidInput([])
    assert error.group == "local-refusal"
    assert "group" not in error.as_dict()  # the JSON shape partners parse is unchanged
