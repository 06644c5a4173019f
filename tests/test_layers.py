"""The import-linter contracts (run by ``make lint``) name every module of the package: a module
left out of them would be held by no layer, and a new core module may not import adapters."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "jamsostek_channels"
OUTSIDE_THE_CORE = {"adapters", "testing", "cli"}


def _contract(contract_id: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    [found] = [c for c in contracts if c["id"] == contract_id]
    return dict(found)


def _children() -> set[str]:
    """The package's modules and subpackages (its ``__init__`` and ``__main__`` are no layer)."""
    names = set()
    for path in PACKAGE.iterdir():
        if path.suffix == ".py" and path.stem not in ("__init__", "__main__"):
            names.add(path.stem)
        elif path.is_dir() and (path / "__init__.py").exists():
            names.add(path.name)
    return names


def test_every_module_is_in_a_layer() -> None:
    layers = _contract("layers")["layers"]
    named = [name for layer in layers for name in re.split(r"\s*[|:]\s*", layer)]
    assert len(named) == len(set(named)), "a module is in two layers"
    assert set(named) == _children()


def test_every_core_module_is_forbidden_the_adapters() -> None:
    contract = _contract("core-names-no-adapter")
    assert contract["forbidden_modules"] == ["jamsostek_channels.adapters"]
    core = {f"jamsostek_channels.{name}" for name in _children() - OUTSIDE_THE_CORE}
    assert set(contract["source_modules"]) == core
