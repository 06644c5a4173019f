"""Strict JSON in: bytes to a JSON value, and one object read field by field.

Every SNAP body comes from the network, so nothing a parser raises may escape: bad UTF-8, bad
JSON, ``NaN``, duplicate keys, numbers too long to convert, nesting too deep for the parser, or a
body over the size limit all become :class:`SnapFieldError` with case ``00``. A field that is
missing, ``null`` or ``""`` where it is mandatory is case ``02``; one of the wrong type, length
or format is case ``01``. Each error names the field's path, never its value.

Floats are never made: JSON fractions parse as :class:`~decimal.Decimal` (and are then refused
wherever an integer is expected), so no amount can pass through binary floating point.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import NoReturn

from jamsostek_channels.adapters.snap.errors import SnapFieldError

__all__ = ["MAX_BODY_BYTES", "FieldInvalid", "Reader", "check_text", "load_json"]

#: The largest body any decoder reads; a larger one is refused before it is parsed.
MAX_BODY_BYTES = 64 * 1024

#: Characters no SNAP text field carries: C0 controls, DEL, and lone surrogates (which JSON's
#: ``\ud800`` escapes can smuggle in, and which cannot be encoded back to UTF-8).
_BAD_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class FieldInvalid(ValueError):
    """A value that breaks its field's format; ``wire`` is the field's name on the wire.

    Raised by the wire types' validators: a :class:`ValueError` for code that builds one wrongly,
    and turned into :class:`SnapFieldError` (case ``01``, full path) by a decoder.
    """

    def __init__(self, wire: str, problem: str) -> None:
        self.wire = wire
        super().__init__(f"{wire}: {problem}")


class _Duplicate(ValueError):
    pass


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # Two parsers that keep different copies of a duplicated key read different messages from
    # the same signed bytes; refusing duplicates removes that ambiguity.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Duplicate
    return result


# One decoder for every body: ``json.loads`` with these options would build (and throw away) a
# new decoder and scanner on each call.
_DECODER = json.JSONDecoder(
    parse_float=Decimal, parse_constant=_no_constants, object_pairs_hook=_unique_keys
)
_decode = _DECODER.decode


def load_json(body: bytes, *, limit: int | None = MAX_BODY_BYTES) -> object:
    """Parse ``body`` as one strict JSON value, or raise :class:`SnapFieldError` (case 00)."""
    if not isinstance(body, bytes | bytearray):
        raise SnapFieldError("00", reason="the body is not bytes")
    if limit is not None and len(body) > limit:
        raise SnapFieldError("00", code="message.too_large", params={"max": limit})
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise SnapFieldError("00", reason="the body is not UTF-8") from None
    try:
        return _decode(text)
    except RecursionError:
        raise SnapFieldError("00", reason="the body is nested too deeply") from None
    except _Duplicate:
        raise SnapFieldError("00", reason="the body repeats a key") from None
    except ValueError:  # JSONDecodeError, and int() refusing thousands of digits
        raise SnapFieldError("00", reason="the body is not JSON") from None


def check_text(
    value: object, wire: str, *, max_length: int, pattern: re.Pattern[str] | None = None
) -> str:
    """``value`` if it is a non-empty string that fits; otherwise :class:`FieldInvalid`."""
    if not isinstance(value, str):
        raise FieldInvalid(wire, "must be a string")
    if not value:
        raise FieldInvalid(wire, "must not be empty")
    if len(value) > max_length:
        raise FieldInvalid(wire, f"at most {max_length} characters")
    # Printable ASCII (nearly every field) cannot hold a control character or a surrogate:
    # two C-level checks instead of a regular-expression scan.
    if not (value.isascii() and value.isprintable()) and _BAD_CHARACTERS.search(value):
        raise FieldInvalid(wire, "control characters or lone surrogates")
    if pattern is not None and not pattern.fullmatch(value):
        raise FieldInvalid(wire, "wrong format")
    return value


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Reader:
    """One JSON object read field by field; every failure names the field by its full path."""

    __slots__ = ("_data", "_path")

    def __init__(self, data: dict[str, object], path: str = "") -> None:
        self._data = data
        self._path = path

    @classmethod
    def load(cls, body: bytes) -> Reader:
        """The body as a JSON object (anything else is case 00)."""
        data = load_json(body)
        if not isinstance(data, dict):
            raise SnapFieldError("00", reason="the body is not a JSON object")
        return cls(data)

    # -- paths and errors --------------------------------------------------------------------

    def where(self, key: str) -> str:
        """The full path of ``key`` in this object."""
        return f"{self._path}.{key}" if self._path else key

    def invalid(self, key: str) -> NoReturn:
        """Case 01 for ``key``."""
        raise SnapFieldError("01", self.where(key))

    def missing(self, key: str) -> NoReturn:
        """Case 02 for ``key``."""
        raise SnapFieldError("02", self.where(key))

    def reraise(self, error: FieldInvalid) -> NoReturn:
        """A wire type's validator refused a field of this object: case 01 with its path."""
        raise SnapFieldError("01", self.where(error.wire)) from None

    # -- raw values --------------------------------------------------------------------------

    def present(self, key: str) -> bool:
        """Whether ``key`` holds a value (``null`` and ``""`` count as absent)."""
        value = self._data.get(key)
        return value is not None and value != ""

    def get(self, key: str) -> object:
        """The raw value of ``key`` (``None`` when absent), unchecked: for a caller's fast path
        that then checks everything the typed readers below would."""
        return self._data.get(key)

    def value(self, key: str) -> object:
        """The mandatory value of ``key``, of any JSON type."""
        if not self.present(key):
            self.missing(key)
        return self._data[key]

    # -- typed values ------------------------------------------------------------------------

    def text(self, key: str, *, max_length: int, pattern: re.Pattern[str] | None = None) -> str:
        """A mandatory string field."""
        # check_text() inlined (same checks, same order): this runs for every field received.
        value = self._data.get(key)
        if value is None or value == "":
            self.missing(key)
        if (
            value.__class__ is not str
            or len(value) > max_length
            or (not (value.isascii() and value.isprintable()) and _BAD_CHARACTERS.search(value))
            or (pattern is not None and not pattern.fullmatch(value))
        ):
            return self._checked(value, key, max_length, pattern)
        return value

    def opt_text(
        self, key: str, *, max_length: int, pattern: re.Pattern[str] | None = None
    ) -> str | None:
        """An optional string field (absent, ``null`` or ``""`` is ``None``)."""
        value = self._data.get(key)
        if value is None or value == "":
            return None
        if (
            value.__class__ is not str
            or len(value) > max_length
            or (not (value.isascii() and value.isprintable()) and _BAD_CHARACTERS.search(value))
            or (pattern is not None and not pattern.fullmatch(value))
        ):
            return self._checked(value, key, max_length, pattern)
        return value

    def _checked(
        self, value: object, key: str, max_length: int, pattern: re.Pattern[str] | None
    ) -> str:
        # The slow path of text()/opt_text(): whatever the fast checks doubted, decided by
        # check_text() itself (a str subclass, or a refusal as case 01 with the path).
        try:
            return check_text(value, key, max_length=max_length, pattern=pattern)
        except FieldInvalid as error:
            self.reraise(error)

    def integer(self, key: str, *, low: int, high: int) -> int:
        """A mandatory JSON integer in ``low..high`` (not a boolean, not a fraction)."""
        value = self.value(key)
        if not _is_integer(value):
            self.invalid(key)
        assert isinstance(value, int)
        if not low <= value <= high:
            self.invalid(key)
        return value

    def opt_integer(self, key: str, *, low: int, high: int) -> int | None:
        if not self.present(key):
            return None
        return self.integer(key, low=low, high=high)

    def child(self, key: str) -> Reader:
        """A mandatory nested object."""
        value = self.value(key)
        if not isinstance(value, dict):
            self.invalid(key)
        return Reader(value, self.where(key))

    def opt_child(self, key: str) -> Reader | None:
        if not self.present(key):
            return None
        return self.child(key)

    def items(self, key: str, *, max_items: int) -> list[tuple[str, object]]:
        """An optional array (absent is empty): each element with its path."""
        if not self.present(key):
            return []
        value = self._data[key]
        if not isinstance(value, list) or len(value) > max_items:
            self.invalid(key)
        base = self.where(key)
        return [(f"{base}[{index}]", element) for index, element in enumerate(value)]

    def children(self, key: str, *, max_items: int) -> Iterator[Reader]:
        """An optional array of objects (absent is empty)."""
        # items() inlined: the paths are made one by one, as each element is reached.
        value = self._data.get(key)
        if value is None or value == "":
            return
        if not isinstance(value, list) or len(value) > max_items:
            self.invalid(key)
        base = self.where(key)
        for index, element in enumerate(value):
            path = f"{base}[{index}]"
            if not isinstance(element, dict):
                raise SnapFieldError("01", path)
            yield Reader(element, path)
