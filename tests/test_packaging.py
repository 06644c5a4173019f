"""What a partner meets installing the wheel (issue 13): an SPDX licence with its file, the
classifiers, a ``testing`` extra that brings what the fixtures need, and a fixture error that
names that extra when it is missing."""

from __future__ import annotations

import sys
from importlib import metadata

import pytest

from jamsostek_channels.testing.sandbox import Sandbox


def test_the_licence_is_an_spdx_expression_with_its_file() -> None:
    meta = metadata.metadata("jamsostek-channels")
    assert meta["License-Expression"] == "MIT"
    assert "LICENSE" in (meta.get_all("License-File") or [])
    assert not [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]


def test_the_classifiers_say_what_it_is() -> None:
    classifiers = set(metadata.metadata("jamsostek-channels").get_all("Classifier") or [])
    assert {
        "Framework :: Pytest",
        "Typing :: Typed",
        "Programming Language :: Python :: 3.11",
        "Development Status :: 3 - Alpha",
    } <= classifiers
    assert metadata.metadata("jamsostek-channels")["Requires-Python"] == ">=3.11"


def test_the_testing_extra_brings_what_the_fixtures_need() -> None:
    requires = metadata.requires("jamsostek-channels") or []
    testing = [r for r in requires if 'extra == "testing"' in r]
    assert [r.split(";")[0].strip() for r in testing] == ["responses>=0.25"]


def test_a_sandbox_without_responses_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "responses", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"jamsostek-channels\[testing\]"):
        Sandbox(seed=0).install()
