"""The library's version, in a module of its own: the transport's User-Agent reads it without
importing the package's ``__init__`` (whose public names reach every layer)."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
