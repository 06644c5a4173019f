"""What the channel pages' tests share: loading a page's capture script (``docs/channels/``,
run as a script there, so its folder goes on the path for its shared ``doc_regions``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["CHANNEL_DOCS", "load_script"]

CHANNEL_DOCS = Path(__file__).resolve().parent.parent / "docs" / "channels"


def load_script(name: str) -> ModuleType:
    """``docs/channels/NAME.py`` as a module (one per process)."""
    if str(CHANNEL_DOCS) not in sys.path:
        sys.path.insert(0, str(CHANNEL_DOCS))
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(name, CHANNEL_DOCS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
