"""Channel adapters, one package per wire family (``snap/``, ``kantorpos/``): its codec, its
profiles, its adapter and its fake gateway; one small module per channel of a family
(``linkaja.py``, ``bni_agen46.py``).

Adapters are imported on use, never by ``import jamsostek_channels``, so the core stays light.
Each one only translates: the rules run in the core before anything is sent. Every channel is
registered through the ``jamsostek_channels.channels`` entry-point group
(:mod:`jamsostek_channels.registry`); build one with :func:`jamsostek_channels.connect` or
``registry.spec(name).open_adapter(settings, journal=...)``.
"""

from __future__ import annotations

__all__: list[str] = []
