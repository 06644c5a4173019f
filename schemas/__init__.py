"""Language-neutral wire contracts: JSON Schemas (draft 2020-12) and, later, XSDs.

Each schema's ``$id`` is ``urn:jamsostek-channels:schema:NAME:VERSION``; shared definitions live
in ``common.schema.json`` and are referenced by that id, so any JSON Schema tool can load the
folder as one registry. From Python::

    from jamsostek_channels import schemas
    schemas.load("participant")          # the parsed schema
    schemas.all_schemas()                # every schema, by $id
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["all_schemas", "load", "names"]


def names() -> list[str]:
    """The JSON schema names shipped (``participant``, ``quote``, ...)."""
    folder = resources.files(__name__)
    suffix = ".schema.json"
    return sorted(p.name[: -len(suffix)] for p in folder.iterdir() if p.name.endswith(suffix))


def load(name: str) -> dict[str, Any]:
    """The parsed JSON schema ``NAME.schema.json``."""
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every shipped JSON schema keyed by its ``$id`` (to build a reference registry)."""
    return {schema["$id"]: schema for schema in map(load, names())}
