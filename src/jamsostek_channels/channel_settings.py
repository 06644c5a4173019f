"""A channel's settings as a typed attrs class, built from a plain mapping (a deployment's JSON,
the sandbox info file's entry) with every problem reported at once.

Each channel declares its settings class (a frozen attrs class of ``str``, ``int``, ``float`` and
``bool`` fields, each optionally ``| None``) in its :class:`~jamsostek_channels.registry.
ChannelSpec`; :func:`settings_from_mapping` turns a mapping into it. A key the class does not have,
a required key that is missing (absent, ``null`` or blank) and a value of the wrong JSON type are
each a :class:`~jamsostek_channels.errors.Problem` whose ``field`` is the key, all raised together
as one :class:`~jamsostek_channels.errors.SettingsInvalid`: never a bare ``KeyError``. So is a
value its field's own validator refuses (``echo_interval = -1``: ``settings.value``, the
validator's reason with the value itself left out), and a refusal of the whole class (its
``__attrs_post_init__``) under the field ``settings``: never a bare ``ValueError``.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from types import NoneType, UnionType
from typing import Any, Protocol, TypeVar

import attrs

from jamsostek_channels.errors import Problem, SettingsInvalid
from jamsostek_channels.messages import echo

__all__ = ["ChannelSettings", "settings_from_mapping"]

S = TypeVar("S")

#: The JSON name of each type a settings field may have (for ``field.type``'s message).
_TYPE_NAMES: Mapping[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "true/false",
}


class ChannelSettings(Protocol):
    """What the core reads of any channel's settings (the rest is the adapter's)."""

    @property
    def base_url(self) -> str:
        """Where the channel's host answers (with any deployment prefix)."""
        ...

    @property
    def agent_id(self) -> str | None:
        """The agent (or teller) id a client sends by default where the channel needs one."""
        ...


def _allowed(annotation: Any) -> tuple[tuple[type, ...], bool]:
    """The types a field's annotation allows, and whether it allows ``None``."""
    if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
        members = typing.get_args(annotation)
    else:
        members = (annotation,)
    types = tuple(m for m in members if m is not NoneType)
    unsupported = [m for m in types if m not in _TYPE_NAMES]
    if unsupported:
        raise TypeError(f"settings fields are str, int, float or bool, not {unsupported}")
    return types, NoneType in members


def _fits(value: object, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # JSON true is not the integer 1
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


#: The longest validator reason repeated in a problem's message.
_REASON_MAX = 120
_DIGITS = re.compile(r"[0-9]")


def _reason(error: Exception, value: object = None) -> str:
    """A validator's refusal fit to repeat: its first line without the value it was given
    (that may be a secret typed into the wrong key), digits starred where five or more remain
    (a NIK or phone), at most :data:`_REASON_MAX` characters."""
    first = error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
    text = (first.splitlines() or [""])[0]  # attrs' own validators add their arguments
    if value is not None:
        text = text.replace(repr(value), "...")
        if len(str(value)) >= 4:
            text = text.replace(str(value), "...")
    if len(_DIGITS.findall(text)) >= 5:
        text = _DIGITS.sub("*", text)
    return text[:_REASON_MAX] or type(error).__name__


def _refused(field: attrs.Attribute[Any], value: object) -> Problem | None:
    """The problem ``field``'s own validator finds with ``value``, if any. Validators are run
    without an instance (none exists yet): one that needs the others' values is left to the
    class's construction."""
    if field.validator is None:
        return None
    try:
        field.validator(None, field, value)
    except (ValueError, TypeError) as error:
        return Problem.of(field.name, "settings.value", {"reason": _reason(error, value)})
    except Exception:  # it looked at the instance: judged when the class is built
        return None
    return None


def settings_from_mapping(cls: type[S], values: Mapping[str, Any] | S, *, channel: str) -> S:
    """``values`` as channel ``channel``'s settings class ``cls`` (an instance is returned as it
    is). Raises :class:`~jamsostek_channels.errors.SettingsInvalid` with every problem."""
    if isinstance(values, cls):
        return values
    if not isinstance(values, Mapping):
        problem = Problem.of("settings", "field.type", {"expected": "object"})
        raise SettingsInvalid(channel, [problem])
    fields = attrs.fields_dict(cls)  # type: ignore[arg-type]  # cls is an attrs class
    hints = typing.get_type_hints(cls)
    problems = [Problem.of(echo(key), "field.unknown") for key in values if key not in fields]
    given: dict[str, Any] = {}
    for name, field in fields.items():
        types, optional = _allowed(hints[name])
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip() and not optional):
            if field.default is attrs.NOTHING:
                problems.append(Problem.of(name, "field.required"))
            continue
        if not _fits(value, types):
            expected = " or ".join(_TYPE_NAMES[t] for t in types)
            problems.append(Problem.of(name, "field.type", {"expected": expected}))
            continue
        if isinstance(value, int) and not isinstance(value, bool) and int not in types:
            value = float(value)  # JSON writes 5.0 as 5
        refused = _refused(field, value)
        if refused is not None:
            problems.append(refused)
            continue
        given[name] = value
    if problems:
        raise SettingsInvalid(channel, problems)
    try:
        return cls(**given)
    except (ValueError, TypeError) as error:  # the class's own check of its values together
        problem = Problem.of("settings", "settings.value", {"reason": _reason(error)})
        raise SettingsInvalid(channel, [problem]) from None
