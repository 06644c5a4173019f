"""A settings value its field's own validator refuses is a typed problem (issue 12), for every
channel's settings: :class:`SettingsInvalid` naming the field, code ``settings.value``, Indonesian
and English text, never a bare ``ValueError`` from attrs; the value itself is never repeated."""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest

from jamsostek_channels import registry
from jamsostek_channels.channel_settings import settings_from_mapping
from jamsostek_channels.errors import InvalidInput, SettingsInvalid

LINK = {"base_url": "tcp://127.0.0.1:9", "terminal_id": "BRI00001"}


def problems(error: SettingsInvalid) -> dict[str, str]:
    return {problem.field: problem.code for problem in error.problems}


@pytest.mark.parametrize("interval", [-1, 0, math.inf, math.nan])
def test_a_bad_echo_interval_is_a_settings_problem(interval: float) -> None:
    with pytest.raises(SettingsInvalid) as raised:
        registry.spec("brilink").parse_settings({**LINK, "echo_interval": interval})
    assert problems(raised.value) == {"echo_interval": "settings.value"}
    (problem,) = raised.value.problems
    assert problem.message_en == (
        "This value cannot be used (echo_interval must be a finite number of seconds > 0)."
    )
    assert problem.message_id.startswith("Nilai ini tidak bisa dipakai (")
    assert isinstance(raised.value, InvalidInput)


def test_every_bad_value_at_once_with_the_framing_ones_named() -> None:
    with pytest.raises(SettingsInvalid) as raised:
        registry.spec("indomaret").parse_settings(
            {**LINK, "echo_interval": -5, "length_width": 3, "length_byteorder": "middle",
             "unknown": 1}
        )  # fmt: skip
    assert problems(raised.value) == {
        "echo_interval": "settings.value",
        "length_width": "settings.value",
        "length_byteorder": "settings.value",
        "unknown": "field.unknown",
    }
    byteorder = next(p for p in raised.value.problems if p.field == "length_byteorder")
    assert "middle" not in byteorder.message_en  # the value given is never repeated
    assert "'big', 'little'" in byteorder.message_en


def test_good_values_still_parse() -> None:
    settings = registry.spec("brilink").parse_settings(
        {**LINK, "echo_interval": 0.5, "length_width": 4, "length_byteorder": "little"}
    )
    assert (settings.echo_interval, settings.length_width) == (0.5, 4)


def _secret_free(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    if not value.startswith("ok-"):
        raise ValueError(f"key {value!r} must start with ok- (NIK 3201015508950001)")


@attrs.frozen
class _Keyed:
    key: str = attrs.field(validator=_secret_free)
    low: int = 0
    high: int = 10

    def __attrs_post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low must not exceed high")


def test_any_channels_validator_and_class_check_are_typed_and_keep_values_out() -> None:
    with pytest.raises(SettingsInvalid) as raised:
        settings_from_mapping(_Keyed, {"key": "hunter2-secret"}, channel="t")
    (problem,) = raised.value.problems
    assert (problem.field, problem.code) == ("key", "settings.value")
    assert "hunter2" not in problem.message_en
    assert "3201015508950001" not in problem.message_en  # five or more digits are starred

    with pytest.raises(SettingsInvalid) as crossed:
        settings_from_mapping(_Keyed, {"key": "ok-1", "low": 5, "high": 1}, channel="t")
    (problem,) = crossed.value.problems
    assert (problem.field, problem.code) == ("settings", "settings.value")
    assert problem.message_en == "This value cannot be used (low must not exceed high)."
    values: dict[str, Any] = {"key": "ok-1", "low": 1, "high": 5}
    assert settings_from_mapping(_Keyed, values, channel="t") == _Keyed("ok-1", 1, 5)
